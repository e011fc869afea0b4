-- claim_hot_seed: the seed's own fix (seeds/004_3cc46831a9239617.txt,
-- "Atomic Check-and-Set"): one UPDATE ... WHERE status = 'ready' AND
-- driver_id IS NULL; zero rows means "already assigned" (HTTP 409). Same
-- order choice as claim_hot_slotguard.sql; the winner puts the order back
-- in a second transaction. No leases, no fencing, no idempotent retry.
-- Setup and how to run: bench/orders.md.
\set k random(1, :nhot)
WITH won AS (
    UPDATE seed_orders SET driver_id = 'driver-' || :client_id, status = 'driver_assigned'
    WHERE id = :k AND status = 'ready' AND driver_id IS NULL
    RETURNING 1
)
SELECT count(*) AS won FROM won \gset
\if :won
UPDATE seed_orders SET driver_id = NULL, status = 'ready' WHERE id = :k AND driver_id = 'driver-' || :client_id;
\else
SELECT nextval('bench_refused');
\endif
