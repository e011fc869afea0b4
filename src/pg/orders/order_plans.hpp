// Prepared SPI statements of the order claims (contract §4), kept for the
// life of the backend like those of spi_plans.hpp. Every name in them is
// schema-qualified, so the caller's search_path never matters.
#pragma once

#include "engine/pg.hpp"

namespace sgpg {

// Where a plan takes a `kind` filter it comes in two variants, the second
// (id + 1) with `kind = $n`: a separate plan, so each can use its own index
// instead of a generic plan that must serve both. The steps of
// claim_next_order also come in tenant variants for confined callers (id +
// 2, and id + 3 with kind), with the tenants (text[]) as their last argument.
enum OrderPlanId {
    ORDER_ADD,            // $1 key, $2 kind, $3 ready, $4 payload -> o (none: duplicate key)
    ORDER_READ,           // $1 key -> status, claimant, lease expired?, o
    ORDER_SET_READY,      // $1 key -> o (pending -> ready)
    ORDER_CLAIM,          // $1 key, $2 claimant, $3 lease expiry -> o (if claimable)
    ORDER_RELEASE,        // $1 key, $2 claimant -> o (if the caller's live claim)
    ORDER_COMPLETE,       // $1 key, $2 claimant -> o (if the caller's live claim)
    ORDER_NEXT_FAST,      // $1 claimant, $2 lease expiry [, $3 kind] -> o (none if any claim expired)
    ORDER_NEXT_FAST_KIND,
    ORDER_NEXT_READY,     // $1 claimant, $2 lease expiry [, $3 kind] -> o
    ORDER_NEXT_READY_KIND,
    ORDER_NEXT_READY_T,
    ORDER_NEXT_READY_KIND_T,
    ORDER_NEXT_BEFORE,    // $1 claimant, $2 lease expiry, $3 ready_at, $4 key [, $5 kind] -> o
    ORDER_NEXT_BEFORE_KIND,
    ORDER_NEXT_BEFORE_T,
    ORDER_NEXT_BEFORE_KIND_T,
    ORDER_PEEK_EXPIRED,   // $1 keys to skip [, $2 kind] -> ready_at, key
    ORDER_PEEK_EXPIRED_KIND,
    ORDER_PEEK_EXPIRED_T,
    ORDER_PEEK_EXPIRED_KIND_T,
    ORDER_CLAIM_EXPIRED,  // $1 key, $2 claimant, $3 lease expiry -> o (never waits)

    // The same on the 1.2 schema (API.md §14: priority, ready_at <= now(),
    // claim_token on every claim, the token fence), chosen when the table
    // has the queue columns (order_api.cpp, queue_schema).
    ORDER_Q_ADD,          // $1 key, $2 kind, $3 ready, $4 payload, $5 priority, $6 not_before, $7 max_attempts
    ORDER_Q_READ,         // $1 key -> status, claimant, lease expired?, o, claim_token, not due yet?
    ORDER_Q_SET_READY,    // $1 key
    ORDER_Q_CLAIM,        // $1 key, $2 claimant, $3 lease expiry
    ORDER_Q_RELEASE,      // $1 key, $2 claimant, $3 token (NULL: any)
    ORDER_Q_COMPLETE,     // $1 key, $2 claimant, $3 token (NULL: any)
    ORDER_Q_RENEW,        // $1 key, $2 claimant, $3 new lease expiry, $4 token (NULL: any)
    ORDER_Q_FAIL,         // $1 key, $2 claimant, $3 error, $4 retry at (NULL: backoff), $5 token
    ORDER_Q_NEXT_FAST,    // $1 claimant, $2 lease expiry [, $3 kind]
    ORDER_Q_NEXT_FAST_KIND,
    ORDER_Q_NEXT_READY,   // $1 claimant, $2 lease expiry [, kind] [, tenants]
    ORDER_Q_NEXT_READY_KIND,
    ORDER_Q_NEXT_READY_T,
    ORDER_Q_NEXT_READY_KIND_T,
    ORDER_Q_PEEK_READY,   // [kind] [, tenants] -> priority, ready_at, key of the first claimable ready order
    ORDER_Q_PEEK_READY_KIND,
    ORDER_Q_PEEK_READY_T,
    ORDER_Q_PEEK_READY_KIND_T,
    ORDER_Q_PEEK_EXPIRED, // $1 keys to skip [, kind] [, tenants] -> priority, ready_at, key
    ORDER_Q_PEEK_EXPIRED_KIND,
    ORDER_Q_PEEK_EXPIRED_T,
    ORDER_Q_PEEK_EXPIRED_KIND_T,
    ORDER_Q_CLAIM_EXPIRED,  // $1 key, $2 claimant, $3 lease expiry
    ORDER_PLAN_COUNT
};

// The plan, prepared on first use (SPI must be connected).
SPIPlanPtr order_plan(OrderPlanId id);

}  // namespace sgpg
