#!/usr/bin/env bash
# Stress test of series and groups (API.md §11, §7): book_series,
# book_together, book_any, cancel_series and assign_any_workers mixed with
# single book_slot / cancel_booking calls, under READ COMMITTED, REPEATABLE
# READ and SERIALIZABLE. After each level: the capacity invariant (every
# resource, every instant, seats of active bookings <= capacity), the worker
# rule (no worker on two overlapping active bookings), every series and group
# whole as written (all its rows, or - after cancel_series - a cancelled
# tail), and no caller ever saw 40P01.
#
# For each level SESSIONS psql sessions (default 8) each run OPS (default
# 300) random one-call transactions on six resources of capacity 1-2 (some
# with buffers) inside one week, so sets cross a lot:
#   series   (20%) book_series, DAILY COUNT 2-4 or WEEKLY COUNT 2, random order of days
#   together (20%) book_together on 2-3 resources in random order
#   any      (15%) book_any over all six, count 1-2
#   book     (20%) book_slot
#   cancel   (10%) cancel_booking of a live booking
#   cancel_series (8%) cancel_series, half of them "this and following"
#   workers  (7%)  assign_any_workers from a pool of four, count 1-2
# Allowed errors: 23P01 (conflict), 40001 (REPEATABLE READ/SERIALIZABLE),
# 55000 "booking N is cancelled" (assign_any_workers on a booking cancelled
# meanwhile). Anything else - 40P01 included - fails.
#
# Own throwaway cluster (test/lib/cluster.sh). SEED=n replays the same ops.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=test/lib/cluster.sh
source "$ROOT/test/lib/cluster.sh"
source "$ROOT/test/lib/stress.sh"

SESSIONS=${SESSIONS:-8}
OPS=${OPS:-300}
SEED=${SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((SEED % 32768))
IFS=, read -ra LEVELS <<<"${LEVELS:-READ COMMITTED,REPEATABLE READ,SERIALIZABLE}"
RES_CAP=(1 1 2 1 2 1)
RES_AFTER=(0 10 0 0 15 0)
WORKERS=(w1 w2 w3 w4)

echo "stress_series: $SESSIONS sessions x $OPS ops x ${#LEVELS[@]} isolation levels, seed $SEED"
cluster_start "fsync = off" "log_min_messages = log" "log_min_error_statement = panic"
WORK=$CLUSTER_DIR/stress
mkdir -p "$WORK"
cluster_psql -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION slotguard CASCADE'
for i in "${!RES_CAP[@]}"; do
    cluster_psql -o /dev/null -c "SELECT slotguard.upsert_resource('r$i', ${RES_CAP[i]}, buffer_after => '${RES_AFTER[i]} minutes')"
done

invariant_sql() {
    cat <<SQL
WITH active AS (
    SELECT b.id, b.resource_key, b.seats, r.capacity,
           tstzrange(lower(b.during) - r.buffer_before, upper(b.during) + r.buffer_after, '[)') AS blocked
    FROM slotguard.booking b JOIN slotguard.resource r ON r.key = b.resource_key
    WHERE (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now())) AND ${1:-true}
), instants AS (SELECT DISTINCT resource_key, capacity, lower(blocked) AS instant FROM active)
SELECT i.resource_key, i.instant, sum(a.seats) AS seats, i.capacity, array_agg(a.id ORDER BY a.id) AS bookings
FROM instants i JOIN active a ON a.resource_key = i.resource_key AND a.blocked @> i.instant
GROUP BY i.resource_key, i.instant, i.capacity HAVING sum(a.seats) > i.capacity
SQL
}
workers_sql() {
    cat <<SQL
SELECT a1.worker, a1.booking_id, a2.booking_id
FROM slotguard.assignment a1
JOIN slotguard.assignment a2 ON a2.worker = a1.worker AND a1.booking_id < a2.booking_id
JOIN slotguard.booking b1 ON b1.id = a1.booking_id
JOIN slotguard.booking b2 ON b2.id = a2.booking_id
WHERE a1.status = 'active' AND a2.status = 'active'
  AND b1.status <> 'cancelled' AND b2.status <> 'cancelled' AND b1.during && b2.during AND ${1:-true}
SQL
}
# Sets that are not whole: a group (book_together / book_any) with rows of
# different ranges, a series whose size is not what its metadata asked for,
# or one with a live occurrence after a cancelled one of "this and following"
# (cancel_booking of single occurrences is excluded: those carry no mark).
broken_sets_sql() {
    cat <<SQL
SELECT 'group ' || group_id FROM slotguard.booking WHERE group_id IS NOT NULL AND ${1:-true}
GROUP BY group_id HAVING count(DISTINCT during) > 1 OR count(*) <> min((metadata->>'n')::int)
UNION ALL
SELECT 'series ' || series_id FROM slotguard.booking WHERE series_id IS NOT NULL AND ${1:-true}
GROUP BY series_id HAVING count(*) <> min((metadata->>'n')::int)
SQL
}

rand_range() { # day-offset within the week, 15-minute grid, 30-120 minutes
    local day=$1 from=$(((RANDOM % 32) * 15)) len=$(((RANDOM % 4 + 2) * 15))
    RANGE="tstzrange(timestamptz '$WEEK 08:00+00' + interval '$day days $from minutes', timestamptz '$WEEK 08:00+00' + interval '$day days $((from + len)) minutes', '[)')"
}
rand_set() { # RSET := 2-3 distinct resources in random order as text[]
    local n=$((RANDOM % 2 + 2)) pool=(0 1 2 3 4 5) i j tmp picked=()
    for ((i = 5; i > 0; i--)); do j=$((RANDOM % (i + 1))); tmp=${pool[i]} pool[i]=${pool[j]} pool[j]=$tmp; done
    for ((i = 0; i < n; i++)); do picked+=("'r${pool[i]}'"); done
    local IFS=,
    RSET="ARRAY[${picked[*]}]::text[]"
    RSET_N=$n
}

gen_ops() { # file level tag
    local file=$1 level=$2 tag=$3 i p n live
    live="(SELECT id FROM slotguard.booking WHERE holder = '$tag' AND status <> 'cancelled' ORDER BY random() LIMIT 1) AS pick"
    {
        echo '\set VERBOSITY verbose'
        echo '\set SHOW_CONTEXT never'
        for ((i = 0; i < OPS; i++)); do
            p=$((RANDOM % 100))
            echo -n "BEGIN ISOLATION LEVEL $level; "
            if ((p < 20)); then
                rand_range $((RANDOM % 3))
                if ((RANDOM % 2)); then n=$((RANDOM % 3 + 2)); rule="FREQ=DAILY;COUNT=$n"; else n=2; rule="FREQ=WEEKLY;COUNT=2"; fi
                echo "SELECT count(*) FROM slotguard.book_series('r$((RANDOM % 6))', $RANGE, '$rule', holder => '$tag', metadata => '{\"n\": $n}'); COMMIT; -- op:series"
            elif ((p < 40)); then
                rand_range $((RANDOM % 7)); rand_set
                echo "SELECT count(*) FROM slotguard.book_together($RSET, $RANGE, holder => '$tag', metadata => '{\"n\": $RSET_N}'); COMMIT; -- op:together"
            elif ((p < 55)); then
                rand_range $((RANDOM % 7)); n=$((RANDOM % 2 + 1))
                echo "SELECT count(*) FROM slotguard.book_any(ARRAY['r0','r1','r2','r3','r4','r5'], $RANGE, $n, holder => '$tag', metadata => '{\"n\": $n}'); COMMIT; -- op:any"
            elif ((p < 75)); then
                rand_range $((RANDOM % 7))
                echo "SELECT (slotguard.book_slot('r$((RANDOM % 6))', $RANGE, holder => '$tag')).id; COMMIT; -- op:book"
            elif ((p < 85)); then
                echo "SELECT (slotguard.cancel_booking(pick.id)).id FROM (SELECT id FROM slotguard.booking WHERE holder = '$tag' AND status <> 'cancelled' AND series_id IS NULL AND group_id IS NULL ORDER BY random() LIMIT 1) AS pick; COMMIT; -- op:cancel"
            elif ((p < 93)); then
                if ((RANDOM % 2)); then from="NULL"; else from="timestamptz '$WEEK 00:00+00' + interval '$((RANDOM % 8)) days'"; fi
                echo "SELECT count(c.*) FROM (SELECT series_id FROM slotguard.booking WHERE holder = '$tag' AND series_id IS NOT NULL ORDER BY random() LIMIT 1) AS pick, LATERAL slotguard.cancel_series(pick.series_id, $from) AS c; COMMIT; -- op:cancel_series"
            else
                echo "SELECT count(a.*) FROM $live, LATERAL slotguard.assign_any_workers(pick.id, ARRAY['w1','w2','w3','w4'], $((RANDOM % 2 + 1)), '$tag') AS a; COMMIT; -- op:workers"
            fi
        done
    } >"$file"
}

failures=0 total_ops=0 total_made=0 total_conflicts=0 total_violations=0
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }

for li in "${!LEVELS[@]}"; do
    level=${LEVELS[li]}
    tag="L$li"
    WEEK=$(date -u -d "2031-06-02 + $((li * 14)) days" +%F)
    echo
    echo "== $level (week of $WEEK)"
    for s in $(seq 1 "$SESSIONS"); do gen_ops "$WORK/$tag-s$s.sql" "$level" "$tag"; done
    cond="b.holder = '$tag'"
    run_sessions "$WORK" "$tag" "$SESSIONS" "$(invariant_sql "$cond")"
    took=$TOOK live_checks=$LIVE_CHECKS psql_failed=$PSQL_FAILED

    n_conflict=0 n_40001=0 n_55000=0 n_40P01=0 bad=0
    for s in $(seq 1 "$SESSIONS"); do
        sql=$WORK/$tag-s$s.sql err=$WORK/$tag-s$s.err
        mapfile -t sql_lines <"$sql"
        while IFS=: read -r line state msg; do
            op=${sql_lines[line - 1]##*-- op:}
            case "$state/$op" in
                23P01/*) n_conflict=$((n_conflict + 1)) ;;
                40001/*)
                    if [[ $level == "READ COMMITTED" ]]; then bad=$((bad + 1)); echo "  unexpected 40001 on $op"; else n_40001=$((n_40001 + 1)); fi ;;
                55000/workers)
                    if [[ $msg == *"is cancelled"* ]]; then n_55000=$((n_55000 + 1)); else bad=$((bad + 1)); echo "  unexpected 55000 on $op: $msg"; fi ;;
                *)
                    [[ $state == 40P01 ]] && n_40P01=$((n_40P01 + 1))
                    bad=$((bad + 1))
                    ((bad <= 5)) && echo "  unexpected SQLSTATE $state on $op (session $s, line $line): $msg"
                    ;;
            esac
        done < <(sed -nE 's/^psql:[^:]*:([0-9]+): ERROR:  ([0-9A-Z]{5}): (.*)/\1:\2:\3/p' "$err")
        if grep -qE 'server closed the connection|connection to server was lost|FATAL|PANIC' "$err"; then
            fail "session $s lost its connection"
        fi
    done
    read -r made series groups <<<"$(cluster_psql -At -F ' ' -c "
        SELECT count(*), count(DISTINCT series_id), count(DISTINCT group_id) FROM slotguard.booking b WHERE $cond")"
    live_violations=$(grep -c . "$WORK/$tag-live.out" || true)
    violations=$(cluster_psql -At -c "SELECT count(*) FROM ($(invariant_sql "$cond")) v")
    worker_violations=$(cluster_psql -At -c "SELECT count(*) FROM ($(workers_sql "b1.holder = '$tag'")) v")
    broken=$(cluster_psql -At -c "SELECT count(*) FROM ($(broken_sets_sql "holder = '$tag'")) v")
    printf '  ops %d in %ds; bookings %d (series %d, groups %d)\n' $((SESSIONS * OPS)) "$took" "$made" "$series" "$groups"
    printf '  conflicts (23P01) %d, 40001s %d, 55000s %d, 40P01s %d, unexpected %d\n' "$n_conflict" "$n_40001" "$n_55000" "$n_40P01" "$bad"
    printf '  violations: capacity %d (%d live, %d checks), workers %d, broken sets %d\n' \
        "$violations" "$live_violations" "$live_checks" "$worker_violations" "$broken"
    ((bad == 0)) || fail "$bad errors with an unexpected SQLSTATE"
    ((n_40P01 == 0)) || fail "$n_40P01 deadlocks (40P01) reached a caller"
    ((psql_failed == 0)) || fail "$psql_failed psql sessions exited non-zero"
    ((violations == 0 && live_violations == 0)) || { fail "capacity invariant broken"; cluster_psql -c "$(invariant_sql "$cond")" | head -n 10; }
    ((worker_violations == 0)) || fail "a worker is on two overlapping active bookings"
    ((broken == 0)) || { fail "sets not whole"; cluster_psql -c "$(broken_sets_sql "holder = '$tag'")" | head; }
    ((series > 0 && groups > 0)) || fail "no series or no group was booked: nothing was tested"
    ((n_conflict > 0)) || fail "nothing was refused: the load did not collide"
    total_ops=$((total_ops + SESSIONS * OPS)) total_made=$((total_made + made))
    total_conflicts=$((total_conflicts + n_conflict))
    total_violations=$((total_violations + violations + live_violations + worker_violations + broken))
done

if grep -qE 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG"; then
    fail "the server log shows a crashed backend"
    grep -E 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG" | head -n 5 | sed 's/^/    | /' || true
fi
echo
echo "stress_series: ops $total_ops, bookings $total_made, conflicts $total_conflicts, violations $total_violations (seed $SEED)"
if ((failures > 0)); then
    echo "stress_series: FAILED ($failures problems)"
    exit 1
fi
echo "stress_series: OK"
