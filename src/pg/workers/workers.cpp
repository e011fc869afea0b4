// Worker assignments: a worker may never be active on two active bookings
// whose `during` ranges overlap (contract §3). The same admission protocol
// as bookings, with the worker as key and capacity 1.
#include "workers/workers.hpp"
#include "bookings/plans.hpp"

namespace sgpg {
namespace {

// The booking table, opened once per worker scan, to ask whether an
// assignment's booking still holds its worker.
struct BookingLookup {
    Relation heap;
    Relation pkey;
    AttrNumber c_status, c_expires;
    TupleTableSlot* slot;
};

void open_lookup(BookingLookup* lk) {
    lk->heap = table_open(slotguard_relation("booking"), AccessShareLock);
    lk->pkey = index_open(slotguard_relation("booking_pkey"), AccessShareLock);
    TupleDesc desc = RelationGetDescr(lk->heap);
    lk->c_status = column_of(desc, "status");
    lk->c_expires = column_of(desc, "hold_expires_at");
    lk->slot = table_slot_create(lk->heap, NULL);
}

void close_lookup(BookingLookup* lk) {
    ExecDropSingleTupleTableSlot(lk->slot);
    index_close(lk->pkey, AccessShareLock);
    table_close(lk->heap, AccessShareLock);
}

// Does this version of a booking hold its workers? Not when it is
// cancelled or an expired hold (lapsed, or marked 'expired' by expire_holds).
bool version_holds(BookingLookup* lk) {
    bool isnull;
    char* status = TextDatumGetCString(slot_getattr(lk->slot, lk->c_status, &isnull));
    Datum expires = slot_getattr(lk->slot, lk->c_expires, &isnull);
    if (strcmp(status, "cancelled") == 0 || strcmp(status, "expired") == 0) return false;
    return !(strcmp(status, "held") == 0 && !isnull &&
             DatumGetTimestampTz(expires) <= GetCurrentTransactionStartTimestamp());
}

// Does an assignment on booking `id` (still) hold its worker? Read with a
// dirty snapshot, every version of the row it returns: when a transaction
// in progress is changing the booking (a confirm reviving an expired hold,
// a cancel, a reschedule), the answer is not decided on either version
// alone. Then *pending is that transaction (and *token its speculative
// token, if the row is an undecided speculative insertion), and the
// assignment holds if any version does: the caller counts it as pending,
// so the admission waits for that outcome or backs out by the usual rules
// (as check_exclusion_or_unique_constraint waits on a row in flux).
bool booking_holds_workers(BookingLookup* lk, int64 id, TransactionId* pending, uint32* token) {
    ScanKeyData k;
    ScanKeyInit(&k, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
    SnapshotData dirty;
    InitDirtySnapshot(dirty);
    IndexScanDesc scan = index_beginscan(lk->heap, lk->pkey, &dirty, 1, 0);
    index_rescan(scan, &k, 1, NULL, 0);
    *pending = InvalidTransactionId;
    *token = 0;
    bool found = false, holds = false;
    // A non-MVCC scan returns each version of a HOT chain in turn.
    while (index_getnext_slot(scan, ForwardScanDirection, lk->slot)) {
        found = true;
        TransactionId changer = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;
        if (TransactionIdIsValid(changer) && !TransactionIdIsValid(*pending)) {
            *pending = changer;
            *token = TransactionIdIsValid(dirty.xmin) ? dirty.speculativeToken : 0;
        }
        if (version_holds(lk)) holds = true;
    }
    index_endscan(scan);
    return holds || !found;
}

struct WorkerVisit {
    AttrNumber c_booking, c_during;
    BookingLookup lookup;
    Occupants* out;
};

void visit_assignment(void* arg, TupleTableSlot* slot, TransactionId pending, uint32 spec_token) {
    WorkerVisit* v = (WorkerVisit*)arg;
    bool isnull;
    sg::Occupant o;
    o.id = DatumGetInt64(slot_getattr(slot, v->c_booking, &isnull));
    TransactionId booking_pending;
    uint32 booking_token;
    if (!booking_holds_workers(&v->lookup, o.id, &booking_pending, &booking_token)) return;
    o.seats = 1;
    o.blocked = span_of(decode_range(slot_getattr(slot, v->c_during, &isnull)));
    // The assignment's own writer first (usually the same transaction);
    // else the booking's, whose change decides whether the worker is held.
    if (!TransactionIdIsValid(pending)) {
        pending = booking_pending;
        spec_token = booking_token;
    }
    mark_pending(&o, pending, spec_token);
    append_occupant(v->out, o);
}

}  // namespace

void open_assignment(GuardedRels* rels, LOCKMODE mode) {
    rels->heap = table_open(slotguard_relation("assignment"), mode);
    rels->index = index_open(slotguard_relation("assignment_worker_during_idx"), mode);
    rels->hashed_key = false;
}

void collect_worker_occupants(const GuardedRels* rels, text* worker, Datum probe, bool has_probe,
                              ItemPointer exclude, Occupants* out) {
    TupleDesc desc = RelationGetDescr(rels->heap);
    WorkerVisit v;
    v.c_booking = column_of(desc, "booking_id");
    v.c_during = column_of(desc, "during");
    v.out = out;
    out->items = NULL;
    out->n = out->cap = 0;
    open_lookup(&v.lookup);
    dirty_scan(rels, worker, probe, has_probe, exclude, visit_assignment, &v);
    close_lookup(&v.lookup);
}

int count_active_workers(int64 booking_id) {
    Datum v[1] = {Int64GetDatum(booking_id)};
    run_latest(plan(PLAN_ASSIGN_ACTIVE), v, NULL, 0);
    return (int)SPI_processed;
}

namespace {

int compare_slots(const void* a, const void* b) {
    return compare_text_bytes(((const NameSlot*)a)->name, ((const NameSlot*)b)->name);
}

}  // namespace

NameSlot* index_targets(const AdmitTarget* targets, int n) {
    NameSlot* slots = (NameSlot*)palloc(sizeof(NameSlot) * (n > 0 ? n : 1));
    for (int i = 0; i < n; ++i) slots[i] = NameSlot{targets[i].key, i};
    qsort(slots, n, sizeof(NameSlot), compare_slots);
    return slots;
}

int find_target(const NameSlot* slots, int n, text* name) {
    NameSlot probe = {name, -1};
    const NameSlot* hit = (const NameSlot*)bsearch(&probe, slots, n, sizeof(NameSlot), compare_slots);
    return hit ? hit->index : -1;
}

int worker_targets(int64 booking_id, Datum during, const GuardedRels* rels, AdmitTarget* out, int max_out) {
    Datum v[1] = {Int64GetDatum(booking_id)};
    run_latest(plan(PLAN_ASSIGN_ACTIVE), v, NULL, 0);
    int n = Min((int)SPI_processed, max_out);
    for (int i = 0; i < n; ++i) {
        bool isnull;
        AdmitTarget* t = &out[i];
        t->rels = rels;
        t->collect = collect_worker_occupants;
        t->key = DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
        t->current = (ItemPointer)palloc(sizeof(ItemPointerData));
        *t->current = *(ItemPointer)DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
        t->during = during;
        t->blocked = during;
        t->want = span_of(decode_range(during));
        t->seats = 1;
        t->capacity = 1;
        t->precheck_probe = (Datum)0;
        t->no_wait = false;
        CHECK_FOR_INTERRUPTS();
    }
    return n;
}

// Matches rows RETURNING (ctid, worker) to the targets by worker name.
void match_returned(const AdmitTarget* targets, int n, ItemPointer tids) {
    NameSlot* slots = index_targets(targets, n);
    for (uint64 r = 0; r < SPI_processed; ++r) {
        CHECK_FOR_INTERRUPTS();
        bool isnull;
        ItemPointer tid = (ItemPointer)DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
        text* worker = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
        int i = find_target(slots, n, worker);
        if (i >= 0) tids[i] = *tid;
    }
}

void move_assignments(int64 booking_id, Datum during, const AdmitTarget* targets, int n, ItemPointer tids) {
    Datum v[2] = {Int64GetDatum(booking_id), during};
    run_latest(plan(PLAN_ASSIGN_MOVE), v, NULL, 0);
    match_returned(targets, n, tids);
}

void release_assignments(int64 booking_id) {
    Datum v[1] = {Int64GetDatum(booking_id)};
    int mark = begin_internal_write();
    run_latest(plan(PLAN_ASSIGN_RELEASE), v, NULL, 0);
    end_internal_write(mark);
}

void raise_worker_conflict(const AdmitTarget* t, const AdmitResult* r, const Confinement* conf) {
    int64* ids = (int64*)palloc(sizeof(int64) * (r->n_conflicts > 0 ? r->n_conflicts : 1));
    memcpy(ids, r->conflict_ids, sizeof(int64) * r->n_conflicts);
    int n_shown = r->n_conflicts;
    if (conf != NULL) shown_booking_ids(conf, ids, r->n_conflicts, &n_shown);
    char* list = shown_id_list(ids, n_shown, r->n_conflicts);
    // Another tenant's worker (kept on the caller's booking by an
    // unconfined role) is not named to a confined caller.
    const char* worker = conf != NULL && !tenant_allowed(conf, t->key)
                             ? "of another tenant"
                             : psprintf("\"%s\"", text_to_cstring(t->key));
    ereport(ERROR, (errcode(ERRCODE_EXCLUSION_VIOLATION),
                    errmsg("worker %s is already assigned to booking %s, which overlaps %s", worker, list,
                           range_text(t->during)),
                    errdetail("Conflicting bookings: %s.", list),
                    errhint("A worker cannot be on two active bookings whose ranges overlap.")));
    pg_unreachable();
}

}  // namespace sgpg
