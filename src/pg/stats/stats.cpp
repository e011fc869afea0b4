// See stats.hpp. Memory is fixed: MAX_FUNCTIONS counter rows and a
// HOT_SLOTS-entry "space saving" table of refused resource keys (the key
// with the fewest refusals gives its slot to a new one, which inherits that
// count + 1: the top keys are exact as long as they stay above the rest).
// With shared_preload_libraries the state lives in shared memory (counters
// are atomics, registration and the hot table take one LWLock); otherwise
// in the backend's own memory, and slotguard.stats says scope 'backend'.
#include "stats/stats.hpp"

#include "access/access.hpp"
#include "engine/glue.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_stats_rows);
PG_FUNCTION_INFO_V1(sg_stats_reset);
PG_FUNCTION_INFO_V1(sg_hot_resources);
}

namespace sgpg {
namespace {

enum Counter { C_CALLS, C_SUCCEEDED, C_REFUSED, C_WAITED, C_WAIT_US, C_REPLAYS, C_HOLDS_EXPIRED, C_FENCED, N_COUNTERS };

const int MAX_FUNCTIONS = 64;
const int HOT_SLOTS = 256;
const int HOT_KEY_BYTES = 200;

struct FunctionRow {
    char name[NAMEDATALEN];
    pg_atomic_uint64 c[N_COUNTERS];
};

struct HotSlot {
    uint64 count;
    int len;
    char key[HOT_KEY_BYTES];
};

struct State {
    LWLock* lock;  // NULL: backend-local, nothing to lock
    bool shared;
    int n_functions;  // rows in use (only grows)
    TimestampTz since;
    FunctionRow functions[MAX_FUNCTIONS];
    int n_hot;
    HotSlot hot[HOT_SLOTS];
};

State* state = NULL;
shmem_request_hook_type prev_request = NULL;
shmem_startup_hook_type prev_startup = NULL;

// The API's functions, so each has its row from the start.
const char* const known_functions[] = {
    "book_slot",       "try_book_slot",    "confirm_booking", "cancel_booking",   "reschedule_booking",
    "free_slots",      "availability",     "upsert_resource", "assign_workers",   "unassign_worker",
    "worker_schedule", "add_order",        "set_order_ready", "claim_order",      "try_claim_order",
    "claim_next_order", "release_order",   "complete_order",  "shard_info",       "changes",
};

void init_state(State* s, bool shared) {
    memset(s, 0, sizeof(State));
    s->shared = shared;
    s->since = GetCurrentTimestamp();
    for (int i = 0; i < MAX_FUNCTIONS; ++i)
        for (int c = 0; c < N_COUNTERS; ++c) pg_atomic_init_u64(&s->functions[i].c[c], 0);
    for (const char* f : known_functions) {
        strlcpy(s->functions[s->n_functions].name, f, NAMEDATALEN);
        ++s->n_functions;
    }
}

void request_shmem(void) {
    if (prev_request) prev_request();
    RequestAddinShmemSpace(MAXALIGN(sizeof(State)));
    RequestNamedLWLockTranche("slotguard_stats", 1);
}

void startup_shmem(void) {
    if (prev_startup) prev_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    State* s = (State*)ShmemInitStruct("slotguard_stats", sizeof(State), &found);
    if (!found) {
        init_state(s, true);
        s->lock = &(GetNamedLWLockTranche("slotguard_stats"))->lock;
    }
    LWLockRelease(AddinShmemInitLock);
    state = s;
}

State* get_state(void) {
    if (state == NULL) {
        State* s = (State*)MemoryContextAllocHuge(TopMemoryContext, sizeof(State));
        init_state(s, false);
        state = s;
    }
    return state;
}

void lock(State* s, LWLockMode mode) {
    if (s->lock) LWLockAcquire(s->lock, mode);
}
void unlock(State* s) {
    if (s->lock) LWLockRelease(s->lock);
}

// Function name (a literal) -> row, cached by the literal's address.
struct CachedName {
    const char* name;
    int row;
};
CachedName name_cache[MAX_FUNCTIONS];
int n_cached = 0;

int row_of(const char* function) {
    for (int i = 0; i < n_cached; ++i)
        if (name_cache[i].name == function) return name_cache[i].row;
    State* s = get_state();
    int row = -1;
    lock(s, LW_EXCLUSIVE);
    for (int i = 0; i < s->n_functions; ++i)
        if (strcmp(s->functions[i].name, function) == 0) row = i;
    if (row < 0 && s->n_functions < MAX_FUNCTIONS) {
        row = s->n_functions;
        strlcpy(s->functions[row].name, function, NAMEDATALEN);
        pg_write_barrier();
        s->n_functions = row + 1;
    }
    unlock(s);
    if (n_cached < MAX_FUNCTIONS) name_cache[n_cached++] = CachedName{function, row};
    return row;
}

void add(int row, Counter c, uint64 n) {
    if (row < 0 || n == 0) return;
    pg_atomic_fetch_add_u64(&state->functions[row].c[c], n);
}

// --- the calls in progress in this backend, innermost last -----------------

struct Frame {
    int row;
    bool refused;
    bool waited;
    uint64 waits0, wait_us0;
    SubTransactionId subid;
    ErrorContextCallback cb;
};
const int MAX_FRAMES = 32;
Frame frames[MAX_FRAMES];
int depth = 0;  // may exceed MAX_FRAMES: the deeper calls are not counted

Frame* current(void) { return depth > 0 && depth <= MAX_FRAMES ? &frames[depth - 1] : NULL; }

// Waits of the call so far (also on its error path: a call that waited and
// was then refused).
void take_waits(Frame* f) {
    if (admission_waits == f->waits0) return;
    if (!f->waited) add(f->row, C_WAITED, 1);
    f->waited = true;
    add(f->row, C_WAIT_US, admission_wait_us - f->wait_us0);
    f->waits0 = admission_waits;
    f->wait_us0 = admission_wait_us;
}

void mark_refused(Frame* f) {
    if (f->refused) return;
    f->refused = true;
    add(f->row, C_REFUSED, 1);
}

// The error path: called for every report while the call runs; counts a
// refusal (23P01, 55P03) of the innermost call once. Touches nothing that
// can fail.
void on_report(void* arg) {
    Frame* f = (Frame*)arg;
    if (f != current()) return;
    take_waits(f);
    int code = geterrcode();
    if (code == ERRCODE_EXCLUSION_VIOLATION || code == ERRCODE_LOCK_NOT_AVAILABLE) mark_refused(f);
}

// A call that ended by an error leaves its frame: dropped with its
// (sub)transaction.
void on_xact(XactEvent event, void*) {
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) depth = 0;
}
void on_subxact(SubXactEvent event, SubTransactionId my_subid, SubTransactionId, void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) return;
    while (depth > 0 && (depth > MAX_FRAMES || frames[depth - 1].subid >= my_subid)) --depth;
}

void hot_add(text* key) {
    State* s = state;
    const char* p = VARDATA_ANY(key);
    int len = VARSIZE_ANY_EXHDR(key);
    if (len > HOT_KEY_BYTES) len = pg_mbcliplen(p, len, HOT_KEY_BYTES);
    lock(s, LW_EXCLUSIVE);
    int min = -1;
    for (int i = 0; i < s->n_hot; ++i) {
        HotSlot* h = &s->hot[i];
        if (h->len == len && memcmp(h->key, p, len) == 0) {
            ++h->count;
            unlock(s);
            return;
        }
        if (min < 0 || h->count < s->hot[min].count) min = i;
    }
    HotSlot* h;
    uint64 base = 0;
    if (s->n_hot < HOT_SLOTS)
        h = &s->hot[s->n_hot++];
    else {
        h = &s->hot[min];
        base = h->count;
    }
    h->count = base + 1;
    h->len = len;
    memcpy(h->key, p, len);
    unlock(s);
}

}  // namespace

void stats_init(void) {
    if (process_shared_preload_libraries_in_progress) {
        prev_request = shmem_request_hook;
        shmem_request_hook = request_shmem;
        prev_startup = shmem_startup_hook;
        shmem_startup_hook = startup_shmem;
    }
    RegisterXactCallback(on_xact, NULL);
    RegisterSubXactCallback(on_subxact, NULL);
}

void stats_enter(const char* function) {
    get_state();
    ++depth;
    if (depth > MAX_FRAMES) return;
    Frame* f = &frames[depth - 1];
    f->row = row_of(function);
    f->refused = false;
    f->waited = false;
    f->waits0 = admission_waits;
    f->wait_us0 = admission_wait_us;
    f->subid = GetCurrentSubTransactionId();
    f->cb.callback = on_report;
    f->cb.arg = f;
    f->cb.previous = error_context_stack;
    error_context_stack = &f->cb;
    add(f->row, C_CALLS, 1);
}

void stats_leave(void) {
    if (depth == 0) return;
    if (depth > MAX_FRAMES) {
        --depth;
        return;
    }
    // The returning call is the frame on top of the error context stack.
    // Frames above it are calls whose error someone caught without a
    // subtransaction (PG_TRY): their callbacks are already off the stack.
    Frame* f = NULL;
    for (int k = depth - 1; k >= 0 && f == NULL; --k)
        if (error_context_stack == &frames[k].cb) {
            f = &frames[k];
            depth = k;
        }
    if (f == NULL) {
        --depth;
        return;
    }
    error_context_stack = f->cb.previous;
    take_waits(f);
    if (!f->refused) add(f->row, C_SUCCEEDED, 1);
}

void stats_refused(text* resource_key) {
    Frame* f = current();
    if (f == NULL || f->refused) return;
    mark_refused(f);
    if (resource_key != NULL) hot_add(resource_key);
}

void stats_replay(void) {
    if (Frame* f = current()) add(f->row, C_REPLAYS, 1);
}

void stats_holds_expired(int64 n) {
    if (Frame* f = current()) add(f->row, C_HOLDS_EXPIRED, n > 0 ? (uint64)n : 0);
}

void stats_fenced(void) {
    if (Frame* f = current()) add(f->row, C_FENCED, 1);
}

}  // namespace sgpg

using namespace sgpg;

namespace {

void refuse_confined(const CallerScope* s, const char* function) {
    if (s->conf.confined)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("a confined role may not call slotguard.%s()", function),
                        errdetail("The statistics count every tenant's calls.")));
}

}  // namespace

extern "C" Datum sg_stats_rows(PG_FUNCTION_ARGS) {
    CallerScope scope = enter_api(fcinfo, "stats_rows");
    refuse_confined(&scope, "stats_rows");
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    State* s = get_state();
    // This call itself is counted once it returns.
    lock(s, LW_SHARED);
    int n = s->n_functions;
    TimestampTz since = s->since;
    unlock(s);
    for (int i = 0; i < n; ++i) {
        FunctionRow* r = &s->functions[i];
        Datum v[11];
        bool nulls[11] = {false};
        uint64 c[N_COUNTERS];
        for (int k = 0; k < N_COUNTERS; ++k) c[k] = pg_atomic_read_u64(&r->c[k]);
        v[0] = CStringGetTextDatum(r->name);
        v[1] = Int64GetDatum((int64)c[C_CALLS]);
        v[2] = Int64GetDatum((int64)c[C_SUCCEEDED]);
        v[3] = Int64GetDatum((int64)c[C_REFUSED]);
        v[4] = Int64GetDatum((int64)c[C_WAITED]);
        v[5] = Float8GetDatum((double)c[C_WAIT_US] / 1000.0);
        v[6] = Int64GetDatum((int64)c[C_REPLAYS]);
        v[7] = Int64GetDatum((int64)c[C_HOLDS_EXPIRED]);
        v[8] = Int64GetDatum((int64)c[C_FENCED]);
        v[9] = TimestampTzGetDatum(since);
        v[10] = CStringGetTextDatum(s->shared ? "cluster" : "backend");
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
    }
    leave_api(&scope);
    return (Datum)0;
}

extern "C" Datum sg_stats_reset(PG_FUNCTION_ARGS) {
    CallerScope scope = enter_api(fcinfo, "stats_reset");
    refuse_confined(&scope, "stats_reset");
    State* s = get_state();
    lock(s, LW_EXCLUSIVE);
    for (int i = 0; i < s->n_functions; ++i)
        for (int k = 0; k < N_COUNTERS; ++k) pg_atomic_write_u64(&s->functions[i].c[k], 0);
    s->n_hot = 0;
    s->since = GetCurrentTimestamp();
    unlock(s);
    leave_api(&scope);
    PG_RETURN_VOID();
}

extern "C" Datum sg_hot_resources(PG_FUNCTION_ARGS) {
    require_arg(fcinfo, 0, "limit");
    int32 limit = PG_GETARG_INT32(0);
    if (limit < 0) ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("limit must not be negative")));
    CallerScope scope = enter_api(fcinfo, "hot_resources");
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    State* s = get_state();
    // A copy, sorted outside the lock.
    HotSlot* copy = (HotSlot*)palloc(sizeof(HotSlot) * HOT_SLOTS);
    lock(s, LW_SHARED);
    int n = s->n_hot;
    memcpy(copy, s->hot, sizeof(HotSlot) * n);
    unlock(s);
    qsort(copy, n, sizeof(HotSlot), [](const void* a, const void* b) -> int {
        const HotSlot* x = (const HotSlot*)a;
        const HotSlot* y = (const HotSlot*)b;
        if (x->count != y->count) return x->count > y->count ? -1 : 1;
        int m = Min(x->len, y->len);
        int c = memcmp(x->key, y->key, m);
        return c != 0 ? c : x->len - y->len;
    });
    int shown = 0;
    for (int i = 0; i < n && shown < limit; ++i) {
        text* key = cstring_to_text_with_len(copy[i].key, copy[i].len);
        if (!tenant_allowed(&scope.conf, key)) continue;
        Datum v[2] = {PointerGetDatum(key), Int64GetDatum((int64)copy[i].count)};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
        ++shown;
    }
    leave_api(&scope);
    return (Datum)0;
}
