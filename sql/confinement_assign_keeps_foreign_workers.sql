-- A confined caller's assign_workers (API.md §8 (1.2)) replaces the
-- assignments of its own tenant's workers only. Another tenant's worker on
-- the caller's booking (assigned there by an unconfined role) behaves as if
-- it did not exist: unassign_worker leaves it (false), and so must
-- assign_workers, which set it 'removed' because it was not in the list
-- (a list the caller cannot even put it in: 42501).
SET client_min_messages = warning;
SET TIME ZONE 'UTC';

CREATE TEMP TABLE akf_saved_seq AS SELECT last_value, is_called FROM slotguard.booking_id_seq;

DROP ROLE IF EXISTS regress_akf_a;
CREATE ROLE regress_akf_a NOLOGIN;
SELECT slotguard.grant_access('regress_akf_a');
SELECT role FROM slotguard.confine('regress_akf_a', ARRAY['akf-a']);
SELECT key FROM slotguard.upsert_resource('akf-a:room', 1);
SELECT id AS a_booking FROM slotguard.book_slot('akf-a:room', '[2031-06-01 10:00+00,2031-06-01 11:00+00)') \gset
-- Unconfined: a worker of tenant akf-b on tenant akf-a's booking.
SELECT worker, status FROM slotguard.assign_workers(:a_booking, ARRAY['akf-b:interpreter']);

SET ROLE regress_akf_a;
SELECT slotguard.unassign_worker(:a_booking, 'akf-b:interpreter') AS unassigned;
SELECT worker, status FROM slotguard.assign_workers(:a_booking, ARRAY['akf-a:nurse']);
SELECT worker, status FROM slotguard.assign_workers(:a_booking, '{}');
RESET ROLE;
-- The other tenant's worker is still assigned.
SELECT worker, status FROM slotguard.assignment
WHERE booking_id = :a_booking AND worker = 'akf-b:interpreter' ORDER BY assigned_at;

-- Moving the booking onto the other tenant's worker's other booking is
-- refused without naming that worker (or that booking) to the caller.
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT key FROM slotguard.upsert_resource('akf-b:room', 1);
SELECT id AS b_booking FROM slotguard.book_slot('akf-b:room', '[2031-06-01 12:00+00,2031-06-01 13:00+00)') \gset
SELECT worker, status FROM slotguard.assign_workers(:b_booking, ARRAY['akf-b:interpreter']);
SET ROLE regress_akf_a;
SELECT pg_temp.error_of(format('SELECT slotguard.reschedule_booking(%s, %L)', :a_booking,
                               '[2031-06-01 12:30+00,2031-06-01 13:30+00)')) AS refusal;
RESET ROLE;
SELECT pg_temp.error_of(format('SELECT slotguard.reschedule_booking(%s, %L)', :a_booking,
                               '[2031-06-01 12:30+00,2031-06-01 13:30+00)')) LIKE '23P01: worker "akf-b:interpreter"%' AS named_to_the_unconfined;

-- Clean up.
SELECT slotguard.unconfine('regress_akf_a');
DELETE FROM slotguard.assignment a USING slotguard.booking b WHERE a.booking_id = b.id AND b.resource_key LIKE 'akf-%';
DELETE FROM slotguard.booking WHERE resource_key LIKE 'akf-%';
DELETE FROM slotguard.resource WHERE key LIKE 'akf-%';
SELECT slotguard.revoke_access('regress_akf_a');
DROP ROLE regress_akf_a;
SELECT setval('slotguard.booking_id_seq', last_value, is_called) IS NOT NULL AS restored FROM akf_saved_seq;
