// Admission of writes to a guarded table under concurrency.
//
// Modelled on check_exclusion_or_unique_constraint (execIndexing.c), with
// capacity instead of uniqueness and a subtransaction instead of
// speculative insertion (docs/concurrency.md has the argument):
//
//   1. Scan the competing rows with a dirty snapshot. A conflict with rows
//      that are certain (committed or ours) is refused before anything is
//      written; if pending writers decide it, wait for them.
//   2. Write the rows in a subtransaction, so they are visible to concurrent
//      checkers, then scan again. Of two writers that overlap, the later
//      scan always sees the other's row.
//   3. If pending writers still decide it: the writer whose top-level xid is
//      higher undoes its writes (rolls back the subtransaction) and waits for
//      the lower one, then starts over; the lower one keeps its rows and
//      waits. So one call never deadlocks.
#include "glue.hpp"

namespace sgpg {
namespace {

// The combined verdict over all targets.
struct Verdict {
    sg::Verdict verdict;
    int target;  // the conflicting target
    int64* ids;
    int n_ids;
    sg::Xid* xids;  // pending writers to wait for
    int n_xids;
    sg::Xid lowest_top_xid;
    Occupants neighbourhood;  // the conflicting target's occupants, first scan only
};

void evaluate(const AdmitTarget* targets, int n, const ItemPointerData* exclude, Verdict* v) {
    v->verdict = sg::Verdict::Fits;
    v->n_ids = v->n_xids = 0;
    v->ids = NULL;
    v->xids = NULL;
    v->lowest_top_xid = 0;
    v->target = -1;
    v->neighbourhood.items = NULL;
    v->neighbourhood.n = v->neighbourhood.cap = 0;
    for (int i = 0; i < n && v->verdict != sg::Verdict::Conflict; ++i) {
        const AdmitTarget* t = &targets[i];
        Occupants occ;
        // The first scan (nothing written yet) may look wider, see precheck_probe.
        bool wide = exclude == NULL && t->precheck_probe != (Datum)0;
        t->collect(t->rels, t->key, wide ? t->precheck_probe : t->blocked, true,
                   exclude ? const_cast<ItemPointer>(&exclude[i]) : t->current, &occ);
        int room = occ.n > 0 ? occ.n : 1;
        FitOut fit;
        fit.ids = (int64*)palloc(sizeof(int64) * room);
        fit.xids = (sg::Xid*)palloc(sizeof(sg::Xid) * room);
        BridgeError err;
        if (!bridge_check_fit(t->want, t->seats, t->capacity, occ.items, occ.n, &fit, &err)) raise_bridge_error(err);
        if (fit.verdict == sg::Verdict::Conflict && wide)
            v->neighbourhood = occ;
        else if (occ.items)
            pfree(occ.items);
        if (fit.verdict == sg::Verdict::Conflict) {
            v->verdict = sg::Verdict::Conflict;
            v->target = i;
            v->ids = fit.ids;
            v->n_ids = fit.n_ids;
        } else if (fit.verdict == sg::Verdict::Uncertain) {
            v->verdict = sg::Verdict::Uncertain;
            v->xids = v->xids ? (sg::Xid*)repalloc(v->xids, sizeof(sg::Xid) * (v->n_xids + fit.n_xids))
                              : (sg::Xid*)palloc(sizeof(sg::Xid) * fit.n_xids);
            memcpy(v->xids + v->n_xids, fit.xids, sizeof(sg::Xid) * fit.n_xids);
            v->n_xids += fit.n_xids;
            if (v->lowest_top_xid == 0 || fit.lowest_top_xid < v->lowest_top_xid) v->lowest_top_xid = fit.lowest_top_xid;
        }
    }
}

void wait_for_pending(const Verdict* v) {
    for (int i = 0; i < v->n_xids; ++i) XactLockTableWait(v->xids[i], NULL, NULL, XLTW_None);
}

void take_conflict(const Verdict* v, AdmitResult* result) {
    result->outcome = ADMIT_CONFLICT;
    result->conflict_target = v->target;
    result->conflict_ids = v->ids;
    result->n_conflicts = v->n_ids;
    result->neighbourhood = v->neighbourhood;
}

enum Step { STEP_DONE, STEP_CONFLICT, STEP_BACK_OUT };

}  // namespace

void admit_write(const AdmitTarget* targets, int n, WriteFn write, void* arg, AdmitResult* result,
                 BeforeWriteFn before_write, void* before_arg) {
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    result->row = (Datum)0;
    result->conflict_target = -1;
    result->conflict_ids = NULL;
    result->n_conflicts = 0;
    result->neighbourhood.items = NULL;
    result->neighbourhood.n = result->neighbourhood.cap = 0;
    ItemPointerData* tids = (ItemPointerData*)palloc0(sizeof(ItemPointerData) * (n > 0 ? n : 1));
    volatile bool prepared = before_write == NULL;  // before_write runs once

    for (;;) {
        CHECK_FOR_INTERRUPTS();
        Verdict v;
        evaluate(targets, n, NULL, &v);
        if (v.verdict == sg::Verdict::Conflict) {
            take_conflict(&v, result);
            return;
        }
        if (v.verdict == sg::Verdict::Uncertain) {
            // Nothing written yet: waiting here can deadlock nobody.
            wait_for_pending(&v);
            continue;
        }
        if (!prepared) {
            if (!before_write(before_arg)) {
                result->outcome = ADMIT_RETRY;
                return;
            }
            prepared = true;
        }

        BeginInternalSubTransaction(NULL);
        MemoryContextSwitchTo(cxt);
        Datum row = (Datum)0;
        Step step = STEP_DONE;
        bool duplicate_key = false;
        PG_TRY();
        {
            internal_write = true;
            write(arg, tids, &row, cxt);
            internal_write = false;
            TransactionId me = GetTopTransactionId();
            for (;;) {
                evaluate(targets, n, tids, &v);
                if (v.verdict == sg::Verdict::Fits) break;
                if (v.verdict == sg::Verdict::Conflict) {
                    step = STEP_CONFLICT;
                    break;
                }
                if (v.lowest_top_xid < me) {
                    step = STEP_BACK_OUT;
                    break;
                }
                // All pending writers are younger: they will see our rows and
                // back out, or they already passed their check and we wait
                // for their outcome.
                wait_for_pending(&v);
            }
        }
        PG_CATCH();
        {
            internal_write = false;
            MemoryContextSwitchTo(cxt);
            ErrorData* edata = CopyErrorData();
            FlushErrorState();
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(cxt);
            CurrentResourceOwner = owner;
            // A concurrent call with the same idempotency key won the race.
            if (edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION && edata->constraint_name != NULL &&
                strcmp(edata->constraint_name, "booking_idempotency_key_idx") == 0)
                duplicate_key = true;
            else
                ReThrowError(edata);
        }
        PG_END_TRY();

        if (duplicate_key) {
            result->outcome = ADMIT_DUPLICATE_KEY;
            return;
        }
        if (step != STEP_DONE) {
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(cxt);
            CurrentResourceOwner = owner;
            if (step == STEP_CONFLICT) {
                take_conflict(&v, result);
                return;
            }
            wait_for_pending(&v);
            continue;
        }
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
        result->outcome = ADMIT_OK;
        result->row = row;
        return;
    }
}

bool admit_written_row(const AdmitTarget* t, ItemPointer tid, AdmitResult* result) {
    // A plain INSERT/UPDATE cannot undo its row, so it waits for every
    // pending writer that matters (like an EXCLUDE constraint does).
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        Verdict v;
        evaluate(t, 1, tid, &v);
        if (v.verdict == sg::Verdict::Fits) return true;
        if (v.verdict == sg::Verdict::Conflict) {
            take_conflict(&v, result);
            return false;
        }
        wait_for_pending(&v);
    }
}

}  // namespace sgpg
