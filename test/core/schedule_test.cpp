#include "core/schedule.hpp"

#include <gtest/gtest.h>

namespace sg {
namespace sched {

void PrintTo(const Interval& i, std::ostream* os) { *os << "[" << i.lo << "," << i.hi << ")"; }

namespace {

constexpr Micros H = 3600000000LL;
Micros at(int y, int m, int d, int h, int mi = 0) { return civil_micros(y, m, d, h, mi); }

// Europe/Berlin around 2026: CET +1, CEST +2 from 2026-03-29 01:00 UTC to
// 2026-10-25 01:00 UTC (as PostgreSQL's tz data says).
Zone berlin() {
    Micros spring = at(2026, 3, 29, 1), autumn = at(2026, 10, 25, 1);
    return Zone{{at(2025, 10, 26, 1), spring, 1 * H}, {spring, autumn, 2 * H}, {autumn, at(2027, 3, 28, 1), 1 * H}};
}
// America/New_York: EST -5, EDT -4 from 2026-03-08 07:00 UTC to 2026-11-01 06:00 UTC.
Zone new_york() {
    Micros spring = at(2026, 3, 8, 7), autumn = at(2026, 11, 1, 6);
    return Zone{{at(2025, 11, 2, 6), spring, -5 * H}, {spring, autumn, -4 * H}, {autumn, at(2027, 3, 14, 7), -5 * H}};
}
// Australia/Adelaide: ACDT +10:30 until 2026-04-04 16:30 UTC, ACST +9:30,
// ACDT again from 2026-10-03 16:30 UTC.
Zone adelaide() {
    Micros autumn = at(2026, 4, 4, 16, 30), spring = at(2026, 10, 3, 16, 30);
    return Zone{{at(2025, 10, 4, 16, 30), autumn, 10 * H + H / 2},
                {autumn, spring, 9 * H + H / 2},
                {spring, at(2027, 4, 3, 16, 30), 10 * H + H / 2}};
}

ParsedHours parse(const char* s) { return parse_opening_hours(s); }

TEST(OpeningHours, WeekdaysWithLunchBreakAndSaturday) {
    ParsedHours p = parse("Mo-Fr 09:00-12:00,13:00-17:00; Sa 10:00-14:00");
    ASSERT_TRUE(p.ok) << p.error;
    ASSERT_EQ(p.spans.size(), 11u);
    EXPECT_EQ(p.spans[0], (WeeklySpan{1, 540, 720}));
    EXPECT_EQ(p.spans[1], (WeeklySpan{1, 780, 1020}));
    EXPECT_EQ(p.spans[10], (WeeklySpan{6, 600, 840}));
    EXPECT_EQ(format_opening_hours(p.spans).substr(0, 28), "Mo 09:00-12:00,13:00-17:00; ");
}

TEST(OpeningHours, ListsWrapAroundOffAnd247) {
    ParsedHours p = parse("Mo,We,Fr 08:00-10:00");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.spans.size(), 3u);
    p = parse("Sa-Mo 10:00-11:00");
    ASSERT_TRUE(p.ok);
    ASSERT_EQ(p.spans.size(), 3u);
    EXPECT_EQ(p.spans[0].isodow, 1);
    EXPECT_EQ(p.spans[2].isodow, 7);
    p = parse("24/7; Su off");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.spans.size(), 6u);
    EXPECT_EQ(p.spans[0], (WeeklySpan{1, 0, 1440}));
    p = parse("Mo-Fr 08:00-18:00; We 08:00-12:00");  // a later rule replaces a day
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.spans[2], (WeeklySpan{3, 480, 720}));
    p = parse("Fr 22:00-02:00");
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.spans[0], (WeeklySpan{5, 1320, 120}));
}

TEST(OpeningHours, ErrorsNameThePosition) {
    ParsedHours p = parse("Mo-Fr 09:00-12:00; Xx 10:00-11:00");
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error_pos, 20);
    p = parse("Mo 25:00-26:00");
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error_pos, 4);
    p = parse("Mo 09:00-09:00");
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error_pos, 4);
    p = parse("Mo 09:00 12:00");
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error_pos, 9);
    p = parse("Mo 09:00-12:00 Tu");
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error_pos, 16);
    p = parse("Mo-");
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error_pos, 4);
    p = parse("Mo 9:00-12:00");
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error_pos, 4);
    EXPECT_FALSE(parse("  ").ok);
    EXPECT_FALSE(parse("Mo 09:60-10:00").ok);
    EXPECT_FALSE(parse("Mo 24:00-02:00").ok);
}

TEST(Zone, WeekdaysInBerlinWinterAndSummer) {
    ParsedHours p = parse("Mo-Fr 09:00-17:00");
    ASSERT_TRUE(p.ok);
    // Monday 2026-01-12: 08:00-16:00 UTC; Monday 2026-07-13: 07:00-15:00 UTC.
    Intervals jan = expand_weekly(p.spans, berlin(), at(2026, 1, 12, 0), at(2026, 1, 13, 0));
    EXPECT_EQ(jan, (Intervals{{at(2026, 1, 12, 8), at(2026, 1, 12, 16)}}));
    Intervals jul = expand_weekly(p.spans, berlin(), at(2026, 7, 13, 0), at(2026, 7, 13, 23));
    EXPECT_EQ(jul, (Intervals{{at(2026, 7, 13, 7), at(2026, 7, 13, 15)}}));
    // A whole week: five spans, weekend closed.
    EXPECT_EQ(expand_weekly(p.spans, berlin(), at(2026, 1, 10, 0), at(2026, 1, 17, 0)).size(), 5u);
}

TEST(Zone, SpringForwardSkipsTheMissingHour) {
    // Sunday 2026-03-29 in Berlin: 02:00-03:00 local does not exist.
    ParsedHours p = parse("Su 01:00-04:00");
    Intervals v = expand_weekly(p.spans, berlin(), at(2026, 3, 28, 0), at(2026, 3, 30, 0));
    // 01:00 CET = 00:00 UTC .. 04:00 CEST = 02:00 UTC: two real hours.
    EXPECT_EQ(v, (Intervals{{at(2026, 3, 29, 0), at(2026, 3, 29, 2)}}));
    p = parse("Su 02:00-03:00");
    EXPECT_TRUE(expand_weekly(p.spans, berlin(), at(2026, 3, 28, 0), at(2026, 3, 30, 0)).empty());
    // PostgreSQL reads 02:30 as 03:30 CEST (01:30 UTC).
    EXPECT_EQ(to_utc(at(2026, 3, 29, 2, 30), berlin()), at(2026, 3, 29, 1, 30));
}

TEST(Zone, FallBackCountsTheRepeatedHourTwice) {
    // Sunday 2026-10-25 in Berlin: 02:00-03:00 local happens twice.
    ParsedHours p = parse("Su 02:00-03:00");
    Intervals v = expand_weekly(p.spans, berlin(), at(2026, 10, 24, 0), at(2026, 10, 26, 0));
    // 02:00 CEST = 00:00 UTC .. 03:00 CET = 02:00 UTC: both passes, merged.
    EXPECT_EQ(v, (Intervals{{at(2026, 10, 25, 0), at(2026, 10, 25, 2)}}));
    // The earlier of the two readings.
    EXPECT_EQ(to_utc(at(2026, 10, 25, 2, 30), berlin()), at(2026, 10, 25, 0, 30));
    // That local day has 25 hours.
    Intervals day = day_in_utc(local_day(at(2026, 10, 25, 12), berlin()), berlin(), at(2026, 10, 20, 0),
                               at(2026, 10, 30, 0));
    ASSERT_EQ(day.size(), 1u);
    EXPECT_EQ(day[0].hi - day[0].lo, 25 * H);
}

TEST(Zone, NewYorkAndAdelaide) {
    ParsedHours p = parse("Mo 09:00-17:00");
    // Monday 2026-03-02 (EST) and 2026-03-09 (EDT, the day after the change).
    EXPECT_EQ(expand_weekly(p.spans, new_york(), at(2026, 3, 2, 0), at(2026, 3, 3, 0)),
              (Intervals{{at(2026, 3, 2, 14), at(2026, 3, 2, 22)}}));
    EXPECT_EQ(expand_weekly(p.spans, new_york(), at(2026, 3, 9, 0), at(2026, 3, 10, 0)),
              (Intervals{{at(2026, 3, 9, 13), at(2026, 3, 9, 21)}}));
    // Adelaide, half-hour offsets: Monday 2026-03-30 (ACDT +10:30) 09:00
    // local = Sunday 22:30 UTC; 2026-04-06 (ACST +9:30) = Sunday 23:30 UTC.
    EXPECT_EQ(expand_weekly(p.spans, adelaide(), at(2026, 3, 29, 0), at(2026, 3, 31, 0)),
              (Intervals{{at(2026, 3, 29, 22, 30), at(2026, 3, 30, 6, 30)}}));
    EXPECT_EQ(expand_weekly(p.spans, adelaide(), at(2026, 4, 5, 0), at(2026, 4, 7, 0)),
              (Intervals{{at(2026, 4, 5, 23, 30), at(2026, 4, 6, 7, 30)}}));
    // Adelaide falls back at 03:00 ACDT on 2026-04-05: 02:00-03:00 twice.
    p = parse("Su 02:00-03:00");
    Intervals v = expand_weekly(p.spans, adelaide(), at(2026, 4, 4, 0), at(2026, 4, 6, 0));
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].hi - v[0].lo, 2 * H);
}

TEST(Zone, OvernightSpansCrossMidnightAndWeekEnd) {
    ParsedHours p = parse("Su 22:00-02:00");
    // Sunday 2026-01-11 22:00 CET .. Monday 02:00 CET.
    Intervals v = expand_weekly(p.spans, berlin(), at(2026, 1, 11, 0), at(2026, 1, 13, 0));
    EXPECT_EQ(v, (Intervals{{at(2026, 1, 11, 21), at(2026, 1, 12, 1)}}));
    // A window starting Monday 00:00 local still sees the tail.
    v = expand_weekly(p.spans, berlin(), at(2026, 1, 11, 23), at(2026, 1, 12, 12));
    EXPECT_EQ(v, (Intervals{{at(2026, 1, 11, 23), at(2026, 1, 12, 1)}}));
    // 24/7 is one span.
    p = parse("24/7");
    EXPECT_EQ(expand_weekly(p.spans, berlin(), at(2026, 1, 1, 0), at(2026, 2, 1, 0)).size(), 1u);
}

TEST(Rules, OpeningSubtractsClosuresAndBusyAndAddsOpenings) {
    Policy pol;
    pol.has_hours = true;
    pol.hours = parse("Mo-Fr 09:00-17:00").spans;
    std::vector<Exception> ex{{ExceptionKind::Closure, at(2026, 1, 12, 0), at(2026, 1, 13, 0), 0},
                              {ExceptionKind::Busy, at(2026, 1, 13, 10), at(2026, 1, 13, 11), 1},
                              {ExceptionKind::Opening, at(2026, 1, 17, 9), at(2026, 1, 17, 12), 2}};
    Intervals o = opening(pol, berlin(), ex, at(2026, 1, 12, 0), at(2026, 1, 18, 0));
    ASSERT_EQ(o.size(), 6u);  // Tu (split by busy) 2, We, Th, Fr, Sa opening
    EXPECT_EQ(o[0], (Interval{at(2026, 1, 13, 8), at(2026, 1, 13, 10)}));
    EXPECT_EQ(o[5], (Interval{at(2026, 1, 17, 9), at(2026, 1, 17, 12)}));
    Intervals c = closed_time(pol, berlin(), ex, at(2026, 1, 13, 0), at(2026, 1, 14, 0));
    EXPECT_EQ(c.size(), 3u);
}

TEST(Rules, EachRuleIsNamed) {
    Policy pol;
    pol.has_hours = true;
    pol.hours = parse("Mo-Fr 09:00-17:00").spans;
    pol.has_min_notice = true;
    pol.min_notice = 24 * H;
    pol.has_max_advance = true;
    pol.max_advance = 30 * 24 * H;
    pol.has_max_duration = true;
    pol.max_duration = 2 * H;
    std::vector<Exception> ex{{ExceptionKind::Closure, at(2026, 1, 14, 0), at(2026, 1, 15, 0), 7},
                              {ExceptionKind::Busy, at(2026, 1, 13, 10), at(2026, 1, 13, 11), 8}};
    Micros now = at(2026, 1, 10, 12);
    auto check = [&](Micros lo, Micros hi, Micros before = 0, Micros after = 0) {
        return check_rules(pol, berlin(), ex, lo, hi, lo - before, hi + after, now);
    };
    EXPECT_EQ(check(at(2026, 1, 12, 8), at(2026, 1, 12, 9)).rule, RuleBroken::None);
    EXPECT_EQ(check(at(2026, 1, 12, 7), at(2026, 1, 12, 9)).rule, RuleBroken::Outside);
    EXPECT_EQ(check(at(2026, 1, 12, 8), at(2026, 1, 12, 11)).rule, RuleBroken::Duration);
    EXPECT_EQ(check(at(2026, 1, 10, 13), at(2026, 1, 10, 14)).rule, RuleBroken::MinNotice);
    EXPECT_EQ(check(at(2026, 3, 2, 8), at(2026, 3, 2, 9)).rule, RuleBroken::MaxAdvance);
    RuleVerdict v = check(at(2026, 1, 14, 8), at(2026, 1, 14, 9));
    EXPECT_EQ(v.rule, RuleBroken::Closed);
    EXPECT_EQ(v.tag, 7);
    // Busy time counts against the buffered range.
    EXPECT_EQ(check(at(2026, 1, 13, 11), at(2026, 1, 13, 12)).rule, RuleBroken::None);
    v = check(at(2026, 1, 13, 11), at(2026, 1, 13, 12), H / 2);
    EXPECT_EQ(v.rule, RuleBroken::Busy);
    EXPECT_EQ(v.tag, 8);
}

TEST(Grid, OneDayStepKeepsTheLocalHourAcrossDst) {
    // Daily at 09:00 Berlin from Friday 2026-03-27: 08:00 UTC, then 07:00 UTC.
    std::vector<Micros> g = local_grid(at(2026, 3, 27, 8), at(2026, 3, 31, 0), H, 0, 1, 0, berlin(), 10);
    ASSERT_EQ(g.size(), 4u);
    EXPECT_EQ(g[0], at(2026, 3, 27, 8));
    EXPECT_EQ(g[1], at(2026, 3, 28, 8));
    EXPECT_EQ(g[2], at(2026, 3, 29, 7));
    EXPECT_EQ(g[3], at(2026, 3, 30, 7));
    // A plain time step stays absolute.
    g = local_grid(at(2026, 3, 29, 0), at(2026, 3, 29, 3), H, 0, 0, H, berlin(), 10);
    EXPECT_EQ(g.size(), 3u);
    // Months clamp to the month's end.
    g = local_grid(at(2026, 1, 31, 8), at(2026, 4, 1, 0), H, 1, 0, 0, berlin(), 10);
    ASSERT_EQ(g.size(), 3u);
    EXPECT_EQ(g[1], at(2026, 2, 28, 8));
}

TEST(Calendar, DaysAndWeekdays) {
    EXPECT_EQ(isodow_of_day(0), 6);  // 2000-01-01 was a Saturday
    EXPECT_EQ(isodow_of_day(-1), 5);
    EXPECT_EQ(isodow_of_day(local_day(at(2026, 1, 12, 12), berlin())), 1);
    // 23:30 UTC on Sunday is already Monday in Berlin.
    EXPECT_EQ(isodow_of_day(local_day(at(2026, 1, 11, 23, 30), berlin())), 1);
}

TEST(DayLimit, FullLocalDaysOfferNoRoom) {
    // Two bookings on Berlin's 2026-03-29 (the spring-forward day): one at
    // 23:30 UTC on the 28th (00:30 local on the 29th) and one at noon.
    std::vector<Micros> booked = {at(2026, 3, 28, 23, 30), at(2026, 3, 29, 10)};
    std::vector<Micros> slots = {at(2026, 3, 28, 22, 30),  // 23:30 local on the 28th
                                 at(2026, 3, 29, 14), at(2026, 3, 29, 22),  // 00:00 local on the 30th
                                 at(2026, 3, 30, 8)};
    std::vector<bool> two = day_has_room(booked, slots, berlin(), 2);
    EXPECT_EQ(two, (std::vector<bool>{true, false, true, true}));
    std::vector<bool> three = day_has_room(booked, slots, berlin(), 3);
    EXPECT_EQ(three, (std::vector<bool>{true, true, true, true}));
    // In UTC the first booking is on the 28th.
    std::vector<bool> utc = day_has_room(booked, slots, Zone{}, 1);
    EXPECT_EQ(utc, (std::vector<bool>{false, false, false, true}));
}

}  // namespace
}  // namespace sched
}  // namespace sg
