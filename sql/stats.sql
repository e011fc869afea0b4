-- Statistics (API.md §13): slotguard.stats counts per API function calls,
-- succeeded, refused (23P01/55P03, raised or answered by try_*), waited,
-- replays; hot_resources() the most refused resource keys. Not preloaded
-- here: the backend's own counts (scope 'backend'); test/stats_exporter.sh
-- checks the cluster-wide ones. Keys of this file start with 'st'.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TEMP TABLE st_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 810000, false) AS id_base;

CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

CREATE VIEW pg_temp.st_counts AS
SELECT function, calls, succeeded, refused, waited, replays, holds_expired, fenced, scope
FROM slotguard.stats
WHERE function IN ('book_slot', 'try_book_slot', 'cancel_booking', 'claim_order', 'upsert_resource')
ORDER BY function;

SELECT slotguard.stats_reset();
SELECT * FROM st_counts;
SELECT since <= now() AS since_reset, count(*) > 15 AS a_row_per_function FROM slotguard.stats GROUP BY since;

-- A booking, two refusals (one caught by the caller), a try_book_slot
-- refusal, an idempotent replay, an argument error (neither succeeded nor
-- refused), a 55P03 of claim_order.
SELECT key FROM slotguard.upsert_resource('st:room', 1);
SELECT id FROM slotguard.book_slot('st:room', '[2031-06-01 09:00+00,2031-06-01 10:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('st:room', '[2031-06-01 09:30+00,2031-06-01 10:30+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('st:room', '[2031-06-01 09:00+00,2031-06-01 09:15+00)')$$);
SELECT booking_id, conflicts FROM slotguard.try_book_slot('st:room', '[2031-06-01 09:00+00,2031-06-01 11:00+00)');
SELECT id FROM slotguard.book_slot('st:room', '[2031-06-02 09:00+00,2031-06-02 10:00+00)', idempotency_key => 'st-k');
SELECT id FROM slotguard.book_slot('st:room', '[2031-06-02 09:00+00,2031-06-02 10:00+00)', idempotency_key => 'st-k');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('st:room', 'empty')$$);
SELECT key FROM slotguard.upsert_resource('st:busy', 1);
SELECT id FROM slotguard.book_slot('st:busy', '[2031-06-01 09:00+00,2031-06-01 10:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('st:busy', '[2031-06-01 09:00+00,2031-06-01 10:00+00)')$$);
SELECT key FROM slotguard.add_order('st:o');
SELECT key FROM slotguard.claim_order('st:o', 'a');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.claim_order('st:o', 'b')$$);
-- A rolled-back call still counts (it was made).
BEGIN;
SELECT id FROM slotguard.cancel_booking(810000);
ROLLBACK;
SELECT * FROM st_counts;
SELECT * FROM slotguard.hot_resources() WHERE resource_key LIKE 'st:%';
SELECT * FROM slotguard.hot_resources(1) WHERE resource_key LIKE 'st:%';

-- Arguments.
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.hot_resources(NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.hot_resources(-1)$$);
SELECT count(*) AS none FROM slotguard.hot_resources(0);

-- Confinement: a confined administrator sees only its tenants' hot
-- resources, and not the counters of everyone's calls.
DROP ROLE IF EXISTS regress_st_a;
CREATE ROLE regress_st_a NOLOGIN;
SELECT slotguard.grant_access('regress_st_a', admin => true);
SELECT key FROM slotguard.upsert_resource('stb:room', 1);
SELECT id FROM slotguard.book_slot('stb:room', '[2031-06-01 09:00+00,2031-06-01 10:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('stb:room', '[2031-06-01 09:00+00,2031-06-01 10:00+00)')$$);
SELECT role FROM slotguard.confine('regress_st_a', ARRAY['stb']);
SET ROLE regress_st_a;
SELECT * FROM slotguard.hot_resources() WHERE resource_key LIKE 'st%';
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.stats$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.stats_reset()$$);
RESET ROLE;

-- Reset.
SELECT slotguard.stats_reset();
SELECT * FROM st_counts;
SELECT count(*) AS hot_after_reset FROM slotguard.hot_resources();

-- Clean up.
SELECT slotguard.unconfine('regress_st_a');
SELECT slotguard.revoke_access('regress_st_a');
DROP ROLE regress_st_a;
DELETE FROM slotguard.booking WHERE resource_key LIKE 'st%';
DELETE FROM slotguard.resource WHERE key LIKE 'st%';
DELETE FROM slotguard.orders WHERE key LIKE 'st%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM st_saved_seq;
