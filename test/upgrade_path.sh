#!/usr/bin/env bash
# CREATE EXTENSION slotguard VERSION '1.0' followed by ALTER EXTENSION
# slotguard UPDATE must give the same objects as a fresh install of the
# current version. Every new version therefore has to ship its upgrade
# script (control/slotguard--A--B.sql).
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start

fail() { echo "upgrade_path: FAIL: $*" >&2; exit 1; }

# Everything that belongs to the extension, with its definition.
catalog() {
    cluster_psql -d "$1" -At <<'SQL'
SELECT pg_describe_object(d.classid, d.objid, 0) || ' | ' ||
       CASE d.classid
         WHEN 'pg_proc'::regclass THEN pg_get_functiondef(d.objid) || coalesce(obj_description(d.objid, 'pg_proc'), '')
           || coalesce(array_to_string(p.proacl, ','), '') || coalesce(array_to_string(p.proconfig, ','), '')
         WHEN 'pg_class'::regclass THEN (
           SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
                             || ' ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''), ', ' ORDER BY a.attnum)
           FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
           WHERE a.attrelid = d.objid AND a.attnum > 0 AND NOT a.attisdropped)
           || coalesce(array_to_string(c.relacl, ','), '')
         ELSE '' END
FROM pg_depend d
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'slotguard'
LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
WHERE d.deptype = 'e'
UNION ALL
SELECT 'index ' || indexrelid::regclass || ' | ' || pg_get_indexdef(indexrelid) FROM pg_index
  WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'slotguard'::regnamespace)
UNION ALL
SELECT 'constraint ' || conname || ' | ' || pg_get_constraintdef(oid) FROM pg_constraint
  WHERE connamespace = 'slotguard'::regnamespace
UNION ALL
SELECT 'trigger ' || regexp_replace(tgname || ' | ' || pg_get_triggerdef(oid), '_[0-9]+("| )', '\1', 'g')
       || ' ' || tgenabled::text FROM pg_trigger
  WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'slotguard'::regnamespace)
UNION ALL
SELECT 'config ' || extconfig::regclass[]::text FROM pg_extension WHERE extname = 'slotguard'
ORDER BY 1
SQL
}

current=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" control/slotguard.control)
cluster_psql -c "CREATE DATABASE fresh" -c "CREATE DATABASE upgraded"
cluster_psql -d fresh -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard CASCADE"
cluster_psql -d upgraded -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard VERSION '1.0' CASCADE" \
    -c "ALTER EXTENSION slotguard UPDATE"
installed=$(cluster_psql -d upgraded -At -c "SELECT extversion FROM pg_extension WHERE extname = 'slotguard'")
[[ "$installed" == "$current" ]] || fail "1.0 updated to $installed, not to the current $current: an upgrade script is missing"

# An update keeps the grants that existed (1.0 and 1.1 granted the API to
# PUBLIC); a fresh install grants PUBLIC nothing (control/fresh_install.sql).
kept=$(cluster_psql -d upgraded -At -c "SELECT has_function_privilege('public', 'slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb)', 'EXECUTE') AND has_schema_privilege('public', 'slotguard', 'USAGE')")
[[ $kept == t ]] || fail "the update took PUBLIC's grants away"
fresh_public=$(cluster_psql -d fresh -At -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'slotguard'::regnamespace AND has_function_privilege('public', oid, 'EXECUTE')")
[[ $fresh_public == 0 ]] || fail "a fresh install grants PUBLIC $fresh_public functions"
cluster_psql -c "CREATE DATABASE from11"
cluster_psql -d from11 -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard VERSION '1.1' CASCADE" \
    -c "CREATE ROLE upgrade_app" -c "REVOKE EXECUTE ON FUNCTION slotguard.cancel_booking(bigint) FROM PUBLIC" \
    -c "GRANT EXECUTE ON FUNCTION slotguard.cancel_booking(bigint) TO upgrade_app" \
    -c "REVOKE EXECUTE ON FUNCTION slotguard.complete_order(text, text) FROM PUBLIC" \
    -c "GRANT EXECUTE ON FUNCTION slotguard.complete_order(text, text) TO upgrade_app" -c "ALTER EXTENSION slotguard UPDATE"
grants=$(cluster_psql -d from11 -At -c "SELECT has_function_privilege('upgrade_app', 'slotguard.cancel_booking(bigint)', 'EXECUTE'), has_function_privilege('public', 'slotguard.cancel_booking(bigint)', 'EXECUTE'), has_function_privilege('public', 'slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb)', 'EXECUTE')")
# complete_order is recreated with a token argument (API.md §14): its grants go with it.
recreated=$(cluster_psql -d from11 -At -c "SELECT has_function_privilege('upgrade_app', 'slotguard.complete_order(text, text, bigint)', 'EXECUTE'), has_function_privilege('public', 'slotguard.complete_order(text, text, bigint)', 'EXECUTE'), has_function_privilege('public', 'slotguard.add_order(text, text, boolean, jsonb, int, timestamptz, int)', 'EXECUTE')")
cluster_psql -d from11 -c "DROP EXTENSION slotguard" -c "DROP ROLE upgrade_app"
[[ $grants == 't|f|t' ]] || fail "1.1 -> $current changed the grants an installation had ($grants, want t|f|t)"
[[ $recreated == 't|f|t' ]] || fail "1.1 -> $current: add_order/complete_order recreated with new arguments lost their grants ($recreated, want t|f|t)"
echo "upgrade_path: an update keeps the grants it finds; a fresh install grants PUBLIC nothing"

# A function new in 1.2 takes its peer's grants: where the DBA had revoked
# the API from PUBLIC in 1.1, the update must not hand PUBLIC the new ones
# (application functions follow book_slot, administrator ones
# upsert_resource; the last section of the 1.1 -> 1.2 script).
cluster_psql -c "CREATE DATABASE revoked11"
cluster_psql -d revoked11 -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard VERSION '1.1' CASCADE" \
    -c "CREATE ROLE upgrade_app2" -c "CREATE ROLE upgrade_admin2" \
    -c "REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA slotguard FROM PUBLIC" \
    -c "GRANT EXECUTE ON FUNCTION slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb) TO upgrade_app2" \
    -c "GRANT EXECUTE ON FUNCTION slotguard.upsert_resource(text, int, interval, interval, text, jsonb) TO upgrade_admin2" \
    -c "CREATE TABLE public.functions_11 AS SELECT oid::regprocedure::text AS f FROM pg_proc WHERE pronamespace = 'slotguard'::regnamespace" \
    -c "ALTER EXTENSION slotguard UPDATE"
new_public=$(cluster_psql -d revoked11 -At -c "SELECT count(*) FROM unnest(slotguard.access_functions(false) || slotguard.access_functions(true)) f WHERE has_function_privilege('public', f, 'EXECUTE')")
# Each function new in 1.2 that grant_access hands out (confine/unconfine
# are never handed out by an update: only their owner runs them until a
# DBA grants them).
wrong=$(cluster_psql -d revoked11 -At <<'SQL'
SELECT string_agg(f::text || CASE WHEN admin THEN ' (admin)' ELSE ' (application)' END, ', ')
FROM (SELECT f, false AS admin FROM unnest(slotguard.access_functions(false)) f
      UNION ALL SELECT f, true FROM unnest(slotguard.access_functions(true)) f) n
WHERE f::text NOT IN (SELECT f FROM public.functions_11)
  -- add_order, release_order, complete_order: 1.1's functions recreated with
  -- new trailing arguments (API.md §14) keep the grants they had instead.
  AND split_part(f::text, '(', 1) NOT IN (SELECT split_part(f, '(', 1) FROM public.functions_11)
  AND f NOT IN ('slotguard.confine(regrole, text[], text, text)'::regprocedure, 'slotguard.unconfine(regrole)'::regprocedure)
  AND NOT has_function_privilege(CASE WHEN admin THEN 'upgrade_admin2' ELSE 'upgrade_app2' END, f, 'EXECUTE')
SQL
)
cluster_psql -d revoked11 -c "DROP EXTENSION slotguard" -c "DROP ROLE upgrade_app2" -c "DROP ROLE upgrade_admin2"
[[ $new_public == 0 ]] || fail "after REVOKE FROM PUBLIC in 1.1, the update gave PUBLIC $new_public functions"
[[ -z $wrong ]] || fail "functions new in 1.2 did not take their peer's grants: $wrong"
echo "upgrade_path: functions new in 1.2 take the grants of their peers"

# Apart from those grants, the objects must be the same.
cluster_psql -d upgraded -f control/fresh_install.sql
a=$(catalog fresh)
b=$(catalog upgraded)
[[ $(wc -l <<<"$a") -gt 20 ]] || fail "the catalog listing is suspiciously short"
if [[ "$a" != "$b" ]]; then
    diff <(echo "$a") <(echo "$b") >&2 || true
    fail "an upgraded install differs from a fresh one"
fi
echo "upgrade_path: 1.0 -> $current gives the same $(wc -l <<<"$a") objects as a fresh install"
echo "upgrade_path: OK"
