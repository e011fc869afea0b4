-- The direct writes (book_slot's booking, a guarded INSERT's guard entry,
-- the order claims) must give way to SQL whenever the table has something
-- the statement would run that they do not. They used to miss three: a
-- rule on the table, a CHECK constraint redefined under an expected name,
-- and domain-typed columns (a domain's NOT NULL or CHECK). Each case below
-- shows the SQL path ran and honoured it (docs/concurrency.md, "What the
-- direct writes do and do not do").
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE FUNCTION pg_temp.dwf_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    constraint_name text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(constraint_name, '') || ')', '');
END $$;

-- Which path a booking took: an SQL INSERT evaluates the booking_guard
-- triggers' WHEN (slotguard.booking_guard_needed), the direct insert does
-- not (track_functions counts calls within the transaction).
SET track_functions = 'all';
CREATE FUNCTION pg_temp.dwf_sql_inserts() RETURNS bigint LANGUAGE sql AS
    $$ SELECT coalesce(pg_stat_get_xact_function_calls('slotguard.booking_guard_needed'::regproc), 0) $$;
SELECT key FROM slotguard.upsert_resource('dwf:hall', 10);

-- Nothing on the table: the direct path.
BEGIN;
CREATE TEMP TABLE dwf_calls AS SELECT pg_temp.dwf_sql_inserts() AS n;
SELECT seats FROM slotguard.book_slot('dwf:hall', '[2030-10-01 10:00+00,2030-10-01 11:00+00)', seats => 4);
SELECT pg_temp.dwf_sql_inserts() - n AS sql_path_direct FROM dwf_calls;
ROLLBACK;

-- A rule on slotguard.booking: the INSERT goes through SQL, the rule acts.
BEGIN;
CREATE TEMP TABLE dwf_calls AS SELECT pg_temp.dwf_sql_inserts() AS n;
CREATE TABLE public.dwf_ruled (resource_key text, seats int);
CREATE RULE dwf_log AS ON INSERT TO slotguard.booking
    DO ALSO INSERT INTO public.dwf_ruled VALUES (NEW.resource_key, NEW.seats);
SELECT seats FROM slotguard.book_slot('dwf:hall', '[2030-10-01 10:00+00,2030-10-01 11:00+00)', seats => 4);
SELECT * FROM public.dwf_ruled;
SELECT pg_temp.dwf_sql_inserts() - n > 0 AS sql_path_rule FROM dwf_calls;
ROLLBACK;

-- booking_seats_check redefined under the same name: enforced.
BEGIN;
ALTER TABLE slotguard.booking DROP CONSTRAINT booking_seats_check,
    ADD CONSTRAINT booking_seats_check CHECK (seats BETWEEN 1 AND 3);
SELECT pg_temp.dwf_try($$SELECT slotguard.book_slot('dwf:hall', '[2030-10-01 10:00+00,2030-10-01 11:00+00)', seats => 4)$$)
    AS four_seats;
SELECT seats FROM slotguard.book_slot('dwf:hall', '[2030-10-01 10:00+00,2030-10-01 11:00+00)', seats => 3);
ROLLBACK;

-- A column of a domain type whose constraint rejects NULL, added by the
-- owner (NOT VALID: the existing rows are not re-checked): a booking that
-- leaves it NULL is refused, as an INSERT refuses it.
BEGIN;
CREATE DOMAIN public.dwf_required AS text;
ALTER TABLE slotguard.booking ADD COLUMN dwf_note public.dwf_required;
ALTER DOMAIN public.dwf_required ADD CONSTRAINT dwf_required_set CHECK (VALUE IS NOT NULL) NOT VALID;
SELECT pg_temp.dwf_try($$SELECT slotguard.book_slot('dwf:hall', '[2030-10-01 10:00+00,2030-10-01 11:00+00)')$$)
    AS without_note;
-- With a default the domain accepts, the booking goes through SQL and keeps it.
ALTER TABLE slotguard.booking ALTER COLUMN dwf_note SET DEFAULT 'walk-in';
CREATE TEMP TABLE dwf_calls AS SELECT pg_temp.dwf_sql_inserts() AS n;
SELECT seats, dwf_note FROM slotguard.book_slot('dwf:hall', '[2030-10-01 10:00+00,2030-10-01 11:00+00)');
SELECT pg_temp.dwf_sql_inserts() - n > 0 AS sql_path_domain FROM dwf_calls;
ROLLBACK;
RESET track_functions;

-- Guard entries of a protected table. SQL's upsert probes guard_entry's
-- primary key; the direct path never does.
CREATE SCHEMA dwf;
CREATE TABLE dwf.seat (id int PRIMARY KEY, room int NOT NULL, at timestamptz NOT NULL, n int NOT NULL DEFAULT 1);
SELECT slotguard.protect('dwf.seat', 'room', $$tstzrange(at, at + interval '1 hour')$$, capacity => 5,
                         seats => 'n') IS NOT NULL AS protected;
BEGIN;
CREATE TEMP TABLE dwf_scans AS SELECT pg_stat_get_xact_numscans('slotguard.guard_entry_pkey'::regclass) AS n;
INSERT INTO dwf.seat VALUES (1, 1, '2030-10-02 10:00+00', 3);
SELECT pg_stat_get_xact_numscans('slotguard.guard_entry_pkey'::regclass) - n AS pkey_scans_direct FROM dwf_scans;
ROLLBACK;

-- guard_entry_seats_check redefined under the same name: enforced.
BEGIN;
ALTER TABLE slotguard.guard_entry DROP CONSTRAINT guard_entry_seats_check,
    ADD CONSTRAINT guard_entry_seats_check CHECK (seats BETWEEN 1 AND 2);
SELECT pg_temp.dwf_try($$INSERT INTO dwf.seat VALUES (1, 1, '2030-10-02 10:00+00', 3)$$) AS three_seats;
INSERT INTO dwf.seat VALUES (2, 1, '2030-10-02 10:00+00', 2);
SELECT row_key, seats FROM slotguard.guard_entry ORDER BY row_key;
ROLLBACK;

-- A rule on guard_entry: SQL's INSERT ... ON CONFLICT refuses a table with
-- rules (0A000), so the guarded INSERT is refused rather than the rule
-- skipped.
BEGIN;
CREATE TABLE public.dwf_entries (row_key text);
CREATE RULE dwf_log AS ON INSERT TO slotguard.guard_entry DO ALSO INSERT INTO public.dwf_entries VALUES (NEW.row_key);
SELECT pg_temp.dwf_try($$INSERT INTO dwf.seat VALUES (1, 1, '2030-10-02 10:00+00', 1)$$) AS with_rule;
SELECT count(*) AS entries FROM slotguard.guard_entry;
ROLLBACK;

-- row_key of a domain type with a CHECK: enforced on the entry.
BEGIN;
CREATE DOMAIN public.dwf_key AS text CHECK (VALUE NOT LIKE '9%');
ALTER TABLE slotguard.guard_entry ALTER COLUMN row_key TYPE public.dwf_key;
CREATE TEMP TABLE dwf_scans AS SELECT pg_stat_get_xact_numscans('slotguard.guard_entry_pkey'::regclass) AS n;
SELECT pg_temp.dwf_try($$INSERT INTO dwf.seat VALUES (9, 1, '2030-10-02 10:00+00', 1)$$) AS key_nine;
INSERT INTO dwf.seat VALUES (8, 1, '2030-10-02 10:00+00', 1);
SELECT pg_stat_get_xact_numscans('slotguard.guard_entry_pkey'::regclass) - n > 0 AS sql_path_domain FROM dwf_scans;
SELECT row_key FROM slotguard.guard_entry ORDER BY row_key;
ROLLBACK;

-- Orders: claimant of a domain type with a CHECK: the claim goes through
-- SQL, which enforces it.
SELECT key FROM slotguard.add_order('dwf:o1', 'soup');
BEGIN;
CREATE DOMAIN public.dwf_claimant AS text CHECK (VALUE <> 'mallory');
ALTER TABLE slotguard.orders ALTER COLUMN claimant TYPE public.dwf_claimant;
SELECT pg_temp.dwf_try($$SELECT slotguard.claim_next_order('mallory', 'soup')$$) AS mallory;
SELECT key, claimant FROM slotguard.claim_next_order('driver', 'soup');
ROLLBACK;

-- Clean up.
SELECT slotguard.unprotect('dwf.seat') IS NOT NULL AS unprotected;
DROP SCHEMA dwf CASCADE;
DELETE FROM slotguard.orders WHERE key LIKE 'dwf:%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'dwf:%';
DELETE FROM slotguard.resource WHERE key LIKE 'dwf:%';
