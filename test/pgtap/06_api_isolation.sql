-- API isolation: the PostgREST roles, grants, SECURITY DEFINER functions
-- with pinned search_path, row-level security, forged claims.
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
-- returns its first column as text, or the error as api_status does.
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

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(1500, 5, (now() AT TIME ZONE 'UTC')::date)$$, 'generate data');
SELECT lives_ok($$SELECT analytics.run_rollup((now() AT TIME ZONE 'UTC')::date - 2)$$, 'roll up one day');
CREATE ROLE api_test_authenticator LOGIN NOINHERIT;
CREATE ROLE api_test_mallory NOLOGIN;
SELECT lives_ok($$SELECT analytics.create_api_roles('api_test_authenticator')$$, 'create_api_roles creates and grants the roles');
SELECT lives_ok($$SELECT analytics.create_api_roles('api_test_authenticator')$$, 'and can run again');
SELECT has_role('analytics_anon');
SELECT has_role('analytics_tenant');
SELECT is_member_of('analytics_tenant', 'api_test_authenticator');
SELECT is_member_of('analytics_anon', 'api_test_authenticator');

-- Catalog: what the roles may do.
SELECT is((SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'analytics_api'::regnamespace
           AND NOT has_function_privilege('analytics_tenant', p.oid, 'EXECUTE')), 0::bigint,
          'analytics_tenant may execute every analytics_api function');
SELECT is((SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'analytics_api'::regnamespace
           AND NOT has_function_privilege('analytics_operator', p.oid, 'EXECUTE')), 0::bigint,
          'analytics_operator may execute every analytics_api function');
SELECT is((SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'analytics_api'::regnamespace
           AND has_function_privilege('api_test_mallory', p.oid, 'EXECUTE')),
          0::bigint, 'no other role (PUBLIC) may execute them');
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p WHERE p.pronamespace = 'analytics_api'::regnamespace
           AND has_function_privilege('analytics_anon', p.oid, 'EXECUTE')),
          ARRAY['analytics_health'], 'analytics_anon (no token) may execute analytics_health alone');
SELECT is(has_schema_privilege('analytics_tenant', 'analytics', 'USAGE'), false, 'analytics_tenant has no USAGE on schema analytics');
SELECT is(has_schema_privilege('analytics_anon', 'analytics', 'USAGE'), false, 'analytics_anon has no USAGE on schema analytics');
SELECT is((SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'analytics_api'::regnamespace
           AND NOT (p.prosecdef AND EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')))::int, 0,
          'every analytics_api function is SECURITY DEFINER with a pinned search_path');
SELECT is((SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p
           WHERE p.pronamespace = 'analytics_api'::regnamespace AND p.provolatile <> 's'),
          'acknowledge_incident,cleanup_old_metrics,create_alert_rule,create_channel,delete_alert_rule,delete_channel,record_circuit_state,record_events,record_health_check,record_metric,record_metrics,register_service,resolve_incident,rotate_channel_secret,set_model_price,silence_incident,test_channel,update_alert_rule',
          'every read function is STABLE');
SELECT is((SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
           WHERE c.relnamespace = 'analytics'::regnamespace AND c.relkind IN ('r', 'p')
             AND NOT c.relrowsecurity AND NOT (c.relispartition AND c.relname <> 'usage_events_default')), NULL,
          'row-level security on every table holding tenant data');

-- The tenant role, with its claims: its own data through the API only.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT analytics_api.usage_summary() ->> ''tenantId'''),
          '00000000-0000-4000-8000-000000000001', 'tenant role: the API answers for its tenant');
SELECT is(pg_temp.as_role('analytics_tenant', format('SELECT count(*) FROM analytics.%I', t)), '42501',
          format('tenant role: selecting analytics.%s directly is refused', t))
FROM (VALUES ('usage_events'), ('usage_events_default'), ('tenant_daily'), ('analytics_daily_aggregates'),
             ('usage_stats_daily'), ('tenants'), ('agents'), ('analytics_monthly_aggregates')) v(t);
SELECT is(pg_temp.as_role('analytics_tenant', format('SELECT count(*) FROM analytics.%I', analytics.partition_name(pg_temp.today()))),
          '42501', 'tenant role: selecting a partition directly is refused');
SELECT is(pg_temp.as_role('analytics_tenant', $$SELECT analytics.usage_summary('00000000-0000-4000-8000-000000000002', current_date - 1, current_date)::text$$),
          '42501', 'tenant role: the typed functions (tenant as argument) are out of reach');
SELECT is(pg_temp.as_role('analytics_tenant', $$SELECT analytics_api.agent_activity("agentId" => '00000000-0000-4000-9002-000000000001')::text$$),
          'PGRST 404 AGENT_NOT_FOUND', 'tenant role: another tenant''s agentId is 404');
SELECT is(pg_temp.as_role('analytics_tenant', format($$SELECT analytics_api.record_events('[{"tenant_id": "00000000-0000-4000-8000-000000000002", "occurred_at": "%sT00:00:00Z", "event_type": "api_call", "endpoint": "/intrusion"}]')$$, pg_temp.d(0))),
          'PGRST 403 FORBIDDEN', 'tenant role: recording events for another tenant is refused');
SELECT is(pg_temp.as_role('analytics_tenant', format($$SELECT analytics_api.record_events('[{"agent_id": "00000000-0000-4000-9002-000000000001", "occurred_at": "%sT00:00:00Z", "event_type": "api_call", "endpoint": "/intrusion"}]')$$, pg_temp.d(0))),
          'PGRST 400 VALIDATION_ERROR', 'tenant role: recording events for another tenant''s agent is refused');
SELECT is((SELECT count(*) FROM analytics.usage_events WHERE endpoint = '/intrusion'), 0::bigint, 'nothing was recorded');
SELECT is(pg_temp.as_role('analytics_tenant', format($$SELECT analytics_api.record_events('[{"occurred_at": "%sT00:00:00Z", "event_type": "api_call", "endpoint": "/own"}]')$$, pg_temp.d(0))),
          '1', 'tenant role: recording its own events works');
SELECT is((SELECT tenant_id FROM analytics.usage_events WHERE endpoint = '/own'), '00000000-0000-4000-8000-000000000001'::uuid,
          'under the claimed tenant');
SELECT pg_temp.claims('{"role": "analytics_tenant"}');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT analytics_api.usage_summary()::text'), 'PGRST 401 UNAUTHORIZED',
          'tenant role without a tenant claim: 401');

-- Forged claims by roles other than the tenant role.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT analytics_api.usage_summary()::text'), '42501',
          'anon role with a forged claim: may not call the API (PostgREST answers 401)');
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT count(*) FROM analytics.usage_events'), '42501', 'anon role: no table access');
SELECT is(pg_temp.as_role('api_test_authenticator', 'SELECT analytics_api.usage_summary()::text'), '42501',
          'the NOINHERIT authenticator without SET ROLE: may not call the API');
GRANT USAGE ON SCHEMA analytics_api TO api_test_mallory;
GRANT EXECUTE ON FUNCTION analytics_api.usage_summary(text, text) TO api_test_mallory;
SELECT is(pg_temp.as_role('api_test_mallory', 'SELECT analytics_api.usage_summary()::text'), 'PGRST 401 UNAUTHORIZED',
          'a role granted EXECUTE by mistake, with a forged claim: the claim is not trusted (401)');
SELECT is(pg_temp.as_role('api_test_authenticator', $$SELECT pg_temp.as_role('analytics_tenant', 'SELECT analytics_api.usage_summary() ->> ''tenantId''')$$),
          '00000000-0000-4000-8000-000000000001', 'PostgREST''s flow: authenticator, then SET LOCAL ROLE analytics_tenant');

-- Row-level security, the second line: even if the tenant role were granted
-- the tables, it would see and write only its own tenant's rows.
GRANT USAGE ON SCHEMA analytics TO analytics_tenant, analytics_anon, api_test_mallory;
GRANT SELECT, INSERT ON analytics.usage_events, analytics.tenant_daily, analytics.tenants, analytics.agents,
      analytics.analytics_daily_aggregates, analytics.usage_stats_daily TO analytics_tenant, analytics_anon, api_test_mallory;
SELECT is(pg_temp.as_role('analytics_tenant', format('SELECT string_agg(DISTINCT tenant_id::text, '','') FROM analytics.%I', t)),
          '00000000-0000-4000-8000-000000000001', format('RLS: the tenant role sees only its tenant in %s', t))
FROM (VALUES ('usage_events'), ('tenant_daily'), ('tenants'), ('agents'), ('analytics_daily_aggregates'), ('usage_stats_daily')) v(t);
SELECT is(pg_temp.as_role('analytics_anon', format('SELECT count(*) FROM analytics.%I', t)), '0',
          format('RLS: the anon role sees nothing in %s', t))
FROM (VALUES ('usage_events'), ('tenant_daily'), ('tenants'), ('agents')) v(t);
SELECT is(pg_temp.as_role('analytics_tenant', format($$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type) VALUES ('00000000-0000-4000-8000-000000000002', %L, 'api_call') RETURNING 1$$, pg_temp.d(0))),
          '42501', 'RLS: the tenant role cannot insert rows of another tenant');
-- Day partitions can be queried directly: each carries the parent's policy
-- (ensure_partitions copies it), so a grant on one leaks nothing either.
SELECT ok((SELECT count(*) FROM analytics.event_partitions WHERE day IS NOT NULL) >= 5, 'there are day partitions');
SELECT is((SELECT count(*) FROM analytics.event_partitions ep JOIN pg_class c ON c.oid = ep.partition
           WHERE ep.day IS NOT NULL
             AND NOT (c.relrowsecurity AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'))),
          0::bigint, 'every day partition has row-level security with the tenant_isolation policy');
SELECT lives_ok(format('GRANT SELECT ON analytics.%I TO analytics_tenant', analytics.partition_name(pg_temp.today() - 1)),
                'a grant on a partition by mistake');
SELECT is(pg_temp.as_role('analytics_tenant', format('SELECT string_agg(DISTINCT tenant_id::text, '','') FROM analytics.%I',
                                                    analytics.partition_name(pg_temp.today() - 1))),
          '00000000-0000-4000-8000-000000000001', 'RLS: the tenant role sees only its tenant in a partition');
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT string_agg(DISTINCT tenant_id::text, '','') FROM analytics.tenant_daily'),
          '00000000-0000-4000-8000-000000000002', 'RLS follows the claim');
SELECT is(pg_temp.as_role('api_test_mallory', 'SELECT count(DISTINCT tenant_id) FROM analytics.usage_events'), '6',
          'RLS leaves other roles to their grants');

SELECT * FROM finish();
ROLLBACK;
