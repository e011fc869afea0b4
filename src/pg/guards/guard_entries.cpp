// slotguard.guard_entry: one row per active row of a protected table, the
// rows the admission protocol writes and scans for guards
// (docs/concurrency.md). Scanned like slotguard.booking, with a dirty
// snapshot on the GiST (entry_hash, blocked) index, keeping the rows whose
// entry_key is the one asked for; written with SPI (entry_hash is a
// generated column).
#include "guards/guard.hpp"
#include "bookings/bookings.hpp"
#include "engine/spi_plans.hpp"

#include "lib/stringinfo.h"

namespace sgpg {
namespace {

struct EntryVisit {
    AttrNumber c_row_key, c_entry_key, c_blocked, c_seats;
    text* entry_key;  // the key asked for: rows of another key with the same hash are skipped
    EntryRels* e;
    Occupants* out;
};


void remember_key(EntryRels* e, char* key) {
    if (e->n_keys == e->cap_keys) {
        e->cap_keys = e->cap_keys ? e->cap_keys * 2 : 16;
        e->keys = e->keys ? (char**)repalloc(e->keys, sizeof(char*) * e->cap_keys)
                          : (char**)palloc(sizeof(char*) * e->cap_keys);
    }
    e->keys[e->n_keys++] = key;
}

void visit_entry(void* arg, TupleTableSlot* slot, TransactionId pending, uint32 spec_token) {
    EntryVisit* v = (EntryVisit*)arg;
    bool isnull;
    if (!same_text(DatumGetTextPP(slot_getattr(slot, v->c_entry_key, &isnull)), v->entry_key)) return;
    sg::Occupant o;
    o.id = v->e->n_keys;
    remember_key(v->e, TextDatumGetCString(slot_getattr(slot, v->c_row_key, &isnull)));
    o.seats = DatumGetInt32(slot_getattr(slot, v->c_seats, &isnull));
    o.blocked = span_of(decode_range(slot_getattr(slot, v->c_blocked, &isnull)));
    mark_pending(&o, pending, spec_token);
    append_occupant(v->out, o);
}

// --- SQL on guard_entry -------------------------------------------------------

enum EntryPlan { EP_FIND, EP_UPSERT, EP_DELETE, EP_DELETE_GUARD, EP_COUNT };


const PlanSpec entry_sql[EP_COUNT] = {
    // EP_FIND
    {"SELECT e.ctid, e.entry_key, e.blocked, e.seats FROM slotguard.guard_entry e "
     "WHERE e.guard_id = $1 AND e.row_key = $2",
     2,
     {INT4OID, TEXTOID}},
    // EP_UPSERT
    {"INSERT INTO slotguard.guard_entry AS e (guard_id, row_key, entry_key, blocked, seats) "
     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guard_id, row_key) DO UPDATE "
     "SET entry_key = excluded.entry_key, blocked = excluded.blocked, seats = excluded.seats RETURNING e.ctid",
     5,
     {INT4OID, TEXTOID, TEXTOID, TSTZRANGEOID, INT4OID}},
    // EP_DELETE
    {"DELETE FROM slotguard.guard_entry WHERE guard_id = $1 AND row_key = $2", 2, {INT4OID, TEXTOID}},
    // EP_DELETE_GUARD
    {"DELETE FROM slotguard.guard_entry WHERE guard_id = $1", 1, {INT4OID}},
};

SPIPlanPtr entry_plans[EP_COUNT];

SPIPlanPtr entry_plan(EntryPlan id) { return kept_plan(&entry_plans[id], entry_sql[id]); }

int run_entry(EntryPlan id, Datum* values, long limit) {
    int rc = SPI_execute_snapshot(entry_plan(id), values, NULL, GetLatestSnapshot(), InvalidSnapshot, false, false,
                                  limit);
    if (rc < 0) elog(ERROR, "slotguard: guard entry statement failed: %s", SPI_result_code_string(rc));
    return rc;
}

}  // namespace

void open_entries(EntryRels* e, LOCKMODE mode) {
    e->rels.heap = table_open(slotguard_relation("guard_entry"), mode);
    open_keyed_index(&e->rels, "guard_entry_hash_blocked_idx", "guard_entry_key_blocked_idx", mode);
    e->keys = NULL;
    e->n_keys = e->cap_keys = 0;
}

void close_entries(EntryRels* e, LOCKMODE mode) { close_rels(&e->rels, mode); }

void collect_entries(const GuardedRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                     Occupants* out) {
    // rels is the first member of the EntryRels that open_entries filled.
    EntryRels* e = reinterpret_cast<EntryRels*>(const_cast<GuardedRels*>(rels));
    TupleDesc desc = RelationGetDescr(rels->heap);
    EntryVisit v;
    v.c_row_key = column_of(desc, "row_key");
    v.c_entry_key = column_of(desc, "entry_key");
    v.c_blocked = column_of(desc, "blocked");
    v.c_seats = column_of(desc, "seats");
    v.entry_key = key;
    v.e = e;
    v.out = out;
    e->n_keys = 0;
    out->items = NULL;
    out->n = out->cap = 0;
    keyed_scan(rels, key, false, probe, has_probe, exclude, visit_entry, &v);
}

namespace {

bool all_digits(const char* s) {
    if (*s == '-') ++s;
    if (*s == '\0') return false;
    for (; *s; ++s)
        if (*s < '0' || *s > '9') return false;
    return true;
}

// Integer keys in numeric order ("9" before "10"), others as text.
int compare_keys(const void* a, const void* b) {
    const char* x = *(const char* const*)a;
    const char* y = *(const char* const*)b;
    if (all_digits(x) && all_digits(y)) {
        bool nx = *x == '-', ny = *y == '-';
        if (nx != ny) return nx ? -1 : 1;
        size_t lx = strlen(x), ly = strlen(y);
        int c = lx < ly ? -1 : lx > ly ? 1 : strcmp(x, y);
        return nx ? -c : c;
    }
    return strcmp(x, y);
}

// At most this many rows are named in a message.
const int MAX_LISTED = 20;

}  // namespace

char* entry_key_list(const EntryRels* e, const int64* ids, int n) {
    const char** keys = (const char**)palloc(sizeof(char*) * (n > 0 ? n : 1));
    for (int i = 0; i < n; ++i) keys[i] = ids[i] >= 0 && ids[i] < e->n_keys ? e->keys[ids[i]] : "(unknown)";
    qsort(keys, n, sizeof(char*), compare_keys);
    StringInfoData s;
    initStringInfo(&s);
    for (int i = 0; i < n && i < MAX_LISTED; ++i) appendStringInfo(&s, "%s%s", i ? ", " : "", keys[i]);
    if (n > MAX_LISTED) appendStringInfo(&s, " and %d more", n - MAX_LISTED);
    if (n == 0) appendStringInfoString(&s, "none listed");
    pfree(keys);
    return s.data;
}

int entry_alternatives(EntryRels* e, text* entry_key, const TsRange& during, int seats, int capacity,
                       ItemPointer exclude, Datum* out, int max_out) {
    if (max_out <= 0) return 0;
    const int64 length = range_length(during);
    const int64 full = (int64)suggestion_horizon_minutes * USECS_PER_MINUTE;
    // As suggest_alternatives: a few slots either side first, then the
    // whole horizon.
    int64 near;
    if (pg_mul_s64_overflow(length, 4, &near)) near = full;
    const int64 horizons[2] = {Min(full, near), full};
    sg::SlotQuery q;
    q.capacity = capacity;
    q.seats = seats;
    q.buffer_before = 0;
    q.buffer_after = 0;
    sg::Span* found = (sg::Span*)palloc(sizeof(sg::Span) * max_out);
    int n_found = 0;
    for (int h = 0; h < 2 && length > 0; ++h) {
        if (h == 1 && horizons[1] == horizons[0]) break;
        TsRange window = during;
        if (pg_sub_s64_overflow(during.lower, horizons[h], &window.lower) ||
            pg_add_s64_overflow(during.upper, horizons[h], &window.upper) || !IS_VALID_TIMESTAMP(window.lower) ||
            !IS_VALID_TIMESTAMP(window.upper))
            break;
        Occupants occ;
        collect_entries(&e->rels, entry_key, range_datum(window), true, exclude, &occ);
        BridgeError err;
        if (!bridge_alternatives(occ.items, occ.n, q, span_of(during), length, horizons[h], max_out, found, &n_found,
                                 &err))
            raise_bridge_error(err);
        if (occ.items) pfree(occ.items);
        if (n_found >= max_out) break;
    }
    for (int i = 0; i < n_found; ++i) out[i] = range_datum(range_of(found[i]));
    pfree(found);
    return n_found;
}

text* make_entry_key(int32 guard_id, text* resource) {
    StringInfoData s;
    initStringInfo(&s);
    appendStringInfo(&s, "%d/", guard_id);
    appendBinaryStringInfo(&s, VARDATA_ANY(resource), VARSIZE_ANY_EXHDR(resource));
    return cstring_to_text_with_len(s.data, s.len);
}

EntryRow find_entry(int32 guard_id, text* row_key) {
    Datum v[2] = {Int32GetDatum(guard_id), PointerGetDatum(row_key)};
    run_entry(EP_FIND, v, 1);
    EntryRow r;
    r.found = SPI_processed == 1;
    if (!r.found) return r;
    bool isnull;
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    r.tid = *(ItemPointer)DatumGetPointer(SPI_getbinval(t, d, 1, &isnull));
    r.entry_key = DatumGetTextPCopy(SPI_getbinval(t, d, 2, &isnull));
    r.blocked = PointerGetDatum(DatumGetRangeTypePCopy(SPI_getbinval(t, d, 3, &isnull)));
    r.seats = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
    return r;
}

void delete_entry(int32 guard_id, text* row_key) {
    Datum v[2] = {Int32GetDatum(guard_id), PointerGetDatum(row_key)};
    run_entry(EP_DELETE, v, 0);
}

void delete_guard_entries(int32 guard_id) {
    Datum v[1] = {Int32GetDatum(guard_id)};
    run_entry(EP_DELETE_GUARD, v, 0);
}

ItemPointerData upsert_entry(int32 guard_id, text* row_key, text* entry_key, Datum blocked, int seats) {
    Datum v[5] = {Int32GetDatum(guard_id), PointerGetDatum(row_key), PointerGetDatum(entry_key), blocked,
                  Int32GetDatum(seats)};
    if (run_entry(EP_UPSERT, v, 1) != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
        elog(ERROR, "slotguard: writing a guard entry failed");
    bool isnull;
    return *(ItemPointer)DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

}  // namespace sgpg
