# shellcheck shell=bash
# bench/lib/cpu.sh — how busy OTHER processes kept the machine during a run.
# The benchmark shares its 2 cores with whatever else runs; this makes that
# visible instead of silently skewing a number. Sourced by bench/run.
#
#   cpu_mark            # before pgbench: remembers the counters
#   cpu_foreign_cores   # after pgbench: prints other processes' CPU, in cores
#
# other = all busy CPU (/proc/stat) - the cluster's processes (postmaster,
# its live children, and reaped children via cutime/cstime) - this shell's
# reaped children (pgbench), divided by wall time.

_CPU_HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

_cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

_cpu_cluster() {
    local pm
    pm=$(head -n 1 "$CLUSTER_DATA/postmaster.pid" 2>/dev/null) || { echo 0; return; }
    {
        awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat" 2>/dev/null || true
        { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" '$4 == pm { s += $14 + $15 } END { print s + 0 }'
    } | awk '{ s += $1 } END { print s + 0 }'
}

_cpu_self_children() { awk '{ print $16 + $17 }' "/proc/$_CPU_PID/stat"; }

_cpu_now() { date +%s.%N; }

cpu_mark() {   # call in the shell that will run (and reap) pgbench
    _CPU_PID=$BASHPID
    _CPU_T0=$(_cpu_now); _CPU_B0=$(_cpu_busy); _CPU_C0=$(_cpu_cluster); _CPU_S0=$(_cpu_self_children)
}

cpu_foreign_cores() {
    sleep 0.3   # let the postmaster reap the benchmark's backends
    local t1 b1 c1 s1
    t1=$(_cpu_now); b1=$(_cpu_busy); c1=$(_cpu_cluster); s1=$(_cpu_self_children)
    awk -v hz="$_CPU_HZ" -v t="$t1 - $_CPU_T0" -v t0="$_CPU_T0" -v t1="$t1" \
        -v b="$((b1 - _CPU_B0))" -v c="$((c1 - _CPU_C0))" -v s="$((s1 - _CPU_S0))" \
        'BEGIN { o = (b - c - s) / hz / (t1 - t0); if (o < 0) o = 0; printf "%.2f\n", o }'
}

# cpu_wait_quiet MAX_CORES TIMEOUT_S: wait (in 2 s samples) until the machine's
# busy CPU, while the benchmark itself is idle, is below MAX_CORES; give up
# after TIMEOUT_S. Never fails.
cpu_wait_quiet() {
    local max=$1 timeout=$2 waited=0 b0 b1 used
    while :; do
        b0=$(_cpu_busy); sleep 2; b1=$(_cpu_busy); waited=$((waited + 2))
        used=$(awk -v d="$((b1 - b0))" -v hz="$_CPU_HZ" 'BEGIN { printf "%.2f", d / hz / 2 }')
        awk -v u="$used" -v m="$max" 'BEGIN { exit !(u < m) }' && return 0
        if [ "$waited" -ge "$timeout" ]; then
            echo "[bench] machine still busy ($used cores) after ${waited}s — measuring anyway" >&2
            return 0
        fi
    done
}
