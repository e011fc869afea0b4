// Resources and bookings (contract §2): what bookings/ shares with the
// other features (workers/ and guards/ build on bookings). Functions here may
// raise PostgreSQL errors, so they are written C-style, as engine/glue.hpp.
#pragma once

#include "access/access.hpp"
#include "engine/glue.hpp"

namespace sgpg {

typedef GuardedRels BookingRels;

// --- resources (resources.cpp) ---------------------------------------------
struct ResourceRules;  // schedule/schedule.hpp
struct ResourceInfo {
    bool found;
    int capacity;
    int64 before_us;
    int64 after_us;
    // API.md §10: bumped by every rule change (0: never had rules, or a
    // schema without them); the decoded policy, NULL when there is none.
    int64 rules_version = 0;
    ResourceRules* rules = nullptr;
};
// Shared by bookers, exclusive by capacity/buffer changes; held to commit.
void lock_resource(text* key, LOCKMODE mode);
// The same without waiting (waitlist offers): false when another
// transaction holds a conflicting mode (a capacity or buffer change).
bool try_lock_resource(text* key, LOCKMODE mode);
// Reads with the latest snapshot (SPI connected). Creates the resource
// first when asked to and auto_create_resources is on; else P0002.
ResourceInfo read_resource(text* key, bool create_if_missing);
// P0002 for a resource that does not exist (or, for a confined caller, is
// another tenant's).
[[noreturn]] void raise_unknown_resource(text* key);
// Latest committed settings without creating or raising; false if unknown.
bool find_resource(text* key, ResourceInfo* info);
// The same with a given snapshot.
bool find_resource_as_of(text* key, ResourceInfo* info, Snapshot snap);
// The same with the caller's snapshot (GetActiveSnapshot), for reads.
bool find_visible_resource(text* key, ResourceInfo* info);

// --- the booking table (booking_scan.cpp) ---------------------------------
void open_booking(BookingRels* rels, LOCKMODE mode);
inline void close_booking(BookingRels* rels, LOCKMODE mode) { close_rels(rels, mode); }
// All active bookings of `key` whose blocked range overlaps `probe` (all of
// them when has_probe is false); `exclude` (may be NULL) is skipped.
void collect_occupants(const BookingRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                       Occupants* out);
// The active bookings of `key` overlapping `probe` that the caller's
// snapshot sees (GetActiveSnapshot): what a read-only query reports, with
// no other session's uncommitted rows.
void collect_visible_occupants(const BookingRels* rels, text* key, Datum probe, Occupants* out);
// Whether a scanned booking row is of resource `key` (an index of hashed
// keys also returns other keys) and active at `now`: neither cancelled nor
// expired, and not a hold past its expiry. c_*: its key, status and
// hold_expires_at columns.
inline bool active_booking_of(TupleTableSlot* slot, AttrNumber c_key, AttrNumber c_status, AttrNumber c_expires,
                              text* key, TimestampTz now) {
    bool isnull;
    if (!same_text(DatumGetTextPP(slot_getattr(slot, c_key, &isnull)), key)) return false;
    text* status = DatumGetTextPP(slot_getattr(slot, c_status, &isnull));
    if (text_is(status, "cancelled") || text_is(status, "expired")) return false;
    if (text_is(status, "held")) {
        Datum expires = slot_getattr(slot, c_expires, &isnull);
        if (!isnull && DatumGetTimestampTz(expires) <= now) return false;
    }
    return true;
}

// --- writing a new booking without SPI (booking_insert.cpp) ----------------
struct BookingValues {
    text* key;
    Datum during;
    int seats;
    const char* status;
    text* holder;  // may be NULL
    text* idem;    // may be NULL
    bool has_expires;
    TimestampTz expires;
    bool has_metadata;
    Datum metadata;
    Datum blocked;
};
struct DirectInsert {
    Relation rel;
    bool opened;  // w is open (the first write opens it: a refusal needs none of it)
    SpecRow w;
    HeapTuple tuple;  // the row as formed (never the in-page version)
    int64 id;
};
// False when the table has something only an SQL INSERT reproduces (another
// INSERT trigger, row-level security, an unknown CHECK constraint, a
// generated column): use SPI then.
bool direct_insert_begin(DirectInsert* d, Relation rel);
// Forms the row: the given values, the table's defaults for the rest.
void direct_insert_form(DirectInsert* d, const BookingValues* bv);
// Inserts the formed row with a speculative token, and its index entries.
void direct_insert_speculative(DirectInsert* d, uint32 token, ItemPointer tid);
// Confirms (keep) or kills the speculative row.
void direct_insert_decide(DirectInsert* d, bool keep);
// The formed row as a slotguard.booking datum (current memory context).
Datum direct_insert_row(DirectInsert* d);
void direct_insert_end(DirectInsert* d);

// --- locked bookings (booking_api.cpp) --------------------------------------
// A booking row locked FOR UPDATE (SPI connected; values live until SPI_finish).
struct LockedBooking {
    int64 id;
    ItemPointerData tid;
    text* key;
    TsRange range;
    int seats;
    char* status;
    bool has_expiry;
    TimestampTz expires;
    Datum row;
};
// Locks the booking named by argument 0: 22004 if NULL, P0002 if unknown
// or, for a confined caller, not its own (the same error: no id leaks).
LockedBooking lock_booking(FunctionCallInfo fcinfo, const Confinement* conf);
// The same after taking the booking's resource lock in share mode (read
// its key without locking, lock the resource, lock the row, re-check the
// key): the lock order of docs/concurrency.md, for calls that need both.
LockedBooking lock_resource_then_booking(FunctionCallInfo fcinfo, const Confinement* conf);
[[noreturn]] void raise_unknown_booking(int64 id);
// A lapsed hold, or one expire_holds marked 'expired' (1.2).
bool hold_expired(const LockedBooking* b);
[[noreturn]] void raise_wrong_state(const LockedBooking* b, const char* what);

// --- waitlist offers (booking_api.cpp, for src/pg/waitlist/) --------------
// A held booking for `hold` through book_slot's admission, as the owner and
// unconfined, that never waits for another transaction to end (undecided
// rows count as taken) and reads no alternatives. False (no booking) when
// it does not fit now. Raises what book_slot raises for bad values.
bool book_offer(text* key, Datum during, int seats, text* holder, Interval* hold, Datum metadata, bool has_metadata,
                int64* id);

// --- conflict reporting (conflicts.cpp) ------------------------------------
// Where alternatives to `during` are sought: suggestion_steps slots of its
// length either side (at most suggestion_horizon), widened by the buffers;
// 0 if that leaves the timestamp range.
Datum suggestion_window(const TsRange& during, const ResourceInfo* res);
// Free alternatives of the same shape as `during`, nearest first. `known`,
// if given, are the occupants of suggestion_window(); else they are read.
int suggest_alternatives(const BookingRels* rels, text* key, const TsRange& during, int seats,
                         const ResourceInfo* res, ItemPointer exclude, const Occupants* known, Datum* out,
                         int max_out);
// ids[0..n_ids) are named; n_total (when larger) counts the ones not shown
// to a confined caller too (shown_booking_ids).
[[noreturn]] void raise_conflict(text* key, const TsRange& during, const int64* ids, int n_ids,
                                 const Datum* suggestions, int n_suggestions, int n_total = -1);

}  // namespace sgpg
