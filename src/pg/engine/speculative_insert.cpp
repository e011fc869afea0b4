// A row written straight into a table's heap and indexes as a speculative
// insertion (the way INSERT ... ON CONFLICT writes), for admit_insert: new
// bookings (booking_insert.cpp) and new guard entries (entry_insert.cpp).
// Nothing but the heap and index AMs runs: no trigger, CHECK or RLS, so the
// callers only come here for tables they have verified have none of those
// beyond what they reproduce themselves.
#include "engine/glue.hpp"

extern "C" {
#include "catalog/pg_trigger.h"
#include "executor/executor.h"
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

bool only_named_checks(TupleConstr* c, const char* const* names, int n) {
    for (int i = 0; c != NULL && i < c->num_check; ++i)
        if (!named(c->check[i].ccname, names, n)) return false;
    return true;
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
