-- The background worker's probes against real local HTTP servers
-- (test/health/server.py on port :port; :closed is a port nothing listens
-- on), run by test/health/run.sh with analytics.delivery_allow_private on,
-- analytics.health_timeout_ms = 1500 and analytics.health_degraded_ms = 300.
-- Not in a transaction: the worker must see the services.  Every wait is
-- bounded.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;
SELECT * FROM no_plan();

-- Wait (at most max_s seconds) until the platform service has n checks.
CREATE FUNCTION pg_temp.wait_checks(name text, n integer, max_s float8 DEFAULT 20)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    got     integer;
    started timestamptz := clock_timestamp();
BEGIN
    LOOP
        SELECT count(*) INTO got FROM analytics.health_checks h JOIN analytics.services s USING (service_id)
        WHERE s.tenant_id IS NULL AND s.service_name = name;
        EXIT WHEN got >= n OR clock_timestamp() - started > make_interval(secs => max_s);
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN got;
END
$$;
CREATE FUNCTION pg_temp.last_check(name text)
RETURNS analytics.health_checks
LANGUAGE sql VOLATILE
AS $$ SELECT h.* FROM analytics.health_checks h JOIN analytics.services s USING (service_id)
      WHERE s.tenant_id IS NULL AND s.service_name = name ORDER BY h.checked_at DESC LIMIT 1 $$;

SELECT ok(EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'analytics worker' AND datname = current_database()),
          'the worker runs in this database');
SELECT is(current_setting('analytics.delivery_allow_private'), 'on', 'private destinations allowed for this test');

DELETE FROM analytics.services WHERE tenant_id IS NULL AND service_name LIKE 'probe-%';
SELECT lives_ok(format($$
    SELECT analytics.register_service(NULL, s.name, 'api', s.url, 60)
    FROM (VALUES ('probe-ok', 'http://127.0.0.1:%1$s/ok'),
                 ('probe-slow', 'http://127.0.0.1:%1$s/slow/700'),
                 ('probe-timeout', 'http://127.0.0.1:%1$s/slow/4000'),
                 ('probe-500', 'http://127.0.0.1:%1$s/status/500'),
                 ('probe-503', 'http://127.0.0.1:%1$s/status/503'),
                 ('probe-redirect', 'http://127.0.0.1:%1$s/redirect'),
                 ('probe-closed', 'http://127.0.0.1:%2$s/ok'),
                 ('probe-nohost', 'http://probe-nohost.invalid/ok')) s(name, url)
$$, :'port', :'closed'), 'register eight services with check_url');

-- While the worker probes the slow ones, a user's write to their rows does
-- not wait for it (no lock is held during a probe).
CREATE FUNCTION pg_temp.wait_lease(name text)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    pid     integer;
    started timestamptz := clock_timestamp();
BEGIN
    LOOP
        SELECT s.claimed_by INTO pid FROM analytics.services s WHERE s.tenant_id IS NULL AND s.service_name = name;
        EXIT WHEN pid IS NOT NULL OR clock_timestamp() - started > interval '20 seconds';
        PERFORM pg_sleep(0.02);
    END LOOP;
    RETURN pid;
END
$$;
SELECT is(pg_temp.wait_lease('probe-timeout'), (SELECT pid FROM pg_stat_activity WHERE backend_type = 'analytics worker'),
          'probe-timeout is leased to the worker while it probes');
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS at;
UPDATE analytics.services SET agent_id = NULL WHERE tenant_id IS NULL AND service_name = 'probe-timeout';
SELECT ok(clock_timestamp() - (SELECT at FROM t0) < interval '500 milliseconds', 'a write to a service being probed does not wait');

SELECT is(pg_temp.wait_checks(s, 1), 1, s || ': one probe recorded')
FROM unnest(ARRAY['probe-ok', 'probe-slow', 'probe-timeout', 'probe-500', 'probe-503', 'probe-redirect', 'probe-closed', 'probe-nohost']) s;

SELECT is((pg_temp.last_check('probe-ok')).status, 'healthy', 'a fast 200: healthy');
SELECT is((pg_temp.last_check('probe-ok')).source, 'probe', 'recorded as a probe');
SELECT ok((pg_temp.last_check('probe-ok')).response_time_ms BETWEEN 0 AND 300, 'a fast 200: its response time');
SELECT is((pg_temp.last_check('probe-ok')).error_message, NULL, 'a fast 200: no error');
SELECT is((pg_temp.last_check('probe-slow')).status, 'degraded', 'a 200 after 700 ms (threshold 300): degraded');
SELECT ok((pg_temp.last_check('probe-slow')).response_time_ms >= 700, 'degraded: the response time is the real one');
SELECT is((pg_temp.last_check('probe-timeout')).status, 'unhealthy', 'no answer within 1500 ms: unhealthy');
SELECT ok((pg_temp.last_check('probe-timeout')).error_message LIKE 'timed out after%', 'timeout: its error says so');
SELECT ok((pg_temp.last_check('probe-timeout')).response_time_ms BETWEEN 1400 AND 2500, 'timeout: cut at the limit');
SELECT is((pg_temp.last_check('probe-500')).status, 'unhealthy', 'a 500: unhealthy');
SELECT is((pg_temp.last_check('probe-500')).error_message, 'HTTP status 500', 'a 500: its error');
SELECT is((pg_temp.last_check('probe-503')).error_message, 'HTTP status 503', 'a 503: its error');
SELECT is((pg_temp.last_check('probe-redirect')).status, 'unhealthy', 'a redirect is not followed: unhealthy');
SELECT is((pg_temp.last_check('probe-redirect')).error_message, 'HTTP status 302', 'a redirect: its status');
SELECT is((pg_temp.last_check('probe-closed')).status, 'unhealthy', 'a closed port: unhealthy');
SELECT ok((pg_temp.last_check('probe-closed')).error_message ILIKE '%connect%', 'a closed port: could not connect');
SELECT is((pg_temp.last_check('probe-nohost')).status, 'unhealthy', 'an unknown host: unhealthy');

-- The lease is freed and the next probe scheduled one interval later; one
-- probe per service so far (interval 60 s).
SELECT is((SELECT count(*) FROM analytics.services s WHERE s.tenant_id IS NULL AND s.service_name LIKE 'probe-%' AND s.claimed_at IS NOT NULL),
          0::bigint, 'every lease freed');
SELECT is((SELECT count(*) FROM analytics.services s
           WHERE s.tenant_id IS NULL AND s.service_name LIKE 'probe-%'
             AND s.next_probe_at BETWEEN (pg_temp.last_check(s.service_name)).checked_at + interval '59 seconds'
                                     AND (pg_temp.last_check(s.service_name)).checked_at + interval '61 seconds'),
          8::bigint, 'next probe one interval after the last');
SELECT is((SELECT max(n) FROM (SELECT count(*) n FROM analytics.health_checks h JOIN analytics.services s USING (service_id)
                              WHERE s.tenant_id IS NULL AND s.service_name LIKE 'probe-%' GROUP BY s.service_id) x),
          1::bigint, 'never two probes of a service within its interval');

-- The health summary and the SLA read the probes.
SELECT is((SELECT e ->> 'status' FROM jsonb_array_elements((analytics.health_summary(NULL)) -> 'services') e
           WHERE e ->> 'service_name' = 'probe-slow' AND e -> 'tenant_id' = 'null'), 'degraded', 'health_summary: the probed status');
SELECT is((analytics.health_summary(NULL)) ->> 'overall_status', 'unhealthy', 'health_summary: the worst');

-- Re-registering with a new URL probes again at once.
SELECT lives_ok(format($$SELECT analytics.register_service(NULL, 'probe-500', 'api', 'http://127.0.0.1:%s/ok', 60)$$, :'port'),
                'probe-500 now points at /ok');
SELECT is(pg_temp.wait_checks('probe-500', 2), 2, 'probed again at once');
SELECT is((pg_temp.last_check('probe-500')).status, 'healthy', 'the new URL answers 200');

SELECT * FROM finish();
