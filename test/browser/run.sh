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
-- the demo's price list (tools/demo.sh): llama-3.1-70b stays unpriced
SELECT analytics.set_model_price(v.model, v.i, v.o, v.c, v.w, (current_date - 90)::timestamp AT TIME ZONE 'UTC')
FROM (VALUES ('gpt-4o', 2.50, 10.00, 1.25, 3.125), ('gpt-4o-mini', 0.15, 0.60, 0.075, 0.1875),
             ('claude-sonnet-4', 3.00, 15.00, 0.30, 3.75)) AS v(model, i, o, c, w);
CALL analytics.rollup_job();
-- custom metrics (ops_costs.test.mjs): the platform's gauge and counter,
-- a point every 30 minutes over 20 days; the enterprise tenant's timer with
-- two tag sets, every 20 minutes over 10 days; the pro tenant's gauge
SELECT analytics.record_metrics(NULL, (SELECT jsonb_agg(jsonb_build_object('metric_name', 'queue.depth', 'value', 10 + i % 37,
         'unit', 'jobs', 'tags', jsonb_build_object('env', CASE WHEN i % 3 = 0 THEN 'dev' ELSE 'prod' END),
         'timestamp', now() - make_interval(mins => 30 * i + 1))) FROM generate_series(0, 959) i));
SELECT analytics.record_metrics(NULL, (SELECT jsonb_agg(jsonb_build_object('metric_name', 'jobs.done', 'value', 1 + i % 5,
         'metric_type', 'counter', 'timestamp', now() - make_interval(mins => 30 * i + 2))) FROM generate_series(0, 959) i));
SELECT analytics.record_metrics('00000000-0000-4000-8000-000000000001', (SELECT jsonb_agg(jsonb_build_object(
         'metric_name', 'api.latency', 'value', 5 + (i * 7919) % 400 / 4.0, 'metric_type', 'timer', 'unit', 'ms',
         'tags', jsonb_build_object('env', CASE WHEN i % 4 = 0 THEN 'dev' ELSE 'prod' END, 'region', 'eu'),
         'timestamp', now() - make_interval(mins => 20 * i + 1))) FROM generate_series(0, 719) i));
SELECT analytics.record_metrics('00000000-0000-4000-8000-000000000002', (SELECT jsonb_agg(jsonb_build_object(
         'metric_name', 'pro.only', 'value', i, 'timestamp', now() - make_interval(mins => 60 * i + 1))) FROM generate_series(0, 99) i));
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
