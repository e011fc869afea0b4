// Series and groups (API.md §11): several bookings admitted as one — every
// row fits or nothing is written — in one subtransaction (admit_write with a
// target per row), resources locked in one global order (sorted keys).
// Written C-style, as engine/glue.hpp: no C++ object with a destructor is
// alive across a call that can ereport.
#pragma once

#include "workers/workers.hpp"
#include "engine/spi_plans.hpp"

extern "C" {
#include "pgtime.h"
}

namespace sgpg {

constexpr int max_series_occurrences = 500;  // API.md §11
constexpr int max_set_keys = 1000;            // resources or workers named in one call

// --- local time (zone.cpp) ---------------------------------------------------
// The resource's time zone: its slotguard.resource.timezone when the schema
// has that column (API.md §10) and it is set, else UTC. 22023 if unknown.
pg_tz* resource_zone(text* key);
// Its name as the row holds it, NULL for none (UTC).
char* resource_zone_name(text* key);
sg::LocalTime local_of(TimestampTz t, pg_tz* zone);
// The instant of a local wall-clock time (a time skipped by a DST change is
// read with the offset before it, i.e. moved forward by the gap, as
// PostgreSQL reads one; a time that occurs twice is its first occurrence).
// Repeat rules never hand it a skipped time: the core leaves those
// occurrences out (API.md §10). 22023 outside the supported timestamps.
TimestampTz instant_of(const sg::LocalTime& lt, pg_tz* zone);
// The local calendar day around t, as an instant range [midnight, next midnight).
sg::Span local_day(TimestampTz t, pg_tz* zone);

// --- arguments (booking_sets.cpp) -----------------------------------------------
// A text[] of distinct, non-blank keys of at most max_key_bytes, at most
// max_set_keys of them (22004 NULL array, 22023 otherwise). `what` names an
// element in messages ("resource", "worker").
text** key_array_arg(FunctionCallInfo fcinfo, int argno, const char* name, const char* what, int* n);
// now() + hold as book_slot computes it (22023 for a non-positive or too long hold).
TimestampTz hold_expiry(const Interval* hold);

// --- a set of bookings admitted together (booking_sets.cpp) ------------------
struct SetResource {
    text* key;
    ResourceInfo res;
};

struct SetRequest {
    int n;               // rows
    text** keys;         // [n] the row's resource
    TsRange* ranges;     // [n] the row's during
    int seats;
    text* holder;        // may be NULL
    bool held;
    TimestampTz expires;
    text* idem;          // on the first row; may be NULL
    bool has_metadata;
    Datum metadata;
    bool series;         // rows share series_id (else group_id)
    const Confinement* conf;
};

enum SetOutcome { SET_BOOKED, SET_REPLAYED, SET_CONFLICT };

// One row's answer when the set does not fit.
struct RowVerdict {
    bool fits;
    int64* ids;     // conflicting bookings the caller may see
    int n_ids;
    int n_total;    // also counting the ones it may not
    const char* reason;  // NULL when it fits
    bool by_rule;        // reason names a §10 rule (a per-day limit) and its ids
};

struct SetResult {
    SetOutcome outcome;
    Datum* rows;  // SET_BOOKED / SET_REPLAYED: slotguard.booking datums
    int n_rows;
    int64* ids;   // SET_BOOKED: the booking ids, [n] in row order
    int64 set_id;
    RowVerdict* verdicts;  // SET_CONFLICT: [n]
    int first_conflict;    // SET_CONFLICT: first row that does not fit
    int conflict_row;      // SET_CONFLICT: the row the admission refused on
    // SET_CONFLICT: why conflict_row was refused when a §10 rule did it
    // (static rule, or a per-day limit with the day's bookings), else NULL.
    const char* conflict_reason;
};

// Tenant checks and reading (auto-creating) the resources of req, in key
// order: the distinct resources, sorted. SPI connected.
SetResource* set_resources(const SetRequest* req, int* n_res);
// Checks, writes and rechecks the whole set. SPI connected; booking opened
// by the caller as `rels`. On SET_CONFLICT only conflict_row is set: call
// explain_set for the per-row report.
void admit_set(const SetRequest* req, SetResource* res, int n_res, GuardedRels* rels, SetResult* out);
// Why each row of a refused set does not fit (per row: conflicting ids,
// or that it collides with the set's own rows). SPI connected.
void explain_set(const SetRequest* req, const SetResource* res, int n_res, const GuardedRels* rels, SetResult* out);
// The resource entry of `key` (which must be among res).
const SetResource* find_set_resource(const SetResource* res, int n_res, text* key);
// A booking set already made with req->idem: true and its rows when the
// key names one made with the same arguments (checked by `same`), 22023
// when it names anything else. SPI connected.
typedef bool (*SameSetFn)(void* arg, const SetRequest* req, HeapTupleHeader* rows, int n);
bool find_set_by_key(const SetRequest* req, SameSetFn same, void* arg, SetResult* out);
// Every row of the set as a result set, into the caller's tuplestore.
void put_rows(ReturnSetInfo* rsinfo, const Datum* rows, int n);
// Whether a stored tstzrange is exactly r (bounds and their styles).
bool range_is(Datum stored, const TsRange& r);
// Field of a slotguard.booking datum.
Datum booking_field(HeapTupleHeader row, const char* name, bool* isnull);

// 23P01 for a refused set: `what` is the message; DETAIL lists each row that
// does not fit; HINT offers alternatives for the first of them.
[[noreturn]] void raise_set_conflict(const SetRequest* req, const SetResource* res, int n_res,
                                     const GuardedRels* rels, const SetResult* out, const char* what);

// --- prepared statements (series_plans.cpp) ----------------------------------
enum SeriesPlanId {
    SPLAN_INSERT_SERIES,
    SPLAN_INSERT_GROUP,
    SPLAN_SET_BY_KEY,
    SPLAN_SERIES_ROWS,
    SPLAN_GROUP_ROWS,
    SPLAN_SERIES_OWNER,
    SPLAN_SERIES_LOCK,
    SPLAN_SERIES_CANCEL,
    SPLAN_RELEASE_MANY,
    SPLAN_SERIES_SCOPE,
    SPLAN_NEXT_SET_ID,
    SPLAN_ASSIGNED,
    SPLAN_COUNT
};
SPIPlanPtr series_plan(SeriesPlanId id);

}  // namespace sgpg
