// SQL entry points of API.md §12: expire_holds, join_waitlist,
// leave_waitlist. Offers are made by offer_freed (waitlist_offer.cpp).
#include "stats/stats.hpp"
#include "waitlist/waitlist.hpp"
#include "waitlist/waitlist_plans.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_expire_holds);
PG_FUNCTION_INFO_V1(sg_join_waitlist);
PG_FUNCTION_INFO_V1(sg_leave_waitlist);
}

namespace sgpg {
namespace {

// Documented maxima (docs/waitlist.md): 22023 beyond.
constexpr int64 max_offer_hold_us = 366 * USECS_PER_DAY;
constexpr int max_expire_batch = 100000;

[[noreturn]] void raise_unknown_entry(int64 id) {
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("waitlist entry " INT64_FORMAT " does not exist", id)));
    pg_unreachable();
}

bool entry_visible(const Confinement* conf, text* key, text* holder) {
    return tenant_allowed(conf, key) && holder_allowed(conf, holder);
}

// Another's entry is P0002 before any lock, as an unknown id.
void precheck_entry(const Confinement* conf, int64 id) {
    if (!conf->confined) return;
    Datum v[1] = {Int64GetDatum(id)};
    run_latest(waitlist_plan(WPLAN_OWNER), v, NULL, 1);
    if (SPI_processed == 0) raise_unknown_entry(id);
    bool knull, hnull;
    Datum k = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &knull);
    Datum h = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &hnull);
    if (knull || !entry_visible(conf, DatumGetTextPP(k), hnull ? NULL : DatumGetTextPP(h))) raise_unknown_entry(id);
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

// expire_holds(max int DEFAULT 10000) -> int
extern "C" Datum sg_expire_holds(PG_FUNCTION_ARGS) {
    require_writable("expire_holds");
    CallerScope scope = enter_api(fcinfo, "expire_holds");
    require_arg(fcinfo, 0, "max");
    int max = PG_GETARG_INT32(0);
    if (max < 1 || max > max_expire_batch)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("max must be between 1 and %d, got %d", max_expire_batch, max)));
    const Confinement* conf = &scope.conf;
    SPI_connect();
    Datum tenants = conf->confined ? tenant_array(conf) : (Datum)0;
    text* holder = conf->confined ? conf->holder : NULL;
    Datum v[4] = {TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), Int32GetDatum(max), tenants,
                  PointerGetDatum(holder)};
    char nulls[5] = "    ";
    if (tenants == (Datum)0) nulls[2] = 'n';
    if (holder == NULL) nulls[3] = 'n';
    // The lapsed holds take no capacity already: marking them needs no check.
    int mark = begin_internal_write();
    run_latest(waitlist_plan(WPLAN_EXPIRE), v, nulls, 0);
    end_internal_write(mark);
    uint64 n = SPI_processed;
    SPITupleTable* tt = SPI_tuptable;
    // Their time is offered to the waitlist, hold by hold.
    for (uint64 i = 0; i < n; ++i) {
        CHECK_FOR_INTERRUPTS();
        bool isnull;
        text* key = DatumGetTextPP(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
        Datum during = SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull);
        offer_freed(key, during);
    }
    // And every resource someone waits for is tried once more: offers a
    // concurrent transaction made impossible for a moment (it held the
    // entry or the resource, or rolled back) are made now.
    Datum w[2] = {tenants, Int32GetDatum(Min(max, retry_resources))};
    char wnulls[3] = "  ";
    if (tenants == (Datum)0) wnulls[0] = 'n';
    run_latest(waitlist_plan(WPLAN_WAITING_RESOURCES), w, wnulls, 0);
    uint64 nw = SPI_processed;
    tt = SPI_tuptable;
    for (uint64 i = 0; i < nw; ++i) {
        CHECK_FOR_INTERRUPTS();
        bool isnull;
        offer_freed_tries(DatumGetTextPP(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull)), (Datum)0, retry_tries);
    }
    SPI_finish();
    stats_holds_expired((int64)n);
    leave_api(&scope);
    PG_RETURN_INT32((int32)n);
}

// join_waitlist(resource, during, seats, holder, offer_hold, metadata) -> slotguard.waitlist
extern "C" Datum sg_join_waitlist(PG_FUNCTION_ARGS) {
    require_writable("join_waitlist");
    CallerScope scope = enter_api(fcinfo, "join_waitlist");
    const Confinement* conf = &scope.conf;
    text* key = key_text_arg(fcinfo, 0, "resource");
    require_arg(fcinfo, 1, "during");
    Datum during = RangeTypePGetDatum(PG_GETARG_RANGE_P(1));
    TsRange range = checked_range(during, "during");
    int seats = seats_arg(fcinfo, 2);
    text* holder = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);
    if (holder != NULL) check_key_length(holder, "holder");
    require_arg(fcinfo, 4, "offer_hold");
    Interval* hold = PG_GETARG_INTERVAL_P(4);
    // Whole days and months have no fixed length in local time: the offer's
    // hold is at most 366 days of any kind (month = 31 days), so now() + it
    // is always a timestamp.
    int64 hold_us = interval_micros(hold, "offer_hold");
    bool too_long = (int64)hold->month * 31 > 366 || (int64)hold->day > 366 || hold_us > max_offer_hold_us;
    if (hold_us <= 0 || hold->month < 0 || hold->day < 0 || hold->time < 0 || too_long)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("offer_hold must be a positive interval of at most 366 days")));
    bool has_metadata = !PG_ARGISNULL(5);
    Datum metadata = has_metadata ? PG_GETARG_DATUM(5) : (Datum)0;
    if (has_metadata) check_metadata_size(metadata, "metadata");
    if (conf->confined && conf->holder != NULL) {
        if (holder == NULL)
            holder = conf->holder;
        else if (!same_text(holder, conf->holder))
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("permission denied to join the waitlist for holder \"%s\"", text_to_cstring(holder)),
                            errdetail("The role acts only for the holder its claim names.")));
    }
    // Another tenant's resource is as if it did not exist; a waitlist is
    // joined for a resource that exists (never auto-created).
    if (!tenant_allowed(conf, key)) raise_unknown_resource(key);
    SPI_connect();
    ResourceInfo res;
    if (!find_resource(key, &res)) raise_unknown_resource(key);
    check_seats_fit(seats, res.capacity, key);
    (void)widen_range(range, res.before_us, res.after_us);  // 22023 beyond the timestamps
    Datum v[6] = {PointerGetDatum(key), during, Int32GetDatum(seats), PointerGetDatum(holder), PointerGetDatum(hold),
                  metadata};
    char nulls[7] = "      ";
    if (holder == NULL) nulls[3] = 'n';
    if (!has_metadata) nulls[5] = 'n';
    if (SPI_execute_plan(waitlist_plan(WPLAN_INSERT), v, nulls, false, 1) != SPI_OK_INSERT_RETURNING ||
        SPI_processed != 1)
        elog(ERROR, "slotguard: waitlist insert failed");
    bool isnull;
    int64 id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    // Free already? Then it is offered at once (to the oldest entry that fits).
    offer_freed(key, during);
    Datum r[1] = {Int64GetDatum(id)};
    if (SPI_execute_plan(waitlist_plan(WPLAN_ROW), r, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "slotguard: waitlist entry " INT64_FORMAT " vanished", id);
    Datum row = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

// leave_waitlist(id) -> boolean: true if the entry was waiting and has left.
extern "C" Datum sg_leave_waitlist(PG_FUNCTION_ARGS) {
    require_writable("leave_waitlist");
    CallerScope scope = enter_api(fcinfo, "leave_waitlist");
    require_arg(fcinfo, 0, "id");
    int64 id = PG_GETARG_INT64(0);
    SPI_connect();
    precheck_entry(&scope.conf, id);
    Datum v[1] = {Int64GetDatum(id)};
    run_latest(waitlist_plan(WPLAN_LOCK_ENTRY), v, NULL, 1);
    if (SPI_processed == 0) raise_unknown_entry(id);
    bool knull, hnull, isnull;
    Datum k = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &knull);
    Datum h = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &hnull);
    text* status = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
    if (scope.conf.confined && (knull || !entry_visible(&scope.conf, DatumGetTextPP(k), hnull ? NULL : DatumGetTextPP(h))))
        raise_unknown_entry(id);
    bool left = false;
    if (text_is(status, "waiting")) {
        run_latest(waitlist_plan(WPLAN_LEAVE), v, NULL, 0);
        left = SPI_processed == 1;
    }
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_BOOL(left);
}
