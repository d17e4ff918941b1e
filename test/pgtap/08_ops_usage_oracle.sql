-- §6.3 usage oracle: summary, agent_usage, tool_usage, top_agents,
-- tool_heatmap, error_summary, error_trends and performance_summary, for
-- every tenant, the operator (all tenants, and one tenantId), day windows
-- (Nd, from/to dates, the seed aliases) and hour windows (Nh, RFC 3339
-- timestamps), over rolled, unrolled, late, default-partition and today's
-- events: every number of every answer equals a plain-SQL computation over
-- the raw events, written here without the rollup families or their
-- readers.  Percentiles are within 1% (plus the 0.0005 of rounding) of the
-- exact nearest-rank percentile counting a row of count n as n
-- observations; averages within 0.0011 ms.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
SET LOCAL analytics.free_tier_access = on;
\ir 06_api.inc

-------------------------------------------------------------------------------
-- Data: 21 generated days ending today, priced and unpriced models, extra
-- events the generator does not make (pre-counted executions and tool calls,
-- cached tokens, workflows with a type, a tool call without a tool name, a
-- failure without an error code); days -20..-12 and -6 rolled up; late
-- events on rolled day -15; events on day -40 (default partition); events
-- of today through the API.
-------------------------------------------------------------------------------
-- (one global price per model, in force since -infinity: model_prices is a
-- history since 0.5.0; the spans follow a direct write when refreshed)
DELETE FROM analytics.model_prices WHERE model IN ('gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4');
INSERT INTO analytics.model_prices (model, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('gpt-4o', 2.5, 10), ('gpt-4o-mini', 0.15, 0.6), ('claude-sonnet-4', 3, 15);
SELECT analytics.refresh_price_spans() IS NOT NULL AS spans_refreshed \gset
SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(6000, 21, pg_temp.today(), 0.3)$$, 'generate 21 days');
SELECT lives_ok($$
    INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, tool_name, mcp_server,
                                        model, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens,
                                        workflow_type, workflow_id, latency_ms, user_id, session_id, error_code)
    SELECT a.tenant_id, a.agent_id,
           (pg_temp.today() + d.d)::timestamp AT TIME ZONE 'UTC' + make_interval(hours => 2 + a.agent_idx * 5 + k, mins => 7 * k),
           v.event_type,
           NOT (k = 2 AND a.agent_idx <> 3),
           CASE v.event_type WHEN 'agent_execution' THEN 1 + (a.agent_idx + k) % 4 WHEN 'tool_call' THEN 2 + k ELSE 1 END,
           CASE WHEN v.event_type = 'tool_call' AND NOT (a.agent_idx = 3 AND k = 2) THEN 'ops_tool_' || a.agent_idx END,
           CASE WHEN v.event_type = 'tool_call' THEN 'mcp-ops' END,
           CASE WHEN v.event_type = 'llm_call' THEN (ARRAY['gpt-4o', 'mystery-model'])[k] END,
           CASE WHEN v.event_type = 'llm_call' THEN 1000 * a.agent_idx END,
           CASE WHEN v.event_type = 'llm_call' THEN 100 * k END,
           CASE WHEN v.event_type = 'llm_call' THEN 300 END,
           CASE WHEN v.event_type = 'llm_call' THEN 100 END,
           CASE WHEN v.event_type = 'workflow' THEN 'multi_agent' END,
           CASE WHEN v.event_type = 'workflow' THEN 'wf-ops-' || a.agent_idx END,
           CASE v.event_type WHEN 'agent_execution' THEN 1000.0 * (a.agent_idx + k) + 37.5 WHEN 'tool_call' THEN 50.0 * a.agent_idx + k
                             WHEN 'llm_call' THEN 700.25 * k ELSE 20000.0 + a.agent_idx END,
           'ops-user-' || a.agent_idx,
           'ops-sess-' || a.agent_idx || '-' || d.d,
           CASE WHEN k = 2 AND a.agent_idx <> 3 THEN
                CASE WHEN v.event_type = 'agent_execution' THEN 'timeout' WHEN v.event_type = 'workflow' THEN NULL ELSE 'E_OPS' END END
    FROM analytics_datagen.agents() a
    CROSS JOIN (VALUES (-18), (-8), (-3)) d(d)
    CROSS JOIN generate_series(1, 2) k
    CROSS JOIN (VALUES ('agent_execution'), ('tool_call'), ('llm_call'), ('workflow')) v(event_type)
    WHERE a.agent_idx <= 3$$, 'extra events on days -18, -8 and -3');
SELECT lives_ok($$SELECT analytics.run_rollup(d::date) FROM generate_series(pg_temp.today() - 20, pg_temp.today() - 12, interval '1 day') d$$,
                'roll up days -20..-12');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 6)$$, 'roll up day -6');
SELECT is(analytics.record_events(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
              'tenant_id', tenant_id, 'agent_id', agent_id, 'occurred_at', occurred_at + interval '7 minutes',
              'event_type', event_type, 'success', NOT success, 'count', count + 1, 'endpoint', endpoint,
              'method', method, 'status_code', status_code, 'tool_name', tool_name, 'mcp_server', mcp_server, 'model', model,
              'input_tokens', input_tokens, 'output_tokens', output_tokens, 'user_id', user_id, 'session_id', session_id,
              'latency_ms', latency_ms * 3, 'error_code', CASE WHEN success THEN coalesce(error_code, 'late_error') END)))),
          count(*),
          'late events on rolled day -15 (record_events), one per event of its first 10 minutes of each hour')
FROM analytics.usage_events
WHERE occurred_at >= (pg_temp.today() - 15)::timestamp AT TIME ZONE 'UTC'
  AND occurred_at < (pg_temp.today() - 14)::timestamp AT TIME ZONE 'UTC'
  AND extract(minute FROM occurred_at) < 10;
SELECT is(analytics.day_is_clean(pg_temp.today() - 15), false, 'day -15 is unclean');
SELECT is(analytics.day_is_clean(pg_temp.today() - 16), true, 'day -16 is clean');
SELECT lives_ok($$INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, tool_name,
                                                      mcp_server, latency_ms, error_code)
                  SELECT a.tenant_id, a.agent_id, (pg_temp.today() - 40)::timestamp AT TIME ZONE 'UTC' + make_interval(hours => a.agent_idx),
                         (ARRAY['tool_call', 'agent_execution', 'api_call'])[1 + a.agent_idx % 3], a.agent_idx % 4 <> 0, 1 + a.agent_idx,
                         'old_tool', 'mcp-old', 5 * a.agent_idx, CASE WHEN a.agent_idx % 4 = 0 THEN 'E_OLD' END
                  FROM analytics_datagen.agents() a$$,
                'events on day -40 (default partition)');
SELECT pg_temp.as_tenant(1);
SELECT lives_ok(format($$SELECT analytics_api.record_events(jsonb_build_array(
    jsonb_build_object('agent_id', '00000000-0000-4000-9001-000000000003', 'occurred_at', %L, 'event_type', 'agent_execution',
                       'latency_ms', 2500.5, 'count', 3, 'success', false, 'error_code', 'timeout'),
    jsonb_build_object('agent_id', '00000000-0000-4000-9001-000000000003', 'occurred_at', %L, 'event_type', 'tool_call',
                       'tool_name', 'web_search', 'mcp_server', 'mcp-core', 'latency_ms', 99.5, 'count', 4),
    jsonb_build_object('occurred_at', %L, 'event_type', 'llm_call', 'model', 'gpt-4o', 'input_tokens', 5000, 'output_tokens', 700,
                       'cached_input_tokens', 4000, 'cache_write_tokens', 500, 'latency_ms', 1200, 'session_id', 'api-sess', 'user_id', 'api-user')))$$,
    pg_temp.d(0) || 'T00:00:01Z', pg_temp.d(0) || 'T00:00:02Z', pg_temp.d(0) || 'T00:00:03Z'), 'events of today through the API');

-------------------------------------------------------------------------------
-- The oracle: plain SQL over the raw events (with the price of each row).
-------------------------------------------------------------------------------
CREATE TEMP TABLE evx AS
SELECT e.tenant_id, e.agent_id, e.occurred_at, e.event_type, e.success, e.count::bigint AS n, e.endpoint, e.method,
       e.status_code, e.tool_name, e.mcp_server, e.input_tokens, e.output_tokens, e.cached_input_tokens,
       e.cache_write_tokens, e.latency_ms, e.user_id, e.session_id, e.error_code,
       CASE WHEN e.event_type = 'llm_call'
            THEN (coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000 END AS cost,
       e.event_type = 'llm_call' AND p.model IS NULL AS unpriced
FROM analytics.usage_events e
LEFT JOIN analytics.model_prices p ON p.model = e.model;
SELECT ok((SELECT count(*) FROM evx WHERE n > 1 AND event_type = 'agent_execution') > 0
          AND (SELECT count(*) FROM evx WHERE cached_input_tokens > 0) > 0
          AND (SELECT count(*) FROM evx WHERE unpriced) > 0
          AND (SELECT count(*) FROM evx WHERE NOT success AND error_code IS NULL) > 0
          AND (SELECT count(*) FROM evx WHERE event_type = 'tool_call' AND tool_name IS NULL) > 0,
          'the data have pre-counted executions, cached tokens, unpriced calls, failures without a code, a tool call without a tool');

CREATE FUNCTION pg_temp.ev(tid uuid, f timestamptz, t timestamptz) RETURNS SETOF evx LANGUAGE sql STABLE
AS $$ SELECT * FROM evx e WHERE (tid IS NULL OR e.tenant_id = tid) AND e.occurred_at >= f AND e.occurred_at < t $$;

CREATE FUNCTION pg_temp.rate(part numeric, whole numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE WHEN coalesce(whole, 0) = 0 THEN 0 ELSE round(coalesce(part, 0) / whole, 4) END $$;

CREATE FUNCTION pg_temp.ts(t timestamptz) RETURNS text LANGUAGE sql STABLE
AS $$ SELECT to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- The answer's period for the window [f, t): dates when both ends are midnights.
CREATE FUNCTION pg_temp.period(f timestamptz, t timestamptz) RETURNS jsonb LANGUAGE sql STABLE
AS $$ SELECT CASE WHEN f = date_trunc('day', f) AND t = date_trunc('day', t)
                  THEN jsonb_build_object('from', to_char(f, 'YYYY-MM-DD'), 'to', to_char(t - interval '1 day', 'YYYY-MM-DD'))
                  ELSE jsonb_build_object('from', pg_temp.ts(f), 'to', pg_temp.ts(t)) END $$;

-- The window [f, t) an answer's period stands for.
CREATE FUNCTION pg_temp.win(j jsonb, OUT f timestamptz, OUT t timestamptz) LANGUAGE sql STABLE
AS $$ SELECT CASE WHEN j -> 'period' ->> 'from' ~ '^\d{4}-\d{2}-\d{2}$' THEN (j -> 'period' ->> 'from')::date::timestamptz
                  ELSE (j -> 'period' ->> 'from')::timestamptz END,
             CASE WHEN j -> 'period' ->> 'to' ~ '^\d{4}-\d{2}-\d{2}$' THEN ((j -> 'period' ->> 'to')::date + 1)::timestamptz
                  ELSE (j -> 'period' ->> 'to')::timestamptz END $$;

-- Exact nearest-rank p50/p95/p99 of values v[i] each counted n[i] times
-- (the rank percentile_disc uses: max(1, ceil(q * N))).
CREATE FUNCTION pg_temp.pct(v float8[], n bigint[]) RETURNS jsonb LANGUAGE sql IMMUTABLE
AS $$
    WITH x AS (SELECT u.v, sum(u.n) AS n FROM unnest(v, n) u(v, n) WHERE u.v IS NOT NULL GROUP BY u.v),
    c AS (SELECT x.v, sum(x.n) OVER (ORDER BY x.v) AS cum, sum(x.n) OVER () AS tot FROM x)
    SELECT jsonb_build_object(
        'p50', (SELECT round(min(c.v)::numeric, 3) FROM c WHERE c.cum >= greatest(1, ceil(0.5::float8 * c.tot::float8))),
        'p95', (SELECT round(min(c.v)::numeric, 3) FROM c WHERE c.cum >= greatest(1, ceil(0.95::float8 * c.tot::float8))),
        'p99', (SELECT round(min(c.v)::numeric, 3) FROM c WHERE c.cum >= greatest(1, ceil(0.99::float8 * c.tot::float8))))
$$;
-- The count-weighted mean of v[i] (n[i] each), 3 decimals.
CREATE FUNCTION pg_temp.wavg(v float8[], n bigint[]) RETURNS numeric LANGUAGE sql IMMUTABLE
AS $$ SELECT round((sum(u.v * u.n) / sum(u.n))::numeric, 3) FROM unnest(v, n) u(v, n) WHERE u.v IS NOT NULL $$;

-- The differences between an answer a and the oracle's b ('' when none):
-- p50/p95/p99 within 1% + 0.0006, avg within 0.0011, all else equal.
CREATE FUNCTION pg_temp.diff(a jsonb, b jsonb, path text DEFAULT '$') RETURNS text LANGUAGE plpgsql IMMUTABLE
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
            out := out || pg_temp.diff(a -> k, b -> k, path || '.' || k);
        END LOOP;
    ELSIF jsonb_typeof(a) = 'array' THEN
        IF jsonb_array_length(a) <> jsonb_array_length(b) THEN
            out := format('%s: %s elements vs %s; ', path, jsonb_array_length(a), jsonb_array_length(b));
        END IF;
        FOR i IN 0 .. least(jsonb_array_length(a), jsonb_array_length(b)) - 1 LOOP
            out := out || pg_temp.diff(a -> i, b -> i, path || '[' || i || ']');
        END LOOP;
    ELSIF jsonb_typeof(a) = 'number' THEN
        bad := CASE WHEN key IN ('p50', 'p95', 'p99') THEN abs(a::numeric - b::numeric) > 0.01 * abs(b::numeric) + 0.0006
                    WHEN key = 'avg' THEN abs(a::numeric - b::numeric) > 0.0011
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

CREATE FUNCTION pg_temp.o_summary(tid uuid, f timestamptz, t timestamptz) RETURNS jsonb LANGUAGE sql STABLE
AS $$
    WITH e AS MATERIALIZED (SELECT * FROM pg_temp.ev(tid, f, t))
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t),
        'totals', jsonb_build_object(
            'events', coalesce(sum(n), 0),
            'apiCalls', coalesce(sum(n) FILTER (WHERE event_type = 'api_call'), 0),
            'toolCalls', coalesce(sum(n) FILTER (WHERE event_type = 'tool_call'), 0),
            'llmCalls', coalesce(sum(n) FILTER (WHERE event_type = 'llm_call'), 0),
            'executions', coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0),
            'workflows', coalesce(sum(n) FILTER (WHERE event_type = 'workflow'), 0),
            'sessions', count(DISTINCT tenant_id || ' ' || session_id),
            'failures', coalesce(sum(n) FILTER (WHERE NOT success), 0),
            'errorRate', pg_temp.rate(sum(n) FILTER (WHERE NOT success), sum(n)),
            'inputTokens', coalesce(sum(input_tokens), 0),
            'outputTokens', coalesce(sum(output_tokens), 0),
            'cachedInputTokens', coalesce(sum(cached_input_tokens), 0),
            'cacheWriteTokens', coalesce(sum(cache_write_tokens), 0),
            'costUsd', round(coalesce(sum(cost), 0), 6),
            'unpricedCalls', coalesce(sum(n) FILTER (WHERE unpriced), 0),
            'activeAgents', count(DISTINCT agent_id),
            'activeUsers', count(DISTINCT tenant_id || ' ' || user_id)),
        'latency', coalesce((SELECT jsonb_object_agg(x.event_type, x.lat)
                             FROM (SELECT e.event_type, pg_temp.pct(array_agg(e.latency_ms), array_agg(e.n)) AS lat
                                   FROM e GROUP BY 1) x), '{}'))
    FROM e
$$;

CREATE FUNCTION pg_temp.o_agent_usage(tid uuid, f timestamptz, t timestamptz) RETURNS jsonb LANGUAGE sql STABLE
AS $$
    WITH e AS MATERIALIZED (SELECT *, event_type = 'agent_execution' AS x FROM pg_temp.ev(tid, f, t)),
    tot AS (SELECT coalesce(sum(n) FILTER (WHERE x), 0) AS n FROM e),
    per AS (SELECT agent_id,
                   coalesce(sum(n) FILTER (WHERE x), 0) AS ex,
                   coalesce(sum(n) FILTER (WHERE x AND NOT success), 0) AS fl,
                   coalesce(sum(n) FILTER (WHERE x AND error_code = 'timeout'), 0) AS tmo,
                   pg_temp.pct(array_agg(latency_ms) FILTER (WHERE x), array_agg(n) FILTER (WHERE x)) AS lat,
                   pg_temp.wavg(array_agg(latency_ms) FILTER (WHERE x), array_agg(n) FILTER (WHERE x)) AS avg,
                   coalesce(sum(n) FILTER (WHERE event_type = 'tool_call'), 0) AS tc,
                   coalesce(sum(n) FILTER (WHERE event_type = 'llm_call'), 0) AS lc,
                   coalesce(sum(input_tokens), 0) AS it, coalesce(sum(output_tokens), 0) AS ot,
                   round(coalesce(sum(cost), 0), 6) AS cost
            FROM e WHERE agent_id IS NOT NULL GROUP BY agent_id)
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t), 'totalExecutions', tot.n,
        'agents', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'agentId', p.agent_id, 'agentName', a.name, 'executions', p.ex, 'successes', p.ex - p.fl,
                                'failures', p.fl, 'timeouts', p.tmo, 'share', pg_temp.rate(p.ex, tot.n),
                                'durationMs', p.lat || jsonb_build_object('avg', p.avg), 'toolCalls', p.tc, 'llmCalls', p.lc,
                                'inputTokens', p.it, 'outputTokens', p.ot, 'costUsd', p.cost) ORDER BY p.ex DESC, p.agent_id)
                            FROM per p LEFT JOIN analytics.agents a ON a.agent_id = p.agent_id), '[]'))
    FROM tot
$$;

CREATE FUNCTION pg_temp.o_tool_usage(tid uuid, f timestamptz, t timestamptz, server text) RETURNS jsonb LANGUAGE sql STABLE
AS $$
    WITH g AS (
        SELECT tool_name, mcp_server, sum(n) AS calls, coalesce(sum(n) FILTER (WHERE NOT success), 0) AS fl,
               pg_temp.pct(array_agg(latency_ms), array_agg(n)) AS lat, pg_temp.wavg(array_agg(latency_ms), array_agg(n)) AS avg,
               count(DISTINCT agent_id) AS ag, max(occurred_at) AS last
        FROM pg_temp.ev(tid, f, t)
        WHERE event_type = 'tool_call' AND (server IS NULL OR mcp_server = server)
        GROUP BY 1, 2)
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t), 'mcpServer', server,
        'tools', coalesce((SELECT jsonb_agg(jsonb_build_object(
                               'tool', tool_name, 'mcpServer', mcp_server, 'calls', calls, 'successes', calls - fl, 'failures', fl,
                               'successRate', pg_temp.rate(calls - fl, calls), 'latencyMs', lat || jsonb_build_object('avg', avg),
                               'agents', ag, 'lastCalledAt', pg_temp.ts(last)) ORDER BY calls DESC, tool_name, mcp_server)
                           FROM g), '[]'))
$$;

CREATE FUNCTION pg_temp.o_top_agents(tid uuid, f timestamptz, t timestamptz, metric text, top integer) RETURNS jsonb LANGUAGE sql STABLE
AS $$
    WITH per AS (
        SELECT agent_id, coalesce(sum(n) FILTER (WHERE event_type = 'agent_execution'), 0) AS calls,
               coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens,
               round(coalesce(sum(cost), 0), 6) AS cost, coalesce(sum(n) FILTER (WHERE NOT success), 0) AS failures
        FROM pg_temp.ev(tid, f, t) WHERE agent_id IS NOT NULL GROUP BY agent_id),
    v AS (
        SELECT per.*, x.value, row_number() OVER (ORDER BY x.value DESC, per.agent_id) AS rank
        FROM per CROSS JOIN LATERAL (SELECT CASE metric WHEN 'calls' THEN per.calls WHEN 'tokens' THEN per.tokens
                                                        WHEN 'cost' THEN per.cost ELSE per.failures END AS value) x)
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t), 'metric', metric, 'top', top,
        'agents', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'rank', v.rank, 'agentId', v.agent_id, 'agentName', a.name, 'value', v.value, 'calls', v.calls,
                                'tokens', v.tokens, 'costUsd', v.cost, 'failures', v.failures) ORDER BY v.rank)
                            FROM v LEFT JOIN analytics.agents a ON a.agent_id = v.agent_id WHERE v.rank <= top), '[]'))
$$;

CREATE FUNCTION pg_temp.o_tool_heatmap(tid uuid, f timestamptz, t timestamptz, tool text) RETURNS jsonb LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t), 'tool', tool,
        'cells', coalesce(jsonb_agg(jsonb_build_object('tool', tool_name, 'mcpServer', mcp_server, 'dow', dow, 'hour', hour, 'count', c)
                                    ORDER BY tool_name, mcp_server, dow, hour), '[]'))
    FROM (SELECT tool_name, mcp_server, extract(dow FROM occurred_at)::int AS dow, extract(hour FROM occurred_at)::int AS hour,
                 sum(n) AS c
          FROM pg_temp.ev(tid, f, t) WHERE event_type = 'tool_call' AND (tool IS NULL OR tool_name = tool)
          GROUP BY 1, 2, 3, 4) x
$$;

CREATE FUNCTION pg_temp.o_error_summary(tid uuid, f timestamptz, t timestamptz) RETURNS jsonb LANGUAGE sql STABLE
AS $$
    WITH e AS MATERIALIZED (SELECT * FROM pg_temp.ev(tid, f, t))
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t),
        'events', (SELECT coalesce(sum(n), 0) FROM e),
        'failures', (SELECT coalesce(sum(n), 0) FROM e WHERE NOT success),
        'errorRate', (SELECT pg_temp.rate(sum(n) FILTER (WHERE NOT success), sum(n)) FROM e),
        'byCode', (SELECT coalesce(jsonb_agg(jsonb_build_object('errorCode', error_code, 'count', c, 'lastSeenAt', pg_temp.ts(last))
                                             ORDER BY c DESC, error_code), '[]')
                   FROM (SELECT error_code, sum(n) AS c, max(occurred_at) AS last FROM e WHERE NOT success GROUP BY 1) x),
        'byEventType', (SELECT coalesce(jsonb_agg(jsonb_build_object('eventType', event_type, 'events', ev, 'failures', fl,
                                                                     'errorRate', pg_temp.rate(fl, ev)) ORDER BY fl DESC, event_type), '[]')
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
$$;

-- A time's bucket of granularity gran in a window starting at f (UTC).
CREATE FUNCTION pg_temp.lab(ts timestamptz, gran text, f timestamptz) RETURNS timestamp LANGUAGE sql STABLE
AS $$ SELECT CASE gran WHEN 'hour' THEN date_trunc('hour', ts AT TIME ZONE 'UTC')
                       WHEN 'day' THEN date_trunc('day', ts AT TIME ZONE 'UTC')
                       WHEN 'week' THEN greatest(date_trunc('week', ts AT TIME ZONE 'UTC'), date_trunc('day', f AT TIME ZONE 'UTC'))
                       ELSE greatest(date_trunc('month', ts AT TIME ZONE 'UTC'), date_trunc('day', f AT TIME ZONE 'UTC')) END $$;

CREATE FUNCTION pg_temp.o_error_trends(tid uuid, f timestamptz, t timestamptz, gran text) RETURNS jsonb LANGUAGE sql STABLE
AS $$
    WITH e AS MATERIALIZED (SELECT pg_temp.lab(occurred_at, gran, f) AS b, event_type, n, success FROM pg_temp.ev(tid, f, t)),
    b AS (SELECT DISTINCT pg_temp.lab(g, gran, f) AS b
          FROM generate_series(date_trunc(CASE WHEN gran = 'hour' THEN 'hour' ELSE 'day' END, f), t - interval '1 microsecond',
                               CASE WHEN gran = 'hour' THEN interval '1 hour' ELSE interval '1 day' END) g),
    ty AS (SELECT DISTINCT event_type FROM e),
    g AS (SELECT e.b, e.event_type, sum(e.n) AS ev, coalesce(sum(e.n) FILTER (WHERE NOT e.success), 0) AS fl FROM e GROUP BY 1, 2),
    cell AS (SELECT b.b, ty.event_type, coalesce(g.ev, 0) AS ev, coalesce(g.fl, 0) AS fl
             FROM b CROSS JOIN ty LEFT JOIN g ON g.b = b.b AND g.event_type = ty.event_type),
    per AS (SELECT cell.b, sum(cell.ev) AS ev, sum(cell.fl) AS fl,
                   jsonb_agg(jsonb_build_object('eventType', cell.event_type, 'events', cell.ev, 'failures', cell.fl,
                                                'errorRate', pg_temp.rate(cell.fl, cell.ev)) ORDER BY cell.event_type) AS by_type
            FROM cell GROUP BY cell.b)
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t), 'granularity', gran,
        'buckets', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'bucket', CASE WHEN gran = 'hour' THEN to_char(b.b, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ELSE to_char(b.b, 'YYYY-MM-DD') END,
                'events', coalesce(per.ev, 0),
                'failures', coalesce(per.fl, 0),
                'errorRate', pg_temp.rate(per.fl, per.ev),
                'byEventType', coalesce(per.by_type, '[]'),
                'webhookDeliveries', jsonb_build_object('attempts', 0, 'failures', 0)) ORDER BY b.b)
            FROM b LEFT JOIN per ON per.b = b.b), '[]'))
$$;

CREATE FUNCTION pg_temp.o_performance(tid uuid, f timestamptz, t timestamptz) RETURNS jsonb LANGUAGE sql STABLE
AS $$
    WITH e AS MATERIALIZED (SELECT * FROM pg_temp.ev(tid, f, t)),
    s AS (SELECT extract(epoch FROM t - f) AS s)
    SELECT jsonb_build_object('tenant_id', tid, 'period', pg_temp.period(f, t), 'window_seconds', round(s.s, 3),
        'endpoints', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                   'endpoint', endpoint, 'method', method, 'status_class', sc || 'xx', 'calls', c,
                                   'throughput_per_second', round(c / s.s, 6), 'error_rate', pg_temp.rate(fl, c)) || lat
                                   ORDER BY c DESC, endpoint, method, sc)
                               FROM (SELECT endpoint, method, (status_code / 100)::smallint AS sc, sum(n) AS c,
                                            coalesce(sum(n) FILTER (WHERE NOT success), 0) AS fl,
                                            pg_temp.pct(array_agg(latency_ms), array_agg(n)) AS lat
                                     FROM e WHERE event_type = 'api_call' GROUP BY 1, 2, 3) x), '[]'),
        'executions', (SELECT jsonb_build_object('count', coalesce(sum(n), 0)) || pg_temp.pct(array_agg(latency_ms), array_agg(n))
                       FROM e WHERE event_type = 'agent_execution'),
        'workflows', (SELECT jsonb_build_object('count', coalesce(sum(n), 0)) || pg_temp.pct(array_agg(latency_ms), array_agg(n))
                      FROM e WHERE event_type = 'workflow'))
    FROM s
$$;

-------------------------------------------------------------------------------
-- The calls: every function with its default parameters for every scope
-- (each tenant, the operator over all tenants and narrowed to tenant 3) and
-- window; the other parameters for tenant 1 and the operator.
-------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.call_as(claims text, call text) RETURNS jsonb LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM set_config('request.jwt.claims', claims, true);
    EXECUTE 'SELECT ' || call INTO r;
    RETURN r;
END
$$;

CREATE TEMP TABLE scopes AS
SELECT 'tenant ' || idx AS scope, tenant_id AS tid, json_build_object('tenant_id', tenant_id)::text AS claims, NULL::text AS args,
       idx IN (1) AS all_params
FROM analytics_datagen.tenants()
UNION ALL SELECT 'operator', NULL, '', NULL, true
UNION ALL SELECT 'operator, tenantId 3', '00000000-0000-4000-8000-000000000003', '',
                 '"tenantId" => ''00000000-0000-4000-8000-000000000003''', false;

CREATE TEMP TABLE windows AS
SELECT * FROM (VALUES
    ('default', NULL, false),
    ('30d', 'period => ''30d''', false),
    ('1d', 'period => ''1d''', true),
    ('dates -45..-10 (default partition, rolled, late, raw)', format('"from" => %L, "to" => %L', pg_temp.d(-45), pg_temp.d(-10)), false),
    ('dates -15..-15 (late events)', format('"from" => %L, "to" => %L', pg_temp.d(-15), pg_temp.d(-15)), true),
    ('dates -20..-12 (rolled only)', format('"from" => %L, "to" => %L', pg_temp.d(-20), pg_temp.d(-12)), false),
    ('24h', 'period => ''24h''', true),
    ('168h', 'hours => ''168''', true),
    ('timestamps -16 06:30 .. -13 18:15', format('"from" => %L, "to" => %L', pg_temp.d(-16) || 'T06:30:00Z', pg_temp.d(-13) || 'T18:15:00+00:00'), true),
    ('days => 21', 'days => ''21''', false),
    ('start_date -8 .. end_date -2', format('start_date => %L, end_date => %L', pg_temp.d(-8), pg_temp.d(-2)), false)
) v(win, args, short);

CREATE TEMP TABLE variants AS
SELECT * FROM (VALUES
    ('summary', NULL, NULL, NULL, true),
    ('agent_usage', NULL, NULL, NULL, true),
    ('tool_usage', NULL, NULL, NULL, true),
    ('tool_usage', '"mcpServer" => ''mcp-core''', 'mcp-core', NULL, false),
    ('tool_usage', '"mcpServer" => ''no-such-server''', 'no-such-server', NULL, false),
    ('top_agents', NULL, 'calls', '10', true),
    ('top_agents', 'metric => ''tokens'', top => ''3''', 'tokens', '3', false),
    ('top_agents', 'metric => ''cost'', top => ''100''', 'cost', '100', false),
    ('top_agents', 'metric => ''failures'', top => ''1''', 'failures', '1', false),
    ('top_agents', 'metric => ''calls'', top => ''5''', 'calls', '5', false),
    ('tool_heatmap', NULL, NULL, NULL, true),
    ('tool_heatmap', 'tool => ''web_search''', 'web_search', NULL, false),
    ('error_summary', NULL, NULL, NULL, true),
    ('error_trends', NULL, 'day', NULL, true),
    ('error_trends', 'granularity => ''week''', 'week', NULL, false),
    ('error_trends', 'granularity => ''month''', 'month', NULL, false),
    ('error_trends', 'granularity => ''hour''', 'hour', NULL, false),
    ('performance_summary', NULL, NULL, NULL, true)
) v(fn, args, p1, p2, dflt);

CREATE TEMP TABLE ans AS
SELECT v.fn, v.args AS vargs, v.p1, v.p2, s.scope, w.win, s.tid,
       pg_temp.call_as(s.claims, format('analytics_api.%s(%s)', v.fn, concat_ws(', ', w.args, v.args, s.args))) AS j
FROM variants v CROSS JOIN scopes s CROSS JOIN windows w
WHERE (v.dflt OR s.all_params)
  -- (hour buckets: windows of at most 7 days)
  AND (v.p1 IS DISTINCT FROM 'hour' OR w.short);
ALTER TABLE ans ADD COLUMN f timestamptz, ADD COLUMN t timestamptz;
UPDATE ans SET (f, t) = (SELECT w.f, w.t FROM pg_temp.win(ans.j) w);
SELECT ok((SELECT count(*) FROM ans) > 900, format('%s answers to compare', (SELECT count(*) FROM ans)));

-- The windows are the ones asked for.
SELECT is((SELECT count(*) FROM ans a WHERE a.win = 'default' AND NOT (
              CASE WHEN a.fn = 'error_trends' THEN a.f = pg_temp.today() - 29 AND a.t = pg_temp.today() + 1
                   WHEN a.fn = 'performance_summary' THEN a.t - a.f = interval '24 hours 1 microsecond'
                   ELSE a.f = pg_temp.today() - 6 AND a.t = pg_temp.today() + 1 END)), 0::bigint,
          'default periods: 7d, error_trends 30d, performance_summary 24h');
SELECT is((SELECT count(*) FROM ans a WHERE NOT CASE a.win
              WHEN '30d' THEN a.f = pg_temp.today() - 29 AND a.t = pg_temp.today() + 1
              WHEN '1d' THEN a.f = pg_temp.today() AND a.t = pg_temp.today() + 1
              WHEN 'days => 21' THEN a.f = pg_temp.today() - 20 AND a.t = pg_temp.today() + 1
              WHEN '24h' THEN a.t - a.f = interval '24 hours 1 microsecond' AND a.t <= clock_timestamp() + interval '1 microsecond'
              WHEN '168h' THEN a.t - a.f = interval '168 hours 1 microsecond'
              WHEN 'timestamps -16 06:30 .. -13 18:15' THEN a.f = (pg_temp.today() - 16) + time '06:30' AND a.t = (pg_temp.today() - 13) + time '18:15'
              WHEN 'start_date -8 .. end_date -2' THEN a.f = pg_temp.today() - 8 AND a.t = pg_temp.today() - 1
              WHEN 'dates -45..-10 (default partition, rolled, late, raw)' THEN a.f = pg_temp.today() - 45 AND a.t = pg_temp.today() - 9
              WHEN 'dates -15..-15 (late events)' THEN a.f = pg_temp.today() - 15 AND a.t = pg_temp.today() - 14
              WHEN 'dates -20..-12 (rolled only)' THEN a.f = pg_temp.today() - 20 AND a.t = pg_temp.today() - 11
              ELSE true END), 0::bigint, 'every period is the window asked for');
SELECT is((SELECT count(*) FROM ans WHERE (j ->> 'tenantId') IS DISTINCT FROM tid::text AND (j ->> 'tenant_id') IS DISTINCT FROM tid::text),
          0::bigint, 'every answer names its scope''s tenant (null for the operator over all tenants)');

-------------------------------------------------------------------------------
-- Every answer against the oracle.
-------------------------------------------------------------------------------
SELECT is(pg_temp.diff(j, pg_temp.o_summary(tid, f, t)), '', format('summary = oracle: %s, %s', scope, win))
FROM ans WHERE fn = 'summary' ORDER BY scope, win;
SELECT is(pg_temp.diff(j, pg_temp.o_agent_usage(tid, f, t)), '', format('agent_usage = oracle: %s, %s', scope, win))
FROM ans WHERE fn = 'agent_usage' ORDER BY scope, win;
SELECT is(pg_temp.diff(j, pg_temp.o_tool_usage(tid, f, t, p1)), '', format('tool_usage(%s) = oracle: %s, %s', vargs, scope, win))
FROM ans WHERE fn = 'tool_usage' ORDER BY scope, win, vargs;
SELECT is(pg_temp.diff(j, pg_temp.o_top_agents(tid, f, t, p1, p2::integer)), '', format('top_agents(%s) = oracle: %s, %s', vargs, scope, win))
FROM ans WHERE fn = 'top_agents' ORDER BY scope, win, vargs;
SELECT is(pg_temp.diff(j, pg_temp.o_tool_heatmap(tid, f, t, p1)), '', format('tool_heatmap(%s) = oracle: %s, %s', vargs, scope, win))
FROM ans WHERE fn = 'tool_heatmap' ORDER BY scope, win, vargs;
SELECT is(pg_temp.diff(j, pg_temp.o_error_summary(tid, f, t)), '', format('error_summary = oracle: %s, %s', scope, win))
FROM ans WHERE fn = 'error_summary' ORDER BY scope, win;
SELECT is(pg_temp.diff(j, pg_temp.o_error_trends(tid, f, t, p1)), '', format('error_trends(%s) = oracle: %s, %s', vargs, scope, win))
FROM ans WHERE fn = 'error_trends' ORDER BY scope, win, vargs;
SELECT is(pg_temp.diff(j, pg_temp.o_performance(tid, f, t)), '', format('performance_summary = oracle: %s, %s', scope, win))
FROM ans WHERE fn = 'performance_summary' ORDER BY scope, win;

-- The answers are not trivially empty.
SELECT ok((SELECT bool_and(jsonb_array_length(j -> 'agents') > 0) FROM ans WHERE fn = 'agent_usage' AND win = '30d'),
          'agent_usage lists agents for every scope (30d)');
SELECT ok((SELECT bool_and(jsonb_array_length(j -> 'tools') > 0) FROM ans WHERE fn = 'tool_usage' AND vargs IS NULL AND win = '30d'),
          'tool_usage lists tools for every scope (30d)');
SELECT ok((SELECT bool_and(jsonb_array_length(j -> 'cells') > 0) FROM ans WHERE fn = 'tool_heatmap' AND vargs IS NULL AND win = '30d'),
          'tool_heatmap has cells for every scope (30d)');
SELECT ok((SELECT bool_and(jsonb_array_length(j -> 'byCode') > 0) FROM ans WHERE fn = 'error_summary' AND win = '30d'),
          'error_summary has error codes for every scope (30d)');
SELECT ok((SELECT bool_and(jsonb_array_length(j -> 'endpoints') > 0) FROM ans WHERE fn = 'performance_summary' AND win = '30d'),
          'performance_summary has endpoints for every scope (30d)');
SELECT ok((SELECT bool_and((j -> 'totals' ->> 'costUsd')::numeric > 0 AND (j -> 'totals' ->> 'unpricedCalls')::numeric > 0
                           AND (j -> 'totals' ->> 'sessions')::numeric > 0 AND (j -> 'totals' ->> 'activeUsers')::numeric > 0)
           FROM ans WHERE fn = 'summary' AND win = '30d'),
          'summary has cost, unpriced calls, sessions and users for every scope (30d)');
SELECT is((SELECT jsonb_array_length(j -> 'buckets') FROM ans WHERE fn = 'error_trends' AND p1 = 'hour' AND win = '24h' AND scope = 'operator'),
          25, 'error_trends(hour) over 24h: 25 hour buckets (the first and last partial)');
SELECT is((SELECT jsonb_array_length(j -> 'agents') FROM ans WHERE fn = 'top_agents' AND p2 = '3' AND win = '30d' AND scope = 'operator'),
          3, 'top_agents(top 3) lists 3 agents');

SELECT * FROM finish();
ROLLBACK;
