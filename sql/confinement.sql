-- Tenant confinement (API.md §8 (1.2)): slotguard.confine(role, tenants |
-- tenant_claim, holder_claim). A confined caller sees and touches only its
-- tenants' resources, bookings, workers and orders, through every
-- function: another tenant's object behaves as if it did not exist (P0002,
-- no row, no id in a message), creating in another tenant is 42501. The
-- caller is the current role (current_user), also through SECURITY DEFINER
-- functions; claims come from request.jwt.claims as PostgREST sets them.
SET client_min_messages = warning;
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

CREATE TEMP TABLE conf_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;
SELECT setval('slotguard.booking_id_seq', 910000, false) AS id_base;

-- 'ok', or the SQLSTATE and message of the statement's error.
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
-- The same with the DETAIL too.
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' / ' || nullif(d, ''), '');
END
$$;

DROP ROLE IF EXISTS regress_conf_a, regress_conf_member, regress_conf_free, regress_conf_auth, regress_conf_staff;
CREATE ROLE regress_conf_a NOLOGIN;        -- staff of tenant conf-a, with admin functions
CREATE ROLE regress_conf_member NOLOGIN IN ROLE regress_conf_a;  -- a member of it
CREATE ROLE regress_conf_free NOLOGIN;     -- not confined
CREATE ROLE regress_conf_auth NOLOGIN;     -- PostgREST's "authenticated": tenant and holder from claims
CREATE ROLE regress_conf_staff NOLOGIN;    -- tenant from a claim, any holder
SELECT slotguard.grant_access('regress_conf_a', admin => true);
SELECT slotguard.grant_access('regress_conf_member');
SELECT slotguard.grant_access('regress_conf_free', admin => true);
SELECT slotguard.grant_access('regress_conf_auth');
SELECT slotguard.grant_access('regress_conf_staff');

-- ---------------------------------------------------------------------------
-- confine / unconfine / confinements
-- ---------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confine(NULL, ARRAY['conf-a'])$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confine('regress_conf_a')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confine('regress_conf_a', ARRAY['conf-a'], tenant_claim => 'tenant')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confine('regress_conf_a', '{}')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confine('regress_conf_a', ARRAY['conf-a', NULL])$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confine('regress_conf_a', ARRAY[' '])$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confine('regress_conf_a', ARRAY['conf-a:room'])$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confine('regress_conf_a', tenant_claim => ' ')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.unconfine(NULL)$$);
SELECT role, tenants, tenant_claim, holder_claim FROM slotguard.confine('regress_conf_a', ARRAY['conf-x']);
-- Confining again replaces the confinement.
SELECT role, tenants, tenant_claim, holder_claim FROM slotguard.confine('regress_conf_a', ARRAY['conf-a']);
SELECT role, tenants, tenant_claim, holder_claim
FROM slotguard.confine('regress_conf_auth', tenant_claim => 'tenant', holder_claim => 'sub');
SELECT role, tenants, tenant_claim, holder_claim FROM slotguard.confine('regress_conf_staff', tenant_claim => 'tenant');
SELECT role, tenants, tenant_claim, holder_claim FROM slotguard.confinements ORDER BY role::text;
-- The table is kept by pg_dump; nobody but its owner reads or writes it.
SELECT c.relname, c.oid = ANY (x.extconfig) AS dumped
FROM pg_class c, pg_extension x WHERE x.extname = 'slotguard' AND c.oid = 'slotguard.confinement'::regclass;
SELECT has_table_privilege('regress_conf_free', 'slotguard.confinement', 'SELECT') AS free_reads_table,
       has_table_privilege('regress_conf_free', 'slotguard.confinements', 'SELECT') AS admin_reads_view,
       has_table_privilege('regress_conf_auth', 'slotguard.confinements', 'SELECT') AS app_reads_view;

-- ---------------------------------------------------------------------------
-- The other tenant's objects, made by the owner (not confined).
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('conf-a:room', 1);
SELECT key FROM slotguard.upsert_resource('conf-b:room', 1);
SELECT id AS b1 FROM slotguard.book_slot('conf-b:room', '[2031-01-01 10:00+00,2031-01-01 11:00+00)', holder => 'pb',
                                         hold => '1 day') \gset
SELECT count(*) FROM slotguard.assign_workers(:b1, ARRAY['conf-b:w']);
SELECT key FROM slotguard.add_order('conf-b:o1');
-- An unknown id, to compare messages with.
SELECT :b1 + 100000 AS unknown \gset

-- ---------------------------------------------------------------------------
-- A role confined to conf-a: its own tenant works ...
-- ---------------------------------------------------------------------------
SET ROLE regress_conf_a;
SELECT key, capacity FROM slotguard.upsert_resource('conf-a:room', 2);
SELECT id AS a1, holder FROM slotguard.book_slot('conf-a:room', '[2031-01-01 10:00+00,2031-01-01 11:00+00)',
                                                 hold => '1 day', holder => 'staff') \gset
SELECT booking_id IS NOT NULL AS booked FROM slotguard.try_book_slot('conf-a:room', '[2031-01-01 12:00+00,2031-01-01 13:00+00)');
SELECT status FROM slotguard.confirm_booking(:a1);
SELECT during FROM slotguard.reschedule_booking(:a1, '[2031-01-01 10:30+00,2031-01-01 11:30+00)');
SELECT * FROM slotguard.free_slots('conf-a:room', '[2031-01-01 09:00+00,2031-01-01 12:00+00)', '1 hour', '30 minutes');
SELECT * FROM slotguard.availability('conf-a:room', '[2031-01-01 09:00+00,2031-01-01 12:00+00)');
SELECT worker, status FROM slotguard.assign_workers(:a1, ARRAY['conf-a:w']);
SELECT booking_id = :a1 AS own, resource_key FROM slotguard.worker_schedule('conf-a:w', '[2031-01-01,2031-01-02)');
SELECT slotguard.unassign_worker(:a1, 'conf-a:w') AS was_active;
SELECT key, status FROM slotguard.add_order('conf-a:o1', ready => false);
SELECT key, status FROM slotguard.set_order_ready('conf-a:o1');
SELECT key, status, claimant FROM slotguard.claim_order('conf-a:o1', 'd1');
SELECT key, status FROM slotguard.release_order('conf-a:o1', 'd1');
SELECT key, status FROM slotguard.try_claim_order('conf-a:o1', 'd1');
SELECT key, status FROM slotguard.complete_order('conf-a:o1', 'd1');
-- A conflict in its own tenant names its own booking.
SELECT regexp_replace(pg_temp.error_of($$SELECT slotguard.book_slot('conf-a:room', '[2031-01-01 10:00+00,2031-01-01 11:00+00)', seats => 2)$$),
                      '\d{6}', 'N', 'g') AS own_conflict;

-- ... another tenant's objects are as if they did not exist (P0002, no row),
-- and creating there is 42501.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('conf-b:room', '[2031-01-02 10:00+00,2031-01-02 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('conf-b:room', '[2031-01-02 10:00+00,2031-01-02 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('conf-b:room', 5)$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.upsert_resource('conf-b:new', 5)$$);
-- Without auto-create (a superuser's setting), exactly what an unknown
-- resource answers.
RESET ROLE;
SET slotguard.auto_create_resources = off;
SET ROLE regress_conf_a;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('conf-b:room', '[2031-01-02 10:00+00,2031-01-02 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('conf-b:nothing', '[2031-01-02 10:00+00,2031-01-02 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.try_book_slot('conf-b:room', '[2031-01-02 10:00+00,2031-01-02 11:00+00)')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.free_slots('conf-b:room', '[2031-01-01 09:00+00,2031-01-01 12:00+00)', '1 hour')$$);
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.availability('conf-b:room', '[2031-01-01 09:00+00,2031-01-01 12:00+00)')$$);
RESET ROLE;
RESET slotguard.auto_create_resources;
SET ROLE regress_conf_a;
-- With auto-create, an unknown resource is all free: so is another tenant's
-- (its booking at 10:00 does not show).
SELECT * FROM slotguard.free_slots('conf-b:room', '[2031-01-01 09:00+00,2031-01-01 12:00+00)', '1 hour');
SELECT * FROM slotguard.availability('conf-b:room', '[2031-01-01 09:00+00,2031-01-01 12:00+00)');
-- Id-based calls: another tenant's booking is an unknown id, same message.
SELECT replace(pg_temp.sqlstate_of(format('SELECT slotguard.confirm_booking(%s)', :b1)), :'b1', 'ID') AS foreign_id,
       replace(pg_temp.sqlstate_of(format('SELECT slotguard.confirm_booking(%s)', :unknown)), :'unknown', 'ID') AS unknown_id;
SELECT replace(pg_temp.sqlstate_of(format('SELECT slotguard.cancel_booking(%s)', :b1)), :'b1', 'ID') AS cancel;
SELECT replace(pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2031-01-03 10:00+00,2031-01-03 11:00+00)')$$, :b1)), :'b1', 'ID') AS reschedule;
SELECT replace(pg_temp.sqlstate_of(format($$SELECT slotguard.assign_workers(%s, ARRAY['conf-a:w'])$$, :b1)), :'b1', 'ID') AS assign;
SELECT replace(pg_temp.sqlstate_of(format($$SELECT slotguard.unassign_worker(%s, 'conf-b:w')$$, :b1)), :'b1', 'ID') AS unassign;
-- Workers: naming another tenant's worker on one's own booking is 42501;
-- its schedule is empty; unassigning it finds nothing.
SELECT pg_temp.sqlstate_of(format($$SELECT slotguard.assign_workers(%s, ARRAY['conf-a:w', 'conf-b:w'])$$, :a1));
SELECT count(*) AS foreign_schedule FROM slotguard.worker_schedule('conf-b:w', '[2031-01-01,2031-01-02)');
SELECT slotguard.unassign_worker(:a1, 'conf-b:w') AS foreign_unassigned;
-- Orders.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.add_order('conf-b:o2')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.set_order_ready('conf-b:o1')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.claim_order('conf-b:o1', 'd1')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.try_claim_order('conf-b:o1', 'd1')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.release_order('conf-b:o1', 'd1')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.complete_order('conf-b:o1', 'd1')$$);
-- Order keys carry their tenant: conf-a:o1 (done above) and conf-b:o1 are
-- two orders; the confined role cannot see conf-b:o1.
SELECT key, status FROM slotguard.add_order('conf-a:o2');
-- claim_next_order takes the tenant's oldest ready order, never conf-b:o1
-- (older, and ready), and then none.
SELECT key, claimant FROM slotguard.claim_next_order('d2');
SELECT slotguard.claim_next_order('d2') IS NULL AS none_left;
SELECT key, claimant FROM slotguard.claim_next_order('d2', 'no-such-kind');
RESET ROLE;
SELECT key, status FROM slotguard.orders WHERE key IN ('conf-a:o1', 'conf-b:o1') ORDER BY key;
-- Nothing of conf-b changed.
SELECT status, holder FROM slotguard.booking WHERE id = :b1;
SELECT key, capacity FROM slotguard.resource WHERE key LIKE 'conf-b:%' ORDER BY key;
SELECT worker, status FROM slotguard.assignment WHERE booking_id = :b1;

-- A member of a confined role is confined too.
SET ROLE regress_conf_member;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('conf-b:room', '[2031-01-02 10:00+00,2031-01-02 11:00+00)')$$);
SELECT status FROM slotguard.book_slot('conf-a:room', '[2031-01-02 10:00+00,2031-01-02 11:00+00)');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- The caller is the current role. An error unwinds the switch to the
-- owner like any other: after slotguard's error is caught, current_user
-- is the caller again; after a call that returns, too.
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.user_after_caught_error() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM slotguard.book_slot('conf-b:room', '[2031-01-02 10:00+00,2031-01-02 11:00+00)');
    EXCEPTION WHEN insufficient_privilege THEN
        RETURN current_user || ' after ' || SQLSTATE;
    END;
    RETURN 'no error';
END
$$;
SET ROLE regress_conf_a;
SELECT pg_temp.user_after_caught_error();
SELECT current_user AS after_return FROM slotguard.free_slots('conf-a:room', '[2031-01-05 09:00+00,2031-01-05 10:00+00)', '1 hour');
SELECT current_user AS after_srf, count(*) FROM slotguard.try_book_slot('conf-a:room', '[2031-01-05 09:00+00,2031-01-05 10:00+00)');
RESET ROLE;

-- Through a SECURITY DEFINER function, its owner is the caller (current_user
-- semantics): a confined role may use an unconfined role's function ...
CREATE FUNCTION public.regress_conf_book_b(during tstzrange) RETURNS bigint LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog AS $$ SELECT id FROM slotguard.book_slot('conf-b:room', during) $$;
ALTER FUNCTION public.regress_conf_book_b(tstzrange) OWNER TO regress_conf_free;
-- ... and a confined role's function confines whoever calls it.
CREATE FUNCTION public.regress_conf_book_as_a(during tstzrange) RETURNS bigint LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog AS $$ SELECT id FROM slotguard.book_slot('conf-b:room', during) $$;
ALTER FUNCTION public.regress_conf_book_as_a(tstzrange) OWNER TO regress_conf_a;
SET ROLE regress_conf_a;
SELECT public.regress_conf_book_b('[2031-01-06 10:00+00,2031-01-06 11:00+00)') IS NOT NULL AS booked_through_definer;
RESET ROLE;
SELECT pg_temp.sqlstate_of($$SELECT public.regress_conf_book_as_a('[2031-01-06 12:00+00,2031-01-06 13:00+00)')$$)
    AS superuser_through_confined_definer;

-- ---------------------------------------------------------------------------
-- Claims, as PostgREST sends them: per request, in a transaction, SET LOCAL
-- ROLE and set_config('request.jwt.claims', ..., true). The "authenticated"
-- role serves every tenant and patient: tenant and holder come from claims.
-- ---------------------------------------------------------------------------
SELECT key FROM slotguard.upsert_resource('conf-a:dr', 1);
BEGIN;
SET LOCAL ROLE regress_conf_auth;
SELECT set_config('request.jwt.claims', '{"tenant":"conf-a","sub":"p1","role":"regress_conf_auth"}', true) IS NOT NULL AS claims_set;
-- A patient books for themself: holder = the claim.
SELECT id AS p1_booking, holder FROM slotguard.book_slot('conf-a:dr', '[2031-02-01 10:00+00,2031-02-01 11:00+00)',
                                                         hold => '1 day') \gset
SELECT :'holder' AS holder;
SELECT holder FROM slotguard.book_slot('conf-a:dr', '[2031-02-01 12:00+00,2031-02-01 13:00+00)', holder => 'p1');
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('conf-a:dr', '[2031-02-01 14:00+00,2031-02-01 15:00+00)', holder => 'p2')$$);
SELECT status FROM slotguard.confirm_booking(:p1_booking);
COMMIT;
BEGIN;
SET LOCAL ROLE regress_conf_auth;
SELECT set_config('request.jwt.claims', '{"tenant":"conf-a","sub":"p2"}', true) IS NOT NULL AS claims_set;
SELECT id AS p2_booking FROM slotguard.book_slot('conf-a:dr', '[2031-02-01 16:00+00,2031-02-01 17:00+00)') \gset
-- Patient 2 cannot see, confirm, cancel, move or staff patient 1's booking.
SELECT replace(pg_temp.sqlstate_of(format('SELECT slotguard.cancel_booking(%s)', :p1_booking)), :'p1_booking', 'ID') AS cancel_other;
SELECT replace(pg_temp.sqlstate_of(format('SELECT slotguard.confirm_booking(%s)', :p1_booking)), :'p1_booking', 'ID') AS confirm_other;
SELECT replace(pg_temp.sqlstate_of(format($$SELECT slotguard.reschedule_booking(%s, '[2031-02-02 10:00+00,2031-02-02 11:00+00)')$$, :p1_booking)), :'p1_booking', 'ID') AS move_other;
SELECT replace(pg_temp.sqlstate_of(format($$SELECT slotguard.assign_workers(%s, '{}')$$, :p1_booking)), :'p1_booking', 'ID') AS assign_other;
-- A conflict with patient 1's booking names no id of it.
SELECT pg_temp.error_of($$SELECT slotguard.book_slot('conf-a:dr', '[2031-02-01 10:30+00,2031-02-01 11:30+00)')$$) AS conflict_detail;
SELECT booking_id, conflicts, cardinality(suggestions) > 0 AS has_suggestions
FROM slotguard.try_book_slot('conf-a:dr', '[2031-02-01 10:30+00,2031-02-01 11:30+00)');
SELECT pg_temp.error_of(format($$SELECT slotguard.reschedule_booking(%s, '[2031-02-01 10:30+00,2031-02-01 11:30+00)')$$, :p2_booking)) AS move_conflict;
-- Free-slot queries stay allowed (patient 1's hour shows as taken).
SELECT * FROM slotguard.free_slots('conf-a:dr', '[2031-02-01 09:00+00,2031-02-01 12:00+00)', '1 hour');
-- Its own booking it may cancel.
SELECT status FROM slotguard.cancel_booking(:p2_booking);
COMMIT;
-- Another tenant in the claims: conf-a is out of reach.
BEGIN;
SET LOCAL ROLE regress_conf_auth;
SELECT set_config('request.jwt.claims', '{"tenant":"conf-b","sub":"p1"}', true) IS NOT NULL AS claims_set;
SELECT replace(pg_temp.sqlstate_of(format('SELECT slotguard.cancel_booking(%s)', :p1_booking)), :'p1_booking', 'ID') AS other_tenant;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('conf-a:dr', '[2031-02-03 10:00+00,2031-02-03 11:00+00)')$$);
COMMIT;
-- A missing or unreadable claim is 42501.
BEGIN;
SET LOCAL ROLE regress_conf_auth;
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.free_slots('conf-a:dr', '[2031-02-01 09:00+00,2031-02-01 12:00+00)', '1 hour')$$) AS no_claims;
SELECT set_config('request.jwt.claims', '{"sub":"p1"}', true) IS NOT NULL AS claims_set;
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.free_slots('conf-a:dr', '[2031-02-01 09:00+00,2031-02-01 12:00+00)', '1 hour')$$) AS no_tenant;
SELECT set_config('request.jwt.claims', '{"tenant":"conf-a"}', true) IS NOT NULL AS claims_set;
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.free_slots('conf-a:dr', '[2031-02-01 09:00+00,2031-02-01 12:00+00)', '1 hour')$$) AS no_sub;
SELECT set_config('request.jwt.claims', '{"tenant":', true) IS NOT NULL AS claims_set;
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.free_slots('conf-a:dr', '[2031-02-01 09:00+00,2031-02-01 12:00+00)', '1 hour')$$) AS bad_json;
SELECT set_config('request.jwt.claims', '{"tenant":{"id":"conf-a"},"sub":"p1"}', true) IS NOT NULL AS claims_set;
SELECT pg_temp.sqlstate_of($$SELECT * FROM slotguard.free_slots('conf-a:dr', '[2031-02-01 09:00+00,2031-02-01 12:00+00)', '1 hour')$$) AS not_a_string;
COMMIT;
-- Staff of a tenant (tenant claim, no holder claim) manage every booking of it.
BEGIN;
SET LOCAL ROLE regress_conf_staff;
SELECT set_config('request.jwt.claims', '{"tenant":"conf-a","sub":"s1"}', true) IS NOT NULL AS claims_set;
SELECT holder FROM slotguard.cancel_booking(:p1_booking);
SELECT replace(pg_temp.sqlstate_of(format('SELECT slotguard.cancel_booking(%s)', :b1)), :'b1', 'ID') AS other_tenant;
COMMIT;

-- ---------------------------------------------------------------------------
-- Idempotency keys are scoped by tenant: one key, two tenants, two bookings.
-- ---------------------------------------------------------------------------
SELECT id AS ka FROM slotguard.book_slot('conf-a:room', '[2031-03-01 10:00+00,2031-03-01 11:00+00)', idempotency_key => 'conf-key') \gset
SELECT id AS kb FROM slotguard.book_slot('conf-b:room', '[2031-03-01 10:00+00,2031-03-01 11:00+00)', idempotency_key => 'conf-key') \gset
SELECT :ka <> :kb AS two_bookings;
SELECT id = :ka AS replay_a FROM slotguard.book_slot('conf-a:room', '[2031-03-01 10:00+00,2031-03-01 11:00+00)', idempotency_key => 'conf-key');
SELECT id = :kb AS replay_b FROM slotguard.book_slot('conf-b:room', '[2031-03-01 10:00+00,2031-03-01 11:00+00)', idempotency_key => 'conf-key');
-- Within a tenant the key still names one booking.
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('conf-a:other', '[2031-03-01 10:00+00,2031-03-01 11:00+00)', idempotency_key => 'conf-key')$$);

-- shard_info counted every tenant's rows for a confined caller too (one
-- tenant learnt the others' volume): it counts the caller's tenants only.
SELECT count(*) FILTER (WHERE slotguard.tenant_of(key) = 'conf-a') AS own_resources,
       count(*) AS all_resources FROM slotguard.resource \gset
SELECT (SELECT count(*) FROM slotguard.booking WHERE slotguard.tenant_of(resource_key) = 'conf-a') AS own_bookings,
       (SELECT count(*) FROM slotguard.orders WHERE slotguard.tenant_of(key) = 'conf-a') AS own_orders \gset
SELECT :own_resources < :all_resources AS other_tenants_exist;
SET ROLE regress_conf_a;
SELECT resources = :own_resources AS own_resources, bookings = :own_bookings AS own_bookings,
       orders = :own_orders AS own_orders
FROM slotguard.shard_info();
RESET ROLE;
SELECT resources = :all_resources AS unconfined_sees_all FROM slotguard.shard_info();

-- ---------------------------------------------------------------------------
-- Changes apply at once (the cached confinements are dropped), and a
-- confined role may not change confinements.
-- ---------------------------------------------------------------------------
SET ROLE regress_conf_a;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.unconfine('regress_conf_a')$$);
SELECT pg_temp.sqlstate_of($$SELECT slotguard.confine('regress_conf_free', ARRAY['conf-a'])$$);
RESET ROLE;
SELECT slotguard.unconfine('regress_conf_a') AS unconfined;
SELECT slotguard.unconfine('regress_conf_a') AS again;
SET ROLE regress_conf_a;
SELECT resource_key FROM slotguard.book_slot('conf-b:room', '[2031-03-02 10:00+00,2031-03-02 11:00+00)');
RESET ROLE;
BEGIN;
SELECT role FROM slotguard.confine('regress_conf_a', ARRAY['conf-a']);
SET LOCAL ROLE regress_conf_a;
SELECT pg_temp.sqlstate_of($$SELECT slotguard.book_slot('conf-b:room', '[2031-03-03 10:00+00,2031-03-03 11:00+00)')$$) AS confined_in_same_transaction;
ROLLBACK;
SET ROLE regress_conf_a;
SELECT resource_key FROM slotguard.book_slot('conf-b:room', '[2031-03-04 10:00+00,2031-03-04 11:00+00)') AS after_rollback;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Clean up.
-- ---------------------------------------------------------------------------
SELECT slotguard.unconfine(r) FROM unnest(ARRAY['regress_conf_auth', 'regress_conf_staff']::regrole[]) AS r;
SELECT count(*) AS confinements_left FROM slotguard.confinements WHERE role::text LIKE 'regress_conf%';
DROP FUNCTION public.regress_conf_book_b(tstzrange), public.regress_conf_book_as_a(tstzrange);
DELETE FROM slotguard.assignment a USING slotguard.booking b WHERE a.booking_id = b.id AND b.resource_key LIKE 'conf-%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'conf-%';
DELETE FROM slotguard.resource WHERE key LIKE 'conf-%';
DELETE FROM slotguard.orders WHERE key LIKE 'conf-%';
SELECT slotguard.revoke_access(r)
FROM unnest(ARRAY['regress_conf_a', 'regress_conf_member', 'regress_conf_free', 'regress_conf_auth',
                  'regress_conf_staff']::regrole[]) AS r;
DROP ROLE regress_conf_member, regress_conf_a, regress_conf_free, regress_conf_auth, regress_conf_staff;
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM conf_saved_seq;
