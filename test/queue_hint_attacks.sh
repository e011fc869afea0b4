#!/usr/bin/env bash
# Attacks on the queue hint (src/pg/orders/queue_hint.hpp) that one session
# can make: every claim below is checked against the head of the queue
# (public.hc: the first due ready order by priority DESC, ready_at, key, of
# the kind, read just before the claim), and the whole session is run twice,
# with orders_queue_changed enabled (claims start at the hints) and disabled
# (claims scan from the head); both runs must claim the same orders.
#
# Ways of putting orders (back) in front of the hint: session_replication_role
# = replica, COPY, INSERT ... ON CONFLICT DO UPDATE, MERGE, a claim rolled
# back to a savepoint, prepared transactions (claim and add, rolled back and
# committed), the direct release; and around them: keys longer than the 64
# bytes a hint keeps (and 63/64/65, and 994: compressed in the index)
# sharing one (priority, ready_at), 70
# kinds (more than the 64 hint slots) with NULL-kind claims between, a kind
# longer than 64 bytes, VACUUM, REINDEX CONCURRENTLY, TRUNCATE, DROP and
# CREATE EXTENSION. Then two databases with the same index oids (one cloned
# from the other): one's hint must not be used in the other.
#
# A canary shows the hints are in use in the first run and not in the
# second: a claim starting at a hint takes two index scans (the hint's
# (priority, ready_at), then the later ones), one from the head takes one.
#
# Last, logical replication: a subscriber (preloaded) drains its copy of the
# queue, the publisher adds an urgent order, the apply worker writes it
# (session_replication_role = replica): the subscriber's next claim takes it.
#
# Own throwaway clusters, slotguard preloaded, autovacuum off (VACUUM runs
# where the script says), max_prepared_transactions > 0, wal_level = logical.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=test/lib/cluster.sh
source "$ROOT/test/lib/cluster.sh"
cluster_start "shared_preload_libraries = 'slotguard'" "autovacuum = off" "max_prepared_transactions = 5" \
    "wal_level = logical"

fail() { echo "queue_hint_attacks: FAIL: $*" >&2; exit 1; }

# The session's SQL; $1: the statement run after every CREATE EXTENSION.
session_sql() {
    local mode=$1 i r k
    cat <<SQL
\\set ON_ERROR_STOP 1
\\pset tuples_only on
\\pset format unaligned
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
$mode
CREATE FUNCTION public.hc(k text DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE want text; got text;
BEGIN
  SELECT o.key INTO want FROM slotguard.orders o
  WHERE o.status = 'ready' AND o.ready_at <= now() AND (k IS NULL OR o.kind = k)
  ORDER BY o.priority DESC, o.ready_at, o.key LIMIT 1;
  SELECT (slotguard.claim_next_order('t', k)).key INTO got;
  IF got IS DISTINCT FROM want THEN
    RAISE EXCEPTION 'claim_next_order(kind %) took %, the head of the queue is %', k, got, want;
  END IF;
  RETURN coalesce(left(got, 12), '<none>');
END \$\$;
SQL
    # Orders with ready_at one apart; three drained, one transaction each.
    for i in $(seq -w 1 12); do echo "SELECT count(*) FROM slotguard.add_order('c-$i');"; done
    for i in 1 2 3; do echo "SELECT 'drain', public.hc();"; done
    cat <<'SQL'
BEGIN;
SELECT pg_stat_get_xact_numscans('slotguard.orders_queue_idx'::regclass) AS before \gset canary_
SELECT 'canary', (slotguard.claim_next_order('t')).key;
SELECT pg_stat_get_xact_numscans('slotguard.orders_queue_idx'::regclass) - :canary_before AS scans \gset canary_
COMMIT;
\echo canary :canary_scans
-- session_replication_role = replica: a new order and one put back.
SET session_replication_role = replica;
INSERT INTO slotguard.orders (key, status, ready_at, priority) VALUES ('r-1', 'ready', now(), 3);
UPDATE slotguard.orders SET status = 'ready', claimant = NULL, claimed_at = NULL WHERE key = 'c-01';
RESET session_replication_role;
SELECT 'replica', public.hc();
SELECT 'replica', public.hc();
-- COPY, at the very front of priority 0.
COPY slotguard.orders (key, status, ready_at) FROM STDIN;
p-1	ready	-infinity
\.
SELECT 'copy', public.hc();
-- INSERT ... ON CONFLICT DO UPDATE puts a claimed order back.
INSERT INTO slotguard.orders (key, status, ready_at) VALUES ('c-02', 'ready', '-infinity')
ON CONFLICT (key) DO UPDATE SET status = 'ready', claimant = NULL, claimed_at = NULL, ready_at = '-infinity';
SELECT 'upsert', public.hc();
-- MERGE: one put back, one added.
MERGE INTO slotguard.orders o USING (VALUES ('c-03'), ('m-1')) v(k) ON o.key = v.k
WHEN MATCHED THEN UPDATE SET status = 'ready', claimant = NULL, claimed_at = NULL, priority = 2
WHEN NOT MATCHED THEN INSERT (key, status, ready_at, priority) VALUES (v.k, 'ready', now(), 2);
SELECT 'merge', public.hc();
SELECT 'merge', public.hc();
-- A claim rolled back to a savepoint: the same order again.
BEGIN;
SAVEPOINT a;
SELECT 'savepoint', public.hc();
ROLLBACK TO a;
SELECT 'savepoint', public.hc();
ROLLBACK;
SELECT 'savepoint', public.hc();
-- Prepared: a claim rolled back, an order added and committed.
BEGIN;
SELECT 'prepared', public.hc();
PREPARE TRANSACTION 'hint_claim';
SELECT 'prepared', (slotguard.claim_next_order('t')).key;
ROLLBACK PREPARED 'hint_claim';
SELECT 'prepared', public.hc();
BEGIN;
SELECT count(*) FROM slotguard.add_order('pp-1', priority => 8);
PREPARE TRANSACTION 'hint_add';
SELECT 'prepared', public.hc();
COMMIT PREPARED 'hint_add';
SELECT 'prepared', public.hc();
-- The direct release.
SELECT 'release', key FROM slotguard.release_order('c-05', 't');
SELECT 'release', public.hc();
-- Keys longer than a hint keeps, and at its limit, on one (priority, ready_at).
SELECT count(slotguard.add_order(k, priority => 1)) FROM (
  SELECT 'L' || lpad(i::text, 3, '0') || repeat('x', 90) AS k FROM generate_series(1, 30) i
  UNION ALL SELECT 'K' || repeat('a', n) FROM generate_series(61, 65) n
  UNION ALL SELECT 'K' || repeat('a', 63) || c FROM unnest(ARRAY['0', 'b', 'z']) c
  UNION ALL SELECT 'Z' || lpad(i::text, 3, '0') || repeat('y', 990) FROM generate_series(1, 10) i) s;
SQL
    for i in $(seq 1 12); do echo "SELECT 'long', public.hc();"; done
    echo "SELECT 'long', key = 'K' || repeat('a', 63) FROM slotguard.release_order('K' || repeat('a', 63), 't');"
    echo "SELECT 'long', key FROM slotguard.release_order('L003' || repeat('x', 90), 't');"
    for i in $(seq 1 4); do echo "SELECT 'long', public.hc();"; done
    # Keys the index keeps compressed (990 bytes).
    for i in $(seq 1 30); do echo "SELECT 'long', public.hc();"; done
    echo "SELECT 'long', left(key, 4) FROM slotguard.release_order('Z004' || repeat('y', 990), 't');"
    for i in $(seq 1 3); do echo "SELECT 'long', public.hc();"; done
    # 70 kinds: more than the hint slots; NULL-kind claims in between.
    echo "SELECT count(slotguard.add_order('k' || lpad(k::text, 2, '0') || '-' || i, 'kind-' || lpad(k::text, 2, '0'), priority => 4)) FROM generate_series(1, 70) k, generate_series(1, 3) i;"
    for r in 1 2; do
        for k in $(seq -w 1 70); do
            echo "SELECT 'kinds', public.hc('kind-$k');"
            [[ $k == *5 ]] && echo "SELECT 'kinds', public.hc();"
        done
        echo "SELECT 'kinds', key FROM slotguard.release_order('k33-1', 't');"
    done
    # A kind longer than 64 bytes.
    echo "SELECT count(slotguard.add_order('lk-' || i, repeat('k', 100), priority => 4)) FROM generate_series(1, 5) i;"
    for i in 1 2 3; do echo "SELECT 'longkind', public.hc(repeat('k', 100));"; done
    echo "SELECT 'longkind', key FROM slotguard.release_order('lk-2', 't');"
    for i in 1 2; do echo "SELECT 'longkind', public.hc(repeat('k', 100));"; done
    # VACUUM, REINDEX CONCURRENTLY, TRUNCATE, DROP and CREATE EXTENSION.
    for i in 1 2 3; do echo "SELECT 'vacuum', public.hc();"; done
    echo "VACUUM slotguard.orders;"
    for i in 1 2; do echo "SELECT 'vacuum', public.hc();"; done
    echo "SELECT count(*) FROM slotguard.add_order('v-1', priority => 9);"
    echo "SELECT 'vacuum', public.hc();"
    echo "REINDEX INDEX CONCURRENTLY slotguard.orders_queue_idx;"
    for i in 1 2; do echo "SELECT 'reindex', public.hc();"; done
    echo "SELECT 'reindex', key FROM slotguard.release_order('c-06', 't');"
    echo "SELECT 'reindex', public.hc();"
    echo "TRUNCATE slotguard.orders CASCADE;"
    for i in 1 2 3; do echo "SELECT count(*) FROM slotguard.add_order('t-$i');"; done
    for i in 1 2 3 4; do echo "SELECT 'truncate', public.hc();"; done
    echo "DROP EXTENSION slotguard;"
    echo "CREATE EXTENSION slotguard CASCADE;"
    echo "$mode"
    for i in 1 2 3; do echo "SELECT count(*) FROM slotguard.add_order('e-$i');"; done
    for i in 1 2; do echo "SELECT 'extension', public.hc();"; done
    echo "SELECT 'extension', key FROM slotguard.release_order('e-1', 't');"
    for i in 1 2 3; do echo "SELECT 'extension', public.hc();"; done
    echo "DROP EXTENSION slotguard;"
    echo "DROP FUNCTION public.hc(text);"
}

session_sql "SELECT 'hints on';" >"$CLUSTER_DIR/on.sql"
session_sql "ALTER TABLE slotguard.orders DISABLE TRIGGER orders_queue_changed;" >"$CLUSTER_DIR/off.sql"
[[ $EUID -ne 0 ]] || chown postgres: "$CLUSTER_DIR"/*.sql
cluster_psql -f "$CLUSTER_DIR/on.sql" >"$CLUSTER_DIR/on.out" 2>&1 || { cat "$CLUSTER_DIR/on.out"; fail "session with hints"; }
cluster_psql -f "$CLUSTER_DIR/off.sql" >"$CLUSTER_DIR/off.out" 2>&1 || { cat "$CLUSTER_DIR/off.out"; fail "session without hints"; }
on_canary=$(grep '^canary [0-9]' "$CLUSTER_DIR/on.out" || true)
off_canary=$(grep '^canary [0-9]' "$CLUSTER_DIR/off.out" || true)
[[ $on_canary == "canary 2" ]] || fail "hints not in use with the trigger enabled ($on_canary)"
[[ $off_canary == "canary 1" ]] || fail "a claim scanned from a hint with the trigger disabled ($off_canary)"
if ! diff <(grep -v '^canary [0-9]\|^hints on$' "$CLUSTER_DIR/on.out") <(grep -v '^canary [0-9]' "$CLUSTER_DIR/off.out"); then
    fail "claims with and without hints differ"
fi
claims=$(grep -c '|' "$CLUSTER_DIR/on.out")
echo "queue_hint_attacks: $claims checked claims, the same with and without hints"

# Two databases with the same oids: a hint of one must not be used in the other.
cluster_psql -c "CREATE DATABASE hint_a"
cluster_psql -d hint_a -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard CASCADE" \
    -c "SELECT count(slotguard.add_order(k)) FROM unnest(ARRAY['o-1', 'o-2', 'o-3', 'o-4', 'o-5']) k" >/dev/null
cluster_psql -c "CREATE DATABASE hint_b TEMPLATE hint_a"
oid_a=$(cluster_psql -d hint_a -At -c "SELECT 'slotguard.orders_queue_idx'::regclass::oid")
oid_b=$(cluster_psql -d hint_b -At -c "SELECT 'slotguard.orders_queue_idx'::regclass::oid")
[[ $oid_a == "$oid_b" ]] || fail "the cloned database has other oids ($oid_a, $oid_b)"
# One session of hint_a drains three orders (its hint stands at o-4), then
# a session of hint_b, which drained nothing, claims: o-1.
got_a=$(cluster_psql -d hint_a -At -c "SELECT (slotguard.claim_next_order('a')).key" \
    -c "SELECT (slotguard.claim_next_order('a')).key" -c "SELECT (slotguard.claim_next_order('a')).key" | tr '\n' ' ')
[[ $got_a == "o-1 o-2 o-3 " ]] || fail "hint_a drained: $got_a"
got_b=$(cluster_psql -d hint_b -At -c "SELECT (slotguard.claim_next_order('b')).key")
[[ $got_b == "o-1" ]] || fail "hint_b's first claim took $got_b, not o-1"

# Logical replication into a preloaded subscriber.
cluster_start_extra subscriber "shared_preload_libraries = 'slotguard'" "autovacuum = off" \
    "wal_retrieve_retry_interval = '200ms'"
sub_port=$CLUSTER_EXTRA_PORT
cluster_psql -c "CREATE DATABASE hint_pub"
cluster_psql -d hint_pub -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard CASCADE" \
    -c "SELECT count(slotguard.add_order(k)) FROM unnest(ARRAY['o-1', 'o-2', 'o-3', 'o-4', 'o-5']) k" \
    -c "CREATE PUBLICATION hint_pub FOR TABLE slotguard.orders" >/dev/null
cluster_psql -p "$sub_port" -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard CASCADE" \
    -c "CREATE SUBSCRIPTION hint_sub CONNECTION 'host=127.0.0.1 port=$PGPORT dbname=hint_pub user=postgres'
        PUBLICATION hint_pub" >/dev/null
for _ in $(seq 1 600); do
    n=$(cluster_psql -p "$sub_port" -At -c "SELECT count(*) FROM slotguard.orders")
    [[ $n == 5 ]] && break
    sleep 0.1
done
[[ $n == 5 ]] || fail "the subscriber has $n of 5 orders"
session_sql "SELECT 'hints on';" | sed -n '/^CREATE FUNCTION public.hc/,/^END \$\$;$/p' >"$CLUSTER_DIR/sub.sql"
cat >>"$CLUSTER_DIR/sub.sql" <<SQL
SELECT 'sub', public.hc();
SELECT 'sub', public.hc();
SELECT 'sub', public.hc();
\\! "$PG_BINDIR/psql" -X -q -At -d hint_pub -c "SELECT key FROM slotguard.add_order('urgent', priority => 9)"
DO \$\$ BEGIN
  FOR i IN 1 .. 600 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM slotguard.orders WHERE key = 'urgent');
    PERFORM pg_sleep(0.1);
  END LOOP;
END \$\$;
SELECT 'sub', public.hc();
SELECT 'sub', public.hc();
SQL
[[ $EUID -ne 0 ]] || chown postgres: "$CLUSTER_DIR/sub.sql"
got=$(cluster_psql -p "$sub_port" -v ON_ERROR_STOP=1 -At -f "$CLUSTER_DIR/sub.sql" | tr '\n' ' ') ||
    fail "subscriber session: $got"
[[ $got == "sub|o-1 sub|o-2 sub|o-3 urgent sub|urgent sub|o-4 " ]] || fail "subscriber claims: $got"
cluster_psql -p "$sub_port" -c "SET client_min_messages = warning" -c "DROP SUBSCRIPTION hint_sub" >/dev/null
echo "queue_hint_attacks: PASS"
