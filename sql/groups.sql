-- Groups (API.md §11): book_together (the same range on several resources,
-- all or nothing), book_any (count of the listed resources, least loaded
-- first), assign_any_workers (count free workers from a pool).
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TEMP TABLE grp_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 8200000, false) AS id_base;

CREATE FUNCTION pg_temp.err(q text, with_detail boolean DEFAULT false) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
    h text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM ||
        CASE WHEN with_detail THEN E'\nDETAIL: ' || coalesce(d, '') || E'\nHINT: ' || coalesce(h, '') ELSE '' END;
END
$$;

-- ---------------------------------------------------------------------------
-- book_together: a session needs a room and a therapist.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('grp:room-1', 1, buffer_after => '10 minutes');
SELECT key FROM slotguard.upsert_resource('grp:dr-lee', 1);
SELECT key FROM slotguard.upsert_resource('grp:dr-kim', 1);
SELECT id, resource_key, during, blocked, group_id, idempotency_key
FROM slotguard.book_together('{grp:room-1,grp:dr-lee}', '[2031-01-06 09:00+00,2031-01-06 10:00+00)',
                             holder => 'client-7', idempotency_key => 'grp-k1');
-- Replayed with the key; another call with the key and other arguments: 22023.
SELECT count(*) AS replayed FROM slotguard.book_together('{grp:dr-lee,grp:room-1}', '[2031-01-06 09:00+00,2031-01-06 10:00+00)',
                                                         holder => 'client-7', idempotency_key => 'grp-k1');
SELECT pg_temp.err($$SELECT slotguard.book_together('{grp:room-1,grp:dr-kim}', '[2031-01-06 09:00+00,2031-01-06 10:00+00)', idempotency_key => 'grp-k1')$$);
-- The room is taken (its buffer too): nothing is booked, not even Dr Kim.
SELECT pg_temp.err($$SELECT slotguard.book_together('{grp:dr-kim,grp:room-1}', '[2031-01-06 10:05+00,2031-01-06 11:00+00)')$$, true);
SELECT count(*) AS kim_bookings FROM slotguard.booking WHERE resource_key = 'grp:dr-kim';
SELECT resource_key, group_id IS NOT NULL AS grouped
FROM slotguard.book_together('{grp:dr-kim,grp:room-1}', '[2031-01-06 10:10+00,2031-01-06 11:00+00)') ORDER BY resource_key;

-- ---------------------------------------------------------------------------
-- book_any: the least loaded that local day first, then list order.
-- ---------------------------------------------------------------------------
SELECT (slotguard.upsert_resource(k, 1)).key FROM unnest(ARRAY['grp:t1', 'grp:t2', 'grp:t3', 'grp:t4']) AS k;
-- t1 has three hours that day, t3 one hour, t2 and t4 none.
SELECT count(*) FROM slotguard.book_slot('grp:t1', '[2031-02-03 06:00+00,2031-02-03 09:00+00)');
SELECT count(*) FROM slotguard.book_slot('grp:t3', '[2031-02-03 20:00+00,2031-02-03 21:00+00)');
-- The day before does not count.
SELECT count(*) FROM slotguard.book_slot('grp:t2', '[2031-02-02 06:00+00,2031-02-02 12:00+00)');
SELECT resource_key, during, group_id IS NOT NULL AS grouped
FROM slotguard.book_any('{grp:t1,grp:t2,grp:t3,grp:t4}', '[2031-02-03 10:00+00,2031-02-03 11:00+00)', 2)
ORDER BY resource_key;
-- Now t2 and t4 have an hour each, t3 one: t2 (list order) ...
SELECT resource_key FROM slotguard.book_any('{grp:t1,grp:t2,grp:t3,grp:t4}', '[2031-02-03 12:00+00,2031-02-03 13:00+00)');
-- ... then t3 and t4 (one hour each), t1 last; a taken one is skipped.
SELECT resource_key FROM slotguard.book_any('{grp:t1,grp:t2,grp:t3,grp:t4}', '[2031-02-03 12:00+00,2031-02-03 13:00+00)', 3)
ORDER BY resource_key;
-- Fewer than count free: 23P01 naming the ones that are not.
SELECT pg_temp.err($$SELECT slotguard.book_any('{grp:t1,grp:t2,grp:t3,grp:t4}', '[2031-02-03 12:30+00,2031-02-03 13:30+00)', 2)$$, true);
-- A resource too small for the seats is not a candidate.
SELECT key FROM slotguard.upsert_resource('grp:hall', 10);
SELECT resource_key, seats FROM slotguard.book_any('{grp:t4,grp:hall}', '[2031-02-04 12:00+00,2031-02-04 13:00+00)', seats => 5);
-- Idempotent.
SELECT resource_key FROM slotguard.book_any('{grp:t1,grp:t2}', '[2031-02-05 12:00+00,2031-02-05 13:00+00)', idempotency_key => 'grp-k2');
SELECT resource_key FROM slotguard.book_any('{grp:t1,grp:t2}', '[2031-02-05 12:00+00,2031-02-05 13:00+00)', idempotency_key => 'grp-k2');

-- ---------------------------------------------------------------------------
-- assign_any_workers: count free workers from a pool, least busy first.
-- ---------------------------------------------------------------------------
SELECT id AS grp_job1 FROM slotguard.book_slot('grp:site-1', '[2031-03-03 08:00+00,2031-03-03 12:00+00)') \gset
SELECT id AS grp_job2 FROM slotguard.book_slot('grp:site-2', '[2031-03-03 10:00+00,2031-03-03 11:00+00)') \gset
SELECT id AS grp_job3 FROM slotguard.book_slot('grp:site-3', '[2031-03-03 14:00+00,2031-03-03 15:00+00)') \gset
SELECT worker FROM slotguard.assign_workers(:grp_job1, '{grp:ann}');
-- Ann is busy (job 1 overlaps): Bob and Cy.
SELECT worker, role, assigned_by FROM slotguard.assign_any_workers(:grp_job2, '{grp:ann,grp:bob,grp:cy}', 2, 'dispatch', 'cleaner');
-- Job 3: Ann has 4 hours that day, Bob and Cy one: Bob (list order).
SELECT worker FROM slotguard.assign_any_workers(:grp_job3, '{grp:ann,grp:bob,grp:cy}', 1);
-- Already on the booking, or busy: not enough.
SELECT pg_temp.err(format($$SELECT slotguard.assign_any_workers(%s, '{grp:ann,grp:bob,grp:cy}', 3)$$, :grp_job2), true);
SELECT worker, status FROM slotguard.assignment WHERE booking_id = :grp_job2 ORDER BY worker;

-- ---------------------------------------------------------------------------
-- Errors.
-- ---------------------------------------------------------------------------
SELECT q, pg_temp.err(q) FROM unnest(ARRAY[
    -- 22004
    $$SELECT slotguard.book_together(NULL, '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$,
    $$SELECT slotguard.book_together('{grp:a}', NULL)$$,
    $$SELECT slotguard.book_any(NULL, '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$,
    $$SELECT slotguard.book_any('{grp:a}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)', NULL)$$,
    $$SELECT slotguard.assign_any_workers(NULL, '{grp:w}', 1)$$,
    $$SELECT slotguard.assign_any_workers(1, NULL, 1)$$,
    $$SELECT slotguard.assign_any_workers(1, '{grp:w}', NULL)$$,
    -- 22023
    $$SELECT slotguard.book_together('{}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$,
    $$SELECT slotguard.book_together('{grp:a,grp:b,grp:a}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$,
    $$SELECT slotguard.book_together('{grp:a,NULL}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$,
    $$SELECT slotguard.book_together('{grp:a," "}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$,
    $$SELECT slotguard.book_together('{{grp:a},{grp:b}}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$,
    $$SELECT slotguard.book_together(array_fill('grp:a'::text, ARRAY[1001]), '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$,
    $$SELECT slotguard.book_any('{grp:a,grp:b}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)', 0)$$,
    $$SELECT slotguard.book_any('{grp:a,grp:b}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)', 3)$$,
    $$SELECT slotguard.book_any('{grp:a,grp:a}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)', 1)$$,
    $$SELECT slotguard.book_together('{grp:room-1}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)', seats => 2)$$,
    $$SELECT slotguard.assign_any_workers(1, '{grp:w,grp:w}', 1)$$,
    $$SELECT slotguard.assign_any_workers(1, '{grp:w}', 0)$$,
    $$SELECT slotguard.assign_any_workers(1, '{grp:w}', 2)$$,
    -- 22000
    $$SELECT slotguard.book_together('{grp:a}', 'empty')$$,
    $$SELECT slotguard.book_any('{grp:a}', '(,2032-01-01 09:00+00)')$$,
    -- P0002
    $$SELECT slotguard.assign_any_workers(999999999, '{grp:w}', 1)$$]) AS q;
SET slotguard.auto_create_resources = off;
SELECT pg_temp.err($$SELECT slotguard.book_together('{grp:room-1,grp:nowhere}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$);
SELECT pg_temp.err($$SELECT slotguard.book_any('{grp:room-1,grp:nowhere}', '[2032-01-01 08:00+00,2032-01-01 09:00+00)')$$);
RESET slotguard.auto_create_resources;
-- 55000: a cancelled booking gets no workers.
SELECT status FROM slotguard.cancel_booking(:grp_job3);
SELECT pg_temp.err(format($$SELECT slotguard.assign_any_workers(%s, '{grp:dan}', 1)$$, :grp_job3));
-- 25006
BEGIN READ ONLY;
SELECT pg_temp.err($$SELECT slotguard.book_together(NULL, NULL)$$);
SELECT pg_temp.err($$SELECT slotguard.book_any(NULL, NULL)$$);
SELECT pg_temp.err($$SELECT slotguard.assign_any_workers(NULL, NULL, NULL)$$);
COMMIT;

-- ---------------------------------------------------------------------------
-- Confinement: another tenant's resources and workers are as if they did
-- not exist (or may not be created: 42501); the holder claim books for
-- the claim's holder; conflicts name only what the caller may see.
-- ---------------------------------------------------------------------------
DROP ROLE IF EXISTS regress_grp_a;
CREATE ROLE regress_grp_a NOLOGIN;
SELECT slotguard.grant_access('regress_grp_a');
SELECT role FROM slotguard.confine('regress_grp_a', tenant_claim => 'tenant', holder_claim => 'sub');
SELECT (slotguard.upsert_resource(k, 1)).key FROM unnest(ARRAY['grp-a:r1', 'grp-a:r2', 'grp-b:r1']) AS k;
SELECT id AS grp_other FROM slotguard.book_slot('grp-a:r1', '[2035-01-01 09:00+00,2035-01-01 10:00+00)', holder => 'p2') \gset
BEGIN;
SET LOCAL ROLE regress_grp_a;
SELECT set_config('request.jwt.claims', '{"tenant":"grp-a","sub":"p1"}', true) IS NOT NULL AS claims;
SELECT pg_temp.err($$SELECT slotguard.book_together('{grp-a:r2,grp-b:r1}', '[2035-01-01 09:00+00,2035-01-01 10:00+00)')$$);
SELECT pg_temp.err($$SELECT slotguard.book_any('{grp-a:r2,grp-b:r1}', '[2035-01-01 09:00+00,2035-01-01 10:00+00)')$$);
SELECT pg_temp.err($$SELECT slotguard.book_together('{grp-a:r2}', '[2035-01-01 09:00+00,2035-01-01 10:00+00)', holder => 'p2')$$);
SELECT pg_temp.err($$SELECT slotguard.book_together('{grp-a:r1,grp-a:r2}', '[2035-01-01 09:00+00,2035-01-01 10:00+00)')$$, true);
SELECT id AS grp_mine, resource_key, holder FROM slotguard.book_any('{grp-a:r1,grp-a:r2}', '[2035-01-01 09:00+00,2035-01-01 10:00+00)') \gset
SELECT :'resource_key' AS resource_key, :'holder' AS holder;
SELECT pg_temp.err(format($$SELECT slotguard.assign_any_workers(%s, '{grp-a:w1}', 1)$$, :grp_other));
SELECT pg_temp.err(format($$SELECT slotguard.assign_any_workers(%s, '{grp-a:w1,grp-b:w1}', 1)$$, :grp_mine));
SELECT worker FROM slotguard.assign_any_workers(:grp_mine, '{grp-a:w1,grp-a:w2}', 1);
COMMIT;

-- The invariants over everything above.
SELECT count(*) AS overbooked FROM slotguard.booking a JOIN slotguard.booking b
  ON a.resource_key = b.resource_key AND a.id < b.id AND a.blocked && b.blocked
WHERE a.resource_key LIKE 'grp%' AND a.status = 'confirmed' AND b.status = 'confirmed';
SELECT count(*) AS double_assigned FROM slotguard.assignment a JOIN slotguard.assignment b
  ON a.worker = b.worker AND a.id < b.id AND a.during && b.during
WHERE a.worker LIKE 'grp%' AND a.status = 'active' AND b.status = 'active';

-- ---------------------------------------------------------------------------
-- Clean up.
-- ---------------------------------------------------------------------------
SELECT slotguard.unconfine('regress_grp_a');
SELECT slotguard.revoke_access('regress_grp_a');
DROP ROLE regress_grp_a;
DELETE FROM slotguard.assignment a USING slotguard.booking b WHERE a.booking_id = b.id AND b.resource_key LIKE 'grp%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'grp%';
DELETE FROM slotguard.resource WHERE key LIKE 'grp%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM grp_saved_seq;
DROP TABLE grp_saved_seq;
