// The scan every conflict check is built on, the way
// check_exclusion_or_unique_constraint does it: a GiST (key, range) index
// read with a dirty snapshot, which also returns rows of in-progress
// transactions and tells whose outcome each one depends on.
#include "engine/glue.hpp"

extern "C" {
#include "utils/inval.h"
#include "utils/syscache.h"
#include "catalog/pg_statistic.h"
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

Oid slotguard_relation_if_exists(const char* name) {
    for (int i = 0; i < n_known_rels; ++i)
        if (strcmp(known_rels[i].name, name) == 0) return known_rels[i].oid;
    if (!known_rels_callback) {
        CacheRegisterSyscacheCallback(RELOID, forget_known_rels, (Datum)0);
        known_rels_callback = true;
    }
    Oid nsp = get_namespace_oid("slotguard", false);
    Oid rel = get_relname_relid(name, nsp);
    if (!OidIsValid(rel)) return InvalidOid;
    if (n_known_rels < (int)lengthof(known_rels) && strlen(name) < NAMEDATALEN) {
        strcpy(known_rels[n_known_rels].name, name);
        known_rels[n_known_rels].oid = rel;
        ++n_known_rels;
    }
    return rel;
}

Oid slotguard_relation(const char* name) {
    Oid rel = slotguard_relation_if_exists(name);
    if (!OidIsValid(rel)) elog(ERROR, "slotguard: relation slotguard.%s is missing; reinstall the extension", name);
    return rel;
}

AttrNumber column_if_exists(TupleDesc desc, const char* name) {
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0) return a->attnum;
    }
    return InvalidAttrNumber;
}

AttrNumber column_of(TupleDesc desc, const char* name) {
    AttrNumber att = column_if_exists(desc, name);
    if (att == InvalidAttrNumber) elog(ERROR, "slotguard: column %s is missing", name);
    return att;
}

void open_keyed_index(GuardedRels* rels, const char* hashed, const char* by_text, LOCKMODE mode) {
    // Looked up after the table is locked: the index cannot be dropped
    // (ALTER EXTENSION UPDATE) between the lookup and index_open.
    Oid idx = slotguard_relation_if_exists(hashed);
    if (!OidIsValid(idx)) idx = slotguard_relation(by_text);
    rels->index = index_open(idx, mode);
    rels->hashed_key = rels->index->rd_opcintype[0] == INT8OID;
}

void keyed_scan(const GuardedRels* rels, text* key, bool range_first, Datum probe, bool has_probe,
                ItemPointer exclude, DirtyVisitor visit, void* arg, Snapshot snap) {
    Datum k = rels->hashed_key ? Int64GetDatum(entry_hash(key)) : PointerGetDatum(key);
    RegProcedure eq = rels->hashed_key ? F_INT8EQ : F_TEXTEQ;
    if (snap == NULL)
        dirty_scan_eq(rels, k, eq, range_first, probe, has_probe, exclude, visit, arg);
    else
        snapshot_scan_eq(rels, snap, k, eq, range_first, probe, has_probe, visit, arg);
}

namespace {

// The keys of a text column whose share of the rows is large, from its
// most-common-values statistics (pg_statistic), kept per backend until the
// statistics change.
struct CommonKeys {
    Oid relid;
    AttrNumber attnum;
    int n;
    text** values;
};
CommonKeys common_keys[4];
int n_common_keys = 0;
uint64 common_keys_generation = 0;
MemoryContext common_keys_cxt = NULL;
bool common_keys_callback = false;

void forget_common_keys(Datum, int, uint32) {
    n_common_keys = 0;
    ++common_keys_generation;
    if (common_keys_cxt) MemoryContextReset(common_keys_cxt);
}

// A key whose share of the rows is at least this is "common".
constexpr float4 common_share = 0.25f;

// The common keys, read from the catalog into the current memory context.
CommonKeys read_common_keys(Oid relid, AttrNumber attnum) {
    CommonKeys ck = {relid, attnum, 0, NULL};
    HeapTuple st = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid), Int16GetDatum(attnum), BoolGetDatum(false));
    if (!HeapTupleIsValid(st)) return ck;
    AttStatsSlot slot;
    if (get_attstatsslot(&slot, st, STATISTIC_KIND_MCV, InvalidOid, ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS)) {
        if (slot.valuetype == TEXTOID && slot.nnumbers == slot.nvalues) {
            ck.values = (text**)palloc(sizeof(text*) * (slot.nvalues > 0 ? slot.nvalues : 1));
            for (int i = 0; i < slot.nvalues; ++i)
                if (slot.numbers[i] >= common_share) ck.values[ck.n++] = DatumGetTextPCopy(slot.values[i]);
        }
        free_attstatsslot(&slot);
    }
    ReleaseSysCache(st);
    return ck;
}

bool listed(const CommonKeys* ck, text* key) {
    size_t len = VARSIZE_ANY_EXHDR(key);
    for (int i = 0; i < ck->n; ++i) {
        text* v = ck->values[i];
        if (VARSIZE_ANY_EXHDR(v) == len && memcmp(VARDATA_ANY(v), VARDATA_ANY(key), len) == 0) return true;
    }
    return false;
}

}  // namespace

bool key_is_common(Relation heap, AttrNumber attnum, text* key) {
    Oid relid = RelationGetRelid(heap);
    for (int i = 0; i < n_common_keys; ++i)
        if (common_keys[i].relid == relid && common_keys[i].attnum == attnum) return listed(&common_keys[i], key);
    if (!common_keys_callback) {
        CacheRegisterSyscacheCallback(STATRELATTINH, forget_common_keys, (Datum)0);
        common_keys_callback = true;
    }
    // Catalog reads may process invalidations (and so run the callback):
    // keep the list only if none arrived meanwhile.
    uint64 generation = common_keys_generation;
    CommonKeys ck = read_common_keys(relid, attnum);
    bool common = listed(&ck, key);
    if (generation != common_keys_generation) return common;
    if (common_keys_cxt == NULL)
        common_keys_cxt = AllocSetContextCreate(TopMemoryContext, "slotguard common keys", ALLOCSET_SMALL_SIZES);
    if (n_common_keys == (int)lengthof(common_keys)) forget_common_keys((Datum)0, 0, 0);
    MemoryContext old = MemoryContextSwitchTo(common_keys_cxt);
    CommonKeys* kept = &common_keys[n_common_keys];
    *kept = ck;
    kept->values = (text**)palloc(sizeof(text*) * (ck.n > 0 ? ck.n : 1));
    for (int i = 0; i < ck.n; ++i) kept->values[i] = DatumGetTextPCopy(PointerGetDatum(ck.values[i]));
    MemoryContextSwitchTo(old);
    ++n_common_keys;
    return common;
}

void dirty_scan(const GuardedRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                DirtyVisitor visit, void* arg) {
    // GiST tests an entry's keys in the order given and stops at the first
    // that fails, so the key that fails more often goes first. Usually that
    // is the resource (one among many), but on a resource that holds a
    // large share of the rows nearly every entry matches it, and the range
    // is the one that fails: the table's statistics tell which case this is.
    bool range_first = has_probe && key_is_common(rels->heap, rels->index->rd_index->indkey.values[0], key);
    dirty_scan_eq(rels, PointerGetDatum(key), F_TEXTEQ, range_first, probe, has_probe, exclude, visit, arg);
}

namespace {

// The scan of dirty_scan_eq with `snap` (an MVCC snapshot) or, when snap is
// NULL, a dirty snapshot.
void scan_eq(const GuardedRels* rels, Snapshot snap, Datum key, RegProcedure key_eq, bool range_first, Datum probe,
             bool has_probe, ItemPointer exclude, DirtyVisitor visit, void* arg) {
    Relation idx = rels->index;
    ScanKeyData keys[2];
    int nkeys = 0;
    range_first = range_first && has_probe;
    if (range_first)
        ScanKeyEntryInitialize(&keys[nkeys++], 0, 2, RANGESTRAT_OVERLAPS, InvalidOid, idx->rd_indcollation[1],
                               F_RANGE_OVERLAPS, probe);
    ScanKeyEntryInitialize(&keys[nkeys++], 0, 1, BTEqualStrategyNumber, InvalidOid, idx->rd_indcollation[0], key_eq,
                           key);
    if (has_probe && !range_first)
        ScanKeyEntryInitialize(&keys[nkeys++], 0, 2, RANGESTRAT_OVERLAPS, InvalidOid, idx->rd_indcollation[1],
                               F_RANGE_OVERLAPS, probe);

    SnapshotData dirty;
    InitDirtySnapshot(dirty);
    IndexScanDesc scan = index_beginscan(rels->heap, idx, snap != NULL ? snap : &dirty, nkeys, 0);
    index_rescan(scan, keys, nkeys, NULL, 0);
    TupleTableSlot* slot = table_slot_create(rels->heap, NULL);
    while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        // The dirty snapshot reports the in-progress inserter (xmin) or
        // deleter (xmax) of the tuple just fetched; an MVCC snapshot's rows
        // are simply there.
        TransactionId pending = InvalidTransactionId;
        uint32 token = 0;
        if (snap == NULL) {
            pending = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;
            token = TransactionIdIsValid(dirty.xmin) ? dirty.speculativeToken : 0;
        }
        if (exclude != NULL && ItemPointerEquals(&slot->tts_tid, exclude)) continue;
        visit(arg, slot, pending, token);
        CHECK_FOR_INTERRUPTS();
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
}

}  // namespace

void dirty_scan_eq(const GuardedRels* rels, Datum key, RegProcedure key_eq, bool range_first, Datum probe,
                   bool has_probe, ItemPointer exclude, DirtyVisitor visit, void* arg) {
    scan_eq(rels, NULL, key, key_eq, range_first, probe, has_probe, exclude, visit, arg);
}

void snapshot_scan_eq(const GuardedRels* rels, Snapshot snap, Datum key, RegProcedure key_eq, bool range_first,
                      Datum probe, bool has_probe, DirtyVisitor visit, void* arg) {
    scan_eq(rels, snap, key, key_eq, range_first, probe, has_probe, NULL, visit, arg);
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
