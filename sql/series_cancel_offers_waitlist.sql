-- cancel_series frees capacity as cancel_booking does, so it offers it to
-- the waitlist in the same transaction (API.md §11, §12). Before the merge
-- of series and waitlist it did not: the entry stayed waiting. Keys of this
-- file start with 'scow'.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

SELECT key FROM slotguard.upsert_resource('scow:room', 1);
CREATE TEMP TABLE scow_series AS
SELECT series_id, count(*) AS n
FROM slotguard.book_series('scow:room', '[2032-03-01 09:00+00,2032-03-01 10:00+00)', 'FREQ=DAILY;COUNT=3')
GROUP BY series_id;
SELECT n FROM scow_series;
-- Two waiting entries: one for the second occurrence, one for the third.
CREATE TEMP TABLE scow_w AS
SELECT w.id, w.status FROM (VALUES ('[2032-03-02 09:00+00,2032-03-02 10:00+00)'::tstzrange),
                                   ('[2032-03-03 09:00+00,2032-03-03 10:00+00)')) v(r),
     LATERAL slotguard.join_waitlist('scow:room', v.r, holder => 'next') w;
SELECT status FROM scow_w ORDER BY id;

-- Rolled back: the entries are still waiting.
BEGIN;
SELECT count(*) FROM slotguard.cancel_series((SELECT series_id FROM scow_series), '2032-03-02 00:00+00');
ROLLBACK;
SELECT w.status FROM slotguard.waitlist w JOIN scow_w USING (id) ORDER BY id;

-- "This and following": both entries get a held booking.
SELECT count(*) FROM slotguard.cancel_series((SELECT series_id FROM scow_series), '2032-03-02 00:00+00');
SELECT w.status, b.status AS booking_status, b.holder, b.during
FROM slotguard.waitlist w JOIN scow_w USING (id) JOIN slotguard.booking b ON b.id = w.booking_id
ORDER BY w.id;

-- Later files delete bookings: the entries go first.
DELETE FROM slotguard.waitlist WHERE resource_key = 'scow:room';
DELETE FROM slotguard.booking WHERE resource_key = 'scow:room';
