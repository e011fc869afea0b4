-- slotguard 1.1 -> 1.2: hardening (privileges, replication, limits) and the
-- 1.2 features of the contract (API.md §8 (1.2), §10-§15).
\echo Use "ALTER EXTENSION slotguard UPDATE TO '1.2'" to load this file. \quit

-- Each part below is its own section; a new part gets a new section.

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
