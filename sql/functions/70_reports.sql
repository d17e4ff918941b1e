-------------------------------------------------------------------------------
-- functions/70_reports.sql (layer 70, typed report functions): the answers
-- of the contract's §5 as jsonb, for a tenant given explicitly.  SQL
-- callers use them directly; the HTTP layer (80) calls them after its
-- checks.  They read through the readers (layer 50) and compute trends and
-- the usage summary with the C trend module (layer 20: daycounts_agg,
-- trend, usage_summary_final).  Re-runnable.
-------------------------------------------------------------------------------

-- Checks of the typed functions (ordinary errors, not HTTP ones).  A
-- report asks period_is_valid in an IF, an expression PL/pgSQL evaluates
-- without a plan of its own (the SQL function is inlined), and calls
-- check_period for its error only when it is not: a PERFORM of
-- check_period is a statement, about 5 microseconds at every call.
CREATE OR REPLACE FUNCTION analytics.period_is_valid("from" date, "to" date)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT $1 IS NOT NULL AND $2 IS NOT NULL AND $1 <= $2 AND $2 - $1 <= 3660 $$;
COMMENT ON FUNCTION analytics.period_is_valid(date, date) IS
    'True when from <= to, both non-NULL, at most 3661 days (what check_period raises on otherwise)';

CREATE OR REPLACE FUNCTION analytics.check_period("from" date, "to" date)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT analytics.period_is_valid("from", "to") THEN
        RAISE EXCEPTION 'invalid period % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'from and to are non-NULL, from <= to, at most 3661 days.';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.check_period(date, date) IS
    'Raises invalid_parameter_value unless from <= to, both non-NULL, at most 3661 days';

-- The number of distinct uuids in the union of uuid arrays (C,
-- src/uuidset.c): the agents active over a period from each day's set, with
-- a hash set instead of unnesting and sorting every element.
CREATE OR REPLACE FUNCTION analytics.union_count_trans(internal, uuid[])
RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'union_count_trans';
COMMENT ON FUNCTION analytics.union_count_trans(internal, uuid[]) IS
    'Transition function of union_count(uuid[]): adds the array''s uuids to a hash set';

CREATE OR REPLACE FUNCTION analytics.union_count_final(internal)
RETURNS bigint
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'union_count_final';
COMMENT ON FUNCTION analytics.union_count_final(internal) IS
    'Final function of union_count(uuid[]): the number of distinct uuids';

CREATE OR REPLACE AGGREGATE analytics.union_count(uuid[]) (
    SFUNC = analytics.union_count_trans,
    STYPE = internal,
    FINALFUNC = analytics.union_count_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.union_count(uuid[]) IS
    'The number of distinct non-NULL uuids in the union of the arrays (NULL arrays skipped; 0 over no rows): count(DISTINCT a) over their elements';

-- A period as JSON.  (STABLE as its body is: jsonb_build_object and
-- to_char are; so it is inlined into its callers' plans, where an IMMUTABLE
-- declaration over a stable body made PostgreSQL parse and plan the body
-- again at every call.)
CREATE OR REPLACE FUNCTION analytics.period_json("from" date, "to" date)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT jsonb_build_object('from', to_char($1, 'YYYY-MM-DD'), 'to', to_char($2, 'YYYY-MM-DD')) $$;
COMMENT ON FUNCTION analytics.period_json(date, date) IS 'A period as {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}';

CREATE OR REPLACE FUNCTION analytics.usage_summary(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    IF NOT analytics.period_is_valid("from", "to") THEN
        PERFORM analytics.check_period("from", "to");
    END IF;
    -- (one pass over the days, both aggregates at once; the three counters
    -- of a day in one daycounts row: the same state usage_summary_agg builds
    -- from a row per day and metric)
    SELECT jsonb_build_object(
        'tenantId', usage_summary.tenant_id,
        'period', analytics.period_json("from", "to"),
        'summary', analytics.usage_summary_final(analytics.daycounts_agg(d.date, d.api_calls, d.token_issuances,
                                                                         d.credential_rotations, "from", "to"))
                   || jsonb_build_object('activeAgentCount', analytics.union_count(d.active_agents)))
    INTO result
    FROM analytics.read_tenant_days(usage_summary.tenant_id, "from", "to") d;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.usage_summary(uuid, date, date) IS
    'Usage summary of a tenant over [from, to] (contract §5 shape): totals, active agents, floor average per day, peak day (earliest of the maximum, null without calls); the summary is analytics.usage_summary_final over the daycounts of the tenant''s days';

-- The answer of agent_activity built in one pass (C, src/trend.c): the head
-- object with "agents", each agent's series as daycounts_jsonb gives it.
CREATE OR REPLACE FUNCTION analytics.agent_activity_jsonb(head jsonb, ids uuid[], names text[], series analytics.daycounts[], keys text[])
RETURNS jsonb
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agent_activity_jsonb';
COMMENT ON FUNCTION analytics.agent_activity_jsonb(jsonb, uuid[], text[], analytics.daycounts[], text[]) IS
    'The object head with "agents": [{"agentId": ids[i], "agentName": names[i], "dailyActivity": daycounts_jsonb(series[i], keys)}] in the order given, built as one jsonb (NULL arrays: no agents)';

CREATE OR REPLACE FUNCTION analytics.agent_activity(tenant_id uuid, "from" date, "to" date, agent_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    IF NOT analytics.period_is_valid("from", "to") THEN
        PERFORM analytics.check_period("from", "to");
    END IF;
    -- Each agent's zero-filled daily series by the C trend module
    -- (daycounts_agg), and the answer built as one jsonb by
    -- agent_activity_jsonb: a jsonb object per day and agent built in SQL,
    -- or per agent and aggregated, would cost several times more.
    -- (one pass over the agent-days: each agent's series from its rows, and
    -- the agent asked for from a zero row too, so that it has its series
    -- without events)
    SELECT analytics.agent_activity_jsonb(
        jsonb_build_object('tenantId', agent_activity.tenant_id, 'period', analytics.period_json("from", "to")),
        array_agg(p.id ORDER BY a.name, p.id), array_agg(a.name ORDER BY a.name, p.id), array_agg(p.daily ORDER BY a.name, p.id),
        ARRAY['apiCalls', 'tokenIssuances', 'credentialRotations'])
    INTO result
    FROM (SELECT r.id,
                 analytics.daycounts_agg(r.date, r.api_calls, r.token_issuances, r.credential_rotations, "from", "to") AS daily
          FROM (SELECT x.agent_id AS id, x.date, x.api_calls, x.token_issuances, x.credential_rotations
                FROM analytics.read_agent_days(agent_activity.tenant_id, "from", "to") x
                WHERE x.agent_id IS NOT NULL AND (agent_activity.agent_id IS NULL OR x.agent_id = agent_activity.agent_id)
                UNION ALL
                SELECT agent_activity.agent_id, "from", 0, 0, 0 WHERE agent_activity.agent_id IS NOT NULL) r
          GROUP BY r.id) p
    LEFT JOIN analytics.agents a ON a.agent_id = p.id;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_activity(uuid, date, date, uuid) IS
    'Daily api calls, token issuances and credential rotations over [from, to] for each agent of a tenant with any event in the period (or the one agent given), zero-filled, ordered by agent name then id';

CREATE OR REPLACE FUNCTION analytics.token_trends(tenant_id uuid, "from" date, "to" date, granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    IF NOT analytics.period_is_valid("from", "to") THEN
        PERFORM analytics.check_period("from", "to");
    END IF;
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        RAISE EXCEPTION 'invalid granularity "%"', granularity
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''day'' or ''week''.';
    END IF;
    WITH d AS MATERIALIZED (
        SELECT x.date, x.token_issuances, x.token_failures, x.issuing_agents
        FROM analytics.read_tenant_days(token_trends.tenant_id, "from", "to") x),
    -- Every bucket, zero-filled, by the C trend module.
    b AS (
        SELECT t.bucket, t.count AS total, t.count2 AS failed
        FROM analytics.trend((SELECT analytics.daycounts_agg(d.date, d.token_issuances, d.token_failures, "from", "to") FROM d),
                             granularity, "from", "to") t),
    -- A day's issuing agents are distinct already; a week needs the union.
    agents AS (
        SELECT d.date AS bucket, cardinality(d.issuing_agents)::bigint AS n FROM d WHERE granularity = 'day'
        UNION ALL
        SELECT analytics.trend_bucket(d.date, granularity, "from"), analytics.union_count(d.issuing_agents)
        FROM d WHERE granularity = 'week' GROUP BY 1)
    -- (built as json and turned into jsonb once)
    SELECT json_build_object(
        'tenantId', token_trends.tenant_id,
        'period', analytics.period_json("from", "to"),
        'granularity', granularity,
        'dataPoints', json_agg(json_build_object(
            'date', b.bucket,
            'totalIssuances', b.total,
            'successfulIssuances', b.total - b.failed,
            'failedIssuances', b.failed,
            'uniqueAgents', coalesce(a.n, 0)) ORDER BY b.bucket))::jsonb
    INTO result
    FROM b
    LEFT JOIN agents a ON a.bucket = b.bucket;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.token_trends(uuid, date, date, text) IS
    'Token issuances of a tenant over [from, to] by day or ISO week (a week bucket is labelled by its first day in the period): total, successful, failed, distinct issuing agents; every bucket, zero-filled, oldest first (analytics.trend over a daycounts)';

CREATE OR REPLACE FUNCTION analytics.tokens(tenant_id uuid, days integer DEFAULT 30)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    today  date := analytics.utc_today();
    first  date := today - (days - 1);
    result jsonb;
BEGIN
    IF NOT analytics.period_is_valid(first, today) THEN
        PERFORM analytics.check_period(first, today);
    END IF;
    SELECT json_build_object(
        'tenantId', tokens.tenant_id,
        'days', days,
        'data', json_agg(json_build_object('date', t.bucket, 'count', t.count) ORDER BY t.bucket))::jsonb
    INTO result
    FROM analytics.trend((SELECT analytics.daycounts_agg(x.date, x.token_issuances, first, today)
                          FROM analytics.read_tenant_days(tokens.tenant_id, first, today) x),
                         'day', first, today) t;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.tokens(uuid, integer) IS
    'Token issuances of a tenant per day over the last days days ending today (UTC), zero-filled, oldest first';

CREATE OR REPLACE FUNCTION analytics.agents_activity(tenant_id uuid, days integer DEFAULT 30)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    today  date := analytics.utc_today();
    result jsonb;
BEGIN
    IF NOT analytics.period_is_valid(today - (days - 1), today) THEN
        PERFORM analytics.check_period(today - (days - 1), today);
    END IF;
    SELECT jsonb_build_object(
        'tenantId', agents_activity.tenant_id,
        'data', coalesce(jsonb_agg(jsonb_build_object('dow', c.dow, 'hour', c.hour, 'count', c.count)
                                   ORDER BY c.dow, c.hour), '[]'))
    INTO result
    FROM analytics.heatmap_cells((SELECT analytics.heatmap_merge(x.api_heatmap)
                                  FROM analytics.read_tenant_days(agents_activity.tenant_id, today - (days - 1), today) x)) c;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agents_activity(uuid, integer) IS
    'Day-of-week x hour (UTC) heatmap of a tenant''s api calls over the last days days ending today: non-zero cells ordered by dow (0 = Sunday) then hour';

CREATE OR REPLACE FUNCTION analytics.agent_tokens(tenant_id uuid, month date DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    first  date := date_trunc('month', coalesce(month, analytics.utc_today()))::date;
    last   date := least((first + interval '1 month')::date - 1, analytics.utc_today());
    result jsonb;
BEGIN
    SELECT jsonb_build_object(
        'tenantId', agent_tokens.tenant_id,
        'month', to_char(first, 'YYYY-MM'),
        'data', coalesce(jsonb_agg(jsonb_build_object('agentId', x.agent_id, 'tokenCount', x.n)
                                   ORDER BY x.n DESC, x.agent_id), '[]'))
    INTO result
    FROM (SELECT a.agent_id, sum(a.token_issuances)::bigint AS n
          FROM analytics.read_agent_days(agent_tokens.tenant_id, first, greatest(first, last)) a
          WHERE a.agent_id IS NOT NULL
          GROUP BY a.agent_id
          HAVING sum(a.token_issuances) > 0) x;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_tokens(uuid, date) IS
    'Token issuances per agent of a tenant in a UTC calendar month (default the current one, up to now), most first, then by agent id; agents without issuances are left out';

CREATE OR REPLACE FUNCTION analytics.rotation_frequency(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    IF NOT analytics.period_is_valid("from", "to") THEN
        PERFORM analytics.check_period("from", "to");
    END IF;
    -- (one pass over the agent-days, one row per agent and day, grouped
    -- per agent: every agent with any event in the period, with or without
    -- rotations, and the events with no agent (id NULL), which count in the
    -- total only; the agent-days are not materialised, the groups are)
    WITH per_agent AS (
        SELECT x.agent_id AS id, coalesce(sum(x.credential_rotations), 0)::bigint AS rotations,
               count(*) FILTER (WHERE x.credential_rotations > 0) AS rotation_days,
               max(x.date) FILTER (WHERE x.credential_rotations > 0) AS last_day
        FROM analytics.read_agent_days(rotation_frequency.tenant_id, "from", "to") x
        GROUP BY x.agent_id)
    SELECT jsonb_build_object(
        'tenantId', rotation_frequency.tenant_id,
        'period', analytics.period_json("from", "to"),
        'totalRotations', (SELECT coalesce(sum(p.rotations), 0)::bigint FROM per_agent p),
        'agents', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'agentId', p.id, 'agentName', a.name, 'rotations', p.rotations,
                                'rotationDays', p.rotation_days,
                                'lastRotationDate', to_char(p.last_day, 'YYYY-MM-DD'),
                                'averageDaysBetweenRotations',
                                    CASE WHEN p.rotations > 0 THEN round(("to" - "from" + 1)::numeric / p.rotations, 1) END)
                                ORDER BY p.rotations DESC, a.name, p.id)
                            FROM per_agent p LEFT JOIN analytics.agents a ON a.agent_id = p.id
                            WHERE p.id IS NOT NULL), '[]'))
    INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.rotation_frequency(uuid, date, date) IS
    'Credential rotations of a tenant over [from, to]: the total (events with no agent included) and, for each agent with any event in the period, its rotations, days with a rotation, last rotation day and average days between rotations; most rotations first';

CREATE OR REPLACE FUNCTION analytics.call_patterns(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    IF NOT analytics.period_is_valid("from", "to") THEN
        PERFORM analytics.check_period("from", "to");
    END IF;
    SELECT jsonb_build_object(
        'tenantId', call_patterns.tenant_id,
        'period', analytics.period_json("from", "to"),
        'totalCalls', coalesce(sum(s.calls), 0)::bigint,
        'endpoints', coalesce(jsonb_agg(jsonb_build_object(
            'endpoint', s.endpoint, 'method', s.method, 'calls', s.calls,
            'successes', s.successes, 'failures', s.calls - s.successes,
            'successRate', round(s.successes::numeric / nullif(s.calls, 0), 4),
            'latencyMs', CASE WHEN analytics.sketch_count(s.latency) > 0 THEN jsonb_build_object(
                'p50', round(q[1]::numeric, 3), 'p95', round(q[2]::numeric, 3), 'p99', round(q[3]::numeric, 3)) END)
            ORDER BY s.calls DESC, s.endpoint, s.method), '[]'))
    INTO result
    FROM analytics.read_endpoint_stats(call_patterns.tenant_id, "from", "to") s
    LEFT JOIN LATERAL (SELECT analytics.quantiles(s.latency, ARRAY[0.5, 0.95, 0.99]) AS q
                       WHERE analytics.sketch_count(s.latency) > 0) l ON true;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.call_patterns(uuid, date, date) IS
    'API calls of a tenant over [from, to] per endpoint and method: calls, successes, failures, success rate and latency p50/p95/p99 in ms from merged qsketches (1% relative accuracy, one value per event row); most calls first';


-- The six daily metrics of a tenant for every day of [from, to],
-- zero-filled, oldest first (for SQL callers; the API answers are built on
-- the same reader).
CREATE OR REPLACE FUNCTION analytics.daily_counts(tenant_id uuid, "from" date, "to" date)
RETURNS SETOF analytics.day_metrics
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    IF NOT analytics.period_is_valid("from", "to") THEN
        PERFORM analytics.check_period("from", "to");
    END IF;
    RETURN QUERY
    SELECT g::date, coalesce(x.api_calls, 0), coalesce(x.token_issuances, 0), coalesce(x.token_failures, 0),
           coalesce(x.credential_rotations, 0), coalesce(x.tool_calls, 0), coalesce(x.llm_calls, 0)
    FROM generate_series("from"::timestamp, "to"::timestamp, interval '1 day') g
    LEFT JOIN analytics.read_tenant_days(daily_counts.tenant_id, "from", "to") x ON x.date = g::date
    ORDER BY 1;
END
$$;
COMMENT ON FUNCTION analytics.daily_counts(uuid, date, date) IS
    'Daily metric counts of a tenant for every day of [from, to], zero-filled, oldest first, up to the moment of the call: rollup rows plus the raw events analytics.read_plan names';
