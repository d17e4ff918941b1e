-------------------------------------------------------------------------------
-- functions/75_ops_usage.sql (layer 75, reports of contract §6.3): usage,
-- tools, errors and performance for the operators and for each tenant.
--
--   summary(tenant, from, to)                 totals and latency per event type
--   agent_usage(tenant, from, to)             per agent: executions, durations, calls, tokens, cost
--   tool_usage(tenant, from, to, mcp_server)  per tool and MCP server: calls, latency, agents
--   top_agents(tenant, from, to, metric, top) the agents with the most calls, tokens, cost or failures
--   tool_heatmap(tenant, from, to, tool)      day-of-week x hour cells of tool calls
--   error_summary(tenant, from, to)           failures by code, event type, agent and tool
--   error_trends(tenant, from, to, granularity)  events and failures per bucket and event type
--   performance_summary(tenant, from, to)     api calls per endpoint (seed 002: snake_case keys),
--                                             executions and workflows
--
-- Typed twins of the analytics_api functions (layer 81): the window [from,
-- to) as timestamps, tenant NULL = every tenant, no tenant checks.  Each
-- reads rollup families through analytics.read_family (whole buckets from
-- the rollups, the rest from raw events) and aggregates the rows it gets
-- in the same statement, which touches only the function's output (Citus:
-- the distributed reads stay inside read_family).  Agent names come from
-- analytics.agents in a statement of their own.  Re-runnable.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.summary(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid      uuid := summary.tenant_id;
    sessions bigint;
    users    bigint;
    result   jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    -- (sessions and users are per tenant: the same id in two tenants is two)
    SELECT count(*) INTO sessions
    FROM (SELECT DISTINCT s.tenant_id, s.session_id
          FROM analytics.read_family(NULL::analytics.session_daily, tid, "from", "to") s) x;
    SELECT count(*) INTO users
    FROM (SELECT DISTINCT u.tenant_id, u.user_id
          FROM analytics.read_family(NULL::analytics.user_daily, tid, "from", "to") u) x;
    WITH r AS MATERIALIZED (
        SELECT r.agent_id, r.event_type, r.events, r.failures, r.latency, r.input_tokens, r.output_tokens,
               r.cached_input_tokens, r.cache_write_tokens, r.cost_usd, r.unpriced_calls
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r),
    bt AS (
        SELECT r.event_type, sum(r.events) AS events, sum(r.failures) AS failures,
               sum(r.input_tokens) AS input_tokens, sum(r.output_tokens) AS output_tokens,
               sum(r.cached_input_tokens) AS cached_input_tokens, sum(r.cache_write_tokens) AS cache_write_tokens,
               sum(r.cost_usd) AS cost_usd, sum(r.unpriced_calls) AS unpriced_calls,
               analytics.qsketch_merge(r.latency) AS latency
        FROM r GROUP BY r.event_type)
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'totals', jsonb_build_object(
            'events', coalesce(sum(bt.events), 0),
            'apiCalls', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'api_call'), 0),
            'toolCalls', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'tool_call'), 0),
            'llmCalls', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'llm_call'), 0),
            'executions', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'agent_execution'), 0),
            'workflows', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'workflow'), 0),
            'sessions', sessions,
            'failures', coalesce(sum(bt.failures), 0),
            'errorRate', analytics.ratio(sum(bt.failures), sum(bt.events)),
            'inputTokens', coalesce(sum(bt.input_tokens), 0),
            'outputTokens', coalesce(sum(bt.output_tokens), 0),
            'cachedInputTokens', coalesce(sum(bt.cached_input_tokens), 0),
            'cacheWriteTokens', coalesce(sum(bt.cache_write_tokens), 0),
            'costUsd', round(coalesce(sum(bt.cost_usd), 0), 6),
            'unpricedCalls', coalesce(sum(bt.unpriced_calls), 0),
            'activeAgents', (SELECT count(DISTINCT r.agent_id) FROM r),
            'activeUsers', users),
        'latency', coalesce(jsonb_object_agg(bt.event_type, analytics.latency_json(bt.latency)), '{}'))
    INTO result
    FROM bt;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.summary(uuid, timestamptz, timestamptz) IS
    'Totals of a tenant (NULL: every tenant) over the window [from, to): events, api/tool/llm calls, executions, workflows, distinct sessions, failures, errorRate, input/output/cached/cache-write tokens, costUsd, unpricedCalls, active agents and users; latency p50/p95/p99 per event type (contract §6.3 summary)';

CREATE OR REPLACE FUNCTION analytics.agent_usage(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := agent_usage.tenant_id;
    total  bigint;
    agents jsonb;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    WITH r AS MATERIALIZED (
        SELECT r.agent_id, r.event_type, r.events, r.failures, r.timeouts, r.latency_n, r.latency_sum, r.latency,
               r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r),
    -- (every execution of the scope, those with no agent included)
    tot AS (SELECT coalesce(sum(r.events) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS n FROM r),
    per AS (
        SELECT r.agent_id,
               coalesce(sum(r.events) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS executions,
               coalesce(sum(r.failures) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS failures,
               coalesce(sum(r.timeouts) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS timeouts,
               analytics.qsketch_merge(r.latency) FILTER (WHERE r.event_type = 'agent_execution') AS duration,
               sum(r.latency_sum) FILTER (WHERE r.event_type = 'agent_execution') AS duration_sum,
               sum(r.latency_n) FILTER (WHERE r.event_type = 'agent_execution') AS duration_n,
               coalesce(sum(r.events) FILTER (WHERE r.event_type = 'tool_call'), 0)::bigint AS tool_calls,
               coalesce(sum(r.events) FILTER (WHERE r.event_type = 'llm_call'), 0)::bigint AS llm_calls,
               sum(r.input_tokens) AS input_tokens, sum(r.output_tokens) AS output_tokens, sum(r.cost_usd) AS cost_usd
        FROM r WHERE r.agent_id IS NOT NULL GROUP BY r.agent_id)
    SELECT tot.n,
           coalesce((SELECT jsonb_agg(jsonb_build_object(
                'agentId', p.agent_id,
                'executions', p.executions,
                'successes', p.executions - p.failures,
                'failures', p.failures,
                'timeouts', p.timeouts,
                'share', analytics.ratio(p.executions, tot.n),
                'durationMs', analytics.latency_json(p.duration)
                              || jsonb_build_object('avg', CASE WHEN p.duration_n > 0
                                                                THEN round((p.duration_sum / p.duration_n)::numeric, 3) END),
                'toolCalls', p.tool_calls,
                'llmCalls', p.llm_calls,
                'inputTokens', p.input_tokens,
                'outputTokens', p.output_tokens,
                'costUsd', round(p.cost_usd, 6)) ORDER BY p.executions DESC, p.agent_id)
                     FROM per p), '[]')
    INTO total, agents
    FROM tot;
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'totalExecutions', total,
        'agents', coalesce(jsonb_agg(jsonb_build_object('agentName', a.name) || p.o ORDER BY p.i), '[]'))
    INTO result
    FROM jsonb_array_elements(agents) WITH ORDINALITY p(o, i)
    LEFT JOIN analytics.agents a ON a.agent_id = (p.o ->> 'agentId')::uuid;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_usage(uuid, timestamptz, timestamptz) IS
    'Per agent of a tenant (NULL: every tenant) with an event in the window [from, to): executions, successes, failures, timeouts, share of all executions of the scope, durationMs p50/p95/p99/avg, tool and LLM calls, input/output tokens, costUsd; most executions first (contract §6.3 agent_usage)';

CREATE OR REPLACE FUNCTION analytics.tool_usage(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                mcp_server text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := tool_usage.tenant_id;
    server text := tool_usage.mcp_server;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    WITH r AS MATERIALIZED (
        SELECT r.tool_name, r.mcp_server, r.calls, r.failures, r.latency_n, r.latency_sum, r.latency, r.agents, r.last_at
        FROM analytics.read_family(NULL::analytics.tool_daily, tid, "from", "to") r
        WHERE server IS NULL OR r.mcp_server = server),
    g AS (
        SELECT r.tool_name, r.mcp_server, sum(r.calls)::bigint AS calls, sum(r.failures)::bigint AS failures,
               analytics.qsketch_merge(r.latency) AS latency, sum(r.latency_sum) AS latency_sum,
               sum(r.latency_n) AS latency_n, max(r.last_at) AS last_at
        FROM r GROUP BY r.tool_name, r.mcp_server),
    ag AS (
        SELECT r.tool_name, r.mcp_server, count(DISTINCT a) AS agents
        FROM r CROSS JOIN LATERAL unnest(r.agents) a GROUP BY r.tool_name, r.mcp_server)
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'mcpServer', server,
        'tools', coalesce(jsonb_agg(jsonb_build_object(
            'tool', g.tool_name,
            'mcpServer', g.mcp_server,
            'calls', g.calls,
            'successes', g.calls - g.failures,
            'failures', g.failures,
            'successRate', analytics.ratio(g.calls - g.failures, g.calls),
            'latencyMs', analytics.latency_json(g.latency)
                         || jsonb_build_object('avg', CASE WHEN g.latency_n > 0
                                                           THEN round((g.latency_sum / g.latency_n)::numeric, 3) END),
            'agents', coalesce(ag.agents, 0),
            'lastCalledAt', analytics.utc_text(g.last_at))
            ORDER BY g.calls DESC, g.tool_name, g.mcp_server), '[]'))
    INTO result
    FROM g
    LEFT JOIN ag ON ag.tool_name IS NOT DISTINCT FROM g.tool_name AND ag.mcp_server IS NOT DISTINCT FROM g.mcp_server;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.tool_usage(uuid, timestamptz, timestamptz, text) IS
    'Tool calls of a tenant (NULL: every tenant) in the window [from, to) per tool and MCP server (only mcp_server when given): calls, successes, failures, successRate, latencyMs p50/p95/p99/avg, distinct agents, lastCalledAt; most calls first (contract §6.3 tool_usage)';

CREATE OR REPLACE FUNCTION analytics.top_agents(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                metric text DEFAULT 'calls', top integer DEFAULT 10)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := top_agents.tenant_id;
    agents jsonb;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    IF metric IS NULL OR metric NOT IN ('calls', 'tokens', 'cost', 'failures') THEN
        RAISE EXCEPTION 'invalid metric "%"', metric
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use calls, tokens, cost or failures.';
    END IF;
    IF top IS NULL OR top NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'invalid top %', top
            USING ERRCODE = 'invalid_parameter_value', HINT = 'top is an integer from 1 to 100.';
    END IF;
    WITH per AS (
        SELECT r.agent_id,
               coalesce(sum(r.events) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS calls,
               sum(r.input_tokens + r.output_tokens) AS tokens,
               round(sum(r.cost_usd), 6) AS cost,
               sum(r.failures)::bigint AS failures
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r
        WHERE r.agent_id IS NOT NULL
        GROUP BY r.agent_id),
    v AS (
        SELECT per.*, CASE WHEN metric = 'calls' THEN per.calls::numeric WHEN metric = 'tokens' THEN per.tokens
                           WHEN metric = 'cost' THEN per.cost ELSE per.failures::numeric END AS value
        FROM per
        ORDER BY value DESC, per.agent_id
        LIMIT top)
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'agentId', v.agent_id, 'value', v.value, 'calls', v.calls, 'tokens', v.tokens,
               'costUsd', v.cost, 'failures', v.failures) ORDER BY v.value DESC, v.agent_id), '[]')
    INTO agents
    FROM v;
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'metric', metric,
        'top', top,
        'agents', coalesce(jsonb_agg(jsonb_build_object('rank', p.i, 'agentName', a.name) || p.o ORDER BY p.i), '[]'))
    INTO result
    FROM jsonb_array_elements(agents) WITH ORDINALITY p(o, i)
    LEFT JOIN analytics.agents a ON a.agent_id = (p.o ->> 'agentId')::uuid;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.top_agents(uuid, timestamptz, timestamptz, text, integer) IS
    'The top agents (1 to 100) of a tenant (NULL: every tenant) in the window [from, to) by metric: calls (agent executions), tokens (input + output), cost (USD) or failures (failed events of any type); each with its value and all four metrics; agents with an event in the window, value then agent id (contract §6.3 top_agents)';

CREATE OR REPLACE FUNCTION analytics.tool_heatmap(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                  tool text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := tool_heatmap.tenant_id;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'tool', tool,
        'cells', coalesce(jsonb_agg(jsonb_build_object(
            'tool', g.tool_name, 'mcpServer', g.mcp_server, 'dow', c.dow, 'hour', c.hour, 'count', c.count)
            ORDER BY g.tool_name, g.mcp_server, c.dow, c.hour), '[]'))
    INTO result
    FROM (SELECT r.tool_name, r.mcp_server, analytics.heatmap_merge(r.heatmap) AS heatmap
          FROM analytics.read_family(NULL::analytics.tool_daily, tid, "from", "to") r
          WHERE tool_heatmap.tool IS NULL OR r.tool_name = tool_heatmap.tool
          GROUP BY r.tool_name, r.mcp_server) g
    CROSS JOIN LATERAL analytics.heatmap_cells(g.heatmap) c;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.tool_heatmap(uuid, timestamptz, timestamptz, text) IS
    'Day-of-week x hour (UTC, dow 0 = Sunday) counts of the tool calls of a tenant (NULL: every tenant) in the window [from, to) per tool and MCP server (only tool when given): non-zero cells ordered by tool, server, dow, hour (contract §6.3 tool_heatmap)';

CREATE OR REPLACE FUNCTION analytics.error_summary(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid        uuid := error_summary.tenant_id;
    events     bigint;
    failures   bigint;
    by_type    jsonb;
    by_code    jsonb;
    top_agents jsonb;
    top_tools  jsonb;
    result     jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    WITH bt AS (
        SELECT r.event_type, sum(r.events)::bigint AS events, sum(r.failures)::bigint AS failures
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r
        GROUP BY r.event_type)
    SELECT coalesce(sum(bt.events), 0), coalesce(sum(bt.failures), 0),
           coalesce(jsonb_agg(jsonb_build_object('eventType', bt.event_type, 'events', bt.events, 'failures', bt.failures,
                                                 'errorRate', analytics.ratio(bt.failures, bt.events))
                              ORDER BY bt.failures DESC, bt.event_type), '[]')
    INTO events, failures, by_type
    FROM bt;
    WITH r AS MATERIALIZED (
        SELECT r.event_type, r.error_code, r.agent_id, r.tool_name, r.mcp_server, r.failures, r.last_at
        FROM analytics.read_family(NULL::analytics.error_daily, tid, "from", "to") r)
    SELECT
        (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'errorCode', c.error_code, 'count', c.n,
                    'lastSeenAt', analytics.utc_text(c.last_at))
                    ORDER BY c.n DESC, c.error_code), '[]')
         FROM (SELECT r.error_code, sum(r.failures)::bigint AS n, max(r.last_at) AS last_at
               FROM r GROUP BY r.error_code) c),
        (SELECT coalesce(jsonb_agg(jsonb_build_object('agentId', a.agent_id, 'failures', a.n)
                                   ORDER BY a.n DESC, a.agent_id), '[]')
         FROM (SELECT r.agent_id, sum(r.failures)::bigint AS n
               FROM r WHERE r.agent_id IS NOT NULL
               GROUP BY r.agent_id ORDER BY 2 DESC, 1 LIMIT 10) a),
        (SELECT coalesce(jsonb_agg(jsonb_build_object('tool', t.tool_name, 'mcpServer', t.mcp_server, 'failures', t.n)
                                   ORDER BY t.n DESC, t.tool_name, t.mcp_server), '[]')
         FROM (SELECT r.tool_name, r.mcp_server, sum(r.failures)::bigint AS n
               FROM r WHERE r.event_type = 'tool_call'
               GROUP BY r.tool_name, r.mcp_server ORDER BY 3 DESC, 1, 2 LIMIT 10) t)
    INTO by_code, top_agents, top_tools;
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'events', events,
        'failures', failures,
        'errorRate', analytics.ratio(failures, events),
        'byCode', by_code,
        'byEventType', by_type,
        'topAgents', coalesce(jsonb_agg(jsonb_build_object('agentName', a.name) || p.o ORDER BY p.i), '[]'),
        'topTools', top_tools)
    INTO result
    FROM jsonb_array_elements(top_agents) WITH ORDINALITY p(o, i)
    LEFT JOIN analytics.agents a ON a.agent_id = (p.o ->> 'agentId')::uuid;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.error_summary(uuid, timestamptz, timestamptz) IS
    'Failures of a tenant (NULL: every tenant) in the window [from, to): events, failures, errorRate; byCode (count, lastSeenAt; most first), byEventType (events, failures, errorRate), the 10 agents and the 10 tools (tool calls per tool and MCP server) with the most failures (contract §6.3 error_summary)';

CREATE OR REPLACE FUNCTION analytics.error_trends(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                  granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := error_trends.tenant_id;
    gran   text := error_trends.granularity;
    hourly boolean;
    f_day  timestamp;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    IF gran IS NULL OR gran NOT IN ('hour', 'day', 'week', 'month') THEN
        RAISE EXCEPTION 'invalid granularity "%"', gran
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use hour, day, week or month.';
    END IF;
    -- (an Nh window is N hours and a microsecond: now included)
    IF gran = 'hour' AND "to" - "from" > interval '7 days 1 microsecond' THEN
        RAISE EXCEPTION 'granularity hour is for windows of at most 7 days'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use day, week or month.';
    END IF;
    hourly := gran = 'hour';
    f_day := date_trunc('day', "from" AT TIME ZONE 'UTC');
    -- Hour buckets from type_hourly, the others from agent_type_daily (the
    -- family not wanted gets no window: read_family returns nothing).  A
    -- bucket is labelled by its start (UTC); a week (ISO) or month by its
    -- first day in the window.
    WITH r AS (
        SELECT h.bucket, h.event_type, h.events, h.failures
        FROM analytics.read_family(NULL::analytics.type_hourly, tid, CASE WHEN hourly THEN "from" END, "to") h
        UNION ALL
        SELECT d.bucket, d.event_type, d.events, d.failures
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, CASE WHEN NOT hourly THEN "from" END, "to") d),
    g AS MATERIALIZED (
        SELECT CASE WHEN gran = 'week' THEN greatest(date_trunc('week', r.bucket AT TIME ZONE 'UTC'), f_day)
                    WHEN gran = 'month' THEN greatest(date_trunc('month', r.bucket AT TIME ZONE 'UTC'), f_day)
                    ELSE r.bucket AT TIME ZONE 'UTC' END AS b,
               r.event_type, sum(r.events)::bigint AS events, sum(r.failures)::bigint AS failures
        FROM r GROUP BY 1, 2),
    buckets AS (
        SELECT DISTINCT CASE WHEN gran = 'week' THEN greatest(date_trunc('week', s), f_day)
                             WHEN gran = 'month' THEN greatest(date_trunc('month', s), f_day)
                             ELSE s END AS b
        FROM generate_series(date_trunc(CASE WHEN hourly THEN 'hour' ELSE 'day' END, "from" AT TIME ZONE 'UTC'),
                             ("to" - interval '1 microsecond') AT TIME ZONE 'UTC',
                             CASE WHEN hourly THEN interval '1 hour' ELSE interval '1 day' END) s
        WHERE "from" < "to"),
    types AS (SELECT DISTINCT g.event_type FROM g),
    cells AS (
        SELECT b.b, t.event_type, coalesce(g.events, 0) AS events, coalesce(g.failures, 0) AS failures
        FROM buckets b CROSS JOIN types t
        LEFT JOIN g ON g.b = b.b AND g.event_type = t.event_type),
    per AS (
        SELECT b.b,
               coalesce(sum(c.events), 0)::bigint AS events, coalesce(sum(c.failures), 0)::bigint AS failures,
               coalesce(jsonb_agg(jsonb_build_object('eventType', c.event_type, 'events', c.events, 'failures', c.failures,
                                                     'errorRate', analytics.ratio(c.failures, c.events))
                                  ORDER BY c.event_type) FILTER (WHERE c.event_type IS NOT NULL), '[]') AS by_type
        FROM buckets b LEFT JOIN cells c ON c.b = b.b
        GROUP BY b.b)
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'granularity', gran,
        'buckets', coalesce(jsonb_agg(jsonb_build_object(
            'bucket', CASE WHEN hourly THEN to_char(per.b, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ELSE to_char(per.b, 'YYYY-MM-DD') END,
            'events', per.events,
            'failures', per.failures,
            'errorRate', analytics.ratio(per.failures, per.events),
            'byEventType', per.by_type,
            -- (webhook deliveries come with the alerts of §6.6; none yet)
            'webhookDeliveries', jsonb_build_object('attempts', 0, 'failures', 0)) ORDER BY per.b), '[]'))
    INTO result
    FROM per;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.error_trends(uuid, timestamptz, timestamptz, text) IS
    'Events and failures of a tenant (NULL: every tenant) in the window [from, to) per bucket (hour for windows up to 7 days, day, ISO week or month; labelled by the start, a week or month by its first day in the window; every bucket, zero-filled, oldest first): totals and per event type with errorRate, and webhookDeliveries {attempts, failures} (zeros until the alerts of §6.6 deliver) (contract §6.3 error_trends)';

CREATE OR REPLACE FUNCTION analytics.performance_summary(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid       uuid := performance_summary.tenant_id;
    secs      numeric;
    endpoints jsonb;
    runs      jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    secs := extract(epoch FROM "to" - "from");
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'endpoint', g.endpoint,
               'method', g.method,
               'status_class', CASE WHEN g.status_class IS NOT NULL THEN g.status_class || 'xx' END,
               'calls', g.calls,
               'throughput_per_second', CASE WHEN secs > 0 THEN round(g.calls / secs, 6) ELSE 0 END,
               'error_rate', analytics.ratio(g.failures, g.calls))
               || analytics.latency_json(g.latency)
               ORDER BY g.calls DESC, g.endpoint, g.method, g.status_class), '[]')
    INTO endpoints
    FROM (SELECT r.endpoint, r.method, r.status_class, sum(r.calls)::bigint AS calls, sum(r.failures)::bigint AS failures,
                 analytics.qsketch_merge(r.latency) AS latency
          FROM analytics.read_family(NULL::analytics.api_daily, tid, "from", "to") r
          GROUP BY r.endpoint, r.method, r.status_class) g;
    SELECT jsonb_object_agg(k.key, jsonb_build_object('count', coalesce(g.n, 0)) || analytics.latency_json(g.latency))
    INTO runs
    FROM (VALUES ('executions', 'agent_execution'), ('workflows', 'workflow')) k(key, event_type)
    LEFT JOIN (SELECT r.event_type, sum(r.events)::bigint AS n, analytics.qsketch_merge(r.latency) AS latency
               FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r
               WHERE r.event_type IN ('agent_execution', 'workflow')
               GROUP BY r.event_type) g ON g.event_type = k.event_type;
    RETURN jsonb_build_object(
        'tenant_id', tid,
        'period', analytics.window_json("from", "to"),
        'window_seconds', round(secs, 3),
        'endpoints', endpoints)
        || runs;
END
$$;
COMMENT ON FUNCTION analytics.performance_summary(uuid, timestamptz, timestamptz) IS
    'Performance of a tenant (NULL: every tenant) in the window [from, to), seed 002 keys: per endpoint, method and status class (2xx...) the calls, throughput_per_second, error_rate and p50/p95/p99 (ms); executions and workflows: count and p50/p95/p99; most calls first (contract §6.3 performance_summary)';
