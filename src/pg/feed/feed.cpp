// The change feed (API.md §13): the trigger enable_change_feed() installs,
// the row it writes, and changes()/trim_changes()/enable/disable.
//
// seq and visibility. A consumer stores the last seq it processed and asks
// for the rows after it; it must never miss a row that commits later with
// a smaller seq (the outbox gap). So seq is not drawn from a sequence but
// made of the writing transaction's own id: seq = top-level xid8 << 20 |
// n, n = 1, 2, ... the changes of that transaction. Every transaction still
// running, or starting later, has an xid8 at or above the xmin of a
// snapshot taken now; changes() returns only rows whose xid8 (seq >> 20)
// is below that xmin: their writers have all ended, the committed ones are
// visible, the rolled-back ones never will be, and every later row has a
// larger seq than any returned. Written in the same transaction as the
// change itself, so a rollback takes the change row with it.
#include "feed/feed.hpp"

#include "access/access.hpp"
#include "engine/glue.hpp"
#include "engine/spi_plans.hpp"

extern "C" {
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "commands/async.h"
#include "mb/pg_wchar.h"
#include "utils/datum.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_change_feed_trigger);
PG_FUNCTION_INFO_V1(sg_changes);
PG_FUNCTION_INFO_V1(sg_trim_changes);
PG_FUNCTION_INFO_V1(sg_enable_change_feed);
PG_FUNCTION_INFO_V1(sg_disable_change_feed);
}

namespace sgpg {
namespace {

const int SEQ_SHIFT = 20;
const uint64 SEQ_MAX_CHANGES = (UINT64CONST(1) << SEQ_SHIFT) - 1;

FullTransactionId seq_xact = InvalidFullTransactionId;
uint64 seq_n = 0;

int64 next_seq(void) {
    FullTransactionId fx = GetTopFullTransactionId();
    if (!FullTransactionIdEquals(fx, seq_xact)) {
        seq_xact = fx;
        seq_n = 0;
    }
    uint64 x = U64FromFullTransactionId(fx);
    if (seq_n >= SEQ_MAX_CHANGES || x >= (UINT64CONST(1) << (63 - SEQ_SHIFT)))
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("too many slotguard changes in one transaction"),
                        errdetail("The change feed numbers at most " UINT64_FORMAT " changes per transaction.",
                                  SEQ_MAX_CHANGES),
                        errhint("Split the work into smaller transactions, or disable_change_feed() for it.")));
    ++seq_n;
    return (int64)((x << SEQ_SHIFT) | seq_n);
}

// --- what a row change is --------------------------------------------------

enum Entity { E_BOOKING, E_ASSIGNMENT, E_ORDER, E_WAITLIST, E_NONE };

Entity entity_of(Relation rel) {
    const char* n = RelationGetRelationName(rel);
    if (strcmp(n, "booking") == 0) return E_BOOKING;
    if (strcmp(n, "assignment") == 0) return E_ASSIGNMENT;
    if (strcmp(n, "orders") == 0) return E_ORDER;
    if (strcmp(n, "waitlist") == 0) return E_WAITLIST;
    return E_NONE;
}
const char* const entity_names[] = {"booking", "assignment", "order", "waitlist"};

Datum column_value(HeapTuple t, TupleDesc d, const char* name, bool* isnull) {
    *isnull = true;
    if (t == NULL) return (Datum)0;
    AttrNumber a = column_if_exists(d, name);
    if (a == InvalidAttrNumber) return (Datum)0;
    return heap_getattr(t, a, d, isnull);
}

// The column as a C string (NULL when absent or null).
char* column_cstring(HeapTuple t, TupleDesc d, const char* name) {
    bool isnull;
    Datum v = column_value(t, d, name, &isnull);
    if (isnull) return NULL;
    AttrNumber a = column_if_exists(d, name);
    Oid out;
    bool varlena;
    getTypeOutputInfo(TupleDescAttr(d, a - 1)->atttypid, &out, &varlena);
    return OidOutputFunctionCall(out, v);
}

bool same_cstring(const char* a, const char* b) {
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

// Whether column `name` differs between the two rows (binary comparison).
bool column_changed(HeapTuple o, HeapTuple n, TupleDesc d, const char* name) {
    AttrNumber a = column_if_exists(d, name);
    if (a == InvalidAttrNumber) return false;
    bool on, nn;
    Datum ov = heap_getattr(o, a, d, &on);
    Datum nv = heap_getattr(n, a, d, &nn);
    if (on || nn) return on != nn;
    Form_pg_attribute att = TupleDescAttr(d, a - 1);
    return !datumIsEqual(ov, nv, att->attbyval, att->attlen);
}

bool is(const char* s, const char* v) { return s != NULL && strcmp(s, v) == 0; }

// The event of a change, or NULL when it is none of the contract's (a
// metadata edit, a lease renewal, joining a waitlist, adding an order).
// *with_previous: the data also carries the row as it was.
const char* event_of(Entity e, HeapTuple o, HeapTuple n, TupleDesc d, bool* with_previous) {
    *with_previous = false;
    char* os = column_cstring(o, d, "status");
    char* ns = column_cstring(n, d, "status");
    switch (e) {
        case E_BOOKING:
            if (o == NULL) return is(ns, "held") ? "held" : is(ns, "confirmed") ? "booked"
                                  : is(ns, "cancelled")                  ? "cancelled"
                                  : is(ns, "expired")                    ? "expired"
                                                                         : NULL;
            if (n == NULL) return is(os, "held") || is(os, "confirmed") ? "cancelled" : NULL;
            if (!same_cstring(os, ns)) {
                if (is(ns, "confirmed")) return "confirmed";
                if (is(ns, "held")) return "held";
                if (is(ns, "cancelled")) return "cancelled";
                if (is(ns, "expired")) return "expired";
                return NULL;
            }
            if (column_changed(o, n, d, "during") || column_changed(o, n, d, "resource_key") ||
                column_changed(o, n, d, "seats")) {
                *with_previous = true;
                return "rescheduled";
            }
            if (is(ns, "held") && column_changed(o, n, d, "hold_expires_at")) return "held";
            return NULL;
        case E_ASSIGNMENT:
            if (o == NULL) return is(ns, "active") ? "assigned" : NULL;
            if (n == NULL) return is(os, "active") ? "unassigned" : NULL;
            if (same_cstring(os, ns)) return NULL;
            return is(ns, "active") ? "assigned" : is(os, "active") ? "unassigned" : NULL;
        case E_ORDER: {
            if (o == NULL || n == NULL) return NULL;
            if (is(ns, "claimed")) {
                if (!is(os, "claimed") || column_changed(o, n, d, "claimant") ||
                    column_changed(o, n, d, "claim_token") || column_changed(o, n, d, "claimed_at"))
                    return "claimed";
                return NULL;  // a lease renewal
            }
            if (same_cstring(os, ns) && !column_changed(o, n, d, "attempts")) return NULL;
            if (is(ns, "done") || is(ns, "completed")) return "completed";
            if (is(ns, "dead")) return "dead";
            if (is(ns, "failed")) return "failed";
            if (is(ns, "cancelled")) return "cancelled";
            if (is(os, "claimed") || column_changed(o, n, d, "attempts")) {
                bool on, nn;
                Datum oa = column_value(o, d, "attempts", &on);
                Datum na = column_value(n, d, "attempts", &nn);
                bool failed = !on && !nn && DatumGetInt32(na) > DatumGetInt32(oa);
                return failed ? "failed" : "released";
            }
            return NULL;
        }
        case E_WAITLIST:
            if (o == NULL) return is(ns, "offered") ? "offered" : NULL;
            if (n == NULL) return is(os, "waiting") || is(os, "offered") ? "left" : NULL;
            if (same_cstring(os, ns)) return NULL;
            return is(ns, "offered") ? "offered" : is(ns, "left") ? "left" : NULL;
        default:
            return NULL;
    }
}

// --- writing the row -------------------------------------------------------

struct RowPlan {
    Oid relid;
    Oid rowtype;
    SPIPlanPtr plan;
};
RowPlan plans[8];
int n_plans = 0;

SPIPlanPtr plan_for(Relation rel) {
    Oid relid = RelationGetRelid(rel);
    Oid rowtype = rel->rd_rel->reltype;
    for (int i = 0; i < n_plans; ++i)
        if (plans[i].relid == relid && plans[i].rowtype == rowtype) return plans[i].plan;
    // The row, and for a reschedule the row as it was, as jsonb: to_jsonb
    // of the table's row type, so every column (and any added later) is in.
    PlanSpec spec = {"INSERT INTO slotguard.change (seq, tenant, entity, id, event, at, data) "
                     "VALUES ($1, $2, $3, $4, $5, pg_catalog.now(), "
                     "pg_catalog.to_jsonb($6) || CASE WHEN $7 IS NULL THEN '{}'::pg_catalog.jsonb "
                     "ELSE pg_catalog.jsonb_build_object('previous', pg_catalog.to_jsonb($7)) END)",
                     7,
                     {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, rowtype, rowtype}};
    SPIPlanPtr p = NULL;
    kept_plan(&p, spec);
    if (n_plans == (int)lengthof(plans)) {
        SPI_freeplan(plans[0].plan);
        memmove(&plans[0], &plans[1], sizeof(RowPlan) * (n_plans - 1));
        --n_plans;
    }
    plans[n_plans++] = RowPlan{relid, rowtype, p};
    return p;
}

// --- the direct write ---------------------------------------------------------
//
// The change row is formed here and written straight into slotguard.change's
// heap and indexes (as booking_insert.cpp does for bookings), with data =
// to_jsonb(row) called directly: an SPI INSERT per change would cost about
// as much as the booking itself. Only when the table is as the install
// script made it: exactly its seven columns and types, no trigger, rule,
// CHECK, RLS, partitioning or generated column; else the SPI INSERT above.

const ColumnType change_columns[] = {{"seq", INT8OID},   {"tenant", TEXTOID},       {"entity", TEXTOID},
                                     {"id", TEXTOID},    {"event", TEXTOID},        {"at", TIMESTAMPTZOID},
                                     {"data", JSONBOID}};

struct ChangeShape {
    bool valid;
    bool usable;
    Oid relid;
    AttrNumber cols[7];  // in change_columns' order
};
ChangeShape change_shape;
bool change_callback = false;

void invalidate_change_shape(Datum, Oid relid) {
    if (relid == InvalidOid || relid == change_shape.relid) change_shape.valid = false;
}

bool change_usable(Relation crel) {
    if (change_shape.valid && change_shape.relid == RelationGetRelid(crel)) return change_shape.usable;
    if (!change_callback) {
        CacheRegisterRelcacheCallback(invalidate_change_shape, (Datum)0);
        change_callback = true;
    }
    TupleDesc desc = RelationGetDescr(crel);
    int live = 0;
    for (int i = 0; i < desc->natts; ++i)
        if (!TupleDescAttr(desc, i)->attisdropped) ++live;
    bool ok = live == (int)lengthof(change_columns) && plain_table(crel) &&
              columns_typed(desc, change_columns, lengthof(change_columns)) &&
              only_named_triggers(crel->trigdesc, TRIGGER_TYPE_INSERT, NULL, 0) &&
              (desc->constr == NULL || (desc->constr->num_check == 0 && !desc->constr->has_generated_stored));
    for (int i = 0; ok && i < (int)lengthof(change_columns); ++i)
        change_shape.cols[i] = column_of(desc, change_columns[i].name);
    change_shape.relid = RelationGetRelid(crel);
    change_shape.usable = ok;
    change_shape.valid = true;
    return ok;
}

// to_jsonb(row) for the row type of `rel`: to_jsonb reads its argument's
// type from the call expression, so it gets one (kept per row type).
struct JsonbCall {
    Oid rowtype;
    FmgrInfo fn;
};
JsonbCall jsonb_calls[8];
int n_jsonb_calls = 0;

Datum row_jsonb(Relation rel, HeapTuple t) {
    Oid rowtype = rel->rd_rel->reltype;
    JsonbCall* c = NULL;
    for (int i = 0; i < n_jsonb_calls && c == NULL; ++i)
        if (jsonb_calls[i].rowtype == rowtype) c = &jsonb_calls[i];
    if (c == NULL) {
        c = &jsonb_calls[n_jsonb_calls < (int)lengthof(jsonb_calls) ? n_jsonb_calls++ : 0];
        MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
        c->rowtype = InvalidOid;
        fmgr_info(F_TO_JSONB, &c->fn);
        Node* arg = (Node*)makeNullConst(rowtype, -1, InvalidOid);
        fmgr_info_set_expr((Node*)makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(arg), InvalidOid, InvalidOid,
                                               COERCE_EXPLICIT_CALL),
                           &c->fn);
        MemoryContextSwitchTo(old);
        c->rowtype = rowtype;
    }
    return FunctionCall1(&c->fn, heap_copy_tuple_as_datum(t, RelationGetDescr(rel)));
}

// {"previous": j}
Datum previous_object(Datum j) {
    JsonbParseState* st = NULL;
    pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
    JsonbValue k;
    k.type = jbvString;
    k.val.string.val = pstrdup("previous");
    k.val.string.len = strlen("previous");
    pushJsonbValue(&st, WJB_KEY, &k);
    Jsonb* inner = DatumGetJsonbP(j);
    JsonbValue v;
    v.type = jbvBinary;
    v.val.binary.data = &inner->root;
    v.val.binary.len = VARSIZE(inner) - VARHDRSZ;
    pushJsonbValue(&st, WJB_VALUE, &v);
    JsonbValue* res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
    return JsonbPGetDatum(JsonbValueToJsonb(res));
}

// Writes the row directly; false when the table is not as installed.
bool insert_change_direct(Relation rel, HeapTuple o, bool with_previous, HeapTuple row, const Datum* v,
                          const char* nulls) {
    Relation crel = table_open(slotguard_relation("change"), RowExclusiveLock);
    if (!change_usable(crel)) {
        table_close(crel, NoLock);
        return false;
    }
    TupleDesc cdesc = RelationGetDescr(crel);
    Datum* values = (Datum*)palloc0(sizeof(Datum) * cdesc->natts);
    bool* isnull = (bool*)palloc(sizeof(bool) * cdesc->natts);
    for (int i = 0; i < cdesc->natts; ++i) isnull[i] = true;
    Datum data = row_jsonb(rel, row);
    if (with_previous) data = DirectFunctionCall2(jsonb_concat, data, previous_object(row_jsonb(rel, o)));
    Datum given[7] = {v[0], v[1], v[2], v[3], v[4], TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), data};
    for (int i = 0; i < 7; ++i) {
        AttrNumber a = change_shape.cols[i];
        values[a - 1] = given[i];
        isnull[a - 1] = i < 5 && nulls[i] == 'n';
    }
    HeapTuple tuple = heap_form_tuple(cdesc, values, isnull);
    EState* estate = CreateExecutorState();
    ResultRelInfo* rri = makeNode(ResultRelInfo);
    rri->ri_RelationDesc = crel;
    ExecOpenIndices(rri, false);
    TupleTableSlot* slot = MakeSingleTupleTableSlot(cdesc, &TTSOpsHeapTuple);
    ExecStoreHeapTuple(tuple, slot, false);
    table_tuple_insert(crel, slot, GetCurrentCommandId(true), 0, NULL);
    list_free(ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL));
    ExecDropSingleTupleTableSlot(slot);
    close_indices_keep_locks(rri);
    FreeExecutorState(estate);
    table_close(crel, NoLock);
    return true;
}

// Whether the feed trigger `tg` notifies: its argument is 'notify' (or
// none) or 'quiet' (enable_change_feed(notify => false)).
bool notifies(const Trigger* tg) { return !(tg->tgnargs == 1 && strcmp(tg->tgargs[0], "quiet") == 0); }

void write_change(Relation rel, const Trigger* tg, HeapTuple o, HeapTuple n) {
    Entity e = entity_of(rel);
    if (e == E_NONE) return;
    TupleDesc d = RelationGetDescr(rel);
    bool with_previous;
    const char* event = event_of(e, o, n, d, &with_previous);
    if (event == NULL) return;
    HeapTuple row = n != NULL ? n : o;
    const char* key_col = e == E_ASSIGNMENT ? "worker" : e == E_ORDER ? "key" : "resource_key";
    char* key = column_cstring(row, d, key_col);
    char* id = column_cstring(row, d, e == E_ORDER ? "key" : "id");
    if (key == NULL) key = pstrdup("");
    const char* colon = strchr(key, ':');
    char* tenant = colon ? pnstrdup(key, colon - key) : key;

    Datum v[7];
    char nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
    v[0] = Int64GetDatum(next_seq());
    v[1] = CStringGetTextDatum(tenant);
    v[2] = CStringGetTextDatum(entity_names[e]);
    if (id != NULL)
        v[3] = CStringGetTextDatum(id);
    else
        nulls[3] = 'n';
    v[4] = CStringGetTextDatum(event);
    v[5] = heap_copy_tuple_as_datum(row, d);
    if (with_previous)
        v[6] = heap_copy_tuple_as_datum(o, d);
    else {
        v[6] = (Datum)0;
        nulls[6] = 'n';
    }
    // Written as the owner of the table changed (slotguard's owner): whoever
    // may change a booking has its change recorded.
    Oid saved_user;
    int saved_sec;
    GetUserIdAndSecContext(&saved_user, &saved_sec);
    SetUserIdAndSecContext(rel->rd_rel->relowner, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
    if (!insert_change_direct(rel, o, with_previous, row, v, nulls)) {
        SPI_connect();
        int rc = SPI_execute_plan(plan_for(rel), v, nulls, false, 0);
        if (rc != SPI_OK_INSERT)
            elog(ERROR, "slotguard: writing the change row failed: %s", SPI_result_code_string(rc));
        SPI_finish();
    }
    SetUserIdAndSecContext(saved_user, saved_sec);
    // One notification per tenant and transaction (identical ones are
    // folded by NOTIFY itself). A payload must stay below 8000 bytes.
    // NOTIFY serializes the commits of notifying transactions (PostgreSQL
    // holds a database-wide lock from its queue write through the commit):
    // with consumers that only poll, enable_change_feed(notify => false).
    int len = strlen(tenant);
    if (len > 1000) len = pg_mbcliplen(tenant, len, 1000);
    if (notifies(tg)) Async_Notify("slotguard_changes", pnstrdup(tenant, len));
}

}  // namespace

const Trigger* feed_trigger(Relation rel) {
    TriggerDesc* td = rel->trigdesc;
    if (td == NULL) return NULL;
    for (int i = 0; i < td->numtriggers; ++i) {
        Trigger* tg = &td->triggers[i];
        if (strcmp(tg->tgname, FEED_TRIGGER_NAME) != 0) continue;
        if (!TRIGGER_FOR_ROW(tg->tgtype) || !TRIGGER_FOR_INSERT(tg->tgtype)) continue;
        bool fires;
        if (tg->tgenabled == TRIGGER_FIRES_ALWAYS)
            fires = true;
        else if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
            fires = tg->tgenabled == TRIGGER_FIRES_ON_REPLICA;
        else
            fires = tg->tgenabled == TRIGGER_FIRES_ON_ORIGIN;
        return fires ? tg : NULL;
    }
    return NULL;
}

void feed_row_inserted(Relation rel, const Trigger* tg, HeapTuple row) { write_change(rel, tg, NULL, row); }

void feed_row_updated(Relation rel, const Trigger* tg, HeapTuple old_row, HeapTuple new_row) {
    write_change(rel, tg, old_row, new_row);
}

bool feed_trigger_genuine(Relation rel) {
    TriggerDesc* td = rel->trigdesc;
    if (td == NULL) return true;
    for (int i = 0; i < td->numtriggers; ++i) {
        Trigger* tg = &td->triggers[i];
        if (strcmp(tg->tgname, FEED_TRIGGER_NAME) != 0) continue;
        if (!TRIGGER_FOR_ROW(tg->tgtype) || !TRIGGER_FOR_AFTER(tg->tgtype) || tg->tgqual != NULL ||
            tg->tgnargs > 1 || (tg->tgnargs == 1 && strcmp(tg->tgargs[0], "notify") != 0 &&
                                strcmp(tg->tgargs[0], "quiet") != 0) ||
            tg->tgnattr != 0 || OidIsValid(tg->tgconstraint))
            return false;
        if (!is_c_function(tg->tgfoid, "sg_change_feed_trigger")) return false;
    }
    return true;
}

}  // namespace sgpg

using namespace sgpg;

extern "C" Datum sg_change_feed_trigger(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "slotguard.change_feed_trigger() must be called as a trigger");
    TriggerData* td = (TriggerData*)fcinfo->context;
    if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
        elog(ERROR, "slotguard.change_feed_trigger() must be an AFTER ... FOR EACH ROW trigger");
    HeapTuple o = NULL, n = NULL;
    if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
        n = td->tg_trigtuple;
    else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event)) {
        o = td->tg_trigtuple;
        n = td->tg_newtuple;
    } else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
        o = td->tg_trigtuple;
    write_change(td->tg_relation, td->tg_trigger, o, n);
    return PointerGetDatum(NULL);
}

// --- changes(after, max) ---------------------------------------------------

namespace {

SPIPlanPtr changes_plan = NULL;
// The visibility horizon is the xmin of this very query's snapshot: every
// row below it is final (see the top of this file).
const PlanSpec changes_spec = {
    "SELECT c.seq, c.tenant, c.entity, c.id, c.event, c.at, c.data FROM slotguard.change c "
    "WHERE c.seq > $1 "
    "AND c.seq < (pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::int8 << 20) "
    "AND ($3::text[] IS NULL OR c.tenant = ANY ($3)) "
    "AND ($4::text IS NULL OR (c.entity = 'booking' AND c.data ->> 'holder' = $4)) "
    "ORDER BY c.seq LIMIT $2",
    4,
    {INT8OID, INT4OID, TEXTARRAYOID, TEXTOID}};

}  // namespace

extern "C" Datum sg_changes(PG_FUNCTION_ARGS) {
    require_arg(fcinfo, 0, "after");
    require_arg(fcinfo, 1, "max");
    int64 after = PG_GETARG_INT64(0);
    int32 max = PG_GETARG_INT32(1);
    if (max < 1) ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("max must be at least 1")));
    CallerScope scope = enter_api(fcinfo, "changes");
    ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    Datum v[4] = {Int64GetDatum(after), Int32GetDatum(max), (Datum)0, (Datum)0};
    char nulls[4] = {' ', ' ', 'n', 'n'};
    if (scope.conf.confined) {
        v[2] = tenant_array(&scope.conf);
        nulls[2] = ' ';
        if (scope.conf.holder != NULL) {
            v[3] = PointerGetDatum(scope.conf.holder);
            nulls[3] = ' ';
        }
    }
    SPI_connect();
    // read_only false: in READ COMMITTED a fresh snapshot, so the horizon
    // and the rows are read under the same, current one.
    int rc = SPI_execute_plan(kept_plan(&changes_plan, changes_spec), v, nulls, false, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "slotguard: changes() failed: %s", SPI_result_code_string(rc));
    for (uint64 i = 0; i < SPI_processed; ++i) {
        CHECK_FOR_INTERRUPTS();
        bool isnull[7];
        Datum vals[7];
        heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, vals, isnull);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, vals, isnull);
    }
    SPI_finish();
    leave_api(&scope);
    return (Datum)0;
}

// --- trim, enable, disable -------------------------------------------------

namespace {

SPIPlanPtr trim_plan = NULL;
const PlanSpec trim_spec = {"DELETE FROM slotguard.change c WHERE c.at < $1 "
                            "AND ($2::text[] IS NULL OR c.tenant = ANY ($2))",
                            2,
                            {TIMESTAMPTZOID, TEXTARRAYOID}};

void refuse_confined(const CallerScope* s, const char* function) {
    if (s->conf.confined)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("a confined role may not call slotguard.%s()", function),
                        errdetail("The change feed is switched for every tenant at once.")));
}

// The tables the feed covers that exist in this schema (the waitlist is 1.2's).
const char* const feed_tables[] = {"booking", "assignment", "orders", "waitlist"};

void set_feed(bool on, bool notify) {
    SPI_connect();
    for (const char* t : feed_tables) {
        Oid rel = slotguard_relation_if_exists(t);
        if (!OidIsValid(rel)) continue;
        StringInfoData sql;
        initStringInfo(&sql);
        // Replaced when it is there (with the other notify setting, or one
        // made by hand), so the trigger is exactly the feed's afterwards.
        appendStringInfo(&sql,
                         "DO $sg$ BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_trigger WHERE tgrelid = %u "
                         "AND tgname = '%s') THEN DROP TRIGGER %s ON slotguard.%s; END IF; ",
                         rel, FEED_TRIGGER_NAME, FEED_TRIGGER_NAME, t);
        if (on)
            appendStringInfo(&sql,
                             "CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON slotguard.%s "
                             "FOR EACH ROW EXECUTE FUNCTION slotguard.change_feed_trigger('%s'); ",
                             FEED_TRIGGER_NAME, t, notify ? "notify" : "quiet");
        appendStringInfoString(&sql, "END $sg$");
        int rc = SPI_execute(sql.data, false, 0);
        if (rc < 0) elog(ERROR, "slotguard: switching the change feed failed: %s", SPI_result_code_string(rc));
    }
    SPI_finish();
}

}  // namespace

extern "C" Datum sg_trim_changes(PG_FUNCTION_ARGS) {
    require_writable("trim_changes");
    require_arg(fcinfo, 0, "before");
    CallerScope scope = enter_api(fcinfo, "trim_changes");
    Datum v[2] = {PG_GETARG_DATUM(0), (Datum)0};
    char nulls[2] = {' ', 'n'};
    if (scope.conf.confined) {
        v[1] = tenant_array(&scope.conf);
        nulls[1] = ' ';
    }
    SPI_connect();
    int rc = SPI_execute_plan(kept_plan(&trim_plan, trim_spec), v, nulls, false, 0);
    if (rc != SPI_OK_DELETE) elog(ERROR, "slotguard: trim_changes() failed: %s", SPI_result_code_string(rc));
    int64 n = (int64)SPI_processed;
    SPI_finish();
    leave_api(&scope);
    PG_RETURN_INT64(n);
}

extern "C" Datum sg_enable_change_feed(PG_FUNCTION_ARGS) {
    require_writable("enable_change_feed");
    require_arg(fcinfo, 0, "notify");
    bool notify = PG_GETARG_BOOL(0);
    CallerScope scope = enter_api(fcinfo, "enable_change_feed");
    refuse_confined(&scope, "enable_change_feed");
    set_feed(true, notify);
    leave_api(&scope);
    PG_RETURN_VOID();
}

extern "C" Datum sg_disable_change_feed(PG_FUNCTION_ARGS) {
    require_writable("disable_change_feed");
    CallerScope scope = enter_api(fcinfo, "disable_change_feed");
    refuse_confined(&scope, "disable_change_feed");
    set_feed(false, false);
    leave_api(&scope);
    PG_RETURN_VOID();
}
