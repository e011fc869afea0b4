-- exclude (anchor): the textbook PostgreSQL answer, an exclusion constraint.
\set ON_ERROR_STOP on
CREATE TABLE bench_booking (
    resource text NOT NULL,
    during   tstzrange NOT NULL,
    EXCLUDE USING gist (resource WITH =, during WITH &&)
);
INSERT INTO bench_booking SELECT resource, during FROM bench_prefill;
CREATE VIEW bench_result AS SELECT resource, during FROM bench_booking;
