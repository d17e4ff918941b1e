-- metrics.sql: the gateway's own functions, in schema analytics_http (not part
-- of the extension; idempotent, run by http/stack.sh as a superuser after
-- CREATE EXTENSION analytics).
--   analytics_http.metrics()  the job gauges in Prometheus text format, from
--                             analytics.job_runs (role analytics_metrics only)
--   analytics_http.domain_metrics()  the Prometheus domain metrics of
--                             contract §6.7 (analytics.prometheus_metrics();
--                             role analytics_metrics only)
--   analytics_http.metrics_auth()  nginx's auth_request for GET /metrics with a
--                             token: answers 200 to operators only (PostgREST
--                             checks the token: a tenant's gets 403, none or an
--                             invalid one 401)
--   analytics_http.ping()     a trivial function: PostgREST's floor (bench)
--   analytics_http.pre_request()  PostgREST's db-pre-request: a request
--                             without a token answers the contract's 401
--                             UNAUTHORIZED (404 NOT_FOUND when analytics.enabled
--                             is off), from PostgREST directly as through nginx,
--                             but for /rpc/analytics_health (the public status)
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS analytics_http;

DO $$
BEGIN
    IF to_regrole('analytics_metrics') IS NULL THEN
        CREATE ROLE analytics_metrics NOLOGIN;
    END IF;
    -- PostgREST v12 answers Content-Type text/plain for a function returning
    -- this domain.
    IF to_regtype('analytics_http."text/plain"') IS NULL THEN
        CREATE DOMAIN analytics_http."text/plain" AS text;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION analytics_http.metrics()
RETURNS analytics_http."text/plain"
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH last AS (
        SELECT DISTINCT ON (job) job, duration_ms, finished_at
        FROM analytics.job_runs
        WHERE finished_at IS NOT NULL AND status IN ('succeeded', 'skipped', 'failed')
        ORDER BY job, finished_at DESC
    )
    SELECT concat_ws(E'\n',
        '# HELP agentidp_analytics_aggregation_job_duration_ms Duration of the last finished run of each analytics job (analytics.job_runs), in milliseconds.',
        '# TYPE agentidp_analytics_aggregation_job_duration_ms gauge',
        (SELECT string_agg(format('agentidp_analytics_aggregation_job_duration_ms{job="%s"} %s', job, coalesce(duration_ms, 0)), E'\n' ORDER BY job) FROM last),
        '# HELP agentidp_analytics_aggregation_job_last_run End of the last finished run of each analytics job (analytics.job_runs), Unix time in seconds.',
        '# TYPE agentidp_analytics_aggregation_job_last_run gauge',
        (SELECT string_agg(format('agentidp_analytics_aggregation_job_last_run{job="%s"} %s', job, round(extract(epoch FROM finished_at), 3)), E'\n' ORDER BY job) FROM last)
    ) || E'\n'
$$;

-- (plpgsql: this file also runs against an extension older than 0.5.0,
-- which has no analytics.prometheus_metrics(): nothing is added then)
CREATE OR REPLACE FUNCTION analytics_http.domain_metrics()
RETURNS analytics_http."text/plain"
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regprocedure('analytics.prometheus_metrics()') IS NULL THEN
        RETURN '# the analytics extension has no domain metrics (older than 0.5.0)' || E'\n';
    END IF;
    RETURN analytics.prometheus_metrics();
END
$$;

-- (STABLE, in plpgsql: an IMMUTABLE function would be folded into a
-- constant by the plan PostgREST prepares, and a plan cached for an
-- operator would then answer a tenant without its EXECUTE being checked)
CREATE OR REPLACE FUNCTION analytics_http.metrics_auth()
RETURNS json
LANGUAGE plpgsql STABLE
AS $$ BEGIN RETURN '{"ok":true}'::json; END $$;

CREATE OR REPLACE FUNCTION analytics_http.ping()
RETURNS json
LANGUAGE sql IMMUTABLE
AS $$ SELECT '{"ok":true}'::json $$;

-- Runs as the role PostgREST switched to, before every call: analytics_anon
-- is the role of a request without a token (db-anon-role).
CREATE OR REPLACE FUNCTION analytics_http.pre_request()
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_user = 'analytics_anon' THEN
        -- (the health status is public: contract §6.3, analytics_health)
        IF current_setting('request.path', true) = '/rpc/analytics_health' THEN
            RETURN;
        END IF;
        IF NOT coalesce(current_setting('analytics.enabled', true)::boolean, true) THEN
            RAISE SQLSTATE 'PGRST'
                USING MESSAGE = '{"code":"NOT_FOUND","message":"Analytics is not enabled"}',
                      DETAIL = '{"status":404,"headers":{}}';
        END IF;
        RAISE SQLSTATE 'PGRST'
            USING MESSAGE = '{"code":"UNAUTHORIZED","message":"missing or invalid token, or no tenant claim"}',
                  DETAIL = '{"status":401,"headers":{"WWW-Authenticate":"Bearer"}}';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics_http.pre_request() IS
    'PostgREST db-pre-request: a request without a token (role analytics_anon) answers 401 UNAUTHORIZED (404 NOT_FOUND when analytics.enabled is off), except /rpc/analytics_health (the public status)';

REVOKE ALL ON FUNCTION analytics_http.metrics() FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics_http.ping() FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics_http.domain_metrics() FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics_http.metrics_auth() FROM PUBLIC;
GRANT USAGE ON SCHEMA analytics_http TO analytics_metrics, analytics_tenant, analytics_operator, analytics_anon;
GRANT EXECUTE ON FUNCTION analytics_http.metrics() TO analytics_metrics;
GRANT EXECUTE ON FUNCTION analytics_http.ping() TO analytics_tenant;
GRANT EXECUTE ON FUNCTION analytics_http.domain_metrics() TO analytics_metrics;
GRANT EXECUTE ON FUNCTION analytics_http.metrics_auth() TO analytics_operator;
