#!/usr/bin/env bash
# §10 rules against no rules, side by side in one run (BENCHMARKS.md,
# "1.2: opening hours, closures, busy time"). One throwaway cluster, one
# database (bench/rules/setup.sql); pgbench alternates the two sides
# ROUNDS times, each for SECONDS, and prints TPS per round and the ratio of
# the medians. Environment: NRES (resources per side, 50), ROUNDS (3),
# SECONDS (10), CLIENTS (4).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/test/lib/cluster.sh"
NRES=${NRES:-50} ROUNDS=${ROUNDS:-3} SECONDS_PER=${SECONDS:-10} CLIENTS=${CLIENTS:-4}
cluster_start "shared_buffers = 256MB" "max_wal_size = 4GB" "log_min_messages = warning"
cluster_psql -q -v nres="$NRES" -f "$HERE/setup.sql"
NSLOTS=$(cluster_psql -At -c "SELECT count(*) FROM bench_slot")
tps() { # script
    "$PG_BINDIR/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_PER" -D nslots="$NSLOTS" -D nres="$NRES" \
        -f "$HERE/$1" 2>/dev/null | sed -nE 's/^tps = ([0-9.]+) .*/\1/p'
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
for pair in book free; do
    : >"$CLUSTER_DIR/$pair-plain" ; : >"$CLUSTER_DIR/$pair-rules"
    for ((r = 1; r <= ROUNDS; r++)); do
        p=$(tps "${pair}_plain.sql"); q=$(tps "${pair}_rules.sql")
        echo "$p" >>"$CLUSTER_DIR/$pair-plain"; echo "$q" >>"$CLUSTER_DIR/$pair-rules"
        echo "$pair round $r: plain $p tps, rules $q tps"
    done
    mp=$(median <"$CLUSTER_DIR/$pair-plain") mq=$(median <"$CLUSTER_DIR/$pair-rules")
    echo "$pair median: plain $mp tps, rules $mq tps, rules/plain $(awk -v a="$mq" -v b="$mp" 'BEGIN {printf "%.2f", a / b}')"
done
# CPU per call: one backend (a pooled connection: its caches warm, as in
# the pgbench runs) alternates the two sides CPU_ROUNDS times, CPU_CALLS
# bookings (each a new slot) and CPU_CALLS / 20 month searches per batch,
# after one unmeasured warm-up batch per side.
CPU_ROUNDS=${CPU_ROUNDS:-5} CPU_CALLS=${CPU_CALLS:-2000}
{
    echo '\set QUIET on'
    next=$((NSLOTS / 2 - 2 * CPU_CALLS))
    for ((r = 0; r <= CPU_ROUNDS; r++)); do
        for side in plain rules; do
            echo "SELECT cpu_ticks() AS t0 \\gset"
            echo "SELECT count(*) FROM bench_slot s, LATERAL slotguard.try_book_slot('$side:' || s.n, s.during) b WHERE s.id >= $next AND s.id < $((next + CPU_CALLS)) \\g /dev/null"
            echo "SELECT 'cpu book $r $side ' || ((cpu_ticks() - :t0) * 10000.0 / $CPU_CALLS)::numeric(10, 1);"
            echo "SELECT cpu_ticks() AS t0 \\gset"
            echo "SELECT count(*) FROM generate_series(1, $((CPU_CALLS / 20))) i, LATERAL slotguard.free_slots('$side:' || (1 + i % $NRES), tstzrange(make_timestamptz(2031, 1 + i % 12, 1, 0, 0, 0, 'UTC'), make_timestamptz(2031, 1 + i % 12, 1, 0, 0, 0, 'UTC') + interval '1 month'), '30 minutes') \\g /dev/null"
            echo "SELECT 'cpu free $r $side ' || ((cpu_ticks() - :t0) * 10000.0 / $((CPU_CALLS / 20)))::numeric(10, 1);"
        done
        next=$((next + CPU_CALLS))
    done
} >"$CLUSTER_DIR/cpu.sql"
cluster_psql -At -f "$CLUSTER_DIR/cpu.sql" | while read -r _ pair r side us; do
    ((r == 0)) && continue  # warm-up
    echo "$us" >>"$CLUSTER_DIR/cpu-$pair-$side"
    echo "cpu round $r $side: $pair $us us/call"
done
for pair in book free; do
    mp=$(median <"$CLUSTER_DIR/cpu-$pair-plain") mq=$(median <"$CLUSTER_DIR/cpu-$pair-rules")
    echo "cpu $pair median: plain $mp us, rules $mq us, plain/rules (throughput ratio) $(awk -v a="$mp" -v b="$mq" 'BEGIN {printf "%.2f", a / b}')"
done
cluster_psql -At -c "SELECT 'bookings made: ' || count(*) FROM slotguard.booking"
