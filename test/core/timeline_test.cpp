#include "core/timeline.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace sg {
namespace {

TEST(Timeline, HalfOpenNeighboursDoNotOverlap) {
    const Span a = make_span(1, true, 2, false);  // [1,2)
    const Span b = make_span(2, true, 3, false);  // [2,3)
    EXPECT_FALSE(a.overlaps(b));
    EXPECT_FALSE(b.overlaps(a));
}

TEST(Timeline, SharedInclusiveInstantOverlaps) {
    const Span a = make_span(1, true, 2, true);   // [1,2]
    const Span b = make_span(2, true, 3, false);  // [2,3)
    EXPECT_TRUE(a.overlaps(b));
    EXPECT_TRUE(b.overlaps(a));
}

TEST(Timeline, ExclusiveLowerMissesInclusiveUpper) {
    const Span a = make_span(1, false, 2, false);  // (1,2)
    const Span b = make_span(0, true, 1, true);    // [0,1]
    EXPECT_FALSE(a.overlaps(b));
    EXPECT_FALSE(b.overlaps(a));
    EXPECT_TRUE(make_span(1, true, 2, false).overlaps(b));  // [1,2) shares 1 with [0,1]
}

TEST(Timeline, BothBoundsAtTheSameInstant) {
    const Span upper_inclusive = make_span(0, true, 2, true);               // [0,2]
    EXPECT_TRUE(upper_inclusive.overlaps(make_span(2, true, 3, false)));    // [2,3)
    EXPECT_FALSE(upper_inclusive.overlaps(make_span(2, false, 3, false)));  // (2,3)
    EXPECT_FALSE(make_span(0, true, 2, false).overlaps(make_span(2, false, 3, false)));
}

TEST(Timeline, SingleInstantRange) {
    const Span instant = make_span(5, true, 5, true);  // [5,5]
    EXPECT_FALSE(instant.empty());
    EXPECT_TRUE(instant.overlaps(make_span(4, true, 6, false)));
    EXPECT_FALSE(instant.overlaps(make_span(5, false, 6, false)));
    EXPECT_TRUE(make_span(5, true, 5, false).empty());  // [5,5)
}

TEST(Timeline, ContainsRespectsBoundStyle) {
    const Span outer = make_span(0, true, 10, false);  // [0,10)
    EXPECT_TRUE(outer.contains(make_span(0, true, 10, false)));
    EXPECT_TRUE(outer.contains(make_span(0, false, 9, true)));
    EXPECT_FALSE(outer.contains(make_span(0, true, 10, true)));
    EXPECT_FALSE(make_span(0, false, 10, false).contains(outer));
}

TEST(Timeline, DecodeRoundTrips) {
    for (Micros t : {Micros{-1000001}, Micros{-3}, Micros{-1}, Micros{0}, Micros{1}, Micros{7}, Micros{86400000000}}) {
        for (bool inclusive : {true, false}) {
            const Bound lower = decode_lower(lower_point(t, inclusive));
            EXPECT_EQ(lower.t, t);
            EXPECT_EQ(lower.inclusive, inclusive);
            const Bound upper = decode_upper(upper_point(t, inclusive));
            EXPECT_EQ(upper.t, t);
            EXPECT_EQ(upper.inclusive, inclusive);
        }
    }
}

TEST(Timeline, GridLengthDoublesDurations) {
    EXPECT_TRUE(grid_length(0) == 0);
    EXPECT_TRUE(grid_length(15) == 30);
    const Span s = make_span(10, true, 25, false);
    EXPECT_TRUE(s.hi - s.lo == grid_length(15));
}

TEST(Timeline, WidenKeepsBoundStyles) {
    const Span widened = widen(make_span(10, false, 20, true), 3, 4);  // (10,20] -> (7,24]
    EXPECT_EQ(widened, make_span(7, false, 24, true));
    EXPECT_EQ(widen(make_span(10, true, 20, false), 0, 0), make_span(10, true, 20, false));
}

TEST(Timeline, BuffersMakeNeighboursCollide) {
    const Span a = make_span(0, true, 10, false);
    const Span b = make_span(10, true, 20, false);
    EXPECT_FALSE(a.overlaps(b));
    EXPECT_TRUE(widen(a, 0, 1).overlaps(b));
    EXPECT_TRUE(a.overlaps(widen(b, 1, 0)));
}

}  // namespace
}  // namespace sg

namespace sg {
namespace {

// The last instant PostgreSQL accepts (294276-12-31 23:59:59.999999 UTC) and
// the first (4713-11-24 BC), in microseconds since 2000-01-01.
constexpr Micros kLastTimestamp = 9223371331199999999;
constexpr Micros kFirstTimestamp = -211813488000000000;

TEST(TimelineOverflow, FarFutureRangesStillOverlap) {
    // [2030-06-01 10:00, 294276-12-31 23:59:59): doubling these on a 64-bit
    // grid wrapped round, and two equal bookings did not overlap.
    const Micros y2030 = 959853600000000;
    const Span a = make_span(y2030, true, kLastTimestamp - 999999, false);
    EXPECT_FALSE(a.empty());
    EXPECT_TRUE(a.overlaps(a));
    EXPECT_TRUE(a.overlaps(make_span(kLastTimestamp - 1000000, true, kLastTimestamp, true)));
    EXPECT_FALSE(a.overlaps(make_span(kLastTimestamp - 999999, true, kLastTimestamp, true)));
    const Span early = make_span(kFirstTimestamp, true, kFirstTimestamp + 1, false);
    EXPECT_FALSE(early.empty());
    EXPECT_TRUE(early.lo < a.lo);
    EXPECT_TRUE(make_span(kFirstTimestamp, true, kLastTimestamp, true).contains(a));
}

TEST(TimelineOverflow, EveryInt64InstantRoundTrips) {
    const Micros max = std::numeric_limits<Micros>::max(), min = std::numeric_limits<Micros>::min();
    for (Micros t : {min, min + 1, kFirstTimestamp, kLastTimestamp, max - 1, max}) {
        for (bool inclusive : {true, false}) {
            EXPECT_EQ(decode_lower(lower_point(t, inclusive)).t, t);
            EXPECT_EQ(decode_lower(lower_point(t, inclusive)).inclusive, inclusive);
            EXPECT_EQ(decode_upper(upper_point(t, inclusive)).t, t);
            EXPECT_EQ(decode_upper(upper_point(t, inclusive)).inclusive, inclusive);
        }
    }
    EXPECT_TRUE(lower_point(max, false) > upper_point(max - 1, true));
    EXPECT_TRUE(lower_point(min, true) < lower_point(min, false));
}

TEST(TimelineOverflow, WideningByAnyBufferNeverWraps) {
    const Micros max = std::numeric_limits<Micros>::max();
    const Span s = make_span(kLastTimestamp - 10, true, kLastTimestamp, false);
    const Span w = widen(s, max, max);
    EXPECT_TRUE(w.lo < s.lo);
    EXPECT_TRUE(w.hi > s.hi);
    EXPECT_TRUE(w.contains(s));
    EXPECT_TRUE(w.lo == 2 * (Wide(kLastTimestamp) - 10 - max));
    EXPECT_TRUE(w.hi == 2 * (Wide(kLastTimestamp) + max));
}

}  // namespace
}  // namespace sg
