-- The §6 scope and the one period parser (contract §6.1, §6.2): every form
-- of period and from/to, the seed aliases, every refusal by status and
-- code, and who may ask for which tenant.  Windows are checked against the
-- clock read in the same statement, so the test holds at any hour.
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

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(300, 2, (now() AT TIME ZONE 'UTC')::date)$$, 'generate data');

-- A window as text, relative to today's UTC midnight (t) or to the clock (c).
CREATE FUNCTION pg_temp.w(period text, f text DEFAULT NULL, t text DEFAULT NULL, days text DEFAULT NULL,
                          hours text DEFAULT NULL, sd text DEFAULT NULL, ed text DEFAULT NULL, dflt text DEFAULT '7d')
RETURNS record LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    SELECT * INTO r FROM analytics.http_window(period, f, t, days, hours, sd, ed, dflt);
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.midnight(n integer) RETURNS timestamptz LANGUAGE sql
AS $$ SELECT ((clock_timestamp() AT TIME ZONE 'UTC')::date + n)::timestamp AT TIME ZONE 'UTC' $$;

-- Nd: the N UTC days ending today.
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window('7d', NULL, NULL, NULL, NULL, NULL, NULL, '30d')),
          ARRAY[pg_temp.midnight(-6), pg_temp.midnight(1)], '7d is the 7 UTC days ending today');
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window('1d', NULL, NULL, NULL, NULL, NULL, NULL, '30d')),
          ARRAY[pg_temp.midnight(0), pg_temp.midnight(1)], '1d is today');
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window('365d', NULL, NULL, NULL, NULL, NULL, NULL, '30d')),
          ARRAY[pg_temp.midnight(-364), pg_temp.midnight(1)], '365d is the longest');
-- Nh: now - N hours <= t <= now.
SELECT ok((SELECT to_ts - from_ts = interval '24 hours 1 microsecond'
                  AND to_ts BETWEEN clock_timestamp() - interval '1 second' AND clock_timestamp() + interval '1 second'
           FROM analytics.http_window('24h', NULL, NULL, NULL, NULL, NULL, NULL, '30d')), '24h ends now and spans 24 hours');
SELECT ok((SELECT to_ts - from_ts = interval '168 hours 1 microsecond'
           FROM analytics.http_window('168h', NULL, NULL, NULL, NULL, NULL, NULL, '30d')), '168h is the longest hour window');
-- Defaults.
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window(NULL, NULL, NULL, NULL, NULL, NULL, NULL, '30d')),
          ARRAY[pg_temp.midnight(-29), pg_temp.midnight(1)], 'no period: the default (30d)');
SELECT ok((SELECT to_ts - from_ts = interval '24 hours 1 microsecond'
           FROM analytics.http_window(NULL, NULL, NULL, NULL, NULL, NULL, NULL, '24h')), 'no period: the default (24h)');
-- Seed aliases.
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window(NULL, NULL, NULL, '3', NULL, NULL, NULL, '30d')),
          ARRAY[pg_temp.midnight(-2), pg_temp.midnight(1)], 'days=3 means 3d');
SELECT ok((SELECT to_ts - from_ts = interval '5 hours 1 microsecond'
           FROM analytics.http_window(NULL, NULL, NULL, NULL, '5', NULL, NULL, '30d')), 'hours=5 means 5h');
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window(NULL, NULL, NULL, NULL, NULL,
                                                                   pg_temp.d(-3), pg_temp.d(-1), '30d')),
          ARRAY[pg_temp.midnight(-3), pg_temp.midnight(0)], 'start_date/end_date mean from/to');
-- from/to dates: whole UTC days, both ends included.
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window(NULL, pg_temp.d(-10), pg_temp.d(-10), NULL, NULL, NULL, NULL, '30d')),
          ARRAY[pg_temp.midnight(-10), pg_temp.midnight(-9)], 'from = to: one whole day');
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window(NULL, pg_temp.d(-5), NULL, NULL, NULL, NULL, NULL, '30d')),
          ARRAY[pg_temp.midnight(-5), pg_temp.midnight(1)], 'from alone: to today');
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window(NULL, NULL, pg_temp.d(-1), NULL, NULL, NULL, NULL, '7d')),
          ARRAY[pg_temp.midnight(-7), pg_temp.midnight(0)], 'to alone: from = to less the default period');
-- from/to timestamps: from <= t < to, any offset, read as UTC.
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window(NULL, pg_temp.d(-2) || 'T10:30:00Z',
                                                                   pg_temp.d(-2) || 'T12:00:00+01:00', NULL, NULL, NULL, NULL, '7d')),
          ARRAY[pg_temp.midnight(-2) + interval '10 hours 30 minutes', pg_temp.midnight(-2) + interval '11 hours'],
          'RFC 3339 timestamps with their offsets');
SELECT is((SELECT ARRAY[from_ts, to_ts] FROM analytics.http_window(NULL, pg_temp.d(-2) || 'T10:30:00.25Z',
                                                                   pg_temp.d(-1), NULL, NULL, NULL, NULL, '7d')),
          ARRAY[pg_temp.midnight(-2) + interval '10 hours 30 minutes 0.25 seconds', pg_temp.midnight(0)],
          'a timestamp and a date mixed: the date is its whole day');

-- Refusals, by status and code.
SELECT is(pg_temp.api_status(format($$SELECT analytics.http_window(%L, %L, %L, %L, %L, %L, %L, '7d')$$,
          c.p, c.f, c.t, c.days, c.hours, c.sd, c.ed)), 'PGRST 400 ' || c.code, c.why)
FROM (VALUES
    ('0h', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', '0h'),
    ('169h', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', '169h: over 168'),
    ('366d', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', '366d: over 365'),
    ('0d', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', '0d'),
    ('7w', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', 'an unknown unit'),
    ('7', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', 'no unit'),
    ('-7d', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', 'a negative period'),
    (' 7d', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', 'a space'),
    ('', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', 'an empty period'),
    (repeat('9', 5000) || 'd', NULL, NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', 'a huge period'),
    ('7d', '2026-01-01', NULL, NULL, NULL, NULL, NULL, 'INVALID_PERIOD', 'period with from'),
    ('7d', NULL, '2026-01-01', NULL, NULL, NULL, NULL, 'INVALID_PERIOD', 'period with to'),
    ('7d', NULL, NULL, '7', NULL, NULL, NULL, 'INVALID_PERIOD', 'period with days'),
    (NULL, NULL, NULL, '7', '7', NULL, NULL, 'INVALID_PERIOD', 'days with hours'),
    (NULL, '2026-01-01', NULL, NULL, NULL, '2026-01-01', NULL, 'INVALID_PERIOD', 'from with start_date'),
    (NULL, NULL, NULL, 'x', NULL, NULL, NULL, 'INVALID_PERIOD', 'days not a number'),
    (NULL, NULL, NULL, '400', NULL, NULL, NULL, 'INVALID_PERIOD', 'days over 365'),
    (NULL, NULL, NULL, NULL, '200', NULL, NULL, 'INVALID_PERIOD', 'hours over 168'),
    (NULL, 'yesterday', NULL, NULL, NULL, NULL, NULL, 'INVALID_DATE_RANGE', 'from not a date'),
    (NULL, '2026-02-30', NULL, NULL, NULL, NULL, NULL, 'INVALID_DATE_RANGE', 'from not a real date'),
    (NULL, '2026-01-01T10:00:00', NULL, NULL, NULL, NULL, NULL, 'INVALID_DATE_RANGE', 'a timestamp without its offset'),
    (NULL, '2026-01-01T25:00:00Z', NULL, NULL, NULL, NULL, NULL, 'INVALID_DATE_RANGE', 'hour 25'),
    (NULL, NULL, 'infinity', NULL, NULL, NULL, NULL, 'INVALID_DATE_RANGE', 'to infinity'),
    (NULL, NULL, repeat('2', 100), NULL, NULL, NULL, NULL, 'INVALID_DATE_RANGE', 'a long to'),
    (NULL, NULL, NULL, NULL, NULL, 'x', NULL, 'INVALID_DATE_RANGE', 'start_date not a date'),
    (NULL, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), to_char((now() AT TIME ZONE 'UTC')::date - 1, 'YYYY-MM-DD'),
     NULL, NULL, NULL, NULL, 'INVALID_DATE_RANGE', 'from after to'),
    (NULL, NULL, to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYY-MM-DD'), NULL, NULL, NULL, NULL,
     'INVALID_DATE_RANGE', 'to after today'),
    (NULL, NULL, to_char((now() AT TIME ZONE 'UTC') + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), NULL, NULL, NULL, NULL,
     'INVALID_DATE_RANGE', 'a timestamp to after now'),
    (NULL, to_char((now() AT TIME ZONE 'UTC')::date - 365, 'YYYY-MM-DD'), NULL, NULL, NULL, NULL, NULL,
     'INVALID_DATE_RANGE', '366 days'),
    (NULL, '1999-01-01', '2000-01-01', NULL, NULL, NULL, NULL, 'INVALID_DATE_RANGE', 'a year and a day')
) AS c(p, f, t, days, hours, sd, ed, code, why);
SELECT is(pg_temp.api_status(format($$SELECT analytics.http_window(NULL, %L, NULL, NULL, NULL, NULL, NULL, '7d')$$,
          to_char((now() AT TIME ZONE 'UTC')::date - 364, 'YYYY-MM-DD'))), 'ok', '365 days, both ends included, is allowed');

-- The answer's period: dates for whole days, RFC 3339 for hour windows.
SELECT is(analytics.window_json(pg_temp.midnight(-6), pg_temp.midnight(1)),
          jsonb_build_object('from', pg_temp.d(-6), 'to', pg_temp.d(0)), 'a day window reads as dates');
SELECT is(analytics.window_json(pg_temp.midnight(-1) + interval '90 minutes', pg_temp.midnight(0) + interval '1 second'),
          jsonb_build_object('from', pg_temp.d(-1) || 'T01:30:00.000000Z', 'to', pg_temp.d(0) || 'T00:00:01.000000Z'),
          'an hour window reads as UTC timestamps');
SELECT is(analytics.ratio(1, 3), 0.3333, 'a rate has four decimals');
SELECT is(analytics.ratio(5, 0), 0::numeric, 'a rate over nothing is 0');

-- Scope: who asks, for which tenant.
SELECT pg_temp.claims('{"role":"analytics_operator"}');
SELECT is((SELECT ROW(s.tenant_id, s.operator)::text FROM analytics.http_scope(NULL) s), '(,t)',
          'an operator token (no tenant claim) sees every tenant');
SELECT is((SELECT s.tenant_id FROM analytics.http_scope('00000000-0000-4000-8000-000000000002') s),
          '00000000-0000-4000-8000-000000000002'::uuid, 'an operator narrows to one tenant');
SELECT is((SELECT s.tenant_id FROM analytics.http_scope('00000000-0000-4000-8000-000000000002', true) s),
          '00000000-0000-4000-8000-000000000002'::uuid, 'an operator may call operator-only functions');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope('00000000-0000-4000-8000-0000000000ff')$$),
          'PGRST 404 TENANT_NOT_FOUND', 'an unknown tenant: 404 TENANT_NOT_FOUND');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope('acme')$$),
          'PGRST 400 VALIDATION_ERROR', 'a tenantId that is not a uuid: 400 VALIDATION_ERROR');
SELECT pg_temp.as_tenant(1);
SELECT is((SELECT ROW(s.tenant_id, s.operator)::text FROM analytics.http_scope(NULL) s),
          '(00000000-0000-4000-8000-000000000001,f)', 'a tenant token sees its own tenant');
SELECT is((SELECT s.tenant_id FROM analytics.http_scope('00000000-0000-4000-8000-000000000001') s),
          '00000000-0000-4000-8000-000000000001'::uuid, 'a tenant may name itself');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope('00000000-0000-4000-8000-000000000002')$$),
          'PGRST 403 FORBIDDEN', 'a tenant naming another tenant: 403 FORBIDDEN');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope('00000000-0000-4000-8000-0000000000ff')$$),
          'PGRST 403 FORBIDDEN', 'a tenant naming an unknown tenant: 403 FORBIDDEN (nothing learnt)');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope(NULL, true)$$),
          'PGRST 403 FORBIDDEN', 'a tenant calling an operator-only function: 403 FORBIDDEN');
-- The §5 checks come first, in their order.
SELECT pg_temp.as_tenant(5);
SET LOCAL analytics.free_tier_access = off;
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope('00000000-0000-4000-8000-000000000002')$$),
          'PGRST 403 ANALYTICS_NOT_AVAILABLE', 'the free tier before FORBIDDEN');
SELECT pg_temp.claims('{"tenant_id":"00000000-0000-4000-8000-0000000000ff"}');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope(NULL)$$), 'PGRST 401 UNAUTHORIZED', 'an unknown tenant claim: 401');
SELECT pg_temp.claims('{"tenant_id":"x"}');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope(NULL)$$), 'PGRST 401 UNAUTHORIZED',
          'a malformed tenant claim is no operator token: 401 for a superuser session');
SET LOCAL analytics.enabled = off;
SELECT pg_temp.claims('{"role":"analytics_operator"}');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope(NULL)$$), 'PGRST 404 NOT_FOUND', 'analytics.enabled off: 404 first');
RESET analytics.enabled;

-- Roles: an operator token needs the operator role; a tenant role without a
-- tenant claim is not an operator.
SELECT lives_ok($$SELECT analytics.create_api_roles()$$, 'create_api_roles creates analytics_operator');
SELECT ok(to_regrole('analytics_operator') IS NOT NULL, 'analytics_operator exists');
SELECT ok(has_function_privilege('analytics_operator', 'analytics_api.usage_summary(text, text)', 'EXECUTE'),
          'analytics_operator may execute the API functions');
-- (the roles may not call the scope function directly: granted here, in
-- this rolled-back transaction, to test it alone)
GRANT USAGE ON SCHEMA analytics TO analytics_tenant, analytics_operator;
GRANT EXECUTE ON FUNCTION analytics.http_scope(text, boolean) TO analytics_tenant, analytics_operator;
SET LOCAL ROLE analytics_tenant;
SELECT pg_temp.claims('{"role":"analytics_tenant"}');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope(NULL)$$), 'PGRST 401 UNAUTHORIZED',
          'the tenant role without a tenant claim is refused');
RESET ROLE;
SET LOCAL ROLE analytics_operator;
SELECT pg_temp.claims('{"role":"analytics_operator"}');
SELECT is((SELECT s.operator FROM analytics.http_scope(NULL) s), true, 'the operator role with no tenant claim is an operator');
SELECT pg_temp.claims('{"role":"analytics_operator","tenant_id":"00000000-0000-4000-8000-000000000001"}');
SELECT is(pg_temp.api_status($$SELECT analytics.http_scope(NULL)$$), 'PGRST 401 UNAUTHORIZED',
          'the operator role with a tenant claim is neither (not a tenant role): 401');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
