-- datagen/generate.sql: a deterministic demo-data generator for analytics.
--
--   psql -f datagen/generate.sql          (creates schema analytics_datagen)
--   SELECT * FROM analytics_datagen.generate(events => 100000, days => 28);
--
-- The same seed, size and end day give the same rows, so the demo, the tests
-- and the benchmarks share one data set at any size (a thousand to ten
-- million events).  It makes six tenants (enterprise, pro and free), named
-- agents with a skewed share of the traffic, and events with a weekday and
-- office-hours (UTC) rhythm, every event type, a few models, tools and MCP
-- servers, log-normal latencies with a heavy tail, and failures.

CREATE SCHEMA IF NOT EXISTS analytics_datagen;

-- The demo tenants: fixed ids, names, tiers, shares of events, agent counts.
CREATE OR REPLACE FUNCTION analytics_datagen.tenants()
RETURNS TABLE (idx int, tenant_id uuid, name text, tier text, share float8, agents int)
LANGUAGE sql IMMUTABLE
AS $$
    SELECT t.idx, ('00000000-0000-4000-8000-' || lpad(t.idx::text, 12, '0'))::uuid,
           t.name, t.tier, t.share, t.agents
    FROM (VALUES (1, 'Acme Robotics',     'enterprise', 0.40, 24),
                 (2, 'Globex Assistants', 'pro',        0.22, 12),
                 (3, 'Initech Copilots',  'pro',        0.15, 10),
                 (4, 'Umbrella Labs',     'enterprise', 0.12,  8),
                 (5, 'Hooli Hobby',       'free',       0.07,  5),
                 (6, 'Pied Piper Free',   'free',       0.04,  3)) AS t(idx, name, tier, share, agents)
$$;
COMMENT ON FUNCTION analytics_datagen.tenants() IS 'The demo tenants with fixed ids (00000000-0000-4000-8000-00000000000N)';

-- The demo agents: fixed ids per (tenant, agent number), readable names.
CREATE OR REPLACE FUNCTION analytics_datagen.agents()
RETURNS TABLE (tenant_idx int, agent_idx int, agent_id uuid, tenant_id uuid, name text, weight float8)
LANGUAGE sql IMMUTABLE
AS $$
    SELECT t.idx, a.j,
           ('00000000-0000-4000-9' || lpad(t.idx::text, 3, '0') || '-' || lpad(a.j::text, 12, '0'))::uuid,
           t.tenant_id,
           (ARRAY['support-bot', 'code-reviewer', 'sales-assistant', 'data-analyst', 'scheduler',
                  'researcher', 'triage', 'billing-helper'])[1 + (a.j - 1) % 8]
               || '-' || lpad(((a.j - 1) / 8 + 1)::text, 2, '0'),
           1.0 / power(a.j, 0.8)
    FROM analytics_datagen.tenants() t
    CROSS JOIN LATERAL generate_series(1, t.agents) AS a(j)
$$;
COMMENT ON FUNCTION analytics_datagen.agents() IS 'The demo agents: ids 00000000-0000-4000-9TTT-00000000000A for tenant T, agent A';

-- Generate events ending on end_day (UTC), over days days.
CREATE OR REPLACE FUNCTION analytics_datagen.generate(
    events  bigint,
    days    integer DEFAULT 28,
    end_day date    DEFAULT (now() AT TIME ZONE 'UTC')::date,
    seed    float8  DEFAULT 0.42)
RETURNS TABLE (tenants bigint, agents bigint, events_inserted bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    first_day date := end_day - (days - 1);
    n_tenants bigint;
    n_agents  bigint;
    n_events  bigint;
BEGIN
    IF events < 0 OR days < 1 OR days > 3660 THEN
        RAISE EXCEPTION 'events must be >= 0 and days in 1..3660' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM setseed(seed);

    PERFORM analytics.upsert_tenant(t.tenant_id, t.name, t.tier) FROM analytics_datagen.tenants() t;
    PERFORM analytics.upsert_agent(a.agent_id, a.tenant_id, a.name) FROM analytics_datagen.agents() a;
    PERFORM analytics.ensure_partitions(first_day, end_day);
    SELECT count(*) INTO n_tenants FROM analytics_datagen.tenants();
    SELECT count(*) INTO n_agents FROM analytics_datagen.agents();

    -- Hour slots weighted by weekday and UTC office hours, with slow growth;
    -- each slot gets its exact share of the events (cumulative rounding).
    CREATE TEMP TABLE datagen_slots ON COMMIT DROP AS
    WITH s AS (
        SELECT d::date + make_interval(hours => h) AS slot_start,
               (CASE extract(isodow FROM d) WHEN 6 THEN 0.35 WHEN 7 THEN 0.25 ELSE 1.0 END)
             * (CASE WHEN h BETWEEN 9 AND 11 OR h BETWEEN 13 AND 16 THEN 1.0
                     WHEN h = 12 THEN 0.8
                     WHEN h IN (7, 8, 17, 18) THEN 0.55
                     WHEN h BETWEEN 19 AND 22 THEN 0.3
                     ELSE 0.12 END)
             * (1.0 + 0.3 * (d::date - first_day) / greatest(days, 1)) AS w
        FROM generate_series(first_day, end_day, interval '1 day') d
        CROSS JOIN generate_series(0, 23) h
    ), c AS (
        SELECT slot_start, sum(w) OVER (ORDER BY slot_start) AS cum, sum(w) OVER () AS total, w
        FROM s
    )
    SELECT slot_start AT TIME ZONE 'UTC' AS slot_start,
           (floor(events * cum / total) - floor(events * (cum - w) / total))::int AS n
    FROM c ORDER BY slot_start;

    CREATE TEMP TABLE datagen_agents ON COMMIT DROP AS SELECT * FROM analytics_datagen.agents();
    CREATE TEMP TABLE datagen_agent_cum ON COMMIT DROP AS
    SELECT tenant_idx, array_agg(c ORDER BY agent_idx) AS cum
    FROM (SELECT tenant_idx, agent_idx, sum(weight) OVER (PARTITION BY tenant_idx ORDER BY agent_idx)
                 / sum(weight) OVER (PARTITION BY tenant_idx) AS c
          FROM datagen_agents) x
    GROUP BY tenant_idx;

    -- Random draws first, in a fixed order (slot, then event number), so the
    -- data depend only on the seed; names and joins come after.
    INSERT INTO analytics.usage_events
        (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
         tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id,
         workflow_id, execution_id, error_code, attributes)
    SELECT t.tenant_id,
           CASE WHEN r.u_noagent < 0.03 THEN NULL ELSE a.agent_id END,
           r.ts,
           r.etype,
           NOT r.failed,
           CASE WHEN r.etype = 'api_call' AND r.u_count < 0.02 THEN 2 + floor(r.u_count * 900)::int ELSE 1 END,
           CASE WHEN r.etype = 'api_call' THEN ep.endpoint END,
           CASE WHEN r.etype = 'api_call' THEN ep.method END,
           CASE WHEN r.etype = 'api_call' THEN
                CASE WHEN NOT r.failed THEN ep.ok
                     ELSE (ARRAY[500, 429, 401, 503, 404])[1 + floor(r.u_err * 5)::int] END END,
           CASE WHEN r.etype = 'tool_call' THEN (ARRAY['web_search', 'sql_query', 'send_email', 'read_file', 'create_ticket', 'calendar_lookup'])[1 + floor(r.u_pick * 6)::int] END,
           CASE WHEN r.etype = 'tool_call' THEN (ARRAY['mcp-core', 'mcp-core', 'mcp-workspace', 'mcp-data'])[1 + floor(r.u_pick2 * 4)::int] END,
           CASE WHEN r.etype = 'llm_call' THEN (ARRAY['gpt-4o', 'gpt-4o-mini', 'gpt-4o-mini', 'claude-sonnet-4', 'llama-3.1-70b'])[1 + floor(r.u_pick * 5)::int] END,
           CASE WHEN r.etype = 'llm_call' THEN round(exp(6.7 + 0.7 * r.z1))::bigint END,
           CASE WHEN r.etype = 'llm_call' THEN round(exp(5.5 + 0.6 * r.z2))::bigint END,
           CASE WHEN r.etype IN ('credential_rotation', 'session') THEN NULL
                ELSE round((exp(CASE r.etype WHEN 'api_call' THEN 3.8 WHEN 'llm_call' THEN 6.8
                                              WHEN 'tool_call' THEN 4.8 WHEN 'token_issuance' THEN 2.1
                                              WHEN 'agent_execution' THEN 8.3 ELSE 9.4 END
                                + 0.6 * r.z1)
                            * CASE WHEN r.u_tail < 0.01 THEN 1.0 / power(1.0 - r.u_pick2, 1.0 / 1.5) ELSE 1.0 END)::numeric, 3)::float8
           END,
           'user-' || lpad((1 + floor(r.u_user * 200))::int::text, 3, '0'),
           CASE WHEN r.etype IN ('session', 'llm_call', 'tool_call') THEN 'sess-' || (floor(r.u_user * 5000))::int END,
           CASE WHEN r.etype = 'workflow' THEN 'wf-' || (1 + floor(r.u_pick * 12))::int END,
           CASE WHEN r.etype IN ('agent_execution', 'workflow') THEN 'exec-' || (floor(r.u_user * 1e6))::int END,
           CASE WHEN r.failed THEN (ARRAY['rate_limited', 'timeout', 'invalid_token', 'upstream_error'])[1 + floor(r.u_err * 4)::int] END,
           NULL
    FROM (
        SELECT g.*,
               CASE WHEN g.etype = 'token_issuance' THEN g.u_fail < 0.04
                    WHEN g.etype = 'api_call' THEN g.u_fail < 0.02
                    WHEN g.etype IN ('tool_call', 'llm_call', 'agent_execution', 'workflow') THEN g.u_fail < 0.025
                    ELSE false END AS failed,
               sqrt(-2 * ln(1 - g.u1)) * cos(2 * pi() * g.u2) AS z1,
               sqrt(-2 * ln(1 - g.u1)) * sin(2 * pi() * g.u2) AS z2
        FROM (
            SELECT s.slot_start + random() * interval '1 hour' AS ts,
                   width_bucket(random(), ARRAY[0.40, 0.62, 0.77, 0.89, 0.96]::float8[]) + 1 AS tenant_idx,
                   random() AS u_agent,
                   (ARRAY['api_call', 'llm_call', 'tool_call', 'token_issuance', 'agent_execution',
                          'session', 'workflow', 'credential_rotation'])
                       [width_bucket(random(), ARRAY[0.50, 0.66, 0.82, 0.92, 0.95, 0.975, 0.995]::float8[]) + 1] AS etype,
                   random() AS u_fail, random() AS u1, random() AS u2, random() AS u_tail,
                   random() AS u_pick, random() AS u_pick2, random() AS u_err, random() AS u_user,
                   random() AS u_count, random() AS u_noagent, random() AS u_ep
            FROM datagen_slots s
            CROSS JOIN LATERAL generate_series(1, s.n) e
            OFFSET 0
        ) g
    ) r
    JOIN analytics_datagen.tenants() t ON t.idx = r.tenant_idx
    JOIN datagen_agent_cum ac ON ac.tenant_idx = r.tenant_idx
    JOIN datagen_agents a ON a.tenant_idx = r.tenant_idx
                         AND a.agent_idx = least(width_bucket(r.u_agent, ac.cum) + 1, t.agents)
    CROSS JOIN LATERAL (
        SELECT (ARRAY['/v1/chat/completions', '/v1/agents/{id}/run', '/v1/tokens', '/v1/tools', '/v1/agents',
                      '/v1/credentials/rotate', '/v1/embeddings', '/v1/health'])[k] AS endpoint,
               (ARRAY['POST', 'POST', 'POST', 'GET', 'GET', 'POST', 'POST', 'GET'])[k] AS method,
               (ARRAY[200, 202, 201, 200, 200, 200, 200, 200])[k] AS ok
        FROM (SELECT width_bucket(r.u_ep, ARRAY[0.30, 0.50, 0.65, 0.78, 0.88, 0.94, 0.98]::float8[]) + 1 AS k) kk
    ) ep;
    GET DIAGNOSTICS n_events = ROW_COUNT;

    RETURN QUERY SELECT n_tenants, n_agents, n_events;
END
$$;
COMMENT ON FUNCTION analytics_datagen.generate(bigint, integer, date, float8) IS
    'Inserts a deterministic set of demo events (same seed, size and end day give the same rows)';
