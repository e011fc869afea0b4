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
CREATE FUNCTION slotguard.access_functions(admin boolean)
RETURNS regprocedure[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN admin THEN ARRAY[
    'slotguard.upsert_resource(text, int, interval, interval, text, jsonb)',
    'slotguard.protect(regclass, text, text, text, int, text)',
    'slotguard.unprotect(regclass)']::regprocedure[]
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
    'slotguard.add_order(text, text, boolean, jsonb)',
    'slotguard.set_order_ready(text)',
    'slotguard.claim_order(text, text, interval)',
    'slotguard.try_claim_order(text, text, interval)',
    'slotguard.claim_next_order(text, text, interval)',
    'slotguard.release_order(text, text)',
    'slotguard.complete_order(text, text)',
    'slotguard.tenant_of(text)',
    'slotguard.shard_info()']::regprocedure[]
END;
COMMENT ON FUNCTION slotguard.access_functions(boolean) IS
    'The functions grant_access gives: the application''s (admin false) or, in addition, the administrator''s (admin true).';

CREATE FUNCTION slotguard.grant_access(role regrole, admin boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f regprocedure;
BEGIN
    IF grant_access.role IS NULL OR grant_access.admin IS NULL THEN
        RAISE EXCEPTION 'grant_access: role and admin must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA slotguard TO %s', grant_access.role);
    FOR f IN SELECT pg_catalog.unnest(slotguard.access_functions(false))
             UNION ALL
             SELECT pg_catalog.unnest(slotguard.access_functions(true)) WHERE grant_access.admin
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f, grant_access.role);
    END LOOP;
    IF grant_access.admin THEN
        EXECUTE pg_catalog.format('GRANT SELECT ON slotguard.guards TO %s', grant_access.role);
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
    FOR f IN SELECT pg_catalog.unnest(slotguard.access_functions(false) || slotguard.access_functions(true)) LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM %s', f, revoke_access.role);
    END LOOP;
    EXECUTE pg_catalog.format('REVOKE SELECT ON slotguard.guards FROM %s', revoke_access.role);
    EXECUTE pg_catalog.format('REVOKE USAGE ON SCHEMA slotguard FROM %s', revoke_access.role);
END
$$;
COMMENT ON FUNCTION slotguard.revoke_access(regrole) IS
    'Takes back from a role what grant_access gave it (grants made to PUBLIC or to a role it belongs to still apply).';

REVOKE ALL ON FUNCTION slotguard.access_functions(boolean), slotguard.grant_access(regrole, boolean),
    slotguard.revoke_access(regrole) FROM PUBLIC;
