# shellcheck shell=bash disable=SC2016
# bench/lib/report.sh — sourced by bench/run; write_report prints BENCHMARKS.md
# from the measurements of this run only ($RESULTS, $MEMFILE) and run facts.
# Sections that suites can rewrite alone sit between marker lines
# (<!-- name:begin ... --> and <!-- name:end -->): section_extract and
# section_splice below find them by the marker's first word.

_marker_key() { printf '%s\n' "$1" | awk '{ print $1 " " $2 }'; }   # "<!-- name:begin"

# section_extract BEGIN END <file: prints the lines from BEGIN to END (inclusive).
section_extract() {
    awk -v b="$(_marker_key "$1")" -v e="$(_marker_key "$2")" '
        index($0, b) == 1 { on = 1 } on { print } on && index($0, e) == 1 { on = 0 }'
}

# section_splice BEGIN END SECTION_FILE [HEADING] <file >new: replaces the
# lines from BEGIN to END with SECTION_FILE. Without the markers: replaces
# the section that starts with the line HEADING (up to the next "## "
# heading or a marker line) when given and present; else appends.
section_splice() {
    local b e
    b=$(_marker_key "$1"); e=$(_marker_key "$2")
    awk -v b="$b" -v e="$e" -v f="$3" -v h="${4:-}" '
        { line[++n] = $0 }
        END {
            for (i = 1; i <= n; i++) if (index(line[i], b) == 1) { s = i; break }
            if (s) { for (j = s; j <= n; j++) if (index(line[j], e) == 1) { t = j; break } }
            else if (h != "") {
                for (i = 1; i <= n; i++) if (line[i] == h) { s = i; break }
                if (s) { for (j = s + 1; j <= n; j++) if (line[j] ~ /^## / || line[j] ~ /^<!-- /) break
                         t = j - 1; while (t > s && line[t] == "") t--; }
            }
            if (s && !t) t = n
            if (!s) { for (i = 1; i <= n; i++) print line[i]; if (n) print ""; while ((getline l < f) > 0) print l; exit }
            for (i = 1; i < s; i++) print line[i]
            while ((getline l < f) > 0) print l
            for (i = t + 1; i <= n; i++) print line[i]
        }'
}

_ratio_table() {   # headline: one row per workload, one column per contender
    awk -F'\t' -v anchor="$ANCHOR" -v contenders="$CONTENDERS" '
        { tps[$1 SUBSEP $2] = ($10 == 124 ? "STUCK" : $3); if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
        END {
            nc = split(contenders, c, " ")
            printf "| workload |"; for (j = 1; j <= nc; j++) printf " %s |", c[j]; print ""
            printf "|---|"; for (j = 1; j <= nc; j++) printf "---:|"; print ""
            for (i = 1; i <= n; i++) {
                w = order[i]; a = tps[w SUBSEP anchor]
                printf "| %s |", w
                for (j = 1; j <= nc; j++) {
                    t = tps[w SUBSEP c[j]]
                    if (t == "" || t == "NA") printf " n/a |"
                    else if (t == "STUCK") printf " stuck |"
                    else if (a == "" || a == "NA" || a + 0 == 0) printf " %.0f tps |", t
                    else if (c[j] == anchor) printf " **1.00** |"
                    else printf " %.2f |", t / a
                }
                print ""
            }
        }' "$RESULTS"
}

_workload_table() {   # $1 = workload
    awk -F'\t' -v w="$1" -v anchor="$ANCHOR" '
        $1 == w && $2 == anchor { a = $3 }
        $1 == w { row[++n] = $0 }
        END {
            print "| contender | TPS | ratio to exclude | transactions | successes | conflicts | failed | overlapping rows after run | avg latency (ms) | other CPU (cores) |"
            print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            for (i = 1; i <= n; i++) {
                split(row[i], f, "\t")
                if (f[3] == "NA") { printf "| %s | not run (extension not installable) | | | | | | | | |\n", f[2]; continue }
                if (f[10] == 124) { printf "| %s | **stuck**: pgbench killed, statements never returned | n/a | | %d | | | %d | | %s |\n", f[2], f[6], f[8], f[13]; continue }
                r = (a + 0 > 0) ? sprintf("%.2f", f[3] / a) : "n/a"
                if (f[2] == anchor) r = "**1.00**"
                printf "| %s | %.0f | %s | %d | %d | %d | %d | %d | %s | %s |\n", \
                    f[2], f[3], r, f[4], f[6], f[7], f[5], f[8], f[9], f[13]
            }
        }' "$RESULTS"
}

_memory_table() {
    awk -F'|' '
        BEGIN {
            print "| step (one session) | calls | booked | seconds | VmRSS (kB) | RssAnon (kB) | VmHWM (kB) | memory contexts total (bytes) | contexts |"
            print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        }
        { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$MEMFILE"
}

_memory_summary() {   # baseline (row 2) vs last row
    awk -F'|' '
        NR == 2 { brss = $7; bctx = $9 }
        { lrss = $7; lctx = $9; last = $2 }
        END {
            if (NR < 3) exit
            printf "From the baseline (after warm-up) to the last step (%s): RssAnon %+d kB, memory contexts %+d bytes.\n", last, lrss - brss, lctx - bctx
        }' "$MEMFILE"
}

_so_builds_used() {   # distinct builds seen by the kept slotguard attempts
    [ -s "$OUT/so_builds.tsv" ] || return 0
    awk -F'\t' 'NR == FNR { if ($2 == "slotguard") kept[$1] = $14; next }
                 kept[$1] == $2 { print $3; print $4 }' "$RESULTS" "$OUT/so_builds.tsv" | sort -u
}
_so_builds_per_workload() {
    [ -s "$OUT/so_builds.tsv" ] || return 0
    awk -F'\t' 'NR == FNR { if ($2 == "slotguard") kept[$1] = $14; next }
                 kept[$1] == $2 { printf "%s%s %s", sep, $1, ($3 == $4 ? $3 : $3 " → " $4); sep = ", " }' \
        "$RESULTS" "$OUT/so_builds.tsv"
}

_observations() {
    local any=0
    while IFS=$'\t' read -r wl c tps _ failed _ _ overlaps _ rc aborted errlines other kept attempts; do
        [ "$tps" = NA ] && { echo "- $wl / $c: not run — \`CREATE EXTENSION slotguard CASCADE\` failed in this run."; any=1; continue; }
        if [ "$rc" = 124 ]; then
            echo "- **$wl / $c: stuck — pgbench had not finished ${PGBENCH_LIMIT} s after starting a ${SECS} s run; its statements never returned and ignored cancel, so the cluster was crash-restarted** (stuck statements: bench/out/$STAMP/pgbench/$wl.$c.try$kept.stuck.txt)."
            any=1; continue
        fi
        if [ "$rc" != 0 ] || [ "${aborted:-0}" != 0 ] || [ "${errlines:-0}" != 0 ]; then
            echo "- $wl / $c: pgbench exit code $rc, $aborted 'aborted' and $errlines 'error' lines in its log (bench/out/$STAMP/pgbench/$wl.$c.try$kept.log)."
            any=1
        fi
        if [ "${failed:-0}" != 0 ]; then
            echo "- $wl / $c: $failed failed transactions (serialization/deadlock failures, not retried)."; any=1
        fi
        if [ "${attempts:-1}" != 1 ]; then
            echo "- $wl / $c: measured $attempts times because other processes were busy; attempt $kept, the least disturbed, is shown."; any=1
        fi
        if awk -v o="${other:-0}" -v m="$MAX_OTHER" 'BEGIN { exit !(o >= m) }'; then
            echo "- **$wl / $c: other processes used ${other} cores during the run shown**, so its number is less trustworthy."; any=1
        fi
        if [ "$c" != insert ] && [ "${overlaps:-0}" != 0 ]; then
            echo "- **$wl / $c: $overlaps overlapping rows after the run — the no-double-booking invariant was broken.**"; any=1
        fi
    done <"$RESULTS"
    if [ "${SO_CHANGED:-0}" = 1 ] || [ "$(_so_builds_used | wc -l)" -gt 1 ]; then
        echo "- **slotguard.so was replaced (re-installed) while this run was going on.** Builds (sha256 prefix) the slotguard rows ran on: $(_so_builds_per_workload)."; any=1
    fi
    if [ -s "$OUT/restarts.txt" ]; then
        echo "- The cluster was crash-restarted $(wc -l <"$OUT/restarts.txt") time(s) in this run to clear stuck backends."; any=1
    fi
    if [ -s "$OUT/memcheck.failed" ]; then
        echo "- **$(cat "$OUT/memcheck.failed")** (bench/out/$STAMP/memcheck.log)."; any=1
    fi
    echo "- Server log: $SERVER_ERRORS."
    if [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ]; then
        grep -E '(ERROR|FATAL|PANIC):' "$SERVER_LOG" | sed -E 's/.*(ERROR|FATAL|PANIC):[[:space:]]*/\1: /' \
            | sort | uniq -c | sort -rn | head -5 | sed -E 's/^ *([0-9]+) (.*)/  - \1 × `\2`/' || true
    fi
    [ "$any" = 0 ] && echo "- Every pgbench run exited 0 with no aborted client and no error line, no checking contender left an overlapping row, and no run shared the machine with $MAX_OTHER cores or more of other work."
    return 0
}

write_report() {
    local mode=default
    [ "$QUICK" = 1 ] && mode="quick smoke run (BENCH_QUICK=1)"
    [ "$FULL" = 1 ] && mode="$mode, BENCH_FULL=1"
    cat <<EOF
# slotguard benchmarks

Every number in the sections from here to "How to run" was measured by **one
run of \`bench/run\`**, the run that wrote them (raw logs: \`bench/out/$STAMP/\`,
not committed), except the memory section, which names its run: it can be
refreshed alone, as can the "Feature workloads" and "Scaling" sections below.
Re-run to refresh; do not edit numbers by hand.

## Headline: throughput relative to the EXCLUDE anchor

TPS of each contender divided by the TPS of \`exclude\` (a PostgreSQL exclusion
constraint, the textbook answer) in the same workload and run. Above 1 is
faster than the anchor. \`insert\` checks nothing and double-books: it is the
ceiling, not a competitor.

$(_ratio_table)

## Run

| | |
|---|---|
| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |
| machine | $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr) |
| server | $PG_VERSION |
| pgbench | $("$PGBENCH" --version) |
| slotguard | ${SLOTGUARD_VERSION:-not installed} |
| mode | $mode |
| per contender per workload | $SECS s, $CLIENTS clients, $JOBS pgbench threads, \`-M prepared\` |
| cluster | throwaway, started by \`$CLUSTER_LIB\`; pgbench and server on the same 2-core machine, connected over \`${PGHOST}\` |

### Server settings (identical for every contender)

| setting | value |
|---|---|
$SETTINGS_TABLE

## Method

- One throwaway cluster per run. Every (workload, contender) pair gets its own
  fresh database: \`bench/setup/common.sql\` then \`bench/setup/<contender>.sql\`,
  the same pre-run rows for every contender (10 000 past bookings before 2030,
  so that tables and statistics are not those of an empty table — an empty,
  analysed table makes the hand-written fixes' prepared NOT EXISTS probe cache
  a seq-scan plan — plus the workload's pre-fill), \`VACUUM ANALYZE\`, \`CHECKPOINT\`,
  then \`pgbench -n -M prepared -c $CLIENTS -j $JOBS -T $SECS -f bench/contenders/<contender>.sql\`
  with the workload's parameters passed as \`-D\` variables, so every contender
  draws its resource and range with the same expressions. The database is
  dropped afterwards. Workloads run in the order listed, contenders in the
  order of the tables below.
- **TPS** is pgbench's "without initial connection time" figure. A transaction
  is one booking attempt (for \`advisory_lock\` / \`for_update\` the whole
  BEGIN … COMMIT).
- **Successes** = booking rows in the table after the run minus the rows
  before it. **Conflicts** = transactions − failed − successes (for \`insert\`
  always 0: it never refuses).
- **Overlapping rows after run**: rows whose range overlaps an earlier-starting
  row of the same resource, counted by a window query after the run. It must be
  0 for every checking contender; for \`insert\` it counts its double bookings.
- A refused booking writes nothing, so its transaction commits without a WAL
  flush: that is how a checking contender can outrun \`insert\` when most
  attempts conflict (hot-conflict).
- \`advisory_lock\` and \`for_update\` cost four client round trips per
  transaction (BEGIN, lock, INSERT, COMMIT), the others one: that is part of
  what these hand-written fixes cost as an application would write them.
- **Other CPU (cores)**: CPU time used during the run by processes outside
  the benchmark (all busy CPU minus the cluster's processes and pgbench),
  divided by wall time, from \`/proc\`. Near 0 means the contender had the
  machine to itself; the host has only $(nproc) cores. The machine is shared
  with other work, so before each run \`bench/run\` waits (up to ${QUIET_WAIT} s)
  for it to be quiet, and measures a pair again (up to ${RETRIES} more times)
  when other processes used ${MAX_OTHER} cores or more during the run, keeping
  the least disturbed attempt.
- Ranges are \`[start, end)\` \`tstzrange\`s from 2030-01-01 00:00 UTC; resources
  are \`r1\` … \`rN\`.

## Results per workload

EOF
    local wl
    for wl in $WORKLOADS; do
        # shellcheck source=/dev/null
        source "$BENCH_DIR/workloads/$wl.conf"
        echo "### $WL_TITLE"
        echo
        sed -n '/^#/ s/^# \{0,1\}//p' "$BENCH_DIR/workloads/$wl.conf" | sed "1s/^$wl: //; 1s/^./\\U&/"
        echo
        echo "Parameters: $WL_NRES resource(s), slot start = random(0, $WL_NSLOTS − 1) × $WL_STEP_MIN min, duration $WL_DUR_MIN min; before the run: $WL_HISTORY past bookings (before 2030) and $WL_PREFILL pre-filled slot(s)."
        echo
        _workload_table "$wl"
        echo
    done
    write_memory_section
    cat <<'EOF'

## The contenders

- **insert** — `INSERT INTO bench_booking VALUES (…)` into a plain table with no
  index and no check: the upper bound on speed. It double-books freely.
- **exclude** (anchor, ratio 1.00) — the same table with
  `EXCLUDE USING gist (resource WITH =, during WITH &&)` (btree_gist) and
  `INSERT … ON CONFLICT DO NOTHING`. What a PostgreSQL user writes first; it
  cannot express capacity, buffers, holds or suggestions, so slotguard is
  measured against it on the one thing both do: refuse an overlapping booking.
- **slotguard** — `SELECT booking_id FROM slotguard.try_book_slot(resource, range)`,
  resources created beforehand with `slotguard.upsert_resource` (capacity 1, no
  buffers). On a conflict it also returns the conflicting ids and up to three
  free alternatives (its contract), which the other contenders do not compute.
- **advisory_lock** — a hand-written fix: `BEGIN; SELECT pg_advisory_xact_lock(hashtext(resource));
  INSERT … SELECT … WHERE NOT EXISTS (overlapping row); COMMIT;` with a gist index
  on `(resource, during)`. Serializes all bookings of a resource, and holds
  the lock through COMMIT: on one hot resource it books at most one commit
  (a WAL flush, fsync on) at a time.
- **for_update** — another hand-written fix: lock the resource's row in a
  resources table with `SELECT … FOR UPDATE`, then the same `NOT EXISTS`
  insert, in one transaction; same gist index. Same serialization through
  COMMIT as `advisory_lock`, plus a row lock.

## Observations from this run

EOF
    _observations
    cat <<'EOF'

## How to run

```sh
bench/run                      # default: 15 s per contender per workload, 8 clients; rewrites BENCHMARKS.md
BENCH_QUICK=1 bench/run        # smoke run of a few seconds; report only in bench/out/<stamp>/
BENCH_SECONDS=60 BENCH_CLIENTS=16 bench/run
BENCH_FULL=1 bench/run         # memory check with 1M calls instead of 200k
BENCH_SUITE=bookings bench/run # only the booking workloads + memory check (keeps the feature section)
BENCH_SUITE=features bench/run # only the feature pairs; rewrites only the "Feature workloads" section
BENCH_SUITE=scaling bench/run  # TPS vs 1..32 clients, cost vs 10k..1M rows (~15 min); only the "Scaling" section + bench/charts/
BENCH_SUITE=memory BENCH_FULL=1 bench/run  # only the memory check (1M calls); only the memory section
```

Needs PostgreSQL 15 server binaries (`/usr/lib/postgresql/15/bin`, with pgbench
and btree_gist) and slotguard installed (`make && make install`); run as root
(the cluster runs as OS user `postgres`) or as a user that may run PostgreSQL.
The script starts a throwaway cluster on a free loopback port, with its socket
in a temporary directory, and deletes it on exit. Without an installable
slotguard it still runs the other contenders and says so here.
EOF
}

# --- memory: its own section (BENCH_SUITE=memory rewrites it alone) --------
MEMORY_BEGIN='<!-- memory:begin (written by BENCH_SUITE=bookings|memory|all bench/run) -->'
MEMORY_END='<!-- memory:end -->'
MEMORY_HEADING='## Memory: one session, many calls'

_memory_compare() {   # the n_small batches against the n_big ones
    awk -F'|' -v small="$MEM_SMALL" -v big="$MEM_BIG" '
        index($2, small " calls, free slots") == 1 && s == "" { s = $7; sc = $9 }
        index($2, big " calls, all conflicts") == 1 && g == "" { g = $7; gc = $9 }
        index($2, big " calls, all conflicts (second time)") == 1 { g2 = $7; gc2 = $9 }
        { l = $7; lc = $9 }
        END {
            if (s == "" || g == "") exit
            printf "**%d calls vs %d calls:** RssAnon %s kB after the first %d-call batch, %s kB after %d more calls (free slots, then conflicts)", small, big, s, small, g, 2 * big
            if (g2 != "") printf ", %s kB after another %d conflicting calls", g2, big
            printf ", %s kB at the end; memory-context total %s → %s%s → %s bytes.\n", l, sc, gc, (gc2 != "" ? " → " gc2 : ""), lc
        }' "$MEMFILE"
}

write_memory_section() {
    local mode=default
    [ "$QUICK" = 1 ] && mode="quick smoke run (BENCH_QUICK=1)"
    [ "$FULL" = 1 ] && mode="$mode, BENCH_FULL=1"
    echo "$MEMORY_BEGIN"
    cat <<EOF
## Memory: one session, many calls

Measured by run \`$STAMP\` (\`BENCH_SUITE=$SUITE bench/run\`, mode: $mode; batches of
$MEM_SMALL and $MEM_BIG calls), started $MEM_START UTC. slotguard: ${SLOTGUARD_VERSION:-not installed}.

\`bench/memory/memcheck.sql\`: one session calls \`slotguard.try_book_slot\` in
batches, each batch one statement
(\`SELECT count(*) FROM generate_series(lo, hi) g, LATERAL slotguard.try_book_slot('mem', …)\`),
first on free slots (every other hour), then the same ranges again (all
conflicts, with free neighbours for the suggestions). After each batch the same
backend reads its own \`/proc/self/status\` (VmRSS includes the shared buffers
it has touched, so RssAnon — private memory — is the figure to watch) and sums
\`total_bytes\` of \`pg_backend_memory_contexts\`. VmHWM is the backend's peak
RSS so far, i.e. it would show growth inside a batch. RSS also holds what
glibc's allocator keeps after a statement frees it (reused, not returned to
the OS), so a one-time rise with the first big batch is expected; a leak would
show as growth that continues over the repeated batches, or as a rising
memory-context total.

EOF
    if [ -s "$MEMFILE" ]; then
        _memory_table; echo; _memory_summary; echo; _memory_compare
        [ -s "$OUT/memcheck.failed" ] && { echo; echo "**Incomplete: $(cat "$OUT/memcheck.failed").**"; }
    else
        echo "Not run in this run (slotguard not installable, or the check failed: see bench/out/$STAMP/memcheck.log)."
    fi
    echo
    echo "Run only this: \`BENCH_SUITE=memory bench/run\` (batches of 200k calls) or \`BENCH_SUITE=memory BENCH_FULL=1 bench/run\` (1M); it rewrites only this section."
    echo
    echo "$MEMORY_END"
}

# --- feature workloads: own section, between markers ------------------------
# write_feature_section prints the "Feature workloads" section from this run's
# $FRESULTS only. With BENCH_SUITE=features bench/run replaces just the lines
# from FEATURE_BEGIN to FEATURE_END in the root BENCHMARKS.md.
FEATURE_BEGIN='<!-- feature-workloads:begin (written by BENCH_SUITE=features|all bench/run) -->'
FEATURE_END='<!-- feature-workloads:end -->'

_feature_ratio_table() {
    local pair
    echo "| pair | slotguard TPS (median) | anchor TPS (median) | ratio slotguard / anchor: median of the rounds | per-round ratios | target ratio | measured ≥ target | clients |"
    echo "|---|---:|---:|---:|---|---:|---|---:|"
    for pair in $FEATURES; do
        # shellcheck source=/dev/null
        source "$FEATURE_DIR/$pair.conf"
        awk -F'\t' -v p="$pair" -v target="$FT_TARGET" -v cl="$FT_CLIENTS" -v aname="$FT_ANCHOR_NAME" '
            function bad(t) { return t == "" || t == "NA" || t == "STUCK" }
            function median(v, n,    i, j, t) {
                for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
                return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
            }
            $1 == p { t = ($10 == 124 ? "STUCK" : $3); r = $17 == "" ? 1 : $17; rounds[r] = 1
                      if ($2 == "slotguard") s[r] = t; else a[r] = t }
            END {
                n = 0; list = ""; ns = 0; na = 0
                for (r = 1; r in rounds; r++) {
                    if (!bad(s[r])) ss[++ns] = s[r]
                    if (!bad(a[r])) aa[++na] = a[r]
                    if (bad(s[r]) || bad(a[r]) || a[r] + 0 <= 0) { list = list (list == "" ? "" : ", ") "n/a"; continue }
                    q[++n] = s[r] / a[r]
                    list = list (list == "" ? "" : ", ") sprintf("%.2f", s[r] / a[r])
                }
                ms = ns ? sprintf("%.0f", median(ss, ns)) : "n/a"
                ma = na ? sprintf("%.0f", median(aa, na)) : "n/a"
                if (n == 0) { printf "| %s (vs %s) | %s | %s | n/a | %s | ≥ %.1f | n/a | %d |\n", p, aname, ms, ma, list, target, cl; exit }
                m = median(q, n)
                printf "| %s (vs %s) | %s | %s | **%.2f** | %s | ≥ %.1f | %s | %d |\n", p, aname, ms, ma, m, list, target, (m >= target ? "yes" : "no"), cl
            }' "$FRESULTS"
    done
}

_feature_pair_table() {   # $1 = pair
    # shellcheck source=/dev/null
    source "$FEATURE_DIR/$1.conf"
    echo "| round | side | pgbench script | TPS | transactions | failed | avg latency (ms) | other CPU (cores) | attempts | after the run |"
    echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---|"
    awk -F'\t' -v p="$1" -v ss="$FT_SCRIPT_SLOTGUARD" -v as="$FT_SCRIPT_ANCHOR" '
        $1 != p { next }
        {
            sc = ($2 == "slotguard" ? ss : as) ".sql"
            r = $17 == "" ? 1 : $17
            if ($3 == "NA") { printf "| %s | %s | `%s` | not run (extension not installable) | | | | | | |\n", r, $2, sc; next }
            if ($10 == 124) { printf "| %s | %s | `%s` | **stuck**: pgbench killed | | | | %s | %s | %s |\n", r, $2, sc, $13, $16, $15; next }
            printf "| %s | %s | `%s` | %.0f | %d | %d | %s | %s | %s | %s |\n", r, $2, sc, $3, $4, $5, $9, $13, $16, $15
        }' "$FRESULTS"
}

_feature_observations() {
    local any=0 pair side tps failed rc aborted errlines other kept attempts round
    while IFS=$'\t' read -r pair side tps _ failed _ _ _ _ rc aborted errlines other kept _ attempts round; do
        [ "$tps" = NA ] && { echo "- $pair / $side: not run — \`CREATE EXTENSION slotguard CASCADE\` failed in this run."; any=1; continue; }
        local logf="bench/out/$STAMP/pgbench/feature.$pair.$side.r$round.try$kept.log"
        side="$side (round $round)"
        if [ "$rc" = 124 ]; then
            echo "- **$pair / $side: stuck — pgbench had not finished ${PGBENCH_LIMIT} s after starting; the cluster was crash-restarted** ($logf)."; any=1; continue
        fi
        if [ "$rc" != 0 ] || [ "${aborted:-0}" != 0 ] || [ "${errlines:-0}" != 0 ]; then
            echo "- $pair / $side: pgbench exit code $rc, $aborted 'aborted' and $errlines 'error' lines in its log ($logf)."; any=1
        fi
        if [ "${failed:-0}" != 0 ]; then
            echo "- $pair / $side: $failed failed transactions (serialization/deadlock failures, not retried)."; any=1
        fi
        if [ "${attempts:-1}" != 1 ]; then
            echo "- $pair / $side: measured $attempts times because other processes were busy; attempt $kept, the least disturbed, is shown."; any=1
        fi
        if awk -v o="${other:-0}" -v m="$MAX_OTHER" 'BEGIN { exit !(o >= m) }'; then
            echo "- **$pair / $side: other processes used ${other} cores during the run shown**, so its number is less trustworthy."; any=1
        fi
    done <"$FRESULTS"
    if [ -s "$OUT/feature_so_builds.tsv" ] && [ "$(cut -f3,4 "$OUT/feature_so_builds.tsv" | tr '\t' '\n' | sort -u | wc -l)" -gt 1 ]; then
        echo "- **slotguard.so was replaced (re-installed) while this run was going on.**"; any=1
    fi
    if [ -s "$OUT/restarts.txt" ]; then
        echo "- The cluster was crash-restarted $(wc -l <"$OUT/restarts.txt") time(s) in this run to clear stuck backends."; any=1
    fi
    [ "$any" = 0 ] && echo "- Every pgbench run exited 0 with no aborted client, no failed transaction and no error line, and no run shared the machine with $MAX_OTHER cores or more of other work."
    return 0
}

write_feature_section() {
    local mode=default pair
    [ "$QUICK" = 1 ] && mode="quick smoke run (BENCH_QUICK=1)"
    echo "$FEATURE_BEGIN"
    cat <<EOF
## Feature workloads

**Run stamp \`$STAMP\`, $(date -u '+%Y-%m-%d %H:%M') UTC** — measured by one run of
\`BENCH_SUITE=$SUITE bench/run\` (raw logs: \`bench/out/$STAMP/\`, not committed).
This section is written separately from the rest of this file: its numbers
come from that run only, which need not be the run that measured the sections
above. slotguard: ${SLOTGUARD_VERSION:-not installed}. Server: $PG_VERSION;
$(nproc) cores; mode: $mode.

Each pair runs a slotguard workload against the hand-written **anchor** that
does the same job, on the same throwaway cluster with the same settings as
the booking workloads (\`shared_buffers=256MB\`, \`fsync\` and
\`synchronous_commit\` on, …). Each side gets its own fresh database
(\`bench/setup/features/<pair>_{slotguard,anchor}.sql\`, then \`VACUUM ANALYZE\`
and \`CHECKPOINT\`), then \`pgbench -n -M prepared -c <clients> -j $JOBS -T $SECS\`
on its script in \`bench/workloads/\`. Each pair is measured in
$FEATURE_ROUNDS round(s); the side that goes first alternates (slotguard in odd
rounds, the anchor in even ones), so a drift in the machine's speed does
not favour either. The quiet-machine wait and the re-measuring of disturbed
runs are the same as above. **Ratio** = slotguard TPS / anchor TPS of one
round; the table gives the **median** of the rounds' ratios, and the
**target** is the ratio the issue asks for. Setup and background per pair: \`bench/workers.md\`,
\`bench/orders.md\`, \`bench/protect.md\`.

$(_feature_ratio_table)

EOF
    for pair in $FEATURES; do
        # shellcheck source=/dev/null
        source "$FEATURE_DIR/$pair.conf"
        echo "### $FT_TITLE"
        echo
        sed -n '/^#/ s/^# \{0,1\}//p' "$FEATURE_DIR/$pair.conf" | sed "1s/^$pair: //; 1s/^./\\U&/"
        echo
        echo "$FT_CLIENTS clients, $SECS s per side${FT_VARS:+; variables (setup and pgbench): \`$FT_VARS\`}; anchor: $FT_ANCHOR_NAME."
        echo
        _feature_pair_table "$pair"
        echo
    done
    echo "### Observations from this run (feature workloads)"
    echo
    _feature_observations
    echo
    echo "Run only these: \`BENCH_SUITE=features bench/run\` (rewrites only this section of BENCHMARKS.md); \`BENCH_FEATURES=\"workers protect\"\` for a subset."
    echo
    echo "$FEATURE_END"
}
