#include "core/overbooking.hpp"

#include "core/capacity_profile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace sg {
namespace {

Occupant occ(std::int64_t id, Point lo, Point hi, int seats = 1) {
    Occupant o;
    o.id = id;
    o.blocked = Span{lo, hi};
    o.seats = seats;
    return o;
}

using Ids = std::vector<std::int64_t>;

TEST(Overbooking, NothingOverlaps) {
    EXPECT_EQ(overbooked_ids({occ(1, 0, 10), occ(2, 10, 20), occ(3, 30, 40)}, 1), Ids{});
    EXPECT_EQ(overbooked_ids({}, 1), Ids{});
}

TEST(Overbooking, OverlapBeyondCapacity) {
    EXPECT_EQ(overbooked_ids({occ(1, 0, 10), occ(2, 5, 15), occ(3, 20, 30)}, 1), (Ids{1, 2}));
    EXPECT_EQ(overbooked_ids({occ(1, 0, 10), occ(2, 5, 15)}, 2), Ids{});
}

TEST(Overbooking, SeatsCount) {
    EXPECT_EQ(overbooked_ids({occ(1, 0, 10, 3), occ(2, 5, 15, 2), occ(3, 12, 20, 1)}, 4), (Ids{1, 2}));
    EXPECT_EQ(overbooked_ids({occ(1, 0, 10, 5)}, 4), (Ids{1}));
}

TEST(Overbooking, RowsTouchingTheOverbookedRunOnlyAtItsEndAreInnocent) {
    // Load 2 on [5,10) only; 3 starts at 10, 4 ends at 5.
    EXPECT_EQ(overbooked_ids({occ(1, 0, 10), occ(2, 5, 12), occ(3, 12, 20), occ(4, -5, 0)}, 1), (Ids{1, 2}));
    EXPECT_EQ(overbooked_ids({occ(1, 0, 10), occ(2, 5, 10), occ(3, 10, 20)}, 1), (Ids{1, 2}));
}

TEST(Overbooking, EmptySpansAndNoSeatsTakeNothing) {
    EXPECT_EQ(overbooked_ids({occ(1, 0, 10), occ(2, 5, 5), occ(3, 0, 10, 0)}, 1), Ids{});
}

// The same answer as the capacity profile, on random inputs.
TEST(Overbooking, AgreesWithTheCapacityProfile) {
    std::mt19937 rng(42);
    for (int round = 0; round < 200; ++round) {
        std::vector<Occupant> os;
        int n = 1 + static_cast<int>(rng() % 40);
        int capacity = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < n; ++i) {
            Point lo = rng() % 100;
            os.push_back(occ(i, lo, lo + 1 + rng() % 30, 1 + static_cast<int>(rng() % 3)));
        }
        CapacityProfile p;
        for (const Occupant& o : os) p.add(o);
        Ids want;
        for (const Occupant& o : os) {
            bool hit = false;
            for (const LoadSegment& s : p.segments(o.blocked)) hit = hit || s.load > capacity;
            if (hit) want.push_back(o.id);
        }
        EXPECT_EQ(overbooked_ids(os, capacity), want) << "round " << round;
    }
}

TEST(Overbooking, NestedSpansStayFast) {
    // n nested spans: quadratic for a segment-by-segment profile.
    std::vector<Occupant> os;
    const int n = 200000;
    for (int i = 0; i < n; ++i) os.push_back(occ(i, i, 2 * n - i));
    EXPECT_EQ(overbooked_ids(os, n).size(), 0u);
    EXPECT_EQ(overbooked_ids(os, n - 1).size(), static_cast<std::size_t>(n));
}

}  // namespace
}  // namespace sg
