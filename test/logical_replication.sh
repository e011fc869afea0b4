#!/usr/bin/env bash
# Rows applied by logical replication are checked like any other write
# (API.md §7, §15): the apply worker runs with session_replication_role =
# replica, and slotguard's guard triggers fire ALWAYS. A publisher of
# slotguard.booking and slotguard.assignment, and a subscriber cluster with
# two subscribing databases, each holding a booking of its own first:
#   sub_b: a replicated booking that overbooks its room is refused (23P01);
#   sub_w: a replicated assignment that puts its worker on two overlapping
#          bookings is refused (23P01).
# The apply workers log the errors (and retry); the subscribers' invariants
# hold. Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "fsync = off" "wal_level = logical"
pub_port=$PGPORT
cluster_start_extra subscriber "fsync = off" "log_line_prefix = '%m [%p] %e %q%a '" \
    "wal_retrieve_retry_interval = '200ms'"
sub_port=$CLUSTER_EXTRA_PORT
sub_log=$CLUSTER_DIR/subscriber/postgres.log

fail() { echo "logical_replication: FAIL: $*" >&2; exit 1; }
pub() { cluster_psql -p "$pub_port" -d postgres "$@"; }
sub() { local db=$1; shift; cluster_psql -p "$sub_port" -d "$db" "$@"; }

setup='SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT key FROM slotguard.upsert_resource($$room$$, 1);
SELECT key FROM slotguard.upsert_resource($$room2$$, 1);'
pub -c "$setup" >/dev/null
# Ids made on the publisher never collide with the subscribers' own.
pub -c "SELECT setval('slotguard.booking_id_seq', 1000, false), setval('slotguard.assignment_id_seq', 1000, false)" >/dev/null
pub -c "CREATE PUBLICATION slotguard_pub FOR TABLE slotguard.booking, slotguard.assignment"

cluster_psql -p "$sub_port" -d postgres -c "CREATE DATABASE sub_b" -c "CREATE DATABASE sub_w"
for db in sub_b sub_w; do
    sub "$db" -c "$setup" >/dev/null
    # The subscriber's own booking, made before anything replicates.
    sub "$db" -c "SELECT id FROM slotguard.book_slot('room', '[2035-01-01 10:00+00,2035-01-01 11:00+00)')" >/dev/null
done
sub sub_w -c "SELECT worker FROM slotguard.assign_workers(1, '{wendy}')" >/dev/null
for db in sub_b sub_w; do
    sub "$db" -c "CREATE SUBSCRIPTION ${db}_sub
        CONNECTION 'host=127.0.0.1 port=$pub_port dbname=postgres user=postgres'
        PUBLICATION slotguard_pub WITH (copy_data = false)" 2>/dev/null
done

# The only ways out of a wait: the condition holds, or the deadline passes.
wait_for() {  # what, seconds, command...
    local what=$1 secs=$2 deadline
    shift 2
    deadline=$((SECONDS + secs))
    until "$@"; do
        ((SECONDS < deadline)) || fail "timed out after ${secs}s waiting for $what"
        sleep 0.2
    done
}
has_row() { [[ $(sub "$1" -At -c "$2") == t ]]; }

# T1, a booking that fits everywhere: replication works.
pub -c "SELECT id FROM slotguard.book_slot('room', '[2035-01-01 12:00+00,2035-01-01 13:00+00)')" >/dev/null
for db in sub_b sub_w; do
    wait_for "the first booking to reach $db" 60 has_row "$db" "SELECT EXISTS (SELECT FROM slotguard.booking WHERE id = 1000)"
done
echo "logical_replication: a booking that fits replicates"

# T2: wendy on a booking of room2 at 10:30-11:30; in sub_w she is already
# on booking 1 (room, 10:00-11:00).
pub -c "BEGIN" -c "SELECT id FROM slotguard.book_slot('room2', '[2035-01-01 10:30+00,2035-01-01 11:30+00)')" \
    -c "SELECT worker FROM slotguard.assign_workers(1001, '{wendy}')" -c "COMMIT" >/dev/null
# T3: room at 10:30-11:30, over sub_b's own booking 1.
pub -c "SELECT id FROM slotguard.book_slot('room', '[2035-01-01 10:30+00,2035-01-01 11:30+00)')" >/dev/null

# sub_b applies T2 (no worker of its own) and refuses T3.
wait_for "T2 to reach sub_b" 60 has_row sub_b "SELECT EXISTS (SELECT FROM slotguard.assignment WHERE worker = 'wendy')"
apply_error() {  # table, message: the subscriber's log holds an apply worker's 23P01 with it
    local table=$1 msg=$2
    # The row must not have gone in meanwhile (else fail now, not at the deadline).
    check_invariants
    grep " 23P01 ERROR: " "$sub_log" | grep -qF "$msg" &&
        grep " 23P01 CONTEXT: " "$sub_log" | grep -qF "processing remote data for replication origin" &&
        grep " 23P01 CONTEXT: " "$sub_log" | grep -qF "for replication target relation \"$table\""
}
check_invariants() {
    local db bad
    for db in sub_b sub_w; do
        bad=$(sub "$db" -At <<'SQL'
WITH active AS (
    SELECT * FROM slotguard.booking
    WHERE status = 'confirmed' OR (status = 'held' AND hold_expires_at > now()))
SELECT 'overbooked ' || a.resource_key || ' by ' || a.id || ' and ' || b.id
FROM active a JOIN active b ON a.resource_key = b.resource_key AND a.id < b.id AND a.blocked && b.blocked
UNION ALL
SELECT 'worker ' || x.worker || ' on ' || x.booking_id || ' and ' || y.booking_id
FROM slotguard.assignment x JOIN slotguard.assignment y
  ON x.worker = y.worker AND x.id < y.id AND x.during && y.during
JOIN active bx ON bx.id = x.booking_id JOIN active by_ ON by_.id = y.booking_id
WHERE x.status = 'active' AND y.status = 'active'
SQL
        )
        [[ -z $bad ]] || fail "$db: a replicated row broke the invariant: $bad"
    done
}
wait_for "sub_b's apply worker to refuse the overbooking" 60 \
    apply_error slotguard.booking 'slot on resource "room" for ["2035-01-01 10:30:00+00","2035-01-01 11:30:00+00") is not available'
echo "logical_replication: the overbooking booking was refused (23P01)"
wait_for "sub_w's apply worker to refuse wendy's second job" 60 \
    apply_error slotguard.assignment 'worker "wendy" is already assigned to booking 1, which overlaps'
echo "logical_replication: the worker's overlapping job was refused (23P01)"
check_invariants
[[ $(sub sub_b -At -c "SELECT count(*) FROM slotguard.booking WHERE id = 1002") == 0 ]] || fail "sub_b holds booking 1002"
[[ $(sub sub_w -At -c "SELECT count(*) FROM slotguard.assignment WHERE worker = 'wendy'") == 1 ]] || fail "sub_w holds wendy's second job"

# Stop the retrying apply workers before the clusters go down.
for db in sub_b sub_w; do sub "$db" -c "ALTER SUBSCRIPTION ${db}_sub DISABLE" >/dev/null; done
echo "logical_replication: OK"
