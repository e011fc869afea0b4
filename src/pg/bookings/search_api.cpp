// Read-only queries of contract §2: free_slots and availability.
#include "bookings/bookings.hpp"
#include "engine/spi_plans.hpp"
#include "schedule/schedule.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_free_slots);
PG_FUNCTION_INFO_V1(sg_availability);
}

namespace sgpg {
namespace {

// Candidates examined by one free_slots call at most.
constexpr int64 max_candidates = 1000000;

int64 positive_interval(FunctionCallInfo fcinfo, int argno, const char* name) {
    int64 us = interval_micros(PG_GETARG_INTERVAL_P(argno), name);
    if (us <= 0) ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must be positive", name)));
    return us;
}

// Resource settings for a read, as the caller's snapshot sees them: an
// unknown resource is all free when it would be created on first booking,
// else P0002. Another tenant's resource is unknown to a confined caller.
ResourceInfo resource_for_read(text* key, const Confinement* conf) {
    ResourceInfo info;
    if (!tenant_allowed(conf, key)) {
        info = ResourceInfo{false, 1, 0, 0};
        if (auto_create_resources) return info;
        raise_unknown_resource(key);
    }
    if (find_visible_resource(key, &info) || auto_create_resources) return info;
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("resource \"%s\" does not exist", text_to_cstring(key)),
                    errhint("Create it with slotguard.upsert_resource(), or turn on "
                            "slotguard.auto_create_resources.")));
    pg_unreachable();
}

void collect_window(text* key, const TsRange& search, const ResourceInfo& res, Occupants* occ,
                    const Confinement* conf) {
    // Not a resource the caller may see: as if unknown, nothing booked.
    if (!tenant_allowed(conf, key)) {
        occ->items = NULL;
        occ->n = occ->cap = 0;
        return;
    }
    BookingRels rels;
    open_booking(&rels, AccessShareLock);
    // Occupants whose blocked range can touch a slot's blocked range.
    TsRange probe = widen_range(search, res.before_us, res.after_us);
    // What the caller's snapshot sees, as for any STABLE query: never
    // another session's uncommitted bookings.
    collect_visible_occupants(&rels, key, range_datum(probe), occ);
    close_booking(&rels, AccessShareLock);
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

static Datum free_slots(FunctionCallInfo fcinfo, const Confinement* conf) {
    text* key = key_text_arg(fcinfo, 0, "resource");
    require_arg(fcinfo, 1, "search");
    TsRange search = checked_range(RangeTypePGetDatum(PG_GETARG_RANGE_P(1)), "search");
    require_arg(fcinfo, 2, "duration");
    int64 duration = positive_interval(fcinfo, 2, "duration");
    int64 step = PG_ARGISNULL(3) ? duration : positive_interval(fcinfo, 3, "step");
    int seats = seats_arg(fcinfo, 4);
    int64 span;
    int64 candidates = pg_sub_s64_overflow(search.upper, search.lower, &span) ? PG_INT64_MAX : span / step + 1;
    if (candidates > max_candidates)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("search would examine " INT64_FORMAT " slots; the limit is " INT64_FORMAT, candidates,
                               max_candidates),
                        errhint("Use a larger step or a shorter search range.")));

    // SETOF tstzrange is not a row type: use the executor's one-column descriptor.
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    MemoryContext caller = CurrentMemoryContext;

    SPI_connect();
    ResourceInfo res = resource_for_read(key, conf);
    check_seats_fit(seats, res.capacity, key);
    Occupants occ;
    collect_window(key, search, res, &occ, conf);
    sg::SlotQuery q;
    q.capacity = res.capacity;
    q.seats = seats;
    q.buffer_before = res.before_us;
    q.buffer_after = res.after_us;
    sg::Span* found = (sg::Span*)palloc(sizeof(sg::Span) * candidates);
    int n_found = 0;
    BridgeError err;
    // §10 hook: a resource with rules lays its grid from each opening span.
    n_found = rules_free_slots(&res, key, search, duration, PG_ARGISNULL(3) ? NULL : PG_GETARG_INTERVAL_P(3), seats,
                               &occ, found, (int)candidates);
    if (n_found < 0 &&
        !bridge_free_slots(occ.items, occ.n, q, span_of(search), search.lower, duration, step, (int)candidates, found,
                           &n_found, &err))
        raise_bridge_error(err);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    for (int i = 0; i < n_found; ++i) {
        Datum v = range_datum(range_of(found[i]));
        bool isnull = false;
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &isnull);
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    return (Datum)0;
}

static Datum availability(FunctionCallInfo fcinfo, const Confinement* conf) {
    text* key = key_text_arg(fcinfo, 0, "resource");
    require_arg(fcinfo, 1, "search");
    TsRange search = checked_range(RangeTypePGetDatum(PG_GETARG_RANGE_P(1)), "search");

    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    MemoryContext caller = CurrentMemoryContext;

    SPI_connect();
    ResourceInfo res = resource_for_read(key, conf);
    Occupants occ = {NULL, 0, 0};
    if (tenant_allowed(conf, key)) {
        BookingRels rels;
        open_booking(&rels, AccessShareLock);
        collect_visible_occupants(&rels, key, RangeTypePGetDatum(PG_GETARG_RANGE_P(1)), &occ);
        close_booking(&rels, AccessShareLock);
        // §10 hook: closed and busy time show as no free seats.
        add_closed_occupants(&res, key, search, GetActiveSnapshot(), false, &occ);
    }
    sg::LoadSegment* segs = (sg::LoadSegment*)palloc(sizeof(sg::LoadSegment) * (2 * occ.n + 1));
    int n_segs = 0;
    BridgeError err;
    if (!bridge_segments(occ.items, occ.n, span_of(search), segs, &n_segs, &err)) raise_bridge_error(err);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    for (int i = 0; i < n_segs; ++i) {
        Datum v[2] = {range_datum(range_of(segs[i].span)), Int32GetDatum(Max(0, res.capacity - segs[i].load))};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    return (Datum)0;
}

// Materialized: all the work (and the role switch) happens in this one call.
extern "C" Datum sg_free_slots(PG_FUNCTION_ARGS) {
    CallerScope scope = enter_api(fcinfo, "free_slots");
    Datum d = free_slots(fcinfo, &scope.conf);
    leave_api(&scope);
    return d;
}

extern "C" Datum sg_availability(PG_FUNCTION_ARGS) {
    CallerScope scope = enter_api(fcinfo, "availability");
    Datum d = availability(fcinfo, &scope.conf);
    leave_api(&scope);
    return d;
}
