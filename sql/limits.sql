-- Booking limits (API.md §10): min_notice, max_advance, min/max duration,
-- max_per_day and max_per_holder_per_day (local calendar days of the
-- resource's zone), on every booking path: book_slot, try_book_slot,
-- confirm_booking of an expired hold, reschedule_booking. Refusals are
-- 23P01 naming the rule; set_policy refuses to strand bookings unless
-- force. (The concurrent per-day race is specs/rules_per_day_race.spec.)
-- Keys: lim:*.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

CREATE TEMP TABLE lim_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 1510000, false) AS id_base;

CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || coalesce(nullif(d, ''), SQLERRM);
END
$$;

-- ---------------------------------------------------------------------------
-- Argument checks
-- ---------------------------------------------------------------------------
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('lim:a', min_notice => '-1 hour')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('lim:a', max_per_day => 0)$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('lim:a', max_per_holder_per_day => -1)$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('lim:a', min_duration => '2 hours', max_duration => '1 hour')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_policy(NULL)$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('lim:a', force => NULL)$$);

-- ---------------------------------------------------------------------------
-- Notice, advance, duration
-- ---------------------------------------------------------------------------
SELECT key, min_notice, max_advance, min_duration, max_duration
FROM slotguard.set_policy('lim:a', 'UTC', min_notice => '2 hours', max_advance => '30 days',
                          min_duration => '30 minutes', max_duration => '2 hours');
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('lim:a', tstzrange(date_trunc('hour', now()) + interval '1 hour', date_trunc('hour', now()) + interval '2 hours'))$$) AS too_soon;
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('lim:a', tstzrange(date_trunc('hour', now()) + interval '40 days', date_trunc('hour', now()) + interval '40 days 1 hour'))$$) AS too_far;
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('lim:a', tstzrange(date_trunc('hour', now()) + interval '1 day', date_trunc('hour', now()) + interval '1 day 10 minutes'))$$) AS too_short;
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('lim:a', tstzrange(date_trunc('hour', now()) + interval '1 day', date_trunc('hour', now()) + interval '1 day 3 hours'))$$) AS too_long;
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('lim:a', tstzrange(date_trunc('hour', now()) + interval '1 day', date_trunc('hour', now()) + interval '1 day 1 hour'))$$) AS fits;
-- free_slots offers only what the limits allow.
SELECT count(*) AS slots_too_short FROM slotguard.free_slots('lim:a', tstzrange(now() + interval '1 day', now() + interval '2 days'), '10 minutes');
SELECT bool_and(lower(s) >= now() + interval '2 hours') AS all_with_notice
FROM slotguard.free_slots('lim:a', tstzrange(date_trunc('hour', now()), date_trunc('hour', now()) + interval '6 hours'), '1 hour') s;
SELECT bool_and(lower(s) <= now() + interval '30 days') AS all_in_advance, count(*) > 0 AS some
FROM slotguard.free_slots('lim:a', tstzrange(date_trunc('hour', now()) + interval '29 days', date_trunc('hour', now()) + interval '31 days'), '1 hour') s;
-- No limits again.
SELECT key, min_notice FROM slotguard.set_policy('lim:a');

-- ---------------------------------------------------------------------------
-- max_per_day on the local day (Europe/Berlin)
-- ---------------------------------------------------------------------------
SELECT key, timezone, max_per_day, max_per_holder_per_day
FROM slotguard.set_policy('lim:b', 'Europe/Berlin', max_per_day => 3, max_per_holder_per_day => 2);
SELECT key FROM slotguard.upsert_resource('lim:b', capacity => 10);
-- Local Monday 2031-01-13 runs 2031-01-12 23:00 .. 2031-01-13 23:00 UTC.
SELECT id FROM slotguard.book_slot('lim:b', '[2031-01-12 23:00+00, 2031-01-12 23:30+00)', holder => 'ann');
SELECT id FROM slotguard.book_slot('lim:b', '[2031-01-13 10:00+00, 2031-01-13 11:00+00)', holder => 'ann');
-- Ann's third booking that day: per holder.
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('lim:b', '[2031-01-13 12:00+00, 2031-01-13 13:00+00)', holder => 'ann')$$);
SELECT id FROM slotguard.book_slot('lim:b', '[2031-01-13 12:00+00, 2031-01-13 13:00+00)', holder => 'bob');
-- The day is full: max_per_day, with the day's bookings as conflicts.
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('lim:b', '[2031-01-13 14:00+00, 2031-01-13 15:00+00)', holder => 'cyd')$$);
SELECT booking_id, conflicts FROM slotguard.try_book_slot('lim:b', '[2031-01-13 14:00+00, 2031-01-13 15:00+00)', holder => 'cyd');
-- 23:00 UTC is already Tuesday in Berlin: another day.
SELECT id FROM slotguard.book_slot('lim:b', '[2031-01-13 23:00+00, 2031-01-13 23:30+00)', holder => 'cyd');
-- A cancelled booking frees its place in the day.
SELECT status FROM slotguard.cancel_booking(1510003 - 1);
SELECT id FROM slotguard.book_slot('lim:b', '[2031-01-13 14:00+00, 2031-01-13 15:00+00)', holder => 'cyd');
-- Reschedule into a full day: refused; within the day: fine.
-- (1510004 is cyd's Tuesday booking, 1510003 bob's Monday one.)
SELECT pg_temp.error_of($$SELECT slotguard.reschedule_booking(1510004, '[2031-01-13 16:00+00, 2031-01-13 17:00+00)')$$);
SELECT during FROM slotguard.reschedule_booking(1510003, '[2031-01-13 16:00+00, 2031-01-13 17:00+00)');
-- An expired hold revived by confirm obeys the limit of now.
BEGIN;
SELECT id AS held_id FROM slotguard.book_slot('lim:b', '[2031-01-15 10:00+00, 2031-01-15 11:00+00)', hold => '1 minute') \gset
UPDATE slotguard.booking SET hold_expires_at = now() - interval '1 second' WHERE id = :held_id;
SELECT count(*) AS filled FROM (
    SELECT slotguard.book_slot('lim:b', tstzrange('2031-01-15 12:00+00'::timestamptz + n * interval '1 hour', '2031-01-15 12:30+00'::timestamptz + n * interval '1 hour')) FROM generate_series(0, 2) n) s;
SELECT pg_temp.error_of(format($$SELECT slotguard.confirm_booking(%s)$$, :held_id)) AS revive;
ROLLBACK;
-- Lowering the limit below what a day holds: 23P01, unless force.
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('lim:b', 'Europe/Berlin', max_per_day => 2)$$);
SELECT max_per_day FROM slotguard.resource WHERE key = 'lim:b';
SELECT max_per_day FROM slotguard.set_policy('lim:b', 'Europe/Berlin', max_per_day => 2, force => true);

-- ---------------------------------------------------------------------------
-- A 1.2 resource without rules is untouched (rules_version 0).
-- ---------------------------------------------------------------------------
SELECT rules_version, timezone FROM slotguard.upsert_resource('lim:plain');
SELECT id IS NOT NULL AS booked FROM slotguard.book_slot('lim:plain', '[2031-01-13 03:00+00, 2031-01-13 04:00+00)');

-- ---------------------------------------------------------------------------
-- Clean up.
-- ---------------------------------------------------------------------------
DELETE FROM slotguard.booking WHERE resource_key LIKE 'lim:%';
DELETE FROM slotguard.resource_exception WHERE resource_key LIKE 'lim:%';
DELETE FROM slotguard.resource WHERE key LIKE 'lim:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM lim_saved_seq;
