// confine / unconfine (API.md §8 (1.2)) and the trigger that tells every
// backend to reload its copy of slotguard.confinement (access.cpp).
#include "access/access.hpp"
#include "engine/glue.hpp"
#include "engine/spi_plans.hpp"

extern "C" {
#include "utils/inval.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(sg_confine);
PG_FUNCTION_INFO_V1(sg_unconfine);
PG_FUNCTION_INFO_V1(sg_confinement_changed);
}

namespace sgpg {
namespace {

bool blank_cstring(const char* s) {
    for (; *s; ++s)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return false;
    return true;
}

// A confined role may not change confinements (its own least of all).
void require_unconfined(const CallerScope* scope, const char* function) {
    if (scope->conf.confined)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("a confined role may not call slotguard.%s()", function)));
}

// 22023 unless `tenants` is a non-empty list of tenant names.
void check_tenants(ArrayType* arr) {
    if (ARR_NDIM(arr) > 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("tenants must be a one-dimensional array")));
    Datum* elems;
    bool* nulls;
    int n;
    deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    if (n == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("tenants must not be empty"),
                        errhint("To take a role's access away, use slotguard.revoke_access().")));
    for (int i = 0; i < n; ++i) {
        if (nulls[i] || blank_cstring(TextDatumGetCString(elems[i])))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("tenant names must not be NULL or blank")));
        if (strchr(TextDatumGetCString(elems[i]), ':') != NULL)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("tenant \"%s\" contains ':'", TextDatumGetCString(elems[i])),
                            errhint("A tenant is the part of a key before its first ':'.")));
    }
}

text* claim_arg(FunctionCallInfo fcinfo, int argno, const char* name) {
    return PG_ARGISNULL(argno) ? NULL : key_text_arg(fcinfo, argno, name);
}

SPIPlanPtr upsert_plan = NULL;
const PlanSpec upsert_spec = {
    "INSERT INTO slotguard.confinement AS c (role, tenants, tenant_claim, holder_claim) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (role) DO UPDATE SET tenants = excluded.tenants, tenant_claim = excluded.tenant_claim, "
    "holder_claim = excluded.holder_claim, created_at = pg_catalog.now() RETURNING c",
    4,
    {REGROLEOID, TEXTARRAYOID, TEXTOID, TEXTOID}};
SPIPlanPtr delete_plan = NULL;
const PlanSpec delete_spec = {"DELETE FROM slotguard.confinement WHERE role = $1", 1, {REGROLEOID}};

Datum confine(FunctionCallInfo fcinfo, const CallerScope* scope) {
    require_writable("confine");
    require_unconfined(scope, "confine");
    require_arg(fcinfo, 0, "role");
    bool has_tenants = !PG_ARGISNULL(1);
    text* tenant_claim = claim_arg(fcinfo, 2, "tenant_claim");
    text* holder_claim = claim_arg(fcinfo, 3, "holder_claim");
    if (has_tenants == (tenant_claim != NULL))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("give exactly one of tenants and tenant_claim"),
                        errhint("tenants lists the role's tenants; tenant_claim names the member of "
                                "request.jwt.claims that does.")));
    if (has_tenants) check_tenants(PG_GETARG_ARRAYTYPE_P(1));
    Datum v[4] = {PG_GETARG_DATUM(0), has_tenants ? PG_GETARG_DATUM(1) : (Datum)0, PointerGetDatum(tenant_claim),
                  PointerGetDatum(holder_claim)};
    char nulls[5] = "    ";
    if (!has_tenants) nulls[1] = 'n';
    if (tenant_claim == NULL) nulls[2] = 'n';
    if (holder_claim == NULL) nulls[3] = 'n';
    SPI_connect();
    // No row limit: with one, the statement would stop before its AFTER
    // STATEMENT trigger (confinement_changed) fires.
    if (SPI_execute_plan(kept_plan(&upsert_plan, upsert_spec), v, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
        SPI_processed != 1)
        elog(ERROR, "slotguard: confine failed");
    bool isnull;
    Datum row = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
    SPI_finish();
    return row;
}

bool unconfine(FunctionCallInfo fcinfo, const CallerScope* scope) {
    require_writable("unconfine");
    require_unconfined(scope, "unconfine");
    require_arg(fcinfo, 0, "role");
    Datum v[1] = {PG_GETARG_DATUM(0)};
    SPI_connect();
    if (SPI_execute_plan(kept_plan(&delete_plan, delete_spec), v, NULL, false, 0) != SPI_OK_DELETE)
        elog(ERROR, "slotguard: unconfine failed");
    bool had = SPI_processed > 0;
    SPI_finish();
    return had;
}

}  // namespace
}  // namespace sgpg

using namespace sgpg;

extern "C" Datum sg_confine(PG_FUNCTION_ARGS) {
    CallerScope scope = enter_api(fcinfo, "confine");
    Datum row = confine(fcinfo, &scope);
    leave_api(&scope);
    PG_RETURN_DATUM(row);
}

extern "C" Datum sg_unconfine(PG_FUNCTION_ARGS) {
    CallerScope scope = enter_api(fcinfo, "unconfine");
    bool had = unconfine(fcinfo, &scope);
    leave_api(&scope);
    PG_RETURN_BOOL(had);
}

// AFTER ... FOR EACH STATEMENT on slotguard.confinement: every backend
// (this one at the next command, the others once this commits) drops its
// cached confinements.
extern "C" Datum sg_confinement_changed(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "slotguard.confinement_changed() must be called as a trigger");
    CacheInvalidateRelcacheByRelid(RelationGetRelid(((TriggerData*)fcinfo->context)->tg_relation));
    return PointerGetDatum(NULL);
}
