-- cost vs rows, "book" path: a free hourly slot from 2040 on (far from the
-- pre-fill; 1000 resources x 1 000 000 slots, so practically never a conflict).
-- bench/run deletes what the run booked afterwards, so the next measurement
-- starts from the same table. Variables (-D): nres.
\set r random(1, :nres)
\set s random(0, 999999)
INSERT INTO bench_booking (resource, during)
VALUES ('r' || :r, tstzrange(timestamptz '2040-01-01 00:00+00' + make_interval(hours => :s), timestamptz '2040-01-01 00:00+00' + make_interval(hours => :s + 1)))
ON CONFLICT DO NOTHING;
