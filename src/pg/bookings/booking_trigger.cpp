// The guard on slotguard.booking itself: direct INSERT/UPDATE by the owner
// (or a restore) goes through the same capacity check as the API.
#include "workers/workers.hpp"
#include "bookings/plans.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_booking_guard);
PG_FUNCTION_INFO_V1(sg_booking_guard_needed);
PG_FUNCTION_INFO_V1(sg_assignment_guard);
}

namespace sgpg {
namespace {

struct RowView {
    text* key;
    Datum during;
    int seats;
    bool active;
    AttrNumber c_blocked;
};

RowView view_row(HeapTuple row, TupleDesc desc) {
    RowView v;
    bool isnull;
    v.key = DatumGetTextPP(heap_getattr(row, column_of(desc, "resource_key"), desc, &isnull));
    v.during = heap_getattr(row, column_of(desc, "during"), desc, &isnull);
    v.seats = DatumGetInt32(heap_getattr(row, column_of(desc, "seats"), desc, &isnull));
    char* status = TextDatumGetCString(heap_getattr(row, column_of(desc, "status"), desc, &isnull));
    Datum expires = heap_getattr(row, column_of(desc, "hold_expires_at"), desc, &isnull);
    v.active = strcmp(status, "confirmed") == 0 ||
               (strcmp(status, "held") == 0 && !isnull &&
                DatumGetTimestampTz(expires) > GetCurrentTransactionStartTimestamp());
    v.c_blocked = column_of(desc, "blocked");
    return v;
}

// BEFORE: validate and derive blocked from the resource's buffers.
HeapTuple derive_blocked(HeapTuple row, TupleDesc desc) {
    bool isnull;
    // NOT NULL constraints run after BEFORE triggers; give the contract's code.
    const char* required[] = {"resource_key", "during", "seats"};
    for (const char* col : required) {
        heap_getattr(row, column_of(desc, col), desc, &isnull);
        if (isnull) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", col)));
    }
    RowView v = view_row(row, desc);
    TsRange during = checked_range(v.during, "during");
    SPI_connect();
    lock_resource(v.key, ShareLock);
    ResourceInfo res = read_resource(v.key, true);
    SPI_finish();
    check_seats_fit(v.seats, res.capacity, v.key);
    Datum blocked = range_datum(widen_range(during, res.before_us, res.after_us));
    int cols[1] = {v.c_blocked};
    Datum vals[1] = {blocked};
    bool nulls[1] = {false};
    return heap_modify_tuple_by_cols(row, desc, 1, cols, vals, nulls);
}

// BEFORE a direct write to slotguard.assignment: `during` is always the
// booking's own range, never what the writer supplied.
HeapTuple with_booking_during(HeapTuple row, TupleDesc desc) {
    bool isnull;
    Datum id = heap_getattr(row, column_of(desc, "booking_id"), desc, &isnull);
    if (isnull) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("booking_id must not be NULL")));
    SPI_connect();
    Datum v[1] = {id};
    run_latest(plan(PLAN_BOOKING_DURING), v, NULL, 1);
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                        errmsg("booking " INT64_FORMAT " does not exist", DatumGetInt64(id))));
    Datum during = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
    SPI_finish();
    int cols[1] = {column_of(desc, "during")};
    bool nulls[1] = {false};
    return heap_modify_tuple_by_cols(row, desc, 1, cols, &during, nulls);
}

// A direct change of a booking's range moves its workers and re-checks them.
void move_workers(int64 id, Datum during) {
    GuardedRels rels;
    open_assignment(&rels, RowExclusiveLock);
    int n = count_active_workers(id);
    AdmitTarget* targets = (AdmitTarget*)palloc(sizeof(AdmitTarget) * (n > 0 ? n : 1));
    n = worker_targets(id, during, &rels, targets, n);
    ItemPointerData* tids = (ItemPointerData*)palloc0(sizeof(ItemPointerData) * (n > 0 ? n : 1));
    int mark = begin_internal_write();
    move_assignments(id, during, targets, n, tids);
    end_internal_write(mark);
    for (int i = 0; i < n; ++i) {
        AdmitResult r;
        if (!admit_written_row(&targets[i], &tids[i], &r)) raise_worker_conflict(&targets[i], &r);
    }
    close_rels(&rels, RowExclusiveLock);
}

// AFTER: the row is visible to concurrent checkers; check it.
void check_row(HeapTuple row, HeapTuple old, TupleDesc desc) {
    RowView v = view_row(row, desc);
    bool isnull;
    int64 id = DatumGetInt64(heap_getattr(row, column_of(desc, "id"), desc, &isnull));
    char* status = TextDatumGetCString(heap_getattr(row, column_of(desc, "status"), desc, &isnull));
    SPI_connect();
    if (old != NULL && strcmp(status, "cancelled") == 0) release_assignments(id);
    if (!v.active) {
        SPI_finish();
        return;
    }
    ResourceInfo res = read_resource(v.key, false);
    Datum blocked = heap_getattr(row, v.c_blocked, desc, &isnull);
    BookingRels rels;
    open_booking(&rels, RowExclusiveLock);
    AdmitTarget t = {&rels, collect_occupants, v.key, v.during, blocked, span_of(decode_range(blocked)), v.seats,
                     res.capacity, NULL};
    AdmitResult r;
    if (!admit_written_row(&t, &row->t_self, &r))
        raise_conflict(v.key, decode_range(v.during), r.conflict_ids, r.n_conflicts, NULL, 0);
    close_booking(&rels, RowExclusiveLock);
    // Workers follow their booking: re-checked when it moves, and when it
    // becomes active again (revived hold, un-cancelled, confirmed).
    if (old != NULL) {
        RowView was = view_row(old, desc);
        if (!was.active || !(span_of(decode_range(was.during)) == span_of(decode_range(v.during))))
            move_workers(id, v.during);
    }
    SPI_finish();
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

extern "C" Datum sg_booking_guard(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "slotguard.booking_guard() must be called as a trigger");
    TriggerData* td = (TriggerData*)fcinfo->context;
    bool before = TRIGGER_FIRED_BEFORE(td->tg_event);
    HeapTuple row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    if (internal_write_in_trigger()) return before ? PointerGetDatum(row) : PointerGetDatum(NULL);
    if (before) return PointerGetDatum(derive_blocked(row, desc));
    check_row(row, TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_trigtuple : NULL, desc);
    return PointerGetDatum(NULL);
}

// Direct INSERT/UPDATE of slotguard.assignment by the owner: the same
// worker-overlap check as assign_workers.
extern "C" Datum sg_assignment_guard(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "slotguard.assignment_guard() must be called as a trigger");
    TriggerData* td = (TriggerData*)fcinfo->context;
    HeapTuple row = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    if (internal_write_in_trigger()) return PointerGetDatum(TRIGGER_FIRED_BEFORE(td->tg_event) ? row : NULL);
    if (TRIGGER_FIRED_BEFORE(td->tg_event)) return PointerGetDatum(with_booking_during(row, desc));
    bool isnull;
    char* status = TextDatumGetCString(heap_getattr(row, column_of(desc, "status"), desc, &isnull));
    if (strcmp(status, "active") != 0) return PointerGetDatum(NULL);
    Datum during = heap_getattr(row, column_of(desc, "during"), desc, &isnull);
    checked_range(during, "during");
    GuardedRels rels;
    open_assignment(&rels, RowExclusiveLock);
    text* worker = DatumGetTextPP(heap_getattr(row, column_of(desc, "worker"), desc, &isnull));
    AdmitTarget t = {&rels, collect_worker_occupants, worker, during, during, span_of(decode_range(during)), 1, 1,
                     NULL};
    AdmitResult r;
    if (!admit_written_row(&t, &row->t_self, &r)) raise_worker_conflict(&t, &r);
    close_rels(&rels, RowExclusiveLock);
    return PointerGetDatum(NULL);
}

extern "C" Datum sg_booking_guard_needed(PG_FUNCTION_ARGS) { PG_RETURN_BOOL(!internal_write_here()); }
