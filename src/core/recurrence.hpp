// Repeat rules (API.md §11): the RFC 5545 RRULE subset
//   FREQ=DAILY|WEEKLY|MONTHLY [;INTERVAL=n] [;COUNT=n | ;UNTIL=date[Thhmmss[Z]]]
//   [;BYDAY=MO,WE,...] (WEEKLY only) [;WKST=MO]
// and their expansion into occurrences in local wall-clock time. The glue
// turns each local start into an instant with the resource's time zone
// (PostgreSQL's tz database), so an occurrence keeps the first one's local
// time across DST; the core knows no zone.
#pragma once
#include "no_postgres.hpp"
#include "schedule.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sg {

constexpr std::int64_t micros_per_day = 86400LL * 1000000LL;

// A civil (proleptic Gregorian) date and a time of day, no zone.
struct LocalTime {
    int year = 1970;
    int month = 1;  // 1..12
    int day = 1;    // 1..31
    std::int64_t micros_of_day = 0;  // 0 .. micros_per_day - 1
    bool operator==(const LocalTime& o) const {
        return year == o.year && month == o.month && day == o.day && micros_of_day == o.micros_of_day;
    }
};

enum class Frequency { Daily, Weekly, Monthly };

struct RepeatRule {
    Frequency freq = Frequency::Daily;
    int interval = 1;
    int count = 0;  // 0: none (then until is set)
    bool has_until = false;
    LocalTime until;         // inclusive; a date alone means the end of that day
    bool until_utc = false;  // UNTIL ended in Z: `until` is UTC, the glue converts it
    unsigned byday = 0;      // bit d: weekday d (0 = Monday ... 6 = Sunday)
    int wkst = 0;            // week start, 0 = Monday
};

// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, int* y, int* m, int* d);
int weekday(std::int64_t days);  // 0 = Monday
int days_in_month(int y, int m);

// Parses a rule; a bad one throws sg::Error 22023 naming the part and its
// position (1-based). COUNT above max_count is refused (22023) too.
RepeatRule parse_repeat_rule(const std::string& text, int max_count);

// The occurrences' local starts in order, `first` always the first one
// (RFC 5545: DTSTART counts as the first occurrence). Stops at COUNT, after
// UNTIL (compared in local time), at the last representable year, or once
// `limit` + 1 starts are produced (so the caller can refuse "more than
// limit"). A MONTHLY rule on a day some months lack skips those months.
std::vector<LocalTime> expand_repeat_rule(const RepeatRule& rule, const LocalTime& first, int limit);

// The same in a zone (API.md §10 "Local time"): a start whose local time
// does not exist there (a DST gap, spring forward) is skipped, and, as
// RFC 5545 §3.3.10 says of such instances (and as a MONTHLY rule's missing
// days are), not counted: COUNT=n still gives n occurrences. `zone` is the
// resource's UTC offsets from `first` on (empty: UTC, nothing skipped).
// *beyond_zone is set when a start lay past the table's end, so whether
// it exists is unknown: the caller widens the table and expands again.
std::vector<LocalTime> expand_repeat_rule(const RepeatRule& rule, const LocalTime& first, int limit,
                                          const sched::Zone& zone, bool* beyond_zone);

// Whether local wall-clock time `local` (microseconds since 2000-01-01,
// as sched::civil_micros) occurs in zone; *beyond set (and true returned)
// when it lies after the table's end.
bool local_time_exists(Micros local, const sched::Zone& zone, bool* beyond);
Micros local_micros(const LocalTime& t);

}  // namespace sg
