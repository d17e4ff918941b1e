-- With analytics.delivery_allow_private off (the default) the worker refuses
-- loopback destinations after name resolution: the probe records unknown
-- with the reason (test/health/run.sh).
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;
SELECT * FROM no_plan();
SELECT is(current_setting('analytics.delivery_allow_private'), 'off', 'private destinations refused');
DELETE FROM analytics.services WHERE tenant_id IS NULL AND service_name LIKE 'private-%';
SELECT lives_ok(format($$
    SELECT analytics.register_service(NULL, s.name, 'api', s.url, 60)
    FROM (VALUES ('private-ip', 'http://127.0.0.1:%1$s/ok'), ('private-name', 'http://localhost:%1$s/ok'),
                 ('private-v6', 'http://[::1]:%1$s/ok'), ('private-metadata', 'http://169.254.169.254/latest/meta-data/')) s(name, url)
$$, :'port'), 'services on loopback and link-local addresses');
CREATE FUNCTION pg_temp.wait_status(name text)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    st      text;
    started timestamptz := clock_timestamp();
BEGIN
    LOOP
        SELECT h.status || ': ' || h.error_message INTO st FROM analytics.health_checks h JOIN analytics.services s USING (service_id)
        WHERE s.tenant_id IS NULL AND s.service_name = name ORDER BY h.checked_at DESC LIMIT 1;
        EXIT WHEN st IS NOT NULL OR clock_timestamp() - started > interval '20 seconds';
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN st;
END
$$;
SELECT is(pg_temp.wait_status(s),
          'unknown: destination refused: a loopback, private or link-local address (analytics.delivery_allow_private is off)',
          s || ': refused, recorded unknown')
FROM unnest(ARRAY['private-ip', 'private-name', 'private-v6', 'private-metadata']) s;
DELETE FROM analytics.services WHERE tenant_id IS NULL AND service_name LIKE 'private-%';
SELECT * FROM finish();
