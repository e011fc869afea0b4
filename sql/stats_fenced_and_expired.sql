-- slotguard.stats' fenced and holds_expired counters (API.md §13): a
-- stale-token refusal of §14 counts as fenced (and refused) on the function
-- that refused it; expire_holds() counts the holds it expired. Keys of this
-- file start with 'sfe'.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';

CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE;
END
$$;

SELECT slotguard.stats_reset();
SELECT key FROM slotguard.add_order('sfe:o1');
CREATE TEMP TABLE sfe_claim AS SELECT claim_token FROM slotguard.claim_order('sfe:o1', 'w-1', '1 min');
-- A token before the current one: stale, whatever the claimant's name.
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.complete_order('sfe:o1', 'w-1', %s)$$, claim_token - 1))
FROM sfe_claim;
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.renew_lease('sfe:o1', 'w-1', '1 min', %s)$$, claim_token + 1))
FROM sfe_claim;
SELECT function, calls, succeeded, refused, fenced FROM slotguard.stats
WHERE function IN ('complete_order', 'renew_lease', 'claim_order') ORDER BY function;

-- Two holds that have lapsed, one that has not: expire_holds() expires two.
SELECT key FROM slotguard.upsert_resource('sfe:room', 3);
SELECT count(*) FROM (
    SELECT slotguard.book_slot('sfe:room', tstzrange(t, t + interval '1 hour'), hold => h)
    FROM (VALUES ('2031-07-01 09:00+00'::timestamptz, interval '1 microsecond'),
                 ('2031-07-01 10:00+00', interval '1 microsecond'),
                 ('2031-07-01 11:00+00', interval '1 hour')) v(t, h)) b;
SELECT pg_sleep(0.01);
SELECT slotguard.expire_holds() >= 2 AS expired_two;
SELECT function, calls, holds_expired >= 2 AS counted FROM slotguard.stats WHERE function = 'expire_holds';
SELECT status, count(*) FROM slotguard.booking WHERE resource_key = 'sfe:room' GROUP BY status ORDER BY status;
