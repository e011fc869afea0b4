-- External busy time (API.md §10, seed 001: a psychologist's Google
-- Calendar synced every 15 minutes): sync_busy replaces one source's busy
-- blocks inside a window atomically, never refuses, and returns the active
-- bookings that now overlap busy time. Busy time blocks bookings on their
-- buffered range, shows as 0 free seats, and is left out of free_slots and
-- suggestions. Keys: cal:*.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

CREATE TEMP TABLE cal_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 1520000, false) AS id_base;

CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
    h text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || coalesce(nullif(d, ''), SQLERRM) || coalesce(' / ' || nullif(h, ''), '');
END
$$;

-- Dr. Smith: 50-minute sessions with a 10-minute buffer after each,
-- Mo-Fr 09:00-17:00 in Berlin.
SELECT key FROM slotguard.upsert_resource('cal:dr-smith', buffer_after => '10 minutes');
SELECT timezone FROM slotguard.set_policy('cal:dr-smith', 'Europe/Berlin');
SELECT count(*) FROM slotguard.set_hours('cal:dr-smith', 'Mo-Fr 09:00-17:00');
-- A session on Monday 2031-01-13 10:00-10:50 local (09:00 UTC).
SELECT id FROM slotguard.book_slot('cal:dr-smith', '[2031-01-13 09:00+00, 2031-01-13 09:50+00)', holder => 'client-1');

-- The first sync of the next three weeks: a dentist appointment, and a
-- block that collides with the session (returned, not refused).
SELECT * FROM slotguard.sync_busy('cal:dr-smith', 'google:dr-smith', '[2031-01-12, 2031-02-02)',
    ARRAY['[2031-01-13 13:00+00, 2031-01-13 14:00+00)', '[2031-01-13 09:30+00, 2031-01-13 09:45+00)']::tstzrange[]);
SELECT during, reason AS source FROM slotguard.resource_exception
WHERE resource_key = 'cal:dr-smith' AND kind = 'busy' ORDER BY during;
-- Booking into busy time: 23P01 naming the source. The buffer counts:
-- 12:00-12:50 UTC blocks until 13:00, so it fits; 12:10-13:00 blocks into it.
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('cal:dr-smith', '[2031-01-13 13:15+00, 2031-01-13 13:45+00)')$$);
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('cal:dr-smith', '[2031-01-13 12:10+00, 2031-01-13 13:00+00)')$$);
SELECT id FROM slotguard.book_slot('cal:dr-smith', '[2031-01-13 12:00+00, 2031-01-13 12:50+00)');
-- free_slots and availability leave busy time out.
SELECT * FROM slotguard.free_slots('cal:dr-smith', '[2031-01-13 11:00+00, 2031-01-13 16:00+00)', '50 minutes', '1 hour');
SELECT * FROM slotguard.availability('cal:dr-smith', '[2031-01-13 11:00+00, 2031-01-13 16:00+00)');
SELECT * FROM slotguard.opening('cal:dr-smith', '[2031-01-13, 2031-01-14)');

-- The next sync replaces that source's blocks inside the window: the
-- dentist moved, the collision is gone. Another source is untouched.
SELECT * FROM slotguard.sync_busy('cal:dr-smith', 'outlook:dr-smith', '[2031-01-12, 2031-02-02)',
    ARRAY['[2031-01-14 08:00+00, 2031-01-14 09:00+00)']::tstzrange[]);
SELECT * FROM slotguard.sync_busy('cal:dr-smith', 'google:dr-smith', '[2031-01-12, 2031-02-02)',
    ARRAY['[2031-01-13 14:00+00, 2031-01-13 15:00+00)']::tstzrange[]);
SELECT during, reason AS source FROM slotguard.resource_exception
WHERE resource_key = 'cal:dr-smith' AND kind = 'busy' ORDER BY during;
-- Blocks outside the window stay; an empty list clears the window.
SELECT * FROM slotguard.sync_busy('cal:dr-smith', 'google:dr-smith', '[2031-02-02, 2031-02-09)',
    ARRAY['[2031-02-03 09:00+00, 2031-02-03 10:00+00)']::tstzrange[]);
SELECT * FROM slotguard.sync_busy('cal:dr-smith', 'google:dr-smith', '[2031-01-12, 2031-02-02)', '{}');
SELECT during, reason AS source FROM slotguard.resource_exception
WHERE resource_key = 'cal:dr-smith' AND kind = 'busy' ORDER BY during;
-- Bad input: 22004 / 22000 / 22023, nothing changed.
SELECT pg_temp.error_of($$SELECT slotguard.sync_busy('cal:dr-smith', NULL, '[2031-01-12, 2031-02-02)', '{}')$$);
SELECT pg_temp.error_of($$SELECT slotguard.sync_busy('cal:dr-smith', ' ', '[2031-01-12, 2031-02-02)', '{}')$$);
SELECT pg_temp.error_of($$SELECT slotguard.sync_busy('cal:dr-smith', 'g', '[2031-01-12, 2031-02-02)', NULL)$$);
SELECT pg_temp.error_of($$SELECT slotguard.sync_busy('cal:dr-smith', 'g', '[2031-01-12, 2031-02-02)', ARRAY[NULL]::tstzrange[])$$);
SELECT pg_temp.error_of($$SELECT slotguard.sync_busy('cal:dr-smith', 'g', '[2031-01-12, 2031-02-02)', ARRAY['[2031-01-13,)']::tstzrange[])$$);
SELECT pg_temp.error_of($$SELECT slotguard.sync_busy('cal:dr-smith', 'g', 'empty', '{}')$$);
SELECT pg_temp.error_of($$SELECT slotguard.sync_busy('cal:dr-smith', 'g', '[2031-01-12, 2031-02-02)',
    array_fill('[2031-01-13 09:00+00, 2031-01-13 10:00+00)'::tstzrange, ARRAY[100000]))$$);
SELECT count(*) AS busy_blocks FROM slotguard.resource_exception WHERE resource_key = 'cal:dr-smith' AND kind = 'busy';

-- A holder-confined caller (an app user) learns only its own collisions.
DROP ROLE IF EXISTS regress_cal_user;
CREATE ROLE regress_cal_user NOLOGIN;
SELECT slotguard.grant_access('regress_cal_user', admin => true);
SELECT role FROM slotguard.confine('regress_cal_user', ARRAY['cal'], holder_claim => 'sub');
SET request.jwt.claims = '{"sub": "client-2"}';
SET ROLE regress_cal_user;
SELECT * FROM slotguard.sync_busy('cal:dr-smith', 'google:dr-smith', '[2031-01-12, 2031-02-02)',
    ARRAY['[2031-01-13 09:00+00, 2031-01-13 13:00+00)']::tstzrange[]);
RESET ROLE;
RESET request.jwt.claims;
SELECT * FROM slotguard.sync_busy('cal:dr-smith', 'google:dr-smith', '[2031-01-12, 2031-02-02)',
    ARRAY['[2031-01-13 09:00+00, 2031-01-13 13:00+00)']::tstzrange[]);

-- ---------------------------------------------------------------------------
-- Clean up.
-- ---------------------------------------------------------------------------
SELECT slotguard.unconfine('regress_cal_user');
SELECT slotguard.revoke_access('regress_cal_user');
DROP ROLE regress_cal_user;
DELETE FROM slotguard.booking WHERE resource_key LIKE 'cal:%';
DELETE FROM slotguard.resource_exception WHERE resource_key LIKE 'cal:%';
DELETE FROM slotguard.resource WHERE key LIKE 'cal:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM cal_saved_seq;
