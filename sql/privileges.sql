-- Privileges (API.md §8): a fresh install grants PUBLIC nothing (1.2);
-- slotguard.grant_access(role[, admin]) grants a role the API; the tables
-- are neither readable nor writable by others; the functions run as their
-- owner with search_path pinned, so a caller's objects never shadow what
-- they use.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- Booking ids appear in results and messages: use an id range of our own and
-- restore the sequence at the end.
CREATE TEMP TABLE priv_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 700000, false) AS id_base;

-- Runs a statement: 'ok', or SQLSTATE and message of its error (it runs as
-- the current role).
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

DROP ROLE IF EXISTS regress_sg_app;  -- left over by an interrupted run
CREATE ROLE regress_sg_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;

-- ---------------------------------------------------------------------------
-- Secure by default: a fresh install grants PUBLIC nothing, not even USAGE
-- on the schema, so a plain role gets 42501 from every function.
-- ---------------------------------------------------------------------------
SELECT has_schema_privilege('public', 'slotguard', 'USAGE') AS public_usage;
SELECT count(*) AS public_executable
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace
  AND has_function_privilege('public', p.oid, 'EXECUTE');
SELECT c.relname AS public_readable
FROM pg_class c
WHERE c.relnamespace = 'slotguard'::regnamespace AND has_table_privilege('public', c.oid, 'SELECT');
SET ROLE regress_sg_app;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('priv:room', '[2030-11-01 10:00+00,2030-11-01 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.free_slots('priv:room', '[2030-11-01 09:00+00,2030-11-01 12:00+00)', '1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.grant_access('regress_sg_app', admin => true)$$);
RESET ROLE;
-- grant_access: NULL arguments are 22004; only the extension's owner runs it.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.grant_access(NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.grant_access('regress_sg_app', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.grant_access('regress_sg_no_such_role')$$) LIKE '42704:%' AS unknown_role;
-- The application's functions, not the administrator's.
SELECT slotguard.grant_access('regress_sg_app');
SET ROLE regress_sg_app;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('priv:room', 2)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.protect('pg_catalog.pg_class', 'relname', 'NULL')$$);
RESET ROLE;
-- Every function of the schema is either granted by grant_access or
-- internal (never granted); a new function must be classified here.
SELECT p.oid::regprocedure AS function,
       CASE WHEN p.oid = ANY (slotguard.access_functions(false)) THEN 'application'
            WHEN p.oid = ANY (slotguard.access_functions(true)) THEN 'admin'
            ELSE 'internal' END AS granted_as
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace
ORDER BY granted_as, p.oid::regprocedure::text;
SELECT slotguard.grant_access('regress_sg_app', admin => true);

-- ---------------------------------------------------------------------------
-- What grant_access gives.
-- ---------------------------------------------------------------------------
SELECT has_schema_privilege('regress_sg_app', 'slotguard', 'USAGE') AS usage,
       has_schema_privilege('regress_sg_app', 'slotguard', 'CREATE') AS "create";
SELECT p.proname, has_function_privilege('regress_sg_app', p.oid, 'EXECUTE') AS can_execute
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace
  AND p.proname IN ('upsert_resource', 'book_slot', 'try_book_slot', 'confirm_booking', 'cancel_booking',
                    'reschedule_booking', 'free_slots', 'availability', 'booking_guard', 'booking_guard_needed')
ORDER BY p.proname;
SELECT c.relname, p.privilege, has_table_privilege('regress_sg_app', c.oid, p.privilege) AS granted
FROM pg_class c
CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) AS p(privilege)
WHERE c.oid IN ('slotguard.resource'::regclass, 'slotguard.booking'::regclass)
ORDER BY c.relname, p.privilege;
SELECT has_sequence_privilege('regress_sg_app', 'slotguard.booking_id_seq', 'USAGE') AS seq_usage,
       has_sequence_privilege('regress_sg_app', 'slotguard.booking_id_seq', 'SELECT') AS seq_select;

-- ---------------------------------------------------------------------------
-- The application role uses the API ...
-- ---------------------------------------------------------------------------
SET ROLE regress_sg_app;
SELECT current_user;
SELECT key, capacity FROM slotguard.upsert_resource('priv:room', 2);
SELECT id AS p1, status, holder FROM slotguard.book_slot('priv:room', '[2030-11-01 10:00+00,2030-11-01 11:00+00)',
                                                         holder => 'app-user') \gset
SELECT :p1 AS p1;
SELECT status FROM slotguard.book_slot('priv:room', '[2030-11-01 10:00+00,2030-11-01 11:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('priv:room', '[2030-11-01 10:30+00,2030-11-01 11:30+00)')$$)
    LIKE '23P01:%' AS conflict;
SELECT booking_id IS NULL AS refused, cardinality(conflicts) AS n_conflicts
FROM slotguard.try_book_slot('priv:room', '[2030-11-01 10:30+00,2030-11-01 11:30+00)');
SELECT id AS p2 FROM slotguard.book_slot('priv:room', '[2030-11-01 12:00+00,2030-11-01 13:00+00)', hold => '1 hour') \gset
SELECT status FROM slotguard.confirm_booking(:p2);
SELECT during FROM slotguard.reschedule_booking(:p2, '[2030-11-01 13:00+00,2030-11-01 14:00+00)');
SELECT status FROM slotguard.cancel_booking(:p2);
SELECT * FROM slotguard.free_slots('priv:room', '[2030-11-01 09:00+00,2030-11-01 12:00+00)', '1 hour');
SELECT * FROM slotguard.availability('priv:room', '[2030-11-01 09:00+00,2030-11-01 12:00+00)');

-- ... but cannot read or write the tables, the sequence or the trigger functions (42501).
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.booking$$);
SELECT pg_temp.sqlstate_of($$SELECT holder FROM slotguard.booking$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.resource$$);
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.booking (resource_key, during) VALUES ('priv:room', '[2030-11-02 10:00+00,2030-11-02 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$UPDATE slotguard.booking SET status = 'cancelled'$$);
SELECT pg_temp.sqlstate_of($$DELETE FROM slotguard.booking$$);
SELECT pg_temp.sqlstate_of($$TRUNCATE slotguard.booking$$);
SELECT pg_temp.sqlstate_of($$INSERT INTO slotguard.resource (key, capacity) VALUES ('priv:direct', 5)$$);
SELECT pg_temp.sqlstate_of($$UPDATE slotguard.resource SET capacity = 100$$);
SELECT pg_temp.sqlstate_of($$DELETE FROM slotguard.resource$$);
SELECT pg_temp.sqlstate_of($$SELECT nextval('slotguard.booking_id_seq')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.booking_guard_needed()$$);
SELECT pg_temp.sqlstate_of($$CREATE TABLE slotguard.intruder (x int)$$);
SELECT pg_temp.sqlstate_of($$CREATE FUNCTION slotguard.now() RETURNS timestamptz LANGUAGE sql AS 'SELECT now()'$$);
RESET ROLE;

-- ---------------------------------------------------------------------------
-- A hostile search_path: the caller's own objects named like what slotguard
-- uses must not change any result, and must never run (as the functions'
-- owner or at all).
-- ---------------------------------------------------------------------------
CREATE SCHEMA regress_sg_evil AUTHORIZATION regress_sg_app;
SET ROLE regress_sg_app;
SET search_path = regress_sg_evil, public;
-- Every call of a shadowing object leaves a trace here.
CREATE TABLE regress_sg_evil.canary (who text, what text);
CREATE TABLE regress_sg_evil.booking (id bigint, resource_key text, during tstzrange, seats int, status text,
                                      hold_expires_at timestamptz, blocked tstzrange);
CREATE TABLE regress_sg_evil.resource (key text, capacity int, buffer_before interval, buffer_after interval);
INSERT INTO regress_sg_evil.resource VALUES ('priv:room', 100, '0', '0');
CREATE FUNCTION regress_sg_evil.now() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
BEGIN INSERT INTO regress_sg_evil.canary VALUES (current_user, 'now'); RETURN '2100-01-01 00:00+00'; END $$;
CREATE FUNCTION regress_sg_evil.lower(tstzrange) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
BEGIN INSERT INTO regress_sg_evil.canary VALUES (current_user, 'lower'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION regress_sg_evil.upper(tstzrange) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
BEGIN INSERT INTO regress_sg_evil.canary VALUES (current_user, 'upper'); RETURN '2000-01-01 00:00+00'; END $$;
CREATE FUNCTION regress_sg_evil.tstzrange(timestamptz, timestamptz, text) RETURNS tstzrange LANGUAGE plpgsql VOLATILE AS $$
BEGIN INSERT INTO regress_sg_evil.canary VALUES (current_user, 'tstzrange'); RETURN 'empty'; END $$;
CREATE FUNCTION regress_sg_evil.never(tstzrange, tstzrange) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN INSERT INTO regress_sg_evil.canary VALUES (current_user, '&&'); RETURN false; END $$;
CREATE OPERATOR regress_sg_evil.&& (LEFTARG = tstzrange, RIGHTARG = tstzrange, FUNCTION = regress_sg_evil.never);
CREATE FUNCTION regress_sg_evil.texteq(text, text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN INSERT INTO regress_sg_evil.canary VALUES (current_user, '='); RETURN false; END $$;
CREATE OPERATOR regress_sg_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_sg_evil.texteq);
CREATE FUNCTION regress_sg_evil.coalesce_jsonb(jsonb, jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT $2';
-- The shadowing works for the caller's own queries (here with the evil
-- schema even before pg_catalog) ...
SET search_path = regress_sg_evil, pg_catalog, public;
SELECT lower('[2030-11-01 10:00+00,2030-11-01 11:00+00)'::tstzrange) AS shadowed_lower,
       now() AS shadowed_now,
       '[2030-11-01 10:00+00,2030-11-01 11:00+00)'::tstzrange && '[2030-11-01 10:00+00,2030-11-01 11:00+00)'::tstzrange AS shadowed_overlap;
SELECT count(*) AS calls_so_far FROM regress_sg_evil.canary;
DELETE FROM regress_sg_evil.canary;
-- ... but not inside slotguard: the same answers as without them (capacity
-- 2 is used up at 10:00-11:00).
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('priv:room', '[2030-11-01 10:30+00,2030-11-01 11:30+00)')$$);
SELECT booking_id IS NULL AS refused, cardinality(conflicts) AS n_conflicts, suggestions
FROM slotguard.try_book_slot('priv:room', '[2030-11-01 10:30+00,2030-11-01 11:30+00)');
SELECT id AS p3, during, blocked, status FROM slotguard.book_slot('priv:room', '[2030-11-01 15:00+00,2030-11-01 16:00+00)',
                                                                  hold => '1 hour', idempotency_key => 'priv-1') \gset
SELECT :'during' AS during, :'blocked' AS blocked, :'status' AS status;
SELECT id = :p3 AS same_id FROM slotguard.book_slot('priv:room', '[2030-11-01 15:00+00,2030-11-01 16:00+00)',
                                                    hold => '1 hour', idempotency_key => 'priv-1');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('priv:room', '[2030-11-01 16:00+00,2030-11-01 17:00+00)', idempotency_key => 'priv-1')$$);
-- The live hold counts (a shadowed now() in the future would expire it).
SELECT status FROM slotguard.book_slot('priv:room', '[2030-11-01 15:00+00,2030-11-01 16:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('priv:room', '[2030-11-01 15:00+00,2030-11-01 16:00+00)')$$)
    LIKE '23P01:%' AS live_hold_counts;
SELECT status, hold_expires_at IS NULL AS no_expiry FROM slotguard.confirm_booking(:p3);
SELECT during FROM slotguard.reschedule_booking(:p3, '[2030-11-01 15:30+00,2030-11-01 16:30+00)');
SELECT status FROM slotguard.cancel_booking(:p3);
SELECT key, capacity, kind, metadata FROM slotguard.upsert_resource('priv:room', 2, kind => 'room', metadata => '{"a": 1}');
SELECT key, capacity, kind, metadata FROM slotguard.upsert_resource('priv:room', 2);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('priv:room', 1)$$);
SELECT * FROM slotguard.free_slots('priv:room', '[2030-11-01 09:00+00,2030-11-01 12:00+00)', '1 hour');
SELECT * FROM slotguard.availability('priv:room', '[2030-11-01 09:00+00,2030-11-01 12:00+00)');
-- Nothing of the evil schema ran, and its tables were not used.
SELECT count(*) AS evil_calls FROM regress_sg_evil.canary;
SELECT count(*) AS evil_bookings FROM regress_sg_evil.booking;

-- Temporary objects named like slotguard's are not used either.
SET search_path = pg_temp, regress_sg_evil, public;
CREATE TEMP TABLE booking (id bigint, resource_key text, during tstzrange, seats int, status text, blocked tstzrange);
CREATE TEMP TABLE resource (key text, capacity int);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('priv:room', '[2030-11-01 10:30+00,2030-11-01 11:30+00)')$$)
    LIKE '23P01:%' AS still_refused;
SELECT status FROM slotguard.book_slot('priv:room', '[2030-11-01 18:00+00,2030-11-01 19:00+00)');
SELECT count(*) AS temp_bookings FROM pg_temp.booking;
SELECT count(*) AS evil_calls FROM regress_sg_evil.canary;
DROP TABLE pg_temp.booking, pg_temp.resource;
RESET search_path;
RESET ROLE;

-- What the application did, seen by the owner.
SELECT id = :p1 AS is_p1, resource_key, during, status, holder, idempotency_key
FROM slotguard.booking WHERE resource_key LIKE 'priv:%' ORDER BY id;
SELECT key, capacity, kind, metadata FROM slotguard.resource WHERE key LIKE 'priv:%' ORDER BY key;

-- Clean up.
DROP SCHEMA regress_sg_evil CASCADE;
DELETE FROM slotguard.booking WHERE resource_key LIKE 'priv:%';
DELETE FROM slotguard.resource WHERE key LIKE 'priv:%';
-- revoke_access takes it all back.
SELECT slotguard.revoke_access('regress_sg_app');
SELECT has_schema_privilege('regress_sg_app', 'slotguard', 'USAGE') AS usage,
       count(*) FILTER (WHERE has_function_privilege('regress_sg_app', p.oid, 'EXECUTE')) AS executable
FROM pg_proc p WHERE p.pronamespace = 'slotguard'::regnamespace;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.revoke_access(NULL)$$);
DROP ROLE regress_sg_app;
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM priv_saved_seq;
