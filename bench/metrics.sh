#!/usr/bin/env bash
# bench/metrics.sh: speed of the custom metrics of contract §6.5 (issue 18,
# docs/metrics.md), on a cluster of one's own (not the shared bench one).
#
#   1. Ingest: BATCHES (default 100) calls of the typed
#      analytics.record_metrics(tenant, jsonb), 1,000 points each (10 names,
#      timers, 2 tags, timestamps of the last 50 minutes), one call per
#      statement (autocommit) from a psql script, against COPY (psql \copy,
#      CSV) of the same points, tags_key computed beforehand, into
#      analytics.metric_points.  Wall time, median of INGEST_RUNS (default
#      3) runs each, the points removed between runs.  Target: record_metrics
#      at least 0.5x the points/s of COPY.
#   2. metric_statistics of one metric (4 tag sets, no tag filter) over the
#      last 24 hours (POINTS_24H, default 1M points: rolled hours from
#      metric_hourly, the edge hours raw, as the real read path) and over
#      the last 30 days (POINTS_OLDER, default 1M more points over the 29
#      days before: almost all from rollups), each against the same answer
#      in plain SQL over the raw points (count, sum, min, max, exact
#      percentile_disc p50/p95/p99); "same" = counts, min and max equal, sum
#      within 1e-9 relative, each percentile within 1% of the exact one.
#      Server time (EXPLAIN ANALYZE), median of RUNS (default 5) calls,
#      PLAIN_RUNS (default 3) for the plain SQL.
#
# The points of 2. are inserted straight into metric_points (a bench, not
# an ingest path), the rollup watermark moved back before them first, then
# analytics.rollup_metric_hours() rolls every closed hour, as the job
# (schedule_metrics_rollup) would.  The extension is dropped and created
# again at each run.
#
# Run (private PG of `privpg NAME` in PATH/PG_CONFIG):
#   BENCH_DIR=/tmp/cl-bench18 BENCH_PORT=57100 bench/metrics.sh
# Defaults: BENCH_DIR .cluster/metrics-bench, BENCH_PORT a free one from
# 57100, BENCH_DB analytics_mbench.  The cluster is left running
# (cluster_stop DIR to stop it).  Not part of make test.
BENCH_DIR=${BENCH_DIR:-"$(cd "$(dirname "$0")/.." && pwd)/.cluster/metrics-bench"}
BENCH_DB=${BENCH_DB:-analytics_mbench}
source "$(dirname "$0")/lib.sh"
BATCHES=${BATCHES:-100}
INGEST_RUNS=${INGEST_RUNS:-3}
POINTS_24H=${POINTS_24H:-1000000}
POINTS_OLDER=${POINTS_OLDER:-1000000}
RUNS=${RUNS:-5}
PLAIN_RUNS=${PLAIN_RUNS:-3}
CLUSTER_EXTRA_CONF="shared_buffers = '512MB'
work_mem = '64MB'
maintenance_work_mem = '256MB'
jit = off
fsync = off
synchronous_commit = off
max_wal_size = '4GB'" bench_own_cluster "$BENCH_DIR" "${BENCH_PORT:-$(free_port 57100)}" "$BENCH_DB"
echo "load: $(uptime | sed 's/.*load average/load average/')"

A=00000000-0000-4000-8000-0000000000a1   # ingest tenant
B=00000000-0000-4000-8000-0000000000b1   # read tenant
WORK=$(mktemp -d /tmp/metrics-bench.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

bench_psql >/dev/null <<SQL
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench_m CASCADE;
DROP EXTENSION IF EXISTS analytics CASCADE;
CREATE EXTENSION analytics;
SELECT analytics.upsert_tenant('$A', 'metrics bench ingest', 'pro');
SELECT analytics.upsert_tenant('$B', 'metrics bench read', 'pro');
SELECT analytics.ensure_metric_partitions(analytics.utc_today() - 31, analytics.utc_today() + 2);
CREATE SCHEMA bench_m;
-- BATCHES batches of 1000 points.
CREATE TABLE bench_m.points AS
SELECT i / 1000 AS batch, i, 'ingest.m' || (i % 10) AS metric_name,
       round((5 + -ln(1 - random()) * 40)::numeric, 3)::float8 AS value,
       jsonb_build_object('env', CASE WHEN i % 3 = 0 THEN 'dev' ELSE 'prod' END, 'host', 'h' || (i % 8)) AS tags,
       date_trunc('milliseconds', now() - random() * interval '50 minutes') AS ts
FROM generate_series(0, $BATCHES * 1000 - 1) i;
CREATE TABLE bench_m.batches AS
SELECT batch, jsonb_agg(jsonb_build_object('metric_name', metric_name, 'value', value, 'metric_type', 'timer',
                                           'unit', 'ms', 'tags', tags,
                                           'timestamp', to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                        ORDER BY i) AS body
FROM bench_m.points GROUP BY batch;
SQL
bench_psql -tA -c "SELECT format('SELECT analytics.record_metrics(%L, %L);', '$A', body) FROM bench_m.batches ORDER BY batch" >"$WORK/record.sql"
bench_psql -c "\\copy (SELECT '$A', metric_name, ts, value, tags, md5(tags::text)::uuid FROM bench_m.points ORDER BY i) TO '$WORK/points.csv' (FORMAT csv)"
clear_a() {
  bench_psql -c "DELETE FROM analytics.metric_points WHERE tenant_id = '$A'" \
             -c "DELETE FROM analytics.metric_dirty_hours WHERE tenant_id = '$A'" \
             -c "VACUUM analytics.metric_points" >/dev/null
}
wall() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
NPTS=$((BATCHES * 1000))
rec=() cpy=()
for ((r = 0; r < INGEST_RUNS; r++)); do
  clear_a
  cpy+=("$(wall bench_psql -c "\\copy analytics.metric_points (tenant_id, metric_name, ts, value, tags, tags_key) FROM '$WORK/points.csv' (FORMAT csv)")")
  got=$(bench_psql -tA -c "SELECT count(*) FROM analytics.metric_points WHERE tenant_id = '$A'")
  [[ $got == "$NPTS" ]] || echo "bench: COPY stored $got points, not $NPTS" >&2
  clear_a
  rec+=("$(wall bench_psql -f "$WORK/record.sql")")
  got=$(bench_psql -tA -c "SELECT count(*) FROM analytics.metric_points WHERE tenant_id = '$A'")
  [[ $got == "$NPTS" ]] || echo "bench: record_metrics stored $got points, not $NPTS" >&2
done
clear_a
RS=$(median "${rec[@]}") CS=$(median "${cpy[@]}")
echo
echo "1. ingest of $NPTS points ($BATCHES batches of 1000), wall time, median of $INGEST_RUNS"
printf '%-28s %10s %12s\n' "" "s" "points/s"
printf '%-28s %10s %12.0f\n' "record_metrics (1000/call)" "$RS" "$(awk -v n=$NPTS -v s="$RS" 'BEGIN{print n/s}')"
printf '%-28s %10s %12.0f\n' "COPY into metric_points" "$CS" "$(awk -v n=$NPTS -v s="$CS" 'BEGIN{print n/s}')"
echo "record_metrics / COPY (points/s): $(ratio "$CS" "$RS")x (target >= 0.5x); runs record: ${rec[*]}; COPY: ${cpy[*]}"

# 2. The read set.
t0=$SECONDS
bench_psql >/dev/null <<SQL
SET client_min_messages = warning;
UPDATE analytics.metric_rollup_state SET rolled_until = date_trunc('hour', now() - interval '31 days');
INSERT INTO analytics.custom_metrics (tenant_id, metric_name, metric_type, unit) VALUES ('$B', 'bench.latency', 'timer', 'ms');
INSERT INTO analytics.metric_points (tenant_id, metric_name, ts, value, tags, tags_key)
SELECT '$B', 'bench.latency', ts, v, g, md5(g::text)::uuid
FROM (SELECT CASE WHEN i <= $POINTS_24H THEN now() - random() * interval '24 hours'
                  ELSE now() - interval '24 hours' - random() * interval '28 days 23 hours' END AS ts,
             round((5 + -ln(1 - random()) * 40 + CASE WHEN i % 50 = 0 THEN 500 ELSE 0 END)::numeric, 3)::float8 AS v,
             jsonb_build_object('env', CASE WHEN i % 3 = 0 THEN 'dev' ELSE 'prod' END,
                                'region', CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END) AS g
      FROM generate_series(1, $POINTS_24H + $POINTS_OLDER) i) x;
SELECT * FROM analytics.rollup_metric_hours();
VACUUM ANALYZE analytics.metric_points;
VACUUM ANALYZE analytics.metric_hourly;
SQL
echo
echo "2. read set: $POINTS_24H points in the last 24 h, $POINTS_OLDER over the 29 days before; load and rollup: $((SECONDS - t0)) s"
bench_psql -tA -c "SELECT 'rollup rows: ' || count(*) || ', rolled_until ' || (SELECT rolled_until FROM analytics.metric_rollup_state) FROM analytics.metric_hourly"
TO=$(bench_psql -tA -c "SELECT now()")

bench_psql >/dev/null <<'SQL'
CREATE OR REPLACE FUNCTION bench_m.plain(tid uuid, f timestamptz, t timestamptz)
RETURNS TABLE (n bigint, total float8, lo float8, hi float8, p50 float8, p95 float8, p99 float8)
LANGUAGE sql STABLE AS $$
SELECT count(*), sum(value), min(value), max(value),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY value), percentile_disc(0.95) WITHIN GROUP (ORDER BY value),
       percentile_disc(0.99) WITHIN GROUP (ORDER BY value)
FROM analytics.metric_points WHERE tenant_id = tid AND metric_name = 'bench.latency' AND ts >= f AND ts < t
$$;
SQL

printf '\n%-24s %10s %10s %8s %6s  %s\n' "metric_statistics" "ext ms" "plain ms" "ratio" "same" "p50/p95/p99 ext vs exact"
for w in "24 hours" "30 days"; do
  F="('$TO'::timestamptz - interval '$w')"
  T="'$TO'::timestamptz"
  CALL="SELECT analytics.metric_statistics('$B', 'bench.latency', $F, $T)"
  PLAIN="SELECT * FROM bench_m.plain('$B', $F, $T)"
  cmp=$(bench_psql -tA -F ' ' <<SQL
WITH e AS ($CALL AS j), p AS ($PLAIN)
SELECT ((j->>'count')::bigint = p.n AND (j->>'min')::float8 = p.lo AND (j->>'max')::float8 = p.hi
        AND abs((j->>'sum')::float8 - p.total) <= 1e-9 * abs(p.total)
        AND abs((j->>'p50')::float8 - p.p50) <= 0.01 * abs(p.p50)
        AND abs((j->>'p95')::float8 - p.p95) <= 0.01 * abs(p.p95)
        AND abs((j->>'p99')::float8 - p.p99) <= 0.01 * abs(p.p99))::text,
       format('%s/%s/%s vs %s/%s/%s (n=%s)', round((j->>'p50')::numeric, 2), round((j->>'p95')::numeric, 2),
              round((j->>'p99')::numeric, 2), round(p.p50::numeric, 2), round(p.p95::numeric, 2), round(p.p99::numeric, 2), p.n)
FROM e, p
SQL
)
  te=$(bench_time "$CALL" "$RUNS")
  tp=$(bench_time "$PLAIN" "$PLAIN_RUNS")
  printf '%-24s %10s %10s %8s %6s  %s\n' "$w" "$te" "$tp" "$(ratio "$tp" "$te")x" "${cmp%% *}" "${cmp#* }"
done
echo "(ratio = plain / extension: how many times faster the extension answers)"
echo "load: $(uptime | sed 's/.*load average/load average/')"
