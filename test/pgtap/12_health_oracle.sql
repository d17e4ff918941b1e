-- Health and SLA (contract §6.5) against a hand-computed timeline and a
-- per-second oracle in plain SQL: time-weighted uptime with gaps, stale
-- checks (pushed: 300 s; probed: 3 x interval; the setting), degraded
-- counted up, flapping, an unknown check, a period boundary inside an
-- outage, downtime incidents; consecutive failures, the circuit timeline,
-- the status timeline, the summary's overall status.  Fixed timestamps:
-- holds on every date and hour.  (Services without check_url, inside a
-- transaction: the background worker never sees them.)
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;

\set T0 '''2026-01-01 00:00:00+00'''
CREATE FUNCTION pg_temp.t(s integer) RETURNS timestamptz LANGUAGE sql
AS $$ SELECT '2026-01-01 00:00:00+00'::timestamptz + make_interval(secs => s) $$;

-- The oracle: the status of every second [from + i, from + i + 1) of a
-- window, from the raw checks: the latest check at or before it, while not
-- stale (stale_push / stale_probe seconds), else unknown.
CREATE FUNCTION pg_temp.oracle(sid bigint, f timestamptz, t timestamptz, stale_push integer, stale_probe integer)
RETURNS TABLE (up bigint, down bigint, unknown bigint, incidents bigint)
LANGUAGE sql
AS $$
    WITH sec AS (
        SELECT s, coalesce((SELECT CASE WHEN h.checked_at + make_interval(secs => CASE WHEN h.source = 'probe' THEN stale_probe ELSE stale_push END) > s
                                        THEN h.status END
                            FROM analytics.health_checks h
                            WHERE h.service_id = sid AND h.checked_at <= s
                            ORDER BY h.checked_at DESC LIMIT 1), 'unknown') AS st
        FROM generate_series(f, t - interval '1 second', interval '1 second') s),
    runs AS (
        SELECT s, st, lag(st) OVER (ORDER BY s) AS prev FROM sec)
    SELECT count(*) FILTER (WHERE st IN ('healthy', 'degraded')),
           count(*) FILTER (WHERE st = 'unhealthy'),
           count(*) FILTER (WHERE st = 'unknown'),
           count(*) FILTER (WHERE st = 'unhealthy' AND prev IS DISTINCT FROM 'unhealthy')
    FROM runs
$$;

SELECT lives_ok($$SELECT analytics.register_service(NULL, 'svc', 'mcp_server')$$, 'register a platform service without check_url');
SELECT is((analytics.register_service(NULL, 'svc', 'mcp_server')) ->> 'created', 'false', 'registering again changes it');
\set SVC '(SELECT service_id FROM analytics.services WHERE tenant_id IS NULL AND service_name = ''svc'')'

-- The timeline (seconds from T0; window [T0, T0 + 3600); pushed checks hold 300 s):
--   -120 unhealthy 500ms  -> [0, 60) unhealthy (the period starts inside an outage)
--     60 unhealthy 100ms  -> [60, 360) unhealthy (stale at 360), [360, 600) unknown
--    600 healthy 10ms, 700 degraded 2000ms, 800 unhealthy, 900 healthy 20ms (flapping)
--   1000 unhealthy, 1010 unknown (a check saying unknown), 1100 unhealthy
--   1200 healthy 30ms -> [1200, 1500), then [1500, 3500) unknown
--   3500 healthy 40ms -> [3500, 3600) (clipped at the end); 3650 unhealthy (after the window)
SELECT lives_ok($$
    SELECT analytics.record_health_check(NULL, 'svc', c.status, c.ms, CASE WHEN c.status = 'unhealthy' THEN 'boom' END, pg_temp.t(c.s))
    FROM (VALUES (-120, 'unhealthy', 500), (60, 'unhealthy', 100), (600, 'healthy', 10), (700, 'degraded', 2000),
                 (800, 'unhealthy', NULL), (900, 'healthy', 20), (1000, 'unhealthy', NULL), (1010, 'unknown', NULL),
                 (1100, 'unhealthy', NULL), (1200, 'healthy', 30), (3500, 'healthy', 40), (3650, 'unhealthy', NULL)) c(s, status, ms)
$$, 'push the checks');

CREATE TEMP TABLE sla AS SELECT analytics.sla(NULL, 'svc', pg_temp.t(0), pg_temp.t(3600), 50) AS j;
SELECT is((SELECT j ->> 'downtime_seconds' FROM sla)::numeric, 570::numeric, 'sla: downtime 60 + 300 + 100 + 10 + 100 s');
SELECT is((SELECT j ->> 'uptime_seconds' FROM sla)::numeric, 700::numeric, 'sla: up 100 + 100 (degraded) + 100 + 300 + 100 s');
SELECT is((SELECT j ->> 'unknown_seconds' FROM sla)::numeric, 2330::numeric, 'sla: unknown 240 + 90 + 2000 s (gaps and the unknown check)');
SELECT is((SELECT j ->> 'uptime_percentage' FROM sla)::numeric, round(100 * 700 / 1270.0, 4), 'sla: uptime = up / (up + down)');
SELECT is((SELECT j ->> 'downtime_incidents' FROM sla)::integer, 4, 'sla: 4 incidents (an unknown check or a gap splits a run)');
SELECT is((SELECT j -> 'compliant' FROM sla), 'true'::jsonb, 'sla: compliant with target 50');
SELECT is((SELECT j ->> 'error_budget_remaining_seconds' FROM sla)::numeric, 65::numeric, 'sla: budget 0.5 x 1270 - 570');
SELECT is((SELECT j ->> 'average_response_time_ms' FROM sla)::numeric, round(2200 / 6.0, 3), 'sla: average of the response times in the window');
SELECT is((analytics.sla(NULL, 'svc', pg_temp.t(0), pg_temp.t(86400))) -> 'period', '{"from": "2026-01-01", "to": "2026-01-01"}'::jsonb,
          'sla: a window of whole days has dates as its period');
SELECT is((SELECT j -> 'period' ->> 'from' FROM sla), '2026-01-01T00:00:00.000000Z', 'sla: period from');
SELECT is((SELECT array_agg(k ORDER BY k) FROM sla, jsonb_object_keys(j) k),
          ARRAY['average_response_time_ms', 'compliant', 'downtime_incidents', 'downtime_seconds', 'error_budget_remaining_seconds',
                'period', 'service_name', 'target', 'tenant_id', 'unknown_seconds', 'uptime_percentage', 'uptime_seconds'],
          'sla: the contract''s keys (plus uptime_seconds, tenant_id)');
SELECT is((analytics.sla(NULL, 'svc', pg_temp.t(0), pg_temp.t(3600))) -> 'compliant', 'false'::jsonb, 'sla: not compliant with the default 99.9');
SELECT is((analytics.sla(NULL, 'svc', pg_temp.t(0), pg_temp.t(3600))) ->> 'error_budget_remaining_seconds', '-568.730',
          'sla: a negative budget is overspent');

-- The oracle agrees, here and on other windows (boundaries inside stretches).
SELECT is((SELECT row(o.up, o.down, o.unknown, o.incidents)::text FROM pg_temp.oracle(:SVC, pg_temp.t(0), pg_temp.t(3600), 300, 180) o),
          '(700,570,2330,4)', 'oracle: the same up, down, unknown and incidents');
SELECT is((SELECT row((j ->> 'uptime_seconds')::numeric::bigint, (j ->> 'downtime_seconds')::numeric::bigint,
                      (j ->> 'unknown_seconds')::numeric::bigint, (j ->> 'downtime_incidents')::bigint)::text
           FROM (SELECT analytics.sla(NULL, 'svc', pg_temp.t(w.f), pg_temp.t(w.t)) j) x),
          (SELECT row(o.up, o.down, o.unknown, o.incidents)::text FROM pg_temp.oracle(:SVC, pg_temp.t(w.f), pg_temp.t(w.t), 300, 180) o),
          format('sla = oracle over [%s, %s)', w.f, w.t))
FROM (VALUES (-300, 0), (-300, 100), (30, 650), (350, 1105), (805, 1205), (1005, 3700), (-1000, 5000), (4000, 4100)) w(f, t);

-- analytics.health_stale_seconds overrides both defaults.
SET LOCAL analytics.health_stale_seconds = 100;
SELECT is((SELECT row((j ->> 'uptime_seconds')::numeric::bigint, (j ->> 'downtime_seconds')::numeric::bigint,
                      (j ->> 'unknown_seconds')::numeric::bigint, (j ->> 'downtime_incidents')::bigint)::text
           FROM (SELECT analytics.sla(NULL, 'svc', pg_temp.t(0), pg_temp.t(3600)) j) x),
          (SELECT row(o.up, o.down, o.unknown, o.incidents)::text FROM pg_temp.oracle(:SVC, pg_temp.t(0), pg_temp.t(3600), 100, 100) o),
          'health_stale_seconds = 100: sla = oracle');
SELECT is((analytics.sla(NULL, 'svc', pg_temp.t(0), pg_temp.t(3600))) ->> 'downtime_seconds', '310.000',
          'health_stale_seconds = 100: the -120 check no longer reaches the window; 100 + 100 + 10 + 100');
RESET analytics.health_stale_seconds;

-- A probed check holds 3 x the interval (interval 20: 60 s).
SELECT lives_ok($$SELECT analytics.register_service(NULL, 'probed', 'api', NULL, 20)$$, 'a service with interval 20');
SELECT lives_ok($$SELECT analytics.health_store_check((SELECT service_id FROM analytics.services WHERE service_name = 'probed'),
                                                      pg_temp.t(s), 'healthy', 5, NULL, 'probe')
                  FROM unnest(ARRAY[0, 20, 40, 200]) s$$, 'probes at 0, 20, 40 and 200');
SELECT is((analytics.sla(NULL, 'probed', pg_temp.t(0), pg_temp.t(300))) ->> 'uptime_seconds', '160.000',
          'probed: [0, 100) and [200, 260) up (each probe holds 60 s)');
SELECT is((analytics.sla(NULL, 'probed', pg_temp.t(0), pg_temp.t(300))) ->> 'uptime_percentage', '100.0000', 'probed: 100% of the known time');
SELECT is((analytics.sla(NULL, 'probed', pg_temp.t(1000), pg_temp.t(2000))) ->> 'uptime_percentage', NULL, 'no known time: uptime null');
SELECT is((analytics.sla(NULL, 'probed', pg_temp.t(1000), pg_temp.t(2000))) -> 'compliant', 'null'::jsonb, 'no known time: compliant null');

-------------------------------------------------------------------------------
-- service_health: the status timeline, consecutive failures, circuit changes
-------------------------------------------------------------------------------
SELECT lives_ok($$
    SELECT analytics.record_circuit_state(NULL, 'svc', c.state, pg_temp.t(c.s))
    FROM (VALUES (-600, 'open'), (100, 'half_open'), (200, 'closed'), (4000, 'open')) c(s, state)
$$, 'circuit changes');
CREATE TEMP TABLE sh AS SELECT analytics.service_health(NULL, 'svc', pg_temp.t(0), pg_temp.t(3600)) AS j;
SELECT is((SELECT string_agg(format('%s %s-%s', e ->> 'status',
                                    extract(epoch FROM (e ->> 'from')::timestamptz - pg_temp.t(0))::integer,
                                    extract(epoch FROM (e ->> 'to')::timestamptz - pg_temp.t(0))::integer), ', ' ORDER BY i)
           FROM sh, jsonb_array_elements(j -> 'timeline') WITH ORDINALITY x(e, i)),
          'unhealthy 0-360, unknown 360-600, healthy 600-700, degraded 700-800, unhealthy 800-900, healthy 900-1000, '
          'unhealthy 1000-1010, unknown 1010-1100, unhealthy 1100-1200, healthy 1200-1500, unknown 1500-3500, healthy 3500-3600',
          'service_health: the status stretches, equal neighbours merged, gaps unknown');
SELECT is((SELECT sum((e ->> 'seconds')::numeric) FROM sh, jsonb_array_elements(j -> 'timeline') e), 3600::numeric,
          'service_health: the stretches cover the window');
SELECT is((SELECT string_agg((e ->> 'state') || '@' || extract(epoch FROM (e ->> 'at')::timestamptz - pg_temp.t(0))::integer, ' ' ORDER BY i)
           FROM sh, jsonb_array_elements(j -> 'circuit_timeline') WITH ORDINALITY x(e, i)),
          'open@-600 half_open@100 closed@200', 'service_health: the circuit state at the start, then its changes in the window');
SELECT is((SELECT j ->> 'circuit_state' FROM sh), 'closed', 'service_health: the circuit state at the end of the window');
SELECT is((SELECT j ->> 'status' FROM sh), 'healthy', 'service_health: the status at the end of the window');
SELECT is((SELECT j -> 'latest_check' ->> 'checked_at' FROM sh), '2026-01-01T00:58:20.000000Z', 'service_health: the latest check');
SELECT is((SELECT (j ->> 'consecutive_failures')::integer FROM sh), 0, 'service_health: no failure since the healthy check');
SELECT is((analytics.service_health(NULL, 'svc', pg_temp.t(1000), pg_temp.t(1150))) ->> 'consecutive_failures', '1',
          'consecutive failures at 1150: the unhealthy 1100 (the unknown at 1010 ends the run)');
SELECT is((analytics.service_health(NULL, 'svc', pg_temp.t(1000), pg_temp.t(1250))) ->> 'consecutive_failures', '0',
          'consecutive failures after a healthy check: 0');
SELECT is((analytics.service_health(NULL, 'svc', pg_temp.t(0), pg_temp.t(90))) ->> 'consecutive_failures', '2',
          'consecutive failures: the two unhealthy checks since the start');
SELECT is((analytics.service_health(NULL, 'svc', pg_temp.t(3600), pg_temp.t(3700))) ->> 'consecutive_failures', '1',
          'consecutive failures: the unhealthy check at 3650');
SELECT is((analytics.service_health(NULL, 'svc', pg_temp.t(5000), pg_temp.t(5000))) ->> 'status', 'unknown',
          'the status once the latest check is stale: unknown');
SELECT is((analytics.service_health(NULL, 'svc', pg_temp.t(5000), pg_temp.t(5000))) -> 'timeline', '[]'::jsonb,
          'an empty window: no stretch');
SELECT is((analytics.service_health(NULL, 'probed', pg_temp.t(5000), pg_temp.t(5100))) -> 'timeline',
          jsonb_build_array(jsonb_build_object('status', 'unknown', 'from', '2026-01-01T01:23:20.000000Z',
                                               'to', '2026-01-01T01:25:00.000000Z', 'seconds', 100.000)),
          'a window without checks: one unknown stretch');

-------------------------------------------------------------------------------
-- health_summary: latest statuses, counts, the worst as overall
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT analytics.upsert_tenant('00000000-0000-4000-8000-00000000aa01', 'health tenant', 'pro')$$, 'a tenant');
\set TH '''00000000-0000-4000-8000-00000000aa01'''
SELECT is((analytics.health_summary(:TH)) -> 'overall_status', '"unknown"'::jsonb, 'summary: no services: unknown');
SELECT is((analytics.health_summary(:TH)) -> 'total_services', '0'::jsonb, 'summary: no services');
SELECT lives_ok($$SELECT analytics.register_service('00000000-0000-4000-8000-00000000aa01', n, 'api')
                  FROM unnest(ARRAY['a', 'b', 'c', 'svc']) n$$, 'the tenant''s services a, b, c and its own svc');
SELECT lives_ok($$SELECT analytics.record_health_check('00000000-0000-4000-8000-00000000aa01', 'a', 'healthy', 12.5, NULL, now() - interval '10 seconds')$$, 'a healthy');
SELECT is((analytics.health_summary(:TH)) ->> 'overall_status', 'unknown', 'summary: a healthy, the others never checked: unknown');
SELECT lives_ok($$SELECT analytics.record_health_check('00000000-0000-4000-8000-00000000aa01', n, 'healthy', 1, NULL, now() - interval '10 seconds')
                  FROM unnest(ARRAY['b', 'c', 'svc']) n$$, 'all healthy');
SELECT is((analytics.health_summary(:TH)) ->> 'overall_status', 'healthy', 'summary: all healthy');
SELECT lives_ok($$SELECT analytics.record_health_check('00000000-0000-4000-8000-00000000aa01', 'b', 'degraded', 1500, NULL, now() - interval '5 seconds')$$, 'b degraded');
SELECT is((analytics.health_summary(:TH)) ->> 'overall_status', 'degraded', 'summary: one degraded');
SELECT lives_ok($$SELECT analytics.record_health_check('00000000-0000-4000-8000-00000000aa01', 'c', 'unhealthy', NULL, 'down', now() - interval '5 seconds')$$, 'c unhealthy');
SELECT lives_ok($$SELECT analytics.record_health_check('00000000-0000-4000-8000-00000000aa01', 'c', 'unhealthy', NULL, 'down', now() - interval '4 seconds')$$, 'c unhealthy again');
SELECT lives_ok($$SELECT analytics.record_circuit_state('00000000-0000-4000-8000-00000000aa01', 'c', 'open')$$, 'c circuit open');
CREATE TEMP TABLE sm AS SELECT analytics.health_summary('00000000-0000-4000-8000-00000000aa01') AS j;
SELECT is((SELECT j ->> 'overall_status' FROM sm), 'unhealthy', 'summary: the worst is unhealthy');
SELECT is((SELECT format('%s %s %s %s %s', j -> 'total_services', j -> 'healthy', j -> 'degraded', j -> 'unhealthy', j -> 'unknown') FROM sm),
          '4 2 1 1 0', 'summary: the counts');
SELECT is((SELECT e FROM sm, jsonb_array_elements(j -> 'services') e WHERE e ->> 'service_name' = 'c') - 'last_checked' - 'tenant_id',
          '{"service_name": "c", "service_type": "api", "status": "unhealthy", "response_time_ms": null, "consecutive_failures": 2, "circuit_state": "open"}'::jsonb,
          'summary: a service''s fields');
SELECT is((SELECT (e ->> 'response_time_ms')::numeric FROM sm, jsonb_array_elements(j -> 'services') e WHERE e ->> 'service_name' = 'a'), 12.5,
          'summary: the latest response time');
SELECT is((SELECT array_agg(k ORDER BY k) FROM sm, jsonb_object_keys(j) k),
          ARRAY['degraded', 'healthy', 'overall_status', 'services', 'tenant_id', 'total_services', 'unhealthy', 'unknown'],
          'summary: seed 002''s keys plus unknown and tenant_id');
SELECT is((SELECT count(*) FROM jsonb_array_elements((analytics.health_summary(NULL)) -> 'services')),
          (SELECT count(*) FROM analytics.services), 'summary for everyone (NULL): every service');
SELECT is((SELECT count(*) FROM jsonb_array_elements((analytics.health_summary(NULL)) -> 'services') e WHERE e ->> 'service_name' = 'svc'),
          2::bigint, 'summary for everyone: the platform''s svc and the tenant''s svc are two');
SELECT is((analytics.sla('00000000-0000-4000-8000-00000000aa01', 'svc', pg_temp.t(0), pg_temp.t(3600))) ->> 'unknown_seconds', '3600.000',
          'the tenant''s svc is not the platform''s');

-- Typed errors.
SELECT throws_ok($$SELECT analytics.sla(NULL, 'nope', now() - interval '1 day', now())$$, 'P0002', NULL, 'sla: unknown service P0002');
SELECT throws_ok($$SELECT analytics.sla(NULL, 'svc', now(), now() - interval '1 day')$$, '22023', NULL, 'sla: from after to');
SELECT throws_ok($$SELECT analytics.sla(NULL, 'svc', now() - interval '1 day', now(), 101)$$, '22023', NULL, 'sla: target over 100');
SELECT throws_ok($$SELECT analytics.record_health_check(NULL, 'svc', 'fine')$$, '23514', NULL, 'a status outside the four: check violation');
SELECT throws_ok($$SELECT analytics.record_circuit_state(NULL, 'svc', 'ajar')$$, '23514', NULL, 'a circuit state outside the three');
SELECT throws_ok($$SELECT analytics.register_service(NULL, 'x', 'api', 'ftp://example.com/')$$, '23514', NULL, 'check_url: http or https only');
SELECT throws_ok($$SELECT analytics.register_service(NULL, 'x', 'api', NULL, 5)$$, '23514', NULL, 'interval_seconds: at least 10');
SELECT throws_ok($$SELECT analytics.register_service(NULL, 'x', 'queue')$$, '23514', NULL, 'service_type: one of five');

SELECT * FROM finish();
ROLLBACK;
