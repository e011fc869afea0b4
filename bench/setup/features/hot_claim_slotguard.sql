-- hot-claim / slotguard: from bench/orders.md (setup-hot-slotguard). psql var: nhot.
-- database bench_orders_hot_slotguard
\set ON_ERROR_STOP on
CREATE EXTENSION slotguard CASCADE;
SELECT count(slotguard.add_order('hot-' || i)) AS orders FROM generate_series(1, :nhot) AS i;
CREATE SEQUENCE bench_refused;
-- claim_order raises 55P03 for a loser; pgbench would end the client.
CREATE FUNCTION bench_claim(order_key text, claimant text) RETURNS int
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM slotguard.claim_order(order_key, claimant);
    RETURN 1;
EXCEPTION WHEN lock_not_available THEN
    PERFORM nextval('bench_refused');
    RETURN 0;
END
$$;
