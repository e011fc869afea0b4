// Arrays and id lists for results and messages.
#include "engine/glue.hpp"

#include "lib/stringinfo.h"

namespace sgpg {

ArrayType* int8_array(const int64* v, int n) {
    Datum* d = (Datum*)palloc(sizeof(Datum) * (n > 0 ? n : 1));
    for (int i = 0; i < n; ++i) d[i] = Int64GetDatum(v[i]);
    return construct_array(d, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

ArrayType* range_array(const Datum* v, int n) {
    int16 len;
    bool byval;
    char align;
    get_typlenbyvalalign(TSTZRANGEOID, &len, &byval, &align);
    return construct_array(const_cast<Datum*>(v), n, TSTZRANGEOID, len, byval, align);
}

char* id_list(const int64* ids, int n) {
    StringInfoData s;
    initStringInfo(&s);
    int shown = Min(n, max_listed_ids);
    for (int i = 0; i < shown; ++i) appendStringInfo(&s, "%s" INT64_FORMAT, i ? ", " : "", ids[i]);
    if (n > shown) appendStringInfo(&s, " and %d more", n - shown);
    if (n == 0) appendStringInfoString(&s, "none listed");
    return s.data;
}

}  // namespace sgpg
