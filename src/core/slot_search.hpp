// Free-slot search on a step grid and the nearest alternatives offered when
// a booking conflicts. Works on the doubled grid (timeline.hpp).
#pragma once
#include "no_postgres.hpp"
#include "capacity_profile.hpp"
#include "timeline.hpp"

#include <cstddef>
#include <limits>
#include <vector>

namespace sg {

struct SlotQuery {
    int capacity = 1;
    int seats = 1;
    Micros buffer_before = 0;
    Micros buffer_after = 0;
    // Every point of an offered slot and of the span it blocks lies in
    // [earliest, latest] (the glue passes the timestamps PostgreSQL accepts).
    Point earliest = std::numeric_limits<Wide>::min();
    Point latest = std::numeric_limits<Wide>::max();
};

// True when a booking occupying `during` (not widened) fits: the peak load
// over its widened span plus seats stays within capacity.
bool slot_fits(const CapacityProfile& profile, const SlotQuery& q, const Span& during);

// Every [t, t + duration) with t = search_lower + k * step (k >= 0), that
// lies inside `search` and fits; ascending. `search_lower_t` is the instant
// of search's lower bound. duration, step > 0. At most `limit` results.
std::vector<Span> free_slots(const CapacityProfile& profile, const SlotQuery& q, const Span& search,
                             Micros search_lower_t, Micros duration, Micros step, std::size_t limit);

// Up to `max_results` spans of the same shape as `wanted`, shifted by
// k * step for k = +-1, +-2, ... while |k * step| <= horizon, that fit;
// nearest first, the earlier of two equally near ones first.
std::vector<Span> nearest_alternatives(const CapacityProfile& profile, const SlotQuery& q, const Span& wanted,
                                       Micros step, Micros horizon, std::size_t max_results);

}  // namespace sg
