// Statistics of the API (API.md §13): slotguard.stats, stats_reset(),
// hot_resources(). Counted where every API function passes: enter_api /
// leave_api (access.cpp) and, for refusals raised as errors, an error
// context callback pushed for the duration of the call (stats.cpp).
#pragma once

#include "engine/pg.hpp"

namespace sgpg {

// _PG_init: shared memory when loaded by shared_preload_libraries.
void stats_init(void);

// A call of API function `function` (a string literal) starts / returns.
void stats_enter(const char* function);
void stats_leave(void);

// The current call was refused on `resource_key` (may be NULL) without an
// error (try_book_slot), or is about to raise its refusal.
void stats_refused(text* resource_key);
// The current call answered from an earlier one (an idempotency key).
void stats_replay(void);
// Holds the current call expired (expire_holds), and a stale-token refusal
// (§14 fencing) of the current call.
void stats_holds_expired(int64 n);
void stats_fenced(void);

}  // namespace sgpg
