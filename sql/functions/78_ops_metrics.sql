-------------------------------------------------------------------------------
-- functions/78_ops_metrics.sql (layer 78, reports of contract §6.5): custom
-- metrics for SQL callers, the typed twins of layer 84's API functions.
--
--   record_metric(tenant, metric_name, value, metric_type, unit, tags, "timestamp")
--   record_metrics(tenant, metrics)            a batch, all or nothing
--   metric_statistics(tenant, metric_name, from, to, tags)
--   metric_time_series(tenant, metric_name, from, to, bucket, tags)
--   metric_names(tenant)
--   cleanup_old_metrics(days, rollup_days)     retention; and the pg_cron jobs
--
-- tenant NULL means the platform's metrics (stored under
-- analytics.metric_platform_id()).  No caller checks here.  Bad input
-- raises 22023 with a message that names the field, an unknown metric
-- P0002 (layer 84: 400 VALIDATION_ERROR, 404 METRIC_NOT_FOUND).  Answers use
-- seed 002's snake_case keys.  Re-runnable.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.record_metrics(tenant_id uuid, metrics jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    n := analytics.metric_store(coalesce(record_metrics.tenant_id, analytics.metric_platform_id()), metrics, true);
    RETURN jsonb_build_object('recorded', n);
END
$$;
COMMENT ON FUNCTION analytics.record_metrics(uuid, jsonb) IS
    'Records a batch of custom metric points (a JSON array of 1 to 1000 {metric_name, value, metric_type, unit, tags, timestamp}) for a tenant (NULL: the platform), all or nothing; returns {"recorded": n}; bad input raises 22023 naming metrics[i].field';

CREATE OR REPLACE FUNCTION analytics.record_metric(tenant_id uuid, metric_name text, value float8,
                                                   metric_type text DEFAULT 'gauge', unit text DEFAULT NULL,
                                                   tags jsonb DEFAULT NULL, "timestamp" timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ts  timestamptz := coalesce(record_metric."timestamp", now());
    pt  jsonb;
BEGIN
    pt := jsonb_build_object('metric_name', record_metric.metric_name,
                             -- (NaN and infinities become strings: refused as not a finite number)
                             'value', to_jsonb(record_metric.value),
                             'metric_type', coalesce(record_metric.metric_type, 'gauge'),
                             'unit', record_metric.unit, 'tags', record_metric.tags,
                             'timestamp', CASE WHEN isfinite(ts) THEN analytics.utc_text(ts) ELSE ts::text END);
    PERFORM analytics.metric_store(coalesce(record_metric.tenant_id, analytics.metric_platform_id()),
                                   jsonb_build_array(pt), false);
    RETURN jsonb_build_object('recorded', 1, 'metric_name', record_metric.metric_name,
                              'metric_type', coalesce(record_metric.metric_type, 'gauge'),
                              'value', record_metric.value, 'timestamp', analytics.utc_text(ts));
END
$$;
COMMENT ON FUNCTION analytics.record_metric(uuid, text, float8, text, text, jsonb, timestamptz) IS
    'Records one custom metric point for a tenant (NULL: the platform): metric_type counter (an increment), gauge (default), histogram or timer (ms); tags a flat object of strings; timestamp default now (at most 30 days back, 5 minutes ahead); a name keeps its first type; bad input raises 22023 naming the field';

-- The registry row of a metric, or P0002.
CREATE OR REPLACE FUNCTION analytics.metric_lookup(tenant_id uuid, metric_name text)
RETURNS analytics.custom_metrics
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m analytics.custom_metrics;
BEGIN
    PERFORM analytics.metric_check_name(metric_name);
    SELECT c.* INTO m FROM analytics.custom_metrics c
    WHERE c.tenant_id = coalesce(metric_lookup.tenant_id, analytics.metric_platform_id())
      AND c.metric_name = metric_lookup.metric_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no metric named %', metric_name USING ERRCODE = 'no_data_found';
    END IF;
    RETURN m;
END
$$;
COMMENT ON FUNCTION analytics.metric_lookup(uuid, text) IS
    'The registry row of a tenant''s (NULL: the platform''s) custom metric; raises 22023 for a malformed name, P0002 for an unknown one';

-- Window checks of the read functions: from <= to, at most 366 days.
CREATE OR REPLACE FUNCTION analytics.metric_check_window("from" timestamptz, "to" timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" OR NOT isfinite("from") OR NOT isfinite("to") THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are finite, non-NULL and from <= to.';
    END IF;
    IF "to" - "from" > interval '366 days' THEN
        RAISE EXCEPTION 'the window may span at most 366 days' USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.metric_check_window(timestamptz, timestamptz) IS
    'Checks the window of a custom metric read: finite, from <= to, at most 366 days; else 22023';

-- Seed 002's statistics of one group of points.
CREATE OR REPLACE FUNCTION analytics.metric_stats_json(n bigint, total float8, lo float8, hi float8, sketch analytics.qsketch)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q float8[];
BEGIN
    IF coalesce(n, 0) = 0 THEN
        RETURN jsonb_build_object('count', 0, 'sum', NULL, 'avg', NULL, 'min', NULL, 'max', NULL,
                                  'p50', NULL, 'p95', NULL, 'p99', NULL);
    END IF;
    q := analytics.quantiles(sketch, ARRAY[0.5, 0.95, 0.99]);
    RETURN jsonb_build_object('count', n, 'sum', total, 'avg', total / n, 'min', lo, 'max', hi,
                              'p50', q[1], 'p95', q[2], 'p99', q[3]);
END
$$;
COMMENT ON FUNCTION analytics.metric_stats_json(bigint, float8, float8, float8, analytics.qsketch) IS
    'Seed 002''s statistics {count, sum, avg, min, max, p50, p95, p99} of a group of points (percentiles from the qsketch, within 1%); count 0 and nulls when empty';

CREATE OR REPLACE FUNCTION analytics.metric_statistics(tenant_id uuid, metric_name text, "from" timestamptz, "to" timestamptz,
                                                       tags jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    m      analytics.custom_metrics;
    filter jsonb := analytics.metric_check_tags(tags, 'tags');
    r      record;
    result jsonb;
BEGIN
    m := analytics.metric_lookup(metric_statistics.tenant_id, metric_statistics.metric_name);
    PERFORM analytics.metric_check_window("from", "to");
    SELECT * INTO r FROM analytics.read_metric_buckets(m.tenant_id, m.metric_name, filter, "from", "to", NULL);
    result := jsonb_build_object('metric_name', m.metric_name, 'metric_type', m.metric_type, 'unit', m.unit,
                                 'tenant_id', nullif(m.tenant_id, analytics.metric_platform_id()),
                                 'tags', filter, 'period', analytics.window_json("from", "to"))
              || analytics.metric_stats_json(r.n, r.total, r.lo, r.hi, r.sketch);
    IF m.metric_type = 'counter' THEN
        result := result || jsonb_build_object('rate_per_second',
            CASE WHEN "to" > "from" THEN coalesce(r.total, 0) / extract(epoch FROM "to" - "from")::float8 ELSE NULL END);
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.metric_statistics(uuid, text, timestamptz, timestamptz, jsonb) IS
    'Statistics of a tenant''s (NULL: the platform''s) custom metric over [from, to), points matching every given tag: seed 002''s {metric_name, count, avg, min, max, p50, p95, p99} plus sum, metric_type, unit, tenant_id, tags, period, and rate_per_second (sum / window seconds) for counters';

-- A bucket text as an interval, or NULL when not one of the six.
CREATE OR REPLACE FUNCTION analytics.metric_bucket_width(bucket text)
RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN $1 = '1m' THEN interval '1 minute' WHEN $1 = '5m' THEN interval '5 minutes'
                  WHEN $1 = '15m' THEN interval '15 minutes' WHEN $1 = '1h' THEN interval '1 hour'
                  WHEN $1 = '6h' THEN interval '6 hours' WHEN $1 = '1d' THEN interval '1 day' END $$;
COMMENT ON FUNCTION analytics.metric_bucket_width(text) IS
    'The width of a time-series bucket: 1m, 5m, 15m, 1h, 6h or 1d; NULL for anything else';

CREATE OR REPLACE FUNCTION analytics.metric_time_series(tenant_id uuid, metric_name text, "from" timestamptz, "to" timestamptz,
                                                        bucket text DEFAULT NULL, tags jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    m       analytics.custom_metrics;
    filter  jsonb := analytics.metric_check_tags(tags, 'tags');
    origin  constant timestamptz := '2000-01-01 00:00:00+00';
    b       text := metric_time_series.bucket;
    w       interval;
    first_b timestamptz;
    last_b  timestamptz;
    nb      bigint;
    data    jsonb;
BEGIN
    m := analytics.metric_lookup(metric_time_series.tenant_id, metric_time_series.metric_name);
    PERFORM analytics.metric_check_window("from", "to");
    IF b IS NULL THEN
        -- the smallest bucket giving at most 500 buckets
        SELECT x.b INTO b FROM unnest(ARRAY['1m', '5m', '15m', '1h', '6h', '1d']) WITH ORDINALITY x(b, o)
        WHERE (extract(epoch FROM date_bin(analytics.metric_bucket_width(x.b), "to" - interval '1 microsecond', origin)
                                - date_bin(analytics.metric_bucket_width(x.b), "from", origin))
               / extract(epoch FROM analytics.metric_bucket_width(x.b)))::bigint + 1 <= 500
        ORDER BY x.o LIMIT 1;
        b := coalesce(b, '1d');
    END IF;
    w := analytics.metric_bucket_width(b);
    IF w IS NULL THEN
        RAISE EXCEPTION 'bucket must be one of 1m, 5m, 15m, 1h, 6h, 1d' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    first_b := date_bin(w, "from", origin);
    last_b := date_bin(w, greatest("from", "to" - interval '1 microsecond'), origin);
    nb := (extract(epoch FROM last_b - first_b) / extract(epoch FROM w))::bigint + 1;
    IF nb > 2000 THEN
        RAISE EXCEPTION 'bucket % gives % buckets over this window; at most 2000 (choose a larger bucket)', b, nb
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH r AS MATERIALIZED (
        SELECT * FROM analytics.read_metric_buckets(m.tenant_id, m.metric_name, filter, "from", "to", w))
    SELECT jsonb_agg(jsonb_build_object('timestamp', analytics.utc_text(g.b))
                     || analytics.metric_stats_json(r.n, r.total, r.lo, r.hi, r.sketch) ORDER BY g.b)
    INTO data
    FROM generate_series(first_b, last_b, w) g(b)
    LEFT JOIN r ON r.bucket = g.b;
    RETURN jsonb_build_object('metric_name', m.metric_name, 'metric_type', m.metric_type, 'unit', m.unit,
                              'tenant_id', nullif(m.tenant_id, analytics.metric_platform_id()),
                              'tags', filter, 'period', analytics.window_json("from", "to"),
                              'bucket', b, 'data', coalesce(data, '[]'::jsonb));
END
$$;
COMMENT ON FUNCTION analytics.metric_time_series(uuid, text, timestamptz, timestamptz, text, jsonb) IS
    'A custom metric''s points over [from, to) per bucket (1m, 5m, 15m, 1h, 6h, 1d, aligned on UTC; default the smallest giving at most 500 buckets; at most 2000): every bucket oldest first as {timestamp, count, sum, avg, min, max, p50, p95, p99}, an empty one with count 0 and nulls';

CREATE OR REPLACE FUNCTION analytics.metric_names(tenant_id uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid    uuid := coalesce(metric_names.tenant_id, analytics.metric_platform_id());
    result jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_object('metric_name', c.metric_name, 'metric_type', c.metric_type,
                                                 'unit', c.unit, 'first_seen', analytics.utc_text(c.created_at))
                              ORDER BY c.metric_name), '[]'::jsonb)
    INTO result
    FROM analytics.custom_metrics c WHERE c.tenant_id = tid;
    RETURN jsonb_build_object('tenant_id', nullif(tid, analytics.metric_platform_id()), 'metrics', result);
END
$$;
COMMENT ON FUNCTION analytics.metric_names(uuid) IS
    'The custom metric names of a tenant (NULL: the platform) by name: {tenant_id, metrics [{metric_name, metric_type, unit, first_seen}]}';

-------------------------------------------------------------------------------
-- Retention and jobs (the custom metrics of layer 46)
-------------------------------------------------------------------------------

-- Remove raw points older than days (whole UTC days: partitions dropped)
-- once their hours are rolled, and hourly rollups older than rollup_days.
CREATE OR REPLACE FUNCTION analytics.cleanup_old_metrics(days integer DEFAULT 90, rollup_days integer DEFAULT 400)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t0        timestamptz := clock_timestamp();
    cut_day   date;
    cut       timestamptz;
    r_cut     timestamptz;
    p         record;
    dropped   integer := 0;
    points    bigint := 0;
    rollups   bigint := 0;
    n         bigint;
BEGIN
    IF days IS NULL OR days < 1 OR days > 3650 THEN
        RAISE EXCEPTION 'days must be an integer from 1 to 3650' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF rollup_days IS NULL OR rollup_days < days OR rollup_days > 3650 THEN
        RAISE EXCEPTION 'rollup_days must be an integer from days to 3650' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cut_day := analytics.utc_today() - days;
    cut := cut_day::timestamp AT TIME ZONE 'UTC';
    r_cut := date_trunc('hour', now()) - make_interval(days => rollup_days);
    -- Roll up first (exclusive lock, held to the end): every hour before
    -- the cut is then in metric_hourly, and no writer runs meanwhile.
    PERFORM analytics.rollup_metric_hours();
    FOR p IN SELECT mp.partition FROM analytics.metric_partitions mp WHERE mp.day < cut_day ORDER BY mp.day LOOP
        EXECUTE format('SELECT count(*) FROM %s', p.partition) INTO n;
        EXECUTE format('ALTER TABLE analytics.metric_points DETACH PARTITION %s', p.partition);
        EXECUTE format('DROP TABLE %s', p.partition);
        dropped := dropped + 1;
        points := points + n;
    END LOOP;
    DELETE FROM analytics.metric_points_default d WHERE d.ts < cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    points := points + n;
    UPDATE analytics.metric_rollup_state s SET raw_from = greatest(s.raw_from, cut);
    DELETE FROM analytics.metric_hourly h WHERE h.hour < r_cut;
    GET DIAGNOSTICS rollups = ROW_COUNT;
    RETURN jsonb_build_object('days', days, 'rollup_days', rollup_days,
                              'raw_before', analytics.utc_text(cut), 'rollups_before', analytics.utc_text(r_cut),
                              'dropped_partitions', dropped, 'deleted_points', points, 'deleted_rollups', rollups,
                              'duration_ms', round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 3));
END
$$;
COMMENT ON FUNCTION analytics.cleanup_old_metrics(integer, integer) IS
    'Custom metric retention: rolls up, then removes raw points of UTC days older than days (1 to 3650; their partitions dropped) and hourly rollups older than rollup_days (days to 3650, default 400: a year of statistics); returns what it removed';

-- The minute job: premake partitions, roll up.
CREATE OR REPLACE PROCEDURE analytics.metrics_rollup_job()
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM analytics.maintain_metric_partitions();
    COMMIT;
    PERFORM analytics.rollup_metric_hours();
    COMMIT;
END
$$;
COMMENT ON PROCEDURE analytics.metrics_rollup_job() IS
    'The custom metrics job (every minute): premakes metric_points partitions, then folds closed and rewritten hours into metric_hourly';

CREATE OR REPLACE FUNCTION analytics.schedule_metrics_rollup(schedule text DEFAULT '* * * * *')
RETURNS bigint
LANGUAGE sql VOLATILE STRICT
AS $$ SELECT analytics.schedule_job('analytics-metrics-rollup', schedule, 'CALL analytics.metrics_rollup_job()') $$;
COMMENT ON FUNCTION analytics.schedule_metrics_rollup(text) IS
    'Registers the custom metrics rollup job with pg_cron (job name analytics-metrics-rollup, default every minute); calling it again updates the job; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_metrics_rollup()
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$ SELECT analytics.unschedule_job('analytics-metrics-rollup') $$;
COMMENT ON FUNCTION analytics.unschedule_metrics_rollup() IS 'Removes the custom metrics rollup job; false when it was not scheduled';

CREATE OR REPLACE FUNCTION analytics.schedule_metrics_cleanup(schedule text DEFAULT '45 1 * * *', days integer DEFAULT 90,
                                                              rollup_days integer DEFAULT 400)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF days < 1 OR days > 3650 OR rollup_days < days OR rollup_days > 3650 THEN
        RAISE EXCEPTION 'days must be from 1 to 3650 and rollup_days from days to 3650' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN analytics.schedule_job('analytics-metrics-cleanup', schedule,
                                  format('SELECT analytics.cleanup_old_metrics(%s, %s)', days, rollup_days));
END
$$;
COMMENT ON FUNCTION analytics.schedule_metrics_cleanup(text, integer, integer) IS
    'Registers the custom metrics retention job with pg_cron (job name analytics-metrics-cleanup, default 01:45 UTC, raw points 90 days, hourly rollups 400 days); calling it again updates the job; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_metrics_cleanup()
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$ SELECT analytics.unschedule_job('analytics-metrics-cleanup') $$;
COMMENT ON FUNCTION analytics.unschedule_metrics_cleanup() IS 'Removes the custom metrics retention job; false when it was not scheduled';
