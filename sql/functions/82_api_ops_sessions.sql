-------------------------------------------------------------------------------
-- functions/82_api_ops_sessions.sql (layer 82, the HTTP layer): the
-- analytics_api functions of contract §6.3 for sessions, executions, users
-- and workflows.  Each: analytics.http_scope (who asks: a tenant, or an
-- operator for all tenants or the one "tenantId" names), then
-- analytics.http_window (the period), then its own parameters (400
-- VALIDATION_ERROR naming the field, 400 INVALID_GRANULARITY), then the
-- typed function of layer 76, then 404 for an id the caller's scope does not
-- hold (another tenant's id is unknown).  Every parameter is text, parsed
-- here.  Re-runnable.
-------------------------------------------------------------------------------

-- An id parameter (sessionId, executionId, userId): required, at most 256
-- characters (the event columns' limit); else 400 VALIDATION_ERROR naming it.
CREATE OR REPLACE FUNCTION analytics.http_id_param(value text, name text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL OR value = '' THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', format('%s is required', name));
    END IF;
    IF length(value) > 256 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', format('%s must be at most 256 characters', name));
    END IF;
    RETURN value;
END
$$;
COMMENT ON FUNCTION analytics.http_id_param(text, text) IS
    'An id API parameter: returned when given and at most 256 characters, else 400 VALIDATION_ERROR naming the parameter';

-- The period_type of seed 002's answers: the period text given (days=N is
-- Nd, hours=N is Nh), "custom" for from/to, the default period otherwise.
CREATE OR REPLACE FUNCTION analytics.http_period_type(period text, "from" text, "to" text, days text, hours text,
                                                      start_date text, end_date text, default_period text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN CASE WHEN period IS NOT NULL THEN period
                WHEN days IS NOT NULL THEN days || 'd'
                WHEN hours IS NOT NULL THEN hours || 'h'
                WHEN coalesce("from", "to", start_date, end_date) IS NOT NULL THEN 'custom'
                ELSE default_period END;
END
$$;
COMMENT ON FUNCTION analytics.http_period_type(text, text, text, text, text, text, text, text) IS
    'Seed 002''s period_type of a call: the period given (days=N as Nd, hours=N as Nh), custom for from/to (start_date/end_date), else the default period';

CREATE OR REPLACE FUNCTION analytics_api.session_activity(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
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
    RETURN analytics.session_activity(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.session_activity(text, text, text, text, text, text, text, text) IS
$$Session activity

GET /rpc/session_activity?period=7d (alias GET /api/analytics/sessions/activity; period Nh or Nd, or from/to as dates or RFC 3339 timestamps; default 7d). Returns {tenantId, period, sessions, activeSessions (an event in the last 15 minutes), avgSessionDurationMs, queriesPerSession, executions, successRate, uniqueUsers, avgResponseTimeMs, granularity, series [{timestamp|date, sessions, executions, uniqueUsers}]}: hourly for windows up to 48 hours, else daily, zero-filled. Operators: all tenants, or tenantId. Errors: 400 INVALID_PERIOD, 400 INVALID_DATE_RANGE, 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND.$$;

CREATE OR REPLACE FUNCTION analytics_api.session_detail("sessionId" text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s      record := analytics.http_scope("tenantId");
    id     text := analytics.http_id_param("sessionId", 'sessionId');
    result jsonb;
BEGIN
    result := analytics.session_detail(s.tenant_id, id);
    IF result IS NULL THEN
        PERFORM analytics.http_error(404, 'SESSION_NOT_FOUND', 'No session with this id');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics_api.session_detail(text, text) IS
$$A session and its events

GET /rpc/session_detail?sessionId=ID (alias GET /api/analytics/sessions/{id}). Returns {tenantId, sessionId, totals {events, executions, failures, tokens, inputTokens, outputTokens, costUsd, unpricedCalls, firstAt, lastAt, durationMs, userId, agents [{agentId, agentName}]}, events [{occurredAt, eventType, agentId, executionId, toolName, mcpServer, model, tokens, latencyMs, success, errorCode, count, tenantId}] (time order, at most 1000), truncated}. Errors: 400 VALIDATION_ERROR (sessionId missing or over 256 characters), 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND, 404 SESSION_NOT_FOUND (also another tenant's session).$$;

CREATE OR REPLACE FUNCTION analytics_api.execution_detail("executionId" text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s      record := analytics.http_scope("tenantId");
    id     text := analytics.http_id_param("executionId", 'executionId');
    result jsonb;
BEGIN
    result := analytics.execution_detail(s.tenant_id, id);
    IF result IS NULL THEN
        PERFORM analytics.http_error(404, 'EXECUTION_NOT_FOUND', 'No execution with this id');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics_api.execution_detail(text, text) IS
$$An agent execution and its calls

GET /rpc/execution_detail?executionId=ID (alias GET /api/analytics/executions/{id}). Returns {tenantId, executionId, execution {agentId, agentName, startedAt, durationMs, status (success, failed, timeout), errorCode, sessionId, userId, workflowId}, totals {toolCalls, llmCalls, inputTokens, outputTokens, tokens, costUsd, unpricedCalls}, calls [{occurredAt, eventType, agentId, toolName, mcpServer, model, inputTokens, outputTokens, tokens, costUsd, latencyMs, success, errorCode, count}] (time order, at most 1000), truncated}; costUsd null for a model without a price. Errors: 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND, 404 EXECUTION_NOT_FOUND (also another tenant's execution).$$;

CREATE OR REPLACE FUNCTION analytics_api.user_analytics(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                        "userId" text DEFAULT NULL,
                                                        "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                        start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s      record := analytics.http_scope("tenantId");
    w      record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
    id     text := analytics.http_id_param("userId", 'userId');
    result jsonb;
BEGIN
    result := analytics.user_analytics(s.tenant_id, w.from_ts, w.to_ts, id,
                                       analytics.http_period_type(period, "from", "to", days, hours, start_date, end_date, '7d'));
    IF (result ->> 'actions')::bigint = 0 AND NOT analytics.user_known(s.tenant_id, id) THEN
        PERFORM analytics.http_error(404, 'USER_NOT_FOUND', 'No user with this id');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics_api.user_analytics(text, text, text, text, text, text, text, text, text) IS
$$A user's analytics (seed 002)

GET /rpc/user_analytics?userId=ID&period=7d (alias GET /api/v1/analytics/user/{id}; period Nh or Nd, or from/to; days=N, hours=N; default 7d). Returns {tenant_id, user_id, period_type, period, sessions, actions, agents_used, executions, tokens, cost_usd, active_days}. Errors: 400 INVALID_PERIOD, 400 INVALID_DATE_RANGE, 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND, 404 USER_NOT_FOUND (no event of the user in the caller's scope, ever).$$;

CREATE OR REPLACE FUNCTION analytics_api.user_trends(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                     "userId" text DEFAULT NULL, granularity text DEFAULT NULL,
                                                     "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                     start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s      record := analytics.http_scope("tenantId");
    w      record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    id     text := analytics.http_id_param("userId", 'userId');
    g      text := analytics.http_granularity(granularity, w.from_ts, w.to_ts);
    result jsonb;
BEGIN
    result := analytics.user_trends(s.tenant_id, w.from_ts, w.to_ts, id, g,
                                    analytics.http_period_type(period, "from", "to", days, hours, start_date, end_date, '30d'));
    IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(result -> 'data') d WHERE (d ->> 'actions')::bigint > 0)
       AND NOT analytics.user_known(s.tenant_id, id) THEN
        PERFORM analytics.http_error(404, 'USER_NOT_FOUND', 'No user with this id');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics_api.user_trends(text, text, text, text, text, text, text, text, text, text) IS
$$A user's analytics per bucket (seed 002)

GET /rpc/user_trends?userId=ID&period=30d&granularity=day (alias GET /api/v1/analytics/user/{id}/trends; granularity hour (periods up to 7 days), day, week or month; default 30d by day). Returns {tenant_id, user_id, period_type, period, granularity, data [{date|timestamp, sessions, actions, agents_used, executions, tokens, cost_usd, active_days}]}: every bucket zero-filled, oldest first, labelled by its start clipped to the period. Errors: 400 INVALID_PERIOD, 400 INVALID_DATE_RANGE, 400 INVALID_GRANULARITY, 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND, 404 USER_NOT_FOUND.$$;

CREATE OR REPLACE FUNCTION analytics_api.workflow_performance(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
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
    RETURN analytics.workflow_performance(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.workflow_performance(text, text, text, text, text, text, text, text) IS
$$Workflow performance

GET /rpc/workflow_performance?period=7d (alias GET /api/analytics/workflows/performance; default 7d). Returns {tenantId, period, workflowTypes [{workflowType, runs, successes, failures, successRate, durationMs {p50, p95, p99}, avgAgentsPerRun, avgToolCallsPerRun, avgTokensPerRun}] (most runs first), series [{date, runs, failures, p95}] (daily, zero-filled)}. A run is a workflow_id with a workflow event in the period; it failed when a workflow event of it failed. Errors: 400 INVALID_PERIOD, 400 INVALID_DATE_RANGE, 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND.$$;
