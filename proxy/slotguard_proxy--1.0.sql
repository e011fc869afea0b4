-- slotguard_proxy 1.0: the slotguard API (contract §2-§4) on a PL/Proxy
-- coordinator. Every function has the name, arguments and defaults of the
-- one on the shards and is a PL/Proxy function that runs it on exactly one
-- shard, so SQLSTATEs come back unchanged (docs/scale-out.md).
\echo Use "CREATE EXTENSION slotguard_proxy" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Routing. The cluster is the SQL/MED server named `slotguard`
-- (CREATE SERVER slotguard FOREIGN DATA WRAPPER plproxy OPTIONS (p0 …)),
-- with a power-of-two number of partitions; PL/Proxy sends a call to
-- partition (hash & (partitions - 1)).
--
-- * By tenant: every conflict domain lives inside one tenant (bookings
--   conflict per resource, workers across the resources of one business,
--   orders per key), so the shard key is the tenant of the key: the part
--   before the first ':' (acme:room-1 -> acme), or the whole key.
-- * By booking id: each shard makes ids whose low bits are its shard number
--   (slotguard.configure_shard on the shard), so an id is its own hash.
--
-- A NULL key is hashed as '' and a NULL id as 0 (PL/Proxy refuses a NULL
-- hash), so the call still reaches a shard, whose slotguard raises 22004 as
-- on a single server.
-- ---------------------------------------------------------------------------

CREATE FUNCTION slotguard.tenant_of(key text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.split_part(key, ':', 1);
COMMENT ON FUNCTION slotguard.tenant_of(text) IS
    'The tenant of a key: the part before the first '':'' (acme:room-1 -> acme), or the whole key. The shard key.';

CREATE FUNCTION slotguard.tenant_hash(key text)
RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.hashtext(pg_catalog.split_part(coalesce(key, ''), ':', 1));
COMMENT ON FUNCTION slotguard.tenant_hash(text) IS
    'The routing hash of a key: hashtext of its tenant. The call runs on partition tenant_hash(key) & (partitions - 1).';

CREATE FUNCTION slotguard.booking_hash(booking_id bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN coalesce(booking_id, 0);
COMMENT ON FUNCTION slotguard.booking_hash(bigint) IS
    'The routing hash of a booking id: the id itself, whose low bits are the number of the shard that made it.';

-- ---------------------------------------------------------------------------
-- The shards' row types, column for column (PL/Proxy reads results by
-- column name).
-- ---------------------------------------------------------------------------

CREATE TYPE slotguard.resource AS (
    key text, kind text, capacity int, buffer_before interval, buffer_after interval,
    metadata jsonb, created_at timestamptz);
COMMENT ON TYPE slotguard.resource IS 'A row of slotguard.resource on a shard.';

CREATE TYPE slotguard.booking AS (
    id bigint, resource_key text, during tstzrange, seats int, status text, holder text,
    idempotency_key text, hold_expires_at timestamptz, metadata jsonb,
    created_at timestamptz, updated_at timestamptz, blocked tstzrange);
COMMENT ON TYPE slotguard.booking IS 'A row of slotguard.booking on a shard.';

CREATE TYPE slotguard.assignment AS (
    id bigint, booking_id bigint, worker text, role text, assigned_by text, status text,
    assigned_at timestamptz, during tstzrange);
COMMENT ON TYPE slotguard.assignment IS 'A row of slotguard.assignment on a shard.';

CREATE TYPE slotguard.orders AS (
    key text, kind text, status text, claimant text, claimed_at timestamptz,
    lease_expires_at timestamptz, payload jsonb, ready_at timestamptz, created_at timestamptz);
COMMENT ON TYPE slotguard.orders IS 'A row of slotguard.orders on a shard.';

-- ---------------------------------------------------------------------------
-- Resources and bookings (contract §2)
-- ---------------------------------------------------------------------------

CREATE FUNCTION slotguard.upsert_resource(
    key text, capacity int DEFAULT 1, buffer_before interval DEFAULT '0',
    buffer_after interval DEFAULT '0', kind text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS slotguard.resource LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.upsert_resource(text, int, interval, interval, text, jsonb) IS
    'slotguard.upsert_resource on the shard of the key''s tenant.';

CREATE FUNCTION slotguard.book_slot(
    resource text, during tstzrange, seats int DEFAULT 1, holder text DEFAULT NULL,
    hold interval DEFAULT NULL, idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS slotguard.booking LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb) IS
    'slotguard.book_slot on the shard of the resource''s tenant.';

CREATE FUNCTION slotguard.try_book_slot(
    resource text, during tstzrange, seats int DEFAULT 1, holder text DEFAULT NULL,
    hold interval DEFAULT NULL, idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS TABLE (booking_id bigint, conflicts bigint[], suggestions tstzrange[]) LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.try_book_slot(text, tstzrange, int, text, interval, text, jsonb) IS
    'slotguard.try_book_slot on the shard of the resource''s tenant.';

CREATE FUNCTION slotguard.confirm_booking(booking_id bigint)
RETURNS slotguard.booking LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.booking_hash($1);
$$;
COMMENT ON FUNCTION slotguard.confirm_booking(bigint) IS
    'slotguard.confirm_booking on the shard that made the booking id.';

CREATE FUNCTION slotguard.cancel_booking(booking_id bigint)
RETURNS slotguard.booking LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.booking_hash($1);
$$;
COMMENT ON FUNCTION slotguard.cancel_booking(bigint) IS
    'slotguard.cancel_booking on the shard that made the booking id.';

CREATE FUNCTION slotguard.reschedule_booking(booking_id bigint, during tstzrange)
RETURNS slotguard.booking LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.booking_hash($1);
$$;
COMMENT ON FUNCTION slotguard.reschedule_booking(bigint, tstzrange) IS
    'slotguard.reschedule_booking on the shard that made the booking id.';

CREATE FUNCTION slotguard.free_slots(
    resource text, search tstzrange, duration interval, step interval DEFAULT NULL, seats int DEFAULT 1)
RETURNS SETOF tstzrange LANGUAGE plproxy ROWS 100 AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.free_slots(text, tstzrange, interval, interval, int) IS
    'slotguard.free_slots on the shard of the resource''s tenant.';

CREATE FUNCTION slotguard.availability(resource text, search tstzrange)
RETURNS TABLE (during tstzrange, free_seats int) LANGUAGE plproxy ROWS 10 AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.availability(text, tstzrange) IS
    'slotguard.availability on the shard of the resource''s tenant.';

-- ---------------------------------------------------------------------------
-- Workers (contract §3). A booking and its workers live on the booking's
-- shard; a worker's schedule is per tenant (acme:ana), so it routes too.
-- ---------------------------------------------------------------------------

CREATE FUNCTION slotguard.assign_workers(
    booking_id bigint, workers text[], assigned_by text DEFAULT NULL, role text DEFAULT NULL)
RETURNS SETOF slotguard.assignment LANGUAGE plproxy ROWS 3 AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.booking_hash($1);
$$;
COMMENT ON FUNCTION slotguard.assign_workers(bigint, text[], text, text) IS
    'slotguard.assign_workers on the shard that made the booking id.';

CREATE FUNCTION slotguard.unassign_worker(booking_id bigint, worker text)
RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.booking_hash($1);
$$;
COMMENT ON FUNCTION slotguard.unassign_worker(bigint, text) IS
    'slotguard.unassign_worker on the shard that made the booking id.';

CREATE FUNCTION slotguard.worker_schedule(worker text, search tstzrange)
RETURNS TABLE (booking_id bigint, during tstzrange, resource_key text) LANGUAGE plproxy ROWS 10 AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.worker_schedule(text, tstzrange) IS
    'slotguard.worker_schedule on the shard of the worker''s tenant.';

-- ---------------------------------------------------------------------------
-- Orders (contract §4). An order lives on the shard of its key's tenant.
-- claim_next_order routes by the claimant's tenant: a claimant acme:driver-7
-- takes the oldest claimable order of tenant acme. Each order is on one
-- shard, so it is still claimed exactly once.
-- ---------------------------------------------------------------------------

CREATE FUNCTION slotguard.add_order(
    key text, kind text DEFAULT NULL, ready boolean DEFAULT true, payload jsonb DEFAULT NULL)
RETURNS slotguard.orders LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.add_order(text, text, boolean, jsonb) IS
    'slotguard.add_order on the shard of the key''s tenant.';

CREATE FUNCTION slotguard.set_order_ready(key text)
RETURNS slotguard.orders LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.set_order_ready(text) IS
    'slotguard.set_order_ready on the shard of the key''s tenant.';

CREATE FUNCTION slotguard.claim_order(key text, claimant text, lease interval DEFAULT NULL)
RETURNS slotguard.orders LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.claim_order(text, text, interval) IS
    'slotguard.claim_order on the shard of the key''s tenant.';

CREATE FUNCTION slotguard.try_claim_order(key text, claimant text, lease interval DEFAULT NULL)
RETURNS slotguard.orders LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.try_claim_order(text, text, interval) IS
    'slotguard.try_claim_order on the shard of the key''s tenant (all fields NULL when another claimant holds the order).';

CREATE FUNCTION slotguard.claim_next_order(claimant text, kind text DEFAULT NULL, lease interval DEFAULT NULL)
RETURNS slotguard.orders LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.claim_next_order(text, text, interval) IS
    'slotguard.claim_next_order on the shard of the claimant''s tenant: the oldest claimable order of that tenant (all fields NULL when none).';

CREATE FUNCTION slotguard.release_order(key text, claimant text)
RETURNS slotguard.orders LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.release_order(text, text) IS
    'slotguard.release_order on the shard of the key''s tenant.';

CREATE FUNCTION slotguard.complete_order(key text, claimant text)
RETURNS slotguard.orders LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON slotguard.tenant_hash($1);
$$;
COMMENT ON FUNCTION slotguard.complete_order(text, text) IS
    'slotguard.complete_order on the shard of the key''s tenant.';

-- ---------------------------------------------------------------------------
-- The one deliberate fan-out: a report over every shard.
-- ---------------------------------------------------------------------------

CREATE FUNCTION slotguard.shard_info()
RETURNS TABLE (shard_number int, shard_count int, ids_route_here boolean,
               resources bigint, bookings bigint, orders bigint)
LANGUAGE plproxy AS $$
    CLUSTER 'slotguard';
    RUN ON ALL;
$$;
COMMENT ON FUNCTION slotguard.shard_info() IS
    'slotguard.shard_info() of every shard (RUN ON ALL): numbers, whether ids route back, row counts.';

GRANT USAGE ON SCHEMA slotguard TO PUBLIC;
