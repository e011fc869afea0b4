-- Data for bench/rules/run.sh: :nres resources twice, "plain:<n>" (no
-- rules) and "rules:<n>" (Europe/Berlin, Mo-Fr 09:00-17:00, 10 closures,
-- 1,000 busy blocks synced from a calendar), and one table of 30-minute
-- slots that are bookable on both (inside the hours, outside closures and
-- busy time), so both sides run exactly the same bookings.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SELECT count(*) FROM (
    SELECT slotguard.upsert_resource('plain:' || n), slotguard.upsert_resource('rules:' || n)
    FROM generate_series(1, :nres) n) s;
SELECT count(*) FROM (
    SELECT slotguard.set_policy('rules:' || n, 'Europe/Berlin'),
           slotguard.set_hours('rules:' || n, 'Mo-Fr 09:00-17:00')
    FROM generate_series(1, :nres) n) s;
-- Ten closures (holidays) a resource.
SELECT count(*) FROM (
    SELECT slotguard.add_closure('rules:' || n, tstzrange(d, d + interval '1 day'), 'holiday')
    FROM generate_series(1, :nres) n,
         LATERAL (SELECT timestamptz '2031-01-01 00:00+01' + (k * 36) * interval '1 day' AS d
                  FROM generate_series(0, 9) k) dd) s;
-- 1,000 busy blocks a resource: 30 minutes at a random half hour of a
-- random working day of 2031.
SELECT setseed(0.42);
SELECT count(*) FROM (
    SELECT slotguard.sync_busy('rules:' || n, 'google:bench', '[2031-01-01, 2032-01-01)',
        (SELECT array_agg(tstzrange(t, t + interval '30 minutes'))
         FROM (SELECT timestamptz '2031-01-01 08:00+00' + (floor(random() * 360) * interval '1 day')
                      + (floor(random() * 16) * interval '30 minutes') AS t
               FROM generate_series(1, 1000)) b))
    FROM generate_series(1, :nres) n) s;
-- Every bookable 30-minute slot of each rules resource in 2031 (and so of
-- its plain twin), in random order.
CREATE TABLE bench_slot (id serial PRIMARY KEY, n int, during tstzrange);
INSERT INTO bench_slot (n, during)
SELECT n, tstzrange(t, t + interval '30 minutes')
FROM generate_series(1, :nres) n,
     LATERAL slotguard.opening('rules:' || n, '[2031-01-01, 2032-01-01)') o,
     LATERAL generate_series(lower(o), upper(o) - interval '30 minutes', interval '30 minutes') t
ORDER BY random();
VACUUM ANALYZE;
SELECT count(*) AS slots FROM bench_slot;
-- CPU time of this backend in clock ticks (utime + stime), for the
-- per-call CPU cost that bench/rules/run.sh measures next to pgbench's TPS
-- (less disturbed by other load on a shared machine than wall-clock time).
CREATE FUNCTION cpu_ticks() RETURNS bigint LANGUAGE sql AS $$
    SELECT split_part(s, ' ', 12)::bigint + split_part(s, ' ', 13)::bigint
    FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS s) x
$$;
