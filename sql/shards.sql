-- Shards for scale-out (API.md §9, docs/scale-out.md): tenant_of,
-- configure_shard and shard_info on a slotguard database. The coordinator
-- side (slotguard_proxy) is exercised by test/scale_out.sh on real clusters.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';

CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE TEMP TABLE shards_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;

-- The shard key: the part of a key before its first ':'.
SELECT k, slotguard.tenant_of(k)
FROM (VALUES ('acme:room-1'), ('acme:ana'), ('acme'), ('a:b:c'), (':x'), ('')) v(k);
-- A NULL key is an error (22004), as for every function (API.md §6, 1.2).
SELECT pg_temp.sqlstate_of('SELECT slotguard.tenant_of(NULL)') AS tenant_of_null;

-- Not configured: one shard of one, and its ids route here.
SELECT shard_number, shard_count, ids_route_here FROM slotguard.shard_info();

-- Bad arguments change nothing.
SELECT q, pg_temp.sqlstate_of(q) FROM (VALUES
    ('SELECT slotguard.configure_shard(NULL, 4)'),
    ('SELECT slotguard.configure_shard(1, NULL)'),
    ('SELECT slotguard.configure_shard(0, 3)'),
    ('SELECT slotguard.configure_shard(0, 0)'),
    ('SELECT slotguard.configure_shard(0, 2048)'),
    ('SELECT slotguard.configure_shard(4, 4)'),
    ('SELECT slotguard.configure_shard(-1, 4)')) v(q);

-- A database that already made bookings whose ids would route elsewhere is
-- refused (55000): shard first, book afterwards.
SELECT setval('slotguard.booking_id_seq', 800001, false) IS NOT NULL AS id_base;
SELECT id FROM slotguard.book_slot('shards:room', '[2030-01-01 10:00Z, 2030-01-01 11:00Z)');
SELECT pg_temp.sqlstate_of('SELECT slotguard.configure_shard(0, 2)');
SELECT count(*) AS shard_rows FROM slotguard.shard_config;

-- An empty database becomes shard 1 of 4: every id it makes is 1 (mod 4).
BEGIN;
DELETE FROM slotguard.assignment;
DELETE FROM slotguard.booking;
SELECT shard_number, shard_count FROM slotguard.configure_shard(1, 4);
SELECT id, id % 4 AS low_bits
FROM slotguard.book_slot('shards:room', '[2030-01-02 10:00Z, 2030-01-02 11:00Z)')
UNION ALL
SELECT id, id % 4 FROM slotguard.book_slot('shards:room', '[2030-01-02 11:00Z, 2030-01-02 12:00Z)');
SELECT shard_number, shard_count, ids_route_here, bookings FROM slotguard.shard_info();
-- A restored dump keeps shard_config and the sequence's value, not its step:
-- shard_info says so, and configuring again with the same numbers mends it.
ALTER SEQUENCE slotguard.booking_id_seq INCREMENT BY 1;
SELECT ids_route_here FROM slotguard.shard_info();
SELECT shard_number, shard_count FROM slotguard.configure_shard(1, 4);
SELECT ids_route_here FROM slotguard.shard_info();
SELECT id % 4 AS low_bits FROM slotguard.book_slot('shards:room', '[2030-01-02 12:00Z, 2030-01-02 13:00Z)');
ROLLBACK;

-- Only the owner configures shards; shard_info and tenant_of come with grant_access (1.2: PUBLIC gets nothing).
SELECT has_function_privilege('public', 'slotguard.configure_shard(int, int)', 'EXECUTE') AS public_configures,
       has_function_privilege('public', 'slotguard.shard_info()', 'EXECUTE') AS public_reads_info,
       has_function_privilege('public', 'slotguard.tenant_of(text)', 'EXECUTE') AS public_tenant_of;

-- Leave the sequence as it was for the files after this one.
ALTER SEQUENCE slotguard.booking_id_seq INCREMENT BY 1;
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM shards_saved_seq;
SELECT shard_number, shard_count, ids_route_here FROM slotguard.shard_info();
