// Which occupants of one resource take part in an overbooking: the ones
// covering an instant at which the seats taken exceed the capacity. One
// sort and one sweep, O(n log n), whatever the occupants overlap.
#pragma once
#include "no_postgres.hpp"
#include "occupant.hpp"

#include <cstdint>
#include <vector>

namespace sg {

// Ids of the occupants whose blocked span covers an instant of load >
// capacity, ascending, each once. Empty spans and seats <= 0 take nothing.
std::vector<std::int64_t> overbooked_ids(const std::vector<Occupant>& occupants, int capacity);

}  // namespace sg
