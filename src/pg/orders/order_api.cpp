// SQL entry points of contract §4, first-come order claims: add_order,
// set_order_ready, claim_order, claim_next_order, release_order,
// complete_order; and of §14 (1.2), orders as a work queue: fencing
// tokens, renew_lease, fail_order, priorities, claim_next_orders.
//
// Every function serves the 1.0/1.1 schema (no queue columns: the ORDER_*
// plans, 1.1's behaviour) and the 1.2 schema (ORDER_Q_*), told apart by
// whether slotguard.orders has the column claim_token (queue_schema).
//
// Every state change is one atomic UPDATE ... WHERE <state it may change
// from> ... RETURNING, the seed's fix (seeds/004: two drivers take one
// order). Concurrent callers serialise on the row lock, and PostgreSQL
// re-evaluates the WHERE of a waiting UPDATE on the row's latest version
// (READ COMMITTED EvalPlanQual), so once one of them has committed the rest
// match nothing; under REPEATABLE READ / SERIALIZABLE they fail with 40001
// instead. Either way there is never a second winner. Only when the UPDATE
// matched nothing is the row read again, to tell the caller why.
#include "stats/stats.hpp"
#include "access/access.hpp"
#include "engine/glue.hpp"
#include "orders/order_claim_next.hpp"
#include "orders/order_plans.hpp"

extern "C" {
#include "catalog/pg_collation.h"
#include "utils/varlena.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_add_order);
PG_FUNCTION_INFO_V1(sg_set_order_ready);
PG_FUNCTION_INFO_V1(sg_claim_order);
PG_FUNCTION_INFO_V1(sg_try_claim_order);
PG_FUNCTION_INFO_V1(sg_claim_next_order);
PG_FUNCTION_INFO_V1(sg_release_order);
PG_FUNCTION_INFO_V1(sg_complete_order);
PG_FUNCTION_INFO_V1(sg_renew_lease);
PG_FUNCTION_INFO_V1(sg_fail_order);
PG_FUNCTION_INFO_V1(sg_claim_next_orders);
}

namespace sgpg {
namespace {

// Under READ COMMITTED the read that explains a failed write has a newer
// snapshot than the write, so it may find the order writable again (it was
// released, or added, in between): the write is then tried again. Under
// the other levels both see the same snapshot and this never repeats. A
// row that keeps changing under us is reported as taken.
const int max_attempts = 100;

// claim_next_order looks at most this many expired claims that others took
// first before it settles for the oldest ready order.
const int max_skipped_expired = 64;

text* key_arg(FunctionCallInfo fcinfo) { return key_text_arg(fcinfo, 0, "key"); }

// The 1.2 schema: slotguard.orders has the queue columns (API.md §14).
bool queue_schema() {
    return get_attnum(slotguard_relation("orders"), "claim_token") != InvalidAttrNumber;
}

// The optional fencing token: absent on a 1.1 signature, NULL = not checked.
bool token_arg(FunctionCallInfo fcinfo, int argno, int64* token) {
    if (PG_NARGS() <= argno || PG_ARGISNULL(argno)) return false;
    *token = PG_GETARG_INT64(argno);
    return true;
}

// NULL (no filter) or a non-blank kind.
text* kind_arg(FunctionCallInfo fcinfo, int argno) {
    return PG_ARGISNULL(argno) ? NULL : key_text_arg(fcinfo, argno, "kind");
}

// The lease as an absolute expiry, now() + lease (a day is 24 h, a month
// 30 days, as for holds). False for no lease (NULL).
bool lease_arg(FunctionCallInfo fcinfo, int argno, TimestampTz* expires) {
    if (PG_ARGISNULL(argno)) return false;
    int64 us = interval_micros(PG_GETARG_INTERVAL_P(argno), "lease");
    if (us <= 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("lease must be a positive interval")));
    if (pg_add_s64_overflow(GetCurrentTransactionStartTimestamp(), us, expires) || !IS_VALID_TIMESTAMP(*expires))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("lease is too long")));
    return true;
}

// Runs a write plan ending in RETURNING o. True, and the row in the caller's
// memory context, if it wrote one.
bool write_order(OrderPlanId id, Datum* v, const char* nulls, Datum* row) {
    int rc = SPI_execute_plan(order_plan(id), v, nulls, false, 1);
    if (rc != SPI_OK_UPDATE_RETURNING && rc != SPI_OK_INSERT_RETURNING)
        elog(ERROR, "slotguard: order write failed: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0) return false;
    bool isnull;
    *row = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
    return true;
}

// An order as the read after a failed write finds it (SPI memory).
struct OrderState {
    bool found;
    char* status;
    text* claimant;      // NULL when none
    bool lease_expired;  // false when there is no lease
    Datum row;           // in the caller's memory context
    bool has_token;      // 1.2: the order has a claim_token
    int64 token;
    bool not_due;        // 1.2: ready, but ready_at is still ahead (not_before, a retry's backoff)
};

OrderState read_order(text* key) {
    OrderState s = {false, NULL, NULL, false, (Datum)0, false, 0, false};
    bool queue = queue_schema();
    Datum v[1] = {PointerGetDatum(key)};
    if (SPI_execute_plan(order_plan(queue ? ORDER_Q_READ : ORDER_READ), v, NULL, false, 1) != SPI_OK_SELECT)
        elog(ERROR, "slotguard: order lookup failed");
    if (SPI_processed == 0) return s;
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    bool isnull;
    s.found = true;
    s.status = TextDatumGetCString(SPI_getbinval(t, d, 1, &isnull));
    Datum c = SPI_getbinval(t, d, 2, &isnull);
    s.claimant = isnull ? NULL : DatumGetTextPCopy(c);
    Datum e = SPI_getbinval(t, d, 3, &isnull);
    s.lease_expired = !isnull && DatumGetBool(e);
    s.row = SPI_datumTransfer(SPI_getbinval(t, d, 4, &isnull), false, -1);
    if (queue) {
        Datum tok = SPI_getbinval(t, d, 5, &isnull);
        s.has_token = !isnull;
        if (!isnull) s.token = DatumGetInt64(tok);
        Datum nd = SPI_getbinval(t, d, 6, &isnull);
        s.not_due = !isnull && DatumGetBool(nd);
    }
    return s;
}

bool is(const OrderState& s, const char* status) { return strcmp(s.status, status) == 0; }

bool claimable(const OrderState& s) {
    return (is(s, "ready") && !s.not_due) || (is(s, "claimed") && s.lease_expired);
}

// Whether a token the caller gave is the order's current one.
bool token_current(const OrderState& s, bool has_token, int64 token) {
    return !has_token || (s.has_token && s.token == token);
}

bool held_by(const OrderState& s, text* claimant) {
    return is(s, "claimed") && s.claimant != NULL && same_text(s.claimant, claimant);
}

[[noreturn]] void raise_not_found(text* key) {
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("order \"%s\" does not exist", text_to_cstring(key))));
    pg_unreachable();
}

// 55000 for an order whose status does not allow what was asked.
[[noreturn]] void raise_wrong_state(text* key, const OrderState& s) {
    const char* why = is(s, "pending")     ? "is not ready yet"
                      : is(s, "done")      ? "is already done"
                      : is(s, "cancelled") ? "is cancelled"
                      : is(s, "dead")      ? "is dead (it failed max_attempts times)"
                      : is(s, "claimed")   ? "is claimed"
                      : s.not_due          ? "is not claimable yet (ready_at is ahead: not_before or a retry's backoff)"
                                           : "is ready";
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("order \"%s\" %s", text_to_cstring(key), why)));
    pg_unreachable();
}

// 55P03 for a claim that lost: nothing about who holds the order.
[[noreturn]] void raise_already_claimed(text* key) {
    ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE), errmsg("order \"%s\" is already claimed", text_to_cstring(key)),
                    errdetail("already claimed")));
    pg_unreachable();
}

// THE place where a stale fencing token is refused (API.md §14): every
// complete_order, release_order, fail_order and renew_lease whose token is
// not the order's current claim_token ends here, whatever else is wrong
// with the call. A change feed's "fenced" event or a stats counter hooks in
// here, and only here.
[[noreturn]] void raise_stale_token(text* key, text* claimant, int64 token, const OrderState& s) {
    stats_fenced();
    ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
                    errmsg("claim token %lld of \"%s\" on order \"%s\" is stale", (long long)token,
                           text_to_cstring(claimant), text_to_cstring(key)),
                    is(s, "claimed") && s.has_token && s.token != token
                        ? errdetail("The order was claimed again since (a newer token).")
                        : errdetail("The claim with that token has ended."),
                    errhint("The order may be held by another claim now; claim it again to go on.")));
    pg_unreachable();
}

// 55P03 for release/complete by someone who does not hold a live claim.
[[noreturn]] void raise_not_claimant(text* key, text* claimant, const OrderState& s) {
    if (held_by(s, claimant) && s.lease_expired)
        ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
                        errmsg("the lease of \"%s\" on order \"%s\" has expired", text_to_cstring(claimant),
                               text_to_cstring(key)),
                        errhint("The order may be claimed by someone else now; claim it again to go on.")));
    ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
                    errmsg("order \"%s\" is not claimed by \"%s\"", text_to_cstring(key), text_to_cstring(claimant)),
                    errhint("Only the current claimant can release, complete, fail or renew an order.")));
    pg_unreachable();
}

// A key of another tenant is as if no such order existed.
void require_visible(const Confinement* conf, text* key) {
    if (!tenant_allowed(conf, key)) raise_not_found(key);
}

// What a claimant does with its claim; all four share the fence: the
// caller's live claim, with the current token if it gives one.
enum FinishOp { FINISH_RELEASE, FINISH_COMPLETE, FINISH_RENEW, FINISH_FAIL };

// release_order, complete_order, renew_lease, fail_order.
Datum finish_claim(FunctionCallInfo fcinfo, FinishOp op, const Confinement* conf) {
    text* key = key_arg(fcinfo);
    text* claimant = key_text_arg(fcinfo, 1, "claimant");
    require_visible(conf, key);
    bool queue = queue_schema();
    bool completing = op == FINISH_COMPLETE;
    int64 token = 0;
    bool has_token = false;
    Datum v[5] = {PointerGetDatum(key), PointerGetDatum(claimant), (Datum)0, (Datum)0, (Datum)0};
    char nulls[6] = "     ";
    OrderPlanId write;
    switch (op) {
    case FINISH_RELEASE:
    case FINISH_COMPLETE:
        has_token = token_arg(fcinfo, 2, &token);
        write = queue ? (completing ? ORDER_Q_COMPLETE : ORDER_Q_RELEASE) : (completing ? ORDER_COMPLETE : ORDER_RELEASE);
        v[2] = Int64GetDatum(token);
        if (!has_token) nulls[2] = 'n';
        break;
    case FINISH_RENEW: {
        require_arg(fcinfo, 2, "lease");
        TimestampTz expires = 0;
        lease_arg(fcinfo, 2, &expires);
        has_token = token_arg(fcinfo, 3, &token);
        write = ORDER_Q_RENEW;
        v[2] = TimestampTzGetDatum(expires);
        v[3] = Int64GetDatum(token);
        if (!has_token) nulls[3] = 'n';
        break;
    }
    case FINISH_FAIL:
    default: {
        require_arg(fcinfo, 2, "error");
        text* error = PG_GETARG_TEXT_PP(2);
        if ((int64)VARSIZE_ANY_EXHDR(error) > (int64)max_metadata_bytes)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("error is %zu bytes, more than slotguard.max_metadata_bytes (%d)",
                                   (size_t)VARSIZE_ANY_EXHDR(error), max_metadata_bytes)));
        TimestampTz retry_at = 0;
        bool has_retry = false;
        if (!PG_ARGISNULL(3)) {
            int64 us = interval_micros(PG_GETARG_INTERVAL_P(3), "retry_in");
            if (us < 0)
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("retry_in must not be negative")));
            if (pg_add_s64_overflow(GetCurrentTransactionStartTimestamp(), us, &retry_at) ||
                !IS_VALID_TIMESTAMP(retry_at))
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("retry_in is too long")));
            has_retry = true;
        }
        has_token = token_arg(fcinfo, 4, &token);
        write = ORDER_Q_FAIL;
        v[2] = PointerGetDatum(error);
        v[3] = TimestampTzGetDatum(retry_at);
        v[4] = Int64GetDatum(token);
        if (!has_retry) nulls[3] = 'n';
        if (!has_token) nulls[4] = 'n';
        break;
    }
    }
    Datum row = (Datum)0;
    if ((op == FINISH_RELEASE || op == FINISH_COMPLETE) &&
        direct_finish_key(key, claimant, completing, has_token, token, &row) == KEYED_DONE)
        return row;
    SPI_connect();
    for (int attempt = 1;; ++attempt) {
        if (write_order(write, v, nulls, &row)) break;
        OrderState s = read_order(key);
        if (!s.found) raise_not_found(key);
        if (s.claimant != NULL && same_text(s.claimant, claimant) && is(s, "done")) {
            // A retried complete returns the order it completed (the same
            // claim: its token, if one is given).
            if (completing && token_current(s, has_token, token)) {
                row = s.row;
                break;
            }
            if (!has_token) raise_wrong_state(key, s);
        }
        // A token is current only while its claim is.
        if (has_token && !(is(s, "claimed") && token_current(s, has_token, token)))
            raise_stale_token(key, claimant, token, s);
        if (held_by(s, claimant) && !s.lease_expired && attempt < max_attempts) {
            CHECK_FOR_INTERRUPTS();
            continue;  // it became ours after the write's snapshot
        }
        raise_not_claimant(key, claimant, s);
    }
    SPI_finish();
    return row;
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

static Datum add_order(FunctionCallInfo fcinfo, const Confinement* conf) {
    text* key = key_arg(fcinfo);
    require_tenant_write(conf, key, "add an order");
    text* kind = kind_arg(fcinfo, 1);
    require_arg(fcinfo, 2, "ready");
    if (!PG_ARGISNULL(3)) check_metadata_size(PG_GETARG_DATUM(3), "payload");
    bool queue = queue_schema();
    // 1.2's trailing arguments (a 1.1 signature has none: their defaults).
    int32 priority = 0, max_tries = 10;
    bool has_not_before = false;
    TimestampTz not_before = 0;
    if (PG_NARGS() > 4) {
        require_arg(fcinfo, 4, "priority");
        priority = PG_GETARG_INT32(4);
        if (!PG_ARGISNULL(5)) {
            not_before = PG_GETARG_TIMESTAMPTZ(5);
            if (TIMESTAMP_NOT_FINITE(not_before))
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("not_before must be finite")));
            has_not_before = true;
        }
        require_arg(fcinfo, 6, "max_attempts");
        max_tries = PG_GETARG_INT32(6);
        if (max_tries < 1)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("max_attempts must be at least 1")));
    }
    Datum v[7] = {PointerGetDatum(key), PointerGetDatum(kind), PG_GETARG_DATUM(2),
                  PG_ARGISNULL(3) ? (Datum)0 : PG_GETARG_DATUM(3), Int32GetDatum(priority),
                  TimestampTzGetDatum(not_before), Int32GetDatum(max_tries)};
    char nulls[8] = "       ";
    if (kind == NULL) nulls[1] = 'n';
    if (PG_ARGISNULL(3)) nulls[3] = 'n';
    if (!has_not_before) nulls[5] = 'n';
    Datum row;
    SPI_connect();
    if (!write_order(queue ? ORDER_Q_ADD : ORDER_ADD, v, nulls, &row))
        ereport(ERROR, (errcode(ERRCODE_UNIQUE_VIOLATION), errmsg("order \"%s\" already exists", text_to_cstring(key))));
    SPI_finish();
    return row;
}

static Datum set_order_ready(FunctionCallInfo fcinfo, const Confinement* conf) {
    text* key = key_arg(fcinfo);
    require_visible(conf, key);
    Datum v[1] = {PointerGetDatum(key)};
    Datum row;
    SPI_connect();
    for (int attempt = 1;; ++attempt) {
        if (write_order(queue_schema() ? ORDER_Q_SET_READY : ORDER_SET_READY, v, NULL, &row)) break;
        OrderState s = read_order(key);
        if (!s.found) raise_not_found(key);
        if (is(s, "ready")) {  // already ready: unchanged (ready_at stays)
            row = s.row;
            break;
        }
        if (is(s, "pending") && attempt < max_attempts) {
            CHECK_FOR_INTERRUPTS();
            continue;
        }
        raise_wrong_state(key, s);
    }
    SPI_finish();
    return row;
}

namespace sgpg {
namespace {

// claim_order and try_claim_order: the claimed order in *row, or false when
// another claimant holds it (55P03 for claim_order, NULL for
// try_claim_order). Every other refusal raises.
bool claim(FunctionCallInfo fcinfo, Datum* row, const Confinement* conf) {
    text* key = key_arg(fcinfo);
    text* claimant = key_text_arg(fcinfo, 1, "claimant");
    require_visible(conf, key);
    TimestampTz expires = 0;
    bool has_lease = lease_arg(fcinfo, 2, &expires);
    Datum v[3] = {PointerGetDatum(key), PointerGetDatum(claimant), TimestampTzGetDatum(expires)};
    const char* nulls = has_lease ? "   " : "  n";
    // Straight on the row when the table allows (order_claim_next.cpp); a
    // loser to another claimant's live claim, the common case of a
    // contended order, is told at once.
    bool lost = false;
    KeyedOutcome direct = direct_claim_key(key, claimant, has_lease, expires, row, &lost);
    if (direct == KEYED_DONE) return true;
    if (direct == KEYED_NO_MATCH && lost) return false;
    bool won = true;
    SPI_connect();
    for (int attempt = 1;; ++attempt) {
        if (write_order(queue_schema() ? ORDER_Q_CLAIM : ORDER_CLAIM, v, nulls, row)) break;
        OrderState s = read_order(key);
        if (!s.found) raise_not_found(key);
        if (held_by(s, claimant) && !s.lease_expired) {
            // The caller's own live claim: an idempotent retry gets it back
            // as it is. The lease is not extended, so retrying can never
            // keep an order forever.
            *row = s.row;
            break;
        }
        if (claimable(s) && attempt < max_attempts) {
            CHECK_FOR_INTERRUPTS();
            continue;  // released (or added) after the write's snapshot
        }
        if (is(s, "claimed") || claimable(s)) {
            won = false;
            break;
        }
        raise_wrong_state(key, s);
    }
    SPI_finish();
    return won;
}

}  // namespace
}  // namespace sgpg

extern "C" Datum sg_claim_order(PG_FUNCTION_ARGS) {
    require_writable("claim_order");
    CallerScope scope = enter_api(fcinfo, "claim_order");
    Datum row = (Datum)0;
    if (!claim(fcinfo, &row, &scope.conf)) raise_already_claimed(key_arg(fcinfo));
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

// Losing is the common outcome of a contended claim: no error, no aborted
// transaction (or subtransaction in the caller) to pay for.
extern "C" Datum sg_try_claim_order(PG_FUNCTION_ARGS) {
    require_writable("try_claim_order");
    CallerScope scope = enter_api(fcinfo, "try_claim_order");
    Datum row = (Datum)0;
    bool won = claim(fcinfo, &row, &scope.conf);
    leave_api(&scope);
    if (!won) PG_RETURN_NULL();
    PG_RETURN_DATUM(row);
}

// Oldest claimable order first, by (ready_at, key). Claimable is ready, or
// claimed with an expired lease; the two live in different indexes (a ready
// order in orders_ready_idx, an expired claim in orders_lease_idx), so:
//   1. if no claim has expired (normally: one empty index range), claim the
//      oldest ready order; one statement, done;
//   2. else peek at the oldest expired claim E;
//   3. claim the oldest ready order older than E, if any; else take E over;
//      if someone else got E first, skip it and look again (2);
//   4. no expired claim left to take: the oldest ready order, or NULL.
// Every row is locked FOR UPDATE SKIP LOCKED, so nothing here waits for
// another session's claim.
// A confined caller claims among its tenants' orders only: no direct
// path and no fast statement, but the same steps with the plans' tenant
// variants (ORDER_*_T), which filter the same index scans by tenant.
//
// On the 1.2 schema the queue order is (priority DESC, ready_at, key) and a
// ready order is claimable once ready_at <= now(); steps 2-3 become: peek
// at the best expired claim E and the best claimable ready order R (nothing
// locked); if E comes first, take E over (skip it if someone else got it
// first, and look again), else claim the best ready order.
namespace sgpg {
namespace {

// (priority DESC, ready_at, key): whether a comes before b.
struct QueuePos {
    int32 priority;
    TimestampTz ready_at;
    text* key;
};
bool queue_before(const QueuePos& a, const QueuePos& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    if (a.ready_at != b.ready_at) return a.ready_at < b.ready_at;
    return varstr_cmp(VARDATA_ANY(a.key), VARSIZE_ANY_EXHDR(a.key), VARDATA_ANY(b.key), VARSIZE_ANY_EXHDR(b.key),
                      DEFAULT_COLLATION_OID) < 0;
}

// Runs a peek plan; false if it found nothing.
bool peek_queue(OrderPlanId id, Datum* v, QueuePos* pos) {
    if (SPI_execute_plan(order_plan(id), v, NULL, false, 1) != SPI_OK_SELECT)
        elog(ERROR, "slotguard: order queue lookup failed");
    if (SPI_processed == 0) return false;
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    bool isnull;
    pos->priority = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
    pos->ready_at = DatumGetTimestampTz(SPI_getbinval(t, d, 2, &isnull));
    pos->key = DatumGetTextPCopy(SPI_getbinval(t, d, 3, &isnull));
    return true;
}

// Everything after the direct path's attempt (`direct`), through SPI.
bool claim_next_sql(text* claimant, text* kind, bool has_lease, TimestampTz expires, const Confinement* conf,
                    DirectClaim direct, Datum* row) {
    bool by_kind = kind != NULL;
    bool confined = conf->confined;
    bool queue = queue_schema();
    // Plan variants: the kind one is id + 1, the tenant one id + 2 (+ 1 by
    // kind), whose tenants come after the other arguments.
    int variant = (confined ? 2 : 0) + (by_kind ? 1 : 0);
    Datum tenants = confined ? tenant_array(conf) : (Datum)0;
    bool claimed = false;
    SPI_connect();

    Datum v[4] = {PointerGetDatum(claimant), TimestampTzGetDatum(expires), by_kind ? PointerGetDatum(kind) : tenants,
                  tenants};
    char n[5] = "    ";
    if (!has_lease) n[1] = 'n';
    if (direct == DIRECT_CLAIM_UNUSABLE)
        claimed = write_order(queue ? (by_kind ? ORDER_Q_NEXT_FAST_KIND : ORDER_Q_NEXT_FAST)
                                    : (by_kind ? ORDER_NEXT_FAST_KIND : ORDER_NEXT_FAST),
                              v, n, row);

    Datum* skipped = (Datum*)palloc(sizeof(Datum) * max_skipped_expired);
    int n_skipped = 0;
    Datum passed_over = (Datum)0;  // 1.2: an expired claim left for a better ready order
    while (!claimed && n_skipped < max_skipped_expired) {
        CHECK_FOR_INTERRUPTS();
        Datum pv[3] = {PointerGetDatum(construct_array(skipped, n_skipped, TEXTOID, -1, false, TYPALIGN_INT)),
                       by_kind ? PointerGetDatum(kind) : tenants, tenants};
        Datum e_key;
        if (queue) {
            QueuePos e, r;
            if (!peek_queue((OrderPlanId)(ORDER_Q_PEEK_EXPIRED + variant), pv, &e)) break;
            e_key = PointerGetDatum(e.key);
            // The best claimable ready order: first if it comes before E.
            if (peek_queue((OrderPlanId)(ORDER_Q_PEEK_READY + variant), pv + 1, &r) && queue_before(r, e)) {
                passed_over = e_key;
                break;
            }
        } else {
            if (SPI_execute_plan(order_plan((OrderPlanId)(ORDER_PEEK_EXPIRED + variant)), pv, NULL, false, 1) !=
                SPI_OK_SELECT)
                elog(ERROR, "slotguard: expired claim lookup failed");
            if (SPI_processed == 0) break;
            bool isnull;
            Datum e_ready = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
            e_key = PointerGetDatum(
                DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)));
            // Ready orders that are older than E go first.
            Datum bv[6] = {PointerGetDatum(claimant), TimestampTzGetDatum(expires), e_ready, e_key,
                           by_kind ? PointerGetDatum(kind) : tenants, tenants};
            char bn[7] = "      ";
            if (!has_lease) bn[1] = 'n';
            if (write_order((OrderPlanId)(ORDER_NEXT_BEFORE + variant), bv, bn, row)) {
                claimed = true;
                break;
            }
        }
        Datum ev[3] = {e_key, PointerGetDatum(claimant), TimestampTzGetDatum(expires)};
        if (write_order(queue ? ORDER_Q_CLAIM_EXPIRED : ORDER_CLAIM_EXPIRED, ev, has_lease ? "   " : "  n", row)) {
            claimed = true;
            break;
        }
        skipped[n_skipped++] = e_key;
    }
    if (!claimed)
        claimed = write_order((OrderPlanId)((queue ? ORDER_Q_NEXT_READY : ORDER_NEXT_READY) + variant), v, n, row);
    if (!claimed && passed_over != (Datum)0) {
        // The ready orders that came first were all taken meanwhile.
        Datum ev[3] = {passed_over, PointerGetDatum(claimant), TimestampTzGetDatum(expires)};
        claimed = write_order(ORDER_Q_CLAIM_EXPIRED, ev, has_lease ? "   " : "  n", row);
    }
    SPI_finish();
    return claimed;
}

}  // namespace
}  // namespace sgpg

static Datum claim_next_order(FunctionCallInfo fcinfo, const Confinement* conf) {
    text* claimant = key_text_arg(fcinfo, 0, "claimant");
    text* kind = kind_arg(fcinfo, 1);
    TimestampTz expires = 0;
    bool has_lease = lease_arg(fcinfo, 2, &expires);
    Datum row = (Datum)0;
    DirectClaim direct = DIRECT_CLAIM_NONE;
    // Step 1 without SPI when the table allows (order_claim_next.cpp).
    if (!conf->confined) {
        direct = direct_claim_next(claimant, kind, has_lease, expires, &row);
        if (direct == DIRECT_CLAIM_OK) return row;
        if (direct == DIRECT_CLAIM_EMPTY) PG_RETURN_NULL();
    }
    if (!claim_next_sql(claimant, kind, has_lease, expires, conf, direct, &row)) PG_RETURN_NULL();
    return row;
}

// At most this many claims in one claim_next_orders call (22023 beyond).
const int max_batch = 1000;

// Up to `max` claims, each as claim_next_order would make it, never
// waiting. Normally one pass of the direct path over the queue index; when
// a claim has expired (or for a confined caller, or a table that needs SQL)
// claim_next_order's SQL steps, once per claim.
static void claim_next_orders(FunctionCallInfo fcinfo, const Confinement* conf) {
    text* claimant = key_text_arg(fcinfo, 0, "claimant");
    text* kind = kind_arg(fcinfo, 1);
    TimestampTz expires = 0;
    bool has_lease = lease_arg(fcinfo, 2, &expires);
    require_arg(fcinfo, 3, "max");
    int32 max = PG_GETARG_INT32(3);
    if (max < 1 || max > max_batch)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("max must be between 1 and %d, not %d", max_batch, max)));
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    int n = 0;
    DirectClaim direct = DIRECT_CLAIM_NONE;
    if (!conf->confined) {
        direct = direct_claim_next_batch(claimant, kind, has_lease, expires, max, rsinfo->setResult, &n);
        if (direct == DIRECT_CLAIM_OK) return;
    }
    for (; n < max; ++n) {
        CHECK_FOR_INTERRUPTS();
        Datum row;
        if (!claim_next_sql(claimant, kind, has_lease, expires, conf, direct, &row)) break;
        HeapTupleData t;
        t.t_len = HeapTupleHeaderGetDatumLength(DatumGetHeapTupleHeader(row));
        t.t_data = DatumGetHeapTupleHeader(row);
        ItemPointerSetInvalid(&t.t_self);
        t.t_tableOid = InvalidOid;
        tuplestore_puttuple(rsinfo->setResult, &t);
    }
}

extern "C" Datum sg_claim_next_orders(PG_FUNCTION_ARGS) {
    require_writable("claim_next_orders");
    CallerScope scope = enter_api(fcinfo, "claim_next_orders");
    claim_next_orders(fcinfo, &scope.conf);
    leave_api(&scope);
    return (Datum)0;
}

extern "C" Datum sg_add_order(PG_FUNCTION_ARGS) {
    require_writable("add_order");
    CallerScope scope = enter_api(fcinfo, "add_order");
    Datum row = add_order(fcinfo, &scope.conf);
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

extern "C" Datum sg_set_order_ready(PG_FUNCTION_ARGS) {
    require_writable("set_order_ready");
    CallerScope scope = enter_api(fcinfo, "set_order_ready");
    Datum row = set_order_ready(fcinfo, &scope.conf);
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

extern "C" Datum sg_claim_next_order(PG_FUNCTION_ARGS) {
    require_writable("claim_next_order");
    CallerScope scope = enter_api(fcinfo, "claim_next_order");
    // Returns NULL by PG_RETURN_NULL (fcinfo->isnull) when none.
    Datum row = claim_next_order(fcinfo, &scope.conf);
    leave_api(&scope);
    return row;
}

extern "C" Datum sg_release_order(PG_FUNCTION_ARGS) {
    require_writable("release_order");
    CallerScope scope = enter_api(fcinfo, "release_order");
    Datum row = finish_claim(fcinfo, FINISH_RELEASE, &scope.conf);
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

extern "C" Datum sg_complete_order(PG_FUNCTION_ARGS) {
    require_writable("complete_order");
    CallerScope scope = enter_api(fcinfo, "complete_order");
    Datum row = finish_claim(fcinfo, FINISH_COMPLETE, &scope.conf);
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

extern "C" Datum sg_renew_lease(PG_FUNCTION_ARGS) {
    require_writable("renew_lease");
    CallerScope scope = enter_api(fcinfo, "renew_lease");
    Datum row = finish_claim(fcinfo, FINISH_RENEW, &scope.conf);
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

extern "C" Datum sg_fail_order(PG_FUNCTION_ARGS) {
    require_writable("fail_order");
    CallerScope scope = enter_api(fcinfo, "fail_order");
    Datum row = finish_claim(fcinfo, FINISH_FAIL, &scope.conf);
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}
