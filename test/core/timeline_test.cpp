#include "core/timeline.hpp"

#include <gtest/gtest.h>

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
    EXPECT_EQ(grid_length(0), 0);
    EXPECT_EQ(grid_length(15), 30);
    const Span s = make_span(10, true, 25, false);
    EXPECT_EQ(s.hi - s.lo, grid_length(15));
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
