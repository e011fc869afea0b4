// The scan every conflict check is built on, the way
// check_exclusion_or_unique_constraint does it: a GiST (key, range) index
// read with a dirty snapshot, which also returns rows of in-progress
// transactions and tells whose outcome each one depends on.
#include "glue.hpp"

extern "C" {
#include "utils/inval.h"
#include "utils/syscache.h"
}

namespace sgpg {

namespace {

// Relation OIDs by name, looked up once (two catalog lookups per relation
// per call otherwise) and forgotten on any change to pg_class, so a dropped
// and re-created extension is found again.
struct KnownRel {
    char name[NAMEDATALEN];
    Oid oid;
};
KnownRel known_rels[16];
int n_known_rels = 0;
bool known_rels_callback = false;

void forget_known_rels(Datum, int, uint32) { n_known_rels = 0; }

}  // namespace

Oid slotguard_relation(const char* name) {
    for (int i = 0; i < n_known_rels; ++i)
        if (strcmp(known_rels[i].name, name) == 0) return known_rels[i].oid;
    if (!known_rels_callback) {
        CacheRegisterSyscacheCallback(RELOID, forget_known_rels, (Datum)0);
        known_rels_callback = true;
    }
    Oid nsp = get_namespace_oid("slotguard", false);
    Oid rel = get_relname_relid(name, nsp);
    if (!OidIsValid(rel)) elog(ERROR, "slotguard: relation slotguard.%s is missing; reinstall the extension", name);
    if (n_known_rels < (int)lengthof(known_rels) && strlen(name) < NAMEDATALEN) {
        strcpy(known_rels[n_known_rels].name, name);
        known_rels[n_known_rels].oid = rel;
        ++n_known_rels;
    }
    return rel;
}

AttrNumber column_of(TupleDesc desc, const char* name) {
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0) return a->attnum;
    }
    elog(ERROR, "slotguard: column %s is missing", name);
    pg_unreachable();
}

void dirty_scan(const GuardedRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                DirtyVisitor visit, void* arg) {
    Relation idx = rels->index;
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
    while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        // The dirty snapshot reports the in-progress inserter (xmin) or
        // deleter (xmax) of the tuple just fetched.
        TransactionId pending = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;
        uint32 token = TransactionIdIsValid(dirty.xmin) ? dirty.speculativeToken : 0;
        if (exclude != NULL && ItemPointerEquals(&slot->tts_tid, exclude)) continue;
        visit(arg, slot, pending, token);
        CHECK_FOR_INTERRUPTS();
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
}

void append_occupant(Occupants* out, const sg::Occupant& o) {
    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 16;
        out->items = out->items ? (sg::Occupant*)repalloc(out->items, sizeof(sg::Occupant) * out->cap)
                                : (sg::Occupant*)palloc(sizeof(sg::Occupant) * out->cap);
    }
    out->items[out->n++] = o;
}

void mark_pending(sg::Occupant* o, TransactionId pending, uint32 spec_token) {
    o->certain = !TransactionIdIsValid(pending);
    o->pending_xid = o->certain ? 0 : pending;
    o->pending_top_xid = o->certain ? 0 : SubTransGetTopmostTransaction(pending);
    o->spec_token = o->certain ? 0 : spec_token;
}

}  // namespace sgpg
