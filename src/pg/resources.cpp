// Resource rows: the per-resource lock and reading capacity and buffers.
#include "glue.hpp"
#include "spi_plans.hpp"

namespace sgpg {

void lock_resource(text* key, LOCKMODE mode) {
    // An advisory-class lock tag of our own (field4 = 3 is unused by
    // pg_advisory_*), keyed by a hash of the resource key. Bookers take it
    // shared, so they never wait on each other; a capacity/buffer change
    // takes it exclusive and so sees no booking check in flight.
    uint32 h = hash_any((const unsigned char*)VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, 0x736c6f74 /* "slot" */, h, 3);
    (void)LockAcquire(&tag, mode, false, false);
}

ResourceInfo read_resource(text* key, bool create_if_missing) {
    Datum args[1] = {PointerGetDatum(key)};
    ResourceInfo info = {false, 1, 0, 0};
    for (int attempt = 0; attempt < 2; ++attempt) {
        run_latest(plan(PLAN_RESOURCE_READ), args, NULL, 1);
        if (SPI_processed == 1) {
            HeapTuple tup = SPI_tuptable->vals[0];
            TupleDesc desc = SPI_tuptable->tupdesc;
            bool isnull;
            info.found = true;
            info.capacity = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
            info.before_us = interval_micros(DatumGetIntervalP(SPI_getbinval(tup, desc, 2, &isnull)), "buffer_before");
            info.after_us = interval_micros(DatumGetIntervalP(SPI_getbinval(tup, desc, 3, &isnull)), "buffer_after");
            return info;
        }
        if (!create_if_missing || !auto_create_resources || attempt > 0) break;
        if (SPI_execute_plan(plan(PLAN_RESOURCE_CREATE), args, NULL, false, 0) < 0)
            elog(ERROR, "slotguard: could not create resource");
        CommandCounterIncrement();
    }
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                    errmsg("resource \"%s\" does not exist", text_to_cstring(key)),
                    errhint("Create it with slotguard.upsert_resource(), or turn on "
                            "slotguard.auto_create_resources.")));
    pg_unreachable();
}

}  // namespace sgpg
