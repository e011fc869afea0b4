// Admission of writes to a guarded table under concurrency.
//
// Modelled on check_exclusion_or_unique_constraint (execIndexing.c) and
// INSERT ... ON CONFLICT, with capacity instead of uniqueness
// (docs/concurrency.md has the argument). A new booking is admitted by
// admit_insert as a speculative insertion (see there); writes that update
// rows or touch several tables by admit_write, in a subtransaction:
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
#include "engine/glue.hpp"

namespace sgpg {

uint64 admission_waits = 0;
uint64 admission_wait_us = 0;

namespace {

// The combined verdict over all targets.
struct Verdict {
    sg::Verdict verdict;
    int target;  // the conflicting target
    int64* ids;
    int n_ids;
    sg::Xid* xids;  // pending writers to wait for
    uint32* tokens;   // and their speculative tokens (0: not speculative)
    sg::Xid* tops;    // and their top-level xids
    int n_xids;
    sg::Xid lowest_top_xid;
    Occupants neighbourhood;  // the conflicting target's occupants, first scan only
};

void evaluate(const AdmitTarget* targets, int n, const ItemPointerData* exclude, Verdict* v) {
    v->verdict = sg::Verdict::Fits;
    v->n_ids = v->n_xids = 0;
    v->ids = NULL;
    v->xids = NULL;
    v->tokens = NULL;
    v->tops = NULL;
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
        bool keep_occ = fit.verdict == sg::Verdict::Conflict && wide;
        if (fit.verdict == sg::Verdict::Conflict) {
            v->verdict = sg::Verdict::Conflict;
            v->target = i;
            v->ids = fit.ids;
            v->n_ids = fit.n_ids;
        } else if (fit.verdict == sg::Verdict::Uncertain) {
            v->verdict = sg::Verdict::Uncertain;
            int total = v->n_xids + fit.n_xids;
            if (v->xids == NULL) {
                v->xids = (sg::Xid*)palloc(sizeof(sg::Xid) * total);
                v->tokens = (uint32*)palloc(sizeof(uint32) * total);
                v->tops = (sg::Xid*)palloc(sizeof(sg::Xid) * total);
            } else {
                v->xids = (sg::Xid*)repalloc(v->xids, sizeof(sg::Xid) * total);
                v->tokens = (uint32*)repalloc(v->tokens, sizeof(uint32) * total);
                v->tops = (sg::Xid*)repalloc(v->tops, sizeof(sg::Xid) * total);
            }
            for (int j = 0; j < fit.n_xids; ++j) {
                int k = v->n_xids + j;
                v->xids[k] = fit.xids[j];
                v->tokens[k] = 0;
                v->tops[k] = fit.xids[j];
                // Waiting for the writer's decision is enough only when all
                // its rows we saw are undecided speculative insertions.
                bool all_spec = true;
                uint32 token = 0;
                for (int o = 0; o < occ.n; ++o) {
                    const sg::Occupant* oc = &occ.items[o];
                    if (oc->certain || oc->pending_xid != fit.xids[j]) continue;
                    v->tops[k] = oc->pending_top_xid;
                    if (oc->spec_token == 0) all_spec = false;
                    else token = oc->spec_token;
                }
                if (all_spec) v->tokens[k] = token;
            }
            v->n_xids = total;
            if (v->lowest_top_xid == 0 || TransactionIdPrecedes(fit.lowest_top_xid, v->lowest_top_xid))
                v->lowest_top_xid = fit.lowest_top_xid;
        }
        if (keep_occ) {
            v->neighbourhood = occ;
        } else if (occ.items) {
            pfree(occ.items);
        }
    }
}

// A writer whose row is still a speculative insertion is waited for only
// until it decides (keeps or kills the row), which it does without waiting
// for anyone but younger speculative inserters; the caller then scans again.
// Any other pending writer is waited for until it ends.
void wait_for_pending(const Verdict* v) {
    TimestampTz start = GetCurrentTimestamp();
    ++admission_waits;
    for (int i = 0; i < v->n_xids; ++i) {
        if (v->tokens[i] != 0)
            SpeculativeInsertionWait(v->xids[i], v->tokens[i]);
        else
            XactLockTableWait(v->xids[i], NULL, NULL, XLTW_None);
    }
    admission_wait_us += (uint64)Max(GetCurrentTimestamp() - start, 0);
}

// True when every pending writer that matters is a speculative insertion of
// a transaction younger than `me`: those will see our row and kill theirs,
// or decide without waiting for us, so we may keep our row and wait.
bool only_younger_speculative(const Verdict* v, TransactionId me) {
    for (int i = 0; i < v->n_xids; ++i)
        if (v->tokens[i] == 0 || !TransactionIdFollows(v->tops[i], me)) return false;
    return v->n_xids > 0;
}

// With no_wait: whether a pending writer must be waited for until its
// transaction ends (not only until a speculative insertion is decided).
bool must_not_wait(const AdmitTarget* targets, int n, const Verdict* v) {
    bool no_wait = false;
    for (int i = 0; i < n; ++i) no_wait = no_wait || targets[i].no_wait;
    if (!no_wait) return false;
    for (int i = 0; i < v->n_xids; ++i)
        if (v->tokens[i] == 0) return true;
    return false;
}

void take_conflict(const Verdict* v, AdmitResult* result) {
    result->outcome = ADMIT_CONFLICT;
    result->conflict_target = v->target;
    result->conflict_ids = v->ids;
    result->n_conflicts = v->n_ids;
    result->neighbourhood = v->neighbourhood;
}

enum Step { STEP_DONE, STEP_CONFLICT, STEP_BACK_OUT };

// The scan before anything is written: refuse on a certain conflict, wait
// for the writers that decide (nothing written yet: waiting here can
// deadlock nobody) and scan again, or go on and write.
enum Precheck { PRE_WRITE, PRE_REFUSED, PRE_AGAIN };
Precheck precheck(const AdmitTarget* targets, int n, Verdict* v, AdmitResult* result) {
    evaluate(targets, n, NULL, v);
    if (v->verdict == sg::Verdict::Conflict) {
        take_conflict(v, result);
        return PRE_REFUSED;
    }
    if (v->verdict == sg::Verdict::Uncertain) {
        if (must_not_wait(targets, n, v)) {
            take_conflict(v, result);
            return PRE_REFUSED;
        }
        wait_for_pending(v);
        return PRE_AGAIN;
    }
    return PRE_WRITE;
}

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
        Precheck pre = precheck(targets, n, &v, result);
        if (pre == PRE_REFUSED) return;
        if (pre == PRE_AGAIN) continue;
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
            int mark = begin_internal_write();
            write(arg, tids, &row, cxt);
            end_internal_write(mark);
            TransactionId me = GetTopTransactionId();
            for (;;) {
                evaluate(targets, n, tids, &v);
                if (v.verdict == sg::Verdict::Fits) break;
                if (v.verdict == sg::Verdict::Conflict) {
                    step = STEP_CONFLICT;
                    break;
                }
                if (TransactionIdPrecedes(v.lowest_top_xid, me) || must_not_wait(targets, n, &v)) {
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
            // The rollback below also drops the internal-write mark.
            MemoryContextSwitchTo(cxt);
            ErrorData* edata = CopyErrorData();
            FlushErrorState();
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(cxt);
            CurrentResourceOwner = owner;
            // A concurrent call with the same idempotency key won the race.
            if (edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION && edata->constraint_name != NULL &&
                (strcmp(edata->constraint_name, "booking_idempotency_key_idx") == 0 ||
                 strcmp(edata->constraint_name, "booking_tenant_idempotency_key_idx") == 0))
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
            if (step == STEP_CONFLICT || must_not_wait(targets, n, &v)) {
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

// The speculative loop: pre-check, write the row with a speculative token,
// recheck; keep it, kill it, or (only for younger speculative inserters)
// wait for their decision and recheck. Killing needs no subtransaction
// (heap_abort_speculative makes the row dead to everyone at once).
void admit_insert(const AdmitTarget* t, SpecInsertFn insert, SpecDecideFn decide, void* arg, AdmitResult* result,
                  BeforeWriteFn before_write, void* before_arg, bool write_first) {
    admit_insert_n(t, 1, insert, decide, arg, result, before_write, before_arg, write_first);
}

void admit_insert_n(const AdmitTarget* t, int n, SpecInsertFn insert, SpecDecideFn decide, void* arg,
                    AdmitResult* result, BeforeWriteFn before_write, void* before_arg, bool write_first) {
    ItemPointerData* tids = (ItemPointerData*)palloc0(sizeof(ItemPointerData) * (n > 0 ? n : 1));
    result->row = (Datum)0;
    result->conflict_target = -1;
    result->conflict_ids = NULL;
    result->n_conflicts = 0;
    result->neighbourhood.items = NULL;
    result->neighbourhood.n = result->neighbourhood.cap = 0;
    bool prepared = before_write == NULL;
    TransactionId me = InvalidTransactionId;

    for (;;) {
        CHECK_FOR_INTERRUPTS();
        Verdict v;
        if (!write_first) {
            Precheck pre = precheck(t, n, &v, result);
            if (pre == PRE_REFUSED) return;
            if (pre == PRE_AGAIN) continue;
        }
        // A retry (after backing out and waiting) scans first again.
        write_first = false;
        if (!prepared) {
            if (!before_write(before_arg)) {
                result->outcome = ADMIT_RETRY;
                return;
            }
            prepared = true;
        }
        if (me == InvalidTransactionId) me = GetTopTransactionId();

        // Our row goes in as a speculative insertion: concurrent checkers see
        // it (and count it), and can wait for our decision on its token.
        uint32 token = SpeculativeInsertionLockAcquire(GetCurrentTransactionId());
        ItemPointerData tid;
        if (!insert(arg, token, &tid)) {
            decide(arg, false);
            SpeculativeInsertionLockRelease(GetCurrentTransactionId());
            result->outcome = ADMIT_DUPLICATE_KEY;
            return;
        }
        Step step = STEP_DONE;
        // Every target is checked against the same new row.
        for (int i = 0; i < n; ++i) tids[i] = tid;
        for (;;) {
            evaluate(t, n, tids, &v);
            if (v.verdict == sg::Verdict::Fits) break;
            if (v.verdict == sg::Verdict::Conflict) {
                step = STEP_CONFLICT;
                break;
            }
            if (!only_younger_speculative(&v, me)) {
                step = STEP_BACK_OUT;
                break;
            }
            // Younger speculative inserters: each sees our row and kills
            // its own, or decides without waiting for us. Wait for that.
            wait_for_pending(&v);
        }
        decide(arg, step == STEP_DONE);
        SpeculativeInsertionLockRelease(GetCurrentTransactionId());
        if (step == STEP_DONE) {
            result->outcome = ADMIT_OK;
            return;
        }
        if (step == STEP_CONFLICT || must_not_wait(t, 1, &v)) {
            take_conflict(&v, result);
            return;
        }
        // Our row is dead; wait for the writer that decides, holding nothing.
        wait_for_pending(&v);
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
