-- confined (bench/cpu-per-call): slotguard with 1000 resources of tenant
-- acme, a role confined to acme and one not confined (both with the
-- application's grants). The pair runs the same booking as each role.
\set ON_ERROR_STOP on
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_confined') THEN CREATE ROLE bench_confined; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_unconfined') THEN CREATE ROLE bench_unconfined; END IF;
END
$$;
SELECT slotguard.grant_access('bench_confined');
SELECT slotguard.grant_access('bench_unconfined');
SELECT role FROM slotguard.confine('bench_confined', ARRAY['acme']);
SELECT count(slotguard.upsert_resource('acme:r' || i)) AS resources FROM generate_series(1, 1000) AS i;
