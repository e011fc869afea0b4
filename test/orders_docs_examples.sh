#!/usr/bin/env bash
# Every ```sql block of docs/orders.md, run in order on a fresh database:
# the queue documentation's examples must keep working as written (and the
# fencing example's stale completion must be refused).
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start

script=$CLUSTER_DIR/orders_docs.sql
awk '/^```sql$/ { on = 1; next } /^```$/ { on = 0 } on' docs/orders.md > "$script"
blocks=$(grep -c '^```sql$' docs/orders.md)
(( blocks >= 4 )) || { echo "orders_docs_examples: FAIL: found only $blocks SQL blocks" >&2; exit 1; }
if ! out=$(cluster_psql -v ON_ERROR_STOP=1 -f "$script" 2>&1); then
    echo "$out" | tail -5 >&2
    echo "orders_docs_examples: FAIL: an example of docs/orders.md does not run" >&2
    exit 1
fi
grep -q 'stale token refused' <<<"$out" || { echo "orders_docs_examples: FAIL: the stale token was not refused" >&2; exit 1; }
left=$(cluster_psql -At -c "SELECT string_agg(key || '=' || status, ' ' ORDER BY key) FROM slotguard.orders")
echo "orders_docs_examples: $blocks SQL blocks ran; orders: $left"
echo "orders_docs_examples: OK"
