-------------------------------------------------------------------------------
-- functions/76_ops_sessions.sql (layer 76, reports of contract §6.3):
-- sessions, executions, users and workflows, typed for SQL callers.  No
-- tenant checks (the HTTP layer, 82_api_ops_sessions.sql, makes them);
-- tenant_id NULL = every tenant.  Ids (sessions, users, workflows) belong
-- to their tenant: across tenants the same id is another one.
--
--   session_activity(tenant, from, to)        session_daily; activeSessions
--                                             from the raw events of the last
--                                             15 minutes, the hourly series
--                                             of windows up to 48 hours raw
--   session_detail(tenant, session_id)        raw, usage_events_session_idx
--   execution_detail(tenant, execution_id)    raw, usage_events_execution_idx
--   user_analytics(tenant, from, to, user)    user_daily and session_daily
--   user_trends(tenant, from, to, user, g)    the same per bucket (hour: raw)
--   user_known(tenant, user)                  is there an event of the user
--                                             (user_daily, raw days read_plan
--                                             names)
--   workflow_performance(tenant, from, to)    workflow_daily
-- Helper: window_buckets (the zero-filled buckets of a window).
-- Costs are those of the rollup families (each llm_call at the price in
-- force at it, analytics.priced_events); raw reads here read the same view.
-- Re-runnable.
-------------------------------------------------------------------------------

-- Every bucket of granularity hour, day, week (ISO, Monday) or month that
-- meets the window [from, to), oldest first: bucket = its start (UTC), label
-- = its start clipped to the window (the first bucket may start before it).
CREATE OR REPLACE FUNCTION analytics.window_buckets("from" timestamptz, "to" timestamptz, granularity text)
RETURNS TABLE (bucket timestamptz, label timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week', 'month') THEN
        RAISE EXCEPTION 'invalid granularity "%"', granularity
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use hour, day, week or month.';
    END IF;
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RETURN;
    END IF;
    -- (in UTC timestamps: interval arithmetic on timestamptz would follow
    -- the session's time zone)
    RETURN QUERY
    SELECT g AT TIME ZONE 'UTC', greatest(g AT TIME ZONE 'UTC', "from")
    FROM generate_series(date_trunc(granularity, "from" AT TIME ZONE 'UTC'),
                         ("to" - interval '1 microsecond') AT TIME ZONE 'UTC',
                         ('1 ' || granularity)::interval) g;
END
$$;
COMMENT ON FUNCTION analytics.window_buckets(timestamptz, timestamptz, text) IS
    'The buckets (hour, day, ISO week, month; UTC) meeting the window [from, to), oldest first: bucket = the start, label = the start clipped to the window';

-------------------------------------------------------------------------------
-- Sessions
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.session_activity(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- (its dynamic SQL writes instants with %L: in ISO they carry a numeric
-- offset, where SQL or Postgres style writes an abbreviation that the
-- default set may read as another zone, IST for one)
SET datestyle = 'ISO, YMD'
SET jit = off
-- (read_family's rows of a month of sessions stay in memory)
SET work_mem = '16MB'
AS $$
DECLARE
    now_ts  timestamptz := clock_timestamp();
    tenants uuid[];
    hourly  boolean;
    active  bigint;
    series  json;
    result  jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from < to.';
    END IF;
    -- (an Nh window ends a microsecond after now: 48h is hourly)
    hourly := "to" - "from" <= interval '48 hours 1 microsecond';
    -- (every tenant by its id: the (tenant_id, occurred_at) index serves
    -- the raw reads below for one tenant and for all; their time bounds are
    -- literals, so that only the partitions of those days are planned)
    tenants := CASE WHEN session_activity.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                    ELSE ARRAY[session_activity.tenant_id] END;

    -- Sessions with an event in the 15 minutes before now, whatever the
    -- window: raw events, at most a quarter of an hour of them.
    EXECUTE format(
        'SELECT count(*) FROM (SELECT DISTINCT e.tenant_id, e.session_id FROM analytics.usage_events e '
        'WHERE e.tenant_id = ANY ($1) AND e.occurred_at >= %L AND e.occurred_at <= %L AND e.session_id IS NOT NULL) x',
        now_ts - interval '15 minutes', now_ts)
    INTO active USING tenants;

    -- The hourly series of a window up to 48 hours: raw events (session_daily
    -- has days).
    IF hourly THEN
        EXECUTE format($q$
            WITH h AS MATERIALIZED (
                SELECT e.tenant_id, date_trunc('hour', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
                       e.session_id, e.user_id,
                       coalesce(sum(e.count) FILTER (WHERE e.event_type = 'agent_execution'), 0)::bigint AS executions
                FROM analytics.usage_events e
                WHERE e.tenant_id = ANY ($1) AND e.occurred_at >= %1$L AND e.occurred_at < %2$L
                  AND e.session_id IS NOT NULL
                GROUP BY e.tenant_id, 2, e.session_id, e.user_id),
            t AS (SELECT h.bucket, h.tenant_id, count(DISTINCT h.session_id) AS sessions,
                         count(DISTINCT h.user_id) AS users, sum(h.executions) AS executions
                  FROM h GROUP BY 1, 2),
            b AS (SELECT t.bucket, sum(t.sessions)::bigint AS sessions, sum(t.users)::bigint AS users,
                         sum(t.executions)::bigint AS executions
                  FROM t GROUP BY 1)
            SELECT json_agg(json_build_object('timestamp', analytics.utc_text(w.label), 'sessions', coalesce(b.sessions, 0),
                                              'executions', coalesce(b.executions, 0), 'uniqueUsers', coalesce(b.users, 0))
                            ORDER BY w.bucket)
            FROM analytics.window_buckets(%1$L, %2$L, 'hour') w
            LEFT JOIN b ON b.bucket = w.bucket$q$, "from", "to")
        INTO series USING tenants;
    END IF;

    -- The rest from session_daily, kept once for three groupings: per day
    -- and tenant (distinct sessions and users, executions), per session
    -- (first and last event), per (tenant, user).
    WITH r AS MATERIALIZED (
        SELECT f.tenant_id, f.bucket, f.session_id, f.user_id, f.executions, f.execution_failures,
               f.execution_latency_n, f.execution_latency_sum, f.first_at, f.last_at
        FROM analytics.read_family(NULL::analytics.session_daily, session_activity.tenant_id, "from", "to") f),
    per_day AS (
        SELECT r.bucket, r.tenant_id, count(DISTINCT r.session_id COLLATE "C") AS sessions, count(DISTINCT r.user_id COLLATE "C") AS users,
               sum(r.executions) AS executions, sum(r.execution_failures) AS failures,
               sum(r.execution_latency_n) AS lat_n, sum(r.execution_latency_sum) AS lat_sum
        FROM r GROUP BY 1, 2),
    per_session AS (
        SELECT max(r.last_at) - min(r.first_at) AS d FROM r GROUP BY r.tenant_id, r.session_id),
    per_user AS (
        SELECT r.tenant_id, r.user_id FROM r WHERE r.user_id IS NOT NULL GROUP BY 1, 2),
    st AS (SELECT count(*) AS n, round(avg(extract(epoch FROM per_session.d) * 1000), 3) AS avg_ms FROM per_session),
    et AS (SELECT coalesce(sum(per_day.executions), 0)::bigint AS n, coalesce(sum(per_day.failures), 0)::bigint AS failures,
                  coalesce(sum(per_day.lat_n), 0)::bigint AS lat_n, coalesce(sum(per_day.lat_sum), 0) AS lat_sum
           FROM per_day),
    ut AS (SELECT count(*) AS n FROM per_user),
    -- the daily series (windows over 48 hours)
    daily AS (
        SELECT json_agg(json_build_object('date', to_char(b.label AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                                          'sessions', coalesce(d.sessions, 0), 'executions', coalesce(d.executions, 0),
                                          'uniqueUsers', coalesce(d.users, 0))
                        ORDER BY b.bucket) AS j
        FROM analytics.window_buckets("from", "to", 'day') b
        LEFT JOIN (SELECT per_day.bucket, sum(per_day.sessions)::bigint AS sessions, sum(per_day.users)::bigint AS users,
                          sum(per_day.executions)::bigint AS executions
                   FROM per_day GROUP BY 1) d ON d.bucket = b.bucket
        WHERE NOT hourly)
    SELECT json_build_object(
        'tenantId', session_activity.tenant_id,
        'period', analytics.window_json("from", "to"),
        'sessions', st.n,
        'activeSessions', active,
        'avgSessionDurationMs', st.avg_ms,
        'queriesPerSession', CASE WHEN st.n = 0 THEN 0 ELSE round(et.n::numeric / st.n, 2) END,
        'executions', et.n,
        'successRate', analytics.ratio(et.n - et.failures, et.n),
        'uniqueUsers', ut.n,
        'avgResponseTimeMs', CASE WHEN et.lat_n > 0 THEN round((et.lat_sum / et.lat_n)::numeric, 3) END,
        'granularity', CASE WHEN hourly THEN 'hour' ELSE 'day' END,
        'series', coalesce(CASE WHEN hourly THEN series ELSE daily.j END, '[]'))::jsonb
    INTO result
    FROM st, et, ut, daily;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.session_activity(uuid, timestamptz, timestamptz) IS
    'Sessions of one tenant (NULL: all) in the window [from, to): sessions (distinct session ids with an event), activeSessions (an event in the 15 minutes before now, whatever the window), avgSessionDurationMs (first to last event of each session within the window), queriesPerSession (agent executions in sessions per session), executions, successRate and avgResponseTimeMs of those executions, uniqueUsers; and a zero-filled series {timestamp|date, sessions, executions, uniqueUsers}, hourly for windows up to 48 hours, else daily. From session_daily (read_family); the last 15 minutes and the hourly series from raw events';

-- A session's totals and events, in time order, at most max_events of them
-- ("truncated" says when there are more).  NULL when no event of the scope
-- carries the id.
CREATE OR REPLACE FUNCTION analytics.session_detail(tenant_id uuid, session_id text, max_events integer DEFAULT 1000)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- (no time bound: every partition's index is probed; planned once per session)
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    tenants uuid[];
    tot     record;
    evs     json;
    n       bigint;
BEGIN
    IF session_id IS NULL THEN
        RETURN NULL;
    END IF;
    tenants := CASE WHEN session_detail.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                    ELSE ARRAY[session_detail.tenant_id] END;
    -- Totals over every event of the session (the partial index on
    -- (session_id, occurred_at)), per tenant, then combined.
    WITH g AS MATERIALIZED (
        SELECT e.tenant_id,
               sum(e.count)::bigint AS events,
               coalesce(sum(e.count) FILTER (WHERE e.event_type = 'agent_execution'), 0)::bigint AS executions,
               coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint AS failures,
               coalesce(sum(e.input_tokens), 0)::numeric AS input_tokens,
               coalesce(sum(e.output_tokens), 0)::numeric AS output_tokens,
               coalesce(sum(e.cost_usd) FILTER (WHERE e.event_type = 'llm_call'), 0)::numeric AS cost_usd,
               coalesce(sum(e.count) FILTER (WHERE e.event_type = 'llm_call' AND NOT e.priced), 0)::bigint AS unpriced_calls,
               min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at,
               (array_agg(e.user_id ORDER BY e.occurred_at, e.user_id) FILTER (WHERE e.user_id IS NOT NULL))[1] AS user_id,
               min(e.occurred_at) FILTER (WHERE e.user_id IS NOT NULL) AS user_at,
               array_agg(DISTINCT e.agent_id) FILTER (WHERE e.agent_id IS NOT NULL) AS agents
        FROM analytics.priced_events e
        WHERE e.session_id = session_detail.session_id AND e.tenant_id = ANY (tenants)
        GROUP BY e.tenant_id)
    SELECT CASE WHEN count(*) = 1 THEN min(g.tenant_id::text)::uuid END AS tenant_id,
           sum(g.events)::bigint AS events, sum(g.executions)::bigint AS executions, sum(g.failures)::bigint AS failures,
           sum(g.input_tokens) AS input_tokens, sum(g.output_tokens) AS output_tokens,
           round(sum(g.cost_usd), 6) AS cost_usd, sum(g.unpriced_calls)::bigint AS unpriced_calls,
           min(g.first_at) AS first_at, max(g.last_at) AS last_at,
           (array_agg(g.user_id ORDER BY g.user_at, g.user_id) FILTER (WHERE g.user_id IS NOT NULL))[1] AS user_id,
           (SELECT coalesce(json_agg(json_build_object('agentId', a.id, 'agentName', ag.name) ORDER BY ag.name, a.id), '[]')
            FROM (SELECT DISTINCT x.id FROM g g2, unnest(g2.agents) x(id)) a
            LEFT JOIN analytics.agents ag ON ag.agent_id = a.id) AS agents
    INTO tot
    FROM g;
    IF tot.events IS NULL THEN
        RETURN NULL;
    END IF;
    -- The first max_events events in time order (one more tells truncated).
    WITH ev AS MATERIALIZED (
        SELECT e.tenant_id, e.occurred_at, e.event_type, e.agent_id, e.execution_id, e.tool_name, e.mcp_server,
               e.model, e.input_tokens, e.output_tokens, e.latency_ms, e.success, e.error_code, e.count
        FROM analytics.usage_events e
        WHERE e.session_id = session_detail.session_id AND e.tenant_id = ANY (tenants)
        ORDER BY e.occurred_at, e.event_type, e.agent_id, e.execution_id, e.tool_name, e.mcp_server, e.model,
                 e.input_tokens, e.output_tokens, e.latency_ms, e.success, e.error_code, e.count, e.tenant_id
        LIMIT max_events + 1),
    num AS (SELECT ev.*, row_number() OVER (ORDER BY ev.occurred_at, ev.event_type, ev.agent_id, ev.execution_id,
                                                      ev.tool_name, ev.mcp_server, ev.model, ev.input_tokens, ev.output_tokens,
                                                      ev.latency_ms, ev.success, ev.error_code, ev.count, ev.tenant_id) AS i
            FROM ev)
    SELECT coalesce(json_agg(json_build_object(
               'occurredAt', analytics.utc_text(num.occurred_at), 'eventType', num.event_type, 'agentId', num.agent_id,
               'executionId', num.execution_id, 'toolName', num.tool_name, 'mcpServer', num.mcp_server, 'model', num.model,
               'tokens', CASE WHEN num.input_tokens IS NOT NULL OR num.output_tokens IS NOT NULL
                              THEN coalesce(num.input_tokens, 0) + coalesce(num.output_tokens, 0) END,
               'latencyMs', num.latency_ms, 'success', num.success, 'errorCode', num.error_code, 'count', num.count,
               'tenantId', num.tenant_id) ORDER BY num.i) FILTER (WHERE num.i <= max_events), '[]'),
           count(*)
    INTO evs, n
    FROM num;
    RETURN json_build_object(
        'tenantId', tot.tenant_id,
        'sessionId', session_id,
        'totals', json_build_object(
            'events', tot.events, 'executions', tot.executions, 'failures', tot.failures,
            'tokens', tot.input_tokens + tot.output_tokens, 'inputTokens', tot.input_tokens, 'outputTokens', tot.output_tokens,
            'costUsd', tot.cost_usd, 'unpricedCalls', tot.unpriced_calls,
            'firstAt', analytics.utc_text(tot.first_at), 'lastAt', analytics.utc_text(tot.last_at),
            'durationMs', round(extract(epoch FROM tot.last_at - tot.first_at) * 1000, 3),
            'userId', tot.user_id, 'agents', tot.agents),
        'events', evs,
        'truncated', n > max_events)::jsonb;
END
$$;
COMMENT ON FUNCTION analytics.session_detail(uuid, text, integer) IS
    'A session of one tenant (NULL: any tenant; tenantId is null when several hold the id): totals over all its events (events, executions, failures, tokens, costUsd, unpricedCalls, firstAt, lastAt, durationMs, userId = the user of its first event that names one, agents) and its first max_events events in time order (truncated = there are more); NULL when no event carries the id. Reads the partial index usage_events_session_idx';

-------------------------------------------------------------------------------
-- Executions
-------------------------------------------------------------------------------

-- An execution (its agent_execution event; the earliest when several) and
-- its tool and LLM calls in time order (at most max_calls), with tokens and
-- cost.  NULL when no event of the scope carries the id.
CREATE OR REPLACE FUNCTION analytics.execution_detail(tenant_id uuid, execution_id text, max_calls integer DEFAULT 1000)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- (no time bound: every partition's index is probed; planned once per session)
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    tenants uuid[];
    result  jsonb;
BEGIN
    IF execution_id IS NULL THEN
        RETURN NULL;
    END IF;
    tenants := CASE WHEN execution_detail.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                    ELSE ARRAY[execution_detail.tenant_id] END;
    -- (the events of one execution: the partial index on (execution_id,
    -- occurred_at); few rows, read once)
    WITH ev AS MATERIALIZED (
        SELECT e.tenant_id, e.occurred_at, e.event_type, e.agent_id, e.success, e.count, e.tool_name, e.mcp_server,
               e.model, e.input_tokens, e.output_tokens, e.latency_ms, e.error_code, e.session_id, e.user_id,
               e.workflow_id, e.priced, e.cost_usd
        FROM analytics.priced_events e
        WHERE e.execution_id = execution_detail.execution_id AND e.tenant_id = ANY (tenants)),
    x AS (SELECT ev.* FROM ev WHERE ev.event_type = 'agent_execution'
          ORDER BY ev.occurred_at, ev.tenant_id, ev.agent_id, ev.success, ev.latency_ms, ev.error_code LIMIT 1),
    calls AS (
        SELECT ev.*, row_number() OVER (ORDER BY ev.occurred_at, ev.event_type, ev.tool_name, ev.mcp_server, ev.model,
                                                 ev.input_tokens, ev.output_tokens, ev.latency_ms, ev.success, ev.error_code,
                                                 ev.count, ev.agent_id, ev.tenant_id) AS i
        FROM ev WHERE ev.event_type IN ('tool_call', 'llm_call')),
    ct AS (
        SELECT coalesce(sum(calls.count) FILTER (WHERE calls.event_type = 'tool_call'), 0)::bigint AS tool_calls,
               coalesce(sum(calls.count) FILTER (WHERE calls.event_type = 'llm_call'), 0)::bigint AS llm_calls,
               coalesce(sum(calls.input_tokens), 0)::numeric AS input_tokens,
               coalesce(sum(calls.output_tokens), 0)::numeric AS output_tokens,
               round(coalesce(sum(calls.cost_usd), 0), 6) AS cost_usd,
               coalesce(sum(calls.count) FILTER (WHERE calls.event_type = 'llm_call' AND NOT calls.priced), 0)::bigint AS unpriced_calls,
               count(*) AS n,
               coalesce(json_agg(json_build_object(
                   'occurredAt', analytics.utc_text(calls.occurred_at), 'eventType', calls.event_type,
                   'agentId', calls.agent_id, 'toolName', calls.tool_name, 'mcpServer', calls.mcp_server, 'model', calls.model,
                   'inputTokens', calls.input_tokens, 'outputTokens', calls.output_tokens,
                   'tokens', CASE WHEN calls.input_tokens IS NOT NULL OR calls.output_tokens IS NOT NULL
                                  THEN coalesce(calls.input_tokens, 0) + coalesce(calls.output_tokens, 0) END,
                   'costUsd', round(calls.cost_usd, 6),
                   'latencyMs', calls.latency_ms, 'success', calls.success, 'errorCode', calls.error_code, 'count', calls.count)
                   ORDER BY calls.i) FILTER (WHERE calls.i <= max_calls), '[]') AS list
        FROM calls),
    tn AS (SELECT count(DISTINCT ev.tenant_id) AS n, min(ev.tenant_id::text) AS t FROM ev)
    SELECT json_build_object(
        'tenantId', CASE WHEN tn.n = 1 THEN tn.t::uuid END,
        'executionId', execution_id,
        'execution', json_build_object(
            'agentId', x.agent_id, 'agentName', a.name,
            'startedAt', analytics.utc_text(x.occurred_at), 'durationMs', x.latency_ms,
            'status', CASE WHEN x.success IS NULL THEN NULL WHEN x.success THEN 'success'
                           WHEN x.error_code = 'timeout' THEN 'timeout' ELSE 'failed' END,
            'errorCode', x.error_code, 'sessionId', x.session_id, 'userId', x.user_id, 'workflowId', x.workflow_id),
        'totals', json_build_object(
            'toolCalls', ct.tool_calls, 'llmCalls', ct.llm_calls, 'inputTokens', ct.input_tokens, 'outputTokens', ct.output_tokens,
            'tokens', ct.input_tokens + ct.output_tokens, 'costUsd', ct.cost_usd, 'unpricedCalls', ct.unpriced_calls),
        'calls', ct.list,
        'truncated', ct.n > max_calls)::jsonb
    INTO result
    FROM tn CROSS JOIN ct
    LEFT JOIN x ON true
    LEFT JOIN analytics.agents a ON a.agent_id = x.agent_id
    WHERE tn.n > 0;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.execution_detail(uuid, text, integer) IS
    'An execution of one tenant (NULL: any tenant): from its agent_execution event (the earliest when several; nulls when none yet) agentId, agentName, startedAt (the event time), durationMs, status (success, timeout, failed), errorCode, sessionId, userId, workflowId; its tool and LLM calls in time order (at most max_calls, truncated when more) with tokens and costUsd (at the price in force at the call, analytics.priced_events; null for a model without price, counted in unpricedCalls), and their totals; NULL when no event carries the id. Reads the partial index usage_events_execution_idx';

-------------------------------------------------------------------------------
-- Users (seed 002: snake_case)
-------------------------------------------------------------------------------

-- Is there an event of this user in the scope, held raw or in user_daily?
-- user_daily holds every rolled day (past raw retention too); the days
-- read_plan names hold raw events the rollups lack (days never rolled or
-- rewritten since, and every rolled day's events past its watermark).
CREATE OR REPLACE FUNCTION analytics.user_known(tenant_id uuid, user_id text)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- (its dynamic SQL writes instants with %L: in ISO they carry a numeric
-- offset, where SQL or Postgres style writes an abbreviation that the
-- default set may read as another zone, IST for one)
SET datestyle = 'ISO, YMD'
SET jit = off
AS $$
DECLARE
    tenants uuid[];
    lo      date;
    hi      date := analytics.utc_today();
    plan    record;
    d       date;
    s       timestamptz;
    hit     boolean;
BEGIN
    IF user_id IS NULL THEN
        RETURN false;
    END IF;
    tenants := CASE WHEN user_known.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                    ELSE ARRAY[user_known.tenant_id] END;
    IF EXISTS (SELECT 1 FROM analytics.user_daily u WHERE u.tenant_id = ANY (tenants) AND u.user_id = user_known.user_id) THEN
        RETURN true;
    END IF;
    -- The oldest day with raw events: the oldest day partition, or an older
    -- day in the default partition.
    SELECT min(ep.day) INTO lo FROM analytics.event_partitions ep WHERE ep.day IS NOT NULL;
    lo := least(lo, (SELECT (min(e.occurred_at) AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default e), hi);
    plan := analytics.read_plan(lo, hi);
    -- (literal bounds: only the day's partition is planned)
    FOR d, s IN SELECT u.d, u.s FROM unnest(plan.days, plan.since) AS u(d, s) LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM analytics.usage_events e '
                       'WHERE e.tenant_id = ANY ($1) AND e.user_id = $2 AND e.occurred_at >= %L AND e.occurred_at < %L%s)',
                       d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC',
                       CASE WHEN s IS NULL THEN '' ELSE format(' AND e.ingested_at >= %L', s) END)
        INTO hit USING tenants, user_id;
        IF hit THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;
COMMENT ON FUNCTION analytics.user_known(uuid, text) IS
    'True when the scope (a tenant, NULL: all) holds an event of the user: a user_daily row, or a raw event on a day analytics.read_plan reads raw (whole, or past its watermark)';

CREATE OR REPLACE FUNCTION analytics.user_analytics(tenant_id uuid, "from" timestamptz, "to" timestamptz, user_id text,
                                                    period_type text DEFAULT 'custom')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- (read_family's rows of a month of sessions stay in memory)
SET work_mem = '16MB'
AS $$
DECLARE
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from < to.';
    END IF;
    WITH u AS MATERIALIZED (
        SELECT f.bucket, f.events, f.executions, f.input_tokens, f.output_tokens, f.cost_usd, f.agents
        FROM analytics.read_family(NULL::analytics.user_daily, user_analytics.tenant_id, "from", "to") f
        WHERE f.user_id = user_analytics.user_id),
    s AS (SELECT count(*) AS n
          FROM (SELECT DISTINCT f.tenant_id, f.session_id
                FROM analytics.read_family(NULL::analytics.session_daily, user_analytics.tenant_id, "from", "to") f
                WHERE f.user_id = user_analytics.user_id) x),
    t AS (SELECT coalesce(sum(u.events), 0)::bigint AS actions, coalesce(sum(u.executions), 0)::bigint AS executions,
                 coalesce(sum(u.input_tokens + u.output_tokens), 0)::numeric AS tokens,
                 round(coalesce(sum(u.cost_usd), 0), 6) AS cost_usd,
                 count(DISTINCT u.bucket) AS active_days
          FROM u),
    a AS (SELECT count(DISTINCT x.id) AS n FROM u, unnest(u.agents) x(id))
    SELECT json_build_object(
        'tenant_id', user_analytics.tenant_id,
        'user_id', user_analytics.user_id,
        'period_type', period_type,
        'period', analytics.window_json("from", "to"),
        'sessions', s.n,
        'actions', t.actions,
        'agents_used', a.n,
        'executions', t.executions,
        'tokens', t.tokens,
        'cost_usd', t.cost_usd,
        'active_days', t.active_days)::jsonb
    INTO result
    FROM s, t, a;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.user_analytics(uuid, timestamptz, timestamptz, text, text) IS
    'A user of one tenant (NULL: the id in every tenant) over the window [from, to), seed 002''s fields: user_id, period_type (as given), sessions (distinct sessions with an event of the user), actions (events), agents_used, executions (agent executions), tokens (input + output), cost_usd, active_days (UTC days with an event); zeros when the user has no event in the window (analytics.user_known tells unknown users). From user_daily and session_daily (read_family)';

CREATE OR REPLACE FUNCTION analytics.user_trends(tenant_id uuid, "from" timestamptz, "to" timestamptz, user_id text,
                                                 granularity text DEFAULT 'day', period_type text DEFAULT 'custom')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- (read_family's rows of a month of sessions stay in memory)
SET work_mem = '16MB'
AS $$
DECLARE
    tenants uuid[];
    data    json;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from < to.';
    END IF;
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week', 'month')
       OR (granularity = 'hour' AND "to" - "from" > interval '7 days 1 microsecond') THEN
        RAISE EXCEPTION 'invalid granularity "%" for this window', granularity
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use hour (windows up to 7 days), day, week or month.';
    END IF;
    IF granularity = 'hour' THEN
        -- Hours: the user's raw events of the window (at most 7 days).
        tenants := CASE WHEN user_trends.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                        ELSE ARRAY[user_trends.tenant_id] END;
        EXECUTE format($q$
            WITH ev AS MATERIALIZED (
                SELECT e.tenant_id, date_trunc('hour', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
                       e.session_id, e.agent_id,
                       sum(e.count)::bigint AS events,
                       coalesce(sum(e.count) FILTER (WHERE e.event_type = 'agent_execution'), 0)::bigint AS executions,
                       coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)), 0)::numeric AS tokens,
                       coalesce(sum(e.cost_usd) FILTER (WHERE e.event_type = 'llm_call'), 0)::numeric AS cost_usd
                FROM analytics.priced_events e
                WHERE e.tenant_id = ANY ($1) AND e.occurred_at >= %1$L AND e.occurred_at < %2$L AND e.user_id = $2
                GROUP BY e.tenant_id, 2, e.session_id, e.agent_id),
            t AS (SELECT ev.bucket, sum(ev.events)::bigint AS actions, sum(ev.executions)::bigint AS executions,
                         sum(ev.tokens) AS tokens, sum(ev.cost_usd) AS cost_usd
                  FROM ev GROUP BY 1),
            s AS (SELECT x.bucket, count(*) AS n
                  FROM (SELECT DISTINCT ev.bucket, ev.tenant_id, ev.session_id FROM ev WHERE ev.session_id IS NOT NULL) x GROUP BY 1),
            a AS (SELECT x.bucket, count(*) AS n
                  FROM (SELECT DISTINCT ev.bucket, ev.agent_id FROM ev WHERE ev.agent_id IS NOT NULL) x GROUP BY 1)
            SELECT json_agg(json_build_object(
                       'timestamp', analytics.utc_text(b.label), 'sessions', coalesce(s.n, 0), 'actions', coalesce(t.actions, 0),
                       'agents_used', coalesce(a.n, 0), 'executions', coalesce(t.executions, 0), 'tokens', coalesce(t.tokens, 0),
                       'cost_usd', round(coalesce(t.cost_usd, 0), 6), 'active_days', CASE WHEN t.actions > 0 THEN 1 ELSE 0 END)
                       ORDER BY b.bucket)
            FROM analytics.window_buckets(%1$L, %2$L, 'hour') b
            LEFT JOIN t ON t.bucket = b.bucket
            LEFT JOIN s ON s.bucket = b.bucket
            LEFT JOIN a ON a.bucket = b.bucket$q$, "from", "to")
        INTO data USING tenants, user_id;
    ELSE
        -- Days, weeks, months: user_daily and session_daily rows, each in
        -- the bucket its day falls in.
        WITH u AS MATERIALIZED (
            SELECT date_trunc(granularity, f.bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, f.bucket AS day,
                   f.events, f.executions, f.input_tokens, f.output_tokens, f.cost_usd, f.agents
            FROM analytics.read_family(NULL::analytics.user_daily, user_trends.tenant_id, "from", "to") f
            WHERE f.user_id = user_trends.user_id),
        s AS (SELECT x.bucket, count(*) AS n
              FROM (SELECT DISTINCT date_trunc(granularity, f.bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
                                    f.tenant_id, f.session_id
                    FROM analytics.read_family(NULL::analytics.session_daily, user_trends.tenant_id, "from", "to") f
                    WHERE f.user_id = user_trends.user_id) x
              GROUP BY 1),
        t AS (SELECT u.bucket, sum(u.events)::bigint AS actions, sum(u.executions)::bigint AS executions,
                     sum(u.input_tokens + u.output_tokens)::numeric AS tokens, sum(u.cost_usd) AS cost_usd,
                     count(DISTINCT u.day) AS active_days
              FROM u GROUP BY 1),
        a AS (SELECT x.bucket, count(*) AS n FROM (SELECT DISTINCT u.bucket, g.id FROM u, unnest(u.agents) g(id)) x GROUP BY 1)
        SELECT json_agg(json_build_object(
                   'date', to_char(b.label AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'sessions', coalesce(s.n, 0),
                   'actions', coalesce(t.actions, 0), 'agents_used', coalesce(a.n, 0), 'executions', coalesce(t.executions, 0),
                   'tokens', coalesce(t.tokens, 0), 'cost_usd', round(coalesce(t.cost_usd, 0), 6),
                   'active_days', coalesce(t.active_days, 0))
                   ORDER BY b.bucket)
        INTO data
        FROM analytics.window_buckets("from", "to", granularity) b
        LEFT JOIN t ON t.bucket = b.bucket
        LEFT JOIN s ON s.bucket = b.bucket
        LEFT JOIN a ON a.bucket = b.bucket;
    END IF;
    RETURN json_build_object(
        'tenant_id', user_trends.tenant_id,
        'user_id', user_trends.user_id,
        'period_type', period_type,
        'period', analytics.window_json("from", "to"),
        'granularity', granularity,
        'data', coalesce(data, '[]'))::jsonb;
END
$$;
COMMENT ON FUNCTION analytics.user_trends(uuid, timestamptz, timestamptz, text, text, text) IS
    'user_analytics per bucket of the window [from, to): every hour (windows up to 7 days; raw events), day, ISO week or month (user_daily and session_daily via read_family), zero-filled, oldest first; a bucket is labelled by its start clipped to the window ("timestamp" for hours, "date" otherwise)';

-------------------------------------------------------------------------------
-- Workflows
-------------------------------------------------------------------------------

-- A run is a workflow_id with a workflow event in the window; its rows of
-- every day are merged first (a run may span days; its type is the
-- non-null workflow_type of its workflow events), then runs by type.
CREATE OR REPLACE FUNCTION analytics.workflow_performance(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from < to.';
    END IF;
    WITH r AS MATERIALIZED (
        SELECT f.tenant_id, f.bucket, f.workflow_id, f.workflow_type, f.runs, f.run_failures, f.run_latency,
               f.tool_calls, f.input_tokens, f.output_tokens, f.agents
        FROM analytics.read_family(NULL::analytics.workflow_daily, workflow_performance.tenant_id, "from", "to") f),
    -- the runs: a workflow id's rows of every day of the window merged
    run AS MATERIALIZED (
        SELECT r.tenant_id, r.workflow_id, max(r.workflow_type) AS workflow_type,
               sum(r.run_failures) AS failures, analytics.qsketch_merge(r.run_latency) AS latency,
               sum(r.tool_calls) AS tool_calls, sum(r.input_tokens + r.output_tokens) AS tokens
        FROM r GROUP BY 1, 2 HAVING sum(r.runs) > 0),
    run_agents AS (
        SELECT x.tenant_id, x.workflow_id, count(*) AS n
        FROM (SELECT DISTINCT r.tenant_id, r.workflow_id, g.id FROM r, unnest(r.agents) g(id)) x
        GROUP BY 1, 2),
    by_type AS (
        SELECT run.workflow_type, count(*) AS runs, count(*) FILTER (WHERE run.failures > 0) AS failures,
               analytics.qsketch_merge(run.latency) AS latency,
               avg(coalesce(ra.n, 0)) AS agents, avg(run.tool_calls) AS tool_calls, avg(run.tokens) AS tokens
        FROM run
        LEFT JOIN run_agents ra ON ra.tenant_id = run.tenant_id AND ra.workflow_id = run.workflow_id
        GROUP BY 1),
    -- the daily series: runs with a workflow event on the day
    day_run AS (
        SELECT r.bucket, r.tenant_id, r.workflow_id, sum(r.run_failures) AS failures,
               analytics.qsketch_merge(r.run_latency) AS latency
        FROM r GROUP BY 1, 2, 3 HAVING sum(r.runs) > 0),
    by_day AS (
        SELECT day_run.bucket, count(*) AS runs, count(*) FILTER (WHERE day_run.failures > 0) AS failures,
               analytics.qsketch_merge(day_run.latency) AS latency
        FROM day_run GROUP BY 1),
    types AS (
        SELECT coalesce(json_agg(json_build_object(
                   'workflowType', t.workflow_type, 'runs', t.runs, 'successes', t.runs - t.failures,
                   'failures', t.failures, 'successRate', analytics.ratio(t.runs - t.failures, t.runs),
                   'durationMs', analytics.latency_json(t.latency),
                   'avgAgentsPerRun', round(t.agents, 2), 'avgToolCallsPerRun', round(t.tool_calls, 2),
                   'avgTokensPerRun', round(t.tokens, 2))
                   ORDER BY t.runs DESC, t.workflow_type NULLS LAST), '[]') AS j
        FROM by_type t),
    series AS (
        SELECT json_agg(json_build_object(
                   'date', to_char(b.label AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'runs', coalesce(d.runs, 0),
                   'failures', coalesce(d.failures, 0), 'p95', analytics.latency_json(d.latency) -> 'p95')
                   ORDER BY b.bucket) AS j
        FROM analytics.window_buckets("from", "to", 'day') b
        LEFT JOIN by_day d ON d.bucket = b.bucket)
    SELECT json_build_object(
        'tenantId', workflow_performance.tenant_id,
        'period', analytics.window_json("from", "to"),
        'workflowTypes', types.j,
        'series', series.j)::jsonb
    INTO result
    FROM types, series;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.workflow_performance(uuid, timestamptz, timestamptz) IS
    'Workflow runs of one tenant (NULL: all) in the window [from, to), per workflowType (most runs first): runs (workflow ids with a workflow event in the window; a run''s rows of every day merged, its type the non-null workflow_type), successes, failures (runs with a failed workflow event), successRate, durationMs p50/p95/p99 (merged sketches of the workflow events'' latency), avgAgentsPerRun, avgToolCallsPerRun, avgTokensPerRun (input + output; the run''s events within the window); and a zero-filled daily series {date, runs, failures, p95}. From workflow_daily (read_family)';
