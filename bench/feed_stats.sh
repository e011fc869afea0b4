#!/usr/bin/env bash
# bench/feed_stats.sh — what the change feed and the statistics cost
# book_slot (API.md §13), side by side in one throwaway cluster:
#
#   feed:  book_slot with the feed off vs on (a change row + NOTIFY per
#          booking) vs on without NOTIFY (enable_change_feed(notify =>
#          false)), ROUNDS rounds, the order rotating each round, the change
#          table emptied between runs so all see the same sizes;
#   stats: book_slot with slotguard in shared_preload_libraries (cluster-wide
#          counters in shared memory) vs not (per-backend counters), the
#          server restarted between runs, same alternation.
#
# Every transaction books one 1-second slot at a random second (of 9e12) of a
# random one of 1000 resources (practically never a conflict). synchronous_commit =
# off, so that the CPU cost shows instead of being hidden behind WAL flushes
# (a conservative setting for these ratios). Prints a Markdown table with
# the median TPS of each side and their ratio (and each round's ratio), and
# the server CPU time per booking (all of the cluster's processes, from
# /proc, divided by the transactions pgbench made): on a shared machine TPS
# swings with other people's load, CPU per booking much less, and its
# inverse ratio is the throughput ratio of a server that is CPU-bound.
#
#   bench/feed_stats.sh                ROUNDS=5 SECONDS_PER_RUN=10 CLIENTS=4
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
source bench/lib/cpu.sh
ROUNDS=${ROUNDS:-5}
SECS=${SECONDS_PER_RUN:-10}
CLIENTS=${CLIENTS:-4}
cluster_start "fsync = off" "synchronous_commit = off" "max_connections = 50"
PGBENCH=$PG_BINDIR/pgbench
work=$CLUSTER_DIR/bench
mkdir -p "$work"
cluster_psql <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT count(slotguard.upsert_resource('r' || i)) FROM generate_series(1, 1000) i;
SQL
cat >"$work/book.sql" <<'SQL'
\set r random(1, 1000)
\set m random(0, 9000000000000)
SELECT id FROM slotguard.book_slot('r' || :r, tstzrange('2030-01-01 00:00:00+00'::timestamptz + make_interval(secs => :m), '2030-01-01 00:00:01+00'::timestamptz + make_interval(secs => :m)));
SQL

run() {  # prints TPS; sets CPU_US (server CPU microseconds per transaction)
    local c0 c1 out
    c0=$(_cpu_cluster)
    out=$("$PGBENCH" -n -c "$CLIENTS" -j 2 -T "$1" -f "$work/book.sql" 2>&1 || true)
    sleep 0.3
    c1=$(_cpu_cluster)
    echo "$out" >>"$work/pgbench.log"
    local tx
    tx=$(awk '/number of transactions actually processed/ { print $NF }' <<<"$out" | cut -d/ -f1)
    CPU_US=$(awk -v c="$((c1 - c0))" -v hz="$_CPU_HZ" -v n="${tx:-0}" 'BEGIN { printf "%.0f", ((n > 0) ? c / hz * 1e6 / n : 0) }')
    awk '/^tps = / { printf "%.0f\n", $3 }' <<<"$out"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
set_feed() {
    cluster_psql -c "SELECT slotguard.disable_change_feed()" -c "TRUNCATE slotguard.change" >/dev/null
    [[ $1 == on ]] && cluster_psql -c "SELECT slotguard.enable_change_feed()" >/dev/null
    [[ $1 == quiet ]] && cluster_psql -c "SELECT slotguard.enable_change_feed(notify => false)" >/dev/null
    cluster_psql -c "CHECKPOINT" >/dev/null
}
set_preload() {
    if [[ $1 == on ]]; then
        echo "shared_preload_libraries = 'slotguard'" >"$CLUSTER_DATA/preload.conf"
    else
        : >"$CLUSTER_DATA/preload.conf"
    fi
    grep -q "include_if_exists = 'preload.conf'" "$CLUSTER_DATA/postgresql.conf" ||
        echo "include_if_exists = 'preload.conf'" >>"$CLUSTER_DATA/postgresql.conf"
    cluster_restart
    [[ $(cluster_psql -At -c "SELECT DISTINCT scope FROM slotguard.stats") == "$([[ $1 == on ]] && echo cluster || echo backend)" ]] ||
        { echo "feed_stats: preload $1 did not take" >&2; exit 1; }
    run 2 >/dev/null  # warm-up after the restart
}

declare -A tps cpu
ratios_feed=() ratios_quiet=() ratios_stats=()
run 3 >/dev/null
for ((i = 1; i <= ROUNDS; i++)); do
    case $((i % 3)) in 1) order=(off on quiet) ;; 2) order=(on quiet off) ;; 0) order=(quiet off on) ;; esac
    for f in "${order[@]}"; do
        set_feed "$f"
        run "$SECS" >"$work/t"; t=$(cat "$work/t"); tps[feed_$f]+="$t "; cpu[feed_$f]+="$CPU_US "; eval "r_$f=$t"
        echo "round $i feed $f: $t tps, $CPU_US us server CPU per booking" >&2
    done
    ratios_feed+=("$(awk -v a="$r_on" -v b="$r_off" 'BEGIN { printf "%.2f", a / b }')")
    ratios_quiet+=("$(awk -v a="$r_quiet" -v b="$r_off" 'BEGIN { printf "%.2f", a / b }')")
done
set_feed off
for ((i = 1; i <= ROUNDS; i++)); do
    order=(off on); ((i % 2 == 0)) && order=(on off)
    for p in "${order[@]}"; do
        set_preload "$p"
        run "$SECS" >"$work/t"; t=$(cat "$work/t"); tps[stats_$p]+="$t "; cpu[stats_$p]+="$CPU_US "; eval "r_$p=$t"
        echo "round $i preload $p: $t tps, $CPU_US us server CPU per booking" >&2
    done
    ratios_stats+=("$(awk -v a="$r_on" -v b="$r_off" 'BEGIN { printf "%.2f", a / b }')")
done

m() { tr ' ' '\n' <<<"${tps[$1]}" | grep . | median; }
mc() { tr ' ' '\n' <<<"${cpu[$1]}" | grep . | median; }
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "| comparison | anchor median TPS | measured median TPS | ratio of medians | ratio per round | server CPU µs per booking, anchor → measured | throughput ratio from CPU (anchor / measured) |"
echo "|---|---:|---:|---:|---|---|---:|"
echo "| book_slot, change feed on / off | $(m feed_off) | $(m feed_on) | $(r "$(m feed_on)" "$(m feed_off)") | ${ratios_feed[*]} | $(mc feed_off) → $(mc feed_on) | $(r "$(mc feed_off)" "$(mc feed_on)") |"
echo "| book_slot, change feed on without NOTIFY / off | $(m feed_off) | $(m feed_quiet) | $(r "$(m feed_quiet)" "$(m feed_off)") | ${ratios_quiet[*]} | $(mc feed_off) → $(mc feed_quiet) | $(r "$(mc feed_off)" "$(mc feed_quiet)") |"
echo "| book_slot, stats preloaded (cluster) / not (backend) | $(m stats_off) | $(m stats_on) | $(r "$(m stats_on)" "$(m stats_off)") | ${ratios_stats[*]} | $(mc stats_off) → $(mc stats_on) | $(r "$(mc stats_off)" "$(mc stats_on)") |"
echo
echo "($ROUNDS rounds of $SECS s per side, $CLIENTS clients, $(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
