-------------------------------------------------------------------------------
-- functions/77_ops_platform.sql (layer 77, reports of contract §6.3): the
-- seed-002 agent and platform answers and the health of the extension, as
-- jsonb, for SQL callers (the HTTP layer, 83_api_ops_platform.sql, calls
-- them after its checks).  Tenant NULL: every tenant.
--   agent_analytics(tenant, from, to, agent)        one agent's calls, times, tokens, cost
--   agent_trends(tenant, from, to, agent, gran)     the same per bucket
--   platform_trends(tenant, from, to, gran)         active and new tenants, agents, users; events, api p95, tokens, cost per bucket
--   dashboard(tenant, from, to)                     seed 002's current_metrics, trends, performance, monitoring
--   analytics_health()                              status, last rollup, days waiting, worker, version
-- Helpers (platform_*): buckets of a window, the raw reads of hour buckets
-- that no family holds (one agent's events, users), and which tenants,
-- agents and users had an event before a window ("new" = first event ever
-- in the window).  Everything reads the rollup families through
-- analytics.read_family (layer 40) except where said.  Re-runnable.
-------------------------------------------------------------------------------

-- The bucket of an instant: its UTC hour or day, or its ISO week (Monday)
-- or month, not before the first day of the window starting at "from".
CREATE OR REPLACE FUNCTION analytics.platform_bucket(ts timestamptz, granularity text, "from" timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN $2 IN ('hour', 'day') THEN date_trunc($2, $1 AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                ELSE greatest(date_trunc($2, $1 AT TIME ZONE 'UTC'), date_trunc('day', $3 AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC' END
$$;
COMMENT ON FUNCTION analytics.platform_bucket(timestamptz, text, timestamptz) IS
    'The start of the bucket (hour, day, week: ISO Monday, month) holding ts, for a window starting at from: week and month buckets start no earlier than the first day of the window';

-- Every bucket of the window [from, to), oldest first.
CREATE OR REPLACE FUNCTION analytics.platform_buckets("from" timestamptz, "to" timestamptz, granularity text)
RETURNS SETOF timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT DISTINCT analytics.platform_bucket(g, $3, $1)
    FROM generate_series(date_trunc(CASE WHEN $3 = 'hour' THEN 'hour' ELSE 'day' END, $1 AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                         $2 - interval '1 microsecond',
                         CASE WHEN $3 = 'hour' THEN interval '1 hour' ELSE interval '1 day' END) g
    WHERE $1 < $2
    ORDER BY 1
$$;
COMMENT ON FUNCTION analytics.platform_buckets(timestamptz, timestamptz, text) IS
    'The starts of every bucket (hour, day, week, month; see platform_bucket) of the window [from, to), oldest first';

-- A bucket's label: a UTC RFC 3339 timestamp for hours, else its date.
CREATE OR REPLACE FUNCTION analytics.platform_label(bucket timestamptz, granularity text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN $2 = 'hour' THEN to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                ELSE to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD') END
$$;
COMMENT ON FUNCTION analytics.platform_label(timestamptz, text) IS
    'The label of a bucket: YYYY-MM-DDTHH:MI:SSZ (UTC) for hour buckets, else YYYY-MM-DD';

-- Granularity checks of the typed functions (ordinary errors).
CREATE OR REPLACE FUNCTION analytics.platform_check_granularity(granularity text, "from" timestamptz, "to" timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week', 'month') THEN
        RAISE EXCEPTION 'invalid granularity "%"', granularity
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use hour, day, week or month.';
    END IF;
    IF granularity = 'hour' AND "to" - "from" > interval '7 days 1 second' THEN
        RAISE EXCEPTION 'hour buckets need a window of at most 7 days'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use day, week or month for longer windows.';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.platform_check_granularity(text, timestamptz, timestamptz) IS
    'Raises invalid_parameter_value unless granularity is hour (windows of at most 7 days), day, week or month';

-- One agent's events of [from, to) grouped by UTC hour and event type,
-- from the raw events (no family holds agents by hour; agent_trends asks
-- for windows of at most 7 days).  Columns as in agent_type_daily.
CREATE OR REPLACE FUNCTION analytics.platform_agent_hours(tenant_id uuid, agent_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS TABLE (bucket timestamptz, event_type text, events bigint, failures bigint, latency_n bigint,
               latency_sum double precision, latency analytics.qsketch, input_tokens numeric,
               output_tokens numeric, cost_usd numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- (its dynamic SQL writes instants with %L: in ISO they carry a numeric
-- offset, where SQL or Postgres style writes an abbreviation that the
-- default set may read as another zone, IST for one)
SET datestyle = 'ISO, YMD'
SET jit = off
AS $$
BEGIN
    IF tenant_id IS NULL OR agent_id IS NULL OR "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RETURN;
    END IF;
    -- (literals: a router query on Citus)
    RETURN QUERY EXECUTE format(
        'SELECT date_trunc(''hour'', e.occurred_at AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC'', e.event_type, '
        '       sum(e.count)::bigint, coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint, '
        '       coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL), 0)::bigint, '
        '       coalesce(sum(e.latency_ms * e.count), 0)::double precision, '
        '       analytics.qsketch_agg_n(e.latency_ms, e.count::bigint), '
        '       coalesce(sum(e.input_tokens), 0)::numeric, coalesce(sum(e.output_tokens), 0)::numeric, '
        '       coalesce(sum(e.cost_usd) FILTER (WHERE e.event_type = ''llm_call''), 0)::numeric '
        'FROM analytics.priced_events e '
        'WHERE e.tenant_id = %L AND e.agent_id = %L AND e.occurred_at >= %L AND e.occurred_at < %L '
        'GROUP BY 1, 2', tenant_id, agent_id, "from", "to");
END
$$;
COMMENT ON FUNCTION analytics.platform_agent_hours(uuid, uuid, timestamptz, timestamptz) IS
    'One agent''s raw events of [from, to) per UTC hour and event type (events, failures, latency count, sum and qsketch, tokens, cost as in agent_type_daily): the hour buckets of agent_trends';

-- The users with an event in each UTC hour of [from, to), from the raw
-- events (user_daily is daily; platform_trends asks for windows of at
-- most 7 days).
CREATE OR REPLACE FUNCTION analytics.platform_user_hours(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS TABLE (bucket timestamptz, tenant uuid, user_id text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- (its dynamic SQL writes instants with %L: in ISO they carry a numeric
-- offset, where SQL or Postgres style writes an abbreviation that the
-- default set may read as another zone, IST for one)
SET datestyle = 'ISO, YMD'
SET jit = off
AS $$
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT date_trunc(''hour'', e.occurred_at AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC'', e.tenant_id, e.user_id '
        'FROM analytics.usage_events e '
        'WHERE e.occurred_at >= %L AND e.occurred_at < %L AND e.user_id IS NOT NULL%s '
        'GROUP BY 1, 2, 3', "from", "to",
        CASE WHEN platform_user_hours.tenant_id IS NULL THEN ''
             ELSE format(' AND e.tenant_id = %L', platform_user_hours.tenant_id) END);
END
$$;
COMMENT ON FUNCTION analytics.platform_user_hours(uuid, timestamptz, timestamptz) IS
    'The (UTC hour, tenant, user) triples with an event in [from, to) from the raw events, for one tenant or all (NULL): the hour buckets of platform_trends';

-- The day partitions before a day that were never rolled up, oldest
-- first (from the catalog by name, cheaper than analytics.event_partitions).
CREATE OR REPLACE FUNCTION analytics.platform_unrolled_days(before date)
RETURNS date[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN ARRAY(
        SELECT to_date(substr(c.relname, 15), 'YYYYMMDD')
        FROM pg_catalog.pg_inherits i
        JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'analytics.usage_events'::regclass
          AND c.relname LIKE 'usage\_events\_p________'
          AND c.relname < analytics.partition_name(before)
          AND c.relname NOT IN (SELECT analytics.partition_name(r.day) FROM analytics.rollup_days r)
        ORDER BY c.relname);
END
$$;
COMMENT ON FUNCTION analytics.platform_unrolled_days(date) IS
    'The days before the given day whose partition of usage_events exists and was never rolled up, oldest first';

-- Which of the given tenants, agents and users had an event before "from"
-- (so that an entity with an event in a window is new when it had none
-- before).  Bounded: per tenant, the family rows before the window's first
-- day are probed in (tenant_id, bucket, ...) index order and stop at the
-- first hit (agent_type_daily for tenants and agents, user_daily for
-- users); the raw events the families may not hold yet are read for the
-- days read_plan lists before that day (never rolled, changed since, live)
-- and for the part of the window's first day before "from".  Users are
-- (tenant, user_id) pairs.  One router query per tenant (Citus).
CREATE OR REPLACE FUNCTION analytics.platform_seen_before("from" timestamptz, tenants uuid[],
                                                          agent_tenants uuid[], agents uuid[],
                                                          user_tenants uuid[], users text[])
RETURNS TABLE (kind text, tenant_id uuid, id text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- (its dynamic SQL writes instants with %L: in ISO they carry a numeric
-- offset, where SQL or Postgres style writes an abbreviation that the
-- default set may read as another zone, IST for one)
SET datestyle = 'ISO, YMD'
SET jit = off
AS $$
DECLARE
    lo      timestamptz := date_trunc('day', "from" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    lo_day  date := ("from" AT TIME ZONE 'UTC')::date;
    first   date;
    p       record;
    hit     boolean;
    raw     text := '';
    t       uuid;
    ids     text[];
    found   text[];
BEGIN
    IF "from" IS NULL THEN
        RETURN;
    END IF;
    -- The raw ranges before "from" that the families may lack: from the
    -- oldest day that can be unclean (a partition never rolled, a logged
    -- change, an event in the default partition, yesterday), read_plan's
    -- days, and the start of the first day.
    first := least((analytics.platform_unrolled_days(lo_day))[1],
                   (SELECT min(c.day) FROM analytics.changed_days c WHERE c.day < lo_day),
                   (SELECT (min(e.occurred_at) AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default e),
                   analytics.utc_today() - 1);
    IF first < lo_day THEN
        SELECT string_agg(format('(e.occurred_at >= %L AND e.occurred_at < %L%s)',
                                 u.d::timestamp AT TIME ZONE 'UTC', (u.d + 1)::timestamp AT TIME ZONE 'UTC',
                                 CASE WHEN u.s IS NULL THEN '' ELSE format(' AND e.ingested_at >= %L', u.s) END), ' OR ')
        INTO raw
        FROM analytics.read_plan(first, lo_day - 1) rp, unnest(rp.days, rp.since) AS u(d, s);
        raw := coalesce(raw, '');
    END IF;
    IF "from" > lo THEN
        raw := raw || CASE WHEN raw = '' THEN '' ELSE ' OR ' END
                   || format('(e.occurred_at >= %L AND e.occurred_at < %L)', lo, "from");
    END IF;

    -- Tenants.
    FOR t IN SELECT DISTINCT x FROM unnest(tenants) x WHERE x IS NOT NULL LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM analytics.agent_type_daily d WHERE d.tenant_id = %L AND d.bucket < %L)', t, lo)
        INTO hit;
        IF NOT hit AND raw <> '' THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM analytics.usage_events e WHERE e.tenant_id = %L AND (%s))', t, raw) INTO hit;
        END IF;
        IF hit THEN
            kind := 'tenant'; tenant_id := t; id := t::text;
            RETURN NEXT;
        END IF;
    END LOOP;

    -- Agents, then users: per tenant, the families first, then raw events
    -- for the ones not found there.
    FOR p IN SELECT 'agent' AS k, x.t, array_agg(DISTINCT x.i) AS ids
             FROM unnest(agent_tenants, agents::text[]) x(t, i) WHERE x.i IS NOT NULL GROUP BY x.t
             UNION ALL
             SELECT 'user', x.t, array_agg(DISTINCT x.i)
             FROM unnest(user_tenants, users) x(t, i) WHERE x.i IS NOT NULL GROUP BY x.t LOOP
        -- The ids of the tenant's oldest bucket first (most ids of a
        -- tenant with history are there), then one probe per other id
        -- (LATERAL ... LIMIT 1: an index scan stopping at the first row).
        EXECUTE format('SELECT array_agg(DISTINCT i) FROM unnest(%4$L::text[]) i JOIN analytics.%2$I d ON d.%1$I = i::%5$s '
                       'WHERE d.tenant_id = %3$L AND d.bucket < %6$L '
                       '  AND d.bucket = (SELECT min(m.bucket) FROM analytics.%2$I m WHERE m.tenant_id = %3$L)',
                       CASE WHEN p.k = 'agent' THEN 'agent_id' ELSE 'user_id' END,
                       CASE WHEN p.k = 'agent' THEN 'agent_type_daily' ELSE 'user_daily' END, p.t, p.ids,
                       CASE WHEN p.k = 'agent' THEN 'uuid' ELSE 'text' END, lo)
        INTO found;
        found := coalesce(found, '{}');
        ids := ARRAY(SELECT unnest(p.ids) EXCEPT SELECT unnest(found));
        IF cardinality(ids) > 0 THEN
            EXECUTE format('SELECT array_agg(i) FROM unnest(%L::text[]) i '
                           'CROSS JOIN LATERAL (SELECT 1 FROM analytics.%I d WHERE d.tenant_id = %L AND d.bucket < %L AND d.%I = i::%s LIMIT 1) h',
                           ids, CASE WHEN p.k = 'agent' THEN 'agent_type_daily' ELSE 'user_daily' END, p.t, lo,
                           CASE WHEN p.k = 'agent' THEN 'agent_id' ELSE 'user_id' END,
                           CASE WHEN p.k = 'agent' THEN 'uuid' ELSE 'text' END)
            INTO ids;
            found := found || coalesce(ids, '{}');
            ids := ARRAY(SELECT unnest(p.ids) EXCEPT SELECT unnest(found));
        END IF;
        IF cardinality(ids) > 0 AND raw <> '' THEN
            EXECUTE format('SELECT array_agg(DISTINCT e.%1$I::text) FROM analytics.usage_events e '
                           'WHERE e.tenant_id = %2$L AND e.%1$I = ANY (%3$L::%4$s[]) AND (%5$s)',
                           CASE WHEN p.k = 'agent' THEN 'agent_id' ELSE 'user_id' END, p.t, ids,
                           CASE WHEN p.k = 'agent' THEN 'uuid' ELSE 'text' END, raw)
            INTO ids;
            found := found || coalesce(ids, '{}');
        END IF;
        RETURN QUERY SELECT p.k, p.t, f FROM unnest(found) f;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.platform_seen_before(timestamptz, uuid[], uuid[], uuid[], uuid[], text[]) IS
    'Which of the given tenants, agents (with their tenants) and users (tenant, user_id pairs) had an event before from: rollup family rows before the first day of the window (index probes stopping at the first hit), raw events of the days the families may lack and of the first day before from; rows (kind tenant|agent|user, tenant_id, id)';

-------------------------------------------------------------------------------
-- Agents (seed 002: an agent's calls are its agent_execution events)
-------------------------------------------------------------------------------

-- The seed-002 fields of one agent's rows (agent_type_daily's columns),
-- as json: calls, successes, failures, response times, tokens, cost, tool
-- and llm calls.  uptime_percentage: the agent's linked service (§6.5) does
-- not exist yet, so null.
CREATE OR REPLACE FUNCTION analytics.platform_agent_fields(calls numeric, failed numeric, latency analytics.qsketch,
                                                           latency_sum double precision, latency_n numeric,
                                                           input_tokens numeric, output_tokens numeric, cost_usd numeric,
                                                           tool_calls numeric, llm_calls numeric)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lat jsonb := analytics.latency_json(latency);
BEGIN
    calls := coalesce(calls, 0);
    failed := coalesce(failed, 0);
    RETURN jsonb_build_object(
        'total_calls', calls,
        'successful_calls', calls - failed,
        'failed_calls', failed,
        'success_rate', analytics.ratio(calls - failed, calls),
        'response_time_p50', lat -> 'p50',
        'response_time_p95', lat -> 'p95',
        'response_time_p99', lat -> 'p99',
        'avg_response_time', CASE WHEN coalesce(latency_n, 0) > 0 THEN round((latency_sum / latency_n)::numeric, 3) END,
        'uptime_percentage', NULL,
        'input_tokens', coalesce(input_tokens, 0),
        'output_tokens', coalesce(output_tokens, 0),
        'tokens', coalesce(input_tokens, 0) + coalesce(output_tokens, 0),
        'cost_usd', round(coalesce(cost_usd, 0), 6),
        'tool_calls', coalesce(tool_calls, 0),
        'llm_calls', coalesce(llm_calls, 0));
END
$$;
COMMENT ON FUNCTION analytics.platform_agent_fields(numeric, numeric, analytics.qsketch, double precision, numeric, numeric, numeric, numeric, numeric, numeric) IS
    'The seed-002 agent fields (total/successful/failed calls, success_rate, response_time_p50/p95/p99 and avg in ms, uptime_percentage null, input/output tokens, tokens, cost_usd, tool_calls, llm_calls) from summed agent_type_daily values';

CREATE OR REPLACE FUNCTION analytics.agent_analytics(tenant_id uuid, "from" timestamptz, "to" timestamptz, agent_id uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid;
    aname  text;
    result jsonb;
BEGIN
    -- The agent's tenant (for the operator); another tenant's agent reads nothing.
    SELECT a.tenant_id, a.name INTO tid, aname FROM analytics.agents a WHERE a.agent_id = agent_analytics.agent_id;
    IF agent_analytics.tenant_id IS NOT NULL AND tid IS DISTINCT FROM agent_analytics.tenant_id THEN
        tid := NULL;
        aname := NULL;
    END IF;
    WITH f AS MATERIALIZED (
        SELECT r.event_type, r.events, r.failures, r.latency, r.latency_sum, r.latency_n,
               r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid,
                                   CASE WHEN tid IS NOT NULL THEN "from" END, "to") r
        WHERE r.agent_id = agent_analytics.agent_id)
    SELECT jsonb_build_object('tenant_id', coalesce(tid, agent_analytics.tenant_id),
                              'agent_id', agent_analytics.agent_id,
                              'agent_name', aname,
                              'period', analytics.window_json("from", "to"))
        || analytics.platform_agent_fields(
               sum(f.events) FILTER (WHERE f.event_type = 'agent_execution'),
               sum(f.failures) FILTER (WHERE f.event_type = 'agent_execution'),
               analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'agent_execution'),
               sum(f.latency_sum) FILTER (WHERE f.event_type = 'agent_execution'),
               sum(f.latency_n) FILTER (WHERE f.event_type = 'agent_execution'),
               sum(f.input_tokens), sum(f.output_tokens), sum(f.cost_usd),
               sum(f.events) FILTER (WHERE f.event_type = 'tool_call'),
               sum(f.events) FILTER (WHERE f.event_type = 'llm_call'))
    INTO result
    FROM f;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_analytics(uuid, timestamptz, timestamptz, uuid) IS
    'Seed 002''s agent analytics over [from, to) (snake_case): tenant_id (the agent''s), agent_id, agent_name, period, total/successful/failed calls (its agent_execution events), success_rate, response_time_p50/p95/p99 and avg_response_time (execution durations, ms), uptime_percentage (null until services exist), input/output tokens, tokens, cost_usd, tool_calls, llm_calls; tenant NULL: the agent''s tenant, else zeros for an agent of another tenant';

CREATE OR REPLACE FUNCTION analytics.agent_trends(tenant_id uuid, "from" timestamptz, "to" timestamptz, agent_id uuid,
                                                 granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid;
    aname  text;
    hourly boolean := granularity = 'hour';
    result jsonb;
BEGIN
    PERFORM analytics.platform_check_granularity(granularity, "from", "to");
    SELECT a.tenant_id, a.name INTO tid, aname FROM analytics.agents a WHERE a.agent_id = agent_trends.agent_id;
    IF agent_trends.tenant_id IS NOT NULL AND tid IS DISTINCT FROM agent_trends.tenant_id THEN
        tid := NULL;
        aname := NULL;
    END IF;
    -- Day, week and month buckets from agent_type_daily; hour buckets from
    -- the agent's raw events (at most 7 days).
    WITH f AS MATERIALIZED (
        SELECT analytics.platform_bucket(r.bucket, granularity, "from") AS b, r.event_type, r.events, r.failures,
               r.latency, r.latency_sum, r.latency_n, r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid,
                                   CASE WHEN tid IS NOT NULL AND NOT hourly THEN "from" END, "to") r
        WHERE r.agent_id = agent_trends.agent_id
        UNION ALL
        SELECT h.bucket, h.event_type, h.events, h.failures, h.latency, h.latency_sum, h.latency_n,
               h.input_tokens, h.output_tokens, h.cost_usd
        FROM analytics.platform_agent_hours(tid, agent_trends.agent_id, CASE WHEN hourly THEN "from" END, "to") h),
    per AS (
        SELECT f.b,
               analytics.platform_agent_fields(
                   sum(f.events) FILTER (WHERE f.event_type = 'agent_execution'),
                   sum(f.failures) FILTER (WHERE f.event_type = 'agent_execution'),
                   analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'agent_execution'),
                   sum(f.latency_sum) FILTER (WHERE f.event_type = 'agent_execution'),
                   sum(f.latency_n) FILTER (WHERE f.event_type = 'agent_execution'),
                   sum(f.input_tokens), sum(f.output_tokens), sum(f.cost_usd),
                   sum(f.events) FILTER (WHERE f.event_type = 'tool_call'),
                   sum(f.events) FILTER (WHERE f.event_type = 'llm_call')) AS j
        FROM f GROUP BY f.b)
    SELECT jsonb_build_object(
        'tenant_id', coalesce(tid, agent_trends.tenant_id),
        'agent_id', agent_trends.agent_id,
        'agent_name', aname,
        'period', analytics.window_json("from", "to"),
        'granularity', granularity,
        'trends', jsonb_agg(jsonb_build_object('date', analytics.platform_label(g.b, granularity))
                            || coalesce(per.j, analytics.platform_agent_fields(0, 0, NULL, 0, 0, 0, 0, 0, 0, 0))
                            ORDER BY g.b))
    INTO result
    FROM analytics.platform_buckets("from", "to", granularity) g(b)
    LEFT JOIN per ON per.b = g.b;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_trends(uuid, timestamptz, timestamptz, uuid, text) IS
    'Seed 002''s agent analytics per bucket (hour: windows of at most 7 days, from the agent''s raw events; day, week, month: from agent_type_daily): trends [{date, total/successful/failed calls, success_rate, response times, tokens, cost_usd, tool_calls, llm_calls}], every bucket zero-filled, oldest first';

-------------------------------------------------------------------------------
-- The platform (operators)
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.platform_trends(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                    granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    hourly boolean := granularity = 'hour';
    result jsonb;
BEGIN
    PERFORM analytics.platform_check_granularity(granularity, "from", "to");
    -- f: the events per bucket, tenant and agent (agent_type_daily), or per
    -- hour and tenant with the hour's agents (type_hourly); u: the users
    -- per bucket (user_daily, or raw events by hour).
    WITH f AS MATERIALIZED (
        SELECT analytics.platform_bucket(r.bucket, granularity, "from") AS b, r.tenant_id,
               CASE WHEN r.agent_id IS NULL THEN '{}'::uuid[] ELSE ARRAY[r.agent_id] END AS agents,
               r.event_type, r.events, r.failures, r.latency, r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, platform_trends.tenant_id,
                                   CASE WHEN NOT hourly THEN "from" END, "to") r
        UNION ALL
        SELECT r.bucket, r.tenant_id, r.agents, r.event_type, r.events, r.failures, r.latency,
               r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.type_hourly, platform_trends.tenant_id,
                                   CASE WHEN hourly THEN "from" END, "to") r),
    u AS MATERIALIZED (
        SELECT analytics.platform_bucket(r.bucket, granularity, "from") AS b, r.tenant_id, r.user_id
        FROM analytics.read_family(NULL::analytics.user_daily, platform_trends.tenant_id,
                                   CASE WHEN NOT hourly THEN "from" END, "to") r
        UNION
        SELECT h.bucket, h.tenant, h.user_id
        FROM analytics.platform_user_hours(platform_trends.tenant_id, CASE WHEN hourly THEN "from" END, "to") h),
    fa AS MATERIALIZED (
        SELECT f.tenant_id, a, min(f.b) AS b FROM f, unnest(f.agents) a GROUP BY 1, 2),
    ft AS MATERIALIZED (SELECT f.tenant_id, min(f.b) AS b FROM f GROUP BY 1),
    fu AS MATERIALIZED (SELECT u.tenant_id, u.user_id, min(u.b) AS b FROM u GROUP BY 1, 2),
    seen AS MATERIALIZED (
        SELECT s.kind, s.tenant_id, s.id
        FROM analytics.platform_seen_before("from",
                 (SELECT array_agg(ft.tenant_id) FROM ft),
                 (SELECT array_agg(fa.tenant_id) FROM fa), (SELECT array_agg(fa.a) FROM fa),
                 (SELECT array_agg(fu.tenant_id) FROM fu), (SELECT array_agg(fu.user_id) FROM fu)) s),
    nt AS (SELECT ft.b, count(*) AS n FROM ft
           WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.kind = 'tenant' AND s.tenant_id = ft.tenant_id) GROUP BY 1),
    na AS (SELECT fa.b, count(*) AS n FROM fa
           WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.kind = 'agent' AND s.id = fa.a::text) GROUP BY 1),
    nu AS (SELECT fu.b, count(*) AS n FROM fu
           WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.kind = 'user' AND s.tenant_id = fu.tenant_id AND s.id = fu.user_id)
           GROUP BY 1),
    pa AS (SELECT f.b, count(DISTINCT a) AS n FROM f, unnest(f.agents) a GROUP BY 1),
    pu AS (SELECT u.b, count(*) AS n FROM u GROUP BY 1),   -- (u is distinct: UNION)
    pe AS (SELECT f.b, count(DISTINCT f.tenant_id) AS tenants, sum(f.events) AS events, sum(f.failures) AS failures,
                  analytics.quantile(analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'api_call'), 0.95) AS api_p95,
                  sum(f.input_tokens) AS input_tokens, sum(f.output_tokens) AS output_tokens, sum(f.cost_usd) AS cost_usd
           FROM f GROUP BY 1)
    SELECT json_build_object(
        'tenant_id', platform_trends.tenant_id,
        'period', analytics.window_json("from", "to"),
        'granularity', granularity,
        'trends', json_agg(json_build_object(
            'date', analytics.platform_label(g.b, granularity),
            'active_tenants', coalesce(pe.tenants, 0),
            'new_tenants', coalesce(nt.n, 0),
            'active_agents', coalesce(pa.n, 0),
            'new_agents', coalesce(na.n, 0),
            'active_users', coalesce(pu.n, 0),
            'new_users', coalesce(nu.n, 0),
            'events', coalesce(pe.events, 0),
            'failures', coalesce(pe.failures, 0),
            'error_rate', analytics.ratio(pe.failures, pe.events),
            'api_p95', round(pe.api_p95::numeric, 3),
            'input_tokens', coalesce(pe.input_tokens, 0),
            'output_tokens', coalesce(pe.output_tokens, 0),
            'tokens', coalesce(pe.input_tokens + pe.output_tokens, 0),
            'cost_usd', round(coalesce(pe.cost_usd, 0), 6)) ORDER BY g.b))::jsonb
    INTO result
    FROM analytics.platform_buckets("from", "to", granularity) g(b)
    LEFT JOIN pe ON pe.b = g.b
    LEFT JOIN pa ON pa.b = g.b
    LEFT JOIN pu ON pu.b = g.b
    LEFT JOIN nt ON nt.b = g.b
    LEFT JOIN na ON na.b = g.b
    LEFT JOIN nu ON nu.b = g.b;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.platform_trends(uuid, timestamptz, timestamptz, text) IS
    'Seed 002''s platform trends over [from, to) for every tenant (NULL) or one, per bucket (hour: windows of at most 7 days; day, week, month): active and new tenants, agents and users (new: first event ever in the bucket), events, failures, error_rate, api_p95 (ms), input/output tokens, tokens, cost_usd; every bucket zero-filled, oldest first';

CREATE OR REPLACE FUNCTION analytics.dashboard(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- (its dynamic SQL writes instants with %L: in ISO they carry a numeric
-- offset, where SQL or Postgres style writes an abbreviation that the
-- default set may read as another zone, IST for one)
SET datestyle = 'ISO, YMD'
SET jit = off
AS $$
DECLARE
    now_ts     timestamptz := now();
    live       record;
    registered bigint;
    result     jsonb;
BEGIN
    -- Active now: an event in the 15 minutes before now (as activeSessions
    -- of §6.3), from the raw events of those minutes, whatever the period.
    -- (DISTINCT with tenant_id: pushed down to the shards on Citus)
    EXECUTE format('SELECT (SELECT count(*) FROM (SELECT DISTINCT e.tenant_id, e.user_id FROM analytics.usage_events e '
                   '                              WHERE %1$s AND e.user_id IS NOT NULL) x) AS users, '
                   '       (SELECT count(*) FROM (SELECT DISTINCT e.tenant_id, e.agent_id FROM analytics.usage_events e '
                   '                              WHERE %1$s AND e.agent_id IS NOT NULL) x) AS agents, '
                   '       (SELECT count(*) FROM (SELECT DISTINCT e.tenant_id, e.session_id FROM analytics.usage_events e '
                   '                              WHERE %1$s AND e.session_id IS NOT NULL) x) AS sessions',
                   format('e.occurred_at >= %L AND e.occurred_at <= %L', now_ts - interval '15 minutes', now_ts)
                   || CASE WHEN dashboard.tenant_id IS NULL THEN '' ELSE format(' AND e.tenant_id = %L', dashboard.tenant_id) END)
    INTO live;
    SELECT count(*) INTO registered FROM analytics.agents a
    WHERE dashboard.tenant_id IS NULL OR a.tenant_id = dashboard.tenant_id;

    WITH f AS MATERIALIZED (
        SELECT (r.bucket AT TIME ZONE 'UTC')::date AS d, r.tenant_id, r.agent_id, r.event_type, r.events, r.failures,
               r.latency, r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, dashboard.tenant_id, "from", "to") r),
    u AS MATERIALIZED (
        SELECT DISTINCT (r.bucket AT TIME ZONE 'UTC')::date AS d, r.tenant_id, r.user_id
        FROM analytics.read_family(NULL::analytics.user_daily, dashboard.tenant_id, "from", "to") r),
    s AS MATERIALIZED (
        SELECT DISTINCT r.tenant_id, r.session_id
        FROM analytics.read_family(NULL::analytics.session_daily, dashboard.tenant_id, "from", "to") r),
    fa AS MATERIALIZED (SELECT f.tenant_id, f.agent_id FROM f WHERE f.agent_id IS NOT NULL GROUP BY 1, 2),
    fu AS MATERIALIZED (SELECT u.tenant_id, u.user_id FROM u GROUP BY 1, 2),
    seen AS MATERIALIZED (
        SELECT x.kind, x.tenant_id, x.id
        FROM analytics.platform_seen_before("from", NULL,
                 (SELECT array_agg(fa.tenant_id) FROM fa), (SELECT array_agg(fa.agent_id) FROM fa),
                 (SELECT array_agg(fu.tenant_id) FROM fu), (SELECT array_agg(fu.user_id) FROM fu)) x),
    tot AS (
        SELECT sum(f.events) AS events, sum(f.failures) AS failures,
               coalesce(sum(f.events) FILTER (WHERE f.event_type = 'agent_execution'), 0) AS calls,
               coalesce(sum(f.failures) FILTER (WHERE f.event_type = 'agent_execution'), 0) AS calls_failed,
               coalesce(sum(f.input_tokens), 0) AS input_tokens, coalesce(sum(f.output_tokens), 0) AS output_tokens,
               coalesce(sum(f.cost_usd), 0) AS cost_usd,
               analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'api_call') AS api,
               analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'agent_execution') AS executions
        FROM f),
    daily AS (
        SELECT f.d, sum(f.events) AS events, sum(f.failures) AS failures,
               sum(f.input_tokens + f.output_tokens) AS tokens, sum(f.cost_usd) AS cost_usd
        FROM f GROUP BY 1),
    daily_users AS (SELECT u.d, count(*) AS n FROM u GROUP BY 1)
    SELECT jsonb_build_object(
        'tenant_id', dashboard.tenant_id,
        'period', analytics.window_json("from", "to"),
        'current_metrics', jsonb_build_object(
            'users', jsonb_build_object(
                'total', (SELECT count(*) FROM fu),
                'active', live.users,
                'new', (SELECT count(*) FROM fu WHERE NOT EXISTS (SELECT 1 FROM seen x WHERE x.kind = 'user'
                                                                  AND x.tenant_id = fu.tenant_id AND x.id = fu.user_id))),
            'agents', jsonb_build_object(
                'total', (SELECT count(*) FROM fa),
                'active', live.agents,
                'new', (SELECT count(*) FROM fa WHERE NOT EXISTS (SELECT 1 FROM seen x WHERE x.kind = 'agent'
                                                                  AND x.id = fa.agent_id::text)),
                'registered', registered),
            'sessions', jsonb_build_object('total', (SELECT count(*) FROM s), 'active', live.sessions),
            'calls', jsonb_build_object('total', tot.calls, 'failed', tot.calls_failed,
                                        'error_rate', analytics.ratio(tot.calls_failed, tot.calls)),
            'events', jsonb_build_object('total', coalesce(tot.events, 0), 'failed', coalesce(tot.failures, 0),
                                         'error_rate', analytics.ratio(tot.failures, tot.events)),
            'tokens', jsonb_build_object('total', tot.input_tokens + tot.output_tokens,
                                         'input', tot.input_tokens, 'output', tot.output_tokens),
            'cost', jsonb_build_object('total_usd', round(tot.cost_usd, 6))),
        'trends', (SELECT json_agg(json_build_object(
                              'date', to_char(g.d, 'YYYY-MM-DD'),
                              'events', coalesce(dl.events, 0),
                              'failures', coalesce(dl.failures, 0),
                              'tokens', coalesce(dl.tokens, 0),
                              'cost_usd', round(coalesce(dl.cost_usd, 0), 6),
                              'active_users', coalesce(du.n, 0)) ORDER BY g.d)::jsonb
                   FROM (SELECT x::date AS d
                         FROM generate_series(("from" AT TIME ZONE 'UTC')::date::timestamp,
                                              (("to" - interval '1 microsecond') AT TIME ZONE 'UTC')::date::timestamp,
                                              interval '1 day') x) g
                   LEFT JOIN daily dl ON dl.d = g.d
                   LEFT JOIN daily_users du ON du.d = g.d),
        'performance', jsonb_build_object('api_calls', analytics.latency_json(tot.api),
                                          'executions', analytics.latency_json(tot.executions)),
        'monitoring', jsonb_build_object('health', NULL, 'open_incidents', '[]'::jsonb))
    INTO result
    FROM tot;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.dashboard(uuid, timestamptz, timestamptz) IS
    'Seed 002''s dashboard over [from, to) for one tenant or all (NULL), snake_case: current_metrics (users and agents: total = with an event in the period, active = an event in the last 15 minutes, new = first event ever in the period, agents.registered; sessions total/active; calls = agent executions total/failed/error_rate; events; tokens total/input/output; cost total_usd), trends (per UTC day: events, failures, tokens, cost_usd, active_users), performance (api_calls and executions p50/p95/p99 ms), monitoring (health null and open_incidents [] until §6.5/§6.6 exist)';

-------------------------------------------------------------------------------
-- Health of the extension
-------------------------------------------------------------------------------

-- The past days waiting for a rollup: logged changes (days before today),
-- day partitions never rolled up that hold events, and yesterday when not
-- rolled; with the moment each has waited since.
CREATE OR REPLACE FUNCTION analytics.platform_waiting_days()
RETURNS TABLE (day date, waiting_since timestamptz, reason text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today date := analytics.utc_today();
    p     record;
    n     boolean;
BEGIN
    RETURN QUERY
    SELECT c.day, c.changed_at, CASE WHEN c.appended THEN 'appended' ELSE 'changed' END
    FROM analytics.changed_days c WHERE c.day < today;
    FOR p IN SELECT u.day FROM unnest(analytics.platform_unrolled_days(today)) u(day)
             WHERE NOT EXISTS (SELECT 1 FROM analytics.changed_days c WHERE c.day = u.day) LOOP
        -- (LIMIT 1 rather than EXISTS: pushed down to the shards on Citus)
        EXECUTE format('SELECT true FROM analytics.%I LIMIT 1', analytics.partition_name(p.day)) INTO n;
        IF n THEN
            day := p.day;
            waiting_since := (p.day + 1)::timestamp AT TIME ZONE 'UTC';
            reason := 'never rolled';
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.platform_waiting_days() IS
    'Past UTC days waiting for a rollup: days in analytics.changed_days before today (appended or changed, waiting since the change) and day partitions with events that were never rolled up (waiting since the day ended)';

CREATE OR REPLACE FUNCTION analytics.analytics_health()
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts  timestamptz := now();
    version text := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'analytics');
    last    record;
    waiting jsonb;
    late    boolean;
    status  text;
    preloaded boolean;
    worker  record;
BEGIN
    IF NOT analytics.setting('enabled')::boolean THEN
        RETURN jsonb_build_object('status', 'down', 'enabled', false, 'version', version);
    END IF;
    SELECT j.run_id, j.target_date, j.started_at, j.finished_at, j.duration_ms, j.rows, j.status, j.error
    INTO last
    FROM analytics.job_runs j
    WHERE j.job = 'rollup' AND j.status <> 'running'
    ORDER BY j.started_at DESC, j.run_id DESC LIMIT 1;
    SELECT coalesce(jsonb_agg(to_char(w.day, 'YYYY-MM-DD') ORDER BY w.day), '[]'),
           coalesce(bool_or(w.waiting_since < now_ts - interval '1 day'), false)
    INTO waiting, late
    FROM analytics.platform_waiting_days() w;
    status := CASE WHEN last.status = 'failed' OR late THEN 'degraded' ELSE 'ok' END;
    -- The background worker (src/worker.c) of this server, whichever
    -- database it serves (backend_type is visible to every role).
    SELECT a.pid, a.datname, a.backend_start INTO worker
    FROM pg_catalog.pg_stat_activity a
    WHERE a.backend_type = 'analytics worker'
    ORDER BY a.backend_start LIMIT 1;
    BEGIN
        -- (readable by superusers and pg_read_all_settings only)
        preloaded := current_setting('shared_preload_libraries') ~ '(^|[ ,])analytics($|[ ,])';
    EXCEPTION WHEN insufficient_privilege THEN
        preloaded := NULL;
    END;
    RETURN jsonb_build_object(
        'status', status,
        'enabled', true,
        'version', version,
        'last_rollup', CASE WHEN last.run_id IS NULL THEN NULL ELSE jsonb_build_object(
            'run_id', last.run_id,
            'target_date', to_char(last.target_date, 'YYYY-MM-DD'),
            'started_at', analytics.utc_text(last.started_at),
            'finished_at', analytics.utc_text(last.finished_at),
            'duration_ms', round(last.duration_ms::numeric, 3),
            'rows', last.rows,
            'status', last.status,
            'error', last.error) END,
        'days_waiting', jsonb_array_length(waiting),
        'waiting_days', waiting,
        -- (no outbox yet: §6.6 adds it)
        'pending_deliveries', 0,
        'background_worker', jsonb_build_object(
            'running', worker.pid IS NOT NULL,
            'preloaded', preloaded,
            'database', worker.datname,
            'since', analytics.utc_text(worker.backend_start)));
END
$$;
COMMENT ON FUNCTION analytics.analytics_health() IS
    'The health of the extension: status (down: analytics.enabled off; degraded: the last finished rollup run failed, or a past day has waited more than a day for its rollup; else ok), version, the last rollup run, the days waiting for a rollup, pending deliveries (0: no outbox yet), background_worker (running: the analytics worker process is up, from pg_stat_activity; preloaded; the database it serves; since when)';
