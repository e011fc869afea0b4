// The prepared SPI statements of bookings and worker assignments, kept for
// the life of the backend (engine/spi_plans.hpp). Every name in them is
// schema-qualified, so the caller's search_path never matters.
#pragma once

#include "engine/spi_plans.hpp"

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
    PLAN_BOOKING_RESOURCE,
    PLAN_IDEMPOTENT_LOOKUP_TENANT,
    PLAN_BOOKING_OWNER,
    PLAN_WORKER_SCHEDULE_CONFINED,
    PLAN_COUNT
};

// The plan, prepared on first use (SPI must be connected).
SPIPlanPtr plan(PlanId id);

}  // namespace sgpg
