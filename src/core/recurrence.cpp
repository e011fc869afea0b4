#include "core/recurrence.hpp"

#include "core/error.hpp"

#include <cctype>
#include <tuple>

namespace sg {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int* y, int* m, int* d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t yy = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    *y = static_cast<int>(yy + (*m <= 2));
}

int weekday(std::int64_t days) {
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    std::int64_t w = (days + 3) % 7;
    return static_cast<int>(w < 0 ? w + 7 : w);
}

int days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2) return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28;
    return days[m - 1];
}

namespace {

constexpr int last_year = 294276;  // PostgreSQL's timestamps end at 294277-01-01
constexpr int max_rule_bytes = 1000;
constexpr int max_interval = 10000;

[[noreturn]] void bad(const std::string& what, std::size_t pos) {
    throw Error("22023", "invalid repeat rule: " + what + " at position " + std::to_string(pos + 1),
                {}, "Use the RFC 5545 subset FREQ=DAILY|WEEKLY|MONTHLY;INTERVAL=n;COUNT=n or UNTIL=yyyymmdd[Thhmmss[Z]];"
                    "BYDAY=MO,WE (weekly).");
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

int positive(const std::string& v, std::size_t pos, const char* name, long max) {
    if (v.empty() || v.size() > 9) bad(std::string(name) + " must be a positive integer", pos);
    long n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') bad(std::string(name) + " must be a positive integer", pos);
        n = n * 10 + (c - '0');
    }
    if (n < 1) bad(std::string(name) + " must be at least 1", pos);
    if (n > max) {
        if (std::string(name) == "COUNT")
            throw Error("22023", "a series may have at most " + std::to_string(max) + " occurrences, COUNT asks for " +
                                     std::to_string(n));
        bad(std::string(name) + " must be at most " + std::to_string(max), pos);
    }
    return static_cast<int>(n);
}

int day_code(const std::string& v, std::size_t pos) {
    static const char* names[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
    for (int i = 0; i < 7; ++i)
        if (v == names[i]) return i;
    bad("unknown weekday \"" + v + "\" (BYDAY takes MO TU WE TH FR SA SU, without ordinals)", pos);
}

int digits(const std::string& v, std::size_t from, std::size_t n) {
    int x = 0;
    for (std::size_t i = from; i < from + n; ++i) x = x * 10 + (v[i] - '0');
    return x;
}

LocalTime parse_until(const std::string& v, std::size_t pos, bool* utc) {
    // yyyymmdd | yyyymmddThhmmss | yyyymmddThhmmssZ
    bool ok = v.size() == 8 || v.size() == 15 || v.size() == 16;
    for (std::size_t i = 0; ok && i < v.size(); ++i) {
        if (i == 8) ok = v[i] == 'T';
        else if (i == 15) ok = v[i] == 'Z';
        else ok = v[i] >= '0' && v[i] <= '9';
    }
    if (!ok) bad("UNTIL must be yyyymmdd, yyyymmddThhmmss or yyyymmddThhmmssZ", pos);
    LocalTime t;
    t.year = digits(v, 0, 4);
    t.month = digits(v, 4, 2);
    t.day = digits(v, 6, 2);
    if (t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month))
        bad("UNTIL is not a date", pos);
    *utc = v.size() == 16;
    if (v.size() == 8) {
        t.micros_of_day = micros_per_day - 1;  // the whole day
    } else {
        int h = digits(v, 9, 2), mi = digits(v, 11, 2), s = digits(v, 13, 2);
        if (h > 23 || mi > 59 || s > 59) bad("UNTIL is not a time", pos);
        t.micros_of_day = ((h * 60LL + mi) * 60LL + s) * 1000000LL;
    }
    return t;
}

bool after(const LocalTime& a, const LocalTime& b) {
    return std::tie(a.year, a.month, a.day, a.micros_of_day) > std::tie(b.year, b.month, b.day, b.micros_of_day);
}

}  // namespace

RepeatRule parse_repeat_rule(const std::string& text, int max_count) {
    if (text.size() > static_cast<std::size_t>(max_rule_bytes))
        throw Error("22023", "invalid repeat rule: longer than " + std::to_string(max_rule_bytes) + " bytes");
    RepeatRule r;
    std::size_t start = 0;
    if (upper(text.substr(0, 6)) == "RRULE:") start = 6;
    bool seen_freq = false, seen_interval = false, seen_byday = false, seen_wkst = false;
    if (start >= text.size()) bad("FREQ is missing", start);
    while (start <= text.size()) {
        std::size_t end = text.find(';', start);
        if (end == std::string::npos) end = text.size();
        std::string part = text.substr(start, end - start);
        std::size_t eq = part.find('=');
        if (part.empty()) bad("empty part", start);
        if (eq == std::string::npos || eq == 0) bad("expected NAME=value", start);
        std::string key = upper(part.substr(0, eq));
        std::string value = part.substr(eq + 1);
        std::size_t vpos = start + eq + 1;
        if (key == "FREQ") {
            if (seen_freq) bad("FREQ given twice", start);
            seen_freq = true;
            std::string f = upper(value);
            if (f == "DAILY") r.freq = Frequency::Daily;
            else if (f == "WEEKLY") r.freq = Frequency::Weekly;
            else if (f == "MONTHLY") r.freq = Frequency::Monthly;
            else bad("FREQ must be DAILY, WEEKLY or MONTHLY", vpos);
        } else if (key == "INTERVAL") {
            if (seen_interval) bad("INTERVAL given twice", start);
            seen_interval = true;
            r.interval = positive(value, vpos, "INTERVAL", max_interval);
        } else if (key == "COUNT") {
            if (r.count != 0) bad("COUNT given twice", start);
            if (r.has_until) bad("COUNT and UNTIL together", start);
            r.count = positive(value, vpos, "COUNT", max_count);
        } else if (key == "UNTIL") {
            if (r.has_until) bad("UNTIL given twice", start);
            if (r.count != 0) bad("COUNT and UNTIL together", start);
            r.until = parse_until(value, vpos, &r.until_utc);
            r.has_until = true;
        } else if (key == "BYDAY") {
            if (seen_byday) bad("BYDAY given twice", start);
            seen_byday = true;
            std::string v = upper(value);
            std::size_t s = 0;
            for (;;) {
                std::size_t c = v.find(',', s);
                if (c == std::string::npos) c = v.size();
                unsigned bit = 1u << day_code(v.substr(s, c - s), vpos + s);
                if (r.byday & bit) bad("weekday listed twice in BYDAY", vpos + s);
                r.byday |= bit;
                if (c == v.size()) break;
                s = c + 1;
            }
        } else if (key == "WKST") {
            if (seen_wkst) bad("WKST given twice", start);
            seen_wkst = true;
            r.wkst = day_code(upper(value), vpos);
        } else {
            bad("unsupported part \"" + part.substr(0, eq) + "\"", start);
        }
        if (end == text.size()) break;
        start = end + 1;
        if (start == text.size()) bad("empty part", start);
    }
    if (!seen_freq) bad("FREQ is missing", 0);
    if (r.byday != 0 && r.freq != Frequency::Weekly) bad("BYDAY is supported with FREQ=WEEKLY only", 0);
    if (r.count == 0 && !r.has_until)
        throw Error("22023", "invalid repeat rule: COUNT or UNTIL is required",
                    "A series has at most " + std::to_string(max_count) + " occurrences.");
    return r;
}

Micros local_micros(const LocalTime& t) {
    return (days_from_civil(t.year, static_cast<unsigned>(t.month), static_cast<unsigned>(t.day)) -
            days_from_civil(2000, 1, 1)) *
               micros_per_day +
           t.micros_of_day;
}

bool local_time_exists(Micros local, const sched::Zone& zone, bool* beyond) {
    if (zone.empty()) return true;
    for (const sched::OffsetPiece& p : zone) {
        const Micros u = local - p.offset;
        if (u >= p.from && u < p.to) return true;
    }
    // Past the table's end (or before its start): not known to be a gap.
    if (local - zone.back().offset >= zone.back().to) {
        *beyond = true;
        return true;
    }
    return local - zone.front().offset < zone.front().from;
}

namespace {

// exists(t) false: t is skipped and not counted.
template <typename Exists>
std::vector<LocalTime> expand(const RepeatRule& r, const LocalTime& first, int limit, Exists exists) {
    std::vector<LocalTime> out;
    const std::size_t stop = r.count > 0 ? static_cast<std::size_t>(r.count) : static_cast<std::size_t>(limit) + 1;
    const std::size_t cap = std::min(stop, static_cast<std::size_t>(limit) + 1);
    // true: keep going
    auto emit = [&](const LocalTime& t) {
        if (r.has_until && after(t, r.until)) return false;
        if (!exists(t)) return true;
        out.push_back(t);
        return out.size() < cap;
    };
    out.push_back(first);  // always, even past UNTIL
    if (out.size() >= cap) return out;
    const std::int64_t first_day = days_from_civil(first.year, first.month, first.day);
    const std::int64_t last_day = days_from_civil(last_year, 12, 31);
    auto at = [&](std::int64_t day) {
        LocalTime t;
        civil_from_days(day, &t.year, &t.month, &t.day);
        t.micros_of_day = first.micros_of_day;
        return t;
    };
    const std::int64_t interval = r.interval;
    if (r.freq == Frequency::Daily || (r.freq == Frequency::Weekly && r.byday == 0)) {
        const std::int64_t step = r.freq == Frequency::Daily ? interval : 7 * interval;
        for (std::int64_t day = first_day + step; day <= last_day; day += step)
            if (!emit(at(day))) break;
    } else if (r.freq == Frequency::Weekly) {
        const std::int64_t week0 = first_day - (weekday(first_day) - r.wkst + 7) % 7;
        bool go = true;
        for (std::int64_t week = week0; go && week <= last_day; week += 7 * interval) {
            for (int d = 0; go && d < 7; ++d) {
                const std::int64_t day = week + d;
                if (day <= first_day || day > last_day) continue;
                if (!(r.byday & (1u << weekday(day)))) continue;
                go = emit(at(day));
            }
        }
    } else {
        // MONTHLY on first.day: months without that day are skipped (RFC 5545).
        std::int64_t month_index = static_cast<std::int64_t>(first.year) * 12 + (first.month - 1);
        for (month_index += interval;; month_index += interval) {
            int y = static_cast<int>(month_index / 12), m = static_cast<int>(month_index % 12) + 1;
            if (y > last_year) break;
            if (first.day > days_in_month(y, m)) continue;
            LocalTime t = first;
            t.year = y;
            t.month = m;
            if (!emit(t)) break;
        }
    }
    return out;
}

}  // namespace

std::vector<LocalTime> expand_repeat_rule(const RepeatRule& r, const LocalTime& first, int limit) {
    return expand(r, first, limit, [](const LocalTime&) { return true; });
}

std::vector<LocalTime> expand_repeat_rule(const RepeatRule& r, const LocalTime& first, int limit,
                                          const sched::Zone& zone, bool* beyond_zone) {
    *beyond_zone = false;
    return expand(r, first, limit,
                  [&](const LocalTime& t) { return local_time_exists(local_micros(t), zone, beyond_zone); });
}

}  // namespace sg
