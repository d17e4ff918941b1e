-------------------------------------------------------------------------------
-- 50_api.sql: the tenant analytics API (contract §5).
--
-- Vocabulary:
--   typed function  analytics.<name>(tenant_id uuid, ...): the computation,
--                   for SQL callers, with typed parameters; no tenant checks.
--   API function    analytics_api.<name>(text, ...): what PostgREST exposes;
--                   tenant from the JWT claims, text parameters parsed inside,
--                   every refusal raised with analytics.api_error() in the
--                   form PostgREST v12 turns into an HTTP status and body.
--   reader          analytics.api_days / api_agent_days / api_endpoint_stats:
--                   clean days from the rollups, every other day (today, late
--                   events, never rolled) from its own raw partition, so each
--                   answer reflects every event up to the moment of the call.
--
-- Security: API functions are SECURITY DEFINER with a pinned search_path.
-- EXECUTE on them is granted only to analytics_tenant (see
-- analytics.create_api_roles()), and they trust the claims only when the
-- calling role (SET ROLE, else the session user) has the privileges of
-- analytics_tenant.  Row-level security on every table holding tenant data
-- limits the API roles to the claimed tenant if they are ever granted access.
-------------------------------------------------------------------------------

-------------------------------------------------------------------------------
-- Errors, claims, parameters
-------------------------------------------------------------------------------

-- Raise an API error the way PostgREST v12 maps it to an HTTP response.
CREATE FUNCTION analytics.api_error(status integer, code text, message text)
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
COMMENT ON FUNCTION analytics.api_error(integer, text, text) IS
    'Raises SQLSTATE PGRST with message {"code","message"} and detail {"status","headers"}: PostgREST answers with that HTTP status and body';

-- The tenant the JWT claims name (tenant_id, else organization_id), or NULL.
-- Never raises: also used by the row-level security policies.
CREATE FUNCTION analytics.claimed_tenant_id()
RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    claims text := current_setting('request.jwt.claims', true);
    v      text;
BEGIN
    IF claims IS NULL OR claims = '' THEN
        RETURN NULL;
    END IF;
    BEGIN
        v := coalesce(claims::jsonb ->> 'tenant_id', claims::jsonb ->> 'organization_id');
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
    IF v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RETURN v::uuid;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.claimed_tenant_id() IS
    'The tenant named by request.jwt.claims (claim tenant_id, else organization_id) as a uuid; NULL when missing or malformed';

-- Does the role calling the API act as analytics_tenant?  Inside a SECURITY
-- DEFINER function current_user is the owner, so the caller is the role set
-- with SET ROLE (PostgREST's SET LOCAL ROLE), else the session user.  A
-- NOINHERIT authenticator that has not switched role does not qualify.
CREATE FUNCTION analytics.api_caller_is_tenant_role()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN EXISTS (
    SELECT 1
    FROM pg_catalog.pg_roles c
    WHERE c.rolname = CASE current_setting('role') WHEN 'none' THEN session_user::text ELSE current_setting('role') END
      AND (c.rolsuper OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles t
                                 WHERE t.rolname = 'analytics_tenant' AND pg_catalog.pg_has_role(c.oid, t.oid, 'USAGE'))));
COMMENT ON FUNCTION analytics.api_caller_is_tenant_role() IS
    'True when the role calling the API (SET ROLE, else the session user) is a superuser or has the privileges of analytics_tenant';

-- The caller's tenant, after the checks every API function makes, in the
-- contract's order: analytics.enabled (404), a trusted caller with a claim
-- naming a registered tenant (401), the free tier (403).
CREATE FUNCTION analytics.api_tenant()
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid  uuid;
    tier text;
BEGIN
    IF NOT current_setting('analytics.enabled')::boolean THEN
        PERFORM analytics.api_error(404, 'NOT_FOUND', 'Analytics is not enabled');
    END IF;
    IF NOT analytics.api_caller_is_tenant_role() THEN
        PERFORM analytics.api_error(401, 'UNAUTHORIZED', 'This role may not use the analytics API');
    END IF;
    tid := analytics.claimed_tenant_id();
    IF tid IS NULL THEN
        PERFORM analytics.api_error(401, 'UNAUTHORIZED', 'Missing or invalid tenant claim');
    END IF;
    SELECT t.tier INTO tier FROM analytics.tenants t WHERE t.tenant_id = tid;
    IF NOT FOUND THEN
        PERFORM analytics.api_error(401, 'UNAUTHORIZED', 'Unknown tenant');
    END IF;
    IF tier = 'free' AND NOT current_setting('analytics.free_tier_access')::boolean THEN
        PERFORM analytics.api_error(403, 'ANALYTICS_NOT_AVAILABLE', 'Analytics is not available on the free tier');
    END IF;
    RETURN tid;
END
$$;
COMMENT ON FUNCTION analytics.api_tenant() IS
    'The calling tenant for the API: 404 NOT_FOUND when analytics.enabled is off, 401 UNAUTHORIZED without a trusted claim naming a registered tenant, 403 ANALYTICS_NOT_AVAILABLE for the free tier unless analytics.free_tier_access is on';

-- Today in the reporting time zone.
CREATE FUNCTION analytics.api_today()
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (pg_catalog.now() AT TIME ZONE 'UTC')::date;
COMMENT ON FUNCTION analytics.api_today() IS 'Today (UTC), the last day of every default period';

-- A YYYY-MM-DD parameter, or 400 INVALID_DATE_RANGE.
CREATE FUNCTION analytics.api_parse_date(value text, name text)
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
    PERFORM analytics.api_error(400, 'INVALID_DATE_RANGE', format('%s must be a date YYYY-MM-DD', name));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.api_parse_date(text, text) IS
    'Parses a YYYY-MM-DD API parameter; anything else raises 400 INVALID_DATE_RANGE naming the parameter';

-- The period of an API call: defaults to = today, from = to - 29; from <= to
-- <= today and at most max_days days counting both ends, else 400.
CREATE FUNCTION analytics.api_period("from" text, "to" text, max_days integer,
                                     OUT from_day date, OUT to_day date)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today date := analytics.api_today();
BEGIN
    to_day := CASE WHEN api_period."to" IS NULL THEN today ELSE analytics.api_parse_date(api_period."to", 'to') END;
    from_day := CASE WHEN api_period."from" IS NULL THEN to_day - 29 ELSE analytics.api_parse_date(api_period."from", 'from') END;
    IF from_day > to_day THEN
        PERFORM analytics.api_error(400, 'INVALID_DATE_RANGE', 'from must not be after to');
    END IF;
    IF to_day > today THEN
        PERFORM analytics.api_error(400, 'INVALID_DATE_RANGE', 'to must not be after today (UTC)');
    END IF;
    IF to_day - from_day + 1 > max_days THEN
        PERFORM analytics.api_error(400, 'INVALID_DATE_RANGE',
                                    format('the period may span at most %s days, both ends included', max_days));
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.api_period(text, text, integer) IS
    'Parses and checks the from/to parameters of an API call: defaults to = today (UTC), from = to - 29; 400 INVALID_DATE_RANGE for bad dates, from > to, to > today or more than max_days days';

-- The days parameter: a positive integer <= 90, else 400 VALIDATION_ERROR.
CREATE FUNCTION analytics.api_parse_days(days text)
RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF days ~ '^[0-9]{1,4}$' AND days::integer BETWEEN 1 AND 90 THEN
        RETURN days::integer;
    END IF;
    PERFORM analytics.api_error(400, 'VALIDATION_ERROR', 'days must be an integer from 1 to 90');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.api_parse_days(text) IS
    'Parses the days API parameter: an integer from 1 to 90, else 400 VALIDATION_ERROR';

-- Checks of the typed functions (ordinary errors, not HTTP ones).
CREATE FUNCTION analytics.check_period("from" date, "to" date)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" OR "to" - "from" > 3660 THEN
        RAISE EXCEPTION 'invalid period % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'from and to are non-NULL, from <= to, at most 3661 days.';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.check_period(date, date) IS
    'Raises invalid_parameter_value unless from <= to, both non-NULL, at most 3661 days';

-------------------------------------------------------------------------------
-- Readers: clean days from the rollups, the other days from raw events.
-------------------------------------------------------------------------------

-- (analytics.unclean_days(from, to) is in 40_rollup.sql.)

CREATE TYPE analytics.api_raw_group AS (
    date date, agent_id uuid, event_type text, endpoint text, method text,
    calls bigint, successes bigint, latency analytics.qsketch, api_heatmap analytics.heatmap);
COMMENT ON TYPE analytics.api_raw_group IS
    'A group of raw events of one tenant and day, as analytics.api_raw_groups returns it';

-- A tenant's raw events of the given days, grouped by day, agent and event
-- type (and, with detail, by endpoint and method with a latency sketch of
-- the api calls).  Each day is read from its own partition by a query
-- planned for it alone; days with no partition from the default partition.
CREATE FUNCTION analytics.api_raw_groups(tenant_id uuid, days date[], detail boolean)
RETURNS SETOF analytics.api_raw_group
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    q      text;
    d      date;
    part   regclass;
    nopart date[] := '{}';
BEGIN
    q := 'SELECT (e.occurred_at AT TIME ZONE ''UTC'')::date, e.agent_id, e.event_type, '
      || CASE WHEN detail THEN 'e.endpoint, e.method, ' ELSE 'NULL::text, NULL::text, ' END
      || 'sum(e.count)::bigint, coalesce(sum(e.count) FILTER (WHERE e.success), 0)::bigint, '
      || CASE WHEN detail THEN 'analytics.qsketch_agg(e.latency_ms) FILTER (WHERE e.event_type = ''api_call''), '
              ELSE 'NULL::analytics.qsketch, ' END
      || 'analytics.heatmap_agg(e.occurred_at, e.count::bigint) FILTER (WHERE e.event_type = ''api_call'') '
      || 'FROM %s e WHERE e.tenant_id = $1 %s GROUP BY 1, 2, 3, 4, 5';
    FOR d, part IN
        SELECT u, to_regclass('analytics.' || analytics.partition_name(u)) FROM unnest(days) u
    LOOP
        IF part IS NULL THEN
            nopart := nopart || d;
        ELSE
            RETURN QUERY EXECUTE format(q, part, '') USING api_raw_groups.tenant_id;
        END IF;
    END LOOP;
    IF cardinality(nopart) > 0 THEN
        RETURN QUERY EXECUTE format(q, 'analytics.usage_events_default',
            'AND e.occurred_at >= $2 AND e.occurred_at < $3 AND (e.occurred_at AT TIME ZONE ''UTC'')::date = ANY ($4)')
            USING api_raw_groups.tenant_id,
                  (SELECT min(x) FROM unnest(nopart) x)::timestamp AT TIME ZONE 'UTC',
                  ((SELECT max(x) FROM unnest(nopart) x) + 1)::timestamp AT TIME ZONE 'UTC',
                  nopart;
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.api_raw_groups(uuid, date[], boolean) IS
    'Raw events of a tenant on the given days, grouped by day, agent, event type (with detail also endpoint and method, with a latency qsketch of api calls): calls, successes and the api_call heatmap; each day read from its own partition';

CREATE TYPE analytics.api_day AS (
    date date, api_calls bigint, token_issuances bigint, token_failures bigint, credential_rotations bigint,
    active_agents uuid[], issuing_agents uuid[], api_heatmap analytics.heatmap);
COMMENT ON TYPE analytics.api_day IS 'A tenant''s day as the API reads it (the columns of tenant_daily it uses)';

-- A tenant's days of [from, to] with any event: tenant_daily for clean
-- days, raw events for the others.  Days without events are absent.
CREATE FUNCTION analytics.api_days(tenant_id uuid, "from" date, "to" date)
RETURNS SETOF analytics.api_day
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
    WITH u AS MATERIALIZED (SELECT analytics.unclean_days($2, $3) AS days)
    SELECT t.date, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
           t.active_agents, t.issuing_agents, t.api_heatmap
    FROM analytics.tenant_daily t, u
    WHERE t.tenant_id = $1 AND t.date BETWEEN $2 AND $3 AND t.date <> ALL (u.days)
    UNION ALL
    SELECT r.date,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'api_call'), 0)::bigint,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'token_issuance'), 0)::bigint,
           coalesce(sum(r.calls - r.successes) FILTER (WHERE r.event_type = 'token_issuance'), 0)::bigint,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'credential_rotation'), 0)::bigint,
           coalesce(array_agg(DISTINCT r.agent_id) FILTER (WHERE r.agent_id IS NOT NULL), '{}'),
           coalesce(array_agg(DISTINCT r.agent_id) FILTER (WHERE r.agent_id IS NOT NULL AND r.event_type = 'token_issuance'), '{}'),
           analytics.heatmap_merge(r.api_heatmap)
    FROM u, analytics.api_raw_groups($1, u.days, false) r
    GROUP BY r.date
$$;
COMMENT ON FUNCTION analytics.api_days(uuid, date, date) IS
    'A tenant''s days of [from, to] that have events, up to the moment of the call: metric totals, active and issuing agents, api_call heatmap; clean days from tenant_daily, the others from raw events';

-- A tenant's per-agent daily counts of [from, to] (agent_id NULL: events
-- with no agent): analytics_daily_aggregates for clean days, raw events for
-- the others (where an agent with only other event types has a zero row).
CREATE FUNCTION analytics.api_agent_days(tenant_id uuid, "from" date, "to" date,
    OUT date date, OUT agent_id uuid, OUT api_calls bigint, OUT token_issuances bigint, OUT credential_rotations bigint)
RETURNS SETOF record
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
    WITH u AS MATERIALIZED (SELECT analytics.unclean_days($2, $3) AS days)
    SELECT a.date, a.agent_id,
           coalesce(sum(a.count) FILTER (WHERE a.metric_type = 'api_calls'), 0)::bigint,
           coalesce(sum(a.count) FILTER (WHERE a.metric_type = 'token_issuances'), 0)::bigint,
           coalesce(sum(a.count) FILTER (WHERE a.metric_type = 'credential_rotations'), 0)::bigint
    FROM analytics.analytics_daily_aggregates a, u
    WHERE a.tenant_id = $1 AND a.date BETWEEN $2 AND $3 AND a.date <> ALL (u.days)
      AND a.metric_type IN ('api_calls', 'token_issuances', 'credential_rotations')
    GROUP BY a.date, a.agent_id
    UNION ALL
    SELECT r.date, r.agent_id,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'api_call'), 0)::bigint,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'token_issuance'), 0)::bigint,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'credential_rotation'), 0)::bigint
    FROM u, analytics.api_raw_groups($1, u.days, false) r
    GROUP BY r.date, r.agent_id
$$;
COMMENT ON FUNCTION analytics.api_agent_days(uuid, date, date) IS
    'A tenant''s api calls, token issuances and credential rotations per agent and day of [from, to], up to the moment of the call (agent_id NULL: events with no agent)';

-- A tenant's api calls of [from, to] by endpoint and method, with merged
-- latency sketches: usage_stats_daily for clean days, raw events otherwise.
CREATE FUNCTION analytics.api_endpoint_stats(tenant_id uuid, "from" date, "to" date,
    OUT endpoint text, OUT method text, OUT calls bigint, OUT successes bigint, OUT latency analytics.qsketch)
RETURNS SETOF record
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
    WITH u AS MATERIALIZED (SELECT analytics.unclean_days($2, $3) AS days),
    g AS (
        SELECT s.endpoint, s.method, s.calls, s.successes, s.latency
        FROM analytics.usage_stats_daily s, u
        WHERE s.tenant_id = $1 AND s.date BETWEEN $2 AND $3 AND s.date <> ALL (u.days)
          AND s.event_type = 'api_call'
        UNION ALL
        SELECT r.endpoint, r.method, r.calls, r.successes, r.latency
        FROM u, analytics.api_raw_groups($1, u.days, true) r
        WHERE r.event_type = 'api_call')
    SELECT g.endpoint, g.method, sum(g.calls)::bigint, sum(g.successes)::bigint, analytics.qsketch_merge(g.latency)
    FROM g
    GROUP BY g.endpoint, g.method
$$;
COMMENT ON FUNCTION analytics.api_endpoint_stats(uuid, date, date) IS
    'A tenant''s api calls of [from, to] by endpoint and method: calls, successes and the merged latency qsketch, up to the moment of the call';

-- A period as JSON.
CREATE FUNCTION analytics.api_period_json("from" date, "to" date)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb_build_object('from', to_char("from", 'YYYY-MM-DD'), 'to', to_char("to", 'YYYY-MM-DD'));
COMMENT ON FUNCTION analytics.api_period_json(date, date) IS 'A period as {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}';

-------------------------------------------------------------------------------
-- Typed functions (tenant explicit; for SQL callers and the API functions)
-------------------------------------------------------------------------------

CREATE FUNCTION analytics.usage_summary(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM analytics.check_period("from", "to");
    WITH d AS MATERIALIZED (
        SELECT x.date, x.api_calls, x.token_issuances, x.credential_rotations, x.active_agents
        FROM analytics.api_days(usage_summary.tenant_id, "from", "to") x),
    s AS (
        SELECT coalesce(sum(d.api_calls), 0)::bigint AS api_calls,
               coalesce(sum(d.token_issuances), 0)::bigint AS token_issuances,
               coalesce(sum(d.credential_rotations), 0)::bigint AS credential_rotations,
               coalesce(max(d.api_calls), 0)::bigint AS peak
        FROM d)
    SELECT jsonb_build_object(
        'tenantId', usage_summary.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'summary', jsonb_build_object(
            'totalApiCalls', s.api_calls,
            'totalTokenIssuances', s.token_issuances,
            'totalCredentialRotations', s.credential_rotations,
            'activeAgentCount', (SELECT count(DISTINCT a) FROM d, unnest(d.active_agents) a),
            'averageDailyApiCalls', s.api_calls / ("to" - "from" + 1),
            'peakDailyApiCalls', s.peak,
            'peakDate', (SELECT to_char(d.date, 'YYYY-MM-DD') FROM d
                         WHERE d.api_calls = s.peak AND s.peak > 0 ORDER BY d.date LIMIT 1)))
    INTO result
    FROM s;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.usage_summary(uuid, date, date) IS
    'Usage summary of a tenant over [from, to] (contract §5 shape): totals, active agents, floor average per day, peak day (earliest of the maximum, null without calls)';

CREATE FUNCTION analytics.agent_activity(tenant_id uuid, "from" date, "to" date, agent_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
    u      date[];
BEGIN
    PERFORM analytics.check_period("from", "to");
    u := analytics.unclean_days("from", "to");
    WITH c AS MATERIALIZED (
        SELECT x.* FROM analytics.api_agent_days(agent_activity.tenant_id, "from", "to") x
        WHERE x.agent_id IS NOT NULL AND (agent_activity.agent_id IS NULL OR x.agent_id = agent_activity.agent_id)),
    ids AS (
        SELECT agent_activity.agent_id AS id WHERE agent_activity.agent_id IS NOT NULL
        UNION
        SELECT a FROM analytics.tenant_daily t, unnest(t.active_agents) a
        WHERE agent_activity.agent_id IS NULL AND t.tenant_id = agent_activity.tenant_id
          AND t.date BETWEEN "from" AND "to" AND t.date <> ALL (u)
        UNION
        SELECT c.agent_id FROM c WHERE agent_activity.agent_id IS NULL),
    per_agent AS (
        SELECT ids.id,
               jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'),
                                            'apiCalls', coalesce(c.api_calls, 0),
                                            'tokenIssuances', coalesce(c.token_issuances, 0),
                                            'credentialRotations', coalesce(c.credential_rotations, 0))
                         ORDER BY g) AS daily
        FROM ids
        CROSS JOIN generate_series("from"::timestamp, "to"::timestamp, interval '1 day') g
        LEFT JOIN c ON c.agent_id = ids.id AND c.date = g::date
        GROUP BY ids.id)
    SELECT jsonb_build_object(
        'tenantId', agent_activity.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'agents', coalesce(jsonb_agg(jsonb_build_object('agentId', p.id, 'agentName', a.name, 'dailyActivity', p.daily)
                                     ORDER BY a.name, p.id), '[]'))
    INTO result
    FROM per_agent p
    LEFT JOIN analytics.agents a ON a.agent_id = p.id;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_activity(uuid, date, date, uuid) IS
    'Daily api calls, token issuances and credential rotations over [from, to] for each agent of a tenant with any event in the period (or the one agent given), zero-filled, ordered by agent name then id';

CREATE FUNCTION analytics.token_trends(tenant_id uuid, "from" date, "to" date, granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM analytics.check_period("from", "to");
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        RAISE EXCEPTION 'invalid granularity "%"', granularity
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''day'' or ''week''.';
    END IF;
    WITH d AS MATERIALIZED (
        SELECT analytics.trend_bucket(x.date, granularity, "from") AS bucket,
               x.token_issuances, x.token_failures, x.issuing_agents
        FROM analytics.api_days(token_trends.tenant_id, "from", "to") x),
    b AS (
        SELECT g::date AS bucket
        FROM generate_series("from"::timestamp, "to"::timestamp, interval '1 day') g
        WHERE granularity = 'day' OR g::date = "from" OR extract(isodow FROM g) = 1),
    sums AS (
        SELECT d.bucket, sum(d.token_issuances)::bigint AS total, sum(d.token_failures)::bigint AS failed
        FROM d GROUP BY d.bucket),
    -- A day's issuing agents are distinct already; a week needs the union.
    agents AS (
        SELECT d.bucket, cardinality(d.issuing_agents)::bigint AS n FROM d WHERE granularity = 'day'
        UNION ALL
        SELECT d.bucket, count(DISTINCT a) FROM d, unnest(d.issuing_agents) a WHERE granularity = 'week' GROUP BY d.bucket)
    SELECT jsonb_build_object(
        'tenantId', token_trends.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'granularity', granularity,
        'dataPoints', jsonb_agg(jsonb_build_object(
            'date', to_char(b.bucket, 'YYYY-MM-DD'),
            'totalIssuances', coalesce(s.total, 0),
            'successfulIssuances', coalesce(s.total - s.failed, 0),
            'failedIssuances', coalesce(s.failed, 0),
            'uniqueAgents', coalesce(a.n, 0)) ORDER BY b.bucket))
    INTO result
    FROM b
    LEFT JOIN sums s ON s.bucket = b.bucket
    LEFT JOIN agents a ON a.bucket = b.bucket;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.token_trends(uuid, date, date, text) IS
    'Token issuances of a tenant over [from, to] by day or ISO week (a week bucket is labelled by its first day in the period): total, successful, failed, distinct issuing agents; every bucket, zero-filled, oldest first';

CREATE FUNCTION analytics.tokens(tenant_id uuid, days integer DEFAULT 30)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    today  date := analytics.api_today();
    result jsonb;
BEGIN
    PERFORM analytics.check_period(today - (days - 1), today);
    SELECT jsonb_build_object(
        'tenantId', tokens.tenant_id,
        'days', days,
        'data', jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'), 'count', coalesce(x.token_issuances, 0))
                          ORDER BY g))
    INTO result
    FROM generate_series((today - (days - 1))::timestamp, today::timestamp, interval '1 day') g
    LEFT JOIN analytics.api_days(tokens.tenant_id, today - (days - 1), today) x ON x.date = g::date;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.tokens(uuid, integer) IS
    'Token issuances of a tenant per day over the last days days ending today (UTC), zero-filled, oldest first';

CREATE FUNCTION analytics.agents_activity(tenant_id uuid, days integer DEFAULT 30)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    today  date := analytics.api_today();
    result jsonb;
BEGIN
    PERFORM analytics.check_period(today - (days - 1), today);
    SELECT jsonb_build_object(
        'tenantId', agents_activity.tenant_id,
        'data', coalesce(jsonb_agg(jsonb_build_object('dow', c.dow, 'hour', c.hour, 'count', c.count)
                                   ORDER BY c.dow, c.hour), '[]'))
    INTO result
    FROM analytics.heatmap_cells((SELECT analytics.heatmap_merge(x.api_heatmap)
                                  FROM analytics.api_days(agents_activity.tenant_id, today - (days - 1), today) x)) c;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agents_activity(uuid, integer) IS
    'Day-of-week x hour (UTC) heatmap of a tenant''s api calls over the last days days ending today: non-zero cells ordered by dow (0 = Sunday) then hour';

CREATE FUNCTION analytics.agent_tokens(tenant_id uuid, month date DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    first  date := date_trunc('month', coalesce(month, analytics.api_today()))::date;
    last   date := least((first + interval '1 month')::date - 1, analytics.api_today());
    result jsonb;
BEGIN
    SELECT jsonb_build_object(
        'tenantId', agent_tokens.tenant_id,
        'month', to_char(first, 'YYYY-MM'),
        'data', coalesce(jsonb_agg(jsonb_build_object('agentId', x.agent_id, 'tokenCount', x.n)
                                   ORDER BY x.n DESC, x.agent_id), '[]'))
    INTO result
    FROM (SELECT a.agent_id, sum(a.token_issuances)::bigint AS n
          FROM analytics.api_agent_days(agent_tokens.tenant_id, first, greatest(first, last)) a
          WHERE a.agent_id IS NOT NULL
          GROUP BY a.agent_id
          HAVING sum(a.token_issuances) > 0) x;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_tokens(uuid, date) IS
    'Token issuances per agent of a tenant in a UTC calendar month (default the current one, up to now), most first, then by agent id; agents without issuances are left out';

CREATE FUNCTION analytics.rotation_frequency(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
    u      date[];
BEGIN
    PERFORM analytics.check_period("from", "to");
    u := analytics.unclean_days("from", "to");
    WITH c AS MATERIALIZED (
        SELECT x.* FROM analytics.api_agent_days(rotation_frequency.tenant_id, "from", "to") x),
    ids AS (
        SELECT a AS id FROM analytics.tenant_daily t, unnest(t.active_agents) a
        WHERE t.tenant_id = rotation_frequency.tenant_id AND t.date BETWEEN "from" AND "to" AND t.date <> ALL (u)
        UNION
        SELECT c.agent_id FROM c WHERE c.agent_id IS NOT NULL),
    per_agent AS (
        SELECT ids.id, coalesce(sum(c.credential_rotations), 0)::bigint AS rotations,
               count(c.date) FILTER (WHERE c.credential_rotations > 0) AS rotation_days,
               max(c.date) FILTER (WHERE c.credential_rotations > 0) AS last_day
        FROM ids LEFT JOIN c ON c.agent_id = ids.id
        GROUP BY ids.id)
    SELECT jsonb_build_object(
        'tenantId', rotation_frequency.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'totalRotations', (SELECT coalesce(sum(c.credential_rotations), 0)::bigint FROM c),
        'agents', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'agentId', p.id, 'agentName', a.name, 'rotations', p.rotations,
                                'rotationDays', p.rotation_days,
                                'lastRotationDate', to_char(p.last_day, 'YYYY-MM-DD'),
                                'averageDaysBetweenRotations',
                                    CASE WHEN p.rotations > 0 THEN round(("to" - "from" + 1)::numeric / p.rotations, 1) END)
                                ORDER BY p.rotations DESC, a.name, p.id)
                            FROM per_agent p LEFT JOIN analytics.agents a ON a.agent_id = p.id), '[]'))
    INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.rotation_frequency(uuid, date, date) IS
    'Credential rotations of a tenant over [from, to]: the total (events with no agent included) and, for each agent with any event in the period, its rotations, days with a rotation, last rotation day and average days between rotations; most rotations first';

CREATE FUNCTION analytics.call_patterns(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM analytics.check_period("from", "to");
    SELECT jsonb_build_object(
        'tenantId', call_patterns.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'totalCalls', coalesce(sum(s.calls), 0)::bigint,
        'endpoints', coalesce(jsonb_agg(jsonb_build_object(
            'endpoint', s.endpoint, 'method', s.method, 'calls', s.calls,
            'successes', s.successes, 'failures', s.calls - s.successes,
            'successRate', round(s.successes::numeric / nullif(s.calls, 0), 4),
            'latencyMs', CASE WHEN analytics.sketch_count(s.latency) > 0 THEN jsonb_build_object(
                'p50', round(q[1]::numeric, 3), 'p95', round(q[2]::numeric, 3), 'p99', round(q[3]::numeric, 3)) END)
            ORDER BY s.calls DESC, s.endpoint, s.method), '[]'))
    INTO result
    FROM analytics.api_endpoint_stats(call_patterns.tenant_id, "from", "to") s
    LEFT JOIN LATERAL (SELECT analytics.quantiles(s.latency, ARRAY[0.5, 0.95, 0.99]) AS q
                       WHERE analytics.sketch_count(s.latency) > 0) l ON true;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.call_patterns(uuid, date, date) IS
    'API calls of a tenant over [from, to] per endpoint and method: calls, successes, failures, success rate and latency p50/p95/p99 in ms from merged qsketches (1% relative accuracy, one value per event row); most calls first';

-------------------------------------------------------------------------------
-- The HTTP-facing functions (PostgREST: db-schemas = analytics_api)
-------------------------------------------------------------------------------

CREATE FUNCTION analytics_api.usage_summary("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    p   record := analytics.api_period("from", "to", 365);
BEGIN
    RETURN analytics.usage_summary(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.usage_summary(text, text) IS
$$Usage summary of the caller's tenant

GET /rpc/usage_summary?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period {from, to}, summary {totalApiCalls, totalTokenIssuances, totalCredentialRotations, activeAgentCount, averageDailyApiCalls, peakDailyApiCalls, peakDate}}. Errors: 400 INVALID_DATE_RANGE, 401 UNAUTHORIZED, 403 ANALYTICS_NOT_AVAILABLE, 404 NOT_FOUND.$$;

CREATE FUNCTION analytics_api.agent_activity("from" text DEFAULT NULL, "to" text DEFAULT NULL, "agentId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.api_tenant();
    p     record := analytics.api_period("from", "to", 90);
    agent uuid;
BEGIN
    IF "agentId" IS NOT NULL THEN
        IF "agentId" ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            SELECT a.agent_id INTO agent FROM analytics.agents a
            WHERE a.agent_id = "agentId"::uuid AND a.tenant_id = tid;
        END IF;
        IF agent IS NULL THEN
            PERFORM analytics.api_error(404, 'AGENT_NOT_FOUND', 'No agent with this id in your tenant');
        END IF;
    END IF;
    RETURN analytics.agent_activity(tid, p.from_day, p.to_day, agent);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_activity(text, text, text) IS
$$Daily activity per agent of the caller's tenant

GET /rpc/agent_activity?from=YYYY-MM-DD&to=YYYY-MM-DD&agentId=UUID (defaults: the 30 days ending today, UTC; at most 90 days; all agents with any event in the period). Returns {tenantId, period, agents [{agentId, agentName, dailyActivity [{date, apiCalls, tokenIssuances, credentialRotations}]}]}, agents by name then id, every day zero-filled, oldest first. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404 NOT_FOUND, 404 AGENT_NOT_FOUND.$$;

CREATE FUNCTION analytics_api.token_trends("from" text DEFAULT NULL, "to" text DEFAULT NULL, granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    p   record := analytics.api_period("from", "to", 365);
BEGIN
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        PERFORM analytics.api_error(400, 'INVALID_GRANULARITY', 'granularity must be day or week');
    END IF;
    RETURN analytics.token_trends(tid, p.from_day, p.to_day, granularity);
END
$$;
COMMENT ON FUNCTION analytics_api.token_trends(text, text, text) IS
$$Token issuance trend of the caller's tenant

GET /rpc/token_trends?from=YYYY-MM-DD&to=YYYY-MM-DD&granularity=day|week (defaults: the 30 days ending today, UTC, by day; at most 365 days). Returns {tenantId, period, granularity, dataPoints [{date, totalIssuances, successfulIssuances, failedIssuances, uniqueAgents}]}: every bucket zero-filled, oldest first; a week is an ISO week labelled by its first day inside the period. Errors: 400 INVALID_DATE_RANGE, 400 INVALID_GRANULARITY, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.tokens(days text DEFAULT '30')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    n   integer := analytics.api_parse_days(days);
BEGIN
    RETURN analytics.tokens(tid, n);
END
$$;
COMMENT ON FUNCTION analytics_api.tokens(text) IS
$$Token issuances per day of the caller's tenant

GET /rpc/tokens?days=N (1 to 90, default 30): exactly N days ending today (UTC). Returns {tenantId, days, data [{date, count}]}, zero-filled, oldest first. Errors: 400 VALIDATION_ERROR, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.agents_activity(days text DEFAULT '30')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    n   integer := analytics.api_parse_days(days);
BEGIN
    RETURN analytics.agents_activity(tid, n);
END
$$;
COMMENT ON FUNCTION analytics_api.agents_activity(text) IS
$$Day-of-week x hour heatmap of the caller's API calls

GET /rpc/agents_activity?days=N (1 to 90, default 30): api_call events of the last N days ending today, by UTC day of week (0 = Sunday) and hour. Returns {tenantId, data [{dow, hour, count}]}, non-zero cells only, by dow then hour. Errors: 400 VALIDATION_ERROR, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.agents()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
BEGIN
    RETURN analytics.agent_tokens(tid);
END
$$;
COMMENT ON FUNCTION analytics_api.agents() IS
$$Token issuances per agent this month

GET /rpc/agents: token issuances per agent of the caller's tenant in the current UTC calendar month. Returns {tenantId, month (YYYY-MM), data [{agentId, tokenCount}]}, most first. Errors: 401, 403, 404.$$;

CREATE FUNCTION analytics_api.rotation_frequency("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    p   record := analytics.api_period("from", "to", 365);
BEGIN
    RETURN analytics.rotation_frequency(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.rotation_frequency(text, text) IS
$$Credential rotation frequency per agent

GET /rpc/rotation_frequency?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period, totalRotations, agents [{agentId, agentName, rotations, rotationDays, lastRotationDate, averageDaysBetweenRotations}]} for every agent with any event in the period, most rotations first. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.call_patterns("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    p   record := analytics.api_period("from", "to", 365);
BEGIN
    RETURN analytics.call_patterns(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.call_patterns(text, text) IS
$$API call patterns per endpoint and method

GET /rpc/call_patterns?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period, totalCalls, endpoints [{endpoint, method, calls, successes, failures, successRate, latencyMs {p50, p95, p99}}]}, most calls first; latencies within 1% of the exact percentiles. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.record_events(events jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.api_tenant();
    bad   bigint;
    msg   text;
    det   text;
BEGIN
    IF events IS NULL OR jsonb_typeof(events) <> 'array' THEN
        PERFORM analytics.api_error(400, 'VALIDATION_ERROR', 'events must be a JSON array of event objects');
    END IF;
    SELECT e.i - 1 INTO bad FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)
    WHERE jsonb_typeof(e.v) <> 'object' ORDER BY e.i LIMIT 1;
    IF FOUND THEN
        PERFORM analytics.api_error(400, 'VALIDATION_ERROR', format('event %s is not a JSON object', bad));
    END IF;
    SELECT e.i - 1 INTO bad FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)
    WHERE jsonb_typeof(e.v -> 'tenant_id') IS DISTINCT FROM 'null' AND e.v ? 'tenant_id'
      AND NOT (coalesce(e.v ->> 'tenant_id', '') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
               AND (e.v ->> 'tenant_id')::uuid = tid)
    ORDER BY e.i LIMIT 1;
    IF FOUND THEN
        PERFORM analytics.api_error(403, 'FORBIDDEN', format('event %s names another tenant', bad));
    END IF;
    BEGIN
        RETURN analytics.record_events(
            coalesce((SELECT jsonb_agg(e.v || jsonb_build_object('tenant_id', tid) ORDER BY e.i)
                      FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)), '[]'));
    EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        PERFORM analytics.api_error(400, 'VALIDATION_ERROR', msg || coalesce(': ' || nullif(det, ''), ''));
    END;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_api.record_events(jsonb) IS
$$Records usage events for the caller's tenant

POST /rpc/record_events with body {"events": [{...}, ...]}: objects with the usage_events column names; all or nothing; tenant_id may be left out (the caller's is used); an event naming another tenant is refused. Returns the number of rows stored. Errors: 400 VALIDATION_ERROR (the message names the event index and field), 403 FORBIDDEN (another tenant), 401, 403 ANALYTICS_NOT_AVAILABLE, 404.$$;

-------------------------------------------------------------------------------
-- Roles and grants.  PostgREST connects as an authenticator (LOGIN
-- NOINHERIT) and switches to analytics_anon (no token) or analytics_tenant
-- (a token whose "role" claim is analytics_tenant).
-------------------------------------------------------------------------------

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api FROM PUBLIC;

-- The grants of the API roles, (re)applied after CREATE EXTENSION when the
-- roles exist (DROP EXTENSION drops the functions and their grants).
CREATE FUNCTION analytics.grant_api_privileges()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regrole('analytics_tenant') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA analytics_api TO analytics_tenant;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api TO analytics_tenant;
    END IF;
    IF to_regrole('analytics_anon') IS NOT NULL THEN
        -- The schema only: PostgREST can describe it; every call is refused.
        GRANT USAGE ON SCHEMA analytics_api TO analytics_anon;
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.grant_api_privileges() IS
    'Grants analytics_tenant USAGE on analytics_api and EXECUTE on its functions, analytics_anon USAGE on the schema only; run after CREATE EXTENSION (create_api_roles does it)';

CREATE FUNCTION analytics.create_api_roles(authenticator name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regrole('analytics_anon') IS NULL THEN
        CREATE ROLE analytics_anon NOLOGIN;
    END IF;
    IF to_regrole('analytics_tenant') IS NULL THEN
        CREATE ROLE analytics_tenant NOLOGIN;
    END IF;
    PERFORM analytics.grant_api_privileges();
    IF authenticator IS NOT NULL THEN
        EXECUTE format('GRANT analytics_anon, analytics_tenant TO %I', authenticator);
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.create_api_roles(name) IS
    'Creates the PostgREST roles analytics_anon (no data access) and analytics_tenant (USAGE on analytics_api, EXECUTE on its functions) if missing, grants them, and makes the given authenticator role a member of both';

REVOKE EXECUTE ON FUNCTION analytics.create_api_roles(name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.grant_api_privileges() FROM PUBLIC;

SELECT analytics.grant_api_privileges();

-------------------------------------------------------------------------------
-- Row-level security on every table holding tenant data.  Roles that act as
-- analytics_tenant see only the tenant their claims name; analytics_anon
-- sees nothing; other roles are governed by their grants alone.  (The API
-- roles have no grant on these tables: this is the second line of defence.)
-------------------------------------------------------------------------------

CREATE FUNCTION analytics.rls_tenant_visible(tenant_id uuid)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                 WHERE r.rolname = 'analytics_tenant' AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'))
        THEN tenant_id = analytics.claimed_tenant_id()
    WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                 WHERE r.rolname = 'analytics_anon' AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'))
        THEN false
    ELSE true END;
COMMENT ON FUNCTION analytics.rls_tenant_visible(uuid) IS
    'Row-level security predicate: for roles acting as analytics_tenant, the row belongs to the claimed tenant; for analytics_anon, never; for other roles, always';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'agents', 'usage_events', 'usage_events_default',
                             'analytics_daily_aggregates', 'usage_stats_daily', 'tenant_daily',
                             'analytics_monthly_aggregates', 'usage_stats_monthly'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (analytics.rls_tenant_visible(tenant_id)) '
                       'WITH CHECK (analytics.rls_tenant_visible(tenant_id))', t);
    END LOOP;
END
$$;
