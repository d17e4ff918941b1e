#!/usr/bin/env bash
# bench/http.sh: HTTP throughput and latency (wrk, loopback) of the stack in
# http/ (nginx -> PostgREST 12 -> PostgreSQL), in one run:
#   floor        GET /rpc/ping on PostgREST directly: a trivial SQL function
#                (analytics_http.ping), the cost of PostgREST itself
#   uncached     GET /rpc/usage_summary on PostgREST directly (30 days)
#   nginx:<fn>   the seed alias through nginx and its gateway with
#                Cache-Control: no-cache (never answered from the cache):
#                usage_summary, token_trends, agent_activity (30 days), and
#                two §6 functions at their default periods: summary
#                (/api/analytics/summary) and error_summary
#                (/api/analytics/errors/summary)
#   cached       GET /analytics/usage-summary through nginx, answered from
#                nginx's cache (one tenant, one token, warmed first)
# Targets: cached >= 10x uncached requests/s; uncached (and nginx:usage_summary)
# >= 50% of the floor; the others are reported as a share of the floor.  The
# floor runs first and last; the higher of the two is the floor.
# Today's events: the data set ends today; the minute job
# (analytics.increment_job) has merged them, as in production.
# Own cluster in .cluster/bench-http with BENCH_EVENTS events over
# BENCH_DAYS days (rolled up); WRK_THREADS, WRK_CONNS, WRK_SECONDS.
# Not part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source tools/cluster.sh
tools/deps.sh bench
N=${BENCH_EVENTS:-1000000}
DAYS=${BENCH_DAYS:-90}
THREADS=${WRK_THREADS:-2} CONNS=${WRK_CONNS:-16} SECS=${WRK_SECONDS:-10}
DIR=$ROOT/.cluster/bench-http
RUN=$DIR/http
DB=analytics_bench_http

make -s >/dev/null && if [[ $(id -u) -eq 0 ]]; then make -s install >/dev/null; else sudo -n make -s install >/dev/null; fi
(cd http && npm ci --no-audit --no-fund --loglevel=error)
stop() { http/stack.sh stop "$RUN"; cluster_stop "$DIR"; }
trap stop EXIT
cluster_stop "$DIR"
CLUSTER_EXTRA_CONF="shared_buffers = '1GB'
jit = off
fsync = off
synchronous_commit = off" cluster_start "$DIR" "$(free_port 55900)" "$DB"
have=$(psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")
if [[ "$have" != 1 ]] || [[ $(psql -X -q -d "$DB" -tAc "SELECT count(*) FROM analytics.usage_events" 2>/dev/null || echo 0) -lt $N ]]; then
  echo "bench: generating $N events over $DAYS days"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pg_cron;
CREATE EXTENSION analytics;
\i datagen/generate.sql
SELECT * FROM analytics_datagen.generate($N, $DAYS, (now() AT TIME ZONE 'UTC')::date);
CALL analytics.rollup_job();
VACUUM ANALYZE;
SQL
fi
# Today's rollups current, as the minute job keeps them.
psql -X -q -d "$DB" -c "CALL analytics.increment_job()" >/dev/null

export ANALYTICS_DB=$DB RATE_LIMIT=1000000r/s RATE_BURST=1000000 CONN_PER_TENANT=1000 PGRST_DB_POOL=${PGRST_DB_POOL:-10}
http/stack.sh start "$RUN" >/dev/null
source "$RUN/http.env"
T=$(psql -X -q -d "$DB" -tAc "SELECT tenant_id FROM analytics.tenant_daily GROUP BY 1 ORDER BY sum(events) DESC LIMIT 1")
TOKEN=$(node http/jwt.js "{\"role\":\"analytics_tenant\",\"tenant_id\":\"$T\"}" 3600)
AUTH="Authorization: Bearer $TOKEN"
NGINX=http://127.0.0.1:$HTTP_PORT PGRST=http://127.0.0.1:$PGRST_PORT

[[ $(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$NGINX/analytics/usage-summary") == 200 ]] || { echo "bench: usage-summary fails" >&2; exit 1; }
[[ $(curl -s -D - -o /dev/null -H "$AUTH" "$NGINX/analytics/usage-summary" | grep -ci 'x-cache-status: HIT') == 1 ]] || { echo "bench: no cache HIT" >&2; exit 1; }
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" -H "Accept-Profile: analytics_http" "$PGRST/rpc/ping") == 200 ]] || { echo "bench: ping fails" >&2; exit 1; }

# run NAME URL [HEADER...]: wrk, then "NAME rps p50 p99" on stdout.
declare -A RPS P50 P99
run() {
  local name=$1 url=$2; shift 2
  local hdr=() h out
  for h in "$@"; do hdr+=(-H "$h"); done
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "${hdr[@]}" "$url" >"$RUN/wrk-$name.txt"
  out=$(cat "$RUN/wrk-$name.txt")
  grep -q 'Non-2xx' <<<"$out" && { echo "bench: $name had non-2xx answers" >&2; cat "$RUN/wrk-$name.txt" >&2; exit 1; }
  RPS[$name]=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  P50[$name]=$(awk '$1 == "50%" {print $2}' <<<"$out")
  P99[$name]=$(awk '$1 == "99%" {print $2}' <<<"$out")
}
echo "bench: wrk -t$THREADS -c$CONNS -d${SECS}s on 127.0.0.1, tenant $T ($N events over $DAYS days, 2 CPU cores shared by wrk and the servers)"
run floor1   "$PGRST/rpc/ping" "$AUTH" "Accept-Profile: analytics_http"
run uncached "$PGRST/rpc/usage_summary" "$AUTH"
run nginx:usage_summary  "$NGINX/analytics/usage-summary" "$AUTH" "Cache-Control: no-cache"
run nginx:token_trends   "$NGINX/analytics/token-trends" "$AUTH" "Cache-Control: no-cache"
run nginx:agent_activity "$NGINX/analytics/agent-activity" "$AUTH" "Cache-Control: no-cache"
run nginx:summary        "$NGINX/api/analytics/summary" "$AUTH" "Cache-Control: no-cache"
run nginx:error_summary  "$NGINX/api/analytics/errors/summary" "$AUTH" "Cache-Control: no-cache"
run cached   "$NGINX/analytics/usage-summary" "$AUTH"
# The floor again, last: the higher of its two runs is the floor (a
# machine that was busier during one of them would flatter every ratio).
run floor2   "$PGRST/rpc/ping" "$AUTH" "Accept-Profile: analytics_http"
if awk -v a="${RPS[floor1]}" -v b="${RPS[floor2]}" 'BEGIN { exit !(a >= b) }'; then f=floor1; else f=floor2; fi
RPS[floor]=${RPS[$f]} P50[floor]=${P50[$f]} P99[floor]=${P99[$f]}
echo "bench: floor runs ${RPS[floor1]} and ${RPS[floor2]} requests/s; the floor is the higher"

printf '%-22s %12s %10s %10s %9s\n' case 'requests/s' p50 p99 '% floor'
for c in cached uncached nginx:usage_summary nginx:token_trends nginx:agent_activity nginx:summary nginx:error_summary floor; do
  printf '%-22s %12s %10s %10s %8s%%\n' "$c" "${RPS[$c]}" "${P50[$c]}" "${P99[$c]}" \
    "$(awk -v a="${RPS[$c]}" -v b="${RPS[floor]}" 'BEGIN {printf "%.0f", 100 * a / b}')"
done
ratio_cache=$(awk -v a="${RPS[cached]}" -v b="${RPS[uncached]}" 'BEGIN {printf "%.1f", a / b}')
ratio_floor=$(awk -v a="${RPS[uncached]}" -v b="${RPS[floor]}" 'BEGIN {printf "%.0f", 100 * a / b}')
ok1=$(awk -v r="$ratio_cache" 'BEGIN {print (r >= 10) ? "met" : "MISSED"}')
ok2=$(awk -v r="$ratio_floor" 'BEGIN {print (r >= 50) ? "met" : "MISSED"}')
echo "cached / uncached = ${ratio_cache}x (target >= 10x: $ok1)"
echo "uncached / floor  = ${ratio_floor}% (target >= 50%: $ok2)"
ratio_nginx=$(awk -v a="${RPS[nginx:usage_summary]}" -v b="${RPS[floor]}" 'BEGIN {printf "%.0f", 100 * a / b}')
echo "nginx:usage_summary / floor = ${ratio_nginx}% (target >= 50%: $(awk -v r="$ratio_nginx" 'BEGIN {print (r >= 50) ? "met" : "MISSED"}'))"
