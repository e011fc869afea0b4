SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SET TIME ZONE 'UTC';
-- The guard trigger keeps each guard's prepared expressions per backend.
-- (1) That cache grew with every protected table a backend ever wrote to;
-- it is bounded now (least recently used guards are prepared again when
-- they come back). (2) A reload that failed half-way left the guard marked
-- valid without its plans, and the next write of the right table failed
-- (XX000); now a failed reload leaves the guard to be loaded again.

-- The SQLSTATE of a statement's error, or 'ok'.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE;
END $$;

-- (1) 80 protected tables, one row each, in one backend.
DO $$
BEGIN
    FOR i IN 1..80 LOOP
        EXECUTE format('CREATE TABLE public.cache_t%s (id int PRIMARY KEY, at tstzrange)', i);
        PERFORM slotguard.protect(format('public.cache_t%s', i)::regclass, '''r''', 'at');
        EXECUTE format('INSERT INTO public.cache_t%s VALUES (1, ''[2030-01-01,2030-01-02)'')', i);
    END LOOP;
END $$;
SELECT count(*) <= 64 AS bounded, count(*) > 0 AS cached
FROM pg_backend_memory_contexts WHERE name = 'slotguard guard';
-- Every guard still works after its eviction.
INSERT INTO public.cache_t1 VALUES (2, '[2030-01-01 12:00,2030-01-03)');
INSERT INTO public.cache_t1 VALUES (3, '[2030-01-05,2030-01-06)');
DO $$
BEGIN
    FOR i IN 1..80 LOOP
        EXECUTE format('DROP TABLE public.cache_t%s', i);
    END LOOP;
END $$;

-- (2) The guard's trigger copied onto another table: that table's writes
-- are refused (55000), and the guarded table keeps working.
CREATE TABLE public.cache_a (id int PRIMARY KEY, at tstzrange);
CREATE TABLE public.cache_b (id int PRIMARY KEY, at tstzrange);
SELECT slotguard.protect('public.cache_a', '''r''', 'at');
INSERT INTO public.cache_a VALUES (1, '[2030-01-01,2030-01-02)');
SELECT format('CREATE TRIGGER copied AFTER INSERT ON public.cache_b FOR EACH ROW '
              'EXECUTE FUNCTION slotguard.guard_trigger(%L)', id) AS copy
FROM slotguard.guard WHERE tbl = 'public.cache_a'::regclass \gset
:copy;
SELECT pg_temp.sqlstate_of($$INSERT INTO public.cache_b VALUES (1, '[2030-01-01,2030-01-02)')$$);
INSERT INTO public.cache_a VALUES (2, '[2030-01-03,2030-01-04)');
INSERT INTO public.cache_a VALUES (3, '[2030-01-03,2030-01-04)');
SELECT id FROM public.cache_a ORDER BY id;
DROP TABLE public.cache_a, public.cache_b;
