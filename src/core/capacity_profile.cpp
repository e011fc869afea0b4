#include "capacity_profile.hpp"

#include <boost/icl/interval_map.hpp>
#include <boost/icl/right_open_interval.hpp>

#include <algorithm>
#include <functional>
#include <utility>

namespace sg {

namespace icl = boost::icl;
using Interval = icl::right_open_interval<Wide>;
// partial_absorber never stores a load of 0, and interval_map joins
// neighbours of equal load: its segments are the maximal non-idle runs.
using LoadMap =
    icl::interval_map<Wide, int, icl::partial_absorber, std::less, icl::inplace_plus, icl::inter_section, Interval>;

struct CapacityProfile::Impl {
    LoadMap load;
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
    impl_->load += std::make_pair(Interval(span.lo, span.hi), seats);
}

int CapacityProfile::peak(const Span& window) const {
    if (window.empty()) return 0;
    int highest = 0;
    const auto range = impl_->load.equal_range(Interval(window.lo, window.hi));
    for (auto it = range.first; it != range.second; ++it) highest = std::max(highest, it->second);
    return highest;
}

std::vector<LoadSegment> CapacityProfile::segments(const Span& window) const {
    std::vector<LoadSegment> runs;
    if (window.empty()) return runs;
    // Stored segments are maximal and never 0, so clipping them and filling
    // the gaps between them with 0 already yields maximal runs.
    Wide covered = window.lo;
    const auto range = impl_->load.equal_range(Interval(window.lo, window.hi));
    for (auto it = range.first; it != range.second; ++it) {
        const Wide lo = std::max<Wide>(it->first.lower(), window.lo);
        const Wide hi = std::min<Wide>(it->first.upper(), window.hi);
        if (covered < lo) runs.push_back({Span{covered, lo}, 0});
        runs.push_back({Span{lo, hi}, it->second});
        covered = hi;
    }
    if (covered < window.hi) runs.push_back({Span{covered, window.hi}, 0});
    return runs;
}

}  // namespace sg
