-- advisory_lock: plain table + gist index on (resource, during) for the
-- NOT EXISTS probe; serialization is by pg_advisory_xact_lock in the script.
\set ON_ERROR_STOP on
CREATE TABLE bench_booking (resource text NOT NULL, during tstzrange NOT NULL);
CREATE INDEX ON bench_booking USING gist (resource, during);
INSERT INTO bench_booking SELECT resource, during FROM bench_prefill;
CREATE VIEW bench_result AS SELECT resource, during FROM bench_booking;
