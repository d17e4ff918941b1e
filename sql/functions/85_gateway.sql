-------------------------------------------------------------------------------
-- 85_gateway.sql: what the HTTP gateway (http/: PostgREST behind nginx) needs
-- from the database.  Re-runnable: run at install and at every upgrade.
--
--   analytics.set_api_timeouts(statement_timeout, lock_timeout)
--       the time one API call may run, and wait for a lock, as settings of
--       the API roles (ALTER ROLE ... SET), which PostgREST 12 applies to
--       every request of that role.  A call cut by either answers 503
--       {"code":"TIMEOUT"} through nginx (http/gateway.js).
--   analytics.ensure_api_timeouts()
--       the defaults (5s, 1s) for the API roles that have no timeouts yet;
--       analytics.create_api_roles() calls it (an operator's values stay).
--   analytics.api_timeouts()
--       the settings in force, per API role.
-------------------------------------------------------------------------------

-- A duration setting's value in milliseconds, as PostgreSQL reads it (a bare
-- number is milliseconds; units ms, s, min, h, d), or 22023 naming it.
CREATE OR REPLACE FUNCTION analytics.api_timeout_ms(setting text, value text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET statement_timeout = 0
SET lock_timeout = 0
AS $$
DECLARE
    ms bigint;
BEGIN
    IF setting NOT IN ('statement_timeout', 'lock_timeout') THEN
        RAISE EXCEPTION 'setting must be statement_timeout or lock_timeout, not %', setting
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF value IS NULL OR length(value) > 32 THEN
        RAISE EXCEPTION '% must be a duration such as 5s or 500ms', setting
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- set_config checks the value; the function's own SET clauses undo it on exit
    PERFORM pg_catalog.set_config(setting, value, true);
    SELECT s.setting::bigint INTO ms FROM pg_catalog.pg_settings s WHERE s.name = api_timeout_ms.setting;
    IF ms < 1 OR ms > 3600000 THEN
        RAISE EXCEPTION '% must be from 1ms to 1h, not %', setting, value
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The API roles always run with a timeout: 0 (none) is refused.';
    END IF;
    RETURN ms;
END
$$;
COMMENT ON FUNCTION analytics.api_timeout_ms(text, text) IS
    'The value of statement_timeout or lock_timeout in milliseconds as PostgreSQL reads it (bare number = ms); 22023 unless from 1 ms to 1 h';

-- The API roles that exist, with their timeouts (the one list of them).
CREATE OR REPLACE FUNCTION analytics.api_timeouts(OUT role name, OUT statement_timeout text, OUT lock_timeout text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT r.rolname,
           (SELECT substr(c, length('statement_timeout=') + 1) FROM unnest(r.rolconfig) c WHERE c LIKE 'statement\_timeout=%'),
           (SELECT substr(c, length('lock_timeout=') + 1) FROM unnest(r.rolconfig) c WHERE c LIKE 'lock\_timeout=%')
    FROM pg_catalog.pg_roles r
    WHERE r.rolname IN ('analytics_anon', 'analytics_tenant', 'analytics_operator', 'analytics_metrics')
    ORDER BY r.rolname;
END
$$;
COMMENT ON FUNCTION analytics.api_timeouts() IS
    'The statement_timeout and lock_timeout of each API role that exists (NULL: not set), as set by analytics.set_api_timeouts(); the one list of the API roles';

CREATE OR REPLACE FUNCTION analytics.set_api_timeouts(statement_timeout text DEFAULT '5s', lock_timeout text DEFAULT '1s')
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st_ms bigint := analytics.api_timeout_ms('statement_timeout', set_api_timeouts.statement_timeout);
    lk_ms bigint := analytics.api_timeout_ms('lock_timeout', set_api_timeouts.lock_timeout);
    r     text;
BEGIN
    IF lk_ms > st_ms THEN
        RAISE EXCEPTION 'lock_timeout (%) must not be longer than statement_timeout (%)',
            set_api_timeouts.lock_timeout, set_api_timeouts.statement_timeout
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR r IN SELECT t.role FROM analytics.api_timeouts() t LOOP
        EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', r, st_ms || 'ms');
        EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', r, lk_ms || 'ms');
    END LOOP;
    -- PostgREST (db-channel-enabled) re-reads the role settings
    PERFORM pg_catalog.pg_notify('pgrst', 'reload config');
END
$$;
COMMENT ON FUNCTION analytics.set_api_timeouts(text, text) IS
    'Sets statement_timeout and lock_timeout (each 1 ms to 1 h, lock <= statement; defaults 5s and 1s) on the API roles that exist (analytics_anon, analytics_tenant, analytics_operator, analytics_metrics) and asks PostgREST to reload them (NOTIFY pgrst); a call cut by either answers 503 TIMEOUT through the gateway';

CREATE OR REPLACE FUNCTION analytics.ensure_api_timeouts()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM analytics.api_timeouts() LOOP
        IF t.statement_timeout IS NULL THEN
            EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', t.role, '5s');
        END IF;
        IF t.lock_timeout IS NULL THEN
            EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', t.role, '1s');
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.ensure_api_timeouts() IS
    'Sets statement_timeout 5s and lock_timeout 1s on each API role that exists and has none yet (values set by analytics.set_api_timeouts() stay); run when the API roles are created (layer 90)';

REVOKE EXECUTE ON FUNCTION analytics.api_timeout_ms(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.set_api_timeouts(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.ensure_api_timeouts() FROM PUBLIC;
