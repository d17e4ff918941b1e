-------------------------------------------------------------------------------
-- functions/84_api_metrics.sql (layer 84, the HTTP layer of contract §6.5):
-- the analytics_api functions of custom metrics (typed twins in
-- functions/78_ops_metrics.sql).
--
-- Who (contract §6.1): a tenant token records and reads its own tenant's
-- metrics; free-tier tenants may record (writes are allowed) but reads
-- answer 403 ANALYTICS_NOT_AVAILABLE.  An operator token records platform
-- metrics and reads platform metrics, or one tenant's with "tenantId".
-- Errors: the §5 checks first (404 NOT_FOUND, 401, 403), then 403 FORBIDDEN
-- / 404 TENANT_NOT_FOUND (analytics.http_scope), then the parameters: 400
-- VALIDATION_ERROR naming the field, 404 METRIC_NOT_FOUND.  Re-runnable.
-------------------------------------------------------------------------------

-- The tenant a write is for: the caller's tenant (no free-tier check:
-- writes are allowed), or, for an operator token, the platform (NULL).
CREATE OR REPLACE FUNCTION analytics.metrics_http_writer()
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record;
BEGIN
    s := analytics.http_write_scope(NULL);
    IF s.operator THEN
        RETURN NULL;
    END IF;
    IF s.tenant_id = analytics.metric_platform_id() THEN
        PERFORM analytics.http_error(403, 'FORBIDDEN', 'This tenant id is reserved for platform metrics');
    END IF;
    RETURN s.tenant_id;
END
$$;
COMMENT ON FUNCTION analytics.metrics_http_writer() IS
    'The tenant a custom metric write is for: a tenant token''s own tenant (free tier included: writes are allowed), NULL (the platform) for an operator token; 404 NOT_FOUND when disabled, 401 UNAUTHORIZED without a trusted claim naming a registered tenant';

-- The tenant a read is for: http_scope's (its checks and errors); an
-- operator without tenantId reads the platform's metrics (NULL).
CREATE OR REPLACE FUNCTION analytics.metrics_http_reader("tenantId" text)
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record;
BEGIN
    IF length("tenantId") > 64 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'tenantId must be a uuid');
    END IF;
    s := analytics.http_scope("tenantId");
    IF s.tenant_id = analytics.metric_platform_id() THEN
        PERFORM analytics.http_error(403, 'FORBIDDEN', 'This tenant id is reserved for platform metrics');
    END IF;
    RETURN s.tenant_id;
END
$$;
COMMENT ON FUNCTION analytics.metrics_http_reader(text) IS
    'The tenant a custom metric read is for, after analytics.http_scope''s checks: the tenant token''s own, or for an operator the tenant tenantId names, else NULL (the platform''s metrics)';

-- Raise a typed function's error the way the API answers it: 22023 is 400
-- VALIDATION_ERROR (its message names the field), P0002 404 METRIC_NOT_FOUND.
CREATE OR REPLACE FUNCTION analytics.metrics_http_raise(state text, msg text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF state = 'P0002' THEN
        PERFORM analytics.http_error(404, 'METRIC_NOT_FOUND', msg);
    END IF;
    PERFORM analytics.http_error(400, 'VALIDATION_ERROR', msg);
END
$$;
COMMENT ON FUNCTION analytics.metrics_http_raise(text, text) IS
    'Raises the API error of a custom metric function''s error: SQLSTATE P0002 as 404 METRIC_NOT_FOUND, else 400 VALIDATION_ERROR, with its message';

-- The hours parameter: 1 to 8760 (default 24).
CREATE OR REPLACE FUNCTION analytics.metrics_http_hours(hours text)
RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF hours IS NULL THEN
        RETURN 24;
    END IF;
    IF hours ~ '^[0-9]{1,4}$' AND hours::integer BETWEEN 1 AND 8760 THEN
        RETURN hours::integer;
    END IF;
    PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'hours must be an integer from 1 to 8760');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.metrics_http_hours(text) IS
    'Parses the hours parameter of a custom metric read: an integer from 1 to 8760 (NULL: 24), else 400 VALIDATION_ERROR';

-- The tags parameter of a read (JSON text), or 400 VALIDATION_ERROR.
CREATE OR REPLACE FUNCTION analytics.metrics_http_tags(tags text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j jsonb;
BEGIN
    IF tags IS NULL OR tags = '' THEN
        RETURN NULL;
    END IF;
    IF length(tags) > 8192 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'tags must be at most 8192 characters');
    END IF;
    BEGIN
        j := tags::jsonb;
    EXCEPTION WHEN others THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'tags must be a JSON object of string values');
    END;
    RETURN j;
END
$$;
COMMENT ON FUNCTION analytics.metrics_http_tags(text) IS
    'Parses the tags filter of a custom metric read (a JSON object as text; empty: none), else 400 VALIDATION_ERROR';

CREATE OR REPLACE FUNCTION analytics_api.record_metric(metric_name text DEFAULT NULL, value text DEFAULT NULL,
                                                       metric_type text DEFAULT 'gauge', unit text DEFAULT NULL,
                                                       tags jsonb DEFAULT NULL, "timestamp" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.metrics_http_writer();
    v     jsonb;
    n     integer;
    state text;
    msg   text;
BEGIN
    -- A number's text is a JSON number; anything else stays a string (and
    -- is refused as not a finite number): NaN, Infinity, true, "abc".
    v := CASE WHEN length(value) <= 64 AND value ~ '^\s*-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\s*$'
              THEN value::jsonb ELSE to_jsonb(value) END;
    BEGIN
        n := analytics.metric_store(coalesce(tid, analytics.metric_platform_id()),
                                    jsonb_build_array(jsonb_build_object('metric_name', metric_name, 'value', v,
                                                                         'metric_type', coalesce(metric_type, 'gauge'),
                                                                         'unit', unit, 'tags', tags,
                                                                         'timestamp', "timestamp")), false);
    EXCEPTION WHEN invalid_parameter_value THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        PERFORM analytics.metrics_http_raise(state, msg);
    END;
    RETURN jsonb_build_object('recorded', n, 'metric_name', metric_name, 'metric_type', coalesce(metric_type, 'gauge'),
                              'tenant_id', tid);
END
$$;
COMMENT ON FUNCTION analytics_api.record_metric(text, text, text, text, jsonb, text) IS
$$Records one custom metric point

POST /api/v1/analytics/metrics/record (POST /rpc/record_metric) with body {"metric_name", "value", "metric_type" (counter, gauge (default), histogram, timer), "unit", "tags" {string: string}, "timestamp" (RFC 3339, default now)}: for the caller's tenant (free tier included), or the platform for an operator. A name keeps its first type. Returns {recorded, metric_name, metric_type, tenant_id}. Errors: 400 VALIDATION_ERROR naming the field (another type than the name's, NaN/Infinity/not a number, bad tags), 401, 404 NOT_FOUND (contract §6.5).$$;

CREATE OR REPLACE FUNCTION analytics_api.record_metrics(metrics jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.metrics_http_writer();
    n     integer;
    state text;
    msg   text;
BEGIN
    BEGIN
        n := analytics.metric_store(coalesce(tid, analytics.metric_platform_id()), metrics, true);
    EXCEPTION WHEN invalid_parameter_value THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        PERFORM analytics.metrics_http_raise(state, msg);
    END;
    RETURN jsonb_build_object('recorded', n, 'tenant_id', tid);
END
$$;
COMMENT ON FUNCTION analytics_api.record_metrics(jsonb) IS
$$Records a batch of custom metric points, all or nothing

POST /rpc/record_metrics with body {"metrics": [{metric_name, value, metric_type, unit, tags, timestamp}, ...]} (1 to 1000 points). Returns {recorded, tenant_id}. Errors: 400 VALIDATION_ERROR naming metrics[i].field (nothing is stored), 401, 404 NOT_FOUND (contract §6.5).$$;

CREATE OR REPLACE FUNCTION analytics_api.metric_statistics(metric_name text DEFAULT NULL, hours text DEFAULT '24',
                                                           tags text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid    uuid := analytics.metrics_http_reader("tenantId");
    h      integer := analytics.metrics_http_hours(hours);
    filter jsonb := analytics.metrics_http_tags(tags);
    now_ts timestamptz := now();
    state  text;
    msg    text;
BEGIN
    BEGIN
        RETURN analytics.metric_statistics(tid, metric_name, now_ts - make_interval(hours => h),
                                           now_ts + interval '1 microsecond', filter);
    EXCEPTION WHEN invalid_parameter_value OR no_data_found THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        PERFORM analytics.metrics_http_raise(state, msg);
    END;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_api.metric_statistics(text, text, text, text) IS
$$Statistics of a custom metric

GET /api/v1/analytics/metrics/{name}/statistics?hours=24&tags={"k":"v"} (hours 1 to 8760): points of the last hours matching every given tag. Returns seed 002's {metric_name, count, avg, min, max, p50, p95, p99} plus sum, metric_type, unit, tenant_id, tags, period and, for counters, rate_per_second; percentiles within 1%. Operators: platform metrics, or a tenant's with tenantId. Errors: 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 METRIC_NOT_FOUND, 404 TENANT_NOT_FOUND, 404 NOT_FOUND (contract §6.5).$$;

CREATE OR REPLACE FUNCTION analytics_api.metric_time_series(metric_name text DEFAULT NULL, hours text DEFAULT '24',
                                                            bucket text DEFAULT NULL, tags text DEFAULT NULL,
                                                            "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid    uuid := analytics.metrics_http_reader("tenantId");
    h      integer := analytics.metrics_http_hours(hours);
    filter jsonb := analytics.metrics_http_tags(tags);
    now_ts timestamptz := now();
    state  text;
    msg    text;
BEGIN
    IF length(bucket) > 8 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'bucket must be one of 1m, 5m, 15m, 1h, 6h, 1d');
    END IF;
    BEGIN
        RETURN analytics.metric_time_series(tid, metric_name, now_ts - make_interval(hours => h),
                                            now_ts + interval '1 microsecond', bucket, filter);
    EXCEPTION WHEN invalid_parameter_value OR no_data_found THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        PERFORM analytics.metrics_http_raise(state, msg);
    END;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_api.metric_time_series(text, text, text, text, text) IS
$$Time series of a custom metric

GET /api/v1/analytics/metrics/{name}/time-series?hours=24&bucket=5m&tags={"k":"v"}: bucket 1m, 5m, 15m, 1h, 6h or 1d (UTC-aligned; default the smallest giving at most 500 buckets; at most 2000). Returns {metric_name, metric_type, unit, tenant_id, tags, period, bucket, data [{timestamp, count, sum, avg, min, max, p50, p95, p99}]}, every bucket oldest first, an empty one with count 0 and nulls. Errors as metric_statistics (contract §6.5).$$;

CREATE OR REPLACE FUNCTION analytics_api.metric_names("tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.metrics_http_reader("tenantId");
BEGIN
    RETURN analytics.metric_names(tid);
END
$$;
COMMENT ON FUNCTION analytics_api.metric_names(text) IS
$$Custom metric names

GET /api/v1/analytics/metrics: the caller's tenant's metric names (operators: the platform's, or a tenant's with tenantId). Returns {tenant_id, metrics [{metric_name, metric_type, unit, first_seen}]} by name. Errors: 401, 403, 404 (contract §6.5).$$;

CREATE OR REPLACE FUNCTION analytics_api.cleanup_old_metrics(days text DEFAULT '90')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope(NULL, true);
BEGIN
    IF days IS NULL OR days !~ '^[0-9]{1,4}$' OR days::integer NOT BETWEEN 1 AND 3650 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'days must be an integer from 1 to 3650');
    END IF;
    RETURN analytics.cleanup_old_metrics(days::integer, greatest(days::integer, 400));
END
$$;
COMMENT ON FUNCTION analytics_api.cleanup_old_metrics(text) IS
$$Custom metric retention (operators only)

POST /rpc/cleanup_old_metrics with body {"days": 90}: removes raw points older than days (1 to 3650) once rolled up, and hourly rollups older than max(days, 400) days. Returns what it removed. Errors: 400 VALIDATION_ERROR, 401, 403 FORBIDDEN for a tenant, 404 NOT_FOUND (contract §6.5).$$;
