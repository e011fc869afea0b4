#include "core/recurrence.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sg {
namespace {

LocalTime lt(int y, int m, int d, int h = 10, int mi = 0) {
    LocalTime t;
    t.year = y;
    t.month = m;
    t.day = d;
    t.micros_of_day = (h * 60LL + mi) * 60LL * 1000000LL;
    return t;
}

std::vector<LocalTime> expand(const std::string& rule, const LocalTime& first, int limit = 500) {
    return expand_repeat_rule(parse_repeat_rule(rule, limit), first, limit);
}

std::string sqlstate_of(const std::string& rule) {
    try {
        parse_repeat_rule(rule, 500);
    } catch (const Error& e) {
        return e.sqlstate;
    }
    return "";
}

TEST(Civil, RoundTripsAndWeekdays) {
    EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(weekday(0), 3);  // Thursday
    EXPECT_EQ(weekday(days_from_civil(2026, 12, 7)), 0);  // a Monday
    for (std::int64_t d = -800000; d < 800000; d += 997) {
        int y, m, dd;
        civil_from_days(d, &y, &m, &dd);
        EXPECT_EQ(days_from_civil(y, m, dd), d);
    }
    EXPECT_EQ(days_in_month(2024, 2), 29);
    EXPECT_EQ(days_in_month(2100, 2), 28);
    EXPECT_EQ(days_in_month(2000, 2), 29);
}

TEST(Repeat, DailyCount) {
    auto v = expand("FREQ=DAILY;COUNT=3", lt(2026, 12, 30));
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[1], lt(2026, 12, 31));
    EXPECT_EQ(v[2], lt(2027, 1, 1));
}

TEST(Repeat, DailyIntervalUntilIsInclusive) {
    auto v = expand("FREQ=DAILY;INTERVAL=2;UNTIL=20270105T100000", lt(2027, 1, 1));
    ASSERT_EQ(v.size(), 3u);  // 1, 3, 5 (10:00 on the 5th is the UNTIL itself)
    EXPECT_EQ(v[2], lt(2027, 1, 5));
    // A date alone covers its whole day.
    EXPECT_EQ(expand("FREQ=DAILY;UNTIL=20270103", lt(2027, 1, 1, 23, 30)).size(), 3u);
    // UNTIL before the first start still books the first (DTSTART counts).
    EXPECT_EQ(expand("FREQ=DAILY;UNTIL=20260101", lt(2027, 1, 1)).size(), 1u);
}

TEST(Repeat, WeeklyKeepsTheWeekday) {
    auto v = expand("FREQ=WEEKLY;COUNT=10", lt(2027, 3, 1));  // Monday
    ASSERT_EQ(v.size(), 10u);
    for (const auto& t : v) EXPECT_EQ(weekday(days_from_civil(t.year, t.month, t.day)), 0);
    EXPECT_EQ(v[9], lt(2027, 5, 3));
}

TEST(Repeat, WeeklyByDayWithInterval) {
    // Mondays and Wednesdays every other week, starting on a Wednesday.
    auto v = expand("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=5", lt(2027, 3, 3));
    std::vector<LocalTime> want = {lt(2027, 3, 3), lt(2027, 3, 15), lt(2027, 3, 17), lt(2027, 3, 29), lt(2027, 3, 31)};
    EXPECT_EQ(v, want);
}

TEST(Repeat, WeeklyByDayFirstNotInSetStillCounts) {
    // first is a Tuesday; BYDAY=FR: the Tuesday, then Fridays.
    auto v = expand("FREQ=WEEKLY;BYDAY=FR;COUNT=3", lt(2027, 3, 2));
    std::vector<LocalTime> want = {lt(2027, 3, 2), lt(2027, 3, 5), lt(2027, 3, 12)};
    EXPECT_EQ(v, want);
}

TEST(Repeat, WeekStartMattersWithInterval) {
    // RFC 5545's own example: WKST changes which weeks an INTERVAL=2 picks.
    auto mo = expand("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", lt(1997, 8, 5, 9));
    auto su = expand("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", lt(1997, 8, 5, 9));
    EXPECT_EQ(mo, (std::vector<LocalTime>{lt(1997, 8, 5, 9), lt(1997, 8, 10, 9), lt(1997, 8, 19, 9), lt(1997, 8, 24, 9)}));
    EXPECT_EQ(su, (std::vector<LocalTime>{lt(1997, 8, 5, 9), lt(1997, 8, 17, 9), lt(1997, 8, 19, 9), lt(1997, 8, 31, 9)}));
}

TEST(Repeat, MonthlyOnThe31stSkipsShortMonths) {
    auto v = expand("FREQ=MONTHLY;COUNT=4", lt(2027, 1, 31));
    std::vector<LocalTime> want = {lt(2027, 1, 31), lt(2027, 3, 31), lt(2027, 5, 31), lt(2027, 7, 31)};
    EXPECT_EQ(v, want);
    // The 29th of February: leap years only with INTERVAL=12.
    auto leap = expand("FREQ=MONTHLY;INTERVAL=12;COUNT=3", lt(2096, 2, 29));
    std::vector<LocalTime> want2 = {lt(2096, 2, 29), lt(2104, 2, 29), lt(2108, 2, 29)};
    EXPECT_EQ(leap, want2);
}

TEST(Repeat, MonthlyIntervalAcrossYears) {
    auto v = expand("FREQ=MONTHLY;INTERVAL=5;UNTIL=20281231", lt(2027, 10, 15));
    std::vector<LocalTime> want = {lt(2027, 10, 15), lt(2028, 3, 15), lt(2028, 8, 15)};
    EXPECT_EQ(v, want);
}

TEST(Repeat, LocalWallClockIsKeptAcrossDst) {
    // The core works in local time: 09:30 stays 09:30 on either side of a
    // DST change (the glue maps each to its own UTC offset).
    auto v = expand("FREQ=WEEKLY;COUNT=3", lt(2027, 3, 21, 9, 30));  // Berlin changes on 2027-03-28
    for (const auto& t : v) EXPECT_EQ(t.micros_of_day, (9 * 60LL + 30) * 60LL * 1000000LL);
    EXPECT_EQ(v[1], lt(2027, 3, 28, 9, 30));
}

TEST(Repeat, LimitStopsOneBeyond) {
    EXPECT_EQ(expand("FREQ=DAILY;UNTIL=20991231", lt(2027, 1, 1), 500).size(), 501u);
    EXPECT_EQ(expand("FREQ=DAILY;COUNT=500", lt(2027, 1, 1), 500).size(), 500u);
    EXPECT_EQ(sqlstate_of("FREQ=DAILY;COUNT=501"), "22023");
}

TEST(Repeat, EndsAtTheLastRepresentableYear) {
    auto v = expand("FREQ=MONTHLY;INTERVAL=1200;COUNT=10", lt(294000, 1, 1), 500);
    EXPECT_EQ(v.size(), 3u);  // 294000, 294100, 294200
}

TEST(Repeat, CaseAndPrefixAreAccepted) {
    EXPECT_EQ(expand("rrule:freq=weekly;byday=mo;count=2", lt(2027, 3, 1)).size(), 2u);
}

TEST(Repeat, BadRulesAre22023) {
    for (const char* r : {"", "FREQ=YEARLY;COUNT=2", "FREQ=DAILY", "FREQ=DAILY;COUNT=0", "FREQ=DAILY;COUNT=-1",
                          "FREQ=DAILY;COUNT=2;UNTIL=20270101", "FREQ=DAILY;INTERVAL=0;COUNT=2",
                          "FREQ=DAILY;BYDAY=MO;COUNT=2", "FREQ=WEEKLY;BYDAY=1MO;COUNT=2", "FREQ=WEEKLY;BYDAY=MO,MO;COUNT=2",
                          "FREQ=DAILY;COUNT=2;", "FREQ=DAILY;;COUNT=2", "FREQ=DAILY;FREQ=DAILY;COUNT=1",
                          "FREQ=DAILY;UNTIL=2027-01-01", "FREQ=DAILY;UNTIL=20270230", "FREQ=DAILY;UNTIL=20270101T250000",
                          "FREQ=DAILY;BYMONTH=1;COUNT=2", "COUNT=2", "FREQ=DAILY;COUNT=99999999999"})
        EXPECT_EQ(sqlstate_of(r), "22023") << r;
    EXPECT_EQ(sqlstate_of(std::string(2000, 'x')), "22023");
}

TEST(Repeat, ErrorNamesThePosition) {
    try {
        parse_repeat_rule("FREQ=DAILY;COUNT=2;BYSETPOS=1", 500);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("position 20"), std::string::npos) << e.what();
    }
}

TEST(Repeat, UntilInUtcIsFlagged) {
    auto r = parse_repeat_rule("FREQ=DAILY;UNTIL=20270101T120000Z", 500);
    EXPECT_TRUE(r.until_utc);
    EXPECT_EQ(r.until, lt(2027, 1, 1, 12));
}

// Europe/Berlin around 2027: CET +1, CEST +2 from 2027-03-28 01:00 UTC to
// 2027-10-31 01:00 UTC (as PostgreSQL's tz data says).
constexpr Micros H = 3600000000LL;
sched::Zone berlin_2027() {
    Micros spring = sched::civil_micros(2027, 3, 28, 1, 0), autumn = sched::civil_micros(2027, 10, 31, 1, 0);
    return sched::Zone{{sched::civil_micros(2026, 10, 25, 1, 0), spring, 1 * H},
                       {spring, autumn, 2 * H},
                       {autumn, sched::civil_micros(2028, 3, 26, 1, 0), 1 * H}};
}

std::vector<LocalTime> expand_in(const std::string& rule, const LocalTime& first, const sched::Zone& z,
                                 bool* beyond) {
    return expand_repeat_rule(parse_repeat_rule(rule, 500), first, 500, z, beyond);
}

TEST(RepeatInZone, SpringForwardGapIsSkippedAndNotCounted) {
    // 02:30 does not exist in Berlin on 2027-03-28 (02:00 -> 03:00): that
    // occurrence is skipped (API.md §10), and COUNT still gives 4 (RFC 5545
    // §3.3.10: such instances are not counted).
    bool beyond = true;
    auto v = expand_in("FREQ=DAILY;COUNT=4", lt(2027, 3, 26, 2, 30), berlin_2027(), &beyond);
    std::vector<LocalTime> want = {lt(2027, 3, 26, 2, 30), lt(2027, 3, 27, 2, 30), lt(2027, 3, 29, 2, 30),
                                   lt(2027, 3, 30, 2, 30)};
    EXPECT_EQ(v, want);
    EXPECT_FALSE(beyond);
    // With UNTIL the gap day is simply missing.
    auto u = expand_in("FREQ=DAILY;UNTIL=20270329T023000", lt(2027, 3, 27, 2, 30), berlin_2027(), &beyond);
    std::vector<LocalTime> want2 = {lt(2027, 3, 27, 2, 30), lt(2027, 3, 29, 2, 30)};
    EXPECT_EQ(u, want2);
}

TEST(RepeatInZone, WeeklyAcrossTheGap) {
    bool beyond = false;
    auto v = expand_in("FREQ=WEEKLY;COUNT=3", lt(2027, 3, 21, 2, 0), berlin_2027(), &beyond);
    std::vector<LocalTime> want = {lt(2027, 3, 21, 2, 0), lt(2027, 4, 4, 2, 0), lt(2027, 4, 11, 2, 0)};
    EXPECT_EQ(v, want);
    // 03:00 exists (the first instant after the gap): kept.
    auto w = expand_in("FREQ=WEEKLY;COUNT=2", lt(2027, 3, 21, 3, 0), berlin_2027(), &beyond);
    EXPECT_EQ(w[1], lt(2027, 3, 28, 3, 0));
}

TEST(RepeatInZone, RepeatedHourIsKept) {
    // 02:30 occurs twice on 2027-10-31: one occurrence, kept.
    bool beyond = false;
    auto v = expand_in("FREQ=DAILY;COUNT=3", lt(2027, 10, 30, 2, 30), berlin_2027(), &beyond);
    std::vector<LocalTime> want = {lt(2027, 10, 30, 2, 30), lt(2027, 10, 31, 2, 30), lt(2027, 11, 1, 2, 30)};
    EXPECT_EQ(v, want);
}

TEST(RepeatInZone, PastTheTableIsReported) {
    bool beyond = false;
    auto v = expand_in("FREQ=MONTHLY;COUNT=24", lt(2027, 1, 10, 2, 30), berlin_2027(), &beyond);
    EXPECT_EQ(v.size(), 24u);
    EXPECT_TRUE(beyond);  // the caller widens the table and expands again
    // UTC (no table): nothing skipped, nothing beyond.
    auto u = expand_in("FREQ=DAILY;COUNT=4", lt(2027, 3, 26, 2, 30), sched::Zone{}, &beyond);
    EXPECT_EQ(u.size(), 4u);
    EXPECT_EQ(u[2], lt(2027, 3, 28, 2, 30));
    EXPECT_FALSE(beyond);
}

}  // namespace
}  // namespace sg
