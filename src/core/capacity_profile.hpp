// The load of a resource over time: for every instant, the seats taken by
// the occupants whose blocked span covers it. Built by one sort and sweep
// when first queried (O(n log n) in the occupants, whatever their overlap);
// a peak is O(log n), segments are linear in what they return.
#pragma once
#include "no_postgres.hpp"
#include "occupant.hpp"
#include "timeline.hpp"

#include <vector>

namespace sg {

struct LoadSegment {
    Span span;
    int load;  // seats taken throughout span
};

class CapacityProfile {
public:
    CapacityProfile();
    ~CapacityProfile();
    CapacityProfile(const CapacityProfile&) = delete;
    CapacityProfile& operator=(const CapacityProfile&) = delete;
    CapacityProfile(CapacityProfile&&) noexcept;
    CapacityProfile& operator=(CapacityProfile&&) noexcept;

    // Adds `seats` over `span` (empty spans and seats <= 0 are ignored).
    void add(const Span& span, int seats);
    void add(const Occupant& o) { add(o.blocked, o.seats); }

    // Highest load at any instant inside `window` (0 when nothing overlaps).
    int peak(const Span& window) const;

    // Maximal runs of constant load covering `window` exactly, ascending,
    // including runs of load 0; adjacent runs always differ in load.
    std::vector<LoadSegment> segments(const Span& window) const;

private:
    struct Impl;
    Impl* impl_;
    const Impl& ready() const;  // built from what was added
};

}  // namespace sg
