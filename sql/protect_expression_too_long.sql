-- protect() took guard expressions of any length: a megabyte of nested
-- parentheses ran the parser out of stack (54001, not a contract code).
-- Each expression is at most 10,000 bytes; beyond that 22023, and nothing
-- is installed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE TABLE pel_rooms (id int PRIMARY KEY, room text, at tstzrange);
SELECT pg_temp.sqlstate_of(format('SELECT slotguard.protect(%L, %L, %L)', 'pel_rooms',
                                  repeat('(', 450000) || 'room' || repeat(')', 450000), 'at'));
SELECT pg_temp.sqlstate_of(format('SELECT slotguard.protect(%L, %L, %L)', 'pel_rooms', 'room',
                                  'at' || repeat(' ', 10000)));
SELECT pg_temp.sqlstate_of(format('SELECT slotguard.protect(%L, %L, %L, active => %L)', 'pel_rooms', 'room', 'at',
                                  'true' || repeat(' ', 10000)));
SELECT pg_temp.sqlstate_of(format('SELECT slotguard.protect(%L, %L, %L, seats => %L)', 'pel_rooms', 'room', 'at',
                                  '1' || repeat(' ', 10000)));
SELECT count(*) AS guards FROM slotguard.guards WHERE tbl = 'pel_rooms'::regclass;
-- At the limit it is an ordinary expression.
SELECT slotguard.protect('pel_rooms', 'room', 'at' || repeat(' ', 9998)) IS NOT NULL AS protected;
SELECT slotguard.unprotect('pel_rooms') IS NOT NULL AS unprotected;
DROP TABLE pel_rooms;
