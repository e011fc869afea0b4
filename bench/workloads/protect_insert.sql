-- protect_insert: a plain INSERT into the application's own table, guarded by
-- slotguard.protect() (capacity 1 per room, one-hour slots). Setup: bench/protect.md.
-- Each transaction takes a fresh hour (bench_slot) in a random room of 1000, so
-- every insert succeeds: this measures the guard's cost on the success path
-- (trigger, expression evaluation, admission check and entry write).
\set room random(1, 1000)
INSERT INTO bench_appt (room, starts_at, minutes)
VALUES (:room, timestamptz '2030-01-01 00:00+00' + nextval('bench_slot') * interval '1 hour', 60);
