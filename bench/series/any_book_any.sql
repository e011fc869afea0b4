-- book_any: one of the 10 resources free for a random hour (of 50000).
\set h random(0, 49999)
SELECT count(*) FROM slotguard.book_any(ARRAY['a0','a1','a2','a3','a4','a5','a6','a7','a8','a9'],
    tstzrange(timestamptz '2030-01-01 00:00+00' + :h * interval '1 hour',
              timestamptz '2030-01-01 01:00+00' + :h * interval '1 hour'));
