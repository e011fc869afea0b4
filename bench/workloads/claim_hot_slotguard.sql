-- claim_hot_slotguard: drivers fighting over a few orders (seeds/004 at
-- scale). Each transaction picks one of nhot orders at random and claims it
-- with slotguard.claim_order; the winner releases it again in a second
-- transaction, so the orders stay contended for the whole run. A loser's
-- 55P03 is counted by bench_claim (a plpgsql wrapper: pgbench would end the
-- client on an error). Setup and how to run: bench/orders.md. Compare with
-- claim_hot_seed.sql.
\set k random(1, :nhot)
SELECT bench_claim('hot-' || :k, 'driver-' || :client_id) AS won \gset
\if :won
SELECT key FROM slotguard.release_order('hot-' || :k, 'driver-' || :client_id);
\endif
