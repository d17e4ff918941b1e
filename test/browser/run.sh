#!/usr/bin/env bash
# run.sh: the dashboard suites of make test.
#   1. builds the dashboard (npm ci from the lockfile, esbuild; the build
#      fails over the bundle budget) and runs the unit tests of its data
#      shaping (test/dashboard, node's test runner);
#   2. loads 90 days of demo data into a database of its own in the running
#      cluster (PGHOST/PGPORT/PGUSER), rolls it up, starts PostgREST + nginx
#      (http/stack.sh) serving the built dashboard, and drives Debian's
#      chromium with playwright-core through test/browser/*.test.mjs (the
#      tenant views: dashboard.test.mjs; the operations section: ops.test.mjs).
# Screenshots and the measured timings go to test/browser/artifacts/.
# Exit status: 0 when both passed; prints which failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
DB=analytics_browser
RUN=$(mktemp -d /tmp/analytics-browser.XXXXXX)
stop() {
  http/stack.sh stop "$RUN"; rm -rf "$RUN"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
}
trap stop EXIT
failed=()

echo "-- dashboard build and unit tests"
(cd http && npm ci --no-audit --no-fund --loglevel=error) || exit 1
(cd dashboard && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build) || exit 1
node --test test/dashboard/ || failed+=(dashboard-unit)

echo "-- browser tests (playwright-core + $(chromium --version 2>/dev/null | head -1))"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL' || exit 1
SET client_min_messages = warning;
CREATE EXTENSION analytics;
\i datagen/generate.sql
-- the demo's data: 300,000 events over the 90 days that end today
SELECT * FROM analytics_datagen.generate(300000, 90, (now() AT TIME ZONE 'UTC')::date);
CALL analytics.rollup_job();
-- a Pro tenant that has recorded nothing yet
SELECT analytics.upsert_tenant('00000000-0000-4000-8000-0000000000e0', 'Empty Pro', 'pro');
VACUUM ANALYZE;
SQL

export ANALYTICS_DB=$DB
source tools/cluster.sh
stack_ports_away
# the demo's limits: 20 requests/s per tenant, bursts of 40, Retry-After 1 s
export RATE_LIMIT=20r/s RATE_BURST=40 TEST_RATE_BURST=40 RETRY_AFTER=1
http/stack.sh start "$RUN" || { cat "$RUN"/*.log "$RUN"/nginx/error.log 2>/dev/null | tail -40; exit 1; }
source "$RUN/http.env"
export CHROMIUM=${CHROMIUM:-$(command -v chromium)}
rm -rf test/browser/artifacts && mkdir -p test/browser/artifacts
if ! node --test --test-concurrency=1 test/browser/; then
  failed+=(browser)
  echo "-- postgrest.log"; tail -20 "$RUN/postgrest.log"
  echo "-- nginx error.log"; tail -20 "$RUN/nginx/error.log"
fi
[[ -f test/browser/artifacts/timings.json ]] && { echo "-- measured"; cat test/browser/artifacts/timings.json; }
[[ -f test/browser/artifacts/ops-timings.json ]] && { echo "-- measured (operations section)"; cat test/browser/artifacts/ops-timings.json; }
if (( ${#failed[@]} )); then echo "dashboard suites failed: ${failed[*]}"; exit 1; fi
