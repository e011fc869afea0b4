#!/usr/bin/env bash
# Stress test of hold expiry and waitlist offers (API.md §7, §12): CLIENTS
# pgbench clients for SECONDS each under READ COMMITTED and then REPEATABLE
# READ run random one-call transactions on RESOURCES resources (capacity 1
# or 2, some with buffers) inside one day: book_slot (a third of them
# holds of 1 second), cancel_booking, reschedule_booking, join_waitlist
# (offer_hold 1 second or 1 hour), leave_waitlist and expire_holds, so
# offers race with bookings, cancels, expiries and each other.
#
# Every call runs in a PL/pgSQL wrapper that records any SQLSTATE outside
#   23P01 (conflict), 55000 (cancelled / expired), P0002 (picked a booking
#   or entry that another session just changed away), 40001 (REPEATABLE
#   READ), 22004 (nothing to pick)
# — a 40P01 deadlock from one call included. Passes only when:
#   * no call raised anything else;
#   * the invariant holds (no instant of any resource over capacity);
#   * every offered entry's booking is the entry's (resource, range, seats,
#     holder) and was made held;
#   * offers were made (the test is not idle);
#   * after the run, expire_holds leaves no waiting entry whose range is
#     free (every missed offer is made by the retry).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/test/lib/cluster.sh"

CLIENTS=${CLIENTS:-8}
SECONDS_PER_LEVEL=${SECONDS_PER_LEVEL:-15}
RESOURCES=${RESOURCES:-6}
fail() { echo "stress_waitlist: FAIL: $*" >&2; exit 1; }

cluster_start "fsync = off" "log_min_messages = log" "log_min_error_statement = panic" "max_connections = 40"
W=$CLUSTER_DIR/stress
mkdir -p "$W"

cluster_psql -o /dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT count(slotguard.upsert_resource('sw:' || i, 1 + i % 2, CASE WHEN i % 3 = 0 THEN interval '10 minutes' ELSE '0' END,
                                       CASE WHEN i % 4 = 0 THEN interval '15 minutes' ELSE '0' END))
FROM generate_series(1, $RESOURCES) i;
CREATE TABLE public.unexpected (state text, op text, message text, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION public.sw_call(op text, q text) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
    EXECUTE q;
EXCEPTION WHEN others THEN
    IF SQLSTATE NOT IN ('23P01', '55000', 'P0002', '40001', '22004') THEN
        INSERT INTO public.unexpected (state, op, message) VALUES (SQLSTATE, op, SQLERRM);
    END IF;
END
\$\$;
-- A range on the 15-minute grid of 2030-09-01: start slot s (0-63), n slots long.
CREATE FUNCTION public.sw_range(s int, n int) RETURNS tstzrange LANGUAGE sql IMMUTABLE AS
\$\$ SELECT tstzrange(timestamptz '2030-09-01 06:00+00' + s * interval '15 minutes',
                     timestamptz '2030-09-01 06:00+00' + (s + n) * interval '15 minutes') \$\$;
SQL

cat >"$W/book.sql" <<EOF2
\set r random(1, $RESOURCES)
\set s random(0, 60)
\set n random(2, 6)
\set h random(0, 2)
SELECT public.sw_call('book', format('SELECT slotguard.book_slot(%L, %L, holder => %L, hold => %L)', 'sw:' || :r,
    public.sw_range(:s, :n), 'c' || :client_id, CASE WHEN :h = 0 THEN '1 second' END));
EOF2
cat >"$W/cancel.sql" <<EOF2
\set r random(1, $RESOURCES)
SELECT public.sw_call('cancel', format('SELECT slotguard.cancel_booking(%s)', coalesce((SELECT id FROM slotguard.booking
    WHERE resource_key = 'sw:' || :r AND status IN ('held', 'confirmed') ORDER BY random() LIMIT 1), -1)));
EOF2
cat >"$W/reschedule.sql" <<EOF2
\set r random(1, $RESOURCES)
\set s random(0, 60)
\set n random(2, 6)
SELECT public.sw_call('reschedule', format('SELECT slotguard.reschedule_booking(%s, %L)', coalesce((SELECT id FROM slotguard.booking
    WHERE resource_key = 'sw:' || :r AND status IN ('held', 'confirmed') ORDER BY random() LIMIT 1), -1), public.sw_range(:s, :n)));
EOF2
cat >"$W/join.sql" <<EOF2
\set r random(1, $RESOURCES)
\set s random(0, 60)
\set n random(2, 6)
\set h random(0, 1)
SELECT public.sw_call('join', format('SELECT slotguard.join_waitlist(%L, %L, holder => %L, offer_hold => %L)', 'sw:' || :r,
    public.sw_range(:s, :n), 'w' || :client_id, CASE WHEN :h = 0 THEN '1 second' ELSE '1 hour' END));
EOF2
cat >"$W/leave.sql" <<EOF2
\set r random(1, $RESOURCES)
SELECT public.sw_call('leave', format('SELECT slotguard.leave_waitlist(%s)', coalesce((SELECT id FROM slotguard.waitlist
    WHERE resource_key = 'sw:' || :r AND status = 'waiting' ORDER BY random() LIMIT 1), -1)));
EOF2
cat >"$W/expire.sql" <<'EOF2'
SELECT public.sw_call('expire', 'SELECT slotguard.expire_holds()');
EOF2

for level in "read committed" "repeatable read"; do
    echo "stress_waitlist: $CLIENTS clients x ${SECONDS_PER_LEVEL} s, $level"
    cluster_psql -c "ALTER DATABASE postgres SET default_transaction_isolation = '$level'"
    out=$("$PG_BINDIR/pgbench" -n -c "$CLIENTS" -j "$CLIENTS" \
        -T "$SECONDS_PER_LEVEL" -f "$W/book.sql@35" -f "$W/cancel.sql@20" -f "$W/reschedule.sql@10" \
        -f "$W/join.sql@20" -f "$W/leave.sql@5" -f "$W/expire.sql@10" 2>&1) || { echo "$out" >&2; fail "pgbench failed"; }
    grep -q "aborted" <<<"$out" && { echo "$out" >&2; fail "a client aborted"; }
    echo "stress_waitlist:   $(grep -E '^number of transactions actually processed' <<<"$out")"
done

cluster_psql -c "ALTER DATABASE postgres RESET default_transaction_isolation"
# Settle: no client runs. expire_holds expires the lapsed holds and makes
# every offer that is due (its retries included); offers of 1 second lapse
# in turn and pass the slot on. Repeat until a call expires nothing and
# offers nothing.
settled=
for _ in $(seq 1 100); do
    # Every 1-second hold made before this round (by a client or an offer)
    # has lapsed by its now(): a settled round leaves none to lapse later.
    sleep 1.1
    before=$(cluster_psql -Atc "SELECT count(*) FROM slotguard.waitlist WHERE status = 'offered'")
    expired=$(cluster_psql -Atc "SELECT slotguard.expire_holds()")
    after=$(cluster_psql -Atc "SELECT count(*) FROM slotguard.waitlist WHERE status = 'offered'")
    if [[ $expired == 0 && $before == "$after" ]]; then settled=1; break; fi
done
[[ -n $settled ]] || fail "expire_holds kept finding work for 100 rounds"

report=$(cluster_psql -At <<'SQL'
SELECT 'unexpected ' || count(*) FROM public.unexpected;
SELECT 'unexpected: ' || state || ' in ' || op || ': ' || message FROM public.unexpected LIMIT 5;
-- The invariant: the peak load of half-open ranges is reached at some lower bound.
WITH active AS (
    SELECT b.id, b.resource_key, b.seats, r.capacity,
           tstzrange(lower(b.during) - r.buffer_before, upper(b.during) + r.buffer_after, '[)') AS blocked
    FROM slotguard.booking b JOIN slotguard.resource r ON r.key = b.resource_key
    WHERE b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now())
), instants AS (
    SELECT DISTINCT resource_key, capacity, lower(blocked) AS at FROM active
), over AS (
    SELECT i.resource_key, i.at
    FROM instants i JOIN active a ON a.resource_key = i.resource_key AND a.blocked @> i.at
    GROUP BY i.resource_key, i.at, i.capacity HAVING sum(a.seats) > i.capacity
)
SELECT 'overbooked ' || count(*) FROM over;
-- (A reschedule may have moved an offered booking since.)
SELECT 'bad_offers ' || count(*) FROM slotguard.waitlist w LEFT JOIN slotguard.booking b ON b.id = w.booking_id
WHERE w.status = 'offered' AND (b.id IS NULL OR b.resource_key <> w.resource_key
      OR b.seats <> w.seats OR b.holder IS DISTINCT FROM w.holder OR b.hold_expires_at IS NULL);
SELECT 'offers ' || count(*) FROM slotguard.waitlist WHERE status = 'offered';
SELECT 'expired ' || count(*) FROM slotguard.booking WHERE status = 'expired';
SELECT 'waiting ' || count(*) FROM slotguard.waitlist WHERE status = 'waiting';
-- A waiting entry that would fit now: min free seats over its blocked
-- range (during widened by the buffers) at least its seats.
SELECT 'missed ' || count(*) FROM slotguard.waitlist w JOIN slotguard.resource r ON r.key = w.resource_key
WHERE w.status = 'waiting'
  AND (SELECT min(a.free_seats) FROM slotguard.availability(w.resource_key,
         tstzrange(lower(w.during) - r.buffer_before, upper(w.during) + r.buffer_after)) a) >= w.seats;
SQL
)
echo "$report" | sed 's/^/stress_waitlist: /'
val() { awk -v k="$1" '$1 == k { print $2 }' <<<"$report"; }
[[ $(val unexpected) == 0 ]] || fail "calls raised SQLSTATEs outside the contract"
[[ $(val overbooked) == 0 ]] || fail "the invariant is broken"
[[ $(val bad_offers) == 0 ]] || fail "an offered entry's booking is not its own"
[[ $(val offers) -gt 0 ]] || fail "no offer was made: the test did nothing"
[[ $(val missed) == 0 ]] || fail "waiting entries whose range is free after expire_holds"
if grep -E 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG"; then fail "a backend crashed"; fi
echo "stress_waitlist: OK"
