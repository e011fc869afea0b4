#include "core/slot_search.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <limits>
#include <ostream>
#include <random>
#include <vector>

namespace sg {

void PrintTo(const Span& s, std::ostream* os) { *os << "[" << (long long)s.lo << "," << (long long)s.hi << ")"; }

namespace {

using Spans = std::vector<Span>;

Span at(Micros lo, Micros hi) { return make_span(lo, true, hi, false); }  // [lo,hi)

// The slots [t, t + duration) for each start t.
Spans slots(Micros duration, std::initializer_list<Micros> starts) {
    Spans out;
    for (Micros t : starts) out.push_back(at(t, t + duration));
    return out;
}

SlotQuery query(int capacity = 1, int seats = 1, Micros before = 0, Micros after = 0) {
    SlotQuery q;
    q.capacity = capacity;
    q.seats = seats;
    q.buffer_before = before;
    q.buffer_after = after;
    return q;
}

constexpr std::size_t kAll = 1000;

TEST(SlotFits, UsesTheWidenedSpan) {
    CapacityProfile p;
    p.add(at(10, 20), 1);
    EXPECT_TRUE(slot_fits(p, query(), at(20, 30)));
    EXPECT_FALSE(slot_fits(p, query(1, 1, 1, 0), at(20, 30)));
    EXPECT_FALSE(slot_fits(p, query(1, 1, 0, 1), at(0, 10)));
    EXPECT_TRUE(slot_fits(p, query(2, 1, 1, 0), at(20, 30)));
    EXPECT_FALSE(slot_fits(p, query(2, 2, 1, 0), at(20, 30)));
}

TEST(FreeSlots, EmptyProfileGivesTheWholeGrid) {
    CapacityProfile p;
    EXPECT_EQ(free_slots(p, query(), at(0, 10), 0, 2, 2, kAll), slots(2, {0, 2, 4, 6, 8}));
    // The last slot must end inside the search range.
    EXPECT_EQ(free_slots(p, query(), at(0, 9), 0, 2, 2, kAll), slots(2, {0, 2, 4, 6}));
}

TEST(FreeSlots, SkipsOccupiedSlots) {
    CapacityProfile p;
    p.add(at(3, 5), 1);
    EXPECT_EQ(free_slots(p, query(), at(0, 10), 0, 2, 2, kAll), slots(2, {0, 6, 8}));
}

TEST(FreeSlots, StepSmallerThanDuration) {
    CapacityProfile p;
    p.add(at(4, 5), 1);
    EXPECT_EQ(free_slots(p, query(), at(0, 10), 0, 3, 1, kAll), slots(3, {0, 1, 5, 6, 7}));
}

TEST(FreeSlots, StepLargerThanDuration) {
    CapacityProfile p;
    p.add(at(3, 4), 1);
    EXPECT_EQ(free_slots(p, query(), at(0, 10), 0, 1, 3, kAll), slots(1, {0, 6, 9}));
}

TEST(FreeSlots, BuffersKeepSlotsAwayFromBookings) {
    CapacityProfile p;
    p.add(at(4, 5), 1);
    // A slot [t, t+2) blocks [t-1, t+3).
    EXPECT_EQ(free_slots(p, query(1, 1, 1, 1), at(0, 12), 0, 2, 1, kAll), slots(2, {0, 1, 6, 7, 8, 9, 10}));
    EXPECT_EQ(free_slots(p, query(1, 1, 0, 2), at(0, 12), 0, 2, 1, kAll), slots(2, {0, 5, 6, 7, 8, 9, 10}));
}

TEST(FreeSlots, CapacityAndSeats) {
    CapacityProfile p;
    p.add(at(0, 6), 1);
    p.add(at(4, 10), 1);  // load 2 on [4,6)
    EXPECT_EQ(free_slots(p, query(2, 1), at(0, 10), 0, 2, 2, kAll), slots(2, {0, 2, 6, 8}));
    EXPECT_EQ(free_slots(p, query(3, 1), at(0, 10), 0, 2, 2, kAll), slots(2, {0, 2, 4, 6, 8}));
    EXPECT_EQ(free_slots(p, query(3, 2), at(0, 10), 0, 2, 2, kAll), slots(2, {0, 2, 6, 8}));
    EXPECT_TRUE(free_slots(p, query(2, 2), at(0, 10), 0, 2, 2, kAll).empty());
    EXPECT_TRUE(free_slots(CapacityProfile(), query(1, 2), at(0, 10), 0, 2, 2, kAll).empty());
}

TEST(FreeSlots, ExclusiveSearchBounds) {
    CapacityProfile p;
    // (0,10): a slot may not start at the excluded instant 0 but may end at 10.
    EXPECT_EQ(free_slots(p, query(), make_span(0, false, 10, false), 0, 2, 2, kAll), slots(2, {2, 4, 6, 8}));
    EXPECT_EQ(free_slots(p, query(), make_span(0, false, 10, true), 0, 2, 2, kAll), slots(2, {2, 4, 6, 8}));
    // [0,9]: [8,10) reaches past 9.
    EXPECT_EQ(free_slots(p, query(), make_span(0, true, 9, true), 0, 2, 2, kAll), slots(2, {0, 2, 4, 6}));
    // A slot [0,10) is one instant longer than [0,9].
    EXPECT_TRUE(free_slots(p, query(), make_span(0, true, 9, true), 0, 10, 1, kAll).empty());
}

TEST(FreeSlots, GridFollowsTheSearchLowerBound) {
    CapacityProfile p;
    EXPECT_EQ(free_slots(p, query(), at(3, 12), 3, 2, 3, kAll), slots(2, {3, 6, 9}));
    EXPECT_EQ(free_slots(p, query(), at(-7, 0), -7, 2, 3, kAll), slots(2, {-7, -4}));
}

TEST(FreeSlots, Limit) {
    CapacityProfile p;
    p.add(at(0, 2), 1);
    EXPECT_EQ(free_slots(p, query(), at(0, 100), 0, 2, 2, 2), slots(2, {2, 4}));
    EXPECT_TRUE(free_slots(p, query(), at(0, 100), 0, 2, 2, 0).empty());
}

TEST(FreeSlots, DegenerateArguments) {
    CapacityProfile p;
    EXPECT_TRUE(free_slots(p, query(), at(0, 1), 0, 2, 2, kAll).empty());  // shorter than a slot
    EXPECT_TRUE(free_slots(p, query(), at(0, 10), 0, 0, 2, kAll).empty());
    EXPECT_TRUE(free_slots(p, query(), at(0, 10), 0, 2, 0, kAll).empty());
    EXPECT_TRUE(free_slots(p, query(), at(0, 10), 0, -2, 2, kAll).empty());
    EXPECT_EQ(free_slots(p, query(), at(0, 10), 0, 2, 100, kAll), slots(2, {0}));
}

TEST(FreeSlots, LongBlockedStretchWithATinyStep) {
    // 10^12 one-microsecond candidates are blocked: this only finishes in time
    // because a blocked candidate jumps past the whole overloaded run.
    const Micros end = 1'000'000'000'000;
    CapacityProfile p;
    p.add(at(0, end - 5), 1);
    p.add(at(-10, end - 100), 1);
    EXPECT_EQ(free_slots(p, query(), at(0, end), 0, 1, 1, kAll),
              slots(1, {end - 5, end - 4, end - 3, end - 2, end - 1}));
}

TEST(FreeSlots, BlockedSpansPastInt64StayOnTheGrid) {
    // Slots [t, t+2) near 2^61 with buffers whose blocked spans pass INT64_MAX
    // on the doubled grid: the 128-bit grid holds them, so every slot is
    // offered (a 64-bit grid offered none once t + buffer passed 2^62).
    const Micros t = Micros{1} << 61;
    CapacityProfile p;
    EXPECT_EQ(free_slots(p, query(1, 1, 0, t - 100), at(t, t + 10), t, 2, 2, kAll),
              slots(2, {t, t + 2, t + 4, t + 6, t + 8}));
    EXPECT_EQ(free_slots(p, query(1, 1, 0, t), at(t, t + 10), t, 2, 2, kAll), slots(2, {t, t + 2, t + 4, t + 6, t + 8}));
    const Micros max = std::numeric_limits<Micros>::max();
    EXPECT_EQ(free_slots(p, query(1, 1, max, max), at(t, t + 4), t, 2, 2, kAll), slots(2, {t, t + 2}));
    // An occupant there blocks them as it should.
    p.add(at(t + 3, t + 4), 1);
    EXPECT_EQ(free_slots(p, query(1, 1, 0, 0), at(t, t + 4), t, 2, 2, kAll), slots(2, {t}));
}

TEST(FreeSlots, RandomCasesMatchANaiveScan) {
    std::mt19937 rng(99);
    std::uniform_int_distribution<Micros> point(0, 80), length(1, 15), small(1, 4), buffer(0, 3);
    for (int round = 0; round < 2000; ++round) {
        CapacityProfile p;
        for (int i = 0; i < 8; ++i) {
            const Micros lo = point(rng);
            p.add(at(lo, lo + length(rng)), int(small(rng)));
        }
        const SlotQuery q = query(int(small(rng)) + 1, int(small(rng)), buffer(rng), buffer(rng));
        const Micros lo = point(rng), hi = lo + 5 * length(rng);
        const bool lower_inc = rng() % 2, upper_inc = rng() % 2;
        const Span search = make_span(lo, lower_inc, hi, upper_inc);
        const Micros duration = small(rng), step = small(rng);

        Spans expected;
        for (Micros t = lo; 2 * (t + duration) <= search.hi; t += step) {
            const Span during = at(t, t + duration);
            if (during.lo >= search.lo && slot_fits(p, q, during)) expected.push_back(during);
        }
        ASSERT_EQ(free_slots(p, q, search, lo, duration, step, kAll), expected) << "round " << round;
    }
}

TEST(NearestAlternatives, NearestFirstEarlierOnTies) {
    CapacityProfile p;
    EXPECT_EQ(nearest_alternatives(p, query(), at(10, 12), 1, 3, 10),
              (Spans{at(9, 11), at(11, 13), at(8, 10), at(12, 14), at(7, 9), at(13, 15)}));
}

TEST(NearestAlternatives, MaxResults) {
    CapacityProfile p;
    EXPECT_EQ(nearest_alternatives(p, query(), at(10, 12), 1, 3, 3), (Spans{at(9, 11), at(11, 13), at(8, 10)}));
    EXPECT_TRUE(nearest_alternatives(p, query(), at(10, 12), 1, 3, 0).empty());
}

TEST(NearestAlternatives, HorizonBoundsTheShift) {
    CapacityProfile p;
    // step 2, horizon 5: shifts of 2 and 4 only.
    EXPECT_EQ(nearest_alternatives(p, query(), at(10, 12), 2, 5, 10),
              (Spans{at(8, 10), at(12, 14), at(6, 8), at(14, 16)}));
    EXPECT_EQ(nearest_alternatives(p, query(), at(10, 12), 2, 4, 10),
              (Spans{at(8, 10), at(12, 14), at(6, 8), at(14, 16)}));
    EXPECT_TRUE(nearest_alternatives(p, query(), at(10, 12), 2, 1, 10).empty());
    EXPECT_TRUE(nearest_alternatives(p, query(), at(10, 12), 2, -4, 10).empty());
    EXPECT_TRUE(nearest_alternatives(p, query(), at(10, 12), 0, 5, 10).empty());
}

TEST(NearestAlternatives, SkipsBlockedShifts) {
    CapacityProfile p;
    p.add(at(8, 12), 1);
    // [10+k, 12+k) is free for k >= 2 or k <= -4.
    EXPECT_EQ(nearest_alternatives(p, query(), at(10, 12), 1, 10, 4),
              (Spans{at(12, 14), at(13, 15), at(6, 8), at(14, 16)}));
}

TEST(NearestAlternatives, AdjacentOnEitherSideFits) {
    CapacityProfile p;
    p.add(at(4, 6), 1);
    p.add(at(16, 18), 1);
    // Shifting by 4 touches the bookings without overlapping them; by 8 clears them.
    EXPECT_EQ(nearest_alternatives(p, query(), at(10, 12), 4, 8, 10),
              (Spans{at(6, 8), at(14, 16), at(2, 4), at(18, 20)}));
}

TEST(NearestAlternatives, BuffersAndSeats) {
    CapacityProfile p;
    p.add(at(13, 14), 1);
    // With a 1 microsecond buffer after, [10+k, 12+k) blocks [10+k, 13+k).
    EXPECT_EQ(nearest_alternatives(p, query(1, 1, 0, 1), at(10, 12), 1, 3, 10),
              (Spans{at(9, 11), at(8, 10), at(7, 9)}));
    EXPECT_EQ(nearest_alternatives(p, query(2, 1, 0, 1), at(10, 12), 1, 1, 10), (Spans{at(9, 11), at(11, 13)}));
    EXPECT_EQ(nearest_alternatives(p, query(2, 2, 0, 1), at(10, 12), 1, 1, 10), (Spans{at(9, 11)}));
}

TEST(NearestAlternatives, FarAlternativesAreFoundQuickly) {
    const Micros far = 1'000'000'000'000;
    CapacityProfile p;
    p.add(at(-far, far), 1);
    // Later shifts far-10 .. far+12 fit; earlier only -(far+12), tied with the last later one.
    const Spans found = nearest_alternatives(p, query(), at(10, 12), 1, far + 12, 100);
    ASSERT_EQ(found.size(), 24u);
    EXPECT_EQ(found[0], at(far, far + 2));
    EXPECT_EQ(found[21], at(far + 21, far + 23));
    EXPECT_EQ(found[22], at(-far - 2, -far));
    EXPECT_EQ(found[23], at(far + 22, far + 24));
}

TEST(NearestAlternatives, StopsAtTheEdgeOfTheGrid) {
    // Only two later shifts keep the span representable.
    const Wide max = std::numeric_limits<Wide>::max();
    const Span wanted{max - 10, max - 4};
    const Spans found =
        nearest_alternatives(CapacityProfile(), query(), wanted, 1, std::numeric_limits<Micros>::max(), 7);
    auto shifted = [&](Wide d) { return Span{wanted.lo + d, wanted.hi + d}; };
    EXPECT_EQ(found, (Spans{shifted(-2), shifted(2), shifted(-4), shifted(4), shifted(-6), shifted(-8), shifted(-10)}));
}

TEST(NearestAlternatives, StayWithinTheQuerysLimits) {
    // Only slots whose points, buffers included, lie in [earliest, latest].
    SlotQuery q = query(1, 1, 1, 1);
    const Span wanted = at(100, 110);
    q.earliest = at(88, 89).lo;  // buffer_before of the slot [89,99) reaches 88
    q.latest = at(120, 122).hi;  // buffer_after of the slot [111,121) reaches 122
    const Spans found = nearest_alternatives(CapacityProfile(), q, wanted, 1, 100, 100);
    ASSERT_FALSE(found.empty());
    for (const Span& s : found) EXPECT_TRUE(s.lo >= at(89, 90).lo && s.hi <= at(110, 121).hi);
    EXPECT_EQ(found.size(), 22u);  // shifts -11 .. +11 but 0
}

TEST(FreeSlots, StayWithinTheQuerysLimits) {
    SlotQuery q = query();
    q.latest = at(0, 6).hi;
    EXPECT_EQ(free_slots(CapacityProfile(), q, at(0, 10), 0, 2, 2, kAll), slots(2, {0, 2, 4}));
}

}  // namespace
}  // namespace sg
