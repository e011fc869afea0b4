// A new guard entry written straight into slotguard.guard_entry as a
// speculative insertion (admit_insert), instead of SPI's INSERT ... ON
// CONFLICT DO UPDATE inside a subtransaction: the guarded INSERT's path.
//
// The table is the extension's own, so the row is formed here: the five
// columns the trigger knows and entry_hash, computed as its generated
// expression does. Anything else on the table (another column, a column of
// another type, a trigger, a CHECK other than the install script's by name
// and definition, a rule, row-level security, a domain) sends the write to
// SPI. So does an entry that
// already holds the row's key (a row deleted while the trigger was
// disabled, or a concurrent writer of the same key): the primary key is
// the arbiter, and SPI's upsert deals with it.
#include "guards/guard.hpp"

extern "C" {
#include "catalog/pg_trigger.h"
#include "utils/inval.h"
#include "utils/relcache.h"
}

namespace sgpg {
namespace {

struct Shape {
    bool valid;
    bool usable;
    Oid relid;
    Oid pk;
    int natts;
    AttrNumber c_guard, c_row_key, c_entry_key, c_blocked, c_seats, c_hash;
};

Shape shape;
bool callback_registered = false;

void invalidate_shape(Datum, Oid relid) {
    if (relid == InvalidOid || relid == shape.relid) shape.valid = false;
}

// Only the install script's CHECK (seats >= 1), which the trigger has
// already checked on the row (check_guard_row): by name and definition.
const ExpectedCheck known_checks[] = {{"guard_entry_seats_check", "(seats >= 1)"}};
const ColumnType columns[] = {{"guard_id", INT4OID}, {"row_key", TEXTOID},      {"entry_key", TEXTOID},
                              {"blocked", TSTZRANGEOID}, {"seats", INT4OID}};  // entry_hash (1.1): when it exists

void build_shape(Relation rel) {
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(invalidate_shape, (Datum)0);
        callback_registered = true;
    }
    TupleDesc desc = RelationGetDescr(rel);
    shape.relid = RelationGetRelid(rel);
    shape.natts = desc->natts;
    shape.c_guard = column_of(desc, "guard_id");
    shape.c_row_key = column_of(desc, "row_key");
    shape.c_entry_key = column_of(desc, "entry_key");
    shape.c_blocked = column_of(desc, "blocked");
    shape.c_seats = column_of(desc, "seats");
    // 1.0 has no entry_hash: InvalidAttrNumber, and nothing to compute.
    shape.c_hash = column_if_exists(desc, "entry_hash");
    int live = 0;
    for (int i = 0; i < desc->natts; ++i)
        if (!TupleDescAttr(desc, i)->attisdropped) ++live;
    shape.pk = RelationGetPrimaryKeyIndex(rel);
    shape.usable = live == (shape.c_hash != InvalidAttrNumber ? 6 : 5) && OidIsValid(shape.pk) && plain_table(rel) &&
                   columns_typed(desc, columns, lengthof(columns)) &&
                   optional_column_typed(desc, shape.c_hash, INT8OID) &&
                   only_named_triggers(rel->trigdesc, TRIGGER_TYPE_INSERT, NULL, 0) &&
                   only_expected_checks(rel, known_checks, lengthof(known_checks));
    shape.valid = true;
}

}  // namespace

bool entry_insert_begin(EntryInsert* e, Relation rel, int32 guard_id, text* row_key, text* entry_key, Datum blocked,
                        int seats) {
    if (!shape.valid || shape.relid != RelationGetRelid(rel)) build_shape(rel);
    if (!shape.usable) return false;
    Datum* values = (Datum*)palloc0(sizeof(Datum) * shape.natts);
    bool* nulls = (bool*)palloc(sizeof(bool) * shape.natts);
    memset(nulls, true, sizeof(bool) * shape.natts);
    struct {
        AttrNumber col;
        Datum value;
    } given[] = {
        {shape.c_guard, Int32GetDatum(guard_id)},
        {shape.c_row_key, PointerGetDatum(row_key)},
        {shape.c_entry_key, PointerGetDatum(entry_key)},
        {shape.c_blocked, blocked},
        {shape.c_seats, Int32GetDatum(seats)},
        {shape.c_hash, Int64GetDatum(entry_hash(entry_key))},
    };
    for (const auto& g : given) {
        if (g.col == InvalidAttrNumber) continue;
        values[g.col - 1] = g.value;
        nulls[g.col - 1] = false;
    }
    e->tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
    pfree(values);
    pfree(nulls);
    e->pk = shape.pk;
    spec_row_open(&e->w, rel);
    return true;
}

bool entry_insert_write(void* arg, uint32 token, ItemPointer tid) {
    EntryInsert* e = (EntryInsert*)arg;
    return spec_row_insert(&e->w, e->tuple, token, e->pk, tid);
}

void entry_insert_decide(void* arg, bool keep) { spec_row_decide(&((EntryInsert*)arg)->w, keep); }

void entry_insert_end(EntryInsert* e) { spec_row_close(&e->w); }

}  // namespace sgpg
