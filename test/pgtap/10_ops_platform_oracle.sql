-- Oracle of the seed-002 agent, platform and dashboard answers (contract
-- §6.3): on generated data with rolled, unrolled, late and today's days,
-- new tenants, agents and users first seen on each kind of day, every number
-- of agent_analytics, agent_trends, platform_trends and dashboard equals a
-- plain-SQL computation over analytics.usage_events written here (no
-- family, no reader of the extension), for tenants and the operator, over
-- day windows (Nd, from/to dates) and hour windows (Nh, RFC 3339
-- timestamps).  Percentiles: within 1% of the sketch of the raw rows.
-- Everything holds at any date and hour.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
SET LOCAL analytics.free_tier_access = on;
\ir 06_api.inc

CREATE FUNCTION pg_temp.tid(n integer) RETURNS uuid LANGUAGE sql
AS $$ SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid $$;

-- Call an API function with the given claims (set first, in their own statement).
CREATE FUNCTION pg_temp.call(claims text, call text) RETURNS jsonb LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM set_config('request.jwt.claims', claims, true);
    EXECUTE 'SELECT ' || call INTO r;
    RETURN r;
END
$$;
CREATE FUNCTION pg_temp.tenant_claims(n integer) RETURNS text LANGUAGE sql
AS $$ SELECT json_build_object('tenant_id', pg_temp.tid(n))::text $$;

-- The window [from, to) of an answer's period (dates: whole UTC days).
CREATE FUNCTION pg_temp.wfrom(j jsonb) RETURNS timestamptz LANGUAGE sql
AS $$ SELECT CASE WHEN length(j -> 'period' ->> 'from') = 10 THEN (j -> 'period' ->> 'from')::date::timestamp AT TIME ZONE 'UTC'
                  ELSE (j -> 'period' ->> 'from')::timestamptz END $$;
CREATE FUNCTION pg_temp.wto(j jsonb) RETURNS timestamptz LANGUAGE sql
AS $$ SELECT CASE WHEN length(j -> 'period' ->> 'to') = 10 THEN ((j -> 'period' ->> 'to')::date + 1)::timestamp AT TIME ZONE 'UTC'
                  ELSE (j -> 'period' ->> 'to')::timestamptz END $$;

-- Raw events of one tenant (NULL: all) in [f, t), with their prices.
CREATE FUNCTION pg_temp.ev(tid uuid, f timestamptz, t timestamptz)
RETURNS TABLE (tenant_id uuid, agent_id uuid, occurred_at timestamptz, event_type text, success boolean, count integer,
               latency_ms float8, input_tokens bigint, output_tokens bigint, user_id text, session_id text, cost numeric)
LANGUAGE sql STABLE
AS $$ SELECT e.tenant_id, e.agent_id, e.occurred_at, e.event_type, e.success, e.count, e.latency_ms,
             e.input_tokens, e.output_tokens, e.user_id, e.session_id,
             CASE WHEN e.event_type = 'llm_call' THEN (coalesce(e.input_tokens, 0) * p.input_usd_per_mtok
                                                      + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000 END
      FROM analytics.usage_events e LEFT JOIN analytics.model_prices p ON p.model = e.model
      WHERE (tid IS NULL OR e.tenant_id = tid) AND e.occurred_at >= f AND e.occurred_at < t $$;

-- The bucket label of an instant, written independently: hour, day, week
-- (ISO Monday, not before the window's first day), month (likewise), or
-- 'all' (the whole window).
CREATE FUNCTION pg_temp.ob(ts timestamptz, gran text, f timestamptz) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE gran
    WHEN 'hour' THEN to_char(date_trunc('hour', ts AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')
    WHEN 'day' THEN to_char((ts AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')
    WHEN 'week' THEN to_char(greatest((f AT TIME ZONE 'UTC')::date, date_trunc('week', ts AT TIME ZONE 'UTC')::date), 'YYYY-MM-DD')
    WHEN 'month' THEN to_char(greatest((f AT TIME ZONE 'UTC')::date, date_trunc('month', ts AT TIME ZONE 'UTC')::date), 'YYYY-MM-DD')
    ELSE 'all' END $$;

-- Every bucket label of [f, t).
CREATE FUNCTION pg_temp.labels(f timestamptz, t timestamptz, gran text) RETURNS SETOF text LANGUAGE sql
AS $$ SELECT DISTINCT pg_temp.ob(g, gran, f)
      FROM (SELECT generate_series(f, t - interval '1 microsecond', interval '1 hour') UNION SELECT t - interval '1 microsecond') x(g)
      ORDER BY 1 $$;

CREATE FUNCTION pg_temp.rate(part numeric, whole numeric) RETURNS numeric LANGUAGE sql
AS $$ SELECT CASE WHEN coalesce(whole, 0) = 0 THEN 0 ELSE round(part / whole, 4) END $$;

-- Exact-ness helpers for latencies: a value within 1% (plus rounding) of
-- the quantile of the sketch of the raw rows, both null or neither.
CREATE FUNCTION pg_temp.near(v jsonb, exact float8) RETURNS boolean LANGUAGE sql
AS $$ SELECT CASE WHEN exact IS NULL THEN v IS NULL OR v = 'null'::jsonb
                  ELSE v IS NOT NULL AND v <> 'null'::jsonb AND abs(v::text::float8 - exact) <= 0.01 * abs(exact) + 0.0006 END $$;

-------------------------------------------------------------------------------
-- Oracles
-------------------------------------------------------------------------------

-- An agent's fields per bucket (no latencies), as (label, json).
CREATE FUNCTION pg_temp.o_agent(tid uuid, agent uuid, f timestamptz, t timestamptz, gran text)
RETURNS TABLE (label text, j jsonb) LANGUAGE sql
AS $$
    WITH e AS (SELECT pg_temp.ob(e.occurred_at, gran, f) AS label, e.* FROM pg_temp.ev(tid, f, t) e WHERE e.agent_id = agent),
    g AS (SELECT e.label,
                 coalesce(sum(e.count) FILTER (WHERE e.event_type = 'agent_execution'), 0) AS calls,
                 coalesce(sum(e.count) FILTER (WHERE e.event_type = 'agent_execution' AND e.success), 0) AS ok,
                 coalesce(sum(e.input_tokens), 0) AS i, coalesce(sum(e.output_tokens), 0) AS o,
                 coalesce(sum(e.cost), 0) AS cost,
                 coalesce(sum(e.count) FILTER (WHERE e.event_type = 'tool_call'), 0) AS tools,
                 coalesce(sum(e.count) FILTER (WHERE e.event_type = 'llm_call'), 0) AS llms
          FROM e GROUP BY 1)
    SELECT b.b, jsonb_build_object(
        'total_calls', coalesce(g.calls, 0), 'successful_calls', coalesce(g.ok, 0), 'failed_calls', coalesce(g.calls - g.ok, 0),
        'success_rate', pg_temp.rate(g.ok, g.calls), 'uptime_percentage', NULL,
        'input_tokens', coalesce(g.i, 0), 'output_tokens', coalesce(g.o, 0), 'tokens', coalesce(g.i + g.o, 0),
        'cost_usd', round(coalesce(g.cost, 0), 6), 'tool_calls', coalesce(g.tools, 0), 'llm_calls', coalesce(g.llms, 0))
    FROM pg_temp.labels(f, t, gran) b(b) LEFT JOIN g ON g.label = b.b
$$;

CREATE FUNCTION pg_temp.no_latency(j jsonb) RETURNS jsonb LANGUAGE sql
AS $$ SELECT j - 'response_time_p50' - 'response_time_p95' - 'response_time_p99' - 'avg_response_time' - 'api_p95' $$;

-- Latency fields of an agent's buckets that are off: p50/p95/p99 of its
-- executions, avg within 0.0011 of the exact mean.
CREATE FUNCTION pg_temp.bad_agent_latency(tid uuid, agent uuid, f timestamptz, t timestamptz, gran text, buckets jsonb)
RETURNS bigint LANGUAGE sql
AS $$
    WITH e AS (SELECT pg_temp.ob(e.occurred_at, gran, f) AS label, e.* FROM pg_temp.ev(tid, f, t) e
               WHERE e.agent_id = agent AND e.event_type = 'agent_execution'),
    x AS (SELECT CASE WHEN gran = 'all' THEN 'all' ELSE b ->> 'date' END AS label, b FROM jsonb_array_elements(buckets) b),
    ex AS (SELECT e.label, analytics.qsketch_agg_n(e.latency_ms, e.count::bigint) AS s,
                  sum(e.latency_ms * e.count) / nullif(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL), 0) AS avg
           FROM e GROUP BY 1)
    SELECT count(*) FROM x LEFT JOIN ex ON ex.label = x.label
    WHERE NOT (pg_temp.near(x.b -> 'response_time_p50', analytics.quantile(ex.s, 0.5))
               AND pg_temp.near(x.b -> 'response_time_p95', analytics.quantile(ex.s, 0.95))
               AND pg_temp.near(x.b -> 'response_time_p99', analytics.quantile(ex.s, 0.99))
               AND CASE WHEN ex.avg IS NULL THEN x.b -> 'avg_response_time' = 'null'::jsonb
                        ELSE abs((x.b ->> 'avg_response_time')::float8 - ex.avg) <= 0.0011 END)
$$;

-- agent_analytics without latencies.
CREATE FUNCTION pg_temp.o_agent_analytics(tid uuid, agent uuid, f timestamptz, t timestamptz) RETURNS jsonb LANGUAGE sql
AS $$
    SELECT o.j || jsonb_build_object('tenant_id', a.tenant_id, 'agent_id', a.agent_id, 'agent_name', a.name,
                                     'period', analytics.window_json(f, t))
    FROM pg_temp.o_agent(tid, agent, f, t, 'all') o, analytics.agents a WHERE a.agent_id = agent
$$;

CREATE FUNCTION pg_temp.o_agent_trends(tid uuid, agent uuid, f timestamptz, t timestamptz, gran text) RETURNS jsonb LANGUAGE sql
AS $$
    SELECT jsonb_build_object('tenant_id', a.tenant_id, 'agent_id', a.agent_id, 'agent_name', a.name,
                              'period', analytics.window_json(f, t), 'granularity', gran,
                              'trends', (SELECT jsonb_agg(o.j || jsonb_build_object('date', o.label) ORDER BY o.label)
                                         FROM pg_temp.o_agent(tid, agent, f, t, gran) o))
    FROM analytics.agents a WHERE a.agent_id = agent
$$;

CREATE FUNCTION pg_temp.strip_trends(j jsonb) RETURNS jsonb LANGUAGE sql
AS $$ SELECT jsonb_set(j, '{trends}', (SELECT jsonb_agg(pg_temp.no_latency(x) ORDER BY o)
                                       FROM jsonb_array_elements(j -> 'trends') WITH ORDINALITY v(x, o))) $$;

-- The first event ever of each tenant, agent and (tenant, user), over all raw events.
CREATE FUNCTION pg_temp.firsts(tid uuid) RETURNS TABLE (kind text, tenant_id uuid, id text, first_at timestamptz) LANGUAGE sql
AS $$
    SELECT 'tenant', e.tenant_id, e.tenant_id::text, min(e.occurred_at) FROM analytics.usage_events e
    WHERE tid IS NULL OR e.tenant_id = tid GROUP BY 2
    UNION ALL
    SELECT 'agent', min(e.tenant_id::text)::uuid, e.agent_id::text, min(e.occurred_at) FROM analytics.usage_events e
    WHERE (tid IS NULL OR e.tenant_id = tid) AND e.agent_id IS NOT NULL GROUP BY e.agent_id
    UNION ALL
    SELECT 'user', e.tenant_id, e.user_id, min(e.occurred_at) FROM analytics.usage_events e
    WHERE (tid IS NULL OR e.tenant_id = tid) AND e.user_id IS NOT NULL GROUP BY 2, 3
$$;

-- platform_trends without api_p95.
CREATE FUNCTION pg_temp.o_platform(tid uuid, f timestamptz, t timestamptz, gran text) RETURNS jsonb LANGUAGE sql
AS $$
    WITH e AS (SELECT pg_temp.ob(e.occurred_at, gran, f) AS label, e.* FROM pg_temp.ev(tid, f, t) e),
    g AS (SELECT e.label, count(DISTINCT e.tenant_id) AS tenants, count(DISTINCT e.agent_id) AS agents,
                 count(DISTINCT (e.tenant_id, e.user_id)) FILTER (WHERE e.user_id IS NOT NULL) AS users,
                 sum(e.count) AS events, coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0) AS failures,
                 coalesce(sum(e.input_tokens), 0) AS i, coalesce(sum(e.output_tokens), 0) AS o, coalesce(sum(e.cost), 0) AS cost
          FROM e GROUP BY 1),
    n AS (SELECT pg_temp.ob(x.first_at, gran, f) AS label,
                 count(*) FILTER (WHERE x.kind = 'tenant') AS tenants, count(*) FILTER (WHERE x.kind = 'agent') AS agents,
                 count(*) FILTER (WHERE x.kind = 'user') AS users
          FROM pg_temp.firsts(tid) x WHERE x.first_at >= f AND x.first_at < t GROUP BY 1)
    SELECT jsonb_build_object('tenant_id', tid, 'period', analytics.window_json(f, t), 'granularity', gran,
        'trends', jsonb_agg(jsonb_build_object(
            'date', b.b,
            'active_tenants', coalesce(g.tenants, 0), 'new_tenants', coalesce(n.tenants, 0),
            'active_agents', coalesce(g.agents, 0), 'new_agents', coalesce(n.agents, 0),
            'active_users', coalesce(g.users, 0), 'new_users', coalesce(n.users, 0),
            'events', coalesce(g.events, 0), 'failures', coalesce(g.failures, 0),
            'error_rate', pg_temp.rate(g.failures, g.events),
            'input_tokens', coalesce(g.i, 0), 'output_tokens', coalesce(g.o, 0), 'tokens', coalesce(g.i + g.o, 0),
            'cost_usd', round(coalesce(g.cost, 0), 6)) ORDER BY b.b))
    FROM pg_temp.labels(f, t, gran) b(b) LEFT JOIN g ON g.label = b.b LEFT JOIN n ON n.label = b.b
$$;

CREATE FUNCTION pg_temp.bad_api_p95(tid uuid, f timestamptz, t timestamptz, gran text, buckets jsonb) RETURNS bigint LANGUAGE sql
AS $$
    WITH ex AS (SELECT pg_temp.ob(e.occurred_at, gran, f) AS label, analytics.qsketch_agg_n(e.latency_ms, e.count::bigint) AS s
                FROM pg_temp.ev(tid, f, t) e WHERE e.event_type = 'api_call' GROUP BY 1)
    SELECT count(*) FROM jsonb_array_elements(buckets) b LEFT JOIN ex ON ex.label = b ->> 'date'
    WHERE NOT pg_temp.near(b -> 'api_p95', analytics.quantile(ex.s, 0.95))
$$;

-- dashboard without its performance percentiles.
CREATE FUNCTION pg_temp.o_dashboard(tid uuid, f timestamptz, t timestamptz) RETURNS jsonb LANGUAGE sql
AS $$
    WITH e AS (SELECT * FROM pg_temp.ev(tid, f, t)),
    live AS (SELECT * FROM pg_temp.ev(tid, now() - interval '15 minutes', now() + interval '1 microsecond')),
    n AS (SELECT count(*) FILTER (WHERE x.kind = 'agent') AS agents, count(*) FILTER (WHERE x.kind = 'user') AS users
          FROM pg_temp.firsts(tid) x WHERE x.first_at >= f AND x.first_at < t),
    s AS (SELECT coalesce(sum(count), 0) AS events, coalesce(sum(count) FILTER (WHERE NOT success), 0) AS failures,
                 coalesce(sum(count) FILTER (WHERE event_type = 'agent_execution'), 0) AS calls,
                 coalesce(sum(count) FILTER (WHERE event_type = 'agent_execution' AND NOT success), 0) AS calls_failed,
                 coalesce(sum(input_tokens), 0) AS i, coalesce(sum(output_tokens), 0) AS o, coalesce(sum(cost), 0) AS cost,
                 count(DISTINCT (tenant_id, user_id)) FILTER (WHERE user_id IS NOT NULL) AS users,
                 count(DISTINCT agent_id) AS agents,
                 count(DISTINCT (tenant_id, session_id)) FILTER (WHERE session_id IS NOT NULL) AS sessions
          FROM e),
    d AS (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, sum(count) AS events,
                 coalesce(sum(count) FILTER (WHERE NOT success), 0) AS failures,
                 coalesce(sum(input_tokens), 0) + coalesce(sum(output_tokens), 0) AS tokens, coalesce(sum(cost), 0) AS cost,
                 count(DISTINCT (tenant_id, user_id)) FILTER (WHERE user_id IS NOT NULL) AS users
          FROM e GROUP BY 1)
    SELECT jsonb_build_object(
        'tenant_id', tid, 'period', analytics.window_json(f, t),
        'current_metrics', jsonb_build_object(
            'users', jsonb_build_object('total', s.users, 'new', n.users,
                                        'active', (SELECT count(DISTINCT (tenant_id, user_id)) FROM live WHERE user_id IS NOT NULL)),
            'agents', jsonb_build_object('total', s.agents, 'new', n.agents,
                                         'active', (SELECT count(DISTINCT agent_id) FROM live),
                                         'registered', (SELECT count(*) FROM analytics.agents a WHERE tid IS NULL OR a.tenant_id = tid)),
            'sessions', jsonb_build_object('total', s.sessions,
                                           'active', (SELECT count(DISTINCT (tenant_id, session_id)) FROM live WHERE session_id IS NOT NULL)),
            'calls', jsonb_build_object('total', s.calls, 'failed', s.calls_failed, 'error_rate', pg_temp.rate(s.calls_failed, s.calls)),
            'events', jsonb_build_object('total', s.events, 'failed', s.failures, 'error_rate', pg_temp.rate(s.failures, s.events)),
            'tokens', jsonb_build_object('total', s.i + s.o, 'input', s.i, 'output', s.o),
            'cost', jsonb_build_object('total_usd', round(s.cost, 6))),
        'trends', (SELECT jsonb_agg(jsonb_build_object('date', to_char(g.day, 'YYYY-MM-DD'),
                                                       'events', coalesce(d.events, 0), 'failures', coalesce(d.failures, 0),
                                                       'tokens', coalesce(d.tokens, 0), 'cost_usd', round(coalesce(d.cost, 0), 6),
                                                       'active_users', coalesce(d.users, 0)) ORDER BY g.day)
                   FROM (SELECT x::date AS day FROM generate_series((f AT TIME ZONE 'UTC')::date,
                                                                    ((t - interval '1 microsecond') AT TIME ZONE 'UTC')::date,
                                                                    interval '1 day') x) g
                   LEFT JOIN d ON d.day = g.day),
        'monitoring', jsonb_build_object('health', NULL, 'open_incidents', '[]'::jsonb))
    FROM s, n
$$;

CREATE FUNCTION pg_temp.bad_dashboard_latency(tid uuid, f timestamptz, t timestamptz, j jsonb) RETURNS bigint LANGUAGE sql
AS $$
    SELECT count(*)
    FROM (VALUES ('api_calls', 'api_call'), ('executions', 'agent_execution')) k(key, etype)
    CROSS JOIN LATERAL (SELECT analytics.qsketch_agg_n(e.latency_ms, e.count::bigint) AS s
                        FROM pg_temp.ev(tid, f, t) e WHERE e.event_type = k.etype) ex
    CROSS JOIN LATERAL (VALUES ('p50', 0.5), ('p95', 0.95), ('p99', 0.99)) q(k, p)
    WHERE NOT pg_temp.near(j -> 'performance' -> k.key -> q.k, analytics.quantile(ex.s, q.p))
$$;

-------------------------------------------------------------------------------
-- The data
-------------------------------------------------------------------------------
-- 21 days ending today; prices for three models (llama stays unpriced);
-- days -20..-12 and -6 rolled up; late events on rolled day -15; new
-- entities first seen on: rolled day -18 (rolled again after them), rolled
-- day -16 (appended after its rollup), unrolled day -10, today; events in the
-- last minutes for the "active" counts.
SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(6000, 21, pg_temp.today(), 0.31)$$, 'generate 21 days');
-- (one global price per model, in force since -infinity: model_prices is a
-- history since 0.5.0; the spans follow a direct write when refreshed)
DELETE FROM analytics.model_prices WHERE model IN ('gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4');
INSERT INTO analytics.model_prices (model, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('gpt-4o', 2.5, 10), ('gpt-4o-mini', 0.15, 0.6), ('claude-sonnet-4', 3, 15);
SELECT analytics.refresh_price_spans() IS NOT NULL AS spans_refreshed \gset
SELECT lives_ok($$SELECT analytics.upsert_tenant('00000000-0000-4000-8000-0000000000a1', 'New Pro', 'pro')$$, 'a new tenant a1');
SELECT lives_ok($$SELECT analytics.upsert_tenant('00000000-0000-4000-8000-0000000000b2', 'Newest', 'enterprise')$$, 'a new tenant b2');
SELECT lives_ok($$SELECT analytics.run_rollup(d::date) FROM generate_series(pg_temp.today() - 20, pg_temp.today() - 12, interval '1 day') d$$,
                'roll up days -20..-12');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 6)$$, 'roll up day -6');

CREATE FUNCTION pg_temp.at(day integer, minutes integer) RETURNS timestamptz LANGUAGE sql
AS $$ SELECT (pg_temp.today() + day)::timestamp AT TIME ZONE 'UTC' + make_interval(mins => minutes) $$;
CREATE FUNCTION pg_temp.e(tenant text, agent text, ts timestamptz, etype text, ok boolean, lat float8, usr text, sess text,
                          model text DEFAULT NULL, itok bigint DEFAULT NULL, otok bigint DEFAULT NULL) RETURNS jsonb LANGUAGE sql
AS $$ SELECT jsonb_strip_nulls(jsonb_build_object('tenant_id', tenant, 'agent_id', agent, 'occurred_at', ts, 'event_type', etype,
                                                 'success', ok, 'latency_ms', lat, 'user_id', usr, 'session_id', sess,
                                                 'model', model, 'input_tokens', itok, 'output_tokens', otok)) $$;

SELECT is(analytics.record_events(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
              'tenant_id', tenant_id, 'agent_id', agent_id, 'occurred_at', occurred_at + interval '7 minutes',
              'event_type', event_type, 'success', NOT success, 'count', count + 1, 'endpoint', endpoint,
              'method', method, 'latency_ms', latency_ms * 3, 'user_id', user_id, 'session_id', session_id,
              'model', model, 'input_tokens', input_tokens, 'output_tokens', output_tokens)))), count(*),
          'late events on rolled day -15 (record_events)')
FROM analytics.usage_events
WHERE occurred_at >= (pg_temp.today() - 15)::timestamp AT TIME ZONE 'UTC'
  AND occurred_at < (pg_temp.today() - 14)::timestamp AT TIME ZONE 'UTC'
  AND extract(minute FROM occurred_at) < 20;

-- Day -18: a new agent of tenant 4 and a new user of tenant 4, rolled up with the day.
SELECT is(analytics.record_events(jsonb_build_array(
    pg_temp.e(pg_temp.tid(4)::text, '00000000-0000-4000-9004-0000000000ab', pg_temp.at(-18, 600), 'agent_execution', true, 1234.5, 'user-new-4', NULL),
    pg_temp.e(pg_temp.tid(4)::text, '00000000-0000-4000-9004-0000000000ab', pg_temp.at(-18, 610), 'llm_call', true, 800, 'user-new-4', 'sess-new-4',
              'gpt-4o', 1500, 300))), 2::bigint, 'new agent ab and user-new-4 of tenant 4 on day -18');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 18)$$, 'roll up day -18 again (the new entities are in the families)');
-- Day -16 (rolled, appended after), -10 (never rolled), -3, -2, today.
SELECT is(analytics.record_events(jsonb_build_array(
    pg_temp.e(pg_temp.tid(2)::text, '00000000-0000-4000-9002-0000000000aa', pg_temp.at(-16, 300), 'agent_execution', false, 2200, 'user-new-2', NULL),
    pg_temp.e(pg_temp.tid(2)::text, '00000000-0000-4000-9002-0000000000aa', pg_temp.at(-3, 300), 'agent_execution', true, 1800, 'user-new-2', NULL),
    pg_temp.e(pg_temp.tid(2)::text, '00000000-0000-4000-9002-0000000000aa', pg_temp.at(-3, 320), 'tool_call', true, 90, 'user-new-2', 'sess-new-2'),
    pg_temp.e('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-90a1-000000000001', pg_temp.at(-10, 700), 'agent_execution', true, 3000, 'user-a1', NULL),
    pg_temp.e('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-90a1-000000000001', pg_temp.at(-10, 705), 'llm_call', true, 900, 'user-a1', 'sess-a1',
              'claude-sonnet-4', 2000, 500),
    pg_temp.e('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-90a1-000000000001', pg_temp.at(-2, 705), 'api_call', true, 40, 'user-a1', NULL),
    pg_temp.e(pg_temp.tid(1)::text, '00000000-0000-4000-9001-000000000001', pg_temp.at(-10, 100), 'agent_execution', true, 5000, 'user-new-3', NULL),
    pg_temp.e(pg_temp.tid(1)::text, '00000000-0000-4000-9001-000000000001', pg_temp.at(-2, 100), 'agent_execution', false, 7000, 'user-new-3', NULL),
    pg_temp.e(pg_temp.tid(1)::text, '00000000-0000-4000-9001-000000000002', pg_temp.at(-6, 200), 'api_call', true, 25, 'user-new-1', NULL),
    pg_temp.e(pg_temp.tid(4)::text, '00000000-0000-4000-9004-0000000000ab', pg_temp.at(-2, 200), 'agent_execution', true, 999, 'user-new-4', NULL))),
    10::bigint, 'new and returning entities on days -16, -10, -6, -3, -2');
SELECT is(analytics.record_events(jsonb_build_array(
    pg_temp.e('00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-90b2-000000000001', now() - interval '3 minutes', 'agent_execution', true, 1500, 'user-b2', 'sess-b2'),
    pg_temp.e('00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-90b2-000000000001', now() - interval '2 minutes', 'api_call', false, 75, 'user-b2', 'sess-b2'),
    pg_temp.e(pg_temp.tid(3)::text, '00000000-0000-4000-9003-000000000001', now() - interval '4 minutes', 'llm_call', true, 600, 'user-new-5', 'sess-new-5',
              'gpt-4o-mini', 700, 90),
    pg_temp.e(pg_temp.tid(1)::text, '00000000-0000-4000-9001-000000000003', now() - interval '20 minutes', 'tool_call', true, 50, 'user-007', 'sess-77'),
    pg_temp.e(pg_temp.tid(1)::text, '00000000-0000-4000-9001-000000000001', now() - interval '1 minute', 'agent_execution', true, 4321, 'user-008', 'sess-78'))),
    5::bigint, 'events of the last minutes: a brand-new tenant b2, a new user of tenant 3, tenant 1');

-- Where the days stand.
SELECT ok(NOT analytics.day_is_clean(pg_temp.today() - 15) AND NOT analytics.day_is_clean(pg_temp.today() - 16)
          AND analytics.day_is_clean(pg_temp.today() - 18) AND analytics.day_is_clean(pg_temp.today() - 13)
          AND NOT EXISTS (SELECT 1 FROM analytics.rollup_days WHERE day = pg_temp.today() - 10),
          'rolled clean (-18, -13), rolled with late events (-15, -16), never rolled (-10) days');

-------------------------------------------------------------------------------
-- agent_analytics and agent_trends
-------------------------------------------------------------------------------
-- The agents: the busiest of each tenant, and the new ones.
CREATE TEMP TABLE agents_under_test AS
SELECT a.tenant_id, a.agent_id FROM analytics.agents a
WHERE a.agent_id IN ('00000000-0000-4000-9001-000000000001', '00000000-0000-4000-9002-000000000001',
                     '00000000-0000-4000-9003-000000000002', '00000000-0000-4000-9004-000000000001',
                     '00000000-0000-4000-9005-000000000001', '00000000-0000-4000-9006-000000000001',
                     '00000000-0000-4000-9002-0000000000aa', '00000000-0000-4000-9004-0000000000ab',
                     '00000000-0000-4000-90a1-000000000001', '00000000-0000-4000-90b2-000000000001');
SELECT is((SELECT count(*) FROM agents_under_test), 10::bigint, 'ten agents under test');

-- Windows: (API arguments, what).
CREATE TEMP TABLE windows (args text, what text);
INSERT INTO windows VALUES
    ('', 'default period'),
    ('period => ''21d''', '21d: rolled, late, unrolled, today'),
    ('"from" => ''' || pg_temp.d(-20) || ''', "to" => ''' || pg_temp.d(-12) || '''', 'from/to dates over rolled days'),
    ('"from" => ''' || pg_temp.d(-16) || ''', "to" => ''' || pg_temp.d(-15) || '''', 'rolled days with late events'),
    ('"from" => ''' || pg_temp.d(-11) || ''', "to" => ''' || pg_temp.d(-7) || '''', 'unrolled days'),
    ('days => ''1''', 'today'),
    ('period => ''30h''', '30h'),
    ('hours => ''5''', 'hours=5'),
    ('"from" => ''' || to_char(now() - interval '50 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ''', "to" => '''
                    || to_char(now() - interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '''', 'RFC 3339 timestamps');

CREATE FUNCTION pg_temp.claims_of(tid uuid) RETURNS text LANGUAGE sql
AS $$ SELECT json_build_object('tenant_id', tid)::text $$;

-- Every agent, window and caller: the tenant's token, the operator over
-- every tenant, the operator naming the tenant.
CREATE TEMP TABLE callers AS
SELECT x.tenant_id, x.agent_id, c.claims, c.who, c.extra
FROM agents_under_test x
CROSS JOIN LATERAL (VALUES (pg_temp.claims_of(x.tenant_id), 'tenant', ''), ('', 'operator', ''),
                           ('', 'operator naming the tenant', format(', "tenantId" => %L', x.tenant_id))) c(claims, who, extra);

CREATE TEMP TABLE aa AS
SELECT c.tenant_id, c.agent_id, c.who, w.what,
       pg_temp.call(c.claims, format('analytics_api.agent_analytics("agentId" => %L%s%s)', c.agent_id,
                                     CASE WHEN w.args = '' THEN '' ELSE ', ' || w.args END, c.extra)) AS j
FROM callers c CROSS JOIN windows w;

SELECT is(pg_temp.no_latency(a.j),
          pg_temp.o_agent_analytics(a.tenant_id, a.agent_id, pg_temp.wfrom(a.j), pg_temp.wto(a.j)),
          format('agent_analytics = oracle: agent %s, %s, %s', a.agent_id, a.who, a.what))
FROM aa a ORDER BY a.agent_id, a.who, a.what;
SELECT is(pg_temp.bad_agent_latency(a.tenant_id, a.agent_id, pg_temp.wfrom(a.j), pg_temp.wto(a.j), 'all', jsonb_build_array(a.j)), 0::bigint,
          format('agent_analytics response times within 1%%: agent %s, %s, %s', a.agent_id, a.who, a.what))
FROM aa a ORDER BY a.agent_id, a.who, a.what;
SELECT ok((SELECT count(*) FROM aa WHERE (j ->> 'total_calls')::bigint > 0 AND (j ->> 'failed_calls')::bigint > 0
                                     AND (j ->> 'cost_usd')::numeric > 0 AND j ->> 'response_time_p95' IS NOT NULL) > 10,
          'agent_analytics answers have calls, failures, cost and latencies');
SELECT is((SELECT count(*) FROM aa WHERE j ->> 'uptime_percentage' IS NOT NULL), 0::bigint,
          'uptime_percentage is null (no services yet)');

-- agent_trends: every granularity, day and hour windows.
CREATE TEMP TABLE twindows (args text, gran text, what text);
INSERT INTO twindows VALUES
    ('', 'day', 'default (30d, day)'),
    ('period => ''21d'', granularity => ''day''', 'day', '21d by day'),
    ('period => ''21d'', granularity => ''week''', 'week', '21d by week'),
    ('period => ''60d'', granularity => ''month''', 'month', '60d by month'),
    ('"from" => ''' || pg_temp.d(-17) || ''', "to" => ''' || pg_temp.d(-9) || ''', granularity => ''week''', 'week', 'from/to dates by week'),
    ('period => ''30h'', granularity => ''hour''', 'hour', '30h by hour'),
    ('period => ''30h''', 'day', '30h by day'),
    ('"from" => ''' || to_char(now() - interval '50 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ''', "to" => '''
                    || to_char(now() - interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ''', granularity => ''hour''', 'hour', 'RFC 3339 by hour'),
    ('period => ''7d'', granularity => ''hour''', 'hour', '7d by hour');

CREATE TEMP TABLE at AS
SELECT c.tenant_id, c.agent_id, c.who, w.what, w.gran,
       pg_temp.call(c.claims, format('analytics_api.agent_trends("agentId" => %L%s%s)', c.agent_id,
                                     CASE WHEN w.args = '' THEN '' ELSE ', ' || w.args END, c.extra)) AS j
FROM callers c CROSS JOIN twindows w
WHERE c.who <> 'operator naming the tenant' OR w.gran = 'day';

SELECT is(pg_temp.strip_trends(a.j),
          pg_temp.o_agent_trends(a.tenant_id, a.agent_id, pg_temp.wfrom(a.j), pg_temp.wto(a.j), a.gran),
          format('agent_trends = oracle: agent %s, %s, %s', a.agent_id, a.who, a.what))
FROM at a ORDER BY a.agent_id, a.who, a.what;
SELECT is(pg_temp.bad_agent_latency(a.tenant_id, a.agent_id, pg_temp.wfrom(a.j), pg_temp.wto(a.j), a.gran, a.j -> 'trends'), 0::bigint,
          format('agent_trends response times within 1%%: agent %s, %s, %s', a.agent_id, a.who, a.what))
FROM at a ORDER BY a.agent_id, a.who, a.what;
SELECT is((SELECT count(*) FROM at WHERE gran = 'hour' AND what = '7d by hour'
                                     AND jsonb_array_length(j -> 'trends') NOT IN (168, 169)), 0::bigint,
          'a 7d window has 168 or 169 hour buckets');

-- The typed twins agree with the API.
SELECT is(analytics.agent_analytics(NULL, pg_temp.wfrom(j), pg_temp.wto(j), agent_id), j,
          'analytics.agent_analytics (tenant NULL) = the API answer: ' || agent_id)
FROM aa WHERE who = 'operator' AND what = '21d: rolled, late, unrolled, today' ORDER BY agent_id;
SELECT is(analytics.agent_analytics(pg_temp.tid(3), now() - interval '1 day', now(), '00000000-0000-4000-9001-000000000001') ->> 'total_calls',
          '0', 'analytics.agent_analytics of another tenant''s agent reads nothing');

-------------------------------------------------------------------------------
-- platform_trends
-------------------------------------------------------------------------------
CREATE TEMP TABLE pt AS
SELECT w.what, w.gran, t.tenant_id,
       pg_temp.call('', format('analytics_api.platform_trends(%s)',
                               concat_ws(', ', nullif(w.args, ''),
                                         CASE WHEN t.tenant_id IS NOT NULL THEN format('"tenantId" => %L', t.tenant_id) END))) AS j
FROM twindows w
CROSS JOIN (SELECT NULL::uuid AS tenant_id UNION ALL SELECT pg_temp.tid(n) FROM generate_series(1, 6) n
            UNION ALL SELECT '00000000-0000-4000-8000-0000000000a1' UNION ALL SELECT '00000000-0000-4000-8000-0000000000b2') t;

SELECT is(pg_temp.strip_trends(p.j), pg_temp.o_platform(p.tenant_id, pg_temp.wfrom(p.j), pg_temp.wto(p.j), p.gran),
          format('platform_trends = oracle: %s, %s', coalesce(p.tenant_id::text, 'every tenant'), p.what))
FROM pt p ORDER BY p.tenant_id NULLS FIRST, p.what;
SELECT is(pg_temp.bad_api_p95(p.tenant_id, pg_temp.wfrom(p.j), pg_temp.wto(p.j), p.gran, p.j -> 'trends'), 0::bigint,
          format('platform_trends api_p95 within 1%%: %s, %s', coalesce(p.tenant_id::text, 'every tenant'), p.what))
FROM pt p ORDER BY p.tenant_id NULLS FIRST, p.what;
SELECT ok((SELECT sum((b ->> 'new_tenants')::int) FROM pt, jsonb_array_elements(j -> 'trends') b
           WHERE tenant_id IS NULL AND what = '21d by day') >= 2, 'new tenants show up (a1 on day -10, b2 in the last minutes)');
SELECT ok((SELECT sum((b ->> 'new_agents')::int) FROM pt, jsonb_array_elements(j -> 'trends') b
           WHERE tenant_id IS NULL AND what = '21d by day') >= 4, 'new agents show up');
SELECT ok((SELECT sum((b ->> 'new_users')::int) FROM pt, jsonb_array_elements(j -> 'trends') b
           WHERE tenant_id IS NULL AND what = '21d by day') >= 5, 'new users show up');
SELECT ok((SELECT count(*) FROM pt, jsonb_array_elements(j -> 'trends') b
           WHERE tenant_id IS NULL AND what = '7d by hour' AND (b ->> 'events')::int > 0) > 20, 'hour buckets hold events');
-- Windows starting after new entities' first day (rolled day -18 for agent
-- ab and user-new-4, appended day -16 for agent aa, unrolled day -10 for
-- tenant a1): returning, not new.
SELECT is(pg_temp.strip_trends(analytics.platform_trends(t.tid, pg_temp.at(s.day, 0), pg_temp.at(1, 0), 'day')),
          pg_temp.o_platform(t.tid, pg_temp.at(s.day, 0), pg_temp.at(1, 0), 'day'),
          format('platform_trends (typed) = oracle from day %s: %s', s.day, coalesce(t.tid::text, 'every tenant')))
FROM (VALUES (-17), (-15), (-9)) s(day)
CROSS JOIN (VALUES (NULL::uuid), (pg_temp.tid(2)), (pg_temp.tid(4)), ('00000000-0000-4000-8000-0000000000a1')) t(tid)
ORDER BY s.day, t.tid NULLS FIRST;

-------------------------------------------------------------------------------
-- dashboard
-------------------------------------------------------------------------------
CREATE TEMP TABLE dw (args text, what text);
INSERT INTO dw VALUES ('', 'default 7d'), ('period => ''21d''', '21d'), ('period => ''30h''', '30h'),
    ('"from" => ''' || pg_temp.d(-16) || ''', "to" => ''' || pg_temp.d(-9) || '''', 'from/to dates'),
    ('start_date => ''' || to_char(now() - interval '40 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '''', 'start_date timestamp');
CREATE TEMP TABLE db AS
SELECT w.what, t.tenant_id, t.claims,
       pg_temp.call(t.claims, format('analytics_api.dashboard(%s)', concat_ws(', ', nullif(w.args, ''), t.extra))) AS j
FROM dw w
CROSS JOIN (SELECT NULL::uuid AS tenant_id, '' AS claims, NULL AS extra
            UNION ALL SELECT pg_temp.tid(n), pg_temp.claims_of(pg_temp.tid(n)), NULL FROM generate_series(1, 6) n
            UNION ALL SELECT '00000000-0000-4000-8000-0000000000b2', '', '"tenantId" => ''00000000-0000-4000-8000-0000000000b2''') t;

SELECT is(d.j - 'performance', pg_temp.o_dashboard(d.tenant_id, pg_temp.wfrom(d.j), pg_temp.wto(d.j)),
          format('dashboard = oracle: %s, %s', coalesce(d.tenant_id::text, 'every tenant'), d.what))
FROM db d ORDER BY d.tenant_id NULLS FIRST, d.what;
SELECT is(pg_temp.bad_dashboard_latency(d.tenant_id, pg_temp.wfrom(d.j), pg_temp.wto(d.j), d.j), 0::bigint,
          format('dashboard performance within 1%%: %s, %s', coalesce(d.tenant_id::text, 'every tenant'), d.what))
FROM db d ORDER BY d.tenant_id NULLS FIRST, d.what;
SELECT ok((SELECT (j -> 'current_metrics' -> 'users' ->> 'active')::int >= 2 AND (j -> 'current_metrics' -> 'sessions' ->> 'active')::int >= 2
           FROM db WHERE tenant_id IS NULL AND what = '21d'), 'the operator''s dashboard counts the users and sessions of the last 15 minutes');
SELECT is((SELECT j -> 'monitoring' FROM db WHERE tenant_id IS NULL AND what = '21d'), '{"health": null, "open_incidents": []}'::jsonb,
          'monitoring: health null, no open incidents (services and alerts come later)');

-------------------------------------------------------------------------------
-- analytics_health (operator): days waiting = an oracle over the raw events
-------------------------------------------------------------------------------
SELECT pg_temp.claims('');
SELECT is(analytics_api.analytics_health() -> 'waiting_days',
          (SELECT jsonb_agg(to_char(d, 'YYYY-MM-DD') ORDER BY d)
           FROM (SELECT c.day AS d FROM analytics.changed_days c WHERE c.day < pg_temp.today()
                 UNION
                 SELECT DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date FROM analytics.usage_events e
                 WHERE e.occurred_at < pg_temp.today()::timestamp AT TIME ZONE 'UTC'
                   AND NOT EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = (e.occurred_at AT TIME ZONE 'UTC')::date)) x),
          'health: the days waiting are the changed and the never-rolled past days with events');
SELECT is(analytics_api.analytics_health() ->> 'status', 'degraded', 'health: degraded (unrolled days older than a day)');
SELECT is(analytics_api.analytics_health() -> 'last_rollup' ->> 'target_date', pg_temp.d(-18), 'health: the last rollup run is day -18''s');

SELECT * FROM finish();
ROLLBACK;
