-- advisory_lock: hand-written fix — serialize per resource with a
-- transaction-scoped advisory lock, then insert only if nothing overlaps
-- (gist index on (resource, during) serves the NOT EXISTS probe).
\set r random(1, :nres)
\set s random(0, :nslots - 1) * :step
\set e :s + :dur
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('r' || :r));
INSERT INTO bench_booking (resource, during)
SELECT v.resource, v.during
FROM (VALUES ('r' || :r, tstzrange(timestamptz '2030-01-01 00:00+00' + make_interval(mins => :s), timestamptz '2030-01-01 00:00+00' + make_interval(mins => :e)))) AS v(resource, during)
WHERE NOT EXISTS (SELECT 1 FROM bench_booking b
                  WHERE b.resource = v.resource AND b.during && v.during);
END;
