-------------------------------------------------------------------------------
-- functions/46_custom_metrics.sql (layer 46, custom metrics of contract
-- §6.5): storage, hourly rollup, reads and retention of custom metric
-- points.  Re-runnable.
--
--   metric_platform_id()            the tenant_id of platform metrics (nil uuid)
--   ensure_metric_partitions(a, b)  day partitions of metric_points
--   maintain_metric_partitions()    premake, drain the default partition
--   metric_parse_points(points, ...)  the fast path of metric_store (C)
--   metric_store(tenant, points, batch)  validate a batch of points, register
--                                   names, log rolled hours written again,
--                                   insert (all or nothing)
--   rollup_metric_hours()           fold closed and dirty hours into metric_hourly
--   read_metric_buckets(...)        count/sum/min/max/sketch per bucket of a
--                                   window: rolled hours from metric_hourly,
--                                   the rest from raw points
-- (retention, the job and its schedules: layer 78, which may use the
-- scheduling of layer 60)
--
-- Errors of bad input: SQLSTATE 22023 (invalid_parameter_value) with a
-- message that starts with the field's name (metrics[i].field for a batch);
-- an unknown metric: P0002 (no_data_found).  Layer 84 turns them into 400
-- VALIDATION_ERROR and 404 METRIC_NOT_FOUND.
--
-- Concurrency: writers hold the advisory lock analytics.metrics shared,
-- the rollup exclusive; a writer reads rolled_until under its lock and logs
-- the rolled hours it writes into, so a rolled, clean hour's rollup rows
-- hold exactly its points, and readers (one snapshot) never count a point
-- twice or miss one.  No triggers; no now() in DML on distributed tables.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.metric_platform_id()
RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;
COMMENT ON FUNCTION analytics.metric_platform_id() IS
    'The tenant_id under which platform (operator) custom metrics are stored: the nil uuid, so that tenant_id is never NULL (Citus distributes by it)';

-- The advisory lock of the metric rollup: shared for writers, exclusive
-- for the rollup and the cleanup.
CREATE OR REPLACE FUNCTION analytics.lock_metrics(exclusive boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF exclusive THEN
        PERFORM pg_advisory_xact_lock(hashtext('analytics.metrics'), 0);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(hashtext('analytics.metrics'), 0);
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.lock_metrics(boolean) IS
    'Takes the transaction advisory lock of the custom metrics: shared for writers of points, exclusive for the metric rollup and cleanup';

-------------------------------------------------------------------------------
-- Partitions
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.metric_partition_name(day date)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT 'metric_points_p' || analytics.day_key($1) $$;
COMMENT ON FUNCTION analytics.metric_partition_name(date) IS 'Name of the metric_points partition that holds a UTC day';

-- Partitions of metric_points with the UTC day each holds.
CREATE OR REPLACE VIEW analytics.metric_partitions AS
SELECT c.oid::regclass AS partition,
       CASE WHEN c.relname ~ '^metric_points_p[0-9]{8}$'
            THEN to_date(substr(c.relname, 16), 'YYYYMMDD') END AS day
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'analytics.metric_points'::regclass;
COMMENT ON VIEW analytics.metric_partitions IS 'Partitions of metric_points, the UTC day each holds (NULL for the default partition)';

-- Create the day partitions of [from_day, to_day] that do not exist yet,
-- moving rows of those days out of the default partition (the pattern of
-- analytics.ensure_partitions).
CREATE OR REPLACE FUNCTION analytics.ensure_metric_partitions(from_day date, to_day date)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d       date;
    part    text;
    lo      text;
    hi      text;
    created integer := 0;
BEGIN
    IF from_day > to_day THEN
        RAISE EXCEPTION 'from_day % is after to_day %', from_day, to_day USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_day - from_day > 400 THEN
        RAISE EXCEPTION 'refusing to create more than 401 metric partitions at once'
            USING ERRCODE = 'program_limit_exceeded', HINT = 'Create them in smaller ranges.';
    END IF;
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    FOR d IN SELECT g::date FROM generate_series(from_day, to_day, interval '1 day') g LOOP
        part := analytics.metric_partition_name(d);
        CONTINUE WHEN to_regclass('analytics.' || quote_ident(part)) IS NOT NULL;
        PERFORM pg_advisory_xact_lock(hashtext('analytics.ensure_metric_partitions'));
        CONTINUE WHEN to_regclass('analytics.' || quote_ident(part)) IS NOT NULL;
        LOCK TABLE analytics.metric_points_default IN ACCESS EXCLUSIVE MODE;
        lo := to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00';
        hi := to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00';
        EXECUTE format('CREATE TABLE analytics.%I (LIKE analytics.metric_points INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        EXECUTE format('ALTER TABLE analytics.%I ADD CONSTRAINT %I CHECK (ts >= %L AND ts < %L)',
                       part, part || '_range', lo, hi);
        EXECUTE format('WITH moved AS (DELETE FROM analytics.metric_points_default WHERE ts >= %L AND ts < %L RETURNING *) '
                       'INSERT INTO analytics.%I SELECT * FROM moved', lo, hi, part);
        EXECUTE format('ALTER TABLE analytics.metric_points ATTACH PARTITION analytics.%I FOR VALUES FROM (%L) TO (%L)',
                       part, lo, hi);
        PERFORM analytics.copy_row_security('analytics.metric_points', format('analytics.%I', part)::regclass);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.ensure_metric_partitions(date, date) IS
    'Creates the missing day partitions of metric_points for a range of UTC days, moving their rows out of the default partition; returns how many it created';

-- Premake today's and the next two days' partitions and drain the default
-- partition of the days the raw points still cover.
CREATE OR REPLACE FUNCTION analytics.maintain_metric_partitions()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today   date := analytics.utc_today();
    d       date;
    created integer;
BEGIN
    created := analytics.ensure_metric_partitions(today, today + 2);
    FOR d IN SELECT DISTINCT (p.ts AT TIME ZONE 'UTC')::date FROM analytics.metric_points_default p
             WHERE p.ts >= (today - 60)::timestamp AT TIME ZONE 'UTC'
               AND p.ts < (today + 3)::timestamp AT TIME ZONE 'UTC'
             ORDER BY 1 LOOP
        created := created + analytics.ensure_metric_partitions(d, d);
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.maintain_metric_partitions() IS
    'Creates metric_points day partitions for today and the next two days and moves rows of the last 60 days out of the default partition; returns how many partitions it created';

-------------------------------------------------------------------------------
-- Validation and storage
-------------------------------------------------------------------------------

-- A tag set or tag filter: a flat JSON object of at most 16 string values,
-- keys ^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$, values at most 256 characters.
-- NULL is the empty set.  Raises 22023 naming the field.
CREATE OR REPLACE FUNCTION analytics.metric_check_tags(tags jsonb, field text)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
BEGIN
    IF tags IS NULL OR jsonb_typeof(tags) = 'null' THEN
        RETURN '{}'::jsonb;
    END IF;
    IF jsonb_typeof(tags) <> 'object' THEN
        RAISE EXCEPTION '% must be a JSON object of string values', field USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (SELECT count(*) FROM jsonb_object_keys(tags)) > 16 THEN
        RAISE EXCEPTION '% may have at most 16 tags', field USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k IN SELECT e.key FROM jsonb_each(tags) e
             WHERE e.key !~ '^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$' OR jsonb_typeof(e.value) <> 'string'
                OR length(e.value #>> '{}') > 256
             ORDER BY 1 LIMIT 1 LOOP
        IF k !~ '^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$' THEN
            RAISE EXCEPTION '% has an invalid tag name "%" (letters, digits, _ . : / -, at most 64, not starting with a digit)',
                field, left(k, 64) USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RAISE EXCEPTION '%.% must be a string of at most 256 characters', field, k USING ERRCODE = 'invalid_parameter_value';
    END LOOP;
    RETURN tags;
END
$$;
COMMENT ON FUNCTION analytics.metric_check_tags(jsonb, text) IS
    'Checks a metric tag set or filter (a flat JSON object of at most 16 string values of at most 256 characters, tag names of at most 64 characters); NULL is {}; raises 22023 naming the field';

-- A metric name: ^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$.
CREATE OR REPLACE FUNCTION analytics.metric_check_name(metric_name text, field text DEFAULT 'metric_name')
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF metric_name IS NULL THEN
        RAISE EXCEPTION '% is required', field USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF length(metric_name) > 128 OR metric_name !~ '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$' THEN
        RAISE EXCEPTION '% must be 1 to 128 letters, digits, _ . : - not starting with a digit', field
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN metric_name;
END
$$;
COMMENT ON FUNCTION analytics.metric_check_name(text, text) IS
    'Checks a custom metric name (1 to 128 of A-Z a-z 0-9 _ . : -, not starting with a digit or punctuation); raises 22023 naming the field';

-- The fast path of metric_store (src/metric.c): the columns of a batch of
-- points when every point keeps metric_store's rules (a given timestamp in
-- [lo, hi], an absent one now_ts), else NULL.  Never raises for bad input.
-- tags_keys: md5(tags::text)::uuid; new_*: each name once, in the order of
-- its first point (new_first, 0-based), with that point's type and unit.
CREATE OR REPLACE FUNCTION analytics.metric_parse_points(points jsonb, now_ts timestamptz, lo timestamptz, hi timestamptz,
    OUT names text[], OUT vals double precision[], OUT types text[], OUT units text[], OUT tags jsonb[], OUT tags_keys uuid[],
    OUT ts timestamptz[], OUT new_names text[], OUT new_types text[], OUT new_units text[], OUT new_first integer[])
RETURNS record
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'analytics_metric_parse_points';
COMMENT ON FUNCTION analytics.metric_parse_points(jsonb, timestamptz, timestamptz, timestamptz) IS
    'The fast path of metric_store: the columns (names, values, types, units, tags, md5 keys of the tags, instants; and each name once with the type, unit and 0-based index of its first point) of a JSON array of 1 to 1000 metric points when every point keeps metric_store''s rules (one type per name, a given timestamp within [lo, hi], an absent one now_ts), else NULL; never raises for bad input';

-- Store a batch of points (a JSON array of 1 to 1000 objects with the keys
-- metric_name, value, metric_type, unit, tags, timestamp) for a tenant (the
-- platform: metric_platform_id()); all or nothing.  Returns the number of
-- points.  batch: field names in errors are metrics[i].field, else field.
CREATE OR REPLACE FUNCTION analytics.metric_store(tenant_id uuid, points jsonb, batch boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid        uuid := metric_store.tenant_id;
    now_ts     timestamptz := now();
    n          integer;
    i          integer;
    e          jsonb;
    pre        text;
    k          text;
    v_name     text[] := '{}';
    v_value    float8[] := '{}';
    v_type     text[] := '{}';
    v_unit     text[] := '{}';
    v_tags     jsonb[] := '{}';
    v_ts       timestamptz[] := '{}';
    nm         text;
    ty         text;
    un         text;
    tg         jsonb;
    t          timestamptz;
    num        numeric;
    st         record;
    existing   text;
    new_names  integer;
    stamp      timestamptz := now();
    clean      boolean;
    v_keys     uuid[];
    d_name     text[];
    d_type     text[];
    d_unit     text[];
    d_first    integer[];
BEGIN
    IF tid IS NULL THEN
        RAISE EXCEPTION 'tenant_id is required (analytics.metric_platform_id() for platform metrics)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF tid <> analytics.metric_platform_id()
       AND NOT EXISTS (SELECT 1 FROM analytics.tenants x WHERE x.tenant_id = tid) THEN
        RAISE EXCEPTION 'tenant % is not registered', tid USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF points IS NULL OR jsonb_typeof(points) <> 'array' THEN
        RAISE EXCEPTION 'metrics must be a JSON array of metric objects' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    n := jsonb_array_length(points);
    IF n < 1 OR n > 1000 THEN
        RAISE EXCEPTION 'metrics must hold 1 to 1000 points, not %', n USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.rolled_until, s.raw_from INTO st FROM analytics.metric_rollup_state s;

    -- The fast path (src/metric.c) reads every point by the rules below
    -- and gives the columns, or NULL when it cannot vouch for one (a rule
    -- broken, or a rare form it leaves to PostgreSQL); then the loop below
    -- checks point by point and raises the first error by name.
    SELECT p.names, p.vals, p.types, p.units, p.tags, p.tags_keys, p.ts, p.new_names, p.new_types, p.new_units, p.new_first
      INTO v_name, v_value, v_type, v_unit, v_tags, v_keys, v_ts, d_name, d_type, d_unit, d_first
    FROM analytics.metric_parse_points(points, now_ts, greatest(now_ts - interval '30 days', st.raw_from),
                                       now_ts + interval '5 minutes') p;
    clean := v_name IS NOT NULL;
    IF NOT clean THEN
        v_name := '{}'; v_value := '{}'; v_type := '{}'; v_unit := '{}'; v_tags := '{}'; v_ts := '{}';
    END IF;

    -- The slow path: point by point, raising the first error by its field
    -- (nothing to do when the fast path vouched for every point).
    FOR i IN 0 .. (CASE WHEN clean THEN -1 ELSE n - 1 END) LOOP
        e := points -> i;
        pre := CASE WHEN batch THEN format('metrics[%s].', i) ELSE '' END;
        IF jsonb_typeof(e) <> 'object' THEN
            RAISE EXCEPTION 'metrics[%] must be a JSON object', i USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT x INTO k FROM jsonb_object_keys(e) x
        WHERE x NOT IN ('metric_name', 'value', 'metric_type', 'unit', 'tags', 'timestamp') ORDER BY 1 LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION '% is not a field of a metric (metric_name, value, metric_type, unit, tags, timestamp)',
                pre || left(k, 64) USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- metric_name
        IF jsonb_typeof(e -> 'metric_name') IS DISTINCT FROM 'string' THEN
            RAISE EXCEPTION '%metric_name is required and must be a string', pre USING ERRCODE = 'invalid_parameter_value';
        END IF;
        nm := analytics.metric_check_name(e ->> 'metric_name', pre || 'metric_name');
        -- value: a finite JSON number within +-1e15
        IF jsonb_typeof(e -> 'value') IS DISTINCT FROM 'number' THEN
            RAISE EXCEPTION '%value is required and must be a finite number', pre USING ERRCODE = 'invalid_parameter_value';
        END IF;
        num := (e -> 'value')::numeric;
        IF abs(num) > 1e15 THEN
            RAISE EXCEPTION '%value must be between -1e15 and 1e15', pre USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- metric_type
        IF e -> 'metric_type' IS NULL OR jsonb_typeof(e -> 'metric_type') = 'null' THEN
            ty := 'gauge';
        ELSIF jsonb_typeof(e -> 'metric_type') <> 'string'
              OR (e ->> 'metric_type') NOT IN ('counter', 'gauge', 'histogram', 'timer') THEN
            RAISE EXCEPTION '%metric_type must be counter, gauge, histogram or timer', pre USING ERRCODE = 'invalid_parameter_value';
        ELSE
            ty := e ->> 'metric_type';
        END IF;
        IF ty IN ('counter', 'timer') AND num < 0 THEN
            RAISE EXCEPTION '%value must not be negative for a %', pre, ty USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- unit
        IF e -> 'unit' IS NULL OR jsonb_typeof(e -> 'unit') = 'null' THEN
            un := NULL;
        ELSIF jsonb_typeof(e -> 'unit') <> 'string' OR length(e ->> 'unit') NOT BETWEEN 1 AND 32 THEN
            RAISE EXCEPTION '%unit must be a string of 1 to 32 characters', pre USING ERRCODE = 'invalid_parameter_value';
        ELSE
            un := e ->> 'unit';
        END IF;
        -- tags
        tg := analytics.metric_check_tags(e -> 'tags', pre || 'tags');
        -- timestamp: RFC 3339 with its offset, within the last 30 days (and
        -- the raw points kept) and at most 5 minutes ahead
        IF e -> 'timestamp' IS NULL OR jsonb_typeof(e -> 'timestamp') = 'null' THEN
            t := now_ts;
        ELSE
            t := NULL;
            IF jsonb_typeof(e -> 'timestamp') = 'string' AND length(e ->> 'timestamp') <= 40
               AND (e ->> 'timestamp') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN
                BEGIN
                    t := (e ->> 'timestamp')::timestamptz;
                EXCEPTION WHEN others THEN
                    t := NULL;
                END;
            END IF;
            IF t IS NULL THEN
                RAISE EXCEPTION '%timestamp must be an RFC 3339 timestamp with its offset', pre USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF t < now_ts - interval '30 days' OR t < st.raw_from OR t > now_ts + interval '5 minutes' THEN
                RAISE EXCEPTION '%timestamp must be within the last 30 days (and the raw points kept) and at most 5 minutes ahead', pre
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        END IF;
        -- one type per name within the batch
        IF EXISTS (SELECT 1 FROM unnest(v_name, v_type) x(a, b) WHERE x.a = nm AND x.b <> ty) THEN
            RAISE EXCEPTION '%metric_type % conflicts with the type of % earlier in this batch', pre, ty, nm
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_name := v_name || nm;
        v_value := v_value || num::float8;
        v_type := v_type || ty;
        v_unit := v_unit || un;
        v_tags := v_tags || tg;
        v_ts := v_ts || t;
    END LOOP;

    IF NOT clean THEN
        -- the slow path's columns: the tag sets' keys, and each name once
        -- with the type and unit of its first point
        SELECT array_agg(md5(x.g::text)::uuid ORDER BY x.o) INTO v_keys FROM unnest(v_tags) WITH ORDINALITY x(g, o);
        SELECT array_agg(y.a ORDER BY y.o), array_agg(y.b ORDER BY y.o), array_agg(y.c ORDER BY y.o), array_agg((y.o - 1)::integer ORDER BY y.o)
          INTO d_name, d_type, d_unit, d_first
        FROM (SELECT DISTINCT ON (x.a) x.a, x.b, x.c, x.o
              FROM unnest(v_name, v_type, v_unit) WITH ORDINALITY x(a, b, c, o) ORDER BY x.a, x.o) y;
    END IF;

    -- Writers hold the lock shared: the rollup (exclusive) sees every point
    -- committed, and rolled_until cannot move under this writer.
    PERFORM analytics.lock_metrics(false);
    SELECT s.rolled_until, s.raw_from INTO st FROM analytics.metric_rollup_state s;
    IF EXISTS (SELECT 1 FROM unnest(v_ts) x WHERE x < st.raw_from) THEN
        RAISE EXCEPTION 'timestamp is before the raw points kept (%)', st.raw_from USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- The registry: a name keeps its first type.
    SELECT count(*) INTO new_names
    FROM unnest(d_name) x(a)
    WHERE NOT EXISTS (SELECT 1 FROM analytics.custom_metrics c WHERE c.tenant_id = tid AND c.metric_name = x.a);
    IF new_names > 0 THEN
        IF (SELECT count(*) FROM analytics.custom_metrics c WHERE c.tenant_id = tid) + new_names > 10000 THEN
            RAISE EXCEPTION 'metric_name: a tenant may have at most 10000 metric names' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        INSERT INTO analytics.custom_metrics AS c (tenant_id, metric_name, metric_type, unit, created_at)
        SELECT tid, x.a, x.b, x.c, stamp
        FROM unnest(d_name, d_type, d_unit) x(a, b, c)
        ON CONFLICT ON CONSTRAINT custom_metrics_pkey DO NOTHING;
    END IF;
    -- (every point of a name has its type: the first point of the first
    -- name of another type is the first point at fault)
    FOR nm, ty, existing, i IN
        SELECT x.a, x.b, c.metric_type, x.f
        FROM unnest(d_name, d_type, d_first) x(a, b, f)
        JOIN analytics.custom_metrics c ON c.tenant_id = tid AND c.metric_name = x.a
        WHERE c.metric_type <> x.b ORDER BY x.f LIMIT 1 LOOP
        RAISE EXCEPTION '%metric_type: % is a %, not a %',
            CASE WHEN batch THEN format('metrics[%s].', i) ELSE '' END, nm, existing, ty
            USING ERRCODE = 'invalid_parameter_value', HINT = 'A metric keeps the type it was first recorded with.';
    END LOOP;

    -- Rolled hours written again: read raw until the next rollup.
    INSERT INTO analytics.metric_dirty_hours AS d (tenant_id, hour, marked_at)
    SELECT DISTINCT tid, date_trunc('hour', x.t), stamp FROM unnest(v_ts) x(t)
    WHERE x.t < st.rolled_until
    ON CONFLICT ON CONSTRAINT metric_dirty_hours_pkey DO NOTHING;

    INSERT INTO analytics.metric_points (tenant_id, metric_name, ts, value, tags, tags_key, ingested_at)
    -- (target-list unnest runs in lockstep with no tuplestore, unlike a
    -- function scan in FROM, as record_events does)
    SELECT tid, unnest(v_name), unnest(v_ts), unnest(v_value), unnest(v_tags), unnest(v_keys), stamp;
    RETURN n;
END
$$;
COMMENT ON FUNCTION analytics.metric_store(uuid, jsonb, boolean) IS
    'Stores a JSON array of 1 to 1000 custom metric points ({metric_name, value, metric_type, unit, tags, timestamp}) for a tenant (metric_platform_id(): the platform), all or nothing: registers new names, refuses a type other than the name''s first, logs rolled hours written again; bad input raises 22023 naming the field (metrics[i].field when batch); returns the number of points';

-------------------------------------------------------------------------------
-- Rollup
-------------------------------------------------------------------------------

-- Fold the closed hours since the last rollup, and every dirty hour, into
-- metric_hourly (each hour recomputed whole from its raw points: running it
-- twice, or twice at once, gives the same rows: the sum and the sketch fold
-- the points in the order of their values, not in the order a plan happens
-- to read them, which would change the last bits of a double precision
-- sum and the sketch's text).  Returns the hours and rows written.
CREATE OR REPLACE FUNCTION analytics.rollup_metric_hours(OUT hours integer, OUT rows_written bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stamp   timestamptz := now();
    r_old   timestamptz;
    r_new   timestamptz := date_trunc('hour', now());
    n       bigint;
BEGIN
    hours := 0;
    rows_written := 0;
    PERFORM analytics.lock_metrics(true);
    SELECT s.rolled_until INTO r_old FROM analytics.metric_rollup_state s;
    r_new := greatest(r_old, r_new);

    -- Dirty hours (of every tenant; no writer runs under this lock):
    -- recomputed from their raw points.
    SELECT count(*) INTO n FROM analytics.metric_dirty_hours;
    hours := hours + n;
    IF n > 0 THEN
        DELETE FROM analytics.metric_hourly h
        WHERE (h.tenant_id, h.hour) IN (SELECT d.tenant_id, d.hour FROM analytics.metric_dirty_hours d);
        INSERT INTO analytics.metric_hourly (tenant_id, metric_name, tags_key, tags, hour, count, sum, min, max, sketch, rolled_at)
        SELECT p.tenant_id, p.metric_name, p.tags_key, min(p.tags::text)::jsonb, date_trunc('hour', p.ts),
               count(*), sum(p.value ORDER BY p.value), min(p.value), max(p.value),
               analytics.qsketch_agg(p.value ORDER BY p.value), stamp
        FROM analytics.metric_points p
        WHERE (p.tenant_id, date_trunc('hour', p.ts)) IN (SELECT d.tenant_id, d.hour FROM analytics.metric_dirty_hours d)
        GROUP BY p.tenant_id, p.metric_name, p.tags_key, date_trunc('hour', p.ts);
        GET DIAGNOSTICS n = ROW_COUNT;
        rows_written := rows_written + n;
        DELETE FROM analytics.metric_dirty_hours;
    END IF;

    -- The hours closed since the last rollup.
    IF r_new > r_old THEN
        DELETE FROM analytics.metric_hourly h WHERE h.hour >= r_old AND h.hour < r_new;
        INSERT INTO analytics.metric_hourly (tenant_id, metric_name, tags_key, tags, hour, count, sum, min, max, sketch, rolled_at)
        SELECT p.tenant_id, p.metric_name, p.tags_key, min(p.tags::text)::jsonb, date_trunc('hour', p.ts),
               count(*), sum(p.value ORDER BY p.value), min(p.value), max(p.value),
               analytics.qsketch_agg(p.value ORDER BY p.value), stamp
        FROM analytics.metric_points p
        WHERE p.ts >= r_old AND p.ts < r_new
        GROUP BY p.tenant_id, p.metric_name, p.tags_key, date_trunc('hour', p.ts);
        GET DIAGNOSTICS n = ROW_COUNT;
        rows_written := rows_written + n;
        hours := hours + (extract(epoch FROM r_new - r_old) / 3600)::integer;
    END IF;
    UPDATE analytics.metric_rollup_state s SET rolled_until = r_new, rolled_at = stamp;
END
$$;
COMMENT ON FUNCTION analytics.rollup_metric_hours() IS
    'Folds custom metric points into metric_hourly: every hour closed since the last run and every rolled hour written again (metric_dirty_hours), each recomputed whole from its raw points under the exclusive metrics lock (idempotent); returns the hours and rows written';

-------------------------------------------------------------------------------
-- Reading
-------------------------------------------------------------------------------

-- The points of one metric (tenant_id: the owner, metric_platform_id() for
-- the platform) matching every tag of tags, in the window [from, to), per
-- bucket (date_bin of width from 2000-01-01 UTC; width NULL: one bucket
-- labelled from): n, sum, min, max and a qsketch.  Rolled, clean hours
-- wholly inside the window come from metric_hourly (for a width under an
-- hour, only hours whose raw points are gone), everything else from raw
-- points; before raw_from the window starts at its hour.
CREATE OR REPLACE FUNCTION analytics.read_metric_buckets(tenant_id uuid, metric_name text, tags jsonb,
                                                         "from" timestamptz, "to" timestamptz, width interval,
                                                         OUT bucket timestamptz, OUT n bigint, OUT total float8,
                                                         OUT lo float8, OUT hi float8, OUT sketch analytics.qsketch)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid       uuid := read_metric_buckets.tenant_id;
    nm        text := read_metric_buckets.metric_name;
    filter    jsonb := coalesce(read_metric_buckets.tags, '{}');
    f         timestamptz := read_metric_buckets."from";
    t         timestamptz := read_metric_buckets."to";
    w         interval := read_metric_buckets.width;
    origin    constant timestamptz := '2000-01-01 00:00:00+00';
    r_until   timestamptz;
    r_from    timestamptz;
    use_hours boolean := width IS NULL OR width >= interval '1 hour';
    hlo       timestamptz;
    hi2       timestamptz;
BEGIN
    SELECT s.rolled_until, s.raw_from INTO r_until, r_from FROM analytics.metric_rollup_state s;
    IF f < r_from THEN
        f := date_trunc('hour', f);
    END IF;
    -- The rolled hours H taken from metric_hourly are those with H >= f,
    -- H + 1 hour <= t and <= r_until, not dirty, and (sub-hour buckets) H <
    -- r_from: every other point is read raw.  As instants: the points
    -- before hlo (the first whole hour at or after f) and from hi2 on (the
    -- first hour that is not whole in [f, t), not rolled, or, for sub-hour
    -- buckets, at or after r_from), and those of dirty hours in between.
    hlo := date_trunc('hour', f);
    IF hlo < f THEN
        hlo := hlo + interval '1 hour';
    END IF;
    hi2 := least(date_trunc('hour', t), date_trunc('hour', coalesce(r_until, '-infinity')));
    IF NOT use_hours AND r_from IS NOT NULL THEN
        hi2 := least(hi2, date_trunc('hour', r_from)
                          + CASE WHEN date_trunc('hour', r_from) < r_from THEN interval '1 hour' ELSE interval '0' END);
    END IF;
    IF hi2 < hlo THEN
        hi2 := hlo;
    END IF;
    RETURN QUERY
    WITH dirty AS MATERIALIZED (
        SELECT d.hour FROM analytics.metric_dirty_hours d WHERE d.tenant_id = tid AND d.hour >= f AND d.hour < t),
    src AS (
        SELECT CASE WHEN w IS NULL THEN f ELSE date_bin(w, h.hour, origin) END AS b,
               sum(h.count)::bigint AS c, sum(h.sum) AS s, min(h.min) AS mn, max(h.max) AS mx,
               analytics.qsketch_merge(h.sketch) AS sk
        FROM analytics.metric_hourly h
        WHERE h.tenant_id = tid AND h.metric_name = nm AND h.tags @> filter
          AND h.hour >= f AND h.hour + interval '1 hour' <= t AND h.hour + interval '1 hour' <= r_until
          AND (use_hours OR h.hour < r_from)
          AND h.hour NOT IN (SELECT dirty.hour FROM dirty)
        GROUP BY 1
        UNION ALL
        -- The raw points of the hours the branch above does not take: as
        -- ranges of ts the index (tenant_id, metric_name, ts) reads (the
        -- partial first hour, from hi2 on), plus the dirty hours between.
        SELECT CASE WHEN w IS NULL THEN f ELSE date_bin(w, p.ts, origin) END AS b,
               count(*)::bigint, sum(p.value), min(p.value), max(p.value), analytics.qsketch_agg(p.value)
        FROM analytics.metric_points p
        WHERE p.tenant_id = tid AND p.metric_name = nm AND p.tags @> filter AND p.ts >= f AND p.ts < t
          AND (p.ts < hlo OR p.ts >= hi2)
        GROUP BY 1
        UNION ALL
        SELECT CASE WHEN w IS NULL THEN f ELSE date_bin(w, p.ts, origin) END AS b,
               count(*)::bigint, sum(p.value), min(p.value), max(p.value), analytics.qsketch_agg(p.value)
        FROM dirty
        JOIN analytics.metric_points p
          ON p.tenant_id = tid AND p.metric_name = nm AND p.ts >= dirty.hour AND p.ts < dirty.hour + interval '1 hour'
        WHERE p.tags @> filter AND p.ts >= f AND p.ts < t AND p.ts >= hlo AND p.ts < hi2
        GROUP BY 1)
    SELECT src.b, sum(src.c)::bigint, sum(src.s), min(src.mn), max(src.mx), analytics.qsketch_merge(src.sk)
    FROM src GROUP BY src.b ORDER BY src.b;
END
$$;
COMMENT ON FUNCTION analytics.read_metric_buckets(uuid, text, jsonb, timestamptz, timestamptz, interval) IS
    'Count, sum, min, max and a qsketch of a custom metric''s points matching every given tag in [from, to), per bucket of width (date_bin from 2000-01-01 UTC; NULL: one bucket labelled from): rolled hours from metric_hourly, the rest from raw points';

