-- The same 10 bookings as series_10.sql, as 10 book_slot calls in one
-- statement (no client round trips: only the server's cost).
\set k random(0, 999999999)
\set r :k % 1000
\set s :k / 1000
SELECT count(slotguard.book_slot('b' || :r,
    tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + w * interval '1 week',
              timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + w * interval '1 week')))
FROM generate_series(0, 9) AS w;
