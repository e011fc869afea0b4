// See plans.hpp.
#include "bookings/plans.hpp"

namespace sgpg {
namespace {

const PlanSpec specs[PLAN_COUNT] = {
    // PLAN_RESOURCE_CREATE
    {"INSERT INTO slotguard.resource (key) VALUES ($1) ON CONFLICT (key) DO NOTHING", 1, {TEXTOID}},
    // PLAN_RESOURCE_UPSERT: NULL kind/metadata keep the current value.
    {"INSERT INTO slotguard.resource AS r (key, capacity, buffer_before, buffer_after, kind, metadata) "
     "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO UPDATE SET capacity = excluded.capacity, "
     "buffer_before = excluded.buffer_before, buffer_after = excluded.buffer_after, "
     "kind = coalesce(excluded.kind, r.kind), metadata = coalesce(excluded.metadata, r.metadata) RETURNING r",
     6,
     {TEXTOID, INT4OID, INTERVALOID, INTERVALOID, TEXTOID, JSONBOID}},
    // PLAN_REBLOCK: $2/$3 are absolute lengths (time-only intervals).
    {"UPDATE slotguard.booking SET blocked = b.nb FROM (SELECT id, tstzrange(lower(during) - $2, upper(during) + $3, "
     "CASE WHEN lower_inc(during) THEN '[' ELSE '(' END || CASE WHEN upper_inc(during) THEN ']' ELSE ')' END) AS nb "
     "FROM slotguard.booking WHERE resource_key = $1) b WHERE booking.id = b.id AND booking.blocked <> b.nb",
     3,
     {TEXTOID, INTERVALOID, INTERVALOID}},
    // PLAN_IDEMPOTENT_LOOKUP
    {"SELECT b.resource_key = $2 AND b.during = $3 AND b.seats = $4, b FROM slotguard.booking b "
     "WHERE b.idempotency_key = $1",
     4,
     {TEXTOID, TEXTOID, TSTZRANGEOID, INT4OID}},
    // PLAN_BOOKING_INSERT
    {"INSERT INTO slotguard.booking AS b (resource_key, during, seats, status, holder, idempotency_key, "
     "hold_expires_at, metadata, blocked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING b.ctid, b",
     9,
     {TEXTOID, TSTZRANGEOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, JSONBOID, TSTZRANGEOID}},
    // PLAN_BOOKING_LOCK
    {"SELECT b.ctid, b.resource_key, b.during, b.seats, b.status, b.hold_expires_at, b FROM slotguard.booking b "
     "WHERE b.id = $1 FOR UPDATE",
     1,
     {INT8OID}},
    // PLAN_BOOKING_CANCEL
    {"UPDATE slotguard.booking AS b SET status = 'cancelled', updated_at = now() WHERE b.id = $1 RETURNING b.ctid, b",
     1,
     {INT8OID}},
    // PLAN_BOOKING_CONFIRM
    {"UPDATE slotguard.booking AS b SET status = 'confirmed', hold_expires_at = NULL, updated_at = now() "
     "WHERE b.id = $1 RETURNING b.ctid, b",
     1,
     {INT8OID}},
    // PLAN_BOOKING_MOVE
    {"UPDATE slotguard.booking AS b SET during = $2, blocked = $3, updated_at = now() WHERE b.id = $1 "
     "RETURNING b.ctid, b",
     3,
     {INT8OID, TSTZRANGEOID, TSTZRANGEOID}},
    // PLAN_ASSIGN_ACTIVE
    {"SELECT worker, ctid FROM slotguard.assignment WHERE booking_id = $1 AND status = 'active' ORDER BY worker", 1,
     {INT8OID}},
    // PLAN_ASSIGN_REMOVE_OTHERS
    {"UPDATE slotguard.assignment SET status = 'removed' WHERE booking_id = $1 AND status = 'active' "
     "AND worker <> ALL ($2)",
     2,
     {INT8OID, TEXTARRAYOID}},
    // PLAN_ASSIGN_INSERT
    {"INSERT INTO slotguard.assignment (booking_id, worker, role, assigned_by, during) "
     "SELECT $1, w, $3, $4, $5 FROM unnest($2) AS w RETURNING ctid, worker",
     5,
     {INT8OID, TEXTARRAYOID, TEXTOID, TEXTOID, TSTZRANGEOID}},
    // PLAN_ASSIGN_LIST
    {"SELECT a FROM slotguard.assignment a WHERE a.booking_id = $1 AND a.status = 'active' ORDER BY a.worker", 1,
     {INT8OID}},
    // PLAN_ASSIGN_RELEASE
    {"UPDATE slotguard.assignment SET status = 'removed' WHERE booking_id = $1 AND status = 'active'", 1, {INT8OID}},
    // PLAN_ASSIGN_MOVE
    {"UPDATE slotguard.assignment SET during = $2 WHERE booking_id = $1 AND status = 'active' RETURNING ctid, worker",
     2,
     {INT8OID, TSTZRANGEOID}},
    // PLAN_UNASSIGN
    {"UPDATE slotguard.assignment SET status = 'removed' WHERE booking_id = $1 AND worker = $2 AND status = 'active' "
     "RETURNING 1",
     2,
     {INT8OID, TEXTOID}},
    // PLAN_BOOKING_STATUS
    {"SELECT status FROM slotguard.booking WHERE id = $1", 1, {INT8OID}},
    // PLAN_WORKER_SCHEDULE
    {"SELECT a.booking_id, b.during, b.resource_key FROM slotguard.assignment a "
     "JOIN slotguard.booking b ON b.id = a.booking_id WHERE a.worker = $1 AND a.status = 'active' "
     "AND a.during && $2 AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now())) "
     "ORDER BY lower(b.during), a.booking_id",
     2,
     {TEXTOID, TSTZRANGEOID}},
    // PLAN_BOOKING_DURING
    {"SELECT during FROM slotguard.booking WHERE id = $1", 1, {INT8OID}},
    // PLAN_BOOKING_RESOURCE: read without locking, to take the resource lock first.
    {"SELECT resource_key FROM slotguard.booking WHERE id = $1", 1, {INT8OID}},
    // PLAN_IDEMPOTENT_LOOKUP_TENANT: the key within the resource's tenant
    // (booking_tenant_idempotency_key_idx, 1.2).
    {"SELECT b.resource_key = $2 AND b.during = $3 AND b.seats = $4, b FROM slotguard.booking b "
     "WHERE pg_catalog.split_part(b.resource_key, ':', 1) = pg_catalog.split_part($2, ':', 1) "
     "AND b.idempotency_key = $1",
     4,
     {TEXTOID, TEXTOID, TSTZRANGEOID, INT4OID}},
    // PLAN_BOOKING_OWNER: whose a booking is, read without locking (a
    // confined caller is told P0002 before it can wait on another's row).
    {"SELECT resource_key, holder FROM slotguard.booking WHERE id = $1", 1, {INT8OID}},
    // PLAN_WORKER_SCHEDULE_CONFINED: PLAN_WORKER_SCHEDULE on the bookings of
    // the tenants $3 (and of the holder $4, if not NULL) only.
    {"SELECT a.booking_id, b.during, b.resource_key FROM slotguard.assignment a "
     "JOIN slotguard.booking b ON b.id = a.booking_id WHERE a.worker = $1 AND a.status = 'active' "
     "AND a.during && $2 AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now())) "
     "AND pg_catalog.split_part(b.resource_key, ':', 1) = ANY ($3) AND ($4::text IS NULL OR b.holder = $4) "
     "ORDER BY lower(b.during), a.booking_id",
     4,
     {TEXTOID, TSTZRANGEOID, TEXTARRAYOID, TEXTOID}},
};

SPIPlanPtr plans[PLAN_COUNT];

}  // namespace

SPIPlanPtr plan(PlanId id) { return kept_plan(&plans[id], specs[id]); }

}  // namespace sgpg
