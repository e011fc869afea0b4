#!/usr/bin/env bash
# 8 clients book under load; one backend is killed with SIGKILL, so the
# server resets and recovers. Afterwards every booking a client saw
# committed must be there, and the invariant must hold.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "restart_after_crash = on" "log_min_messages = warning"

fail() { echo "crash_recovery: FAIL: $*" >&2; exit 1; }
CLIENTS=8
CALLS=${CALLS:-40}
work=$CLUSTER_DIR/crash
mkdir -p "$work"

cluster_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT count(*) FROM (
  SELECT slotguard.upsert_resource('crash-' || i, 1 + i % 2, '5 minutes', '5 minutes') FROM generate_series(1, 4) i) s;
SQL

# One client: each call is its own connection and transaction; an id is
# recorded only after psql has seen the commit.
client() {
    local n=$1 i r s
    for ((i = 0; i < CALLS; i++)); do
        r=$((RANDOM % 4 + 1)); s=$((RANDOM % 96))
        if id=$(psql -X -At -c "SELECT booking_id FROM slotguard.try_book_slot('crash-$r',
                 tstzrange('2032-01-01'::timestamptz + $s * interval '15 min',
                           '2032-01-01'::timestamptz + ($s + 4) * interval '15 min'))" 2>/dev/null); then
            [[ -n "$id" ]] && echo "$id" >> "$work/committed.$n"
        else
            echo x >> "$work/errors.$n"   # connection lost in the crash: never counted as committed
            sleep 0.2
        fi
    done
}
for ((c = 0; c < CLIENTS; c++)); do client "$c" & done

# The victim: a session in the middle of a booking transaction. Killing it
# with SIGKILL makes the postmaster reset every backend, mid-load.
PGAPPNAME=crash-victim psql -X -q -c "BEGIN" \
    -c "SELECT slotguard.book_slot('crash-1', '[2032-02-01 10:00+00,2032-02-01 11:00+00)')" \
    -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
victim=
for _ in $(seq 200); do
    victim=$(cluster_psql -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'crash-victim'
                                  AND query LIKE '%pg_sleep%'" 2>/dev/null || true)
    [[ -n "$victim" ]] && break
    sleep 0.05
done
[[ -n "$victim" ]] || fail "the victim session never started"
sleep 0.5
kill -9 "$victim"
echo "crash_recovery: killed backend $victim"
wait

# The server must be back up by itself.
for _ in $(seq 100); do cluster_psql -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
grep -q "terminated by signal 9" "$CLUSTER_LOG" || fail "the server log shows no crash; the test did not test anything"

cat "$work"/committed.* 2>/dev/null | sort -n > "$work/seen"
seen=$(wc -l < "$work/seen")
(( seen > 0 )) || fail "no booking committed"
missing=$(cluster_psql -At -c "SELECT count(*) FROM unnest('{$(paste -sd, "$work/seen")}'::bigint[]) AS s(id)
                               WHERE NOT EXISTS (SELECT 1 FROM slotguard.booking b WHERE b.id = s.id AND b.status = 'confirmed')")
violations=$(cluster_psql -At <<'SQL'
WITH active AS (SELECT b.resource_key, b.blocked, b.seats FROM slotguard.booking b WHERE b.status = 'confirmed'),
     points AS (SELECT DISTINCT resource_key, lower(blocked) AS t FROM active)
SELECT count(*) FROM (
  SELECT p.resource_key, p.t FROM points p
  JOIN active a ON a.resource_key = p.resource_key AND a.blocked @> p.t
  JOIN slotguard.resource r ON r.key = p.resource_key
  GROUP BY p.resource_key, p.t, r.capacity HAVING sum(a.seats) > r.capacity) v
SQL
)
lost=$(cat "$work"/errors.* 2>/dev/null | wc -l)
echo "crash_recovery: $seen bookings seen committed, $missing missing after recovery, $violations violations, $lost calls cut off by the crash"
[[ "$missing" == 0 ]] || fail "$missing committed bookings were lost"
[[ "$violations" == 0 ]] || fail "invariant violated after recovery"
victim_rows=$(cluster_psql -At -c "SELECT count(*) FROM slotguard.booking WHERE during && '[2032-02-01,2032-02-02)'")
[[ "$victim_rows" == 0 ]] || fail "the killed session's uncommitted booking survived"
echo "crash_recovery: OK"
