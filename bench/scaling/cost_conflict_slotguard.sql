-- cost vs rows, "conflict" path: see cost_conflict_exclude.sql. slotguard also
-- returns the conflicting id and up to three free alternatives (the
-- neighbouring free hours). Variables (-D): nres nk.
\set r random(1, :nres)
\set k random(0, :nk - 1)
SELECT booking_id FROM slotguard.try_book_slot('r' || :r, tstzrange(timestamptz '2020-01-01 00:00+00' + make_interval(hours => 2 * :k), timestamptz '2020-01-01 00:00+00' + make_interval(hours => 2 * :k + 1)));
