#!/usr/bin/env bash
# On a streaming hot standby every writing function answers 25006 (API.md
# §6) before it looks at anything, and the queries (free_slots,
# availability, worker_schedule, shard_info) answer from the replicated rows.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "fsync = off"

fail() { echo "hot_standby: FAIL: $*" >&2; exit 1; }

cluster_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT key FROM slotguard.upsert_resource('room', 1);
SELECT id FROM slotguard.book_slot('room', '[2033-01-01 10:00+00,2033-01-01 11:00+00)', hold => '1 day');
SELECT id FROM slotguard.book_slot('room', '[2033-01-01 12:00+00,2033-01-01 13:00+00)');
SELECT worker FROM slotguard.assign_workers(1, '{wendy}');
SELECT key FROM slotguard.add_order('o1');
SELECT key FROM slotguard.add_order('o2', ready => false);
SELECT key FROM slotguard.add_order('o3');
SELECT key FROM slotguard.claim_order('o3', 'c');
CREATE TABLE visit (id int PRIMARY KEY, room text NOT NULL, during tstzrange NOT NULL);
CREATE TABLE plain (id int PRIMARY KEY, room text NOT NULL, during tstzrange NOT NULL);
SELECT slotguard.protect('visit', 'room', 'during');
INSERT INTO visit VALUES (1, 'r1', '[2033-01-01 10:00+00,2033-01-01 11:00+00)');
CREATE FUNCTION public.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SQL

cluster_start_standby standby
standby() { cluster_psql -p "$CLUSTER_EXTRA_PORT" "$@"; }

# Wait (bounded) until the standby has replayed everything the primary wrote.
target=$(cluster_psql -At -c "SELECT pg_current_wal_lsn()")
deadline=$((SECONDS + 60))
until [[ $(standby -At -c "SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() >= '$target'") == t ]]; do
    ((SECONDS < deadline)) || fail "the standby did not catch up within 60 s"
    sleep 0.2
done

calls=$(standby -At -F '|' <<'SQL'
SELECT f, public.sqlstate_of(q) FROM (VALUES
    ('upsert_resource', 'SELECT slotguard.upsert_resource(''room'', 2)'),
    ('upsert_resource(new key)', 'SELECT slotguard.upsert_resource(''new'')'),
    ('book_slot', 'SELECT slotguard.book_slot(''room'', ''[2033-01-02 10:00+00,2033-01-02 11:00+00)'')'),
    ('book_slot(NULLs)', 'SELECT slotguard.book_slot(NULL, NULL)'),
    ('try_book_slot', 'SELECT slotguard.try_book_slot(''room'', ''[2033-01-02 10:00+00,2033-01-02 11:00+00)'')'),
    ('confirm_booking', 'SELECT slotguard.confirm_booking(1)'),
    ('cancel_booking', 'SELECT slotguard.cancel_booking(1)'),
    ('reschedule_booking', 'SELECT slotguard.reschedule_booking(1, ''[2033-01-01 14:00+00,2033-01-01 15:00+00)'')'),
    ('assign_workers', 'SELECT slotguard.assign_workers(2, ''{walt}'')'),
    ('unassign_worker', 'SELECT slotguard.unassign_worker(1, ''wendy'')'),
    ('add_order', 'SELECT slotguard.add_order(''o9'')'),
    ('set_order_ready', 'SELECT slotguard.set_order_ready(''o2'')'),
    ('claim_order', 'SELECT slotguard.claim_order(''o1'', ''c'')'),
    ('try_claim_order', 'SELECT slotguard.try_claim_order(''o1'', ''c'')'),
    ('claim_next_order', 'SELECT slotguard.claim_next_order(''c'')'),
    ('release_order', 'SELECT slotguard.release_order(''o3'', ''c'')'),
    ('complete_order', 'SELECT slotguard.complete_order(''o3'', ''c'')'),
    ('protect', 'SELECT slotguard.protect(''plain'', ''room'', ''during'')'),
    ('unprotect', 'SELECT slotguard.unprotect(''visit'')'),
    ('configure_shard', 'SELECT slotguard.configure_shard(0, 1)'),
    ('configure_shard(NULLs)', 'SELECT slotguard.configure_shard(NULL, NULL)')
) v(f, q)
SQL
)
echo "$calls" | sed 's/^/hot_standby: /'
[[ $(wc -l <<<"$calls") -eq 21 ]] || fail "expected 21 answers"
bad=$(grep -v '|25006: cannot execute slotguard\.[a-z_]*() during recovery$' <<<"$calls" || true)
[[ -z $bad ]] || fail "a writing function on the standby did not answer 25006 during recovery: $bad"

# The queries answer from the replicated rows.
[[ $(standby -At -c "SELECT count(*) FROM slotguard.free_slots('room', '[2033-01-01 09:00+00,2033-01-01 14:00+00)', '1 hour')") == 3 ]] ||
    fail "free_slots on the standby"
[[ $(standby -At -c "SELECT string_agg(free_seats::text, ',' ORDER BY during) FROM slotguard.availability('room', '[2033-01-01 09:00+00,2033-01-01 14:00+00)')") == 1,0,1,0,1 ]] ||
    fail "availability on the standby"
[[ $(standby -At -c "SELECT count(*) FROM slotguard.worker_schedule('wendy', '[2033-01-01 00:00+00,2033-01-02 00:00+00)')") == 1 ]] ||
    fail "worker_schedule on the standby"
[[ $(standby -At -c "SELECT shard_number || '/' || shard_count || ' ' || bookings FROM slotguard.shard_info()") == "0/1 2" ]] ||
    fail "shard_info on the standby"
# ... inside an explicit read-only transaction too, and nothing changed.
standby -At -c "BEGIN READ ONLY" -c "SELECT count(*) FROM slotguard.availability('room', '[2033-01-01 09:00+00,2033-01-01 14:00+00)')" -c "COMMIT" >/dev/null ||
    fail "availability in a read-only transaction on the standby"
[[ $(cluster_psql -At -c "SELECT count(*) FROM slotguard.booking") == 2 ]] || fail "the primary's bookings changed"
echo "hot_standby: OK"
