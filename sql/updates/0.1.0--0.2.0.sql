-------------------------------------------------------------------------------
-- updates/0.1.0--0.2.0.sql: the hand-written part of the upgrade from 0.1.0
-- to 0.2.0.  The Makefile appends every sql/functions/ piece, which
-- re-creates the functions, views, grants and policies; this part changes
-- the tables and types and drops what 0.2.0 no longer has.  make test
-- checks that an upgraded database has the schema of a fresh install and
-- keeps every row.
-------------------------------------------------------------------------------

\echo Use "ALTER EXTENSION analytics UPDATE TO '0.2.0'" to load this file. \quit

-- No triggers any more (Citus cannot run triggers that write other tables
-- from a shard): record_events checks and logs itself, a foreign key checks
-- tenants, the nightly job finds days that INSERT or COPY changed.
DROP TRIGGER usage_events_check ON analytics.usage_events;
DROP TRIGGER usage_events_invalidate_update ON analytics.usage_events;
DROP TRIGGER usage_events_invalidate_delete ON analytics.usage_events;

-- Policies depend on functions dropped below; functions/90 re-creates them.
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT pol.polname, pol.polrelid::regclass AS tbl FROM pg_catalog.pg_policy pol
             JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
             WHERE c.relnamespace = 'analytics'::regnamespace LOOP
        EXECUTE format('DROP POLICY %I ON %s', p.polname, p.tbl);
    END LOOP;
END
$$;

-- Every SQL and PL/pgSQL function and procedure of 0.1.0: sql/functions/
-- re-creates those that 0.2.0 keeps (names, signatures and return types
-- changed with the re-layering).  C functions and aggregates stay.
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure::text AS sig, p.prokind
             FROM pg_catalog.pg_proc p
             JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
                                        AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
             JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'analytics'
             JOIN pg_catalog.pg_language l ON l.oid = p.prolang
             WHERE l.lanname IN ('sql', 'plpgsql') AND p.prokind IN ('f', 'p') LOOP
        -- (CASCADE: a RETURN-body function depends on those it calls, which
        -- go in the same loop; IF EXISTS: they may have gone already)
        EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE WHEN f.prokind = 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, f.sig);
    END LOOP;
END
$$;

-- The readers return tables now.
DROP TYPE analytics.api_raw_group;
DROP TYPE analytics.api_day;

-- The log of changed days belongs to ingestion (layer 10).
ALTER TABLE analytics.rollup_invalidations RENAME TO changed_days;
ALTER TABLE analytics.changed_days RENAME COLUMN first_seen TO changed_at;
ALTER INDEX analytics.rollup_invalidations_pkey RENAME TO changed_days_pkey;
COMMENT ON TABLE analytics.changed_days IS
    'Days with events written, updated or deleted since their last rollup; the next rollup recomputes them';

-- The watermark of each rolled day (what 0.1.0 rolled, it saw up to its
-- rollup's start).
ALTER TABLE analytics.rollup_days ADD COLUMN watermark timestamptz;
UPDATE analytics.rollup_days SET watermark = rolled_at;
ALTER TABLE analytics.rollup_days ALTER COLUMN watermark SET NOT NULL;
COMMENT ON TABLE analytics.rollup_days IS
    'Days rolled up: when, how many events, how many rollup rows the last run wrote, whether retention has dropped the raw events, and the watermark: every event with an earlier ingested_at was visible to the last rollup';

-- Token sums that cannot overflow.
ALTER TABLE analytics.usage_stats_daily
    ALTER COLUMN input_tokens TYPE numeric, ALTER COLUMN output_tokens TYPE numeric;
ALTER TABLE analytics.usage_stats_monthly
    ALTER COLUMN input_tokens TYPE numeric, ALTER COLUMN output_tokens TYPE numeric;

-- Every field of an event bounded.  Existing events beyond a bound make the
-- update fail (the constraint names the column): delete or fix them first.
DO $$
DECLARE
    c    text;
    part regclass;
BEGIN
    FOREACH c IN ARRAY ARRAY['usage_events_count_check', 'usage_events_input_tokens_check',
                             'usage_events_output_tokens_check', 'usage_events_latency_ms_check'] LOOP
        EXECUTE format('ALTER TABLE analytics.usage_events DROP CONSTRAINT %I', c);
        -- (partitions made by 0.1.0 kept local copies of the checks)
        FOR part IN SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i
                    WHERE i.inhparent = 'analytics.usage_events'::regclass LOOP
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', part, c);
        END LOOP;
    END LOOP;
END
$$;
ALTER TABLE analytics.usage_events
    ADD CONSTRAINT usage_events_count_check CHECK (count > 0 AND count <= 1000000),
    ADD CONSTRAINT usage_events_endpoint_check CHECK (length(endpoint) <= 1024),
    ADD CONSTRAINT usage_events_method_check CHECK (length(method) <= 16),
    ADD CONSTRAINT usage_events_tool_name_check CHECK (length(tool_name) <= 256),
    ADD CONSTRAINT usage_events_mcp_server_check CHECK (length(mcp_server) <= 256),
    ADD CONSTRAINT usage_events_model_check CHECK (length(model) <= 256),
    ADD CONSTRAINT usage_events_input_tokens_check CHECK (input_tokens >= 0 AND input_tokens <= 1000000000000),
    ADD CONSTRAINT usage_events_output_tokens_check CHECK (output_tokens >= 0 AND output_tokens <= 1000000000000),
    ADD CONSTRAINT usage_events_latency_ms_check CHECK (latency_ms >= 0 AND latency_ms <= 1e10),
    ADD CONSTRAINT usage_events_user_id_check CHECK (length(user_id) <= 256),
    ADD CONSTRAINT usage_events_session_id_check CHECK (length(session_id) <= 256),
    ADD CONSTRAINT usage_events_workflow_id_check CHECK (length(workflow_id) <= 256),
    ADD CONSTRAINT usage_events_execution_id_check CHECK (length(execution_id) <= 256),
    ADD CONSTRAINT usage_events_error_code_check CHECK (length(error_code) <= 128),
    ADD CONSTRAINT usage_events_attributes_check CHECK (octet_length(attributes::text) <= 65536),
    ADD CONSTRAINT usage_events_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES analytics.tenants (tenant_id);
CREATE INDEX usage_events_ingested_at_idx ON analytics.usage_events USING brin (ingested_at);

