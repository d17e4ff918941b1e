#!/usr/bin/env bash
# run.sh: the dashboard suites of make test.
#   1. builds the dashboard (npm ci from the lockfile, esbuild; the build
#      fails over the bundle budget) and runs the unit tests of its data
#      shaping (test/dashboard, node's test runner);
#   2. loads 90 days of demo data into a database of its own in the running
#      cluster (PGHOST/PGPORT/PGUSER), rolls it up, starts PostgREST + nginx
#      (http/stack.sh) serving the built dashboard, and drives Debian's
#      chromium with playwright-core through test/browser/*.test.mjs (the
#      tenant views: dashboard.test.mjs; the operations section: ops*.test.mjs,
#      its service health and incidents: ops_health.test.mjs; the API's
#      rendered description at /docs/: docs.test.mjs).
# Screenshots and the measured timings go to test/browser/artifacts/.
# run.sh FILE... runs only those browser test files.
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
-- service health (ops_health.test.mjs): pushed checks every 5 minutes (a
-- pushed check holds 300 s), ending 10 minutes ago (the test pushes the
-- current ones); the platform's vector-db over 8 days with an hour of outage
-- 2 days ago, and its circuit breaker opening, half-opening and closing; the
-- enterprise tenant's MCP server over 3 days with an outage 6 hours ago; the
-- pro tenant's API; a platform service never checked
SELECT analytics.register_service(NULL, 'vector-db', 'database');
SELECT analytics.register_service(NULL, 'registry-api', 'api');
SELECT analytics.register_service('00000000-0000-4000-8000-000000000001', 'ent-mcp', 'mcp_server');
SELECT analytics.register_service('00000000-0000-4000-8000-000000000002', 'pro-api', 'api');
SELECT count(analytics.record_health_check(v.t, v.name,
         CASE WHEN i BETWEEN v.down AND v.down + 11 THEN 'unhealthy' WHEN i BETWEEN v.down + 12 AND v.down + 14 THEN 'degraded' ELSE 'healthy' END,
         CASE WHEN i BETWEEN v.down AND v.down + 11 THEN NULL ELSE 20 + i % 7 END,
         CASE WHEN i BETWEEN v.down AND v.down + 11 THEN 'connection refused' END,
         date_trunc('minute', now()) - make_interval(mins => 10 + 5 * i)))
FROM (VALUES (NULL::uuid, 'vector-db', 2303, 576), ('00000000-0000-4000-8000-000000000001', 'ent-mcp', 863, 60),
             ('00000000-0000-4000-8000-000000000002', 'pro-api', 287, -100)) v(t, name, n, down),
     LATERAL generate_series(v.n, 0, -1) i;
SELECT analytics.record_circuit_state(v.t, v.name, c.state, date_trunc('minute', now()) - make_interval(mins => 10 + 5 * (v.down - c.k)))
FROM (VALUES (NULL::uuid, 'vector-db', 576), ('00000000-0000-4000-8000-000000000001', 'ent-mcp', 60)) v(t, name, down),
     (VALUES (0, 'open'), (11, 'half_open'), (12, 'closed')) c(k, state) ORDER BY v.name, c.k;
-- alerts (ops_health.test.mjs): three rules of the enterprise tenant and one
-- of the pro tenant on failed calls of the tool alert-probe, five failures a
-- minute ago, evaluated: four open incidents
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, success, tool_name, mcp_server, error_code)
SELECT t, now() - interval '1 minute', 'tool_call', false, 'alert-probe', 'mcp-probe', 'probe_failed'
FROM unnest(ARRAY['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']::uuid[]) t, generate_series(1, 5);
SELECT set_config('request.jwt.claims', jsonb_build_object('tenant_id', r.t)::text, false),
       analytics_api.create_alert_rule(rule => jsonb_build_object('name', r.name, 'metric_name', 'events.failures',
         'condition_operator', 'gt', 'threshold', 3, 'severity', r.severity, 'duration_seconds', 0,
         'window_seconds', 600, 'tags', jsonb_build_object('tool', 'alert-probe')))
FROM (VALUES ('00000000-0000-4000-8000-000000000001', 'probe failures a', 'error'), ('00000000-0000-4000-8000-000000000001', 'probe failures b', 'warning'),
             ('00000000-0000-4000-8000-000000000001', 'probe failures c', 'critical'), ('00000000-0000-4000-8000-000000000002', 'pro probe failures', 'info')) r(t, name, severity);
SELECT set_config('request.jwt.claims', '', false);
SELECT analytics.evaluate_alerts();
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
if ! node --test --test-concurrency=1 "${@:-test/browser/}"; then
  failed+=(browser)
  echo "-- postgrest.log"; tail -20 "$RUN/postgrest.log"
  echo "-- nginx error.log"; tail -20 "$RUN/nginx/error.log"
fi
[[ -f test/browser/artifacts/timings.json ]] && { echo "-- measured"; cat test/browser/artifacts/timings.json; }
[[ -f test/browser/artifacts/ops-timings.json ]] && { echo "-- measured (operations section)"; cat test/browser/artifacts/ops-timings.json; }
if (( ${#failed[@]} )); then echo "dashboard suites failed: ${failed[*]}"; exit 1; fi
