// slotguard.entry_hash: the 64-bit key that bookings (resource_hash) and
// guard entries (entry_hash) are indexed by.
//
// Both are looked up by a text key, but GiST on a text key (btree_gist's
// gbt_text) spends most of an insert and a scan comparing and merging
// varlena prefixes. The indexes hold this hash instead, the fixed-size int8
// opclass is cheap, and every scan compares the key text of the rows it
// finds, so two keys with the same hash never mix.
//
// FNV-1a over the key's bytes: the same value on every platform and every
// PostgreSQL version, so dumped entries restore with a valid hash.
#include "engine/glue.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(sg_entry_hash);
}

namespace sgpg {

int64 entry_hash(text* key) {
    const unsigned char* p = (const unsigned char*)VARDATA_ANY(key);
    uint64 h = UINT64CONST(0xcbf29ce484222325);
    for (size_t i = 0, n = VARSIZE_ANY_EXHDR(key); i < n; ++i) {
        h ^= p[i];
        h *= UINT64CONST(0x100000001b3);
    }
    return (int64)h;
}

}  // namespace sgpg

extern "C" Datum sg_entry_hash(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    PG_RETURN_INT64(sgpg::entry_hash(PG_GETARG_TEXT_PP(0)));
}
