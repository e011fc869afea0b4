#!/usr/bin/env bash
# Stress test of the booking invariant (API.md §1, §7): for every resource
# and every instant, the seats of active bookings whose blocked range (during
# widened by the resource's buffers) covers that instant sum to at most the
# resource's capacity — under READ COMMITTED, REPEATABLE READ and SERIALIZABLE.
#
# For each isolation level, SESSIONS psql sessions (default 8) each run OPS
# (default 300) random one-statement transactions at once: book_slot (some as
# holds of 1 second or 1 hour), cancel_booking and reschedule_booking of an
# existing booking, all on six resources of capacity 1-3 (some with buffers)
# inside one day on a 15-minute grid, so they collide a lot. Errors do not stop
# a session; every error's SQLSTATE is checked:
#   23P01  conflict                        (book, reschedule)
#   40001  serialization failure           (any op, REPEATABLE READ/SERIALIZABLE)
#   55000  booking cancelled or its hold   (reschedule only: the booking was
#          expired meanwhile                picked, then another session
#                                           cancelled it or its hold ran out)
# Anything else (40P01 deadlock included: §7 says callers never see one), a
# lost connection, or a crashed backend fails the test. While the sessions run
# a checker samples the invariant; afterwards it is checked exactly.
# Passes only with 0 violations, and some bookings and some conflicts per
# level (so the test can tell a broken guard from an idle one).
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
RANDOM=$((SEED % 32768)) # bash's generator: same seed, same ops
LEVELS=("READ COMMITTED" "REPEATABLE READ" "SERIALIZABLE")

# Resource: capacity, buffer_before, buffer_after.
RES_CAP=(0 1 1 2 2 3 3)
RES_BB=(0 0 10 0 0 10 5)
RES_BA=(0 0 10 0 15 0 20)

echo "stress_bookings: $SESSIONS sessions x $OPS ops x ${#LEVELS[@]} isolation levels, seed $SEED"
# Expected errors by the thousand: keep them out of the server log (LOG,
# FATAL and PANIC, where crashes show, are still written).
cluster_start "log_min_messages = log" "log_min_error_statement = panic"
WORK=$CLUSTER_DIR/stress # removed together with the cluster
mkdir -p "$WORK"

cluster_psql -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION slotguard CASCADE'
for r in 1 2 3 4 5 6; do
    cluster_psql -o /dev/null -c "SELECT slotguard.upsert_resource('r$r', ${RES_CAP[r]},
        '${RES_BB[r]} minutes', '${RES_BA[r]} minutes')"
done

# Rows that break the invariant. Active = confirmed, or held and not expired
# at $1 (an SQL timestamptz); $2 (optional) narrows to some bookings.
invariant_sql() {
    cat <<SQL
WITH active AS (
    SELECT b.id, b.resource_key, b.seats, r.capacity,
           tstzrange(lower(b.during) - r.buffer_before,
                     upper(b.during) + r.buffer_after, '[)') AS blocked
    FROM slotguard.booking b
    JOIN slotguard.resource r ON r.key = b.resource_key
    WHERE (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > $1))
      AND ${2:-true}
)
-- The peak load of half-open ranges is reached at some range's lower bound.
, instants AS (
    SELECT DISTINCT resource_key, capacity, lower(blocked) AS instant FROM active
)
SELECT i.resource_key, i.instant, sum(a.seats) AS seats, i.capacity,
       array_agg(a.id ORDER BY a.id) AS bookings
FROM instants i
JOIN active a ON a.resource_key = i.resource_key AND a.blocked @> i.instant
GROUP BY i.resource_key, i.instant, i.capacity
HAVING sum(a.seats) > i.capacity
ORDER BY 1, 2
SQL
}
# The live checker sees commits from transactions whose now() was earlier
# than its own; counting only holds with 2 s to spare keeps it free of false
# alarms (a subset that breaks capacity means the real set does too).
# Each level books in its own week, so its check can look at its bookings only.
INVARIANT_ALL=$(invariant_sql "now()")

# One op per line, so psql's "file:LINE: ERROR" tells which op failed.
# Cancel/reschedule pick any live booking of the level, other sessions' too.
# Ranges: a start on the 15-minute grid of $day, 30-120 minutes long, '[)'.
gen_ops() { # file level day level_tag session_tag
    local file=$1 level=$2 day=$3 ltag=$4 stag=$5 i r p seats hold pick
    {
        echo '\set VERBOSITY verbose'
        echo '\set SHOW_CONTEXT never'
        for ((i = 0; i < OPS; i++)); do
            r=$((RANDOM % 6 + 1)) p=$((RANDOM % 100))
            local from=$(((RANDOM % 96) * 15)) len=$(((RANDOM % 7 + 2) * 15))
            local during="tstzrange(timestamptz '$day 00:00+00' + interval '$from minutes', timestamptz '$day 00:00+00' + interval '$((from + len)) minutes', '[)')"
            pick="(SELECT id FROM slotguard.booking WHERE resource_key = 'r$r' AND status <> 'cancelled' AND holder LIKE '$ltag-%' ORDER BY random() LIMIT 1) AS pick"
            if ((p < 60)); then
                seats=1
                ((RES_CAP[r] > 1)) && seats=$((RANDOM % 2 + 1))
                hold=$((RANDOM % 100))
                if ((hold < 15)); then hold=", hold => '1 second'"
                elif ((hold < 25)); then hold=", hold => '1 hour'"
                else hold=""; fi
                echo "BEGIN ISOLATION LEVEL $level; SELECT (slotguard.book_slot('r$r', $during, seats => $seats, holder => '$stag-$i'$hold)).id; COMMIT; -- op:book"
            elif ((p < 80)); then
                echo "BEGIN ISOLATION LEVEL $level; SELECT (slotguard.cancel_booking(pick.id)).id FROM $pick; COMMIT; -- op:cancel"
            else
                echo "BEGIN ISOLATION LEVEL $level; SELECT (slotguard.reschedule_booking(pick.id, $during)).id FROM $pick; COMMIT; -- op:reschedule"
            fi
        done
    } >"$file"
}

failures=0
total_ops=0 total_booked=0 total_conflicts=0 total_40001=0 total_violations=0
fail() {
    echo "  FAIL: $*"
    failures=$((failures + 1))
}

for li in "${!LEVELS[@]}"; do
    level=${LEVELS[li]}
    tag="L$li"
    day=$(date -u -d "2031-03-03 + $((li * 7)) days" +%F) # a fresh week per level
    echo
    echo "== $level (bookings on $day)"
    for s in $(seq 1 "$SESSIONS"); do
        gen_ops "$WORK/$tag-s$s.sql" "$level" "$day" "$tag" "$tag-s$s"
    done

    live_sql=$(invariant_sql "now() + interval '2 seconds'" "b.holder LIKE '$tag-%'")
    final_sql=$(invariant_sql "now()" "b.holder LIKE '$tag-%'")
    run_sessions "$WORK" "$tag" "$SESSIONS" "$live_sql"
    took=$TOOK live_checks=$LIVE_CHECKS psql_failed=$PSQL_FAILED

    # Classify every error by SQLSTATE and by the op on the line it came from.
    n_conflict=0 n_40001=0 n_55000=0 bad=0
    for s in $(seq 1 "$SESSIONS"); do
        sql=$WORK/$tag-s$s.sql err=$WORK/$tag-s$s.err
        mapfile -t sql_lines <"$sql"
        while IFS=: read -r line state; do
            op=${sql_lines[line - 1]##*-- op:}
            case "$state/$op" in
                23P01/book | 23P01/reschedule) n_conflict=$((n_conflict + 1)) ;;
                40001/*) n_40001=$((n_40001 + 1)) ;;
                55000/reschedule) n_55000=$((n_55000 + 1)) ;;
                *)
                    bad=$((bad + 1))
                    if ((bad <= 5)); then
                        echo "  unexpected SQLSTATE $state on ${op:-?} (session $s, line $line):"
                        awk -v at="sql:$line: ERROR" 'index($0, at) { p = 1; print "    | " $0; next }
                            /^psql:/ { p = 0 } p && !/^LOCATION:/ { print "    | " $0 }' "$err"
                    fi
                    ;;
            esac
        done < <(sed -nE 's/^psql:[^:]*:([0-9]+): ERROR:  ([0-9A-Z]{5}): .*/\1:\2/p' "$err")
        # Errors psql could not attribute to a statement: lost connection etc.
        if grep -qE 'server closed the connection|connection to server was lost|terminating connection|FATAL|PANIC' "$err"; then
            fail "session $s lost its connection:"
            grep -E 'server closed|connection to server|terminating|FATAL|PANIC' "$err" | head -n 3 | sed 's/^/    | /' || true
        fi
    done
    booked=$(cluster_psql -At -c "SELECT count(*) FROM slotguard.booking WHERE holder LIKE '$tag-%'")
    live_violations=$(grep -c . "$WORK/$tag-live.out" || true)
    violations=$(cluster_psql -At -c "SELECT count(*) FROM ($final_sql) v")
    ops=$((SESSIONS * OPS))

    printf '  ops run %d in %ds, booked %d, conflicts (23P01) %d, 40001s %d, 55000s %d, unexpected %d,\n' \
        "$ops" "$took" "$booked" "$n_conflict" "$n_40001" "$n_55000" "$bad"
    printf '  violations: %d at the end, %d seen by %d live checks\n' \
        "$violations" "$live_violations" "$live_checks"

    ((bad == 0)) || fail "$bad errors with an unexpected SQLSTATE"
    ((psql_failed == 0)) || fail "$psql_failed psql sessions exited non-zero"
    if ((violations > 0 || live_violations > 0)); then
        fail "the capacity invariant is broken:"
        cluster_psql -c "$final_sql" | head -n 20 | sed 's/^/    | /' || true
        head -n 10 "$WORK/$tag-live.out" | sed 's/^/    live| /'
    fi
    ((booked > 0)) || fail "no booking succeeded: nothing was tested"
    ((n_conflict > 0)) || fail "no conflict happened: the load did not collide"

    total_ops=$((total_ops + ops)) total_booked=$((total_booked + booked))
    total_conflicts=$((total_conflicts + n_conflict)) total_40001=$((total_40001 + n_40001))
    total_violations=$((total_violations + violations + live_violations))
done

# All levels together, once more, with no session running.
all_violations=$(cluster_psql -At -c "SELECT count(*) FROM ($INVARIANT_ALL) v")
if ((all_violations > 0)); then
    fail "$all_violations violations over all levels together"
    total_violations=$((total_violations + all_violations))
fi

# A backend that crashed makes the postmaster log "terminated by signal".
if grep -qE 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG"; then
    fail "the server log shows a crashed backend:"
    grep -E 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG" | head -n 5 | sed 's/^/    | /' || true
fi

echo
echo "stress_bookings: ops run $total_ops, booked $total_booked, conflicts $total_conflicts," \
    "40001s $total_40001, violations $total_violations (seed $SEED)"
if ((failures > 0)); then
    echo "stress_bookings: FAILED ($failures problems)"
    exit 1
fi
echo "stress_bookings: OK"
