// The admission decision for one new or moved booking against the
// occupants found by a dirty-snapshot scan (see docs/concurrency.md).
#pragma once
#include "no_postgres.hpp"
#include "occupant.hpp"
#include "timeline.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sg {

enum class Verdict {
    Fits,       // fits even if every pending writer commits
    Conflict,   // does not fit even if every pending writer aborts
    Uncertain,  // the outcome depends on pending writers: wait and rescan
};

struct FitResult {
    Verdict verdict = Verdict::Fits;
    // Conflict: ids of the certain occupants that overlap an instant where
    // certain load + seats > capacity, ascending, no duplicates.
    std::vector<std::int64_t> conflicting_ids;
    // Uncertain: the pending occupants overlapping an instant where
    // (all load) + seats > capacity: their xids (ascending, unique) and the
    // lowest top-level xid among them.
    std::vector<Xid> wait_xids;
    Xid lowest_top_xid = 0;
};

// `want` is the blocked span of the candidate; `others` excludes the
// candidate itself. capacity >= 1, seats >= 1.
FitResult check_fit(const Span& want, int seats, int capacity, const std::vector<Occupant>& others);

// Ids of the occupants (certain or not) that overlap an instant where their
// summed seats exceed `capacity`; ascending, no duplicates. One sort and a
// sweep: O(n log n) whatever the shape of the input.
std::vector<std::int64_t> overbooked(const Occupant* occupants, std::size_t n, int capacity);

}  // namespace sg
