// See series.hpp: the statements of series and groups, kept for the life
// of the backend. Every name is schema-qualified.
#include "series/series.hpp"

#include "engine/spi_plans.hpp"

namespace sgpg {
namespace {

// The rows of a set in one statement: $1 keys, $2 during, $3 blocked (one
// element per row, in row order), the idempotency key on the first row only.
#define SET_INSERT(column)                                                                                         \
    "INSERT INTO slotguard.booking AS b (resource_key, during, blocked, seats, status, holder, idempotency_key, "  \
    "hold_expires_at, metadata, " column ") "                                                                      \
    "SELECT u.k, u.d, u.bl, $4, CASE WHEN $7::timestamptz IS NULL THEN 'confirmed' ELSE 'held' END, $5, "         \
    "CASE WHEN u.o = 1 THEN $6 END, $7, $8, $9 "                                                                   \
    "FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::tstzrange[]), "   \
    "pg_catalog.unnest($3::tstzrange[])) WITH ORDINALITY AS u(k, d, bl, o) "     \
    "ORDER BY u.o RETURNING b.ctid, b, b.id"

const PlanSpec specs[SPLAN_COUNT] = {
    // SPLAN_INSERT_SERIES
    {SET_INSERT("series_id"), 9,
     {TEXTARRAYOID, TSTZRANGEARRAYOID, TSTZRANGEARRAYOID, INT4OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, JSONBOID, INT8OID}},
    // SPLAN_INSERT_GROUP
    {SET_INSERT("group_id"), 9,
     {TEXTARRAYOID, TSTZRANGEARRAYOID, TSTZRANGEARRAYOID, INT4OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, JSONBOID, INT8OID}},
    // SPLAN_SET_BY_KEY: the set a key (within the resource's tenant) names.
    {"SELECT b.series_id, b.group_id FROM slotguard.booking b "
     "WHERE pg_catalog.split_part(b.resource_key, ':', 1) = pg_catalog.split_part($2, ':', 1) "
     "AND b.idempotency_key = $1",
     2,
     {TEXTOID, TEXTOID}},
    // SPLAN_SERIES_ROWS
    {"SELECT b FROM slotguard.booking b WHERE b.series_id = $1 ORDER BY lower(b.during), b.id", 1, {INT8OID}},
    // SPLAN_GROUP_ROWS
    {"SELECT b FROM slotguard.booking b WHERE b.group_id = $1 ORDER BY b.id", 1, {INT8OID}},
    // SPLAN_SERIES_OWNER: whose a series is, read without locking.
    {"SELECT b.resource_key, b.holder FROM slotguard.booking b WHERE b.series_id = $1", 1, {INT8OID}},
    // SPLAN_SERIES_LOCK: the rows cancel_series changes, locked in id order.
    {"SELECT b.id FROM slotguard.booking b WHERE b.series_id = $1 AND ($2::timestamptz IS NULL OR "
     "lower(b.during) >= $2) ORDER BY b.id FOR UPDATE",
     2,
     {INT8OID, TIMESTAMPTZOID}},
    // SPLAN_SERIES_CANCEL
    {"UPDATE slotguard.booking AS b SET status = 'cancelled', updated_at = now() WHERE b.series_id = $1 "
     "AND b.status <> 'cancelled' AND ($2::timestamptz IS NULL OR lower(b.during) >= $2) RETURNING b.id, b.resource_key, b.during",
     2,
     {INT8OID, TIMESTAMPTZOID}},
    // SPLAN_RELEASE_MANY: the workers of the cancelled bookings.
    {"UPDATE slotguard.assignment SET status = 'removed' WHERE booking_id = ANY ($1) AND status = 'active'", 1,
     {INT8ARRAYOID}},
    // SPLAN_SERIES_SCOPE: what cancel_series answers.
    {"SELECT b FROM slotguard.booking b WHERE b.series_id = $1 AND ($2::timestamptz IS NULL OR "
     "lower(b.during) >= $2) ORDER BY lower(b.during), b.id",
     2,
     {INT8OID, TIMESTAMPTZOID}},
    // SPLAN_NEXT_SET_ID: series and group ids come from the booking ids'
    // sequence, so they route like booking ids (configure_shard).
    {"SELECT pg_catalog.nextval('slotguard.booking_id_seq'::pg_catalog.regclass)", 0, {}},
    // SPLAN_ASSIGNED: the assignments assign_any_workers added.
    {"SELECT a FROM slotguard.assignment a WHERE a.booking_id = $1 AND a.status = 'active' AND a.worker = ANY ($2) "
     "ORDER BY a.worker",
     2,
     {INT8OID, TEXTARRAYOID}},
};

SPIPlanPtr plans[SPLAN_COUNT];

}  // namespace

SPIPlanPtr series_plan(SeriesPlanId id) { return kept_plan(&plans[id], specs[id]); }

}  // namespace sgpg
