// Opening hours, time zones, closures, busy time and limits (API.md §10):
// the hooks the booking paths and the searches call. The interval logic is
// in src/core/schedule.cpp; this glue reads the rules, builds the zone's
// UTC offset table with PostgreSQL's tz code (pg_tzset,
// pg_next_dst_boundary) and converts. Written C-style, as engine/glue.hpp.
//
// How a booking path uses them (bookings/booking_api.cpp):
//   ResourceInfo res = read_resource(...)        // decodes the policy too
//   loop {
//     check_booking_rules(&res, key, during, blocked, &refusal)  // static rules
//     n += day_limit_targets(&res, &rels, key, during, holder, current, targets + n)
//     admit ... (before writing: lock_resource share; a changed
//                res.rules_version means: start again)
//   }
// Rule changes take the resource lock exclusively and bump
// resource.rules_version, so a check in flight either ran before the
// change or sees it.
#pragma once

#include "bookings/bookings.hpp"

namespace sgpg {

// The §10 policy of a resource as its row holds it (NULL in ResourceInfo
// when rules_version is 0 or the schema has no rules: nothing to check).
struct ResourceRules {
    int64 version;               // rules_version of the row
    TransactionId row_xmin;      // and the transaction that wrote it
    char* timezone;  // NULL: UTC
    SchedPolicy policy;
    bool has_max_per_day;
    int max_per_day;
    bool has_max_per_holder;
    int max_per_holder;
};

// Parses opening_hours text (22023 with the position when bad).
sg::sched::WeeklySpan* parse_hours_text(const char* s, size_t len, int* n_out);
// Called by read_resource for every resource row (resources.cpp).
void decode_rules(TupleTableSlot* slot, ResourceInfo* info);

// --- the admission hooks ------------------------------------------------------
struct RuleRefusal {
    char* detail;  // "outside opening hours", "closed: <reason>", "busy (<source>)", ...
};
// Every static rule (hours, closures, busy time, notice, advance,
// duration) for a booking `during` that blocks `blocked`, against the rules
// and exceptions committed now (latest snapshot). True when it obeys them.
bool check_booking_rules(const ResourceInfo* res, text* key, const TsRange& during, const TsRange& blocked,
                         RuleRefusal* out);
// The same; ignore_busy leaves busy time out (a rule change's check of
// the bookings it would strand: busy time is sync_busy's report).
bool check_booking_rules_ex(const ResourceInfo* res, text* key, const TsRange& during, const TsRange& blocked,
                            bool ignore_busy, RuleRefusal* out);
// Admission targets for the per-day limits (0, 1 or 2 written to out):
// max_per_day and max_per_holder_per_day are capacities of the booking's
// local day, so the admission keeps them under concurrency exactly as
// capacity. `current` is the booking's own row (reschedule, confirm) or NULL.
int day_limit_targets(const ResourceInfo* res, const BookingRels* rels, text* key, const TsRange& during,
                      text* holder, ItemPointer current, AdmitTarget* out);
// The DETAIL of a refusal by day-limit target `which` (0-based among them).
char* day_limit_detail(const AdmitTarget* t, const char* ids);
// Whether the target is one of day_limit_targets'.
bool is_day_limit_target(const AdmitTarget* t);
// 23P01 for a rule refusal, with the alternatives (may be none).
[[noreturn]] void raise_rule_refusal(text* key, const TsRange& during, const char* detail, const Datum* suggestions,
                                     int n_suggestions, bool with_hint);

// After a rule change of `key` (SPI connected, the change visible): the
// active bookings that break the new rules; 23P01 naming them, or with
// force a NOTICE. `what` names the change in the message. (schedule_api.cpp;
// also the direct-write triggers, direct_rules.cpp.)
void check_stranded_bookings(text* key, bool force, const char* what);

// --- the search hooks -----------------------------------------------------------
// Appends to occ occupants that take every seat over the time a booking of
// res may not use inside window (closed time shrunk by the buffers, busy
// time as it is), read with `snap` (NULL: latest). Nothing without rules.
void add_closed_occupants(const ResourceInfo* res, text* key, const TsRange& window, Snapshot snap,
                          bool for_blocked, Occupants* occ);
// Of n suggestions, keeps those that obey every rule (in place); returns how many.
int filter_suggestions(const ResourceInfo* res, const BookingRels* rels, text* key, int seats, text* holder,
                       ItemPointer exclude, Datum* suggestions, int n);
// free_slots on a resource with rules (search_api.cpp): the slots, or -1
// when the resource has no rules (the plain search applies).
int rules_free_slots(const ResourceInfo* res, text* key, const TsRange& search, int64 duration,
                     const Interval* step, int seats, const Occupants* occ, sg::Span* out, int max_out);

// --- the zone -----------------------------------------------------------------
// The zone's offsets over [from, to) (22023 for an unknown zone name).
SchedZone zone_table(const char* tzname, int64 from, int64 to);
void check_timezone_name(const char* tzname);

}  // namespace sgpg
