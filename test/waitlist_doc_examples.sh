#!/usr/bin/env bash
# Every ```sql block of docs/waitlist.md, run in order on a fresh database:
# the examples must keep working as written, with the results they claim.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "fsync = off"

fail() { echo "waitlist_doc_examples: FAIL: $*" >&2; exit 1; }
script=$CLUSTER_DIR/waitlist_doc.sql
awk '/^```sql$/ { on = 1; next } /^```$/ { on = 0 } on' docs/waitlist.md > "$script"
blocks=$(grep -c '^```sql$' docs/waitlist.md)
(( blocks >= 2 )) || fail "found only $blocks SQL blocks"
if ! out=$(cluster_psql -v ON_ERROR_STOP=1 -f "$script" 2>&1); then
    echo "$out" | tail -5 >&2
    fail "an example does not run"
fi
# What the text says happened.
[[ $(cluster_psql -Atc "SELECT status FROM slotguard.booking WHERE holder = 'cart-17'") == expired ]] ||
    fail "the lapsed hold is not 'expired'"
[[ $(cluster_psql -Atc "SELECT w.status || ' ' || b.status FROM slotguard.waitlist w JOIN slotguard.booking b ON b.id = w.booking_id WHERE w.holder = 'bob'") == "offered confirmed" ]] ||
    fail "bob's entry is not offered with a confirmed booking"
echo "waitlist_doc_examples: $blocks SQL blocks ran; results as documented"
echo "waitlist_doc_examples: OK"
