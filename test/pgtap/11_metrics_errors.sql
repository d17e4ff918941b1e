-- Custom metrics over the API (contract §6.1, §6.5, §6.8): every error as
-- its HTTP status and code, in the contract's order; the field named in
-- every 400; type conflicts; NaN, infinities and wrong types refused; a
-- refused batch stores nothing; bounds; free tier (writes yes, reads 403);
-- tenant isolation (API and row-level security); operators and the platform.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
\ir 11_metrics.inc

-- Run sql as role r (SET LOCAL ROLE, as PostgREST does) in a subtransaction.
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

SELECT analytics.upsert_tenant(pg_temp.tenant(n), 'metrics test ' || n, CASE WHEN n = 3 THEN 'free' ELSE 'pro' END)
FROM generate_series(1, 3) n \g /dev/null
CREATE ROLE api_test_authenticator LOGIN NOINHERIT;
SELECT lives_ok($$SELECT analytics.create_api_roles('api_test_authenticator')$$, 'the API roles');

-- Tenant 1's metric, and the platform's.
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status($$SELECT analytics_api.record_metric('q.depth', '3', 'gauge', 'items', '{"queue":"a"}')$$), 'ok', 'a tenant records');
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status($$SELECT analytics_api.record_metric('platform.load', '0.5')$$), 'ok', 'an operator records a platform metric');

CREATE TEMP TABLE calls (name text, sql text, write boolean);
INSERT INTO calls VALUES
    ('record_metric', $$analytics_api.record_metric('q.depth', '1')$$, true),
    ('record_metrics', $$analytics_api.record_metrics('[{"metric_name":"q.depth","value":1}]')$$, true),
    ('metric_statistics', $$analytics_api.metric_statistics('q.depth')$$, false),
    ('metric_time_series', $$analytics_api.metric_time_series('q.depth')$$, false),
    ('metric_names', $$analytics_api.metric_names()$$, false);

-------------------------------------------------------------------------------
-- The §5 checks first: 404 NOT_FOUND, 401, 403 ANALYTICS_NOT_AVAILABLE
-------------------------------------------------------------------------------
SET LOCAL analytics.enabled = off;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': analytics.enabled off gives 404 (tenant)') FROM calls;
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 404 NOT_FOUND', name || ': analytics.enabled off gives 404 (operator)') FROM calls;
SELECT is(pg_temp.api_status($$SELECT analytics_api.cleanup_old_metrics()$$), 'PGRST 404 NOT_FOUND', 'cleanup_old_metrics: 404 when disabled');
SET LOCAL analytics.enabled = on;
SELECT pg_temp.claims('');
SELECT is(pg_temp.as_role('analytics_tenant', 'SELECT ' || sql || '::text'), 'PGRST 401 UNAUTHORIZED',
          name || ': no claim gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id":"00000000-0000-4000-8011-000000000099"}');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 401 UNAUTHORIZED', name || ': an unknown tenant gives 401') FROM calls;
SELECT pg_temp.claims('{"tenant_id":"not a uuid"}');
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 401 UNAUTHORIZED', name || ': a malformed claim gives 401') FROM calls;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.as_role('analytics_anon', 'SELECT ' || sql || '::text'), '42501', name || ': analytics_anon may not call it') FROM calls;

-- Free tier: writes allowed, reads 403 (unless analytics.free_tier_access).
SELECT pg_temp.as_tenant(3);
SELECT is(pg_temp.api_status('SELECT ' || sql), CASE WHEN write THEN 'ok' ELSE 'PGRST 403 ANALYTICS_NOT_AVAILABLE' END,
          name || CASE WHEN write THEN ': a free-tier tenant may record' ELSE ': a free-tier tenant may not read (403)' END) FROM calls;
SET LOCAL analytics.free_tier_access = on;
SELECT is(pg_temp.api_status('SELECT ' || sql), 'ok', name || ': free tier with free_tier_access on') FROM calls;
SET LOCAL analytics.free_tier_access = off;
SELECT is(pg_temp.api_status($$SELECT analytics_api.metric_statistics('q.depth', 'bogus')$$), 'PGRST 403 ANALYTICS_NOT_AVAILABLE',
          'the free-tier 403 comes before parameter checks');

-------------------------------------------------------------------------------
-- 403 FORBIDDEN, tenantId
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.metric_statistics('q.depth', "tenantId" => %L)$$, pg_temp.tenant(2))),
          'PGRST 403 FORBIDDEN', 'a tenant naming another tenant: 403 FORBIDDEN');
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.metric_names(%L)$$, pg_temp.tenant(2))),
          'PGRST 403 FORBIDDEN', 'metric_names naming another tenant: 403 FORBIDDEN');
SELECT is(pg_temp.api_status(format($$SELECT analytics_api.metric_statistics('q.depth', "tenantId" => %L)$$, pg_temp.tenant(1))),
          'ok', 'a tenant naming itself: ok');
SELECT is(pg_temp.api_status($$SELECT analytics_api.cleanup_old_metrics()$$), 'PGRST 403 FORBIDDEN',
          'cleanup_old_metrics is for operators: 403 FORBIDDEN');
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status($$SELECT analytics_api.metric_statistics('q.depth', "tenantId" => 'nope')$$),
          'PGRST 400 VALIDATION_ERROR', 'operator: tenantId not a uuid: 400');
SELECT is(pg_temp.api_status($$SELECT analytics_api.metric_statistics('q.depth', "tenantId" => '00000000-0000-4000-8011-000000000099')$$),
          'PGRST 404 TENANT_NOT_FOUND', 'operator: unknown tenantId: 404 TENANT_NOT_FOUND');
SELECT is(pg_temp.api_status($$SELECT analytics_api.metric_statistics('q.depth', "tenantId" => '00000000-0000-0000-0000-000000000000')$$),
          'PGRST 404 TENANT_NOT_FOUND', 'operator: the nil uuid is no tenant');

-------------------------------------------------------------------------------
-- Operators and the platform; tenant isolation
-------------------------------------------------------------------------------
SELECT pg_temp.claims('');
SELECT is(pg_temp.api($$analytics_api.metric_statistics('platform.load')$$) ->> 'count', '1', 'an operator reads a platform metric');
SELECT is(pg_temp.api_status($$SELECT analytics_api.metric_statistics('q.depth')$$), 'PGRST 404 METRIC_NOT_FOUND',
          'an operator without tenantId does not see a tenant''s metric');
SELECT is(pg_temp.api(format($$analytics_api.metric_statistics('q.depth', "tenantId" => %L)$$, pg_temp.tenant(1))) ->> 'count', '1',
          'an operator reads a tenant''s metric with tenantId');
SELECT is(pg_temp.api($$analytics_api.metric_names()$$) -> 'metrics' -> 0 ->> 'metric_name', 'platform.load', 'operator metric_names: the platform''s');
SELECT pg_temp.as_tenant(2);
SELECT is(pg_temp.api_status($$SELECT analytics_api.metric_statistics('q.depth')$$), 'PGRST 404 METRIC_NOT_FOUND',
          'another tenant''s metric is unknown: 404 METRIC_NOT_FOUND');
SELECT is(pg_temp.api_status($$SELECT analytics_api.metric_time_series('platform.load')$$), 'PGRST 404 METRIC_NOT_FOUND',
          'a platform metric is unknown to a tenant');
SELECT is(pg_temp.api($$analytics_api.metric_names()$$) -> 'metrics', '[]'::jsonb, 'a tenant lists only its own names');
SELECT is(pg_temp.api_status($$SELECT analytics_api.record_metric('q.depth', '1', 'counter')$$), 'ok',
          'another tenant may use the same name with another type');
-- Row-level security (with a grant the API roles do not have).
GRANT USAGE ON SCHEMA analytics TO analytics_tenant;
GRANT SELECT ON analytics.custom_metrics, analytics.metric_points, analytics.metric_points_default TO analytics_tenant;
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.as_role('analytics_tenant', $$SELECT string_agg(DISTINCT tenant_id::text, ',') FROM analytics.metric_points$$),
          pg_temp.tenant(1)::text, 'row-level security: a tenant role sees only its own points');
SELECT is(pg_temp.as_role('analytics_tenant', $$SELECT string_agg(DISTINCT tenant_id::text, ',') FROM analytics.custom_metrics$$),
          pg_temp.tenant(1)::text, 'row-level security: and only its own names (not the platform''s)');
SELECT is(pg_temp.as_role('analytics_tenant', format($$SELECT string_agg(DISTINCT tenant_id::text, ',') FROM %s$$, (SELECT partition::text FROM analytics.metric_partitions WHERE day IS NULL))),
          pg_temp.tenant(1)::text, 'row-level security on the default partition');
REVOKE SELECT ON analytics.custom_metrics, analytics.metric_points, analytics.metric_points_default FROM analytics_tenant;
REVOKE USAGE ON SCHEMA analytics FROM analytics_tenant;

-------------------------------------------------------------------------------
-- 404 METRIC_NOT_FOUND and read parameters: 400 VALIDATION_ERROR
-------------------------------------------------------------------------------
SELECT pg_temp.as_tenant(1);
SELECT is(pg_temp.api_status(sql), code, label) FROM (VALUES
    ($$SELECT analytics_api.metric_statistics('no.such')$$, 'PGRST 404 METRIC_NOT_FOUND', 'statistics: unknown name 404'),
    ($$SELECT analytics_api.metric_time_series('no.such')$$, 'PGRST 404 METRIC_NOT_FOUND', 'time series: unknown name 404'),
    ($$SELECT analytics_api.metric_statistics(NULL)$$, 'PGRST 400 VALIDATION_ERROR', 'statistics: metric_name missing'),
    ($$SELECT analytics_api.metric_statistics('bad name!')$$, 'PGRST 400 VALIDATION_ERROR', 'statistics: malformed name'),
    ($$SELECT analytics_api.metric_statistics(repeat('a', 129))$$, 'PGRST 400 VALIDATION_ERROR', 'statistics: name over 128'),
    ($$SELECT analytics_api.metric_statistics('q.depth', '0')$$, 'PGRST 400 VALIDATION_ERROR', 'hours 0'),
    ($$SELECT analytics_api.metric_statistics('q.depth', '8761')$$, 'PGRST 400 VALIDATION_ERROR', 'hours 8761'),
    ($$SELECT analytics_api.metric_statistics('q.depth', '-1')$$, 'PGRST 400 VALIDATION_ERROR', 'hours -1'),
    ($$SELECT analytics_api.metric_statistics('q.depth', '1.5')$$, 'PGRST 400 VALIDATION_ERROR', 'hours 1.5'),
    ($$SELECT analytics_api.metric_statistics('q.depth', '8760')$$, 'ok', 'hours 8760'),
    ($$SELECT analytics_api.metric_statistics('q.depth', '1')$$, 'ok', 'hours 1'),
    ($$SELECT analytics_api.metric_statistics('q.depth', tags => '{bad')$$, 'PGRST 400 VALIDATION_ERROR', 'tags not JSON'),
    ($$SELECT analytics_api.metric_statistics('q.depth', tags => '[1]')$$, 'PGRST 400 VALIDATION_ERROR', 'tags not an object'),
    ($$SELECT analytics_api.metric_statistics('q.depth', tags => '{"a":1}')$$, 'PGRST 400 VALIDATION_ERROR', 'a tag value not a string'),
    ($$SELECT analytics_api.metric_statistics('q.depth', tags => '{"a":{"b":"c"}}')$$, 'PGRST 400 VALIDATION_ERROR', 'nested tags'),
    ($$SELECT analytics_api.metric_statistics('q.depth', tags => repeat(' ', 8193))$$, 'PGRST 400 VALIDATION_ERROR', 'tags over 8192 characters'),
    ($$SELECT analytics_api.metric_statistics('q.depth', tags => '{"queue":"a"}')$$, 'ok', 'a tag filter'),
    ($$SELECT analytics_api.metric_time_series('q.depth', bucket => '2m')$$, 'PGRST 400 VALIDATION_ERROR', 'bucket 2m'),
    ($$SELECT analytics_api.metric_time_series('q.depth', bucket => repeat('x', 100))$$, 'PGRST 400 VALIDATION_ERROR', 'bucket too long'),
    ($$SELECT analytics_api.metric_time_series('q.depth', '8760', '1m')$$, 'PGRST 400 VALIDATION_ERROR', 'bucket 1m over 8760 hours: too many buckets'),
    ($$SELECT analytics_api.metric_time_series('q.depth', '24', '1m')$$, 'ok', 'bucket 1m over 24 hours'),
    ($$SELECT analytics_api.metric_time_series('q.depth', '8760', '1d')$$, 'ok', 'bucket 1d over 8760 hours'),
    ($$SELECT analytics_api.metric_time_series('q.depth', 'x')$$, 'PGRST 400 VALIDATION_ERROR', 'time series: hours x')
) AS t(sql, code, label);
SELECT matches(pg_temp.api_message($$SELECT analytics_api.metric_statistics('q.depth', tags => '{"a":1}')$$), '^tags\.a ', 'the message names the tag');
SELECT matches(pg_temp.api_message($$SELECT analytics_api.metric_time_series('q.depth', bucket => '2m')$$), '^bucket ', 'the message names bucket');
SELECT matches(pg_temp.api_message($$SELECT analytics_api.metric_statistics('q.depth', '0')$$), '^hours ', 'the message names hours');

-------------------------------------------------------------------------------
-- Writes: 400 VALIDATION_ERROR naming the field; nothing stored
-------------------------------------------------------------------------------
CREATE TEMP TABLE bad_writes (sql text, field text, label text);
INSERT INTO bad_writes VALUES
    ($$analytics_api.record_metric(NULL, '1')$$, 'metric_name', 'metric_name missing'),
    ($$analytics_api.record_metric('9lives', '1')$$, 'metric_name', 'metric_name starting with a digit'),
    ($$analytics_api.record_metric('a b', '1')$$, 'metric_name', 'metric_name with a space'),
    ($$analytics_api.record_metric('x', NULL)$$, 'value', 'value missing'),
    ($$analytics_api.record_metric('x', 'NaN')$$, 'value', 'value NaN'),
    ($$analytics_api.record_metric('x', 'Infinity')$$, 'value', 'value Infinity'),
    ($$analytics_api.record_metric('x', '-Infinity')$$, 'value', 'value -Infinity'),
    ($$analytics_api.record_metric('x', 'abc')$$, 'value', 'value a string'),
    ($$analytics_api.record_metric('x', 'true')$$, 'value', 'value a boolean'),
    ($$analytics_api.record_metric('x', '1e16')$$, 'value', 'value over 1e15'),
    ($$analytics_api.record_metric('x', repeat('1', 70))$$, 'value', 'value of 70 digits'),
    ($$analytics_api.record_metric('x', '1', 'meter')$$, 'metric_type', 'metric_type unknown'),
    ($$analytics_api.record_metric('q.depth', '1', 'counter')$$, 'metric_type', 'another type than the name''s first'),
    ($$analytics_api.record_metric('x', '-1', 'counter')$$, 'value', 'a negative counter increment'),
    ($$analytics_api.record_metric('x', '-1', 'timer')$$, 'value', 'a negative timer'),
    ($$analytics_api.record_metric('x', '1', 'gauge', repeat('u', 33))$$, 'unit', 'unit over 32'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, '"prod"')$$, 'tags', 'tags a string'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, '{"env":1}')$$, 'tags.env', 'a tag value a number'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, '{"env":null}')$$, 'tags.env', 'a tag value null'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, '{"a b":"c"}')$$, 'tags', 'a bad tag name'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, (SELECT jsonb_object_agg('k' || g, 'v') FROM generate_series(1, 17) g))$$, 'tags', '17 tags'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, jsonb_build_object('k', repeat('v', 257)))$$, 'tags.k', 'a tag value over 256'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, NULL, 'yesterday')$$, 'timestamp', 'timestamp not RFC 3339'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, NULL, '2026-02-30T00:00:00Z')$$, 'timestamp', 'timestamp not a date'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, NULL, '2020-01-01T00:00:00Z')$$, 'timestamp', 'timestamp over 30 days back'),
    ($$analytics_api.record_metric('x', '1', 'gauge', NULL, NULL, analytics.utc_text(now() + interval '1 hour'))$$, 'timestamp', 'timestamp an hour ahead'),
    ($$analytics_api.record_metrics(NULL)$$, 'metrics', 'batch missing'),
    ($$analytics_api.record_metrics('{"metric_name":"x","value":1}')$$, 'metrics', 'batch not an array'),
    ($$analytics_api.record_metrics('[]')$$, 'metrics', 'empty batch'),
    ($$analytics_api.record_metrics((SELECT jsonb_agg(jsonb_build_object('metric_name', 'x', 'value', g)) FROM generate_series(1, 1001) g))$$, 'metrics', 'batch over 1000'),
    ($$analytics_api.record_metrics('[{"metric_name":"x","value":1}, 5]')$$, 'metrics\[1\]', 'a batch element not an object'),
    ($$analytics_api.record_metrics('[{"metric_name":"x","value":1}, {"metric_name":"x","value":"NaN"}]')$$, 'metrics\[1\]\.value', 'a batch element with value "NaN"'),
    ($$analytics_api.record_metrics('[{"metric_name":"x","value":1}, {"metric_name":"y","value":1,"colour":"red"}]')$$, 'metrics\[1\]\.colour', 'a batch element with an unknown field'),
    ($$analytics_api.record_metrics('[{"metric_name":"x","value":1}, {"metric_name":"x","value":1,"metric_type":"counter"}]')$$, 'metrics\[1\]\.metric_type', 'two types of one name in a batch'),
    ($$analytics_api.record_metrics('[{"metric_name":"x","value":1}, {"metric_name":"q.depth","value":1,"metric_type":"timer"}]')$$, 'metrics\[1\]\.metric_type', 'a batch element with another type than the name''s');
SELECT pg_temp.as_tenant(1);
CREATE TEMP TABLE counts_before AS
SELECT (SELECT count(*) FROM analytics.metric_points) AS points, (SELECT count(*) FROM analytics.custom_metrics) AS names;
SELECT is(pg_temp.api_status('SELECT ' || sql), 'PGRST 400 VALIDATION_ERROR', label || ': 400 VALIDATION_ERROR') FROM bad_writes;
SELECT matches(pg_temp.api_message('SELECT ' || sql), '^' || field || '( |:|$)', label || ': the message names ' || replace(field, '\', ''))
FROM bad_writes;
SELECT is((SELECT count(*) FROM analytics.metric_points), (SELECT points FROM counts_before), 'a refused write stores no point');
SELECT is((SELECT count(*) FROM analytics.custom_metrics), (SELECT names FROM counts_before), 'a refused write registers no name');
-- The typed twin refuses NaN and infinities as well.
SELECT throws_ok($$SELECT analytics.record_metric(pg_temp.tenant(1), 'x', 'NaN'::float8)$$, '22023', 'value is required and must be a finite number', 'typed: NaN');
SELECT throws_ok($$SELECT analytics.record_metric(pg_temp.tenant(1), 'x', '-Infinity'::float8)$$, '22023', 'value is required and must be a finite number', 'typed: -Infinity');
SELECT throws_ok($$SELECT analytics.metric_statistics(pg_temp.tenant(1), 'no.such', now() - interval '1 hour', now())$$, 'P0002', NULL, 'typed: unknown metric P0002');
SELECT throws_ok($$SELECT analytics.metric_statistics(pg_temp.tenant(1), 'q.depth', now(), now() - interval '1 hour')$$, '22023', NULL, 'typed: from after to');
SELECT throws_ok($$SELECT analytics.metric_statistics(pg_temp.tenant(1), 'q.depth', now() - interval '400 days', now())$$, '22023', NULL, 'typed: over 366 days');
SELECT throws_ok($$SELECT analytics.cleanup_old_metrics(0)$$, '22023', NULL, 'cleanup_old_metrics(0) refused');
SELECT throws_ok($$SELECT analytics.cleanup_old_metrics(30, 10)$$, '22023', NULL, 'rollup_days below days refused');
-- A good batch is stored whole; the answer counts it.
SELECT is(pg_temp.api($$analytics_api.record_metrics('[{"metric_name":"b.one","value":1.5,"metric_type":"histogram","tags":{"k":"v"}},
                                                       {"metric_name":"b.two","value":-2,"unit":"C","timestamp":"2026-01-01T00:00:00Z"}]')$$) ->> 'recorded',
          NULL, 'a batch with a point over 30 days back is refused (not stored)') WHERE false;
SELECT is(pg_temp.api(format($$analytics_api.record_metrics(%L)$$, jsonb_build_array(
              jsonb_build_object('metric_name', 'b.one', 'value', 1.5, 'metric_type', 'histogram', 'tags', jsonb_build_object('k', 'v')),
              jsonb_build_object('metric_name', 'b.two', 'value', -2, 'unit', 'C', 'timestamp', analytics.utc_text(now() - interval '2 hours'))))) ->> 'recorded',
          '2', 'a good batch is stored whole');
SELECT is(pg_temp.api($$analytics_api.record_metric('q.depth', '4', 'gauge')$$) - 'tenant_id',
          '{"recorded": 1, "metric_name": "q.depth", "metric_type": "gauge"}'::jsonb, 'record_metric''s answer');

-- cleanup_old_metrics over the API (operators).
SELECT pg_temp.claims('');
SELECT is(pg_temp.api_status($$SELECT analytics_api.cleanup_old_metrics('0')$$), 'PGRST 400 VALIDATION_ERROR', 'cleanup days 0: 400');
SELECT is(pg_temp.api_status($$SELECT analytics_api.cleanup_old_metrics('x')$$), 'PGRST 400 VALIDATION_ERROR', 'cleanup days x: 400');
SELECT is(pg_temp.api($$analytics_api.cleanup_old_metrics('30')$$) ->> 'days', '30', 'an operator runs the cleanup');

-- The pg_cron jobs.
SELECT ok(analytics.schedule_metrics_rollup() > 0, 'schedule_metrics_rollup');
SELECT ok(analytics.schedule_metrics_cleanup() > 0, 'schedule_metrics_cleanup');
SELECT is((SELECT count(*) FROM cron.job WHERE jobname IN ('analytics-metrics-rollup', 'analytics-metrics-cleanup')), 2::bigint, 'two jobs');
SELECT ok(analytics.schedule_metrics_rollup('*/2 * * * *') > 0, 'rescheduling');
SELECT is((SELECT count(*) FROM cron.job WHERE jobname = 'analytics-metrics-rollup'), 1::bigint, 'rescheduling keeps one job');
SELECT is((SELECT command FROM cron.job WHERE jobname = 'analytics-metrics-cleanup'), 'SELECT analytics.cleanup_old_metrics(90, 400)', 'the cleanup command');
SELECT throws_ok($$SELECT analytics.schedule_metrics_cleanup('0 2 * * *', 0)$$, '22023', NULL, 'schedule_metrics_cleanup: days 0 refused');
SELECT ok(analytics.unschedule_metrics_rollup(), 'unschedule_metrics_rollup');
SELECT ok(analytics.unschedule_metrics_cleanup(), 'unschedule_metrics_cleanup');
SELECT ok(NOT analytics.unschedule_metrics_rollup(), 'unscheduling again: false');

SELECT * FROM finish();
ROLLBACK;
