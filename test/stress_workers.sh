#!/usr/bin/env bash
# Stress test of the worker rule (API.md §3, §7): a worker is never active on
# two active bookings whose `during` ranges overlap, on any resource — under
# READ COMMITTED, REPEATABLE READ and SERIALIZABLE — and concurrent
# assign_workers calls never surface a deadlock (40P01).
#
# For each isolation level: 30 bookings on 5 resources, all inside one 6-hour
# window (each overlaps about 15 others), then SESSIONS psql sessions (default
# 12) each run OPS (default 1000) random one-call transactions at once:
#   assign   (~80%) assign_workers(a live booking — in 3 of 8 cases one of
#                   the 4 oldest live ones, a hot spot where dispatchers swap
#                   workers — a random subset of 0-4 of the 6 workers, in
#                   random order: crossing sets)
#   unassign  (~6%) unassign_worker
#   resched   (~8%) reschedule_booking to a random range in the window
#   cancel    (~2%) cancel_booking
#   book      (~4%) book_slot a new booking in the window (keeps the pool full)
# Errors do not stop a session; every error's SQLSTATE is checked:
#   23P01  conflict                        (assign, resched, book)
#   40001  serialization failure           (REPEATABLE READ/SERIALIZABLE only)
#   55000  booking is cancelled            (assign, resched: the booking was
#                                           picked from the live ones, then
#                                           another session cancelled it before
#                                           this call locked it; checked: every
#                                           booking named is cancelled at the end)
# Anything else — 40P01 included — a lost connection or a crashed backend
# fails the test. While the sessions run, a checker samples the rule; after
# each level it is checked exactly, plus two consistency checks: an active
# assignment's `during` equals its booking's (reschedules move workers), and
# no cancelled booking keeps an active worker (cancel releases them).
# Passes only with 0 violations, and with some assignments made and some
# refused (23P01) per level, so an idle or toothless guard fails too.
#
# Own throwaway cluster (test/lib/cluster.sh). SEED=n replays the same ops;
# SESSIONS, OPS and LEVELS (comma-separated isolation levels) can be set.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=test/lib/cluster.sh
source "$ROOT/test/lib/cluster.sh"
source "$ROOT/test/lib/stress.sh"

SESSIONS=${SESSIONS:-12}
OPS=${OPS:-1000}
SEED=${SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((SEED % 32768)) # bash's generator: same seed, same ops
# LEVELS="READ COMMITTED" (comma-separated) runs a subset.
IFS=, read -ra LEVELS <<<"${LEVELS:-READ COMMITTED,REPEATABLE READ,SERIALIZABLE}"
WORKERS=(w1 w2 w3 w4 w5 w6)
NRES=5
NBOOK=30

echo "stress_workers: $SESSIONS sessions x $OPS ops x ${#LEVELS[@]} isolation levels, seed $SEED"
# Expected errors by the thousand: keep them out of the server log (LOG,
# FATAL and PANIC, where crashes show, are still written).
cluster_start "fsync = off" "log_min_messages = log" "log_min_error_statement = panic"
WORK=$CLUSTER_DIR/stress # removed together with the cluster
mkdir -p "$WORK"

cluster_psql -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION slotguard CASCADE'
# Capacity 3: bookings may overlap on one resource too, and resource
# conflicts stay rare next to worker conflicts.
for r in $(seq 1 $NRES); do
    cluster_psql -o /dev/null -c "SELECT slotguard.upsert_resource('r$r', 3)"
done

# Pairs breaking the rule, among bookings matching $1 (an SQL condition on b1
# and b2). Active booking = confirmed, or held and not yet expired.
violations_sql() {
    cat <<SQL
SELECT a1.worker, a1.booking_id AS booking_1, a2.booking_id AS booking_2,
       b1.during AS during_1, b2.during AS during_2
FROM slotguard.assignment a1
JOIN slotguard.assignment a2 ON a2.worker = a1.worker AND a1.booking_id < a2.booking_id
JOIN slotguard.booking b1 ON b1.id = a1.booking_id
JOIN slotguard.booking b2 ON b2.id = a2.booking_id
WHERE a1.status = 'active' AND a2.status = 'active'
  AND (b1.status = 'confirmed' OR (b1.status = 'held' AND b1.hold_expires_at > now()))
  AND (b2.status = 'confirmed' OR (b2.status = 'held' AND b2.hold_expires_at > now()))
  AND b1.during && b2.during
  AND ${1:-true}
ORDER BY 1, 2, 3
SQL
}
# Active assignments out of step with their booking: a range that differs
# from the booking's, or a cancelled booking that still has the worker.
stale_sql() {
    cat <<SQL
SELECT a.booking_id, a.worker, a.during AS assignment_during, b.during AS booking_during, b.status
FROM slotguard.assignment a JOIN slotguard.booking b ON b.id = a.booking_id
WHERE a.status = 'active' AND (a.during <> b.during OR b.status = 'cancelled')
  AND ${1:-true}
ORDER BY 1, 2
SQL
}

# These two set a global instead of printing: $(...) would run them in a
# subshell, which reseeds $RANDOM, and SEED could not replay the ops.
# RANGE := a random range in the 6-hour window of $1 (a date), on a 5-minute
# grid, 30-150 minutes long, as an SQL expression.
rand_range() {
    local day=$1 from=$(((RANDOM % 72) * 5)) len=$(((RANDOM % 25 + 6) * 5))
    RANGE="tstzrange(timestamptz '$day 08:00+00' + interval '$from minutes', timestamptz '$day 08:00+00' + interval '$((from + len)) minutes', '[)')"
}

# WSET := a random subset of 0-4 workers, in random order, as an SQL text[].
rand_workers() {
    local n=$((RANDOM % 5)) picked=() i j tmp pool=("${WORKERS[@]}")
    # Fisher-Yates on a copy, then take the first n.
    for ((i = ${#pool[@]} - 1; i > 0; i--)); do
        j=$((RANDOM % (i + 1)))
        tmp=${pool[i]} pool[i]=${pool[j]} pool[j]=$tmp
    done
    for ((i = 0; i < n; i++)); do picked+=("'${pool[i]}'"); done
    local IFS=,
    WSET="ARRAY[${picked[*]}]::text[]"
}

# One op per line, so psql's "file:LINE: ERROR" tells which op failed. Ops
# pick any live booking of the level (other sessions' too); when none is
# left the pick is empty and the op does nothing.
gen_ops() { # file level day level_tag session_tag
    local file=$1 level=$2 day=$3 ltag=$4 stag=$5 i p pick
    pick="(SELECT id FROM slotguard.booking WHERE holder = '$ltag' AND status <> 'cancelled' ORDER BY random() LIMIT 1) AS pick"
    # The four oldest live bookings (at first 08:00-09:30 on r1-r4):
    # dispatchers moving the same workers between the same jobs at once.
    hot="(SELECT id FROM (SELECT id FROM slotguard.booking WHERE holder = '$ltag' AND status <> 'cancelled' ORDER BY id LIMIT 4) h ORDER BY random() LIMIT 1) AS pick"
    {
        echo '\set VERBOSITY verbose'
        echo '\set SHOW_CONTEXT never'
        for ((i = 0; i < OPS; i++)); do
            p=$((RANDOM % 100))
            if ((p < 50)); then
                rand_workers
                echo "BEGIN ISOLATION LEVEL $level; SELECT count(a.*) FROM $pick, LATERAL slotguard.assign_workers(pick.id, $WSET, '$stag') AS a; COMMIT; -- op:assign"
            elif ((p < 80)); then
                rand_workers
                echo "BEGIN ISOLATION LEVEL $level; SELECT count(a.*) FROM $hot, LATERAL slotguard.assign_workers(pick.id, $WSET, '$stag') AS a; COMMIT; -- op:assign"
            elif ((p < 86)); then
                echo "BEGIN ISOLATION LEVEL $level; SELECT slotguard.unassign_worker(pick.id, '${WORKERS[RANDOM % 6]}') FROM $pick; COMMIT; -- op:unassign"
            elif ((p < 94)); then
                rand_range "$day"
                echo "BEGIN ISOLATION LEVEL $level; SELECT (slotguard.reschedule_booking(pick.id, $RANGE)).id FROM $pick; COMMIT; -- op:resched"
            elif ((p < 96)); then
                echo "BEGIN ISOLATION LEVEL $level; SELECT (slotguard.cancel_booking(pick.id)).id FROM $pick; COMMIT; -- op:cancel"
            else
                rand_range "$day"
                echo "BEGIN ISOLATION LEVEL $level; SELECT (slotguard.book_slot('r$((RANDOM % NRES + 1))', $RANGE, holder => '$ltag')).id; COMMIT; -- op:book"
            fi
        done
    } >"$file"
}

failures=0
total_ops=0 total_made=0 total_conflicts=0 total_40001=0 total_55000=0 total_violations=0
fail() {
    echo "  FAIL: $*"
    failures=$((failures + 1))
}
# Counts an error that may not surface and shows the first few in full.
unexpected() { # state op session line errfile
    bad=$((bad + 1))
    if ((bad <= 5)); then
        echo "  unexpected SQLSTATE $1 on ${2:-?} (session $3, line $4):"
        awk -v at="sql:$4: ERROR" 'index($0, at) { p = 1; print "    | " $0; next }
            /^psql:/ { p = 0 } p && !/^LOCATION:/ { print "    | " $0 }' "$5"
    fi
}

for li in "${!LEVELS[@]}"; do
    level=${LEVELS[li]}
    tag="L$li"
    day=$(date -u -d "2031-05-05 + $li days" +%F) # a fresh day per level
    echo
    echo "== $level (bookings on $day)"

    # The 30 starting bookings: round-robin over the resources, all in the
    # window (at most 3 per resource at any instant, so every one fits).
    cluster_psql -o /dev/null -c "
        SELECT slotguard.book_slot('r' || (i % $NRES + 1),
            tstzrange(timestamptz '$day 08:00+00' + make_interval(mins => (i / $NRES) * 50),
                      timestamptz '$day 08:00+00' + make_interval(mins => (i / $NRES) * 50 + 90), '[)'),
            holder => '$tag')
        FROM generate_series(0, $NBOOK - 1) AS i"
    for s in $(seq 1 "$SESSIONS"); do
        gen_ops "$WORK/$tag-s$s.sql" "$level" "$day" "$tag" "$tag-s$s"
    done

    level_cond="b1.holder = '$tag' AND b2.holder = '$tag'"
    live_sql=$(violations_sql "$level_cond")
    run_sessions "$WORK" "$tag" "$SESSIONS" "$live_sql"
    took=$TOOK live_checks=$LIVE_CHECKS psql_failed=$PSQL_FAILED

    # Classify every error by SQLSTATE and by the op on the line it came from.
    n_conflict=0 n_assign_conflict=0 n_40001=0 n_55000=0 n_40P01=0 bad=0
    cancelled_named=()
    for s in $(seq 1 "$SESSIONS"); do
        sql=$WORK/$tag-s$s.sql err=$WORK/$tag-s$s.err
        mapfile -t sql_lines <"$sql"
        while IFS=: read -r line state booking; do
            op=${sql_lines[line - 1]##*-- op:}
            case "$state/$op" in
                23P01/assign) n_conflict=$((n_conflict + 1)) n_assign_conflict=$((n_assign_conflict + 1)) ;;
                23P01/resched | 23P01/book) n_conflict=$((n_conflict + 1)) ;;
                40001/*)
                    # Only REPEATABLE READ/SERIALIZABLE may fail to serialize.
                    if [[ $level == "READ COMMITTED" ]]; then
                        unexpected "$state" "$op" "$s" "$line" "$err"
                    else
                        n_40001=$((n_40001 + 1))
                    fi
                    ;;
                55000/assign | 55000/resched)
                    # Justified only as "booking N is cancelled" (checked below).
                    if [[ -n $booking ]]; then
                        n_55000=$((n_55000 + 1))
                        cancelled_named+=("$booking")
                    else
                        unexpected "$state" "$op" "$s" "$line" "$err"
                    fi
                    ;;
                *)
                    [[ $state == 40P01 ]] && n_40P01=$((n_40P01 + 1))
                    unexpected "$state" "$op" "$s" "$line" "$err"
                    ;;
            esac
        done < <(sed -nE 's/^psql:[^:]*:([0-9]+): ERROR:  ([0-9A-Z]{5}): (booking ([0-9]+) is cancelled)?.*/\1:\2:\4/p' "$err")
        # Errors psql could not attribute to a statement: lost connection etc.
        if grep -qE 'server closed the connection|connection to server was lost|terminating connection|FATAL|PANIC' "$err"; then
            fail "session $s lost its connection:"
            grep -E 'server closed|connection to server|terminating|FATAL|PANIC' "$err" | head -n 3 | sed 's/^/    | /' || true
        fi
    done
    # Every 55000 named a booking that is indeed cancelled (cancel is final).
    not_cancelled=0
    if ((${#cancelled_named[@]} > 0)); then
        ids=$(printf '%s,' "${cancelled_named[@]}")
        not_cancelled=$(cluster_psql -At -c "SELECT count(*) FROM slotguard.booking
            WHERE id = ANY ('{${ids%,}}'::bigint[]) AND status <> 'cancelled'")
    fi

    counts=$(cluster_psql -At -F ' ' -c "
        SELECT (SELECT count(*) FROM slotguard.booking WHERE holder = '$tag'),
               (SELECT count(*) FROM slotguard.booking WHERE holder = '$tag' AND status = 'cancelled'),
               (SELECT count(*) FROM slotguard.assignment a JOIN slotguard.booking b ON b.id = a.booking_id
                WHERE b.holder = '$tag'),
               (SELECT count(*) FROM slotguard.assignment a JOIN slotguard.booking b ON b.id = a.booking_id
                WHERE b.holder = '$tag' AND a.status = 'active' AND b.status <> 'cancelled')")
    read -r n_bookings n_cancelled made active <<<"$counts"
    live_violations=$(grep -c . "$WORK/$tag-live.out" || true)
    violations=$(cluster_psql -At -c "SELECT count(*) FROM ($(violations_sql "$level_cond")) v")
    stale=$(cluster_psql -At -c "SELECT count(*) FROM ($(stale_sql "b.holder = '$tag'")) s")
    ops=$((SESSIONS * OPS))

    printf '  ops run %d in %ds; bookings %d (%d cancelled); assignment rows made %d, active now %d\n' \
        "$ops" "$took" "$n_bookings" "$n_cancelled" "$made" "$active"
    printf '  conflicts (23P01) %d (assign %d), 40001s %d, 55000s %d, 40P01s %d, unexpected %d\n' \
        "$n_conflict" "$n_assign_conflict" "$n_40001" "$n_55000" "$n_40P01" "$bad"
    printf '  violations: %d at the end, %d seen by %d live checks; stale assignments %d\n' \
        "$violations" "$live_violations" "$live_checks" "$stale"

    ((bad == 0)) || fail "$bad errors with an unexpected SQLSTATE"
    ((n_40P01 == 0)) || fail "$n_40P01 deadlocks (40P01) reached a caller"
    ((psql_failed == 0)) || fail "$psql_failed psql sessions exited non-zero"
    ((not_cancelled == 0)) || fail "$not_cancelled bookings refused with 55000 are not cancelled"
    if ((violations > 0 || live_violations > 0)); then
        fail "a worker is on two overlapping active bookings:"
        cluster_psql -c "$(violations_sql "$level_cond")" | head -n 20 | sed 's/^/    | /' || true
        head -n 10 "$WORK/$tag-live.out" | sed 's/^/    live| /'
    fi
    if ((stale > 0)); then
        fail "active assignments out of step with their booking:"
        cluster_psql -c "$(stale_sql "b.holder = '$tag'")" | head -n 20 | sed 's/^/    | /' || true
    fi
    ((made > 0)) || fail "no assignment succeeded: nothing was tested"
    ((n_assign_conflict > 0)) || fail "no assignment was refused: the load did not collide"

    total_ops=$((total_ops + ops)) total_made=$((total_made + made))
    total_conflicts=$((total_conflicts + n_conflict)) total_40001=$((total_40001 + n_40001))
    total_55000=$((total_55000 + n_55000))
    total_violations=$((total_violations + violations + live_violations))
done

# All levels together, once more, with no session running.
all_violations=$(cluster_psql -At -c "SELECT count(*) FROM ($(violations_sql)) v")
all_stale=$(cluster_psql -At -c "SELECT count(*) FROM ($(stale_sql)) s")
if ((all_violations > 0 || all_stale > 0)); then
    fail "$all_violations violations and $all_stale stale assignments over all levels together"
    total_violations=$((total_violations + all_violations))
fi

# A backend that crashed makes the postmaster log "terminated by signal".
if grep -qE 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG"; then
    fail "the server log shows a crashed backend:"
    grep -E 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG" | head -n 5 | sed 's/^/    | /' || true
fi

echo
echo "stress_workers: ops run $total_ops, assignment rows made $total_made, conflicts $total_conflicts," \
    "40001s $total_40001, 55000s $total_55000, violations $total_violations (seed $SEED)"
if ((failures > 0)); then
    echo "stress_workers: FAILED ($failures problems)"
    exit 1
fi
echo "stress_workers: OK"
