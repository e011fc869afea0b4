// Direct writes of a resource's rules (API.md §10; docs/availability.md,
// "Direct writes"): the owner's INSERT/UPDATE of the policy columns of
// slotguard.resource and INSERT/UPDATE/DELETE/TRUNCATE of
// slotguard.resource_exception are rule changes like set_policy, set_hours,
// add_closure, add_opening and remove_exception:
//   * they take the resource lock exclusively (waiting for the booking
//     checks in flight, which hold it shared until commit, and holding new
//     ones off until commit) and bump resource.rules_version (a check that
//     read the rules before sees the change and starts again; caches of a
//     resource's exceptions are keyed by it);
//   * the new values are validated as the API validates them (22023);
//   * a change that would strand an active booking is refused (23P01, as
//     the API without force), except under session_replication_role =
//     replica, where the origin decided (it may have used force): there it
//     is applied and the stranded bookings are listed in a NOTICE;
//   * a closure deleted (or moved) offers its old time to the waitlist, as
//     remove_exception does (not under replica: the origin's offers
//     replicate).
// The API's own writes are marked internal (schedule_api.cpp, run_write)
// and skip all this: it does the same itself, once.
#include "schedule/schedule.hpp"
#include "engine/spi_plans.hpp"
#include "waitlist/waitlist.hpp"

extern "C" {
#include "utils/datum.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_resource_rules_guard);
PG_FUNCTION_INFO_V1(sg_resource_exception_changed);
}

namespace sgpg {
namespace {

bool replica_role(void) { return SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA; }

SPIPlanPtr plan_cache[3];
SPIPlanPtr dplan(int i, const char* sql, int nargs, const Oid* types) {
    return kept_plan(&plan_cache[i], sql, nargs, types);
}

const char* const rule_columns[] = {"timezone",     "min_notice",  "max_advance",            "min_duration",
                                    "max_duration", "max_per_day", "max_per_holder_per_day", "hours"};

// The rule values of a resource row, checked as set_policy and set_hours
// check them (22023): a bad zone or hours text would otherwise fail every
// later booking of the resource.
void validate_rules(HeapTuple row, TupleDesc desc) {
    bool isnull;
    Datum tz = heap_getattr(row, column_of(desc, "timezone"), desc, &isnull);
    if (!isnull) {
        text* t = DatumGetTextPP(tz);
        check_key_length(t, "timezone");
        check_timezone_name(text_to_cstring(t));
    }
    Datum h = heap_getattr(row, column_of(desc, "hours"), desc, &isnull);
    if (!isnull) {
        char* s = TextDatumGetCString(h);
        int n;
        (void)parse_hours_text(s, strlen(s), &n);
    }
    bool has_min, has_max;
    Datum dmin = heap_getattr(row, column_of(desc, "min_duration"), desc, &has_min);
    Datum dmax = heap_getattr(row, column_of(desc, "max_duration"), desc, &has_max);
    has_min = !has_min;
    has_max = !has_max;
    if (has_min && has_max &&
        interval_micros(DatumGetIntervalP(dmin), "min_duration") >
            interval_micros(DatumGetIntervalP(dmax), "max_duration"))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("min_duration is longer than max_duration")));
}

HeapTuple with_version(HeapTuple row, TupleDesc desc, int64 version) {
    int cols[1] = {column_of(desc, "rules_version")};
    Datum vals[1] = {Int64GetDatum(version)};
    bool nulls[1] = {false};
    return heap_modify_tuple_by_cols(row, desc, 1, cols, vals, nulls);
}

// --- resource_exception ----------------------------------------------------------

struct ExRow {
    text* key;
    bool closure, opening;
    Datum during;
    bool strands;  // may strand a booking: a new closure, an opening that went (or moved)
};

int cmp_ex_key(const void* a, const void* b) {
    const ExRow* x = (const ExRow*)a;
    const ExRow* y = (const ExRow*)b;
    size_t lx = VARSIZE_ANY_EXHDR(x->key), ly = VARSIZE_ANY_EXHDR(y->key);
    int c = memcmp(VARDATA_ANY(x->key), VARDATA_ANY(y->key), Min(lx, ly));
    if (c != 0) return c;
    return lx < ly ? -1 : lx > ly;
}

// Appends the rows of a transition table to rows (copies in the current context).
void read_transition(Tuplestorestate* ts, TupleDesc desc, ExRow** rows, int* n, int* cap) {
    if (ts == NULL) return;
    AttrNumber c_key = column_of(desc, "resource_key"), c_kind = column_of(desc, "kind"),
               c_during = column_of(desc, "during");
    TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    tuplestore_rescan(ts);
    while (tuplestore_gettupleslot(ts, true, false, slot)) {
        CHECK_FOR_INTERRUPTS();
        if (*n == *cap) {
            *cap = *cap * 2 + 16;
            *rows = *rows == NULL ? (ExRow*)palloc(sizeof(ExRow) * *cap)
                                  : (ExRow*)repalloc(*rows, sizeof(ExRow) * *cap);
        }
        bool isnull;
        ExRow* r = &(*rows)[(*n)++];
        r->key = DatumGetTextPCopy(slot_getattr(slot, c_key, &isnull));
        text* kind = DatumGetTextPP(slot_getattr(slot, c_kind, &isnull));
        r->closure = text_is(kind, "closure");
        r->opening = text_is(kind, "opening");
        r->during = datumCopy(slot_getattr(slot, c_during, &isnull), false, -1);
    }
    ExecDropSingleTupleTableSlot(slot);
}

void bump_version(text* key) {
    static const Oid t[1] = {TEXTOID};
    Datum v[1] = {PointerGetDatum(key)};
    int mark = begin_internal_write();
    int rc = run_latest(dplan(0, "UPDATE slotguard.resource SET rules_version = rules_version + 1 WHERE key = $1", 1, t),
                        v, NULL, 0);
    end_internal_write(mark);
    if (rc != SPI_OK_UPDATE) elog(ERROR, "slotguard: rules_version bump failed");
}

const char* const exception_change = "a direct write of slotguard.resource_exception";

// TRUNCATE: every resource with rules. The table's ACCESS EXCLUSIVE lock
// already waits for (and holds off) every booking check that reads it;
// the resource locks serialise with the rest as for any rule change.
void truncated(void) {
    run_latest(dplan(1,
                     "SELECT key, hours IS NOT NULL FROM slotguard.resource WHERE rules_version > 0 "
                     "ORDER BY key COLLATE \"C\"",
                     0, NULL),
               NULL, NULL, 0);
    uint64 n = SPI_processed;
    SPITupleTable* tt = SPI_tuptable;
    text** keys = (text**)palloc(sizeof(text*) * (n > 0 ? n : 1));
    bool* hours = (bool*)palloc(sizeof(bool) * (n > 0 ? n : 1));
    for (uint64 i = 0; i < n; ++i) {
        bool isnull;
        keys[i] = DatumGetTextPCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
        hours[i] = DatumGetBool(SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull));
    }
    for (uint64 i = 0; i < n; ++i) {
        CHECK_FOR_INTERRUPTS();
        lock_resource(keys[i], ExclusiveLock);
        bump_version(keys[i]);
    }
    CommandCounterIncrement();
    // Openings gone: only a resource with weekly hours can be stranded.
    for (uint64 i = 0; i < n; ++i)
        if (hours[i]) check_stranded_bookings(keys[i], replica_role(), exception_change);
    // Closures gone: their time is free again.
    if (!replica_role())
        for (uint64 i = 0; i < n; ++i) offer_freed(keys[i], (Datum)0);
}

void rows_changed(TriggerData* td) {
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    ExRow* rows = NULL;
    int n = 0, cap = 0;
    read_transition(td->tg_oldtable, desc, &rows, &n, &cap);
    int n_old = n;
    // Old rows first: the closures they held are offered below.
    read_transition(td->tg_newtable, desc, &rows, &n, &cap);
    if (n == 0) return;
    bool* is_old = (bool*)palloc(sizeof(bool) * n);
    for (int i = 0; i < n; ++i) is_old[i] = i < n_old;
    for (int i = 0; i < n; ++i) rows[i].strands = is_old[i] ? rows[i].opening : rows[i].closure;
    // Offers: the old closures (origin only), in statement order.
    ExRow* freed = (ExRow*)palloc(sizeof(ExRow) * (n_old > 0 ? n_old : 1));
    int n_freed = 0;
    for (int i = 0; i < n_old; ++i)
        if (rows[i].closure) freed[n_freed++] = rows[i];
    // One lock, bump and check per resource, in key order (two direct
    // writes never lock the same resources in opposite orders).
    qsort(rows, n, sizeof(ExRow), cmp_ex_key);
    int n_keys = 0;
    for (int i = 0; i < n; ++i) {
        if (n_keys > 0 && cmp_ex_key(&rows[n_keys - 1], &rows[i]) == 0) {
            rows[n_keys - 1].strands = rows[n_keys - 1].strands || rows[i].strands;
            continue;
        }
        rows[n_keys++] = rows[i];
    }
    for (int i = 0; i < n_keys; ++i) {
        CHECK_FOR_INTERRUPTS();
        lock_resource(rows[i].key, ExclusiveLock);
        bump_version(rows[i].key);
    }
    CommandCounterIncrement();
    for (int i = 0; i < n_keys; ++i)
        if (rows[i].strands) check_stranded_bookings(rows[i].key, replica_role(), exception_change);
    if (!replica_role())
        for (int i = 0; i < n_freed; ++i) offer_freed(freed[i].key, freed[i].during);
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

// slotguard.resource: BEFORE INSERT (rule columns set), BEFORE UPDATE and
// AFTER UPDATE (rule columns or rules_version changed), direct writes only
// (WHEN booking_guard_needed()).
extern "C" Datum sg_resource_rules_guard(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "slotguard.resource_rules_guard() must be called as a trigger");
    TriggerData* td = (TriggerData*)fcinfo->context;
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    bool update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
    HeapTuple row = update ? td->tg_newtuple : td->tg_trigtuple;
    if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event))
        elog(ERROR, "slotguard.resource_rules_guard() must fire for each row on INSERT or UPDATE");
    if (internal_write_in_trigger()) return PointerGetDatum(TRIGGER_FIRED_BEFORE(td->tg_event) ? row : NULL);
    bool isnull;
    text* key = DatumGetTextPP(heap_getattr(row, column_of(desc, "key"), desc, &isnull));
    if (TRIGGER_FIRED_BEFORE(td->tg_event)) {
        validate_rules(row, desc);
        int64 version = DatumGetInt64(heap_getattr(row, column_of(desc, "rules_version"), desc, &isnull));
        if (!update) {
            // A new resource with rules: they count from now (0 means none).
            return PointerGetDatum(version > 0 ? row : with_version(row, desc, 1));
        }
        HeapTuple old = td->tg_trigtuple;
        text* old_key = DatumGetTextPP(heap_getattr(old, column_of(desc, "key"), desc, &isnull));
        lock_resource(old_key, ExclusiveLock);
        if (!same_text(old_key, key)) lock_resource(key, ExclusiveLock);
        // Whatever the statement set: one more than before, so a booking
        // check that read the old rules starts again, and caches keyed by
        // the version are not reused.
        int64 was = DatumGetInt64(heap_getattr(old, column_of(desc, "rules_version"), desc, &isnull));
        return PointerGetDatum(with_version(row, desc, was + 1));
    }
    if (!update) return PointerGetDatum(NULL);
    SPI_connect();
    // The statement's rows, visible to the check's reads.
    CommandCounterIncrement();
    check_stranded_bookings(key, replica_role(), "a direct UPDATE of slotguard.resource");
    SPI_finish();
    return PointerGetDatum(NULL);
}

// slotguard.resource_exception: AFTER INSERT/UPDATE/DELETE/TRUNCATE FOR EACH
// STATEMENT (with transition tables but for TRUNCATE).
extern "C" Datum sg_resource_exception_changed(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "slotguard.resource_exception_changed() must be called as a trigger");
    TriggerData* td = (TriggerData*)fcinfo->context;
    if (internal_write_in_trigger()) return PointerGetDatum(NULL);
    SPI_connect();
    if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
        truncated();
    else
        rows_changed(td);
    SPI_finish();
    return PointerGetDatum(NULL);
}
