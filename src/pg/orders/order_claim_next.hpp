// Order claims without SPI (order_claim_next.cpp): claim_next_order's fast
// path, and claim/release/complete of one order by key.
#pragma once

#include "engine/pg.hpp"

namespace sgpg {

enum DirectClaim {
    DIRECT_CLAIM_UNUSABLE,  // the table has something only SQL reproduces: run ORDER_NEXT_FAST[_KIND]
    DIRECT_CLAIM_NONE,      // what the SQL fast path returns no row for: take the slow path
    DIRECT_CLAIM_OK,        // claimed; *row is the new slotguard.orders row
    DIRECT_CLAIM_EMPTY,     // no claim has expired and no ready order is there to take: NULL, as the SQL says
};

// Exactly ORDER_NEXT_FAST (kind NULL) or ORDER_NEXT_FAST_KIND: if no claim
// (of the kind) has an expired lease, lock the oldest ready order (of the
// kind) FOR UPDATE SKIP LOCKED and claim it. *row is allocated in the
// caller's memory context. Call it with SPI not connected.
DirectClaim direct_claim_next(text* claimant, text* kind, bool has_lease, TimestampTz expires, Datum* row);
// claim_next_orders: the same, up to `max` orders in one walk of the queue,
// each claimed row put into `out`; *n claimed. DIRECT_CLAIM_OK also when
// fewer (or none) could be had: the queue has no more for this caller.
DirectClaim direct_claim_next_batch(text* claimant, text* kind, bool has_lease, TimestampTz expires, int max,
                                    Tuplestorestate* out, int* n);

// Claims by key, straight on the row version the UPDATE's snapshot sees
// through the primary key:
enum KeyedOutcome {
    KEYED_SQL,       // run the SQL statement (the table needs it, or the row changed under us)
    KEYED_NO_MATCH,  // the UPDATE's WHERE does not hold on that version: it would match nothing
    KEYED_DONE,      // written; *row is the new slotguard.orders row
};
// ORDER_CLAIM; on KEYED_NO_MATCH, *lost says whether another claimant holds
// a live claim there (the caller has lost; anything else, SQL explains).
KeyedOutcome direct_claim_key(text* key, text* claimant, bool has_lease, TimestampTz expires, Datum* row, bool* lost);
// ORDER_RELEASE (completing false) or ORDER_COMPLETE; with has_token
// (1.2), only while the claim's token is `token`.
KeyedOutcome direct_finish_key(text* key, text* claimant, bool completing, bool has_token, int64 token, Datum* row);

}  // namespace sgpg
