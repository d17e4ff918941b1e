#!/usr/bin/env bash
# bench/citus.sh [EVENTS]: what scale-out costs and what it routes, on one
# machine: a Citus coordinator with two workers against a single node, both
# holding the same events (the generator's, over BENCH_DAYS days, default 30,
# ending yesterday).  Each figure is a median of RUNS runs (default 7), in
# server time on the coordinator (clock_timestamp() around the statement, so
# the workers' part and the network round trips are in it):
#   a tenant API call (busiest tenant, 30 days)   cluster / one node   target <= 2
#   a platform-wide latency sketch over every event: the workers' partial
#     aggregates against one node's parallel plan (2 workers), for information
#   the rollup job per day (rollup_day of every day, re-rolled), both, for information
# On one machine the two workers share its cores with the coordinator, so
# the cluster cannot be faster than one node; the figures say what routing
# and fan-out cost.  EVENTS defaults to BENCH_EVENTS or 2,000,000 (the
# generator makes about 100k events/s here; 10M takes ~10 minutes to load).
# Not part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-${BENCH_EVENTS:-2000000}}
DAYS=${BENCH_DAYS:-30}
RUNS=${RUNS:-7}

tools/deps.sh >/dev/null
tools/citus.sh build >/dev/null
make -s >/dev/null
if [[ $(id -u) -eq 0 ]]; then make -s install >/dev/null; else sudo -n make -s install >/dev/null; fi
source tools/citus.sh
WORK=$(mktemp -d /tmp/analytics-citus-bench.XXXXXX)
[[ $(id -u) -eq 0 ]] && chmod 755 "$WORK"
stop() { citus_stop "$WORK/cluster"; cluster_stop "$WORK/single"; rm -rf "$WORK"; }
trap stop EXIT
CONF="shared_buffers = '2GB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
jit = off
fsync = off
synchronous_commit = off
max_wal_size = '8GB'"
CITUS_EXTRA_CONF=$CONF citus_start "$WORK/cluster" analytics_bench >/dev/null
source "$WORK/cluster/env"
CLUSTER_EXTRA_CONF="$CONF" cluster_start "$WORK/single" "$(free_port $((COORD_PORT + 10)))" analytics_bench >/dev/null
SINGLE_HOST=$PGHOST SINGLE_PORT=$PGPORT
as_pg "$PGBIN/createdb" -h "$SINGLE_HOST" -p "$SINGLE_PORT" -U postgres analytics_bench

coord()  { psql -X -q -v ON_ERROR_STOP=1 -h "$COORD_HOST" -p "$COORD_PORT" -U postgres -d analytics_bench "$@"; }
single() { psql -X -q -v ON_ERROR_STOP=1 -h "$SINGLE_HOST" -p "$SINGLE_PORT" -U postgres -d analytics_bench "$@"; }

coord -c "SET citus.enable_ddl_propagation = off" -c "CREATE EXTENSION pg_cron" \
      -c "RESET citus.enable_ddl_propagation" -c "CREATE EXTENSION analytics" >/dev/null
single -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION analytics" >/dev/null
coord -c "SELECT analytics.distribute()" >/dev/null

# Generate on one node (faster than through the coordinator), then COPY the
# same rows into the cluster.
echo "bench: generating $N events over $DAYS days on the single node" >&2
t=$SECONDS
single -f datagen/generate.sql >/dev/null
single -c "SELECT * FROM analytics_datagen.generate(events => $N, days => $DAYS, end_day => (now() AT TIME ZONE 'UTC')::date - 1)" >/dev/null
gen=$((SECONDS - t)); t=$SECONDS
coord -f datagen/generate.sql >/dev/null
coord >/dev/null <<SQL
SELECT analytics.upsert_tenant(t.tenant_id, t.name, t.tier) FROM analytics_datagen.tenants() t;
SELECT analytics.upsert_agent(a.agent_id, a.tenant_id, a.name) FROM analytics_datagen.agents() a;
SELECT analytics.ensure_partitions((now() AT TIME ZONE 'UTC')::date - $DAYS, (now() AT TIME ZONE 'UTC')::date);
SQL
single -c "\\copy (SELECT * FROM analytics.usage_events) TO STDOUT" | coord -c "\\copy analytics.usage_events FROM STDIN"
copy=$((SECONDS - t))
echo "bench: generated in ${gen} s on one node, copied into the cluster in ${copy} s" >&2
for n in coord single; do $n -c "VACUUM ANALYZE" >/dev/null 2>&1 || $n -c "ANALYZE" >/dev/null; done

# median server time in ms of a statement, RUNS runs after one warm-up run
TIMER=$(cat <<'SQL'
CREATE SCHEMA IF NOT EXISTS citus_bench;
CREATE OR REPLACE FUNCTION citus_bench.median_ms(q text, runs int) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; ms float8[] := '{}'; i int;
BEGIN
  EXECUTE q;
  FOR i IN 1 .. runs LOOP
    t0 := clock_timestamp();
    EXECUTE q;
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 2);
END $$;
SQL
)
coord -c "$TIMER" >/dev/null; single -c "$TIMER" >/dev/null

echo "== rollup job: rollup_day of each of the $DAYS days (first roll)"
rc=$(coord -At -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t" -c "CALL analytics.rollup_job()" \
                -c "SELECT round((extract(epoch FROM clock_timestamp() - t) * 1000 / $DAYS)::numeric, 0) FROM t0")
rs=$(single -At -c "CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t" -c "CALL analytics.rollup_job()" \
                -c "SELECT round((extract(epoch FROM clock_timestamp() - t) * 1000 / $DAYS)::numeric, 0) FROM t0")
echo "rollup job per day: cluster ${rc} ms, one node ${rs} ms"

T=$(single -At -c "SELECT tenant_id FROM analytics.tenant_daily GROUP BY 1 ORDER BY sum(events) DESC LIMIT 1")
CLAIMS="SELECT set_config('request.jwt.claims', '{\"tenant_id\": \"$T\"}', false)"
echo "== tenant API calls, busiest tenant ($T), 30 days ending today, median of $RUNS"
printf '%-40s %10s %10s %7s\n' call "cluster ms" "1-node ms" ratio
for call in "analytics_api.usage_summary()" "analytics_api.token_trends()" "analytics_api.agent_activity()" \
            "analytics_api.agents_activity()" "analytics_api.call_patterns()" "analytics_api.tokens()"; do
  c=$(coord -At -c "$CLAIMS" -c "SELECT citus_bench.median_ms('SELECT $call', $RUNS)" | tail -1)
  s=$(single -At -c "$CLAIMS" -c "SELECT citus_bench.median_ms('SELECT $call', $RUNS)" | tail -1)
  printf '%-40s %10s %10s %7s\n' "$call" "$c" "$s" "$(awk -v c="$c" -v s="$s" 'BEGIN { printf "%.2f", c / s }')"
done

echo "== platform-wide latency sketch over every event ($N), median of 3"
Q="SELECT analytics.quantiles(analytics.qsketch_agg(latency_ms), ARRAY[0.5, 0.99]) FROM analytics.usage_events"
c=$(coord -At -c "SELECT citus_bench.median_ms('$Q', 3)")
s=$(single -At -c "SET max_parallel_workers_per_gather = 2" -c "SELECT citus_bench.median_ms('$Q', 3)" | tail -1)
s0=$(single -At -c "SET max_parallel_workers_per_gather = 0" -c "SELECT citus_bench.median_ms('$Q', 3)" | tail -1)
echo "qsketch_agg, all events: cluster (2 workers, 32 shards) ${c} ms; one node parallel (2) ${s} ms; one node serial ${s0} ms"
Q="SELECT tenant_id, analytics.heatmap_agg(occurred_at, count::bigint) FROM analytics.usage_events GROUP BY 1"
c=$(coord -At -c "SELECT citus_bench.median_ms('$Q', 3)")
s=$(single -At -c "SET max_parallel_workers_per_gather = 2" -c "SELECT citus_bench.median_ms('$Q', 3)" | tail -1)
echo "heatmap_agg per tenant, all events: cluster ${c} ms; one node parallel (2) ${s} ms"
