-- Pre-fill bookings lo .. hi-1 through the extension's API (book_slot, which
-- checks each one). Same rows as cost_fill_exclude.sql: booking i is on
-- resource r(i % nres + 1), slot k = i / nres: [2020-01-01 + 2k h, + 1 h).
\set ON_ERROR_STOP on
SELECT count(b.id) AS booked
FROM generate_series(:lo, :hi - 1) AS i,
     LATERAL slotguard.book_slot('r' || (i % :nres + 1),
         tstzrange(timestamptz '2020-01-01 00:00+00' + make_interval(hours => 2 * (i / :nres)),
                   timestamptz '2020-01-01 00:00+00' + make_interval(hours => 2 * (i / :nres) + 1))) AS b;
