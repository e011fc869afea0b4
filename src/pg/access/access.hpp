// Who calls the API, and what a confined caller may see and touch
// (API.md §8 (1.2), access.cpp). Written C-style, as engine/glue.hpp.
#pragma once

#include "engine/pg.hpp"

namespace sgpg {

// What a call may see: every tenant and holder (confined false), or only
// keys whose tenant (the part before the first ':') is one of `tenants`
// and, with a holder, only bookings whose holder it is. Allocated in the
// memory context current at enter_api.
struct Confinement {
    bool confined;
    int n_tenants;
    text** tenants;
    text* holder;  // NULL: bookings of any holder
};

// The caller of an API function and the role its body runs as.
struct CallerScope {
    Oid caller;  // the current role at entry (current_user)
    Oid saved_user;
    int saved_sec;
    bool switched;
    Confinement conf;
};

// First thing of every API entry point. The 1.2 functions are SECURITY
// INVOKER: the caller is the current role, its confinement is resolved
// (42501 for a missing or bad claim), and the body then runs as the
// function's owner (SetUserIdAndSecContext, as SECURITY DEFINER would),
// until leave_api. An error in between unwinds the role with the
// (sub)transaction. On a 1.0/1.1 schema the functions are still SECURITY
// DEFINER: nothing is switched and nobody is confined, as before.
CallerScope enter_api(FunctionCallInfo fcinfo, const char* function);
void leave_api(const CallerScope* scope);

// Whether the tenant of `key` is one the caller may see (always, unconfined).
bool tenant_allowed(const Confinement* c, text* key);
// 42501 when the caller may not write (create) in the tenant of `key`.
void require_tenant_write(const Confinement* c, text* key, const char* what);
// Whether a booking of `holder` (may be NULL) is the caller's.
bool holder_allowed(const Confinement* c, text* holder);
// The caller's tenants as a text[] datum (confined callers only).
Datum tenant_array(const Confinement* c);

// Of `ids` (bookings), the ones a confined caller may be told about, in
// place: the first *n_shown are shown, the rest are counted. SPI connected.
void shown_booking_ids(const Confinement* c, int64* ids, int n, int* n_shown);
// "1, 2" or "1, and 2 not shown" or "2 not shown", for messages.
char* shown_id_list(const int64* ids, int n_shown, int n_total);

}  // namespace sgpg
