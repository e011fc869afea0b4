# shellcheck shell=bash
# test/lib/stress.sh — what the stress scripts share (source after cluster.sh).

# run_sessions WORK TAG SESSIONS LIVE_SQL
# Runs $WORK/$TAG-s<N>.sql for N = 1..SESSIONS as parallel psql sessions
# (stderr to $WORK/$TAG-s<N>.err, errors do not stop a session) and, while
# they run, samples LIVE_SQL every 50 ms into $WORK/$TAG-live.out (any row
# there is a violation seen mid-run). Sets TOOK (seconds), LIVE_CHECKS and
# PSQL_FAILED (sessions whose psql exited non-zero).
run_sessions() {
    local work=$1 tag=$2 sessions=$3 live_sql=$4 s pid running start=$SECONDS
    local pids=()
    for s in $(seq 1 "$sessions"); do
        "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=0 -f "$work/$tag-s$s.sql" \
            >/dev/null 2>"$work/$tag-s$s.err" &
        pids+=($!)
    done
    LIVE_CHECKS=0
    : >"$work/$tag-live.out"
    while :; do
        running=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
        ((running)) || break
        cluster_psql -At -c "$live_sql" >>"$work/$tag-live.out" 2>&1 || true
        LIVE_CHECKS=$((LIVE_CHECKS + 1))
        sleep 0.05
    done
    PSQL_FAILED=0
    for pid in "${pids[@]}"; do wait "$pid" || PSQL_FAILED=$((PSQL_FAILED + 1)); done
    TOOK=$((SECONDS - start))
}
