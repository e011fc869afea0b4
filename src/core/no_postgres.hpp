// The core is pure C++: it must compile without any PostgreSQL header, so it
// can be unit-tested alone and can never call elog/ereport by accident.
// Only the glue (src/pg/engine/pg.hpp defines SLOTGUARD_GLUE) may combine the two.
#pragma once
#if defined(POSTGRES_H) && !defined(SLOTGUARD_GLUE)
#error "src/core must not include PostgreSQL headers"
#endif
