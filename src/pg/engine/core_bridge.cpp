// See core_bridge.hpp: the only place the glue calls into the C++ core.
#include "engine/core_bridge.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

namespace sgpg {
namespace {

void fill(BridgeError* err, const char* state, const char* message) noexcept {
    std::snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state);
    std::snprintf(err->message, sizeof err->message, "%s", message);
}

// Runs `body`, turning any C++ exception into a BridgeError.
template <typename Body>
bool guarded(BridgeError* err, Body&& body) noexcept {
    try {
        body();
        return true;
    } catch (const sg::Error& e) {
        fill(err, e.sqlstate.c_str(), e.what());
    } catch (const std::bad_alloc&) {
        fill(err, "53200", "slotguard core: out of memory");
    } catch (const std::exception& e) {
        fill(err, "XX000", e.what());
    } catch (...) {
        fill(err, "XX000", "slotguard core: unknown C++ exception");
    }
    return false;
}

// q, offering only slots whose every point is a valid timestamp.
sg::SlotQuery within_timestamps(const sg::SlotQuery& q) {
    sg::SlotQuery limited = q;
    limited.earliest = sg::lower_point(first_timestamp, true);
    limited.latest = sg::upper_point(end_timestamp - 1, true);
    return limited;
}

sg::CapacityProfile profile_of(const sg::Occupant* occ, int n) {
    sg::CapacityProfile p;
    for (int i = 0; i < n; ++i) p.add(occ[i]);
    return p;
}

}  // namespace

bool bridge_check_fit(const sg::Span& want, int seats, int capacity, const sg::Occupant* occ, int n, FitOut* out,
                      BridgeError* err) noexcept {
    return guarded(err, [&] {
        std::vector<sg::Occupant> others(occ, occ + n);
        sg::FitResult r = sg::check_fit(want, seats, capacity, others);
        out->verdict = r.verdict;
        out->n_ids = static_cast<int>(std::min<std::size_t>(r.conflicting_ids.size(), n));
        std::copy_n(r.conflicting_ids.begin(), out->n_ids, out->ids);
        out->n_xids = static_cast<int>(std::min<std::size_t>(r.wait_xids.size(), n));
        std::copy_n(r.wait_xids.begin(), out->n_xids, out->xids);
        out->lowest_top_xid = r.lowest_top_xid;
    });
}

bool bridge_overbooked(const sg::Occupant* occ, int n, int capacity, std::int64_t* ids, int* n_ids,
                       BridgeError* err) noexcept {
    return guarded(err, [&] {
        *n_ids = 0;
        if (n <= 0) return;
        std::vector<std::int64_t> found = sg::overbooked(occ, static_cast<std::size_t>(n), capacity);
        *n_ids = static_cast<int>(std::min<std::size_t>(found.size(), n));
        std::copy_n(found.begin(), *n_ids, ids);
    });
}

bool bridge_overbooked_sweep(const sg::Occupant* occ, int n, int capacity, std::int64_t* ids, int* n_ids,
                             BridgeError* err) noexcept {
    return guarded(err, [&] {
        std::vector<std::int64_t> found = sg::overbooked_ids(std::vector<sg::Occupant>(occ, occ + n), capacity);
        *n_ids = static_cast<int>(std::min<std::size_t>(found.size(), n));
        std::copy_n(found.begin(), *n_ids, ids);
    });
}

bool bridge_alternatives(const sg::Occupant* occ, int n, const sg::SlotQuery& q, const sg::Span& wanted,
                         sg::Micros step, sg::Micros horizon, int max_results, sg::Span* out, int* n_out,
                         BridgeError* err) noexcept {
    return guarded(err, [&] {
        sg::CapacityProfile p = profile_of(occ, n);
        std::vector<sg::Span> found = sg::nearest_alternatives(p, within_timestamps(q), wanted, step, horizon, max_results);
        *n_out = static_cast<int>(std::min<std::size_t>(found.size(), max_results));
        std::copy_n(found.begin(), *n_out, out);
    });
}

bool bridge_free_slots(const sg::Occupant* occ, int n, const sg::SlotQuery& q, const sg::Span& search,
                       sg::Micros search_lower_t, sg::Micros duration, sg::Micros step, int max_results,
                       sg::Span* out, int* n_out, BridgeError* err) noexcept {
    return guarded(err, [&] {
        sg::CapacityProfile p = profile_of(occ, n);
        std::vector<sg::Span> found = sg::free_slots(p, within_timestamps(q), search, search_lower_t, duration, step, max_results);
        *n_out = static_cast<int>(std::min<std::size_t>(found.size(), max_results));
        std::copy_n(found.begin(), *n_out, out);
    });
}

bool bridge_segments(const sg::Occupant* occ, int n, const sg::Span& window, sg::LoadSegment* out, int* n_out,
                     BridgeError* err) noexcept {
    return guarded(err, [&] {
        sg::CapacityProfile p = profile_of(occ, n);
        std::vector<sg::LoadSegment> segs = p.segments(window);
        *n_out = static_cast<int>(std::min<std::size_t>(segs.size(), 2 * static_cast<std::size_t>(n) + 1));
        std::copy_n(segs.begin(), *n_out, out);
    });
}

// --- series and groups (API.md §11) ---------------------------------------

bool bridge_parse_repeat(const char* text, std::size_t len, int max_count, sg::RepeatRule* out,
                         BridgeError* err) noexcept {
    return guarded(err, [&] { *out = sg::parse_repeat_rule(std::string(text, len), max_count); });
}

bool bridge_expand_repeat(const sg::RepeatRule& rule, const sg::LocalTime& first, int limit, sg::LocalTime* out,
                          int* n_out, BridgeError* err) noexcept {
    return guarded(err, [&] {
        std::vector<sg::LocalTime> v = sg::expand_repeat_rule(rule, first, limit);
        std::size_t n = std::min(v.size(), static_cast<std::size_t>(limit) + 1);
        std::copy(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), out);
        *n_out = static_cast<int>(n);
    });
}

bool bridge_least_loaded(const std::int64_t* loads, const bool* free, int n, int* order, int* n_order,
                         BridgeError* err) noexcept {
    return guarded(err, [&] {
        std::vector<sg::LoadCandidate> c(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) c[static_cast<std::size_t>(i)] = sg::LoadCandidate{loads[i], free[i]};
        std::vector<int> o = sg::least_loaded_order(c);
        std::copy(o.begin(), o.end(), order);
        *n_order = static_cast<int>(o.size());
    });
}

// --- opening hours, zones and rules -------------------------------------------

namespace {
sg::sched::Policy policy_of(const SchedPolicy& p) {
    sg::sched::Policy pol;
    pol.has_hours = p.has_hours;
    pol.hours.assign(p.hours, p.hours + p.n_hours);
    pol.has_min_notice = p.has_min_notice;
    pol.has_max_advance = p.has_max_advance;
    pol.has_min_duration = p.has_min_duration;
    pol.has_max_duration = p.has_max_duration;
    pol.min_notice = p.min_notice;
    pol.max_advance = p.max_advance;
    pol.min_duration = p.min_duration;
    pol.max_duration = p.max_duration;
    return pol;
}
sg::sched::Zone zone_of(const SchedZone& z) { return sg::sched::Zone(z.pieces, z.pieces + z.n); }
}  // namespace

bool bridge_parse_hours(const char* text, std::size_t len, sg::sched::WeeklySpan* out, int cap, int* n_out,
                        int* error_pos, BridgeError* err) noexcept {
    *n_out = 0;
    *error_pos = 0;
    bool parsed = false;
    std::string message;
    bool ran = guarded(err, [&] {
        sg::sched::ParsedHours r = sg::sched::parse_opening_hours(std::string(text, len));
        if (!r.ok) {
            *error_pos = r.error_pos;
            message = r.error;
            return;
        }
        parsed = true;
        *n_out = static_cast<int>(std::min<std::size_t>(r.spans.size(), cap));
        std::copy_n(r.spans.begin(), *n_out, out);
    });
    if (!ran) return false;
    if (!parsed) {
        std::memcpy(err->sqlstate, "22023", 6);
        std::snprintf(err->message, sizeof err->message, "%s", message.c_str());
        return false;
    }
    return true;
}

int sched_interval_bound(const SchedPolicy& p, const SchedZone& z, int n_ex, sg::Micros from, sg::Micros to) {
    // Weekly instances in the window (days + 3, each span possibly cut by
    // every zone piece), plus one per exception (a subtraction splits one
    // interval in two at most), plus the window itself.
    __int128 days = ((__int128)to - from) / sg::sched::usecs_per_day + 4;
    __int128 n = days * (p.has_hours ? p.n_hours : 0) * (z.n + 1) + 2 * (__int128)n_ex + 4;
    return n > 100000000 ? 100000000 : (int)n;
}

bool bridge_opening(const SchedPolicy& p, const SchedZone& z, const sg::sched::Exception* ex, int n_ex,
                    sg::Micros from, sg::Micros to, bool closed, sg::sched::Interval* out, int cap, int* n_out,
                    BridgeError* err) noexcept {
    return guarded(err, [&] {
        std::vector<sg::sched::Exception> e(ex, ex + n_ex);
        sg::sched::Intervals v = closed ? sg::sched::closed_time(policy_of(p), zone_of(z), e, from, to)
                                        : sg::sched::opening(policy_of(p), zone_of(z), e, from, to);
        *n_out = static_cast<int>(std::min<std::size_t>(v.size(), cap));
        std::copy_n(v.begin(), *n_out, out);
    });
}

bool bridge_check_rules(const SchedPolicy& p, const SchedZone& z, const sg::sched::Exception* ex, int n_ex,
                        sg::Micros lo, sg::Micros hi, sg::Micros blo, sg::Micros bhi, sg::Micros now,
                        sg::sched::RuleVerdict* out, BridgeError* err) noexcept {
    return guarded(err, [&] {
        std::vector<sg::sched::Exception> e(ex, ex + n_ex);
        *out = sg::sched::check_rules(policy_of(p), zone_of(z), e, lo, hi, blo, bhi, now);
    });
}

bool bridge_expand_repeat_in_zone(const sg::RepeatRule& rule, const sg::LocalTime& first, int limit,
                                  const SchedZone& z, sg::LocalTime* out, int* n_out, bool* beyond_zone,
                                  BridgeError* err) noexcept {
    return guarded(err, [&] {
        std::vector<sg::LocalTime> v = sg::expand_repeat_rule(rule, first, limit, zone_of(z), beyond_zone);
        std::size_t n = std::min(v.size(), static_cast<std::size_t>(limit) + 1);
        std::copy(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), out);
        *n_out = static_cast<int>(n);
    });
}

bool bridge_day_has_room(const SchedZone& z, const sg::Micros* booked, int n_booked, const sg::Micros* slots,
                         int n_slots, int limit, bool* keep, BridgeError* err) noexcept {
    return guarded(err, [&] {
        std::vector<bool> room = sg::sched::day_has_room(std::vector<sg::Micros>(booked, booked + n_booked),
                                                         std::vector<sg::Micros>(slots, slots + n_slots),
                                                         zone_of(z), limit);
        for (int i = 0; i < n_slots; ++i) keep[i] = room[static_cast<std::size_t>(i)];
    });
}

bool bridge_local_day(const SchedZone& z, sg::Micros utc, sg::Micros from, sg::Micros to, std::int64_t* day,
                      sg::sched::Interval* out, int* n_out, BridgeError* err) noexcept {
    return guarded(err, [&] {
        sg::sched::Zone zone = zone_of(z);
        *day = sg::sched::local_day(utc, zone);
        sg::sched::Intervals v = sg::sched::day_in_utc(*day, zone, from, to);
        *n_out = static_cast<int>(std::min<std::size_t>(v.size(), 4));
        std::copy_n(v.begin(), *n_out, out);
    });
}

bool bridge_free_slots_spans(const sg::Occupant* occ, int n, const sg::SlotQuery& q, const sg::Span* spans,
                             int n_spans, sg::Micros duration, sg::Micros step, int max_results, sg::Span* out,
                             int* n_out, BridgeError* err) noexcept {
    return guarded(err, [&] {
        sg::CapacityProfile p = profile_of(occ, n);
        sg::SlotQuery qq = within_timestamps(q);
        *n_out = 0;
        for (int i = 0; i < n_spans && *n_out < max_results; ++i) {
            sg::Bound lo = sg::decode_lower(spans[i].lo);
            std::vector<sg::Span> found =
                sg::free_slots(p, qq, spans[i], lo.t, duration, step, static_cast<std::size_t>(max_results - *n_out));
            std::size_t k = std::min<std::size_t>(found.size(), max_results - *n_out);
            std::copy_n(found.begin(), k, out + *n_out);
            *n_out += static_cast<int>(k);
        }
    });
}

bool bridge_local_grid(const SchedZone& z, sg::Micros lo, sg::Micros hi, sg::Micros duration, int months, int days,
                       sg::Micros us, sg::Micros* out, int cap, int* n_out, BridgeError* err) noexcept {
    return guarded(err, [&] {
        std::vector<sg::Micros> v = sg::sched::local_grid(lo, hi, duration, months, days, us, zone_of(z), cap);
        *n_out = static_cast<int>(std::min<std::size_t>(v.size(), cap));
        std::copy_n(v.begin(), *n_out, out);
    });
}

}  // namespace sgpg

