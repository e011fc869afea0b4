SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SET TIME ZONE 'UTC';
-- While the API writes rows it has already checked, the guard triggers on
-- slotguard.booking let them through. That used to be one global switch:
-- (1) any subtransaction ending (an EXCEPTION block in a user's trigger)
-- switched it off in the middle of the API's statement, so its own rows
-- were checked a second time; (2) while it was on, a user's trigger that
-- wrote slotguard.booking itself skipped the check and could overbook.
-- Now it holds only for the API's own statement, at its level.
SET track_functions = 'all';
-- Calls of the guard trigger function in this transaction so far (pending
-- statistics also hold calls of earlier transactions not yet flushed, so
-- a test compares two readings in one transaction).
CREATE FUNCTION pg_temp.guard_calls() RETURNS bigint LANGUAGE sql AS
$$ SELECT coalesce(pg_stat_get_xact_function_calls('slotguard.booking_guard'::regproc), 0) $$;
-- 'ok', or the error's SQLSTATE and message.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT key FROM slotguard.upsert_resource('nested-room', 1);
SELECT id AS first FROM slotguard.book_slot('nested-room', '[2030-01-01 10:00+00, 2030-01-01 11:00+00)') \gset
SELECT id AS second FROM slotguard.book_slot('nested-room', '[2030-01-01 12:00+00, 2030-01-01 13:00+00)') \gset

-- (1) A user's BEFORE trigger with an EXCEPTION block, sorting before the
-- guard triggers: the cancel's own row is still not checked again.
CREATE FUNCTION public.audit_booking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM 1 / 0;
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
    RETURN NEW;
END $$;
CREATE TRIGGER a_audit BEFORE UPDATE ON slotguard.booking
    FOR EACH ROW EXECUTE FUNCTION public.audit_booking();
BEGIN;
SELECT pg_temp.guard_calls() AS before \gset
SELECT status FROM slotguard.cancel_booking(:second);
SELECT pg_temp.guard_calls() - :before AS guard_calls;
ROLLBACK;
DROP TRIGGER a_audit ON slotguard.booking;

-- (2) A user's AFTER trigger that writes an overlapping booking directly
-- while the API cancels another one: that write is the user's, and checked.
CREATE FUNCTION public.rebook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'cancelled' THEN
        INSERT INTO slotguard.booking (resource_key, during, seats, status)
        VALUES ('nested-room', '[2030-01-01 10:30+00, 2030-01-01 11:30+00)', 1, 'confirmed');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER z_rebook AFTER UPDATE ON slotguard.booking
    FOR EACH ROW EXECUTE FUNCTION public.rebook();
SELECT pg_temp.try('SELECT slotguard.cancel_booking(' || :second || ')');
DROP TRIGGER z_rebook ON slotguard.booking;
SELECT during, status FROM slotguard.booking WHERE resource_key = 'nested-room' ORDER BY during;

-- And the API itself still writes without a second check.
BEGIN;
SELECT pg_temp.guard_calls() AS before \gset
SELECT status FROM slotguard.cancel_booking(:second);
SELECT pg_temp.guard_calls() - :before AS guard_calls;
COMMIT;
DROP FUNCTION public.audit_booking(), public.rebook();
-- Leave no bookings behind for the tests after this one.
DELETE FROM slotguard.booking WHERE resource_key = 'nested-room';
DELETE FROM slotguard.resource WHERE key = 'nested-room';
