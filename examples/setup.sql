-- What a DBA runs once for the example services (psql -f setup.sql, as a
-- superuser or the extension's owner): the extension, and the application's
-- login role. A fresh 1.2 install grants PUBLIC nothing; grant_access gives
-- the role the booking, worker, order and query functions (not
-- upsert_resource, protect or confine: those stay with the DBA).
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN
        CREATE ROLE app LOGIN PASSWORD 'app-secret';
    END IF;
END $$;
SELECT slotguard.grant_access('app');
