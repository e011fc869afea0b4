-- Hold expiry (API.md §12): expire_holds(max) marks lapsed holds 'expired'
-- (at most max per call, oldest first); an expired booking takes no
-- capacity; confirm_booking of one behaves as for a lapsed hold (55000
-- unless the slot is still free, then re-checked and confirmed).
--
-- Expiring deterministically, as in holds.sql: a hold of 1 millisecond made
-- in one statement has lapsed for every later transaction once
-- pg_sleep(0.01) has run in between.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TEMP TABLE exp_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 710000, false) AS id_base;

CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN detail <> '' THEN ' / ' || detail ELSE '' END;
END
$$;

CREATE VIEW pg_temp.exp_bookings AS
SELECT id, resource_key, during, status, holder, hold_expires_at IS NOT NULL AS has_expiry
FROM slotguard.booking WHERE resource_key LIKE 'exp:%' ORDER BY id;

-- Nothing else's lapsed holds may be in the way of the counts below.
SELECT slotguard.expire_holds() >= 0 AS cleared_before;

-- ---------------------------------------------------------------------------
-- Lapsed holds become 'expired'; live holds and confirmed bookings stay.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('exp:room', 1);
SELECT id, status FROM slotguard.book_slot('exp:room', '[2030-03-01 09:00+00,2030-03-01 10:00+00)', holder => 'h1', hold => '1 millisecond');
SELECT id, status FROM slotguard.book_slot('exp:room', '[2030-03-01 10:00+00,2030-03-01 11:00+00)', holder => 'h2', hold => '1 millisecond');
SELECT id, status FROM slotguard.book_slot('exp:room', '[2030-03-01 11:00+00,2030-03-01 12:00+00)', holder => 'h3', hold => '1 millisecond');
SELECT id, status FROM slotguard.book_slot('exp:room', '[2030-03-01 12:00+00,2030-03-01 13:00+00)', holder => 'live', hold => '1 hour');
SELECT id, status FROM slotguard.book_slot('exp:room', '[2030-03-01 13:00+00,2030-03-01 14:00+00)', holder => 'conf');
SELECT pg_sleep(0.01);
-- At most max per call, oldest expiry first.
SELECT slotguard.expire_holds(2) AS expired_first;
SELECT * FROM pg_temp.exp_bookings;
SELECT slotguard.expire_holds() AS expired_then;
SELECT slotguard.expire_holds() AS expired_again;
SELECT * FROM pg_temp.exp_bookings;

-- An expired booking takes no capacity: its slot can be booked, and
-- free_slots and availability show it free.
SELECT s FROM slotguard.free_slots('exp:room', '[2030-03-01 09:00+00,2030-03-01 12:00+00)', '1 hour') AS s;
SELECT * FROM slotguard.availability('exp:room', '[2030-03-01 09:00+00,2030-03-01 14:00+00)');
SELECT id, status FROM slotguard.book_slot('exp:room', '[2030-03-01 10:00+00,2030-03-01 11:00+00)', holder => 'taker');

-- ---------------------------------------------------------------------------
-- confirm_booking of an 'expired' booking: confirmed when the slot is still
-- free (re-checked), 55000 when it has been taken.
-- ---------------------------------------------------------------------------
SELECT status, hold_expires_at FROM slotguard.confirm_booking(710000);
SELECT pg_temp.sqlstate_of('SELECT slotguard.confirm_booking(710001)');
-- Other calls treat it as a lapsed hold: no reschedule, no workers.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.reschedule_booking(710002, '[2030-03-02 11:00+00,2030-03-02 12:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.assign_workers(710002, ARRAY['exp:w1'])$$);
-- cancel_booking of an expired booking: cancelled.
SELECT status FROM slotguard.cancel_booking(710002);
SELECT * FROM pg_temp.exp_bookings;

-- A confirm running in another session holds the row: expire_holds skips it
-- (SKIP LOCKED) instead of waiting (specs/expire_holds_vs_confirm.spec).

-- ---------------------------------------------------------------------------
-- Errors.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of('SELECT slotguard.expire_holds(NULL)');
SELECT pg_temp.sqlstate_of('SELECT slotguard.expire_holds(0)');
SELECT pg_temp.sqlstate_of('SELECT slotguard.expire_holds(-1)');
SELECT pg_temp.sqlstate_of('SELECT slotguard.expire_holds(2000000)');
BEGIN READ ONLY;
SELECT pg_temp.sqlstate_of('SELECT slotguard.expire_holds()');
ROLLBACK;
-- The status CHECK knows 'expired' and nothing else new.
SELECT split_part(pg_temp.sqlstate_of($$UPDATE slotguard.booking SET status = 'lapsed' WHERE id = 710003$$), ' / ', 1);

-- ---------------------------------------------------------------------------
-- Confinement: a confined administrator expires only its tenants' holds.
-- ---------------------------------------------------------------------------
DROP ROLE IF EXISTS regress_exp_admin;
CREATE ROLE regress_exp_admin NOLOGIN;
SELECT slotguard.grant_access('regress_exp_admin', admin => true);
SELECT role FROM slotguard.confine('regress_exp_admin', ARRAY['exp']);
SELECT key FROM slotguard.upsert_resource('expother:room', 1);
SELECT id, status FROM slotguard.book_slot('exp:room', '[2030-03-05 09:00+00,2030-03-05 10:00+00)', hold => '1 millisecond');
SELECT id, status FROM slotguard.book_slot('expother:room', '[2030-03-05 09:00+00,2030-03-05 10:00+00)', hold => '1 millisecond');
SELECT pg_sleep(0.01);
SET ROLE regress_exp_admin;
SELECT slotguard.expire_holds() AS expired_by_confined;
RESET ROLE;
SELECT resource_key, status FROM slotguard.booking WHERE id IN (710006, 710007) ORDER BY id;
SELECT slotguard.expire_holds() AS expired_by_owner;
SELECT slotguard.unconfine('regress_exp_admin');
SELECT slotguard.revoke_access('regress_exp_admin');
DROP ROLE regress_exp_admin;

-- Clean up.
DELETE FROM slotguard.assignment a USING slotguard.booking b WHERE a.booking_id = b.id AND b.resource_key LIKE 'exp%:%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'exp%:%';
DELETE FROM slotguard.resource WHERE key LIKE 'exp%:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM exp_saved_seq;
