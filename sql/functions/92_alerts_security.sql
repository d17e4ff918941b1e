-------------------------------------------------------------------------------
-- functions/92_alerts_security.sql (layer 92, row-level security of the
-- alert tables of layer 48): the tenant_isolation policy of layer 90 on
-- every table with a tenant's rules, incidents, channels and notifications
-- (platform rows, tenant_id NULL, are visible to no tenant role), and on the
-- delivery attempts through their notification.  The API roles have no
-- grant on these tables: this is the second line of defence.  Re-runnable.
-------------------------------------------------------------------------------

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
        USING (EXISTS (SELECT 1 FROM analytics.notification_outbox o
                       WHERE o.delivery_id = notification_attempts.delivery_id AND analytics.rls_tenant_visible(o.tenant_id)))
        WITH CHECK (EXISTS (SELECT 1 FROM analytics.notification_outbox o
                            WHERE o.delivery_id = notification_attempts.delivery_id AND analytics.rls_tenant_visible(o.tenant_id)));
END
$$;
