#!/usr/bin/env bash
# Hold expiry from pg_cron (API.md §12, docs/waitlist.md): a throwaway
# cluster with shared_preload_libraries = 'pg_cron' schedules
# slotguard.expire_holds(); a short hold becomes 'expired' and its slot is
# offered to the waiting entry without anyone calling expire_holds.
#
# pg_cron 1.5 and later take '5 seconds' schedules; 1.4 (Debian's
# postgresql-15-cron in bookworm) only cron syntax, once a minute at most.
# There the job is a procedure started every minute that calls
# expire_holds every 5 seconds for 55 seconds, committing each call (the
# docs' recipe). The first run can start up to a minute after scheduling,
# so this test waits up to 3 minutes; it fails if the hold never expires.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

fail() { echo "pg_cron_expiry: FAIL: $*" >&2; exit 1; }

PG_CONFIG=${PG_CONFIG:-$PG_BINDIR/pg_config}
sharedir=$("$PG_CONFIG" --sharedir)
[[ -f $sharedir/extension/pg_cron.control ]] ||
    fail "pg_cron is not installed in $sharedir (Debian: postgresql-15-cron)"

# pg_cron connects to the database through libpq (as the job's owner):
# over TCP to the address the cluster listens on.
cluster_start "fsync = off" "shared_preload_libraries = 'pg_cron'" \
    "cron.database_name = 'postgres'" "cron.host = '127.0.0.1'"

cluster_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pg_cron;
CREATE EXTENSION slotguard CASCADE;
SQL
echo "pg_cron_expiry: pg_cron $(cluster_psql -Atc "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")"

# Schedule: every 5 seconds where pg_cron can; else the once-a-minute loop.
mode=$(cluster_psql -At <<'SQL'
SET client_min_messages = warning;
DO $$
BEGIN
    PERFORM cron.schedule('slotguard-expire-holds', '5 seconds', 'SELECT slotguard.expire_holds()');
    RAISE NOTICE 'seconds';
EXCEPTION WHEN others THEN
    -- pg_cron before 1.5: "invalid schedule".
    CREATE PROCEDURE public.slotguard_expire_holds_loop(every interval, lasting interval)
    LANGUAGE plpgsql AS $proc$
    DECLARE
        stop timestamptz := clock_timestamp() + lasting;
    BEGIN
        LOOP
            PERFORM slotguard.expire_holds();
            COMMIT;
            EXIT WHEN clock_timestamp() + every > stop;
            PERFORM pg_catalog.pg_sleep_for(every);
        END LOOP;
    END
    $proc$;
    PERFORM cron.schedule('slotguard-expire-holds', '* * * * *',
                          $cmd$CALL public.slotguard_expire_holds_loop('5 seconds', '55 seconds')$cmd$);
END
$$;
SELECT CASE WHEN to_regprocedure('public.slotguard_expire_holds_loop(interval, interval)') IS NULL
            THEN 'seconds' ELSE 'minute-loop' END;
SQL
)
echo "pg_cron_expiry: schedule: $mode"

# A short hold, and someone waiting for its slot. Nobody calls expire_holds.
cluster_psql <<'SQL'
SELECT key FROM slotguard.upsert_resource('cron:court', 1);
SELECT id, status FROM slotguard.book_slot('cron:court', '[2030-07-01 10:00+00,2030-07-01 11:00+00)',
                                           holder => 'cart', hold => '3 seconds');
SELECT id, status FROM slotguard.join_waitlist('cron:court', '[2030-07-01 10:00+00,2030-07-01 11:00+00)',
                                               holder => 'next');
SQL
[[ $(cluster_psql -Atc "SELECT status FROM slotguard.waitlist WHERE holder = 'next'") == waiting ]] ||
    fail "the entry should wait while the hold is live"

status=
for _ in $(seq 1 180); do
    status=$(cluster_psql -Atc "SELECT status FROM slotguard.booking WHERE holder = 'cart'")
    [[ $status == expired ]] && break
    sleep 1
done
if [[ $status != expired ]]; then
    cluster_psql -c "SELECT jobid, status, return_message, start_time FROM cron.job_run_details ORDER BY runid DESC LIMIT 5" >&2 || true
    fail "the hold is '$status' after 3 minutes: pg_cron did not expire it"
fi
echo "pg_cron_expiry: the hold expired"

# The same expire_holds call offered the slot to the waiting entry.
got=$(cluster_psql -At <<'SQL'
SELECT w.status || ' ' || b.status || ' ' || b.holder
FROM slotguard.waitlist w JOIN slotguard.booking b ON b.id = w.booking_id WHERE w.holder = 'next';
SQL
)
[[ $got == "offered held next" ]] || fail "expected the entry offered a held booking, got '$got'"
# pg_cron recorded the job (the minute loop is still running).
runs=$(cluster_psql -Atc "SELECT count(*) FROM cron.job_run_details WHERE status IN ('running', 'succeeded')")
[[ $runs -ge 1 ]] || fail "no pg_cron run recorded"
echo "pg_cron_expiry: the waiting entry was offered the slot ($runs pg_cron runs recorded)"
echo "pg_cron_expiry: PASS"
