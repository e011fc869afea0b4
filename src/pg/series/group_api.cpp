// SQL entry points of API.md §11 for groups: book_together (the same range
// on every resource) and book_any (count of the resources, least loaded
// first, a candidate taken meanwhile replaced by the next free one).
#include "series/series.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_book_together);
PG_FUNCTION_INFO_V1(sg_book_any);
}

namespace sgpg {
namespace {

int compare_keys(const void* a, const void* b) { return compare_text_bytes(*(text* const*)a, *(text* const*)b); }

bool in_sorted(text* const* sorted, int n, text* key) {
    return bsearch(&key, sorted, n, sizeof(text*), compare_keys) != NULL;
}

text** sorted_copy(text** keys, int n) {
    text** s = (text**)palloc(sizeof(text*) * n);
    memcpy(s, keys, sizeof(text*) * n);
    qsort(s, n, sizeof(text*), compare_keys);
    return s;
}

// The arguments after resources and during (and count), shared by both.
void parse_common(FunctionCallInfo fcinfo, int first_arg, const Confinement* conf, SetRequest* req) {
    req->seats = seats_arg(fcinfo, first_arg);
    req->holder = PG_ARGISNULL(first_arg + 1) ? NULL : PG_GETARG_TEXT_PP(first_arg + 1);
    if (req->holder != NULL) check_key_length(req->holder, "holder");
    req->held = !PG_ARGISNULL(first_arg + 2);
    req->expires = req->held ? hold_expiry(PG_GETARG_INTERVAL_P(first_arg + 2)) : 0;
    req->idem = PG_ARGISNULL(first_arg + 3) ? NULL : key_text_arg(fcinfo, first_arg + 3, "idempotency_key");
    req->has_metadata = !PG_ARGISNULL(first_arg + 4);
    req->metadata = req->has_metadata ? PG_GETARG_DATUM(first_arg + 4) : (Datum)0;
    if (req->has_metadata) check_metadata_size(req->metadata, "metadata");
    req->series = false;
    req->conf = conf;
    if (conf->confined && conf->holder != NULL) {
        if (req->holder == NULL)
            req->holder = conf->holder;
        else if (!same_text(req->holder, conf->holder))
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("permission denied to book for holder \"%s\"", text_to_cstring(req->holder)),
                            errdetail("The role books only for the holder its claim names.")));
    }
}

// A replay of a group: `want` rows (0: as many as keys), every row on one of
// the keys (all of them for book_together), the same range and seats.
struct SameGroup {
    text** sorted_keys;
    int n_keys;
    int want;
    Datum during;
};

bool same_group(void* arg, const SetRequest* req, HeapTupleHeader* rows, int n) {
    const SameGroup* g = (const SameGroup*)arg;
    if (n != g->want) return false;
    for (int i = 0; i < n; ++i) {
        bool isnull;
        Datum k = booking_field(rows[i], "resource_key", &isnull);
        if (isnull || !in_sorted(g->sorted_keys, g->n_keys, DatumGetTextPP(k))) return false;
        Datum d = booking_field(rows[i], "during", &isnull);
        if (isnull || !range_is(d, req->ranges[0])) return false;
        Datum s = booking_field(rows[i], "seats", &isnull);
        if (isnull || DatumGetInt32(s) != req->seats) return false;
    }
    return true;
}

void finish(ReturnSetInfo* rsinfo, const SetResult* out, GuardedRels* rels, bool opened) {
    put_rows(rsinfo, out->rows, out->n_rows);
    if (opened) close_booking(rels, RowExclusiveLock);
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

// book_together(resources, during, seats, holder, hold, idempotency_key, metadata)
extern "C" Datum sg_book_together(PG_FUNCTION_ARGS) {
    require_writable("book_together");
    CallerScope scope = enter_api(fcinfo, "book_together");
    int n;
    text** keys = key_array_arg(fcinfo, 0, "resources", "resource", &n);
    require_arg(fcinfo, 1, "during");
    Datum during = RangeTypePGetDatum(PG_GETARG_RANGE_P(1));
    TsRange range = checked_range(during, "during");
    SetRequest req;
    parse_common(fcinfo, 2, &scope.conf, &req);
    req.n = n;
    req.keys = keys;
    req.ranges = (TsRange*)palloc(sizeof(TsRange) * n);
    for (int i = 0; i < n; ++i) req.ranges[i] = range;
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    SameGroup g = {sorted_copy(keys, n), n, n, during};
    SetResult out;
    GuardedRels rels;
    bool opened = false;
    SPI_connect();
    if (req.idem == NULL || !find_set_by_key(&req, same_group, &g, &out)) {
        int n_res;
        SetResource* res = set_resources(&req, &n_res);
        open_booking(&rels, RowExclusiveLock);
        opened = true;
        admit_set(&req, res, n_res, &rels, &out);
        if (out.outcome == SET_REPLAYED && !find_set_by_key(&req, same_group, &g, &out))
            elog(ERROR, "slotguard: idempotent group vanished; retry");
        // The same call, concurrently, committed first: a replay.
        if (out.outcome == SET_CONFLICT && req.idem != NULL && find_set_by_key(&req, same_group, &g, &out)) {
        } else if (out.outcome == SET_CONFLICT) {
            explain_set(&req, res, n_res, &rels, &out);
            raise_set_conflict(&req, res, n_res, &rels, &out,
                               psprintf("resources are not all available for %s", range_text(during)));
        }
    }
    finish(rsinfo, &out, &rels, opened);
    SPI_finish();
    leave_api(&scope);
    return (Datum)0;
}

// book_any(resources, during, count, seats, holder, hold, idempotency_key, metadata)
extern "C" Datum sg_book_any(PG_FUNCTION_ARGS) {
    require_writable("book_any");
    CallerScope scope = enter_api(fcinfo, "book_any");
    int n;
    text** keys = key_array_arg(fcinfo, 0, "resources", "resource", &n);
    require_arg(fcinfo, 1, "during");
    Datum during = RangeTypePGetDatum(PG_GETARG_RANGE_P(1));
    TsRange range = checked_range(during, "during");
    require_arg(fcinfo, 2, "count");
    int count = PG_GETARG_INT32(2);
    if (count < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("count must be at least 1, got %d", count)));
    if (count > n)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("count (%d) exceeds the number of resources listed (%d)", count, n)));
    SetRequest all;
    parse_common(fcinfo, 3, &scope.conf, &all);
    all.n = n;
    all.keys = keys;
    all.ranges = (TsRange*)palloc(sizeof(TsRange) * n);
    for (int i = 0; i < n; ++i) all.ranges[i] = range;
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    SameGroup g = {sorted_copy(keys, n), n, count, during};
    SetResult out;
    GuardedRels rels;
    bool opened = false;
    SPI_connect();
    // The key is looked up under the first listed resource's tenant.
    if (all.idem != NULL && find_set_by_key(&all, same_group, &g, &out)) {
        finish(rsinfo, &out, &rels, false);
        SPI_finish();
        leave_api(&scope);
        return (Datum)0;
    }
    int n_res;
    SetResource* res = set_resources(&all, &n_res);
    open_booking(&rels, RowExclusiveLock);
    opened = true;
    // Each candidate's load on that local day and whether it is free now:
    // one dirty scan over the day and the blocked range together.
    int64* loads = (int64*)palloc(sizeof(int64) * n);
    bool* free = (bool*)palloc(sizeof(bool) * n);
    int64** busy_ids = (int64**)palloc0(sizeof(int64*) * n);
    int* n_busy = (int*)palloc0(sizeof(int) * n);
    const char** why = (const char**)palloc0(sizeof(const char*) * n);
    for (int i = 0; i < n; ++i) {
        CHECK_FOR_INTERRUPTS();
        const SetResource* r = find_set_resource(res, n_res, keys[i]);
        TsRange blocked = widen_range(range, r->res.before_us, r->res.after_us);
        sg::Span day = local_day(range.lower, resource_zone(keys[i]));
        sg::Span want = span_of(blocked);
        TsRange probe = range_of(sg::Span{std::min<sg::Wide>(day.lo, want.lo), std::max<sg::Wide>(day.hi, want.hi)});
        Occupants occ;
        collect_occupants(&rels, keys[i], range_datum(probe), true, NULL, &occ);
        sg::Wide load = 0;
        for (int o = 0; o < occ.n; ++o) {
            sg::Wide lo = std::max<sg::Wide>(occ.items[o].blocked.lo, day.lo);
            sg::Wide hi = std::min<sg::Wide>(occ.items[o].blocked.hi, day.hi);
            if (hi > lo) load += (hi - lo) / 2;
        }
        loads[i] = (int64)load;
        if (all.seats > r->res.capacity) {
            free[i] = false;
        } else {
            int room = occ.n > 0 ? occ.n : 1;
            FitOut fit;
            fit.ids = (int64*)palloc(sizeof(int64) * room);
            fit.xids = (sg::Xid*)palloc(sizeof(sg::Xid) * room);
            BridgeError err;
            if (!bridge_check_fit(want, all.seats, r->res.capacity, occ.items, occ.n, &fit, &err))
                raise_bridge_error(err);
            free[i] = fit.verdict != sg::Verdict::Conflict;
            busy_ids[i] = fit.ids;
            n_busy[i] = free[i] ? 0 : fit.n_ids;
        }
        if (occ.items) pfree(occ.items);
    }
    int* order = (int*)palloc(sizeof(int) * n);
    int n_order = 0;
    BridgeError err;
    if (!bridge_least_loaded(loads, free, n, order, &n_order, &err)) raise_bridge_error(err);
    // Admit the first `count` of the order together; a row refused (taken
    // meanwhile) is replaced by the next candidate in the order.
    int* chosen = (int*)palloc(sizeof(int) * count);
    int next = 0, n_chosen = 0;
    while (n_chosen < count && next < n_order) chosen[n_chosen++] = order[next++];
    SetRequest req = all;
    req.keys = (text**)palloc(sizeof(text*) * count);
    req.ranges = all.ranges;
    SetResource* sub = (SetResource*)palloc(sizeof(SetResource) * count);
    bool booked = false;
    while (n_chosen == count) {
        CHECK_FOR_INTERRUPTS();
        req.n = count;
        for (int i = 0; i < count; ++i) req.keys[i] = keys[chosen[i]];
        int n_sub;
        // The chosen resources, sorted (set_resources' order), their settings as read.
        for (int i = 0; i < count; ++i) sub[i] = *find_set_resource(res, n_res, req.keys[i]);
        n_sub = count;
        qsort(sub, n_sub, sizeof(SetResource), [](const void* a, const void* b) {
            return compare_text_bytes(((const SetResource*)a)->key, ((const SetResource*)b)->key);
        });
        admit_set(&req, sub, n_sub, &rels, &out);
        if (out.outcome == SET_BOOKED) {
            booked = true;
            break;
        }
        if (out.outcome == SET_REPLAYED) {
            if (!find_set_by_key(&all, same_group, &g, &out)) elog(ERROR, "slotguard: idempotent group vanished; retry");
            booked = true;
            break;
        }
        // Taken meanwhile: the next free candidate instead.
        int lost = chosen[out.conflict_row];
        free[lost] = false;
        why[lost] = out.conflict_reason;  // a §10 rule (a per-day limit), or NULL
        if (next >= n_order) break;
        chosen[out.conflict_row] = order[next++];
    }
    // The same call, concurrently, committed first: a replay.
    if (!booked && all.idem != NULL && find_set_by_key(&all, same_group, &g, &out)) booked = true;
    if (!booked) {
        // Fewer than count can be had: which are taken, and by what.
        StringInfoData detail;
        initStringInfo(&detail);
        int n_free = 0;
        for (int i = 0; i < n; ++i) n_free += free[i] ? 1 : 0;
        appendStringInfoString(&detail, "Not free: ");
        int listed = 0;
        for (int i = 0; i < n; ++i) {
            if (free[i]) continue;
            if (listed == max_listed_ids) {
                appendStringInfo(&detail, "; and %d more", n - n_free - listed);
                break;
            }
            const SetResource* r = find_set_resource(res, n_res, keys[i]);
            if (all.seats > r->res.capacity) {
                appendStringInfo(&detail, "%s\"%s\" (capacity %d)", listed ? "; " : "", text_to_cstring(keys[i]),
                                 r->res.capacity);
            } else if (n_busy[i] > 0) {
                int n_shown;
                shown_booking_ids(&scope.conf, busy_ids[i], n_busy[i], &n_shown);
                appendStringInfo(&detail, "%s\"%s\" (%s %s)", listed ? "; " : "", text_to_cstring(keys[i]),
                                 n_busy[i] == 1 ? "conflicting booking" : "conflicting bookings",
                                 shown_id_list(busy_ids[i], n_shown, n_busy[i]));
            } else if (why[i] != NULL) {
                appendStringInfo(&detail, "%s\"%s\" (%s)", listed ? "; " : "", text_to_cstring(keys[i]), why[i]);
            } else {
                appendStringInfo(&detail, "%s\"%s\" (taken meanwhile)", listed ? "; " : "", text_to_cstring(keys[i]));
            }
            ++listed;
        }
        appendStringInfoChar(&detail, '.');
        ereport(ERROR, (errcode(ERRCODE_EXCLUSION_VIOLATION),
                        errmsg("only %d of the %d resources asked for are free for %s", n_free, count,
                               range_text(during)),
                        errdetail("%s", detail.data)));
    }
    finish(rsinfo, &out, &rels, opened);
    SPI_finish();
    leave_api(&scope);
    return (Datum)0;
}
