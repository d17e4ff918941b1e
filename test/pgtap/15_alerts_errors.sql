-- Errors, scope and isolation of the §6.6 alert functions (contract §5,
-- §6.1, §6.6, §6.8): every error as its HTTP status and code, in the order
-- of the checks (404 NOT_FOUND disabled, 401 UNAUTHORIZED, 403
-- ANALYTICS_NOT_AVAILABLE for free-tier reads, writes allowed), then 400
-- VALIDATION_ERROR naming the field, 404 RULE_NOT_FOUND, INCIDENT_NOT_FOUND,
-- CHANNEL_NOT_FOUND, 409 CONFLICT, 409 INVALID_STATE, 403 FORBIDDEN, 404
-- TENANT_NOT_FOUND; a tenant never sees or acts on another tenant's rules,
-- incidents, channels or deliveries; row-level security on the tables.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
SET LOCAL analytics.delivery_allow_private = off;
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
-- api_status, but a call that succeeds is rolled back (the fixtures stay).
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    BEGIN
        r := pg_temp.api_status(sql);
        IF r = 'ok' THEN
            RAISE EXCEPTION USING ERRCODE = 'P0T01';
        END IF;
    EXCEPTION WHEN SQLSTATE 'P0T01' THEN
        NULL;
    END;
    RETURN r;
END $$;
-- The message of a PGRST error (NULL when the call succeeds).
CREATE FUNCTION pg_temp.message(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
    RETURN msg::jsonb ->> 'message';
END $$;

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(200, 2, (now() AT TIME ZONE 'UTC')::date)$$, 'generate tenants and agents');
CREATE ROLE api_test_authenticator LOGIN NOINHERIT;
SELECT lives_ok($$SELECT analytics.create_api_roles('api_test_authenticator')$$, 'the API roles');
SELECT is((SELECT tier FROM analytics.tenants WHERE tenant_id = '00000000-0000-4000-8000-000000000005'), 'free', 'tenant 5 is on the free tier');
SELECT isnt((SELECT tier FROM analytics.tenants WHERE tenant_id = '00000000-0000-4000-8000-000000000001'), 'free', 'tenant 1 is not');

\set T1 '''00000000-0000-4000-8000-000000000001'''
\set T2 '''00000000-0000-4000-8000-000000000002'''

-- (alert rows a previous run of something else left in the database are
-- set aside: this transaction starts from none, and rolls back)
DELETE FROM analytics.notification_attempts;
DELETE FROM analytics.notification_outbox;
DELETE FROM analytics.alert_incidents;
DELETE FROM analytics.alert_rules;
DELETE FROM analytics.notification_channels;

-- Fixtures, made as the superuser: a channel, a rule and an incident of
-- tenant 1, of tenant 2 and of the platform.
CREATE TEMP TABLE fx (what text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.fx(w text) RETURNS text LANGUAGE sql AS $$ SELECT id::text FROM fx WHERE what = w $$;
WITH c AS (
    INSERT INTO analytics.notification_channels (tenant_id, channel_type, target)
    VALUES (:T1, 'webhook', 'https://hooks.example.com/t1'), (:T2, 'webhook', 'https://hooks.example.com/t2'),
           (NULL, 'email', 'ops@example.com')
    RETURNING tenant_id, channel_id)
INSERT INTO fx SELECT 'channel:' || coalesce(right(tenant_id::text, 1), 'p'), channel_id FROM c;
WITH r AS (
    INSERT INTO analytics.alert_rules (tenant_id, name, metric_name, condition_operator, threshold, aggregation)
    VALUES (:T1, 'rule one', 'events.count', 'gt', 1, 'count'), (:T2, 'rule two', 'events.count', 'gt', 1, 'count'),
           (NULL, 'platform rule', 'events.count', 'gt', 1, 'count')
    RETURNING tenant_id, rule_id)
INSERT INTO fx SELECT 'rule:' || coalesce(right(tenant_id::text, 1), 'p'), rule_id FROM r;
WITH i AS (
    INSERT INTO analytics.alert_incidents (rule_id, tenant_id, rule_name, metric_name, condition_operator, threshold, severity, status, value, opened_at)
    SELECT r.rule_id, r.tenant_id, r.name, r.metric_name, r.condition_operator, r.threshold, r.severity, 'open', 5, now() - interval '1 hour'
    FROM analytics.alert_rules r WHERE r.name IN ('rule one', 'rule two', 'platform rule')
    RETURNING tenant_id, incident_id)
INSERT INTO fx SELECT 'incident:' || coalesce(right(tenant_id::text, 1), 'p'), incident_id FROM i;
INSERT INTO analytics.notification_outbox (tenant_id, channel_id, incident_id, event_type, message_id, payload, expires_at)
SELECT :T2, pg_temp.fx('channel:2')::bigint, pg_temp.fx('incident:2')::bigint, 'incident.opened', 'msg_fixture_t2', '{}', now() + interval '1 day';
SELECT is((SELECT count(*) FROM fx), 9::bigint, 'fixtures: three channels, rules and incidents');

-- Every alert function, with arguments that would succeed for tenant 1.
CREATE TEMP TABLE calls (name text, sql text, write boolean);
INSERT INTO calls VALUES
    ('alert_rules', 'analytics_api.alert_rules()', false),
    ('incidents', 'analytics_api.incidents()', false),
    ('channels', 'analytics_api.channels()', false),
    ('deliveries', 'analytics_api.deliveries()', false),
    ('create_alert_rule', $$analytics_api.create_alert_rule(rule => '{"name": "new rule", "metric_name": "events.count", "condition_operator": "gt", "threshold": 3}')$$, true),
    ('update_alert_rule', format($$analytics_api.update_alert_rule(%L, '{"threshold": 7}')$$, pg_temp.fx('rule:1')), true),
    ('delete_alert_rule', format('analytics_api.delete_alert_rule(%L)', pg_temp.fx('rule:1')), true),
    ('acknowledge_incident', format('analytics_api.acknowledge_incident(%L)', pg_temp.fx('incident:1')), true),
    ('resolve_incident', format('analytics_api.resolve_incident(%L)', pg_temp.fx('incident:1')), true),
    ('silence_incident', format($$analytics_api.silence_incident(%L, %L)$$, pg_temp.fx('incident:1'),
                                to_char(now() + interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), true),
    ('create_channel', $$analytics_api.create_channel('email', 'oncall@example.com')$$, true),
    ('delete_channel', format('analytics_api.delete_channel(%L)', pg_temp.fx('channel:1')), true),
    ('rotate_channel_secret', format('analytics_api.rotate_channel_secret(%L)', pg_temp.fx('channel:1')), true),
    ('test_channel', format('analytics_api.test_channel(%L)', pg_temp.fx('channel:1')), true);
SELECT is((SELECT count(*) FROM calls), 14::bigint, 'every alert function of §6.6 is in the list');
-- A call with one more named argument.
CREATE FUNCTION pg_temp.with(sql text, arg text) RETURNS text LANGUAGE sql
AS $$ SELECT CASE WHEN sql ~ '\(\)$' THEN left(sql, -1) || arg || ')' ELSE left(sql, -1) || ', ' || arg || ')' END $$;

-- Each call works for tenant 1 (in a subtransaction, rolled back) and for the operator.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.try('SELECT ' || sql), 'ok', name || ': works for a tenant') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.try('SELECT ' || sql), 'ok', name || ': works for the operator') FROM calls;
SELECT is(pg_temp.try('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000001''')), 'ok',
          name || ': works for the operator with tenant 1''s tenantId') FROM calls;

-------------------------------------------------------------------------------
-- The §5 checks first, in their order.
-------------------------------------------------------------------------------
-- 404 NOT_FOUND when disabled, before anything else (no claim, bad arguments).
SET LOCAL analytics.enabled = off;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.try('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': disabled gives 404 NOT_FOUND') FROM calls;
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql), 'PGRST 404 NOT_FOUND',
          name || ': disabled gives 404 before 401') FROM calls;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '[1, 2]')$$), 'PGRST 404 NOT_FOUND',
          'create_alert_rule: disabled gives 404 before a bad body');
SELECT is(pg_temp.try($$SELECT analytics_api.update_alert_rule('x', 'null')$$), 'PGRST 404 NOT_FOUND',
          'update_alert_rule: disabled gives 404 before a bad id and patch');
SELECT is(pg_temp.try($$SELECT analytics_api.create_channel('pager', '')$$), 'PGRST 404 NOT_FOUND',
          'create_channel: disabled gives 404 before a bad channel');
SELECT is(pg_temp.try($$SELECT analytics_api.incidents('nope')$$), 'PGRST 404 NOT_FOUND',
          'incidents: disabled gives 404 before a bad status');
RESET analytics.enabled;

-- 401 UNAUTHORIZED: the tenant role without a claim, with a claim of an
-- unknown tenant, or with a claim that is not a uuid; before bad arguments.
SELECT pg_temp.claims('');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql), 'PGRST 401 UNAUTHORIZED',
          name || ': the tenant role without a claim gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql), 'PGRST 401 UNAUTHORIZED',
          name || ': an unknown tenant gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id": "not-a-uuid"}');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql), 'PGRST 401 UNAUTHORIZED',
          name || ': a malformed claim gives 401') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.as_role('analytics_tenant', $$SELECT analytics_api.create_alert_rule(rule => '"x"')$$), 'PGRST 401 UNAUTHORIZED',
          'create_alert_rule: 401 before a bad body');
SELECT is(pg_temp.as_role('analytics_tenant', $$SELECT analytics_api.create_channel('pager', '')$$), 'PGRST 401 UNAUTHORIZED',
          'create_channel: 401 before a bad channel');
-- the anonymous role may not run them at all (PostgREST answers 401)
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT ' || sql), '42501',
          name || ': the anonymous role has no EXECUTE grant') FROM calls;

-- Free tier: reads 403 ANALYTICS_NOT_AVAILABLE (before bad arguments), writes allowed.
SELECT pg_temp.as_tenant(5);
SELECT is(pg_temp.try('SELECT ' || sql), 'PGRST 403 ANALYTICS_NOT_AVAILABLE', name || ': a free tenant''s read gives 403')
FROM calls WHERE NOT write;
SELECT is(pg_temp.try($$SELECT analytics_api.incidents('nope')$$), 'PGRST 403 ANALYTICS_NOT_AVAILABLE',
          'incidents: 403 on the free tier before a bad status');
SELECT is(pg_temp.try($$SELECT analytics_api.deliveries('13x')$$), 'PGRST 403 ANALYTICS_NOT_AVAILABLE',
          'deliveries: 403 on the free tier before a bad period');
SELECT is(pg_temp.api($$analytics_api.create_channel('email', 'free@example.com')$$) ->> 'channel_type', 'email',
          'a free tenant creates a channel');
SELECT is(pg_temp.api($$analytics_api.create_alert_rule(rule => '{"name": "free rule", "metric_name": "events.count", "condition_operator": "gt", "threshold": 3}')$$) ->> 'name',
          'free rule', 'a free tenant creates a rule');
SELECT is((SELECT tenant_id::text FROM analytics.alert_rules WHERE name = 'free rule'), '00000000-0000-4000-8000-000000000005',
          'the free tenant''s rule is its own');
SELECT is(pg_temp.try(format($$SELECT analytics_api.update_alert_rule(%L, '{"threshold": 4}')$$,
                                    (SELECT rule_id FROM analytics.alert_rules WHERE name = 'free rule'))), 'ok',
          'a free tenant updates its rule');
SELECT is(pg_temp.try(format($$SELECT analytics_api.delete_alert_rule(%L)$$,
                                    (SELECT rule_id FROM analytics.alert_rules WHERE name = 'free rule'))), 'ok',
          'a free tenant deletes its rule');

-------------------------------------------------------------------------------
-- 403 FORBIDDEN: a tenant naming another tenant, or asking for the platform.
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.try('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000002''')),
          'PGRST 403 FORBIDDEN', name || ': a tenant naming another tenant gives 403') FROM calls;
SELECT is(pg_temp.try('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000001''')),
          'ok', name || ': a tenant naming itself is fine') FROM calls;
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "p", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "scope": "platform"}')$$),
          'PGRST 403 FORBIDDEN', 'create_alert_rule: a tenant asking for the platform scope gives 403');
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(name => 'p', metric_name => 'events.count', condition_operator => 'gt', threshold => '1', scope => 'platform')$$),
          'PGRST 403 FORBIDDEN', 'create_alert_rule: the same with named fields');
SELECT is(pg_temp.try($$SELECT analytics_api.create_channel('email', 'a@example.com', scope => 'platform')$$),
          'PGRST 403 FORBIDDEN', 'create_channel: a tenant asking for the platform scope gives 403');
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "t", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "scope": "tenant"}')$$),
          'ok', 'create_alert_rule: scope tenant for a tenant is its own');
-- a tenant on the free tier naming another tenant: 403 on writes too
SELECT pg_temp.as_tenant(5);
SELECT is(pg_temp.try('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-000000000002''')),
          'PGRST 403 FORBIDDEN', name || ': a free tenant naming another tenant gives 403') FROM calls WHERE write;

-------------------------------------------------------------------------------
-- The operator: 404 TENANT_NOT_FOUND, 400 for a tenantId that is no uuid.
-------------------------------------------------------------------------------
SELECT pg_temp.claims('');
SELECT is(pg_temp.try('SELECT ' || pg_temp.with(sql, '"tenantId" => ''00000000-0000-4000-8000-0000000000ff''')),
          'PGRST 404 TENANT_NOT_FOUND', name || ': an operator''s unknown tenantId gives 404') FROM calls;
SELECT is(pg_temp.try('SELECT ' || pg_temp.with(sql, '"tenantId" => ''nope''')),
          'PGRST 400 VALIDATION_ERROR', name || ': a tenantId that is not a uuid gives 400') FROM calls;
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "p", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "scope": "platform"}', "tenantId" => '00000000-0000-4000-8000-000000000001')$$),
          'PGRST 400 VALIDATION_ERROR', 'create_alert_rule: scope platform with a tenantId gives 400');
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "p", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "scope": "tenant"}')$$),
          'PGRST 400 VALIDATION_ERROR', 'create_alert_rule: an operator''s scope tenant without tenantId gives 400');
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "p", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "scope": "world"}')$$),
          'PGRST 400 VALIDATION_ERROR', 'create_alert_rule: an unknown scope gives 400');
SELECT ok(pg_temp.message($$SELECT analytics_api.create_alert_rule(rule => '{"name": "p", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "scope": "world"}')$$)
          LIKE 'scope%', 'the message names scope');
SELECT is(pg_temp.api($$analytics_api.create_alert_rule(rule => '{"name": "op rule", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "scope": "platform"}')$$) ->> 'scope',
          'platform', 'an operator creates a platform rule');
SELECT is((SELECT tenant_id FROM analytics.alert_rules WHERE name = 'op rule'), NULL::uuid, 'stored with tenant_id NULL');

-------------------------------------------------------------------------------
-- 400 VALIDATION_ERROR naming the field: rule bodies, nothing stored.
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(1);
CREATE TEMP TABLE bad_rules (body text, field text);
INSERT INTO bad_rules VALUES
    ('{"metric_name": "events.count", "condition_operator": "gt", "threshold": 1}', 'name'),
    ('{"name": "", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}', 'name'),
    ('{"name": 5, "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}', 'name'),
    (format('{"name": "%s", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}', repeat('n', 129)), 'name'),
    ('{"name": "a\nb", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}', 'name'),
    ('{"name": "b", "condition_operator": "gt", "threshold": 1}', 'metric_name'),
    ('{"name": "b", "metric_name": "no.such.metric", "condition_operator": "gt", "threshold": 1}', 'metric_name'),
    ('{"name": "b", "metric_name": 7, "condition_operator": "gt", "threshold": 1}', 'metric_name'),
    ('{"name": "b", "metric_name": "events.count", "threshold": 1}', 'condition_operator'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "ne", "threshold": 1}', 'condition_operator'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "GT", "threshold": 1}', 'condition_operator'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt"}', 'threshold'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": "many"}', 'threshold'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1e16}', 'threshold'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": "NaN"}', 'threshold'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": true}', 'threshold'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "severity": "fatal"}', 'severity'),
    (format('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "description": "%s"}', repeat('d', 1025)), 'description'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "description": 5}', 'description'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "duration_seconds": -1}', 'duration_seconds'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "duration_seconds": 86401}', 'duration_seconds'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "duration_seconds": 1.5}', 'duration_seconds'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "window_seconds": 59}', 'window_seconds'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "window_seconds": 86401}', 'window_seconds'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "repeat_interval_seconds": 59}', 'repeat_interval_seconds'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "repeat_interval_seconds": "x"}', 'repeat_interval_seconds'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "aggregation": "median"}', 'aggregation'),
    ('{"name": "b", "metric_name": "latency.p95", "condition_operator": "gt", "threshold": 1, "aggregation": "sum"}', 'aggregation'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "tags": []}', 'tags'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "tags": {"tool": 5}}', 'tags'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "tags": {"colour": "red"}}', 'tags.colour'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "channels": "1"}', 'channels'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "channels": ["x"]}', 'channels'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "channels": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21]}', 'channels'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "enabled": "maybe"}', 'enabled'),
    ('{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "colour": "red"}', 'colour'),
    ('[1]', 'rule'),
    ('"text"', 'rule');
SELECT is(pg_temp.try(format('SELECT analytics_api.create_alert_rule(rule => %L)', b.body)), 'PGRST 400 VALIDATION_ERROR',
          format('create_alert_rule %s: 400 VALIDATION_ERROR', left(b.body, 110))) FROM bad_rules b;
SELECT ok(pg_temp.message(format('SELECT analytics_api.create_alert_rule(rule => %L)', b.body)) LIKE b.field || '%',
          format('create_alert_rule: the message names %s', b.field)) FROM bad_rules b;
SELECT is((SELECT count(*) FROM analytics.alert_rules WHERE name IN ('b', '') OR length(name) > 128), 0::bigint, 'no bad rule stored');
-- named fields are checked the same way
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(name => 'b', metric_name => 'events.count', condition_operator => 'gt', threshold => 'x')$$),
          'PGRST 400 VALIDATION_ERROR', 'create_alert_rule with named fields: a bad threshold gives 400');
SELECT ok(pg_temp.message($$SELECT analytics_api.create_alert_rule(name => 'b', metric_name => 'events.count', condition_operator => 'gt', threshold => 'x')$$)
          LIKE 'threshold%', 'the message names threshold');
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule()$$), 'PGRST 400 VALIDATION_ERROR', 'create_alert_rule with no body gives 400');

-- 404 CHANNEL_NOT_FOUND: a rule naming an unknown channel or another scope's.
SELECT is(pg_temp.try(format($$SELECT analytics_api.create_alert_rule(rule => '{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "channels": [%s]}')$$, c)),
          'PGRST 404 CHANNEL_NOT_FOUND', 'create_alert_rule: channel ' || w || ' gives 404 CHANNEL_NOT_FOUND')
FROM (VALUES ('999999999', 'unknown'), (pg_temp.fx('channel:2'), 'of tenant 2'), (pg_temp.fx('channel:p'), 'of the platform')) v(c, w);
SELECT is(pg_temp.try(format($$SELECT analytics_api.create_alert_rule(rule => '{"name": "b", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1, "channels": [%s]}')$$, pg_temp.fx('channel:1'))),
          'ok', 'create_alert_rule: its own channel is fine');

-- 409 CONFLICT: a name taken in the scope; the same name in another scope is fine.
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "rule one", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}')$$),
          'PGRST 409 CONFLICT', 'create_alert_rule: a name taken in the tenant''s scope gives 409 CONFLICT');
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "rule two", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}')$$),
          'ok', 'create_alert_rule: another tenant''s rule name is free');
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "platform rule", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}')$$),
          'ok', 'create_alert_rule: a platform rule''s name is free for a tenant');
SELECT pg_temp.claims('');
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "platform rule", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}')$$),
          'PGRST 409 CONFLICT', 'create_alert_rule: a name taken in the platform scope gives 409 CONFLICT');
SELECT is(pg_temp.try($$SELECT analytics_api.create_alert_rule(rule => '{"name": "rule one", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}', "tenantId" => '00000000-0000-4000-8000-000000000001')$$),
          'PGRST 409 CONFLICT', 'create_alert_rule: an operator naming tenant 1 meets its names');
SELECT pg_temp.as_tenant(1);
SELECT lives_ok($$SELECT analytics_api.create_alert_rule(rule => '{"name": "rule one bis", "metric_name": "events.count", "condition_operator": "gt", "threshold": 1}')$$,
          'a second rule of tenant 1');
SELECT is(pg_temp.try(format($$SELECT analytics_api.update_alert_rule(%L, '{"name": "rule one"}')$$,
                                    (SELECT rule_id FROM analytics.alert_rules WHERE name = 'rule one bis'))),
          'PGRST 409 CONFLICT', 'update_alert_rule: renaming to a taken name gives 409 CONFLICT');

-------------------------------------------------------------------------------
-- update_alert_rule: bad patches (400 naming the field), 404 RULE_NOT_FOUND.
-------------------------------------------------------------------------------
CREATE TEMP TABLE bad_patches (patch text, field text);
INSERT INTO bad_patches VALUES
    ('{"name": ""}', 'name'), ('{"metric_name": "no.such"}', 'metric_name'), ('{"condition_operator": "between"}', 'condition_operator'),
    ('{"threshold": null}', 'threshold'), ('{"threshold": "1e20"}', 'threshold'), ('{"severity": "low"}', 'severity'),
    ('{"duration_seconds": 100000}', 'duration_seconds'), ('{"window_seconds": 0}', 'window_seconds'),
    ('{"repeat_interval_seconds": 604801}', 'repeat_interval_seconds'), ('{"aggregation": "p42"}', 'aggregation'),
    ('{"tags": {"service": "x", "colour": "red"}}', 'tags.colour'), ('{"channels": [-1]}', 'channels'),
    ('{"enabled": "on"}', 'enabled'), ('{"scope": "platform"}', 'scope'), ('{"rule_id": 1}', 'rule_id'),
    ('[]', 'patch'), ('"x"', 'patch');
SELECT is(pg_temp.try(format('SELECT analytics_api.update_alert_rule(%L, %L)', pg_temp.fx('rule:1'), b.patch)), 'PGRST 400 VALIDATION_ERROR',
          format('update_alert_rule %s: 400 VALIDATION_ERROR', b.patch)) FROM bad_patches b;
SELECT ok(pg_temp.message(format('SELECT analytics_api.update_alert_rule(%L, %L)', pg_temp.fx('rule:1'), b.patch)) LIKE b.field || '%',
          format('update_alert_rule: the message names %s', b.field)) FROM bad_patches b;
SELECT is(pg_temp.try(format('SELECT analytics_api.update_alert_rule(%L, NULL)', pg_temp.fx('rule:1'))), 'PGRST 400 VALIDATION_ERROR',
          'update_alert_rule without a patch gives 400');
SELECT is((SELECT (threshold, severity, name) FROM analytics.alert_rules WHERE rule_id = pg_temp.fx('rule:1')::bigint),
          (1::double precision, 'warning'::text, 'rule one'::text), 'a refused patch changes nothing');
SELECT is(pg_temp.try(format($$SELECT analytics_api.update_alert_rule(%L, '{"channels": [%s]}')$$, pg_temp.fx('rule:1'), pg_temp.fx('channel:2'))),
          'PGRST 404 CHANNEL_NOT_FOUND', 'update_alert_rule: another tenant''s channel gives 404 CHANNEL_NOT_FOUND');

-- Ids: not digits gives 400 naming id; unknown, another tenant's or the platform's: 404.
CREATE TEMP TABLE by_id (name text, kind text, sql text);
INSERT INTO by_id VALUES
    ('update_alert_rule', 'rule', $$analytics_api.update_alert_rule(%L, '{"threshold": 2}')$$),
    ('delete_alert_rule', 'rule', 'analytics_api.delete_alert_rule(%L)'),
    ('acknowledge_incident', 'incident', 'analytics_api.acknowledge_incident(%L)'),
    ('resolve_incident', 'incident', 'analytics_api.resolve_incident(%L)'),
    ('silence_incident', 'incident', format('analytics_api.silence_incident(%%L, %L)', to_char(now() + interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
    ('delete_channel', 'channel', 'analytics_api.delete_channel(%L)'),
    ('rotate_channel_secret', 'channel', 'analytics_api.rotate_channel_secret(%L)'),
    ('test_channel', 'channel', 'analytics_api.test_channel(%L)');
SELECT is(pg_temp.try(format('SELECT ' || sql, v)), 'PGRST 400 VALIDATION_ERROR', format('%s(%s): 400 VALIDATION_ERROR', name, coalesce(v, 'NULL')))
FROM by_id, unnest(ARRAY[NULL, '', 'abc', '-1', '1.5', repeat('9', 19)]) v;
SELECT ok(pg_temp.message(format('SELECT ' || sql, 'abc')) LIKE 'id %', name || ': the message names id') FROM by_id;
SELECT is(pg_temp.try(format('SELECT ' || sql, v)), 'PGRST 404 ' || upper(kind) || '_NOT_FOUND',
          format('%s: %s gives 404 %s_NOT_FOUND', name, w, upper(kind)))
FROM by_id, LATERAL (VALUES ('999999999', 'an unknown id'), (pg_temp.fx(kind || ':2'), 'tenant 2''s id'),
                            (pg_temp.fx(kind || ':p'), 'the platform''s id')) x(v, w);

-- Incidents: 409 INVALID_STATE for transitions not allowed; bad note, until.
SELECT is(pg_temp.try(format('SELECT analytics_api.acknowledge_incident(%L, %L)', pg_temp.fx('incident:1'), repeat('n', 4097))),
          'PGRST 400 VALIDATION_ERROR', 'acknowledge_incident: a note over 4096 characters gives 400');
SELECT ok(pg_temp.message(format('SELECT analytics_api.acknowledge_incident(%L, %L)', pg_temp.fx('incident:1'), repeat('n', 4097))) LIKE 'note%',
          'the message names note');
SELECT is(pg_temp.try(format('SELECT analytics_api.resolve_incident(%L, %L)', pg_temp.fx('incident:1'), repeat('n', 4097))),
          'PGRST 400 VALIDATION_ERROR', 'resolve_incident: resolution_notes over 4096 characters gives 400');
SELECT ok(pg_temp.message(format('SELECT analytics_api.resolve_incident(%L, %L)', pg_temp.fx('incident:1'), repeat('n', 4097))) LIKE 'resolution_notes%',
          'the message names resolution_notes');
SELECT is(pg_temp.try(format('SELECT analytics_api.silence_incident(%L, %L)', pg_temp.fx('incident:1'), u)),
          'PGRST 400 VALIDATION_ERROR', format('silence_incident until %s: 400 VALIDATION_ERROR', coalesce(u, 'NULL')))
FROM unnest(ARRAY[NULL, 'tomorrow', '2026-01-01', to_char(now() - interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  to_char(now() + interval '31 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '2026-13-45T99:00:00Z']) u;
SELECT ok(pg_temp.message(format('SELECT analytics_api.silence_incident(%L, %L)', pg_temp.fx('incident:1'), 'tomorrow')) LIKE 'until%',
          'the message names until');
SELECT is(pg_temp.api(format('SELECT analytics_api.acknowledge_incident(%L)', pg_temp.fx('incident:1'))) ->> 'status', 'acknowledged', 'acknowledge');
SELECT is(pg_temp.try(format('SELECT analytics_api.acknowledge_incident(%L)', pg_temp.fx('incident:1'))),
          'PGRST 409 INVALID_STATE', 'acknowledging an acknowledged incident gives 409 INVALID_STATE');
SELECT is(pg_temp.api(format('SELECT analytics_api.silence_incident(%L, %L)', pg_temp.fx('incident:1'),
                             to_char(now() + interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))) ->> 'status', 'silenced', 'silence');
SELECT is(pg_temp.api(format('SELECT analytics_api.acknowledge_incident(%L)', pg_temp.fx('incident:1'))) ->> 'status', 'acknowledged',
          'a silenced incident can be acknowledged');
SELECT is(pg_temp.api(format('SELECT analytics_api.resolve_incident(%L, %L)', pg_temp.fx('incident:1'), 'done')) ->> 'status', 'resolved', 'resolve');
SELECT is(pg_temp.try(format(sql, pg_temp.fx('incident:1'))), 'PGRST 409 INVALID_STATE',
          name || ' of a resolved incident gives 409 INVALID_STATE')
FROM (VALUES ('acknowledge_incident', 'SELECT analytics_api.acknowledge_incident(%L)'),
             ('resolve_incident', 'SELECT analytics_api.resolve_incident(%L)'),
             ('silence_incident', format('SELECT analytics_api.silence_incident(%%L, %L)', to_char(now() + interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))) v(name, sql);
SELECT is((SELECT status FROM analytics.alert_incidents WHERE incident_id = pg_temp.fx('incident:1')::bigint), 'resolved', 'still resolved');

-- Bad reads: incidents status and period; deliveries status and period.
SELECT is(pg_temp.try(format('SELECT analytics_api.incidents(%L)', s)), 'PGRST 400 VALIDATION_ERROR',
          format('incidents status %s: 400 VALIDATION_ERROR', s)) FROM unnest(ARRAY['closed', 'OPEN', '', repeat('x', 300)]) s;
SELECT ok(pg_temp.message($$SELECT analytics_api.incidents('closed')$$) LIKE 'status%', 'incidents: the message names status');
SELECT is(pg_temp.try(format('SELECT analytics_api.incidents(%L)', s)), 'ok', format('incidents status %s', s))
FROM unnest(ARRAY['open', 'acknowledged', 'silenced', 'resolved', 'all']) s;
SELECT is(pg_temp.try(format('SELECT analytics_api.%s(period => %L)', f, p)), 'PGRST 400 INVALID_PERIOD',
          format('%s period %s: 400 INVALID_PERIOD', f, p))
FROM unnest(ARRAY['incidents', 'deliveries']) f, unnest(ARRAY['13x', '0d', '366d', '169h']) p;
SELECT is(pg_temp.try(format($$SELECT analytics_api.%s(period => '7d', "from" => '2026-01-01')$$, f)), 'PGRST 400 INVALID_PERIOD',
          f || ': period with from gives 400 INVALID_PERIOD') FROM unnest(ARRAY['incidents', 'deliveries']) f;
SELECT is(pg_temp.try(format($$SELECT analytics_api.%s("from" => '2026-02-01', "to" => '2026-01-01')$$, f)), 'PGRST 400 INVALID_DATE_RANGE',
          f || ': from after to gives 400 INVALID_DATE_RANGE') FROM unnest(ARRAY['incidents', 'deliveries']) f;
SELECT is(pg_temp.try(format('SELECT analytics_api.deliveries(status => %L)', s)), 'PGRST 400 VALIDATION_ERROR',
          format('deliveries status %s: 400 VALIDATION_ERROR', s)) FROM unnest(ARRAY['done', 'PENDING', '']) s;
SELECT ok(pg_temp.message($$SELECT analytics_api.deliveries(status => 'done')$$) LIKE 'status%', 'deliveries: the message names status');

-------------------------------------------------------------------------------
-- Channels: 400 naming the field; private targets refused unless allowed.
-------------------------------------------------------------------------------
CREATE TEMP TABLE bad_channels (args text, field text);
INSERT INTO bad_channels VALUES
    ('NULL, ''https://hooks.example.com/x''', 'channel_type'),
    ('''pager'', ''https://hooks.example.com/x''', 'channel_type'),
    ('''WEBHOOK'', ''https://hooks.example.com/x''', 'channel_type'),
    ('''webhook'', NULL', 'target'),
    ('''webhook'', ''ftp://hooks.example.com/x''', 'target'),
    ('''webhook'', ''https://user:pw@hooks.example.com/x''', 'target'),
    ('''webhook'', ''hooks.example.com/x''', 'target'),
    (format('''webhook'', %L', 'https://hooks.example.com/' || repeat('x', 2048)), 'target'),
    ('''webhook'', ''http://127.0.0.1:8080/hook''', 'target'),
    ('''webhook'', ''http://localhost/hook''', 'target'),
    ('''slack'', ''http://10.1.2.3/hook''', 'target'),
    ('''webhook'', ''http://[::1]:80/hook''', 'target'),
    ('''webhook'', ''http://169.254.169.254/latest''', 'target'),
    ('''email'', ''not an address''', 'target'),
    ('''email'', NULL', 'target'),
    ('''email'', ''a@b''', 'target'),
    ('''email'', ''a@example.com, b@example.com''', 'target'),
    ('''email'', ''a@example.com\r\nBcc: x@example.com''', 'target'),
    ('''webhook'', ''https://hooks.example.com/x'', ''"incident.opened"''', 'events'),
    ('''webhook'', ''https://hooks.example.com/x'', ''[]''', 'events'),
    ('''webhook'', ''https://hooks.example.com/x'', ''["incident.closed"]''', 'events'),
    ('''webhook'', ''https://hooks.example.com/x'', ''[1]''', 'events'),
    ('''webhook'', ''https://hooks.example.com/x'', scope => ''galaxy''', 'scope');
SELECT is(pg_temp.try('SELECT analytics_api.create_channel(' || b.args || ')'), 'PGRST 400 VALIDATION_ERROR',
          format('create_channel(%s): 400 VALIDATION_ERROR', left(b.args, 90))) FROM bad_channels b;
SELECT ok(pg_temp.message('SELECT analytics_api.create_channel(' || b.args || ')') LIKE b.field || '%',
          format('create_channel: the message names %s', b.field)) FROM bad_channels b;
SELECT is((SELECT count(*) FROM analytics.notification_channels WHERE tenant_id = :T1), 1::bigint, 'no bad channel stored');
SET LOCAL analytics.delivery_allow_private = on;
SELECT is(pg_temp.try($$SELECT analytics_api.create_channel('webhook', 'http://127.0.0.1:8080/hook')$$), 'ok',
          'create_channel: a loopback target is allowed with analytics.delivery_allow_private');
SET LOCAL analytics.delivery_allow_private = off;
SELECT lives_ok($$SELECT analytics_api.create_channel('email', 'x@example.com')$$, 'an e-mail channel of tenant 1');
SELECT is(pg_temp.try(format('SELECT analytics_api.rotate_channel_secret(%L)', c.channel_id)), 'PGRST 400 VALIDATION_ERROR',
          'rotate_channel_secret of an e-mail channel gives 400')
FROM analytics.notification_channels c WHERE c.tenant_id = :T1 AND c.channel_type = 'email' LIMIT 1;
UPDATE analytics.notification_channels SET enabled = false, disabled_reason = '410 Gone' WHERE channel_id = pg_temp.fx('channel:1')::bigint;
SELECT is(pg_temp.try(format('SELECT analytics_api.test_channel(%L)', pg_temp.fx('channel:1'))), 'PGRST 400 VALIDATION_ERROR',
          'test_channel of a disabled channel gives 400');
UPDATE analytics.notification_channels SET enabled = true, disabled_reason = NULL WHERE channel_id = pg_temp.fx('channel:1')::bigint;

-------------------------------------------------------------------------------
-- Isolation over the API: tenant 1 sees only its own; nothing of tenant 2
-- changed by tenant 1's calls.
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(1);
SELECT is((SELECT count(*) FROM jsonb_array_elements(analytics_api.alert_rules() -> 'rules') r
           WHERE r ->> 'tenant_id' IS DISTINCT FROM '00000000-0000-4000-8000-000000000001'), 0::bigint,
          'alert_rules: only tenant 1''s rules');
SELECT is((analytics_api.alert_rules() ->> 'total')::bigint, (SELECT count(*) FROM analytics.alert_rules WHERE tenant_id = :T1),
          'alert_rules: every rule of tenant 1 (oracle)');
SELECT is((SELECT count(*) FROM jsonb_array_elements(analytics_api.incidents('all') -> 'incidents') i
           WHERE i ->> 'tenant_id' IS DISTINCT FROM '00000000-0000-4000-8000-000000000001'), 0::bigint,
          'incidents: only tenant 1''s');
SELECT is((analytics_api.incidents('all') ->> 'total')::bigint, (SELECT count(*) FROM analytics.alert_incidents WHERE tenant_id = :T1),
          'incidents: every incident of tenant 1 (oracle)');
SELECT is((analytics_api.channels() ->> 'total')::bigint, (SELECT count(*) FROM analytics.notification_channels WHERE tenant_id = :T1),
          'channels: tenant 1''s only (oracle)');
SELECT is((SELECT count(*) FROM jsonb_array_elements(analytics_api.deliveries() -> 'deliveries') d WHERE d ->> 'webhook_id' = 'msg_fixture_t2'),
          0::bigint, 'deliveries: tenant 2''s notification is not listed for tenant 1');
SELECT pg_temp.as_tenant(2);
SELECT is((SELECT count(*) FROM jsonb_array_elements(analytics_api.deliveries() -> 'deliveries') d WHERE d ->> 'webhook_id' = 'msg_fixture_t2'),
          1::bigint, 'deliveries: tenant 2 sees its own');
SELECT is((analytics_api.alert_rules() ->> 'total')::bigint, (SELECT count(*) FROM analytics.alert_rules WHERE tenant_id = :T2),
          'alert_rules: tenant 2 sees its own');
SELECT is((SELECT (r.threshold, r.name, i.status, c.enabled, c.target)
           FROM analytics.alert_rules r, analytics.alert_incidents i, analytics.notification_channels c
           WHERE r.rule_id = pg_temp.fx('rule:2')::bigint AND i.incident_id = pg_temp.fx('incident:2')::bigint
             AND c.channel_id = pg_temp.fx('channel:2')::bigint),
          (1::double precision, 'rule two'::text, 'open'::text, true, 'https://hooks.example.com/t2'::text),
          'tenant 2''s rule, incident and channel are untouched by tenant 1''s calls');
SELECT pg_temp.claims('');
SELECT is((analytics_api.alert_rules() ->> 'total')::bigint, (SELECT count(*) FROM analytics.alert_rules), 'the operator sees every rule');
SELECT is((analytics_api.alert_rules("tenantId" => '00000000-0000-4000-8000-000000000002') ->> 'total')::bigint,
          (SELECT count(*) FROM analytics.alert_rules WHERE tenant_id = :T2), 'the operator narrowed to tenant 2');

-------------------------------------------------------------------------------
-- Row-level security: a role acting as analytics_tenant with grants sees
-- only its tenant's rows (never the platform's); it cannot write another's.
-------------------------------------------------------------------------------
CREATE ROLE alerts_rls_probe IN ROLE analytics_tenant;
GRANT USAGE ON SCHEMA analytics TO alerts_rls_probe;
GRANT SELECT, INSERT, UPDATE ON analytics.alert_rules, analytics.alert_incidents, analytics.notification_channels,
      analytics.notification_outbox, analytics.notification_attempts TO alerts_rls_probe;
INSERT INTO analytics.notification_attempts (delivery_id, attempt, started_at, finished_at, status_code, outcome)
SELECT delivery_id, 1, now(), now(), 500, 'retry' FROM analytics.notification_outbox WHERE message_id = 'msg_fixture_t2';
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.as_role('alerts_rls_probe', format($$SELECT count(*) FILTER (WHERE tenant_id IS DISTINCT FROM %L) || '/' || count(*) FROM analytics.%I$$,
                                                     '00000000-0000-4000-8000-000000000001', t)),
          '0/' || c, 'RLS: ' || t || ' of the claimed tenant only')
FROM (VALUES ('alert_rules', (SELECT count(*) FROM analytics.alert_rules WHERE tenant_id = :T1)),
             ('alert_incidents', (SELECT count(*) FROM analytics.alert_incidents WHERE tenant_id = :T1)),
             ('notification_channels', (SELECT count(*) FROM analytics.notification_channels WHERE tenant_id = :T1)),
             ('notification_outbox', (SELECT count(*) FROM analytics.notification_outbox WHERE tenant_id = :T1))) v(t, c);
-- The policy's predicate under parallel query (it reads the claim with an
-- exception block: it must run in the leader, never in a parallel worker).
SET LOCAL force_parallel_mode = on;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT is(pg_temp.as_role('alerts_rls_probe', $$SELECT count(*) FROM analytics.alert_rules WHERE tenant_id IS DISTINCT FROM '00000000-0000-4000-8000-000000000001'$$),
          '0', 'RLS under parallel query: still only the claimed tenant, and no error');
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT is(pg_temp.as_role('alerts_rls_probe', $$SELECT count(*) FROM analytics.notification_attempts$$), '0',
          'RLS: tenant 2''s delivery attempts are not visible to tenant 1');
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.as_role('alerts_rls_probe', $$SELECT count(*) FROM analytics.notification_attempts$$), '1',
          'RLS: tenant 2 sees its own attempt');
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.as_role('alerts_rls_probe', format($$UPDATE analytics.alert_rules SET threshold = 99 WHERE rule_id = %s RETURNING 'updated'$$, pg_temp.fx('rule:2'))),
          'NULL', 'RLS: tenant 1 cannot update tenant 2''s rule');
SELECT is(pg_temp.as_role('alerts_rls_probe', $$INSERT INTO analytics.notification_channels (tenant_id, channel_type, target)
                                                VALUES ('00000000-0000-4000-8000-000000000002', 'email', 'x@example.com') RETURNING 'inserted'$$),
          '42501', 'RLS: tenant 1 cannot insert a channel of tenant 2');
SELECT is(pg_temp.as_role('alerts_rls_probe', $$INSERT INTO analytics.alert_rules (tenant_id, name, metric_name, condition_operator, threshold, aggregation)
                                                VALUES (NULL, 'sneaky', 'events.count', 'gt', 1, 'count') RETURNING 'inserted'$$),
          '42501', 'RLS: tenant 1 cannot insert a platform rule');
SELECT is((SELECT count(*) FROM pg_policies WHERE schemaname = 'analytics' AND policyname = 'tenant_isolation'
             AND tablename IN ('alert_rules', 'alert_incidents', 'notification_channels', 'notification_outbox', 'notification_attempts')),
          5::bigint, 'a tenant_isolation policy on each alert table');
SELECT is((SELECT count(*) FROM pg_class WHERE relnamespace = 'analytics'::regnamespace AND relrowsecurity
             AND relname IN ('alert_rules', 'alert_incidents', 'notification_channels', 'notification_outbox', 'notification_attempts')),
          5::bigint, 'row-level security is on for each alert table');
-- The API roles have no grant on the tables: the functions are the only way in.
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT count(*) FROM analytics.alert_rules'), '42501',
          'the tenant role cannot read the rules table directly');

SELECT * FROM finish();
ROLLBACK;
