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

\echo '== Acme Robotics: the last 7 days'
SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
       sum(count) FILTER (WHERE event_type = 'api_call') AS api_calls,
       count(*) FILTER (WHERE event_type = 'token_issuance') AS token_issuances,
       count(*) FILTER (WHERE event_type = 'token_issuance' AND NOT success) AS token_failures,
       count(*) FILTER (WHERE event_type = 'credential_rotation') AS rotations
FROM analytics.usage_events
WHERE tenant_id = '00000000-0000-4000-8000-000000000001'
  AND occurred_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '7 days'
GROUP BY 1 ORDER BY 1;

\echo '== Ingesting a batch with record_events (JSON, all or nothing)'
SELECT analytics.record_events($$[
  {"tenant_id": "00000000-0000-4000-8000-000000000001", "agent_id": "00000000-0000-4000-9001-000000000001",
   "occurred_at": "now", "event_type": "llm_call", "model": "gpt-4o", "input_tokens": 900, "output_tokens": 210, "latency_ms": 812.5},
  {"tenant_id": "00000000-0000-4000-8000-000000000001", "occurred_at": "now", "event_type": "token_issuance", "success": false,
   "error_code": "invalid_client"}
]$$) AS events_stored;

\echo '== Partitions (one per UTC day)'
SELECT count(*) AS day_partitions, min(day) AS first_day, max(day) AS last_day
FROM analytics.event_partitions WHERE day IS NOT NULL;
