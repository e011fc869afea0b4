-- Direct writes to slotguard.booking by its owner (API.md §8): they go
-- through the same check as the API (23P01), and `blocked` is derived by the
-- trigger from the resource's buffers, whatever the statement says.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Booking ids appear in results and messages: use an id range of our own and
-- restore the sequence at the end.
CREATE TEMP TABLE dw_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 200000, false) AS id_base;

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

CREATE VIEW pg_temp.dw_bookings AS
SELECT id, resource_key, during, blocked, seats, status
FROM slotguard.booking WHERE resource_key LIKE 'dw:%';

-- The caller is the owner of the extension's tables.
SELECT pg_get_userbyid(relowner) = current_user AS owner
FROM pg_class WHERE oid = 'slotguard.booking'::regclass;

SELECT key FROM slotguard.upsert_resource('dw:room', 1, '0', '15 minutes');

-- ---------------------------------------------------------------------------
-- INSERT: blocked is derived (it may be left out), the row is checked.
-- ---------------------------------------------------------------------------
INSERT INTO slotguard.booking (resource_key, during)
VALUES ('dw:room', '[2030-10-01 10:00+00,2030-10-01 11:00+00)')
RETURNING id, during, blocked, seats, status;
SELECT id AS d1 FROM slotguard.booking WHERE resource_key = 'dw:room' AND during @> '2030-10-01 10:30+00'::timestamptz \gset
-- A blocked range given by the statement is replaced by the derived one.
INSERT INTO slotguard.booking (resource_key, during, blocked)
VALUES ('dw:room', '[2030-10-01 12:00+00,2030-10-01 13:00+00)', '[2030-10-01 12:00+00,2030-10-01 12:01+00)')
RETURNING during, blocked;
-- Overlaps (also through the buffer) are refused with 23P01.
INSERT INTO slotguard.booking (resource_key, during)
VALUES ('dw:room', '[2030-10-01 10:30+00,2030-10-01 11:30+00)');
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during) VALUES ('dw:room', '[2030-10-01 11:10+00,2030-10-01 11:50+00)')$$)
    LIKE '23P01:%' AS buffer_conflict;
-- Adjacent to the buffered range is fine.
INSERT INTO slotguard.booking (resource_key, during)
VALUES ('dw:room', '[2030-10-01 11:15+00,2030-10-01 11:45+00)')
RETURNING during, blocked;
-- Two rows of one statement that overlap each other.
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during) VALUES
    ('dw:room', '[2030-10-01 15:00+00,2030-10-01 16:00+00)'),
    ('dw:room', '[2030-10-01 15:30+00,2030-10-01 16:30+00)')$$) LIKE '23P01:%' AS refused;
-- More seats than the capacity: 22023, as from book_slot.
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during, seats) VALUES ('dw:room', '[2030-10-01 17:00+00,2030-10-01 18:00+00)', 2)$$);
-- Bad values get the API's codes.
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during) VALUES ('dw:room', 'empty')$$);
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during) VALUES ('dw:room', '[2030-10-01 17:00+00,)')$$);
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during) VALUES ('dw:room', NULL)$$);
SELECT * FROM pg_temp.dw_bookings ORDER BY id;

-- A hold that has expired (or a cancelled row) takes no capacity, so it is
-- not refused; a live hold is.
INSERT INTO slotguard.booking (resource_key, during, status, hold_expires_at)
VALUES ('dw:room', '[2030-10-01 10:00+00,2030-10-01 11:00+00)', 'held', '2000-01-01 00:00+00')
RETURNING status, during;
INSERT INTO slotguard.booking (resource_key, during, status)
VALUES ('dw:room', '[2030-10-01 10:00+00,2030-10-01 11:00+00)', 'cancelled')
RETURNING status, during;
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during, status, hold_expires_at) VALUES ('dw:room', '[2030-10-01 10:00+00,2030-10-01 11:00+00)', 'held', now() + interval '1 hour')$$)
    LIKE '23P01:%' AS live_hold_refused;

-- COPY (a restore) is checked as well.
COPY slotguard.booking (resource_key, during) FROM stdin;
dw:room	[2030-10-01 10:45+00,2030-10-01 11:05+00)
\.
COPY slotguard.booking (resource_key, during) FROM stdin;
dw:room	[2030-10-02 10:00+00,2030-10-02 11:00+00)
\.
SELECT during, blocked FROM pg_temp.dw_bookings WHERE during && '[2030-10-02 00:00+00,2030-10-03 00:00+00)';

-- An unknown resource is created on a direct insert as on book_slot, or
-- refused (P0002) when auto-creation is off.
INSERT INTO slotguard.booking (resource_key, during)
VALUES ('dw:auto', '[2030-10-01 10:00+00,2030-10-01 11:00+00)')
RETURNING resource_key, blocked;
SELECT key, capacity, buffer_before, buffer_after FROM slotguard.resource WHERE key = 'dw:auto';
SET slotguard.auto_create_resources = off;
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during) VALUES ('dw:auto-off', '[2030-10-01 10:00+00,2030-10-01 11:00+00)')$$);
RESET slotguard.auto_create_resources;

-- ---------------------------------------------------------------------------
-- UPDATE of during: blocked follows; into a conflict: 23P01, row unchanged.
-- ---------------------------------------------------------------------------
SELECT id AS d2 FROM slotguard.booking WHERE resource_key = 'dw:room' AND status = 'confirmed'
    AND during = '[2030-10-01 12:00+00,2030-10-01 13:00+00)' \gset
UPDATE slotguard.booking SET during = '[2030-10-01 13:00+00,2030-10-01 14:00+00)' WHERE id = :d2
RETURNING during, blocked;
-- Over its own old range is fine.
UPDATE slotguard.booking SET during = '[2030-10-01 12:30+00,2030-10-01 13:30+00)' WHERE id = :d2
RETURNING during, blocked;
-- Into 10:00-11:15 (d1 with its buffer): refused.
UPDATE slotguard.booking SET during = '[2030-10-01 11:00+00,2030-10-01 12:00+00)' WHERE id = :d2;
SELECT during, blocked FROM pg_temp.dw_bookings WHERE id = :d2;
-- Setting blocked directly is overridden by the derived value.
UPDATE slotguard.booking SET blocked = '[2030-10-01 00:00+00,2030-10-01 00:01+00)' WHERE id = :d2
RETURNING during, blocked;
-- More seats than the capacity.
SELECT pg_temp.sqlstate_of(format('UPDATE slotguard.booking SET seats = 2 WHERE id = %s', :d2));
-- Moving to another resource is checked there.
SELECT key FROM slotguard.upsert_resource('dw:other');
INSERT INTO slotguard.booking (resource_key, during) VALUES ('dw:other', '[2030-10-01 13:00+00,2030-10-01 14:00+00)');
SELECT pg_temp.sqlstate_of(format($$UPDATE slotguard.booking SET resource_key = 'dw:other' WHERE id = %s$$, :d2))
    LIKE '23P01:%' AS refused_on_other;
-- Two bookings swapping places in one statement end without overlap: allowed.
SELECT id AS s1 FROM slotguard.book_slot('dw:other', '[2030-10-03 10:00+00,2030-10-03 11:00+00)') \gset
SELECT id AS s2 FROM slotguard.book_slot('dw:other', '[2030-10-03 11:00+00,2030-10-03 12:00+00)') \gset
UPDATE slotguard.booking SET during = CASE id WHEN :s1 THEN '[2030-10-03 11:00+00,2030-10-03 12:00+00)'::tstzrange
                                               ELSE '[2030-10-03 10:00+00,2030-10-03 11:00+00)'::tstzrange END
WHERE id IN (:s1, :s2);
SELECT id = :s1 AS is_s1, during FROM pg_temp.dw_bookings WHERE id IN (:s1, :s2) ORDER BY during;

-- ---------------------------------------------------------------------------
-- UPDATE of status: cancelled -> confirmed onto a taken slot is refused.
-- ---------------------------------------------------------------------------
SELECT id AS c1 FROM slotguard.book_slot('dw:room', '[2030-10-04 10:00+00,2030-10-04 11:00+00)') \gset
UPDATE slotguard.booking SET status = 'cancelled' WHERE id = :c1 RETURNING status;
SELECT id AS c2 FROM slotguard.book_slot('dw:room', '[2030-10-04 10:30+00,2030-10-04 11:30+00)') \gset
UPDATE slotguard.booking SET status = 'confirmed' WHERE id = :c1;
SELECT status FROM pg_temp.dw_bookings WHERE id = :c1;
-- Once the slot is free again it can be revived.
SELECT status FROM slotguard.cancel_booking(:c2);
UPDATE slotguard.booking SET status = 'confirmed' WHERE id = :c1 RETURNING status, during;
-- An expired hold turned back into a live one is checked too.
SELECT id AS h1 FROM slotguard.booking WHERE resource_key = 'dw:room' AND status = 'held' \gset
SELECT pg_temp.sqlstate_of(format($$UPDATE slotguard.booking SET hold_expires_at = now() + interval '1 hour' WHERE id = %s$$, :h1))
    LIKE '23P01:%' AS revived_hold_refused;

SELECT * FROM pg_temp.dw_bookings ORDER BY id;

-- The invariant over this file's rows: no instant where active seats exceed
-- the capacity.
SELECT count(*) AS overbooked_instants
FROM slotguard.resource r
CROSS JOIN LATERAL (
    SELECT lower(b.blocked) AS t FROM slotguard.booking b WHERE b.resource_key = r.key
) p
WHERE r.key LIKE 'dw:%'
  AND (SELECT coalesce(sum(b.seats), 0) FROM slotguard.booking b
       WHERE b.resource_key = r.key AND b.blocked @> p.t
         AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now()))) > r.capacity;

-- Regression: the owner's direct UPDATE of a resource used to bypass the
-- invariant (capacity lowered under two overlapping bookings, buffers
-- changed without re-deriving blocked ranges).
SELECT key FROM slotguard.upsert_resource('dw:pair', 2);
SELECT count(*) FROM (
  SELECT slotguard.book_slot('dw:pair', '[2030-10-05 10:00+00,2030-10-05 11:00+00)') FROM generate_series(1, 2)) b;
SELECT pg_temp.sqlstate_of($$UPDATE slotguard.resource SET capacity = 1 WHERE key = 'dw:pair'$$);
SELECT capacity FROM slotguard.resource WHERE key = 'dw:pair';
UPDATE slotguard.resource SET buffer_after = '30 minutes' WHERE key = 'dw:pair';
SELECT DISTINCT blocked FROM slotguard.booking WHERE resource_key = 'dw:pair';
-- The new buffer is enforced for new bookings too.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('dw:pair', '[2030-10-05 11:15+00,2030-10-05 12:00+00)')$$);

-- With suggestions switched off, a conflict carries no HINT at all.
SET slotguard.max_suggestions = 0;
CREATE FUNCTION pg_temp.hint_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN exclusion_violation THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RETURN '[' || h || ']';
END $$;
SELECT pg_temp.hint_of($$SELECT slotguard.book_slot('dw:pair', '[2030-10-05 10:00+00,2030-10-05 11:00+00)')$$);
RESET slotguard.max_suggestions;

-- Clean up (DELETE needs no check).
DELETE FROM slotguard.booking WHERE resource_key LIKE 'dw:%';
DELETE FROM slotguard.resource WHERE key LIKE 'dw:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM dw_saved_seq;
