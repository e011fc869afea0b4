// Prepared SPI statements, kept for the life of the backend. Every name in
// them is schema-qualified, so the caller's search_path never matters.
#pragma once

#include "pg.hpp"

namespace sgpg {

enum PlanId {
    PLAN_RESOURCE_CREATE,
    PLAN_RESOURCE_UPSERT,
    PLAN_REBLOCK,
    PLAN_IDEMPOTENT_LOOKUP,
    PLAN_BOOKING_INSERT,
    PLAN_BOOKING_LOCK,
    PLAN_BOOKING_CANCEL,
    PLAN_BOOKING_CONFIRM,
    PLAN_BOOKING_MOVE,
    PLAN_ASSIGN_ACTIVE,
    PLAN_ASSIGN_REMOVE_OTHERS,
    PLAN_ASSIGN_INSERT,
    PLAN_ASSIGN_LIST,
    PLAN_ASSIGN_RELEASE,
    PLAN_ASSIGN_MOVE,
    PLAN_UNASSIGN,
    PLAN_BOOKING_STATUS,
    PLAN_WORKER_SCHEDULE,
    PLAN_BOOKING_DURING,
    PLAN_COUNT
};

// A statement kept for the life of the backend.
struct PlanSpec {
    const char* sql;
    int nargs;
    Oid types[9];
};

// *cache, prepared from `spec` on first use (SPI must be connected).
SPIPlanPtr kept_plan(SPIPlanPtr* cache, const PlanSpec& spec);

// The plan, prepared on first use (SPI must be connected).
SPIPlanPtr plan(PlanId id);

// Runs a plan with the latest snapshot, so rows committed after the
// transaction's snapshot are seen (REPEATABLE READ / SERIALIZABLE).
int run_latest(SPIPlanPtr p, Datum* values, const char* nulls, long limit);

}  // namespace sgpg
