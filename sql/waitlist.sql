-- Waitlist (API.md §12): join_waitlist / leave_waitlist; whenever capacity
-- on a resource is freed (cancel_booking, reschedule_booking away,
-- expire_holds, a capacity raise or shorter buffers in upsert_resource) the
-- same transaction offers it: waiting entries whose range now fits, oldest
-- first (one that does not fit does not block later ones), get a held
-- booking for offer_hold and status 'offered'.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

CREATE TEMP TABLE wl_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 720000, false) AS id_base;
SELECT setval('slotguard.waitlist_id_seq', 9000, false) AS entry_base;

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

CREATE VIEW pg_temp.wl AS
SELECT w.id, w.resource_key, w.during, w.seats, w.holder, w.status, w.booking_id, b.status AS booking_status
FROM slotguard.waitlist w LEFT JOIN slotguard.booking b ON b.id = w.booking_id
WHERE w.resource_key LIKE 'wl%:%' ORDER BY w.id;
CREATE VIEW pg_temp.wl_bookings AS
SELECT id, resource_key, during, seats, status, holder, metadata FROM slotguard.booking
WHERE resource_key LIKE 'wl%:%' ORDER BY id;

-- ---------------------------------------------------------------------------
-- Joining: a full slot leaves the entry waiting.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('wl:room', 1);
SELECT id, status FROM slotguard.book_slot('wl:room', '[2030-05-01 10:00+00,2030-05-01 11:00+00)', holder => 'first');  -- 720000
SELECT id, status FROM slotguard.book_slot('wl:room', '[2030-05-01 11:00+00,2030-05-01 12:00+00)', holder => 'second'); -- 720001
-- Oldest: wants 10:00-12:00, which needs both bookings gone.
SELECT id, resource_key, during, seats, holder, status, booking_id, offer_hold, metadata
FROM slotguard.join_waitlist('wl:room', '[2030-05-01 10:00+00,2030-05-01 12:00+00)', holder => 'ann');
-- Then two for 10:00-11:00.
SELECT id, status FROM slotguard.join_waitlist('wl:room', '[2030-05-01 10:00+00,2030-05-01 11:00+00)', holder => 'bob',
                                               offer_hold => '30 minutes', metadata => '{"phone": "555"}');
SELECT id, status FROM slotguard.join_waitlist('wl:room', '[2030-05-01 10:15+00,2030-05-01 10:45+00)', holder => 'cid');
SELECT * FROM pg_temp.wl;

-- ---------------------------------------------------------------------------
-- Rollback of the cancelling transaction leaves the entries waiting.
-- ---------------------------------------------------------------------------
BEGIN;
SELECT status FROM slotguard.cancel_booking(720000);
SELECT id, status, booking_id IS NOT NULL AS has_booking FROM pg_temp.wl;
ROLLBACK;
SELECT * FROM pg_temp.wl;
SELECT * FROM pg_temp.wl_bookings;

-- ---------------------------------------------------------------------------
-- A cancel offers in the same transaction: ann (oldest) does not fit, so bob
-- (next oldest that fits) gets a held booking for his offer_hold, with his
-- holder and metadata; cid (overlapping bob's) keeps waiting.
-- ---------------------------------------------------------------------------
BEGIN;
SELECT status FROM slotguard.cancel_booking(720000);
SELECT b.status, b.holder, b.metadata, b.hold_expires_at = now() + interval '30 minutes' AS expires_after_offer_hold
FROM slotguard.waitlist w JOIN slotguard.booking b ON b.id = w.booking_id WHERE w.id = 9001;
COMMIT;
SELECT * FROM pg_temp.wl;
-- The offered booking takes the slot like any hold.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('wl:room', '[2030-05-01 10:00+00,2030-05-01 11:00+00)')$$);
-- Cancelling again (idempotent) offers nothing more.
SELECT status FROM slotguard.cancel_booking(720000);
SELECT * FROM pg_temp.wl;

-- bob declines (cancels the offered booking): cid is next.
SELECT status FROM slotguard.cancel_booking((SELECT booking_id FROM slotguard.waitlist WHERE id = 9001));
SELECT * FROM pg_temp.wl;

-- ---------------------------------------------------------------------------
-- An offer that lapses is expired by expire_holds, which offers the slot to
-- the next entry. Confirming an offer is confirm_booking.
-- ---------------------------------------------------------------------------
SELECT id, status FROM slotguard.join_waitlist('wl:room', '[2030-05-01 10:00+00,2030-05-01 10:30+00)', holder => 'dan',
                                               offer_hold => '1 millisecond');  -- 9003: waits (cid holds 10:15-10:45)
SELECT id, status FROM slotguard.join_waitlist('wl:room', '[2030-05-01 10:00+00,2030-05-01 10:30+00)', holder => 'eve');
-- cid's offer lapses ...
UPDATE slotguard.booking SET hold_expires_at = now() - interval '1 second'
WHERE id = (SELECT booking_id FROM slotguard.waitlist WHERE id = 9002);
-- ... and expire_holds expires it and offers 10:00-10:30 to dan (oldest).
SELECT slotguard.expire_holds() AS expired;
SELECT * FROM pg_temp.wl;
-- dan's offer (1 ms) lapses too: the next expire_holds passes it to eve.
SELECT pg_sleep(0.01);
SELECT slotguard.expire_holds() AS expired;
SELECT * FROM pg_temp.wl;
-- eve confirms; her entry stays 'offered' with a confirmed booking.
SELECT status FROM slotguard.confirm_booking((SELECT booking_id FROM slotguard.waitlist WHERE id = 9004));
SELECT * FROM pg_temp.wl;

-- ---------------------------------------------------------------------------
-- reschedule_booking away offers the range it left.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('wl:desk', 1);
SELECT id AS desk_booking FROM slotguard.book_slot('wl:desk', '[2030-05-02 09:00+00,2030-05-02 10:00+00)') \gset
SELECT id, status FROM slotguard.join_waitlist('wl:desk', '[2030-05-02 09:00+00,2030-05-02 10:00+00)', holder => 'fay');
SELECT during FROM slotguard.reschedule_booking(:desk_booking, '[2030-05-02 15:00+00,2030-05-02 16:00+00)');
SELECT * FROM pg_temp.wl WHERE resource_key = 'wl:desk';

-- ---------------------------------------------------------------------------
-- A capacity raise and shorter buffers offer; a change that frees nothing
-- does not.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('wl:hall', 1, buffer_after => '30 minutes');
SELECT id FROM slotguard.book_slot('wl:hall', '[2030-05-03 09:00+00,2030-05-03 10:00+00)');  -- blocks until 10:30
SELECT id, status FROM slotguard.join_waitlist('wl:hall', '[2030-05-03 09:00+00,2030-05-03 10:00+00)', holder => 'gus');
SELECT id, status FROM slotguard.join_waitlist('wl:hall', '[2030-05-03 10:00+00,2030-05-03 11:00+00)', holder => 'hal');
SELECT key FROM slotguard.upsert_resource('wl:hall', 1, buffer_after => '30 minutes', kind => 'hall');
SELECT * FROM pg_temp.wl WHERE resource_key = 'wl:hall';
-- Shorter buffers: hal's 10:00 start fits now.
SELECT key FROM slotguard.upsert_resource('wl:hall', 1);
SELECT * FROM pg_temp.wl WHERE resource_key = 'wl:hall';
-- More capacity: gus fits next to the booking.
SELECT key FROM slotguard.upsert_resource('wl:hall', 2);
SELECT * FROM pg_temp.wl WHERE resource_key = 'wl:hall';

-- ---------------------------------------------------------------------------
-- A slot free when joining is offered at once; seats count; one cancel can
-- serve several entries.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('wl:class', 3);
SELECT id, status, booking_id IS NOT NULL AS has_booking
FROM slotguard.join_waitlist('wl:class', '[2030-05-04 18:00+00,2030-05-04 19:00+00)', seats => 3, holder => 'big');
SELECT id, status FROM slotguard.join_waitlist('wl:class', '[2030-05-04 18:00+00,2030-05-04 19:00+00)', seats => 2, holder => 'two');
SELECT id, status FROM slotguard.join_waitlist('wl:class', '[2030-05-04 18:00+00,2030-05-04 19:00+00)', holder => 'one');
SELECT id, status FROM slotguard.join_waitlist('wl:class', '[2030-05-04 18:00+00,2030-05-04 19:00+00)', holder => 'late');
SELECT status FROM slotguard.cancel_booking((SELECT booking_id FROM slotguard.waitlist WHERE holder = 'big'));
SELECT * FROM pg_temp.wl WHERE resource_key = 'wl:class';

-- ---------------------------------------------------------------------------
-- leave_waitlist: true while waiting; false once left or offered.
-- ---------------------------------------------------------------------------
SELECT slotguard.leave_waitlist((SELECT id FROM slotguard.waitlist WHERE holder = 'late')) AS left_waiting;
SELECT slotguard.leave_waitlist((SELECT id FROM slotguard.waitlist WHERE holder = 'late')) AS left_again;
SELECT slotguard.leave_waitlist((SELECT id FROM slotguard.waitlist WHERE holder = 'one')) AS left_offered;
-- A left entry is not offered.
SELECT status FROM slotguard.cancel_booking((SELECT booking_id FROM slotguard.waitlist WHERE holder = 'two'));
SELECT * FROM pg_temp.wl WHERE resource_key = 'wl:class';

-- ---------------------------------------------------------------------------
-- Errors.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist(NULL, '[2030-05-05 10:00+00,2030-05-05 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)', seats => NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)', offer_hold => NULL)$$);
SELECT pg_temp.sqlstate_of('SELECT slotguard.leave_waitlist(NULL)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist(' ', '[2030-05-05 10:00+00,2030-05-05 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)', seats => 0)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)', seats => 2)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)', offer_hold => '0')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)', offer_hold => '-5 minutes')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)', offer_hold => '2 years')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)', holder => repeat('x', 1001))$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', 'empty')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:nowhere', '[2030-05-05 10:00+00,2030-05-05 11:00+00)')$$);
SELECT pg_temp.sqlstate_of('SELECT slotguard.leave_waitlist(-1)');
BEGIN READ ONLY;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-05 10:00+00,2030-05-05 11:00+00)')$$);
SELECT pg_temp.sqlstate_of('SELECT slotguard.leave_waitlist(9000)');
ROLLBACK;
SELECT count(*) AS entries_after_errors FROM slotguard.waitlist WHERE during && '[2030-05-05 00:00+00,2030-05-06 00:00+00)';

-- ---------------------------------------------------------------------------
-- Confinement: the tenant rule and the holder claim.
-- ---------------------------------------------------------------------------
DROP ROLE IF EXISTS regress_wl_tenant, regress_wl_auth;
CREATE ROLE regress_wl_tenant NOLOGIN;
CREATE ROLE regress_wl_auth NOLOGIN;
SELECT slotguard.grant_access('regress_wl_tenant');
SELECT slotguard.grant_access('regress_wl_auth');
SELECT role FROM slotguard.confine('regress_wl_tenant', ARRAY['wl']);
SELECT role FROM slotguard.confine('regress_wl_auth', tenant_claim => 'tenant', holder_claim => 'sub');
SELECT key FROM slotguard.upsert_resource('wlother:room', 1);
SELECT id FROM slotguard.book_slot('wlother:room', '[2030-05-06 10:00+00,2030-05-06 11:00+00)');
SELECT id, status FROM slotguard.join_waitlist('wlother:room', '[2030-05-06 10:00+00,2030-05-06 11:00+00)', holder => 'other');
SELECT id AS other_entry FROM slotguard.waitlist WHERE resource_key = 'wlother:room' \gset

SET ROLE regress_wl_tenant;
-- Its own tenant works; the other tenant's resource and entry do not exist.
SELECT id, status FROM slotguard.join_waitlist('wl:room', '[2030-05-06 10:00+00,2030-05-06 11:00+00)', holder => 'tim');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wlother:room', '[2030-05-06 10:00+00,2030-05-06 11:00+00)')$$);
SELECT pg_temp.sqlstate_of(format('SELECT slotguard.leave_waitlist(%s)', :other_entry));
SELECT pg_temp.sqlstate_of('SELECT slotguard.expire_holds()');  -- an administrator function
RESET ROLE;

BEGIN;
SET LOCAL ROLE regress_wl_auth;
SELECT set_config('request.jwt.claims', '{"tenant":"wl","sub":"pat"}', true) IS NOT NULL AS claims_set;
-- The holder is the claim's; another holder is refused.
SELECT id, holder, status FROM slotguard.join_waitlist('wl:room', '[2030-05-07 10:00+00,2030-05-07 11:00+00)');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.join_waitlist('wl:room', '[2030-05-07 10:00+00,2030-05-07 11:00+00)', holder => 'kim')$$);
-- Another holder's entry in its own tenant does not exist for it.
SELECT pg_temp.sqlstate_of('SELECT slotguard.leave_waitlist(9000)');
-- Its own entry, waiting for a full slot, it may leave.
SELECT id AS pat_entry, status FROM slotguard.join_waitlist('wl:room', '[2030-05-01 11:00+00,2030-05-01 12:00+00)') \gset
SELECT :'status' AS pat_entry_status, slotguard.leave_waitlist(:pat_entry) AS left_own;
COMMIT;
SELECT status FROM slotguard.waitlist WHERE id = :other_entry;
SELECT id, status FROM slotguard.waitlist WHERE holder = 'pat' ORDER BY id;

SELECT slotguard.unconfine(r) FROM unnest(ARRAY['regress_wl_tenant', 'regress_wl_auth']::regrole[]) AS r;
SELECT slotguard.revoke_access(r) FROM unnest(ARRAY['regress_wl_tenant', 'regress_wl_auth']::regrole[]) AS r;
DROP ROLE regress_wl_tenant, regress_wl_auth;

-- The table is the owner's: nobody reads or writes it directly.
SELECT has_table_privilege('public', 'slotguard.waitlist', 'SELECT') AS public_reads;

-- Clean up.
DELETE FROM slotguard.waitlist WHERE resource_key LIKE 'wl%:%';
DELETE FROM slotguard.assignment a USING slotguard.booking b WHERE a.booking_id = b.id AND b.resource_key LIKE 'wl%:%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'wl%:%';
DELETE FROM slotguard.resource WHERE key LIKE 'wl%:%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM wl_saved_seq;
