// Who calls the API, and what a confined caller may see (API.md §8 (1.2)).
//
// The caller. The API functions are SECURITY INVOKER from 1.2 on, so at
// entry GetUserId() is the role that called: the session's role, a SET
// ROLE, or the owner of a SECURITY DEFINER function in between (current_user
// semantics; GetOuterUserId() would skip such a function and let it act for
// a confined session, or confine it for an unconfined one). The body then
// runs as the function's owner, as it did when the functions were SECURITY
// DEFINER: SetUserIdAndSecContext(owner, SECURITY_LOCAL_USERID_CHANGE), the
// switch fmgr_security_definer makes. leave_api switches back; an error
// unwinds it with the (sub)transaction, as for SECURITY DEFINER.
//
// The confinements. slotguard.confinement is read once per backend into
// `cache` and read again after a relcache invalidation of the table, which
// its statement trigger (confinement_changed) sends on every change. Which
// rows apply to a role is cached too, and forgotten when role memberships
// or roles change (syscache callbacks on pg_auth_members and pg_authid). An
// unconfined caller with no confinement anywhere pays one flag test; with
// confinements of other roles, one lookup in the per-role cache.
//
// Claims. tenant_claim / holder_claim name members of the JSON object in
// request.jwt.claims, the setting PostgREST sets per request (SET LOCAL /
// set_config(..., true)). It is parsed with the JSON lexer, which reports
// errors instead of raising them; the last parse is kept, so repeated calls
// of one request parse once.
#include "access/access.hpp"
#include "engine/glue.hpp"
#include "engine/spi_plans.hpp"
#include "stats/stats.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_proc.h"
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/syscache.h"
}

namespace sgpg {
namespace {

struct ConfRow {
    Oid role;
    int n_tenants;
    char** tenants;      // NULL when tenant_claim is used
    char* tenant_claim;  // NULL when tenants are listed
    char* holder_claim;  // may be NULL
};

// The rows that apply to one role (indexes into cache.rows).
struct RoleEntry {
    Oid role;
    int n;
    int* rows;
};

const int ROLE_SLOTS = 8;

struct Cache {
    bool valid;
    Oid relid;
    int n_rows;
    ConfRow* rows;
    RoleEntry roles[ROLE_SLOTS];
    int n_roles;
    int next_slot;
    MemoryContext cxt;  // rows and role entries; reset on reload
};

Cache cache;
bool callbacks_registered = false;
// Counts invalidations, so one arriving while the rows are read (opening
// the table reads the invalidation queue) is not lost.
uint64 invalidations = 0;

void forget_rows(Datum, Oid relid) {
    if (relid == InvalidOid || relid == cache.relid) {
        cache.valid = false;
        ++invalidations;
    }
}

void forget_roles(Datum, int, uint32) {
    cache.n_roles = 0;
    ++invalidations;
}

char* column_cstring(HeapTuple t, TupleDesc d, AttrNumber att) {
    bool isnull;
    Datum v = heap_getattr(t, att, d, &isnull);
    return isnull ? NULL : TextDatumGetCString(v);
}

// Reads every row of slotguard.confinement into the cache (a small table:
// one row per confined role).
void load_rows(void) {
    if (!callbacks_registered) {
        CacheRegisterRelcacheCallback(forget_rows, (Datum)0);
        CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, forget_roles, (Datum)0);
        CacheRegisterSyscacheCallback(AUTHOID, forget_roles, (Datum)0);
        callbacks_registered = true;
    }
    if (cache.cxt == NULL)
        cache.cxt = AllocSetContextCreate(TopMemoryContext, "slotguard confinements", ALLOCSET_SMALL_SIZES);
    else
        MemoryContextReset(cache.cxt);
    cache.valid = false;
    cache.n_rows = 0;
    cache.rows = NULL;
    cache.n_roles = 0;
    uint64 seen = invalidations;
    Oid relid = slotguard_relation_if_exists("confinement");
    cache.relid = relid;
    if (OidIsValid(relid)) {
        Relation rel = table_open(relid, AccessShareLock);
        TupleDesc desc = RelationGetDescr(rel);
        AttrNumber c_role = column_of(desc, "role"), c_tenants = column_of(desc, "tenants"),
                   c_tenant_claim = column_of(desc, "tenant_claim"), c_holder_claim = column_of(desc, "holder_claim");
        // A catalog snapshot: the latest committed rows, and this
        // transaction's own changes.
        SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
        HeapTuple t;
        int cap = 0;
        while (HeapTupleIsValid(t = systable_getnext(scan))) {
            MemoryContext old = MemoryContextSwitchTo(cache.cxt);
            if (cache.n_rows == cap) {
                cap = cap ? 2 * cap : 8;
                cache.rows = cache.rows ? (ConfRow*)repalloc(cache.rows, sizeof(ConfRow) * cap)
                                        : (ConfRow*)palloc(sizeof(ConfRow) * cap);
            }
            ConfRow* r = &cache.rows[cache.n_rows++];
            bool isnull;
            r->role = DatumGetObjectId(heap_getattr(t, c_role, desc, &isnull));
            r->n_tenants = 0;
            r->tenants = NULL;
            Datum ts = heap_getattr(t, c_tenants, desc, &isnull);
            if (!isnull) {
                Datum* elems;
                bool* nulls;
                int n;
                deconstruct_array(DatumGetArrayTypeP(ts), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
                r->tenants = (char**)palloc(sizeof(char*) * (n > 0 ? n : 1));
                for (int i = 0; i < n; ++i)
                    if (!nulls[i]) r->tenants[r->n_tenants++] = TextDatumGetCString(elems[i]);
            }
            r->tenant_claim = column_cstring(t, desc, c_tenant_claim);
            r->holder_claim = column_cstring(t, desc, c_holder_claim);
            MemoryContextSwitchTo(old);
        }
        systable_endscan(scan);
        table_close(rel, AccessShareLock);
    }
    cache.valid = invalidations == seen;
}

// The rows that apply to `role`: its own, else those of every confined
// role it is a member of (directly or not, whatever INHERIT says: it could
// SET ROLE to them). Superuser status counts for nothing here.
const RoleEntry* rows_for(Oid role) {
    for (int i = 0; i < cache.n_roles; ++i)
        if (cache.roles[i].role == role) return &cache.roles[i];
    uint64 seen = invalidations;
    int* rows = (int*)palloc(sizeof(int) * (cache.n_rows > 0 ? cache.n_rows : 1));
    int n = 0;
    for (int i = 0; i < cache.n_rows; ++i)
        if (cache.rows[i].role == role) {
            rows[0] = i;
            n = 1;
            break;
        }
    if (n == 0)
        for (int i = 0; i < cache.n_rows; ++i)
            if (is_member_of_role_nosuper(role, cache.rows[i].role)) rows[n++] = i;
    static RoleEntry scratch;
    RoleEntry* e = &scratch;
    // Kept only if nothing changed meanwhile (the membership lookups may
    // have read invalidations).
    if (invalidations == seen && cache.valid) {
        int slot = cache.n_roles < ROLE_SLOTS ? cache.n_roles++ : (cache.next_slot++ % ROLE_SLOTS);
        e = &cache.roles[slot];
        int* kept = (int*)MemoryContextAlloc(cache.cxt, sizeof(int) * (n > 0 ? n : 1));
        memcpy(kept, rows, sizeof(int) * n);
        rows = kept;
    }
    e->role = role;
    e->n = n;
    e->rows = rows;
    return e;
}

// --- claims ---------------------------------------------------------------

struct ClaimParse {
    const char* want;
    int depth;
    bool in_field;  // the current top-level field is `want`
    char* value;    // its scalar value, or NULL
};

// Objects and arrays both nest: a claim whose value is either is not a
// scalar (->> would give its JSON text, never one of its elements).
void claim_object_start(void* arg) { ++((ClaimParse*)arg)->depth; }
void claim_object_end(void* arg) { --((ClaimParse*)arg)->depth; }
void claim_field_start(void* arg, char* fname, bool) {
    ClaimParse* p = (ClaimParse*)arg;
    if (p->depth != 1) return;
    p->in_field = strcmp(fname, p->want) == 0;
    // A later duplicate wins, as in jsonb.
    if (p->in_field) p->value = NULL;
}
void claim_field_end(void* arg, char*, bool) {
    ClaimParse* p = (ClaimParse*)arg;
    if (p->depth == 1) p->in_field = false;
}
void claim_scalar(void* arg, char* token, JsonTokenType type) {
    ClaimParse* p = (ClaimParse*)arg;
    if (p->depth == 1 && p->in_field && type != JSON_TOKEN_NULL) p->value = token;
}

// The last claims parsed, per claim name.
struct ClaimMemo {
    char* claims;
    char* name;
    char* value;  // NULL: missing
    bool bad;
};
ClaimMemo memos[4];
int next_memo = 0;
MemoryContext claims_cxt = NULL;

// request.jwt.claims ->> name: NULL when missing; *bad when the setting
// is not a JSON object.
char* claim_value(const char* name, bool* bad) {
    const char* claims = GetConfigOption("request.jwt.claims", true, false);
    *bad = false;
    if (claims == NULL || claims[0] == '\0') return NULL;
    for (const ClaimMemo& m : memos)
        if (m.claims != NULL && strcmp(m.claims, claims) == 0 && strcmp(m.name, name) == 0) {
            *bad = m.bad;
            return m.value;
        }
    // Parsed in the call's memory context; only the answer is kept.
    char* copy = pstrdup(claims);
    JsonLexContext* lex = makeJsonLexContextCstringLen(copy, strlen(copy), GetDatabaseEncoding(), true);
    ClaimParse p = {name, 0, false, NULL};
    JsonSemAction sem;
    memset(&sem, 0, sizeof sem);
    sem.semstate = &p;
    sem.object_start = claim_object_start;
    sem.object_end = claim_object_end;
    sem.object_field_start = claim_field_start;
    sem.object_field_end = claim_field_end;
    sem.array_start = claim_object_start;
    sem.array_end = claim_object_end;
    sem.scalar = claim_scalar;
    // The top level must be an object.
    const char* s = claims;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') ++s;
    bool bad_json = *s != '{' || pg_parse_json(lex, &sem) != JSON_SUCCESS;

    if (claims_cxt == NULL)
        claims_cxt = AllocSetContextCreate(TopMemoryContext, "slotguard claims", ALLOCSET_SMALL_SIZES);
    ClaimMemo* m = &memos[next_memo++ % lengthof(memos)];
    if (m->claims != NULL) {
        pfree(m->claims);
        pfree(m->name);
        if (m->value) pfree(m->value);
    }
    m->claims = MemoryContextStrdup(claims_cxt, claims);
    m->name = MemoryContextStrdup(claims_cxt, name);
    m->bad = bad_json;
    m->value = !bad_json && p.value != NULL ? MemoryContextStrdup(claims_cxt, p.value) : NULL;
    *bad = m->bad;
    return m->value;
}

[[noreturn]] void raise_claim(Oid role, const char* name, const char* why) {
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("role \"%s\" is confined by the claim \"%s\", which %s", GetUserNameFromId(role, false),
                           name, why),
                    errhint("The claim is read from the setting request.jwt.claims (a JSON object), as PostgREST "
                            "sets it for each request.")));
    pg_unreachable();
}

// A claim's value, or 42501.
char* required_claim(Oid role, const char* name) {
    bool bad;
    char* v = claim_value(name, &bad);
    if (bad) raise_claim(role, name, "cannot be read: request.jwt.claims is not a JSON object");
    if (v == NULL || v[0] == '\0') raise_claim(role, name, "is missing from request.jwt.claims");
    return v;
}

// The confinement of the rows that apply to `role`: each of them holds
// (their tenant sets intersect; holder claims must name one holder).
void resolve(Oid role, const RoleEntry* e, Confinement* out) {
    out->confined = true;
    out->n_tenants = -1;  // all, until the first row
    out->tenants = NULL;
    out->holder = NULL;
    for (int i = 0; i < e->n; ++i) {
        const ConfRow* r = &cache.rows[e->rows[i]];
        int n = 0;
        const char** set;
        const char* one[1];
        if (r->tenant_claim != NULL) {
            one[0] = required_claim(role, r->tenant_claim);
            if (strchr(one[0], ':') != NULL)
                raise_claim(role, r->tenant_claim, "names no tenant (a tenant has no ':')");
            set = one;
            n = 1;
        } else {
            set = (const char**)r->tenants;
            n = r->n_tenants;
        }
        if (out->n_tenants < 0) {
            out->tenants = (text**)palloc(sizeof(text*) * (n > 0 ? n : 1));
            out->n_tenants = 0;
            for (int j = 0; j < n; ++j) out->tenants[out->n_tenants++] = cstring_to_text(set[j]);
        } else {
            int kept = 0;
            for (int j = 0; j < out->n_tenants; ++j) {
                bool in = false;
                for (int k = 0; k < n && !in; ++k) in = text_is(out->tenants[j], set[k]);
                if (in) out->tenants[kept++] = out->tenants[j];
            }
            out->n_tenants = kept;
        }
        if (r->holder_claim != NULL) {
            const char* h = required_claim(role, r->holder_claim);
            if (out->holder == NULL)
                out->holder = cstring_to_text(h);
            else if (!text_is(out->holder, h))
                raise_claim(role, r->holder_claim, "names another holder than the role's other confinements");
        }
    }
    if (out->n_tenants < 0) out->n_tenants = 0;
}

// The tenant of a key: its bytes before the first ':' (every server
// encoding keeps ASCII bytes unambiguous), as slotguard.tenant_of().
int tenant_length(text* key) {
    const char* p = VARDATA_ANY(key);
    int len = VARSIZE_ANY_EXHDR(key);
    const char* colon = (const char*)memchr(p, ':', len);
    return colon ? (int)(colon - p) : len;
}

SPIPlanPtr visible_plan = NULL;
const PlanSpec visible_spec = {
    "SELECT b.id FROM slotguard.booking b WHERE b.id = ANY ($1) "
    "AND pg_catalog.split_part(b.resource_key, ':', 1) = ANY ($2) AND ($3::text IS NULL OR b.holder = $3)",
    3,
    {INT8ARRAYOID, TEXTARRAYOID, TEXTOID}};

}  // namespace

namespace {

// prosecdef and proowner of the API functions, by oid; forgotten on any
// change of pg_proc (ALTER FUNCTION ... SECURITY INVOKER / OWNER TO).
struct FunctionInfo {
    Oid fn;
    bool definer;
    Oid owner;
};
FunctionInfo functions[32];
int n_functions = 0;
bool proc_callback_registered = false;

void forget_functions(Datum, int, uint32) { n_functions = 0; }

FunctionInfo function_info(Oid fn) {
    for (int i = 0; i < n_functions; ++i)
        if (functions[i].fn == fn) return functions[i];
    if (!proc_callback_registered) {
        CacheRegisterSyscacheCallback(PROCOID, forget_functions, (Datum)0);
        proc_callback_registered = true;
    }
    HeapTuple tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
    if (!HeapTupleIsValid(tp)) elog(ERROR, "slotguard: cache lookup failed for function %u", fn);
    Form_pg_proc proc = (Form_pg_proc)GETSTRUCT(tp);
    FunctionInfo info = {fn, proc->prosecdef, proc->proowner};
    ReleaseSysCache(tp);
    if (n_functions < (int)lengthof(functions)) functions[n_functions++] = info;
    return info;
}

}  // namespace

CallerScope enter_api(FunctionCallInfo fcinfo, const char* function) {
    // Counted (and its refusals caught) until leave_api or the error.
    stats_enter(function);
    CallerScope s;
    GetUserIdAndSecContext(&s.saved_user, &s.saved_sec);
    s.caller = s.saved_user;
    s.switched = false;
    s.conf = Confinement{false, 0, NULL, NULL};
    FunctionInfo info = function_info(fcinfo->flinfo->fn_oid);
    bool definer = info.definer;
    Oid owner = info.owner;
    if (definer) {
        // 1.0/1.1 (or a function made SECURITY DEFINER by hand): already
        // the owner, and the caller is not known. Nobody can be confined.
        if (cache.valid && cache.n_rows > 0)
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("slotguard.%s() is SECURITY DEFINER, so its caller cannot be confined", function),
                            errhint("ALTER FUNCTION ... SECURITY INVOKER, as the 1.2 install script has it.")));
        return s;
    }
    if (!cache.valid) load_rows();
    if (cache.n_rows > 0) {
        const RoleEntry* e = rows_for(s.caller);
        if (e->n > 0) resolve(s.caller, e, &s.conf);
    }
    SetUserIdAndSecContext(owner, s.saved_sec | SECURITY_LOCAL_USERID_CHANGE);
    s.switched = true;
    return s;
}

void leave_api(const CallerScope* s) {
    if (s->switched) SetUserIdAndSecContext(s->saved_user, s->saved_sec);
    stats_leave();
}

bool tenant_allowed(const Confinement* c, text* key) {
    if (!c->confined) return true;
    int len = tenant_length(key);
    const char* p = VARDATA_ANY(key);
    for (int i = 0; i < c->n_tenants; ++i)
        if ((int)VARSIZE_ANY_EXHDR(c->tenants[i]) == len && memcmp(VARDATA_ANY(c->tenants[i]), p, len) == 0)
            return true;
    return false;
}

void require_tenant_write(const Confinement* c, text* key, const char* what) {
    if (tenant_allowed(c, key)) return;
    char* tenant = pnstrdup(VARDATA_ANY(key), tenant_length(key));
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied to %s in tenant \"%s\"", what, tenant),
                    errdetail("The role is confined to other tenants (slotguard.confinements).")));
}

bool holder_allowed(const Confinement* c, text* holder) {
    if (!c->confined || c->holder == NULL) return true;
    return holder != NULL && same_text(holder, c->holder);
}

Datum tenant_array(const Confinement* c) {
    Datum* d = (Datum*)palloc(sizeof(Datum) * (c->n_tenants > 0 ? c->n_tenants : 1));
    for (int i = 0; i < c->n_tenants; ++i) d[i] = PointerGetDatum(c->tenants[i]);
    return PointerGetDatum(construct_array(d, c->n_tenants, TEXTOID, -1, false, TYPALIGN_INT));
}

void shown_booking_ids(const Confinement* c, int64* ids, int n, int* n_shown) {
    *n_shown = n;
    if (!c->confined || n == 0) return;
    Datum v[3] = {PointerGetDatum(int8_array(ids, n)), tenant_array(c), PointerGetDatum(c->holder)};
    char nulls[4] = "   ";
    if (c->holder == NULL) nulls[2] = 'n';
    if (SPI_execute_plan(kept_plan(&visible_plan, visible_spec), v, nulls, true, 0) != SPI_OK_SELECT)
        elog(ERROR, "slotguard: booking visibility lookup failed");
    // Keep the order of `ids`: the shown ones first, the rest after.
    int64* visible = (int64*)palloc(sizeof(int64) * (SPI_processed > 0 ? SPI_processed : 1));
    int n_visible = 0;
    for (uint64 r = 0; r < SPI_processed; ++r) {
        bool isnull;
        visible[n_visible++] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
    }
    int64* hidden = (int64*)palloc(sizeof(int64) * n);
    int shown = 0, n_hidden = 0;
    for (int i = 0; i < n; ++i) {
        bool in = false;
        for (int j = 0; j < n_visible && !in; ++j) in = visible[j] == ids[i];
        if (in)
            ids[shown++] = ids[i];
        else
            hidden[n_hidden++] = ids[i];
    }
    for (int i = 0; i < n_hidden; ++i) ids[shown + i] = hidden[i];
    *n_shown = shown;
}

char* shown_id_list(const int64* ids, int n_shown, int n_total) {
    if (n_shown == n_total) return id_list(ids, n_total);
    if (n_shown == 0) return psprintf("%d not shown", n_total);
    return psprintf("%s, and %d not shown", id_list(ids, n_shown), n_total - n_shown);
}

}  // namespace sgpg
