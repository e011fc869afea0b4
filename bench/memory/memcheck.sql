-- memcheck: ONE session calls slotguard.try_book_slot many times and reports
-- the backend's own memory after each batch (bench/run parses the MEM| lines).
-- psql variables from bench/run: n_small (10k) and n_big (200k, 1M with BENCH_FULL=1).
-- Batches: n_small free + n_small conflicting, n_big free + n_big conflicting
-- twice, n_small free + n_small conflicting again.
-- Booking g is [2030-01-01 + 2g h, +1 h): every other hour, so a repeated
-- batch (same g) is all conflicts with free neighbours for the suggestions.
-- Each batch is one statement: memory is read after it, from the same backend
-- (/proc/self/status via pg_read_file, and pg_backend_memory_contexts).
\set ON_ERROR_STOP on
\pset tuples_only on
\pset format unaligned
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SELECT count(slotguard.upsert_resource('mem'));
CREATE FUNCTION bench_mem(step text, calls bigint, booked bigint, secs numeric)
RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws('|', 'MEM', step, calls, booked, secs,
                   (regexp_match(st, 'VmRSS:\s+(\d+)'))[1],
                   (regexp_match(st, 'RssAnon:\s+(\d+)'))[1],
                   (regexp_match(st, 'VmHWM:\s+(\d+)'))[1],
                   (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),
                   (SELECT count(*) FROM pg_backend_memory_contexts))
  FROM pg_read_file('/proc/self/status') AS st
$$;
SELECT bench_mem('x', 0, 0, 0) IS NOT NULL AS warm;  -- plan the helper once
SELECT bench_mem('session start, no call yet', 0, 0, 0);

-- batch :lo .. :hi, one statement; result into psql variables calls/booked/secs
\set batch 'SELECT count(*) AS calls, count(t.booking_id) AS booked, round(extract(epoch FROM clock_timestamp() - statement_timestamp())::numeric, 2) AS secs FROM generate_series(:lo, :hi) AS g, LATERAL slotguard.try_book_slot(''mem'', tstzrange(timestamptz ''2030-01-01 00:00+00'' + make_interval(hours => 2 * g), timestamptz ''2030-01-01 00:00+00'' + make_interval(hours => 2 * g + 1))) AS t'

\set lo 1
\set hi 1000
:batch \gset warm_
:batch \gset
SELECT bench_mem('baseline: after warm-up (1000 new + 1000 conflicting)', :warm_calls + :calls, :warm_booked + :booked, :warm_secs + :secs);

\set lo 1001
SELECT :lo + :n_small - 1 AS hi \gset
:batch \gset
SELECT bench_mem(:'n_small' || ' calls, free slots', :calls, :booked, :secs);
:batch \gset
SELECT bench_mem(:'n_small' || ' calls, all conflicts', :calls, :booked, :secs);

SELECT :hi + 1 AS lo, :hi + :n_big AS hi \gset
:batch \gset
SELECT bench_mem(:'n_big' || ' calls, free slots', :calls, :booked, :secs);
:batch \gset
SELECT bench_mem(:'n_big' || ' calls, all conflicts', :calls, :booked, :secs);
-- the same big batch once more: a leak grows again, a one-time high-water mark does not
:batch \gset
SELECT bench_mem(:'n_big' || ' calls, all conflicts (second time)', :calls, :booked, :secs);

SELECT :hi + 1 AS lo, :hi + :n_small AS hi \gset
:batch \gset
SELECT bench_mem(:'n_small' || ' calls, free slots (again, after the big batches)', :calls, :booked, :secs);
:batch \gset
SELECT bench_mem(:'n_small' || ' calls, all conflicts (again)', :calls, :booked, :secs);
