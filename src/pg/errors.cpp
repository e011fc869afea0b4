// Argument checks and turning core errors into PostgreSQL errors.
#include "glue.hpp"

namespace sgpg {

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

}  // namespace sgpg
