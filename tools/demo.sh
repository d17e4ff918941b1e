#!/usr/bin/env bash
# demo.sh start|stop: what `make demo` and `make demo-stop` run.
#
# start: installs what is missing, builds and installs the extension, starts
# a private PostgreSQL 15 cluster in .cluster/demo (pg_cron preloaded),
# (re)creates the extension in database "analytics", generates demo data and
# prints real results, then starts the HTTP front (PostgREST + nginx, see
# http/stack.sh, run folder .cluster/demo-http) and prints a signed token for
# a demo tenant of each tier with curl commands.  Alerts (docs/alerts.md):
# a local webhook receiver (test/alerts/receiver.py, run folder
# .cluster/demo-alerts) gets the signed notification of a usage rule that
# fires on events recorded now.  Running it again rebuilds the extension and
# the data on the same cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/cluster.sh
DEMO_DIR=$(pwd)/.cluster/demo
DEMO_DB=analytics
DEMO_EVENTS=${DEMO_EVENTS:-300000}
DEMO_DAYS=${DEMO_DAYS:-90}
HTTP_RUN=$(pwd)/.cluster/demo-http
ALERTS_RUN=$(pwd)/.cluster/demo-alerts
DELIVERIES_LOG=$DEMO_DIR/deliveries.log

# The demo's webhook receiver (started by start, stopped by stop).
receiver_stop() {
  if [[ -s "$ALERTS_RUN/receiver.pid" ]]; then
    local pid
    pid=$(cat "$ALERTS_RUN/receiver.pid")
    # (only if that pid is still our receiver)
    if grep -q "test/alerts/receiver.py" "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    rm -f "$ALERTS_RUN/receiver.pid"
  fi
}

case "${1:-start}" in
  stop)
    receiver_stop
    http/stack.sh stop "$HTTP_RUN"
    cluster_stop "$DEMO_DIR"
    echo "demo: stopped"
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

tools/deps.sh
echo "demo: building and installing the extension"
make -s >/dev/null
if [[ $(id -u) -eq 0 ]]; then make -s install >/dev/null; else sudo -n make -s install >/dev/null; fi

# A restart loads the freshly installed library (it is preloaded).
receiver_stop
http/stack.sh stop "$HTTP_RUN"
cluster_stop "$DEMO_DIR"
port=$(free_port 55433)
# (the demo's health probes reach its own nginx and PostgREST on 127.0.0.1:
# loopback destinations are allowed on this private cluster only; the
# default refuses them, docs/health.md)
CLUSTER_EXTRA_CONF="analytics.delivery_allow_private = on" cluster_start "$DEMO_DIR" "$port" "$DEMO_DB"
echo "demo: PostgreSQL 15 running in $DEMO_DIR/data (port $PGPORT, socket $PGHOST)"

psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DEMO_DB'" | grep -q 1 \
  || psql -X -q -d postgres -c "CREATE DATABASE $DEMO_DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DEMO_DB" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
DROP SCHEMA IF EXISTS analytics_datagen CASCADE;
DROP EXTENSION IF EXISTS analytics CASCADE;
CREATE EXTENSION analytics;
SQL
psql -X -q -v ON_ERROR_STOP=1 -d "$DEMO_DB" -f datagen/generate.sql >/dev/null
echo "demo: generating $DEMO_EVENTS events over $DEMO_DAYS days"
psql -X -q -v ON_ERROR_STOP=1 -d "$DEMO_DB" -c \
  "SELECT * FROM analytics_datagen.generate($DEMO_EVENTS, $DEMO_DAYS, (now() AT TIME ZONE 'UTC')::date - 1)" >/dev/null
echo "demo: running the rollup job (every day of the demo data) and scheduling the nightly and minute jobs with pg_cron"
psql -X -q -v ON_ERROR_STOP=1 -d "$DEMO_DB" >/dev/null <<'SQL'
-- The demo's price list (USD per million input, output, cached-input and
-- cache-write tokens), global and in force since 90 days ago; llama-3.1-70b
-- is left unpriced until the re-pricing shown below.
SELECT analytics.set_model_price(v.model, v.i, v.o, v.c, v.w, (current_date - 90)::timestamp AT TIME ZONE 'UTC')
FROM (VALUES ('gpt-4o', 2.50, 10.00, 1.25, 3.125), ('gpt-4o-mini', 0.15, 0.60, 0.075, 0.1875),
             ('claude-sonnet-4', 3.00, 15.00, 0.30, 3.75)) AS v(model, i, o, c, w)
WHERE NOT EXISTS (SELECT 1 FROM analytics.model_prices p WHERE p.model = v.model);
CALL analytics.rollup_job();
CALL analytics.increment_job();
SELECT analytics.schedule_rollup();
SELECT analytics.schedule_increments();
SELECT analytics.schedule_retention();
-- Custom metrics (docs/metrics.md): a platform gauge (the seed 004 SSE
-- connections) and a tenant's timer over the last hour, with tags; their
-- rollup and retention jobs.
SELECT analytics.record_metrics(NULL, (SELECT jsonb_agg(jsonb_build_object(
           'metric_name', 'registry.active_sse_connections', 'value', 40 + (i % 17), 'metric_type', 'gauge',
           'timestamp', now() - (60 - i) * interval '1 minute')) FROM generate_series(1, 60) i));
SELECT analytics.record_metrics('00000000-0000-4000-8000-000000000001', (SELECT jsonb_agg(jsonb_build_object(
           'metric_name', 'checkout.latency', 'value', 80 + (i * 37) % 400, 'metric_type', 'timer', 'unit', 'ms',
           'tags', jsonb_build_object('region', CASE WHEN i % 3 = 0 THEN 'eu' ELSE 'us' END),
           'timestamp', now() - (120 - i) * interval '30 seconds')) FROM generate_series(1, 120) i));
SELECT analytics.schedule_metrics_rollup();
SELECT analytics.schedule_metrics_cleanup();
VACUUM ANALYZE;
SQL

psql -X -v ON_ERROR_STOP=1 -d "$DEMO_DB" -f demo/show.sql
psql -X -v ON_ERROR_STOP=1 -d "$DEMO_DB" -f demo/costs.sql

echo "demo: building the dashboard and starting the HTTP front (PostgREST 12 + nginx)"
(cd http && npm ci --no-audit --no-fund --loglevel=error)
(cd docs/api-tools && npm ci --no-audit --no-fund --loglevel=error)   # /docs/ and /openapi.json
(cd dashboard && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
ANALYTICS_DB=$DEMO_DB http/stack.sh start "$HTTP_RUN"
source "$HTTP_RUN/http.env"
echo "demo: health (docs/health.md): the background worker probes the demo's own nginx and PostgREST every 10 s; an MCP server pushes its checks and circuit states"
psql -X -q -v ON_ERROR_STOP=1 -d "$DEMO_DB" >/dev/null <<SQL
SELECT analytics.register_service(NULL, 'gateway', 'api', 'http://127.0.0.1:$HTTP_PORT/ready', 10);
SELECT analytics.register_service(NULL, 'postgrest', 'api', 'http://127.0.0.1:$PGRST_ADMIN_PORT/ready', 10);
SELECT analytics.register_service('00000000-0000-4000-8000-000000000001', 'mcp-search', 'mcp_server', NULL, 60);
-- The last two hours of the MCP server: a check a minute, an outage of 9
-- minutes half an hour ago with its circuit opening and closing.
SELECT analytics.record_health_check('00000000-0000-4000-8000-000000000001', 'mcp-search',
         CASE WHEN m BETWEEN 30 AND 38 THEN 'unhealthy' WHEN m % 17 = 0 THEN 'degraded' ELSE 'healthy' END,
         CASE WHEN m BETWEEN 30 AND 38 THEN NULL ELSE 40 + (m * 7) % 90 END,
         CASE WHEN m BETWEEN 30 AND 38 THEN 'connection refused' END, now() - m * interval '1 minute')
FROM generate_series(120, 0, -1) m;
SELECT analytics.record_circuit_state('00000000-0000-4000-8000-000000000001', 'mcp-search', 'open', now() - interval '37 minutes');
SELECT analytics.record_circuit_state('00000000-0000-4000-8000-000000000001', 'mcp-search', 'half_open', now() - interval '30 minutes');
SELECT analytics.record_circuit_state('00000000-0000-4000-8000-000000000001', 'mcp-search', 'closed', now() - interval '29 minutes');
SQL
echo "demo: alerts (docs/alerts.md): a usage rule of the enterprise tenant fires on events recorded now; its webhook goes to a local receiver"
mkdir -p "$ALERTS_RUN"
rm -f "$ALERTS_RUN/port" "$ALERTS_RUN/secrets"
: >"$DELIVERIES_LOG"
setsid python3 test/alerts/receiver.py "$ALERTS_RUN/port" "$DELIVERIES_LOG" "$ALERTS_RUN/secrets" </dev/null >"$ALERTS_RUN/receiver.out" 2>&1 &
echo $! >"$ALERTS_RUN/receiver.pid"
for ((i = 0; i < 100; i++)); do [[ -s "$ALERTS_RUN/port" ]] && break; sleep 0.1; done
[[ -s "$ALERTS_RUN/port" ]] || { echo "demo: the webhook receiver did not start ($ALERTS_RUN/receiver.out)" >&2; exit 1; }
RECEIVER_URL=http://127.0.0.1:$(cat "$ALERTS_RUN/port")/demo
ALERT_DELIVERY=$(psql -X -At -v ON_ERROR_STOP=1 -d "$DEMO_DB" <<SQL
SET client_min_messages = warning;
-- (a demo re-run starts the alerts afresh)
DELETE FROM analytics.alert_incidents;
DELETE FROM analytics.alert_rules;
DELETE FROM analytics.notification_channels;
CREATE TEMP TABLE ch AS
SELECT analytics_api.create_channel('webhook', '$RECEIVER_URL', "tenantId" => '00000000-0000-4000-8000-000000000001') AS c;
\\o $ALERTS_RUN/secrets
SELECT c ->> 'secret' FROM ch;
\\o
SELECT analytics_api.create_alert_rule(rule => jsonb_build_object(
         'name', 'demo: busy tenant', 'metric_name', 'events.count', 'condition_operator', 'gt', 'threshold', 0,
         'severity', 'warning', 'description', 'any event in the last 5 minutes (make demo)', 'window_seconds', 300,
         'duration_seconds', 0, 'channels', jsonb_build_array((SELECT (c ->> 'id')::bigint FROM ch))),
       "tenantId" => '00000000-0000-4000-8000-000000000001') IS NOT NULL AS rule_created \\g /dev/null
-- a burst of tool calls, now
SELECT analytics.record_events((SELECT jsonb_agg(jsonb_build_object(
         'tenant_id', '00000000-0000-4000-8000-000000000001', 'event_type', 'tool_call', 'tool_name', 'search',
         'mcp_server', 'mcp-search', 'success', i % 4 <> 0, 'latency_ms', 40 + i * 3,
         'occurred_at', now() - i * interval '5 seconds')) FROM generate_series(1, 12) i)) \\g /dev/null
SELECT analytics.evaluate_alerts() \\g /dev/null
SELECT analytics.schedule_alerts() \\g /dev/null
SELECT max(o.delivery_id) FROM analytics.notification_outbox o;
SQL
)
ALERT_DELIVERY=$(echo "$ALERT_DELIVERY" | tail -1)
for ((i = 0; i < 150; i++)); do
  [[ "$(psql -X -At -d "$DEMO_DB" -c "SELECT status FROM analytics.notification_outbox WHERE delivery_id = ${ALERT_DELIVERY:-0}")" == succeeded ]] && break
  sleep 0.2
done
psql -X -d "$DEMO_DB" -c "SELECT i.incident_id, i.rule_name, i.status, i.value, i.threshold, o.event_type, o.status AS delivery, o.attempts
                          FROM analytics.alert_incidents i JOIN analytics.notification_outbox o USING (incident_id) ORDER BY o.delivery_id"
echo "demo: the receiver got $(grep -c . "$DELIVERIES_LOG") delivery(ies), signature verified: $(grep -c '"verified": true' "$DELIVERIES_LOG")"

token() { node http/jwt.js "{\"role\":\"analytics_tenant\",\"tenant_id\":\"$1\"}" 86400; }
TOKEN_ENTERPRISE=$(token 00000000-0000-4000-8000-000000000001)
TOKEN_PRO=$(token 00000000-0000-4000-8000-000000000002)
TOKEN_FREE=$(token 00000000-0000-4000-8000-000000000005)
TOKEN_OPERATOR=$(node http/jwt.js '{"role":"analytics_operator"}' 86400)
API=http://127.0.0.1:$HTTP_PORT

cat <<MSG

demo: the cluster keeps running. Connect with:
  psql -h $PGHOST -p $PGPORT -U postgres $DEMO_DB

demo: the HTTP API is at $API (nginx; PostgREST itself on 127.0.0.1:$PGRST_PORT).
Tokens (HS256, valid 24 h; the secret is in $HTTP_RUN/jwt_secret):
  enterprise tenant 00000000-0000-4000-8000-000000000001:
    TOKEN_ENTERPRISE=$TOKEN_ENTERPRISE
  pro tenant 00000000-0000-4000-8000-000000000002:
    TOKEN_PRO=$TOKEN_PRO
  free tenant 00000000-0000-4000-8000-000000000005 (403 while analytics.free_tier_access is off):
    TOKEN_FREE=$TOKEN_FREE
  the platform's operator (every tenant; ?tenantId=… narrows to one):
    TOKEN_OPERATOR=$TOKEN_OPERATOR

The dashboard, signed in as the enterprise tenant (the token is in the URL
fragment, which the browser never sends to the server):
  $API/dashboard/#token=$TOKEN_ENTERPRISE
(open $API/dashboard/ alone to paste a token, e.g. TOKEN_FREE to see the free-tier answer)
The API, described (OpenAPI 3.1, docs/openapi.yaml): $API/docs/  ($API/openapi.json, $API/openapi.yaml, and $API/ itself)
The operations section (agents, tools, costs, custom metrics), as the operator: $API/dashboard/#section=ops&token=$TOKEN_OPERATOR

Try (run a second time: X-Cache-Status turns from MISS to HIT):
  curl -i -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/analytics/usage-summary"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/analytics/agent-activity?from=$(date -u -d '-6 days' +%F)&to=$(date -u +%F)"
  curl -H "Authorization: Bearer $TOKEN_PRO" "$API/analytics/token-trends?granularity=week"
  curl -H "Authorization: Bearer $TOKEN_PRO" "$API/api/v1/analytics/tokens?days=7"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/v1/analytics/agents/activity?days=30"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/v1/analytics/agents"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/rpc/call_patterns"
  curl -i -H "Authorization: Bearer $TOKEN_FREE" "$API/analytics/usage-summary"
  curl -i "$API/analytics/usage-summary"
Operator analytics (contract §6.3; docs/operator.md):
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/analytics/summary?period=7d"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/analytics/tools/usage?period=24h"
  curl -H "Authorization: Bearer $TOKEN_OPERATOR" "$API/api/analytics/agents/usage?period=30d"
  curl -H "Authorization: Bearer $TOKEN_OPERATOR" "$API/api/v1/analytics/top-agents?metric=tokens&top=5"
  curl -H "Authorization: Bearer $TOKEN_OPERATOR" "$API/api/analytics/errors/summary?tenantId=00000000-0000-4000-8000-000000000002"
  curl -H "Authorization: Bearer $TOKEN_OPERATOR" "$API/api/v1/analytics/platform/trends?period=14d"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/analytics/workflows/performance"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/analytics/sessions/activity?hours=24"
Costs (contract §6.4; docs/costs.md):
  curl -H "Authorization: Bearer $TOKEN_OPERATOR" "$API/api/v1/analytics/costs?period=30d&group_by=model"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/v1/analytics/costs?period=7d&group_by=agent"
  curl -H "Authorization: Bearer $TOKEN_OPERATOR" "$API/api/v1/analytics/costs/trend?period=14d&group_by=tenant&top=3"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/v1/analytics/costs/prices"
  curl -H "Authorization: Bearer $TOKEN_OPERATOR" -H "Content-Type: application/json" -d '{"model":"gpt-4o-mini","inputPerMillion":0.12,"outputPerMillion":0.48}' "$API/api/v1/analytics/costs/prices"
Health and SLA (contract §6.5; docs/health.md):
  curl -H "Authorization: Bearer $TOKEN_OPERATOR" "$API/api/v1/analytics/monitoring/health"
  curl -H "Authorization: Bearer $TOKEN_OPERATOR" "$API/api/v1/analytics/monitoring/sla/gateway?days=1"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/v1/analytics/monitoring/health/mcp-search?hours=2"
Custom metrics (contract §6.5; docs/metrics.md):
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/v1/analytics/metrics/checkout.latency/statistics?hours=24"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/v1/analytics/metrics/checkout.latency/time-series?hours=1&bucket=5m"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" -H "Content-Type: application/json" -d '{"metric_name":"checkout.latency","value":123,"metric_type":"timer","tags":{"region":"eu"}}' "$API/api/v1/analytics/metrics/record"
  curl "$API/api/analytics/health"
  curl "$API/metrics"     (from this host; elsewhere: -H "Authorization: Bearer $TOKEN_OPERATOR"; docs/prometheus.md)
Alerts (contract §6.6; docs/alerts.md): the rule "demo: busy tenant" of the enterprise tenant
fired on the events just recorded; evaluate_alerts runs every minute (pg_cron) and the
background worker posted the signed incident.opened to a local receiver, which logs every
delivery (with its Standard Webhooks signature checked) to:
  $DELIVERIES_LOG
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/v1/analytics/alerts/incidents"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/api/v1/analytics/alerts/rules"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" "$API/rpc/deliveries"
  curl -H "Authorization: Bearer $TOKEN_ENTERPRISE" -H "Content-Type: application/json" -d '{"note":"on it"}' "$API/api/v1/analytics/alerts/incidents/$(psql -X -At -d "$DEMO_DB" -c "SELECT max(incident_id) FROM analytics.alert_incidents")/acknowledge"
Stop it all with: make demo-stop
MSG
