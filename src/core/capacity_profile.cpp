#include "capacity_profile.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace sg {

// The profile is built by one sort and sweep over the occupants' start and
// end points (O(n log n)), not by adding each span into an interval map:
// a span covering k existing segments costs O(k) there, so n nested or
// long overlapping bookings cost O(n^2), uninterruptibly, inside the core.
// Queries then find the segments a window touches by binary search and
// their highest load with a max segment tree (O(log n)), so a peak per
// occupant (fit_check) stays O(n log n) too.
struct CapacityProfile::Impl {
    // (point, change of load there), in the order added.
    std::vector<std::pair<Wide, long long>> events;
    bool built = false;
    // Maximal runs of constant non-zero load, ascending and disjoint:
    // run i is [starts[i], ends[i]) with load loads[i]. Between runs: 0.
    std::vector<Wide> starts;
    std::vector<Wide> ends;
    std::vector<int> loads;
    // Max segment tree over loads: leaves at [size, 2 size).
    std::size_t size = 0;
    std::vector<int> tree;

    void build() {
        starts.clear();
        ends.clear();
        loads.clear();
        std::sort(events.begin(), events.end(),
                  [](const std::pair<Wide, long long>& a, const std::pair<Wide, long long>& b) {
                      return a.first < b.first;
                  });
        long long load = 0;
        for (std::size_t i = 0; i < events.size();) {
            const Wide at = events[i].first;
            for (; i < events.size() && events[i].first == at; ++i) load += events[i].second;
            if (i == events.size()) break;  // the last point ends every span
            const Wide next = events[i].first;
            if (load == 0) continue;
            // Loads are sums of int seats under an int capacity check; a
            // sum beyond int saturates (it exceeds any capacity anyway).
            const int l = load > INT32_MAX ? INT32_MAX : static_cast<int>(load);
            if (!loads.empty() && ends.back() == at && loads.back() == l) {
                ends.back() = next;
            } else {
                starts.push_back(at);
                ends.push_back(next);
                loads.push_back(l);
            }
        }
        size = 1;
        while (size < loads.size()) size *= 2;
        tree.assign(2 * size, 0);
        for (std::size_t i = 0; i < loads.size(); ++i) tree[size + i] = loads[i];
        for (std::size_t i = size - 1; i >= 1; --i) tree[i] = std::max(tree[2 * i], tree[2 * i + 1]);
        built = true;
    }

    // Highest load of runs first..last (inclusive, first <= last).
    int max_of(std::size_t first, std::size_t last) const {
        int best = 0;
        for (std::size_t lo = first + size, hi = last + size + 1; lo < hi; lo /= 2, hi /= 2) {
            if (lo & 1) best = std::max(best, tree[lo++]);
            if (hi & 1) best = std::max(best, tree[--hi]);
        }
        return best;
    }

    // The runs that overlap window: [first, last), first == last if none.
    std::pair<std::size_t, std::size_t> touching(const Span& window) const {
        // ends ascend (runs are disjoint and sorted): the first run ending
        // after window.lo, up to the last run starting before window.hi.
        const Wide lo = window.lo, hi = window.hi;
        std::size_t first = std::upper_bound(ends.begin(), ends.end(), lo) - ends.begin();
        std::size_t last = std::lower_bound(starts.begin(), starts.end(), hi) - starts.begin();
        if (last < first) last = first;
        return {first, last};
    }
};

CapacityProfile::CapacityProfile() : impl_(new Impl) {}
CapacityProfile::~CapacityProfile() { delete impl_; }

// A moved-from profile may only be destroyed or assigned to.
CapacityProfile::CapacityProfile(CapacityProfile&& other) noexcept : impl_(other.impl_) { other.impl_ = nullptr; }
CapacityProfile& CapacityProfile::operator=(CapacityProfile&& other) noexcept {
    std::swap(impl_, other.impl_);
    return *this;
}

void CapacityProfile::add(const Span& span, int seats) {
    if (span.empty() || seats <= 0) return;
    impl_->events.emplace_back(Wide(span.lo), seats);
    impl_->events.emplace_back(Wide(span.hi), -static_cast<long long>(seats));
    impl_->built = false;
}

const CapacityProfile::Impl& CapacityProfile::ready() const {
    if (!impl_->built) impl_->build();
    return *impl_;
}

int CapacityProfile::peak(const Span& window) const {
    if (window.empty()) return 0;
    const Impl& p = ready();
    const auto r = p.touching(window);
    return r.first == r.second ? 0 : p.max_of(r.first, r.second - 1);
}

std::vector<LoadSegment> CapacityProfile::segments(const Span& window) const {
    std::vector<LoadSegment> runs;
    if (window.empty()) return runs;
    const Impl& p = ready();
    const auto r = p.touching(window);
    // Stored runs are maximal and never 0, so clipping them and filling the
    // gaps between them with 0 already yields maximal runs.
    Wide covered = window.lo;
    for (std::size_t i = r.first; i < r.second; ++i) {
        const Wide lo = std::max<Wide>(p.starts[i], window.lo);
        const Wide hi = std::min<Wide>(p.ends[i], window.hi);
        if (covered < lo) runs.push_back({Span{covered, lo}, 0});
        runs.push_back({Span{lo, hi}, p.loads[i]});
        covered = hi;
    }
    if (covered < window.hi) runs.push_back({Span{covered, window.hi}, 0});
    return runs;
}

}  // namespace sg
