#!/usr/bin/env bash
# Per-day limits on series and free_slots (BENCHMARKS.md, "Per-day limits
# on series and groups"): two resources in Europe/Berlin, one without and
# one with max_per_day / max_per_holder_per_day set high enough never to
# refuse; ROUNDS (8) alternating rounds of book_series (COUNT, 200
# occurrences) and free_slots over a month; prints each side's median
# wall-clock milliseconds and the ratio.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/test/lib/cluster.sh"
ROUNDS=${ROUNDS:-8} COUNT=${COUNT:-200}
cluster_start "log_min_messages = warning"
cluster_psql -q -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION slotguard CASCADE'
cluster_psql -q -o /dev/null -c "SELECT slotguard.set_policy('plain', 'Europe/Berlin')" \
    -c "SELECT slotguard.set_policy('lim', 'Europe/Berlin', max_per_day => 50, max_per_holder_per_day => 50)"
timed() { # sql
    printf '\\timing on\n%s\n' "$1" | cluster_psql -At | grep -oE '[0-9.]+ ms' | head -1 | cut -d' ' -f1
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -A series free
for ((round = 1; round <= ROUNDS; round++)); do
    for r in plain lim; do
        series[$r]+="$(timed "SELECT count(*) FROM slotguard.book_series('$r', tstzrange(timestamptz '2030-01-01 06:00+01' + interval '$round hours', timestamptz '2030-01-01 06:30+01' + interval '$round hours'), 'FREQ=DAILY;COUNT=$COUNT', holder => 'h');")"$'\n'
        free[$r]+="$(timed "SELECT count(*) FROM slotguard.free_slots('$r', '[2030-01-01, 2030-02-01)', '15 minutes');")"$'\n'
    done
done
for what in series free; do
    declare -n m=$what
    p=$(printf '%s' "${m[plain]}" | median) l=$(printf '%s' "${m[lim]}" | median)
    printf '%-7s without limits %8.1f ms  with limits %8.1f ms  cost %.2fx\n' "$what" "$p" "$l" "$(echo "$l / $p" | bc -l)"
done
