#include "fit_check.hpp"

#include "capacity_profile.hpp"

#include <algorithm>
#include <utility>

namespace sg {

namespace {

Span intersection(const Span& a, const Span& b) { return Span{std::max(a.lo, b.lo), std::min(a.hi, b.hi)}; }

template <typename T>
void sort_unique(std::vector<T>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::vector<std::int64_t> overbooked(const Occupant* occupants, std::size_t n, int capacity) {
    // Load changes, ordered by point; the load after all changes at a point
    // holds up to the next point (spans are half-open).
    std::vector<std::pair<Wide, long long>> changes;
    changes.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        const Occupant& o = occupants[i];
        if (o.blocked.empty() || o.seats <= 0) continue;
        changes.emplace_back(o.blocked.lo, o.seats);
        changes.emplace_back(o.blocked.hi, -static_cast<long long>(o.seats));
    }
    std::sort(changes.begin(), changes.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    // The maximal runs where the load exceeds capacity, ascending and disjoint.
    std::vector<Span> over;
    long long load = 0;
    for (std::size_t i = 0; i < changes.size();) {
        const Wide at = changes[i].first;
        const bool was_over = load > capacity;
        for (; i < changes.size() && changes[i].first == at; ++i) load += changes[i].second;
        const bool is_over = load > capacity;
        if (!was_over && is_over) over.push_back(Span{at, at});
        if (was_over && !is_over) over.back().hi = at;
    }
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < n; ++i) {
        const Occupant& o = occupants[i];
        if (o.blocked.empty() || o.seats <= 0) continue;
        // The first overloaded run ending after o starts: o overlaps one
        // exactly when that run starts before o ends.
        auto run = std::partition_point(over.begin(), over.end(), [&](const Span& r) { return r.hi <= o.blocked.lo; });
        if (run != over.end() && run->lo < o.blocked.hi) ids.push_back(o.id);
    }
    sort_unique(ids);
    return ids;
}

FitResult check_fit(const Span& want, int seats, int capacity, const std::vector<Occupant>& others) {
    // Only the load inside `want` matters, so occupants are clipped to it:
    // that keeps both profiles small.
    CapacityProfile all, certain;
    for (const Occupant& o : others) {
        if (!o.blocked.overlaps(want)) continue;
        const Span inside = intersection(o.blocked, want);
        all.add(inside, o.seats);
        if (o.certain) certain.add(inside, o.seats);
    }

    // The highest load that still leaves room for the candidate's seats.
    const int room = capacity - seats;
    // Whether `o` takes seats at an instant of `want` where `profile` has no room.
    auto overloads = [&](const CapacityProfile& profile, const Occupant& o) {
        return o.seats > 0 && o.blocked.overlaps(want) && profile.peak(intersection(o.blocked, want)) > room;
    };

    FitResult result;
    if (all.peak(want) <= room) return result;

    if (certain.peak(want) > room) {
        result.verdict = Verdict::Conflict;
        for (const Occupant& o : others)
            if (o.certain && overloads(certain, o)) result.conflicting_ids.push_back(o.id);
        sort_unique(result.conflicting_ids);
        return result;
    }

    // Only pending writers can overload want: wait for those that do.
    result.verdict = Verdict::Uncertain;
    for (const Occupant& o : others) {
        if (o.certain || !overloads(all, o)) continue;
        if (o.pending_xid != 0) result.wait_xids.push_back(o.pending_xid);
        if (o.pending_top_xid != 0 && (result.lowest_top_xid == 0 || xid_precedes(o.pending_top_xid, result.lowest_top_xid)))
            result.lowest_top_xid = o.pending_top_xid;
    }
    sort_unique(result.wait_xids);
    return result;
}

}  // namespace sg
