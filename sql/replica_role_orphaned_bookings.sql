-- Under session_replication_role = replica (a logical replication apply
-- worker) the foreign keys between slotguard's tables must still hold
-- (API.md §15): their action triggers on the referenced side (resource for
-- booking_resource_fk, booking for assignment_booking_id_fkey) were left
-- ENABLE ORIGIN, so a replicated (or replica-role) DELETE of a resource
-- with bookings went through, and a resource inserted again under the same
-- key with a lower capacity stood over more bookings than it holds: an
-- overbooking no check ever saw.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';

-- The foreign keys' triggers on the referenced tables fire ALWAYS.
SELECT t.tgrelid::regclass AS tbl, c.conname, p.proname, t.tgenabled
FROM pg_trigger t
JOIN pg_constraint c ON c.oid = t.tgconstraint
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE c.connamespace = 'slotguard'::regnamespace AND c.contype = 'f' AND t.tgrelid = c.confrelid
ORDER BY 1, 2, 3;

CREATE TEMP TABLE ro_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 1300000, false) AS id_base;

SELECT key FROM slotguard.upsert_resource('ro-room', 2);
SELECT id AS ro_b1 FROM slotguard.book_slot('ro-room', '[2035-01-01 10:00+00,2035-01-01 11:00+00)') \gset
SELECT id AS ro_b2 FROM slotguard.book_slot('ro-room', '[2035-01-01 10:00+00,2035-01-01 11:00+00)') \gset
SELECT worker FROM slotguard.assign_workers(:ro_b1, '{ro-wendy}');

SET session_replication_role = replica;
\set VERBOSITY terse
-- The resource of two bookings cannot be deleted ...
DELETE FROM slotguard.resource WHERE key = 'ro-room';
-- ... so it cannot come back with capacity 1 under them.
INSERT INTO slotguard.resource (key, capacity) VALUES ('ro-room', 1)
ON CONFLICT (key) DO NOTHING;
SELECT r.key, r.capacity, count(b.id) AS bookings
FROM slotguard.resource r JOIN slotguard.booking b ON b.resource_key = r.key AND b.status <> 'cancelled'
WHERE r.key = 'ro-room' GROUP BY r.key, r.capacity;
-- Nor can its key change under them, nor a booking with a worker go.
UPDATE slotguard.resource SET key = 'ro-other' WHERE key = 'ro-room';
DELETE FROM slotguard.booking WHERE id = :ro_b1;
\set VERBOSITY default
RESET session_replication_role;

SELECT count(*) AS orphaned_bookings FROM slotguard.booking b
WHERE NOT EXISTS (SELECT FROM slotguard.resource r WHERE r.key = b.resource_key);
SELECT count(*) AS orphaned_assignments FROM slotguard.assignment a
WHERE NOT EXISTS (SELECT FROM slotguard.booking b WHERE b.id = a.booking_id);

-- Clean up: nothing of this file stays for the files after it.
DELETE FROM slotguard.assignment WHERE booking_id IN (:ro_b1, :ro_b2);
DELETE FROM slotguard.booking WHERE id IN (:ro_b1, :ro_b2);
DELETE FROM slotguard.resource WHERE key IN ('ro-room', 'ro-other');
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS seq_restored FROM ro_saved_seq;
