// See queue_hint.hpp. One spinlock over a small fixed table: a claim reads
// its hint once and publishes at most once, a few dozen instructions each.
#include "orders/queue_hint.hpp"

#include "engine/glue.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "commands/trigger.h"
#include "executor/spi.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_orders_queue_changed);
}

namespace sgpg {
namespace {

const int HINT_SLOTS = 64;
const int HINT_KIND_BYTES = 64;  // longer kinds get no hint

struct Slot {
    bool used;
    Oid db;
    Oid index;
    int16 kind_len;  // -1: the whole queue (no kind)
    char kind[HINT_KIND_BYTES];
    QueuePos pos;
};

struct State {
    slock_t mutex;
    uint64 gen;       // bumped by every write that may add entries
    int next_victim;  // round robin when every slot is taken
    Slot slots[HINT_SLOTS];
};

State* state = NULL;
shmem_request_hook_type prev_request = NULL;
shmem_startup_hook_type prev_startup = NULL;

void request_shmem(void) {
    if (prev_request) prev_request();
    RequestAddinShmemSpace(MAXALIGN(sizeof(State)));
}

void startup_shmem(void) {
    if (prev_startup) prev_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    State* s = (State*)ShmemInitStruct("slotguard_queue_hints", sizeof(State), &found);
    if (!found) {
        memset(s, 0, sizeof(State));
        SpinLockInit(&s->mutex);
    }
    LWLockRelease(AddinShmemInitLock);
    state = s;
}

// The kind as the slot keeps it; false when too long for a hint.
bool kind_bytes(text* kind, const char** p, int16* len) {
    if (kind == NULL) {
        *p = NULL;
        *len = -1;
        return true;
    }
    size_t n = VARSIZE_ANY_EXHDR(kind);
    if (n > (size_t)HINT_KIND_BYTES) return false;
    *p = VARDATA_ANY(kind);
    *len = (int16)n;
    return true;
}

bool slot_is(const Slot* s, Oid index, const char* kind, int16 len) {
    return s->used && s->db == MyDatabaseId && s->index == index && s->kind_len == len &&
           (len <= 0 || memcmp(s->kind, kind, len) == 0);
}

}  // namespace

void queue_hint_init(void) {
    if (!process_shared_preload_libraries_in_progress) return;
    prev_request = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_startup = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

bool queue_hint_read(Oid index, text* kind, QueuePos* pos, uint64* gen, bool* enabled) {
    const char* k;
    int16 len;
    *enabled = state != NULL && kind_bytes(kind, &k, &len);
    if (!*enabled) return false;
    bool found = false;
    SpinLockAcquire(&state->mutex);
    *gen = state->gen;
    for (int i = 0; i < HINT_SLOTS; ++i)
        if (slot_is(&state->slots[i], index, k, len)) {
            *pos = state->slots[i].pos;
            found = true;
            break;
        }
    SpinLockRelease(&state->mutex);
    return found;
}

void queue_hint_publish(Oid index, text* kind, uint64 gen, const QueuePos& pos) {
    const char* k;
    int16 len;
    if (state == NULL || !kind_bytes(kind, &k, &len)) return;
    SpinLockAcquire(&state->mutex);
    if (state->gen == gen) {
        Slot* s = NULL;
        Slot* free_slot = NULL;
        for (int i = 0; i < HINT_SLOTS && s == NULL; ++i) {
            if (slot_is(&state->slots[i], index, k, len)) s = &state->slots[i];
            else if (!state->slots[i].used && free_slot == NULL) free_slot = &state->slots[i];
        }
        if (s == NULL) {
            s = free_slot;
            if (s == NULL) {
                s = &state->slots[state->next_victim];
                state->next_victim = (state->next_victim + 1) % HINT_SLOTS;
            }
            s->used = true;
            s->db = MyDatabaseId;
            s->index = index;
            s->kind_len = len;
            if (len > 0) memcpy(s->kind, k, len);
            s->pos = pos;
        } else {
            // Two walks of one generation: either position is right.
            s->pos = pos;
        }
    }
    SpinLockRelease(&state->mutex);
}

void queue_hint_forget(void) {
    if (state == NULL) return;
    SpinLockAcquire(&state->mutex);
    ++state->gen;
    for (int i = 0; i < HINT_SLOTS; ++i)
        if (state->slots[i].used && state->slots[i].db == MyDatabaseId) state->slots[i].used = false;
    SpinLockRelease(&state->mutex);
}

}  // namespace sgpg

// AFTER INSERT OR UPDATE ... FOR EACH ROW on slotguard.orders (ENABLE
// ALWAYS): a row written as 'ready' has a new entry in the queue indexes,
// maybe before a hint: drop the database's hints. A row trigger, not a
// statement one: an INSERT ... RETURNING run with a row limit (SPI, as the
// API's own statements are) never reaches the end of its ModifyTable node,
// and its AFTER STATEMENT triggers never fire.
extern "C" Datum sg_orders_queue_changed(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("orders_queue_changed: not called by trigger manager")));
    TriggerData* td = (TriggerData*)fcinfo->context;
    if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
        !(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("orders_queue_changed: must be fired AFTER INSERT OR UPDATE FOR EACH ROW")));
    HeapTuple row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    int att = SPI_fnumber(desc, "status");
    bool isnull = true;
    Datum status = att > 0 ? heap_getattr(row, att, desc, &isnull) : (Datum)0;
    // Anything but a row known not to be ready: forget.
    if (att <= 0 || isnull || TupleDescAttr(desc, att - 1)->atttypid != TEXTOID ||
        sgpg::text_is(DatumGetTextPP(status), "ready"))
        sgpg::queue_hint_forget();
    return PointerGetDatum(NULL);
}
