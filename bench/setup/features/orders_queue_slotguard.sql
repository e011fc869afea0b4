-- orders-queue / slotguard: from bench/orders.md (setup-next-slotguard). psql var: norders.
-- database bench_orders_next_slotguard
\set ON_ERROR_STOP on
CREATE EXTENSION slotguard CASCADE;
-- One call: all orders share ready_at, so the key orders the queue.
SELECT count(slotguard.add_order('q-' || lpad(i::text, 8, '0'))) AS orders
FROM generate_series(1, :norders) AS i;
VACUUM ANALYZE slotguard.orders;
CREATE VIEW bench_result AS
SELECT count(*) FILTER (WHERE status = 'claimed') AS claimed,
       count(*) FILTER (WHERE status = 'ready') AS ready,
       count(DISTINCT key) FILTER (WHERE status = 'claimed') AS distinct_claimed
FROM slotguard.orders;
