// The guard on slotguard.booking itself: direct INSERT/UPDATE by the owner
// (or a restore) goes through the same capacity check as the API.
#include "glue.hpp"
#include "spi_plans.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_booking_guard);
PG_FUNCTION_INFO_V1(sg_booking_guard_needed);
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
    v.key = DatumGetTextPP(heap_getattr(row, SPI_fnumber(desc, "resource_key"), desc, &isnull));
    v.during = heap_getattr(row, SPI_fnumber(desc, "during"), desc, &isnull);
    v.seats = DatumGetInt32(heap_getattr(row, SPI_fnumber(desc, "seats"), desc, &isnull));
    char* status = TextDatumGetCString(heap_getattr(row, SPI_fnumber(desc, "status"), desc, &isnull));
    Datum expires = heap_getattr(row, SPI_fnumber(desc, "hold_expires_at"), desc, &isnull);
    v.active = strcmp(status, "confirmed") == 0 ||
               (strcmp(status, "held") == 0 && !isnull &&
                DatumGetTimestampTz(expires) > GetCurrentTransactionStartTimestamp());
    v.c_blocked = SPI_fnumber(desc, "blocked");
    return v;
}

// BEFORE: validate and derive blocked from the resource's buffers.
HeapTuple derive_blocked(HeapTuple row, TupleDesc desc) {
    bool isnull;
    // NOT NULL constraints run after BEFORE triggers; give the contract's code.
    const char* required[] = {"resource_key", "during", "seats"};
    for (const char* col : required) {
        heap_getattr(row, SPI_fnumber(desc, col), desc, &isnull);
        if (isnull) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", col)));
    }
    RowView v = view_row(row, desc);
    TsRange during = checked_range(v.during, "during");
    SPI_connect();
    lock_resource(v.key, ShareLock);
    ResourceInfo res = read_resource(v.key, true);
    SPI_finish();
    if (v.seats > res.capacity)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("seats (%d) exceed the capacity (%d) of resource \"%s\"", v.seats, res.capacity,
                               text_to_cstring(v.key))));
    Datum blocked = range_datum(widen_range(during, res.before_us, res.after_us));
    int cols[1] = {v.c_blocked};
    Datum vals[1] = {blocked};
    bool nulls[1] = {false};
    return heap_modify_tuple_by_cols(row, desc, 1, cols, vals, nulls);
}

// AFTER: the row is visible to concurrent checkers; check it.
void check_row(HeapTuple row, TupleDesc desc) {
    RowView v = view_row(row, desc);
    if (!v.active) return;
    SPI_connect();
    ResourceInfo res = read_resource(v.key, false);
    SPI_finish();
    bool isnull;
    Datum blocked = heap_getattr(row, v.c_blocked, desc, &isnull);
    BookingRels rels;
    open_booking(&rels, RowExclusiveLock);
    AdmitTarget t = {&rels, v.key, v.during, blocked, span_of(decode_range(blocked)), v.seats, res.capacity, NULL};
    admit_written_row(&t, &row->t_self);
    close_booking(&rels, RowExclusiveLock);
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
    if (internal_write) return before ? PointerGetDatum(row) : PointerGetDatum(NULL);
    if (before) return PointerGetDatum(derive_blocked(row, desc));
    check_row(row, desc);
    return PointerGetDatum(NULL);
}

extern "C" Datum sg_booking_guard_needed(PG_FUNCTION_ARGS) { PG_RETURN_BOOL(!internal_write); }
