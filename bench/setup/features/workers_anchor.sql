-- workers / anchor (the seed's hand-written fix): from bench/workers.md (setup-seed). psql vars: nbookings, nworkers.
-- database bench_workers_seed
\set ON_ERROR_STOP on
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE bench_worker (id text PRIMARY KEY);          -- the seed's users (staff)
INSERT INTO bench_worker SELECT 'w' || i FROM generate_series(1, :nworkers) AS i;
CREATE TABLE bench_job (                                   -- the seed's bookings
    id       bigint PRIMARY KEY,
    resource text NOT NULL,
    during   tstzrange NOT NULL,
    status   text NOT NULL DEFAULT 'active'
);
INSERT INTO bench_job (id, resource, during)
SELECT i, 'r' || (i % 50),
       tstzrange(timestamptz '2030-01-01 00:00+00'
                   + make_interval(hours => 6 * (i / 50) + (2 * (i / 50) + i % 50) % 6),
                 timestamptz '2030-01-01 01:00+00'
                   + make_interval(hours => 6 * (i / 50) + (2 * (i / 50) + i % 50) % 6))
FROM generate_series(1, :nbookings) AS i;
CREATE TABLE bench_crew (                                  -- the seed's booking_workers
    id          bigserial PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES bench_job,
    worker_id   text NOT NULL REFERENCES bench_worker,
    status      text NOT NULL DEFAULT 'active',
    assigned_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON bench_crew (worker_id) WHERE status = 'active';
CREATE INDEX ON bench_crew (job_id) WHERE status = 'active';
CREATE SEQUENCE bench_refused;
CREATE VIEW bench_double_booked AS
SELECT c1.worker_id AS worker, c1.job_id AS job_1, c2.job_id AS job_2
FROM bench_crew c1
JOIN bench_crew c2 ON c2.worker_id = c1.worker_id AND c1.job_id < c2.job_id
JOIN bench_job j1 ON j1.id = c1.job_id
JOIN bench_job j2 ON j2.id = c2.job_id
WHERE c1.status = 'active' AND c2.status = 'active'
  AND j1.status = 'active' AND j2.status = 'active' AND j1.during && j2.during;
CREATE VIEW bench_rows AS SELECT count(*) AS crew_rows FROM bench_crew;
