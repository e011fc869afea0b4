// See waitlist_plans.hpp. Every name is schema-qualified.
#include "waitlist/waitlist_plans.hpp"

namespace sgpg {
namespace {

const PlanSpec specs[WPLAN_COUNT] = {
    // WPLAN_LOCK_WAITING: the waiting entries whose range overlaps $2 (all
    // when NULL), oldest first, locked without waiting.
    {"SELECT w.id, w.during, w.seats, w.holder, w.offer_hold, w.metadata FROM slotguard.waitlist w "
     "WHERE w.resource_key = $1 AND w.status = 'waiting' AND ($2::pg_catalog.tstzrange IS NULL OR w.during && $2) "
     "ORDER BY w.id LIMIT $3 FOR UPDATE OF w SKIP LOCKED",
     3,
     {TEXTOID, TSTZRANGEOID, INT4OID}},
    // WPLAN_MARK_OFFERED
    {"UPDATE slotguard.waitlist SET status = 'offered', booking_id = $2 WHERE id = $1 AND status = 'waiting'", 2,
     {INT8OID, INT8OID}},
    // WPLAN_INSERT
    {"INSERT INTO slotguard.waitlist AS w (resource_key, during, seats, holder, offer_hold, metadata) "
     "VALUES ($1, $2, $3, $4, $5, $6) RETURNING w.id",
     6,
     {TEXTOID, TSTZRANGEOID, INT4OID, TEXTOID, INTERVALOID, JSONBOID}},
    // WPLAN_ROW
    {"SELECT w FROM slotguard.waitlist w WHERE w.id = $1", 1, {INT8OID}},
    // WPLAN_OWNER: whose an entry is, read without locking.
    {"SELECT resource_key, holder FROM slotguard.waitlist WHERE id = $1", 1, {INT8OID}},
    // WPLAN_LOCK_ENTRY
    {"SELECT resource_key, holder, status FROM slotguard.waitlist WHERE id = $1 FOR UPDATE", 1, {INT8OID}},
    // WPLAN_LEAVE
    {"UPDATE slotguard.waitlist SET status = 'left' WHERE id = $1 AND status = 'waiting'", 1, {INT8OID}},
    // WPLAN_EXPIRE: lapsed holds (as of $1, this transaction's now()), at
    // most $2, of the tenants $3 (all when NULL) and the holder $4 (any when
    // NULL); rows another transaction holds (a confirm) are skipped.
    {"WITH e AS (SELECT b.id FROM slotguard.booking b WHERE b.status = 'held' AND b.hold_expires_at <= $1 "
     "AND ($3::text[] IS NULL OR pg_catalog.split_part(b.resource_key, ':', 1) = ANY ($3)) "
     "AND ($4::text IS NULL OR b.holder = $4) "
     "ORDER BY b.hold_expires_at, b.id LIMIT $2 FOR UPDATE OF b SKIP LOCKED) "
     "UPDATE slotguard.booking AS b SET status = 'expired', updated_at = now() FROM e "
     "WHERE b.id = e.id AND b.status = 'held' RETURNING b.resource_key, b.during",
     4,
     {TIMESTAMPTZOID, INT4OID, TEXTARRAYOID, TEXTOID}},
    // WPLAN_WAITING_RESOURCES: at most $2 resources someone waits for
    // (tenants $1, all when NULL), chosen at random so that over many calls
    // every one is retried.
    {"SELECT k FROM (SELECT DISTINCT w.resource_key AS k FROM slotguard.waitlist w WHERE w.status = 'waiting' "
     "AND ($1::text[] IS NULL OR pg_catalog.split_part(w.resource_key, ':', 1) = ANY ($1))) r "
     "ORDER BY pg_catalog.random() LIMIT $2",
     2,
     {TEXTARRAYOID, INT4OID}},
};

SPIPlanPtr plans[WPLAN_COUNT];

}  // namespace

SPIPlanPtr waitlist_plan(WaitlistPlanId id) { return kept_plan(&plans[id], specs[id]); }

}  // namespace sgpg
