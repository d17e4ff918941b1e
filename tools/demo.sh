#!/usr/bin/env bash
# demo.sh start|stop: what `make demo` and `make demo-stop` run.
#
# start: installs what is missing, builds and installs the extension, starts
# a private PostgreSQL 15 cluster in .cluster/demo (pg_cron preloaded),
# (re)creates the extension in database "analytics", generates demo data and
# prints real results, then starts the HTTP front (PostgREST + nginx, see
# http/stack.sh, run folder .cluster/demo-http) and prints a signed token for
# a demo tenant of each tier with curl commands.  Running it again rebuilds
# the extension and the data on the same cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/cluster.sh
DEMO_DIR=$(pwd)/.cluster/demo
DEMO_DB=analytics
DEMO_EVENTS=${DEMO_EVENTS:-300000}
DEMO_DAYS=${DEMO_DAYS:-90}
HTTP_RUN=$(pwd)/.cluster/demo-http

case "${1:-start}" in
  stop)
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
http/stack.sh stop "$HTTP_RUN"
cluster_stop "$DEMO_DIR"
port=$(free_port 55433)
cluster_start "$DEMO_DIR" "$port" "$DEMO_DB"
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
VACUUM ANALYZE;
SQL

psql -X -v ON_ERROR_STOP=1 -d "$DEMO_DB" -f demo/show.sql
psql -X -v ON_ERROR_STOP=1 -d "$DEMO_DB" -f demo/costs.sql

echo "demo: building the dashboard and starting the HTTP front (PostgREST 12 + nginx)"
(cd http && npm ci --no-audit --no-fund --loglevel=error)
(cd dashboard && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
ANALYTICS_DB=$DEMO_DB http/stack.sh start "$HTTP_RUN"
source "$HTTP_RUN/http.env"
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
  curl "$API/api/analytics/health"
  curl "$API/metrics"     (from this host; elsewhere: -H "Authorization: Bearer $TOKEN_OPERATOR"; docs/prometheus.md)
Stop it all with: make demo-stop
MSG
