-- Seed 003's classes, for the Python example (run as the DBA after
-- ../setup.sql). The application keeps its own `classes` table; slotguard
-- keeps the seats: one resource per class, capacity = the class size.
CREATE TABLE IF NOT EXISTS classes (
    id        int PRIMARY KEY,
    title     text NOT NULL,
    capacity  int NOT NULL CHECK (capacity > 0),
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL
);
GRANT SELECT ON classes TO app;
-- Resources of the classes, in step with the table (capacity is an admin
-- setting: upsert_resource is not in the application's grant).
CREATE OR REPLACE FUNCTION classes_sync_resource() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM slotguard.upsert_resource('cooking:class-' || NEW.id, NEW.capacity, kind => 'class');
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION classes_sync_resource() FROM PUBLIC;
DROP TRIGGER IF EXISTS classes_sync_resource ON classes;
CREATE TRIGGER classes_sync_resource AFTER INSERT OR UPDATE OF capacity ON classes
    FOR EACH ROW EXECUTE FUNCTION classes_sync_resource();
