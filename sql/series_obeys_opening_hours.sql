-- Series and groups obey the §10 rules per occurrence (API.md §10 "Rules at
-- booking time": §11 bookings too). Before series and opening hours were
-- merged, book_series booked a weekend occurrence outside 'Mo-Fr' hours and
-- book_together a closed room. Keys: soh:*.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ' / ' || coalesce(d, '');
END
$$;

SELECT key FROM slotguard.upsert_resource('soh:room');
SELECT key, timezone FROM slotguard.set_policy('soh:room', 'Europe/Berlin');
SELECT count(*) FROM slotguard.set_hours('soh:room', 'Mo-Fr 09:00-17:00');
-- 2032-03-01 is a Monday: seven daily occurrences reach Saturday and Sunday.
SELECT pg_temp.error_of($$SELECT slotguard.book_series('soh:room', '[2032-03-01 10:00+01,2032-03-01 11:00+01)', 'FREQ=DAILY;COUNT=7')$$);
SELECT occurrence, booking_id IS NULL AS not_booked, reason
FROM slotguard.try_book_series('soh:room', '[2032-03-01 10:00+01,2032-03-01 11:00+01)', 'FREQ=DAILY;COUNT=7')
ORDER BY occurrence;
SELECT count(*) AS booked FROM slotguard.booking WHERE resource_key = 'soh:room';
-- Weekdays only: all five fit.
SELECT count(*) FROM slotguard.book_series('soh:room', '[2032-03-01 10:00+01,2032-03-01 11:00+01)', 'FREQ=DAILY;COUNT=5');

-- A closed resource in a group: nothing is booked, the rule is named.
SELECT key FROM slotguard.upsert_resource('soh:therapist');
SELECT slotguard.add_closure('soh:therapist', '[2032-03-08 00:00+01,2032-03-09 00:00+01)', 'training') > 0 AS closed;
SELECT pg_temp.error_of($$SELECT slotguard.book_together(ARRAY['soh:room', 'soh:therapist'], '[2032-03-08 10:00+01,2032-03-08 11:00+01)')$$);
SELECT count(*) AS booked FROM slotguard.booking WHERE resource_key IN ('soh:room', 'soh:therapist')
  AND lower(during) >= '2032-03-08';
-- book_any takes the free one instead of the closed one.
SELECT resource_key FROM slotguard.book_any(ARRAY['soh:therapist', 'soh:room'], '[2032-03-08 12:00+01,2032-03-08 13:00+01)');

-- Removing a closure frees its time: a waiting entry is offered it in the
-- same transaction (API.md §12).
SELECT status FROM slotguard.join_waitlist('soh:therapist', '[2032-03-08 14:00+01,2032-03-08 15:00+01)', holder => 'w');
SELECT slotguard.remove_exception(id) FROM slotguard.resource_exception WHERE resource_key = 'soh:therapist';
SELECT w.status, b.status AS booking_status, b.during
FROM slotguard.waitlist w JOIN slotguard.booking b ON b.id = w.booking_id
WHERE w.resource_key = 'soh:therapist';

-- Later files delete bookings: the entries go first.
DELETE FROM slotguard.waitlist WHERE resource_key LIKE 'soh:%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'soh:%';
