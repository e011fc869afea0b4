-- slotguard's queue with what the anchor lacks: three priorities (so the
-- claim order is priority DESC, ready_at, key), fencing tokens on every
-- claim, leases, the table rules. psql var: norders.
\set ON_ERROR_STOP on
CREATE EXTENSION slotguard CASCADE;
SELECT count(slotguard.add_order('q-' || lpad(i::text, 8, '0'), priority => i % 3)) AS orders
FROM generate_series(1, :norders) AS i;
VACUUM ANALYZE slotguard.orders;
CREATE VIEW bench_claimed AS SELECT count(*) AS claimed, count(DISTINCT key) AS distinct_claimed,
       count(DISTINCT claim_token) AS distinct_tokens
FROM slotguard.orders WHERE status = 'claimed';
