#!/usr/bin/env bash
# pg_dump -Fc + pg_restore into a new database keeps slotguard's data:
# identical rows, sequences that continue, and enforcement still on.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start

fail() { echo "dump_restore: FAIL: $*" >&2; exit 1; }

cluster_psql -c "CREATE DATABASE src" -c "CREATE DATABASE dst"
cluster_psql -d src <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
-- "zz" sorts after "booking": restore must still load resources first.
SELECT key FROM slotguard.upsert_resource('zz-class', 2, '0', '15 minutes');
SELECT id FROM slotguard.book_slot('zz-class', '[2030-01-01 10:00+00,2030-01-01 11:00+00)', holder => 'ana');
SELECT id FROM slotguard.book_slot('zz-class', '[2030-01-01 10:00+00,2030-01-01 11:00+00)', idempotency_key => 'k1');
SELECT id FROM slotguard.book_slot('room', '[2030-01-01 10:00+00,2030-01-01 11:00+00)', hold => '1 day');
SELECT status FROM slotguard.cancel_booking(3);
SELECT worker FROM slotguard.assign_workers(1, '{bob,cy}');
DROP ROLE IF EXISTS dump_app;
CREATE ROLE dump_app;
SELECT slotguard.grant_access('dump_app');
SQL

snapshot() {  # every row of every slotguard table, as text
    cluster_psql -d "$1" -At -c "
      SELECT 'resource', r::text FROM slotguard.resource r
      UNION ALL SELECT 'booking', b::text FROM slotguard.booking b
      UNION ALL SELECT 'assignment', a::text FROM slotguard.assignment a
      ORDER BY 1, 2"
}

dump=$CLUSTER_DIR/src.dump
cluster_as_pg "$PG_BINDIR/pg_dump" -h "$PGHOST" -p "$PGPORT" -U postgres -Fc -f "$dump" src
cluster_as_pg "$PG_BINDIR/pg_restore" -h "$PGHOST" -p "$PGPORT" -U postgres --exit-on-error -d dst "$dump" \
    || fail "pg_restore reported errors"

before=$(snapshot src)
after=$(snapshot dst)
[[ -n "$before" ]] || fail "nothing was dumped"
[[ "$before" == "$after" ]] || { diff <(echo "$before") <(echo "$after") >&2; fail "restored rows differ"; }
echo "dump_restore: $(wc -l <<<"$after") rows identical after restore"

# Sequences continue after the restored ids.
next=$(cluster_psql -d dst -At -c "SELECT id FROM slotguard.book_slot('room', '[2030-02-01 10:00+00,2030-02-01 11:00+00)')")
[[ "$next" == 4 ]] || fail "next booking id is $next, expected 4"

# Enforcement survived: capacity 2 is full at 10:30, buffers included at 11:10.
for during in '[2030-01-01 10:30+00,2030-01-01 11:00+00)' '[2030-01-01 11:10+00,2030-01-01 12:00+00)'; do
    state=$(cluster_psql -d dst -At -c "
      DO \$\$ BEGIN PERFORM slotguard.book_slot('zz-class', '$during');
      RAISE NOTICE 'booked'; EXCEPTION WHEN exclusion_violation THEN RAISE NOTICE '23P01'; END \$\$" 2>&1)
    [[ "$state" == *23P01* ]] || fail "booking $during after restore was not refused: $state"
done
# ... and a worker is still guarded, and the idempotency key still known.
state=$(cluster_psql -d dst -At -c "
  DO \$\$ DECLARE b bigint; BEGIN
    b := (slotguard.book_slot('room', '[2030-01-01 10:30+00,2030-01-01 11:30+00)')).id;
    PERFORM slotguard.assign_workers(b, '{bob}');
    RAISE NOTICE 'assigned'; EXCEPTION WHEN exclusion_violation THEN RAISE NOTICE '23P01'; END \$\$" 2>&1)
[[ "$state" == *23P01* ]] || fail "double-assigning bob after restore was not refused: $state"
again=$(cluster_psql -d dst -At -c "SELECT id FROM slotguard.book_slot('zz-class', '[2030-01-01 10:00+00,2030-01-01 11:00+00)', idempotency_key => 'k1')")
[[ "$again" == 2 ]] || fail "idempotency key k1 returned booking $again, expected 2"

# The grants survive: grant_access's role still has the API, PUBLIC still nothing.
grants=$(cluster_psql -d dst -At -c "SELECT has_function_privilege('dump_app', 'slotguard.cancel_booking(bigint)', 'EXECUTE'), has_schema_privilege('dump_app', 'slotguard', 'USAGE'), has_function_privilege('public', 'slotguard.cancel_booking(bigint)', 'EXECUTE')")
[[ $grants == 't|t|f' ]] || fail "grants after restore: $grants, expected t|t|f"

# A shard (docs/scale-out.md): the dump keeps shard_config and the id
# sequence's position but not its step; configure_shard again mends it.
cluster_psql -c "CREATE DATABASE shard_src" -c "CREATE DATABASE shard_dst"
cluster_psql -d shard_src -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard CASCADE" \
    -c "SELECT slotguard.configure_shard(1, 4)" \
    -c "SELECT slotguard.book_slot('acme:room', '[2030-01-01 10:00+00,2030-01-01 11:00+00)')" >/dev/null
cluster_as_pg "$PG_BINDIR/pg_dump" -h "$PGHOST" -p "$PGPORT" -U postgres -Fc -f "$CLUSTER_DIR/shard.dump" shard_src
cluster_as_pg "$PG_BINDIR/pg_restore" -h "$PGHOST" -p "$PGPORT" -U postgres --exit-on-error -d shard_dst "$CLUSTER_DIR/shard.dump" \
    || fail "pg_restore of a shard reported errors"
info=$(cluster_psql -d shard_dst -At -c "SELECT shard_number || '/' || shard_count || ' ' || ids_route_here FROM slotguard.shard_info()")
[[ $info == "1/4 false" ]] || fail "restored shard: shard_info says '$info', expected '1/4 false' (step lost)"
cluster_psql -d shard_dst -q -c "SELECT slotguard.configure_shard(1, 4)" >/dev/null
next=$(cluster_psql -d shard_dst -At -c "SELECT id FROM slotguard.book_slot('acme:room', '[2030-01-01 11:00+00,2030-01-01 12:00+00)')")
[[ $next -eq 5 ]] || fail "restored shard made booking id $next after configure_shard, expected 5 (1 mod 4)"
echo "dump_restore: a restored shard keeps its place; configure_shard again restores its id step"

echo "dump_restore: OK"
