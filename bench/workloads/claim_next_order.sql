-- claim_next_order: a worker pool draining a queue through slotguard. Each
-- transaction claims the oldest claimable order (FOR UPDATE SKIP LOCKED
-- inside; expired leases count as claimable). A NULL result means the queue
-- ran dry: size norders above clients x transactions. Setup and how to run:
-- bench/orders.md. Compare with claim_next_raw.sql.
SELECT key FROM slotguard.claim_next_order('worker-' || :client_id);
