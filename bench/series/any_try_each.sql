-- The hand-written loop: try each resource in turn (try_book_slot, no
-- subtransaction per attempt) until one is free.
\set h random(0, 49999)
SELECT bench_try_each(ARRAY['a0','a1','a2','a3','a4','a5','a6','a7','a8','a9'],
    tstzrange(timestamptz '2030-01-01 00:00+00' + :h * interval '1 hour',
              timestamptz '2030-01-01 01:00+00' + :h * interval '1 hour'));
