\set id random(1, :nslots)
SELECT booking_id IS NOT NULL FROM bench_slot s, slotguard.try_book_slot('rules:' || s.n, s.during) WHERE s.id = :id;
