#!/usr/bin/env bash
# The Supabase / PostgREST setup of docs/security.md, end to end, with the
# requests issued the way PostgREST issues them: the server connects as
# `authenticator` (LOGIN NOINHERIT), and each request is one transaction
# that first switches role and sets the JWT claims with set_config(...,
# true) (SET LOCAL), then calls the RPC. Patients of a clinic share the
# role `authenticated`; their tenant and identity come from the JWT
# (`tenant`, `sub`). Clinic staff use the role `staff` (tenant from the
# JWT, any holder). `anon` may only look at free slots.
#
# Asserts: a patient books for themself; another patient of the same clinic
# can neither read, confirm, move nor cancel that booking (P0002, as if it
# did not exist), and a refusal names no foreign booking id; a patient of
# another clinic sees nothing of clinic A; staff of clinic A manage it,
# staff of clinic B cannot; a request without the claim is refused (42501);
# anon cannot book.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "fsync = off"

fail() { echo "postgrest_like: FAIL: $*" >&2; exit 1; }

cluster_psql -U postgres <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
-- Supabase's roles.
CREATE ROLE anon NOLOGIN;
CREATE ROLE authenticated NOLOGIN;
CREATE ROLE staff NOLOGIN;
CREATE ROLE authenticator LOGIN NOINHERIT;
GRANT anon, authenticated, staff TO authenticator;
-- What each may call. Patients and staff: the application's functions;
-- anon: looking at free time only.
SELECT slotguard.grant_access('authenticated');
SELECT slotguard.grant_access('staff');
GRANT USAGE ON SCHEMA slotguard TO anon;
GRANT EXECUTE ON FUNCTION slotguard.free_slots(text, tstzrange, interval, interval, int),
                          slotguard.availability(text, tstzrange) TO anon;
-- Confinement: the tenant is the JWT's "tenant", a patient is its "sub".
SELECT role FROM slotguard.confine('authenticated', tenant_claim => 'tenant', holder_claim => 'sub');
SELECT role FROM slotguard.confine('staff', tenant_claim => 'tenant');
-- anon is not confined: a public booking page shows any clinic's free
-- time (no personal data), and anon can call nothing else.
-- The clinics' resources (set up by the owner).
SELECT key FROM slotguard.upsert_resource('clinic-a:dr-smith', 1, buffer_after => '10 minutes');
SELECT key FROM slotguard.upsert_resource('clinic-b:dr-jones', 1);
-- Ids that cannot be mistaken for other numbers in a message.
SELECT setval('slotguard.booking_id_seq', 7700001, false);
SQL

# request ROLE CLAIMS SQL: one PostgREST request. Prints the result rows, or
# "ERROR <sqlstate> <message> / <detail>".
request() {
    local role=$1 claims=$2 sql=$3
    # (psql's exit status is the error's: the output says it all.)
    "$PG_BINDIR/psql" -X -q -At -U authenticator -d postgres -v ON_ERROR_STOP=1 2>&1 <<SQL | tr '\n' ' ' | sed 's/ *$//'
\set VERBOSITY verbose
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', '$role', true),
       set_config('request.jwt.claims', '$claims', true), set_config('request.method', 'POST', true) \g /dev/null
$sql;
COMMIT;
SQL
    return 0
}
sqlstate() { grep -oE 'ERROR:  [0-9A-Z]{5}' <<<"$1" | head -1 | cut -c9-; }
expect_state() {  # expect_state WHAT WANT RESULT
    local got
    got=$(sqlstate "$3")
    [[ $got == "$2" ]] || fail "$1: expected $2, got: $3"
    echo "postgrest_like: $1: $2"
}

P1='{"role":"authenticated","sub":"patient-1","tenant":"clinic-a"}'
P2='{"role":"authenticated","sub":"patient-2","tenant":"clinic-a"}'
P3='{"role":"authenticated","sub":"patient-3","tenant":"clinic-b"}'
STAFF_A='{"role":"staff","sub":"reception-a","tenant":"clinic-a"}'
STAFF_B='{"role":"staff","sub":"reception-b","tenant":"clinic-b"}'
SLOT="'[2030-03-04 14:00+00,2030-03-04 15:00+00)'"

# anon: may not book.
expect_state "anon books" 42501 "$(request anon '{"role":"anon"}' "SELECT id FROM slotguard.book_slot('clinic-a:dr-smith', $SLOT)")"

# Patient 1 books; the booking is theirs.
out=$(request authenticated "$P1" "SELECT id || '|' || holder FROM slotguard.book_slot('clinic-a:dr-smith', $SLOT, hold => '15 minutes')")
[[ $out =~ ^([0-9]+)\|patient-1$ ]] || fail "patient-1's booking: $out"
b1=${BASH_REMATCH[1]}
echo "postgrest_like: patient-1 booked $b1 (holder patient-1)"
# anon sees that time taken, not who took it: of the 8 hours 09:00-17:00,
# 13:00 (its own 10-minute buffer would reach 14:10), 14:00 and 15:00 (the
# booking blocks until 15:10) are not free.
out=$(request anon '{"role":"anon"}' "SELECT count(*) FROM slotguard.free_slots('clinic-a:dr-smith', '[2030-03-04 09:00+00,2030-03-04 17:00+00)', '1 hour')")
[[ $out == 5 ]] || fail "anon's free slots: expected 5, got: $out"
expect_state "anon reads the booking" 42501 "$(request anon '{"role":"anon"}' "SELECT status FROM slotguard.confirm_booking($b1)")"
expect_state "patient-1 books for someone else" 42501 \
    "$(request authenticated "$P1" "SELECT id FROM slotguard.book_slot('clinic-a:dr-smith', '[2030-03-05 14:00+00,2030-03-05 15:00+00)', holder => 'patient-2')")"

# Patient 2, same clinic: booking b1 does not exist for them.
for call in "slotguard.confirm_booking($b1)" "slotguard.cancel_booking($b1)" \
            "slotguard.reschedule_booking($b1, '[2030-03-06 14:00+00,2030-03-06 15:00+00)')"; do
    expect_state "patient-2: ${call%%(*}(patient-1's booking)" P0002 "$(request authenticated "$P2" "SELECT status FROM $call")"
done
# Their own overlapping request is refused without naming booking b1.
out=$(request authenticated "$P2" "SELECT id FROM slotguard.book_slot('clinic-a:dr-smith', '[2030-03-04 14:30+00,2030-03-04 15:30+00)')")
expect_state "patient-2 books an overlapping slot" 23P01 "$out"
[[ $out != *"$b1"* ]] || fail "the refusal names patient-1's booking $b1: $out"
out=$(request authenticated "$P2" "SELECT coalesce(booking_id::text, 'none') || ' ' || cardinality(conflicts) FROM slotguard.try_book_slot('clinic-a:dr-smith', '[2030-03-04 14:30+00,2030-03-04 15:30+00)')")
[[ $out == "none 0" ]] || fail "try_book_slot showed patient-2 foreign conflicts: $out"
echo "postgrest_like: patient-2's refusal names no foreign booking"

# Patient 3, other clinic: nothing of clinic A exists.
expect_state "patient-3 cancels clinic A's booking" P0002 "$(request authenticated "$P3" "SELECT status FROM slotguard.cancel_booking($b1)")"
expect_state "patient-3 books at clinic A" 42501 "$(request authenticated "$P3" "SELECT id FROM slotguard.book_slot('clinic-a:dr-smith', '[2030-03-07 14:00+00,2030-03-07 15:00+00)')")"
out=$(request authenticated "$P3" "SELECT id || '|' || resource_key FROM slotguard.book_slot('clinic-b:dr-jones', $SLOT)")
[[ $out =~ ^[0-9]+\|clinic-b:dr-jones$ ]] || fail "patient-3 at their own clinic: $out"
echo "postgrest_like: patient-3 books at clinic B"

# A request without the tenant claim.
expect_state "a token without the tenant claim" 42501 "$(request authenticated '{"role":"authenticated","sub":"patient-1"}' "SELECT id FROM slotguard.book_slot('clinic-a:dr-smith', '[2030-03-08 14:00+00,2030-03-08 15:00+00)')")"

# Staff: B cannot, A can.
expect_state "staff of clinic B confirms clinic A's booking" P0002 "$(request staff "$STAFF_B" "SELECT status FROM slotguard.confirm_booking($b1)")"
out=$(request staff "$STAFF_A" "SELECT status FROM slotguard.confirm_booking($b1)")
[[ $out == confirmed ]] || fail "staff of clinic A confirming: $out"
out=$(request staff "$STAFF_A" "SELECT status FROM slotguard.cancel_booking($b1)")
[[ $out == cancelled ]] || fail "staff of clinic A cancelling: $out"
echo "postgrest_like: staff of clinic A confirmed and cancelled booking $b1; staff of clinic B could not"

# Patient 1 still cannot touch anything else, and nothing leaked into the
# owner's view: exactly the bookings made above.
state=$(cluster_psql -At -U postgres -c "SELECT string_agg(resource_key || ' ' || holder || ' ' || status, ', ' ORDER BY id) FROM slotguard.booking")
[[ $state == "clinic-a:dr-smith patient-1 cancelled, clinic-b:dr-jones patient-3 confirmed" ]] ||
    fail "the bookings are not what the requests should have left: $state"
echo "postgrest_like: bookings: $state"
echo "postgrest_like: OK"
