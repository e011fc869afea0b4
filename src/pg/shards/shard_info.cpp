// slotguard.shard_info() (API.md §9), in C since 1.2 so that it counts
// only what the caller may see: a confined caller (API.md §8) is told how
// many resources, bookings and orders of its own tenants (and, with a
// holder claim, of its own bookings) this shard holds, never the shard's
// totals across every tenant.
#include "access/access.hpp"
#include "engine/glue.hpp"
#include "engine/spi_plans.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_shard_info);
}

namespace sgpg {
namespace {

// $1 text[]: the caller's tenants, NULL for every tenant; $2: the caller's
// holder, NULL for every holder.
const char* const shard_info_sql =
    "SELECT coalesce(c.shard_number, 0), coalesce(c.shard_count, 1), "
    "(SELECT s.increment_by = coalesce(c.shard_count, 1) "
    "        AND (sv.last_value & (coalesce(c.shard_count, 1) - 1)) = coalesce(c.shard_number, 0) "
    "   FROM pg_catalog.pg_sequences s, slotguard.booking_id_seq sv "
    "  WHERE s.schemaname = 'slotguard' AND s.sequencename = 'booking_id_seq'), "
    "(SELECT pg_catalog.count(*) FROM slotguard.resource r "
    "  WHERE $1 IS NULL OR slotguard.tenant_of(r.key) OPERATOR(pg_catalog.=) ANY ($1)), "
    "(SELECT pg_catalog.count(*) FROM slotguard.booking b "
    "  WHERE ($1 IS NULL OR slotguard.tenant_of(b.resource_key) OPERATOR(pg_catalog.=) ANY ($1)) "
    "    AND ($2 IS NULL OR b.holder OPERATOR(pg_catalog.=) $2)), "
    "(SELECT pg_catalog.count(*) FROM slotguard.orders o "
    "  WHERE $1 IS NULL OR slotguard.tenant_of(o.key) OPERATOR(pg_catalog.=) ANY ($1)) "
    "FROM (SELECT 1) AS one LEFT JOIN slotguard.shard_config c ON true";

SPIPlanPtr shard_info_plan = NULL;

Datum shard_info(FunctionCallInfo fcinfo, const Confinement* conf) {
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    const PlanSpec spec = {shard_info_sql, 2, {TEXTARRAYOID, TEXTOID}};
    Datum v[2] = {(Datum)0, (Datum)0};
    char nulls[3] = "nn";
    if (conf->confined) {
        v[0] = tenant_array(conf);
        nulls[0] = ' ';
        if (conf->holder != NULL) {
            v[1] = PointerGetDatum(conf->holder);
            nulls[1] = ' ';
        }
    }
    if (SPI_execute_plan(kept_plan(&shard_info_plan, spec), v, nulls, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "slotguard: reading the shard's information failed");
    Datum values[6];
    bool isnull[6];
    for (int i = 0; i < 6; ++i) values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull[i]);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
    MemoryContextSwitchTo(spi);
    SPI_finish();
    return (Datum)0;
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

extern "C" Datum sg_shard_info(PG_FUNCTION_ARGS) {
    CallerScope scope = enter_api(fcinfo, "shard_info");
    Datum d = shard_info(fcinfo, &scope.conf);
    leave_api(&scope);
    return d;
}
