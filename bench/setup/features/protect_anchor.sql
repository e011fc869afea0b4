-- protect / anchor (native EXCLUDE constraint): from bench/protect.md
-- (protect_exclude_anchor setup).
CREATE EXTENSION btree_gist;
CREATE SEQUENCE bench_slot;
CREATE TABLE bench_appt (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room      int NOT NULL,
    starts_at timestamptz NOT NULL,
    minutes   int NOT NULL,
    status    text NOT NULL DEFAULT 'booked',
    during    tstzrange NOT NULL,
    EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (status <> 'cancelled')
);
