-- Bookings far in the future (past ~148,000 AD) once overflowed the core's
-- doubled time grid and became invisible to every check: two confirmed
-- bookings of the same capacity-1 slot, a worker on two overlapping
-- bookings, a protected table overbooked, availability showing them free.
-- Every valid timestamptz, up to 294276-12-31 23:59:59.999999 UTC, must be
-- checked exactly like any other.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

CREATE TEMP TABLE ff_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 930000, false) AS id_base;

CREATE FUNCTION pg_temp.ff_try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE;
END
$$;

-- book_slot: the repro of the report. One booking, one 23P01.
SELECT key, capacity FROM slotguard.upsert_resource('ff:r', 1);
SELECT id, status, during FROM slotguard.book_slot('ff:r', '[2030-06-01 10:00+00,294276-12-31 23:59:59+00)');
SELECT pg_temp.ff_try($$SELECT slotguard.book_slot('ff:r', '[2030-06-01 10:00+00,294276-12-31 23:59:59+00)')$$);
SELECT pg_temp.ff_try($$SELECT slotguard.book_slot('ff:r', '[294276-12-31 23:00+00,294276-12-31 23:59:59.999999+00]')$$);
SELECT count(*) AS bookings FROM slotguard.booking WHERE resource_key = 'ff:r';

-- try_book_slot: a conflict row naming the booking.
SELECT booking_id, conflicts FROM slotguard.try_book_slot('ff:r', '[200000-01-01 00:00+00,200000-01-02 00:00+00)');

-- availability and free_slots see it.
SELECT * FROM slotguard.availability('ff:r', '[294276-12-31 23:59:58+00,294276-12-31 23:59:59.999999+00]');
SELECT * FROM slotguard.free_slots('ff:r', '[294276-12-31 23:59:55+00,294276-12-31 23:59:59.999999+00]', '1 second');

-- The same far away but before the booking: free, on both sides of the year 148,000.
SELECT key FROM slotguard.upsert_resource('ff:empty', 1);
SELECT * FROM slotguard.free_slots('ff:empty', '[294276-12-31 23:59:57+00,294276-12-31 23:59:59.999999+00]', '1 second');
SELECT * FROM slotguard.availability('ff:empty', '[4713-11-24 00:00+00 BC,294276-12-31 23:59:59.999999+00]');

-- A conflict's alternatives stay inside the timestamps PostgreSQL accepts.
SELECT key FROM slotguard.upsert_resource('ff:edge', 1);
SELECT id AS edge_id FROM slotguard.book_slot('ff:edge', '[294276-12-31 23:00+00,294276-12-31 23:30+00)') \gset
SELECT booking_id, conflicts, suggestions FROM slotguard.try_book_slot('ff:edge', '[294276-12-31 23:00+00,294276-12-31 23:30+00)');

-- reschedule_booking onto the far-future booking: 23P01, unchanged.
SELECT id AS near_id FROM slotguard.book_slot('ff:r', '[2029-01-01 10:00+00,2029-01-01 11:00+00)') \gset
SELECT pg_temp.ff_try(format($$SELECT slotguard.reschedule_booking(%s, '[250000-01-01 00:00+00,250000-01-01 01:00+00)')$$, :near_id));
SELECT during FROM slotguard.booking WHERE id = :near_id;

-- confirm_booking of an expired hold whose slot a far-future booking took: 55000.
SELECT key FROM slotguard.upsert_resource('ff:hold', 1);
SELECT id AS hold_id FROM slotguard.book_slot('ff:hold', '[200000-01-01 00:00+00,200000-01-01 01:00+00)', hold => '1 microsecond') \gset
SELECT pg_sleep(0.01);
SELECT status FROM slotguard.book_slot('ff:hold', '[200000-01-01 00:30+00,200000-01-01 02:00+00)');
SELECT pg_temp.ff_try(format('SELECT slotguard.confirm_booking(%s)', :hold_id));

-- A hold that would end past the last timestamp: 22023 (was 22008).
SELECT pg_temp.ff_try($$SELECT slotguard.book_slot('ff:hold', '[2040-01-01,2040-01-02)', hold => '2562047788 hours')$$);
SELECT pg_temp.ff_try($$SELECT slotguard.book_slot('ff:hold', '[2040-01-01,2040-01-02)', hold => '2147483647 mons')$$);

-- upsert_resource: lowering capacity or adding buffers under far-future
-- bookings that would then overlap: 23P01, unchanged.
SELECT key FROM slotguard.upsert_resource('ff:cap', 2);
SELECT status FROM slotguard.book_slot('ff:cap', '[290000-01-01 00:00+00,290000-01-01 02:00+00)');
SELECT status FROM slotguard.book_slot('ff:cap', '[290000-01-01 01:00+00,290000-01-01 03:00+00)');
SELECT status FROM slotguard.book_slot('ff:cap', '[290000-01-01 04:00+00,290000-01-01 05:00+00)');
SELECT pg_temp.ff_try($$SELECT slotguard.upsert_resource('ff:cap', 1)$$);
SELECT pg_temp.ff_try($$SELECT slotguard.upsert_resource('ff:cap', 2, '0', '3 hours')$$);
SELECT key, capacity, buffer_after FROM slotguard.resource WHERE key = 'ff:cap';
-- Buffers that would push a booking past the last timestamp: 22023.
SELECT key FROM slotguard.upsert_resource('ff:late', 1);
SELECT status FROM slotguard.book_slot('ff:late', '[294276-12-31 22:00+00,294276-12-31 23:00+00)');
SELECT pg_temp.ff_try($$SELECT slotguard.upsert_resource('ff:late', 1, '0', '2 hours')$$);

-- assign_workers: one worker on two overlapping far-future bookings.
SELECT key FROM slotguard.upsert_resource('ff:w1', 1);
SELECT key FROM slotguard.upsert_resource('ff:w2', 1);
SELECT id AS w1_id FROM slotguard.book_slot('ff:w1', '[260000-03-01 09:00+00,260000-03-01 12:00+00)') \gset
SELECT id AS w2_id FROM slotguard.book_slot('ff:w2', '[260000-03-01 11:00+00,260000-03-01 13:00+00)') \gset
SELECT worker, status FROM slotguard.assign_workers(:w1_id, ARRAY['ff:ann']);
SELECT pg_temp.ff_try(format($$SELECT slotguard.assign_workers(%s, ARRAY['ff:ann'])$$, :w2_id));
SELECT booking_id, during FROM slotguard.worker_schedule('ff:ann', '[260000-01-01 00:00+00,260001-01-01 00:00+00)');

-- A protected table: two overlapping far-future rows.
CREATE TABLE ff_visit (id int PRIMARY KEY, room text NOT NULL, during tstzrange NOT NULL);
SELECT slotguard.protect('ff_visit', 'room', 'during');
INSERT INTO ff_visit VALUES (1, 'a', '[2030-06-01 10:00+00,294276-12-31 23:59:59+00)');
SELECT pg_temp.ff_try($$INSERT INTO ff_visit VALUES (2, 'a', '[2030-06-01 10:00+00,294276-12-31 23:59:59+00)')$$);
SELECT pg_temp.ff_try($$INSERT INTO ff_visit VALUES (3, 'a', '[150000-01-01 00:00+00,150000-01-02 00:00+00)')$$);
SELECT count(*) AS visits FROM ff_visit;
SELECT slotguard.unprotect('ff_visit');
DROP TABLE ff_visit;

-- Clean up.
DELETE FROM slotguard.assignment WHERE worker LIKE 'ff:%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'ff:%';
DELETE FROM slotguard.resource WHERE key LIKE 'ff:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM ff_saved_seq;
