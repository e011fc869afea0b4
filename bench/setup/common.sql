-- common: run first in every fresh benchmark database.
-- psql variables from bench/run: nres history prefill step dur (bench/workloads/*.conf).
-- bench_prefill holds the bookings made before the run — identical rows for
-- every contender:
--  * history: `history` past hourly bookings before 2030-01-01, spread
--    round-robin over r1..rN. They never overlap the run's ranges; they give
--    the planner realistic statistics (an empty, analysed table makes a
--    prepared NOT EXISTS probe cache a seq-scan generic plan that degrades as
--    the run fills the table);
--  * prefill: slots 0 .. prefill-1 of resource r1 (hot-conflict).
\set ON_ERROR_STOP on
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE bench_prefill AS
SELECT 'r' || (i % :nres + 1) AS resource,
       tstzrange(timestamptz '2030-01-01 00:00+00' - make_interval(hours => i / :nres + 1),
                 timestamptz '2030-01-01 00:00+00' - make_interval(hours => i / :nres)) AS during
FROM generate_series(0, :history - 1) AS i
UNION ALL
SELECT 'r1'::text AS resource,
       tstzrange(timestamptz '2030-01-01 00:00+00' + make_interval(mins => i * :step),
                 timestamptz '2030-01-01 00:00+00' + make_interval(mins => i * :step + :dur)) AS during
FROM generate_series(0, :prefill - 1) AS i;
