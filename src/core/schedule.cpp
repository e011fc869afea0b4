#include "schedule.hpp"

#include <boost/icl/interval_set.hpp>
#include <boost/icl/right_open_interval.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

namespace sg {
namespace sched {

namespace icl = boost::icl;
using Set = icl::interval_set<Micros, std::less, icl::right_open_interval<Micros>>;

namespace {

std::int64_t floor_div(Micros a, Micros b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

Set to_set(const Intervals& v) {
    Set s;
    for (const Interval& i : v)
        if (i.lo < i.hi) s.add(icl::right_open_interval<Micros>(i.lo, i.hi));
    return s;
}

Intervals from_set(const Set& s) {
    Intervals out;
    out.reserve(icl::interval_count(s));
    for (const auto& i : s) out.push_back(Interval{icl::lower(i), icl::upper(i)});
    return out;
}

// --- opening_hours parser ---------------------------------------------------

const char* const day_names[7] = {"Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"};

struct Parser {
    const std::string& s;
    std::size_t i = 0;
    std::string error;
    std::size_t error_at = 0;

    explicit Parser(const std::string& text) : s(text) {}
    void skip_ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    }
    bool fail(const std::string& what, std::size_t at) {
        if (error.empty()) {
            error = what;
            error_at = at;
        }
        return false;
    }
    int day_at(std::size_t p) const {
        if (p + 2 > s.size()) return -1;
        for (int d = 0; d < 7; ++d)
            if (s.compare(p, 2, day_names[d]) == 0) return d;
        return -1;
    }
    bool digits2(int* v) {
        if (i + 2 > s.size() || !std::isdigit((unsigned char)s[i]) || !std::isdigit((unsigned char)s[i + 1]))
            return fail("expected two digits", i);
        *v = (s[i] - '0') * 10 + (s[i + 1] - '0');
        i += 2;
        return true;
    }
    // HH:MM, 00:00 .. 24:00
    bool time(int* minutes) {
        std::size_t at = i;
        int h, m;
        if (!digits2(&h)) return false;
        if (i >= s.size() || s[i] != ':') return fail("expected ':' in a time", i);
        ++i;
        if (!digits2(&m)) return false;
        if (m > 59 || h > 24 || (h == 24 && m != 0)) return fail("time out of range", at);
        *minutes = h * 60 + m;
        return true;
    }
    // Mo, Mo-Fr, lists of them separated by ','
    bool days(bool set[7]) {
        for (;;) {
            skip_ws();
            std::size_t at = i;
            int a = day_at(i);
            if (a < 0) return fail("expected a day (Mo Tu We Th Fr Sa Su)", at);
            i += 2;
            int b = a;
            if (i < s.size() && s[i] == '-') {
                ++i;
                b = day_at(i);
                if (b < 0) return fail("expected a day after '-'", i);
                i += 2;
            }
            for (int d = a;; d = (d + 1) % 7) {  // Fr-Mo wraps over the weekend
                set[d] = true;
                if (d == b) break;
            }
            skip_ws();
            if (i < s.size() && s[i] == ',' && day_at(i + 1 + (i + 1 < s.size() && s[i + 1] == ' ')) >= 0) {
                ++i;
                continue;
            }
            return true;
        }
    }
    // 09:00-12:00,13:00-17:00
    bool times(std::vector<std::pair<int, int>>* out) {
        for (;;) {
            skip_ws();
            std::size_t at = i;
            int a, b;
            if (!time(&a)) return false;
            if (i >= s.size() || s[i] != '-') return fail("expected '-' between two times", i);
            ++i;
            if (!time(&b)) return false;
            if (a == b) return fail("a span must not be empty", at);
            if (a == 1440) return fail("a span cannot open at 24:00", at);
            out->push_back({a, b == 1440 ? 1440 : b});
            skip_ws();
            if (i < s.size() && s[i] == ',') {
                ++i;
                continue;
            }
            return true;
        }
    }
};

}  // namespace

ParsedHours parse_opening_hours(const std::string& text) {
    ParsedHours r;
    std::vector<std::pair<int, int>> week[7];
    Parser p(text);
    if (text.size() > 10000) {
        r.error = "opening hours text too long";
        r.error_pos = 10001;
        return r;
    }
    bool any_rule = false;
    for (;;) {
        p.skip_ws();
        if (p.i >= text.size()) {
            if (!any_rule) {
                r.error = "no rule";
                r.error_pos = (int)p.i + 1;
                return r;
            }
            break;
        }
        std::size_t rule_at = p.i;
        bool set[7] = {false, false, false, false, false, false, false};
        std::vector<std::pair<int, int>> spans;
        bool ok = true;
        if (text.compare(p.i, 4, "24/7") == 0) {
            p.i += 4;
            for (bool& d : set) d = true;
            spans.push_back({0, 1440});
        } else {
            if (p.day_at(p.i) >= 0) {
                ok = p.days(set);
                p.skip_ws();
            } else {
                for (bool& d : set) d = true;
            }
            if (ok) {
                if (text.compare(p.i, 3, "off") == 0 || text.compare(p.i, 6, "closed") == 0) {
                    p.i += text.compare(p.i, 3, "off") == 0 ? 3 : 6;
                } else if (p.i < text.size() && std::isdigit((unsigned char)text[p.i])) {
                    ok = p.times(&spans);
                } else {
                    ok = p.fail("expected a time span or 'off'", p.i);
                }
            }
        }
        if (!ok) {
            r.error = p.error;
            r.error_pos = (int)p.error_at + 1;
            return r;
        }
        (void)rule_at;
        for (int d = 0; d < 7; ++d)
            if (set[d]) week[d] = spans;
        any_rule = true;
        p.skip_ws();
        if (p.i >= text.size()) break;
        if (text[p.i] != ';') {
            r.error = "expected ';' between rules";
            r.error_pos = (int)p.i + 1;
            return r;
        }
        ++p.i;
    }
    for (int d = 0; d < 7; ++d) {
        std::sort(week[d].begin(), week[d].end());
        for (const auto& sp : week[d]) r.spans.push_back(WeeklySpan{d + 1, sp.first, sp.second});
    }
    r.ok = true;
    return r;
}

std::string format_opening_hours(const std::vector<WeeklySpan>& spans) {
    std::string out;
    char buf[32];
    int last_day = 0;
    for (const WeeklySpan& w : spans) {
        if (w.isodow != last_day) {
            if (!out.empty()) out += "; ";
            out += day_names[w.isodow - 1];
            out += ' ';
            last_day = w.isodow;
        } else {
            out += ',';
        }
        std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", w.opens / 60, w.opens % 60, w.closes / 60,
                      w.closes % 60);
        out += buf;
    }
    return out;
}

// --- zones ------------------------------------------------------------------

namespace {
const OffsetPiece* piece_at(Micros utc, const Zone& zone) {
    if (zone.empty()) return nullptr;
    if (utc < zone.front().from) return &zone.front();
    for (const OffsetPiece& p : zone)
        if (utc < p.to) return &p;
    return &zone.back();
}
}  // namespace

Micros to_local(Micros utc, const Zone& zone) {
    const OffsetPiece* p = piece_at(utc, zone);
    return p ? utc + p->offset : utc;
}

Micros to_utc(Micros local, const Zone& zone) {
    if (zone.empty()) return local;
    // The earliest piece in which this local time occurs.
    for (const OffsetPiece& p : zone) {
        Micros u = local - p.offset;
        if (u >= p.from && u < p.to) return u;
    }
    // A gap: read with the offset before it (the piece that ends before).
    const OffsetPiece* before = &zone.front();
    for (const OffsetPiece& p : zone) {
        if (p.from + p.offset > local) break;
        before = &p;
    }
    return local - before->offset;
}

std::int64_t local_day(Micros utc, const Zone& zone) { return floor_div(to_local(utc, zone), usecs_per_day); }

std::vector<bool> day_has_room(const std::vector<Micros>& booked, const std::vector<Micros>& slots,
                               const Zone& zone, int limit) {
    std::map<std::int64_t, int> per_day;
    for (Micros b : booked) ++per_day[local_day(b, zone)];
    std::vector<bool> room(slots.size());
    for (std::size_t i = 0; i < slots.size(); ++i) {
        auto it = per_day.find(local_day(slots[i], zone));
        room[i] = (it == per_day.end() ? 0 : it->second) < limit;
    }
    return room;
}

int isodow_of_day(std::int64_t day) {
    // Day 0 (2000-01-01) was a Saturday (isodow 6).
    std::int64_t m = (day + 5) % 7;
    if (m < 0) m += 7;
    return (int)m + 1;
}

// --- interval sets ------------------------------------------------------------

Intervals merged(Intervals v) { return from_set(to_set(v)); }
Intervals unite(const Intervals& a, const Intervals& b) {
    Set s = to_set(a);
    s += to_set(b);
    return from_set(s);
}
Intervals subtract(const Intervals& a, const Intervals& b) {
    Set s = to_set(a);
    s -= to_set(b);
    return from_set(s);
}
Intervals clip(const Intervals& a, Micros lo, Micros hi) {
    Intervals out;
    for (const Interval& i : a) {
        Micros l = std::max(i.lo, lo), h = std::min(i.hi, hi);
        if (l < h) out.push_back(Interval{l, h});
    }
    return out;
}
bool covers(const Intervals& a, Micros lo, Micros hi) {
    if (lo >= hi) return true;
    for (const Interval& i : a)
        if (i.lo <= lo && hi <= i.hi) return true;
    return false;
}
bool touches(const Intervals& a, Micros lo, Micros hi) {
    for (const Interval& i : a)
        if (i.lo < hi && lo < i.hi) return true;
    return false;
}

Intervals local_to_utc(const Intervals& local, const Zone& zone, Micros from, Micros to) {
    Set s;
    if (zone.empty()) {
        for (const Interval& l : local) {
            Micros a = std::max(l.lo, from), b = std::min(l.hi, to);
            if (a < b) s.add(icl::right_open_interval<Micros>(a, b));
        }
        return from_set(s);
    }
    for (const OffsetPiece& p : zone) {
        Micros pf = std::max(p.from, from), pt = std::min(p.to, to);
        if (pf >= pt) continue;
        for (const Interval& l : local) {
            Micros a = std::max(pf, l.lo - p.offset), b = std::min(pt, l.hi - p.offset);
            if (a < b) s.add(icl::right_open_interval<Micros>(a, b));
        }
    }
    return from_set(s);
}

Intervals expand_weekly(const std::vector<WeeklySpan>& spans, const Zone& zone, Micros from, Micros to) {
    if (from >= to || spans.empty()) return {};
    // Local days whose spans can reach [from, to): offsets stay within a day.
    Micros lo_off = 0, hi_off = 0;
    for (const OffsetPiece& p : zone) {
        lo_off = std::min(lo_off, p.offset);
        hi_off = std::max(hi_off, p.offset);
    }
    std::int64_t d1 = floor_div(from + lo_off, usecs_per_day) - 1;
    std::int64_t d2 = floor_div(to + hi_off, usecs_per_day) + 1;
    Intervals local;
    for (std::int64_t d = d1; d <= d2; ++d) {
        int dow = isodow_of_day(d);
        Micros base = d * usecs_per_day;
        for (const WeeklySpan& w : spans) {
            if (w.isodow != dow) continue;
            Micros a = base + w.opens * usecs_per_minute;
            Micros b = base + w.closes * usecs_per_minute;
            if (w.closes <= w.opens) b += usecs_per_day;  // past midnight
            local.push_back(Interval{a, b});
        }
    }
    return local_to_utc(merged(local), zone, from, to);
}

Intervals day_in_utc(std::int64_t day, const Zone& zone, Micros from, Micros to) {
    Intervals local{Interval{day * usecs_per_day, (day + 1) * usecs_per_day}};
    return local_to_utc(local, zone, from, to);
}

// --- rules ----------------------------------------------------------------------

namespace {
Intervals kind_of(const std::vector<Exception>& ex, ExceptionKind k) {
    Intervals v;
    for (const Exception& e : ex)
        if (e.kind == k) v.push_back(Interval{e.lo, e.hi});
    return v;
}
}  // namespace

Intervals opening(const Policy& p, const Zone& zone, const std::vector<Exception>& ex, Micros from, Micros to) {
    if (from >= to) return {};
    Intervals open = p.has_hours ? expand_weekly(p.hours, zone, from, to) : Intervals{Interval{from, to}};
    open = unite(open, clip(merged(kind_of(ex, ExceptionKind::Opening)), from, to));
    open = subtract(open, kind_of(ex, ExceptionKind::Closure));
    open = subtract(open, kind_of(ex, ExceptionKind::Busy));
    return open;
}

Intervals closed_time(const Policy& p, const Zone& zone, const std::vector<Exception>& ex, Micros from, Micros to) {
    return subtract(Intervals{Interval{from, to}}, opening(p, zone, ex, from, to));
}

RuleVerdict check_rules(const Policy& p, const Zone& zone, const std::vector<Exception>& ex, Micros lo, Micros hi,
                        Micros blo, Micros bhi, Micros now) {
    RuleVerdict v;
    Micros len = hi - lo;
    if ((p.has_min_duration && len < p.min_duration) || (p.has_max_duration && len > p.max_duration)) {
        v.rule = RuleBroken::Duration;
        return v;
    }
    // Overflow-safe: compare differences.
    if (p.has_min_notice && (lo < now || (__int128)lo - now < p.min_notice)) {
        v.rule = RuleBroken::MinNotice;
        return v;
    }
    if (p.has_max_advance && (__int128)lo - now > p.max_advance) {
        v.rule = RuleBroken::MaxAdvance;
        return v;
    }
    for (const Exception& e : ex)
        if (e.kind == ExceptionKind::Closure && e.lo < hi && lo < e.hi) {
            v.rule = RuleBroken::Closed;
            v.tag = e.tag;
            return v;
        }
    for (const Exception& e : ex)
        if (e.kind == ExceptionKind::Busy && e.lo < bhi && blo < e.hi) {
            v.rule = RuleBroken::Busy;
            v.tag = e.tag;
            return v;
        }
    if (p.has_hours) {
        Intervals open = unite(expand_weekly(p.hours, zone, lo, hi), merged(kind_of(ex, ExceptionKind::Opening)));
        if (!covers(open, lo, hi)) v.rule = RuleBroken::Outside;
    }
    return v;
}

// --- local grid -------------------------------------------------------------------

namespace {
// Howard Hinnant's civil calendar algorithms, on days since 2000-01-01.
constexpr std::int64_t epoch_shift = 10957;  // 1970-01-01 .. 2000-01-01
void civil(std::int64_t day, std::int64_t* y, int* m, int* d) {
    std::int64_t z = day + epoch_shift + 719468;
    std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    std::int64_t doe = z - era * 146097;
    std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    std::int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}
std::int64_t days_of(std::int64_t y, int m, int d) {
    y -= m <= 2;
    std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    std::int64_t yoe = y - era * 400;
    std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 - epoch_shift;
}
int month_days(std::int64_t y, int m) {
    static const int n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : n[m - 1];
}
Micros add_local(Micros local, std::int64_t months, std::int64_t days) {
    std::int64_t day = floor_div(local, usecs_per_day);
    Micros tod = local - day * usecs_per_day;
    if (months != 0) {
        std::int64_t y;
        int m, d;
        civil(day, &y, &m, &d);
        std::int64_t mm = (std::int64_t)(m - 1) + months;
        y += floor_div(mm, 12);
        m = (int)(mm - floor_div(mm, 12) * 12) + 1;
        d = std::min(d, month_days(y, m));
        day = days_of(y, m, d);
    }
    return (day + days) * usecs_per_day + tod;
}
}  // namespace

Micros civil_micros(std::int64_t y, int m, int d, int hour, int minute) {
    return days_of(y, m, d) * usecs_per_day + (Micros)(hour * 60 + minute) * usecs_per_minute;
}

std::vector<Micros> local_grid(Micros lo, Micros hi, Micros duration, int months, int days, Micros us,
                               const Zone& zone, std::size_t limit) {
    std::vector<Micros> out;
    if (duration <= 0 || (months <= 0 && days <= 0 && us <= 0)) return out;
    Micros local0 = to_local(lo, zone);
    for (std::int64_t k = 0; out.size() < limit; ++k) {
        Micros t;
        if (months == 0 && days == 0) {
            t = lo + k * us;
        } else {
            t = to_utc(add_local(local0, k * months, k * days), zone) + k * us;
        }
        if (t < lo) continue;
        if (t > hi - duration) break;
        out.push_back(t);
    }
    return out;
}

}  // namespace sched
}  // namespace sg
