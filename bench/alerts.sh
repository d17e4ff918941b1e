#!/usr/bin/env bash
# bench/alerts.sh [EVENTS]: alerts (contract §6.6, issue 19) on a cluster of
# its own (not bench/lib.sh's shared bench cluster: the background worker
# must deliver in this database, and the receiver's timings must not share
# the cluster with another benchmark).
#
#   (a) analytics.evaluate_alerts(at) with RULES (default 1000) rules over
#       EVENTS (default 2,000,000) generated events (datagen, BENCH_DAYS
#       = 7 days ending yesterday, about 12,000 events an hour): built-in
#       metrics over events (events.count, events.failures,
#       events.error_rate, latency.p95/p99, tokens.total, cost.usd) with
#       tag filters (tool, model, event_type, agent) and without, windows of
#       5, 15 and 60 minutes, and custom metrics (with and without tags) over
#       points pushed each minute; at = yesterday 12:00 UTC (inside the
#       data).  RUNS (default 7) runs, each in a transaction rolled back (so
#       every run does the same work: same pending rules, same incidents);
#       median and max ms.  Target: under 1 s.
#   (b) deliveries per second: DELIVERIES (default 500) test notifications
#       (analytics_api.test_channel) to 10 webhook channels of a local
#       receiver (test/alerts/receiver.py, signatures verified), from the
#       commit to the last one succeeded.
#   (c) the delay from an incident's opening (the commit of the
#       evaluate_alerts transaction that opened it) to its notification
#       arriving at the receiver: INCIDENTS (default 50) incidents, one
#       evaluation each, at random moments (0-1.5 s apart, so they fall
#       anywhere in the worker's 1 s nap); p50, p99, max.
#
# ALERTS_BENCH_DIR (default .cluster/bench-alerts) and ALERTS_BENCH_PORT
# (default a free port from 55900) place the cluster; the generated events
# are kept between runs (public.bench_events) and regenerated only when
# EVENTS or BENCH_DAYS change.  Not part of make test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source tools/cluster.sh
N=${1:-${BENCH_EVENTS:-2000000}}
DAYS=${BENCH_DAYS:-7}
RULES=${RULES:-1000}
RUNS=${RUNS:-7}
DELIVERIES=${DELIVERIES:-500}
INCIDENTS=${INCIDENTS:-50}
DIR=${ALERTS_BENCH_DIR:-$ROOT/.cluster/bench-alerts}
DB=analytics_bench_alerts
W=$(mktemp -d /tmp/analytics-bench-alerts.XXXXXX)
chmod 755 "$W"
RPID=
cleanup() { [[ -n "$RPID" ]] && kill "$RPID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
p() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

(make -s >/dev/null && make -s install >/dev/null)
cluster_stop "$DIR" >/dev/null 2>&1 || true
CLUSTER_EXTRA_CONF="shared_buffers = '512MB'
work_mem = '32MB'
jit = off
fsync = off
synchronous_commit = off
max_wal_size = '4GB'" cluster_start "$DIR" "${ALERTS_BENCH_PORT:-$(free_port 55900)}" "$DB"
source "$DIR/env"
psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null
p <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE TABLE IF NOT EXISTS public.bench_meta (events bigint, days int, script_md5 text, generated_at timestamptz);
SQL
script=$(md5sum "$("$PG_CONFIG" --sharedir)/extension/analytics--$(sed -n "s/^default_version = '\(.*\)'/\1/p" analytics.control).sql" | cut -c1-32)
have=$(q "SELECT events || '/' || days || '/' || coalesce(script_md5, '') FROM public.bench_meta")
if [[ "$have" != "$N/$DAYS/$script" ]]; then
  echo "bench: (re)creating the extension with $N events over $DAYS days" >&2
  t0=$SECONDS
  p <<'SQL' >/dev/null
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS analytics_datagen CASCADE;
DROP EXTENSION IF EXISTS analytics CASCADE;
CREATE EXTENSION analytics;
SQL
  p -f datagen/generate.sql >/dev/null 2>&1
  if [[ "${have%/*}" == "$N/$DAYS" ]] && [[ $(q "SELECT to_regclass('public.bench_events') IS NOT NULL") == t ]]; then
    p <<'SQL' >/dev/null
SET client_min_messages = warning;
SELECT analytics.upsert_tenant(t.tenant_id, t.name, t.tier) FROM analytics_datagen.tenants() t;
SELECT analytics.upsert_agent(a.agent_id, a.tenant_id, a.name) FROM analytics_datagen.agents() a;
SELECT analytics.ensure_partitions(min(occurred_at AT TIME ZONE 'UTC')::date, max(occurred_at AT TIME ZONE 'UTC')::date)
FROM public.bench_events;
INSERT INTO analytics.usage_events SELECT * FROM public.bench_events;
SQL
  else
    p <<SQL >/dev/null
SET client_min_messages = warning;
SELECT * FROM analytics_datagen.generate($N, $DAYS, (now() AT TIME ZONE 'UTC')::date - 1);
DROP TABLE IF EXISTS public.bench_events;
CREATE TABLE public.bench_events AS SELECT * FROM analytics.usage_events;
SQL
  fi
  p -c "TRUNCATE public.bench_meta" -c "INSERT INTO public.bench_meta VALUES ($N, $DAYS, '$script', now())" >/dev/null
  p -c "VACUUM (ANALYZE) analytics.usage_events" >/dev/null
  echo "bench: loaded in $((SECONDS - t0)) s" >&2
fi
echo "== alerts bench: $(q "SELECT count(*) FROM analytics.usage_events") events over $DAYS days, $(q "SELECT count(*) FROM analytics.tenants") tenants; $(uptime | sed 's/.*load/load/')"

# ---------------------------------------------------------------- set-up
# The rules of (a) are written straight into analytics.alert_rules (the
# API's checks are not what is measured); earlier bench rules, incidents,
# channels and notifications are cleared first.
AT=$(q "SELECT ((now() AT TIME ZONE 'UTC')::date - 1 + time '12:00') AT TIME ZONE 'UTC'")
p <<SQL >/dev/null
SET client_min_messages = warning;
DELETE FROM analytics.notification_outbox;
DELETE FROM analytics.alert_incidents;
DELETE FROM analytics.alert_rules;
DELETE FROM analytics.notification_channels;
DELETE FROM analytics.metric_points WHERE metric_name LIKE 'bench.%';
-- custom metrics: 5 metrics x 3 hosts for 20 tenants, a point a minute over the 2 hours before AT
INSERT INTO analytics.metric_points (tenant_id, metric_name, ts, value, tags, tags_key)
SELECT t.tenant_id, 'bench.m' || m, '$AT'::timestamptz - make_interval(mins => i), random() * 100,
       jsonb_build_object('host', 'h' || h), md5(jsonb_build_object('host', 'h' || h)::text)::uuid
FROM (SELECT tenant_id FROM analytics.tenants ORDER BY tenant_id LIMIT 20) t,
     generate_series(1, 5) m, generate_series(1, 3) h, generate_series(0, 119) i;
ANALYZE analytics.metric_points;
-- 1000 rules: 70 % built-in event metrics (a third with a tag filter), 30 % custom metrics
CREATE TEMP TABLE tv AS
SELECT array_agg(DISTINCT tool_name) FILTER (WHERE tool_name IS NOT NULL) AS tools,
       array_agg(DISTINCT model) FILTER (WHERE model IS NOT NULL) AS models,
       array_agg(DISTINCT event_type) AS types
FROM analytics.usage_events WHERE occurred_at > '$AT'::timestamptz - interval '1 hour' AND occurred_at <= '$AT';
CREATE TEMP TABLE tn AS SELECT row_number() OVER (ORDER BY tenant_id) AS k, tenant_id FROM analytics.tenants;
INSERT INTO analytics.alert_rules (tenant_id, name, metric_name, condition_operator, threshold, severity,
                                   duration_seconds, window_seconds, aggregation, tags)
SELECT CASE WHEN i % 50 = 0 THEN NULL ELSE (SELECT tenant_id FROM tn WHERE k = 1 + i % (SELECT count(*) FROM tn)) END,
       'bench rule ' || i,
       CASE WHEN i % 10 < 7 THEN (ARRAY['events.count', 'events.failures', 'events.error_rate', 'latency.p95',
                                        'latency.p99', 'tokens.total', 'cost.usd'])[1 + i % 7]
            ELSE 'bench.m' || (1 + i % 5) END,
       (ARRAY['gt', 'gte', 'lt'])[1 + i % 3], (i * 7919 % 100)::double precision,
       'warning', (ARRAY[0, 60, 300])[1 + i % 3], (ARRAY[300, 900, 3600])[1 + (i / 7) % 3],
       CASE WHEN i % 10 < 7 THEN CASE WHEN (ARRAY['events.count', 'events.failures', 'events.error_rate', 'latency.p95',
                                        'latency.p99', 'tokens.total', 'cost.usd'])[1 + i % 7] LIKE 'latency%' THEN 'p95' ELSE 'sum' END
            ELSE (ARRAY['avg', 'max', 'p95', 'count'])[1 + i % 4] END,
       CASE WHEN i % 10 < 7 THEN
                CASE i % 6 WHEN 0 THEN jsonb_build_object('tool', tv.tools[1 + i % cardinality(tv.tools)])
                           WHEN 1 THEN jsonb_build_object('model', tv.models[1 + i % cardinality(tv.models)])
                           WHEN 2 THEN jsonb_build_object('event_type', tv.types[1 + i % cardinality(tv.types)])
                           ELSE '{}' END
            WHEN i % 2 = 0 THEN jsonb_build_object('host', 'h' || (1 + i % 3))
            ELSE '{}' END
FROM generate_series(1, $RULES) i, tv;
ANALYZE analytics.alert_rules;
SQL
echo "rules: $(q "SELECT count(*) || ' (' || count(*) FILTER (WHERE metric_name NOT LIKE 'bench.%') || ' built-in, '
  || count(*) FILTER (WHERE metric_name NOT LIKE 'bench.%' AND tags <> '{}') || ' of them with a tag filter; '
  || count(*) FILTER (WHERE metric_name LIKE 'bench.%') || ' custom; ' || count(DISTINCT window_seconds) || ' windows; '
  || count(*) FILTER (WHERE tenant_id IS NULL) || ' platform-wide)' FROM analytics.alert_rules")"
echo "events in the widest window (1 h before at): $(q "SELECT count(*) FROM analytics.usage_events WHERE occurred_at > '$AT'::timestamptz - interval '1 hour' AND occurred_at <= '$AT'")"

# ---------------------------------------------------------------- (a)
{
  for ((i = 0; i <= RUNS; i++)); do
    echo "BEGIN;"
    echo "\\timing on"
    echo "SELECT analytics.evaluate_alerts('$AT');"
    echo "\\timing off"
    echo "ROLLBACK;"
  done
} >"$W/eval.sql"
p -At -f "$W/eval.sql" >"$W/eval.out"
echo "(a) evaluate_alerts, $RULES rules: one run answers $(grep '^{' "$W/eval.out" | head -1)"
# (the first run warms the caches and is not counted)
sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$W/eval.out" | tail -n +2 | sort -g | awk -v runs="$RUNS" '
  {a[NR] = $1} END {printf "(a) evaluate_alerts: median %.0f ms, max %.0f ms over %d runs (target < 1000 ms)\n", a[int((NR + 1) / 2)], a[NR], NR}'
p -At <<SQL | sed 's/^/    /'
BEGIN;
SELECT 'alert_rule_values alone: ' || round(extract(epoch FROM clock_timestamp() - s) * 1000) || ' ms'
FROM (SELECT clock_timestamp() AS s) x, LATERAL (SELECT count(*) FROM analytics.alert_rule_values('$AT')) y;
ROLLBACK;
SQL

# ---------------------------------------------------------------- receiver
python3 test/alerts/receiver.py "$W/port" "$W/log" "$W/secrets" &
RPID=$!
for ((i = 0; i < 100; i++)); do [[ -s "$W/port" ]] && break; sleep 0.1; done
PORT=$(cat "$W/port")
touch "$W/log"
p -c "ALTER SYSTEM SET analytics.delivery_allow_private = on" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
CHS=()
for ((c = 0; c < 10; c++)); do
  out=$(q "SELECT analytics_api.create_channel('webhook', 'http://127.0.0.1:$PORT/ok')")
  CHS+=("$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')")
  echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' >>"$W/secrets"
done

# ---------------------------------------------------------------- (b)
per=$(( (DELIVERIES + 9) / 10 ))
t0=$(p -At -c "BEGIN" -c "SELECT count(analytics_api.test_channel(c::text)) FROM unnest('{$(IFS=,; echo "${CHS[*]}")}'::bigint[]) c, generate_series(1, $per)" \
        -c "COMMIT" -c "SELECT extract(epoch FROM clock_timestamp())" | tail -1)
total=$((per * 10))
for ((i = 0; i < 1200; i++)); do
  [[ $(q "SELECT count(*) FROM analytics.notification_outbox WHERE status = 'succeeded' AND event_type = 'test'") -ge $total ]] && break
  sleep 0.1
done
q "SELECT '(b) deliveries: ' || count(*) FILTER (WHERE o.status = 'succeeded') || ' of ' || count(*) || ' succeeded in '
         || round((extract(epoch FROM max(o.finished_at)) - $t0)::numeric, 2) || ' s from the commit: '
         || round(count(*) FILTER (WHERE o.status = 'succeeded') / (extract(epoch FROM max(o.finished_at)) - $t0)::numeric) || ' per second; '
         || sum(o.attempts) - count(*) || ' retries'
   FROM analytics.notification_outbox o WHERE o.event_type = 'test'"
echo "    the receiver got $(grep -c '"/ok"' "$W/log") requests, $(grep '"/ok"' "$W/log" | python3 -c 'import json,sys; print(sum(json.loads(l)["verified"] for l in sys.stdin))') with a verified signature"

# ---------------------------------------------------------------- (c)
# one platform rule on a custom metric, the bench rules of (a) disabled
# (their evaluation is not what is measured: the delay counts from the commit)
CH=${CHS[0]}
p <<SQL >/dev/null
UPDATE analytics.alert_rules SET enabled = false;
UPDATE analytics.notification_channels SET events = '{incident.opened}' WHERE channel_id = $CH;
INSERT INTO analytics.alert_rules (tenant_id, name, metric_name, condition_operator, threshold, severity,
                                   duration_seconds, window_seconds, aggregation, channels)
VALUES (NULL, 'bench latency probe', 'bench.probe', 'gt', 0, 'critical', 0, 60, 'max', ARRAY[$CH]::bigint[]);
SQL
: >"$W/delays"
for ((k = 0; k < INCIDENTS; k++)); do
  read -r tc mid < <(p -At -F ' ' -c "BEGIN" \
      -c "INSERT INTO analytics.metric_points (tenant_id, metric_name, ts, value, tags, tags_key)
          VALUES (analytics.metric_platform_id(), 'bench.probe', now(), 1, '{}', md5('{}')::uuid)" \
      -c "SELECT analytics.evaluate_alerts() ->> 'opened'" -c "COMMIT" \
      -c "SELECT extract(epoch FROM clock_timestamp()), (SELECT message_id FROM analytics.notification_outbox
                                                          WHERE event_type = 'incident.opened' ORDER BY delivery_id DESC LIMIT 1)" | tail -1)
  for ((i = 0; i < 100; i++)); do grep -q "\"$mid\"" "$W/log" && break; sleep 0.05; done
  grep "\"$mid\"" "$W/log" | head -1 | TC=$tc python3 -c 'import json,os,sys; print(json.loads(sys.stdin.read())["at"] - float(os.environ["TC"]))' >>"$W/delays" || echo "(c) $mid did not arrive" >&2
  p -c "DELETE FROM analytics.metric_points WHERE metric_name = 'bench.probe'" -c "SELECT analytics.evaluate_alerts()" >/dev/null
  sleep "$(python3 -c 'import random; print(round(random.uniform(0, 1.5), 2))')"
done
python3 - "$W/delays" <<'PY'
import sys
d = sorted(float(x) * 1000 for x in open(sys.argv[1]) if x.strip())
pct = lambda p: d[min(len(d) - 1, int(round(p / 100 * (len(d) - 1))))]
print(f"(c) incident opened (commit) -> notification at the receiver, {len(d)} incidents: "
      f"p50 {pct(50):.0f} ms, p99 {pct(99):.0f} ms, max {d[-1]:.0f} ms, min {d[0]:.0f} ms")
PY
p -c "ALTER SYSTEM RESET analytics.delivery_allow_private" -c "SELECT pg_reload_conf()" >/dev/null
echo "load: $(uptime | sed 's/.*load average: //')"
echo "(the cluster keeps running: tools/cluster.sh's cluster_stop $DIR)"
