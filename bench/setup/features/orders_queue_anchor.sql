-- orders-queue / anchor (raw SKIP LOCKED queue): from bench/orders.md (setup-next-raw). psql var: norders.
-- database bench_orders_next_raw
\set ON_ERROR_STOP on
CREATE TABLE bench_orders (
    key        text PRIMARY KEY,
    status     text NOT NULL,
    claimant   text,
    claimed_at timestamptz,
    ready_at   timestamptz NOT NULL
);
CREATE INDEX bench_orders_ready_idx ON bench_orders (ready_at, key) WHERE status = 'ready';
INSERT INTO bench_orders (key, status, ready_at)
SELECT 'q-' || lpad(i::text, 8, '0'), 'ready', now() FROM generate_series(1, :norders) AS i;
VACUUM ANALYZE bench_orders;
CREATE VIEW bench_result AS
SELECT count(*) FILTER (WHERE status = 'claimed') AS claimed,
       count(*) FILTER (WHERE status = 'ready') AS ready,
       count(DISTINCT key) FILTER (WHERE status = 'claimed') AS distinct_claimed
FROM bench_orders;
