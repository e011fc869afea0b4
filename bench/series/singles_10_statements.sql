-- The same 10 bookings as series_10.sql, as 10 book_slot calls (10
-- statements) in one transaction: an application's loop.
\set k random(0, 999999999)
\set r :k % 1000
\set s :k / 1000
BEGIN;
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '0 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '0 weeks'));
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '1 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '1 weeks'));
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '2 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '2 weeks'));
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '3 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '3 weeks'));
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '4 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '4 weeks'));
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '5 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '5 weeks'));
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '6 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '6 weeks'));
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '7 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '7 weeks'));
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '8 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '8 weeks'));
SELECT 1 FROM slotguard.book_slot('b' || :r, tstzrange(timestamptz '2030-01-07 09:00+00' + :s * interval '10 weeks' + interval '9 weeks', timestamptz '2030-01-07 10:00+00' + :s * interval '10 weeks' + interval '9 weeks'));
COMMIT;
