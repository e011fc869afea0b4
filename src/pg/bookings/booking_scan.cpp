// Reading the bookings that compete with a new one (see dirty_scan.cpp).
#include "bookings/bookings.hpp"

namespace sgpg {
namespace {

struct BookingVisit {
    AttrNumber c_id, c_key, c_seats, c_status, c_expires, c_blocked;
    text* key;  // the resource asked for: bookings of another key with the same hash are skipped
    TimestampTz now;
    Occupants* out;
};

void visit_booking(void* arg, TupleTableSlot* slot, TransactionId pending, uint32 spec_token) {
    BookingVisit* v = (BookingVisit*)arg;
    bool isnull;
    if (!active_booking_of(slot, v->c_key, v->c_status, v->c_expires, v->key, v->now)) return;
    sg::Occupant o;
    o.id = DatumGetInt64(slot_getattr(slot, v->c_id, &isnull));
    o.seats = DatumGetInt32(slot_getattr(slot, v->c_seats, &isnull));
    o.blocked = span_of(decode_range(slot_getattr(slot, v->c_blocked, &isnull)));
    mark_pending(&o, pending, spec_token);
    append_occupant(v->out, o);
}

}  // namespace

void open_booking(BookingRels* rels, LOCKMODE mode) {
    rels->heap = table_open(slotguard_relation("booking"), mode);
    open_keyed_index(rels, "booking_hash_blocked_idx", "booking_blocked_idx", mode);
}

void close_rels(GuardedRels* rels, LOCKMODE) {
    // The locks stay until the transaction ends, as the executor keeps them:
    // a written table released early could be rewritten (ALTER COLUMN TYPE,
    // pg_repack) or truncated before our rows are committed, losing them.
    index_close(rels->index, NoLock);
    table_close(rels->heap, NoLock);
}

namespace {

// snap NULL: the dirty scan of the checks; else what snap sees.
void collect(const BookingRels* rels, Snapshot snap, text* key, Datum probe, bool has_probe, ItemPointer exclude,
             Occupants* out) {
    TupleDesc desc = RelationGetDescr(rels->heap);
    BookingVisit v;
    v.c_id = column_of(desc, "id");
    v.c_key = column_of(desc, "resource_key");
    v.c_seats = column_of(desc, "seats");
    v.c_status = column_of(desc, "status");
    v.c_expires = column_of(desc, "hold_expires_at");
    v.c_blocked = column_of(desc, "blocked");
    // Holds count until their expiry passes this transaction's now().
    v.now = GetCurrentTransactionStartTimestamp();
    v.key = key;
    v.out = out;
    out->items = NULL;
    out->n = out->cap = 0;
    // The index holds resource_hash (1.0: resource_key); the statistics that
    // tell whether this resource holds a large share of the rows are
    // resource_key's.
    bool range_first = has_probe && key_is_common(rels->heap, v.c_key, key);
    keyed_scan(rels, key, range_first, probe, has_probe, exclude, visit_booking, &v, snap);
}

}  // namespace

void collect_occupants(const BookingRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                       Occupants* out) {
    collect(rels, NULL, key, probe, has_probe, exclude, out);
}

void collect_visible_occupants(const BookingRels* rels, text* key, Datum probe, Occupants* out) {
    collect(rels, GetActiveSnapshot(), key, probe, true, NULL, out);
}

}  // namespace sgpg
