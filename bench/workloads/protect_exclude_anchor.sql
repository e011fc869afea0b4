-- protect_exclude_anchor: the same insert into the same table shape, guarded by a
-- native EXCLUDE USING gist (room WITH =, during WITH &&) instead. An exclusion
-- constraint needs an IMMUTABLE expression, and starts_at + interval is only
-- STABLE, so the application has to compute and store `during` itself (the
-- extra column). Setup: bench/protect.md.
\set room random(1, 1000)
INSERT INTO bench_appt (room, starts_at, minutes, during)
SELECT :room, s.t, 60, tstzrange(s.t, s.t + interval '60 minutes')
FROM (SELECT timestamptz '2030-01-01 00:00+00' + nextval('bench_slot') * interval '1 hour' AS t) AS s;
