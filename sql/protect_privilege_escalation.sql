SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SET TIME ZONE 'UTC';
-- protect() used to check ownership against the session's role, which
-- stays the superuser's inside a SECURITY DEFINER function of another role,
-- inside ANALYZE's index expressions and inside another table's guard
-- expressions: any role could protect a superuser's table with its own
-- function as an expression, run it as the superuser and become one.
-- Every route below must gain nothing: no guard on the victim's table,
-- sg_attacker not superuser. Also: temporary objects in expressions, and
-- a protected table that changes owner.

CREATE ROLE sg_attacker;
CREATE ROLE sg_owner;
CREATE SCHEMA sg_attacker AUTHORIZATION sg_attacker;
GRANT USAGE ON SCHEMA sg_attacker TO PUBLIC;
CREATE TABLE public.payroll (employee int PRIMARY KEY, period tstzrange);
INSERT INTO public.payroll VALUES (1, '[2030-01-01,2030-01-02)');

-- The payload: run as the victim's table owner, it makes sg_attacker a
-- superuser. Each route calls protect() only when a superuser is acting,
-- so that it does nothing while sg_attacker sets it up.
SET ROLE sg_attacker;
CREATE FUNCTION sg_attacker.pwn(e int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'ALTER ROLE sg_attacker SUPERUSER';
    RETURN 'r';
END $$;
CREATE FUNCTION sg_attacker.grab() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        PERFORM slotguard.protect('public.payroll', 'sg_attacker.pwn(employee)', 'period');
    END IF;
    RETURN 1;
END $$;
GRANT EXECUTE ON FUNCTION sg_attacker.pwn(int), sg_attacker.grab() TO PUBLIC;

-- (a) A SECURITY DEFINER function of sg_attacker, called by a superuser.
CREATE FUNCTION sg_attacker.helpful() RETURNS int LANGUAGE sql SECURITY DEFINER
AS $$ SELECT sg_attacker.grab() $$;
RESET ROLE;
SELECT sg_attacker.helpful();

-- (b) An expression index on sg_attacker's table; a superuser runs ANALYZE
-- (the index expressions run as the table's owner, in a
-- security-restricted operation).
SET ROLE sg_attacker;
CREATE FUNCTION sg_attacker.idx(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN i + sg_attacker.grab();
END $$;
CREATE TABLE sg_attacker.bait (id int PRIMARY KEY);
INSERT INTO sg_attacker.bait SELECT g FROM generate_series(1, 10) g;
CREATE INDEX ON sg_attacker.bait (sg_attacker.idx(id));
RESET ROLE;
ANALYZE sg_attacker.bait;

-- (c) A guard expression on sg_attacker's own table calls protect() on the
-- table of whoever writes a row into it.
SET ROLE sg_attacker;
CREATE TABLE sg_attacker.inbox (id int PRIMARY KEY, at tstzrange);
SELECT slotguard.protect('sg_attacker.inbox', 'sg_attacker.grab()::text', 'at');
GRANT INSERT ON sg_attacker.inbox TO PUBLIC;
RESET ROLE;
INSERT INTO sg_attacker.inbox VALUES (1, '[2030-01-01,2030-01-02)');

-- (a') The same SECURITY DEFINER route, from a role's own session (not a
-- superuser): the current role, sg_attacker, does not own payroll.
SET ROLE sg_attacker;
SELECT slotguard.protect('public.payroll', 'sg_attacker.pwn(employee)', 'period');
RESET ROLE;

-- Nothing was gained: no guard on payroll, sg_attacker is no superuser,
-- and writing payroll runs nothing of sg_attacker's.
SELECT count(*) AS guards_on_payroll FROM slotguard.guards WHERE tbl = 'public.payroll'::regclass;
INSERT INTO public.payroll VALUES (2, '[2030-01-01,2030-01-02)');
SELECT rolsuper FROM pg_roles WHERE rolname = 'sg_attacker';

-- (d) Temporary objects: refused in every expression (they would resolve
-- in each writer's own session and run as the table's owner).
CREATE FUNCTION pg_temp.f(p tstzrange) RETURNS tstzrange LANGUAGE sql AS 'SELECT p';
CREATE TABLE public.visits (id int PRIMARY KEY, room text, at tstzrange);
SELECT slotguard.protect('public.visits', 'room', 'pg_temp.f(at)');
CREATE TEMP TABLE nope (x int);
SELECT slotguard.protect('public.visits', 'room', 'at', active => $$(SELECT count(*) = 0 FROM nope)$$);
CREATE TYPE pg_temp.mood AS ENUM ('ok');
SELECT slotguard.protect('public.visits', $$'ok'::mood::text$$, 'at');
SELECT count(*) AS guards_on_visits FROM slotguard.guards WHERE tbl = 'public.visits'::regclass;
-- A guard whose expression would now find a temporary object of the
-- writing session (one stored before these checks existed) refuses the
-- write instead of running it as the table's owner.
SELECT slotguard.protect('public.visits', 'room', 'at');
UPDATE slotguard.guard SET during_expr = 'pg_temp.f(at)' WHERE tbl = 'public.visits'::regclass;
INSERT INTO public.visits VALUES (1, 'a', '[2030-01-01,2030-01-02)');
SELECT slotguard.unprotect('public.visits');

-- (e) A protected table changes owner: its expressions were sg_owner's and
-- must not start running as the new owner. Writes are refused until the
-- new owner protects the table again.
CREATE TABLE public.rooms (id int PRIMARY KEY, room text, at tstzrange);
ALTER TABLE public.rooms OWNER TO sg_owner;
SET ROLE sg_owner;
SELECT slotguard.protect('public.rooms', 'room', 'at');
INSERT INTO public.rooms VALUES (1, 'a', '[2030-01-01,2030-01-02)');
RESET ROLE;
ALTER TABLE public.rooms OWNER TO sg_attacker;
INSERT INTO public.rooms VALUES (2, 'a', '[2030-01-03,2030-01-04)');
SELECT owner FROM slotguard.guard WHERE tbl = 'public.rooms'::regclass;
SET ROLE sg_attacker;
SELECT slotguard.unprotect('public.rooms');
SELECT slotguard.protect('public.rooms', 'room', 'at');
INSERT INTO public.rooms VALUES (2, 'a', '[2030-01-03,2030-01-04)');
INSERT INTO public.rooms VALUES (3, 'a', '[2030-01-03,2030-01-04)');
RESET ROLE;
SELECT owner FROM slotguard.guard WHERE tbl = 'public.rooms'::regclass;

-- protect() of one's own table from one's own SECURITY DEFINER function
-- is allowed (the current role is the session's).
CREATE TABLE public.desks (id int PRIMARY KEY, at tstzrange);
CREATE FUNCTION public.protect_desks() RETURNS text LANGUAGE sql SECURITY DEFINER
AS $$ SELECT slotguard.protect('public.desks', '''d''', 'at') $$;
SELECT public.protect_desks();

SELECT rolsuper FROM pg_roles WHERE rolname = 'sg_attacker';
DROP TABLE public.payroll, public.visits, public.rooms, public.desks;
DROP FUNCTION public.protect_desks();
DROP SCHEMA sg_attacker CASCADE;
DROP ROLE sg_attacker;
DROP ROLE sg_owner;
