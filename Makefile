# slotguard — PGXS build. `make && make install`, then `make installcheck`
# against a running server (run-tests.sh does that on a throwaway cluster).

MODULE_big = slotguard
CORE_SRCS  = $(wildcard src/core/*.cpp)
PG_SRCS    = $(wildcard src/pg/*/*.cpp)
OBJS       = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The control file and install/upgrade scripts live in control/.
MODULEDIR  = extension
DATA       = control/slotguard.control $(wildcard control/slotguard--*.sql)

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=btree_gist
ISOLATION    = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --load-extension=btree_gist

PG_CXXFLAGS = -std=c++17 -fPIC -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-register -MMD -MP -Isrc -Isrc/pg
PG_CPPFLAGS = -Isrc -Isrc/pg
SHLIB_LINK  = -lstdc++

EXTRA_CLEAN = $(OBJS:.o=.d) build results output_iso regression.diffs regression.out

# No JIT bitcode: it would need clang and adds nothing for C++ glue.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS compiles .cpp with CXXFLAGS; keep our flags last so -std wins.
override CXXFLAGS += $(PG_CXXFLAGS)

-include $(OBJS:.o=.d)

# The coordinator package (proxy/, SQL only) installs with the extension.
install: install-proxy
install-proxy:
	$(MAKE) -C proxy install PG_CONFIG=$(PG_CONFIG)
.PHONY: install-proxy
