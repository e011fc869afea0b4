-- cost vs rows, exclude (anchor): the EXCLUDE USING gist table of the
-- booking workloads (bench/setup/exclude.sql), empty; filled by cost_fill_exclude.sql.
\set ON_ERROR_STOP on
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pageinspect;   -- bench/run reads the GiST depth
CREATE TABLE bench_booking (
    resource text NOT NULL,
    during   tstzrange NOT NULL,
    EXCLUDE USING gist (resource WITH =, during WITH &&)
);
