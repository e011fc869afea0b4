// upsert_resource: create or change a resource without breaking the
// invariant for the bookings it already has.
#include "bookings/bookings.hpp"
#include "bookings/plans.hpp"
#include "waitlist/waitlist.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_upsert_resource);
PG_FUNCTION_INFO_V1(sg_resource_guard);
}

namespace sgpg {
namespace {

Interval* buffer_arg(FunctionCallInfo fcinfo, int argno, const char* name) {
    require_arg(fcinfo, argno, name);
    Interval* iv = PG_GETARG_INTERVAL_P(argno);
    if (interval_micros(iv, name) < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be negative", name)));
    return iv;
}

// Raises 23P01 if the resource's active bookings overbook `capacity`.
// Pending writers (say, a cancel in flight) are waited for, not guessed.
void check_resource_invariant(text* key, int capacity) {
    BookingRels rels;
    open_booking(&rels, RowExclusiveLock);
    for (;;) {
        Occupants occ;
        collect_occupants(&rels, key, (Datum)0, false, NULL, &occ);
        TransactionId pending = InvalidTransactionId;
        for (int i = 0; i < occ.n && !TransactionIdIsValid(pending); ++i)
            if (!occ.items[i].certain) pending = occ.items[i].pending_xid;
        if (TransactionIdIsValid(pending)) {
            XactLockTableWait(pending, NULL, NULL, XLTW_None);
            continue;
        }
        int64* ids = (int64*)palloc(sizeof(int64) * (occ.n > 0 ? occ.n : 1));
        int n_ids = 0;
        BridgeError err;
        if (!bridge_overbooked(occ.items, occ.n, capacity, ids, &n_ids, &err)) raise_bridge_error(err);
        if (n_ids > 0)
            ereport(ERROR,
                    (errcode(ERRCODE_EXCLUSION_VIOLATION),
                     errmsg("resource \"%s\" cannot change: its active bookings would exceed capacity %d",
                            text_to_cstring(key), capacity),
                     errdetail("Overlapping bookings: %s.", id_list(ids, n_ids))));
        break;
    }
    close_booking(&rels, RowExclusiveLock);
}

// New capacity or buffers for `key`: re-derive every booking's blocked range
// (stored on the booking) and check the active ones still fit.
void apply_resource_settings(text* key, int capacity, int64 before_us, int64 after_us) {
    // Waits for booking checks in flight on this resource, and holds new
    // ones off until commit, so they see the new capacity and buffers.
    lock_resource(key, ExclusiveLock);
    Datum r[3] = {PointerGetDatum(key), PointerGetDatum(micros_interval(before_us)),
                  PointerGetDatum(micros_interval(after_us))};
    int mark = begin_internal_write();
    int rc = 0;
    MemoryContext cxt = CurrentMemoryContext;
    PG_TRY();
    {
        rc = SPI_execute_plan(plan(PLAN_REBLOCK), r, NULL, false, 0);
    }
    PG_CATCH();
    {
        // A buffer that pushes a booking's blocked range past the last (or
        // before the first) timestamp is an invalid value of the call, as
        // for a new booking (widen_range); any other error passes unchanged.
        end_internal_write(mark);
        MemoryContextSwitchTo(cxt);
        ErrorData* e = CopyErrorData();
        if (e->sqlerrcode != ERRCODE_DATETIME_VALUE_OUT_OF_RANGE) PG_RE_THROW();
        FlushErrorState();
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("the buffers of resource \"%s\" push a booking beyond the supported timestamps",
                               text_to_cstring(key))));
    }
    PG_END_TRY();
    end_internal_write(mark);
    if (rc != SPI_OK_UPDATE) elog(ERROR, "slotguard: updating blocked ranges failed");
    CommandCounterIncrement();
    check_resource_invariant(key, capacity);
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

// AFTER UPDATE on slotguard.resource, for upsert_resource and the owner's
// direct UPDATEs alike: a change of capacity or buffers must keep the
// invariant for the bookings the resource already has.
extern "C" Datum sg_resource_guard(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "slotguard.resource_guard() must be called as a trigger");
    TriggerData* td = (TriggerData*)fcinfo->context;
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    HeapTuple row = td->tg_newtuple;
    bool isnull;
    text* key = DatumGetTextPP(heap_getattr(row, column_of(desc, "key"), desc, &isnull));
    int capacity = DatumGetInt32(heap_getattr(row, column_of(desc, "capacity"), desc, &isnull));
    int64 before = interval_micros(
        DatumGetIntervalP(heap_getattr(row, column_of(desc, "buffer_before"), desc, &isnull)), "buffer_before");
    int64 after = interval_micros(
        DatumGetIntervalP(heap_getattr(row, column_of(desc, "buffer_after"), desc, &isnull)), "buffer_after");
    SPI_connect();
    apply_resource_settings(key, capacity, before, after);
    SPI_finish();
    return PointerGetDatum(NULL);
}

extern "C" Datum sg_upsert_resource(PG_FUNCTION_ARGS) {
    require_writable("upsert_resource");
    CallerScope scope = enter_api(fcinfo, "upsert_resource");
    text* key = key_text_arg(fcinfo, 0, "key");
    require_tenant_write(&scope.conf, key, "create or change a resource");
    if (!PG_ARGISNULL(5)) check_metadata_size(PG_GETARG_DATUM(5), "metadata");
    require_arg(fcinfo, 1, "capacity");
    int capacity = PG_GETARG_INT32(1);
    if (capacity < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("capacity must be at least 1, got %d", capacity)));
    Interval* before = buffer_arg(fcinfo, 2, "buffer_before");
    Interval* after = buffer_arg(fcinfo, 3, "buffer_after");

    SPI_connect();
    // Taken before the row changes, so no booking check reads the old
    // settings while the new ones are being checked.
    lock_resource(key, ExclusiveLock);
    // waitlist: the settings before, to see whether the change frees room.
    ResourceInfo was;
    bool existed = find_resource(key, &was);
    Datum v[6] = {PointerGetDatum(key), Int32GetDatum(capacity), PointerGetDatum(before), PointerGetDatum(after),
                  PG_ARGISNULL(4) ? (Datum)0 : PG_GETARG_DATUM(4), PG_ARGISNULL(5) ? (Datum)0 : PG_GETARG_DATUM(5)};
    char n[7] = "    ";
    n[4] = PG_ARGISNULL(4) ? 'n' : ' ';
    n[5] = PG_ARGISNULL(5) ? 'n' : ' ';
    if (SPI_execute_plan(plan(PLAN_RESOURCE_UPSERT), v, n, false, 1) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
        elog(ERROR, "slotguard: resource upsert failed");
    bool isnull;
    Datum row = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);

    // The resource trigger (resource_guard) re-derives blocked ranges and
    // re-checks the bookings against the new settings.
    // waitlist: more capacity or shorter buffers free room; offered now.
    if (existed && (capacity > was.capacity || interval_micros(before, "buffer_before") < was.before_us ||
                    interval_micros(after, "buffer_after") < was.after_us))
        offer_freed(key, (Datum)0);
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}
