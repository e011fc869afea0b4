-- for_update: hand-written fix — lock the resource's row in a resources
-- table with SELECT ... FOR UPDATE, then the same NOT EXISTS insert.
\set r random(1, :nres)
\set s random(0, :nslots - 1) * :step
\set e :s + :dur
BEGIN;
SELECT key FROM bench_resource WHERE key = 'r' || :r FOR UPDATE;
INSERT INTO bench_booking (resource, during)
SELECT v.resource, v.during
FROM (VALUES ('r' || :r, tstzrange(timestamptz '2030-01-01 00:00+00' + make_interval(mins => :s), timestamptz '2030-01-01 00:00+00' + make_interval(mins => :e)))) AS v(resource, during)
WHERE NOT EXISTS (SELECT 1 FROM bench_booking b
                  WHERE b.resource = v.resource AND b.during && v.during);
END;
