// Time points on a doubled microsecond grid, so that every tstzrange bound
// style ('[', '(', ']', ')') maps exactly onto a half-open integer interval.
//
//   lower '[' t  ->  2t        lower '(' t  ->  2t + 1
//   upper ')' t  ->  2t        upper ']' t  ->  2t + 1
//
// Two ranges overlap in PostgreSQL's && sense exactly when their encoded
// half-open spans [lo, hi) intersect.
//
// Points are 128-bit: every int64 instant doubles (plus one) without
// overflow, and a span widened by any two int64 buffers stays exact, so no
// valid timestamptz (4713 BC .. 294276 AD) leaves the grid. A stored Point
// is two int64 words (aligned to 8, so spans can live in the glue's palloc'd
// arrays, which are aligned for int64 only); all arithmetic and comparison
// happens on Wide values, which it converts to and from implicitly. (An
// __int128 member itself would be assumed 16-byte aligned by the compiler.)
#pragma once
#include "no_postgres.hpp"

#include <cstdint>

namespace sg {

using Micros = std::int64_t;  // microseconds, PostgreSQL TimestampTz units
using Wide = __int128;        // the grid's arithmetic type

// A point on the doubled grid, as stored.
class Point {
public:
    constexpr Point() = default;
    constexpr Point(Wide v) : low_(std::uint64_t(v)), high_(std::int64_t(v >> 64)) {}
    constexpr operator Wide() const {
        return Wide((static_cast<unsigned __int128>(std::uint64_t(high_)) << 64) | low_);
    }

private:
    std::uint64_t low_ = 0;
    std::int64_t high_ = 0;
};

struct Span {
    Point lo = 0;  // inclusive
    Point hi = 0;  // exclusive
    bool empty() const { return hi <= lo; }
    bool overlaps(const Span& o) const { return lo < o.hi && o.lo < hi; }
    bool contains(const Span& o) const { return lo <= o.lo && o.hi <= hi; }
    bool operator==(const Span& o) const { return lo == o.lo && hi == o.hi; }
};

static_assert(alignof(Span) <= 8, "spans must fit memory aligned for int64");

inline Point lower_point(Micros t, bool inclusive) { return inclusive ? 2 * Wide(t) : 2 * Wide(t) + 1; }
inline Point upper_point(Micros t, bool inclusive) { return inclusive ? 2 * Wide(t) + 1 : 2 * Wide(t); }

// Decoding back to a PostgreSQL bound: the instant and whether it is inclusive.
struct Bound {
    Micros t;
    bool inclusive;
};
// Only for points of instants in the int64 range (what lower_point and
// upper_point make, shifted by whole steps that stay in it).
inline Bound decode_lower(Point p) {
    return (p % 2 == 0) ? Bound{Micros(p / 2), true} : Bound{Micros((p - 1) / 2), false};
}
inline Bound decode_upper(Point p) {
    return (p % 2 == 0) ? Bound{Micros(p / 2), false} : Bound{Micros((p - 1) / 2), true};
}

inline Span make_span(Micros lower, bool lower_inc, Micros upper, bool upper_inc) {
    return Span{lower_point(lower, lower_inc), upper_point(upper, upper_inc)};
}

// Length in doubled units of a duration in microseconds.
inline Point grid_length(Micros d) { return 2 * Wide(d); }

// The range a booking blocks: its span widened by the resource's buffers
// (absolute durations; a buffer keeps the bound style of the side it widens).
inline Span widen(const Span& s, Micros before, Micros after) {
    return Span{s.lo - grid_length(before), s.hi + grid_length(after)};
}

}  // namespace sg
