-- cost vs rows, "conflict" path: exactly a pre-filled booking (slot k of a
-- resource, k < nk = rows / nres), so every attempt is refused and the table
-- does not change. Variables (-D): nres nk.
\set r random(1, :nres)
\set k random(0, :nk - 1)
INSERT INTO bench_booking (resource, during)
VALUES ('r' || :r, tstzrange(timestamptz '2020-01-01 00:00+00' + make_interval(hours => 2 * :k), timestamptz '2020-01-01 00:00+00' + make_interval(hours => 2 * :k + 1)))
ON CONFLICT DO NOTHING;
