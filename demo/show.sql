-- demo/show.sql: what `make demo` prints, from the demo data.
\pset footer off
\echo
\echo '== Tenants, their tier and their events'
SELECT t.name AS tenant, t.tier, count(DISTINCT e.agent_id) AS agents,
       count(*) AS events, sum(e.count) FILTER (WHERE e.event_type = 'api_call') AS api_calls
FROM analytics.tenants t JOIN analytics.usage_events e USING (tenant_id)
GROUP BY t.name, t.tier ORDER BY events DESC;

\echo '== Events by type (all tenants)'
SELECT event_type, sum(count) AS events,
       round(100.0 * avg((NOT success)::int), 1) AS failed_pct
FROM analytics.usage_events GROUP BY event_type ORDER BY events DESC;

\echo '== The rollup job (pg_cron runs it nightly; make demo ran it once)'
SELECT count(*) AS days_rolled, sum(rows) AS rows_written, round(sum(duration_ms)::numeric) AS total_ms,
       count(*) FILTER (WHERE status = 'failed') AS failed
FROM analytics.job_runs WHERE job = 'rollup';
SELECT jobname, schedule, command FROM cron.job ORDER BY jobname;

\echo '== Acme Robotics: the usage summary of the last 30 days (from the daily rollups, C aggregate)'
SELECT jsonb_pretty(analytics.usage_summary_agg(date, metric_type, count, current_date - 29, current_date)
       || jsonb_build_object('activeAgentCount', count(DISTINCT agent_id) FILTER (WHERE count > 0))) AS summary
FROM analytics.analytics_daily_aggregates
WHERE tenant_id = '00000000-0000-4000-8000-000000000001' AND date BETWEEN current_date - 29 AND current_date;

\echo '== Ingesting a batch with record_events (JSON, all or nothing)'
SELECT analytics.record_events($$[
  {"tenant_id": "00000000-0000-4000-8000-000000000001", "agent_id": "00000000-0000-4000-9001-000000000001",
   "occurred_at": "now", "event_type": "llm_call", "model": "gpt-4o", "input_tokens": 900, "output_tokens": 210, "latency_ms": 812.5},
  {"tenant_id": "00000000-0000-4000-8000-000000000001", "occurred_at": "now", "event_type": "token_issuance", "success": false,
   "error_code": "invalid_client"}
]$$) AS events_stored;

\echo '== Acme Robotics: the last 7 days, real time (rollups + today''s raw events, including the batch above)'
SELECT * FROM analytics.daily_counts('00000000-0000-4000-8000-000000000001', current_date - 6, current_date);

\echo '== Acme Robotics: busiest day-of-week x hour cells of API calls, last 30 days (merged daily heatmaps)'
SELECT c.dow, c.hour, c.count
FROM (SELECT analytics.heatmap_merge(api_heatmap) AS m FROM analytics.tenant_daily
      WHERE tenant_id = '00000000-0000-4000-8000-000000000001' AND date >= current_date - 30) h,
     analytics.heatmap_cells(h.m) c
ORDER BY c.count DESC LIMIT 5;

\echo '== Latency percentiles by event type, last 30 days (merged daily sketches, 1% relative error)'
SELECT event_type, sum(calls) AS calls,
       round(q[1]::numeric, 1) AS p50_ms, round(q[2]::numeric, 1) AS p95_ms, round(q[3]::numeric, 1) AS p99_ms
FROM (SELECT event_type, sum(calls) AS calls,
             analytics.quantiles(analytics.qsketch_merge(latency), ARRAY[0.5, 0.95, 0.99]) AS q
      FROM analytics.usage_stats_daily WHERE date >= current_date - 30 GROUP BY event_type) s
GROUP BY event_type, q ORDER BY calls DESC;

\echo '== Estimated LLM cost by tenant and model, last 30 days'
SELECT t.name AS tenant, s.model, sum(s.input_tokens) AS input_tokens, sum(s.output_tokens) AS output_tokens,
       round(sum(s.cost_usd), 2) AS usd
FROM analytics.usage_stats_daily s JOIN analytics.tenants t USING (tenant_id)
WHERE s.event_type = 'llm_call' AND s.date >= current_date - 30
GROUP BY t.name, s.model ORDER BY usd DESC LIMIT 6;

\echo '== Token issuances per ISO week, last 8 weeks (gap-filled trend)'
SELECT bucket AS week, count AS issuances, count2 AS failed
FROM analytics.trend((SELECT analytics.daycounts_agg(date, token_issuances, token_failures, current_date - 55, current_date)
                      FROM analytics.daily_counts('00000000-0000-4000-8000-000000000001', current_date - 55, current_date)),
                     'week', current_date - 55, current_date);

\echo '== Partitions (one per UTC day)'
SELECT count(*) AS day_partitions, min(day) AS first_day, max(day) AS last_day
FROM analytics.event_partitions WHERE day IS NOT NULL;

\echo '== Operator analytics (docs/operator.md): top agents of every tenant by executions, last 7 days'
SELECT x ->> 'rank' AS rank, x ->> 'agentName' AS agent, t.name AS tenant, x ->> 'calls' AS executions,
       x ->> 'failures' AS failures, x ->> 'tokens' AS tokens
FROM jsonb_array_elements(analytics.top_agents(NULL, ((current_date - 6)::timestamp AT TIME ZONE 'UTC'),
                                               ((current_date + 1)::timestamp AT TIME ZONE 'UTC'), 'calls', 5) -> 'agents') x
JOIN analytics.agents a ON a.agent_id = (x ->> 'agentId')::uuid
JOIN analytics.tenants t ON t.tenant_id = a.tenant_id
ORDER BY (x ->> 'rank')::int;

\echo '== Operator analytics: Acme Robotics'' tools over the last 24 hours (rollups plus raw events, real time)'
SELECT x ->> 'tool' AS tool, x ->> 'mcpServer' AS mcp_server, x ->> 'calls' AS calls, x ->> 'successRate' AS success_rate,
       x #>> '{latencyMs,p95}' AS p95_ms
FROM jsonb_array_elements(analytics.tool_usage('00000000-0000-4000-8000-000000000001', now() - interval '24 hours',
                                               now() + interval '1 microsecond') -> 'tools') x
LIMIT 5;

\echo '== Operator analytics: workflow runs by type, last 7 days'
SELECT x ->> 'workflowType' AS workflow_type, x ->> 'runs' AS runs, x ->> 'successRate' AS success_rate,
       x #>> '{durationMs,p95}' AS p95_ms, x ->> 'avgAgentsPerRun' AS agents_per_run
FROM jsonb_array_elements(analytics.workflow_performance(NULL, ((current_date - 6)::timestamp AT TIME ZONE 'UTC'),
                                                         ((current_date + 1)::timestamp AT TIME ZONE 'UTC')) -> 'workflowTypes') x;
