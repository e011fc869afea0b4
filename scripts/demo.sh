#!/usr/bin/env bash
# The seeds' race, shown plainly: 20 clients try to book the SAME one-hour
# slot with dr-smith at the same instant. Check-then-insert code lets several
# of them through; slotguard lets exactly one win and refuses the others with
# SQLSTATE 23P01 and free alternatives in the HINT.
#
# Runs on its own throwaway cluster (test/lib/cluster.sh); needs the
# extension installed (scripts/build.sh). Exits non-zero unless exactly one
# client won and every other one got 23P01. CLIENTS=N changes the crowd.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=test/lib/cluster.sh
source "$ROOT/test/lib/cluster.sh"

CLIENTS=${CLIENTS:-20}
DAY=$(date -u -d tomorrow +%F)
SLOT="[$DAY 14:00+00,$DAY 15:00+00)"
LOCK_KEY=42 # advisory lock used as the starting gate

if [[ ! -f $("$PG_BINDIR/pg_config" --pkglibdir)/slotguard.so ]]; then
    echo "demo: slotguard is not installed; run scripts/build.sh first" >&2
    exit 1
fi

cluster_start
WORK=$CLUSTER_DIR/demo # removed together with the cluster
mkdir -p "$WORK"

cluster_psql <<'SQL'
SET client_min_messages = warning; -- no NOTICE about btree_gist
CREATE EXTENSION slotguard CASCADE;
SELECT slotguard.upsert_resource('dr-smith', kind => 'psychologist') \g /dev/null
SQL
echo "demo: resource 'dr-smith' (psychologist, capacity 1); slot $SLOT"

# The gate: one session holds advisory lock 42 exclusively until the file
# $WORK/go appears (bounded wait, so nothing is left behind on failure).
cat >"$WORK/holder.sql" <<SQL
SELECT pg_advisory_lock($LOCK_KEY) \g /dev/null
\! i=0; while [ ! -e '$WORK/go' ] && [ \$i -lt 1200 ]; do sleep 0.025; i=\$((i+1)); done
SELECT pg_advisory_unlock($LOCK_KEY) \g /dev/null
SQL
"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -f "$WORK/holder.sql" &
holder_pid=$!

gate_query() {
    cluster_psql -Atc "SELECT count(*) FROM pg_locks
                       WHERE locktype = 'advisory' AND objid = $LOCK_KEY AND $1"
}
for _ in $(seq 400); do
    [[ $(gate_query granted) == 1 ]] && break
    sleep 0.025
done
[[ $(gate_query granted) == 1 ]] || { echo "demo: the gate was never closed" >&2; exit 1; }

# Each client queues on the gate (shared lock), then books the moment it opens.
# \set VERBOSITY verbose puts the SQLSTATE into the error line.
pids=()
for n in $(seq -w 1 "$CLIENTS"); do
    cat >"$WORK/client-$n.sql" <<SQL
\set VERBOSITY verbose
\set SHOW_CONTEXT never
SELECT pg_advisory_lock_shared($LOCK_KEY) \g /dev/null
SELECT pg_advisory_unlock_shared($LOCK_KEY) \g /dev/null
\set ON_ERROR_STOP 0
SELECT 'BOOKED ' || id FROM slotguard.book_slot('dr-smith', '$SLOT', holder => 'client-$n');
\echo SQLSTATE :SQLSTATE
SQL
    "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -f "$WORK/client-$n.sql" \
        >"$WORK/client-$n.out" 2>"$WORK/client-$n.err" &
    pids+=($!)
done

# Open the gate only once all clients are queued behind it: a fair start.
for _ in $(seq 800); do
    [[ $(gate_query "NOT granted") == "$CLIENTS" ]] && break
    sleep 0.025
done
waiting=$(gate_query "NOT granted")
if [[ $waiting != "$CLIENTS" ]]; then
    echo "demo: only $waiting of $CLIENTS clients reached the gate" >&2
    touch "$WORK/go"
    exit 1
fi
echo "demo: $CLIENTS clients are waiting at the gate; opening it now"
echo
touch "$WORK/go"
wait "$holder_pid"
for pid in "${pids[@]}"; do
    wait "$pid" || true # judged by its output below
done

booked=0 refused=0 other=0 shown_error=0 last_hint=
for n in $(seq -w 1 "$CLIENTS"); do
    out=$WORK/client-$n.out err=$WORK/client-$n.err
    state=$(sed -n 's/^SQLSTATE //p' "$out")
    if grep -q '^BOOKED ' "$out"; then
        booked=$((booked + 1))
        echo "client $n: BOOKED booking $(sed -n 's/^BOOKED //p' "$out")"
    elif [[ $state == 23P01 ]]; then
        refused=$((refused + 1))
        hint=$(sed -n -e 's/^HINT:  //' -e 's/^[Ff]ree alternatives: //p' "$err")
        if [[ -n $last_hint && $hint == "$last_hint" ]]; then
            echo "client $n: refused (23P01 conflict) — same suggestions"
        else
            echo "client $n: refused (23P01 conflict) — suggestions: ${hint:-(no HINT given)}"
        fi
        last_hint=$hint
        if [[ $shown_error == 0 ]]; then
            # The full error once, as the client sees it (minus source location).
            grep -v "^LOCATION:" "$err" | sed -e "s/^psql:[^ ]*: //" -e "s/^/             | /"
            shown_error=1
        fi
    else
        other=$((other + 1))
        echo "client $n: UNEXPECTED (SQLSTATE ${state:-none})"
        sed 's/^/             | /' "$err"
    fi
done

echo
echo "The non-raising variant, for one more client:"
cluster_psql -c "SELECT booking_id, conflicts, unnest(suggestions) AS suggestion
                 FROM slotguard.try_book_slot('dr-smith', '$SLOT', holder => 'client-late')"

active=$(cluster_psql -Atc "SELECT count(*) FROM slotguard.booking WHERE status <> 'cancelled'")
echo "SELECT count(*) FROM slotguard.booking WHERE status <> 'cancelled'  ->  $active"
echo
summary="$CLIENTS clients, $booked booked, $refused refused"
if [[ $other -gt 0 ]]; then summary+=", $other failed otherwise"; fi
echo "$summary"

if [[ $booked -ne 1 || $refused -ne $((CLIENTS - 1)) || $active -ne 1 ]]; then
    echo "demo: FAILED — expected exactly 1 booking and $((CLIENTS - 1)) refusals" >&2
    exit 1
fi
echo "demo: OK — exactly one client got the slot"
