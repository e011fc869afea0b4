SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SET TIME ZONE 'UTC';
-- The guard trigger compiles its expressions once per backend. When that
-- failed half-way (EXECUTE revoked on a function the expressions call),
-- the half-built state was kept and the next write in the backend
-- evaluated uninitialised expression states: the server crashed. Now a
-- failed compile keeps nothing, and each write fails cleanly (42501).
CREATE ROLE sg_revoker;
CREATE SCHEMA sg_revoker AUTHORIZATION sg_revoker;
SET ROLE sg_revoker;
CREATE FUNCTION sg_revoker.slot(t timestamptz) RETURNS tstzrange LANGUAGE sql IMMUTABLE
AS $$ SELECT tstzrange(t, t + interval '1 hour') $$;
CREATE TABLE sg_revoker.visits (id int PRIMARY KEY, room text, at timestamptz);
SELECT slotguard.protect('sg_revoker.visits', 'room', 'sg_revoker.slot(at)');
INSERT INTO sg_revoker.visits VALUES (1, 'a', '2030-01-01 10:00+00');
REVOKE EXECUTE ON FUNCTION sg_revoker.slot(timestamptz) FROM PUBLIC, sg_revoker;
INSERT INTO sg_revoker.visits VALUES (2, 'a', '2030-01-01 12:00+00');
INSERT INTO sg_revoker.visits VALUES (3, 'a', '2030-01-01 14:00+00');
INSERT INTO sg_revoker.visits VALUES (4, 'a', '2030-01-01 16:00+00');
GRANT EXECUTE ON FUNCTION sg_revoker.slot(timestamptz) TO sg_revoker;
INSERT INTO sg_revoker.visits VALUES (5, 'a', '2030-01-01 10:30+00');
INSERT INTO sg_revoker.visits VALUES (6, 'a', '2030-01-01 18:00+00');
SELECT id FROM sg_revoker.visits ORDER BY id;
RESET ROLE;

-- A guard expression that writes the same protected table again: the
-- nested evaluation must not reuse (and free) the compiled expressions
-- the outer one is running.
SET ROLE sg_revoker;
CREATE TABLE sg_revoker.log (id int PRIMARY KEY, room text, at timestamptz);
CREATE FUNCTION sg_revoker.room_logged(i int, r text, t timestamptz) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF i < 100 THEN
        INSERT INTO sg_revoker.log VALUES (i + 100, r, t + interval '1 day');
    END IF;
    RETURN r;
END $$;
SELECT slotguard.protect('sg_revoker.log', 'sg_revoker.room_logged(id, room, at)', 'tstzrange(at, at + interval ''1 hour'')');
INSERT INTO sg_revoker.log VALUES (1, 'a', '2030-01-01 10:00+00');
INSERT INTO sg_revoker.log VALUES (2, 'b', '2030-01-01 10:00+00');
SELECT id, room FROM sg_revoker.log ORDER BY id;
RESET ROLE;

DROP SCHEMA sg_revoker CASCADE;
DROP ROLE sg_revoker;
