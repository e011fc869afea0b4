#!/usr/bin/env bash
# Guards made on a 1.1 schema keep working with this library, and the
# update to 1.2 hardens them: protect()/unprotect() become SECURITY
# INVOKER, guard.owner is filled with each table's owner, and the guard
# triggers left at the default become ENABLE ALWAYS (they fire under
# session_replication_role = replica). Before, the update left guard
# triggers that logical replication's apply skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "fsync = off"

fail() { echo "protect_upgrade_1_1: FAIL: $*" >&2; exit 1; }
q() { cluster_psql -At -c "$1"; }

cluster_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard VERSION '1.1' CASCADE;
CREATE TABLE public.rooms (id int PRIMARY KEY, room text, at tstzrange);
SELECT slotguard.protect('public.rooms', 'room', 'at');
INSERT INTO public.rooms VALUES (1, 'a', '[2030-01-01 10:00+00,2030-01-01 11:00+00)');
-- Triggers as a 1.1 library created them: firing on origin only.
ALTER TABLE public.rooms ENABLE TRIGGER slotguard_guard, ENABLE TRIGGER slotguard_guard_truncate;
SQL
[[ $(q "SELECT prosecdef FROM pg_proc WHERE oid = 'slotguard.protect(regclass,text,text,text,int,text)'::regprocedure") == t ]] ||
    fail "1.1 protect() is not SECURITY DEFINER"
# This library on the 1.1 schema: the guard still refuses an overlap.
if cluster_psql -c "INSERT INTO public.rooms VALUES (2, 'a', '[2030-01-01 10:30+00,2030-01-01 11:30+00)')" 2>/dev/null; then
    fail "overlapping row accepted on the 1.1 schema"
fi

cluster_psql -c "ALTER EXTENSION slotguard UPDATE TO '1.2'"
[[ $(q "SELECT string_agg(tgenabled::text, '' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'public.rooms'::regclass AND NOT tgisinternal") == AA ]] ||
    fail "guard triggers not ENABLE ALWAYS after the update"
[[ $(q "SELECT owner::text FROM slotguard.guard WHERE tbl = 'public.rooms'::regclass") == postgres ]] ||
    fail "guard.owner not filled"
[[ $(q "SELECT bool_or(prosecdef) FROM pg_proc WHERE pronamespace = 'slotguard'::regnamespace AND proname IN ('protect', 'unprotect')") == f ]] ||
    fail "protect/unprotect still SECURITY DEFINER"
if cluster_psql -c "SET session_replication_role = replica" \
    -c "INSERT INTO public.rooms VALUES (2, 'a', '[2030-01-01 10:30+00,2030-01-01 11:30+00)')" 2>/dev/null; then
    fail "overlapping row accepted under session_replication_role = replica after the update"
fi
cluster_psql -c "INSERT INTO public.rooms VALUES (3, 'a', '[2030-01-01 12:00+00,2030-01-01 13:00+00)')"
[[ $(q "SELECT count(*) FROM slotguard.guard_entry") == 2 ]] || fail "entries do not follow the rows"
echo "protect_upgrade_1_1: ok"
