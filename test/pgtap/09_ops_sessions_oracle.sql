-- Sessions, executions, users and workflows (contract §6.3) against plain
-- SQL: on generated data plus fixture events that carry session, user,
-- execution and workflow ids (a session and a workflow run across midnight,
-- executions with tool and priced and unpriced LLM calls, a session of more
-- than 1000 events, ids shared by two tenants), with days rolled up, late
-- events on rolled days (one of them yesterday's, read as rollup + tail),
-- raw days and events of the last minutes, every number of every answer
-- equals the oracle of 09_ops_sessions.inc over analytics.usage_events; for
-- every tenant, the operator (all tenants) and the operator naming one.
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
\ir 09_ops_sessions.inc

-- A call as tenant idx (0: the operator, all tenants), claims first.
CREATE FUNCTION pg_temp.call(who integer, sql text) RETURNS jsonb LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    IF who = 0 THEN
        PERFORM pg_temp.claims('{"role": "analytics_operator"}');
    ELSE
        PERFORM pg_temp.as_tenant(who);
    END IF;
    EXECUTE 'SELECT ' || sql INTO r;
    RETURN r;
END
$$;
CREATE FUNCTION pg_temp.tid(who integer) RETURNS uuid LANGUAGE sql
AS $$ SELECT CASE WHEN who = 0 THEN NULL ELSE ('00000000-0000-4000-8000-' || lpad(who::text, 12, '0'))::uuid END $$;
-- A UTC instant of day today + d at hh:mi:ss.
CREATE FUNCTION pg_temp.at(d integer, hh integer, mi integer, ss float8 DEFAULT 0) RETURNS timestamptz LANGUAGE sql
AS $$ SELECT (pg_temp.today() + d)::timestamp AT TIME ZONE 'UTC' + make_interval(hours => hh, mins => mi, secs => ss) $$;
CREATE FUNCTION pg_temp.agent(t integer, a integer) RETURNS uuid LANGUAGE sql
AS $$ SELECT ('00000000-0000-4000-9' || lpad(t::text, 3, '0') || '-' || lpad(a::text, 12, '0'))::uuid $$;

-- Prices first: the rollups price llm calls when they run.
-- (one global price per model, in force since -infinity: model_prices is a
-- history since 0.5.0; the spans follow a direct write when refreshed)
DELETE FROM analytics.model_prices WHERE model IN ('gpt-4o', 'claude-sonnet-4');
INSERT INTO analytics.model_prices (model, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('gpt-4o', 2.5, 10), ('claude-sonnet-4', 3, 15);
SELECT analytics.refresh_price_spans() IS NOT NULL AS spans_refreshed \gset

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(6000, 21, pg_temp.today(), 0.7)$$, 'generate 21 days');
-- Around now the events are ours: no generated event within 17 to 10
-- minutes before now or after a minute before now (activeSessions counts
-- the 15 minutes before the moment of the call, a little after now()).
SELECT lives_ok($$DELETE FROM analytics.usage_events
                  WHERE occurred_at >= now() - interval '17 minutes' AND occurred_at < now() - interval '10 minutes'
                     OR occurred_at > now() - interval '1 minute'$$, 'clear the edges of the last 15 minutes');

-- The fixture: for tenants 1 and 2 (t), ids fx-*-t.
CREATE TEMP TABLE fx (ev jsonb, late boolean);
INSERT INTO fx
SELECT jsonb_strip_nulls(jsonb_build_object(
           'tenant_id', pg_temp.tid(t), 'agent_id', pg_temp.agent(t, v.a), 'occurred_at', v.ts, 'event_type', v.ty,
           'success', v.ok, 'count', v.n, 'tool_name', v.tool, 'mcp_server', v.mcp, 'model', v.model,
           'input_tokens', v.inp, 'output_tokens', v.outp, 'latency_ms', v.lat, 'error_code', v.err,
           'user_id', replace(v.usr, '#', t::text), 'session_id', replace(v.ses, '#', t::text),
           'execution_id', replace(v.exe, '#', t::text), 'workflow_id', replace(v.wf, '#', t::text), 'workflow_type', v.wft)),
       v.late
FROM (VALUES (1), (2)) ts(t)
CROSS JOIN LATERAL (VALUES
    -- A session across midnight between two rolled days, with a workflow
    -- run across it (two workflow events, the second failed).
    (pg_temp.at(-16, 23, 50), 'session', 1, true, 1, NULL, NULL, NULL, NULL::bigint, NULL::bigint, NULL::float8, NULL, 'fx-u1-#', 'fx-s1-#', NULL, NULL, NULL, false),
    (pg_temp.at(-16, 23, 50, 1.5), 'workflow', 1, true, 1, NULL, NULL, NULL, NULL, NULL, 60000.5, NULL, 'fx-u1-#', 'fx-s1-#', NULL, 'fx-wf1-#', 'multi_agent', false),
    (pg_temp.at(-16, 23, 55), 'agent_execution', 1, true, 1, NULL, NULL, NULL, NULL, NULL, 1200.25, NULL, 'fx-u1-#', 'fx-s1-#', 'fx-e1-#', 'fx-wf1-#', NULL, false),
    (pg_temp.at(-16, 23, 56), 'tool_call', 1, true, 1, 'web_search', 'mcp-core', NULL, NULL, NULL, 300, NULL, 'fx-u1-#', 'fx-s1-#', 'fx-e1-#', 'fx-wf1-#', NULL, false),
    (pg_temp.at(-16, 23, 56, 10), 'llm_call', 1, true, 1, NULL, NULL, 'gpt-4o', 1200, 300, 800, NULL, 'fx-u1-#', 'fx-s1-#', 'fx-e1-#', 'fx-wf1-#', NULL, false),
    (pg_temp.at(-16, 23, 57), 'llm_call', 1, true, 1, NULL, NULL, 'fx-unpriced-model', 500, 100, 650, NULL, 'fx-u1-#', 'fx-s1-#', 'fx-e1-#', 'fx-wf1-#', NULL, false),
    (pg_temp.at(-15, 0, 10), 'agent_execution', 2, false, 1, NULL, NULL, NULL, NULL, NULL, 30000, 'timeout', 'fx-u1-#', 'fx-s1-#', 'fx-e2-#', 'fx-wf1-#', NULL, false),
    (pg_temp.at(-15, 0, 11), 'tool_call', 2, false, 1, 'sql_query', 'mcp-data', NULL, NULL, NULL, 120, 'upstream_error', 'fx-u1-#', 'fx-s1-#', 'fx-e2-#', 'fx-wf1-#', NULL, false),
    (pg_temp.at(-15, 0, 20), 'workflow', 1, false, 1, NULL, NULL, NULL, NULL, NULL, 2000, 'upstream_error', 'fx-u1-#', 'fx-s1-#', NULL, 'fx-wf1-#', 'multi_agent', false),
    -- Late, after the rollups: the same session goes on; a new session
    -- with an execution and a pipeline run on rolled day -15.
    (pg_temp.at(-15, 1, 0), 'llm_call', 1, true, 1, NULL, NULL, 'claude-sonnet-4', 2000, 500, 1500, NULL, 'fx-u1-#', 'fx-s1-#', 'fx-e2-#', 'fx-wf1-#', NULL, true),
    (pg_temp.at(-15, 14, 0), 'session', 3, true, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'fx-u2-#', 'fx-s2-#', NULL, NULL, NULL, true),
    (pg_temp.at(-15, 14, 1), 'workflow', 3, true, 1, NULL, NULL, NULL, NULL, NULL, 9000, NULL, 'fx-u2-#', 'fx-s2-#', NULL, 'fx-wf2-#', 'pipeline', true),
    (pg_temp.at(-15, 14, 2), 'agent_execution', 3, true, 1, NULL, NULL, NULL, NULL, NULL, 5000, NULL, 'fx-u2-#', 'fx-s2-#', 'fx-e3-#', 'fx-wf2-#', NULL, true),
    (pg_temp.at(-15, 14, 3), 'tool_call', 3, true, 4, 'read_file', 'mcp-workspace', NULL, NULL, NULL, 40, NULL, 'fx-u2-#', 'fx-s2-#', 'fx-e3-#', 'fx-wf2-#', NULL, true),
    (pg_temp.at(-15, 14, 30), 'llm_call', 4, true, 1, 'read_file', 'mcp-workspace', 'gpt-4o', 900, 90, 700, NULL, 'fx-u2-#', 'fx-s2-#', 'fx-e3-#', 'fx-wf2-#', NULL, true),
    -- Raw day -3: a session with pre-counted tool calls, a typed and an
    -- untyped run.
    (pg_temp.at(-3, 9, 0), 'agent_execution', 1, true, 1, NULL, NULL, NULL, NULL, NULL, 4200, NULL, 'fx-u1-#', 'fx-s3-#', 'fx-e4-#', 'fx-wf3-#', NULL, false),
    (pg_temp.at(-3, 9, 1), 'tool_call', 1, true, 3, 'create_ticket', 'mcp-core', NULL, NULL, NULL, 75, NULL, 'fx-u1-#', 'fx-s3-#', 'fx-e4-#', 'fx-wf3-#', NULL, false),
    (pg_temp.at(-3, 9, 2), 'llm_call', 1, true, 1, NULL, NULL, 'claude-sonnet-4', 3000, 700, 2100, NULL, 'fx-u1-#', 'fx-s3-#', 'fx-e4-#', 'fx-wf3-#', NULL, false),
    (pg_temp.at(-3, 9, 5), 'workflow', 1, true, 1, NULL, NULL, NULL, NULL, NULL, 4000, NULL, 'fx-u1-#', 'fx-s3-#', NULL, 'fx-wf3-#', 'multi_agent', false),
    (pg_temp.at(-3, 10, 0), 'workflow', 2, true, 2, NULL, NULL, NULL, NULL, NULL, 100, NULL, 'fx-u3-#', NULL, NULL, 'fx-wf4-#', NULL, false),
    -- A call whose execution has no agent_execution event (its fields null).
    (pg_temp.at(-3, 11, 0), 'tool_call', 1, true, 1, 'web_search', 'mcp-core', NULL, NULL, NULL, 50, NULL, 'fx-u1-#', 'fx-s3-#', 'fx-orphan-#', NULL, NULL, false),
    -- Yesterday (rolled below, then a late event: rollup rows and tail).
    (pg_temp.at(-1, 12, 0), 'agent_execution', 5, true, 1, NULL, NULL, NULL, NULL, NULL, 900, NULL, 'fx-u3-#', 'fx-s4-#', 'fx-e5-#', NULL, NULL, false),
    (pg_temp.at(-1, 12, 5), 'llm_call', 5, true, 1, NULL, NULL, 'gpt-4o-mini', 100, 10, 50, NULL, 'fx-u3-#', 'fx-s4-#', 'fx-e5-#', NULL, NULL, true),
    -- The last minutes: an active session (and its user, on no other day)
    -- and one that ended half an hour ago.
    (now() - interval '5 minutes', 'agent_execution', 6, true, 1, NULL, NULL, NULL, NULL, NULL, 333.5, NULL, 'fx-u4-#', 'fx-s5-#', 'fx-e6-#', NULL, NULL, false),
    (now() - interval '4 minutes', 'tool_call', 6, false, 1, 'web_search', 'mcp-core', NULL, NULL, NULL, 9000, 'timeout', 'fx-u4-#', 'fx-s5-#', 'fx-e6-#', NULL, NULL, false),
    (now() - interval '30 minutes', 'session', 6, true, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'fx-u4-#', 'fx-s6-#', NULL, NULL, NULL, false),
    -- The same session and execution ids in both tenants.
    (pg_temp.at(-2, 8, 0), 'agent_execution', 2, true, 1, NULL, NULL, NULL, NULL, NULL, 100, NULL, 'fx-shared-user', 'fx-shared', 'fx-shared-exec', NULL, NULL, false),
    (pg_temp.at(-2, 8, 1), 'llm_call', 2, true, 1, NULL, NULL, 'gpt-4o', 10, 1, 10, NULL, 'fx-shared-user', 'fx-shared', 'fx-shared-exec', NULL, NULL, false)
) v(ts, ty, a, ok, n, tool, mcp, model, inp, outp, lat, err, usr, ses, exe, wf, wft, late);
-- A session of tenant 2 with 1005 events (five at the same instant).
INSERT INTO fx
SELECT jsonb_build_object('tenant_id', pg_temp.tid(2), 'agent_id', pg_temp.agent(2, 1 + i % 3),
                          'occurred_at', pg_temp.at(-2, 10, 0, greatest(i - 5, 0) * 0.5), 'event_type', 'llm_call',
                          'model', CASE WHEN i % 2 = 0 THEN 'gpt-4o' ELSE 'gpt-4o-mini' END,
                          'input_tokens', 100 + i, 'output_tokens', i % 7, 'latency_ms', 10 + i % 13,
                          'user_id', CASE WHEN i > 2 THEN 'fx-u5-2' END, 'session_id', 'fx-big'), false
FROM generate_series(1, 1005) i;

SELECT is(analytics.record_events((SELECT jsonb_agg(ev) FROM fx WHERE NOT late)), (SELECT count(*) FROM fx WHERE NOT late),
          'the fixture events (record_events)');
SELECT lives_ok($$SELECT analytics.run_rollup(d::date) FROM generate_series(pg_temp.today() - 20, pg_temp.today() - 12, interval '1 day') d$$,
                'roll up days -20..-12');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 6)$$, 'roll up day -6');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 1)$$, 'roll up yesterday');
SELECT is(analytics.record_events((SELECT jsonb_agg(ev) FROM fx WHERE late)), (SELECT count(*) FROM fx WHERE late),
          'late fixture events on rolled days -15 and -1');
SELECT is((SELECT count(*) FROM analytics.session_daily WHERE session_id = 'fx-s2-1'), 0::bigint,
          'the late session is not in the rollups (read from raw events past the watermark)');
SELECT is((SELECT count(*) FROM analytics.session_daily WHERE session_id = 'fx-s1-1'), 2::bigint,
          'the session across midnight is in the rollups of both days');

CREATE TEMP TABLE who AS SELECT w FROM generate_series(0, 6) w;
-- Windows: day windows as from/to dates, hour windows as timestamps.
CREATE TEMP TABLE windows AS
SELECT * FROM (VALUES
    (pg_temp.at(-6, 0, 0), pg_temp.at(1, 0, 0), '7 days ending today'),
    (pg_temp.at(-29, 0, 0), pg_temp.at(1, 0, 0), '30 days ending today'),
    (pg_temp.at(-20, 0, 0), pg_temp.at(-9, 0, 0), 'rolled days, late events, raw days'),
    (pg_temp.at(-15, 0, 0), pg_temp.at(-14, 0, 0), 'the rolled day with late events (hourly)'),
    (pg_temp.at(-16, 0, 0), pg_temp.at(-14, 0, 0), 'two rolled days, 48 hours (hourly)'),
    (pg_temp.at(-4, 0, 0), pg_temp.at(-1, 0, 0), 'three raw days (daily)'),
    (pg_temp.at(-1, 0, 0), pg_temp.at(1, 0, 0), 'yesterday (rollup + tail) and today'),
    (pg_temp.at(-16, 20, 17, 5.25), pg_temp.at(-15, 3, 30), 'timestamps across midnight'),
    (date_trunc('second', now()) - interval '24 hours', date_trunc('second', now()), 'the last 24 hours')
) v(f, t, what);
CREATE FUNCTION pg_temp.arg(f timestamptz, t timestamptz) RETURNS text LANGUAGE sql
AS $$ SELECT CASE WHEN f = date_trunc('day', f) AND t = date_trunc('day', t)
                  THEN format('"from" => %L, "to" => %L', to_char(f, 'YYYY-MM-DD'), to_char(t - interval '1 day', 'YYYY-MM-DD'))
                  ELSE format('"from" => %L, "to" => %L', pg_temp.ts(f), pg_temp.ts(t)) END $$;

-------------------------------------------------------------------------------
-- session_activity
-------------------------------------------------------------------------------
CREATE TEMP TABLE sa AS
SELECT w, f, t, what, pg_temp.call(w, format('analytics_api.session_activity(%s)', pg_temp.arg(f, t))) AS j
FROM who, windows;
SELECT is(j - 'avgResponseTimeMs', pg_temp.o_session_activity(pg_temp.tid(w), f, t), format('session_activity = oracle: %s, %s', w, what))
FROM sa ORDER BY w, f;
SELECT ok(coalesce(abs((j ->> 'avgResponseTimeMs')::numeric - pg_temp.o_response_ms(pg_temp.tid(w), f, t)) <= 0.001,
                   (j ->> 'avgResponseTimeMs') IS NULL AND pg_temp.o_response_ms(pg_temp.tid(w), f, t) IS NULL),
          format('session_activity avgResponseTimeMs = oracle: %s, %s', w, what))
FROM sa ORDER BY w, f;
SELECT is((SELECT count(*) FROM sa WHERE w IN (0, 1, 2) AND (j ->> 'executions')::int > 0 AND (j ->> 'sessions')::int > 0 AND (j ->> 'uniqueUsers')::int > 0),
          (SELECT count(*) FROM sa WHERE w IN (0, 1, 2)),
          'every answer of tenants 1, 2 and the operator has sessions, executions and users');
SELECT ok((j ->> 'activeSessions')::int >= CASE WHEN w = 0 THEN 2 ELSE 1 END, format('activeSessions counts the fixture''s active session (%s)', w))
FROM sa WHERE w IN (0, 1, 2) AND what = '7 days ending today' ORDER BY w;
SELECT is(j ->> 'granularity', CASE WHEN t - f <= interval '48 hours' THEN 'hour' ELSE 'day' END, format('granularity of %s', what))
FROM sa WHERE w = 0 ORDER BY f;
-- Defaults and period texts: the oracle over the answer's own window.
CREATE TEMP TABLE sa2 AS
SELECT w, c, pg_temp.call(w, c) AS j
FROM who, (VALUES ('analytics_api.session_activity()'), ('analytics_api.session_activity(period => ''24h'')'),
                  ('analytics_api.session_activity(period => ''1d'')'), ('analytics_api.session_activity(hours => ''3'')'),
                  ('analytics_api.session_activity(days => ''30'')'), ('analytics_api.session_activity(period => ''48h'')'),
                  ('analytics_api.session_activity(period => ''2d'')'), ('analytics_api.session_activity(period => ''3d'')')) v(c);
SELECT is(j ->> 'granularity', g, format('%s: %s', c, g))
FROM sa2 JOIN (VALUES ('analytics_api.session_activity(period => ''48h'')', 'hour'), ('analytics_api.session_activity(period => ''2d'')', 'hour'),
                      ('analytics_api.session_activity(period => ''3d'')', 'day'), ('analytics_api.session_activity(hours => ''3'')', 'hour')) v(c2, g)
  ON c = c2 WHERE w = 0;
SELECT is(j - 'avgResponseTimeMs', pg_temp.o_session_activity(pg_temp.tid(w), (pg_temp.window_of(j)).f, (pg_temp.window_of(j)).t),
          format('%s = oracle over its period: %s', c, w))
FROM sa2 ORDER BY w, c;
SELECT is((pg_temp.window_of(j)).t - (pg_temp.window_of(j)).f, interval '7 days', 'session_activity() is 7 days')
FROM sa2 WHERE w = 0 AND c = 'analytics_api.session_activity()';
SELECT is(pg_temp.call(0, format('analytics_api.session_activity(%s, "tenantId" => %L)', pg_temp.arg(f, t), pg_temp.tid(2))) - 'avgResponseTimeMs',
          pg_temp.o_session_activity(pg_temp.tid(2), f, t), format('session_activity(tenantId) = oracle: %s', what))
FROM windows ORDER BY f;

-------------------------------------------------------------------------------
-- session_detail
-------------------------------------------------------------------------------
CREATE TEMP TABLE sessions AS
SELECT w, sid FROM (VALUES (0), (1), (2)) w(w)
CROSS JOIN (VALUES ('fx-s1-1'), ('fx-s1-2'), ('fx-s2-1'), ('fx-s3-2'), ('fx-s4-1'), ('fx-s5-2'), ('fx-shared'), ('fx-big')) s(sid)
WHERE pg_temp.o_session_detail(pg_temp.tid(w), sid) IS NOT NULL
UNION ALL
-- and the busiest generated sessions of each tenant
SELECT w, sid FROM (SELECT tenant_id, session_id AS sid, row_number() OVER (PARTITION BY tenant_id ORDER BY count(*) DESC, session_id) AS k
                    FROM analytics.usage_events WHERE session_id LIKE 'sess-%' GROUP BY 1, 2) x
JOIN who ON pg_temp.tid(who.w) = x.tenant_id WHERE k <= 2;
SELECT is((SELECT count(*) FROM sessions), 29::bigint, 'the sessions compared: 17 of the fixture, the 2 busiest generated ones of every tenant');
SELECT is(pg_temp.call(w, format('analytics_api.session_detail("sessionId" => %L)', sid)), pg_temp.o_session_detail(pg_temp.tid(w), sid),
          format('session_detail(%s) = oracle: %s', sid, w))
FROM sessions ORDER BY w, sid;
SELECT is(pg_temp.call(0, format('analytics_api.session_detail("sessionId" => %L, "tenantId" => %L)', 'fx-shared', pg_temp.tid(1))),
          pg_temp.o_session_detail(pg_temp.tid(1), 'fx-shared'), 'session_detail(tenantId) = oracle: the operator naming tenant 1');
SELECT is(pg_temp.call(0, $$analytics_api.session_detail("sessionId" => 'fx-shared')$$) -> 'tenantId', 'null'::jsonb,
          'a session id two tenants hold: the operator sees both, tenantId null');
SELECT is((pg_temp.call(2, $$analytics_api.session_detail("sessionId" => 'fx-big')$$) ->> 'truncated')::boolean, true,
          'a session of 1005 events is truncated');
SELECT is(jsonb_array_length(pg_temp.call(2, $$analytics_api.session_detail("sessionId" => 'fx-big')$$) -> 'events'), 1000,
          'to 1000 events');
SELECT is(pg_temp.call(2, $$analytics_api.session_detail("sessionId" => 'fx-big')$$) -> 'totals' -> 'events', '1005'::jsonb,
          'its totals count every event');
SELECT is(analytics.session_detail(pg_temp.tid(2), 'fx-big', 10), pg_temp.o_session_detail(pg_temp.tid(2), 'fx-big', 10),
          'the typed function with max_events 10 = oracle');

-------------------------------------------------------------------------------
-- execution_detail
-------------------------------------------------------------------------------
CREATE TEMP TABLE executions AS
SELECT w, xid FROM (VALUES (0), (1), (2)) w(w)
CROSS JOIN (VALUES ('fx-e1-1'), ('fx-e1-2'), ('fx-e2-1'), ('fx-e3-2'), ('fx-e4-1'), ('fx-e5-2'), ('fx-e6-1'), ('fx-shared-exec'),
                   ('fx-orphan-1'), ('fx-orphan-2')) s(xid)
WHERE pg_temp.o_execution_detail(pg_temp.tid(w), xid) IS NOT NULL
UNION ALL
SELECT w, xid FROM (SELECT tenant_id, execution_id AS xid, row_number() OVER (PARTITION BY tenant_id ORDER BY execution_id) AS k
                    FROM analytics.usage_events WHERE execution_id LIKE 'exec-%' AND event_type = 'agent_execution' GROUP BY 1, 2) x
JOIN who ON pg_temp.tid(who.w) = x.tenant_id WHERE k <= 2;
SELECT is((SELECT count(*) FROM executions), 33::bigint,
          'the executions compared: 21 of the fixture (4 of them without an execution event), 2 generated ones of every tenant and the operator');
SELECT is((SELECT count(*) FROM executions e WHERE pg_temp.o_execution_detail(pg_temp.tid(e.w), e.xid) #>> '{execution,status}' IS NULL), 4::bigint,
          'four of them have no execution event');
SELECT is(pg_temp.call(w, format('analytics_api.execution_detail("executionId" => %L)', xid)), pg_temp.o_execution_detail(pg_temp.tid(w), xid),
          format('execution_detail(%s) = oracle: %s', xid, w))
FROM executions ORDER BY w, xid;
SELECT is(pg_temp.call(1, $$analytics_api.execution_detail("executionId" => 'fx-e1-1')$$) #>> '{totals, unpricedCalls}', '1',
          'an llm call of a model without price is unpriced');
SELECT is(pg_temp.call(1, $$analytics_api.execution_detail("executionId" => 'fx-e1-1')$$) #> '{calls, 2, costUsd}', 'null'::jsonb,
          'and has no cost');
SELECT is(pg_temp.call(1, $$analytics_api.execution_detail("executionId" => 'fx-e1-1')$$) #>> '{calls, 1, costUsd}', '0.006000',
          'gpt-4o: 1200 input and 300 output tokens cost 0.006000');
SELECT is(pg_temp.call(1, $$analytics_api.execution_detail("executionId" => 'fx-e2-1')$$) #>> '{execution, status}', 'timeout',
          'a timed-out execution');
SELECT is(analytics.execution_detail(pg_temp.tid(1), 'fx-e1-1', 1), pg_temp.o_execution_detail(pg_temp.tid(1), 'fx-e1-1', 1),
          'the typed function with max_calls 1 = oracle');

-------------------------------------------------------------------------------
-- user_analytics, user_trends
-------------------------------------------------------------------------------
-- The busiest generated user of tenants 1 and 2.
SELECT (SELECT user_id FROM analytics.usage_events WHERE tenant_id = pg_temp.tid(1) AND user_id LIKE 'user-%'
        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS gu1,
       (SELECT user_id FROM analytics.usage_events WHERE tenant_id = pg_temp.tid(2) AND user_id LIKE 'user-%'
        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS gu2 \gset
CREATE TEMP TABLE users AS
SELECT w, uid FROM (VALUES (0), (1), (2)) w(w)
CROSS JOIN (VALUES ('fx-u1-1'), ('fx-u1-2'), ('fx-u2-1'), ('fx-u3-2'), ('fx-u4-1'), ('fx-u5-2'), ('fx-shared-user'), (:'gu1'), (:'gu2')) u(uid)
WHERE EXISTS (SELECT 1 FROM analytics.usage_events e WHERE e.user_id = uid AND e.tenant_id = ANY (pg_temp.scope(pg_temp.tid(w))));
SELECT is((SELECT count(*) FROM users), 19::bigint, 'the users compared: 15 of the fixture, 2 generated ones of tenants 1 and 2');
SELECT is(pg_temp.call(w, format('analytics_api.user_analytics(%s, "userId" => %L)', pg_temp.arg(f, t), uid)),
          pg_temp.o_user_analytics(pg_temp.tid(w), f, t, uid, 'custom'), format('user_analytics(%s) = oracle: %s, %s', uid, w, what))
FROM users, windows ORDER BY w, uid, f;
-- (periods ending today: the oracle over the answer's own window, which is
-- checked to be the N days ending the day of the call)
CREATE TEMP TABLE ua AS
SELECT w, uid, p, pt, n, pg_temp.call(w, format('analytics_api.user_analytics(%s"userId" => %L)', coalesce(p || ', ', ''), uid)) AS j
FROM users, (VALUES (NULL, '7d', 7), ('period => ''30d''', '30d', 30), ('days => ''365''', '365d', 365), ('hours => ''5''', '5h', 0),
                    ('start_date => ''' || pg_temp.d(-20) || ''', end_date => ''' || pg_temp.d(-2) || '''', 'custom', 19)) v(p, pt, n);
SELECT is(j, pg_temp.o_user_analytics(pg_temp.tid(w), (pg_temp.window_of(j)).f, (pg_temp.window_of(j)).t, uid, pt),
          format('user_analytics(%s, %s) = oracle: %s', uid, coalesce(p, 'default'), w))
FROM ua ORDER BY w, uid, p;
SELECT is((pg_temp.window_of(j)).t - (pg_temp.window_of(j)).f, make_interval(days => n), format('user_analytics(%s): %s days', coalesce(p, 'default'), n))
FROM ua WHERE w = 0 AND uid = 'fx-u1-1' AND n > 0 ORDER BY p;
SELECT is(j, pg_temp.o_user_analytics(pg_temp.tid(1), (pg_temp.window_of(j)).f, (pg_temp.window_of(j)).t, 'fx-u4-1', '1h'),
          'user_analytics(period 1h) = oracle over its period: the active user')
FROM (SELECT pg_temp.call(1, $$analytics_api.user_analytics(period => '1h', "userId" => 'fx-u4-1')$$) AS j) x;
SELECT is(pg_temp.call(1, $$analytics_api.user_analytics(period => '1h', "userId" => 'fx-u4-1')$$) ->> 'actions', '3',
          'the active user''s three events of the last hour');
SELECT is(analytics.user_analytics(pg_temp.tid(w), pg_temp.at(-16, 0, 0), pg_temp.at(-14, 0, 0), uid, '2d'),
          pg_temp.o_user_analytics(pg_temp.tid(w), pg_temp.at(-16, 0, 0), pg_temp.at(-14, 0, 0), uid, '2d'),
          format('typed user_analytics(%s, period_type 2d) = oracle: %s', uid, w))
FROM users WHERE uid LIKE 'fx-u1-%' ORDER BY w, uid;
SELECT is(analytics.user_trends(pg_temp.tid(w), pg_temp.at(-16, 0, 0), pg_temp.at(-14, 0, 0), uid, 'hour', '2d'),
          pg_temp.o_user_trends(pg_temp.tid(w), pg_temp.at(-16, 0, 0), pg_temp.at(-14, 0, 0), uid, 'hour', '2d'),
          format('typed user_trends(%s, hour) = oracle: %s', uid, w))
FROM users WHERE uid LIKE 'fx-u1-%' ORDER BY w, uid;
SELECT is(pg_temp.call(0, format('analytics_api.user_analytics("userId" => %L, "tenantId" => %L)', 'fx-shared-user', pg_temp.tid(2))),
          pg_temp.o_user_analytics(pg_temp.tid(2), pg_temp.at(-6, 0, 0), pg_temp.at(1, 0, 0), 'fx-shared-user', '7d'),
          'user_analytics(tenantId) = oracle: the operator naming tenant 2');
-- Known users without events in the window: zeros (USER_NOT_FOUND is for
-- users never seen; 09_ops_sessions_errors).
SELECT is(pg_temp.call(w, format('analytics_api.user_analytics("from" => %L, "to" => %L, "userId" => %L)', pg_temp.d(-11), pg_temp.d(-10), uid)),
          pg_temp.o_user_analytics(pg_temp.tid(w), pg_temp.at(-11, 0, 0), pg_temp.at(-9, 0, 0), uid, 'custom'),
          format('user_analytics(%s) of a window without its events: zeros (%s)', uid, why))
FROM (VALUES (1, 'fx-u1-1', 'in the rollups'), (1, 'fx-u2-1', 'raw, late on a rolled day'), (1, 'fx-u4-1', 'raw, today'),
             (2, 'fx-u3-2', 'rollups and raw'), (0, 'fx-u5-2', 'raw, the operator')) v(w, uid, why);

SELECT is(pg_temp.call(w, format('analytics_api.user_trends(%s, "userId" => %L, granularity => %L)', pg_temp.arg(f, t), uid, g)),
          pg_temp.o_user_trends(pg_temp.tid(w), f, t, uid, g, 'custom'), format('user_trends(%s, %s) = oracle: %s, %s', uid, g, w, what))
FROM users, windows, (VALUES ('hour'), ('day'), ('week'), ('month')) v(g)
WHERE (g <> 'hour' OR t - f <= interval '7 days') AND uid IN ('fx-u1-1', 'fx-u1-2', 'fx-u2-1', 'fx-u5-2', :'gu1')
ORDER BY w, uid, f, g;
SELECT is(j, pg_temp.o_user_trends(pg_temp.tid(w), (pg_temp.window_of(j)).f, (pg_temp.window_of(j)).t, uid, 'day', '30d'),
          format('user_trends(%s) defaults (30d, day) = oracle: %s', uid, w))
FROM (SELECT w, uid, pg_temp.call(w, format('analytics_api.user_trends("userId" => %L)', uid)) AS j FROM users) x ORDER BY w, uid;
SELECT is(jsonb_array_length(pg_temp.call(0, $$analytics_api.user_trends("userId" => 'fx-u1-1')$$) -> 'data'), 30, 'user_trends(): 30 days');
SELECT is(j, pg_temp.o_user_trends(pg_temp.tid(w), (pg_temp.window_of(j)).f, (pg_temp.window_of(j)).t, uid, 'hour', '48h'),
          format('user_trends(48h, hour) = oracle over its period: %s, %s', uid, w))
FROM (SELECT w, uid, pg_temp.call(w, format('analytics_api.user_trends(period => ''48h'', "userId" => %L, granularity => ''hour'')', uid)) AS j
      FROM users WHERE uid IN ('fx-u4-1', :'gu1')) x ORDER BY w, uid;
SELECT is(pg_temp.call(1, format('analytics_api.user_trends("from" => %L, "to" => %L, "userId" => ''fx-u1-1'', granularity => ''week'')', pg_temp.d(-60), pg_temp.d(0))),
          pg_temp.o_user_trends(pg_temp.tid(1), pg_temp.at(-60, 0, 0), pg_temp.at(1, 0, 0), 'fx-u1-1', 'week', 'custom'),
          'user_trends by week over 61 days: the first week clipped to the period');

-------------------------------------------------------------------------------
-- workflow_performance
-------------------------------------------------------------------------------
CREATE TEMP TABLE wp AS
SELECT w, f, t, what, pg_temp.call(w, format('analytics_api.workflow_performance(%s)', pg_temp.arg(f, t))) AS j
FROM who, windows;
SELECT is(pg_temp.wf_strip(j), pg_temp.o_workflow_performance(pg_temp.tid(w), f, t), format('workflow_performance = oracle: %s, %s', w, what))
FROM wp ORDER BY w, f;
SELECT is(pg_temp.o_wf_bad_latencies(pg_temp.tid(w), f, t, j), 0::bigint,
          format('workflow_performance durations and daily p95 within 1%% of the exact percentiles: %s, %s', w, what))
FROM wp ORDER BY w, f;
SELECT is((SELECT count(*) FROM wp, jsonb_array_elements(j -> 'workflowTypes') x WHERE w = 1 AND what = '30 days ending today'),
          6::bigint, 'tenant 1 over 30 days: the four generated types, pipeline (fx-wf2) and the untyped runs (fx-wf4)');
SELECT is((SELECT x FROM wp, jsonb_array_elements(j -> 'workflowTypes') x
           WHERE w = 1 AND what = 'two rolled days, 48 hours (hourly)' AND x ->> 'workflowType' = 'multi_agent') - 'durationMs',
          '{"workflowType": "multi_agent", "runs": 1, "successes": 0, "failures": 1, "successRate": 0, "avgAgentsPerRun": 2,
            "avgToolCallsPerRun": 2, "avgTokensPerRun": 4600}'::jsonb,
          'the run across midnight: one run, failed, its two days merged');
SELECT is(pg_temp.wf_strip(j), pg_temp.o_workflow_performance(pg_temp.tid(w), (pg_temp.window_of(j)).f, (pg_temp.window_of(j)).t),
          format('workflow_performance() defaults (7d) = oracle: %s', w))
FROM (SELECT w, pg_temp.call(w, 'analytics_api.workflow_performance()') AS j FROM who) x ORDER BY w;
SELECT is(jsonb_array_length(pg_temp.call(0, 'analytics_api.workflow_performance()') -> 'series'), 7, 'workflow_performance(): 7 days');
SELECT is(pg_temp.wf_strip(j), pg_temp.o_workflow_performance(pg_temp.tid(w), (pg_temp.window_of(j)).f, (pg_temp.window_of(j)).t),
          format('workflow_performance(24h) = oracle over its period: %s', w))
FROM (SELECT w, pg_temp.call(w, 'analytics_api.workflow_performance(period => ''24h'')') AS j FROM who) x ORDER BY w;

SELECT * FROM finish();
ROLLBACK;
