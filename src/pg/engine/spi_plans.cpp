// See spi_plans.hpp.
#include "engine/spi_plans.hpp"

namespace sgpg {
SPIPlanPtr kept_plan(SPIPlanPtr* cache, const PlanSpec& spec) { return kept_plan(cache, spec.sql, spec.nargs, spec.types); }

SPIPlanPtr kept_plan(SPIPlanPtr* cache, const char* sql, int nargs, const Oid* types) {
    if (*cache == NULL) {
        SPIPlanPtr p = SPI_prepare(sql, nargs, const_cast<Oid*>(types));
        if (p == NULL) elog(ERROR, "slotguard: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        if (SPI_keepplan(p) != 0) elog(ERROR, "slotguard: SPI_keepplan failed");
        *cache = p;
    }
    return *cache;
}


int run_latest(SPIPlanPtr p, Datum* values, const char* nulls, long limit) {
    // Writes fire their AFTER triggers (foreign keys among them) at the end
    // of the statement, as a plain SPI_execute_plan does.
    int rc = SPI_execute_snapshot(p, values, nulls, GetLatestSnapshot(), InvalidSnapshot, false, true, limit);
    if (rc < 0) elog(ERROR, "slotguard: SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
    return rc;
}

}  // namespace sgpg
