#!/usr/bin/env bash
# Series and groups benchmark (API.md §11), own throwaway cluster:
#   1. a 10-occurrence series (book_series) vs the same 10 bookings as
#      book_slot calls in one transaction (10 statements, and 1 statement),
#      1 client;
#   2. book_any over 10 resources vs a hand-written "try each in turn" loop
#      (try_book_slot per resource until one is free), 8 clients, three of the ten
#      taken in every hour (30%).
# Runs alternate (A B A B ...) ROUNDS times, SECONDS each; ratios are of
# medians measured in the same run. Prints a Markdown section.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/series
source "$ROOT/test/lib/cluster.sh"
SECONDS_EACH=${SECONDS_EACH:-8}
ROUNDS=${ROUNDS:-3}
cluster_start "fsync = off" "synchronous_commit = off" "shared_buffers = 256MB" "log_min_messages = warning" "max_connections = 50"
cluster_psql -q -f "$HERE/setup.sql" >/dev/null

tps() { # script clients -> TPS (excluding connection time); every run starts from the setup's rows
    local out
    cluster_psql -q -c "DELETE FROM slotguard.booking WHERE id > (SELECT last_setup_id FROM bench_setup)" -c "VACUUM slotguard.booking" >/dev/null
    out=$("$PG_BINDIR/pgbench" -n -M prepared -c "$2" -j "$2" -T "$SECONDS_EACH" -f "$HERE/$1" 2>&1) || { echo "$out" >&2; return 1; }
    if grep -qE "aborted|failed transactions: [1-9]" <<<"$out"; then echo "$out" >&2; return 1; fi
    sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A R
for ((i = 0; i < ROUNDS; i++)); do
    for s in series_10.sql singles_10_statements.sql singles_10_one_statement.sql; do R[$s]+=" $(tps $s 1)"; done
    for s in any_book_any.sql any_try_each.sql; do R[$s]+=" $(tps $s 8)"; done
done
load=$(cut -d' ' -f1 /proc/loadavg)
m() { median ${R[$1]}; }
ser=$(m series_10.sql) st=$(m singles_10_statements.sql) one=$(m singles_10_one_statement.sql)
any=$(m any_book_any.sql) loop=$(m any_try_each.sql)
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<MD
| workload | clients | TPS (median of $ROUNDS × ${SECONDS_EACH} s) | runs | time per call vs anchor |
|---|---:|---:|---|---:|
| book_series, 10 weekly occurrences | 1 | $ser | ${R[series_10.sql]} | $(r "$st" "$ser") × the 10-statement loop, $(r "$one" "$ser") × the one-statement loop |
| 10 × book_slot, 10 statements, one transaction (anchor) | 1 | $st | ${R[singles_10_statements.sql]} | 1.00 |
| 10 × book_slot, one statement (anchor) | 1 | $one | ${R[singles_10_one_statement.sql]} | 1.00 |
| book_any over 10 resources (3 taken) | 8 | $any | ${R[any_book_any.sql]} | $(r "$loop" "$any") × the loop |
| try_book_slot each in turn (anchor) | 8 | $loop | ${R[any_try_each.sql]} | 1.00 |

Load average at the end: $load (2 cores, shared with other work).
MD
