-- slotguard 1.1 -> 1.2: hardening (privileges, replication, limits) and the
-- 1.2 features of the contract (API.md §8 (1.2), §10-§15).
\echo Use "ALTER EXTENSION slotguard UPDATE TO '1.2'" to load this file. \quit

-- Each part below is its own section; a new part gets a new section.

-- --- access: grant_access / revoke_access (API.md §8 (1.2)) ---
-- A fresh 1.2 install grants nothing to PUBLIC (control/fresh_install.sql,
-- the tail of the generated slotguard--1.2.sql); an update from 1.1 keeps
-- the grants that existed. grant_access gives one role what an application
-- (or, with admin, its administrator) needs. It is not SECURITY DEFINER:
-- only a role allowed to grant on slotguard's functions (the extension's
-- owner, a superuser) can run it, and it is not granted to anyone.
-- Which functions grant_access gives: slotguard.access_functions(admin),
-- defined in the last section, once every function it names exists (the
-- list is resolved when it is defined).
CREATE FUNCTION slotguard.grant_access(role regrole, admin boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f regprocedure;
BEGIN
    IF grant_access.role IS NULL OR grant_access.admin IS NULL THEN
        RAISE EXCEPTION 'grant_access: role and admin must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- A regrole that names no role ('-', 0, a dropped role's oid) would be
    -- printed into the statement as '-' or a number (42601): 22023.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid = grant_access.role) THEN
        RAISE EXCEPTION 'grant_access: role % does not exist', grant_access.role::pg_catalog.oid
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA slotguard TO %s', grant_access.role);
    FOR f IN SELECT pg_catalog.unnest(slotguard.access_functions(false))
             UNION ALL
             SELECT pg_catalog.unnest(slotguard.access_functions(true)) WHERE grant_access.admin
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f, grant_access.role);
    END LOOP;
    IF grant_access.admin THEN
        -- slotguard.confinements: created by the confinement section below.
        -- slotguard.stats: created by the change feed and statistics section.
        EXECUTE pg_catalog.format('GRANT SELECT ON slotguard.guards, slotguard.confinements, slotguard.stats TO %s', grant_access.role);
    END IF;
END
$$;
COMMENT ON FUNCTION slotguard.grant_access(regrole, boolean) IS
    'Grants a role USAGE on schema slotguard and EXECUTE on the booking, worker, order and query functions; with admin, also upsert_resource, protect, unprotect and SELECT on slotguard.guards. Run by the extension''s owner.';

CREATE FUNCTION slotguard.revoke_access(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f regprocedure;
BEGIN
    IF revoke_access.role IS NULL THEN
        RAISE EXCEPTION 'revoke_access: role must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid = revoke_access.role) THEN
        RAISE EXCEPTION 'revoke_access: role % does not exist', revoke_access.role::pg_catalog.oid
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR f IN SELECT pg_catalog.unnest(slotguard.access_functions(false) || slotguard.access_functions(true)) LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM %s', f, revoke_access.role);
    END LOOP;
    EXECUTE pg_catalog.format('REVOKE SELECT ON slotguard.guards, slotguard.confinements, slotguard.stats FROM %s', revoke_access.role);
    EXECUTE pg_catalog.format('REVOKE USAGE ON SCHEMA slotguard FROM %s', revoke_access.role);
END
$$;
COMMENT ON FUNCTION slotguard.revoke_access(regrole) IS
    'Takes back from a role what grant_access gave it (grants made to PUBLIC or to a role it belongs to still apply).';

REVOKE ALL ON FUNCTION slotguard.grant_access(regrole, boolean), slotguard.revoke_access(regrole) FROM PUBLIC;

-- --- read-only transactions and standbys ---
-- Every writing function answers 25006 in a read-only transaction and on a
-- hot standby, before it looks at its arguments: the C functions through
-- require_writable() (src/pg/engine/errors.cpp), configure_shard here. The
-- queries (free_slots, availability, worker_schedule, shard_info) work in
-- both. configure_shard is 1.1's, unchanged but for the check at the top.
CREATE OR REPLACE FUNCTION slotguard.configure_shard(shard_number int, shard_count int)
RETURNS slotguard.shard_config
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    mask    bigint;
    last_id bigint;
    next_id bigint;
    stray   bigint;
    result  slotguard.shard_config;
BEGIN
    -- Before anything else, as every writing function of the API.
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE EXCEPTION 'cannot execute slotguard.configure_shard() during recovery'
            USING ERRCODE = 'read_only_sql_transaction',
                  HINT = 'Write on the primary; a standby answers free_slots, availability and worker_schedule.';
    END IF;
    IF pg_catalog.current_setting('transaction_read_only')::boolean THEN
        RAISE EXCEPTION 'cannot execute slotguard.configure_shard() in a read-only transaction'
            USING ERRCODE = 'read_only_sql_transaction';
    END IF;
    IF shard_number IS NULL OR shard_count IS NULL THEN
        RAISE EXCEPTION 'configure_shard: shard_number and shard_count must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF shard_count < 1 OR shard_count > 1024 OR shard_count & (shard_count - 1) <> 0 THEN
        RAISE EXCEPTION 'configure_shard: shard_count must be a power of two between 1 and 1024, not %', shard_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF shard_number < 0 OR shard_number >= shard_count THEN
        RAISE EXCEPTION 'configure_shard: shard_number must be between 0 and %, not %', shard_count - 1, shard_number
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    mask := shard_count - 1;

    -- Serialise with other configure_shard calls and with booking inserts.
    LOCK TABLE slotguard.booking IN SHARE MODE;
    SELECT b.id INTO stray FROM slotguard.booking b WHERE (b.id & mask) <> shard_number LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'configure_shard: booking % already exists here and would not route to shard % of %',
            stray, shard_number, shard_count
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Configure a shard before it takes bookings.';
    END IF;

    SELECT CASE WHEN s.is_called THEN s.last_value ELSE s.last_value - 1 END
      INTO last_id FROM slotguard.booking_id_seq s;
    next_id := ((last_id / shard_count) + 1) * shard_count + shard_number;
    IF next_id - shard_count > last_id THEN
        next_id := next_id - shard_count;   -- the first aligned id above last_id
    END IF;
    IF next_id < 1 THEN
        next_id := next_id + shard_count;
    END IF;
    EXECUTE pg_catalog.format('ALTER SEQUENCE slotguard.booking_id_seq INCREMENT BY %s', shard_count);
    PERFORM pg_catalog.setval('slotguard.booking_id_seq', next_id, false);

    INSERT INTO slotguard.shard_config AS c (shard_number, shard_count)
    VALUES (configure_shard.shard_number, configure_shard.shard_count)
    ON CONFLICT (one) DO UPDATE
        SET shard_number = excluded.shard_number, shard_count = excluded.shard_count,
            configured_at = pg_catalog.now()
    RETURNING * INTO result;
    RETURN result;
END
$$;

-- --- guard triggers under logical replication ---
-- A logical replication apply worker (and any session with
-- session_replication_role = replica) fires only ALWAYS and REPLICA
-- triggers: with the default (ORIGIN) a replicated booking, assignment or
-- resource change went in unchecked. slotguard's guard triggers fire in
-- every role (API.md §15); rows the API wrote itself still skip them
-- (booking_guard_needed). guard_entry has no trigger of its own: it is
-- written only by the triggers protect() installs.
ALTER TABLE slotguard.booking
    ENABLE ALWAYS TRIGGER booking_guard_before,
    ENABLE ALWAYS TRIGGER booking_guard_after;
ALTER TABLE slotguard.assignment
    ENABLE ALWAYS TRIGGER assignment_guard_before,
    ENABLE ALWAYS TRIGGER assignment_guard_after;
ALTER TABLE slotguard.resource
    ENABLE ALWAYS TRIGGER resource_guard_after;

-- --- contract limits: argument errors (API.md §6 (1.2)) ---
-- tenant_of(NULL) answered NULL; no function is STRICT and a NULL argument
-- is a clear error (22004), here as everywhere.
CREATE OR REPLACE FUNCTION slotguard.tenant_of(key text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF key IS NULL THEN
        RAISE EXCEPTION 'key must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN pg_catalog.split_part(key, ':', 1);
END
$$;
COMMENT ON FUNCTION slotguard.tenant_of(text) IS
    'The tenant of a key: the part before the first '':'' (acme:room-1 -> acme), or the whole key. The shard key of scale-out. NULL: 22004.';

-- --- guards: whose rights protect() runs with, the owner, ENABLE ALWAYS ---
-- protect()/unprotect() become SECURITY INVOKER: they check that the
-- *current* role owns the table, and refuse (42501) inside a
-- security-restricted operation or a SECURITY DEFINER function of another
-- role. Only slotguard's own writes inside them (slotguard.guard,
-- guard_entry, the triggers on the table) run as slotguard's owner; the
-- expressions run as the table's owner in a security-restricted operation
-- and may not use temporary objects (src/pg/guards/protect_api.cpp).
ALTER FUNCTION slotguard.protect(regclass, text, text, text, int, text) SECURITY INVOKER;
ALTER FUNCTION slotguard.unprotect(regclass) SECURITY INVOKER;

-- The role that owned the table when protect() was called: its expressions
-- are that role's and run as it. After ALTER TABLE ... OWNER TO (or
-- REASSIGN OWNED) the guard trigger refuses every write (42501) until the
-- new owner runs unprotect() and protect() again. Guards that exist now
-- belong to the table's current owner.
ALTER TABLE slotguard.guard ADD COLUMN owner regrole;
UPDATE slotguard.guard g SET owner = c.relowner::pg_catalog.regrole
FROM pg_catalog.pg_class c WHERE c.oid = g.tbl::pg_catalog.oid;
ALTER TABLE slotguard.guard ALTER COLUMN owner SET NOT NULL;
COMMENT ON COLUMN slotguard.guard.owner IS
    'The table''s owner when protect() was called: the role the expressions run as; writes are refused (42501) once the table has another owner.';

-- The guard triggers protect() installed fire under
-- session_replication_role = replica too (API.md §15); new ones are
-- created that way. A trigger a DBA disabled (or set to REPLICA) is left so.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT g.tbl, tg.tgname
        FROM slotguard.guard g
        JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = g.tbl::pg_catalog.oid
        WHERE NOT tg.tgisinternal AND tg.tgenabled = 'O'
          AND tg.tgfoid = 'slotguard.guard_trigger()'::pg_catalog.regprocedure
        ORDER BY g.id, tg.tgname
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', t.tbl, t.tgname);
    END LOOP;
END
$$;

-- --- confinement: who the caller is, tenants and holders (API.md §8 (1.2)) ---
-- The API functions become SECURITY INVOKER: they find their caller as the
-- current role at entry (current_user semantics: a SECURITY DEFINER
-- function of another role in between is that role calling) and switch to
-- the function's owner for their own reads and writes, as SECURITY DEFINER
-- did (src/pg/access/access.cpp). search_path stays pinned by proconfig.
-- protect/unprotect are not listed here: they act for the current role
-- themselves (src/pg/guards/protect_api.cpp).
ALTER FUNCTION slotguard.upsert_resource(text, int, interval, interval, text, jsonb) SECURITY INVOKER;
ALTER FUNCTION slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb) SECURITY INVOKER;
ALTER FUNCTION slotguard.try_book_slot(text, tstzrange, int, text, interval, text, jsonb) SECURITY INVOKER;
ALTER FUNCTION slotguard.confirm_booking(bigint) SECURITY INVOKER;
ALTER FUNCTION slotguard.cancel_booking(bigint) SECURITY INVOKER;
ALTER FUNCTION slotguard.reschedule_booking(bigint, tstzrange) SECURITY INVOKER;
ALTER FUNCTION slotguard.free_slots(text, tstzrange, interval, interval, int) SECURITY INVOKER;
ALTER FUNCTION slotguard.availability(text, tstzrange) SECURITY INVOKER;
ALTER FUNCTION slotguard.assign_workers(bigint, text[], text, text) SECURITY INVOKER;
ALTER FUNCTION slotguard.unassign_worker(bigint, text) SECURITY INVOKER;
ALTER FUNCTION slotguard.worker_schedule(text, tstzrange) SECURITY INVOKER;
ALTER FUNCTION slotguard.add_order(text, text, boolean, jsonb) SECURITY INVOKER;
ALTER FUNCTION slotguard.set_order_ready(text) SECURITY INVOKER;
ALTER FUNCTION slotguard.claim_order(text, text, interval) SECURITY INVOKER;
ALTER FUNCTION slotguard.try_claim_order(text, text, interval) SECURITY INVOKER;
ALTER FUNCTION slotguard.claim_next_order(text, text, interval) SECURITY INVOKER;
ALTER FUNCTION slotguard.release_order(text, text) SECURITY INVOKER;
ALTER FUNCTION slotguard.complete_order(text, text) SECURITY INVOKER;

-- One row per confined role. A call whose current role is that role (or,
-- when the role has no row of its own, a member of confined roles: then
-- every one of them applies) sees and touches only keys of its tenants:
-- `tenants`, or the one named by request.jwt.claims ->> tenant_claim; with
-- holder_claim, only bookings whose holder is request.jwt.claims ->>
-- holder_claim. Written by confine/unconfine; a trigger tells every
-- backend to reload its cached copy.
CREATE TABLE slotguard.confinement (
    role         regrole PRIMARY KEY,
    tenants      text[],
    tenant_claim text,
    holder_claim text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT confinement_one_tenant_source CHECK ((tenants IS NULL) <> (tenant_claim IS NULL))
);
COMMENT ON TABLE slotguard.confinement IS
    'Confined roles: the tenants (listed, or named by a JWT claim) and, optionally, the holder claim each may act for. Written by slotguard.confine/unconfine.';
SELECT pg_catalog.pg_extension_config_dump('slotguard.confinement', '');
REVOKE ALL ON slotguard.confinement FROM PUBLIC;

CREATE FUNCTION slotguard.confinement_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'sg_confinement_changed';
COMMENT ON FUNCTION slotguard.confinement_changed() IS
    'Trigger: makes every backend reload its cached copy of slotguard.confinement (relcache invalidation).';
CREATE TRIGGER confinement_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON slotguard.confinement
    FOR EACH STATEMENT EXECUTE FUNCTION slotguard.confinement_changed();
ALTER TABLE slotguard.confinement ENABLE ALWAYS TRIGGER confinement_changed;

CREATE VIEW slotguard.confinements AS
SELECT c.role, c.tenants, c.tenant_claim, c.holder_claim, c.created_at
FROM slotguard.confinement c;
COMMENT ON VIEW slotguard.confinements IS
    'Confined roles, one row each: tenants or tenant_claim, holder_claim.';
REVOKE ALL ON slotguard.confinements FROM PUBLIC;

CREATE FUNCTION slotguard.confine(role regrole, tenants text[] DEFAULT NULL, tenant_claim text DEFAULT NULL,
                                  holder_claim text DEFAULT NULL)
RETURNS slotguard.confinement
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_confine';
COMMENT ON FUNCTION slotguard.confine(regrole, text[], text, text) IS
    'Confines a role to tenants (a list, or the request.jwt.claims member tenant_claim) and, with holder_claim, to the bookings of the holder that claim names. Replaces an earlier confinement of the role.';

CREATE FUNCTION slotguard.unconfine(role regrole)
RETURNS boolean
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_unconfine';
COMMENT ON FUNCTION slotguard.unconfine(regrole) IS
    'Lifts the confinement of a role; true if it had one.';

REVOKE ALL ON FUNCTION slotguard.confinement_changed(), slotguard.confine(regrole, text[], text, text),
    slotguard.unconfine(regrole) FROM PUBLIC;

-- Idempotency keys are scoped by tenant: the same key in two tenants names
-- two bookings. book_slot looks a key up within the resource's tenant when
-- this index exists (and by the key alone on an older schema).
CREATE UNIQUE INDEX booking_tenant_idempotency_key_idx
    ON slotguard.booking (pg_catalog.split_part(resource_key, ':', 1), idempotency_key)
    WHERE idempotency_key IS NOT NULL;
DROP INDEX slotguard.booking_idempotency_key_idx;


-- grant_access(admin => true) also lets the role read slotguard.confinements
-- (access section).
COMMENT ON FUNCTION slotguard.grant_access(regrole, boolean) IS
    'Grants a role USAGE on schema slotguard and EXECUTE on the booking, worker, order and query functions; with admin, also upsert_resource, protect, unprotect, confine, unconfine and SELECT on slotguard.guards and slotguard.confinements. Run by the extension''s owner.';

-- --- foreign keys between slotguard's tables under logical replication ---
-- The action triggers of the foreign keys on their referenced tables
-- (slotguard.resource for booking_resource_fk, slotguard.booking for
-- assignment_booking_id_fkey) fire under session_replication_role =
-- replica too, as the guard triggers do (API.md §15): left ENABLE ORIGIN,
-- a replicated DELETE of a resource with bookings went through, and the
-- resource inserted again with a lower capacity stood over more bookings
-- than it holds, an overbooking no check saw. The checks on the
-- referencing side are not needed: booking_guard and assignment_guard
-- (ENABLE ALWAYS) check that the resource or booking exists.
-- Done for every foreign key between slotguard's tables at once, those of
-- later sections too, in the last section.

-- --- shard_info: only what the caller may see ---
-- shard_info() counted every tenant's resources, bookings and orders, also
-- for a confined caller (API.md §8 (1.2)): a tenant learnt the others'
-- volume. It is a C function now, called as the caller's role like the
-- rest of the API, and counts only the caller's tenants (and, with a holder
-- claim, the caller's own bookings); unconfined callers get the totals.
CREATE OR REPLACE FUNCTION slotguard.shard_info()
RETURNS TABLE (shard_number int, shard_count int, ids_route_here boolean,
               resources bigint, bookings bigint, orders bigint)
LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_shard_info';
COMMENT ON FUNCTION slotguard.shard_info() IS
    'This shard''s number and count, whether the booking ids it makes route back to it, and its row counts (for a confined caller: of its own tenants, and with a holder claim its own bookings).';

-- --- opening hours, time zones, closures, busy time, limits (API.md §10) ---
-- A resource's policy lives on its row (the booking check reads the row
-- anyway, so a resource without rules costs nothing more); closures, extra
-- openings and busy blocks of synced calendars are rows of
-- resource_exception, read per booking by one GiST scan limited to the
-- booking's range. Every rule change takes the resource lock exclusively
-- and bumps rules_version, so a booking check in flight (share lock) either
-- ran before it or sees it (src/pg/schedule/, docs/availability.md).
ALTER TABLE slotguard.resource
    ADD COLUMN timezone text,
    ADD COLUMN min_notice interval CHECK (min_notice >= interval '0'),
    ADD COLUMN max_advance interval CHECK (max_advance >= interval '0'),
    ADD COLUMN min_duration interval CHECK (min_duration >= interval '0'),
    ADD COLUMN max_duration interval CHECK (max_duration >= interval '0'),
    ADD COLUMN max_per_day int CHECK (max_per_day >= 1),
    ADD COLUMN max_per_holder_per_day int CHECK (max_per_holder_per_day >= 1),
    ADD COLUMN hours text,
    ADD COLUMN rules_version bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN slotguard.resource.timezone IS
    'IANA time zone of the resource''s local time (opening hours, per-day limits, repeat rules); NULL = UTC.';
COMMENT ON COLUMN slotguard.resource.hours IS
    'Weekly opening hours, OpenStreetMap opening_hours subset (set_hours); NULL = always open.';
COMMENT ON COLUMN slotguard.resource.rules_version IS
    'Bumped by every rule change (set_policy, set_hours, exceptions, sync_busy); 0 = the resource never had rules.';

CREATE TABLE slotguard.resource_exception (
    id            bigserial PRIMARY KEY,
    resource_key  text NOT NULL REFERENCES slotguard.resource (key),
    kind          text NOT NULL CHECK (kind IN ('closure', 'opening', 'busy')),
    during        tstzrange NOT NULL CHECK (NOT isempty(during)),
    -- closure/opening: the reason; busy: the source (e.g. 'google:dr-smith@…')
    reason        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    resource_hash bigint NOT NULL GENERATED ALWAYS AS (slotguard.entry_hash(resource_key)) STORED
);
COMMENT ON TABLE slotguard.resource_exception IS
    'Date overrides of a resource''s opening hours (closure, opening) and busy time synced from other calendars (busy, reason = source). Written by add_closure, add_opening, remove_exception, sync_busy.';
CREATE INDEX resource_exception_hash_during_idx ON slotguard.resource_exception USING gist (resource_hash, during);
CREATE INDEX resource_exception_source_idx ON slotguard.resource_exception (resource_key, reason) WHERE kind = 'busy';
SELECT pg_catalog.pg_extension_config_dump('slotguard.resource_exception', '');
SELECT pg_catalog.pg_extension_config_dump('slotguard.resource_exception_id_seq', '');
REVOKE ALL ON slotguard.resource_exception FROM PUBLIC;
-- A direct write of resource_exception (the owner's INSERT/UPDATE/DELETE/
-- TRUNCATE, a restore) bumps the rules_version of the resources it touches,
-- as the API functions do: bookings cache a resource's exceptions by that
-- version (src/pg/schedule/rules.cpp). Unlike the API it takes no resource
-- lock, so it does not serialise with bookings in flight (docs/availability.md).
CREATE FUNCTION slotguard.resource_exception_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE slotguard.resource SET rules_version = rules_version + 1 WHERE rules_version > 0;
    ELSE
        UPDATE slotguard.resource r SET rules_version = r.rules_version + 1
        WHERE r.key IN (SELECT c.resource_key FROM changed_rows c);
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION slotguard.resource_exception_changed() IS
    'Trigger: a change of slotguard.resource_exception bumps the rules_version of the resources it touches.';
REVOKE ALL ON FUNCTION slotguard.resource_exception_changed() FROM PUBLIC;
CREATE TRIGGER resource_exception_inserted AFTER INSERT ON slotguard.resource_exception
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION slotguard.resource_exception_changed();
CREATE TRIGGER resource_exception_updated_old AFTER UPDATE ON slotguard.resource_exception
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION slotguard.resource_exception_changed();
CREATE TRIGGER resource_exception_updated_new AFTER UPDATE ON slotguard.resource_exception
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION slotguard.resource_exception_changed();
CREATE TRIGGER resource_exception_deleted AFTER DELETE ON slotguard.resource_exception
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION slotguard.resource_exception_changed();
CREATE TRIGGER resource_exception_truncated AFTER TRUNCATE ON slotguard.resource_exception
    FOR EACH STATEMENT EXECUTE FUNCTION slotguard.resource_exception_changed();
ALTER TABLE slotguard.resource_exception ENABLE ALWAYS TRIGGER resource_exception_inserted;
ALTER TABLE slotguard.resource_exception ENABLE ALWAYS TRIGGER resource_exception_updated_old;
ALTER TABLE slotguard.resource_exception ENABLE ALWAYS TRIGGER resource_exception_updated_new;
ALTER TABLE slotguard.resource_exception ENABLE ALWAYS TRIGGER resource_exception_deleted;
ALTER TABLE slotguard.resource_exception ENABLE ALWAYS TRIGGER resource_exception_truncated;
-- Its foreign key's action triggers fire under replication too, as the
-- other foreign keys' (the last section does it for all of them).

CREATE FUNCTION slotguard.set_policy(resource text, timezone text DEFAULT NULL, min_notice interval DEFAULT NULL,
                                     max_advance interval DEFAULT NULL, min_duration interval DEFAULT NULL,
                                     max_duration interval DEFAULT NULL, max_per_day int DEFAULT NULL,
                                     max_per_holder_per_day int DEFAULT NULL, force boolean DEFAULT false)
RETURNS slotguard.resource
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_set_policy';
COMMENT ON FUNCTION slotguard.set_policy(text, text, interval, interval, interval, interval, int, int, boolean) IS
    'Sets a resource''s time zone and limits (NULL = none); 23P01 if active bookings would break them, unless force.';

CREATE FUNCTION slotguard.set_hours(resource text, hours text, force boolean DEFAULT false)
RETURNS TABLE (isodow int, opens time, closes time)
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_set_hours';
COMMENT ON FUNCTION slotguard.set_hours(text, text, boolean) IS
    'Sets weekly opening hours in local time (OpenStreetMap opening_hours subset); NULL or empty removes them.';

CREATE FUNCTION slotguard.add_closure(resource text, during tstzrange, reason text DEFAULT NULL,
                                      force boolean DEFAULT false)
RETURNS bigint
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_add_closure';
COMMENT ON FUNCTION slotguard.add_closure(text, tstzrange, text, boolean) IS
    'Closes a resource for a time (holiday, sick day); returns the exception id.';

CREATE FUNCTION slotguard.add_opening(resource text, during tstzrange, reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_add_opening';
COMMENT ON FUNCTION slotguard.add_opening(text, tstzrange, text) IS
    'Opens a resource for a time outside its weekly hours; returns the exception id.';

CREATE FUNCTION slotguard.remove_exception(id bigint, force boolean DEFAULT false)
RETURNS boolean
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_remove_exception';
COMMENT ON FUNCTION slotguard.remove_exception(bigint, boolean) IS
    'Removes a closure or opening; true if it existed.';

CREATE FUNCTION slotguard.sync_busy(resource text, source text, "window" tstzrange, busy tstzrange[])
RETURNS TABLE (booking_id bigint, during tstzrange)
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_sync_busy';
COMMENT ON FUNCTION slotguard.sync_busy(text, text, tstzrange, tstzrange[]) IS
    'Replaces the busy blocks of one source inside a window, atomically; returns the active bookings that now overlap busy time.';

CREATE FUNCTION slotguard.opening(resource text, search tstzrange)
RETURNS SETOF tstzrange
LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_opening';
COMMENT ON FUNCTION slotguard.opening(text, tstzrange) IS
    'The resource''s bookable time inside search: weekly hours and openings, minus closures and busy time.';

-- --- hold expiry and waitlist (API.md §12) ---
-- A lapsed hold takes no capacity from the moment its time passes (§1);
-- expire_holds() marks it 'expired' and offers its time to the waitlist.
-- confirm_booking of an 'expired' booking behaves as for a lapsed hold. The
-- direct-insert path knows this constraint by name (booking_status_known,
-- src/pg/bookings/booking_insert.cpp); an older schema keeps
-- booking_status_check and never has 'expired' rows.
ALTER TABLE slotguard.booking DROP CONSTRAINT booking_status_check,
    ADD CONSTRAINT booking_status_known CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired'));
-- expire_holds finds lapsed holds by this index, oldest first.
CREATE INDEX booking_held_expiry_idx ON slotguard.booking (hold_expires_at, id) WHERE status = 'held';

-- One row per request to be offered a slot when capacity is freed
-- (docs/waitlist.md). Written by join_waitlist/leave_waitlist and by the
-- offers (src/pg/waitlist/). 'offered': booking_id is the held booking made
-- for it (confirm it with confirm_booking; it stays 'offered' when that
-- booking is confirmed, cancelled or expires). 'left': it left while waiting.
CREATE TABLE slotguard.waitlist (
    id           bigserial PRIMARY KEY,
    resource_key text NOT NULL REFERENCES slotguard.resource (key),
    during       tstzrange NOT NULL,
    seats        int NOT NULL DEFAULT 1 CHECK (seats >= 1),
    holder       text,
    status       text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'left')),
    booking_id   bigint REFERENCES slotguard.booking (id),
    offer_hold   interval NOT NULL DEFAULT '15 minutes',
    metadata     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT waitlist_offered_has_booking CHECK ((status = 'offered') = (booking_id IS NOT NULL))
);
COMMENT ON TABLE slotguard.waitlist IS
    'Waitlist entries: when capacity on the resource is freed, the oldest waiting entry that fits gets a held booking (status offered, booking_id).';
-- The offers read the waiting entries of one resource, oldest first; a
-- cancel on a resource nobody waits for costs one probe of this index.
CREATE INDEX waitlist_waiting_idx ON slotguard.waitlist (resource_key, id) WHERE status = 'waiting';
CREATE INDEX waitlist_booking_idx ON slotguard.waitlist (booking_id) WHERE booking_id IS NOT NULL;
SELECT pg_catalog.pg_extension_config_dump('slotguard.waitlist', '');
SELECT pg_catalog.pg_extension_config_dump('slotguard.waitlist_id_seq', '');
REVOKE ALL ON slotguard.waitlist FROM PUBLIC;
-- Its foreign keys' action triggers on resource and booking fire under
-- session_replication_role = replica too, as the others' (API.md §15; the
-- last section does it for all of them).

CREATE FUNCTION slotguard.expire_holds(max int DEFAULT 10000)
RETURNS int
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_expire_holds';
COMMENT ON FUNCTION slotguard.expire_holds(int) IS
    'Marks at most max lapsed holds ''expired'' (oldest first; rows other transactions hold are skipped) and offers their time, and every resource someone waits for, to the waitlist. Returns how many it expired. Meant for pg_cron (docs/waitlist.md).';

CREATE FUNCTION slotguard.join_waitlist(resource text, during tstzrange, seats int DEFAULT 1, holder text DEFAULT NULL,
                                        offer_hold interval DEFAULT '15 minutes', metadata jsonb DEFAULT NULL)
RETURNS slotguard.waitlist
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_join_waitlist';
COMMENT ON FUNCTION slotguard.join_waitlist(text, tstzrange, int, text, interval, jsonb) IS
    'Waits for capacity on a resource: when it is freed (or at once, if it is free now) the entry gets a held booking for offer_hold and status offered.';

CREATE FUNCTION slotguard.leave_waitlist(id bigint)
RETURNS boolean
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_leave_waitlist';
COMMENT ON FUNCTION slotguard.leave_waitlist(bigint) IS
    'Leaves the waitlist: true if the entry was waiting (now left); false if it was already offered or left (decline an offer with cancel_booking).';

-- --- orders: a dependable work queue (API.md §14) ---
-- Fencing tokens, lease renewal, retries with backoff and dead orders,
-- priorities and not_before, batch claims (src/pg/orders/, docs/orders.md).
--
-- claim_token: every claim takes the next value of this sequence (or the
-- order's last token + 1 if that is larger, should the sequence ever be set
-- back), so a token is strictly greater than any token the order had, even
-- one handed out by a claim that rolled back. No CACHE: a per-backend cache
-- would hand out smaller values after larger ones.
CREATE SEQUENCE slotguard.order_claim_token_seq NO CYCLE;
COMMENT ON SEQUENCE slotguard.order_claim_token_seq IS
    'Fencing tokens of order claims (orders.claim_token): strictly increasing, never reused.';
SELECT pg_catalog.pg_extension_config_dump('slotguard.order_claim_token_seq', '');
REVOKE ALL ON SEQUENCE slotguard.order_claim_token_seq FROM PUBLIC;

-- priority: higher first. ready_at is when the order becomes claimable:
-- greatest(now(), not_before) when it gets ready, now() + the backoff after
-- fail_order; an order is claimable while ready_at <= now(). attempts counts
-- fail_order calls; at max_attempts the order is 'dead'.
ALTER TABLE slotguard.orders
    ADD COLUMN claim_token bigint,
    ADD COLUMN priority int NOT NULL DEFAULT 0,
    ADD COLUMN not_before timestamptz,
    ADD COLUMN attempts int NOT NULL DEFAULT 0,
    ADD COLUMN max_attempts int NOT NULL DEFAULT 10,
    ADD COLUMN last_error text;
COMMENT ON COLUMN slotguard.orders.claim_token IS
    'Fencing token of the current (or last) claim: strictly greater than every earlier token of the order.';
COMMENT ON COLUMN slotguard.orders.priority IS 'Higher priorities are claimed first.';
COMMENT ON COLUMN slotguard.orders.not_before IS 'Not claimable before this time (add_order, fail_order).';
COMMENT ON COLUMN slotguard.orders.attempts IS 'fail_order calls so far.';
COMMENT ON COLUMN slotguard.orders.max_attempts IS 'At this many failures the order is dead.';
COMMENT ON COLUMN slotguard.orders.last_error IS 'The error of the last fail_order.';

-- The rules of 1.1 plus: status 'dead' (no claimant, like ready), 0 <=
-- attempts <= max_attempts, max_attempts >= 1, a positive claim_token.
-- The 6-argument form of 1.1 keeps 1.1's rules for a 1.1 schema.
CREATE FUNCTION slotguard.order_row_ok(
    key text, status text, claimant text, claimed_at timestamptz,
    lease_expires_at timestamptz, ready_at timestamptz, attempts int, max_attempts int, claim_token bigint)
RETURNS boolean
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_order_row_ok';
COMMENT ON FUNCTION slotguard.order_row_ok(text, text, text, timestamptz, timestamptz, timestamptz, int, int, bigint) IS
    'CHECK constraint orders_rules: the rules of 1.1, status dead, 0 <= attempts <= max_attempts, max_attempts >= 1, a positive claim_token. Raises 23514 naming the rule.';
REVOKE ALL ON FUNCTION slotguard.order_row_ok(text, text, text, timestamptz, timestamptz, timestamptz, int, int, bigint)
    FROM PUBLIC;
ALTER TABLE slotguard.orders
    DROP CONSTRAINT orders_rules,
    ADD CONSTRAINT orders_rules CHECK (slotguard.order_row_ok(key, status, claimant, claimed_at, lease_expires_at,
                                                              ready_at, attempts, max_attempts, claim_token));
DROP FUNCTION slotguard.order_row_ok(text, text, text, timestamptz, timestamptz, timestamptz);

-- The queue in claim order: highest priority, then oldest ready_at, then
-- key. Replaces 1.0's (ready_at, key) indexes.
CREATE INDEX orders_queue_idx ON slotguard.orders (priority DESC, ready_at, key) WHERE status = 'ready';
CREATE INDEX orders_queue_kind_idx ON slotguard.orders (kind, priority DESC, ready_at, key) WHERE status = 'ready';
DROP INDEX slotguard.orders_ready_idx;
DROP INDEX slotguard.orders_ready_kind_idx;

-- Where the live part of the queue starts (src/pg/orders/queue_hint.hpp):
-- claim_next_order remembers, in shared memory, how far the entries at the
-- head of orders_queue_idx are dead to every snapshot, and starts there.
-- Only a write can put entries back in front; this trigger drops the
-- remembered positions whenever a row is written as 'ready', also under
-- session_replication_role = replica. (A row trigger: statement triggers
-- do not fire for an INSERT ... RETURNING run with a row limit.) Without
-- it (dropped or disabled) claims simply scan from the head.
CREATE FUNCTION slotguard.orders_queue_changed() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'sg_orders_queue_changed';
COMMENT ON FUNCTION slotguard.orders_queue_changed() IS
    'Trigger of slotguard.orders: a row written as ready may sort before where claim_next_order remembered the live part of the queue to start, so it forgets that.';
REVOKE ALL ON FUNCTION slotguard.orders_queue_changed() FROM PUBLIC;
CREATE TRIGGER orders_queue_changed AFTER INSERT OR UPDATE ON slotguard.orders
    FOR EACH ROW EXECUTE FUNCTION slotguard.orders_queue_changed();
ALTER TABLE slotguard.orders ENABLE ALWAYS TRIGGER orders_queue_changed;

-- add_order, release_order and complete_order take new trailing arguments
-- with defaults. Kept next to the old form, every call would be ambiguous,
-- so the old form is dropped; each call of 1.1 means the same with the new
-- one. The grants the old form had go to the new one (stashed in a setting
-- of this transaction between the DROP and the CREATE).
SELECT pg_catalog.set_config('slotguard_upgrade.acl_' || p.proname, coalesce(p.proacl::text, ''), true)
FROM pg_catalog.pg_proc p
WHERE p.oid IN ('slotguard.add_order(text, text, boolean, jsonb)'::pg_catalog.regprocedure,
                'slotguard.release_order(text, text)'::pg_catalog.regprocedure,
                'slotguard.complete_order(text, text)'::pg_catalog.regprocedure);
DROP FUNCTION slotguard.add_order(text, text, boolean, jsonb);
DROP FUNCTION slotguard.release_order(text, text);
DROP FUNCTION slotguard.complete_order(text, text);

CREATE FUNCTION slotguard.add_order(
    key text, kind text DEFAULT NULL, ready boolean DEFAULT true, payload jsonb DEFAULT NULL,
    priority int DEFAULT 0, not_before timestamptz DEFAULT NULL, max_attempts int DEFAULT 10)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_add_order';
COMMENT ON FUNCTION slotguard.add_order(text, text, boolean, jsonb, int, timestamptz, int) IS
    'Adds an order, ready at once or pending; claimable from greatest(now(), not_before), highest priority first; dead after max_attempts failures. A duplicate key fails with 23505.';

CREATE FUNCTION slotguard.release_order(key text, claimant text, token bigint DEFAULT NULL)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_release_order';
COMMENT ON FUNCTION slotguard.release_order(text, text, bigint) IS
    'claimed -> ready, keeping its place in the queue; only the claimant, while its lease runs, with the current claim_token if one is given; else 55P03.';

CREATE FUNCTION slotguard.complete_order(key text, claimant text, token bigint DEFAULT NULL)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_complete_order';
COMMENT ON FUNCTION slotguard.complete_order(text, text, bigint) IS
    'claimed -> done; only the claimant, while its lease runs, with the current claim_token if one is given; else 55P03. A retry of the same claim returns the done order.';

DO $$
DECLARE
    f record;
    acl text;
    g record;
BEGIN
    FOR f IN SELECT * FROM (VALUES
        ('add_order', 'slotguard.add_order(text, text, boolean, jsonb, int, timestamptz, int)'::pg_catalog.regprocedure),
        ('release_order', 'slotguard.release_order(text, text, bigint)'::pg_catalog.regprocedure),
        ('complete_order', 'slotguard.complete_order(text, text, bigint)'::pg_catalog.regprocedure)) AS v(name, fn)
    LOOP
        acl := pg_catalog.current_setting('slotguard_upgrade.acl_' || f.name, true);
        CONTINUE WHEN acl IS NULL OR acl = '';  -- the default: PUBLIC may execute, as the new one
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.fn);
        FOR g IN SELECT a.grantee FROM pg_catalog.aclexplode(acl::pg_catalog.aclitem[]) a
                 WHERE a.privilege_type = 'EXECUTE'
                   AND a.grantee <> (SELECT p.proowner FROM pg_catalog.pg_proc p WHERE p.oid = f.fn)
        LOOP
            IF g.grantee = 0 THEN
                EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f.fn);
            ELSE
                EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I', f.fn,
                                          (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid = g.grantee));
            END IF;
        END LOOP;
    END LOOP;
END
$$;

CREATE FUNCTION slotguard.renew_lease(key text, claimant text, lease interval, token bigint DEFAULT NULL)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_renew_lease';
COMMENT ON FUNCTION slotguard.renew_lease(text, text, interval, bigint) IS
    'Heartbeat: the current claimant (with the current claim_token if given) sets its live lease to end at now() + lease; after expiry or takeover 55P03.';

CREATE FUNCTION slotguard.fail_order(key text, claimant text, error text, retry_in interval DEFAULT NULL,
                                     token bigint DEFAULT NULL)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_fail_order';
COMMENT ON FUNCTION slotguard.fail_order(text, text, text, interval, bigint) IS
    'The claimant gives up one attempt: attempts + 1, last_error; ready again at now() + retry_in (default 10 s x 2^(attempts-1), at most 1 h), or dead at max_attempts. Same fence as complete_order (55P03).';

CREATE FUNCTION slotguard.claim_next_orders(claimant text, kind text DEFAULT NULL, lease interval DEFAULT NULL,
                                            max int DEFAULT 10)
RETURNS SETOF slotguard.orders
LANGUAGE c VOLATILE ROWS 10 SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_claim_next_orders';
COMMENT ON FUNCTION slotguard.claim_next_orders(text, text, interval, int) IS
    'Up to max (1..1000) claims at once, in claim_next_order''s order, never waiting on rows other sessions hold.';

-- --- change feed and statistics (API.md §13) ---
-- The feed: slotguard.change, written in the changing transaction by the
-- trigger enable_change_feed() puts on booking, assignment, orders and (once
-- it exists) waitlist, and by the direct booking insert itself; seq is the
-- writer's xid8 << 20 | n, so changes() can return exactly the rows whose
-- writers have all ended (src/pg/feed/feed.cpp, docs/feed.md).
CREATE TABLE slotguard.change (
    seq    bigint PRIMARY KEY,
    tenant text NOT NULL,
    entity text NOT NULL,
    id     text,
    event  text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now(),
    data   jsonb
);
COMMENT ON TABLE slotguard.change IS
    'The change feed (enable_change_feed): one row per change of a booking, assignment, order or waitlist entry. Read it with changes(after).';
SELECT pg_catalog.pg_extension_config_dump('slotguard.change', '');

CREATE FUNCTION slotguard.change_feed_trigger()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'sg_change_feed_trigger';
COMMENT ON FUNCTION slotguard.change_feed_trigger() IS
    'The trigger enable_change_feed() installs: writes the change row and NOTIFY slotguard_changes.';
REVOKE ALL ON FUNCTION slotguard.change_feed_trigger() FROM PUBLIC;

CREATE FUNCTION slotguard.enable_change_feed(notify boolean DEFAULT true)
RETURNS void
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_enable_change_feed';
COMMENT ON FUNCTION slotguard.enable_change_feed(boolean) IS
    'Starts writing slotguard.change rows (and, unless notify is false, NOTIFY slotguard_changes at commit) for every change of a booking, assignment, order or waitlist entry. Idempotent.';

CREATE FUNCTION slotguard.disable_change_feed()
RETURNS void
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_disable_change_feed';
COMMENT ON FUNCTION slotguard.disable_change_feed() IS
    'Stops the change feed (rows already written stay). Idempotent.';

CREATE FUNCTION slotguard.changes(after bigint, max int DEFAULT 1000)
RETURNS SETOF slotguard.change
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_changes';
COMMENT ON FUNCTION slotguard.changes(bigint, int) IS
    'Up to max changes after seq `after`, ascending, only of transactions that have ended: polling with the last seq seen never misses a change. A confined caller sees its tenants'' rows (with a holder claim, its own bookings'').';

CREATE FUNCTION slotguard.trim_changes(before timestamptz)
RETURNS bigint
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_trim_changes';
COMMENT ON FUNCTION slotguard.trim_changes(timestamptz) IS
    'Deletes change rows written before `before` (a confined caller: of its tenants); how many.';

-- Statistics: counted at enter_api/leave_api and on the error path, in
-- shared memory when slotguard is in shared_preload_libraries, else per
-- backend (src/pg/stats/stats.cpp, docs/stats.md).
CREATE FUNCTION slotguard.stats_rows()
RETURNS TABLE (function text, calls bigint, succeeded bigint, refused bigint, waited bigint,
               wait_ms double precision, replays bigint, holds_expired bigint, fenced bigint,
               since timestamptz, scope text)
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_stats_rows';
COMMENT ON FUNCTION slotguard.stats_rows() IS
    'The rows of slotguard.stats.';

CREATE VIEW slotguard.stats AS SELECT * FROM slotguard.stats_rows();
COMMENT ON VIEW slotguard.stats IS
    'Per API function: calls, succeeded, refused (23P01/55P03), waited, wait_ms, replays, holds_expired, fenced since the last stats_reset(); scope cluster (preloaded) or backend.';
REVOKE ALL ON slotguard.stats FROM PUBLIC;

CREATE FUNCTION slotguard.stats_reset()
RETURNS void
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_stats_reset';
COMMENT ON FUNCTION slotguard.stats_reset() IS
    'Zeroes slotguard.stats and hot_resources() (cluster-wide when preloaded).';

CREATE FUNCTION slotguard.hot_resources("limit" int DEFAULT 20)
RETURNS TABLE (resource_key text, refused bigint)
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_hot_resources';
COMMENT ON FUNCTION slotguard.hot_resources(int) IS
    'The resources with the most refused bookings since the last stats_reset(), most first (approximate beyond the 256 tracked keys).';

-- --- series and groups: several bookings, all or nothing (API.md §11) ---
-- book_series / try_book_series / cancel_series, book_together, book_any,
-- assign_any_workers (src/pg/series/). The rows of one call are admitted
-- together (one subtransaction, one scan per row, resources locked in key
-- order) and share an id from the booking ids' sequence: series_id for the
-- occurrences of a series, group_id for book_together / book_any. An
-- idempotency key is stored on the first row of the set.
ALTER TABLE slotguard.booking ADD COLUMN series_id bigint, ADD COLUMN group_id bigint;
COMMENT ON COLUMN slotguard.booking.series_id IS
    'The series (book_series) this booking is an occurrence of; NULL for a single booking.';
COMMENT ON COLUMN slotguard.booking.group_id IS
    'The group (book_together, book_any) this booking was made with; NULL for a single booking.';
CREATE INDEX booking_series_idx ON slotguard.booking (series_id) WHERE series_id IS NOT NULL;
CREATE INDEX booking_group_idx ON slotguard.booking (group_id) WHERE group_id IS NOT NULL;

CREATE FUNCTION slotguard.book_series(resource text, first tstzrange, repeat text, seats int DEFAULT 1,
                                      holder text DEFAULT NULL, hold interval DEFAULT NULL,
                                      idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS SETOF slotguard.booking
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_book_series';
COMMENT ON FUNCTION slotguard.book_series(text, tstzrange, text, int, text, interval, text, jsonb) IS
    'Books every occurrence of an RFC 5545 repeat rule (FREQ=DAILY|WEEKLY|MONTHLY;INTERVAL;COUNT|UNTIL;BYDAY) from first, at first''s local time in the resource''s zone, at most 500, or none (23P01 listing each occurrence that does not fit). The bookings share a series_id.';

CREATE FUNCTION slotguard.try_book_series(resource text, first tstzrange, repeat text, seats int DEFAULT 1,
                                          holder text DEFAULT NULL, hold interval DEFAULT NULL,
                                          idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS TABLE (occurrence tstzrange, booking_id bigint, conflicts bigint[], reason text)
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_try_book_series';
COMMENT ON FUNCTION slotguard.try_book_series(text, tstzrange, text, int, text, interval, text, jsonb) IS
    'Like book_series, but reports each occurrence (its booking id, or its conflicts and why) instead of raising on a conflict; books all or nothing.';

CREATE FUNCTION slotguard.cancel_series(series_id bigint, from_time timestamptz DEFAULT NULL)
RETURNS SETOF slotguard.booking
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_cancel_series';
COMMENT ON FUNCTION slotguard.cancel_series(bigint, timestamptz) IS
    'Cancels the occurrences of a series (those starting at or after from_time, when given: "this and following"), freeing their capacity and workers; returns them.';

CREATE FUNCTION slotguard.book_together(resources text[], during tstzrange, seats int DEFAULT 1,
                                        holder text DEFAULT NULL, hold interval DEFAULT NULL,
                                        idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS SETOF slotguard.booking
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_book_together';
COMMENT ON FUNCTION slotguard.book_together(text[], tstzrange, int, text, interval, text, jsonb) IS
    'Books the same range on every listed resource (a room and a therapist), all or nothing; the bookings share a group_id.';

CREATE FUNCTION slotguard.book_any(resources text[], during tstzrange, count int DEFAULT 1, seats int DEFAULT 1,
                                   holder text DEFAULT NULL, hold interval DEFAULT NULL,
                                   idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS SETOF slotguard.booking
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_book_any';
COMMENT ON FUNCTION slotguard.book_any(text[], tstzrange, int, int, text, interval, text, jsonb) IS
    'Books count of the listed resources that are free for during, least loaded that local day first (then list order); one taken concurrently is replaced by another free one; 23P01 only when fewer than count can be had. The bookings share a group_id.';

CREATE FUNCTION slotguard.assign_any_workers(booking_id bigint, pool text[], count int,
                                             assigned_by text DEFAULT NULL, role text DEFAULT NULL)
RETURNS SETOF slotguard.assignment
LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_assign_any_workers';
COMMENT ON FUNCTION slotguard.assign_any_workers(bigint, text[], int, text, text) IS
    'Adds count workers from pool who are free for the booking''s range, least busy that local day first, all or nothing; returns the new assignments.';
-- --- direct writes obey the §10 rules and offer freed time (API.md §10, §12) ---
-- The API is the way to write bookings and rules; a direct write by the
-- owner (or a role granted INSERT/UPDATE/DELETE) must not be a way around
-- the invariant (docs/availability.md, "Direct writes"):
-- * slotguard.booking: booking_guard (existing triggers) also checks the
--   §10 rules when a row takes time it did not take before (INSERT of an
--   active booking; UPDATE making it active, moving it, adding seats,
--   changing its holder), per-day limits as admission targets; min_notice
--   and max_advance only for new times and not under replica. A direct
--   UPDATE or DELETE that frees capacity offers it to the waitlist (the
--   DELETE through a new trigger; ORIGIN, as offers are the origin's).
-- * slotguard.resource: a direct INSERT/UPDATE of the rule columns is
--   validated (22023), takes the resource lock exclusively, bumps
--   rules_version and refuses (23P01) to strand active bookings, like
--   set_policy/set_hours without force; under replica it applies them and
--   lists the stranded bookings in a NOTICE (the origin decided).
-- * slotguard.resource_exception: the statement triggers of the §10
--   section are now C (sg_resource_exception_changed): the same lock, bump
--   and check per resource touched, and a deleted or moved closure offers
--   its time to the waitlist. The API's own writes skip all of this.
CREATE TRIGGER booking_freed_after AFTER DELETE ON slotguard.booking
    FOR EACH ROW WHEN (slotguard.booking_guard_needed()) EXECUTE FUNCTION slotguard.booking_guard();
COMMENT ON FUNCTION slotguard.booking_guard() IS
    'Trigger: derives blocked and runs the C++ capacity check and the §10 rules for direct writes to slotguard.booking; a direct UPDATE/DELETE that frees capacity offers it to the waitlist.';

CREATE FUNCTION slotguard.resource_rules_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'sg_resource_rules_guard';
COMMENT ON FUNCTION slotguard.resource_rules_guard() IS
    'Trigger: a direct write of a resource''s rule columns is validated, serialised with bookings (resource lock, rules_version bump) and refused (23P01) if it strands active bookings.';
REVOKE ALL ON FUNCTION slotguard.resource_rules_guard() FROM PUBLIC;
CREATE TRIGGER resource_rules_before_insert BEFORE INSERT ON slotguard.resource
    FOR EACH ROW WHEN (slotguard.booking_guard_needed() AND (
        NEW.timezone IS NOT NULL OR NEW.min_notice IS NOT NULL OR NEW.max_advance IS NOT NULL
        OR NEW.min_duration IS NOT NULL OR NEW.max_duration IS NOT NULL OR NEW.max_per_day IS NOT NULL
        OR NEW.max_per_holder_per_day IS NOT NULL OR NEW.hours IS NOT NULL))
    EXECUTE FUNCTION slotguard.resource_rules_guard();
CREATE TRIGGER resource_rules_before_update BEFORE UPDATE ON slotguard.resource
    FOR EACH ROW WHEN (slotguard.booking_guard_needed() AND (
        OLD.timezone IS DISTINCT FROM NEW.timezone OR OLD.min_notice IS DISTINCT FROM NEW.min_notice
        OR OLD.max_advance IS DISTINCT FROM NEW.max_advance OR OLD.min_duration IS DISTINCT FROM NEW.min_duration
        OR OLD.max_duration IS DISTINCT FROM NEW.max_duration OR OLD.max_per_day IS DISTINCT FROM NEW.max_per_day
        OR OLD.max_per_holder_per_day IS DISTINCT FROM NEW.max_per_holder_per_day
        OR OLD.hours IS DISTINCT FROM NEW.hours OR OLD.rules_version IS DISTINCT FROM NEW.rules_version))
    EXECUTE FUNCTION slotguard.resource_rules_guard();
-- (After the BEFORE trigger rules_version always differs.)
CREATE TRIGGER resource_rules_after_update AFTER UPDATE ON slotguard.resource
    FOR EACH ROW WHEN (slotguard.booking_guard_needed() AND OLD.rules_version IS DISTINCT FROM NEW.rules_version)
    EXECUTE FUNCTION slotguard.resource_rules_guard();
ALTER TABLE slotguard.resource
    ENABLE ALWAYS TRIGGER resource_rules_before_insert,
    ENABLE ALWAYS TRIGGER resource_rules_before_update,
    ENABLE ALWAYS TRIGGER resource_rules_after_update;

-- One UPDATE trigger with both transition tables (the function reads old
-- and new rows together), instead of one per table.
DROP TRIGGER resource_exception_updated_old ON slotguard.resource_exception;
DROP TRIGGER resource_exception_updated_new ON slotguard.resource_exception;
CREATE OR REPLACE FUNCTION slotguard.resource_exception_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'sg_resource_exception_changed';
COMMENT ON FUNCTION slotguard.resource_exception_changed() IS
    'Trigger: a direct write of slotguard.resource_exception locks the resources it touches, bumps their rules_version, refuses (23P01) to strand active bookings and offers the time of removed closures to the waitlist.';
CREATE TRIGGER resource_exception_updated AFTER UPDATE ON slotguard.resource_exception
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION slotguard.resource_exception_changed();
ALTER TABLE slotguard.resource_exception ENABLE ALWAYS TRIGGER resource_exception_updated;

-- ===========================================================================
-- New sections go ABOVE this one: it must stay the last part of the script.
-- --- grants of the functions new in 1.2 (keep last) ---
-- Every foreign key between slotguard's tables (booking and assignment,
-- resource_exception, waitlist, and any a section adds): the action
-- triggers on the referenced table fire under session_replication_role =
-- replica too (see "foreign keys between slotguard's tables under logical
-- replication" for why). One pass here, after every section has made its
-- tables.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT tg.tgrelid::pg_catalog.regclass AS tbl, tg.tgname
        FROM pg_catalog.pg_trigger tg
        JOIN pg_catalog.pg_constraint c ON c.oid = tg.tgconstraint
        JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
        JOIN pg_catalog.pg_class f ON f.oid = c.confrelid
        WHERE c.contype = 'f' AND tg.tgrelid = c.confrelid AND tg.tgenabled = 'O'
          AND r.relnamespace = 'slotguard'::pg_catalog.regnamespace
          AND f.relnamespace = 'slotguard'::pg_catalog.regnamespace
        ORDER BY c.conname, tg.tgname
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', t.tbl, t.tgname);
    END LOOP;
END
$$;

-- An update keeps the grants that existed (API.md §8 (1.2)). A function
-- created above has the default ACL (PUBLIC may execute): right for a
-- database whose DBA never changed slotguard's grants, wrong for one whose
-- DBA revoked them from PUBLIC in 1.1. So every application function new
-- here takes book_slot's grants, every administrator function
-- upsert_resource's, when those differ from the default; a fresh install
-- then revokes everything from PUBLIC (control/fresh_install.sql).
-- slotguard.access_functions(admin): the functions grant_access gives.
-- Defined here, after every section: its list is resolved when it is
-- defined, so every function it names must exist by then (and a function a
-- section drops and recreates, as the orders section does, must not be
-- pinned by it before).
CREATE FUNCTION slotguard.access_functions(admin boolean)
RETURNS regprocedure[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN admin THEN ARRAY[
    'slotguard.upsert_resource(text, int, interval, interval, text, jsonb)',
    'slotguard.protect(regclass, text, text, text, int, text)',
    'slotguard.unprotect(regclass)',
    'slotguard.confine(regrole, text[], text, text)',
    'slotguard.unconfine(regrole)',
    'slotguard.expire_holds(int)',
    'slotguard.enable_change_feed(boolean)',
    'slotguard.disable_change_feed()',
    'slotguard.trim_changes(timestamptz)',
    'slotguard.stats_rows()',
    'slotguard.stats_reset()',
    'slotguard.hot_resources(int)',
    'slotguard.set_policy(text, text, interval, interval, interval, interval, int, int, boolean)',
    'slotguard.set_hours(text, text, boolean)',
    'slotguard.add_closure(text, tstzrange, text, boolean)',
    'slotguard.add_opening(text, tstzrange, text)',
    'slotguard.remove_exception(bigint, boolean)',
    'slotguard.sync_busy(text, text, tstzrange, tstzrange[])']::regprocedure[]
ELSE ARRAY[
    'slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb)',
    'slotguard.try_book_slot(text, tstzrange, int, text, interval, text, jsonb)',
    'slotguard.confirm_booking(bigint)',
    'slotguard.cancel_booking(bigint)',
    'slotguard.reschedule_booking(bigint, tstzrange)',
    'slotguard.free_slots(text, tstzrange, interval, interval, int)',
    'slotguard.availability(text, tstzrange)',
    'slotguard.assign_workers(bigint, text[], text, text)',
    'slotguard.unassign_worker(bigint, text)',
    'slotguard.worker_schedule(text, tstzrange)',
    'slotguard.add_order(text, text, boolean, jsonb, int, timestamptz, int)',
    'slotguard.set_order_ready(text)',
    'slotguard.claim_order(text, text, interval)',
    'slotguard.try_claim_order(text, text, interval)',
    'slotguard.claim_next_order(text, text, interval)',
    'slotguard.release_order(text, text, bigint)',
    'slotguard.complete_order(text, text, bigint)',
    'slotguard.renew_lease(text, text, interval, bigint)',
    'slotguard.fail_order(text, text, text, interval, bigint)',
    'slotguard.claim_next_orders(text, text, interval, int)',
    'slotguard.tenant_of(text)',
    'slotguard.shard_info()',
    'slotguard.join_waitlist(text, tstzrange, int, text, interval, jsonb)',
    'slotguard.leave_waitlist(bigint)',
    'slotguard.changes(bigint, int)',
    'slotguard.book_series(text, tstzrange, text, int, text, interval, text, jsonb)',
    'slotguard.try_book_series(text, tstzrange, text, int, text, interval, text, jsonb)',
    'slotguard.cancel_series(bigint, timestamptz)',
    'slotguard.book_together(text[], tstzrange, int, text, interval, text, jsonb)',
    'slotguard.book_any(text[], tstzrange, int, int, text, interval, text, jsonb)',
    'slotguard.assign_any_workers(bigint, text[], int, text, text)',
    'slotguard.opening(text, tstzrange)']::regprocedure[]
END;
COMMENT ON FUNCTION slotguard.access_functions(boolean) IS
    'The functions grant_access gives: the application''s (admin false) or, in addition, the administrator''s (admin true).';
REVOKE ALL ON FUNCTION slotguard.access_functions(boolean) FROM PUBLIC;

DO $$
DECLARE
    f regprocedure;
    peer regprocedure;
    g record;
BEGIN
    FOR f, peer IN
        SELECT u.f, 'slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb)'::regprocedure
        FROM pg_catalog.unnest(slotguard.access_functions(false)) AS u(f)
        UNION ALL
        SELECT u.f, 'slotguard.upsert_resource(text, int, interval, interval, text, jsonb)'::regprocedure
        FROM pg_catalog.unnest(slotguard.access_functions(true)) AS u(f)
    LOOP
        CONTINUE WHEN (SELECT p.proacl IS NOT NULL FROM pg_catalog.pg_proc p WHERE p.oid = f)
                   OR (SELECT p.proacl IS NULL FROM pg_catalog.pg_proc p WHERE p.oid = peer);
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        FOR g IN SELECT a.grantee FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
                 WHERE p.oid = peer AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
        LOOP
            IF g.grantee = 0 THEN
                EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
            ELSE
                EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I', f,
                                          (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid = g.grantee));
            END IF;
        END LOOP;
    END LOOP;
END
$$;
