SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SET TIME ZONE 'UTC';
-- protect() over existing rows: the overbooking check was quadratic in the
-- rows of one resource (nested ranges), with no interrupt check, so
-- statement_timeout and cancel could not stop it. It sorts and sweeps now,
-- and checks for interrupts in every loop over the table: under a short
-- statement_timeout a protect() of a large table is cancelled (57014) and
-- installs nothing.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others OR query_canceled THEN
    RETURN SQLSTATE;
END $$;
CREATE TABLE public.nested (id int PRIMARY KEY, at tstzrange);
INSERT INTO public.nested
SELECT g, tstzrange('2030-01-01'::timestamptz + g * interval '1 second',
                    '2030-01-01'::timestamptz + (400000 - g) * interval '1 second')
FROM generate_series(1, 150000) g;
SET statement_timeout = '100ms';
SELECT pg_temp.sqlstate_of($$SELECT slotguard.protect('public.nested', '''r''', 'at', capacity => 1000)$$);
RESET statement_timeout;
SELECT count(*) AS guards FROM slotguard.guards WHERE tbl = 'public.nested'::regclass;
-- Without the timeout it completes, naming the overbooking rows (rows
-- 1001 on cover the innermost instants with more than 1000 others).
SELECT pg_temp.sqlstate_of($$SELECT slotguard.protect('public.nested', '''r''', 'at', capacity => 1000)$$);
DELETE FROM public.nested WHERE id > 1000;
SELECT slotguard.protect('public.nested', '''r''', 'at', capacity => 1000);
DROP TABLE public.nested;
