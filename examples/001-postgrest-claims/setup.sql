-- Seed 001 (Supabase: psychologists' sessions, 20 clients on one slot), the
-- PostgREST/Supabase way: no application server of your own; the gateway
-- connects as `authenticator` and, per request, switches to the JWT's role
-- and publishes the claims with set_config(..., true). slotguard confines
-- each role to the tenant (and holder) named in request.jwt.claims.
-- Run as the DBA after CREATE EXTENSION slotguard CASCADE.
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'staff'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD 'authenticator-secret';
    END IF;
END $$;
GRANT anon, authenticated, staff TO authenticator;

-- Clients and staff: the application functions. anon: free time only.
SELECT slotguard.grant_access('authenticated');
SELECT slotguard.grant_access('staff');
GRANT USAGE ON SCHEMA slotguard TO anon;
GRANT EXECUTE ON FUNCTION slotguard.free_slots(text, tstzrange, interval, interval, int),
                          slotguard.availability(text, tstzrange) TO anon;

-- The tenant (practice) is the JWT's "tenant"; a client is its "sub" and
-- only ever sees, confirms or cancels their own sessions.
SELECT role FROM slotguard.confine('authenticated', tenant_claim => 'tenant', holder_claim => 'sub');
SELECT role FROM slotguard.confine('staff', tenant_claim => 'tenant');
