#!/usr/bin/env bash
# Builds slotguard and runs every test suite, each on its own throwaway
# PostgreSQL cluster (test/lib/cluster.sh), then prints a per-suite summary
# and a last line "N passed, N failed" (read by CI). Exits non-zero if any
# suite failed.
#
#   ./run-tests.sh                      # deps (no-op when present), build, all suites
#   ./run-tests.sh --no-deps --no-build # reuse what is built and installed
#   ./run-tests.sh regress stress       # only suites whose name contains a word
#
# Suites, in order:
#   unit       ctest on build/ (C++ core, GoogleTest)
#   regress    pg_regress: sql/*.sql vs expected/*.out (make installcheck)
#   isolation  isolation tester: specs/*.spec (make installcheck)
#   demo       scripts/demo.sh (20 clients, one slot, exactly one winner)
#   test/*.sh  every executable scenario/stress script, in sorted order
# Each runs in its own process with a time limit (SUITE_TIMEOUT, default 900 s).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-900}

# --- one pg_regress/isolation suite (called as: run-tests.sh --installcheck KIND) ---
# Runs in a child process so `set -e` and the cluster's EXIT trap behave.
if [[ ${1:-} == --installcheck ]]; then
    kind=$2
    source "$ROOT/test/lib/cluster.sh"
    # The isolation specs run with slotguard preloaded, as production
    # should: the queue hints (src/pg/orders/queue_hint.hpp) and the
    # cluster-wide statistics exist only then. pg_regress runs without it.
    if [[ $kind == isolation ]]; then cluster_start "shared_preload_libraries = 'slotguard'"; else cluster_start; fi
    # pg_regress writes results/ and output_iso/ next to the sources, as the
    # cluster's OS user: work on a copy owned by that user.
    src=$CLUSTER_DIR/src
    mkdir "$src"
    tar -C "$ROOT" --exclude=./.git --exclude=./build --exclude=./results \
        --exclude=./output_iso --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
        -cf - . | tar -C "$src" -xf -
    [[ $EUID -ne 0 ]] || chown -R postgres: "$src"
    if [[ $kind == regress ]]; then
        only=(ISOLATION=) diffs=$src/regression.diffs
    else
        only=(REGRESS=) diffs=$src/output_iso/regression.diffs
    fi
    if cluster_as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres \
        make -C "$src" --no-print-directory installcheck PG_CONFIG="$PG_CONFIG" "${only[@]}"; then
        exit 0
    fi
    if [[ -f $diffs ]]; then
        echo "---- $kind: differences (first 500 lines of $(basename "$diffs")) ----"
        head -n 500 "$diffs"
    fi
    exit 1
fi

# --- driver ---
do_deps=1 do_build=1 filters=()
for arg in "$@"; do
    case $arg in
        --no-deps) do_deps=0 ;;
        --no-build) do_build=0 ;;
        -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
        *) filters+=("$arg") ;;
    esac
done

# name|command (the command is run by bash -c, from the repo root)
suites=(
    "unit|ctest --test-dir build --output-on-failure --no-tests=error --timeout 300"
    "regress|bash ./run-tests.sh --installcheck regress"
    "isolation|bash ./run-tests.sh --installcheck isolation"
    "demo|bash scripts/demo.sh"
)
for script in test/*.sh; do
    [[ -f $script && -x $script ]] && suites+=("$(basename "$script" .sh)|bash $script")
done

wanted() {
    local name=$1 f
    [[ ${#filters[@]} -eq 0 ]] && return 0
    for f in "${filters[@]}"; do [[ $name == *"$f"* ]] && return 0; done
    return 1
}

if [[ $do_deps == 1 ]]; then
    # Quiet when everything is already installed; full output if it fails.
    if ! deps_out=$(bash scripts/install-deps.sh 2>&1 </dev/null); then
        echo "$deps_out"
        echo "run-tests: installing dependencies failed; trying to go on" >&2
    fi
fi

build_ok=1
if [[ $do_build == 1 ]]; then
    echo "==== build"
    if ! bash scripts/build.sh </dev/null; then
        build_ok=0
        echo "run-tests: BUILD FAILED — every suite counts as failed" >&2
    fi
fi

passed=0 failed=0 skipped=0 report=()
for entry in "${suites[@]}"; do
    name=${entry%%|*} cmd=${entry#*|}
    wanted "$name" || continue
    if [[ $name == regress && -z $(compgen -G 'sql/*.sql') ]] ||
        [[ $name == isolation && -z $(compgen -G 'specs/*.spec') ]]; then
        skipped=$((skipped + 1)) report+=("$(printf '%-24s SKIP  (no tests)' "$name")")
        continue
    fi
    if [[ $build_ok == 0 ]]; then
        failed=$((failed + 1)) report+=("$(printf '%-24s FAIL  (not run: build failed)' "$name")")
        continue
    fi
    echo
    echo "==== $name: $cmd"
    start=$SECONDS
    rc=0
    timeout -k 30 "$SUITE_TIMEOUT" bash -c "$cmd" </dev/null || rc=$?
    took=$((SECONDS - start))
    if [[ $rc -eq 0 ]]; then
        passed=$((passed + 1)) report+=("$(printf '%-24s PASS  %4ds' "$name" "$took")")
    else
        why="exit $rc"
        [[ $rc -eq 124 ]] && why="timed out after ${SUITE_TIMEOUT}s"
        failed=$((failed + 1)) report+=("$(printf '%-24s FAIL  %4ds  (%s)' "$name" "$took" "$why")")
    fi
    echo "==== $name: $([[ $rc -eq 0 ]] && echo PASS || echo FAIL) (${took}s)"
done

echo
echo "==== summary"
printf '%s\n' "${report[@]}"
echo
line="$passed passed, $failed failed"
[[ $skipped -gt 0 ]] && line+=", $skipped skipped"
echo "$line"
[[ $failed -eq 0 && $passed -gt 0 ]]
