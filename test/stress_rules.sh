#!/usr/bin/env bash
# Stress test of the §10 rules (API.md §7, §10) next to the capacity
# invariant: 8 sessions at each isolation level run random one-statement
# transactions — book_slot, book_series (two days), book_together and
# book_any (§11), cancel_booking, reschedule_booking, add_closure and
# sync_busy — on three resources in three time zones (Europe/Berlin,
# America/New_York, Australia/Adelaide), all open Mo-Fr 09:00-17:00 local,
# with max_per_day and max_per_holder_per_day, four holders per level, and
# ranges that often fall outside the hours. Afterwards (and sampled while
# the sessions run) every rule is checked against the committed rows,
# independently of the extension's own code:
#   capacity   seats of active bookings at any instant <= capacity
#   hours      every active booking lies inside 09:00-17:00 local, Mo-Fr
#   closures   no active booking overlaps a closure (add_closure never forced)
#   busy       an active booking overlapping a synced busy block was reported
#              by the sync_busy that made it (recorded in the same transaction)
#   per day    active bookings starting on one local day <= max_per_day, and
#              per holder <= max_per_holder_per_day
# Expected errors: 23P01 (book, series, group, reschedule, closure), 40001, 55000
# (reschedule of a booking cancelled meanwhile). Anything else fails.
# Own throwaway cluster. SEED=n replays the same ops.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=test/lib/cluster.sh
source "$ROOT/test/lib/cluster.sh"
source "$ROOT/test/lib/stress.sh"

SESSIONS=${SESSIONS:-8}
OPS=${OPS:-250}
SEED=${SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((SEED % 32768))
LEVELS=("READ COMMITTED" "REPEATABLE READ" "SERIALIZABLE")
TZS=("" "Europe/Berlin" "America/New_York" "Australia/Adelaide")
CAP=(0 2 3 4)
BA=(0 0 10 5)
PER_DAY=(0 4 5 6)
PER_HOLDER=(0 2 2 3)

echo "stress_rules: $SESSIONS sessions x $OPS ops x ${#LEVELS[@]} isolation levels, seed $SEED"
cluster_start "log_min_messages = log" "log_min_error_statement = panic"
WORK=$CLUSTER_DIR/stress
mkdir -p "$WORK"

cluster_psql -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION slotguard CASCADE' \
    -c 'CREATE TABLE collide (source text, booking_id bigint)' -c 'GRANT ALL ON collide TO PUBLIC'
for r in 1 2 3; do
    cluster_psql -o /dev/null -c "SELECT slotguard.upsert_resource('r$r', ${CAP[r]}, '0', '${BA[r]} minutes')" \
        -c "SELECT slotguard.set_policy('r$r', '${TZS[r]}', max_per_day => ${PER_DAY[r]}, max_per_holder_per_day => ${PER_HOLDER[r]})" \
        -c "SELECT slotguard.set_hours('r$r', 'Mo-Fr 09:00-17:00')"
done

# Rows that break a rule; $1: now() for holds, $2: which bookings.
invariant_sql() {
    cat <<SQL
WITH active AS (
    SELECT b.id, b.resource_key, b.seats, b.holder, b.during, r.capacity, r.timezone, r.max_per_day,
           r.max_per_holder_per_day,
           tstzrange(lower(b.during) - r.buffer_before, upper(b.during) + r.buffer_after, '[)') AS blocked
    FROM slotguard.booking b JOIN slotguard.resource r ON r.key = b.resource_key
    WHERE (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > $1)) AND ${2:-true}
), instants AS (
    SELECT DISTINCT resource_key, capacity, lower(blocked) AS instant FROM active
)
SELECT 'capacity' AS rule, i.resource_key, array_agg(a.id ORDER BY a.id) AS bookings
FROM instants i JOIN active a ON a.resource_key = i.resource_key AND a.blocked @> i.instant
GROUP BY i.resource_key, i.instant, i.capacity HAVING sum(a.seats) > i.capacity
UNION ALL
SELECT 'hours', resource_key, ARRAY[id] FROM active
WHERE NOT ((lower(during) AT TIME ZONE timezone)::date = ((upper(during) - interval '1 microsecond') AT TIME ZONE timezone)::date
           AND extract(isodow FROM lower(during) AT TIME ZONE timezone) BETWEEN 1 AND 5
           AND (lower(during) AT TIME ZONE timezone)::time >= '09:00'
           AND (upper(during) AT TIME ZONE timezone)::time <= '17:00'
           AND (upper(during) AT TIME ZONE timezone)::time > '00:00')
UNION ALL
SELECT 'closure', a.resource_key, ARRAY[a.id] FROM active a JOIN slotguard.resource_exception e
    ON e.resource_key = a.resource_key AND e.kind = 'closure' AND e.during && a.during
UNION ALL
SELECT 'busy', a.resource_key, ARRAY[a.id] FROM active a JOIN slotguard.resource_exception e
    ON e.resource_key = a.resource_key AND e.kind = 'busy' AND e.during && a.blocked
WHERE NOT EXISTS (SELECT 1 FROM collide c WHERE c.source = e.reason AND c.booking_id = a.id)
UNION ALL
SELECT 'max_per_day', resource_key, array_agg(id ORDER BY id) FROM active
GROUP BY resource_key, (lower(during) AT TIME ZONE timezone)::date, max_per_day HAVING count(*) > max_per_day
UNION ALL
SELECT 'max_per_holder_per_day', resource_key, array_agg(id ORDER BY id) FROM active
GROUP BY resource_key, holder, (lower(during) AT TIME ZONE timezone)::date, max_per_holder_per_day
HAVING count(*) > max_per_holder_per_day
SQL
}
INVARIANT_ALL=$(invariant_sql "now()")

gen_ops() { # file level day level_tag session_tag
    local file=$1 level=$2 day=$3 ltag=$4 stag=$5 i r p hold pick holder
    {
        echo '\set VERBOSITY verbose'
        echo '\set SHOW_CONTEXT never'
        for ((i = 0; i < OPS; i++)); do
            r=$((RANDOM % 3 + 1)) p=$((RANDOM % 100))
            # A start between 08:00 and 17:45 local on the 15-minute grid, 30-120 minutes.
            local from=$(((RANDOM % 40) * 15)) len=$(((RANDOM % 7 + 2) * 15))
            local base="(timestamp '$day 08:00' AT TIME ZONE '${TZS[r]}')"
            local during="tstzrange($base + interval '$from minutes', $base + interval '$((from + len)) minutes', '[)')"
            holder="$ltag-h$((RANDOM % 4))"
            pick="(SELECT id FROM slotguard.booking WHERE resource_key = 'r$r' AND status <> 'cancelled' AND holder LIKE '$ltag-%' ORDER BY random() LIMIT 1) AS pick"
            if ((p >= 55 && p < 60)); then
                # A series: this day and the next (a Thursday), all or nothing.
                echo "BEGIN ISOLATION LEVEL $level; SELECT count(*) FROM slotguard.book_series('r$r', $during, 'FREQ=DAILY;COUNT=2', holder => '$holder'); COMMIT; -- op:series"
            elif ((p >= 60 && p < 65)); then
                # A group on two resources (the same UTC range; the zones'
                # hours overlap only partly), or any one of them.
                if ((RANDOM % 2)); then
                    echo "BEGIN ISOLATION LEVEL $level; SELECT count(*) FROM slotguard.book_together(ARRAY['r1', 'r2'], $during, holder => '$holder'); COMMIT; -- op:together"
                else
                    echo "BEGIN ISOLATION LEVEL $level; SELECT count(*) FROM slotguard.book_any(ARRAY['r1', 'r2', 'r3'], $during, holder => '$holder'); COMMIT; -- op:together"
                fi
            elif ((p < 55)); then
                hold=$((RANDOM % 100))
                if ((hold < 10)); then hold=", hold => '1 second'"
                elif ((hold < 20)); then hold=", hold => '1 hour'"
                else hold=""; fi
                echo "BEGIN ISOLATION LEVEL $level; SELECT (slotguard.book_slot('r$r', $during, holder => '$holder'$hold)).id; COMMIT; -- op:book"
            elif ((p < 75)); then
                echo "BEGIN ISOLATION LEVEL $level; SELECT (slotguard.cancel_booking(pick.id)).id FROM $pick; COMMIT; -- op:cancel"
            elif ((p < 87)); then
                echo "BEGIN ISOLATION LEVEL $level; SELECT (slotguard.reschedule_booking(pick.id, $during)).id FROM $pick; COMMIT; -- op:reschedule"
            elif ((p < 93)); then
                echo "BEGIN ISOLATION LEVEL $level; SELECT slotguard.add_closure('r$r', $during, 'closed $stag-$i'); COMMIT; -- op:closure"
            else
                echo "BEGIN ISOLATION LEVEL $level; INSERT INTO collide SELECT 'busy $stag-$i', booking_id FROM slotguard.sync_busy('r$r', 'busy $stag-$i', tstzrange('$day', timestamptz '$day' + interval '1 day'), ARRAY[$during]); COMMIT; -- op:busy"
            fi
        done
    } >"$file"
}

failures=0
total_ops=0 total_booked=0 total_conflicts=0 total_violations=0
fail() {
    echo "  FAIL: $*"
    failures=$((failures + 1))
}

for li in "${!LEVELS[@]}"; do
    level=${LEVELS[li]}
    tag="L$li"
    day=$(date -u -d "2031-03-05 + $((li * 7)) days" +%F) # a Wednesday per level
    echo
    echo "== $level (bookings on $day, local)"
    for s in $(seq 1 "$SESSIONS"); do
        gen_ops "$WORK/$tag-s$s.sql" "$level" "$day" "$tag" "$tag-s$s"
    done
    live_sql=$(invariant_sql "now() + interval '2 seconds'" "b.holder LIKE '$tag-%'")
    final_sql=$(invariant_sql "now()" "b.holder LIKE '$tag-%'")
    run_sessions "$WORK" "$tag" "$SESSIONS" "$live_sql"
    took=$TOOK live_checks=$LIVE_CHECKS psql_failed=$PSQL_FAILED

    n_conflict=0 n_40001=0 n_55000=0 bad=0
    declare -A rules_seen=()
    for s in $(seq 1 "$SESSIONS"); do
        sql=$WORK/$tag-s$s.sql err=$WORK/$tag-s$s.err
        mapfile -t sql_lines <"$sql"
        while IFS=: read -r line state; do
            op=${sql_lines[line - 1]##*-- op:}
            case "$state/$op" in
                23P01/book | 23P01/reschedule | 23P01/closure | 23P01/series | 23P01/together) n_conflict=$((n_conflict + 1)) ;;
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
        while read -r rule; do rules_seen[$rule]=1; done < <(sed -nE 's/^DETAIL:  (outside opening hours|closed|busy|max_per_day|max_per_holder_per_day).*/\1/p' "$err")
        # A refused series or group names the rule per row: "... (max_per_day: ...".
        while read -r rule; do rules_seen[$rule]=1; done < <(sed -nE 's/^DETAIL:  .*\((max_per_day|max_per_holder_per_day): .*/\1/p' "$err")
        if grep -qE 'server closed the connection|connection to server was lost|terminating connection|FATAL|PANIC' "$err"; then
            fail "session $s lost its connection"
        fi
    done
    booked=$(cluster_psql -At -c "SELECT count(*) FROM slotguard.booking WHERE holder LIKE '$tag-%'")
    sets=$(cluster_psql -At -c "SELECT count(*) FILTER (WHERE series_id IS NOT NULL) || ' series rows, ' ||
                                       count(*) FILTER (WHERE group_id IS NOT NULL) || ' group rows'
                                FROM slotguard.booking WHERE holder LIKE '$tag-%'")
    live_violations=$(grep -c . "$WORK/$tag-live.out" || true)
    violations=$(cluster_psql -At -c "SELECT count(*) FROM ($final_sql) v")
    ops=$((SESSIONS * OPS))
    printf '  ops run %d in %ds, booked %d, refusals (23P01) %d, 40001s %d, 55000s %d, unexpected %d\n' \
        "$ops" "$took" "$booked" "$n_conflict" "$n_40001" "$n_55000" "$bad"
    printf '  rules seen refusing: %s\n' "${!rules_seen[*]}"
    printf '  of the bookings: %s\n' "$sets"
    printf '  violations: %d at the end, %d seen by %d live checks\n' "$violations" "$live_violations" "$live_checks"
    ((bad == 0)) || fail "$bad errors with an unexpected SQLSTATE"
    ((psql_failed == 0)) || fail "$psql_failed psql sessions exited non-zero"
    if ((violations > 0 || live_violations > 0)); then
        fail "a rule is broken:"
        cluster_psql -c "$final_sql" | head -n 20 | sed 's/^/    | /' || true
        head -n 10 "$WORK/$tag-live.out" | sed 's/^/    live| /'
    fi
    ((booked > 0)) || fail "no booking succeeded: nothing was tested"
    [[ $sets != "0 series rows, 0 group rows" ]] || fail "no series or group was booked: §11 was not tested"
    [[ -n ${rules_seen["outside opening hours"]:-} && -n ${rules_seen[max_per_day]:-}${rules_seen[max_per_holder_per_day]:-} ]] ||
        fail "the load did not meet the hours and the per-day limits"
    unset rules_seen
    total_ops=$((total_ops + ops)) total_booked=$((total_booked + booked))
    total_conflicts=$((total_conflicts + n_conflict)) total_violations=$((total_violations + violations + live_violations))
done

all_violations=$(cluster_psql -At -c "SELECT count(*) FROM ($INVARIANT_ALL) v")
if ((all_violations > 0)); then
    fail "$all_violations violations over all levels together"
    total_violations=$((total_violations + all_violations))
fi
if grep -qE 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG"; then
    fail "the server log shows a crashed backend:"
    grep -E 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG" | head -n 5 | sed 's/^/    | /' || true
fi
echo
echo "stress_rules: ops run $total_ops, booked $total_booked, refusals $total_conflicts, violations $total_violations (seed $SEED)"
if ((failures > 0)); then
    echo "stress_rules: FAILED ($failures problems)"
    exit 1
fi
echo "stress_rules: OK"
