#include "core/least_loaded.hpp"

#include <algorithm>

namespace sg {

std::vector<int> least_loaded_order(const std::vector<LoadCandidate>& candidates) {
    std::vector<int> order;
    order.reserve(candidates.size());
    for (std::size_t i = 0; i < candidates.size(); ++i)
        if (candidates[i].free) order.push_back(static_cast<int>(i));
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return candidates[a].load < candidates[b].load; });
    return order;
}

}  // namespace sg
