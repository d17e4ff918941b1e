-- Sessions, executions, users and workflows (contract §6.3): every error
-- these API functions give, by HTTP status and code, in the order of the
-- checks (§5 first, then §6.1 scope, period, own parameters, unknown ids);
-- isolation: a tenant never sees another tenant's sessions, executions or
-- users (the same ids in two tenants are two things), a forged tenantId is
-- 403; users are known from user_daily and from every raw day.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
\ir 06_api.inc

CREATE FUNCTION pg_temp.tid(n integer) RETURNS uuid LANGUAGE sql
AS $$ SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid $$;
-- A call with one more argument.
CREATE FUNCTION pg_temp.with_arg(sql text, arg text) RETURNS text LANGUAGE sql
AS $$ SELECT left(sql, -1) || CASE WHEN sql LIKE '%()' THEN '' ELSE ', ' END || arg || ')' $$;
CREATE FUNCTION pg_temp.operator() RETURNS void LANGUAGE sql
AS $$ SELECT set_config('request.jwt.claims', '{"role": "analytics_operator"}', true) $$;
-- Run sql as role r (SET LOCAL ROLE, as PostgREST does); the first column
-- as text, or the error as api_status gives it.
CREATE FUNCTION pg_temp.as_role(r text, sql text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
    res   text;
    state text;
    msg   text;
    det   text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    EXECUTE sql INTO res;
    RESET ROLE;
    RETURN coalesce(res, 'NULL');
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    IF state = 'PGRST' THEN
        RETURN 'PGRST ' || (det::jsonb ->> 'status') || ' ' || (msg::jsonb ->> 'code');
    END IF;
    RETURN state;
END
$$;

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(1500, 5, pg_temp.today(), 0.3)$$, 'generate data');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 3)$$, 'roll up day -3');
-- Ids of one tenant only, and ids both tenants 1 and 2 hold.
SELECT is(analytics.record_events(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
              'tenant_id', pg_temp.tid(v.t), 'occurred_at', (pg_temp.today() - 2)::timestamp AT TIME ZONE 'UTC' + make_interval(hours => 9, mins => v.m),
              'event_type', v.ty, 'agent_id', ('00000000-0000-4000-9' || lpad(v.t::text, 3, '0') || '-000000000001')::uuid,
              'session_id', v.s, 'execution_id', v.x, 'user_id', v.u, 'workflow_id', v.w, 'workflow_type', v.wt, 'latency_ms', 10 * v.m)))),
          12::bigint, 'ids of tenant 1 only, of tenant 2 only, and of both')
FROM (VALUES (1, 1, 'agent_execution', 'sess-one', 'exec-one', 'user-one', 'wf-one', NULL),
             (1, 2, 'tool_call', 'sess-one', 'exec-one', 'user-one', 'wf-one', NULL),
             (1, 3, 'workflow', 'sess-one', NULL, 'user-one', 'wf-one', 'etl'),
             (2, 4, 'agent_execution', 'sess-two', 'exec-two', 'user-two', 'wf-two', NULL),
             (2, 5, 'llm_call', 'sess-two', 'exec-two', 'user-two', 'wf-two', NULL),
             (2, 6, 'workflow', 'sess-two', NULL, 'user-two', 'wf-two', 'chat'),
             (1, 7, 'agent_execution', 'sess-both', 'exec-both', 'user-both', NULL, NULL),
             (2, 8, 'agent_execution', 'sess-both', 'exec-both', 'user-both', NULL, NULL),
             (2, 9, 'tool_call', 'sess-both', 'exec-both', 'user-both', NULL, NULL),
             (5, 10, 'agent_execution', 'sess-free', 'exec-free', 'user-free', NULL, NULL),
             (1, 11, 'session', 'sess-old', NULL, 'user-gone', NULL, NULL),
             (1, 12, 'session', 'sess-old', NULL, 'user-gone', NULL, NULL)) v(t, m, ty, s, x, u, w, wt);

-- Every function, with the parameters it needs.
CREATE TEMP TABLE calls (name text, sql text, periodic boolean);
INSERT INTO calls VALUES
    ('session_activity', 'analytics_api.session_activity()', true),
    ('session_detail', $$analytics_api.session_detail("sessionId" => 'sess-both')$$, false),
    ('execution_detail', $$analytics_api.execution_detail("executionId" => 'exec-both')$$, false),
    ('user_analytics', $$analytics_api.user_analytics("userId" => 'user-both')$$, true),
    ('user_trends', $$analytics_api.user_trends("userId" => 'user-both')$$, true),
    ('workflow_performance', 'analytics_api.workflow_performance()', true);
-- The same with more arguments (a placeholder %s for them).
CREATE TEMP TABLE pcalls AS
SELECT name, CASE name WHEN 'session_activity' THEN 'analytics_api.session_activity(%s)'
                       WHEN 'user_analytics' THEN $$analytics_api.user_analytics("userId" => 'user-both', %s)$$
                       WHEN 'user_trends' THEN $$analytics_api.user_trends("userId" => 'user-both', %s)$$
                       ELSE 'analytics_api.workflow_performance(%s)' END AS sql
FROM calls WHERE periodic;
CREATE TEMP TABLE all_calls AS
SELECT name, sql FROM calls
UNION ALL
SELECT name, format(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000001''') FROM pcalls;

-- Every function works for a paying tenant and for the operator.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': a tenant, with its defaults') FROM calls;
SELECT pg_temp.operator();
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': the operator, with its defaults') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || format(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000002''')), 'ok',
          name || ': the operator naming a tenant') FROM pcalls;

-- 404 NOT_FOUND with analytics.enabled off, before anything else.
SET LOCAL analytics.enabled = off;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': analytics.enabled off: 404') FROM all_calls;
SELECT pg_temp.operator();
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': the operator too: 404') FROM all_calls;
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.api_status('SELECT ' || format(sql, 'period => ''bad''')), 'PGRST 404 NOT_FOUND', name || ': 404 before the claim and period checks')
FROM pcalls;
RESET analytics.enabled;

-- 401 UNAUTHORIZED: a tenant claim naming no registered tenant, or a
-- caller acting as neither a tenant nor the operator.
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 401 UNAUTHORIZED', name || ': an unknown tenant claimed: 401') FROM all_calls;
CREATE ROLE api_test_authenticator LOGIN NOINHERIT;
SELECT lives_ok($$SELECT analytics.create_api_roles('api_test_authenticator')$$, 'the API roles');
SELECT pg_temp.claims('{"tenant_id": "acme"}');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 401 UNAUTHORIZED',
          name || ': a tenant token whose tenant claim is not a uuid: 401') FROM calls;
SELECT pg_temp.claims('{"role": "analytics_tenant"}');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 401 UNAUTHORIZED',
          name || ': a tenant token without a tenant claim: 401') FROM all_calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 401 UNAUTHORIZED',
          name || ': no claims at all: 401') FROM calls;
SELECT pg_temp.claims('{"role": "analytics_operator"}');
SELECT is(pg_temp.as_role('analytics_operator', 'SELECT (' || sql || ') IS NOT NULL'), 'true',
          name || ': the operator role without a tenant claim answers') FROM calls;
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT ' || sql || '::text'), '42501',
          name || ': the anonymous role may not call it (PostgREST answers 401)') FROM calls;

-- 403 ANALYTICS_NOT_AVAILABLE: a free tenant, free_tier_access off (before
-- parameters); allowed with it on.
SELECT pg_temp.as_tenant(5);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 403 ANALYTICS_NOT_AVAILABLE', name || ': free tier: 403') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || format(sql, 'period => ''bad''')), 'PGRST 403 ANALYTICS_NOT_AVAILABLE',
          name || ': free tier: 403 before the period check') FROM pcalls;
SET LOCAL analytics.free_tier_access = on;
SELECT is(pg_temp.api_status($$SELECT analytics_api.session_detail("sessionId" => 'sess-free')$$), 'ok', 'free tier allowed with free_tier_access on');
RESET analytics.free_tier_access;

-- 403 FORBIDDEN: a tenant naming another tenant (a forged tenantId), before
-- the period; naming itself is fine.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 403 FORBIDDEN', name || ': a tenant naming another tenant: 403')
FROM (SELECT name, pg_temp.with_arg(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000002''') AS sql FROM calls) c;
SELECT is(pg_temp.api_status('SELECT ' || format(sql, '"tenantId" => ''not-a-uuid'', period => ''bad''')), 'PGRST 403 FORBIDDEN',
          name || ': any other tenantId, before the period: 403') FROM pcalls;
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': a tenant naming itself') FROM all_calls;
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || pg_temp.with_arg(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000002''') || '::text'),
          'PGRST 403 FORBIDDEN', name || ': through the tenant role too: 403') FROM calls;

-- The operator's tenantId: 400 VALIDATION_ERROR when not a uuid, 404
-- TENANT_NOT_FOUND when unknown.
SELECT pg_temp.operator();
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with_arg(sql, '"tenantId" => ''acme''')), 'PGRST 400 VALIDATION_ERROR',
          name || ': operator, tenantId not a uuid: 400') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with_arg(sql, '"tenantId" => ''00000000-0000-4000-8000-0000000000ff''')), 'PGRST 404 TENANT_NOT_FOUND',
          name || ': operator, unknown tenantId: 404') FROM calls;

-- 400 INVALID_PERIOD and INVALID_DATE_RANGE (tenant and operator alike).
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api_status('SELECT ' || format(sql, a)), 'PGRST 400 INVALID_PERIOD', format('%s(%s): 400 INVALID_PERIOD', name, a))
FROM pcalls CROSS JOIN (VALUES ('period => ''7'''), ('period => ''0d'''), ('period => ''366d'''), ('period => ''169h'''),
                               ('period => ''1w'''), ('period => '''''), ('period => '' 7d'''), ('period => ''7D'''),
                               ('period => ''7d'', "from" => ''' || pg_temp.d(-3) || ''''),
                               ('days => ''7'', hours => ''3'''), ('days => ''x'''), ('hours => ''200'''), ('days => ''400'''),
                               ('period => ''7d'', days => ''7''')) v(a);
SELECT is(pg_temp.api_status('SELECT ' || format(sql, a)), 'PGRST 400 INVALID_DATE_RANGE', format('%s(%s): 400 INVALID_DATE_RANGE', name, a))
FROM pcalls CROSS JOIN (VALUES (format('"from" => %L, "to" => %L', pg_temp.d(-1), pg_temp.d(-2))),
                               (format('"from" => %L, "to" => %L', pg_temp.d(-1), pg_temp.d(1))),
                               (format('"from" => %L, "to" => %L', pg_temp.d(-400), pg_temp.d(0))),
                               (format('"from" => %L, "to" => %L', '2026-02-30', pg_temp.d(0))),
                               (format('"from" => %L, "to" => %L', 'yesterday', pg_temp.d(0))),
                               (format('"from" => %L, "to" => %L', pg_temp.d(-2) || 'T00:00:00Z', to_char(now() + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
                               (format('start_date => %L, end_date => %L', pg_temp.d(-1), pg_temp.d(-3)))) v(a);
SELECT is(pg_temp.api_status('SELECT ' || format(sql, a)), 'ok', format('%s(%s) is allowed', name, a))
FROM pcalls CROSS JOIN (VALUES ('period => ''365d'''), ('period => ''168h'''), ('days => ''1'''), ('hours => ''1'''),
                               (format('"from" => %L, "to" => %L', pg_temp.d(-364), pg_temp.d(0))),
                               (format('"from" => %L, "to" => %L', pg_temp.d(-2) || 'T06:30:00Z', pg_temp.d(-1) || 'T06:30:00+02:00'))) v(a)
WHERE NOT (name = 'user_trends' AND a LIKE '%h''');

-- 400 INVALID_GRANULARITY (user_trends): not hour/day/week/month, hour over
-- more than 7 days; after the period, before the user.
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.user_trends("userId" => 'user-both', granularity => %L%s)$$, g, p)),
          'PGRST 400 INVALID_GRANULARITY', format('user_trends(granularity %L%s): 400 INVALID_GRANULARITY', g, p))
FROM (VALUES ('year', ''), ('Day', ''), ('', ''), (' day', ''), ('quarter', ''), ('hour', ''), ('hour', ', period => ''8d'''),
             ('hour', ', "from" => ''' || pg_temp.d(-7) || ''', "to" => ''' || pg_temp.d(0) || '''')) v(g, p);
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.user_trends("userId" => 'user-both', granularity => %L, period => %L)$$, g, p)), 'ok',
          format('user_trends(granularity %s, period %s) is allowed', g, p))
FROM (VALUES ('hour', '7d'), ('hour', '168h'), ('day', '365d'), ('week', '365d'), ('month', '365d'), ('hour', '1h')) v(g, p);
SELECT is(pg_temp.api_status($$SELECT analytics_api.user_trends("userId" => 'user-both', granularity => 'year', period => 'bad')$$),
          'PGRST 400 INVALID_PERIOD', 'user_trends: the period is checked before the granularity');
SELECT is(pg_temp.api_status($$SELECT analytics_api.user_trends("userId" => 'no-such-user', granularity => 'year')$$),
          'PGRST 400 INVALID_GRANULARITY', 'user_trends: the granularity is checked before the user');

-- 400 VALIDATION_ERROR for the ids: missing, empty, over 256 characters.
SELECT is(pg_temp.api_status(format('SELECT %s', c)), 'PGRST 400 VALIDATION_ERROR', format('%s: 400 VALIDATION_ERROR', left(c, 80)))
FROM (VALUES ('analytics_api.session_detail()'), ($$analytics_api.session_detail("sessionId" => '')$$),
             ('analytics_api.session_detail("sessionId" => NULL)'), (format('analytics_api.session_detail("sessionId" => %L)', repeat('s', 257))),
             ('analytics_api.execution_detail()'), ($$analytics_api.execution_detail("executionId" => '')$$),
             (format('analytics_api.execution_detail("executionId" => %L)', repeat('x', 257))),
             ('analytics_api.user_analytics()'), ($$analytics_api.user_analytics("userId" => '')$$),
             (format('analytics_api.user_analytics("userId" => %L)', repeat('u', 257))),
             ('analytics_api.user_trends()'), (format('analytics_api.user_trends("userId" => %L)', repeat('u', 300)))) v(c);
SELECT is(pg_temp.api_status(format('SELECT analytics_api.session_detail("sessionId" => %L)', repeat('s', 256))), 'PGRST 404 SESSION_NOT_FOUND',
          'a sessionId of 256 characters is valid (and unknown)');
SELECT is(pg_temp.api_status($$SELECT analytics_api.user_analytics(period => 'bad')$$), 'PGRST 400 INVALID_PERIOD',
          'user_analytics: the period is checked before the userId');
SELECT is(pg_temp.api_status($$SELECT analytics_api.user_analytics("userId" => '', period => '7d', "tenantId" => '00000000-0000-4000-8000-000000000001')$$),
          'PGRST 403 FORBIDDEN', 'user_analytics: the scope is checked before the userId');

-- 404 for unknown ids and for another tenant's ids.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status(format('SELECT %s', c)), e, format('tenant 1: %s: %s', c, e))
FROM (VALUES ($$analytics_api.session_detail("sessionId" => 'no-such-session')$$, 'PGRST 404 SESSION_NOT_FOUND'),
             ($$analytics_api.session_detail("sessionId" => 'sess-two')$$, 'PGRST 404 SESSION_NOT_FOUND'),
             ($$analytics_api.session_detail("sessionId" => 'SESS-ONE')$$, 'PGRST 404 SESSION_NOT_FOUND'),
             ($$analytics_api.execution_detail("executionId" => 'no-such-execution')$$, 'PGRST 404 EXECUTION_NOT_FOUND'),
             ($$analytics_api.execution_detail("executionId" => 'exec-two')$$, 'PGRST 404 EXECUTION_NOT_FOUND'),
             ($$analytics_api.user_analytics("userId" => 'no-such-user')$$, 'PGRST 404 USER_NOT_FOUND'),
             ($$analytics_api.user_analytics("userId" => 'user-two')$$, 'PGRST 404 USER_NOT_FOUND'),
             ($$analytics_api.user_analytics("userId" => 'user-free')$$, 'PGRST 404 USER_NOT_FOUND'),
             ($$analytics_api.user_trends("userId" => 'user-two')$$, 'PGRST 404 USER_NOT_FOUND'),
             ($$analytics_api.user_trends("userId" => 'user-two', granularity => 'hour', period => '2d')$$, 'PGRST 404 USER_NOT_FOUND'),
             ($$analytics_api.session_detail("sessionId" => 'sess-one')$$, 'ok'),
             ($$analytics_api.execution_detail("executionId" => 'exec-one')$$, 'ok'),
             ($$analytics_api.user_analytics("userId" => 'user-one')$$, 'ok'),
             ($$analytics_api.user_trends("userId" => 'user-one', granularity => 'hour', period => '2d')$$, 'ok')) v(c, e);
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api_status(format('SELECT %s', c)), e, format('tenant 2: %s: %s', c, e))
FROM (VALUES ($$analytics_api.session_detail("sessionId" => 'sess-one')$$, 'PGRST 404 SESSION_NOT_FOUND'),
             ($$analytics_api.execution_detail("executionId" => 'exec-one')$$, 'PGRST 404 EXECUTION_NOT_FOUND'),
             ($$analytics_api.user_analytics("userId" => 'user-one')$$, 'PGRST 404 USER_NOT_FOUND'),
             ($$analytics_api.session_detail("sessionId" => 'sess-two')$$, 'ok')) v(c, e);
SELECT pg_temp.operator();
SELECT is(pg_temp.api_status(format('SELECT %s', c)), e, format('operator: %s: %s', c, e))
FROM (VALUES ($$analytics_api.session_detail("sessionId" => 'sess-one')$$, 'ok'),
             ($$analytics_api.session_detail("sessionId" => 'sess-two')$$, 'ok'),
             ($$analytics_api.session_detail("sessionId" => 'sess-one', "tenantId" => '00000000-0000-4000-8000-000000000002')$$, 'PGRST 404 SESSION_NOT_FOUND'),
             ($$analytics_api.execution_detail("executionId" => 'exec-two', "tenantId" => '00000000-0000-4000-8000-000000000001')$$, 'PGRST 404 EXECUTION_NOT_FOUND'),
             ($$analytics_api.user_analytics("userId" => 'user-two', "tenantId" => '00000000-0000-4000-8000-000000000001')$$, 'PGRST 404 USER_NOT_FOUND'),
             ($$analytics_api.user_trends("userId" => 'user-one', "tenantId" => '00000000-0000-4000-8000-000000000002')$$, 'PGRST 404 USER_NOT_FOUND'),
             ($$analytics_api.user_analytics("userId" => 'user-free')$$, 'ok'),
             ($$analytics_api.execution_detail("executionId" => 'no-such-execution')$$, 'PGRST 404 EXECUTION_NOT_FOUND'),
             ($$analytics_api.user_analytics("userId" => 'no-such-user')$$, 'PGRST 404 USER_NOT_FOUND')) v(c, e);

-- Isolation: ids both tenants hold are two things.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api('analytics_api.session_detail("sessionId" => ''sess-both'')') -> 'tenantId', to_jsonb(pg_temp.tid(1)),
          'tenant 1 sees its own sess-both');
SELECT is((SELECT array_agg(DISTINCT x ->> 'tenantId') FROM jsonb_array_elements(pg_temp.api('analytics_api.session_detail("sessionId" => ''sess-both'')') -> 'events') x),
          ARRAY[pg_temp.tid(1)::text], 'and only its events');
SELECT is(pg_temp.api('analytics_api.session_detail("sessionId" => ''sess-both'')') #> '{totals,events}', '1'::jsonb, 'one event (tenant 2 has two)');
SELECT is(pg_temp.api('analytics_api.execution_detail("executionId" => ''exec-both'')') #> '{totals,toolCalls}', '0'::jsonb,
          'tenant 1''s exec-both has no tool call (tenant 2''s has one)');
SELECT is(pg_temp.api('analytics_api.user_analytics("userId" => ''user-both'')') -> 'actions', '1'::jsonb, 'tenant 1''s user-both: one action');
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api('analytics_api.session_detail("sessionId" => ''sess-both'')') #> '{totals,events}', '2'::jsonb, 'tenant 2''s sess-both: two events');
SELECT is(pg_temp.api('analytics_api.user_analytics("userId" => ''user-both'')') -> 'actions', '2'::jsonb, 'tenant 2''s user-both: two actions');
SELECT pg_temp.operator();
SELECT is(pg_temp.api('analytics_api.session_detail("sessionId" => ''sess-both'')') #> '{totals,events}', '3'::jsonb,
          'the operator: both tenants'' sess-both');
SELECT is(pg_temp.api('analytics_api.session_detail("sessionId" => ''sess-both'')') -> 'tenantId', 'null'::jsonb, 'tenantId null: two tenants');
SELECT is(pg_temp.api('analytics_api.session_detail("sessionId" => ''sess-one'')') -> 'tenantId', to_jsonb(pg_temp.tid(1)),
          'a session of one tenant: its tenantId');
SELECT is(pg_temp.api('analytics_api.user_analytics("userId" => ''user-both'')') -> 'sessions', '2'::jsonb,
          'the operator: user-both in two tenants, two sessions');
-- The tenants' answers add up to the operator's (ids are per tenant).
SET LOCAL analytics.free_tier_access = on;
CREATE FUNCTION pg_temp.api_of(n integer, c text) RETURNS jsonb LANGUAGE plpgsql
AS $$
BEGIN
    IF n = 0 THEN PERFORM pg_temp.operator(); ELSE PERFORM pg_temp.as_tenant(n); END IF;
    RETURN pg_temp.api(c);
END
$$;
SELECT is((SELECT sum((pg_temp.api_of(n, c) #>> k)::numeric) FROM generate_series(1, 6) n), (pg_temp.api_of(0, c) #>> k)::numeric,
          format('%s: the tenants'' %s add up to the operator''s', c, k::text))
FROM (VALUES ('analytics_api.session_activity(period => ''30d'')', '{sessions}'::text[]),
             ('analytics_api.session_activity(period => ''30d'')', '{uniqueUsers}'),
             ('analytics_api.session_activity(period => ''30d'')', '{executions}'),
             ('analytics_api.session_activity(period => ''30d'')', '{series,27,sessions}'),
             ('analytics_api.workflow_performance(period => ''30d'')', '{series,27,runs}')) v(c, k);
RESET analytics.free_tier_access;

-- A user is known from user_daily when its raw events are gone (retention)
-- and from raw events on days never rolled (the default partition too).
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status($$SELECT analytics_api.user_analytics("userId" => 'user-gone')$$), 'ok', 'user-gone has events');
SELECT lives_ok(format($$SELECT analytics.record_events('[{"tenant_id": "%s", "occurred_at": "%sT08:00:00Z", "event_type": "session", "user_id": "user-rolled"}]')$$,
                       pg_temp.tid(1), pg_temp.d(-3)), 'a user on day -3');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 3)$$, 'roll day -3 up again');
SELECT lives_ok($$DELETE FROM analytics.usage_events WHERE user_id = 'user-rolled'$$, 'its raw events removed (as retention would)');
SELECT is(pg_temp.api_status($$SELECT analytics_api.user_analytics("userId" => 'user-rolled', period => '1d')$$), 'ok',
          'a user held only in user_daily is known (zeros for a window without it)');
SELECT is(pg_temp.api('analytics_api.user_analytics("userId" => ''user-rolled'', period => ''1d'')') -> 'actions', '0'::jsonb, 'zero actions');
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.user_analytics("userId" => 'user-rolled', "from" => %L, "to" => %L)$$, pg_temp.d(-3), pg_temp.d(-3))),
          'ok', 'and its day from the rollups');
SELECT is(pg_temp.api(format($$analytics_api.user_analytics("userId" => 'user-rolled', "from" => %L, "to" => %L)$$, pg_temp.d(-3), pg_temp.d(-3))) -> 'actions',
          '1'::jsonb, 'one action that day');
SELECT is(to_regclass('analytics.' || analytics.partition_name(pg_temp.today() - 40)), NULL, 'day -40 has no partition');
SELECT lives_ok(format($$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, user_id, session_id)
                        VALUES (%L, %L, 'session', 'user-default', 'sess-default')$$,
                       pg_temp.tid(1), (pg_temp.today() - 40)::timestamp AT TIME ZONE 'UTC' + interval '3 hours'),
                'an event on day -40, in the default partition');
SELECT is(pg_temp.api_status($$SELECT analytics_api.user_analytics("userId" => 'user-default')$$), 'ok',
          'a user whose only event is in the default partition is known');
SELECT is(pg_temp.api_status($$SELECT analytics_api.session_detail("sessionId" => 'sess-default')$$), 'ok',
          'and its session is found');
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api_status($$SELECT analytics_api.user_analytics("userId" => 'user-default')$$), 'PGRST 404 USER_NOT_FOUND',
          'but not by another tenant');
SELECT is(analytics.user_known(pg_temp.tid(1), 'user-default'), true, 'user_known: tenant 1');
SELECT is(analytics.user_known(NULL, 'user-default'), true, 'user_known: every tenant');
SELECT is(analytics.user_known(pg_temp.tid(2), 'user-default'), false, 'user_known: tenant 2');
SELECT is(analytics.user_known(NULL, NULL), false, 'user_known: NULL');

-- The typed functions: ordinary errors for a bad window or granularity,
-- NULL for unknown ids.
SELECT throws_ok(format('SELECT analytics.%s(NULL, now(), now() - interval ''1 day''%s)', f, a), '22023', NULL, format('typed %s: from after to', f))
FROM (VALUES ('session_activity', ''), ('workflow_performance', ''), ('user_analytics', ', ''u'''), ('user_trends', ', ''u''')) v(f, a);
SELECT throws_ok($$SELECT analytics.user_trends(NULL, now() - interval '8 days', now(), 'u', 'hour')$$, '22023', NULL,
                 'typed user_trends: hour over 8 days');
SELECT throws_ok($$SELECT analytics.user_trends(NULL, now() - interval '8 days', now(), 'u', 'year')$$, '22023', NULL,
                 'typed user_trends: granularity year');
SELECT is(analytics.session_detail(NULL, 'no-such-session'), NULL, 'typed session_detail: NULL for an unknown id');
SELECT is(analytics.execution_detail(NULL, 'no-such-execution'), NULL, 'typed execution_detail: NULL for an unknown id');
SELECT is(analytics.session_detail(pg_temp.tid(2), 'sess-one'), NULL, 'typed session_detail: another tenant''s id is unknown');

SELECT * FROM finish();
ROLLBACK;
