-- Errors, scope and isolation of agent_analytics, agent_trends,
-- platform_trends, dashboard and analytics_health (contract §5, §6.1, §6.2,
-- §6.3, §6.8): every error as its HTTP status and code, the order of the
-- checks, a tenant token never sees another tenant, forged tenantId,
-- operator-only platform_trends, and the health check with and without a
-- token (never an error) with its status rule.
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
SELECT lives_ok($$SELECT analytics.run_rollup((now() AT TIME ZONE 'UTC')::date - d) FROM generate_series(1, 2) d$$, 'roll up the past days');
CREATE ROLE api_test_authenticator LOGIN NOINHERIT;
SELECT lives_ok($$SELECT analytics.create_api_roles('api_test_authenticator')$$, 'the API roles');
-- (The health check's grant to analytics_anon, as 83_api_ops_platform.sql
-- makes it when the role exists.)
GRANT EXECUTE ON FUNCTION analytics_api.analytics_health() TO analytics_anon;

\set A1 '''00000000-0000-4000-9001-000000000001'''
\set A2 '''00000000-0000-4000-9002-000000000001'''
CREATE TEMP TABLE calls (name text, sql text);
INSERT INTO calls VALUES
    ('agent_analytics', 'analytics_api.agent_analytics("agentId" => ' || :'A1' || ')'),
    ('agent_trends', 'analytics_api.agent_trends("agentId" => ' || :'A1' || ')'),
    ('dashboard', 'analytics_api.dashboard()'),
    ('platform_trends', 'analytics_api.platform_trends()');
-- The same with a parameter appended.
CREATE FUNCTION pg_temp.with(sql text, arg text) RETURNS text LANGUAGE sql
AS $$ SELECT CASE WHEN right(sql, 2) = '()' THEN left(sql, -1) || arg || ')' ELSE left(sql, -1) || ', ' || arg || ')' END $$;

-------------------------------------------------------------------------------
-- The order of the §5 checks: 404 NOT_FOUND, 401, 403 ANALYTICS_NOT_AVAILABLE
-------------------------------------------------------------------------------
SET LOCAL analytics.enabled = off;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': analytics.enabled off gives 404 (tenant)') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': analytics.enabled off gives 404 (operator)') FROM calls;
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 404 NOT_FOUND',
          name || ': 404 before the claim check') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, 'period => ''bogus''')), 'PGRST 404 NOT_FOUND',
          name || ': 404 before parameter checks') FROM calls;
SELECT is(analytics_api.analytics_health(), '{"status": "down"}'::jsonb, 'health: analytics.enabled off is status down (operator), not 404');
SELECT pg_temp.as_tenant(1);
SELECT is(analytics_api.analytics_health(), '{"status": "down"}'::jsonb, 'health: analytics.enabled off is status down (tenant)');
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT analytics_api.analytics_health()::text'), '{"status": "down"}',
          'health: analytics.enabled off is status down (no token)');
SELECT is(analytics.analytics_health() ->> 'status', 'down', 'analytics.analytics_health(): down when disabled');
RESET analytics.enabled;

-- 401: a tenant role without a valid claim of a registered tenant.
SELECT pg_temp.claims('');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 401 UNAUTHORIZED',
          name || ': no claim gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id": "acme"}');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 401 UNAUTHORIZED',
          name || ': a claim that is not a uuid gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 401 UNAUTHORIZED', name || ': an unknown tenant gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-000000000001"}');
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT ' || sql || '::text'), '42501',
          name || ': the anon role may not call it (PostgREST: 401)') FROM calls;

-- 403 ANALYTICS_NOT_AVAILABLE: a free tenant, unless free_tier_access.
SELECT pg_temp.as_tenant(5);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 403 ANALYTICS_NOT_AVAILABLE', name || ': free tier gives 403') FROM calls;
SET LOCAL analytics.free_tier_access = on;
SELECT is(pg_temp.api_status('SELECT ' || sql),
          CASE WHEN name = 'platform_trends' THEN 'PGRST 403 FORBIDDEN' ELSE 'PGRST 404 AGENT_NOT_FOUND' END,
          name || ': free tier allowed with free_tier_access on (then its own checks)') FROM calls WHERE name LIKE 'agent%' OR name = 'platform_trends';
SELECT is(pg_temp.api_status('SELECT analytics_api.dashboard()'), 'ok', 'dashboard: free tier allowed with free_tier_access on');
RESET analytics.free_tier_access;

-------------------------------------------------------------------------------
-- Scope: tenants, the operator, tenantId (§6.1)
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), CASE WHEN name = 'platform_trends' THEN 'PGRST 403 FORBIDDEN' ELSE 'ok' END,
          name || ': a paying tenant with the defaults') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000002''')),
          'PGRST 403 FORBIDDEN', name || ': a tenant naming another tenant gives 403 FORBIDDEN') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''not-a-uuid''')),
          'PGRST 403 FORBIDDEN', name || ': a tenant naming a forged tenantId gives 403 FORBIDDEN') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000001''')),
          CASE WHEN name = 'platform_trends' THEN 'PGRST 403 FORBIDDEN' ELSE 'ok' END,
          name || ': a tenant naming itself') FROM calls;
SELECT is(pg_temp.api_status('SELECT analytics_api.platform_trends(granularity => ''week'')'), 'PGRST 403 FORBIDDEN',
          'platform_trends with a tenant token: 403 FORBIDDEN whatever the parameters');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT analytics_api.platform_trends()::text'), 'PGRST 403 FORBIDDEN',
          'platform_trends as the analytics_tenant role with its claim: 403 FORBIDDEN');

-- Operators: the role analytics_operator (no tenant claim), or a superuser without claims.
SELECT pg_temp.claims('{"role": "analytics_operator"}');
SELECT is(pg_temp.as_role('analytics_operator', 'SELECT (' || sql || ') ->> ''period'' IS NOT NULL'), 'true',
          name || ': the operator role works') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000002''')),
          CASE WHEN name LIKE 'agent%' THEN 'PGRST 404 AGENT_NOT_FOUND' ELSE 'ok' END,
          name || ': the operator naming a tenant (agent 1 of tenant 1 is not tenant 2''s)') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-0000000000ff''')),
          'PGRST 404 TENANT_NOT_FOUND', name || ': the operator naming an unknown tenant') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''tenant-1''')),
          'PGRST 400 VALIDATION_ERROR', name || ': the operator naming a tenantId that is not a uuid') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''' || repeat('x', 300) || '''')),
          'PGRST 400 VALIDATION_ERROR', name || ': an overlong tenantId') FROM calls;

-------------------------------------------------------------------------------
-- Periods (§6.2): 400 INVALID_PERIOD and INVALID_DATE_RANGE
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(1);
CREATE TEMP TABLE bad_periods (arg text, code text);
INSERT INTO bad_periods VALUES
    ('period => ''bogus''', 'INVALID_PERIOD'),
    ('period => ''0d''', 'INVALID_PERIOD'),
    ('period => ''366d''', 'INVALID_PERIOD'),
    ('period => ''169h''', 'INVALID_PERIOD'),
    ('period => ''7D''', 'INVALID_PERIOD'),
    ('period => ''' || repeat('9', 300) || 'd''', 'INVALID_PERIOD'),
    ('period => ''7d'', "from" => ''' || pg_temp.d(-3) || '''', 'INVALID_PERIOD'),
    ('days => ''7'', hours => ''3''', 'INVALID_PERIOD'),
    ('days => ''seven''', 'INVALID_PERIOD'),
    ('hours => ''0''', 'INVALID_PERIOD'),
    ('"from" => ''' || pg_temp.d(-1) || ''', "to" => ''' || pg_temp.d(-3) || '''', 'INVALID_DATE_RANGE'),
    ('"to" => ''' || pg_temp.d(1) || '''', 'INVALID_DATE_RANGE'),
    ('"from" => ''2026-02-30''', 'INVALID_DATE_RANGE'),
    ('"from" => ''yesterday''', 'INVALID_DATE_RANGE'),
    ('"from" => ''' || pg_temp.d(-400) || ''', "to" => ''' || pg_temp.d(0) || '''', 'INVALID_DATE_RANGE'),
    ('start_date => ''' || pg_temp.d(-1) || ''', end_date => ''' || pg_temp.d(-3) || '''', 'INVALID_DATE_RANGE'),
    ('"to" => ''' || to_char(now() + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '''', 'INVALID_DATE_RANGE');
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(c.sql, b.arg)), 'PGRST 400 ' || b.code, c.name || ': ' || b.arg)
FROM calls c CROSS JOIN bad_periods b WHERE c.name <> 'platform_trends' ORDER BY c.name, b.arg;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(c.sql, b.arg)), 'PGRST 400 ' || b.code, 'platform_trends (operator): ' || b.arg)
FROM calls c CROSS JOIN bad_periods b WHERE c.name = 'platform_trends' ORDER BY b.arg;
-- Good periods.
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, a.arg)), 'ok', name || ': ' || a.arg)
FROM calls CROSS JOIN (VALUES ('period => ''365d'''), ('period => ''168h'''), ('days => ''1'''), ('hours => ''1'''),
                              ('"from" => ''' || pg_temp.d(-364) || ''', "to" => ''' || pg_temp.d(0) || ''''),
                              ('start_date => ''' || pg_temp.d(-2) || ''', end_date => ''' || pg_temp.d(0) || ''''),
                              ('"from" => ''' || to_char(now() - interval '3 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '''')) a(arg)
ORDER BY name, a.arg;

-------------------------------------------------------------------------------
-- Own parameters: granularity, agentId
-------------------------------------------------------------------------------
CREATE TEMP TABLE grans (arg text, expect text);
INSERT INTO grans VALUES
    ('granularity => ''year''', 'PGRST 400 INVALID_GRANULARITY'),
    ('granularity => ''Day''', 'PGRST 400 INVALID_GRANULARITY'),
    ('granularity => ''''', 'PGRST 400 INVALID_GRANULARITY'),
    ('granularity => ''' || repeat('d', 300) || '''', 'PGRST 400 INVALID_GRANULARITY'),
    ('granularity => ''hour''', 'PGRST 400 INVALID_GRANULARITY'),
    ('granularity => ''hour'', period => ''8d''', 'PGRST 400 INVALID_GRANULARITY'),
    ('granularity => ''hour'', "from" => ''' || pg_temp.d(-8) || ''', "to" => ''' || pg_temp.d(-1) || '''', 'PGRST 400 INVALID_GRANULARITY'),
    ('granularity => ''hour'', "from" => ''' || pg_temp.d(-7) || ''', "to" => ''' || pg_temp.d(-1) || '''', 'ok'),
    ('granularity => ''hour'', period => ''7d''', 'ok'),
    ('granularity => ''hour'', period => ''168h''', 'ok'),
    ('granularity => ''day''', 'ok'),
    ('granularity => ''week''', 'ok'),
    ('granularity => ''month'', period => ''365d''', 'ok');
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(c.sql, g.arg)), g.expect, c.name || ': ' || g.arg)
FROM calls c CROSS JOIN grans g WHERE c.name IN ('agent_trends', 'platform_trends') ORDER BY c.name, g.arg;
SELECT is(pg_temp.api_status('SELECT analytics_api.platform_trends(granularity => ''year'', period => ''bogus'')'), 'PGRST 400 INVALID_PERIOD',
          'the period is checked before the granularity');

SELECT pg_temp.as_tenant(1);
CREATE TEMP TABLE agents_bad (arg text, expect text, what text);
INSERT INTO agents_bad VALUES
    ('', 'PGRST 400 VALIDATION_ERROR', 'agentId missing'),
    ('"agentId" => ''support-bot-01''', 'PGRST 404 AGENT_NOT_FOUND', 'agentId not a uuid'),
    ('"agentId" => ''' || repeat('a', 300) || '''', 'PGRST 404 AGENT_NOT_FOUND', 'agentId overlong'),
    ('"agentId" => ''00000000-0000-4000-9001-0000000000ff''', 'PGRST 404 AGENT_NOT_FOUND', 'an unknown agent'),
    ('"agentId" => ' || :'A2', 'PGRST 404 AGENT_NOT_FOUND', 'another tenant''s agent'),
    ('"agentId" => ''00000000-0000-4000-9001-000000000001''', 'ok', 'its own agent'),
    ('"agentId" => ''00000000-0000-4000-9001-00000000000A''', 'PGRST 404 AGENT_NOT_FOUND', 'an unknown agent in upper case'),
    ('"agentId" => ' || :'A2' || ', period => ''bogus''', 'PGRST 400 INVALID_PERIOD', 'the period before the agent');
SELECT is(pg_temp.api_status(format('SELECT analytics_api.%s(%s)', f.name, b.arg)), b.expect, f.name || ': ' || b.what)
FROM (VALUES ('agent_analytics'), ('agent_trends')) f(name) CROSS JOIN agents_bad b ORDER BY f.name, b.what;
SELECT is(pg_temp.api_status('SELECT analytics_api.agent_trends("agentId" => ' || :'A2' || ', granularity => ''year'')'),
          'PGRST 400 INVALID_GRANULARITY', 'agent_trends: the granularity before the agent');
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status(format('SELECT analytics_api.%s("agentId" => %s)', f.name, :'A2')), 'ok',
          f.name || ': the operator reads any tenant''s agent') FROM (VALUES ('agent_analytics'), ('agent_trends')) f(name);
SELECT is(pg_temp.api_status(format('SELECT analytics_api.%s("agentId" => %s, "tenantId" => %L)', f.name, :'A2', '00000000-0000-4000-8000-000000000002')),
          'ok', f.name || ': the operator naming the agent''s tenant') FROM (VALUES ('agent_analytics'), ('agent_trends')) f(name);

-------------------------------------------------------------------------------
-- Isolation: a tenant token answers for its own tenant only
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api('analytics_api.dashboard(period => ''3d'')'),
          analytics.dashboard('00000000-0000-4000-8000-000000000002', (pg_temp.today() - 2)::timestamp AT TIME ZONE 'UTC',
                              (pg_temp.today() + 1)::timestamp AT TIME ZONE 'UTC'),
          'dashboard of tenant 2 = the typed dashboard of tenant 2');
SELECT isnt(pg_temp.api('analytics_api.dashboard(period => ''3d'')') -> 'current_metrics' -> 'events',
            analytics.dashboard(NULL, (pg_temp.today() - 2)::timestamp AT TIME ZONE 'UTC',
                                (pg_temp.today() + 1)::timestamp AT TIME ZONE 'UTC') -> 'current_metrics' -> 'events',
            'and not every tenant''s');
SELECT is(pg_temp.api('analytics_api.agent_analytics("agentId" => ' || :'A2' || ')') ->> 'tenant_id',
          '00000000-0000-4000-8000-000000000002', 'agent_analytics names the agent''s (own) tenant');
SELECT is(pg_temp.api('analytics_api.dashboard()') ->> 'tenant_id', '00000000-0000-4000-8000-000000000002', 'dashboard names the own tenant');
SELECT pg_temp.claims('');
SELECT ok(pg_temp.api('analytics_api.dashboard()') -> 'tenant_id' = 'null'::jsonb, 'the operator''s dashboard: tenant_id null (every tenant)');
SELECT ok(pg_temp.api('analytics_api.platform_trends()') -> 'tenant_id' = 'null'::jsonb, 'the operator''s platform_trends: tenant_id null');
SELECT is(pg_temp.api('analytics_api.platform_trends("tenantId" => ''00000000-0000-4000-8000-000000000003'')') ->> 'tenant_id',
          '00000000-0000-4000-8000-000000000003', 'platform_trends narrowed to one tenant');

-------------------------------------------------------------------------------
-- analytics_health: callable by anyone, never an error; the status rule
-------------------------------------------------------------------------------
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT analytics_api.analytics_health()::text'), '{"status": "ok"}',
          'health without a token: status only (ok: every past day rolled)');
SELECT pg_temp.as_tenant(1);
SELECT is(analytics_api.analytics_health(), '{"status": "ok"}'::jsonb, 'health with a tenant token: status only');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT analytics_api.analytics_health()::text'), '{"status": "ok"}',
          'health as the analytics_tenant role: status only');
SELECT pg_temp.as_tenant(5);
SELECT is(analytics_api.analytics_health(), '{"status": "ok"}'::jsonb, 'health with a free tenant''s token: status only, no 403');
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(analytics_api.analytics_health(), '{"status": "ok"}'::jsonb, 'health with an unknown tenant''s token: status only, no 401');
SELECT pg_temp.claims('not json');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT analytics_api.analytics_health()::text'), '{"status": "ok"}',
          'health with malformed claims: status only');
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-000000000001"}');
SELECT is(pg_temp.as_role('analytics_operator', 'SELECT analytics_api.analytics_health()::text'), '{"status": "ok"}',
          'the operator role with a tenant claim is a tenant: status only');
SELECT pg_temp.claims('');
SELECT is(pg_temp.as_role('analytics_operator', $$SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(analytics_api.analytics_health()) k$$),
          'background_worker,days_waiting,enabled,last_rollup,pending_deliveries,status,version,waiting_days',
          'health for the operator role: the details');
SELECT is(analytics_api.analytics_health() ->> 'version', (SELECT extversion FROM pg_extension WHERE extname = 'analytics'), 'health: the version');
SELECT is(analytics_api.analytics_health() -> 'pending_deliveries', '0'::jsonb, 'health: no deliveries pending (no outbox yet)');
SELECT is(analytics_api.analytics_health() -> 'background_worker' -> 'running',
          to_jsonb(EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'analytics worker')),
          'health: the background worker runs when pg_stat_activity has it');
SELECT is(analytics_api.analytics_health() -> 'last_rollup' ->> 'status', 'succeeded', 'health: the last rollup run');
SELECT is(analytics_api.analytics_health() ->> 'days_waiting', '0', 'health: no day waiting');
SELECT is(has_function_privilege('analytics_anon', 'analytics_api.analytics_health()', 'EXECUTE'), true, 'analytics_anon may call the health check');
SELECT is((SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'analytics_api'::regnamespace
           AND p.proname IN ('agent_analytics', 'agent_trends', 'platform_trends', 'dashboard')
           AND has_function_privilege('analytics_anon', p.oid, 'EXECUTE')), 0::bigint, 'and nothing else of this file');

-- The status rule.
INSERT INTO analytics.job_runs (job, target_date, started_at, finished_at, duration_ms, status, error)
VALUES ('rollup', pg_temp.today() - 1, clock_timestamp(), clock_timestamp(), 1, 'failed', 'disk full');
SELECT is(analytics_api.analytics_health() ->> 'status', 'degraded', 'health: degraded when the last rollup run failed');
SELECT is(analytics_api.analytics_health() -> 'last_rollup' ->> 'error', 'disk full', 'health: the failed run''s error');
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT analytics_api.analytics_health()::text'), '{"status": "degraded"}',
          'health without a token: degraded');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 1)$$, 'a later run (skipped: the day is current)');
SELECT is(analytics_api.analytics_health() ->> 'status', 'ok', 'health: ok again after a run that did not fail');
SELECT lives_ok($$SELECT analytics.mark_days_changed(ARRAY[pg_temp.today() - 1])$$, 'yesterday changed just now');
SELECT is(analytics_api.analytics_health() ->> 'status', 'ok', 'health: a day waiting less than a day is ok');
SELECT is(analytics_api.analytics_health() -> 'waiting_days', jsonb_build_array(pg_temp.d(-1)), 'health: it is listed as waiting');
UPDATE analytics.changed_days SET changed_at = now() - interval '25 hours' WHERE day = pg_temp.today() - 1;
SELECT is(analytics_api.analytics_health() ->> 'status', 'degraded', 'health: degraded when a past day has waited more than a day');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 1)$$, 'roll it up');
SELECT is(analytics_api.analytics_health() ->> 'status', 'ok', 'health: ok once rolled up');
SELECT lives_ok($$SELECT analytics.ensure_partitions(pg_temp.today() - 5, pg_temp.today() - 5)$$, 'a partition for day -5');
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type)
VALUES ('00000000-0000-4000-8000-000000000001', (pg_temp.today() - 5)::timestamp AT TIME ZONE 'UTC' + interval '1 hour', 'api_call');
SELECT is(analytics_api.analytics_health() ->> 'status', 'degraded', 'health: degraded with a past day of events never rolled up');
SELECT is(analytics_api.analytics_health() -> 'waiting_days', jsonb_build_array(pg_temp.d(-5)), 'health: that day waits');

SELECT * FROM finish();
ROLLBACK;
