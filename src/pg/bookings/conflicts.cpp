// What a caller is told on a conflict: the 23P01 error with the ids of the
// conflicting bookings (DETAIL) and free alternatives (HINT).
#include "bookings/bookings.hpp"
#include "schedule/schedule.hpp"

#include "lib/stringinfo.h"

namespace sgpg {

namespace {

// The distance either side that alternatives are sought in.
int64 suggestion_reach(const TsRange& during) {
    int64 reach;
    if (pg_mul_s64_overflow(range_length(during), suggestion_steps, &reach)) reach = PG_INT64_MAX;
    return Min(reach, (int64)suggestion_horizon_minutes * USECS_PER_MINUTE);
}

}  // namespace

Datum suggestion_window(const TsRange& during, const ResourceInfo* res) {
    int64 reach = suggestion_reach(during);
    TsRange window = during;
    if (pg_add_s64_overflow(reach, res->before_us + res->after_us, &reach)) return (Datum)0;
    // Near either end of the timestamps, the part of the window that exists
    // (alternatives are only offered inside it).
    if (pg_sub_s64_overflow(during.lower, reach, &window.lower) || !IS_VALID_TIMESTAMP(window.lower))
        window.lower = MIN_TIMESTAMP;
    if (pg_add_s64_overflow(during.upper, reach, &window.upper) || !IS_VALID_TIMESTAMP(window.upper))
        window.upper = END_TIMESTAMP - 1;
    return range_datum(window);
}

int suggest_alternatives(const BookingRels* rels, text* key, const TsRange& during, int seats,
                         const ResourceInfo* res, ItemPointer exclude, const Occupants* known, Datum* out,
                         int max_out) {
    const int64 length = range_length(during);
    if (max_out <= 0 || length <= 0) return 0;
    Occupants read;
    if (known == NULL || known->items == NULL) {
        Datum window = suggestion_window(during, res);
        if (window == (Datum)0) return 0;
        collect_occupants(rels, key, window, true, exclude, &read);
        known = &read;
    }
    if (res->rules != NULL) {
        // §10 hook: closed and busy time take every seat (a copy: `known` is the caller's).
        Datum window = suggestion_window(during, res);
        if (window == (Datum)0) return 0;
        Occupants all = {NULL, 0, 0};
        for (int i = 0; i < known->n; ++i) append_occupant(&all, known->items[i]);
        add_closed_occupants(res, key, decode_range(window), NULL, true, &all);
        known = (const Occupants*)palloc(sizeof(Occupants));
        *const_cast<Occupants*>(known) = all;
    }
    sg::SlotQuery q;
    q.capacity = res->capacity;
    q.seats = seats;
    q.buffer_before = res->before_us;
    q.buffer_after = res->after_us;
    sg::Span* found = (sg::Span*)palloc(sizeof(sg::Span) * max_out);
    int n_found = 0;
    BridgeError err;
    if (!bridge_alternatives(known->items, known->n, q, span_of(during), length, suggestion_reach(during), max_out,
                             found, &n_found, &err))
        raise_bridge_error(err);
    for (int i = 0; i < n_found; ++i) out[i] = range_datum(range_of(found[i]));
    pfree(found);
    return n_found;
}

void raise_conflict(text* key, const TsRange& during, const int64* ids, int n_ids, const Datum* suggestions,
                    int n_suggestions, int n_total) {
    StringInfoData detail, hint;
    initStringInfo(&detail);
    initStringInfo(&hint);
    if (n_total < n_ids) n_total = n_ids;
    appendStringInfo(&detail, "%s: %s.", n_total == 1 ? "Conflicting booking" : "Conflicting bookings",
                     shown_id_list(ids, n_ids, n_total));
    if (suggestions == NULL) {
        // Direct writes (trigger) are not offered alternatives.
    } else if (n_suggestions > 0) {
        appendStringInfoString(&hint, "Free alternatives: ");
        for (int i = 0; i < n_suggestions; ++i)
            appendStringInfo(&hint, "%s%s", i ? ", " : "", range_text(suggestions[i]));
        appendStringInfoChar(&hint, '.');
    } else {
        appendStringInfoString(&hint, "No free alternative of the same length nearby.");
    }
    ereport(ERROR, (errcode(ERRCODE_EXCLUSION_VIOLATION),
                    errmsg("slot on resource \"%s\" for %s is not available", text_to_cstring(key),
                           range_text(range_datum(during))),
                    errdetail("%s", detail.data), hint.len > 0 ? errhint("%s", hint.data) : 0));
    pg_unreachable();
}

}  // namespace sgpg
