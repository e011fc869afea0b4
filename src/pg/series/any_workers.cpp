// assign_any_workers (API.md §11): count free workers from a pool, least
// busy that local day first, admitted together like assign_workers' (one
// subtransaction, the same wait rules: never 40P01); a worker taken
// meanwhile is replaced by the next free one.
#include "series/series.hpp"

#include "bookings/plans.hpp"
#include "lib/stringinfo.h"

extern "C" {
PG_FUNCTION_INFO_V1(sg_assign_any_workers);
}

namespace sgpg {
namespace {

int compare_names(const void* a, const void* b) { return compare_text_bytes(*(text* const*)a, *(text* const*)b); }

struct AddWorkers {
    int64 booking_id;
    const AdmitTarget* targets;
    int n;
    text* role;
    text* assigned_by;
    Datum during;
};

void insert_workers(void* arg, ItemPointer tids, Datum* row, MemoryContext) {
    const AddWorkers* a = (const AddWorkers*)arg;
    Datum* names = (Datum*)palloc(sizeof(Datum) * a->n);
    for (int i = 0; i < a->n; ++i) names[i] = PointerGetDatum(a->targets[i].key);
    Datum v[5] = {Int64GetDatum(a->booking_id),
                  PointerGetDatum(construct_array(names, a->n, TEXTOID, -1, false, TYPALIGN_INT)),
                  PointerGetDatum(a->role), PointerGetDatum(a->assigned_by), a->during};
    char nulls[6] = "     ";
    if (a->role == NULL) nulls[2] = 'n';
    if (a->assigned_by == NULL) nulls[3] = 'n';
    int mark = begin_internal_write();
    int rc = SPI_execute_plan(plan(PLAN_ASSIGN_INSERT), v, nulls, false, 0);
    end_internal_write(mark);
    if (rc != SPI_OK_INSERT_RETURNING) elog(ERROR, "slotguard: inserting assignments failed");
    match_returned(a->targets, a->n, tids);
    *row = (Datum)0;
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

// assign_any_workers(booking_id, pool, count, assigned_by, role)
static Datum assign_any_workers(FunctionCallInfo fcinfo, const Confinement* conf) {
    require_arg(fcinfo, 0, "booking_id");
    int n;
    text** pool = key_array_arg(fcinfo, 1, "pool", "worker", &n);
    require_arg(fcinfo, 2, "count");
    int count = PG_GETARG_INT32(2);
    if (count < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("count must be at least 1, got %d", count)));
    if (count > n)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("count (%d) exceeds the number of workers in the pool (%d)", count, n)));
    // Assigning another tenant's worker is writing in that tenant.
    for (int i = 0; i < n; ++i) require_tenant_write(conf, pool[i], "assign a worker");
    text* assigned_by = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);
    text* role = PG_ARGISNULL(4) ? NULL : PG_GETARG_TEXT_PP(4);
    if (assigned_by != NULL) check_key_length(assigned_by, "assigned_by");
    if (role != NULL) check_key_length(role, "role");
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;

    SPI_connect();
    LockedBooking b = lock_booking(fcinfo, conf);
    if (strcmp(b.status, "cancelled") == 0) raise_wrong_state(&b, "is cancelled");
    if (hold_expired(&b)) raise_wrong_state(&b, "is a hold that has expired");
    // Workers already on the booking are not added again (latest snapshot,
    // as assign_workers reads them).
    Datum av[1] = {Int64GetDatum(b.id)};
    run_latest(plan(PLAN_ASSIGN_ACTIVE), av, NULL, 0);
    int n_active = (int)SPI_processed;
    text** active = (text**)palloc(sizeof(text*) * (n_active > 0 ? n_active : 1));
    for (int r = 0; r < n_active; ++r) {
        bool isnull;
        active[r] = DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
    }
    qsort(active, n_active, sizeof(text*), compare_names);

    GuardedRels rels;
    open_assignment(&rels, RowExclusiveLock);
    Datum during = range_datum(b.range);
    sg::Span want = span_of(b.range);
    sg::Span day = local_day(b.range.lower, resource_zone(b.key));
    TsRange probe = range_of(sg::Span{std::min<sg::Wide>(day.lo, want.lo), std::max<sg::Wide>(day.hi, want.hi)});
    int64* loads = (int64*)palloc(sizeof(int64) * n);
    bool* free = (bool*)palloc(sizeof(bool) * n);
    int64** busy_ids = (int64**)palloc0(sizeof(int64*) * n);
    int* n_busy = (int*)palloc0(sizeof(int) * n);
    for (int i = 0; i < n; ++i) {
        CHECK_FOR_INTERRUPTS();
        loads[i] = 0;
        if (bsearch(&pool[i], active, n_active, sizeof(text*), compare_names) != NULL) {
            free[i] = false;  // already on this booking
            continue;
        }
        Occupants occ;
        collect_worker_occupants(&rels, pool[i], range_datum(probe), true, NULL, &occ);
        sg::Wide load = 0;
        for (int o = 0; o < occ.n; ++o) {
            sg::Wide lo = std::max<sg::Wide>(occ.items[o].blocked.lo, day.lo);
            sg::Wide hi = std::min<sg::Wide>(occ.items[o].blocked.hi, day.hi);
            if (hi > lo) load += (hi - lo) / 2;
        }
        loads[i] = (int64)load;
        int room = occ.n > 0 ? occ.n : 1;
        FitOut fit;
        fit.ids = (int64*)palloc(sizeof(int64) * room);
        fit.xids = (sg::Xid*)palloc(sizeof(sg::Xid) * room);
        BridgeError err;
        if (!bridge_check_fit(want, 1, 1, occ.items, occ.n, &fit, &err)) raise_bridge_error(err);
        free[i] = fit.verdict != sg::Verdict::Conflict;
        busy_ids[i] = fit.ids;
        n_busy[i] = free[i] ? 0 : fit.n_ids;
        if (occ.items) pfree(occ.items);
    }
    int* order = (int*)palloc(sizeof(int) * n);
    int n_order = 0;
    BridgeError err;
    if (!bridge_least_loaded(loads, free, n, order, &n_order, &err)) raise_bridge_error(err);
    int* chosen = (int*)palloc(sizeof(int) * count);
    int next = 0, n_chosen = 0;
    while (n_chosen < count && next < n_order) chosen[n_chosen++] = order[next++];
    AdmitTarget* targets = (AdmitTarget*)palloc(sizeof(AdmitTarget) * count);
    bool added = false;
    while (n_chosen == count) {
        CHECK_FOR_INTERRUPTS();
        for (int i = 0; i < count; ++i)
            targets[i] = AdmitTarget{&rels, collect_worker_occupants, pool[chosen[i]], during, during, want, 1, 1, NULL,
                                     (Datum)0};
        AddWorkers aw = {b.id, targets, count, role, assigned_by, during};
        AdmitResult ar;
        admit_write(targets, count, insert_workers, &aw, &ar);
        if (ar.outcome == ADMIT_OK) {
            added = true;
            break;
        }
        // Taken meanwhile: the next free worker instead.
        int lost = chosen[ar.conflict_target];
        free[lost] = false;
        busy_ids[lost] = ar.conflict_ids;
        n_busy[lost] = ar.n_conflicts;
        if (next >= n_order) break;
        chosen[ar.conflict_target] = order[next++];
    }
    if (!added) {
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
            if (n_busy[i] > 0) {
                int n_shown;
                shown_booking_ids(conf, busy_ids[i], n_busy[i], &n_shown);
                appendStringInfo(&detail, "%sworker \"%s\" (busy on %s %s)", listed ? "; " : "",
                                 text_to_cstring(pool[i]), n_busy[i] == 1 ? "booking" : "bookings",
                                 shown_id_list(busy_ids[i], n_shown, n_busy[i]));
            } else {
                appendStringInfo(&detail, "%sworker \"%s\" (already assigned)", listed ? "; " : "",
                                 text_to_cstring(pool[i]));
            }
            ++listed;
        }
        appendStringInfoChar(&detail, '.');
        ereport(ERROR, (errcode(ERRCODE_EXCLUSION_VIOLATION),
                        errmsg("only %d of the %d workers asked for are free for booking " INT64_FORMAT, n_free, count,
                               b.id),
                        errdetail("%s", detail.data)));
    }
    close_rels(&rels, RowExclusiveLock);
    Datum* names = (Datum*)palloc(sizeof(Datum) * count);
    for (int i = 0; i < count; ++i) names[i] = PointerGetDatum(pool[chosen[i]]);
    Datum lv[2] = {Int64GetDatum(b.id), PointerGetDatum(construct_array(names, count, TEXTOID, -1, false, TYPALIGN_INT))};
    run_latest(series_plan(SPLAN_ASSIGNED), lv, NULL, 0);
    int n_rows = (int)SPI_processed;
    Datum* rows = (Datum*)palloc(sizeof(Datum) * (n_rows > 0 ? n_rows : 1));
    for (int r = 0; r < n_rows; ++r) {
        bool isnull;
        rows[r] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
    }
    put_rows(rsinfo, rows, n_rows);
    SPI_finish();
    return (Datum)0;
}

extern "C" Datum sg_assign_any_workers(PG_FUNCTION_ARGS) {
    require_writable("assign_any_workers");
    CallerScope scope = enter_api(fcinfo, "assign_any_workers");
    Datum d = assign_any_workers(fcinfo, &scope.conf);
    leave_api(&scope);
    return d;
}
