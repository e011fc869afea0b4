// Guards on the application's own tables (contract §5). Shared by
// protect_api.cpp (protect/unprotect), protect_trigger.cpp (the trigger on
// a protected table), guard_eval.cpp (the guard's SQL expressions) and
// guard_entries.cpp (slotguard.guard_entry, what the admission protocol
// scans). Written C-style like the rest of the glue: no C++ object with a
// destructor is alive across a call that can ereport.
//
// A guard turns each ACTIVE row of the protected table into one entry
// (row key, entry_key = "<guard id>/<resource>", blocked range, seats) in
// slotguard.guard_entry. Entries are written inside admit_write, so a row
// of the user's table is admitted exactly as a booking is
// (docs/concurrency.md); concurrent checkers only ever scan entries.
#pragma once

#include "engine/glue.hpp"

namespace sgpg {

// Names of what protect() installs on the table.
#define GUARD_TRIGGER_NAME "slotguard_guard"
#define GUARD_TRUNCATE_TRIGGER_NAME "slotguard_guard_truncate"

// --- the guard's expressions (guard_eval.cpp) -----------------------------

// The expressions given to protect(), as SQL text over the table's columns.
struct GuardExprs {
    const char* resource;
    const char* during;
    const char* active;
    const char* seats;
};

// The table's primary key: the columns that name a row in messages and in
// guard_entry.row_key.
struct KeyColumns {
    int n;
    AttrNumber atts[INDEX_MAX_KEYS];
    const char* names[INDEX_MAX_KEYS];
};

// The primary key of `rel`: 22023 if it has none or it is deferrable.
KeyColumns primary_key_of(Relation rel);
// The same, checked against the key columns stored with the guard: 55000
// if the primary key changed since protect().
void check_key_unchanged(Relation rel, ArrayType* stored);
ArrayType* key_columns_array(const KeyColumns* k);
// "id" or "room, day", for messages.
char* key_names_text(ArrayType* key_columns);
// "(id)=(5)" or "(room, day)=(r1,2030-01-01)", like PostgreSQL's key details.
char* key_label(const char* names, int n_keys, const char* row_key);

// Raises 22023 unless `expr` is exactly one SQL expression; `what` names
// the argument of protect().
void check_expression_syntax(const char* what, const char* expr);
// The type `expr` has over a row of `rel` (prepared as the table's owner,
// settings pinned); a bad expression raises 22023 naming it.
Oid expression_type(Relation rel, const char* what, const char* expr);

// The first temporary object (pg_temp function, operator, type, collation
// or table) the prepared plan's analysed query refers to, described for a
// message ("the function pg_temp.f()"), or NULL.
const char* temporary_object_in(SPIPlanPtr plan);

// SELECT lists and queries that evaluate a guard. Result columns:
//   1 resource text, 2 during tstzrange, 3 active boolean, 4 seats int4,
//   5 row key text.
// guard_row_query reads the row from parameter $1 (of the table's row type);
// guard_table_query reads every row of the table itself (ONLY).
char* guard_row_query(Relation rel, const GuardExprs* e, ArrayType* key_columns);
char* guard_table_query(Relation rel, const GuardExprs* e, ArrayType* key_columns);
// "SELECT <row key> FROM (SELECT ($1).*) ...": the key of a row alone.
char* key_row_query(Relation rel, ArrayType* key_columns);
// 55000 unless a prepared evaluation plan has the five columns above.
void check_eval_columns(SPIPlanPtr plan, Relation rel);

// One evaluated row (values copied into the current memory context).
struct GuardRow {
    bool active;
    text* resource;  // NULL when the expression gave NULL
    Datum during;
    bool during_null;
    int seats;
    bool seats_null;
    text* key;
};
#define GUARD_ROW_COLUMNS 5
GuardRow read_guard_row(HeapTuple t, TupleDesc desc);
GuardRow guard_row_of(const Datum* values, const bool* nulls);
// Whether the current user may see the key values of rows of `rel` in
// messages: as PostgreSQL's own key details, not without SELECT on the
// table or on every key column, and never under row-level security.
bool keys_visible(Relation rel, const AttrNumber* atts, int n);
// An active row must have a resource, a finite non-empty range and
// 1 <= seats <= capacity: 22004, 22000 or 22023 naming the row, by its key
// if keys_visible(rel, key_atts) (key_atts NULL: always).
void check_guard_row(Relation rel, const char* key_names, const AttrNumber* key_atts, int n_keys,
                     const GuardRow* r, int capacity);
// The same test, without raising.
bool guard_row_valid(const GuardRow* r, int capacity);

// --- evaluating a prepared one-row SELECT over $1 (row_eval.cpp) ----------
struct RowEval {
    SPIPlanPtr plan;  // kept by the caller, which outlives this
    Oid argtype;
    int natts;
    MemoryContext parent;
    bool usable;  // false: the plan is not a bare Result, use SPI
    int depth;    // evaluations in progress (an expression can write a table whose guard evaluates again)
    bool broken;  // an error interrupted an evaluation: compile again
    CachedPlan* cplan;
    MemoryContext cxt;
    ParamListInfo params;
    ExprContext* econtext;
    ExprState** states;
};
void row_eval_init(RowEval* e, SPIPlanPtr plan, Oid argtype, int natts, MemoryContext parent);
void row_eval_free(RowEval* e);
// The plan's output for $1 = arg into values/nulls[natts] (valid until the
// next call); false when it must run through SPI instead (also while an
// evaluation of the same expressions is in progress further up the stack). Caller: as for
// SPI_execute_plan (role, settings, snapshot).
bool row_eval(RowEval* e, Datum arg, Datum* values, bool* nulls);

// --- the settings and roles expressions run under (guard_eval.cpp) --------

// The caller's settings that change what expressions compute (TimeZone,
// DateStyle, IntervalStyle), as "name=value" elements; protect() stores
// them with the guard so that every session evaluates alike.
ArrayType* capture_settings(void);
// Pins search_path to pg_catalog, pg_temp and, when `captured` is given,
// the output formats and the captured settings too, until
// unpin_settings(level), which also undoes any setting changed in between
// (by a guard expression, say). An error in between unwinds them with the
// (sub)transaction.
int pin_settings(ArrayType* captured);
void unpin_settings(int level);

struct RoleSave {
    Oid user;
    int sec;
};
// The user's expressions run as the owner of the protected table in a
// security-restricted operation (as index expressions do), never as the
// extension's owner and never as whoever happens to write the row.
RoleSave become_table_owner(Relation rel);
// slotguard's own tables are read and written as their owner.
RoleSave become_guard_owner(void);
void restore_role(const RoleSave* s);
// Whether slotguard.guard has the owner column (1.2): the role that owned
// the table when protect() was called, the only one its expressions may
// run as.
bool guard_owner_recorded(void);
// 42501 when the table's owner is no longer `owner` (InvalidOid: not
// recorded, nothing to check): the expressions were given by the old owner
// and must not start running as the new one without that role's consent.
void check_owner_unchanged(Relation rel, Oid owner);

// --- guard entries (guard_entries.cpp) ------------------------------------

// slotguard.guard_entry and its GiST (entry_hash, blocked) index. `rels`
// comes first: admission hands &rels to collect_entries, which finds the
// rest here.
struct EntryRels {
    GuardedRels rels;
    char** keys;  // row keys of the entries the last scan returned,
    int n_keys;   // indexed by occupant id
    int cap_keys;
};
void open_entries(EntryRels* e, LOCKMODE mode);
void close_entries(EntryRels* e, LOCKMODE mode);
// Collector (see AdmitTarget): the entries of `key` whose blocked range
// overlaps `probe`, read with a dirty snapshot; occupant id = index of the
// entry's row key in EntryRels::keys.
void collect_entries(const GuardedRels* rels, text* key, Datum probe, bool has_probe, ItemPointer exclude,
                     Occupants* out);
// "5, 7" for the occupant ids of the last scan.
char* entry_key_list(const EntryRels* e, const int64* ids, int n);
// Free alternatives of during's length for `seats`, nearest first (as
// book_slot's HINT; guards have no buffers).
int entry_alternatives(EntryRels* e, text* entry_key, const TsRange& during, int seats, int capacity,
                       ItemPointer exclude, Datum* out, int max_out);

// "<guard id>/<resource>": the scan key of a guard's resource.
text* make_entry_key(int32 guard_id, text* resource);

// Statements on guard_entry; run as the guard owner with search_path pinned.
// They read with the latest snapshot, so that under REPEATABLE READ an
// entry written after the transaction's snapshot is still found.
struct EntryRow {
    bool found;
    ItemPointerData tid;
    text* entry_key;
    Datum blocked;
    int seats;
};
EntryRow find_entry(int32 guard_id, text* row_key);
void delete_entry(int32 guard_id, text* row_key);
void delete_guard_entries(int32 guard_id);
ItemPointerData upsert_entry(int32 guard_id, text* row_key, text* entry_key, Datum blocked, int seats);

// --- a new entry without SPI (entry_insert.cpp) ---------------------------
struct EntryInsert {
    SpecRow w;
    HeapTuple tuple;
    Oid pk;
};
// Forms the entry and opens guard_entry for writing it; false (nothing
// opened) when the table has anything only an SQL INSERT reproduces.
bool entry_insert_begin(EntryInsert* e, Relation rel, int32 guard_id, text* row_key, text* entry_key, Datum blocked,
                        int seats);
// admit_insert's SpecInsertFn / SpecDecideFn, arg = the EntryInsert. The
// write returns false when guard_entry may already hold the row key.
bool entry_insert_write(void* arg, uint32 token, ItemPointer tid);
void entry_insert_decide(void* arg, bool keep);
void entry_insert_end(EntryInsert* e);

}  // namespace sgpg
