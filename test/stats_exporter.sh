#!/usr/bin/env bash
# Statistics through Debian's prometheus-postgres-exporter (API.md §13,
# contrib/prometheus/slotguard.yaml): a cluster with slotguard in
# shared_preload_libraries, calls from several connections (a booking, two
# refusals, a try_book_slot refusal, an idempotent replay, a call that waits
# for another transaction and is then refused, an order claim refused with
# 55P03), then the real exporter on a free loopback port with
# --extend.query-path; its /metrics must serve the slotguard_* counters with
# exactly those cluster-wide values.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

fail() { echo "stats_exporter: FAIL: $*" >&2; exit 1; }
EXPORTER=/usr/bin/prometheus-postgres-exporter
[[ -x $EXPORTER ]] || fail "$EXPORTER is not installed (Debian package prometheus-postgres-exporter)"

cluster_start "fsync = off" "shared_preload_libraries = 'slotguard'"

q() { cluster_psql -At -c "$1"; }
cluster_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT slotguard.stats_reset();
SELECT key FROM slotguard.upsert_resource('ex:room', 1);
SQL
# Each statement is its own connection (its own backend).
q "SELECT id FROM slotguard.book_slot('ex:room', '[2031-01-01 09:00+00,2031-01-01 10:00+00)')" >/dev/null
q "SELECT slotguard.book_slot('ex:room', '[2031-01-01 09:00+00,2031-01-01 10:00+00)')" 2>/dev/null && fail "double booking"
q "SELECT booking_id FROM slotguard.try_book_slot('ex:room', '[2031-01-01 09:30+00,2031-01-01 10:30+00)')" >/dev/null
q "SELECT id FROM slotguard.book_slot('ex:room', '[2031-01-02 09:00+00,2031-01-02 10:00+00)', idempotency_key => 'k')" >/dev/null
q "SELECT id FROM slotguard.book_slot('ex:room', '[2031-01-02 09:00+00,2031-01-02 10:00+00)', idempotency_key => 'k')" >/dev/null
q "SELECT key FROM slotguard.add_order('ex:o')" >/dev/null
q "SELECT key FROM slotguard.claim_order('ex:o', 'a')" >/dev/null
q "SELECT slotguard.claim_order('ex:o', 'b')" 2>/dev/null && fail "two claims"

# A call that waits: the first booking of 11:00 stays open until the second
# one is seen waiting for it (a lock wait in pg_stat_activity), then commits;
# the second is refused.
cluster_psql -c "BEGIN" \
    -c "SELECT id FROM slotguard.book_slot('ex:room', '[2031-01-03 11:00+00,2031-01-03 12:00+00)')" \
    -c "DO \$\$ BEGIN FOR i IN 1..1200 LOOP PERFORM pg_stat_clear_snapshot(); EXIT WHEN EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%the second%' AND pid <> pg_backend_pid()); PERFORM pg_sleep(0.05); END LOOP; END \$\$" \
    -c "COMMIT" >/dev/null &
first=$!
for _ in $(seq 1 600); do
    [[ $(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_stat_clear_snapshot%' AND pid <> pg_backend_pid()") -ge 1 ]] && break
    sleep 0.05
done
q "SELECT slotguard.book_slot('ex:room', '[2031-01-03 11:00+00,2031-01-03 12:00+00)') /* the second */" 2>/dev/null &&
    fail "the waiting booking was not refused"
wait "$first"

PORT=$(_cluster_pick_port)
EXPORTER_LOG=$CLUSTER_DIR/exporter.log
DATA_SOURCE_NAME="postgresql://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable" \
    "$EXPORTER" --web.listen-address="127.0.0.1:$PORT" --extend.query-path=contrib/prometheus/slotguard.yaml \
    --disable-settings-metrics >"$EXPORTER_LOG" 2>&1 &
exporter=$!
cluster_at_exit "kill $exporter 2>/dev/null || true"

metrics=""
for _ in $(seq 1 100); do
    metrics=$(curl -sf "http://127.0.0.1:$PORT/metrics" || true)
    grep -q '^slotguard_calls' <<<"$metrics" && break
    sleep 0.2
done
grep -q '^slotguard_calls' <<<"$metrics" || { cat "$EXPORTER_LOG" >&2; fail "no slotguard_* metrics served"; }

# metric{...label="value"...} value
expect() {
    local metric=$1 label=$2 want=$3 got
    got=$(grep -E "^${metric}\{[^}]*${label}[^}]*\} " <<<"$metrics" | awk '{print $NF}' | head -1)
    [[ -n $got ]] || fail "$metric{$label} not served"
    awk -v g="$got" -v w="$want" 'BEGIN { exit !(g + 0 == w + 0) }' || fail "$metric{$label} = $got, want $want"
    echo "stats_exporter: $metric{$label} = $got"
}
expect slotguard_calls 'function="book_slot"' 6
expect slotguard_succeeded 'function="book_slot"' 4
expect slotguard_refused 'function="book_slot"' 2
expect slotguard_replays 'function="book_slot"' 1
expect slotguard_waited 'function="book_slot"' 1
expect slotguard_calls 'function="try_book_slot"' 1
expect slotguard_refused 'function="try_book_slot"' 1
expect slotguard_refused 'function="claim_order"' 1
expect slotguard_succeeded 'function="claim_order"' 1
grep -qE '^slotguard_calls\{[^}]*function="book_slot"[^}]*scope="cluster"' <<<"$metrics" || fail "scope is not cluster"
expect slotguard_hot_resources_refused 'resource_key="ex:room"' 3
grep -qE '^slotguard_wait_seconds\{[^}]*function="book_slot"[^}]*\} [0-9.e+-]+$' <<<"$metrics" || fail "no wait_seconds"
echo "stats_exporter: OK"
