#!/usr/bin/env bash
# bench/orders_queue/run.sh — issue 18's queue benchmark, side by side:
#   anchor   bench/workloads/claim_next_anchor.sql  (minimal UPDATE ... SKIP LOCKED)
#   single   bench/workloads/claim_next_order.sql   (slotguard.claim_next_order)
#   batch    bench/workloads/claim_next_orders.sql  (slotguard.claim_next_orders, max 10)
# For each isolation level, ROUNDS rounds; in each round the three run one
# after the other (the order rotates from round to round), each on a fresh
# copy of its queue (CREATE DATABASE ... TEMPLATE, FILE_COPY), pgbench -M
# prepared -c CLIENTS -j 2 -T SECONDS, retrying 40001 (--max-tries). A
# transaction of the anchor and of `single` claims one order, of `batch` up
# to ten: the claimed rows are counted after each run, and the per-order
# rate is claimed rows / seconds. Next to it, the server CPU per claimed
# order: the user + system time of the backends (and whatever else the
# postmaster started and reaped meanwhile, e.g. autovacuum), from the
# postmaster's cutime/cstime in /proc before and after the run — which the
# load of a shared machine moves far less than the rate. Needs the server on
# this machine, readable /proc. Prints a TSV line per run and the ratios per
# round; nothing passes or fails on timings.
#
# Against a running server with slotguard installed: PGHOST/PGPORT/PGUSER
# from the environment. NORDERS (600000) CLIENTS (8) SECONDS (10) ROUNDS (3)
# LEVELS ("read committed" "repeatable read" serializable).
set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
BENCH=$(dirname "$DIR")
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PSQL="$PG_BINDIR/psql -X -q -v ON_ERROR_STOP=1"
NORDERS=${NORDERS:-600000}
CLIENTS=${CLIENTS:-8}
SECONDS_=${SECONDS:-10}
ROUNDS=${ROUNDS:-3}
if [[ -n ${LEVELS:-} ]]; then IFS=, read -r -a levels <<<"$LEVELS"; else levels=("read committed" "repeatable read" "serializable"); fi

echo "# orders_queue: $NORDERS orders, $CLIENTS clients, ${SECONDS_}s per run, $ROUNDS rounds; $(date -u +%FT%TZ)" >&2
$PSQL -d postgres -c "DROP DATABASE IF EXISTS oq_tmpl_anchor" -c "DROP DATABASE IF EXISTS oq_tmpl_slotguard"
$PSQL -d postgres -c "CREATE DATABASE oq_tmpl_anchor" -c "CREATE DATABASE oq_tmpl_slotguard"
$PSQL -d oq_tmpl_anchor -v norders="$NORDERS" -f "$DIR/setup_anchor.sql" >/dev/null
$PSQL -d oq_tmpl_slotguard -v norders="$NORDERS" -f "$DIR/setup_slotguard.sql" >/dev/null
$PSQL -d postgres -c "CHECKPOINT"
DATA_DIR=$($PSQL -d postgres -At -c "SHOW data_directory")
POSTMASTER=$(head -1 "$DATA_DIR/postmaster.pid")
HZ=$(getconf CLK_TCK)
children_ticks() { awk '{ print $16 + $17 }' "/proc/$POSTMASTER/stat"; }

run_one() { # side level -> "tps claimed"
    local side=$1 level=$2 tmpl script db=oq_run
    case $side in
        anchor) tmpl=oq_tmpl_anchor script=claim_next_anchor ;;
        single) tmpl=oq_tmpl_slotguard script=claim_next_order ;;
        batch) tmpl=oq_tmpl_slotguard script=claim_next_orders ;;
    esac
    $PSQL -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE $tmpl STRATEGY FILE_COPY"
    local out before after
    before=$(children_ticks)
    out=$(PGOPTIONS="-c default_transaction_isolation=${level// /\\ }" "$PG_BINDIR/pgbench" -n -M prepared \
        -c "$CLIENTS" -j 2 -T "$SECONDS_" --max-tries=1000 -f "$BENCH/workloads/$script.sql" "$db" 2>&1)
    sleep 0.5  # the backends exit and are reaped
    after=$(children_ticks)
    local tps claimed
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
    claimed=$($PSQL -d "$db" -At -c "SELECT claimed || ' ' || distinct_claimed FROM bench_claimed")
    [[ ${claimed%% *} == "${claimed##* }" ]] || echo "WARNING: $side claimed $claimed (not distinct)" >&2
    grep -q "aborted" <<<"$out" && grep "aborted\|failed" <<<"$out" >&2
    echo "$tps ${claimed%% *} $(awk -v t=$((after - before)) -v hz="$HZ" -v c="${claimed%% *}" 'BEGIN { printf "%.1f", t * 1e6 / hz / c }')"
}

printf 'level\tround\tside\ttps\tclaimed\tclaims_per_s\tcpu_us_per_claim\n'
sides=(anchor single batch)
for level in "${levels[@]}"; do
    for ((r = 1; r <= ROUNDS; r++)); do
        declare -A rate=() cpu=()
        for ((k = 0; k < 3; k++)); do
            side=${sides[$(((k + r - 1) % 3))]}
            read -r tps claimed cpu_us < <(run_one "$side" "$level")
            cpu[$side]=$cpu_us
            rate[$side]=$(awk -v c="$claimed" -v s="$SECONDS_" 'BEGIN { printf "%.0f", c / s }')
            printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$level" "$r" "$side" "$tps" "$claimed" "${rate[$side]}" "$cpu_us"
        done
        awk -v l="$level" -v r="$r" -v a="${rate[anchor]}" -v s="${rate[single]}" -v b="${rate[batch]}" \
            -v ca="${cpu[anchor]}" -v cs="${cpu[single]}" -v cb="${cpu[batch]}" \
            'BEGIN { printf "# %s round %d: single/anchor %.2f, batch/single %.2f; cpu per claim anchor/single %.2f, single/batch %.2f\n", l, r, s / a, b / s, ca / cs, cs / cb }'
        unset rate cpu
    done
done
$PSQL -d postgres -c "DROP DATABASE IF EXISTS oq_run" -c "DROP DATABASE oq_tmpl_anchor" -c "DROP DATABASE oq_tmpl_slotguard"
