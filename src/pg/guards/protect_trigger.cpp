// The trigger protect() installs on the application's table (contract §5):
// AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW, and AFTER TRUNCATE.
//
// For each row it evaluates the guard's expressions and keeps the row's
// entry in slotguard.guard_entry: an active row gets one, admitted by
// admit_write exactly as book_slot admits a booking (the entry is written
// in a subtransaction, re-checked, and backed out and retried when an older
// writer decides the outcome); an inactive or deleted row loses it. So
// rows of the user's own INSERT/UPDATE/COPY keep the capacity invariant
// under concurrency, and a single-row statement never deadlocks on it.
#include "guards/guard.hpp"
#include "engine/spi_plans.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_guard_trigger);
}

namespace sgpg {
namespace {

const char* table_name(Relation rel) {
    return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
}

// A guard as one backend uses it: the row of slotguard.guard (never
// changed once written: unprotect + protect makes a new id) and the plans
// that evaluate its expressions, prepared against the table as it is now.
struct Guard {
    int32 id;  // hash key
    bool valid;
    int busy;         // trigger calls using it now (a guard expression can write another protected table)
    uint64 last_use;  // for evicting the least recently used guard
    Oid relid;
    Oid owner;  // the role the expressions were given by (InvalidOid: not recorded, a 1.0/1.1 guard)
    int capacity;
    int n_keys;
    AttrNumber key_atts[INDEX_MAX_KEYS];
    char* key_names;
    ArrayType* settings;
    SPIPlanPtr eval;  // $1 = the row: resource, during, active, seats, key
    SPIPlanPtr key;   // $1 = the row: its key
    RowEval eval_fast, key_fast;  // the same, compiled
    MemoryContext cxt;
};

HTAB* guards = NULL;
uint64 use_clock = 0;

// Guards kept per backend. A backend that writes to more protected tables
// than this prepares the least recently used one again when it comes back.
const long MAX_CACHED_GUARDS = 64;

// Any change to the table (columns, types, primary key) or a cache reset:
// prepare the plans again on next use.
void invalidate_guards(Datum, Oid relid) {
    if (guards == NULL) return;
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, guards);
    Guard* g;
    while ((g = (Guard*)hash_seq_search(&seq)) != NULL)
        if (relid == InvalidOid || g->relid == relid) g->valid = false;
}

void free_guard(Guard* g) {
    if (g->cxt == NULL) return;
    row_eval_free(&g->eval_fast);
    row_eval_free(&g->key_fast);
    if (g->eval) SPI_freeplan(g->eval);
    if (g->key) SPI_freeplan(g->key);
    MemoryContextDelete(g->cxt);
    g->cxt = NULL;
    g->eval = g->key = NULL;
}

// Makes room for one more guard: drops the least recently used ones that
// no trigger call is using, until fewer than MAX_CACHED_GUARDS are left.
void evict_guards(void) {
    while (hash_get_num_entries(guards) >= MAX_CACHED_GUARDS) {
        HASH_SEQ_STATUS seq;
        hash_seq_init(&seq, guards);
        Guard* g;
        Guard* oldest = NULL;
        while ((g = (Guard*)hash_seq_search(&seq)) != NULL)
            if (g->busy == 0 && (oldest == NULL || g->last_use < oldest->last_use)) oldest = g;
        if (oldest == NULL) return;  // all in use (deeply nested writes): grow
        int32 id = oldest->id;
        free_guard(oldest);
        hash_search(guards, &id, HASH_REMOVE, NULL);
    }
}

void init_cache(void) {
    HASHCTL ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.keysize = sizeof(int32);
    ctl.entrysize = sizeof(Guard);
    guards = hash_create("slotguard guards", 16, &ctl, HASH_ELEM | HASH_BLOBS);
    CacheRegisterRelcacheCallback(invalidate_guards, (Datum)0);
}

// The guard lookup; with the owner column (1.2) or without (1.0/1.1).
SPIPlanPtr guard_row_plans[2] = {NULL, NULL};

// Loads the guard's row (as the guard owner, latest snapshot: a guard
// committed after this transaction's snapshot still applies) and prepares
// its plans as the table's owner. SPI connected, search_path pinned.
//
// Until it has succeeded the guard is marked invalid, so a failed load
// leaves nothing that looks usable: the next call loads it again.
void load_guard(Guard* g, Relation rel) {
    g->valid = false;
    free_guard(g);
    memset(&g->eval_fast, 0, sizeof g->eval_fast);
    memset(&g->key_fast, 0, sizeof g->key_fast);
    g->cxt = AllocSetContextCreate(CacheMemoryContext, "slotguard guard", ALLOCSET_SMALL_SIZES);

    RoleSave role = become_guard_owner();
    bool with_owner = guard_owner_recorded();
    if (guard_row_plans[with_owner] == NULL) {
        Oid types[1] = {INT4OID};
        SPIPlanPtr p = SPI_prepare(
            with_owner
                ? "SELECT g.tbl::pg_catalog.oid, g.resource_expr, g.during_expr, g.active_expr, g.capacity, "
                  "g.seats_expr, g.key_columns, g.settings, g.owner::pg_catalog.oid FROM slotguard.guard g "
                  "WHERE g.id = $1"
                : "SELECT g.tbl::pg_catalog.oid, g.resource_expr, g.during_expr, g.active_expr, g.capacity, "
                  "g.seats_expr, g.key_columns, g.settings FROM slotguard.guard g WHERE g.id = $1",
            1, types);
        if (p == NULL || SPI_keepplan(p) != 0) elog(ERROR, "slotguard: preparing the guard lookup failed");
        guard_row_plans[with_owner] = p;
    }
    Datum v[1] = {Int32GetDatum(g->id)};
    run_latest(guard_row_plans[with_owner], v, NULL, 1);
    restore_role(&role);
    if (SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("guard %d of table %s does not exist", g->id, RelationGetRelationName(rel)),
                        errhint("Drop the trigger \"%s\", or run slotguard.unprotect() on the table.",
                                GUARD_TRIGGER_NAME)));
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    bool isnull;
    Oid tbl = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
    if (tbl != RelationGetRelid(rel))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("guard %d does not belong to table %s", g->id, RelationGetRelationName(rel)),
                        errhint("Drop the trigger \"%s\" on this table.", GUARD_TRIGGER_NAME)));
    GuardExprs e;
    e.resource = TextDatumGetCString(SPI_getbinval(t, d, 2, &isnull));
    e.during = TextDatumGetCString(SPI_getbinval(t, d, 3, &isnull));
    e.active = TextDatumGetCString(SPI_getbinval(t, d, 4, &isnull));
    int capacity = DatumGetInt32(SPI_getbinval(t, d, 5, &isnull));
    e.seats = TextDatumGetCString(SPI_getbinval(t, d, 6, &isnull));
    ArrayType* key_columns = DatumGetArrayTypePCopy(SPI_getbinval(t, d, 7, &isnull));
    ArrayType* settings = DatumGetArrayTypePCopy(SPI_getbinval(t, d, 8, &isnull));
    Oid owner = with_owner ? DatumGetObjectId(SPI_getbinval(t, d, 9, &isnull)) : InvalidOid;
    if (with_owner && isnull) owner = InvalidOid;
    check_owner_unchanged(rel, owner);

    check_key_unchanged(rel, key_columns);
    KeyColumns k = primary_key_of(rel);

    // The user's expressions: prepared (and later run) as the table's owner,
    // with the settings of protect() time.
    int level = pin_settings(settings);
    role = become_table_owner(rel);
    Oid argtype = rel->rd_rel->reltype;
    SPIPlanPtr eval = SPI_prepare(guard_row_query(rel, &e, key_columns), 1, &argtype);
    if (eval == NULL) elog(ERROR, "slotguard: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    check_eval_columns(eval, rel);
    SPIPlanPtr key = SPI_prepare(key_row_query(rel, key_columns), 1, &argtype);
    if (key == NULL) elog(ERROR, "slotguard: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    restore_role(&role);
    unpin_settings(level);
    // search_path ends in pg_temp: a name the expressions use that is not
    // in pg_catalog could now find this session's temporary object, which
    // would then run as the table's owner.
    const char* temp = temporary_object_in(eval);
    if (temp != NULL)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("the guard's expressions on table %s refer to %s in this session", table_name(rel),
                               temp),
                        errdetail("Guard expressions run as the table's owner and may not use temporary objects."),
                        errhint("Drop the temporary object, or write from another session.")));
    if (SPI_keepplan(eval) != 0 || SPI_keepplan(key) != 0) elog(ERROR, "slotguard: SPI_keepplan failed");

    MemoryContext old = MemoryContextSwitchTo(g->cxt);
    g->eval = eval;
    g->key = key;
    row_eval_init(&g->eval_fast, eval, argtype, GUARD_ROW_COLUMNS, g->cxt);
    row_eval_init(&g->key_fast, key, argtype, 1, g->cxt);
    g->relid = RelationGetRelid(rel);
    g->owner = owner;
    g->capacity = capacity;
    g->n_keys = k.n;
    memcpy(g->key_atts, k.atts, sizeof(AttrNumber) * k.n);
    g->key_names = key_names_text(key_columns);
    g->settings = (ArrayType*)PG_DETOAST_DATUM_COPY(PointerGetDatum(settings));
    MemoryContextSwitchTo(old);
    g->valid = true;
}

// The guard, loaded if needed, marked busy (the trigger unmarks it when done).
Guard* guard_for(int32 id, Relation rel) {
    if (guards == NULL) init_cache();
    bool found;
    Guard* g = (Guard*)hash_search(guards, &id, HASH_FIND, NULL);
    if (g == NULL) {
        evict_guards();
        g = (Guard*)hash_search(guards, &id, HASH_ENTER, &found);
        g->valid = false;
        g->busy = 0;
        g->cxt = NULL;
        g->eval = g->key = NULL;
        memset(&g->eval_fast, 0, sizeof g->eval_fast);
        memset(&g->key_fast, 0, sizeof g->key_fast);
        g->relid = InvalidOid;
        g->owner = InvalidOid;
    }
    g->last_use = ++use_clock;
    // A guard in use further up the stack keeps its plans (they revalidate
    // themselves); only its owner is checked again.
    if (g->busy > 0 && g->relid == RelationGetRelid(rel)) {
        check_owner_unchanged(rel, g->owner);
    } else if (!g->valid || g->relid != RelationGetRelid(rel)) {
        if (g->busy > 0)
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("guard %d is in use on another table", g->id)));
        int level = pin_settings(NULL);
        load_guard(g, rel);
        unpin_settings(level);
    } else {
        check_owner_unchanged(rel, g->owner);
    }
    g->busy++;
    return g;
}

// Evaluates the guard over a row as the table's owner, with the guard's
// settings pinned (the caller pins them).
GuardRow eval_row(Guard* g, Relation rel, HeapTuple tuple) {
    Datum row = heap_copy_tuple_as_datum(tuple, RelationGetDescr(rel));
    RoleSave role = become_table_owner(rel);
    Datum v[GUARD_ROW_COLUMNS];
    bool n[GUARD_ROW_COLUMNS];
    if (row_eval(&g->eval_fast, row, v, n)) {
        restore_role(&role);
        return guard_row_of(v, n);
    }
    int rc = SPI_execute_plan(g->eval, &row, NULL, true, 1);
    restore_role(&role);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "slotguard: evaluating the guard's expressions failed");
    return read_guard_row(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
}

text* eval_key(Guard* g, Relation rel, HeapTuple tuple) {
    Datum row = heap_copy_tuple_as_datum(tuple, RelationGetDescr(rel));
    RoleSave role = become_table_owner(rel);
    Datum v;
    bool n;
    if (row_eval(&g->key_fast, row, &v, &n)) {
        restore_role(&role);
        return n ? cstring_to_text("") : DatumGetTextPCopy(v);
    }
    int rc = SPI_execute_plan(g->key, &row, NULL, true, 1);
    restore_role(&role);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "slotguard: evaluating the row key failed");
    bool isnull;
    return DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

// Whether an UPDATE left the primary key as it was (then OLD's key is NEW's).
bool same_key(Guard* g, Relation rel, HeapTuple a, HeapTuple b) {
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < g->n_keys; ++i) {
        Form_pg_attribute att = TupleDescAttr(desc, g->key_atts[i] - 1);
        bool na, nb;
        Datum da = heap_getattr(a, g->key_atts[i], desc, &na);
        Datum db = heap_getattr(b, g->key_atts[i], desc, &nb);
        if (na != nb || (!na && !datumIsEqual(da, db, att->attbyval, att->attlen))) return false;
    }
    return true;
}

struct EntryWrite {
    int32 guard_id;
    text* old_key;  // the row's entry before this write (NULL: none)
    text* key;
    text* entry_key;
    Datum during;
    int seats;
};

// Inside admit_write's subtransaction: the row's entry, moved to its new
// key if the primary key changed.
void write_entry(void* arg, ItemPointer tids, Datum* row, MemoryContext) {
    const EntryWrite* w = (const EntryWrite*)arg;
    if (w->old_key != NULL && !same_text(w->old_key, w->key)) delete_entry(w->guard_id, w->old_key);
    tids[0] = upsert_entry(w->guard_id, w->key, w->entry_key, w->during, w->seats);
    *row = (Datum)0;
}

struct Conflict {
    bool found;
    char* keys;
    int n_keys;
    Datum* alternatives;
    int n_alternatives;
};

// Admits the entry of an active row; `old_key` names the row's entry before
// an UPDATE (NULL for an INSERT). Runs as the guard owner with search_path
// pinned (the caller switches).
Conflict admit_entry(Guard* g, const GuardRow* r, text* old_key) {
    Conflict c = {false, NULL, 0, NULL, 0};
    text* entry_key = make_entry_key(g->id, r->resource);
    EntryRow cur = {false};
    if (old_key != NULL) {
        cur = find_entry(g->id, old_key);
        // An UPDATE that leaves resource, range and seats as they were (a
        // note, a price) has nothing to check.
        if (cur.found && same_text(old_key, r->key) && same_text(cur.entry_key, entry_key) && cur.seats == r->seats &&
            range_eq_internal(lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO), DatumGetRangeTypeP(cur.blocked),
                              DatumGetRangeTypeP(r->during)))
            return c;
    }
    EntryRels er;
    open_entries(&er, RowExclusiveLock);
    TsRange during = decode_range(r->during);
    AdmitTarget t = {&er.rels, collect_entries, entry_key, r->during, r->during, span_of(during), r->seats,
                     g->capacity, cur.found ? &cur.tid : NULL};
    AdmitResult ar;
    bool admitted = false;
    EntryInsert ei;
    // A new row's entry: a speculative insertion, written before the one
    // scan that checks it (the statement fails on a conflict anyway).
    if (old_key == NULL && entry_insert_begin(&ei, er.rels.heap, g->id, r->key, entry_key, r->during, r->seats)) {
        admit_insert(&t, entry_insert_write, entry_insert_decide, &ei, &ar, NULL, NULL, true);
        entry_insert_end(&ei);
        admitted = ar.outcome != ADMIT_DUPLICATE_KEY;
    }
    if (!admitted) {
        EntryWrite w = {g->id, cur.found ? old_key : NULL, r->key, entry_key, r->during, r->seats};
        admit_write(&t, 1, write_entry, &w, &ar);
    }
    if (ar.outcome != ADMIT_OK) {
        c.found = true;
        c.n_keys = ar.n_conflicts;
        c.keys = entry_key_list(&er, ar.conflict_ids, ar.n_conflicts);
        c.alternatives = (Datum*)palloc(sizeof(Datum) * (max_suggestions > 0 ? max_suggestions : 1));
        c.n_alternatives = entry_alternatives(&er, entry_key, during, r->seats, g->capacity,
                                              cur.found ? &cur.tid : NULL, c.alternatives, max_suggestions);
    }
    close_entries(&er, RowExclusiveLock);
    return c;
}

[[noreturn]] void raise_guard_conflict(Relation rel, Guard* g, const GuardRow* r, const Conflict* c) {
    StringInfoData hint;
    initStringInfo(&hint);
    if (c->n_alternatives > 0) {
        appendStringInfoString(&hint, "Free alternatives: ");
        for (int i = 0; i < c->n_alternatives; ++i)
            appendStringInfo(&hint, "%s%s", i ? ", " : "", range_text(c->alternatives[i]));
        appendStringInfoChar(&hint, '.');
    } else {
        appendStringInfoString(&hint, "No free alternative of the same length nearby.");
    }
    StringInfoData detail;
    initStringInfo(&detail);
    if (keys_visible(rel, g->key_atts, g->n_keys))
        appendStringInfo(&detail, "%s of table %s (%s): %s.", c->n_keys == 1 ? "Conflicting row" : "Conflicting rows",
                         table_name(rel), g->key_names, c->keys);
    else
        appendStringInfo(&detail, "%d conflicting %s of table %s (not shown without SELECT privilege).", c->n_keys,
                         c->n_keys == 1 ? "row" : "rows", table_name(rel));
    ereport(ERROR, (errcode(ERRCODE_EXCLUSION_VIOLATION),
                    errmsg("slot on resource \"%s\" for %s is not available", text_to_cstring(r->resource),
                           range_text(r->during)),
                    errdetail("%s", detail.data),
                    errhint("%s", hint.data), errtableconstraint(rel, GUARD_TRIGGER_NAME)));
    pg_unreachable();
}

// Whether the row version an event carries is still the row's latest
// (SnapshotSelf, as ri_triggers.c's RI_FKey_check asks). Not when a later
// statement of this transaction updated or deleted it; and when a user's
// trigger modifies the table again, that later change's event can even be
// processed before this one. Either way the later event carries the row's
// state; this one must not overwrite it.
bool still_live(Relation rel, TupleTableSlot* slot) {
    return slot == NULL || table_tuple_satisfies_snapshot(rel, slot, SnapshotSelf);
}

// A stale UPDATE event: the later event finds the row's entry by this
// version's key, so if the key changed, only move the entry off the old
// key (by dropping it: the later event admits the row afresh).
void on_stale_update(Guard* g, Relation rel, HeapTuple old, HeapTuple row) {
    if (same_key(g, rel, old, row)) return;
    int level = pin_settings(g->settings);
    text* old_key = eval_key(g, rel, old);
    RoleSave role = become_guard_owner();
    delete_entry(g->id, old_key);
    restore_role(&role);
    unpin_settings(level);
}

// INSERT (old == NULL) or UPDATE of a row. The guard's settings stay
// pinned from evaluation through admission (admission reads and writes
// entries by parameters only, so they change nothing there); errors are
// raised after, in the caller's own settings (dates in its TimeZone).
void on_write(Guard* g, Relation rel, HeapTuple old, HeapTuple row) {
    int level = pin_settings(g->settings);
    GuardRow r = eval_row(g, rel, row);
    text* old_key = NULL;
    if (old != NULL) old_key = same_key(g, rel, old, row) ? r.key : eval_key(g, rel, old);
    bool valid = r.active && guard_row_valid(&r, g->capacity);
    Conflict c = {false, NULL, 0, NULL, 0};
    if (valid || (!r.active && old_key != NULL)) {
        RoleSave role = become_guard_owner();
        if (valid)
            c = admit_entry(g, &r, old_key);
        else
            delete_entry(g->id, old_key);  // cancelled, or otherwise no longer taking capacity
        restore_role(&role);
    }
    unpin_settings(level);
    if (r.active && !valid) check_guard_row(rel, g->key_names, g->key_atts, g->n_keys, &r, g->capacity);
    if (c.found) raise_guard_conflict(rel, g, &r, &c);
}

void on_delete(Guard* g, Relation rel, HeapTuple old) {
    int level = pin_settings(g->settings);
    text* key = eval_key(g, rel, old);
    RoleSave role = become_guard_owner();
    delete_entry(g->id, key);
    restore_role(&role);
    unpin_settings(level);
}

void on_truncate(Guard* g) {
    int level = pin_settings(NULL);
    RoleSave role = become_guard_owner();
    delete_guard_entries(g->id);
    restore_role(&role);
    unpin_settings(level);
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

extern "C" Datum sg_guard_trigger(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "slotguard.guard_trigger() must be called as a trigger");
    TriggerData* td = (TriggerData*)fcinfo->context;
    Trigger* trig = td->tg_trigger;
    bool truncate = TRIGGER_FIRED_BY_TRUNCATE(td->tg_event);
    if (!TRIGGER_FIRED_AFTER(td->tg_event) || (!truncate && !TRIGGER_FIRED_FOR_ROW(td->tg_event)) ||
        trig->tgnargs != 1)
        elog(ERROR, "slotguard.guard_trigger() must be installed by slotguard.protect()");
    int32 id = pg_strtoint32(trig->tgargs[0]);
    Relation rel = td->tg_relation;

    SPI_connect();
    Guard* volatile g = guard_for(id, rel);
    PG_TRY();
    {
        if (truncate)
            on_truncate(g);
        else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
            on_delete(g, rel, td->tg_trigtuple);
        else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event)) {
            if (still_live(rel, td->tg_newslot))
                on_write(g, rel, td->tg_trigtuple, td->tg_newtuple);
            else
                on_stale_update(g, rel, td->tg_trigtuple, td->tg_newtuple);
        } else if (still_live(rel, td->tg_trigslot)) {
            on_write(g, rel, NULL, td->tg_trigtuple);
        }
    }
    PG_FINALLY();
    {
        g->busy--;
    }
    PG_END_TRY();
    SPI_finish();
    return PointerGetDatum(NULL);
}
