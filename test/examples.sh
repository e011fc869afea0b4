#!/usr/bin/env bash
# The client examples (examples/, one HTTP service per incident seed), built,
# started and raced against a throwaway cluster — first directly, then again
# through pgbouncer in transaction pooling mode (auth_query against the
# cluster, a pool smaller than the number of concurrent requests, so server
# connections are shared between requests):
#
#   seed 000  Node    20 managers put one worker on 20 overlapping jobs: one 200
#   seed 001  Node    PostgREST-style gateway (roles, JWT claims, confinement):
#                     20 clients, one slot: one 201 and nineteen 409 with
#                     alternatives; hold -> confirm in two requests; claims
#                     never outlive their transaction
#   seed 002  Node    20 customers, one slot: one 201, nineteen 409 with
#                     alternatives; hold -> confirm in separate transactions
#   seed 003  Python  a class of 10 never above 10
#   seed 004  Go      50 drivers, one order: one claim
#
# The checks themselves are in test/lib/examples_race.py (HTTP answers AND the
# database as its owner). Toolchains: Debian's node/npm, python3-psycopg,
# golang-go + golang-github-jackc-pgx-v4-dev (GOPATH mode), pgbouncer —
# installed by scripts/install-deps.sh when missing. `pg` comes from npm
# (`npm ci`, examples/package-lock.json) into build/examples-node, reused
# while the lock file is unchanged; npm's own cache (~/.npm) makes a
# re-install offline. The Go binary goes to build/examples and Go's build
# cache (~/.cache/go-build) makes a rebuild take about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=/usr/bin/python3 # Debian's, where python3-psycopg lives (not a pyenv shim)

need_deps=0
for tool in node npm go /usr/sbin/pgbouncer; do command -v "$tool" >/dev/null || need_deps=1; done
"$PY" -c 'import psycopg' 2>/dev/null || need_deps=1
[[ -d /usr/share/gocode/src/github.com/jackc/pgx/v4 ]] || need_deps=1
if [[ $need_deps == 1 ]]; then
    echo "examples: installing the toolchains (scripts/install-deps.sh)"
    bash scripts/install-deps.sh </dev/null
fi

# --- toolchains: build before starting the cluster ---------------------------
mkdir -p build/examples
# Caches that outlive this run (under build/ when there is no HOME, as in
# some CI runners).
export npm_config_cache=${npm_config_cache:-${HOME:-$ROOT/build}/.npm}
export GOCACHE=${GOCACHE:-${HOME:-$ROOT/build}/.cache/go-build}
NODE_DIR=$ROOT/build/examples-node
if ! cmp -s examples/package-lock.json "$NODE_DIR/package-lock.json" ||
    [[ ! -d $NODE_DIR/node_modules/pg ]]; then
    echo "examples: npm ci (pg) into build/examples-node"
    rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
    cp examples/package.json examples/package-lock.json "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi
export NODE_PATH=$NODE_DIR/node_modules

echo "examples: go build (GOPATH mode, Debian's pgx v4)"
(cd examples/004-go-drivers &&
    env GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local \
        go build -o "$ROOT/build/examples/drivers" .)

source test/lib/cluster.sh
cluster_start "fsync = off" "max_connections = 300"
LOGS=$CLUSTER_DIR/services
mkdir -p "$LOGS"
export OWNER_DSN="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
export JWT_SECRET=examples-test-secret-0123456789abcdef

fail() {
    echo "examples: FAIL: $*" >&2
    local f
    for f in "$LOGS"/*.log; do
        [[ -s $f ]] || continue
        echo "---- $(basename "$f") (last 20 lines)" >&2
        tail -n 20 "$f" >&2
    done
    exit 1
}

# --- the database: what a DBA runs (the examples' setup.sql files) ----------
cluster_psql -U postgres -c 'SET client_min_messages = warning' \
    -f examples/setup.sql -f examples/001-postgrest-claims/setup.sql \
    -f examples/003-python-classes/setup.sql >/dev/null
cluster_psql -U postgres >/dev/null <<'SQL'
SELECT slotguard.upsert_resource('clinic-a:dr-' || r) FROM unnest(ARRAY['direct', 'pgbouncer']) r;
INSERT INTO classes VALUES
    (1, 'Knife skills (direct)', 10, '2030-06-01 18:00+00', '2030-06-01 21:00+00'),
    (2, 'Pasta (direct)', 10, '2030-06-02 18:00+00', '2030-06-02 21:00+00'),
    (3, 'Knife skills (pgbouncer)', 10, '2030-06-01 18:00+00', '2030-06-01 21:00+00'),
    (4, 'Pasta (pgbouncer)', 10, '2030-06-02 18:00+00', '2030-06-02 21:00+00');
-- pgbouncer's auth_query runs as this role through a SECURITY DEFINER
-- function (the pattern of pgbouncer's documentation), not as a superuser.
CREATE ROLE pgbouncer_auth LOGIN PASSWORD 'auth-secret';
CREATE SCHEMA pgbouncer AUTHORIZATION postgres;
CREATE FUNCTION pgbouncer.user_lookup(p_user text, OUT uname text, OUT phash text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT usename::text, passwd FROM pg_shadow WHERE usename = p_user AND NOT usesuper $$;
REVOKE ALL ON FUNCTION pgbouncer.user_lookup(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO pgbouncer_auth;
GRANT EXECUTE ON FUNCTION pgbouncer.user_lookup(text) TO pgbouncer_auth;
SQL

# --- pgbouncer: transaction pooling, 6 server connections per user ----------
BDIR=$CLUSTER_DIR/pgbouncer
cluster_as_pg mkdir -m 700 "$BDIR"
BPORT=$(_cluster_pick_port)
cluster_as_pg tee "$BDIR/pgbouncer.ini" >/dev/null <<INI
[databases]
postgres = host=127.0.0.1 port=$PGPORT dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
pool_mode = transaction
default_pool_size = 6
max_client_conn = 400
auth_type = scram-sha-256
auth_file = $BDIR/userlist.txt
auth_user = pgbouncer_auth
auth_query = SELECT uname, phash FROM pgbouncer.user_lookup(\$1)
logfile = $BDIR/pgbouncer.log
pidfile = $BDIR/pgbouncer.pid
INI
echo '"pgbouncer_auth" "auth-secret"' | cluster_as_pg tee "$BDIR/userlist.txt" >/dev/null
cluster_as_pg chmod 600 "$BDIR/userlist.txt"
cluster_as_pg /usr/sbin/pgbouncer -d -q "$BDIR/pgbouncer.ini"
stop_pgbouncer() {
    local pid
    pid=$(cat "$BDIR/pgbouncer.pid" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null || true
}
cluster_at_exit stop_pgbouncer
for _ in $(seq 100); do
    PGPASSWORD=app-secret "$PG_BINDIR/psql" -X -h 127.0.0.1 -p "$BPORT" -U app -d postgres \
        -Atc 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.1
done
out=$(PGPASSWORD=app-secret "$PG_BINDIR/psql" -X -h 127.0.0.1 -p "$BPORT" -U app -d postgres -Atc 'SELECT current_user' 2>&1) ||
    fail "pgbouncer does not let app in: $out ($(tail -n 5 "$BDIR/pgbouncer.log" 2>/dev/null))"
[[ $out == app ]] || fail "through pgbouncer, current_user is $out"
out=$(PGPASSWORD=wrong "$PG_BINDIR/psql" -X -h 127.0.0.1 -p "$BPORT" -U app -d postgres -Atc 'SELECT 1' 2>&1) &&
    fail "pgbouncer let app in with a wrong password"
echo "examples: pgbouncer on port $BPORT (transaction pooling, auth_query against the cluster)"

# --- the services --------------------------------------------------------------
SERVICE_PIDS=()
stop_services() {
    local pid
    for pid in "${SERVICE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${SERVICE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    SERVICE_PIDS=()
}
cluster_at_exit stop_services

# start NAME DIR CMD...: on a free port, once it answers /healthz; the base
# URL goes into the variable URL_<NAME>. Another process may take the port
# between the probe and the bind: then again on another port.
start() {
    local name=$1 dir=$2 port pid attempt
    shift 2
    for attempt in 1 2 3 4 5; do
        port=$(_cluster_pick_port)
        (cd "$dir" && exec env PORT="$port" "$@") >>"$LOGS/$name.log" 2>&1 &
        pid=$!
        SERVICE_PIDS+=("$pid")
        if "$PY" - "http://127.0.0.1:$port/healthz" "$pid" <<'PY'; then
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
for _ in range(600):
    try:
        if urllib.request.urlopen(url, timeout=2).status == 200:
            sys.exit(0)
    except Exception:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)  # it exited (port taken?)
    time.sleep(0.1)
sys.exit(1)
PY
            printf -v "URL_$name" 'http://127.0.0.1:%s' "$port"
            return 0
        fi
        kill "$pid" 2>/dev/null || true
        echo "examples: $name did not come up on port $port (attempt $attempt)" >&2
    done
    fail "$name does not start"
}

scenario() { "$PY" test/lib/examples_race.py "$@" || fail "$1 ($2)"; }

for round in direct pgbouncer; do
    if [[ $round == direct ]]; then dbport=$PGPORT classes=(1 2) go_opts=; else
        dbport=$BPORT classes=(3 4) go_opts='?statement_cache_mode=describe'
    fi
    echo "examples: ---- round: $round (database port $dbport)"
    app=postgres://app:app-secret@127.0.0.1:$dbport/postgres
    start s000 examples/000-node-workers env DATABASE_URL="$app" node server.js
    start s001 examples/001-postgrest-claims env JWT_SECRET="$JWT_SECRET" \
        DATABASE_URL=postgres://authenticator:authenticator-secret@127.0.0.1:$dbport/postgres node gateway.js
    start s002 examples/002-node-bookings env DATABASE_URL="$app" node server.js
    start s003 examples/003-python-classes env DATABASE_URL="$app" "$PY" server.py
    start s004 examples/004-go-drivers env DATABASE_URL="$app$go_opts" "$ROOT/build/examples/drivers"
    scenario seed000 "$round" "$URL_s000"
    scenario seed001 "$round" "$URL_s001"
    scenario seed002 "$round" "$URL_s002"
    scenario seed003 "$round" "$URL_s003" "${classes[@]}"
    scenario seed004 "$round" "$URL_s004"
    stop_services
    if [[ $round == pgbouncer ]]; then
        # The server connections the gateway's requests ran on, handed to a
        # new client: no role and no claims of a former request may remain
        # (they would, had the gateway used set_config(..., false) or SET).
        for _ in $(seq 12); do
            out=$(PGPASSWORD=authenticator-secret "$PG_BINDIR/psql" -X -At -h 127.0.0.1 -p "$BPORT" \
                -U authenticator -d postgres \
                -c "SELECT current_user || '|' || coalesce(current_setting('request.jwt.claims', true), '')")
            [[ $out == "authenticator|" ]] || fail "a pooled server connection kept a request's role or claims: $out"
        done
        echo "examples: pooled server connections keep no role or claims of a former request"
    fi
done

# Through pgbouncer, the requests really shared server connections.
used=$("$PG_BINDIR/psql" -X -At -U postgres -c "SELECT count(*) FROM pg_stat_activity WHERE usename IN ('app', 'authenticator')")
[[ $used -le 12 ]] || fail "$used server connections of app/authenticator remain (pool size 6 per user)"
echo "examples: OK"
