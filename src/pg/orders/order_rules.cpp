// slotguard.order_row_ok: the rules of slotguard.orders (contract §4) as the
// one CHECK constraint orders_rules.
//
// The rules used to be six CHECK expressions. PostgreSQL rebuilds every CHECK
// expression of a table from its stored text on each statement that writes
// the table, and for a one-row UPDATE that rebuild cost more than the rest of
// the UPDATE (bench/orders.md). One call to a C function with the columns as
// arguments is a small expression, and its test is a few comparisons.
//
// A broken rule raises check_violation (23514) itself, naming the
// constraint and saying in DETAIL which rule the row breaks, so a direct
// write gets a better message than "violates check constraint".
#include "engine/glue.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_order_row_ok);
}

namespace sgpg {
namespace {

bool arg_equals(FunctionCallInfo fcinfo, int argno, const char* s) {
    return !PG_ARGISNULL(argno) && text_is(PG_GETARG_TEXT_PP(argno), s);
}

// btrim(x) = '': empty or only spaces (btrim's default trims spaces only).
bool blank(FunctionCallInfo fcinfo, int argno) {
    text* t = PG_GETARG_TEXT_PP(argno);
    const char* p = VARDATA_ANY(t);
    for (size_t i = 0, n = VARSIZE_ANY_EXHDR(t); i < n; ++i)
        if (p[i] != ' ') return false;
    return true;
}

[[noreturn]] void broken(const char* rule) {
    ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
                    errmsg("new row for relation \"orders\" violates check constraint \"orders_rules\""),
                    errdetail("%s", rule), err_generic_string(PG_DIAG_SCHEMA_NAME, "slotguard"),
                    err_generic_string(PG_DIAG_TABLE_NAME, "orders"),
                    err_generic_string(PG_DIAG_CONSTRAINT_NAME, "orders_rules")));
    pg_unreachable();
}

enum { KEY, STATUS, CLAIMANT, CLAIMED_AT, LEASE_EXPIRES_AT, READY_AT, ATTEMPTS, MAX_ATTEMPTS, CLAIM_TOKEN };

}  // namespace
}  // namespace sgpg

using namespace sgpg;

// (key, status, claimant, claimed_at, lease_expires_at, ready_at[, attempts,
// max_attempts, claim_token]): true, or 23514. NULL key or status pass here:
// NOT NULL on the columns refuses them. The 6-argument form is 1.1's
// constraint (no 'dead'); 1.2's has the queue columns (API.md §14).
extern "C" Datum sg_order_row_ok(PG_FUNCTION_ARGS) {
    bool queue = PG_NARGS() > CLAIM_TOKEN;
    if (!PG_ARGISNULL(KEY) && blank(fcinfo, KEY)) broken("An order's key must not be blank.");
    if (queue) {
        if (!PG_ARGISNULL(MAX_ATTEMPTS) && PG_GETARG_INT32(MAX_ATTEMPTS) < 1)
            broken("max_attempts is at least 1.");
        if (!PG_ARGISNULL(ATTEMPTS) &&
            (PG_GETARG_INT32(ATTEMPTS) < 0 ||
             (!PG_ARGISNULL(MAX_ATTEMPTS) && PG_GETARG_INT32(ATTEMPTS) > PG_GETARG_INT32(MAX_ATTEMPTS))))
            broken("attempts is between 0 and max_attempts.");
        if (!PG_ARGISNULL(CLAIM_TOKEN) && PG_GETARG_INT64(CLAIM_TOKEN) < 1) broken("A claim_token is positive.");
    }
    if (PG_ARGISNULL(STATUS)) PG_RETURN_BOOL(true);
    bool pending = arg_equals(fcinfo, STATUS, "pending"), ready = arg_equals(fcinfo, STATUS, "ready"),
         claimed = arg_equals(fcinfo, STATUS, "claimed"), done = arg_equals(fcinfo, STATUS, "done"),
         cancelled = arg_equals(fcinfo, STATUS, "cancelled"), dead = queue && arg_equals(fcinfo, STATUS, "dead");
    if (!(pending || ready || claimed || done || cancelled || dead))
        broken(queue ? "status is one of pending, ready, claimed, done, cancelled, dead."
                     : "status is one of pending, ready, claimed, done, cancelled.");
    if (!PG_ARGISNULL(CLAIMANT) && blank(fcinfo, CLAIMANT)) broken("A claimant must not be blank.");
    // The seed's consistency rule (seeds/004).
    bool taken = claimed || done;
    if (taken != !PG_ARGISNULL(CLAIMANT) || taken != !PG_ARGISNULL(CLAIMED_AT))
        broken("An order has a claimant and claimed_at exactly when it is claimed or done.");
    // A lease belongs to a claim in progress and ends after it began.
    if (!PG_ARGISNULL(LEASE_EXPIRES_AT) &&
        !(claimed && PG_GETARG_TIMESTAMPTZ(LEASE_EXPIRES_AT) > PG_GETARG_TIMESTAMPTZ(CLAIMED_AT)))
        broken("A lease belongs to a claimed order and expires after claimed_at.");
    // ready_at orders the queue: absent while pending, set from ready on.
    if (pending && !PG_ARGISNULL(READY_AT)) broken("A pending order has no ready_at.");
    if ((ready || claimed || done) && PG_ARGISNULL(READY_AT))
        broken("A ready, claimed or done order has a ready_at.");
    PG_RETURN_BOOL(true);
}
