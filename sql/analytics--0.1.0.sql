-- 00_core.sql: schemas, registries, the event table and its partitions,
-- ingestion.  Pieces of sql/install/ are concatenated in name order into
-- sql/analytics--<version>.sql by the Makefile.

\echo Use "CREATE EXTENSION analytics" to load this file. \quit

-- Schema analytics is created by CREATE EXTENSION (control file: schema).
CREATE SCHEMA analytics_api;
COMMENT ON SCHEMA analytics_api IS 'Usage analytics API: the functions exposed over HTTP by PostgREST';

-------------------------------------------------------------------------------
-- Registries
-------------------------------------------------------------------------------

CREATE TABLE analytics.tenants (
    tenant_id  uuid PRIMARY KEY,
    name       text NOT NULL,
    tier       text NOT NULL DEFAULT 'free'
               CONSTRAINT tenants_tier_check CHECK (tier IN ('free', 'pro', 'enterprise')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.tenants IS 'Tenants (organisations); tier is free, pro or enterprise';

CREATE TABLE analytics.agents (
    agent_id   uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES analytics.tenants (tenant_id),
    name       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_tenant_id_idx ON analytics.agents (tenant_id);
COMMENT ON TABLE analytics.agents IS 'Agents of a tenant; an unknown agent_id in an event is registered on the fly with a NULL name';

SELECT pg_catalog.pg_extension_config_dump('analytics.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.agents', '');

CREATE FUNCTION analytics.upsert_tenant(tenant_id uuid, name text, tier text DEFAULT 'free')
RETURNS analytics.tenants
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result analytics.tenants;
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be null' USING ERRCODE = 'not_null_violation';
    END IF;
    IF name IS NULL THEN
        RAISE EXCEPTION 'tenant name must not be null' USING ERRCODE = 'not_null_violation';
    END IF;
    IF tier IS NULL OR tier NOT IN ('free', 'pro', 'enterprise') THEN
        RAISE EXCEPTION 'invalid tier "%"', tier
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The tier is one of free, pro, enterprise.';
    END IF;
    INSERT INTO analytics.tenants AS t (tenant_id, name, tier)
    VALUES (upsert_tenant.tenant_id, upsert_tenant.name, upsert_tenant.tier)
    ON CONFLICT ON CONSTRAINT tenants_pkey DO UPDATE
        SET name = excluded.name, tier = excluded.tier, updated_at = now()
    RETURNING t.* INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.upsert_tenant(uuid, text, text) IS
    'Registers a tenant, or updates its name and tier; returns the row';

CREATE FUNCTION analytics.upsert_agent(agent_id uuid, tenant_id uuid, name text)
RETURNS analytics.agents
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result analytics.agents;
BEGIN
    IF agent_id IS NULL OR tenant_id IS NULL THEN
        RAISE EXCEPTION 'agent_id and tenant_id must not be null' USING ERRCODE = 'not_null_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM analytics.tenants t WHERE t.tenant_id = upsert_agent.tenant_id) THEN
        RAISE EXCEPTION 'tenant % is not registered', tenant_id
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Register the tenant first with analytics.upsert_tenant().';
    END IF;
    INSERT INTO analytics.agents AS a (agent_id, tenant_id, name)
    VALUES (upsert_agent.agent_id, upsert_agent.tenant_id, upsert_agent.name)
    ON CONFLICT ON CONSTRAINT agents_pkey DO UPDATE
        SET name = excluded.name, updated_at = now()
        WHERE a.tenant_id = excluded.tenant_id
    RETURNING a.* INTO result;
    IF result IS NULL THEN
        RAISE EXCEPTION 'agent % belongs to another tenant', agent_id
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = 'An agent cannot move between tenants.';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.upsert_agent(uuid, uuid, text) IS
    'Registers an agent of a tenant, or renames it; an agent never moves to another tenant';

-------------------------------------------------------------------------------
-- Events: partitioned by UTC day
-------------------------------------------------------------------------------

CREATE TABLE analytics.usage_events (
    tenant_id     uuid NOT NULL,
    agent_id      uuid,
    occurred_at   timestamptz NOT NULL
                  CONSTRAINT usage_events_occurred_at_check CHECK (occurred_at > '-infinity' AND occurred_at < 'infinity'),
    event_type    text NOT NULL
                  CONSTRAINT usage_events_event_type_check CHECK (event_type IN
                      ('api_call', 'token_issuance', 'credential_rotation', 'tool_call',
                       'llm_call', 'agent_execution', 'workflow', 'session')),
    success       boolean NOT NULL DEFAULT true,
    count         integer NOT NULL DEFAULT 1
                  CONSTRAINT usage_events_count_check CHECK (count > 0),
    endpoint      text,
    method        text,
    status_code   smallint
                  CONSTRAINT usage_events_status_code_check CHECK (status_code BETWEEN 100 AND 599),
    tool_name     text,
    mcp_server    text,
    model         text,
    input_tokens  bigint
                  CONSTRAINT usage_events_input_tokens_check CHECK (input_tokens >= 0),
    output_tokens bigint
                  CONSTRAINT usage_events_output_tokens_check CHECK (output_tokens >= 0),
    -- NaN sorts above infinity in PostgreSQL, so "< infinity" also refuses NaN.
    latency_ms    double precision
                  CONSTRAINT usage_events_latency_ms_check CHECK (latency_ms >= 0 AND latency_ms < 'infinity'),
    user_id       text,
    session_id    text,
    workflow_id   text,
    execution_id  text,
    error_code    text,
    attributes    jsonb,
    ingested_at   timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (occurred_at);
COMMENT ON TABLE analytics.usage_events IS
    'Usage events, one row per event or pre-counted batch; partitioned by UTC day (usage_events_pYYYYMMDD), with a default partition that catches days not yet partitioned';

CREATE INDEX usage_events_tenant_time_idx ON analytics.usage_events (tenant_id, occurred_at);

CREATE TABLE analytics.usage_events_default PARTITION OF analytics.usage_events DEFAULT;
COMMENT ON TABLE analytics.usage_events_default IS
    'Events for days that had no partition yet; analytics.maintain_partitions() moves them into day partitions';
SELECT pg_catalog.pg_extension_config_dump('analytics.usage_events_default', '');

-- The name of the partition for a UTC day.
CREATE FUNCTION analytics.partition_name(day date)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN 'usage_events_p' || pg_catalog.to_char(day, 'YYYYMMDD');
COMMENT ON FUNCTION analytics.partition_name(date) IS 'Name of the usage_events partition that holds a UTC day';

-- Create the day partitions of [from_day, to_day] that do not exist yet,
-- moving any rows of those days out of the default partition.
CREATE FUNCTION analytics.ensure_partitions(from_day date, to_day date)
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
        RAISE EXCEPTION 'from_day % is after to_day %', from_day, to_day
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_day - from_day > 3660 THEN
        RAISE EXCEPTION 'refusing to create more than 3661 partitions at once'
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Create them in smaller ranges.';
    END IF;
    FOR d IN SELECT g::date FROM generate_series(from_day, to_day, interval '1 day') g LOOP
        part := analytics.partition_name(d);
        CONTINUE WHEN to_regclass('analytics.' || quote_ident(part)) IS NOT NULL;
        -- One creator at a time; the default partition is locked so that no
        -- row for the day can slip into it between the move and the attach.
        PERFORM pg_advisory_xact_lock(hashtext('analytics.ensure_partitions'));
        CONTINUE WHEN to_regclass('analytics.' || quote_ident(part)) IS NOT NULL;
        LOCK TABLE analytics.usage_events_default IN ACCESS EXCLUSIVE MODE;
        lo := to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00';
        hi := to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00';
        EXECUTE format('CREATE TABLE analytics.%I (LIKE analytics.usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        EXECUTE format('ALTER TABLE analytics.%I ADD CONSTRAINT %I CHECK (occurred_at >= %L AND occurred_at < %L)',
                       part, part || '_range', lo, hi);
        EXECUTE format('WITH moved AS (DELETE FROM analytics.usage_events_default WHERE occurred_at >= %L AND occurred_at < %L RETURNING *) '
                       'INSERT INTO analytics.%I SELECT * FROM moved', lo, hi, part);
        EXECUTE format('ALTER TABLE analytics.usage_events ATTACH PARTITION analytics.%I FOR VALUES FROM (%L) TO (%L)',
                       part, lo, hi);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.ensure_partitions(date, date) IS
    'Creates the missing day partitions of usage_events for a range of UTC days, moving their rows out of the default partition; returns how many it created';

-- Premake partitions ahead and drain the default partition.
CREATE FUNCTION analytics.maintain_partitions()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today   date := (now() AT TIME ZONE 'UTC')::date;
    ahead   integer := coalesce(current_setting('analytics.partition_premake_days', true)::integer, 7);
    d       date;
    created integer;
BEGIN
    created := analytics.ensure_partitions(today, today + ahead);
    FOR d IN SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default ORDER BY 1 LOOP
        created := created + analytics.ensure_partitions(d, d);
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.maintain_partitions() IS
    'Creates day partitions from today to analytics.partition_premake_days ahead and moves rows out of the default partition; returns how many partitions it created';

-- Partitions of usage_events with the UTC day each holds.
CREATE VIEW analytics.event_partitions AS
SELECT c.oid::regclass AS partition,
       -- (the test is inside the CASE: the planner may push a filter on day
       -- down to every row of pg_class)
       CASE WHEN c.relname ~ '^usage_events_p[0-9]{8}$'
            THEN to_date(substr(c.relname, 15), 'YYYYMMDD') END AS day,
       c.reltuples::bigint AS estimated_rows
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'analytics.usage_events'::regclass;
COMMENT ON VIEW analytics.event_partitions IS 'Partitions of usage_events, the UTC day each holds (NULL for the default partition)';

-------------------------------------------------------------------------------
-- Checks that hold for every way in (INSERT, COPY, record_events): the
-- tenant is registered, the agent belongs to the event's tenant, and unknown
-- agents are registered; the days touched go into the rollup invalidation
-- log (analytics.rollup_invalidations, 40_rollup.sql).  One statement-level
-- pass over the inserted rows, instead of a foreign-key probe per row.
-------------------------------------------------------------------------------

CREATE FUNCTION analytics.usage_events_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.tenant_id INTO bad
    FROM (SELECT DISTINCT e.tenant_id FROM new_events e) n
    WHERE NOT EXISTS (SELECT 1 FROM analytics.tenants t WHERE t.tenant_id = n.tenant_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'tenant % is not registered', bad.tenant_id
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Register the tenant first with analytics.upsert_tenant().';
    END IF;

    INSERT INTO analytics.agents (agent_id, tenant_id)
    SELECT DISTINCT ON (e.agent_id) e.agent_id, e.tenant_id
    FROM new_events e
    WHERE e.agent_id IS NOT NULL
    ORDER BY e.agent_id
    ON CONFLICT (agent_id) DO NOTHING;

    SELECT e.agent_id, e.tenant_id INTO bad
    FROM (SELECT DISTINCT n.agent_id, n.tenant_id FROM new_events n WHERE n.agent_id IS NOT NULL) e
    JOIN analytics.agents a ON a.agent_id = e.agent_id
    WHERE a.tenant_id <> e.tenant_id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'agent % does not belong to tenant %', bad.agent_id, bad.tenant_id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = 'An agent belongs to exactly one tenant.';
    END IF;

    -- A day whose raw events retention dropped cannot take new ones: its
    -- rollup could not be recomputed without them.
    SELECT r.day INTO bad
    FROM (SELECT DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date AS day FROM new_events e) d
    JOIN analytics.rollup_days r ON r.day = d.day AND r.raw_dropped
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'events of % are older than the raw retention window', bad.day
            USING ERRCODE = 'check_violation',
                  DETAIL = 'The raw events of that day were dropped after it was rolled up.',
                  HINT = 'analytics.raw_retention_days sets the window.';
    END IF;

    INSERT INTO analytics.rollup_invalidations (day)
    SELECT DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date FROM new_events e
    ON CONFLICT (day) DO NOTHING;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.usage_events_check() IS
    'Statement trigger of usage_events for INSERT and COPY: refuses unregistered tenants, agents of another tenant and days past raw retention, registers unknown agents, logs the days touched for the rollup';

CREATE TRIGGER usage_events_check
    AFTER INSERT ON analytics.usage_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.usage_events_check();

-------------------------------------------------------------------------------
-- Ingestion
-------------------------------------------------------------------------------

CREATE FUNCTION analytics.record_events(events jsonb)
RETURNS bigint
AS 'MODULE_PATHNAME', 'analytics_record_events'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION analytics.record_events(jsonb) IS
    'Stores a JSON array of events (objects with the usage_events column names), all or nothing; returns the number of rows stored. A bad element is refused with an error whose detail names its index and field';

-------------------------------------------------------------------------------
-- 10_qsketch.sql: the quantile sketch analytics.qsketch (DDSketch-style,
-- relative-error guarantee), its aggregates and accessors.  See docs/qsketch.md.
-------------------------------------------------------------------------------

CREATE TYPE analytics.qsketch;

CREATE FUNCTION analytics.qsketch_in(cstring)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_in(cstring) IS
    'Text input of analytics.qsketch (the JSON form that qsketch_out prints), validated in full';

CREATE FUNCTION analytics.qsketch_out(analytics.qsketch)
RETURNS cstring
AS 'MODULE_PATHNAME', 'qsketch_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_out(analytics.qsketch) IS
    'Text output of analytics.qsketch: {"version":1,"alpha":..,"count":..,"min":..,"max":..,"sum":..,"flags":..,"zero":..,"negative":{key:count},"positive":{key:count}}';

CREATE FUNCTION analytics.qsketch_recv(internal)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_recv(internal) IS
    'Binary input of analytics.qsketch (the compact stored form), validated in full';

CREATE FUNCTION analytics.qsketch_send(analytics.qsketch)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qsketch_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_send(analytics.qsketch) IS
    'Binary output of analytics.qsketch (the compact stored form)';

CREATE TYPE analytics.qsketch (
    INPUT = analytics.qsketch_in,
    OUTPUT = analytics.qsketch_out,
    RECEIVE = analytics.qsketch_recv,
    SEND = analytics.qsketch_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE analytics.qsketch IS
    'Mergeable quantile sketch with a relative-error guarantee (DDSketch-style logarithmic buckets)';

CREATE FUNCTION analytics.qsketch_from_bytes(bytes bytea)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_from_bytes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_from_bytes(bytea) IS
    'A qsketch from its binary form (what qsketch_to_bytes and binary COPY produce), validated like binary input';

CREATE FUNCTION analytics.qsketch_to_bytes(sketch analytics.qsketch)
RETURNS bytea
AS 'MODULE_PATHNAME', 'qsketch_to_bytes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_to_bytes(analytics.qsketch) IS
    'The binary form of a qsketch (the compact stored form, as binary COPY sends it)';

-- Aggregate support.  Not STRICT: they skip NULL values and start the state.
CREATE FUNCTION analytics.qsketch_trans(state analytics.qsketch, value float8)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans(analytics.qsketch, float8) IS
    'Transition function of qsketch_agg(float8): adds a value (NULL is skipped) at relative accuracy 0.01';

CREATE FUNCTION analytics.qsketch_trans(state analytics.qsketch, value float8, relative_accuracy float8)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans_accuracy'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans(analytics.qsketch, float8, float8) IS
    'Transition function of qsketch_agg(float8, float8): adds a value (NULL is skipped) at the given relative accuracy';

CREATE FUNCTION analytics.qsketch_combine(a analytics.qsketch, b analytics.qsketch)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_combine(analytics.qsketch, analytics.qsketch) IS
    'Merges two qsketches exactly (NULL is the empty sketch); combine function of the qsketch aggregates';

CREATE FUNCTION analytics.qsketch_final(state analytics.qsketch)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_final(analytics.qsketch) IS
    'Final function of the qsketch aggregates: the compact stored form of the state';

-- SSPACE: the working state of a day of realistic latencies (about 500
-- keys, a 512-slot array of 8-byte counts after a 128-byte header); see docs/qsketch.md.
CREATE AGGREGATE analytics.qsketch_agg(value float8) (
    SFUNC = analytics.qsketch_trans,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg(float8) IS
    'Quantile sketch of the non-NULL values, within 1% relative error; NULL when there are none';

CREATE AGGREGATE analytics.qsketch_agg(value float8, relative_accuracy float8) (
    SFUNC = analytics.qsketch_trans,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg(float8, float8) IS
    'Quantile sketch of the non-NULL values, within the given relative error (0.0001 to 0.5); NULL when there are none';

CREATE AGGREGATE analytics.qsketch_merge(sketch analytics.qsketch) (
    SFUNC = analytics.qsketch_combine,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_merge(analytics.qsketch) IS
    'Exact merge of stored qsketches (same relative accuracy): equals the sketch of all their values; NULL when there are none';

-- Accessors.
CREATE FUNCTION analytics.quantile(sketch analytics.qsketch, q float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_quantile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.quantile(analytics.qsketch, float8) IS
    'Estimate of percentile_disc(q): within the relative accuracy of the true value; exact min at q = 0 and max at q = 1';

CREATE FUNCTION analytics.quantiles(sketch analytics.qsketch, qs float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'qsketch_quantiles'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.quantiles(analytics.qsketch, float8[]) IS
    'analytics.quantile for each element of an array of quantiles (NULL elements give NULL)';

CREATE FUNCTION analytics.sketch_count(sketch analytics.qsketch)
RETURNS bigint
AS 'MODULE_PATHNAME', 'qsketch_count'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_count(analytics.qsketch) IS 'Number of values in the sketch (exact)';

CREATE FUNCTION analytics.sketch_min(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_min'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_min(analytics.qsketch) IS 'Smallest value in the sketch (exact)';

CREATE FUNCTION analytics.sketch_max(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_max'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_max(analytics.qsketch) IS 'Largest value in the sketch (exact)';

CREATE FUNCTION analytics.sketch_mean(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_mean'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_mean(analytics.qsketch) IS 'Mean of the values in the sketch (sum / count)';

CREATE FUNCTION analytics.sketch_sum(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_sum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_sum(analytics.qsketch) IS 'Sum of the values in the sketch (floating point)';

CREATE FUNCTION analytics.sketch_relative_accuracy(sketch analytics.qsketch)
RETURNS float8
AS 'MODULE_PATHNAME', 'qsketch_relative_accuracy'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_relative_accuracy(analytics.qsketch) IS 'The relative accuracy alpha the sketch was built with';

CREATE FUNCTION analytics.sketch_buckets(sketch analytics.qsketch)
RETURNS integer
AS 'MODULE_PATHNAME', 'qsketch_bucket_count'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.sketch_buckets(analytics.qsketch) IS
    'Number of non-empty buckets of the sketch, the zero bucket not included (at most 4096 per sign)';
-------------------------------------------------------------------------------
-- 20_heatmap.sql: the day-of-week x hour heatmap (src/heatmap.c).
-- A heatmap is a 7 x 24 matrix of bigint counts (dow 0 = Sunday, hour 0..23)
-- with their total; 1360 bytes, and also the state of its aggregates.
-------------------------------------------------------------------------------

CREATE TYPE analytics.heatmap;

CREATE FUNCTION analytics.heatmap_in(cstring)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_in(cstring) IS
    'Text input of a heatmap: {dow:hour=count,...}, validated';

CREATE FUNCTION analytics.heatmap_out(analytics.heatmap)
RETURNS cstring
AS 'MODULE_PATHNAME', 'heatmap_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_out(analytics.heatmap) IS
    'Text output of a heatmap: its non-zero cells as {dow:hour=count,...}';

CREATE FUNCTION analytics.heatmap_recv(internal)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_recv(internal) IS
    'Binary input of a heatmap (version, reserved, total, 168 counts), validated as untrusted input';

CREATE FUNCTION analytics.heatmap_send(analytics.heatmap)
RETURNS bytea
AS 'MODULE_PATHNAME', 'heatmap_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_send(analytics.heatmap) IS
    'Binary output of a heatmap';

CREATE TYPE analytics.heatmap (
    INPUT = analytics.heatmap_in,
    OUTPUT = analytics.heatmap_out,
    RECEIVE = analytics.heatmap_recv,
    SEND = analytics.heatmap_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE analytics.heatmap IS
    'Day-of-week x hour count matrix (7 x 24 bigint, dow 0 = Sunday); text form {dow:hour=count,...}';

-- Aggregate support.  Not STRICT: they handle NULL states and inputs.
CREATE FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz) IS
    'Transition function of heatmap_agg(ts): counts ts in its UTC cell';

CREATE FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz, bigint)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_trans_n'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz, bigint) IS
    'Transition function of heatmap_agg(ts, n): adds n >= 0 to the UTC cell of ts';

-- STABLE: the answer depends on the server's time zone database.
CREATE FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz, bigint, text)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_trans_tz'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_trans(analytics.heatmap, timestamptz, bigint, text) IS
    'Transition function of heatmap_agg(ts, n, tz): adds n >= 0 to the local-time cell of ts in time zone tz';

CREATE FUNCTION analytics.heatmap_combine(analytics.heatmap, analytics.heatmap)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_combine(analytics.heatmap, analytics.heatmap) IS
    'Adds two heatmaps (overflow-checked); combine function of the heatmap aggregates';

CREATE FUNCTION analytics.heatmap_final(analytics.heatmap)
RETURNS analytics.heatmap
AS 'MODULE_PATHNAME', 'heatmap_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_final(analytics.heatmap) IS
    'Final function of the heatmap aggregates: the empty matrix when there were no rows';

CREATE AGGREGATE analytics.heatmap_agg(timestamptz) (
    SFUNC = analytics.heatmap_trans,
    STYPE = analytics.heatmap,
    SSPACE = 1360,
    FINALFUNC = analytics.heatmap_final,
    COMBINEFUNC = analytics.heatmap_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.heatmap_agg(timestamptz) IS
    'Day-of-week x hour (UTC) heatmap of event times; NULLs skipped';

CREATE AGGREGATE analytics.heatmap_agg(timestamptz, bigint) (
    SFUNC = analytics.heatmap_trans,
    STYPE = analytics.heatmap,
    SSPACE = 1360,
    FINALFUNC = analytics.heatmap_final,
    COMBINEFUNC = analytics.heatmap_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.heatmap_agg(timestamptz, bigint) IS
    'Day-of-week x hour (UTC) heatmap, each row weighted by n >= 0 (e.g. usage_events.count); rows with a NULL ts or n skipped';

CREATE AGGREGATE analytics.heatmap_agg(timestamptz, bigint, text) (
    SFUNC = analytics.heatmap_trans,
    STYPE = analytics.heatmap,
    SSPACE = 1360,
    FINALFUNC = analytics.heatmap_final,
    COMBINEFUNC = analytics.heatmap_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.heatmap_agg(timestamptz, bigint, text) IS
    'Day-of-week x hour heatmap in local time of an IANA time zone (correct across DST changes), each row weighted by n >= 0';

CREATE AGGREGATE analytics.heatmap_merge(analytics.heatmap) (
    SFUNC = analytics.heatmap_combine,
    STYPE = analytics.heatmap,
    SSPACE = 1360,
    FINALFUNC = analytics.heatmap_final,
    COMBINEFUNC = analytics.heatmap_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.heatmap_merge(analytics.heatmap) IS
    'Sum of stored heatmaps (overflow-checked): equals heatmap_agg over the union of their rows';

-- Accessors.
CREATE FUNCTION analytics.heatmap_cells(matrix analytics.heatmap,
                                        OUT dow integer, OUT hour integer, OUT count bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'heatmap_cells'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 168;
COMMENT ON FUNCTION analytics.heatmap_cells(analytics.heatmap) IS
    'The non-zero cells of a heatmap as (dow, hour, count), ordered by dow then hour; dow 0 = Sunday';

CREATE FUNCTION analytics.heatmap_total(matrix analytics.heatmap)
RETURNS bigint
AS 'MODULE_PATHNAME', 'heatmap_total'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_total(analytics.heatmap) IS
    'Sum of all cells of a heatmap';

CREATE FUNCTION analytics.heatmap_cell(matrix analytics.heatmap, dow integer, hour integer)
RETURNS bigint
AS 'MODULE_PATHNAME', 'heatmap_cell'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_cell(analytics.heatmap, integer, integer) IS
    'Count of one cell of a heatmap (dow 0..6, 0 = Sunday; hour 0..23)';

CREATE FUNCTION analytics.heatmap_to_array(matrix analytics.heatmap)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'heatmap_to_array'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.heatmap_to_array(analytics.heatmap) IS
    'A heatmap as a bigint[7][24] array; element [dow + 1][hour + 1]';
-------------------------------------------------------------------------------
-- 30_trend.sql: daily counters, gap-filled trends and the usage summary
-- (src/trend.c).  A daycounts holds 1 to 3 bigint counters for every day of
-- a closed period [from, to]; 16 bytes + 8 per day and counter.
-------------------------------------------------------------------------------

CREATE TYPE analytics.daycounts;

CREATE FUNCTION analytics.daycounts_in(cstring)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_in(cstring) IS
    'Text input of a daycounts: [first,last]:{v,...} or [first,last]:{(v1,v2),...}, validated';

CREATE FUNCTION analytics.daycounts_out(analytics.daycounts)
RETURNS cstring
AS 'MODULE_PATHNAME', 'daycounts_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_out(analytics.daycounts) IS
    'Text output of a daycounts: its period and one value (or tuple of counters) per day';

CREATE FUNCTION analytics.daycounts_recv(internal)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_recv(internal) IS
    'Binary input of a daycounts, validated as untrusted input';

CREATE FUNCTION analytics.daycounts_send(analytics.daycounts)
RETURNS bytea
AS 'MODULE_PATHNAME', 'daycounts_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_send(analytics.daycounts) IS
    'Binary output of a daycounts';

CREATE TYPE analytics.daycounts (
    INPUT = analytics.daycounts_in,
    OUTPUT = analytics.daycounts_out,
    RECEIVE = analytics.daycounts_recv,
    SEND = analytics.daycounts_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE analytics.daycounts IS
    'Daily counters (1 to 3 bigint per day) over a closed period of days; state of daycounts_agg and usage_summary_agg';

-- Aggregate support.  Not STRICT: they create the state and skip NULLs.
CREATE FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, date, date) IS
    'Transition function of daycounts_agg(day, n, from, to)';

CREATE FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, date, date) IS
    'Transition function of daycounts_agg(day, n1, n2, from, to)';

CREATE FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_trans(analytics.daycounts, date, bigint, bigint, bigint, date, date) IS
    'Transition function of daycounts_agg(day, n1, n2, n3, from, to)';

CREATE FUNCTION analytics.daycounts_combine(analytics.daycounts, analytics.daycounts)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'daycounts_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_combine(analytics.daycounts, analytics.daycounts) IS
    'Adds two daycounts with the same counters (overflow-checked); different periods merge into their union';

-- SSPACE: a 30-day period (the API default).
CREATE AGGREGATE analytics.daycounts_agg(day date, n bigint, "from" date, "to" date) (
    SFUNC = analytics.daycounts_trans,
    STYPE = analytics.daycounts,
    SSPACE = 256,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_agg(date, bigint, date, date) IS
    'Daily sums of n >= 0 over the closed period [from, to]; days outside it are ignored, NULL day or n skipped; NULL over no rows';

CREATE AGGREGATE analytics.daycounts_agg(day date, n1 bigint, n2 bigint, "from" date, "to" date) (
    SFUNC = analytics.daycounts_trans,
    STYPE = analytics.daycounts,
    SSPACE = 496,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_agg(date, bigint, bigint, date, date) IS
    'Daily sums of two counters over the closed period [from, to] (e.g. token issuances and failures)';

CREATE AGGREGATE analytics.daycounts_agg(day date, n1 bigint, n2 bigint, n3 bigint, "from" date, "to" date) (
    SFUNC = analytics.daycounts_trans,
    STYPE = analytics.daycounts,
    SSPACE = 736,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_agg(date, bigint, bigint, bigint, date, date) IS
    'Daily sums of three counters over the closed period [from, to]';

CREATE AGGREGATE analytics.daycounts_merge(analytics.daycounts) (
    SFUNC = analytics.daycounts_combine,
    STYPE = analytics.daycounts,
    SSPACE = 256,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.daycounts_merge(analytics.daycounts) IS
    'Sum of stored daycounts with the same counters, over the union of their periods';

-- Trends.
CREATE FUNCTION analytics.trend(counts analytics.daycounts, granularity text,
                                OUT bucket date, OUT count bigint, OUT count2 bigint, OUT count3 bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'trend_srf'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 30;
COMMENT ON FUNCTION analytics.trend(analytics.daycounts, text) IS
    'Zero-filled day or ISO-week buckets of the daycounts'' period, oldest first; a week bucket is labelled by its first day in the period; count2 and count3 are NULL for counters the daycounts lacks';

CREATE FUNCTION analytics.trend(counts analytics.daycounts, granularity text, "from" date, "to" date,
                                OUT bucket date, OUT count bigint, OUT count2 bigint, OUT count3 bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'trend_period_srf'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 30;
COMMENT ON FUNCTION analytics.trend(analytics.daycounts, text, date, date) IS
    'Zero-filled day or ISO-week buckets of [from, to], oldest first; days the daycounts does not cover, or a NULL daycounts (no rows), count zero';

CREATE FUNCTION analytics.trend_bucket(day date, granularity text, "from" date)
RETURNS date
AS 'MODULE_PATHNAME', 'trend_bucket'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.trend_bucket(date, text, date) IS
    'Label of the trend bucket holding day in a period starting at from: the day, or the Monday of its ISO week but not before from; for exact per-bucket distinct counts (GROUP BY it with count(DISTINCT ...))';

-- Usage summary.
CREATE FUNCTION analytics.usage_summary_trans(analytics.daycounts, date, text, bigint, date, date)
RETURNS analytics.daycounts
AS 'MODULE_PATHNAME', 'usage_summary_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.usage_summary_trans(analytics.daycounts, date, text, bigint, date, date) IS
    'Transition function of usage_summary_agg: daily api calls, token issuances and credential rotations';

CREATE FUNCTION analytics.usage_summary_final(analytics.daycounts)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'usage_summary_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.usage_summary_final(analytics.daycounts) IS
    'The usage summary (totals, floor average per day, earliest peak day) of a 3-counter daycounts; all zero with a null peakDate for NULL';

CREATE AGGREGATE analytics.usage_summary_agg(day date, metric text, n bigint, "from" date, "to" date) (
    SFUNC = analytics.usage_summary_trans,
    STYPE = analytics.daycounts,
    SSPACE = 736,
    FINALFUNC = analytics.usage_summary_final,
    COMBINEFUNC = analytics.daycounts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.usage_summary_agg(date, text, bigint, date, date) IS
    'One-pass usage summary over daily aggregate rows (day, metric_type, count) of [from, to]: totalApiCalls, totalTokenIssuances, totalCredentialRotations, averageDailyApiCalls, peakDailyApiCalls, peakDate (jsonb)';
-------------------------------------------------------------------------------
-- 40_rollup.sql: rollups, the invalidation log, real-time reads, retention,
-- job history and pg_cron scheduling.
--
-- Vocabulary: a day is "rolled" when analytics.rollup_days has it, and
-- "clean" when it is rolled and no event of that day has been inserted,
-- updated or deleted since (analytics.rollup_invalidations does not have
-- it).  Reads take clean days from the rollups and every other day from raw
-- events, so they always reflect every event up to the moment of the call.
-------------------------------------------------------------------------------

-- Days whose events changed since their last rollup (the invalidation log).
CREATE TABLE analytics.rollup_invalidations (
    day        date PRIMARY KEY,
    first_seen timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.rollup_invalidations IS
    'Days with events inserted, updated or deleted since their last rollup; the next rollup recomputes them';

-- Days that have been rolled up.
CREATE TABLE analytics.rollup_days (
    day          date PRIMARY KEY,
    rolled_at    timestamptz NOT NULL,
    events       bigint NOT NULL,
    rows_written bigint NOT NULL,
    raw_dropped  boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE analytics.rollup_days IS
    'Days rolled up: when, how many events, how many rollup rows the last run wrote, and whether retention has dropped the raw events';

-- Daily counts per (tenant, agent, day, metric); agent_id NULL holds the
-- tenant-level events (events with no agent), so a tenant's total is the
-- sum over all its rows.
CREATE TABLE analytics.analytics_daily_aggregates (
    tenant_id   uuid NOT NULL,
    agent_id    uuid,
    date        date NOT NULL,
    metric_type text NOT NULL
                CONSTRAINT analytics_daily_aggregates_metric_check CHECK (metric_type IN
                    ('api_calls', 'token_issuances', 'token_failures', 'credential_rotations', 'tool_calls', 'llm_calls')),
    count       bigint NOT NULL CONSTRAINT analytics_daily_aggregates_count_check CHECK (count >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analytics_daily_aggregates_key UNIQUE NULLS NOT DISTINCT (tenant_id, agent_id, date, metric_type)
);
CREATE INDEX analytics_daily_aggregates_tenant_date_idx ON analytics.analytics_daily_aggregates (tenant_id, date);
-- (the rollup reads and rewrites one day at a time)
CREATE INDEX analytics_daily_aggregates_date_idx ON analytics.analytics_daily_aggregates (date);
COMMENT ON TABLE analytics.analytics_daily_aggregates IS
    'Daily counts per tenant, agent and metric (api_calls, token_issuances, token_failures, credential_rotations, tool_calls, llm_calls); agent_id NULL holds events with no agent';

-- Per-day usage statistics with a latency sketch.
CREATE TABLE analytics.usage_stats_daily (
    date             date NOT NULL,
    tenant_id        uuid NOT NULL,
    agent_id         uuid,
    event_type       text NOT NULL,
    endpoint         text,
    method           text,
    tool_name        text,
    mcp_server       text,
    model            text,
    calls            bigint NOT NULL,
    successes        bigint NOT NULL,
    failures         bigint NOT NULL,
    total_latency_ms double precision NOT NULL,
    latency          analytics.qsketch,
    input_tokens     bigint NOT NULL,
    output_tokens    bigint NOT NULL,
    cost_usd         numeric NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT usage_stats_daily_key UNIQUE NULLS NOT DISTINCT
        (date, tenant_id, agent_id, event_type, endpoint, method, tool_name, mcp_server, model)
);
CREATE INDEX usage_stats_daily_tenant_date_idx ON analytics.usage_stats_daily (tenant_id, date);
COMMENT ON TABLE analytics.usage_stats_daily IS
    'Per-day usage statistics by tenant, agent, event type, endpoint, method, tool, MCP server and model: calls (sum of count), successes, failures, total latency, a latency qsketch (one value per event row), tokens and estimated cost';

-- The grouping key of usage_stats_daily as one value: composite values
-- compare NULL fields as equal and hash, so "rows of the day that are no
-- longer produced" is a hashed anti-join, not a nested loop of IS NOT
-- DISTINCT FROM tests.
CREATE TYPE analytics.usage_stats_key AS (
    tenant_id uuid, agent_id uuid, event_type text, endpoint text, method text,
    tool_name text, mcp_server text, model text);
COMMENT ON TYPE analytics.usage_stats_key IS 'The grouping key of usage_stats_daily, for NULL-safe hashed comparisons';
CREATE TYPE analytics.daily_aggregates_key AS (tenant_id uuid, agent_id uuid, metric_type text);
COMMENT ON TYPE analytics.daily_aggregates_key IS 'The key of analytics_daily_aggregates within a day, for NULL-safe hashed comparisons';

-- The stored bytes of a varlena value (a sketch, a heatmap), to tell
-- whether a recomputed value differs from the stored one without decoding
-- either: equal values have equal bytes.
CREATE FUNCTION analytics.stored_bytes(value anyelement)
RETURNS bytea
AS 'MODULE_PATHNAME', 'analytics_stored_bytes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.stored_bytes(anyelement) IS
    'The bytes of a variable-length value as stored (detoasted), for byte-wise comparison';

-- One row per tenant and day: the read model of the API.
CREATE TABLE analytics.tenant_daily (
    tenant_id            uuid NOT NULL,
    date                 date NOT NULL,
    api_calls            bigint NOT NULL,
    token_issuances      bigint NOT NULL,
    token_failures       bigint NOT NULL,
    credential_rotations bigint NOT NULL,
    tool_calls           bigint NOT NULL,
    llm_calls            bigint NOT NULL,
    events               bigint NOT NULL,
    active_agents        uuid[] NOT NULL,
    issuing_agents       uuid[] NOT NULL,
    api_heatmap          analytics.heatmap,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, date)
);
COMMENT ON TABLE analytics.tenant_daily IS
    'One row per tenant and day: metric totals, the sorted agents active that day and those that attempted a token issuance, and api_call counts by hour (a heatmap)';

-- Monthly rows that daily rows are folded into by retention.
CREATE TABLE analytics.analytics_monthly_aggregates (
    tenant_id   uuid NOT NULL,
    agent_id    uuid,
    month       date NOT NULL CONSTRAINT analytics_monthly_aggregates_month_check CHECK (extract(day FROM month) = 1),
    metric_type text NOT NULL,
    count       bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analytics_monthly_aggregates_key UNIQUE NULLS NOT DISTINCT (tenant_id, agent_id, month, metric_type)
);
COMMENT ON TABLE analytics.analytics_monthly_aggregates IS
    'Daily aggregates older than analytics.daily_retention_days, summed by month (month = its first day)';

-- The same columns as usage_stats_daily, by month.
CREATE TABLE analytics.usage_stats_monthly (LIKE analytics.usage_stats_daily INCLUDING DEFAULTS);
ALTER TABLE analytics.usage_stats_monthly RENAME COLUMN date TO month;
ALTER TABLE analytics.usage_stats_monthly
    ADD CONSTRAINT usage_stats_monthly_month_check CHECK (extract(day FROM month) = 1),
    ADD CONSTRAINT usage_stats_monthly_key UNIQUE NULLS NOT DISTINCT
        (month, tenant_id, agent_id, event_type, endpoint, method, tool_name, mcp_server, model);
COMMENT ON TABLE analytics.usage_stats_monthly IS
    'Usage statistics older than analytics.daily_retention_days, by month; latency sketches are merged, not averaged';

-- Model prices for the estimated cost (USD per million tokens).
CREATE TABLE analytics.model_prices (
    model               text PRIMARY KEY,
    input_usd_per_mtok  numeric NOT NULL CONSTRAINT model_prices_input_check CHECK (input_usd_per_mtok >= 0),
    output_usd_per_mtok numeric NOT NULL CONSTRAINT model_prices_output_check CHECK (output_usd_per_mtok >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.model_prices IS
    'Prices per million input and output tokens by model; the rollup multiplies tokens by them (a model with no price costs 0)';

-- Job history.
CREATE TABLE analytics.job_runs (
    run_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         text NOT NULL CONSTRAINT job_runs_job_check CHECK (job IN ('rollup', 'retention')),
    target_date date,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    duration_ms double precision,
    rows        bigint,
    status      text NOT NULL CONSTRAINT job_runs_status_check CHECK (status IN ('running', 'succeeded', 'skipped', 'failed')),
    error       text,
    backend_pid integer
);
CREATE INDEX job_runs_job_started_idx ON analytics.job_runs (job, started_at DESC);
COMMENT ON TABLE analytics.job_runs IS
    'One row per rollup or retention run: start, end, duration, rows written, status (running, succeeded, skipped, failed) and error; pruned after analytics.job_history_days';

SELECT pg_catalog.pg_extension_config_dump('analytics.rollup_invalidations', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.rollup_days', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.analytics_daily_aggregates', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.usage_stats_daily', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.tenant_daily', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.analytics_monthly_aggregates', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.usage_stats_monthly', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.model_prices', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.job_runs', '');

-------------------------------------------------------------------------------
-- The invalidation log is written by statement triggers on usage_events:
-- analytics.usage_events_check() (00_core.sql) for INSERT and COPY, in the
-- same pass as its tenant checks, and the triggers below for UPDATE and
-- DELETE.
-------------------------------------------------------------------------------

-- Record the UTC days of the rows an UPDATE or DELETE changed.
CREATE FUNCTION analytics.usage_events_invalidate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO analytics.rollup_invalidations (day)
    SELECT DISTINCT (o.occurred_at AT TIME ZONE 'UTC')::date FROM old_events o
    ON CONFLICT (day) DO NOTHING;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO analytics.rollup_invalidations (day)
        SELECT DISTINCT (n.occurred_at AT TIME ZONE 'UTC')::date FROM new_events n
        ON CONFLICT (day) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.usage_events_invalidate() IS
    'Statement trigger of usage_events for UPDATE and DELETE: records the days a statement changed in analytics.rollup_invalidations';

CREATE TRIGGER usage_events_invalidate_update
    AFTER UPDATE ON analytics.usage_events
    REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.usage_events_invalidate();
CREATE TRIGGER usage_events_invalidate_delete
    AFTER DELETE ON analytics.usage_events
    REFERENCING OLD TABLE AS old_events
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.usage_events_invalidate();

-------------------------------------------------------------------------------
-- The rollup of one day
-------------------------------------------------------------------------------

-- Is the rollup of a day current?  (rolled, and no change since)
CREATE FUNCTION analytics.day_is_clean(day date)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = day_is_clean.day)
   AND NOT EXISTS (SELECT 1 FROM analytics.rollup_invalidations i WHERE i.day = day_is_clean.day);
COMMENT ON FUNCTION analytics.day_is_clean(date) IS
    'True when the day is rolled up and none of its events changed since';

-- The days of [from, to] that are not clean (their rollups are missing or
-- stale), oldest first.
CREATE FUNCTION analytics.unclean_days("from" date, "to" date)
RETURNS date[]
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN ARRAY(
    SELECT g::date
    FROM pg_catalog.generate_series("from"::timestamp, "to"::timestamp, interval '1 day') g
    WHERE NOT EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = g::date)
       OR EXISTS (SELECT 1 FROM analytics.rollup_invalidations i WHERE i.day = g::date)
    ORDER BY 1);
COMMENT ON FUNCTION analytics.unclean_days(date, date) IS
    'The days of [from, to] whose rollups are missing or stale (not analytics.day_is_clean), oldest first';


-- Recompute the rollups of one day from its raw events, in one pass over
-- the day's partition, writing only the rows that changed.  Returns
-- (status, events, rows_written); status is rolled or skipped.
CREATE FUNCTION analytics.rollup_day(day date, OUT status text, OUT events bigint, OUT rows_written bigint)
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
-- A serial plan: the sums then do not depend on the order parallel workers
-- deliver rows in, so a rerun over unchanged events writes nothing.
SET max_parallel_workers_per_gather = 0
-- The rollup tables grow faster than autovacuum analyzes them, so row
-- estimates for one day are often 1; a nested loop over a day's ~2,000 rows
-- would then cost seconds, and a sort of the day's events on eight keys
-- three times the hashed grouping.  Hashing is right for every step here.
SET enable_nestloop = off
SET enable_sort = off
AS $$
DECLARE
    lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    rows_written := 0;
    -- One rollup of a day at a time; a second caller waits, then finds the
    -- day clean and skips it.
    PERFORM pg_advisory_xact_lock(hashtext('analytics.rollup_day'), day - date '2000-01-01');
    IF analytics.day_is_clean(day) THEN
        status := 'skipped';
        SELECT r.events INTO events FROM analytics.rollup_days r WHERE r.day = rollup_day.day;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = rollup_day.day AND r.raw_dropped) THEN
        RAISE EXCEPTION 'the raw events of % were dropped by retention; its rollups cannot be recomputed', day
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Events older than analytics.raw_retention_days are not rolled up again.';
    END IF;
    -- Taking the day out of the log before reading: a change committed after
    -- this point puts it back, and the next run picks it up.
    DELETE FROM analytics.rollup_invalidations i WHERE i.day = rollup_day.day;

    -- One statement: the day's groups are computed once, in memory, and
    -- feed the three tables; rows that differ are written, rows no longer
    -- produced are deleted (the inserts and deletes touch disjoint rows).
    WITH g AS MATERIALIZED (
        SELECT e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server, e.model,
               sum(e.count)::bigint AS calls,
               coalesce(sum(e.count) FILTER (WHERE e.success), 0)::bigint AS successes,
               coalesce(sum(e.latency_ms), 0)::double precision AS total_latency_ms,
               analytics.qsketch_agg(e.latency_ms) AS latency,
               coalesce(sum(e.input_tokens), 0)::bigint AS input_tokens,
               coalesce(sum(e.output_tokens), 0)::bigint AS output_tokens,
               analytics.heatmap_agg(e.occurred_at, e.count::bigint) FILTER (WHERE e.event_type = 'api_call') AS api_heatmap,
               ROW(e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server,
                   e.model)::analytics.usage_stats_key AS k
        FROM analytics.usage_events e
        WHERE e.occurred_at >= lo AND e.occurred_at < hi
        GROUP BY e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server, e.model
    ),
    -- The day's current rows; only groups that are new or differ are
    -- written, so a rerun over unchanged events touches no row at all (no
    -- new row versions, no row locks, no WAL).
    cur_s AS MATERIALIZED (
        SELECT u.ctid AS tid,
               ROW(u.tenant_id, u.agent_id, u.event_type, u.endpoint, u.method, u.tool_name,
                   u.mcp_server, u.model)::analytics.usage_stats_key AS k,
               ROW(u.calls, u.successes, u.total_latency_ms, u.input_tokens, u.output_tokens, u.cost_usd,
                   analytics.stored_bytes(u.latency)) AS v
        FROM analytics.usage_stats_daily u WHERE u.date = rollup_day.day
    ),
    gs AS (
        SELECT g.*, coalesce(g.input_tokens * p.input_usd_per_mtok / 1000000
                             + g.output_tokens * p.output_usd_per_mtok / 1000000, 0) AS cost_usd
        FROM g LEFT JOIN analytics.model_prices p ON p.model = g.model
    ),
    stats_up AS (
        INSERT INTO analytics.usage_stats_daily AS s
            (date, tenant_id, agent_id, event_type, endpoint, method, tool_name, mcp_server, model,
             calls, successes, failures, total_latency_ms, latency, input_tokens, output_tokens, cost_usd)
        SELECT day, gs.tenant_id, gs.agent_id, gs.event_type, gs.endpoint, gs.method, gs.tool_name, gs.mcp_server,
               gs.model, gs.calls, gs.successes, gs.calls - gs.successes, gs.total_latency_ms, gs.latency,
               gs.input_tokens, gs.output_tokens, gs.cost_usd
        FROM gs LEFT JOIN cur_s ON cur_s.k = gs.k
        WHERE cur_s.v IS DISTINCT FROM ROW(gs.calls, gs.successes, gs.total_latency_ms, gs.input_tokens,
                                            gs.output_tokens, gs.cost_usd, analytics.stored_bytes(gs.latency))
        ON CONFLICT ON CONSTRAINT usage_stats_daily_key DO UPDATE
            SET calls = excluded.calls, successes = excluded.successes, failures = excluded.failures,
                total_latency_ms = excluded.total_latency_ms, latency = excluded.latency,
                input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
                cost_usd = excluded.cost_usd, updated_at = now()
        RETURNING 1
    ),
    stats_gone AS (
        DELETE FROM analytics.usage_stats_daily s
        USING (SELECT cur_s.tid FROM cur_s WHERE NOT EXISTS (SELECT 1 FROM g WHERE g.k = cur_s.k)) gone
        WHERE s.ctid = gone.tid
        RETURNING 1
    ),
    d AS MATERIALIZED (
        SELECT g.tenant_id, g.agent_id, m.metric_type, sum(m.n)::bigint AS count,
               ROW(g.tenant_id, g.agent_id, m.metric_type)::analytics.daily_aggregates_key AS k
        FROM g
        CROSS JOIN LATERAL (VALUES
            ('api_calls',            CASE WHEN g.event_type = 'api_call' THEN g.calls END),
            ('token_issuances',      CASE WHEN g.event_type = 'token_issuance' THEN g.calls END),
            ('token_failures',       CASE WHEN g.event_type = 'token_issuance' THEN g.calls - g.successes END),
            ('credential_rotations', CASE WHEN g.event_type = 'credential_rotation' THEN g.calls END),
            ('tool_calls',           CASE WHEN g.event_type = 'tool_call' THEN g.calls END),
            ('llm_calls',            CASE WHEN g.event_type = 'llm_call' THEN g.calls END)) AS m(metric_type, n)
        WHERE m.n > 0
        GROUP BY g.tenant_id, g.agent_id, m.metric_type
    ),
    cur_d AS MATERIALIZED (
        SELECT u.ctid AS tid, ROW(u.tenant_id, u.agent_id, u.metric_type)::analytics.daily_aggregates_key AS k, u.count
        FROM analytics.analytics_daily_aggregates u WHERE u.date = rollup_day.day
    ),
    daily_up AS (
        INSERT INTO analytics.analytics_daily_aggregates AS a (tenant_id, agent_id, date, metric_type, count)
        SELECT d.tenant_id, d.agent_id, day, d.metric_type, d.count
        FROM d LEFT JOIN cur_d ON cur_d.k = d.k
        WHERE cur_d.count IS DISTINCT FROM d.count
        ON CONFLICT ON CONSTRAINT analytics_daily_aggregates_key DO UPDATE
            SET count = excluded.count, updated_at = now()
        RETURNING 1
    ),
    daily_gone AS (
        DELETE FROM analytics.analytics_daily_aggregates a
        USING (SELECT cur_d.tid FROM cur_d WHERE NOT EXISTS (SELECT 1 FROM d WHERE d.k = cur_d.k)) gone
        WHERE a.ctid = gone.tid
        RETURNING 1
    ),
    t AS (
        SELECT g.tenant_id,
               coalesce(sum(g.calls) FILTER (WHERE g.event_type = 'api_call'), 0)::bigint AS api_calls,
               coalesce(sum(g.calls) FILTER (WHERE g.event_type = 'token_issuance'), 0)::bigint AS token_issuances,
               coalesce(sum(g.calls - g.successes) FILTER (WHERE g.event_type = 'token_issuance'), 0)::bigint AS token_failures,
               coalesce(sum(g.calls) FILTER (WHERE g.event_type = 'credential_rotation'), 0)::bigint AS credential_rotations,
               coalesce(sum(g.calls) FILTER (WHERE g.event_type = 'tool_call'), 0)::bigint AS tool_calls,
               coalesce(sum(g.calls) FILTER (WHERE g.event_type = 'llm_call'), 0)::bigint AS llm_calls,
               sum(g.calls)::bigint AS events,
               coalesce(array_agg(DISTINCT g.agent_id ORDER BY g.agent_id) FILTER (WHERE g.agent_id IS NOT NULL), '{}') AS active_agents,
               coalesce(array_agg(DISTINCT g.agent_id ORDER BY g.agent_id)
                        FILTER (WHERE g.agent_id IS NOT NULL AND g.event_type = 'token_issuance'), '{}') AS issuing_agents,
               analytics.heatmap_merge(g.api_heatmap) AS api_heatmap
        FROM g
        GROUP BY g.tenant_id
    ),
    tenant_up AS (
        INSERT INTO analytics.tenant_daily AS td
            (tenant_id, date, api_calls, token_issuances, token_failures, credential_rotations, tool_calls, llm_calls,
             events, active_agents, issuing_agents, api_heatmap)
        SELECT t.tenant_id, day, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
               t.tool_calls, t.llm_calls, t.events, t.active_agents, t.issuing_agents, t.api_heatmap
        FROM t
        LEFT JOIN analytics.tenant_daily c ON c.tenant_id = t.tenant_id AND c.date = rollup_day.day
        WHERE ROW(c.api_calls, c.token_issuances, c.token_failures, c.credential_rotations, c.tool_calls, c.llm_calls,
                  c.events, c.active_agents, c.issuing_agents, analytics.stored_bytes(c.api_heatmap))
              IS DISTINCT FROM
              ROW(t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations, t.tool_calls, t.llm_calls,
                  t.events, t.active_agents, t.issuing_agents, analytics.stored_bytes(t.api_heatmap))
        ON CONFLICT (tenant_id, date) DO UPDATE
            SET api_calls = excluded.api_calls, token_issuances = excluded.token_issuances,
                token_failures = excluded.token_failures, credential_rotations = excluded.credential_rotations,
                tool_calls = excluded.tool_calls, llm_calls = excluded.llm_calls, events = excluded.events,
                active_agents = excluded.active_agents, issuing_agents = excluded.issuing_agents,
                api_heatmap = excluded.api_heatmap, updated_at = now()
        RETURNING 1
    ),
    tenant_gone AS (
        DELETE FROM analytics.tenant_daily td
        WHERE td.date = rollup_day.day
          AND td.tenant_id NOT IN (SELECT g.tenant_id FROM g)
        RETURNING 1
    )
    SELECT coalesce((SELECT sum(g.calls) FROM g), 0),
           (SELECT count(*) FROM stats_up) + (SELECT count(*) FROM stats_gone)
         + (SELECT count(*) FROM daily_up) + (SELECT count(*) FROM daily_gone)
         + (SELECT count(*) FROM tenant_up) + (SELECT count(*) FROM tenant_gone)
    INTO events, rows_written;

    INSERT INTO analytics.rollup_days AS r (day, rolled_at, events, rows_written)
    VALUES (day, now(), events, rows_written)
    ON CONFLICT ON CONSTRAINT rollup_days_pkey DO UPDATE
        SET rolled_at = excluded.rolled_at, events = excluded.events, rows_written = excluded.rows_written;
    status := 'rolled';
END
$$;
COMMENT ON FUNCTION analytics.rollup_day(date) IS
    'Recomputes the rollups of one UTC day from its raw events, writing only rows that changed; skips a clean day. Use run_rollup(), which also records the run';

-- The contract's entry point: roll up one day (default yesterday, UTC) and
-- record the run; returns the number of rollup rows written.
CREATE FUNCTION analytics.run_rollup(target_date date DEFAULT ((now() AT TIME ZONE 'UTC')::date - 1))
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    r  record;
BEGIN
    r := analytics.rollup_day(target_date);
    IF r.status = 'skipped' THEN
        RAISE NOTICE 'the rollup of % is current; nothing to do', target_date;
    END IF;
    INSERT INTO analytics.job_runs (job, target_date, started_at, finished_at, duration_ms, rows, status, backend_pid)
    VALUES ('rollup', target_date, t0, clock_timestamp(),
            extract(epoch FROM clock_timestamp() - t0) * 1000, r.rows_written,
            CASE r.status WHEN 'skipped' THEN 'skipped' ELSE 'succeeded' END, pg_backend_pid());
    RETURN r.rows_written;
END
$$;
COMMENT ON FUNCTION analytics.run_rollup(date) IS
    'Rolls up one UTC day (default yesterday) idempotently: reruns and concurrent runs give the same rows, unchanged rows are not rewritten; records the run in analytics.job_runs; returns the rows written';

-- The scheduled job: premake partitions, roll up yesterday and every closed
-- day in the invalidation log (late events), one transaction per day, each
-- recorded in job_runs even when it fails; then prune the history.  Raises
-- at the end if a day failed, so pg_cron records the failure too.
CREATE PROCEDURE analytics.rollup_job()
LANGUAGE plpgsql
AS $$
DECLARE
    today  date := (now() AT TIME ZONE 'UTC')::date;
    d      date;
    run    bigint;
    t0     timestamptz;
    r      record;
    failed integer := 0;
    msg    text;
BEGIN
    -- Runs whose backend is gone were interrupted.
    UPDATE analytics.job_runs j SET status = 'failed', error = 'interrupted: the backend ended before the run finished',
           finished_at = coalesce(j.finished_at, now())
    WHERE j.status = 'running'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = j.backend_pid);
    PERFORM analytics.maintain_partitions();
    COMMIT;
    FOR d IN SELECT i.day FROM analytics.rollup_invalidations i WHERE i.day < today
             UNION SELECT today - 1 ORDER BY 1 LOOP
        t0 := clock_timestamp();
        INSERT INTO analytics.job_runs (job, target_date, started_at, status, backend_pid)
        VALUES ('rollup', d, t0, 'running', pg_catalog.pg_backend_pid()) RETURNING run_id INTO run;
        COMMIT;
        BEGIN
            r := analytics.rollup_day(d);
            UPDATE analytics.job_runs SET finished_at = clock_timestamp(),
                   duration_ms = extract(epoch FROM clock_timestamp() - t0) * 1000,
                   rows = r.rows_written, status = CASE r.status WHEN 'skipped' THEN 'skipped' ELSE 'succeeded' END
            WHERE run_id = run;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            UPDATE analytics.job_runs SET finished_at = clock_timestamp(),
                   duration_ms = extract(epoch FROM clock_timestamp() - t0) * 1000,
                   status = 'failed', error = msg
            WHERE run_id = run;
            failed := failed + 1;
        END;
        COMMIT;
    END LOOP;
    DELETE FROM analytics.job_runs
    WHERE started_at < now() - make_interval(days => current_setting('analytics.job_history_days')::integer);
    COMMIT;
    IF failed > 0 THEN
        RAISE EXCEPTION '% day(s) failed to roll up', failed
            USING HINT = 'SELECT * FROM analytics.job_runs WHERE status = ''failed'' ORDER BY started_at DESC';
    END IF;
END
$$;
COMMENT ON PROCEDURE analytics.rollup_job() IS
    'The nightly job: premakes partitions, rolls up yesterday and every closed day with late events, records each run in analytics.job_runs, prunes the history';

-------------------------------------------------------------------------------
-- Real-time reads: clean days from the rollups, the rest from raw events.
-------------------------------------------------------------------------------

-- The six daily metrics of a tenant on one day.
CREATE TYPE analytics.day_metrics AS (
    date date, api_calls bigint, token_issuances bigint, token_failures bigint,
    credential_rotations bigint, tool_calls bigint, llm_calls bigint);
COMMENT ON TYPE analytics.day_metrics IS 'The six daily metrics of a tenant on one day';

-- Each day that is not clean is read from its own partition with a query
-- planned for that partition alone (planning one query over every partition
-- would cost more than the read); clean days come from tenant_daily.
CREATE FUNCTION analytics.daily_counts(tenant_id uuid, "from" date, "to" date)
RETURNS SETOF analytics.day_metrics
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    metrics CONSTANT text :=
        'SELECT $2::date, '
        'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''api_call''), 0)::bigint, '
        'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''token_issuance''), 0)::bigint, '
        'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''token_issuance'' AND NOT e.success), 0)::bigint, '
        'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''credential_rotation''), 0)::bigint, '
        'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''tool_call''), 0)::bigint, '
        'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''llm_call''), 0)::bigint ';
    unclean date[];
    raw     analytics.day_metrics[] := '{}';
    one     analytics.day_metrics;
    d       date;
    part    regclass;
BEGIN
    IF daily_counts."to" - daily_counts."from" > 3660 THEN
        RAISE EXCEPTION 'the range % to % is longer than 3661 days', daily_counts."from", daily_counts."to"
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    unclean := analytics.unclean_days(daily_counts."from", daily_counts."to");
    FOREACH d IN ARRAY unclean LOOP
        part := to_regclass('analytics.' || analytics.partition_name(d));
        IF part IS NOT NULL THEN
            EXECUTE metrics || format('FROM %s e WHERE e.tenant_id = $1', part)
                INTO one USING daily_counts.tenant_id, d;
        ELSE
            -- No partition for the day: its rows, if any, are in the default one.
            EXECUTE metrics || 'FROM analytics.usage_events_default e WHERE e.tenant_id = $1 '
                               'AND e.occurred_at >= $3 AND e.occurred_at < $4'
                INTO one USING daily_counts.tenant_id, d, d::timestamp AT TIME ZONE 'UTC',
                               (d + 1)::timestamp AT TIME ZONE 'UTC';
        END IF;
        raw := raw || one;
    END LOOP;

    RETURN QUERY
    SELECT g::date,
           coalesce(r.api_calls, t.api_calls, 0), coalesce(r.token_issuances, t.token_issuances, 0),
           coalesce(r.token_failures, t.token_failures, 0), coalesce(r.credential_rotations, t.credential_rotations, 0),
           coalesce(r.tool_calls, t.tool_calls, 0), coalesce(r.llm_calls, t.llm_calls, 0)
    FROM generate_series(daily_counts."from"::timestamp, daily_counts."to"::timestamp, interval '1 day') g
    LEFT JOIN unnest(raw) r ON r.date = g::date
    LEFT JOIN (SELECT td.* FROM analytics.tenant_daily td
               WHERE td.tenant_id = daily_counts.tenant_id
                 AND td.date BETWEEN daily_counts."from" AND daily_counts."to"
                 AND td.date <> ALL (unclean)) t ON t.date = g::date
    ORDER BY 1;
END
$$;
COMMENT ON FUNCTION analytics.daily_counts(uuid, date, date) IS
    'Daily metric counts of a tenant for every day of [from, to], zero-filled, oldest first, up to the moment of the call: clean days from the rollups, other days (today, late events, never rolled) from raw events';

-------------------------------------------------------------------------------
-- Retention
-------------------------------------------------------------------------------

-- Drop raw day partitions older than analytics.raw_retention_days whose day
-- is rolled up and clean; fold daily rows older than
-- analytics.daily_retention_days into monthly rows.
CREATE FUNCTION analytics.run_retention(OUT dropped_partitions integer, OUT kept_unrolled integer, OUT folded_rows bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t0         timestamptz := clock_timestamp();
    today      date := (now() AT TIME ZONE 'UTC')::date;
    raw_cut    date := today - current_setting('analytics.raw_retention_days')::integer;
    daily_cut  date := today - current_setting('analytics.daily_retention_days')::integer;
    p          record;
    n          bigint;
BEGIN
    dropped_partitions := 0;
    kept_unrolled := 0;
    folded_rows := 0;
    PERFORM pg_advisory_xact_lock(hashtext('analytics.run_retention'));

    FOR p IN SELECT ep.partition, ep.day FROM analytics.event_partitions ep
             WHERE ep.day < raw_cut ORDER BY ep.day LOOP
        IF analytics.day_is_clean(p.day) THEN
            -- Hold the day's rollup lock so no rollup of it runs meanwhile.
            PERFORM pg_advisory_xact_lock(hashtext('analytics.rollup_day'), p.day - date '2000-01-01');
            EXECUTE format('ALTER TABLE analytics.usage_events DETACH PARTITION %s', p.partition);
            EXECUTE format('DROP TABLE %s', p.partition);
            UPDATE analytics.rollup_days r SET raw_dropped = true WHERE r.day = p.day;
            dropped_partitions := dropped_partitions + 1;
        ELSE
            RAISE NOTICE 'keeping % : the day is not rolled up yet', p.partition;
            kept_unrolled := kept_unrolled + 1;
        END IF;
    END LOOP;

    -- Fold old daily rows into months: counts are summed, sketches merged.
    WITH gone AS (
        DELETE FROM analytics.analytics_daily_aggregates a WHERE a.date < daily_cut RETURNING a.*
    )
    INSERT INTO analytics.analytics_monthly_aggregates AS m (tenant_id, agent_id, month, metric_type, count)
    SELECT g.tenant_id, g.agent_id, date_trunc('month', g.date)::date, g.metric_type, sum(g.count)
    FROM gone g GROUP BY 1, 2, 3, 4
    ON CONFLICT ON CONSTRAINT analytics_monthly_aggregates_key DO UPDATE
        SET count = m.count + excluded.count, updated_at = now();
    GET DIAGNOSTICS n = ROW_COUNT;
    folded_rows := folded_rows + n;

    WITH gone AS (
        DELETE FROM analytics.usage_stats_daily s WHERE s.date < daily_cut RETURNING s.*
    )
    INSERT INTO analytics.usage_stats_monthly AS m
        (month, tenant_id, agent_id, event_type, endpoint, method, tool_name, mcp_server, model,
         calls, successes, failures, total_latency_ms, latency, input_tokens, output_tokens, cost_usd)
    SELECT date_trunc('month', g.date)::date, g.tenant_id, g.agent_id, g.event_type, g.endpoint, g.method,
           g.tool_name, g.mcp_server, g.model, sum(g.calls), sum(g.successes), sum(g.failures),
           sum(g.total_latency_ms), analytics.qsketch_merge(g.latency), sum(g.input_tokens),
           sum(g.output_tokens), sum(g.cost_usd)
    FROM gone g GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT ON CONSTRAINT usage_stats_monthly_key DO UPDATE
        SET calls = m.calls + excluded.calls, successes = m.successes + excluded.successes,
            failures = m.failures + excluded.failures,
            total_latency_ms = m.total_latency_ms + excluded.total_latency_ms,
            latency = (SELECT analytics.qsketch_merge(x.s) FROM (VALUES (m.latency), (excluded.latency)) AS x(s)),
            input_tokens = m.input_tokens + excluded.input_tokens,
            output_tokens = m.output_tokens + excluded.output_tokens,
            cost_usd = m.cost_usd + excluded.cost_usd, updated_at = now();
    GET DIAGNOSTICS n = ROW_COUNT;
    folded_rows := folded_rows + n;

    DELETE FROM analytics.tenant_daily t WHERE t.date < daily_cut;

    INSERT INTO analytics.job_runs (job, started_at, finished_at, duration_ms, rows, status, backend_pid)
    VALUES ('retention', t0, clock_timestamp(), extract(epoch FROM clock_timestamp() - t0) * 1000,
            dropped_partitions + folded_rows, 'succeeded', pg_backend_pid());
END
$$;
COMMENT ON FUNCTION analytics.run_retention() IS
    'Drops raw day partitions older than analytics.raw_retention_days once their day is rolled up (never an unrolled day), and folds daily rows older than analytics.daily_retention_days into monthly rows (sums; latency sketches merged)';

-------------------------------------------------------------------------------
-- Scheduling with pg_cron
-------------------------------------------------------------------------------

-- Raise the error for a missing pg_cron.
CREATE FUNCTION analytics.require_pg_cron()
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'scheduling needs the pg_cron extension, which is not installed in database %', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Install pg_cron (Debian: postgresql-15-cron), add it to shared_preload_libraries, '
                         'set cron.database_name to this database, restart, and run CREATE EXTENSION pg_cron.';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.require_pg_cron() IS 'Raises a clear error when pg_cron is not installed in this database';

-- Schedule (or reschedule) a job under a fixed name; returns its job id.
CREATE FUNCTION analytics.schedule_job(job_name text, schedule text, command text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM analytics.require_pg_cron();
    -- pg_cron replaces the job of the same name and user.
    RETURN cron.schedule(job_name, schedule, command);
END
$$;
COMMENT ON FUNCTION analytics.schedule_job(text, text, text) IS
    'Schedules a pg_cron job under a fixed name, replacing the job of that name; returns the job id';

CREATE FUNCTION analytics.unschedule_job(job_name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM analytics.require_pg_cron();
    IF NOT EXISTS (SELECT 1 FROM cron.job j WHERE j.jobname = unschedule_job.job_name) THEN
        RETURN false;
    END IF;
    RETURN cron.unschedule(job_name);
END
$$;
COMMENT ON FUNCTION analytics.unschedule_job(text) IS 'Removes the pg_cron job of that name; false when there was none';

CREATE FUNCTION analytics.schedule_rollup(schedule text DEFAULT '5 0 * * *')
RETURNS bigint
LANGUAGE sql VOLATILE STRICT
RETURN analytics.schedule_job('analytics-rollup', schedule, 'CALL analytics.rollup_job()');
COMMENT ON FUNCTION analytics.schedule_rollup(text) IS
    'Registers the nightly rollup job with pg_cron (job name analytics-rollup, default 00:05 UTC); calling it again updates the job; returns the job id';

CREATE FUNCTION analytics.unschedule_rollup()
RETURNS boolean
LANGUAGE sql VOLATILE
RETURN analytics.unschedule_job('analytics-rollup');
COMMENT ON FUNCTION analytics.unschedule_rollup() IS 'Removes the rollup job; false when it was not scheduled';

CREATE FUNCTION analytics.schedule_retention(schedule text DEFAULT '30 1 * * *')
RETURNS bigint
LANGUAGE sql VOLATILE STRICT
RETURN analytics.schedule_job('analytics-retention', schedule, 'SELECT analytics.run_retention()');
COMMENT ON FUNCTION analytics.schedule_retention(text) IS
    'Registers the retention job with pg_cron (job name analytics-retention, default 01:30 UTC); calling it again updates the job; returns the job id';

CREATE FUNCTION analytics.unschedule_retention()
RETURNS boolean
LANGUAGE sql VOLATILE
RETURN analytics.unschedule_job('analytics-retention');
COMMENT ON FUNCTION analytics.unschedule_retention() IS 'Removes the retention job; false when it was not scheduled';
-------------------------------------------------------------------------------
-- 50_api.sql: the tenant analytics API (contract §5).
--
-- Vocabulary:
--   typed function  analytics.<name>(tenant_id uuid, ...): the computation,
--                   for SQL callers, with typed parameters; no tenant checks.
--   API function    analytics_api.<name>(text, ...): what PostgREST exposes;
--                   tenant from the JWT claims, text parameters parsed inside,
--                   every refusal raised with analytics.api_error() in the
--                   form PostgREST v12 turns into an HTTP status and body.
--   reader          analytics.api_days / api_agent_days / api_endpoint_stats:
--                   clean days from the rollups, every other day (today, late
--                   events, never rolled) from its own raw partition, so each
--                   answer reflects every event up to the moment of the call.
--
-- Security: API functions are SECURITY DEFINER with a pinned search_path.
-- EXECUTE on them is granted only to analytics_tenant (see
-- analytics.create_api_roles()), and they trust the claims only when the
-- calling role (SET ROLE, else the session user) has the privileges of
-- analytics_tenant.  Row-level security on every table holding tenant data
-- limits the API roles to the claimed tenant if they are ever granted access.
-------------------------------------------------------------------------------

-------------------------------------------------------------------------------
-- Errors, claims, parameters
-------------------------------------------------------------------------------

-- Raise an API error the way PostgREST v12 maps it to an HTTP response.
CREATE FUNCTION analytics.api_error(status integer, code text, message text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE SQLSTATE 'PGRST'
        USING MESSAGE = json_build_object('code', code, 'message', message)::text,
              DETAIL = json_build_object('status', status, 'headers', json_build_object())::text;
END
$$;
COMMENT ON FUNCTION analytics.api_error(integer, text, text) IS
    'Raises SQLSTATE PGRST with message {"code","message"} and detail {"status","headers"}: PostgREST answers with that HTTP status and body';

-- The tenant the JWT claims name (tenant_id, else organization_id), or NULL.
-- Never raises: also used by the row-level security policies.
CREATE FUNCTION analytics.claimed_tenant_id()
RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    claims text := current_setting('request.jwt.claims', true);
    v      text;
BEGIN
    IF claims IS NULL OR claims = '' THEN
        RETURN NULL;
    END IF;
    BEGIN
        v := coalesce(claims::jsonb ->> 'tenant_id', claims::jsonb ->> 'organization_id');
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
    IF v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RETURN v::uuid;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.claimed_tenant_id() IS
    'The tenant named by request.jwt.claims (claim tenant_id, else organization_id) as a uuid; NULL when missing or malformed';

-- Does the role calling the API act as analytics_tenant?  Inside a SECURITY
-- DEFINER function current_user is the owner, so the caller is the role set
-- with SET ROLE (PostgREST's SET LOCAL ROLE), else the session user.  A
-- NOINHERIT authenticator that has not switched role does not qualify.
CREATE FUNCTION analytics.api_caller_is_tenant_role()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN EXISTS (
    SELECT 1
    FROM pg_catalog.pg_roles c
    WHERE c.rolname = CASE current_setting('role') WHEN 'none' THEN session_user::text ELSE current_setting('role') END
      AND (c.rolsuper OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles t
                                 WHERE t.rolname = 'analytics_tenant' AND pg_catalog.pg_has_role(c.oid, t.oid, 'USAGE'))));
COMMENT ON FUNCTION analytics.api_caller_is_tenant_role() IS
    'True when the role calling the API (SET ROLE, else the session user) is a superuser or has the privileges of analytics_tenant';

-- The caller's tenant, after the checks every API function makes, in the
-- contract's order: analytics.enabled (404), a trusted caller with a claim
-- naming a registered tenant (401), the free tier (403).
CREATE FUNCTION analytics.api_tenant()
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid  uuid;
    tier text;
BEGIN
    IF NOT current_setting('analytics.enabled')::boolean THEN
        PERFORM analytics.api_error(404, 'NOT_FOUND', 'Analytics is not enabled');
    END IF;
    IF NOT analytics.api_caller_is_tenant_role() THEN
        PERFORM analytics.api_error(401, 'UNAUTHORIZED', 'This role may not use the analytics API');
    END IF;
    tid := analytics.claimed_tenant_id();
    IF tid IS NULL THEN
        PERFORM analytics.api_error(401, 'UNAUTHORIZED', 'Missing or invalid tenant claim');
    END IF;
    SELECT t.tier INTO tier FROM analytics.tenants t WHERE t.tenant_id = tid;
    IF NOT FOUND THEN
        PERFORM analytics.api_error(401, 'UNAUTHORIZED', 'Unknown tenant');
    END IF;
    IF tier = 'free' AND NOT current_setting('analytics.free_tier_access')::boolean THEN
        PERFORM analytics.api_error(403, 'ANALYTICS_NOT_AVAILABLE', 'Analytics is not available on the free tier');
    END IF;
    RETURN tid;
END
$$;
COMMENT ON FUNCTION analytics.api_tenant() IS
    'The calling tenant for the API: 404 NOT_FOUND when analytics.enabled is off, 401 UNAUTHORIZED without a trusted claim naming a registered tenant, 403 ANALYTICS_NOT_AVAILABLE for the free tier unless analytics.free_tier_access is on';

-- Today in the reporting time zone.
CREATE FUNCTION analytics.api_today()
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (pg_catalog.now() AT TIME ZONE 'UTC')::date;
COMMENT ON FUNCTION analytics.api_today() IS 'Today (UTC), the last day of every default period';

-- A YYYY-MM-DD parameter, or 400 INVALID_DATE_RANGE.
CREATE FUNCTION analytics.api_parse_date(value text, name text)
RETURNS date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        BEGIN
            RETURN value::date;
        EXCEPTION WHEN others THEN
            NULL;
        END;
    END IF;
    PERFORM analytics.api_error(400, 'INVALID_DATE_RANGE', format('%s must be a date YYYY-MM-DD', name));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.api_parse_date(text, text) IS
    'Parses a YYYY-MM-DD API parameter; anything else raises 400 INVALID_DATE_RANGE naming the parameter';

-- The period of an API call: defaults to = today, from = to - 29; from <= to
-- <= today and at most max_days days counting both ends, else 400.
CREATE FUNCTION analytics.api_period("from" text, "to" text, max_days integer,
                                     OUT from_day date, OUT to_day date)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today date := analytics.api_today();
BEGIN
    to_day := CASE WHEN api_period."to" IS NULL THEN today ELSE analytics.api_parse_date(api_period."to", 'to') END;
    from_day := CASE WHEN api_period."from" IS NULL THEN to_day - 29 ELSE analytics.api_parse_date(api_period."from", 'from') END;
    IF from_day > to_day THEN
        PERFORM analytics.api_error(400, 'INVALID_DATE_RANGE', 'from must not be after to');
    END IF;
    IF to_day > today THEN
        PERFORM analytics.api_error(400, 'INVALID_DATE_RANGE', 'to must not be after today (UTC)');
    END IF;
    IF to_day - from_day + 1 > max_days THEN
        PERFORM analytics.api_error(400, 'INVALID_DATE_RANGE',
                                    format('the period may span at most %s days, both ends included', max_days));
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.api_period(text, text, integer) IS
    'Parses and checks the from/to parameters of an API call: defaults to = today (UTC), from = to - 29; 400 INVALID_DATE_RANGE for bad dates, from > to, to > today or more than max_days days';

-- The days parameter: a positive integer <= 90, else 400 VALIDATION_ERROR.
CREATE FUNCTION analytics.api_parse_days(days text)
RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF days ~ '^[0-9]{1,4}$' AND days::integer BETWEEN 1 AND 90 THEN
        RETURN days::integer;
    END IF;
    PERFORM analytics.api_error(400, 'VALIDATION_ERROR', 'days must be an integer from 1 to 90');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.api_parse_days(text) IS
    'Parses the days API parameter: an integer from 1 to 90, else 400 VALIDATION_ERROR';

-- Checks of the typed functions (ordinary errors, not HTTP ones).
CREATE FUNCTION analytics.check_period("from" date, "to" date)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" OR "to" - "from" > 3660 THEN
        RAISE EXCEPTION 'invalid period % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'from and to are non-NULL, from <= to, at most 3661 days.';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.check_period(date, date) IS
    'Raises invalid_parameter_value unless from <= to, both non-NULL, at most 3661 days';

-------------------------------------------------------------------------------
-- Readers: clean days from the rollups, the other days from raw events.
-------------------------------------------------------------------------------

-- (analytics.unclean_days(from, to) is in 40_rollup.sql.)

CREATE TYPE analytics.api_raw_group AS (
    date date, agent_id uuid, event_type text, endpoint text, method text,
    calls bigint, successes bigint, latency analytics.qsketch, api_heatmap analytics.heatmap);
COMMENT ON TYPE analytics.api_raw_group IS
    'A group of raw events of one tenant and day, as analytics.api_raw_groups returns it';

-- A tenant's raw events of the given days, grouped by day, agent and event
-- type (and, with detail, by endpoint and method with a latency sketch of
-- the api calls).  Each day is read from its own partition by a query
-- planned for it alone; days with no partition from the default partition.
CREATE FUNCTION analytics.api_raw_groups(tenant_id uuid, days date[], detail boolean)
RETURNS SETOF analytics.api_raw_group
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    q      text;
    d      date;
    part   regclass;
    nopart date[] := '{}';
BEGIN
    q := 'SELECT (e.occurred_at AT TIME ZONE ''UTC'')::date, e.agent_id, e.event_type, '
      || CASE WHEN detail THEN 'e.endpoint, e.method, ' ELSE 'NULL::text, NULL::text, ' END
      || 'sum(e.count)::bigint, coalesce(sum(e.count) FILTER (WHERE e.success), 0)::bigint, '
      || CASE WHEN detail THEN 'analytics.qsketch_agg(e.latency_ms) FILTER (WHERE e.event_type = ''api_call''), '
              ELSE 'NULL::analytics.qsketch, ' END
      || 'analytics.heatmap_agg(e.occurred_at, e.count::bigint) FILTER (WHERE e.event_type = ''api_call'') '
      || 'FROM %s e WHERE e.tenant_id = $1 %s GROUP BY 1, 2, 3, 4, 5';
    FOR d, part IN
        SELECT u, to_regclass('analytics.' || analytics.partition_name(u)) FROM unnest(days) u
    LOOP
        IF part IS NULL THEN
            nopart := nopart || d;
        ELSE
            RETURN QUERY EXECUTE format(q, part, '') USING api_raw_groups.tenant_id;
        END IF;
    END LOOP;
    IF cardinality(nopart) > 0 THEN
        RETURN QUERY EXECUTE format(q, 'analytics.usage_events_default',
            'AND e.occurred_at >= $2 AND e.occurred_at < $3 AND (e.occurred_at AT TIME ZONE ''UTC'')::date = ANY ($4)')
            USING api_raw_groups.tenant_id,
                  (SELECT min(x) FROM unnest(nopart) x)::timestamp AT TIME ZONE 'UTC',
                  ((SELECT max(x) FROM unnest(nopart) x) + 1)::timestamp AT TIME ZONE 'UTC',
                  nopart;
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.api_raw_groups(uuid, date[], boolean) IS
    'Raw events of a tenant on the given days, grouped by day, agent, event type (with detail also endpoint and method, with a latency qsketch of api calls): calls, successes and the api_call heatmap; each day read from its own partition';

CREATE TYPE analytics.api_day AS (
    date date, api_calls bigint, token_issuances bigint, token_failures bigint, credential_rotations bigint,
    active_agents uuid[], issuing_agents uuid[], api_heatmap analytics.heatmap);
COMMENT ON TYPE analytics.api_day IS 'A tenant''s day as the API reads it (the columns of tenant_daily it uses)';

-- A tenant's days of [from, to] with any event: tenant_daily for clean
-- days, raw events for the others.  Days without events are absent.
CREATE FUNCTION analytics.api_days(tenant_id uuid, "from" date, "to" date)
RETURNS SETOF analytics.api_day
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
    WITH u AS MATERIALIZED (SELECT analytics.unclean_days($2, $3) AS days)
    SELECT t.date, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
           t.active_agents, t.issuing_agents, t.api_heatmap
    FROM analytics.tenant_daily t, u
    WHERE t.tenant_id = $1 AND t.date BETWEEN $2 AND $3 AND t.date <> ALL (u.days)
    UNION ALL
    SELECT r.date,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'api_call'), 0)::bigint,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'token_issuance'), 0)::bigint,
           coalesce(sum(r.calls - r.successes) FILTER (WHERE r.event_type = 'token_issuance'), 0)::bigint,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'credential_rotation'), 0)::bigint,
           coalesce(array_agg(DISTINCT r.agent_id) FILTER (WHERE r.agent_id IS NOT NULL), '{}'),
           coalesce(array_agg(DISTINCT r.agent_id) FILTER (WHERE r.agent_id IS NOT NULL AND r.event_type = 'token_issuance'), '{}'),
           analytics.heatmap_merge(r.api_heatmap)
    FROM u, analytics.api_raw_groups($1, u.days, false) r
    GROUP BY r.date
$$;
COMMENT ON FUNCTION analytics.api_days(uuid, date, date) IS
    'A tenant''s days of [from, to] that have events, up to the moment of the call: metric totals, active and issuing agents, api_call heatmap; clean days from tenant_daily, the others from raw events';

-- A tenant's per-agent daily counts of [from, to] (agent_id NULL: events
-- with no agent): analytics_daily_aggregates for clean days, raw events for
-- the others (where an agent with only other event types has a zero row).
CREATE FUNCTION analytics.api_agent_days(tenant_id uuid, "from" date, "to" date,
    OUT date date, OUT agent_id uuid, OUT api_calls bigint, OUT token_issuances bigint, OUT credential_rotations bigint)
RETURNS SETOF record
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
    WITH u AS MATERIALIZED (SELECT analytics.unclean_days($2, $3) AS days)
    SELECT a.date, a.agent_id,
           coalesce(sum(a.count) FILTER (WHERE a.metric_type = 'api_calls'), 0)::bigint,
           coalesce(sum(a.count) FILTER (WHERE a.metric_type = 'token_issuances'), 0)::bigint,
           coalesce(sum(a.count) FILTER (WHERE a.metric_type = 'credential_rotations'), 0)::bigint
    FROM analytics.analytics_daily_aggregates a, u
    WHERE a.tenant_id = $1 AND a.date BETWEEN $2 AND $3 AND a.date <> ALL (u.days)
      AND a.metric_type IN ('api_calls', 'token_issuances', 'credential_rotations')
    GROUP BY a.date, a.agent_id
    UNION ALL
    SELECT r.date, r.agent_id,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'api_call'), 0)::bigint,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'token_issuance'), 0)::bigint,
           coalesce(sum(r.calls) FILTER (WHERE r.event_type = 'credential_rotation'), 0)::bigint
    FROM u, analytics.api_raw_groups($1, u.days, false) r
    GROUP BY r.date, r.agent_id
$$;
COMMENT ON FUNCTION analytics.api_agent_days(uuid, date, date) IS
    'A tenant''s api calls, token issuances and credential rotations per agent and day of [from, to], up to the moment of the call (agent_id NULL: events with no agent)';

-- A tenant's api calls of [from, to] by endpoint and method, with merged
-- latency sketches: usage_stats_daily for clean days, raw events otherwise.
CREATE FUNCTION analytics.api_endpoint_stats(tenant_id uuid, "from" date, "to" date,
    OUT endpoint text, OUT method text, OUT calls bigint, OUT successes bigint, OUT latency analytics.qsketch)
RETURNS SETOF record
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
    WITH u AS MATERIALIZED (SELECT analytics.unclean_days($2, $3) AS days),
    g AS (
        SELECT s.endpoint, s.method, s.calls, s.successes, s.latency
        FROM analytics.usage_stats_daily s, u
        WHERE s.tenant_id = $1 AND s.date BETWEEN $2 AND $3 AND s.date <> ALL (u.days)
          AND s.event_type = 'api_call'
        UNION ALL
        SELECT r.endpoint, r.method, r.calls, r.successes, r.latency
        FROM u, analytics.api_raw_groups($1, u.days, true) r
        WHERE r.event_type = 'api_call')
    SELECT g.endpoint, g.method, sum(g.calls)::bigint, sum(g.successes)::bigint, analytics.qsketch_merge(g.latency)
    FROM g
    GROUP BY g.endpoint, g.method
$$;
COMMENT ON FUNCTION analytics.api_endpoint_stats(uuid, date, date) IS
    'A tenant''s api calls of [from, to] by endpoint and method: calls, successes and the merged latency qsketch, up to the moment of the call';

-- A period as JSON.
CREATE FUNCTION analytics.api_period_json("from" date, "to" date)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb_build_object('from', to_char("from", 'YYYY-MM-DD'), 'to', to_char("to", 'YYYY-MM-DD'));
COMMENT ON FUNCTION analytics.api_period_json(date, date) IS 'A period as {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}';

-------------------------------------------------------------------------------
-- Typed functions (tenant explicit; for SQL callers and the API functions)
-------------------------------------------------------------------------------

CREATE FUNCTION analytics.usage_summary(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM analytics.check_period("from", "to");
    WITH d AS MATERIALIZED (
        SELECT x.date, x.api_calls, x.token_issuances, x.credential_rotations, x.active_agents
        FROM analytics.api_days(usage_summary.tenant_id, "from", "to") x),
    s AS (
        SELECT coalesce(sum(d.api_calls), 0)::bigint AS api_calls,
               coalesce(sum(d.token_issuances), 0)::bigint AS token_issuances,
               coalesce(sum(d.credential_rotations), 0)::bigint AS credential_rotations,
               coalesce(max(d.api_calls), 0)::bigint AS peak
        FROM d)
    SELECT jsonb_build_object(
        'tenantId', usage_summary.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'summary', jsonb_build_object(
            'totalApiCalls', s.api_calls,
            'totalTokenIssuances', s.token_issuances,
            'totalCredentialRotations', s.credential_rotations,
            'activeAgentCount', (SELECT count(DISTINCT a) FROM d, unnest(d.active_agents) a),
            'averageDailyApiCalls', s.api_calls / ("to" - "from" + 1),
            'peakDailyApiCalls', s.peak,
            'peakDate', (SELECT to_char(d.date, 'YYYY-MM-DD') FROM d
                         WHERE d.api_calls = s.peak AND s.peak > 0 ORDER BY d.date LIMIT 1)))
    INTO result
    FROM s;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.usage_summary(uuid, date, date) IS
    'Usage summary of a tenant over [from, to] (contract §5 shape): totals, active agents, floor average per day, peak day (earliest of the maximum, null without calls)';

CREATE FUNCTION analytics.agent_activity(tenant_id uuid, "from" date, "to" date, agent_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
    u      date[];
BEGIN
    PERFORM analytics.check_period("from", "to");
    u := analytics.unclean_days("from", "to");
    WITH c AS MATERIALIZED (
        SELECT x.* FROM analytics.api_agent_days(agent_activity.tenant_id, "from", "to") x
        WHERE x.agent_id IS NOT NULL AND (agent_activity.agent_id IS NULL OR x.agent_id = agent_activity.agent_id)),
    ids AS (
        SELECT agent_activity.agent_id AS id WHERE agent_activity.agent_id IS NOT NULL
        UNION
        SELECT a FROM analytics.tenant_daily t, unnest(t.active_agents) a
        WHERE agent_activity.agent_id IS NULL AND t.tenant_id = agent_activity.tenant_id
          AND t.date BETWEEN "from" AND "to" AND t.date <> ALL (u)
        UNION
        SELECT c.agent_id FROM c WHERE agent_activity.agent_id IS NULL),
    per_agent AS (
        SELECT ids.id,
               jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'),
                                            'apiCalls', coalesce(c.api_calls, 0),
                                            'tokenIssuances', coalesce(c.token_issuances, 0),
                                            'credentialRotations', coalesce(c.credential_rotations, 0))
                         ORDER BY g) AS daily
        FROM ids
        CROSS JOIN generate_series("from"::timestamp, "to"::timestamp, interval '1 day') g
        LEFT JOIN c ON c.agent_id = ids.id AND c.date = g::date
        GROUP BY ids.id)
    SELECT jsonb_build_object(
        'tenantId', agent_activity.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'agents', coalesce(jsonb_agg(jsonb_build_object('agentId', p.id, 'agentName', a.name, 'dailyActivity', p.daily)
                                     ORDER BY a.name, p.id), '[]'))
    INTO result
    FROM per_agent p
    LEFT JOIN analytics.agents a ON a.agent_id = p.id;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_activity(uuid, date, date, uuid) IS
    'Daily api calls, token issuances and credential rotations over [from, to] for each agent of a tenant with any event in the period (or the one agent given), zero-filled, ordered by agent name then id';

CREATE FUNCTION analytics.token_trends(tenant_id uuid, "from" date, "to" date, granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM analytics.check_period("from", "to");
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        RAISE EXCEPTION 'invalid granularity "%"', granularity
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''day'' or ''week''.';
    END IF;
    WITH d AS MATERIALIZED (
        SELECT analytics.trend_bucket(x.date, granularity, "from") AS bucket,
               x.token_issuances, x.token_failures, x.issuing_agents
        FROM analytics.api_days(token_trends.tenant_id, "from", "to") x),
    b AS (
        SELECT g::date AS bucket
        FROM generate_series("from"::timestamp, "to"::timestamp, interval '1 day') g
        WHERE granularity = 'day' OR g::date = "from" OR extract(isodow FROM g) = 1),
    sums AS (
        SELECT d.bucket, sum(d.token_issuances)::bigint AS total, sum(d.token_failures)::bigint AS failed
        FROM d GROUP BY d.bucket),
    -- A day's issuing agents are distinct already; a week needs the union.
    agents AS (
        SELECT d.bucket, cardinality(d.issuing_agents)::bigint AS n FROM d WHERE granularity = 'day'
        UNION ALL
        SELECT d.bucket, count(DISTINCT a) FROM d, unnest(d.issuing_agents) a WHERE granularity = 'week' GROUP BY d.bucket)
    SELECT jsonb_build_object(
        'tenantId', token_trends.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'granularity', granularity,
        'dataPoints', jsonb_agg(jsonb_build_object(
            'date', to_char(b.bucket, 'YYYY-MM-DD'),
            'totalIssuances', coalesce(s.total, 0),
            'successfulIssuances', coalesce(s.total - s.failed, 0),
            'failedIssuances', coalesce(s.failed, 0),
            'uniqueAgents', coalesce(a.n, 0)) ORDER BY b.bucket))
    INTO result
    FROM b
    LEFT JOIN sums s ON s.bucket = b.bucket
    LEFT JOIN agents a ON a.bucket = b.bucket;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.token_trends(uuid, date, date, text) IS
    'Token issuances of a tenant over [from, to] by day or ISO week (a week bucket is labelled by its first day in the period): total, successful, failed, distinct issuing agents; every bucket, zero-filled, oldest first';

CREATE FUNCTION analytics.tokens(tenant_id uuid, days integer DEFAULT 30)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    today  date := analytics.api_today();
    result jsonb;
BEGIN
    PERFORM analytics.check_period(today - (days - 1), today);
    SELECT jsonb_build_object(
        'tenantId', tokens.tenant_id,
        'days', days,
        'data', jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'), 'count', coalesce(x.token_issuances, 0))
                          ORDER BY g))
    INTO result
    FROM generate_series((today - (days - 1))::timestamp, today::timestamp, interval '1 day') g
    LEFT JOIN analytics.api_days(tokens.tenant_id, today - (days - 1), today) x ON x.date = g::date;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.tokens(uuid, integer) IS
    'Token issuances of a tenant per day over the last days days ending today (UTC), zero-filled, oldest first';

CREATE FUNCTION analytics.agents_activity(tenant_id uuid, days integer DEFAULT 30)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    today  date := analytics.api_today();
    result jsonb;
BEGIN
    PERFORM analytics.check_period(today - (days - 1), today);
    SELECT jsonb_build_object(
        'tenantId', agents_activity.tenant_id,
        'data', coalesce(jsonb_agg(jsonb_build_object('dow', c.dow, 'hour', c.hour, 'count', c.count)
                                   ORDER BY c.dow, c.hour), '[]'))
    INTO result
    FROM analytics.heatmap_cells((SELECT analytics.heatmap_merge(x.api_heatmap)
                                  FROM analytics.api_days(agents_activity.tenant_id, today - (days - 1), today) x)) c;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agents_activity(uuid, integer) IS
    'Day-of-week x hour (UTC) heatmap of a tenant''s api calls over the last days days ending today: non-zero cells ordered by dow (0 = Sunday) then hour';

CREATE FUNCTION analytics.agent_tokens(tenant_id uuid, month date DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    first  date := date_trunc('month', coalesce(month, analytics.api_today()))::date;
    last   date := least((first + interval '1 month')::date - 1, analytics.api_today());
    result jsonb;
BEGIN
    SELECT jsonb_build_object(
        'tenantId', agent_tokens.tenant_id,
        'month', to_char(first, 'YYYY-MM'),
        'data', coalesce(jsonb_agg(jsonb_build_object('agentId', x.agent_id, 'tokenCount', x.n)
                                   ORDER BY x.n DESC, x.agent_id), '[]'))
    INTO result
    FROM (SELECT a.agent_id, sum(a.token_issuances)::bigint AS n
          FROM analytics.api_agent_days(agent_tokens.tenant_id, first, greatest(first, last)) a
          WHERE a.agent_id IS NOT NULL
          GROUP BY a.agent_id
          HAVING sum(a.token_issuances) > 0) x;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_tokens(uuid, date) IS
    'Token issuances per agent of a tenant in a UTC calendar month (default the current one, up to now), most first, then by agent id; agents without issuances are left out';

CREATE FUNCTION analytics.rotation_frequency(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
    u      date[];
BEGIN
    PERFORM analytics.check_period("from", "to");
    u := analytics.unclean_days("from", "to");
    WITH c AS MATERIALIZED (
        SELECT x.* FROM analytics.api_agent_days(rotation_frequency.tenant_id, "from", "to") x),
    ids AS (
        SELECT a AS id FROM analytics.tenant_daily t, unnest(t.active_agents) a
        WHERE t.tenant_id = rotation_frequency.tenant_id AND t.date BETWEEN "from" AND "to" AND t.date <> ALL (u)
        UNION
        SELECT c.agent_id FROM c WHERE c.agent_id IS NOT NULL),
    per_agent AS (
        SELECT ids.id, coalesce(sum(c.credential_rotations), 0)::bigint AS rotations,
               count(c.date) FILTER (WHERE c.credential_rotations > 0) AS rotation_days,
               max(c.date) FILTER (WHERE c.credential_rotations > 0) AS last_day
        FROM ids LEFT JOIN c ON c.agent_id = ids.id
        GROUP BY ids.id)
    SELECT jsonb_build_object(
        'tenantId', rotation_frequency.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'totalRotations', (SELECT coalesce(sum(c.credential_rotations), 0)::bigint FROM c),
        'agents', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'agentId', p.id, 'agentName', a.name, 'rotations', p.rotations,
                                'rotationDays', p.rotation_days,
                                'lastRotationDate', to_char(p.last_day, 'YYYY-MM-DD'),
                                'averageDaysBetweenRotations',
                                    CASE WHEN p.rotations > 0 THEN round(("to" - "from" + 1)::numeric / p.rotations, 1) END)
                                ORDER BY p.rotations DESC, a.name, p.id)
                            FROM per_agent p LEFT JOIN analytics.agents a ON a.agent_id = p.id), '[]'))
    INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.rotation_frequency(uuid, date, date) IS
    'Credential rotations of a tenant over [from, to]: the total (events with no agent included) and, for each agent with any event in the period, its rotations, days with a rotation, last rotation day and average days between rotations; most rotations first';

CREATE FUNCTION analytics.call_patterns(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM analytics.check_period("from", "to");
    SELECT jsonb_build_object(
        'tenantId', call_patterns.tenant_id,
        'period', analytics.api_period_json("from", "to"),
        'totalCalls', coalesce(sum(s.calls), 0)::bigint,
        'endpoints', coalesce(jsonb_agg(jsonb_build_object(
            'endpoint', s.endpoint, 'method', s.method, 'calls', s.calls,
            'successes', s.successes, 'failures', s.calls - s.successes,
            'successRate', round(s.successes::numeric / nullif(s.calls, 0), 4),
            'latencyMs', CASE WHEN analytics.sketch_count(s.latency) > 0 THEN jsonb_build_object(
                'p50', round(q[1]::numeric, 3), 'p95', round(q[2]::numeric, 3), 'p99', round(q[3]::numeric, 3)) END)
            ORDER BY s.calls DESC, s.endpoint, s.method), '[]'))
    INTO result
    FROM analytics.api_endpoint_stats(call_patterns.tenant_id, "from", "to") s
    LEFT JOIN LATERAL (SELECT analytics.quantiles(s.latency, ARRAY[0.5, 0.95, 0.99]) AS q
                       WHERE analytics.sketch_count(s.latency) > 0) l ON true;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.call_patterns(uuid, date, date) IS
    'API calls of a tenant over [from, to] per endpoint and method: calls, successes, failures, success rate and latency p50/p95/p99 in ms from merged qsketches (1% relative accuracy, one value per event row); most calls first';

-------------------------------------------------------------------------------
-- The HTTP-facing functions (PostgREST: db-schemas = analytics_api)
-------------------------------------------------------------------------------

CREATE FUNCTION analytics_api.usage_summary("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    p   record := analytics.api_period("from", "to", 365);
BEGIN
    RETURN analytics.usage_summary(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.usage_summary(text, text) IS
$$Usage summary of the caller's tenant

GET /rpc/usage_summary?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period {from, to}, summary {totalApiCalls, totalTokenIssuances, totalCredentialRotations, activeAgentCount, averageDailyApiCalls, peakDailyApiCalls, peakDate}}. Errors: 400 INVALID_DATE_RANGE, 401 UNAUTHORIZED, 403 ANALYTICS_NOT_AVAILABLE, 404 NOT_FOUND.$$;

CREATE FUNCTION analytics_api.agent_activity("from" text DEFAULT NULL, "to" text DEFAULT NULL, "agentId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.api_tenant();
    p     record := analytics.api_period("from", "to", 90);
    agent uuid;
BEGIN
    IF "agentId" IS NOT NULL THEN
        IF "agentId" ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            SELECT a.agent_id INTO agent FROM analytics.agents a
            WHERE a.agent_id = "agentId"::uuid AND a.tenant_id = tid;
        END IF;
        IF agent IS NULL THEN
            PERFORM analytics.api_error(404, 'AGENT_NOT_FOUND', 'No agent with this id in your tenant');
        END IF;
    END IF;
    RETURN analytics.agent_activity(tid, p.from_day, p.to_day, agent);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_activity(text, text, text) IS
$$Daily activity per agent of the caller's tenant

GET /rpc/agent_activity?from=YYYY-MM-DD&to=YYYY-MM-DD&agentId=UUID (defaults: the 30 days ending today, UTC; at most 90 days; all agents with any event in the period). Returns {tenantId, period, agents [{agentId, agentName, dailyActivity [{date, apiCalls, tokenIssuances, credentialRotations}]}]}, agents by name then id, every day zero-filled, oldest first. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404 NOT_FOUND, 404 AGENT_NOT_FOUND.$$;

CREATE FUNCTION analytics_api.token_trends("from" text DEFAULT NULL, "to" text DEFAULT NULL, granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    p   record := analytics.api_period("from", "to", 365);
BEGIN
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        PERFORM analytics.api_error(400, 'INVALID_GRANULARITY', 'granularity must be day or week');
    END IF;
    RETURN analytics.token_trends(tid, p.from_day, p.to_day, granularity);
END
$$;
COMMENT ON FUNCTION analytics_api.token_trends(text, text, text) IS
$$Token issuance trend of the caller's tenant

GET /rpc/token_trends?from=YYYY-MM-DD&to=YYYY-MM-DD&granularity=day|week (defaults: the 30 days ending today, UTC, by day; at most 365 days). Returns {tenantId, period, granularity, dataPoints [{date, totalIssuances, successfulIssuances, failedIssuances, uniqueAgents}]}: every bucket zero-filled, oldest first; a week is an ISO week labelled by its first day inside the period. Errors: 400 INVALID_DATE_RANGE, 400 INVALID_GRANULARITY, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.tokens(days text DEFAULT '30')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    n   integer := analytics.api_parse_days(days);
BEGIN
    RETURN analytics.tokens(tid, n);
END
$$;
COMMENT ON FUNCTION analytics_api.tokens(text) IS
$$Token issuances per day of the caller's tenant

GET /rpc/tokens?days=N (1 to 90, default 30): exactly N days ending today (UTC). Returns {tenantId, days, data [{date, count}]}, zero-filled, oldest first. Errors: 400 VALIDATION_ERROR, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.agents_activity(days text DEFAULT '30')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    n   integer := analytics.api_parse_days(days);
BEGIN
    RETURN analytics.agents_activity(tid, n);
END
$$;
COMMENT ON FUNCTION analytics_api.agents_activity(text) IS
$$Day-of-week x hour heatmap of the caller's API calls

GET /rpc/agents_activity?days=N (1 to 90, default 30): api_call events of the last N days ending today, by UTC day of week (0 = Sunday) and hour. Returns {tenantId, data [{dow, hour, count}]}, non-zero cells only, by dow then hour. Errors: 400 VALIDATION_ERROR, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.agents()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
BEGIN
    RETURN analytics.agent_tokens(tid);
END
$$;
COMMENT ON FUNCTION analytics_api.agents() IS
$$Token issuances per agent this month

GET /rpc/agents: token issuances per agent of the caller's tenant in the current UTC calendar month. Returns {tenantId, month (YYYY-MM), data [{agentId, tokenCount}]}, most first. Errors: 401, 403, 404.$$;

CREATE FUNCTION analytics_api.rotation_frequency("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    p   record := analytics.api_period("from", "to", 365);
BEGIN
    RETURN analytics.rotation_frequency(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.rotation_frequency(text, text) IS
$$Credential rotation frequency per agent

GET /rpc/rotation_frequency?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period, totalRotations, agents [{agentId, agentName, rotations, rotationDays, lastRotationDate, averageDaysBetweenRotations}]} for every agent with any event in the period, most rotations first. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.call_patterns("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.api_tenant();
    p   record := analytics.api_period("from", "to", 365);
BEGIN
    RETURN analytics.call_patterns(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.call_patterns(text, text) IS
$$API call patterns per endpoint and method

GET /rpc/call_patterns?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period, totalCalls, endpoints [{endpoint, method, calls, successes, failures, successRate, latencyMs {p50, p95, p99}}]}, most calls first; latencies within 1% of the exact percentiles. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404.$$;

CREATE FUNCTION analytics_api.record_events(events jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.api_tenant();
    bad   bigint;
    msg   text;
    det   text;
BEGIN
    IF events IS NULL OR jsonb_typeof(events) <> 'array' THEN
        PERFORM analytics.api_error(400, 'VALIDATION_ERROR', 'events must be a JSON array of event objects');
    END IF;
    SELECT e.i - 1 INTO bad FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)
    WHERE jsonb_typeof(e.v) <> 'object' ORDER BY e.i LIMIT 1;
    IF FOUND THEN
        PERFORM analytics.api_error(400, 'VALIDATION_ERROR', format('event %s is not a JSON object', bad));
    END IF;
    SELECT e.i - 1 INTO bad FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)
    WHERE jsonb_typeof(e.v -> 'tenant_id') IS DISTINCT FROM 'null' AND e.v ? 'tenant_id'
      AND NOT (coalesce(e.v ->> 'tenant_id', '') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
               AND (e.v ->> 'tenant_id')::uuid = tid)
    ORDER BY e.i LIMIT 1;
    IF FOUND THEN
        PERFORM analytics.api_error(403, 'FORBIDDEN', format('event %s names another tenant', bad));
    END IF;
    BEGIN
        RETURN analytics.record_events(
            coalesce((SELECT jsonb_agg(e.v || jsonb_build_object('tenant_id', tid) ORDER BY e.i)
                      FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)), '[]'));
    EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        PERFORM analytics.api_error(400, 'VALIDATION_ERROR', msg || coalesce(': ' || nullif(det, ''), ''));
    END;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_api.record_events(jsonb) IS
$$Records usage events for the caller's tenant

POST /rpc/record_events with body {"events": [{...}, ...]}: objects with the usage_events column names; all or nothing; tenant_id may be left out (the caller's is used); an event naming another tenant is refused. Returns the number of rows stored. Errors: 400 VALIDATION_ERROR (the message names the event index and field), 403 FORBIDDEN (another tenant), 401, 403 ANALYTICS_NOT_AVAILABLE, 404.$$;

-------------------------------------------------------------------------------
-- Roles and grants.  PostgREST connects as an authenticator (LOGIN
-- NOINHERIT) and switches to analytics_anon (no token) or analytics_tenant
-- (a token whose "role" claim is analytics_tenant).
-------------------------------------------------------------------------------

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api FROM PUBLIC;

-- The grants of the API roles, (re)applied after CREATE EXTENSION when the
-- roles exist (DROP EXTENSION drops the functions and their grants).
CREATE FUNCTION analytics.grant_api_privileges()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regrole('analytics_tenant') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA analytics_api TO analytics_tenant;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api TO analytics_tenant;
    END IF;
    IF to_regrole('analytics_anon') IS NOT NULL THEN
        -- The schema only: PostgREST can describe it; every call is refused.
        GRANT USAGE ON SCHEMA analytics_api TO analytics_anon;
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.grant_api_privileges() IS
    'Grants analytics_tenant USAGE on analytics_api and EXECUTE on its functions, analytics_anon USAGE on the schema only; run after CREATE EXTENSION (create_api_roles does it)';

CREATE FUNCTION analytics.create_api_roles(authenticator name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regrole('analytics_anon') IS NULL THEN
        CREATE ROLE analytics_anon NOLOGIN;
    END IF;
    IF to_regrole('analytics_tenant') IS NULL THEN
        CREATE ROLE analytics_tenant NOLOGIN;
    END IF;
    PERFORM analytics.grant_api_privileges();
    IF authenticator IS NOT NULL THEN
        EXECUTE format('GRANT analytics_anon, analytics_tenant TO %I', authenticator);
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.create_api_roles(name) IS
    'Creates the PostgREST roles analytics_anon (no data access) and analytics_tenant (USAGE on analytics_api, EXECUTE on its functions) if missing, grants them, and makes the given authenticator role a member of both';

REVOKE EXECUTE ON FUNCTION analytics.create_api_roles(name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.grant_api_privileges() FROM PUBLIC;

SELECT analytics.grant_api_privileges();

-------------------------------------------------------------------------------
-- Row-level security on every table holding tenant data.  Roles that act as
-- analytics_tenant see only the tenant their claims name; analytics_anon
-- sees nothing; other roles are governed by their grants alone.  (The API
-- roles have no grant on these tables: this is the second line of defence.)
-------------------------------------------------------------------------------

CREATE FUNCTION analytics.rls_tenant_visible(tenant_id uuid)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                 WHERE r.rolname = 'analytics_tenant' AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'))
        THEN tenant_id = analytics.claimed_tenant_id()
    WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                 WHERE r.rolname = 'analytics_anon' AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'))
        THEN false
    ELSE true END;
COMMENT ON FUNCTION analytics.rls_tenant_visible(uuid) IS
    'Row-level security predicate: for roles acting as analytics_tenant, the row belongs to the claimed tenant; for analytics_anon, never; for other roles, always';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'agents', 'usage_events', 'usage_events_default',
                             'analytics_daily_aggregates', 'usage_stats_daily', 'tenant_daily',
                             'analytics_monthly_aggregates', 'usage_stats_monthly'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (analytics.rls_tenant_visible(tenant_id)) '
                       'WITH CHECK (analytics.rls_tenant_visible(tenant_id))', t);
    END LOOP;
END
$$;
