// Argument checks and turning core errors into PostgreSQL errors.
#include "engine/glue.hpp"

extern "C" {
#include "access/xlog.h"
}

namespace sgpg {

void require_writable(const char* function) {
    // A standby's transactions are all read-only too: say why first.
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                        errmsg("cannot execute slotguard.%s() during recovery", function),
                        errhint("Write on the primary; a standby answers free_slots, availability and "
                                "worker_schedule.")));
    if (XactReadOnly)
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                        errmsg("cannot execute slotguard.%s() in a read-only transaction", function)));
}

void raise_bridge_error(const BridgeError& err) {
    ereport(ERROR, (errcode(MAKE_SQLSTATE(err.sqlstate[0], err.sqlstate[1], err.sqlstate[2], err.sqlstate[3],
                                          err.sqlstate[4])),
                    errmsg("%s", err.message)));
    pg_unreachable();
}

void require_arg(FunctionCallInfo fcinfo, int argno, const char* name) {
    if (PG_ARGISNULL(argno))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", name)));
}

text* nonblank_text_arg(FunctionCallInfo fcinfo, int argno, const char* name) {
    require_arg(fcinfo, argno, name);
    text* t = PG_GETARG_TEXT_PP(argno);
    const char* p = VARDATA_ANY(t);
    int len = VARSIZE_ANY_EXHDR(t);
    bool blank = true;
    for (int i = 0; i < len && blank; ++i)
        blank = (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r');
    if (blank)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be blank", name)));
    return t;
}

void check_key_length(text* t, const char* name) {
    if (VARSIZE_ANY_EXHDR(t) > (size_t)max_key_bytes)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s must be at most %d bytes, got %zu", name, max_key_bytes, VARSIZE_ANY_EXHDR(t))));
}

text* key_text_arg(FunctionCallInfo fcinfo, int argno, const char* name) {
    text* t = nonblank_text_arg(fcinfo, argno, name);
    check_key_length(t, name);
    return t;
}

int compare_text_bytes(text* a, text* b) {
    size_t la = VARSIZE_ANY_EXHDR(a), lb = VARSIZE_ANY_EXHDR(b);
    int c = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(la, lb));
    return c != 0 ? c : (la < lb ? -1 : la > lb ? 1 : 0);
}

void check_metadata_size(Datum jsonb, const char* name) {
    // The value's size as stored uncompressed, read without detoasting it.
    Size bytes = toast_raw_datum_size(jsonb) - VARHDRSZ;
    if (bytes > (Size)max_metadata_bytes)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s must be at most %d bytes, got %zu", name, max_metadata_bytes, bytes),
                        errhint("The limit is the setting slotguard.max_metadata_bytes.")));
}

int seats_arg(FunctionCallInfo fcinfo, int argno) {
    require_arg(fcinfo, argno, "seats");
    int seats = PG_GETARG_INT32(argno);
    if (seats < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("seats must be at least 1, got %d", seats)));
    return seats;
}

void check_seats_fit(int seats, int capacity, text* key) {
    if (seats > capacity)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("seats (%d) exceed the capacity (%d) of resource \"%s\"", seats, capacity,
                               text_to_cstring(key))));
}

}  // namespace sgpg
