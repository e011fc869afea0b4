-- free_slots and availability (API.md §2): bookable [t, t+duration) on a step
-- grid from lower(search), inside search, honouring capacity, seats and
-- buffers, ascending; the capacity profile as maximal runs of free seats.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Booking ids appear in results and messages: use an id range of our own and
-- restore the sequence at the end.
CREATE TEMP TABLE fs_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 400000, false) AS id_base;

-- Runs a statement: 'ok', or SQLSTATE and message of its error.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- free_slots with its output position, so the order is checked too.
CREATE FUNCTION pg_temp.fs(resource text, search tstzrange, duration interval, step interval DEFAULT NULL,
                           seats int DEFAULT 1)
RETURNS TABLE (n bigint, slot tstzrange) LANGUAGE sql AS $$
SELECT s.n, s.slot FROM slotguard.free_slots(resource, search, duration, step, seats) WITH ORDINALITY AS s(slot, n)
$$;

-- ---------------------------------------------------------------------------
-- Capacity 1, bookings 10:00-11:00 and 13:30-14:30.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('fs:room');
SELECT id FROM slotguard.book_slot('fs:room', '[2030-09-01 10:00+00,2030-09-01 11:00+00)') \gset
SELECT id FROM slotguard.book_slot('fs:room', '[2030-09-01 13:30+00,2030-09-01 14:30+00)') \gset
-- A cancelled booking is free.
SELECT id AS gone FROM slotguard.book_slot('fs:room', '[2030-09-01 16:00+00,2030-09-01 17:00+00)') \gset
SELECT status FROM slotguard.cancel_booking(:gone);

-- Default step = duration: the grid 09:00, 10:00, ...
SELECT * FROM pg_temp.fs('fs:room', '[2030-09-01 09:00+00,2030-09-01 17:00+00)', '1 hour') ORDER BY n;
SELECT pg_typeof(s) FROM slotguard.free_slots('fs:room', '[2030-09-01 09:00+00,2030-09-01 10:00+00)', '1 hour') s;
-- A step of 30 minutes: 12:30-13:30 and 14:30-15:30 touch the bookings only.
SELECT * FROM pg_temp.fs('fs:room', '[2030-09-01 09:00+00,2030-09-01 17:00+00)', '1 hour', '30 minutes') ORDER BY n;
-- A step longer than the duration.
SELECT * FROM pg_temp.fs('fs:room', '[2030-09-01 09:00+00,2030-09-01 17:00+00)', '30 minutes', '2 hours') ORDER BY n;
-- The grid starts at lower(search), also off the hour.
SELECT * FROM pg_temp.fs('fs:room', '[2030-09-01 09:10+00,2030-09-01 17:00+00)', '1 hour') ORDER BY n;
SELECT * FROM pg_temp.fs('fs:room', '[2030-09-01 08:30+00,2030-09-01 17:00+00)', '1 hour') ORDER BY n;
-- A slot must lie inside search: nothing longer than it, nothing past its end.
SELECT * FROM pg_temp.fs('fs:room', '[2030-09-01 15:00+00,2030-09-01 16:30+00)', '1 hour', '30 minutes') ORDER BY n;
SELECT count(*) FROM slotguard.free_slots('fs:room', '[2030-09-01 15:00+00,2030-09-01 15:30+00)', '1 hour');
-- Exclusive search bounds are honoured: '(15:00' excludes a slot starting
-- at 15:00; the grid still starts there.
SELECT * FROM pg_temp.fs('fs:room', '(2030-09-01 15:00+00,2030-09-01 16:30+00)', '1 hour', '30 minutes') ORDER BY n;
SELECT * FROM pg_temp.fs('fs:room', '(2030-09-01 15:00+00,2030-09-01 16:30+00]', '1 hour', '30 minutes') ORDER BY n;
-- An inclusive upper bound does not make room for more.
SELECT * FROM pg_temp.fs('fs:room', '[2030-09-01 15:00+00,2030-09-01 16:00+00]', '1 hour', '30 minutes') ORDER BY n;
SELECT * FROM pg_temp.fs('fs:room', '[2030-09-01 15:00+00,2030-09-01 15:59+00]', '1 hour', '30 minutes') ORDER BY n;
-- Every slot offered can be booked (checked in a rolled-back transaction).
BEGIN;
SELECT slot, pg_temp.sqlstate_of(format('SELECT slotguard.book_slot(%L, %L)', 'fs:room', slot)) AS booked
FROM pg_temp.fs('fs:room', '[2030-09-01 09:00+00,2030-09-01 17:00+00)', '1 hour') ORDER BY n;
ROLLBACK;
-- A fully booked search gives nothing.
SELECT count(*) FROM slotguard.free_slots('fs:room', '[2030-09-01 10:00+00,2030-09-01 11:00+00)', '15 minutes');

-- ---------------------------------------------------------------------------
-- Seats and capacity > 1: the peak load must leave room for the seats.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('fs:class', 3);
SELECT seats FROM slotguard.book_slot('fs:class', '[2030-09-02 10:00+00,2030-09-02 12:00+00)', 2);
SELECT seats FROM slotguard.book_slot('fs:class', '[2030-09-02 11:00+00,2030-09-02 13:00+00)', 1);
SELECT * FROM pg_temp.fs('fs:class', '[2030-09-02 09:00+00,2030-09-02 14:00+00)', '1 hour', NULL, 1) ORDER BY n;
SELECT * FROM pg_temp.fs('fs:class', '[2030-09-02 09:00+00,2030-09-02 14:00+00)', '1 hour', NULL, 2) ORDER BY n;
SELECT * FROM pg_temp.fs('fs:class', '[2030-09-02 09:00+00,2030-09-02 14:00+00)', '1 hour', NULL, 3) ORDER BY n;
SELECT * FROM pg_temp.fs('fs:class', '[2030-09-02 09:00+00,2030-09-02 14:00+00)', '2 hours', '30 minutes', 2) ORDER BY n;

-- ---------------------------------------------------------------------------
-- Buffers: a slot's own buffers must not touch another booking's blocked range.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('fs:buf', 1, '15 minutes', '15 minutes');
SELECT during, blocked FROM slotguard.book_slot('fs:buf', '[2030-09-03 12:00+00,2030-09-03 13:00+00)');
-- [t, t+1h) blocks [t-15min, t+1h15min): t <= 10:30 or t >= 13:30.
SELECT * FROM pg_temp.fs('fs:buf', '[2030-09-03 10:00+00,2030-09-03 15:00+00)', '1 hour', '15 minutes') ORDER BY n;
-- Buffers may reach outside the search range.
SELECT * FROM pg_temp.fs('fs:buf', '[2030-09-03 13:15+00,2030-09-03 14:45+00)', '1 hour', '15 minutes') ORDER BY n;

-- ---------------------------------------------------------------------------
-- availability: maximal runs of constant free seats covering search.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('fs:profile', 3);
SELECT seats FROM slotguard.book_slot('fs:profile', '[2030-09-04 10:00+00,2030-09-04 11:00+00)', 1);
-- Adjacent bookings of the same load make one run.
SELECT seats FROM slotguard.book_slot('fs:profile', '[2030-09-04 11:00+00,2030-09-04 12:00+00)', 1);
SELECT seats FROM slotguard.book_slot('fs:profile', '[2030-09-04 11:30+00,2030-09-04 13:00+00)', 2);
SELECT seats FROM slotguard.book_slot('fs:profile', '[2030-09-04 15:00+00,2030-09-04 16:00+00]', 3);
SELECT * FROM slotguard.availability('fs:profile', '[2030-09-04 08:00+00,2030-09-04 18:00+00)') ORDER BY during;
-- Runs are clipped to search.
SELECT * FROM slotguard.availability('fs:profile', '[2030-09-04 10:30+00,2030-09-04 12:15+00)') ORDER BY during;
-- A search with no booking is one run with every seat free.
SELECT * FROM slotguard.availability('fs:profile', '[2030-09-05 00:00+00,2030-09-06 00:00+00)');
-- Bound styles of the search are kept.
SELECT * FROM slotguard.availability('fs:profile', '(2030-09-04 09:00+00,2030-09-04 10:30+00]') ORDER BY during;
-- The runs cover search exactly, without gaps or overlaps.
SELECT range_agg(during) = tstzmultirange('[2030-09-04 08:00+00,2030-09-04 18:00+00)'::tstzrange) AS covers_search,
       count(*) = count(DISTINCT during) AS distinct_runs,
       bool_and(free_seats BETWEEN 0 AND 3) AS within_capacity
FROM slotguard.availability('fs:profile', '[2030-09-04 08:00+00,2030-09-04 18:00+00)');
-- Bound styles make runs of a single instant: [10,11] and (11,12) are one
-- run with no gap, [12,13) and (13,14) leave 13:00 itself free.
SELECT key FROM slotguard.upsert_resource('fs:points', 2);
SELECT during FROM slotguard.book_slot('fs:points', '[2030-09-07 10:00+00,2030-09-07 11:00+00]');
SELECT during FROM slotguard.book_slot('fs:points', '(2030-09-07 11:00+00,2030-09-07 12:00+00)');
SELECT during FROM slotguard.book_slot('fs:points', '[2030-09-07 12:00+00,2030-09-07 13:00+00)');
SELECT during FROM slotguard.book_slot('fs:points', '(2030-09-07 13:00+00,2030-09-07 14:00+00)');
SELECT * FROM slotguard.availability('fs:points', '[2030-09-07 09:00+00,2030-09-07 15:00+00)') ORDER BY during;
-- Buffers count in the profile (blocked ranges).
SELECT * FROM slotguard.availability('fs:buf', '[2030-09-03 11:00+00,2030-09-03 14:00+00)') ORDER BY during;

-- ---------------------------------------------------------------------------
-- Unknown resources: all free while auto-creation is on (and nothing is
-- created by a read), P0002 when it is off.
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.fs('fs:nobody', '[2030-09-06 09:00+00,2030-09-06 12:00+00)', '1 hour') ORDER BY n;
SELECT * FROM slotguard.availability('fs:nobody', '[2030-09-06 09:00+00,2030-09-06 12:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('fs:nobody', '[2030-09-06 09:00+00,2030-09-06 12:00+00)', '1 hour', NULL, 2)$$);
SELECT count(*) AS created FROM slotguard.resource WHERE key = 'fs:nobody';
SET slotguard.auto_create_resources = off;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('fs:nobody', '[2030-09-06 09:00+00,2030-09-06 12:00+00)', '1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.availability('fs:nobody', '[2030-09-06 09:00+00,2030-09-06 12:00+00)')$$);
-- Known resources still answer.
SELECT count(*) FROM slotguard.free_slots('fs:room', '[2030-09-01 09:00+00,2030-09-01 17:00+00)', '1 hour');
RESET slotguard.auto_create_resources;

-- A search that would examine too many slots is refused (22023).
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('fs:room', '[2030-01-01 00:00+00,2040-01-01 00:00+00)', '1 minute')$$);
SELECT count(*) FROM slotguard.free_slots('fs:room', '[2030-01-01 00:00+00,2031-01-01 00:00+00)', '1 hour');

-- Clean up.
DELETE FROM slotguard.booking WHERE resource_key LIKE 'fs:%';
DELETE FROM slotguard.resource WHERE key LIKE 'fs:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM fs_saved_seq;
