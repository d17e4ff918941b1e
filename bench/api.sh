#!/usr/bin/env bash
# bench/api.sh [EVENTS]: server time of the API functions for the busiest
# tenant, on the rolled-up data set plus today's events so far, each against
# the same answer computed by plain SQL over the raw events in the same run.
#
# Table 1, maximum ranges:
#   usage_summary, 365 days                          target < 10 ms
#   token_trends (day), 365 days                     target < 10 ms
#   agent_activity, 90 days, all agents              target < 50 ms
#   agents_activity (heatmap), 90 days               target < 10 ms
# Table 2, every §5 function at its default period   target <= 2 ms
#
# Today: the generated set ends yesterday; today's events so far are
# yesterday's up to the current time of day, moved a day on (INSERT), the
# minute job (analytics.increment_job) has merged them, and "the last
# minute" (1/1440 of a day's events) has been written since, so each answer
# merges rollup rows with a minute of raw events, as it would at a steady
# ingest.  The API functions are called as PostgREST calls them (claims
# set).  Median of RUNS runs (EXPLAIN ANALYZE) on a warm session (PostgREST
# pools its connections); the cold figure is the first call of a new
# session (plpgsql compilation, catalog caches), for information.  The
# target applies to the warm figure.  Not part of make test.  BENCH_REUSE=1
# measures on the bench cluster as it runs.
source "$(dirname "$0")/lib.sh"
N=${1:-${BENCH_EVENTS:-10000000}}
RUNS=${RUNS:-7}
if [[ ${BENCH_REUSE:-0} == 1 ]]; then
  source "$BENCH_DIR/env"
else
  bench_setup "$N"
fi

unclean=$(bench_psql -tA -c "SELECT cardinality(whole) FROM analytics.read_plan(current_date - 364, current_date - 2)")
if [[ $unclean != 0 ]]; then
  echo "bench: rolling up $unclean days (CALL analytics.rollup_job())" >&2
  bench_psql -c "CALL analytics.rollup_job()" >/dev/null
fi
# Today's events so far (once a day), merged by the minute job, then the
# last minute's events on top.
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
bench_psql -c "CALL analytics.increment_job()" >/dev/null
bench_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, latency_ms)
SELECT tenant_id, agent_id, now() - random() * interval '1 minute', event_type, success, count, endpoint, method, latency_ms
FROM analytics.usage_events
WHERE occurred_at >= (analytics.utc_today() - 1)::timestamp AT TIME ZONE 'UTC'
  AND occurred_at < (analytics.utc_today() - 1)::timestamp AT TIME ZONE 'UTC' + interval '1 minute';
SQL
# (and the statistics autovacuum keeps in steady state, today's partition's
# among them: the planner finds the last minute's events by the BRIN index
# only if it knows the partition holds more than a minute of them)
bench_psql -c "ANALYZE analytics.tenant_daily, analytics.analytics_daily_aggregates, analytics.usage_stats_daily, analytics.agent_daily, analytics.endpoint_daily, analytics.rollup_days, analytics.changed_days" >/dev/null
bench_psql -tA -c "SELECT 'ANALYZE analytics.' || analytics.partition_name(d) || ';' FROM unnest(ARRAY[analytics.utc_today() - 1, analytics.utc_today()]) d" | bench_psql >/dev/null

T=$(bench_psql -tA -c "SELECT tenant_id FROM analytics.tenant_daily GROUP BY 1 ORDER BY sum(events) DESC LIMIT 1")
TODAY=$(bench_psql -tA -c "SELECT (now() AT TIME ZONE 'UTC')::date")
F365=$(bench_psql -tA -c "SELECT '$TODAY'::date - 364")
F90=$(bench_psql -tA -c "SELECT '$TODAY'::date - 89")
CLAIMS="SET request.jwt.claims = '{\"tenant_id\": \"$T\"}';"
EV="analytics.usage_events"
range() { echo "occurred_at >= '$1'::timestamp AT TIME ZONE 'UTC' AND occurred_at < ('$2'::date + 1)::timestamp AT TIME ZONE 'UTC'"; }

declare -A API RAW
API[usage_summary]="SELECT analytics_api.usage_summary('$F365', '$TODAY')"
RAW[usage_summary]="
WITH e AS (SELECT * FROM $EV WHERE tenant_id = '$T' AND $(range "$F365" "$TODAY")),
d AS (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, sum(count) FILTER (WHERE event_type = 'api_call') AS api FROM e GROUP BY 1),
s AS (SELECT coalesce(sum(count) FILTER (WHERE event_type = 'api_call'), 0) AS api,
             coalesce(sum(count) FILTER (WHERE event_type = 'token_issuance'), 0) AS tok,
             coalesce(sum(count) FILTER (WHERE event_type = 'credential_rotation'), 0) AS rot,
             count(DISTINCT agent_id) AS agents FROM e)
SELECT jsonb_build_object('tenantId', '$T', 'period', jsonb_build_object('from', '$F365', 'to', '$TODAY'),
  'summary', jsonb_build_object('totalApiCalls', s.api, 'totalTokenIssuances', s.tok, 'totalCredentialRotations', s.rot,
    'activeAgentCount', s.agents, 'averageDailyApiCalls', floor(s.api / 365.0),
    'peakDailyApiCalls', coalesce((SELECT max(api) FROM d), 0),
    'peakDate', (SELECT to_char(day, 'YYYY-MM-DD') FROM d WHERE api > 0 ORDER BY api DESC, day LIMIT 1))) FROM s"
API[token_trends]="SELECT analytics_api.token_trends('$F365', '$TODAY', 'day')"
RAW[token_trends]="
WITH d AS (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, sum(count) AS total,
                  coalesce(sum(count) FILTER (WHERE NOT success), 0) AS failed, count(DISTINCT agent_id) AS agents
           FROM $EV WHERE tenant_id = '$T' AND event_type = 'token_issuance' AND $(range "$F365" "$TODAY") GROUP BY 1)
SELECT jsonb_build_object('tenantId', '$T', 'period', jsonb_build_object('from', '$F365', 'to', '$TODAY'), 'granularity', 'day',
  'dataPoints', jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'), 'totalIssuances', coalesce(d.total, 0),
     'successfulIssuances', coalesce(d.total - d.failed, 0), 'failedIssuances', coalesce(d.failed, 0), 'uniqueAgents', coalesce(d.agents, 0)) ORDER BY g))
FROM generate_series('$F365'::date, '$TODAY'::date, interval '1 day') g LEFT JOIN d ON d.day = g::date"
API[agent_activity]="SELECT analytics_api.agent_activity('$F90', '$TODAY')"
RAW[agent_activity]="
WITH e AS (SELECT * FROM $EV WHERE tenant_id = '$T' AND agent_id IS NOT NULL AND $(range "$F90" "$TODAY")),
c AS (SELECT agent_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
             sum(count) FILTER (WHERE event_type = 'api_call') AS api, sum(count) FILTER (WHERE event_type = 'token_issuance') AS tok,
             sum(count) FILTER (WHERE event_type = 'credential_rotation') AS rot FROM e GROUP BY 1, 2),
per AS (SELECT a.agent_id, jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'), 'apiCalls', coalesce(c.api, 0),
                 'tokenIssuances', coalesce(c.tok, 0), 'credentialRotations', coalesce(c.rot, 0)) ORDER BY g) AS daily
        FROM (SELECT DISTINCT agent_id FROM e) a CROSS JOIN generate_series('$F90'::date, '$TODAY'::date, interval '1 day') g
        LEFT JOIN c ON c.agent_id = a.agent_id AND c.day = g::date GROUP BY a.agent_id)
SELECT jsonb_build_object('tenantId', '$T', 'period', jsonb_build_object('from', '$F90', 'to', '$TODAY'),
  'agents', coalesce(jsonb_agg(jsonb_build_object('agentId', per.agent_id, 'agentName', ag.name, 'dailyActivity', per.daily) ORDER BY ag.name, per.agent_id), '[]'))
FROM per LEFT JOIN analytics.agents ag ON ag.agent_id = per.agent_id"
API[agents_activity]="SELECT analytics_api.agents_activity('90')"
RAW[agents_activity]="
SELECT jsonb_build_object('tenantId', '$T', 'data', coalesce(jsonb_agg(jsonb_build_object('dow', dow, 'hour', hour, 'count', n) ORDER BY dow, hour), '[]'))
FROM (SELECT extract(dow FROM occurred_at AT TIME ZONE 'UTC')::int AS dow, extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int AS hour, sum(count) AS n
      FROM $EV WHERE tenant_id = '$T' AND event_type = 'api_call' AND $(range "$F90" "$TODAY") GROUP BY 1, 2) x"

# warm_time SQL [RUNS]: median server time in ms of RUNS runs in one session
# after one warm-up call, as on one of PostgREST's pooled connections.
warm_time() {
  local q=$1 runs=${2:-7} i
  { echo "$CLAIMS"; echo "SELECT ($q) IS NULL;"
    for ((i = 0; i < runs; i++)); do echo "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $q;"; done; } \
    | bench_psql -tA | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' \
    | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

declare -A TARGET=([usage_summary]=10 [token_trends]=10 [agent_activity]=50 [agents_activity]=10)
declare -A LABEL=([usage_summary]="usage_summary, 365 days" [token_trends]="token_trends (day), 365 days"
                  [agent_activity]="agent_activity, 90 days, all agents" [agents_activity]="agents_activity, 90 days")
ORDER=(usage_summary token_trends agent_activity agents_activity)
events=$(bench_psql -tA -c "SELECT count(*) FROM $EV WHERE tenant_id = '$T'")

printf '\nAPI benchmark: tenant %s (%s events), periods ending %s, median of %s runs, server time (ms)\n\n' "$T" "$events" "$TODAY" "$RUNS"
printf '%-38s %9s %9s %9s %9s %8s %6s %s\n' "function" "API warm" "API cold" "raw SQL" "speed-up" "target" "met" "same answer"
fail=0
for k in "${ORDER[@]}"; do
  same=$(bench_psql -tA <<SQL
$CLAIMS
SELECT (${API[$k]}) = (${RAW[$k]});
SQL
)
  a=$(warm_time "${API[$k]}" "$RUNS")
  c=$(bench_time "$CLAIMS ${API[$k]}" 3)
  r=$(bench_time "SET max_parallel_workers_per_gather = 2; ${RAW[$k]//$'\n'/ }" 3)
  met=$(awk -v a="$a" -v t="${TARGET[$k]}" 'BEGIN { print (a < t) ? "yes" : "NO" }')
  [[ $same == t && $met == yes ]] || fail=1
  printf '%-38s %9s %9s %9s %8sx %6s ms %6s %s\n' "${LABEL[$k]}" "$a" "$c" "$r" "$(ratio "$r" "$a")" "< ${TARGET[$k]}" "$met" "$([[ $same == t ]] && echo yes || echo NO)"
done

# ---- table 2: every §5 function at its default period (30 days ending
# today; agents: the current month), warm.
F30=$(bench_psql -tA -c "SELECT '$TODAY'::date - 29")
M1=$(bench_psql -tA -c "SELECT date_trunc('month', '$TODAY'::date)::date")
declare -A DAPI DRAW
DAPI[usage_summary]="SELECT analytics_api.usage_summary()"
DRAW[usage_summary]="${RAW[usage_summary]//$F365/$F30}"
DRAW[usage_summary]="${DRAW[usage_summary]//365.0/30.0}"
DAPI[token_trends]="SELECT analytics_api.token_trends()"
DRAW[token_trends]="${RAW[token_trends]//$F365/$F30}"
DAPI[agent_activity]="SELECT analytics_api.agent_activity()"
DRAW[agent_activity]="${RAW[agent_activity]//$F90/$F30}"
DAPI[agents_activity]="SELECT analytics_api.agents_activity()"
DRAW[agents_activity]="${RAW[agents_activity]//$F90/$F30}"
DAPI[tokens]="SELECT analytics_api.tokens()"
DRAW[tokens]="
WITH d AS (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, sum(count) AS n
           FROM $EV WHERE tenant_id = '$T' AND event_type = 'token_issuance' AND $(range "$F30" "$TODAY") GROUP BY 1)
SELECT jsonb_build_object('tenantId', '$T', 'days', 30,
  'data', jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'), 'count', coalesce(d.n, 0)) ORDER BY g))
FROM generate_series('$F30'::date, '$TODAY'::date, interval '1 day') g LEFT JOIN d ON d.day = g::date"
DAPI[agents]="SELECT analytics_api.agents()"
DRAW[agents]="
SELECT jsonb_build_object('tenantId', '$T', 'month', to_char('$M1'::date, 'YYYY-MM'),
  'data', coalesce(jsonb_agg(jsonb_build_object('agentId', agent_id, 'tokenCount', n) ORDER BY n DESC, agent_id), '[]'))
FROM (SELECT agent_id, sum(count) AS n FROM $EV
      WHERE tenant_id = '$T' AND agent_id IS NOT NULL AND event_type = 'token_issuance' AND $(range "$M1" "$TODAY")
      GROUP BY 1) x"
DAPI[rotation_frequency]="SELECT analytics_api.rotation_frequency()"
DRAW[rotation_frequency]="
WITH e AS (SELECT * FROM $EV WHERE tenant_id = '$T' AND $(range "$F30" "$TODAY")),
r AS (SELECT agent_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, sum(count) AS n
      FROM e WHERE event_type = 'credential_rotation' GROUP BY 1, 2),
per AS (SELECT a.agent_id, coalesce(sum(r.n), 0) AS rotations, count(r.day) AS days, max(r.day) AS last_day
        FROM (SELECT DISTINCT agent_id FROM e WHERE agent_id IS NOT NULL) a LEFT JOIN r ON r.agent_id = a.agent_id
        GROUP BY a.agent_id)
SELECT jsonb_build_object('tenantId', '$T', 'period', jsonb_build_object('from', '$F30', 'to', '$TODAY'),
  'totalRotations', (SELECT coalesce(sum(count), 0) FROM e WHERE event_type = 'credential_rotation'),
  'agents', coalesce(jsonb_agg(jsonb_build_object('agentId', per.agent_id, 'agentName', ag.name, 'rotations', per.rotations,
     'rotationDays', per.days, 'lastRotationDate', to_char(per.last_day, 'YYYY-MM-DD'),
     'averageDaysBetweenRotations', CASE WHEN per.rotations > 0 THEN round(30::numeric / per.rotations, 1) END)
     ORDER BY per.rotations DESC, ag.name, per.agent_id), '[]'))
FROM per LEFT JOIN analytics.agents ag ON ag.agent_id = per.agent_id"
# (latencies aside: the API's come from sketches, within 1% of these)
DAPI[call_patterns]="SELECT analytics_api.call_patterns()"
DRAW[call_patterns]="
WITH c AS (SELECT endpoint, method, sum(count) AS calls, coalesce(sum(count) FILTER (WHERE success), 0) AS ok,
                  percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms) AS q
           FROM $EV WHERE tenant_id = '$T' AND event_type = 'api_call' AND $(range "$F30" "$TODAY") GROUP BY 1, 2)
SELECT jsonb_build_object('tenantId', '$T', 'period', jsonb_build_object('from', '$F30', 'to', '$TODAY'),
  'totalCalls', coalesce(sum(calls), 0),
  'endpoints', coalesce(jsonb_agg(jsonb_build_object('endpoint', endpoint, 'method', method, 'calls', calls, 'successes', ok,
     'failures', calls - ok, 'successRate', round(ok::numeric / nullif(calls, 0), 4),
     'latencyMs', jsonb_build_object('p50', q[1], 'p95', q[2], 'p99', q[3])) ORDER BY calls DESC, endpoint, method), '[]'))
FROM c"
# strip_latency QUERY: its answer without the endpoints' latencyMs.
strip_latency() {
  echo "(SELECT jsonb_set(j, '{endpoints}', coalesce((SELECT jsonb_agg(x - 'latencyMs' ORDER BY o)
          FROM jsonb_array_elements(j -> 'endpoints') WITH ORDINALITY v(x, o)), '[]')) FROM ($1) s(j))"
}
DORDER=(usage_summary token_trends agent_activity agents_activity tokens agents rotation_frequency call_patterns)

printf '\nDefault periods (30 days ending today; agents: this month), today merged by the minute job plus a minute of raw events, median of %s runs, server time (ms)\n\n' "$RUNS"
printf '%-22s %9s %9s %9s %9s %8s %6s %s\n' "function" "API warm" "API cold" "raw SQL" "speed-up" "target" "met" "same answer"
for k in "${DORDER[@]}"; do
  if [[ $k == call_patterns ]]; then
    cmp="SELECT $(strip_latency "${DAPI[$k]}") = $(strip_latency "${DRAW[$k]}")"
  else
    cmp="SELECT (${DAPI[$k]}) = (${DRAW[$k]})"
  fi
  same=$(bench_psql -tA <<SQL
$CLAIMS
$cmp;
SQL
)
  a=$(warm_time "${DAPI[$k]}" "$RUNS")
  c=$(bench_time "$CLAIMS ${DAPI[$k]}" 3)
  r=$(bench_time "SET max_parallel_workers_per_gather = 2; ${DRAW[$k]//$'\n'/ }" 3)
  met=$(awk -v a="$a" 'BEGIN { print (a <= 2) ? "yes" : "NO" }')
  [[ $same == t && $met == yes ]] || fail=1
  printf '%-22s %9s %9s %9s %8sx %6s ms %6s %s\n' "$k" "$a" "$c" "$r" "$(ratio "$r" "$a")" "<= 2" "$met" "$([[ $same == t ]] && echo yes || echo NO)"
done
exit $fail
