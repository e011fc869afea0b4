# shellcheck shell=bash
# test/lib/cluster.sh — throwaway PostgreSQL 15 clusters for tests and demos.
#
# Usage (from a bash script with `set -euo pipefail`):
#
#   source "$(dirname "$0")/lib/cluster.sh"
#   cluster_start                        # or: cluster_start "fsync = off" "max_locks_per_transaction = 256"
#   cluster_psql -c 'CREATE EXTENSION slotguard CASCADE'
#   ...                                  # the cluster is stopped and its directory removed on exit
#
# Convention: every test/*.sh script starts its OWN cluster with this library
# (run-tests.sh passes nothing in), so scripts can be run alone, in any order.
#
# What cluster_start does: initdb (trust auth, superuser "postgres", C locale,
# UTF8) into a fresh `mktemp -d` directory owned by the OS user postgres
# (PostgreSQL refuses to run as root), listens on 127.0.0.1 only, on a free
# port found by probing from a random start, with its unix socket in that
# directory, and logs to $CLUSTER_LOG. fsync stays ON (crash tests need real
# durability); pass "fsync = off" as an extra line when you do not care.
# Extra arguments are appended to postgresql.conf after ours, so they win.
#
# It exports PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres, so
# plain psql/pgbench/pg_regress reach the cluster, plus CLUSTER_DIR (temp dir),
# CLUSTER_DATA (data directory) and CLUSTER_LOG (server log).
#
# Clean-up: sourcing this file installs an EXIT trap (and INT/TERM/HUP traps
# that exit, so EXIT runs) which stops the cluster (pg_ctl -m fast, falling
# back to immediate) and removes its directory. An EXIT trap the caller had
# set before sourcing is kept and run afterwards. Do NOT set `trap ... EXIT`
# after sourcing (it would replace ours): register extra clean-up with
# `cluster_at_exit 'command'` instead, or call cluster_stop yourself.
# When the script fails, the tail of the server log is printed to stderr.
# CLUSTER_KEEP=1 keeps the directory for post-mortem debugging;
# CLUSTER_TMPDIR (default /tmp) is where the directory is made.
#
# Several servers: cluster_start_extra NAME (another fresh cluster) and
# cluster_start_standby NAME (a streaming hot standby of the first), each on
# its own free port (CLUSTER_EXTRA_PORT), stopped at exit.
#
# Other helpers: cluster_psql (psql -X -v ON_ERROR_STOP=1 -q), cluster_as_pg
# (run a command as the cluster's OS user, in CLUSTER_DIR), cluster_crash
# (immediate shutdown: no checkpoint, recovery on next start), cluster_restart
# (start again after cluster_crash, or fast restart when running).
#
# Never touches the system cluster: no pg_ctlcluster, nothing under
# /var/lib/postgresql, never the default port.

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
export PG_BINDIR

_CLUSTER_AT_EXIT=()
_CLUSTER_OWNER_PID=

# Run a command as the OS user that owns the cluster. As root that is
# "postgres" (via runuser); as anyone else, the caller itself.
cluster_as_pg() {
    if [[ $EUID -eq 0 ]]; then
        (cd "${CLUSTER_DIR:-/}" && runuser -u postgres -- "$@")
    else
        (cd "${CLUSTER_DIR:-/}" && "$@")
    fi
}

# psql against the throwaway cluster: no ~/.psqlrc, stop on first error, quiet.
cluster_psql() {
    "$PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -q "$@"
}

# True when nothing listens on 127.0.0.1:$1 (checked with ss and a connect).
_cluster_port_free() {
    local port=$1
    if command -v ss >/dev/null 2>&1 &&
        [[ -n $(ss -Hltn "( sport = :$port )" 2>/dev/null) ]]; then
        return 1
    fi
    # A successful connect means someone is listening.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        return 1
    fi
    return 0
}

# Print a free port, probing upwards from a random start in 20000..59999.
_cluster_pick_port() {
    local start=$((20000 + (RANDOM * 32768 + RANDOM) % 40000)) i port
    for ((i = 0; i < 500; i++)); do
        port=$((20000 + (start - 20000 + i) % 40000))
        if _cluster_port_free "$port"; then
            echo "$port"
            return 0
        fi
    done
    echo "cluster.sh: no free port found" >&2
    return 1
}

cluster_start() {
    if [[ -n ${CLUSTER_DIR:-} ]]; then
        echo "cluster.sh: a cluster is already running in $CLUSTER_DIR" >&2
        return 1
    fi
    local dir
    # /tmp, not $TMPDIR: the postgres user must be able to reach the directory.
    dir=$(mktemp -d "${CLUSTER_TMPDIR:-/tmp}/slotguard-pg.XXXXXX")
    CLUSTER_DIR=$dir
    CLUSTER_DATA=$dir/data
    CLUSTER_LOG=$dir/postgres.log
    _CLUSTER_OWNER_PID=$BASHPID
    export CLUSTER_DIR CLUSTER_DATA CLUSTER_LOG
    if [[ $EUID -eq 0 ]]; then
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    _cluster_boot "$dir" "$CLUSTER_DATA" "$CLUSTER_LOG" "$@" || return 1
    _CLUSTER_PORT=$_CLUSTER_BOOT_PORT
    export PGHOST=127.0.0.1 PGPORT=$_CLUSTER_BOOT_PORT PGUSER=postgres PGDATABASE=postgres
}

# More clusters next to the first (which must be running), for tests that
# need several servers (test/scale_out.sh): cluster_start_extra NAME [conf
# lines...] starts one in $CLUSTER_DIR/NAME and sets CLUSTER_EXTRA_PORT. It
# is stopped at exit, before the first; cluster_crash_extra NAME kills it.
cluster_start_extra() {
    local name=$1 dir
    shift
    [[ -n ${CLUSTER_DIR:-} ]] || { echo "cluster.sh: cluster_start first" >&2; return 1; }
    dir=$CLUSTER_DIR/$name
    cluster_as_pg mkdir -m 700 "$dir"
    _cluster_boot "$dir" "$dir/data" "$dir/postgres.log" "$@" || return 1
    CLUSTER_EXTRA_PORT=$_CLUSTER_BOOT_PORT
    cluster_at_exit "_cluster_stop_extra $name"
}

cluster_crash_extra() {
    cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/$1/data" -m immediate -w stop >/dev/null
}

_cluster_stop_extra() {
    local data=$CLUSTER_DIR/$1/data
    [[ -f $data/postmaster.pid ]] || return 0
    cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}

# A streaming hot standby of the first cluster (which must be running; it
# is the primary): cluster_start_standby NAME [conf lines...] copies it with
# pg_basebackup -R into $CLUSTER_DIR/NAME, starts the copy on a free port and
# sets CLUSTER_EXTRA_PORT. Stopped at exit, like cluster_start_extra;
# cluster_crash_extra NAME kills it.
cluster_start_standby() {
    local name=$1 dir
    shift
    [[ -n ${CLUSTER_DIR:-} ]] || { echo "cluster.sh: cluster_start first" >&2; return 1; }
    dir=$CLUSTER_DIR/$name
    cluster_as_pg mkdir -m 700 "$dir"
    if ! cluster_as_pg "$PG_BINDIR/pg_basebackup" -h 127.0.0.1 -p "$_CLUSTER_PORT" -U postgres \
        -D "$dir/data" -R -X stream -c fast --no-sync >"$dir/basebackup.log" 2>&1; then
        echo "cluster.sh: pg_basebackup failed:" >&2
        cat "$dir/basebackup.log" >&2
        return 1
    fi
    _cluster_launch "$dir" "$dir/data" "$dir/postgres.log" "hot_standby = on" "$@" || return 1
    CLUSTER_EXTRA_PORT=$_CLUSTER_BOOT_PORT
    cluster_at_exit "_cluster_stop_extra $name"
}

# initdb into DATA (inside DIR, owned by the cluster's OS user), write our
# settings, start on a free port; the port is left in _CLUSTER_BOOT_PORT.
_cluster_boot() {
    local dir=$1 data=$2 log=$3
    if ! cluster_as_pg "$PG_BINDIR/initdb" -D "$data" -A trust -U postgres \
        --no-sync --locale=C --encoding=UTF8 >"$dir/initdb.log" 2>&1; then
        echo "cluster.sh: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        return 1
    fi
    _cluster_launch "$@"
}

# Append our settings (and the extra lines) to DATA's postgresql.conf and
# start it on a free port, left in _CLUSTER_BOOT_PORT. Later lines win, so
# this also re-homes a copy of another cluster (cluster_start_standby).
_cluster_launch() {
    local dir=$1 data=$2 log=$3
    shift 3
    {
        echo "# --- throwaway test cluster (test/lib/cluster.sh) ---"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir'"
        echo "max_connections = 200"
        echo "shared_preload_libraries = ''"
        echo "timezone = 'UTC'"
        echo "log_timezone = 'UTC'"
        echo "logging_collector = off"
        echo "log_line_prefix = '%m [%p] %q%a '"
        local line
        for line in "$@"; do echo "$line"; done
    } | cluster_as_pg tee -a "$data/postgresql.conf" >/dev/null

    # Another process may grab the port between probe and bind: retry a few.
    local attempt port
    for attempt in 1 2 3 4 5; do
        port=$(_cluster_pick_port) || return 1
        echo "port = $port" | cluster_as_pg tee -a "$data/postgresql.conf" >/dev/null
        if cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$data" -l "$log" \
            -w -t 60 start >/dev/null 2>&1; then
            _CLUSTER_BOOT_PORT=$port
            return 0
        fi
        echo "cluster.sh: start on port $port failed (attempt $attempt), retrying" >&2
        tail -n 5 "$log" >&2 2>/dev/null || true
    done
    echo "cluster.sh: could not start the cluster; log follows" >&2
    cat "$log" >&2 2>/dev/null || true
    return 1
}

# Immediate shutdown (SIGQUIT to every backend, no checkpoint): what a crash
# leaves behind; the next start runs WAL recovery.
cluster_crash() {
    cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DATA" -m immediate -w stop >/dev/null
}

# Start the same data directory again (after cluster_crash), or restart it.
cluster_restart() {
    if cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DATA" status >/dev/null 2>&1; then
        cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DATA" -l "$CLUSTER_LOG" \
            -m fast -w -t 60 restart >/dev/null
    else
        cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DATA" -l "$CLUSTER_LOG" \
            -w -t 120 start >/dev/null
    fi
}

cluster_stop() {
    [[ -n ${CLUSTER_DIR:-} ]] || return 0
    local dir=$CLUSTER_DIR pid
    if [[ -f $dir/data/postmaster.pid ]]; then
        if ! cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
            cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        fi
        # Last resort: the postmaster of THIS cluster only, by its pid file.
        if [[ -f $dir/data/postmaster.pid ]]; then
            pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
            if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null || true
                sleep 0.5
            fi
        fi
    fi
    if [[ ${CLUSTER_KEEP:-0} == 1 ]]; then
        echo "cluster.sh: kept $dir (CLUSTER_KEEP=1)" >&2
    else
        rm -rf "$dir"
    fi
    unset CLUSTER_DIR CLUSTER_DATA CLUSTER_LOG
}

# Register a command to run at exit, before the cluster is stopped.
cluster_at_exit() {
    _CLUSTER_AT_EXIT+=("$1")
}

_cluster_on_exit() {
    local rc=$? cmd
    # Subshells and background jobs must not stop the parent's cluster.
    [[ ${_CLUSTER_OWNER_PID:-} == "$BASHPID" || -z ${_CLUSTER_OWNER_PID:-} ]] || return 0
    for cmd in "${_CLUSTER_AT_EXIT[@]}"; do
        eval "$cmd" || true
    done
    if [[ $rc -ne 0 && -n ${CLUSTER_LOG:-} && -s ${CLUSTER_LOG:-} ]]; then
        echo "---- last lines of the server log ($CLUSTER_LOG) ----" >&2
        tail -n 30 "$CLUSTER_LOG" >&2 || true
        echo "----" >&2
    fi
    cluster_stop || true
    if [[ -n ${_CLUSTER_PREV_EXIT_TRAP:-} ]]; then
        eval "$_CLUSTER_PREV_EXIT_TRAP" || true
    fi
    return "$rc"
}

# Keep an EXIT trap the caller set before sourcing us, and run it after ours.
# (A function, so parsing `trap -p` does not clobber the caller's "$@".)
# shellcheck disable=SC2120 # "$@" is set by eval, not passed in
_cluster_install_traps() {
    local prev
    prev=$(trap -p EXIT)
    if [[ -n $prev && $prev != *_cluster_on_exit* ]]; then
        eval "set -- $prev" # -> trap -- 'command' EXIT
        _CLUSTER_PREV_EXIT_TRAP=$3
    fi
    trap _cluster_on_exit EXIT
}
_CLUSTER_PREV_EXIT_TRAP=${_CLUSTER_PREV_EXIT_TRAP:-}
_cluster_install_traps
# Without these, a signal kills bash without running the EXIT trap.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
