-- Error cases of API.md §6 for the §2 functions: every required argument
-- NULL (22004); empty, infinite and unbounded ranges (22000); other invalid
-- values (22023); unknown bookings (P0002); wrong state (55000). Every error
-- leaves the database unchanged and the session usable.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Booking ids appear in results and messages: use an id range of our own and
-- restore the sequence at the end.
CREATE TEMP TABLE err_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 300000, false) AS id_base;

-- A fingerprint of everything slotguard stores, to show that nothing changed.
CREATE FUNCTION pg_temp.err_state() RETURNS text LANGUAGE sql AS $$
SELECT (SELECT count(*) FROM slotguard.resource) || ' resources, '
    || (SELECT count(*) FROM slotguard.booking) || ' bookings, '
    || (SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r.key), '')) FROM slotguard.resource r) || ', '
    || (SELECT md5(coalesce(string_agg(b::text, '|' ORDER BY b.id), '')) FROM slotguard.booking b)
$$;
CREATE TEMP TABLE err_baseline (state text);
CREATE FUNCTION pg_temp.err_unchanged() RETURNS boolean LANGUAGE sql AS $$
SELECT pg_temp.err_state() = (SELECT state FROM err_baseline)
$$;
CREATE FUNCTION pg_temp.err_snapshot() RETURNS void LANGUAGE sql AS $$
DELETE FROM err_baseline;
INSERT INTO err_baseline SELECT pg_temp.err_state();
$$;

-- Runs a statement: 'ok', or SQLSTATE and message of its error followed by
-- whether the stored data (row counts and contents) is as in the snapshot.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM
        || CASE WHEN pg_temp.err_unchanged() THEN ' [unchanged]' ELSE ' [CHANGED]' END;
END
$$;

-- Fixtures: a resource with capacity 2 and a buffer, a confirmed booking and
-- a cancelled one.
SELECT key, capacity FROM slotguard.upsert_resource('err:room', 2, '0', '10 minutes');
SELECT id AS ok_id FROM slotguard.book_slot('err:room', '[2030-05-01 10:00+00,2030-05-01 11:00+00)') \gset
SELECT id AS cancelled_id FROM slotguard.book_slot('err:room', '[2030-05-01 12:00+00,2030-05-01 13:00+00)') \gset
SELECT status FROM slotguard.cancel_booking(:cancelled_id);
SELECT pg_temp.err_snapshot();
SELECT count(*) AS resources, (SELECT count(*) FROM slotguard.booking WHERE resource_key LIKE 'err:%') AS bookings
FROM slotguard.resource WHERE key LIKE 'err:%';

-- ---------------------------------------------------------------------------
-- 22004: a required argument is NULL (no function is STRICT, so none
-- silently returns NULL).
-- ---------------------------------------------------------------------------
-- upsert_resource(key, capacity, buffer_before, buffer_after)
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource(NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:new', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:new', 1, NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:new', 1, '0', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:room', NULL)$$);
-- book_slot(resource, during, seats)
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot(NULL, '[2030-05-01 14:00+00,2030-05-01 15:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot(NULL, NULL, NULL)$$);
-- try_book_slot(resource, during, seats): bad input raises, it is no conflict.
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot(NULL, '[2030-05-01 14:00+00,2030-05-01 15:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('err:room', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', NULL)$$);
-- confirm_booking / cancel_booking / reschedule_booking
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confirm_booking(NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.cancel_booking(NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.reschedule_booking(NULL, '[2030-05-01 14:00+00,2030-05-01 15:00+00)')$$);
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, NULL)$$, :ok_id));
-- free_slots(resource, search, duration, seats); step NULL is the default.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots(NULL, '[2030-05-01 00:00+00,2030-05-02 00:00+00)', '1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', NULL, '1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', '[2030-05-01 00:00+00,2030-05-02 00:00+00)', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', '[2030-05-01 00:00+00,2030-05-02 00:00+00)', '1 hour', '1 hour', NULL)$$);
-- availability(resource, search)
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.availability(NULL, '[2030-05-01 00:00+00,2030-05-02 00:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.availability('err:room', NULL)$$);
-- Optional arguments may be NULL (checked on a rolled-back transaction).
BEGIN;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:opt', 1, '0', '0', NULL, NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:opt', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', 1, NULL, NULL, NULL, NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT count(*) FROM slotguard.free_slots('err:opt', '[2030-05-01 00:00+00,2030-05-02 00:00+00)', '1 hour', NULL)$$);
ROLLBACK;
SELECT pg_temp.err_unchanged() AS unchanged;

-- psql shows the same.
SELECT slotguard.book_slot('err:room', NULL);

-- ---------------------------------------------------------------------------
-- 22000: empty, infinite or unbounded ranges.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', 'empty')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 14:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,infinity)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[-infinity,2030-05-01 14:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '(,2030-05-01 14:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '(,)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('err:room', 'empty')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('err:room', '[2030-05-01 14:00+00,)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('err:room', '[2030-05-01 14:00+00,infinity]')$$);
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, 'empty')$$, :ok_id));
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2030-05-01 14:00+00,)')$$, :ok_id));
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[-infinity,2030-05-01 14:00+00)')$$, :ok_id));
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', 'empty', '1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', '[2030-05-01 00:00+00,)', '1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', '[2030-05-01 00:00+00,infinity)', '1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.availability('err:room', 'empty')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.availability('err:room', '(,2030-05-01 00:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.availability('err:room', '[-infinity,infinity]')$$);
SELECT pg_temp.err_unchanged() AS unchanged;

-- ---------------------------------------------------------------------------
-- 22023: other invalid values.
-- ---------------------------------------------------------------------------
-- seats < 1
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', 0)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', -1)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', 0)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', '[2030-05-01 00:00+00,2030-05-02 00:00+00)', '1 hour', NULL, 0)$$);
-- seats > capacity (2)
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', 3)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', 3)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', '[2030-05-01 00:00+00,2030-05-02 00:00+00)', '1 hour', NULL, 3)$$);
-- capacity < 1
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:new', 0)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:room', -5)$$);
-- negative buffers
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:new', 1, '-1 minute')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:room', 2, '0', '-10 minutes')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('err:room', 2, '1 hour -61 minutes', '0')$$);
-- blank resource key
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('   ')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('', '[2030-05-01 14:00+00,2030-05-01 15:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot(' ', '[2030-05-01 14:00+00,2030-05-01 15:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('', '[2030-05-01 14:00+00,2030-05-01 15:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('', '[2030-05-01 00:00+00,2030-05-02 00:00+00)', '1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.availability('  ', '[2030-05-01 00:00+00,2030-05-02 00:00+00)')$$);
-- blank idempotency key
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', idempotency_key => '')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', idempotency_key => '  ')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', idempotency_key => '')$$);
-- hold <= 0
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', hold => '0')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', hold => '-5 minutes')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', hold => '0 seconds')$$);
-- free_slots: duration and step must be positive
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', '[2030-05-01 00:00+00,2030-05-02 00:00+00)', '0')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', '[2030-05-01 00:00+00,2030-05-02 00:00+00)', '-1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.free_slots('err:room', '[2030-05-01 00:00+00,2030-05-02 00:00+00)', '1 hour', '0')$$);
SELECT pg_temp.err_unchanged() AS unchanged;

-- ---------------------------------------------------------------------------
-- P0002: unknown booking.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confirm_booking(-1)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.cancel_booking(-1)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.reschedule_booking(-1, '[2030-05-01 14:00+00,2030-05-01 15:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confirm_booking(9223372036854775807)$$);
SELECT pg_temp.err_unchanged() AS unchanged;

-- ---------------------------------------------------------------------------
-- 55000: a cancelled booking cannot be confirmed or rescheduled.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.confirm_booking(%s)$$, :cancelled_id));
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2030-05-01 16:00+00,2030-05-01 17:00+00)')$$, :cancelled_id));
-- (cancelling it again is fine: cancel is idempotent)
SELECT status FROM slotguard.cancel_booking(:cancelled_id);
SELECT pg_temp.err_unchanged() AS unchanged;

-- ---------------------------------------------------------------------------
-- Errors inside a transaction: the failed statement changes nothing, the
-- transaction is aborted as usual, and after ROLLBACK the session works.
-- ---------------------------------------------------------------------------
BEGIN;
SELECT slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)', 0);
SELECT 1;
ROLLBACK;
-- A savepoint keeps the work before the error.
BEGIN;
SELECT id AS tx_id FROM slotguard.book_slot('err:room', '[2030-05-01 15:00+00,2030-05-01 16:00+00)') \gset
SAVEPOINT s;
SELECT slotguard.confirm_booking(:cancelled_id);
ROLLBACK TO SAVEPOINT s;
SELECT status FROM slotguard.booking WHERE id = :tx_id;
ROLLBACK;
SELECT pg_temp.err_unchanged() AS unchanged;

-- The session is still usable: the trigger on slotguard.booking is armed
-- (no bypass left switched on by a failed call), a direct conflicting write
-- is refused, a normal booking works and the fixtures are as they were.
SELECT slotguard.booking_guard_needed() AS trigger_armed;
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during, seats) VALUES ('err:room', '[2030-05-01 10:00+00,2030-05-01 11:00+00)', 2)$$);
SELECT resource_key, during, status FROM slotguard.book_slot('err:room', '[2030-05-01 14:00+00,2030-05-01 15:00+00)');
SELECT id = :ok_id AS is_ok, status, during FROM slotguard.booking
WHERE resource_key = 'err:room' AND id IN (:ok_id, :cancelled_id) ORDER BY id;
SELECT key, capacity, buffer_before, buffer_after FROM slotguard.resource WHERE key LIKE 'err:%' ORDER BY key;

-- Clean up.
DELETE FROM slotguard.booking WHERE resource_key LIKE 'err:%';
DELETE FROM slotguard.resource WHERE key LIKE 'err:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM err_saved_seq;
