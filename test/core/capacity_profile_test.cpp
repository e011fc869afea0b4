#include "core/capacity_profile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace sg {

// Lets EXPECT_EQ compare and print whole segment lists.
bool operator==(const LoadSegment& a, const LoadSegment& b) { return a.span == b.span && a.load == b.load; }
void PrintTo(const LoadSegment& s, std::ostream* os) { *os << "[" << (long long)s.span.lo << "," << (long long)s.span.hi << ")=" << s.load; }

namespace {

using Segments = std::vector<LoadSegment>;

TEST(CapacityProfile, EmptyProfileIsIdle) {
    CapacityProfile p;
    EXPECT_EQ(p.peak(Span{0, 100}), 0);
    EXPECT_EQ(p.segments(Span{0, 100}), (Segments{{Span{0, 100}, 0}}));
}

TEST(CapacityProfile, EmptyWindow) {
    CapacityProfile p;
    p.add(Span{0, 100}, 3);
    EXPECT_EQ(p.peak(Span{50, 50}), 0);
    EXPECT_TRUE(p.segments(Span{50, 50}).empty());
    EXPECT_TRUE(p.segments(Span{60, 40}).empty());
}

TEST(CapacityProfile, IgnoresEmptySpansAndNonPositiveSeats) {
    CapacityProfile p;
    p.add(Span{10, 10}, 5);
    p.add(Span{20, 10}, 5);
    p.add(Span{0, 100}, 0);
    p.add(Span{0, 100}, -2);
    EXPECT_EQ(p.peak(Span{0, 100}), 0);
    EXPECT_EQ(p.segments(Span{0, 100}), (Segments{{Span{0, 100}, 0}}));
}

TEST(CapacityProfile, AdjacentSpansDoNotStack) {
    CapacityProfile p;
    p.add(Span{0, 10}, 1);
    p.add(Span{10, 20}, 1);
    EXPECT_EQ(p.peak(Span{0, 20}), 1);
    EXPECT_EQ(p.peak(Span{9, 11}), 1);
    // Equal neighbours form one run.
    EXPECT_EQ(p.segments(Span{0, 20}), (Segments{{Span{0, 20}, 1}}));
}

TEST(CapacityProfile, WindowBoundsAreHalfOpen) {
    CapacityProfile p;
    p.add(Span{10, 20}, 1);
    EXPECT_EQ(p.peak(Span{0, 10}), 0);
    EXPECT_EQ(p.peak(Span{20, 30}), 0);
    EXPECT_EQ(p.peak(Span{9, 10}), 0);
    EXPECT_EQ(p.peak(Span{9, 11}), 1);
    EXPECT_EQ(p.peak(Span{19, 20}), 1);
}

TEST(CapacityProfile, ContainedSpansStack) {
    CapacityProfile p;
    p.add(Span{0, 100}, 1);
    p.add(Span{10, 20}, 2);
    EXPECT_EQ(p.peak(Span{0, 100}), 3);
    EXPECT_EQ(p.peak(Span{20, 100}), 1);
    EXPECT_EQ(p.segments(Span{0, 100}), (Segments{{Span{0, 10}, 1}, {Span{10, 20}, 3}, {Span{20, 100}, 1}}));
}

TEST(CapacityProfile, ManyOverlapsStaircase) {
    CapacityProfile p;
    for (int i = 0; i < 10; ++i) p.add(Span{i, 20 - i}, 1);  // nested: load i+1 on [i, i+1)
    EXPECT_EQ(p.peak(Span{0, 20}), 10);
    EXPECT_EQ(p.peak(Span{0, 5}), 5);
    EXPECT_EQ(p.peak(Span{15, 20}), 5);
    const Segments segs = p.segments(Span{0, 20});
    ASSERT_EQ(segs.size(), 19u);
    EXPECT_EQ(segs[0], (LoadSegment{Span{0, 1}, 1}));
    EXPECT_EQ(segs[9], (LoadSegment{Span{9, 11}, 10}));
    EXPECT_EQ(segs[18], (LoadSegment{Span{19, 20}, 1}));
}

TEST(CapacityProfile, IdenticalSpansSumSeats) {
    CapacityProfile p;
    for (int i = 0; i < 1000; ++i) p.add(Span{0, 10}, 2);
    EXPECT_EQ(p.peak(Span{5, 6}), 2000);
    EXPECT_EQ(p.segments(Span{-5, 15}), (Segments{{Span{-5, 0}, 0}, {Span{0, 10}, 2000}, {Span{10, 15}, 0}}));
}

TEST(CapacityProfile, SegmentsIncludeIdleGaps) {
    CapacityProfile p;
    p.add(Span{10, 20}, 1);
    p.add(Span{30, 40}, 2);
    EXPECT_EQ(p.segments(Span{0, 50}),
              (Segments{{Span{0, 10}, 0}, {Span{10, 20}, 1}, {Span{20, 30}, 0}, {Span{30, 40}, 2}, {Span{40, 50}, 0}}));
}

TEST(CapacityProfile, SegmentsAreClippedToWindow) {
    CapacityProfile p;
    p.add(Span{10, 20}, 1);
    p.add(Span{30, 40}, 2);
    EXPECT_EQ(p.segments(Span{15, 35}), (Segments{{Span{15, 20}, 1}, {Span{20, 30}, 0}, {Span{30, 35}, 2}}));
    EXPECT_EQ(p.segments(Span{12, 18}), (Segments{{Span{12, 18}, 1}}));
    EXPECT_EQ(p.segments(Span{22, 28}), (Segments{{Span{22, 28}, 0}}));
}

TEST(CapacityProfile, RunsMergeWhenLoadsBecomeEqual) {
    CapacityProfile p;
    p.add(Span{0, 10}, 1);
    p.add(Span{10, 20}, 2);
    p.add(Span{0, 10}, 1);  // now [0,10) also carries 2
    EXPECT_EQ(p.segments(Span{0, 20}), (Segments{{Span{0, 20}, 2}}));
}

TEST(CapacityProfile, NegativePoints) {
    CapacityProfile p;
    p.add(Span{-30, -10}, 1);
    p.add(Span{-20, 5}, 1);
    EXPECT_EQ(p.peak(Span{-100, 100}), 2);
    EXPECT_EQ(
        p.segments(Span{-40, 10}),
        (Segments{{Span{-40, -30}, 0}, {Span{-30, -20}, 1}, {Span{-20, -10}, 2}, {Span{-10, 5}, 1}, {Span{5, 10}, 0}}));
}

TEST(CapacityProfile, MovesTransferTheLoad) {
    CapacityProfile p;
    p.add(Span{0, 10}, 4);
    CapacityProfile moved(std::move(p));
    EXPECT_EQ(moved.peak(Span{0, 10}), 4);

    CapacityProfile assigned;
    assigned.add(Span{0, 10}, 1);
    assigned = std::move(moved);
    EXPECT_EQ(assigned.peak(Span{0, 10}), 4);
}

// Brute force: the load at every point of `window`, summed occupant by occupant.
std::vector<int> loads_in(const std::vector<std::pair<Span, int>>& added, const Span& window) {
    std::vector<int> load(window.hi - window.lo, 0);
    for (const auto& [span, seats] : added)
        for (Wide x = std::max<Wide>(span.lo, window.lo); x < std::min<Wide>(span.hi, window.hi); ++x)
            load[x - window.lo] += seats;
    return load;
}

TEST(CapacityProfile, RandomLargeInputMatchesBruteForce) {
    std::mt19937_64 rng(20240611);
    std::uniform_int_distribution<std::int64_t> start(0, 1'000'000), length(1, 200), window_length(1, 5000);
    std::uniform_int_distribution<int> seats(1, 3);

    CapacityProfile p;
    std::vector<std::pair<Span, int>> added;
    for (int i = 0; i < 100'000; ++i) {
        const Point lo = start(rng);
        added.push_back({Span{lo, lo + length(rng)}, seats(rng)});
        p.add(added.back().first, added.back().second);
    }

    for (int round = 0; round < 200; ++round) {
        const Point lo = start(rng) - 100;
        const Span window{lo, lo + window_length(rng)};
        const std::vector<int> load = loads_in(added, window);
        EXPECT_EQ(p.peak(window), *std::max_element(load.begin(), load.end()));

        const Segments segs = p.segments(window);
        ASSERT_FALSE(segs.empty());
        EXPECT_TRUE(segs.front().span.lo == window.lo);
        EXPECT_TRUE(segs.back().span.hi == window.hi);
        for (std::size_t i = 0; i < segs.size(); ++i) {
            ASSERT_FALSE(segs[i].span.empty());
            if (i > 0) {
                EXPECT_TRUE(segs[i].span.lo == segs[i - 1].span.hi);
                EXPECT_NE(segs[i].load, segs[i - 1].load);
            }
            for (Wide x = segs[i].span.lo; x < segs[i].span.hi; ++x)
                ASSERT_EQ(load[x - window.lo], segs[i].load) << "at " << (long long)x;
        }
    }
}

TEST(CapacityProfile, AddingAfterAQueryCountsToo) {
    CapacityProfile p;
    p.add(Span{0, 10}, 1);
    EXPECT_EQ(p.peak(Span{0, 10}), 1);
    p.add(Span{5, 15}, 2);
    EXPECT_EQ(p.peak(Span{0, 10}), 3);
    EXPECT_EQ(p.segments(Span{0, 20}),
              (Segments{{Span{0, 5}, 1}, {Span{5, 10}, 3}, {Span{10, 15}, 2}, {Span{15, 20}, 0}}));
}

// Seats are ints, and so is a load: a sum past INT_MAX exceeds any capacity
// and stays there, instead of wrapping to a negative load that fits.
TEST(CapacityProfile, LoadsBeyondIntSaturate) {
    CapacityProfile p;
    p.add(Span{0, 10}, INT32_MAX);
    p.add(Span{0, 10}, INT32_MAX);
    p.add(Span{5, 10}, 7);
    EXPECT_EQ(p.peak(Span{0, 10}), INT32_MAX);
    EXPECT_EQ(p.peak(Span{0, 5}), INT32_MAX);
}

// Building the profile was quadratic in nested (or long, overlapping) spans:
// each span added to the interval map updated every run it covered, so
// nested spans added innermost first cost O(n^2), and so did a peak over
// each span (what the fit check asks of every occupant). 200,000 of them
// now take one sort and a sweep, and a peak is a tree query; before, this
// ran for hours (the ctest timeout ends it).
TEST(CapacityProfile, NestedSpansBuildInOneSweep) {
    const int n = 200'000;
    CapacityProfile p;
    for (int i = n - 1; i >= 0; --i) p.add(Span{i, 2 * n - i}, 1);
    long long peaks = 0;
    for (int i = 0; i < n; ++i) peaks += p.peak(Span{i, 2 * n - i});
    EXPECT_EQ(peaks, (long long)n * n);
    EXPECT_EQ(p.peak(Span{0, 2 * n}), n);
    EXPECT_EQ(p.peak(Span{n - 1, n + 1}), n);
    EXPECT_EQ(p.peak(Span{0, 1}), 1);
    EXPECT_EQ(p.peak(Span{2 * n - 1, 2 * n}), 1);
    long long sum = 0;
    for (int i = 0; i < n; ++i) sum += p.peak(Span{i, i + 1});
    EXPECT_EQ(sum, (long long)n * (n + 1) / 2);
    EXPECT_EQ(p.segments(Span{0, 2 * n}).size(), std::size_t(2 * n - 1));  // loads 1..n..1, n twice
}

}  // namespace
}  // namespace sg
