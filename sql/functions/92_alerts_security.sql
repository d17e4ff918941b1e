-------------------------------------------------------------------------------
-- functions/92_alerts_security.sql (layer 92, row-level security of the
-- alert tables of layer 48): the tenant_isolation policy of layer 90 on
-- every table with a tenant's rules, incidents, channels and notifications
-- (platform rows, tenant_id NULL, are visible to no tenant role), and on the
-- delivery attempts through their notification.  The API roles have no
-- grant on these tables: this is the second line of defence.  Re-runnable.
-------------------------------------------------------------------------------

-- An attempt belongs to its notification's tenant.  A function, not a
-- subquery in the policy: Citus refuses subqueries in the policies of its
-- tables.
CREATE OR REPLACE FUNCTION analytics.rls_delivery_visible(delivery_id bigint)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT EXISTS (SELECT 1 FROM analytics.notification_outbox o
                     WHERE o.delivery_id = $1 AND analytics.rls_tenant_visible(o.tenant_id)) $$;
COMMENT ON FUNCTION analytics.rls_delivery_visible(bigint) IS
    'Row-level security predicate of notification_attempts: the notification belongs to the tenant the caller may see (rls_tenant_visible)';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['alert_rules', 'alert_incidents', 'notification_channels', 'notification_outbox'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON analytics.%I', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (analytics.rls_tenant_visible(tenant_id)) '
                       'WITH CHECK (analytics.rls_tenant_visible(tenant_id))', t);
    END LOOP;
    ALTER TABLE analytics.notification_attempts ENABLE ROW LEVEL SECURITY;
    DROP POLICY IF EXISTS tenant_isolation ON analytics.notification_attempts;
    CREATE POLICY tenant_isolation ON analytics.notification_attempts
        USING (analytics.rls_delivery_visible(delivery_id))
        WITH CHECK (analytics.rls_delivery_visible(delivery_id));
END
$$;
