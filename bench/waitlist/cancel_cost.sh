#!/usr/bin/env bash
# cancel_booking before and after the waitlist (docs/waitlist.md, "Cost"):
# with nobody waiting, a cancel must cost what it cost before (one more
# index probe). Builds BASE_REF (default: main) and the working tree, and
# alternates them ROUNDS times on one throwaway cluster: each run installs
# its build (make install into $PG_CONFIG's PostgreSQL: use a private one),
# creates a fresh database, and runs pgbench for SECONDS with CLIENTS, each
# client booking a random free hour on its own resource and cancelling it
# (two statements, each its own transaction). pgbench -r gives each
# statement's average latency: the cancel is the measurement, the
# book_slot of the same run is the anchor (it did not change), so the
# machine's noise shows in the anchor's ratio.
#
#   PG_CONFIG=... PG_BINDIR=... CLUSTER_TMPDIR=... bench/waitlist/cancel_cost.sh
# Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PG_CONFIG=${PG_CONFIG:?set PG_CONFIG to a private PostgreSQL}
base_ref=${BASE_REF:-main}
seconds=${SECONDS_PER_RUN:-10}
rounds=${ROUNDS:-3}
clients_list=${CLIENTS:-"1 2"}
waiting=${WAITING:-0}   # waiting entries on other resources of the database (head only)

source test/lib/cluster.sh
work=$(mktemp -d "${CLUSTER_TMPDIR:-/tmp}/waitlist-bench.XXXXXX")
cluster_at_exit "rm -rf '$work'"
# BASE_DIR: an already built tree of base_ref (saves a build).
base=${BASE_DIR:-$work/base}
if [[ -z ${BASE_DIR:-} ]]; then
    mkdir "$base"
    git archive "$base_ref" | tar -x -C "$base"
fi
echo "building $base_ref and the working tree ..." >&2
make -C "$base" -j2 PG_CONFIG="$PG_CONFIG" >"$work/base.log" 2>&1
make -C "$ROOT" -j2 PG_CONFIG="$PG_CONFIG" >"$work/head.log" 2>&1
# Leave the working tree's build installed at the end.
cluster_at_exit "make -C '$ROOT' install PG_CONFIG='$PG_CONFIG' >/dev/null 2>&1"

cluster_start "fsync = off" "synchronous_commit = off" "max_connections = 50"
cat >"$work/cancel.sql" <<'SQL'
\set d random(1, 2000000)
SELECT id AS bid FROM slotguard.book_slot('bench:' || :client_id, tstzrange('2030-01-01 00:00+00'::timestamptz + :d * interval '1 hour', '2030-01-01 00:00+00'::timestamptz + (:d + 1) * interval '1 hour')) \gset
SELECT status FROM slotguard.cancel_booking(:bid);
SQL

# run BUILD_DIR CLIENTS -> "book_ms cancel_ms tps"
run() {
    local dir=$1 clients=$2
    make -C "$dir" install PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
    cluster_psql -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench" >/dev/null
    cluster_psql -d bench -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard CASCADE" >/dev/null
    if [[ $waiting -gt 0 && $dir == "$ROOT" ]]; then
        cluster_psql -d bench >/dev/null <<SQL
SELECT count(slotguard.upsert_resource('other:' || i)) FROM generate_series(1, $waiting) i;
SELECT count(slotguard.book_slot('other:' || i, '[2030-01-01 00:00+00,2030-01-01 01:00+00)')) FROM generate_series(1, $waiting) i;
SELECT count(slotguard.join_waitlist('other:' || i, '[2030-01-01 00:00+00,2030-01-01 01:00+00)')) FROM generate_series(1, $waiting) i;
SQL
    fi
    local out
    out=$("$PG_BINDIR/pgbench" -n -r -c "$clients" -j "$clients" -T "$seconds" -f "$work/cancel.sql" bench 2>&1)
    if grep -q "aborted\|ERROR" <<<"$out"; then
        echo "$out" >&2
        echo "cancel_cost: pgbench failed" >&2
        exit 1
    fi
    local book cancel tps
    book=$(awk '/SELECT id AS bid/ { print $1; exit }' <<<"$out")
    cancel=$(awk '/cancel_booking/ { print $1; exit }' <<<"$out")
    tps=$(awk '/^tps = / { print $3; exit }' <<<"$out")
    echo "$book $cancel $tps"
}

# The median of a file of numbers: a run the machine's other load hit
# hardest does not move it.
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for clients in $clients_list; do
    for ((r = 1; r <= rounds; r++)); do
        for build in base head; do
            dir=$base
            [[ $build == head ]] && dir=$ROOT
            read -r book cancel tps < <(run "$dir" "$clients")
            echo "clients $clients round $r $build: book ${book} ms, cancel ${cancel} ms, ${tps} tps" >&2
            echo "$book" >>"$work/$clients.$build.book"
            echo "$cancel" >>"$work/$clients.$build.cancel"
        done
    done
done

# The last column divides out the load of the moment: each build's cancel
# relative to its own runs' book_slot, after over before.
echo "| clients | cancel_booking before (ms) | after (ms) | after / before | anchor book_slot before (ms) | after (ms) | anchor after / before | (cancel / anchor) after over before |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for clients in $clients_list; do
    awk -v c="$clients" \
        -v cb="$(median "$work/$clients.base.cancel")" -v ch="$(median "$work/$clients.head.cancel")" \
        -v bb="$(median "$work/$clients.base.book")" -v bh="$(median "$work/$clients.head.book")" \
        'BEGIN { printf "| %d | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f | %.2f |\n", c, cb, ch, ch/cb, bb, bh, bh/bb, (ch/bh)/(cb/bb) }'
done
echo "(medians of $rounds alternating rounds of ${seconds} s per build and client count; base = $(git rev-parse --short "$base_ref"), after = working tree$([[ $waiting -gt 0 ]] && echo ", with $waiting waiting entries on other resources"))"
