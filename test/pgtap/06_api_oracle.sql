-- API oracle: on generated data with some days rolled up, a late event on a
-- rolled day, events of today and events in the default partition, every
-- number every API function returns equals a plain-SQL computation over the
-- raw events, written here independently of the extension's readers.
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

-- Call an API function as tenant idx (claims set first, in their own statement).
CREATE FUNCTION pg_temp.api_as(idx integer, call text) RETURNS jsonb LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM pg_temp.as_tenant(idx);
    EXECUTE 'SELECT ' || call INTO r;
    RETURN r;
END
$$;

-- Raw events of a tenant in [f, t].
CREATE FUNCTION pg_temp.ev(tid uuid, f date, t date)
RETURNS SETOF analytics.usage_events LANGUAGE sql STABLE
AS $$ SELECT * FROM analytics.usage_events e WHERE e.tenant_id = tid
      AND (e.occurred_at AT TIME ZONE 'UTC')::date BETWEEN f AND t $$;

CREATE FUNCTION pg_temp.period(f date, t date) RETURNS jsonb LANGUAGE sql
AS $$ SELECT jsonb_build_object('from', to_char(f, 'YYYY-MM-DD'), 'to', to_char(t, 'YYYY-MM-DD')) $$;

CREATE FUNCTION pg_temp.o_summary(tid uuid, f date, t date) RETURNS jsonb LANGUAGE sql
AS $$
    WITH e AS (SELECT * FROM pg_temp.ev(tid, f, t)),
    d AS (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, sum(count) AS api FROM e WHERE event_type = 'api_call' GROUP BY 1),
    s AS (SELECT coalesce(sum(count) FILTER (WHERE event_type = 'api_call'), 0) AS api,
                 coalesce(sum(count) FILTER (WHERE event_type = 'token_issuance'), 0) AS tok,
                 coalesce(sum(count) FILTER (WHERE event_type = 'credential_rotation'), 0) AS rot,
                 count(DISTINCT agent_id) AS agents FROM e)
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t),
        'summary', jsonb_build_object('totalApiCalls', s.api, 'totalTokenIssuances', s.tok, 'totalCredentialRotations', s.rot,
            'activeAgentCount', s.agents, 'averageDailyApiCalls', floor(s.api / (t - f + 1)),
            'peakDailyApiCalls', coalesce((SELECT max(api) FROM d), 0),
            'peakDate', (SELECT to_char(day, 'YYYY-MM-DD') FROM d ORDER BY api DESC, day LIMIT 1)))
    FROM s
$$;

CREATE FUNCTION pg_temp.o_agent_activity(tid uuid, f date, t date, agent uuid) RETURNS jsonb LANGUAGE sql
AS $$
    WITH e AS (SELECT * FROM pg_temp.ev(tid, f, t) WHERE agent_id IS NOT NULL),
    ids AS (SELECT agent AS id WHERE agent IS NOT NULL UNION SELECT DISTINCT agent_id FROM e WHERE agent IS NULL),
    per AS (
        SELECT ids.id, jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'),
                   'apiCalls', (SELECT coalesce(sum(count), 0) FROM e WHERE e.agent_id = ids.id AND event_type = 'api_call' AND (occurred_at AT TIME ZONE 'UTC')::date = g),
                   'tokenIssuances', (SELECT coalesce(sum(count), 0) FROM e WHERE e.agent_id = ids.id AND event_type = 'token_issuance' AND (occurred_at AT TIME ZONE 'UTC')::date = g),
                   'credentialRotations', (SELECT coalesce(sum(count), 0) FROM e WHERE e.agent_id = ids.id AND event_type = 'credential_rotation' AND (occurred_at AT TIME ZONE 'UTC')::date = g))
                   ORDER BY g) AS daily
        FROM ids CROSS JOIN generate_series(f, t, interval '1 day') g GROUP BY ids.id)
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t),
        'agents', coalesce((SELECT jsonb_agg(jsonb_build_object('agentId', per.id, 'agentName', a.name, 'dailyActivity', per.daily)
                                             ORDER BY a.name, per.id)
                            FROM per JOIN analytics.agents a ON a.agent_id = per.id), '[]'))
$$;

CREATE FUNCTION pg_temp.o_token_trends(tid uuid, f date, t date, gran text) RETURNS jsonb LANGUAGE sql
AS $$
    WITH e AS (SELECT *, CASE gran WHEN 'day' THEN (occurred_at AT TIME ZONE 'UTC')::date
                               ELSE greatest(f, date_trunc('week', (occurred_at AT TIME ZONE 'UTC')::date)::date) END AS bucket
               FROM pg_temp.ev(tid, f, t) WHERE event_type = 'token_issuance'),
    b AS (SELECT DISTINCT CASE gran WHEN 'day' THEN g::date ELSE greatest(f, date_trunc('week', g)::date) END AS bucket
          FROM generate_series(f, t, interval '1 day') g)
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t), 'granularity', gran,
        'dataPoints', jsonb_agg(jsonb_build_object('date', to_char(b.bucket, 'YYYY-MM-DD'),
            'totalIssuances', (SELECT coalesce(sum(count), 0) FROM e WHERE e.bucket = b.bucket),
            'successfulIssuances', (SELECT coalesce(sum(count), 0) FROM e WHERE e.bucket = b.bucket AND success),
            'failedIssuances', (SELECT coalesce(sum(count), 0) FROM e WHERE e.bucket = b.bucket AND NOT success),
            'uniqueAgents', (SELECT count(DISTINCT agent_id) FROM e WHERE e.bucket = b.bucket)) ORDER BY b.bucket))
    FROM b
$$;

CREATE FUNCTION pg_temp.o_tokens(tid uuid, n int) RETURNS jsonb LANGUAGE sql
AS $$
    SELECT jsonb_build_object('tenantId', tid, 'days', n,
        'data', jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'),
            'count', (SELECT coalesce(sum(count), 0) FROM pg_temp.ev(tid, g::date, g::date) WHERE event_type = 'token_issuance')) ORDER BY g))
    FROM generate_series(pg_temp.today() - (n - 1), pg_temp.today(), interval '1 day') g
$$;

CREATE FUNCTION pg_temp.o_heatmap(tid uuid, n int) RETURNS jsonb LANGUAGE sql
AS $$
    SELECT jsonb_build_object('tenantId', tid,
        'data', coalesce(jsonb_agg(jsonb_build_object('dow', dow, 'hour', hour, 'count', c) ORDER BY dow, hour), '[]'))
    FROM (SELECT extract(dow FROM occurred_at AT TIME ZONE 'UTC')::int AS dow, extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int AS hour,
                 sum(count) AS c
          FROM pg_temp.ev(tid, pg_temp.today() - (n - 1), pg_temp.today()) WHERE event_type = 'api_call' GROUP BY 1, 2) x
$$;

CREATE FUNCTION pg_temp.o_agents(tid uuid) RETURNS jsonb LANGUAGE sql
AS $$
    SELECT jsonb_build_object('tenantId', tid, 'month', to_char(pg_temp.today(), 'YYYY-MM'),
        'data', coalesce(jsonb_agg(jsonb_build_object('agentId', agent_id, 'tokenCount', c) ORDER BY c DESC, agent_id), '[]'))
    FROM (SELECT agent_id, sum(count) AS c
          FROM pg_temp.ev(tid, date_trunc('month', pg_temp.today())::date, pg_temp.today())
          WHERE event_type = 'token_issuance' AND agent_id IS NOT NULL GROUP BY 1) x
$$;

CREATE FUNCTION pg_temp.o_rotation(tid uuid, f date, t date) RETURNS jsonb LANGUAGE sql
AS $$
    WITH e AS (SELECT * FROM pg_temp.ev(tid, f, t)),
    per AS (SELECT agent_id,
                   coalesce(sum(count) FILTER (WHERE event_type = 'credential_rotation'), 0) AS r,
                   count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date) FILTER (WHERE event_type = 'credential_rotation') AS days,
                   max((occurred_at AT TIME ZONE 'UTC')::date) FILTER (WHERE event_type = 'credential_rotation') AS last
            FROM e WHERE agent_id IS NOT NULL GROUP BY agent_id)
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t),
        'totalRotations', (SELECT coalesce(sum(count), 0) FROM e WHERE event_type = 'credential_rotation'),
        'agents', coalesce((SELECT jsonb_agg(jsonb_build_object('agentId', per.agent_id, 'agentName', a.name, 'rotations', per.r,
                                 'rotationDays', per.days, 'lastRotationDate', to_char(per.last, 'YYYY-MM-DD'),
                                 'averageDaysBetweenRotations', CASE WHEN per.r > 0 THEN round((t - f + 1)::numeric / per.r, 1) END)
                                 ORDER BY per.r DESC, a.name, per.agent_id)
                            FROM per JOIN analytics.agents a ON a.agent_id = per.agent_id), '[]'))
$$;

-- call_patterns without the latencies (checked against percentile_disc below).
CREATE FUNCTION pg_temp.o_calls(tid uuid, f date, t date) RETURNS jsonb LANGUAGE sql
AS $$
    WITH e AS (SELECT * FROM pg_temp.ev(tid, f, t) WHERE event_type = 'api_call'),
    per AS (SELECT endpoint, method, sum(count) AS calls, coalesce(sum(count) FILTER (WHERE success), 0) AS ok
            FROM e GROUP BY 1, 2)
    SELECT jsonb_build_object('tenantId', tid, 'period', pg_temp.period(f, t),
        'totalCalls', (SELECT coalesce(sum(count), 0) FROM e),
        'endpoints', coalesce((SELECT jsonb_agg(jsonb_build_object('endpoint', endpoint, 'method', method, 'calls', calls,
                                   'successes', ok, 'failures', calls - ok, 'successRate', round(ok::numeric / calls, 4))
                                   ORDER BY calls DESC, endpoint, method) FROM per), '[]'))
$$;

CREATE FUNCTION pg_temp.strip_latency(j jsonb) RETURNS jsonb LANGUAGE sql
AS $$ SELECT jsonb_set(j, '{endpoints}', coalesce((SELECT jsonb_agg(x - 'latencyMs' ORDER BY o)
                                                   FROM jsonb_array_elements(j -> 'endpoints') WITH ORDINALITY v(x, o)), '[]')) $$;

-- Latencies of call_patterns that are not within 1% (plus the 0.001 of
-- rounding) of percentile_disc over the raw events, a pre-counted row
-- (count n) being n observations (contract §5, §6.3).
CREATE FUNCTION pg_temp.bad_latencies(tid uuid, f date, t date, j jsonb) RETURNS bigint LANGUAGE sql
AS $$
    SELECT count(*)
    FROM jsonb_array_elements(j -> 'endpoints') x
    CROSS JOIN LATERAL (VALUES ('p50', 0.5), ('p95', 0.95), ('p99', 0.99)) q(k, p)
    CROSS JOIN LATERAL (SELECT percentile_disc(q.p) WITHIN GROUP (ORDER BY latency_ms) AS exact
                        FROM pg_temp.ev(tid, f, t) e CROSS JOIN LATERAL generate_series(1, e.count) n
                        WHERE e.event_type = 'api_call' AND e.endpoint IS NOT DISTINCT FROM x ->> 'endpoint'
                          AND e.method IS NOT DISTINCT FROM x ->> 'method' AND e.latency_ms IS NOT NULL) ex
    WHERE NOT (abs((x -> 'latencyMs' ->> q.k)::float8 - ex.exact) <= 0.01 * abs(ex.exact) + 0.0006)
       OR (x -> 'latencyMs' ->> q.k) IS NULL AND ex.exact IS NOT NULL
$$;

-- The data: 21 days ending today; days -20..-12 and -6 rolled up, then late
-- events on rolled days; events today through the API; events on day -40,
-- which has no partition (default partition).
SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(6000, 21, pg_temp.today(), 0.7)$$, 'generate 21 days');
SELECT lives_ok($$SELECT analytics.run_rollup(d::date) FROM generate_series(pg_temp.today() - 20, pg_temp.today() - 12, interval '1 day') d$$, 'roll up days -20..-12');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 6)$$, 'roll up day -6');
-- (Late events through record_events, which logs their day.  Late INSERTs
-- are found only by analytics.find_changed_days, by ingestion time, which
-- cannot tell them apart inside this one transaction: 04_concurrency tests
-- that path with committed sessions.)
SELECT is(analytics.record_events(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
              'tenant_id', tenant_id, 'agent_id', agent_id, 'occurred_at', occurred_at + interval '7 minutes',
              'event_type', event_type, 'success', NOT success, 'count', count + 1, 'endpoint', endpoint,
              'method', method, 'latency_ms', latency_ms * 3)))), count(*),
          'late events on rolled day -15 (record_events), one per event of its first 10 minutes of each hour')
FROM analytics.usage_events
WHERE occurred_at >= (pg_temp.today() - 15)::timestamp AT TIME ZONE 'UTC'
  AND occurred_at < (pg_temp.today() - 14)::timestamp AT TIME ZONE 'UTC'
  AND extract(minute FROM occurred_at) < 10;
-- and a late api call of every tenant (day -15 may be a weekend day on which
-- a small tenant made none): every period below has calls to compare.
SELECT is(analytics.record_events(jsonb_agg(jsonb_build_object(
              'tenant_id', t.tenant_id, 'occurred_at', (pg_temp.today() - 15)::timestamp AT TIME ZONE 'UTC' + make_interval(hours => 12, mins => t.idx),
              'event_type', 'api_call', 'endpoint', '/v1/late', 'method', 'POST', 'latency_ms', 7 * t.idx, 'success', t.idx % 2 = 0))),
          (SELECT count(*) FROM analytics_datagen.tenants()), 'a late api call of every tenant on day -15')
FROM analytics_datagen.tenants() t;
SELECT is(analytics.day_is_clean(pg_temp.today() - 15), false, 'day -15 is unclean');
SELECT is(analytics.day_is_clean(pg_temp.today() - 16), true, 'day -16 is clean');
SELECT is(to_regclass('analytics.' || analytics.partition_name(pg_temp.today() - 40)), NULL, 'day -40 has no partition');
SELECT lives_ok($$INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, latency_ms)
                  SELECT t.tenant_id, a.agent_id, (pg_temp.today() - 40)::timestamp AT TIME ZONE 'UTC' + make_interval(hours => a.agent_idx),
                         (ARRAY['api_call', 'token_issuance', 'credential_rotation'])[1 + a.agent_idx % 3], a.agent_idx % 4 <> 0, 1 + a.agent_idx,
                         '/v1/old', 'GET', 5 * a.agent_idx
                  FROM analytics_datagen.tenants() t JOIN analytics_datagen.agents() a ON a.tenant_idx = t.idx$$,
                'events on day -40 (default partition)');
SELECT is((SELECT count(*) > 0 FROM analytics.usage_events_default), true, 'the default partition holds them');
SELECT pg_temp.as_tenant(1);
SELECT lives_ok(format($$SELECT analytics_api.record_events(jsonb_build_array(
    jsonb_build_object('agent_id', '00000000-0000-4000-9001-000000000003', 'occurred_at', %L, 'event_type', 'api_call', 'endpoint', '/v1/now', 'method', 'POST', 'latency_ms', 12.5, 'count', 3),
    jsonb_build_object('agent_id', '00000000-0000-4000-9001-000000000003', 'occurred_at', %L, 'event_type', 'token_issuance', 'success', false),
    jsonb_build_object('occurred_at', %L, 'event_type', 'credential_rotation')))$$,
    pg_temp.d(0) || 'T00:00:01Z', pg_temp.d(0) || 'T00:00:02Z', pg_temp.d(0) || 'T00:00:03Z'), 'events of today through the API');

CREATE TEMP TABLE periods AS
SELECT * FROM (VALUES (pg_temp.today() - 29, pg_temp.today(), 'default 30 days'),
                      (pg_temp.today() - 45, pg_temp.today() - 10, 'default partition, rolled, late and raw days'),
                      (pg_temp.today() - 15, pg_temp.today() - 15, 'the day with late events'),
                      (pg_temp.today() - 20, pg_temp.today() - 12, 'rolled days only')) v(f, t, what);
CREATE TEMP TABLE tenants AS SELECT tenant_id AS tid, idx FROM analytics_datagen.tenants();

-- Every function, every tenant, against the oracle.
SELECT is(pg_temp.api_as(idx, 'analytics_api.usage_summary()'), pg_temp.o_summary(tid, pg_temp.today() - 29, pg_temp.today()),
          format('usage_summary() defaults = oracle: tenant %s', idx))
FROM tenants ORDER BY idx;
SELECT is(pg_temp.api_as(idx, format('analytics_api.usage_summary(%L, %L)', to_char(f, 'YYYY-MM-DD'), to_char(t, 'YYYY-MM-DD'))), pg_temp.o_summary(tid, f, t),
          format('usage_summary = oracle: tenant %s, %s', idx, what))
FROM tenants, periods ORDER BY idx, f;
SELECT is(pg_temp.api_as(idx, format('analytics_api.agent_activity(%L, %L)', to_char(f, 'YYYY-MM-DD'), to_char(t, 'YYYY-MM-DD'))), pg_temp.o_agent_activity(tid, f, t, NULL),
          format('agent_activity = oracle: tenant %s, %s', idx, what))
FROM tenants, periods WHERE t - f < 90 ORDER BY idx, f;
SELECT is(pg_temp.api_as(idx, format('analytics_api.agent_activity(%L, %L, %L)', to_char(f, 'YYYY-MM-DD'), to_char(t, 'YYYY-MM-DD'), a.agent_id::text)),
          pg_temp.o_agent_activity(tenants.tid, f, t, a.agent_id),
          format('agent_activity(agentId) = oracle: tenant %s, agent %s, %s', idx, a.agent_idx, what))
FROM tenants
JOIN analytics_datagen.agents() a ON a.tenant_idx = tenants.idx AND a.agent_idx IN (1, 3), periods WHERE t - f < 90 ORDER BY idx, f;
SELECT is(pg_temp.api_as(idx, format('analytics_api.token_trends(%L, %L, %L)', to_char(f, 'YYYY-MM-DD'), to_char(t, 'YYYY-MM-DD'), g)), pg_temp.o_token_trends(tid, f, t, g),
          format('token_trends(%s) = oracle: tenant %s, %s', g, idx, what))
FROM tenants, periods, (VALUES ('day'), ('week')) v(g) ORDER BY idx, f;
SELECT is(pg_temp.api_as(idx, format('analytics_api.tokens(%L)', n::text)), pg_temp.o_tokens(tid, n), format('tokens(%s) = oracle: tenant %s', n, idx))
FROM tenants, (VALUES (1), (16), (45)) v(n) ORDER BY idx;
SELECT is(pg_temp.api_as(idx, 'analytics_api.tokens()'), pg_temp.o_tokens(tid, 30), format('tokens() = oracle: tenant %s', idx))
FROM tenants ORDER BY idx;
SELECT is(pg_temp.api_as(idx, format('analytics_api.agents_activity(%L)', n::text)), pg_temp.o_heatmap(tid, n), format('agents_activity(%s) = oracle: tenant %s', n, idx))
FROM tenants, (VALUES (1), (16), (45)) v(n) ORDER BY idx;
SELECT is(pg_temp.api_as(idx, 'analytics_api.agents_activity()'), pg_temp.o_heatmap(tid, 30), format('agents_activity() = oracle: tenant %s', idx))
FROM tenants ORDER BY idx;
SELECT is(pg_temp.api_as(idx, 'analytics_api.agents()'), pg_temp.o_agents(tid), format('agents() = oracle: tenant %s', idx))
FROM tenants ORDER BY idx;
SELECT is(pg_temp.api_as(idx, format('analytics_api.rotation_frequency(%L, %L)', to_char(f, 'YYYY-MM-DD'), to_char(t, 'YYYY-MM-DD'))), pg_temp.o_rotation(tid, f, t),
          format('rotation_frequency = oracle: tenant %s, %s', idx, what))
FROM tenants, periods ORDER BY idx, f;
CREATE TEMP TABLE cp AS
SELECT idx, tid, f, t, what, pg_temp.api_as(idx, format('analytics_api.call_patterns(%L, %L)', to_char(f, 'YYYY-MM-DD'), to_char(t, 'YYYY-MM-DD'))) AS j
FROM tenants, periods;
SELECT is(pg_temp.strip_latency(j), pg_temp.o_calls(tid, f, t), format('call_patterns counts = oracle: tenant %s, %s', idx, what))
FROM cp ORDER BY idx, f;
SELECT is(pg_temp.bad_latencies(tid, f, t, j), 0::bigint,
          format('call_patterns p50/p95/p99 within 1%% of percentile_disc: tenant %s, %s', idx, what))
FROM cp ORDER BY idx, f;
SELECT is((SELECT count(*) FROM cp WHERE jsonb_array_length(j -> 'endpoints') > 0), (SELECT count(*) FROM cp), 'the call patterns are not empty');

SELECT * FROM finish();
ROLLBACK;
