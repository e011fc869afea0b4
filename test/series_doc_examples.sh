#!/usr/bin/env bash
# Every ```sql block of docs/series.md, run in order on a fresh database:
# the series and groups documentation must keep working as written.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start

script=$CLUSTER_DIR/series_doc.sql
awk '/^```sql$/ { on = 1; next } /^```$/ { on = 0 } on' docs/series.md > "$script"
blocks=$(grep -c '^```sql$' docs/series.md)
(( blocks >= 5 )) || { echo "series_doc_examples: FAIL: found only $blocks SQL blocks" >&2; exit 1; }
if ! out=$(cluster_psql -v ON_ERROR_STOP=1 -f "$script" 2>&1); then
    echo "$out" | tail -5 >&2
    echo "series_doc_examples: FAIL: an example does not run" >&2
    exit 1
fi
# The conflicting try_book_series booked nothing; the series is cancelled.
check=$(cluster_psql -At -c "SELECT count(*) FILTER (WHERE resource_key = 'clinic:dr-lee' AND lower(during) = '2030-01-14 10:00+00'),
                                    count(*) FILTER (WHERE idempotency_key = 'client-7-course-1' AND status = 'cancelled')
                             FROM slotguard.booking")
[[ $check == "0|1" ]] || { echo "series_doc_examples: FAIL: unexpected state $check" >&2; exit 1; }
# DST: the 02:30 series skipped the spring-forward Sunday and still has
# three rows; the per-day limit refused the whole studio series.
check=$(cluster_psql -At -c "SELECT count(*) FILTER (WHERE resource_key = 'doc:night'),
                                    count(*) FILTER (WHERE resource_key = 'doc:night'
                                                     AND (lower(during) AT TIME ZONE 'Europe/Berlin')::date = '2032-03-28'),
                                    count(*) FILTER (WHERE resource_key = 'doc:studio')
                             FROM slotguard.booking")
[[ $check == "3|0|1" ]] || { echo "series_doc_examples: FAIL: unexpected DST/limit state $check" >&2; exit 1; }
echo "series_doc_examples: $blocks SQL blocks ran without error"
echo "series_doc_examples: OK"
