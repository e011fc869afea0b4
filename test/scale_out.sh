#!/usr/bin/env bash
# Scale-out through PL/Proxy (API.md §9, docs/scale-out.md): four throwaway
# shard clusters with slotguard (configure_shard i of 4) and a coordinator
# with plproxy + slotguard_proxy. Everything below goes through the
# coordinator, as an application would:
#
#   * the seeds' races, each on a tenant of a different shard: 20 clients on
#     one slot (exactly one wins), 14 clients for the last 2 seats of a class
#     of 10 (exactly two win), crossing worker sets on overlapping bookings
#     (no 40P01, one side wins), 100 claimants on one order (exactly one wins);
#   * every contract SQLSTATE arrives unchanged;
#   * routing: each tenant's rows are on exactly the shard its hash names,
#     every booking id's low bits are its shard, calls by id reach that shard,
#     the RUN ON ALL report sees all four;
#   * a killed shard: its tenants get a connection error, the others go on;
#   * the booking invariant holds on every shard at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=test/lib/cluster.sh
source "$ROOT/test/lib/cluster.sh"

SHARDS=4
fail() { echo "scale_out: FAIL: $*" >&2; exit 1; }
say() { echo "scale_out: $*"; }

quiet=("log_min_messages = log" "log_min_error_statement = panic" "fsync = off")
cluster_start "${quiet[@]}" # the coordinator
work=$CLUSTER_DIR/work
mkdir "$work"
PORTS=()
for ((i = 0; i < SHARDS; i++)); do
    cluster_start_extra "shard$i" "${quiet[@]}"
    PORTS+=("$CLUSTER_EXTRA_PORT")
    # A database name per shard, so PL/Proxy's messages say which shard spoke.
    cluster_psql -p "$CLUSTER_EXTRA_PORT" -c "CREATE DATABASE shard$i"
    cluster_psql -p "$CLUSTER_EXTRA_PORT" -d "shard$i" -c "SET client_min_messages = warning" \
        -c "CREATE EXTENSION slotguard CASCADE" \
        -c "SELECT slotguard.configure_shard($i, $SHARDS)" >/dev/null
done
shard() { local i=$1; shift; cluster_psql -p "${PORTS[$i]}" -d "shard$i" -At "$@"; }

servers=$(for ((i = 0; i < SHARDS; i++)); do
    printf "%sp%d 'host=127.0.0.1 port=%s dbname=shard%d connect_timeout=5'" "$([[ $i -gt 0 ]] && echo ', ')" "$i" "${PORTS[$i]}" "$i"
done)
cluster_psql <<SQL
CREATE EXTENSION plproxy;
CREATE EXTENSION slotguard_proxy;
CREATE SERVER slotguard FOREIGN DATA WRAPPER plproxy OPTIONS ($servers);
CREATE USER MAPPING FOR PUBLIC SERVER slotguard OPTIONS (user 'postgres');
SQL
say "coordinator on port $PGPORT, shards on ports ${PORTS[*]}"

# One tenant per shard: the first of t1, t2, ... that hashes there.
TENANT=()
for cand in $(seq 1 200); do
    p=$(cluster_psql -At -c "SELECT slotguard.tenant_hash('t$cand') & $((SHARDS - 1))")
    [[ -n ${TENANT[$p]:-} ]] || TENANT[$p]=t$cand
    [[ ${#TENANT[@]} -eq $SHARDS ]] && break
done
[[ ${#TENANT[@]} -eq $SHARDS ]] || fail "found no tenant for some shard"
say "tenants by shard: ${TENANT[*]}"

# race TAG N SQL: N coordinator sessions wait on one advisory lock, are
# released together and each runs SQL; $work/TAG.<i> holds its output
# (the value, or "ERROR:  <sqlstate>").
race() {
    local tag=$1 n=$2 sql=$3 i pids=() holder
    cluster_psql -c "SELECT pg_advisory_lock(42)" -c "DO \$\$ BEGIN
            FOR i IN 1..1200 LOOP -- at most a minute
                EXIT WHEN (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted) >= $n;
                PERFORM pg_sleep(0.05);
            END LOOP; END \$\$" -c "SELECT pg_advisory_unlock(42)" >/dev/null &
    holder=$!
    until [[ $(cluster_psql -At -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") -ge 1 ]]; do
        sleep 0.05
    done
    for ((i = 1; i <= n; i++)); do
        "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -c '\set VERBOSITY sqlstate' \
            -c "SELECT pg_advisory_lock_shared(42) IS NULL" -c "${sql//@i@/$i}" \
            >"$work/$tag.$i" 2>&1 &
        pids+=($!)
    done
    wait "$holder"
    for i in "${pids[@]}"; do wait "$i" || true; done
}
# count TAG REGEX: how many sessions of race TAG printed a line matching REGEX.
count() { cat "$work/$1".* | grep -cE "$2" || true; }
# unexpected TAG REGEX: lines of race TAG that are neither "f" nor match REGEX.
unexpected() { cat "$work/$1".* | grep -vE "^f$|$2" || true; }

# --- 1. the psychologist seed: 20 clients, one slot ------------------------
T=${TENANT[0]}
race slot 20 "SELECT id FROM slotguard.book_slot('$T:psychologist', '[2026-12-01 14:00Z, 2026-12-01 15:00Z)', holder => 'client-@i@')"
won=$(count slot '^[0-9]+$') lost=$(count slot '^ERROR:  23P01$')
say "same slot on shard 0: $won booked, $lost got 23P01"
[[ $won -eq 1 && $lost -eq 19 ]] || { unexpected slot '^[0-9]+$|23P01' >&2; fail "same-slot race: $won winners, $lost conflicts"; }

# --- 2. the cooking-class seed: capacity 10, 8 sold, 14 clients want 1 ------
T=${TENANT[1]}
cluster_psql -c "SELECT slotguard.upsert_resource('$T:cooking-class', capacity => 10)" \
    -c "SELECT slotguard.book_slot('$T:cooking-class', '[2026-12-05 18:00Z, 2026-12-05 21:00Z)', seats => 8)" >/dev/null
race class 14 "SELECT id FROM slotguard.book_slot('$T:cooking-class', '[2026-12-05 18:00Z, 2026-12-05 21:00Z)', holder => 'guest-@i@')"
won=$(count class '^[0-9]+$') lost=$(count class '^ERROR:  23P01$')
say "last 2 seats on shard 1: $won booked, $lost got 23P01"
[[ $won -eq 2 && $lost -eq 12 ]] || { unexpected class '^[0-9]+$|23P01' >&2; fail "capacity race: $won winners, $lost conflicts"; }
seats=$(shard 1 -c "SELECT sum(seats) FROM slotguard.booking WHERE resource_key = '$T:cooking-class'")
[[ $seats -eq 10 ]] || fail "the class holds $seats seats, not 10"

# --- 3. the dispatcher seed: crossing worker sets on overlapping bookings ---
T=${TENANT[2]}
b1=$(cluster_psql -At -c "SELECT id FROM slotguard.book_slot('$T:van-1', '[2026-12-02 09:00Z, 2026-12-02 12:00Z)')")
b2=$(cluster_psql -At -c "SELECT id FROM slotguard.book_slot('$T:van-2', '[2026-12-02 11:00Z, 2026-12-02 13:00Z)')")
race workers 12 "SELECT count(*) FROM slotguard.assign_workers(CASE WHEN @i@ % 2 = 0 THEN $b1 ELSE $b2 END,
                   CASE WHEN @i@ % 2 = 0 THEN ARRAY['$T:ana', '$T:ben'] ELSE ARRAY['$T:ben', '$T:ana'] END)"
ok=$(count workers '^2$') lost=$(count workers '^ERROR:  23P01$')
say "crossing worker sets on shard 2: $ok assigned, $lost got 23P01"
bad=$(unexpected workers '^2$|23P01')
[[ -z $bad ]] || { echo "$bad" >&2; fail "worker race surfaced other errors (40P01?)"; }
[[ $ok -ge 1 && $((ok + lost)) -eq 12 ]] || fail "worker race: $ok assigned, $lost conflicts"
holders=$(shard 2 -c "SELECT count(DISTINCT booking_id) FROM slotguard.assignment WHERE status = 'active'")
[[ $holders -eq 1 ]] || fail "both overlapping bookings have active workers"

# --- 4. the driver seed: 100 claimants, one order ---------------------------
T=${TENANT[3]}
cluster_psql -c "SELECT slotguard.add_order('$T:order-1')" >/dev/null
race claim 100 "SELECT claimant FROM slotguard.claim_order('$T:order-1', '$T:driver-@i@')"
won=$(count claim "^$T:driver-[0-9]+$") lost=$(count claim '^ERROR:  55P03$')
say "100 claimants on shard 3: $won claimed, $lost got 55P03"
[[ $won -eq 1 && $lost -eq 99 ]] || { unexpected claim "^$T:driver|55P03" >&2; fail "claim race: $won winners, $lost refusals"; }

# --- 5. SQLSTATEs through the coordinator -----------------------------------
T=${TENANT[0]}
expect() {
    local code=$1 sql=$2 got
    got=$("$PG_BINDIR/psql" -X -q -At -c '\set VERBOSITY sqlstate' -c "$sql" 2>&1 >/dev/null | sed -n 's/^ERROR:  //p' || true)
    [[ $got == "$code" ]] || fail "expected $code from: $sql; got '${got:-no error}'"
}
cancelled=$(cluster_psql -At -c "SELECT id FROM slotguard.book_slot('$T:room', '[2026-12-03 10:00Z, 2026-12-03 11:00Z)')")
cluster_psql -c "SELECT slotguard.cancel_booking($cancelled)" >/dev/null
expect 23P01 "SELECT slotguard.book_slot('$T:psychologist', '[2026-12-01 14:30Z, 2026-12-01 15:30Z)')"
expect 22004 "SELECT slotguard.book_slot(NULL, '[2026-12-01 14:00Z, 2026-12-01 15:00Z)')"
expect 22000 "SELECT slotguard.book_slot('$T:room', 'empty')"
expect 22023 "SELECT slotguard.book_slot('$T:room', '[2026-12-01 14:00Z, 2026-12-01 15:00Z)', seats => 0)"
expect P0002 "SELECT slotguard.confirm_booking(999996)"
expect 22004 "SELECT slotguard.cancel_booking(NULL)"
expect 55000 "SELECT slotguard.assign_workers($cancelled, ARRAY['$T:ana'])"
expect 22023 "SELECT slotguard.assign_workers($cancelled, ARRAY['$T:ana', '$T:ana'])"
expect 23505 "SELECT slotguard.add_order('${TENANT[3]}:order-1')"
expect 55P03 "SELECT slotguard.complete_order('${TENANT[3]}:order-1', 'someone-else')"
expect 55000 "SELECT slotguard.claim_order((slotguard.add_order('$T:later', ready => false)).key, 'x')"
expect P0002 "SELECT slotguard.claim_order('$T:no-such-order', 'x')"
msg=$("$PG_BINDIR/psql" -X -q -At -c "SELECT slotguard.book_slot('$T:psychologist', '[2026-12-01 14:30Z, 2026-12-01 15:30Z)')" 2>&1 >/dev/null || true)
say "a conflict as the coordinator reports it:"
sed 's/^/    /' <<<"$msg"
grep -q '^ERROR:  slotguard.book_slot(7): \[shard0\] REMOTE ERROR: ' <<<"$msg" || fail "unexpected message format: $msg"
grep -q '^DETAIL:  Remote detail: ' <<<"$msg" || fail "the conflict's DETAIL was lost"
grep -q '^HINT:  Remote hint: ' <<<"$msg" || fail "the conflict's HINT was lost"
say "23P01 22004 22000 22023 P0002 55000 55P03 23505 arrive unchanged"

# --- 6. routing ---------------------------------------------------------------
for ((i = 0; i < SHARDS; i++)); do
    # a booking made here, found again through the coordinator by its id
    id=$(cluster_psql -At -c "SELECT id FROM slotguard.book_slot('${TENANT[$i]}:routing', '[2026-12-09 10:00Z, 2026-12-09 11:00Z)')")
    [[ $((id & (SHARDS - 1))) -eq $i ]] || fail "booking $id of shard $i has the wrong low bits"
    cluster_psql -c "SELECT slotguard.cancel_booking($id)" >/dev/null
    [[ $(shard "$i" -c "SELECT status FROM slotguard.booking WHERE id = $id") == cancelled ]] ||
        fail "cancel_booking($id) did not reach shard $i"
    stray=$(shard "$i" -c "SELECT count(*) FROM slotguard.booking WHERE id & $((SHARDS - 1)) <> $i")
    [[ $stray -eq 0 ]] || fail "shard $i holds $stray bookings whose ids route elsewhere"
    tenants=$(shard "$i" -c "SELECT string_agg(DISTINCT t, ' ') FROM (
        SELECT slotguard.tenant_of(key) FROM slotguard.resource UNION ALL
        SELECT slotguard.tenant_of(key) FROM slotguard.orders UNION ALL
        SELECT slotguard.tenant_of(worker) FROM slotguard.assignment) x(t)")
    [[ $tenants == "${TENANT[$i]}" ]] || fail "shard $i holds tenants '$tenants', expected only ${TENANT[$i]}"
done
info=$(cluster_psql -At -c "SELECT string_agg(shard_number || '/' || shard_count || ':' || ids_route_here, ' ' ORDER BY shard_number) FROM slotguard.shard_info()")
[[ $info == "0/4:true 1/4:true 2/4:true 3/4:true" ]] || fail "shard_info() through the coordinator: $info"
say "each tenant on its hashed shard only, ids route back, RUN ON ALL sees $info"

# --- 7. the booking invariant on every shard ----------------------------------
invariant="
WITH active AS (
    SELECT b.resource_key, b.seats, r.capacity, b.blocked
    FROM slotguard.booking b JOIN slotguard.resource r ON r.key = b.resource_key
    WHERE b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now()))
SELECT count(*) FROM (SELECT DISTINCT resource_key, lower(blocked) AS t FROM active) i
WHERE (SELECT sum(a.seats) FROM active a WHERE a.resource_key = i.resource_key AND a.blocked @> i.t)
      > (SELECT r.capacity FROM slotguard.resource r WHERE r.key = i.resource_key)"
for ((i = 0; i < SHARDS; i++)); do
    v=$(shard "$i" -c "$invariant")
    [[ $v -eq 0 ]] || fail "shard $i: $v invariant violations"
done
say "invariant: 0 violations on all $SHARDS shards"

# --- 8. a shard goes down -----------------------------------------------------
cluster_crash_extra shard3
err=$("$PG_BINDIR/psql" -X -q -At -c "SELECT slotguard.book_slot('${TENANT[3]}:room', '[2026-12-10 10:00Z, 2026-12-10 11:00Z)')" 2>&1 >/dev/null || true)
say "a call for shard 3's tenant with shard 3 down: ${err%%$'\n'*}"
grep -qiE 'connect|connection' <<<"$err" || fail "no connection error for a tenant of the dead shard: $err"
for ((i = 0; i < SHARDS - 1; i++)); do
    id=$(cluster_psql -At -c "SELECT id FROM slotguard.book_slot('${TENANT[$i]}:room', '[2026-12-10 10:00Z, 2026-12-10 11:00Z)')") ||
        fail "tenant ${TENANT[$i]} on live shard $i failed while shard 3 was down"
done
say "tenants of shards 0-2 keep booking while shard 3 is down"
say "OK"
