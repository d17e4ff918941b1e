-------------------------------------------------------------------------------
-- functions/91_metrics_security.sql (layer 91, row-level security of the
-- custom metrics of layer 46): the tenant_isolation policy of layer 90 on
-- every table with a tenant's metrics, and on the day partitions of
-- metric_points (analytics.ensure_metric_partitions gives new ones the
-- parent's).  Platform metrics (tenant_id = the nil uuid) are never visible
-- to a tenant role.  The API roles have no grant on these tables: this is
-- the second line of defence.  Re-runnable.
-------------------------------------------------------------------------------

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['custom_metrics', 'metric_points', 'metric_points_default', 'metric_hourly',
                             'metric_dirty_hours'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON analytics.%I', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (analytics.rls_tenant_visible(tenant_id)) '
                       'WITH CHECK (analytics.rls_tenant_visible(tenant_id))', t);
    END LOOP;
    FOR t IN SELECT mp.partition::text FROM analytics.metric_partitions mp WHERE mp.day IS NOT NULL LOOP
        PERFORM analytics.copy_row_security('analytics.metric_points', t::regclass);
    END LOOP;
END
$$;
