// Reading a resource's §10 rules and checking bookings against them (the
// hooks of schedule.hpp). The interval logic is the core's
// (src/core/schedule.cpp, through engine/core_bridge.cpp).
#include "schedule/schedule.hpp"

#include "lib/stringinfo.h"

extern "C" {
#include "pgtime.h"
}

namespace sgpg {

namespace {

constexpr int64 usecs_per_day = USECS_PER_DAY;
constexpr int64 unix_epoch_shift = 946684800;  // seconds from 1970-01-01 to 2000-01-01
// A booking longer than this is checked against the weekly hours in pieces
// of this length (each one interruptible), so no call expands years at once.
constexpr int64 hours_chunk = 31 * usecs_per_day;

int64 clamp_ts(__int128 t) {
    if (t < first_timestamp) return first_timestamp;
    if (t > end_timestamp - 1) return end_timestamp - 1;
    return (int64)t;
}

// A stored range as half-open microseconds (the bound styles to within 1 us).
void range_micros(const TsRange& r, int64* lo, int64* hi) {
    *lo = r.lower_inc ? r.lower : r.lower + 1;
    *hi = r.upper_inc ? r.upper + 1 : r.upper;
}

int64 interval_col(TupleTableSlot* slot, TupleDesc desc, const char* name, bool* has) {
    AttrNumber a = column_if_exists(desc, name);
    bool isnull = true;
    Datum d = a == InvalidAttrNumber ? (Datum)0 : slot_getattr(slot, a, &isnull);
    *has = !isnull;
    return isnull ? 0 : interval_micros(DatumGetIntervalP(d), name);
}

int int_col(TupleTableSlot* slot, TupleDesc desc, const char* name, bool* has) {
    AttrNumber a = column_if_exists(desc, name);
    bool isnull = true;
    Datum d = a == InvalidAttrNumber ? (Datum)0 : slot_getattr(slot, a, &isnull);
    *has = !isnull;
    return isnull ? 0 : DatumGetInt32(d);
}

}  // namespace

// --- the policy on the resource row -------------------------------------------

sg::sched::WeeklySpan* parse_hours_text(const char* s, size_t len, int* n_out) {
    int cap = 7 * ((int)(len / 4) + 1);
    sg::sched::WeeklySpan* spans = (sg::sched::WeeklySpan*)palloc(sizeof(sg::sched::WeeklySpan) * cap);
    int pos = 0;
    BridgeError err;
    if (!bridge_parse_hours(s, len, spans, cap, n_out, &pos, &err)) {
        if (strcmp(err.sqlstate, "22023") != 0) raise_bridge_error(err);
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid opening hours at position %d: %s", pos, err.message),
                        errdetail("The text was: %s", pnstrdup(s, Min(len, (size_t)200))),
                        errhint("Use the OpenStreetMap opening_hours form, e.g. "
                                "'Mo-Fr 09:00-12:00,13:00-17:00; Sa 10:00-14:00'."),
                        errposition(0)));
    }
    return spans;
}

void decode_rules(TupleTableSlot* slot, ResourceInfo* info) {
    TupleDesc desc = slot->tts_tupleDescriptor;
    info->rules = NULL;
    info->rules_version = 0;
    AttrNumber c_ver = column_if_exists(desc, "rules_version");
    if (c_ver == InvalidAttrNumber) return;  // a 1.0/1.1 schema: no rules
    bool isnull;
    Datum v = slot_getattr(slot, c_ver, &isnull);
    if (isnull || DatumGetInt64(v) == 0) return;
    info->rules_version = DatumGetInt64(v);
    ResourceRules* r = (ResourceRules*)palloc0(sizeof(ResourceRules));
    r->version = info->rules_version;
    Datum xmin = slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull);
    r->row_xmin = isnull ? InvalidTransactionId : DatumGetTransactionId(xmin);
    AttrNumber c_tz = column_of(desc, "timezone");
    Datum tz = slot_getattr(slot, c_tz, &isnull);
    r->timezone = isnull ? NULL : TextDatumGetCString(tz);
    SchedPolicy* p = &r->policy;
    p->min_notice = interval_col(slot, desc, "min_notice", &p->has_min_notice);
    p->max_advance = interval_col(slot, desc, "max_advance", &p->has_max_advance);
    p->min_duration = interval_col(slot, desc, "min_duration", &p->has_min_duration);
    p->max_duration = interval_col(slot, desc, "max_duration", &p->has_max_duration);
    r->max_per_day = int_col(slot, desc, "max_per_day", &r->has_max_per_day);
    r->max_per_holder = int_col(slot, desc, "max_per_holder_per_day", &r->has_max_per_holder);
    Datum h = slot_getattr(slot, column_of(desc, "hours"), &isnull);
    if (!isnull) {
        text* t = DatumGetTextPP(h);
        p->hours = parse_hours_text(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &p->n_hours);
        p->has_hours = true;
    }
    info->rules = r;
}

// --- zones ----------------------------------------------------------------------

namespace {
// The zone last checked (pg_tzset caches zones for the life of the backend,
// so the pointer stays valid): most calls ask for the same one again.
char last_tz_name[TZ_STRLEN_MAX + 1];
pg_tz* last_tz = NULL;
}  // namespace

pg_tz* checked_zone(const char* tzname) {
    if (last_tz != NULL && strcmp(last_tz_name, tzname) == 0) return last_tz;
    pg_tz* tz = strlen(tzname) < TZ_STRLEN_MAX ? pg_tzset(tzname) : NULL;
    if (tz == NULL || !pg_tz_acceptable(tz))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("time zone \"%s\" is not recognized", tzname),
                        errhint("Use an IANA time zone name such as 'Europe/Berlin'.")));
    strlcpy(last_tz_name, tzname, sizeof last_tz_name);
    last_tz = tz;
    return tz;
}

void check_timezone_name(const char* tzname) { (void)checked_zone(tzname); }

SchedZone zone_table(const char* tzname, int64 from, int64 to) {
    SchedZone z = {NULL, 0};
    if (tzname == NULL) return z;
    pg_tz* tz = checked_zone(tzname);
    from = clamp_ts(from);
    to = clamp_ts(to);
    if (to <= from) to = from + 1;
    int cap = 8;
    sg::sched::OffsetPiece* pieces = (sg::sched::OffsetPiece*)palloc(sizeof(sg::sched::OffsetPiece) * cap);
    int n = 0;
    pg_time_t t = (pg_time_t)(from / USECS_PER_SEC - (from % USECS_PER_SEC < 0 ? 1 : 0)) + unix_epoch_shift;
    int64 cur = from;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        long before, after;
        int bdst, adst;
        pg_time_t boundary;
        int r = pg_next_dst_boundary(&t, &before, &bdst, &boundary, &after, &adst, tz);
        if (n == cap) {
            cap *= 2;
            pieces = (sg::sched::OffsetPiece*)repalloc(pieces, sizeof(sg::sched::OffsetPiece) * cap);
        }
        int64 off = (int64)before * USECS_PER_SEC;
        __int128 b_us = ((__int128)boundary - unix_epoch_shift) * USECS_PER_SEC;
        if (r != 1 || b_us >= to || boundary <= t) {
            pieces[n++] = sg::sched::OffsetPiece{cur, to, off};
            break;
        }
        pieces[n++] = sg::sched::OffsetPiece{cur, (int64)b_us, off};
        cur = (int64)b_us;
        t = boundary;
    }
    z.pieces = pieces;
    z.n = n;
    return z;
}

// --- exceptions ---------------------------------------------------------------------

namespace {

struct ExList {
    sg::sched::Exception* items;
    char** texts;  // reason (closure/opening) or source (busy), may be NULL
    int64* ids;
    int n, cap;
};

struct ExVisit {
    AttrNumber c_id, c_key, c_kind, c_during, c_reason;
    text* key;
    ExList* out;
    int limit;
};

void visit_exception(void* arg, TupleTableSlot* slot, TransactionId, uint32) {
    ExVisit* v = (ExVisit*)arg;
    bool isnull;
    if (!same_text(DatumGetTextPP(slot_getattr(slot, v->c_key, &isnull)), v->key)) return;
    ExList* l = v->out;
    if (v->limit > 0 && l->n > v->limit) return;  // too many to keep: counted, not stored
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = l->items ? (sg::sched::Exception*)repalloc(l->items, sizeof(sg::sched::Exception) * l->cap)
                            : (sg::sched::Exception*)palloc(sizeof(sg::sched::Exception) * l->cap);
        l->texts = l->texts ? (char**)repalloc(l->texts, sizeof(char*) * l->cap)
                            : (char**)palloc(sizeof(char*) * l->cap);
        l->ids = l->ids ? (int64*)repalloc(l->ids, sizeof(int64) * l->cap) : (int64*)palloc(sizeof(int64) * l->cap);
    }
    text* kind = DatumGetTextPP(slot_getattr(slot, v->c_kind, &isnull));
    sg::sched::Exception e;
    e.kind = text_is(kind, "closure")   ? sg::sched::ExceptionKind::Closure
             : text_is(kind, "opening") ? sg::sched::ExceptionKind::Opening
                                        : sg::sched::ExceptionKind::Busy;
    RangeType* rt = DatumGetRangeTypeP(slot_getattr(slot, v->c_during, &isnull));
    TypeCacheEntry* tc = lookup_type_cache(RangeTypeGetOid(rt), TYPECACHE_RANGE_INFO);
    RangeBound lb, ub;
    bool empty;
    range_deserialize(tc, rt, &lb, &ub, &empty);
    if (empty) return;
    int64 lo = lb.infinite ? first_timestamp : DatumGetTimestampTz(lb.val) + (lb.inclusive ? 0 : 1);
    int64 hi = ub.infinite ? end_timestamp - 1 : DatumGetTimestampTz(ub.val) + (ub.inclusive ? 1 : 0);
    e.lo = lo;
    e.hi = hi;
    e.tag = l->n;
    Datum r = slot_getattr(slot, v->c_reason, &isnull);
    l->texts[l->n] = isnull ? NULL : TextDatumGetCString(r);
    l->ids[l->n] = DatumGetInt64(slot_getattr(slot, v->c_id, &isnull));
    l->items[l->n++] = e;
}

// The exceptions of `key` overlapping probe (all of them when probe is 0),
// as `snap` sees them (NULL: the latest committed state, what a check must
// use). False when there are more than `limit` (> 0) of them.
bool scan_exceptions(text* key, Datum probe, Snapshot snap, ExList* out, int limit = 0) {
    out->items = NULL;
    out->texts = NULL;
    out->ids = NULL;
    out->n = out->cap = 0;
    Oid rel = slotguard_relation_if_exists("resource_exception");
    if (!OidIsValid(rel)) return true;
    GuardedRels rels;
    rels.heap = table_open(rel, AccessShareLock);
    open_keyed_index(&rels, "resource_exception_hash_during_idx", "resource_exception_hash_during_idx",
                     AccessShareLock);
    TupleDesc desc = RelationGetDescr(rels.heap);
    ExVisit v;
    v.c_id = column_of(desc, "id");
    v.c_key = column_of(desc, "resource_key");
    v.c_kind = column_of(desc, "kind");
    v.c_during = column_of(desc, "during");
    v.c_reason = column_of(desc, "reason");
    v.key = key;
    v.out = out;
    v.limit = limit;
    Snapshot s = RegisterSnapshot(snap != NULL ? snap : GetLatestSnapshot());
    keyed_scan(&rels, key, false, probe, probe != (Datum)0, NULL, visit_exception, &v, s);
    UnregisterSnapshot(s);
    index_close(rels.index, AccessShareLock);
    table_close(rels.heap, AccessShareLock);
    return limit <= 0 || out->n <= limit;
}

// A resource's exceptions, kept per backend by (key, rules_version, xmin
// of the resource row that has that version): every change of the
// exceptions through the API bumps rules_version in the same transaction
// (begin_rule_change; a direct write of resource_exception by a statement
// trigger), and a version written by a transaction that rolled back never
// appears on a visible row again, so the pair names one set of rows. A
// booking then reads no index at all for them; a resource with more than
// cache_limit exceptions is read by a range scan each time instead.
constexpr int cache_entries = 256;
constexpr int cache_limit = 4096;
// A resource is cached on its second miss (a one-off read takes the range
// scan): direct-mapped signatures of the recent misses.
uint64 seen_once[1024];
struct ExCache {
    bool used;
    uint32 hash;
    char* key;
    int64 version;
    TransactionId xmin;
    ExList list;
    MemoryContext cxt;
    uint64 stamp;
};
ExCache ex_cache[cache_entries];
uint64 ex_cache_clock = 0;

// The cached exceptions of the resource, read now if needed; NULL when
// they cannot be cached (too many, or the rules changed since the caller
// read them: then *scanned holds what the latest snapshot sees).
const ExList* cached_exceptions(const ResourceRules* r, text* key, ExList* scanned, bool* have_scanned) {
    *have_scanned = false;
    uint32 h = hash_any((const unsigned char*)VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
    size_t klen = VARSIZE_ANY_EXHDR(key);
    ExCache* victim = NULL;
    for (int i = 0; i < cache_entries; ++i) {
        ExCache* c = &ex_cache[i];
        if (c->used && c->hash == h && c->version == r->version && c->xmin == r->row_xmin &&
            strlen(c->key) == klen && memcmp(c->key, VARDATA_ANY(key), klen) == 0) {
            c->stamp = ++ex_cache_clock;
            return &c->list;
        }
        if (victim == NULL || (victim->used && (!c->used || c->stamp < victim->stamp))) victim = c;
    }
    uint64 sig = ((uint64)h << 32) ^ (uint64)r->version ^ ((uint64)r->row_xmin << 7);
    if (seen_once[h % lengthof(seen_once)] != sig) {
        seen_once[h % lengthof(seen_once)] = sig;
        return NULL;
    }
    // Read them all, and the resource row, with one snapshot: only a set
    // read under the version the caller saw may be kept under it.
    Snapshot snap = RegisterSnapshot(GetLatestSnapshot());
    ExList all;
    bool fits = scan_exceptions(key, (Datum)0, snap, &all, cache_limit);
    ResourceInfo now;
    bool same = fits && find_resource_as_of(key, &now, snap) && now.rules != NULL &&
                now.rules->version == r->version && now.rules->row_xmin == r->row_xmin;
    UnregisterSnapshot(snap);
    if (!same) {
        if (fits) {
            *scanned = all;
            *have_scanned = true;
        }
        return NULL;
    }
    if (victim->cxt == NULL)
        victim->cxt = AllocSetContextCreate(TopMemoryContext, "slotguard exceptions", ALLOCSET_SMALL_SIZES);
    else
        MemoryContextReset(victim->cxt);
    victim->used = false;
    MemoryContext old = MemoryContextSwitchTo(victim->cxt);
    ExList* l = &victim->list;
    l->n = l->cap = all.n;
    int room = all.n > 0 ? all.n : 1;
    l->items = (sg::sched::Exception*)palloc(sizeof(sg::sched::Exception) * room);
    l->texts = (char**)palloc(sizeof(char*) * room);
    l->ids = (int64*)palloc(sizeof(int64) * room);
    for (int i = 0; i < all.n; ++i) {
        l->items[i] = all.items[i];
        l->texts[i] = all.texts[i] ? pstrdup(all.texts[i]) : NULL;
        l->ids[i] = all.ids[i];
    }
    victim->key = pnstrdup(VARDATA_ANY(key), klen);
    MemoryContextSwitchTo(old);
    victim->hash = h;
    victim->version = r->version;
    victim->xmin = r->row_xmin;
    victim->stamp = ++ex_cache_clock;
    victim->used = true;
    return l;
}

// The exceptions of the resource `res` describes that overlap probe.
void read_exceptions(const ResourceInfo* res, text* key, Datum probe, Snapshot snap, ExList* out) {
    ExList scanned;
    bool have_scanned = false;
    // A reader (snap given) may be behind the latest state: its version is
    // then not the cached one, and it reads what its snapshot sees.
    const ExList* all = res->rules != NULL ? cached_exceptions(res->rules, key, &scanned, &have_scanned) : NULL;
    if (all == NULL && (snap != NULL || !have_scanned)) {
        (void)scan_exceptions(key, probe, snap, out);
        return;
    }
    if (all == NULL) all = &scanned;
    TsRange p = decode_range(probe);
    int64 lo = p.lower_inc ? p.lower : p.lower + 1;
    int64 hi = p.upper_inc ? p.upper + 1 : p.upper;
    out->n = 0;
    out->cap = all->n;  // tags index the cached texts
    out->texts = all->texts;
    out->ids = all->ids;
    out->items = (sg::sched::Exception*)palloc(sizeof(sg::sched::Exception) * (all->n > 0 ? all->n : 1));
    for (int i = 0; i < all->n; ++i)
        if (all->items[i].lo < hi && lo < all->items[i].hi) out->items[out->n++] = all->items[i];
}

char* interval_text(int64 us) {
    return DatumGetCString(DirectFunctionCall1(interval_out, PointerGetDatum(micros_interval(us))));
}

char* refusal_detail(const ResourceRules* r, const sg::sched::RuleVerdict& v, const ExList* ex) {
    const SchedPolicy* p = &r->policy;
    switch (v.rule) {
        case sg::sched::RuleBroken::Duration: {
            StringInfoData s;
            initStringInfo(&s);
            appendStringInfoString(&s, "duration: a booking must last");
            if (p->has_min_duration) appendStringInfo(&s, " at least %s", interval_text(p->min_duration));
            if (p->has_min_duration && p->has_max_duration) appendStringInfoString(&s, " and");
            if (p->has_max_duration) appendStringInfo(&s, " at most %s", interval_text(p->max_duration));
            return s.data;
        }
        case sg::sched::RuleBroken::MinNotice:
            return psprintf("min_notice: a booking must start at least %s from now", interval_text(p->min_notice));
        case sg::sched::RuleBroken::MaxAdvance:
            return psprintf("max_advance: a booking must start within %s from now", interval_text(p->max_advance));
        case sg::sched::RuleBroken::Closed: {
            const char* reason = v.tag >= 0 && v.tag < ex->cap ? ex->texts[v.tag] : NULL;
            return reason ? psprintf("closed: %s", reason) : pstrdup("closed");
        }
        case sg::sched::RuleBroken::Busy: {
            const char* source = v.tag >= 0 && v.tag < ex->cap ? ex->texts[v.tag] : NULL;
            return psprintf("busy (%s)", source ? source : "unknown source");
        }
        case sg::sched::RuleBroken::Outside:
            return pstrdup("outside opening hours");
        default:
            return NULL;
    }
}

}  // namespace

bool check_booking_rules(const ResourceInfo* res, text* key, const TsRange& during, const TsRange& blocked,
                         RuleRefusal* out) {
    return check_booking_rules_ex(res, key, during, blocked, false, out);
}

bool check_booking_rules_ex(const ResourceInfo* res, text* key, const TsRange& during, const TsRange& blocked,
                            bool ignore_busy, RuleRefusal* out) {
    out->detail = NULL;
    const ResourceRules* r = res->rules;
    if (r == NULL) return true;
    int64 lo, hi, blo, bhi;
    range_micros(during, &lo, &hi);
    range_micros(blocked, &blo, &bhi);
    ExList ex;
    read_exceptions(res, key, range_datum(blocked), NULL, &ex);
    if (ignore_busy) {
        int kept = 0;
        for (int i = 0; i < ex.n; ++i)
            if (ex.items[i].kind != sg::sched::ExceptionKind::Busy) ex.items[kept++] = ex.items[i];
        ex.n = kept;  // tags still index texts: kept entries keep their tag
    }
    // Everything but the weekly hours, over the whole booking.
    SchedPolicy flat = r->policy;
    flat.has_hours = false;
    SchedZone utc = {NULL, 0};
    sg::sched::RuleVerdict v;
    BridgeError err;
    if (!bridge_check_rules(flat, utc, ex.items, ex.n, lo, hi, blo, bhi, GetCurrentTransactionStartTimestamp(), &v,
                            &err))
        raise_bridge_error(err);
    if (v.rule == sg::sched::RuleBroken::None && r->policy.has_hours) {
        // The weekly hours (with the openings), piece by piece.
        SchedPolicy hours_only = {};
        hours_only.has_hours = true;
        hours_only.hours = r->policy.hours;
        hours_only.n_hours = r->policy.n_hours;
        for (int64 c = lo; c < hi && v.rule == sg::sched::RuleBroken::None;) {
            CHECK_FOR_INTERRUPTS();
            int64 e = hi - c > hours_chunk ? c + hours_chunk : hi;
            SchedZone z = zone_table(r->timezone, (__int128)c - 2 * usecs_per_day, (__int128)e + 2 * usecs_per_day);
            if (!bridge_check_rules(hours_only, z, ex.items, ex.n, c, e, c, e, 0, &v, &err)) raise_bridge_error(err);
            c = e;
        }
    }
    if (v.rule == sg::sched::RuleBroken::None) return true;
    out->detail = refusal_detail(r, v, &ex);
    return false;
}

void raise_rule_refusal(text* key, const TsRange& during, const char* detail, const Datum* suggestions,
                        int n_suggestions, bool with_hint) {
    StringInfoData hint;
    initStringInfo(&hint);
    if (!with_hint) {
    } else if (n_suggestions > 0) {
        appendStringInfoString(&hint, "Free alternatives: ");
        for (int i = 0; i < n_suggestions; ++i)
            appendStringInfo(&hint, "%s%s", i ? ", " : "", range_text(suggestions[i]));
        appendStringInfoChar(&hint, '.');
    } else {
        appendStringInfoString(&hint, "No free alternative of the same length nearby.");
    }
    ereport(ERROR, (errcode(ERRCODE_EXCLUSION_VIOLATION),
                    errmsg("slot on resource \"%s\" for %s is not available", text_to_cstring(key),
                           range_text(range_datum(during))),
                    errdetail("%s.", detail), hint.len > 0 ? errhint("%s", hint.data) : 0));
    pg_unreachable();
}

// --- per-day limits as admission targets -----------------------------------------------

namespace {

// What the two day-limit collectors count: bookings of the resource whose
// start lies in `day` (its UTC pieces), of `holder` for the second.
struct DayCtx {
    sg::sched::Interval day[4];
    int n_day;
    sg::Span hull;
    int64 day_number;
    int limit;
    text* holder;
};
// The contexts of the day targets made recently, found by the target's
// probe (its `blocked` datum, a palloc'd range unique while the target
// lives): a series or a group admits many bookings' day targets at once.
// The newest registration of an address wins (an address freed and reused
// is registered again before use).
constexpr int day_ring_size = 2048;
struct DayReg {
    Datum probe;
    bool holder_limit;
    DayCtx ctx;
};
DayReg day_ring[day_ring_size];
int day_ring_next = 0;

DayCtx* register_day(Datum probe, bool holder_limit) {
    DayReg* r = &day_ring[day_ring_next];
    day_ring_next = (day_ring_next + 1) % day_ring_size;
    r->probe = probe;
    r->holder_limit = holder_limit;
    return &r->ctx;
}

const DayCtx* day_of_probe(Datum probe, bool holder_limit) {
    for (int i = 1; i <= day_ring_size; ++i) {
        const DayReg* r = &day_ring[(day_ring_next - i + day_ring_size) % day_ring_size];
        if (r->probe == probe && r->holder_limit == holder_limit) return &r->ctx;
    }
    elog(ERROR, "slotguard: a per-day limit target outlived its context (more than %d in one admission)",
         day_ring_size);
    pg_unreachable();
}

struct DayVisit {
    AttrNumber c_id, c_key, c_status, c_expires, c_during, c_holder;
    text* key;
    const DayCtx* ctx;
    TimestampTz now;
    Occupants* out;
};

void visit_day(void* arg, TupleTableSlot* slot, TransactionId pending, uint32 spec_token) {
    DayVisit* v = (DayVisit*)arg;
    bool isnull;
    if (!active_booking_of(slot, v->c_key, v->c_status, v->c_expires, v->key, v->now)) return;
    if (v->ctx->holder != NULL) {
        Datum h = slot_getattr(slot, v->c_holder, &isnull);
        if (isnull || !same_text(DatumGetTextPP(h), v->ctx->holder)) return;
    }
    TsRange d = decode_range(slot_getattr(slot, v->c_during, &isnull));
    int64 lo = d.lower_inc ? d.lower : d.lower + 1;
    bool in_day = false;
    for (int i = 0; i < v->ctx->n_day && !in_day; ++i) in_day = v->ctx->day[i].lo <= lo && lo < v->ctx->day[i].hi;
    if (!in_day) return;
    sg::Occupant o;
    o.id = DatumGetInt64(slot_getattr(slot, v->c_id, &isnull));
    o.seats = 1;
    o.blocked = v->ctx->hull;
    mark_pending(&o, pending, spec_token);
    append_occupant(v->out, o);
}

void collect_day(const DayCtx* ctx, const GuardedRels* rels, text* key, Datum probe, bool has_probe,
                 ItemPointer exclude, Occupants* out, Snapshot snap) {
    TupleDesc desc = RelationGetDescr(rels->heap);
    DayVisit v;
    v.c_id = column_of(desc, "id");
    v.c_key = column_of(desc, "resource_key");
    v.c_status = column_of(desc, "status");
    v.c_expires = column_of(desc, "hold_expires_at");
    v.c_during = column_of(desc, "during");
    v.c_holder = column_of(desc, "holder");
    v.key = key;
    v.ctx = ctx;
    v.now = GetCurrentTransactionStartTimestamp();
    v.out = out;
    out->items = NULL;
    out->n = out->cap = 0;
    keyed_scan(rels, key, false, probe, has_probe, exclude, visit_day, &v, snap);
}

void collect_day_all(const GuardedRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                     Occupants* out) {
    collect_day(day_of_probe(probe, false), rels, key, probe, has_probe, exclude, out, NULL);
}
void collect_day_holder(const GuardedRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                        Occupants* out) {
    collect_day(day_of_probe(probe, true), rels, key, probe, has_probe, exclude, out, NULL);
}

bool set_day(DayCtx* ctx, const ResourceRules* r, const TsRange& during) {
    int64 lo = during.lower_inc ? during.lower : during.lower + 1;
    __int128 from = (__int128)lo - 3 * usecs_per_day, to = (__int128)lo + 3 * usecs_per_day;
    SchedZone z = zone_table(r->timezone, clamp_ts(from), clamp_ts(to));
    BridgeError err;
    if (!bridge_local_day(z, lo, clamp_ts(from), clamp_ts(to), &ctx->day_number, ctx->day, &ctx->n_day, &err))
        raise_bridge_error(err);
    if (ctx->n_day == 0) return false;
    ctx->hull = sg::make_span(ctx->day[0].lo, true, ctx->day[ctx->n_day - 1].hi, false);
    return true;
}

}  // namespace

int day_limit_targets(const ResourceInfo* res, const BookingRels* rels, text* key, const TsRange& during,
                      text* holder, ItemPointer current, AdmitTarget* out) {
    const ResourceRules* r = res->rules;
    if (r == NULL) return 0;
    int n = 0;
    DayCtx day;
    bool have_day = false;  // the local day, worked out once for both limits
    for (int which = 0; which < 2; ++which) {
        if (which == 0 ? !r->has_max_per_day : (!r->has_max_per_holder || holder == NULL)) continue;
        if (!have_day) {
            if (!set_day(&day, r, during)) break;
            have_day = true;
        }
        DayCtx c = day;
        c.holder = which == 0 ? NULL : holder;
        c.limit = which == 0 ? r->max_per_day : r->max_per_holder;
        Datum probe = range_datum(range_of(c.hull));
        *register_day(probe, which == 1) = c;
        out[n++] = AdmitTarget{rels, which == 0 ? collect_day_all : collect_day_holder, key, range_datum(during),
                               probe, c.hull, 1, c.limit, current, (Datum)0};
    }
    return n;
}

bool is_day_limit_target(const AdmitTarget* t) { return t->collect == collect_day_all || t->collect == collect_day_holder; }

char* day_limit_detail(const AdmitTarget* t, const char* ids) {
    const DayCtx* c = day_of_probe(t->blocked, t->collect == collect_day_holder);
    int y, m, d;
    j2date((int)(c->day_number + POSTGRES_EPOCH_JDATE), &y, &m, &d);
    return psprintf("%s: at most %d booking%s may start on %04d-%02d-%02d (local time)%s; bookings: %s",
                    c->holder ? "max_per_holder_per_day" : "max_per_day", c->limit, c->limit == 1 ? "" : "s", y, m, d,
                    c->holder ? " per holder" : "", ids);
}

// --- the searches ---------------------------------------------------------------------

void add_closed_occupants(const ResourceInfo* res, text* key, const TsRange& window, Snapshot snap, bool for_blocked,
                          Occupants* occ) {
    const ResourceRules* r = res->rules;
    if (r == NULL) return;
    int64 lo, hi;
    range_micros(window, &lo, &hi);
    TsRange probe = widen_range(window, res->before_us, res->after_us);
    ExList ex;
    read_exceptions(res, key, range_datum(probe), snap, &ex);
    SchedZone z = zone_table(r->timezone, (__int128)lo - 2 * usecs_per_day, (__int128)hi + 2 * usecs_per_day);
    // Closed time (without busy time) applies to a booking's own range:
    // shrunk by the buffers it is compared with a candidate's blocked range.
    // Busy time applies to the blocked range as it is.
    sg::sched::Exception* kept = (sg::sched::Exception*)palloc(sizeof(sg::sched::Exception) * (ex.n + 1));
    int n_kept = 0;
    for (int i = 0; i < ex.n; ++i)
        if (!for_blocked || ex.items[i].kind != sg::sched::ExceptionKind::Busy) kept[n_kept++] = ex.items[i];
    int cap = sched_interval_bound(r->policy, z, ex.n, lo, hi);
    sg::sched::Interval* closed = (sg::sched::Interval*)palloc(sizeof(sg::sched::Interval) * cap);
    int n_closed = 0;
    BridgeError err;
    if (!bridge_opening(r->policy, z, kept, n_kept, lo, hi, true, closed, cap, &n_closed, &err))
        raise_bridge_error(err);
    int64 before = for_blocked ? res->before_us : 0, after = for_blocked ? res->after_us : 0;
    for (int i = 0; i < n_closed; ++i) {
        CHECK_FOR_INTERRUPTS();
        // The closed time at the window's edges extends beyond it.
        __int128 a = closed[i].lo == lo ? (__int128)first_timestamp : (__int128)closed[i].lo + after;
        __int128 b = closed[i].hi == hi ? (__int128)end_timestamp - 1 : (__int128)closed[i].hi - before;
        if (a >= b) continue;
        sg::Occupant o;
        o.id = 0;
        o.seats = res->capacity;
        o.blocked = sg::make_span((int64)a, true, (int64)b, false);
        append_occupant(occ, o);
    }
    if (for_blocked)
        for (int i = 0; i < ex.n; ++i) {
            if (ex.items[i].kind != sg::sched::ExceptionKind::Busy) continue;
            sg::Occupant o;
            o.id = 0;
            o.seats = res->capacity;
            o.blocked = sg::make_span(ex.items[i].lo, true, ex.items[i].hi, false);
            append_occupant(occ, o);
        }
}

namespace {
// Whether a booking on the local day of `during` still fits the day limits
// (counting what the dirty scan sees, pending writers included).
bool day_has_room(const ResourceInfo* res, const BookingRels* rels, text* key, const TsRange& during, text* holder,
                  ItemPointer exclude) {
    AdmitTarget t[2];
    int n = day_limit_targets(res, rels, key, during, holder, exclude, t);
    for (int i = 0; i < n; ++i) {
        Occupants occ;
        t[i].collect(rels, key, t[i].blocked, true, exclude, &occ);
        if (occ.n + 1 > t[i].capacity) return false;
    }
    return true;
}
}  // namespace

int filter_suggestions(const ResourceInfo* res, const BookingRels* rels, text* key, int, text* holder,
                       ItemPointer exclude, Datum* suggestions, int n) {
    if (res->rules == NULL) return n;
    int kept = 0;
    for (int i = 0; i < n; ++i) {
        TsRange d = decode_range(suggestions[i]);
        TsRange b = widen_range(d, res->before_us, res->after_us);
        RuleRefusal rr;
        if (!check_booking_rules(res, key, d, b, &rr)) continue;
        if (!day_has_room(res, rels, key, d, holder, exclude)) continue;
        suggestions[kept++] = suggestions[i];
    }
    return kept;
}

namespace {

// The starts of the active bookings of key (as visit_day counts them)
// whose blocked range meets the probe, as `snap` sees them.
struct StartVisit {
    AttrNumber c_key, c_status, c_expires, c_during;
    text* key;
    TimestampTz now;
    sg::Micros* starts;
    int n, cap;
};

void visit_start(void* arg, TupleTableSlot* slot, TransactionId, uint32) {
    StartVisit* v = (StartVisit*)arg;
    bool isnull;
    if (!active_booking_of(slot, v->c_key, v->c_status, v->c_expires, v->key, v->now)) return;
    TsRange d = decode_range(slot_getattr(slot, v->c_during, &isnull));
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->starts = (sg::Micros*)(v->starts ? repalloc(v->starts, sizeof(sg::Micros) * v->cap)
                                            : palloc(sizeof(sg::Micros) * v->cap));
    }
    v->starts[v->n++] = d.lower_inc ? d.lower : d.lower + 1;
}

// max_per_day on free_slots (API.md §10): drops the slots of out[0..n)
// that start on a local day already holding max_per_day active bookings
// (as the caller's snapshot sees them). free_slots names no holder, so the
// per-holder limit is the booking's check alone.
int drop_full_days(const ResourceInfo* res, text* key, const SchedZone& z, int64 lo, int64 hi, sg::Span* out, int n) {
    const ResourceRules* r = res->rules;
    if (!r->has_max_per_day || n == 0) return n;
    BookingRels rels;
    open_booking(&rels, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rels.heap);
    StartVisit v;
    v.c_key = column_of(desc, "resource_key");
    v.c_status = column_of(desc, "status");
    v.c_expires = column_of(desc, "hold_expires_at");
    v.c_during = column_of(desc, "during");
    v.key = key;
    v.now = GetCurrentTransactionStartTimestamp();
    v.starts = NULL;
    v.n = v.cap = 0;
    // A slot's local day lies within a day and a half of its start.
    TsRange probe = {clamp_ts((__int128)lo - 2 * usecs_per_day), clamp_ts((__int128)hi + 2 * usecs_per_day), true,
                     false};
    keyed_scan(&rels, key, false, range_datum(probe), true, NULL, visit_start, &v, GetActiveSnapshot());
    close_booking(&rels, AccessShareLock);
    sg::Micros* starts = (sg::Micros*)palloc(sizeof(sg::Micros) * n);
    for (int i = 0; i < n; ++i) starts[i] = sg::decode_lower(out[i].lo).t;
    bool* keep = (bool*)palloc(sizeof(bool) * n);
    BridgeError err;
    if (!bridge_day_has_room(z, v.starts, v.n, starts, n, r->max_per_day, keep, &err)) raise_bridge_error(err);
    int kept = 0;
    for (int i = 0; i < n; ++i)
        if (keep[i]) out[kept++] = out[i];
    pfree(starts);
    pfree(keep);
    if (v.starts) pfree(v.starts);
    return kept;
}

}  // namespace

int rules_free_slots(const ResourceInfo* res, text* key, const TsRange& search, int64 duration, const Interval* step,
                     int seats, const Occupants* occ, sg::Span* out, int max_out) {
    const ResourceRules* r = res->rules;
    if (r == NULL) return -1;
    const SchedPolicy* p = &r->policy;
    if ((p->has_min_duration && duration < p->min_duration) || (p->has_max_duration && duration > p->max_duration))
        return 0;
    int64 lo, hi;
    range_micros(search, &lo, &hi);
    TsRange probe = widen_range(search, res->before_us, res->after_us);
    ExList ex;
    read_exceptions(res, key, range_datum(probe), GetActiveSnapshot(), &ex);
    SchedZone z = zone_table(r->timezone, (__int128)lo - 2 * usecs_per_day, (__int128)hi + 2 * usecs_per_day);
    int cap = sched_interval_bound(r->policy, z, ex.n, lo, hi);
    sg::sched::Interval* open = (sg::sched::Interval*)palloc(sizeof(sg::sched::Interval) * cap);
    int n_open = 0;
    BridgeError err;
    if (!bridge_opening(r->policy, z, ex.items, ex.n, lo, hi, false, open, cap, &n_open, &err))
        raise_bridge_error(err);
    // The bookings, and the closed and busy time as taken seats.
    Occupants all = {NULL, 0, 0};
    for (int i = 0; i < occ->n; ++i) append_occupant(&all, occ->items[i]);
    add_closed_occupants(res, key, search, GetActiveSnapshot(), true, &all);
    sg::SlotQuery q;
    q.capacity = res->capacity;
    q.seats = seats;
    q.buffer_before = res->before_us;
    q.buffer_after = res->after_us;
    int64 now = GetCurrentTransactionStartTimestamp();
    int months = step ? step->month : 0, days = step ? step->day : 0;
    int64 us = step ? step->time : duration;
    bool plain = months == 0 && days == 0;
    int n_out = 0;
    for (int i = 0; i < n_open && n_out < max_out; ++i) {
        CHECK_FOR_INTERRUPTS();
        const sg::sched::Interval& s = open[i];
        int k = 0;
        if (plain) {
            // All spans at once (one capacity profile); then filtered below.
            sg::Span* spans = (sg::Span*)palloc(sizeof(sg::Span) * (n_open > 0 ? n_open : 1));
            for (int j = 0; j < n_open; ++j) spans[j] = sg::make_span(open[j].lo, true, open[j].hi, false);
            if (!bridge_free_slots_spans(all.items, all.n, q, spans, n_open, duration, us, max_out, out, &k, &err))
                raise_bridge_error(err);
            i = n_open;
        } else {
            int room = max_out - n_out;
            sg::Micros* starts = (sg::Micros*)palloc(sizeof(sg::Micros) * room);
            int n_starts = 0;
            if (!bridge_local_grid(z, s.lo, s.hi, duration, months, days, us, starts, room, &n_starts, &err))
                raise_bridge_error(err);
            for (int j = 0; j < n_starts; ++j) {
                int one = 0;
                if (!bridge_free_slots(all.items, all.n, q, sg::make_span(starts[j], true, starts[j] + duration, false),
                                       starts[j], duration, duration, 1, out + n_out + k, &one, &err))
                    raise_bridge_error(err);
                k += one;
            }
            pfree(starts);
        }
        // Notice and advance, on each slot's start.
        int kept = 0;
        for (int j = 0; j < k; ++j) {
            sg::Bound b = sg::decode_lower(out[n_out + j].lo);
            if (p->has_min_notice && ((__int128)b.t - now < p->min_notice)) continue;
            if (p->has_max_advance && ((__int128)b.t - now > p->max_advance)) continue;
            out[n_out + kept++] = out[n_out + j];
        }
        n_out += kept;
    }
    return drop_full_days(res, key, z, lo, hi, out, n_out);
}

}  // namespace sgpg
