// Reading the bookings that compete with a new one (see dirty_scan.cpp).
#include "glue.hpp"

namespace sgpg {
namespace {

bool text_equals(Datum d, const char* s) {
    text* t = DatumGetTextPP(d);
    size_t len = strlen(s);
    return VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), s, len) == 0;
}

struct BookingVisit {
    AttrNumber c_id, c_seats, c_status, c_expires, c_blocked;
    TimestampTz now;
    Occupants* out;
};

void visit_booking(void* arg, TupleTableSlot* slot, TransactionId pending, uint32 spec_token) {
    BookingVisit* v = (BookingVisit*)arg;
    bool isnull;
    Datum status = slot_getattr(slot, v->c_status, &isnull);
    if (text_equals(status, "cancelled")) return;
    if (text_equals(status, "held")) {
        Datum expires = slot_getattr(slot, v->c_expires, &isnull);
        if (!isnull && DatumGetTimestampTz(expires) <= v->now) return;
    }
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
    rels->index = index_open(slotguard_relation("booking_blocked_idx"), mode);
}

void close_rels(GuardedRels* rels, LOCKMODE mode) {
    index_close(rels->index, mode);
    table_close(rels->heap, mode);
}

void collect_occupants(const BookingRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                       Occupants* out) {
    TupleDesc desc = RelationGetDescr(rels->heap);
    BookingVisit v;
    v.c_id = column_of(desc, "id");
    v.c_seats = column_of(desc, "seats");
    v.c_status = column_of(desc, "status");
    v.c_expires = column_of(desc, "hold_expires_at");
    v.c_blocked = column_of(desc, "blocked");
    // Holds count until their expiry passes this transaction's now().
    v.now = GetCurrentTransactionStartTimestamp();
    v.out = out;
    out->items = NULL;
    out->n = out->cap = 0;
    dirty_scan(rels, key, probe, has_probe, exclude, visit_booking, &v);
}

}  // namespace sgpg
