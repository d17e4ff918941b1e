#!/usr/bin/env bash
# bench/probes.sh: speed of the extension's background worker (contract
# §6.5 health, issue 18, docs/health.md) probing SERVICES (default 100)
# platform services, interval 10 s, whose check_url is a local threaded
# Python HTTP server answering 200 at once.
#
#   - first cycle: wall time from their first due moment (all registered in
#     one transaction: next_probe_at = its now()) until every service has a
#     check recorded in analytics.health_checks (polled every 0.1 s, so
#     +-0.1 s), and from the checks themselves: the last first checked_at
#     minus the due moment;
#   - then CYCLES (default 4) more cycles: per cycle the span of its
#     checked_at over the services (first to last probe of the cycle) and
#     the lag of each probe behind its due moment (the previous checked_at
#     + 10 s), median and max.
# Target (the issue): a cycle of 100 services well within the 10 s interval.
#
# A cluster of one's own with analytics and pg_cron preloaded,
# analytics.worker_database = BENCH_DB, analytics.delivery_allow_private =
# on (the server is on loopback) and the default worker settings
# (worker_max_concurrency 8, health_timeout_ms 5000).  Services named
# bench-probe-* are removed at the start and at the end.
#
# Run (private PG of `privpg NAME` in PATH/PG_CONFIG):
#   BENCH_DIR=/tmp/cl-bench18 BENCH_PORT=57100 bench/probes.sh
# Defaults: BENCH_DIR .cluster/probes-bench, BENCH_PORT a free one from
# 57100, BENCH_DB analytics_pbench.  The cluster is left running
# (cluster_stop DIR to stop it).  Not part of make test.
BENCH_DIR=${BENCH_DIR:-"$(cd "$(dirname "$0")/.." && pwd)/.cluster/probes-bench"}
BENCH_DB=${BENCH_DB:-analytics_pbench}
source "$(dirname "$0")/lib.sh"
SERVICES=${SERVICES:-100}
CYCLES=${CYCLES:-4}
CLUSTER_EXTRA_CONF="analytics.delivery_allow_private = on
jit = off" bench_own_cluster "$BENCH_DIR" "${BENCH_PORT:-$(free_port 57100)}" "$BENCH_DB"
echo "load: $(uptime | sed 's/.*load average/load average/')"

WORK=$(mktemp -d /tmp/probes-bench.XXXXXX)
SERVER_PID=
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null
  bench_psql -c "DELETE FROM analytics.services WHERE tenant_id IS NULL AND service_name LIKE 'bench-probe-%'" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# The worker connects to BENCH_DB; it looks for the extension every 10 s.
for ((i = 0; i < 400; i++)); do
  [[ -n $(bench_psql -tA -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'analytics worker' AND datname = current_database()") ]] && break
  sleep 0.1
done
[[ $i -lt 400 ]] || { echo "bench: no analytics worker in $BENCH_DB" >&2; exit 1; }

cat >"$WORK/server.py" <<'PY'
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
# (a listen backlog of 128, not socketserver's 5: a full backlog drops
# connection attempts, which the client retries after a second)
http.server.ThreadingHTTPServer.request_queue_size = 128
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$WORK/server.py" "$WORK/port" &
SERVER_PID=$!
for ((i = 0; i < 100; i++)); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")

bench_psql -c "DELETE FROM analytics.services WHERE tenant_id IS NULL AND service_name LIKE 'bench-probe-%'" >/dev/null
# Warm-up: the worker has found the extension once it probes one service.
bench_psql -c "SELECT analytics.register_service(NULL, 'bench-probe-warm', 'api', 'http://127.0.0.1:$PORT/health', 10)" >/dev/null
for ((i = 0; i < 300; i++)); do
  [[ $(bench_psql -tA -c "SELECT count(*) FROM analytics.health_checks c JOIN analytics.services s USING (service_id) WHERE s.service_name = 'bench-probe-warm'") -gt 0 ]] && break
  sleep 0.1
done
[[ $i -lt 300 ]] || { echo "bench: the worker probed nothing in 30 s" >&2; exit 1; }
bench_psql -tA -c "SELECT 'warm-up probe: ' || status || ' ' || round(response_time_ms::numeric, 1) || ' ms ' || coalesce(error_message, '') FROM analytics.health_checks c JOIN analytics.services s USING (service_id) WHERE s.service_name = 'bench-probe-warm'"
bench_psql -c "DELETE FROM analytics.services WHERE service_name = 'bench-probe-warm'" >/dev/null

t0=$(date +%s.%N)
DUE=$(bench_psql -tA <<SQL
BEGIN;
SELECT count(analytics.register_service(NULL, 'bench-probe-' || lpad(g::text, 4, '0'), 'api',
                                        'http://127.0.0.1:$PORT/health/' || g, 10))
FROM generate_series(1, $SERVICES) g;
SELECT now();
COMMIT;
SQL
)
DUE=$(echo "$DUE" | tail -1)
n=0
for ((i = 0; i < 600; i++)); do
  n=$(bench_psql -tA -c "SELECT count(DISTINCT c.service_id) FROM analytics.health_checks c JOIN analytics.services s USING (service_id) WHERE s.service_name LIKE 'bench-probe-%'")
  [[ $n -ge $SERVICES ]] && break
  sleep 0.1
done
t1=$(date +%s.%N)
echo
echo "first cycle of $SERVICES services: $n checked; wall time from registration to all recorded: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s (polled every 0.1 s)"
bench_psql -tA -F ' ' <<SQL
SELECT 'from the due moment to the last first check: ' || round(extract(epoch FROM max(f) - '$DUE'::timestamptz)::numeric, 3)
       || ' s; first check: ' || round(extract(epoch FROM min(f) - '$DUE'::timestamptz)::numeric, 3) || ' s after due'
FROM (SELECT min(c.checked_at) f FROM analytics.health_checks c JOIN analytics.services s USING (service_id)
      WHERE s.service_name LIKE 'bench-probe-%' GROUP BY c.service_id) x;
SELECT 'statuses: ' || string_agg(status || ' ' || n, ', ') FROM (
  SELECT c.status, count(*) n FROM analytics.health_checks c JOIN analytics.services s USING (service_id)
  WHERE s.service_name LIKE 'bench-probe-%' GROUP BY 1) x;
SQL

# More cycles: wait until every service has CYCLES + 1 checks (at most
# (CYCLES + 2) x 10 s + 30 s).
limit=$(( (CYCLES + 2) * 100 + 300 ))
for ((i = 0; i < limit; i++)); do
  m=$(bench_psql -tA -c "SELECT coalesce(min(k), 0) FROM (SELECT s.service_id, count(c.*) k FROM analytics.services s LEFT JOIN analytics.health_checks c USING (service_id) WHERE s.service_name LIKE 'bench-probe-%' GROUP BY 1) x")
  [[ $m -ge $((CYCLES + 1)) ]] && break
  sleep 0.1
done
echo
printf '%-6s %9s %10s %12s %12s %s\n' cycle services "span s" "lag med s" "lag max s" statuses
bench_psql -tA -F ' ' <<SQL | while read -r k n span med mx st; do printf '%-6s %9s %10s %12s %12s %s\n' "$k" "$n" "$span" "$med" "$mx" "$st"; done
WITH c AS (
  SELECT c.service_id, c.checked_at, c.status,
         row_number() OVER w AS k,
         c.checked_at - (lag(c.checked_at) OVER w + interval '10 seconds') AS lag
  FROM analytics.health_checks c JOIN analytics.services s USING (service_id)
  WHERE s.service_name LIKE 'bench-probe-%'
  WINDOW w AS (PARTITION BY c.service_id ORDER BY c.checked_at))
SELECT k, count(*), round(extract(epoch FROM max(checked_at) - min(checked_at))::numeric, 3),
       coalesce(round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY lag))::numeric, 3)::text, '-'),
       coalesce(round(extract(epoch FROM max(lag))::numeric, 3)::text, '-'),
       string_agg(DISTINCT status, ',')
FROM c WHERE k <= $CYCLES + 1 GROUP BY k ORDER BY k;
SQL
echo "(cycle 1 = the first cycle above; span = last minus first checked_at of the cycle; lag = checked_at - (previous checked_at + 10 s))"
bench_psql -tA -c "SELECT 'response_time_ms: median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms)::numeric, 2) || ', max ' || round(max(response_time_ms)::numeric, 2) FROM analytics.health_checks c JOIN analytics.services s USING (service_id) WHERE s.service_name LIKE 'bench-probe-%'"
echo "load: $(uptime | sed 's/.*load average/load average/')"
