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

# Bookings that the rules made since would refuse today (docs/availability.md,
# "Direct writes": restores): one that now starts within min_notice, and one
# that collided with busy time synced after it was made. The COPY of a
# restore (by the owner) is judged at each row's created_at, and busy time
# never refuses: the restore loads them as they were.
cluster_psql -c "CREATE DATABASE rules_src" -c "CREATE DATABASE rules_dst"
cluster_psql -d rules_src -q <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT slotguard.upsert_resource('clinic', 1);
SELECT slotguard.book_slot('clinic', tstzrange(date_trunc('hour', now()) + interval '2 hours', date_trunc('hour', now()) + interval '3 hours'));
SELECT slotguard.book_slot('clinic', tstzrange(date_trunc('hour', now()) + interval '5 hours', date_trunc('hour', now()) + interval '6 hours'));
SELECT slotguard.set_policy('clinic', 'Europe/Berlin', min_notice => '1 day');
SELECT slotguard.sync_busy('clinic', 'google:dr', tstzrange(now(), now() + interval '1 day'),
       ARRAY[tstzrange(date_trunc('hour', now()) + interval '5 hours', date_trunc('hour', now()) + interval '6 hours')]);
-- Both were made two days ago (a direct UPDATE of created_at is no rule change).
UPDATE slotguard.booking SET created_at = now() - interval '2 days';
SQL
cluster_as_pg "$PG_BINDIR/pg_dump" -h "$PGHOST" -p "$PGPORT" -U postgres -Fc -f "$CLUSTER_DIR/rules.dump" rules_src
cluster_as_pg "$PG_BINDIR/pg_restore" -h "$PGHOST" -p "$PGPORT" -U postgres --exit-on-error -d rules_dst "$CLUSTER_DIR/rules.dump" \
    || fail "pg_restore of bookings the rules would refuse today reported errors"
n=$(cluster_psql -d rules_dst -At -c "SELECT count(*) FROM slotguard.booking WHERE status = 'confirmed'")
[[ $n == 2 ]] || fail "restored $n of 2 bookings that rules made since would refuse"
state=$(cluster_psql -d rules_dst -At -c "
  DO \$\$ BEGIN INSERT INTO slotguard.booking (resource_key, during, seats, status)
    VALUES ('clinic', tstzrange(date_trunc('hour', now()) + interval '8 hours', date_trunc('hour', now()) + interval '9 hours'), 1, 'confirmed');
  RAISE NOTICE 'inserted'; EXCEPTION WHEN exclusion_violation THEN RAISE NOTICE '23P01'; END \$\$" 2>&1)
[[ "$state" == *23P01* ]] || fail "a new direct booking within min_notice after restore was not refused: $state"
echo "dump_restore: bookings the rules made since would refuse restore as they were; new ones obey the rules"

echo "dump_restore: OK"
