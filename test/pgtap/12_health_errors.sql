-- Errors, scope and isolation of the §6.5 health and SLA API functions
-- (contract §5, §6.1, §6.2, §6.5, §6.8): every error as its HTTP status and
-- code, the order of the checks, writes allowed on the free tier, tenants
-- and operators (platform services), row-level security on the new tables.
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

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(200, 2, (now() AT TIME ZONE 'UTC')::date)$$, 'generate tenants and agents');
CREATE ROLE api_test_authenticator LOGIN NOINHERIT;
SELECT lives_ok($$SELECT analytics.create_api_roles('api_test_authenticator')$$, 'the API roles');

\set T1 '''00000000-0000-4000-8000-000000000001'''
\set T2 '''00000000-0000-4000-8000-000000000002'''
-- Services: the platform's "core", tenant 1's "svc" (and "shared"), tenant 2's "shared".
SELECT lives_ok($$SELECT analytics.register_service(NULL, 'core', 'api');
                  SELECT analytics.register_service('00000000-0000-4000-8000-000000000001', 'svc', 'mcp_server');
                  SELECT analytics.register_service('00000000-0000-4000-8000-000000000001', 'shared', 'cache');
                  SELECT analytics.register_service('00000000-0000-4000-8000-000000000002', 'shared', 'database');
                  SELECT analytics.register_service('00000000-0000-4000-8000-000000000005', 'freebie', 'api')$$, 'services');

CREATE TEMP TABLE calls (name text, sql text, write boolean);
INSERT INTO calls VALUES
    ('health_summary', 'analytics_api.health_summary()', false),
    ('service_health', 'analytics_api.service_health(service_name => ''svc'')', false),
    ('sla', 'analytics_api.sla(service_name => ''svc'')', false),
    ('register_service', 'analytics_api.register_service(service_name => ''svc'', service_type => ''mcp_server'')', true),
    ('record_health_check', 'analytics_api.record_health_check(service_name => ''svc'', status => ''healthy'')', true),
    ('record_circuit_state', 'analytics_api.record_circuit_state(service_name => ''svc'', state => ''open'')', true);
CREATE FUNCTION pg_temp.with(sql text, arg text) RETURNS text LANGUAGE sql
AS $$ SELECT CASE WHEN right(sql, 2) = '()' THEN left(sql, -1) || arg || ')' ELSE left(sql, -1) || ', ' || arg || ')' END $$;

-------------------------------------------------------------------------------
-- The §5 checks in their order
-------------------------------------------------------------------------------
SET LOCAL analytics.enabled = off;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': analytics.enabled off gives 404') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': 404 for the operator too') FROM calls;
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 404 NOT_FOUND', name || ': 404 before the claim check') FROM calls;
RESET analytics.enabled;

SELECT pg_temp.claims('');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 401 UNAUTHORIZED', name || ': no claim gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id": "acme"}');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 401 UNAUTHORIZED', name || ': a bad claim gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 401 UNAUTHORIZED', name || ': an unknown tenant gives 401') FROM calls;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT ' || sql || '::text'), '42501', name || ': not for analytics_anon') FROM calls;

-- The free tier: reads 403, writes allowed (contract §6.1).
SELECT pg_temp.as_tenant(5);
SELECT is(pg_temp.api_status('SELECT ' || replace(sql, '''svc''', '''freebie''')),
          CASE WHEN write THEN 'ok' ELSE 'PGRST 403 ANALYTICS_NOT_AVAILABLE' END,
          name || ': free tier ' || CASE WHEN write THEN 'may write' ELSE 'gets 403 on reads' END) FROM calls;
SET LOCAL analytics.free_tier_access = on;
SELECT is(pg_temp.api_status('SELECT ' || replace(sql, '''svc''', '''freebie''')), 'ok', name || ': free tier with free_tier_access on') FROM calls;
RESET analytics.free_tier_access;

-------------------------------------------------------------------------------
-- Scope (§6.1)
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': a tenant on its own service') FROM calls;
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT (' || sql || ') IS NOT NULL'), 'true', name || ': as the analytics_tenant role') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ' || :'T2')), 'PGRST 403 FORBIDDEN',
          name || ': naming another tenant gives 403 FORBIDDEN') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''not-a-uuid''')), 'PGRST 403 FORBIDDEN',
          name || ': a forged tenantId gives 403 FORBIDDEN') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ' || :'T1')), 'ok', name || ': naming itself') FROM calls;
-- Another tenant's service and the platform's are unknown to a tenant.
SELECT is(pg_temp.api_status('SELECT ' || replace(sql, '''svc''', '''core''')),
          CASE WHEN name IN ('health_summary', 'register_service') THEN 'ok' ELSE 'PGRST 404 SERVICE_NOT_FOUND' END,
          name || ': a platform service is unknown to a tenant') FROM calls WHERE name <> 'register_service';
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api_status('SELECT ' || sql),
          CASE WHEN name IN ('health_summary', 'register_service') THEN 'ok' ELSE 'PGRST 404 SERVICE_NOT_FOUND' END,
          name || ': another tenant''s service is unknown') FROM calls WHERE name <> 'register_service';
SELECT is((analytics_api.service_health(service_name => 'shared')) ->> 'service_type', 'database', 'a name in two tenants: each its own');
SELECT pg_temp.as_tenant(1);
SELECT is((analytics_api.service_health(service_name => 'shared')) ->> 'service_type', 'cache', 'a name in two tenants: each its own (1)');
SELECT is((SELECT string_agg(e ->> 'service_name', ',' ORDER BY e ->> 'service_name')
           FROM jsonb_array_elements((analytics_api.health_summary()) -> 'services') e),
          'shared,svc', 'health_summary for tenant 1: its own services only');
SELECT is((SELECT bool_and(e ->> 'tenant_id' = :T1) FROM jsonb_array_elements((analytics_api.health_summary()) -> 'services') e), true,
          'health_summary for tenant 1: every service is tenant 1''s');

-- Operators: platform services without tenantId, a tenant's with it.
SELECT pg_temp.claims('{"role": "analytics_operator"}');
SELECT is(pg_temp.as_role('analytics_operator', 'SELECT (' || replace(sql, '''svc''', '''core''') || ') IS NOT NULL'), 'true',
          name || ': the operator role on a platform service') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || sql),
          CASE WHEN name IN ('health_summary', 'register_service') THEN 'ok' ELSE 'PGRST 404 SERVICE_NOT_FOUND' END,
          name || ': for an operator without tenantId, svc is no platform service') FROM calls WHERE name <> 'register_service';
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ' || :'T1')), 'ok', name || ': an operator naming the tenant') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-0000000000ff''')),
          'PGRST 404 TENANT_NOT_FOUND', name || ': an operator naming an unknown tenant: 404 TENANT_NOT_FOUND') FROM calls;
SELECT is(pg_temp.api_status('SELECT ' || pg_temp.with(sql, '"tenantId" => ''acme''')),
          'PGRST 400 VALIDATION_ERROR', name || ': an operator''s tenantId that is not a uuid: 400') FROM calls;
SELECT is((SELECT count(*) FROM jsonb_array_elements((analytics_api.health_summary()) -> 'services')),
          (SELECT count(*) FROM analytics.services), 'health_summary for an operator: every service');
SELECT is((SELECT count(*) FROM jsonb_array_elements((analytics_api.health_summary("tenantId" => :T2)) -> 'services')),
          1::bigint, 'health_summary for an operator naming tenant 2: its one service');
SELECT is((analytics_api.register_service(service_name => 'platform-db', service_type => 'database')) -> 'tenant_id', 'null'::jsonb,
          'an operator registers a platform service');

-------------------------------------------------------------------------------
-- Parameters: 400 VALIDATION_ERROR / INVALID_PERIOD, 404 SERVICE_NOT_FOUND
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || c.sql), c.want, c.what)
FROM (VALUES
    ('analytics_api.service_health()', 'PGRST 400 VALIDATION_ERROR', 'service_health: service_name missing'),
    ('analytics_api.sla()', 'PGRST 400 VALIDATION_ERROR', 'sla: service_name missing'),
    ('analytics_api.register_service()', 'PGRST 400 VALIDATION_ERROR', 'register_service: service_name missing'),
    ('analytics_api.record_health_check(status => ''healthy'')', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: service_name missing'),
    ('analytics_api.record_circuit_state(state => ''open'')', 'PGRST 400 VALIDATION_ERROR', 'record_circuit_state: service_name missing'),
    ('analytics_api.service_health(service_name => ''nope'')', 'PGRST 404 SERVICE_NOT_FOUND', 'service_health: unknown service'),
    ('analytics_api.sla(service_name => ''nope'')', 'PGRST 404 SERVICE_NOT_FOUND', 'sla: unknown service'),
    ('analytics_api.sla(service_name => repeat(''x'', 300))', 'PGRST 404 SERVICE_NOT_FOUND', 'sla: an overlong name is unknown'),
    ('analytics_api.record_health_check(service_name => ''nope'', status => ''healthy'')', 'PGRST 404 SERVICE_NOT_FOUND', 'record_health_check: unknown service'),
    ('analytics_api.record_circuit_state(service_name => ''nope'', state => ''open'')', 'PGRST 404 SERVICE_NOT_FOUND', 'record_circuit_state: unknown service'),
    ('analytics_api.register_service(service_name => ''-bad'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: a name starting with -'),
    ('analytics_api.register_service(service_name => repeat(''x'', 129))', 'PGRST 400 VALIDATION_ERROR', 'register_service: a name over 128'),
    ('analytics_api.register_service(service_name => ''a b'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: a name with a space'),
    ('analytics_api.register_service(service_name => ''x'', service_type => ''queue'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: service_type'),
    ('analytics_api.register_service(service_name => ''x'', check_url => ''ftp://example.com/'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: check_url not http'),
    ('analytics_api.register_service(service_name => ''x'', check_url => ''file:///etc/passwd'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: check_url file'),
    ('analytics_api.register_service(service_name => ''x'', check_url => ''http://user:pw@example.com/'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: check_url with credentials'),
    ('analytics_api.register_service(service_name => ''x'', check_url => ''http://example.com/'' || repeat(''a'', 2048))', 'PGRST 400 VALIDATION_ERROR', 'register_service: check_url over 2048'),
    ('analytics_api.register_service(service_name => ''x'', check_url => ''http://exa mple.com/'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: check_url with a space'),
    ('analytics_api.register_service(service_name => ''x'', interval_seconds => ''9'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: interval under 10'),
    ('analytics_api.register_service(service_name => ''x'', interval_seconds => ''86401'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: interval over a day'),
    ('analytics_api.register_service(service_name => ''x'', interval_seconds => ''1e3'')', 'PGRST 400 VALIDATION_ERROR', 'register_service: interval not an integer'),
    ('analytics_api.register_service(service_name => ''x'', agent_id => ''nope'')', 'PGRST 404 AGENT_NOT_FOUND', 'register_service: agent_id not a uuid'),
    ('analytics_api.register_service(service_name => ''x'', agent_id => ''00000000-0000-4000-9002-000000000001'')', 'PGRST 404 AGENT_NOT_FOUND', 'register_service: another tenant''s agent'),
    ('analytics_api.register_service(service_name => ''x'', agent_id => ''00000000-0000-4000-9001-000000000001'', check_url => ''https://example.com/health'', interval_seconds => ''30'')', 'ok', 'register_service: all fields'),
    ('analytics_api.record_health_check(service_name => ''svc'')', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: status missing'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''fine'')', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: bad status'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''healthy'', response_time_ms => ''-1'')', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: negative response time'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''healthy'', response_time_ms => ''fast'')', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: response time not a number'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''healthy'', response_time_ms => ''86400001'')', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: response time over a day'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''unhealthy'', error_message => repeat(''e'', 1025))', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: error_message over 1024'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''healthy'', checked_at => ''yesterday'')', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: checked_at not a timestamp'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''healthy'', checked_at => ''2026-01-01'')', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: checked_at a date'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''healthy'', checked_at => to_char(now() + interval ''1 hour'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"''))', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: checked_at in the future'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''healthy'', checked_at => to_char(now() - interval ''401 days'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"''))', 'PGRST 400 VALIDATION_ERROR', 'record_health_check: checked_at too old'),
    ('analytics_api.record_health_check(service_name => ''svc'', status => ''degraded'', response_time_ms => ''1500.5'', checked_at => to_char(now() - interval ''1 hour'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"''))', 'ok', 'record_health_check: all fields'),
    ('analytics_api.record_circuit_state(service_name => ''svc'')', 'PGRST 400 VALIDATION_ERROR', 'record_circuit_state: state missing'),
    ('analytics_api.record_circuit_state(service_name => ''svc'', state => ''ajar'')', 'PGRST 400 VALIDATION_ERROR', 'record_circuit_state: bad state'),
    ('analytics_api.record_circuit_state(service_name => ''svc'', state => ''open'', at => ''soon'')', 'PGRST 400 VALIDATION_ERROR', 'record_circuit_state: at not a timestamp'),
    ('analytics_api.record_circuit_state(service_name => ''svc'', state => ''half_open'', at => to_char(now() - interval ''1 minute'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"''))', 'ok', 'record_circuit_state: all fields'),
    ('analytics_api.sla(service_name => ''svc'', target => ''101'')', 'PGRST 400 VALIDATION_ERROR', 'sla: target over 100'),
    ('analytics_api.sla(service_name => ''svc'', target => ''-1'')', 'PGRST 400 VALIDATION_ERROR', 'sla: negative target'),
    ('analytics_api.sla(service_name => ''svc'', target => ''high'')', 'PGRST 400 VALIDATION_ERROR', 'sla: target not a number'),
    ('analytics_api.sla(service_name => ''nope'', target => ''high'')', 'PGRST 400 VALIDATION_ERROR', 'sla: 400 before 404'),
    ('analytics_api.sla(service_name => ''svc'', days => ''0'')', 'PGRST 400 INVALID_PERIOD', 'sla: days 0'),
    ('analytics_api.sla(service_name => ''svc'', days => ''366'')', 'PGRST 400 INVALID_PERIOD', 'sla: days over 365'),
    ('analytics_api.sla(service_name => ''svc'', days => ''x'')', 'PGRST 400 INVALID_PERIOD', 'sla: days not a number'),
    ('analytics_api.sla(service_name => ''svc'', days => ''7'', period => ''7d'')', 'PGRST 400 INVALID_PERIOD', 'sla: days and period'),
    ('analytics_api.sla(service_name => ''svc'', "from" => ''2026-13-01'')', 'PGRST 400 INVALID_DATE_RANGE', 'sla: a bad from'),
    ('analytics_api.sla(service_name => ''svc'', days => ''365'', target => ''99.99'')', 'ok', 'sla: days 365, target 99.99'),
    ('analytics_api.service_health(service_name => ''svc'', hours => ''0'')', 'PGRST 400 INVALID_PERIOD', 'service_health: hours 0'),
    ('analytics_api.service_health(service_name => ''svc'', hours => ''169'')', 'PGRST 400 INVALID_PERIOD', 'service_health: hours over 168'),
    ('analytics_api.service_health(service_name => ''svc'', hours => ''x'')', 'PGRST 400 INVALID_PERIOD', 'service_health: hours not a number'),
    ('analytics_api.service_health(service_name => ''svc'', hours => ''168'')', 'ok', 'service_health: hours 168'),
    ('analytics_api.service_health(service_name => ''svc'', period => ''3d'')', 'ok', 'service_health: a period')
) c(sql, want, what);

-- A refused write stores nothing.
SELECT is((SELECT count(*) FROM analytics.services WHERE service_name = 'queue' OR service_name = '-bad'), 0::bigint, 'refused registrations stored nothing');

-- Shapes.
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(analytics_api.sla(service_name => 'svc')) k),
          ARRAY['average_response_time_ms', 'compliant', 'downtime_incidents', 'downtime_seconds', 'error_budget_remaining_seconds',
                'period', 'service_name', 'target', 'tenant_id', 'unknown_seconds', 'uptime_percentage', 'uptime_seconds'],
          'sla: the contract''s keys');
SELECT is((analytics_api.sla(service_name => 'svc')) -> 'target', '99.9'::jsonb, 'sla: default target 99.9');
SELECT is((analytics_api.sla(service_name => 'svc', days => '1')) -> 'period' ->> 'from',
          to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD') || 'T00:00:00.000000Z', 'sla days=1: today from midnight up to now');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(analytics_api.service_health(service_name => 'svc')) k),
          ARRAY['agent_id', 'check_url', 'circuit_state', 'circuit_timeline', 'consecutive_failures', 'interval_seconds', 'latest_check',
                'period', 'service_name', 'service_type', 'status', 'tenant_id', 'timeline', 'truncated'],
          'service_health: its keys');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_array_elements((analytics_api.health_summary()) -> 'services') e, jsonb_object_keys(e) k
           WHERE e ->> 'service_name' = 'svc'),
          ARRAY['circuit_state', 'consecutive_failures', 'last_checked', 'response_time_ms', 'service_name', 'service_type', 'status', 'tenant_id'],
          'health_summary: a service''s keys (seed 002 plus circuit_state, service_type, tenant_id)');
SELECT is((analytics_api.register_service(service_name => 'svc', service_type => 'mcp_server')) -> 'created', 'false'::jsonb,
          'register_service again: created false');

-------------------------------------------------------------------------------
-- Row-level security: a role acting as analytics_tenant with grants sees
-- only its tenant's services, checks and circuit events.
-------------------------------------------------------------------------------
CREATE ROLE health_rls_probe IN ROLE analytics_tenant;
GRANT USAGE ON SCHEMA analytics TO health_rls_probe;
GRANT SELECT ON analytics.services, analytics.health_checks, analytics.circuit_events TO health_rls_probe;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.as_role('health_rls_probe', $$SELECT count(*) FILTER (WHERE tenant_id IS DISTINCT FROM '00000000-0000-4000-8000-000000000001') || '/' || count(*) FROM analytics.services$$),
          '0/' || (SELECT count(*) FROM analytics.services WHERE tenant_id = :T1), 'RLS: services of the claimed tenant only');
SELECT is(pg_temp.as_role('health_rls_probe', $$SELECT count(*) FROM analytics.health_checks$$),
          (SELECT count(*) FROM analytics.health_checks h JOIN analytics.services s USING (service_id) WHERE s.tenant_id = :T1)::text,
          'RLS: health checks of the claimed tenant''s services only');
SELECT is(pg_temp.as_role('health_rls_probe', $$SELECT count(*) FROM analytics.circuit_events$$),
          (SELECT count(*) FROM analytics.circuit_events h JOIN analytics.services s USING (service_id) WHERE s.tenant_id = :T1)::text,
          'RLS: circuit events of the claimed tenant''s services only');
SELECT ok((SELECT count(*) FROM analytics.health_checks h JOIN analytics.services s USING (service_id) WHERE s.tenant_id = :T1) > 0,
          'RLS: (the tenant has checks to see)');
SELECT is((SELECT count(*) FROM pg_policies WHERE schemaname = 'analytics' AND tablename IN ('services', 'health_checks', 'circuit_events')),
          3::bigint, 'a tenant_isolation policy on each new table');

SELECT * FROM finish();
ROLLBACK;
