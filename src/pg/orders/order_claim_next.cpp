// claim_next_order's fast path (ORDER_NEXT_FAST[_KIND] in order_plans.cpp)
// done on the heap and its indexes instead of through SPI:
//
//   UPDATE orders o SET status = 'claimed', claimant = $1, claimed_at = now(), lease_expires_at = $2
//   WHERE o.key = (SELECT c.key FROM orders c WHERE c.status = 'ready' [AND c.kind = $3]
//                  AND NOT EXISTS (<a claim [of the kind] whose lease has expired>)
//                  ORDER BY c.ready_at, c.key LIMIT 1 FOR UPDATE SKIP LOCKED)
//   AND o.status = 'ready' RETURNING o
//
// That statement cost more in executor start-up and in its NOT EXISTS
// InitPlan than in the claim itself (bench/orders.md). Here each step is
// the call the executor would make: the same snapshot, index scans, tuple
// lock (nodeLockRows.c), update and index insertions (execReplication.c's
// ExecSimpleRelationUpdate), so isolation levels, SKIP LOCKED and SSI
// behave as they do for the SQL. The shape of slotguard.orders is checked
// once per backend (and again after any relcache invalidation); anything an
// UPDATE would do that this does not (user triggers, rules, row-level
// security, CHECK constraints other than orders_rules, generated columns,
// a column of a domain type, other index definitions) makes the caller run
// the SQL instead.
//
// The same machinery writes claim_order / try_claim_order, release_order
// and complete_order (ORDER_CLAIM, ORDER_RELEASE, ORDER_COMPLETE): each is
// an UPDATE ... WHERE o.key = $1 AND <state>, whose WHERE the executor
// decides on the row version its snapshot sees. keyed_update decides it on
// that same version, found through the primary key, and writes it with
// table_tuple_update; if a concurrent transaction changed the row meanwhile,
// the SQL runs instead (EvalPlanQual under READ COMMITTED, 40001 above).
#include "engine/glue.hpp"
#include "orders/order_claim_next.hpp"
#include "orders/queue_hint.hpp"

extern "C" {
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "catalog/pg_language.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "commands/defrem.h"
#include "commands/sequence.h"
#include "utils/lsyscache.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/primnodes.h"
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/syscache.h"

// The CHECK constraint orders_rules calls this (order_rules.cpp).
Datum sg_order_row_ok(PG_FUNCTION_ARGS);
}

namespace sgpg {
namespace {

struct Shape {
    bool valid;
    bool usable;
    // The 1.2 schema (API.md §14): priority, claim_token and the rest; the
    // queue indexes lead with priority DESC, claims take a fencing token.
    bool queue;
    // 1.2 with orders_queue_changed in place: claims may start at the
    // queue hint (queue_hint.hpp).
    bool hint;
    Oid relid;
    Oid token_seq;  // 1.2: slotguard.order_claim_token_seq
    Oid ready_idx;  // (ready_at, key) WHERE status = 'ready'; 1.2: (priority DESC, ready_at, key)
    Oid kind_idx;   // (kind, ready_at, key) WHERE status = 'ready'; 1.2: (kind, priority DESC, ready_at, key)
    Oid lease_idx;  // (lease_expires_at) WHERE status = 'claimed' AND lease_expires_at IS NOT NULL
    Oid pkey;       // (key)
    uint32 check_fn_hash;  // syscache hash of order_row_ok's pg_proc row
    uint32 hint_fn_hash;   // and of orders_queue_changed's (CREATE OR REPLACE keeps the oid)
    AttrNumber c_key, c_kind, c_status, c_claimant, c_claimed_at, c_lease, c_ready_at;
    AttrNumber c_priority, c_token, c_attempts, c_max_attempts;  // 1.2 only
    Bitmapset* updated;  // the UPDATE's SET columns, as in its range table entry
    MemoryContext cxt;
};

Shape shape;
bool callbacks_registered = false;
// Counts invalidations, so that one arriving while the shape is being built
// (opening an index reads the invalidation queue) is not lost.
uint64 invalidations = 0;

void forget_shape_rel(Datum, Oid relid) {
    if (relid == InvalidOid || relid == shape.relid || relid == shape.ready_idx || relid == shape.kind_idx ||
        relid == shape.lease_idx || relid == shape.pkey || relid == shape.token_seq) {
        shape.valid = false;
        ++invalidations;
    }
}

// order_row_ok replaced (CREATE OR REPLACE keeps its oid).
void forget_shape_proc(Datum, int, uint32 hash) {
    if (hash == 0 || hash == shape.check_fn_hash || hash == shape.hint_fn_hash) {
        shape.valid = false;
        ++invalidations;
    }
}

AttrNumber find_column(TupleDesc desc, const char* name, Oid type) {
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
            return a->atttypid == type ? a->attnum : InvalidAttrNumber;
    }
    return InvalidAttrNumber;
}

// Text compared byte by byte must mean what = means.
bool deterministic(TupleDesc desc, AttrNumber att) {
    Oid coll = TupleDescAttr(desc, att - 1)->attcollation;
    return OidIsValid(coll) && get_collation_isdeterministic(coll);
}

bool is_var(Node* n, AttrNumber att) { return n != NULL && IsA(n, Var) && ((Var*)n)->varattno == att; }

// <att> = '<lit>' on text.
bool is_text_eq(Node* n, AttrNumber att, const char* lit) {
    if (n == NULL || !IsA(n, OpExpr)) return false;
    OpExpr* op = (OpExpr*)n;
    if (op->opno != TextEqualOperator || list_length(op->args) != 2 || !is_var((Node*)linitial(op->args), att))
        return false;
    Node* c = (Node*)lsecond(op->args);
    if (!IsA(c, Const) || ((Const*)c)->consttype != TEXTOID || ((Const*)c)->constisnull) return false;
    return text_is(DatumGetTextPP(((Const*)c)->constvalue), lit);
}

bool is_not_null(Node* n, AttrNumber att) {
    if (n == NULL || !IsA(n, NullTest)) return false;
    NullTest* t = (NullTest*)n;
    return t->nulltesttype == IS_NOT_NULL && !t->argisrow && is_var((Node*)t->arg, att);
}

// A valid btree on exactly these plain columns (an expression column has
// indkey 0), ascending, in the columns' collations, with the predicate
// `test` accepts.
bool index_is(Relation idx, TupleDesc desc, const AttrNumber* cols, int ncols, bool (*test)(List* pred),
              const int16* options = NULL) {
    Form_pg_index ix = idx->rd_index;
    if (idx->rd_rel->relam != BTREE_AM_OID || !ix->indisvalid || !ix->indisready || !ix->indislive ||
        ix->indnatts != ncols || ix->indnkeyatts != ncols)
        return false;
    for (int i = 0; i < ncols; ++i) {
        Oid type = TupleDescAttr(desc, cols[i] - 1)->atttypid;
        // The default operator class: the order ORDER BY sorts in.
        if (ix->indkey.values[i] != cols[i] || idx->rd_indoption[i] != (options != NULL ? options[i] : 0) ||
            idx->rd_indcollation[i] != TupleDescAttr(desc, cols[i] - 1)->attcollation ||
            idx->rd_opfamily[i] != get_opclass_family(GetDefaultOpClass(type, BTREE_AM_OID)))
            return false;
    }
    return test(RelationGetIndexPredicate(idx));
}

bool pred_ready(List* pred) { return list_length(pred) == 1 && is_text_eq((Node*)linitial(pred), shape.c_status, "ready"); }

bool no_predicate(List* pred) { return pred == NIL; }

bool pred_lease(List* pred) {
    if (list_length(pred) != 2) return false;
    Node* a = (Node*)linitial(pred);
    Node* b = (Node*)lsecond(pred);
    return (is_text_eq(a, shape.c_status, "claimed") && is_not_null(b, shape.c_lease)) ||
           (is_text_eq(b, shape.c_status, "claimed") && is_not_null(a, shape.c_lease));
}

// The columns orders_rules passes to slotguard.order_row_ok, in order: six
// on 1.1, nine on 1.2 (attempts, max_attempts, claim_token).
const int N_RULE_ARGS_MAX = 9;
int n_rule_args() { return shape.queue ? 9 : 6; }
void rule_args(AttrNumber* args) {
    const AttrNumber cols[N_RULE_ARGS_MAX] = {shape.c_key,       shape.c_status,   shape.c_claimant,
                                              shape.c_claimed_at, shape.c_lease,    shape.c_ready_at,
                                              shape.c_attempts,   shape.c_max_attempts, shape.c_token};
    memcpy(args, cols, sizeof cols);
}

// The one CHECK constraint is orders_rules, calling slotguard.order_row_ok
// (the C function sg_order_row_ok) on rule_args.
bool only_orders_rules(TupleConstr* c) {
    if (c == NULL || c->num_check != 1 || strcmp(c->check[0].ccname, "orders_rules") != 0) return false;
    Node* e = (Node*)stringToNode(c->check[0].ccbin);
    if (!IsA(e, FuncExpr)) return false;
    FuncExpr* f = (FuncExpr*)e;
    AttrNumber args[N_RULE_ARGS_MAX];
    rule_args(args);
    if (list_length(f->args) != n_rule_args()) return false;
    for (int i = 0; i < n_rule_args(); ++i)
        if (!is_var((Node*)list_nth(f->args, i), args[i])) return false;
    shape.check_fn_hash = GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(f->funcid));
    return is_c_function(f->funcid, "sg_order_row_ok");
}

// The trigger that keeps the queue hints honest (queue_hint.hpp):
// orders_queue_changed, AFTER INSERT OR UPDATE FOR EACH ROW, ENABLE
// ALWAYS, no column list and no WHEN, calling sg_orders_queue_changed.
const char* const HINT_TRIGGER = "orders_queue_changed";
bool hint_trigger_in_place(TriggerDesc* td) {
    for (int i = 0; td != NULL && i < td->numtriggers; ++i) {
        const Trigger* tg = &td->triggers[i];
        if (strcmp(tg->tgname, HINT_TRIGGER) != 0) continue;
        if (tg->tgenabled != TRIGGER_FIRES_ALWAYS || !TRIGGER_FOR_ROW(tg->tgtype) || !TRIGGER_FOR_AFTER(tg->tgtype) ||
            !TRIGGER_FOR_INSERT(tg->tgtype) || !TRIGGER_FOR_UPDATE(tg->tgtype) || tg->tgnattr != 0 ||
            tg->tgqual != NULL || OidIsValid(tg->tgconstraint))
            return false;
        // Replaced by a function that does not drop the hints: rebuild.
        shape.hint_fn_hash = GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(tg->tgfoid));
        return is_c_function(tg->tgfoid, "sg_orders_queue_changed");
    }
    return false;
}

// Whether the direct path may write `rel`; fills in the columns and indexes.
bool shape_usable(Relation rel) {
    TupleDesc desc = RelationGetDescr(rel);
    shape.c_key = find_column(desc, "key", TEXTOID);
    shape.c_kind = find_column(desc, "kind", TEXTOID);
    shape.c_status = find_column(desc, "status", TEXTOID);
    shape.c_claimant = find_column(desc, "claimant", TEXTOID);
    shape.c_claimed_at = find_column(desc, "claimed_at", TIMESTAMPTZOID);
    shape.c_lease = find_column(desc, "lease_expires_at", TIMESTAMPTZOID);
    shape.c_ready_at = find_column(desc, "ready_at", TIMESTAMPTZOID);
    AttrNumber cols[] = {shape.c_key,        shape.c_kind,  shape.c_status,  shape.c_claimant,
                         shape.c_claimed_at, shape.c_lease, shape.c_ready_at};
    for (AttrNumber c : cols)
        if (c == InvalidAttrNumber) return false;
    shape.c_token = find_column(desc, "claim_token", INT8OID);
    shape.c_priority = find_column(desc, "priority", INT4OID);
    shape.c_attempts = find_column(desc, "attempts", INT4OID);
    shape.c_max_attempts = find_column(desc, "max_attempts", INT4OID);
    shape.queue = column_if_exists(desc, "claim_token") != InvalidAttrNumber;
    if (shape.queue) {
        if (shape.c_token == InvalidAttrNumber || shape.c_priority == InvalidAttrNumber ||
            shape.c_attempts == InvalidAttrNumber || shape.c_max_attempts == InvalidAttrNumber)
            return false;
        shape.token_seq = slotguard_relation_if_exists("order_claim_token_seq");
        if (!OidIsValid(shape.token_seq)) return false;
    }
    if (!deterministic(desc, shape.c_key) || !deterministic(desc, shape.c_kind) ||
        !deterministic(desc, shape.c_status))
        return false;
    // Any UPDATE trigger that can fire (row or statement level, constraint
    // triggers of foreign keys or deferred uniqueness included) needs SQL.
    // orders_queue_changed only moves the queue hints back: the direct
    // release does that itself (write_order_row), claims add no entries.
    bool hint_trigger = hint_trigger_in_place(rel->trigdesc);
    if (!plain_table(rel) || !only_named_triggers(rel->trigdesc, TRIGGER_TYPE_UPDATE, &HINT_TRIGGER, hint_trigger ? 1 : 0) ||
        (desc->constr != NULL && desc->constr->has_generated_stored) || !only_orders_rules(desc->constr))
        return false;

    List* indexes = RelationGetIndexList(rel);
    ListCell* lc;
    foreach (lc, indexes) {
        Relation idx = index_open(lfirst_oid(lc), RowExclusiveLock);
        AttrNumber ready[] = {shape.c_ready_at, shape.c_key};
        AttrNumber by_kind[] = {shape.c_kind, shape.c_ready_at, shape.c_key};
        AttrNumber lease[] = {shape.c_lease};
        // 1.2: priority DESC (NULLS FIRST, the default of DESC) first.
        AttrNumber queue[] = {shape.c_priority, shape.c_ready_at, shape.c_key};
        AttrNumber queue_kind[] = {shape.c_kind, shape.c_priority, shape.c_ready_at, shape.c_key};
        const int16 desc_first[] = {INDOPTION_DESC | INDOPTION_NULLS_FIRST, 0, 0};
        const int16 desc_second[] = {0, INDOPTION_DESC | INDOPTION_NULLS_FIRST, 0, 0};
        if (shape.queue) {
            if (!OidIsValid(shape.ready_idx) && index_is(idx, desc, queue, 3, pred_ready, desc_first))
                shape.ready_idx = RelationGetRelid(idx);
            else if (!OidIsValid(shape.kind_idx) && index_is(idx, desc, queue_kind, 4, pred_ready, desc_second))
                shape.kind_idx = RelationGetRelid(idx);
            else if (!OidIsValid(shape.lease_idx) && index_is(idx, desc, lease, 1, pred_lease))
                shape.lease_idx = RelationGetRelid(idx);
        } else if (!OidIsValid(shape.ready_idx) && index_is(idx, desc, ready, 2, pred_ready))
            shape.ready_idx = RelationGetRelid(idx);
        else if (!OidIsValid(shape.kind_idx) && index_is(idx, desc, by_kind, 3, pred_ready))
            shape.kind_idx = RelationGetRelid(idx);
        else if (!OidIsValid(shape.lease_idx) && index_is(idx, desc, lease, 1, pred_lease))
            shape.lease_idx = RelationGetRelid(idx);
        index_close(idx, NoLock);
    }
    list_free(indexes);
    if (!OidIsValid(shape.ready_idx) || !OidIsValid(shape.kind_idx) || !OidIsValid(shape.lease_idx)) return false;
    // The primary key on (key): what "WHERE o.key = $1" finds.
    shape.pkey = RelationGetPrimaryKeyIndex(rel);
    if (!OidIsValid(shape.pkey)) return false;
    Relation pk = index_open(shape.pkey, RowExclusiveLock);
    AttrNumber key_only[] = {shape.c_key};
    bool plain_pkey = index_is(pk, desc, key_only, 1, no_predicate);
    index_close(pk, NoLock);
    if (!plain_pkey) return false;
    shape.hint = shape.queue && hint_trigger;

    // rte->updatedCols of the UPDATE: ExecInsertIndexTuples asks it whether
    // an index's columns changed (a hint for btree's bottom-up deletion).
    MemoryContext old = MemoryContextSwitchTo(shape.cxt);
    AttrNumber set[] = {shape.c_status, shape.c_claimant, shape.c_claimed_at, shape.c_lease};
    for (AttrNumber c : set) shape.updated = bms_add_member(shape.updated, c - FirstLowInvalidHeapAttributeNumber);
    if (shape.queue) shape.updated = bms_add_member(shape.updated, shape.c_token - FirstLowInvalidHeapAttributeNumber);
    MemoryContextSwitchTo(old);
    return true;
}

void build_shape(Relation rel) {
    if (!callbacks_registered) {
        CacheRegisterRelcacheCallback(forget_shape_rel, (Datum)0);
        CacheRegisterSyscacheCallback(PROCOID, forget_shape_proc, (Datum)0);
        callbacks_registered = true;
    }
    if (shape.cxt == NULL)
        shape.cxt = AllocSetContextCreate(TopMemoryContext, "slotguard claim_next_order", ALLOCSET_SMALL_SIZES);
    else
        MemoryContextReset(shape.cxt);
    uint64 seen = invalidations;
    shape.valid = false;  // until built: an error on the way leaves it unbuilt
    shape.relid = RelationGetRelid(rel);
    shape.ready_idx = shape.kind_idx = shape.lease_idx = shape.pkey = shape.token_seq = InvalidOid;
    shape.queue = false;
    shape.hint = false;
    shape.check_fn_hash = 0;
    shape.hint_fn_hash = 0;
    // The table changed (or was only looked at again): whatever it was, a
    // hint from before may not hold (a trigger disabled meanwhile...).
    queue_hint_forget();
    shape.updated = NULL;
    shape.usable = shape_usable(rel);
    // Built from what the relcache said when we read it; an invalidation
    // meanwhile means read it again next time.
    shape.valid = invalidations == seen;
}

bool column_is(TupleTableSlot* slot, AttrNumber att, const char* s) {
    bool isnull;
    Datum d = slot_getattr(slot, att, &isnull);
    return !isnull && text_is(DatumGetTextPP(d), s);
}

bool column_equals(TupleTableSlot* slot, AttrNumber att, text* t) {
    bool isnull;
    Datum d = slot_getattr(slot, att, &isnull);
    return !isnull && same_text(DatumGetTextPP(d), t);
}

// The subquery's filter: status = 'ready' [AND kind = $3].
bool ready_row(TupleTableSlot* slot, text* kind) {
    return column_is(slot, shape.c_status, "ready") && (kind == NULL || column_equals(slot, shape.c_kind, kind));
}

// status = 'claimed' AND lease_expires_at <= now(): a claim anyone may take over.
bool expired_claim(TupleTableSlot* slot, TimestampTz now) {
    bool isnull;
    Datum lease = slot_getattr(slot, shape.c_lease, &isnull);
    return !isnull && DatumGetTimestampTz(lease) <= now && column_is(slot, shape.c_status, "claimed");
}

// NOT EXISTS (SELECT 1 FROM orders e WHERE e.status = 'claimed' AND
// e.lease_expires_at <= now() [AND e.kind = $3]), with the statement's
// snapshot: the range "lease <= now" of the lease index, normally empty.
bool expired_claim_exists(Relation rel, Snapshot snap, TupleTableSlot* slot, text* kind, TimestampTz now) {
    Relation idx = index_open(shape.lease_idx, RowExclusiveLock);
    ScanKeyData key;
    ScanKeyInit(&key, 1, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE, TimestampTzGetDatum(now));
    IndexScanDesc scan = index_beginscan(rel, idx, snap, 1, 0);
    index_rescan(scan, &key, 1, NULL, 0);
    bool found = false;
    while (!found && index_getnext_slot(scan, ForwardScanDirection, slot))
        found = expired_claim(slot, now) && (kind == NULL || column_equals(slot, shape.c_kind, kind));
    index_endscan(scan);
    index_close(idx, NoLock);
    return found;
}

[[noreturn]] void serialization_failure() {
    ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                    errmsg("could not serialize access due to concurrent update")));
    pg_unreachable();
}

// ready_at <= now(): claimable by time (1.2; on 1.1 every ready order is).
bool due(TupleTableSlot* slot, TimestampTz now) {
    if (!shape.queue) return true;
    bool isnull;
    Datum r = slot_getattr(slot, shape.c_ready_at, &isnull);
    return !isnull && DatumGetTimestampTz(r) <= now;
}

// A walk over the ready queue in claim order (orders_queue[_kind]_idx on
// 1.2, orders_ready[_kind]_idx on 1.1) that locks claimable orders one by
// one, as LockRows does for the subquery's FOR UPDATE SKIP LOCKED.
//
// 1.2 with the hint trigger: the walk starts at the queue hint and finds
// where the entries dead to every snapshot end (queue_hint.hpp), to publish
// that as the next hint when it is done.
// The hint's start is three ranges one after the other: its (priority,
// ready_at) from its key on, the rest of its priority, the lower ones.
enum ScanFrom { FROM_HEAD, FROM_KEY, FROM_LATER, FROM_BELOW };
struct QueueScan {
    Relation rel;
    Relation idx;
    Snapshot snap;
    CommandId cid;
    text* kind;
    TimestampTz now;
    IndexScanDesc scan;
    ScanFrom from;
    QueuePos start;  // FROM_KEY/FROM_LATER: the hint; FROM_BELOW: start.priority is the level above
    TupleTableSlot* scanned;
    TupleTableSlot* locked;
    // The hint: whether to track it, the generation it was read at, and
    // what this walk learnt: every entry before `dead_to` is dead to all
    // (has_dead_to), and whether the dead prefix has ended.
    bool hinting;
    uint64 hint_gen;
    bool prefix_ended;
    bool has_dead_to;
    QueuePos dead_to;
};

// (Re)starts the index scan: from the head of the queue, at the hint
// (priority = p AND ready_at = t [AND key >= k], then priority = p AND
// ready_at > t, then priority < p), or (1.2) at the first entry whose
// priority is lower than start.priority.
void queue_scan_start(QueueScan* q, ScanFrom from, const QueuePos& start) {
    if (q->scan != NULL) index_endscan(q->scan);
    q->from = from;
    q->start = start;
    ScanKeyData keys[4];
    int nkeys = 0;
    AttrNumber prio_col = q->kind != NULL ? 2 : 1;
    if (q->kind != NULL) {
        ScanKeyInit(&keys[nkeys], 1, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(q->kind));
        keys[nkeys].sk_collation = q->idx->rd_indcollation[0];
        ++nkeys;
    }
    if (from == FROM_BELOW) {
        // priority < below: on the DESC column, the entries after that level.
        ScanKeyInit(&keys[nkeys++], prio_col, BTLessStrategyNumber, F_INT4LT, Int32GetDatum(start.priority));
    } else if (from == FROM_KEY || from == FROM_LATER) {
        ScanKeyInit(&keys[nkeys++], prio_col, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(start.priority));
        if (from == FROM_LATER) {
            ScanKeyInit(&keys[nkeys++], prio_col + 1, BTGreaterStrategyNumber, F_TIMESTAMPTZ_GT,
                        TimestampTzGetDatum(start.ready_at));
        } else {
            ScanKeyInit(&keys[nkeys++], prio_col + 1, BTEqualStrategyNumber, F_TIMESTAMPTZ_EQ,
                        TimestampTzGetDatum(start.ready_at));
            if (start.key_len >= 0) {
                text* k = cstring_to_text_with_len(start.key, start.key_len);
                ScanKeyInit(&keys[nkeys], prio_col + 2, BTGreaterEqualStrategyNumber, F_TEXT_GE, PointerGetDatum(k));
                keys[nkeys].sk_collation = q->idx->rd_indcollation[prio_col + 1];
                ++nkeys;
            }
        }
    }
    q->scan = index_beginscan(q->rel, q->idx, q->snap, nkeys, 0);
    // The entries' keys, to know where the dead ones end (as an index-only scan asks).
    q->scan->xs_want_itup = q->hinting;
    index_rescan(q->scan, keys, nkeys, NULL, 0);
}

// The (priority, ready_at, key) of the entry the scan just returned.
bool entry_pos(QueueScan* q, QueuePos* pos) {
    IndexTuple itup = q->scan->xs_itup;
    if (itup == NULL) return false;
    AttrNumber prio_col = q->kind != NULL ? 2 : 1;
    bool pnull, rnull;
    Datum p = index_getattr(itup, prio_col, q->scan->xs_itupdesc, &pnull);
    Datum r = index_getattr(itup, prio_col + 1, q->scan->xs_itupdesc, &rnull);
    if (pnull || rnull) return false;
    pos->priority = DatumGetInt32(p);
    pos->ready_at = DatumGetTimestampTz(r);
    bool knull;
    Datum k = index_getattr(itup, prio_col + 2, q->scan->xs_itupdesc, &knull);
    pos->key_len = -1;
    // Sized before detoasting: an index keeps a long key compressed, and a
    // walk over many dead entries would decompress (and keep) every one.
    if (!knull && toast_raw_datum_size(k) - VARHDRSZ <= (Size)QUEUE_HINT_KEY_BYTES) {
        text* t = DatumGetTextPP(k);
        size_t n = VARSIZE_ANY_EXHDR(t);
        memcpy(pos->key, VARDATA_ANY(t), n);
        pos->key_len = (int16)n;
        if ((Pointer)t != DatumGetPointer(k)) pfree(t);
    }
    return true;
}

// index_getnext_slot, noting (while hinting) whether each entry passed over
// was dead to all: index_fetch_heap sets kill_prior_tuple exactly then.
bool queue_scan_fetch(QueueScan* q) {
    for (;;) {
        CHECK_FOR_INTERRUPTS();  // a long dead head (no hint yet, or a snapshot holding it)
        if (!q->scan->xs_heap_continue) {
            if (index_getnext_tid(q->scan, ForwardScanDirection) == NULL) {
                // The end of this range: on from the hint to the rest of the queue.
                if (q->from == FROM_KEY) queue_scan_start(q, FROM_LATER, q->start);
                else if (q->from == FROM_LATER) queue_scan_start(q, FROM_BELOW, q->start);
                else return false;
                continue;
            }
        }
        bool visible = index_fetch_heap(q->scan, q->scanned);
        if (q->hinting && !q->prefix_ended) {
            QueuePos pos;
            if (!entry_pos(q, &pos)) {
                q->prefix_ended = true;
                q->has_dead_to = false;
            } else if (visible || !q->scan->kill_prior_tuple) {
                // The first entry someone may still see: the prefix ends here.
                q->prefix_ended = true;
                q->has_dead_to = true;
                q->dead_to = pos;
            } else {
                q->has_dead_to = true;
                q->dead_to = pos;
            }
        }
        if (visible) return true;
    }
}

// Whether this transaction may use (and publish) the hint at all. Not when
// the table or the index got a new relfilenode in it (TRUNCATE, REINDEX, a
// rewrite): what a walk finds there is gone if the transaction rolls back,
// and the old index comes back under the same oid. Not while this
// transaction has AFTER trigger events on the table still to fire: a row it
// wrote as ready in the current statement (a CTE, INSERT ... SELECT, a
// trigger) is already in the index and visible to this claim, but
// orders_queue_changed has not dropped the hints yet. (No xid: nothing
// written, nothing pending.)
bool hint_usable(QueueScan* q) {
    if (q->rel->rd_createSubid != InvalidSubTransactionId ||
        q->rel->rd_firstRelfilenodeSubid != InvalidSubTransactionId ||
        q->idx->rd_createSubid != InvalidSubTransactionId ||
        q->idx->rd_firstRelfilenodeSubid != InvalidSubTransactionId)
        return false;
    return !TransactionIdIsValid(GetTopTransactionIdIfAny()) || !AfterTriggerPendingOnRel(RelationGetRelid(q->rel));
}

void queue_scan_begin(QueueScan* q, Relation rel, Snapshot snap, CommandId cid, text* kind, TimestampTz now,
                      TupleTableSlot* scanned, TupleTableSlot* locked) {
    q->rel = rel;
    q->idx = index_open(kind != NULL ? shape.kind_idx : shape.ready_idx, RowExclusiveLock);
    q->snap = snap;
    q->cid = cid;
    q->kind = kind;
    q->now = now;
    q->scan = NULL;
    q->scanned = scanned;
    q->locked = locked;
    q->hinting = false;
    q->prefix_ended = false;
    q->has_dead_to = false;
    QueuePos hint;
    hint.priority = 0;
    hint.ready_at = 0;
    hint.key_len = -1;
    bool found = false;
    // Not in recovery (kill_prior_tuple would not say all_dead there).
    if (shape.hint && !RecoveryInProgress() && hint_usable(q)) {
        found = queue_hint_read(RelationGetRelid(q->idx), kind, &hint, &q->hint_gen, &q->hinting);
        // SERIALIZABLE: a walk from the head predicate-locks the index pages
        // of the dead prefix too, and so sees a concurrent serializable
        // insertion in front of the order it takes as a read-write
        // conflict; one starting at the hint would not. Such a walk still
        // publishes what it found.
        if (IsolationIsSerializable()) found = false;
    }
    if (found) {
        q->has_dead_to = true;
        q->dead_to = hint;
    }
    queue_scan_start(q, found ? FROM_KEY : FROM_HEAD, hint);
}

void queue_scan_end(QueueScan* q) {
    if (q->scan != NULL) index_endscan(q->scan);
    // What this walk found dead: where the next one may start.
    if (q->hinting && q->has_dead_to) queue_hint_publish(RelationGetRelid(q->idx), q->kind, q->hint_gen, q->dead_to);
    index_close(q->idx, NoLock);
}

// The next ready order (of the kind) that is due and that this transaction
// can lock, locked into q->locked: skip rows others hold (SKIP LOCKED) or
// that this transaction changed; under READ COMMITTED follow a committed
// update to the row's latest version and skip it unless it is still ready
// and due (EvalPlanQual); under REPEATABLE READ / SERIALIZABLE a row
// changed since the snapshot is 40001. False if there is none, or if the
// row's key changed on the way (the outer UPDATE, looking it up by key with
// the statement's snapshot, would then match nothing).
//
// 1.2: within one priority the queue is in ready_at order, so the first
// entry that is not due yet ends that priority's claimable orders: the scan
// starts again at the next lower priority, one index descent per priority
// that has orders waiting for their not_before or backoff.
bool queue_scan_next(QueueScan* q) {
    int flags = TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS;
    if (!IsolationUsesXactSnapshot()) flags |= TUPLE_LOCK_FLAG_FIND_LAST_VERSION;
    while (queue_scan_fetch(q)) {
        // (queue_scan_fetch checks for interrupts: the head of a busy queue, many rows others hold)
        if (!ready_row(q->scanned, q->kind)) continue;
        if (!due(q->scanned, q->now)) {
            bool isnull;
            int32 p = DatumGetInt32(slot_getattr(q->scanned, shape.c_priority, &isnull));
            if (isnull || p == PG_INT32_MIN) return false;
            QueuePos below;
            below.priority = p;
            queue_scan_start(q, FROM_BELOW, below);
            continue;
        }
        ItemPointerData tid = q->scanned->tts_tid;
        TM_FailureData tmfd;
        TM_Result r =
            table_tuple_lock(q->rel, &tid, q->snap, q->locked, q->cid, LockTupleExclusive, LockWaitSkip, flags, &tmfd);
        if (r == TM_WouldBlock || r == TM_SelfModified) continue;
        if (r == TM_Updated) {
            if (IsolationUsesXactSnapshot()) serialization_failure();
            elog(ERROR, "unexpected table_tuple_lock status: %u", r);
        }
        if (r == TM_Deleted) {
            if (IsolationUsesXactSnapshot()) serialization_failure();
            continue;
        }
        if (r == TM_Invisible) elog(ERROR, "attempted to lock invisible tuple");
        if (r != TM_Ok) elog(ERROR, "unrecognized table_tuple_lock status: %u", r);
        if (tmfd.traversed) {
            if (!ready_row(q->locked, q->kind) || !due(q->locked, q->now)) continue;  // stays locked, as with LockRows
            bool isnull;
            text* was = DatumGetTextPP(slot_getattr(q->scanned, shape.c_key, &isnull));
            if (!column_equals(q->locked, shape.c_key, was)) return false;
        }
        return true;
    }
    return false;
}

// ExecConstraints for the new row: NOT NULL, then orders_rules (the only
// CHECK constraint, see only_orders_rules), called directly.
void check_row(Relation rel, const Datum* values, const bool* nulls) {
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (a->attnotnull && nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
                            errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
                                   NameStr(a->attname), RelationGetRelationName(rel)),
                            errtablecol(rel, a->attnum)));
    }
    AttrNumber args[N_RULE_ARGS_MAX];
    rule_args(args);
    int nargs = n_rule_args();
    LOCAL_FCINFO(fcinfo, N_RULE_ARGS_MAX);
    InitFunctionCallInfoData(*fcinfo, NULL, nargs, InvalidOid, NULL, NULL);
    for (int i = 0; i < nargs; ++i) {
        fcinfo->args[i].value = values[args[i] - 1];
        fcinfo->args[i].isnull = nulls[args[i] - 1];
    }
    Datum ok = sg_order_row_ok(fcinfo);
    if (!fcinfo->isnull && !DatumGetBool(ok))
        ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
                        errmsg("new row for relation \"%s\" violates check constraint \"%s\"",
                               RelationGetRelationName(rel), "orders_rules"),
                        errtableconstraint(rel, "orders_rules")));
}

// What an order's UPDATE sets: status, and (set_claim) claimant and
// claimed_at, and (set_lease) lease_expires_at.
struct OrderSet {
    const char* status;
    bool set_claim;
    text* claimant;    // NULL: NULL
    bool claimed_now;  // claimed_at = now(), else NULL
    bool set_lease;
    bool has_lease;
    TimestampTz lease;
    bool new_token;  // 1.2, a claim: claim_token = greatest(nextval(order_claim_token_seq), claim_token + 1)
};

// The UPDATE of one row version (ExecSimpleRelationUpdate without
// triggers): the new version, then its index entries unless the update was
// HOT. TM_Ok, or why heap_update did not write (then nothing changed).
TM_Result write_order_row(Relation rel, Snapshot snap, TupleTableSlot* old, TupleTableSlot* fresh, CommandId cid,
                          const OrderSet* set, TimestampTz now) {
    TupleDesc desc = RelationGetDescr(rel);
    slot_getallattrs(old);
    Datum* values = (Datum*)palloc(sizeof(Datum) * desc->natts);
    bool* nulls = (bool*)palloc(sizeof(bool) * desc->natts);
    memcpy(values, old->tts_values, sizeof(Datum) * desc->natts);
    memcpy(nulls, old->tts_isnull, sizeof(bool) * desc->natts);
    values[shape.c_status - 1] = CStringGetTextDatum(set->status);
    nulls[shape.c_status - 1] = false;
    if (set->set_claim) {
        values[shape.c_claimant - 1] = PointerGetDatum(set->claimant);
        nulls[shape.c_claimant - 1] = set->claimant == NULL;
        values[shape.c_claimed_at - 1] = TimestampTzGetDatum(now);
        nulls[shape.c_claimed_at - 1] = !set->claimed_now;
    }
    if (set->set_lease) {
        values[shape.c_lease - 1] = TimestampTzGetDatum(set->lease);
        nulls[shape.c_lease - 1] = !set->has_lease;
    }
    if (set->new_token && shape.queue) {
        int64 next = nextval_internal(shape.token_seq, false);
        int64 old = nulls[shape.c_token - 1] ? 0 : DatumGetInt64(values[shape.c_token - 1]);
        if (old >= next) next = old + 1;  // the sequence was set back (never past PG_INT64_MAX: nextval stops first)
        values[shape.c_token - 1] = Int64GetDatum(next);
        nulls[shape.c_token - 1] = false;
    }
    check_row(rel, values, nulls);
    ExecStoreHeapTuple(heap_form_tuple(desc, values, nulls), fresh, true);

    TM_FailureData tmfd;
    LockTupleMode lockmode;
    bool update_indexes;
    TM_Result r = table_tuple_update(rel, &old->tts_tid, fresh, cid, snap, InvalidSnapshot, true, &tmfd, &lockmode,
                                     &update_indexes);
    if (r != TM_Ok || !update_indexes) return r;

    EState* estate = CreateExecutorState();
    RangeTblEntry* rte = makeNode(RangeTblEntry);
    rte->rtekind = RTE_RELATION;
    rte->relid = RelationGetRelid(rel);
    rte->relkind = RELKIND_RELATION;
    rte->rellockmode = RowExclusiveLock;
    rte->updatedCols = bms_copy(shape.updated);
    ExecInitRangeTable(estate, list_make1(rte));
    ResultRelInfo* rri = makeNode(ResultRelInfo);
    InitResultRelInfo(rri, rel, 1, NULL, 0);
    estate->es_snapshot = snap;
    estate->es_output_cid = cid;
    ExecOpenIndices(rri, false);
    List* recheck = ExecInsertIndexTuples(rri, fresh, estate, true, false, NULL, NIL);
    list_free(recheck);
    close_indices_keep_locks(rri);
    FreeExecutorState(estate);
    // Back in the queue (release), maybe before a hint: drop them.
    if (shape.hint && strcmp(set->status, "ready") == 0) queue_hint_forget();
    return TM_Ok;
}

// The state every direct write starts from: slotguard.orders open as an
// UPDATE opens it, the statement's snapshot and command id as SPI sets them
// up for a statement that writes (earlier writes of this transaction, an
// earlier call in the same statement too, are seen), in a memory context of
// its own. False (nothing open) when the table needs SQL.
struct Direct {
    Relation rel;
    Snapshot snap;
    CommandId cid;
    TimestampTz now;  // now()
    MemoryContext caller, work;
};

bool direct_begin(Direct* d) {
    // The UPDATE would be refused here (25006 and the like): let it say so.
    if (XactReadOnly || IsInParallelMode()) return false;
    d->rel = table_open(slotguard_relation("orders"), RowExclusiveLock);
    if (!shape.valid || shape.relid != RelationGetRelid(d->rel)) build_shape(d->rel);
    if (!shape.usable || pg_class_aclcheck(shape.relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
        pg_class_aclcheck(shape.relid, GetUserId(), ACL_UPDATE) != ACLCHECK_OK) {
        table_close(d->rel, NoLock);
        return false;
    }
    CheckCmdReplicaIdentity(d->rel, CMD_UPDATE);
    d->caller = CurrentMemoryContext;
    d->work = AllocSetContextCreate(d->caller, "slotguard direct order write", ALLOCSET_DEFAULT_SIZES);
    MemoryContextSwitchTo(d->work);
    PushActiveSnapshot(GetTransactionSnapshot());
    CommandCounterIncrement();
    UpdateActiveSnapshotCommandId();
    d->snap = GetActiveSnapshot();
    d->cid = GetCurrentCommandId(true);
    d->now = GetCurrentTransactionStartTimestamp();
    return true;
}

// The written row as a slotguard.orders datum, in the caller's context.
Datum direct_row(Direct* d, TupleTableSlot* fresh) {
    HeapTuple t = ExecFetchSlotHeapTuple(fresh, false, NULL);
    MemoryContextSwitchTo(d->caller);
    Datum row = heap_copy_tuple_as_datum(t, RelationGetDescr(d->rel));
    MemoryContextSwitchTo(d->work);
    return row;
}

void direct_end(Direct* d) {
    PopActiveSnapshot();
    MemoryContextSwitchTo(d->caller);
    MemoryContextDelete(d->work);
    table_close(d->rel, NoLock);
}

// The order's version the snapshot sees, found through the primary key.
bool fetch_by_key(Direct* d, text* key, TupleTableSlot* slot) {
    Relation idx = index_open(shape.pkey, RowExclusiveLock);
    ScanKeyData sk;
    ScanKeyInit(&sk, 1, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(key));
    sk.sk_collation = idx->rd_indcollation[0];
    IndexScanDesc scan = index_beginscan(d->rel, idx, d->snap, 1, 0);
    index_rescan(scan, &sk, 1, NULL, 0);
    bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
    index_endscan(scan);
    index_close(idx, NoLock);
    return found;
}

bool lease_live(TupleTableSlot* slot, TimestampTz now) {
    bool isnull;
    Datum lease = slot_getattr(slot, shape.c_lease, &isnull);
    return isnull || DatumGetTimestampTz(lease) > now;
}

// UPDATE ... WHERE o.key = $1 AND <matches> with the SET of `set`, on the
// row version the statement's snapshot sees: an UPDATE's WHERE is decided
// on exactly that version. If a concurrent transaction changed it since
// (heap_update waited for it), the executor would go on to the latest
// version (READ COMMITTED) or fail (40001): that is left to the SQL.
struct KeyedArgs {
    text* claimant;
    bool has_token;  // 1.2: the caller's fencing token must be the current one
    int64 token;
};
typedef bool (*RowTest)(TupleTableSlot* slot, const KeyedArgs* a, TimestampTz now);

KeyedOutcome keyed_update(text* key, const KeyedArgs* args, RowTest matches, const OrderSet* set, Datum* row,
                          RowTest lost, bool* has_lost) {
    Direct d;
    if (!direct_begin(&d)) return KEYED_SQL;
    TupleTableSlot* seen = table_slot_create(d.rel, NULL);
    KeyedOutcome out = KEYED_SQL;
    if (!fetch_by_key(&d, key, seen)) {
        out = KEYED_NO_MATCH;
    } else if (!matches(seen, args, d.now)) {
        out = KEYED_NO_MATCH;
        if (lost != NULL) *has_lost = lost(seen, args, d.now);
    } else {
        TupleTableSlot* fresh = MakeSingleTupleTableSlot(RelationGetDescr(d.rel), &TTSOpsHeapTuple);
        if (write_order_row(d.rel, d.snap, seen, fresh, d.cid, set, d.now) == TM_Ok) {
            *row = direct_row(&d, fresh);
            out = KEYED_DONE;
        }
        ExecDropSingleTupleTableSlot(fresh);
    }
    ExecDropSingleTupleTableSlot(seen);
    direct_end(&d);
    return out;
}

// status = 'ready' [AND ready_at <= now()] OR (status = 'claimed' AND lease_expires_at <= now())
bool claimable_row(TupleTableSlot* slot, const KeyedArgs*, TimestampTz now) {
    return (column_is(slot, shape.c_status, "ready") && due(slot, now)) || expired_claim(slot, now);
}

// Someone else's live claim: the caller lost.
bool held_by_other(TupleTableSlot* slot, const KeyedArgs* a, TimestampTz now) {
    bool isnull;
    Datum holder = slot_getattr(slot, shape.c_claimant, &isnull);
    return column_is(slot, shape.c_status, "claimed") && !isnull && !same_text(DatumGetTextPP(holder), a->claimant) &&
           lease_live(slot, now);
}

// status = 'claimed' AND claimant = $2 AND (lease_expires_at IS NULL OR lease_expires_at > now())
// [AND claim_token = $3]
bool held_live_by(TupleTableSlot* slot, const KeyedArgs* a, TimestampTz now) {
    if (!(column_is(slot, shape.c_status, "claimed") && column_equals(slot, shape.c_claimant, a->claimant) &&
          lease_live(slot, now)))
        return false;
    if (!a->has_token) return true;
    if (!shape.queue) return false;
    bool isnull;
    Datum t = slot_getattr(slot, shape.c_token, &isnull);
    return !isnull && DatumGetInt64(t) == a->token;
}

}  // namespace

DirectClaim direct_claim_next(text* claimant, text* kind, bool has_lease, TimestampTz expires, Datum* row) {
    Direct d;
    if (!direct_begin(&d)) return DIRECT_CLAIM_UNUSABLE;
    TupleTableSlot* scanned = table_slot_create(d.rel, NULL);
    TupleTableSlot* locked = table_slot_create(d.rel, NULL);
    DirectClaim result = DIRECT_CLAIM_NONE;
    if (!expired_claim_exists(d.rel, d.snap, scanned, kind, d.now)) {
        QueueScan q;
        queue_scan_begin(&q, d.rel, d.snap, d.cid, kind, d.now, scanned, locked);
        if (queue_scan_next(&q)) {
            TupleTableSlot* fresh = MakeSingleTupleTableSlot(RelationGetDescr(d.rel), &TTSOpsHeapTuple);
            OrderSet set = {"claimed", true, claimant, true, true, has_lease, expires, true};
            // We hold the row's lock: nothing else can have changed it.
            TM_Result r = write_order_row(d.rel, d.snap, locked, fresh, d.cid, &set, d.now);
            if (r != TM_Ok) elog(ERROR, "slotguard: claim of a locked order failed (%u)", r);
            *row = direct_row(&d, fresh);
            ExecDropSingleTupleTableSlot(fresh);
            result = DIRECT_CLAIM_OK;
        } else {
            result = DIRECT_CLAIM_EMPTY;
        }
        queue_scan_end(&q);
    }
    ExecDropSingleTupleTableSlot(locked);
    ExecDropSingleTupleTableSlot(scanned);
    direct_end(&d);
    return result;
}

DirectClaim direct_claim_next_batch(text* claimant, text* kind, bool has_lease, TimestampTz expires, int max,
                                    Tuplestorestate* out, int* n) {
    *n = 0;
    Direct d;
    if (!direct_begin(&d)) return DIRECT_CLAIM_UNUSABLE;
    TupleTableSlot* scanned = table_slot_create(d.rel, NULL);
    TupleTableSlot* locked = table_slot_create(d.rel, NULL);
    DirectClaim result = DIRECT_CLAIM_NONE;
    if (!expired_claim_exists(d.rel, d.snap, scanned, kind, d.now)) {
        QueueScan q;
        queue_scan_begin(&q, d.rel, d.snap, d.cid, kind, d.now, scanned, locked);
        TupleTableSlot* fresh = MakeSingleTupleTableSlot(RelationGetDescr(d.rel), &TTSOpsHeapTuple);
        OrderSet set = {"claimed", true, claimant, true, true, has_lease, expires, true};
        while (*n < max && queue_scan_next(&q)) {
            TM_Result r = write_order_row(d.rel, d.snap, locked, fresh, d.cid, &set, d.now);
            if (r != TM_Ok) elog(ERROR, "slotguard: claim of a locked order failed (%u)", r);
            tuplestore_puttupleslot(out, fresh);
            ExecClearTuple(fresh);
            ++*n;
        }
        ExecDropSingleTupleTableSlot(fresh);
        queue_scan_end(&q);
        result = DIRECT_CLAIM_OK;
    }
    ExecDropSingleTupleTableSlot(locked);
    ExecDropSingleTupleTableSlot(scanned);
    direct_end(&d);
    return result;
}

KeyedOutcome direct_claim_key(text* key, text* claimant, bool has_lease, TimestampTz expires, Datum* row,
                              bool* lost) {
    OrderSet set = {"claimed", true, claimant, true, true, has_lease, expires, true};
    KeyedArgs args = {claimant, false, 0};
    *lost = false;
    return keyed_update(key, &args, claimable_row, &set, row, held_by_other, lost);
}

KeyedOutcome direct_finish_key(text* key, text* claimant, bool completing, bool has_token, int64 token, Datum* row) {
    // release: back to ready, nobody's; complete: done, keeping who and since when.
    OrderSet release = {"ready", true, NULL, false, true, false, 0, false};
    OrderSet complete = {"done", false, NULL, false, true, false, 0, false};
    KeyedArgs args = {claimant, has_token, token};
    return keyed_update(key, &args, held_live_by, completing ? &complete : &release, row, NULL, NULL);
}

}  // namespace sgpg
