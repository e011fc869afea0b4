-- assign_workers checked its names for duplicates pairwise, with no
-- interrupt check: 60,000 names ran for seconds past statement_timeout and
-- cancel. A call now takes at most 1,000 names (22023 beyond), sorts them
-- once, and checks interrupts in every loop over its input.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE TEMP TABLE uc_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 950000, false) AS id_base;

CREATE FUNCTION pg_temp.uc_try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT key FROM slotguard.upsert_resource('uc:room', 1);
SELECT id AS uc_booking FROM slotguard.book_slot('uc:room', '[2030-04-01 10:00+00,2030-04-01 11:00+00)') \gset

-- 60,000 distinct names, and 60,000 with the duplicate last, under a
-- statement_timeout the old check ran far past: refused at once.
SET statement_timeout = '200ms';
SELECT pg_temp.uc_try(format($$SELECT slotguard.assign_workers(%s, array(SELECT 'uc:w' || g FROM generate_series(1, 60000) g))$$, :uc_booking));
SELECT pg_temp.uc_try(format($$SELECT slotguard.assign_workers(%s, array(SELECT 'uc:w' || g FROM generate_series(1, 59999) g) || 'uc:w1'::text)$$, :uc_booking));
SELECT pg_temp.uc_try(format($$SELECT slotguard.assign_workers(%s, array(SELECT 'uc:w' || g FROM generate_series(1, 1001) g))$$, :uc_booking));
RESET statement_timeout;

-- The largest call: 1,000 names, then the same set in another order (all
-- already there), then with a duplicate among them, then a smaller set.
SELECT count(*) FROM slotguard.assign_workers(:uc_booking, array(SELECT 'uc:w' || g FROM generate_series(1, 1000) g));
SELECT count(*) FROM slotguard.assign_workers(:uc_booking, array(SELECT 'uc:w' || g FROM generate_series(1000, 1, -1) g));
SELECT pg_temp.uc_try(format($$SELECT slotguard.assign_workers(%s, array(SELECT 'uc:w' || g FROM generate_series(1, 999) g) || 'uc:w500'::text)$$, :uc_booking));
SELECT count(*) FROM slotguard.assign_workers(:uc_booking, array(SELECT 'uc:w' || g FROM generate_series(1, 1000, 2) g));
SELECT status, count(*) FROM slotguard.assignment WHERE booking_id = :uc_booking GROUP BY status ORDER BY status;
-- They move with their booking (each matched to its own row).
SELECT during FROM slotguard.reschedule_booking(:uc_booking, '[2030-04-02 10:00+00,2030-04-02 11:00+00)');
SELECT count(*) FILTER (WHERE during = '[2030-04-02 10:00+00,2030-04-02 11:00+00)') AS moved, count(*) AS active
FROM slotguard.assignment WHERE booking_id = :uc_booking AND status = 'active';

DELETE FROM slotguard.assignment WHERE booking_id = :uc_booking;
DELETE FROM slotguard.booking WHERE resource_key = 'uc:room';
DELETE FROM slotguard.resource WHERE key = 'uc:room';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM uc_saved_seq;
