-- Holds (API.md §1, §2): book_slot(hold => ...) makes a 'held' booking that
-- expires at now() + hold; a live hold takes capacity, an expired one does
-- not; confirm_booking turns a hold into a confirmed booking, re-checking an
-- expired one.
--
-- Expiring deterministically: a hold of 1 millisecond made in one statement
-- (its own transaction) has expired for every later transaction once
-- pg_sleep(0.01) has run in between, since now() is the transaction start.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Booking ids appear in results and messages: use an id range of our own and
-- restore the sequence at the end.
CREATE TEMP TABLE hold_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 500000, false) AS id_base;

-- Runs a statement: 'ok', or SQLSTATE, message and DETAIL of its error.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
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

CREATE VIEW pg_temp.hold_bookings AS
SELECT id, resource_key, during, seats, status, holder, hold_expires_at IS NOT NULL AS has_expiry,
       CASE WHEN status = 'held' THEN hold_expires_at > now() END AS live
FROM slotguard.booking WHERE resource_key LIKE 'hold:%';

-- ---------------------------------------------------------------------------
-- A hold: status 'held', expiring at now() + hold (now() = transaction start).
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('hold:room');
SELECT status, holder, hold_expires_at = now() + interval '15 minutes' AS expires_now_plus_hold
FROM slotguard.book_slot('hold:room', '[2030-06-01 10:00+00,2030-06-01 11:00+00)',
                         holder => 'cart-1', hold => '15 minutes');
SELECT id AS live_hold FROM slotguard.booking WHERE resource_key = 'hold:room' AND holder = 'cart-1' \gset
BEGIN;
SELECT status, hold_expires_at = now() + interval '2 hours' AS expires_now_plus_hold
FROM slotguard.book_slot('hold:room', '[2030-06-01 14:00+00,2030-06-01 15:00+00)', hold => '2 hours');
ROLLBACK;

-- A live hold takes capacity: nobody else gets the slot.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('hold:room', '[2030-06-01 10:30+00,2030-06-01 11:30+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('hold:room', '[2030-06-01 10:00+00,2030-06-01 11:00+00)', hold => '5 minutes')$$);
SELECT booking_id, conflicts = ARRAY[:live_hold]::bigint[] AS conflicts_the_hold
FROM slotguard.try_book_slot('hold:room', '[2030-06-01 10:00+00,2030-06-01 11:00+00)');
SELECT * FROM slotguard.free_slots('hold:room', '[2030-06-01 09:00+00,2030-06-01 12:00+00)', '1 hour');
SELECT * FROM slotguard.availability('hold:room', '[2030-06-01 09:00+00,2030-06-01 12:00+00)');

-- confirm_booking of a live hold: confirmed (the expiry no longer applies).
SELECT id = :live_hold AS same_id, status, hold_expires_at IS NULL AS no_expiry, holder
FROM slotguard.confirm_booking(:live_hold);
SELECT pg_typeof(slotguard.confirm_booking(:live_hold));
-- Confirming a confirmed booking returns it unchanged.
SELECT id = :live_hold AS same_id, status FROM slotguard.confirm_booking(:live_hold);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('hold:room', '[2030-06-01 10:00+00,2030-06-01 11:00+00)')$$);
SELECT * FROM pg_temp.hold_bookings ORDER BY id;

-- ---------------------------------------------------------------------------
-- An expired hold takes no capacity.
-- ---------------------------------------------------------------------------
SELECT id AS exp1 FROM slotguard.book_slot('hold:room', '[2030-06-02 10:00+00,2030-06-02 11:00+00)',
                                                   hold => '1 millisecond') \gset
SELECT status FROM slotguard.booking WHERE id = :exp1;
SELECT pg_sleep(0.01);
SELECT live FROM pg_temp.hold_bookings WHERE id = :exp1;
SELECT * FROM slotguard.free_slots('hold:room', '[2030-06-02 09:00+00,2030-06-02 12:00+00)', '1 hour');
SELECT * FROM slotguard.availability('hold:room', '[2030-06-02 09:00+00,2030-06-02 12:00+00)');
-- The slot can be taken by someone else; the expired hold stays as a row.
SELECT id AS taker FROM slotguard.book_slot('hold:room', '[2030-06-02 10:30+00,2030-06-02 11:30+00)') \gset
SELECT * FROM pg_temp.hold_bookings WHERE during && '[2030-06-02 00:00+00,2030-06-03 00:00+00)' ORDER BY id;

-- confirm_booking of an expired hold whose slot was taken: 55000, unchanged.
SELECT pg_temp.sqlstate_of(format('SELECT slotguard.confirm_booking(%s)', :exp1))
    = format('55000: hold on booking %s expired and its slot has been taken / Conflicting bookings: %s.', :exp1, :taker)
    AS refused_naming_the_taker;
SELECT slotguard.confirm_booking(:exp1);
SELECT status, live FROM pg_temp.hold_bookings WHERE id = :exp1;
-- ... nor can it be rescheduled (an expired hold is a wrong state).
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2030-06-02 15:00+00,2030-06-02 16:00+00)')$$, :exp1))
    = format('55000: booking %s is a hold that has expired', :exp1) AS reschedule_refused;
SELECT during FROM slotguard.booking WHERE id = :exp1;
-- ... but it can be cancelled.
SELECT status FROM slotguard.cancel_booking(:exp1);

-- confirm_booking of an expired hold whose slot is still free: re-checked
-- and confirmed.
SELECT id AS exp2 FROM slotguard.book_slot('hold:room', '[2030-06-03 10:00+00,2030-06-03 11:00+00)',
                                           hold => '1 millisecond') \gset
SELECT pg_sleep(0.01);
SELECT live FROM pg_temp.hold_bookings WHERE id = :exp2;
SELECT id = :exp2 AS same_id, status, hold_expires_at IS NULL AS no_expiry FROM slotguard.confirm_booking(:exp2);
-- Now it takes capacity again.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('hold:room', '[2030-06-03 10:00+00,2030-06-03 11:00+00)')$$)
    LIKE '23P01:%' AS blocked;

-- An expired hold whose seats were taken in part by another booking: refused.
SELECT key FROM slotguard.upsert_resource('hold:class', 3);
SELECT id AS exp3 FROM slotguard.book_slot('hold:class', '[2030-06-04 10:00+00,2030-06-04 12:00+00)', 2,
                                           hold => '1 millisecond') \gset
SELECT pg_sleep(0.01);
SELECT id AS class_taker FROM slotguard.book_slot('hold:class', '[2030-06-04 11:00+00,2030-06-04 13:00+00)', 2) \gset
SELECT pg_temp.sqlstate_of(format('SELECT slotguard.confirm_booking(%s)', :exp3)) LIKE '55000:%' AS refused;
-- With one seat fewer taken it would have fitted: cancel the taker, book 1 seat.
SELECT status FROM slotguard.cancel_booking(:class_taker);
SELECT seats FROM slotguard.book_slot('hold:class', '[2030-06-04 11:00+00,2030-06-04 13:00+00)', 1);
SELECT status, seats FROM slotguard.confirm_booking(:exp3);
SELECT * FROM slotguard.availability('hold:class', '[2030-06-04 09:00+00,2030-06-04 14:00+00)');

-- ---------------------------------------------------------------------------
-- Holds and seats: live holds count their seats, expired ones do not.
-- ---------------------------------------------------------------------------
SELECT id AS seat_hold FROM slotguard.book_slot('hold:class', '[2030-06-05 10:00+00,2030-06-05 11:00+00)', 2,
                                                hold => '1 hour') \gset
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('hold:class', '[2030-06-05 10:00+00,2030-06-05 11:00+00)', 2)$$)
    LIKE '23P01:%' AS two_more_refused;
SELECT status, seats FROM slotguard.book_slot('hold:class', '[2030-06-05 10:00+00,2030-06-05 11:00+00)', 1);
SELECT * FROM slotguard.availability('hold:class', '[2030-06-05 10:00+00,2030-06-05 11:00+00)');
-- A held booking can be rescheduled while it is live; it stays held.
SELECT status, during FROM slotguard.reschedule_booking(:seat_hold, '[2030-06-05 12:00+00,2030-06-05 13:00+00)');

-- The invariant over this file's rows: no instant where active seats exceed
-- the capacity.
SELECT count(*) AS overbooked_instants
FROM slotguard.resource r
CROSS JOIN LATERAL (
    SELECT lower(b.blocked) AS t FROM slotguard.booking b WHERE b.resource_key = r.key
) p
WHERE r.key LIKE 'hold:%'
  AND (SELECT coalesce(sum(b.seats), 0) FROM slotguard.booking b
       WHERE b.resource_key = r.key AND b.blocked @> p.t
         AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now()))) > r.capacity;

-- Clean up.
DELETE FROM slotguard.booking WHERE resource_key LIKE 'hold:%';
DELETE FROM slotguard.resource WHERE key LIKE 'hold:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM hold_saved_seq;
