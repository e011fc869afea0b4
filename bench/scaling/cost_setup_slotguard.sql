-- cost vs rows, slotguard: the extension, resources r1 .. r<nres> created
-- beforehand (capacity 1, no buffers); filled by cost_fill_slotguard.sql.
\set ON_ERROR_STOP on
CREATE EXTENSION slotguard CASCADE;
CREATE EXTENSION IF NOT EXISTS pageinspect;   -- bench/run reads the GiST depth
SELECT count(slotguard.upsert_resource('r' || i)) AS resources
FROM generate_series(1, :nres) AS i;
