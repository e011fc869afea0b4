// SQL entry points of contract §2 that write bookings: book_slot,
// try_book_slot, confirm_booking, cancel_booking, reschedule_booking.
#include "workers/workers.hpp"
#include "bookings/plans.hpp"
#include "waitlist/waitlist.hpp"
#include "feed/feed.hpp"
#include "stats/stats.hpp"
#include "schedule/schedule.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_book_slot);
PG_FUNCTION_INFO_V1(sg_try_book_slot);
PG_FUNCTION_INFO_V1(sg_confirm_booking);
PG_FUNCTION_INFO_V1(sg_cancel_booking);
PG_FUNCTION_INFO_V1(sg_reschedule_booking);
}

namespace sgpg {
namespace {

// How often this backend's recent booking attempts conflicted (an
// exponential moving average). A backend that mostly hears "no" reads the
// neighbourhood for alternatives in its first scan, so a refusal costs one
// scan; one that mostly books keeps that scan as narrow as the booking.
double recent_conflicts = 0.0;
constexpr double conflict_weight = 1.0 / 16;

// The neighbourhood costs little more to read than the booking's own range
// (the index descent dominates), while a refusal found by a narrow scan
// needs a second scan: read it once one call in five or so is refused.
constexpr double wide_first_above = 0.2;

void note_outcome(bool conflict) {
    recent_conflicts += conflict_weight * ((conflict ? 1.0 : 0.0) - recent_conflicts);
}

struct BookRequest {
    text* key;
    Datum during;
    TsRange range;
    int seats;
    text* holder;     // may be NULL
    Interval* hold;   // NULL: confirmed at once
    text* idem;       // may be NULL
    Datum metadata;
    bool has_metadata;
    const Confinement* conf;
    bool offer;  // a waitlist offer (book_offer): never waits, no suggestions
};

struct BookOutcome {
    bool booked;
    int64 id;
    Datum row;  // slotguard.booking, in the caller's memory context (0 if not asked for)
    ArrayType* conflicts;
    ArrayType* suggestions;
};

BookRequest parse_book_args(FunctionCallInfo fcinfo, const Confinement* conf) {
    BookRequest r;
    r.conf = conf;
    r.offer = false;
    r.key = key_text_arg(fcinfo, 0, "resource");
    require_arg(fcinfo, 1, "during");
    r.during = RangeTypePGetDatum(PG_GETARG_RANGE_P(1));
    r.range = checked_range(r.during, "during");
    r.seats = seats_arg(fcinfo, 2);
    r.holder = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);
    if (r.holder != NULL) check_key_length(r.holder, "holder");
    r.hold = PG_ARGISNULL(4) ? NULL : PG_GETARG_INTERVAL_P(4);
    if (r.hold != NULL) {
        int64 us = interval_micros(r.hold, "hold");
        TimestampTz expires;
        if (us <= 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("hold must be a positive interval")));
        // The expiry is now() + hold in calendar months and local days: it
        // must be a timestamp even if every month has 31 days and every day
        // 25 hours (so the addition itself can never overflow, 22008).
        const Interval* h = r.hold;
        __int128 most = (__int128)h->month * (h->month > 0 ? 31 : 28) * USECS_PER_DAY +
                        (__int128)h->day * (h->day > 0 ? 25 : 23) * USECS_PER_HOUR + h->time;
        __int128 end = (__int128)GetCurrentTransactionStartTimestamp() + most;
        expires = end > PG_INT64_MAX ? DT_NOEND : (TimestampTz)end;
        if (end > PG_INT64_MAX || !IS_VALID_TIMESTAMP(expires))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("hold is too long")));
    }
    r.idem = PG_ARGISNULL(5) ? NULL : key_text_arg(fcinfo, 5, "idempotency_key");
    r.has_metadata = !PG_ARGISNULL(6);
    r.metadata = r.has_metadata ? PG_GETARG_DATUM(6) : (Datum)0;
    if (r.has_metadata) check_metadata_size(r.metadata, "metadata");
    // A holder-confined caller books for itself.
    if (conf->confined && conf->holder != NULL) {
        if (r.holder == NULL)
            r.holder = conf->holder;
        else if (!same_text(r.holder, conf->holder))
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("permission denied to book for holder \"%s\"", text_to_cstring(r.holder)),
                            errdetail("The role books only for the holder its claim names.")));
    }
    return r;
}

// The RETURNING b.ctid, b of the last SPI statement.
void take_returning(ItemPointer tid, Datum* row) {
    if (SPI_processed != 1) elog(ERROR, "slotguard: expected one written booking, got " UINT64_FORMAT, SPI_processed);
    bool isnull;
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    *tid = *(ItemPointer)DatumGetPointer(SPI_getbinval(t, d, 1, &isnull));
    *row = SPI_datumTransfer(SPI_getbinval(t, d, 2, &isnull), false, -1);
}

int64 booking_id_of(Datum row) {
    bool isnull;
    return DatumGetInt64(GetAttributeByName(DatumGetHeapTupleHeader(row), "id", &isnull));
}

// Returns true (and the original booking) when the key was used before
// with the same arguments; raises 22023 when it was used with others.
// Keys are scoped by tenant (1.2: booking_tenant_idempotency_key_idx);
// an older schema has one key space.
bool find_idempotent(const BookRequest* req, BookOutcome* out) {
    Datum v[4] = {PointerGetDatum(req->idem), PointerGetDatum(req->key), req->during, Int32GetDatum(req->seats)};
    bool by_tenant = OidIsValid(slotguard_relation_if_exists("booking_tenant_idempotency_key_idx"));
    run_latest(plan(by_tenant ? PLAN_IDEMPOTENT_LOOKUP_TENANT : PLAN_IDEMPOTENT_LOOKUP), v, NULL, 1);
    if (SPI_processed == 0) return false;
    bool isnull;
    bool same = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    // Another holder's booking is never handed to a holder-confined caller.
    if (same && req->conf->confined && req->conf->holder != NULL) {
        bool hnull;
        Datum h = GetAttributeByName(
            DatumGetHeapTupleHeader(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)), "holder",
            &hnull);
        same = !hnull && same_text(DatumGetTextPP(h), req->conf->holder);
    }
    if (!same)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("idempotency key \"%s\" was already used with other arguments",
                               text_to_cstring(req->idem)),
                        errhint("Use a new key for a different booking.")));
    out->booked = true;
    out->row = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull), false, -1);
    out->id = booking_id_of(out->row);
    return true;
}

struct InsertArgs {
    const BookRequest* req;
    Datum blocked;
    int n_targets;  // the booking and its per-day limits: all check the same row
};

void insert_booking(void* arg, ItemPointer tids, Datum* row, MemoryContext) {
    const InsertArgs* a = (const InsertArgs*)arg;
    const BookRequest* r = a->req;
    Datum v[9];
    char n[10] = "         ";
    v[0] = PointerGetDatum(r->key);
    v[1] = r->during;
    v[2] = Int32GetDatum(r->seats);
    v[3] = CStringGetTextDatum(r->hold ? "held" : "confirmed");
    v[4] = PointerGetDatum(r->holder);
    if (r->holder == NULL) n[4] = 'n';
    v[5] = PointerGetDatum(r->idem);
    if (r->idem == NULL) n[5] = 'n';
    if (r->hold != NULL)
        v[6] = DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
                                   PointerGetDatum(r->hold));
    else
        n[6] = 'n';
    v[7] = r->metadata;
    if (!r->has_metadata) n[7] = 'n';
    v[8] = a->blocked;
    if (SPI_execute_plan(plan(PLAN_BOOKING_INSERT), v, n, false, 1) != SPI_OK_INSERT_RETURNING)
        elog(ERROR, "slotguard: booking insert failed");
    take_returning(&tids[0], row);
    for (int i = 1; i < a->n_targets; ++i) tids[i] = tids[0];
}

// The direct (no SPI, no subtransaction) path: see booking_insert.cpp.
struct DirectArgs {
    DirectInsert* d;
    const BookRequest* req;
    Datum blocked;
    bool formed;  // the row is formed on the first write (a refusal uses no id)
};

void form_booking(DirectInsert* d, const BookRequest* r, Datum blocked);

bool spec_insert(void* arg, uint32 token, ItemPointer tid) {
    DirectArgs* a = (DirectArgs*)arg;
    if (!a->formed) {
        form_booking(a->d, a->req, a->blocked);
        a->formed = true;
    }
    direct_insert_speculative(a->d, token, tid);
    return true;
}
void spec_decide(void* arg, bool keep) { direct_insert_decide(((DirectArgs*)arg)->d, keep); }

void form_booking(DirectInsert* d, const BookRequest* r, Datum blocked) {
    BookingValues bv;
    bv.key = r->key;
    bv.during = r->during;
    bv.seats = r->seats;
    bv.status = r->hold ? "held" : "confirmed";
    bv.holder = r->holder;
    bv.idem = r->idem;
    bv.has_expires = r->hold != NULL;
    bv.expires = r->hold ? DatumGetTimestampTz(DirectFunctionCall2(
                               timestamptz_pl_interval, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
                               PointerGetDatum(r->hold)))
                         : 0;
    bv.has_metadata = r->has_metadata;
    bv.metadata = r->metadata;
    bv.blocked = blocked;
    direct_insert_form(d, &bv);
}

// Before the first write: hold the resource's settings still until commit,
// and say whether they are still the ones the check used.
struct SettingsLock {
    text* key;
    ResourceInfo* used;
};

bool lock_settings(void* arg) {
    SettingsLock* sl = (SettingsLock*)arg;
    lock_resource(sl->key, ShareLock);
    ResourceInfo now = read_resource(sl->key, false);
    bool same = now.capacity == sl->used->capacity && now.before_us == sl->used->before_us &&
                now.after_us == sl->used->after_us && now.rules_version == sl->used->rules_version;
    *sl->used = now;
    return same;
}

// Books or, on conflict, raises 23P01 (raise) or fills out->conflicts and
// out->suggestions. Results are allocated in the caller's memory context.
void book(const BookRequest* req, bool raise, BookOutcome* out) {
    MemoryContext caller = CurrentMemoryContext;
    out->booked = false;
    out->id = 0;
    out->row = (Datum)0;
    out->conflicts = out->suggestions = NULL;
    // Another tenant's resource is as if it did not exist: booking it
    // would create it (42501), or it is unknown (P0002).
    if (!tenant_allowed(req->conf, req->key)) {
        if (auto_create_resources) require_tenant_write(req->conf, req->key, "create a resource");
        raise_unknown_resource(req->key);
    }
    SPI_connect();
    if (req->idem != NULL && find_idempotent(req, out)) {
        stats_replay();
        SPI_finish();
        return;
    }
    // The resource lock is taken only once the booking is known to fit: a
    // refusal needs none (refusing under the settings read is as if it ran
    // before any change of them), so a busy calendar's "no" stays cheap.
    ResourceInfo res = read_resource(req->key, true);
    BookingRels rels;
    open_booking(&rels, RowExclusiveLock);
    // A call with an idempotency key goes through SPI in a subtransaction:
    // a concurrent duplicate key must be caught, not abort the transaction.
    DirectInsert di;
    bool direct = req->idem == NULL && direct_insert_begin(&di, rels.heap);
    AdmitTarget t[3];  // the booking, then its per-day limits (API.md §10)
    int n_targets = 1;
    AdmitResult ar;
    RuleRefusal refusal = {NULL};
    for (;;) {
        check_seats_fit(req->seats, res.capacity, req->key);
        TsRange blocked = widen_range(req->range, res.before_us, res.after_us);
        // §10 hook: hours, closures, busy time, notice, advance, duration.
        if (!check_booking_rules(&res, req->key, req->range, blocked, &refusal)) break;
        t[0] = AdmitTarget{&rels, collect_occupants, req->key, req->during, range_datum(blocked), span_of(blocked),
                           req->seats, res.capacity, NULL};
        if (!req->offer && max_suggestions > 0 && recent_conflicts > wide_first_above)
            t[0].precheck_probe = suggestion_window(req->range, &res);
        // §10 hook: the per-day limits are admitted like capacity.
        n_targets = 1 + day_limit_targets(&res, &rels, req->key, req->range, req->holder, NULL, t + 1);
        // A waitlist offer never waits for another transaction (§12), on any target.
        for (int i = 0; i < n_targets; ++i) t[i].no_wait = req->offer;
        SettingsLock sl = {req->key, &res};
        if (direct) {
            DirectArgs da = {&di, req, t[0].blocked, false};
            admit_insert_n(t, n_targets, spec_insert, spec_decide, &da, &ar, lock_settings, &sl);
        } else {
            InsertArgs ia = {req, t[0].blocked, n_targets};
            admit_write(t, n_targets, insert_booking, &ia, &ar, lock_settings, &sl);
        }
        if (ar.outcome != ADMIT_RETRY) break;
    }
    if (refusal.detail != NULL) {
        ar.outcome = ADMIT_CONFLICT;
        ar.conflict_target = -1;
        ar.conflict_ids = NULL;
        ar.n_conflicts = 0;
        ar.neighbourhood.items = NULL;
        ar.neighbourhood.n = ar.neighbourhood.cap = 0;
    }
    if (!req->offer) note_outcome(ar.outcome == ADMIT_CONFLICT);
    if (ar.outcome == ADMIT_OK && direct) {
        // The feed trigger does not fire for a direct insert: its row here.
        if (const Trigger* feed = feed_trigger(rels.heap)) feed_row_inserted(rels.heap, feed, di.tuple);
        out->booked = true;
        out->id = di.id;
        if (raise) {
            MemoryContext spi = MemoryContextSwitchTo(caller);
            out->row = direct_insert_row(&di);
            MemoryContextSwitchTo(spi);
        }
    } else if (ar.outcome == ADMIT_OK) {
        out->booked = true;
        out->row = ar.row;
        out->id = booking_id_of(ar.row);
    } else if (ar.outcome == ADMIT_DUPLICATE_KEY) {
        if (!find_idempotent(req, out)) elog(ERROR, "slotguard: idempotent booking vanished; retry");
        stats_replay();
    } else if (req->offer) {
        // A waitlist offer that does not fit (now) is simply not made.
    } else {
        stats_refused(req->key);
        Datum* alts = (Datum*)palloc(sizeof(Datum) * (max_suggestions > 0 ? max_suggestions : 1));
        int n_alts = suggest_alternatives(&rels, req->key, req->range, req->seats, &res, NULL,
                                          ar.conflict_target == 0 ? &ar.neighbourhood : NULL, alts, max_suggestions);
        n_alts = filter_suggestions(&res, &rels, req->key, req->seats, req->holder, NULL, alts, n_alts);
        int n_shown;
        shown_booking_ids(req->conf, ar.conflict_ids, ar.n_conflicts, &n_shown);
        // A §10 rule: its name (and, for a per-day limit, the day's bookings).
        if (raise && refusal.detail != NULL)
            raise_rule_refusal(req->key, req->range, refusal.detail, alts, n_alts, max_suggestions > 0);
        if (raise && ar.conflict_target > 0)
            raise_rule_refusal(req->key, req->range,
                               day_limit_detail(&t[ar.conflict_target],
                                                shown_id_list(ar.conflict_ids, n_shown, ar.n_conflicts)),
                               alts, n_alts, max_suggestions > 0);
        // With suggestions switched off the error carries no HINT at all.
        if (raise)
            raise_conflict(req->key, req->range, ar.conflict_ids, n_shown, max_suggestions > 0 ? alts : NULL, n_alts,
                           ar.n_conflicts);
        MemoryContext spi = MemoryContextSwitchTo(caller);
        out->conflicts = int8_array(ar.conflict_ids, n_shown);
        out->suggestions = range_array(alts, n_alts);
        MemoryContextSwitchTo(spi);
    }
    if (direct) direct_insert_end(&di);
    close_booking(&rels, RowExclusiveLock);
    SPI_finish();
}

}  // namespace

// A booking row locked FOR UPDATE (SPI connected; values live until SPI_finish).

[[noreturn]] void raise_unknown_booking(int64 id) {
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("booking " INT64_FORMAT " does not exist", id)));
    pg_unreachable();
}

namespace {

// A confined caller's booking: its resource in the caller's tenants and,
// with a holder, its holder the caller's.
bool booking_visible(const Confinement* conf, text* key, text* holder) {
    return tenant_allowed(conf, key) && holder_allowed(conf, holder);
}

// Before any lock: another's booking is P0002 at once, as an unknown id,
// and the caller never waits on (or locks) a row that is not its own.
void precheck_booking(const Confinement* conf, int64 id) {
    if (!conf->confined) return;
    Datum v[1] = {Int64GetDatum(id)};
    run_latest(plan(PLAN_BOOKING_OWNER), v, NULL, 1);
    if (SPI_processed == 0) raise_unknown_booking(id);
    bool knull, hnull;
    Datum k = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &knull);
    Datum h = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &hnull);
    if (knull || !booking_visible(conf, DatumGetTextPP(k), hnull ? NULL : DatumGetTextPP(h)))
        raise_unknown_booking(id);
}

// The same on the locked row (only an owner's direct UPDATE changes a
// booking's resource or holder meanwhile).
void recheck_locked(const Confinement* conf, const LockedBooking* b) {
    if (!conf->confined) return;
    bool hnull;
    Datum h = GetAttributeByName(DatumGetHeapTupleHeader(b->row), "holder", &hnull);
    if (!booking_visible(conf, b->key, hnull ? NULL : DatumGetTextPP(h))) raise_unknown_booking(b->id);
}

LockedBooking lock_booking_row(FunctionCallInfo fcinfo) {
    require_arg(fcinfo, 0, "booking_id");
    LockedBooking b;
    b.id = PG_GETARG_INT64(0);
    Datum v[1] = {Int64GetDatum(b.id)};
    if (SPI_execute_plan(plan(PLAN_BOOKING_LOCK), v, NULL, false, 1) != SPI_OK_SELECT)
        elog(ERROR, "slotguard: booking lookup failed");
    if (SPI_processed == 0) raise_unknown_booking(b.id);
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    bool isnull;
    b.tid = *(ItemPointer)DatumGetPointer(SPI_getbinval(t, d, 1, &isnull));
    b.key = DatumGetTextPP(SPI_getbinval(t, d, 2, &isnull));
    b.range = decode_range(SPI_getbinval(t, d, 3, &isnull));
    b.seats = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
    b.status = TextDatumGetCString(SPI_getbinval(t, d, 5, &isnull));
    Datum e = SPI_getbinval(t, d, 6, &isnull);
    b.has_expiry = !isnull;
    b.expires = isnull ? 0 : DatumGetTimestampTz(e);
    b.row = SPI_datumTransfer(SPI_getbinval(t, d, 7, &isnull), false, -1);
    return b;
}

}  // namespace

LockedBooking lock_booking(FunctionCallInfo fcinfo, const Confinement* conf) {
    require_arg(fcinfo, 0, "booking_id");
    precheck_booking(conf, PG_GETARG_INT64(0));
    LockedBooking b = lock_booking_row(fcinfo);
    recheck_locked(conf, &b);
    return b;
}

LockedBooking lock_resource_then_booking(FunctionCallInfo fcinfo, const Confinement* conf) {
    require_arg(fcinfo, 0, "booking_id");
    precheck_booking(conf, PG_GETARG_INT64(0));
    // The booking's resource, read without locking the row; then the
    // resource lock, then the row lock, as upsert_resource takes them.
    Datum v[1] = {Int64GetDatum(PG_GETARG_INT64(0))};
    run_latest(plan(PLAN_BOOKING_RESOURCE), v, NULL, 1);
    text* locked = NULL;
    if (SPI_processed == 1) {
        bool isnull;
        Datum k = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        if (!isnull) {
            locked = DatumGetTextPCopy(k);
            lock_resource(locked, ShareLock);
        }
    }
    LockedBooking b = lock_booking_row(fcinfo);
    recheck_locked(conf, &b);
    // The key changed meanwhile (only a direct UPDATE of the table does
    // that): the booking's resource is the one to hold.
    if (locked == NULL || !same_text(locked, b.key)) lock_resource(b.key, ShareLock);
    return b;
}

bool hold_expired(const LockedBooking* b) {
    // 'expired' (1.2): a lapsed hold that expire_holds marked.
    if (strcmp(b->status, "expired") == 0) return true;
    return strcmp(b->status, "held") == 0 && b->has_expiry && b->expires <= GetCurrentTransactionStartTimestamp();
}

void raise_wrong_state(const LockedBooking* b, const char* what) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("booking " INT64_FORMAT " %s", b->id, what)));
    pg_unreachable();
}

// --- waitlist offers (src/pg/waitlist/waitlist.hpp) ---
bool book_offer(text* key, Datum during, int seats, text* holder, Interval* hold, Datum metadata, bool has_metadata,
                int64* id) {
    static const Confinement unconfined = {false, 0, NULL, NULL};
    BookRequest r;
    r.conf = &unconfined;
    r.key = key;
    r.during = during;
    r.range = decode_range(during);
    r.seats = seats;
    r.holder = holder;
    r.hold = hold;
    r.idem = NULL;
    r.metadata = metadata;
    r.has_metadata = has_metadata;
    r.offer = true;
    BookOutcome out;
    book(&r, false, &out);
    *id = out.id;
    return out.booked;
}

}  // namespace sgpg

using namespace sgpg;

extern "C" Datum sg_book_slot(PG_FUNCTION_ARGS) {
    require_writable("book_slot");
    CallerScope scope = enter_api(fcinfo, "book_slot");
    BookRequest req = parse_book_args(fcinfo, &scope.conf);
    BookOutcome out;
    book(&req, true, &out);
    leave_api(&scope);
    PG_RETURN_DATUM(out.row);
}

extern "C" Datum sg_try_book_slot(PG_FUNCTION_ARGS) {
    FuncCallContext* f;
    if (SRF_IS_FIRSTCALL()) {
        require_writable("try_book_slot");
        // Only the first call works (and switches roles); the others
        // return what it made.
        CallerScope scope = enter_api(fcinfo, "try_book_slot");
        f = SRF_FIRSTCALL_INIT();
        BookRequest req = parse_book_args(fcinfo, &scope.conf);
        MemoryContext old = MemoryContextSwitchTo(f->multi_call_memory_ctx);
        TupleDesc desc;
        if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "slotguard: try_book_slot must return a row type");
        desc = BlessTupleDesc(desc);
        BookOutcome out;
        book(&req, false, &out);
        Datum v[3];
        bool nulls[3] = {false, false, false};
        if (out.booked) {
            v[0] = Int64GetDatum(out.id);
            v[1] = PointerGetDatum(int8_array(NULL, 0));
            v[2] = PointerGetDatum(range_array(NULL, 0));
        } else {
            nulls[0] = true;
            v[0] = (Datum)0;
            v[1] = PointerGetDatum(out.conflicts);
            v[2] = PointerGetDatum(out.suggestions);
        }
        f->user_fctx = DatumGetPointer(HeapTupleGetDatum(heap_form_tuple(desc, v, nulls)));
        f->max_calls = 1;
        MemoryContextSwitchTo(old);
        leave_api(&scope);
    }
    f = SRF_PERCALL_SETUP();
    if (f->call_cntr < f->max_calls) SRF_RETURN_NEXT(f, PointerGetDatum(f->user_fctx));
    SRF_RETURN_DONE(f);
}

extern "C" Datum sg_cancel_booking(PG_FUNCTION_ARGS) {
    require_writable("cancel_booking");
    CallerScope scope = enter_api(fcinfo, "cancel_booking");
    SPI_connect();
    LockedBooking b = lock_booking(fcinfo, &scope.conf);
    Datum row = b.row;
    if (strcmp(b.status, "cancelled") != 0) {
        // Freeing capacity and workers needs no check.
        Datum v[1] = {Int64GetDatum(b.id)};
        int mark = begin_internal_write();
        int rc = SPI_execute_plan(plan(PLAN_BOOKING_CANCEL), v, NULL, false, 1);
        end_internal_write(mark);
        if (rc != SPI_OK_UPDATE_RETURNING) elog(ERROR, "slotguard: cancel failed");
        ItemPointerData tid;
        take_returning(&tid, &row);
        release_assignments(b.id);
        // waitlist: a booking that took capacity (or a lapsed hold nobody
        // expired yet) frees it; offered in this transaction.
        if (strcmp(b.status, "expired") != 0) offer_freed(b.key, range_datum(b.range));
    }
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

// An UPDATE of a locked booking that makes it take capacity again (confirm)
// or elsewhere (reschedule): the booking and its workers are admitted
// together, so either all of it fits or nothing changes.
struct BookingUpdate {
    const LockedBooking* booking;
    PlanId plan_id;
    Datum during;   // the booking's range after the update
    Datum blocked;  // and what it blocks
    AdmitTarget* targets;  // [0] the booking, then its workers, then its per-day limits
    int n_targets;
    bool moves;  // the range changes, so the assignments move with it
    bool rules = true;           // API.md §10 applies (not to a live hold's confirm)
    int n_day_targets = 0;       // API.md §10: the last n_day_targets targets
    char* rule_detail = nullptr;  // set when a §10 rule refused
};

static void write_booking_update(void* arg, ItemPointer tids, Datum* row, MemoryContext) {
    const BookingUpdate* u = (const BookingUpdate*)arg;
    // Confirm takes only the id; SPI reads as many values as the plan has.
    Datum v[3] = {Int64GetDatum(u->booking->id), u->during, u->blocked};
    if (SPI_execute_plan(plan(u->plan_id), v, NULL, false, 1) != SPI_OK_UPDATE_RETURNING)
        elog(ERROR, "slotguard: booking update failed");
    take_returning(&tids[0], row);
    int workers = u->n_targets - u->n_day_targets;
    if (u->moves)
        move_assignments(u->booking->id, u->during, u->targets + 1, workers - 1, tids + 1);
    else
        for (int i = 1; i < workers; ++i) tids[i] = *u->targets[i].current;
    for (int i = workers; i < u->n_targets; ++i) tids[i] = tids[0];
}

static void admit_update(BookingUpdate* u, const TsRange& during, AdmitResult* ar, ResourceInfo* res,
                         GuardedRels* rels, GuardedRels* worker_rels, const Confinement* conf) {
    const LockedBooking* b = u->booking;
    lock_resource(b->key, ShareLock);
    *res = read_resource(b->key, false);
    TsRange blocked = widen_range(during, res->before_us, res->after_us);
    open_booking(rels, RowExclusiveLock);
    open_assignment(worker_rels, RowExclusiveLock);
    u->during = range_datum(during);
    u->blocked = range_datum(blocked);
    int workers = count_active_workers(b->id);
    u->targets = (AdmitTarget*)palloc(sizeof(AdmitTarget) * (3 + workers));
    u->targets[0] = AdmitTarget{rels, collect_occupants, b->key, u->during, u->blocked, span_of(blocked), b->seats,
                                res->capacity, const_cast<ItemPointer>(&b->tid)};
    // A refused move offers alternatives: read their neighbourhood up front.
    if (u->moves && max_suggestions > 0) u->targets[0].precheck_probe = suggestion_window(during, res);
    u->n_targets = 1 + worker_targets(b->id, u->during, worker_rels, u->targets + 1, workers);
    // §10 hooks: the static rules, then the per-day limits as targets after
    // the workers (write_booking_update points them at the booking's row).
    RuleRefusal refusal;
    if (u->rules && !check_booking_rules(res, b->key, during, blocked, &refusal)) {
        ar->outcome = ADMIT_CONFLICT;
        ar->conflict_target = -1;
        ar->conflict_ids = NULL;
        ar->n_conflicts = 0;
        ar->neighbourhood.items = NULL;
        ar->neighbourhood.n = ar->neighbourhood.cap = 0;
        u->rule_detail = refusal.detail;
        return;
    }
    bool holder_null;
    Datum holder = GetAttributeByName(DatumGetHeapTupleHeader(b->row), "holder", &holder_null);
    u->n_day_targets = !u->rules ? 0 : day_limit_targets(res, rels, b->key, during, holder_null ? NULL : DatumGetTextPP(holder),
                                         const_cast<ItemPointer>(&b->tid), u->targets + u->n_targets);
    u->n_targets += u->n_day_targets;
    admit_write(u->targets, u->n_targets, write_booking_update, u, ar);
    if (ar->outcome == ADMIT_CONFLICT && ar->conflict_target > 0 &&
        is_day_limit_target(&u->targets[ar->conflict_target])) {
        int n_shown;
        shown_booking_ids(conf, ar->conflict_ids, ar->n_conflicts, &n_shown);
        u->rule_detail = day_limit_detail(&u->targets[ar->conflict_target],
                                          shown_id_list(ar->conflict_ids, n_shown, ar->n_conflicts));
        return;
    }
    if (ar->outcome == ADMIT_CONFLICT && ar->conflict_target > 0)
        raise_worker_conflict(&u->targets[ar->conflict_target], ar, conf);
}

extern "C" Datum sg_confirm_booking(PG_FUNCTION_ARGS) {
    require_writable("confirm_booking");
    CallerScope scope = enter_api(fcinfo, "confirm_booking");
    SPI_connect();
    LockedBooking b = lock_resource_then_booking(fcinfo, &scope.conf);
    Datum row = b.row;
    if (strcmp(b.status, "cancelled") == 0) raise_wrong_state(&b, "is cancelled");
    if (strcmp(b.status, "held") == 0 || strcmp(b.status, "expired") == 0) {
        // Always re-checked (an 'expired' hold as a lapsed one): another transaction whose now() is later may
        // already have treated this hold as expired and taken the slot.
        BookingUpdate u = {&b, PLAN_BOOKING_CONFIRM, 0, 0, NULL, 0, false};
        u.rules = hold_expired(&b);
        AdmitResult ar;
        ResourceInfo res;
        GuardedRels rels, worker_rels;
        admit_update(&u, b.range, &ar, &res, &rels, &worker_rels, &scope.conf);
        // A revived hold obeys the §10 rules of now (a live hold was
        // admitted under them already; only its capacity is re-checked).
        if (ar.outcome != ADMIT_OK && u.rule_detail != NULL && hold_expired(&b))
            raise_rule_refusal(b.key, b.range, u.rule_detail, NULL, 0, false);
        if (ar.outcome != ADMIT_OK) {
            int n_shown;
            shown_booking_ids(&scope.conf, ar.conflict_ids, ar.n_conflicts, &n_shown);
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("hold on booking " INT64_FORMAT " expired and its slot has been taken", b.id),
                            errdetail("Conflicting bookings: %s.",
                                      shown_id_list(ar.conflict_ids, n_shown, ar.n_conflicts))));
        }
        row = ar.row;
        close_rels(&worker_rels, RowExclusiveLock);
        close_rels(&rels, RowExclusiveLock);
    }
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

extern "C" Datum sg_reschedule_booking(PG_FUNCTION_ARGS) {
    require_writable("reschedule_booking");
    require_arg(fcinfo, 1, "during");
    TsRange during = checked_range(RangeTypePGetDatum(PG_GETARG_RANGE_P(1)), "during");
    CallerScope scope = enter_api(fcinfo, "reschedule_booking");
    SPI_connect();
    LockedBooking b = lock_resource_then_booking(fcinfo, &scope.conf);
    if (strcmp(b.status, "cancelled") == 0) raise_wrong_state(&b, "is cancelled");
    if (hold_expired(&b)) raise_wrong_state(&b, "is a hold that has expired");
    BookingUpdate u = {&b, PLAN_BOOKING_MOVE, 0, 0, NULL, 0, true};
    AdmitResult ar;
    ResourceInfo res;
    GuardedRels rels, worker_rels;
    admit_update(&u, during, &ar, &res, &rels, &worker_rels, &scope.conf);
    if (ar.outcome != ADMIT_OK) {
        Datum* alts = (Datum*)palloc(sizeof(Datum) * (max_suggestions > 0 ? max_suggestions : 1));
        int n_alts = suggest_alternatives(&rels, b.key, during, b.seats, &res, &b.tid,
                                          ar.conflict_target == 0 ? &ar.neighbourhood : NULL, alts, max_suggestions);
        bool hnull;
        Datum holder = GetAttributeByName(DatumGetHeapTupleHeader(b.row), "holder", &hnull);
        n_alts = filter_suggestions(&res, &rels, b.key, b.seats, hnull ? NULL : DatumGetTextPP(holder), &b.tid, alts,
                                    n_alts);
        if (u.rule_detail != NULL)
            raise_rule_refusal(b.key, during, u.rule_detail, alts, n_alts, max_suggestions > 0);
        int n_shown;
        shown_booking_ids(&scope.conf, ar.conflict_ids, ar.n_conflicts, &n_shown);
        raise_conflict(b.key, during, ar.conflict_ids, n_shown, max_suggestions > 0 ? alts : NULL, n_alts,
                       ar.n_conflicts);
    }
    close_rels(&worker_rels, RowExclusiveLock);
    close_rels(&rels, RowExclusiveLock);
    // waitlist: the range it left is offered in this transaction.
    offer_freed(b.key, range_datum(b.range));
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_DATUM(ar.row);
}
