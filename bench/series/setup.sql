SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS slotguard CASCADE;
SELECT count(slotguard.upsert_resource('b' || i)) FROM generate_series(0, 999) AS i;
SELECT count(slotguard.upsert_resource('a' || i)) FROM generate_series(0, 9) AS i;
-- Three of the ten are taken in every hour (of 50000): a0-a2, the first in
-- list order, so the loop tries 4 resources before one is free.
INSERT INTO slotguard.booking (resource_key, during, blocked)
SELECT 'a' || i, r, r FROM generate_series(0, 2) AS i, generate_series(0, 49999) AS h,
    LATERAL (SELECT tstzrange(timestamptz '2030-01-01 00:00+00' + h * interval '1 hour',
                              timestamptz '2030-01-01 01:00+00' + h * interval '1 hour') AS r) x;
CREATE FUNCTION bench_try_each(resources text[], during tstzrange) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r text;
    got bigint;
BEGIN
    FOREACH r IN ARRAY resources LOOP
        SELECT t.booking_id INTO got FROM slotguard.try_book_slot(r, during) AS t;
        IF got IS NOT NULL THEN
            RETURN got;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'no resource free' USING ERRCODE = 'exclusion_violation';
END
$$;
CREATE TABLE bench_setup AS SELECT max(id) AS last_setup_id FROM slotguard.booking;
VACUUM ANALYZE;
