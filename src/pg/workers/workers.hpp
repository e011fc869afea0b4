// Worker assignments (contract §3): what workers/ shares with bookings/
// (a booking's workers move and are released with it).
#pragma once

#include "bookings/bookings.hpp"

namespace sgpg {

// --- worker assignments (workers.cpp) --------------------------------------
void open_assignment(GuardedRels* rels, LOCKMODE mode);
// A worker's active assignments on active bookings (occupant id = booking id).
void collect_worker_occupants(const GuardedRels* rels, text* worker, Datum probe, bool has_probe,
                              ItemPointer exclude, Occupants* out);
// Admission targets for the booking's active workers over `during`
// (SPI connected); *workers receives their names. Returns how many.
int worker_targets(int64 booking_id, Datum during, const GuardedRels* rels, AdmitTarget* out, int max_out);
int count_active_workers(int64 booking_id);
// Moves the booking's active assignments to `during`; tids[i] receives the
// new row of targets[i] (matched by worker).
void move_assignments(int64 booking_id, Datum during, const AdmitTarget* targets, int n, ItemPointer tids);
void release_assignments(int64 booking_id);
// Targets by worker name: sorted once (byte order), then found by bsearch,
// so matching written rows to n targets is O(n log n), not O(n^2).
struct NameSlot {
    text* name;
    int index;  // into the targets
};
NameSlot* index_targets(const AdmitTarget* targets, int n);
int find_target(const NameSlot* slots, int n, text* name);  // index, or -1
// After an INSERT/UPDATE ... RETURNING (ctid, worker) (SPI_tuptable): each
// target's row tid, matched by worker name.
void match_returned(const AdmitTarget* targets, int n, ItemPointer tids);
// 23P01 naming the conflicting bookings (for a confined caller, the ones it
// may see; SPI connected then).
[[noreturn]] void raise_worker_conflict(const AdmitTarget* t, const AdmitResult* r,
                                        const Confinement* conf = NULL);

}  // namespace sgpg
