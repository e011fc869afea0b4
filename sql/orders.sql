-- Orders (API.md §4, errors §6, privileges §8): first-come claims.
--
-- The seed (two drivers take one order) fixed its race with one atomic
-- UPDATE ... WHERE status = 'ready' AND driver_id IS NULL and a CHECK that a
-- driver is present exactly when the order is assigned. slotguard does the
-- same inside the database, adds leases (a claim whose lease ran out can be
-- taken over) and fencing (the claimant that lost its lease can no longer
-- release or complete). The races themselves are in specs/order_*.spec and
-- test/stress_orders.sh; this file shows every function and every error.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SET DateStyle = 'ISO, YMD';

-- Runs a statement; returns 'ok' or "SQLSTATE: message" (and the DETAIL).
-- The exception block rolls the statement back, as the contract requires
-- of every error anyway.
CREATE FUNCTION pg_temp.ord_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN detail <> '' THEN ' / ' || detail ELSE '' END;
END
$$;

-- The same for direct writes, naming the constraint instead of the DETAIL
-- (which shows the row, timestamps and all).
CREATE FUNCTION pg_temp.ord_violates(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    constraint_name text;
    detail text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME, detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || coalesce(constraint_name, SQLERRM) || coalesce(' - ' || nullif(detail, ''), '');
END
$$;

-- An order without its timestamps (they change from run to run), but with
-- what they say.
CREATE FUNCTION pg_temp.ord(k text)
RETURNS TABLE (key text, kind text, status text, claimant text, claimed boolean, lease boolean,
               lease_live boolean, ready boolean, payload jsonb)
LANGUAGE sql AS $$
    SELECT o.key, o.kind, o.status, o.claimant, o.claimed_at IS NOT NULL, o.lease_expires_at IS NOT NULL,
           o.lease_expires_at > now(), o.ready_at IS NOT NULL, o.payload
    FROM slotguard.orders o WHERE o.key = k
$$;

-- ---------------------------------------------------------------------------
-- add_order
-- ---------------------------------------------------------------------------
-- Ready by default: status 'ready', ready_at = now().
SELECT key, kind, status, claimant, ready_at = now() AS ready_now, created_at = now() AS created_now, payload
FROM slotguard.add_order('ord:1', 'pizza', payload => '{"table": 7}');
-- ready => false: pending, no ready_at.
SELECT key, kind, status, ready_at IS NULL AS no_ready_at
FROM slotguard.add_order('ord:2', ready => false);
SELECT pg_temp.ord_try($$SELECT slotguard.add_order('ord:1')$$) AS duplicate_key;
SELECT pg_temp.ord_try($$SELECT slotguard.add_order(NULL)$$) AS null_key;
SELECT pg_temp.ord_try($$SELECT slotguard.add_order('  ')$$) AS blank_key;
SELECT pg_temp.ord_try($$SELECT slotguard.add_order('ord:x', ready => NULL)$$) AS null_ready;
SELECT pg_temp.ord_try($$SELECT slotguard.add_order('ord:x', kind => '')$$) AS blank_kind;
-- None of the failed calls left a row.
SELECT count(*) AS ord_x_rows FROM slotguard.orders WHERE key = 'ord:x';

-- ---------------------------------------------------------------------------
-- set_order_ready
-- ---------------------------------------------------------------------------
SELECT key, status, ready_at = now() AS ready_now FROM slotguard.set_order_ready('ord:2');
-- Already ready: returned unchanged (ready_at keeps its first value).
CREATE TEMP TABLE ord_saved AS SELECT ready_at FROM slotguard.orders WHERE key = 'ord:2';
SELECT pg_sleep(0.01);
SELECT o.status, o.ready_at = s.ready_at AS ready_at_kept
FROM slotguard.set_order_ready('ord:2') o, ord_saved s;
SELECT pg_temp.ord_try($$SELECT slotguard.set_order_ready('ord:none')$$) AS unknown;
SELECT pg_temp.ord_try($$SELECT slotguard.set_order_ready(NULL)$$) AS null_key;
SELECT pg_temp.ord_try($$SELECT slotguard.set_order_ready('')$$) AS blank_key;

-- ---------------------------------------------------------------------------
-- claim_order
-- ---------------------------------------------------------------------------
-- The first driver wins; claimed_at = now(), lease_expires_at = now() + lease.
SELECT key, status, claimant, claimed_at = now() AS claimed_now,
       lease_expires_at = now() + interval '10 minutes' AS lease_10_min
FROM slotguard.claim_order('ord:1', 'driver-a', lease => '10 minutes');
-- The second driver is refused: 55P03, and nothing about who holds it.
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:1', 'driver-b')$$) AS second_driver;
-- The first driver retrying gets its claim back, unchanged: the lease is
-- not extended, even when a longer one is asked for (a retry loop must not
-- keep an order forever).
CREATE TEMP TABLE ord_claim AS SELECT claimed_at, lease_expires_at FROM slotguard.orders WHERE key = 'ord:1';
SELECT pg_sleep(0.01);
SELECT o.claimant, o.claimed_at = c.claimed_at AS same_claim, o.lease_expires_at = c.lease_expires_at AS same_lease
FROM slotguard.claim_order('ord:1', 'driver-a', lease => '1 hour') o, ord_claim c;
SELECT * FROM pg_temp.ord('ord:1');
-- set_order_ready on a claimed order is a wrong state.
SELECT pg_temp.ord_try($$SELECT slotguard.set_order_ready('ord:1')$$) AS ready_claimed;

-- Not ready, unknown, bad arguments.
SELECT key FROM slotguard.add_order('ord:3', ready => false);
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:3', 'driver-a')$$) AS pending;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:none', 'driver-a')$$) AS unknown;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order(NULL, 'driver-a')$$) AS null_key;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('', 'driver-a')$$) AS blank_key;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:2', NULL)$$) AS null_claimant;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:2', E' \t')$$) AS blank_claimant;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:2', 'driver-a', '0')$$) AS zero_lease;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:2', 'driver-a', '-5 minutes')$$) AS negative_lease;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:2', 'driver-a', '1 month -30 days')$$) AS zero_sum_lease;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:2', 'driver-a', '100000000 years')$$) AS huge_lease;
-- ord:2 is still ready after all that.
SELECT * FROM pg_temp.ord('ord:2');

-- ---------------------------------------------------------------------------
-- release_order and complete_order: only the current claimant
-- ---------------------------------------------------------------------------
SELECT pg_temp.ord_try($$SELECT slotguard.release_order('ord:1', 'driver-b')$$) AS release_by_other;
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:1', 'driver-b')$$) AS complete_by_other;
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:2', 'driver-a')$$) AS complete_unclaimed;
SELECT pg_temp.ord_try($$SELECT slotguard.release_order('ord:3', 'driver-a')$$) AS release_pending;
SELECT pg_temp.ord_try($$SELECT slotguard.release_order('ord:none', 'driver-a')$$) AS release_unknown;
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:none', 'driver-a')$$) AS complete_unknown;
SELECT pg_temp.ord_try($$SELECT slotguard.release_order(NULL, 'driver-a')$$) AS null_key;
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:1', NULL)$$) AS null_claimant;
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:1', ' ')$$) AS blank_claimant;
-- Release: claimed -> ready, the claim is cleared, the order keeps its
-- ready_at (its place in the queue).
SELECT key, status, claimant, claimed_at, lease_expires_at, ready_at IS NOT NULL AS has_ready_at
FROM slotguard.release_order('ord:1', 'driver-a');
-- Now driver-b can have it; complete: claimed -> done.
SELECT key, status, claimant FROM slotguard.claim_order('ord:1', 'driver-b');
SELECT key, status, claimant, claimed_at IS NOT NULL AS has_claimed_at, lease_expires_at
FROM slotguard.complete_order('ord:1', 'driver-b');
-- A retried complete by the same claimant returns the done order.
SELECT key, status, claimant FROM slotguard.complete_order('ord:1', 'driver-b');
-- Anything else on a done order is refused.
SELECT pg_temp.ord_try($$SELECT slotguard.release_order('ord:1', 'driver-b')$$) AS release_done;
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:1', 'driver-a')$$) AS complete_done_by_other;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:1', 'driver-b')$$) AS claim_done;
SELECT pg_temp.ord_try($$SELECT slotguard.set_order_ready('ord:1')$$) AS ready_done;

-- Cancelled orders (there is no API for it yet: the owner writes directly).
UPDATE slotguard.orders SET status = 'cancelled' WHERE key = 'ord:3';
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:3', 'driver-a')$$) AS claim_cancelled;
SELECT pg_temp.ord_try($$SELECT slotguard.set_order_ready('ord:3')$$) AS ready_cancelled;
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:3', 'driver-a')$$) AS complete_cancelled;

-- ---------------------------------------------------------------------------
-- Leases and fencing. now() is the start of the transaction, and every
-- statement here is its own transaction, so after pg_sleep the next
-- statement's now() is past a 1-millisecond lease.
-- ---------------------------------------------------------------------------
SELECT key, claimant, lease_expires_at - claimed_at AS lease
FROM slotguard.claim_order('ord:2', 'driver-a', lease => '1 millisecond');
SELECT pg_sleep(0.01);
-- The lease ran out: the order is still 'claimed' by driver-a ...
SELECT * FROM pg_temp.ord('ord:2');
-- ... but driver-b can take it over.
SELECT key, status, claimant, lease_expires_at IS NULL AS no_lease FROM slotguard.claim_order('ord:2', 'driver-b');
-- Fencing: driver-a, back late, can neither complete nor release it.
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:2', 'driver-a')$$) AS late_complete;
SELECT pg_temp.ord_try($$SELECT slotguard.release_order('ord:2', 'driver-a')$$) AS late_release;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_order('ord:2', 'driver-a')$$) AS late_claim;
-- driver-b has no lease: its claim never expires.
SELECT key, status, claimant FROM slotguard.complete_order('ord:2', 'driver-b');

-- An expired lease that nobody took over: the claimant is fenced off all
-- the same (its lease is over), but may claim the order again.
SELECT key FROM slotguard.add_order('ord:4');
SELECT key, claimant FROM slotguard.claim_order('ord:4', 'driver-a', lease => '1 millisecond');
SELECT pg_sleep(0.01);
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:4', 'driver-a')$$) AS expired_complete;
SELECT pg_temp.ord_try($$SELECT slotguard.release_order('ord:4', 'driver-a')$$) AS expired_release;
SELECT key, status, claimant, lease_expires_at = now() + interval '5 minutes' AS new_lease
FROM slotguard.claim_order('ord:4', 'driver-a', lease => '5 minutes');
SELECT key, status, claimant FROM slotguard.release_order('ord:4', 'driver-a');
SELECT * FROM pg_temp.ord('ord:4');

-- ---------------------------------------------------------------------------
-- claim_next_order: oldest claimable first, by ready_at then key
-- ---------------------------------------------------------------------------
DELETE FROM slotguard.orders WHERE key LIKE 'ord:%';
-- Three orders made ready in one transaction share ready_at: key decides.
BEGIN;
SELECT key FROM slotguard.add_order('ord:n-c', 'soup');
SELECT key FROM slotguard.add_order('ord:n-a', 'pizza');
SELECT key FROM slotguard.add_order('ord:n-b', 'soup');
COMMIT;
SELECT key FROM slotguard.add_order('ord:n-d', 'pizza');
SELECT key FROM slotguard.add_order('ord:n-e', 'soup');
SELECT key FROM slotguard.add_order('ord:n-p', 'soup', ready => false);  -- pending: never claimed next
SELECT key, status, claimant, lease_expires_at = now() + interval '1 minute' AS lease_1_min
FROM slotguard.claim_next_order('driver-a', lease => '1 minute');
SELECT key, status, claimant FROM slotguard.claim_next_order('driver-b', kind => 'soup');
-- driver-c takes ord:n-c with a 1 ms lease, which then runs out.
SELECT key, claimant FROM slotguard.claim_next_order('driver-c', lease => '1 millisecond');
SELECT pg_sleep(0.01);
-- The expired claim on ord:n-c is older than every ready order: next in line.
SELECT key, claimant FROM slotguard.claim_next_order('driver-d', kind => 'soup');
SELECT key, claimant FROM slotguard.claim_next_order('driver-d');
SELECT key, claimant FROM slotguard.claim_next_order('driver-d', 'soup');
-- Nothing claimable (of a kind, or at all): NULL, not an error.
SELECT slotguard.claim_next_order('driver-d', 'soup') IS NULL AS no_soup;
SELECT slotguard.claim_next_order('driver-d', 'sushi') IS NULL AS no_sushi;
SELECT slotguard.claim_next_order('driver-d') IS NULL AS nothing;
SELECT key, status, claimant FROM slotguard.orders WHERE key LIKE 'ord:n-%' ORDER BY key;
-- driver-c was fenced off by the takeover.
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:n-c', 'driver-c')$$) AS fenced;
-- A released order goes back to its old place in the queue.
SELECT key, status FROM slotguard.release_order('ord:n-b', 'driver-b');
SELECT key FROM slotguard.add_order('ord:n-f', 'soup');
SELECT key, claimant FROM slotguard.claim_next_order('driver-e');
-- An expired claim does not jump the queue: a ready order that is older
-- still goes first.
SELECT key FROM slotguard.add_order('ord:t-1', 'tea');
SELECT key FROM slotguard.add_order('ord:t-2', 'tea');
SELECT key, claimant FROM slotguard.claim_order('ord:t-2', 'driver-x', lease => '1 millisecond');
SELECT pg_sleep(0.01);
SELECT key, claimant FROM slotguard.claim_next_order('driver-y', 'tea');
SELECT key, claimant FROM slotguard.claim_next_order('driver-y', 'tea');
SELECT slotguard.claim_next_order('driver-y', 'tea') IS NULL AS no_tea;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_next_order(NULL)$$) AS null_claimant;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_next_order('')$$) AS blank_claimant;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_next_order('driver-e', ' ')$$) AS blank_kind;
SELECT pg_temp.ord_try($$SELECT slotguard.claim_next_order('driver-e', lease => '0 seconds')$$) AS zero_lease;
-- ord:n-f was not touched by the failed calls.
SELECT * FROM pg_temp.ord('ord:n-f');

-- ---------------------------------------------------------------------------
-- The table constraint: the seed's consistency rule holds even for the
-- owner's direct writes (23514).
-- ---------------------------------------------------------------------------
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET status = 'claimed' WHERE key = 'ord:n-f'$$) AS claimed_without_claimant;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET claimant = 'driver-x', claimed_at = now() WHERE key = 'ord:n-f'$$) AS ready_with_claimant;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET claimant = NULL WHERE key = 'ord:n-a'$$) AS claimed_loses_claimant;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET claimed_at = NULL WHERE key = 'ord:n-a'$$) AS claimed_without_time;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET status = 'ready' WHERE key = 'ord:n-a'$$) AS ready_keeps_claimant;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET lease_expires_at = now() + interval '1 hour' WHERE key = 'ord:n-f'$$) AS lease_on_ready;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET lease_expires_at = claimed_at WHERE key = 'ord:n-a'$$) AS empty_lease;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET ready_at = now() WHERE key = 'ord:n-p'$$) AS pending_with_ready_at;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET status = 'shipped' WHERE key = 'ord:n-f'$$) AS unknown_status;
SELECT pg_temp.ord_violates($$INSERT INTO slotguard.orders (key) VALUES (' ')$$) AS blank_key;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET claimant = '  ' WHERE key = 'ord:n-a'$$) AS blank_claimant;
SELECT pg_temp.ord_violates($$UPDATE slotguard.orders SET ready_at = NULL WHERE key = 'ord:n-f'$$) AS ready_without_ready_at;
-- A consistent direct write is allowed (a plain INSERT is a pending order).
SELECT pg_temp.ord_violates($$INSERT INTO slotguard.orders (key) VALUES ('ord:direct')$$) AS direct_insert;
SELECT * FROM pg_temp.ord('ord:direct');

-- ---------------------------------------------------------------------------
-- Privileges (§8): the functions are public and run as their owner with a
-- pinned search_path; the table is not readable or writable by PUBLIC.
-- ---------------------------------------------------------------------------
SELECT p.proname, p.prosecdef, p.proconfig, p.proisstrict,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace
  AND p.proname IN ('add_order', 'set_order_ready', 'claim_order', 'try_claim_order', 'claim_next_order', 'release_order', 'complete_order')
ORDER BY p.proname;
SELECT has_table_privilege('public', 'slotguard.orders', 'SELECT') AS public_select,
       has_table_privilege('public', 'slotguard.orders', 'INSERT, UPDATE, DELETE, TRUNCATE') AS public_write;
SELECT 'slotguard.orders'::regclass = ANY (extconfig) AS dumped FROM pg_extension WHERE extname = 'slotguard';
-- An ordinary role claims through the API, but cannot touch the table.
CREATE ROLE regress_ord_driver;
SELECT slotguard.grant_access('regress_ord_driver');
SET ROLE regress_ord_driver;
SET search_path = pg_temp, public;  -- nothing a caller puts first can shadow what the functions use
SELECT key, claimant FROM slotguard.claim_order('ord:n-f', 'driver-f');
SELECT pg_temp.ord_try($$SELECT count(*) FROM slotguard.orders$$) AS direct_select;
SELECT pg_temp.ord_try($$UPDATE slotguard.orders SET claimant = 'me' WHERE key = 'ord:n-f'$$) AS direct_update;
SELECT pg_temp.ord_try($$SELECT slotguard.complete_order('ord:n-f', 'driver-g')$$) AS not_claimant;
SELECT key, status, claimant FROM slotguard.complete_order('ord:n-f', 'driver-f');
RESET ROLE;
RESET search_path;
SELECT slotguard.revoke_access('regress_ord_driver');
DROP ROLE regress_ord_driver;

-- ---------------------------------------------------------------------------
-- try_claim_order: losing to another claimant returns NULL, no error; every
-- other outcome is claim_order's.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.add_order('ord:try-1');
SELECT key, status, claimant FROM slotguard.try_claim_order('ord:try-1', 'driver-a');
SELECT slotguard.try_claim_order('ord:try-1', 'driver-b') IS NULL AS lost_is_null;
SELECT key, status, claimant FROM slotguard.try_claim_order('ord:try-1', 'driver-a');  -- idempotent retry
SELECT claimant FROM slotguard.orders WHERE key = 'ord:try-1';
SELECT key FROM slotguard.add_order('ord:try-2', ready => false);
SELECT pg_temp.ord_try($$SELECT slotguard.try_claim_order('ord:try-2', 'driver-a')$$) AS not_ready;
SELECT pg_temp.ord_try($$SELECT slotguard.try_claim_order('ord:try-none', 'driver-a')$$) AS not_found;
SELECT pg_temp.ord_try($$SELECT slotguard.try_claim_order('ord:try-1', '  ')$$) AS blank_claimant;
SELECT pg_temp.ord_try($$SELECT slotguard.try_claim_order(NULL, 'driver-a')$$) AS null_key;
SELECT pg_temp.ord_try($$SELECT slotguard.try_claim_order('ord:try-1', 'driver-a', '-1 hour')$$) AS bad_lease;
-- An expired lease can be taken over, as with claim_order.
SELECT key FROM slotguard.add_order('ord:try-3');
SELECT claimant FROM slotguard.try_claim_order('ord:try-3', 'driver-a', '1 millisecond');
SELECT pg_sleep(0.01);
SELECT claimant FROM slotguard.try_claim_order('ord:try-3', 'driver-b');

-- ---------------------------------------------------------------------------
-- Clean up: no order of this file is left behind.
-- ---------------------------------------------------------------------------
DELETE FROM slotguard.orders WHERE key LIKE 'ord:%';
SELECT count(*) AS orders_left FROM slotguard.orders WHERE key LIKE 'ord:%';
