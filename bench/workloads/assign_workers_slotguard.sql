-- assign_workers_slotguard: a dispatcher sets the crew of one job to 3
-- workers through the extension (slotguard.assign_workers: set semantics,
-- all or nothing, checked against every overlapping job of each worker).
-- Setup and how to run it: bench/workers.md. Variables (pgbench -D):
--   nbookings  jobs 1 .. nbookings (made by the setup)
--   nworkers   workers w1 .. w<nworkers>, a multiple of 3
-- The three workers come from the three thirds of the roster, so they are
-- always distinct. bench_assign() (setup) turns a refusal (23P01) into a
-- count instead of an error, which would end the pgbench client.
\set b random(1, :nbookings)
\set w1 random(1, :nworkers / 3)
\set w2 random(1, :nworkers / 3) + :nworkers / 3
\set w3 random(1, :nworkers / 3) + 2 * :nworkers / 3
SELECT bench_assign(:b, ARRAY['w' || :w1, 'w' || :w2, 'w' || :w3]);
