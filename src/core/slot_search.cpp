#include "slot_search.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>

namespace sg {

namespace {

// Grid arithmetic is unsigned where a distance can exceed the largest
// point; a candidate whose points would leave the grid is never offered.
using Unsigned = unsigned __int128;

Unsigned distance(Point from, Point to) { return Unsigned(to) - Unsigned(from); }  // from <= to
Unsigned ceil_div(Unsigned a, Unsigned b) { return a / b + (a % b != 0); }
Unsigned grid_unit(Micros step) { return 2 * Unsigned(step); }  // grid_length(step), exact for any step > 0

// widen(), or false when a point would overflow.
bool widen_checked(const Span& s, const SlotQuery& q, Span& out) {
    Wide before = 0, after = 0, lo = 0, hi = 0;
    if (__builtin_mul_overflow(q.buffer_before, 2, &before) || __builtin_mul_overflow(q.buffer_after, 2, &after) ||
        __builtin_sub_overflow(Wide(s.lo), before, &lo) || __builtin_add_overflow(Wide(s.hi), after, &hi))
        return false;
    out = Span{lo, hi};
    return true;
}

// One direction of a grid search: candidate m (0 <= m <= last) is `start`
// shifted by m * grid_length(step), later (dir > 0) or earlier (dir < 0).
// A blocked candidate jumps past the overloaded segment that blocks it, so
// the work grows with the segments and the results, not the distance walked.
class Walk {
public:
    Walk(const CapacityProfile& profile, const SlotQuery& q, const Span& start, Micros step, int dir, Unsigned max_m)
        : start_(start), unit_(grid_unit(step)), dir_(dir) {
        if (!widen_checked(start, q, widened_)) return;
        // Stop before any point of a candidate or its widened span leaves
        // [q.earliest, q.latest].
        const Wide lo = std::min<Wide>(start.lo, widened_.lo), hi = std::max<Wide>(start.hi, widened_.hi);
        if (lo < q.earliest || hi > q.latest) return;
        const Unsigned representable = (dir > 0 ? distance(hi, q.latest) : distance(q.earliest, lo)) / unit_;
        // Candidates are counted in int64 (far more than any search asks for).
        last_ = std::int64_t(std::min({max_m, representable, Unsigned(std::numeric_limits<std::int64_t>::max() - 1)}));

        const Span end = shift(widened_, last_);
        const Span reach = dir > 0 ? Span{widened_.lo, end.hi} : Span{end.lo, widened_.hi};
        for (const LoadSegment& s : profile.segments(reach))
            if (s.load > q.capacity - q.seats) overloaded_.push_back(s.span);
    }

    // The first fitting m after `after` (>= -1), or -1 when none is left.
    std::int64_t next_fit(std::int64_t after) const {
        if (after >= last_) return -1;
        for (std::int64_t m = after + 1;;) {
            const Span w = shift(widened_, m);
            Unsigned gap;  // how far the segment blocking w reaches into it
            if (dir_ > 0) {
                auto seg = std::partition_point(overloaded_.begin(), overloaded_.end(),
                                                [&](const Span& r) { return r.hi <= w.lo; });
                if (seg == overloaded_.end() || seg->lo >= w.hi) return m;
                gap = distance(w.lo, seg->hi);
            } else {
                auto seg = std::partition_point(overloaded_.begin(), overloaded_.end(),
                                                [&](const Span& r) { return r.lo < w.hi; });
                if (seg == overloaded_.begin() || std::prev(seg)->hi <= w.lo) return m;
                gap = distance(std::prev(seg)->lo, w.hi);
            }
            const Unsigned jump = ceil_div(gap, unit_);
            if (jump > Unsigned(last_ - m)) return -1;
            m += std::int64_t(jump);
        }
    }

    Span during(std::int64_t m) const { return shift(start_, m); }

private:
    Span shift(const Span& s, std::int64_t m) const {
        const Unsigned d = Unsigned(m) * unit_;
        return dir_ > 0 ? Span{Point(Unsigned(s.lo) + d), Point(Unsigned(s.hi) + d)}
                        : Span{Point(Unsigned(s.lo) - d), Point(Unsigned(s.hi) - d)};
    }

    Span start_, widened_;
    Unsigned unit_;
    int dir_;
    std::int64_t last_ = -1;        // -1: no candidate at all
    std::vector<Span> overloaded_;  // segments within reach without room for q.seats, ascending
};

}  // namespace

bool slot_fits(const CapacityProfile& profile, const SlotQuery& q, const Span& during) {
    return profile.peak(widen(during, q.buffer_before, q.buffer_after)) <= q.capacity - q.seats;
}

std::vector<Span> free_slots(const CapacityProfile& profile, const SlotQuery& q, const Span& search,
                             Micros search_lower_t, Micros duration, Micros step, std::size_t limit) {
    std::vector<Span> slots;
    if (duration <= 0 || step <= 0 || limit == 0) return slots;
    Micros end_t = 0;
    if (__builtin_add_overflow(search_lower_t, duration, &end_t)) return slots;
    const Span first = make_span(search_lower_t, true, end_t, false);
    if (first.hi > search.hi) return slots;

    const Unsigned unit = grid_unit(step);
    Walk walk(profile, q, first, step, +1, distance(first.hi, search.hi) / unit);
    // Skip the candidates starting before search.lo (an exclusive lower bound).
    std::int64_t m = search.lo > first.lo ? std::int64_t((distance(first.lo, search.lo) - 1) / unit) : -1;
    while (slots.size() < limit && (m = walk.next_fit(m)) >= 0) slots.push_back(walk.during(m));
    return slots;
}

std::vector<Span> nearest_alternatives(const CapacityProfile& profile, const SlotQuery& q, const Span& wanted,
                                       Micros step, Micros horizon, std::size_t max_results) {
    std::vector<Span> found;
    if (step <= 0 || horizon < step || max_results == 0) return found;

    const Unsigned max_m = Unsigned(horizon / step);
    const Walk earlier(profile, q, wanted, step, -1, max_m), later(profile, q, wanted, step, +1, max_m);
    std::int64_t e = earlier.next_fit(0), l = later.next_fit(0);
    while (found.size() < max_results && (e >= 0 || l >= 0)) {
        // Nearest first; at equal distance the earlier one.
        if (e >= 0 && (l < 0 || e <= l)) {
            found.push_back(earlier.during(e));
            e = earlier.next_fit(e);
        } else {
            found.push_back(later.during(l));
            l = later.next_fit(l);
        }
    }
    return found;
}

}  // namespace sg
