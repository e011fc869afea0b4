-- insert: bare INSERT, no check at all. Upper bound of speed; double-books.
-- Variables from bench/run (-D): nres nslots step dur (see bench/workloads/*.conf).
\set r random(1, :nres)
\set s random(0, :nslots - 1) * :step
\set e :s + :dur
INSERT INTO bench_booking (resource, during)
VALUES ('r' || :r, tstzrange(timestamptz '2030-01-01 00:00+00' + make_interval(mins => :s), timestamptz '2030-01-01 00:00+00' + make_interval(mins => :e)));
