-- exclude (the anchor): EXCLUDE USING gist (resource WITH =, during WITH &&)
-- on the table; a conflicting insert is skipped by ON CONFLICT DO NOTHING.
\set r random(1, :nres)
\set s random(0, :nslots - 1) * :step
\set e :s + :dur
INSERT INTO bench_booking (resource, during)
VALUES ('r' || :r, tstzrange(timestamptz '2030-01-01 00:00+00' + make_interval(mins => :s), timestamptz '2030-01-01 00:00+00' + make_interval(mins => :e)))
ON CONFLICT DO NOTHING;
