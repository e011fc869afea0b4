// Where the live part of a queue index starts (claim_next_order, 1.2).
//
// A draining queue leaves its claimed orders' old index entries at the head
// of orders_queue_idx until VACUUM removes them; every claim would walk
// over them again (the minimal SKIP LOCKED queue does exactly that). The
// hint remembers, per queue index (and kind), a position (priority,
// ready_at) before which every entry was found *dead to every snapshot*
// (heap_hot_search_buffer's all_dead, or already LP_DEAD): such an entry can
// never become visible again, so a scan may start at the hint and see
// exactly what a scan from the head sees. Only new index entries can appear
// before the hint; every write that may add one (any INSERT or UPDATE of
// slotguard.orders as ready: the row trigger orders_queue_changed; the direct
// release path) drops the hints and bumps a
// generation, and a scan publishes what it found only if no such write
// happened since it read the hint. See docs/orders.md ("Why the queue does
// not slow down as it drains").
//
// The hints live in shared memory, so they exist only with slotguard in
// shared_preload_libraries; without it every function here is a no-op and
// claims scan from the head of the queue.
#pragma once

#include "engine/pg.hpp"

namespace sgpg {

// A position in a queue index: (priority DESC, ready_at, key). Without a
// key (key_len < 0: the key is longer than a hint keeps) it is the first
// entry of (priority, ready_at).
const int QUEUE_HINT_KEY_BYTES = 64;
struct QueuePos {
    int32 priority;
    TimestampTz ready_at;
    int16 key_len;
    char key[QUEUE_HINT_KEY_BYTES];
};

// From _PG_init: the shared memory request (only while preloading).
void queue_hint_init(void);

// The hint of `index` (of this database) for `kind` (NULL: the whole
// queue): true and *pos when there is one. *gen is the generation to hand
// to queue_hint_publish. False and no generation without shared memory.
bool queue_hint_read(Oid index, text* kind, QueuePos* pos, uint64* gen, bool* enabled);
// Every entry of `index` (of `kind`) before pos was dead to all snapshots
// when the scan that started at generation `gen` saw it: keeps pos unless a
// write dropped hints since.
void queue_hint_publish(Oid index, text* kind, uint64 gen, const QueuePos& pos);
// A write added (or may have added) queue entries in this database: drop
// every hint of the database.
void queue_hint_forget(void);

}  // namespace sgpg
