// Local wall-clock time in a resource's zone, with PostgreSQL's tz database
// (pg_tzset, timestamp2tm): what repeat rules and "that local day" need.
#include "series/series.hpp"

namespace sgpg {
namespace {

// Seconds east of UTC in effect at instant t.
long gmtoff_at(TimestampTz t, pg_tz* zone) {
    struct pg_tm tm;
    fsec_t fsec;
    int tz;
    if (t < MIN_TIMESTAMP) t = MIN_TIMESTAMP;
    if (t >= END_TIMESTAMP) t = END_TIMESTAMP - 1;
    if (timestamp2tm(t, &tz, &tm, &fsec, NULL, zone) != 0)
        ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
    return tm.tm_gmtoff;
}

[[noreturn]] void outside_range() {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("an occurrence falls outside the supported timestamps")));
    pg_unreachable();
}

}  // namespace

pg_tz* resource_zone(text* key) {
    char* name = resource_zone_name(key);
    pg_tz* zone = pg_tzset(name ? name : "UTC");
    if (zone == NULL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("resource \"%s\" has an unknown time zone \"%s\"", text_to_cstring(key), name)));
    return zone;
}

char* resource_zone_name(text* key) {
    // The column is §10's (opening hours and time zones); an older or a
    // narrower schema has none, and every resource is in UTC.
    Relation rel = table_open(slotguard_relation("resource"), AccessShareLock);
    AttrNumber att = column_if_exists(RelationGetDescr(rel), "timezone");
    bool is_text = att != InvalidAttrNumber && TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid == TEXTOID;
    table_close(rel, AccessShareLock);
    char* name = NULL;
    if (is_text) {
        Oid types[1] = {TEXTOID};
        Datum v[1] = {PointerGetDatum(key)};
        SPI_execute_with_args("SELECT timezone FROM slotguard.resource WHERE key = $1", 1, types, v, NULL, true, 1);
        if (SPI_processed == 1) {
            bool isnull;
            Datum z = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
            if (!isnull) name = TextDatumGetCString(z);
        }
    }
    return name;
}

sg::LocalTime local_of(TimestampTz t, pg_tz* zone) {
    struct pg_tm tm;
    fsec_t fsec;
    int tz;
    if (timestamp2tm(t, &tz, &tm, &fsec, NULL, zone) != 0) outside_range();
    sg::LocalTime lt;
    lt.year = tm.tm_year;
    lt.month = tm.tm_mon;
    lt.day = tm.tm_mday;
    lt.micros_of_day = ((tm.tm_hour * 60LL + tm.tm_min) * 60LL + tm.tm_sec) * USECS_PER_SEC + fsec;
    if (lt.year < 1) outside_range();  // BC: the rules' calendar starts at year 1
    return lt;
}

TimestampTz instant_of(const sg::LocalTime& lt, pg_tz* zone) {
    if (lt.year < 1 || lt.year > 294276) outside_range();
    __int128 local = (__int128)(date2j(lt.year, lt.month, lt.day) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY +
                     lt.micros_of_day;
    if (local < (__int128)MIN_TIMESTAMP + 2 * USECS_PER_DAY || local >= (__int128)END_TIMESTAMP - 2 * USECS_PER_DAY)
        outside_range();
    TimestampTz l = (TimestampTz)local;
    // The offsets a day before and after (zones change at most once a day):
    // each gives a candidate that is valid when its own offset is in force.
    int64 before = (int64)gmtoff_at(l - USECS_PER_DAY, zone) * USECS_PER_SEC;
    int64 after = (int64)gmtoff_at(l + USECS_PER_DAY, zone) * USECS_PER_SEC;
    TimestampTz a = l - before, b = l - after;
    bool a_ok = (int64)gmtoff_at(a, zone) * USECS_PER_SEC == before;
    bool b_ok = (int64)gmtoff_at(b, zone) * USECS_PER_SEC == after;
    TimestampTz t;
    if (a_ok && b_ok)
        t = Min(a, b);  // occurs twice: the first
    else if (a_ok)
        t = a;
    else if (b_ok)
        t = b;
    else
        t = a;  // skipped by the change: the offset before it moves it forward
    if (!IS_VALID_TIMESTAMP(t)) outside_range();
    return t;
}

sg::Span local_day(TimestampTz t, pg_tz* zone) {
    sg::LocalTime lt = local_of(t, zone);
    lt.micros_of_day = 0;
    TimestampTz start = instant_of(lt, zone);
    int y, m, d;
    j2date(date2j(lt.year, lt.month, lt.day) + 1, &y, &m, &d);
    sg::LocalTime next = lt;
    next.year = y;
    next.month = m;
    next.day = d;
    TimestampTz end = instant_of(next, zone);
    TsRange r = {start, end, true, false};
    return span_of(r);
}

}  // namespace sgpg
