-- Contract error classes and limits (API.md §6, §15, 1.2): keys, holders
-- and claimants over 1,000 bytes gave 54000 with internal SQL in CONTEXT
-- (or went in); metadata and payloads had no limit; tenant_of(NULL)
-- answered NULL; DETAIL listed every conflicting id; any user could change
-- the settings that widen other sessions' cost.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
CREATE TEMP TABLE cl_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 940000, false) AS id_base;

CREATE FUNCTION pg_temp.cl_try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || left(SQLERRM, 90);
END
$$;
-- The DETAIL of a statement's error.
CREATE FUNCTION pg_temp.cl_detail(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || d;
END
$$;

SELECT key FROM slotguard.upsert_resource('cl:room', 1);
SELECT id AS cl_booking FROM slotguard.book_slot('cl:room', '[2030-01-01 10:00+00,2030-01-01 11:00+00)') \gset
SELECT key FROM slotguard.add_order('cl:order');

-- Keys of 1,001 bytes and of 1 MB, everywhere they enter: 22023.
SELECT q, pg_temp.cl_try(q) FROM (VALUES
  ($q$SELECT slotguard.book_slot(repeat('k', 1001), '[2030-01-02,2030-01-03)')$q$),
  ($q$SELECT slotguard.book_slot(repeat('k', 1048576), '[2030-01-02,2030-01-03)')$q$),
  ($q$SELECT slotguard.try_book_slot(repeat('k', 1001), '[2030-01-02,2030-01-03)')$q$),
  ($q$SELECT slotguard.book_slot('cl:room', '[2030-01-02,2030-01-03)', holder => repeat('h', 1048576))$q$),
  ($q$SELECT slotguard.book_slot('cl:room', '[2030-01-02,2030-01-03)', idempotency_key => repeat('i', 1048576))$q$),
  ($q$SELECT slotguard.try_book_slot('cl:room', '[2030-01-02,2030-01-03)', holder => repeat('h', 1001))$q$),
  ($q$SELECT slotguard.upsert_resource(repeat('k', 1048576))$q$),
  ($q$SELECT slotguard.free_slots(repeat('k', 1001), '[2030-01-02,2030-01-03)', '1 hour')$q$),
  ($q$SELECT slotguard.availability(repeat('k', 1001), '[2030-01-02,2030-01-03)')$q$),
  ($q$SELECT slotguard.assign_workers(940000, ARRAY['w1', repeat('w', 1048576)])$q$),
  ($q$SELECT slotguard.unassign_worker(940000, repeat('w', 1001))$q$),
  ($q$SELECT slotguard.worker_schedule(repeat('w', 1001), '[2030-01-02,2030-01-03)')$q$),
  ($q$SELECT slotguard.add_order(repeat('o', 1048576))$q$),
  ($q$SELECT slotguard.add_order('cl:o2', kind => repeat('k', 1048576))$q$),
  ($q$SELECT slotguard.set_order_ready(repeat('o', 1001))$q$),
  ($q$SELECT slotguard.claim_order(repeat('o', 1001), 'c')$q$),
  ($q$SELECT slotguard.claim_order('cl:order', repeat('c', 1048576))$q$),
  ($q$SELECT slotguard.try_claim_order('cl:order', repeat('c', 1001))$q$),
  ($q$SELECT slotguard.claim_next_order(repeat('c', 1001))$q$),
  ($q$SELECT slotguard.release_order('cl:order', repeat('c', 1001))$q$),
  ($q$SELECT slotguard.complete_order(repeat('o', 1001), 'c')$q$)
) v(q);
-- 1,000 bytes are accepted.
SELECT length(key) FROM slotguard.upsert_resource(repeat('k', 1000));
SELECT length(resource_key), length(holder), length(idempotency_key)
FROM slotguard.book_slot(repeat('k', 1000), '[2030-01-02,2030-01-03)', holder => repeat('h', 1000),
                         idempotency_key => repeat('i', 1000));
SELECT length(worker) FROM slotguard.assign_workers(:cl_booking, ARRAY[repeat('w', 1000)]);
SELECT length(a.key) FROM slotguard.add_order(repeat('o', 1000)) a;
SELECT length(c.claimant) FROM slotguard.claim_order(repeat('o', 1000), repeat('c', 1000)) c;

-- tenant_of(NULL): 22004.
SELECT pg_temp.cl_try('SELECT slotguard.tenant_of(NULL)');

-- metadata and payload: at most slotguard.max_metadata_bytes (default 64 kB).
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'slotguard.%' ORDER BY name;
SELECT q, pg_temp.cl_try(q) FROM (VALUES
  ($q$SELECT slotguard.book_slot('cl:room', '[2030-01-04,2030-01-05)', metadata => jsonb_build_object('x', repeat('m', 70000)))$q$),
  ($q$SELECT slotguard.try_book_slot('cl:room', '[2030-01-04,2030-01-05)', metadata => jsonb_build_object('x', repeat('m', 70000)))$q$),
  ($q$SELECT slotguard.upsert_resource('cl:room', metadata => jsonb_build_object('x', repeat('m', 70000)))$q$),
  ($q$SELECT slotguard.add_order('cl:big', payload => jsonb_build_object('x', repeat('m', 70000)))$q$),
  ($q$SELECT slotguard.book_slot('cl:room', '[2030-01-04,2030-01-05)', metadata => jsonb_build_object('x', repeat('m', 60000)))$q$),
  ($q$SELECT slotguard.add_order('cl:fits', payload => jsonb_build_object('x', repeat('m', 60000)))$q$)
) v(q);
-- Compressed or not, the size counted is the value's own.
SET slotguard.max_metadata_bytes = '1kB';
SELECT pg_temp.cl_try($q$SELECT slotguard.add_order('cl:small', payload => jsonb_build_object('x', repeat('m', 2000)))$q$);
RESET slotguard.max_metadata_bytes;

-- The settings are SUSET: a plain role cannot change them (42501).
CREATE ROLE cl_plain;
GRANT USAGE ON SCHEMA slotguard TO cl_plain;
SET ROLE cl_plain;
SELECT s, pg_temp.cl_try(format('SET %s = %L', s, v)) FROM (VALUES
  ('slotguard.auto_create_resources', 'off'), ('slotguard.max_suggestions', '10'),
  ('slotguard.suggestion_horizon', '1000'), ('slotguard.suggestion_steps', '1000'),
  ('slotguard.max_metadata_bytes', '1000000')) x(s, v);
RESET ROLE;
REVOKE USAGE ON SCHEMA slotguard FROM cl_plain;
DROP ROLE cl_plain;

-- DETAIL lists at most 20 ids, then how many more.
SELECT key FROM slotguard.upsert_resource('cl:hall', 30);
SELECT count(slotguard.book_slot('cl:hall', '[2030-02-01 10:00+00,2030-02-01 11:00+00)'))
FROM generate_series(1, 25);
SELECT pg_temp.cl_detail($$SELECT slotguard.upsert_resource('cl:hall', 1)$$);
SELECT pg_temp.cl_detail($$SELECT slotguard.book_slot('cl:hall', '[2030-02-01 10:30+00,2030-02-01 11:30+00)', seats => 6)$$);

-- Clean up.
DELETE FROM slotguard.assignment WHERE booking_id >= 940000;
DELETE FROM slotguard.booking WHERE id >= 940000;
DELETE FROM slotguard.resource WHERE key LIKE 'cl:%' OR key = repeat('k', 1000);
DELETE FROM slotguard.orders WHERE key LIKE 'cl:%' OR key = repeat('o', 1000);
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM cl_saved_seq;
