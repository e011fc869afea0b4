-- The minimal anchor of issue 18: a plain table, a (ready_at) WHERE status =
-- 'ready' index and nothing else beyond the primary key. psql var: norders.
\set ON_ERROR_STOP on
CREATE TABLE bench_anchor (
    key        text PRIMARY KEY,
    status     text NOT NULL,
    claimant   text,
    claimed_at timestamptz,
    ready_at   timestamptz NOT NULL
);
INSERT INTO bench_anchor (key, status, ready_at)
SELECT 'q-' || lpad(i::text, 8, '0'), 'ready', now() - (:norders - i) * interval '1 ms'
FROM generate_series(1, :norders) AS i;
CREATE INDEX bench_anchor_ready_idx ON bench_anchor (ready_at) WHERE status = 'ready';
VACUUM ANALYZE bench_anchor;
CREATE VIEW bench_claimed AS SELECT count(*) AS claimed, count(DISTINCT key) AS distinct_claimed
FROM bench_anchor WHERE status = 'claimed';
