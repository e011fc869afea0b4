# shellcheck shell=bash disable=SC2016
# bench/lib/scaling.sh — the scaling suite (BENCH_SUITE=scaling|all bench/run).
# Sourced by bench/run after run_attempt / run_one are defined; uses its
# globals ($PSQL $PGBENCH $OUT $BENCH_DIR $MAX_OTHER ...). Two parts:
#
#  throughput against clients — for each workload in $SC_WORKLOADS and each
#    client count in $SC_CLIENTS, every contender in $SC_CONTENDERS in its own
#    fresh database, exactly as the booking workloads (run_attempt), for
#    $SC_SECS seconds. Rows in $SRESULTS: run_attempt's 14 columns, clients,
#    attempts.
#  per-call cost against table size — one database per contender in
#    $COST_CONTENDERS (exclude, slotguard), filled with the same
#    non-overlapping bookings (bench/scaling/cost_fill_*.sql) up to each size
#    in $COST_SIZES in turn (the table grows in place: 10k, then +90k, ...),
#    VACUUM ANALYZE + CHECKPOINT, then pgbench for $COST_SECS seconds at each
#    client count in $COST_CLIENTS on two paths: `book` (a free slot; run in
#    rounds of at most a tenth of the table, what a round booked is deleted
#    afterwards, so every round starts from the same table: see cost_attempt)
#    and `conflict` (an existing booking: refused, nothing written).
#    Rows in $CRESULTS: key, contender, tps, txns, failed, successes,
#    conflicts, rows at start, avg latency, rc, aborted, error lines, other
#    CPU, try, size, clients, path, rounds, attempts.
#
# Then write_scaling_data + plot_scaling_charts (gnuplot PNGs and their .dat
# files, in $OUT/charts, copied to bench/charts by a writing run) and
# write_scaling_section (BENCHMARKS.md section between SCALING_BEGIN/END).

SCALING_BEGIN='<!-- scaling:begin (written by BENCH_SUITE=scaling|all bench/run) -->'
SCALING_END='<!-- scaling:end -->'
SRESULTS=$OUT/scaling.tsv
CRESULTS=$OUT/cost.tsv
CDEPTH=$OUT/cost_depth.tsv
CHART_OUT=$OUT/charts
: >"$SRESULTS"; : >"$CRESULTS"; : >"$CDEPTH"

# scaling_attempt "WORKLOAD@CLIENTS" CONTENDER TRY: run_attempt with that
# client count and $SC_SECS seconds; prints its row plus the client count.
scaling_attempt() {
    local wl=${1%@*} n=${1#*@} row
    row=$(CLIENTS=$n; JOBS=2; [ "$n" -lt 2 ] && JOBS=$n
          SECS=$SC_SECS; ATTEMPT_TAG=".c$n"
          run_attempt "$wl" "$2" "$3")
    printf '%s\t%s\n' "$row" "$n"
}

run_scaling_throughput() {
    local wl n c
    for wl in $SC_WORKLOADS; do
        [ -f "$BENCH_DIR/workloads/$wl.conf" ] || { log "no such workload: $wl"; exit 2; }
        for n in $SC_CLIENTS; do
            for c in $SC_CONTENDERS; do
                [ -f "$BENCH_DIR/contenders/$c.sql" ] || { log "no such contender: $c"; exit 2; }
                if [ "$c" = slotguard ] && [ "$SLOTGUARD_OK" != 1 ]; then
                    printf '%s\t%s\tNA\t\t\t\t\t\t\t\t\t\t\t\t%s\t1\n' "$wl" "$c" "$n" >>"$SRESULTS"
                    continue
                fi
                run_one "$wl@$n" "$c" scaling_attempt "$SRESULTS"
            done
        done
    done
}

_cost_table() { [ "$1" = slotguard ] && echo slotguard.booking || echo bench_booking; }
_cost_index() { [ "$1" = slotguard ] && echo slotguard.booking_hash_blocked_idx || echo bench_booking_resource_during_excl; }

# _pgb_parse LOG: "transactions failed tps latency aborted error-lines" of one pgbench log.
_pgb_parse() {
    local t f p l a e
    t=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$1")
    f=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$1")
    p=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$1")
    l=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$1")
    a=$(grep -c 'aborted' "$1" || true)
    e=$(grep -ci 'error' "$1" || true)
    echo "${t:-0} ${f:-0} ${p:-0} ${l:--} ${a:-0} ${e:-0}"
}

# cost_attempt "SIZE@CLIENTS@PATH" CONTENDER TRY: pgbench on the contender's
# pre-filled database. conflict: one run of $COST_SECS s (nothing is written).
# book: every booking adds a row, and a 5 s run would add more rows than a
# 10k table has; so it runs in rounds of -t (at most a tenth of the table, and
# at most $COST_ROUND_MAX calls, per round), each round followed by deleting
# what it booked and VACUUM, until the rounds add up to $COST_SECS s of
# pgbench time. TPS = calls / summed pgbench time; latency = the rounds'
# pgbench averages weighted by calls.
cost_attempt() {
    local size=${1%%@*} rest=${1#*@}
    local clients=${rest%%@*} path=${rest#*@} c=$2 try=$3
    local db=bench_cost_$c tbl logb="$OUT/pgbench/cost.$size.$path.c$clients.$c.try$try"
    tbl=$(_cost_table "$c")
    local jobs=2; [ "$clients" -lt 2 ] && jobs=$clients
    local before="" b rc=0 other round=0 per=0 logf
    local txns=0 failed=0 succ=0 aborted=0 errlines=0 time=0 latw=0
    if [ "$path" = book ]; then
        per=$(( size / 10 )); [ "$per" -gt "$COST_ROUND_MAX" ] && per=$COST_ROUND_MAX
        per=$(( per / clients )); [ "$per" -lt 1 ] && per=1
        log "cost $size rows / $path / $clients client(s) / $c: rounds of $clients x $per calls up to ${COST_SECS}s"
    else
        log "cost $size rows / $path / $clients client(s) / $c: pgbench ${COST_SECS}s"
    fi
    local so_before=""
    [ "$c" = slotguard ] && so_before=$(sha256sum "$SLOTGUARD_SO" 2>/dev/null | cut -c1-12)
    cpu_mark
    while :; do
        round=$(( round + 1 )); logf=$logb.r$round.log
        b=$($PSQL -Atc "SELECT count(*) FROM $tbl" "$db")
        if [ -z "$before" ]; then before=$b; elif [ "$b" != "$before" ]; then before="$before, then $b"; fi
        local limit=(-T "$COST_SECS"); [ "$path" = book ] && limit=(-t "$per")
        timeout -k 10 "$COST_LIMIT" \
        "$PGBENCH" -n -M prepared -c "$clients" -j "$jobs" "${limit[@]}" \
            -D "nres=$COST_NRES" -D "nk=$(( size / COST_NRES ))" \
            -f "$BENCH_DIR/scaling/cost_${path}_$c.sql" "$db" >"$logf" 2>&1 || rc=$?
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
            rc=124
            log "cost $size/$path/$clients/$c: pgbench had not finished ${COST_LIMIT}s after start: stuck statements:"
            $PSQL -Atc "SELECT pid, now() - query_start, wait_event_type, wait_event, query
                        FROM pg_stat_activity WHERE datname = '$db'" postgres \
                | tee "$logb.stuck.txt" | head -3 >&2
            recover_cluster
        fi
        local t f p l a e after
        read -r t f p l a e < <(_pgb_parse "$logf")
        after=$($PSQL -Atc "SELECT count(*) FROM $tbl" "$db")
        txns=$(( txns + t )); failed=$(( failed + f )); aborted=$(( aborted + a )); errlines=$(( errlines + e ))
        succ=$(( succ + after - b ))
        read -r time latw < <(awk -v T="$time" -v W="$latw" -v t="$t" -v p="$p" -v l="$l" \
            'BEGIN { if (p + 0 > 0) T += t / p; if (l != "-") W += l * t; printf "%.6f %.6f\n", T, W }')
        if [ "$after" != "$b" ]; then   # back to $size rows for the next round / measurement
            $PSQL -c "DELETE FROM $tbl WHERE lower(during) >= '2040-01-01'" "$db"
            $PSQL -c "VACUUM $tbl" "$db"
        fi
        [ "$rc" = 0 ] || { log "pgbench exited $rc — see $logf"; tail -5 "$logf" >&2; break; }
        [ "$path" = book ] || break
        awk -v T="$time" -v s="$COST_SECS" 'BEGIN { exit !(T >= s) }' && break
        [ "$round" -ge 200 ] && break
    done
    other=$(cpu_foreign_cores)
    if [ "$c" = slotguard ]; then   # which build this measurement ran on
        printf '%s\t%s\t%s\t%s\n' "cost:$1" "$try" "$so_before" "$(sha256sum "$SLOTGUARD_SO" 2>/dev/null | cut -c1-12)" >>"$OUT/so_builds.tsv"
    fi
    local tps lat conf=$(( txns - failed - succ ))
    tps=$(awk -v t="$txns" -v T="$time" 'BEGIN { printf "%.1f", (T > 0 ? t / T : 0) }')
    lat=$(awk -v W="$latw" -v t="$txns" 'BEGIN { if (t > 0 && W > 0) printf "%.3f", W / t; else print "-" }')
    log "cost $size/$path/$clients/$c: tps=$tps lat=${lat}ms txns=$txns rounds=$round successes=$succ conflicts=$conf other_cpu=${other}cores rc=$rc"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$1" "$c" "$tps" "$txns" "$failed" "$succ" "$conf" "$before" \
        "$lat" "$rc" "$aborted" "$errlines" "$other" "$try" "$size" "$clients" "$path" "$round"
}

run_scaling_cost() {
    local c size filled=0 lo hi t0 n path cs=()
    for c in $COST_CONTENDERS; do
        if [ "$c" = slotguard ] && [ "$SLOTGUARD_OK" != 1 ]; then
            log "cost: slotguard not installable — skipped"; continue
        fi
        [ -f "$BENCH_DIR/scaling/cost_setup_$c.sql" ] || { log "no cost setup for contender: $c"; exit 2; }
        cs+=("$c")
        $PSQL -c "CREATE DATABASE bench_cost_$c" postgres
        PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
        $PSQL -v "nres=$COST_NRES" -f "$BENCH_DIR/scaling/cost_setup_$c.sql" "bench_cost_$c" >/dev/null
    done
    [ "${#cs[@]}" -gt 0 ] || return 0
    for size in $COST_SIZES; do
        [ $(( size % COST_NRES )) = 0 ] && [ "$size" -gt "$filled" ] \
            || { log "cost sizes must grow and be multiples of $COST_NRES (got $size)"; exit 2; }
        for c in "${cs[@]}"; do
            t0=$(date +%s)
            for ((lo = filled; lo < size; lo += 100000)); do   # statements of at most 100k bookings
                hi=$(( lo + 100000 )); [ "$hi" -gt "$size" ] && hi=$size
                $PSQL -v "nres=$COST_NRES" -v "lo=$lo" -v "hi=$hi" \
                    -f "$BENCH_DIR/scaling/cost_fill_$c.sql" "bench_cost_$c" >/dev/null
            done
            $PSQL -c 'VACUUM ANALYZE' "bench_cost_$c"
            $PSQL -c 'CHECKPOINT' "bench_cost_$c"
            local rows depth
            rows=$($PSQL -Atc "SELECT count(*) FROM $(_cost_table "$c")" "bench_cost_$c")
            depth=$($PSQL -At -v "idx=$(_cost_index "$c")" -f "$BENCH_DIR/scaling/gist_depth.sql" "bench_cost_$c")
            log "cost: $c filled to $rows rows in $(( $(date +%s) - t0 )) s; GiST depth|pages $depth"
            [ "$rows" = "$size" ] || { log "cost: $c has $rows rows, wanted $size"; exit 1; }
            printf '%s\t%s\t%s\t%s\t%s\n' "$size" "$c" "${depth%%|*}" "${depth#*|}" "$(( $(date +%s) - t0 ))" >>"$CDEPTH"
        done
        filled=$size
        for n in $COST_CLIENTS; do
            for path in book conflict; do
                for c in "${cs[@]}"; do
                    run_one "$size@$n@$path" "$c" cost_attempt "$CRESULTS"
                done
            done
        done
    done
    for c in "${cs[@]}"; do $PSQL -c "DROP DATABASE bench_cost_$c" postgres; done
}

# --- data files and charts -------------------------------------------------

write_scaling_data() {
    mkdir -p "$CHART_OUT"
    awk -F'\t' -v wls="$SC_WORKLOADS" -v cs="$SC_CONTENDERS" -v ns="$SC_CLIENTS" -v stamp="$STAMP" '
        { v = ($3 == "NA" || $3 == "" || $10 == 124) ? "?" : $3; tps[$1 SUBSEP $15 SUBSEP $2] = v }
        END {
            nw = split(wls, w, " "); nc = split(cs, c, " "); nn = split(ns, n, " ")
            printf "# bench/run BENCH_SUITE=scaling, run %s: TPS (pgbench, without connection time) against clients.\n", stamp
            printf "# One block per workload (gnuplot index 0..%d, in this order: %s); ? = not measured.\n", nw - 1, wls
            for (i = 1; i <= nw; i++) {
                if (i > 1) printf "\n\n"
                printf "# workload %s\n# clients", w[i]; for (j = 1; j <= nc; j++) printf " %s", c[j]; print ""
                for (k = 1; k <= nn; k++) {
                    printf "%s", n[k]
                    for (j = 1; j <= nc; j++) { t = tps[w[i] SUBSEP n[k] SUBSEP c[j]]; printf " %s", (t == "" ? "?" : t) }
                    print ""
                }
            }
        }' "$SRESULTS" >"$CHART_OUT/throughput_vs_clients.dat"
    awk -F'\t' -v sizes="$COST_SIZES" -v cs="$COST_CONTENDERS" -v ns="$COST_CLIENTS" -v stamp="$STAMP" '
        FILENAME == ARGV[1] { depth[$1 SUBSEP $2] = $3; next }
        { lat[$15 SUBSEP $16 SUBSEP $17 SUBSEP $2] = ($10 == 124 || $9 == "-") ? "?" : $9
          tps[$15 SUBSEP $16 SUBSEP $17 SUBSEP $2] = ($10 == 124) ? "?" : $3 }
        function g(a, k) { return (k in a) ? a[k] : "?" }
        END {
            ns_ = split(sizes, s, " "); nc = split(cs, c, " "); nn = split(ns, n, " "); np = split("book conflict", p, " ")
            printf "# bench/run BENCH_SUITE=scaling, run %s: per-call cost (pgbench average latency, ms) against booking-table rows.\n", stamp
            printf "# One block per (path, clients), gnuplot index 0..%d: ", np * nn - 1
            b = 0; for (q = 1; q <= np; q++) for (k = 1; k <= nn; k++) printf "%s%d = %s/%s clients", (b ? ", " : ""), b++, p[q], n[k]; print ""
            printf "# Columns: rows, then avg latency (ms), TPS and GiST depth per contender; ? = not measured.\n"
            first = 1
            for (q = 1; q <= np; q++) for (k = 1; k <= nn; k++) {
                if (!first) printf "\n\n"; first = 0
                printf "# path %s, %s client(s)\n# rows", p[q], n[k]
                for (j = 1; j <= nc; j++) printf " %s_ms", c[j]
                for (j = 1; j <= nc; j++) printf " %s_tps", c[j]
                for (j = 1; j <= nc; j++) printf " %s_depth", c[j]
                print ""
                for (i = 1; i <= ns_; i++) {
                    printf "%s", s[i]
                    for (j = 1; j <= nc; j++) printf " %s", g(lat, s[i] SUBSEP n[k] SUBSEP p[q] SUBSEP c[j])
                    for (j = 1; j <= nc; j++) printf " %s", g(tps, s[i] SUBSEP n[k] SUBSEP p[q] SUBSEP c[j])
                    for (j = 1; j <= nc; j++) printf " %s", g(depth, s[i] SUBSEP c[j])
                    print ""
                }
            }
        }' "$CDEPTH" "$CRESULTS" >"$CHART_OUT/cost_vs_rows.dat"
}

# gnuplot (pngcairo) from the .dat files; prints nothing, logs failures.
plot_scaling_charts() {
    command -v gnuplot >/dev/null || { log "gnuplot not found (Debian: gnuplot-nox) — no charts"; return 0; }
    local nw nc ex=0 j=0 c
    nw=$(wc -w <<<"$SC_WORKLOADS"); nc=$(wc -w <<<"$SC_CONTENDERS")
    for c in $SC_CONTENDERS; do j=$((j + 1)); [ "$c" = "$ANCHOR" ] && ex=$j; done
    local rows=1; [ "$ex" -gt 0 ] && rows=2
    local title="run $STAMP, $(nproc)-core shared machine: compare lines within a panel"
    local xlo xhi
    xlo=$(awk '{ print $1 / 2 }' <<<"$COST_SIZES"); xhi=$(awk '{ print $NF * 2 }' <<<"$COST_SIZES")
    gnuplot >"$OUT/gnuplot.log" 2>&1 <<EOF || log "gnuplot failed: see $OUT/gnuplot.log"
set terminal pngcairo size $(( 560 * nw + 80 )),$(( 380 * rows + 60 )) font "sans,10"
set output "$CHART_OUT/throughput_vs_clients.png"
set datafile missing "?"
C = "$SC_CONTENDERS"
W = "$SC_WORKLOADS"
set multiplot layout $rows,$nw title "Throughput against client count\n{/*0.8 $title}"
set logscale x 2
set offsets graph 0.04, graph 0.04, 0, 0
set xtics ($(sed 's/ /,/g' <<<"$SC_CLIENTS"))
set grid
set key top left font ",9"
set xlabel "pgbench clients"
do for [i=1:$nw] {
    set title sprintf("%s: TPS", word(W, i)) noenhanced
    set ylabel "transactions / s"
    set yrange [0:*]
    plot for [j=1:$nc] "$CHART_OUT/throughput_vs_clients.dat" index (i-1) using 1:(column(j+1)) with linespoints lw 2 pt 7 title word(C, j) noenhanced
}
if ($ex > 0) {
    do for [i=1:$nw] {
        set title sprintf("%s: TPS relative to $ANCHOR (same run, same client count)", word(W, i)) noenhanced
        set ylabel "ratio to $ANCHOR"
        set yrange [0:*]
        plot for [j=1:$nc] "$CHART_OUT/throughput_vs_clients.dat" index (i-1) using 1:(column(j+1) / column($ex + 1)) with linespoints lw 2 pt 7 title word(C, j) noenhanced
    }
}
unset multiplot

set terminal pngcairo size 1200,480 font "sans,10"
set output "$CHART_OUT/cost_vs_rows.png"
CC = "$COST_CONTENDERS"
N = "$COST_CLIENTS"
P = "book conflict"
PT = "booking a free slot|refused: the slot is taken"
set multiplot layout 1,2 title "Per-call cost against booking-table rows\n{/*0.8 $title}"
set logscale x 10
set offsets 0, 0, 0, 0
set xrange [$xlo:$xhi]
set xtics ($(sed 's/ /,/g' <<<"$COST_SIZES"))
set format x "%.0s%c"
set xlabel "rows in the booking table"
set ylabel "pgbench average latency per call (ms)"
set key top left font ",9"
set yrange [0:*]
nc = words(CC); nn = words(N)
do for [q=1:2] {
    set title sprintf("%s", q == 1 ? "booking a free slot" : "refused: the slot is taken")
    plot for [b=0:nc*nn-1] "$CHART_OUT/cost_vs_rows.dat" index ((q-1)*nn + b/nc) using 1:(column(2 + b%nc)) with linespoints lw 2 pt 7 dt b/nc+1 lc b%nc+1 title sprintf("%s, %s client(s)", word(CC, b%nc + 1), word(N, b/nc + 1)) noenhanced
}
unset multiplot
EOF
}

# --- BENCHMARKS.md section -------------------------------------------------

_scaling_tps_table() {   # $1 = workload
    awk -F'\t' -v w="$1" -v cs="$SC_CONTENDERS" -v ns="$SC_CLIENTS" -v anchor="$ANCHOR" '
        $1 == w { t[$15 SUBSEP $2] = ($3 == "NA" || $3 == "") ? "NA" : ($10 == 124 ? "STUCK" : $3) }
        END {
            nc = split(cs, c, " "); nn = split(ns, n, " ")
            printf "| clients |"; for (j = 1; j <= nc; j++) printf " %s |", c[j]; print ""
            printf "|---:|"; for (j = 1; j <= nc; j++) printf "---:|"; print ""
            for (k = 1; k <= nn; k++) {
                a = t[n[k] SUBSEP anchor]; printf "| %s |", n[k]
                for (j = 1; j <= nc; j++) {
                    v = t[n[k] SUBSEP c[j]]
                    if (v == "" || v == "NA") printf " n/a |"
                    else if (v == "STUCK") printf " stuck |"
                    else if (c[j] == anchor) printf " %.0f (**1.00**) |", v
                    else if (a == "" || a == "NA" || a == "STUCK" || a + 0 == 0) printf " %.0f |", v
                    else printf " %.0f (%.2f) |", v, v / a
                }
                print ""
            }
        }' "$SRESULTS"
}

_cost_table_md() {
    awk -F'\t' -v cs="$COST_CONTENDERS" -v sizes="$COST_SIZES" -v ns="$COST_CLIENTS" -v anchor="$ANCHOR" '
        FILENAME == ARGV[1] { depth[$1 SUBSEP $2] = $3; pages[$1 SUBSEP $2] = $4; next }
        { k = $15 SUBSEP $16 SUBSEP $17 SUBSEP $2
          lat[k] = ($10 == 124) ? "stuck" : $9; tps[k] = $3; succ[k] = $6; conf[k] = $7 }
        END {
            nc = split(cs, c, " "); ns_ = split(sizes, s, " "); nn = split(ns, n, " "); split("book conflict", p, " ")
            printf "| rows | GiST depth (pages) |"
            printf " path | clients |"
            for (j = 1; j <= nc; j++) printf " %s avg latency (ms) |", c[j]
            for (j = 1; j <= nc; j++) if (c[j] != anchor) printf " %s / %s latency |", c[j], anchor
            for (j = 1; j <= nc; j++) printf " %s TPS |", c[j]
            print " booked / refused per contender |"
            printf "|---:|---|---|---:|"; for (j = 1; j <= nc; j++) printf "---:|"
            for (j = 1; j <= nc; j++) if (c[j] != anchor) printf "---:|"
            for (j = 1; j <= nc; j++) printf "---:|"; print "---|"
            for (i = 1; i <= ns_; i++) for (q = 1; q <= 2; q++) for (m = 1; m <= nn; m++) {
                d = ""; for (j = 1; j <= nc; j++) d = d (j > 1 ? ", " : "") c[j] " " depth[s[i] SUBSEP c[j]] " (" pages[s[i] SUBSEP c[j]] ")"
                printf "| %d | %s | %s | %s |", s[i], d, p[q] == "book" ? "book a free slot" : "conflict", n[m]
                a = lat[s[i] SUBSEP n[m] SUBSEP p[q] SUBSEP anchor]
                for (j = 1; j <= nc; j++) { v = lat[s[i] SUBSEP n[m] SUBSEP p[q] SUBSEP c[j]]; printf " %s |", (v == "" ? "n/a" : v) }
                for (j = 1; j <= nc; j++) if (c[j] != anchor) {
                    v = lat[s[i] SUBSEP n[m] SUBSEP p[q] SUBSEP c[j]]
                    if (v + 0 > 0 && a + 0 > 0) printf " %.2f |", v / a; else printf " n/a |"
                }
                for (j = 1; j <= nc; j++) { v = tps[s[i] SUBSEP n[m] SUBSEP p[q] SUBSEP c[j]]; if (v == "") printf " n/a |"; else printf " %.0f |", v }
                bs = ""; for (j = 1; j <= nc; j++) { kk = s[i] SUBSEP n[m] SUBSEP p[q] SUBSEP c[j]; bs = bs (j > 1 ? "; " : "") c[j] " " succ[kk] " / " conf[kk] }
                print " " bs " |"
            }
        }' "$CDEPTH" "$CRESULTS"
}

# How cost grew, from the measurements: per (contender, path, clients) the
# latency at each size, and the factor from the smallest to the largest table.
_cost_growth() {
    awk -F'\t' -v cs="$COST_CONTENDERS" -v sizes="$COST_SIZES" -v ns="$COST_CLIENTS" '
        FILENAME == ARGV[1] { depth[$1 SUBSEP $2] = $3; next }
        $10 != 124 && $9 != "-" { lat[$15 SUBSEP $16 SUBSEP $17 SUBSEP $2] = $9 }
        END {
            nc = split(cs, c, " "); ns_ = split(sizes, s, " "); nn = split(ns, n, " "); split("book conflict", p, " ")
            if (ns_ < 2) exit
            growth = s[ns_] / s[1]; lo = 1e9; hi = 0
            for (j = 1; j <= nc; j++) for (q = 1; q <= 2; q++) for (m = 1; m <= nn; m++) {
                line = ""; ok = 1
                for (i = 1; i <= ns_; i++) {
                    v = lat[s[i] SUBSEP n[m] SUBSEP p[q] SUBSEP c[j]]
                    if (v == "") { ok = 0; break }
                    line = line (i > 1 ? " → " : "") v
                }
                if (!ok) continue
                f = lat[s[ns_] SUBSEP n[m] SUBSEP p[q] SUBSEP c[j]] / lat[s[1] SUBSEP n[m] SUBSEP p[q] SUBSEP c[j]]
                if (f < lo) lo = f; if (f > hi) hi = f
                printf "- %s, %s, %s client(s): %s ms (×%.2f for %g× the rows)\n", c[j], (p[q] == "book" ? "book a free slot" : "conflict"), n[m], line, f, growth
            }
            if (hi == 0) exit
            d = ""
            for (j = 1; j <= nc; j++) d = d (j > 1 ? ", " : "") c[j] " " depth[s[1] SUBSEP c[j]] " → " depth[s[ns_] SUBSEP c[j]]
            printf "\n**How cost grows:** from %d to %d rows (%g×) the average latency per call changed by ×%.2f to ×%.2f across contenders, paths and client counts", s[1], s[ns_], growth, lo, hi
            if (hi < 2 && growth >= 10)
                printf " — nowhere near the ×%g a cost linear in the table size would show. That is what logarithmic growth looks like: a call descends the GiST index on (resource, range) from the root to the leaves it needs, one page per level (depth %s), and the rest of a call does not depend on how many rows the table holds.\n", growth, d
            else
                printf " (GiST depth %s); a cost linear in the table size would show ×%g.\n", d, growth
        }' "$CDEPTH" "$CRESULTS"
}

_scaling_observations() {
    local any=0
    while IFS=$'\t' read -r wl c tps _ failed _ _ overlaps _ rc aborted errlines other kept n attempts; do
        [ "$tps" = NA ] && { echo "- $wl / $n clients / $c: not run — \`CREATE EXTENSION slotguard CASCADE\` failed."; any=1; continue; }
        [ "$rc" = 124 ] && { echo "- **$wl / $n clients / $c: stuck — pgbench killed, cluster crash-restarted.**"; any=1; continue; }
        if [ "$rc" != 0 ] || [ "${aborted:-0}" != 0 ] || [ "${errlines:-0}" != 0 ]; then
            echo "- $wl / $n clients / $c: pgbench exit code $rc, $aborted 'aborted' and $errlines 'error' lines (bench/out/$STAMP/pgbench/$wl.$c.c$n.try$kept.log)."; any=1
        fi
        [ "${failed:-0}" != 0 ] && { echo "- $wl / $n clients / $c: $failed failed transactions (not retried)."; any=1; }
        [ "${attempts:-1}" != 1 ] && { echo "- $wl / $n clients / $c: measured $attempts times because other processes were busy; attempt $kept, the least disturbed, is shown."; any=1; }
        if awk -v o="${other:-0}" -v m="$MAX_OTHER" 'BEGIN { exit !(o >= m) }'; then
            echo "- **$wl / $n clients / $c: other processes used $other cores during the run shown.**"; any=1
        fi
        if [ "$c" != insert ] && [ "${overlaps:-0}" != 0 ]; then
            echo "- **$wl / $n clients / $c: $overlaps overlapping rows after the run — the invariant was broken.**"; any=1
        fi
    done <"$SRESULTS"
    while IFS=$'\t' read -r _ c tps _ failed succ _ before _ rc aborted errlines other kept size n path _ attempts; do
        local what="cost $size rows / $path / $n client(s) / $c"
        [ "$rc" = 124 ] && { echo "- **$what: stuck — pgbench killed, cluster crash-restarted.**"; any=1; continue; }
        if [ "$rc" != 0 ] || [ "${aborted:-0}" != 0 ] || [ "${errlines:-0}" != 0 ]; then
            echo "- $what: pgbench exit code $rc, $aborted 'aborted' and $errlines 'error' lines (bench/out/$STAMP/pgbench/cost.$size.$path.c$n.$c.try$kept.r*.log)."; any=1
        fi
        [ "${failed:-0}" != 0 ] && { echo "- $what: $failed failed transactions."; any=1; }
        [ "$before" != "$size" ] && { echo "- **$what: the table had $before rows at the start, not $size.**"; any=1; }
        [ "$path" = conflict ] && [ "$succ" != 0 ] && { echo "- **$what: $succ bookings succeeded on taken slots.**"; any=1; }
        [ "${attempts:-1}" != 1 ] && { echo "- $what: measured $attempts times because other processes were busy; attempt $kept, the least disturbed, is shown."; any=1; }
        if awk -v o="${other:-0}" -v m="$MAX_OTHER" 'BEGIN { exit !(o >= m) }'; then
            echo "- **$what: other processes used $other cores during the run shown.**"; any=1
        fi
    done <"$CRESULTS"
    [ -s "$OUT/restarts.txt" ] && { echo "- The cluster was crash-restarted $(wc -l <"$OUT/restarts.txt") time(s) in this run."; any=1; }
    if [ "${SO_CHANGED:-0}" = 1 ] || { [ -s "$OUT/so_builds.tsv" ] && [ "$(cut -f3,4 "$OUT/so_builds.tsv" | tr '\t' '\n' | sort -u | wc -l)" -gt 1 ]; }; then
        echo "- **slotguard.so was replaced (re-installed) while this run was going on**; the builds seen: $(cut -f3,4 "$OUT/so_builds.tsv" 2>/dev/null | tr '\t' '\n' | sort -u | paste -sd, -)."; any=1
    fi
    [ "$any" = 0 ] && echo "- Every pgbench run exited 0 with no aborted client, no failed transaction and no error line; no checking contender left an overlapping row; every cost measurement started from exactly the stated number of rows, and no conflict-path attempt booked anything; no run shared the machine with $MAX_OTHER cores or more of other work."
    return 0
}

write_scaling_section() {
    local mode=default wl charts=bench/charts
    [ "$QUICK" = 1 ] && { mode="quick smoke run (BENCH_QUICK=1)"; charts="bench/out/$STAMP/charts"; }
    echo "$SCALING_BEGIN"
    cat <<EOF
## Scaling: client count and table size

**Run stamp \`$STAMP\`, $(date -u '+%Y-%m-%d %H:%M') UTC** — measured by one run of
\`BENCH_SUITE=$SUITE bench/run\` (raw logs: \`bench/out/$STAMP/\`, not committed);
like the feature section, it is written separately from the rest of this file.
slotguard: ${SLOTGUARD_VERSION:-not installed}. Mode: $mode.

**Read the ratios, not the absolute numbers.** The machine has $(nproc) cores,
is shared with other work, and runs pgbench on the same cores as the server:
beyond 2 clients more clients means more queueing, not more parallelism, and
absolute TPS and latencies move from run to run. Contenders measured next to
each other in this run (same client count, same table size) are comparable.

### Throughput against client count

![Throughput against client count]($charts/throughput_vs_clients.png)

Data: [\`$charts/throughput_vs_clients.dat\`]($charts/throughput_vs_clients.dat).
Each cell is TPS (ratio to \`$ANCHOR\` at the same client count). Each
(workload, client count, contender) gets its own fresh database set up exactly
as for the booking workloads above (same pre-run rows, \`VACUUM ANALYZE\`,
\`CHECKPOINT\`), then \`pgbench -n -M prepared -c <clients> -j min(2, clients) -T $SC_SECS\`;
for each client count the contenders run one after the other.

EOF
    for wl in $SC_WORKLOADS; do
        # shellcheck source=/dev/null
        source "$BENCH_DIR/workloads/$wl.conf"
        echo "#### $WL_TITLE"
        echo
        _scaling_tps_table "$wl"
        echo
    done
    cat <<EOF
### Per-call cost as the booking table grows

![Per-call cost against table rows]($charts/cost_vs_rows.png)

Data: [\`$charts/cost_vs_rows.dat\`]($charts/cost_vs_rows.dat).
One database per contender (\`bench/scaling/cost_setup_*.sql\`), both filled
with the same bookings (\`bench/scaling/cost_fill_*.sql\`; slotguard's through
\`slotguard.book_slot\`, which checks each one): $COST_NRES resources, booking
*i* on resource \`r(i mod $COST_NRES + 1)\` at hour 2·⌊i / $COST_NRES⌋ from
2020-01-01 (every other hour, so nothing overlaps and every booked hour has
free neighbours). The table grows in place to $(sed 's/ / → /g' <<<"$COST_SIZES") rows;
at each size \`VACUUM ANALYZE\`, \`CHECKPOINT\`, then
\`pgbench -n -M prepared\` at $(sed 's/ / and /g' <<<"$COST_CLIENTS") client(s), on two paths:
**book a free slot** (a random hour from 2040 on, on a random resource) and
**conflict** (exactly an existing booking: refused, nothing written; slotguard
also returns the conflicting id and free alternatives). Every successful
booking adds a row, and $COST_SECS s of booking would add more rows than the
10k table has, so the book path runs in rounds of \`pgbench -t\` (per round at
most a tenth of the table and at most $COST_ROUND_MAX calls), each followed by
deleting what it booked and \`VACUUM\`, until the rounds add up to $COST_SECS s:
every round starts from exactly the stated rows and ends at most 10 % above.
TPS there = calls / summed pgbench time, latency = the rounds' averages
weighted by calls; the conflict path is one \`-T $COST_SECS\` run. Latency is pgbench's average per call,
which at more clients than cores includes waiting for a CPU. GiST depth =
levels of the index the check descends (\`slotguard.booking_hash_blocked_idx\`; the
\`EXCLUDE\` constraint's index), read with pageinspect.

$(_cost_table_md)

$(_cost_growth)

### Observations from this run (scaling)

$(_scaling_observations)

Run only these: \`BENCH_SUITE=scaling bench/run\` (rewrites only this section
of BENCHMARKS.md and the files in \`bench/charts/\`). Knobs: \`BENCH_SCALING_SECONDS\`
($SC_SECS), \`BENCH_SCALING_CLIENTS\` ($SC_CLIENTS), \`BENCH_SCALING_WORKLOADS\`
($SC_WORKLOADS), \`BENCH_SCALING_CONTENDERS\`, \`BENCH_COST_SIZES\` ($COST_SIZES),
\`BENCH_COST_CLIENTS\` ($COST_CLIENTS).

EOF
    echo "$SCALING_END"
}
