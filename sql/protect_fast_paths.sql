-- A guarded INSERT evaluates the guard's expressions from a compiled plan
-- and writes its entry as a speculative insertion (src/pg/guards/row_eval.cpp,
-- src/pg/guards/entry_insert.cpp). These are the cases where that must give way:
-- a function the expressions use is replaced, an evaluation fails half-way,
-- an expression has a subquery (SPI evaluates it), an entry already holds
-- the row's key, and guard_entry has something only SQL runs (a trigger).
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE SCHEMA pf;
-- SQL, so the planner inlines it into the compiled expressions.
CREATE FUNCTION pf.room_of(r int) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'room-' || r::text $$;
CREATE TABLE pf.appt (
    id      int PRIMARY KEY,
    room    int NOT NULL,
    starts  timestamptz NOT NULL,
    minutes int NOT NULL DEFAULT 60,
    status  text NOT NULL DEFAULT 'booked'
);
SELECT slotguard.protect('pf.appt', 'pf.room_of(room)',
    $$tstzrange(starts, starts + interval '1 hour' * (60 / minutes))$$, $$status <> 'cancelled'$$) IS NOT NULL AS protected;

CREATE FUNCTION pg_temp.pf_entries() RETURNS TABLE (row_key text, resource text, blocked tstzrange) LANGUAGE sql AS $$
    SELECT e.row_key, split_part(e.entry_key, '/', 2), e.blocked FROM slotguard.guard_entry e
    JOIN slotguard.guard g ON g.id = e.guard_id WHERE g.tbl = 'pf.appt'::regclass ORDER BY e.row_key::int
$$;

-- Two rooms at the same hour: two resources.
INSERT INTO pf.appt (id, room, starts) VALUES (1, 1, '2030-03-01 10:00+00'), (2, 2, '2030-03-01 10:00+00');
-- The same room again: 23P01, and the refused row leaves no entry.
INSERT INTO pf.appt (id, room, starts) VALUES (3, 1, '2030-03-01 10:30+00');
SELECT * FROM pg_temp.pf_entries();

-- The function is replaced: every room is now one shared resource. The
-- compiled expressions are dropped with the plan, and the next row is
-- evaluated with the new definition.
CREATE OR REPLACE FUNCTION pf.room_of(r int) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'shared' $$;
INSERT INTO pf.appt (id, room, starts) VALUES (4, 3, '2030-03-01 10:00+00');
INSERT INTO pf.appt (id, room, starts) VALUES (5, 4, '2030-03-01 10:30+00');
SELECT * FROM pg_temp.pf_entries();

-- An evaluation that fails half-way (division by zero) fails the statement;
-- the next rows are evaluated and checked as before.
INSERT INTO pf.appt (id, room, starts, minutes) VALUES (6, 5, '2030-03-02 10:00+00', 0);
INSERT INTO pf.appt (id, room, starts) VALUES (6, 5, '2030-03-02 10:00+00');
INSERT INTO pf.appt (id, room, starts) VALUES (7, 6, '2030-03-02 10:15+00');
SELECT * FROM pg_temp.pf_entries();

-- An entry that already holds the row's key (the row was deleted while the
-- trigger was disabled): the new row's entry replaces it.
ALTER TABLE pf.appt DISABLE TRIGGER slotguard_guard;
DELETE FROM pf.appt WHERE id = 6;
ALTER TABLE pf.appt ENABLE TRIGGER slotguard_guard;
INSERT INTO pf.appt (id, room, starts) VALUES (6, 5, '2030-03-03 10:00+00');
SELECT * FROM pg_temp.pf_entries() WHERE row_key = '6';

-- Another INSERT trigger on guard_entry: the entry goes through SQL, which
-- fires it, and the rule holds as well.
BEGIN;
CREATE TEMP TABLE pf_fired (n int);
CREATE FUNCTION pg_temp.pf_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO pf_fired VALUES (1); RETURN NEW; END $$;
CREATE TRIGGER pf_count AFTER INSERT ON slotguard.guard_entry FOR EACH ROW EXECUTE FUNCTION pg_temp.pf_count();
INSERT INTO pf.appt (id, room, starts) VALUES (8, 7, '2030-03-04 10:00+00');
SELECT count(*) AS trigger_fired FROM pf_fired;
-- SQL's upsert probes guard_entry's primary key; the direct path never
-- does (the scan counters are not flushed inside a transaction block).
CREATE TEMP TABLE pf_scans AS SELECT pg_stat_get_xact_numscans('slotguard.guard_entry_pkey'::regclass) AS n;
INSERT INTO pf.appt (id, room, starts) VALUES (10, 7, '2030-03-07 12:00+00');
SELECT pg_stat_get_xact_numscans('slotguard.guard_entry_pkey'::regclass) - n AS pkey_scans_sql FROM pf_scans;
SAVEPOINT s;
INSERT INTO pf.appt (id, room, starts) VALUES (9, 7, '2030-03-04 10:30+00');
ROLLBACK TO s;
ROLLBACK;
-- Without it, the direct path again.
BEGIN;
CREATE TEMP TABLE pf_scans AS SELECT pg_stat_get_xact_numscans('slotguard.guard_entry_pkey'::regclass) AS n;
INSERT INTO pf.appt (id, room, starts) VALUES (8, 7, '2030-03-04 10:00+00');
SELECT pg_stat_get_xact_numscans('slotguard.guard_entry_pkey'::regclass) - n AS pkey_scans_direct FROM pf_scans;
COMMIT;
SELECT count(*) AS entries FROM pg_temp.pf_entries();

-- A subquery in an expression: evaluated through SPI, same rule.
CREATE TABLE pf.class (id int PRIMARY KEY, starts timestamptz NOT NULL, seats int NOT NULL);
SELECT slotguard.protect('pf.class', $$(SELECT 'kitchen')$$, $$tstzrange(starts, starts + interval '2 hours')$$,
    capacity => 10, seats => 'seats') IS NOT NULL AS protected;
INSERT INTO pf.class VALUES (1, '2030-03-05 18:00+00', 8);
INSERT INTO pf.class VALUES (2, '2030-03-05 19:00+00', 3);
INSERT INTO pf.class VALUES (3, '2030-03-05 19:00+00', 2);
SELECT row_key, entry_key LIKE '%/kitchen' AS kitchen, seats FROM slotguard.guard_entry e
JOIN slotguard.guard g ON g.id = e.guard_id WHERE g.tbl = 'pf.class'::regclass ORDER BY row_key;

SELECT slotguard.unprotect('pf.appt'), slotguard.unprotect('pf.class');
DROP SCHEMA pf CASCADE;
