// SQL entry points of contract §3: assign_workers, unassign_worker,
// worker_schedule.
#include "workers/workers.hpp"
#include "bookings/plans.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_assign_workers);
PG_FUNCTION_INFO_V1(sg_unassign_worker);
PG_FUNCTION_INFO_V1(sg_worker_schedule);
}

namespace sgpg {
namespace {

bool blank(text* t) {
    const char* p = VARDATA_ANY(t);
    for (int i = 0; i < (int)VARSIZE_ANY_EXHDR(t); ++i)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') return false;
    return true;
}

int compare_names(const void* a, const void* b) { return compare_text_bytes(*(text* const*)a, *(text* const*)b); }

// The workers argument as distinct, non-blank names of at most
// max_key_bytes, at most max_workers of them (22023 otherwise), in the
// caller's order (which the checks follow); duplicates are found by sorting
// a copy, so that they are neighbours.
text** worker_names(FunctionCallInfo fcinfo, int argno, int* n) {
    require_arg(fcinfo, argno, "workers");
    ArrayType* arr = PG_GETARG_ARRAYTYPE_P(argno);
    if (ARR_NDIM(arr) > 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("workers must be a one-dimensional array")));
    int count = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
    if (count > max_workers)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("workers must list at most %d names, got %d", max_workers, count)));
    Datum* elems;
    bool* nulls;
    deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
    text** names = (text**)palloc(sizeof(text*) * (*n > 0 ? *n : 1));
    for (int i = 0; i < *n; ++i) {
        CHECK_FOR_INTERRUPTS();
        if (nulls[i] || blank(DatumGetTextPP(elems[i])))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("worker names must not be NULL or blank")));
        names[i] = DatumGetTextPP(elems[i]);
        check_key_length(names[i], "a worker name");
    }
    text** sorted = (text**)palloc(sizeof(text*) * (*n > 0 ? *n : 1));
    memcpy(sorted, names, sizeof(text*) * *n);
    qsort(sorted, *n, sizeof(text*), compare_names);
    for (int i = 1; i < *n; ++i) {
        CHECK_FOR_INTERRUPTS();
        if (same_text(sorted[i], sorted[i - 1]))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("worker \"%s\" is listed more than once", text_to_cstring(sorted[i]))));
    }
    pfree(sorted);
    return names;
}

// Index of `name` among n names sorted by compare_names, or -1.
int find_name(text* const* sorted, int n, text* name) {
    text* const* hit = (text* const*)bsearch(&name, sorted, n, sizeof(text*), compare_names);
    return hit ? (int)(hit - sorted) : -1;
}

struct InsertAssignments {
    int64 booking_id;
    Datum wanted;  // text[]: every worker the booking should have
    const AdmitTarget* targets;
    int n;
    text* role;
    text* assigned_by;
    Datum during;
};

// Removes the workers no longer wanted, then adds the new ones: both in the
// admission's subtransaction, so backing out undoes the removals too (a
// removal left pending while waiting could deadlock with a crossing call).
void remove_unwanted(int64 booking_id, Datum wanted) {
    Datum rv[2] = {Int64GetDatum(booking_id), wanted};
    int mark = begin_internal_write();
    run_latest(plan(PLAN_ASSIGN_REMOVE_OTHERS), rv, NULL, 0);
    end_internal_write(mark);
}

void insert_assignments(void* arg, ItemPointer tids, Datum* row, MemoryContext) {
    const InsertAssignments* a = (const InsertAssignments*)arg;
    remove_unwanted(a->booking_id, a->wanted);
    Datum* names = (Datum*)palloc(sizeof(Datum) * a->n);
    for (int i = 0; i < a->n; ++i) names[i] = PointerGetDatum(a->targets[i].key);
    Datum v[5] = {Int64GetDatum(a->booking_id), PointerGetDatum(construct_array(names, a->n, TEXTOID, -1, false, TYPALIGN_INT)),
                  PointerGetDatum(a->role), PointerGetDatum(a->assigned_by), a->during};
    char nulls[6] = "     ";
    if (a->role == NULL) nulls[2] = 'n';
    if (a->assigned_by == NULL) nulls[3] = 'n';
    if (SPI_execute_plan(plan(PLAN_ASSIGN_INSERT), v, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
        elog(ERROR, "slotguard: inserting assignments failed");
    match_returned(a->targets, a->n, tids);
    *row = (Datum)0;
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

static Datum assign_workers(FunctionCallInfo fcinfo, const Confinement* conf) {
    require_arg(fcinfo, 0, "booking_id");
    int n;
    text** names = worker_names(fcinfo, 1, &n);
    // Assigning another tenant's worker is writing in that tenant.
    for (int i = 0; i < n; ++i) require_tenant_write(conf, names[i], "assign a worker");
    text* assigned_by = PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2);
    text* role = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;

    SPI_connect();
    LockedBooking b = lock_booking(fcinfo, conf);
    if (strcmp(b.status, "cancelled") == 0) raise_wrong_state(&b, "is cancelled");
    if (hold_expired(&b)) raise_wrong_state(&b, "is a hold that has expired");

    // The ones not yet active are added and checked.
    // Read with the latest snapshot: assignments committed after this
    // transaction's snapshot count (REPEATABLE READ / SERIALIZABLE).
    Datum av[1] = {Int64GetDatum(b.id)};
    run_latest(plan(PLAN_ASSIGN_ACTIVE), av, NULL, 0);
    SPITupleTable* active = SPI_tuptable;
    uint64 n_active = SPI_processed;
    GuardedRels rels;
    open_assignment(&rels, RowExclusiveLock);
    Datum during = range_datum(b.range);
    AdmitTarget* targets = (AdmitTarget*)palloc(sizeof(AdmitTarget) * (n > 0 ? n : 1));
    int n_new = 0;
    // The active workers, sorted to be found by name.
    text** active_names = (text**)palloc(sizeof(text*) * (n_active > 0 ? n_active : 1));
    for (uint64 r = 0; r < n_active; ++r) {
        CHECK_FOR_INTERRUPTS();
        bool isnull;
        active_names[r] = DatumGetTextPP(SPI_getbinval(active->vals[r], active->tupdesc, 1, &isnull));
    }
    qsort(active_names, n_active, sizeof(text*), compare_names);
    // The workers the booking keeps: the list, and for a confined caller
    // also the active workers of tenants it may not see, which for it do
    // not exist (it could not name them, and must not remove them).
    Datum* all = (Datum*)palloc(sizeof(Datum) * (n + n_active > 0 ? n + n_active : 1));
    int n_all = 0;
    for (int i = 0; i < n; ++i) all[n_all++] = PointerGetDatum(names[i]);
    if (conf->confined)
        for (uint64 r = 0; r < n_active; ++r)
            if (!tenant_allowed(conf, active_names[r])) all[n_all++] = PointerGetDatum(active_names[r]);
    Datum wanted = PointerGetDatum(construct_array(all, n_all, TEXTOID, -1, false, TYPALIGN_INT));
    for (int i = 0; i < n; ++i) {
        CHECK_FOR_INTERRUPTS();
        bool present = find_name(active_names, (int)n_active, names[i]) >= 0;
        if (!present)
            targets[n_new++] = AdmitTarget{&rels, collect_worker_occupants, names[i], during, during,
                                           span_of(b.range), 1, 1, NULL};
    }
    if (n_new > 0) {
        InsertAssignments ia = {b.id, wanted, targets, n_new, role, assigned_by, during};
        AdmitResult ar;
        admit_write(targets, n_new, insert_assignments, &ia, &ar);
        if (ar.outcome != ADMIT_OK) raise_worker_conflict(&targets[ar.conflict_target], &ar, conf);
    } else {
        // Only removals: nothing to check and nothing to wait for.
        remove_unwanted(b.id, wanted);
    }
    close_rels(&rels, RowExclusiveLock);

    run_latest(plan(PLAN_ASSIGN_LIST), av, NULL, 0);
    for (uint64 r = 0; r < SPI_processed; ++r) {
        bool isnull;
        HeapTupleHeader h = DatumGetHeapTupleHeader(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
        // Another tenant's worker, kept on the booking, is not shown.
        if (conf->confined) {
            bool wnull;
            Datum w = GetAttributeByName(h, "worker", &wnull);
            if (!wnull && !tenant_allowed(conf, DatumGetTextPP(w))) continue;
        }
        HeapTupleData tuple;
        tuple.t_len = HeapTupleHeaderGetDatumLength(h);
        ItemPointerSetInvalid(&tuple.t_self);
        tuple.t_tableOid = InvalidOid;
        tuple.t_data = h;
        tuplestore_puttuple(rsinfo->setResult, &tuple);
    }
    SPI_finish();
    return (Datum)0;
}

static bool unassign_worker(FunctionCallInfo fcinfo, const Confinement* conf) {
    require_arg(fcinfo, 0, "booking_id");
    text* worker = key_text_arg(fcinfo, 1, "worker");
    SPI_connect();
    LockedBooking b = lock_booking(fcinfo, conf);
    bool was_active = false;
    // Another tenant's worker is as if unknown: it was not active here.
    if (tenant_allowed(conf, worker)) {
        Datum v[2] = {Int64GetDatum(b.id), PointerGetDatum(worker)};
        int mark = begin_internal_write();
        run_latest(plan(PLAN_UNASSIGN), v, NULL, 0);
        end_internal_write(mark);
        was_active = SPI_processed > 0;
    }
    SPI_finish();
    return was_active;
}

static Datum worker_schedule(FunctionCallInfo fcinfo, const Confinement* conf) {
    text* worker = key_text_arg(fcinfo, 0, "worker");
    require_arg(fcinfo, 1, "search");
    Datum search = RangeTypePGetDatum(PG_GETARG_RANGE_P(1));
    checked_range(search, "search");
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    // Another tenant's worker is as if unknown (no rows); the caller's own
    // worker shows only the bookings the caller may see.
    if (!tenant_allowed(conf, worker)) return (Datum)0;
    SPI_connect();
    Datum v[4] = {PointerGetDatum(worker), search, conf->confined ? tenant_array(conf) : (Datum)0,
                  PointerGetDatum(conf->holder)};
    char nulls[5] = "    ";
    if (conf->holder == NULL) nulls[3] = 'n';
    if (SPI_execute_plan(plan(conf->confined ? PLAN_WORKER_SCHEDULE_CONFINED : PLAN_WORKER_SCHEDULE), v, nulls, true,
                         0) != SPI_OK_SELECT)
        elog(ERROR, "slotguard: worker schedule failed");
    for (uint64 r = 0; r < SPI_processed; ++r) tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[r]);
    SPI_finish();
    return (Datum)0;
}

// Materialized (assign_workers, worker_schedule): all the work, and the
// role switch, happen in one call.
extern "C" Datum sg_assign_workers(PG_FUNCTION_ARGS) {
    require_writable("assign_workers");
    CallerScope scope = enter_api(fcinfo, "assign_workers");
    Datum d = assign_workers(fcinfo, &scope.conf);
    leave_api(&scope);
    return d;
}

extern "C" Datum sg_unassign_worker(PG_FUNCTION_ARGS) {
    require_writable("unassign_worker");
    CallerScope scope = enter_api(fcinfo, "unassign_worker");
    bool was_active = unassign_worker(fcinfo, &scope.conf);
    leave_api(&scope);
    PG_RETURN_BOOL(was_active);
}

extern "C" Datum sg_worker_schedule(PG_FUNCTION_ARGS) {
    CallerScope scope = enter_api(fcinfo, "worker_schedule");
    Datum d = worker_schedule(fcinfo, &scope.conf);
    leave_api(&scope);
    return d;
}
