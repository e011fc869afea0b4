-- Installs slotguard for every later file (they run in this database, in
-- file-name order) and checks what CREATE EXTENSION made against API.md §2
-- and §8. Listings are limited to the §2 objects; checks over every
-- function of the schema are counts, so later additions keep this stable.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- btree_gist is loaded by REGRESS_OPTS; CASCADE covers a plain run too.
CREATE EXTENSION slotguard CASCADE;

\dx slotguard

SELECT extname, extnamespace::regnamespace AS schema, extrelocatable, extversion,
       (SELECT array_agg(e.extname ORDER BY e.extname) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = 'pg_extension'::regclass AND d.objid = x.oid AND d.deptype = 'n') AS requires
FROM pg_extension x WHERE extname = 'slotguard';

-- The tables of §2 with their indexes and sequence.
SELECT c.relname, c.relkind
FROM pg_class c
WHERE c.relnamespace = 'slotguard'::regnamespace AND c.relname ~ '^(resource|booking)'
ORDER BY c.relname;

-- Their columns.
SELECT attrelid::regclass AS tbl, attname, format_type(atttypid, atttypmod) AS type, attnotnull
FROM pg_attribute
WHERE attrelid IN ('slotguard.resource'::regclass, 'slotguard.booking'::regclass)
  AND attnum > 0 AND NOT attisdropped
ORDER BY attrelid::regclass::text, attnum;

-- The API of §2: names, arguments with their defaults, results.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace
  AND p.proname IN ('upsert_resource', 'book_slot', 'try_book_slot', 'confirm_booking',
                    'cancel_booking', 'reschedule_booking', 'free_slots', 'availability')
ORDER BY p.proname, args;
SELECT p.proname, pg_get_function_arguments(p.oid) AS args_with_defaults
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace
  AND p.proname IN ('upsert_resource', 'book_slot', 'try_book_slot', 'confirm_booking',
                    'cancel_booking', 'reschedule_booking', 'free_slots', 'availability')
ORDER BY p.proname;

-- Each has a comment, none is STRICT, each runs as its owner with the
-- search_path pinned, and each is executable by PUBLIC.
SELECT p.proname,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS has_comment,
       p.proisstrict,
       p.prosecdef,
       p.proconfig,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace
  AND p.proname IN ('upsert_resource', 'book_slot', 'try_book_slot', 'confirm_booking',
                    'cancel_booking', 'reschedule_booking', 'free_slots', 'availability')
ORDER BY p.proname;

-- Over every function of the schema: all commented, none STRICT.
SELECT count(*) FILTER (WHERE obj_description(p.oid, 'pg_proc') IS NULL) AS without_comment,
       count(*) FILTER (WHERE p.proisstrict) AS strict
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace;
-- Every function PUBLIC may execute (the API, whatever it grows to) is
-- SECURITY DEFINER with search_path = pg_catalog, pg_temp; protect() and
-- unprotect() are SECURITY INVOKER (1.2: they act for the current role and
-- switch to slotguard's owner only for slotguard's own writes).
SELECT count(*) AS public_functions_not_pinned
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace
  AND has_function_privilege('public', p.oid, 'EXECUTE')
  AND (NOT p.prosecdef AND p.proname NOT IN ('protect', 'unprotect')
       OR p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']);
SELECT p.proname, p.prosecdef, p.proconfig
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace AND p.proname IN ('protect', 'unprotect')
ORDER BY p.proname;
-- The trigger functions are not for PUBLIC.
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p
WHERE p.pronamespace = 'slotguard'::regnamespace AND p.proname IN ('booking_guard', 'booking_guard_needed')
ORDER BY p.proname;

-- The triggers that check the owner's direct writes to slotguard.booking.
SELECT tgname, pg_get_triggerdef(oid) AS def
FROM pg_trigger
WHERE tgrelid = 'slotguard.booking'::regclass AND NOT tgisinternal AND tgname LIKE 'booking_guard%'
ORDER BY tgname;

-- The module's settings and their defaults (the library is loaded by now).
SELECT name, setting, unit, context
FROM pg_settings
WHERE name IN ('slotguard.auto_create_resources', 'slotguard.max_suggestions', 'slotguard.suggestion_horizon')
ORDER BY name;

-- Nothing stored yet.
SELECT (SELECT count(*) FROM slotguard.resource) AS resources,
       (SELECT count(*) FROM slotguard.booking) AS bookings;
