\set n random(1, :nres)
\set m random(1, 12)
SELECT count(*) FROM slotguard.free_slots('rules:' || :n, tstzrange(make_timestamptz(2031, :m, 1, 0, 0, 0, 'UTC'), make_timestamptz(2031, :m, 1, 0, 0, 0, 'UTC') + interval '1 month'), '30 minutes');
