-- for_update: a resources table (one row per resource, locked FOR UPDATE by
-- the script) + the same bookings table and gist index as advisory_lock.
\set ON_ERROR_STOP on
CREATE TABLE bench_resource (key text PRIMARY KEY);
INSERT INTO bench_resource SELECT 'r' || i FROM generate_series(1, :nres) AS i;
CREATE TABLE bench_booking (resource text NOT NULL, during tstzrange NOT NULL);
CREATE INDEX ON bench_booking USING gist (resource, during);
INSERT INTO bench_booking SELECT resource, during FROM bench_prefill;
CREATE VIEW bench_result AS SELECT resource, during FROM bench_booking;
