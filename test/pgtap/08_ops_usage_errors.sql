-- §6.3 usage functions: every error by HTTP status and code, in the order
-- of the checks (contract §5, §6.1, §6.2, §6.8), the PostgREST roles, and
-- isolation: a tenant never sees another tenant's agents, tools or errors,
-- and may not name another tenant.
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

-- Run sql as role r (SET LOCAL ROLE, as PostgREST does) in a subtransaction;
-- its first column as text, or the error as api_status gives it.
CREATE FUNCTION pg_temp.as_role(r text, sql text)
RETURNS text
LANGUAGE plpgsql
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

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(800, 3, (now() AT TIME ZONE 'UTC')::date)$$, 'generate data');
SELECT lives_ok($$SELECT analytics.create_api_roles(NULL)$$, 'the API roles');
-- Tenant 2's own tool, server, error code and agent, which no other tenant may see.
SELECT lives_ok(format($$INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, tool_name,
                                                             mcp_server, latency_ms, error_code)
                        VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-9002-000000000001', %L, 'tool_call',
                                false, 'secret_tool_of_two', 'mcp-secret-of-two', 12, 'E_SECRET_OF_TWO')$$,
                       pg_temp.d(0) || 'T00:00:00Z'), 'a failed call of tenant 2''s own tool');

CREATE TEMP TABLE calls (name text, sql text);
INSERT INTO calls VALUES
    ('summary', 'analytics_api.summary()'),
    ('agent_usage', 'analytics_api.agent_usage()'),
    ('tool_usage', 'analytics_api.tool_usage()'),
    ('top_agents', 'analytics_api.top_agents()'),
    ('tool_heatmap', 'analytics_api.tool_heatmap()'),
    ('error_summary', 'analytics_api.error_summary()'),
    ('error_trends', 'analytics_api.error_trends()'),
    ('performance_summary', 'analytics_api.performance_summary()');
-- (with a parameter list to append to)
CREATE FUNCTION pg_temp.call(name text, args text) RETURNS text LANGUAGE sql
AS $$ SELECT format('SELECT analytics_api.%s(%s)', name, args) $$;

-- Every function works with its defaults: for a paying tenant, for the
-- operator (no tenant claim), for the operator narrowed to one tenant.
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': works for a tenant with its defaults') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': works for the operator with its defaults') FROM calls;
SELECT is(pg_temp.api_status(pg_temp.call(name, '"tenantId" => ''00000000-0000-4000-8000-000000000003''')), 'ok',
          name || ': works for the operator with a tenantId') FROM calls;

-- 404 NOT_FOUND when analytics.enabled is off, before anything else.
SET LOCAL analytics.enabled = off;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': analytics.enabled off gives 404') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status(pg_temp.call(name, 'period => ''bad''')), 'PGRST 404 NOT_FOUND',
          name || ': 404 before the claims and the parameters (operator)') FROM calls;
SELECT is(pg_temp.as_role('analytics_tenant', pg_temp.call(name, 'period => ''bad''')), 'PGRST 404 NOT_FOUND',
          name || ': 404 before the claims and the parameters (tenant role, no claim)') FROM calls;
RESET analytics.enabled;

-- 401 UNAUTHORIZED: the tenant role without a usable tenant claim, before
-- the parameters.
SELECT pg_temp.claims('');
SELECT is(pg_temp.as_role('analytics_tenant', pg_temp.call(name, 'period => ''bad''')), 'PGRST 401 UNAUTHORIZED',
          name || ': tenant role without claims gives 401') FROM calls;
SELECT pg_temp.claims('{"role": "analytics_tenant"}');
SELECT is(pg_temp.as_role('analytics_tenant', pg_temp.call(name, '')), 'PGRST 401 UNAUTHORIZED',
          name || ': tenant role without a tenant claim gives 401') FROM calls;
SELECT pg_temp.claims('not json');
SELECT is(pg_temp.as_role('analytics_tenant', pg_temp.call(name, '')), 'PGRST 401 UNAUTHORIZED',
          name || ': claims not JSON give 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.as_role('analytics_tenant', pg_temp.call(name, '')), 'PGRST 401 UNAUTHORIZED',
          name || ': an unregistered tenant gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id": 42}');
SELECT is(pg_temp.as_role('analytics_tenant', pg_temp.call(name, '')), 'PGRST 401 UNAUTHORIZED',
          name || ': a tenant claim that is not a uuid gives 401') FROM calls;

-- 403 ANALYTICS_NOT_AVAILABLE for a free tenant, before the parameters;
-- allowed with analytics.free_tier_access on.
SELECT pg_temp.as_tenant(5);
SELECT is(pg_temp.api_status(pg_temp.call(name, 'period => ''bad''')), 'PGRST 403 ANALYTICS_NOT_AVAILABLE',
          name || ': a free tenant gives 403 ANALYTICS_NOT_AVAILABLE') FROM calls;
SET LOCAL analytics.free_tier_access = on;
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': a free tenant with free_tier_access on') FROM calls;
RESET analytics.free_tier_access;

-- 403 FORBIDDEN: a tenant naming another tenant (a forged tenantId), before
-- the parameters; naming itself is allowed.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status(pg_temp.call(name, '"tenantId" => ''00000000-0000-4000-8000-000000000002''')), 'PGRST 403 FORBIDDEN',
          name || ': a tenant naming another tenant gives 403 FORBIDDEN') FROM calls;
SELECT is(pg_temp.api_status(pg_temp.call(name, 'period => ''bad'', "tenantId" => ''00000000-0000-4000-8000-0000000000ff''')),
          'PGRST 403 FORBIDDEN', name || ': a tenant naming an unknown tenant gives 403 FORBIDDEN, before the parameters') FROM calls;
SELECT is(pg_temp.api_status(pg_temp.call(name, '"tenantId" => ''not-a-uuid''')), 'PGRST 403 FORBIDDEN',
          name || ': a tenant naming anything else gives 403 FORBIDDEN') FROM calls;
SELECT is(pg_temp.api_status(pg_temp.call(name, '"tenantId" => ''00000000-0000-4000-8000-000000000001''')), 'ok',
          name || ': a tenant naming itself is allowed') FROM calls;
SELECT is(pg_temp.as_role('analytics_tenant', pg_temp.call(name, '"tenantId" => ''00000000-0000-4000-8000-000000000002''') || '::text'),
          'PGRST 403 FORBIDDEN', name || ': the tenant role naming another tenant gives 403 FORBIDDEN') FROM calls;

-- The operator: 404 TENANT_NOT_FOUND for an unknown tenant, 400
-- VALIDATION_ERROR for a tenantId that is not a uuid.
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status(pg_temp.call(name, '"tenantId" => ''00000000-0000-4000-8000-0000000000ff''')), 'PGRST 404 TENANT_NOT_FOUND',
          name || ': the operator naming an unknown tenant gives 404 TENANT_NOT_FOUND') FROM calls;
SELECT is(pg_temp.api_status(pg_temp.call(name, '"tenantId" => ''acme''')), 'PGRST 400 VALIDATION_ERROR',
          name || ': the operator naming a tenantId that is not a uuid gives 400 VALIDATION_ERROR') FROM calls;
SELECT is(pg_temp.as_role('analytics_operator', pg_temp.call(name, '') || ' ->> ''tenantId'''), 'NULL',
          name || ': the operator role answers for every tenant') FROM calls WHERE name <> 'performance_summary';
SELECT is(pg_temp.as_role('analytics_operator', 'SELECT analytics_api.performance_summary() ->> ''tenant_id'''), 'NULL',
          'performance_summary: the operator role answers for every tenant');
SELECT is(pg_temp.as_role('analytics_operator', pg_temp.call(name, '"tenantId" => ''00000000-0000-4000-8000-0000000000ff''') || '::text'),
          'PGRST 404 TENANT_NOT_FOUND', name || ': the operator role naming an unknown tenant gives 404 TENANT_NOT_FOUND') FROM calls;

-- 400 INVALID_PERIOD (contract §6.2).
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status(pg_temp.call(c.name, p.args)), 'PGRST 400 INVALID_PERIOD', format('%s(%s): 400 INVALID_PERIOD', c.name, p.args))
FROM calls c CROSS JOIN (VALUES ('period => ''bad'''), ('period => ''0d'''), ('period => ''366d'''), ('period => ''0h'''),
                                ('period => ''169h'''), ('period => ''7w'''), ('period => ''7D'''), ('period => '' 7d'''),
                                ('period => ''-1d'''), ('period => '''''), ('period => ''1000d'''),
                                (format('period => ''7d'', "from" => %L', pg_temp.d(-3))),
                                (format('period => ''7d'', "to" => %L', pg_temp.d(0))),
                                ('period => ''7d'', days => ''7'''), ('days => ''7'', hours => ''24'''),
                                ('days => ''abc'''), ('days => ''0'''), ('days => ''400'''), ('hours => ''200'''), ('hours => ''-1'''),
                                (format('days => ''7'', start_date => %L', pg_temp.d(-3))),
                                (format('"from" => %L, start_date => %L', pg_temp.d(-3), pg_temp.d(-3)))) p(args);

-- 400 INVALID_DATE_RANGE (contract §5, §6.2).
SELECT is(pg_temp.api_status(pg_temp.call(c.name, p.args)), 'PGRST 400 INVALID_DATE_RANGE', format('%s(%s): 400 INVALID_DATE_RANGE', c.name, p.args))
FROM calls c CROSS JOIN (VALUES ('"from" => ''yesterday'''), ('"from" => ''2026-02-30'''), ('"to" => ''2026-13-01'''),
                                (format('"from" => %L, "to" => %L', pg_temp.d(-1), pg_temp.d(-2))),
                                (format('"to" => %L', pg_temp.d(1))),
                                (format('"from" => %L, "to" => %L', pg_temp.d(-365), pg_temp.d(0))),
                                (format('"from" => %L, "to" => %L', pg_temp.d(-1) || 'T10:00:00Z', pg_temp.d(-1) || 'T09:00:00Z')),
                                (format('"to" => %L', to_char(now() + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
                                (format('"from" => %L', pg_temp.d(-1) || 'T10:00:00')),
                                (format('start_date => %L, end_date => %L', pg_temp.d(-1), pg_temp.d(-2))),
                                ('start_date => ''soon''')) p(args);
-- Only one end given: the other is now (today) or the default period back.
SELECT is(pg_temp.api_status(pg_temp.call(c.name, p.args)), p.want, format('%s(%s): %s', c.name, p.args, p.want))
FROM calls c CROSS JOIN (VALUES (format('"from" => %L', pg_temp.d(-3)), 'ok'), (format('"to" => %L', pg_temp.d(-3)), 'ok'),
                                (format('"from" => %L', pg_temp.d(-365)), 'PGRST 400 INVALID_DATE_RANGE')) p(args, want);

-- 400 VALIDATION_ERROR for a bad parameter, the message naming it.
CREATE FUNCTION pg_temp.api_message(sql text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
    msg text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
    RETURN msg::jsonb ->> 'message';
END
$$;
SELECT is(pg_temp.api_status(pg_temp.call('top_agents', args)), 'PGRST 400 VALIDATION_ERROR', format('top_agents(%s): 400 VALIDATION_ERROR', args))
FROM (VALUES ('top => ''0'''), ('top => ''101'''), ('top => ''1000'''), ('top => ''-1'''), ('top => ''abc'''), ('top => '''''),
             ('top => ''10.5'''), ('top => '' 10'''), ('metric => ''bogus'''), ('metric => ''CALLS'''), ('metric => '''''),
             ('metric => ''cost; drop table x''')) v(args);
SELECT ok(pg_temp.api_message($$SELECT analytics_api.top_agents(top => '0')$$) LIKE 'top %', 'the message names top');
SELECT ok(pg_temp.api_message($$SELECT analytics_api.top_agents(metric => 'x')$$) LIKE 'metric %', 'the message names metric');
SELECT is(pg_temp.api_status(pg_temp.call('top_agents', args)), 'ok', format('top_agents(%s) is fine', args))
FROM (VALUES ('top => ''1'''), ('top => ''100'''), ('top => ''007'''), ('metric => ''calls'''), ('metric => ''tokens'''),
             ('metric => ''cost'''), ('metric => ''failures'', top => ''3''')) v(args);
SELECT is(pg_temp.api_status(pg_temp.call(name, format('%I => %L', param, repeat('x', 257)))), 'PGRST 400 VALIDATION_ERROR',
          format('%s: %s over 256 characters gives 400 VALIDATION_ERROR', name, param))
FROM (VALUES ('tool_usage', 'mcpServer'), ('tool_heatmap', 'tool')) v(name, param);
SELECT ok(pg_temp.api_message(pg_temp.call(name, format('%I => %L', param, repeat('x', 257)))) LIKE param || ' %',
          format('%s: the message names %s', name, param))
FROM (VALUES ('tool_usage', 'mcpServer'), ('tool_heatmap', 'tool')) v(name, param);
SELECT is(pg_temp.api_status(pg_temp.call(name, format('%I => %L', param, repeat('x', 256)))), 'ok',
          format('%s: %s of 256 characters is fine', name, param))
FROM (VALUES ('tool_usage', 'mcpServer'), ('tool_heatmap', 'tool')) v(name, param);

-- 400 INVALID_GRANULARITY: not hour/day/week/month, or hour over 7 days.
SELECT is(pg_temp.api_status(pg_temp.call('error_trends', args)), 'PGRST 400 INVALID_GRANULARITY', format('error_trends(%s): 400 INVALID_GRANULARITY', args))
FROM (VALUES ('granularity => ''year'''), ('granularity => ''Day'''), ('granularity => '''''), ('granularity => ''minute'''),
             ('granularity => ''hour'''), ('granularity => ''hour'', period => ''8d'''), ('granularity => ''hour'', period => ''30d'''),
             (format('granularity => ''hour'', "from" => %L, "to" => %L', pg_temp.d(-9) || 'T00:00:00Z', pg_temp.d(-1) || 'T23:00:00Z'))) v(args);
SELECT is(pg_temp.api_status(pg_temp.call('error_trends', args)), 'ok', format('error_trends(%s) is fine', args))
FROM (VALUES ('granularity => ''hour'', period => ''7d'''), ('granularity => ''hour'', period => ''168h'''),
             ('granularity => ''hour'', hours => ''1'''), ('granularity => ''day'''), ('granularity => ''week'''),
             ('granularity => ''month'', period => ''365d'''),
             (format('granularity => ''hour'', "from" => %L, "to" => %L', pg_temp.d(-7) || 'T00:00:00Z', pg_temp.d(0) || 'T00:00:00Z'))) v(args);
-- The checks' order: the period before the granularity.
SELECT is(pg_temp.api_status(pg_temp.call('error_trends', 'granularity => ''year'', period => ''bad''')), 'PGRST 400 INVALID_PERIOD',
          'error_trends: the period is checked before the granularity');
SELECT is(pg_temp.api_status(pg_temp.call('top_agents', 'metric => ''x'', period => ''bad''')), 'PGRST 400 INVALID_PERIOD',
          'top_agents: the period is checked before the metric');

-- The typed twins refuse bad arguments with ordinary errors.
SELECT throws_ok($$SELECT analytics.summary(NULL, NULL, now())$$, '22023', NULL, 'summary: a NULL from is refused');
SELECT throws_ok($$SELECT analytics.agent_usage(NULL, now(), now() - interval '1 day')$$, '22023', NULL, 'agent_usage: from after to is refused');
SELECT throws_ok($$SELECT analytics.top_agents(NULL, now() - interval '1 day', now(), 'bogus')$$, '22023', NULL, 'top_agents: a bad metric is refused');
SELECT throws_ok($$SELECT analytics.top_agents(NULL, now() - interval '1 day', now(), 'calls', 0)$$, '22023', NULL, 'top_agents: top 0 is refused');
SELECT throws_ok($$SELECT analytics.error_trends(NULL, now() - interval '1 day', now(), 'year')$$, '22023', NULL, 'error_trends: a bad granularity is refused');
SELECT throws_ok($$SELECT analytics.error_trends(NULL, now() - interval '8 days', now(), 'hour')$$, '22023', NULL, 'error_trends: hour over 8 days is refused');
SELECT is(analytics.error_trends(NULL, now(), now(), 'day') -> 'buckets', '[]'::jsonb, 'error_trends: an empty window has no bucket');
SELECT is((analytics.performance_summary(NULL, now(), now()) ->> 'window_seconds')::numeric, 0::numeric, 'performance_summary: an empty window');

-------------------------------------------------------------------------------
-- Isolation: a tenant never sees another tenant's agents, tools or error
-- codes (tenant 2's own tool, server and code are named above).
-------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.call_as(claims text, call text) RETURNS jsonb LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
BEGIN
    PERFORM set_config('request.jwt.claims', claims, true);
    EXECUTE call INTO r;
    RETURN r;
END
$$;
CREATE TEMP TABLE iso AS
SELECT t.idx, t.tenant_id, c.name,
       pg_temp.call_as(json_build_object('tenant_id', t.tenant_id)::text, pg_temp.call(c.name, 'period => ''3d''')) AS j
FROM analytics_datagen.tenants() t CROSS JOIN calls c
WHERE t.tier <> 'free';
SELECT is((SELECT count(*) FROM iso), 32::bigint, 'every function for each of the 4 paying tenants');
SELECT is((SELECT count(*) FROM iso, analytics.agents a
           WHERE a.tenant_id <> iso.tenant_id AND position(a.agent_id::text IN iso.j::text) > 0),
          0::bigint, 'no answer names an agent of another tenant');
SELECT ok((SELECT count(*) FROM iso, analytics.agents a
           WHERE a.tenant_id = iso.tenant_id AND position(a.agent_id::text IN iso.j::text) > 0) > 0,
          'answers do name the tenant''s own agents');
SELECT is((SELECT count(*) FROM iso WHERE idx <> 2 AND iso.j::text ~ 'secret_tool_of_two|mcp-secret-of-two|E_SECRET_OF_TWO'),
          0::bigint, 'no other tenant sees tenant 2''s own tool, server or error code');
SELECT is((SELECT string_agg(name, ',' ORDER BY name) FROM iso WHERE idx = 2 AND iso.j::text ~ 'secret_tool_of_two'),
          'error_summary,tool_heatmap,tool_usage', 'tenant 2 sees its own tool');
SELECT is((SELECT count(*) FROM iso WHERE (j ->> 'tenantId') IS DISTINCT FROM tenant_id::text
                                      AND (j ->> 'tenant_id') IS DISTINCT FROM tenant_id::text),
          0::bigint, 'every answer is the caller''s tenant''s');
SELECT is((SELECT (j -> 'totals' ->> 'events')::bigint FROM iso WHERE idx = 3 AND name = 'summary'),
          (SELECT sum(count)::bigint FROM analytics.usage_events
           WHERE tenant_id = '00000000-0000-4000-8000-000000000003' AND occurred_at >= (pg_temp.today() - 2)::timestamptz
             AND occurred_at < (pg_temp.today() + 1)::timestamptz),
          'a tenant''s summary counts its own events only');
-- The operator narrowed to tenant 2 sees its tool; narrowed to tenant 3, not.
SELECT pg_temp.claims('');
SELECT ok(analytics_api.tool_usage('3d', "tenantId" => '00000000-0000-4000-8000-000000000002')::text ~ 'secret_tool_of_two',
          'the operator narrowed to tenant 2 sees its tool');
SELECT ok(analytics_api.tool_usage('3d', "tenantId" => '00000000-0000-4000-8000-000000000003')::text !~ 'secret_tool_of_two',
          'the operator narrowed to tenant 3 does not');
SELECT ok(analytics_api.tool_usage('3d')::text ~ 'secret_tool_of_two', 'the operator over all tenants does');

-- The roles: the tenant role reaches the API with its claims, never the
-- typed twins (which take any tenant as an argument); the anon role and
-- the authenticator reach nothing.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.as_role('analytics_tenant', pg_temp.call(name, '') || ' ->> ''tenantId'''),
          '00000000-0000-4000-8000-000000000001', name || ': the tenant role gets its tenant''s answer')
FROM calls WHERE name <> 'performance_summary';
SELECT is(pg_temp.as_role('analytics_tenant', $$SELECT analytics.summary('00000000-0000-4000-8000-000000000002', now() - interval '1 day', now())::text$$),
          '42501', 'the tenant role cannot call a typed twin');
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT ' || sql || '::text'), '42501', name || ': the anon role may not call it') FROM calls;
SELECT is((SELECT count(*) FROM pg_proc p
           WHERE p.pronamespace = 'analytics_api'::regnamespace
             AND p.proname IN ('summary', 'agent_usage', 'tool_usage', 'top_agents', 'tool_heatmap', 'error_summary', 'error_trends', 'performance_summary')
             AND p.prosecdef AND p.provolatile = 's'
             AND p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp']
             AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
             AND has_function_privilege('analytics_tenant', p.oid, 'EXECUTE')
             AND has_function_privilege('analytics_operator', p.oid, 'EXECUTE')
             AND obj_description(p.oid, 'pg_proc') IS NOT NULL),
          8::bigint, 'the 8 API functions: SECURITY DEFINER, STABLE, pinned search_path, not for PUBLIC, for both API roles, commented');
SELECT is((SELECT count(*) FROM pg_proc p
           WHERE p.pronamespace = 'analytics'::regnamespace
             AND p.proname IN ('summary', 'agent_usage', 'tool_usage', 'top_agents', 'tool_heatmap', 'error_summary', 'error_trends', 'performance_summary')
             AND NOT p.prosecdef AND p.provolatile = 's'
             AND p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp']
             AND obj_description(p.oid, 'pg_proc') IS NOT NULL),
          8::bigint, 'the 8 typed twins: STABLE, pinned search_path, commented');

SELECT * FROM finish();
ROLLBACK;
