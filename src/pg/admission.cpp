// Admission of a write to slotguard.booking under concurrency.
//
// Modelled on check_exclusion_or_unique_constraint (execIndexing.c), with
// capacity instead of uniqueness and a subtransaction instead of
// speculative insertion (docs/concurrency.md has the argument):
//
//   1. Scan the competing bookings with a dirty snapshot. A conflict with
//      bookings that are certain (committed or ours) is refused before
//      anything is written; if pending writers decide it, wait for them.
//   2. Write the row in a subtransaction, so it is visible to concurrent
//      checkers, then scan again. Of two writers that overlap, the later
//      scan always sees the other's row.
//   3. If pending writers still decide it: the writer whose top-level xid is
//      higher undoes its write (rolls back the subtransaction) and waits for
//      the lower one, then starts over; the lower one keeps its row and
//      waits. Waits only go from a writer without a row to one with a row,
//      or from lower to higher while the higher one is about to back out, so
//      one call never deadlocks.
#include "glue.hpp"

namespace sgpg {
namespace {

struct Fit {
    FitOut out;
};

void evaluate(const AdmitTarget* t, ItemPointer exclude, Fit* fit) {
    Occupants occ;
    collect_occupants(t->rels, t->key, t->blocked, true, exclude, &occ);
    int room = occ.n > 0 ? occ.n : 1;
    fit->out.ids = (int64*)palloc(sizeof(int64) * room);
    fit->out.xids = (sg::Xid*)palloc(sizeof(sg::Xid) * room);
    BridgeError err;
    if (!bridge_check_fit(t->want, t->seats, t->capacity, occ.items, occ.n, &fit->out, &err))
        raise_bridge_error(err);
    if (occ.items) pfree(occ.items);
}

void wait_for_pending(const Fit* fit) {
    for (int i = 0; i < fit->out.n_xids; ++i) XactLockTableWait(fit->out.xids[i], NULL, NULL, XLTW_None);
}

void take_conflict(const Fit* fit, AdmitResult* result) {
    result->outcome = ADMIT_CONFLICT;
    result->conflict_ids = fit->out.ids;
    result->n_conflicts = fit->out.n_ids;
}

enum Step { STEP_DONE, STEP_CONFLICT, STEP_BACK_OUT };

}  // namespace

void admit_write(const AdmitTarget* t, WriteFn write, void* arg, AdmitResult* result) {
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    result->row = (Datum)0;
    result->conflict_ids = NULL;
    result->n_conflicts = 0;

    for (;;) {
        CHECK_FOR_INTERRUPTS();
        Fit fit;
        evaluate(t, t->current, &fit);
        if (fit.out.verdict == sg::Verdict::Conflict) {
            take_conflict(&fit, result);
            return;
        }
        if (fit.out.verdict == sg::Verdict::Uncertain) {
            // Nothing written yet: waiting here can deadlock nobody.
            wait_for_pending(&fit);
            continue;
        }

        BeginInternalSubTransaction(NULL);
        MemoryContextSwitchTo(cxt);
        ItemPointerData tid;
        Datum row = (Datum)0;
        Step step = STEP_DONE;
        bool duplicate_key = false;
        PG_TRY();
        {
            internal_write = true;
            write(arg, &tid, &row, cxt);
            internal_write = false;
            TransactionId me = GetTopTransactionId();
            for (;;) {
                evaluate(t, &tid, &fit);
                if (fit.out.verdict == sg::Verdict::Fits) break;
                if (fit.out.verdict == sg::Verdict::Conflict) {
                    step = STEP_CONFLICT;
                    break;
                }
                if (fit.out.lowest_top_xid < me) {
                    step = STEP_BACK_OUT;
                    break;
                }
                // All pending writers are younger: they will see our row and
                // back out, or they already passed their check and we wait
                // for their outcome.
                wait_for_pending(&fit);
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
                take_conflict(&fit, result);
                return;
            }
            wait_for_pending(&fit);
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

void admit_written_row(const AdmitTarget* t, ItemPointer tid) {
    // A plain INSERT/UPDATE cannot undo its row, so it waits for every
    // pending writer that matters (like an EXCLUDE constraint does).
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        Fit fit;
        evaluate(t, tid, &fit);
        if (fit.out.verdict == sg::Verdict::Fits) return;
        if (fit.out.verdict == sg::Verdict::Conflict) {
            TsRange during = decode_range(t->during);
            raise_conflict(t->key, during, fit.out.ids, fit.out.n_ids, NULL, 0);
        }
        wait_for_pending(&fit);
    }
}

}  // namespace sgpg
