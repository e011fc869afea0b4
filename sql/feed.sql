-- The change feed (API.md §13): enable_change_feed() / disable_change_feed(),
-- slotguard.change rows written in the changing transaction with the event
-- of each change, changes(after, max) returning only rows of ended
-- transactions in seq order, trim_changes(before), confinement, read-only
-- transactions. seq values depend on transaction ids: only their order is
-- shown. Keys of this file start with 'fd'.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

CREATE TEMP TABLE fd_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 800000, false) AS id_base;

CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- The feed rows of this file since a mark, in seq order.
CREATE TEMP TABLE fd_mark (seq bigint);
INSERT INTO fd_mark VALUES (0);
CREATE VIEW pg_temp.fd_new AS
SELECT c.tenant, c.entity,
       CASE WHEN c.entity = 'assignment' THEN 'of ' || (c.data ->> 'booking_id') ELSE c.id END AS id,
       c.event, c.data ->> 'status' AS status
FROM slotguard.changes((SELECT seq FROM fd_mark), 100000) c
WHERE c.tenant LIKE 'fd%' ORDER BY c.seq;
CREATE FUNCTION pg_temp.fd_advance() RETURNS void LANGUAGE sql AS $$
UPDATE fd_mark SET seq = coalesce((SELECT max(seq) FROM slotguard.changes((SELECT seq FROM fd_mark), 100000)), seq)
$$;

-- ---------------------------------------------------------------------------
-- Arguments; off by default.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.changes(NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.changes(0, NULL)$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.changes(0, 0)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.trim_changes(NULL)$$);
SELECT count(*) AS feed_triggers FROM pg_trigger WHERE tgname = 'slotguard_change_feed';
SELECT key FROM slotguard.upsert_resource('fd:room', 2);
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-01 09:00+00,2031-05-01 10:00+00)');
SELECT count(*) AS rows_while_off FROM slotguard.change WHERE tenant LIKE 'fd%';

-- ---------------------------------------------------------------------------
-- On: a trigger per feed table; enabling twice changes nothing.
-- ---------------------------------------------------------------------------
SELECT slotguard.enable_change_feed();
SELECT slotguard.enable_change_feed();
CREATE VIEW pg_temp.fd_triggers AS
SELECT tgrelid::regclass AS feed_table, tgenabled, encode(tgargs, 'escape') AS args FROM pg_trigger
WHERE tgname = 'slotguard_change_feed' AND tgrelid::regclass::text IN ('slotguard.booking', 'slotguard.assignment', 'slotguard.orders')
ORDER BY tgrelid::regclass::text;
SELECT * FROM fd_triggers;
-- Without NOTIFY (consumers that only poll), and back.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.enable_change_feed(NULL)$$);
SELECT slotguard.enable_change_feed(notify => false);
SELECT * FROM fd_triggers;
SELECT slotguard.enable_change_feed();
SELECT * FROM fd_triggers;

-- ---------------------------------------------------------------------------
-- Bookings: booked, held, confirmed, rescheduled, cancelled.
-- ---------------------------------------------------------------------------
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-01 10:00+00,2031-05-01 11:00+00)');
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-01 11:00+00,2031-05-01 12:00+00)', hold => '1 day', holder => 'hank');
SELECT id FROM slotguard.confirm_booking(800002);
SELECT id FROM slotguard.reschedule_booking(800001, '[2031-05-01 13:00+00,2031-05-01 14:00+00)');
SELECT id FROM slotguard.cancel_booking(800001);
SELECT * FROM fd_new;
-- A reschedule carries the range it had.
SELECT c.data -> 'previous' ->> 'during' AS previous_during, c.data ->> 'during' AS during
FROM slotguard.changes((SELECT seq FROM fd_mark)) c WHERE c.tenant = 'fd' AND c.event = 'rescheduled';
SELECT pg_temp.fd_advance();

-- A refused booking, a metadata-only edit and a no-op confirm write nothing.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('fd:room', '[2031-05-01 11:00+00,2031-05-01 12:00+00)', seats => 2)$$);
UPDATE slotguard.booking SET metadata = '{"note": 1}' WHERE id = 800002;
SELECT id FROM slotguard.confirm_booking(800002);
SELECT count(*) AS nothing_new FROM fd_new;

-- Idempotent replays write nothing either; the first call does.
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-02 09:00+00,2031-05-02 10:00+00)', idempotency_key => 'fd-k1');
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-02 09:00+00,2031-05-02 10:00+00)', idempotency_key => 'fd-k1');
SELECT * FROM fd_new;
SELECT pg_temp.fd_advance();

-- The owner's own DML is a change too: INSERT, DELETE of a live booking.
INSERT INTO slotguard.booking (resource_key, during, status, hold_expires_at)
VALUES ('fd:room', '[2031-05-03 09:00+00,2031-05-03 10:00+00)', 'held', '2031-01-01');
DELETE FROM slotguard.booking WHERE id = 800004;
SELECT * FROM fd_new;
SELECT pg_temp.fd_advance();

-- ---------------------------------------------------------------------------
-- Assignments and orders: assigned, unassigned, claimed, released,
-- completed, cancelled.
-- ---------------------------------------------------------------------------
SELECT worker FROM slotguard.assign_workers(800002, '{fd:wendy}');
SELECT slotguard.unassign_worker(800002, 'fd:wendy');
SELECT key FROM slotguard.add_order('fd:o1');
SELECT key FROM slotguard.claim_order('fd:o1', 'carl');
SELECT key FROM slotguard.release_order('fd:o1', 'carl');
SELECT key FROM slotguard.claim_next_order('carl', NULL) WHERE key LIKE 'fd%';
SELECT key FROM slotguard.complete_order('fd:o1', 'carl');
SELECT key FROM slotguard.add_order('fd:o2');
UPDATE slotguard.orders SET status = 'cancelled' WHERE key = 'fd:o2';
SELECT * FROM fd_new;
SELECT pg_temp.fd_advance();

-- ---------------------------------------------------------------------------
-- Events of rows other 1.2 features write (booking status 'expired',
-- orders 'failed'/'dead', the waitlist's 'offered'/'left'): the trigger
-- derives them from the row change alone. Tables of the same shape stand in
-- here (the entity is the table's name).
-- ---------------------------------------------------------------------------
CREATE SCHEMA fd_standin;
CREATE TABLE fd_standin.booking (id bigint, resource_key text, during tstzrange, seats int, status text, holder text,
                                 hold_expires_at timestamptz);
CREATE TABLE fd_standin.orders (key text, status text, claimant text, attempts int, claim_token bigint);
CREATE TABLE fd_standin.waitlist (id bigint, resource_key text, during tstzrange, seats int, holder text, status text,
                                  booking_id bigint);
CREATE TRIGGER slotguard_change_feed AFTER INSERT OR UPDATE OR DELETE ON fd_standin.booking
    FOR EACH ROW EXECUTE FUNCTION slotguard.change_feed_trigger();
CREATE TRIGGER slotguard_change_feed AFTER INSERT OR UPDATE OR DELETE ON fd_standin.orders
    FOR EACH ROW EXECUTE FUNCTION slotguard.change_feed_trigger();
CREATE TRIGGER slotguard_change_feed AFTER INSERT OR UPDATE OR DELETE ON fd_standin.waitlist
    FOR EACH ROW EXECUTE FUNCTION slotguard.change_feed_trigger();
INSERT INTO fd_standin.booking VALUES (1, 'fdx:room', '[2031-05-01 09:00+00,2031-05-01 10:00+00)', 1, 'held', 'h', now());
UPDATE fd_standin.booking SET status = 'expired';
INSERT INTO fd_standin.orders VALUES ('fdx:o', 'ready', NULL, 0, NULL);
UPDATE fd_standin.orders SET status = 'claimed', claimant = 'c', claim_token = 1;
UPDATE fd_standin.orders SET status = 'ready', claimant = NULL, attempts = 1;
UPDATE fd_standin.orders SET status = 'claimed', claimant = 'c', claim_token = 2;
-- A lease renewal (same claim) is no event.
UPDATE fd_standin.orders SET claimant = 'c';
UPDATE fd_standin.orders SET status = 'dead', claimant = NULL, attempts = 2;
INSERT INTO fd_standin.waitlist VALUES (7, 'fdx:room', '[2031-05-01 09:00+00,2031-05-01 10:00+00)', 1, 'w', 'waiting');
UPDATE fd_standin.waitlist SET status = 'offered', booking_id = 1;
INSERT INTO fd_standin.waitlist VALUES (8, 'fdx:room', '[2031-05-01 09:00+00,2031-05-01 10:00+00)', 1, 'w', 'waiting');
UPDATE fd_standin.waitlist SET status = 'left' WHERE id = 8;
SELECT * FROM fd_new;
SELECT pg_temp.fd_advance();
DROP SCHEMA fd_standin CASCADE;

-- ---------------------------------------------------------------------------
-- Transactions: a rolled-back change is never returned; an open one is not
-- returned yet (not even to itself), and is once it commits.
-- ---------------------------------------------------------------------------
BEGIN;
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-04 09:00+00,2031-05-04 10:00+00)');
ROLLBACK;
BEGIN;
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-04 10:00+00,2031-05-04 11:00+00)');
SAVEPOINT s;
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-04 11:00+00,2031-05-04 12:00+00)');
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS own_open_rows FROM fd_new;
SELECT count(*) AS written_so_far FROM slotguard.change WHERE tenant = 'fd' AND id IN ('800005', '800006', '800007');
COMMIT;
SELECT * FROM fd_new;
SELECT pg_temp.fd_advance();

-- seq: the writer's xid8 in the high bits, ascending within a transaction.
BEGIN;
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-05 09:00+00,2031-05-05 10:00+00)');
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-05 10:00+00,2031-05-05 11:00+00)');
SELECT (seq >> 20)::text = pg_current_xact_id()::text AS seq_has_xid, seq & 1048575 AS n
FROM slotguard.change WHERE tenant = 'fd' AND id IN ('800008', '800009') ORDER BY seq;
COMMIT;
SELECT pg_temp.fd_advance();

-- max bounds the answer; the rest comes on the next call.
SELECT count(*) AS first_page FROM slotguard.changes(0, 2);

-- ---------------------------------------------------------------------------
-- Read-only transactions: changes() works, the writers answer 25006.
-- ---------------------------------------------------------------------------
BEGIN READ ONLY;
SELECT count(*) > 0 AS reads FROM slotguard.changes(0);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.trim_changes(now())$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.enable_change_feed()$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.disable_change_feed()$$);
COMMIT;

-- ---------------------------------------------------------------------------
-- Confinement: a confined caller reads its tenants' rows, with a holder
-- claim only its own bookings'; it may not switch the feed.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('fdb:room', 1);
SELECT id FROM slotguard.book_slot('fdb:room', '[2031-05-01 09:00+00,2031-05-01 10:00+00)', holder => 'bea');
SELECT id FROM slotguard.book_slot('fdb:room', '[2031-05-01 10:00+00,2031-05-01 11:00+00)', holder => 'bob');
DROP ROLE IF EXISTS regress_fd_a, regress_fd_holder;
CREATE ROLE regress_fd_a NOLOGIN;
CREATE ROLE regress_fd_holder NOLOGIN;
SELECT slotguard.grant_access('regress_fd_a', admin => true);
SELECT slotguard.grant_access('regress_fd_holder');
SELECT role FROM slotguard.confine('regress_fd_a', ARRAY['fdb']);
SELECT role FROM slotguard.confine('regress_fd_holder', tenant_claim => 'tenant', holder_claim => 'sub');
SET ROLE regress_fd_a;
SELECT tenant, entity, id, event FROM slotguard.changes(0) WHERE tenant LIKE 'fd%' ORDER BY seq;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.enable_change_feed()$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.disable_change_feed()$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.change$$);
RESET ROLE;
SET request.jwt.claims = '{"tenant": "fdb", "sub": "bob"}';
SET ROLE regress_fd_holder;
SELECT tenant, entity, id, event, data ->> 'holder' AS holder FROM slotguard.changes(0) ORDER BY seq;
RESET ROLE;
RESET request.jwt.claims;
-- trim_changes of a confined administrator removes its tenants' rows only.
SET ROLE regress_fd_a;
SELECT slotguard.trim_changes('infinity') AS trimmed_by_fdb;
RESET ROLE;
SELECT count(*) > 0 AS others_kept FROM slotguard.change WHERE tenant = 'fd';

-- ---------------------------------------------------------------------------
-- session_replication_role = replica (a logical replication apply): the
-- trigger is ENABLE ORIGIN, so replicated rows are not recorded twice.
-- ---------------------------------------------------------------------------
SET session_replication_role = replica;
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-06 09:00+00,2031-05-06 10:00+00)');
RESET session_replication_role;
SELECT count(*) AS nothing_recorded FROM fd_new;

-- A trigger on slotguard.change itself (a DBA's audit) still fires: the
-- change row then goes through SQL instead of straight into the table.
CREATE TABLE public.fd_audit (seq bigint);
CREATE FUNCTION public.fd_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.fd_audit VALUES (NEW.seq); RETURN NULL; END $$;
CREATE TRIGGER fd_audit AFTER INSERT ON slotguard.change FOR EACH ROW EXECUTE FUNCTION public.fd_audit();
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-06 10:00+00,2031-05-06 11:00+00)');
SELECT c.event, c.id FROM public.fd_audit a JOIN slotguard.change c USING (seq);
DROP TRIGGER fd_audit ON slotguard.change;
DROP TABLE public.fd_audit;
DROP FUNCTION public.fd_audit();
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-06 11:00+00,2031-05-06 12:00+00)');
SELECT event, id FROM fd_new;
SELECT pg_temp.fd_advance();

-- ---------------------------------------------------------------------------
-- trim_changes, and off again.
-- ---------------------------------------------------------------------------
SELECT slotguard.trim_changes('-infinity') AS trimmed_nothing;
SELECT slotguard.trim_changes('infinity') > 0 AS trimmed_all;
SELECT slotguard.disable_change_feed();
SELECT slotguard.disable_change_feed();
SELECT count(*) AS feed_triggers FROM pg_trigger WHERE tgname = 'slotguard_change_feed';
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-07 09:00+00,2031-05-07 10:00+00)');
SELECT count(*) AS rows_while_off FROM slotguard.change;

-- A trigger of the feed's name that is not the feed's is not stood in for:
-- book_slot leaves the insert to SQL, which fires it.
CREATE TABLE public.fd_fired (n int);
CREATE FUNCTION public.fd_fake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.fd_fired VALUES (1); RETURN NULL; END $$;
CREATE TRIGGER slotguard_change_feed AFTER INSERT ON slotguard.booking FOR EACH ROW EXECUTE FUNCTION public.fd_fake();
SELECT id FROM slotguard.book_slot('fd:room', '[2031-05-07 10:00+00,2031-05-07 11:00+00)');
SELECT count(*) AS fake_fired FROM public.fd_fired;
SELECT count(*) AS rows_written FROM slotguard.change;
DROP TRIGGER slotguard_change_feed ON slotguard.booking;
DROP TABLE public.fd_fired;
DROP FUNCTION public.fd_fake();

-- Clean up.
SELECT slotguard.unconfine(r) FROM unnest(ARRAY['regress_fd_a', 'regress_fd_holder']::regrole[]) AS r;
SELECT slotguard.revoke_access(r) FROM unnest(ARRAY['regress_fd_a', 'regress_fd_holder']::regrole[]) AS r;
DROP ROLE regress_fd_a, regress_fd_holder;
DELETE FROM slotguard.assignment a USING slotguard.booking b WHERE a.booking_id = b.id AND b.resource_key LIKE 'fd%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'fd%';
DELETE FROM slotguard.resource WHERE key LIKE 'fd%';
DELETE FROM slotguard.orders WHERE key LIKE 'fd%';
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM fd_saved_seq;
