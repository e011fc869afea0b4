-- Writing functions in a read-only transaction answer 25006 before they
-- look at anything (API.md §6), and write nothing; the queries work. The
-- same on a hot standby: test/hot_standby.sh.
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

-- Booking ids: a range of our own, the sequence restored at the end.
CREATE TEMP TABLE ro_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 1100000, false) AS id_base;

-- Something to write to, made while writing is allowed.
SELECT key FROM slotguard.upsert_resource('ro-room', 1);
SELECT id AS ro_booking FROM slotguard.book_slot('ro-room', '[2033-01-01 10:00+00,2033-01-01 11:00+00)', hold => '1 day') \gset
SELECT id AS ro_other FROM slotguard.book_slot('ro-room', '[2033-01-01 12:00+00,2033-01-01 13:00+00)') \gset
SELECT worker FROM slotguard.assign_workers(:ro_booking, '{ro-wendy}');
SELECT key FROM slotguard.add_order('ro-o1');
SELECT key FROM slotguard.add_order('ro-o2', kind => 'ro', ready => false);
SELECT key FROM slotguard.add_order('ro-o3', kind => 'ro-claimed');
SELECT key, claimant FROM slotguard.claim_order('ro-o3', 'ro-c');
CREATE TABLE ro_visit (id int PRIMARY KEY, room text NOT NULL, during tstzrange NOT NULL);
CREATE TABLE ro_plain (id int PRIMARY KEY, room text NOT NULL, during tstzrange NOT NULL);
SELECT slotguard.protect('ro_visit', 'room', 'during');
CREATE TEMP TABLE ro_before AS
SELECT (SELECT count(*) FROM slotguard.booking) AS bookings,
       (SELECT count(*) FROM slotguard.assignment) AS assignments,
       (SELECT string_agg(key || '=' || status || '/' || coalesce(claimant, '-'), ' ' ORDER BY key)
          FROM slotguard.orders WHERE key LIKE 'ro-%') AS orders,
       (SELECT count(*) FROM slotguard.guard) AS guards;

-- Every writing function, each with good arguments and once with NULLs.
SET default_transaction_read_only = on;
SELECT f, pg_temp.sqlstate_of(q) FROM (VALUES
    ('upsert_resource', 'SELECT slotguard.upsert_resource(''ro-room'', 2)'),
    ('upsert_resource(new key)', 'SELECT slotguard.upsert_resource(''ro-new'')'),
    ('book_slot', 'SELECT slotguard.book_slot(''ro-room'', ''[2033-01-02 10:00+00,2033-01-02 11:00+00)'')'),
    ('book_slot(NULLs)', 'SELECT slotguard.book_slot(NULL, NULL)'),
    ('try_book_slot', 'SELECT slotguard.try_book_slot(''ro-room'', ''[2033-01-02 10:00+00,2033-01-02 11:00+00)'')'),
    ('confirm_booking', 'SELECT slotguard.confirm_booking(' || :ro_booking || ')'),
    ('confirm_booking(NULLs)', 'SELECT slotguard.confirm_booking(NULL)'),
    ('cancel_booking', 'SELECT slotguard.cancel_booking(' || :ro_booking || ')'),
    ('reschedule_booking', 'SELECT slotguard.reschedule_booking(' || :ro_booking || ', ''[2033-01-01 14:00+00,2033-01-01 15:00+00)'')'),
    ('assign_workers', 'SELECT slotguard.assign_workers(' || :ro_other || ', ''{ro-walt}'')'),
    ('unassign_worker', 'SELECT slotguard.unassign_worker(' || :ro_booking || ', ''ro-wendy'')'),
    ('add_order', 'SELECT slotguard.add_order(''ro-o9'')'),
    ('set_order_ready', 'SELECT slotguard.set_order_ready(''ro-o2'')'),
    ('claim_order', 'SELECT slotguard.claim_order(''ro-o1'', ''ro-c'')'),
    ('try_claim_order', 'SELECT slotguard.try_claim_order(''ro-o1'', ''ro-c'')'),
    ('claim_next_order', 'SELECT slotguard.claim_next_order(''ro-c'')'),
    ('claim_next_order(kind)', 'SELECT slotguard.claim_next_order(''ro-c'', ''ro'')'),
    ('release_order', 'SELECT slotguard.release_order(''ro-o3'', ''ro-c'')'),
    ('complete_order', 'SELECT slotguard.complete_order(''ro-o3'', ''ro-c'')'),
    ('protect', 'SELECT slotguard.protect(''ro_plain'', ''room'', ''during'')'),
    ('unprotect', 'SELECT slotguard.unprotect(''ro_visit'')'),
    ('configure_shard', 'SELECT slotguard.configure_shard(0, 1)'),
    ('configure_shard(NULLs)', 'SELECT slotguard.configure_shard(NULL, NULL)')
) v(f, q);

-- The queries work.
SELECT count(*) > 0 AS free_slots
FROM slotguard.free_slots('ro-room', '[2033-01-01 00:00+00,2033-01-02 00:00+00)', '1 hour');
SELECT during, free_seats FROM slotguard.availability('ro-room', '[2033-01-01 09:00+00,2033-01-01 14:00+00)');
SELECT during, resource_key FROM slotguard.worker_schedule('ro-wendy', '[2033-01-01 00:00+00,2033-01-02 00:00+00)');
SELECT shard_number, shard_count FROM slotguard.shard_info();
SELECT slotguard.tenant_of('acme:room');

-- The same inside BEGIN READ ONLY, where the message names the function.
RESET default_transaction_read_only;
BEGIN READ ONLY;
SELECT slotguard.book_slot('ro-room', '[2033-01-02 10:00+00,2033-01-02 11:00+00)');
ROLLBACK;
BEGIN READ ONLY;
SELECT slotguard.claim_order('ro-o1', 'ro-c');
ROLLBACK;
BEGIN TRANSACTION READ ONLY;
SELECT during, free_seats FROM slotguard.availability('ro-room', '[2033-01-01 09:00+00,2033-01-01 14:00+00)');
COMMIT;

-- Nothing was written.
SELECT (SELECT count(*) FROM slotguard.booking) = bookings AS same_bookings,
       (SELECT count(*) FROM slotguard.assignment) = assignments AS same_assignments,
       (SELECT string_agg(key || '=' || status || '/' || coalesce(claimant, '-'), ' ' ORDER BY key)
          FROM slotguard.orders WHERE key LIKE 'ro-%') AS orders,
       (SELECT count(*) FROM slotguard.guard) = guards AS same_guards
FROM ro_before;

-- Clean up for later files.
SELECT slotguard.unprotect('ro_visit');
DROP TABLE ro_visit, ro_plain;
DELETE FROM slotguard.assignment WHERE worker LIKE 'ro-%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'ro-%';
DELETE FROM slotguard.resource WHERE key LIKE 'ro-%';
DELETE FROM slotguard.orders WHERE key LIKE 'ro-%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM ro_saved_seq;
