// tstzrange <-> the core's doubled-grid spans, and range validation.
#include "engine/glue.hpp"

namespace sgpg {

static_assert(first_timestamp == MIN_TIMESTAMP && end_timestamp == END_TIMESTAMP,
              "core_bridge.hpp's timestamp limits are PostgreSQL's");

namespace {

TypeCacheEntry* tstzrange_type() { return lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO); }

}  // namespace

TsRange decode_range(Datum d) {
    RangeType* r = DatumGetRangeTypeP(d);
    RangeBound lo, hi;
    bool empty;
    range_deserialize(tstzrange_type(), r, &lo, &hi, &empty);
    TsRange out;
    out.lower = lo.infinite || empty ? DT_NOBEGIN : DatumGetTimestampTz(lo.val);
    out.upper = hi.infinite || empty ? DT_NOEND : DatumGetTimestampTz(hi.val);
    out.lower_inc = lo.inclusive;
    out.upper_inc = hi.inclusive;
    return out;
}

TsRange checked_range(Datum d, const char* what) {
    RangeType* r = DatumGetRangeTypeP(d);
    RangeBound lo, hi;
    bool empty;
    range_deserialize(tstzrange_type(), r, &lo, &hi, &empty);
    if (empty)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("%s must not be empty", what)));
    if (lo.infinite || hi.infinite || TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(lo.val)) ||
        TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(hi.val)))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("%s must have finite lower and upper bounds", what),
                        errdetail("Got %s.", range_text(d))));
    return decode_range(d);
}

Datum range_datum(const TsRange& r) {
    RangeBound lo, hi;
    lo.val = TimestampTzGetDatum(r.lower);
    lo.infinite = false;
    lo.inclusive = r.lower_inc;
    lo.lower = true;
    hi.val = TimestampTzGetDatum(r.upper);
    hi.infinite = false;
    hi.inclusive = r.upper_inc;
    hi.lower = false;
    return RangeTypePGetDatum(make_range(tstzrange_type(), &lo, &hi, false));
}

sg::Span span_of(const TsRange& r) { return sg::make_span(r.lower, r.lower_inc, r.upper, r.upper_inc); }

TsRange range_of(const sg::Span& s) {
    sg::Bound lo = sg::decode_lower(s.lo);
    sg::Bound hi = sg::decode_upper(s.hi);
    return TsRange{lo.t, hi.t, lo.inclusive, hi.inclusive};
}

TsRange widen_range(const TsRange& r, int64 before_us, int64 after_us) {
    TsRange w = r;
    if (pg_sub_s64_overflow(r.lower, before_us, &w.lower) || pg_add_s64_overflow(r.upper, after_us, &w.upper) ||
        !IS_VALID_TIMESTAMP(w.lower) || !IS_VALID_TIMESTAMP(w.upper))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("the resource's buffers push this range beyond the supported timestamps")));
    return w;
}

char* range_text(Datum r) {
    Oid out;
    bool varlena;
    getTypeOutputInfo(TSTZRANGEOID, &out, &varlena);
    return OidOutputFunctionCall(out, r);
}

int64 interval_micros(const Interval* iv, const char* what) {
    int64 days = (int64)iv->month * DAYS_PER_MONTH + iv->day;
    int64 us;
    if (pg_mul_s64_overflow(days, USECS_PER_DAY, &us) || pg_add_s64_overflow(us, iv->time, &us))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s is too large", what)));
    return us;
}

Interval* micros_interval(int64 us) {
    Interval* iv = (Interval*)palloc0(sizeof(Interval));
    iv->time = us;
    return iv;
}

int64 range_length(const TsRange& r) {
    int64 len;
    return pg_sub_s64_overflow(r.upper, r.lower, &len) ? PG_INT64_MAX : len;
}

}  // namespace sgpg
