// Evaluates a prepared one-row SELECT over a parameter $1 (a guard's
// expressions over the protected row) without the executor, when its
// generic plan is a bare Result: the plan's target expressions are compiled
// once and kept, as plpgsql keeps its "simple expressions". Per row this
// saves executor start-up, which rebuilt the same projection each time and
// cost as much as the expressions themselves.
//
// The compiled expressions are valid as long as the generic plan is (a
// changed function or type invalidates it: then they are rebuilt), and are
// rebuilt after an error interrupted an evaluation, so no expression node
// is ever reused in a half-run state; an evaluation nested inside another
// of the same expressions runs through SPI instead.
#include "guards/guard.hpp"

extern "C" {
#include "executor/executor.h"
#include "nodes/params.h"
#include "utils/plancache.h"
}

namespace sgpg {
namespace {

// The expressions of a generic plan that is a bare Result (no input, no
// filter, no subplan), or NIL.
List* bare_result_targets(CachedPlan* cplan) {
    if (list_length(cplan->stmt_list) != 1) return NIL;
    PlannedStmt* stmt = linitial_node(PlannedStmt, cplan->stmt_list);
    if (stmt->commandType != CMD_SELECT || stmt->subplans != NIL || stmt->paramExecTypes != NIL) return NIL;
    Plan* p = stmt->planTree;
    if (p == NULL || !IsA(p, Result) || p->lefttree != NULL || p->qual != NIL || p->initPlan != NIL ||
        ((Result*)p)->resconstantqual != NULL)
        return NIL;
    return p->targetlist;
}

void drop_compiled(RowEval* e) {
    if (e->cplan != NULL) ReleaseCachedPlan(e->cplan, NULL);
    e->cplan = NULL;
    if (e->cxt != NULL) MemoryContextDelete(e->cxt);
    e->cxt = NULL;
    e->states = NULL;
}

// Builds everything first and stores it in `e` only once all of it exists:
// an error while building (EXECUTE revoked on a function the expressions
// call, say) leaves `e` as it was, with nothing compiled, and releases what
// was built so far.
bool compile(RowEval* e) {
    CachedPlanSource* ps = (CachedPlanSource*)linitial(SPI_plan_get_plan_sources(e->plan));
    CachedPlan* cplan = GetCachedPlan(ps, NULL, NULL, NULL);
    List* targets = bare_result_targets(cplan);
    if (list_length(targets) != e->natts) {
        ReleaseCachedPlan(cplan, NULL);
        return false;
    }
    MemoryContext cxt = AllocSetContextCreate(e->parent, "slotguard row evaluation", ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    ParamListInfo params = NULL;
    ExprContext* econtext = NULL;
    ExprState** states = NULL;
    PG_TRY();
    {
        params = makeParamList(1);
        params->numParams = 1;
        params->params[0].ptype = e->argtype;
        params->params[0].pflags = PARAM_FLAG_CONST;
        econtext = CreateStandaloneExprContext();
        econtext->ecxt_param_list_info = params;
        states = (ExprState**)palloc0(sizeof(ExprState*) * e->natts);
        int i = 0;
        ListCell* lc;
        foreach (lc, targets) states[i++] = ExecInitExprWithParams(lfirst_node(TargetEntry, lc)->expr, params);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(old);
        ReleaseCachedPlan(cplan, NULL);
        MemoryContextDelete(cxt);
        PG_RE_THROW();
    }
    PG_END_TRY();
    MemoryContextSwitchTo(old);
    e->cplan = cplan;
    e->cxt = cxt;
    e->params = params;
    e->econtext = econtext;
    e->states = states;
    return true;
}

}  // namespace

void row_eval_init(RowEval* e, SPIPlanPtr plan, Oid argtype, int natts, MemoryContext parent) {
    memset(e, 0, sizeof *e);
    e->plan = plan;
    e->argtype = argtype;
    e->natts = natts;
    e->parent = parent;
    e->usable = true;
}

void row_eval_free(RowEval* e) { drop_compiled(e); }

bool row_eval(RowEval* e, Datum arg, Datum* values, bool* nulls) {
    // A nested evaluation (a function in the expressions wrote a table
    // whose guard uses these same expressions) must not touch the states
    // the outer one is running: it goes through SPI.
    if (!e->usable || e->depth > 0) return false;
    if (e->cplan != NULL) {
        CachedPlanSource* ps = (CachedPlanSource*)linitial(SPI_plan_get_plan_sources(e->plan));
        if (e->broken || !ps->is_valid || !e->cplan->is_valid || ps->gplan != e->cplan) drop_compiled(e);
    }
    e->broken = false;
    if (e->cplan == NULL && !compile(e)) {
        e->usable = false;  // not a bare Result (a subquery in an expression): SPI
        return false;
    }
    ResetExprContext(e->econtext);
    e->params->params[0].value = arg;
    e->params->params[0].isnull = false;
    e->depth++;
    PG_TRY();
    {
        for (int i = 0; i < e->natts; ++i)
            values[i] = ExecEvalExprSwitchContext(e->states[i], e->econtext, &nulls[i]);
    }
    PG_CATCH();
    {
        e->depth--;
        e->broken = true;
        PG_RE_THROW();
    }
    PG_END_TRY();
    e->depth--;
    return true;
}

}  // namespace sgpg
