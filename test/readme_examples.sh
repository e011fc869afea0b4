#!/usr/bin/env bash
# Every ```sql block of the README, run in order on a fresh database: the
# documentation's examples must keep working as written.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start

script=$CLUSTER_DIR/readme.sql
awk '/^```sql$/ { on = 1; next } /^```$/ { on = 0 } on' README.md > "$script"
blocks=$(grep -c '^```sql$' README.md)
(( blocks >= 4 )) || { echo "readme_examples: FAIL: found only $blocks SQL blocks" >&2; exit 1; }
if ! out=$(cluster_psql -v ON_ERROR_STOP=1 -f "$script" 2>&1); then
    echo "$out" | tail -5 >&2
    echo "readme_examples: FAIL: a README example does not run" >&2
    exit 1
fi
echo "readme_examples: $blocks SQL blocks ($(grep -c ';' "$script") statements) ran without error"
echo "readme_examples: OK"
