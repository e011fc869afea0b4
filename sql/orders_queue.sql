-- Orders as a work queue (API.md §14, errors §6): fencing tokens,
-- renew_lease, fail_order with backoff and dead orders, priority and
-- not_before, claim_next_orders; confinement and read-only transactions.
-- The races are in specs/order_queue_*.spec and test/stress_orders.sh.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
-- Tokens are printed: start from a fixed point, whatever earlier files claimed.
SELECT setval('slotguard.order_claim_token_seq', 1000) AS token_base;

-- Runs a statement; 'ok' or "SQLSTATE: message".
CREATE FUNCTION pg_temp.oq_try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- An order without its timestamps, but with what they say.
CREATE FUNCTION pg_temp.oq(k text)
RETURNS TABLE (key text, status text, claimant text, priority int, attempts int, max_attempts int,
               last_error text, has_token boolean, due boolean, lease_live boolean)
LANGUAGE sql AS $$
    SELECT o.key, o.status, o.claimant, o.priority, o.attempts, o.max_attempts, o.last_error,
           o.claim_token IS NOT NULL, o.ready_at <= now(), o.lease_expires_at > now()
    FROM slotguard.orders o WHERE o.key = k
$$;

-- Every order here has a kind of its own ('oq', 'oq-even', 'oq-odd') or
-- tenant ('oqa', 'oqb'), so that earlier files' orders stay out of the way.

-- ---------------------------------------------------------------------------
-- add_order: priority, not_before, max_attempts (new trailing arguments)
-- ---------------------------------------------------------------------------
SELECT key, status, priority, not_before, max_attempts, attempts, claim_token, ready_at = now() AS ready_now
FROM slotguard.add_order('oq:low', 'oq');
SELECT key, priority FROM slotguard.add_order('oq:high', 'oq', priority => 5);
SELECT key, priority FROM slotguard.add_order('oq:mid', 'oq', true, NULL, 2);    -- positional, as 1.1 + one
SELECT key, not_before = now() + interval '1 hour' AS later, ready_at = not_before AS ready_at_is_not_before
FROM slotguard.add_order('oq:later', 'oq', priority => 9, not_before => now() + interval '1 hour');
-- not_before in the past: ready now.
SELECT key, ready_at = now() AS ready_now FROM slotguard.add_order('oq:past', 'oq', not_before => '2000-01-01');
-- Pending with not_before: set_order_ready makes it ready at not_before.
SELECT key, status FROM slotguard.add_order('oq:pend', 'oq-pending', ready => false, not_before => now() + interval '1 day');
SELECT key, status, ready_at = not_before AS at_not_before FROM slotguard.set_order_ready('oq:pend');
SELECT pg_temp.oq_try($$SELECT slotguard.add_order('oq:x', priority => NULL)$$) AS null_priority;
SELECT pg_temp.oq_try($$SELECT slotguard.add_order('oq:x', max_attempts => NULL)$$) AS null_max_attempts;
SELECT pg_temp.oq_try($$SELECT slotguard.add_order('oq:x', max_attempts => 0)$$) AS zero_max_attempts;
SELECT pg_temp.oq_try($$SELECT slotguard.add_order('oq:x', not_before => 'infinity')$$) AS infinite_not_before;
SELECT count(*) AS oq_x_rows FROM slotguard.orders WHERE key = 'oq:x';

-- ---------------------------------------------------------------------------
-- claim_next_order: highest priority, then oldest ready_at; not before not_before
-- ---------------------------------------------------------------------------
SELECT key, claim_token > 0 AS token FROM slotguard.claim_next_order('w-1', 'oq');   -- oq:high (oq:later waits)
SELECT key FROM slotguard.claim_next_order('w-1', 'oq');                             -- oq:mid
SELECT key FROM slotguard.claim_next_order('w-1', 'oq');                             -- oq:low (older than oq:past)
SELECT key FROM slotguard.claim_next_order('w-1', 'oq');                             -- oq:past
SELECT slotguard.claim_next_order('w-1', 'oq') IS NULL AS nothing_due;
-- claim_order of an order not due yet: 55000.
SELECT pg_temp.oq_try($$SELECT slotguard.claim_order('oq:later', 'w-1')$$) AS not_due;
-- Tokens are strictly increasing, across orders too.
SELECT array_agg(key ORDER BY claim_token) AS by_token FROM slotguard.orders WHERE claim_token IS NOT NULL AND key LIKE 'oq:%';

-- ---------------------------------------------------------------------------
-- Fencing tokens: complete/release with a stale token is 55P03, even when
-- the claimant name is the same.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE oq_tok AS SELECT key, claim_token AS t FROM slotguard.orders WHERE status = 'claimed' AND key LIKE 'oq:%';
-- release with the current token: back to ready, token kept.
SELECT key, status, claim_token = (SELECT t FROM oq_tok WHERE key = 'oq:low') AS token_kept
FROM slotguard.release_order('oq:low', 'w-1', (SELECT t FROM oq_tok WHERE key = 'oq:low'));
-- The same worker name claims it again: a new, greater token.
SELECT key, claim_token > (SELECT t FROM oq_tok WHERE key = 'oq:low') AS greater
FROM slotguard.claim_order('oq:low', 'w-1');
-- The old token is stale now, for every call that takes one.
SELECT pg_temp.oq_try(format($$SELECT slotguard.complete_order('oq:low', 'w-1', %s)$$, t)) AS stale_complete,
       pg_temp.oq_try(format($$SELECT slotguard.release_order('oq:low', 'w-1', %s)$$, t)) AS stale_release,
       pg_temp.oq_try(format($$SELECT slotguard.renew_lease('oq:low', 'w-1', '1 min', %s)$$, t)) AS stale_renew,
       pg_temp.oq_try(format($$SELECT slotguard.fail_order('oq:low', 'w-1', 'e', token => %s)$$, t)) AS stale_fail
FROM oq_tok WHERE key = 'oq:low';
SELECT * FROM pg_temp.oq('oq:low');   -- untouched by the stale calls
-- Without a token, the claimant name still fences (1.1 behaviour).
SELECT key, status FROM slotguard.complete_order('oq:low', 'w-1');
-- A retried complete with the same token returns the done order; another token is stale.
SELECT key, status FROM slotguard.complete_order('oq:low', 'w-1', (SELECT claim_token FROM slotguard.orders WHERE key = 'oq:low'));
SELECT pg_temp.oq_try($$SELECT slotguard.complete_order('oq:low', 'w-1', 1)$$) AS other_token_on_done;
-- The right token but another claimant: not the claimant (55P03).
SELECT pg_temp.oq_try(format($$SELECT slotguard.complete_order('oq:mid', 'w-2', %s)$$, t)) AS wrong_claimant
FROM oq_tok WHERE key = 'oq:mid';
SELECT key, status FROM slotguard.complete_order('oq:mid', 'w-1', (SELECT t FROM oq_tok WHERE key = 'oq:mid'));

-- ---------------------------------------------------------------------------
-- renew_lease
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.add_order('oq:r1', 'oq-r');
SELECT key, lease_expires_at = now() + interval '1 minute' AS one_minute FROM slotguard.claim_order('oq:r1', 'w-r', '1 minute');
SELECT key, lease_expires_at = now() + interval '1 hour' AS one_hour, claim_token = (SELECT claim_token FROM slotguard.orders WHERE key = 'oq:r1') AS same_token
FROM slotguard.renew_lease('oq:r1', 'w-r', '1 hour');
SELECT key, lease_expires_at = now() + interval '2 hours' AS two_hours
FROM slotguard.renew_lease('oq:r1', 'w-r', '2 hours', (SELECT claim_token FROM slotguard.orders WHERE key = 'oq:r1'));
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease('oq:r1', 'w-other', '1 hour')$$) AS not_claimant;
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease('oq:r1', 'w-r', NULL)$$) AS null_lease;
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease('oq:r1', 'w-r', '-1 minute')$$) AS negative_lease;
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease('oq:r1', 'w-r', '1000000 years')$$) AS lease_too_long;
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease('oq:none', 'w-r', '1 hour')$$) AS unknown;
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease(NULL, 'w-r', '1 hour')$$) AS null_key;
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease('oq:r1', ' ', '1 hour')$$) AS blank_claimant;
-- After expiry: 55P03, and a takeover gives a new token.
UPDATE slotguard.orders SET claimed_at = now() - interval '2 hours', lease_expires_at = now() - interval '1 second'
WHERE key = 'oq:r1';
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease('oq:r1', 'w-r', '1 hour')$$) AS expired;
CREATE TEMP TABLE oq_r1 AS SELECT claim_token AS t FROM slotguard.orders WHERE key = 'oq:r1';
SELECT key, claimant, claim_token > (SELECT t FROM oq_r1) AS newer FROM slotguard.claim_next_order('w-s', 'oq-r');
SELECT pg_temp.oq_try(format($$SELECT slotguard.renew_lease('oq:r1', 'w-r', '1 hour', %s)$$, t)) AS after_takeover
FROM oq_r1;
-- Even under the old claimant's name, the old token stays stale.
SELECT key FROM slotguard.release_order('oq:r1', 'w-s');
SELECT key, claimant FROM slotguard.claim_order('oq:r1', 'w-r');
SELECT pg_temp.oq_try(format($$SELECT slotguard.complete_order('oq:r1', 'w-r', %s)$$, t)) AS same_name_old_token
FROM oq_r1;

-- ---------------------------------------------------------------------------
-- fail_order: attempts, last_error, backoff, dead
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.add_order('oq:f', 'oq-f', max_attempts => 3);
SELECT key FROM slotguard.claim_order('oq:f', 'w-f');
SELECT key, status, attempts, last_error, claimant, ready_at - now() AS backoff, not_before = ready_at AS not_before_set
FROM slotguard.fail_order('oq:f', 'w-f', 'timeout');
SELECT slotguard.claim_next_order('w-f', 'oq-f') IS NULL AS not_due_during_backoff;
UPDATE slotguard.orders SET ready_at = now(), not_before = NULL WHERE key = 'oq:f';
SELECT key FROM slotguard.claim_order('oq:f', 'w-f');
SELECT key, status, attempts, ready_at - now() AS backoff FROM slotguard.fail_order('oq:f', 'w-f', 'timeout again');
UPDATE slotguard.orders SET ready_at = now() WHERE key = 'oq:f';
SELECT key FROM slotguard.claim_order('oq:f', 'w-f');
-- retry_in overrides the backoff, but the third failure is the last.
SELECT key, status, attempts, last_error, claimant, lease_expires_at FROM slotguard.fail_order('oq:f', 'w-f', 'gave up', '1 second');
SELECT pg_temp.oq_try($$SELECT slotguard.claim_order('oq:f', 'w-f')$$) AS claim_dead;
SELECT pg_temp.oq_try($$SELECT slotguard.fail_order('oq:f', 'w-f', 'again')$$) AS fail_dead;
-- The backoff doubles up to an hour: attempts 1..10 with max_attempts 12.
SELECT key FROM slotguard.add_order('oq:b', max_attempts => 12);
CREATE TEMP TABLE oq_backoff (attempt int, backoff interval);
DO $$
DECLARE
    r slotguard.orders;
BEGIN
    FOR i IN 1..10 LOOP
        UPDATE slotguard.orders SET ready_at = now(), not_before = NULL WHERE key = 'oq:b';
        PERFORM slotguard.claim_order('oq:b', 'w-b');
        r := slotguard.fail_order('oq:b', 'w-b', 'e' || i);
        INSERT INTO oq_backoff VALUES (r.attempts, r.ready_at - now());
    END LOOP;
END
$$;
SELECT * FROM oq_backoff ORDER BY attempt;
-- retry_in 0: ready again at once.
UPDATE slotguard.orders SET ready_at = now() WHERE key = 'oq:b';
SELECT key FROM slotguard.claim_order('oq:b', 'w-b');
SELECT key, status, ready_at = now() AS now_again FROM slotguard.fail_order('oq:b', 'w-b', 'x', '0');
SELECT key FROM slotguard.claim_order('oq:b', 'w-b');
SELECT pg_temp.oq_try($$SELECT slotguard.fail_order('oq:b', 'w-b', NULL)$$) AS null_error;
SELECT pg_temp.oq_try($$SELECT slotguard.fail_order('oq:b', 'w-b', 'x', '-1 second')$$) AS negative_retry;
SELECT pg_temp.oq_try($$SELECT slotguard.fail_order('oq:b', 'w-b', 'x', '1000000 years')$$) AS retry_too_long;
SELECT pg_temp.oq_try($$SELECT slotguard.fail_order('oq:b', 'w-b', repeat('x', 70000))$$) AS error_too_long;
SELECT pg_temp.oq_try($$SELECT slotguard.fail_order('oq:b', 'w-other', 'x')$$) AS not_claimant;
SELECT pg_temp.oq_try($$SELECT slotguard.fail_order('oq:none', 'w-b', 'x')$$) AS unknown;
SELECT * FROM pg_temp.oq('oq:b');
-- The rules of the table: attempts never above max_attempts.
SELECT pg_temp.oq_try($$UPDATE slotguard.orders SET attempts = max_attempts + 1 WHERE key = 'oq:b'$$) AS over_max;
SELECT pg_temp.oq_try($$UPDATE slotguard.orders SET max_attempts = 0 WHERE key = 'oq:b'$$) AS zero_max;
SELECT pg_temp.oq_try($$UPDATE slotguard.orders SET claim_token = 0 WHERE key = 'oq:b'$$) AS zero_token;
SELECT pg_temp.oq_try($$UPDATE slotguard.orders SET status = 'dead', claimant = NULL, claimed_at = NULL, lease_expires_at = NULL WHERE key = 'oq:b'$$) AS dead_ok;
SELECT pg_temp.oq_try($$UPDATE slotguard.orders SET status = 'dead' WHERE key = 'oq:f' AND false$$) AS noop;

-- ---------------------------------------------------------------------------
-- claim_next_orders
-- ---------------------------------------------------------------------------
SELECT count(slotguard.add_order('oq:n' || i, CASE WHEN i % 2 = 0 THEN 'oq-even' ELSE 'oq-odd' END, priority => i % 3))
FROM generate_series(1, 12) i;
SELECT key, priority, claimant, lease_expires_at = now() + interval '5 minutes' AS lease
FROM slotguard.claim_next_orders('w-n', 'oq-odd', lease => '5 minutes', max => 4);
SELECT key, priority FROM slotguard.claim_next_orders('w-n', 'oq-even', max => 3);
SELECT count(*) AS rest, count(DISTINCT claim_token) AS distinct_tokens FROM slotguard.claim_next_orders('w-n', 'oq-even', max => 100);
SELECT count(*) AS odd_rest FROM slotguard.claim_next_orders('w-n', 'oq-odd', max => 100);
SELECT count(*) AS none_left FROM slotguard.claim_next_orders('w-n', 'oq-odd');
-- Expired claims are taken in the same order (the SQL path).
UPDATE slotguard.orders SET claimed_at = now() - interval '1 hour', lease_expires_at = now() - interval '1 second'
WHERE key IN ('oq:n3', 'oq:n6');
SELECT key, claimant FROM slotguard.claim_next_orders('w-m', 'oq-odd', max => 5);
SELECT key, claimant FROM slotguard.claim_next_orders('w-m', 'oq-even', max => 5);
SELECT pg_temp.oq_try($$SELECT slotguard.claim_next_orders('w-n', max => 0)$$) AS zero_max;
SELECT pg_temp.oq_try($$SELECT slotguard.claim_next_orders('w-n', max => 1001)$$) AS over_max;
SELECT pg_temp.oq_try($$SELECT slotguard.claim_next_orders('w-n', max => NULL)$$) AS null_max;
SELECT pg_temp.oq_try($$SELECT slotguard.claim_next_orders(NULL)$$) AS null_claimant;
SELECT pg_temp.oq_try($$SELECT slotguard.claim_next_orders('w-n', ' ')$$) AS blank_kind;
SELECT pg_temp.oq_try($$SELECT slotguard.claim_next_orders('w-n', lease => '0')$$) AS zero_lease;

-- ---------------------------------------------------------------------------
-- Read-only transactions: 25006 before anything else.
-- ---------------------------------------------------------------------------
BEGIN READ ONLY;
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease(NULL, NULL, NULL)$$) AS renew,
       pg_temp.oq_try($$SELECT slotguard.fail_order(NULL, NULL, NULL)$$) AS fail,
       pg_temp.oq_try($$SELECT slotguard.claim_next_orders(NULL)$$) AS batch,
       pg_temp.oq_try($$SELECT slotguard.add_order('oq:ro', priority => 1)$$) AS add,
       pg_temp.oq_try($$SELECT slotguard.complete_order('oq:n1', 'w-n', 1)$$) AS complete;
ROLLBACK;

-- ---------------------------------------------------------------------------
-- Confinement: another tenant's orders do not exist for the new functions.
-- ---------------------------------------------------------------------------
CREATE ROLE regress_oq_a NOLOGIN;
SELECT slotguard.grant_access('regress_oq_a');
SELECT (slotguard.confine('regress_oq_a', ARRAY['oqa'])).tenants;
SELECT count(slotguard.add_order(t || ':' || i, priority => i)) FROM unnest(ARRAY['oqa', 'oqb']) t, generate_series(1, 3) i;
SELECT key FROM slotguard.claim_order('oqb:1', 'w-b');
SET ROLE regress_oq_a;
SELECT key FROM slotguard.claim_next_orders('w-a', max => 10);      -- only oqa's
SELECT count(*) AS none FROM slotguard.claim_next_orders('w-a');
SELECT pg_temp.oq_try($$SELECT slotguard.renew_lease('oqb:1', 'w-b', '1 hour')$$) AS renew_foreign,
       pg_temp.oq_try($$SELECT slotguard.fail_order('oqb:1', 'w-b', 'x')$$) AS fail_foreign,
       pg_temp.oq_try($$SELECT slotguard.complete_order('oqb:1', 'w-b', 1)$$) AS complete_foreign,
       pg_temp.oq_try($$SELECT slotguard.release_order('oqb:1', 'w-b', 1)$$) AS release_foreign,
       pg_temp.oq_try($$SELECT slotguard.add_order('oqb:9', priority => 1)$$) AS add_foreign;
SELECT key, status, attempts FROM slotguard.fail_order('oqa:3', 'w-a', 'own');
SELECT key, lease_expires_at > now() AS leased FROM slotguard.renew_lease('oqa:2', 'w-a', '1 hour');
RESET ROLE;
SELECT key, status, claimant FROM slotguard.orders WHERE key LIKE 'oq%' AND key NOT LIKE 'oq:%' ORDER BY key;
SELECT slotguard.unconfine('regress_oq_a');
SELECT slotguard.revoke_access('regress_oq_a');
DROP ROLE regress_oq_a;
DELETE FROM slotguard.orders WHERE key LIKE 'oq%';
