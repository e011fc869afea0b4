-- workers / slotguard: from bench/workers.md (setup-slotguard). psql vars: nbookings, nworkers.
-- database bench_workers_slotguard
\set ON_ERROR_STOP on
CREATE EXTENSION slotguard CASCADE;
SELECT count(slotguard.book_slot('r' || (i % 50),
           tstzrange(timestamptz '2030-01-01 00:00+00'
                       + make_interval(hours => 6 * (i / 50) + (2 * (i / 50) + i % 50) % 6),
                     timestamptz '2030-01-01 01:00+00'
                       + make_interval(hours => 6 * (i / 50) + (2 * (i / 50) + i % 50) % 6))))
       AS jobs
FROM generate_series(1, :nbookings) AS i;
-- The script draws job ids 1 .. nbookings: a fresh database numbers them so.
SELECT min(id) = 1 AND max(id) = :nbookings AS ids_ok FROM slotguard.booking \gset
\if :ids_ok
\else
\echo 'booking ids are not 1 .. nbookings: use a fresh database'
SELECT 1 / 0 AS booking_ids_not_1_to_nbookings;
\endif
CREATE SEQUENCE bench_refused;
-- assign_workers raises 23P01 on a conflict; pgbench would end the client.
CREATE FUNCTION bench_assign(job bigint, workers text[]) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM slotguard.assign_workers(job, workers);
    RETURN true;
EXCEPTION WHEN exclusion_violation THEN
    PERFORM nextval('bench_refused');
    RETURN false;
END
$$;
CREATE VIEW bench_double_booked AS
SELECT a1.worker, a1.booking_id AS job_1, a2.booking_id AS job_2
FROM slotguard.assignment a1
JOIN slotguard.assignment a2 ON a2.worker = a1.worker AND a1.booking_id < a2.booking_id
JOIN slotguard.booking b1 ON b1.id = a1.booking_id
JOIN slotguard.booking b2 ON b2.id = a2.booking_id
WHERE a1.status = 'active' AND a2.status = 'active'
  AND b1.status <> 'cancelled' AND b2.status <> 'cancelled' AND b1.during && b2.during;
CREATE VIEW bench_rows AS SELECT count(*) AS crew_rows FROM slotguard.assignment;
