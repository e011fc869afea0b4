-- reschedule_booking (API.md §2): an atomic move; the booking's old range
-- counts as free for the check; a conflict is 23P01 and leaves the booking
-- unchanged; the resource's buffers apply at the new place.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Booking ids appear in results and messages: use an id range of our own and
-- restore the sequence at the end.
CREATE TEMP TABLE rs_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 800000, false) AS id_base;

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

-- The whole error of a statement (NULLs when it succeeds).
CREATE FUNCTION pg_temp.err_of(q text, OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;

CREATE VIEW pg_temp.rs_bookings AS
SELECT id, resource_key, during, blocked, seats, status
FROM slotguard.booking WHERE resource_key LIKE 'rs:%';

SELECT key, capacity FROM slotguard.upsert_resource('rs:room');
SELECT id AS a FROM slotguard.book_slot('rs:room', '[2030-08-01 10:00+00,2030-08-01 11:00+00)', holder => 'alice') \gset
SELECT id AS b FROM slotguard.book_slot('rs:room', '[2030-08-01 12:00+00,2030-08-01 13:00+00)', holder => 'bob') \gset
SELECT * FROM pg_temp.rs_bookings ORDER BY id;

-- ---------------------------------------------------------------------------
-- Moving to a free range: same booking, new range, the rest kept.
-- ---------------------------------------------------------------------------
SELECT id = :a AS same_id, during, blocked, status, holder
FROM slotguard.reschedule_booking(:a, '[2030-08-01 14:00+00,2030-08-01 15:00+00)');
SELECT pg_typeof(slotguard.reschedule_booking(:a, '[2030-08-01 14:00+00,2030-08-01 15:00+00)'));
-- The old slot is free again.
SELECT id AS c FROM slotguard.book_slot('rs:room', '[2030-08-01 10:00+00,2030-08-01 11:00+00)', holder => 'carol') \gset
-- Another length and bound style are taken as given.
SELECT during FROM slotguard.reschedule_booking(:a, '(2030-08-01 14:00+00,2030-08-01 16:30+00]');
SELECT during FROM slotguard.reschedule_booking(:a, '[2030-08-01 14:00+00,2030-08-01 15:00+00)');
SELECT * FROM pg_temp.rs_bookings ORDER BY id;

-- ---------------------------------------------------------------------------
-- Moving over its own old range: the old range counts as free.
-- ---------------------------------------------------------------------------
SELECT during FROM slotguard.reschedule_booking(:a, '[2030-08-01 14:30+00,2030-08-01 15:30+00)');
SELECT during FROM slotguard.reschedule_booking(:a, '[2030-08-01 14:00+00,2030-08-01 16:00+00)');
SELECT during FROM slotguard.reschedule_booking(:a, '[2030-08-01 14:00+00,2030-08-01 15:00+00)');
-- To the range it already has.
SELECT during FROM slotguard.reschedule_booking(:a, '[2030-08-01 14:00+00,2030-08-01 15:00+00)');
-- Adjacent to the others (half-open).
SELECT during FROM slotguard.reschedule_booking(:a, '[2030-08-01 11:00+00,2030-08-01 12:00+00)');
SELECT * FROM pg_temp.rs_bookings ORDER BY id;

-- ---------------------------------------------------------------------------
-- Moving into a conflict: 23P01, DETAIL names the other booking, HINT offers
-- alternatives (its own current place is one of them), the booking is unchanged.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE rs_before AS SELECT * FROM slotguard.booking WHERE resource_key LIKE 'rs:%';
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2030-08-01 12:30+00,2030-08-01 13:30+00)')$$, :a));
\x on
SELECT * FROM pg_temp.err_of(format($$SELECT slotguard.reschedule_booking(%s, '[2030-08-01 12:00+00,2030-08-01 13:00+00)')$$, :a));
\x off
SELECT slotguard.reschedule_booking(:a, '[2030-08-01 10:00+00,2030-08-01 11:00+00)');
-- Nothing changed (every column of every row of this file is as before).
SELECT count(*) AS changed_rows
FROM slotguard.booking b FULL JOIN rs_before o USING (id)
WHERE (b.resource_key LIKE 'rs:%' OR o.resource_key LIKE 'rs:%') AND b::text IS DISTINCT FROM o::text;
SELECT * FROM pg_temp.rs_bookings ORDER BY id;

-- A cancelled booking takes no capacity: moving onto it works.
SELECT status FROM slotguard.cancel_booking(:b);
SELECT during FROM slotguard.reschedule_booking(:a, '[2030-08-01 12:00+00,2030-08-01 13:00+00)');
-- ... and a cancelled booking cannot move (55000).
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2030-08-02 12:00+00,2030-08-02 13:00+00)')$$, :b))
    LIKE '55000:%' AS cancelled_refused;

-- ---------------------------------------------------------------------------
-- Buffers apply at the new place.
-- ---------------------------------------------------------------------------
SELECT key, buffer_before, buffer_after FROM slotguard.upsert_resource('rs:buffered', 1, '5 minutes', '15 minutes');
SELECT id AS x FROM slotguard.book_slot('rs:buffered', '[2030-08-03 09:00+00,2030-08-03 10:00+00)') \gset
SELECT id AS y FROM slotguard.book_slot('rs:buffered', '[2030-08-03 12:00+00,2030-08-03 13:00+00)') \gset
SELECT during, blocked FROM slotguard.reschedule_booking(:x, '[2030-08-03 10:00+00,2030-08-03 11:00+00)');
-- y blocks [11:55,13:15). With 5 minutes before and 15 after, x can start
-- at 13:20 at the earliest after y, and must end by 11:40 before it.
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2030-08-03 13:10+00,2030-08-03 14:10+00)')$$, :x))
    LIKE '23P01:%' AS too_close_after;
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2030-08-03 10:45+00,2030-08-03 11:45+00)')$$, :x))
    LIKE '23P01:%' AS too_close_before;
SELECT during, blocked FROM pg_temp.rs_bookings WHERE id = :x;
SELECT during, blocked FROM slotguard.reschedule_booking(:x, '[2030-08-03 13:20+00,2030-08-03 14:20+00)');
SELECT during, blocked FROM slotguard.reschedule_booking(:x, '[2030-08-03 10:40+00,2030-08-03 11:40+00)');
SELECT during, blocked FROM slotguard.reschedule_booking(:x, '[2030-08-03 09:40+00,2030-08-03 10:40+00)');
SELECT * FROM pg_temp.rs_bookings WHERE resource_key = 'rs:buffered' ORDER BY id;

-- ---------------------------------------------------------------------------
-- Seats: a moved booking keeps its seats and needs room for them.
-- ---------------------------------------------------------------------------
SELECT key, capacity FROM slotguard.upsert_resource('rs:class', 4);
SELECT id AS big FROM slotguard.book_slot('rs:class', '[2030-08-04 10:00+00,2030-08-04 12:00+00)', 3) \gset
SELECT id AS small FROM slotguard.book_slot('rs:class', '[2030-08-04 13:00+00,2030-08-04 15:00+00)', 2) \gset
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2030-08-04 11:00+00,2030-08-04 13:00+00)')$$, :small))
    LIKE '23P01:%' AS two_seats_do_not_fit;
SELECT seats, during FROM slotguard.reschedule_booking(:small, '[2030-08-04 12:00+00,2030-08-04 14:00+00)');
SELECT * FROM slotguard.availability('rs:class', '[2030-08-04 09:00+00,2030-08-04 15:00+00)');

-- The invariant over this file's rows: no instant where active seats exceed
-- the capacity.
SELECT count(*) AS overbooked_instants
FROM slotguard.resource r
CROSS JOIN LATERAL (
    SELECT lower(b.blocked) AS t FROM slotguard.booking b WHERE b.resource_key = r.key
) p
WHERE r.key LIKE 'rs:%'
  AND (SELECT coalesce(sum(b.seats), 0) FROM slotguard.booking b
       WHERE b.resource_key = r.key AND b.blocked @> p.t
         AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now()))) > r.capacity;

-- Clean up.
DELETE FROM slotguard.booking WHERE resource_key LIKE 'rs:%';
DELETE FROM slotguard.resource WHERE key LIKE 'rs:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM rs_saved_seq;
