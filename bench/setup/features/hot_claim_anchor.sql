-- hot-claim / anchor (the seed's check-and-set): from bench/orders.md (setup-hot-seed). psql var: nhot.
-- database bench_orders_hot_seed
\set ON_ERROR_STOP on
-- The seed's table, constraint and index (driver-assignment fix, section 2).
CREATE TABLE seed_orders (
    id        int PRIMARY KEY,
    status    text NOT NULL,
    driver_id text,
    CONSTRAINT check_driver_status_consistency CHECK (
        (driver_id IS NULL AND status IN ('pending', 'ready', 'cancelled'))
        OR (driver_id IS NOT NULL AND status IN ('driver_assigned', 'delivered', 'cancelled')))
);
CREATE INDEX idx_orders_available_for_driver ON seed_orders (status, driver_id)
    WHERE status = 'ready' AND driver_id IS NULL;
INSERT INTO seed_orders (id, status) SELECT i, 'ready' FROM generate_series(1, :nhot) AS i;
CREATE SEQUENCE bench_refused;
