// SQL entry points of API.md §11 for series: book_series, try_book_series,
// cancel_series.
#include "waitlist/waitlist.hpp"
#include "series/series.hpp"
#include "schedule/schedule.hpp"
extern "C" {
#include "utils/datum.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_book_series);
PG_FUNCTION_INFO_V1(sg_try_book_series);
PG_FUNCTION_INFO_V1(sg_cancel_series);
}

namespace sgpg {
namespace {

struct SeriesCall {
    SetRequest req;
    SetResource* res;
    int n_res;
    GuardedRels rels;
    bool opened;
    SetResult out;
};

// A replay names the same series: same resource, first occurrence, seats
// and number of occurrences.
bool same_series(void*, const SetRequest* req, HeapTupleHeader* rows, int n) {
    if (n != req->n) return false;
    bool isnull;
    Datum k = booking_field(rows[0], "resource_key", &isnull);
    if (isnull || !same_text(DatumGetTextPP(k), req->keys[0])) return false;
    Datum d = booking_field(rows[0], "during", &isnull);
    if (isnull || !range_is(d, req->ranges[0])) return false;
    Datum s = booking_field(rows[0], "seats", &isnull);
    return !isnull && DatumGetInt32(s) == req->seats;
}

// The occurrences of `rule` from `first` in the resource's zone.
TsRange* expand_series(text* key, const TsRange& first, text* rule_text, int* n_out) {
    sg::RepeatRule rule;
    BridgeError err;
    if (!bridge_parse_repeat(VARDATA_ANY(rule_text), VARSIZE_ANY_EXHDR(rule_text), max_series_occurrences, &rule, &err))
        raise_bridge_error(err);
    pg_tz* zone = resource_zone(key);
    TimestampTz until = 0;
    if (rule.has_until && rule.until_utc) {
        // UNTIL ...Z is an instant: compared in local time by the core (its
        // local equivalent), then exactly below.
        until = (TimestampTz)(date2j(rule.until.year, rule.until.month, rule.until.day) - POSTGRES_EPOCH_JDATE) *
                    USECS_PER_DAY +
                rule.until.micros_of_day;
        rule.until = local_of(until, zone);
    }
    sg::LocalTime start = local_of(first.lower, zone);
    sg::LocalTime* local = (sg::LocalTime*)palloc(sizeof(sg::LocalTime) * (max_series_occurrences + 1));
    int n = 0;
    if (!bridge_expand_repeat(rule, start, max_series_occurrences, local, &n, &err)) raise_bridge_error(err);
    // API.md §10: an occurrence whose local time does not exist (spring
    // forward) is skipped, and not counted (the core decides, with the
    // zone's offsets from the first occurrence to beyond the last one; a
    // skipped one makes the series reach further: the table widens).
    char* zone_name = resource_zone_name(key);
    if (zone_name != NULL && n > 1) {
        int64 from = first.lower - USECS_PER_DAY;
        int64 to = instant_of(local[n - 1], zone) + 2 * USECS_PER_DAY;
        for (;;) {
            CHECK_FOR_INTERRUPTS();
            SchedZone z = zone_table(zone_name, from, to);
            bool beyond = false;
            if (!bridge_expand_repeat_in_zone(rule, start, max_series_occurrences, z, local, &n, &beyond, &err))
                raise_bridge_error(err);
            if (z.pieces != NULL) pfree((void*)z.pieces);
            if (!beyond || to >= END_TIMESTAMP - 1) break;
            __int128 wider = (__int128)to + ((__int128)to - from) + 31 * (__int128)USECS_PER_DAY;
            to = wider >= (__int128)END_TIMESTAMP ? END_TIMESTAMP - 1 : (int64)wider;
        }
    }
    TsRange* ranges = (TsRange*)palloc(sizeof(TsRange) * (n > 0 ? n : 1));
    int64 length = first.upper - first.lower;
    int m = 0;
    for (int i = 0; i < n; ++i) {
        CHECK_FOR_INTERRUPTS();
        TsRange r = first;
        if (i > 0) {
            r.lower = instant_of(local[i], zone);
            if (rule.has_until && rule.until_utc && r.lower > until) break;
            if (pg_add_s64_overflow(r.lower, length, &r.upper) || !IS_VALID_TIMESTAMP(r.upper))
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("an occurrence falls outside the supported timestamps")));
        }
        ranges[m++] = r;
    }
    if (m > max_series_occurrences)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("a series may have at most %d occurrences, this rule gives more", max_series_occurrences),
                        errhint("Use COUNT, or an earlier UNTIL.")));
    *n_out = m;
    return ranges;
}

// Arguments: resource, first, repeat, seats, holder, hold, idempotency_key, metadata.
void book_series_call(FunctionCallInfo fcinfo, const Confinement* conf, SeriesCall* c) {
    SetRequest* req = &c->req;
    text* key = key_text_arg(fcinfo, 0, "resource");
    require_arg(fcinfo, 1, "first");
    TsRange first = checked_range(RangeTypePGetDatum(PG_GETARG_RANGE_P(1)), "first");
    require_arg(fcinfo, 2, "repeat");
    text* rule = PG_GETARG_TEXT_PP(2);
    req->seats = seats_arg(fcinfo, 3);
    req->holder = PG_ARGISNULL(4) ? NULL : PG_GETARG_TEXT_PP(4);
    if (req->holder != NULL) check_key_length(req->holder, "holder");
    req->held = !PG_ARGISNULL(5);
    req->expires = req->held ? hold_expiry(PG_GETARG_INTERVAL_P(5)) : 0;
    req->idem = PG_ARGISNULL(6) ? NULL : key_text_arg(fcinfo, 6, "idempotency_key");
    req->has_metadata = !PG_ARGISNULL(7);
    req->metadata = req->has_metadata ? PG_GETARG_DATUM(7) : (Datum)0;
    if (req->has_metadata) check_metadata_size(req->metadata, "metadata");
    req->series = true;
    req->conf = conf;
    if (conf->confined && conf->holder != NULL) {
        if (req->holder == NULL)
            req->holder = conf->holder;
        else if (!same_text(req->holder, conf->holder))
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("permission denied to book for holder \"%s\"", text_to_cstring(req->holder)),
                            errdetail("The role books only for the holder its claim names.")));
    }
    // Another tenant's resource is as if it did not exist, before its zone is read.
    if (!tenant_allowed(conf, key)) {
        if (auto_create_resources) require_tenant_write(conf, key, "create a resource");
        raise_unknown_resource(key);
    }
    c->opened = false;
    c->res = NULL;
    c->n_res = 0;
    SPI_connect();
    req->ranges = expand_series(key, first, rule, &req->n);
    req->keys = (text**)palloc(sizeof(text*) * req->n);
    for (int i = 0; i < req->n; ++i) req->keys[i] = key;
    c->out.outcome = SET_CONFLICT;
    if (req->idem != NULL && find_set_by_key(req, same_series, NULL, &c->out)) return;
    c->res = set_resources(req, &c->n_res);
    open_booking(&c->rels, RowExclusiveLock);
    c->opened = true;
    admit_set(req, c->res, c->n_res, &c->rels, &c->out);
    if (c->out.outcome == SET_REPLAYED && !find_set_by_key(req, same_series, NULL, &c->out))
        elog(ERROR, "slotguard: idempotent series vanished; retry");
    // The same call, concurrently, committed first: its rows are what
    // conflicted. A replay, not a refusal.
    if (c->out.outcome == SET_CONFLICT && req->idem != NULL && find_set_by_key(req, same_series, NULL, &c->out)) return;
    if (c->out.outcome == SET_CONFLICT) explain_set(req, c->res, c->n_res, &c->rels, &c->out);
}

[[noreturn]] void raise_unknown_series(int64 id) {
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("series " INT64_FORMAT " does not exist", id)));
    pg_unreachable();
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

extern "C" Datum sg_book_series(PG_FUNCTION_ARGS) {
    require_writable("book_series");
    CallerScope scope = enter_api(fcinfo, "book_series");
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    SeriesCall c;
    book_series_call(fcinfo, &scope.conf, &c);
    if (c.out.outcome == SET_CONFLICT) {
        int bad = 0;
        for (int i = 0; i < c.req.n; ++i) bad += c.out.verdicts[i].fits ? 0 : 1;
        raise_set_conflict(&c.req, c.res, c.n_res, &c.rels,
                           &c.out, psprintf("series on resource \"%s\" is not available: %d of %d occurrences do not fit",
                                            text_to_cstring(c.req.keys[0]), bad, c.req.n));
    }
    put_rows(rsinfo, c.out.rows, c.out.n_rows);
    if (c.opened) close_booking(&c.rels, RowExclusiveLock);
    SPI_finish();
    leave_api(&scope);
    return (Datum)0;
}

extern "C" Datum sg_try_book_series(PG_FUNCTION_ARGS) {
    require_writable("try_book_series");
    CallerScope scope = enter_api(fcinfo, "try_book_series");
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    SeriesCall c;
    book_series_call(fcinfo, &scope.conf, &c);
    MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
    if (c.out.outcome == SET_CONFLICT) {
        for (int i = 0; i < c.req.n; ++i) {
            const RowVerdict* v = &c.out.verdicts[i];
            Datum vals[4] = {range_datum(c.req.ranges[i]), (Datum)0,
                             PointerGetDatum(int8_array(v->ids, v->fits ? 0 : v->n_ids)),
                             v->fits ? (Datum)0 : CStringGetTextDatum(v->reason)};
            bool nulls[4] = {false, true, false, v->fits};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
        }
    } else {
        for (int i = 0; i < c.out.n_rows; ++i) {
            HeapTupleHeader h = DatumGetHeapTupleHeader(c.out.rows[i]);
            bool isnull;
            Datum vals[4] = {booking_field(h, "during", &isnull), booking_field(h, "id", &isnull),
                             PointerGetDatum(int8_array(NULL, 0)), (Datum)0};
            bool nulls[4] = {false, false, false, true};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, nulls);
        }
    }
    MemoryContextSwitchTo(old);
    if (c.opened) close_booking(&c.rels, RowExclusiveLock);
    SPI_finish();
    leave_api(&scope);
    return (Datum)0;
}

extern "C" Datum sg_cancel_series(PG_FUNCTION_ARGS) {
    require_writable("cancel_series");
    CallerScope scope = enter_api(fcinfo, "cancel_series");
    require_arg(fcinfo, 0, "series_id");
    int64 id = PG_GETARG_INT64(0);
    Datum from = PG_ARGISNULL(1) ? (Datum)0 : PG_GETARG_DATUM(1);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    const Confinement* conf = &scope.conf;
    SPI_connect();
    // Whose series it is, before any lock: another's is P0002 at once, as
    // an unknown id, and the caller never waits on rows that are not its own.
    Datum ov[1] = {Int64GetDatum(id)};
    // Every row: an owner's direct UPDATE may have changed one's holder.
    run_latest(series_plan(SPLAN_SERIES_OWNER), ov, NULL, conf->confined ? 0 : 1);
    if (SPI_processed == 0) raise_unknown_series(id);
    for (uint64 r = 0; conf->confined && r < SPI_processed; ++r) {
        CHECK_FOR_INTERRUPTS();
        bool knull, hnull;
        Datum k = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &knull);
        Datum h = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &hnull);
        if (knull || !tenant_allowed(conf, DatumGetTextPP(k)) || !holder_allowed(conf, hnull ? NULL : DatumGetTextPP(h)))
            raise_unknown_series(id);
    }
    Datum v[2] = {Int64GetDatum(id), from};
    char nulls[3] = "  ";
    if (PG_ARGISNULL(1)) nulls[1] = 'n';
    // The rows in id order first (one order for every canceller), then the
    // change: cancelling frees capacity and needs no check, as cancel_booking.
    if (SPI_execute_plan(series_plan(SPLAN_SERIES_LOCK), v, nulls, false, 0) != SPI_OK_SELECT)
        elog(ERROR, "slotguard: locking the series failed");
    int mark = begin_internal_write();
    int rc = SPI_execute_plan(series_plan(SPLAN_SERIES_CANCEL), v, nulls, false, 0);
    end_internal_write(mark);
    if (rc != SPI_OK_UPDATE_RETURNING) elog(ERROR, "slotguard: cancelling the series failed");
    int n = (int)SPI_processed;
    if (n > 0) {
        int64* ids = (int64*)palloc(sizeof(int64) * n);
        text** keys = (text**)palloc(sizeof(text*) * n);
        Datum* freed = (Datum*)palloc(sizeof(Datum) * n);
        for (int i = 0; i < n; ++i) {
            bool isnull;
            ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
            keys[i] = DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
            freed[i] = datumCopy(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull), false, -1);
        }
        Datum rv[1] = {PointerGetDatum(int8_array(ids, n))};
        mark = begin_internal_write();
        run_latest(series_plan(SPLAN_RELEASE_MANY), rv, NULL, 0);
        end_internal_write(mark);
        // The capacity of these bookings is free now: offered to the
        // waitlist in this transaction, as cancel_booking does (§12).
        for (int i = 0; i < n; ++i) {
            CHECK_FOR_INTERRUPTS();
            offer_freed(keys[i], freed[i]);
        }
    }
    if (SPI_execute_plan(series_plan(SPLAN_SERIES_SCOPE), v, nulls, false, 0) != SPI_OK_SELECT)
        elog(ERROR, "slotguard: reading the series failed");
    int n_rows = (int)SPI_processed;
    Datum* rows = (Datum*)palloc(sizeof(Datum) * (n_rows > 0 ? n_rows : 1));
    for (int r = 0; r < n_rows; ++r) {
        bool isnull;
        rows[r] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
    }
    put_rows(rsinfo, rows, n_rows);
    SPI_finish();
    leave_api(&scope);
    return (Datum)0;
}
