// Reading the bookings that compete with a new one, the way
// check_exclusion_or_unique_constraint does: an index scan with a dirty
// snapshot, which also returns rows of in-progress transactions and tells
// us whose outcome each one depends on.
#include "glue.hpp"

namespace sgpg {
namespace {

Oid relation_oid(const char* name) {
    Oid nsp = get_namespace_oid("slotguard", false);
    Oid rel = get_relname_relid(name, nsp);
    if (!OidIsValid(rel)) elog(ERROR, "slotguard: relation slotguard.%s is missing; reinstall the extension", name);
    return rel;
}

AttrNumber column(TupleDesc desc, const char* name) {
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0) return a->attnum;
    }
    elog(ERROR, "slotguard: column booking.%s is missing", name);
    pg_unreachable();
}

bool text_equals(Datum d, const char* s) {
    text* t = DatumGetTextPP(d);
    size_t len = strlen(s);
    return VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), s, len) == 0;
}

void append(Occupants* out, const sg::Occupant& o) {
    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 16;
        out->items = out->items ? (sg::Occupant*)repalloc(out->items, sizeof(sg::Occupant) * out->cap)
                                : (sg::Occupant*)palloc(sizeof(sg::Occupant) * out->cap);
    }
    out->items[out->n++] = o;
}

}  // namespace

void open_booking(BookingRels* rels, LOCKMODE mode) {
    rels->heap = table_open(relation_oid("booking"), mode);
    rels->blocked_idx = index_open(relation_oid("booking_blocked_idx"), mode);
}

void close_booking(BookingRels* rels, LOCKMODE mode) {
    index_close(rels->blocked_idx, mode);
    table_close(rels->heap, mode);
}

void collect_occupants(const BookingRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                       Occupants* out) {
    TupleDesc desc = RelationGetDescr(rels->heap);
    const AttrNumber c_id = column(desc, "id"), c_seats = column(desc, "seats"), c_status = column(desc, "status"),
                     c_expires = column(desc, "hold_expires_at"), c_blocked = column(desc, "blocked");
    // Holds count until their expiry passes this transaction's now().
    const TimestampTz now = GetCurrentTransactionStartTimestamp();
    Relation idx = rels->blocked_idx;

    ScanKeyData keys[2];
    int nkeys = has_probe ? 2 : 1;
    ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid, idx->rd_indcollation[0], F_TEXTEQ,
                           PointerGetDatum(key));
    if (has_probe)
        ScanKeyEntryInitialize(&keys[1], 0, 2, RANGESTRAT_OVERLAPS, InvalidOid, idx->rd_indcollation[1],
                               F_RANGE_OVERLAPS, probe);

    SnapshotData dirty;
    InitDirtySnapshot(dirty);
    IndexScanDesc scan = index_beginscan(rels->heap, idx, &dirty, nkeys, 0);
    index_rescan(scan, keys, nkeys, NULL, 0);
    TupleTableSlot* slot = table_slot_create(rels->heap, NULL);

    out->items = NULL;
    out->n = out->cap = 0;
    while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        // The dirty snapshot reports the in-progress inserter (xmin) or
        // deleter (xmax) of the tuple just fetched.
        TransactionId pending = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;
        if (exclude != NULL && ItemPointerEquals(&slot->tts_tid, exclude)) continue;
        bool isnull;
        Datum status = slot_getattr(slot, c_status, &isnull);
        if (text_equals(status, "cancelled")) continue;
        if (text_equals(status, "held")) {
            Datum expires = slot_getattr(slot, c_expires, &isnull);
            if (!isnull && DatumGetTimestampTz(expires) <= now) continue;
        }
        sg::Occupant o;
        o.id = DatumGetInt64(slot_getattr(slot, c_id, &isnull));
        o.seats = DatumGetInt32(slot_getattr(slot, c_seats, &isnull));
        o.blocked = span_of(decode_range(slot_getattr(slot, c_blocked, &isnull)));
        o.certain = !TransactionIdIsValid(pending);
        o.pending_xid = o.certain ? 0 : pending;
        o.pending_top_xid = o.certain ? 0 : SubTransGetTopmostTransaction(pending);
        append(out, o);
        CHECK_FOR_INTERRUPTS();
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
}

}  // namespace sgpg
