-- §6.4 costs over the API: every error by HTTP status and code (contract
-- §5, §6.1, §6.2, §6.8) in the order of the checks, and the scopes of the
-- price writes: a tenant sets only its own negotiated price (free tier
-- included), an operator the global one or a named tenant's.
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

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(600, 3, (now() AT TIME ZONE 'UTC')::date)$$, 'generate data');
SELECT lives_ok($$SELECT analytics.create_api_roles(NULL)$$, 'the API roles');

CREATE TEMP TABLE calls (name text, sql text);
INSERT INTO calls VALUES
    ('costs', 'analytics_api.costs()'),
    ('cost_trend', 'analytics_api.cost_trend()'),
    ('model_prices', 'analytics_api.model_prices()');
CREATE FUNCTION pg_temp.call(name text, args text) RETURNS text LANGUAGE sql
AS $$ SELECT format('SELECT analytics_api.%s(%s)', name, args) $$;

-- The reads work with their defaults: a tenant, the operator, the operator
-- narrowed to one tenant.
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': works for a tenant with its defaults') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': works for the operator') FROM calls;
SELECT is(pg_temp.api_status(pg_temp.call(name, '"tenantId" => ''00000000-0000-4000-8000-000000000003''')), 'ok',
          name || ': works for the operator with a tenantId') FROM calls;

-- 404 NOT_FOUND first, when analytics.enabled is off.
SET LOCAL analytics.enabled = off;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': disabled gives 404') FROM calls;
SELECT is(pg_temp.api_status($$SELECT analytics_api.set_model_price('m', '1', '1')$$), 'PGRST 404 NOT_FOUND',
          'set_model_price: disabled gives 404');
RESET analytics.enabled;

-- 401 UNAUTHORIZED: the tenant role without a claim, or naming an unknown tenant.
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status($$SET LOCAL ROLE analytics_tenant; SELECT analytics_api.costs()$$), 'PGRST 401 UNAUTHORIZED',
          'costs: the tenant role without a claim gives 401');
RESET ROLE;
SELECT pg_temp.claims('{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.api_status($$SET LOCAL ROLE analytics_tenant; SELECT analytics_api.set_model_price('m', '1', '1')$$),
          'PGRST 401 UNAUTHORIZED', 'set_model_price: an unknown tenant gives 401');
RESET ROLE;

-- Free tier: reads 403 ANALYTICS_NOT_AVAILABLE, the price write allowed (its own row).
SELECT pg_temp.as_tenant(5);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 403 ANALYTICS_NOT_AVAILABLE', name || ': a free tenant gives 403') FROM calls;
SELECT is(pg_temp.api(format($$analytics_api.set_model_price('free-model', '1', '2')$$)) ->> 'tenantId',
          '00000000-0000-4000-8000-000000000005', 'a free tenant sets its own negotiated price');

-- 403 FORBIDDEN: a tenant naming another tenant, reading or writing.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status(pg_temp.call(name, '"tenantId" => ''00000000-0000-4000-8000-000000000002''')), 'PGRST 403 FORBIDDEN',
          name || ': a tenant naming another tenant gives 403') FROM calls;
SELECT is(pg_temp.api_status($$SELECT analytics_api.set_model_price('m', '1', '1', "tenantId" => '00000000-0000-4000-8000-000000000002')$$),
          'PGRST 403 FORBIDDEN', 'set_model_price: a tenant naming another tenant gives 403');
-- A tenant's price is always its own: never a global row.
SELECT is(pg_temp.api($$analytics_api.set_model_price('tenant-one-model', '1.5', '6')$$) ->> 'tenantId',
          '00000000-0000-4000-8000-000000000001', 'a tenant''s price is its own row');
SELECT is((SELECT count(*) FROM analytics.model_prices WHERE model = 'tenant-one-model' AND tenant_id IS NULL), 0::bigint,
          'no global row from a tenant');
SELECT pg_temp.as_tenant(2);
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(pg_temp.api('analytics_api.model_prices()') -> 'data') d
           WHERE d ->> 'model' = 'tenant-one-model'), 0, 'another tenant does not see it');
SELECT pg_temp.as_tenant(1);
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(pg_temp.api('analytics_api.model_prices()') -> 'data') d
           WHERE d ->> 'model' = 'tenant-one-model'), 1, 'the tenant sees it');

-- 404 TENANT_NOT_FOUND and 400 VALIDATION_ERROR for an operator's tenantId.
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status(pg_temp.call(name, '"tenantId" => ''00000000-0000-4000-8000-0000000000ff''')), 'PGRST 404 TENANT_NOT_FOUND',
          name || ': an unknown tenantId gives 404') FROM calls;
SELECT is(pg_temp.api_status($$SELECT analytics_api.set_model_price('m', '1', '1', "tenantId" => '00000000-0000-4000-8000-0000000000ff')$$),
          'PGRST 404 TENANT_NOT_FOUND', 'set_model_price: an unknown tenantId gives 404');
SELECT is(pg_temp.api_status($$SELECT analytics_api.costs("tenantId" => 'nope')$$), 'PGRST 400 VALIDATION_ERROR',
          'costs: a tenantId that is not a uuid gives 400 VALIDATION_ERROR');
SELECT is(pg_temp.api($$analytics_api.set_model_price('op-model', '2', '8')$$) -> 'tenantId', 'null'::jsonb,
          'an operator sets the global price');
SELECT is(pg_temp.api($$analytics_api.set_model_price('op-model', '1', '4', "tenantId" => '00000000-0000-4000-8000-000000000003')$$) ->> 'tenantId',
          '00000000-0000-4000-8000-000000000003', 'an operator sets a named tenant''s price');

-- Periods, group_by, granularity, top.
SELECT is(pg_temp.api_status(pg_temp.call(name, 'period => ''13x''')), 'PGRST 400 INVALID_PERIOD', name || ': a bad period')
FROM calls WHERE name <> 'model_prices';
SELECT is(pg_temp.api_status(pg_temp.call(name, 'period => ''366d''')), 'PGRST 400 INVALID_PERIOD', name || ': 366d')
FROM calls WHERE name <> 'model_prices';
SELECT is(pg_temp.api_status(pg_temp.call(name, 'period => ''7d'', "from" => ''2026-01-01''')), 'PGRST 400 INVALID_PERIOD',
          name || ': period with from') FROM calls WHERE name <> 'model_prices';
SELECT is(pg_temp.api_status(pg_temp.call(name, '"from" => ''2026-02-01'', "to" => ''2026-01-01''')), 'PGRST 400 INVALID_DATE_RANGE',
          name || ': from after to') FROM calls WHERE name <> 'model_prices';
SELECT is(pg_temp.api_status(pg_temp.call('costs', format('group_by => %L', g))), 'PGRST 400 INVALID_GROUP_BY',
          format('costs: group_by %s gives 400 INVALID_GROUP_BY', g))
FROM unnest(ARRAY['none', 'session', 'AGENT', '', repeat('x', 300)]) g;
SELECT is(pg_temp.api_status(pg_temp.call('costs', format('group_by => %L', g))), 'ok', format('costs: group_by %s', g))
FROM unnest(ARRAY['agent', 'tenant', 'user', 'mcp_server', 'tool', 'model', 'day']) g;
SELECT is(pg_temp.api_status(pg_temp.call('cost_trend', format('group_by => %L', g))), 'PGRST 400 INVALID_GROUP_BY',
          format('cost_trend: group_by %s gives 400 INVALID_GROUP_BY', g))
FROM unnest(ARRAY['user', 'tool', 'day', '']) g;
SELECT is(pg_temp.api_status(pg_temp.call('cost_trend', format('group_by => %L', g))), 'ok', format('cost_trend: group_by %s', g))
FROM unnest(ARRAY['none', 'agent', 'tenant', 'model']) g;
SELECT is(pg_temp.api_status(pg_temp.call('cost_trend', format('granularity => %L', g))), 'PGRST 400 INVALID_GRANULARITY',
          format('cost_trend: granularity %s gives 400 INVALID_GRANULARITY', g))
FROM unnest(ARRAY['minute', 'year', '']) g;
SELECT is(pg_temp.api_status(pg_temp.call('cost_trend', 'granularity => ''hour''')), 'PGRST 400 INVALID_GRANULARITY',
          'cost_trend: hour buckets over the default 30 days give 400 INVALID_GRANULARITY');
SELECT is(pg_temp.api_status(pg_temp.call('cost_trend', 'granularity => ''hour'', period => ''48h''')), 'ok',
          'cost_trend: hour buckets over 48h');
SELECT is(pg_temp.api_status(pg_temp.call('cost_trend', format('top => %L', v))), 'PGRST 400 VALIDATION_ERROR',
          format('cost_trend: top %s gives 400 VALIDATION_ERROR', v))
FROM unnest(ARRAY['0', '21', '-1', '1.5', 'five', '999999999999']) v;
SELECT is(jsonb_array_length(pg_temp.api(pg_temp.call('cost_trend', 'group_by => ''agent'', top => ''2''') || '') -> 'series') <= 2,
          true, 'cost_trend: top 2 gives at most two series');

-- Bad prices: 400 VALIDATION_ERROR naming the field; nothing stored.
CREATE TEMP TABLE bad (args text, field text);
INSERT INTO bad VALUES
    ('NULL, ''1'', ''1''', 'model'),
    (format('%L, ''1'', ''1''', repeat('m', 257)), 'model'),
    ('''m'', NULL, ''1''', 'inputPerMillion'),
    ('''m'', ''1'', NULL', 'outputPerMillion'),
    ('''m'', ''-1'', ''1''', 'inputPerMillion'),
    ('''m'', ''1'', ''1000000.000001''', 'outputPerMillion'),
    ('''m'', ''1.1234567'', ''1''', 'inputPerMillion'),
    ('''m'', ''NaN'', ''1''', 'inputPerMillion'),
    ('''m'', ''Infinity'', ''1''', 'inputPerMillion'),
    ('''m'', ''1e3'', ''1''', 'inputPerMillion'),
    ('''m'', ''1'', ''1'', ''x''', 'cachedInputPerMillion'),
    ('''m'', ''1'', ''1'', NULL, ''2000000''', 'cacheWritePerMillion'),
    ('''m'', ''1'', ''1'', "effectiveFrom" => ''yesterday''', 'effectiveFrom'),
    ('''m'', ''1'', ''1'', "effectiveFrom" => ''1999-12-31''', 'effectiveFrom'),
    ('''m'', ''1'', ''1'', "effectiveFrom" => ''2999-01-01''', 'effectiveFrom');
SELECT is(pg_temp.api_status('SELECT analytics_api.set_model_price(' || b.args || ')'), 'PGRST 400 VALIDATION_ERROR',
          'set_model_price(' || left(b.args, 60) || '): 400 VALIDATION_ERROR') FROM bad b;
CREATE FUNCTION pg_temp.message(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
    RETURN msg::jsonb ->> 'message';
END $$;
SELECT ok(pg_temp.message('SELECT analytics_api.set_model_price(' || b.args || ')') LIKE b.field || '%',
          'the message names ' || b.field) FROM bad b;
SELECT is((SELECT count(*) FROM analytics.model_prices WHERE model = 'm' OR length(model) > 256), 0::bigint, 'no bad price stored');

-- 409 CONFLICT: a second row of the same model, scope and effectiveFrom.
SELECT is(pg_temp.api_status($$SELECT analytics_api.set_model_price('dup-model', '1', '1', "effectiveFrom" => '2026-01-01')$$), 'ok',
          'a price from 2026-01-01');
SELECT is(pg_temp.api_status($$SELECT analytics_api.set_model_price('dup-model', '2', '2', "effectiveFrom" => '2026-01-01T00:00:00Z')$$),
          'PGRST 409 CONFLICT', 'the same model, scope and instant again gives 409 CONFLICT');
SELECT is(pg_temp.api_status($$SELECT analytics_api.set_model_price('dup-model', '2', '2', "effectiveFrom" => '2026-01-01', "tenantId" => '00000000-0000-4000-8000-000000000001')$$),
          'ok', 'the same instant in another scope is another row');

-- Rows are never updated: a second price is a second row, both listed.
SELECT is(pg_temp.api_status($$SELECT analytics_api.set_model_price('dup-model', '3', '3', "effectiveFrom" => '2026-02-01')$$), 'ok',
          'a later price of the same model');
SELECT is((SELECT count(*) FROM analytics.model_prices WHERE model = 'dup-model' AND tenant_id IS NULL), 2::bigint,
          'two global rows of dup-model');
SELECT is((SELECT string_agg(d ->> 'inputPerMillion' || ':' || coalesce(d ->> 'effectiveTo', '-'), ',' ORDER BY d ->> 'effectiveFrom')
           FROM jsonb_array_elements(pg_temp.api('analytics_api.model_prices()') -> 'data') d
           WHERE d ->> 'model' = 'dup-model' AND d ->> 'tenantId' IS NULL),
          '1:2026-02-01T00:00:00.000000Z,3:-', 'model_prices lists both, the first ending where the second starts');

SELECT * FROM finish();
ROLLBACK;
