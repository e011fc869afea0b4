// A set of bookings admitted as one (series, book_together, book_any): the
// rows are targets of one admit_write, written by one INSERT in one
// subtransaction, so every row fits or none is written, at the cost of one
// scan per row (no subtransaction per row). Resources are read and locked
// in key order, the one global order of every multi-resource call.
#include "series/series.hpp"
#include "schedule/schedule.hpp"

#include "lib/stringinfo.h"

namespace sgpg {
namespace {

bool blank(text* t) {
    const char* p = VARDATA_ANY(t);
    for (int i = 0; i < (int)VARSIZE_ANY_EXHDR(t); ++i)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') return false;
    return true;
}

int compare_keys(const void* a, const void* b) { return compare_text_bytes(*(text* const*)a, *(text* const*)b); }

int compare_resources(const void* a, const void* b) {
    return compare_text_bytes(((const SetResource*)a)->key, ((const SetResource*)b)->key);
}

}  // namespace

text** key_array_arg(FunctionCallInfo fcinfo, int argno, const char* name, const char* what, int* n) {
    require_arg(fcinfo, argno, name);
    ArrayType* arr = PG_GETARG_ARRAYTYPE_P(argno);
    if (ARR_NDIM(arr) > 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must be a one-dimensional array", name)));
    int count = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
    if (count > max_set_keys)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s must list at most %d names, got %d", name, max_set_keys, count)));
    if (count == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be empty", name)));
    Datum* elems;
    bool* nulls;
    deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
    text** keys = (text**)palloc(sizeof(text*) * *n);
    for (int i = 0; i < *n; ++i) {
        CHECK_FOR_INTERRUPTS();
        if (nulls[i] || blank(DatumGetTextPP(elems[i])))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s names must not be NULL or blank", what)));
        keys[i] = DatumGetTextPP(elems[i]);
        check_key_length(keys[i], what);
    }
    text** sorted = (text**)palloc(sizeof(text*) * *n);
    memcpy(sorted, keys, sizeof(text*) * *n);
    qsort(sorted, *n, sizeof(text*), compare_keys);
    for (int i = 1; i < *n; ++i)
        if (same_text(sorted[i], sorted[i - 1]))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("%s \"%s\" is listed more than once", what, text_to_cstring(sorted[i]))));
    pfree(sorted);
    return keys;
}

// The same computation as book_slot's (booking_api.cpp parse_book_args).
TimestampTz hold_expiry(const Interval* h) {
    int64 us = interval_micros(h, "hold");
    if (us <= 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("hold must be a positive interval")));
    __int128 most = (__int128)h->month * (h->month > 0 ? 31 : 28) * USECS_PER_DAY +
                    (__int128)h->day * (h->day > 0 ? 25 : 23) * USECS_PER_HOUR + h->time;
    __int128 end = (__int128)GetCurrentTransactionStartTimestamp() + most;
    TimestampTz expires = end > PG_INT64_MAX ? DT_NOEND : (TimestampTz)end;
    if (end > PG_INT64_MAX || !IS_VALID_TIMESTAMP(expires))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("hold is too long")));
    return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
                                                   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
                                                   PointerGetDatum(h)));
}

const SetResource* find_set_resource(const SetResource* res, int n_res, text* key) {
    SetResource probe;
    probe.key = key;
    const SetResource* hit = (const SetResource*)bsearch(&probe, res, n_res, sizeof(SetResource), compare_resources);
    if (hit == NULL) elog(ERROR, "slotguard: resource of a set row not read");
    return hit;
}

SetResource* set_resources(const SetRequest* req, int* n_res) {
    SetResource* res = (SetResource*)palloc(sizeof(SetResource) * req->n);
    int n = 0;
    for (int i = 0; i < req->n; ++i) {
        // A series repeats one key: only neighbours need comparing there,
        // a group's keys are distinct already; the sort below dedups the rest.
        if (n > 0 && same_text(res[n - 1].key, req->keys[i])) continue;
        res[n++].key = req->keys[i];
    }
    qsort(res, n, sizeof(SetResource), compare_resources);
    int m = 0;
    for (int i = 0; i < n; ++i)
        if (m == 0 || !same_text(res[m - 1].key, res[i].key)) res[m++] = res[i];
    // Another tenant's resource is as if it did not exist (book_slot's rule).
    for (int i = 0; i < m; ++i)
        if (!tenant_allowed(req->conf, res[i].key)) {
            if (auto_create_resources) require_tenant_write(req->conf, res[i].key, "create a resource");
            raise_unknown_resource(res[i].key);
        }
    for (int i = 0; i < m; ++i) {
        CHECK_FOR_INTERRUPTS();
        res[i].res = read_resource(res[i].key, true);
    }
    *n_res = m;
    return res;
}

namespace {

struct SetWrite {
    const SetRequest* req;
    const AdmitTarget* targets;  // [req->n] the rows, then the rows' per-day limits
    const int* row_of;           // [n_targets] the row of each target
    int n_targets;
    GuardedRels* rels;
    int64 set_id;
    Datum* rows;   // in the caller's context
    int64* ids;
};

void take_set_id(SetWrite* w) {
    if (w->set_id != 0) return;
    if (SPI_execute_plan(series_plan(SPLAN_NEXT_SET_ID), NULL, NULL, false, 1) != SPI_OK_SELECT)
        elog(ERROR, "slotguard: no set id");
    bool isnull;
    w->set_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

// Forms row i of the set in d, with the set column (series_id or group_id).
void form_set_row(SetWrite* w, DirectInsert* d, AttrNumber set_col, int i) {
    const SetRequest* req = w->req;
    BookingValues bv;
    bv.key = req->keys[i];
    bv.during = w->targets[i].during;
    bv.seats = req->seats;
    bv.status = req->held ? "held" : "confirmed";
    bv.holder = req->holder;
    bv.idem = i == 0 ? req->idem : NULL;
    bv.has_expires = req->held;
    bv.expires = req->expires;
    bv.has_metadata = req->has_metadata;
    bv.metadata = req->metadata;
    bv.blocked = w->targets[i].blocked;
    direct_insert_form(d, &bv);
    int col = set_col;
    Datum value = Int64GetDatum(w->set_id);
    bool isnull = false;
    d->tuple = heap_modify_tuple_by_cols(d->tuple, RelationGetDescr(d->rel), 1, &col, &value, &isnull);
}

// The set column a direct write fills, or InvalidAttrNumber (then SQL).
AttrNumber set_column(Relation heap, bool series) {
    TupleDesc desc = RelationGetDescr(heap);
    AttrNumber c = column_if_exists(desc, series ? "series_id" : "group_id");
    return c != InvalidAttrNumber && TupleDescAttr(desc, c - 1)->atttypid == INT8OID ? c : InvalidAttrNumber;
}

// The rows straight into the heap and indexes, as book_slot writes its
// booking (booking_insert.cpp), but each one confirmed at once: inside the
// admission's subtransaction it is then an ordinary row of that
// subtransaction, as an INSERT's would be. The set column (series_id or
// group_id) is put into the formed row. False when the table has anything
// only an SQL INSERT reproduces: write_set_sql then.
bool write_set_direct(SetWrite* w, ItemPointer tids, MemoryContext result_cxt) {
    const SetRequest* req = w->req;
    DirectInsert d;
    if (!direct_insert_begin(&d, w->rels->heap)) return false;
    AttrNumber set_col = set_column(w->rels->heap, req->series);
    if (set_col == InvalidAttrNumber) return false;
    take_set_id(w);
    for (int i = 0; i < req->n; ++i) {
        CHECK_FOR_INTERRUPTS();
        form_set_row(w, &d, set_col, i);
        TransactionId xid = GetCurrentTransactionId();
        uint32 token = SpeculativeInsertionLockAcquire(xid);
        direct_insert_speculative(&d, token, &tids[i]);
        direct_insert_decide(&d, true);
        SpeculativeInsertionLockRelease(xid);
        MemoryContext old = MemoryContextSwitchTo(result_cxt);
        w->rows[i] = direct_insert_row(&d);
        MemoryContextSwitchTo(old);
        w->ids[i] = d.id;
    }
    direct_insert_end(&d);
    return true;
}

void write_set_sql(SetWrite* w, ItemPointer tids) {
    const SetRequest* req = w->req;
    take_set_id(w);
    Datum* keys = (Datum*)palloc(sizeof(Datum) * req->n);
    Datum* during = (Datum*)palloc(sizeof(Datum) * req->n);
    Datum* blocked = (Datum*)palloc(sizeof(Datum) * req->n);
    for (int i = 0; i < req->n; ++i) {
        keys[i] = PointerGetDatum(req->keys[i]);
        during[i] = w->targets[i].during;
        blocked[i] = w->targets[i].blocked;
    }
    TypeCacheEntry* tc = lookup_type_cache(TSTZRANGEOID, 0);
    Datum v[9] = {PointerGetDatum(construct_array(keys, req->n, TEXTOID, -1, false, TYPALIGN_INT)),
                  PointerGetDatum(construct_array(during, req->n, TSTZRANGEOID, tc->typlen, tc->typbyval, tc->typalign)),
                  PointerGetDatum(construct_array(blocked, req->n, TSTZRANGEOID, tc->typlen, tc->typbyval, tc->typalign)),
                  Int32GetDatum(req->seats),
                  PointerGetDatum(req->holder),
                  PointerGetDatum(req->idem),
                  TimestampTzGetDatum(req->expires),
                  req->metadata,
                  Int64GetDatum(w->set_id)};
    char nulls[10] = "         ";
    if (req->holder == NULL) nulls[4] = 'n';
    if (req->idem == NULL) nulls[5] = 'n';
    if (!req->held) nulls[6] = 'n';
    if (!req->has_metadata) nulls[7] = 'n';
    int rc = SPI_execute_plan(series_plan(req->series ? SPLAN_INSERT_SERIES : SPLAN_INSERT_GROUP), v, nulls, false, 0);
    if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != (uint64)req->n)
        elog(ERROR, "slotguard: writing a set of %d bookings failed", req->n);
    for (int i = 0; i < req->n; ++i) {
        CHECK_FOR_INTERRUPTS();
        bool isnull;
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        tids[i] = *(ItemPointer)DatumGetPointer(SPI_getbinval(t, d, 1, &isnull));
        w->rows[i] = SPI_datumTransfer(SPI_getbinval(t, d, 2, &isnull), false, -1);
        w->ids[i] = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
    }
}

void write_set(void* arg, ItemPointer tids, Datum* row, MemoryContext result_cxt) {
    SetWrite* w = (SetWrite*)arg;
    int mark = begin_internal_write();
    if (!write_set_direct(w, tids, result_cxt)) write_set_sql(w, tids);
    end_internal_write(mark);
    // A per-day limit target's new row is its booking row (book_slot's
    // pattern): each scan skips that row and counts the set's other rows.
    for (int t = w->req->n; t < w->n_targets; ++t) tids[t] = tids[w->row_of[t]];
    *row = (Datum)0;
}

// One row without an idempotency key: admitted as book_slot admits its
// booking, a speculative insertion without a subtransaction (admit_insert).
struct SingleWrite {
    SetWrite* w;
    DirectInsert* d;
    AttrNumber set_col;
    bool formed;  // formed on the first write: a refusal uses no id
};

bool single_insert(void* arg, uint32 token, ItemPointer tid) {
    SingleWrite* s = (SingleWrite*)arg;
    if (!s->formed) {
        take_set_id(s->w);
        form_set_row(s->w, s->d, s->set_col, 0);
        s->formed = true;
    }
    int mark = begin_internal_write();
    direct_insert_speculative(s->d, token, tid);
    end_internal_write(mark);
    return true;
}

void single_decide(void* arg, bool keep) { direct_insert_decide(((SingleWrite*)arg)->d, keep); }

// Before the first write: every resource lock, in key order, held to
// commit; false if a resource's settings changed since they were read.
struct SetLocks {
    SetResource* res;
    int n_res;
};

bool lock_set(void* arg) {
    SetLocks* l = (SetLocks*)arg;
    bool same = true;
    for (int i = 0; i < l->n_res; ++i) {
        lock_resource(l->res[i].key, ShareLock);
        ResourceInfo now = read_resource(l->res[i].key, false);
        const ResourceInfo* used = &l->res[i].res;
        if (now.capacity != used->capacity || now.before_us != used->before_us || now.after_us != used->after_us ||
            now.rules_version != used->rules_version)
            same = false;
        l->res[i].res = now;
    }
    return same;
}

// The ids a per-day limit refusal names: none means the call's own rows
// filled the day.
char* day_ids_text(const int64* ids, int n_shown, int n_total) {
    if (n_total == 0) return pstrdup("other bookings of this call");
    return shown_id_list(ids, n_shown, n_total);
}

}  // namespace

void admit_set(const SetRequest* req, SetResource* res, int n_res, GuardedRels* rels, SetResult* out) {
    out->rows = (Datum*)palloc(sizeof(Datum) * req->n);
    out->ids = (int64*)palloc0(sizeof(int64) * req->n);
    out->n_rows = 0;
    out->verdicts = NULL;
    out->first_conflict = out->conflict_row = -1;
    out->conflict_reason = NULL;
    out->set_id = 0;
    // The rows, then each row's per-day limits (at most two: API.md §10).
    AdmitTarget* targets = (AdmitTarget*)palloc(sizeof(AdmitTarget) * req->n * 3);
    int* row_of = (int*)palloc(sizeof(int) * req->n * 3);
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        for (int i = 0; i < req->n; ++i) {
            const SetResource* r = find_set_resource(res, n_res, req->keys[i]);
            check_seats_fit(req->seats, r->res.capacity, r->key);
            TsRange blocked = widen_range(req->ranges[i], r->res.before_us, r->res.after_us);
            // §10: each row is a booking of its own and obeys the static
            // rules book_slot checks (opening hours, closures, busy time,
            // notice, advance, duration); explain_set names the rule.
            RuleRefusal refusal = {NULL};
            if (!check_booking_rules(&r->res, r->key, req->ranges[i], blocked, &refusal)) {
                out->outcome = SET_CONFLICT;
                out->conflict_row = i;
                out->conflict_reason = refusal.detail;
                return;
            }
            targets[i] = AdmitTarget{rels, collect_occupants, r->key, range_datum(req->ranges[i]), range_datum(blocked),
                                     span_of(blocked), req->seats, r->res.capacity, NULL, (Datum)0};
            row_of[i] = i;
        }
        // §10: the per-day limits of each row's local day are admitted like
        // capacity, as book_slot admits them: the set's rows on one day
        // count against each other (each day target's scan skips only its
        // own row), so a limit holds under concurrency for sets too.
        int n_targets = req->n;
        for (int i = 0; i < req->n; ++i) {
            CHECK_FOR_INTERRUPTS();
            const SetResource* r = find_set_resource(res, n_res, req->keys[i]);
            int k = day_limit_targets(&r->res, rels, r->key, req->ranges[i], req->holder, NULL, targets + n_targets);
            for (int j = 0; j < k; ++j) row_of[n_targets + j] = i;
            n_targets += k;
        }
        SetWrite w = {req, targets, row_of, n_targets, rels, 0, out->rows, out->ids};
        SetLocks locks = {res, n_res};
        AdmitResult ar;
        DirectInsert d;
        AttrNumber set_col = InvalidAttrNumber;
        bool single = req->n == 1 && req->idem == NULL && (set_col = set_column(rels->heap, req->series)) != InvalidAttrNumber &&
                      direct_insert_begin(&d, rels->heap);
        if (single) {
            SingleWrite sw = {&w, &d, set_col, false};
            admit_insert_n(targets, n_targets, single_insert, single_decide, &sw, &ar, lock_set, &locks);
            if (ar.outcome == ADMIT_OK) {
                out->rows[0] = direct_insert_row(&d);
                out->ids[0] = d.id;
            }
            direct_insert_end(&d);
        } else {
            admit_write(targets, n_targets, write_set, &w, &ar, lock_set, &locks);
        }
        if (ar.outcome == ADMIT_RETRY) continue;  // settings changed: targets again
        if (ar.outcome == ADMIT_OK) {
            out->outcome = SET_BOOKED;
            out->n_rows = req->n;
            out->set_id = w.set_id;
            return;
        }
        if (ar.outcome == ADMIT_DUPLICATE_KEY) {
            // A concurrent call with the same key won: the caller replays it.
            out->outcome = SET_REPLAYED;
            out->n_rows = 0;
            return;
        }
        out->outcome = SET_CONFLICT;
        out->conflict_row = ar.conflict_target >= 0 ? row_of[ar.conflict_target] : 0;
        if (ar.conflict_target >= req->n) {
            // The set's own rows (written, then undone) are not named.
            int n_ids = 0;
            for (int c = 0; c < ar.n_conflicts; ++c) {
                bool own = false;
                for (int i = 0; i < req->n && !own; ++i) own = out->ids[i] == ar.conflict_ids[c];
                if (!own) ar.conflict_ids[n_ids++] = ar.conflict_ids[c];
            }
            ar.n_conflicts = n_ids;
            int n_shown;
            shown_booking_ids(req->conf, ar.conflict_ids, ar.n_conflicts, &n_shown);
            out->conflict_reason =
                day_limit_detail(&targets[ar.conflict_target], day_ids_text(ar.conflict_ids, n_shown, ar.n_conflicts));
        }
        return;
    }
}

namespace {

// Row i (which fits alone) against its per-day limits: the bookings that
// start on its local day now (pending writers included), plus the set's
// earlier rows on that day of the same resource.
void explain_day_limits(const SetRequest* req, const SetResource* r, const GuardedRels* rels, int i, RowVerdict* v) {
    AdmitTarget dt[2];
    int k = day_limit_targets(&r->res, rels, r->key, req->ranges[i], req->holder, NULL, dt);
    for (int j = 0; j < k; ++j) {
        TsRange day = decode_range(dt[j].blocked);
        int own = 0;
        for (int m = 0; m < i; ++m) {
            if (!same_text(req->keys[m], r->key)) continue;
            const TsRange& d = req->ranges[m];
            int64 lo = d.lower_inc ? d.lower : d.lower + 1;
            if (day.lower <= lo && lo < day.upper) ++own;
        }
        Occupants occ;
        dt[j].collect(rels, r->key, dt[j].blocked, true, NULL, &occ);
        if (occ.n + own + 1 <= dt[j].capacity) {
            if (occ.items) pfree(occ.items);
            continue;
        }
        v->fits = false;
        v->ids = (int64*)palloc(sizeof(int64) * (occ.n > 0 ? occ.n : 1));
        for (int o = 0; o < occ.n; ++o) v->ids[o] = occ.items[o].id;
        v->n_total = occ.n;
        shown_booking_ids(req->conf, v->ids, occ.n, &v->n_ids);
        v->reason = day_limit_detail(&dt[j], day_ids_text(v->ids, v->n_ids, v->n_total));
        v->by_rule = true;
        if (occ.items) pfree(occ.items);
        return;
    }
}

}  // namespace

void explain_set(const SetRequest* req, const SetResource* res, int n_res, const GuardedRels* rels, SetResult* out) {
    out->verdicts = (RowVerdict*)palloc0(sizeof(RowVerdict) * req->n);
    out->first_conflict = -1;
    for (int i = 0; i < req->n; ++i) {
        CHECK_FOR_INTERRUPTS();
        const SetResource* r = find_set_resource(res, n_res, req->keys[i]);
        TsRange blocked = widen_range(req->ranges[i], r->res.before_us, r->res.after_us);
        RuleRefusal refusal = {NULL};
        if (!check_booking_rules(&r->res, r->key, req->ranges[i], blocked, &refusal)) {
            RowVerdict* v = &out->verdicts[i];
            v->fits = false;
            v->ids = NULL;
            v->n_ids = v->n_total = 0;
            v->reason = refusal.detail;
            continue;
        }
        Occupants occ;
        collect_occupants(rels, r->key, range_datum(blocked), true, NULL, &occ);
        int room = occ.n > 0 ? occ.n : 1;
        FitOut fit;
        fit.ids = (int64*)palloc(sizeof(int64) * room);
        fit.xids = (sg::Xid*)palloc(sizeof(sg::Xid) * room);
        BridgeError err;
        if (!bridge_check_fit(span_of(blocked), req->seats, r->res.capacity, occ.items, occ.n, &fit, &err))
            raise_bridge_error(err);
        RowVerdict* v = &out->verdicts[i];
        v->fits = fit.verdict != sg::Verdict::Conflict;
        if (!v->fits) {
            v->ids = fit.ids;
            v->n_total = fit.n_ids;
            shown_booking_ids(req->conf, v->ids, fit.n_ids, &v->n_ids);
            v->reason = "conflict";
        }
        if (occ.items) pfree(occ.items);
        if (v->fits) explain_day_limits(req, r, rels, i, v);
    }
    // Alone each row fits, together they do not: the set's own rows
    // overlap beyond the capacity (or a writer committed in between).
    int refused = out->conflict_row >= 0 ? out->conflict_row : 0;
    bool any = false;
    for (int i = 0; i < req->n; ++i) any = any || !out->verdicts[i].fits;
    if (!any) {
        RowVerdict* v = &out->verdicts[refused];
        v->fits = false;
        v->ids = NULL;
        v->n_ids = v->n_total = 0;
        v->reason = "overlaps another booking of the same call";
        // A per-day limit the rows met only together: its name.
        if (out->conflict_reason != NULL && strncmp(out->conflict_reason, "max_per_", 8) == 0) {
            v->reason = out->conflict_reason;
            v->by_rule = true;
        }
    }
    for (int i = 0; i < req->n && out->first_conflict < 0; ++i)
        if (!out->verdicts[i].fits) out->first_conflict = i;
}

void raise_set_conflict(const SetRequest* req, const SetResource* res, int n_res, const GuardedRels* rels,
                        const SetResult* out, const char* what) {
    StringInfoData detail, hint;
    initStringInfo(&detail);
    initStringInfo(&hint);
    int n_bad = 0;
    for (int i = 0; i < req->n; ++i) n_bad += out->verdicts[i].fits ? 0 : 1;
    appendStringInfoString(&detail, n_bad == 1 ? "Does not fit: " : "Do not fit: ");
    int listed = 0;
    for (int i = 0; i < req->n; ++i) {
        const RowVerdict* v = &out->verdicts[i];
        if (v->fits) continue;
        if (listed == max_listed_ids) {
            appendStringInfo(&detail, "; and %d more", n_bad - listed);
            break;
        }
        if (req->series)
            appendStringInfo(&detail, "%s%s (", listed ? "; " : "", range_text(range_datum(req->ranges[i])));
        else
            appendStringInfo(&detail, "%s\"%s\" (", listed ? "; " : "", text_to_cstring(req->keys[i]));
        if (v->n_total > 0 && !v->by_rule)
            appendStringInfo(&detail, "%s %s)", v->n_total == 1 ? "conflicting booking" : "conflicting bookings",
                             shown_id_list(v->ids, v->n_ids, v->n_total));
        else
            appendStringInfo(&detail, "%s)", v->reason);
        ++listed;
    }
    appendStringInfoChar(&detail, '.');
    int first = out->first_conflict;
    if (max_suggestions > 0 && first >= 0) {
        const SetResource* r = find_set_resource(res, n_res, req->keys[first]);
        Datum* alts = (Datum*)palloc(sizeof(Datum) * max_suggestions);
        int n_alts = suggest_alternatives(rels, r->key, req->ranges[first], req->seats, &r->res, NULL, NULL, alts,
                                          max_suggestions);
        n_alts = filter_suggestions(&r->res, rels, r->key, req->seats, req->holder, NULL, alts, n_alts);
        if (n_alts > 0) {
            appendStringInfo(&hint, "Free alternatives for \"%s\" %s: ", text_to_cstring(r->key),
                             range_text(range_datum(req->ranges[first])));
            for (int i = 0; i < n_alts; ++i) appendStringInfo(&hint, "%s%s", i ? ", " : "", range_text(alts[i]));
            appendStringInfoChar(&hint, '.');
        } else {
            appendStringInfo(&hint, "No free alternative of the same length near %s.",
                             range_text(range_datum(req->ranges[first])));
        }
    }
    ereport(ERROR, (errcode(ERRCODE_EXCLUSION_VIOLATION), errmsg("%s", what), errdetail("%s", detail.data),
                    hint.len > 0 ? errhint("%s", hint.data) : 0));
    pg_unreachable();
}

bool range_is(Datum stored, const TsRange& r) {
    TsRange s = decode_range(stored);
    return s.lower == r.lower && s.upper == r.upper && s.lower_inc == r.lower_inc && s.upper_inc == r.upper_inc;
}

Datum booking_field(HeapTupleHeader row, const char* name, bool* isnull) {
    return GetAttributeByName(row, name, isnull);
}

bool find_set_by_key(const SetRequest* req, SameSetFn same, void* arg, SetResult* out) {
    Datum v[2] = {PointerGetDatum(req->idem), PointerGetDatum(req->keys[0])};
    run_latest(series_plan(SPLAN_SET_BY_KEY), v, NULL, 1);
    if (SPI_processed == 0) return false;
    bool snull, gnull;
    Datum s = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &snull);
    Datum g = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &gnull);
    bool ok = req->series ? !snull : !gnull;
    int n = 0;
    HeapTupleHeader* rows = NULL;
    if (ok) {
        Datum id = req->series ? s : g;
        Datum rv[1] = {id};
        run_latest(series_plan(req->series ? SPLAN_SERIES_ROWS : SPLAN_GROUP_ROWS), rv, NULL, 0);
        n = (int)SPI_processed;
        rows = (HeapTupleHeader*)palloc(sizeof(HeapTupleHeader) * (n > 0 ? n : 1));
        out->rows = (Datum*)palloc(sizeof(Datum) * (n > 0 ? n : 1));
        for (int i = 0; i < n; ++i) {
            bool isnull;
            out->rows[i] = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull),
                                             false, -1);
            rows[i] = DatumGetHeapTupleHeader(out->rows[i]);
        }
        ok = n > 0 && same(arg, req, rows, n);
        // Another holder's bookings are never handed to a holder-confined caller.
        for (int i = 0; ok && i < n && req->conf->confined && req->conf->holder != NULL; ++i) {
            bool hnull;
            Datum h = booking_field(rows[i], "holder", &hnull);
            ok = !hnull && same_text(DatumGetTextPP(h), req->conf->holder);
        }
        out->set_id = DatumGetInt64(id);
    }
    if (!ok)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("idempotency key \"%s\" was already used with other arguments",
                               text_to_cstring(req->idem)),
                        errhint("Use a new key for a different booking.")));
    out->outcome = SET_REPLAYED;
    out->n_rows = n;
    return true;
}

void put_rows(ReturnSetInfo* rsinfo, const Datum* rows, int n) {
    for (int i = 0; i < n; ++i) {
        HeapTupleHeader h = DatumGetHeapTupleHeader(rows[i]);
        HeapTupleData tuple;
        tuple.t_len = HeapTupleHeaderGetDatumLength(h);
        ItemPointerSetInvalid(&tuple.t_self);
        tuple.t_tableOid = InvalidOid;
        tuple.t_data = h;
        tuplestore_puttuple(rsinfo->setResult, &tuple);
    }
}

}  // namespace sgpg
