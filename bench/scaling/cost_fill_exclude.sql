-- Pre-fill bookings lo .. hi-1 (psql variables nres lo hi). Booking i is on
-- resource r(i % nres + 1), slot k = i / nres: [2020-01-01 + 2k h, + 1 h).
-- Every other hour per resource, so no two rows overlap (the invariant holds)
-- and every booked hour has free neighbours. The same rows as cost_fill_slotguard.sql.
\set ON_ERROR_STOP on
INSERT INTO bench_booking (resource, during)
SELECT 'r' || (i % :nres + 1),
       tstzrange(timestamptz '2020-01-01 00:00+00' + make_interval(hours => 2 * (i / :nres)),
                 timestamptz '2020-01-01 00:00+00' + make_interval(hours => 2 * (i / :nres) + 1))
FROM generate_series(:lo, :hi - 1) AS i;
