// claim_next_order's fast path without SPI (order_claim_next.cpp).
#pragma once

#include "pg.hpp"

namespace sgpg {

enum DirectClaim {
    DIRECT_CLAIM_UNUSABLE,  // the table has something only SQL reproduces: run ORDER_NEXT_FAST[_KIND]
    DIRECT_CLAIM_NONE,      // what the SQL fast path returns no row for: take the slow path
    DIRECT_CLAIM_OK,        // claimed; *row is the new slotguard.orders row
};

// Exactly ORDER_NEXT_FAST (kind NULL) or ORDER_NEXT_FAST_KIND: if no claim
// (of the kind) has an expired lease, lock the oldest ready order (of the
// kind) FOR UPDATE SKIP LOCKED and claim it. *row is allocated in the
// caller's memory context. Call it with SPI not connected.
DirectClaim direct_claim_next(text* claimant, text* kind, bool has_lease, TimestampTz expires, Datum* row);

}  // namespace sgpg
