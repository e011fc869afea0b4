-- Per-day limits (max_per_day, max_per_holder_per_day: API.md §10) on the
-- §11 bookings: book_series, try_book_series, book_together and book_any
-- admit each row's local day like book_slot does (all or nothing, 23P01
-- naming the limit); free_slots offers nothing on a day that is full; a
-- repeat rule skips (and does not count) an occurrence whose local time
-- falls in a DST gap. The concurrent race is
-- specs/series_vs_book_per_day_limit.spec. Keys: sdl-*.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TEMP TABLE sdl_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 8600000, false) AS id_base;

CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
    h text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ' / ' || coalesce(nullif(d, ''), SQLERRM) || coalesce(' / HINT: ' || nullif(h, ''), '');
END
$$;

-- ---------------------------------------------------------------------------
-- max_per_day = 1 in Berlin; Wednesday 2032-03-03 already has its booking.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('sdl-room', capacity => 5);
SELECT key, timezone, max_per_day FROM slotguard.set_policy('sdl-room', 'Europe/Berlin', max_per_day => 1);
SELECT id FROM slotguard.book_slot('sdl-room', '[2032-03-03 08:00+01,2032-03-03 09:00+01)', holder => 'zed');
-- Three daily occurrences from Tuesday at 14:00 local: Wednesday's is over
-- the limit, so none is booked (the seats would fit: capacity 5).
SELECT pg_temp.error_of($$SELECT slotguard.book_series('sdl-room', '[2032-03-02 14:00+01,2032-03-02 15:00+01)', 'FREQ=DAILY;COUNT=3')$$);
SELECT occurrence, booking_id IS NULL AS not_booked, conflicts, reason
FROM slotguard.try_book_series('sdl-room', '[2032-03-02 14:00+01,2032-03-02 15:00+01)', 'FREQ=DAILY;COUNT=3')
ORDER BY occurrence;
SELECT count(*) AS booked FROM slotguard.booking WHERE resource_key = 'sdl-room';
-- Every other day: Tuesday, Thursday, Saturday fit.
SELECT during FROM slotguard.book_series('sdl-room', '[2032-03-02 14:00+01,2032-03-02 15:00+01)', 'FREQ=DAILY;INTERVAL=2;COUNT=3')
ORDER BY during;
-- free_slots offers nothing on a full local day (Tuesday to Thursday are
-- full now; Friday is free), and the per-day limit needs no overlap:
-- 20:00 on Wednesday is free of bookings yet not offered.
SELECT date_trunc('day', lower(s) AT TIME ZONE 'Europe/Berlin')::date AS local_day, count(*)
FROM slotguard.free_slots('sdl-room', '[2032-03-02 00:00+01,2032-03-06 00:00+01)', '1 hour') s
GROUP BY 1 ORDER BY 1;
-- A cancelled booking frees its day: the series from Wednesday now fits.
SELECT status FROM slotguard.cancel_booking(8600000);
SELECT count(*) AS free_on_wednesday
FROM slotguard.free_slots('sdl-room', '[2032-03-03 00:00+01,2032-03-04 00:00+01)', '1 hour');
SELECT during FROM slotguard.book_series('sdl-room', '[2032-03-03 10:00+01,2032-03-03 11:00+01)', 'FREQ=WEEKLY;COUNT=2')
ORDER BY during;

-- ---------------------------------------------------------------------------
-- max_per_holder_per_day: ann's series is refused on the day she already
-- has a booking, bob's is not.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('sdl-coach', capacity => 3);
SELECT key, max_per_holder_per_day FROM slotguard.set_policy('sdl-coach', 'America/New_York', max_per_holder_per_day => 1);
-- 02:00 UTC on the 9th is still the 8th in New York.
SELECT id FROM slotguard.book_slot('sdl-coach', '[2032-03-09 02:00+00,2032-03-09 03:00+00)', holder => 'ann');
SELECT pg_temp.error_of($$SELECT slotguard.book_series('sdl-coach', '[2032-03-07 09:00-05,2032-03-07 10:00-05)', 'FREQ=DAILY;COUNT=3', holder => 'ann')$$);
SELECT occurrence, reason IS NOT NULL AS refused, split_part(reason, ':', 1) AS rule
FROM slotguard.try_book_series('sdl-coach', '[2032-03-07 09:00-05,2032-03-07 10:00-05)', 'FREQ=DAILY;COUNT=3', holder => 'ann')
ORDER BY occurrence;
SELECT count(*) AS bob_booked
FROM slotguard.book_series('sdl-coach', '[2032-03-07 09:00-05,2032-03-07 10:00-05)', 'FREQ=DAILY;COUNT=3', holder => 'bob');

-- ---------------------------------------------------------------------------
-- Groups: book_together refuses a member whose day is full; book_any takes
-- another one instead, and names the limit when none is left.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('sdl-therapist');
SELECT key FROM slotguard.set_policy('sdl-therapist', 'Europe/Berlin', max_per_day => 1);
SELECT key FROM slotguard.upsert_resource('sdl-other');
SELECT key FROM slotguard.set_policy('sdl-other', 'Europe/Berlin', max_per_day => 1);
SELECT id FROM slotguard.book_slot('sdl-therapist', '[2032-03-11 08:00+01,2032-03-11 09:00+01)');
SELECT pg_temp.error_of($$SELECT slotguard.book_together(ARRAY['sdl-room', 'sdl-therapist'], '[2032-03-11 15:00+01,2032-03-11 16:00+01)')$$);
SELECT count(*) AS booked FROM slotguard.booking WHERE resource_key IN ('sdl-room', 'sdl-therapist')
  AND lower(during) >= '2032-03-11 12:00+01' AND lower(during) < '2032-03-12';
SELECT resource_key FROM slotguard.book_any(ARRAY['sdl-therapist', 'sdl-other'], '[2032-03-11 15:00+01,2032-03-11 16:00+01)');
SELECT pg_temp.error_of($$SELECT slotguard.book_any(ARRAY['sdl-therapist', 'sdl-other'], '[2032-03-11 17:00+01,2032-03-11 18:00+01)')$$);

-- ---------------------------------------------------------------------------
-- DST (API.md §10 "Local time"): 02:30 does not exist in Berlin on Sunday
-- 2032-03-28. A daily 02:30 series skips that day and does not count it:
-- COUNT=3 still books three occurrences.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('sdl-night');
SELECT key FROM slotguard.set_policy('sdl-night', 'Europe/Berlin');
SELECT key FROM slotguard.set_policy('sdl-night2', 'Europe/Berlin');
SELECT during, (lower(during) AT TIME ZONE 'Europe/Berlin')::text AS local_start
FROM slotguard.book_series('sdl-night', '[2032-03-27 02:30+01,2032-03-27 03:00+01)', 'FREQ=DAILY;COUNT=3')
ORDER BY during;
-- UNTIL: the skipped day is simply missing.
SELECT occurrence FROM slotguard.try_book_series('sdl-night2', '[2032-03-26 02:30+01,2032-03-26 03:00+01)', 'FREQ=DAILY;UNTIL=20320329T023000')
ORDER BY occurrence;
-- The repeated hour in October (02:30 occurs twice): kept once, the first.
SELECT occurrence FROM slotguard.try_book_series('sdl-night2', '[2032-10-30 02:30+02,2032-10-30 03:00+02)', 'FREQ=DAILY;COUNT=2')
ORDER BY occurrence;
-- A resource without a zone (UTC) has no gap.
SELECT count(*) FROM slotguard.try_book_series('sdl-plain', '[2032-03-27 02:30+00,2032-03-27 03:00+00)', 'FREQ=DAILY;COUNT=3')
WHERE booking_id IS NOT NULL AND date_part('day', lower(occurrence)) = 28;

-- ---------------------------------------------------------------------------
-- Confinement: a holder-confined caller is refused by the day limit, but
-- the DETAIL and the conflicts never show another holder's booking id.
-- ---------------------------------------------------------------------------
DROP ROLE IF EXISTS regress_sdl_a;
CREATE ROLE regress_sdl_a NOLOGIN;
SELECT slotguard.grant_access('regress_sdl_a');
SELECT role FROM slotguard.confine('regress_sdl_a', tenant_claim => 'tenant', holder_claim => 'sub');
SELECT key FROM slotguard.upsert_resource('sdl-t:desk', capacity => 3);
SELECT key FROM slotguard.set_policy('sdl-t:desk', 'Europe/Berlin', max_per_day => 1);
SELECT id > 0 AS other_booked FROM slotguard.book_slot('sdl-t:desk', '[2032-04-06 08:00+02,2032-04-06 09:00+02)', holder => 'p2');
BEGIN;
SET LOCAL ROLE regress_sdl_a;
SELECT set_config('request.jwt.claims', '{"tenant":"sdl-t","sub":"p1"}', true) IS NOT NULL AS claims;
SELECT pg_temp.error_of($$SELECT slotguard.book_series('sdl-t:desk', '[2032-04-05 10:00+02,2032-04-05 11:00+02)', 'FREQ=DAILY;COUNT=2')$$);
SELECT occurrence, conflicts, reason
FROM slotguard.try_book_series('sdl-t:desk', '[2032-04-05 10:00+02,2032-04-05 11:00+02)', 'FREQ=DAILY;COUNT=2')
ORDER BY occurrence;
SELECT pg_temp.error_of($$SELECT slotguard.book_any('{sdl-t:desk}', '[2032-04-06 10:00+02,2032-04-06 11:00+02)')$$);
COMMIT;
SELECT slotguard.unconfine('regress_sdl_a');
SELECT slotguard.revoke_access('regress_sdl_a');
DROP ROLE regress_sdl_a;

-- ---------------------------------------------------------------------------
-- Clean up.
-- ---------------------------------------------------------------------------
DELETE FROM slotguard.booking WHERE resource_key LIKE 'sdl-%';
DELETE FROM slotguard.resource_exception WHERE resource_key LIKE 'sdl-%';
DELETE FROM slotguard.resource WHERE key LIKE 'sdl-%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM sdl_saved_seq;
