-- claim_hot_slotguard: drivers fighting over a few orders (seeds/004 at
-- scale). Each transaction picks one of nhot orders at random and claims it
-- with slotguard.try_claim_order (claim_order's non-raising form: a loser
-- gets NULL instead of 55P03, which pgbench would end the client on); the
-- winner releases it again in a second transaction, so the orders stay
-- contended for the whole run; a loser counts itself in bench_refused, as
-- in claim_hot_seed.sql. Setup and how to run: bench/orders.md.
\set k random(1, :nhot)
SELECT (slotguard.try_claim_order('hot-' || :k, 'driver-' || :client_id)).key IS NOT NULL AS won \gset
\if :won
SELECT key FROM slotguard.release_order('hot-' || :k, 'driver-' || :client_id);
\else
SELECT nextval('bench_refused');
\endif
