// The change feed (API.md §13): slotguard.change rows written in the
// writing transaction, one per change of a booking, assignment, order or
// waitlist entry, and NOTIFY slotguard_changes at commit (feed.cpp).
#pragma once

#include "engine/pg.hpp"

// The AFTER ROW trigger enable_change_feed() puts on every feed table. Its
// existence (enabled for the session's replication role) is the switch:
// no trigger, no cost.
#define FEED_TRIGGER_NAME "slotguard_change_feed"

namespace sgpg {

// The feed trigger of `rel` if it would fire for a row change now, or NULL.
const Trigger* feed_trigger(Relation rel);

// Whether every trigger of `rel` named FEED_TRIGGER_NAME is the one
// enable_change_feed() makes (AFTER INSERT ... FOR EACH ROW, no WHEN, calling
// slotguard.change_feed_trigger): only then may a direct write stand in for it.
bool feed_trigger_genuine(Relation rel);

// What the trigger writes for an INSERT of `row` into `rel`, for a write
// path that inserts without the executor (the direct booking insert). Call
// with the trigger feed_trigger(rel) returned; `row` holds the values as
// inserted.
void feed_row_inserted(Relation rel, const Trigger* trigger, HeapTuple row);
// The same for a row updated (old -> new) without the executor, for direct
// update paths (none on this branch: order claims leave their direct path
// while the feed trigger is on, see only_named_triggers in
// order_claim_next.cpp).
void feed_row_updated(Relation rel, const Trigger* trigger, HeapTuple old_row, HeapTuple new_row);

}  // namespace sgpg
