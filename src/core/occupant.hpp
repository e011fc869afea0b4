// One existing booking (or guarded row) as the core sees it.
#pragma once
#include "no_postgres.hpp"
#include "timeline.hpp"

#include <cstdint>

namespace sg {

// Transaction id of a writer whose outcome is not yet known (0 = none).
using Xid = std::uint32_t;

// Whether a was assigned before b, modulo 2^32 as PostgreSQL's
// TransactionIdPrecedes compares them: a raw < inverts once the xid counter
// wraps around. The permanent xids (below 3) are compared as numbers.
inline bool xid_precedes(Xid a, Xid b) {
    if (a < 3 || b < 3) return a < b;
    return static_cast<std::int32_t>(a - b) < 0;
}

struct Occupant {
    std::int64_t id = 0;  // booking id (or row number for guarded tables)
    Span blocked;         // what it blocks, buffers included
    int seats = 1;
    // Certain: committed (or written by this transaction) and not being
    // deleted by another in-progress transaction. Otherwise `pending_xid`
    // names the in-progress transaction whose outcome decides it.
    bool certain = true;
    Xid pending_xid = 0;
    // Top-level transaction id of pending_xid, used for the wait/back-out
    // priority (lower top-level xid wins). 0 when certain.
    Xid pending_top_xid = 0;
    // Non-zero while the pending writer's row is a speculative insertion
    // (the writer has not decided yet whether to keep it): waiting for that
    // decision is short and never part of a wait cycle.
    std::uint32_t spec_token = 0;
};

}  // namespace sg
