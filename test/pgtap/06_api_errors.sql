-- API errors: every code of the contract as the exact HTTP status and code,
-- in the PGRST form PostgREST v12 reads; the order of the checks.
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

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(500, 3, (now() AT TIME ZONE 'UTC')::date)$$, 'generate data');

CREATE TEMP TABLE calls (name text, sql text);
INSERT INTO calls VALUES
    ('usage_summary', 'analytics_api.usage_summary()'),
    ('agent_activity', 'analytics_api.agent_activity()'),
    ('token_trends', 'analytics_api.token_trends()'),
    ('tokens', 'analytics_api.tokens()'),
    ('agents_activity', 'analytics_api.agents_activity()'),
    ('agents', 'analytics_api.agents()'),
    ('rotation_frequency', 'analytics_api.rotation_frequency()'),
    ('call_patterns', 'analytics_api.call_patterns()'),
    ('record_events', 'analytics_api.record_events(''[]'')');

-- The error helper itself.
SELECT is(pg_temp.api_status($$SELECT analytics.http_error(418, 'TEAPOT', 'short and stout')$$), 'PGRST 418 TEAPOT',
          'http_error raises SQLSTATE PGRST with JSON message and detail');
SELECT throws_ok($$SELECT analytics.http_error(400, 'X', 'y')$$, 'PGRST', '{"code" : "X", "message" : "y"}',
                 'the message is the JSON body {"code", "message"}');

-- No claim: 401 everywhere.
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 401 UNAUTHORIZED', name || ': no claim gives 401 UNAUTHORIZED')
FROM calls;
SELECT set_config('request.jwt.claims', NULL, true);
SELECT is(pg_temp.api_status('SELECT analytics_api.usage_summary()'), 'PGRST 401 UNAUTHORIZED', 'claims never set: 401');
SELECT pg_temp.claims('not json');
SELECT is(pg_temp.api_status('SELECT analytics_api.usage_summary()'), 'PGRST 401 UNAUTHORIZED', 'claims not JSON: 401');
SELECT pg_temp.claims('{"role": "analytics_tenant"}');
SELECT is(pg_temp.api_status('SELECT analytics_api.usage_summary()'), 'PGRST 401 UNAUTHORIZED', 'no tenant claim: 401');
SELECT pg_temp.claims('{"tenant_id": "acme"}');
SELECT is(pg_temp.api_status('SELECT analytics_api.usage_summary()'), 'PGRST 401 UNAUTHORIZED', 'tenant_id not a uuid: 401');
SELECT pg_temp.claims('{"tenant_id": 42}');
SELECT is(pg_temp.api_status('SELECT analytics_api.usage_summary()'), 'PGRST 401 UNAUTHORIZED', 'tenant_id a number: 401');
SELECT pg_temp.claims('[1, 2]');
SELECT is(pg_temp.api_status('SELECT analytics_api.usage_summary()'), 'PGRST 401 UNAUTHORIZED', 'claims an array: 401');
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.api_status('SELECT analytics_api.usage_summary()'), 'PGRST 401 UNAUTHORIZED', 'unknown tenant: 401');
SELECT pg_temp.claims('{"organization_id": "00000000-0000-4000-8000-000000000002"}');
SELECT is(pg_temp.api_status('SELECT analytics_api.usage_summary()'), 'ok', 'organization_id is accepted as the tenant');
SELECT is(pg_temp.api('analytics_api.usage_summary()') ->> 'tenantId', '00000000-0000-4000-8000-000000000002',
          'the tenant of organization_id');
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-000000000001", "organization_id": "00000000-0000-4000-8000-000000000002"}');
SELECT is(pg_temp.api('analytics_api.usage_summary()') ->> 'tenantId', '00000000-0000-4000-8000-000000000001',
          'tenant_id wins over organization_id');

-- Every function works for a paying tenant with default parameters.
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': works with its defaults') FROM calls;

-- Free tier: 403 unless analytics.free_tier_access is on.
SELECT pg_temp.as_tenant(5);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 403 ANALYTICS_NOT_AVAILABLE', name || ': free tier gives 403')
FROM calls;
SET LOCAL analytics.free_tier_access = on;
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': free tier allowed with free_tier_access on') FROM calls;
RESET analytics.free_tier_access;

-- analytics.enabled off: 404 for every function, checked before anything else.
SET LOCAL analytics.enabled = off;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': analytics.enabled off gives 404')
FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': 404 before the claim check')
FROM calls;
SELECT is(pg_temp.api_status($$SELECT analytics_api.usage_summary('bad', 'worse')$$), 'PGRST 404 NOT_FOUND',
          '404 before parameter checks');
SELECT is((SELECT count(*) FROM analytics.usage_events WHERE endpoint = '/disabled'), 0::bigint, 'nothing recorded');
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status($$SELECT analytics_api.record_events('[{"occurred_at": "2026-01-01T00:00:00Z", "event_type": "api_call", "endpoint": "/disabled"}]')$$),
          'PGRST 404 NOT_FOUND', 'record_events is 404 too');
RESET analytics.enabled;

-- Claim check before the tier, tier before parameters.
SELECT pg_temp.as_tenant(5);
SELECT is(pg_temp.api_status($$SELECT analytics_api.usage_summary('bad')$$), 'PGRST 403 ANALYTICS_NOT_AVAILABLE',
          '403 before parameter checks');

-- INVALID_DATE_RANGE.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status(format('SELECT analytics_api.%s(%L, %L)', f, a, b)), 'PGRST 400 INVALID_DATE_RANGE',
          format('%s(%s, %s): %s', f, a, b, why))
FROM (VALUES ('usage_summary'), ('agent_activity'), ('token_trends'), ('rotation_frequency'), ('call_patterns')) fs(f)
CROSS JOIN (VALUES
    (pg_temp.d(-1), pg_temp.d(-2), 'from after to'),
    (pg_temp.d(-1), pg_temp.d(1), 'to after today'),
    (pg_temp.d(-5), 'tomorrow', 'to not a date'),
    ('2026-02-30', pg_temp.d(0), 'no such day'),
    ('2026-3-1', pg_temp.d(0), 'not YYYY-MM-DD'),
    ('', pg_temp.d(0), 'empty from'),
    (pg_temp.d(-3) || 'T00:00:00', pg_temp.d(0), 'a timestamp'),
    (' ' || pg_temp.d(-3), pg_temp.d(0), 'leading space'),
    ('0000-01-01', pg_temp.d(0), 'year 0')) v(a, b, why);
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.usage_summary("to" => %L)$$, pg_temp.d(1))),
          'PGRST 400 INVALID_DATE_RANGE', 'only to, in the future: 400');
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.usage_summary("from" => %L)$$, pg_temp.d(1))),
          'PGRST 400 INVALID_DATE_RANGE', 'only from, after today: from > to = today: 400');

-- Range limits count both ends.
SELECT is(pg_temp.api_status(format('SELECT analytics_api.%s(%L, %L)', f, pg_temp.d(-(n - 1)), pg_temp.d(0))), 'ok',
          format('%s: %s days is allowed', f, n))
FROM (VALUES ('usage_summary', 365), ('agent_activity', 90), ('token_trends', 365),
             ('rotation_frequency', 365), ('call_patterns', 365)) v(f, n);
SELECT is(pg_temp.api_status(format('SELECT analytics_api.%s(%L, %L)', f, pg_temp.d(-n), pg_temp.d(0))),
          'PGRST 400 INVALID_DATE_RANGE', format('%s: %s days is refused', f, n + 1))
FROM (VALUES ('usage_summary', 365), ('agent_activity', 90), ('token_trends', 365),
             ('rotation_frequency', 365), ('call_patterns', 365)) v(f, n);
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.usage_summary("from" => %L)$$, pg_temp.d(-400))),
          'PGRST 400 INVALID_DATE_RANGE', 'only from, 401 days before today: over the limit');

-- INVALID_GRANULARITY.
SELECT is(pg_temp.api_status(format('SELECT analytics_api.token_trends(granularity => %L)', g)), 'PGRST 400 INVALID_GRANULARITY',
          format('granularity %L: 400 INVALID_GRANULARITY', g))
FROM (VALUES ('month'), ('Day'), ('WEEK'), (''), (' day')) v(g);
SELECT is(pg_temp.api_status('SELECT analytics_api.token_trends(granularity => NULL)'), 'PGRST 400 INVALID_GRANULARITY',
          'granularity NULL: 400');
SELECT is(pg_temp.api_status(format('SELECT analytics_api.token_trends(granularity => %L)', g)), 'ok', format('granularity %s', g))
FROM (VALUES ('day'), ('week')) v(g);
SELECT is(pg_temp.api_status($$SELECT analytics_api.token_trends('bad', granularity => 'month')$$),
          'PGRST 400 INVALID_DATE_RANGE', 'dates are checked before the granularity');

-- AGENT_NOT_FOUND.
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.agent_activity("agentId" => %L)$$, a)), 'PGRST 404 AGENT_NOT_FOUND',
          format('agentId %s: 404 AGENT_NOT_FOUND (%s)', a, why))
FROM (VALUES ('not-a-uuid', 'not a uuid'), ('', 'empty'),
             ('00000000-0000-4000-9001-000000009999', 'no such agent'),
             ('00000000-0000-4000-9002-000000000001', 'an agent of another tenant')) v(a, why);
SELECT is(pg_temp.api_status($$SELECT analytics_api.agent_activity("agentId" => '00000000-0000-4000-9001-000000000001')$$),
          'ok', 'an agent of the tenant');
SELECT is(pg_temp.api_status($$SELECT analytics_api.agent_activity("agentId" => '00000000-0000-4000-9001-00000000000A')$$),
          'PGRST 404 AGENT_NOT_FOUND', 'an unknown agent in upper case');

-- VALIDATION_ERROR for days.
SELECT is(pg_temp.api_status(format('SELECT analytics_api.%s(%L)', f, d)), 'PGRST 400 VALIDATION_ERROR',
          format('%s(days => %L): 400 VALIDATION_ERROR', f, d))
FROM (VALUES ('tokens'), ('agents_activity')) fs(f)
CROSS JOIN (VALUES ('0'), ('91'), ('-1'), ('abc'), ('1.5'), (''), ('1e1'), ('99999999999')) v(d);
SELECT is(pg_temp.api_status(format('SELECT analytics_api.%s(NULL)', f)), 'PGRST 400 VALIDATION_ERROR', f || '(NULL): 400')
FROM (VALUES ('tokens'), ('agents_activity')) fs(f);
SELECT is(pg_temp.api_status(format('SELECT analytics_api.%s(%L)', f, d)), 'ok', format('%s(days => %s) works', f, d))
FROM (VALUES ('tokens'), ('agents_activity')) fs(f) CROSS JOIN (VALUES ('1'), ('90'), ('07')) v(d);

-- record_events refusals (events of today at 00:00, never ahead of now: a
-- later hour would be refused by the time window before the rule tested).
SELECT is(pg_temp.api_status($$SELECT analytics_api.record_events('{"event_type": "api_call"}')$$),
          'PGRST 400 VALIDATION_ERROR', 'record_events: not an array');
SELECT is(pg_temp.api_status($$SELECT analytics_api.record_events('[1]')$$),
          'PGRST 400 VALIDATION_ERROR', 'record_events: an element not an object');
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.record_events('[{"occurred_at": "%sT00:00:00Z", "event_type": "nope"}]')$$, pg_temp.d(0))),
          'PGRST 400 VALIDATION_ERROR', 'record_events: a bad field');
SELECT throws_ok(format($$SELECT analytics_api.record_events('[{"occurred_at": "%sT00:00:00Z", "event_type": "api_call"}, {"occurred_at": "%sT00:00:00Z", "event_type": "nope"}]')$$, pg_temp.d(0), pg_temp.d(0)),
                 'PGRST', NULL, 'record_events: all or nothing');
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.record_events('[{"tenant_id": "00000000-0000-4000-8000-000000000002", "occurred_at": "%sT00:00:00Z", "event_type": "api_call"}]')$$, pg_temp.d(0))),
          'PGRST 403 FORBIDDEN', 'record_events: an event naming another tenant is refused');
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.record_events('[{"occurred_at": "%sT00:00:00Z", "event_type": "api_call", "agent_id": "00000000-0000-4000-9002-000000000001"}]')$$, pg_temp.d(0))),
          'PGRST 400 VALIDATION_ERROR', 'record_events: an agent of another tenant is refused');
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.record_events('[{"occurred_at": "%s", "event_type": "api_call"}]')$$, to_char(now() + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
          'PGRST 400 VALIDATION_ERROR', 'record_events: an event more than max_event_future_seconds ahead is refused');
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.record_events('[{"occurred_at": "%sT00:00:00Z", "event_type": "api_call"}]')$$, pg_temp.d(-91))),
          'PGRST 400 VALIDATION_ERROR', 'record_events: an event older than raw_retention_days is refused');
SELECT throws_ok(format($$SELECT analytics_api.record_events('[{"occurred_at": "%sT00:00:00Z", "event_type": "api_call"}, {"occurred_at": "%sT00:00:00Z", "event_type": "api_call"}]')$$, pg_temp.d(0), pg_temp.d(-91)),
                 'PGRST', '{"code" : "VALIDATION_ERROR", "message" : "event 1: occurred_at is before the start of the UTC day analytics.raw_retention_days (90) days ago: Element index 1, field \"occurred_at\"."}',
                 'record_events: the window refusal names the event index and field');

SELECT * FROM finish();
ROLLBACK;
