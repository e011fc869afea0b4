// Module entry: settings and transaction hooks.
#include "engine/glue.hpp"

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
bool internal_write = false;

namespace {

// An error in the middle of an internal write must not leave the trigger
// bypass switched on.
void reset_on_xact(XactEvent, void*) { internal_write = false; }
void reset_on_subxact(SubXactEvent, SubTransactionId, SubTransactionId, void*) { internal_write = false; }

}  // namespace
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
}
