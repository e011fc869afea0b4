-- claim_next_orders: a worker pool taking orders ten at a time (API.md §14):
-- one call claims up to 10 claimable orders, highest priority then oldest,
-- skipping rows other sessions hold, each with its own fencing token.
-- Per-order rate = 10 x tps while the queue lasts (bench/orders_queue/run.sh
-- counts the claimed rows after each run).
SELECT count(*) FROM slotguard.claim_next_orders('worker-' || :client_id, max => 10);
