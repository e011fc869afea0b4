-- slotguard 1.0: atomic, overlap- and capacity-aware bookings.
\echo Use "CREATE EXTENSION slotguard" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Tables. Written only through the functions below (or by the owner, whose
-- direct writes to booking are checked by the same C++ code in a trigger).
-- ---------------------------------------------------------------------------

CREATE TABLE slotguard.resource (
    key           text PRIMARY KEY CHECK (btrim(key) <> ''),
    kind          text,
    capacity      int NOT NULL DEFAULT 1 CHECK (capacity >= 1),
    buffer_before interval NOT NULL DEFAULT '0' CHECK (buffer_before >= interval '0'),
    buffer_after  interval NOT NULL DEFAULT '0' CHECK (buffer_after >= interval '0'),
    metadata      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE slotguard.resource IS
    'Bookable things: a room, a person, a class. capacity = seats at any instant; buffers widen every booking.';

CREATE TABLE slotguard.booking (
    id              bigserial PRIMARY KEY,
    resource_key    text NOT NULL,
    during          tstzrange NOT NULL,
    seats           int NOT NULL DEFAULT 1 CHECK (seats >= 1),
    status          text NOT NULL DEFAULT 'confirmed'
                    CHECK (status IN ('held', 'confirmed', 'cancelled')),
    holder          text,
    idempotency_key text,
    hold_expires_at timestamptz,
    metadata        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- during widened by the resource's buffers; maintained by slotguard.
    blocked         tstzrange NOT NULL,
    CONSTRAINT booking_held_has_expiry CHECK (status <> 'held' OR hold_expires_at IS NOT NULL)
);
COMMENT ON TABLE slotguard.booking IS
    'Bookings. Invariant: per resource and instant, seats of active bookings whose blocked range covers it <= capacity.';
COMMENT ON COLUMN slotguard.booking.blocked IS
    'during widened by the resource''s buffer_before/buffer_after (derived; what the conflict check compares).';

-- The foreign key documents the relationship, keeps a resource that has
-- bookings from being deleted, and makes pg_dump load resources before
-- bookings. Its per-row check on booking is switched off: booking_guard
-- already checks the resource exists, without the row lock on the resource
-- that a foreign-key check takes for every booking (a hot spot on a busy
-- resource).
ALTER TABLE slotguard.booking ADD CONSTRAINT booking_resource_fk
    FOREIGN KEY (resource_key) REFERENCES slotguard.resource (key);
ALTER TABLE slotguard.booking DISABLE TRIGGER ALL;

-- The conflict check scans this index with a dirty snapshot (docs/concurrency.md).
CREATE INDEX booking_blocked_idx ON slotguard.booking
    USING gist (resource_key, blocked) WHERE status <> 'cancelled';
CREATE UNIQUE INDEX booking_idempotency_key_idx ON slotguard.booking (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

SELECT pg_catalog.pg_extension_config_dump('slotguard.resource', '');
SELECT pg_catalog.pg_extension_config_dump('slotguard.booking', '');
SELECT pg_catalog.pg_extension_config_dump('slotguard.booking_id_seq', '');

-- Workers (contract §3). `during` is a copy of the booking's, kept in step by
-- slotguard, so a worker's conflicts are one index scan away.
CREATE TABLE slotguard.assignment (
    id          bigserial PRIMARY KEY,
    booking_id  bigint NOT NULL REFERENCES slotguard.booking (id),
    worker      text NOT NULL CHECK (btrim(worker) <> ''),
    role        text,
    assigned_by text,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
    assigned_at timestamptz NOT NULL DEFAULT now(),
    during      tstzrange NOT NULL
);
COMMENT ON TABLE slotguard.assignment IS
    'Workers on bookings. Invariant: a worker is never active on two active bookings whose during ranges overlap.';

CREATE INDEX assignment_worker_during_idx ON slotguard.assignment
    USING gist (worker, during) WHERE status = 'active';
CREATE UNIQUE INDEX assignment_active_worker_idx ON slotguard.assignment (booking_id, worker)
    WHERE status = 'active';

SELECT pg_catalog.pg_extension_config_dump('slotguard.assignment', '');
SELECT pg_catalog.pg_extension_config_dump('slotguard.assignment_id_seq', '');

-- ---------------------------------------------------------------------------
-- Settings, checks and triggers
-- ---------------------------------------------------------------------------

CREATE FUNCTION slotguard.booking_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'sg_booking_guard';
COMMENT ON FUNCTION slotguard.booking_guard() IS
    'Trigger: derives blocked and runs the C++ capacity check for direct writes to slotguard.booking.';

CREATE FUNCTION slotguard.resource_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'sg_resource_guard';
COMMENT ON FUNCTION slotguard.resource_guard() IS
    'Trigger: a change of capacity or buffers re-derives blocked ranges and re-checks the resource''s bookings (23P01).';

CREATE FUNCTION slotguard.assignment_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'sg_assignment_guard';
COMMENT ON FUNCTION slotguard.assignment_guard() IS
    'Trigger: runs the C++ worker-overlap check for direct writes to slotguard.assignment.';

CREATE FUNCTION slotguard.booking_guard_needed() RETURNS boolean
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sg_booking_guard_needed';
COMMENT ON FUNCTION slotguard.booking_guard_needed() IS
    'False while a slotguard function writes a booking it has already checked (keeps those rows out of the trigger queue).';

-- BEFORE derives `blocked` and validates; AFTER (once the row is visible to
-- concurrent checkers) runs the capacity check.
CREATE TRIGGER booking_guard_before BEFORE INSERT OR UPDATE ON slotguard.booking
    FOR EACH ROW WHEN (slotguard.booking_guard_needed()) EXECUTE FUNCTION slotguard.booking_guard();
CREATE TRIGGER booking_guard_after AFTER INSERT OR UPDATE ON slotguard.booking
    FOR EACH ROW WHEN (slotguard.booking_guard_needed()) EXECUTE FUNCTION slotguard.booking_guard();
CREATE TRIGGER resource_guard_after AFTER UPDATE OF capacity, buffer_before, buffer_after ON slotguard.resource
    FOR EACH ROW WHEN (OLD.capacity IS DISTINCT FROM NEW.capacity OR OLD.buffer_before IS DISTINCT FROM NEW.buffer_before
                       OR OLD.buffer_after IS DISTINCT FROM NEW.buffer_after)
    EXECUTE FUNCTION slotguard.resource_guard();
CREATE TRIGGER assignment_guard_before BEFORE INSERT OR UPDATE ON slotguard.assignment
    FOR EACH ROW WHEN (slotguard.booking_guard_needed()) EXECUTE FUNCTION slotguard.assignment_guard();
CREATE TRIGGER assignment_guard_after AFTER INSERT OR UPDATE ON slotguard.assignment
    FOR EACH ROW WHEN (slotguard.booking_guard_needed()) EXECUTE FUNCTION slotguard.assignment_guard();

-- ---------------------------------------------------------------------------
-- API (contract §2). No function is STRICT: NULL arguments raise 22004.
-- ---------------------------------------------------------------------------

CREATE FUNCTION slotguard.upsert_resource(
    key text, capacity int DEFAULT 1, buffer_before interval DEFAULT '0',
    buffer_after interval DEFAULT '0', kind text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS slotguard.resource
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_upsert_resource';
COMMENT ON FUNCTION slotguard.upsert_resource(text, int, interval, interval, text, jsonb) IS
    'Creates or changes a resource; a change that would overbook existing active bookings fails with 23P01.';

CREATE FUNCTION slotguard.book_slot(
    resource text, during tstzrange, seats int DEFAULT 1, holder text DEFAULT NULL,
    hold interval DEFAULT NULL, idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS slotguard.booking
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_book_slot';
COMMENT ON FUNCTION slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb) IS
    'Atomically books seats on a resource for a range or raises 23P01 (DETAIL: conflicting ids, HINT: free alternatives).';

CREATE FUNCTION slotguard.try_book_slot(
    resource text, during tstzrange, seats int DEFAULT 1, holder text DEFAULT NULL,
    hold interval DEFAULT NULL, idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL)
RETURNS TABLE (booking_id bigint, conflicts bigint[], suggestions tstzrange[])
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 1
AS 'MODULE_PATHNAME', 'sg_try_book_slot';
COMMENT ON FUNCTION slotguard.try_book_slot(text, tstzrange, int, text, interval, text, jsonb) IS
    'Like book_slot, but a conflict returns one row with booking_id NULL, the conflicting ids and free alternatives.';

CREATE FUNCTION slotguard.confirm_booking(booking_id bigint)
RETURNS slotguard.booking
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_confirm_booking';
COMMENT ON FUNCTION slotguard.confirm_booking(bigint) IS
    'held -> confirmed. An expired hold is re-checked and confirmed if its slot is still free, else 55000.';

CREATE FUNCTION slotguard.cancel_booking(booking_id bigint)
RETURNS slotguard.booking
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_cancel_booking';
COMMENT ON FUNCTION slotguard.cancel_booking(bigint) IS
    'Cancels a booking (idempotent) and frees its capacity.';

CREATE FUNCTION slotguard.reschedule_booking(booking_id bigint, during tstzrange)
RETURNS slotguard.booking
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_reschedule_booking';
COMMENT ON FUNCTION slotguard.reschedule_booking(bigint, tstzrange) IS
    'Atomically moves a booking; its old range counts as free. Conflict: 23P01 and the booking is unchanged.';

CREATE FUNCTION slotguard.free_slots(
    resource text, search tstzrange, duration interval, step interval DEFAULT NULL, seats int DEFAULT 1)
RETURNS SETOF tstzrange
LANGUAGE c STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 100
AS 'MODULE_PATHNAME', 'sg_free_slots';
COMMENT ON FUNCTION slotguard.free_slots(text, tstzrange, interval, interval, int) IS
    'Every bookable [t, t+duration) inside search, t on a step grid from lower(search), ascending.';

CREATE FUNCTION slotguard.availability(resource text, search tstzrange)
RETURNS TABLE (during tstzrange, free_seats int)
LANGUAGE c STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 10
AS 'MODULE_PATHNAME', 'sg_availability';
COMMENT ON FUNCTION slotguard.availability(text, tstzrange) IS
    'Capacity profile: maximal runs of constant free seats covering search.';

-- ---------------------------------------------------------------------------
-- Workers API (contract §3).
-- ---------------------------------------------------------------------------

CREATE FUNCTION slotguard.assign_workers(
    booking_id bigint, workers text[], assigned_by text DEFAULT NULL, role text DEFAULT NULL)
RETURNS SETOF slotguard.assignment
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 3
AS 'MODULE_PATHNAME', 'sg_assign_workers';
COMMENT ON FUNCTION slotguard.assign_workers(bigint, text[], text, text) IS
    'Makes the booking''s active workers exactly `workers`, all or nothing; 23P01 if a worker would overlap another booking.';

CREATE FUNCTION slotguard.unassign_worker(booking_id bigint, worker text)
RETURNS boolean
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_unassign_worker';
COMMENT ON FUNCTION slotguard.unassign_worker(bigint, text) IS
    'Removes a worker from a booking; true if the worker was active on it.';

CREATE FUNCTION slotguard.worker_schedule(worker text, search tstzrange)
RETURNS TABLE (booking_id bigint, during tstzrange, resource_key text)
LANGUAGE c STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 10
AS 'MODULE_PATHNAME', 'sg_worker_schedule';
COMMENT ON FUNCTION slotguard.worker_schedule(text, tstzrange) IS
    'The worker''s active assignments on active bookings overlapping search, by start time.';

-- ---------------------------------------------------------------------------
-- Privileges (contract §8): the API is public, the tables are not.
-- ---------------------------------------------------------------------------
GRANT USAGE ON SCHEMA slotguard TO PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA slotguard FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA slotguard FROM PUBLIC;
REVOKE ALL ON FUNCTION slotguard.booking_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION slotguard.booking_guard_needed() FROM PUBLIC;
REVOKE ALL ON FUNCTION slotguard.assignment_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION slotguard.resource_guard() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    slotguard.upsert_resource(text, int, interval, interval, text, jsonb),
    slotguard.book_slot(text, tstzrange, int, text, interval, text, jsonb),
    slotguard.try_book_slot(text, tstzrange, int, text, interval, text, jsonb),
    slotguard.confirm_booking(bigint),
    slotguard.cancel_booking(bigint),
    slotguard.reschedule_booking(bigint, tstzrange),
    slotguard.free_slots(text, tstzrange, interval, interval, int),
    slotguard.availability(text, tstzrange),
    slotguard.assign_workers(bigint, text[], text, text),
    slotguard.unassign_worker(bigint, text),
    slotguard.worker_schedule(text, tstzrange)
TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Orders (contract §4): first-come claims, with optional leases.
--
-- Claimable = status 'ready', or status 'claimed' with lease_expires_at <=
-- now() (the transaction's start, as for holds). An expired claim keeps
-- status 'claimed' and its claimant until another claimant takes it over;
-- from then on the old claimant's release/complete fail with 55P03 (fencing).
-- ---------------------------------------------------------------------------

CREATE TABLE slotguard.orders (
    key              text PRIMARY KEY CHECK (btrim(key) <> ''),
    kind             text,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'ready', 'claimed', 'done', 'cancelled')),
    claimant         text CHECK (btrim(claimant) <> ''),
    claimed_at       timestamptz,
    lease_expires_at timestamptz,
    payload          jsonb,
    ready_at         timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- The seed's consistency rule, made real: a claimant, and the time it
    -- claimed, exactly when the order is claimed or done.
    CONSTRAINT orders_claimant_consistency CHECK (
        (status IN ('claimed', 'done')) = (claimant IS NOT NULL)
        AND (status IN ('claimed', 'done')) = (claimed_at IS NOT NULL)),
    -- A lease belongs to a claim in progress and ends after it began.
    CONSTRAINT orders_lease_consistency CHECK (
        lease_expires_at IS NULL OR (status = 'claimed' AND lease_expires_at > claimed_at)),
    -- ready_at orders the queue: set once an order is ready (and kept while
    -- it is claimed or done), absent while it is pending.
    CONSTRAINT orders_ready_consistency CHECK (
        CASE status WHEN 'pending' THEN ready_at IS NULL
                    WHEN 'cancelled' THEN true
                    ELSE ready_at IS NOT NULL END)
);
COMMENT ON TABLE slotguard.orders IS
    'Orders claimed first-come: exactly one claimant per order; a claim with an expired lease can be taken over.';

-- claim_next_order takes the oldest claimable order by (ready_at, key). The
-- two kinds of claimable row come from separate partial indexes, so no scan
-- steps over claims that are still running: ready orders in queue order (all
-- of them, or of one kind), and claims with a lease by expiry time, where the
-- range "lease_expires_at <= now()" reads only the expired ones. While that
-- range is empty (the normal case) the claim is one index probe plus one
-- ready-queue scan; otherwise the two are merged in queue order
-- (src/pg/order_api.cpp).
CREATE INDEX orders_ready_idx ON slotguard.orders (ready_at, key) WHERE status = 'ready';
CREATE INDEX orders_ready_kind_idx ON slotguard.orders (kind, ready_at, key) WHERE status = 'ready';
CREATE INDEX orders_lease_idx ON slotguard.orders (lease_expires_at)
    WHERE status = 'claimed' AND lease_expires_at IS NOT NULL;

SELECT pg_catalog.pg_extension_config_dump('slotguard.orders', '');
REVOKE ALL ON slotguard.orders FROM PUBLIC;

CREATE FUNCTION slotguard.add_order(
    key text, kind text DEFAULT NULL, ready boolean DEFAULT true, payload jsonb DEFAULT NULL)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_add_order';
COMMENT ON FUNCTION slotguard.add_order(text, text, boolean, jsonb) IS
    'Adds an order, ready at once (ready_at = now()) or pending; a duplicate key fails with 23505.';

CREATE FUNCTION slotguard.set_order_ready(key text)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_set_order_ready';
COMMENT ON FUNCTION slotguard.set_order_ready(text) IS
    'pending -> ready (ready_at = now()); a ready order is returned unchanged; claimed, done or cancelled: 55000.';

CREATE FUNCTION slotguard.claim_order(key text, claimant text, lease interval DEFAULT NULL)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_claim_order';
COMMENT ON FUNCTION slotguard.claim_order(text, text, interval) IS
    'Claims a ready order (or one whose lease expired); exactly one concurrent caller wins, the others get 55P03. '
    'The same claimant again gets its claim back unchanged (the lease is not extended).';

CREATE FUNCTION slotguard.claim_next_order(claimant text, kind text DEFAULT NULL, lease interval DEFAULT NULL)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_claim_next_order';
COMMENT ON FUNCTION slotguard.claim_next_order(text, text, interval) IS
    'Claims the oldest claimable order (of kind, if given) without waiting on rows other sessions hold; NULL when none.';

CREATE FUNCTION slotguard.release_order(key text, claimant text)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_release_order';
COMMENT ON FUNCTION slotguard.release_order(text, text) IS
    'claimed -> ready, keeping its place in the queue; only the claimant, while its lease runs, else 55P03.';

CREATE FUNCTION slotguard.complete_order(key text, claimant text)
RETURNS slotguard.orders
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_complete_order';
COMMENT ON FUNCTION slotguard.complete_order(text, text) IS
    'claimed -> done; only the claimant, while its lease runs, else 55P03. A retry by the same claimant returns the done order.';

GRANT EXECUTE ON FUNCTION
    slotguard.add_order(text, text, boolean, jsonb),
    slotguard.set_order_ready(text),
    slotguard.claim_order(text, text, interval),
    slotguard.claim_next_order(text, text, interval),
    slotguard.release_order(text, text),
    slotguard.complete_order(text, text)
TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Guards for the application's own tables (contract §5)
--
-- protect(tbl, resource, during, active, capacity, seats) keeps the §1
-- invariant on a table of the application: for every resource and instant,
-- the seats of its active rows whose `during` covers that instant sum to at
-- most `capacity`. The four arguments are SQL expressions over the table's
-- columns. `during` is usually STABLE (timestamptz + interval), so no
-- expression index or EXCLUDE constraint on the table can do this; instead
-- each active row gets one entry in slotguard.guard_entry, written by an
-- AFTER ROW trigger inside the same admission protocol as book_slot
-- (src/pg/protect_trigger.cpp, docs/concurrency.md), and every check scans
-- entries only.
--
-- The expressions run as the table's owner in a security-restricted
-- operation (never as slotguard's owner, never as the writing role), with
-- search_path = pg_catalog, pg_temp (qualify your own functions) and the
-- TimeZone, DateStyle and IntervalStyle protect() was called with (kept in
-- guard.settings), so every session computes the same ranges and keys.
-- protect/unprotect are SECURITY DEFINER like the rest of the API and check
-- that the session's role (the outer user: login or SET ROLE) owns the table.
--
-- pg_dump: guard and guard_entry are configuration tables (dumped with
-- their data); the triggers belong to the application's table and are
-- restored with it, after its data. A dropped table's guard is removed by
-- the slotguard_guard_dropped event trigger.
-- ---------------------------------------------------------------------------

CREATE TABLE slotguard.guard (
    id            serial PRIMARY KEY,
    tbl           regclass NOT NULL UNIQUE,
    resource_expr text NOT NULL,
    during_expr   text NOT NULL,
    active_expr   text NOT NULL DEFAULT 'true',
    capacity      int NOT NULL DEFAULT 1 CHECK (capacity >= 1),
    seats_expr    text NOT NULL DEFAULT '1',
    -- The table's primary key: rows are named by it.
    key_columns   text[] NOT NULL,
    -- "name=value" settings the expressions are evaluated with.
    settings      text[] NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE slotguard.guard IS
    'One row per table protected by slotguard.protect(): its expressions, capacity and primary key columns.';

-- One row per ACTIVE row of a protected table (inactive rows have none).
-- No foreign key to guard: its per-row check would lock the guard row on
-- every write of every session.
CREATE TABLE slotguard.guard_entry (
    guard_id  int NOT NULL,
    row_key   text NOT NULL,
    entry_key text NOT NULL,
    blocked   tstzrange NOT NULL,
    seats     int NOT NULL CHECK (seats >= 1),
    PRIMARY KEY (guard_id, row_key)
);
COMMENT ON TABLE slotguard.guard_entry IS
    'Active rows of protected tables: row_key = the row''s primary key as text, entry_key = guard id || ''/'' || resource.';

-- The guard's conflict check scans this index with a dirty snapshot.
CREATE INDEX guard_entry_key_blocked_idx ON slotguard.guard_entry USING gist (entry_key, blocked);

SELECT pg_catalog.pg_extension_config_dump('slotguard.guard', '');
SELECT pg_catalog.pg_extension_config_dump('slotguard.guard_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('slotguard.guard_entry', '');
REVOKE ALL ON slotguard.guard, slotguard.guard_entry FROM PUBLIC;
REVOKE ALL ON SEQUENCE slotguard.guard_id_seq FROM PUBLIC;

-- Readable by PUBLIC, like pg_indexes and pg_trigger: it shows only the
-- guards' definitions, never rows of the tables.
CREATE VIEW slotguard.guards AS
SELECT g.tbl,
       pg_catalog.format('slotguard_guard on %I.%I', n.nspname, c.relname) AS name,
       g.resource_expr AS resource,
       g.during_expr AS during,
       g.active_expr AS active,
       g.capacity,
       g.seats_expr AS seats,
       g.key_columns,
       g.settings,
       g.created_at
FROM slotguard.guard g
LEFT JOIN pg_catalog.pg_class c ON c.oid = g.tbl
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;
COMMENT ON VIEW slotguard.guards IS
    'Tables protected by slotguard.protect(), one row each, with their expressions.';
GRANT SELECT ON slotguard.guards TO PUBLIC;

CREATE FUNCTION slotguard.guard_trigger() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'sg_guard_trigger';
COMMENT ON FUNCTION slotguard.guard_trigger() IS
    'Trigger installed by protect(): keeps the row''s guard entry, admitting it with the C++ capacity check (23P01).';

CREATE FUNCTION slotguard.protect(
    tbl regclass, resource text, during text, active text DEFAULT 'true',
    capacity int DEFAULT 1, seats text DEFAULT '1')
RETURNS text
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_protect';
COMMENT ON FUNCTION slotguard.protect(regclass, text, text, text, int, text) IS
    'Guards a table of yours: active rows may not overbook a resource (23P01). Refuses if existing rows already do. Returns the guard''s name.';

CREATE FUNCTION slotguard.unprotect(tbl regclass)
RETURNS text
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'sg_unprotect';
COMMENT ON FUNCTION slotguard.unprotect(regclass) IS
    'Removes what protect() installed on the table (triggers, guard, entries); P0002 if it is not protected. Returns the guard''s name.';

CREATE FUNCTION slotguard.guard_table_dropped() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM slotguard.guard_entry e
    USING slotguard.guard g, pg_catalog.pg_event_trigger_dropped_objects() d
    WHERE e.guard_id = g.id AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.objid = g.tbl::pg_catalog.oid AND d.objsubid = 0;
    DELETE FROM slotguard.guard g
    USING pg_catalog.pg_event_trigger_dropped_objects() d
    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.objid = g.tbl::pg_catalog.oid AND d.objsubid = 0;
END
$$;
COMMENT ON FUNCTION slotguard.guard_table_dropped() IS
    'Event trigger: forgets the guard of a protected table that is dropped.';
CREATE EVENT TRIGGER slotguard_guard_dropped ON sql_drop
    EXECUTE FUNCTION slotguard.guard_table_dropped();

REVOKE ALL ON FUNCTION slotguard.guard_trigger() FROM PUBLIC;
REVOKE ALL ON FUNCTION slotguard.guard_table_dropped() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    slotguard.protect(regclass, text, text, text, int, text),
    slotguard.unprotect(regclass)
TO PUBLIC;
