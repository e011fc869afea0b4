-- slotguard: the extension's non-raising call; booking_id is NULL on conflict.
\set r random(1, :nres)
\set s random(0, :nslots - 1) * :step
\set e :s + :dur
SELECT booking_id FROM slotguard.try_book_slot('r' || :r, tstzrange(timestamptz '2030-01-01 00:00+00' + make_interval(mins => :s), timestamptz '2030-01-01 00:00+00' + make_interval(mins => :e)));
