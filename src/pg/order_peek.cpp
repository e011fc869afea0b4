// The losing side of a contended claim_order / try_claim_order is the common
// one (seeds/004: many drivers, one order). Its UPDATE matches nothing, and
// then a second statement reads the order to say why: two SPI statements to
// learn "someone else holds it". Here the order is looked up once through
// its primary key, with the snapshot and table lock the UPDATE would use;
// an UPDATE's WHERE is decided on exactly that row version, so when it shows
// another claimant's live claim the UPDATE could not have matched (it would
// not even wait for a concurrent writer of the row). Anything else goes to
// the SQL path as before.
#include "glue.hpp"
#include "order_peek.hpp"

extern "C" {
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
}

namespace sgpg {
namespace {

struct Shape {
    bool valid;
    bool usable;
    Oid relid;
    Oid pkey;
    AttrNumber c_key, c_status, c_claimant, c_lease;
};

Shape shape;
bool callback_registered = false;

void forget_shape(Datum, Oid relid) {
    if (relid == InvalidOid || relid == shape.relid || relid == shape.pkey) shape.valid = false;
}

AttrNumber text_or_time_column(TupleDesc desc, const char* name, Oid type) {
    AttrNumber a = column_of(desc, name);
    return a != InvalidAttrNumber && TupleDescAttr(desc, a - 1)->atttypid == type ? a : InvalidAttrNumber;
}

// A btree on (key) alone, in the default operator class and a deterministic
// collation: found by it is what "WHERE o.key = $1" finds.
bool plain_key_index(Relation rel, Oid pkey, AttrNumber c_key) {
    if (!OidIsValid(pkey) || c_key == InvalidAttrNumber) return false;
    Relation idx = index_open(pkey, AccessShareLock);
    Form_pg_index ix = idx->rd_index;
    Oid coll = TupleDescAttr(RelationGetDescr(rel), c_key - 1)->attcollation;
    bool ok = idx->rd_rel->relam == BTREE_AM_OID && ix->indisvalid && ix->indnatts == 1 &&
              ix->indkey.values[0] == c_key && idx->rd_indoption[0] == 0 && idx->rd_indcollation[0] == coll &&
              OidIsValid(coll) && get_collation_isdeterministic(coll) &&
              idx->rd_opfamily[0] == get_opclass_family(GetDefaultOpClass(TEXTOID, BTREE_AM_OID)) &&
              RelationGetIndexPredicate(idx) == NIL;
    index_close(idx, AccessShareLock);
    return ok;
}

void build_shape(Relation rel) {
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(forget_shape, (Datum)0);
        callback_registered = true;
    }
    TupleDesc desc = RelationGetDescr(rel);
    shape.relid = RelationGetRelid(rel);
    shape.pkey = RelationGetPrimaryKeyIndex(rel);
    shape.c_key = text_or_time_column(desc, "key", TEXTOID);
    shape.c_status = text_or_time_column(desc, "status", TEXTOID);
    shape.c_claimant = text_or_time_column(desc, "claimant", TEXTOID);
    shape.c_lease = text_or_time_column(desc, "lease_expires_at", TIMESTAMPTZOID);
    // Row-level security could hide the row from the UPDATE: then SQL.
    shape.usable = !rel->rd_rel->relrowsecurity && shape.c_status != InvalidAttrNumber &&
                   shape.c_claimant != InvalidAttrNumber && shape.c_lease != InvalidAttrNumber &&
                   plain_key_index(rel, shape.pkey, shape.c_key);
    shape.valid = true;
}

}  // namespace

bool order_taken_by_other(text* key, text* claimant) {
    // The UPDATE would be refused (25006): let it say so.
    if (XactReadOnly || IsInParallelMode()) return false;
    Relation rel = table_open(slotguard_relation("orders"), RowExclusiveLock);
    if (!shape.valid || shape.relid != RelationGetRelid(rel)) build_shape(rel);
    if (!shape.usable || pg_class_aclcheck(shape.relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
        pg_class_aclcheck(shape.relid, GetUserId(), ACL_UPDATE) != ACLCHECK_OK) {
        table_close(rel, NoLock);
        return false;
    }
    // The snapshot and command id SPI gives a statement that writes.
    PushActiveSnapshot(GetTransactionSnapshot());
    CommandCounterIncrement();
    UpdateActiveSnapshotCommandId();
    Relation idx = index_open(shape.pkey, RowExclusiveLock);
    ScanKeyData sk;
    ScanKeyInit(&sk, 1, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(key));
    sk.sk_collation = idx->rd_indcollation[0];
    TupleTableSlot* slot = table_slot_create(rel, NULL);
    IndexScanDesc scan = index_beginscan(rel, idx, GetActiveSnapshot(), 1, 0);
    index_rescan(scan, &sk, 1, NULL, 0);
    bool taken = false;
    if (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        bool n_status, n_claimant, n_lease;
        Datum status = slot_getattr(slot, shape.c_status, &n_status);
        Datum holder = slot_getattr(slot, shape.c_claimant, &n_claimant);
        Datum lease = slot_getattr(slot, shape.c_lease, &n_lease);
        bool live = n_lease || DatumGetTimestampTz(lease) > GetCurrentTransactionStartTimestamp();  // now()
        taken = !n_status && text_is(DatumGetTextPP(status), "claimed") && !n_claimant &&
                !same_text(DatumGetTextPP(holder), claimant) && live;
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
    index_close(idx, NoLock);
    PopActiveSnapshot();
    table_close(rel, NoLock);
    return taken;
}

}  // namespace sgpg
