// Resource rows: the per-resource lock and reading capacity and buffers.
#include "bookings/bookings.hpp"
#include "bookings/plans.hpp"
#include "schedule/schedule.hpp"

extern "C" {
#include "storage/bufmgr.h"
}

namespace sgpg {

void lock_resource(text* key, LOCKMODE mode) {
    // An advisory-class lock tag of our own (field4 = 3 is unused by
    // pg_advisory_*), keyed by a hash of the resource key. Bookers take it
    // shared, so they never wait on each other; a capacity/buffer change
    // takes it exclusive and so sees no booking check in flight.
    uint32 h = hash_any((const unsigned char*)VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, 0x736c6f74 /* "slot" */, h, 3);
    (void)LockAcquire(&tag, mode, false, false);
}

bool try_lock_resource(text* key, LOCKMODE mode) {
    uint32 h = hash_any((const unsigned char*)VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, 0x736c6f74 /* "slot" */, h, 3);
    return LockAcquire(&tag, mode, false, true) != LOCKACQUIRE_NOT_AVAIL;
}

namespace {

Oid resource_oid(const char* name) { return slotguard_relation(name); }

void decode_settings(TupleTableSlot* slot, ResourceInfo* info) {
    TupleDesc desc = slot->tts_tupleDescriptor;
    bool isnull;
    info->found = true;
    info->capacity = DatumGetInt32(slot_getattr(slot, column_of(desc, "capacity"), &isnull));
    info->before_us = interval_micros(DatumGetIntervalP(slot_getattr(slot, column_of(desc, "buffer_before"), &isnull)),
                                      "buffer_before");
    info->after_us = interval_micros(DatumGetIntervalP(slot_getattr(slot, column_of(desc, "buffer_after"), &isnull)),
                                     "buffer_after");
    decode_rules(slot, info);  // API.md §10 (schedule/)
}

// Where each recently read resource row was, by a hash of its key: a row
// still there, visible to the latest snapshot and with the same key is that
// resource's current row (a change or a delete leaves an invisible version
// behind), so a hit needs no index probe. A miss just probes the index.
struct RowHint {
    Oid relid;
    uint32 hash;
    ItemPointerData tid;
};
RowHint row_hints[4096];

bool fetch_by_hint(Relation heap, text* key, uint32 h, Snapshot snap, TupleTableSlot* slot) {
    const RowHint* hint = &row_hints[h % lengthof(row_hints)];
    if (hint->relid != RelationGetRelid(heap) || hint->hash != h) return false;
    // A hint past the end of a truncated table must not be read.
    if (ItemPointerGetBlockNumber(&hint->tid) >= RelationGetNumberOfBlocks(heap)) return false;
    ItemPointerData tid = hint->tid;
    if (!table_tuple_fetch_row_version(heap, &tid, snap, slot)) return false;
    bool isnull;
    text* k = DatumGetTextPP(slot_getattr(slot, column_of(slot->tts_tupleDescriptor, "key"), &isnull));
    return !isnull && VARSIZE_ANY_EXHDR(k) == VARSIZE_ANY_EXHDR(key) &&
           memcmp(VARDATA_ANY(k), VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)) == 0;
}

// The resource's row read with the latest snapshot, or `as_of` if given
// (cheaper than SPI on the booking hot path): by its last known place, else
// by a primary-key probe.
bool fetch_resource(text* key, ResourceInfo* info, Snapshot as_of) {
    Relation heap = table_open(resource_oid("resource"), AccessShareLock);
    Snapshot snap = RegisterSnapshot(as_of != NULL ? as_of : GetLatestSnapshot());
    TupleTableSlot* slot = table_slot_create(heap, NULL);
    uint32 h = hash_any((const unsigned char*)VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
    bool found = fetch_by_hint(heap, key, h, snap, slot);
    if (!found) {
        Relation idx = index_open(resource_oid("resource_pkey"), AccessShareLock);
        ScanKeyData k;
        ScanKeyEntryInitialize(&k, 0, 1, BTEqualStrategyNumber, InvalidOid, idx->rd_indcollation[0], F_TEXTEQ,
                               PointerGetDatum(key));
        IndexScanDesc scan = index_beginscan(heap, idx, snap, 1, 0);
        index_rescan(scan, &k, 1, NULL, 0);
        found = index_getnext_slot(scan, ForwardScanDirection, slot);
        if (found) {
            RowHint* hint = &row_hints[h % lengthof(row_hints)];
            hint->relid = RelationGetRelid(heap);
            hint->hash = h;
            hint->tid = slot->tts_tid;
        }
        index_endscan(scan);
        index_close(idx, AccessShareLock);
    }
    if (found) decode_settings(slot, info);
    ExecDropSingleTupleTableSlot(slot);
    UnregisterSnapshot(snap);
    table_close(heap, AccessShareLock);
    return found;
}

}  // namespace

bool find_resource(text* key, ResourceInfo* info) {
    *info = ResourceInfo{false, 1, 0, 0};
    return fetch_resource(key, info, NULL);
}

bool find_resource_as_of(text* key, ResourceInfo* info, Snapshot snap) {
    *info = ResourceInfo{false, 1, 0, 0};
    return fetch_resource(key, info, snap);
}

bool find_visible_resource(text* key, ResourceInfo* info) {
    *info = ResourceInfo{false, 1, 0, 0};
    return fetch_resource(key, info, GetActiveSnapshot());
}

ResourceInfo read_resource(text* key, bool create_if_missing) {
    ResourceInfo info;
    if (find_resource(key, &info)) return info;
    if (create_if_missing && auto_create_resources) {
        // The resource lock before the resource row, as upsert_resource
        // takes them (docs/concurrency.md, "Lock order").
        lock_resource(key, ShareLock);
        Datum args[1] = {PointerGetDatum(key)};
        if (SPI_execute_plan(plan(PLAN_RESOURCE_CREATE), args, NULL, false, 0) < 0)
            elog(ERROR, "slotguard: could not create resource");
        CommandCounterIncrement();
        if (find_resource(key, &info)) return info;
    }
    raise_unknown_resource(key);
}

void raise_unknown_resource(text* key) {
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                    errmsg("resource \"%s\" does not exist", text_to_cstring(key)),
                    errhint("Create it with slotguard.upsert_resource(), or turn on "
                            "slotguard.auto_create_resources.")));
    pg_unreachable();
}

}  // namespace sgpg
