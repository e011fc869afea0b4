-- Series (API.md §11): book_series, try_book_series, cancel_series. Every
-- occurrence of a repeat rule is booked, or none; occurrences keep the
-- first one's local wall-clock time in the resource's zone across DST.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TEMP TABLE ser_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 8100000, false) AS id_base;

-- "SQLSTATE: message" (and DETAIL / HINT when asked), or 'ok'.
CREATE FUNCTION pg_temp.err(q text, with_detail boolean DEFAULT false) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
    h text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM ||
        CASE WHEN with_detail THEN E'\nDETAIL: ' || coalesce(d, '') || E'\nHINT: ' || coalesce(h, '') ELSE '' END;
END
$$;

-- ---------------------------------------------------------------------------
-- A therapy client's ten weekly sessions: one call, ten bookings, one series.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('ser:dr-lee', 1);
SELECT id, during, status, series_id, idempotency_key
FROM slotguard.book_series('ser:dr-lee', '[2031-01-06 09:00+00,2031-01-06 09:50+00)', 'FREQ=WEEKLY;COUNT=10',
                           holder => 'client-7', idempotency_key => 'ser-k1');
SELECT count(DISTINCT series_id) AS series, count(*) AS bookings, min(series_id) = 8100000 AS id_from_booking_seq
FROM slotguard.booking WHERE resource_key = 'ser:dr-lee';

-- The same call again (the client never saw the answer): the same series.
SELECT count(*) AS replayed, min(id) AS first_id
FROM slotguard.book_series('ser:dr-lee', '[2031-01-06 09:00+00,2031-01-06 09:50+00)', 'FREQ=WEEKLY;COUNT=10',
                           holder => 'client-7', idempotency_key => 'ser-k1');
-- The key with other arguments: 22023.
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:dr-lee', '[2031-01-06 10:00+00,2031-01-06 10:50+00)', 'FREQ=WEEKLY;COUNT=10', idempotency_key => 'ser-k1')$$);

-- ---------------------------------------------------------------------------
-- All or nothing: a series crossing one taken occurrence books nothing; the
-- error lists each occurrence that does not fit and why, and alternatives
-- for the first one.
-- ---------------------------------------------------------------------------
SELECT id AS ser_single FROM slotguard.book_slot('ser:dr-lee', '[2031-03-24 09:30+00,2031-03-24 10:30+00)') \gset
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:dr-lee', '[2031-03-10 09:30+00,2031-03-10 10:00+00)', 'FREQ=WEEKLY;COUNT=4')$$, true);
SELECT count(*) AS still FROM slotguard.booking WHERE resource_key = 'ser:dr-lee';
-- try_book_series: the same decision, per occurrence.
SELECT occurrence, booking_id, conflicts, reason
FROM slotguard.try_book_series('ser:dr-lee', '[2031-03-10 09:30+00,2031-03-10 10:00+00)', 'FREQ=WEEKLY;COUNT=4');
SELECT count(*) AS still FROM slotguard.booking WHERE resource_key = 'ser:dr-lee';
-- And when it fits, every occurrence has its booking.
SELECT occurrence, booking_id IS NOT NULL AS booked, conflicts, reason
FROM slotguard.try_book_series('ser:dr-lee', '[2031-03-10 11:00+00,2031-03-10 11:30+00)', 'FREQ=DAILY;INTERVAL=2;COUNT=3');
-- Occurrences that overlap each other beyond the capacity do not fit either.
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:dr-lee', '[2031-05-01 09:00+00,2031-05-02 10:00+00)', 'FREQ=DAILY;COUNT=2')$$, true);

-- ---------------------------------------------------------------------------
-- Rules: DAILY/WEEKLY/MONTHLY, INTERVAL, COUNT, UNTIL, BYDAY, month ends.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('ser:room', 2);
SELECT lower(during) AS starts FROM slotguard.book_series('ser:room', '[2031-01-31 08:00+00,2031-01-31 09:00+00)', 'FREQ=MONTHLY;COUNT=4');
SELECT lower(during) AS starts FROM slotguard.book_series('ser:room', '[2031-06-02 08:00+00,2031-06-02 09:00+00)', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;UNTIL=20310630');
SELECT lower(during) AS starts FROM slotguard.book_series('ser:room', '[2031-07-01 22:00+00,2031-07-01 23:00+00)', 'FREQ=DAILY;UNTIL=20310703T220000Z');

-- ---------------------------------------------------------------------------
-- Local time across DST. The zone is the resource's (API.md §10, column
-- slotguard.resource.timezone); this file adds the column when the schema
-- does not have it yet, and removes it again.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE ser_tz AS
SELECT NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'slotguard.resource'::regclass
                   AND attname = 'timezone' AND NOT attisdropped) AS added;
DO $$ BEGIN
    IF (SELECT added FROM ser_tz) THEN ALTER TABLE slotguard.resource ADD COLUMN timezone text; END IF;
END $$;
SELECT key FROM slotguard.upsert_resource('ser:berlin', 1);
UPDATE slotguard.resource SET timezone = 'Europe/Berlin' WHERE key = 'ser:berlin';
-- 09:30 in Berlin is 08:30 UTC in winter, 07:30 UTC in summer (from 2031-03-30).
SELECT lower(during) AS utc, lower(during) AT TIME ZONE 'Europe/Berlin' AS berlin
FROM slotguard.book_series('ser:berlin', '[2031-03-23 08:30+00,2031-03-23 09:20+00)', 'FREQ=WEEKLY;COUNT=3');
-- 02:30 does not exist on 2031-03-30 in Berlin: that occurrence is skipped
-- (API.md §10) and not counted (RFC 5545 §3.3.10): COUNT=3 still gives three.
SELECT lower(during) AS utc, lower(during) AT TIME ZONE 'Europe/Berlin' AS berlin
FROM slotguard.book_series('ser:berlin', '[2031-03-29 01:30+00,2031-03-29 02:00+00)', 'FREQ=DAILY;COUNT=3');
-- 02:30 occurs twice on 2031-10-26: the first one (CEST).
SELECT lower(during) AS utc, lower(during) AT TIME ZONE 'Europe/Berlin' AS berlin
FROM slotguard.book_series('ser:berlin', '[2031-10-25 00:30+00,2031-10-25 01:00+00)', 'FREQ=DAILY;COUNT=2');
-- An unknown zone (a zone a tzdata update removed): 22023. A direct
-- UPDATE validates the zone (sql/direct_writes_obey_rules.sql), so the
-- bad value goes in with that trigger off.
ALTER TABLE slotguard.resource DISABLE TRIGGER resource_rules_before_update;
UPDATE slotguard.resource SET timezone = 'Mars/Olympus' WHERE key = 'ser:berlin';
ALTER TABLE slotguard.resource ENABLE ALWAYS TRIGGER resource_rules_before_update;
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:berlin', '[2032-01-01 08:00+00,2032-01-01 09:00+00)', 'FREQ=DAILY;COUNT=2')$$);
UPDATE slotguard.resource SET timezone = NULL WHERE key = 'ser:berlin';

-- ---------------------------------------------------------------------------
-- cancel_series: this and following, then all; frees capacity and workers.
-- ---------------------------------------------------------------------------
SELECT series_id AS ser_id FROM slotguard.booking WHERE resource_key = 'ser:dr-lee' AND series_id IS NOT NULL
ORDER BY id LIMIT 1 \gset
SELECT id AS ser_seventh FROM slotguard.booking WHERE series_id = :ser_id ORDER BY lower(during) OFFSET 6 LIMIT 1 \gset
SELECT worker FROM slotguard.assign_workers(:ser_seventh, '{ser:nurse}');
SELECT lower(during), status FROM slotguard.cancel_series(:ser_id, '2031-02-17 00:00+00');
SELECT worker, status FROM slotguard.assignment WHERE booking_id = :ser_seventh;
-- The freed slot can be booked again.
SELECT status FROM slotguard.book_slot('ser:dr-lee', '[2031-02-17 09:00+00,2031-02-17 09:50+00)');
-- Again: nothing left to cancel there, the same rows.
SELECT count(*) AS again, bool_and(status = 'cancelled') AS all_cancelled FROM slotguard.cancel_series(:ser_id, '2031-02-17 00:00+00');
SELECT status, count(*) FROM slotguard.cancel_series(:ser_id) GROUP BY status;
SELECT pg_temp.err('SELECT slotguard.cancel_series(1)');
SELECT pg_temp.err('SELECT slotguard.cancel_series(NULL)');

-- A hold: every occurrence held until now() + hold.
SELECT DISTINCT status, hold_expires_at > now() AS expires_later
FROM slotguard.book_series('ser:room', '[2032-02-02 08:00+00,2032-02-02 09:00+00)', 'FREQ=DAILY;COUNT=3', hold => '15 minutes');

-- ---------------------------------------------------------------------------
-- Errors.
-- ---------------------------------------------------------------------------
-- 22004: a required argument is NULL.
SELECT pg_temp.err($$SELECT slotguard.book_series(NULL, '[2032-01-01 08:00+00,2032-01-01 09:00+00)', 'FREQ=DAILY;COUNT=2')$$);
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:room', NULL, 'FREQ=DAILY;COUNT=2')$$);
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:room', '[2032-01-01 08:00+00,2032-01-01 09:00+00)', NULL)$$);
SELECT pg_temp.err($$SELECT slotguard.try_book_series('ser:room', '[2032-01-01 08:00+00,2032-01-01 09:00+00)', 'FREQ=DAILY;COUNT=2', seats => NULL)$$);
-- 22000: a range that is not a finite, non-empty one.
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:room', 'empty', 'FREQ=DAILY;COUNT=2')$$);
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:room', '[2032-01-01 08:00+00,)', 'FREQ=DAILY;COUNT=2')$$);
-- 22023: bad rules, more than 500 occurrences, seats.
SELECT left(r, 40) AS rule, pg_temp.err(format($$SELECT slotguard.book_series('ser:room', '[2033-01-01 08:00+00,2033-01-01 09:00+00)', %L)$$, r))
FROM unnest(ARRAY['FREQ=YEARLY;COUNT=2', 'FREQ=DAILY', 'FREQ=DAILY;COUNT=0', 'FREQ=DAILY;COUNT=2;UNTIL=20330105',
                  'FREQ=DAILY;BYDAY=MO;COUNT=2', 'FREQ=WEEKLY;BYDAY=1MO;COUNT=2', 'FREQ=DAILY;COUNT=2;BYSETPOS=1',
                  'FREQ=DAILY;COUNT=501', 'FREQ=DAILY;UNTIL=20350101', '', repeat('x', 2000)]) AS r;
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:room', '[2033-01-01 08:00+00,2033-01-01 09:00+00)', 'FREQ=DAILY;COUNT=2', seats => 0)$$);
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:room', '[2033-01-01 08:00+00,2033-01-01 09:00+00)', 'FREQ=DAILY;COUNT=2', seats => 3)$$);
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:room', '[2033-01-01 08:00+00,2033-01-01 09:00+00)', 'FREQ=DAILY;COUNT=2', hold => '-1 minute')$$);
-- The last occurrence beyond the supported timestamps: 22023.
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:room', '[294276-12-30 08:00+00,294276-12-30 09:00+00)', 'FREQ=DAILY;COUNT=5')$$);
-- 500 occurrences are fine, in one admission.
SELECT count(*) AS five_hundred FROM slotguard.book_series('ser:room', '[2040-01-01 08:00+00,2040-01-01 08:30+00)', 'FREQ=DAILY;COUNT=500');
-- P0002: an unknown resource while auto-creation is off.
SET slotguard.auto_create_resources = off;
SELECT pg_temp.err($$SELECT slotguard.book_series('ser:nowhere', '[2033-01-01 08:00+00,2033-01-01 09:00+00)', 'FREQ=DAILY;COUNT=2')$$);
RESET slotguard.auto_create_resources;
-- 25006: read-only, before looking at the arguments.
BEGIN READ ONLY;
SELECT pg_temp.err($$SELECT slotguard.book_series(NULL, NULL, NULL)$$);
SELECT pg_temp.err($$SELECT slotguard.try_book_series(NULL, NULL, NULL)$$);
SELECT pg_temp.err($$SELECT slotguard.cancel_series(NULL)$$);
COMMIT;

-- ---------------------------------------------------------------------------
-- Confinement (API.md §8 (1.2)): another tenant's resource or series is as
-- if it did not exist; a holder claim books for the claim's holder only.
-- ---------------------------------------------------------------------------
DROP ROLE IF EXISTS regress_ser_a;
CREATE ROLE regress_ser_a NOLOGIN;
SELECT slotguard.grant_access('regress_ser_a');
SELECT role FROM slotguard.confine('regress_ser_a', tenant_claim => 'tenant', holder_claim => 'sub');
SELECT key FROM slotguard.upsert_resource('ser-a:room', 1);
SELECT key FROM slotguard.upsert_resource('ser-b:room', 1);
SELECT series_id AS ser_b FROM slotguard.book_series('ser-b:room', '[2034-01-02 09:00+00,2034-01-02 10:00+00)', 'FREQ=DAILY;COUNT=2') LIMIT 1 \gset
BEGIN;
SET LOCAL ROLE regress_ser_a;
SELECT set_config('request.jwt.claims', '{"tenant":"ser-a","sub":"p1"}', true) IS NOT NULL AS claims;
SELECT holder, count(*) FROM slotguard.book_series('ser-a:room', '[2034-01-02 09:00+00,2034-01-02 10:00+00)', 'FREQ=DAILY;COUNT=2') GROUP BY holder;
SELECT pg_temp.err($$SELECT slotguard.book_series('ser-a:room', '[2034-02-02 09:00+00,2034-02-02 10:00+00)', 'FREQ=DAILY;COUNT=2', holder => 'p2')$$);
SELECT pg_temp.err($$SELECT slotguard.book_series('ser-b:room', '[2034-02-02 09:00+00,2034-02-02 10:00+00)', 'FREQ=DAILY;COUNT=2')$$);
SELECT pg_temp.err(format('SELECT slotguard.cancel_series(%s)', :ser_b));
COMMIT;
-- A series of the same tenant but another holder: P0002 as well.
SELECT series_id AS ser_p2 FROM slotguard.book_series('ser-a:room', '[2034-03-02 09:00+00,2034-03-02 10:00+00)', 'FREQ=DAILY;COUNT=2', holder => 'p2') LIMIT 1 \gset
BEGIN;
SET LOCAL ROLE regress_ser_a;
SELECT set_config('request.jwt.claims', '{"tenant":"ser-a","sub":"p1"}', true) IS NOT NULL AS claims;
SELECT pg_temp.err(format('SELECT slotguard.cancel_series(%s)', :ser_p2));
-- A conflict names only what the caller may see.
SELECT pg_temp.err($$SELECT slotguard.book_series('ser-a:room', '[2034-03-01 09:00+00,2034-03-01 10:00+00)', 'FREQ=DAILY;COUNT=3')$$, true);
COMMIT;
SELECT status, count(*) FROM slotguard.booking WHERE series_id = :ser_b GROUP BY status;

-- The invariant over everything above.
SELECT count(*) AS overbooked FROM slotguard.booking a JOIN slotguard.booking b
  ON a.resource_key = b.resource_key AND a.id < b.id AND a.blocked && b.blocked
WHERE a.resource_key IN ('ser:dr-lee', 'ser:berlin', 'ser-a:room', 'ser-b:room')
  AND a.status = 'confirmed' AND b.status = 'confirmed';

-- ---------------------------------------------------------------------------
-- Clean up.
-- ---------------------------------------------------------------------------
SELECT slotguard.unconfine('regress_ser_a');
SELECT slotguard.revoke_access('regress_ser_a');
DROP ROLE regress_ser_a;
DELETE FROM slotguard.assignment a USING slotguard.booking b WHERE a.booking_id = b.id AND b.resource_key LIKE 'ser%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'ser%';
DELETE FROM slotguard.resource WHERE key LIKE 'ser%';
DO $$ BEGIN
    IF (SELECT added FROM ser_tz) THEN ALTER TABLE slotguard.resource DROP COLUMN timezone; END IF;
END $$;
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM ser_saved_seq;
DROP TABLE ser_saved_seq, ser_tz;
