-- One 10-occurrence weekly series. k picks a resource (of 1000) and a block
-- of 10 weeks of its own, so calls never collide (birthday odds aside).
\set k random(0, 999999999)
\set r :k % 1000
\set s :k / 1000
SELECT count(*) FROM slotguard.book_series('b' || :r,
    tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks',
              timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks'), 'FREQ=WEEKLY;COUNT=10');
