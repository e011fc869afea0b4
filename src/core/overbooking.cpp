#include "overbooking.hpp"

#include <algorithm>
#include <utility>

namespace sg {

std::vector<std::int64_t> overbooked_ids(const std::vector<Occupant>& occupants, int capacity) {
    // (instant, change of load); at the same instant the ends come first:
    // spans are half-open, so one ending where another starts never overlap.
    std::vector<std::pair<Point, std::int64_t>> events;
    events.reserve(2 * occupants.size());
    for (const Occupant& o : occupants) {
        if (o.blocked.empty() || o.seats <= 0) continue;
        events.emplace_back(o.blocked.lo, o.seats);
        events.emplace_back(o.blocked.hi, -static_cast<std::int64_t>(o.seats));
    }
    std::sort(events.begin(), events.end());

    // Maximal runs of load > capacity, ascending and disjoint.
    std::vector<Span> over;
    std::int64_t load = 0;
    for (std::size_t i = 0; i < events.size();) {
        const Point at = events[i].first;
        for (; i < events.size() && events[i].first == at; ++i) load += events[i].second;
        if (load <= capacity || i == events.size()) continue;
        const Point until = events[i].first;
        if (!over.empty() && over.back().hi == at)
            over.back().hi = until;
        else
            over.push_back(Span{at, until});
    }

    std::vector<std::int64_t> ids;
    for (const Occupant& o : occupants) {
        if (o.blocked.empty() || o.seats <= 0) continue;
        // The first run ending after o starts; o is at fault if it starts before o ends.
        auto it = std::upper_bound(over.begin(), over.end(), o.blocked.lo,
                                   [](Point p, const Span& s) { return p < s.hi; });
        if (it != over.end() && it->lo < o.blocked.hi) ids.push_back(o.id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

}  // namespace sg
