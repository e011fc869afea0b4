-- Worker assignment (API.md §3, errors §6): a worker is never active on two
-- active bookings whose `during` ranges overlap, on any resource.
--
-- The seed (two dispatchers assigning one worker) proposed a unique index on
-- (worker_id, status) WHERE status = 'active'. That index is wrong: it also
-- forbids one worker on two jobs that do NOT overlap. This file shows both
-- sides: overlapping jobs are refused (23P01), non-overlapping and adjacent
-- ones are allowed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

-- Booking ids appear in results and error messages. Other test files may run
-- first, so give this file its own id range and restore the sequence at the
-- end (every booking made here is deleted again).
CREATE TEMP TABLE wk_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 7000000) AS id_base;

-- Runs a statement; returns 'ok' or "SQLSTATE: message" (and the DETAIL).
-- The exception block rolls the statement back, as the contract requires
-- of every error anyway.
CREATE FUNCTION pg_temp.sg_try(q text) RETURNS text LANGUAGE plpgsql AS $$
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

-- The invariant over this file's rows: pairs of active assignments of one
-- worker on two active bookings whose ranges overlap. Must stay empty.
CREATE VIEW pg_temp.wk_double_booked AS
SELECT a1.worker, a1.booking_id AS booking_1, a2.booking_id AS booking_2
FROM slotguard.assignment a1
JOIN slotguard.assignment a2 ON a2.worker = a1.worker AND a1.booking_id < a2.booking_id
JOIN slotguard.booking b1 ON b1.id = a1.booking_id
JOIN slotguard.booking b2 ON b2.id = a2.booking_id
WHERE a1.status = 'active' AND a2.status = 'active'
  AND (b1.status = 'confirmed' OR (b1.status = 'held' AND b1.hold_expires_at > now()))
  AND (b2.status = 'confirmed' OR (b2.status = 'held' AND b2.hold_expires_at > now()))
  AND b1.during && b2.during
  AND a1.worker LIKE 'wk:%';

-- All assignment rows of a booking, history included.
CREATE FUNCTION pg_temp.wk_rows(b bigint)
RETURNS TABLE (worker text, status text, role text, assigned_by text, during tstzrange)
LANGUAGE sql AS $$
    SELECT worker, status, role, assigned_by, during FROM slotguard.assignment
    WHERE booking_id = b ORDER BY worker, status, id
$$;

SELECT key, capacity FROM slotguard.upsert_resource('wk:room-a');
SELECT key, capacity FROM slotguard.upsert_resource('wk:room-b');
SELECT key, capacity FROM slotguard.upsert_resource('wk:room-c');
-- A van with a 30-minute buffer after each job: buffers block the resource,
-- not the worker (the worker rule compares `during`).
SELECT key, buffer_after FROM slotguard.upsert_resource('wk:van', buffer_after => '30 minutes');

-- ---------------------------------------------------------------------------
-- 1. Cross-resource overlap is refused; adjacency and disjoint jobs are fine.
-- ---------------------------------------------------------------------------
SELECT id AS b1 FROM slotguard.book_slot('wk:room-a', '[2030-03-04 14:00+00,2030-03-04 15:00+00)') \gset
SELECT id AS b2 FROM slotguard.book_slot('wk:room-b', '[2030-03-04 14:30+00,2030-03-04 15:30+00)') \gset
SELECT id AS b3 FROM slotguard.book_slot('wk:room-c', '[2030-03-04 15:00+00,2030-03-04 16:00+00)') \gset
SELECT id AS b4 FROM slotguard.book_slot('wk:room-a', '[2030-03-04 09:00+00,2030-03-04 10:00+00)') \gset
SELECT :b1 AS b1, :b2 AS b2, :b3 AS b3, :b4 AS b4;

SELECT booking_id, worker, role, assigned_by, status, during
FROM slotguard.assign_workers(:b1, '{wk:bob,wk:ann}', 'dispatcher-1', 'tech');

-- b2 (another room, 14:30-15:30) overlaps b1: bob cannot be on both.
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b2, '{wk:bob}'));
-- All or nothing: cid is free, ann is not, so neither is added.
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b2, '{wk:cid,wk:ann}'));
SELECT * FROM pg_temp.wk_rows(:b2);

-- b3 (15:00-16:00) only touches b1 (14:00-15:00): half-open ranges, no overlap.
SELECT booking_id, worker, status FROM slotguard.assign_workers(:b3, '{wk:ann,wk:bob}');
-- b4 (09:00-10:00) is another job the same day: a worker may have many jobs.
SELECT booking_id, worker, status FROM slotguard.assign_workers(:b4, '{wk:ann}');

-- ann is now active on three bookings and bob on two, all legal. The seed's
-- "fix" (a unique index on (worker, status) WHERE status = 'active') cannot
-- even be built over these legal rows:
SELECT worker, count(*) AS active_jobs FROM slotguard.assignment
WHERE status = 'active' AND worker LIKE 'wk:%' GROUP BY worker ORDER BY worker;
CREATE TEMP TABLE seed_booking_workers AS
SELECT worker AS worker_id, status FROM slotguard.assignment WHERE worker LIKE 'wk:%';
-- (Only the message: which duplicate key the index build meets first is not ours to fix.)
SELECT split_part(pg_temp.sg_try('CREATE UNIQUE INDEX unique_active_worker_assignment
    ON seed_booking_workers (worker_id, status) WHERE status = ''active'''), ' / ', 1) AS seed_index;

-- Buffers widen what a booking blocks on its resource, not the worker's job:
-- van 11:00-12:00 (blocks the van until 12:30), then room-c 12:00-13:00.
SELECT id AS bv FROM slotguard.book_slot('wk:van', '[2030-03-04 11:00+00,2030-03-04 12:00+00)') \gset
SELECT id AS bw FROM slotguard.book_slot('wk:room-c', '[2030-03-04 12:00+00,2030-03-04 13:00+00)') \gset
SELECT booking_id, worker FROM slotguard.assign_workers(:bv, '{wk:eve}');
SELECT booking_id, worker FROM slotguard.assign_workers(:bw, '{wk:eve}');
-- ... but the van itself is blocked until 12:30.
SELECT pg_temp.sg_try($$SELECT slotguard.book_slot('wk:van', '[2030-03-04 12:15+00,2030-03-04 13:00+00)')$$);

-- ---------------------------------------------------------------------------
-- 2. Set semantics: after the call the active workers are exactly the list.
-- ---------------------------------------------------------------------------
-- {ann,bob} -> {bob,cid}: ann removed, bob kept (same row), cid added.
SELECT worker, status, role FROM slotguard.assign_workers(:b1, '{wk:cid,wk:bob}', 'dispatcher-2');
SELECT * FROM pg_temp.wk_rows(:b1);
-- The same set again changes nothing (no new rows).
SELECT worker FROM slotguard.assign_workers(:b1, '{wk:bob,wk:cid}');
SELECT count(*) AS rows_of_b1 FROM slotguard.assignment WHERE booking_id = :b1;
-- '{}' clears: no rows returned, every worker removed.
SELECT count(*) AS returned FROM slotguard.assign_workers(:b1, '{}');
SELECT * FROM pg_temp.wk_rows(:b1);
-- Now cid and bob are free between 14:00 and 15:00: b2 (14:30-15:30) takes cid.
-- bob is still on b3 (15:00-16:00), which overlaps b2.
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b2, '{wk:cid,wk:bob}'));
SELECT booking_id, worker FROM slotguard.assign_workers(:b2, '{wk:cid}');
-- ann comes back to b1: a new active row; the removed one stays as history.
SELECT booking_id, worker, status FROM slotguard.assign_workers(:b1, '{wk:ann}');
SELECT * FROM pg_temp.wk_rows(:b1);

-- ---------------------------------------------------------------------------
-- 3. worker_schedule: active assignments overlapping the search, by start.
-- ---------------------------------------------------------------------------
SELECT * FROM slotguard.worker_schedule('wk:ann', '[2030-03-04 00:00+00,2030-03-05 00:00+00)');
SELECT * FROM slotguard.worker_schedule('wk:ann', '[2030-03-04 14:30+00,2030-03-04 15:00+00)');
-- A search ending where a job starts does not include it.
SELECT * FROM slotguard.worker_schedule('wk:ann', '[2030-03-04 10:00+00,2030-03-04 14:00+00)');
SELECT * FROM slotguard.worker_schedule('wk:eve', '[2030-03-04 00:00+00,2030-03-05 00:00+00)');
SELECT * FROM slotguard.worker_schedule('wk:nobody', '[2030-03-04 00:00+00,2030-03-05 00:00+00)');

-- ---------------------------------------------------------------------------
-- 4. unassign_worker: true if the worker was active on the booking.
-- ---------------------------------------------------------------------------
SELECT slotguard.unassign_worker(:b3, 'wk:bob') AS was_active;
SELECT slotguard.unassign_worker(:b3, 'wk:bob') AS was_active;
SELECT slotguard.unassign_worker(:b3, 'wk:nobody') AS was_active;
SELECT * FROM pg_temp.wk_rows(:b3);
-- bob is free from 15:00 now, so b2 (14:30-15:30) can have him.
SELECT booking_id, worker FROM slotguard.assign_workers(:b2, '{wk:cid,wk:bob}');
-- A replacement that fails changes nothing: ann (on b1, 14:00-15:00) cannot
-- join b2, so bob and cid stay active and dee is not added.
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b2, '{wk:dee,wk:ann}'));
SELECT * FROM pg_temp.wk_rows(:b2);

-- ---------------------------------------------------------------------------
-- 5. cancel_booking releases the booking's workers.
-- ---------------------------------------------------------------------------
-- b3 (15:00-16:00, ann) is in the way of b5 (15:30-16:30) for ann.
SELECT id AS b5 FROM slotguard.book_slot('wk:room-a', '[2030-03-04 15:30+00,2030-03-04 16:30+00)') \gset
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b5, '{wk:ann}'));
SELECT id, status FROM slotguard.cancel_booking(:b3);
SELECT * FROM pg_temp.wk_rows(:b3);
SELECT booking_id, worker FROM slotguard.assign_workers(:b5, '{wk:ann}');
-- A cancelled booking takes no workers, not even an empty set (55000) ...
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b3, '{wk:dee}'));
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b3, '{}'));
-- ... cancelling again is idempotent, and nobody is active there any more.
SELECT id, status FROM slotguard.cancel_booking(:b3);
SELECT slotguard.unassign_worker(:b3, 'wk:ann') AS was_active;
-- A direct UPDATE to 'cancelled' (by the owner) releases the workers too.
SELECT id AS b6 FROM slotguard.book_slot('wk:room-b', '[2030-03-04 18:00+00,2030-03-04 19:00+00)') \gset
SELECT worker FROM slotguard.assign_workers(:b6, '{wk:dee}');
UPDATE slotguard.booking SET status = 'cancelled' WHERE id = :b6;
SELECT * FROM pg_temp.wk_rows(:b6);

-- ---------------------------------------------------------------------------
-- 6. Holds: a live hold keeps its workers, an expired one does not; confirming
--    an expired hold re-checks the booking and its workers together.
-- ---------------------------------------------------------------------------
SELECT id AS h1, status FROM slotguard.book_slot('wk:room-c', '[2030-03-05 10:00+00,2030-03-05 11:00+00)', hold => '1 hour') \gset
SELECT :h1 AS h1, :'status' AS status;
SELECT booking_id, worker FROM slotguard.assign_workers(:h1, '{wk:dee}');
SELECT id AS b7 FROM slotguard.book_slot('wk:room-a', '[2030-03-05 10:30+00,2030-03-05 11:30+00)') \gset
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b7, '{wk:dee}'));
-- Let the hold run out (the owner may write the table; the guard runs).
UPDATE slotguard.booking SET hold_expires_at = now() - interval '1 minute' WHERE id = :h1;
-- An expired hold takes no workers (55000) ...
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :h1, '{wk:dee,wk:eve}'));
-- ... and no longer holds dee, so b7 can have her.
SELECT booking_id, worker FROM slotguard.assign_workers(:b7, '{wk:dee}');
SELECT * FROM slotguard.worker_schedule('wk:dee', '[2030-03-05 00:00+00,2030-03-06 00:00+00)');
-- The room is still free, but dee is not: confirm refuses, naming dee and b7.
SELECT pg_temp.sg_try(format('SELECT slotguard.confirm_booking(%s)', :h1));
SELECT id, status, during FROM slotguard.booking WHERE id = :h1;
-- Once dee is off b7, the hold is confirmed with her.
SELECT slotguard.unassign_worker(:b7, 'wk:dee') AS was_active;
SELECT id, status FROM slotguard.confirm_booking(:h1);
SELECT * FROM slotguard.worker_schedule('wk:dee', '[2030-03-05 00:00+00,2030-03-06 00:00+00)');

-- ---------------------------------------------------------------------------
-- 7. reschedule_booking moves the workers and re-checks them.
-- ---------------------------------------------------------------------------
SELECT id AS b8 FROM slotguard.book_slot('wk:room-a', '[2030-03-06 09:00+00,2030-03-06 10:00+00)') \gset
SELECT id AS b9 FROM slotguard.book_slot('wk:room-b', '[2030-03-06 11:00+00,2030-03-06 12:00+00)') \gset
SELECT worker FROM slotguard.assign_workers(:b8, '{wk:ann,wk:bob}');
SELECT worker FROM slotguard.assign_workers(:b9, '{wk:bob}');
SELECT id, during FROM slotguard.reschedule_booking(:b8, '[2030-03-06 10:00+00,2030-03-06 11:00+00)');
SELECT * FROM pg_temp.wk_rows(:b8);
SELECT * FROM slotguard.worker_schedule('wk:ann', '[2030-03-06 00:00+00,2030-03-07 00:00+00)');
-- room-a is free at 10:30-11:30, but bob is on b9 from 11:00: 23P01 naming
-- bob and b9, and the booking and its workers stay where they were.
SELECT pg_temp.sg_try(format('SELECT slotguard.reschedule_booking(%s, %L)', :b8, '[2030-03-06 10:30+00,2030-03-06 11:30+00)'));
SELECT id, status, during FROM slotguard.booking WHERE id = :b8;
SELECT * FROM pg_temp.wk_rows(:b8);

-- ---------------------------------------------------------------------------
-- 8. A direct UPDATE of a booking's range moves and re-checks its workers.
-- ---------------------------------------------------------------------------
UPDATE slotguard.booking SET during = '[2030-03-06 11:15+00,2030-03-06 12:15+00)' WHERE id = :b8;
SELECT id, status, during FROM slotguard.booking WHERE id = :b8;
SELECT * FROM pg_temp.wk_rows(:b8);
UPDATE slotguard.booking SET during = '[2030-03-06 08:00+00,2030-03-06 09:00+00)' WHERE id = :b8;
SELECT id, status, during, blocked FROM slotguard.booking WHERE id = :b8;
SELECT * FROM pg_temp.wk_rows(:b8);
SELECT * FROM slotguard.worker_schedule('wk:bob', '[2030-03-06 00:00+00,2030-03-07 00:00+00)');

-- ---------------------------------------------------------------------------
-- 9. Direct writes to slotguard.assignment get the same check.
-- ---------------------------------------------------------------------------
-- bob is on b9 (11:00-12:00); b10 overlaps it on another resource.
SELECT id AS b10 FROM slotguard.book_slot('wk:room-c', '[2030-03-06 11:30+00,2030-03-06 12:30+00)') \gset
INSERT INTO slotguard.assignment (booking_id, worker, during)
VALUES (:b10, 'wk:bob', '[2030-03-06 11:30+00,2030-03-06 12:30+00)');
INSERT INTO slotguard.assignment (booking_id, worker, during)
VALUES (:b10, 'wk:cid', '[2030-03-06 11:30+00,2030-03-06 12:30+00)');
-- Turning a removed row active again is checked as well: cid's removed row
-- on b1 (14:00-15:00) overlaps cid's job on b2 (14:30-15:30).
UPDATE slotguard.assignment SET status = 'active'
WHERE booking_id = :b1 AND worker = 'wk:cid' AND status = 'removed';
SELECT * FROM pg_temp.wk_rows(:b10);
SELECT * FROM pg_temp.wk_rows(:b1);

-- ---------------------------------------------------------------------------
-- 10. Errors (§6), each leaving everything unchanged.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b9, '{wk:ann,wk:ann}')) AS duplicate;
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b9, '{wk:ann,NULL}')) AS null_element;
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b9, '{wk:ann,"  "}')) AS blank;
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b9, '{""}')) AS empty_name;
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, NULL)', :b9)) AS null_array;
SELECT pg_temp.sg_try($$SELECT slotguard.assign_workers(NULL, '{wk:ann}')$$) AS null_booking;
SELECT pg_temp.sg_try($$SELECT slotguard.assign_workers(6999999, '{wk:ann}')$$) AS unknown_booking;
SELECT pg_temp.sg_try(format('SELECT slotguard.assign_workers(%s, %L)', :b3, '{wk:ann}')) AS cancelled_booking;
SELECT pg_temp.sg_try($$SELECT slotguard.unassign_worker(NULL, 'wk:ann')$$) AS unassign_null_booking;
SELECT pg_temp.sg_try(format('SELECT slotguard.unassign_worker(%s, NULL)', :b9)) AS unassign_null_worker;
SELECT pg_temp.sg_try(format('SELECT slotguard.unassign_worker(%s, %L)', :b9, ' ')) AS unassign_blank_worker;
SELECT pg_temp.sg_try($$SELECT slotguard.unassign_worker(6999999, 'wk:ann')$$) AS unassign_unknown_booking;
SELECT pg_temp.sg_try($$SELECT slotguard.worker_schedule(NULL, '[2030-03-06,2030-03-07)')$$) AS schedule_null_worker;
SELECT pg_temp.sg_try($$SELECT slotguard.worker_schedule('wk:ann', NULL)$$) AS schedule_null_search;
SELECT pg_temp.sg_try($$SELECT slotguard.worker_schedule('wk:ann', 'empty')$$) AS schedule_empty_search;
-- b9 still has exactly bob.
SELECT * FROM pg_temp.wk_rows(:b9);

-- Regression: reviving an expired hold by a direct UPDATE used to skip the
-- worker check, and a direct INSERT into slotguard.assignment used to trust
-- the `during` it was given.
SELECT id AS rv_busy FROM slotguard.book_slot('wk:rv-a', '[2030-03-20 10:00+00,2030-03-20 11:00+00)') \gset
SELECT id AS rv_hold FROM slotguard.book_slot('wk:rv-b', '[2030-03-20 10:30+00,2030-03-20 11:30+00)',
                                             hold => '1 hour') \gset
SELECT worker FROM slotguard.assign_workers(:rv_hold, '{wk:rv}');
UPDATE slotguard.booking SET hold_expires_at = now() - interval '1 second' WHERE id = :rv_hold;
-- The hold has expired, so wk:rv is free for the overlapping booking ...
SELECT worker FROM slotguard.assign_workers(:rv_busy, '{wk:rv}');
-- ... and reviving the hold would put wk:rv on both.
SELECT pg_temp.sg_try(format($$UPDATE slotguard.booking SET hold_expires_at = now() + interval '1 hour' WHERE id = %s$$, :rv_hold));
SELECT pg_temp.sg_try(format($$UPDATE slotguard.booking SET status = 'confirmed', hold_expires_at = NULL WHERE id = %s$$, :rv_hold));
-- A direct INSERT gets the booking's own range, whatever it supplies.
SELECT pg_temp.sg_try(format($$INSERT INTO slotguard.assignment (booking_id, worker, during)
                               VALUES (%s, 'wk:rv', '[2040-01-01 00:00+00,2040-01-01 01:00+00)')$$, :rv_hold));
INSERT INTO slotguard.assignment (booking_id, worker, during)
  VALUES (:rv_busy, 'wk:rv2', '[2040-01-01 00:00+00,2040-01-01 01:00+00)') RETURNING during;
SELECT pg_temp.sg_try($$INSERT INTO slotguard.assignment (booking_id, worker, during) VALUES (999999999, 'wk:rv3', '[2030-03-20 10:00+00,2030-03-20 11:00+00)')$$);

-- The invariant over everything above: no worker on two overlapping active bookings.
SELECT * FROM pg_temp.wk_double_booked;

-- ---------------------------------------------------------------------------
-- Clean up: this file's rows, resources and id range.
-- ---------------------------------------------------------------------------
DELETE FROM slotguard.assignment WHERE worker LIKE 'wk:%' OR booking_id >= 7000000;
DELETE FROM slotguard.booking WHERE resource_key LIKE 'wk:%';
DELETE FROM slotguard.resource WHERE key LIKE 'wk:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM wk_saved_seq;
DROP TABLE wk_saved_seq, seed_booking_workers;
DROP VIEW pg_temp.wk_double_booked;
DROP FUNCTION pg_temp.wk_rows(bigint);
DROP FUNCTION pg_temp.sg_try(text);
