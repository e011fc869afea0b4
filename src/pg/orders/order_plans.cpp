// See order_plans.hpp. The claimable predicate appears in several plans and
// must be the same everywhere:
//
//   status = 'ready' OR (status = 'claimed' AND lease_expires_at <= now())
//
// now() is the transaction's start, as for booking holds (API.md §1). An
// expired claim keeps status 'claimed' (and its claimant) until someone
// takes it over, so a claimant that comes back late finds out it was
// fenced off (55P03) rather than silently re-owning the order.
#include "orders/order_plans.hpp"
#include "engine/spi_plans.hpp"

namespace sgpg {
namespace {

#define SG_CLAIM_SET "UPDATE slotguard.orders AS o SET status = 'claimed', claimant = $1, claimed_at = now(), " \
                     "lease_expires_at = $2 "
// Oldest first; FOR UPDATE SKIP LOCKED steps over rows other sessions are
// claiming or finishing right now instead of waiting for them. Under READ
// COMMITTED a row changed since the snapshot is re-checked on its latest
// version (EvalPlanQual) and skipped if no longer ready; the outer UPDATE
// repeats the test on the row it writes.
#define SG_NEXT_READY(extra)                                                                          \
    SG_CLAIM_SET "WHERE o.key = (SELECT c.key FROM slotguard.orders c WHERE c.status = 'ready' " extra \
                 " ORDER BY c.ready_at, c.key LIMIT 1 FOR UPDATE SKIP LOCKED) AND o.status = 'ready' RETURNING o"

// 1.2: every claim takes a new fencing token (the sequence, or the
// order's last token + 1 if the sequence was ever set back).
#define SG_Q_CLAIM_SET_AS(c, l)                                                                                \
    "UPDATE slotguard.orders AS o SET status = 'claimed', claimant = " c ", claimed_at = now(), "              \
    "lease_expires_at = " l ", claim_token = GREATEST(pg_catalog.nextval("                            \
    "'slotguard.order_claim_token_seq'::pg_catalog.regclass), COALESCE(o.claim_token, 0) + 1) "
#define SG_Q_CLAIM_SET SG_Q_CLAIM_SET_AS("$1", "$2")
// Highest priority, then oldest ready_at (orders_queue_idx); not before ready_at.
#define SG_Q_NEXT_READY(extra)                                                                                    \
    SG_Q_CLAIM_SET "WHERE o.key = (SELECT c.key FROM slotguard.orders c WHERE c.status = 'ready' "                \
                   "AND c.ready_at <= now() " extra                                                               \
                   " ORDER BY c.priority DESC, c.ready_at, c.key LIMIT 1 FOR UPDATE SKIP LOCKED) "                \
                   "AND o.status = 'ready' AND o.ready_at <= now() RETURNING o"
#define SG_Q_PEEK_READY(extra)                                                                                     \
    "SELECT c.priority, c.ready_at, c.key FROM slotguard.orders c WHERE c.status = 'ready' AND c.ready_at <= now() " \
    extra " ORDER BY c.priority DESC, c.ready_at, c.key LIMIT 1"
#define SG_Q_PEEK_EXPIRED(extra)                                                                               \
    "SELECT c.priority, c.ready_at, c.key FROM slotguard.orders c WHERE c.status = 'claimed' "                 \
    "AND c.lease_expires_at <= now() AND c.key <> ALL ($1) " extra                                             \
    " ORDER BY c.priority DESC, c.ready_at, c.key LIMIT 1"
// The caller's live claim, with the current token if one is given (p).
#define SG_Q_FENCE(p)                                                                                   \
    "o.status = 'claimed' AND o.claimant = $2 AND (o.lease_expires_at IS NULL OR o.lease_expires_at > now()) " \
    "AND (" p "::pg_catalog.int8 IS NULL OR o.claim_token = " p ")"
#define SG_Q_RETRY_AT                                                                                       \
    "COALESCE($4, now() + LEAST(pg_catalog.make_interval(secs => 10 * "                \
    "pg_catalog.power(2, LEAST(o.attempts, 20))), interval '1 hour'))"

// The order's tenant is one of the text[] parameter p.
#define SG_TENANT(p) "pg_catalog.split_part(c.key, ':', 1) = ANY (" p ")"

const PlanSpec specs[ORDER_PLAN_COUNT] = {
    // ORDER_ADD: a duplicate key returns no row (the caller raises 23505).
    {"INSERT INTO slotguard.orders AS o (key, kind, status, payload, ready_at) "
     "VALUES ($1, $2, CASE WHEN $3 THEN 'ready' ELSE 'pending' END, $4, CASE WHEN $3 THEN now() END) "
     "ON CONFLICT (key) DO NOTHING RETURNING o",
     4,
     {TEXTOID, TEXTOID, BOOLOID, JSONBOID}},
    // ORDER_READ: what a write that matched nothing saw, to say why.
    {"SELECT o.status, o.claimant, o.lease_expires_at <= now(), o FROM slotguard.orders o WHERE o.key = $1", 1,
     {TEXTOID}},
    // ORDER_SET_READY
    {"UPDATE slotguard.orders AS o SET status = 'ready', ready_at = now() "
     "WHERE o.key = $1 AND o.status = 'pending' RETURNING o",
     1,
     {TEXTOID}},
    // ORDER_CLAIM: the atomic check-and-set. Concurrent callers all run it;
    // the row lock makes them take turns and each re-evaluates the WHERE on
    // the latest version, so after the first commits the rest match nothing.
    {"UPDATE slotguard.orders AS o SET status = 'claimed', claimant = $2, claimed_at = now(), lease_expires_at = $3 "
     "WHERE o.key = $1 AND (o.status = 'ready' OR (o.status = 'claimed' AND o.lease_expires_at <= now())) "
     "RETURNING o",
     3,
     {TEXTOID, TEXTOID, TIMESTAMPTZOID}},
    // ORDER_RELEASE: only the claimant, and only while its lease runs. The
    // order keeps its ready_at, so it is next in line again.
    {"UPDATE slotguard.orders AS o SET status = 'ready', claimant = NULL, claimed_at = NULL, lease_expires_at = NULL "
     "WHERE o.key = $1 AND o.status = 'claimed' AND o.claimant = $2 "
     "AND (o.lease_expires_at IS NULL OR o.lease_expires_at > now()) RETURNING o",
     2,
     {TEXTOID, TEXTOID}},
    // ORDER_COMPLETE: the same fence. A done order keeps claimant and
    // claimed_at (who did it, since when); the lease no longer means anything.
    {"UPDATE slotguard.orders AS o SET status = 'done', lease_expires_at = NULL "
     "WHERE o.key = $1 AND o.status = 'claimed' AND o.claimant = $2 "
     "AND (o.lease_expires_at IS NULL OR o.lease_expires_at > now()) RETURNING o",
     2,
     {TEXTOID, TEXTOID}},
    // ORDER_NEXT_FAST, ORDER_NEXT_FAST_KIND: the common case in one
    // statement. While no claim (of the kind) has an expired lease, the
    // oldest ready order is the oldest claimable one. The uncorrelated NOT
    // EXISTS is a one-time filter, checked before any row is locked; if it
    // fails, nothing is claimed and the caller takes the slow path.
    // Normally order_claim_next.cpp does the same without SPI; these run
    // when the table has something only SQL reproduces (a user trigger...).
    {SG_NEXT_READY("AND NOT EXISTS (SELECT 1 FROM slotguard.orders e WHERE e.status = 'claimed' "
                   "AND e.lease_expires_at <= now())"),
     2,
     {TEXTOID, TIMESTAMPTZOID}},
    {SG_NEXT_READY("AND c.kind = $3 AND NOT EXISTS (SELECT 1 FROM slotguard.orders e WHERE e.status = 'claimed' "
                   "AND e.lease_expires_at <= now() AND e.kind = $3)"),
     3,
     {TEXTOID, TIMESTAMPTZOID, TEXTOID}},
    // ORDER_NEXT_READY, ORDER_NEXT_READY_KIND: orders_ready_idx / orders_ready_kind_idx.
    {SG_NEXT_READY(""), 2, {TEXTOID, TIMESTAMPTZOID}},
    {SG_NEXT_READY("AND c.kind = $3"), 3, {TEXTOID, TIMESTAMPTZOID, TEXTOID}},
    // ORDER_NEXT_READY_T, ORDER_NEXT_READY_KIND_T: the same, of the tenants only.
    {SG_NEXT_READY("AND " SG_TENANT("$3")), 3, {TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID}},
    {SG_NEXT_READY("AND c.kind = $3 AND " SG_TENANT("$4")), 4, {TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTARRAYOID}},
    // ORDER_NEXT_BEFORE, ORDER_NEXT_BEFORE_KIND: ready orders older than an
    // expired claim (the row comparison is an index condition).
    {SG_NEXT_READY("AND (c.ready_at, c.key) < ($3, $4)"), 4, {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID}},
    {SG_NEXT_READY("AND (c.ready_at, c.key) < ($3, $4) AND c.kind = $5"), 5,
     {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID}},
    // ORDER_NEXT_BEFORE_T, ORDER_NEXT_BEFORE_KIND_T
    {SG_NEXT_READY("AND (c.ready_at, c.key) < ($3, $4) AND " SG_TENANT("$5")), 5,
     {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTARRAYOID}},
    {SG_NEXT_READY("AND (c.ready_at, c.key) < ($3, $4) AND c.kind = $5 AND " SG_TENANT("$6")), 6,
     {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTARRAYOID}},
    // ORDER_PEEK_EXPIRED, ORDER_PEEK_EXPIRED_KIND: the oldest claim whose
    // lease ran out (orders_lease_idx: only claims with a lease, and the
    // range scan reads only the expired ones). Nothing is locked here.
    {"SELECT c.ready_at, c.key FROM slotguard.orders c WHERE c.status = 'claimed' AND c.lease_expires_at <= now() "
     "AND c.key <> ALL ($1) ORDER BY c.ready_at, c.key LIMIT 1",
     1,
     {TEXTARRAYOID}},
    {"SELECT c.ready_at, c.key FROM slotguard.orders c WHERE c.status = 'claimed' AND c.lease_expires_at <= now() "
     "AND c.key <> ALL ($1) AND c.kind = $2 ORDER BY c.ready_at, c.key LIMIT 1",
     2,
     {TEXTARRAYOID, TEXTOID}},
    // ORDER_PEEK_EXPIRED_T, ORDER_PEEK_EXPIRED_KIND_T
    {"SELECT c.ready_at, c.key FROM slotguard.orders c WHERE c.status = 'claimed' AND c.lease_expires_at <= now() "
     "AND c.key <> ALL ($1) AND " SG_TENANT("$2") " ORDER BY c.ready_at, c.key LIMIT 1",
     2,
     {TEXTARRAYOID, TEXTARRAYOID}},
    {"SELECT c.ready_at, c.key FROM slotguard.orders c WHERE c.status = 'claimed' AND c.lease_expires_at <= now() "
     "AND c.key <> ALL ($1) AND c.kind = $2 AND " SG_TENANT("$3") " ORDER BY c.ready_at, c.key LIMIT 1",
     3,
     {TEXTARRAYOID, TEXTOID, TEXTARRAYOID}},
    // ORDER_CLAIM_EXPIRED: takes over one expired claim, unless another
    // session holds the row (then nothing, at once).
    {"UPDATE slotguard.orders AS o SET status = 'claimed', claimant = $2, claimed_at = now(), lease_expires_at = $3 "
     "WHERE o.key = (SELECT c.key FROM slotguard.orders c WHERE c.key = $1 AND c.status = 'claimed' "
     "AND c.lease_expires_at <= now() FOR UPDATE SKIP LOCKED) "
     "AND o.status = 'claimed' AND o.lease_expires_at <= now() RETURNING o",
     3,
     {TEXTOID, TEXTOID, TIMESTAMPTZOID}},

    // --- the 1.2 schema (API.md §14) ---
    // ORDER_Q_ADD: claimable from greatest(now(), not_before) (greatest
    // skips a NULL).
    {"INSERT INTO slotguard.orders AS o (key, kind, status, payload, ready_at, priority, not_before, max_attempts) "
     "VALUES ($1, $2, CASE WHEN $3 THEN 'ready' ELSE 'pending' END, $4, "
     "CASE WHEN $3 THEN GREATEST(now(), $6) END, $5, $6, $7) "
     "ON CONFLICT (key) DO NOTHING RETURNING o",
     7,
     {TEXTOID, TEXTOID, BOOLOID, JSONBOID, INT4OID, TIMESTAMPTZOID, INT4OID}},
    // ORDER_Q_READ
    {"SELECT o.status, o.claimant, o.lease_expires_at <= now(), o, o.claim_token, o.ready_at > now() "
     "FROM slotguard.orders o "
     "WHERE o.key = $1",
     1,
     {TEXTOID}},
    // ORDER_Q_SET_READY
    {"UPDATE slotguard.orders AS o SET status = 'ready', ready_at = GREATEST(now(), o.not_before) "
     "WHERE o.key = $1 AND o.status = 'pending' RETURNING o",
     1,
     {TEXTOID}},
    // ORDER_Q_CLAIM
    {SG_Q_CLAIM_SET_AS("$2", "$3") "WHERE o.key = $1 AND (o.status = 'ready' AND o.ready_at <= now() "
     "OR (o.status = 'claimed' AND o.lease_expires_at <= now())) RETURNING o",
     3,
     {TEXTOID, TEXTOID, TIMESTAMPTZOID}},
    // ORDER_Q_RELEASE, ORDER_Q_COMPLETE: claim_token stays (a later call
    // with it is stale either way).
    {"UPDATE slotguard.orders AS o SET status = 'ready', claimant = NULL, claimed_at = NULL, lease_expires_at = NULL "
     "WHERE o.key = $1 AND " SG_Q_FENCE("$3") " RETURNING o",
     3,
     {TEXTOID, TEXTOID, INT8OID}},
    {"UPDATE slotguard.orders AS o SET status = 'done', lease_expires_at = NULL "
     "WHERE o.key = $1 AND " SG_Q_FENCE("$3") " RETURNING o",
     3,
     {TEXTOID, TEXTOID, INT8OID}},
    // ORDER_Q_RENEW
    {"UPDATE slotguard.orders AS o SET lease_expires_at = $3 WHERE o.key = $1 AND " SG_Q_FENCE("$4") " RETURNING o",
     4,
     {TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID}},
    // ORDER_Q_FAIL: one attempt more; dead at max_attempts, else ready at
    // $4 or after the backoff 10 s x 2^(attempts - 1), at most an hour
    // (attempts counted after this failure; the exponent is capped before
    // it could overflow).
    {"UPDATE slotguard.orders AS o SET attempts = o.attempts + 1, last_error = $3, "
     "status = CASE WHEN o.attempts + 1 >= o.max_attempts THEN 'dead' ELSE 'ready' END, "
     "claimant = NULL, claimed_at = NULL, lease_expires_at = NULL, "
     "ready_at = CASE WHEN o.attempts + 1 >= o.max_attempts THEN o.ready_at ELSE " SG_Q_RETRY_AT " END, "
     "not_before = CASE WHEN o.attempts + 1 >= o.max_attempts THEN o.not_before ELSE " SG_Q_RETRY_AT " END "
     "WHERE o.key = $1 AND " SG_Q_FENCE("$5") " RETURNING o",
     5,
     {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID}},
    // ORDER_Q_NEXT_FAST, ORDER_Q_NEXT_FAST_KIND
    {SG_Q_NEXT_READY("AND NOT EXISTS (SELECT 1 FROM slotguard.orders e WHERE e.status = 'claimed' "
                     "AND e.lease_expires_at <= now())"),
     2,
     {TEXTOID, TIMESTAMPTZOID}},
    {SG_Q_NEXT_READY("AND c.kind = $3 AND NOT EXISTS (SELECT 1 FROM slotguard.orders e WHERE e.status = 'claimed' "
                     "AND e.lease_expires_at <= now() AND e.kind = $3)"),
     3,
     {TEXTOID, TIMESTAMPTZOID, TEXTOID}},
    // ORDER_Q_NEXT_READY[_KIND][_T]
    {SG_Q_NEXT_READY(""), 2, {TEXTOID, TIMESTAMPTZOID}},
    {SG_Q_NEXT_READY("AND c.kind = $3"), 3, {TEXTOID, TIMESTAMPTZOID, TEXTOID}},
    {SG_Q_NEXT_READY("AND " SG_TENANT("$3")), 3, {TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID}},
    {SG_Q_NEXT_READY("AND c.kind = $3 AND " SG_TENANT("$4")), 4, {TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTARRAYOID}},
    // ORDER_Q_PEEK_READY[_KIND][_T]: nothing locked.
    {SG_Q_PEEK_READY(""), 0, {}},
    {SG_Q_PEEK_READY("AND c.kind = $1"), 1, {TEXTOID}},
    {SG_Q_PEEK_READY("AND " SG_TENANT("$1")), 1, {TEXTARRAYOID}},
    {SG_Q_PEEK_READY("AND c.kind = $1 AND " SG_TENANT("$2")), 2, {TEXTOID, TEXTARRAYOID}},
    // ORDER_Q_PEEK_EXPIRED[_KIND][_T]
    {SG_Q_PEEK_EXPIRED(""), 1, {TEXTARRAYOID}},
    {SG_Q_PEEK_EXPIRED("AND c.kind = $2"), 2, {TEXTARRAYOID, TEXTOID}},
    {SG_Q_PEEK_EXPIRED("AND " SG_TENANT("$2")), 2, {TEXTARRAYOID, TEXTARRAYOID}},
    {SG_Q_PEEK_EXPIRED("AND c.kind = $2 AND " SG_TENANT("$3")), 3, {TEXTARRAYOID, TEXTOID, TEXTARRAYOID}},
    // ORDER_Q_CLAIM_EXPIRED
    {SG_Q_CLAIM_SET_AS("$2", "$3") "WHERE o.key = (SELECT c.key FROM slotguard.orders c WHERE c.key = $1 AND c.status = 'claimed' "
     "AND c.lease_expires_at <= now() FOR UPDATE SKIP LOCKED) "
     "AND o.status = 'claimed' AND o.lease_expires_at <= now() RETURNING o",
     3,
     {TEXTOID, TEXTOID, TIMESTAMPTZOID}},
};

#undef SG_NEXT_READY
#undef SG_TENANT
#undef SG_CLAIM_SET

SPIPlanPtr plans[ORDER_PLAN_COUNT];

}  // namespace

SPIPlanPtr order_plan(OrderPlanId id) { return kept_plan(&plans[id], specs[id]); }

}  // namespace sgpg
