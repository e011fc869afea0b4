-- upsert_resource (API.md §2): create and change resources; a change that
-- would break the invariant for existing active bookings fails with 23P01
-- and changes nothing; buffers are re-applied to existing bookings.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Booking ids appear in results and messages: use an id range of our own and
-- restore the sequence at the end.
CREATE TEMP TABLE res_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 900000, false) AS id_base;

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

CREATE VIEW pg_temp.res_resources AS
SELECT key, kind, capacity, buffer_before, buffer_after, metadata
FROM slotguard.resource WHERE key LIKE 'res:%';

CREATE VIEW pg_temp.res_bookings AS
SELECT id, resource_key, during, blocked, seats, status
FROM slotguard.booking WHERE resource_key LIKE 'res:%';

-- ---------------------------------------------------------------------------
-- Create: defaults are capacity 1, no buffers, no kind, no metadata.
-- ---------------------------------------------------------------------------
SELECT key, kind, capacity, buffer_before, buffer_after, metadata, created_at IS NOT NULL AS has_created_at
FROM slotguard.upsert_resource('res:room');

-- The result is a slotguard.resource row.
SELECT pg_typeof(slotguard.upsert_resource('res:room'));

-- All arguments, positional and named.
SELECT key, kind, capacity, buffer_before, buffer_after, metadata
FROM slotguard.upsert_resource('res:class', 10, '5 minutes', '15 minutes', 'class', '{"floor": 2}');
SELECT key, kind, capacity, buffer_before, buffer_after, metadata
FROM slotguard.upsert_resource(key => 'res:named', capacity => 3, buffer_after => '10 minutes',
                               kind => 'desk', metadata => '{"zone": "B"}');

SELECT * FROM pg_temp.res_resources ORDER BY key;

-- ---------------------------------------------------------------------------
-- Update: the same key changes the row in place (no second row).
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE res_created AS
SELECT key, created_at FROM slotguard.resource WHERE key LIKE 'res:%';

-- NULL kind / metadata keep the current values; capacity and buffers change.
SELECT key, kind, capacity, buffer_before, buffer_after, metadata
FROM slotguard.upsert_resource('res:class', 12, '0', '0', NULL, NULL);
-- Omitted kind / metadata (their defaults are NULL) keep them too.
SELECT key, kind, capacity, buffer_before, buffer_after, metadata
FROM slotguard.upsert_resource('res:class', 12, '10 minutes', '20 minutes');
-- Given kind / metadata replace the current ones.
SELECT key, kind, capacity, buffer_before, buffer_after, metadata
FROM slotguard.upsert_resource('res:class', 12, kind => 'workshop', metadata => '{"floor": 3}');
-- Omitted capacity and buffers take their declared defaults (1, 0, 0).
SELECT key, kind, capacity, buffer_before, buffer_after, metadata
FROM slotguard.upsert_resource('res:named');

SELECT * FROM pg_temp.res_resources ORDER BY key;
SELECT count(*) AS rows_per_key FROM slotguard.resource WHERE key = 'res:class';
-- created_at is not touched by an update.
SELECT r.key, r.created_at = c.created_at AS created_at_kept
FROM slotguard.resource r JOIN res_created c USING (key)
ORDER BY r.key;

-- ---------------------------------------------------------------------------
-- Capacity: raising it admits more, reducing it below the peak of active
-- bookings is refused (23P01) and changes nothing.
-- ---------------------------------------------------------------------------
SELECT key, capacity FROM slotguard.upsert_resource('res:cap', 3);
SELECT id AS cap_a FROM slotguard.book_slot('res:cap', '[2030-03-01 10:00+00,2030-03-01 12:00+00)') \gset
SELECT id AS cap_b FROM slotguard.book_slot('res:cap', '[2030-03-01 11:00+00,2030-03-01 13:00+00)') \gset
SELECT id AS cap_c FROM slotguard.book_slot('res:cap', '[2030-03-01 14:00+00,2030-03-01 15:00+00)', 2) \gset
SELECT * FROM pg_temp.res_bookings WHERE resource_key = 'res:cap' ORDER BY id;
-- The peak is 2 seats (11:00-12:00 and 14:00-15:00): capacity 2 is fine.
SELECT key, capacity FROM slotguard.upsert_resource('res:cap', 2);
-- Capacity 1 would overbook both peaks.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('res:cap', 1)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('res:cap', 1, kind => 'renamed', metadata => '{"x": 1}')$$);
-- Nothing changed: capacity, kind and metadata as before.
SELECT * FROM pg_temp.res_resources WHERE key = 'res:cap';
-- Without the 2-seat booking the peak is still 2 (10:00-13:00 overlap).
SELECT id, status FROM slotguard.cancel_booking(:cap_c);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('res:cap', 1)$$);
-- Cancelled bookings take no capacity: without the overlap capacity 1 fits.
SELECT id, status FROM slotguard.cancel_booking(:cap_b);
SELECT key, capacity FROM slotguard.upsert_resource('res:cap', 1);
SELECT * FROM pg_temp.res_bookings WHERE resource_key = 'res:cap' ORDER BY id;
-- The new capacity is what bookings are checked against.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('res:cap', '[2030-03-01 11:30+00,2030-03-01 12:30+00)')$$);
SELECT key, capacity FROM slotguard.upsert_resource('res:cap', 2);
SELECT id, during FROM slotguard.book_slot('res:cap', '[2030-03-01 11:30+00,2030-03-01 12:30+00)');

-- ---------------------------------------------------------------------------
-- Buffers: existing bookings get their blocked range recomputed; a change
-- that makes them collide is refused (23P01) and changes nothing.
-- ---------------------------------------------------------------------------
SELECT key, buffer_before, buffer_after FROM slotguard.upsert_resource('res:buf');
SELECT id AS buf_a FROM slotguard.book_slot('res:buf', '[2030-03-02 10:00+00,2030-03-02 11:00+00)') \gset
SELECT id AS buf_b FROM slotguard.book_slot('res:buf', '[2030-03-02 11:00+00,2030-03-02 12:00+00)') \gset
SELECT id AS buf_c FROM slotguard.book_slot('res:buf', '[2030-03-02 13:00+00,2030-03-02 14:00+00)') \gset
-- Adjacent bookings 10-11 and 11-12: any buffer makes them collide.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('res:buf', 1, '0', '15 minutes')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('res:buf', 1, '1 minute', '0')$$);
-- Unchanged: no buffers on the resource, blocked = during on every booking.
SELECT * FROM pg_temp.res_resources WHERE key = 'res:buf';
SELECT id, during, blocked, blocked = during AS unbuffered FROM pg_temp.res_bookings
WHERE resource_key = 'res:buf' ORDER BY id;
-- With capacity 2 they may overlap through their buffers.
SELECT key, capacity, buffer_before, buffer_after
FROM slotguard.upsert_resource('res:buf', 2, '0', '15 minutes');
SELECT id, during, blocked FROM pg_temp.res_bookings WHERE resource_key = 'res:buf' ORDER BY id;
-- Back to capacity 1 with the buffer kept: refused.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('res:buf', 1, '0', '15 minutes')$$);
SELECT key, capacity, buffer_before, buffer_after FROM pg_temp.res_resources WHERE key = 'res:buf';
-- Cancel the middle booking; then buffers up to the gaps fit.
SELECT id, status FROM slotguard.cancel_booking(:buf_b);
SELECT key, capacity, buffer_before, buffer_after
FROM slotguard.upsert_resource('res:buf', 1, '30 minutes', '1 hour');
-- 10-11 blocks [09:30,12:00), 13-14 blocks [12:30,15:00); cancelled rows are
-- recomputed as well (they take no capacity either way).
SELECT id, during, blocked, status FROM pg_temp.res_bookings WHERE resource_key = 'res:buf' ORDER BY id;
-- Buffers that fill the gap exactly: 10-11 blocks up to 12:30, 13-14 from 12:30.
SELECT key, capacity, buffer_before, buffer_after
FROM slotguard.upsert_resource('res:buf', 1, '30 minutes', '1 hour 30 minutes');
SELECT id, during, blocked FROM pg_temp.res_bookings WHERE status = 'confirmed' AND resource_key = 'res:buf' ORDER BY id;
-- One minute more on either side collides.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('res:buf', 1, '31 minutes', '1 hour 30 minutes')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('res:buf', 1, '30 minutes', '1 hour 31 minutes')$$);
-- Unchanged after the failures.
SELECT key, capacity, buffer_before, buffer_after FROM pg_temp.res_resources WHERE key = 'res:buf';
SELECT id, during, blocked FROM pg_temp.res_bookings WHERE status = 'confirmed' AND resource_key = 'res:buf' ORDER BY id;
-- Removing the buffers again gives blocked = during.
SELECT key, buffer_before, buffer_after FROM slotguard.upsert_resource('res:buf', 1, '0', '0');
SELECT id, during, blocked = during AS unbuffered FROM pg_temp.res_bookings
WHERE resource_key = 'res:buf' ORDER BY id;

-- Buffers keep the bound style of the side they widen.
SELECT key FROM slotguard.upsert_resource('res:bounds', 1, '10 minutes', '20 minutes');
SELECT id, during, blocked
FROM slotguard.book_slot('res:bounds', '(2030-03-03 10:00+00,2030-03-03 11:00+00]');
SELECT key FROM slotguard.upsert_resource('res:bounds', 1, '5 minutes', '0');
SELECT id, during, blocked FROM pg_temp.res_bookings WHERE resource_key = 'res:bounds' ORDER BY id;

-- Expired holds take no capacity, so they do not stop a reduction.
SELECT key, capacity FROM slotguard.upsert_resource('res:hold', 2);
SELECT id, status FROM slotguard.book_slot('res:hold', '[2030-03-04 10:00+00,2030-03-04 11:00+00)');
SELECT id, status FROM slotguard.book_slot('res:hold', '[2030-03-04 10:00+00,2030-03-04 11:00+00)',
                                           hold => '1 millisecond');
SELECT pg_sleep(0.01);
SELECT key, capacity FROM slotguard.upsert_resource('res:hold', 1);
-- A live hold does.
SELECT key, capacity FROM slotguard.upsert_resource('res:hold', 2);
SELECT id, status FROM slotguard.book_slot('res:hold', '[2030-03-04 10:30+00,2030-03-04 11:30+00)',
                                           hold => '1 hour');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('res:hold', 1)$$);
SELECT key, capacity FROM pg_temp.res_resources WHERE key = 'res:hold';

-- The session is still usable and the invariant holds over this file's rows:
-- no instant where active seats exceed the capacity.
SELECT count(*) AS overbooked_instants
FROM slotguard.resource r
CROSS JOIN LATERAL (
    SELECT lower(b.blocked) AS t FROM slotguard.booking b WHERE b.resource_key = r.key
) p
WHERE r.key LIKE 'res:%'
  AND (SELECT coalesce(sum(b.seats), 0) FROM slotguard.booking b
       WHERE b.resource_key = r.key AND b.blocked @> p.t
         AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now()))) > r.capacity;

-- Clean up.
DELETE FROM slotguard.booking WHERE resource_key LIKE 'res:%';
DELETE FROM slotguard.resource WHERE key LIKE 'res:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM res_saved_seq;
