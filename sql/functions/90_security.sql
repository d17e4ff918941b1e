-------------------------------------------------------------------------------
-- functions/90_security.sql (layer 90, roles, grants and row-level
-- security).  Re-runnable.
--
-- Roles and grants.  PostgREST connects as an authenticator (LOGIN
-- NOINHERIT) and switches to analytics_anon (no token) or analytics_tenant
-- (a token whose "role" claim is analytics_tenant).
-------------------------------------------------------------------------------

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api FROM PUBLIC;

-- The grants of the API roles, (re)applied after CREATE EXTENSION when the
-- roles exist (DROP EXTENSION drops the functions and their grants).
CREATE OR REPLACE FUNCTION analytics.grant_api_privileges()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regrole('analytics_tenant') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA analytics_api TO analytics_tenant;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api TO analytics_tenant;
    END IF;
    IF to_regrole('analytics_operator') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA analytics_api TO analytics_operator;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api TO analytics_operator;
    END IF;
    IF to_regrole('analytics_anon') IS NOT NULL THEN
        -- The schema, and the one function a call without a token may make
        -- (contract §6.3: the health status); every other call is refused.
        GRANT USAGE ON SCHEMA analytics_api TO analytics_anon;
        IF to_regprocedure('analytics_api.analytics_health()') IS NOT NULL THEN
            GRANT EXECUTE ON FUNCTION analytics_api.analytics_health() TO analytics_anon;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.grant_api_privileges() IS
    'Grants analytics_tenant and analytics_operator USAGE on analytics_api and EXECUTE on its functions, analytics_anon USAGE on the schema and EXECUTE on analytics_health() only; run after CREATE EXTENSION (create_api_roles does it)';

CREATE OR REPLACE FUNCTION analytics.create_api_roles(authenticator name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regrole('analytics_anon') IS NULL THEN
        CREATE ROLE analytics_anon NOLOGIN;
    END IF;
    IF to_regrole('analytics_tenant') IS NULL THEN
        CREATE ROLE analytics_tenant NOLOGIN;
    END IF;
    IF to_regrole('analytics_operator') IS NULL THEN
        CREATE ROLE analytics_operator NOLOGIN;
    END IF;
    -- The default request limits (5 s, lock waits 1 s) on API roles that have
    -- none yet; analytics.set_api_timeouts() changes them.
    PERFORM analytics.ensure_api_timeouts();
    PERFORM analytics.grant_api_privileges();
    IF authenticator IS NOT NULL THEN
        EXECUTE format('GRANT analytics_anon, analytics_tenant, analytics_operator TO %I', authenticator);
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.create_api_roles(name) IS
    'Creates the PostgREST roles analytics_anon (no data access), analytics_tenant (a tenant''s token) and analytics_operator (an operator''s token, contract §6.1), the last two with USAGE on analytics_api and EXECUTE on its functions, if missing, with the default request limits of analytics.set_api_timeouts() (statement_timeout 5s, lock_timeout 1s), grants them, and makes the given authenticator role a member of all three';

REVOKE EXECUTE ON FUNCTION analytics.create_api_roles(name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.execute_cached(text, "any") FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.grant_api_privileges() FROM PUBLIC;

SELECT analytics.grant_api_privileges();

-------------------------------------------------------------------------------
-- Row-level security on every table holding tenant data.  Roles that act as
-- analytics_tenant see only the tenant their claims name; analytics_anon
-- sees nothing; other roles are governed by their grants alone.  (The API
-- roles have no grant on these tables: this is the second line of defence.)
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.rls_tenant_visible(tenant_id uuid)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL UNSAFE
AS $$ SELECT CASE
    WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                 WHERE r.rolname = 'analytics_tenant' AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'))
        THEN tenant_id = analytics.http_claimed_tenant()
    WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                 WHERE r.rolname = 'analytics_anon' AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'))
        THEN false
    ELSE true END $$;
COMMENT ON FUNCTION analytics.rls_tenant_visible(uuid) IS
    'Row-level security predicate: for roles acting as analytics_tenant, the row belongs to the claimed tenant; for analytics_anon, never; for other roles, always';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'agents', 'usage_events', 'usage_events_default',
                             'analytics_daily_aggregates', 'usage_stats_daily', 'tenant_daily',
                             'agent_daily', 'endpoint_daily',
                             'type_hourly', 'agent_type_daily', 'tool_daily', 'error_daily', 'api_daily',
                             'session_daily', 'user_daily', 'workflow_daily', 'cost_daily', 'cost_tool_daily', 'cost_user_daily', 'tool_duration_daily',
                             'analytics_monthly_aggregates', 'usage_stats_monthly',
                             'services'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON analytics.%I', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (analytics.rls_tenant_visible(tenant_id)) '
                       'WITH CHECK (analytics.rls_tenant_visible(tenant_id))', t);
    END LOOP;
    -- Prices: the global rows (tenant_id NULL) are everyone's, a tenant's
    -- negotiated rows its own.
    FOREACH t IN ARRAY ARRAY['model_prices', 'price_spans'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON analytics.%I', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (tenant_id IS NULL OR analytics.rls_tenant_visible(tenant_id)) '
                       'WITH CHECK (analytics.rls_tenant_visible(tenant_id))', t);
    END LOOP;
    -- Day partitions can be queried directly: they carry the same policy
    -- (analytics.ensure_partitions gives new ones the parent's).
    FOR t IN SELECT ep.partition::text FROM analytics.event_partitions ep WHERE ep.day IS NOT NULL LOOP
        PERFORM analytics.copy_row_security('analytics.usage_events', t::regclass);
    END LOOP;
END
$$;

-- Health checks and circuit events belong to their service's tenant (a
-- platform service, tenant_id NULL, is visible to no tenant).  The lookup
-- is a function, not a subquery in the policy: Citus refuses subqueries in
-- the policies of its tables.
CREATE OR REPLACE FUNCTION analytics.rls_service_visible(service_id bigint)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT EXISTS (SELECT 1 FROM analytics.services s
                     WHERE s.service_id = $1 AND analytics.rls_tenant_visible(s.tenant_id)) $$;
COMMENT ON FUNCTION analytics.rls_service_visible(bigint) IS
    'Row-level security predicate of health_checks and circuit_events: the service belongs to the tenant the caller may see (rls_tenant_visible)';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['health_checks', 'circuit_events'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON analytics.%I', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%1$I '
                       'USING (analytics.rls_service_visible(service_id)) '
                       'WITH CHECK (analytics.rls_service_visible(service_id))', t);
    END LOOP;
END
$$;
