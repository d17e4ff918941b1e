-- setup.sql: the attack suite's own small data set and its oracle.
--
-- Four tenants (writer A, victim B, heavy H, poison P; all pro or
-- enterprise so that the API serves them), a few agents each, and about
-- 3,500 events over the ten days ending today, loaded through
-- analytics.record_events.  Deterministic: every value derives from the
-- row number, only the dates follow the calendar.
--
-- The oracle (schema attack): what every API answer must show, computed
-- with plain SQL over the raw events in analytics.usage_events.  The
-- suite compares each API answer with it.
SET client_min_messages = warning;

SELECT analytics.upsert_tenant('00000000-0000-4000-8000-0000000000a1', 'attack writer A', 'enterprise');
SELECT analytics.upsert_tenant('00000000-0000-4000-8000-0000000000b1', 'attack victim B', 'pro');
SELECT analytics.upsert_tenant('00000000-0000-4000-8000-0000000000c1', 'attack heavy H', 'pro');
SELECT analytics.upsert_tenant('00000000-0000-4000-8000-0000000000d1', 'attack poison P', 'pro');
SELECT analytics.upsert_agent(('00000000-0000-4000-9000-0000000' || t || lpad(a::text, 4, '0'))::uuid,
                              ('00000000-0000-4000-8000-0000000000' || t || '1')::uuid,
                              'agent ' || t || a)
FROM unnest(ARRAY['a', 'b', 'c', 'd']) t, generate_series(1, 5) a;

-- The events of one tenant: n rows over the ten days ending today.
CREATE SCHEMA attack;
CREATE FUNCTION attack.events(t text, n integer, seed integer)
RETURNS jsonb
LANGUAGE sql STABLE
RETURN (
    SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
        'tenant_id', '00000000-0000-4000-8000-0000000000' || t || '1',
        'agent_id', CASE WHEN (i + seed) % 6 = 0 THEN NULL
                         ELSE '00000000-0000-4000-9000-0000000' || t || lpad((1 + (i + seed) % 5)::text, 4, '0') END,
        -- spread over the ten days ending today; today's events lie in the past
        'occurred_at', to_char(((current_date - (i % 10)) + make_interval(secs => (i * 7919 + seed) %
                                  CASE WHEN i % 10 = 0 THEN greatest(1, extract(epoch FROM localtime)::integer) ELSE 86400 END))
                               AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'event_type', (ARRAY['api_call', 'api_call', 'api_call', 'api_call', 'api_call', 'token_issuance',
                             'token_issuance', 'credential_rotation', 'tool_call', 'llm_call'])[1 + (i * 3 + seed) % 10],
        'success', (i + seed) % 7 <> 0,
        'count', CASE WHEN i % 13 = 0 THEN 3 ELSE 1 END,
        'endpoint', CASE WHEN (i * 3 + seed) % 10 < 5 THEN '/v1/resource/' || (i % 3) END,
        'method', CASE WHEN (i * 3 + seed) % 10 < 5 THEN (ARRAY['GET', 'POST'])[1 + i % 2] END,
        'status_code', CASE WHEN (i * 3 + seed) % 10 < 5 THEN CASE WHEN (i + seed) % 7 = 0 THEN 500 ELSE 200 END END,
        'latency_ms', ((i * 37) % 500) / 4.0,
        'tool_name', CASE WHEN (i * 3 + seed) % 10 = 8 THEN 'search' END,
        'model', CASE WHEN (i * 3 + seed) % 10 = 9 THEN 'gpt-4o' END,
        'input_tokens', CASE WHEN (i * 3 + seed) % 10 = 9 THEN 100 + i % 50 END,
        'output_tokens', CASE WHEN (i * 3 + seed) % 10 = 9 THEN 10 + i % 20 END)) ORDER BY i)
    FROM generate_series(1, n) i);

-- (current_date is UTC: the suite's sessions run with TimeZone UTC)
SET TimeZone = 'UTC';
SELECT analytics.record_events(attack.events('a', 1500, 1));
SELECT analytics.record_events(attack.events('b', 1500, 2));
SELECT analytics.record_events(attack.events('c', 300, 3));
SELECT analytics.record_events(attack.events('d', 200, 4));
-- Closed days rolled up: reads mix rollups and raw days.
CALL analytics.rollup_job();

-------------------------------------------------------------------------------
-- The oracle: plain SQL over raw events, in the shapes of the API answers.
-------------------------------------------------------------------------------

CREATE VIEW attack.raw_events AS
SELECT e.tenant_id, (e.occurred_at AT TIME ZONE 'UTC')::date AS day, e.agent_id, e.event_type, e.success,
       e.endpoint, e.method, e.occurred_at, e.count::bigint AS n
FROM analytics.usage_events e;

CREATE FUNCTION attack.expect_summary(t uuid, f date, l date)
RETURNS jsonb LANGUAGE sql STABLE
BEGIN ATOMIC
    WITH e AS (SELECT * FROM attack.raw_events r WHERE r.tenant_id = t AND r.day BETWEEN f AND l),
    d AS (SELECT g::date AS day, coalesce((SELECT sum(e.n) FROM e WHERE e.day = g::date AND e.event_type = 'api_call'), 0) AS calls
          FROM generate_series(f, l, interval '1 day') g)
    SELECT jsonb_build_object(
        'totalApiCalls', coalesce((SELECT sum(n) FROM e WHERE event_type = 'api_call'), 0),
        'totalTokenIssuances', coalesce((SELECT sum(n) FROM e WHERE event_type = 'token_issuance'), 0),
        'totalCredentialRotations', coalesce((SELECT sum(n) FROM e WHERE event_type = 'credential_rotation'), 0),
        'activeAgentCount', (SELECT count(DISTINCT agent_id) FROM e),
        'averageDailyApiCalls', coalesce((SELECT sum(n) FROM e WHERE event_type = 'api_call'), 0)::bigint / (l - f + 1),
        'peakDailyApiCalls', (SELECT max(calls) FROM d),
        'peakDate', (SELECT to_char(day, 'YYYY-MM-DD') FROM d WHERE calls > 0 ORDER BY calls DESC, day LIMIT 1));
END;

CREATE FUNCTION attack.expect_trends(t uuid, f date, l date)
RETURNS jsonb LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT jsonb_agg(jsonb_build_object(
        'date', to_char(g, 'YYYY-MM-DD'),
        'totalIssuances', coalesce(x.total, 0), 'successfulIssuances', coalesce(x.total - x.failed, 0),
        'failedIssuances', coalesce(x.failed, 0), 'uniqueAgents', coalesce(x.agents, 0)) ORDER BY g)
    FROM generate_series(f, l, interval '1 day') g
    LEFT JOIN (SELECT r.day, sum(r.n) AS total, coalesce(sum(r.n) FILTER (WHERE NOT r.success), 0) AS failed,
                      count(DISTINCT r.agent_id) AS agents
               FROM attack.raw_events r
               WHERE r.tenant_id = t AND r.day BETWEEN f AND l AND r.event_type = 'token_issuance'
               GROUP BY r.day) x ON x.day = g::date;
END;

CREATE FUNCTION attack.expect_tokens(t uuid, days integer)
RETURNS jsonb LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT jsonb_agg(jsonb_build_object('date', y ->> 'date', 'count', (y ->> 'totalIssuances')::bigint) ORDER BY y ->> 'date')
    FROM jsonb_array_elements(attack.expect_trends(t, current_date - (days - 1), current_date)) y;
END;

-- {agentId: [{date, apiCalls, tokenIssuances, credentialRotations}, ...]}
CREATE FUNCTION attack.expect_agent_activity(t uuid, f date, l date)
RETURNS jsonb LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(jsonb_object_agg(x.agent_id, x.daily), '{}')
    FROM (SELECT a.agent_id,
                 jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'),
                                              'apiCalls', coalesce(c.api, 0), 'tokenIssuances', coalesce(c.tok, 0),
                                              'credentialRotations', coalesce(c.rot, 0)) ORDER BY g) AS daily
          FROM (SELECT DISTINCT r.agent_id FROM attack.raw_events r
                WHERE r.tenant_id = t AND r.day BETWEEN f AND l AND r.agent_id IS NOT NULL) a
          CROSS JOIN generate_series(f, l, interval '1 day') g
          LEFT JOIN (SELECT r.agent_id, r.day,
                            sum(r.n) FILTER (WHERE r.event_type = 'api_call') AS api,
                            sum(r.n) FILTER (WHERE r.event_type = 'token_issuance') AS tok,
                            sum(r.n) FILTER (WHERE r.event_type = 'credential_rotation') AS rot
                     FROM attack.raw_events r WHERE r.tenant_id = t AND r.day BETWEEN f AND l
                     GROUP BY r.agent_id, r.day) c ON c.agent_id = a.agent_id AND c.day = g::date
          GROUP BY a.agent_id) x;
END;

-- {totalCalls, endpoints: {"endpoint method": {calls, successes, failures}}}
CREATE FUNCTION attack.expect_call_patterns(t uuid, f date, l date)
RETURNS jsonb LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'totalCalls', coalesce(sum(x.calls), 0),
        'endpoints', coalesce(jsonb_object_agg(coalesce(x.endpoint, '') || ' ' || coalesce(x.method, ''),
                              jsonb_build_object('calls', x.calls, 'successes', x.ok, 'failures', x.calls - x.ok))
                              FILTER (WHERE x.calls IS NOT NULL), '{}'))
    FROM (SELECT r.endpoint, r.method, sum(r.n) AS calls, coalesce(sum(r.n) FILTER (WHERE r.success), 0) AS ok
          FROM attack.raw_events r
          WHERE r.tenant_id = t AND r.day BETWEEN f AND l AND r.event_type = 'api_call'
          GROUP BY r.endpoint, r.method) x;
END;

CREATE FUNCTION attack.expect_rotations(t uuid, f date, l date)
RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(sum(r.n), 0) FROM attack.raw_events r
    WHERE r.tenant_id = t AND r.day BETWEEN f AND l AND r.event_type = 'credential_rotation';
END;

-- [{dow, hour, count}] of api calls over the last days days, non-zero cells.
CREATE FUNCTION attack.expect_heatmap(t uuid, days integer)
RETURNS jsonb LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(jsonb_agg(jsonb_build_object('dow', x.dow, 'hour', x.hour, 'count', x.n) ORDER BY x.dow, x.hour), '[]')
    FROM (SELECT extract(dow FROM r.occurred_at AT TIME ZONE 'UTC')::int AS dow,
                 extract(hour FROM r.occurred_at AT TIME ZONE 'UTC')::int AS hour, sum(r.n) AS n
          FROM attack.raw_events r
          WHERE r.tenant_id = t AND r.day BETWEEN current_date - (days - 1) AND current_date AND r.event_type = 'api_call'
          GROUP BY 1, 2) x;
END;

-- [{agentId, tokenCount}] this month, most first.
CREATE FUNCTION attack.expect_agents(t uuid)
RETURNS jsonb LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(jsonb_agg(jsonb_build_object('agentId', x.agent_id, 'tokenCount', x.n) ORDER BY x.n DESC, x.agent_id), '[]')
    FROM (SELECT r.agent_id, sum(r.n) AS n FROM attack.raw_events r
          WHERE r.tenant_id = t AND r.agent_id IS NOT NULL AND r.event_type = 'token_issuance'
            AND r.day BETWEEN date_trunc('month', current_date)::date AND current_date
          GROUP BY r.agent_id) x;
END;
