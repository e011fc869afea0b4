-- protect / slotguard: from bench/protect.md (protect_insert setup).
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
CREATE SEQUENCE bench_slot;
CREATE TABLE bench_appt (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room      int NOT NULL,
    starts_at timestamptz NOT NULL,
    minutes   int NOT NULL,
    status    text NOT NULL DEFAULT 'booked'
);
SELECT slotguard.protect('bench_appt', 'room',
    $$tstzrange(starts_at, starts_at + make_interval(mins => minutes))$$,
    $$status <> 'cancelled'$$);
