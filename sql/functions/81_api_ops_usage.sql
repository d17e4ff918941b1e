-------------------------------------------------------------------------------
-- functions/81_api_ops_usage.sql (layer 81, the HTTP layer): the
-- analytics_api functions of contract §6.3 for usage, tools, errors and
-- performance (typed twins in functions/75_ops_usage.sql).
--
-- Each: analytics.http_scope (the §5 checks, then 403 FORBIDDEN for another
-- tenant, 404 TENANT_NOT_FOUND for an operator's unknown tenantId), then
-- analytics.http_window (400 INVALID_PERIOD / INVALID_DATE_RANGE; the
-- function's default period), then its own parameters (400
-- VALIDATION_ERROR naming the field, 400 INVALID_GRANULARITY), then the
-- typed twin.  Every parameter is text, parsed here; text parameters are at
-- most 256 characters.  Re-runnable.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics_api.summary(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                 "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                 start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.summary(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.summary(text, text, text, text, text, text, text, text) IS
    'GET /api/analytics/summary: totals (events, api/tool/llm calls, executions, workflows, sessions, failures, errorRate, tokens, costUsd, active agents and users) and latency p50/p95/p99 per event type; default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.agent_usage(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                     "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                     start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.agent_usage(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_usage(text, text, text, text, text, text, text, text) IS
    'GET /api/analytics/agents/usage: per agent executions, successes, failures, timeouts, share, durationMs p50/p95/p99/avg, tool and LLM calls, tokens, costUsd; most executions first; default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.tool_usage(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                    "mcpServer" text DEFAULT NULL,
                                                    "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                    start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    IF length("mcpServer") > 256 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'mcpServer must be at most 256 characters');
    END IF;
    RETURN analytics.tool_usage(s.tenant_id, w.from_ts, w.to_ts, "mcpServer");
END
$$;
COMMENT ON FUNCTION analytics_api.tool_usage(text, text, text, text, text, text, text, text, text) IS
    'GET /api/analytics/tools/usage: per tool and MCP server (only mcpServer when given) calls, successes, failures, successRate, latencyMs p50/p95/p99/avg, distinct agents, lastCalledAt; most calls first; default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.top_agents(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                    metric text DEFAULT NULL, top text DEFAULT NULL,
                                                    "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                    start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
    m text := coalesce(metric, 'calls');
    n integer := 10;
BEGIN
    IF m NOT IN ('calls', 'tokens', 'cost', 'failures') THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'metric must be one of calls, tokens, cost, failures');
    END IF;
    IF top IS NOT NULL THEN
        n := CASE WHEN top ~ '^[0-9]{1,3}$' THEN top::integer END;
        IF n IS NULL OR n NOT BETWEEN 1 AND 100 THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'top must be an integer from 1 to 100');
        END IF;
    END IF;
    RETURN analytics.top_agents(s.tenant_id, w.from_ts, w.to_ts, m, n);
END
$$;
COMMENT ON FUNCTION analytics_api.top_agents(text, text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/top-agents: the top agents (top: 1 to 100, default 10) by metric calls (default: agent executions), tokens, cost or failures; default period 7d; 400 VALIDATION_ERROR for a bad metric or top (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.tool_heatmap(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                      tool text DEFAULT NULL,
                                                      "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                      start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    IF length(tool) > 256 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'tool must be at most 256 characters');
    END IF;
    RETURN analytics.tool_heatmap(s.tenant_id, w.from_ts, w.to_ts, tool);
END
$$;
COMMENT ON FUNCTION analytics_api.tool_heatmap(text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/tools/heatmap: non-zero day-of-week x hour (UTC, dow 0 = Sunday) cells {tool, mcpServer, dow, hour, count} of tool calls (only tool when given); default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.error_summary(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                       "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                       start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.error_summary(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.error_summary(text, text, text, text, text, text, text, text) IS
    'GET /api/analytics/errors/summary: events, failures, errorRate, byCode, byEventType, the top 10 agents and tools by failures; default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.error_trends(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                      granularity text DEFAULT NULL,
                                                      "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                      start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    g text := analytics.http_granularity(granularity, w.from_ts, w.to_ts);
BEGIN
    RETURN analytics.error_trends(s.tenant_id, w.from_ts, w.to_ts, g);
END
$$;
COMMENT ON FUNCTION analytics_api.error_trends(text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/errors/trends: events, failures and errorRate per bucket (granularity hour for periods up to 7 days, day (default), week, month) and event type, with webhook delivery attempts and failures; default period 30d; 400 INVALID_GRANULARITY (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.performance_summary(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                             "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                             start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '24h');
BEGIN
    RETURN analytics.performance_summary(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.performance_summary(text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/performance (seed 002, snake_case keys): per endpoint, method and status class calls, throughput_per_second, error_rate, p50/p95/p99; executions and workflows: count, p50/p95/p99; default period 24h (contract §6.3)';
