-- hot-claim / slotguard: from bench/orders.md (setup-hot-slotguard). psql var: nhot.
-- database bench_orders_hot_slotguard
\set ON_ERROR_STOP on
CREATE EXTENSION slotguard CASCADE;
SELECT count(slotguard.add_order('hot-' || i)) AS orders FROM generate_series(1, :nhot) AS i;
CREATE SEQUENCE bench_refused;
