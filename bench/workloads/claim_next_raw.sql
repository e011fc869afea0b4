-- claim_next_raw: the same job as claim_next_order.sql written by hand on a
-- plain table, the usual SKIP LOCKED queue pattern: lock the oldest ready row
-- nobody else holds, mark it claimed, in one statement. No leases, no
-- fencing, no privileges or constraints beyond the table's own. Setup and how
-- to run: bench/orders.md.
UPDATE bench_orders SET status = 'claimed', claimant = 'worker-' || :client_id, claimed_at = now()
WHERE key = (SELECT key FROM bench_orders WHERE status = 'ready'
             ORDER BY ready_at, key LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING key;
