// The engine's shared pieces of the PostgreSQL glue: settings, argument
// checks, ranges, dirty scans, direct writes and the admission protocol.
// It knows no feature; bookings/, workers/, orders/ and guards/ build on it. Functions here may raise
// PostgreSQL errors, so they are written C-style: no C++ object with a
// destructor is ever alive across a call that can ereport.
#pragma once

#include "engine/pg.hpp"

#include "core/occupant.hpp"
#include "core/timeline.hpp"
#include "engine/core_bridge.hpp"

namespace sgpg {

// --- settings (module.cpp) -------------------------------------------------
extern bool auto_create_resources;
extern int max_suggestions;
extern int suggestion_horizon_minutes;
extern int suggestion_steps;
extern int max_metadata_bytes;
// While the API itself writes slotguard.booking or assignment, rows it has
// already checked, the guard triggers let them through: between
// begin_internal_write() and end_internal_write(token), and only for the
// statements the API runs itself (not for a user's trigger, nor inside a
// user's EXCEPTION block, nested in them).
int begin_internal_write(void);
void end_internal_write(int token);
// In the WHEN clause of the guard triggers: a statement of the API's own.
bool internal_write_here(void);
// In the body of a guard trigger fired by such a statement.
bool internal_write_in_trigger(void);

// Waits of this backend for other transactions' decisions (admission.cpp),
// and their total length: read by the statistics around each API call.
extern uint64 admission_waits;
extern uint64 admission_wait_us;

// --- text comparison --------------------------------------------------------
// Byte equality, which is what = means for the deterministic collations of
// the keys and statuses compared here.
inline bool same_text(text* a, text* b) {
    return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
           memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}
inline bool text_is(text* t, const char* s) {
    size_t n = strlen(s);
    return VARSIZE_ANY_EXHDR(t) == n && memcmp(VARDATA_ANY(t), s, n) == 0;
}

// --- errors (errors.cpp) ---------------------------------------------------
// Documented maxima of arguments (API.md §6, README "Limits"); 22023 beyond.
constexpr int max_key_bytes = 1000;  // resource, worker, order and idempotency keys, holder, claimant
constexpr int max_workers = 1000;    // names in one assign_workers call
[[noreturn]] void raise_bridge_error(const BridgeError& err);
// 25006 in a read-only transaction or on a standby: the first thing every
// writing API function does, before looking at its arguments.
void require_writable(const char* function);
void require_arg(FunctionCallInfo fcinfo, int argno, const char* name);  // 22004
text* nonblank_text_arg(FunctionCallInfo fcinfo, int argno, const char* name);  // 22004 / 22023
// A key, holder or claimant of at most max_key_bytes (22023 beyond).
void check_key_length(text* t, const char* name);
// nonblank_text_arg and check_key_length.
text* key_text_arg(FunctionCallInfo fcinfo, int argno, const char* name);
// Byte order (memcmp, then length), for sorting names to find equal ones.
int compare_text_bytes(text* a, text* b);
// metadata/payload of at most slotguard.max_metadata_bytes (22023 beyond).
void check_metadata_size(Datum jsonb, const char* name);
int seats_arg(FunctionCallInfo fcinfo, int argno);                              // 22004 / 22023
void check_seats_fit(int seats, int capacity, text* key);                       // 22023

// --- ranges (ranges.cpp) ---------------------------------------------------
struct TsRange {
    TimestampTz lower;
    TimestampTz upper;
    bool lower_inc;
    bool upper_inc;
};
// Decodes a tstzrange argument, rejecting empty, infinite or unbounded ones (22000).
TsRange checked_range(Datum d, const char* what);
TsRange decode_range(Datum d);  // for stored, already valid ranges
Datum range_datum(const TsRange& r);
sg::Span span_of(const TsRange& r);
TsRange range_of(const sg::Span& s);
// r widened by absolute buffers; 22023 if that leaves the timestamp range.
TsRange widen_range(const TsRange& r, int64 before_us, int64 after_us);
char* range_text(Datum r);
// An interval as an absolute length (a day is 24 h, a month 30 days).
int64 interval_micros(const Interval* iv, const char* what);
Interval* micros_interval(int64 us);
int64 range_length(const TsRange& r);

// --- dirty scans (dirty_scan.cpp) -----------------------------------------
// A guarded table and its GiST (key text, range) index.
struct GuardedRels {
    Relation heap;
    Relation index;
    // The index's first column is a 64-bit hash of the key (1.1 and later:
    // booking_hash_blocked_idx, guard_entry_hash_blocked_idx), not the key
    // text (1.0: booking_blocked_idx, guard_entry_key_blocked_idx).
    bool hashed_key;
};

struct Occupants {
    sg::Occupant* items;
    int n;
    int cap;
};

Oid slotguard_relation(const char* name);
// InvalidOid when slotguard has no such relation (an older schema).
Oid slotguard_relation_if_exists(const char* name);
AttrNumber column_of(TupleDesc desc, const char* name);
// InvalidAttrNumber when the table has no such column (an older schema).
AttrNumber column_if_exists(TupleDesc desc, const char* name);
// Called for every row of `key` whose range overlaps `probe` (all rows of
// `key` when has_probe is false), read with a dirty snapshot; `pending` is
// the in-progress transaction that decides the row, or invalid; spec_token
// is non-zero while the row is an undecided speculative insertion.
typedef void (*DirtyVisitor)(void* arg, TupleTableSlot* slot, TransactionId pending, uint32 spec_token);
void dirty_scan(const GuardedRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                DirtyVisitor visit, void* arg);
// The same scan on an index whose first column is compared with `key_eq`
// (F_TEXTEQ, F_INT8EQ, ...); range_first puts the range key first.
void dirty_scan_eq(const GuardedRels* rels, Datum key, RegProcedure key_eq, bool range_first, Datum probe,
                   bool has_probe, ItemPointer exclude, DirtyVisitor visit, void* arg);
// The same scan with an MVCC snapshot (a reader's): only the rows it sees,
// none of them pending.
void snapshot_scan_eq(const GuardedRels* rels, Snapshot snap, Datum key, RegProcedure key_eq, bool range_first,
                      Datum probe, bool has_probe, DirtyVisitor visit, void* arg);
// The 64-bit hash of a key that the GiST indexes of bookings and guard
// entries hold instead of the key text (entry_hash.cpp).
int64 entry_hash(text* key);
// Opens the (key, range) GiST index of rels->heap (already open and
// locked): `hashed` if the schema has it, else `by_text` (the index of an
// older schema), and sets rels->hashed_key from the index's first column.
void open_keyed_index(GuardedRels* rels, const char* hashed, const char* by_text, LOCKMODE mode);
// dirty_scan_eq on such an index (snapshot_scan_eq with a snapshot): by
// entry_hash(key) or by the key text. The visitor must still compare the key
// (equal hashes of different keys).
void keyed_scan(const GuardedRels* rels, text* key, bool range_first, Datum probe, bool has_probe,
                ItemPointer exclude, DirtyVisitor visit, void* arg, Snapshot snap = NULL);
// Whether `key` holds a large share of the rows of column `attnum` (by the
// table's statistics); only steers the order of a scan's keys.
bool key_is_common(Relation heap, AttrNumber attnum, text* key);
void append_occupant(Occupants* out, const sg::Occupant& o);
void mark_pending(sg::Occupant* o, TransactionId pending, uint32 spec_token);
void close_rels(GuardedRels* rels, LOCKMODE mode);

// --- a row written as a speculative insertion (speculative_insert.cpp) -----
struct SpecRow {
    Relation rel;
    EState* estate;
    ResultRelInfo* rri;
    TupleTableSlot* slot;
};
// What a direct write may leave out (docs/concurrency.md, "What the direct
// writes do and do not do"): no enabled trigger for `event` (TRIGGER_TYPE_INSERT,
// ...) other than the named ones; a plain table (not a partition, no rule,
// no row-level security, no column of a domain type); the named columns of
// exactly these types; no CHECK constraint but the expected ones, each by
// name and definition (as deparsed with search_path = pg_catalog).
bool only_named_triggers(TriggerDesc* td, int16 event, const char* const* names, int n);
bool plain_table(Relation rel);
// Whether function `fn` is a C function whose symbol is `symbol` (one of
// this library's: what a trigger or CHECK constraint must call for a direct
// path to stand in for it; CREATE OR REPLACE keeps the oid, so callers also
// watch its syscache hash).
bool is_c_function(Oid fn, const char* symbol);
struct ColumnType {
    const char* name;
    Oid type;
};
bool columns_typed(TupleDesc desc, const ColumnType* cols, int n);
// A column that may be missing (an older schema): absent, or of `type`.
bool optional_column_typed(TupleDesc desc, AttrNumber att, Oid type);
struct ExpectedCheck {
    const char* name;
    const char* expr;
};
bool only_expected_checks(Relation rel, const ExpectedCheck* checks, int n);
// Opens the table's indexes for writing.
void spec_row_open(SpecRow* s, Relation rel);
// Inserts `tuple` with a speculative token, and its index entries; tid is
// the new row. With a valid `arbiter` (a unique index), false when it may
// hold a duplicate: the caller must kill the row (spec_row_decide false).
bool spec_row_insert(SpecRow* s, HeapTuple tuple, uint32 token, Oid arbiter, ItemPointer tid);
// Confirms (keep) or kills the row last inserted.
void spec_row_decide(SpecRow* s, bool keep);
void spec_row_close(SpecRow* s);
// ExecCloseIndices, but the indexes' RowExclusiveLocks stay until the
// transaction ends, as the executor keeps the locks of what it wrote.
void close_indices_keep_locks(ResultRelInfo* rri);

// --- admission (admission.cpp) ---------------------------------------------
// Reads the occupants competing with a row of `key` whose range overlaps probe.
typedef void (*Collector)(const GuardedRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                          Occupants* out);

// One row that must fit: in a booking table by capacity, or a worker's
// assignments with capacity 1.
struct AdmitTarget {
    const GuardedRels* rels;
    Collector collect;
    text* key;
    Datum during;   // tstzrange asked for (for messages)
    Datum blocked;  // tstzrange the row will block
    sg::Span want;  // same, on the core's grid
    int seats;
    int capacity;
    ItemPointer current;  // row being replaced (its old version is free), or NULL
    // Wider range for the first scan (0: blocked): the neighbourhood where
    // alternatives are sought, so a conflict found before writing needs no
    // second scan to suggest them.
    Datum precheck_probe;
    // Never wait for another transaction to end (only for a speculative
    // insertion to be decided): a writer that already holds writes of its
    // own in this call (a waitlist offer after a cancel) could deadlock
    // with the one it waits for. Undecided rows count as taken: a row that
    // depends on them is refused (ADMIT_CONFLICT, no ids).
    bool no_wait;
};
// Writes the rows inside the current subtransaction: tids[i] is the new row
// of targets[i]; *row is the result to return (copied into result_cxt).
typedef void (*WriteFn)(void* arg, ItemPointer tids, Datum* row, MemoryContext result_cxt);

enum AdmitOutcome { ADMIT_OK, ADMIT_CONFLICT, ADMIT_DUPLICATE_KEY, ADMIT_RETRY };
struct AdmitResult {
    AdmitOutcome outcome;
    Datum row;
    int conflict_target;  // index of the target that did not fit
    int64* conflict_ids;
    int n_conflicts;
    // The conflicting target's occupants across its precheck_probe, when the
    // conflict was found by the first scan (else items is NULL).
    Occupants neighbourhood;
};
// Called once the first scan says the rows fit, before anything is written
// (to take locks a refusal does not need); false means the inputs of the
// targets changed meanwhile, and admit_write returns ADMIT_RETRY.
typedef bool (*BeforeWriteFn)(void* arg);

// Checks, writes and re-checks until the writes are known to keep the
// invariant (or known to break it, which undoes them all).
void admit_write(const AdmitTarget* targets, int n, WriteFn write, void* arg, AdmitResult* result,
                 BeforeWriteFn before_write = NULL, void* before_arg = NULL);
// One new row, admitted without a subtransaction the way INSERT ... ON
// CONFLICT does it (docs/concurrency.md): `insert` writes the row as a
// speculative insertion with `token` (and its index entries) and returns its
// tid; `decide` then keeps it (true) or kills it (false). The caller makes
// the result row from what it wrote. As in admit_write, the first scan runs
// before anything is written, so a refusal writes nothing; with write_first
// the first pass writes and then scans (one scan instead of two when the
// row fits; a refusal then leaves a dead row). `insert` returns false when
// a unique index may already hold the row's key: the row is killed and the
// outcome is ADMIT_DUPLICATE_KEY.
typedef bool (*SpecInsertFn)(void* arg, uint32 token, ItemPointer tid);
typedef void (*SpecDecideFn)(void* arg, bool keep);
void admit_insert(const AdmitTarget* t, SpecInsertFn insert, SpecDecideFn decide, void* arg, AdmitResult* result,
                  BeforeWriteFn before_write = NULL, void* before_arg = NULL, bool write_first = false);
// The same for one new row that must fit several targets (a booking and its
// resource's per-day limits, API.md §10): every target's scan skips the row.
void admit_insert_n(const AdmitTarget* t, int n, SpecInsertFn insert, SpecDecideFn decide, void* arg,
                    AdmitResult* result, BeforeWriteFn before_write = NULL, void* before_arg = NULL,
                    bool write_first = false);
// The same check for a row already written by a plain INSERT/UPDATE
// (trigger): waits out pending writers, returns false on conflict.
bool admit_written_row(const AdmitTarget* t, ItemPointer tid, AdmitResult* result);

// --- arrays and id lists for results and messages (arrays.cpp) ------------
ArrayType* int8_array(const int64* v, int n);
// "1, 2, 3" for messages: at most max_listed_ids, then "and N more".
constexpr int max_listed_ids = 20;
char* id_list(const int64* ids, int n);
ArrayType* range_array(const Datum* v, int n);

}  // namespace sgpg
