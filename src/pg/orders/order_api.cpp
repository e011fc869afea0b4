// SQL entry points of contract §4, first-come order claims: add_order,
// set_order_ready, claim_order, claim_next_order, release_order,
// complete_order.
//
// Every state change is one atomic UPDATE ... WHERE <state it may change
// from> ... RETURNING, the seed's fix (seeds/004: two drivers take one
// order). Concurrent callers serialise on the row lock, and PostgreSQL
// re-evaluates the WHERE of a waiting UPDATE on the row's latest version
// (READ COMMITTED EvalPlanQual), so once one of them has committed the rest
// match nothing; under REPEATABLE READ / SERIALIZABLE they fail with 40001
// instead. Either way there is never a second winner. Only when the UPDATE
// matched nothing is the row read again, to tell the caller why.
#include "access/access.hpp"
#include "engine/glue.hpp"
#include "orders/order_claim_next.hpp"
#include "orders/order_plans.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_add_order);
PG_FUNCTION_INFO_V1(sg_set_order_ready);
PG_FUNCTION_INFO_V1(sg_claim_order);
PG_FUNCTION_INFO_V1(sg_try_claim_order);
PG_FUNCTION_INFO_V1(sg_claim_next_order);
PG_FUNCTION_INFO_V1(sg_release_order);
PG_FUNCTION_INFO_V1(sg_complete_order);
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
};

OrderState read_order(text* key) {
    OrderState s = {false, NULL, NULL, false, (Datum)0};
    Datum v[1] = {PointerGetDatum(key)};
    if (SPI_execute_plan(order_plan(ORDER_READ), v, NULL, false, 1) != SPI_OK_SELECT)
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
    return s;
}

bool is(const OrderState& s, const char* status) { return strcmp(s.status, status) == 0; }

bool claimable(const OrderState& s) { return is(s, "ready") || (is(s, "claimed") && s.lease_expired); }

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
                      : is(s, "claimed")   ? "is claimed"
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

// 55P03 for release/complete by someone who does not hold a live claim.
[[noreturn]] void raise_not_claimant(text* key, text* claimant, const OrderState& s) {
    if (held_by(s, claimant) && s.lease_expired)
        ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
                        errmsg("the lease of \"%s\" on order \"%s\" has expired", text_to_cstring(claimant),
                               text_to_cstring(key)),
                        errhint("The order may be claimed by someone else now; claim it again to go on.")));
    ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
                    errmsg("order \"%s\" is not claimed by \"%s\"", text_to_cstring(key), text_to_cstring(claimant)),
                    errhint("Only the current claimant can release or complete an order.")));
    pg_unreachable();
}

// A key of another tenant is as if no such order existed.
void require_visible(const Confinement* conf, text* key) {
    if (!tenant_allowed(conf, key)) raise_not_found(key);
}

// release_order and complete_order: the same fence, different outcomes.
Datum finish_claim(FunctionCallInfo fcinfo, OrderPlanId write, bool completing, const Confinement* conf) {
    text* key = key_arg(fcinfo);
    text* claimant = key_text_arg(fcinfo, 1, "claimant");
    require_visible(conf, key);
    Datum v[2] = {PointerGetDatum(key), PointerGetDatum(claimant)};
    Datum row = (Datum)0;
    if (direct_finish_key(key, claimant, completing, &row) == KEYED_DONE) return row;
    SPI_connect();
    for (int attempt = 1;; ++attempt) {
        if (write_order(write, v, NULL, &row)) break;
        OrderState s = read_order(key);
        if (!s.found) raise_not_found(key);
        if (s.claimant != NULL && same_text(s.claimant, claimant) && is(s, "done")) {
            // A retried complete returns the order it completed.
            if (completing) {
                row = s.row;
                break;
            }
            raise_wrong_state(key, s);
        }
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
    Datum v[4] = {PointerGetDatum(key), PointerGetDatum(kind), PG_GETARG_DATUM(2),
                  PG_ARGISNULL(3) ? (Datum)0 : PG_GETARG_DATUM(3)};
    char nulls[5] = "    ";
    if (kind == NULL) nulls[1] = 'n';
    if (PG_ARGISNULL(3)) nulls[3] = 'n';
    Datum row;
    SPI_connect();
    if (!write_order(ORDER_ADD, v, nulls, &row))
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
        if (write_order(ORDER_SET_READY, v, NULL, &row)) break;
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
        if (write_order(ORDER_CLAIM, v, nulls, row)) break;
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
static Datum claim_next_order(FunctionCallInfo fcinfo, const Confinement* conf) {
    text* claimant = key_text_arg(fcinfo, 0, "claimant");
    text* kind = kind_arg(fcinfo, 1);
    TimestampTz expires = 0;
    bool has_lease = lease_arg(fcinfo, 2, &expires);
    bool by_kind = kind != NULL;
    bool confined = conf->confined;
    // Plan variants: the kind one is id + 1, the tenant one id + 2 (+ 1 by
    // kind), whose tenants come after the other arguments.
    int variant = (confined ? 2 : 0) + (by_kind ? 1 : 0);
    Datum tenants = confined ? tenant_array(conf) : (Datum)0;
    Datum row = (Datum)0;
    DirectClaim direct = DIRECT_CLAIM_NONE;
    // Step 1 without SPI when the table allows (order_claim_next.cpp).
    if (!confined) {
        direct = direct_claim_next(claimant, kind, has_lease, expires, &row);
        if (direct == DIRECT_CLAIM_OK) return row;
    }
    bool claimed = false;
    SPI_connect();

    Datum v[4] = {PointerGetDatum(claimant), TimestampTzGetDatum(expires), by_kind ? PointerGetDatum(kind) : tenants,
                  tenants};
    char n[5] = "    ";
    if (!has_lease) n[1] = 'n';
    if (direct == DIRECT_CLAIM_UNUSABLE)
        claimed = write_order(by_kind ? ORDER_NEXT_FAST_KIND : ORDER_NEXT_FAST, v, n, &row);

    Datum* skipped = (Datum*)palloc(sizeof(Datum) * max_skipped_expired);
    int n_skipped = 0;
    while (!claimed && n_skipped < max_skipped_expired) {
        CHECK_FOR_INTERRUPTS();
        Datum pv[3] = {PointerGetDatum(construct_array(skipped, n_skipped, TEXTOID, -1, false, TYPALIGN_INT)),
                       by_kind ? PointerGetDatum(kind) : tenants, tenants};
        OrderPlanId peek = (OrderPlanId)(ORDER_PEEK_EXPIRED + variant);
        if (SPI_execute_plan(order_plan(peek), pv, NULL, false, 1) != SPI_OK_SELECT)
            elog(ERROR, "slotguard: expired claim lookup failed");
        if (SPI_processed == 0) break;
        bool isnull;
        Datum e_ready = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        Datum e_key = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
                                                                        &isnull)));

        // Ready orders that are older than E go first.
        Datum bv[6] = {PointerGetDatum(claimant), TimestampTzGetDatum(expires), e_ready, e_key,
                       by_kind ? PointerGetDatum(kind) : tenants, tenants};
        char bn[7] = "      ";
        if (!has_lease) bn[1] = 'n';
        if (write_order((OrderPlanId)(ORDER_NEXT_BEFORE + variant), bv, bn, &row)) {
            claimed = true;
            break;
        }
        Datum ev[3] = {e_key, PointerGetDatum(claimant), TimestampTzGetDatum(expires)};
        if (write_order(ORDER_CLAIM_EXPIRED, ev, has_lease ? "   " : "  n", &row)) {
            claimed = true;
            break;
        }
        skipped[n_skipped++] = e_key;
    }
    if (!claimed) claimed = write_order((OrderPlanId)(ORDER_NEXT_READY + variant), v, n, &row);
    SPI_finish();
    if (!claimed) PG_RETURN_NULL();
    return row;
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
    Datum row = finish_claim(fcinfo, ORDER_RELEASE, false, &scope.conf);
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

extern "C" Datum sg_complete_order(PG_FUNCTION_ARGS) {
    require_writable("complete_order");
    CallerScope scope = enter_api(fcinfo, "complete_order");
    Datum row = finish_claim(fcinfo, ORDER_COMPLETE, true, &scope.conf);
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}
