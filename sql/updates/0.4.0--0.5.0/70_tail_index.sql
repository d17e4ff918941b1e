-------------------------------------------------------------------------------
-- 70_tail_index.sql: every day partition made from 0.5.0 on has an index
-- on (tenant_id, ingested_at) of its own (analytics.ensure_partitions), so
-- that an API call finds a tenant's events ingested since a day's watermark
-- with one index descent instead of reading every tenant's events of the
-- last minute by the BRIN index.  Existing partitions: only the live days'
-- (yesterday, today and those made ahead) get it now; older days are read
-- from their rollups, and an index on each would cost an upgrade a build
-- over all the stored events.
-------------------------------------------------------------------------------

DO $$
DECLARE
    part text;
BEGIN
    FOR part IN
        SELECT c.relname
        FROM pg_catalog.pg_inherits i
        JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'analytics.usage_events'::regclass
          AND c.relname ~ '^usage_events_p[0-9]{8}$'
          AND pg_catalog.to_date(substr(c.relname, 15), 'YYYYMMDD') >= (pg_catalog.now() AT TIME ZONE 'UTC')::date - 1
        ORDER BY 1
    LOOP
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON analytics.%I (tenant_id, ingested_at)',
                       part || '_tenant_ingested_idx', part);
    END LOOP;
END
$$;
