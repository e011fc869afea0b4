// The exception boundary between the glue and the C++ core.
//
// Every function here is noexcept, calls no PostgreSQL function, and writes
// its results into caller-provided (palloc'd) arrays, so a C++ exception is
// caught before control returns to PostgreSQL and no PostgreSQL error can
// ever unwind through a frame that owns C++ resources. On failure they
// return false and fill `err`; the caller then raises it with ereport.
#pragma once

#include "core/capacity_profile.hpp"
#include "core/fit_check.hpp"
#include "core/least_loaded.hpp"
#include "core/occupant.hpp"
#include "core/overbooking.hpp"
#include "core/recurrence.hpp"
#include "core/slot_search.hpp"

#include <cstddef>
#include <cstdint>

namespace sgpg {

// The instants PostgreSQL accepts as a finite timestamptz, in its
// microseconds: MIN_TIMESTAMP (4713-11-24 BC) up to END_TIMESTAMP (294277-01-01),
// exclusive (ranges.cpp checks these against PostgreSQL's own constants).
// Slots and alternatives are only offered inside them.
constexpr std::int64_t first_timestamp = -211813488000000000;
constexpr std::int64_t end_timestamp = 9223371331200000000;

struct BridgeError {
    char sqlstate[6];
    char message[256];
};

struct FitOut {
    sg::Verdict verdict;
    std::int64_t* ids;  // capacity: n occupants
    int n_ids;
    sg::Xid* xids;  // capacity: n occupants
    int n_xids;
    sg::Xid lowest_top_xid;
};

bool bridge_check_fit(const sg::Span& want, int seats, int capacity, const sg::Occupant* occ, int n, FitOut* out,
                      BridgeError* err) noexcept;

// Ids of occupants that overlap an instant whose load exceeds capacity.
bool bridge_overbooked(const sg::Occupant* occ, int n, int capacity, std::int64_t* ids, int* n_ids,
                       BridgeError* err) noexcept;

// The same answer in O(n log n) (one sort and a sweep), for many
// occupants (protect() over an existing table).
bool bridge_overbooked_sweep(const sg::Occupant* occ, int n, int capacity, std::int64_t* ids, int* n_ids,
                             BridgeError* err) noexcept;

bool bridge_alternatives(const sg::Occupant* occ, int n, const sg::SlotQuery& q, const sg::Span& wanted,
                         sg::Micros step, sg::Micros horizon, int max_results, sg::Span* out, int* n_out,
                         BridgeError* err) noexcept;

bool bridge_free_slots(const sg::Occupant* occ, int n, const sg::SlotQuery& q, const sg::Span& search,
                       sg::Micros search_lower_t, sg::Micros duration, sg::Micros step, int max_results,
                       sg::Span* out, int* n_out, BridgeError* err) noexcept;

// Load segments covering window; `out` must hold 2 * n + 1 entries.
bool bridge_segments(const sg::Occupant* occ, int n, const sg::Span& window, sg::LoadSegment* out, int* n_out,
                     BridgeError* err) noexcept;

// --- series and groups (API.md §11) ---------------------------------------
// Parses a repeat rule of `len` bytes; COUNT above max_count is refused.
bool bridge_parse_repeat(const char* text, std::size_t len, int max_count, sg::RepeatRule* out,
                         BridgeError* err) noexcept;
// The occurrences' local starts; `out` must hold limit + 1 entries.
bool bridge_expand_repeat(const sg::RepeatRule& rule, const sg::LocalTime& first, int limit, sg::LocalTime* out,
                          int* n_out, BridgeError* err) noexcept;
// Indexes of the free candidates, least loaded first; `order` holds n.
bool bridge_least_loaded(const std::int64_t* loads, const bool* free, int n, int* order, int* n_order,
                         BridgeError* err) noexcept;

}  // namespace sgpg
