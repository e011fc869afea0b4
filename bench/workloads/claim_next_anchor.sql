-- claim_next_anchor: the minimal hand-written SKIP LOCKED queue (issue 18's
-- anchor): one UPDATE of the oldest ready row nobody else holds, on a table
-- whose only queue index is (ready_at) WHERE status = 'ready'. No leases, no
-- fencing, no priorities. Setup: bench/orders_queue/setup_anchor.sql; run by
-- bench/orders_queue/run.sh next to claim_next_order.sql and
-- claim_next_orders.sql.
UPDATE bench_anchor SET status = 'claimed', claimant = 'worker-' || :client_id, claimed_at = now()
WHERE key = (SELECT key FROM bench_anchor WHERE status = 'ready' ORDER BY ready_at LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING key;
