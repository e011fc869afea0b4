// Time points on a doubled microsecond grid, so that every tstzrange bound
// style ('[', '(', ']', ')') maps exactly onto a half-open integer interval.
//
//   lower '[' t  ->  2t        lower '(' t  ->  2t + 1
//   upper ')' t  ->  2t        upper ']' t  ->  2t + 1
//
// Two ranges overlap in PostgreSQL's && sense exactly when their encoded
// half-open spans [lo, hi) intersect.
#pragma once
#include "no_postgres.hpp"

#include <cstdint>

namespace sg {

using Micros = std::int64_t;  // microseconds, PostgreSQL TimestampTz units
using Point = std::int64_t;   // a point on the doubled grid

struct Span {
    Point lo = 0;  // inclusive
    Point hi = 0;  // exclusive
    bool empty() const { return hi <= lo; }
    bool overlaps(const Span& o) const { return lo < o.hi && o.lo < hi; }
    bool contains(const Span& o) const { return lo <= o.lo && o.hi <= hi; }
    bool operator==(const Span& o) const { return lo == o.lo && hi == o.hi; }
};

inline Point lower_point(Micros t, bool inclusive) { return inclusive ? 2 * t : 2 * t + 1; }
inline Point upper_point(Micros t, bool inclusive) { return inclusive ? 2 * t + 1 : 2 * t; }

// Decoding back to a PostgreSQL bound: the instant and whether it is inclusive.
struct Bound {
    Micros t;
    bool inclusive;
};
inline Bound decode_lower(Point p) { return (p % 2 == 0) ? Bound{p / 2, true} : Bound{(p - 1) / 2, false}; }
inline Bound decode_upper(Point p) { return (p % 2 == 0) ? Bound{p / 2, false} : Bound{(p - 1) / 2, true}; }

inline Span make_span(Micros lower, bool lower_inc, Micros upper, bool upper_inc) {
    return Span{lower_point(lower, lower_inc), upper_point(upper, upper_inc)};
}

// Length in doubled units of a duration in microseconds.
inline Point grid_length(Micros d) { return 2 * d; }

// The range a booking blocks: its span widened by the resource's buffers
// (absolute durations; a buffer keeps the bound style of the side it widens).
inline Span widen(const Span& s, Micros before, Micros after) {
    return Span{s.lo - grid_length(before), s.hi + grid_length(after)};
}

}  // namespace sg
