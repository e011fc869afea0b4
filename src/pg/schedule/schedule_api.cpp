// SQL entry points of API.md §10: set_policy, set_hours, add_closure,
// add_opening, remove_exception, sync_busy, opening.
//
// Every rule change takes the resource lock exclusively (so it waits for
// the booking checks in flight, which hold it shared until commit, and
// holds new ones off until it commits), bumps resource.rules_version (a
// check that read the rules before the lock sees the change and starts
// again), and then checks the resource's active bookings against the new
// rules: 23P01, changing nothing, unless force.
#include "schedule/schedule.hpp"
#include "engine/spi_plans.hpp"
#include "waitlist/waitlist.hpp"

#include "lib/stringinfo.h"

extern "C" {
#include "utils/date.h"
#include "utils/datum.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_set_policy);
PG_FUNCTION_INFO_V1(sg_set_hours);
PG_FUNCTION_INFO_V1(sg_add_closure);
PG_FUNCTION_INFO_V1(sg_add_opening);
PG_FUNCTION_INFO_V1(sg_remove_exception);
PG_FUNCTION_INFO_V1(sg_sync_busy);
PG_FUNCTION_INFO_V1(sg_opening);
}

namespace sgpg {
namespace {

constexpr int max_busy_blocks = 10000;  // elements of one sync_busy call
constexpr int64 opening_chunk = 366 * USECS_PER_DAY;

SPIPlanPtr plan_cache[16];
SPIPlanPtr splan(int i, const char* sql, int nargs, const Oid* types) {
    return kept_plan(&plan_cache[i], sql, nargs, types);
}

// The API's own writes of resource and resource_exception: checked here,
// so the direct-write triggers on those tables (direct_rules.cpp) let them through.
void run_write(SPIPlanPtr p, Datum* v, const char* n, int expect) {
    int mark = begin_internal_write();
    int rc = run_latest(p, v, n, 0);
    end_internal_write(mark);
    if (rc != expect) elog(ERROR, "slotguard: rule statement failed (%d)", rc);
}

bool force_arg(FunctionCallInfo fcinfo, int argno) {
    require_arg(fcinfo, argno, "force");
    return PG_GETARG_BOOL(argno);
}

text* optional_text(FunctionCallInfo fcinfo, int argno, const char* name) {
    if (PG_ARGISNULL(argno)) return NULL;
    text* t = PG_GETARG_TEXT_PP(argno);
    check_key_length(t, name);
    return t;
}

// The start of every rule change: the tenant may be written, the resource
// lock is held exclusively, the resource exists (created as a booking
// would create it), and its rules_version is bumped. SPI connected.
void begin_rule_change(const CallerScope* scope, text* key) {
    require_tenant_write(&scope->conf, key, "change a resource");
    lock_resource(key, ExclusiveLock);
    (void)read_resource(key, true);
    static const Oid t[1] = {TEXTOID};
    Datum v[1] = {PointerGetDatum(key)};
    run_write(splan(0, "UPDATE slotguard.resource SET rules_version = rules_version + 1 WHERE key = $1", 1, t), v,
              NULL, SPI_OK_UPDATE);
    CommandCounterIncrement();
}

struct DayKey {
    int64 day;
    char* holder;
    int64 id;
};
int cmp_day(const void* a, const void* b) {
    const DayKey* x = (const DayKey*)a;
    const DayKey* y = (const DayKey*)b;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}
int cmp_day_holder(const void* a, const void* b) {
    const DayKey* x = (const DayKey*)a;
    const DayKey* y = (const DayKey*)b;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    int c = strcmp(x->holder ? x->holder : "", y->holder ? y->holder : "");
    if (c != 0) return c;
    return x->id < y->id ? -1 : x->id > y->id;
}

// After a rule change (SPI connected, CommandCounterIncrement done): the
// active bookings of `key` that break the new rules. Notice and advance
// are about when a booking is made, and busy time is reported by sync_busy,
// so neither strands a booking. 23P01 unless force (then a NOTICE).
void check_stranded(text* key, bool force, const char* what) {
    ResourceInfo res;
    if (!find_resource(key, &res) || res.rules == NULL) return;
    ResourceRules relaxed = *res.rules;
    relaxed.policy.has_min_notice = relaxed.policy.has_max_advance = false;
    res.rules = &relaxed;
    static const Oid t[1] = {TEXTOID};
    Datum v[1] = {PointerGetDatum(key)};
    run_latest(splan(1,
                     "SELECT id, during, blocked, holder FROM slotguard.booking WHERE resource_key = $1 "
                     "AND (status = 'confirmed' OR (status = 'held' AND hold_expires_at > now())) ORDER BY id",
                     1, t),
               v, NULL, 0);
    uint64 n = SPI_processed;
    SPITupleTable* tt = SPI_tuptable;
    StringInfoData broken;
    initStringInfo(&broken);
    int n_broken = 0;
    DayKey* days = (DayKey*)palloc(sizeof(DayKey) * (n > 0 ? n : 1));
    for (uint64 i = 0; i < n; ++i) {
        CHECK_FOR_INTERRUPTS();
        bool isnull;
        int64 id = DatumGetInt64(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
        TsRange during = decode_range(SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull));
        TsRange blocked = decode_range(SPI_getbinval(tt->vals[i], tt->tupdesc, 3, &isnull));
        Datum h = SPI_getbinval(tt->vals[i], tt->tupdesc, 4, &isnull);
        days[i].holder = isnull ? NULL : TextDatumGetCString(h);
        days[i].id = id;
        RuleRefusal rr;
        // Busy time does not strand: only the rules of this change.
        if (!check_booking_rules_ex(&res, key, during, blocked, true, &rr)) {
            if (n_broken < max_listed_ids)
                appendStringInfo(&broken, "%sbooking " INT64_FORMAT ": %s", n_broken ? "; " : "", id, rr.detail);
            ++n_broken;
        }
        int64 lo = during.lower_inc ? during.lower : during.lower + 1;
        if (relaxed.has_max_per_day || relaxed.has_max_per_holder) {
            SchedZone z = zone_table(relaxed.timezone, lo - 2 * USECS_PER_DAY, lo + 2 * USECS_PER_DAY);
            sg::sched::Interval iv[4];
            int niv;
            BridgeError err;
            if (!bridge_local_day(z, lo, lo, lo + 1, &days[i].day, iv, &niv, &err)) raise_bridge_error(err);
        }
    }
    // Per-day limits: count each local day (and holder's day).
    for (int pass = 0; pass < 2; ++pass) {
        bool on = pass == 0 ? relaxed.has_max_per_day : relaxed.has_max_per_holder;
        int limit = pass == 0 ? relaxed.max_per_day : relaxed.max_per_holder;
        if (!on || n == 0) continue;
        qsort(days, n, sizeof(DayKey), pass == 0 ? cmp_day : cmp_day_holder);
        uint64 run = 0;
        for (uint64 i = 0; i < n; ++i) {
            bool same = i > 0 && days[i].day == days[i - 1].day &&
                        (pass == 0 || strcmp(days[i].holder ? days[i].holder : "",
                                             days[i - 1].holder ? days[i - 1].holder : "") == 0);
            run = same ? run + 1 : 1;
            if (pass == 1 && days[i].holder == NULL) continue;
            if (run > (uint64)limit) {
                if (n_broken < max_listed_ids)
                    appendStringInfo(&broken, "%sbooking " INT64_FORMAT ": %s", n_broken ? "; " : "", days[i].id,
                                     pass == 0 ? "max_per_day" : "max_per_holder_per_day");
                ++n_broken;
            }
        }
    }
    if (n_broken == 0) return;
    if (n_broken > max_listed_ids) appendStringInfo(&broken, "; and %d more", n_broken - max_listed_ids);
    if (force) {
        ereport(NOTICE, (errmsg("%s on resource \"%s\" leaves %d active booking%s breaking the rules", what,
                                text_to_cstring(key), n_broken, n_broken == 1 ? "" : "s"),
                         errdetail("%s.", broken.data)));
        return;
    }
    ereport(ERROR, (errcode(ERRCODE_EXCLUSION_VIOLATION),
                    errmsg("%s on resource \"%s\" would strand %d active booking%s", what, text_to_cstring(key),
                           n_broken, n_broken == 1 ? "" : "s"),
                    errdetail("%s.", broken.data),
                    errhint("Move or cancel those bookings first, or pass force => true to keep them as they are.")));
}

int64 nonnegative_interval(FunctionCallInfo fcinfo, int argno, const char* name, bool* has) {
    *has = !PG_ARGISNULL(argno);
    if (!*has) return 0;
    int64 us = interval_micros(PG_GETARG_INTERVAL_P(argno), name);
    if (us < 0) ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be negative", name)));
    return us;
}

int64 insert_exception(text* key, const char* kind, Datum during, text* reason) {
    static const Oid t[4] = {TEXTOID, TEXTOID, TSTZRANGEOID, TEXTOID};
    Datum v[4] = {PointerGetDatum(key), CStringGetTextDatum(kind), during, PointerGetDatum(reason)};
    char n[5] = "    ";
    if (reason == NULL) n[3] = 'n';
    run_write(splan(2,
                    "INSERT INTO slotguard.resource_exception (resource_key, kind, during, reason) "
                    "VALUES ($1, $2, $3, $4) RETURNING id",
                    4, t),
              v, n, SPI_OK_INSERT_RETURNING);
    bool isnull;
    int64 id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    CommandCounterIncrement();
    return id;
}

Datum add_exception(FunctionCallInfo fcinfo, const char* function, const char* kind, bool has_force) {
    require_writable(function);
    CallerScope scope = enter_api(fcinfo, function);
    text* key = key_text_arg(fcinfo, 0, "resource");
    require_arg(fcinfo, 1, "during");
    (void)checked_range(PG_GETARG_DATUM(1), "during");
    text* reason = optional_text(fcinfo, 2, "reason");
    bool force = has_force ? force_arg(fcinfo, 3) : false;
    SPI_connect();
    begin_rule_change(&scope, key);
    int64 id = insert_exception(key, kind, PG_GETARG_DATUM(1), reason);
    if (has_force) check_stranded(key, force, function);
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_INT64(id);
}

}  // namespace

void check_stranded_bookings(text* key, bool force, const char* what) { check_stranded(key, force, what); }

}  // namespace sgpg

using namespace sgpg;

extern "C" Datum sg_set_policy(PG_FUNCTION_ARGS) {
    require_writable("set_policy");
    CallerScope scope = enter_api(fcinfo, "set_policy");
    text* key = key_text_arg(fcinfo, 0, "resource");
    text* tz = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
    if (tz != NULL) {
        check_key_length(tz, "timezone");
        check_timezone_name(text_to_cstring(tz));
    }
    bool has[4];
    int64 mn = nonnegative_interval(fcinfo, 2, "min_notice", &has[0]);
    (void)nonnegative_interval(fcinfo, 3, "max_advance", &has[1]);
    int64 dmin = nonnegative_interval(fcinfo, 4, "min_duration", &has[2]);
    int64 dmax = nonnegative_interval(fcinfo, 5, "max_duration", &has[3]);
    (void)mn;
    if (has[2] && has[3] && dmin > dmax)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("min_duration is longer than max_duration")));
    for (int a = 6; a <= 7; ++a)
        if (!PG_ARGISNULL(a) && PG_GETARG_INT32(a) < 1)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("%s must be at least 1, got %d", a == 6 ? "max_per_day" : "max_per_holder_per_day",
                                   PG_GETARG_INT32(a))));
    bool force = force_arg(fcinfo, 8);
    SPI_connect();
    begin_rule_change(&scope, key);
    static const Oid t[8] = {TEXTOID, TEXTOID, INTERVALOID, INTERVALOID, INTERVALOID, INTERVALOID, INT4OID, INT4OID};
    Datum v[8];
    char n[9] = "        ";
    v[0] = PointerGetDatum(key);
    for (int a = 1; a <= 7; ++a) {
        v[a] = PG_ARGISNULL(a) ? (Datum)0 : PG_GETARG_DATUM(a);
        if (PG_ARGISNULL(a)) n[a] = 'n';
    }
    run_write(splan(3,
                    "UPDATE slotguard.resource r SET timezone = $2, min_notice = $3, max_advance = $4, "
                    "min_duration = $5, max_duration = $6, max_per_day = $7, max_per_holder_per_day = $8 "
                    "WHERE key = $1 RETURNING r",
                    8, t),
              v, n, SPI_OK_UPDATE_RETURNING);
    bool isnull;
    Datum row = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
    CommandCounterIncrement();
    check_stranded(key, force, "set_policy");
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

extern "C" Datum sg_set_hours(PG_FUNCTION_ARGS) {
    require_writable("set_hours");
    CallerScope scope = enter_api(fcinfo, "set_hours");
    text* key = key_text_arg(fcinfo, 0, "resource");
    text* hours = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
    bool force = force_arg(fcinfo, 2);
    sg::sched::WeeklySpan* spans = NULL;
    int n_spans = 0;
    if (hours != NULL) {
        char* s = text_to_cstring(hours);
        bool blank = true;
        for (char* c = s; *c && blank; ++c) blank = *c == ' ' || *c == '\t' || *c == '\n';
        if (blank) {
            hours = NULL;
        } else {
            spans = parse_hours_text(s, strlen(s), &n_spans);
        }
    }
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    begin_rule_change(&scope, key);
    static const Oid t[2] = {TEXTOID, TEXTOID};
    Datum v[2] = {PointerGetDatum(key), PointerGetDatum(hours)};
    char n[3] = "  ";
    if (hours == NULL) n[1] = 'n';
    run_write(splan(4, "UPDATE slotguard.resource SET hours = $2 WHERE key = $1", 2, t), v, n, SPI_OK_UPDATE);
    CommandCounterIncrement();
    check_stranded(key, force, "set_hours");
    MemoryContext spi = MemoryContextSwitchTo(caller);
    for (int i = 0; i < n_spans; ++i) {
        Datum row[3] = {Int32GetDatum(spans[i].isodow), TimeADTGetDatum((TimeADT)spans[i].opens * USECS_PER_MINUTE),
                        TimeADTGetDatum((TimeADT)spans[i].closes * USECS_PER_MINUTE)};
        bool nulls[3] = {false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
    }
    MemoryContextSwitchTo(spi);
    SPI_finish();
    leave_api(&scope);
    return (Datum)0;
}

extern "C" Datum sg_add_closure(PG_FUNCTION_ARGS) { return add_exception(fcinfo, "add_closure", "closure", true); }

extern "C" Datum sg_add_opening(PG_FUNCTION_ARGS) { return add_exception(fcinfo, "add_opening", "opening", false); }

extern "C" Datum sg_remove_exception(PG_FUNCTION_ARGS) {
    require_writable("remove_exception");
    CallerScope scope = enter_api(fcinfo, "remove_exception");
    require_arg(fcinfo, 0, "id");
    int64 id = PG_GETARG_INT64(0);
    bool force = force_arg(fcinfo, 1);
    SPI_connect();
    static const Oid t1[1] = {INT8OID};
    Datum v[1] = {Int64GetDatum(id)};
    bool removed = false;
    run_latest(splan(5, "SELECT resource_key, kind, during FROM slotguard.resource_exception WHERE id = $1", 1, t1), v,
               NULL, 1);
    if (SPI_processed == 1) {
        bool isnull;
        text* key = DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        char* kind = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
        Datum during = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull), false, -1);
        // Another tenant's exception is as if it did not exist.
        if (tenant_allowed(&scope.conf, key)) {
            begin_rule_change(&scope, key);
            run_write(splan(6, "DELETE FROM slotguard.resource_exception WHERE id = $1", 1, t1), v, NULL,
                      SPI_OK_DELETE);
            removed = SPI_processed == 1;
            CommandCounterIncrement();
            check_stranded(key, force, "remove_exception");
            if (removed && strcmp(kind, "closure") == 0) {
                // Removing a closure frees its time on `key`: offered to the
                // waitlist in this transaction (API.md §12).
                offer_freed(key, during);
            }
        }
    }
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_BOOL(removed);
}

extern "C" Datum sg_sync_busy(PG_FUNCTION_ARGS) {
    require_writable("sync_busy");
    CallerScope scope = enter_api(fcinfo, "sync_busy");
    text* key = key_text_arg(fcinfo, 0, "resource");
    text* source = key_text_arg(fcinfo, 1, "source");
    require_arg(fcinfo, 2, "window");
    (void)checked_range(PG_GETARG_DATUM(2), "window");
    require_arg(fcinfo, 3, "busy");
    ArrayType* busy = PG_GETARG_ARRAYTYPE_P(3);
    if (ARR_NDIM(busy) > 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("busy must be a one-dimensional array")));
    int nitems = ArrayGetNItems(ARR_NDIM(busy), ARR_DIMS(busy));
    if (nitems > max_busy_blocks)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("busy has %d blocks; the limit is %d", nitems, max_busy_blocks)));
    Datum* elems;
    bool* enulls;
    int nelems;
    deconstruct_array(busy, ARR_ELEMTYPE(busy), -1, false, TYPALIGN_DOUBLE, &elems, &enulls, &nelems);
    for (int i = 0; i < nelems; ++i) {
        CHECK_FOR_INTERRUPTS();
        if (enulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("busy must not contain NULL")));
        (void)checked_range(elems[i], "busy block");
    }
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    begin_rule_change(&scope, key);
    static const Oid t[4] = {TEXTOID, TEXTOID, TSTZRANGEOID, TSTZRANGEARRAYOID};
    Datum v[4] = {PointerGetDatum(key), PointerGetDatum(source), PG_GETARG_DATUM(2), PointerGetDatum(busy)};
    run_write(splan(7,
                    "DELETE FROM slotguard.resource_exception WHERE resource_key = $1 AND kind = 'busy' "
                    "AND reason = $2 AND during && $3",
                    3, t),
              v, NULL, SPI_OK_DELETE);
    run_write(splan(8,
                    "INSERT INTO slotguard.resource_exception (resource_key, kind, during, reason) "
                    "SELECT $1, 'busy', b OPERATOR(pg_catalog.*) $3, $2 "
                    "FROM pg_catalog.unnest($4::pg_catalog.tstzrange[]) b "
                    "WHERE NOT pg_catalog.isempty(b OPERATOR(pg_catalog.*) $3)",
                    4, t),
              v, NULL, SPI_OK_INSERT);
    CommandCounterIncrement();
    run_latest(splan(9,
                     "SELECT b.id, b.during, b.holder FROM slotguard.booking b WHERE b.resource_key = $1 "
                     "AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now())) "
                     "AND EXISTS (SELECT 1 FROM slotguard.resource_exception e WHERE e.resource_key = $1 "
                     "AND e.kind = 'busy' AND e.during && b.blocked) ORDER BY pg_catalog.lower(b.during), b.id",
                     1, t),
               v, NULL, 0);
    for (uint64 i = 0; i < SPI_processed; ++i) {
        bool isnull, hnull;
        Datum h = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &hnull);
        if (!holder_allowed(&scope.conf, hnull ? NULL : DatumGetTextPP(h))) continue;
        Datum row[2] = {SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull),
                        SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull)};
        bool nulls[2] = {false, false};
        MemoryContext spi = MemoryContextSwitchTo(caller);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
        MemoryContextSwitchTo(spi);
    }
    SPI_finish();
    leave_api(&scope);
    return (Datum)0;
}

extern "C" Datum sg_opening(PG_FUNCTION_ARGS) {
    CallerScope scope = enter_api(fcinfo, "opening");
    text* key = key_text_arg(fcinfo, 0, "resource");
    require_arg(fcinfo, 1, "search");
    TsRange search = checked_range(PG_GETARG_DATUM(1), "search");
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    ResourceInfo res = ResourceInfo{false, 1, 0, 0};
    if (!tenant_allowed(&scope.conf, key) || !find_visible_resource(key, &res)) {
        if (!auto_create_resources) raise_unknown_resource(key);
    }
    int64 lo = search.lower_inc ? search.lower : search.lower + 1;
    int64 hi = search.upper_inc ? search.upper + 1 : search.upper;
    // Pieces of a year at a time (each interruptible); a run that reaches a
    // piece's end is continued by the next piece.
    int64 pending_lo = 0, pending_hi = 0;
    bool have = false;
    auto emit = [&](int64 a, int64 b) {
        Datum r = range_datum(TsRange{a, b, true, false});
        bool isnull = false;
        MemoryContext spi = MemoryContextSwitchTo(caller);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &r, &isnull);
        MemoryContextSwitchTo(spi);
    };
    for (int64 c = lo; c < hi;) {
        CHECK_FOR_INTERRUPTS();
        int64 e = hi - c > opening_chunk ? c + opening_chunk : hi;
        TsRange piece = {c, e, true, false};
        Occupants closed = {NULL, 0, 0};
        // Closed and busy time as taken seats, then their complement.
        add_closed_occupants(&res, key, piece, GetActiveSnapshot(), false, &closed);
        int64 at = c;
        for (int i = 0; i <= closed.n; ++i) {
            int64 a, b;
            if (i < closed.n) {
                sg::Bound l = sg::decode_lower(closed.items[i].blocked.lo);
                sg::Bound u = sg::decode_upper(closed.items[i].blocked.hi);
                a = Max(l.t, c);
                b = Min(u.t, e);
            } else {
                a = b = e;
            }
            if (a > at) {
                if (have && pending_hi == at) {
                    pending_hi = a;
                } else {
                    if (have) emit(pending_lo, pending_hi);
                    pending_lo = at;
                    pending_hi = a;
                    have = true;
                }
            }
            if (b > at) at = b;
        }
        c = e;
    }
    if (have) emit(pending_lo, pending_hi);
    SPI_finish();
    leave_api(&scope);
    return (Datum)0;
}
