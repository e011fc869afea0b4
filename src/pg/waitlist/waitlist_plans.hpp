// The prepared SPI statements of the waitlist and hold expiry, kept for
// the life of the backend (engine/spi_plans.hpp).
#pragma once

#include "engine/spi_plans.hpp"

namespace sgpg {

enum WaitlistPlanId {
    WPLAN_LOCK_WAITING,
    WPLAN_MARK_OFFERED,
    WPLAN_INSERT,
    WPLAN_ROW,
    WPLAN_OWNER,
    WPLAN_LOCK_ENTRY,
    WPLAN_LEAVE,
    WPLAN_EXPIRE,
    WPLAN_WAITING_RESOURCES,
    WPLAN_COUNT
};

SPIPlanPtr waitlist_plan(WaitlistPlanId id);

}  // namespace sgpg
