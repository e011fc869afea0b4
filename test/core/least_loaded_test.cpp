#include "core/least_loaded.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sg {
namespace {

TEST(LeastLoaded, FewestLoadFirstThenListOrder) {
    std::vector<LoadCandidate> c = {{300, true}, {100, true}, {300, true}, {0, true}, {100, true}};
    EXPECT_EQ(least_loaded_order(c), (std::vector<int>{3, 1, 4, 0, 2}));
}

TEST(LeastLoaded, TakenOnesAreLeftOut) {
    std::vector<LoadCandidate> c = {{0, false}, {5, true}, {1, false}, {5, true}};
    EXPECT_EQ(least_loaded_order(c), (std::vector<int>{1, 3}));
    EXPECT_TRUE(least_loaded_order({}).empty());
    EXPECT_TRUE(least_loaded_order({{0, false}}).empty());
}

TEST(LeastLoaded, ManyCandidatesInOrder) {
    std::vector<LoadCandidate> c;
    for (int i = 0; i < 100000; ++i) c.push_back({(i * 7919) % 1000, i % 3 != 0});
    auto o = least_loaded_order(c);
    for (std::size_t i = 1; i < o.size(); ++i) {
        ASSERT_LE(c[o[i - 1]].load, c[o[i]].load);
        if (c[o[i - 1]].load == c[o[i]].load) {
            ASSERT_LT(o[i - 1], o[i]);
        }
    }
}

}  // namespace
}  // namespace sg
