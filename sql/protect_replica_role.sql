SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SET TIME ZONE 'UTC';
-- Under session_replication_role = replica (logical replication's apply,
-- some restore tools) ordinary triggers do not fire, so a protected table
-- took any row. protect() now creates its triggers ENABLE ALWAYS
-- (API.md §15); the 1.1 -> 1.2 update does the same for existing guards.
CREATE TABLE public.replica_rooms (id int PRIMARY KEY, room text, at tstzrange);
SELECT slotguard.protect('public.replica_rooms', 'room', 'at');
SELECT tgname, tgenabled FROM pg_trigger
WHERE tgrelid = 'public.replica_rooms'::regclass AND NOT tgisinternal ORDER BY tgname;
INSERT INTO public.replica_rooms VALUES (1, 'a', '[2030-01-01 10:00+00,2030-01-01 11:00+00)');
SET session_replication_role = replica;
INSERT INTO public.replica_rooms VALUES (2, 'a', '[2030-01-01 10:30+00,2030-01-01 11:30+00)');
INSERT INTO public.replica_rooms VALUES (3, 'a', '[2030-01-01 12:00+00,2030-01-01 13:00+00)');
TRUNCATE public.replica_rooms;
RESET session_replication_role;
SELECT count(*) AS entries FROM slotguard.guard_entry e JOIN slotguard.guard g ON g.id = e.guard_id
WHERE g.tbl = 'public.replica_rooms'::regclass;
DROP TABLE public.replica_rooms;
