#!/usr/bin/env bash
# test.sh: what `make test` runs.  Installs what is missing, builds with
# warnings as errors, installs, starts a throwaway cluster on its own port and
# socket folder, runs the C unit tests, a bounded fuzz pass, pg_regress,
# pgTAP, the documentation examples, the HTTP suite (test/http) and the
# dashboard suites (test/dashboard, test/browser), prints
# the regression diffs on failure, and always stops the cluster.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

tools/deps.sh || exit 1

echo "== build (warnings are errors)"
make -s clean >/dev/null
make -s COPT=-Werror || exit 1
if [[ $(id -u) -eq 0 ]]; then make -s install >/dev/null || exit 1
else sudo -n make -s install >/dev/null || exit 1; fi

source tools/cluster.sh
CLUSTER=$(mktemp -d /tmp/analytics-test.XXXXXX)
PORT=$(free_port 55432)
stop() { [[ -n "${VALGRIND_PID:-}" ]] && kill "$VALGRIND_PID" 2>/dev/null; cluster_stop "$CLUSTER"; rm -rf "$CLUSTER"; }
trap stop EXIT
echo "== start throwaway cluster in $CLUSTER on port $PORT"
# pg_stat_statements: the HTTP suite proves a cache HIT never reaches the database.
CLUSTER_EXTRA_CONF="shared_preload_libraries = 'pg_cron,analytics,pg_stat_statements'" \
  cluster_start "$CLUSTER" "$PORT" analytics_test || exit 1

failed=()
SUITES=11  # shape, unit, fuzz, pg_regress, pgtap, health, docs, http, attack, dashboard, valgrind

# The SQL's shape: the generated rollup families are current, every piece
# refers only to its own or lower layers, and
# 0.1.0 updated along the chain has the schema of a fresh install.
echo "== SQL layers and the upgrade's schema"
{ python3 tools/families.py --check && tools/layers.sh && tools/schema_check.sh analytics_shape; } || failed+=(shape)

echo "== C unit tests"
make -s unit || failed+=(unit)

echo "== fuzz (bounded)"
make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}" || failed+=(fuzz)

echo "== pg_regress"
rm -f regression.diffs
if ! make -s installcheck; then
  failed+=(pg_regress)
  [[ -f regression.diffs ]] && cat regression.diffs
fi

# The regression suite again, with the server under valgrind, in the
# background while pgTAP runs (it has its own cluster; pg_regress's results/
# folder is free now).
echo "== valgrind (in the background)"
tools/valgrind.sh > "$CLUSTER/valgrind.log" 2>&1 &
VALGRIND_PID=$!

echo "== pgTAP"
psql -X -q -d postgres -c "CREATE DATABASE analytics_test" >/dev/null || exit 1
psql -X -q -d analytics_test -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || exit 1
CREATE EXTENSION pgtap;
CREATE EXTENSION pg_cron;
CREATE EXTENSION dblink;
CREATE EXTENSION analytics;
SQL
psql -X -q -d analytics_test -v ON_ERROR_STOP=1 -f datagen/generate.sql >/dev/null || exit 1
pg_prove -d analytics_test --ext .sql -r test/pgtap || failed+=(pgtap)

# The background worker against real local HTTP servers (test/health/run.sh:
# probes, refused private destinations, a pg_ctl restart of this cluster).
echo "== health worker (probes)"
test/health/run.sh analytics_test || failed+=(health)
# Notification delivery (test/alerts/run.sh: signatures checked by the
# receiver, retries, 410, 4xx, e-mail to a real SMTP server (aiosmtpd), a kill
# -9 of this cluster mid-delivery).
echo "== alerts worker (deliveries)"
test/alerts/run.sh analytics_test || failed+=(alerts)

echo "== documentation examples"
test/docs.sh analytics_test || failed+=(docs)

# PostgREST + nginx (http/stack.sh) over 127.0.0.1 against analytics_test;
# test/http/run.sh stops them even on failure.
echo "== http (PostgREST + nginx)"
test/http/run.sh analytics_test || failed+=(http)

# The attacks of issue 13 replayed over HTTP and SQL, in a database of
# their own (and a second cluster without the preload); bounded in time.
echo "== attack (issue 13 replay)"
test/attack/run.sh analytics_attack || failed+=(attack)

echo "== valgrind (waiting for it)"
wait "$VALGRIND_PID" || failed+=(valgrind)
cat "$CLUSTER/valgrind.log"

# The dashboard: its build (with the bundle budget), the unit tests of its
# data shaping, and chromium driven by playwright-core against PostgREST +
# nginx over 90 days of demo data in a database of its own.  After valgrind,
# so that the first-paint figure it reports is not taken beside it.
echo "== dashboard (unit + browser)"
test/browser/run.sh || failed+=(dashboard)

if (( ${#failed[@]} )); then
  echo "make test: FAILED: ${failed[*]} (the server log's tail follows)"
  tail -40 "$CLUSTER/server.log"
  echo "suites: $((SUITES - ${#failed[@]})) passed, ${#failed[@]} failed"
  exit 1
fi
echo "suites: $SUITES passed, 0 failed"
