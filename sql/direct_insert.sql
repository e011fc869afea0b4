-- book_slot / try_book_slot write a new booking straight into the table as a
-- speculative insertion (docs/concurrency.md), not through an SQL INSERT.
-- The row must be the one an INSERT would make (the table's own defaults),
-- a refusal must use no booking id, and anything on the table an INSERT
-- would run that the direct path does not (here: another INSERT trigger)
-- sends the call back through SQL.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TEMP TABLE di_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 300000, false) AS id_base;

SELECT key FROM slotguard.upsert_resource('di:room', 1, buffer_after => '15 minutes');

-- Defaults (id, created_at, updated_at) come from the table; blocked from
-- the resource's buffers; holder and metadata as given.
SELECT id, status, seats, holder, metadata, hold_expires_at IS NULL AS no_expiry,
       created_at = now() AS created_now, updated_at = now() AS updated_now, blocked
FROM slotguard.book_slot('di:room', '[2030-05-01 10:00+00,2030-05-01 11:00+00)', holder => 'h1',
                         metadata => '{"a": 1}');

-- A refusal draws no id: the next booking gets the next one.
SELECT booking_id, conflicts FROM slotguard.try_book_slot('di:room', '[2030-05-01 10:30+00,2030-05-01 11:30+00)');
SELECT id, status, hold_expires_at = now() + interval '10 minutes' AS expiry
FROM slotguard.book_slot('di:room', '[2030-05-02 10:00+00,2030-05-02 11:00+00)', hold => '10 minutes');

-- Visible to the rest of the transaction, like an inserted row.
BEGIN;
SELECT booking_id FROM slotguard.try_book_slot('di:room', '[2030-05-03 10:00+00,2030-05-03 11:00+00)');
SELECT id, during FROM slotguard.booking WHERE resource_key = 'di:room' AND lower(during) >= '2030-05-03' ORDER BY id;
ROLLBACK;
SELECT count(*) AS after_rollback FROM slotguard.booking WHERE resource_key = 'di:room' AND lower(during) >= '2030-05-03';

-- Another INSERT trigger on the table still fires for API bookings.
CREATE TABLE public.di_log (booking_id bigint);
CREATE FUNCTION public.di_log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.di_log VALUES (NEW.id);
    RETURN NEW;
END $$;
CREATE TRIGGER di_log AFTER INSERT ON slotguard.booking FOR EACH ROW EXECUTE FUNCTION public.di_log_insert();
SELECT booking_id FROM slotguard.try_book_slot('di:room', '[2030-05-04 10:00+00,2030-05-04 11:00+00)');
SELECT booking_id FROM slotguard.try_book_slot('di:room', '[2030-05-04 10:30+00,2030-05-04 11:30+00)') WHERE booking_id IS NOT NULL;
SELECT * FROM public.di_log ORDER BY 1;
DROP TRIGGER di_log ON slotguard.booking;
SELECT booking_id FROM slotguard.try_book_slot('di:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)');
SELECT * FROM public.di_log ORDER BY 1;
DROP TABLE public.di_log;
DROP FUNCTION public.di_log_insert();

-- Clean up (DELETE needs no check).
DELETE FROM slotguard.booking WHERE resource_key LIKE 'di:%';
DELETE FROM slotguard.resource WHERE key LIKE 'di:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM di_saved_seq;
