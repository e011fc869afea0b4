// A new booking row written straight into the heap and its indexes, as a
// speculative insertion (see admit_insert), instead of through SPI.
//
// What an SPI INSERT would add per call, and why it is not needed here:
//   * parse/plan/executor start-up: the row is formed from known values;
//   * CHECK constraints (re-read from the catalog text each statement): the
//     API builds rows that satisfy the install script's constraints (seats
//     >= 1, status held/confirmed, a hold has an expiry), so they are only
//     verified to be exactly those, by name and definition; anything else
//     sends the call to SPI;
//   * the booking_guard triggers: they skip API writes anyway; any other
//     enabled INSERT trigger, a rule, row-level security, a column of a
//     domain type, a column of another type than the API's, or a stored
//     generated column other than resource_hash (computed here, as the
//     column's expression does) also sends the call to SPI.
// Column defaults (id, created_at, updated_at, ...) are the table's own,
// evaluated per row, so a changed default is honoured.
#include "bookings/bookings.hpp"
#include "feed/feed.hpp"

extern "C" {
#include "catalog/heap.h"
#include "catalog/pg_trigger.h"
#include "executor/executor.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/inval.h"
}

namespace sgpg {
namespace {

// What the direct path needs to know about slotguard.booking, kept across
// calls and dropped on any relcache invalidation of the table.
struct Shape {
    bool valid;
    bool usable;  // false: use SPI
    Oid relid;
    int natts;
    AttrNumber c_key, c_during, c_seats, c_status, c_holder, c_idem, c_expires, c_metadata, c_blocked, c_id, c_hash;
    Expr** defaults;  // [natts]: planned default of a column the API does not set, or NULL
    MemoryContext cxt;
};

Shape shape;
bool callback_registered = false;

void invalidate_shape(Datum, Oid relid) {
    if (relid == InvalidOid || relid == shape.relid) shape.valid = false;
}

// The install script's CHECK constraints, which the API's rows satisfy by
// construction: by name and definition, so one redefined under the same
// name sends the call to SPI.
const ExpectedCheck known_checks[] = {
    {"booking_seats_check", "(seats >= 1)"},
    {"booking_status_check", "(status = ANY (ARRAY['held'::text, 'confirmed'::text, 'cancelled'::text]))"},
    // 1.2 (waitlist section): booking_status_check becomes this, with 'expired'.
    {"booking_status_known",
     "(status = ANY (ARRAY['held'::text, 'confirmed'::text, 'cancelled'::text, 'expired'::text]))"},
    {"booking_held_has_expiry", "((status <> 'held'::text) OR (hold_expires_at IS NOT NULL))"},
};
// The columns the API sets, and the types of the values it puts in them.
const ColumnType api_columns[] = {
    {"id", INT8OID},           {"resource_key", TEXTOID},      {"during", TSTZRANGEOID},
    {"seats", INT4OID},        {"status", TEXTOID},            {"holder", TEXTOID},
    {"idempotency_key", TEXTOID}, {"hold_expires_at", TIMESTAMPTZOID}, {"metadata", JSONBOID},
    {"blocked", TSTZRANGEOID},  // resource_hash (1.1) is checked when it exists
};
// The change feed's trigger too: book() writes its row itself (feed/feed.hpp).
const char* const guard_triggers[] = {"booking_guard_before", "booking_guard_after", FEED_TRIGGER_NAME};

// The one stored generated column the direct path computes itself:
// resource_hash = slotguard.entry_hash(resource_key).
bool only_known_generated(TupleDesc desc) {
    if (desc->constr == NULL || !desc->constr->has_generated_stored) return true;
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (a->attgenerated == ATTRIBUTE_GENERATED_STORED && strcmp(NameStr(a->attname), "resource_hash") != 0)
            return false;
    }
    return true;
}

void build_shape(Relation rel) {
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(invalidate_shape, (Datum)0);
        callback_registered = true;
    }
    if (shape.cxt == NULL)
        shape.cxt = AllocSetContextCreate(TopMemoryContext, "slotguard booking insert", ALLOCSET_SMALL_SIZES);
    else
        MemoryContextReset(shape.cxt);
    shape.valid = false;
    shape.relid = RelationGetRelid(rel);
    TupleDesc desc = RelationGetDescr(rel);
    shape.natts = desc->natts;
    shape.c_id = column_of(desc, "id");
    shape.c_key = column_of(desc, "resource_key");
    shape.c_during = column_of(desc, "during");
    shape.c_seats = column_of(desc, "seats");
    shape.c_status = column_of(desc, "status");
    shape.c_holder = column_of(desc, "holder");
    shape.c_idem = column_of(desc, "idempotency_key");
    shape.c_expires = column_of(desc, "hold_expires_at");
    shape.c_metadata = column_of(desc, "metadata");
    shape.c_blocked = column_of(desc, "blocked");
    // 1.0 has no resource_hash: InvalidAttrNumber, and nothing to compute.
    shape.c_hash = column_if_exists(desc, "resource_hash");
    shape.usable = plain_table(rel) && columns_typed(desc, api_columns, lengthof(api_columns)) &&
                   optional_column_typed(desc, shape.c_hash, INT8OID) &&
                   only_named_triggers(rel->trigdesc, TRIGGER_TYPE_INSERT, guard_triggers, lengthof(guard_triggers)) &&
                   feed_trigger_genuine(rel) &&
                   only_expected_checks(rel, known_checks, lengthof(known_checks)) && only_known_generated(desc);

    MemoryContext old = MemoryContextSwitchTo(shape.cxt);
    shape.defaults = (Expr**)palloc0(sizeof(Expr*) * shape.natts);
    AttrNumber set_by_api[] = {shape.c_key,    shape.c_during,   shape.c_seats,   shape.c_status,
                               shape.c_holder, shape.c_idem,     shape.c_expires, shape.c_metadata,
                               shape.c_blocked, shape.c_hash};
    for (int i = 0; i < shape.natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (a->attisdropped) continue;
        bool set = false;
        for (AttrNumber c : set_by_api)
            if (c == a->attnum) set = true;
        if (set) continue;
        Node* d = build_column_default(rel, a->attnum);
        if (d != NULL) shape.defaults[i] = expression_planner((Expr*)d);
    }
    MemoryContextSwitchTo(old);
    shape.valid = true;
}

}  // namespace

bool direct_insert_begin(DirectInsert* d, Relation rel) {
    if (!shape.valid || shape.relid != RelationGetRelid(rel)) build_shape(rel);
    if (!shape.usable) return false;
    d->rel = rel;
    d->opened = false;
    d->tuple = NULL;
    d->id = 0;
    return true;
}

void direct_insert_form(DirectInsert* d, const BookingValues* bv) {
    if (!d->opened) {
        spec_row_open(&d->w, d->rel);
        d->opened = true;
    }
    TupleDesc desc = RelationGetDescr(d->rel);
    Datum* values = (Datum*)palloc0(sizeof(Datum) * shape.natts);
    bool* nulls = (bool*)palloc(sizeof(bool) * shape.natts);
    ExprContext* econtext = GetPerTupleExprContext(d->w.estate);
    for (int i = 0; i < shape.natts; ++i) {
        nulls[i] = true;
        if (shape.defaults[i] == NULL) continue;
        ExprState* st = ExecInitExpr(shape.defaults[i], NULL);
        values[i] = ExecEvalExprSwitchContext(st, econtext, &nulls[i]);
    }
    struct {
        AttrNumber col;
        Datum value;
        bool isnull;
    } given[] = {
        {shape.c_key, PointerGetDatum(bv->key), false},
        {shape.c_during, bv->during, false},
        {shape.c_seats, Int32GetDatum(bv->seats), false},
        {shape.c_status, CStringGetTextDatum(bv->status), false},
        {shape.c_holder, PointerGetDatum(bv->holder), bv->holder == NULL},
        {shape.c_idem, PointerGetDatum(bv->idem), bv->idem == NULL},
        {shape.c_expires, TimestampTzGetDatum(bv->expires), !bv->has_expires},
        {shape.c_metadata, bv->metadata, !bv->has_metadata},
        {shape.c_blocked, bv->blocked, false},
        {shape.c_hash, Int64GetDatum(entry_hash(bv->key)), false},
    };
    for (const auto& g : given) {
        if (g.col == InvalidAttrNumber) continue;
        values[g.col - 1] = g.value;
        nulls[g.col - 1] = g.isnull;
    }
    for (int i = 0; i < shape.natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (a->attnotnull && nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
                            errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
                                   NameStr(a->attname), RelationGetRelationName(d->rel))));
    }
    d->tuple = heap_form_tuple(desc, values, nulls);
    d->id = nulls[shape.c_id - 1] ? 0 : DatumGetInt64(values[shape.c_id - 1]);
    ResetPerTupleExprContext(d->w.estate);
}

void direct_insert_speculative(DirectInsert* d, uint32 token, ItemPointer tid) {
    spec_row_insert(&d->w, d->tuple, token, InvalidOid, tid);
}

void direct_insert_decide(DirectInsert* d, bool keep) { spec_row_decide(&d->w, keep); }

Datum direct_insert_row(DirectInsert* d) { return heap_copy_tuple_as_datum(d->tuple, RelationGetDescr(d->rel)); }

void direct_insert_end(DirectInsert* d) {
    if (d->opened) spec_row_close(&d->w);
}

}  // namespace sgpg
