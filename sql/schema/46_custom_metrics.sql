-------------------------------------------------------------------------------
-- schema/46_custom_metrics.sql (layer 46, custom metrics of contract §6.5):
-- the registry of metric names, the raw points (UTC day partitions), their
-- hourly rollups, the log of rolled hours written again, and the rollup's
-- watermarks.  Run once, at CREATE EXTENSION (and, for an updated database,
-- by sql/updates/0.4.0--0.5.0/20_custom_metrics.sql).
--
-- Vocabulary: a metric belongs to a tenant, or to the platform (the
-- operators' metrics), stored under the nil uuid
-- 00000000-0000-0000-0000-000000000000 (analytics.metric_platform_id()):
-- tenant_id is never NULL, so the tables distribute by tenant_id on Citus.
-- An hour is "rolled" when it is before metric_rollup_state.rolled_until
-- and not in metric_dirty_hours: its metric_hourly rows then hold exactly
-- its points.  Raw points before metric_rollup_state.raw_from are gone
-- (analytics.cleanup_old_metrics); their hours live on in metric_hourly.
-------------------------------------------------------------------------------

-- Metric names: a name keeps the type (and unit) it was first recorded with.
CREATE TABLE analytics.custom_metrics (
    tenant_id   uuid NOT NULL,
    metric_name text NOT NULL
                CONSTRAINT custom_metrics_metric_name_check CHECK (metric_name ~ '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$'),
    metric_type text NOT NULL
                CONSTRAINT custom_metrics_metric_type_check CHECK (metric_type IN ('counter', 'gauge', 'histogram', 'timer')),
    unit        text
                CONSTRAINT custom_metrics_unit_check CHECK (length(unit) BETWEEN 1 AND 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT custom_metrics_pkey PRIMARY KEY (tenant_id, metric_name)
);
COMMENT ON TABLE analytics.custom_metrics IS
    'Custom metric names of a tenant (tenant_id = the nil uuid: platform metrics): the type (counter, gauge, histogram, timer) and unit of the first point, and when it was first seen';

-- Raw points, partitioned by UTC day (metric_points_pYYYYMMDD, and a
-- default partition for days without one).
CREATE TABLE analytics.metric_points (
    tenant_id   uuid NOT NULL,
    metric_name text NOT NULL,
    ts          timestamptz NOT NULL
                CONSTRAINT metric_points_ts_check CHECK (ts > '-infinity' AND ts < 'infinity'),
    -- (NaN sorts above every number: the upper bound refuses it too)
    value       double precision NOT NULL
                CONSTRAINT metric_points_value_check CHECK (value >= -1e15 AND value <= 1e15),
    tags        jsonb NOT NULL DEFAULT '{}'
                CONSTRAINT metric_points_tags_check CHECK (jsonb_typeof(tags) = 'object' AND octet_length(tags::text) <= 8192),
    -- md5 of the canonical text of tags: the tag set's key in the rollups
    tags_key    uuid NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (ts);
CREATE INDEX metric_points_metric_ts_idx ON analytics.metric_points (tenant_id, metric_name, ts);
COMMENT ON TABLE analytics.metric_points IS
    'Raw custom metric points (value, tags), partitioned by UTC day (metric_points_pYYYYMMDD, default partition metric_points_default); written by record_metric(s) only, which log rolled hours written again';

CREATE TABLE analytics.metric_points_default PARTITION OF analytics.metric_points DEFAULT;
COMMENT ON TABLE analytics.metric_points_default IS
    'Metric points of days that had no partition yet; analytics.maintain_metric_partitions() moves them into day partitions';
SELECT pg_catalog.pg_extension_config_dump('analytics.metric_points_default', '');

-- Hourly rollups per (tenant, metric, tag set, hour).
CREATE TABLE analytics.metric_hourly (
    tenant_id   uuid NOT NULL,
    metric_name text NOT NULL,
    tags_key    uuid NOT NULL,
    tags        jsonb NOT NULL,
    hour        timestamptz NOT NULL,
    count       bigint NOT NULL CONSTRAINT metric_hourly_count_check CHECK (count > 0),
    sum         double precision NOT NULL,
    min         double precision NOT NULL,
    max         double precision NOT NULL,
    sketch      analytics.qsketch NOT NULL,
    rolled_at   timestamptz NOT NULL,
    CONSTRAINT metric_hourly_key UNIQUE (tenant_id, metric_name, hour, tags_key)
);
CREATE INDEX metric_hourly_hour_idx ON analytics.metric_hourly (hour);
COMMENT ON TABLE analytics.metric_hourly IS
    'Hourly rollups of custom metric points per tenant, metric and tag set: count, sum, min, max and a qsketch of the values (percentiles within 1%)';
SELECT pg_catalog.pg_extension_config_dump('analytics.metric_hourly', '');

-- Rolled hours that got points since their rollup (record_metric logs them
-- in the same transaction); the next rollup recomputes them.
CREATE TABLE analytics.metric_dirty_hours (
    tenant_id  uuid NOT NULL,
    hour       timestamptz NOT NULL,
    marked_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT metric_dirty_hours_pkey PRIMARY KEY (tenant_id, hour)
);
COMMENT ON TABLE analytics.metric_dirty_hours IS
    'Rolled hours of a tenant with points written since their rollup: read raw until the next metric rollup recomputes them';
SELECT pg_catalog.pg_extension_config_dump('analytics.metric_dirty_hours', '');

-- The metric rollup's watermarks (one row).
CREATE TABLE analytics.metric_rollup_state (
    id            boolean PRIMARY KEY DEFAULT true CONSTRAINT metric_rollup_state_one_row CHECK (id),
    -- every hour before it is rolled (except the dirty ones)
    rolled_until  timestamptz NOT NULL,
    -- raw points before it are gone (cleanup_old_metrics); their hours are rolled
    raw_from      timestamptz NOT NULL DEFAULT '-infinity',
    rolled_at     timestamptz
);
COMMENT ON TABLE analytics.metric_rollup_state IS
    'The custom metric rollup''s watermarks: rolled_until (every hour before it is in metric_hourly, dirty hours aside) and raw_from (raw points before it were removed by cleanup_old_metrics)';
INSERT INTO analytics.metric_rollup_state (id, rolled_until) VALUES (true, date_trunc('hour', now()));
SELECT pg_catalog.pg_extension_config_dump('analytics.metric_rollup_state', '');
