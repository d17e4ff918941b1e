-------------------------------------------------------------------------------
-- functions/50_readers.sql (layer 50, readers): a tenant's days as of the
-- moment of the call.  analytics.read_plan (layer 40) says how each day is
-- read: from its rollup rows alone; from its rollup rows plus the few raw
-- events ingested since the day's watermark (today and yesterday, which
-- the minute rollup keeps current, and days with events added since); or,
-- for a day never rolled or rewritten since, from its raw events whole.  So
-- each answer reflects every event recorded so far while reading little
-- more than rollup rows.  Re-runnable: part of the install script and of
-- every upgrade.
--
-- Every report (layer 70) reads through these four functions:
--   read_raw_groups     a tenant's raw events of some days (or since a
--                       watermark), grouped
--   read_tenant_days    a tenant's daily metric totals, agents and heatmap
--   read_agent_days     a tenant's daily metrics per agent
--   read_endpoint_stats a tenant's api calls per endpoint with latencies
-- They are PL/pgSQL (Citus plans their statements for the tenant's shard).
-------------------------------------------------------------------------------

-- PL/pgSQL's RETURN QUERY EXECUTE with the plan kept (C, src/cached.c): a
-- statement on a partition of the day, planned once per backend (generic)
-- instead of at every call.  Read-only; the rows must match the call's
-- column definition list.  Only the extension's functions call it (layer 90
-- revokes it from PUBLIC).
CREATE OR REPLACE FUNCTION analytics.execute_cached(query text, VARIADIC args "any")
RETURNS SETOF record
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'analytics_execute_cached';
COMMENT ON FUNCTION analytics.execute_cached(text, "any") IS
    'Runs a read-only statement with arguments $1.. like RETURN QUERY EXECUTE, with a generic plan kept by the backend (at most 64 statements, the least recently used freed); the rows must match the column definition list';

-- A tenant's raw events of the given days, grouped by day, agent and event
-- type (and, with detail, by endpoint and method with a latency sketch of
-- the api calls).  since[i] bounds day[i] to the events ingested at or
-- after it (NULL: the whole day).  Each day is read from its own partition
-- (days with no partition from the default partition) by a statement with
-- a plan the backend keeps; the watermark of a tail read is written into
-- its statement, so that the plan is made knowing few rows lie beyond it
-- and descends the day's index on (tenant_id, ingested_at).  (C, src/readers.c: it
-- was a PL/pgSQL loop over the days, whose statements and RETURN QUERY per
-- day cost more than the reads at every API call.)
CREATE OR REPLACE FUNCTION analytics.read_raw_groups(tenant_id uuid, days date[], since timestamptz[], detail boolean)
RETURNS TABLE (date date, agent_id uuid, event_type text, endpoint text, method text,
               calls bigint, successes bigint, latency analytics.qsketch, api_heatmap analytics.heatmap)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'analytics_read_raw_groups';
COMMENT ON FUNCTION analytics.read_raw_groups(uuid, date[], timestamptz[], boolean) IS
    'Raw events of a tenant on the given days (each bounded to the events ingested at or after since[i] unless NULL), grouped by day, agent, event type (with detail also endpoint and method, with a latency qsketch of api calls): calls, successes and the api_call heatmap; each day read from its own partition';

-- The same rows as one row of arrays, a column each (every array NULL when
-- there is no row, as array_agg over no rows): a PL/pgSQL reader takes them
-- in one assignment, an expression evaluated without a plan of its own,
-- where SELECT array_agg(..) INTO .. FROM read_raw_groups(..) ran a
-- statement with a function scan and an aggregate at every call.  (C,
-- src/readers.c)
CREATE OR REPLACE FUNCTION analytics.read_raw_arrays(tenant_id uuid, days date[], since timestamptz[], detail boolean,
    OUT date date[], OUT agent_id uuid[], OUT event_type text[], OUT endpoint text[], OUT method text[],
    OUT calls bigint[], OUT successes bigint[], OUT latency analytics.qsketch[], OUT api_heatmap analytics.heatmap[])
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'analytics_read_raw_arrays';
COMMENT ON FUNCTION analytics.read_raw_arrays(uuid, date[], timestamptz[], boolean) IS
    'The rows of read_raw_groups(tenant_id, days, since, detail) as one row of arrays, one per column, in the same order (all NULL when there is no row)';

-- A tenant's days of [from, to] with any event: tenant_daily rows plus raw
-- events as analytics.read_plan says.  Days without events are absent.
CREATE OR REPLACE FUNCTION analytics.read_tenant_days(tenant_id uuid, "from" date, "to" date)
RETURNS TABLE (date date, api_calls bigint, token_issuances bigint, token_failures bigint,
               credential_rotations bigint, tool_calls bigint, llm_calls bigint,
               active_agents uuid[], issuing_agents uuid[], api_heatmap analytics.heatmap)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    tid   uuid := read_tenant_days.tenant_id;
    lo    date := read_tenant_days."from";
    hi    date := read_tenant_days."to";
    days  date[];
    since timestamptz[];
    whole date[];
    rolled analytics.tenant_daily[];
    pl    record;
    raw   record;
    r_date date[]; r_agent uuid[]; r_type text[]; r_calls bigint[]; r_succ bigint[]; r_heat analytics.heatmap[];
BEGIN
    -- (assignments: expressions evaluated without a plan of their own)
    pl := analytics.read_plan(lo, hi);
    days := pl.days; since := pl.since; whole := pl.whole;
    -- The raw groups first (on their own, not in a statement that reads
    -- the tenant's shard: on Citus that one would be routed whole to the
    -- worker).
    IF cardinality(days) > 0 THEN
        raw := analytics.read_raw_arrays(tid, days, since, false);
        r_date := raw.date; r_agent := raw.agent_id; r_type := raw.event_type; r_calls := raw.calls;
        r_succ := raw.successes; r_heat := raw.api_heatmap;
    END IF;
    -- None (nothing of the tenant's ingested since the watermarks, as for
    -- most tenants at most moments): the rollup rows of every day not read
    -- whole are the answer as they are, in one statement, with no merge.
    IF r_date IS NULL THEN
        RETURN QUERY
        SELECT t.date, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
               t.tool_calls, t.llm_calls, t.active_agents, t.issuing_agents, t.api_heatmap
        FROM analytics.tenant_daily t
        WHERE t.tenant_id = tid AND t.date BETWEEN lo AND hi AND t.date <> ALL (whole);
        RETURN;
    END IF;
    -- Days read from their rollup rows alone, as they are.
    RETURN QUERY
    SELECT t.date, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
           t.tool_calls, t.llm_calls, t.active_agents, t.issuing_agents, t.api_heatmap
    FROM analytics.tenant_daily t
    WHERE t.tenant_id = tid AND t.date BETWEEN lo AND hi AND t.date <> ALL (days);
    -- The rollup rows of the days that add raw events, merged with the raw
    -- groups by day.
    SELECT array_agg(t) INTO rolled
    FROM analytics.tenant_daily t
    WHERE t.tenant_id = tid AND t.date = ANY (days) AND t.date <> ALL (whole);
    RETURN QUERY
    WITH r AS MATERIALIZED (
        SELECT * FROM unnest(r_date, r_agent, r_type, r_calls, r_succ, r_heat)
                      AS g(date, agent_id, event_type, calls, successes, api_heatmap)),
    m AS (
        SELECT r.date, r.agent_id, c.metric_type, c.n
        FROM r CROSS JOIN LATERAL analytics.metric_counts(r.event_type, r.calls, r.successes) c),
    raw_days AS (
        SELECT x.date, coalesce(p.api_calls, 0) AS api_calls, coalesce(p.token_issuances, 0) AS token_issuances,
               coalesce(p.token_failures, 0) AS token_failures, coalesce(p.credential_rotations, 0) AS credential_rotations,
               coalesce(p.tool_calls, 0) AS tool_calls, coalesce(p.llm_calls, 0) AS llm_calls,
               x.active_agents, coalesce(p.issuing_agents, '{}') AS issuing_agents, x.api_heatmap
        FROM (SELECT r.date,
                     coalesce(array_agg(DISTINCT r.agent_id ORDER BY r.agent_id) FILTER (WHERE r.agent_id IS NOT NULL), '{}') AS active_agents,
                     analytics.heatmap_merge(r.api_heatmap) AS api_heatmap
              FROM r GROUP BY r.date) x
        LEFT JOIN (
            SELECT m.date,
                   sum(m.n) FILTER (WHERE m.metric_type = 'api_calls')::bigint AS api_calls,
                   sum(m.n) FILTER (WHERE m.metric_type = 'token_issuances')::bigint AS token_issuances,
                   sum(m.n) FILTER (WHERE m.metric_type = 'token_failures')::bigint AS token_failures,
                   sum(m.n) FILTER (WHERE m.metric_type = 'credential_rotations')::bigint AS credential_rotations,
                   sum(m.n) FILTER (WHERE m.metric_type = 'tool_calls')::bigint AS tool_calls,
                   sum(m.n) FILTER (WHERE m.metric_type = 'llm_calls')::bigint AS llm_calls,
                   array_agg(DISTINCT m.agent_id ORDER BY m.agent_id)
                       FILTER (WHERE m.agent_id IS NOT NULL AND m.metric_type = 'token_issuances') AS issuing_agents
            FROM m GROUP BY m.date) p ON p.date = x.date),
    u AS (
        SELECT t.date, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
               t.tool_calls, t.llm_calls, t.active_agents, t.issuing_agents, t.api_heatmap
        FROM unnest(rolled) t
        UNION ALL
        SELECT * FROM raw_days),
    -- (a day read from its rollup row and from raw events has two rows:
    -- counts add up, agent sets unite, heatmaps merge)
    two AS MATERIALIZED (SELECT u.date FROM u GROUP BY u.date HAVING count(*) > 1)
    SELECT u.date, u.api_calls, u.token_issuances, u.token_failures, u.credential_rotations, u.tool_calls,
           u.llm_calls, u.active_agents, u.issuing_agents, u.api_heatmap
    FROM u WHERE u.date NOT IN (SELECT two.date FROM two)
    UNION ALL
    SELECT s.date, s.api_calls, s.token_issuances, s.token_failures, s.credential_rotations, s.tool_calls,
           s.llm_calls,
           ARRAY(SELECT DISTINCT a FROM u, unnest(u.active_agents) a WHERE u.date = s.date ORDER BY a),
           ARRAY(SELECT DISTINCT a FROM u, unnest(u.issuing_agents) a WHERE u.date = s.date ORDER BY a),
           s.api_heatmap
    FROM (SELECT u.date, sum(u.api_calls)::bigint AS api_calls, sum(u.token_issuances)::bigint AS token_issuances,
                 sum(u.token_failures)::bigint AS token_failures,
                 sum(u.credential_rotations)::bigint AS credential_rotations, sum(u.tool_calls)::bigint AS tool_calls,
                 sum(u.llm_calls)::bigint AS llm_calls, analytics.heatmap_merge(u.api_heatmap) AS api_heatmap
          FROM u WHERE u.date IN (SELECT two.date FROM two) GROUP BY u.date) s;
END
$$;
COMMENT ON FUNCTION analytics.read_tenant_days(uuid, date, date) IS
    'A tenant''s days of [from, to] that have events, up to the moment of the call: the six metric totals, active and issuing agents, api_call heatmap; from tenant_daily plus the raw events analytics.read_plan names';

-- A tenant's daily metrics per agent of [from, to] (agent_id NULL: events
-- with no agent): agent_daily rows plus raw events as read_plan says.  Every
-- agent with an event that day has a row (zeros when its events count for
-- no metric).
CREATE OR REPLACE FUNCTION analytics.read_agent_days(tenant_id uuid, "from" date, "to" date)
RETURNS TABLE (date date, agent_id uuid, api_calls bigint, token_issuances bigint, token_failures bigint,
               credential_rotations bigint, tool_calls bigint, llm_calls bigint)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    tid   uuid := read_agent_days.tenant_id;
    lo    date := read_agent_days."from";
    hi    date := read_agent_days."to";
    days  date[];
    since timestamptz[];
    whole date[];
    rolled analytics.agent_daily[];
    pl    record;
    raw   record;
    r_date date[]; r_agent uuid[]; r_type text[]; r_calls bigint[]; r_succ bigint[];
BEGIN
    -- (assignments: expressions evaluated without a plan of their own)
    pl := analytics.read_plan(lo, hi);
    days := pl.days; since := pl.since; whole := pl.whole;
    -- The raw groups first (on their own, not in a statement that reads
    -- the tenant's shard: on Citus that one would be routed whole to the
    -- worker).
    IF cardinality(days) > 0 THEN
        raw := analytics.read_raw_arrays(tid, days, since, false);
        r_date := raw.date; r_agent := raw.agent_id; r_type := raw.event_type; r_calls := raw.calls;
        r_succ := raw.successes;
    END IF;
    -- None: the rollup rows of every day not read whole, as they are, in one
    -- statement, with no merge.
    IF r_date IS NULL THEN
        RETURN QUERY
        SELECT a.date, a.agent_id, a.api_calls, a.token_issuances, a.token_failures, a.credential_rotations,
               a.tool_calls, a.llm_calls
        FROM analytics.agent_daily a
        WHERE a.tenant_id = tid AND a.date BETWEEN lo AND hi AND a.date <> ALL (whole);
        RETURN;
    END IF;
    -- Days read from their rollup rows alone, as they are.
    RETURN QUERY
    SELECT a.date, a.agent_id, a.api_calls, a.token_issuances, a.token_failures, a.credential_rotations,
           a.tool_calls, a.llm_calls
    FROM analytics.agent_daily a
    WHERE a.tenant_id = tid AND a.date BETWEEN lo AND hi AND a.date <> ALL (days);
    -- The rollup rows of the days that add raw events, merged with the raw
    -- groups by day and agent.
    SELECT array_agg(a) INTO rolled
    FROM analytics.agent_daily a
    WHERE a.tenant_id = tid AND a.date = ANY (days) AND a.date <> ALL (whole);
    RETURN QUERY
    WITH u AS (
        SELECT a.date, a.agent_id, a.api_calls, a.token_issuances, a.token_failures, a.credential_rotations,
               a.tool_calls, a.llm_calls
        FROM unnest(rolled) a
        UNION ALL
        -- (an agent whose events count for no metric still has its row)
        SELECT r.date, r.agent_id,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'api_calls'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'token_issuances'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'token_failures'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'credential_rotations'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'tool_calls'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'llm_calls'), 0)::bigint
        FROM unnest(r_date, r_agent, r_type, r_calls, r_succ) AS r(date, agent_id, event_type, calls, successes)
        LEFT JOIN LATERAL analytics.metric_counts(r.event_type, r.calls, r.successes) c ON true
        GROUP BY r.date, r.agent_id)
    SELECT u.date, u.agent_id, sum(u.api_calls)::bigint, sum(u.token_issuances)::bigint, sum(u.token_failures)::bigint,
           sum(u.credential_rotations)::bigint, sum(u.tool_calls)::bigint, sum(u.llm_calls)::bigint
    FROM u GROUP BY u.date, u.agent_id;
END
$$;
COMMENT ON FUNCTION analytics.read_agent_days(uuid, date, date) IS
    'A tenant''s six daily metrics per agent and day of [from, to], up to the moment of the call, for every agent with an event that day (agent_id NULL: events with no agent; an agent whose events count for no metric has zeros)';

-- A tenant's api calls of [from, to] by endpoint and method, with merged
-- latency sketches: endpoint_daily rows plus raw events as read_plan says.
CREATE OR REPLACE FUNCTION analytics.read_endpoint_stats(tenant_id uuid, "from" date, "to" date)
RETURNS TABLE (endpoint text, method text, calls bigint, successes bigint, latency analytics.qsketch)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    tid   uuid := read_endpoint_stats.tenant_id;
    lo    date := read_endpoint_stats."from";
    hi    date := read_endpoint_stats."to";
    days  date[];
    since timestamptz[];
    whole date[];
    -- The rollup rows, read first by a statement of their own: on Citus a
    -- statement that reads the tenant's shard and calls read_raw_groups()
    -- would be routed whole to the worker, and the function's own
    -- distributed reads refused there.
    e_ends text[]; e_meths text[]; e_calls bigint[]; e_succ bigint[]; e_lat analytics.qsketch[];
    pl    record;
BEGIN
    pl := analytics.read_plan(lo, hi);
    days := pl.days; since := pl.since; whole := pl.whole;
    -- (merged per endpoint where the rows are, so a handful of rows travel)
    SELECT array_agg(g.endpoint), array_agg(g.method), array_agg(g.calls), array_agg(g.successes), array_agg(g.latency)
    INTO e_ends, e_meths, e_calls, e_succ, e_lat
    FROM (SELECT s.endpoint, s.method, sum(s.calls)::bigint AS calls, sum(s.successes)::bigint AS successes,
                 analytics.qsketch_merge(s.latency) AS latency
          FROM analytics.endpoint_daily s
          WHERE s.tenant_id = tid AND s.date BETWEEN lo AND hi AND s.date <> ALL (whole)
          GROUP BY s.endpoint, s.method) g;
    IF cardinality(days) = 0 THEN
        RETURN QUERY
        SELECT u.endpoint, u.method, u.calls, u.successes, u.latency
        FROM unnest(e_ends, e_meths, e_calls, e_succ, e_lat) AS u(endpoint, method, calls, successes, latency);
        RETURN;
    END IF;
    RETURN QUERY
    WITH g AS (
        SELECT u.endpoint, u.method, u.calls, u.successes, u.latency
        FROM unnest(e_ends, e_meths, e_calls, e_succ, e_lat) AS u(endpoint, method, calls, successes, latency)
        UNION ALL
        SELECT r.endpoint, r.method, r.calls, r.successes, r.latency
        FROM analytics.read_raw_groups(tid, days, since, true) r
        WHERE r.event_type = 'api_call')
    SELECT g.endpoint, g.method, sum(g.calls)::bigint, sum(g.successes)::bigint, analytics.qsketch_merge(g.latency)
    FROM g
    GROUP BY g.endpoint, g.method;
END
$$;
COMMENT ON FUNCTION analytics.read_endpoint_stats(uuid, date, date) IS
    'A tenant''s api calls of [from, to] by endpoint and method: calls, successes and the merged latency qsketch, up to the moment of the call';
