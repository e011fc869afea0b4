// The guard on slotguard.booking itself: direct INSERT/UPDATE by the owner
// (or a restore) goes through the same capacity check as the API, the
// §10 rules (opening hours, closures, busy time, duration, notice, advance,
// per-day limits) when the write makes a booking take time it did not take
// before, and a direct UPDATE/DELETE that frees capacity offers it to the
// waitlist (§12). docs/availability.md, "Direct writes".
#include "workers/workers.hpp"
#include "bookings/plans.hpp"
#include "schedule/schedule.hpp"
#include "waitlist/waitlist.hpp"

extern "C" {
#include "utils/acl.h"
}

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
    bool live;     // confirmed or held (a lapsed hold nobody expired yet included)
    text* holder;  // NULL when NULL
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
    v.live = strcmp(status, "confirmed") == 0 || strcmp(status, "held") == 0;
    Datum h = heap_getattr(row, column_of(desc, "holder"), desc, &isnull);
    v.holder = isnull ? NULL : DatumGetTextPP(h);
    v.c_blocked = column_of(desc, "blocked");
    return v;
}

bool replica_role(void) { return SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA; }

bool same_holder(text* a, text* b) { return a == NULL ? b == NULL : b != NULL && same_text(a, b); }

// What a direct write asks of the §10 rules (API.md §10). A row that takes
// time it did not take before obeys them: an INSERT of an active booking,
// an UPDATE that makes a booking active again, moves it (during or
// resource), adds seats or gives it to another holder. Anything else (a
// note in metadata, a cancel, fewer seats, held -> confirmed of a live
// hold) is never refused by a rule, so a DBA can always annotate or cancel
// a booking that rules added later (with force) or the passing time now
// break. min_notice and max_advance judge new times only (an INSERT, a
// move), and not under session_replication_role = replica, where the
// origin's clock decided them.
struct RuleScope {
    bool rules;   // check hours, closures, busy time, duration, per-day limits
    bool timing;  // and min_notice / max_advance
};

RuleScope rule_scope(const RowView* now, HeapTuple old, TupleDesc desc) {
    RuleScope s = {false, false};
    if (!now->active) return s;
    bool moved = true;
    if (old != NULL) {
        RowView was = view_row(old, desc);
        moved = !same_text(now->key, was.key) ||
                !(span_of(decode_range(now->during)) == span_of(decode_range(was.during)));
        s.rules = !was.active || moved || now->seats > was.seats || !same_holder(now->holder, was.holder);
    } else {
        s.rules = true;
    }
    s.timing = s.rules && moved && !replica_role();
    return s;
}

// The resource's rules without min_notice and max_advance (res->rules replaced).
void without_timing(ResourceInfo* res) {
    ResourceRules* relaxed = (ResourceRules*)palloc(sizeof(ResourceRules));
    *relaxed = *res->rules;
    relaxed->policy.has_min_notice = relaxed->policy.has_max_advance = false;
    res->rules = relaxed;
}

// When an INSERTed booking was made, for min_notice and max_advance: now,
// but for the table's owner (or a superuser), who could switch the trigger
// off anyway, the row's created_at when that lies in the past. So a
// pg_restore (COPY of rows made long ago, by the owner) is judged as the
// bookings were when they were made, while a role merely granted INSERT
// cannot backdate its way around the notice.
TimestampTz made_at(HeapTuple row, TupleDesc desc, Oid relid) {
    TimestampTz now = GetCurrentTransactionStartTimestamp();
    AttrNumber c = column_if_exists(desc, "created_at");
    if (c == InvalidAttrNumber) return now;
    bool isnull;
    Datum at = heap_getattr(row, c, desc, &isnull);
    if (isnull || DatumGetTimestampTz(at) >= now || !pg_class_ownercheck(relid, GetUserId())) return now;
    return DatumGetTimestampTz(at);
}

// min_notice and max_advance of a booking made at `at` (the core's check,
// with only those two rules); the DETAIL when broken, else NULL.
char* timing_refusal(const ResourceRules* r, const TsRange& during, TimestampTz at) {
    SchedPolicy p = {};
    p.has_min_notice = r->policy.has_min_notice;
    p.min_notice = r->policy.min_notice;
    p.has_max_advance = r->policy.has_max_advance;
    p.max_advance = r->policy.max_advance;
    if (!p.has_min_notice && !p.has_max_advance) return NULL;
    int64 lo = during.lower_inc ? during.lower : during.lower + 1;
    int64 hi = during.upper_inc ? during.upper + 1 : during.upper;
    SchedZone utc = {NULL, 0};
    sg::sched::RuleVerdict v;
    BridgeError err;
    if (!bridge_check_rules(p, utc, NULL, 0, lo, hi, lo, hi, at, &v, &err)) raise_bridge_error(err);
    auto text_of = [](int64 us) {
        return DatumGetCString(DirectFunctionCall1(interval_out, PointerGetDatum(micros_interval(us))));
    };
    const char* when = DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(at)));
    if (v.rule == sg::sched::RuleBroken::MinNotice)
        return psprintf("min_notice: a booking must start at least %s after it is made (%s)", text_of(p.min_notice),
                        when);
    if (v.rule == sg::sched::RuleBroken::MaxAdvance)
        return psprintf("max_advance: a booking must start within %s after it is made (%s)", text_of(p.max_advance),
                        when);
    return NULL;
}

// BEFORE: validate and derive blocked from the resource's buffers; the
// static §10 rules (under the resource lock, so no rule change is in
// flight: it takes the lock exclusively), before anything is written.
HeapTuple derive_blocked(HeapTuple row, HeapTuple old, TupleDesc desc, Oid relid) {
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
    check_seats_fit(v.seats, res.capacity, v.key);
    TsRange blocked_range = widen_range(during, res.before_us, res.after_us);
    RuleScope scope = rule_scope(&v, old, desc);
    if (scope.rules && res.rules != NULL) {
        const ResourceRules* all = res.rules;
        // A backdated INSERT (see made_at) is judged at its own time.
        TimestampTz at = scope.timing && old == NULL ? made_at(row, desc, relid) : 0;
        bool own_clock = scope.timing && old == NULL && at != GetCurrentTransactionStartTimestamp();
        if (!scope.timing || own_clock) without_timing(&res);
        RuleRefusal refusal;
        if (!check_booking_rules(&res, v.key, during, blocked_range, &refusal))
            raise_rule_refusal(v.key, during, refusal.detail, NULL, 0, false);
        char* late = own_clock ? timing_refusal(all, during, at) : NULL;
        if (late != NULL) raise_rule_refusal(v.key, during, late, NULL, 0, false);
    }
    SPI_finish();
    Datum blocked = range_datum(blocked_range);
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

// A direct UPDATE or DELETE that frees what a booking took: its old row
// was confirmed or held (a lapsed hold nobody expired yet included, as
// cancel_booking does) and its new row is deleted, cancelled or expired,
// on another resource or range, or has fewer seats. The old range is
// offered to the waitlist (API.md §12), once per row. (A hold whose
// hold_expires_at a statement moves into the past lapses like any hold:
// expire_holds offers it.) Not under session_replication_role = replica:
// the origin makes its offers, and they replicate.
void offer_old_range(HeapTuple old, const RowView* now, TupleDesc desc) {
    if (replica_role()) return;
    RowView was = view_row(old, desc);
    if (!was.live) return;
    bool freed = now == NULL || !now->live || !same_text(now->key, was.key) || now->seats < was.seats ||
                 !(span_of(decode_range(now->during)) == span_of(decode_range(was.during)));
    if (freed) offer_freed(was.key, was.during);
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
        if (old != NULL) offer_old_range(old, &v, desc);
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
    // §10: the per-day limits are admission targets like capacity (the
    // static rules were checked BEFORE). Each waits out the writers that
    // decide it, as the capacity check does.
    RuleScope scope = rule_scope(&v, old, desc);
    if (scope.rules && res.rules != NULL) {
        AdmitTarget days[2];
        int n_days = day_limit_targets(&res, &rels, v.key, decode_range(v.during), v.holder, NULL, days);
        for (int i = 0; i < n_days; ++i) {
            AdmitResult dr;
            if (!admit_written_row(&days[i], &row->t_self, &dr))
                raise_rule_refusal(v.key, decode_range(v.during),
                                   day_limit_detail(&days[i], id_list(dr.conflict_ids, dr.n_conflicts)), NULL, 0,
                                   false);
        }
    }
    close_booking(&rels, RowExclusiveLock);
    // Workers follow their booking: re-checked when it moves, and when it
    // becomes active again (revived hold, un-cancelled, confirmed).
    if (old != NULL) {
        RowView was = view_row(old, desc);
        if (!was.active || !(span_of(decode_range(was.during)) == span_of(decode_range(v.during))))
            move_workers(id, v.during);
        offer_old_range(old, &v, desc);
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
    HeapTuple old = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_trigtuple : NULL;
    if (TRIGGER_FIRED_BY_DELETE(td->tg_event)) {
        // (1.2) AFTER DELETE (booking_freed_after): the deleted row's time
        // is offered to the waitlist.
        if (before) return PointerGetDatum(row);
        SPI_connect();
        offer_old_range(row, NULL, desc);
        SPI_finish();
        return PointerGetDatum(NULL);
    }
    if (before) return PointerGetDatum(derive_blocked(row, old, desc, RelationGetRelid(td->tg_relation)));
    check_row(row, old, desc);
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
