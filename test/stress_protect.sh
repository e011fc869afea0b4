#!/usr/bin/env bash
# Stress test of slotguard.protect() (API.md §5, §7): the capacity invariant
# holds on the application's OWN tables under concurrent plain INSERT,
# UPDATE and DELETE, at READ COMMITTED, REPEATABLE READ and SERIALIZABLE.
#
# Three application tables, protected with capacity 1, 2 and 3: a row is
# (room, starts_at, minutes, seats, status); it is active when status is
# 'booked' or 'confirmed' and blocks [starts_at, starts_at + minutes) of its
# room. For each isolation level, SESSIONS psql sessions (default 8) each run
# OPS (default 600) random one-statement transactions at once (a quarter of
# them kept open a few milliseconds after the write), all inside one day on a
# 15-minute grid so that they collide a lot:
#   insert   a new row (some of them cancelled from the start)
#   cancel   / reactivate a random row of the level (status change)
#   move     a random row to another start, length or room
#   seats    change a random row's seats
#   delete   a random row
# Every error's SQLSTATE is checked: only 23P01 (conflict) and 40001
# (serialization failure, REPEATABLE READ / SERIALIZABLE) may surface. A
# deadlock (40P01), any other error, a lost connection or a crashed backend
# fails the test. While the sessions run a checker samples the invariant,
# computed from the application's tables themselves; afterwards it is
# checked exactly, and the guard's entries must match the active rows one
# for one. Passes only with 0 violations and some successes and some
# conflicts per level.
#
# Own throwaway cluster (test/lib/cluster.sh). SEED=n replays the same ops.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=test/lib/cluster.sh
source "$ROOT/test/lib/cluster.sh"
source "$ROOT/test/lib/stress.sh"

SESSIONS=${SESSIONS:-8}
OPS=${OPS:-600}
SEED=${SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((SEED % 32768)) # bash's generator: same seed, same ops
LEVELS=("READ COMMITTED" "REPEATABLE READ" "SERIALIZABLE")
CAPS=(1 2 3) # table st_capN has capacity N
ROOMS=4

echo "stress_protect: $SESSIONS sessions x $OPS ops x ${#LEVELS[@]} isolation levels, seed $SEED"
cluster_start "log_min_messages = log" "log_min_error_statement = panic" "max_locks_per_transaction = 256"
WORK=$CLUSTER_DIR/stress
mkdir -p "$WORK"

cluster_psql -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION slotguard CASCADE'
for cap in "${CAPS[@]}"; do
    cluster_psql -o /dev/null <<SQL
CREATE TABLE st_cap$cap (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tag       text NOT NULL,          -- isolation level that wrote it
    room      int NOT NULL,
    starts_at timestamptz NOT NULL,
    minutes   int NOT NULL,
    seats     int NOT NULL,
    status    text NOT NULL
);
SELECT slotguard.protect('st_cap$cap', resource => 'room',
    during => \$\$tstzrange(starts_at, starts_at + make_interval(mins => minutes))\$\$,
    active => \$\$status IN ('booked', 'confirmed')\$\$,
    capacity => $cap, seats => 'seats');
SQL
done

# Instants where active rows of the application's tables overbook a room,
# computed from the tables alone. $1 narrows to some rows.
invariant_sql() {
    local parts=() cap
    for cap in "${CAPS[@]}"; do
        parts+=("SELECT 'st_cap$cap' AS tbl, $cap AS capacity, id, room, seats,
                        tstzrange(starts_at, starts_at + make_interval(mins => minutes)) AS during
                 FROM st_cap$cap WHERE status IN ('booked', 'confirmed') AND ${1:-true}")
    done
    local IFS=$'\n'
    cat <<SQL
WITH active AS (
$(printf '%s\nUNION ALL\n' "${parts[@]}" | sed '$d')
)
-- The peak load of half-open ranges is reached at some range's lower bound.
, instants AS (SELECT DISTINCT tbl, capacity, room, lower(during) AS instant FROM active)
SELECT i.tbl, i.room, i.instant, sum(a.seats) AS seats, i.capacity, array_agg(a.id ORDER BY a.id) AS rows
FROM instants i JOIN active a ON a.tbl = i.tbl AND a.room = i.room AND a.during @> i.instant
GROUP BY i.tbl, i.room, i.instant, i.capacity
HAVING sum(a.seats) > i.capacity
ORDER BY 1, 2, 3
SQL
}

# Entries that do not match the active rows one for one (missing, extra or
# different), per table.
entries_sql() {
    local parts=() cap
    for cap in "${CAPS[@]}"; do
        parts+=("SELECT 'st_cap$cap' AS tbl, x.* FROM (
            (SELECT id::text, room::text, tstzrange(starts_at, starts_at + make_interval(mins => minutes)), seats
             FROM st_cap$cap WHERE status IN ('booked', 'confirmed')
             EXCEPT ALL
             SELECT e.row_key, split_part(e.entry_key, '/', 2), e.blocked, e.seats
             FROM slotguard.guard_entry e JOIN slotguard.guard g ON g.id = e.guard_id WHERE g.tbl = 'st_cap$cap'::regclass)
            UNION ALL
            (SELECT e.row_key, split_part(e.entry_key, '/', 2), e.blocked, e.seats
             FROM slotguard.guard_entry e JOIN slotguard.guard g ON g.id = e.guard_id WHERE g.tbl = 'st_cap$cap'::regclass
             EXCEPT ALL
             SELECT id::text, room::text, tstzrange(starts_at, starts_at + make_interval(mins => minutes)), seats
             FROM st_cap$cap WHERE status IN ('booked', 'confirmed'))) AS x")
    done
    printf '%s\nUNION ALL\n' "${parts[@]}" | sed '$d'
}

# One op per line, so psql's "file:LINE: ERROR" tells which op failed.
gen_ops() { # file level day tag
    local file=$1 level=$2 day=$3 tag=$4 i p t cap room from len seats status pick
    {
        echo '\set VERBOSITY verbose'
        echo '\set SHOW_CONTEXT never'
        for ((i = 0; i < OPS; i++)); do
            t=$((RANDOM % ${#CAPS[@]})) cap=${CAPS[t]}
            room=$((RANDOM % ROOMS + 1)) p=$((RANDOM % 100))
            from=$(((RANDOM % 64) * 15)) len=$(((RANDOM % 7 + 2) * 15)) seats=$((RANDOM % cap + 1))
            local start="timestamptz '$day 06:00+00' + interval '$from minutes'"
            pick="(SELECT id FROM st_cap$cap WHERE tag = '$tag' ORDER BY random() LIMIT 1)"
            local stmt op
            if ((p < 45)); then
                status=booked
                ((RANDOM % 10 == 0)) && status=cancelled
                ((RANDOM % 3 == 0)) && status=confirmed
                stmt="INSERT INTO st_cap$cap (tag, room, starts_at, minutes, seats, status) VALUES ('$tag', $room, $start, $len, $seats, '$status')"
                op=insert
            elif ((p < 57)); then
                stmt="UPDATE st_cap$cap SET status = 'cancelled' WHERE id = $pick"
                op=cancel
            elif ((p < 72)); then
                stmt="UPDATE st_cap$cap SET status = 'booked' WHERE id = $pick"
                op=reactivate
            elif ((p < 85)); then
                stmt="UPDATE st_cap$cap SET starts_at = $start, minutes = $len, room = $room WHERE id = $pick"
                op=move
            elif ((p < 92)); then
                stmt="UPDATE st_cap$cap SET seats = $seats WHERE id = $pick"
                op=seats
            else
                stmt="DELETE FROM st_cap$cap WHERE id = $pick"
                op=delete
            fi
            # A quarter of the transactions stay open a moment after their
            # write, so that others find their rows pending and must wait
            # for them, or back out (docs/concurrency.md).
            local linger=""
            ((RANDOM % 4 == 0)) && linger=" SELECT pg_sleep(0.00$((RANDOM % 3 + 1)));"
            echo "BEGIN ISOLATION LEVEL $level; $stmt;$linger COMMIT; -- op:$op"
        done
    } >"$file"
}

failures=0
total_ops=0 total_rows=0 total_conflicts=0 total_40001=0 total_violations=0
fail() {
    echo "  FAIL: $*"
    failures=$((failures + 1))
}

INVARIANT_ALL=$(invariant_sql)
ENTRIES_ALL=$(entries_sql)
started=$SECONDS
for li in "${!LEVELS[@]}"; do
    level=${LEVELS[li]}
    tag="L$li"
    day=$(date -u -d "2031-05-05 + $((li * 7)) days" +%F)
    echo
    echo "== $level (rows on $day)"
    for s in $(seq 1 "$SESSIONS"); do
        gen_ops "$WORK/$tag-s$s.sql" "$level" "$day" "$tag"
    done

    level_sql=$(invariant_sql "tag = '$tag'")
    run_sessions "$WORK" "$tag" "$SESSIONS" "$level_sql"
    took=$TOOK live_checks=$LIVE_CHECKS psql_failed=$PSQL_FAILED

    n_conflict=0 n_40001=0 bad=0
    for s in $(seq 1 "$SESSIONS"); do
        sql=$WORK/$tag-s$s.sql err=$WORK/$tag-s$s.err
        mapfile -t sql_lines <"$sql"
        while IFS=: read -r line state; do
            op=${sql_lines[line - 1]##*-- op:}
            case "$state" in
                23P01) n_conflict=$((n_conflict + 1)) ;;
                40001) n_40001=$((n_40001 + 1)) ;;
                *)
                    bad=$((bad + 1))
                    if ((bad <= 5)); then
                        echo "  unexpected SQLSTATE $state on ${op:-?} (session $s, line $line):"
                        awk -v at="sql:$line: ERROR" 'index($0, at) { p = 1; print "    | " $0; next }
                            /^psql:/ { p = 0 } p && !/^LOCATION:/ { print "    | " $0 }' "$err"
                    fi
                    ;;
            esac
        # The first error of a line is the op's; a lingering transaction's
        # pg_sleep then only reports 25P02 (transaction aborted).
        done < <(sed -nE 's/^psql:[^:]*:([0-9]+): ERROR:  ([0-9A-Z]{5}): .*/\1:\2/p' "$err" | awk -F: '!seen[$1]++')
        if grep -qE 'server closed the connection|connection to server was lost|terminating connection|FATAL|PANIC' "$err"; then
            fail "session $s lost its connection:"
            grep -E 'server closed|connection to server|terminating|FATAL|PANIC' "$err" | head -n 3 | sed 's/^/    | /' || true
        fi
    done
    rows=$(cluster_psql -At -c "SELECT sum(n) FROM (
        SELECT count(*) AS n FROM st_cap1 WHERE tag = '$tag' UNION ALL
        SELECT count(*) FROM st_cap2 WHERE tag = '$tag' UNION ALL
        SELECT count(*) FROM st_cap3 WHERE tag = '$tag') c")
    active=$(cluster_psql -At -c "SELECT sum(n) FROM (
        SELECT count(*) AS n FROM st_cap1 WHERE tag = '$tag' AND status IN ('booked', 'confirmed') UNION ALL
        SELECT count(*) FROM st_cap2 WHERE tag = '$tag' AND status IN ('booked', 'confirmed') UNION ALL
        SELECT count(*) FROM st_cap3 WHERE tag = '$tag' AND status IN ('booked', 'confirmed')) c")
    live_violations=$(grep -c . "$WORK/$tag-live.out" || true)
    violations=$(cluster_psql -At -c "SELECT count(*) FROM ($level_sql) v")
    ops=$((SESSIONS * OPS))

    printf '  ops run %d in %ds, rows %d (%d active), conflicts (23P01) %d, 40001s %d, unexpected %d,\n' \
        "$ops" "$took" "$rows" "$active" "$n_conflict" "$n_40001" "$bad"
    printf '  violations: %d at the end, %d seen by %d live checks\n' \
        "$violations" "$live_violations" "$live_checks"

    ((bad == 0)) || fail "$bad errors with an unexpected SQLSTATE"
    ((psql_failed == 0)) || fail "$psql_failed psql sessions exited non-zero"
    if ((violations > 0 || live_violations > 0)); then
        fail "the capacity invariant is broken:"
        cluster_psql -c "$level_sql" | head -n 20 | sed 's/^/    | /' || true
        head -n 10 "$WORK/$tag-live.out" | sed 's/^/    live| /'
    fi
    ((active > 0)) || fail "no row is active: nothing was tested"
    ((n_conflict > 0)) || fail "no conflict happened: the load did not collide"

    total_ops=$((total_ops + ops)) total_rows=$((total_rows + rows))
    total_conflicts=$((total_conflicts + n_conflict)) total_40001=$((total_40001 + n_40001))
    total_violations=$((total_violations + violations + live_violations))
done

# All levels together, once more, with no session running; and the guard's
# bookkeeping: one entry per active row, equal to what the row computes.
all_violations=$(cluster_psql -At -c "SELECT count(*) FROM ($INVARIANT_ALL) v")
if ((all_violations > 0)); then
    fail "$all_violations violations over all levels together"
    total_violations=$((total_violations + all_violations))
fi
mismatched=$(cluster_psql -At -c "SELECT count(*) FROM ($ENTRIES_ALL) m")
if ((mismatched > 0)); then
    fail "$mismatched guard entries do not match the active rows:"
    cluster_psql -c "$ENTRIES_ALL" | head -n 20 | sed 's/^/    | /' || true
fi

if grep -qE 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG"; then
    fail "the server log shows a crashed backend:"
    grep -E 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG" | head -n 5 | sed 's/^/    | /' || true
fi

echo
echo "stress_protect: ops run $total_ops in $((SECONDS - started))s, rows $total_rows, conflicts $total_conflicts," \
    "40001s $total_40001, violations $total_violations, entry mismatches $mismatched (seed $SEED)"
if ((failures > 0)); then
    echo "stress_protect: FAILED ($failures problems)"
    exit 1
fi
echo "stress_protect: OK"
