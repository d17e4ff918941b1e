-- setup: install the oldest release, load data, update along the chain to
-- the current version (as postgresql-hll's setup does), and check that no
-- row of user data was lost; every later regression test runs on the
-- updated extension.  (tools/schema_check.sh checks that the updated schema
-- is the schema of a fresh install.)
SET client_min_messages = warning;
CREATE EXTENSION analytics VERSION '0.1.0';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'analytics';
-- Data in 0.1.0: a tenant, events of two days (one rolled), a price.
SELECT (analytics.upsert_tenant('5e700000-0000-4000-8000-000000000001', 'Upgrade Co', 'pro')).tier;
INSERT INTO analytics.model_prices (model, input_usd_per_mtok, output_usd_per_mtok) VALUES ('setup-model', 3, 15);
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, model,
                                    input_tokens, output_tokens, latency_ms)
SELECT '5e700000-0000-4000-8000-000000000001', ('5e700000-0000-4000-8000-00000000010' || (i % 3))::uuid,
       timestamptz '2031-03-01 00:00:00+00' + (i % 2) * interval '1 day' + i * interval '37 seconds',
       (ARRAY['api_call', 'token_issuance', 'llm_call', 'credential_rotation'])[1 + i % 4], i % 7 <> 0, 1 + i % 3,
       '/v1/x', 'setup-model', 100 * i, 10 * i, i * 1.5
FROM generate_series(1, 400) i;
SELECT analytics.run_rollup('2031-03-01') > 0 AS rolled;
CREATE TEMP TABLE before AS
SELECT 'tenants' AS t, count(*) AS n FROM analytics.tenants UNION ALL
SELECT 'agents', count(*) FROM analytics.agents UNION ALL
SELECT 'usage_events', count(*) FROM analytics.usage_events UNION ALL
SELECT 'event_sum', sum(count) FROM analytics.usage_events UNION ALL
SELECT 'rollup_days', count(*) FROM analytics.rollup_days UNION ALL
SELECT 'changed_days', count(*) FROM analytics.rollup_invalidations UNION ALL
SELECT 'analytics_daily_aggregates', sum(count) FROM analytics.analytics_daily_aggregates UNION ALL
SELECT 'usage_stats_daily', sum(calls) FROM analytics.usage_stats_daily UNION ALL
SELECT 'tenant_daily', sum(events) FROM analytics.tenant_daily UNION ALL
SELECT 'model_prices', count(*) FROM analytics.model_prices UNION ALL
SELECT 'job_runs', count(*) FROM analytics.job_runs;
-- Today's partition, made by 0.1.0 (with no index on (tenant_id,
-- ingested_at)).
SELECT analytics.ensure_partitions((now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date) AS partitions_made;
-- The update.
ALTER EXTENSION analytics UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'analytics';
-- The update gives the live days' partitions (yesterday on) their index on
-- (tenant_id, ingested_at): today's has it, none lacks it.
SELECT count(*) AS live_partitions, count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
           WHERE x.indrelid = c.oid AND ic.relname = c.relname || '_tenant_ingested_idx')) AS without_tail_index
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'analytics.usage_events'::regclass AND c.relname ~ '^usage_events_p[0-9]{8}$'
  AND to_date(substr(c.relname, 15), 'YYYYMMDD') >= (now() AT TIME ZONE 'UTC')::date - 1;
-- Every row kept: the counts before and after, side by side (no output = equal).
SELECT b.t, b.n AS before, a.n AS after
FROM before b
JOIN (SELECT 'tenants' AS t, count(*) AS n FROM analytics.tenants UNION ALL
      SELECT 'agents', count(*) FROM analytics.agents UNION ALL
      SELECT 'usage_events', count(*) FROM analytics.usage_events UNION ALL
      SELECT 'event_sum', sum(count) FROM analytics.usage_events UNION ALL
      SELECT 'rollup_days', count(*) FROM analytics.rollup_days UNION ALL
      -- (the log of changed days grows: 0.4.0 logs every rolled day as
      -- rewritten, checked below)
      SELECT 'changed_days', count(*) - 1 FROM analytics.changed_days UNION ALL
      SELECT 'analytics_daily_aggregates', sum(count) FROM analytics.analytics_daily_aggregates UNION ALL
      SELECT 'usage_stats_daily', sum(calls) FROM analytics.usage_stats_daily UNION ALL
      SELECT 'tenant_daily', sum(events) FROM analytics.tenant_daily UNION ALL
      SELECT 'model_prices', count(*) FROM analytics.model_prices UNION ALL
      SELECT 'job_runs', count(*) FROM analytics.job_runs) a ON a.t = b.t
WHERE a.n IS DISTINCT FROM b.n;
-- The rolled day reads the same from the rollups as from its raw events.
SELECT count(*) AS days_differing
FROM analytics.daily_counts('5e700000-0000-4000-8000-000000000001', '2031-03-01', '2031-03-02') d
JOIN (SELECT (e.occurred_at AT TIME ZONE 'UTC')::date AS date,
             coalesce(sum(e.count) FILTER (WHERE e.event_type = 'api_call'), 0) AS api_calls,
             coalesce(sum(e.count) FILTER (WHERE e.event_type = 'token_issuance'), 0) AS token_issuances,
             coalesce(sum(e.count) FILTER (WHERE e.event_type = 'token_issuance' AND NOT e.success), 0) AS token_failures
      FROM analytics.usage_events e WHERE e.tenant_id = '5e700000-0000-4000-8000-000000000001'
      GROUP BY 1) r ON r.date = d.date
WHERE (d.api_calls, d.token_issuances, d.token_failures) IS DISTINCT FROM (r.api_calls, r.token_issuances, r.token_failures);
-- The per-agent and per-endpoint read models of 0.3.0 were filled from the
-- rollups of 0.2.0: both days read the same as their raw events.
SELECT count(*) AS agent_days_differing
FROM (SELECT * FROM analytics.read_agent_days('5e700000-0000-4000-8000-000000000001', '2031-03-01', '2031-03-02')
      WHERE agent_id IS NOT NULL) d
FULL JOIN (SELECT (e.occurred_at AT TIME ZONE 'UTC')::date AS date, e.agent_id,
                  coalesce(sum(e.count) FILTER (WHERE e.event_type = 'api_call'), 0) AS api_calls,
                  coalesce(sum(e.count) FILTER (WHERE e.event_type = 'token_issuance'), 0) AS token_issuances,
                  coalesce(sum(e.count) FILTER (WHERE e.event_type = 'credential_rotation'), 0) AS credential_rotations,
                  coalesce(sum(e.count) FILTER (WHERE e.event_type = 'llm_call'), 0) AS llm_calls
           FROM analytics.usage_events e WHERE e.tenant_id = '5e700000-0000-4000-8000-000000000001'
           GROUP BY 1, 2) r USING (date, agent_id)
WHERE (d.api_calls, d.token_issuances, d.credential_rotations, d.llm_calls)
      IS DISTINCT FROM (r.api_calls, r.token_issuances, r.credential_rotations, r.llm_calls);
SELECT count(*) AS endpoints_differing
FROM analytics.read_endpoint_stats('5e700000-0000-4000-8000-000000000001', '2031-03-01', '2031-03-02') s
FULL JOIN (SELECT e.endpoint, sum(e.count) AS calls, coalesce(sum(e.count) FILTER (WHERE e.success), 0) AS successes,
                  sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL) AS latencies
           FROM analytics.usage_events e
           WHERE e.tenant_id = '5e700000-0000-4000-8000-000000000001' AND e.event_type = 'api_call'
           GROUP BY 1) r USING (endpoint)
WHERE (s.calls, s.successes, analytics.sketch_count(s.latency)) IS DISTINCT FROM (r.calls, r.successes, r.latencies);
-- 0.4.0: the rolled day is logged as rewritten (its rollup families are
-- empty), so it reads from raw events until the next rollup; rolled again,
-- its families hold its events.
SELECT day, appended FROM analytics.changed_days WHERE day BETWEEN '2031-03-01' AND '2031-03-02' ORDER BY day;
SELECT analytics.run_rollup('2031-03-01') > 0 AS rolled_again;
SELECT count(*) AS types_differing
FROM (SELECT event_type, sum(events) AS events, sum(failures) AS failures, sum(latency_n) AS latency_n,
             sum(input_tokens) AS input_tokens
      FROM analytics.type_hourly WHERE tenant_id = '5e700000-0000-4000-8000-000000000001' GROUP BY 1) f
FULL JOIN (SELECT event_type, sum(count) AS events, coalesce(sum(count) FILTER (WHERE NOT success), 0) AS failures,
                  sum(count) FILTER (WHERE latency_ms IS NOT NULL) AS latency_n, coalesce(sum(input_tokens), 0) AS input_tokens
           FROM analytics.usage_events
           WHERE tenant_id = '5e700000-0000-4000-8000-000000000001' AND occurred_at < '2031-03-02 00:00:00+00'
           GROUP BY 1) r USING (event_type)
WHERE (f.events, f.failures, f.latency_n, f.input_tokens) IS DISTINCT FROM (r.events, r.failures, r.latency_n, r.input_tokens);
-- The upgrade's data is removed so that the later tests start empty.
DELETE FROM analytics.usage_events WHERE tenant_id = '5e700000-0000-4000-8000-000000000001';
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT DISTINCT family FROM analytics.family_columns() LOOP
        EXECUTE format('DELETE FROM analytics.%I WHERE tenant_id = %L', t, '5e700000-0000-4000-8000-000000000001');
    END LOOP;
END
$$;
DELETE FROM analytics.analytics_daily_aggregates WHERE tenant_id = '5e700000-0000-4000-8000-000000000001';
DELETE FROM analytics.usage_stats_daily WHERE tenant_id = '5e700000-0000-4000-8000-000000000001';
DELETE FROM analytics.tenant_daily WHERE tenant_id = '5e700000-0000-4000-8000-000000000001';
DELETE FROM analytics.agent_daily WHERE tenant_id = '5e700000-0000-4000-8000-000000000001';
DELETE FROM analytics.endpoint_daily WHERE tenant_id = '5e700000-0000-4000-8000-000000000001';
DELETE FROM analytics.agents WHERE tenant_id = '5e700000-0000-4000-8000-000000000001';
DELETE FROM analytics.tenants WHERE tenant_id = '5e700000-0000-4000-8000-000000000001';
DELETE FROM analytics.rollup_days WHERE day BETWEEN '2031-03-01' AND '2031-03-02';
DELETE FROM analytics.changed_days WHERE day BETWEEN '2031-03-01' AND '2031-03-02';
DELETE FROM analytics.model_prices WHERE model = 'setup-model';
DELETE FROM analytics.job_runs;
SELECT n.nspname FROM pg_namespace n WHERE n.nspname LIKE 'analytics%' ORDER BY 1;
SHOW analytics.enabled;
SHOW analytics.free_tier_access;
SHOW analytics.partition_premake_days;
