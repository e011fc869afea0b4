# shellcheck shell=bash
# bench/lib/cluster.sh — fallback throwaway PostgreSQL 15 cluster for bench/run,
# used only when the project's test/lib/cluster.sh is absent (or with
# BENCH_OWN_CLUSTER=1). A minimal subset of the same interface:
#
#   source bench/lib/cluster.sh          # installs EXIT/INT/TERM/HUP traps
#   cluster_start "shared_buffers = 256MB" ...   # extra postgresql.conf lines
#   cluster_at_exit 'command'            # runs at exit, before the stop
#   cluster_crash; cluster_restart       # immediate stop, start again (recovery)
#
# exports PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres,
# CLUSTER_DIR, CLUSTER_DATA, CLUSTER_LOG. The cluster lives in a mktemp dir
# owned by OS user postgres (PostgreSQL refuses to run as root), listens on a
# free 127.0.0.1 port with its unix socket in that dir, trust auth; it is
# stopped and deleted at exit. It never touches a system cluster.

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
_CLUSTER_AT_EXIT=()

_cluster_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then (cd "${CLUSTER_DIR:-/}" && runuser -u postgres -- "$@")
    else (cd "${CLUSTER_DIR:-/}" && "$@"); fi
}

_cluster_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cluster_start() {
    CLUSTER_DIR=$(mktemp -d /tmp/slotguard-bench.XXXXXX)
    CLUSTER_DATA=$CLUSTER_DIR/data
    CLUSTER_LOG=$CLUSTER_DIR/postgres.log
    export CLUSTER_DIR CLUSTER_DATA CLUSTER_LOG
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$CLUSTER_DIR"; fi
    chmod 700 "$CLUSTER_DIR"
    _cluster_as_pg "$PG_BINDIR/initdb" -D "$CLUSTER_DATA" -U postgres -A trust \
        --locale=C --encoding=UTF8 >"$CLUSTER_DIR/initdb.log" 2>&1 \
        || { cat "$CLUSTER_DIR/initdb.log" >&2; return 1; }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$CLUSTER_DIR'"
        echo "timezone = 'UTC'"
        echo "logging_collector = off"
        local line; for line in "$@"; do echo "$line"; done
    } | _cluster_as_pg tee -a "$CLUSTER_DATA/postgresql.conf" >/dev/null
    local port
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        _cluster_port_free "$port" || continue
        if _cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DATA" -l "$CLUSTER_LOG" \
               -o "-c port=$port" -w -t 60 start >/dev/null 2>&1; then
            export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
            return 0
        fi
    done
    echo "cluster_start: could not start a server; log:" >&2
    cat "$CLUSTER_LOG" >&2 2>/dev/null
    return 1
}

cluster_stop() {
    [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR" ] || return 0
    if [ -f "$CLUSTER_DATA/postmaster.pid" ]; then
        _cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DATA" -m fast -w -t 60 stop \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$CLUSTER_DIR"
    unset CLUSTER_DIR CLUSTER_DATA CLUSTER_LOG
}

# Immediate shutdown (no checkpoint), then start again with WAL recovery.
cluster_crash() {
    _cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DATA" -m immediate -w stop >/dev/null
}
cluster_restart() {
    _cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DATA" -l "$CLUSTER_LOG" -o "-c port=$PGPORT" \
        -w -t 120 start >/dev/null
}

cluster_at_exit() { _CLUSTER_AT_EXIT+=("$1"); }

_CLUSTER_OWNER_PID=$BASHPID
_cluster_on_exit() {
    local rc=$? cmd
    [ "$BASHPID" = "$_CLUSTER_OWNER_PID" ] || return "$rc"   # not from subshells
    for cmd in "${_CLUSTER_AT_EXIT[@]}"; do eval "$cmd" || true; done
    cluster_stop || true
    return "$rc"
}
trap _cluster_on_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
