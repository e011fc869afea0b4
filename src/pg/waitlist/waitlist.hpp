// Hold expiry and the waitlist (API.md §12). What other features call:
// offer_freed(), from every path that frees capacity on a resource.
// Written C-style, as engine/glue.hpp (functions here may raise).
#pragma once

#include "bookings/bookings.hpp"

namespace sgpg {

// Capacity on resource `key` was freed in this transaction: offer it to
// the waiting entries of slotguard.waitlist whose range may now fit,
// oldest first (one that does not fit does not block later ones), each as
// a `held` booking for its offer_hold through book_slot's admission
// (book_offer), and mark them `offered`. `freed` is the tstzrange that
// became free (a booking's `during`, a closure's range), or (Datum)0 for
// the whole resource (a capacity raise, shorter buffers).
//
// Call it after the freeing write, with SPI connected or not. It never
// waits for another transaction (docs/waitlist.md, "Concurrency"): entries
// another transaction has locked are skipped, and so is everything while a
// capacity or buffer change of the resource is in flight; expire_holds()
// retries those. On a schema without slotguard.waitlist (1.0/1.1) it does
// nothing. With no waiting entry on the resource it costs one index probe.
void offer_freed(text* key, Datum freed);

// At most this many waiting entries are tried per call (per resource).
constexpr int max_offer_tries = 1000;

// --- within src/pg/waitlist/ ---
// offer_freed trying at most `tries` entries.
void offer_freed_tries(text* key, Datum freed, int tries);
// expire_holds' retry of waiting entries: at most this many resources per
// call (a random choice among those with waiting entries), and at most
// this many entries each.
constexpr int retry_resources = 100;
constexpr int retry_tries = 100;

}  // namespace sgpg
