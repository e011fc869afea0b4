-- slotguard 1.1 -> 1.2: hardening (privileges, replication, limits) and the
-- 1.2 features of the contract (API.md §8 (1.2), §10-§15).
\echo Use "ALTER EXTENSION slotguard UPDATE TO '1.2'" to load this file. \quit

-- Each part below is its own section; a new part gets a new section.

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
