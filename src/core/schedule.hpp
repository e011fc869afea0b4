// Opening hours, time zones and booking rules (API.md §10), without
// PostgreSQL: the glue hands in the zone as a table of UTC offsets it got
// from PostgreSQL's own tz machinery, and the exceptions it read; the core
// expands weekly local-time spans into UTC, merges, subtracts and buckets.
//
// All instants are PostgreSQL TimestampTz microseconds (since 2000-01-01
// 00:00 UTC); intervals are half-open [lo, hi).
#pragma once
#include "no_postgres.hpp"
#include "timeline.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sg {
namespace sched {

constexpr Micros usecs_per_minute = 60000000LL;
constexpr Micros usecs_per_day = 86400000000LL;

// --- opening_hours (the OpenStreetMap subset of API.md §10) --------------

// One weekly span: opens on `isodow` (1 = Monday .. 7 = Sunday) at
// `opens` minutes after local midnight, closes at `closes` minutes
// (0..1440). closes <= opens means it runs past midnight into the next day.
struct WeeklySpan {
    int isodow;
    int opens;
    int closes;
    bool operator==(const WeeklySpan& o) const {
        return isodow == o.isodow && opens == o.opens && closes == o.closes;
    }
};

struct ParsedHours {
    bool ok = false;
    std::vector<WeeklySpan> spans;  // by day, then opening time
    int error_pos = 0;              // 1-based character position of the error
    std::string error;
};

// "Mo-Fr 09:00-12:00,13:00-17:00; Sa 10:00-14:00", "24/7", "Su off",
// "22:00-02:00" (a rule without days applies to every day). A later rule
// replaces what earlier ones said about the days it names.
ParsedHours parse_opening_hours(const std::string& text);

// The canonical text of spans ("Mo 09:00-17:00; Tu ...").
std::string format_opening_hours(const std::vector<WeeklySpan>& spans);

// --- time zones -----------------------------------------------------------

// [from, to) in UTC during which local = utc + offset. The pieces the glue
// makes are contiguous and ascending and cover the window asked for.
struct OffsetPiece {
    Micros from;
    Micros to;
    Micros offset;
};
using Zone = std::vector<OffsetPiece>;

// Local wall-clock instant (as if UTC) of a UTC instant (offset of the
// piece holding it; the nearest piece outside the table).
Micros to_local(Micros utc, const Zone& zone);
// The UTC instant of a local wall-clock time, as PostgreSQL reads one: a
// time that occurs twice is the earlier, one in a gap (spring forward) is
// read with the offset before the gap (so it lands after the gap).
Micros to_utc(Micros local, const Zone& zone);
// Local day number (days since 2000-01-01 local) and ISO weekday of a day.
std::int64_t local_day(Micros utc, const Zone& zone);
int isodow_of_day(std::int64_t day);

// y-m-d h:mi as microseconds since 2000-01-01 (a wall-clock reading).
Micros civil_micros(std::int64_t y, int m, int d, int hour, int minute);

// --- interval sets --------------------------------------------------------

struct Interval {
    Micros lo;
    Micros hi;
    bool operator==(const Interval& o) const { return lo == o.lo && hi == o.hi; }
};
using Intervals = std::vector<Interval>;  // ascending, disjoint, non-adjacent

Intervals merged(Intervals v);
Intervals unite(const Intervals& a, const Intervals& b);
Intervals subtract(const Intervals& a, const Intervals& b);
Intervals clip(const Intervals& a, Micros lo, Micros hi);
bool covers(const Intervals& a, Micros lo, Micros hi);
bool touches(const Intervals& a, Micros lo, Micros hi);

// Every UTC instant in [from, to) whose local time lies in one of the
// local intervals [lo, hi) (preimage through the zone): a local time that
// does not exist is skipped, one that occurs twice counts both times.
Intervals local_to_utc(const Intervals& local, const Zone& zone, Micros from, Micros to);

// The weekly spans as UTC time inside [from, to) (DST-correct).
Intervals expand_weekly(const std::vector<WeeklySpan>& spans, const Zone& zone, Micros from, Micros to);

// The UTC instants of local day `day` inside [from, to).
Intervals day_in_utc(std::int64_t day, const Zone& zone, Micros from, Micros to);

// max_per_day for a search: for each of `slots` (starts, any order),
// whether its local day holds fewer than `limit` of the `booked` starts
// (the active bookings), i.e. one more booking may start that day.
std::vector<bool> day_has_room(const std::vector<Micros>& booked, const std::vector<Micros>& slots,
                               const Zone& zone, int limit);

// --- the rules of one resource -------------------------------------------

enum class ExceptionKind { Closure = 0, Opening = 1, Busy = 2 };
struct Exception {
    ExceptionKind kind;
    Micros lo;
    Micros hi;
    int tag;  // the glue's index (for the reason / source text)
};

struct Policy {
    bool has_hours = false;  // false: open around the clock
    std::vector<WeeklySpan> hours;
    bool has_min_notice = false, has_max_advance = false, has_min_duration = false, has_max_duration = false;
    Micros min_notice = 0, max_advance = 0, min_duration = 0, max_duration = 0;
};

// Bookable time in [from, to): (weekly hours, or always) ∪ openings −
// closures − busy.
Intervals opening(const Policy& p, const Zone& zone, const std::vector<Exception>& ex, Micros from, Micros to);
// Time in [from, to) that is not bookable (the complement of opening()).
Intervals closed_time(const Policy& p, const Zone& zone, const std::vector<Exception>& ex, Micros from, Micros to);

enum class RuleBroken { None, Duration, MinNotice, MaxAdvance, Closed, Busy, Outside };
struct RuleVerdict {
    RuleBroken rule = RuleBroken::None;
    int tag = -1;  // the closure or busy block (RuleBroken::Closed / Busy)
};

// The static rules for a booking `during` = [lo, hi) blocking [blo, bhi)
// (buffers included) at `now`: duration, notice, advance, closures (on
// during), busy time (on the blocked range), opening hours (during inside
// opening()). `ex` must hold every exception overlapping [blo, bhi).
RuleVerdict check_rules(const Policy& p, const Zone& zone, const std::vector<Exception>& ex, Micros lo, Micros hi,
                        Micros blo, Micros bhi, Micros now);

// Grid starts in [span.lo, span.hi - duration] from span.lo, stepping by
// `months`, `days` in local wall-clock time and `us` absolutely (how
// timestamptz + interval steps in the zone). At most `limit`.
std::vector<Micros> local_grid(Micros lo, Micros hi, Micros duration, int months, int days, Micros us,
                               const Zone& zone, std::size_t limit);

}  // namespace sched
}  // namespace sg
