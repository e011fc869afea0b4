-- A claim that is a JSON array is not the claim's value (API.md §8 (1.2):
-- the tenant is request.jwt.claims::jsonb ->> tenant_claim, and a claim
-- that is not a string is refused like an object claim, 42501). The claims
-- reader took the last string inside an array as the value, so
-- {"sub": ["p1"]} acted for holder p1 and {"tenant": ["x", "cla-b"]} for
-- tenant cla-b.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE cla_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;

-- 'ok', or the SQLSTATE of the statement's error.
CREATE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE;
END
$$;

DROP ROLE IF EXISTS regress_cla_auth;
CREATE ROLE regress_cla_auth NOLOGIN;
SELECT slotguard.grant_access('regress_cla_auth');
SELECT role FROM slotguard.confine('regress_cla_auth', tenant_claim => 'tenant', holder_claim => 'sub');
SELECT key FROM slotguard.upsert_resource('cla-a:dr', 2);
SELECT key FROM slotguard.upsert_resource('cla-b:dr', 2);
SELECT id AS p1_booking FROM slotguard.book_slot('cla-a:dr', '[2031-05-01 10:00+00,2031-05-01 11:00+00)', holder => 'p1') \gset
SELECT id AS b_booking FROM slotguard.book_slot('cla-b:dr', '[2031-05-01 10:00+00,2031-05-01 11:00+00)', holder => 'p1') \gset

-- The holder claim as an array: not holder p1.
BEGIN;
SET LOCAL ROLE regress_cla_auth;
SELECT set_config('request.jwt.claims', '{"tenant":"cla-a","sub":["p1"]}', true) IS NOT NULL AS claims_set;
SELECT pg_temp.outcome(format('SELECT slotguard.confirm_booking(%s)', :p1_booking)) <> 'ok' AS confirm_refused;
SELECT pg_temp.outcome(format('SELECT slotguard.cancel_booking(%s)', :p1_booking)) <> 'ok' AS cancel_refused;
SELECT pg_temp.outcome($$SELECT slotguard.book_slot('cla-a:dr', '[2031-05-02 10:00+00,2031-05-02 11:00+00)', holder => 'p1')$$) <> 'ok' AS book_as_p1_refused;
ROLLBACK;

-- The tenant claim as an array: not tenant cla-b.
BEGIN;
SET LOCAL ROLE regress_cla_auth;
SELECT set_config('request.jwt.claims', '{"tenant":["nobody","cla-b"],"sub":"p1"}', true) IS NOT NULL AS claims_set;
SELECT pg_temp.outcome(format('SELECT slotguard.confirm_booking(%s)', :b_booking)) <> 'ok' AS confirm_refused;
SELECT pg_temp.outcome($$SELECT slotguard.book_slot('cla-b:dr', '[2031-05-02 10:00+00,2031-05-02 11:00+00)')$$) <> 'ok' AS book_refused;
ROLLBACK;

-- Nested arrays too.
BEGIN;
SET LOCAL ROLE regress_cla_auth;
SELECT set_config('request.jwt.claims', '{"tenant":[["cla-b"]],"sub":"p1"}', true) IS NOT NULL AS claims_set;
SELECT pg_temp.outcome(format('SELECT slotguard.confirm_booking(%s)', :b_booking)) <> 'ok' AS confirm_refused;
ROLLBACK;

-- The same claims as strings work.
BEGIN;
SET LOCAL ROLE regress_cla_auth;
SELECT set_config('request.jwt.claims', '{"tenant":"cla-a","sub":"p1"}', true) IS NOT NULL AS claims_set;
SELECT pg_temp.outcome(format('SELECT slotguard.confirm_booking(%s)', :p1_booking)) AS own_booking;
ROLLBACK;

-- Clean up.
SELECT slotguard.unconfine('regress_cla_auth');
DELETE FROM slotguard.booking WHERE resource_key LIKE 'cla-%';
DELETE FROM slotguard.resource WHERE key LIKE 'cla-%';
SELECT slotguard.revoke_access('regress_cla_auth');
DROP ROLE regress_cla_auth;
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM cla_saved_seq;
