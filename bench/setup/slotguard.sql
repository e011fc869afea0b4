-- slotguard: the extension, resources created beforehand (capacity 1, no
-- buffers), pre-fill booked through the extension's own API.
\set ON_ERROR_STOP on
CREATE EXTENSION slotguard CASCADE;
SELECT count(slotguard.upsert_resource('r' || i)) AS resources
FROM generate_series(1, :nres) AS i;
SELECT count(b.id) AS prefilled
FROM bench_prefill p, LATERAL slotguard.book_slot(p.resource, p.during) AS b;
CREATE VIEW bench_result AS
SELECT resource_key AS resource, during FROM slotguard.booking
WHERE status IN ('confirmed', 'held');
