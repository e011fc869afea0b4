// Prepared SPI statements, kept for the life of the backend. Every name in
// them is schema-qualified, so the caller's search_path never matters.
#pragma once

#include "engine/pg.hpp"

namespace sgpg {

// A statement kept for the life of the backend.
struct PlanSpec {
    const char* sql;
    int nargs;
    Oid types[9];
};

// *cache, prepared from `spec` on first use (SPI must be connected).
SPIPlanPtr kept_plan(SPIPlanPtr* cache, const PlanSpec& spec);
// The same from its parts.
SPIPlanPtr kept_plan(SPIPlanPtr* cache, const char* sql, int nargs, const Oid* types);

// Runs a plan with the latest snapshot, so rows committed after the
// transaction's snapshot are seen (REPEATABLE READ / SERIALIZABLE).
int run_latest(SPIPlanPtr p, Datum* values, const char* nulls, long limit);

}  // namespace sgpg
