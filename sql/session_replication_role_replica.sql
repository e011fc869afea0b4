-- Under session_replication_role = replica (what a logical replication
-- apply worker runs with) slotguard's guard triggers still fire (API.md
-- §15): an owner's direct conflicting write is refused as in the origin
-- role. Replication itself: test/logical_replication.sh.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';

-- The guard triggers fire ALWAYS.
SELECT tgrelid::regclass AS tbl, tgname, tgenabled
FROM pg_trigger
WHERE tgrelid IN ('slotguard.booking'::regclass, 'slotguard.assignment'::regclass, 'slotguard.resource'::regclass)
  AND NOT tgisinternal
ORDER BY 1, 2;

-- Booking ids: a range of our own, the sequence restored at the end.
CREATE TEMP TABLE rr_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 1200000, false) AS id_base;

SELECT key FROM slotguard.upsert_resource('rr-room', 1);
SELECT key FROM slotguard.upsert_resource('rr-hall', 2);
SELECT id AS rr_b1 FROM slotguard.book_slot('rr-room', '[2034-01-01 10:00+00,2034-01-01 11:00+00)') \gset
SELECT id AS rr_b2 FROM slotguard.book_slot('rr-hall', '[2034-01-01 10:30+00,2034-01-01 11:30+00)', seats => 2) \gset
SELECT worker FROM slotguard.assign_workers(:rr_b1, '{rr-wendy}');

SET session_replication_role = replica;
-- (Ids differ from run to run: no DETAIL, and only the SQLSTATE where the
-- message names one.)
\set VERBOSITY terse

-- Overbooking: a direct INSERT overlapping a confirmed booking.
INSERT INTO slotguard.booking (resource_key, during, blocked)
VALUES ('rr-room', '[2034-01-01 10:30+00,2034-01-01 11:30+00)', '[2034-01-01 10:30+00,2034-01-01 11:30+00)');
-- ... or an UPDATE moving a booking onto another.
INSERT INTO slotguard.booking (resource_key, during, blocked)
VALUES ('rr-room', '[2034-01-01 12:00+00,2034-01-01 13:00+00)', '[2034-01-01 12:00+00,2034-01-01 13:00+00)')
RETURNING resource_key, during, status;
UPDATE slotguard.booking SET during = '[2034-01-01 10:15+00,2034-01-01 11:15+00)',
                             blocked = '[2034-01-01 10:15+00,2034-01-01 11:15+00)'
WHERE resource_key = 'rr-room' AND during = '[2034-01-01 12:00+00,2034-01-01 13:00+00)';

-- A booking for a resource that does not exist.
SET slotguard.auto_create_resources = off;
INSERT INTO slotguard.booking (resource_key, during, blocked)
VALUES ('rr-missing', '[2034-01-01 10:00+00,2034-01-01 11:00+00)', '[2034-01-01 10:00+00,2034-01-01 11:00+00)');
RESET slotguard.auto_create_resources;

-- A worker on two overlapping bookings.
\set VERBOSITY sqlstate
INSERT INTO slotguard.assignment (booking_id, worker, during)
VALUES (:rr_b2, 'rr-wendy', '[2034-01-01 10:30+00,2034-01-01 11:30+00)');
\set VERBOSITY terse

-- A capacity below what is booked.
UPDATE slotguard.resource SET capacity = 1 WHERE key = 'rr-hall';

-- The API itself is unchanged in this role.
SELECT slotguard.book_slot('rr-room', '[2034-01-01 10:45+00,2034-01-01 11:45+00)');

RESET session_replication_role;
\set VERBOSITY default

-- Nothing of the above went in.
SELECT resource_key, during, status FROM slotguard.booking WHERE resource_key LIKE 'rr-%' ORDER BY resource_key, during;
SELECT worker, booking_id = :rr_b1 AS on_first FROM slotguard.assignment WHERE worker = 'rr-wendy' AND status = 'active';
SELECT key, capacity FROM slotguard.resource WHERE key LIKE 'rr-%' ORDER BY key;

-- Clean up for later files.
DELETE FROM slotguard.assignment WHERE worker LIKE 'rr-%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'rr-%';
DELETE FROM slotguard.resource WHERE key LIKE 'rr-%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM rr_saved_seq;
