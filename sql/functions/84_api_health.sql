-------------------------------------------------------------------------------
-- functions/84_api_health.sql (layer 84, the HTTP layer): the analytics_api
-- functions of contract §6.5 "Health and SLA" (typed twins in
-- functions/79_ops_health.sql).
--
-- Reads (health_summary, service_health, sla): analytics.http_scope (the §5
-- checks, 403 FORBIDDEN for another tenant, 404 TENANT_NOT_FOUND), then
-- analytics.http_window (400 INVALID_PERIOD / INVALID_DATE_RANGE), then
-- their own parameters (400 VALIDATION_ERROR naming the field), then the
-- service (404 SERVICE_NOT_FOUND).  Writes (register_service,
-- record_health_check, record_circuit_state): analytics.http_write_scope (80),
-- the same checks except the free tier (contract §6.1: writes are allowed).
-- A tenant token names its own services; an operator token names the
-- platform's (no tenantId) or a tenant's (tenantId).  Every parameter is
-- text, parsed here.  Re-runnable.
-------------------------------------------------------------------------------

-- A service_name parameter: required (400 VALIDATION_ERROR); for a lookup
-- (must_exist) the service of the scope, else 404 SERVICE_NOT_FOUND.
CREATE OR REPLACE FUNCTION analytics.health_http_service(service_name text, tenant_id uuid, must_exist boolean)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    valid boolean := service_name ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$' AND length(service_name) <= 128;
BEGIN
    IF service_name IS NULL OR service_name = '' THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'service_name is required');
    END IF;
    IF NOT must_exist THEN
        IF NOT valid THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR',
                'service_name must be 1 to 128 characters: letters, digits and . _ : - (not first)');
        END IF;
        RETURN service_name;
    END IF;
    IF NOT valid OR NOT EXISTS (SELECT 1 FROM analytics.services s
                                WHERE s.tenant_id IS NOT DISTINCT FROM health_http_service.tenant_id
                                  AND s.service_name = health_http_service.service_name) THEN
        PERFORM analytics.http_error(404, 'SERVICE_NOT_FOUND', 'No service has this service_name');
    END IF;
    RETURN service_name;
END
$$;
COMMENT ON FUNCTION analytics.health_http_service(text, uuid, boolean) IS
    'Parses the service_name API parameter: 400 VALIDATION_ERROR when missing (or, for a new service, malformed); for a lookup 404 SERVICE_NOT_FOUND unless (tenant_id, service_name) is a service (tenant_id NULL: the platform''s)';

CREATE OR REPLACE FUNCTION analytics_api.register_service(service_name text DEFAULT NULL, service_type text DEFAULT NULL,
                                                          check_url text DEFAULT NULL, interval_seconds text DEFAULT NULL,
                                                          agent_id text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w    record := analytics.http_write_scope("tenantId");
    name text := analytics.health_http_service(service_name, w.tenant_id, false);
    ival integer := 60;
    aid  uuid;
BEGIN
    IF service_type IS NOT NULL AND service_type NOT IN ('api', 'database', 'cache', 'external', 'mcp_server') THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR',
            'service_type must be api, database, cache, external or mcp_server');
    END IF;
    IF check_url IS NOT NULL AND (length(check_url) > 2048 OR check_url !~* '^https?://[^[:space:]/?#@]+([/?#][^[:space:]]*)?$') THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR',
            'check_url must be an http:// or https:// URL of at most 2048 characters (no credentials)');
    END IF;
    IF interval_seconds IS NOT NULL THEN
        IF interval_seconds !~ '^[0-9]{1,5}$' OR interval_seconds::integer NOT BETWEEN 10 AND 86400 THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'interval_seconds must be an integer from 10 to 86400');
        END IF;
        ival := interval_seconds::integer;
    END IF;
    IF agent_id IS NOT NULL THEN
        aid := analytics.platform_http_agent(agent_id, w.tenant_id);
    END IF;
    RETURN analytics.register_service(w.tenant_id, name, coalesce(service_type, 'api'), check_url, ival, aid);
EXCEPTION WHEN program_limit_exceeded THEN
    PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'at most 1000 services per tenant');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_api.register_service(text, text, text, text, text, text) IS
    'POST /api/v1/analytics/monitoring/services: registers or changes a service of the caller (a tenant: its own; an operator: the platform''s, or tenantId''s): service_name, service_type (api|database|cache|external|mcp_server, default api), check_url (probed by the background worker), interval_seconds (10 to 86400, default 60), agent_id; 400 VALIDATION_ERROR naming the field, 404 AGENT_NOT_FOUND (contract §6.5)';

CREATE OR REPLACE FUNCTION analytics_api.record_health_check(service_name text DEFAULT NULL, status text DEFAULT NULL,
                                                             response_time_ms text DEFAULT NULL, error_message text DEFAULT NULL,
                                                             checked_at text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w    record := analytics.http_write_scope("tenantId");
    name text;
    ms   double precision;
    at   timestamptz;
    now_ts timestamptz := clock_timestamp();
BEGIN
    IF status IS NULL OR status NOT IN ('healthy', 'degraded', 'unhealthy', 'unknown') THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'status must be healthy, degraded, unhealthy or unknown');
    END IF;
    IF response_time_ms IS NOT NULL THEN
        IF response_time_ms !~ '^[0-9]{1,8}(\.[0-9]{1,6})?$' OR response_time_ms::numeric > 86400000 THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'response_time_ms must be a number from 0 to 86400000');
        END IF;
        ms := response_time_ms::double precision;
    END IF;
    IF length(error_message) > 1024 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'error_message may have at most 1024 characters');
    END IF;
    IF checked_at IS NOT NULL THEN
        BEGIN
            at := (analytics.http_parse_instant(checked_at, 'checked_at')).ts;
        EXCEPTION WHEN sqlstate 'PGRST' THEN
            at := NULL;
        END;
        IF at IS NULL OR checked_at !~ 'T|t| ' THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'checked_at must be an RFC 3339 timestamp with its offset');
        END IF;
        IF at > now_ts + make_interval(secs => analytics.setting('max_event_future_seconds')::integer)
           OR at < now_ts - interval '400 days' THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'checked_at must lie within the last 400 days and not in the future');
        END IF;
    END IF;
    name := analytics.health_http_service(service_name, w.tenant_id, true);
    RETURN analytics.record_health_check(w.tenant_id, name, status, ms, error_message, coalesce(at, now_ts));
END
$$;
COMMENT ON FUNCTION analytics_api.record_health_check(text, text, text, text, text, text) IS
    'POST /api/v1/analytics/monitoring/checks: pushes a health check of a service of the caller: status (healthy|degraded|unhealthy|unknown), response_time_ms (0 to 86400000), error_message (at most 1024 characters), checked_at (RFC 3339, default now; the last 400 days); 400 VALIDATION_ERROR naming the field, 404 SERVICE_NOT_FOUND (contract §6.5)';

CREATE OR REPLACE FUNCTION analytics_api.record_circuit_state(service_name text DEFAULT NULL, state text DEFAULT NULL,
                                                              at text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w    record := analytics.http_write_scope("tenantId");
    name text;
    ts   timestamptz;
    now_ts timestamptz := clock_timestamp();
BEGIN
    IF state IS NULL OR state NOT IN ('closed', 'open', 'half_open') THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'state must be closed, open or half_open');
    END IF;
    IF record_circuit_state.at IS NOT NULL THEN
        BEGIN
            ts := (analytics.http_parse_instant(record_circuit_state.at, 'at')).ts;
        EXCEPTION WHEN sqlstate 'PGRST' THEN
            ts := NULL;
        END;
        IF ts IS NULL OR record_circuit_state.at !~ 'T|t| ' THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'at must be an RFC 3339 timestamp with its offset');
        END IF;
        IF ts > now_ts + make_interval(secs => analytics.setting('max_event_future_seconds')::integer)
           OR ts < now_ts - interval '400 days' THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'at must lie within the last 400 days and not in the future');
        END IF;
    END IF;
    name := analytics.health_http_service(service_name, w.tenant_id, true);
    RETURN analytics.record_circuit_state(w.tenant_id, name, state, coalesce(ts, now_ts));
END
$$;
COMMENT ON FUNCTION analytics_api.record_circuit_state(text, text, text, text) IS
    'POST /api/v1/analytics/monitoring/circuit: records a circuit breaker change of a service of the caller: state closed|open|half_open, at (RFC 3339, default now); 400 VALIDATION_ERROR naming the field, 404 SERVICE_NOT_FOUND (contract §6.5)';

CREATE OR REPLACE FUNCTION analytics_api.health_summary("tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
BEGIN
    RETURN analytics.health_summary(s.tenant_id);
END
$$;
COMMENT ON FUNCTION analytics_api.health_summary(text) IS
    'GET /api/v1/analytics/monitoring/health: seed 002''s health summary (overall_status, total_services, healthy, degraded, unhealthy, unknown, services[] with status, response_time_ms, consecutive_failures, last_checked, circuit_state) of the caller''s services (an operator: every service, or tenantId''s) (contract §6.5)';

CREATE OR REPLACE FUNCTION analytics_api.service_health(service_name text DEFAULT NULL, hours text DEFAULT NULL,
                                                        period text DEFAULT NULL, "from" text DEFAULT NULL,
                                                        "to" text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s    record := analytics.http_scope("tenantId");
    w    record := analytics.http_window(period, "from", "to", NULL, hours, NULL, NULL, '24h');
    name text := analytics.health_http_service(service_name, s.tenant_id, true);
BEGIN
    RETURN analytics.service_health(s.tenant_id, name, w.from_ts, least(w.to_ts, clock_timestamp()));
END
$$;
COMMENT ON FUNCTION analytics_api.service_health(text, text, text, text, text, text) IS
    'GET /api/v1/analytics/monitoring/health/{service}: the latest check, consecutive failures, circuit state and the timeline of status stretches and circuit changes of a service of the caller (an operator: the platform''s, or tenantId''s) over hours=N (default 24, 1 to 168), period or from/to; 404 SERVICE_NOT_FOUND (contract §6.5)';

CREATE OR REPLACE FUNCTION analytics_api.sla(service_name text DEFAULT NULL, days text DEFAULT NULL, target text DEFAULT NULL,
                                             period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                             "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s    record := analytics.http_scope("tenantId");
    w    record := analytics.http_window(period, "from", "to", days, NULL, NULL, NULL, '30d');
    t    numeric := 99.9;
    name text;
BEGIN
    IF target IS NOT NULL THEN
        IF target !~ '^[0-9]{1,3}(\.[0-9]{1,6})?$' OR target::numeric > 100 THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'target must be a number from 0 to 100');
        END IF;
        t := target::numeric;
    END IF;
    name := analytics.health_http_service(service_name, s.tenant_id, true);
    -- (a window of whole days ends at midnight tonight: the rest is to come)
    RETURN analytics.sla(s.tenant_id, name, w.from_ts, least(w.to_ts, clock_timestamp()), t);
END
$$;
COMMENT ON FUNCTION analytics_api.sla(text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/monitoring/sla/{service}: time-weighted uptime of a service of the caller over days=N (default 30, the UTC days ending today, up to now; 1 to 365), period or from/to, against target (default 99.9, 0 to 100): uptime_percentage, compliant, average_response_time_ms, downtime_incidents, downtime_seconds, unknown_seconds, error_budget_remaining_seconds; 404 SERVICE_NOT_FOUND (contract §6.5)';
