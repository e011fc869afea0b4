// Offering freed capacity to the waitlist (see waitlist.hpp).
#include "waitlist/waitlist.hpp"
#include "waitlist/waitlist_plans.hpp"

extern "C" {
#include "access/xact.h"
}

namespace sgpg {
namespace {

struct Entry {
    int64 id;
    Datum during;
    int seats;
    text* holder;  // may be NULL
    Interval* hold;
    Datum metadata;
    bool has_metadata;
};

// r widened by `us` on both sides, clamped to the timestamp range.
TsRange reach(const TsRange& r, int64 us) {
    TsRange w = r;
    __int128 lo = (__int128)r.lower - us, hi = (__int128)r.upper + us;
    w.lower = lo < MIN_TIMESTAMP ? MIN_TIMESTAMP : (TimestampTz)lo;
    w.upper = hi >= END_TIMESTAMP ? END_TIMESTAMP - 1 : (TimestampTz)hi;
    return w;
}

// One offer, in a subtransaction: an entry that cannot be booked for a
// reason of its own (its range pushed beyond the timestamps by longer
// buffers, a rule of §10 raising for it: classes 22 and 23) is skipped and
// never fails the call that freed the capacity. Anything else (cancel,
// timeout, serialization failure, out of memory) passes unchanged.
bool offer_one(text* key, const Entry* e, int64* booking) {
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    volatile bool booked = false;
    volatile bool failed = false;
    BeginInternalSubTransaction(NULL);
    MemoryContextSwitchTo(cxt);
    PG_TRY();
    {
        booked = book_offer(key, e->during, e->seats, e->holder, e->hold, e->metadata, e->has_metadata, booking);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        ErrorData* edata = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
        int category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
        if (category != ERRCODE_DATA_EXCEPTION && category != ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
            ReThrowError(edata);
        FreeErrorData(edata);
        failed = true;
    }
    PG_END_TRY();
    if (failed) return false;
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(cxt);
    CurrentResourceOwner = owner;
    return booked;
}

// Whether anyone waits for `key`: one probe of waitlist_waiting_idx with
// the latest snapshot, without SPI (the cost a cancel on a resource nobody
// waits for pays). A visible row found through the partial index is a
// waiting entry: a change of status is never a HOT update (status is in
// the index's predicate), so the old version it points to is then dead to
// the snapshot. Without the index (an altered schema): true, and the query
// decides.
bool anyone_waiting(Oid heap_oid, text* key) {
    Oid idx_oid = slotguard_relation_if_exists("waitlist_waiting_idx");
    if (!OidIsValid(idx_oid)) return true;
    Relation heap = table_open(heap_oid, AccessShareLock);
    Relation idx = index_open(idx_oid, AccessShareLock);
    Snapshot snap = RegisterSnapshot(GetLatestSnapshot());
    TupleTableSlot* slot = table_slot_create(heap, NULL);
    ScanKeyData k;
    ScanKeyEntryInitialize(&k, 0, 1, BTEqualStrategyNumber, InvalidOid, idx->rd_indcollation[0], F_TEXTEQ,
                           PointerGetDatum(key));
    IndexScanDesc scan = index_beginscan(heap, idx, snap, 1, 0);
    index_rescan(scan, &k, 1, NULL, 0);
    bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
    UnregisterSnapshot(snap);
    index_close(idx, AccessShareLock);
    table_close(heap, AccessShareLock);
    return found;
}

}  // namespace

void offer_freed(text* key, Datum freed) { offer_freed_tries(key, freed, max_offer_tries); }

void offer_freed_tries(text* key, Datum freed, int tries) {
    Oid heap_oid = slotguard_relation_if_exists("waitlist");
    if (!OidIsValid(heap_oid)) return;
    // The cheap answer for a resource nobody waits for: one index probe.
    if (!anyone_waiting(heap_oid, key)) return;
    SPI_connect();
    // A capacity or buffer change in flight on this resource holds its lock
    // exclusively (and may be waiting for this transaction): do not wait.
    ResourceInfo res;
    if (!try_lock_resource(key, ShareLock) || !find_resource(key, &res)) {
        SPI_finish();
        return;
    }
    // An entry may fit when its blocked range overlaps the freed blocked
    // range: its `during` then lies within both buffers of `freed`.
    Datum probe = (Datum)0;
    if (freed != (Datum)0) probe = range_datum(reach(decode_range(freed), res.before_us + res.after_us));
    Datum q[3] = {PointerGetDatum(key), probe, Int32GetDatum(tries)};
    char nulls[4] = "   ";
    if (probe == (Datum)0) nulls[1] = 'n';
    // Oldest first, locked in id order, never waiting: an entry another
    // transaction holds is being offered or left there.
    run_latest(waitlist_plan(WPLAN_LOCK_WAITING), q, nulls, 0);
    uint64 n = SPI_processed;
    SPITupleTable* tt = SPI_tuptable;
    Entry* entries = (Entry*)palloc(sizeof(Entry) * (n > 0 ? n : 1));
    for (uint64 i = 0; i < n; ++i) {
        HeapTuple t = tt->vals[i];
        TupleDesc d = tt->tupdesc;
        bool isnull;
        Entry* e = &entries[i];
        e->id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
        e->during = SPI_getbinval(t, d, 2, &isnull);
        e->seats = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
        Datum h = SPI_getbinval(t, d, 4, &isnull);
        e->holder = isnull ? NULL : DatumGetTextPP(h);
        e->hold = DatumGetIntervalP(SPI_getbinval(t, d, 5, &isnull));
        e->metadata = SPI_getbinval(t, d, 6, &isnull);
        e->has_metadata = !isnull;
    }
    for (uint64 i = 0; i < n; ++i) {
        CHECK_FOR_INTERRUPTS();
        const Entry* e = &entries[i];
        if (e->seats > res.capacity) continue;  // cannot fit while the capacity is this low
        int64 booking = 0;
        if (!offer_one(key, e, &booking)) continue;
        Datum u[2] = {Int64GetDatum(e->id), Int64GetDatum(booking)};
        run_latest(waitlist_plan(WPLAN_MARK_OFFERED), u, NULL, 0);
        if (SPI_processed != 1) elog(ERROR, "slotguard: waitlist entry " INT64_FORMAT " vanished", e->id);
    }
    SPI_finish();
}

}  // namespace sgpg
