#!/usr/bin/env bash
# Stress test of order claims (API.md §4): the seed's "two drivers take one
# order", at scale.
#
# Part 1, one hot order. RACERS psql sessions (default 100) queue behind an
# advisory-lock gate and claim the SAME order the instant it opens. The
# winner holds its row for 0.2 s before committing, so the others pile up on
# the row lock and are decided by PostgreSQL's re-check of the claim's WHERE
# on the committed row. Rounds:
#   read committed    a ready order              exactly 1 winner, all others 55P03
#   repeatable read   a ready order              exactly 1 winner, others 55P03 or 40001
#   serializable      a ready order              exactly 1 winner, others 55P03 or 40001
#   takeover          a claim whose lease ran    exactly 1 winner, all others 55P03
#                     out (read committed)
# and the order must end up claimed by the one winner.
#
# Part 2, draining a queue. DRAINERS sessions (default 16) call
# claim_next_order until ORDERS orders (default 10000) are gone; 200 of them
# start as claims whose lease expired (a crashed worker's), so the takeover
# path runs concurrently too. Four sessions ask for one kind, the rest for
# any. Every third claim is completed in the same transaction, the others
# after the queue is empty. Passes only if
# every order was claimed exactly once (by the session that reported it), no
# call failed, and more than one session got work.
#
# Part 3, the direct path. The same drain without expired claims, so that
# every call takes claim_next_order's fast path, at each isolation level
# (40001 allowed under REPEATABLE READ and SERIALIZABLE only; what those
# calls left is swept up after); every order is claimed exactly once.
#
# Anything else — a second winner, an unexpected SQLSTATE, a lost connection,
# a crashed backend, a gate that never fills — fails the test.
# STRESS_ORDERS_NAIVE=1 replaces the API by the seed's broken check-then-write
# (part 1) and a pick-then-update without SKIP LOCKED or re-check (part 2),
# to show that the test catches double claims.
#
# Own throwaway cluster (test/lib/cluster.sh, max_connections = 150).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=test/lib/cluster.sh
source "$ROOT/test/lib/cluster.sh"

RACERS=${RACERS:-100}
DRAINERS=${DRAINERS:-16}
ORDERS=${ORDERS:-10000}
GHOSTS=200 # orders that start as expired claims
NAIVE=${STRESS_ORDERS_NAIVE:-0}
GATE=7001 # advisory lock key of the starting gate
PSQL="$PG_BINDIR/psql -X -q -At"

echo "stress_orders: $RACERS racers on one order x 4 rounds; $DRAINERS sessions draining $ORDERS orders"
# Expected errors by the hundred: keep them out of the server log.
# Preloaded, as production should be: claim_next_order then starts at the
# queue hint (src/pg/orders/queue_hint.hpp), which this test must not catch
# skipping an order (part 4: nothing claimable is left after the sweep).
cluster_start "max_connections = 150" "log_min_messages = log" "log_min_error_statement = panic" \
    "shared_preload_libraries = 'slotguard'"
WORK=$CLUSTER_DIR/stress # removed together with the cluster
mkdir -p "$WORK"
cluster_psql -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION slotguard CASCADE'

failures=0
fail() {
    echo "  FAIL: $*"
    failures=$((failures + 1))
}

# A session kept open and fed statement by statement, idle (no snapshot)
# in between: session_open NAME, session_send NAME SQL..., session_close
# NAME (waits; its output is $WORK/NAME.out, errors $WORK/NAME.err).
declare -A SESSION_FD SESSION_PID
session_open() {
    mkfifo "$WORK/$1.in"
    $PSQL -v ON_ERROR_STOP=1 <"$WORK/$1.in" >"$WORK/$1.out" 2>"$WORK/$1.err" &
    SESSION_PID[$1]=$!
    local fd
    exec {fd}>"$WORK/$1.in"
    SESSION_FD[$1]=$fd
}
session_send() {
    local name=$1
    shift
    printf '%s\n' "$@" >&"${SESSION_FD[$name]}"
}
session_close() {
    local fd=${SESSION_FD[$1]}
    exec {fd}>&-
    wait "${SESSION_PID[$1]}"
}

# --- the gate ---------------------------------------------------------------
# One session holds the advisory lock until $WORK/go-<tag> appears (bounded
# wait, so nothing is left behind on failure); sessions queue on it in shared
# mode and all start the moment it is released.
gate_query() {
    cluster_psql -Atc "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $GATE AND $1"
}
gate_close() { # tag
    cat >"$WORK/holder-$1.sql" <<SQL
SELECT pg_advisory_lock($GATE) \g /dev/null
\! i=0; while [ ! -e '$WORK/go-$1' ] && [ \$i -lt 1600 ]; do sleep 0.025; i=\$((i+1)); done
SELECT pg_advisory_unlock($GATE) \g /dev/null
SQL
    $PSQL -v ON_ERROR_STOP=1 -f "$WORK/holder-$1.sql" &
    holder_pid=$!
    local _
    for _ in $(seq 400); do
        [[ $(gate_query granted) == 1 ]] && return 0
        sleep 0.025
    done
    echo "stress_orders: the gate was never closed" >&2
    exit 1
}
gate_open() { # tag expected_waiters -> 0 if they all queued in time
    local _ waiting
    for _ in $(seq 1200); do # 30 s
        waiting=$(gate_query "NOT granted")
        [[ $waiting == "$2" ]] && break
        sleep 0.025
    done
    touch "$WORK/go-$1"
    wait "$holder_pid"
    if [[ $waiting != "$2" ]]; then
        fail "only $waiting of $2 sessions reached the gate"
        return 1
    fi
    return 0
}
# Sessions print this line before anything else, so a session that never got
# through the gate is told apart from one that failed.
gate_sql() {
    cat <<SQL
\set VERBOSITY verbose
\set SHOW_CONTEXT never
SELECT pg_advisory_lock_shared($GATE) \g /dev/null
SELECT pg_advisory_unlock_shared($GATE) \g /dev/null
SQL
}

# --- part 1: one order, RACERS claimants --------------------------------------
# The claim: print WON:<claimant> and keep the row 0.2 s before committing.
claim_sql() { # key claimant
    if [[ $NAIVE == 1 ]]; then
        # The seed's vulnerable pattern: read, check in "application code", write.
        cat <<SQL
DO \$\$ BEGIN
  IF (SELECT status FROM slotguard.orders WHERE key = '$1') IN ('ready', 'claimed') AND
     (SELECT coalesce(lease_expires_at <= now(), status = 'ready') FROM slotguard.orders WHERE key = '$1') THEN
    PERFORM pg_sleep(0.2);
    UPDATE slotguard.orders SET status = 'claimed', claimant = '$2', claimed_at = now(), lease_expires_at = NULL
     WHERE key = '$1';
    RAISE NOTICE 'WON:$2';
  ELSE
    RAISE EXCEPTION 'order % is already claimed', '$1' USING ERRCODE = '55P03';
  END IF;
END \$\$;
SQL
    else
        cat <<SQL
WITH c AS MATERIALIZED (SELECT claimant FROM slotguard.claim_order('$1', '$2'))
SELECT 'WON:' || claimant, pg_sleep(0.2) FROM c;
SQL
    fi
}

race_round() { # tag title isolation order_key allowed_states
    local tag=$1 title=$2 level=$3 key=$4 allowed=$5 n pids=() start
    echo
    echo "== $title: $RACERS sessions claim order $key at once"
    gate_close "$tag"
    for n in $(seq -w 1 "$RACERS"); do
        {
            gate_sql
            echo '\set ON_ERROR_STOP 0'
            echo "BEGIN ISOLATION LEVEL $level;"
            claim_sql "$key" "driver-$n"
            echo '\echo SQLSTATE :SQLSTATE'
            echo 'COMMIT;'
        } >"$WORK/$tag-$n.sql"
        $PSQL -v ON_ERROR_STOP=1 -f "$WORK/$tag-$n.sql" >"$WORK/$tag-$n.out" 2>"$WORK/$tag-$n.err" &
        pids+=($!)
    done
    start=$SECONDS
    gate_open "$tag" "$RACERS" || true
    for pid in "${pids[@]}"; do wait "$pid" || true; done # judged by the output

    local winners=() state counts="" bad=0 lost=0 w
    declare -A by_state=()
    for n in $(seq -w 1 "$RACERS"); do
        w=$(sed -n 's/.*WON:\(driver-[0-9]*\).*/\1/p' "$WORK/$tag-$n.out" "$WORK/$tag-$n.err" | head -n 1)
        state=$(sed -n 's/^SQLSTATE //p' "$WORK/$tag-$n.out")
        if grep -qE 'server closed the connection|connection to server was lost|terminating connection|FATAL|PANIC' \
            "$WORK/$tag-$n.err"; then
            lost=$((lost + 1))
        fi
        if [[ -n $w ]]; then
            winners+=("$w")
        elif [[ -n $state && " $allowed " == *" $state "* ]]; then
            by_state[$state]=$((${by_state[$state]:-0} + 1))
        else
            bad=$((bad + 1))
            if ((bad <= 3)); then
                echo "  unexpected outcome for driver-$n (SQLSTATE ${state:-none}):"
                grep -v '^LOCATION:' "$WORK/$tag-$n.err" | head -n 4 | sed 's/^/    | /'
            fi
        fi
    done
    for state in "${!by_state[@]}"; do counts+=" $state: ${by_state[$state]},"; done
    local holder
    holder=$(cluster_psql -At -c "SELECT status || ' by ' || coalesce(claimant, '-') FROM slotguard.orders WHERE key = '$key'")
    local shown="${winners[*]:0:4}"
    ((${#winners[@]} > 4)) && shown+=" and $((${#winners[@]} - 4)) more"
    printf '  %ds: winners %d (%s), refused:%s unexpected %d; order %s\n' "$((SECONDS - start))" "${#winners[@]}" \
        "${shown:-none}" "${counts:- none,}" "$bad" "$holder"
    ((${#winners[@]} == 1)) || fail "$title: ${#winners[@]} sessions won the same order (must be exactly 1)"
    ((bad == 0)) || fail "$title: $bad sessions ended with an unexpected SQLSTATE (allowed: $allowed)"
    ((lost == 0)) || fail "$title: $lost sessions lost their connection"
    if ((${#winners[@]} == 1)) && [[ $holder != "claimed by ${winners[0]}" ]]; then
        fail "$title: the order is '$holder', not claimed by the winner ${winners[0]}"
    fi
}

cluster_psql -o /dev/null -c "SELECT slotguard.add_order(k) FROM unnest(ARRAY['hot-rc', 'hot-rr', 'hot-ser', 'hot-lease']) k"
# hot-lease: claimed by a worker whose 1 ms lease has long run out.
cluster_psql -o /dev/null -c "SELECT slotguard.claim_order('hot-lease', 'crashed-worker', lease => '1 millisecond')"
sleep 0.05

race_round rc "read committed" "read committed" hot-rc "55P03"
race_round rr "repeatable read" "repeatable read" hot-rr "55P03 40001"
race_round ser "serializable" "serializable" hot-ser "55P03 40001"
race_round lease "takeover of an expired lease (read committed)" "read committed" hot-lease "55P03"

# --- part 2: DRAINERS sessions drain ORDERS orders ----------------------------
echo
echo "== draining: $DRAINERS sessions take $ORDERS orders with claim_next_order ($GHOSTS start as expired claims)"
# Four kinds; orders of one call share ready_at, so the key orders them.
cluster_psql -o /dev/null <<SQL
SELECT count(slotguard.add_order('q-' || lpad(g::text, 6, '0'), 'k' || (g % 4))) FROM generate_series(1, $ORDERS) g;
-- A crashed worker's claims, long expired, spread through the queue.
UPDATE slotguard.orders SET status = 'claimed', claimant = 'ghost', claimed_at = now() - interval '1 hour',
       lease_expires_at = now() - interval '59 minutes'
WHERE key IN (SELECT 'q-' || lpad(g::text, 6, '0') FROM generate_series(1, $ORDERS, $ORDERS / $GHOSTS) g);
SQL
ghosts=$(cluster_psql -At -c "SELECT count(*) FROM slotguard.orders WHERE claimant = 'ghost'")
# Enough calls for all of it even if one session did all the work at the
# end; calls after the queue is empty return NULL at once.
CALLS=$((ORDERS / DRAINERS * 2 + 200))
gate_close drain
pids=()
for s in $(seq -w 1 "$DRAINERS"); do
    kind=""
    ((10#$s > DRAINERS - 4)) && kind=", kind => 'k$((10#$s % 4))'"
    {
        gate_sql
        # Two of three claims are committed and stay claimed (finished at
        # the end); every third is claimed and completed in one transaction.
        for ((i = 1; i <= CALLS; i++)); do
            if [[ $NAIVE == 1 ]]; then
                # Pick the oldest, then write it without re-checking: two
                # sessions that picked the same order both "win" it.
                echo "WITH c AS (SELECT key FROM slotguard.orders WHERE status = 'ready' OR (status = 'claimed' AND lease_expires_at <= now()) ORDER BY ready_at, key LIMIT 1) UPDATE slotguard.orders o SET status = 'claimed', claimant = 's$s', claimed_at = now(), lease_expires_at = now() + interval '10 minutes' FROM c WHERE o.key = c.key RETURNING 'C:' || o.key;"
            elif ((i % 3 == 0)); then
                echo "SELECT 'C:' || (slotguard.complete_order(o.key, 's$s')).key FROM slotguard.claim_next_order('s$s'$kind, lease => '10 minutes') o WHERE o.key IS NOT NULL;"
            else
                echo "SELECT 'C:' || o.key FROM slotguard.claim_next_order('s$s'$kind, lease => '10 minutes') o WHERE o.key IS NOT NULL;"
            fi
        done
        echo "SELECT count(slotguard.complete_order(key, 's$s')) FROM slotguard.orders WHERE status = 'claimed' AND claimant = 's$s' \\g /dev/null"
        echo '\echo DONE'
    } >"$WORK/drain-$s.sql"
    $PSQL -v ON_ERROR_STOP=0 -f "$WORK/drain-$s.sql" >"$WORK/drain-$s.out" 2>"$WORK/drain-$s.err" &
    pids+=($!)
done
start=$SECONDS
gate_open drain "$DRAINERS" || true
psql_failed=0
for pid in "${pids[@]}"; do wait "$pid" || psql_failed=$((psql_failed + 1)); done
took=$((SECONDS - start))

# Who claimed what, as the sessions saw it.
: >"$WORK/claims.tsv"
busy=0 errors=0 unfinished=0
for s in $(seq -w 1 "$DRAINERS"); do
    n=$(grep -c '^C:' "$WORK/drain-$s.out" || true)
    ((n > 0)) && busy=$((busy + 1))
    sed -n "s/^C:\(.*\)/s$s\t\1/p" "$WORK/drain-$s.out" >>"$WORK/claims.tsv"
    if grep -q 'ERROR' "$WORK/drain-$s.err"; then
        errors=$((errors + $(grep -c 'ERROR' "$WORK/drain-$s.err")))
        grep -v '^LOCATION:' "$WORK/drain-$s.err" | head -n 3 | sed "s/^/    s$s | /"
    fi
    grep -q '^DONE$' "$WORK/drain-$s.out" || unfinished=$((unfinished + 1))
done
reported=$(wc -l <"$WORK/claims.tsv")
distinct=$(cut -f2 "$WORK/claims.tsv" | sort -u | wc -l)
twice=$(cut -f2 "$WORK/claims.tsv" | sort | uniq -d | wc -l)
# The table must agree: every order claimed by a drainer, by the one that
# reported it; none left ready, none still the ghost's.
cluster_psql -c "CREATE TABLE drain_claims (session text, key text)" \
    -c "\\copy drain_claims FROM '$WORK/claims.tsv'"
read -r left ghost_left mismatched done_count < <(cluster_psql -At -F ' ' -c "
    SELECT (SELECT count(*) FROM slotguard.orders WHERE key LIKE 'q-%' AND status = 'ready'),
           (SELECT count(*) FROM slotguard.orders WHERE key LIKE 'q-%' AND claimant = 'ghost'),
           (SELECT count(*) FROM slotguard.orders o WHERE o.key LIKE 'q-%'
              AND NOT EXISTS (SELECT 1 FROM drain_claims c WHERE c.key = o.key AND c.session = o.claimant)),
           (SELECT count(*) FROM slotguard.orders WHERE key LIKE 'q-%' AND status = 'done')")
printf '  %ds: %d claims reported (%d distinct, %d twice) by %d of %d sessions; %d completed;\n' \
    "$took" "$reported" "$distinct" "$twice" "$busy" "$DRAINERS" "$done_count"
printf '  left ready %d, ghost claims left %d (of %d), table/report mismatches %d, errors %d\n' \
    "$left" "$ghost_left" "$ghosts" "$mismatched" "$errors"
((reported == ORDERS)) || fail "$reported claims reported for $ORDERS orders"
((distinct == ORDERS)) || fail "$distinct distinct orders claimed, not $ORDERS"
((twice == 0)) || fail "$twice orders were claimed by two sessions"
((left == 0 && ghost_left == 0)) || fail "the queue was not drained ($left ready, $ghost_left expired claims left)"
((mismatched == 0)) || fail "$mismatched orders are not held by the session that reported claiming them"
((errors == 0)) || fail "$errors calls failed"
((psql_failed == 0 && unfinished == 0)) || fail "$psql_failed psql sessions failed, $unfinished did not finish"
((busy > 1)) || fail "only $busy session(s) got work: the drain was not concurrent"
((ghosts == GHOSTS)) || fail "$ghosts expired claims were set up, not $GHOSTS"

# --- part 3: the direct path under load, at each isolation level ------------
# No expired claim anywhere, so every claim_next_order takes its fast path
# (the direct heap/index claim, src/pg/orders/order_claim_next.cpp). Each claim is
# logged in its own transaction; under REPEATABLE READ / SERIALIZABLE a
# call (or its commit) may fail with 40001, and nothing else may fail. Then
# one session sweeps up what the failed calls left. Every order must be
# claimed exactly once, by the session that logged it.
DIRECT_ORDERS=${DIRECT_ORDERS:-3000}
DIRECT_CALLS=$((DIRECT_ORDERS / DRAINERS * 2 + 100))
for level in "read committed" "repeatable read" "serializable"; do
    echo
    echo "== direct path, $level: $DRAINERS sessions drain $DIRECT_ORDERS orders"
    cluster_psql -o /dev/null <<SQL
SET client_min_messages = warning;
DELETE FROM slotguard.orders;
DROP TABLE IF EXISTS direct_log;
CREATE TABLE direct_log (session text, key text);
SELECT count(slotguard.add_order('d-' || lpad(g::text, 6, '0'), 'k' || (g % 4))) FROM generate_series(1, $DIRECT_ORDERS) g;
SQL
    tag="direct-${level// /-}"
    gate_close "$tag"
    pids=()
    for s in $(seq -w 1 "$DRAINERS"); do
        kind=""
        ((10#$s > DRAINERS - 4)) && kind=", kind => 'k$((10#$s % 4))'"
        {
            gate_sql
            echo "SET default_transaction_isolation = '$level';"
            for ((i = 1; i <= DIRECT_CALLS; i++)); do
                echo "INSERT INTO direct_log SELECT 's$s', o.key FROM slotguard.claim_next_order('s$s'$kind) o WHERE o.key IS NOT NULL;"
            done
            echo '\echo DONE'
        } >"$WORK/$tag-$s.sql"
        $PSQL -v ON_ERROR_STOP=0 -f "$WORK/$tag-$s.sql" >"$WORK/$tag-$s.out" 2>"$WORK/$tag-$s.err" &
        pids+=($!)
    done
    start=$SECONDS
    gate_open "$tag" "$DRAINERS" || true
    psql_failed=0
    for pid in "${pids[@]}"; do wait "$pid" || psql_failed=$((psql_failed + 1)); done
    took=$((SECONDS - start))
    retried=0 errors=0 unfinished=0
    for s in $(seq -w 1 "$DRAINERS"); do
        n=$(grep -c 'ERROR:  40001' "$WORK/$tag-$s.err" || true)
        [[ $level == "read committed" ]] || retried=$((retried + n))
        if grep 'ERROR' "$WORK/$tag-$s.err" | grep -qv "ERROR:  40001"; then
            errors=$((errors + $(grep 'ERROR' "$WORK/$tag-$s.err" | grep -vc "ERROR:  40001")))
            grep 'ERROR' "$WORK/$tag-$s.err" | grep -v "ERROR:  40001" | head -n 3 | sed "s/^/    s$s | /"
        fi
        [[ $level == "read committed" ]] && errors=$((errors + n))
        grep -q '^DONE$' "$WORK/$tag-$s.out" || unfinished=$((unfinished + 1))
    done
    # The sweep: what calls that failed with 40001 left ready.
    cluster_psql -o /dev/null <<SQL
SET default_transaction_isolation = 'read committed';
DO \$\$
DECLARE
    k text;
BEGIN
    FOR i IN 1..$DIRECT_ORDERS LOOP
        SELECT o.key INTO k FROM slotguard.claim_next_order('sweep') o;
        EXIT WHEN k IS NULL;
    END LOOP;
END
\$\$;
SQL
    swept=$(cluster_psql -At -c "SELECT count(*) FROM slotguard.orders WHERE claimant = 'sweep'")
    cluster_psql -c "INSERT INTO direct_log SELECT claimant, key FROM slotguard.orders WHERE claimant = 'sweep'" >/dev/null
    read -r logged distinct left mismatched busy < <(cluster_psql -At -F ' ' -c "
        SELECT (SELECT count(*) FROM direct_log), (SELECT count(DISTINCT key) FROM direct_log),
               (SELECT count(*) FROM slotguard.orders WHERE status <> 'claimed'),
               (SELECT count(*) FROM slotguard.orders o
                 WHERE NOT EXISTS (SELECT 1 FROM direct_log l WHERE l.key = o.key AND l.session = o.claimant)),
               (SELECT count(DISTINCT session) FROM direct_log WHERE session <> 'sweep')")
    printf '  %ds: %d claims logged (%d distinct) by %d of %d sessions, %d swept up after %d 40001s;\n' \
        "$took" "$logged" "$distinct" "$busy" "$DRAINERS" "$swept" "$retried"
    printf '  not claimed %d, table/log mismatches %d, errors %d\n' "$left" "$mismatched" "$errors"
    ((logged == DIRECT_ORDERS && distinct == DIRECT_ORDERS)) ||
        fail "$level: $logged claims logged ($distinct distinct) for $DIRECT_ORDERS orders"
    ((left == 0)) || fail "$level: $left orders were not claimed"
    ((mismatched == 0)) || fail "$level: $mismatched orders are not held by the session that logged them"
    ((errors == 0)) || fail "$level: $errors calls failed"
    ((psql_failed == 0 && unfinished == 0)) || fail "$level: $psql_failed psql sessions failed, $unfinished did not finish"
    ((busy > 1)) || fail "$level: only $busy session(s) got work"
done

# --- part 4: a work queue with fencing tokens (API.md §14) -------------------
# QUEUE_DRAINERS sessions (default 32) work QUEUE_ORDERS orders (default
# 1500, three priorities, max_attempts 3) for QUEUE_SECONDS (default 15),
# under 8 claimant names (four processes share each name: restarted
# workers, pods with one name). Each loop claims (claim_next_order, or a
# claim_next_orders batch) with a random lease of 0.2-0.8 s in one
# transaction, sleeps a random 0-0.6 s (so leases run out, and others take
# the order over), then in a second transaction completes, renews and
# completes, fails (retry_in 0-0.3 s) or releases it, always with its token,
# or abandons it and later comes back with the stale token. Every claim,
# renewal and end is logged in the transaction that made it. Then one
# session sweeps up what is left. Passes only if:
#   every order is done, dead or ready;
#   every done order was completed exactly once, with its last claim's token;
#   no claim was made while the previous claim of the order was live (its
#   lease, as renewed, not yet run out at the new claim's now(), and no
#   release/fail logged for it), and no token repeats within an order;
#   attempts = the failures logged <= max_attempts, dead exactly at max;
#   every call with a stale token was refused (55P03); no other error;
#   when the sweeper's claim_next_order returns NULL, no order is ready with
#   its ready_at passed (none skipped: a queue hint never passes one).
# STRESS_ORDERS_NO_TOKENS=1 passes no tokens (the claimant name alone
# fences, as in 1.1): the stale calls of a reused name then go through and
# the test fails.
QUEUE_DRAINERS=${QUEUE_DRAINERS:-32}
QUEUE_ORDERS=${QUEUE_ORDERS:-1500}
QUEUE_SECONDS=${QUEUE_SECONDS:-15}
USE_TOKENS=$([[ ${STRESS_ORDERS_NO_TOKENS:-0} == 1 ]] && echo false || echo true)
echo
echo "== work queue: $QUEUE_DRAINERS sessions under 8 names, $QUEUE_ORDERS orders, ${QUEUE_SECONDS}s (tokens: $USE_TOKENS)"
cluster_psql -o /dev/null <<SQL
SET client_min_messages = warning;
DELETE FROM slotguard.orders;
CREATE TABLE q_claims (key text, token bigint, claimant text, claimed_at timestamptz, lease_until timestamptz);
CREATE TABLE q_ends (key text, token bigint, what text);
CREATE TABLE q_stale (what text, outcome text);
CREATE TABLE q_fenced (what text, state text);
CREATE TABLE q_errors (who text, state text, msg text);
CREATE TABLE q_swept (at timestamptz);
SELECT count(slotguard.add_order('q-' || lpad(g::text, 5, '0'), priority => g % 3, max_attempts => 3))
FROM generate_series(1, $QUEUE_ORDERS) g;

-- One action on a claim; true if it went through, false if fenced (55P03).
CREATE FUNCTION q_act(me text, o slotguard.orders, what text, tok bigint) RETURNS boolean LANGUAGE plpgsql AS \$\$
DECLARE
    r slotguard.orders;
BEGIN
    IF what = 'complete' THEN
        r := slotguard.complete_order(o.key, me, tok);
        INSERT INTO q_ends VALUES (o.key, o.claim_token, 'complete');
    ELSIF what = 'renew' THEN
        r := slotguard.renew_lease(o.key, me, '1 second', tok);
        UPDATE q_claims SET lease_until = r.lease_expires_at WHERE key = o.key AND token = o.claim_token;
        r := slotguard.complete_order(o.key, me, tok);
        INSERT INTO q_ends VALUES (o.key, o.claim_token, 'complete');
    ELSIF what = 'fail' THEN
        r := slotguard.fail_order(o.key, me, 'failed', (random() * 0.3) * interval '1 second', tok);
        INSERT INTO q_ends VALUES (o.key, o.claim_token, 'fail');
    ELSE
        r := slotguard.release_order(o.key, me, tok);
        INSERT INTO q_ends VALUES (o.key, o.claim_token, 'release');
    END IF;
    RETURN true;
EXCEPTION WHEN lock_not_available THEN
    INSERT INTO q_fenced VALUES (what, SQLSTATE);
    RETURN false;
END
\$\$;

CREATE PROCEDURE q_drain(me text, seconds float8, use_tokens boolean) LANGUAGE plpgsql AS \$\$
DECLARE
    deadline timestamptz := clock_timestamp() + seconds * interval '1 second';
    o slotguard.orders;
    held slotguard.orders[];
    stale slotguard.orders;
    what text;
    r float8;
BEGIN
    WHILE clock_timestamp() < deadline LOOP
        held := '{}';
        BEGIN
            IF random() < 0.2 THEN
                SELECT coalesce(array_agg(b), '{}') INTO held
                FROM slotguard.claim_next_orders(me, lease => (0.2 + random() * 0.6) * interval '1 second',
                                                 max => 1 + (random() * 3)::int) b;
            ELSE
                o := slotguard.claim_next_order(me, lease => (0.2 + random() * 0.6) * interval '1 second');
                IF o.key IS NOT NULL THEN held := ARRAY[o]; END IF;
            END IF;
            INSERT INTO q_claims SELECT h.key, h.claim_token, me, h.claimed_at, h.lease_expires_at FROM unnest(held) h;
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO q_errors VALUES (me, SQLSTATE, 'claim: ' || SQLERRM);
            held := '{}';
        END;
        COMMIT;
        -- Each sleep is followed by a COMMIT, so that the next call runs in
        -- a transaction that began after it: now() (the time leases are
        -- judged by) is then the time of the call.
        IF cardinality(held) = 0 THEN
            PERFORM pg_sleep(0.05);
            COMMIT;
            CONTINUE;
        END IF;
        PERFORM pg_sleep(random() * 0.6);
        COMMIT;
        FOREACH o IN ARRAY held LOOP
            r := random();
            what := CASE WHEN r < 0.35 THEN 'complete' WHEN r < 0.5 THEN 'renew' WHEN r < 0.68 THEN 'fail'
                         WHEN r < 0.8 THEN 'release' ELSE 'abandon' END;
            IF what = 'abandon' THEN
                stale := o;
                CONTINUE;
            END IF;
            BEGIN
                PERFORM q_act(me, o, what, CASE WHEN use_tokens THEN o.claim_token END);
            EXCEPTION WHEN OTHERS THEN
                INSERT INTO q_errors VALUES (me, SQLSTATE, what || ': ' || SQLERRM);
            END;
            COMMIT;
        END LOOP;
        -- Back from the dead: an abandoned claim whose lease has run out,
        -- with its (now stale) token.
        IF stale.key IS NOT NULL AND clock_timestamp() > stale.lease_expires_at THEN
            COMMIT;
            what := (ARRAY['complete', 'renew', 'fail', 'release'])[1 + (random() * 3)::int];
            BEGIN
                IF q_act(me, stale, what, CASE WHEN use_tokens THEN stale.claim_token END) THEN
                    INSERT INTO q_stale VALUES (what, 'went through');
                ELSE
                    INSERT INTO q_stale VALUES (what, 'refused');
                END IF;
            EXCEPTION WHEN OTHERS THEN
                INSERT INTO q_errors VALUES (me, SQLSTATE, 'stale ' || what || ': ' || SQLERRM);
            END;
            COMMIT;
            stale := NULL;
        END IF;
    END LOOP;
END
\$\$;
SQL
# The sweeper's session starts before the drainers and looks at the queue
# once (a kind nobody uses: nothing claimed), so that it sweeps with the
# queue hints the drainers left rather than with a fresh session's (a new
# session's first claim drops every hint of the database); it stays idle,
# holding no snapshot, until then. Autovacuum stays off the table meanwhile
# for the same reason (an ANALYZE also drops them).
cluster_psql -q -c "ALTER TABLE slotguard.orders SET (autovacuum_enabled = off)"
session_open sweeper
session_send sweeper "SELECT slotguard.claim_next_order('sweeper', 'no such kind') IS NULL AS nothing;"
pids=()
for s in $(seq 1 "$QUEUE_DRAINERS"); do
    $PSQL -v ON_ERROR_STOP=1 -c "CALL q_drain('w$((s % 8))', $QUEUE_SECONDS, $USE_TOKENS)" \
        >"$WORK/queue-$s.out" 2>"$WORK/queue-$s.err" &
    pids+=($!)
done
psql_failed=0
for p in "${pids[@]}"; do wait "$p" || psql_failed=$((psql_failed + 1)); done
# Every lease has run out (at most 1 s): the sweeper finishes what is claimable.
sleep 1.2
session_send sweeper "DO \$\$
DECLARE
    o slotguard.orders;
BEGIN
    LOOP
        o := slotguard.claim_next_order('sweeper', lease => '1 hour');
        IF o.key IS NULL THEN
            INSERT INTO q_swept VALUES (now());
            EXIT;
        END IF;
        INSERT INTO q_claims VALUES (o.key, o.claim_token, 'sweeper', o.claimed_at, o.lease_expires_at);
        PERFORM slotguard.complete_order(o.key, 'sweeper', o.claim_token);
        INSERT INTO q_ends VALUES (o.key, o.claim_token, 'complete');
    END LOOP;
END
\$\$;"
session_close sweeper || { fail "work queue: the sweeper failed"; sed 's/^/    | /' "$WORK/sweeper.err"; }
cluster_psql -q -c "ALTER TABLE slotguard.orders RESET (autovacuum_enabled)"
read -r claims done_ dead ready other completes fails stale_refused stale_through fenced errors < <(cluster_psql -At -F ' ' -c "
    SELECT (SELECT count(*) FROM q_claims),
           (SELECT count(*) FROM slotguard.orders WHERE status = 'done'),
           (SELECT count(*) FROM slotguard.orders WHERE status = 'dead'),
           (SELECT count(*) FROM slotguard.orders WHERE status = 'ready'),
           (SELECT count(*) FROM slotguard.orders WHERE status NOT IN ('done', 'dead', 'ready')),
           (SELECT count(*) FROM q_ends WHERE what = 'complete'),
           (SELECT count(*) FROM q_ends WHERE what = 'fail'),
           (SELECT count(*) FROM q_stale WHERE outcome = 'refused'),
           (SELECT count(*) FROM q_stale WHERE outcome <> 'refused'),
           (SELECT count(*) FROM q_fenced),
           (SELECT count(*) FROM q_errors)")
printf '  %d claims; done %d, dead %d, ready %d, other %d; %d completes, %d failures;\n' \
    "$claims" "$done_" "$dead" "$ready" "$other" "$completes" "$fails"
printf '  stale calls refused %d, went through %d; fenced while working %d; errors %d\n' \
    "$stale_refused" "$stale_through" "$fenced" "$errors"
bad_complete=$(cluster_psql -At -c "
    SELECT count(*) FROM slotguard.orders o
    WHERE (o.status = 'done') <> (SELECT count(*) = 1 FROM q_ends e WHERE e.key = o.key AND e.what = 'complete'
                                   AND e.token = o.claim_token)
       OR (SELECT count(*) FROM q_ends e WHERE e.key = o.key AND e.what = 'complete') > 1")
overlap=$(cluster_psql -At -c "
    WITH c AS (SELECT q.*, lead(token) OVER w AS next_token, lead(claimed_at) OVER w AS next_at
               FROM q_claims q WINDOW w AS (PARTITION BY key ORDER BY token))
    SELECT count(*) FROM c
    WHERE next_token IS NOT NULL AND next_at < lease_until
      AND NOT EXISTS (SELECT 1 FROM q_ends e WHERE e.key = c.key AND e.token = c.token
                      AND e.what IN ('fail', 'release'))")
dup_tokens=$(cluster_psql -At -c "SELECT count(*) - count(DISTINCT (key, token)) FROM q_claims")
bad_attempts=$(cluster_psql -At -c "
    SELECT count(*) FROM slotguard.orders o
    WHERE o.attempts > o.max_attempts OR (o.status = 'dead') <> (o.attempts = o.max_attempts)
       OR o.attempts <> (SELECT count(*) FROM q_ends e WHERE e.key = o.key AND e.what = 'fail')")
skipped=$(cluster_psql -At -c "
    SELECT count(*) FROM slotguard.orders WHERE status = 'ready' AND ready_at <= (SELECT at FROM q_swept)")
printf '  ready and due when the sweeper found nothing (skipped) %d\n' "$skipped"
printf '  done orders not completed exactly once with their token %d; overlapping claims %d; repeated tokens %d; attempts wrong %d\n' \
    "$bad_complete" "$overlap" "$dup_tokens" "$bad_attempts"
((other == 0)) || fail "work queue: $other orders are neither done, dead nor ready"
((done_ + dead + ready == QUEUE_ORDERS)) || fail "work queue: $((done_ + dead + ready)) orders, not $QUEUE_ORDERS"
((bad_complete == 0)) || fail "work queue: $bad_complete orders completed other than once with their current token"
((overlap == 0)) || fail "work queue: $overlap claims began while the previous claim of the order was live"
((dup_tokens == 0)) || fail "work queue: $dup_tokens claims repeated a token of their order"
((bad_attempts == 0)) || fail "work queue: $bad_attempts orders with attempts above max, dead off max, or not the failures logged"
((skipped == 0)) || fail "work queue: $skipped ready orders were due but claim_next_order returned NULL"
((stale_through == 0)) || fail "work queue: $stale_through calls with a stale token went through"
((stale_refused > 0)) || fail "work queue: no stale call was tried"
((errors == 0)) || {
    fail "work queue: $errors calls failed"
    cluster_psql -At -c "SELECT state, msg FROM q_errors LIMIT 5" | sed 's/^/    | /'
}
((psql_failed == 0)) || fail "work queue: $psql_failed sessions failed"
((fails > 0 && dead > 0 && fenced > 0)) || fail "work queue: no failures ($fails), dead orders ($dead) or fenced calls ($fenced)"

# --- part 5: queue hints under releases --------------------------------------
# HINT_DRAINERS sessions (default 4) claim and complete as fast as they can
# for HINT_SECONDS (default 8), so the queue hint (src/pg/orders/queue_hint.hpp)
# keeps moving; HINT_HOLDERS sessions (default 3) each claim an order, keep
# it 0.3-1.2 s while idle (no snapshot, so the hint can pass it), and
# release it: back at its old place, behind the hint. One more session,
# opened first and idle throughout, then claims until claim_next_order
# returns NULL. Passes only if at that moment no order is ready and due
# (none skipped) and every order was completed exactly once.
HINT_DRAINERS=${HINT_DRAINERS:-4}
HINT_HOLDERS=${HINT_HOLDERS:-3}
HINT_SECONDS=${HINT_SECONDS:-8}
HINT_ORDERS=${HINT_ORDERS:-4000}
echo
echo "== queue hints: $HINT_DRAINERS drainers, $HINT_HOLDERS holders releasing, $HINT_ORDERS orders, ${HINT_SECONDS}s"
cluster_psql -o /dev/null <<SQL
SET client_min_messages = warning;
DELETE FROM slotguard.orders;
ALTER TABLE slotguard.orders SET (autovacuum_enabled = off);
CREATE TABLE h_done (key text, who text);
CREATE TABLE h_released (key text);
SELECT count(slotguard.add_order('h-' || lpad(g::text, 5, '0'), priority => g % 2))
FROM generate_series(1, $HINT_ORDERS) g;
CREATE PROCEDURE h_drain(me text, seconds float8) LANGUAGE plpgsql AS \$\$
DECLARE
    deadline timestamptz := clock_timestamp() + seconds * interval '1 second';
    o slotguard.orders;
BEGIN
    WHILE clock_timestamp() < deadline LOOP
        o := slotguard.claim_next_order(me);
        IF o.key IS NULL THEN
            COMMIT;
            PERFORM pg_sleep(0.02);
        ELSE
            PERFORM slotguard.complete_order(o.key, me, o.claim_token);
            INSERT INTO h_done VALUES (o.key, me);
            COMMIT;
        END IF;
    END LOOP;
END
\$\$;
SQL
session_open h_sweeper
session_send h_sweeper "SELECT slotguard.claim_next_order('h-sweeper', 'no such kind') IS NULL AS nothing;"
hpids=()
for s in $(seq 1 "$HINT_DRAINERS"); do
    $PSQL -v ON_ERROR_STOP=1 -c "CALL h_drain('hd$s', $HINT_SECONDS)" >"$WORK/hint-$s.out" 2>"$WORK/hint-$s.err" &
    hpids+=($!)
done
hold_loop() { # holder number
    local me=hh$1 end=$((SECONDS + HINT_SECONDS))
    session_open "$me"
    while ((SECONDS < end)); do
        session_send "$me" "SELECT key FROM slotguard.claim_next_order('$me');"
        sleep "0.$((3 + RANDOM % 9))"
        session_send "$me" "INSERT INTO h_released SELECT (slotguard.release_order(key, '$me', claim_token)).key FROM slotguard.orders WHERE claimant = '$me' AND status = 'claimed';"
    done
    session_close "$me"
}
for h in $(seq 1 "$HINT_HOLDERS"); do
    hold_loop "$h" &
    hpids+=($!)
done
hint_failed=0
for p in "${hpids[@]}"; do wait "$p" || hint_failed=$((hint_failed + 1)); done
session_send h_sweeper "DO \$\$
DECLARE
    o slotguard.orders;
BEGIN
    LOOP
        o := slotguard.claim_next_order('h-sweeper');
        IF o.key IS NULL THEN
            INSERT INTO q_swept VALUES (now());
            EXIT;
        END IF;
        PERFORM slotguard.complete_order(o.key, 'h-sweeper', o.claim_token);
        INSERT INTO h_done VALUES (o.key, 'h-sweeper');
    END LOOP;
END
\$\$;"
session_close h_sweeper || { fail "queue hints: the sweeper failed"; sed 's/^/    | /' "$WORK/h_sweeper.err"; }
read -r h_done h_released h_swept h_skipped h_twice < <(cluster_psql -At -F ' ' -c "
    SELECT (SELECT count(*) FROM slotguard.orders WHERE status = 'done'),
           (SELECT count(*) FROM h_released),
           (SELECT count(*) FROM h_done WHERE who = 'h-sweeper'),
           (SELECT count(*) FROM slotguard.orders WHERE status = 'ready' AND ready_at <= (SELECT max(at) FROM q_swept)),
           (SELECT count(*) - count(DISTINCT key) FROM h_done)")
printf '  done %d of %d; releases %d; swept up at the end %d; ready and due when the sweep found nothing %d; completed twice %d\n' \
    "$h_done" "$HINT_ORDERS" "$h_released" "$h_swept" "$h_skipped" "$h_twice"
((h_skipped == 0)) || fail "queue hints: $h_skipped ready orders were due but claim_next_order returned NULL"
((h_done == HINT_ORDERS)) || fail "queue hints: $h_done orders done, not $HINT_ORDERS"
((h_twice == 0)) || fail "queue hints: $h_twice orders completed twice"
((h_released > 0)) || fail "queue hints: no order was released"
((hint_failed == 0)) || { fail "queue hints: $hint_failed sessions failed"; cat "$WORK"/hint-*.err "$WORK"/hh*.err 2>/dev/null | head -5; }
cluster_psql -q -c "ALTER TABLE slotguard.orders RESET (autovacuum_enabled)"

# A backend that crashed makes the postmaster log "terminated by signal".
if grep -qE 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG"; then
    fail "the server log shows a crashed backend:"
    grep -E 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG" | head -n 5 | sed 's/^/    | /' || true
fi

echo
if ((failures > 0)); then
    echo "stress_orders: FAILED ($failures problems)"
    exit 1
fi
echo "stress_orders: OK"
