// protect() and unprotect() (contract §5): put a guard on the application's
// own table, or take it off.
//
// protect() checks everything before it installs anything, and all of it is
// one statement: the table is locked against writers (SHARE ROW EXCLUSIVE,
// as CREATE TRIGGER takes), the expressions are checked alone and against
// the table, every existing active row gets its entry, and if existing rows
// already overbook a resource the call fails with 23P01 naming them, which
// rolls back the guard row and the entries with it. Only then are the
// triggers created.
#include "guards/guard.hpp"
#include "engine/spi_plans.hpp"

extern "C" {
#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "lib/stringinfo.h"
#include "utils/acl.h"
#include "utils/syscache.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_protect);
PG_FUNCTION_INFO_V1(sg_unprotect);
}

namespace sgpg {
namespace {

// Rows read and entries written per round trip while building.
const int BUILD_BATCH = 1000;

char* qualified_name(Relation rel) {
    return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
}

char* guard_name(Relation rel) { return psprintf("%s on %s", GUARD_TRIGGER_NAME, qualified_name(rel)); }

// Whether this call runs as the function's owner: protect/unprotect are
// SECURITY DEFINER up to 1.1 and SECURITY INVOKER from 1.2 on.
bool called_as_definer(FunctionCallInfo fcinfo) {
    HeapTuple tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
    if (!HeapTupleIsValid(tp)) elog(ERROR, "slotguard: cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
    bool definer = ((Form_pg_proc)GETSTRUCT(tp))->prosecdef;
    ReleaseSysCache(tp);
    return definer;
}

// The role protect()/unprotect() act for, or 42501 when the call comes
// from a context whose code is not that role's own: a security-restricted
// operation (index expressions during ANALYZE, VACUUM, CREATE INDEX,
// REINDEX, a materialized view refresh, a guard's own expressions), or a
// SECURITY DEFINER function of another role.
//
// From 1.2 on the functions are SECURITY INVOKER and the role is the
// current one. On a 1.0/1.1 schema they still run as the extension's owner
// and the caller's current role is not known; until ALTER EXTENSION
// UPDATE the session's role (login or SET ROLE) is checked, as before.
Oid acting_role(FunctionCallInfo fcinfo, const char* fn) {
    if (InSecurityRestrictedOperation())
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("cannot call %s inside a security-restricted operation", fn),
                        errdetail("Index expressions during ANALYZE, VACUUM or CREATE INDEX, and guard "
                                  "expressions, run as another role; they may not install or remove guards.")));
    if (called_as_definer(fcinfo)) return GetOuterUserId();
    if (InLocalUserIdChange() && GetUserId() != GetOuterUserId())
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("cannot call %s from a SECURITY DEFINER function of another role", fn),
                        errdetail("The current role is %s, the session's role is %s.",
                                  quote_identifier(GetUserNameFromId(GetUserId(), false)),
                                  quote_identifier(GetUserNameFromId(GetOuterUserId(), false))),
                        errhint("Call %s directly, as the table's owner.", fn)));
    return GetUserId();
}

// Opens the table of argument 0 once the role acting_role() names owns it
// (42501).
Relation open_owned_table(FunctionCallInfo fcinfo, LOCKMODE mode, const char* fn) {
    require_arg(fcinfo, 0, "tbl");
    Oid role = acting_role(fcinfo, fn);
    Oid relid = PG_GETARG_OID(0);
    HeapTuple tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tp))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", relid)));
    Form_pg_class c = (Form_pg_class)GETSTRUCT(tp);
    char relkind = c->relkind;
    char* name = pstrdup(NameStr(c->relname));
    ReleaseSysCache(tp);
    // Checked before locking, so nobody can queue a lock on a table that
    // is not theirs.
    if (!pg_class_ownercheck(relid, role))
        aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(relkind), name);
    return relation_open(relid, mode);
}

void check_protectable(Relation rel) {
    const char* why = NULL;
    const char* hint = NULL;
    if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE) {
        why = "it is partitioned";
        hint = "Protect a plain table; partitioned tables are not supported.";
    } else if (rel->rd_rel->relkind != RELKIND_RELATION) {
        why = "it is not a table";
    } else if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP) {
        why = "it is a temporary table";
    } else if (IsCatalogRelation(rel) || RelationGetNamespace(rel) == get_namespace_oid("slotguard", false)) {
        why = "it is a system or slotguard table";
    }
    if (why != NULL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("cannot protect %s: %s", qualified_name(rel), why), hint ? errhint("%s", hint) : 0));
}

// Runs a statement on slotguard's tables with the latest snapshot, as
// slotguard's owner: only these writes (and the triggers protect() creates)
// run with its rights, never the user's expressions.
int run_sql(const char* sql, int nargs, Oid* types, Datum* values) {
    RoleSave role = become_guard_owner();
    int rc = 0;
    PG_TRY();
    {
        SPIPlanPtr p = SPI_prepare(sql, nargs, types);
        if (p == NULL) elog(ERROR, "slotguard: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        rc = run_latest(p, values, NULL, 0);
        SPI_freeplan(p);
    }
    PG_FINALLY();
    {
        restore_role(&role);
    }
    PG_END_TRY();
    return rc;
}

// A utility statement of slotguard's (CREATE/DROP TRIGGER, ALTER TABLE ...
// ENABLE ALWAYS TRIGGER) as slotguard's owner.
void run_utility(const char* sql) {
    RoleSave role = become_guard_owner();
    PG_TRY();
    {
        if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY) elog(ERROR, "slotguard: \"%s\" failed", sql);
    }
    PG_FINALLY();
    {
        restore_role(&role);
    }
    PG_END_TRY();
}

// The guard's id, or 0 if the table has none.
int32 guard_of(Oid relid) {
    Oid types[1] = {OIDOID};
    Datum v[1] = {ObjectIdGetDatum(relid)};
    run_sql("SELECT id FROM slotguard.guard WHERE tbl::pg_catalog.oid = $1", 1, types, v);
    if (SPI_processed == 0) return 0;
    bool isnull;
    return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

// With the 1.2 schema the guard records the table's owner: the role its
// expressions are given by and run as (protect_trigger.cpp refuses writes
// once the table has another owner).
int32 insert_guard(Relation rel, const GuardExprs* e, int capacity, ArrayType* key_columns, ArrayType* settings) {
    Oid types[9] = {REGCLASSOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, OIDOID};
    Datum v[9] = {ObjectIdGetDatum(RelationGetRelid(rel)),
                  CStringGetTextDatum(e->resource),
                  CStringGetTextDatum(e->during),
                  CStringGetTextDatum(e->active),
                  Int32GetDatum(capacity),
                  CStringGetTextDatum(e->seats),
                  PointerGetDatum(key_columns),
                  PointerGetDatum(settings),
                  ObjectIdGetDatum(rel->rd_rel->relowner)};
    bool with_owner = guard_owner_recorded();
    if (run_sql(with_owner ? "INSERT INTO slotguard.guard (tbl, resource_expr, during_expr, active_expr, capacity, "
                             "seats_expr, key_columns, settings, owner) "
                             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::pg_catalog.regrole) RETURNING id"
                           : "INSERT INTO slotguard.guard (tbl, resource_expr, during_expr, active_expr, capacity, "
                             "seats_expr, key_columns, settings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                with_owner ? 9 : 8, types, v) != SPI_OK_INSERT_RETURNING ||
        SPI_processed != 1)
        elog(ERROR, "slotguard: inserting the guard failed");
    bool isnull;
    return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

// Entries for every active row the table has now: read with the latest
// snapshot (the table is locked against writers, so that is all of them,
// even under REPEATABLE READ), in batches, as the table's owner.
void build_entries(Relation rel, int32 id, const GuardExprs* e, ArrayType* key_columns, int capacity) {
    char* key_names = key_names_text(key_columns);
    int n_keys = ArrayGetNItems(ARR_NDIM(key_columns), ARR_DIMS(key_columns));
    RoleSave role = become_table_owner(rel);
    SPIPlanPtr scan = SPI_prepare(guard_table_query(rel, e, key_columns), 0, NULL);
    if (scan == NULL) elog(ERROR, "slotguard: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    check_eval_columns(scan, rel);
    PushActiveSnapshot(GetLatestSnapshot());
    Portal portal = SPI_cursor_open(NULL, scan, NULL, NULL, true);
    PopActiveSnapshot();
    restore_role(&role);

    Oid types[5] = {INT4OID, TEXTARRAYOID, TEXTARRAYOID, get_array_type(TSTZRANGEOID), INT4ARRAYOID};
    role = become_guard_owner();
    SPIPlanPtr insert = SPI_prepare(
        "INSERT INTO slotguard.guard_entry (guard_id, row_key, entry_key, blocked, seats) "
        "SELECT $1, u.k, $1::pg_catalog.text || '/' || u.r, u.b, u.s "
        "FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5)) "
        "AS u(k, r, b, s)",
        5, types);
    restore_role(&role);
    if (insert == NULL) elog(ERROR, "slotguard: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));

    MemoryContext batch = AllocSetContextCreate(CurrentMemoryContext, "slotguard protect batch", ALLOCSET_DEFAULT_SIZES);
    for (;;) {
        role = become_table_owner(rel);
        SPI_cursor_fetch(portal, true, BUILD_BATCH);
        restore_role(&role);
        SPITupleTable* rows = SPI_tuptable;
        uint64 n = SPI_processed;
        if (n == 0) break;
        MemoryContext caller = MemoryContextSwitchTo(batch);
        Datum* keys = (Datum*)palloc(sizeof(Datum) * n);
        Datum* resources = (Datum*)palloc(sizeof(Datum) * n);
        Datum* ranges = (Datum*)palloc(sizeof(Datum) * n);
        Datum* seats = (Datum*)palloc(sizeof(Datum) * n);
        int m = 0;
        for (uint64 i = 0; i < n; ++i) {
            CHECK_FOR_INTERRUPTS();
            GuardRow r = read_guard_row(rows->vals[i], rows->tupdesc);
            if (!r.active) continue;
            check_guard_row(rel, key_names, NULL, n_keys, &r, capacity);
            keys[m] = PointerGetDatum(r.key);
            resources[m] = PointerGetDatum(r.resource);
            ranges[m] = r.during;
            seats[m] = Int32GetDatum(r.seats);
            ++m;
        }
        if (m > 0) {
            int16 len;
            bool byval;
            char align;
            get_typlenbyvalalign(TSTZRANGEOID, &len, &byval, &align);
            Datum v[5] = {Int32GetDatum(id),
                          PointerGetDatum(construct_array(keys, m, TEXTOID, -1, false, TYPALIGN_INT)),
                          PointerGetDatum(construct_array(resources, m, TEXTOID, -1, false, TYPALIGN_INT)),
                          PointerGetDatum(construct_array(ranges, m, TSTZRANGEOID, len, byval, align)),
                          PointerGetDatum(construct_array(seats, m, INT4OID, sizeof(int32), true, TYPALIGN_INT))};
            MemoryContextSwitchTo(caller);
            role = become_guard_owner();
            int rc = SPI_execute_plan(insert, v, NULL, false, 0);
            restore_role(&role);
            if (rc != SPI_OK_INSERT) elog(ERROR, "slotguard: writing guard entries failed");
        }
        MemoryContextSwitchTo(caller);
        SPI_freetuptable(rows);
        MemoryContextReset(batch);
    }
    SPI_cursor_close(portal);
    SPI_freeplan(insert);
    SPI_freeplan(scan);
    MemoryContextDelete(batch);
}

// A guard expression argument: non-blank, and at most max_expression_bytes
// (a megabyte of nested parentheses ran the parser out of stack: 54001).
constexpr int max_expression_bytes = 10000;
text* expression_arg(FunctionCallInfo fcinfo, int argno, const char* name) {
    text* t = nonblank_text_arg(fcinfo, argno, name);
    if (VARSIZE_ANY_EXHDR(t) > max_expression_bytes)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("the %s expression is %d bytes; the limit is %d", name, (int)VARSIZE_ANY_EXHDR(t),
                               max_expression_bytes)));
    return t;
}

// 23P01 if the entries just built overbook a resource: the rows at fault
// are named by their primary keys. The table is locked against writers,
// so every entry of this new guard is our own. One index scan and one
// sort and sweep per resource (bridge_overbooked_sweep): O(n log n) in the
// rows, interruptible between resources and inside the scans.
void check_existing_rows(Relation rel, int32 id, int capacity, ArrayType* key_columns) {
    Oid types[1] = {INT4OID};
    Datum v[1] = {Int32GetDatum(id)};
    run_sql("SELECT DISTINCT entry_key FROM slotguard.guard_entry WHERE guard_id = $1 ORDER BY 1", 1, types, v);
    SPITupleTable* keys = SPI_tuptable;
    uint64 n_keys = SPI_processed;
    EntryRels er;
    open_entries(&er, RowExclusiveLock);
    for (uint64 k = 0; k < n_keys; ++k) {
        CHECK_FOR_INTERRUPTS();
        bool isnull;
        text* entry_key = DatumGetTextPP(SPI_getbinval(keys->vals[k], keys->tupdesc, 1, &isnull));
        Occupants occ;
        collect_entries(&er.rels, entry_key, (Datum)0, false, NULL, &occ);
        int64* ids = (int64*)palloc(sizeof(int64) * (occ.n > 0 ? occ.n : 1));
        int n_ids = 0;
        BridgeError err;
        if (!bridge_overbooked_sweep(occ.items, occ.n, capacity, ids, &n_ids, &err)) raise_bridge_error(err);
        if (n_ids > 0) {
            char* resource = text_to_cstring(entry_key);
            char* slash = strchr(resource, '/');
            ereport(ERROR,
                    (errcode(ERRCODE_EXCLUSION_VIOLATION),
                     errmsg("existing rows of %s already exceed capacity %d on resource \"%s\"", qualified_name(rel),
                            capacity, slash ? slash + 1 : resource),
                     errdetail("Overlapping rows (%s): %s.", key_names_text(key_columns),
                               entry_key_list(&er, ids, n_ids)),
                     errhint("Nothing was installed. Cancel or move some of these rows, or give a higher "
                             "capacity, then call protect() again."),
                     errtable(rel)));
        }
        if (occ.items) pfree(occ.items);
        pfree(ids);
    }
    close_entries(&er, RowExclusiveLock);
}

// The triggers fire under session_replication_role = replica too (ENABLE
// ALWAYS, API.md §15): rows applied by logical replication are checked.
void create_triggers(Relation rel, int32 id) {
    char* tbl = qualified_name(rel);
    run_utility(psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW "
                         "EXECUTE FUNCTION slotguard.guard_trigger('%d')",
                         GUARD_TRIGGER_NAME, tbl, id));
    run_utility(psprintf("CREATE TRIGGER %s AFTER TRUNCATE ON %s FOR EACH STATEMENT "
                         "EXECUTE FUNCTION slotguard.guard_trigger('%d')",
                         GUARD_TRUNCATE_TRIGGER_NAME, tbl, id));
    // What ALTER TABLE ... ENABLE ALWAYS TRIGGER does (which would refuse
    // here: this call has the table open).
    CommandCounterIncrement();
    EnableDisableTrigger(rel, GUARD_TRIGGER_NAME, TRIGGER_FIRES_ALWAYS, false, ShareRowExclusiveLock);
    EnableDisableTrigger(rel, GUARD_TRUNCATE_TRIGGER_NAME, TRIGGER_FIRES_ALWAYS, false, ShareRowExclusiveLock);
    CommandCounterIncrement();
}

// Every trigger of the table that calls slotguard.guard_trigger, whatever
// it is called now.
void drop_triggers(Relation rel) {
    Oid types[1] = {OIDOID};
    Datum v[1] = {ObjectIdGetDatum(RelationGetRelid(rel))};
    run_sql("SELECT tgname::pg_catalog.text FROM pg_catalog.pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal "
            "AND tgfoid = 'slotguard.guard_trigger()'::pg_catalog.regprocedure ORDER BY tgname",
            1, types, v);
    SPITupleTable* names = SPI_tuptable;
    uint64 n = SPI_processed;
    char* tbl = qualified_name(rel);
    for (uint64 i = 0; i < n; ++i) {
        bool isnull;
        char* name = TextDatumGetCString(SPI_getbinval(names->vals[i], names->tupdesc, 1, &isnull));
        run_utility(psprintf("DROP TRIGGER %s ON %s", quote_identifier(name), tbl));
    }
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

extern "C" Datum sg_protect(PG_FUNCTION_ARGS) {
    require_writable("protect");
    require_arg(fcinfo, 0, "tbl");
    GuardExprs e;
    e.resource = text_to_cstring(expression_arg(fcinfo, 1, "resource"));
    e.during = text_to_cstring(expression_arg(fcinfo, 2, "during"));
    e.active = text_to_cstring(expression_arg(fcinfo, 3, "active"));
    require_arg(fcinfo, 4, "capacity");
    int capacity = PG_GETARG_INT32(4);
    if (capacity < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("capacity must be at least 1, got %d", capacity)));
    e.seats = text_to_cstring(expression_arg(fcinfo, 5, "seats"));

    // Writers wait from here until this transaction ends; a writer already
    // in flight is waited for first.
    Relation rel = open_owned_table(fcinfo, ShareRowExclusiveLock, "slotguard.protect()");
    check_protectable(rel);
    KeyColumns key = primary_key_of(rel);
    ArrayType* key_columns = key_columns_array(&key);

    SPI_connect();
    if (guard_of(RelationGetRelid(rel)) != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("table %s is already protected", qualified_name(rel)),
                        errhint("Call slotguard.unprotect() first to change its guard.")));

    // The caller's settings, kept with the guard; every evaluation (here
    // and in the trigger, in any session) uses them.
    ArrayType* settings = capture_settings();
    int level = pin_settings(settings);
    // Every row, or an error: never a row silently hidden by a policy.
    (void)set_config_option("row_security", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

    check_expression_syntax("resource", e.resource);
    check_expression_syntax("during", e.during);
    check_expression_syntax("active", e.active);
    check_expression_syntax("seats", e.seats);
    expression_type(rel, "resource", e.resource);
    expression_type(rel, "during", e.during);
    expression_type(rel, "active", e.active);
    expression_type(rel, "seats", e.seats);

    int32 id = insert_guard(rel, &e, capacity, key_columns, settings);
    build_entries(rel, id, &e, key_columns, capacity);
    check_existing_rows(rel, id, capacity, key_columns);
    create_triggers(rel, id);
    unpin_settings(level);
    SPI_finish();

    text* name = cstring_to_text(guard_name(rel));
    relation_close(rel, NoLock);
    PG_RETURN_TEXT_P(name);
}

extern "C" Datum sg_unprotect(PG_FUNCTION_ARGS) {
    require_writable("unprotect");
    // DROP TRIGGER takes this lock anyway; taking it first avoids upgrading.
    Relation rel = open_owned_table(fcinfo, AccessExclusiveLock, "slotguard.unprotect()");
    SPI_connect();
    int32 id = guard_of(RelationGetRelid(rel));
    if (id == 0)
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("table %s is not protected", qualified_name(rel))));
    drop_triggers(rel);
    RoleSave role = become_guard_owner();
    delete_guard_entries(id);
    restore_role(&role);
    Oid types[1] = {INT4OID};
    Datum v[1] = {Int32GetDatum(id)};
    run_sql("DELETE FROM slotguard.guard WHERE id = $1", 1, types, v);
    SPI_finish();
    text* name = cstring_to_text(guard_name(rel));
    relation_close(rel, NoLock);
    PG_RETURN_TEXT_P(name);
}
