-------------------------------------------------------------------------------
-- bench/operator_baselines.sql: the plain-SQL baselines of bench/operator.sh
-- (not part of the extension; loaded into the bench database by the bench).
--
-- One function per §6.3 read function in schema bench_ops, with the typed
-- twin's name and parameters (tenant NULL = every tenant, the window
-- [from, to), then the function's own), answering the same JSON from the raw
-- events of analytics.usage_events alone: no rollup family, no reader, no
-- sketch.  They are the oracles of the pgTAP tests (08_ops_usage_oracle.sql,
-- 09_ops_sessions.inc, 10_ops_platform_oracle.sql) made into functions of
-- their window, with what those tests check apart put back in (exact
-- nearest-rank latency percentiles, averages) and the per-bucket
-- correlated subqueries of two of them written as GROUP BY (same answer,
-- fewer passes).  "New" tenants, agents and users need every earlier event:
-- platform_trends and dashboard read the scope's whole history.
--
-- Each is PL/pgSQL with plan_cache_mode = force_custom_plan, so that its
-- statement is planned with the call's values as literals (the plan a
-- hand-written query with those values gets: partitions pruned at plan
-- time, estimates from the statistics).  bench_ops.diff(a, b) lists the
-- differences between a typed twin's answer and a baseline's (percentiles
-- within 1%, averages within 0.0011 ms).  Re-runnable.
-------------------------------------------------------------------------------
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench_ops CASCADE;
CREATE SCHEMA bench_ops;

-------------------------------------------------------------------------------
-- Helpers (SQL, inlined where they can be)
-------------------------------------------------------------------------------

-- The raw events of one tenant (NULL: all) in [f, t), with their price.
CREATE FUNCTION bench_ops.ev(tid uuid, f timestamptz, t timestamptz)
RETURNS TABLE (tenant_id uuid, agent_id uuid, occurred_at timestamptz, event_type text, success boolean, n bigint,
               endpoint text, method text, status_code smallint, tool_name text, mcp_server text, model text,
               input_tokens bigint, output_tokens bigint, cached_input_tokens bigint, cache_write_tokens bigint,
               latency_ms float8, user_id text, session_id text, workflow_id text, execution_id text, error_code text,
               workflow_type text, priced boolean, cost numeric, unpriced boolean)
LANGUAGE sql STABLE
AS $$
    SELECT e.tenant_id, e.agent_id, e.occurred_at, e.event_type, e.success, e.count::bigint, e.endpoint, e.method,
           e.status_code, e.tool_name, e.mcp_server, e.model, e.input_tokens, e.output_tokens, e.cached_input_tokens,
           e.cache_write_tokens, e.latency_ms, e.user_id, e.session_id, e.workflow_id, e.execution_id, e.error_code,
           e.workflow_type, p.model IS NOT NULL,
           CASE WHEN e.event_type = 'llm_call'
                THEN (coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000 END,
           e.event_type = 'llm_call' AND p.model IS NULL
    FROM analytics.usage_events e
    LEFT JOIN analytics.model_prices p ON p.model = e.model
    WHERE (tid IS NULL OR e.tenant_id = tid) AND e.occurred_at >= f AND e.occurred_at < t
$$;

CREATE FUNCTION bench_ops.rate(part numeric, whole numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE WHEN coalesce(whole, 0) = 0 THEN 0 ELSE round(coalesce(part, 0) / whole, 4) END $$;

CREATE FUNCTION bench_ops.ts(t timestamptz) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- The answer's period for the window [f, t): dates when both ends are UTC midnights.
CREATE FUNCTION bench_ops.period(f timestamptz, t timestamptz) RETURNS jsonb LANGUAGE sql STABLE
AS $$ SELECT CASE WHEN date_trunc('day', f AT TIME ZONE 'UTC') = f AT TIME ZONE 'UTC'
                       AND date_trunc('day', t AT TIME ZONE 'UTC') = t AT TIME ZONE 'UTC'
                  THEN jsonb_build_object('from', to_char(f AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                                          'to', to_char((t AT TIME ZONE 'UTC') - interval '1 day', 'YYYY-MM-DD'))
                  ELSE jsonb_build_object('from', bench_ops.ts(f), 'to', bench_ops.ts(t)) END $$;

-- Exact nearest-rank p50/p95/p99 of values v[i] each counted n[i] times
-- (percentile_disc's rank: max(1, ceil(q * N))), 3 decimals; nulls when none.
CREATE FUNCTION bench_ops.pct(v float8[], n bigint[]) RETURNS jsonb LANGUAGE sql IMMUTABLE
AS $$
    WITH x AS (SELECT u.v, sum(u.n) AS n FROM unnest(v, n) u(v, n) WHERE u.v IS NOT NULL GROUP BY u.v),
    c AS (SELECT x.v, sum(x.n) OVER (ORDER BY x.v) AS cum, sum(x.n) OVER () AS tot FROM x)
    SELECT jsonb_build_object(
        'p50', (SELECT round(min(c.v)::numeric, 3) FROM c WHERE c.cum >= greatest(1, ceil(0.5::float8 * c.tot::float8))),
        'p95', (SELECT round(min(c.v)::numeric, 3) FROM c WHERE c.cum >= greatest(1, ceil(0.95::float8 * c.tot::float8))),
        'p99', (SELECT round(min(c.v)::numeric, 3) FROM c WHERE c.cum >= greatest(1, ceil(0.99::float8 * c.tot::float8))))
$$;

-- The count-weighted mean of v[i] (n[i] each), 3 decimals.
CREATE FUNCTION bench_ops.wavg(v float8[], n bigint[]) RETURNS numeric LANGUAGE sql IMMUTABLE
AS $$ SELECT round((sum(u.v * u.n) / sum(u.n))::numeric, 3) FROM unnest(v, n) u(v, n) WHERE u.v IS NOT NULL $$;

-- A bucket label of an instant (10_ops_platform_oracle.sql): hour, day,
-- week (ISO Monday, not before the window's first day), month (likewise),
-- or 'all' (the whole window).
CREATE FUNCTION bench_ops.ob(ts timestamptz, gran text, f timestamptz) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE gran
    WHEN 'hour' THEN to_char(date_trunc('hour', ts AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')
    WHEN 'day' THEN to_char((ts AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')
    WHEN 'week' THEN to_char(greatest((f AT TIME ZONE 'UTC')::date, date_trunc('week', ts AT TIME ZONE 'UTC')::date), 'YYYY-MM-DD')
    WHEN 'month' THEN to_char(greatest((f AT TIME ZONE 'UTC')::date, date_trunc('month', ts AT TIME ZONE 'UTC')::date), 'YYYY-MM-DD')
    ELSE 'all' END $$;

-- Every bucket label of [f, t).
CREATE FUNCTION bench_ops.labels(f timestamptz, t timestamptz, gran text) RETURNS SETOF text LANGUAGE sql STABLE
AS $$ SELECT DISTINCT bench_ops.ob(g, gran, f)
      FROM (SELECT generate_series(f, t - interval '1 microsecond', interval '1 hour') UNION SELECT t - interval '1 microsecond') x(g)
      ORDER BY 1 $$;

-- The UTC buckets (hour, day, week, month) meeting [f, t): start, and
-- label = the start clipped to the window (09_ops_sessions.inc).
CREATE FUNCTION bench_ops.buckets(f timestamptz, t timestamptz, g text) RETURNS TABLE (b timestamp, label timestamp)
LANGUAGE sql STABLE
AS $$
    SELECT DISTINCT date_trunc(g, x AT TIME ZONE 'UTC'), greatest(date_trunc(g, x AT TIME ZONE 'UTC'), f AT TIME ZONE 'UTC')
    FROM generate_series(date_trunc('hour', f AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', t - interval '1 microsecond', interval '1 hour') x
    ORDER BY 1
$$;

-- The differences between an answer a and a baseline's b ('' when none):
-- percentiles within 1% + 0.0006, averages within 0.0011, all else equal
-- (08_ops_usage_oracle.sql's pg_temp.diff, with the seed-002 key names).
CREATE FUNCTION bench_ops.diff(a jsonb, b jsonb, path text DEFAULT '$') RETURNS text LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    k   text;
    i   integer;
    out text := '';
    bad boolean;
    key text := substring(path FROM '([A-Za-z0-9_]+)$');
BEGIN
    IF jsonb_typeof(a) IS DISTINCT FROM jsonb_typeof(b) THEN
        RETURN format('%s: %s vs %s; ', path, coalesce(a::text, 'missing'), coalesce(b::text, 'missing'));
    END IF;
    IF jsonb_typeof(a) = 'object' THEN
        FOR k IN SELECT x FROM jsonb_object_keys(a) x UNION SELECT x FROM jsonb_object_keys(b) x ORDER BY 1 LOOP
            out := out || bench_ops.diff(a -> k, b -> k, path || '.' || k);
        END LOOP;
    ELSIF jsonb_typeof(a) = 'array' THEN
        IF jsonb_array_length(a) <> jsonb_array_length(b) THEN
            out := format('%s: %s elements vs %s; ', path, jsonb_array_length(a), jsonb_array_length(b));
        END IF;
        FOR i IN 0 .. least(jsonb_array_length(a), jsonb_array_length(b)) - 1 LOOP
            out := out || bench_ops.diff(a -> i, b -> i, path || '[' || i || ']');
            EXIT WHEN length(out) > 3000;
        END LOOP;
    ELSIF jsonb_typeof(a) = 'number' THEN
        bad := CASE WHEN key ~ '(^|_)p(50|95|99)$' THEN abs(a::numeric - b::numeric) > 0.01 * abs(b::numeric) + 0.0006
                    WHEN key IN ('avg', 'avg_response_time', 'avgResponseTimeMs') THEN abs(a::numeric - b::numeric) > 0.0011
                    ELSE a::numeric <> b::numeric END;
        IF bad THEN
            out := format('%s: %s vs %s; ', path, a, b);
        END IF;
    ELSIF a <> b THEN
        out := format('%s: %s vs %s; ', path, a, b);
    END IF;
    RETURN left(out, 3000);
END
$$;

-------------------------------------------------------------------------------
-- 08_ops_usage_oracle.sql: summary, agent_usage, tool_usage, top_agents,
-- tool_heatmap, error_summary, error_trends, performance_summary
-------------------------------------------------------------------------------

CREATE FUNCTION bench_ops.summary(p_tid uuid, p_from timestamptz, p_to timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT x.tenant_id, x.agent_id, x.event_type, x.success, x.n, x.input_tokens, x.output_tokens, x.cached_input_tokens,
               x.cache_write_tokens, x.cost, x.unpriced, x.latency_ms, x.user_id, x.session_id
        FROM bench_ops.ev(p_tid, p_from, p_to) x)
    SELECT jsonb_build_object('tenantId', p_tid, 'period', bench_ops.period(p_from, p_to),
        'totals', jsonb_build_object(
            'events', coalesce(sum(n), 0),
            'apiCalls', coalesce(sum(n) FILTER (WHERE event_type = 'api_call'), 0),
            'toolCalls', coalesce(sum(n) FILTER (WHERE event_type = 'tool_call'), 0),
            'llmCalls', coalesce(sum(n) FILTER (WHERE event_type = 'llm_call'), 0),
            'executions', coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0),
            'workflows', coalesce(sum(n) FILTER (WHERE event_type = 'workflow'), 0),
            'sessions', count(DISTINCT tenant_id || ' ' || session_id),
            'failures', coalesce(sum(n) FILTER (WHERE NOT success), 0),
            'errorRate', bench_ops.rate(sum(n) FILTER (WHERE NOT success), sum(n)),
            'inputTokens', coalesce(sum(input_tokens), 0),
            'outputTokens', coalesce(sum(output_tokens), 0),
            'cachedInputTokens', coalesce(sum(cached_input_tokens), 0),
            'cacheWriteTokens', coalesce(sum(cache_write_tokens), 0),
            'costUsd', round(coalesce(sum(cost), 0), 6),
            'unpricedCalls', coalesce(sum(n) FILTER (WHERE unpriced), 0),
            'activeAgents', count(DISTINCT agent_id),
            'activeUsers', count(DISTINCT tenant_id || ' ' || user_id)),
        'latency', coalesce((SELECT jsonb_object_agg(y.event_type, y.lat)
                             FROM (SELECT e.event_type, bench_ops.pct(array_agg(e.latency_ms), array_agg(e.n)) AS lat
                                   FROM e GROUP BY 1) y), '{}'))
    INTO r
    FROM e;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.agent_usage(p_tid uuid, p_from timestamptz, p_to timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT y.agent_id, y.event_type, y.success, y.n, y.error_code, y.latency_ms, y.input_tokens, y.output_tokens, y.cost,
               y.event_type = 'agent_execution' AS x
        FROM bench_ops.ev(p_tid, p_from, p_to) y),
    tot AS (SELECT coalesce(sum(n) FILTER (WHERE x), 0) AS n FROM e),
    per AS (SELECT agent_id,
                   coalesce(sum(n) FILTER (WHERE x), 0) AS ex,
                   coalesce(sum(n) FILTER (WHERE x AND NOT success), 0) AS fl,
                   coalesce(sum(n) FILTER (WHERE x AND error_code = 'timeout'), 0) AS tmo,
                   bench_ops.pct(array_agg(latency_ms) FILTER (WHERE x), array_agg(n) FILTER (WHERE x)) AS lat,
                   bench_ops.wavg(array_agg(latency_ms) FILTER (WHERE x), array_agg(n) FILTER (WHERE x)) AS avg,
                   coalesce(sum(n) FILTER (WHERE event_type = 'tool_call'), 0) AS tc,
                   coalesce(sum(n) FILTER (WHERE event_type = 'llm_call'), 0) AS lc,
                   coalesce(sum(input_tokens), 0) AS it, coalesce(sum(output_tokens), 0) AS ot,
                   round(coalesce(sum(cost), 0), 6) AS cost
            FROM e WHERE agent_id IS NOT NULL GROUP BY agent_id)
    SELECT jsonb_build_object('tenantId', p_tid, 'period', bench_ops.period(p_from, p_to), 'totalExecutions', tot.n,
        'agents', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'agentId', p.agent_id, 'agentName', a.name, 'executions', p.ex, 'successes', p.ex - p.fl,
                                'failures', p.fl, 'timeouts', p.tmo, 'share', bench_ops.rate(p.ex, tot.n),
                                'durationMs', p.lat || jsonb_build_object('avg', p.avg), 'toolCalls', p.tc, 'llmCalls', p.lc,
                                'inputTokens', p.it, 'outputTokens', p.ot, 'costUsd', p.cost) ORDER BY p.ex DESC, p.agent_id)
                            FROM per p LEFT JOIN analytics.agents a ON a.agent_id = p.agent_id), '[]'))
    INTO r
    FROM tot;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.tool_usage(p_tid uuid, p_from timestamptz, p_to timestamptz, p_server text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH g AS (
        SELECT tool_name, mcp_server, sum(n) AS calls, coalesce(sum(n) FILTER (WHERE NOT success), 0) AS fl,
               bench_ops.pct(array_agg(latency_ms), array_agg(n)) AS lat, bench_ops.wavg(array_agg(latency_ms), array_agg(n)) AS avg,
               count(DISTINCT agent_id) AS ag, max(occurred_at) AS last
        FROM bench_ops.ev(p_tid, p_from, p_to)
        WHERE event_type = 'tool_call' AND (p_server IS NULL OR mcp_server = p_server)
        GROUP BY 1, 2)
    SELECT jsonb_build_object('tenantId', p_tid, 'period', bench_ops.period(p_from, p_to), 'mcpServer', p_server,
        'tools', coalesce((SELECT jsonb_agg(jsonb_build_object(
                               'tool', tool_name, 'mcpServer', mcp_server, 'calls', calls, 'successes', calls - fl, 'failures', fl,
                               'successRate', bench_ops.rate(calls - fl, calls), 'latencyMs', lat || jsonb_build_object('avg', avg),
                               'agents', ag, 'lastCalledAt', bench_ops.ts(last)) ORDER BY calls DESC, tool_name, mcp_server)
                           FROM g), '[]'))
    INTO r;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.top_agents(p_tid uuid, p_from timestamptz, p_to timestamptz, p_metric text DEFAULT 'calls',
                                     p_top integer DEFAULT 10) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH per AS (
        SELECT agent_id, coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0) AS calls,
               coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens,
               round(coalesce(sum(cost), 0), 6) AS cost, coalesce(sum(n) FILTER (WHERE NOT success), 0) AS failures
        FROM bench_ops.ev(p_tid, p_from, p_to) WHERE agent_id IS NOT NULL GROUP BY agent_id),
    v AS (
        SELECT per.*, x.value, row_number() OVER (ORDER BY x.value DESC, per.agent_id) AS rank
        FROM per CROSS JOIN LATERAL (SELECT CASE p_metric WHEN 'calls' THEN per.calls WHEN 'tokens' THEN per.tokens
                                                          WHEN 'cost' THEN per.cost ELSE per.failures END AS value) x)
    SELECT jsonb_build_object('tenantId', p_tid, 'period', bench_ops.period(p_from, p_to), 'metric', p_metric, 'top', p_top,
        'agents', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'rank', v.rank, 'agentId', v.agent_id, 'agentName', a.name, 'value', v.value, 'calls', v.calls,
                                'tokens', v.tokens, 'costUsd', v.cost, 'failures', v.failures) ORDER BY v.rank)
                            FROM v LEFT JOIN analytics.agents a ON a.agent_id = v.agent_id WHERE v.rank <= p_top), '[]'))
    INTO r;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.tool_heatmap(p_tid uuid, p_from timestamptz, p_to timestamptz, p_tool text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    SELECT jsonb_build_object('tenantId', p_tid, 'period', bench_ops.period(p_from, p_to), 'tool', p_tool,
        'cells', coalesce(jsonb_agg(jsonb_build_object('tool', tool_name, 'mcpServer', mcp_server, 'dow', dow, 'hour', hour, 'count', c)
                                    ORDER BY tool_name, mcp_server, dow, hour), '[]'))
    INTO r
    FROM (SELECT tool_name, mcp_server, extract(dow FROM occurred_at AT TIME ZONE 'UTC')::int AS dow,
                 extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int AS hour, sum(n) AS c
          FROM bench_ops.ev(p_tid, p_from, p_to) WHERE event_type = 'tool_call' AND (p_tool IS NULL OR tool_name = p_tool)
          GROUP BY 1, 2, 3, 4) x;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.error_summary(p_tid uuid, p_from timestamptz, p_to timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT y.event_type, y.success, y.n, y.error_code, y.occurred_at, y.agent_id, y.tool_name, y.mcp_server
        FROM bench_ops.ev(p_tid, p_from, p_to) y)
    SELECT jsonb_build_object('tenantId', p_tid, 'period', bench_ops.period(p_from, p_to),
        'events', (SELECT coalesce(sum(n), 0) FROM e),
        'failures', (SELECT coalesce(sum(n), 0) FROM e WHERE NOT success),
        'errorRate', (SELECT bench_ops.rate(sum(n) FILTER (WHERE NOT success), sum(n)) FROM e),
        'byCode', (SELECT coalesce(jsonb_agg(jsonb_build_object('errorCode', error_code, 'count', c, 'lastSeenAt', bench_ops.ts(last))
                                             ORDER BY c DESC, error_code), '[]')
                   FROM (SELECT error_code, sum(n) AS c, max(occurred_at) AS last FROM e WHERE NOT success GROUP BY 1) x),
        'byEventType', (SELECT coalesce(jsonb_agg(jsonb_build_object('eventType', event_type, 'events', ev, 'failures', fl,
                                                                     'errorRate', bench_ops.rate(fl, ev)) ORDER BY fl DESC, event_type), '[]')
                        FROM (SELECT event_type, sum(n) AS ev, coalesce(sum(n) FILTER (WHERE NOT success), 0) AS fl FROM e GROUP BY 1) x),
        'topAgents', (SELECT coalesce(jsonb_agg(jsonb_build_object('agentId', x.agent_id, 'agentName', a.name, 'failures', x.fl)
                                                ORDER BY x.fl DESC, x.agent_id), '[]')
                      FROM (SELECT agent_id, sum(n) AS fl FROM e WHERE NOT success AND agent_id IS NOT NULL
                            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10) x
                      LEFT JOIN analytics.agents a ON a.agent_id = x.agent_id),
        'topTools', (SELECT coalesce(jsonb_agg(jsonb_build_object('tool', tool_name, 'mcpServer', mcp_server, 'failures', fl)
                                               ORDER BY fl DESC, tool_name, mcp_server), '[]')
                     FROM (SELECT tool_name, mcp_server, sum(n) AS fl FROM e WHERE NOT success AND event_type = 'tool_call'
                           GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 10) x))
    INTO r;
    RETURN r;
END
$$;

-- A time's bucket of granularity gran in a window starting at f (UTC).
CREATE FUNCTION bench_ops.lab(ts timestamptz, gran text, f timestamptz) RETURNS timestamp LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE gran WHEN 'hour' THEN date_trunc('hour', ts AT TIME ZONE 'UTC')
                       WHEN 'day' THEN date_trunc('day', ts AT TIME ZONE 'UTC')
                       WHEN 'week' THEN greatest(date_trunc('week', ts AT TIME ZONE 'UTC'), date_trunc('day', f AT TIME ZONE 'UTC'))
                       ELSE greatest(date_trunc('month', ts AT TIME ZONE 'UTC'), date_trunc('day', f AT TIME ZONE 'UTC')) END $$;

CREATE FUNCTION bench_ops.error_trends(p_tid uuid, p_from timestamptz, p_to timestamptz, p_gran text DEFAULT 'day') RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (SELECT bench_ops.lab(y.occurred_at, p_gran, p_from) AS b, y.event_type, y.n, y.success
                            FROM bench_ops.ev(p_tid, p_from, p_to) y),
    b AS (SELECT DISTINCT bench_ops.lab(g, p_gran, p_from) AS b
          FROM generate_series(date_trunc(CASE WHEN p_gran = 'hour' THEN 'hour' ELSE 'day' END, p_from), p_to - interval '1 microsecond',
                               CASE WHEN p_gran = 'hour' THEN interval '1 hour' ELSE interval '1 day' END) g),
    ty AS (SELECT DISTINCT event_type FROM e),
    g AS (SELECT e.b, e.event_type, sum(e.n) AS ev, coalesce(sum(e.n) FILTER (WHERE NOT e.success), 0) AS fl FROM e GROUP BY 1, 2),
    cell AS (SELECT b.b, ty.event_type, coalesce(g.ev, 0) AS ev, coalesce(g.fl, 0) AS fl
             FROM b CROSS JOIN ty LEFT JOIN g ON g.b = b.b AND g.event_type = ty.event_type),
    per AS (SELECT cell.b, sum(cell.ev) AS ev, sum(cell.fl) AS fl,
                   jsonb_agg(jsonb_build_object('eventType', cell.event_type, 'events', cell.ev, 'failures', cell.fl,
                                                'errorRate', bench_ops.rate(cell.fl, cell.ev)) ORDER BY cell.event_type) AS by_type
            FROM cell GROUP BY cell.b)
    SELECT jsonb_build_object('tenantId', p_tid, 'period', bench_ops.period(p_from, p_to), 'granularity', p_gran,
        'buckets', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'bucket', CASE WHEN p_gran = 'hour' THEN to_char(b.b, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ELSE to_char(b.b, 'YYYY-MM-DD') END,
                'events', coalesce(per.ev, 0),
                'failures', coalesce(per.fl, 0),
                'errorRate', bench_ops.rate(per.fl, per.ev),
                'byEventType', coalesce(per.by_type, '[]'),
                'webhookDeliveries', jsonb_build_object('attempts', 0, 'failures', 0)) ORDER BY b.b)
            FROM b LEFT JOIN per ON per.b = b.b), '[]'))
    INTO r;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.performance_summary(p_tid uuid, p_from timestamptz, p_to timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT y.event_type, y.endpoint, y.method, y.status_code, y.success, y.n, y.latency_ms
        FROM bench_ops.ev(p_tid, p_from, p_to) y WHERE y.event_type IN ('api_call', 'agent_execution', 'workflow')),
    s AS (SELECT extract(epoch FROM p_to - p_from) AS s)
    SELECT jsonb_build_object('tenant_id', p_tid, 'period', bench_ops.period(p_from, p_to), 'window_seconds', round(s.s, 3),
        'endpoints', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                   'endpoint', endpoint, 'method', method, 'status_class', sc || 'xx', 'calls', c,
                                   'throughput_per_second', round(c / s.s, 6), 'error_rate', bench_ops.rate(fl, c)) || lat
                                   ORDER BY c DESC, endpoint, method, sc)
                               FROM (SELECT endpoint, method, (status_code / 100)::smallint AS sc, sum(n) AS c,
                                            coalesce(sum(n) FILTER (WHERE NOT success), 0) AS fl,
                                            bench_ops.pct(array_agg(latency_ms), array_agg(n)) AS lat
                                     FROM e WHERE event_type = 'api_call' GROUP BY 1, 2, 3) x), '[]'),
        'executions', (SELECT jsonb_build_object('count', coalesce(sum(n), 0)) || bench_ops.pct(array_agg(latency_ms), array_agg(n))
                       FROM e WHERE event_type = 'agent_execution'),
        'workflows', (SELECT jsonb_build_object('count', coalesce(sum(n), 0)) || bench_ops.pct(array_agg(latency_ms), array_agg(n))
                      FROM e WHERE event_type = 'workflow'))
    INTO r
    FROM s;
    RETURN r;
END
$$;

-------------------------------------------------------------------------------
-- 09_ops_sessions.inc: session_activity, session_detail, execution_detail,
-- user_analytics, user_trends, workflow_performance
-------------------------------------------------------------------------------

-- (the oracle's per-bucket subqueries as one GROUP BY; avgResponseTimeMs,
-- which the test checks apart, put back)
CREATE FUNCTION bench_ops.session_activity(p_tid uuid, p_from timestamptz, p_to timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    g text := CASE WHEN p_to - p_from <= interval '48 hours 1 microsecond' THEN 'hour' ELSE 'day' END;
    r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT y.tenant_id, y.session_id, y.user_id, y.occurred_at, y.event_type, y.success, y.n, y.latency_ms,
               date_trunc(g, y.occurred_at AT TIME ZONE 'UTC') AS b
        FROM bench_ops.ev(p_tid, p_from, p_to) y WHERE y.session_id IS NOT NULL),
    s AS (SELECT extract(epoch FROM max(occurred_at) - min(occurred_at)) * 1000 AS ms FROM e GROUP BY tenant_id, session_id),
    x AS (SELECT coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0) AS execs,
                 coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution' AND success), 0) AS ok,
                 round((sum(latency_ms * n) FILTER (WHERE event_type = 'agent_execution' AND latency_ms IS NOT NULL)
                        / sum(n) FILTER (WHERE event_type = 'agent_execution' AND latency_ms IS NOT NULL))::numeric, 3) AS resp,
                 count(DISTINCT (tenant_id, user_id)) FILTER (WHERE user_id IS NOT NULL) AS users
          FROM e),
    ss AS (SELECT count(*) AS n, round(avg(ms), 3) AS avg_ms FROM s),
    per AS (SELECT b, count(DISTINCT (tenant_id, session_id)) AS sessions,
                   coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0) AS execs,
                   count(DISTINCT (tenant_id, user_id)) FILTER (WHERE user_id IS NOT NULL) AS users
            FROM e GROUP BY b)
    SELECT jsonb_build_object(
        'tenantId', p_tid, 'period', bench_ops.period(p_from, p_to),
        'sessions', ss.n,
        'activeSessions', (SELECT count(*) FROM (SELECT DISTINCT a.tenant_id, a.session_id
                                                 FROM bench_ops.ev(p_tid, now() - interval '15 minutes', now() + interval '1 microsecond') a
                                                 WHERE a.session_id IS NOT NULL) z),
        'avgSessionDurationMs', ss.avg_ms,
        'queriesPerSession', CASE WHEN ss.n = 0 THEN 0 ELSE round(x.execs::numeric / ss.n, 2) END,
        'executions', x.execs,
        'successRate', CASE WHEN x.execs = 0 THEN 0 ELSE round(x.ok::numeric / x.execs, 4) END,
        'uniqueUsers', x.users,
        'avgResponseTimeMs', x.resp,
        'granularity', g,
        'series', (SELECT jsonb_agg(CASE WHEN g = 'hour' THEN jsonb_build_object('timestamp', bench_ops.ts(bk.label AT TIME ZONE 'UTC'))
                                         ELSE jsonb_build_object('date', to_char(bk.label, 'YYYY-MM-DD')) END
                                    || jsonb_build_object('sessions', coalesce(per.sessions, 0), 'executions', coalesce(per.execs, 0),
                                                          'uniqueUsers', coalesce(per.users, 0))
                                    ORDER BY bk.b)
                   FROM bench_ops.buckets(p_from, p_to, g) bk LEFT JOIN per ON per.b = bk.b))
    INTO r
    FROM x, ss;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.session_detail(p_tid uuid, p_session text, p_max integer DEFAULT 1000) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (SELECT * FROM bench_ops.ev(p_tid, '-infinity', 'infinity') y WHERE y.session_id = p_session),
    o AS (SELECT e.*, row_number() OVER (ORDER BY occurred_at, event_type, agent_id, execution_id, tool_name, mcp_server, model,
                                                  input_tokens, output_tokens, latency_ms, success, error_code, n, tenant_id) AS i
          FROM e)
    SELECT CASE WHEN count(*) > 0 THEN jsonb_build_object(
        'tenantId', CASE WHEN count(DISTINCT tenant_id) = 1 THEN min(tenant_id::text)::uuid END,
        'sessionId', p_session,
        'totals', jsonb_build_object(
            'events', sum(n), 'executions', coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0),
            'failures', coalesce(sum(n) FILTER (WHERE NOT success), 0),
            'tokens', coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0),
            'inputTokens', coalesce(sum(input_tokens), 0), 'outputTokens', coalesce(sum(output_tokens), 0),
            'costUsd', round(coalesce(sum(cost), 0), 6),
            'unpricedCalls', coalesce(sum(n) FILTER (WHERE event_type = 'llm_call' AND NOT priced), 0),
            'firstAt', bench_ops.ts(min(occurred_at)), 'lastAt', bench_ops.ts(max(occurred_at)),
            'durationMs', round(extract(epoch FROM max(occurred_at) - min(occurred_at)) * 1000, 3),
            'userId', (SELECT user_id FROM e WHERE user_id IS NOT NULL ORDER BY occurred_at, user_id LIMIT 1),
            'agents', (SELECT coalesce(jsonb_agg(jsonb_build_object('agentId', a.id, 'agentName', g.name) ORDER BY g.name, a.id), '[]')
                       FROM (SELECT DISTINCT agent_id AS id FROM e WHERE agent_id IS NOT NULL) a
                       LEFT JOIN analytics.agents g ON g.agent_id = a.id)),
        'events', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'occurredAt', bench_ops.ts(occurred_at), 'eventType', event_type, 'agentId', agent_id, 'executionId', execution_id,
                       'toolName', tool_name, 'mcpServer', mcp_server, 'model', model,
                       'tokens', CASE WHEN input_tokens IS NULL AND output_tokens IS NULL THEN NULL
                                      ELSE coalesce(input_tokens, 0) + coalesce(output_tokens, 0) END,
                       'latencyMs', latency_ms, 'success', success, 'errorCode', error_code, 'count', n, 'tenantId', tenant_id)
                       ORDER BY i), '[]') FROM o WHERE i <= p_max),
        'truncated', count(*) > p_max) END
    INTO r
    FROM e;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.execution_detail(p_tid uuid, p_execution text, p_max integer DEFAULT 1000) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (SELECT * FROM bench_ops.ev(p_tid, '-infinity', 'infinity') y WHERE y.execution_id = p_execution),
    x AS (SELECT * FROM e WHERE event_type = 'agent_execution' ORDER BY occurred_at, tenant_id, agent_id, success, latency_ms, error_code LIMIT 1),
    c AS (SELECT e.*, row_number() OVER (ORDER BY occurred_at, event_type, tool_name, mcp_server, model, input_tokens, output_tokens,
                                                  latency_ms, success, error_code, n, agent_id, tenant_id) AS i
          FROM e WHERE event_type IN ('tool_call', 'llm_call'))
    SELECT CASE WHEN (SELECT count(*) FROM e) > 0 THEN jsonb_build_object(
        'tenantId', (SELECT CASE WHEN count(DISTINCT tenant_id) = 1 THEN min(tenant_id::text)::uuid END FROM e),
        'executionId', p_execution,
        'execution', jsonb_build_object(
            'agentId', x.agent_id, 'agentName', (SELECT name FROM analytics.agents WHERE agent_id = x.agent_id),
            'startedAt', bench_ops.ts(x.occurred_at), 'durationMs', x.latency_ms,
            'status', CASE WHEN x.success THEN 'success' WHEN x.error_code = 'timeout' THEN 'timeout' WHEN NOT x.success THEN 'failed' END,
            'errorCode', x.error_code, 'sessionId', x.session_id, 'userId', x.user_id, 'workflowId', x.workflow_id),
        'totals', (SELECT jsonb_build_object(
            'toolCalls', coalesce(sum(n) FILTER (WHERE event_type = 'tool_call'), 0),
            'llmCalls', coalesce(sum(n) FILTER (WHERE event_type = 'llm_call'), 0),
            'inputTokens', coalesce(sum(input_tokens), 0), 'outputTokens', coalesce(sum(output_tokens), 0),
            'tokens', coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0),
            'costUsd', round(coalesce(sum(cost), 0), 6),
            'unpricedCalls', coalesce(sum(n) FILTER (WHERE event_type = 'llm_call' AND NOT priced), 0)) FROM c),
        'calls', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                      'occurredAt', bench_ops.ts(occurred_at), 'eventType', event_type, 'agentId', agent_id, 'toolName', tool_name,
                      'mcpServer', mcp_server, 'model', model, 'inputTokens', input_tokens, 'outputTokens', output_tokens,
                      'tokens', CASE WHEN input_tokens IS NULL AND output_tokens IS NULL THEN NULL
                                     ELSE coalesce(input_tokens, 0) + coalesce(output_tokens, 0) END,
                      'costUsd', round(cost, 6), 'latencyMs', latency_ms, 'success', success, 'errorCode', error_code, 'count', n)
                      ORDER BY i), '[]') FROM c WHERE i <= p_max),
        'truncated', (SELECT count(*) FROM c) > p_max) END
    INTO r
    FROM (SELECT 1) one LEFT JOIN x ON true;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.user_analytics(p_tid uuid, p_from timestamptz, p_to timestamptz, p_user text,
                                         p_ptype text DEFAULT 'custom') RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT y.tenant_id, y.session_id, y.agent_id, y.event_type, y.n, y.input_tokens, y.output_tokens, y.cost, y.occurred_at
        FROM bench_ops.ev(p_tid, p_from, p_to) y WHERE y.user_id = p_user)
    SELECT jsonb_build_object('tenant_id', p_tid, 'user_id', p_user, 'period_type', p_ptype, 'period', bench_ops.period(p_from, p_to),
        'sessions', (SELECT count(*) FROM (SELECT DISTINCT tenant_id, session_id FROM e WHERE session_id IS NOT NULL) z),
        'actions', coalesce(sum(n), 0),
        'agents_used', count(DISTINCT agent_id),
        'executions', coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0),
        'tokens', coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0),
        'cost_usd', round(coalesce(sum(cost), 0), 6),
        'active_days', count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date))
    INTO r
    FROM e;
    RETURN r;
END
$$;

-- (the oracle's fields per bucket as one GROUP BY)
CREATE FUNCTION bench_ops.user_trends(p_tid uuid, p_from timestamptz, p_to timestamptz, p_user text,
                                      p_gran text DEFAULT 'day', p_ptype text DEFAULT 'custom') RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT date_trunc(p_gran, y.occurred_at AT TIME ZONE 'UTC') AS b, y.tenant_id, y.session_id, y.agent_id, y.event_type,
               y.n, y.input_tokens, y.output_tokens, y.cost, y.occurred_at
        FROM bench_ops.ev(p_tid, p_from, p_to) y WHERE y.user_id = p_user),
    per AS (
        SELECT b, count(DISTINCT (tenant_id, session_id)) FILTER (WHERE session_id IS NOT NULL) AS sessions,
               coalesce(sum(n), 0) AS actions, count(DISTINCT agent_id) AS agents,
               coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0) AS executions,
               coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens,
               round(coalesce(sum(cost), 0), 6) AS cost, count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date) AS days
        FROM e GROUP BY b)
    SELECT jsonb_build_object('tenant_id', p_tid, 'user_id', p_user, 'period_type', p_ptype, 'period', bench_ops.period(p_from, p_to),
        'granularity', p_gran,
        'data', jsonb_agg(CASE WHEN p_gran = 'hour' THEN jsonb_build_object('timestamp', bench_ops.ts(bk.label AT TIME ZONE 'UTC'))
                               ELSE jsonb_build_object('date', to_char(bk.label, 'YYYY-MM-DD')) END
                          || jsonb_build_object('sessions', coalesce(per.sessions, 0), 'actions', coalesce(per.actions, 0),
                                                'agents_used', coalesce(per.agents, 0), 'executions', coalesce(per.executions, 0),
                                                'tokens', coalesce(per.tokens, 0), 'cost_usd', coalesce(per.cost, 0),
                                                'active_days', coalesce(per.days, 0))
                          ORDER BY bk.b))
    INTO r
    FROM bench_ops.buckets(p_from, p_to, p_gran) bk LEFT JOIN per ON per.b = bk.b;
    RETURN r;
END
$$;

-- (with the durationMs and daily p95 the test checks apart)
CREATE FUNCTION bench_ops.workflow_performance(p_tid uuid, p_from timestamptz, p_to timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT y.tenant_id, y.workflow_id, y.workflow_type, y.event_type, y.success, y.n, y.agent_id, y.input_tokens,
               y.output_tokens, y.latency_ms, y.occurred_at
        FROM bench_ops.ev(p_tid, p_from, p_to) y WHERE y.workflow_id IS NOT NULL),
    run AS MATERIALIZED (
        SELECT tenant_id, workflow_id,
               max(workflow_type) FILTER (WHERE event_type = 'workflow') AS wtype,
               bool_or(NOT success) FILTER (WHERE event_type = 'workflow') AS failed,
               count(DISTINCT agent_id) AS agents,
               coalesce(sum(n) FILTER (WHERE event_type = 'tool_call'), 0) AS tools,
               coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens
        FROM e GROUP BY 1, 2 HAVING count(*) FILTER (WHERE event_type = 'workflow') > 0),
    lat AS (
        SELECT run.wtype, bench_ops.pct(array_agg(e.latency_ms), array_agg(e.n)) AS lat
        FROM e JOIN run USING (tenant_id, workflow_id) WHERE e.event_type = 'workflow' GROUP BY 1),
    ty AS (SELECT wtype, count(*) AS runs, count(*) FILTER (WHERE failed) AS failures,
                  round(avg(agents), 2) AS agents, round(avg(tools), 2) AS tools, round(avg(tokens), 2) AS tokens
           FROM run GROUP BY 1),
    d AS (SELECT date_trunc('day', occurred_at AT TIME ZONE 'UTC') AS day, count(DISTINCT (tenant_id, workflow_id)) AS runs,
                 count(DISTINCT (tenant_id, workflow_id)) FILTER (WHERE NOT success) AS failures,
                 bench_ops.pct(array_agg(latency_ms), array_agg(n)) -> 'p95' AS p95
          FROM e WHERE event_type = 'workflow' GROUP BY 1)
    SELECT jsonb_build_object('tenantId', p_tid, 'period', bench_ops.period(p_from, p_to),
        'workflowTypes', (SELECT coalesce(jsonb_agg(jsonb_build_object('workflowType', ty.wtype, 'runs', runs, 'successes', runs - failures,
                                   'failures', failures, 'successRate', round((runs - failures)::numeric / runs, 4),
                                   'durationMs', lat.lat,
                                   'avgAgentsPerRun', agents, 'avgToolCallsPerRun', tools, 'avgTokensPerRun', tokens)
                                   ORDER BY runs DESC, ty.wtype NULLS LAST), '[]')
                          FROM ty LEFT JOIN lat ON lat.wtype IS NOT DISTINCT FROM ty.wtype),
        'series', (SELECT jsonb_agg(jsonb_build_object('date', to_char(o.label, 'YYYY-MM-DD'), 'runs', coalesce(d.runs, 0),
                                                       'failures', coalesce(d.failures, 0), 'p95', d.p95) ORDER BY o.b)
                   FROM bench_ops.buckets(p_from, p_to, 'day') o LEFT JOIN d ON d.day = o.b))
    INTO r;
    RETURN r;
END
$$;

-------------------------------------------------------------------------------
-- 10_ops_platform_oracle.sql: agent_analytics, agent_trends,
-- platform_trends, dashboard, analytics_health (with the latencies the test
-- checks apart)
-------------------------------------------------------------------------------

-- An agent's seed-002 fields per bucket label (gran 'all': one, the window).
CREATE FUNCTION bench_ops.agent_buckets(p_tid uuid, p_agent uuid, p_from timestamptz, p_to timestamptz, p_gran text)
RETURNS TABLE (label text, j jsonb)
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    RETURN QUERY
    WITH e AS MATERIALIZED (
        SELECT bench_ops.ob(y.occurred_at, p_gran, p_from) AS label, y.event_type, y.success, y.n, y.latency_ms,
               y.input_tokens, y.output_tokens, y.cost
        FROM bench_ops.ev(p_tid, p_from, p_to) y WHERE y.agent_id = p_agent),
    g AS (SELECT e.label,
                 coalesce(sum(e.n) FILTER (WHERE e.event_type = 'agent_execution'), 0) AS calls,
                 coalesce(sum(e.n) FILTER (WHERE e.event_type = 'agent_execution' AND e.success), 0) AS ok,
                 bench_ops.pct(array_agg(e.latency_ms) FILTER (WHERE e.event_type = 'agent_execution'),
                               array_agg(e.n) FILTER (WHERE e.event_type = 'agent_execution')) AS lat,
                 bench_ops.wavg(array_agg(e.latency_ms) FILTER (WHERE e.event_type = 'agent_execution'),
                                array_agg(e.n) FILTER (WHERE e.event_type = 'agent_execution')) AS avg,
                 coalesce(sum(e.input_tokens), 0) AS i, coalesce(sum(e.output_tokens), 0) AS o,
                 coalesce(sum(e.cost), 0) AS cost,
                 coalesce(sum(e.n) FILTER (WHERE e.event_type = 'tool_call'), 0) AS tools,
                 coalesce(sum(e.n) FILTER (WHERE e.event_type = 'llm_call'), 0) AS llms
          FROM e GROUP BY 1)
    SELECT b.b, jsonb_build_object(
        'total_calls', coalesce(g.calls, 0), 'successful_calls', coalesce(g.ok, 0), 'failed_calls', coalesce(g.calls - g.ok, 0),
        'success_rate', bench_ops.rate(g.ok, g.calls),
        'response_time_p50', g.lat -> 'p50', 'response_time_p95', g.lat -> 'p95', 'response_time_p99', g.lat -> 'p99',
        'avg_response_time', g.avg, 'uptime_percentage', NULL,
        'input_tokens', coalesce(g.i, 0), 'output_tokens', coalesce(g.o, 0), 'tokens', coalesce(g.i + g.o, 0),
        'cost_usd', round(coalesce(g.cost, 0), 6), 'tool_calls', coalesce(g.tools, 0), 'llm_calls', coalesce(g.llms, 0))
    FROM bench_ops.labels(p_from, p_to, p_gran) b(b) LEFT JOIN g ON g.label = b.b;
END
$$;

CREATE FUNCTION bench_ops.agent_analytics(p_tid uuid, p_from timestamptz, p_to timestamptz, p_agent uuid) RETURNS jsonb
LANGUAGE sql STABLE SET timezone = 'UTC'
AS $$
    SELECT o.j || jsonb_build_object('tenant_id', a.tenant_id, 'agent_id', a.agent_id, 'agent_name', a.name,
                                     'period', bench_ops.period(p_from, p_to))
    FROM bench_ops.agent_buckets(p_tid, p_agent, p_from, p_to, 'all') o, analytics.agents a WHERE a.agent_id = p_agent
$$;

CREATE FUNCTION bench_ops.agent_trends(p_tid uuid, p_from timestamptz, p_to timestamptz, p_agent uuid,
                                       p_gran text DEFAULT 'day') RETURNS jsonb
LANGUAGE sql STABLE SET timezone = 'UTC'
AS $$
    SELECT jsonb_build_object('tenant_id', a.tenant_id, 'agent_id', a.agent_id, 'agent_name', a.name,
                              'period', bench_ops.period(p_from, p_to), 'granularity', p_gran,
                              'trends', (SELECT jsonb_agg(o.j || jsonb_build_object('date', o.label) ORDER BY o.label)
                                         FROM bench_ops.agent_buckets(p_tid, p_agent, p_from, p_to, p_gran) o))
    FROM analytics.agents a WHERE a.agent_id = p_agent
$$;

-- The first event ever (before "to") of each tenant, agent and (tenant,
-- user) of the scope: its whole history of raw events, in one pass.
CREATE FUNCTION bench_ops.firsts(p_tid uuid, p_to timestamptz)
RETURNS TABLE (kind text, tenant_id uuid, id text, first_at timestamptz)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    RETURN QUERY
    SELECT CASE GROUPING(e.tenant_id, e.agent_id, e.user_id) WHEN 3 THEN 'tenant' WHEN 5 THEN 'agent' ELSE 'user' END,
           CASE WHEN GROUPING(e.tenant_id) = 0 THEN e.tenant_id END,
           coalesce(e.agent_id::text, e.user_id, CASE WHEN GROUPING(e.agent_id, e.user_id) = 3 THEN e.tenant_id::text END),
           min(e.occurred_at)
    FROM analytics.usage_events e
    WHERE (p_tid IS NULL OR e.tenant_id = p_tid) AND e.occurred_at < p_to
    GROUP BY GROUPING SETS ((e.tenant_id), (e.agent_id), (e.tenant_id, e.user_id))
    HAVING GROUPING(e.tenant_id, e.agent_id, e.user_id) = 3
        OR (GROUPING(e.tenant_id, e.agent_id, e.user_id) = 5 AND e.agent_id IS NOT NULL)
        OR (GROUPING(e.tenant_id, e.agent_id, e.user_id) = 2 AND e.user_id IS NOT NULL);
END
$$;

CREATE FUNCTION bench_ops.platform_trends(p_tid uuid, p_from timestamptz, p_to timestamptz, p_gran text DEFAULT 'day') RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT bench_ops.ob(y.occurred_at, p_gran, p_from) AS label, y.tenant_id, y.agent_id, y.user_id, y.event_type, y.success,
               y.n, y.latency_ms, y.input_tokens, y.output_tokens, y.cost
        FROM bench_ops.ev(p_tid, p_from, p_to) y),
    g AS (SELECT e.label, count(DISTINCT e.tenant_id) AS tenants, count(DISTINCT e.agent_id) AS agents,
                 count(DISTINCT (e.tenant_id, e.user_id)) FILTER (WHERE e.user_id IS NOT NULL) AS users,
                 sum(e.n) AS events, coalesce(sum(e.n) FILTER (WHERE NOT e.success), 0) AS failures,
                 coalesce(sum(e.input_tokens), 0) AS i, coalesce(sum(e.output_tokens), 0) AS o, coalesce(sum(e.cost), 0) AS cost,
                 bench_ops.pct(array_agg(e.latency_ms) FILTER (WHERE e.event_type = 'api_call'),
                               array_agg(e.n) FILTER (WHERE e.event_type = 'api_call')) -> 'p95' AS api_p95
          FROM e GROUP BY 1),
    n AS (SELECT bench_ops.ob(x.first_at, p_gran, p_from) AS label,
                 count(*) FILTER (WHERE x.kind = 'tenant') AS tenants, count(*) FILTER (WHERE x.kind = 'agent') AS agents,
                 count(*) FILTER (WHERE x.kind = 'user') AS users
          FROM bench_ops.firsts(p_tid, p_to) x WHERE x.first_at >= p_from AND x.first_at < p_to GROUP BY 1)
    SELECT jsonb_build_object('tenant_id', p_tid, 'period', bench_ops.period(p_from, p_to), 'granularity', p_gran,
        'trends', jsonb_agg(jsonb_build_object(
            'date', b.b,
            'active_tenants', coalesce(g.tenants, 0), 'new_tenants', coalesce(n.tenants, 0),
            'active_agents', coalesce(g.agents, 0), 'new_agents', coalesce(n.agents, 0),
            'active_users', coalesce(g.users, 0), 'new_users', coalesce(n.users, 0),
            'events', coalesce(g.events, 0), 'failures', coalesce(g.failures, 0),
            'error_rate', bench_ops.rate(g.failures, g.events), 'api_p95', g.api_p95,
            'input_tokens', coalesce(g.i, 0), 'output_tokens', coalesce(g.o, 0), 'tokens', coalesce(g.i + g.o, 0),
            'cost_usd', round(coalesce(g.cost, 0), 6)) ORDER BY b.b))
    INTO r
    FROM bench_ops.labels(p_from, p_to, p_gran) b(b) LEFT JOIN g ON g.label = b.b LEFT JOIN n ON n.label = b.b;
    RETURN r;
END
$$;

CREATE FUNCTION bench_ops.dashboard(p_tid uuid, p_from timestamptz, p_to timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE r jsonb;
BEGIN
    WITH e AS MATERIALIZED (
        SELECT y.tenant_id, y.agent_id, y.user_id, y.session_id, y.event_type, y.success, y.n, y.latency_ms, y.input_tokens,
               y.output_tokens, y.cost, y.occurred_at
        FROM bench_ops.ev(p_tid, p_from, p_to) y),
    live AS (SELECT * FROM bench_ops.ev(p_tid, now() - interval '15 minutes', now() + interval '1 microsecond')),
    n AS (SELECT count(*) FILTER (WHERE x.kind = 'agent') AS agents, count(*) FILTER (WHERE x.kind = 'user') AS users
          FROM bench_ops.firsts(p_tid, p_to) x WHERE x.first_at >= p_from AND x.first_at < p_to),
    s AS (SELECT coalesce(sum(n), 0) AS events, coalesce(sum(n) FILTER (WHERE NOT success), 0) AS failures,
                 coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0) AS calls,
                 coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution' AND NOT success), 0) AS calls_failed,
                 coalesce(sum(input_tokens), 0) AS i, coalesce(sum(output_tokens), 0) AS o, coalesce(sum(cost), 0) AS cost,
                 count(DISTINCT (tenant_id, user_id)) FILTER (WHERE user_id IS NOT NULL) AS users,
                 count(DISTINCT agent_id) AS agents,
                 count(DISTINCT (tenant_id, session_id)) FILTER (WHERE session_id IS NOT NULL) AS sessions,
                 bench_ops.pct(array_agg(latency_ms) FILTER (WHERE event_type = 'api_call'),
                               array_agg(n) FILTER (WHERE event_type = 'api_call')) AS api,
                 bench_ops.pct(array_agg(latency_ms) FILTER (WHERE event_type = 'agent_execution'),
                               array_agg(n) FILTER (WHERE event_type = 'agent_execution')) AS executions
          FROM e),
    d AS (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, sum(n) AS events,
                 coalesce(sum(n) FILTER (WHERE NOT success), 0) AS failures,
                 coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens, coalesce(sum(cost), 0) AS cost,
                 count(DISTINCT (tenant_id, user_id)) FILTER (WHERE user_id IS NOT NULL) AS users
          FROM e GROUP BY 1)
    SELECT jsonb_build_object(
        'tenant_id', p_tid, 'period', bench_ops.period(p_from, p_to),
        'current_metrics', jsonb_build_object(
            'users', jsonb_build_object('total', s.users, 'new', n.users,
                                        'active', (SELECT count(DISTINCT (tenant_id, user_id)) FROM live WHERE user_id IS NOT NULL)),
            'agents', jsonb_build_object('total', s.agents, 'new', n.agents,
                                         'active', (SELECT count(DISTINCT agent_id) FROM live),
                                         'registered', (SELECT count(*) FROM analytics.agents a WHERE p_tid IS NULL OR a.tenant_id = p_tid)),
            'sessions', jsonb_build_object('total', s.sessions,
                                           'active', (SELECT count(DISTINCT (tenant_id, session_id)) FROM live WHERE session_id IS NOT NULL)),
            'calls', jsonb_build_object('total', s.calls, 'failed', s.calls_failed, 'error_rate', bench_ops.rate(s.calls_failed, s.calls)),
            'events', jsonb_build_object('total', s.events, 'failed', s.failures, 'error_rate', bench_ops.rate(s.failures, s.events)),
            'tokens', jsonb_build_object('total', s.i + s.o, 'input', s.i, 'output', s.o),
            'cost', jsonb_build_object('total_usd', round(s.cost, 6))),
        'trends', (SELECT jsonb_agg(jsonb_build_object('date', to_char(g.day, 'YYYY-MM-DD'),
                                                       'events', coalesce(d.events, 0), 'failures', coalesce(d.failures, 0),
                                                       'tokens', coalesce(d.tokens, 0), 'cost_usd', round(coalesce(d.cost, 0), 6),
                                                       'active_users', coalesce(d.users, 0)) ORDER BY g.day)
                   FROM (SELECT x::date AS day FROM generate_series((p_from AT TIME ZONE 'UTC')::date,
                                                                    ((p_to - interval '1 microsecond') AT TIME ZONE 'UTC')::date,
                                                                    interval '1 day') x) g
                   LEFT JOIN d ON d.day = g.day),
        'performance', jsonb_build_object('api_calls', s.api, 'executions', s.executions),
        'monitoring', jsonb_build_object('health', NULL, 'open_incidents', '[]'::jsonb))
    INTO r
    FROM s, n;
    RETURN r;
END
$$;

-- The health answer, the days waiting for a rollup from the raw events
-- (changed days, and past days with events that were never rolled up).
CREATE FUNCTION bench_ops.analytics_health() RETURNS jsonb
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    today   date := (now() AT TIME ZONE 'UTC')::date;
    version text := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'analytics');
    last    record;
    waiting jsonb;
    late    boolean;
BEGIN
    IF NOT analytics.setting('enabled')::boolean THEN
        RETURN jsonb_build_object('status', 'down', 'enabled', false, 'version', version);
    END IF;
    SELECT j.run_id, j.target_date, j.started_at, j.finished_at, j.duration_ms, j.rows, j.status, j.error
    INTO last
    FROM analytics.job_runs j
    WHERE j.job = 'rollup' AND j.status <> 'running'
    ORDER BY j.started_at DESC, j.run_id DESC LIMIT 1;
    WITH w AS (
        SELECT c.day, c.changed_at AS since FROM analytics.changed_days c WHERE c.day < today
        UNION ALL
        SELECT d.day, (d.day + 1)::timestamp AT TIME ZONE 'UTC'
        FROM (SELECT DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date AS day FROM analytics.usage_events e
              WHERE e.occurred_at < today::timestamp AT TIME ZONE 'UTC') d
        WHERE NOT EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = d.day)
          AND NOT EXISTS (SELECT 1 FROM analytics.changed_days c WHERE c.day = d.day))
    SELECT coalesce(jsonb_agg(to_char(w.day, 'YYYY-MM-DD') ORDER BY w.day), '[]'),
           coalesce(bool_or(w.since < now() - interval '1 day'), false)
    INTO waiting, late
    FROM w;
    RETURN jsonb_build_object(
        'status', CASE WHEN last.status = 'failed' OR late THEN 'degraded' ELSE 'ok' END,
        'enabled', true,
        'version', version,
        'last_rollup', CASE WHEN last.run_id IS NULL THEN NULL ELSE jsonb_build_object(
            'run_id', last.run_id,
            'target_date', to_char(last.target_date, 'YYYY-MM-DD'),
            'started_at', bench_ops.ts(last.started_at),
            'finished_at', bench_ops.ts(last.finished_at),
            'duration_ms', round(last.duration_ms::numeric, 3),
            'rows', last.rows,
            'status', last.status,
            'error', last.error) END,
        'days_waiting', jsonb_array_length(waiting),
        'waiting_days', waiting,
        'pending_deliveries', 0,
        'background_worker', jsonb_build_object(
            'running', false,
            'preloaded', current_setting('shared_preload_libraries') ~ '(^|[ ,])analytics($|[ ,])'));
END
$$;
