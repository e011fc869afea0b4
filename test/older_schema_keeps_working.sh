#!/usr/bin/env bash
# The library serves every older schema of the upgrade chain until ALTER
# EXTENSION UPDATE: for each older version, a database created at that
# version gets every API function of the version called (each with a
# conflict where one can happen) and its protected tables written; then
# another session runs ALTER EXTENSION slotguard UPDATE while the first
# stays connected, and the first calls them all again, on the new schema,
# with the objects it made before. The invariants hold throughout.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "fsync = off"

fail() { echo "older_schema_keeps_working: FAIL: $*" >&2; exit 1; }
current=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" control/slotguard.control)
calls=$PWD/test/lib/older_schema_calls.sql

helpers() {
    cluster_psql -d "$1" <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA sgt;
-- Runs sql, which must fail with SQLSTATE state.
CREATE FUNCTION sgt.expect(sql text, state text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RAISE EXCEPTION 'expected SQLSTATE % from: %', state, sql;
EXCEPTION WHEN OTHERS THEN
    IF SQLSTATE <> state THEN
        RAISE EXCEPTION 'expected SQLSTATE % from: %, got % (%)', state, sql, SQLSTATE, SQLERRM;
    END IF;
END $$;
CREATE FUNCTION sgt.ok(cond boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cond IS NOT TRUE THEN RAISE EXCEPTION 'wrong answer: %', what; END IF;
END $$;
SQL
}

# No instant overbooks a resource, no worker is on two overlapping active
# bookings, no protected table holds two overlapping rows of one room.
check_invariants() {
    local db=$1 bad
    bad=$(cluster_psql -d "$db" -At <<'SQL'
WITH active AS (
    SELECT * FROM slotguard.booking
    WHERE status = 'confirmed' OR (status = 'held' AND hold_expires_at > now()))
SELECT 'overbooked ' || a.resource_key || ' at ' || lower(a.blocked)
FROM active a JOIN slotguard.resource r ON r.key = a.resource_key
WHERE (SELECT sum(b.seats) FROM active b
       WHERE b.resource_key = a.resource_key AND b.blocked @> lower(a.blocked)) > r.capacity
UNION ALL
SELECT 'worker ' || x.worker || ' on ' || x.booking_id || ' and ' || y.booking_id
FROM slotguard.assignment x JOIN slotguard.assignment y
  ON x.worker = y.worker AND x.id < y.id AND x.during && y.during
JOIN active bx ON bx.id = x.booking_id JOIN active by_ ON by_.id = y.booking_id
WHERE x.status = 'active' AND y.status = 'active'
UNION ALL
SELECT 'missing resource ' || b.resource_key FROM slotguard.booking b
WHERE NOT EXISTS (SELECT FROM slotguard.resource r WHERE r.key = b.resource_key)
UNION ALL
SELECT 'guarded rows overlap in ' || g.tbl::text FROM slotguard.guard g
WHERE (SELECT count(*) FROM slotguard.guard_entry x JOIN slotguard.guard_entry y
         ON x.guard_id = y.guard_id AND x.row_key < y.row_key AND x.entry_key = y.entry_key AND x.blocked && y.blocked
       WHERE x.guard_id = g.id) > 0
SQL
    )
    [[ -z $bad ]] || fail "$db: invariant broken: $bad"
}

for version in 1.0 1.1; do
    db=at_${version/./_}
    v11=false
    [[ $version != 1.0 ]] && v11=true
    cluster_psql -c "CREATE DATABASE $db"
    cluster_psql -d "$db" -c "SET client_min_messages = warning" \
        -c "CREATE EXTENSION slotguard VERSION '$version' CASCADE"
    helpers "$db"

    # One session for the whole story, fed through a fifo.
    fifo=$CLUSTER_DIR/$db.fifo out=$CLUSTER_DIR/$db.out mark=$CLUSTER_DIR/$db.before-done
    mkfifo "$fifo"
    cluster_psql -d "$db" -v ON_ERROR_STOP=1 -f - <"$fifo" >"$out" 2>&1 &
    session=$!
    exec 3>"$fifo"
    {
        echo "\\set p 'a$version:'"
        echo "\\set v11 $v11"
        echo "\\i $calls"
        echo "\\! touch $mark"
    } >&3
    deadline=$((SECONDS + 120))
    while [[ ! -e $mark ]]; do
        if ! kill -0 "$session" 2>/dev/null || ((SECONDS > deadline)); then
            exec 3>&-
            wait "$session" || true
            cat "$out" >&2
            fail "$db: the API fails on schema $version before the update"
        fi
        sleep 0.1
    done
    check_invariants "$db"
    echo "older_schema_keeps_working: every call works on schema $version"

    # Another session updates the schema while the first stays connected.
    cluster_psql -d "$db" -c "ALTER EXTENSION slotguard UPDATE"
    installed=$(cluster_psql -d "$db" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'slotguard'")
    [[ $installed == "$current" ]] || fail "$db: updated to $installed, not $current"

    {
        echo "\\set p 'b$version:'"
        echo "\\set v11 true"
        echo "\\i $calls"
        # What the first round made, used on the new schema.
        echo "SELECT sgt.expect(format('SELECT slotguard.book_slot(%L, %L)', 'a$version:room', '[2031-01-01 10:30+00,2031-01-01 11:30+00)'), '23P01');"
        echo "SELECT sgt.ok(status = 'cancelled', 'cancel an old booking') FROM slotguard.cancel_booking((SELECT id FROM slotguard.booking WHERE resource_key = 'a$version:room' AND during = '[2031-01-01 10:00+00,2031-01-01 11:00+00)'));"
        echo "SELECT id FROM slotguard.book_slot('a$version:room', '[2031-01-01 10:30+00,2031-01-01 11:30+00)');"
        echo "SELECT sgt.expect(format('INSERT INTO %I VALUES (9, %L, %L)', 'a$version:visit', 'r1', '[2031-01-01 11:00+00,2031-01-01 11:15+00)'), '23P01');"
        echo "INSERT INTO \"a$version:visit\" VALUES (9, 'r1', '[2031-01-01 13:00+00,2031-01-01 14:00+00)');"
        echo "UPDATE \"a$version:visit\" SET cancelled = true WHERE id = 3;"
        echo "INSERT INTO \"a$version:visit\" VALUES (10, 'r1', '[2031-01-01 11:00+00,2031-01-01 11:15+00)');"
        echo "SELECT slotguard.unprotect('\"a$version:visit\"');"
    } >&3
    exec 3>&-
    if ! wait "$session"; then
        cat "$out" >&2
        fail "$db: the API fails after updating $version to $current in a session opened before"
    fi
    check_invariants "$db"
    echo "older_schema_keeps_working: every call works after $version -> $current, in a session opened before the update"
done
echo "older_schema_keeps_working: OK"
