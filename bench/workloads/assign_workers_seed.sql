-- assign_workers_seed: the seed's best hand-written fix for the same job as
-- assign_workers_slotguard.sql (seeds/000_1b4a8d4ea5352524.txt, "Atomic
-- Worker Assignment Procedure"): one transaction that locks the requested
-- workers' rows FOR UPDATE in sorted order (so two dispatchers never lock
-- them in opposite orders), checks overlap with a query, then applies the
-- new crew: others removed, missing ones inserted — only if no requested
-- worker is on another active job whose range overlaps (all or nothing).
-- Correct under READ COMMITTED only because EVERY writer of bench_crew
-- takes the worker locks first. Setup and how to run: bench/workers.md.
-- Same variables and worker choice as assign_workers_slotguard.sql.
\set b random(1, :nbookings)
\set w1 random(1, :nworkers / 3)
\set w2 random(1, :nworkers / 3) + :nworkers / 3
\set w3 random(1, :nworkers / 3) + 2 * :nworkers / 3
BEGIN;
SELECT id FROM bench_worker WHERE id = ANY (ARRAY['w' || :w1, 'w' || :w2, 'w' || :w3]) ORDER BY id FOR UPDATE;
WITH want AS (
    SELECT unnest(ARRAY['w' || :w1, 'w' || :w2, 'w' || :w3]) AS worker
), job AS (
    SELECT id, during FROM bench_job WHERE id = :b AND status = 'active' FOR UPDATE
), ok AS (
    SELECT EXISTS (SELECT 1 FROM job) AND NOT EXISTS (
        SELECT 1 FROM job, bench_crew c JOIN bench_job o ON o.id = c.job_id
        WHERE c.worker_id IN (SELECT worker FROM want) AND c.status = 'active'
          AND c.job_id <> job.id AND o.status = 'active' AND o.during && job.during) AS ok
), removed AS (
    UPDATE bench_crew SET status = 'removed'
    WHERE job_id = :b AND status = 'active' AND worker_id NOT IN (SELECT worker FROM want)
      AND (SELECT ok FROM ok)
), added AS (
    INSERT INTO bench_crew (job_id, worker_id)
    SELECT :b, w.worker FROM want w
    WHERE (SELECT ok FROM ok)
      AND NOT EXISTS (SELECT 1 FROM bench_crew c
                      WHERE c.job_id = :b AND c.worker_id = w.worker AND c.status = 'active')
)
SELECT CASE WHEN ok THEN 0 ELSE nextval('bench_refused') END AS refused FROM ok;
END;
