-------------------------------------------------------------------------------
-- 95_citus.sql: scale-out on Citus (docs/scaling.md).
--
-- analytics.distribute() is the one supported way to put the extension on a
-- Citus cluster: run it once on the coordinator, after CREATE EXTENSION
-- citus (on every node) and CREATE EXTENSION analytics (on the coordinator;
-- Citus creates it on the workers), with the workers added.  It
--   * makes the registries reference tables (a copy on every node): every
--     table of the extension that has no tenant_id column, and tenants and
--     agents, which every node joins against;
--   * distributes usage_events by tenant_id, with its partitions, and every
--     other table of the extension keyed by tenant_id, co-located with it, so
--     that one tenant's events and rollups live on one worker and a tenant's
--     read runs there whole.
-- Partitions attached later (analytics.ensure_partitions) are distributed by
-- Citus on ATTACH, co-located with their parent.  Tables already on Citus
-- are left as they are, so a second call changes nothing.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.distribute(shard_count integer DEFAULT 32)
RETURNS TABLE (table_name regclass, citus_table_type text, action text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- Registries that carry a tenant_id but are read by every tenant's
    -- queries on every node (joins, foreign keys): reference tables (the
    -- prices' tenant_id is NULL for a global price).
    -- services: platform services have no tenant either; health_checks and
    -- circuit_events have no tenant_id and become reference tables by the
    -- rule below.
    -- The alert tables (rules, incidents, channels, outbox) hold platform
    -- rows with tenant_id NULL too; notification_attempts has no tenant_id.
    registries constant text[] := ARRAY['tenants', 'agents', 'model_prices', 'price_spans', 'services',
                                        'alert_rules', 'alert_incidents', 'notification_channels',
                                        'notification_outbox'];
    fks        record;
    fk_defs    text[] := '{}';
    r          record;
    existing   text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'analytics.distribute() needs the citus extension, which is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'On one node the extension needs nothing more. To scale out, preload citus first on every node, CREATE EXTENSION citus, add the workers with citus_add_node() (docs/scaling.md).';
    END IF;
    IF shard_count IS NULL OR shard_count < 1 OR shard_count > 4096 THEN
        RAISE EXCEPTION 'shard_count must be between 1 and 4096, not %', coalesce(shard_count::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A few times the number of worker cores you expect to grow to; 32 is the default.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node WHERE noderole = 'primary' AND groupid <> 0 AND isactive) THEN
        RAISE EXCEPTION 'no active Citus worker: add the workers first'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'SELECT citus_add_node(''worker-host'', 5432); on the coordinator, for every worker.';
    END IF;
    -- DDL on reference and distributed tables in one transaction: one
    -- connection per node, so later statements see the earlier ones.
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);

    CREATE TEMP TABLE distribute_plan ON COMMIT DROP AS
    SELECT c.oid::regclass AS rel,
           CASE WHEN c.relname = ANY (registries)
                  OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                                 WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                                   AND a.attnum > 0 AND NOT a.attisdropped)
                THEN 'reference' ELSE 'distributed' END AS kind,
           (SELECT CASE WHEN p.partmethod = 'h' THEN 'distributed'
                        WHEN p.repmodel = 't' THEN 'reference' ELSE 'citus local' END
            FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = c.oid) AS existing
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                               AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
    JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid AND x.extname = 'analytics'
    -- (partitions follow their parent)
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition;

    -- Foreign keys between the extension's tables that are still local:
    -- Citus would turn a local table that points at a new reference table
    -- into a "Citus local" table, whose shell it then fails to create on the
    -- workers (which have the extension's own table of that name).  They are
    -- dropped here and added again once both ends are on Citus (which adds
    -- them to the shards too).
    FOR fks IN
        SELECT f.conname, f.conrelid::regclass AS rel, pg_catalog.pg_get_constraintdef(f.oid) AS def
        FROM pg_catalog.pg_constraint f
        JOIN distribute_plan p ON p.rel = f.conrelid AND p.existing IS NULL
        WHERE f.contype = 'f' AND f.conparentid = 0
          AND f.confrelid IN (SELECT q.rel FROM distribute_plan q)
        ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', fks.rel, fks.conname);
        -- (and on the workers' copies, which become the shells of the Citus
        -- tables and get the constraint again with it below)
        PERFORM pg_catalog.run_command_on_workers(
            pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fks.rel, fks.conname));
        fk_defs := fk_defs || pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', fks.rel, fks.conname, fks.def);
    END LOOP;

    -- Reference tables, then usage_events (the first table of the
    -- co-location group), then the other tenant-keyed tables.
    FOR r IN
        SELECT p.rel, p.kind, p.existing FROM distribute_plan p
        ORDER BY p.kind DESC, p.rel <> 'analytics.usage_events'::regclass, p.rel::text
    LOOP
        table_name := r.rel;
        IF r.existing IS NOT NULL THEN
            citus_table_type := r.existing; action := 'kept';
        ELSIF r.kind = 'reference' THEN
            PERFORM pg_catalog.create_reference_table(r.rel);
            citus_table_type := 'reference'; action := 'created';
        ELSIF r.rel = 'analytics.usage_events'::regclass THEN
            PERFORM pg_catalog.create_distributed_table(r.rel, 'tenant_id', colocate_with => 'none',
                                                        shard_count => distribute.shard_count);
            citus_table_type := 'distributed'; action := 'created';
        ELSE
            PERFORM pg_catalog.create_distributed_table(r.rel, 'tenant_id',
                                                        colocate_with => 'analytics.usage_events');
            citus_table_type := 'distributed'; action := 'created';
        END IF;
        RETURN NEXT;
    END LOOP;

    FOR i IN 1 .. coalesce(pg_catalog.array_length(fk_defs, 1), 0) LOOP
        EXECUTE fk_defs[i];
    END LOOP;
    DROP TABLE distribute_plan;
END
$$;
COMMENT ON FUNCTION analytics.distribute(integer) IS
    'Puts the extension on Citus (run on the coordinator): registries and tables without tenant_id become reference tables; usage_events (with its partitions, shard_count shards) and every other tenant-keyed table are distributed by tenant_id and co-located. Idempotent; returns what it created or kept. Errors when Citus is missing';
