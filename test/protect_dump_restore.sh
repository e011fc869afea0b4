#!/usr/bin/env bash
# pg_dump + restore of a database whose own tables are protected
# (slotguard.protect(), API.md §5, §8) keeps them protected: the guards and
# their entries come back (configuration tables), the triggers come back
# with the application's tables (after their data, so loading the data
# fires nothing), and a conflicting write after the restore is refused with
# 23P01. Both archive (-Fc + pg_restore) and plain SQL (psql) dumps.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start

fail() { echo "protect_dump_restore: FAIL: $*" >&2; exit 1; }

cluster_psql -c "CREATE DATABASE src" -c "CREATE DATABASE dst_custom" -c "CREATE DATABASE dst_plain"
cluster_psql -d src -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
-- A Prisma-style table in its own schema (seed 002) ...
CREATE SCHEMA "App";
CREATE TYPE "App"."BookingStatus" AS ENUM ('PENDING', 'APPROVED', 'CANCELLED');
CREATE TABLE "App"."Booking" (
    "id"          text PRIMARY KEY,
    "scheduledAt" timestamptz NOT NULL,
    "type"        text NOT NULL,
    "status"      "App"."BookingStatus" NOT NULL DEFAULT 'PENDING'
);
INSERT INTO "App"."Booking" VALUES
    ('bk_1', '2030-12-15 14:00+00', 'CAFE', 'PENDING'),
    ('bk_2', '2030-12-15 14:00+00', 'SENSORY', 'APPROVED'),
    ('bk_3', '2030-12-15 14:30+00', 'CAFE', 'CANCELLED');
SELECT slotguard.protect('"App"."Booking"', resource => '"type"',
    during => $$tstzrange("scheduledAt", "scheduledAt" + interval '1 hour')$$,
    active => $$"status" IN ('PENDING', 'APPROVED')$$);
-- ... and class bookings with seats (seed 003), in public.
CREATE TABLE class_bookings (id int PRIMARY KEY, class_id int NOT NULL, starts_at timestamptz NOT NULL,
                             participants int NOT NULL, status text NOT NULL DEFAULT 'confirmed');
INSERT INTO class_bookings VALUES (1, 7, '2030-03-01 18:00+00', 5), (2, 7, '2030-03-01 18:00+00', 3);
SELECT slotguard.protect('class_bookings', 'class_id', $$tstzrange(starts_at, starts_at + interval '2 hours')$$,
                         $$status = 'confirmed'$$, 10, 'participants');
INSERT INTO class_bookings VALUES (3, 7, '2030-03-01 19:00+00', 2);
-- A table protected and then unprotected leaves nothing behind to restore.
CREATE TABLE was_protected (id int PRIMARY KEY, at timestamptz NOT NULL);
SELECT slotguard.protect('was_protected', '''all''', $$tstzrange(at, at + interval '1 hour')$$);
SELECT slotguard.unprotect('was_protected');
SQL

# Everything the guards consist of, as text: guard rows (table by name),
# entries (guard by table name) and the triggers on the application's tables.
snapshot() {
    cluster_psql -d "$1" -At <<'SQL'
SELECT 'guard', g.id, g.tbl::text, g.resource_expr, g.during_expr, g.active_expr, g.capacity, g.seats_expr,
       g.key_columns::text, g.settings::text
FROM slotguard.guard g
UNION ALL
SELECT 'entry', g.id, g.tbl::text, e.row_key, e.entry_key, e.blocked::text, e.seats, NULL, NULL, NULL
FROM slotguard.guard_entry e JOIN slotguard.guard g ON g.id = e.guard_id
UNION ALL
SELECT 'trigger', NULL, t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid), NULL, NULL, NULL, NULL, NULL
FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgfoid = 'slotguard.guard_trigger()'::regprocedure
ORDER BY 1, 2, 3, 4, 5
SQL
}

dump=$CLUSTER_DIR/src.dump
plain=$CLUSTER_DIR/src.sql
cluster_as_pg "$PG_BINDIR/pg_dump" -h "$PGHOST" -p "$PGPORT" -U postgres -Fc -f "$dump" src
cluster_as_pg "$PG_BINDIR/pg_dump" -h "$PGHOST" -p "$PGPORT" -U postgres -f "$plain" src
cluster_as_pg "$PG_BINDIR/pg_restore" -h "$PGHOST" -p "$PGPORT" -U postgres --exit-on-error -d dst_custom "$dump" \
    || fail "pg_restore reported errors"
cluster_psql -d dst_plain -o /dev/null -f "$plain" || fail "restoring the plain dump reported errors"

before=$(snapshot src)
[[ $(grep -c '^entry' <<<"$before") -eq 5 ]] || fail "expected 5 entries before the dump, got: $before"
[[ $(grep -c '^trigger' <<<"$before") -eq 4 ]] || fail "expected 4 guard triggers before the dump, got: $before"

for db in dst_custom dst_plain; do
    after=$(snapshot "$db")
    [[ "$before" == "$after" ]] || { diff <(echo "$before") <(echo "$after") >&2; fail "$db: guards differ after restore"; }
    echo "protect_dump_restore: $db: $(wc -l <<<"$after") guard rows, entries and triggers identical"

    # Still enforced: conflicting writes are refused, others accepted.
    refused() { # db statement
        local out
        out=$(cluster_psql -d "$1" -At -c "
          DO \$\$ BEGIN $2; RAISE NOTICE 'accepted';
          EXCEPTION WHEN exclusion_violation THEN RAISE NOTICE '23P01'; END \$\$" 2>&1)
        [[ "$out" == *23P01* ]]
    }
    refused "$db" "INSERT INTO \"App\".\"Booking\" VALUES ('bk_9', '2030-12-15 14:30+00', 'CAFE')" \
        || fail "$db: an overlapping CAFE booking was accepted after restore"
    refused "$db" "UPDATE \"App\".\"Booking\" SET status = 'PENDING' WHERE id = 'bk_3'" \
        || fail "$db: re-activating a cancelled overlapping booking was accepted after restore"
    refused "$db" "INSERT INTO class_bookings VALUES (4, 7, '2030-03-01 18:30+00', 1)" \
        || fail "$db: an 11th seat was accepted after restore"
    ! refused "$db" "INSERT INTO \"App\".\"Booking\" VALUES ('bk_9', '2030-12-15 15:00+00', 'CAFE')" \
        || fail "$db: an adjacent booking was refused after restore"
    # DELETE after restore frees the seats recorded before the dump.
    cluster_psql -d "$db" -c "DELETE FROM class_bookings WHERE id = 3"
    ! refused "$db" "INSERT INTO class_bookings VALUES (4, 7, '2030-03-01 18:30+00', 2)" \
        || fail "$db: freed seats were not available after restore"
    # The guard id sequence continues past the restored guards.
    name=$(cluster_psql -d "$db" -At -c "SELECT slotguard.protect('was_protected', '''all''', \$\$tstzrange(at, at + interval '1 hour')\$\$)")
    [[ "$name" == "slotguard_guard on public.was_protected" ]] || fail "$db: protect() after restore returned '$name'"
    ids=$(cluster_psql -d "$db" -At -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM slotguard.guard")
    [[ "$ids" == "1,2,4" ]] || fail "$db: guard ids after restore are $ids, expected 1,2,4"
    left=$(cluster_psql -d "$db" -At -c "SELECT count(*) FROM slotguard.guard_entry e
                                         WHERE NOT EXISTS (SELECT FROM slotguard.guard g WHERE g.id = e.guard_id)")
    [[ "$left" == 0 ]] || fail "$db: $left entries belong to no guard"
    echo "protect_dump_restore: $db: still enforced after restore"
done

echo "protect_dump_restore: OK"
