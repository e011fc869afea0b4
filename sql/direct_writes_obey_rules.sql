-- Direct writes obey the §10 rules and offer freed time (API.md §10, §12;
-- docs/availability.md "Direct writes"). The owner (or a role granted
-- INSERT/UPDATE/DELETE) writing slotguard.booking, slotguard.resource or
-- slotguard.resource_exception directly gets what the API functions give:
-- * a direct INSERT, or an UPDATE that makes a booking take time it did not
--   take before (active again, moved, more seats, another holder), obeys
--   every rule: 23P01 naming it; min_notice/max_advance only for new times;
-- * an UPDATE that changes nothing rule-relevant (a note, a cancel) is
--   never refused by a rule, even one the booking breaks since (force);
-- * a direct write of a resource's rules or exceptions serialises with
--   bookings (resource lock, rules_version bump) and refuses to strand
--   active bookings, like the API without force;
-- * a direct UPDATE/DELETE that frees capacity offers it to the waitlist.
-- The races: specs/direct_insert_vs_book_per_day.spec and
-- specs/direct_policy_update_vs_book.spec. Keys: dwr-*.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

CREATE TEMP TABLE dwr_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 1700000, false) AS id_base;
CREATE TEMP TABLE dwr_saved_wl_seq AS SELECT last_value, is_called FROM slotguard.waitlist_id_seq;
SELECT setval('slotguard.waitlist_id_seq', 17000, false) AS entry_base;

CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || coalesce(nullif(d, ''), SQLERRM);
END
$$;

-- ---------------------------------------------------------------------------
-- A direct INSERT obeys hours, closures, busy time, duration, per-day limits
-- ---------------------------------------------------------------------------
-- Weekdays 09:00-17:00 Berlin (08:00-16:00 UTC in January), 30 minutes to
-- 2 hours, at most 2 bookings a local day and 1 per holder.
SELECT key FROM slotguard.upsert_resource('dwr-room', 5);
SELECT key, timezone, max_per_day FROM slotguard.set_policy('dwr-room', 'Europe/Berlin', min_duration => '30 minutes',
       max_duration => '2 hours', max_per_day => 2, max_per_holder_per_day => 1);
SELECT count(*) AS spans FROM slotguard.set_hours('dwr-room', 'Mo-Fr 09:00-17:00');
SELECT slotguard.add_closure('dwr-room', '[2031-01-14 00:00+01,2031-01-15 00:00+01)', 'holiday') > 0 AS closed;
SELECT count(*) AS colliding FROM slotguard.sync_busy('dwr-room', 'google:dwr', '[2031-01-15 00:00+00,2031-01-16 00:00+00)',
       ARRAY['[2031-01-15 10:00+00,2031-01-15 11:00+00)']::tstzrange[]);

-- Monday 2031-01-13 07:00 Berlin: before opening.
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status)
       VALUES ('dwr-room', '[2031-01-13 06:00+00,2031-01-13 07:00+00)', 1, 'confirmed')$$) AS outside_hours;
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status)
       VALUES ('dwr-room', '[2031-01-14 10:00+00,2031-01-14 11:00+00)', 1, 'confirmed')$$) AS closed;
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status)
       VALUES ('dwr-room', '[2031-01-15 10:30+00,2031-01-15 11:30+00)', 1, 'confirmed')$$) AS busy;
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status)
       VALUES ('dwr-room', '[2031-01-13 09:00+00,2031-01-13 09:10+00)', 1, 'confirmed')$$) AS too_short;
-- A hold counts as a booking too.
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status, hold_expires_at)
       VALUES ('dwr-room', '[2031-01-13 06:00+00,2031-01-13 07:00+00)', 1, 'held', now() + interval '1 hour')$$) AS held_outside;
-- A cancelled row takes no time: nothing to check.
INSERT INTO slotguard.booking (resource_key, during, seats, status)
VALUES ('dwr-room', '[2031-01-13 06:00+00,2031-01-13 07:00+00)', 1, 'cancelled') RETURNING id AS cancelled_row;

-- Inside the rules: booked.
INSERT INTO slotguard.booking (resource_key, during, seats, status, holder)
VALUES ('dwr-room', '[2031-01-13 09:00+00,2031-01-13 10:00+00)', 1, 'confirmed', 'ann') RETURNING id AS ann_monday \gset
-- ann's second booking that day: max_per_holder_per_day.
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status, holder)
       VALUES ('dwr-room', '[2031-01-13 11:00+00,2031-01-13 12:00+00)', 1, 'confirmed', 'ann')$$) AS per_holder;
INSERT INTO slotguard.booking (resource_key, during, seats, status, holder)
VALUES ('dwr-room', '[2031-01-13 12:00+00,2031-01-13 13:00+00)', 1, 'confirmed', 'bob') RETURNING id AS bob_monday \gset
-- The day is full: max_per_day (DETAIL lists the day's bookings).
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status, holder)
       VALUES ('dwr-room', '[2031-01-13 14:00+00,2031-01-13 15:00+00)', 1, 'confirmed', 'cy')$$) AS per_day;

-- A multi-row INSERT is refused as a whole when one row breaks a rule ...
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status) VALUES
       ('dwr-room', '[2031-01-16 09:00+00,2031-01-16 10:00+00)', 1, 'confirmed'),
       ('dwr-room', '[2031-01-16 17:00+00,2031-01-16 18:00+00)', 1, 'confirmed')$$) AS multi_row;
-- ... and its rows count against each other's per-day limit.
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status) VALUES
       ('dwr-room', '[2031-01-16 09:00+00,2031-01-16 10:00+00)', 1, 'confirmed'),
       ('dwr-room', '[2031-01-16 10:00+00,2031-01-16 11:00+00)', 1, 'confirmed'),
       ('dwr-room', '[2031-01-16 11:00+00,2031-01-16 12:00+00)', 1, 'confirmed')$$) AS multi_row_per_day;
SELECT count(*) AS thursday_rows FROM slotguard.booking WHERE resource_key = 'dwr-room' AND during && '[2031-01-16,2031-01-17)';

-- COPY is an INSERT: the same rules.
COPY slotguard.booking (resource_key, during, seats, status) FROM stdin;
dwr-room	["2031-01-17 18:00+00","2031-01-17 19:00+00")	1	confirmed
\.
SELECT count(*) AS friday_rows FROM slotguard.booking WHERE resource_key = 'dwr-room' AND during && '[2031-01-17,2031-01-18)';

-- ---------------------------------------------------------------------------
-- min_notice and max_advance: new times only
-- ---------------------------------------------------------------------------
SELECT key, min_notice, max_advance FROM slotguard.set_policy('dwr-notice', 'UTC', min_notice => '2 hours', max_advance => '30 days');
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status)
       VALUES ('dwr-notice', tstzrange(date_trunc('hour', now()) + interval '1 hour', date_trunc('hour', now()) + interval '2 hours'), 1, 'confirmed')$$) AS too_soon;
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status)
       VALUES ('dwr-notice', tstzrange(date_trunc('hour', now()) + interval '40 days', date_trunc('hour', now()) + interval '40 days 1 hour'), 1, 'confirmed')$$) AS too_far;
INSERT INTO slotguard.booking (resource_key, during, seats, status, holder)
VALUES ('dwr-notice', tstzrange(date_trunc('hour', now()) + interval '1 day', date_trunc('hour', now()) + interval '1 day 1 hour'), 1, 'confirmed', 'dee')
RETURNING id AS dee \gset
-- The notice grows to 3 days: dee's booking is now too soon (notice never
-- strands, so set_policy takes it without force).
SELECT min_notice FROM slotguard.set_policy('dwr-notice', 'UTC', min_notice => '3 days', max_advance => '30 days');
-- Annotating, cancelling and restoring it is still allowed (same times) ...
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET metadata = '{"note": "called back"}' WHERE id = %s$$, :dee)) AS annotate;
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET status = 'cancelled' WHERE id = %s$$, :dee)) AS cancel;
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET status = 'confirmed' WHERE id = %s$$, :dee)) AS restore;
-- ... moving it is not: new times obey the notice.
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET during = tstzrange(lower(during) + interval '1 day', upper(during) + interval '1 day') WHERE id = %s$$, :dee)) AS move_too_soon;
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET during = tstzrange(lower(during) + interval '4 days', upper(during) + interval '4 days') WHERE id = %s$$, :dee)) AS move_ok;

-- A row made earlier (created_at in the past) is judged at the time it was
-- made when the table's owner writes it (what a pg_restore does): 4 hours
-- from now, made 4 days ago, had 4 days' notice.
INSERT INTO slotguard.booking (resource_key, during, seats, status, created_at)
VALUES ('dwr-notice', tstzrange(date_trunc('hour', now()) + interval '4 hours', date_trunc('hour', now()) + interval '5 hours'),
        1, 'confirmed', now() - interval '4 days') RETURNING status AS backdated;
-- Made 2 days ago it had only 2 days' notice: refused.
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status, created_at)
       VALUES ('dwr-notice', tstzrange(date_trunc('hour', now()) + interval '6 hours', date_trunc('hour', now()) + interval '7 hours'),
               1, 'confirmed', now() - interval '2 days')$$) ~ '^23P01: min_notice' AS backdated_too_soon;
-- A role merely granted INSERT cannot backdate its way around the notice.
CREATE ROLE regress_dwr_clerk;
GRANT USAGE ON SCHEMA slotguard TO regress_dwr_clerk;
GRANT SELECT, INSERT ON slotguard.booking TO regress_dwr_clerk;
GRANT SELECT ON slotguard.resource TO regress_dwr_clerk;
GRANT USAGE ON SEQUENCE slotguard.booking_id_seq TO regress_dwr_clerk;
GRANT EXECUTE ON FUNCTION slotguard.entry_hash(text), slotguard.booking_guard_needed() TO regress_dwr_clerk;
SET ROLE regress_dwr_clerk;
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status, created_at)
       VALUES ('dwr-notice', tstzrange(date_trunc('hour', now()) + interval '6 hours', date_trunc('hour', now()) + interval '7 hours'),
               1, 'confirmed', now() - interval '4 days')$$) AS clerk_backdated;
RESET ROLE;
DROP OWNED BY regress_dwr_clerk;
DROP ROLE regress_dwr_clerk;

-- ---------------------------------------------------------------------------
-- UPDATEs of a booking a rule added later (force) breaks
-- ---------------------------------------------------------------------------
-- Close Monday afternoon with force: bob's 13:00 booking is stranded.
SELECT slotguard.add_closure('dwr-room', '[2031-01-13 12:00+00,2031-01-13 16:00+00)', 'inspection', force => true) > 0 AS forced;
-- A note: never refused (a cancel neither, below).
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET metadata = '{"note": "inspection"}' WHERE id = %s$$, :bob_monday)) AS annotate;
-- More seats, another holder: the booking takes time it did not take before.
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET seats = 2 WHERE id = %s$$, :bob_monday)) AS more_seats;
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET holder = 'eve' WHERE id = %s$$, :bob_monday)) AS other_holder;
-- Moving ann's booking out of the hours or into the closure: refused.
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET during = '[2031-01-13 16:00+00,2031-01-13 17:00+00)' WHERE id = %s$$, :ann_monday)) AS move_out;
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET during = '[2031-01-13 12:30+00,2031-01-13 13:30+00)' WHERE id = %s$$, :ann_monday)) AS move_closed;
-- A move to another resource obeys that resource's rules.
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET resource_key = 'dwr-notice' WHERE id = %s$$, :ann_monday)) AS move_resource;
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET status = 'cancelled' WHERE id = %s$$, :bob_monday)) AS cancel;
-- Un-cancelling it into the closure: refused (it would take closed time again).
SELECT pg_temp.error_of(format($$UPDATE slotguard.booking SET status = 'confirmed' WHERE id = %s$$, :bob_monday)) AS uncancel_closed;
SELECT id = :ann_monday AS ann, status, during FROM slotguard.booking WHERE id IN (:ann_monday, :bob_monday) ORDER BY id;

-- ---------------------------------------------------------------------------
-- A direct UPDATE of a resource's rules is a rule change
-- ---------------------------------------------------------------------------
-- ann's Monday 10:00 Berlin booking: hours from 11:00 would strand it.
SELECT pg_temp.error_of($$UPDATE slotguard.resource SET hours = 'Mo-Fr 11:00-17:00' WHERE key = 'dwr-room'$$) AS strand_hours;
SELECT pg_temp.error_of($$UPDATE slotguard.resource SET timezone = 'America/New_York' WHERE key = 'dwr-room'$$) AS strand_zone;
SELECT pg_temp.error_of($$UPDATE slotguard.resource SET max_duration = '30 minutes' WHERE key = 'dwr-room'$$) AS strand_duration;
-- Bad values: 22023, as from set_policy / set_hours.
SELECT pg_temp.error_of($$UPDATE slotguard.resource SET hours = 'Mo-Fr 9-5' WHERE key = 'dwr-room'$$) ~ '^22023' AS bad_hours;
SELECT pg_temp.error_of($$UPDATE slotguard.resource SET timezone = 'Mars/Olympus_Mons' WHERE key = 'dwr-room'$$) AS bad_zone;
SELECT pg_temp.error_of($$UPDATE slotguard.resource SET min_duration = '3 hours' WHERE key = 'dwr-room'$$) AS min_over_max;
-- A change that strands nothing applies, and bumps rules_version whatever
-- the statement wrote there (so a booking check in flight starts again).
SELECT rules_version AS version_before FROM slotguard.resource WHERE key = 'dwr-room' \gset
UPDATE slotguard.resource SET hours = 'Mo-Fr 08:00-18:00', rules_version = 0 WHERE key = 'dwr-room';
SELECT hours, rules_version = :version_before + 1 AS bumped FROM slotguard.resource WHERE key = 'dwr-room';
-- The new hours hold at once: 17:00 Berlin on Thursday is bookable now.
SELECT id > 0 AS booked FROM slotguard.book_slot('dwr-room', '[2031-01-16 16:00+00,2031-01-16 17:00+00)');
-- Other columns are not a rule change: no bump.
UPDATE slotguard.resource SET metadata = '{"floor": 2}' WHERE key = 'dwr-room';
SELECT rules_version = :version_before + 1 AS unchanged FROM slotguard.resource WHERE key = 'dwr-room';
-- A new resource inserted with rules gets rules_version 1 (0 would mean none).
INSERT INTO slotguard.resource (key, hours) VALUES ('dwr-new', 'Mo 09:00-10:00') RETURNING key, rules_version;
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('dwr-new', '[2031-01-14 09:00+00,2031-01-14 10:00+00)')$$) AS new_resource_rules;
SELECT pg_temp.error_of($$INSERT INTO slotguard.resource (key, timezone) VALUES ('dwr-bad', 'Nowhere/Land')$$) AS insert_bad_zone;

-- ---------------------------------------------------------------------------
-- Direct writes of resource_exception are rule changes
-- ---------------------------------------------------------------------------
SELECT rules_version AS version_before FROM slotguard.resource WHERE key = 'dwr-room' \gset
-- A closure over ann's booking: refused, as add_closure without force.
SELECT pg_temp.error_of($$INSERT INTO slotguard.resource_exception (resource_key, kind, during, reason)
       VALUES ('dwr-room', 'closure', '[2031-01-13 08:00+00,2031-01-13 09:30+00)', 'flood')$$) AS strand_closure;
-- Growing a closure over it: refused too.
SELECT pg_temp.error_of($$UPDATE slotguard.resource_exception SET during = '[2031-01-13 08:00+00,2031-01-13 16:00+00)'
       WHERE resource_key = 'dwr-room' AND reason = 'inspection'$$) AS strand_grown;
-- Busy time never strands (sync_busy never refuses): applied.
SELECT pg_temp.error_of($$INSERT INTO slotguard.resource_exception (resource_key, kind, during, reason)
       VALUES ('dwr-room', 'busy', '[2031-01-13 09:00+00,2031-01-13 09:30+00)', 'ical:dwr')$$) AS busy_applies;
-- A closure elsewhere applies, bumps rules_version and is seen at once.
INSERT INTO slotguard.resource_exception (resource_key, kind, during, reason)
VALUES ('dwr-room', 'closure', '[2031-01-20 00:00+00,2031-01-21 00:00+00)', 'training');
SELECT rules_version > :version_before AS bumped FROM slotguard.resource WHERE key = 'dwr-room';
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('dwr-room', '[2031-01-20 10:00+00,2031-01-20 11:00+00)')$$) AS closed_now;
-- An extra Saturday opening with a booking in it: deleting the opening, or
-- moving it away, would strand the booking.
SELECT slotguard.add_opening('dwr-room', '[2031-01-18 09:00+00,2031-01-18 12:00+00)', 'open day') > 0 AS opened;
SELECT id > 0 AS booked_saturday FROM slotguard.book_slot('dwr-room', '[2031-01-18 10:00+00,2031-01-18 11:00+00)');
SELECT pg_temp.error_of($$DELETE FROM slotguard.resource_exception WHERE resource_key = 'dwr-room' AND kind = 'opening'$$) AS strand_delete;
SELECT pg_temp.error_of($$UPDATE slotguard.resource_exception SET during = '[2031-01-25 09:00+00,2031-01-25 12:00+00)'
       WHERE resource_key = 'dwr-room' AND kind = 'opening'$$) AS strand_move;
SELECT pg_temp.error_of($$TRUNCATE slotguard.resource_exception$$) AS strand_truncate;
SELECT count(*) AS openings FROM slotguard.resource_exception WHERE resource_key = 'dwr-room' AND kind = 'opening';

-- ---------------------------------------------------------------------------
-- Under session_replication_role = replica (logical replication's apply)
-- ---------------------------------------------------------------------------
-- Bookings are checked as in the origin role, but for min_notice and
-- max_advance (the origin's clock decided them) ...
SET session_replication_role = replica;
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status)
       VALUES ('dwr-room', '[2031-01-13 05:00+00,2031-01-13 06:00+00)', 1, 'confirmed')$$) AS replica_outside_hours;
SELECT pg_temp.error_of($$INSERT INTO slotguard.booking (resource_key, during, seats, status)
       VALUES ('dwr-notice', tstzrange(date_trunc('hour', now()) + interval '2 hours', date_trunc('hour', now()) + interval '3 hours'), 1, 'confirmed')$$) AS replica_notice;
-- ... and a rule change is applied as with force (the origin may have
-- forced it), the stranded bookings listed in a NOTICE.
SET client_min_messages = notice;
UPDATE slotguard.resource SET hours = 'Mo-Fr 11:00-17:00' WHERE key = 'dwr-room';
SET client_min_messages = warning;
RESET session_replication_role;
UPDATE slotguard.resource SET hours = 'Mo-Fr 08:00-18:00' WHERE key = 'dwr-room';

-- ---------------------------------------------------------------------------
-- A direct UPDATE/DELETE that frees capacity offers it to the waitlist
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('dwr-wl', 2);
CREATE TEMP VIEW dwr_entries AS
SELECT w.id - 17000 AS entry, w.holder, w.status, b.status AS offer, b.during
FROM slotguard.waitlist w LEFT JOIN slotguard.booking b ON b.id = w.booking_id
WHERE w.resource_key = 'dwr-wl' ORDER BY w.id;
SELECT id AS full_booking FROM slotguard.book_slot('dwr-wl', '[2031-03-03 10:00+00,2031-03-03 11:00+00)', seats => 2) \gset
SELECT id AS other_booking FROM slotguard.book_slot('dwr-wl', '[2031-03-04 10:00+00,2031-03-04 11:00+00)', seats => 2) \gset
SELECT id AS third_booking FROM slotguard.book_slot('dwr-wl', '[2031-03-05 10:00+00,2031-03-05 11:00+00)', seats => 2) \gset
SELECT id AS fourth_booking FROM slotguard.book_slot('dwr-wl', '[2031-03-06 10:00+00,2031-03-06 11:00+00)', seats => 2) \gset
SELECT status FROM slotguard.join_waitlist('dwr-wl', '[2031-03-03 10:00+00,2031-03-03 11:00+00)', holder => 'wanda');
SELECT status FROM slotguard.join_waitlist('dwr-wl', '[2031-03-04 10:00+00,2031-03-04 11:00+00)', holder => 'walt');
SELECT status FROM slotguard.join_waitlist('dwr-wl', '[2031-03-05 10:00+00,2031-03-05 11:00+00)', holder => 'will');
SELECT status FROM slotguard.join_waitlist('dwr-wl', '[2031-03-06 10:00+00,2031-03-06 11:00+00)', holder => 'wes');
SELECT status FROM slotguard.join_waitlist('dwr-wl', '[2031-03-06 10:00+00,2031-03-06 11:00+00)', holder => 'wyn');
-- Fewer seats: one seat freed, offered to wanda.
UPDATE slotguard.booking SET seats = 1 WHERE id = :full_booking;
-- A move away: walt gets the old time.
UPDATE slotguard.booking SET during = '[2031-03-10 10:00+00,2031-03-10 11:00+00)' WHERE id = :other_booking;
-- A DELETE: will gets it.
DELETE FROM slotguard.booking WHERE id = :third_booking;
SELECT * FROM dwr_entries;
-- Under replica a cancel offers nothing (the origin's offer replicates).
SET session_replication_role = replica;
UPDATE slotguard.booking SET status = 'cancelled' WHERE id = :fourth_booking;
RESET session_replication_role;
SELECT holder, status FROM dwr_entries WHERE holder IN ('wes', 'wyn');
-- An origin cancel of the same kind offers it: both seats, both entries,
-- once each (un-cancel first: it fits again, the entries still wait).
UPDATE slotguard.booking SET status = 'confirmed' WHERE id = :fourth_booking;
UPDATE slotguard.booking SET status = 'cancelled' WHERE id = :fourth_booking;
SELECT holder, status, offer FROM dwr_entries WHERE holder IN ('wes', 'wyn');
SELECT count(*) AS offers_made FROM slotguard.booking
WHERE resource_key = 'dwr-wl' AND status = 'held' AND during = '[2031-03-06 10:00+00,2031-03-06 11:00+00)';

-- ---------------------------------------------------------------------------
-- Clean up.
-- ---------------------------------------------------------------------------
DROP VIEW dwr_entries;
DELETE FROM slotguard.waitlist WHERE resource_key LIKE 'dwr-%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'dwr-%';
DELETE FROM slotguard.resource_exception WHERE resource_key LIKE 'dwr-%';
DELETE FROM slotguard.resource WHERE key LIKE 'dwr-%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM dwr_saved_seq;
SELECT setval('slotguard.waitlist_id_seq', last_value, is_called) IS NOT NULL AS restored FROM dwr_saved_wl_seq;
