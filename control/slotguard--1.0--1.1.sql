-- slotguard 1.0 -> 1.1: shards for scale-out through PL/Proxy (contract §9).
\echo Use "ALTER EXTENSION slotguard UPDATE TO '1.1'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- A slotguard database can be one shard of several behind a coordinator
-- running the slotguard_proxy extension (proxy/, docs/scale-out.md). The
-- coordinator routes calls by tenant (the part of a key before the first
-- ':') and routes calls that take a booking id by the id's low bits, so a
-- shard must make ids whose low bits are its shard number:
-- configure_shard(n, count) switches booking_id_seq to step `count` from a
-- value = n (mod count). count is the number of partitions the coordinator
-- is configured with (a power of two).
--
-- pg_dump keeps this table but not a sequence's step (the sequence belongs
-- to the extension, so only its current value is dumped): after restoring a
-- shard, call configure_shard again with the same numbers. shard_info()
-- shows whether the ids made here still route here.
-- ---------------------------------------------------------------------------

CREATE TABLE slotguard.shard_config (
    one           boolean PRIMARY KEY DEFAULT true CHECK (one),
    shard_number  int NOT NULL CHECK (shard_number >= 0),
    shard_count   int NOT NULL CHECK (shard_count >= 1 AND shard_count & (shard_count - 1) = 0),
    configured_at timestamptz NOT NULL DEFAULT now(),
    CHECK (shard_number < shard_count)
);
COMMENT ON TABLE slotguard.shard_config IS
    'This database''s place among the shards behind a slotguard_proxy coordinator (one row, set by configure_shard).';
SELECT pg_catalog.pg_extension_config_dump('slotguard.shard_config', '');
REVOKE ALL ON slotguard.shard_config FROM PUBLIC;

-- The part of a key before its first ':', or the whole key: what the
-- coordinator hashes to pick a shard. The same function exists there.
CREATE FUNCTION slotguard.tenant_of(key text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.split_part(key, ':', 1);
COMMENT ON FUNCTION slotguard.tenant_of(text) IS
    'The tenant of a key: the part before the first '':'' (acme:room-1 -> acme), or the whole key. The shard key of scale-out.';

CREATE FUNCTION slotguard.configure_shard(shard_number int, shard_count int)
RETURNS slotguard.shard_config
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    mask    bigint;
    last_id bigint;
    next_id bigint;
    stray   bigint;
    result  slotguard.shard_config;
BEGIN
    IF shard_number IS NULL OR shard_count IS NULL THEN
        RAISE EXCEPTION 'configure_shard: shard_number and shard_count must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF shard_count < 1 OR shard_count > 1024 OR shard_count & (shard_count - 1) <> 0 THEN
        RAISE EXCEPTION 'configure_shard: shard_count must be a power of two between 1 and 1024, not %', shard_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF shard_number < 0 OR shard_number >= shard_count THEN
        RAISE EXCEPTION 'configure_shard: shard_number must be between 0 and %, not %', shard_count - 1, shard_number
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    mask := shard_count - 1;

    -- Serialise with other configure_shard calls and with booking inserts.
    LOCK TABLE slotguard.booking IN SHARE MODE;
    SELECT b.id INTO stray FROM slotguard.booking b WHERE (b.id & mask) <> shard_number LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'configure_shard: booking % already exists here and would not route to shard % of %',
            stray, shard_number, shard_count
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Configure a shard before it takes bookings.';
    END IF;

    SELECT CASE WHEN s.is_called THEN s.last_value ELSE s.last_value - 1 END
      INTO last_id FROM slotguard.booking_id_seq s;
    next_id := ((last_id / shard_count) + 1) * shard_count + shard_number;
    IF next_id - shard_count > last_id THEN
        next_id := next_id - shard_count;   -- the first aligned id above last_id
    END IF;
    IF next_id < 1 THEN
        next_id := next_id + shard_count;
    END IF;
    EXECUTE pg_catalog.format('ALTER SEQUENCE slotguard.booking_id_seq INCREMENT BY %s', shard_count);
    PERFORM pg_catalog.setval('slotguard.booking_id_seq', next_id, false);

    INSERT INTO slotguard.shard_config AS c (shard_number, shard_count)
    VALUES (configure_shard.shard_number, configure_shard.shard_count)
    ON CONFLICT (one) DO UPDATE
        SET shard_number = excluded.shard_number, shard_count = excluded.shard_count,
            configured_at = pg_catalog.now()
    RETURNING * INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION slotguard.configure_shard(int, int) IS
    'Makes this database shard `shard_number` of `shard_count` (a power of two): booking ids made here are = shard_number (mod shard_count), so a coordinator routes them back. Run once after CREATE EXTENSION, and again after restoring a dump.';

CREATE FUNCTION slotguard.shard_info()
RETURNS TABLE (shard_number int, shard_count int, ids_route_here boolean,
               resources bigint, bookings bigint, orders bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT coalesce(c.shard_number, 0),
           coalesce(c.shard_count, 1),
           -- The next id made here routes here: the sequence still steps by
           -- shard_count (a restored dump resets the step) from an aligned value.
           (SELECT s.increment_by = coalesce(c.shard_count, 1)
                   AND (sv.last_value & (coalesce(c.shard_count, 1) - 1)) = coalesce(c.shard_number, 0)
              FROM pg_catalog.pg_sequences s, slotguard.booking_id_seq sv
             WHERE s.schemaname = 'slotguard' AND s.sequencename = 'booking_id_seq'),
           (SELECT count(*) FROM slotguard.resource),
           (SELECT count(*) FROM slotguard.booking),
           (SELECT count(*) FROM slotguard.orders)
    FROM (SELECT 1) AS one
    LEFT JOIN slotguard.shard_config c ON true;
END;
COMMENT ON FUNCTION slotguard.shard_info() IS
    'This shard''s number and count, whether the booking ids it makes route back to it, and its row counts.';

REVOKE ALL ON FUNCTION slotguard.configure_shard(int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION slotguard.tenant_of(text), slotguard.shard_info() TO PUBLIC;

-- ---------------------------------------------------------------------------
-- try_claim_order: claim_order for callers that expect to lose often (many
-- drivers, one order). Losing to another claimant returns NULL instead of
-- raising 55P03, so the caller's transaction goes on and no subtransaction
-- is needed to catch the error. Every other case is claim_order's: the
-- claim, the idempotent retry, and the errors for bad input, unknown orders
-- (P0002) and orders not ready / done / cancelled (55000).
-- ---------------------------------------------------------------------------
CREATE FUNCTION slotguard.try_claim_order(key text, claimant text, lease interval DEFAULT NULL)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_try_claim_order';
COMMENT ON FUNCTION slotguard.try_claim_order(text, text, interval) IS
    'Like claim_order, but an order held by another claimant returns NULL instead of raising 55P03.';
GRANT EXECUTE ON FUNCTION slotguard.try_claim_order(text, text, interval) TO PUBLIC;

-- ---------------------------------------------------------------------------
-- The rules of slotguard.orders as one CHECK constraint calling C. Same
-- rules as the six CHECK expressions of 1.0: PostgreSQL rebuilds each CHECK
-- expression from its stored text on every statement that writes the
-- table, which cost a one-row claim more than the claim itself
-- (src/pg/order_rules.cpp, bench/orders.md). A broken rule is still 23514,
-- now with the rule in DETAIL.
-- ---------------------------------------------------------------------------
CREATE FUNCTION slotguard.order_row_ok(
    key text, status text, claimant text, claimed_at timestamptz,
    lease_expires_at timestamptz, ready_at timestamptz)
RETURNS boolean
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_order_row_ok';
COMMENT ON FUNCTION slotguard.order_row_ok(text, text, text, timestamptz, timestamptz, timestamptz) IS
    'CHECK constraint orders_rules: non-blank key and claimant, a known status, a claimant and claimed_at exactly when claimed or done, a lease only on a claim and after it began, ready_at from ready on. Raises 23514 naming the rule.';
REVOKE ALL ON FUNCTION slotguard.order_row_ok(text, text, text, timestamptz, timestamptz, timestamptz) FROM PUBLIC;

ALTER TABLE slotguard.orders
    DROP CONSTRAINT orders_key_check,
    DROP CONSTRAINT orders_status_check,
    DROP CONSTRAINT orders_claimant_check,
    DROP CONSTRAINT orders_claimant_consistency,
    DROP CONSTRAINT orders_lease_consistency,
    DROP CONSTRAINT orders_ready_consistency,
    ADD CONSTRAINT orders_rules
        CHECK (slotguard.order_row_ok(key, status, claimant, claimed_at, lease_expires_at, ready_at));

-- ---------------------------------------------------------------------------
-- Guard entries indexed by a 64-bit hash of their key instead of the key
-- text: GiST on text (btree_gist) spent most of a guarded insert comparing
-- and merging text prefixes (src/pg/entry_hash.cpp). The scans still
-- compare entry_key, so equal hashes of different keys never mix.
-- ---------------------------------------------------------------------------
CREATE FUNCTION slotguard.entry_hash(entry_key text)
RETURNS bigint
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_entry_hash';
COMMENT ON FUNCTION slotguard.entry_hash(text) IS
    'FNV-1a hash of a guard entry key: the first column of the guard entries'' GiST index.';
REVOKE ALL ON FUNCTION slotguard.entry_hash(text) FROM PUBLIC;

ALTER TABLE slotguard.guard_entry
    ADD COLUMN entry_hash bigint NOT NULL GENERATED ALWAYS AS (slotguard.entry_hash(entry_key)) STORED;
DROP INDEX slotguard.guard_entry_key_blocked_idx;
CREATE INDEX guard_entry_hash_blocked_idx ON slotguard.guard_entry USING gist (entry_hash, blocked);

-- ---------------------------------------------------------------------------
-- Bookings indexed the same way: by resource_hash, a 64-bit hash of the
-- resource key, instead of the key text. The conflict check compares
-- resource_key on every row it finds, so equal hashes never mix resources
-- (src/pg/booking_scan.cpp). book_slot's direct insert computes the column
-- itself; other writes get it from the column's expression.
-- ---------------------------------------------------------------------------
ALTER TABLE slotguard.booking
    ADD COLUMN resource_hash bigint NOT NULL GENERATED ALWAYS AS (slotguard.entry_hash(resource_key)) STORED;
COMMENT ON COLUMN slotguard.booking.resource_hash IS
    'slotguard.entry_hash(resource_key) (generated): the first column of the conflict check''s GiST index.';
DROP INDEX slotguard.booking_blocked_idx;
-- The conflict check scans this index with a dirty snapshot (docs/concurrency.md).
CREATE INDEX booking_hash_blocked_idx ON slotguard.booking
    USING gist (resource_hash, blocked) WHERE status <> 'cancelled';
