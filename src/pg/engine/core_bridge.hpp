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
#include "core/schedule.hpp"

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
// --- opening hours, zones and rules (API.md §10; src/pg/schedule/) ----------
// A resource's policy as plain data (the core's Policy holds vectors).
struct SchedPolicy {
    bool has_hours;
    const sg::sched::WeeklySpan* hours;
    int n_hours;
    bool has_min_notice, has_max_advance, has_min_duration, has_max_duration;
    sg::Micros min_notice, max_advance, min_duration, max_duration;
};
struct SchedZone {
    const sg::sched::OffsetPiece* pieces;  // n == 0: UTC
    int n;
};
// out holds at least 7 * (len / 4 + 1) spans; on a bad text false, with
// err 22023 and *error_pos the 1-based position.
bool bridge_parse_hours(const char* text, std::size_t len, sg::sched::WeeklySpan* out, int cap, int* n_out,
                        int* error_pos, BridgeError* err) noexcept;
// An upper bound of the intervals bridge_opening / bridge_closed return.
int sched_interval_bound(const SchedPolicy& p, const SchedZone& z, int n_ex, sg::Micros from, sg::Micros to);
bool bridge_opening(const SchedPolicy& p, const SchedZone& z, const sg::sched::Exception* ex, int n_ex,
                    sg::Micros from, sg::Micros to, bool closed, sg::sched::Interval* out, int cap, int* n_out,
                    BridgeError* err) noexcept;
bool bridge_check_rules(const SchedPolicy& p, const SchedZone& z, const sg::sched::Exception* ex, int n_ex,
                        sg::Micros lo, sg::Micros hi, sg::Micros blo, sg::Micros bhi, sg::Micros now,
                        sg::sched::RuleVerdict* out, BridgeError* err) noexcept;
// The local day of `utc` and its UTC instants inside [from, to) (out: 4).
bool bridge_local_day(const SchedZone& z, sg::Micros utc, sg::Micros from, sg::Micros to, std::int64_t* day,
                      sg::sched::Interval* out, int* n_out, BridgeError* err) noexcept;
// bridge_expand_repeat in the zone z (covering the starts from first on): starts in a
// DST gap are skipped and not counted; *beyond_zone: widen z, call again.
bool bridge_expand_repeat_in_zone(const sg::RepeatRule& rule, const sg::LocalTime& first, int limit,
                                  const SchedZone& z, sg::LocalTime* out, int* n_out, bool* beyond_zone,
                                  BridgeError* err) noexcept;
// max_per_day in a search: keep[i] whether slot start i's local day holds
// fewer than limit of the booked starts.
bool bridge_day_has_room(const SchedZone& z, const sg::Micros* booked, int n_booked, const sg::Micros* slots,
                         int n_slots, int limit, bool* keep, BridgeError* err) noexcept;
// free_slots inside each of spans[0..n_spans) (ascending, disjoint), each
// span's grid starting at its own lower bound; one capacity profile for all.
bool bridge_free_slots_spans(const sg::Occupant* occ, int n, const sg::SlotQuery& q, const sg::Span* spans,
                             int n_spans, sg::Micros duration, sg::Micros step, int max_results, sg::Span* out,
                             int* n_out, BridgeError* err) noexcept;
bool bridge_local_grid(const SchedZone& z, sg::Micros lo, sg::Micros hi, sg::Micros duration, int months, int days,
                       sg::Micros us, sg::Micros* out, int cap, int* n_out, BridgeError* err) noexcept;

}  // namespace sgpg
