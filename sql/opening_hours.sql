-- Opening hours, time zones, closures and openings (API.md §10): set_hours
-- parses the OpenStreetMap opening_hours subset (22023 with the position),
-- set_policy's time zone makes them local wall-clock time (DST-correct),
-- opening() is hours ∪ openings − closures − busy, and every booking path
-- refuses (23P01, DETAIL naming the rule, HINT alternatives that obey the
-- rules) what lies outside. Rule changes refuse to strand bookings unless
-- force. Keys: oh:*.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

CREATE TEMP TABLE oh_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 1500000, false) AS id_base;

CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
    h text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' / ' || nullif(d, ''), '') || coalesce(' / ' || nullif(h, ''), '');
END
$$;

-- ---------------------------------------------------------------------------
-- set_hours: the opening_hours subset
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('oh:berlin');
SELECT key, timezone FROM slotguard.set_policy('oh:berlin', 'Europe/Berlin');
SELECT * FROM slotguard.set_hours('oh:berlin', 'Mo-Fr 09:00-12:00,13:00-17:00; Sa 10:00-14:00');
-- Lists, ranges over the weekend, overnight spans, off, 24/7.
SELECT * FROM slotguard.set_hours('oh:berlin', 'Mo,We 08:00-10:00; Fr-Su 22:00-02:00; Sa off');
SELECT count(*) AS spans_247 FROM slotguard.set_hours('oh:berlin', '24/7; Su off');
-- Bad text: 22023 with the position.
SELECT pg_temp.error_of($$SELECT slotguard.set_hours('oh:berlin', 'Mo-Fr 09:00-12:00; Xx 10:00-11:00')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_hours('oh:berlin', 'Mo 25:00-26:00')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_hours('oh:berlin', 'Mo 09:00-09:00')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_hours('oh:berlin', 'Mo 9-12')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_hours('oh:berlin', repeat('Mo 09:00-10:00; ', 100000))$$);
-- NULL arguments: 22004 (hours NULL removes them, see below).
SELECT pg_temp.error_of($$SELECT slotguard.set_hours(NULL, 'Mo 09:00-10:00')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_hours('oh:berlin', 'Mo 09:00-10:00', NULL)$$);
-- A bad time zone: 22023.
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('oh:berlin', 'Mars/Olympus')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('oh:berlin', repeat('x', 2000))$$);

-- ---------------------------------------------------------------------------
-- Local time across DST
-- ---------------------------------------------------------------------------
SELECT count(*) FROM slotguard.set_hours('oh:berlin', 'Mo-Fr 09:00-17:00');
-- Monday in January: 08:00-16:00 UTC; in July: 07:00-15:00 UTC.
SELECT * FROM slotguard.opening('oh:berlin', '[2031-01-13, 2031-01-14)');
SELECT * FROM slotguard.opening('oh:berlin', '[2031-07-14, 2031-07-15)');
-- A whole week: five spans.
SELECT count(*) FROM slotguard.opening('oh:berlin', '[2031-01-11, 2031-01-18)');
-- New York and Adelaide (half-hour offset), before and after their changes.
SELECT key FROM slotguard.upsert_resource('oh:ny');
SELECT timezone FROM slotguard.set_policy('oh:ny', 'America/New_York');
SELECT count(*) FROM slotguard.set_hours('oh:ny', 'Mo 09:00-17:00');
SELECT * FROM slotguard.opening('oh:ny', '[2031-03-03, 2031-03-04)');
SELECT * FROM slotguard.opening('oh:ny', '[2031-03-10, 2031-03-11)');
SELECT key FROM slotguard.upsert_resource('oh:adl');
SELECT timezone FROM slotguard.set_policy('oh:adl', 'Australia/Adelaide');
SELECT count(*) FROM slotguard.set_hours('oh:adl', 'Mo 09:00-17:00');
SELECT * FROM slotguard.opening('oh:adl', '[2031-03-30, 2031-04-01)');
SELECT * FROM slotguard.opening('oh:adl', '[2031-04-06, 2031-04-08)');
-- Spring forward in Berlin (Sunday 2031-03-30): 02:00-03:00 local does not
-- exist, so 01:00-04:00 local is two real hours; fall back (2031-10-26):
-- 02:00-03:00 happens twice and counts both times.
SELECT count(*) FROM slotguard.set_hours('oh:berlin', 'Su 01:00-04:00');
SELECT o AS spring, upper(o) - lower(o) AS length FROM slotguard.opening('oh:berlin', '[2031-03-29, 2031-03-31)') o;
SELECT count(*) FROM slotguard.set_hours('oh:berlin', 'Su 02:00-03:00');
SELECT o AS autumn, upper(o) - lower(o) AS length FROM slotguard.opening('oh:berlin', '[2031-10-25, 2031-10-27)') o;
SELECT count(*) AS gap_spans FROM slotguard.opening('oh:berlin', '[2031-03-29, 2031-03-31)');
-- An overnight span runs into the next day.
SELECT count(*) FROM slotguard.set_hours('oh:berlin', 'Fr 22:00-02:00');
SELECT * FROM slotguard.opening('oh:berlin', '[2031-01-17, 2031-01-19)');
-- A step of '1 day' keeps the local hour across the change (24/7 hours).
SELECT count(*) FROM slotguard.set_hours('oh:berlin', '24/7');
SELECT * FROM slotguard.free_slots('oh:berlin', '[2031-03-28 08:00+00, 2031-04-01)', '1 hour', '1 day');
-- NULL or '' removes the hours: always open again.
SELECT count(*) FROM slotguard.set_hours('oh:berlin', NULL);
SELECT * FROM slotguard.opening('oh:berlin', '[2031-01-13, 2031-01-14)');

-- ---------------------------------------------------------------------------
-- Booking against the hours, closures and openings
-- ---------------------------------------------------------------------------
SELECT count(*) FROM slotguard.set_hours('oh:berlin', 'Mo-Fr 09:00-12:00,13:00-17:00');
-- Inside: booked. Monday 2031-01-13 09:00-10:00 local = 08:00-09:00 UTC.
SELECT id, during FROM slotguard.book_slot('oh:berlin', '[2031-01-13 08:00+00, 2031-01-13 09:00+00)');
-- Before opening, across the lunch break, on Saturday: refused with the rule.
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('oh:berlin', '[2031-01-13 07:00+00, 2031-01-13 08:00+00)')$$);
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('oh:berlin', '[2031-01-13 10:30+00, 2031-01-13 11:30+00)')$$);
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('oh:berlin', '[2031-01-18 10:00+00, 2031-01-18 11:00+00)')$$);
-- try_book_slot: no id, no conflicting ids, alternatives inside the hours.
SELECT * FROM slotguard.try_book_slot('oh:berlin', '[2031-01-13 07:00+00, 2031-01-13 08:00+00)');
-- A closure (a holiday) and an extra opening (a Saturday).
SELECT slotguard.add_closure('oh:berlin', '[2031-01-14, 2031-01-15)', 'holiday') > 0 AS closure_added;
SELECT slotguard.add_opening('oh:berlin', '[2031-01-18 09:00+00, 2031-01-18 12:00+00)', 'open Saturday') > 0 AS opening_added;
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('oh:berlin', '[2031-01-14 09:00+00, 2031-01-14 10:00+00)')$$);
SELECT id, during FROM slotguard.book_slot('oh:berlin', '[2031-01-18 10:00+00, 2031-01-18 11:00+00)');
SELECT * FROM slotguard.opening('oh:berlin', '[2031-01-14, 2031-01-19)');
-- free_slots: the grid starts at each opening span (09:00 and 13:00 local).
SELECT * FROM slotguard.free_slots('oh:berlin', '[2031-01-15, 2031-01-16)', '90 minutes');
-- availability: closed time is 0 free seats.
SELECT * FROM slotguard.availability('oh:berlin', '[2031-01-14 06:00+00, 2031-01-15 10:00+00)');
-- reschedule into the closure: refused, booking unchanged; into the hours: moved.
SELECT id AS to_move FROM slotguard.book_slot('oh:berlin', '[2031-01-15 08:00+00, 2031-01-15 09:00+00)') \gset
SELECT pg_temp.error_of(format($$SELECT slotguard.reschedule_booking(%s, '[2031-01-14 08:00+00, 2031-01-14 09:00+00)')$$, :to_move));
SELECT during FROM slotguard.reschedule_booking(:to_move, '[2031-01-15 13:00+00, 2031-01-15 14:00+00)');

-- ---------------------------------------------------------------------------
-- Rule changes do not strand bookings (unless force)
-- ---------------------------------------------------------------------------
-- Shorter hours would leave the 09:00 local booking outside: 23P01.
SELECT pg_temp.error_of($$SELECT slotguard.set_hours('oh:berlin', 'Mo-Fr 10:00-17:00')$$);
SELECT hours FROM slotguard.resource WHERE key = 'oh:berlin';
-- A closure over a booking: 23P01; with force it is applied and the
-- booking stays as it is.
SELECT pg_temp.error_of($$SELECT slotguard.add_closure('oh:berlin', '[2031-01-13, 2031-01-14)', 'sick')$$);
SELECT slotguard.add_closure('oh:berlin', '[2031-01-13, 2031-01-14)', 'sick', force => true) AS sick_id \gset
SELECT status FROM slotguard.booking WHERE id = 1500000;
-- Removing the Saturday opening would strand the Saturday booking.
SELECT id AS saturday_id FROM slotguard.resource_exception WHERE resource_key = 'oh:berlin' AND kind = 'opening' \gset
SELECT pg_temp.error_of(format($$SELECT slotguard.remove_exception(%s)$$, :saturday_id));
SELECT slotguard.remove_exception(:sick_id) AS removed, slotguard.remove_exception(:sick_id) AS again;
SELECT pg_temp.error_of($$SELECT slotguard.remove_exception(NULL)$$);

-- ---------------------------------------------------------------------------
-- A backend keeps a resource's exceptions by rules_version: a direct write
-- of resource_exception (the owner's INSERT, a restore) bumps it too, so the
-- next booking sees the new closure.
-- ---------------------------------------------------------------------------
SELECT count(*) FROM slotguard.set_hours('oh:cache', 'Mo-Fr 09:00-17:00');
SELECT count(*) AS booked FROM generate_series(0, 3) d,
    LATERAL slotguard.book_slot('oh:cache', tstzrange('2031-02-03 10:00+00'::timestamptz + d * interval '1 day',
                                                      '2031-02-03 11:00+00'::timestamptz + d * interval '1 day'));
SELECT rules_version AS version_before FROM slotguard.resource WHERE key = 'oh:cache' \gset
INSERT INTO slotguard.resource_exception (resource_key, kind, during, reason)
VALUES ('oh:cache', 'closure', '[2031-02-07, 2031-02-08)', 'inserted directly');
SELECT rules_version > :version_before AS bumped FROM slotguard.resource WHERE key = 'oh:cache';
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('oh:cache', '[2031-02-07 10:00+00, 2031-02-07 11:00+00)')$$);
DELETE FROM slotguard.resource_exception WHERE resource_key = 'oh:cache';
SELECT id IS NOT NULL AS booked_after_delete FROM slotguard.book_slot('oh:cache', '[2031-02-07 10:00+00, 2031-02-07 11:00+00)');

-- ---------------------------------------------------------------------------
-- Read-only transactions, confinement
-- ---------------------------------------------------------------------------
BEGIN READ ONLY;
SELECT pg_temp.error_of($$SELECT slotguard.set_hours('oh:berlin', 'Mo 09:00-10:00')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('oh:berlin')$$);
SELECT pg_temp.error_of($$SELECT slotguard.add_closure('oh:berlin', '[2031-01-13, 2031-01-14)')$$);
SELECT pg_temp.error_of($$SELECT slotguard.add_opening('oh:berlin', '[2031-01-13, 2031-01-14)')$$);
SELECT pg_temp.error_of($$SELECT slotguard.remove_exception(1)$$);
SELECT pg_temp.error_of($$SELECT slotguard.sync_busy('oh:berlin', 'x', '[2031-01-13, 2031-01-14)', '{}')$$);
SELECT count(*) AS opening_reads FROM slotguard.opening('oh:berlin', '[2031-01-13, 2031-01-14)');
ROLLBACK;

DROP ROLE IF EXISTS regress_oh_a;
CREATE ROLE regress_oh_a NOLOGIN;
SELECT slotguard.grant_access('regress_oh_a', admin => true);
SELECT role FROM slotguard.confine('regress_oh_a', ARRAY['oh2']);
SET ROLE regress_oh_a;
-- Another tenant's resource: its rules may not be changed (42501), its
-- exceptions are not there, its opening is unknown.
SELECT pg_temp.error_of($$SELECT slotguard.set_hours('oh:berlin', 'Mo 09:00-10:00')$$);
SELECT pg_temp.error_of($$SELECT slotguard.set_policy('oh:berlin', 'UTC')$$);
SELECT pg_temp.error_of($$SELECT slotguard.add_closure('oh:berlin', '[2031-01-13, 2031-01-14)')$$);
SELECT pg_temp.error_of($$SELECT slotguard.sync_busy('oh:berlin', 'x', '[2031-01-13, 2031-01-14)', '{}')$$);
SELECT slotguard.remove_exception(:saturday_id) AS foreign_removed;
-- Its own tenant works.
SELECT count(*) FROM slotguard.set_hours('oh2:room', 'Mo-Fr 09:00-17:00');
SELECT * FROM slotguard.opening('oh2:room', '[2031-01-13, 2031-01-14)');
RESET ROLE;
SELECT count(*) AS saturday_kept FROM slotguard.resource_exception WHERE id = :saturday_id;

-- ---------------------------------------------------------------------------
-- Clean up.
-- ---------------------------------------------------------------------------
SELECT slotguard.unconfine('regress_oh_a');
SELECT slotguard.revoke_access('regress_oh_a');
DROP ROLE regress_oh_a;
DELETE FROM slotguard.booking WHERE resource_key LIKE 'oh%:%';
DELETE FROM slotguard.resource_exception WHERE resource_key LIKE 'oh%:%';
DELETE FROM slotguard.resource WHERE key LIKE 'oh%:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM oh_saved_seq;
