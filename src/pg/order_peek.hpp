// A claim's first look at its order, without SPI (order_peek.cpp).
#pragma once

#include "pg.hpp"

namespace sgpg {

// True when the order `key`, as the claim's UPDATE would see it (the same
// snapshot, the same lock on the table), is claimed by someone other than
// `claimant` on a lease that has not expired. That UPDATE would then match
// nothing, and the claim has lost: the caller can say so at once. False
// means "ask SQL" (any other state, or a table this does not read alike).
bool order_taken_by_other(text* key, text* claimant);

}  // namespace sgpg
