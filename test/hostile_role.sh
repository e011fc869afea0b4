#!/usr/bin/env bash
# A scripted adversary: an unprivileged login role, "mallory", tries every
# known route to more rights through slotguard's guards, and the crash of
# issue 13 item 2. Each attack is one function that sets the trap as
# mallory, lets a superuser (or the server itself) walk into it, and
# returns 0 when nothing was gained. At the end, whatever the attacks
# reported: mallory is no superuser, the victim's tables carry no guard
# mallory put there, the postmaster was not restarted and the log shows no
# backend "terminated by signal".
#
# To add an attack: write attack_<name>() (it may run anything as mallory
# with as_mallory and as the superuser with as_super; errors are expected,
# and a non-zero status means the attack got through) and append its name
# to ATTACKS.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "fsync = off" "restart_after_crash = on"

NAME=hostile_role
work=$CLUSTER_DIR/hostile
mkdir -p "$work"
[[ $EUID -ne 0 ]] || chown postgres: "$work"

# SQL (one argument, statements run one by one) that is expected to fail
# in places: no ON_ERROR_STOP; the transcript goes to $work/<attack>.log
# for the post-mortem.
as_mallory() { printf '%s\n' "$1" | "$PG_BINDIR/psql" -X -q -U mallory -d postgres -f - >>"$work/$CURRENT.log" 2>&1 || true; }
as_super() { printf '%s\n' "$1" | "$PG_BINDIR/psql" -X -q -U postgres -d postgres -f - >>"$work/$CURRENT.log" 2>&1 || true; }
# One value, as the superuser; must succeed.
value() { cluster_psql -At -U postgres -d postgres -c "$1"; }

mallory_is_superuser() { [[ $(value "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'") == t ]]; }
# Guards on the victim's table (mallory's only aim: one with her
# expressions, which would then run as its owner).
foreign_guards() { value "SELECT count(*) FROM slotguard.guard WHERE tbl = 'public.payroll'::regclass"; }

cluster_psql -U postgres <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
CREATE ROLE mallory LOGIN;
-- mallory has every right slotguard can give (the administrator's too):
-- what stops her must be the defences, not a missing grant.
SELECT slotguard.grant_access('mallory', admin => true);
CREATE SCHEMA mallory AUTHORIZATION mallory;
GRANT USAGE ON SCHEMA mallory TO PUBLIC;
-- The victim: a superuser's table, and one a superuser protects properly.
CREATE TABLE public.payroll (employee int PRIMARY KEY, period tstzrange);
INSERT INTO public.payroll VALUES (1, '[2030-01-01,2030-01-02)');
CREATE TABLE public.desk_bookings (id int PRIMARY KEY, desk text, at tstzrange);
SELECT slotguard.protect('public.desk_bookings', 'desk', 'at');
GRANT INSERT, SELECT ON public.desk_bookings TO mallory;
SQL

# mallory's payload: run as a superuser, it makes mallory one. grab()
# calls protect() on the victim's table whenever a superuser is acting.
cluster_psql -U mallory <<'SQL'
CREATE FUNCTION mallory.pwn(e int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'ALTER ROLE mallory SUPERUSER';
    RETURN 'r';
END $$;
CREATE FUNCTION mallory.grab() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
       AND NOT EXISTS (SELECT FROM slotguard.guards WHERE tbl = 'public.payroll'::regclass) THEN
        PERFORM slotguard.protect('public.payroll', 'mallory.pwn(employee)', 'period');
    END IF;
    RETURN 1;
EXCEPTION WHEN insufficient_privilege THEN
    RETURN 1;  -- refused: stay quiet, so that the superuser notices nothing
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA mallory TO PUBLIC;
SQL

start_time=$(value "SELECT pg_postmaster_start_time()")

# The attack's own set-up must have worked (else it proves nothing).
guard_on() { [[ $(value "SELECT count(*) FROM slotguard.guard WHERE tbl = to_regclass('$1')") == 1 ]] ||
    { echo "$NAME: $CURRENT: set-up failed: no guard on $1" >&2; return 1; }; }

# Whatever an attack did, the superuser then writes the victim's table:
# a guard mallory managed to install would run pwn() now.
victim_writes() {
    as_super "INSERT INTO public.payroll
              SELECT e, tstzrange('2031-01-01'::timestamptz + e * interval '1 day',
                                  '2031-01-01'::timestamptz + (e + 1) * interval '1 day')
              FROM (SELECT max(employee) + 1 AS e FROM public.payroll) n;"
}

# A SECURITY DEFINER function of mallory's, called once by a superuser.
attack_definer_function() {
    as_mallory "CREATE FUNCTION mallory.helpful() RETURNS int LANGUAGE sql SECURITY DEFINER
                   AS \$\$ SELECT mallory.grab() \$\$;
                   GRANT EXECUTE ON FUNCTION mallory.helpful() TO PUBLIC;"
    as_super "SELECT mallory.helpful()"
    victim_writes
}

# An expression index on mallory's table; a superuser (or autovacuum)
# runs ANALYZE, which evaluates it as the table's owner.
attack_analyze_expression_index() {
    as_mallory "CREATE FUNCTION mallory.idx(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE
                   AS \$\$ BEGIN RETURN i + mallory.grab(); END \$\$;
                   CREATE TABLE mallory.bait (id int PRIMARY KEY);
                   INSERT INTO mallory.bait SELECT g FROM generate_series(1, 50) g;
                   CREATE INDEX ON mallory.bait (mallory.idx(id));"
    as_super "ANALYZE mallory.bait"
    as_super "VACUUM ANALYZE mallory.bait"
    victim_writes
}

# A guard expression on mallory's table calls protect() on the table of
# whoever writes into it.
attack_guard_expression_chaining() {
    as_mallory "CREATE TABLE mallory.inbox (id int PRIMARY KEY, at tstzrange);
                   SELECT slotguard.protect('mallory.inbox', 'mallory.grab()::text', 'at');
                   GRANT INSERT ON mallory.inbox TO PUBLIC;"
    guard_on mallory.inbox || return 1
    as_super "INSERT INTO mallory.inbox VALUES (1, '[2030-01-01,2030-01-02)')"
    victim_writes
}

# pg_temp in a guard expression would run each writer's own temporary
# function as the table's owner. protect() refuses it; and a guard that
# already holds one (stored before the check existed) refuses the write
# rather than run mallory's temporary function as the superuser.
attack_pg_temp() {
    as_super "CREATE FUNCTION pg_temp.slot(t tstzrange) RETURNS tstzrange LANGUAGE sql AS 'SELECT t';
                 SELECT slotguard.protect('public.payroll', '''r''', 'pg_temp.slot(period)')"
    [[ $(foreign_guards) == 0 ]] || return 1
    as_super "UPDATE slotguard.guard SET during_expr = 'pg_temp.slot(at)'
                 WHERE tbl = 'public.desk_bookings'::regclass"
    as_mallory "CREATE FUNCTION pg_temp.slot(t tstzrange) RETURNS tstzrange LANGUAGE plpgsql AS \$\$
                   BEGIN EXECUTE 'ALTER ROLE mallory SUPERUSER'; RETURN t; END \$\$;
                   INSERT INTO public.desk_bookings VALUES (1, 'd1', '[2030-01-01,2030-01-02)');"
    as_super "UPDATE slotguard.guard SET during_expr = 'at' WHERE tbl = 'public.desk_bookings'::regclass"
}

# mallory's protected table is handed to a superuser (ALTER TABLE ...
# OWNER TO): mallory's expressions must not start running as the new owner.
attack_owner_change() {
    as_mallory "CREATE TABLE mallory.handover (id int PRIMARY KEY, at tstzrange);
                   SELECT slotguard.protect('mallory.handover', 'mallory.pwn(id)', 'at');"
    guard_on mallory.handover || return 1
    as_super "ALTER TABLE mallory.handover OWNER TO postgres"
    as_super "INSERT INTO mallory.handover VALUES (1, '[2030-01-01,2030-01-02)')"
    as_super "UPDATE mallory.handover SET at = '[2030-01-02,2030-01-03)'"
}

# Issue 13 item 2: a guard whose compile fails (EXECUTE revoked) crashed
# the server on the next write of the backend.
attack_revoked_function_crash() {
    as_mallory "CREATE FUNCTION mallory.slot(t timestamptz) RETURNS tstzrange LANGUAGE sql IMMUTABLE
                   AS \$\$ SELECT tstzrange(t, t + interval '1 hour') \$\$;
                   CREATE TABLE mallory.visits (id int PRIMARY KEY, room text, at timestamptz);
                   SELECT slotguard.protect('mallory.visits', 'room', 'mallory.slot(at)');
                   INSERT INTO mallory.visits VALUES (1, 'a', '2030-01-01 10:00+00');
                   REVOKE EXECUTE ON FUNCTION mallory.slot(timestamptz) FROM PUBLIC, mallory;
                   INSERT INTO mallory.visits VALUES (2, 'a', '2030-01-01 12:00+00');
                   INSERT INTO mallory.visits VALUES (3, 'a', '2030-01-01 14:00+00');
                   INSERT INTO mallory.visits VALUES (4, 'a', '2030-01-01 16:00+00');"
    guard_on mallory.visits || return 1
    [[ $(value "SELECT pg_postmaster_start_time()") == "$start_time" ]]
}

# Issue 13 item 3: bookings near the end of time overflowed the grid and
# became invisible, so a second one overbooked. mallory books the same
# far-future range twice on a capacity-1 resource (also through her own
# protected table): exactly one may stand.
attack_far_future_overbooking() {
    as_mallory "SELECT slotguard.book_slot('mallory:room', '[2030-06-01 10:00+00,294276-12-31 23:59:59+00)');
                   SELECT slotguard.book_slot('mallory:room', '[2030-06-01 10:00+00,294276-12-31 23:59:59+00)');
                   SELECT slotguard.book_slot('mallory:room', '[294276-12-31 10:00+00,294276-12-31 23:59:59+00)');
                   CREATE TABLE mallory.far (id int PRIMARY KEY, room text, at tstzrange);
                   SELECT slotguard.protect('mallory.far', 'room', 'at');
                   INSERT INTO mallory.far VALUES (1, 'r', '[2030-06-01 10:00+00,294276-12-31 23:59:59+00)');
                   INSERT INTO mallory.far VALUES (2, 'r', '[294276-12-30 10:00+00,294276-12-31 23:59:59+00)');"
    guard_on mallory.far || return 1
    [[ $(value "SELECT count(*) FROM slotguard.booking WHERE resource_key = 'mallory:room' AND status <> 'cancelled'") == 1 &&
       $(value "SELECT count(*) FROM mallory.far") == 1 ]]
}

# Issue 13 item 7: assign_workers with 60,000 names ran for seconds in a
# loop that ignored statement_timeout and cancel (a million names: only a
# cluster restart ended it). Under a 1 s statement_timeout the call must
# end with the contract's 22023 (over the documented maximum) or 57014,
# and the backend must answer the next statement.
attack_unstoppable_assign() {
    as_mallory "SELECT id FROM slotguard.book_slot('mallory:van', '[2030-01-01 10:00+00,2030-01-01 11:00+00)') \\gset
                   SET statement_timeout = '1s';
                   \\set VERBOSITY verbose
                   SELECT count(*) FROM slotguard.assign_workers(:id, (SELECT array_agg('mallory:w' || g) FROM generate_series(1, 60000) g));
                   SELECT count(*) FROM slotguard.assign_workers(:id, (SELECT array_agg('mallory:w' || (g % 30000)) FROM generate_series(1, 60000) g));
                   SELECT 'still answering';"
    grep -q 'still answering' "$work/$CURRENT.log" &&
        [[ $(grep -cE 'ERROR:  (22023|57014):' "$work/$CURRENT.log") == 2 ]]
}

# A guard expression that changes a setting of the writer's session: a
# plain SET (set_config(..., false)) inside the expressions outlived the
# evaluation, so mallory's function, run as mallory for the superuser's
# INSERT, left the superuser's session with search_path = mallory,
# pg_catalog, and the superuser's next "g = 2" ran mallory's operator as
# the superuser. PostgreSQL undoes every setting changed by code in a
# security-restricted operation (ANALYZE, index builds); so must the guard.
attack_guard_expression_sets_search_path() {
    as_mallory "CREATE FUNCTION mallory.steer(r text) RETURNS text LANGUAGE plpgsql AS \$\$
                   BEGIN
                       PERFORM pg_catalog.set_config('search_path', 'mallory, pg_catalog', false);
                       PERFORM pg_catalog.set_config('statement_timeout', '1ms', false);
                       RETURN r;
                   END \$\$;
                   CREATE FUNCTION mallory.eq(a int, b int) RETURNS boolean LANGUAGE plpgsql AS \$\$
                   BEGIN
                       IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
                           EXECUTE 'ALTER ROLE mallory SUPERUSER';
                       END IF;
                       RETURN a OPERATOR(pg_catalog.=) b;
                   END \$\$;
                   CREATE OPERATOR mallory.= (LEFTARG = int, RIGHTARG = int, FUNCTION = mallory.eq);
                   GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA mallory TO PUBLIC;
                   CREATE TABLE mallory.kiosk (id int PRIMARY KEY, r text, at tstzrange);
                   SELECT slotguard.protect('mallory.kiosk', 'mallory.steer(r)', 'at');
                   GRANT INSERT ON mallory.kiosk TO PUBLIC;"
    guard_on mallory.kiosk || return 1
    as_super "INSERT INTO mallory.kiosk VALUES (1, 'k', '[2030-01-01,2030-01-02)');
              SELECT 'search_path after the insert: ' || pg_catalog.current_setting('search_path');
              SELECT 'statement_timeout after the insert: ' || pg_catalog.current_setting('statement_timeout');
              SELECT pg_catalog.count(*) FROM pg_catalog.generate_series(1, 3) g WHERE g = 2;"
    grep -q 'search_path after the insert: "\$user", public' "$work/$CURRENT.log" &&
        grep -q 'statement_timeout after the insert: 0' "$work/$CURRENT.log"
}

ATTACKS=(
    definer_function
    analyze_expression_index
    guard_expression_chaining
    pg_temp
    owner_change
    revoked_function_crash
    far_future_overbooking
    unstoppable_assign
    guard_expression_sets_search_path
)

failed=0
for a in "${ATTACKS[@]}"; do
    CURRENT=$a
    : >"$work/$a.log"
    # The server must be up for the checks (after a crash it restarts).
    if "attack_$a" && ! mallory_is_superuser && [[ $(foreign_guards) == 0 ]]; then
        echo "$NAME: $a: nothing gained"
    else
        echo "$NAME: $a: GAINED (rolsuper=$(value "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"), foreign guards=$(foreign_guards))" >&2
        sed 's/^/    /' "$work/$a.log" >&2
        failed=$((failed + 1))
        # Undo what was gained, so the next attack starts clean.
        value "ALTER ROLE mallory NOSUPERUSER" >/dev/null
        value "SELECT count(slotguard.unprotect(tbl)) FROM slotguard.guard WHERE tbl = 'public.payroll'::regclass" >/dev/null
    fi
done

restarted=0
[[ $(value "SELECT pg_postmaster_start_time()") == "$start_time" ]] || restarted=1
signals=$(grep -c "terminated by signal" "$CLUSTER_LOG" || true)
if mallory_is_superuser || [[ $restarted == 1 || $signals != 0 ]]; then
    echo "$NAME: FAIL: superuser=$(value "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'") restarted=$restarted backends killed by a signal=$signals" >&2
    failed=$((failed + 1))
fi
echo "$NAME: ${#ATTACKS[@]} attacks, $failed failures; server restarted: $restarted, backends killed by a signal: $signals"
[[ $failed == 0 ]]
