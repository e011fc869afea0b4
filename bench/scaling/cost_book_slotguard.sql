-- cost vs rows, "book" path: see cost_book_exclude.sql. Variables (-D): nres.
\set r random(1, :nres)
\set s random(0, 999999)
SELECT booking_id FROM slotguard.try_book_slot('r' || :r, tstzrange(timestamptz '2040-01-01 00:00+00' + make_interval(hours => :s), timestamptz '2040-01-01 00:00+00' + make_interval(hours => :s + 1)));
