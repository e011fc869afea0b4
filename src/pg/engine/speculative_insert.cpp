// A row written straight into a table's heap and indexes as a speculative
// insertion (the way INSERT ... ON CONFLICT writes), for admit_insert: new
// bookings (booking_insert.cpp) and new guard entries (entry_insert.cpp).
// Nothing but the heap and index AMs runs: no trigger, CHECK or RLS, so the
// callers only come here for tables they have verified have none of those
// beyond what they reproduce themselves.
#include "engine/glue.hpp"

extern "C" {
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
}

namespace sgpg {

namespace {
bool named(const char* name, const char* const* names, int n) {
    for (int i = 0; i < n; ++i)
        if (strcmp(name, names[i]) == 0) return true;
    return false;
}
}  // namespace

bool only_named_triggers(TriggerDesc* td, int16 event, const char* const* names, int n) {
    for (int i = 0; td != NULL && i < td->numtriggers; ++i) {
        const Trigger* tg = &td->triggers[i];
        if (tg->tgenabled != TRIGGER_DISABLED && (tg->tgtype & event) != 0 && !named(tg->tgname, names, n))
            return false;
    }
    return true;
}

bool is_c_function(Oid fn, const char* symbol) {
    HeapTuple proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
    if (!HeapTupleIsValid(proc)) return false;
    bool isnull;
    Datum src = SysCacheGetAttr(PROCOID, proc, Anum_pg_proc_prosrc, &isnull);
    bool ok = ((Form_pg_proc)GETSTRUCT(proc))->prolang == ClanguageId && !isnull && text_is(DatumGetTextPP(src), symbol);
    ReleaseSysCache(proc);
    return ok;
}

bool plain_table(Relation rel) {
    // A partition's INSERT checks the partition constraint; rules rewrite
    // the statement (DO ALSO / INSTEAD); row-level security adds policies.
    if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relispartition || rel->rd_rel->relrowsecurity ||
        rel->rd_rel->relhasrules || rel->rd_rules != NULL)
        return false;
    // A domain column's constraints (NOT NULL or CHECK, current ones: ALTER
    // DOMAIN sends no relcache invalidation) are checked by the statement's
    // coercions, also of a column it leaves NULL.
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (!a->attisdropped && get_typtype(a->atttypid) == TYPTYPE_DOMAIN) return false;
    }
    return true;
}

bool columns_typed(TupleDesc desc, const ColumnType* cols, int n) {
    for (int i = 0; i < n; ++i) {
        bool found = false;
        for (int j = 0; j < desc->natts && !found; ++j) {
            Form_pg_attribute a = TupleDescAttr(desc, j);
            if (a->attisdropped || strcmp(NameStr(a->attname), cols[i].name) != 0) continue;
            if (a->atttypid != cols[i].type) return false;
            found = true;
        }
        if (!found) return false;
    }
    return true;
}

bool optional_column_typed(TupleDesc desc, AttrNumber att, Oid type) {
    return att == InvalidAttrNumber || TupleDescAttr(desc, att - 1)->atttypid == type;
}

bool only_expected_checks(Relation rel, const ExpectedCheck* checks, int n) {
    TupleConstr* c = RelationGetDescr(rel)->constr;
    if (c == NULL || c->num_check == 0) return true;
    // Deparsed with only pg_catalog on the search_path, so an operator or
    // function of another schema shows qualified and never matches.
    int level = NewGUCNestLevel();
    (void)set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);
    List* context = deparse_context_for(RelationGetRelationName(rel), RelationGetRelid(rel));
    bool ok = true;
    for (int i = 0; ok && i < c->num_check; ++i) {
        const ExpectedCheck* e = NULL;
        for (int j = 0; j < n && e == NULL; ++j)
            if (strcmp(c->check[i].ccname, checks[j].name) == 0) e = &checks[j];
        ok = e != NULL &&
             strcmp(deparse_expression((Node*)stringToNode(c->check[i].ccbin), context, false, false), e->expr) == 0;
    }
    AtEOXact_GUC(true, level);
    return ok;
}

void spec_row_open(SpecRow* s, Relation rel) {
    s->rel = rel;
    s->estate = CreateExecutorState();
    // Only what ExecOpenIndices / ExecInsertIndexTuples read (no trigger
    // descriptor copy: no trigger fires here).
    s->rri = makeNode(ResultRelInfo);
    s->rri->ri_RelationDesc = rel;
    ExecOpenIndices(s->rri, false);
    s->slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
}

bool spec_row_insert(SpecRow* s, HeapTuple tuple, uint32 token, Oid arbiter, ItemPointer tid) {
    ExecStoreHeapTuple(tuple, s->slot, false);
    table_tuple_insert_speculative(s->rel, s->slot, GetCurrentCommandId(true), 0, NULL, token);
    // With an arbiter, a unique index on it reports a possible duplicate
    // (live or in progress) instead of waiting or raising 23505, as for ON
    // CONFLICT; the caller then kills the row and takes another path.
    bool conflict = false;
    List* arbiters = OidIsValid(arbiter) ? list_make1_oid(arbiter) : NIL;
    List* recheck = ExecInsertIndexTuples(s->rri, s->slot, s->estate, false, OidIsValid(arbiter),
                                          OidIsValid(arbiter) ? &conflict : NULL, arbiters);
    list_free(recheck);
    list_free(arbiters);
    ResetPerTupleExprContext(s->estate);
    *tid = s->slot->tts_tid;
    return !conflict;
}

void spec_row_decide(SpecRow* s, bool keep) {
    // heapam needs only the slot's tid; the token is the one it was written with.
    table_tuple_complete_speculative(s->rel, s->slot, 0, keep);
}

void close_indices_keep_locks(ResultRelInfo* rri) {
    for (int i = 0; i < rri->ri_NumIndices; ++i)
        if (rri->ri_IndexRelationDescs[i] != NULL) index_close(rri->ri_IndexRelationDescs[i], NoLock);
    rri->ri_NumIndices = 0;
}

void spec_row_close(SpecRow* s) {
    ExecDropSingleTupleTableSlot(s->slot);
    close_indices_keep_locks(s->rri);
    FreeExecutorState(s->estate);
}

}  // namespace sgpg
