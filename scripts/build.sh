#!/usr/bin/env bash
# Builds the C++ core and its unit tests (CMake, into build/) and the
# PostgreSQL extension (PGXS), then installs the extension into
# PostgreSQL 15 (needs root: it writes under /usr/lib/postgresql/15 and
# /usr/share/postgresql/15).
set -euo pipefail
cd "$(dirname "$0")/.."

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
JOBS=${JOBS:-2}

echo "build: core + unit tests (cmake, Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$JOBS"

echo "build: extension (PGXS)"
make -j"$JOBS" PG_CONFIG="$PG_CONFIG"
make install PG_CONFIG="$PG_CONFIG"

echo "build: installed $("$PG_CONFIG" --pkglibdir)/slotguard.so"
