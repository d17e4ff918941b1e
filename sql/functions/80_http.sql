-------------------------------------------------------------------------------
-- functions/80_http.sql (layer 80, the HTTP layer): errors as PostgREST
-- turns them into HTTP responses, the JWT claims, parameter parsing, and the
-- analytics_api functions PostgREST exposes.  Re-runnable.
--
-- Vocabulary:
--   typed function  analytics.<name>(tenant_id uuid, ...) (layer 70): the
--                   computation, for SQL callers; no tenant checks.
--   API function    analytics_api.<name>(text, ...): what PostgREST exposes;
--                   tenant from the JWT claims, text parameters parsed inside,
--                   every refusal raised with analytics.http_error() in the
--                   form PostgREST v12 turns into an HTTP status and body.
--   http_*          the helpers of this layer.
--
-- Security: API functions are SECURITY DEFINER with a pinned search_path.
-- EXECUTE on them is granted only to analytics_tenant (layer 90), and they
-- trust the claims only when the calling role (SET ROLE, else the session
-- user) has the privileges of analytics_tenant.
-------------------------------------------------------------------------------

-------------------------------------------------------------------------------

-- Raise an API error the way PostgREST v12 maps it to an HTTP response.
CREATE OR REPLACE FUNCTION analytics.http_error(status integer, code text, message text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE SQLSTATE 'PGRST'
        USING MESSAGE = json_build_object('code', code, 'message', message)::text,
              DETAIL = json_build_object('status', status, 'headers', json_build_object())::text;
END
$$;
COMMENT ON FUNCTION analytics.http_error(integer, text, text) IS
    'Raises SQLSTATE PGRST with message {"code","message"} and detail {"status","headers"}: PostgREST answers with that HTTP status and body';

-- The tenant the JWT claims name (tenant_id, else organization_id), or NULL.
-- Never raises: also used by the row-level security policies.
-- (C, src/http.c: the claims read once by PostgreSQL's JSON parser, which
-- returns its errors instead of raising them; it was PL/pgSQL that parsed
-- them as jsonb twice inside an exception block, a subtransaction, about
-- 10 microseconds of every call.  The same answers: sql/claims.sql.
-- PARALLEL UNSAFE as before: the RLS predicate rls_tenant_visible calls it
-- inside table scans, which so stay in the process where the request's
-- claims were set.)
CREATE OR REPLACE FUNCTION analytics.http_claimed_tenant()
RETURNS uuid
LANGUAGE c STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'analytics_http_claimed_tenant';
COMMENT ON FUNCTION analytics.http_claimed_tenant() IS
    'The tenant named by request.jwt.claims (claim tenant_id, else organization_id) as a uuid; NULL when missing or malformed';

-- Does the role calling the API have the privileges of the given API role?
-- Inside a SECURITY DEFINER function current_user is the owner, so the
-- caller is the role set with SET ROLE (PostgREST's SET LOCAL ROLE), else
-- the session user.  A NOINHERIT authenticator that has not switched role
-- does not qualify; superusers have every role's privileges.  (C, src/http.c:
-- asked by every API call, it is one catalogue lookup, not a query over
-- pg_roles planned again at each call.)
CREATE OR REPLACE FUNCTION analytics.http_caller_has_role(api_role name)
RETURNS boolean
LANGUAGE c STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'analytics_http_caller_has_role';
COMMENT ON FUNCTION analytics.http_caller_has_role(name) IS
    'True when the role calling the API (SET ROLE, else the session user) is a superuser or has the privileges of the given role';

-- The calling tenant of a tenant token: 401 UNAUTHORIZED for a role other
-- than analytics_tenant, without a trusted claim, or for a tenant not
-- registered; 403 ANALYTICS_NOT_AVAILABLE for the free tier (unless
-- analytics.free_tier_access is on, or free_tier_ok: a §6 write).
CREATE OR REPLACE FUNCTION analytics.http_caller_tenant(free_tier_ok boolean)
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid  uuid;
    tier text;
BEGIN
    IF NOT analytics.http_caller_has_role('analytics_tenant') THEN
        PERFORM analytics.http_error(401, 'UNAUTHORIZED', 'This role may not use the analytics API');
    END IF;
    tid := analytics.http_claimed_tenant();
    IF tid IS NULL THEN
        PERFORM analytics.http_error(401, 'UNAUTHORIZED', 'Missing or invalid tenant claim');
    END IF;
    SELECT t.tier INTO tier FROM analytics.tenants t WHERE t.tenant_id = tid;
    IF NOT FOUND THEN
        PERFORM analytics.http_error(401, 'UNAUTHORIZED', 'Unknown tenant');
    END IF;
    IF tier = 'free' AND NOT free_tier_ok AND NOT analytics.setting('free_tier_access')::boolean THEN
        PERFORM analytics.http_error(403, 'ANALYTICS_NOT_AVAILABLE', 'Analytics is not available on the free tier');
    END IF;
    RETURN tid;
END
$$;
COMMENT ON FUNCTION analytics.http_caller_tenant(boolean) IS
    'The tenant of a tenant token: 401 UNAUTHORIZED for another role, without a trusted claim or for an unregistered tenant, 403 ANALYTICS_NOT_AVAILABLE for the free tier unless analytics.free_tier_access is on or free_tier_ok (a write)';

-- The caller's tenant, after the checks every API function makes, in the
-- contract's order: analytics.enabled (404), a trusted caller with a claim
-- naming a registered tenant (401), the free tier (403).
CREATE OR REPLACE FUNCTION analytics.http_tenant()
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT analytics.setting('enabled')::boolean THEN
        PERFORM analytics.http_error(404, 'NOT_FOUND', 'Analytics is not enabled');
    END IF;
    RETURN analytics.http_caller_tenant(false);
END
$$;
COMMENT ON FUNCTION analytics.http_tenant() IS
    'The calling tenant for the API: 404 NOT_FOUND when analytics.enabled is off, 401 UNAUTHORIZED without a trusted claim naming a registered tenant, 403 ANALYTICS_NOT_AVAILABLE for the free tier unless analytics.free_tier_access is on';

-- A YYYY-MM-DD parameter, or 400 INVALID_DATE_RANGE.
CREATE OR REPLACE FUNCTION analytics.http_parse_date(value text, name text)
RETURNS date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        BEGIN
            RETURN value::date;
        EXCEPTION WHEN others THEN
            NULL;
        END;
    END IF;
    PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', format('%s must be a date YYYY-MM-DD', name));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.http_parse_date(text, text) IS
    'Parses a YYYY-MM-DD API parameter; anything else raises 400 INVALID_DATE_RANGE naming the parameter';

-- The period of an API call: defaults to = today, from = to - 29; from <= to
-- <= today and at most max_days days counting both ends, else 400.
CREATE OR REPLACE FUNCTION analytics.http_period("from" text, "to" text, max_days integer,
                                     OUT from_day date, OUT to_day date)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today date := analytics.utc_today();
BEGIN
    to_day := CASE WHEN http_period."to" IS NULL THEN today ELSE analytics.http_parse_date(http_period."to", 'to') END;
    from_day := CASE WHEN http_period."from" IS NULL THEN to_day - 29 ELSE analytics.http_parse_date(http_period."from", 'from') END;
    IF from_day > to_day THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'from must not be after to');
    END IF;
    IF to_day > today THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'to must not be after today (UTC)');
    END IF;
    IF to_day - from_day + 1 > max_days THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE',
                                    format('the period may span at most %s days, both ends included', max_days));
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.http_period(text, text, integer) IS
    'Parses and checks the from/to parameters of an API call: defaults to = today (UTC), from = to - 29; 400 INVALID_DATE_RANGE for bad dates, from > to, to > today or more than max_days days';

-- The days parameter: a positive integer <= 90, else 400 VALIDATION_ERROR.
CREATE OR REPLACE FUNCTION analytics.http_parse_days(days text)
RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF days ~ '^[0-9]{1,4}$' AND days::integer BETWEEN 1 AND 90 THEN
        RETURN days::integer;
    END IF;
    PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'days must be an integer from 1 to 90');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.http_parse_days(text) IS
    'Parses the days API parameter: an integer from 1 to 90, else 400 VALIDATION_ERROR';


-------------------------------------------------------------------------------
-- The HTTP-facing functions (PostgREST: db-schemas = analytics_api)
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics_api.usage_summary("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    p   record := analytics.http_period("from", "to", 365);
BEGIN
    RETURN analytics.usage_summary(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.usage_summary(text, text) IS
$$Usage summary of the caller's tenant

GET /rpc/usage_summary?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period {from, to}, summary {totalApiCalls, totalTokenIssuances, totalCredentialRotations, activeAgentCount, averageDailyApiCalls, peakDailyApiCalls, peakDate}}. Errors: 400 INVALID_DATE_RANGE, 401 UNAUTHORIZED, 403 ANALYTICS_NOT_AVAILABLE, 404 NOT_FOUND.$$;

CREATE OR REPLACE FUNCTION analytics_api.agent_activity("from" text DEFAULT NULL, "to" text DEFAULT NULL, "agentId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.http_tenant();
    p     record := analytics.http_period("from", "to", 90);
    agent uuid;
BEGIN
    IF "agentId" IS NOT NULL THEN
        IF "agentId" ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            SELECT a.agent_id INTO agent FROM analytics.agents a
            WHERE a.agent_id = "agentId"::uuid AND a.tenant_id = tid;
        END IF;
        IF agent IS NULL THEN
            PERFORM analytics.http_error(404, 'AGENT_NOT_FOUND', 'No agent with this id in your tenant');
        END IF;
    END IF;
    RETURN analytics.agent_activity(tid, p.from_day, p.to_day, agent);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_activity(text, text, text) IS
$$Daily activity per agent of the caller's tenant

GET /rpc/agent_activity?from=YYYY-MM-DD&to=YYYY-MM-DD&agentId=UUID (defaults: the 30 days ending today, UTC; at most 90 days; all agents with any event in the period). Returns {tenantId, period, agents [{agentId, agentName, dailyActivity [{date, apiCalls, tokenIssuances, credentialRotations}]}]}, agents by name then id, every day zero-filled, oldest first. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404 NOT_FOUND, 404 AGENT_NOT_FOUND.$$;

CREATE OR REPLACE FUNCTION analytics_api.token_trends("from" text DEFAULT NULL, "to" text DEFAULT NULL, granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    p   record := analytics.http_period("from", "to", 365);
BEGIN
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        PERFORM analytics.http_error(400, 'INVALID_GRANULARITY', 'granularity must be day or week');
    END IF;
    RETURN analytics.token_trends(tid, p.from_day, p.to_day, granularity);
END
$$;
COMMENT ON FUNCTION analytics_api.token_trends(text, text, text) IS
$$Token issuance trend of the caller's tenant

GET /rpc/token_trends?from=YYYY-MM-DD&to=YYYY-MM-DD&granularity=day|week (defaults: the 30 days ending today, UTC, by day; at most 365 days). Returns {tenantId, period, granularity, dataPoints [{date, totalIssuances, successfulIssuances, failedIssuances, uniqueAgents}]}: every bucket zero-filled, oldest first; a week is an ISO week labelled by its first day inside the period. Errors: 400 INVALID_DATE_RANGE, 400 INVALID_GRANULARITY, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.tokens(days text DEFAULT '30')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    n   integer := analytics.http_parse_days(days);
BEGIN
    RETURN analytics.tokens(tid, n);
END
$$;
COMMENT ON FUNCTION analytics_api.tokens(text) IS
$$Token issuances per day of the caller's tenant

GET /rpc/tokens?days=N (1 to 90, default 30): exactly N days ending today (UTC). Returns {tenantId, days, data [{date, count}]}, zero-filled, oldest first. Errors: 400 VALIDATION_ERROR, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.agents_activity(days text DEFAULT '30')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    n   integer := analytics.http_parse_days(days);
BEGIN
    RETURN analytics.agents_activity(tid, n);
END
$$;
COMMENT ON FUNCTION analytics_api.agents_activity(text) IS
$$Day-of-week x hour heatmap of the caller's API calls

GET /rpc/agents_activity?days=N (1 to 90, default 30): api_call events of the last N days ending today, by UTC day of week (0 = Sunday) and hour. Returns {tenantId, data [{dow, hour, count}]}, non-zero cells only, by dow then hour. Errors: 400 VALIDATION_ERROR, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.agents()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
BEGIN
    RETURN analytics.agent_tokens(tid);
END
$$;
COMMENT ON FUNCTION analytics_api.agents() IS
$$Token issuances per agent this month

GET /rpc/agents: token issuances per agent of the caller's tenant in the current UTC calendar month. Returns {tenantId, month (YYYY-MM), data [{agentId, tokenCount}]}, most first. Errors: 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.rotation_frequency("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    p   record := analytics.http_period("from", "to", 365);
BEGIN
    RETURN analytics.rotation_frequency(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.rotation_frequency(text, text) IS
$$Credential rotation frequency per agent

GET /rpc/rotation_frequency?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period, totalRotations, agents [{agentId, agentName, rotations, rotationDays, lastRotationDate, averageDaysBetweenRotations}]} for every agent with any event in the period, most rotations first. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.call_patterns("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    p   record := analytics.http_period("from", "to", 365);
BEGIN
    RETURN analytics.call_patterns(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.call_patterns(text, text) IS
$$API call patterns per endpoint and method

GET /rpc/call_patterns?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period, totalCalls, endpoints [{endpoint, method, calls, successes, failures, successRate, latencyMs {p50, p95, p99}}]}, most calls first; latencies within 1% of the exact percentiles. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.record_events(events jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.http_tenant();
    bad   bigint;
    msg   text;
    det   text;
BEGIN
    IF events IS NULL OR jsonb_typeof(events) <> 'array' THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'events must be a JSON array of event objects');
    END IF;
    SELECT e.i - 1 INTO bad FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)
    WHERE jsonb_typeof(e.v) <> 'object' ORDER BY e.i LIMIT 1;
    IF FOUND THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', format('event %s is not a JSON object', bad));
    END IF;
    SELECT e.i - 1 INTO bad FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)
    WHERE jsonb_typeof(e.v -> 'tenant_id') IS DISTINCT FROM 'null' AND e.v ? 'tenant_id'
      AND NOT (coalesce(e.v ->> 'tenant_id', '') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
               AND (e.v ->> 'tenant_id')::uuid = tid)
    ORDER BY e.i LIMIT 1;
    IF FOUND THEN
        PERFORM analytics.http_error(403, 'FORBIDDEN', format('event %s names another tenant', bad));
    END IF;
    BEGIN
        RETURN analytics.record_events(
            coalesce((SELECT jsonb_agg(e.v || jsonb_build_object('tenant_id', tid) ORDER BY e.i)
                      FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)), '[]'));
    EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', msg || coalesce(': ' || nullif(det, ''), ''));
    END;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_api.record_events(jsonb) IS
$$Records usage events for the caller's tenant

POST /rpc/record_events with body {"events": [{...}, ...]}: objects with the usage_events column names; all or nothing; tenant_id may be left out (the caller's is used); an event naming another tenant is refused. Returns the number of rows stored. Errors: 400 VALIDATION_ERROR (the message names the event index and field), 403 FORBIDDEN (another tenant), 401, 403 ANALYTICS_NOT_AVAILABLE, 404.$$;

