-- The change feed (API.md §13) on the entities and statuses the other 1.2
-- features brought: 'expired' (expire_holds), 'failed' and 'dead'
-- (fail_order), 'offered' and 'left' (the waitlist). sql/feed.sql could only
-- test these on stand-in tables before the features were merged. Keys: fe12*.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE fe_mark AS SELECT 0::bigint AS seq;
CREATE VIEW pg_temp.fe_new AS
SELECT c.entity, c.event, c.data ->> 'status' AS status
FROM slotguard.changes((SELECT seq FROM fe_mark), 100000) c
WHERE c.tenant LIKE 'fe12%' ORDER BY c.seq;
SELECT slotguard.enable_change_feed();

-- A hold that lapses, expired by expire_holds: 'held', then 'expired'.
SELECT key FROM slotguard.upsert_resource('fe12:room', 1);
SELECT status FROM slotguard.book_slot('fe12:room', '[2033-01-03 09:00+00,2033-01-03 10:00+00)', hold => '1 microsecond');
SELECT pg_sleep(0.01);
SELECT slotguard.expire_holds() >= 1 AS expired;
-- Waiting, offered when a booking is cancelled, and one that leaves.
SELECT id AS booking FROM slotguard.book_slot('fe12:room', '[2033-01-04 09:00+00,2033-01-04 10:00+00)') \gset
SELECT status FROM slotguard.join_waitlist('fe12:room', '[2033-01-04 09:00+00,2033-01-04 10:00+00)', holder => 'next');
SELECT id AS leaving FROM slotguard.join_waitlist('fe12:room', '[2033-01-04 09:00+00,2033-01-04 10:00+00)', holder => 'other') \gset
SELECT slotguard.leave_waitlist(:leaving);
SELECT status FROM slotguard.cancel_booking(:booking);
-- An order that fails once, then for good.
SELECT key FROM slotguard.add_order('fe12:o', max_attempts => 2);
SELECT status FROM slotguard.claim_order('fe12:o', 'w', '1 min');
SELECT status, attempts FROM slotguard.fail_order('fe12:o', 'w', 'boom', retry_in => '0 s');
SELECT status FROM slotguard.claim_order('fe12:o', 'w', '1 min');
SELECT status, attempts FROM slotguard.fail_order('fe12:o', 'w', 'boom again');

SELECT * FROM fe_new;
SELECT slotguard.disable_change_feed();
DELETE FROM slotguard.waitlist WHERE resource_key = 'fe12:room';
DELETE FROM slotguard.booking WHERE resource_key = 'fe12:room';
DELETE FROM slotguard.orders WHERE key = 'fe12:o';
