-- API shapes: exact keys, defaults (30 days ending today), days N gives N
-- points, zero-filling, ordering, week buckets at period and year edges,
-- peakDate ties, real-time answers across rollups and late events.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
-- The week test around new year 2021 records events years old: widen the
-- accepted window of record_events.
SET LOCAL analytics.raw_retention_days = 36500;
\ir 06_api.inc

CREATE FUNCTION pg_temp.keys(j jsonb) RETURNS text LANGUAGE sql
AS $$ SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(j) k $$;

-- A hand-made tenant: agents alpha (two, same name), one without a name,
-- beta (sessions only), gamma (no events).
SELECT analytics.upsert_tenant('aaaaaaaa-0000-4000-8000-000000000001', 'Shapes Inc', 'pro');
SELECT analytics.upsert_agent(('aaaaaaaa-0000-4000-9000-00000000000' || n)::uuid, 'aaaaaaaa-0000-4000-8000-000000000001', name)
FROM (VALUES (1, 'alpha'), (2, 'alpha'), (4, 'beta'), (5, 'gamma')) v(n, name);
CREATE TEMP TABLE ev AS
SELECT v.* FROM (VALUES
    (-5, 'aaaaaaaa-0000-4000-9000-000000000001', 'api_call', true, 40, 9),
    (-2, 'aaaaaaaa-0000-4000-9000-000000000002', 'api_call', true, 39, 14),
    (-2, 'aaaaaaaa-0000-4000-9000-000000000003', 'api_call', false, 1, 14),
    (0, 'aaaaaaaa-0000-4000-9000-000000000001', 'api_call', true, 11, 0),
    (-1, 'aaaaaaaa-0000-4000-9000-000000000001', 'token_issuance', true, 2, 10),
    (-1, 'aaaaaaaa-0000-4000-9000-000000000002', 'token_issuance', false, 1, 10),
    (-8, 'aaaaaaaa-0000-4000-9000-000000000003', 'token_issuance', true, 1, 10),
    (-3, 'aaaaaaaa-0000-4000-9000-000000000001', 'credential_rotation', true, 1, 10),
    (-10, 'aaaaaaaa-0000-4000-9000-000000000001', 'credential_rotation', true, 1, 10),
    (-3, NULL, 'credential_rotation', true, 1, 10),
    (-4, 'aaaaaaaa-0000-4000-9000-000000000004', 'session', true, 1, 10),
    (-40, 'aaaaaaaa-0000-4000-9000-000000000005', 'api_call', true, 7, 10)) v(day, agent, etype, ok, n, hour);
SELECT lives_ok($$
    SELECT analytics.ensure_partitions(pg_temp.today() - 10, pg_temp.today());
    INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, latency_ms)
    SELECT 'aaaaaaaa-0000-4000-8000-000000000001', agent::uuid,
           (pg_temp.today() + day)::timestamp AT TIME ZONE 'UTC' + make_interval(hours => hour),
           etype, ok, n, CASE WHEN etype = 'api_call' THEN '/v1/x' END, CASE WHEN etype = 'api_call' THEN 'GET' END, 10
    FROM ev$$, 'events of the hand-made tenant (day -40 in the default partition)');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 5), analytics.run_rollup(pg_temp.today() - 3)$$,
                'two days rolled up');
SELECT pg_temp.claims('{"tenant_id": "aaaaaaaa-0000-4000-8000-000000000001"}');

-- usage_summary
CREATE TEMP TABLE us AS SELECT analytics_api.usage_summary() AS j;
SELECT is(pg_temp.keys(j), 'period,summary,tenantId', 'usage_summary: top-level keys') FROM us;
SELECT is(pg_temp.keys(j -> 'summary'), 'activeAgentCount,averageDailyApiCalls,peakDailyApiCalls,peakDate,totalApiCalls,totalCredentialRotations,totalTokenIssuances',
          'usage_summary: summary keys') FROM us;
SELECT is(j -> 'period', jsonb_build_object('from', pg_temp.d(-29), 'to', pg_temp.d(0)), 'usage_summary: default period is the 30 days ending today') FROM us;
SELECT is(j ->> 'tenantId', 'aaaaaaaa-0000-4000-8000-000000000001', 'usage_summary: tenantId') FROM us;
SELECT is(j -> 'summary', jsonb_build_object('totalApiCalls', 91, 'totalTokenIssuances', 4, 'totalCredentialRotations', 3,
                                             'activeAgentCount', 4, 'averageDailyApiCalls', 3, 'peakDailyApiCalls', 40,
                                             'peakDate', pg_temp.d(-5)),
          'usage_summary: totals, floor average, earliest peak of a tie, agents with any event') FROM us;
SELECT is(analytics_api.usage_summary(pg_temp.d(-2), pg_temp.d(-2)) -> 'summary' ->> 'averageDailyApiCalls', '40', 'one day: average = total');
SELECT is(analytics_api.usage_summary(pg_temp.d(-4), pg_temp.d(-3)) -> 'summary',
          jsonb_build_object('totalApiCalls', 0, 'totalTokenIssuances', 0, 'totalCredentialRotations', 2,
                             'activeAgentCount', 2, 'averageDailyApiCalls', 0, 'peakDailyApiCalls', 0, 'peakDate', NULL),
          'usage_summary: no calls gives peak 0 and a null peakDate');
SELECT is(analytics_api.usage_summary("to" => pg_temp.d(-2)) -> 'period', jsonb_build_object('from', pg_temp.d(-31), 'to', pg_temp.d(-2)),
          'usage_summary: only to: from = to - 29');

-- agent_activity
CREATE TEMP TABLE aa AS SELECT analytics_api.agent_activity() AS j;
SELECT is(pg_temp.keys(j), 'agents,period,tenantId', 'agent_activity: top-level keys') FROM aa;
SELECT is((SELECT string_agg(coalesce(a ->> 'agentName', '-') || ':' || right(a ->> 'agentId', 1), ' ' ORDER BY o)
           FROM jsonb_array_elements(j -> 'agents') WITH ORDINALITY x(a, o)),
          'alpha:1 alpha:2 beta:4 -:3', 'agent_activity: agents with any event, by name then id, unnamed last') FROM aa;
SELECT is((SELECT bool_and(jsonb_array_length(a -> 'dailyActivity') = 30) FROM jsonb_array_elements(j -> 'agents') a), true,
          'agent_activity: 30 days for every agent by default') FROM aa;
SELECT is((SELECT array_agg(d ->> 'date' ORDER BY o) FROM jsonb_array_elements(j -> 'agents' -> 0 -> 'dailyActivity') WITH ORDINALITY x(d, o)),
          (SELECT array_agg(to_char(g, 'YYYY-MM-DD') ORDER BY g) FROM generate_series(pg_temp.today() - 29, pg_temp.today(), interval '1 day') g),
          'agent_activity: every day, oldest first') FROM aa;
SELECT is(pg_temp.keys(j -> 'agents' -> 0), 'agentId,agentName,dailyActivity', 'agent_activity: agent keys') FROM aa;
SELECT is(j -> 'agents' -> 0 -> 'dailyActivity' -> 24, jsonb_build_object('date', pg_temp.d(-5), 'apiCalls', 40, 'tokenIssuances', 0, 'credentialRotations', 0),
          'agent_activity: a rolled day') FROM aa;
SELECT is(j -> 'agents' -> 0 -> 'dailyActivity' -> 28, jsonb_build_object('date', pg_temp.d(-1), 'apiCalls', 0, 'tokenIssuances', 2, 'credentialRotations', 0),
          'agent_activity: a raw day') FROM aa;
SELECT is(j -> 'agents' -> 0 -> 'dailyActivity' -> 20, jsonb_build_object('date', pg_temp.d(-9), 'apiCalls', 0, 'tokenIssuances', 0, 'credentialRotations', 0),
          'agent_activity: a day without events is zero') FROM aa;
SELECT is(analytics_api.agent_activity(pg_temp.d(-30), pg_temp.d(-20), 'aaaaaaaa-0000-4000-9000-000000000005') -> 'agents',
          jsonb_build_array(jsonb_build_object('agentId', 'aaaaaaaa-0000-4000-9000-000000000005', 'agentName', 'gamma',
              'dailyActivity', (SELECT jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'), 'apiCalls', 0, 'tokenIssuances', 0, 'credentialRotations', 0) ORDER BY g)
                                FROM generate_series(pg_temp.today() - 30, pg_temp.today() - 20, interval '1 day') g))),
          'agent_activity: the agent asked for, even without activity, zero-filled');
SELECT is(analytics_api.agent_activity(pg_temp.d(-30), pg_temp.d(-20)) -> 'agents', '[]', 'agent_activity: no agents: an empty array');

-- token_trends
CREATE TEMP TABLE tt AS SELECT analytics_api.token_trends() AS j;
SELECT is(pg_temp.keys(j), 'dataPoints,granularity,period,tenantId', 'token_trends: top-level keys') FROM tt;
SELECT is(j ->> 'granularity', 'day', 'token_trends: day by default') FROM tt;
SELECT is(jsonb_array_length(j -> 'dataPoints'), 30, 'token_trends: 30 daily points by default') FROM tt;
SELECT is(pg_temp.keys(j -> 'dataPoints' -> 0), 'date,failedIssuances,successfulIssuances,totalIssuances,uniqueAgents', 'token_trends: point keys') FROM tt;
SELECT is(j -> 'dataPoints' -> 28, jsonb_build_object('date', pg_temp.d(-1), 'totalIssuances', 3, 'successfulIssuances', 2, 'failedIssuances', 1, 'uniqueAgents', 2),
          'token_trends: a day') FROM tt;
SELECT is(j -> 'dataPoints' -> 0, jsonb_build_object('date', pg_temp.d(-29), 'totalIssuances', 0, 'successfulIssuances', 0, 'failedIssuances', 0, 'uniqueAgents', 0),
          'token_trends: zero-filled, oldest first') FROM tt;
CREATE TEMP TABLE tw AS SELECT analytics_api.token_trends(granularity => 'week') AS j;
SELECT is((SELECT array_agg(p ->> 'date' ORDER BY o) FROM jsonb_array_elements(j -> 'dataPoints') WITH ORDINALITY x(p, o)),
          (SELECT array_agg(to_char(g, 'YYYY-MM-DD') ORDER BY g) FROM generate_series(pg_temp.today() - 29, pg_temp.today(), interval '1 day') g
           WHERE g = pg_temp.today() - 29 OR extract(isodow FROM g) = 1),
          'token_trends week: first bucket at from, then every Monday') FROM tw;
SELECT is((SELECT sum((p ->> 'totalIssuances')::int)::int FROM jsonb_array_elements(j -> 'dataPoints') p), 4, 'token_trends week: all issuances') FROM tw;
-- A week across a year: 2020-12-31 is a Thursday, ISO week 1 of 2021 starts Monday 2021-01-04.
SELECT lives_ok($$SELECT analytics.record_events(jsonb_build_array(
    jsonb_build_object('tenant_id', 'aaaaaaaa-0000-4000-8000-000000000001', 'agent_id', 'aaaaaaaa-0000-4000-9000-000000000001', 'occurred_at', '2020-12-31T10:00:00Z', 'event_type', 'token_issuance'),
    jsonb_build_object('tenant_id', 'aaaaaaaa-0000-4000-8000-000000000001', 'agent_id', 'aaaaaaaa-0000-4000-9000-000000000001', 'occurred_at', '2021-01-03T10:00:00Z', 'event_type', 'token_issuance', 'success', false),
    jsonb_build_object('tenant_id', 'aaaaaaaa-0000-4000-8000-000000000001', 'agent_id', 'aaaaaaaa-0000-4000-9000-000000000002', 'occurred_at', '2021-01-04T00:00:00Z', 'event_type', 'token_issuance'),
    jsonb_build_object('tenant_id', 'aaaaaaaa-0000-4000-8000-000000000001', 'agent_id', 'aaaaaaaa-0000-4000-9000-000000000001', 'occurred_at', '2021-01-10T23:59:59Z', 'event_type', 'token_issuance'),
    jsonb_build_object('tenant_id', 'aaaaaaaa-0000-4000-8000-000000000001', 'agent_id', 'aaaaaaaa-0000-4000-9000-000000000001', 'occurred_at', '2021-01-11T00:00:00Z', 'event_type', 'token_issuance')))$$,
    'events around new year 2021');
SELECT is(analytics.token_trends('aaaaaaaa-0000-4000-8000-000000000001', '2020-12-31', '2021-01-10', 'week') -> 'dataPoints',
          '[{"date": "2020-12-31", "totalIssuances": 2, "successfulIssuances": 1, "failedIssuances": 1, "uniqueAgents": 1},
            {"date": "2021-01-04", "totalIssuances": 2, "successfulIssuances": 2, "failedIssuances": 0, "uniqueAgents": 2}]',
          'token_trends week across the year: a clipped first week, the period cut at to, distinct agents per week');
SELECT is(analytics.token_trends('aaaaaaaa-0000-4000-8000-000000000001', '2021-01-10', '2021-01-11', 'week') -> 'dataPoints',
          '[{"date": "2021-01-10", "totalIssuances": 1, "successfulIssuances": 1, "failedIssuances": 0, "uniqueAgents": 1},
            {"date": "2021-01-11", "totalIssuances": 1, "successfulIssuances": 1, "failedIssuances": 0, "uniqueAgents": 1}]',
          'token_trends week: a Sunday alone, then a Monday');

-- tokens
SELECT is(jsonb_array_length(analytics_api.tokens() -> 'data'), 30, 'tokens: 30 days by default');
SELECT is(analytics_api.tokens() -> 'days', '30', 'tokens: days echoed');
SELECT is(jsonb_array_length(analytics_api.tokens(n::text) -> 'data'), n, format('tokens: days %s gives %s points', n, n))
FROM (VALUES (1), (7), (90)) v(n);
SELECT is(pg_temp.keys(analytics_api.tokens('3')), 'data,days,tenantId', 'tokens: keys');
SELECT is(analytics_api.tokens('3') -> 'data',
          jsonb_build_array(jsonb_build_object('date', pg_temp.d(-2), 'count', 0), jsonb_build_object('date', pg_temp.d(-1), 'count', 3),
                            jsonb_build_object('date', pg_temp.d(0), 'count', 0)),
          'tokens: zero-filled, oldest first, ending today');

-- agents_activity
CREATE TEMP TABLE ha AS SELECT analytics_api.agents_activity('7') AS j;
SELECT is(pg_temp.keys(j), 'data,tenantId', 'agents_activity: keys') FROM ha;
SELECT is(j -> 'data',
          (SELECT jsonb_agg(jsonb_build_object('dow', dow, 'hour', hour, 'count', n) ORDER BY dow, hour)
           FROM (SELECT extract(dow FROM pg_temp.today() + day)::int AS dow, hour, sum(n)::int AS n FROM ev
                 WHERE etype = 'api_call' AND day >= -6 GROUP BY 1, 2) x),
          'agents_activity: non-zero cells of the last 7 days, by dow then hour') FROM ha;
SELECT is(analytics_api.agents_activity('1') -> 'data', jsonb_build_array(jsonb_build_object('dow', extract(dow FROM pg_temp.today())::int, 'hour', 0, 'count', 11)),
          'agents_activity: days 1 is today');

-- agents (this month)
CREATE TEMP TABLE ag AS SELECT analytics_api.agents() AS j;
SELECT is(pg_temp.keys(j), 'data,month,tenantId', 'agents: keys') FROM ag;
SELECT is(j ->> 'month', to_char(pg_temp.today(), 'YYYY-MM'), 'agents: the current month') FROM ag;
SELECT is(j -> 'data',
          coalesce((SELECT jsonb_agg(jsonb_build_object('agentId', agent, 'tokenCount', n) ORDER BY n DESC, agent)
                    FROM (SELECT agent, sum(n)::int AS n FROM ev WHERE etype = 'token_issuance'
                          AND date_trunc('month', pg_temp.today() + day) = date_trunc('month', pg_temp.today()) GROUP BY 1) x), '[]'),
          'agents: issuances per agent this month, most first') FROM ag;

-- rotation_frequency
CREATE TEMP TABLE rf AS SELECT analytics_api.rotation_frequency() AS j;
SELECT is(pg_temp.keys(j), 'agents,period,tenantId,totalRotations', 'rotation_frequency: keys') FROM rf;
SELECT is(j -> 'totalRotations', '3', 'rotation_frequency: total, tenant-level rotations included') FROM rf;
SELECT is(j -> 'agents' -> 0, jsonb_build_object('agentId', 'aaaaaaaa-0000-4000-9000-000000000001', 'agentName', 'alpha', 'rotations', 2,
                                                 'rotationDays', 2, 'lastRotationDate', pg_temp.d(-3), 'averageDaysBetweenRotations', 15.0),
          'rotation_frequency: the agent that rotated most first') FROM rf;
SELECT is((SELECT string_agg(right(a ->> 'agentId', 1), ' ' ORDER BY o) FROM jsonb_array_elements(j -> 'agents') WITH ORDINALITY x(a, o)),
          '1 2 4 3', 'rotation_frequency: then the other active agents by name') FROM rf;

-- call_patterns
CREATE TEMP TABLE cp AS SELECT analytics_api.call_patterns() AS j;
SELECT is(pg_temp.keys(j), 'endpoints,period,tenantId,totalCalls', 'call_patterns: keys') FROM cp;
SELECT is(j -> 'endpoints', '[{"endpoint": "/v1/x", "method": "GET", "calls": 91, "successes": 90, "failures": 1, "successRate": 0.9890,
                              "latencyMs": {"p50": 10.0, "p95": 10.0, "p99": 10.0}}]',
          'call_patterns: one endpoint') FROM cp;

-- Real time: a late event on a rolled day, and today's events, count at once.
SELECT lives_ok($$SELECT analytics_api.record_events(jsonb_build_array(
    jsonb_build_object('agent_id', 'aaaaaaaa-0000-4000-9000-000000000002', 'occurred_at', pg_temp.d(-5) || 'T08:00:00Z', 'event_type', 'api_call', 'count', 45),
    jsonb_build_object('occurred_at', pg_temp.d(0) || 'T00:00:00Z', 'event_type', 'credential_rotation')))$$,
    'record_events: a late event on a rolled day and one today, without tenant_id');
SELECT is(analytics_api.usage_summary() -> 'summary' -> 'peakDailyApiCalls', '85', 'the late event counts at once');
SELECT is(analytics_api.usage_summary() -> 'summary' -> 'totalCredentialRotations', '4', 'today''s event counts at once');
SELECT is(analytics_api.usage_summary() -> 'summary' -> 'peakDate', to_jsonb(pg_temp.d(-5)), 'peakDate follows');
SELECT is(analytics.day_is_clean(pg_temp.today() - 5), false, 'the rolled day is unclean again');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 5)$$, 'roll it up again');
SELECT is(analytics_api.usage_summary() -> 'summary' -> 'peakDailyApiCalls', '85', 'same answer from the rollup');

SELECT * FROM finish();
ROLLBACK;
