// A guard's SQL expressions (contract §5): checking them, the queries that
// evaluate them over a row, and the settings and role they run under.
//
// The expressions are the table owner's SQL. They are parsed alone first
// (exactly one expression, nothing around it), then evaluated as the table's
// owner in a security-restricted operation, with search_path pinned to
// pg_catalog, pg_temp and the caller's TimeZone/DateStyle/IntervalStyle of
// protect() time: a timestamptz + interval '1 day', or the text of a date
// primary key, come out the same in every session.
#include "guards/guard.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "nodes/nodeFuncs.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/bytea.h"
#include "utils/float.h"
#include "utils/plancache.h"
#include "utils/rls.h"
#include "utils/syscache.h"
}

namespace sgpg {
namespace {

// Settings copied from protect()'s caller and stored with the guard.
const char* const captured_names[] = {"TimeZone", "DateStyle", "IntervalStyle"};
// Settings every evaluation runs with, whatever the session has.
const char* const fixed_names[] = {"extra_float_digits", "bytea_output", "standard_conforming_strings"};
const char* const fixed_values[] = {"1", "hex", "on"};

void set_if_different(const char* name, const char* value) {
    const char* current = GetConfigOption(name, true, false);
    if (current != NULL && strcmp(current, value) == 0) return;
    (void)set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

[[noreturn]] void raise_bad_expression(const char* what, const char* expr, const char* why) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid %s expression: %s", what, why),
                    errdetail("The %s expression is: %s", what, expr)));
    pg_unreachable();
}

const char* table_alias(Relation rel) { return quote_identifier(RelationGetRelationName(rel)); }

char* qualified_name(Relation rel) {
    return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
}

// The row key as SQL over the table's columns: "(id)::text" or
// "ROW(a, b)::text".
char* row_key_sql(ArrayType* key_columns) {
    Datum* elems;
    bool* nulls;
    int n;
    deconstruct_array(key_columns, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    StringInfoData s;
    initStringInfo(&s);
    appendStringInfoString(&s, n == 1 ? "(" : "ROW(");
    for (int i = 0; i < n; ++i)
        appendStringInfo(&s, "%s%s", i ? ", " : "", quote_identifier(TextDatumGetCString(elems[i])));
    appendStringInfoString(&s, ")::pg_catalog.text");
    return s.data;
}

// Each expression on lines of its own, so that a trailing "--" comment in
// one cannot swallow what follows it.
char* select_list(const GuardExprs* e, ArrayType* key_columns) {
    return psprintf(
        "(\n%s\n)::pg_catalog.text,\n(\n%s\n),\n(\n%s\n),\n(\n%s\n)::pg_catalog.int4,\n%s", e->resource, e->during,
        e->active, e->seats, row_key_sql(key_columns));
}

bool is_integer(Oid t) { return t == INT2OID || t == INT4OID || t == INT8OID; }

}  // namespace

// --- the primary key --------------------------------------------------------

KeyColumns primary_key_of(Relation rel) {
    Oid pk = RelationGetPrimaryKeyIndex(rel);
    if (!OidIsValid(pk))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("table %s has no primary key", qualified_name(rel)),
                        errhint("protect() names each row by its primary key; add one first, e.g. "
                                "ALTER TABLE %s ADD PRIMARY KEY (id).",
                                qualified_name(rel))));
    Relation idx = index_open(pk, AccessShareLock);
    if (!idx->rd_index->indimmediate)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("the primary key of table %s is deferrable", qualified_name(rel)),
                        errhint("protect() needs a primary key that is checked at once.")));
    KeyColumns k;
    k.n = idx->rd_index->indnkeyatts;
    for (int i = 0; i < k.n; ++i) {
        k.atts[i] = idx->rd_index->indkey.values[i];
        k.names[i] = pstrdup(NameStr(TupleDescAttr(RelationGetDescr(rel), k.atts[i] - 1)->attname));
    }
    index_close(idx, AccessShareLock);
    return k;
}

ArrayType* key_columns_array(const KeyColumns* k) {
    Datum* d = (Datum*)palloc(sizeof(Datum) * k->n);
    for (int i = 0; i < k->n; ++i) d[i] = CStringGetTextDatum(k->names[i]);
    return construct_array(d, k->n, TEXTOID, -1, false, TYPALIGN_INT);
}

void check_key_unchanged(Relation rel, ArrayType* stored) {
    KeyColumns now = primary_key_of(rel);
    Datum* elems;
    bool* nulls;
    int n;
    deconstruct_array(stored, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    bool same = n == now.n;
    for (int i = 0; i < n && same; ++i) same = strcmp(TextDatumGetCString(elems[i]), now.names[i]) == 0;
    if (!same)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("the primary key of table %s changed since it was protected", qualified_name(rel)),
                        errdetail("The guard names rows by (%s).", key_names_text(stored)),
                        errhint("Run slotguard.unprotect() and slotguard.protect() on the table again.")));
}

char* key_names_text(ArrayType* key_columns) {
    Datum* elems;
    bool* nulls;
    int n;
    deconstruct_array(key_columns, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    StringInfoData s;
    initStringInfo(&s);
    for (int i = 0; i < n; ++i) appendStringInfo(&s, "%s%s", i ? ", " : "", TextDatumGetCString(elems[i]));
    return s.data;
}

char* key_label(const char* names, int n_keys, const char* row_key) {
    // A composite key's text already has its parentheses: "(r1,2030-01-01)".
    return n_keys == 1 ? psprintf("(%s)=(%s)", names, row_key) : psprintf("(%s)=%s", names, row_key);
}

// --- expressions --------------------------------------------------------------

namespace {

// Whether an error raised while parsing or analysing an expression is about
// the expression (syntax, names, types, privileges, a bad constant, an
// unsupported construct) and may be reported as 22023. Anything else
// (cancel, statement or lock timeout, deadlock, serialization failure, out
// of memory, shutdown, ...) passes through unchanged (API.md §6).
bool about_the_expression(int sqlerrcode) {
    int category = ERRCODE_TO_CATEGORY(sqlerrcode);
    return category == ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION || category == ERRCODE_DATA_EXCEPTION ||
           category == ERRCODE_FEATURE_NOT_SUPPORTED;
}

// Runs fn(arg) in an internal subtransaction, as a PL/pgSQL exception
// block does, so that an error in it is rolled back (locks, pins, the
// role) before it is looked at. Returns NULL when fn succeeded, or the
// message of an error about the expression; rethrows any other error.
char* message_of_failure(void (*fn)(void*), void* arg) {
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    char* volatile failure = NULL;
    BeginInternalSubTransaction(NULL);
    MemoryContextSwitchTo(cxt);
    PG_TRY();
    {
        fn(arg);
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        ErrorData* edata = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
        if (!about_the_expression(edata->sqlerrcode)) ReThrowError(edata);
        failure = edata->message;
    }
    PG_END_TRY();
    return failure;
}

struct ParseCall {
    const char* sql;
    List* stmts;
};

void parse_it(void* arg) {
    ParseCall* c = (ParseCall*)arg;
    c->stmts = raw_parser(c->sql, RAW_PARSE_DEFAULT);
}

struct PrepareCall {
    const char* sql;
    Oid argtype;
    SPIPlanPtr plan;
};

void prepare_it(void* arg) {
    PrepareCall* c = (PrepareCall*)arg;
    c->plan = SPI_prepare(c->sql, 1, &c->argtype);
}

}  // namespace

void check_expression_syntax(const char* what, const char* expr) {
    ParseCall call = {psprintf("SELECT (\n%s\n)", expr), NIL};
    char* failure = message_of_failure(parse_it, &call);
    if (failure != NULL) raise_bad_expression(what, expr, failure);
    List* stmts = call.stmts;

    bool single = list_length(stmts) == 1 && IsA(((RawStmt*)linitial(stmts))->stmt, SelectStmt);
    if (single) {
        SelectStmt* s = (SelectStmt*)((RawStmt*)linitial(stmts))->stmt;
        single = s->op == SETOP_NONE && list_length(s->targetList) == 1 && s->fromClause == NIL &&
                 s->whereClause == NULL && s->groupClause == NIL && s->havingClause == NULL &&
                 s->windowClause == NIL && s->valuesLists == NIL && s->sortClause == NIL && s->limitOffset == NULL &&
                 s->limitCount == NULL && s->lockingClause == NIL && s->withClause == NULL && s->intoClause == NULL &&
                 s->distinctClause == NIL;
    }
    if (!single) raise_bad_expression(what, expr, "it must be a single SQL expression over the table's columns");
}

Oid expression_type(Relation rel, const char* what, const char* expr) {
    PrepareCall call = {psprintf("SELECT (\n%s\n) FROM (SELECT ($1).*) AS %s", expr, table_alias(rel)),
                        rel->rd_rel->reltype, NULL};
    RoleSave role = become_table_owner(rel);
    char* failure = message_of_failure(prepare_it, &call);
    restore_role(&role);
    if (failure != NULL) raise_bad_expression(what, expr, failure);
    SPIPlanPtr plan = call.plan;
    if (plan == NULL) elog(ERROR, "slotguard: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    const char* temp = temporary_object_in(plan);
    if (temp != NULL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid %s expression: it uses %s, a temporary object", what, temp),
                        errdetail("The %s expression is: %s", what, expr),
                        errhint("Guard expressions run in every writer's session as the table's owner; use "
                                "permanent functions, types and tables.")));
    CachedPlanSource* ps = (CachedPlanSource*)linitial(SPI_plan_get_plan_sources(plan));
    Oid t = TupleDescAttr(ps->resultDesc, 0)->atttypid;
    SPI_freeplan(plan);

    Oid base = getBaseType(t);
    const char* want = NULL;
    if (strcmp(what, "during") == 0 && base != TSTZRANGEOID)
        want = "tstzrange";
    else if (strcmp(what, "active") == 0 && base != BOOLOID)
        want = "boolean";
    else if (strcmp(what, "seats") == 0 && !is_integer(base))
        want = "an integer";
    if (want != NULL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("the %s expression must yield %s, not %s", what, want, format_type_be(t)),
                        errdetail("The %s expression is: %s", what, expr)));
    return t;
}

// --- temporary objects -----------------------------------------------------------

namespace {

// What an expression refers to that lives in a temporary schema: the
// first one found, as "pg_temp.f()", or NULL. Walks the analysed query
// (subqueries included) and looks at every function (also the ones behind
// operators, casts and aggregates), operator, type, collation and table.
struct TempSearch {
    const char* found;
};

bool in_temp_namespace(Oid nsp) { return OidIsValid(nsp) && isAnyTempNamespace(nsp); }

const char* temp_function(Oid fn) {
    if (!OidIsValid(fn) || !in_temp_namespace(get_func_namespace(fn))) return NULL;
    return psprintf("the function pg_temp.%s()", quote_identifier(get_func_name(fn)));
}

const char* temp_type(Oid type) {
    if (!OidIsValid(type)) return NULL;
    HeapTuple tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
    if (!HeapTupleIsValid(tp)) return NULL;
    Form_pg_type t = (Form_pg_type)GETSTRUCT(tp);
    const char* found = NULL;
    if (in_temp_namespace(t->typnamespace)) found = psprintf("the type pg_temp.%s", quote_identifier(NameStr(t->typname)));
    Oid elem = t->typelem;
    ReleaseSysCache(tp);
    if (found == NULL && OidIsValid(elem) && elem != type) found = temp_type(elem);
    return found;
}

const char* temp_operator(Oid op) {
    if (!OidIsValid(op)) return NULL;
    HeapTuple tp = SearchSysCache1(OPEROID, ObjectIdGetDatum(op));
    if (!HeapTupleIsValid(tp)) return NULL;
    Form_pg_operator o = (Form_pg_operator)GETSTRUCT(tp);
    const char* found = NULL;
    if (in_temp_namespace(o->oprnamespace))
        found = psprintf("the operator pg_temp.%s", NameStr(o->oprname));
    ReleaseSysCache(tp);
    return found;
}

const char* temp_collation(Oid coll) {
    if (!OidIsValid(coll)) return NULL;
    HeapTuple tp = SearchSysCache1(COLLOID, ObjectIdGetDatum(coll));
    if (!HeapTupleIsValid(tp)) return NULL;
    Form_pg_collation c = (Form_pg_collation)GETSTRUCT(tp);
    const char* found = NULL;
    if (in_temp_namespace(c->collnamespace))
        found = psprintf("the collation pg_temp.%s", quote_identifier(NameStr(c->collname)));
    ReleaseSysCache(tp);
    return found;
}

bool temp_function_checker(Oid fn, void* context) {
    TempSearch* ts = (TempSearch*)context;
    ts->found = temp_function(fn);
    return ts->found != NULL;
}

// Expression nodes whose result type (and collation) exprType/exprCollation
// know: every node an analysed expression can contain that yields a value.
bool has_value_type(Node* node) {
    switch (nodeTag(node)) {
        case T_Var: case T_Const: case T_Param: case T_Aggref: case T_GroupingFunc: case T_WindowFunc:
        case T_SubscriptingRef: case T_FuncExpr: case T_NamedArgExpr: case T_OpExpr: case T_DistinctExpr:
        case T_NullIfExpr: case T_ScalarArrayOpExpr: case T_BoolExpr: case T_SubLink: case T_FieldSelect:
        case T_FieldStore: case T_RelabelType: case T_CoerceViaIO: case T_ArrayCoerceExpr:
        case T_ConvertRowtypeExpr: case T_CollateExpr: case T_CaseExpr: case T_CaseTestExpr: case T_ArrayExpr:
        case T_RowExpr: case T_RowCompareExpr: case T_CoalesceExpr: case T_MinMaxExpr: case T_SQLValueFunction:
        case T_XmlExpr: case T_NullTest: case T_BooleanTest: case T_CoerceToDomain: case T_CoerceToDomainValue:
        case T_SetToDefault: case T_NextValueExpr:
            return true;
        default:
            return false;
    }
}

bool temp_walker(Node* node, void* context) {
    TempSearch* ts = (TempSearch*)context;
    if (node == NULL) return false;
    if (IsA(node, Query))
        return query_tree_walker((Query*)node, (bool (*)())(void (*)())temp_walker, context, QTW_EXAMINE_RTES_BEFORE);
    if (IsA(node, RangeTblEntry)) {
        RangeTblEntry* rte = (RangeTblEntry*)node;
        if (rte->rtekind == RTE_RELATION && in_temp_namespace(get_rel_namespace(rte->relid)))
            ts->found = psprintf("the table pg_temp.%s", quote_identifier(get_rel_name(rte->relid)));
        return ts->found != NULL;
    }
    if (check_functions_in_node(node, temp_function_checker, context)) return true;
    switch (nodeTag(node)) {
        case T_OpExpr: case T_DistinctExpr: case T_NullIfExpr:
            ts->found = temp_operator(((OpExpr*)node)->opno);
            break;
        case T_ScalarArrayOpExpr:
            ts->found = temp_operator(((ScalarArrayOpExpr*)node)->opno);
            break;
        case T_RowCompareExpr: {
            ListCell* lc;
            foreach (lc, ((RowCompareExpr*)node)->opnos)
                if ((ts->found = temp_operator(lfirst_oid(lc))) != NULL) break;
            break;
        }
        case T_CollateExpr:
            ts->found = temp_collation(((CollateExpr*)node)->collOid);
            break;
        default:
            break;
    }
    if (ts->found == NULL && has_value_type(node)) {
        ts->found = temp_type(exprType(node));
        if (ts->found == NULL) ts->found = temp_collation(exprCollation(node));
    }
    if (ts->found != NULL) return true;
    return expression_tree_walker(node, (bool (*)())(void (*)())temp_walker, context);
}

}  // namespace

const char* temporary_object_in(SPIPlanPtr plan) {
    TempSearch ts = {NULL};
    ListCell* lc;
    foreach (lc, SPI_plan_get_plan_sources(plan)) {
        CachedPlanSource* ps = (CachedPlanSource*)lfirst(lc);
        ListCell* q;
        foreach (q, ps->query_list)
            if (temp_walker((Node*)lfirst(q), &ts)) return ts.found;
    }
    return NULL;
}

char* guard_row_query(Relation rel, const GuardExprs* e, ArrayType* key_columns) {
    return psprintf("SELECT %s\nFROM (SELECT ($1).*) AS %s", select_list(e, key_columns), table_alias(rel));
}

char* guard_table_query(Relation rel, const GuardExprs* e, ArrayType* key_columns) {
    return psprintf("SELECT %s\nFROM ONLY %s AS %s", select_list(e, key_columns), qualified_name(rel),
                    table_alias(rel));
}

char* key_row_query(Relation rel, ArrayType* key_columns) {
    return psprintf("SELECT %s FROM (SELECT ($1).*) AS %s", row_key_sql(key_columns), table_alias(rel));
}

void check_eval_columns(SPIPlanPtr plan, Relation rel) {
    CachedPlanSource* ps = (CachedPlanSource*)linitial(SPI_plan_get_plan_sources(plan));
    TupleDesc d = ps->resultDesc;
    bool ok = d != NULL && d->natts == 5 && TupleDescAttr(d, 0)->atttypid == TEXTOID &&
              getBaseType(TupleDescAttr(d, 1)->atttypid) == TSTZRANGEOID &&
              getBaseType(TupleDescAttr(d, 2)->atttypid) == BOOLOID && TupleDescAttr(d, 3)->atttypid == INT4OID &&
              TupleDescAttr(d, 4)->atttypid == TEXTOID;
    if (!ok)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("the guard's expressions on table %s no longer have the types they had",
                               qualified_name(rel)),
                        errhint("Run slotguard.unprotect() and slotguard.protect() on the table again.")));
}

GuardRow guard_row_of(const Datum* v, const bool* n) {
    GuardRow r;
    r.resource = n[0] ? NULL : DatumGetTextPCopy(v[0]);
    r.during_null = n[1];
    r.during = n[1] ? (Datum)0 : PointerGetDatum(DatumGetRangeTypePCopy(v[1]));
    // NULL counts as not active, as in a partial index's WHERE.
    r.active = !n[2] && DatumGetBool(v[2]);
    r.seats_null = n[3];
    r.seats = n[3] ? 0 : DatumGetInt32(v[3]);
    r.key = n[4] ? cstring_to_text("") : DatumGetTextPCopy(v[4]);
    return r;
}

GuardRow read_guard_row(HeapTuple t, TupleDesc desc) {
    Datum v[GUARD_ROW_COLUMNS];
    bool n[GUARD_ROW_COLUMNS];
    for (int i = 0; i < GUARD_ROW_COLUMNS; ++i) v[i] = SPI_getbinval(t, desc, i + 1, &n[i]);
    return guard_row_of(v, n);
}

bool keys_visible(Relation rel, const AttrNumber* atts, int n) {
    Oid relid = RelationGetRelid(rel);
    if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED) return false;
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK) return true;
    for (int i = 0; i < n; ++i)
        if (pg_attribute_aclcheck(relid, atts[i], GetUserId(), ACL_SELECT) != ACLCHECK_OK) return false;
    return true;
}

namespace {

// How messages about one row name it.
char* row_label(Relation rel, const char* key_names, const AttrNumber* key_atts, int n_keys, const GuardRow* r) {
    if (key_atts == NULL || keys_visible(rel, key_atts, n_keys))
        return psprintf("Key %s", key_label(key_names, n_keys, text_to_cstring(r->key)));
    return pstrdup("A row (its key is not shown without SELECT privilege)");
}

}  // namespace

namespace {
bool unbounded_range(RangeBound lo, RangeBound hi) {
    return lo.infinite || hi.infinite || TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(lo.val)) ||
           TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(hi.val));
}
}  // namespace

bool guard_row_valid(const GuardRow* r, int capacity) {
    if (r->resource == NULL || r->during_null || r->seats_null || r->seats < 1 || r->seats > capacity) return false;
    RangeBound lo, hi;
    bool empty;
    range_deserialize(lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO), DatumGetRangeTypeP(r->during), &lo, &hi,
                      &empty);
    return !empty && !unbounded_range(lo, hi);
}

void check_guard_row(Relation rel, const char* key_names, const AttrNumber* key_atts, int n_keys,
                     const GuardRow* r, int capacity) {
    if (guard_row_valid(r, capacity)) return;
    const char* what = r->resource == NULL ? "resource" : r->during_null ? "during" : r->seats_null ? "seats" : NULL;
    RangeType* range = what == NULL ? DatumGetRangeTypeP(r->during) : NULL;
    RangeBound lo, hi;
    bool empty = false;
    if (range != NULL)
        range_deserialize(lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO), range, &lo, &hi, &empty);
    bool unbounded = range != NULL && !empty && unbounded_range(lo, hi);
    char* label = row_label(rel, key_names, key_atts, n_keys, r);
    if (what != NULL)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("the guard's %s expression gave NULL for an active row", what),
                        errdetail("%s of table %s.", label, qualified_name(rel)), errtable(rel)));
    if (empty)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("during must not be empty"),
                        errdetail("%s of table %s.", label, qualified_name(rel)), errtable(rel)));
    if (unbounded)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("during must have finite lower and upper bounds"),
                        errdetail("%s of table %s has during %s.", label, qualified_name(rel),
                                  range_text(r->during)),
                        errtable(rel)));
    if (r->seats < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("seats must be at least 1, got %d", r->seats),
                        errdetail("%s of table %s.", label, qualified_name(rel)), errtable(rel)));
    if (r->seats > capacity)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("seats (%d) exceed the capacity (%d) of the guard", r->seats, capacity),
                        errdetail("%s of table %s.", label, qualified_name(rel)), errtable(rel)));
}

// --- settings -------------------------------------------------------------------

ArrayType* capture_settings(void) {
    const int n = sizeof captured_names / sizeof captured_names[0];
    Datum d[n];
    for (int i = 0; i < n; ++i)
        d[i] = CStringGetTextDatum(psprintf("%s=%s", captured_names[i], GetConfigOption(captured_names[i], false, false)));
    return construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT);
}

namespace {

// The guard's captured settings as name/value pairs, parsed once: a trigger
// pins the same few settings for every row it checks.
struct ParsedSettings {
    char* raw;  // the array they were parsed from (a copy, to compare)
    int n;
    char** names;
    char** values;
};
ParsedSettings parsed = {NULL, 0, NULL, NULL};

const ParsedSettings* parse_settings(ArrayType* captured) {
    Size len = VARSIZE(captured);
    if (parsed.raw != NULL && VARSIZE(parsed.raw) == len && memcmp(parsed.raw, captured, len) == 0) return &parsed;
    if (parsed.raw != NULL) {
        for (int i = 0; i < parsed.n; ++i) pfree(parsed.names[i]);  // each value shares its name's buffer
        pfree(parsed.names);
        pfree(parsed.values);
        pfree(parsed.raw);
        parsed.raw = NULL;
    }
    Datum* elems;
    bool* nulls;
    int n;
    deconstruct_array(captured, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    ParsedSettings p;
    p.names = (char**)MemoryContextAlloc(TopMemoryContext, sizeof(char*) * (n > 0 ? n : 1));
    p.values = (char**)MemoryContextAlloc(TopMemoryContext, sizeof(char*) * (n > 0 ? n : 1));
    p.n = 0;
    for (int i = 0; i < n; ++i) {
        if (nulls[i]) continue;
        char* s = MemoryContextStrdup(TopMemoryContext, TextDatumGetCString(elems[i]));
        char* eq = strchr(s, '=');
        if (eq == NULL) {
            pfree(s);
            continue;
        }
        *eq = '\0';
        p.names[p.n] = s;
        p.values[p.n++] = eq + 1;
    }
    p.raw = (char*)MemoryContextAlloc(TopMemoryContext, len);
    memcpy(p.raw, captured, len);
    parsed = p;
    return &parsed;
}

const char* const pinned_search_path = "pg_catalog, pg_temp";

// The fixed settings, read straight from their variables (cheaper than
// asking the GUC machinery by name for every row).
bool fixed_settings_in_place(void) {
    return extra_float_digits == 1 && bytea_output == BYTEA_OUTPUT_HEX && standard_conforming_strings;
}

}  // namespace

int pin_settings(ArrayType* captured) {
    int level = NewGUCNestLevel();
    if (namespace_search_path == NULL || strcmp(namespace_search_path, pinned_search_path) != 0)
        (void)set_config_option("search_path", pinned_search_path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                                0, false);
    if (captured == NULL) return level;
    if (!fixed_settings_in_place())
        for (size_t i = 0; i < sizeof fixed_names / sizeof fixed_names[0]; ++i)
            set_if_different(fixed_names[i], fixed_values[i]);
    const ParsedSettings* p = parse_settings(captured);
    for (int i = 0; i < p->n; ++i) set_if_different(p->names[i], p->values[i]);
    return level;
}

// Undoes every setting changed since pin_settings(), the pinned ones and
// any a guard expression changed itself (a plain SET, set_config(...,
// false), would otherwise outlive the evaluation and stay in the writer's
// session: a search_path naming the table owner's schema first, and the
// writer's next query runs the owner's operators with the writer's
// rights). PostgreSQL undoes them after index expressions and other
// security-restricted code the same way (AtEOXact_GUC(false, ...)).
void unpin_settings(int level) { AtEOXact_GUC(false, level); }

// --- roles ----------------------------------------------------------------------

RoleSave become_table_owner(Relation rel) {
    RoleSave s;
    GetUserIdAndSecContext(&s.user, &s.sec);
    SetUserIdAndSecContext(rel->rd_rel->relowner,
                           s.sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    return s;
}

RoleSave become_guard_owner(void) {
    Oid relid = slotguard_relation("guard");
    HeapTuple tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tp)) elog(ERROR, "slotguard: cache lookup failed for relation %u", relid);
    Oid owner = ((Form_pg_class)GETSTRUCT(tp))->relowner;
    ReleaseSysCache(tp);
    RoleSave s;
    GetUserIdAndSecContext(&s.user, &s.sec);
    SetUserIdAndSecContext(owner, s.sec | SECURITY_LOCAL_USERID_CHANGE);
    return s;
}

void restore_role(const RoleSave* s) { SetUserIdAndSecContext(s->user, s->sec); }

bool guard_owner_recorded(void) {
    return get_attnum(slotguard_relation("guard"), "owner") != InvalidAttrNumber;
}

void check_owner_unchanged(Relation rel, Oid owner) {
    if (!OidIsValid(owner) || owner == rel->rd_rel->relowner) return;
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("table %s changed owner since it was protected", qualified_name(rel)),
                    errdetail("Its guard's expressions were given by role %s and would now run as role %s.",
                              quote_identifier(GetUserNameFromId(owner, true) ? GetUserNameFromId(owner, true)
                                                                               : "(dropped)"),
                              quote_identifier(GetUserNameFromId(rel->rd_rel->relowner, false))),
                    errhint("The new owner must run slotguard.unprotect() and slotguard.protect() on the table "
                            "again."),
                    errtable(rel)));
}

}  // namespace sgpg
