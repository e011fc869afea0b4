-- book_slot / try_book_slot / cancel_booking (API.md §1, §2): half-open
-- ranges, bound styles, capacity as a peak, seats, buffers, the conflict
-- error, auto-created resources.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Booking ids appear in results and messages: use an id range of our own and
-- restore the sequence at the end.
CREATE TEMP TABLE bk_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 100000, false) AS id_base;

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

CREATE VIEW pg_temp.bk_bookings AS
SELECT id, resource_key, during, seats, status, blocked
FROM slotguard.booking WHERE resource_key LIKE 'bk:%';

-- ---------------------------------------------------------------------------
-- A plain booking: confirmed, the row is returned, blocked = during.
-- ---------------------------------------------------------------------------
SELECT key, capacity FROM slotguard.upsert_resource('bk:psych');
SELECT id, resource_key, during, seats, status, holder, idempotency_key, hold_expires_at, metadata, blocked,
       created_at IS NOT NULL AND updated_at IS NOT NULL AS stamped
FROM slotguard.book_slot('bk:psych', '[2030-01-15 14:00+00,2030-01-15 15:00+00)',
                         holder => 'patient-1', metadata => '{"note": "first visit"}');
SELECT pg_typeof(slotguard.book_slot('bk:psych', '[2030-01-15 09:00+00,2030-01-15 10:00+00)'));

-- Half-open: 14-15 and 15-16 do not overlap, and neither does 13-14.
SELECT id, during, status FROM slotguard.book_slot('bk:psych', '[2030-01-15 15:00+00,2030-01-15 16:00+00)');
SELECT id, during, status FROM slotguard.book_slot('bk:psych', '[2030-01-15 13:00+00,2030-01-15 14:00+00)');
-- The same slot again, or any overlap, is refused.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:psych', '[2030-01-15 14:00+00,2030-01-15 15:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:psych', '[2030-01-15 14:59+00,2030-01-15 15:01+00)')$$);
SELECT * FROM pg_temp.bk_bookings WHERE resource_key = 'bk:psych' ORDER BY id;

-- ---------------------------------------------------------------------------
-- Overlaps that do not start at the same instant (the seed's unique index on
-- (resource, start) let 14:00-16:00 and 15:00-16:00 both in).
-- ---------------------------------------------------------------------------
SELECT id AS ov_long FROM slotguard.book_slot('bk:overlap', '[2030-01-16 14:00+00,2030-01-16 16:00+00)') \gset
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:overlap', '[2030-01-16 15:00+00,2030-01-16 16:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:overlap', '[2030-01-16 13:00+00,2030-01-16 14:30+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:overlap', '[2030-01-16 14:30+00,2030-01-16 15:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:overlap', '[2030-01-16 12:00+00,2030-01-16 18:00+00)')$$);
-- The other order: the short one first, then the long one.
SELECT id AS ov_short FROM slotguard.book_slot('bk:overlap', '[2030-01-17 15:00+00,2030-01-17 16:00+00)') \gset
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:overlap', '[2030-01-17 14:00+00,2030-01-17 16:00+00)')$$);
SELECT * FROM pg_temp.bk_bookings WHERE resource_key = 'bk:overlap' ORDER BY id;

-- ---------------------------------------------------------------------------
-- Capacity is a peak, not a count: with capacity 2, [01,03) and [03,05) never
-- overlap each other, so [02,04) fits as the second seat; a second [02,04)
-- would make three at 02:00-04:00.
-- ---------------------------------------------------------------------------
SELECT key, capacity FROM slotguard.upsert_resource('bk:peak', 2);
SELECT id, during FROM slotguard.book_slot('bk:peak', '[2030-01-18 01:00+00,2030-01-18 03:00+00)');
SELECT id, during FROM slotguard.book_slot('bk:peak', '[2030-01-18 03:00+00,2030-01-18 05:00+00)');
SELECT id, during FROM slotguard.book_slot('bk:peak', '[2030-01-18 02:00+00,2030-01-18 04:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:peak', '[2030-01-18 02:00+00,2030-01-18 04:00+00)')$$);
-- Where only one seat is taken there is still room.
SELECT id, during FROM slotguard.book_slot('bk:peak', '[2030-01-18 00:00+00,2030-01-18 02:00+00)');
SELECT id, during FROM slotguard.book_slot('bk:peak', '[2030-01-18 04:00+00,2030-01-18 06:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:peak', '[2030-01-18 01:30+00,2030-01-18 02:30+00)')$$);
SELECT * FROM slotguard.availability('bk:peak', '[2030-01-18 00:00+00,2030-01-18 07:00+00)') ORDER BY during;

-- ---------------------------------------------------------------------------
-- Seats (the seed's cooking class): capacity 10, 8 booked, +2 fits, +1 not.
-- ---------------------------------------------------------------------------
SELECT key, capacity FROM slotguard.upsert_resource('bk:cooking', 10, kind => 'class');
SELECT id, seats FROM slotguard.book_slot('bk:cooking', '[2030-01-19 18:00+00,2030-01-19 20:00+00)', 8);
SELECT id, seats FROM slotguard.book_slot('bk:cooking', '[2030-01-19 18:00+00,2030-01-19 20:00+00)', 2);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:cooking', '[2030-01-19 18:00+00,2030-01-19 20:00+00)', 1)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:cooking', '[2030-01-19 19:59+00,2030-01-19 21:00+00)', 1)$$);
SELECT sum(seats) AS seats_taken FROM slotguard.booking
WHERE resource_key = 'bk:cooking' AND status <> 'cancelled';
-- The next class (adjacent) has all 10 seats.
SELECT id, seats FROM slotguard.book_slot('bk:cooking', '[2030-01-19 20:00+00,2030-01-19 22:00+00)', 10);

-- ---------------------------------------------------------------------------
-- Buffers: with buffer_after 15 minutes, 14:00-15:00 blocks until 15:15.
-- ---------------------------------------------------------------------------
SELECT key, buffer_before, buffer_after FROM slotguard.upsert_resource('bk:buffer', 1, '0', '15 minutes');
SELECT id, during, blocked FROM slotguard.book_slot('bk:buffer', '[2030-01-20 14:00+00,2030-01-20 15:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:buffer', '[2030-01-20 15:10+00,2030-01-20 16:00+00)')$$);
SELECT id, during, blocked FROM slotguard.book_slot('bk:buffer', '[2030-01-20 15:15+00,2030-01-20 16:00+00)');
-- A booking before 14:00 has its own buffer after it: it must end by 13:45.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:buffer', '[2030-01-20 13:00+00,2030-01-20 13:50+00)')$$);
SELECT id, during, blocked FROM slotguard.book_slot('bk:buffer', '[2030-01-20 13:00+00,2030-01-20 13:45+00)');
-- buffer_before works the same way on the other side.
SELECT key, buffer_before, buffer_after FROM slotguard.upsert_resource('bk:buffer2', 1, '10 minutes', '0');
SELECT id, during, blocked FROM slotguard.book_slot('bk:buffer2', '[2030-01-20 14:00+00,2030-01-20 15:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:buffer2', '[2030-01-20 15:05+00,2030-01-20 16:00+00)')$$);
SELECT id, during, blocked FROM slotguard.book_slot('bk:buffer2', '[2030-01-20 15:10+00,2030-01-20 16:00+00)');
SELECT * FROM pg_temp.bk_bookings WHERE resource_key IN ('bk:buffer', 'bk:buffer2') ORDER BY id;

-- ---------------------------------------------------------------------------
-- Bound styles are honoured as given: overlap is PostgreSQL's &&.
-- ---------------------------------------------------------------------------
SELECT '[2030-01-21 14:00+00,2030-01-21 15:00+00]'::tstzrange && '[2030-01-21 15:00+00,2030-01-21 16:00+00)' AS pg_closed_vs_halfopen,
       '[2030-01-21 14:00+00,2030-01-21 15:00+00]'::tstzrange && '(2030-01-21 15:00+00,2030-01-21 16:00+00)' AS pg_closed_vs_open;
SELECT id, during FROM slotguard.book_slot('bk:bounds', '[2030-01-21 14:00+00,2030-01-21 15:00+00]');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:bounds', '[2030-01-21 15:00+00,2030-01-21 16:00+00)')$$);
SELECT id, during FROM slotguard.book_slot('bk:bounds', '(2030-01-21 15:00+00,2030-01-21 16:00+00)');
-- 16:00 itself is still free after the open range above.
SELECT id, during FROM slotguard.book_slot('bk:bounds', '[2030-01-21 16:00+00,2030-01-21 17:00+00)');
-- An open lower bound after an inclusive upper one at the same instant.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:bounds', '(2030-01-21 13:00+00,2030-01-21 14:00+00]')$$);
SELECT id, during FROM slotguard.book_slot('bk:bounds', '(2030-01-21 13:00+00,2030-01-21 14:00+00)');
-- Stored as given, not rewritten to '[)'.
SELECT id, during, lower_inc(during) AS li, upper_inc(during) AS ui
FROM pg_temp.bk_bookings WHERE resource_key = 'bk:bounds' ORDER BY id;

-- ---------------------------------------------------------------------------
-- try_book_slot: (id, '{}', '{}') on success, (NULL, conflicts, suggestions)
-- on a conflict, nothing written.
-- ---------------------------------------------------------------------------
SELECT booking_id IS NOT NULL AS booked, conflicts, suggestions
FROM slotguard.try_book_slot('bk:try', '[2030-01-22 10:00+00,2030-01-22 11:00+00)');
SELECT booking_id AS try_id FROM slotguard.try_book_slot('bk:try', '[2030-01-22 12:00+00,2030-01-22 13:00+00)') \gset
SELECT id = :try_id AS same_id, during, status FROM slotguard.booking WHERE id = :try_id;
SELECT pg_typeof(conflicts) AS conflicts_type, pg_typeof(suggestions) AS suggestions_type,
       cardinality(conflicts) AS n_conflicts, cardinality(suggestions) AS n_suggestions
FROM slotguard.try_book_slot('bk:try', '[2030-01-22 14:00+00,2030-01-22 15:00+00)');
-- A conflict with 10:00-11:00 and 12:00-13:00 (ids in the first column of
-- the listing below); alternatives of the same length, nearest first.
SELECT * FROM slotguard.try_book_slot('bk:try', '[2030-01-22 10:30+00,2030-01-22 12:30+00)');
SELECT booking_id, conflicts, suggestions
FROM slotguard.try_book_slot('bk:try', '[2030-01-22 12:00+00,2030-01-22 13:00+00)');
SELECT count(*) AS try_rows FROM slotguard.booking WHERE resource_key = 'bk:try';
SELECT id, during FROM pg_temp.bk_bookings WHERE resource_key = 'bk:try' ORDER BY id;
-- Exactly one row either way.
SELECT count(*) FROM slotguard.try_book_slot('bk:try', '[2030-01-22 12:00+00,2030-01-22 13:00+00)');

-- ---------------------------------------------------------------------------
-- The conflict error: 23P01, the message names resource and range, DETAIL
-- lists the conflicting ids, HINT up to three free alternatives of the same
-- duration, nearest first.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('bk:err', 2);
SELECT id AS err_a FROM slotguard.book_slot('bk:err', '[2030-01-23 10:00+00,2030-01-23 11:00+00)') \gset
SELECT id AS err_b FROM slotguard.book_slot('bk:err', '[2030-01-23 10:30+00,2030-01-23 11:30+00)') \gset
SELECT id AS err_c FROM slotguard.book_slot('bk:err', '[2030-01-23 09:00+00,2030-01-23 10:00+00)') \gset
SELECT id AS err_d FROM slotguard.book_slot('bk:err', '[2030-01-23 09:00+00,2030-01-23 10:00+00)') \gset
SELECT :err_a AS err_a, :err_b AS err_b, :err_c AS err_c, :err_d AS err_d;
\x on
-- Only the bookings that overload the wanted range are listed (10:30-11:00
-- has two seats taken); 09:00-10:00 is full too.
SELECT * FROM pg_temp.err_of($$SELECT slotguard.book_slot('bk:err', '[2030-01-23 10:00+00,2030-01-23 11:00+00)')$$);
SELECT * FROM pg_temp.err_of($$SELECT slotguard.book_slot('bk:err', '[2030-01-23 09:30+00,2030-01-23 10:30+00)')$$);
\x off
-- psql shows the same DETAIL and HINT.
SELECT slotguard.book_slot('bk:err', '[2030-01-23 10:00+00,2030-01-23 11:00+00)');
-- try_book_slot reports the same ids and alternatives.
SELECT booking_id, conflicts, suggestions
FROM slotguard.try_book_slot('bk:err', '[2030-01-23 10:00+00,2030-01-23 11:00+00)');
-- Alternatives keep the requested length and bound style; they are on the
-- grid of that length around the request (here :30 past the hour). Regression:
-- a build of 2026-11-24 looped forever (uncancellable, 100% CPU) searching
-- the earlier alternatives of a request half a slot off the booked grid.
SELECT key FROM slotguard.upsert_resource('bk:grid');
SELECT id AS grid_a FROM slotguard.book_slot('bk:grid', '[2030-01-24 14:00+00,2030-01-24 15:00+00)') \gset
\x on
SELECT * FROM pg_temp.err_of($$SELECT slotguard.book_slot('bk:grid', '[2030-01-24 14:30+00,2030-01-24 15:30+00)')$$);
SELECT * FROM pg_temp.err_of($$SELECT slotguard.book_slot('bk:grid', '[2030-01-24 13:30+00,2030-01-24 14:30+00)')$$);
SELECT * FROM pg_temp.err_of($$SELECT slotguard.book_slot('bk:grid', '(2030-01-24 14:00+00,2030-01-24 15:00+00]')$$);
\x off
-- With buffers the alternatives leave room for them.
SELECT key FROM slotguard.upsert_resource('bk:gridbuf', 1, '30 minutes', '30 minutes');
SELECT id AS gridbuf_a FROM slotguard.book_slot('bk:gridbuf', '[2030-01-24 14:00+00,2030-01-24 15:00+00)') \gset
SELECT booking_id, suggestions
FROM slotguard.try_book_slot('bk:gridbuf', '[2030-01-24 14:00+00,2030-01-24 15:00+00)');
-- No alternative nearby: the HINT says so.
SET slotguard.suggestion_horizon = '2h';
SELECT id FROM slotguard.book_slot('bk:grid', '[2030-01-24 12:00+00,2030-01-24 14:00+00)') \gset full_
SELECT id FROM slotguard.book_slot('bk:grid', '[2030-01-24 15:00+00,2030-01-24 17:00+00)') \gset full_
\x on
SELECT * FROM pg_temp.err_of($$SELECT slotguard.book_slot('bk:grid', '[2030-01-24 14:00+00,2030-01-24 15:00+00)')$$);
\x off
SELECT booking_id IS NULL AS refused, suggestions
FROM slotguard.try_book_slot('bk:grid', '[2030-01-24 14:00+00,2030-01-24 15:00+00)');
RESET slotguard.suggestion_horizon;
-- slotguard.max_suggestions limits the alternatives.
SET slotguard.max_suggestions = 1;
SELECT booking_id IS NULL AS refused, suggestions
FROM slotguard.try_book_slot('bk:psych', '[2030-01-15 14:00+00,2030-01-15 15:00+00)');
RESET slotguard.max_suggestions;

-- ---------------------------------------------------------------------------
-- Unknown resources: created with capacity 1 and no buffers while
-- slotguard.auto_create_resources is on (the default), else P0002.
-- ---------------------------------------------------------------------------
SHOW slotguard.auto_create_resources;
SELECT id, resource_key, during FROM slotguard.book_slot('bk:auto', '[2030-01-25 10:00+00,2030-01-25 11:00+00)');
SELECT key, kind, capacity, buffer_before, buffer_after, metadata FROM slotguard.resource WHERE key = 'bk:auto';
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:auto', '[2030-01-25 10:30+00,2030-01-25 11:30+00)')$$);
SET slotguard.auto_create_resources = off;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:auto-off', '[2030-01-25 10:00+00,2030-01-25 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('bk:auto-off', '[2030-01-25 10:00+00,2030-01-25 11:00+00)')$$);
SELECT slotguard.book_slot('bk:auto-off', '[2030-01-25 10:00+00,2030-01-25 11:00+00)');
-- Nothing was created.
SELECT count(*) AS auto_off_resources FROM slotguard.resource WHERE key = 'bk:auto-off';
SELECT count(*) AS auto_off_bookings FROM slotguard.booking WHERE resource_key = 'bk:auto-off';
-- Known resources still work with the setting off.
SELECT id, during FROM slotguard.book_slot('bk:auto', '[2030-01-25 11:00+00,2030-01-25 12:00+00)');
RESET slotguard.auto_create_resources;
-- An auto-created resource that is then refused leaves no resource behind.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:auto-big', '[2030-01-25 10:00+00,2030-01-25 11:00+00)', 2)$$);
SELECT count(*) AS auto_big_resources FROM slotguard.resource WHERE key = 'bk:auto-big';

-- ---------------------------------------------------------------------------
-- cancel_booking frees the capacity and is idempotent.
-- ---------------------------------------------------------------------------
SELECT id AS cx FROM slotguard.book_slot('bk:cancel', '[2030-01-26 10:00+00,2030-01-26 11:00+00)') \gset
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('bk:cancel', '[2030-01-26 10:00+00,2030-01-26 11:00+00)')$$);
SELECT id = :cx AS same_id, status, during FROM slotguard.cancel_booking(:cx);
SELECT pg_typeof(slotguard.cancel_booking(:cx));
-- Again: no error, still cancelled, nothing else changes.
CREATE TEMP TABLE bk_cancelled AS SELECT * FROM slotguard.booking WHERE id = :cx;
SELECT id = :cx AS same_id, status FROM slotguard.cancel_booking(:cx);
SELECT b.status, b.updated_at = c.updated_at AS untouched
FROM slotguard.booking b JOIN bk_cancelled c USING (id);
-- The slot is free again.
SELECT id <> :cx AS new_id, status FROM slotguard.book_slot('bk:cancel', '[2030-01-26 10:00+00,2030-01-26 11:00+00)');
SELECT status, count(*) FROM slotguard.booking WHERE resource_key = 'bk:cancel' GROUP BY status ORDER BY status;
-- Cancelling a hold frees it too.
SELECT id AS cx_hold FROM slotguard.book_slot('bk:cancel', '[2030-01-26 12:00+00,2030-01-26 13:00+00)', hold => '1 hour') \gset
SELECT status, hold_expires_at IS NOT NULL AS has_expiry FROM slotguard.cancel_booking(:cx_hold);
SELECT status FROM slotguard.book_slot('bk:cancel', '[2030-01-26 12:00+00,2030-01-26 13:00+00)');

-- The invariant over this file's rows: no instant where active seats exceed
-- the capacity.
SELECT count(*) AS overbooked_instants
FROM slotguard.resource r
CROSS JOIN LATERAL (
    SELECT lower(b.blocked) AS t FROM slotguard.booking b WHERE b.resource_key = r.key
) p
WHERE r.key LIKE 'bk:%'
  AND (SELECT coalesce(sum(b.seats), 0) FROM slotguard.booking b
       WHERE b.resource_key = r.key AND b.blocked @> p.t
         AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now()))) > r.capacity;

-- Clean up.
DELETE FROM slotguard.booking WHERE resource_key LIKE 'bk:%';
DELETE FROM slotguard.resource WHERE key LIKE 'bk:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM bk_saved_seq;
