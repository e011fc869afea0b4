#!/usr/bin/env bash
# Every ```sql block of docs/feed.md and docs/stats.md, in order, each file
# in one session on a fresh database of a cluster with slotguard preloaded:
# the examples must keep working as written.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "fsync = off" "shared_preload_libraries = 'slotguard'"
for doc in docs/feed.md docs/stats.md; do
    db=$(basename "$doc" .md)
    cluster_psql -c "CREATE DATABASE $db"
    script=$CLUSTER_DIR/$db.sql
    awk '/^```sql$/ { on = 1; next } /^```$/ { on = 0 } on' "$doc" >"$script"
    blocks=$(grep -c '^```sql$' "$doc")
    ((blocks >= 2)) || { echo "feed_stats_docs: FAIL: $doc has only $blocks SQL blocks" >&2; exit 1; }
    if ! out=$(cluster_psql -d "$db" -v ON_ERROR_STOP=1 -f "$script" 2>&1); then
        echo "$out" | tail -5 >&2
        echo "feed_stats_docs: FAIL: an example of $doc does not run" >&2
        exit 1
    fi
    echo "feed_stats_docs: $doc: $blocks SQL blocks ran"
    # What the examples say they show.
    case $doc in
    docs/feed.md)
        grep -q 'mine_not_yet' <<<"$out"
        [[ $(awk '/mine_not_yet/ { getline; getline; print $1 }' <<<"$out") == 0 ]] || { echo "$out" >&2; echo "feed_stats_docs: FAIL: own open change returned" >&2; exit 1; }
        [[ $(awk '/now_returned/ { getline; getline; print $1 }' <<<"$out") == 1 ]] || { echo "$out" >&2; echo "feed_stats_docs: FAIL: committed change not returned" >&2; exit 1; }
        ;;
    docs/stats.md)
        grep -qE 'book_slot +\| +2 +\| +1 +\| +1 ' <<<"$out" && grep -qE 'acme:court-1 +\| +2' <<<"$out" ||
            { echo "$out" >&2; echo "feed_stats_docs: FAIL: stats example" >&2; exit 1; }
        ;;
    esac
done
echo "feed_stats_docs: OK"
