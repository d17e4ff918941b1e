# analytics: PGXS build, plus the project's two commands (make demo, make test).
#
# SQL, by layer (docs/architecture.md; tools/layers.sh checks the order):
#   sql/schema/NN_*.sql     tables and types, run once at install
#   sql/functions/NN_*.sql  functions, views, grants, policies: re-runnable,
#                           run at install and at every upgrade
#   sql/updates/A--B.sql    the hand-written part of the upgrade from A to B
#                           (from 0.5.0 on a folder sql/updates/A--B/NN_*.sql)
# The install script sql/analytics--$(EXTVERSION).sql is schema/ then
# functions/, each in name order; the upgrade script from the previous
# release is its updates/ file then functions/.  Released install and
# upgrade scripts (sql/analytics--0.1.0.sql, ..., sql/analytics--0.4.0.sql,
# sql/analytics--0.1.0--0.2.0.sql, ..., sql/analytics--0.3.0--0.4.0.sql) are frozen and kept as they shipped, so
# an old release updates along the chain 0.1.0 -> 0.2.0 -> ... -> current.

EXTENSION  = analytics
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = analytics

# One object per concern; each concern owns its own line.
OBJS_CORE    = src/analytics.o src/aggstate.o src/ingest.o src/ingest_core.o
OBJS_QSKETCH = src/qsketch.o src/qsketch_core.o src/qsketch_compact.o src/qsketch_text.o
OBJS_HEATMAP = src/heatmap.o src/heatmap_core.o
OBJS_TREND   = src/trend.o src/trend_core.o src/uuidset.o
OBJS_WORKER  = src/worker.o src/worker_core.o src/http_client.o
OBJS_ALERTS  = src/alerts.o
OBJS_METRIC  = src/metric.o src/metric_core.o
OBJS_HTTP    = src/http.o
OBJS_READERS = src/cached.o src/readers.o
OBJS = $(OBJS_CORE) $(OBJS_QSKETCH) $(OBJS_HEATMAP) $(OBJS_TREND) $(OBJS_WORKER) $(OBJS_ALERTS) $(OBJS_METRIC) $(OBJS_HTTP) $(OBJS_READERS)

# The background worker's HTTP client (src/http_client.c).
SHLIB_LINK += -lcurl

PREVIOUS_VERSION = 0.4.0
SCHEMA_PIECES    = $(sort $(wildcard sql/schema/*.sql))
FUNCTION_PIECES  = $(sort $(wildcard sql/functions/*.sql))
UPGRADE_SCRIPT   = sql/$(EXTENSION)--$(PREVIOUS_VERSION)--$(EXTVERSION).sql
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_SCRIPT)
DATA = sql/$(EXTENSION)--0.1.0.sql sql/$(EXTENSION)--0.2.0.sql sql/$(EXTENSION)--0.3.0.sql \
       sql/$(EXTENSION)--0.4.0.sql \
       sql/$(EXTENSION)--0.1.0--0.2.0.sql sql/$(EXTENSION)--0.2.0--0.3.0.sql \
       sql/$(EXTENSION)--0.3.0--0.4.0.sql

# pg_regress: an explicit, ordered list; each concern owns its own line.
REGRESS_CORE    = setup ingestion ingestion_errors rollup
REGRESS_QSKETCH = qsketch qsketch_accuracy qsketch_merge qsketch_collapse qsketch_errors qsketch_weighted
REGRESS_HEATMAP = heatmap heatmap_parallel heatmap_errors
REGRESS_TREND   = trend trend_errors summary union_count
REGRESS_METRIC  = metric_points
REGRESS_HTTP    = cached claims
REGRESS_READERS = readers
REGRESS = $(REGRESS_CORE) $(REGRESS_QSKETCH) $(REGRESS_HEATMAP) $(REGRESS_TREND) $(REGRESS_METRIC) $(REGRESS_HTTP) $(REGRESS_READERS)
REGRESS_OPTS = --inputdir=.

# Optimisation knob (e.g. make OPTFLAGS=-march=native); warnings stay on.
OPTFLAGS =
PG_CFLAGS += $(OPTFLAGS) -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare
PG_CPPFLAGS += -I$(srcdir)/src

EXTRA_CLEAN = $(DATA_built) test/unit/build test/fuzz/build

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SCHEMA_PIECES) $(FUNCTION_PIECES) $(EXTENSION).control
	cat $(SCHEMA_PIECES) $(FUNCTION_PIECES) > $@

# From 0.5.0 on, the hand-written part of an upgrade is a folder of pieces
# (sql/updates/OLD--NEW/NN_*.sql, one per concern), concatenated in name order.
UPDATE_PIECES = $(sort $(wildcard sql/updates/$(PREVIOUS_VERSION)--$(EXTVERSION)/*.sql))
$(UPGRADE_SCRIPT): $(UPDATE_PIECES) $(FUNCTION_PIECES) $(EXTENSION).control
	cat $(UPDATE_PIECES) $(FUNCTION_PIECES) > $@

# ---------------------------------------------------------------------------
# Plain-C unit tests and fuzzing of the algorithm files (no server needed).
# Convention: test/unit/test_<x>.c and test/fuzz/fuzz_<x>.c test module <x>,
# whose plain-C files (no postgres.h) are src/<x>_*.c: src/<x>_core.c and, for
# a larger module, its other parts (src/qsketch_compact.c, ...).
UNIT_CC     ?= cc
UNIT_CFLAGS ?= -std=c99 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_TESTS = $(patsubst test/unit/test_%.c,%,$(wildcard test/unit/test_*.c))
UNIT_BINS  = $(patsubst %,test/unit/build/%,$(UNIT_TESTS))

.PHONY: unit fuzz valgrind test demo demo-stop deps bench
.SECONDEXPANSION:
test/unit/build/%: test/unit/test_%.c test/unit/check.h src/civil.h $$(wildcard src/$$*_*.c src/$$*_*.h)
	@mkdir -p test/unit/build
	$(UNIT_CC) $(UNIT_CFLAGS) -Isrc -o $@ test/unit/test_$*.c $(wildcard src/$*_*.c) -lm

unit: $(UNIT_BINS)
	@set -e; for b in $(UNIT_BINS); do echo "unit: $$b"; $$b; done

FUZZ_SECONDS ?= 10
fuzz:
	@tools/fuzz.sh $(FUZZ_SECONDS)

# The regression suite with the server under valgrind (needs the extension
# installed: make install); reports whose stack passes through our library
# fail it.
valgrind:
	@tools/valgrind.sh

# ---------------------------------------------------------------------------
# The two commands.
deps:
	@tools/deps.sh

test:
	@tools/test.sh

# The same extension on Citus: a coordinator and two workers against one node
# (docs/scaling.md); builds Citus from ../shared/citus unless installed.
.PHONY: test-citus
test-citus:
	@test/citus/run.sh

demo:
	@tools/demo.sh start

demo-stop:
	@tools/demo.sh stop
