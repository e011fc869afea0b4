-- grant_access / revoke_access given a regrole that names no role ('-',
-- 0, the oid of a dropped role) printed it into the generated GRANT or
-- REVOKE: 42601, with that statement in QUERY and CONTEXT. They answer
-- 22023 (API.md §6), and NULL stays 22004.
SET client_min_messages = warning;
CREATE ROLE gau_gone;
SELECT 'gau_gone'::regrole::oid AS gone \gset
DROP ROLE gau_gone;
\set VERBOSITY sqlstate
SELECT slotguard.grant_access('-'::regrole);
SELECT slotguard.grant_access(0::regrole, admin => true);
SELECT slotguard.grant_access(:gone::oid::regrole);
SELECT slotguard.revoke_access('-'::regrole);
SELECT slotguard.revoke_access(:gone::oid::regrole);
SELECT slotguard.grant_access(NULL);
SELECT slotguard.revoke_access(NULL);
\set VERBOSITY default
-- The message names the oid, not a generated statement.
SELECT slotguard.grant_access(0::regrole);
-- A real role still gets its grants, and loses them again.
CREATE ROLE gau_app;
SELECT slotguard.grant_access('gau_app');
SELECT has_function_privilege('gau_app', 'slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb)', 'EXECUTE') AS can_book;
SELECT slotguard.revoke_access('gau_app');
SELECT has_function_privilege('gau_app', 'slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb)', 'EXECUTE') AS can_book;
DROP ROLE gau_app;
