-- insert: a plain table, no index, no check.
\set ON_ERROR_STOP on
CREATE TABLE bench_booking (resource text NOT NULL, during tstzrange NOT NULL);
INSERT INTO bench_booking SELECT resource, during FROM bench_prefill;
CREATE VIEW bench_result AS SELECT resource, during FROM bench_booking;
