-- claim_next_order's fast path locks and updates the oldest ready order
-- straight in the heap and its indexes (src/pg/orders/order_claim_next.cpp), not
-- through an SQL UPDATE. The row must be the one the UPDATE would write,
-- every index must get its entries, and anything on the table an UPDATE
-- would run that the direct path does not (a user trigger, an unknown CHECK
-- constraint, a rule, row-level security) sends the call back through SQL.
-- The concurrent cases (SKIP LOCKED, 40001) are specs/order_next_skip_locked.spec.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SET DateStyle = 'ISO, YMD';

CREATE FUNCTION pg_temp.od_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    constraint_name text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(constraint_name, '') || ')', '');
END
$$;

SELECT count(*) AS orders_before FROM slotguard.orders;
BEGIN;
SELECT key FROM slotguard.add_order('od:1', 'soup', payload => '{"n": 1}');
SELECT key FROM slotguard.add_order('od:2', 'tea');
SELECT key FROM slotguard.add_order('od:3', 'soup');
SELECT key FROM slotguard.add_order('od:4', 'tea');
SELECT key FROM slotguard.add_order('od:5', 'soup');
SELECT key FROM slotguard.add_order('od:6', 'soup');
COMMIT;

-- The claimed row: status, claimant, claimed_at = now(), the lease from
-- now(); key, kind, payload, ready_at and created_at as they were.
CREATE TEMP TABLE od_before AS SELECT * FROM slotguard.orders;
SELECT o.key, o.kind, o.status, o.claimant, o.claimed_at = now() AS claimed_now,
       o.lease_expires_at = now() + interval '90 seconds' AS lease_90s, o.payload,
       o.ready_at = b.ready_at AS same_ready_at, o.created_at = b.created_at AS same_created_at
FROM slotguard.claim_next_order('driver-a', lease => '90 seconds') AS o JOIN od_before b USING (key);
SELECT key, status, claimant, lease_expires_at IS NULL AS no_lease
FROM slotguard.claim_next_order('driver-b', 'tea');
-- What is stored is what was returned, column for column.
CREATE TEMP TABLE od_returned AS SELECT * FROM slotguard.claim_next_order('driver-c', 'soup');
SELECT r.key, r::text = s::text AS returned_is_stored FROM od_returned r JOIN slotguard.orders s USING (key);

-- The indexes: a claimed order has left the ready queue (so the next call
-- takes the next one) and, with a lease, is in the lease index.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT key FROM slotguard.orders WHERE status = 'claimed' AND lease_expires_at <= now() + interval '1 hour';
SELECT key FROM slotguard.orders WHERE status = 'claimed' AND lease_expires_at <= now() + interval '1 hour';
EXPLAIN (COSTS OFF) SELECT key FROM slotguard.orders WHERE status = 'ready' ORDER BY priority DESC, ready_at, key;
SELECT key FROM slotguard.orders WHERE status = 'ready' ORDER BY priority DESC, ready_at, key;
SELECT key FROM slotguard.orders WHERE key = 'od:1';
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Which path ran: the direct path scans two indexes (the lease probe, the
-- ready queue); the SQL statement scans one more relation, for its outer
-- UPDATE finding the row again by key. The backend's scan counters are not
-- flushed inside a transaction block, so the difference is the claim's.
CREATE FUNCTION pg_temp.od_scans() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(pg_stat_get_xact_numscans(c))::bigint
    FROM (SELECT 'slotguard.orders'::regclass::oid AS c
          UNION ALL SELECT indexrelid FROM pg_index WHERE indrelid = 'slotguard.orders'::regclass) AS r
$$;
BEGIN;
CREATE TEMP TABLE od_scans AS SELECT pg_temp.od_scans() AS n;
SELECT key FROM slotguard.claim_next_order('driver-p');
SELECT pg_temp.od_scans() - n AS scans_direct FROM od_scans;
ROLLBACK;
BEGIN;
ALTER TABLE slotguard.orders ADD CONSTRAINT od_any CHECK (true);
CREATE TEMP TABLE od_scans AS SELECT pg_temp.od_scans() AS n;
SELECT key FROM slotguard.claim_next_order('driver-p');
SELECT pg_temp.od_scans() - n AS scans_sql FROM od_scans;
ROLLBACK;

-- A claim that loses to another claimant's live claim: one look through
-- the primary key (src/pg/orders/order_claim_next.cpp) instead of an UPDATE and a read;
-- the same answers as before: NULL, 55P03, the holder's own claim back,
-- and 25006 in a read-only transaction.
SELECT key, claimant FROM slotguard.claim_order('od:6', 'holder', '1 hour');
BEGIN;
CREATE TEMP TABLE od_scans AS SELECT pg_temp.od_scans() AS n;
SELECT slotguard.try_claim_order('od:6', 'rival') IS NULL AS lost;
SELECT pg_temp.od_scans() - n AS scans_peek FROM od_scans;
SELECT pg_temp.od_try($$SELECT slotguard.claim_order('od:6', 'rival')$$) AS claim_order_lost;
SELECT key, claimant FROM slotguard.try_claim_order('od:6', 'holder');
ROLLBACK;
BEGIN READ ONLY;
SELECT pg_temp.od_try($$SELECT slotguard.try_claim_order('od:6', 'rival')$$) AS read_only;
ROLLBACK;
SELECT key FROM slotguard.release_order('od:6', 'holder');

-- claim_order, release_order and complete_order by key are direct too: the
-- row is checked by calling orders_rules' C function itself, so the SQL
-- function slotguard.order_row_ok is not called (track_functions counts
-- its calls within the transaction); through SQL, the CHECK calls it.
SET track_functions = 'all';
CREATE FUNCTION pg_temp.od_rule_calls() RETURNS bigint LANGUAGE sql AS
    $$ SELECT coalesce(pg_stat_get_xact_function_calls('slotguard.order_row_ok'::regproc), 0) $$;
BEGIN;
CREATE TEMP TABLE od_calls AS SELECT pg_temp.od_rule_calls() AS n;
SELECT key, status, claimant FROM slotguard.claim_order('od:6', 'keyed');
SELECT key, status, claimant FROM slotguard.release_order('od:6', 'keyed');
SELECT key, status, claimant FROM slotguard.claim_order('od:6', 'keyed');
SELECT key, status, claimant, lease_expires_at IS NULL AS no_lease FROM slotguard.complete_order('od:6', 'keyed');
SELECT pg_temp.od_rule_calls() - n AS rule_calls_direct FROM od_calls;
ROLLBACK;
BEGIN;
ALTER TABLE slotguard.orders ADD CONSTRAINT od_any CHECK (true);
CREATE TEMP TABLE od_calls AS SELECT pg_temp.od_rule_calls() AS n;
SELECT key, status, claimant FROM slotguard.claim_order('od:6', 'keyed');
SELECT key, status, claimant FROM slotguard.release_order('od:6', 'keyed');
SELECT pg_temp.od_rule_calls() - n AS rule_calls_sql FROM od_calls;
ROLLBACK;
RESET track_functions;

-- Claims in one transaction see each other; a rollback undoes them.
BEGIN;
SELECT key FROM slotguard.claim_next_order('driver-d');
SELECT key FROM slotguard.claim_next_order('driver-d');
ROLLBACK;
SELECT key, status FROM slotguard.orders WHERE key IN ('od:4', 'od:5') ORDER BY key;

-- Through SQL when the table has a user trigger: it fires, and sees the
-- claim as the UPDATE makes it.
BEGIN;
CREATE FUNCTION pg_temp.od_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.payload := jsonb_build_object('seen_by_trigger', NEW.claimant, 'was', OLD.status);
    RETURN NEW;
END $$;
CREATE TRIGGER od_note BEFORE UPDATE ON slotguard.orders FOR EACH ROW EXECUTE FUNCTION pg_temp.od_note();
SELECT key, status, claimant, payload FROM slotguard.claim_next_order('driver-e', 'soup');
ROLLBACK;
-- ... and a statement trigger fires even on a call that claims nothing.
BEGIN;
CREATE TEMP TABLE od_log (n int);
CREATE FUNCTION pg_temp.od_stmt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO od_log VALUES (1);
    RETURN NULL;
END $$;
CREATE TRIGGER od_stmt AFTER UPDATE ON slotguard.orders FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.od_stmt();
SELECT key FROM slotguard.claim_next_order('driver-e', 'soup');
SELECT slotguard.claim_next_order('driver-e', 'sushi') IS NULL AS no_sushi;
SELECT count(*) > 0 AS statement_trigger_fired FROM od_log;
ROLLBACK;
-- A disabled trigger does not count.
BEGIN;
CREATE TRIGGER od_off BEFORE UPDATE ON slotguard.orders FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
ALTER TABLE slotguard.orders DISABLE TRIGGER od_off;
SELECT key, claimant FROM slotguard.claim_next_order('driver-e', 'soup');
ROLLBACK;

-- Through SQL when there is another CHECK constraint: it is enforced.
BEGIN;
ALTER TABLE slotguard.orders ADD CONSTRAINT od_no_mallory CHECK (claimant IS DISTINCT FROM 'mallory');
SELECT pg_temp.od_try($$SELECT slotguard.claim_next_order('mallory', 'soup')$$) AS mallory;
SELECT key, claimant FROM slotguard.claim_next_order('driver-f', 'soup');
ROLLBACK;

-- Through SQL when there is an UPDATE rule.
BEGIN;
CREATE TEMP TABLE od_ruled (key text);
CREATE RULE od_rule AS ON UPDATE TO slotguard.orders DO ALSO INSERT INTO od_ruled VALUES (NEW.key);
SELECT key FROM slotguard.claim_next_order('driver-f', 'soup');
SELECT key FROM od_ruled;
ROLLBACK;

-- Row-level security: the functions run as the table's owner, a superuser,
-- so the result is the same either way.
BEGIN;
ALTER TABLE slotguard.orders ENABLE ROW LEVEL SECURITY;
SELECT key, claimant FROM slotguard.claim_next_order('driver-f', 'soup');
ROLLBACK;

-- A column added (with a default) and an index added in the transaction:
-- the row keeps the new column, and the new index gets its entry.
BEGIN;
ALTER TABLE slotguard.orders ADD COLUMN od_extra text DEFAULT 'x';
CREATE INDEX od_claimant_idx ON slotguard.orders (claimant);
SELECT key, claimant, od_extra FROM slotguard.claim_next_order('driver-g', 'soup');
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT key FROM slotguard.orders WHERE claimant = 'driver-g';
ROLLBACK;
-- A dropped column leaves a hole in the row; the claim still fits it.
BEGIN;
ALTER TABLE slotguard.orders ADD COLUMN od_gone int;
ALTER TABLE slotguard.orders DROP COLUMN od_gone;
SELECT key, claimant FROM slotguard.claim_next_order('driver-g', 'soup');
SELECT key, status, claimant FROM slotguard.orders WHERE key = 'od:5';
ROLLBACK;

-- Without the ready index the call still works (through SQL).
BEGIN;
DROP INDEX slotguard.orders_queue_idx;
SELECT key FROM slotguard.claim_next_order('driver-h');
ROLLBACK;

-- A read-only transaction cannot claim (25006), as with an UPDATE.
BEGIN READ ONLY;
SELECT pg_temp.od_try($$SELECT slotguard.claim_next_order('driver-i')$$) AS read_only;
ROLLBACK;

-- After all of that, the direct path again.
SELECT key, claimant FROM slotguard.claim_next_order('driver-j', 'soup');
SELECT key, claimant FROM slotguard.claim_next_order('driver-j');
SELECT key, claimant FROM slotguard.claim_next_order('driver-j');
SELECT slotguard.claim_next_order('driver-j') IS NULL AS none_left;
SELECT key, kind, status, claimant FROM slotguard.orders WHERE key LIKE 'od:%' ORDER BY key;

DELETE FROM slotguard.orders WHERE key LIKE 'od:%';
