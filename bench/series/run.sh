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
SECONDS_EACH=${SECONDS_EACH:-5}
ROUNDS=${ROUNDS:-5}
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
# Per round, each contender right after its anchor; a ratio per round, the
# median of those (slow swings of the shared machine's load cancel out).
RS= RO= RA=
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
for ((i = 0; i < ROUNDS; i++)); do
    st=$(tps singles_10_statements.sql 1); ser=$(tps series_10.sql 1); one=$(tps singles_10_one_statement.sql 1)
    R[singles_10_statements.sql]+=" $st" R[series_10.sql]+=" $ser" R[singles_10_one_statement.sql]+=" $one"
    RS+=" $(ratio "$st" "$ser")" RO+=" $(ratio "$one" "$ser")"
    loop=$(tps any_try_each.sql 8); any=$(tps any_book_any.sql 8)
    R[any_try_each.sql]+=" $loop" R[any_book_any.sql]+=" $any"
    RA+=" $(ratio "$loop" "$any")"
done
load=$(cut -d' ' -f1 /proc/loadavg)
m() { median ${R[$1]}; }
r() { printf '%.2f' "$(median $1)"; }
cat <<MD
| workload | clients | TPS, median of $ROUNDS × ${SECONDS_EACH} s | TPS of each run | time per call vs anchor (median of the per-round ratios) |
|---|---:|---:|---|---:|
| book_series, 10 weekly occurrences | 1 | $(m series_10.sql) | ${R[series_10.sql]} | $(r "$RS") × the 10-statement transaction; $(r "$RO") × the one-statement one |
| 10 × book_slot, 10 statements, one transaction (anchor) | 1 | $(m singles_10_statements.sql) | ${R[singles_10_statements.sql]} | 1 |
| 10 × book_slot, one statement, one transaction (anchor) | 1 | $(m singles_10_one_statement.sql) | ${R[singles_10_one_statement.sql]} | 1 |
| book_any over 10 resources (3 taken) | 8 | $(m any_book_any.sql) | ${R[any_book_any.sql]} | $(r "$RA") × the loop |
| try_book_slot each in turn (anchor) | 8 | $(m any_try_each.sql) | ${R[any_try_each.sql]} | 1 |

Per-round ratios: series/10 statements ${RS}; series/one statement ${RO}; book_any/loop ${RA}.
Load average at the end: $load (2 cores, shared with other work).
MD
