-------------------------------------------------------------------------------
-- functions/83_api_ops_platform.sql (layer 83, the HTTP layer of contract
-- §6.3): the API functions over layer 77's agent, platform, dashboard and
-- health answers.  Each: analytics.http_scope (the §5/§6.1 checks), then
-- analytics.http_window (the one period parser), then its own parameters,
-- then the typed function.  analytics_health() alone is callable without a
-- token (layer 90's grant_api_privileges grants it to analytics_anon) and
-- never raises.
-- Re-runnable.
-------------------------------------------------------------------------------

-- An agentId parameter: an agent of the caller's scope (tenant NULL: any
-- tenant); missing: 400 VALIDATION_ERROR; not a uuid, unknown, or another
-- tenant's: 404 AGENT_NOT_FOUND.
CREATE OR REPLACE FUNCTION analytics.platform_http_agent("agentId" text, tenant_id uuid)
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    aid uuid;
BEGIN
    IF "agentId" IS NULL THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'agentId is required');
    END IF;
    IF length("agentId") = 36 AND "agentId" ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        SELECT a.agent_id INTO aid FROM analytics.agents a
        WHERE a.agent_id = "agentId"::uuid
          AND (platform_http_agent.tenant_id IS NULL OR a.tenant_id = platform_http_agent.tenant_id);
    END IF;
    IF aid IS NULL THEN
        PERFORM analytics.http_error(404, 'AGENT_NOT_FOUND', 'No agent has this agentId');
    END IF;
    RETURN aid;
END
$$;
COMMENT ON FUNCTION analytics.platform_http_agent(text, uuid) IS
    'Parses the agentId API parameter: an agent of the given tenant (NULL: any); 400 VALIDATION_ERROR when missing, 404 AGENT_NOT_FOUND when not a uuid, unknown, or another tenant''s';

CREATE OR REPLACE FUNCTION analytics_api.agent_analytics(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                        "agentId" text DEFAULT NULL, "tenantId" text DEFAULT NULL,
                                                        days text DEFAULT NULL, hours text DEFAULT NULL,
                                                        start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sc  record := analytics.http_scope("tenantId");
    w   record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
    aid uuid := analytics.platform_http_agent("agentId", sc.tenant_id);
BEGIN
    RETURN analytics.agent_analytics(sc.tenant_id, w.from_ts, w.to_ts, aid);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_analytics(text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/agent/{id}: seed 002''s analytics of one agent (calls = its agent_execution events, success_rate, response_time_p50/p95/p99, tokens, cost_usd, ...) over period (default 7d) or from/to; 404 AGENT_NOT_FOUND for an agent outside the caller''s scope';

CREATE OR REPLACE FUNCTION analytics_api.agent_trends(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                     "agentId" text DEFAULT NULL, granularity text DEFAULT NULL,
                                                     "tenantId" text DEFAULT NULL,
                                                     days text DEFAULT NULL, hours text DEFAULT NULL,
                                                     start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sc   record := analytics.http_scope("tenantId");
    w    record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    gran text := analytics.http_granularity(granularity, w.from_ts, w.to_ts);
    aid  uuid := analytics.platform_http_agent("agentId", sc.tenant_id);
BEGIN
    RETURN analytics.agent_trends(sc.tenant_id, w.from_ts, w.to_ts, aid, gran);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_trends(text, text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/agent/{id}/trends: agent_analytics per bucket (granularity hour up to 7 days, day, week, month; default day) over period (default 30d) or from/to, zero-filled, oldest first';

CREATE OR REPLACE FUNCTION analytics_api.platform_trends(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                        granularity text DEFAULT NULL, "tenantId" text DEFAULT NULL,
                                                        days text DEFAULT NULL, hours text DEFAULT NULL,
                                                        start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sc   record := analytics.http_scope("tenantId", true);
    w    record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    gran text := analytics.http_granularity(granularity, w.from_ts, w.to_ts);
BEGIN
    RETURN analytics.platform_trends(sc.tenant_id, w.from_ts, w.to_ts, gran);
END
$$;
COMMENT ON FUNCTION analytics_api.platform_trends(text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/platform/trends (operators only; a tenant token gets 403 FORBIDDEN): active and new tenants, agents and users, events, failures, error_rate, api_p95, tokens, cost_usd per bucket over period (default 30d, day), optionally for one tenantId';

CREATE OR REPLACE FUNCTION analytics_api.dashboard(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                  "tenantId" text DEFAULT NULL,
                                                  days text DEFAULT NULL, hours text DEFAULT NULL,
                                                  start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sc record := analytics.http_scope("tenantId");
    w  record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.dashboard(sc.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.dashboard(text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/dashboard: seed 002''s current_metrics, daily trends, performance and monitoring over period (default 7d) or from/to, for the caller''s tenant (operators: every tenant, or tenantId)';

-- Health: never an error.  No token, a tenant token, or analytics.enabled
-- off (status down, not 404): {"status"} only; an operator token: the
-- whole of analytics.analytics_health().
CREATE OR REPLACE FUNCTION analytics_api.analytics_health()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h jsonb;
BEGIN
    IF NOT analytics.setting('enabled')::boolean THEN
        RETURN jsonb_build_object('status', 'down');
    END IF;
    h := analytics.analytics_health();
    IF analytics.http_claimed_tenant() IS NULL AND analytics.http_caller_has_role('analytics_operator') THEN
        RETURN h;
    END IF;
    RETURN jsonb_build_object('status', h ->> 'status');
END
$$;
COMMENT ON FUNCTION analytics_api.analytics_health() IS
    'GET /api/analytics/health: {"status": ok|degraded|down} for anyone, with or without a token (down when analytics.enabled is off, never 404); for an operator token also the version, last rollup run, days waiting for a rollup, pending deliveries and background worker (analytics.analytics_health())';
