// Module entry: settings and transaction hooks.
#include "engine/glue.hpp"
#include "orders/queue_hint.hpp"
#include "stats/stats.hpp"

extern "C" {
#include "utils/fmgrprotos.h"
}

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace sgpg {

bool auto_create_resources = true;
int max_suggestions = 3;
int suggestion_horizon_minutes = 24 * 60;
int suggestion_steps = 4;
int max_metadata_bytes = 64 * 1024;

// --- internal writes ----------------------------------------------------------
//
// A mark per internal write in progress, innermost last: the subtransaction
// and trigger depth the API's own statement runs at. Only the innermost
// mark counts, and only at exactly its level: a statement run by a user's
// trigger (one trigger level deeper) or inside a user's EXCEPTION block (a
// subtransaction of its own) is checked as any other write, and such a
// block, ending, changes nothing for the API's statement. A mark goes away
// with end_internal_write() or with the subtransaction it was made in,
// when that aborts.
namespace {

struct InternalWriteMark {
    SubTransactionId subid;
    int trigger_depth;
};
const int MAX_MARKS = 64;
InternalWriteMark marks[MAX_MARKS];
int n_marks = 0;

int trigger_depth(void) { return DatumGetInt32(DirectFunctionCall1(pg_trigger_depth, (Datum)0)); }

bool at_mark(int extra_depth) {
    if (n_marks == 0) return false;
    const InternalWriteMark* m = &marks[n_marks - 1];
    return m->subid == GetCurrentSubTransactionId() && m->trigger_depth + extra_depth == trigger_depth();
}

void reset_on_xact(XactEvent, void*) { n_marks = 0; }

void reset_on_subxact(SubXactEvent event, SubTransactionId my_subid, SubTransactionId, void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) return;
    // Marks made in the aborted subtransaction or below it.
    while (n_marks > 0 && marks[n_marks - 1].subid >= my_subid) --n_marks;
}

}  // namespace

int begin_internal_write(void) {
    int token = n_marks;
    // Deeper than this (API calls nested in triggers 64 deep) the rows are
    // simply checked again.
    if (n_marks < MAX_MARKS) marks[n_marks++] = InternalWriteMark{GetCurrentSubTransactionId(), trigger_depth()};
    return token;
}

void end_internal_write(int token) {
    if (token < n_marks) n_marks = token;
}

bool internal_write_here(void) { return at_mark(0); }

bool internal_write_in_trigger(void) { return at_mark(1); }

}  // namespace sgpg

void _PG_init(void) {
    DefineCustomBoolVariable("slotguard.auto_create_resources",
                             "Creates an unknown resource (capacity 1, no buffers) on its first booking.", NULL,
                             &sgpg::auto_create_resources, true, PGC_SUSET, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("slotguard.max_suggestions", "Free alternatives offered with a conflict (0 = none).", NULL,
                            &sgpg::max_suggestions, 3, 0, 10, PGC_SUSET, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("slotguard.suggestion_horizon", "How far from the requested time alternatives are sought.",
                            NULL, &sgpg::suggestion_horizon_minutes, 24 * 60, 1, 366 * 24 * 60, PGC_SUSET,
                            GUC_UNIT_MIN, NULL, NULL, NULL);
    DefineCustomIntVariable("slotguard.suggestion_steps",
                            "How many slots of the requested length either side alternatives are sought in.", NULL,
                            &sgpg::suggestion_steps, 4, 1, 1000, PGC_SUSET, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("slotguard.max_metadata_bytes",
                            "Largest metadata (bookings, resources) or payload (orders) a call accepts.", NULL,
                            &sgpg::max_metadata_bytes, 64 * 1024, 1024, MAX_KILOBYTES, PGC_SUSET, GUC_UNIT_BYTE, NULL,
                            NULL, NULL);
    MarkGUCPrefixReserved("slotguard");
    RegisterXactCallback(sgpg::reset_on_xact, NULL);
    RegisterSubXactCallback(sgpg::reset_on_subxact, NULL);
    sgpg::stats_init();
    sgpg::queue_hint_init();
}
