-- Every API function of the installed schema, with a conflict on each that
-- can have one. Run by test/older_schema_keeps_working.sh with psql
-- variables p (a key prefix, so the script can run twice in one database)
-- and v11 (true when the schema has 1.1's functions). Stops at the first
-- wrong answer.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\set room :p 'room'
\set room2 :p 'room2'
\set hall :p 'hall'

-- Resources; a capacity change that would overbook is refused.
SELECT key FROM slotguard.upsert_resource(:'room', 1);
SELECT key FROM slotguard.upsert_resource(:'room2', 1);
SELECT key FROM slotguard.upsert_resource(:'hall', 2, '10 minutes', '10 minutes');
SELECT id AS hall1 FROM slotguard.book_slot(:'hall', '[2031-01-01 10:00+00,2031-01-01 11:00+00)', seats => 2) \gset
SELECT sgt.expect(format('SELECT slotguard.upsert_resource(%L, 1)', :'hall'), '23P01');
SELECT sgt.expect(format('SELECT slotguard.book_slot(%L, %L)', :'hall', '[2031-01-01 11:05+00,2031-01-01 12:00+00)'), '23P01');

-- book_slot and try_book_slot.
SELECT id AS b1 FROM slotguard.book_slot(:'room', '[2031-01-01 10:00+00,2031-01-01 11:00+00)', holder => 'ana') \gset
SELECT sgt.expect(format('SELECT slotguard.book_slot(%L, %L)', :'room', '[2031-01-01 10:30+00,2031-01-01 11:30+00)'), '23P01');
SELECT sgt.ok(booking_id IS NULL AND conflicts = ARRAY[:b1]::bigint[] AND cardinality(suggestions) > 0, 'try_book_slot conflict')
  FROM slotguard.try_book_slot(:'room', '[2031-01-01 10:30+00,2031-01-01 11:30+00)');
SELECT booking_id AS b2 FROM slotguard.try_book_slot(:'room', '[2031-01-01 12:00+00,2031-01-01 13:00+00)') \gset
SELECT sgt.ok(:'b2' <> '', 'try_book_slot books a free slot');
SELECT id AS idem FROM slotguard.book_slot(:'room', '[2031-01-02 10:00+00,2031-01-02 11:00+00)', idempotency_key => :'p' || 'k1') \gset
SELECT sgt.ok(id = :idem, 'idempotent retry')
  FROM slotguard.book_slot(:'room', '[2031-01-02 10:00+00,2031-01-02 11:00+00)', idempotency_key => :'p' || 'k1');

-- Holds: confirm; an expired hold whose slot was taken cannot be confirmed.
SELECT id AS h1 FROM slotguard.book_slot(:'room', '[2031-01-01 14:00+00,2031-01-01 15:00+00)', hold => '1 hour') \gset
SELECT sgt.ok(status = 'confirmed', 'confirm_booking') FROM slotguard.confirm_booking(:h1);
SELECT id AS h2 FROM slotguard.book_slot(:'room', '[2031-01-01 16:00+00,2031-01-01 17:00+00)', hold => '1 millisecond') \gset
SELECT pg_sleep(0.01);
SELECT id AS h2taker FROM slotguard.book_slot(:'room', '[2031-01-01 16:00+00,2031-01-01 17:00+00)') \gset
SELECT sgt.expect(format('SELECT slotguard.confirm_booking(%s)', :h2), '55000');

-- reschedule_booking: into a taken range 23P01 (unchanged), else moved.
SELECT sgt.expect(format('SELECT slotguard.reschedule_booking(%s, %L)', :b2, '[2031-01-01 10:30+00,2031-01-01 11:30+00)'), '23P01');
SELECT sgt.ok(during = '[2031-01-01 12:30+00,2031-01-01 13:30+00)', 'reschedule_booking')
  FROM slotguard.reschedule_booking(:b2, '[2031-01-01 12:30+00,2031-01-01 13:30+00)');

-- cancel_booking frees the slot.
SELECT id AS c1 FROM slotguard.book_slot(:'room', '[2031-01-01 18:00+00,2031-01-01 19:00+00)') \gset
SELECT sgt.ok(status = 'cancelled', 'cancel_booking') FROM slotguard.cancel_booking(:c1);
SELECT id AS c2 FROM slotguard.book_slot(:'room', '[2031-01-01 18:00+00,2031-01-01 19:00+00)') \gset

-- Queries.
SELECT sgt.ok(bool_or(s = '[2031-01-01 11:00+00,2031-01-01 12:00+00)')
              AND NOT bool_or(s && '[2031-01-01 10:00+00,2031-01-01 11:00+00)'), 'free_slots')
  FROM slotguard.free_slots(:'room', '[2031-01-01 09:00+00,2031-01-01 14:00+00)', '1 hour', '30 minutes') s;
SELECT sgt.ok(count(*) FILTER (WHERE free_seats < 0) = 0 AND min(free_seats) = 0 AND max(free_seats) = 1, 'availability')
  FROM slotguard.availability(:'room', '[2031-01-01 09:00+00,2031-01-01 20:00+00)');

-- Workers: a worker on two overlapping bookings is refused.
SELECT id AS w1 FROM slotguard.book_slot(:'room2', '[2031-01-01 10:30+00,2031-01-01 11:30+00)') \gset
SELECT count(*) FROM slotguard.assign_workers(:b1, ARRAY[:'p' || 'wendy', :'p' || 'walt']);
SELECT sgt.expect(format('SELECT slotguard.assign_workers(%s, ARRAY[%L])', :w1, :'p' || 'wendy'), '23P01');
SELECT sgt.ok(slotguard.unassign_worker(:b1, :'p' || 'wendy'), 'unassign_worker');
SELECT count(*) FROM slotguard.assign_workers(:w1, ARRAY[:'p' || 'wendy']);
SELECT sgt.expect(format('SELECT slotguard.assign_workers(%s, ARRAY[%L])', :w1, :'p' || 'walt'), '23P01');
SELECT sgt.ok(count(*) = 1, 'worker_schedule')
  FROM slotguard.worker_schedule(:'p' || 'walt', '[2031-01-01 00:00+00,2031-01-02 00:00+00)');

-- Orders: one claimant wins; the others are told so.
SELECT key FROM slotguard.add_order(:'p' || 'o1');
SELECT key FROM slotguard.add_order(:'p' || 'o2', kind => :'p', ready => false);
SELECT sgt.expect(format('SELECT slotguard.add_order(%L)', :'p' || 'o1'), '23505');
SELECT sgt.ok(status = 'ready', 'set_order_ready') FROM slotguard.set_order_ready(:'p' || 'o2');
SELECT sgt.ok(claimant = 'c1', 'claim_order') FROM slotguard.claim_order(:'p' || 'o1', 'c1');
SELECT sgt.expect(format('SELECT slotguard.claim_order(%L, %L)', :'p' || 'o1', 'c2'), '55P03');
\if :v11
SELECT sgt.ok(o IS NULL, 'try_claim_order loses') FROM slotguard.try_claim_order(:'p' || 'o1', 'c2') o;
SELECT key FROM slotguard.add_order(:'p' || 'o3');
SELECT sgt.ok(claimant = 'c3', 'try_claim_order wins') FROM slotguard.try_claim_order(:'p' || 'o3', 'c3', '1 hour');
\endif
SELECT sgt.ok(key = :'p' || 'o2', 'claim_next_order') FROM slotguard.claim_next_order('c2', kind => :'p', lease => '1 hour');
SELECT sgt.expect(format('SELECT slotguard.release_order(%L, %L)', :'p' || 'o1', 'c2'), '55P03');
SELECT sgt.ok(status = 'ready', 'release_order') FROM slotguard.release_order(:'p' || 'o1', 'c1');
SELECT sgt.ok(status = 'done', 'complete_order') FROM slotguard.complete_order(:'p' || 'o2', 'c2');
SELECT sgt.expect(format('SELECT slotguard.complete_order(%L, %L)', :'p' || 'o2', 'c9'), '55P03');

-- protect(): writes to the table are checked; overbooked rows are refused.
SELECT format('%I', :'p' || 'visit') AS visit, format('%I', :'p' || 'busy') AS busy \gset
CREATE TABLE :visit (id int PRIMARY KEY, room text NOT NULL, during tstzrange NOT NULL, cancelled boolean NOT NULL DEFAULT false);
SELECT slotguard.protect(:'visit', 'room', 'during', 'NOT cancelled');
INSERT INTO :visit VALUES (1, 'r1', '[2031-01-01 10:00+00,2031-01-01 11:00+00)');
INSERT INTO :visit VALUES (2, 'r1', '[2031-01-01 11:00+00,2031-01-01 12:00+00)');
SELECT sgt.expect(format('INSERT INTO %s VALUES (3, %L, %L)', :'visit', 'r1', '[2031-01-01 10:30+00,2031-01-01 11:30+00)'), '23P01');
SELECT sgt.expect(format('UPDATE %s SET during = %L WHERE id = 2', :'visit', '[2031-01-01 10:30+00,2031-01-01 11:30+00)'), '23P01');
UPDATE :visit SET during = '[2031-01-01 12:00+00,2031-01-01 13:00+00)' WHERE id = 2;
DELETE FROM :visit WHERE id = 1;
INSERT INTO :visit VALUES (3, 'r1', '[2031-01-01 10:30+00,2031-01-01 11:30+00)');
CREATE TABLE :busy (id int PRIMARY KEY, room text NOT NULL, during tstzrange NOT NULL);
INSERT INTO :busy VALUES (1, 'r1', '[2031-01-01 10:00+00,2031-01-01 11:00+00)'), (2, 'r1', '[2031-01-01 10:30+00,2031-01-01 11:30+00)');
SELECT sgt.expect(format('SELECT slotguard.protect(%L, %L, %L)', :'busy', 'room', 'during'), '23P01');
DELETE FROM :busy WHERE id = 2;
SELECT slotguard.protect(:'busy', 'room', 'during');
SELECT sgt.expect(format('INSERT INTO %s VALUES (2, %L, %L)', :'busy', 'r1', '[2031-01-01 10:30+00,2031-01-01 11:30+00)'), '23P01');
SELECT slotguard.unprotect(:'busy');
INSERT INTO :busy VALUES (2, 'r1', '[2031-01-01 10:30+00,2031-01-01 11:30+00)');

\if :v11
-- Shards (1.1).
SELECT sgt.ok(shard_number = 0 AND shard_count = 1, 'configure_shard') FROM slotguard.configure_shard(0, 1);
SELECT sgt.expect('SELECT slotguard.configure_shard(0, 3)', '22023');
SELECT sgt.ok(ids_route_here AND bookings > 0, 'shard_info') FROM slotguard.shard_info();
SELECT sgt.ok(slotguard.tenant_of(:'p' || 'x') = rtrim(:'p', ':'), 'tenant_of');
\endif
