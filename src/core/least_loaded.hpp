// "k of n, least loaded first" (API.md §11 book_any, assign_any_workers).
#pragma once
#include "no_postgres.hpp"

#include <cstdint>
#include <vector>

namespace sg {

struct LoadCandidate {
    std::int64_t load = 0;  // booked microseconds on the day, or any comparable amount
    bool free = true;       // false: cannot be chosen
};

// Indexes of the free candidates, fewest load first, then list order. The
// caller takes the first k and, when one of them turns out taken, goes on
// with the next one in this order.
std::vector<int> least_loaded_order(const std::vector<LoadCandidate>& candidates);

}  // namespace sg
