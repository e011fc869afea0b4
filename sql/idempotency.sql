-- Idempotency keys (API.md §2): a repeated call with the same key and the
-- same resource/range/seats returns the original booking (no error, no
-- second row); the same key with other arguments is 22023.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Booking ids appear in results and messages: use an id range of our own and
-- restore the sequence at the end.
CREATE TEMP TABLE idem_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 600000, false) AS id_base;

-- Runs a statement: 'ok', or SQLSTATE and message of its error.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

CREATE VIEW pg_temp.idem_bookings AS
SELECT id, resource_key, during, seats, status, holder, idempotency_key, metadata
FROM slotguard.booking WHERE resource_key LIKE 'idem:%';

SELECT key, capacity FROM slotguard.upsert_resource('idem:room', 1);

-- ---------------------------------------------------------------------------
-- Same key, same arguments: the same booking, one row.
-- ---------------------------------------------------------------------------
SELECT id AS first_id, status, idempotency_key
FROM slotguard.book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00)',
                         holder => 'client-a', idempotency_key => 'req-1', metadata => '{"try": 1}') \gset
SELECT :first_id AS first_id;
-- Capacity is 1: a new booking of the same slot would conflict with the
-- original; the retry is the original.
SELECT id = :first_id AS same_id, status, holder, metadata
FROM slotguard.book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00)',
                         holder => 'client-a', idempotency_key => 'req-1', metadata => '{"try": 1}');
SELECT id = :first_id AS same_id
FROM slotguard.book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00)', idempotency_key => 'req-1');
-- Holder and metadata are not part of the comparison: the original is returned as it is.
SELECT id = :first_id AS same_id, holder, metadata
FROM slotguard.book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00)',
                         holder => 'client-b', idempotency_key => 'req-1', metadata => '{"try": 2}');
-- The same range written another way (same instants, same bounds) is the same range.
SELECT id = :first_id AS same_id
FROM slotguard.book_slot('idem:room', '[2030-07-01 12:00+02,2030-07-01 13:00+02)', idempotency_key => 'req-1');
-- try_book_slot with the key answers with the original id.
SELECT booking_id = :first_id AS same_id, conflicts, suggestions
FROM slotguard.try_book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00)', idempotency_key => 'req-1');
SELECT * FROM pg_temp.idem_bookings ORDER BY id;
SELECT count(*) AS rows_with_key FROM slotguard.booking WHERE idempotency_key = 'req-1';

-- ---------------------------------------------------------------------------
-- Same key, other arguments: 22023, nothing written.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('idem:room', '[2030-07-01 11:00+00,2030-07-01 12:00+00)', idempotency_key => 'req-1')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00)', 2, idempotency_key => 'req-1')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('idem:other', '[2030-07-01 10:00+00,2030-07-01 11:00+00)', idempotency_key => 'req-1')$$);
-- Another bound style is another range.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00]', idempotency_key => 'req-1')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 10:30+00)', idempotency_key => 'req-1')$$);
SELECT count(*) AS rows_with_key FROM slotguard.booking WHERE idempotency_key = 'req-1';
SELECT count(*) AS other_resource_rows FROM slotguard.resource WHERE key = 'idem:other';
SELECT * FROM pg_temp.idem_bookings ORDER BY id;

-- Keys are compared exactly.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00)', idempotency_key => 'REQ-1')$$)
    LIKE '23P01:%' AS is_a_new_booking_that_conflicts;
SELECT id <> :first_id AS new_id, idempotency_key
FROM slotguard.book_slot('idem:room', '[2030-07-01 13:00+00,2030-07-01 14:00+00)', idempotency_key => 'REQ-1');

-- ---------------------------------------------------------------------------
-- A key whose first call was refused is not used up.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('idem:room', '[2030-07-01 10:30+00,2030-07-01 11:30+00)', idempotency_key => 'req-2')$$)
    LIKE '23P01:%' AS refused;
SELECT count(*) AS rows_with_key FROM slotguard.booking WHERE idempotency_key = 'req-2';
SELECT id AS req2_id FROM slotguard.book_slot('idem:room', '[2030-07-01 11:00+00,2030-07-01 12:00+00)', idempotency_key => 'req-2') \gset
SELECT id = :req2_id AS same_id
FROM slotguard.book_slot('idem:room', '[2030-07-01 11:00+00,2030-07-01 12:00+00)', idempotency_key => 'req-2');

-- ---------------------------------------------------------------------------
-- Key reuse after cancel: the cancelled original is returned, nothing new.
-- ---------------------------------------------------------------------------
SELECT status FROM slotguard.cancel_booking(:first_id);
SELECT id = :first_id AS same_id, status
FROM slotguard.book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00)', idempotency_key => 'req-1');
SELECT booking_id = :first_id AS same_id, conflicts, suggestions
FROM slotguard.try_book_slot('idem:room', '[2030-07-01 10:00+00,2030-07-01 11:00+00)', idempotency_key => 'req-1');
SELECT count(*) AS rows_with_key FROM slotguard.booking WHERE idempotency_key = 'req-1';
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('idem:room', '[2030-07-02 10:00+00,2030-07-02 11:00+00)', idempotency_key => 'req-1')$$);

-- A retried hold returns the hold, also once it has expired.
SELECT id AS hold_id, status FROM slotguard.book_slot('idem:room', '[2030-07-03 10:00+00,2030-07-03 11:00+00)',
                                                      hold => '1 millisecond', idempotency_key => 'req-3') \gset
SELECT pg_sleep(0.01);
SELECT id = :hold_id AS same_id, status
FROM slotguard.book_slot('idem:room', '[2030-07-03 10:00+00,2030-07-03 11:00+00)',
                         hold => '1 millisecond', idempotency_key => 'req-3');
SELECT count(*) AS rows_with_key FROM slotguard.booking WHERE idempotency_key = 'req-3';

-- A rolled-back booking frees its key.
BEGIN;
SELECT status FROM slotguard.book_slot('idem:room', '[2030-07-04 10:00+00,2030-07-04 11:00+00)', idempotency_key => 'req-4');
ROLLBACK;
SELECT count(*) AS rows_with_key FROM slotguard.booking WHERE idempotency_key = 'req-4';
SELECT status FROM slotguard.book_slot('idem:room', '[2030-07-04 12:00+00,2030-07-04 13:00+00)', idempotency_key => 'req-4');

SELECT idempotency_key, count(*) FROM slotguard.booking
WHERE resource_key LIKE 'idem:%' GROUP BY idempotency_key ORDER BY idempotency_key COLLATE "C";

-- Clean up.
DELETE FROM slotguard.booking WHERE resource_key LIKE 'idem:%';
DELETE FROM slotguard.resource WHERE key LIKE 'idem:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM idem_saved_seq;
