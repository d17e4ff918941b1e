#!/usr/bin/env bash
# bench/operator.sh [EVENTS]: server time of the 19 operator read functions
# of contract §6.3, called as their typed twins in schema analytics (tenant,
# "from", "to", ...), over the last 30 days (today - 29 to today, whole UTC
# days) for the busiest tenant and for the operator (tenant NULL: every
# tenant), each against the same answer computed by plain SQL over the raw
# events in the same run.
#
# Targets (the issue), warm connection, server time, 30 days:
#   busiest tenant < 50 ms, operator across all tenants < 200 ms.
#
# The plain-SQL baselines are bench/operator_baselines.sql (schema
# bench_ops, loaded here): the pgTAP oracles (08_ops_usage_oracle.sql,
# 09_ops_sessions.inc, 10_ops_platform_oracle.sql) as functions of the same
# parameters, with the latencies those tests check apart put back (exact
# percentiles), each planned with the call's values as literals.  "same"
# says that the two answers agree (bench_ops.diff: percentiles within 1%,
# averages within 0.0011 ms, everything else equal).
#
# Ids: session_detail takes the busiest session of the tenant (all days),
# execution_detail that session's execution with the most events,
# user_analytics/user_trends the tenant's busiest user of the window,
# agent_analytics/agent_trends its busiest agent of the window; the operator
# rows pass the same ids with tenant NULL.  analytics_health takes no tenant
# (one measurement, shown in both columns).  After the 30-day table, a few
# hour windows (Nh: now - N hours to now): performance_summary 24h (its
# default), session_activity 24h (hourly, raw), error_trends 168h by hour.
#
# State: every past day rolled up (analytics.rollup_job), today's events so
# far (yesterday's up to this time of day, moved a day on, once a day, as
# bench/api.sh does) merged by the minute job (analytics.increment_job),
# then a minute of raw events on top, so that each answer merges rollup
# rows with raw events as at a steady ingest.  Each typed twin in one
# session (a pooled connection): the two answers compared first (the
# warm-up), then RUNS (default 7) calls, EXPLAIN ANALYZE, median; each
# baseline by bench_time, PLAIN_RUNS (default 3) runs, median.
# BENCH_REUSE=1 measures on the bench cluster as it runs (no build, no
# restart).  Not part of make test.
source "$(dirname "$0")/lib.sh"
N=${1:-${BENCH_EVENTS:-10000000}}
RUNS=${RUNS:-7}
PLAIN_RUNS=${PLAIN_RUNS:-3}
TENANT_TARGET=50
OPERATOR_TARGET=200
if [[ ${BENCH_REUSE:-0} == 1 ]]; then
  source "$BENCH_DIR/env"
else
  bench_setup "$N"
fi
t_start=$SECONDS

# ---- every past day rolled up, today current
bench_psql -c "CALL analytics.rollup_job()" >/dev/null || echo "bench: analytics.rollup_job() failed; going on" >&2
bench_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT analytics.ensure_partitions(analytics.utc_today(), analytics.utc_today());
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method,
                                    status_code, tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms,
                                    user_id, session_id, workflow_id, execution_id, error_code, attributes)
SELECT tenant_id, agent_id, occurred_at + interval '1 day', event_type, success, count, endpoint, method,
       status_code, tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms,
       user_id, session_id, workflow_id, execution_id, error_code, attributes
FROM analytics.usage_events
WHERE occurred_at >= (analytics.utc_today() - 1)::timestamp AT TIME ZONE 'UTC'
  AND occurred_at < now() - interval '1 day' - interval '1 minute'
  AND NOT EXISTS (SELECT 1 FROM analytics.usage_events t WHERE t.occurred_at >= analytics.utc_today()::timestamp AT TIME ZONE 'UTC');
SQL
bench_psql -c "CALL analytics.increment_job()" >/dev/null || echo "bench: analytics.increment_job() failed; going on" >&2
bench_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, latency_ms)
SELECT tenant_id, agent_id, now() - random() * interval '1 minute', event_type, success, count, endpoint, method, latency_ms
FROM analytics.usage_events
WHERE occurred_at >= (analytics.utc_today() - 1)::timestamp AT TIME ZONE 'UTC'
  AND occurred_at < (analytics.utc_today() - 1)::timestamp AT TIME ZONE 'UTC' + interval '1 minute';
SQL
bench_psql -c "ANALYZE analytics.tenant_daily, analytics.analytics_daily_aggregates, analytics.usage_stats_daily, analytics.agent_daily, analytics.endpoint_daily, analytics.rollup_days, analytics.changed_days" >/dev/null
bench_psql -c "ANALYZE analytics.type_hourly, analytics.agent_type_daily, analytics.tool_daily, analytics.error_daily, analytics.api_daily, analytics.session_daily, analytics.user_daily, analytics.workflow_daily" >/dev/null
bench_psql -tA -c "SELECT 'ANALYZE analytics.' || analytics.partition_name(d) || ';' FROM unnest(ARRAY[analytics.utc_today() - 1, analytics.utc_today()]) d" | bench_psql >/dev/null
unclean=$(bench_psql -tA -c "SELECT cardinality(whole) FROM analytics.read_plan(analytics.utc_today() - 364, analytics.utc_today() - 1)")

bench_psql -f "$(dirname "$0")/operator_baselines.sql" >/dev/null

# ---- the window, the scopes, the ids
T=00000000-0000-4000-8000-000000000001
TODAY=$(bench_psql -tA -c "SELECT analytics.utc_today()")
F30=$(bench_psql -tA -c "SELECT '$TODAY'::date - 29")
TOMORROW=$(bench_psql -tA -c "SELECT '$TODAY'::date + 1")
W="'$F30 00:00:00+00'::timestamptz, '$TOMORROW 00:00:00+00'::timestamptz"
H24="now() - interval '24 hours', now() + interval '1 microsecond'"
H168="now() - interval '168 hours', now() + interval '1 microsecond'"
SID=$(bench_psql -tA -c "SELECT session_id FROM analytics.session_daily WHERE tenant_id = '$T' AND session_id IS NOT NULL
                         GROUP BY 1 ORDER BY sum(events) DESC, 1 LIMIT 1")
XID=$(bench_psql -tA -c "SELECT execution_id FROM analytics.usage_events
                         WHERE tenant_id = '$T' AND session_id = '$SID' AND execution_id IS NOT NULL
                         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
if [[ -z "$XID" ]]; then
  XID=$(bench_psql -tA -c "SELECT execution_id FROM analytics.usage_events
                           WHERE tenant_id = '$T' AND execution_id IS NOT NULL
                             AND occurred_at >= ('$TODAY'::date - 1)::timestamp AT TIME ZONE 'UTC'
                             AND occurred_at < '$TODAY'::date::timestamp AT TIME ZONE 'UTC'
                           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
fi
USR=$(bench_psql -tA -c "SELECT user_id FROM analytics.user_daily WHERE tenant_id = '$T' AND user_id IS NOT NULL
                         AND bucket >= '$F30'::date::timestamp AT TIME ZONE 'UTC' GROUP BY 1 ORDER BY sum(events) DESC, 1 LIMIT 1")
AGT=$(bench_psql -tA -c "SELECT agent_id FROM analytics.agent_type_daily WHERE tenant_id = '$T' AND agent_id IS NOT NULL
                         AND bucket >= '$F30'::date::timestamp AT TIME ZONE 'UTC' GROUP BY 1 ORDER BY sum(events) DESC, 1 LIMIT 1")
read -r ev_t ev_all < <(bench_psql -tA -F ' ' -c "
  SELECT count(*) FILTER (WHERE tenant_id = '$T'), count(*) FROM analytics.usage_events
  WHERE occurred_at >= '$F30'::date::timestamp AT TIME ZONE 'UTC' AND occurred_at < '$TOMORROW'::date::timestamp AT TIME ZONE 'UTC'")
ev_total=$(bench_psql -tA -c "SELECT count(*) FROM analytics.usage_events")
ev_today=$(bench_psql -tA -c "SELECT count(*) FROM analytics.usage_events WHERE occurred_at >= '$TODAY'::date::timestamp AT TIME ZONE 'UTC'")

# Cases: name|label|arguments, @T@ standing for the tenant (or NULL).
CASES=(
  "summary|summary|@T@, $W"
  "agent_usage|agent_usage|@T@, $W"
  "tool_usage|tool_usage|@T@, $W"
  "top_agents|top_agents (calls, 10)|@T@, $W"
  "tool_heatmap|tool_heatmap|@T@, $W"
  "workflow_performance|workflow_performance|@T@, $W"
  "error_summary|error_summary|@T@, $W"
  "error_trends|error_trends (day)|@T@, $W, 'day'"
  "session_activity|session_activity|@T@, $W"
  "session_detail|session_detail (busiest session)|@T@, '$SID'"
  "execution_detail|execution_detail|@T@, '$XID'"
  "user_analytics|user_analytics (busiest user)|@T@, $W, '$USR'"
  "user_trends|user_trends (day)|@T@, $W, '$USR', 'day'"
  "agent_analytics|agent_analytics (busiest agent)|@T@, $W, '$AGT'::uuid"
  "agent_trends|agent_trends (day)|@T@, $W, '$AGT'::uuid, 'day'"
  "platform_trends|platform_trends (day)|@T@, $W, 'day'"
  "performance_summary|performance_summary|@T@, $W"
  "dashboard|dashboard|@T@, $W"
  "analytics_health|analytics_health (no tenant)|"
)
HOUR_CASES=(
  "performance_summary|performance_summary, 24h|@T@, $H24"
  "session_activity|session_activity, 24h (hourly)|@T@, $H24"
  "error_trends|error_trends, 168h by hour|@T@, $H168, 'hour'"
)

# warm NAME ARGS: in one session (a pooled connection), the typed twin's
# answer against the baseline's (also the warm-up), then RUNS timed calls of
# analytics.NAME; prints "median_ms same".
warm() {
  local name=$1 args=$2 i out same
  out=$( { echo "SELECT 'DIFF:' || bench_ops.diff(analytics.$name($args), bench_ops.$name($args));"
           for ((i = 0; i < RUNS; i++)); do echo "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT analytics.$name($args);"; done
         } | bench_psql -tA )
  same=$(sed -n 's/^DIFF:\(.*\)$/\1/p' <<<"$out")
  if [[ -n "$same" ]]; then
    echo "bench: $name($args) differs from its baseline: ${same:0:600}" >&2
    same=NO
  else
    same=yes
  fi
  echo "$(sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' <<<"$out" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') $same"
}

fmt_ms() { awk -v x="$1" 'BEGIN { f = x < 10 ? "%.2f" : (x < 1000 ? "%.1f" : "%.0f"); printf f, x }'; }

fail=0
# row LABEL NAME ARGS: one line of the table.
row() {
  local label=$1 name=$2 args=$3 tq="'$T'::uuid" nq="NULL::uuid" ta pa sa to po so met same
  read -r ta sa < <(warm "$name" "${args//@T@/$tq}")
  pa=$(bench_time "SELECT bench_ops.$name(${args//@T@/$tq})" "$PLAIN_RUNS")
  if [[ -z "$args" ]]; then
    to=$ta; po=$pa; so=$sa
  else
    read -r to so < <(warm "$name" "${args//@T@/$nq}")
    po=$(bench_time "SELECT bench_ops.$name(${args//@T@/$nq})" "$PLAIN_RUNS")
  fi
  met=$(awk -v a="$ta" -v b="$to" -v x="$TENANT_TARGET" -v y="$OPERATOR_TARGET" 'BEGIN { print (a < x && b < y) ? "yes" : "NO" }')
  if [[ $sa == yes && $so == yes ]]; then same=yes; else same="NO"; fi
  [[ $met == yes && $same == yes ]] || fail=1
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(fmt_ms "$ta")" "$(fmt_ms "$pa")" "$(ratio "$pa" "$ta")x" \
    "$(fmt_ms "$to")" "$(fmt_ms "$po")" "$(ratio "$po" "$to")x" "$met" "$same"
}
header() {
  printf '| function | tenant ms | plain ms | ratio | operator ms | plain ms | ratio | target met | same answer |\n'
  printf '|---|---:|---:|---:|---:|---:|---:|:---:|:---:|\n'
}

printf '\n## Operator functions (§6.3), %s days ending %s (%s to %s), server time\n\n' 30 "$TODAY" "$F30" "$TODAY"
printf 'Data: %s events over %s days, %s today so far; in the window %s of the busiest tenant %s, %s of all tenants. ' \
  "$ev_total" "$BENCH_DAYS" "$ev_today" "$ev_t" "$T" "$ev_all"
printf 'Past days waiting for a rollup: %s.\n' "$unclean"
printf 'Ids: session %s, execution %s, user %s, agent %s.\n' "$SID" "$XID" "$USR" "$AGT"
printf 'Typed twin (analytics.*): median of %s warm runs; plain SQL over raw events (bench_ops.*): median of %s. ' "$RUNS" "$PLAIN_RUNS"
printf 'ratio = plain / typed. Target: tenant < %s ms and operator < %s ms.\n\n' "$TENANT_TARGET" "$OPERATOR_TARGET"
header
for c in "${CASES[@]}"; do
  IFS='|' read -r name label args <<<"$c"
  row "$label" "$name" "$args"
done

printf '\n## Hour windows (Nh: now - N hours to now)\n\n'
header
for c in "${HOUR_CASES[@]}"; do
  IFS='|' read -r name label args <<<"$c"
  row "$label" "$name" "$args"
done
printf '\n(%s s)\n' "$((SECONDS - t_start))"
exit $fail
