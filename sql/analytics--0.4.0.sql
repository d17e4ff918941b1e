-------------------------------------------------------------------------------
-- schema/10_events.sql (layer 10, events and their ingestion): the schemas,
-- the registries, the event table with its partitions, and the log of days
-- whose events changed.  Run once, at CREATE EXTENSION.
--
-- The install script is sql/schema/*.sql then sql/functions/*.sql, in name
-- order (the Makefile concatenates them); a piece refers only to names of
-- its own or a lower layer (tools/layers.sh checks it).
-------------------------------------------------------------------------------

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

-------------------------------------------------------------------------------
-- Events: partitioned by UTC day
-------------------------------------------------------------------------------

CREATE TABLE analytics.usage_events (
    tenant_id     uuid NOT NULL
                  CONSTRAINT usage_events_tenant_id_fkey REFERENCES analytics.tenants (tenant_id),
    agent_id      uuid,
    occurred_at   timestamptz NOT NULL
                  CONSTRAINT usage_events_occurred_at_check CHECK (occurred_at > '-infinity' AND occurred_at < 'infinity'),
    event_type    text NOT NULL
                  CONSTRAINT usage_events_event_type_check CHECK (event_type IN
                      ('api_call', 'token_issuance', 'credential_rotation', 'tool_call',
                       'llm_call', 'agent_execution', 'workflow', 'session')),
    success       boolean NOT NULL DEFAULT true,
    count         integer NOT NULL DEFAULT 1
                  CONSTRAINT usage_events_count_check CHECK (count > 0 AND count <= 1000000),
    endpoint      text
                  CONSTRAINT usage_events_endpoint_check CHECK (length(endpoint) <= 1024),
    method        text
                  CONSTRAINT usage_events_method_check CHECK (length(method) <= 16),
    status_code   smallint
                  CONSTRAINT usage_events_status_code_check CHECK (status_code BETWEEN 100 AND 599),
    tool_name     text
                  CONSTRAINT usage_events_tool_name_check CHECK (length(tool_name) <= 256),
    mcp_server    text
                  CONSTRAINT usage_events_mcp_server_check CHECK (length(mcp_server) <= 256),
    model         text
                  CONSTRAINT usage_events_model_check CHECK (length(model) <= 256),
    input_tokens  bigint
                  CONSTRAINT usage_events_input_tokens_check CHECK (input_tokens >= 0 AND input_tokens <= 1000000000000),
    output_tokens bigint
                  CONSTRAINT usage_events_output_tokens_check CHECK (output_tokens >= 0 AND output_tokens <= 1000000000000),
    -- NaN sorts above every number in PostgreSQL, so "<= 1e10" also refuses NaN.
    latency_ms    double precision
                  CONSTRAINT usage_events_latency_ms_check CHECK (latency_ms >= 0 AND latency_ms <= 1e10),
    user_id       text
                  CONSTRAINT usage_events_user_id_check CHECK (length(user_id) <= 256),
    session_id    text
                  CONSTRAINT usage_events_session_id_check CHECK (length(session_id) <= 256),
    workflow_id   text
                  CONSTRAINT usage_events_workflow_id_check CHECK (length(workflow_id) <= 256),
    execution_id  text
                  CONSTRAINT usage_events_execution_id_check CHECK (length(execution_id) <= 256),
    error_code    text
                  CONSTRAINT usage_events_error_code_check CHECK (length(error_code) <= 128),
    attributes    jsonb
                  CONSTRAINT usage_events_attributes_check CHECK (octet_length(attributes::text) <= 65536),
    ingested_at   timestamptz NOT NULL DEFAULT now(),
    -- Added in 0.3.0, so at the end (an updated table has them there too).
    -- Prompt-cache tokens are part of input_tokens: with either set,
    -- input_tokens is set and at least their sum (each at most 10^12, so the
    -- sum cannot overflow once their own checks hold).
    cached_input_tokens bigint
                  CONSTRAINT usage_events_cached_input_tokens_check CHECK (cached_input_tokens >= 0 AND cached_input_tokens <= 1000000000000),
    cache_write_tokens bigint
                  CONSTRAINT usage_events_cache_write_tokens_check CHECK (cache_write_tokens >= 0 AND cache_write_tokens <= 1000000000000),
    workflow_type text
                  CONSTRAINT usage_events_workflow_type_check CHECK (length(workflow_type) <= 256),
    CONSTRAINT usage_events_cache_tokens_within_input_check CHECK (
        (cached_input_tokens IS NULL AND cache_write_tokens IS NULL)
        OR (input_tokens IS NOT NULL
            AND coalesce(cached_input_tokens, 0) + coalesce(cache_write_tokens, 0) <= input_tokens))
) PARTITION BY RANGE (occurred_at);
COMMENT ON TABLE analytics.usage_events IS
    'Usage events, one row per event or pre-counted batch; partitioned by UTC day (usage_events_pYYYYMMDD), with a default partition that catches days not yet partitioned';

CREATE INDEX usage_events_tenant_time_idx ON analytics.usage_events (tenant_id, occurred_at);
-- Readers add the events ingested since a day's watermark (about a minute
-- of them), the minute job merges them, and the nightly job finds days with
-- events written since their rollup (INSERT and COPY write no log), all by
-- ingested_at: a BRIN index costs little to keep and narrows each search to
-- the block ranges written lately, in ranges of 8 pages (a few hundred
-- events), so a minute's tail reads little more than itself.
CREATE INDEX usage_events_ingested_at_idx ON analytics.usage_events USING brin (ingested_at) WITH (pages_per_range = 8);
-- A session's and an execution's events, in time order (session_detail,
-- execution_detail): partial indexes, only events that carry the id.
CREATE INDEX usage_events_session_idx ON analytics.usage_events (session_id, occurred_at) WHERE session_id IS NOT NULL;
CREATE INDEX usage_events_execution_idx ON analytics.usage_events (execution_id, occurred_at) WHERE execution_id IS NOT NULL;

CREATE TABLE analytics.usage_events_default PARTITION OF analytics.usage_events DEFAULT;
COMMENT ON TABLE analytics.usage_events_default IS
    'Events for days that had no partition yet; analytics.maintain_partitions() moves them into day partitions';
SELECT pg_catalog.pg_extension_config_dump('analytics.usage_events_default', '');


-- Days whose events changed since their last rollup.  record_events writes
-- it in the same transaction as the events (analytics.mark_days_changed),
-- so does anyone who updates or deletes events; the nightly job adds the
-- days that INSERT or COPY wrote (found by ingested_at).  The rollup of a
-- day takes it out of the log before reading the day.
CREATE TABLE analytics.changed_days (
    day        date PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now(),
    -- true while the day's changes are new events only (record_events): the
    -- rollup rows plus the events ingested since the day's watermark are
    -- then the whole day, and the minute rollup merges them in; false once
    -- anything else changed the day (updates, deletes): read it raw and
    -- recompute it whole.
    appended   boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE analytics.changed_days IS
    'Days with events written, updated or deleted since their last rollup; appended: only new events (merged by the minute rollup), else the next rollup recomputes the day';
SELECT pg_catalog.pg_extension_config_dump('analytics.changed_days', '');
-------------------------------------------------------------------------------
-- schema/20_types.sql (layer 20, the C types): the quantile sketch
-- analytics.qsketch, the heatmap analytics.heatmap and the daily counters
-- analytics.daycounts, with their aggregates, accessors and the trend and
-- usage-summary computations.  See docs/qsketch.md, docs/heatmap.md,
-- docs/trends.md.  Run once, at CREATE EXTENSION.
-------------------------------------------------------------------------------


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

-- Weighted aggregates: a pre-counted row (value v, count n) counts as n
-- observations of v, added in one step; the same sketch as qsketch_agg over
-- the rows repeated n times.  Not STRICT: they skip a NULL value or n.
CREATE FUNCTION analytics.qsketch_trans_n(state analytics.qsketch, value float8, n bigint)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans_n'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans_n(analytics.qsketch, float8, bigint) IS
    'Transition function of qsketch_agg_n(float8, bigint): adds n >= 0 observations of a value (a NULL value or n is skipped) at relative accuracy 0.01';

CREATE FUNCTION analytics.qsketch_trans_n(state analytics.qsketch, value float8, n bigint, relative_accuracy float8)
RETURNS analytics.qsketch
AS 'MODULE_PATHNAME', 'qsketch_trans_n_accuracy'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION analytics.qsketch_trans_n(analytics.qsketch, float8, bigint, float8) IS
    'Transition function of qsketch_agg_n(float8, bigint, float8): adds n >= 0 observations of a value (a NULL value or n is skipped) at the given relative accuracy';

CREATE AGGREGATE analytics.qsketch_agg_n(value float8, n bigint) (
    SFUNC = analytics.qsketch_trans_n,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg_n(float8, bigint) IS
    'Quantile sketch of pre-counted rows, each value counted n >= 0 times (e.g. usage_events.count), within 1% relative error; rows with a NULL value or n skipped; NULL when there are none';

CREATE AGGREGATE analytics.qsketch_agg_n(value float8, n bigint, relative_accuracy float8) (
    SFUNC = analytics.qsketch_trans_n,
    STYPE = analytics.qsketch,
    SSPACE = 4200,
    FINALFUNC = analytics.qsketch_final,
    COMBINEFUNC = analytics.qsketch_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE analytics.qsketch_agg_n(float8, bigint, float8) IS
    'Quantile sketch of pre-counted rows, each value counted n >= 0 times, within the given relative error (0.0001 to 0.5); NULL when there are none';

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

CREATE FUNCTION analytics.daycounts_jsonb(counts analytics.daycounts, keys text[])
RETURNS jsonb
AS 'MODULE_PATHNAME', 'daycounts_jsonb'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_jsonb(analytics.daycounts, text[]) IS
    'The daily series of a daycounts as a jsonb array, one object per day of its period, oldest first, zero-filled: {"date": "YYYY-MM-DD", keys[1]: counter 1, ...}; one key per counter, 1 to 64 bytes, distinct, not "date"';

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
-- schema/40_families.sql (layer 40): the rollup families of contract section
-- 6.3, GENERATED by tools/families.py from its definitions: do not edit by
-- hand.  Each family is a table (tenant_id, bucket, key columns, values)
-- grouped from the raw events; analytics.family_columns() (functions/
-- 40_family_defs.sql) holds the expressions that fill and merge it.
-------------------------------------------------------------------------------

CREATE TABLE analytics.type_hourly (
    tenant_id uuid NOT NULL,
    bucket timestamptz NOT NULL,
    event_type text,
    events bigint NOT NULL,
    failures bigint NOT NULL,
    timeouts bigint NOT NULL,
    latency_n bigint NOT NULL,
    latency_sum double precision NOT NULL,
    latency analytics.qsketch,
    input_tokens numeric NOT NULL,
    output_tokens numeric NOT NULL,
    cached_input_tokens numeric NOT NULL,
    cache_write_tokens numeric NOT NULL,
    cost_usd numeric NOT NULL,
    unpriced_calls bigint NOT NULL,
    unpriced_tokens numeric NOT NULL,
    agents uuid[] NOT NULL,
    last_at timestamptz,
    CONSTRAINT type_hourly_key UNIQUE NULLS NOT DISTINCT (tenant_id, bucket, event_type)
);
CREATE INDEX type_hourly_bucket_idx ON analytics.type_hourly (bucket);
COMMENT ON TABLE analytics.type_hourly IS
    'Events per tenant, UTC hour and event type: counts, failures, timeouts, latency (sum and count-weighted qsketch), tokens, cost, the agents active; one row per UTC hour and key, events ingested before the day''s watermark (a rollup family, analytics.family_columns())';

CREATE TABLE analytics.agent_type_daily (
    tenant_id uuid NOT NULL,
    bucket timestamptz NOT NULL,
    agent_id uuid,
    event_type text,
    events bigint NOT NULL,
    failures bigint NOT NULL,
    timeouts bigint NOT NULL,
    latency_n bigint NOT NULL,
    latency_sum double precision NOT NULL,
    latency analytics.qsketch,
    input_tokens numeric NOT NULL,
    output_tokens numeric NOT NULL,
    cached_input_tokens numeric NOT NULL,
    cache_write_tokens numeric NOT NULL,
    cost_usd numeric NOT NULL,
    unpriced_calls bigint NOT NULL,
    unpriced_tokens numeric NOT NULL,
    last_at timestamptz,
    CONSTRAINT agent_type_daily_key UNIQUE NULLS NOT DISTINCT (tenant_id, bucket, agent_id, event_type)
);
CREATE INDEX agent_type_daily_bucket_idx ON analytics.agent_type_daily (bucket);
CREATE INDEX agent_type_daily_agent_idx ON analytics.agent_type_daily (tenant_id, agent_id, bucket);
COMMENT ON TABLE analytics.agent_type_daily IS
    'Events per tenant, UTC day, agent and event type: counts, failures, timeouts, latency, tokens, cost; one row per UTC day (bucket = its midnight) and key, events ingested before the day''s watermark (a rollup family, analytics.family_columns())';

CREATE TABLE analytics.tool_daily (
    tenant_id uuid NOT NULL,
    bucket timestamptz NOT NULL,
    tool_name text,
    mcp_server text,
    calls bigint NOT NULL,
    failures bigint NOT NULL,
    timeouts bigint NOT NULL,
    latency_n bigint NOT NULL,
    latency_sum double precision NOT NULL,
    latency analytics.qsketch,
    agents uuid[] NOT NULL,
    last_at timestamptz,
    heatmap analytics.heatmap,
    CONSTRAINT tool_daily_key UNIQUE NULLS NOT DISTINCT (tenant_id, bucket, tool_name, mcp_server)
);
CREATE INDEX tool_daily_bucket_idx ON analytics.tool_daily (bucket);
COMMENT ON TABLE analytics.tool_daily IS
    'Tool calls per tenant, UTC day, tool and MCP server: calls, failures, timeouts, latency, the agents calling, the last call, a day-of-week x hour heatmap; one row per UTC day (bucket = its midnight) and key, events ingested before the day''s watermark (a rollup family, analytics.family_columns())';

CREATE TABLE analytics.error_daily (
    tenant_id uuid NOT NULL,
    bucket timestamptz NOT NULL,
    event_type text,
    error_code text,
    agent_id uuid,
    tool_name text,
    mcp_server text,
    failures bigint NOT NULL,
    last_at timestamptz,
    CONSTRAINT error_daily_key UNIQUE NULLS NOT DISTINCT (tenant_id, bucket, event_type, error_code, agent_id, tool_name, mcp_server)
);
CREATE INDEX error_daily_bucket_idx ON analytics.error_daily (bucket);
COMMENT ON TABLE analytics.error_daily IS
    'Failed events per tenant, UTC day, event type, error code, agent, tool and MCP server: how many, the last one; one row per UTC day (bucket = its midnight) and key, events ingested before the day''s watermark (a rollup family, analytics.family_columns())';

CREATE TABLE analytics.api_daily (
    tenant_id uuid NOT NULL,
    bucket timestamptz NOT NULL,
    endpoint text,
    method text,
    status_class smallint,
    calls bigint NOT NULL,
    failures bigint NOT NULL,
    latency_n bigint NOT NULL,
    latency_sum double precision NOT NULL,
    latency analytics.qsketch,
    CONSTRAINT api_daily_key UNIQUE NULLS NOT DISTINCT (tenant_id, bucket, endpoint, method, status_class)
);
CREATE INDEX api_daily_bucket_idx ON analytics.api_daily (bucket);
COMMENT ON TABLE analytics.api_daily IS
    'Api calls per tenant, UTC day, endpoint, method and status class (status_code / 100): calls, failures, latency; one row per UTC day (bucket = its midnight) and key, events ingested before the day''s watermark (a rollup family, analytics.family_columns())';

CREATE TABLE analytics.session_daily (
    tenant_id uuid NOT NULL,
    bucket timestamptz NOT NULL,
    session_id text,
    user_id text,
    events bigint NOT NULL,
    failures bigint NOT NULL,
    executions bigint NOT NULL,
    execution_failures bigint NOT NULL,
    execution_latency_n bigint NOT NULL,
    execution_latency_sum double precision NOT NULL,
    input_tokens numeric NOT NULL,
    output_tokens numeric NOT NULL,
    cached_input_tokens numeric NOT NULL,
    cache_write_tokens numeric NOT NULL,
    cost_usd numeric NOT NULL,
    unpriced_calls bigint NOT NULL,
    unpriced_tokens numeric NOT NULL,
    agents uuid[] NOT NULL,
    first_at timestamptz,
    last_at timestamptz,
    CONSTRAINT session_daily_key UNIQUE NULLS NOT DISTINCT (tenant_id, bucket, session_id, user_id)
);
CREATE INDEX session_daily_bucket_idx ON analytics.session_daily (bucket);
COMMENT ON TABLE analytics.session_daily IS
    'Events per tenant, UTC day, session and user: events, failures, agent executions (count, failures, duration), tokens, cost, agents, first and last event; one row per UTC day (bucket = its midnight) and key, events ingested before the day''s watermark (a rollup family, analytics.family_columns())';

CREATE TABLE analytics.user_daily (
    tenant_id uuid NOT NULL,
    bucket timestamptz NOT NULL,
    user_id text,
    events bigint NOT NULL,
    failures bigint NOT NULL,
    executions bigint NOT NULL,
    input_tokens numeric NOT NULL,
    output_tokens numeric NOT NULL,
    cached_input_tokens numeric NOT NULL,
    cache_write_tokens numeric NOT NULL,
    cost_usd numeric NOT NULL,
    unpriced_calls bigint NOT NULL,
    unpriced_tokens numeric NOT NULL,
    agents uuid[] NOT NULL,
    first_at timestamptz,
    last_at timestamptz,
    CONSTRAINT user_daily_key UNIQUE NULLS NOT DISTINCT (tenant_id, bucket, user_id)
);
CREATE INDEX user_daily_bucket_idx ON analytics.user_daily (bucket);
CREATE INDEX user_daily_user_idx ON analytics.user_daily (tenant_id, user_id, bucket);
COMMENT ON TABLE analytics.user_daily IS
    'Events per tenant, UTC day and user: events, failures, agent executions, tokens, cost, agents, first and last event; one row per UTC day (bucket = its midnight) and key, events ingested before the day''s watermark (a rollup family, analytics.family_columns())';

CREATE TABLE analytics.workflow_daily (
    tenant_id uuid NOT NULL,
    bucket timestamptz NOT NULL,
    workflow_id text,
    workflow_type text,
    runs bigint NOT NULL,
    run_failures bigint NOT NULL,
    run_latency_n bigint NOT NULL,
    run_latency_sum double precision NOT NULL,
    run_latency analytics.qsketch,
    executions bigint NOT NULL,
    tool_calls bigint NOT NULL,
    failures bigint NOT NULL,
    input_tokens numeric NOT NULL,
    output_tokens numeric NOT NULL,
    cached_input_tokens numeric NOT NULL,
    cache_write_tokens numeric NOT NULL,
    cost_usd numeric NOT NULL,
    unpriced_calls bigint NOT NULL,
    unpriced_tokens numeric NOT NULL,
    agents uuid[] NOT NULL,
    first_at timestamptz,
    last_at timestamptz,
    CONSTRAINT workflow_daily_key UNIQUE NULLS NOT DISTINCT (tenant_id, bucket, workflow_id)
);
CREATE INDEX workflow_daily_bucket_idx ON analytics.workflow_daily (bucket);
COMMENT ON TABLE analytics.workflow_daily IS
    'Events per tenant, UTC day and workflow run (workflow_id): its type, the workflow events (runs, failures, duration), executions, tool calls, tokens, cost and agents of the run; one row per UTC day (bucket = its midnight) and key, events ingested before the day''s watermark (a rollup family, analytics.family_columns())';
-------------------------------------------------------------------------------
-- schema/40_rollups.sql (layer 40, rollups): the rollup tables, the days
-- rolled and the job history.  Run once, at CREATE EXTENSION.
--
-- Vocabulary: a day is "rolled" when analytics.rollup_days has it, and
-- "clean" when it is rolled and not changed since (analytics.changed_days
-- does not have it).  A rolled day's rows hold exactly its events ingested
-- before its watermark; readers (layer 50) add the events since where
-- analytics.read_plan says so, and read days never rolled, or rewritten,
-- from raw events.
-------------------------------------------------------------------------------

-- Days that have been rolled up.
CREATE TABLE analytics.rollup_days (
    day          date PRIMARY KEY,
    rolled_at    timestamptz NOT NULL,
    events       bigint NOT NULL,
    rows_written bigint NOT NULL,
    raw_dropped  boolean NOT NULL DEFAULT false,
    watermark    timestamptz NOT NULL,
    complete     boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE analytics.rollup_days IS
    'Days rolled up: when, how many events, how many rollup rows the last run wrote, whether retention has dropped the raw events, the watermark (the rollup rows hold exactly the day''s events ingested before it), and complete: false while the minute rollup has been merging increments into the day (the nightly rollup then recomputes it once)';

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
    input_tokens     numeric NOT NULL,
    output_tokens    numeric NOT NULL,
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

-- The read models of the per-agent and per-endpoint answers: one row per
-- tenant, day and agent with an event, its events and the six metrics side
-- by side (the pivot of analytics_daily_aggregates), and one per tenant, day, endpoint and
-- method of the api calls with their merged latency sketch (usage_stats_daily
-- summed over agents and models), so a month of agent_activity or
-- call_patterns reads a few hundred rows.
CREATE TABLE analytics.agent_daily (
    tenant_id            uuid NOT NULL,
    date                 date NOT NULL,
    agent_id             uuid,
    events               bigint NOT NULL,
    api_calls            bigint NOT NULL,
    token_issuances      bigint NOT NULL,
    token_failures       bigint NOT NULL,
    credential_rotations bigint NOT NULL,
    tool_calls           bigint NOT NULL,
    llm_calls            bigint NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agent_daily_key UNIQUE NULLS NOT DISTINCT (tenant_id, date, agent_id)
);
COMMENT ON TABLE analytics.agent_daily IS
    'One row per tenant, day and agent with an event that day (NULL: events with no agent): its events and the six daily metrics side by side';

CREATE TABLE analytics.endpoint_daily (
    tenant_id  uuid NOT NULL,
    date       date NOT NULL,
    endpoint   text,
    method     text,
    calls      bigint NOT NULL,
    successes  bigint NOT NULL,
    latency    analytics.qsketch,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT endpoint_daily_key UNIQUE NULLS NOT DISTINCT (tenant_id, date, endpoint, method)
);
COMMENT ON TABLE analytics.endpoint_daily IS
    'Api calls per tenant, day, endpoint and method: calls, successes and the merged latency qsketch';

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

SELECT pg_catalog.pg_extension_config_dump('analytics.rollup_days', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.analytics_daily_aggregates', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.usage_stats_daily', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.tenant_daily', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.agent_daily', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.endpoint_daily', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.analytics_monthly_aggregates', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.usage_stats_monthly', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.model_prices', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.job_runs', '');

-------------------------------------------------------------------------------
-- schema/70_reports.sql (layer 70, typed report functions): the row type of
-- analytics.daily_counts.  Run once, at CREATE EXTENSION.
-------------------------------------------------------------------------------

-- The six daily metrics of a tenant on one day.
CREATE TYPE analytics.day_metrics AS (
    date date, api_calls bigint, token_issuances bigint, token_failures bigint,
    credential_rotations bigint, tool_calls bigint, llm_calls bigint);
COMMENT ON TYPE analytics.day_metrics IS 'The six daily metrics of a tenant on one day';
-------------------------------------------------------------------------------
-- functions/10_events.sql (layer 10, events and their ingestion): settings,
-- the registries' upserts, day partitions, the changed-day log and
-- record_events.  Every statement here is re-runnable: this file is part of
-- the install script and of every upgrade script.
--
-- Vocabulary: a "day" is a UTC calendar day; the "accepted window" of
-- record_events is analytics.raw_retention_days back from today to
-- analytics.max_event_future_seconds ahead of now; a day is "changed" while
-- analytics.changed_days has it.
-------------------------------------------------------------------------------

-- The current value of the setting analytics.<name>.  Being a C function,
-- calling it loads the library, whose _PG_init defines the settings: SQL
-- that reads settings through it works without shared_preload_libraries.
CREATE OR REPLACE FUNCTION analytics.setting(name text)
RETURNS text
AS 'MODULE_PATHNAME', 'analytics_setting'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.setting(text) IS
    'The current value of the setting analytics.<name> (e.g. analytics.setting(''enabled'')), whether or not the library is preloaded';

-- Today in the reporting time zone (UTC).
CREATE OR REPLACE FUNCTION analytics.utc_today()
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT (pg_catalog.now() AT TIME ZONE 'UTC')::date $$;
COMMENT ON FUNCTION analytics.utc_today() IS 'Today (UTC), the reporting day';

-- The transaction-level advisory lock of a day: writers of a day's events
-- hold it shared (mark_days_changed), the rollup of the day exclusive, so a
-- rollup reads the day only after every writer already under way has
-- committed or aborted, and a writer that comes later logs the day again.
CREATE OR REPLACE FUNCTION analytics.lock_day(day date, exclusive boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF exclusive THEN
        PERFORM pg_advisory_xact_lock(hashtext('analytics.day'), day - date '2000-01-01');
    ELSE
        PERFORM pg_advisory_xact_lock_shared(hashtext('analytics.day'), day - date '2000-01-01');
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.lock_day(date, boolean) IS
    'Takes the transaction advisory lock of a UTC day: shared for writers of its events, exclusive for its rollup';

-- Log days whose events this transaction wrote, updated or deleted.
CREATE OR REPLACE FUNCTION analytics.mark_days_changed(days date[])
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d date;
    n     integer := 0;
    stamp timestamptz := pg_catalog.now();
BEGIN
    -- In day order, so that two writers never wait for each other in a cycle.
    FOR d IN SELECT DISTINCT u FROM unnest(days) u WHERE u IS NOT NULL ORDER BY 1 LOOP
        PERFORM analytics.lock_day(d, false);
        -- (a day logged as appended-only is now rewritten: recompute it whole)
        INSERT INTO analytics.changed_days AS c (day, changed_at, appended) VALUES (d, stamp, false)
        ON CONFLICT (day) DO UPDATE SET appended = false WHERE c.appended;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION analytics.mark_days_changed(date[]) IS
    'Logs UTC days whose events the current transaction updated or deleted (or changed in any way other than adding events), so reads take them from raw events and the next rollup recomputes them whole; whoever updates or deletes events should call it; returns the number of days';


-- Give a partition the row-level security of its parent (PostgreSQL does
-- not carry policies over to partitions, which can be queried directly).
CREATE OR REPLACE FUNCTION analytics.copy_row_security(parent regclass, child regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    IF NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = parent) THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', child);
    FOR p IN SELECT pol.polname, pol.polcmd, pol.polpermissive,
                    pg_get_expr(pol.polqual, pol.polrelid) AS qual,
                    pg_get_expr(pol.polwithcheck, pol.polrelid) AS chk
             FROM pg_policy pol WHERE pol.polrelid = parent
               AND NOT EXISTS (SELECT 1 FROM pg_policy q WHERE q.polrelid = child AND q.polname = pol.polname) LOOP
        EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s%s%s', p.polname, child,
                       CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                       CASE WHEN p.polcmd = 'r' THEN 'SELECT' WHEN p.polcmd = 'a' THEN 'INSERT'
                            WHEN p.polcmd = 'w' THEN 'UPDATE' WHEN p.polcmd = 'd' THEN 'DELETE' ELSE 'ALL' END,
                       coalesce(' USING (' || p.qual || ')', ''), coalesce(' WITH CHECK (' || p.chk || ')', ''));
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.copy_row_security(regclass, regclass) IS
    'Enables row-level security on a partition and creates the policies of its parent that it lacks';

CREATE OR REPLACE FUNCTION analytics.upsert_tenant(tenant_id uuid, name text, tier text DEFAULT 'free')
RETURNS analytics.tenants
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result analytics.tenants;
    stamp  timestamptz := pg_catalog.now();
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
        SET name = excluded.name, tier = excluded.tier, updated_at = stamp
    RETURNING t.* INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.upsert_tenant(uuid, text, text) IS
    'Registers a tenant, or updates its name and tier; returns the row';

CREATE OR REPLACE FUNCTION analytics.upsert_agent(agent_id uuid, tenant_id uuid, name text)
RETURNS analytics.agents
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result analytics.agents;
    stamp  timestamptz := pg_catalog.now();
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
        SET name = excluded.name, updated_at = stamp
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

-- The name of the partition for a UTC day.
CREATE OR REPLACE FUNCTION analytics.partition_name(day date)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT 'usage_events_p' || pg_catalog.to_char($1, 'YYYYMMDD') $$;
COMMENT ON FUNCTION analytics.partition_name(date) IS 'Name of the usage_events partition that holds a UTC day';

-- Create the day partitions of [from_day, to_day] that do not exist yet,
-- moving any rows of those days out of the default partition.
CREATE OR REPLACE FUNCTION analytics.ensure_partitions(from_day date, to_day date)
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
    -- On Citus: the move out of the default partition and the ATTACH in one
    -- transaction, over one connection per node (a placeholder elsewhere).
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
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
        PERFORM analytics.copy_row_security('analytics.usage_events', format('analytics.%I', part)::regclass);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.ensure_partitions(date, date) IS
    'Creates the missing day partitions of usage_events for a range of UTC days, moving their rows out of the default partition; returns how many it created';

-- Premake partitions ahead and drain the default partition of the days in
-- the accepted window (analytics.raw_retention_days back, the premade days
-- ahead).  Rows of days outside it stay where they are: no number of
-- far-off days can make it create more than the window's partitions.
CREATE OR REPLACE FUNCTION analytics.maintain_partitions()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today   date := analytics.utc_today();
    ahead   integer := analytics.setting('partition_premake_days')::integer;
    oldest  date := today - analytics.setting('raw_retention_days')::integer;
    d       date;
    created integer;
BEGIN
    created := analytics.ensure_partitions(today, today + ahead);
    FOR d IN SELECT DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default e
             WHERE e.occurred_at >= oldest::timestamp AT TIME ZONE 'UTC'
               AND e.occurred_at < (today + ahead + 1)::timestamp AT TIME ZONE 'UTC'
             ORDER BY 1 LOOP
        created := created + analytics.ensure_partitions(d, d);
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.maintain_partitions() IS
    'Creates day partitions from today to analytics.partition_premake_days ahead and moves rows of days within the accepted window (analytics.raw_retention_days back) out of the default partition; returns how many partitions it created';

-- Partitions of usage_events with the UTC day each holds.
CREATE OR REPLACE VIEW analytics.event_partitions AS
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
-------------------------------------------------------------------------------
-- Ingestion
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.record_events(events jsonb)
RETURNS bigint
AS 'MODULE_PATHNAME', 'analytics_record_events'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION analytics.record_events(jsonb) IS
    'Stores a JSON array of events (objects with the usage_events column names), all or nothing; returns the number of rows stored. A bad element (outside the accepted window, over a limit, an unregistered tenant, an agent of another tenant) is refused with an error whose detail names its index and field; unknown agents are registered and the days written are logged in analytics.changed_days';

-------------------------------------------------------------------------------
-- functions/30_metrics.sql (layer 30, metric definitions): the one mapping
-- from events to the daily metrics of the contract (§2).  The rollup and
-- the raw-day readers both count metrics through it.
-------------------------------------------------------------------------------

-- A metric counts the events of one type (only the failed ones when
-- failures_only).  Every event of a type counts in each metric of its type.
CREATE OR REPLACE VIEW analytics.metric_definitions (metric_type, event_type, failures_only) AS
VALUES ('api_calls',            'api_call',            false),
       ('token_issuances',      'token_issuance',      false),
       ('token_failures',       'token_issuance',      true),
       ('credential_rotations', 'credential_rotation', false),
       ('tool_calls',           'tool_call',           false),
       ('llm_calls',            'llm_call',            false);
COMMENT ON VIEW analytics.metric_definitions IS
    'The daily metrics (contract §2): each counts the events of event_type, only the failed ones when failures_only; api_calls, token_issuances (all attempts), token_failures (failed attempts), credential_rotations, tool_calls, llm_calls';

-- The metric counts of a group of events of one type: (metric_type, n) for
-- each metric of the type, n = calls, or calls - successes for a failures
-- metric.  Rows with n = 0 are left out.
CREATE OR REPLACE FUNCTION analytics.metric_counts(event_type text, calls bigint, successes bigint,
                                                   OUT metric_type text, OUT n bigint)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.metric_type, CASE WHEN m.failures_only THEN $2 - $3 ELSE $2 END
    FROM analytics.metric_definitions m
    WHERE m.event_type = $1 AND CASE WHEN m.failures_only THEN $2 - $3 ELSE $2 END > 0
$$;
COMMENT ON FUNCTION analytics.metric_counts(text, bigint, bigint) IS
    'The daily metric counts of calls events of one type of which successes succeeded, per analytics.metric_definitions; zero counts left out';
-------------------------------------------------------------------------------
-- functions/40_families.sql (layer 40, rollups): the rollup families of
-- contract section 6.3 (tables in schema/40_families.sql, catalogue in
-- analytics.family_columns(), both generated by tools/families.py).
--
-- One SELECT per family groups raw events into the family's rows; the same
-- text serves three callers, so their answers agree by construction:
--   rollup_families(day, NULL, w)   the nightly rollup of a day (rollup_day):
--                                   the day's rows recomputed from the
--                                   events ingested before the watermark w
--   rollup_families(day, w_old, w)  the minute increment (rollup_increment):
--                                   the events ingested in [w_old, w) merged
--                                   in (sums add, sketches and heatmaps
--                                   merge, agent sets unite, min/max)
--   read_family(shape, tenant, from, to)
--                                   a reader: the family's rows of a time
--                                   window, whole buckets from the table plus
--                                   the raw events read_plan names, partial
--                                   buckets at the window's edges from raw
--                                   events (so an event shows at once)
-- Re-runnable.
-------------------------------------------------------------------------------

-- The SELECT that groups a family's rows from the raw events matching
-- "where" (SQL over alias e), in the table's column order.
CREATE OR REPLACE FUNCTION analytics.family_select(family text, "where" text, source text DEFAULT 'analytics.usage_events')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grain   text;
    flt     text;
    exprs   text;
    groups  text;
    priced  boolean;
BEGIN
    SELECT min(c.grain), min(c.filter),
           string_agg(c.expr || ' AS ' || quote_ident(c.col), ', ' ORDER BY c.pos),
           string_agg((c.pos + 2)::text, ', ' ORDER BY c.pos) FILTER (WHERE c.kind = 'key'),
           bool_or(c.expr LIKE '%p.%')
    INTO grain, flt, exprs, groups, priced
    FROM analytics.family_columns() c WHERE c.family = family_select.family;
    IF grain IS NULL THEN
        RAISE EXCEPTION 'unknown rollup family %', family USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN format('SELECT e.tenant_id, date_trunc(%L, e.occurred_at AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC'' AS bucket, %s '
                  'FROM %s e %s WHERE (%s)%s GROUP BY 1, 2, %s',
                  grain, exprs, source,
                  CASE WHEN priced THEN 'LEFT JOIN analytics.model_prices p ON p.model = e.model' ELSE '' END,
                  "where", CASE WHEN flt IS NULL THEN '' ELSE ' AND ' || flt END, groups);
END
$$;
COMMENT ON FUNCTION analytics.family_select(text, text, text) IS
    'The SELECT grouping a rollup family''s rows (in table column order) from the raw events e matching the given condition (source: the relation read as e, usage_events by default)';

-- A column of a family as text for comparing rows, by immutable functions
-- only (Citus refuses stable ones, such as timestamptz and array output, in
-- a statement that writes): %1$s stands for the row's alias.
CREATE OR REPLACE FUNCTION analytics.family_text(col text, type regtype)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF type = 'timestamptz'::regtype THEN
        RETURN format('encode(pg_catalog.timestamptz_send(%%1$s.%I), ''hex'')', col);
    ELSIF type = 'double precision'::regtype THEN
        -- (a float sum depends on the order rows are added in, which the
        -- plan may change: equal to 6 decimals is equal)
        RETURN format('round(%%1$s.%I::numeric, 6)::text', col);
    ELSIF type = 'analytics.qsketch'::regtype THEN
        -- (its buckets and count are exact; its float sum as above)
        RETURN format('(%%1$s.%I::text::jsonb - ''sum'')::text', col);
    ELSIF type IN ('uuid[]'::regtype, 'text[]'::regtype) THEN
        RETURN format('encode(analytics.stored_bytes(%%1$s.%I), ''hex'')', col);
    END IF;
    RETURN format('%%1$s.%I::text', col);
END
$$;
COMMENT ON FUNCTION analytics.family_text(text, regtype) IS
    'SQL (with %1$s for the row alias) turning a rollup family column into comparable text by immutable functions only';

-- Roll the events of one UTC day into every family: since NULL, the day's
-- rows are recomputed from the events ingested before "until"; else the
-- events ingested in [since, until) are merged into them.  Returns the rows
-- written.  Called by rollup_day and rollup_increment under the day lock.
CREATE OR REPLACE FUNCTION analytics.rollup_families(day date, since timestamptz, "until" timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- The plan of rollup_day (serial, hashed): float sums then add up in the
-- same order at every run, so a rerun over unchanged events compares equal
-- whoever calls.
SET max_parallel_workers_per_gather = 0
SET enable_nestloop = off
SET enable_sort = off
AS $$
DECLARE
    lo    timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi    timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    f     record;
    cond  text;
    kx    text;
    vx    text;
    merges text := '';
    counts text[] := '{}';
    n     bigint;
    total bigint := 0;
BEGIN
    IF day IS NULL OR "until" IS NULL THEN
        RAISE EXCEPTION 'day and until are required' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    cond := format('e.occurred_at >= %L AND e.occurred_at < %L AND e.ingested_at < %L', lo, hi, "until")
         || CASE WHEN since IS NULL THEN '' ELSE format(' AND e.ingested_at >= %L', since) END;
    FOR f IN
        SELECT c.family,
               string_agg(quote_ident(c.col) || ' = ' ||
                          CASE WHEN c.kind = 'sum' THEN format('t.%1$I + excluded.%1$I', c.col)
                               WHEN c.kind = 'sketch' THEN format('analytics.qsketch_combine(t.%1$I, excluded.%1$I)', c.col)
                               WHEN c.kind = 'heatmap' THEN format('analytics.heatmap_combine(t.%1$I, excluded.%1$I)', c.col)
                               WHEN c.kind = 'uuids' THEN format('analytics.uuid_union(t.%1$I, excluded.%1$I)', c.col)
                               WHEN c.kind = 'min' THEN format('least(t.%1$I, excluded.%1$I)', c.col)
                               ELSE format('greatest(t.%1$I, excluded.%1$I)', c.col) END,
                          ', ' ORDER BY c.pos) FILTER (WHERE c.kind <> 'key') AS merge,
               string_agg(format('%1$I = excluded.%1$I', c.col), ', ' ORDER BY c.pos) FILTER (WHERE c.kind <> 'key') AS replace,
               string_agg(format('coalesce(%s, chr(2))', analytics.family_text(c.col, a.atttypid)), ' || chr(1) || ' ORDER BY c.pos)
                   FILTER (WHERE c.kind = 'key') AS keytext,
               string_agg(format('coalesce(%s, chr(2))', analytics.family_text(c.col, a.atttypid)), ' || chr(1) || ' ORDER BY c.pos)
                   FILTER (WHERE c.kind <> 'key') AS valtext,
               string_agg(format('%I', c.col), ', ' ORDER BY c.pos) AS cols
        FROM analytics.family_columns() c
        JOIN pg_catalog.pg_attribute a
          ON a.attrelid = pg_catalog.to_regclass('analytics.' || c.family) AND a.attname = c.col
        GROUP BY c.family ORDER BY c.family
    LOOP
        IF since IS NULL THEN
            -- The day recomputed: only rows that are new or differ are
            -- written, rows no longer produced deleted, so a rerun over
            -- unchanged events writes nothing (as rollup_day's own tables).
            -- Keys and values compare as text (NULL-safe, hashable).
            kx := format('x.tenant_id::text || chr(1) || ' || analytics.family_text('bucket', 'timestamptz'::regtype)
                         || ' || chr(1) || ' || f.keytext, 'x');
            vx := format(f.valtext, 'x');
            EXECUTE format(
                'WITH g AS MATERIALIZED (SELECT x.*, %3$s AS k_, %4$s AS v_ FROM (%5$s) x), '
                'cur AS MATERIALIZED (SELECT %3$s AS k_, %4$s AS v_ FROM analytics.%1$I x WHERE x.bucket >= %6$L AND x.bucket < %7$L), '
                'up AS (INSERT INTO analytics.%1$I AS t SELECT g.tenant_id, g.bucket, %8$s FROM g LEFT JOIN cur ON cur.k_ = g.k_ '
                '       WHERE cur.v_ IS DISTINCT FROM g.v_ '
                '       ON CONFLICT ON CONSTRAINT %2$I DO UPDATE SET %9$s RETURNING 1), '
                'gone AS (DELETE FROM analytics.%1$I x WHERE x.bucket >= %6$L AND x.bucket < %7$L '
                '         AND %3$s IN (SELECT cur.k_ FROM cur WHERE NOT EXISTS (SELECT 1 FROM g WHERE g.k_ = cur.k_)) RETURNING 1) '
                'SELECT (SELECT count(*) FROM up) + (SELECT count(*) FROM gone)',
                f.family, f.family || '_key', kx, vx, analytics.family_select(f.family, cond), lo, hi,
                (SELECT string_agg('g.' || c, ', ') FROM unnest(string_to_array(f.cols, ', ')) c), f.replace)
            INTO n;
            total := total + n;
            CONTINUE;
        ELSE
            -- (merged below, every family in one statement)
            merges := merges || format(', %I AS (INSERT INTO analytics.%I AS t %s ON CONFLICT ON CONSTRAINT %I DO UPDATE SET %s RETURNING 1)',
                                       'm_' || f.family, f.family, analytics.family_select(f.family, 'true', 'ev'),
                                       f.family || '_key', f.merge);
            counts := counts || format('(SELECT count(*) FROM %I)', 'm_' || f.family);
        END IF;
    END LOOP;
    IF since IS NOT NULL THEN
        -- An increment: its events read once (the BRIN index on ingested_at
        -- finds them), then grouped into every family.
        EXECUTE format('WITH ev AS MATERIALIZED (SELECT * FROM analytics.usage_events e WHERE %s)%s SELECT %s',
                       cond, merges, array_to_string(counts, ' + '))
        INTO total;
    END IF;
    RETURN total;
END
$$;
COMMENT ON FUNCTION analytics.rollup_families(date, timestamptz, timestamptz) IS
    'Rolls a UTC day''s events into every rollup family: with since NULL recomputes the day''s rows from the events ingested before until, else merges in those ingested in [since, until); returns the rows written (rollup_day and rollup_increment call it)';

-- A family's rows of the window [from, to) for one tenant (NULL: every
-- tenant), up to the moment of the call: buckets inside the window from
-- the table (plus the raw events ingested since the watermark, or the raw
-- events whole for days never rolled or rewritten, as read_plan says), the
-- partial buckets at the window's edges from raw events.  A key can have
-- several rows per bucket: callers aggregate.  shape: NULL::analytics.<family>.
CREATE OR REPLACE FUNCTION analytics.read_family(shape anyelement, tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS SETOF anyelement
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    fam     text := (SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_type t ON t.typrelid = c.oid
                     WHERE t.oid = pg_catalog.pg_typeof(shape)
                       AND c.relnamespace = 'analytics'::regnamespace);
    grain   text;
    unit    interval;
    full_lo timestamptz;
    full_hi timestamptz;
    tpred   text;
    days    date[];
    since   timestamptz[];
    whole   date[];
    d       date;
    s       timestamptz;
BEGIN
    SELECT min(c.grain) INTO grain FROM analytics.family_columns() c WHERE c.family = fam;
    IF grain IS NULL THEN
        RAISE EXCEPTION 'read_family: % is not a rollup family', pg_catalog.pg_typeof(shape)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RETURN;
    END IF;
    unit := CASE WHEN grain = 'hour' THEN interval '1 hour' ELSE interval '1 day' END;
    tpred := CASE WHEN tenant_id IS NULL THEN '' ELSE format(' AND e.tenant_id = %L', tenant_id) END;
    full_lo := date_trunc(grain, "from" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    IF full_lo < "from" THEN
        full_lo := full_lo + unit;
    END IF;
    full_hi := date_trunc(grain, "to" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    IF full_lo >= full_hi THEN
        -- (no whole bucket: the window's raw events)
        RETURN QUERY EXECUTE analytics.family_select(fam,
            format('e.occurred_at >= %L AND e.occurred_at < %L', "from", "to") || tpred);
        RETURN;
    END IF;
    -- The partial buckets at the edges.
    IF "from" < full_lo THEN
        RETURN QUERY EXECUTE analytics.family_select(fam,
            format('e.occurred_at >= %L AND e.occurred_at < %L', "from", full_lo) || tpred);
    END IF;
    IF full_hi < "to" THEN
        RETURN QUERY EXECUTE analytics.family_select(fam,
            format('e.occurred_at >= %L AND e.occurred_at < %L', full_hi, "to") || tpred);
    END IF;
    -- Whole buckets: rollup rows, and raw events as read_plan says.
    SELECT p.days, p.since, p.whole INTO days, since, whole
    FROM analytics.read_plan((full_lo AT TIME ZONE 'UTC')::date,
                             ((full_hi - interval '1 microsecond') AT TIME ZONE 'UTC')::date) p;
    RETURN QUERY EXECUTE format(
        'SELECT t.* FROM analytics.%I t WHERE t.bucket >= %L AND t.bucket < %L%s%s',
        fam, full_lo, full_hi,
        CASE WHEN tenant_id IS NULL THEN '' ELSE format(' AND t.tenant_id = %L', tenant_id) END,
        CASE WHEN cardinality(whole) = 0 THEN ''
             ELSE format(' AND (t.bucket AT TIME ZONE ''UTC'')::date <> ALL (%L::date[])', whole) END);
    FOR d, s IN SELECT u.d, u.s FROM unnest(days, since) AS u(d, s) LOOP
        RETURN QUERY EXECUTE analytics.family_select(fam,
            format('e.occurred_at >= %L AND e.occurred_at < %L',
                   greatest(d::timestamp AT TIME ZONE 'UTC', full_lo),
                   least((d + 1)::timestamp AT TIME ZONE 'UTC', full_hi))
            || CASE WHEN s IS NULL THEN '' ELSE format(' AND e.ingested_at >= %L', s) END
            || tpred);
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.read_family(anyelement, uuid, timestamptz, timestamptz) IS
    'A rollup family''s rows for the window [from, to) of one tenant (NULL: all), up to the moment of the call: whole buckets from the table plus raw events as read_plan says, partial buckets from raw events; several rows per key are possible (aggregate them). shape: NULL::analytics.<family>';
-------------------------------------------------------------------------------
-- functions/40_family_defs.sql (layer 40): GENERATED by tools/families.py;
-- do not edit by hand.  The catalogue of the rollup families: one row per
-- column after (tenant_id, bucket), in table order, with how it is grouped
-- from the raw events (expr, over analytics.usage_events e LEFT JOIN
-- analytics.model_prices p ON p.model = e.model) and merged (kind: key, sum,
-- sketch, heatmap, uuids, min, max).  Re-runnable.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.family_columns()
RETURNS TABLE (family text, grain text, filter text, pos integer, col text, kind text, expr text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT v.family, v.grain, v.filter, v.pos, v.col, v.kind, v.expr
    FROM (VALUES
        ('type_hourly', 'hour', NULL, 1, 'event_type', 'key', 'e.event_type'),
        ('type_hourly', 'hour', NULL, 2, 'events', 'sum', 'sum(e.count)::bigint'),
        ('type_hourly', 'hour', NULL, 3, 'failures', 'sum', 'coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint'),
        ('type_hourly', 'hour', NULL, 4, 'timeouts', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.error_code = ''timeout''), 0)::bigint'),
        ('type_hourly', 'hour', NULL, 5, 'latency_n', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL AND true), 0)::bigint'),
        ('type_hourly', 'hour', NULL, 6, 'latency_sum', 'sum', 'coalesce(sum(e.latency_ms * e.count) FILTER (WHERE true), 0)::double precision'),
        ('type_hourly', 'hour', NULL, 7, 'latency', 'sketch', 'analytics.qsketch_agg_n(e.latency_ms, e.count::bigint)'),
        ('type_hourly', 'hour', NULL, 8, 'input_tokens', 'sum', 'coalesce(sum(e.input_tokens), 0)::numeric'),
        ('type_hourly', 'hour', NULL, 9, 'output_tokens', 'sum', 'coalesce(sum(e.output_tokens), 0)::numeric'),
        ('type_hourly', 'hour', NULL, 10, 'cached_input_tokens', 'sum', 'coalesce(sum(e.cached_input_tokens), 0)::numeric'),
        ('type_hourly', 'hour', NULL, 11, 'cache_write_tokens', 'sum', 'coalesce(sum(e.cache_write_tokens), 0)::numeric'),
        ('type_hourly', 'hour', NULL, 12, 'cost_usd', 'sum', 'coalesce(sum((coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000) FILTER (WHERE e.event_type = ''llm_call''), 0)::numeric'),
        ('type_hourly', 'hour', NULL, 13, 'unpriced_calls', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::bigint'),
        ('type_hourly', 'hour', NULL, 14, 'unpriced_tokens', 'sum', 'coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::numeric'),
        ('type_hourly', 'hour', NULL, 15, 'agents', 'uuids', 'coalesce(array_agg(DISTINCT e.agent_id ORDER BY e.agent_id) FILTER (WHERE e.agent_id IS NOT NULL), ''{}'')'),
        ('type_hourly', 'hour', NULL, 16, 'last_at', 'max', 'max(e.occurred_at)'),
        ('agent_type_daily', 'day', NULL, 1, 'agent_id', 'key', 'e.agent_id'),
        ('agent_type_daily', 'day', NULL, 2, 'event_type', 'key', 'e.event_type'),
        ('agent_type_daily', 'day', NULL, 3, 'events', 'sum', 'sum(e.count)::bigint'),
        ('agent_type_daily', 'day', NULL, 4, 'failures', 'sum', 'coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint'),
        ('agent_type_daily', 'day', NULL, 5, 'timeouts', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.error_code = ''timeout''), 0)::bigint'),
        ('agent_type_daily', 'day', NULL, 6, 'latency_n', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL AND true), 0)::bigint'),
        ('agent_type_daily', 'day', NULL, 7, 'latency_sum', 'sum', 'coalesce(sum(e.latency_ms * e.count) FILTER (WHERE true), 0)::double precision'),
        ('agent_type_daily', 'day', NULL, 8, 'latency', 'sketch', 'analytics.qsketch_agg_n(e.latency_ms, e.count::bigint)'),
        ('agent_type_daily', 'day', NULL, 9, 'input_tokens', 'sum', 'coalesce(sum(e.input_tokens), 0)::numeric'),
        ('agent_type_daily', 'day', NULL, 10, 'output_tokens', 'sum', 'coalesce(sum(e.output_tokens), 0)::numeric'),
        ('agent_type_daily', 'day', NULL, 11, 'cached_input_tokens', 'sum', 'coalesce(sum(e.cached_input_tokens), 0)::numeric'),
        ('agent_type_daily', 'day', NULL, 12, 'cache_write_tokens', 'sum', 'coalesce(sum(e.cache_write_tokens), 0)::numeric'),
        ('agent_type_daily', 'day', NULL, 13, 'cost_usd', 'sum', 'coalesce(sum((coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000) FILTER (WHERE e.event_type = ''llm_call''), 0)::numeric'),
        ('agent_type_daily', 'day', NULL, 14, 'unpriced_calls', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::bigint'),
        ('agent_type_daily', 'day', NULL, 15, 'unpriced_tokens', 'sum', 'coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::numeric'),
        ('agent_type_daily', 'day', NULL, 16, 'last_at', 'max', 'max(e.occurred_at)'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 1, 'tool_name', 'key', 'e.tool_name'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 2, 'mcp_server', 'key', 'e.mcp_server'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 3, 'calls', 'sum', 'sum(e.count)::bigint'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 4, 'failures', 'sum', 'coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 5, 'timeouts', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.error_code = ''timeout''), 0)::bigint'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 6, 'latency_n', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL AND true), 0)::bigint'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 7, 'latency_sum', 'sum', 'coalesce(sum(e.latency_ms * e.count) FILTER (WHERE true), 0)::double precision'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 8, 'latency', 'sketch', 'analytics.qsketch_agg_n(e.latency_ms, e.count::bigint)'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 9, 'agents', 'uuids', 'coalesce(array_agg(DISTINCT e.agent_id ORDER BY e.agent_id) FILTER (WHERE e.agent_id IS NOT NULL), ''{}'')'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 10, 'last_at', 'max', 'max(e.occurred_at)'),
        ('tool_daily', 'day', 'e.event_type = ''tool_call''', 11, 'heatmap', 'heatmap', 'analytics.heatmap_agg(e.occurred_at, e.count::bigint)'),
        ('error_daily', 'day', 'NOT e.success', 1, 'event_type', 'key', 'e.event_type'),
        ('error_daily', 'day', 'NOT e.success', 2, 'error_code', 'key', 'e.error_code'),
        ('error_daily', 'day', 'NOT e.success', 3, 'agent_id', 'key', 'e.agent_id'),
        ('error_daily', 'day', 'NOT e.success', 4, 'tool_name', 'key', 'e.tool_name'),
        ('error_daily', 'day', 'NOT e.success', 5, 'mcp_server', 'key', 'e.mcp_server'),
        ('error_daily', 'day', 'NOT e.success', 6, 'failures', 'sum', 'sum(e.count)::bigint'),
        ('error_daily', 'day', 'NOT e.success', 7, 'last_at', 'max', 'max(e.occurred_at)'),
        ('api_daily', 'day', 'e.event_type = ''api_call''', 1, 'endpoint', 'key', 'e.endpoint'),
        ('api_daily', 'day', 'e.event_type = ''api_call''', 2, 'method', 'key', 'e.method'),
        ('api_daily', 'day', 'e.event_type = ''api_call''', 3, 'status_class', 'key', '(e.status_code / 100)::smallint'),
        ('api_daily', 'day', 'e.event_type = ''api_call''', 4, 'calls', 'sum', 'sum(e.count)::bigint'),
        ('api_daily', 'day', 'e.event_type = ''api_call''', 5, 'failures', 'sum', 'coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint'),
        ('api_daily', 'day', 'e.event_type = ''api_call''', 6, 'latency_n', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL AND true), 0)::bigint'),
        ('api_daily', 'day', 'e.event_type = ''api_call''', 7, 'latency_sum', 'sum', 'coalesce(sum(e.latency_ms * e.count) FILTER (WHERE true), 0)::double precision'),
        ('api_daily', 'day', 'e.event_type = ''api_call''', 8, 'latency', 'sketch', 'analytics.qsketch_agg_n(e.latency_ms, e.count::bigint)'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 1, 'session_id', 'key', 'e.session_id'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 2, 'user_id', 'key', 'e.user_id'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 3, 'events', 'sum', 'sum(e.count)::bigint'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 4, 'failures', 'sum', 'coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 5, 'executions', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''agent_execution''), 0)::bigint'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 6, 'execution_failures', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''agent_execution'' AND NOT e.success), 0)::bigint'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 7, 'execution_latency_n', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL AND e.event_type = ''agent_execution''), 0)::bigint'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 8, 'execution_latency_sum', 'sum', 'coalesce(sum(e.latency_ms * e.count) FILTER (WHERE e.event_type = ''agent_execution''), 0)::double precision'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 9, 'input_tokens', 'sum', 'coalesce(sum(e.input_tokens), 0)::numeric'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 10, 'output_tokens', 'sum', 'coalesce(sum(e.output_tokens), 0)::numeric'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 11, 'cached_input_tokens', 'sum', 'coalesce(sum(e.cached_input_tokens), 0)::numeric'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 12, 'cache_write_tokens', 'sum', 'coalesce(sum(e.cache_write_tokens), 0)::numeric'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 13, 'cost_usd', 'sum', 'coalesce(sum((coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000) FILTER (WHERE e.event_type = ''llm_call''), 0)::numeric'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 14, 'unpriced_calls', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::bigint'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 15, 'unpriced_tokens', 'sum', 'coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::numeric'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 16, 'agents', 'uuids', 'coalesce(array_agg(DISTINCT e.agent_id ORDER BY e.agent_id) FILTER (WHERE e.agent_id IS NOT NULL), ''{}'')'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 17, 'first_at', 'min', 'min(e.occurred_at)'),
        ('session_daily', 'day', 'e.session_id IS NOT NULL', 18, 'last_at', 'max', 'max(e.occurred_at)'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 1, 'user_id', 'key', 'e.user_id'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 2, 'events', 'sum', 'sum(e.count)::bigint'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 3, 'failures', 'sum', 'coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 4, 'executions', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''agent_execution''), 0)::bigint'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 5, 'input_tokens', 'sum', 'coalesce(sum(e.input_tokens), 0)::numeric'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 6, 'output_tokens', 'sum', 'coalesce(sum(e.output_tokens), 0)::numeric'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 7, 'cached_input_tokens', 'sum', 'coalesce(sum(e.cached_input_tokens), 0)::numeric'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 8, 'cache_write_tokens', 'sum', 'coalesce(sum(e.cache_write_tokens), 0)::numeric'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 9, 'cost_usd', 'sum', 'coalesce(sum((coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000) FILTER (WHERE e.event_type = ''llm_call''), 0)::numeric'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 10, 'unpriced_calls', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::bigint'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 11, 'unpriced_tokens', 'sum', 'coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::numeric'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 12, 'agents', 'uuids', 'coalesce(array_agg(DISTINCT e.agent_id ORDER BY e.agent_id) FILTER (WHERE e.agent_id IS NOT NULL), ''{}'')'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 13, 'first_at', 'min', 'min(e.occurred_at)'),
        ('user_daily', 'day', 'e.user_id IS NOT NULL', 14, 'last_at', 'max', 'max(e.occurred_at)'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 1, 'workflow_id', 'key', 'e.workflow_id'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 2, 'workflow_type', 'max', 'max(e.workflow_type) FILTER (WHERE e.event_type = ''workflow'')'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 3, 'runs', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''workflow''), 0)::bigint'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 4, 'run_failures', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''workflow'' AND NOT e.success), 0)::bigint'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 5, 'run_latency_n', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL AND e.event_type = ''workflow''), 0)::bigint'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 6, 'run_latency_sum', 'sum', 'coalesce(sum(e.latency_ms * e.count) FILTER (WHERE e.event_type = ''workflow''), 0)::double precision'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 7, 'run_latency', 'sketch', 'analytics.qsketch_agg_n(e.latency_ms, e.count::bigint) FILTER (WHERE e.event_type = ''workflow'')'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 8, 'executions', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''agent_execution''), 0)::bigint'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 9, 'tool_calls', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''tool_call''), 0)::bigint'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 10, 'failures', 'sum', 'coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 11, 'input_tokens', 'sum', 'coalesce(sum(e.input_tokens), 0)::numeric'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 12, 'output_tokens', 'sum', 'coalesce(sum(e.output_tokens), 0)::numeric'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 13, 'cached_input_tokens', 'sum', 'coalesce(sum(e.cached_input_tokens), 0)::numeric'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 14, 'cache_write_tokens', 'sum', 'coalesce(sum(e.cache_write_tokens), 0)::numeric'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 15, 'cost_usd', 'sum', 'coalesce(sum((coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000) FILTER (WHERE e.event_type = ''llm_call''), 0)::numeric'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 16, 'unpriced_calls', 'sum', 'coalesce(sum(e.count) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::bigint'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 17, 'unpriced_tokens', 'sum', 'coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)) FILTER (WHERE e.event_type = ''llm_call'' AND p.model IS NULL), 0)::numeric'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 18, 'agents', 'uuids', 'coalesce(array_agg(DISTINCT e.agent_id ORDER BY e.agent_id) FILTER (WHERE e.agent_id IS NOT NULL), ''{}'')'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 19, 'first_at', 'min', 'min(e.occurred_at)'),
        ('workflow_daily', 'day', 'e.workflow_id IS NOT NULL', 20, 'last_at', 'max', 'max(e.occurred_at)')
    ) AS v(family, grain, filter, pos, col, kind, expr)
    ORDER BY v.family, v.pos;
END
$$;
COMMENT ON FUNCTION analytics.family_columns() IS
    'The rollup families (tables of layer 40): per family its grain (hour or day), the filter of its events, and per column after (tenant_id, bucket) its position, how it merges (key, sum, sketch, heatmap, uuids, min, max) and the expression that groups it from analytics.usage_events e LEFT JOIN analytics.model_prices p';
-------------------------------------------------------------------------------
-- functions/40_rollups.sql (layer 40, rollups): the log of appended days,
-- which days are clean, the watermark, the rollup of one day, run_rollup,
-- finding days that INSERT or COPY changed, the increments of the minute
-- job, and the read plan of the readers.  Re-runnable: part of the install
-- script and of every upgrade.
-------------------------------------------------------------------------------

-- Log days to which this transaction added events (record_events, in
-- layer 10, calls it by name): their rollup rows stay valid, and reads add
-- the events ingested since the day's watermark until the minute job merges
-- them in.
CREATE OR REPLACE FUNCTION analytics.mark_days_appended(days date[])
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d date;
    n     integer := 0;
    stamp timestamptz := pg_catalog.now();
    add_only boolean;
BEGIN
    -- In day order, so that two writers never wait for each other in a cycle.
    FOR d IN SELECT DISTINCT u FROM unnest(days) u WHERE u IS NOT NULL ORDER BY 1 LOOP
        PERFORM analytics.lock_day(d, false);
        -- The events carry this transaction's start as their ingested_at:
        -- if the day was rolled up after it (by this very transaction), they
        -- are not above the watermark, and the day counts as rewritten.
        -- (The lock keeps the watermark where it is until this commits.)
        -- A day already logged as rewritten stays rewritten.
        -- (a statement of its own: Citus takes no subquery in an INSERT)
        add_only := NOT EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = d AND r.watermark > stamp);
        INSERT INTO analytics.changed_days AS c (day, changed_at, appended)
        VALUES (d, stamp, add_only)
        ON CONFLICT (day) DO UPDATE SET appended = false WHERE c.appended AND NOT excluded.appended;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION analytics.mark_days_appended(date[]) IS
    'Logs UTC days to which the current transaction added events (and nothing else): reads add the events ingested since the day''s rollup watermark, the minute rollup merges them into the rollups; record_events calls it; returns the number of days';

-- Is the rollup of a day current?  (rolled, and no change since)
CREATE OR REPLACE FUNCTION analytics.day_is_clean(day date)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    SELECT EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = $1)
       AND NOT EXISTS (SELECT 1 FROM analytics.changed_days c WHERE c.day = $1)
$$;
COMMENT ON FUNCTION analytics.day_is_clean(date) IS
    'True when the day is rolled up and none of its events changed since';

-- The ingestion watermark of a rollup that starts now: no other
-- transaction of this database still under way began before it, so every
-- event the rollup cannot see yet will carry an ingested_at (its
-- transaction's start) at or after it; the calling transaction's own
-- events are before it (and visible to it).  (A long transaction holds the
-- watermark back: its days are then rolled up again, which changes
-- nothing, rather than missed.)  The clock is read before the activity, and
-- the activity afresh (not the transaction's cached copy), so a
-- transaction that starts in between is seen or starts after the clock
-- reading.  The rollup's reads after it take a new snapshot, so it runs at
-- READ COMMITTED only.
CREATE OR REPLACE FUNCTION analytics.ingest_watermark()
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    clock timestamptz := pg_catalog.clock_timestamp();
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'rollups run at READ COMMITTED, not %', pg_catalog.current_setting('transaction_isolation')
            USING ERRCODE = 'invalid_transaction_state';
    END IF;
    PERFORM pg_catalog.pg_stat_clear_snapshot();
    RETURN least(clock,
                 (SELECT min(a.xact_start) FROM pg_catalog.pg_stat_activity a
                  WHERE a.xact_start IS NOT NULL AND a.datname = pg_catalog.current_database()
                    AND a.pid <> pg_catalog.pg_backend_pid()
                    -- (autovacuum writes no events)
                    AND a.backend_type NOT IN ('autovacuum worker', 'autovacuum launcher')),
                 (SELECT min(p.prepared) FROM pg_catalog.pg_prepared_xacts p
                  WHERE p.database = pg_catalog.current_database()));
END
$$;
COMMENT ON FUNCTION analytics.ingest_watermark() IS
    'The start of the oldest other transaction under way (or the clock): events not yet visible will have an ingested_at at or after it; raises unless at READ COMMITTED';

-- Recompute the rollups of one day from its raw events, in one pass over
-- the day's partition, writing only the rows that changed.  Returns
-- (status, events, rows_written); status is rolled or skipped.
CREATE OR REPLACE FUNCTION analytics.rollup_day(day date, OUT status text, OUT events bigint, OUT rows_written bigint)
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
-- On Citus: one connection per node for the day's writes, so that a later
-- statement of the rollup (the families) never meets shards written over
-- several connections (a placeholder elsewhere).
SET citus.multi_shard_modify_mode = 'sequential'
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
    stamp timestamptz := pg_catalog.now();
    w     timestamptz;
    w2    timestamptz;
    n     bigint;
    day_agents  uuid[];
    day_tenants uuid[];
BEGIN
    rows_written := 0;
    -- One rollup of a day at a time, and only once every record_events
    -- already writing the day has finished (they hold the lock shared); a
    -- second rollup waits, then finds the day clean and skips it.
    PERFORM analytics.lock_day(day, true);
    IF analytics.day_is_clean(day)
       AND EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = rollup_day.day AND r.complete) THEN
        status := 'skipped';
        SELECT r.events INTO events FROM analytics.rollup_days r WHERE r.day = rollup_day.day;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = rollup_day.day AND r.raw_dropped) THEN
        RAISE EXCEPTION 'the raw events of % were dropped by retention; its rollups cannot be recomputed', day
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Events older than analytics.raw_retention_days are not rolled up again.';
    END IF;
    -- The watermark before the read: events of writers still under way
    -- (INSERT and COPY take no lock) will have an ingested_at at or after it,
    -- and the nightly job finds their day by it (find_changed_days).
    w := analytics.ingest_watermark();
    -- Out of the log before reading: a writer that logs the day after this
    -- waits for the lock above until this rollup commits, so its log row
    -- stays and the next run picks the day up again.
    DELETE FROM analytics.changed_days c WHERE c.day = rollup_day.day;

    FOR pass IN 1..2 LOOP
    -- One statement: the day's groups are computed once, in memory, and
    -- feed the three tables; rows that differ are written, rows no longer
    -- produced are deleted (the inserts and deletes touch disjoint rows).
    WITH g AS MATERIALIZED (
        SELECT e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server, e.model,
               sum(e.count)::bigint AS calls,
               coalesce(sum(e.count) FILTER (WHERE e.success), 0)::bigint AS successes,
               coalesce(sum(e.latency_ms), 0)::double precision AS total_latency_ms,
               analytics.qsketch_agg_n(e.latency_ms, e.count::bigint) AS latency,
               coalesce(sum(e.input_tokens), 0) AS input_tokens,
               coalesce(sum(e.output_tokens), 0) AS output_tokens,
               analytics.heatmap_agg(e.occurred_at, e.count::bigint) FILTER (WHERE e.event_type = 'api_call') AS api_heatmap,
               ROW(e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server,
                   e.model)::analytics.usage_stats_key AS k
        FROM analytics.usage_events e
        -- (exactly the events ingested before the watermark: readers add
        -- those ingested since from the raw events)
        WHERE e.occurred_at >= lo AND e.occurred_at < hi AND e.ingested_at < w
        GROUP BY e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server, e.model
    ),
    -- The day's current rows; only groups that are new or differ are
    -- written, so a rerun over unchanged events touches no row at all (no
    -- new row versions, no row locks, no WAL).
    cur_s AS MATERIALIZED (
        SELECT ROW(u.tenant_id, u.agent_id, u.event_type, u.endpoint, u.method, u.tool_name,
                   u.mcp_server, u.model)::analytics.usage_stats_key AS k,
               u.calls, u.successes, u.total_latency_ms, u.input_tokens, u.output_tokens, u.cost_usd,
               analytics.stored_bytes(u.latency) AS latency_bytes
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
             calls, successes, failures, total_latency_ms, latency, input_tokens, output_tokens, cost_usd, updated_at)
        SELECT day, gs.tenant_id, gs.agent_id, gs.event_type, gs.endpoint, gs.method, gs.tool_name, gs.mcp_server,
               gs.model, gs.calls, gs.successes, gs.calls - gs.successes, gs.total_latency_ms, gs.latency,
               gs.input_tokens, gs.output_tokens, gs.cost_usd, stamp
        FROM gs LEFT JOIN cur_s c ON c.k = gs.k
        WHERE (c.calls, c.successes, c.total_latency_ms, c.input_tokens, c.output_tokens, c.cost_usd, c.latency_bytes)
              IS DISTINCT FROM (gs.calls, gs.successes, gs.total_latency_ms, gs.input_tokens, gs.output_tokens,
                                gs.cost_usd, analytics.stored_bytes(gs.latency))
        ON CONFLICT ON CONSTRAINT usage_stats_daily_key DO UPDATE
            SET calls = excluded.calls, successes = excluded.successes, failures = excluded.failures,
                total_latency_ms = excluded.total_latency_ms, latency = excluded.latency,
                input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
                cost_usd = excluded.cost_usd, updated_at = excluded.updated_at
        RETURNING 1
    ),
    stats_gone AS (
        DELETE FROM analytics.usage_stats_daily s
        USING (SELECT c.k FROM cur_s c WHERE NOT EXISTS (SELECT 1 FROM g WHERE g.k = c.k)) gone
        WHERE s.date = rollup_day.day
          AND ROW(s.tenant_id, s.agent_id, s.event_type, s.endpoint, s.method, s.tool_name,
                  s.mcp_server, s.model)::analytics.usage_stats_key = gone.k
        RETURNING 1
    ),
    -- The daily metrics of each group, by the one mapping (layer 30).
    d AS MATERIALIZED (
        SELECT g.tenant_id, g.agent_id, m.metric_type, sum(m.n)::bigint AS count,
               ROW(g.tenant_id, g.agent_id, m.metric_type)::analytics.daily_aggregates_key AS k
        FROM g CROSS JOIN LATERAL analytics.metric_counts(g.event_type, g.calls, g.successes) m
        GROUP BY g.tenant_id, g.agent_id, m.metric_type
    ),
    cur_d AS MATERIALIZED (
        SELECT ROW(u.tenant_id, u.agent_id, u.metric_type)::analytics.daily_aggregates_key AS k, u.count
        FROM analytics.analytics_daily_aggregates u WHERE u.date = rollup_day.day
    ),
    daily_up AS (
        INSERT INTO analytics.analytics_daily_aggregates AS a (tenant_id, agent_id, date, metric_type, count, updated_at)
        SELECT d.tenant_id, d.agent_id, day, d.metric_type, d.count, stamp
        FROM d LEFT JOIN cur_d ON cur_d.k = d.k
        WHERE cur_d.count IS DISTINCT FROM d.count
        ON CONFLICT ON CONSTRAINT analytics_daily_aggregates_key DO UPDATE
            SET count = excluded.count, updated_at = excluded.updated_at
        RETURNING 1
    ),
    daily_gone AS (
        DELETE FROM analytics.analytics_daily_aggregates a
        USING (SELECT cur_d.k FROM cur_d WHERE NOT EXISTS (SELECT 1 FROM d WHERE d.k = cur_d.k)) gone
        WHERE a.date = rollup_day.day
          AND ROW(a.tenant_id, a.agent_id, a.metric_type)::analytics.daily_aggregates_key = gone.k
        RETURNING 1
    ),
    -- Every agent with an event, its events and its six metrics side by
    -- side (agent_daily).
    ad AS MATERIALIZED (
        SELECT ga.tenant_id, ga.agent_id, ga.events,
               coalesce(p.api_calls, 0) AS api_calls, coalesce(p.token_issuances, 0) AS token_issuances,
               coalesce(p.token_failures, 0) AS token_failures, coalesce(p.credential_rotations, 0) AS credential_rotations,
               coalesce(p.tool_calls, 0) AS tool_calls, coalesce(p.llm_calls, 0) AS llm_calls,
               ROW(ga.tenant_id, ga.agent_id, NULL)::analytics.daily_aggregates_key AS k
        FROM (SELECT g.tenant_id, g.agent_id, sum(g.calls)::bigint AS events FROM g GROUP BY g.tenant_id, g.agent_id) ga
        LEFT JOIN (
            SELECT d.tenant_id, d.agent_id,
                   sum(d.count) FILTER (WHERE d.metric_type = 'api_calls')::bigint AS api_calls,
                   sum(d.count) FILTER (WHERE d.metric_type = 'token_issuances')::bigint AS token_issuances,
                   sum(d.count) FILTER (WHERE d.metric_type = 'token_failures')::bigint AS token_failures,
                   sum(d.count) FILTER (WHERE d.metric_type = 'credential_rotations')::bigint AS credential_rotations,
                   sum(d.count) FILTER (WHERE d.metric_type = 'tool_calls')::bigint AS tool_calls,
                   sum(d.count) FILTER (WHERE d.metric_type = 'llm_calls')::bigint AS llm_calls
            FROM d GROUP BY d.tenant_id, d.agent_id) p
          ON p.tenant_id = ga.tenant_id AND p.agent_id IS NOT DISTINCT FROM ga.agent_id
    ),
    cur_a AS MATERIALIZED (
        SELECT ROW(u.tenant_id, u.agent_id, NULL)::analytics.daily_aggregates_key AS k, u.events,
               u.api_calls, u.token_issuances, u.token_failures, u.credential_rotations, u.tool_calls, u.llm_calls
        FROM analytics.agent_daily u WHERE u.date = rollup_day.day
    ),
    agent_up AS (
        INSERT INTO analytics.agent_daily AS a
            (tenant_id, date, agent_id, events, api_calls, token_issuances, token_failures, credential_rotations,
             tool_calls, llm_calls, updated_at)
        SELECT ad.tenant_id, day, ad.agent_id, ad.events, ad.api_calls, ad.token_issuances, ad.token_failures,
               ad.credential_rotations, ad.tool_calls, ad.llm_calls, stamp
        FROM ad LEFT JOIN cur_a c ON c.k = ad.k
        WHERE (c.events, c.api_calls, c.token_issuances, c.token_failures, c.credential_rotations, c.tool_calls, c.llm_calls)
              IS DISTINCT FROM
              (ad.events, ad.api_calls, ad.token_issuances, ad.token_failures, ad.credential_rotations, ad.tool_calls, ad.llm_calls)
        ON CONFLICT ON CONSTRAINT agent_daily_key DO UPDATE
            SET events = excluded.events, api_calls = excluded.api_calls, token_issuances = excluded.token_issuances,
                token_failures = excluded.token_failures, credential_rotations = excluded.credential_rotations,
                tool_calls = excluded.tool_calls, llm_calls = excluded.llm_calls, updated_at = excluded.updated_at
        RETURNING 1
    ),
    agent_gone AS (
        DELETE FROM analytics.agent_daily a
        USING (SELECT c.k FROM cur_a c WHERE NOT EXISTS (SELECT 1 FROM ad WHERE ad.k = c.k)) gone
        WHERE a.date = rollup_day.day
          AND ROW(a.tenant_id, a.agent_id, NULL)::analytics.daily_aggregates_key = gone.k
        RETURNING 1
    ),
    -- The api calls of each endpoint and method (endpoint_daily).
    ep AS MATERIALIZED (
        SELECT g.tenant_id, g.endpoint, g.method, sum(g.calls)::bigint AS calls, sum(g.successes)::bigint AS successes,
               analytics.qsketch_merge(g.latency) AS latency,
               ROW(g.tenant_id, NULL, 'api_call', g.endpoint, g.method, NULL, NULL, NULL)::analytics.usage_stats_key AS k
        FROM g WHERE g.event_type = 'api_call'
        GROUP BY g.tenant_id, g.endpoint, g.method
    ),
    cur_e AS MATERIALIZED (
        SELECT ROW(u.tenant_id, NULL, 'api_call', u.endpoint, u.method, NULL, NULL, NULL)::analytics.usage_stats_key AS k,
               u.calls, u.successes, analytics.stored_bytes(u.latency) AS latency_bytes
        FROM analytics.endpoint_daily u WHERE u.date = rollup_day.day
    ),
    endpoint_up AS (
        INSERT INTO analytics.endpoint_daily AS x (tenant_id, date, endpoint, method, calls, successes, latency, updated_at)
        SELECT ep.tenant_id, day, ep.endpoint, ep.method, ep.calls, ep.successes, ep.latency, stamp
        FROM ep LEFT JOIN cur_e c ON c.k = ep.k
        WHERE (c.calls, c.successes, c.latency_bytes)
              IS DISTINCT FROM (ep.calls, ep.successes, analytics.stored_bytes(ep.latency))
        ON CONFLICT ON CONSTRAINT endpoint_daily_key DO UPDATE
            SET calls = excluded.calls, successes = excluded.successes, latency = excluded.latency,
                updated_at = excluded.updated_at
        RETURNING 1
    ),
    endpoint_gone AS (
        DELETE FROM analytics.endpoint_daily x
        USING (SELECT c.k FROM cur_e c WHERE NOT EXISTS (SELECT 1 FROM ep WHERE ep.k = c.k)) gone
        WHERE x.date = rollup_day.day
          AND ROW(x.tenant_id, NULL, 'api_call', x.endpoint, x.method, NULL, NULL, NULL)::analytics.usage_stats_key = gone.k
        RETURNING 1
    ),
    -- A tenant's day: the metric totals of its d rows, and from its groups
    -- the event count, the agents active, those that counted a token
    -- issuance, and the api_call heatmap.
    dm AS (
        SELECT d.tenant_id,
               coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'api_calls'), 0)::bigint AS api_calls,
               coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'token_issuances'), 0)::bigint AS token_issuances,
               coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'token_failures'), 0)::bigint AS token_failures,
               coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'credential_rotations'), 0)::bigint AS credential_rotations,
               coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'tool_calls'), 0)::bigint AS tool_calls,
               coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'llm_calls'), 0)::bigint AS llm_calls,
               coalesce(array_agg(DISTINCT d.agent_id ORDER BY d.agent_id)
                        FILTER (WHERE d.agent_id IS NOT NULL AND d.metric_type = 'token_issuances'), '{}') AS issuing_agents
        FROM d
        GROUP BY d.tenant_id
    ),
    t AS (
        SELECT x.tenant_id,
               coalesce(dm.api_calls, 0) AS api_calls, coalesce(dm.token_issuances, 0) AS token_issuances,
               coalesce(dm.token_failures, 0) AS token_failures, coalesce(dm.credential_rotations, 0) AS credential_rotations,
               coalesce(dm.tool_calls, 0) AS tool_calls, coalesce(dm.llm_calls, 0) AS llm_calls,
               x.events, x.active_agents, coalesce(dm.issuing_agents, '{}') AS issuing_agents, x.api_heatmap
        FROM (SELECT g.tenant_id, sum(g.calls)::bigint AS events,
                     coalesce(array_agg(DISTINCT g.agent_id ORDER BY g.agent_id) FILTER (WHERE g.agent_id IS NOT NULL), '{}') AS active_agents,
                     analytics.heatmap_merge(g.api_heatmap) AS api_heatmap
              FROM g GROUP BY g.tenant_id) x
        LEFT JOIN dm ON dm.tenant_id = x.tenant_id
    ),
    tenant_up AS (
        INSERT INTO analytics.tenant_daily AS td
            (tenant_id, date, api_calls, token_issuances, token_failures, credential_rotations, tool_calls, llm_calls,
             events, active_agents, issuing_agents, api_heatmap, updated_at)
        SELECT t.tenant_id, day, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
               t.tool_calls, t.llm_calls, t.events, t.active_agents, t.issuing_agents, t.api_heatmap, stamp
        FROM t
        LEFT JOIN analytics.tenant_daily c ON c.tenant_id = t.tenant_id AND c.date = rollup_day.day
        WHERE (c.api_calls, c.token_issuances, c.token_failures, c.credential_rotations, c.tool_calls, c.llm_calls,
               c.events, c.active_agents, c.issuing_agents, analytics.stored_bytes(c.api_heatmap))
              IS DISTINCT FROM
              (t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations, t.tool_calls, t.llm_calls,
               t.events, t.active_agents, t.issuing_agents, analytics.stored_bytes(t.api_heatmap))
        ON CONFLICT (tenant_id, date) DO UPDATE
            SET api_calls = excluded.api_calls, token_issuances = excluded.token_issuances,
                token_failures = excluded.token_failures, credential_rotations = excluded.credential_rotations,
                tool_calls = excluded.tool_calls, llm_calls = excluded.llm_calls, events = excluded.events,
                active_agents = excluded.active_agents, issuing_agents = excluded.issuing_agents,
                api_heatmap = excluded.api_heatmap, updated_at = excluded.updated_at
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
         + (SELECT count(*) FROM agent_up) + (SELECT count(*) FROM agent_gone)
         + (SELECT count(*) FROM endpoint_up) + (SELECT count(*) FROM endpoint_gone)
    INTO events, n;
    rows_written := rows_written + n;
    -- A writer whose lock this rollup waited for still shows as under way
    -- in pg_stat_activity for a moment after releasing it, holding the
    -- watermark at its start and its events out of the rows: when a fresh
    -- watermark has passed visible events the rows left out, once more.
    EXIT WHEN pass = 2;
    w2 := analytics.ingest_watermark();
    EXIT WHEN w2 <= w OR NOT EXISTS (SELECT 1 FROM analytics.usage_events e
                                     WHERE e.occurred_at >= lo AND e.occurred_at < hi
                                       AND e.ingested_at >= w AND e.ingested_at < w2);
    w := w2;
    END LOOP;
    -- The operator families (layer 40, 40_families.sql), from the same
    -- events: the day's rows recomputed up to the watermark.
    rows_written := rows_written + analytics.rollup_families(day, NULL, w);

    -- Agents that INSERT or COPY brought in unregistered (record_events
    -- registers its own): the agents active on the day, from the rows just
    -- written.
    -- (read first, by a statement of its own: on Citus an INSERT into the
    -- agents reference table that reads the tenant_daily shards just
    -- written over several connections is refused)
    SELECT array_agg(x.a ORDER BY x.a), array_agg(x.tid ORDER BY x.a) INTO day_agents, day_tenants
    FROM (SELECT DISTINCT ON (s.a) s.a, s.tid
          FROM (SELECT a, t.tenant_id AS tid
                FROM analytics.tenant_daily t, unnest(t.active_agents) a
                WHERE t.date = rollup_day.day) s
          ORDER BY s.a, s.tid) x;
    INSERT INTO analytics.agents (agent_id, tenant_id)
    SELECT u.a, u.tid FROM unnest(day_agents, day_tenants) AS u(a, tid)
    WHERE NOT EXISTS (SELECT 1 FROM analytics.agents g WHERE g.agent_id = u.a)
    ON CONFLICT (agent_id) DO NOTHING;

    -- Events already visible but ingested at or after the watermark (by a
    -- transaction that began while an older one was still under way, which
    -- held the watermark back) are not in the rows: log the day as appended,
    -- so readers add them at once and the minute job merges them in.
    IF EXISTS (SELECT 1 FROM analytics.usage_events e
               WHERE e.occurred_at >= lo AND e.occurred_at < hi AND e.ingested_at >= w) THEN
        INSERT INTO analytics.changed_days AS c (day, changed_at, appended) VALUES (rollup_day.day, stamp, true)
        ON CONFLICT ON CONSTRAINT changed_days_pkey DO NOTHING;
    END IF;
    INSERT INTO analytics.rollup_days AS r (day, rolled_at, events, rows_written, watermark, complete)
    VALUES (day, stamp, events, rows_written, w, true)
    ON CONFLICT ON CONSTRAINT rollup_days_pkey DO UPDATE
        SET rolled_at = excluded.rolled_at, events = excluded.events, rows_written = excluded.rows_written,
            watermark = excluded.watermark, complete = true;
    status := 'rolled';
END
$$;
COMMENT ON FUNCTION analytics.rollup_day(date) IS
    'Recomputes the rollups of one UTC day from its raw events, writing only rows that changed; skips a clean day. Use run_rollup(), which also records the run';

-- The stored bytes of a varlena value (a sketch, a heatmap), to tell
-- whether a recomputed value differs from the stored one without decoding
-- either: equal values have equal bytes.
CREATE OR REPLACE FUNCTION analytics.stored_bytes(value anyelement)
RETURNS bytea
AS 'MODULE_PATHNAME', 'analytics_stored_bytes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.stored_bytes(anyelement) IS
    'The bytes of a variable-length value as stored (detoasted), for byte-wise comparison';

-- The contract's entry point: roll up one day (default yesterday, UTC) and
-- record the run; returns the number of rollup rows written.
CREATE OR REPLACE FUNCTION analytics.run_rollup(target_date date DEFAULT ((now() AT TIME ZONE 'UTC')::date - 1))
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    t1 timestamptz;
    r  record;
BEGIN
    r := analytics.rollup_day(target_date);
    IF r.status = 'skipped' THEN
        RAISE NOTICE 'the rollup of % is current; nothing to do', target_date;
    END IF;
    t1 := clock_timestamp();
    INSERT INTO analytics.job_runs (job, target_date, started_at, finished_at, duration_ms, rows, status, backend_pid)
    VALUES ('rollup', target_date, t0, t1, extract(epoch FROM t1 - t0) * 1000, r.rows_written,
            CASE WHEN r.status = 'skipped' THEN 'skipped' ELSE 'succeeded' END, pg_backend_pid());
    RETURN r.rows_written;
END
$$;
COMMENT ON FUNCTION analytics.run_rollup(date) IS
    'Rolls up one UTC day (default yesterday) idempotently: reruns and concurrent runs give the same rows, unchanged rows are not rewritten; records the run in analytics.job_runs; returns the rows written';

-- Log the rolled days that INSERT or COPY changed since their rollup (they
-- write no log themselves): days with an event whose ingested_at is at or
-- after the day's watermark.  Returns the days logged.
CREATE OR REPLACE FUNCTION analytics.find_changed_days()
RETURNS date[]
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r     record;
    found date[] := '{}';
BEGIN
    FOR r IN SELECT rd.day, rd.watermark FROM analytics.rollup_days rd
             WHERE NOT rd.raw_dropped
               AND NOT EXISTS (SELECT 1 FROM analytics.changed_days c WHERE c.day = rd.day)
             ORDER BY rd.day LOOP
        IF EXISTS (SELECT 1 FROM analytics.usage_events e
                   WHERE e.occurred_at >= r.day::timestamp AT TIME ZONE 'UTC'
                     AND e.occurred_at < (r.day + 1)::timestamp AT TIME ZONE 'UTC'
                     AND e.ingested_at >= r.watermark) THEN
            found := found || r.day;
        END IF;
    END LOOP;
    -- (new rows only: the day's rollup stays valid and the minute rollup
    -- merges them in)
    PERFORM analytics.mark_days_appended(found);
    RETURN found;
END
$$;
COMMENT ON FUNCTION analytics.find_changed_days() IS
    'Logs in analytics.changed_days the rolled days with events ingested at or after their rollup''s watermark (late events written by INSERT or COPY); returns them';

-------------------------------------------------------------------------------
-- Increments: the minute rollup keeps today's (and every appended day's)
-- rollups current by merging in only the events ingested since the day's
-- watermark, as real-time continuous aggregates do; readers add the few
-- events ingested since (analytics.read_plan).
-------------------------------------------------------------------------------

-- The sorted union of two sorted sets of ids (NULL is the empty set).
CREATE OR REPLACE FUNCTION analytics.uuid_union(a uuid[], b uuid[])
RETURNS uuid[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(ARRAY(SELECT DISTINCT x FROM unnest(coalesce($1, '{}') || coalesce($2, '{}')) x ORDER BY x), '{}')
$$;
COMMENT ON FUNCTION analytics.uuid_union(uuid[], uuid[]) IS
    'The sorted, duplicate-free union of two uuid arrays (NULL counts as empty)';

-- Summarise the new block ranges of a day partition's ingested_at index,
-- so that finding the events ingested since a watermark reads only them
-- (unsummarised ranges match every search).
CREATE OR REPLACE FUNCTION analytics.summarize_ingested(day date)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    idx regclass;
BEGIN
    SELECT i.inhrelid::regclass INTO idx
    FROM pg_catalog.pg_inherits i
    JOIN pg_catalog.pg_index x ON x.indexrelid = i.inhrelid
    WHERE i.inhparent = 'analytics.usage_events_ingested_at_idx'::regclass
      AND x.indrelid = to_regclass('analytics.' || analytics.partition_name(day));
    IF idx IS NOT NULL THEN
        PERFORM pg_catalog.brin_summarize_new_values(idx);
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    NULL;   -- (only the owner may; autovacuum summarises them later)
END
$$;
COMMENT ON FUNCTION analytics.summarize_ingested(date) IS
    'Summarises the unsummarised block ranges of the ingested_at BRIN index of a day''s partition (owner only; does nothing for others)';

-- Merge into a rolled day's rollups the events ingested since its
-- watermark: counts add up, sketches and heatmaps merge exactly, agent sets
-- unite; the day is then current up to a new watermark.  A day not rolled
-- yet (or rewritten, see changed_days.appended) is rolled up whole instead.
-- Returns (status, events, rows_written); status is merged, rolled or
-- skipped.
CREATE OR REPLACE FUNCTION analytics.rollup_increment(day date, OUT status text, OUT events bigint, OUT rows_written bigint)
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
SET citus.multi_shard_modify_mode = 'sequential'
SET max_parallel_workers_per_gather = 0
SET enable_nestloop = off
SET enable_sort = off
AS $$
DECLARE
    lo     timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi     timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    stamp  timestamptz := pg_catalog.now();
    w_old  timestamptz;
    w      timestamptz;
    r      record;
    day_agents  uuid[];
    day_tenants uuid[];
BEGIN
    events := 0;
    rows_written := 0;
    PERFORM analytics.lock_day(day, true);
    -- (first, so that this run's search and the readers' find the recent
    -- events by the BRIN index alone)
    PERFORM analytics.summarize_ingested(day);
    SELECT rd.watermark INTO w_old FROM analytics.rollup_days rd
    WHERE rd.day = rollup_increment.day AND NOT rd.raw_dropped;
    IF w_old IS NULL OR EXISTS (SELECT 1 FROM analytics.changed_days c
                                WHERE c.day = rollup_increment.day AND NOT c.appended) THEN
        r := analytics.rollup_day(day);
        status := r.status; events := r.events; rows_written := r.rows_written;
        RETURN;
    END IF;
    -- (less a second: a backend reports its transaction's start a moment
    -- after taking it, and a transaction caught in between would otherwise
    -- be missed by this increment and the next)
    w := analytics.ingest_watermark() - interval '1 second';
    IF w <= w_old THEN
        -- (a transaction older than the watermark is still under way)
        status := 'skipped';
        RETURN;
    END IF;
    DELETE FROM analytics.changed_days c WHERE c.day = rollup_increment.day;

    WITH g AS MATERIALIZED (
        SELECT e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server, e.model,
               sum(e.count)::bigint AS calls,
               coalesce(sum(e.count) FILTER (WHERE e.success), 0)::bigint AS successes,
               coalesce(sum(e.latency_ms), 0)::double precision AS total_latency_ms,
               analytics.qsketch_agg_n(e.latency_ms, e.count::bigint) AS latency,
               coalesce(sum(e.input_tokens), 0) AS input_tokens,
               coalesce(sum(e.output_tokens), 0) AS output_tokens,
               analytics.heatmap_agg(e.occurred_at, e.count::bigint) FILTER (WHERE e.event_type = 'api_call') AS api_heatmap
        FROM analytics.usage_events e
        WHERE e.occurred_at >= lo AND e.occurred_at < hi AND e.ingested_at >= w_old AND e.ingested_at < w
        GROUP BY e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server, e.model
    ),
    stats_up AS (
        INSERT INTO analytics.usage_stats_daily AS s
            (date, tenant_id, agent_id, event_type, endpoint, method, tool_name, mcp_server, model,
             calls, successes, failures, total_latency_ms, latency, input_tokens, output_tokens, cost_usd, updated_at)
        SELECT day, g.tenant_id, g.agent_id, g.event_type, g.endpoint, g.method, g.tool_name, g.mcp_server,
               g.model, g.calls, g.successes, g.calls - g.successes, g.total_latency_ms, g.latency,
               g.input_tokens, g.output_tokens,
               coalesce(g.input_tokens * p.input_usd_per_mtok / 1000000 + g.output_tokens * p.output_usd_per_mtok / 1000000, 0),
               stamp
        FROM g LEFT JOIN analytics.model_prices p ON p.model = g.model
        ON CONFLICT ON CONSTRAINT usage_stats_daily_key DO UPDATE
            SET calls = s.calls + excluded.calls, successes = s.successes + excluded.successes,
                failures = s.failures + excluded.failures,
                total_latency_ms = s.total_latency_ms + excluded.total_latency_ms,
                latency = analytics.qsketch_combine(s.latency, excluded.latency),
                input_tokens = s.input_tokens + excluded.input_tokens,
                output_tokens = s.output_tokens + excluded.output_tokens,
                cost_usd = s.cost_usd + excluded.cost_usd, updated_at = excluded.updated_at
        RETURNING 1
    ),
    d AS MATERIALIZED (
        SELECT g.tenant_id, g.agent_id, m.metric_type, sum(m.n)::bigint AS count
        FROM g CROSS JOIN LATERAL analytics.metric_counts(g.event_type, g.calls, g.successes) m
        GROUP BY g.tenant_id, g.agent_id, m.metric_type
    ),
    daily_up AS (
        INSERT INTO analytics.analytics_daily_aggregates AS a (tenant_id, agent_id, date, metric_type, count, updated_at)
        SELECT d.tenant_id, d.agent_id, day, d.metric_type, d.count, stamp FROM d
        ON CONFLICT ON CONSTRAINT analytics_daily_aggregates_key DO UPDATE
            SET count = a.count + excluded.count, updated_at = excluded.updated_at
        RETURNING 1
    ),
    agent_up AS (
        INSERT INTO analytics.agent_daily AS a
            (tenant_id, date, agent_id, events, api_calls, token_issuances, token_failures, credential_rotations,
             tool_calls, llm_calls, updated_at)
        SELECT ga.tenant_id, day, ga.agent_id, ga.events,
               coalesce(p.api_calls, 0), coalesce(p.token_issuances, 0), coalesce(p.token_failures, 0),
               coalesce(p.credential_rotations, 0), coalesce(p.tool_calls, 0), coalesce(p.llm_calls, 0), stamp
        FROM (SELECT g.tenant_id, g.agent_id, sum(g.calls)::bigint AS events FROM g GROUP BY g.tenant_id, g.agent_id) ga
        LEFT JOIN (
            SELECT d.tenant_id, d.agent_id,
                   sum(d.count) FILTER (WHERE d.metric_type = 'api_calls')::bigint AS api_calls,
                   sum(d.count) FILTER (WHERE d.metric_type = 'token_issuances')::bigint AS token_issuances,
                   sum(d.count) FILTER (WHERE d.metric_type = 'token_failures')::bigint AS token_failures,
                   sum(d.count) FILTER (WHERE d.metric_type = 'credential_rotations')::bigint AS credential_rotations,
                   sum(d.count) FILTER (WHERE d.metric_type = 'tool_calls')::bigint AS tool_calls,
                   sum(d.count) FILTER (WHERE d.metric_type = 'llm_calls')::bigint AS llm_calls
            FROM d GROUP BY d.tenant_id, d.agent_id) p
          ON p.tenant_id = ga.tenant_id AND p.agent_id IS NOT DISTINCT FROM ga.agent_id
        ON CONFLICT ON CONSTRAINT agent_daily_key DO UPDATE
            SET events = a.events + excluded.events,
                api_calls = a.api_calls + excluded.api_calls,
                token_issuances = a.token_issuances + excluded.token_issuances,
                token_failures = a.token_failures + excluded.token_failures,
                credential_rotations = a.credential_rotations + excluded.credential_rotations,
                tool_calls = a.tool_calls + excluded.tool_calls, llm_calls = a.llm_calls + excluded.llm_calls,
                updated_at = excluded.updated_at
        RETURNING 1
    ),
    endpoint_up AS (
        INSERT INTO analytics.endpoint_daily AS x (tenant_id, date, endpoint, method, calls, successes, latency, updated_at)
        SELECT g.tenant_id, day, g.endpoint, g.method, sum(g.calls)::bigint, sum(g.successes)::bigint,
               analytics.qsketch_merge(g.latency), stamp
        FROM g WHERE g.event_type = 'api_call'
        GROUP BY g.tenant_id, g.endpoint, g.method
        ON CONFLICT ON CONSTRAINT endpoint_daily_key DO UPDATE
            SET calls = x.calls + excluded.calls, successes = x.successes + excluded.successes,
                latency = analytics.qsketch_combine(x.latency, excluded.latency), updated_at = excluded.updated_at
        RETURNING 1
    ),
    t AS (
        SELECT x.tenant_id,
               coalesce(dm.api_calls, 0) AS api_calls, coalesce(dm.token_issuances, 0) AS token_issuances,
               coalesce(dm.token_failures, 0) AS token_failures, coalesce(dm.credential_rotations, 0) AS credential_rotations,
               coalesce(dm.tool_calls, 0) AS tool_calls, coalesce(dm.llm_calls, 0) AS llm_calls,
               x.events, x.active_agents, coalesce(dm.issuing_agents, '{}') AS issuing_agents, x.api_heatmap
        FROM (SELECT g.tenant_id, sum(g.calls)::bigint AS events,
                     coalesce(array_agg(DISTINCT g.agent_id ORDER BY g.agent_id) FILTER (WHERE g.agent_id IS NOT NULL), '{}') AS active_agents,
                     analytics.heatmap_merge(g.api_heatmap) AS api_heatmap
              FROM g GROUP BY g.tenant_id) x
        LEFT JOIN (
            SELECT d.tenant_id,
                   coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'api_calls'), 0)::bigint AS api_calls,
                   coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'token_issuances'), 0)::bigint AS token_issuances,
                   coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'token_failures'), 0)::bigint AS token_failures,
                   coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'credential_rotations'), 0)::bigint AS credential_rotations,
                   coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'tool_calls'), 0)::bigint AS tool_calls,
                   coalesce(sum(d.count) FILTER (WHERE d.metric_type = 'llm_calls'), 0)::bigint AS llm_calls,
                   coalesce(array_agg(DISTINCT d.agent_id ORDER BY d.agent_id)
                            FILTER (WHERE d.agent_id IS NOT NULL AND d.metric_type = 'token_issuances'), '{}') AS issuing_agents
            FROM d GROUP BY d.tenant_id) dm ON dm.tenant_id = x.tenant_id
    ),
    tenant_up AS (
        INSERT INTO analytics.tenant_daily AS td
            (tenant_id, date, api_calls, token_issuances, token_failures, credential_rotations, tool_calls, llm_calls,
             events, active_agents, issuing_agents, api_heatmap, updated_at)
        SELECT t.tenant_id, day, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
               t.tool_calls, t.llm_calls, t.events, t.active_agents, t.issuing_agents, t.api_heatmap, stamp
        FROM t
        ON CONFLICT (tenant_id, date) DO UPDATE
            SET api_calls = td.api_calls + excluded.api_calls,
                token_issuances = td.token_issuances + excluded.token_issuances,
                token_failures = td.token_failures + excluded.token_failures,
                credential_rotations = td.credential_rotations + excluded.credential_rotations,
                tool_calls = td.tool_calls + excluded.tool_calls, llm_calls = td.llm_calls + excluded.llm_calls,
                events = td.events + excluded.events,
                active_agents = analytics.uuid_union(td.active_agents, excluded.active_agents),
                issuing_agents = analytics.uuid_union(td.issuing_agents, excluded.issuing_agents),
                api_heatmap = analytics.heatmap_combine(td.api_heatmap, excluded.api_heatmap),
                updated_at = excluded.updated_at
        RETURNING 1
    )
    SELECT coalesce((SELECT sum(g.calls) FROM g), 0),
           (SELECT count(*) FROM stats_up) + (SELECT count(*) FROM daily_up) + (SELECT count(*) FROM agent_up)
         + (SELECT count(*) FROM endpoint_up) + (SELECT count(*) FROM tenant_up)
    INTO events, rows_written;
    -- The operator families, from the same events (merged in).
    rows_written := rows_written + analytics.rollup_families(day, w_old, w);

    -- Agents that INSERT or COPY brought in unregistered (as rollup_day).
    IF events > 0 THEN
        SELECT array_agg(x.a ORDER BY x.a), array_agg(x.tid ORDER BY x.a) INTO day_agents, day_tenants
        FROM (SELECT DISTINCT ON (s.a) s.a, s.tid
              FROM (SELECT a, t.tenant_id AS tid
                    FROM analytics.tenant_daily t, unnest(t.active_agents) a
                    WHERE t.date = rollup_increment.day) s
              ORDER BY s.a, s.tid) x;
        INSERT INTO analytics.agents (agent_id, tenant_id)
        SELECT u.a, u.tid FROM unnest(day_agents, day_tenants) AS u(a, tid)
        WHERE NOT EXISTS (SELECT 1 FROM analytics.agents g WHERE g.agent_id = u.a)
        ON CONFLICT (agent_id) DO NOTHING;
    END IF;

    UPDATE analytics.rollup_days rd
    SET rolled_at = stamp, events = rd.events + rollup_increment.events,
        rows_written = rollup_increment.rows_written, watermark = w, complete = false
    WHERE rd.day = rollup_increment.day;
    status := 'merged';
END
$$;
COMMENT ON FUNCTION analytics.rollup_increment(date) IS
    'Merges into a rolled day''s rollups the events ingested since its watermark and moves the watermark (a day not rolled, or rewritten, is rolled up whole); status merged, rolled or skipped';

-- How readers read the days of [from, to]: days listed in "days" are read
-- from raw events, whole (since[i] NULL: never rolled, or rewritten since)
-- or only the events ingested since the day's watermark, since[i], on top
-- of its rollup rows (today and yesterday, and days with events appended
-- since their rollup); "whole" repeats the days read whole; days not
-- listed are read from their rollup rows alone.  Oldest first.
CREATE OR REPLACE FUNCTION analytics.read_plan("from" date, "to" date,
                                               OUT days date[], OUT since timestamptz[], OUT whole date[])
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lo    date := read_plan."from";
    hi    date := read_plan."to";
    live  date := analytics.utc_today() - 1;
BEGIN
    -- (PL/pgSQL: the plan is kept for the session, and the rolled days come
    -- from the primary key, a range scan)
    SELECT coalesce(array_agg(p.d ORDER BY p.d), '{}'), coalesce(array_agg(p.s ORDER BY p.d), '{}'),
           coalesce(array_agg(p.d ORDER BY p.d) FILTER (WHERE p.s IS NULL), '{}')
    INTO days, since, whole
    FROM (SELECT g.d,
                 CASE WHEN r.day IS NULL OR (c.day IS NOT NULL AND NOT c.appended) THEN NULL ELSE r.watermark END AS s
          FROM (SELECT x::date AS d FROM generate_series(lo::timestamp, hi::timestamp, interval '1 day') x) g
          LEFT JOIN (SELECT rd.day, rd.watermark FROM analytics.rollup_days rd WHERE rd.day BETWEEN lo AND hi) r ON r.day = g.d
          LEFT JOIN (SELECT cd.day, cd.appended FROM analytics.changed_days cd WHERE cd.day BETWEEN lo AND hi) c ON c.day = g.d
          WHERE r.day IS NULL OR c.day IS NOT NULL OR g.d >= live) p;
END
$$;
COMMENT ON FUNCTION analytics.read_plan(date, date) IS
    'How readers take the days of [from, to]: days (oldest first) are read from raw events, whole where since[i] is NULL (never rolled, or rewritten since its rollup; also listed in whole), else the events ingested at or after since[i] on top of the day''s rollup rows; days not listed are read from rollups alone';
-------------------------------------------------------------------------------
-- functions/50_readers.sql (layer 50, readers): a tenant's days as of the
-- moment of the call.  analytics.read_plan (layer 40) says how each day is
-- read: from its rollup rows alone; from its rollup rows plus the few raw
-- events ingested since the day's watermark (today and yesterday, which
-- the minute rollup keeps current, and days with events added since); or,
-- for a day never rolled or rewritten since, from its raw events whole.  So
-- each answer reflects every event recorded so far while reading little
-- more than rollup rows.  Re-runnable: part of the install script and of
-- every upgrade.
--
-- Every report (layer 70) reads through these four functions:
--   read_raw_groups     a tenant's raw events of some days (or since a
--                       watermark), grouped
--   read_tenant_days    a tenant's daily metric totals, agents and heatmap
--   read_agent_days     a tenant's daily metrics per agent
--   read_endpoint_stats a tenant's api calls per endpoint with latencies
-- They are PL/pgSQL (Citus plans their statements for the tenant's shard).
-------------------------------------------------------------------------------

-- A tenant's raw events of the given days, grouped by day, agent and event
-- type (and, with detail, by endpoint and method with a latency sketch of
-- the api calls).  since[i] bounds day[i] to the events ingested at or
-- after it (NULL: the whole day).  Each day is read from its own partition
-- by a query planned for it alone; days with no partition from the default
-- partition.
CREATE OR REPLACE FUNCTION analytics.read_raw_groups(tenant_id uuid, days date[], since timestamptz[], detail boolean)
RETURNS TABLE (date date, agent_id uuid, event_type text, endpoint text, method text,
               calls bigint, successes bigint, latency analytics.qsketch, api_heatmap analytics.heatmap)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    q      text;
    d      date;
    s      timestamptz;
    part   regclass;
BEGIN
    q := 'SELECT (e.occurred_at AT TIME ZONE ''UTC'')::date, e.agent_id, e.event_type, '
      || CASE WHEN detail THEN 'e.endpoint, e.method, ' ELSE 'NULL::text, NULL::text, ' END
      || 'sum(e.count)::bigint, coalesce(sum(e.count) FILTER (WHERE e.success), 0)::bigint, '
      || CASE WHEN detail THEN 'analytics.qsketch_agg_n(e.latency_ms, e.count::bigint) FILTER (WHERE e.event_type = ''api_call''), '
              ELSE 'NULL::analytics.qsketch, ' END
      || 'analytics.heatmap_agg(e.occurred_at, e.count::bigint) FILTER (WHERE e.event_type = ''api_call'') '
      || 'FROM %s e WHERE e.tenant_id = $1 %s GROUP BY 1, 2, 3, 4, 5';
    FOR d, s, part IN
        SELECT u.d, u.s, to_regclass('analytics.' || analytics.partition_name(u.d))
        FROM unnest(days, since) AS u(d, s) WHERE u.d IS NOT NULL
    LOOP
        IF part IS NULL THEN
            RETURN QUERY EXECUTE format(q, 'analytics.usage_events_default',
                'AND e.occurred_at >= $2 AND e.occurred_at < $3 AND ($4::timestamptz IS NULL OR e.ingested_at >= $4)')
                USING read_raw_groups.tenant_id, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC', s;
        ELSIF s IS NULL THEN
            RETURN QUERY EXECUTE format(q, part, '') USING read_raw_groups.tenant_id;
        ELSE
            -- (the last minute or so of the day's events, found by the BRIN
            -- index on ingested_at)
            RETURN QUERY EXECUTE format(q, part, 'AND e.ingested_at >= $2') USING read_raw_groups.tenant_id, s;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.read_raw_groups(uuid, date[], timestamptz[], boolean) IS
    'Raw events of a tenant on the given days (each bounded to the events ingested at or after since[i] unless NULL), grouped by day, agent, event type (with detail also endpoint and method, with a latency qsketch of api calls): calls, successes and the api_call heatmap; each day read from its own partition';

-- A tenant's days of [from, to] with any event: tenant_daily rows plus raw
-- events as analytics.read_plan says.  Days without events are absent.
CREATE OR REPLACE FUNCTION analytics.read_tenant_days(tenant_id uuid, "from" date, "to" date)
RETURNS TABLE (date date, api_calls bigint, token_issuances bigint, token_failures bigint,
               credential_rotations bigint, tool_calls bigint, llm_calls bigint,
               active_agents uuid[], issuing_agents uuid[], api_heatmap analytics.heatmap)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    tid   uuid := read_tenant_days.tenant_id;
    lo    date := read_tenant_days."from";
    hi    date := read_tenant_days."to";
    days  date[];
    since timestamptz[];
    whole date[];
    rolled analytics.tenant_daily[];
BEGIN
    SELECT p.days, p.since, p.whole INTO days, since, whole FROM analytics.read_plan(lo, hi) p;
    -- Days read from their rollup rows alone, as they are.
    RETURN QUERY
    SELECT t.date, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
           t.tool_calls, t.llm_calls, t.active_agents, t.issuing_agents, t.api_heatmap
    FROM analytics.tenant_daily t
    WHERE t.tenant_id = tid AND t.date BETWEEN lo AND hi AND t.date <> ALL (days);
    IF cardinality(days) = 0 THEN
        RETURN;
    END IF;
    -- The rollup rows of the days that add raw events, by a statement of
    -- their own (on Citus one that reads the tenant's shard and calls
    -- read_raw_groups() would be routed whole to the worker); then merged
    -- with the raw groups by day.
    SELECT array_agg(t) INTO rolled
    FROM analytics.tenant_daily t
    WHERE t.tenant_id = tid AND t.date = ANY (days) AND t.date <> ALL (whole);
    RETURN QUERY
    WITH r AS MATERIALIZED (SELECT * FROM analytics.read_raw_groups(tid, days, since, false)),
    m AS (
        SELECT r.date, r.agent_id, c.metric_type, c.n
        FROM r CROSS JOIN LATERAL analytics.metric_counts(r.event_type, r.calls, r.successes) c),
    raw_days AS (
        SELECT x.date, coalesce(p.api_calls, 0) AS api_calls, coalesce(p.token_issuances, 0) AS token_issuances,
               coalesce(p.token_failures, 0) AS token_failures, coalesce(p.credential_rotations, 0) AS credential_rotations,
               coalesce(p.tool_calls, 0) AS tool_calls, coalesce(p.llm_calls, 0) AS llm_calls,
               x.active_agents, coalesce(p.issuing_agents, '{}') AS issuing_agents, x.api_heatmap
        FROM (SELECT r.date,
                     coalesce(array_agg(DISTINCT r.agent_id ORDER BY r.agent_id) FILTER (WHERE r.agent_id IS NOT NULL), '{}') AS active_agents,
                     analytics.heatmap_merge(r.api_heatmap) AS api_heatmap
              FROM r GROUP BY r.date) x
        LEFT JOIN (
            SELECT m.date,
                   sum(m.n) FILTER (WHERE m.metric_type = 'api_calls')::bigint AS api_calls,
                   sum(m.n) FILTER (WHERE m.metric_type = 'token_issuances')::bigint AS token_issuances,
                   sum(m.n) FILTER (WHERE m.metric_type = 'token_failures')::bigint AS token_failures,
                   sum(m.n) FILTER (WHERE m.metric_type = 'credential_rotations')::bigint AS credential_rotations,
                   sum(m.n) FILTER (WHERE m.metric_type = 'tool_calls')::bigint AS tool_calls,
                   sum(m.n) FILTER (WHERE m.metric_type = 'llm_calls')::bigint AS llm_calls,
                   array_agg(DISTINCT m.agent_id ORDER BY m.agent_id)
                       FILTER (WHERE m.agent_id IS NOT NULL AND m.metric_type = 'token_issuances') AS issuing_agents
            FROM m GROUP BY m.date) p ON p.date = x.date),
    u AS (
        SELECT t.date, t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
               t.tool_calls, t.llm_calls, t.active_agents, t.issuing_agents, t.api_heatmap
        FROM unnest(rolled) t
        UNION ALL
        SELECT * FROM raw_days),
    -- (a day read from its rollup row and from raw events has two rows:
    -- counts add up, agent sets unite, heatmaps merge)
    two AS MATERIALIZED (SELECT u.date FROM u GROUP BY u.date HAVING count(*) > 1)
    SELECT u.date, u.api_calls, u.token_issuances, u.token_failures, u.credential_rotations, u.tool_calls,
           u.llm_calls, u.active_agents, u.issuing_agents, u.api_heatmap
    FROM u WHERE u.date NOT IN (SELECT two.date FROM two)
    UNION ALL
    SELECT s.date, s.api_calls, s.token_issuances, s.token_failures, s.credential_rotations, s.tool_calls,
           s.llm_calls,
           ARRAY(SELECT DISTINCT a FROM u, unnest(u.active_agents) a WHERE u.date = s.date ORDER BY a),
           ARRAY(SELECT DISTINCT a FROM u, unnest(u.issuing_agents) a WHERE u.date = s.date ORDER BY a),
           s.api_heatmap
    FROM (SELECT u.date, sum(u.api_calls)::bigint AS api_calls, sum(u.token_issuances)::bigint AS token_issuances,
                 sum(u.token_failures)::bigint AS token_failures,
                 sum(u.credential_rotations)::bigint AS credential_rotations, sum(u.tool_calls)::bigint AS tool_calls,
                 sum(u.llm_calls)::bigint AS llm_calls, analytics.heatmap_merge(u.api_heatmap) AS api_heatmap
          FROM u WHERE u.date IN (SELECT two.date FROM two) GROUP BY u.date) s;
END
$$;
COMMENT ON FUNCTION analytics.read_tenant_days(uuid, date, date) IS
    'A tenant''s days of [from, to] that have events, up to the moment of the call: the six metric totals, active and issuing agents, api_call heatmap; from tenant_daily plus the raw events analytics.read_plan names';

-- A tenant's daily metrics per agent of [from, to] (agent_id NULL: events
-- with no agent): agent_daily rows plus raw events as read_plan says.  Every
-- agent with an event that day has a row (zeros when its events count for
-- no metric).
CREATE OR REPLACE FUNCTION analytics.read_agent_days(tenant_id uuid, "from" date, "to" date)
RETURNS TABLE (date date, agent_id uuid, api_calls bigint, token_issuances bigint, token_failures bigint,
               credential_rotations bigint, tool_calls bigint, llm_calls bigint)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    tid   uuid := read_agent_days.tenant_id;
    lo    date := read_agent_days."from";
    hi    date := read_agent_days."to";
    days  date[];
    since timestamptz[];
    whole date[];
    rolled analytics.agent_daily[];
BEGIN
    SELECT p.days, p.since, p.whole INTO days, since, whole FROM analytics.read_plan(lo, hi) p;
    -- Days read from their rollup rows alone, as they are.
    RETURN QUERY
    SELECT a.date, a.agent_id, a.api_calls, a.token_issuances, a.token_failures, a.credential_rotations,
           a.tool_calls, a.llm_calls
    FROM analytics.agent_daily a
    WHERE a.tenant_id = tid AND a.date BETWEEN lo AND hi AND a.date <> ALL (days);
    IF cardinality(days) = 0 THEN
        RETURN;
    END IF;
    -- (two statements: on Citus one that reads the tenant's shard and calls
    -- read_raw_groups() would be routed whole to the worker)
    SELECT array_agg(a) INTO rolled
    FROM analytics.agent_daily a
    WHERE a.tenant_id = tid AND a.date = ANY (days) AND a.date <> ALL (whole);
    RETURN QUERY
    WITH u AS (
        SELECT a.date, a.agent_id, a.api_calls, a.token_issuances, a.token_failures, a.credential_rotations,
               a.tool_calls, a.llm_calls
        FROM unnest(rolled) a
        UNION ALL
        -- (an agent whose events count for no metric still has its row)
        SELECT r.date, r.agent_id,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'api_calls'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'token_issuances'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'token_failures'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'credential_rotations'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'tool_calls'), 0)::bigint,
               coalesce(sum(c.n) FILTER (WHERE c.metric_type = 'llm_calls'), 0)::bigint
        FROM analytics.read_raw_groups(tid, days, since, false) r
        LEFT JOIN LATERAL analytics.metric_counts(r.event_type, r.calls, r.successes) c ON true
        GROUP BY r.date, r.agent_id)
    SELECT u.date, u.agent_id, sum(u.api_calls)::bigint, sum(u.token_issuances)::bigint, sum(u.token_failures)::bigint,
           sum(u.credential_rotations)::bigint, sum(u.tool_calls)::bigint, sum(u.llm_calls)::bigint
    FROM u GROUP BY u.date, u.agent_id;
END
$$;
COMMENT ON FUNCTION analytics.read_agent_days(uuid, date, date) IS
    'A tenant''s six daily metrics per agent and day of [from, to], up to the moment of the call, for every agent with an event that day (agent_id NULL: events with no agent; an agent whose events count for no metric has zeros)';

-- A tenant's api calls of [from, to] by endpoint and method, with merged
-- latency sketches: endpoint_daily rows plus raw events as read_plan says.
CREATE OR REPLACE FUNCTION analytics.read_endpoint_stats(tenant_id uuid, "from" date, "to" date)
RETURNS TABLE (endpoint text, method text, calls bigint, successes bigint, latency analytics.qsketch)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    tid   uuid := read_endpoint_stats.tenant_id;
    lo    date := read_endpoint_stats."from";
    hi    date := read_endpoint_stats."to";
    days  date[];
    since timestamptz[];
    whole date[];
    -- The rollup rows, read first by a statement of their own: on Citus a
    -- statement that reads the tenant's shard and calls read_raw_groups()
    -- would be routed whole to the worker, and the function's own
    -- distributed reads refused there.
    e_ends text[]; e_meths text[]; e_calls bigint[]; e_succ bigint[]; e_lat analytics.qsketch[];
BEGIN
    SELECT p.days, p.since, p.whole INTO days, since, whole FROM analytics.read_plan(lo, hi) p;
    -- (merged per endpoint where the rows are, so a handful of rows travel)
    SELECT array_agg(g.endpoint), array_agg(g.method), array_agg(g.calls), array_agg(g.successes), array_agg(g.latency)
    INTO e_ends, e_meths, e_calls, e_succ, e_lat
    FROM (SELECT s.endpoint, s.method, sum(s.calls)::bigint AS calls, sum(s.successes)::bigint AS successes,
                 analytics.qsketch_merge(s.latency) AS latency
          FROM analytics.endpoint_daily s
          WHERE s.tenant_id = tid AND s.date BETWEEN lo AND hi AND s.date <> ALL (whole)
          GROUP BY s.endpoint, s.method) g;
    IF cardinality(days) = 0 THEN
        RETURN QUERY
        SELECT u.endpoint, u.method, u.calls, u.successes, u.latency
        FROM unnest(e_ends, e_meths, e_calls, e_succ, e_lat) AS u(endpoint, method, calls, successes, latency);
        RETURN;
    END IF;
    RETURN QUERY
    WITH g AS (
        SELECT u.endpoint, u.method, u.calls, u.successes, u.latency
        FROM unnest(e_ends, e_meths, e_calls, e_succ, e_lat) AS u(endpoint, method, calls, successes, latency)
        UNION ALL
        SELECT r.endpoint, r.method, r.calls, r.successes, r.latency
        FROM analytics.read_raw_groups(tid, days, since, true) r
        WHERE r.event_type = 'api_call')
    SELECT g.endpoint, g.method, sum(g.calls)::bigint, sum(g.successes)::bigint, analytics.qsketch_merge(g.latency)
    FROM g
    GROUP BY g.endpoint, g.method;
END
$$;
COMMENT ON FUNCTION analytics.read_endpoint_stats(uuid, date, date) IS
    'A tenant''s api calls of [from, to] by endpoint and method: calls, successes and the merged latency qsketch, up to the moment of the call';
-------------------------------------------------------------------------------
-- functions/60_jobs.sql (layer 60, retention and scheduling): the nightly
-- rollup job, retention, and their pg_cron schedules.  Re-runnable: part of
-- the install script and of every upgrade.
-------------------------------------------------------------------------------

-- The scheduled job: premake partitions, roll up yesterday and every closed
-- day in the invalidation log (late events), one transaction per day, each
-- recorded in job_runs even when it fails; then prune the history.  Raises
-- at the end if a day failed, so pg_cron records the failure too.
CREATE OR REPLACE PROCEDURE analytics.rollup_job()
LANGUAGE plpgsql
AS $$
DECLARE
    today  date := analytics.utc_today();
    stamp  timestamptz := now();
    d      date;
    run    bigint;
    t0     timestamptz;
    t1     timestamptz;
    r      record;
    failed integer := 0;
    msg    text;
BEGIN
    -- Runs whose backend is gone were interrupted.
    UPDATE analytics.job_runs j SET status = 'failed', error = 'interrupted: the backend ended before the run finished',
           finished_at = coalesce(j.finished_at, stamp)
    WHERE j.status = 'running'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = j.backend_pid);
    PERFORM analytics.maintain_partitions();
    COMMIT;
    -- Late events that INSERT or COPY wrote into rolled days.
    PERFORM analytics.find_changed_days();
    COMMIT;
    -- Yesterday, every closed day changed since its rollup, and every closed
    -- day with a partition that was never rolled up (INSERT and COPY log
    -- nothing: a backfill of past days is found here).
    FOR d IN SELECT c.day FROM analytics.changed_days c WHERE c.day < today
             UNION SELECT ep.day FROM analytics.event_partitions ep
                   WHERE ep.day < today AND NOT EXISTS (SELECT 1 FROM analytics.rollup_days rd WHERE rd.day = ep.day)
             UNION SELECT today - 1 ORDER BY 1 LOOP
        t0 := clock_timestamp();
        INSERT INTO analytics.job_runs (job, target_date, started_at, status, backend_pid)
        VALUES ('rollup', d, t0, 'running', pg_catalog.pg_backend_pid()) RETURNING run_id INTO run;
        COMMIT;
        BEGIN
            r := analytics.rollup_day(d);
            t1 := clock_timestamp();
            UPDATE analytics.job_runs SET finished_at = t1, duration_ms = extract(epoch FROM t1 - t0) * 1000,
                   rows = r.rows_written, status = CASE WHEN r.status = 'skipped' THEN 'skipped' ELSE 'succeeded' END
            WHERE run_id = run;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            t1 := clock_timestamp();
            UPDATE analytics.job_runs SET finished_at = t1, duration_ms = extract(epoch FROM t1 - t0) * 1000,
                   status = 'failed', error = msg
            WHERE run_id = run;
            failed := failed + 1;
        END;
        COMMIT;
    END LOOP;
    DELETE FROM analytics.job_runs
    WHERE started_at < stamp - make_interval(days => analytics.setting('job_history_days')::integer);
    COMMIT;
    IF failed > 0 THEN
        RAISE EXCEPTION '% day(s) failed to roll up', failed
            USING HINT = 'SELECT * FROM analytics.job_runs WHERE status = ''failed'' ORDER BY started_at DESC';
    END IF;
END
$$;
COMMENT ON PROCEDURE analytics.rollup_job() IS
    'The nightly job: premakes partitions, finds days that INSERT or COPY changed, rolls up yesterday, every closed day changed since its rollup and every closed day never rolled, records each run in analytics.job_runs, prunes the history';


-- The minute job: merges into the rollups of yesterday and today, and of
-- every rolled day with events added since (late events, INSERT or COPY
-- found by the nightly job), the events ingested since their watermark,
-- one transaction per day, so that readers add only the events of the last
-- minute or so to rollup rows.  A live day not rolled yet is rolled up
-- whole once.  With passes > 1 it does so that many times, evenly spread
-- over the minute (pg_cron's finest schedule is a minute): at a steady
-- ingest, readers then add at most 60/passes seconds of raw events.
-- Raises at the end if a day failed (pg_cron records it).
CREATE OR REPLACE PROCEDURE analytics.increment_job(passes integer DEFAULT 1)
LANGUAGE plpgsql
AS $$
DECLARE
    t0     timestamptz := clock_timestamp();
    today  date;
    d      date;
    r      record;
    failed integer := 0;
    msg    text;
BEGIN
    IF passes IS NULL OR passes < 1 OR passes > 12 THEN
        RAISE EXCEPTION 'passes must be between 1 and 12, not %', coalesce(passes::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR pass IN 1..passes LOOP
        IF pass > 1 THEN
            -- (until the pass's share of the minute, counted from the start)
            PERFORM pg_catalog.pg_sleep(greatest(0, extract(epoch FROM t0 + (pass - 1) * interval '60 seconds' / passes
                                                                     - clock_timestamp())));
        END IF;
        today := analytics.utc_today();
        FOR d IN SELECT today - 1 UNION SELECT today
                 UNION SELECT c.day FROM analytics.changed_days c
                       JOIN analytics.rollup_days rd ON rd.day = c.day
                       WHERE c.appended AND NOT rd.raw_dropped AND c.day <= today
                 ORDER BY 1 LOOP
            BEGIN
                r := analytics.rollup_increment(d);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
                RAISE WARNING 'the increment of % failed: %', d, msg;
                failed := failed + 1;
            END;
            COMMIT;
        END LOOP;
    END LOOP;
    IF failed > 0 THEN
        RAISE EXCEPTION '% day(s) failed to merge their increments', failed;
    END IF;
END
$$;
COMMENT ON PROCEDURE analytics.increment_job(integer) IS
    'The minute job: merges the events ingested since their watermark into the rollups of yesterday, today and every rolled day with events added since (analytics.rollup_increment), one transaction per day; passes (1 to 12) times, spread evenly over the minute';

-------------------------------------------------------------------------------
-- Retention
-------------------------------------------------------------------------------

-- Drop raw day partitions older than analytics.raw_retention_days whose day
-- is rolled up and clean; fold daily rows older than
-- analytics.daily_retention_days into monthly rows.
CREATE OR REPLACE FUNCTION analytics.run_retention(OUT dropped_partitions integer, OUT kept_unrolled integer, OUT folded_rows bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t0         timestamptz := clock_timestamp();
    stamp      timestamptz := now();
    today      date := analytics.utc_today();
    raw_cut    date := today - analytics.setting('raw_retention_days')::integer;
    daily_cut  date := today - analytics.setting('daily_retention_days')::integer;
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
            -- Hold the day's lock so no rollup or writer of it runs meanwhile.
            PERFORM analytics.lock_day(p.day, true);
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
    INSERT INTO analytics.analytics_monthly_aggregates AS m (tenant_id, agent_id, month, metric_type, count, updated_at)
    SELECT g.tenant_id, g.agent_id, date_trunc('month', g.date)::date, g.metric_type, sum(g.count), stamp
    FROM gone g GROUP BY 1, 2, 3, 4
    ON CONFLICT ON CONSTRAINT analytics_monthly_aggregates_key DO UPDATE
        SET count = m.count + excluded.count, updated_at = excluded.updated_at;
    GET DIAGNOSTICS n = ROW_COUNT;
    folded_rows := folded_rows + n;

    WITH gone AS (
        DELETE FROM analytics.usage_stats_daily s WHERE s.date < daily_cut RETURNING s.*
    )
    INSERT INTO analytics.usage_stats_monthly AS m
        (month, tenant_id, agent_id, event_type, endpoint, method, tool_name, mcp_server, model,
         calls, successes, failures, total_latency_ms, latency, input_tokens, output_tokens, cost_usd, updated_at)
    SELECT date_trunc('month', g.date)::date, g.tenant_id, g.agent_id, g.event_type, g.endpoint, g.method,
           g.tool_name, g.mcp_server, g.model, sum(g.calls), sum(g.successes), sum(g.failures),
           sum(g.total_latency_ms), analytics.qsketch_merge(g.latency), sum(g.input_tokens),
           sum(g.output_tokens), sum(g.cost_usd), stamp
    FROM gone g GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT ON CONSTRAINT usage_stats_monthly_key DO UPDATE
        SET calls = m.calls + excluded.calls, successes = m.successes + excluded.successes,
            failures = m.failures + excluded.failures,
            total_latency_ms = m.total_latency_ms + excluded.total_latency_ms,
            latency = (SELECT analytics.qsketch_merge(x.s) FROM (VALUES (m.latency), (excluded.latency)) AS x(s)),
            input_tokens = m.input_tokens + excluded.input_tokens,
            output_tokens = m.output_tokens + excluded.output_tokens,
            cost_usd = m.cost_usd + excluded.cost_usd, updated_at = excluded.updated_at;
    GET DIAGNOSTICS n = ROW_COUNT;
    folded_rows := folded_rows + n;

    DELETE FROM analytics.tenant_daily t WHERE t.date < daily_cut;
    DELETE FROM analytics.agent_daily a WHERE a.date < daily_cut;
    DELETE FROM analytics.endpoint_daily e WHERE e.date < daily_cut;

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
CREATE OR REPLACE FUNCTION analytics.require_pg_cron()
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
CREATE OR REPLACE FUNCTION analytics.schedule_job(job_name text, schedule text, command text)
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

CREATE OR REPLACE FUNCTION analytics.unschedule_job(job_name text)
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

CREATE OR REPLACE FUNCTION analytics.schedule_rollup(schedule text DEFAULT '5 0 * * *')
RETURNS bigint
LANGUAGE sql VOLATILE STRICT
AS $$ SELECT analytics.schedule_job('analytics-rollup', schedule, 'CALL analytics.rollup_job()') $$;
COMMENT ON FUNCTION analytics.schedule_rollup(text) IS
    'Registers the nightly rollup job with pg_cron (job name analytics-rollup, default 00:05 UTC); calling it again updates the job; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_rollup()
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$ SELECT analytics.unschedule_job('analytics-rollup') $$;
COMMENT ON FUNCTION analytics.unschedule_rollup() IS 'Removes the rollup job; false when it was not scheduled';

CREATE OR REPLACE FUNCTION analytics.schedule_increments(schedule text DEFAULT '* * * * *', passes integer DEFAULT 4)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF passes < 1 OR passes > 12 THEN
        RAISE EXCEPTION 'passes must be between 1 and 12, not %', passes USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN analytics.schedule_job('analytics-increments', schedule, format('CALL analytics.increment_job(%s)', passes));
END
$$;
COMMENT ON FUNCTION analytics.schedule_increments(text, integer) IS
    'Registers the job that keeps today''s rollups current with pg_cron (job name analytics-increments, default every minute in 4 passes, so readers add at most 15 seconds of raw events); calling it again updates the job; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_increments()
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$ SELECT analytics.unschedule_job('analytics-increments') $$;
COMMENT ON FUNCTION analytics.unschedule_increments() IS 'Removes the increments job; false when it was not scheduled';

CREATE OR REPLACE FUNCTION analytics.schedule_retention(schedule text DEFAULT '30 1 * * *')
RETURNS bigint
LANGUAGE sql VOLATILE STRICT
AS $$ SELECT analytics.schedule_job('analytics-retention', schedule, 'SELECT analytics.run_retention()') $$;
COMMENT ON FUNCTION analytics.schedule_retention(text) IS
    'Registers the retention job with pg_cron (job name analytics-retention, default 01:30 UTC); calling it again updates the job; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_retention()
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$ SELECT analytics.unschedule_job('analytics-retention') $$;
COMMENT ON FUNCTION analytics.unschedule_retention() IS 'Removes the retention job; false when it was not scheduled';

-------------------------------------------------------------------------------
-- functions/70_reports.sql (layer 70, typed report functions): the answers
-- of the contract's §5 as jsonb, for a tenant given explicitly.  SQL
-- callers use them directly; the HTTP layer (80) calls them after its
-- checks.  They read through the readers (layer 50) and compute trends and
-- the usage summary with the C trend module (layer 20: daycounts_agg,
-- trend, usage_summary_agg).  Re-runnable.
-------------------------------------------------------------------------------

-- Checks of the typed functions (ordinary errors, not HTTP ones).
CREATE OR REPLACE FUNCTION analytics.check_period("from" date, "to" date)
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

-- A period as JSON.
CREATE OR REPLACE FUNCTION analytics.period_json("from" date, "to" date)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT jsonb_build_object('from', to_char($1, 'YYYY-MM-DD'), 'to', to_char($2, 'YYYY-MM-DD')) $$;
COMMENT ON FUNCTION analytics.period_json(date, date) IS 'A period as {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}';

CREATE OR REPLACE FUNCTION analytics.usage_summary(tenant_id uuid, "from" date, "to" date)
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
        FROM analytics.read_tenant_days(usage_summary.tenant_id, "from", "to") x)
    SELECT jsonb_build_object(
        'tenantId', usage_summary.tenant_id,
        'period', analytics.period_json("from", "to"),
        'summary', (SELECT analytics.usage_summary_agg(d.date, m.metric, m.n, "from", "to")
                    FROM d CROSS JOIN LATERAL (VALUES ('api_calls', d.api_calls), ('token_issuances', d.token_issuances),
                                                      ('credential_rotations', d.credential_rotations)) m(metric, n))
                   || jsonb_build_object('activeAgentCount', (SELECT count(DISTINCT a) FROM d, unnest(d.active_agents) a)))
    INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.usage_summary(uuid, date, date) IS
    'Usage summary of a tenant over [from, to] (contract §5 shape): totals, active agents, floor average per day, peak day (earliest of the maximum, null without calls); the summary is analytics.usage_summary_agg over the tenant''s days';

CREATE OR REPLACE FUNCTION analytics.agent_activity(tenant_id uuid, "from" date, "to" date, agent_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM analytics.check_period("from", "to");
    -- Each agent's zero-filled daily series by the C trend module
    -- (daycounts_agg, daycounts_jsonb): a jsonb object per day and agent
    -- built in SQL would cost several times more.
    WITH c AS MATERIALIZED (
        SELECT x.date, x.agent_id, x.api_calls, x.token_issuances, x.credential_rotations
        FROM analytics.read_agent_days(agent_activity.tenant_id, "from", "to") x
        WHERE x.agent_id IS NOT NULL AND (agent_activity.agent_id IS NULL OR x.agent_id = agent_activity.agent_id)),
    ids AS (
        SELECT agent_activity.agent_id AS id WHERE agent_activity.agent_id IS NOT NULL
        UNION
        SELECT c.agent_id FROM c WHERE agent_activity.agent_id IS NULL),
    per_agent AS (
        SELECT r.id,
               analytics.daycounts_jsonb(analytics.daycounts_agg(r.date, r.api_calls, r.token_issuances,
                                                                 r.credential_rotations, "from", "to"),
                                         ARRAY['apiCalls', 'tokenIssuances', 'credentialRotations']) AS daily
        FROM (SELECT c.agent_id AS id, c.date, c.api_calls, c.token_issuances, c.credential_rotations FROM c
              UNION ALL
              -- (a zero row, so that an agent without events has its series)
              SELECT ids.id, "from", 0, 0, 0 FROM ids) r
        GROUP BY r.id)
    SELECT jsonb_build_object(
        'tenantId', agent_activity.tenant_id,
        'period', analytics.period_json("from", "to"),
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

CREATE OR REPLACE FUNCTION analytics.token_trends(tenant_id uuid, "from" date, "to" date, granularity text DEFAULT 'day')
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
        SELECT x.date, x.token_issuances, x.token_failures, x.issuing_agents
        FROM analytics.read_tenant_days(token_trends.tenant_id, "from", "to") x),
    -- Every bucket, zero-filled, by the C trend module.
    b AS (
        SELECT t.bucket, t.count AS total, t.count2 AS failed
        FROM analytics.trend((SELECT analytics.daycounts_agg(d.date, d.token_issuances, d.token_failures, "from", "to") FROM d),
                             granularity, "from", "to") t),
    -- A day's issuing agents are distinct already; a week needs the union.
    agents AS (
        SELECT d.date AS bucket, cardinality(d.issuing_agents)::bigint AS n FROM d WHERE granularity = 'day'
        UNION ALL
        SELECT analytics.trend_bucket(d.date, granularity, "from"), count(DISTINCT a)
        FROM d, unnest(d.issuing_agents) a WHERE granularity = 'week' GROUP BY 1)
    -- (built as json and turned into jsonb once)
    SELECT json_build_object(
        'tenantId', token_trends.tenant_id,
        'period', analytics.period_json("from", "to"),
        'granularity', granularity,
        'dataPoints', json_agg(json_build_object(
            'date', b.bucket,
            'totalIssuances', b.total,
            'successfulIssuances', b.total - b.failed,
            'failedIssuances', b.failed,
            'uniqueAgents', coalesce(a.n, 0)) ORDER BY b.bucket))::jsonb
    INTO result
    FROM b
    LEFT JOIN agents a ON a.bucket = b.bucket;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.token_trends(uuid, date, date, text) IS
    'Token issuances of a tenant over [from, to] by day or ISO week (a week bucket is labelled by its first day in the period): total, successful, failed, distinct issuing agents; every bucket, zero-filled, oldest first (analytics.trend over a daycounts)';

CREATE OR REPLACE FUNCTION analytics.tokens(tenant_id uuid, days integer DEFAULT 30)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    today  date := analytics.utc_today();
    first  date := today - (days - 1);
    result jsonb;
BEGIN
    PERFORM analytics.check_period(first, today);
    SELECT json_build_object(
        'tenantId', tokens.tenant_id,
        'days', days,
        'data', json_agg(json_build_object('date', t.bucket, 'count', t.count) ORDER BY t.bucket))::jsonb
    INTO result
    FROM analytics.trend((SELECT analytics.daycounts_agg(x.date, x.token_issuances, first, today)
                          FROM analytics.read_tenant_days(tokens.tenant_id, first, today) x),
                         'day', first, today) t;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.tokens(uuid, integer) IS
    'Token issuances of a tenant per day over the last days days ending today (UTC), zero-filled, oldest first';

CREATE OR REPLACE FUNCTION analytics.agents_activity(tenant_id uuid, days integer DEFAULT 30)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    today  date := analytics.utc_today();
    result jsonb;
BEGIN
    PERFORM analytics.check_period(today - (days - 1), today);
    SELECT jsonb_build_object(
        'tenantId', agents_activity.tenant_id,
        'data', coalesce(jsonb_agg(jsonb_build_object('dow', c.dow, 'hour', c.hour, 'count', c.count)
                                   ORDER BY c.dow, c.hour), '[]'))
    INTO result
    FROM analytics.heatmap_cells((SELECT analytics.heatmap_merge(x.api_heatmap)
                                  FROM analytics.read_tenant_days(agents_activity.tenant_id, today - (days - 1), today) x)) c;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agents_activity(uuid, integer) IS
    'Day-of-week x hour (UTC) heatmap of a tenant''s api calls over the last days days ending today: non-zero cells ordered by dow (0 = Sunday) then hour';

CREATE OR REPLACE FUNCTION analytics.agent_tokens(tenant_id uuid, month date DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    first  date := date_trunc('month', coalesce(month, analytics.utc_today()))::date;
    last   date := least((first + interval '1 month')::date - 1, analytics.utc_today());
    result jsonb;
BEGIN
    SELECT jsonb_build_object(
        'tenantId', agent_tokens.tenant_id,
        'month', to_char(first, 'YYYY-MM'),
        'data', coalesce(jsonb_agg(jsonb_build_object('agentId', x.agent_id, 'tokenCount', x.n)
                                   ORDER BY x.n DESC, x.agent_id), '[]'))
    INTO result
    FROM (SELECT a.agent_id, sum(a.token_issuances)::bigint AS n
          FROM analytics.read_agent_days(agent_tokens.tenant_id, first, greatest(first, last)) a
          WHERE a.agent_id IS NOT NULL
          GROUP BY a.agent_id
          HAVING sum(a.token_issuances) > 0) x;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_tokens(uuid, date) IS
    'Token issuances per agent of a tenant in a UTC calendar month (default the current one, up to now), most first, then by agent id; agents without issuances are left out';

CREATE OR REPLACE FUNCTION analytics.rotation_frequency(tenant_id uuid, "from" date, "to" date)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM analytics.check_period("from", "to");
    WITH x AS MATERIALIZED (
        SELECT x.date, x.agent_id, x.credential_rotations
        FROM analytics.read_agent_days(rotation_frequency.tenant_id, "from", "to") x),
    c AS (SELECT x.* FROM x WHERE x.credential_rotations > 0),
    ids AS (SELECT DISTINCT x.agent_id AS id FROM x WHERE x.agent_id IS NOT NULL),
    per_agent AS (
        SELECT ids.id, coalesce(sum(c.credential_rotations), 0)::bigint AS rotations,
               count(c.date) FILTER (WHERE c.credential_rotations > 0) AS rotation_days,
               max(c.date) FILTER (WHERE c.credential_rotations > 0) AS last_day
        FROM ids LEFT JOIN c ON c.agent_id = ids.id
        GROUP BY ids.id)
    SELECT jsonb_build_object(
        'tenantId', rotation_frequency.tenant_id,
        'period', analytics.period_json("from", "to"),
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

CREATE OR REPLACE FUNCTION analytics.call_patterns(tenant_id uuid, "from" date, "to" date)
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
        'period', analytics.period_json("from", "to"),
        'totalCalls', coalesce(sum(s.calls), 0)::bigint,
        'endpoints', coalesce(jsonb_agg(jsonb_build_object(
            'endpoint', s.endpoint, 'method', s.method, 'calls', s.calls,
            'successes', s.successes, 'failures', s.calls - s.successes,
            'successRate', round(s.successes::numeric / nullif(s.calls, 0), 4),
            'latencyMs', CASE WHEN analytics.sketch_count(s.latency) > 0 THEN jsonb_build_object(
                'p50', round(q[1]::numeric, 3), 'p95', round(q[2]::numeric, 3), 'p99', round(q[3]::numeric, 3)) END)
            ORDER BY s.calls DESC, s.endpoint, s.method), '[]'))
    INTO result
    FROM analytics.read_endpoint_stats(call_patterns.tenant_id, "from", "to") s
    LEFT JOIN LATERAL (SELECT analytics.quantiles(s.latency, ARRAY[0.5, 0.95, 0.99]) AS q
                       WHERE analytics.sketch_count(s.latency) > 0) l ON true;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.call_patterns(uuid, date, date) IS
    'API calls of a tenant over [from, to] per endpoint and method: calls, successes, failures, success rate and latency p50/p95/p99 in ms from merged qsketches (1% relative accuracy, one value per event row); most calls first';


-- The six daily metrics of a tenant for every day of [from, to],
-- zero-filled, oldest first (for SQL callers; the API answers are built on
-- the same reader).
CREATE OR REPLACE FUNCTION analytics.daily_counts(tenant_id uuid, "from" date, "to" date)
RETURNS SETOF analytics.day_metrics
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    PERFORM analytics.check_period("from", "to");
    RETURN QUERY
    SELECT g::date, coalesce(x.api_calls, 0), coalesce(x.token_issuances, 0), coalesce(x.token_failures, 0),
           coalesce(x.credential_rotations, 0), coalesce(x.tool_calls, 0), coalesce(x.llm_calls, 0)
    FROM generate_series("from"::timestamp, "to"::timestamp, interval '1 day') g
    LEFT JOIN analytics.read_tenant_days(daily_counts.tenant_id, "from", "to") x ON x.date = g::date
    ORDER BY 1;
END
$$;
COMMENT ON FUNCTION analytics.daily_counts(uuid, date, date) IS
    'Daily metric counts of a tenant for every day of [from, to], zero-filled, oldest first, up to the moment of the call: rollup rows plus the raw events analytics.read_plan names';
-------------------------------------------------------------------------------
-- functions/72_ops_common.sql (layer 72, reports of contract §6): what the
-- operator answers share.
--   period_window(period)     Nh / Nd as a window [from_ts, to_ts)
--   utc_text(ts)              an instant as UTC RFC 3339 text
--   window_json(from, to)     the answer's "period"
--   ratio(part, whole)        a rate: a fraction from 0 to 1, four decimals
--   latency_json(sketch)      {"p50","p95","p99"} of a qsketch (ms)
-- Re-runnable.
-------------------------------------------------------------------------------

-- A period text Nh (1-168) or Nd (1-365) as a window ending now / today,
-- else NULL.
CREATE OR REPLACE FUNCTION analytics.period_window(period text, now_ts timestamptz DEFAULT clock_timestamp(),
                                                   OUT from_ts timestamptz, OUT to_ts timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n     integer;
    today date := (now_ts AT TIME ZONE 'UTC')::date;
BEGIN
    IF period IS NULL OR period !~ '^[0-9]{1,3}[hd]$' THEN
        RETURN;
    END IF;
    n := left(period, -1)::integer;
    IF right(period, 1) = 'h' AND n BETWEEN 1 AND 168 THEN
        -- now - N hours <= t <= now
        from_ts := now_ts - make_interval(hours => n);
        to_ts := now_ts + interval '1 microsecond';
    ELSIF right(period, 1) = 'd' AND n BETWEEN 1 AND 365 THEN
        from_ts := (today - (n - 1))::timestamp AT TIME ZONE 'UTC';
        to_ts := (today + 1)::timestamp AT TIME ZONE 'UTC';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.period_window(text, timestamptz) IS
    'The window [from_ts, to_ts) of a period text: Nh (1 to 168) = now - N hours to now included, Nd (1 to 365) = the N UTC days ending today; NULLs for anything else';

-- A timestamp as UTC RFC 3339 text with microseconds (answers' instants and
-- the period of an hour window).
CREATE OR REPLACE FUNCTION analytics.utc_text(ts timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;
COMMENT ON FUNCTION analytics.utc_text(timestamptz) IS
    'A timestamp as UTC RFC 3339 text with microseconds (YYYY-MM-DDTHH:MI:SS.USZ); NULL stays NULL';

-- The "period" of an answer: dates when the window is whole UTC days, else
-- UTC RFC 3339 timestamps (to: the end of the window, excluded).
CREATE OR REPLACE FUNCTION analytics.window_json("from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF date_trunc('day', "from" AT TIME ZONE 'UTC') = "from" AT TIME ZONE 'UTC'
       AND date_trunc('day', "to" AT TIME ZONE 'UTC') = "to" AT TIME ZONE 'UTC' THEN
        RETURN jsonb_build_object('from', to_char("from" AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                                  'to', to_char(("to" AT TIME ZONE 'UTC') - interval '1 day', 'YYYY-MM-DD'));
    END IF;
    RETURN jsonb_build_object('from', analytics.utc_text("from"), 'to', analytics.utc_text("to"));
END
$$;
COMMENT ON FUNCTION analytics.window_json(timestamptz, timestamptz) IS
    'The period object of an answer: {"from","to"} as dates (both included) when the window [from, to) is whole UTC days, else as UTC RFC 3339 timestamps (to excluded)';

-- A rate of §6.3: part / whole as a fraction rounded to four decimals (0
-- when whole is 0).
CREATE OR REPLACE FUNCTION analytics.ratio(part numeric, whole numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN coalesce(whole, 0) = 0 THEN 0::numeric ELSE round(coalesce(part, 0) / whole, 4) END $$;
COMMENT ON FUNCTION analytics.ratio(numeric, numeric) IS
    'part / whole rounded to four decimals, 0 when whole is 0 or NULL: the rates of contract §6.3';

-- p50, p95 and p99 of a sketch, rounded to 3 decimals (null when empty).
CREATE OR REPLACE FUNCTION analytics.latency_json(sketch analytics.qsketch)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q float8[];
BEGIN
    IF sketch IS NULL OR analytics.sketch_count(sketch) = 0 THEN
        RETURN jsonb_build_object('p50', NULL, 'p95', NULL, 'p99', NULL);
    END IF;
    q := analytics.quantiles(sketch, ARRAY[0.5, 0.95, 0.99]);
    RETURN jsonb_build_object('p50', round(q[1]::numeric, 3), 'p95', round(q[2]::numeric, 3), 'p99', round(q[3]::numeric, 3));
END
$$;
COMMENT ON FUNCTION analytics.latency_json(analytics.qsketch) IS
    'The p50, p95 and p99 of a latency qsketch as {"p50","p95","p99"} in ms rounded to 3 decimals (nulls when empty)';
-------------------------------------------------------------------------------
-- functions/75_ops_usage.sql (layer 75, reports of contract §6.3): usage,
-- tools, errors and performance for the operators and for each tenant.
--
--   summary(tenant, from, to)                 totals and latency per event type
--   agent_usage(tenant, from, to)             per agent: executions, durations, calls, tokens, cost
--   tool_usage(tenant, from, to, mcp_server)  per tool and MCP server: calls, latency, agents
--   top_agents(tenant, from, to, metric, top) the agents with the most calls, tokens, cost or failures
--   tool_heatmap(tenant, from, to, tool)      day-of-week x hour cells of tool calls
--   error_summary(tenant, from, to)           failures by code, event type, agent and tool
--   error_trends(tenant, from, to, granularity)  events and failures per bucket and event type
--   performance_summary(tenant, from, to)     api calls per endpoint (seed 002: snake_case keys),
--                                             executions and workflows
--
-- Typed twins of the analytics_api functions (layer 81): the window [from,
-- to) as timestamps, tenant NULL = every tenant, no tenant checks.  Each
-- reads rollup families through analytics.read_family (whole buckets from
-- the rollups, the rest from raw events) and aggregates the rows it gets
-- in the same statement, which touches only the function's output (Citus:
-- the distributed reads stay inside read_family).  Agent names come from
-- analytics.agents in a statement of their own.  Re-runnable.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.summary(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid      uuid := summary.tenant_id;
    sessions bigint;
    users    bigint;
    result   jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    -- (sessions and users are per tenant: the same id in two tenants is two)
    SELECT count(*) INTO sessions
    FROM (SELECT DISTINCT s.tenant_id, s.session_id
          FROM analytics.read_family(NULL::analytics.session_daily, tid, "from", "to") s) x;
    SELECT count(*) INTO users
    FROM (SELECT DISTINCT u.tenant_id, u.user_id
          FROM analytics.read_family(NULL::analytics.user_daily, tid, "from", "to") u) x;
    WITH r AS MATERIALIZED (
        SELECT r.agent_id, r.event_type, r.events, r.failures, r.latency, r.input_tokens, r.output_tokens,
               r.cached_input_tokens, r.cache_write_tokens, r.cost_usd, r.unpriced_calls
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r),
    bt AS (
        SELECT r.event_type, sum(r.events) AS events, sum(r.failures) AS failures,
               sum(r.input_tokens) AS input_tokens, sum(r.output_tokens) AS output_tokens,
               sum(r.cached_input_tokens) AS cached_input_tokens, sum(r.cache_write_tokens) AS cache_write_tokens,
               sum(r.cost_usd) AS cost_usd, sum(r.unpriced_calls) AS unpriced_calls,
               analytics.qsketch_merge(r.latency) AS latency
        FROM r GROUP BY r.event_type)
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'totals', jsonb_build_object(
            'events', coalesce(sum(bt.events), 0),
            'apiCalls', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'api_call'), 0),
            'toolCalls', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'tool_call'), 0),
            'llmCalls', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'llm_call'), 0),
            'executions', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'agent_execution'), 0),
            'workflows', coalesce(sum(bt.events) FILTER (WHERE bt.event_type = 'workflow'), 0),
            'sessions', sessions,
            'failures', coalesce(sum(bt.failures), 0),
            'errorRate', analytics.ratio(sum(bt.failures), sum(bt.events)),
            'inputTokens', coalesce(sum(bt.input_tokens), 0),
            'outputTokens', coalesce(sum(bt.output_tokens), 0),
            'cachedInputTokens', coalesce(sum(bt.cached_input_tokens), 0),
            'cacheWriteTokens', coalesce(sum(bt.cache_write_tokens), 0),
            'costUsd', round(coalesce(sum(bt.cost_usd), 0), 6),
            'unpricedCalls', coalesce(sum(bt.unpriced_calls), 0),
            'activeAgents', (SELECT count(DISTINCT r.agent_id) FROM r),
            'activeUsers', users),
        'latency', coalesce(jsonb_object_agg(bt.event_type, analytics.latency_json(bt.latency)), '{}'))
    INTO result
    FROM bt;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.summary(uuid, timestamptz, timestamptz) IS
    'Totals of a tenant (NULL: every tenant) over the window [from, to): events, api/tool/llm calls, executions, workflows, distinct sessions, failures, errorRate, input/output/cached/cache-write tokens, costUsd, unpricedCalls, active agents and users; latency p50/p95/p99 per event type (contract §6.3 summary)';

CREATE OR REPLACE FUNCTION analytics.agent_usage(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := agent_usage.tenant_id;
    total  bigint;
    agents jsonb;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    WITH r AS MATERIALIZED (
        SELECT r.agent_id, r.event_type, r.events, r.failures, r.timeouts, r.latency_n, r.latency_sum, r.latency,
               r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r),
    -- (every execution of the scope, those with no agent included)
    tot AS (SELECT coalesce(sum(r.events) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS n FROM r),
    per AS (
        SELECT r.agent_id,
               coalesce(sum(r.events) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS executions,
               coalesce(sum(r.failures) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS failures,
               coalesce(sum(r.timeouts) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS timeouts,
               analytics.qsketch_merge(r.latency) FILTER (WHERE r.event_type = 'agent_execution') AS duration,
               sum(r.latency_sum) FILTER (WHERE r.event_type = 'agent_execution') AS duration_sum,
               sum(r.latency_n) FILTER (WHERE r.event_type = 'agent_execution') AS duration_n,
               coalesce(sum(r.events) FILTER (WHERE r.event_type = 'tool_call'), 0)::bigint AS tool_calls,
               coalesce(sum(r.events) FILTER (WHERE r.event_type = 'llm_call'), 0)::bigint AS llm_calls,
               sum(r.input_tokens) AS input_tokens, sum(r.output_tokens) AS output_tokens, sum(r.cost_usd) AS cost_usd
        FROM r WHERE r.agent_id IS NOT NULL GROUP BY r.agent_id)
    SELECT tot.n,
           coalesce((SELECT jsonb_agg(jsonb_build_object(
                'agentId', p.agent_id,
                'executions', p.executions,
                'successes', p.executions - p.failures,
                'failures', p.failures,
                'timeouts', p.timeouts,
                'share', analytics.ratio(p.executions, tot.n),
                'durationMs', analytics.latency_json(p.duration)
                              || jsonb_build_object('avg', CASE WHEN p.duration_n > 0
                                                                THEN round((p.duration_sum / p.duration_n)::numeric, 3) END),
                'toolCalls', p.tool_calls,
                'llmCalls', p.llm_calls,
                'inputTokens', p.input_tokens,
                'outputTokens', p.output_tokens,
                'costUsd', round(p.cost_usd, 6)) ORDER BY p.executions DESC, p.agent_id)
                     FROM per p), '[]')
    INTO total, agents
    FROM tot;
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'totalExecutions', total,
        'agents', coalesce(jsonb_agg(jsonb_build_object('agentName', a.name) || p.o ORDER BY p.i), '[]'))
    INTO result
    FROM jsonb_array_elements(agents) WITH ORDINALITY p(o, i)
    LEFT JOIN analytics.agents a ON a.agent_id = (p.o ->> 'agentId')::uuid;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_usage(uuid, timestamptz, timestamptz) IS
    'Per agent of a tenant (NULL: every tenant) with an event in the window [from, to): executions, successes, failures, timeouts, share of all executions of the scope, durationMs p50/p95/p99/avg, tool and LLM calls, input/output tokens, costUsd; most executions first (contract §6.3 agent_usage)';

CREATE OR REPLACE FUNCTION analytics.tool_usage(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                mcp_server text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := tool_usage.tenant_id;
    server text := tool_usage.mcp_server;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    WITH r AS MATERIALIZED (
        SELECT r.tool_name, r.mcp_server, r.calls, r.failures, r.latency_n, r.latency_sum, r.latency, r.agents, r.last_at
        FROM analytics.read_family(NULL::analytics.tool_daily, tid, "from", "to") r
        WHERE server IS NULL OR r.mcp_server = server),
    g AS (
        SELECT r.tool_name, r.mcp_server, sum(r.calls)::bigint AS calls, sum(r.failures)::bigint AS failures,
               analytics.qsketch_merge(r.latency) AS latency, sum(r.latency_sum) AS latency_sum,
               sum(r.latency_n) AS latency_n, max(r.last_at) AS last_at
        FROM r GROUP BY r.tool_name, r.mcp_server),
    ag AS (
        SELECT r.tool_name, r.mcp_server, count(DISTINCT a) AS agents
        FROM r CROSS JOIN LATERAL unnest(r.agents) a GROUP BY r.tool_name, r.mcp_server)
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'mcpServer', server,
        'tools', coalesce(jsonb_agg(jsonb_build_object(
            'tool', g.tool_name,
            'mcpServer', g.mcp_server,
            'calls', g.calls,
            'successes', g.calls - g.failures,
            'failures', g.failures,
            'successRate', analytics.ratio(g.calls - g.failures, g.calls),
            'latencyMs', analytics.latency_json(g.latency)
                         || jsonb_build_object('avg', CASE WHEN g.latency_n > 0
                                                           THEN round((g.latency_sum / g.latency_n)::numeric, 3) END),
            'agents', coalesce(ag.agents, 0),
            'lastCalledAt', analytics.utc_text(g.last_at))
            ORDER BY g.calls DESC, g.tool_name, g.mcp_server), '[]'))
    INTO result
    FROM g
    LEFT JOIN ag ON ag.tool_name IS NOT DISTINCT FROM g.tool_name AND ag.mcp_server IS NOT DISTINCT FROM g.mcp_server;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.tool_usage(uuid, timestamptz, timestamptz, text) IS
    'Tool calls of a tenant (NULL: every tenant) in the window [from, to) per tool and MCP server (only mcp_server when given): calls, successes, failures, successRate, latencyMs p50/p95/p99/avg, distinct agents, lastCalledAt; most calls first (contract §6.3 tool_usage)';

CREATE OR REPLACE FUNCTION analytics.top_agents(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                metric text DEFAULT 'calls', top integer DEFAULT 10)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := top_agents.tenant_id;
    agents jsonb;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    IF metric IS NULL OR metric NOT IN ('calls', 'tokens', 'cost', 'failures') THEN
        RAISE EXCEPTION 'invalid metric "%"', metric
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use calls, tokens, cost or failures.';
    END IF;
    IF top IS NULL OR top NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'invalid top %', top
            USING ERRCODE = 'invalid_parameter_value', HINT = 'top is an integer from 1 to 100.';
    END IF;
    WITH per AS (
        SELECT r.agent_id,
               coalesce(sum(r.events) FILTER (WHERE r.event_type = 'agent_execution'), 0)::bigint AS calls,
               sum(r.input_tokens + r.output_tokens) AS tokens,
               round(sum(r.cost_usd), 6) AS cost,
               sum(r.failures)::bigint AS failures
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r
        WHERE r.agent_id IS NOT NULL
        GROUP BY r.agent_id),
    v AS (
        SELECT per.*, CASE WHEN metric = 'calls' THEN per.calls::numeric WHEN metric = 'tokens' THEN per.tokens
                           WHEN metric = 'cost' THEN per.cost ELSE per.failures::numeric END AS value
        FROM per
        ORDER BY value DESC, per.agent_id
        LIMIT top)
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'agentId', v.agent_id, 'value', v.value, 'calls', v.calls, 'tokens', v.tokens,
               'costUsd', v.cost, 'failures', v.failures) ORDER BY v.value DESC, v.agent_id), '[]')
    INTO agents
    FROM v;
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'metric', metric,
        'top', top,
        'agents', coalesce(jsonb_agg(jsonb_build_object('rank', p.i, 'agentName', a.name) || p.o ORDER BY p.i), '[]'))
    INTO result
    FROM jsonb_array_elements(agents) WITH ORDINALITY p(o, i)
    LEFT JOIN analytics.agents a ON a.agent_id = (p.o ->> 'agentId')::uuid;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.top_agents(uuid, timestamptz, timestamptz, text, integer) IS
    'The top agents (1 to 100) of a tenant (NULL: every tenant) in the window [from, to) by metric: calls (agent executions), tokens (input + output), cost (USD) or failures (failed events of any type); each with its value and all four metrics; agents with an event in the window, value then agent id (contract §6.3 top_agents)';

CREATE OR REPLACE FUNCTION analytics.tool_heatmap(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                  tool text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := tool_heatmap.tenant_id;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'tool', tool,
        'cells', coalesce(jsonb_agg(jsonb_build_object(
            'tool', g.tool_name, 'mcpServer', g.mcp_server, 'dow', c.dow, 'hour', c.hour, 'count', c.count)
            ORDER BY g.tool_name, g.mcp_server, c.dow, c.hour), '[]'))
    INTO result
    FROM (SELECT r.tool_name, r.mcp_server, analytics.heatmap_merge(r.heatmap) AS heatmap
          FROM analytics.read_family(NULL::analytics.tool_daily, tid, "from", "to") r
          WHERE tool_heatmap.tool IS NULL OR r.tool_name = tool_heatmap.tool
          GROUP BY r.tool_name, r.mcp_server) g
    CROSS JOIN LATERAL analytics.heatmap_cells(g.heatmap) c;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.tool_heatmap(uuid, timestamptz, timestamptz, text) IS
    'Day-of-week x hour (UTC, dow 0 = Sunday) counts of the tool calls of a tenant (NULL: every tenant) in the window [from, to) per tool and MCP server (only tool when given): non-zero cells ordered by tool, server, dow, hour (contract §6.3 tool_heatmap)';

CREATE OR REPLACE FUNCTION analytics.error_summary(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid        uuid := error_summary.tenant_id;
    events     bigint;
    failures   bigint;
    by_type    jsonb;
    by_code    jsonb;
    top_agents jsonb;
    top_tools  jsonb;
    result     jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    WITH bt AS (
        SELECT r.event_type, sum(r.events)::bigint AS events, sum(r.failures)::bigint AS failures
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r
        GROUP BY r.event_type)
    SELECT coalesce(sum(bt.events), 0), coalesce(sum(bt.failures), 0),
           coalesce(jsonb_agg(jsonb_build_object('eventType', bt.event_type, 'events', bt.events, 'failures', bt.failures,
                                                 'errorRate', analytics.ratio(bt.failures, bt.events))
                              ORDER BY bt.failures DESC, bt.event_type), '[]')
    INTO events, failures, by_type
    FROM bt;
    WITH r AS MATERIALIZED (
        SELECT r.event_type, r.error_code, r.agent_id, r.tool_name, r.mcp_server, r.failures, r.last_at
        FROM analytics.read_family(NULL::analytics.error_daily, tid, "from", "to") r)
    SELECT
        (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'errorCode', c.error_code, 'count', c.n,
                    'lastSeenAt', analytics.utc_text(c.last_at))
                    ORDER BY c.n DESC, c.error_code), '[]')
         FROM (SELECT r.error_code, sum(r.failures)::bigint AS n, max(r.last_at) AS last_at
               FROM r GROUP BY r.error_code) c),
        (SELECT coalesce(jsonb_agg(jsonb_build_object('agentId', a.agent_id, 'failures', a.n)
                                   ORDER BY a.n DESC, a.agent_id), '[]')
         FROM (SELECT r.agent_id, sum(r.failures)::bigint AS n
               FROM r WHERE r.agent_id IS NOT NULL
               GROUP BY r.agent_id ORDER BY 2 DESC, 1 LIMIT 10) a),
        (SELECT coalesce(jsonb_agg(jsonb_build_object('tool', t.tool_name, 'mcpServer', t.mcp_server, 'failures', t.n)
                                   ORDER BY t.n DESC, t.tool_name, t.mcp_server), '[]')
         FROM (SELECT r.tool_name, r.mcp_server, sum(r.failures)::bigint AS n
               FROM r WHERE r.event_type = 'tool_call'
               GROUP BY r.tool_name, r.mcp_server ORDER BY 3 DESC, 1, 2 LIMIT 10) t)
    INTO by_code, top_agents, top_tools;
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'events', events,
        'failures', failures,
        'errorRate', analytics.ratio(failures, events),
        'byCode', by_code,
        'byEventType', by_type,
        'topAgents', coalesce(jsonb_agg(jsonb_build_object('agentName', a.name) || p.o ORDER BY p.i), '[]'),
        'topTools', top_tools)
    INTO result
    FROM jsonb_array_elements(top_agents) WITH ORDINALITY p(o, i)
    LEFT JOIN analytics.agents a ON a.agent_id = (p.o ->> 'agentId')::uuid;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.error_summary(uuid, timestamptz, timestamptz) IS
    'Failures of a tenant (NULL: every tenant) in the window [from, to): events, failures, errorRate; byCode (count, lastSeenAt; most first), byEventType (events, failures, errorRate), the 10 agents and the 10 tools (tool calls per tool and MCP server) with the most failures (contract §6.3 error_summary)';

CREATE OR REPLACE FUNCTION analytics.error_trends(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                  granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := error_trends.tenant_id;
    gran   text := error_trends.granularity;
    hourly boolean;
    f_day  timestamp;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    IF gran IS NULL OR gran NOT IN ('hour', 'day', 'week', 'month') THEN
        RAISE EXCEPTION 'invalid granularity "%"', gran
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use hour, day, week or month.';
    END IF;
    -- (an Nh window is N hours and a microsecond: now included)
    IF gran = 'hour' AND "to" - "from" > interval '7 days 1 microsecond' THEN
        RAISE EXCEPTION 'granularity hour is for windows of at most 7 days'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use day, week or month.';
    END IF;
    hourly := gran = 'hour';
    f_day := date_trunc('day', "from" AT TIME ZONE 'UTC');
    -- Hour buckets from type_hourly, the others from agent_type_daily (the
    -- family not wanted gets no window: read_family returns nothing).  A
    -- bucket is labelled by its start (UTC); a week (ISO) or month by its
    -- first day in the window.
    WITH r AS (
        SELECT h.bucket, h.event_type, h.events, h.failures
        FROM analytics.read_family(NULL::analytics.type_hourly, tid, CASE WHEN hourly THEN "from" END, "to") h
        UNION ALL
        SELECT d.bucket, d.event_type, d.events, d.failures
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, CASE WHEN NOT hourly THEN "from" END, "to") d),
    g AS MATERIALIZED (
        SELECT CASE WHEN gran = 'week' THEN greatest(date_trunc('week', r.bucket AT TIME ZONE 'UTC'), f_day)
                    WHEN gran = 'month' THEN greatest(date_trunc('month', r.bucket AT TIME ZONE 'UTC'), f_day)
                    ELSE r.bucket AT TIME ZONE 'UTC' END AS b,
               r.event_type, sum(r.events)::bigint AS events, sum(r.failures)::bigint AS failures
        FROM r GROUP BY 1, 2),
    buckets AS (
        SELECT DISTINCT CASE WHEN gran = 'week' THEN greatest(date_trunc('week', s), f_day)
                             WHEN gran = 'month' THEN greatest(date_trunc('month', s), f_day)
                             ELSE s END AS b
        FROM generate_series(date_trunc(CASE WHEN hourly THEN 'hour' ELSE 'day' END, "from" AT TIME ZONE 'UTC'),
                             ("to" - interval '1 microsecond') AT TIME ZONE 'UTC',
                             CASE WHEN hourly THEN interval '1 hour' ELSE interval '1 day' END) s
        WHERE "from" < "to"),
    types AS (SELECT DISTINCT g.event_type FROM g),
    cells AS (
        SELECT b.b, t.event_type, coalesce(g.events, 0) AS events, coalesce(g.failures, 0) AS failures
        FROM buckets b CROSS JOIN types t
        LEFT JOIN g ON g.b = b.b AND g.event_type = t.event_type),
    per AS (
        SELECT b.b,
               coalesce(sum(c.events), 0)::bigint AS events, coalesce(sum(c.failures), 0)::bigint AS failures,
               coalesce(jsonb_agg(jsonb_build_object('eventType', c.event_type, 'events', c.events, 'failures', c.failures,
                                                     'errorRate', analytics.ratio(c.failures, c.events))
                                  ORDER BY c.event_type) FILTER (WHERE c.event_type IS NOT NULL), '[]') AS by_type
        FROM buckets b LEFT JOIN cells c ON c.b = b.b
        GROUP BY b.b)
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'granularity', gran,
        'buckets', coalesce(jsonb_agg(jsonb_build_object(
            'bucket', CASE WHEN hourly THEN to_char(per.b, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') ELSE to_char(per.b, 'YYYY-MM-DD') END,
            'events', per.events,
            'failures', per.failures,
            'errorRate', analytics.ratio(per.failures, per.events),
            'byEventType', per.by_type,
            -- (webhook deliveries come with the alerts of §6.6; none yet)
            'webhookDeliveries', jsonb_build_object('attempts', 0, 'failures', 0)) ORDER BY per.b), '[]'))
    INTO result
    FROM per;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.error_trends(uuid, timestamptz, timestamptz, text) IS
    'Events and failures of a tenant (NULL: every tenant) in the window [from, to) per bucket (hour for windows up to 7 days, day, ISO week or month; labelled by the start, a week or month by its first day in the window; every bucket, zero-filled, oldest first): totals and per event type with errorRate, and webhookDeliveries {attempts, failures} (zeros until the alerts of §6.6 deliver) (contract §6.3 error_trends)';

CREATE OR REPLACE FUNCTION analytics.performance_summary(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid       uuid := performance_summary.tenant_id;
    secs      numeric;
    endpoints jsonb;
    runs      jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    secs := extract(epoch FROM "to" - "from");
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'endpoint', g.endpoint,
               'method', g.method,
               'status_class', CASE WHEN g.status_class IS NOT NULL THEN g.status_class || 'xx' END,
               'calls', g.calls,
               'throughput_per_second', CASE WHEN secs > 0 THEN round(g.calls / secs, 6) ELSE 0 END,
               'error_rate', analytics.ratio(g.failures, g.calls))
               || analytics.latency_json(g.latency)
               ORDER BY g.calls DESC, g.endpoint, g.method, g.status_class), '[]')
    INTO endpoints
    FROM (SELECT r.endpoint, r.method, r.status_class, sum(r.calls)::bigint AS calls, sum(r.failures)::bigint AS failures,
                 analytics.qsketch_merge(r.latency) AS latency
          FROM analytics.read_family(NULL::analytics.api_daily, tid, "from", "to") r
          GROUP BY r.endpoint, r.method, r.status_class) g;
    SELECT jsonb_object_agg(k.key, jsonb_build_object('count', coalesce(g.n, 0)) || analytics.latency_json(g.latency))
    INTO runs
    FROM (VALUES ('executions', 'agent_execution'), ('workflows', 'workflow')) k(key, event_type)
    LEFT JOIN (SELECT r.event_type, sum(r.events)::bigint AS n, analytics.qsketch_merge(r.latency) AS latency
               FROM analytics.read_family(NULL::analytics.agent_type_daily, tid, "from", "to") r
               WHERE r.event_type IN ('agent_execution', 'workflow')
               GROUP BY r.event_type) g ON g.event_type = k.event_type;
    RETURN jsonb_build_object(
        'tenant_id', tid,
        'period', analytics.window_json("from", "to"),
        'window_seconds', round(secs, 3),
        'endpoints', endpoints)
        || runs;
END
$$;
COMMENT ON FUNCTION analytics.performance_summary(uuid, timestamptz, timestamptz) IS
    'Performance of a tenant (NULL: every tenant) in the window [from, to), seed 002 keys: per endpoint, method and status class (2xx...) the calls, throughput_per_second, error_rate and p50/p95/p99 (ms); executions and workflows: count and p50/p95/p99; most calls first (contract §6.3 performance_summary)';
-------------------------------------------------------------------------------
-- functions/76_ops_sessions.sql (layer 76, reports of contract §6.3):
-- sessions, executions, users and workflows, typed for SQL callers.  No
-- tenant checks (the HTTP layer, 82_api_ops_sessions.sql, makes them);
-- tenant_id NULL = every tenant.  Ids (sessions, users, workflows) belong
-- to their tenant: across tenants the same id is another one.
--
--   session_activity(tenant, from, to)        session_daily; activeSessions
--                                             from the raw events of the last
--                                             15 minutes, the hourly series
--                                             of windows up to 48 hours raw
--   session_detail(tenant, session_id)        raw, usage_events_session_idx
--   execution_detail(tenant, execution_id)    raw, usage_events_execution_idx
--   user_analytics(tenant, from, to, user)    user_daily and session_daily
--   user_trends(tenant, from, to, user, g)    the same per bucket (hour: raw)
--   user_known(tenant, user)                  is there an event of the user
--                                             (user_daily, raw days read_plan
--                                             names)
--   workflow_performance(tenant, from, to)    workflow_daily
-- Helper: window_buckets (the zero-filled buckets of a window).
-- Costs are those of the rollup families (analytics.model_prices, input and
-- output tokens); raw reads here price the same way.  Re-runnable.
-------------------------------------------------------------------------------

-- Every bucket of granularity hour, day, week (ISO, Monday) or month that
-- meets the window [from, to), oldest first: bucket = its start (UTC), label
-- = its start clipped to the window (the first bucket may start before it).
CREATE OR REPLACE FUNCTION analytics.window_buckets("from" timestamptz, "to" timestamptz, granularity text)
RETURNS TABLE (bucket timestamptz, label timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week', 'month') THEN
        RAISE EXCEPTION 'invalid granularity "%"', granularity
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use hour, day, week or month.';
    END IF;
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RETURN;
    END IF;
    -- (in UTC timestamps: interval arithmetic on timestamptz would follow
    -- the session's time zone)
    RETURN QUERY
    SELECT g AT TIME ZONE 'UTC', greatest(g AT TIME ZONE 'UTC', "from")
    FROM generate_series(date_trunc(granularity, "from" AT TIME ZONE 'UTC'),
                         ("to" - interval '1 microsecond') AT TIME ZONE 'UTC',
                         ('1 ' || granularity)::interval) g;
END
$$;
COMMENT ON FUNCTION analytics.window_buckets(timestamptz, timestamptz, text) IS
    'The buckets (hour, day, ISO week, month; UTC) meeting the window [from, to), oldest first: bucket = the start, label = the start clipped to the window';

-------------------------------------------------------------------------------
-- Sessions
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.session_activity(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- (read_family's rows of a month of sessions stay in memory)
SET work_mem = '16MB'
AS $$
DECLARE
    now_ts  timestamptz := clock_timestamp();
    tenants uuid[];
    hourly  boolean;
    active  bigint;
    series  json;
    result  jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from < to.';
    END IF;
    -- (an Nh window ends a microsecond after now: 48h is hourly)
    hourly := "to" - "from" <= interval '48 hours 1 microsecond';
    -- (every tenant by its id: the (tenant_id, occurred_at) index serves
    -- the raw reads below for one tenant and for all; their time bounds are
    -- literals, so that only the partitions of those days are planned)
    tenants := CASE WHEN session_activity.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                    ELSE ARRAY[session_activity.tenant_id] END;

    -- Sessions with an event in the 15 minutes before now, whatever the
    -- window: raw events, at most a quarter of an hour of them.
    EXECUTE format(
        'SELECT count(*) FROM (SELECT DISTINCT e.tenant_id, e.session_id FROM analytics.usage_events e '
        'WHERE e.tenant_id = ANY ($1) AND e.occurred_at >= %L AND e.occurred_at <= %L AND e.session_id IS NOT NULL) x',
        now_ts - interval '15 minutes', now_ts)
    INTO active USING tenants;

    -- The hourly series of a window up to 48 hours: raw events (session_daily
    -- has days).
    IF hourly THEN
        EXECUTE format($q$
            WITH h AS MATERIALIZED (
                SELECT e.tenant_id, date_trunc('hour', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
                       e.session_id, e.user_id,
                       coalesce(sum(e.count) FILTER (WHERE e.event_type = 'agent_execution'), 0)::bigint AS executions
                FROM analytics.usage_events e
                WHERE e.tenant_id = ANY ($1) AND e.occurred_at >= %1$L AND e.occurred_at < %2$L
                  AND e.session_id IS NOT NULL
                GROUP BY e.tenant_id, 2, e.session_id, e.user_id),
            t AS (SELECT h.bucket, h.tenant_id, count(DISTINCT h.session_id) AS sessions,
                         count(DISTINCT h.user_id) AS users, sum(h.executions) AS executions
                  FROM h GROUP BY 1, 2),
            b AS (SELECT t.bucket, sum(t.sessions)::bigint AS sessions, sum(t.users)::bigint AS users,
                         sum(t.executions)::bigint AS executions
                  FROM t GROUP BY 1)
            SELECT json_agg(json_build_object('timestamp', analytics.utc_text(w.label), 'sessions', coalesce(b.sessions, 0),
                                              'executions', coalesce(b.executions, 0), 'uniqueUsers', coalesce(b.users, 0))
                            ORDER BY w.bucket)
            FROM analytics.window_buckets(%1$L, %2$L, 'hour') w
            LEFT JOIN b ON b.bucket = w.bucket$q$, "from", "to")
        INTO series USING tenants;
    END IF;

    -- The rest from session_daily, kept once for three groupings: per day
    -- and tenant (distinct sessions and users, executions), per session
    -- (first and last event), per (tenant, user).
    WITH r AS MATERIALIZED (
        SELECT f.tenant_id, f.bucket, f.session_id, f.user_id, f.executions, f.execution_failures,
               f.execution_latency_n, f.execution_latency_sum, f.first_at, f.last_at
        FROM analytics.read_family(NULL::analytics.session_daily, session_activity.tenant_id, "from", "to") f),
    per_day AS (
        SELECT r.bucket, r.tenant_id, count(DISTINCT r.session_id COLLATE "C") AS sessions, count(DISTINCT r.user_id COLLATE "C") AS users,
               sum(r.executions) AS executions, sum(r.execution_failures) AS failures,
               sum(r.execution_latency_n) AS lat_n, sum(r.execution_latency_sum) AS lat_sum
        FROM r GROUP BY 1, 2),
    per_session AS (
        SELECT max(r.last_at) - min(r.first_at) AS d FROM r GROUP BY r.tenant_id, r.session_id),
    per_user AS (
        SELECT r.tenant_id, r.user_id FROM r WHERE r.user_id IS NOT NULL GROUP BY 1, 2),
    st AS (SELECT count(*) AS n, round(avg(extract(epoch FROM per_session.d) * 1000), 3) AS avg_ms FROM per_session),
    et AS (SELECT coalesce(sum(per_day.executions), 0)::bigint AS n, coalesce(sum(per_day.failures), 0)::bigint AS failures,
                  coalesce(sum(per_day.lat_n), 0)::bigint AS lat_n, coalesce(sum(per_day.lat_sum), 0) AS lat_sum
           FROM per_day),
    ut AS (SELECT count(*) AS n FROM per_user),
    -- the daily series (windows over 48 hours)
    daily AS (
        SELECT json_agg(json_build_object('date', to_char(b.label AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                                          'sessions', coalesce(d.sessions, 0), 'executions', coalesce(d.executions, 0),
                                          'uniqueUsers', coalesce(d.users, 0))
                        ORDER BY b.bucket) AS j
        FROM analytics.window_buckets("from", "to", 'day') b
        LEFT JOIN (SELECT per_day.bucket, sum(per_day.sessions)::bigint AS sessions, sum(per_day.users)::bigint AS users,
                          sum(per_day.executions)::bigint AS executions
                   FROM per_day GROUP BY 1) d ON d.bucket = b.bucket
        WHERE NOT hourly)
    SELECT json_build_object(
        'tenantId', session_activity.tenant_id,
        'period', analytics.window_json("from", "to"),
        'sessions', st.n,
        'activeSessions', active,
        'avgSessionDurationMs', st.avg_ms,
        'queriesPerSession', CASE WHEN st.n = 0 THEN 0 ELSE round(et.n::numeric / st.n, 2) END,
        'executions', et.n,
        'successRate', analytics.ratio(et.n - et.failures, et.n),
        'uniqueUsers', ut.n,
        'avgResponseTimeMs', CASE WHEN et.lat_n > 0 THEN round((et.lat_sum / et.lat_n)::numeric, 3) END,
        'granularity', CASE WHEN hourly THEN 'hour' ELSE 'day' END,
        'series', coalesce(CASE WHEN hourly THEN series ELSE daily.j END, '[]'))::jsonb
    INTO result
    FROM st, et, ut, daily;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.session_activity(uuid, timestamptz, timestamptz) IS
    'Sessions of one tenant (NULL: all) in the window [from, to): sessions (distinct session ids with an event), activeSessions (an event in the 15 minutes before now, whatever the window), avgSessionDurationMs (first to last event of each session within the window), queriesPerSession (agent executions in sessions per session), executions, successRate and avgResponseTimeMs of those executions, uniqueUsers; and a zero-filled series {timestamp|date, sessions, executions, uniqueUsers}, hourly for windows up to 48 hours, else daily. From session_daily (read_family); the last 15 minutes and the hourly series from raw events';

-- A session's totals and events, in time order, at most max_events of them
-- ("truncated" says when there are more).  NULL when no event of the scope
-- carries the id.
CREATE OR REPLACE FUNCTION analytics.session_detail(tenant_id uuid, session_id text, max_events integer DEFAULT 1000)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- (no time bound: every partition's index is probed; planned once per session)
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    tenants uuid[];
    tot     record;
    evs     json;
    n       bigint;
BEGIN
    IF session_id IS NULL THEN
        RETURN NULL;
    END IF;
    tenants := CASE WHEN session_detail.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                    ELSE ARRAY[session_detail.tenant_id] END;
    -- Totals over every event of the session (the partial index on
    -- (session_id, occurred_at)), per tenant, then combined.
    WITH g AS MATERIALIZED (
        SELECT e.tenant_id,
               sum(e.count)::bigint AS events,
               coalesce(sum(e.count) FILTER (WHERE e.event_type = 'agent_execution'), 0)::bigint AS executions,
               coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint AS failures,
               coalesce(sum(e.input_tokens), 0)::numeric AS input_tokens,
               coalesce(sum(e.output_tokens), 0)::numeric AS output_tokens,
               coalesce(sum((coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000)
                        FILTER (WHERE e.event_type = 'llm_call'), 0)::numeric AS cost_usd,
               coalesce(sum(e.count) FILTER (WHERE e.event_type = 'llm_call' AND p.model IS NULL), 0)::bigint AS unpriced_calls,
               min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at,
               (array_agg(e.user_id ORDER BY e.occurred_at, e.user_id) FILTER (WHERE e.user_id IS NOT NULL))[1] AS user_id,
               min(e.occurred_at) FILTER (WHERE e.user_id IS NOT NULL) AS user_at,
               array_agg(DISTINCT e.agent_id) FILTER (WHERE e.agent_id IS NOT NULL) AS agents
        FROM analytics.usage_events e
        LEFT JOIN analytics.model_prices p ON p.model = e.model
        WHERE e.session_id = session_detail.session_id AND e.tenant_id = ANY (tenants)
        GROUP BY e.tenant_id)
    SELECT CASE WHEN count(*) = 1 THEN min(g.tenant_id::text)::uuid END AS tenant_id,
           sum(g.events)::bigint AS events, sum(g.executions)::bigint AS executions, sum(g.failures)::bigint AS failures,
           sum(g.input_tokens) AS input_tokens, sum(g.output_tokens) AS output_tokens,
           round(sum(g.cost_usd), 6) AS cost_usd, sum(g.unpriced_calls)::bigint AS unpriced_calls,
           min(g.first_at) AS first_at, max(g.last_at) AS last_at,
           (array_agg(g.user_id ORDER BY g.user_at, g.user_id) FILTER (WHERE g.user_id IS NOT NULL))[1] AS user_id,
           (SELECT coalesce(json_agg(json_build_object('agentId', a.id, 'agentName', ag.name) ORDER BY ag.name, a.id), '[]')
            FROM (SELECT DISTINCT x.id FROM g g2, unnest(g2.agents) x(id)) a
            LEFT JOIN analytics.agents ag ON ag.agent_id = a.id) AS agents
    INTO tot
    FROM g;
    IF tot.events IS NULL THEN
        RETURN NULL;
    END IF;
    -- The first max_events events in time order (one more tells truncated).
    WITH ev AS MATERIALIZED (
        SELECT e.tenant_id, e.occurred_at, e.event_type, e.agent_id, e.execution_id, e.tool_name, e.mcp_server,
               e.model, e.input_tokens, e.output_tokens, e.latency_ms, e.success, e.error_code, e.count
        FROM analytics.usage_events e
        WHERE e.session_id = session_detail.session_id AND e.tenant_id = ANY (tenants)
        ORDER BY e.occurred_at, e.event_type, e.agent_id, e.execution_id, e.tool_name, e.mcp_server, e.model,
                 e.input_tokens, e.output_tokens, e.latency_ms, e.success, e.error_code, e.count, e.tenant_id
        LIMIT max_events + 1),
    num AS (SELECT ev.*, row_number() OVER (ORDER BY ev.occurred_at, ev.event_type, ev.agent_id, ev.execution_id,
                                                      ev.tool_name, ev.mcp_server, ev.model, ev.input_tokens, ev.output_tokens,
                                                      ev.latency_ms, ev.success, ev.error_code, ev.count, ev.tenant_id) AS i
            FROM ev)
    SELECT coalesce(json_agg(json_build_object(
               'occurredAt', analytics.utc_text(num.occurred_at), 'eventType', num.event_type, 'agentId', num.agent_id,
               'executionId', num.execution_id, 'toolName', num.tool_name, 'mcpServer', num.mcp_server, 'model', num.model,
               'tokens', CASE WHEN num.input_tokens IS NOT NULL OR num.output_tokens IS NOT NULL
                              THEN coalesce(num.input_tokens, 0) + coalesce(num.output_tokens, 0) END,
               'latencyMs', num.latency_ms, 'success', num.success, 'errorCode', num.error_code, 'count', num.count,
               'tenantId', num.tenant_id) ORDER BY num.i) FILTER (WHERE num.i <= max_events), '[]'),
           count(*)
    INTO evs, n
    FROM num;
    RETURN json_build_object(
        'tenantId', tot.tenant_id,
        'sessionId', session_id,
        'totals', json_build_object(
            'events', tot.events, 'executions', tot.executions, 'failures', tot.failures,
            'tokens', tot.input_tokens + tot.output_tokens, 'inputTokens', tot.input_tokens, 'outputTokens', tot.output_tokens,
            'costUsd', tot.cost_usd, 'unpricedCalls', tot.unpriced_calls,
            'firstAt', analytics.utc_text(tot.first_at), 'lastAt', analytics.utc_text(tot.last_at),
            'durationMs', round(extract(epoch FROM tot.last_at - tot.first_at) * 1000, 3),
            'userId', tot.user_id, 'agents', tot.agents),
        'events', evs,
        'truncated', n > max_events)::jsonb;
END
$$;
COMMENT ON FUNCTION analytics.session_detail(uuid, text, integer) IS
    'A session of one tenant (NULL: any tenant; tenantId is null when several hold the id): totals over all its events (events, executions, failures, tokens, costUsd, unpricedCalls, firstAt, lastAt, durationMs, userId = the user of its first event that names one, agents) and its first max_events events in time order (truncated = there are more); NULL when no event carries the id. Reads the partial index usage_events_session_idx';

-------------------------------------------------------------------------------
-- Executions
-------------------------------------------------------------------------------

-- An execution (its agent_execution event; the earliest when several) and
-- its tool and LLM calls in time order (at most max_calls), with tokens and
-- cost.  NULL when no event of the scope carries the id.
CREATE OR REPLACE FUNCTION analytics.execution_detail(tenant_id uuid, execution_id text, max_calls integer DEFAULT 1000)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- (no time bound: every partition's index is probed; planned once per session)
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    tenants uuid[];
    result  jsonb;
BEGIN
    IF execution_id IS NULL THEN
        RETURN NULL;
    END IF;
    tenants := CASE WHEN execution_detail.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                    ELSE ARRAY[execution_detail.tenant_id] END;
    -- (the events of one execution: the partial index on (execution_id,
    -- occurred_at); few rows, read once)
    WITH ev AS MATERIALIZED (
        SELECT e.tenant_id, e.occurred_at, e.event_type, e.agent_id, e.success, e.count, e.tool_name, e.mcp_server,
               e.model, e.input_tokens, e.output_tokens, e.latency_ms, e.error_code, e.session_id, e.user_id,
               e.workflow_id, p.model IS NOT NULL AS priced,
               CASE WHEN e.event_type = 'llm_call' AND p.model IS NOT NULL
                    THEN (coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000 END AS cost_usd
        FROM analytics.usage_events e
        LEFT JOIN analytics.model_prices p ON p.model = e.model
        WHERE e.execution_id = execution_detail.execution_id AND e.tenant_id = ANY (tenants)),
    x AS (SELECT ev.* FROM ev WHERE ev.event_type = 'agent_execution'
          ORDER BY ev.occurred_at, ev.tenant_id, ev.agent_id, ev.success, ev.latency_ms, ev.error_code LIMIT 1),
    calls AS (
        SELECT ev.*, row_number() OVER (ORDER BY ev.occurred_at, ev.event_type, ev.tool_name, ev.mcp_server, ev.model,
                                                 ev.input_tokens, ev.output_tokens, ev.latency_ms, ev.success, ev.error_code,
                                                 ev.count, ev.agent_id, ev.tenant_id) AS i
        FROM ev WHERE ev.event_type IN ('tool_call', 'llm_call')),
    ct AS (
        SELECT coalesce(sum(calls.count) FILTER (WHERE calls.event_type = 'tool_call'), 0)::bigint AS tool_calls,
               coalesce(sum(calls.count) FILTER (WHERE calls.event_type = 'llm_call'), 0)::bigint AS llm_calls,
               coalesce(sum(calls.input_tokens), 0)::numeric AS input_tokens,
               coalesce(sum(calls.output_tokens), 0)::numeric AS output_tokens,
               round(coalesce(sum(calls.cost_usd), 0), 6) AS cost_usd,
               coalesce(sum(calls.count) FILTER (WHERE calls.event_type = 'llm_call' AND NOT calls.priced), 0)::bigint AS unpriced_calls,
               count(*) AS n,
               coalesce(json_agg(json_build_object(
                   'occurredAt', analytics.utc_text(calls.occurred_at), 'eventType', calls.event_type,
                   'agentId', calls.agent_id, 'toolName', calls.tool_name, 'mcpServer', calls.mcp_server, 'model', calls.model,
                   'inputTokens', calls.input_tokens, 'outputTokens', calls.output_tokens,
                   'tokens', CASE WHEN calls.input_tokens IS NOT NULL OR calls.output_tokens IS NOT NULL
                                  THEN coalesce(calls.input_tokens, 0) + coalesce(calls.output_tokens, 0) END,
                   'costUsd', round(calls.cost_usd, 6),
                   'latencyMs', calls.latency_ms, 'success', calls.success, 'errorCode', calls.error_code, 'count', calls.count)
                   ORDER BY calls.i) FILTER (WHERE calls.i <= max_calls), '[]') AS list
        FROM calls),
    tn AS (SELECT count(DISTINCT ev.tenant_id) AS n, min(ev.tenant_id::text) AS t FROM ev)
    SELECT json_build_object(
        'tenantId', CASE WHEN tn.n = 1 THEN tn.t::uuid END,
        'executionId', execution_id,
        'execution', json_build_object(
            'agentId', x.agent_id, 'agentName', a.name,
            'startedAt', analytics.utc_text(x.occurred_at), 'durationMs', x.latency_ms,
            'status', CASE WHEN x.success IS NULL THEN NULL WHEN x.success THEN 'success'
                           WHEN x.error_code = 'timeout' THEN 'timeout' ELSE 'failed' END,
            'errorCode', x.error_code, 'sessionId', x.session_id, 'userId', x.user_id, 'workflowId', x.workflow_id),
        'totals', json_build_object(
            'toolCalls', ct.tool_calls, 'llmCalls', ct.llm_calls, 'inputTokens', ct.input_tokens, 'outputTokens', ct.output_tokens,
            'tokens', ct.input_tokens + ct.output_tokens, 'costUsd', ct.cost_usd, 'unpricedCalls', ct.unpriced_calls),
        'calls', ct.list,
        'truncated', ct.n > max_calls)::jsonb
    INTO result
    FROM tn CROSS JOIN ct
    LEFT JOIN x ON true
    LEFT JOIN analytics.agents a ON a.agent_id = x.agent_id
    WHERE tn.n > 0;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.execution_detail(uuid, text, integer) IS
    'An execution of one tenant (NULL: any tenant): from its agent_execution event (the earliest when several; nulls when none yet) agentId, agentName, startedAt (the event time), durationMs, status (success, timeout, failed), errorCode, sessionId, userId, workflowId; its tool and LLM calls in time order (at most max_calls, truncated when more) with tokens and costUsd (input and output tokens at analytics.model_prices; null for a model without price, counted in unpricedCalls), and their totals; NULL when no event carries the id. Reads the partial index usage_events_execution_idx';

-------------------------------------------------------------------------------
-- Users (seed 002: snake_case)
-------------------------------------------------------------------------------

-- Is there an event of this user in the scope, held raw or in user_daily?
-- user_daily holds every rolled day (past raw retention too); the days
-- read_plan names hold raw events the rollups lack (days never rolled or
-- rewritten since, and every rolled day's events past its watermark).
CREATE OR REPLACE FUNCTION analytics.user_known(tenant_id uuid, user_id text)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tenants uuid[];
    lo      date;
    hi      date := analytics.utc_today();
    plan    record;
    d       date;
    s       timestamptz;
    hit     boolean;
BEGIN
    IF user_id IS NULL THEN
        RETURN false;
    END IF;
    tenants := CASE WHEN user_known.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                    ELSE ARRAY[user_known.tenant_id] END;
    IF EXISTS (SELECT 1 FROM analytics.user_daily u WHERE u.tenant_id = ANY (tenants) AND u.user_id = user_known.user_id) THEN
        RETURN true;
    END IF;
    -- The oldest day with raw events: the oldest day partition, or an older
    -- day in the default partition.
    SELECT min(ep.day) INTO lo FROM analytics.event_partitions ep WHERE ep.day IS NOT NULL;
    lo := least(lo, (SELECT (min(e.occurred_at) AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default e), hi);
    plan := analytics.read_plan(lo, hi);
    -- (literal bounds: only the day's partition is planned)
    FOR d, s IN SELECT u.d, u.s FROM unnest(plan.days, plan.since) AS u(d, s) LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM analytics.usage_events e '
                       'WHERE e.tenant_id = ANY ($1) AND e.user_id = $2 AND e.occurred_at >= %L AND e.occurred_at < %L%s)',
                       d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC',
                       CASE WHEN s IS NULL THEN '' ELSE format(' AND e.ingested_at >= %L', s) END)
        INTO hit USING tenants, user_id;
        IF hit THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;
COMMENT ON FUNCTION analytics.user_known(uuid, text) IS
    'True when the scope (a tenant, NULL: all) holds an event of the user: a user_daily row, or a raw event on a day analytics.read_plan reads raw (whole, or past its watermark)';

CREATE OR REPLACE FUNCTION analytics.user_analytics(tenant_id uuid, "from" timestamptz, "to" timestamptz, user_id text,
                                                    period_type text DEFAULT 'custom')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- (read_family's rows of a month of sessions stay in memory)
SET work_mem = '16MB'
AS $$
DECLARE
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from < to.';
    END IF;
    WITH u AS MATERIALIZED (
        SELECT f.bucket, f.events, f.executions, f.input_tokens, f.output_tokens, f.cost_usd, f.agents
        FROM analytics.read_family(NULL::analytics.user_daily, user_analytics.tenant_id, "from", "to") f
        WHERE f.user_id = user_analytics.user_id),
    s AS (SELECT count(*) AS n
          FROM (SELECT DISTINCT f.tenant_id, f.session_id
                FROM analytics.read_family(NULL::analytics.session_daily, user_analytics.tenant_id, "from", "to") f
                WHERE f.user_id = user_analytics.user_id) x),
    t AS (SELECT coalesce(sum(u.events), 0)::bigint AS actions, coalesce(sum(u.executions), 0)::bigint AS executions,
                 coalesce(sum(u.input_tokens + u.output_tokens), 0)::numeric AS tokens,
                 round(coalesce(sum(u.cost_usd), 0), 6) AS cost_usd,
                 count(DISTINCT u.bucket) AS active_days
          FROM u),
    a AS (SELECT count(DISTINCT x.id) AS n FROM u, unnest(u.agents) x(id))
    SELECT json_build_object(
        'tenant_id', user_analytics.tenant_id,
        'user_id', user_analytics.user_id,
        'period_type', period_type,
        'period', analytics.window_json("from", "to"),
        'sessions', s.n,
        'actions', t.actions,
        'agents_used', a.n,
        'executions', t.executions,
        'tokens', t.tokens,
        'cost_usd', t.cost_usd,
        'active_days', t.active_days)::jsonb
    INTO result
    FROM s, t, a;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.user_analytics(uuid, timestamptz, timestamptz, text, text) IS
    'A user of one tenant (NULL: the id in every tenant) over the window [from, to), seed 002''s fields: user_id, period_type (as given), sessions (distinct sessions with an event of the user), actions (events), agents_used, executions (agent executions), tokens (input + output), cost_usd, active_days (UTC days with an event); zeros when the user has no event in the window (analytics.user_known tells unknown users). From user_daily and session_daily (read_family)';

CREATE OR REPLACE FUNCTION analytics.user_trends(tenant_id uuid, "from" timestamptz, "to" timestamptz, user_id text,
                                                 granularity text DEFAULT 'day', period_type text DEFAULT 'custom')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
-- (read_family's rows of a month of sessions stay in memory)
SET work_mem = '16MB'
AS $$
DECLARE
    tenants uuid[];
    data    json;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from < to.';
    END IF;
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week', 'month')
       OR (granularity = 'hour' AND "to" - "from" > interval '7 days 1 microsecond') THEN
        RAISE EXCEPTION 'invalid granularity "%" for this window', granularity
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use hour (windows up to 7 days), day, week or month.';
    END IF;
    IF granularity = 'hour' THEN
        -- Hours: the user's raw events of the window (at most 7 days).
        tenants := CASE WHEN user_trends.tenant_id IS NULL THEN ARRAY(SELECT t.tenant_id FROM analytics.tenants t)
                        ELSE ARRAY[user_trends.tenant_id] END;
        EXECUTE format($q$
            WITH ev AS MATERIALIZED (
                SELECT e.tenant_id, date_trunc('hour', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
                       e.session_id, e.agent_id,
                       sum(e.count)::bigint AS events,
                       coalesce(sum(e.count) FILTER (WHERE e.event_type = 'agent_execution'), 0)::bigint AS executions,
                       coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)), 0)::numeric AS tokens,
                       coalesce(sum((coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000)
                                FILTER (WHERE e.event_type = 'llm_call'), 0)::numeric AS cost_usd
                FROM analytics.usage_events e
                LEFT JOIN analytics.model_prices p ON p.model = e.model
                WHERE e.tenant_id = ANY ($1) AND e.occurred_at >= %1$L AND e.occurred_at < %2$L AND e.user_id = $2
                GROUP BY e.tenant_id, 2, e.session_id, e.agent_id),
            t AS (SELECT ev.bucket, sum(ev.events)::bigint AS actions, sum(ev.executions)::bigint AS executions,
                         sum(ev.tokens) AS tokens, sum(ev.cost_usd) AS cost_usd
                  FROM ev GROUP BY 1),
            s AS (SELECT x.bucket, count(*) AS n
                  FROM (SELECT DISTINCT ev.bucket, ev.tenant_id, ev.session_id FROM ev WHERE ev.session_id IS NOT NULL) x GROUP BY 1),
            a AS (SELECT x.bucket, count(*) AS n
                  FROM (SELECT DISTINCT ev.bucket, ev.agent_id FROM ev WHERE ev.agent_id IS NOT NULL) x GROUP BY 1)
            SELECT json_agg(json_build_object(
                       'timestamp', analytics.utc_text(b.label), 'sessions', coalesce(s.n, 0), 'actions', coalesce(t.actions, 0),
                       'agents_used', coalesce(a.n, 0), 'executions', coalesce(t.executions, 0), 'tokens', coalesce(t.tokens, 0),
                       'cost_usd', round(coalesce(t.cost_usd, 0), 6), 'active_days', CASE WHEN t.actions > 0 THEN 1 ELSE 0 END)
                       ORDER BY b.bucket)
            FROM analytics.window_buckets(%1$L, %2$L, 'hour') b
            LEFT JOIN t ON t.bucket = b.bucket
            LEFT JOIN s ON s.bucket = b.bucket
            LEFT JOIN a ON a.bucket = b.bucket$q$, "from", "to")
        INTO data USING tenants, user_id;
    ELSE
        -- Days, weeks, months: user_daily and session_daily rows, each in
        -- the bucket its day falls in.
        WITH u AS MATERIALIZED (
            SELECT date_trunc(granularity, f.bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, f.bucket AS day,
                   f.events, f.executions, f.input_tokens, f.output_tokens, f.cost_usd, f.agents
            FROM analytics.read_family(NULL::analytics.user_daily, user_trends.tenant_id, "from", "to") f
            WHERE f.user_id = user_trends.user_id),
        s AS (SELECT x.bucket, count(*) AS n
              FROM (SELECT DISTINCT date_trunc(granularity, f.bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
                                    f.tenant_id, f.session_id
                    FROM analytics.read_family(NULL::analytics.session_daily, user_trends.tenant_id, "from", "to") f
                    WHERE f.user_id = user_trends.user_id) x
              GROUP BY 1),
        t AS (SELECT u.bucket, sum(u.events)::bigint AS actions, sum(u.executions)::bigint AS executions,
                     sum(u.input_tokens + u.output_tokens)::numeric AS tokens, sum(u.cost_usd) AS cost_usd,
                     count(DISTINCT u.day) AS active_days
              FROM u GROUP BY 1),
        a AS (SELECT x.bucket, count(*) AS n FROM (SELECT DISTINCT u.bucket, g.id FROM u, unnest(u.agents) g(id)) x GROUP BY 1)
        SELECT json_agg(json_build_object(
                   'date', to_char(b.label AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'sessions', coalesce(s.n, 0),
                   'actions', coalesce(t.actions, 0), 'agents_used', coalesce(a.n, 0), 'executions', coalesce(t.executions, 0),
                   'tokens', coalesce(t.tokens, 0), 'cost_usd', round(coalesce(t.cost_usd, 0), 6),
                   'active_days', coalesce(t.active_days, 0))
                   ORDER BY b.bucket)
        INTO data
        FROM analytics.window_buckets("from", "to", granularity) b
        LEFT JOIN t ON t.bucket = b.bucket
        LEFT JOIN s ON s.bucket = b.bucket
        LEFT JOIN a ON a.bucket = b.bucket;
    END IF;
    RETURN json_build_object(
        'tenant_id', user_trends.tenant_id,
        'user_id', user_trends.user_id,
        'period_type', period_type,
        'period', analytics.window_json("from", "to"),
        'granularity', granularity,
        'data', coalesce(data, '[]'))::jsonb;
END
$$;
COMMENT ON FUNCTION analytics.user_trends(uuid, timestamptz, timestamptz, text, text, text) IS
    'user_analytics per bucket of the window [from, to): every hour (windows up to 7 days; raw events), day, ISO week or month (user_daily and session_daily via read_family), zero-filled, oldest first; a bucket is labelled by its start clipped to the window ("timestamp" for hours, "date" otherwise)';

-------------------------------------------------------------------------------
-- Workflows
-------------------------------------------------------------------------------

-- A run is a workflow_id with a workflow event in the window; its rows of
-- every day are merged first (a run may span days; its type is the
-- non-null workflow_type of its workflow events), then runs by type.
CREATE OR REPLACE FUNCTION analytics.workflow_performance(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from < to.';
    END IF;
    WITH r AS MATERIALIZED (
        SELECT f.tenant_id, f.bucket, f.workflow_id, f.workflow_type, f.runs, f.run_failures, f.run_latency,
               f.tool_calls, f.input_tokens, f.output_tokens, f.agents
        FROM analytics.read_family(NULL::analytics.workflow_daily, workflow_performance.tenant_id, "from", "to") f),
    -- the runs: a workflow id's rows of every day of the window merged
    run AS MATERIALIZED (
        SELECT r.tenant_id, r.workflow_id, max(r.workflow_type) AS workflow_type,
               sum(r.run_failures) AS failures, analytics.qsketch_merge(r.run_latency) AS latency,
               sum(r.tool_calls) AS tool_calls, sum(r.input_tokens + r.output_tokens) AS tokens
        FROM r GROUP BY 1, 2 HAVING sum(r.runs) > 0),
    run_agents AS (
        SELECT x.tenant_id, x.workflow_id, count(*) AS n
        FROM (SELECT DISTINCT r.tenant_id, r.workflow_id, g.id FROM r, unnest(r.agents) g(id)) x
        GROUP BY 1, 2),
    by_type AS (
        SELECT run.workflow_type, count(*) AS runs, count(*) FILTER (WHERE run.failures > 0) AS failures,
               analytics.qsketch_merge(run.latency) AS latency,
               avg(coalesce(ra.n, 0)) AS agents, avg(run.tool_calls) AS tool_calls, avg(run.tokens) AS tokens
        FROM run
        LEFT JOIN run_agents ra ON ra.tenant_id = run.tenant_id AND ra.workflow_id = run.workflow_id
        GROUP BY 1),
    -- the daily series: runs with a workflow event on the day
    day_run AS (
        SELECT r.bucket, r.tenant_id, r.workflow_id, sum(r.run_failures) AS failures,
               analytics.qsketch_merge(r.run_latency) AS latency
        FROM r GROUP BY 1, 2, 3 HAVING sum(r.runs) > 0),
    by_day AS (
        SELECT day_run.bucket, count(*) AS runs, count(*) FILTER (WHERE day_run.failures > 0) AS failures,
               analytics.qsketch_merge(day_run.latency) AS latency
        FROM day_run GROUP BY 1),
    types AS (
        SELECT coalesce(json_agg(json_build_object(
                   'workflowType', t.workflow_type, 'runs', t.runs, 'successes', t.runs - t.failures,
                   'failures', t.failures, 'successRate', analytics.ratio(t.runs - t.failures, t.runs),
                   'durationMs', analytics.latency_json(t.latency),
                   'avgAgentsPerRun', round(t.agents, 2), 'avgToolCallsPerRun', round(t.tool_calls, 2),
                   'avgTokensPerRun', round(t.tokens, 2))
                   ORDER BY t.runs DESC, t.workflow_type NULLS LAST), '[]') AS j
        FROM by_type t),
    series AS (
        SELECT json_agg(json_build_object(
                   'date', to_char(b.label AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'runs', coalesce(d.runs, 0),
                   'failures', coalesce(d.failures, 0), 'p95', analytics.latency_json(d.latency) -> 'p95')
                   ORDER BY b.bucket) AS j
        FROM analytics.window_buckets("from", "to", 'day') b
        LEFT JOIN by_day d ON d.bucket = b.bucket)
    SELECT json_build_object(
        'tenantId', workflow_performance.tenant_id,
        'period', analytics.window_json("from", "to"),
        'workflowTypes', types.j,
        'series', series.j)::jsonb
    INTO result
    FROM types, series;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.workflow_performance(uuid, timestamptz, timestamptz) IS
    'Workflow runs of one tenant (NULL: all) in the window [from, to), per workflowType (most runs first): runs (workflow ids with a workflow event in the window; a run''s rows of every day merged, its type the non-null workflow_type), successes, failures (runs with a failed workflow event), successRate, durationMs p50/p95/p99 (merged sketches of the workflow events'' latency), avgAgentsPerRun, avgToolCallsPerRun, avgTokensPerRun (input + output; the run''s events within the window); and a zero-filled daily series {date, runs, failures, p95}. From workflow_daily (read_family)';
-------------------------------------------------------------------------------
-- functions/77_ops_platform.sql (layer 77, reports of contract §6.3): the
-- seed-002 agent and platform answers and the health of the extension, as
-- jsonb, for SQL callers (the HTTP layer, 83_api_ops_platform.sql, calls
-- them after its checks).  Tenant NULL: every tenant.
--   agent_analytics(tenant, from, to, agent)        one agent's calls, times, tokens, cost
--   agent_trends(tenant, from, to, agent, gran)     the same per bucket
--   platform_trends(tenant, from, to, gran)         active and new tenants, agents, users; events, api p95, tokens, cost per bucket
--   dashboard(tenant, from, to)                     seed 002's current_metrics, trends, performance, monitoring
--   analytics_health()                              status, last rollup, days waiting, worker, version
-- Helpers (platform_*): buckets of a window, the raw reads of hour buckets
-- that no family holds (one agent's events, users), and which tenants,
-- agents and users had an event before a window ("new" = first event ever
-- in the window).  Everything reads the rollup families through
-- analytics.read_family (layer 40) except where said.  Re-runnable.
-------------------------------------------------------------------------------

-- The bucket of an instant: its UTC hour or day, or its ISO week (Monday)
-- or month, not before the first day of the window starting at "from".
CREATE OR REPLACE FUNCTION analytics.platform_bucket(ts timestamptz, granularity text, "from" timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN $2 IN ('hour', 'day') THEN date_trunc($2, $1 AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                ELSE greatest(date_trunc($2, $1 AT TIME ZONE 'UTC'), date_trunc('day', $3 AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC' END
$$;
COMMENT ON FUNCTION analytics.platform_bucket(timestamptz, text, timestamptz) IS
    'The start of the bucket (hour, day, week: ISO Monday, month) holding ts, for a window starting at from: week and month buckets start no earlier than the first day of the window';

-- Every bucket of the window [from, to), oldest first.
CREATE OR REPLACE FUNCTION analytics.platform_buckets("from" timestamptz, "to" timestamptz, granularity text)
RETURNS SETOF timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT DISTINCT analytics.platform_bucket(g, $3, $1)
    FROM generate_series(date_trunc(CASE WHEN $3 = 'hour' THEN 'hour' ELSE 'day' END, $1 AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                         $2 - interval '1 microsecond',
                         CASE WHEN $3 = 'hour' THEN interval '1 hour' ELSE interval '1 day' END) g
    WHERE $1 < $2
    ORDER BY 1
$$;
COMMENT ON FUNCTION analytics.platform_buckets(timestamptz, timestamptz, text) IS
    'The starts of every bucket (hour, day, week, month; see platform_bucket) of the window [from, to), oldest first';

-- A bucket's label: a UTC RFC 3339 timestamp for hours, else its date.
CREATE OR REPLACE FUNCTION analytics.platform_label(bucket timestamptz, granularity text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN $2 = 'hour' THEN to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                ELSE to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD') END
$$;
COMMENT ON FUNCTION analytics.platform_label(timestamptz, text) IS
    'The label of a bucket: YYYY-MM-DDTHH:MI:SSZ (UTC) for hour buckets, else YYYY-MM-DD';

-- Granularity checks of the typed functions (ordinary errors).
CREATE OR REPLACE FUNCTION analytics.platform_check_granularity(granularity text, "from" timestamptz, "to" timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week', 'month') THEN
        RAISE EXCEPTION 'invalid granularity "%"', granularity
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use hour, day, week or month.';
    END IF;
    IF granularity = 'hour' AND "to" - "from" > interval '7 days 1 second' THEN
        RAISE EXCEPTION 'hour buckets need a window of at most 7 days'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use day, week or month for longer windows.';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.platform_check_granularity(text, timestamptz, timestamptz) IS
    'Raises invalid_parameter_value unless granularity is hour (windows of at most 7 days), day, week or month';

-- One agent's events of [from, to) grouped by UTC hour and event type,
-- from the raw events (no family holds agents by hour; agent_trends asks
-- for windows of at most 7 days).  Columns as in agent_type_daily.
CREATE OR REPLACE FUNCTION analytics.platform_agent_hours(tenant_id uuid, agent_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS TABLE (bucket timestamptz, event_type text, events bigint, failures bigint, latency_n bigint,
               latency_sum double precision, latency analytics.qsketch, input_tokens numeric,
               output_tokens numeric, cost_usd numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    IF tenant_id IS NULL OR agent_id IS NULL OR "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RETURN;
    END IF;
    -- (literals: a router query on Citus)
    RETURN QUERY EXECUTE format(
        'SELECT date_trunc(''hour'', e.occurred_at AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC'', e.event_type, '
        '       sum(e.count)::bigint, coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::bigint, '
        '       coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL), 0)::bigint, '
        '       coalesce(sum(e.latency_ms * e.count), 0)::double precision, '
        '       analytics.qsketch_agg_n(e.latency_ms, e.count::bigint), '
        '       coalesce(sum(e.input_tokens), 0)::numeric, coalesce(sum(e.output_tokens), 0)::numeric, '
        '       coalesce(sum((coalesce(e.input_tokens, 0) * p.input_usd_per_mtok + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000) '
        '                FILTER (WHERE e.event_type = ''llm_call''), 0)::numeric '
        'FROM analytics.usage_events e LEFT JOIN analytics.model_prices p ON p.model = e.model '
        'WHERE e.tenant_id = %L AND e.agent_id = %L AND e.occurred_at >= %L AND e.occurred_at < %L '
        'GROUP BY 1, 2', tenant_id, agent_id, "from", "to");
END
$$;
COMMENT ON FUNCTION analytics.platform_agent_hours(uuid, uuid, timestamptz, timestamptz) IS
    'One agent''s raw events of [from, to) per UTC hour and event type (events, failures, latency count, sum and qsketch, tokens, cost as in agent_type_daily): the hour buckets of agent_trends';

-- The users with an event in each UTC hour of [from, to), from the raw
-- events (user_daily is daily; platform_trends asks for windows of at
-- most 7 days).
CREATE OR REPLACE FUNCTION analytics.platform_user_hours(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS TABLE (bucket timestamptz, tenant uuid, user_id text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT date_trunc(''hour'', e.occurred_at AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC'', e.tenant_id, e.user_id '
        'FROM analytics.usage_events e '
        'WHERE e.occurred_at >= %L AND e.occurred_at < %L AND e.user_id IS NOT NULL%s '
        'GROUP BY 1, 2, 3', "from", "to",
        CASE WHEN platform_user_hours.tenant_id IS NULL THEN ''
             ELSE format(' AND e.tenant_id = %L', platform_user_hours.tenant_id) END);
END
$$;
COMMENT ON FUNCTION analytics.platform_user_hours(uuid, timestamptz, timestamptz) IS
    'The (UTC hour, tenant, user) triples with an event in [from, to) from the raw events, for one tenant or all (NULL): the hour buckets of platform_trends';

-- The day partitions before a day that were never rolled up, oldest
-- first (from the catalog by name, cheaper than analytics.event_partitions).
CREATE OR REPLACE FUNCTION analytics.platform_unrolled_days(before date)
RETURNS date[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN ARRAY(
        SELECT to_date(substr(c.relname, 15), 'YYYYMMDD')
        FROM pg_catalog.pg_inherits i
        JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'analytics.usage_events'::regclass
          AND c.relname LIKE 'usage\_events\_p________'
          AND c.relname < 'usage_events_p' || to_char(before, 'YYYYMMDD')
          AND c.relname NOT IN (SELECT 'usage_events_p' || to_char(r.day, 'YYYYMMDD') FROM analytics.rollup_days r)
        ORDER BY c.relname);
END
$$;
COMMENT ON FUNCTION analytics.platform_unrolled_days(date) IS
    'The days before the given day whose partition of usage_events exists and was never rolled up, oldest first';

-- Which of the given tenants, agents and users had an event before "from"
-- (so that an entity with an event in a window is new when it had none
-- before).  Bounded: per tenant, the family rows before the window's first
-- day are probed in (tenant_id, bucket, ...) index order and stop at the
-- first hit (agent_type_daily for tenants and agents, user_daily for
-- users); the raw events the families may not hold yet are read for the
-- days read_plan lists before that day (never rolled, changed since, live)
-- and for the part of the window's first day before "from".  Users are
-- (tenant, user_id) pairs.  One router query per tenant (Citus).
CREATE OR REPLACE FUNCTION analytics.platform_seen_before("from" timestamptz, tenants uuid[],
                                                          agent_tenants uuid[], agents uuid[],
                                                          user_tenants uuid[], users text[])
RETURNS TABLE (kind text, tenant_id uuid, id text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    lo      timestamptz := date_trunc('day', "from" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    lo_day  date := ("from" AT TIME ZONE 'UTC')::date;
    first   date;
    p       record;
    hit     boolean;
    raw     text := '';
    t       uuid;
    ids     text[];
    found   text[];
BEGIN
    IF "from" IS NULL THEN
        RETURN;
    END IF;
    -- The raw ranges before "from" that the families may lack: from the
    -- oldest day that can be unclean (a partition never rolled, a logged
    -- change, an event in the default partition, yesterday), read_plan's
    -- days, and the start of the first day.
    first := least((analytics.platform_unrolled_days(lo_day))[1],
                   (SELECT min(c.day) FROM analytics.changed_days c WHERE c.day < lo_day),
                   (SELECT (min(e.occurred_at) AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default e),
                   analytics.utc_today() - 1);
    IF first < lo_day THEN
        SELECT string_agg(format('(e.occurred_at >= %L AND e.occurred_at < %L%s)',
                                 u.d::timestamp AT TIME ZONE 'UTC', (u.d + 1)::timestamp AT TIME ZONE 'UTC',
                                 CASE WHEN u.s IS NULL THEN '' ELSE format(' AND e.ingested_at >= %L', u.s) END), ' OR ')
        INTO raw
        FROM analytics.read_plan(first, lo_day - 1) rp, unnest(rp.days, rp.since) AS u(d, s);
        raw := coalesce(raw, '');
    END IF;
    IF "from" > lo THEN
        raw := raw || CASE WHEN raw = '' THEN '' ELSE ' OR ' END
                   || format('(e.occurred_at >= %L AND e.occurred_at < %L)', lo, "from");
    END IF;

    -- Tenants.
    FOR t IN SELECT DISTINCT x FROM unnest(tenants) x WHERE x IS NOT NULL LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM analytics.agent_type_daily d WHERE d.tenant_id = %L AND d.bucket < %L)', t, lo)
        INTO hit;
        IF NOT hit AND raw <> '' THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM analytics.usage_events e WHERE e.tenant_id = %L AND (%s))', t, raw) INTO hit;
        END IF;
        IF hit THEN
            kind := 'tenant'; tenant_id := t; id := t::text;
            RETURN NEXT;
        END IF;
    END LOOP;

    -- Agents, then users: per tenant, the families first, then raw events
    -- for the ones not found there.
    FOR p IN SELECT 'agent' AS k, x.t, array_agg(DISTINCT x.i) AS ids
             FROM unnest(agent_tenants, agents::text[]) x(t, i) WHERE x.i IS NOT NULL GROUP BY x.t
             UNION ALL
             SELECT 'user', x.t, array_agg(DISTINCT x.i)
             FROM unnest(user_tenants, users) x(t, i) WHERE x.i IS NOT NULL GROUP BY x.t LOOP
        -- The ids of the tenant's oldest bucket first (most ids of a
        -- tenant with history are there), then one probe per other id
        -- (LATERAL ... LIMIT 1: an index scan stopping at the first row).
        EXECUTE format('SELECT array_agg(DISTINCT i) FROM unnest(%4$L::text[]) i JOIN analytics.%2$I d ON d.%1$I = i::%5$s '
                       'WHERE d.tenant_id = %3$L AND d.bucket < %6$L '
                       '  AND d.bucket = (SELECT min(m.bucket) FROM analytics.%2$I m WHERE m.tenant_id = %3$L)',
                       CASE WHEN p.k = 'agent' THEN 'agent_id' ELSE 'user_id' END,
                       CASE WHEN p.k = 'agent' THEN 'agent_type_daily' ELSE 'user_daily' END, p.t, p.ids,
                       CASE WHEN p.k = 'agent' THEN 'uuid' ELSE 'text' END, lo)
        INTO found;
        found := coalesce(found, '{}');
        ids := ARRAY(SELECT unnest(p.ids) EXCEPT SELECT unnest(found));
        IF cardinality(ids) > 0 THEN
            EXECUTE format('SELECT array_agg(i) FROM unnest(%L::text[]) i '
                           'CROSS JOIN LATERAL (SELECT 1 FROM analytics.%I d WHERE d.tenant_id = %L AND d.bucket < %L AND d.%I = i::%s LIMIT 1) h',
                           ids, CASE WHEN p.k = 'agent' THEN 'agent_type_daily' ELSE 'user_daily' END, p.t, lo,
                           CASE WHEN p.k = 'agent' THEN 'agent_id' ELSE 'user_id' END,
                           CASE WHEN p.k = 'agent' THEN 'uuid' ELSE 'text' END)
            INTO ids;
            found := found || coalesce(ids, '{}');
            ids := ARRAY(SELECT unnest(p.ids) EXCEPT SELECT unnest(found));
        END IF;
        IF cardinality(ids) > 0 AND raw <> '' THEN
            EXECUTE format('SELECT array_agg(DISTINCT e.%1$I::text) FROM analytics.usage_events e '
                           'WHERE e.tenant_id = %2$L AND e.%1$I = ANY (%3$L::%4$s[]) AND (%5$s)',
                           CASE WHEN p.k = 'agent' THEN 'agent_id' ELSE 'user_id' END, p.t, ids,
                           CASE WHEN p.k = 'agent' THEN 'uuid' ELSE 'text' END, raw)
            INTO ids;
            found := found || coalesce(ids, '{}');
        END IF;
        RETURN QUERY SELECT p.k, p.t, f FROM unnest(found) f;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.platform_seen_before(timestamptz, uuid[], uuid[], uuid[], uuid[], text[]) IS
    'Which of the given tenants, agents (with their tenants) and users (tenant, user_id pairs) had an event before from: rollup family rows before the first day of the window (index probes stopping at the first hit), raw events of the days the families may lack and of the first day before from; rows (kind tenant|agent|user, tenant_id, id)';

-------------------------------------------------------------------------------
-- Agents (seed 002: an agent's calls are its agent_execution events)
-------------------------------------------------------------------------------

-- The seed-002 fields of one agent's rows (agent_type_daily's columns),
-- as json: calls, successes, failures, response times, tokens, cost, tool
-- and llm calls.  uptime_percentage: the agent's linked service (§6.5) does
-- not exist yet, so null.
CREATE OR REPLACE FUNCTION analytics.platform_agent_fields(calls numeric, failed numeric, latency analytics.qsketch,
                                                           latency_sum double precision, latency_n numeric,
                                                           input_tokens numeric, output_tokens numeric, cost_usd numeric,
                                                           tool_calls numeric, llm_calls numeric)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lat jsonb := analytics.latency_json(latency);
BEGIN
    calls := coalesce(calls, 0);
    failed := coalesce(failed, 0);
    RETURN jsonb_build_object(
        'total_calls', calls,
        'successful_calls', calls - failed,
        'failed_calls', failed,
        'success_rate', analytics.ratio(calls - failed, calls),
        'response_time_p50', lat -> 'p50',
        'response_time_p95', lat -> 'p95',
        'response_time_p99', lat -> 'p99',
        'avg_response_time', CASE WHEN coalesce(latency_n, 0) > 0 THEN round((latency_sum / latency_n)::numeric, 3) END,
        'uptime_percentage', NULL,
        'input_tokens', coalesce(input_tokens, 0),
        'output_tokens', coalesce(output_tokens, 0),
        'tokens', coalesce(input_tokens, 0) + coalesce(output_tokens, 0),
        'cost_usd', round(coalesce(cost_usd, 0), 6),
        'tool_calls', coalesce(tool_calls, 0),
        'llm_calls', coalesce(llm_calls, 0));
END
$$;
COMMENT ON FUNCTION analytics.platform_agent_fields(numeric, numeric, analytics.qsketch, double precision, numeric, numeric, numeric, numeric, numeric, numeric) IS
    'The seed-002 agent fields (total/successful/failed calls, success_rate, response_time_p50/p95/p99 and avg in ms, uptime_percentage null, input/output tokens, tokens, cost_usd, tool_calls, llm_calls) from summed agent_type_daily values';

CREATE OR REPLACE FUNCTION analytics.agent_analytics(tenant_id uuid, "from" timestamptz, "to" timestamptz, agent_id uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid;
    aname  text;
    result jsonb;
BEGIN
    -- The agent's tenant (for the operator); another tenant's agent reads nothing.
    SELECT a.tenant_id, a.name INTO tid, aname FROM analytics.agents a WHERE a.agent_id = agent_analytics.agent_id;
    IF agent_analytics.tenant_id IS NOT NULL AND tid IS DISTINCT FROM agent_analytics.tenant_id THEN
        tid := NULL;
        aname := NULL;
    END IF;
    WITH f AS MATERIALIZED (
        SELECT r.event_type, r.events, r.failures, r.latency, r.latency_sum, r.latency_n,
               r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid,
                                   CASE WHEN tid IS NOT NULL THEN "from" END, "to") r
        WHERE r.agent_id = agent_analytics.agent_id)
    SELECT jsonb_build_object('tenant_id', coalesce(tid, agent_analytics.tenant_id),
                              'agent_id', agent_analytics.agent_id,
                              'agent_name', aname,
                              'period', analytics.window_json("from", "to"))
        || analytics.platform_agent_fields(
               sum(f.events) FILTER (WHERE f.event_type = 'agent_execution'),
               sum(f.failures) FILTER (WHERE f.event_type = 'agent_execution'),
               analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'agent_execution'),
               sum(f.latency_sum) FILTER (WHERE f.event_type = 'agent_execution'),
               sum(f.latency_n) FILTER (WHERE f.event_type = 'agent_execution'),
               sum(f.input_tokens), sum(f.output_tokens), sum(f.cost_usd),
               sum(f.events) FILTER (WHERE f.event_type = 'tool_call'),
               sum(f.events) FILTER (WHERE f.event_type = 'llm_call'))
    INTO result
    FROM f;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_analytics(uuid, timestamptz, timestamptz, uuid) IS
    'Seed 002''s agent analytics over [from, to) (snake_case): tenant_id (the agent''s), agent_id, agent_name, period, total/successful/failed calls (its agent_execution events), success_rate, response_time_p50/p95/p99 and avg_response_time (execution durations, ms), uptime_percentage (null until services exist), input/output tokens, tokens, cost_usd, tool_calls, llm_calls; tenant NULL: the agent''s tenant, else zeros for an agent of another tenant';

CREATE OR REPLACE FUNCTION analytics.agent_trends(tenant_id uuid, "from" timestamptz, "to" timestamptz, agent_id uuid,
                                                 granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid;
    aname  text;
    hourly boolean := granularity = 'hour';
    result jsonb;
BEGIN
    PERFORM analytics.platform_check_granularity(granularity, "from", "to");
    SELECT a.tenant_id, a.name INTO tid, aname FROM analytics.agents a WHERE a.agent_id = agent_trends.agent_id;
    IF agent_trends.tenant_id IS NOT NULL AND tid IS DISTINCT FROM agent_trends.tenant_id THEN
        tid := NULL;
        aname := NULL;
    END IF;
    -- Day, week and month buckets from agent_type_daily; hour buckets from
    -- the agent's raw events (at most 7 days).
    WITH f AS MATERIALIZED (
        SELECT analytics.platform_bucket(r.bucket, granularity, "from") AS b, r.event_type, r.events, r.failures,
               r.latency, r.latency_sum, r.latency_n, r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, tid,
                                   CASE WHEN tid IS NOT NULL AND NOT hourly THEN "from" END, "to") r
        WHERE r.agent_id = agent_trends.agent_id
        UNION ALL
        SELECT h.bucket, h.event_type, h.events, h.failures, h.latency, h.latency_sum, h.latency_n,
               h.input_tokens, h.output_tokens, h.cost_usd
        FROM analytics.platform_agent_hours(tid, agent_trends.agent_id, CASE WHEN hourly THEN "from" END, "to") h),
    per AS (
        SELECT f.b,
               analytics.platform_agent_fields(
                   sum(f.events) FILTER (WHERE f.event_type = 'agent_execution'),
                   sum(f.failures) FILTER (WHERE f.event_type = 'agent_execution'),
                   analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'agent_execution'),
                   sum(f.latency_sum) FILTER (WHERE f.event_type = 'agent_execution'),
                   sum(f.latency_n) FILTER (WHERE f.event_type = 'agent_execution'),
                   sum(f.input_tokens), sum(f.output_tokens), sum(f.cost_usd),
                   sum(f.events) FILTER (WHERE f.event_type = 'tool_call'),
                   sum(f.events) FILTER (WHERE f.event_type = 'llm_call')) AS j
        FROM f GROUP BY f.b)
    SELECT jsonb_build_object(
        'tenant_id', coalesce(tid, agent_trends.tenant_id),
        'agent_id', agent_trends.agent_id,
        'agent_name', aname,
        'period', analytics.window_json("from", "to"),
        'granularity', granularity,
        'trends', jsonb_agg(jsonb_build_object('date', analytics.platform_label(g.b, granularity))
                            || coalesce(per.j, analytics.platform_agent_fields(0, 0, NULL, 0, 0, 0, 0, 0, 0, 0))
                            ORDER BY g.b))
    INTO result
    FROM analytics.platform_buckets("from", "to", granularity) g(b)
    LEFT JOIN per ON per.b = g.b;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.agent_trends(uuid, timestamptz, timestamptz, uuid, text) IS
    'Seed 002''s agent analytics per bucket (hour: windows of at most 7 days, from the agent''s raw events; day, week, month: from agent_type_daily): trends [{date, total/successful/failed calls, success_rate, response times, tokens, cost_usd, tool_calls, llm_calls}], every bucket zero-filled, oldest first';

-------------------------------------------------------------------------------
-- The platform (operators)
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.platform_trends(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                    granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    hourly boolean := granularity = 'hour';
    result jsonb;
BEGIN
    PERFORM analytics.platform_check_granularity(granularity, "from", "to");
    -- f: the events per bucket, tenant and agent (agent_type_daily), or per
    -- hour and tenant with the hour's agents (type_hourly); u: the users
    -- per bucket (user_daily, or raw events by hour).
    WITH f AS MATERIALIZED (
        SELECT analytics.platform_bucket(r.bucket, granularity, "from") AS b, r.tenant_id,
               CASE WHEN r.agent_id IS NULL THEN '{}'::uuid[] ELSE ARRAY[r.agent_id] END AS agents,
               r.event_type, r.events, r.failures, r.latency, r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, platform_trends.tenant_id,
                                   CASE WHEN NOT hourly THEN "from" END, "to") r
        UNION ALL
        SELECT r.bucket, r.tenant_id, r.agents, r.event_type, r.events, r.failures, r.latency,
               r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.type_hourly, platform_trends.tenant_id,
                                   CASE WHEN hourly THEN "from" END, "to") r),
    u AS MATERIALIZED (
        SELECT analytics.platform_bucket(r.bucket, granularity, "from") AS b, r.tenant_id, r.user_id
        FROM analytics.read_family(NULL::analytics.user_daily, platform_trends.tenant_id,
                                   CASE WHEN NOT hourly THEN "from" END, "to") r
        UNION
        SELECT h.bucket, h.tenant, h.user_id
        FROM analytics.platform_user_hours(platform_trends.tenant_id, CASE WHEN hourly THEN "from" END, "to") h),
    fa AS MATERIALIZED (
        SELECT f.tenant_id, a, min(f.b) AS b FROM f, unnest(f.agents) a GROUP BY 1, 2),
    ft AS MATERIALIZED (SELECT f.tenant_id, min(f.b) AS b FROM f GROUP BY 1),
    fu AS MATERIALIZED (SELECT u.tenant_id, u.user_id, min(u.b) AS b FROM u GROUP BY 1, 2),
    seen AS MATERIALIZED (
        SELECT s.kind, s.tenant_id, s.id
        FROM analytics.platform_seen_before("from",
                 (SELECT array_agg(ft.tenant_id) FROM ft),
                 (SELECT array_agg(fa.tenant_id) FROM fa), (SELECT array_agg(fa.a) FROM fa),
                 (SELECT array_agg(fu.tenant_id) FROM fu), (SELECT array_agg(fu.user_id) FROM fu)) s),
    nt AS (SELECT ft.b, count(*) AS n FROM ft
           WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.kind = 'tenant' AND s.tenant_id = ft.tenant_id) GROUP BY 1),
    na AS (SELECT fa.b, count(*) AS n FROM fa
           WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.kind = 'agent' AND s.id = fa.a::text) GROUP BY 1),
    nu AS (SELECT fu.b, count(*) AS n FROM fu
           WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.kind = 'user' AND s.tenant_id = fu.tenant_id AND s.id = fu.user_id)
           GROUP BY 1),
    pa AS (SELECT f.b, count(DISTINCT a) AS n FROM f, unnest(f.agents) a GROUP BY 1),
    pu AS (SELECT u.b, count(*) AS n FROM u GROUP BY 1),   -- (u is distinct: UNION)
    pe AS (SELECT f.b, count(DISTINCT f.tenant_id) AS tenants, sum(f.events) AS events, sum(f.failures) AS failures,
                  analytics.quantile(analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'api_call'), 0.95) AS api_p95,
                  sum(f.input_tokens) AS input_tokens, sum(f.output_tokens) AS output_tokens, sum(f.cost_usd) AS cost_usd
           FROM f GROUP BY 1)
    SELECT json_build_object(
        'tenant_id', platform_trends.tenant_id,
        'period', analytics.window_json("from", "to"),
        'granularity', granularity,
        'trends', json_agg(json_build_object(
            'date', analytics.platform_label(g.b, granularity),
            'active_tenants', coalesce(pe.tenants, 0),
            'new_tenants', coalesce(nt.n, 0),
            'active_agents', coalesce(pa.n, 0),
            'new_agents', coalesce(na.n, 0),
            'active_users', coalesce(pu.n, 0),
            'new_users', coalesce(nu.n, 0),
            'events', coalesce(pe.events, 0),
            'failures', coalesce(pe.failures, 0),
            'error_rate', analytics.ratio(pe.failures, pe.events),
            'api_p95', round(pe.api_p95::numeric, 3),
            'input_tokens', coalesce(pe.input_tokens, 0),
            'output_tokens', coalesce(pe.output_tokens, 0),
            'tokens', coalesce(pe.input_tokens + pe.output_tokens, 0),
            'cost_usd', round(coalesce(pe.cost_usd, 0), 6)) ORDER BY g.b))::jsonb
    INTO result
    FROM analytics.platform_buckets("from", "to", granularity) g(b)
    LEFT JOIN pe ON pe.b = g.b
    LEFT JOIN pa ON pa.b = g.b
    LEFT JOIN pu ON pu.b = g.b
    LEFT JOIN nt ON nt.b = g.b
    LEFT JOIN na ON na.b = g.b
    LEFT JOIN nu ON nu.b = g.b;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.platform_trends(uuid, timestamptz, timestamptz, text) IS
    'Seed 002''s platform trends over [from, to) for every tenant (NULL) or one, per bucket (hour: windows of at most 7 days; day, week, month): active and new tenants, agents and users (new: first event ever in the bucket), events, failures, error_rate, api_p95 (ms), input/output tokens, tokens, cost_usd; every bucket zero-filled, oldest first';

CREATE OR REPLACE FUNCTION analytics.dashboard(tenant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    now_ts     timestamptz := now();
    live       record;
    registered bigint;
    result     jsonb;
BEGIN
    -- Active now: an event in the 15 minutes before now (as activeSessions
    -- of §6.3), from the raw events of those minutes, whatever the period.
    -- (DISTINCT with tenant_id: pushed down to the shards on Citus)
    EXECUTE format('SELECT (SELECT count(*) FROM (SELECT DISTINCT e.tenant_id, e.user_id FROM analytics.usage_events e '
                   '                              WHERE %1$s AND e.user_id IS NOT NULL) x) AS users, '
                   '       (SELECT count(*) FROM (SELECT DISTINCT e.tenant_id, e.agent_id FROM analytics.usage_events e '
                   '                              WHERE %1$s AND e.agent_id IS NOT NULL) x) AS agents, '
                   '       (SELECT count(*) FROM (SELECT DISTINCT e.tenant_id, e.session_id FROM analytics.usage_events e '
                   '                              WHERE %1$s AND e.session_id IS NOT NULL) x) AS sessions',
                   format('e.occurred_at >= %L AND e.occurred_at <= %L', now_ts - interval '15 minutes', now_ts)
                   || CASE WHEN dashboard.tenant_id IS NULL THEN '' ELSE format(' AND e.tenant_id = %L', dashboard.tenant_id) END)
    INTO live;
    SELECT count(*) INTO registered FROM analytics.agents a
    WHERE dashboard.tenant_id IS NULL OR a.tenant_id = dashboard.tenant_id;

    WITH f AS MATERIALIZED (
        SELECT (r.bucket AT TIME ZONE 'UTC')::date AS d, r.tenant_id, r.agent_id, r.event_type, r.events, r.failures,
               r.latency, r.input_tokens, r.output_tokens, r.cost_usd
        FROM analytics.read_family(NULL::analytics.agent_type_daily, dashboard.tenant_id, "from", "to") r),
    u AS MATERIALIZED (
        SELECT DISTINCT (r.bucket AT TIME ZONE 'UTC')::date AS d, r.tenant_id, r.user_id
        FROM analytics.read_family(NULL::analytics.user_daily, dashboard.tenant_id, "from", "to") r),
    s AS MATERIALIZED (
        SELECT DISTINCT r.tenant_id, r.session_id
        FROM analytics.read_family(NULL::analytics.session_daily, dashboard.tenant_id, "from", "to") r),
    fa AS MATERIALIZED (SELECT f.tenant_id, f.agent_id FROM f WHERE f.agent_id IS NOT NULL GROUP BY 1, 2),
    fu AS MATERIALIZED (SELECT u.tenant_id, u.user_id FROM u GROUP BY 1, 2),
    seen AS MATERIALIZED (
        SELECT x.kind, x.tenant_id, x.id
        FROM analytics.platform_seen_before("from", NULL,
                 (SELECT array_agg(fa.tenant_id) FROM fa), (SELECT array_agg(fa.agent_id) FROM fa),
                 (SELECT array_agg(fu.tenant_id) FROM fu), (SELECT array_agg(fu.user_id) FROM fu)) x),
    tot AS (
        SELECT sum(f.events) AS events, sum(f.failures) AS failures,
               coalesce(sum(f.events) FILTER (WHERE f.event_type = 'agent_execution'), 0) AS calls,
               coalesce(sum(f.failures) FILTER (WHERE f.event_type = 'agent_execution'), 0) AS calls_failed,
               coalesce(sum(f.input_tokens), 0) AS input_tokens, coalesce(sum(f.output_tokens), 0) AS output_tokens,
               coalesce(sum(f.cost_usd), 0) AS cost_usd,
               analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'api_call') AS api,
               analytics.qsketch_merge(f.latency) FILTER (WHERE f.event_type = 'agent_execution') AS executions
        FROM f),
    daily AS (
        SELECT f.d, sum(f.events) AS events, sum(f.failures) AS failures,
               sum(f.input_tokens + f.output_tokens) AS tokens, sum(f.cost_usd) AS cost_usd
        FROM f GROUP BY 1),
    daily_users AS (SELECT u.d, count(*) AS n FROM u GROUP BY 1)
    SELECT jsonb_build_object(
        'tenant_id', dashboard.tenant_id,
        'period', analytics.window_json("from", "to"),
        'current_metrics', jsonb_build_object(
            'users', jsonb_build_object(
                'total', (SELECT count(*) FROM fu),
                'active', live.users,
                'new', (SELECT count(*) FROM fu WHERE NOT EXISTS (SELECT 1 FROM seen x WHERE x.kind = 'user'
                                                                  AND x.tenant_id = fu.tenant_id AND x.id = fu.user_id))),
            'agents', jsonb_build_object(
                'total', (SELECT count(*) FROM fa),
                'active', live.agents,
                'new', (SELECT count(*) FROM fa WHERE NOT EXISTS (SELECT 1 FROM seen x WHERE x.kind = 'agent'
                                                                  AND x.id = fa.agent_id::text)),
                'registered', registered),
            'sessions', jsonb_build_object('total', (SELECT count(*) FROM s), 'active', live.sessions),
            'calls', jsonb_build_object('total', tot.calls, 'failed', tot.calls_failed,
                                        'error_rate', analytics.ratio(tot.calls_failed, tot.calls)),
            'events', jsonb_build_object('total', coalesce(tot.events, 0), 'failed', coalesce(tot.failures, 0),
                                         'error_rate', analytics.ratio(tot.failures, tot.events)),
            'tokens', jsonb_build_object('total', tot.input_tokens + tot.output_tokens,
                                         'input', tot.input_tokens, 'output', tot.output_tokens),
            'cost', jsonb_build_object('total_usd', round(tot.cost_usd, 6))),
        'trends', (SELECT json_agg(json_build_object(
                              'date', to_char(g.d, 'YYYY-MM-DD'),
                              'events', coalesce(dl.events, 0),
                              'failures', coalesce(dl.failures, 0),
                              'tokens', coalesce(dl.tokens, 0),
                              'cost_usd', round(coalesce(dl.cost_usd, 0), 6),
                              'active_users', coalesce(du.n, 0)) ORDER BY g.d)::jsonb
                   FROM (SELECT x::date AS d
                         FROM generate_series(("from" AT TIME ZONE 'UTC')::date::timestamp,
                                              (("to" - interval '1 microsecond') AT TIME ZONE 'UTC')::date::timestamp,
                                              interval '1 day') x) g
                   LEFT JOIN daily dl ON dl.d = g.d
                   LEFT JOIN daily_users du ON du.d = g.d),
        'performance', jsonb_build_object('api_calls', analytics.latency_json(tot.api),
                                          'executions', analytics.latency_json(tot.executions)),
        'monitoring', jsonb_build_object('health', NULL, 'open_incidents', '[]'::jsonb))
    INTO result
    FROM tot;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.dashboard(uuid, timestamptz, timestamptz) IS
    'Seed 002''s dashboard over [from, to) for one tenant or all (NULL), snake_case: current_metrics (users and agents: total = with an event in the period, active = an event in the last 15 minutes, new = first event ever in the period, agents.registered; sessions total/active; calls = agent executions total/failed/error_rate; events; tokens total/input/output; cost total_usd), trends (per UTC day: events, failures, tokens, cost_usd, active_users), performance (api_calls and executions p50/p95/p99 ms), monitoring (health null and open_incidents [] until §6.5/§6.6 exist)';

-------------------------------------------------------------------------------
-- Health of the extension
-------------------------------------------------------------------------------

-- The past days waiting for a rollup: logged changes (days before today),
-- day partitions never rolled up that hold events, and yesterday when not
-- rolled; with the moment each has waited since.
CREATE OR REPLACE FUNCTION analytics.platform_waiting_days()
RETURNS TABLE (day date, waiting_since timestamptz, reason text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today date := analytics.utc_today();
    p     record;
    n     boolean;
BEGIN
    RETURN QUERY
    SELECT c.day, c.changed_at, CASE WHEN c.appended THEN 'appended' ELSE 'changed' END
    FROM analytics.changed_days c WHERE c.day < today;
    FOR p IN SELECT u.day FROM unnest(analytics.platform_unrolled_days(today)) u(day)
             WHERE NOT EXISTS (SELECT 1 FROM analytics.changed_days c WHERE c.day = u.day) LOOP
        -- (LIMIT 1 rather than EXISTS: pushed down to the shards on Citus)
        EXECUTE format('SELECT true FROM analytics.%I LIMIT 1', 'usage_events_p' || to_char(p.day, 'YYYYMMDD')) INTO n;
        IF n THEN
            day := p.day;
            waiting_since := (p.day + 1)::timestamp AT TIME ZONE 'UTC';
            reason := 'never rolled';
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.platform_waiting_days() IS
    'Past UTC days waiting for a rollup: days in analytics.changed_days before today (appended or changed, waiting since the change) and day partitions with events that were never rolled up (waiting since the day ended)';

CREATE OR REPLACE FUNCTION analytics.analytics_health()
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts  timestamptz := now();
    version text := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'analytics');
    last    record;
    waiting jsonb;
    late    boolean;
    status  text;
    preloaded boolean;
BEGIN
    IF NOT analytics.setting('enabled')::boolean THEN
        RETURN jsonb_build_object('status', 'down', 'enabled', false, 'version', version);
    END IF;
    SELECT j.run_id, j.target_date, j.started_at, j.finished_at, j.duration_ms, j.rows, j.status, j.error
    INTO last
    FROM analytics.job_runs j
    WHERE j.job = 'rollup' AND j.status <> 'running'
    ORDER BY j.started_at DESC, j.run_id DESC LIMIT 1;
    SELECT coalesce(jsonb_agg(to_char(w.day, 'YYYY-MM-DD') ORDER BY w.day), '[]'),
           coalesce(bool_or(w.waiting_since < now_ts - interval '1 day'), false)
    INTO waiting, late
    FROM analytics.platform_waiting_days() w;
    status := CASE WHEN last.status = 'failed' OR late THEN 'degraded' ELSE 'ok' END;
    BEGIN
        -- (readable by superusers and pg_read_all_settings only)
        preloaded := current_setting('shared_preload_libraries') ~ '(^|[ ,])analytics($|[ ,])';
    EXCEPTION WHEN insufficient_privilege THEN
        preloaded := NULL;
    END;
    RETURN jsonb_build_object(
        'status', status,
        'enabled', true,
        'version', version,
        'last_rollup', CASE WHEN last.run_id IS NULL THEN NULL ELSE jsonb_build_object(
            'run_id', last.run_id,
            'target_date', to_char(last.target_date, 'YYYY-MM-DD'),
            'started_at', analytics.utc_text(last.started_at),
            'finished_at', analytics.utc_text(last.finished_at),
            'duration_ms', round(last.duration_ms::numeric, 3),
            'rows', last.rows,
            'status', last.status,
            'error', last.error) END,
        'days_waiting', jsonb_array_length(waiting),
        'waiting_days', waiting,
        -- (no outbox and no background worker yet: §6.6 and §6.5 add them)
        'pending_deliveries', 0,
        'background_worker', jsonb_build_object(
            'running', false,
            'preloaded', preloaded));
END
$$;
COMMENT ON FUNCTION analytics.analytics_health() IS
    'The health of the extension: status (down: analytics.enabled off; degraded: the last finished rollup run failed, or a past day has waited more than a day for its rollup; else ok), version, the last rollup run, the days waiting for a rollup, pending deliveries (0: no outbox yet), background_worker (running false: no worker yet; preloaded)';
-------------------------------------------------------------------------------
-- functions/80_http.sql (layer 80, the HTTP layer): errors as PostgREST
-- turns them into HTTP responses, the JWT claims, parameter parsing, and the
-- analytics_api functions PostgREST exposes.  Re-runnable.
--
-- Vocabulary:
--   typed function  analytics.<name>(tenant_id uuid, ...) (layer 70): the
--                   computation, for SQL callers; no tenant checks.
--   API function    analytics_api.<name>(text, ...): what PostgREST exposes;
--                   tenant from the JWT claims, text parameters parsed inside,
--                   every refusal raised with analytics.http_error() in the
--                   form PostgREST v12 turns into an HTTP status and body.
--   http_*          the helpers of this layer.
--
-- Security: API functions are SECURITY DEFINER with a pinned search_path.
-- EXECUTE on them is granted only to analytics_tenant (layer 90), and they
-- trust the claims only when the calling role (SET ROLE, else the session
-- user) has the privileges of analytics_tenant.
-------------------------------------------------------------------------------

-------------------------------------------------------------------------------

-- Raise an API error the way PostgREST v12 maps it to an HTTP response.
CREATE OR REPLACE FUNCTION analytics.http_error(status integer, code text, message text)
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
COMMENT ON FUNCTION analytics.http_error(integer, text, text) IS
    'Raises SQLSTATE PGRST with message {"code","message"} and detail {"status","headers"}: PostgREST answers with that HTTP status and body';

-- The tenant the JWT claims name (tenant_id, else organization_id), or NULL.
-- Never raises: also used by the row-level security policies.
CREATE OR REPLACE FUNCTION analytics.http_claimed_tenant()
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
COMMENT ON FUNCTION analytics.http_claimed_tenant() IS
    'The tenant named by request.jwt.claims (claim tenant_id, else organization_id) as a uuid; NULL when missing or malformed';

-- Does the role calling the API have the privileges of the given API role?
-- Inside a SECURITY DEFINER function current_user is the owner, so the
-- caller is the role set with SET ROLE (PostgREST's SET LOCAL ROLE), else
-- the session user.  A NOINHERIT authenticator that has not switched role
-- does not qualify; superusers have every role's privileges.
CREATE OR REPLACE FUNCTION analytics.http_caller_has_role(api_role name)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1
        FROM pg_catalog.pg_roles c
        WHERE c.rolname = CASE WHEN current_setting('role') = 'none' THEN session_user::text ELSE current_setting('role') END
          AND (c.rolsuper OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles t
                                     WHERE t.rolname = api_role AND pg_catalog.pg_has_role(c.oid, t.oid, 'USAGE'))))
$$;
COMMENT ON FUNCTION analytics.http_caller_has_role(name) IS
    'True when the role calling the API (SET ROLE, else the session user) is a superuser or has the privileges of the given role';

-- Does the role calling the API act as analytics_tenant?
CREATE OR REPLACE FUNCTION analytics.http_caller_is_tenant_role()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT analytics.http_caller_has_role('analytics_tenant') $$;
COMMENT ON FUNCTION analytics.http_caller_is_tenant_role() IS
    'True when the role calling the API (SET ROLE, else the session user) is a superuser or has the privileges of analytics_tenant';

-- The caller's tenant, after the checks every API function makes, in the
-- contract's order: analytics.enabled (404), a trusted caller with a claim
-- naming a registered tenant (401), the free tier (403).
CREATE OR REPLACE FUNCTION analytics.http_tenant()
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid  uuid;
    tier text;
BEGIN
    IF NOT analytics.setting('enabled')::boolean THEN
        PERFORM analytics.http_error(404, 'NOT_FOUND', 'Analytics is not enabled');
    END IF;
    IF NOT analytics.http_caller_is_tenant_role() THEN
        PERFORM analytics.http_error(401, 'UNAUTHORIZED', 'This role may not use the analytics API');
    END IF;
    tid := analytics.http_claimed_tenant();
    IF tid IS NULL THEN
        PERFORM analytics.http_error(401, 'UNAUTHORIZED', 'Missing or invalid tenant claim');
    END IF;
    SELECT t.tier INTO tier FROM analytics.tenants t WHERE t.tenant_id = tid;
    IF NOT FOUND THEN
        PERFORM analytics.http_error(401, 'UNAUTHORIZED', 'Unknown tenant');
    END IF;
    IF tier = 'free' AND NOT analytics.setting('free_tier_access')::boolean THEN
        PERFORM analytics.http_error(403, 'ANALYTICS_NOT_AVAILABLE', 'Analytics is not available on the free tier');
    END IF;
    RETURN tid;
END
$$;
COMMENT ON FUNCTION analytics.http_tenant() IS
    'The calling tenant for the API: 404 NOT_FOUND when analytics.enabled is off, 401 UNAUTHORIZED without a trusted claim naming a registered tenant, 403 ANALYTICS_NOT_AVAILABLE for the free tier unless analytics.free_tier_access is on';

-- A YYYY-MM-DD parameter, or 400 INVALID_DATE_RANGE.
CREATE OR REPLACE FUNCTION analytics.http_parse_date(value text, name text)
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
    PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', format('%s must be a date YYYY-MM-DD', name));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.http_parse_date(text, text) IS
    'Parses a YYYY-MM-DD API parameter; anything else raises 400 INVALID_DATE_RANGE naming the parameter';

-- The period of an API call: defaults to = today, from = to - 29; from <= to
-- <= today and at most max_days days counting both ends, else 400.
CREATE OR REPLACE FUNCTION analytics.http_period("from" text, "to" text, max_days integer,
                                     OUT from_day date, OUT to_day date)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today date := analytics.utc_today();
BEGIN
    to_day := CASE WHEN http_period."to" IS NULL THEN today ELSE analytics.http_parse_date(http_period."to", 'to') END;
    from_day := CASE WHEN http_period."from" IS NULL THEN to_day - 29 ELSE analytics.http_parse_date(http_period."from", 'from') END;
    IF from_day > to_day THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'from must not be after to');
    END IF;
    IF to_day > today THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'to must not be after today (UTC)');
    END IF;
    IF to_day - from_day + 1 > max_days THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE',
                                    format('the period may span at most %s days, both ends included', max_days));
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.http_period(text, text, integer) IS
    'Parses and checks the from/to parameters of an API call: defaults to = today (UTC), from = to - 29; 400 INVALID_DATE_RANGE for bad dates, from > to, to > today or more than max_days days';

-- The days parameter: a positive integer <= 90, else 400 VALIDATION_ERROR.
CREATE OR REPLACE FUNCTION analytics.http_parse_days(days text)
RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF days ~ '^[0-9]{1,4}$' AND days::integer BETWEEN 1 AND 90 THEN
        RETURN days::integer;
    END IF;
    PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'days must be an integer from 1 to 90');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.http_parse_days(text) IS
    'Parses the days API parameter: an integer from 1 to 90, else 400 VALIDATION_ERROR';


-------------------------------------------------------------------------------
-- The HTTP-facing functions (PostgREST: db-schemas = analytics_api)
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics_api.usage_summary("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    p   record := analytics.http_period("from", "to", 365);
BEGIN
    RETURN analytics.usage_summary(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.usage_summary(text, text) IS
$$Usage summary of the caller's tenant

GET /rpc/usage_summary?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period {from, to}, summary {totalApiCalls, totalTokenIssuances, totalCredentialRotations, activeAgentCount, averageDailyApiCalls, peakDailyApiCalls, peakDate}}. Errors: 400 INVALID_DATE_RANGE, 401 UNAUTHORIZED, 403 ANALYTICS_NOT_AVAILABLE, 404 NOT_FOUND.$$;

CREATE OR REPLACE FUNCTION analytics_api.agent_activity("from" text DEFAULT NULL, "to" text DEFAULT NULL, "agentId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.http_tenant();
    p     record := analytics.http_period("from", "to", 90);
    agent uuid;
BEGIN
    IF "agentId" IS NOT NULL THEN
        IF "agentId" ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            SELECT a.agent_id INTO agent FROM analytics.agents a
            WHERE a.agent_id = "agentId"::uuid AND a.tenant_id = tid;
        END IF;
        IF agent IS NULL THEN
            PERFORM analytics.http_error(404, 'AGENT_NOT_FOUND', 'No agent with this id in your tenant');
        END IF;
    END IF;
    RETURN analytics.agent_activity(tid, p.from_day, p.to_day, agent);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_activity(text, text, text) IS
$$Daily activity per agent of the caller's tenant

GET /rpc/agent_activity?from=YYYY-MM-DD&to=YYYY-MM-DD&agentId=UUID (defaults: the 30 days ending today, UTC; at most 90 days; all agents with any event in the period). Returns {tenantId, period, agents [{agentId, agentName, dailyActivity [{date, apiCalls, tokenIssuances, credentialRotations}]}]}, agents by name then id, every day zero-filled, oldest first. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404 NOT_FOUND, 404 AGENT_NOT_FOUND.$$;

CREATE OR REPLACE FUNCTION analytics_api.token_trends("from" text DEFAULT NULL, "to" text DEFAULT NULL, granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    p   record := analytics.http_period("from", "to", 365);
BEGIN
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        PERFORM analytics.http_error(400, 'INVALID_GRANULARITY', 'granularity must be day or week');
    END IF;
    RETURN analytics.token_trends(tid, p.from_day, p.to_day, granularity);
END
$$;
COMMENT ON FUNCTION analytics_api.token_trends(text, text, text) IS
$$Token issuance trend of the caller's tenant

GET /rpc/token_trends?from=YYYY-MM-DD&to=YYYY-MM-DD&granularity=day|week (defaults: the 30 days ending today, UTC, by day; at most 365 days). Returns {tenantId, period, granularity, dataPoints [{date, totalIssuances, successfulIssuances, failedIssuances, uniqueAgents}]}: every bucket zero-filled, oldest first; a week is an ISO week labelled by its first day inside the period. Errors: 400 INVALID_DATE_RANGE, 400 INVALID_GRANULARITY, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.tokens(days text DEFAULT '30')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    n   integer := analytics.http_parse_days(days);
BEGIN
    RETURN analytics.tokens(tid, n);
END
$$;
COMMENT ON FUNCTION analytics_api.tokens(text) IS
$$Token issuances per day of the caller's tenant

GET /rpc/tokens?days=N (1 to 90, default 30): exactly N days ending today (UTC). Returns {tenantId, days, data [{date, count}]}, zero-filled, oldest first. Errors: 400 VALIDATION_ERROR, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.agents_activity(days text DEFAULT '30')
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    n   integer := analytics.http_parse_days(days);
BEGIN
    RETURN analytics.agents_activity(tid, n);
END
$$;
COMMENT ON FUNCTION analytics_api.agents_activity(text) IS
$$Day-of-week x hour heatmap of the caller's API calls

GET /rpc/agents_activity?days=N (1 to 90, default 30): api_call events of the last N days ending today, by UTC day of week (0 = Sunday) and hour. Returns {tenantId, data [{dow, hour, count}]}, non-zero cells only, by dow then hour. Errors: 400 VALIDATION_ERROR, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.agents()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
BEGIN
    RETURN analytics.agent_tokens(tid);
END
$$;
COMMENT ON FUNCTION analytics_api.agents() IS
$$Token issuances per agent this month

GET /rpc/agents: token issuances per agent of the caller's tenant in the current UTC calendar month. Returns {tenantId, month (YYYY-MM), data [{agentId, tokenCount}]}, most first. Errors: 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.rotation_frequency("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    p   record := analytics.http_period("from", "to", 365);
BEGIN
    RETURN analytics.rotation_frequency(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.rotation_frequency(text, text) IS
$$Credential rotation frequency per agent

GET /rpc/rotation_frequency?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period, totalRotations, agents [{agentId, agentName, rotations, rotationDays, lastRotationDate, averageDaysBetweenRotations}]} for every agent with any event in the period, most rotations first. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.call_patterns("from" text DEFAULT NULL, "to" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid uuid := analytics.http_tenant();
    p   record := analytics.http_period("from", "to", 365);
BEGIN
    RETURN analytics.call_patterns(tid, p.from_day, p.to_day);
END
$$;
COMMENT ON FUNCTION analytics_api.call_patterns(text, text) IS
$$API call patterns per endpoint and method

GET /rpc/call_patterns?from=YYYY-MM-DD&to=YYYY-MM-DD (defaults: the 30 days ending today, UTC; at most 365 days). Returns {tenantId, period, totalCalls, endpoints [{endpoint, method, calls, successes, failures, successRate, latencyMs {p50, p95, p99}}]}, most calls first; latencies within 1% of the exact percentiles. Errors: 400 INVALID_DATE_RANGE, 401, 403, 404.$$;

CREATE OR REPLACE FUNCTION analytics_api.record_events(events jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid   uuid := analytics.http_tenant();
    bad   bigint;
    msg   text;
    det   text;
BEGIN
    IF events IS NULL OR jsonb_typeof(events) <> 'array' THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'events must be a JSON array of event objects');
    END IF;
    SELECT e.i - 1 INTO bad FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)
    WHERE jsonb_typeof(e.v) <> 'object' ORDER BY e.i LIMIT 1;
    IF FOUND THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', format('event %s is not a JSON object', bad));
    END IF;
    SELECT e.i - 1 INTO bad FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)
    WHERE jsonb_typeof(e.v -> 'tenant_id') IS DISTINCT FROM 'null' AND e.v ? 'tenant_id'
      AND NOT (coalesce(e.v ->> 'tenant_id', '') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
               AND (e.v ->> 'tenant_id')::uuid = tid)
    ORDER BY e.i LIMIT 1;
    IF FOUND THEN
        PERFORM analytics.http_error(403, 'FORBIDDEN', format('event %s names another tenant', bad));
    END IF;
    BEGIN
        RETURN analytics.record_events(
            coalesce((SELECT jsonb_agg(e.v || jsonb_build_object('tenant_id', tid) ORDER BY e.i)
                      FROM jsonb_array_elements(events) WITH ORDINALITY e(v, i)), '[]'));
    EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', msg || coalesce(': ' || nullif(det, ''), ''));
    END;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics_api.record_events(jsonb) IS
$$Records usage events for the caller's tenant

POST /rpc/record_events with body {"events": [{...}, ...]}: objects with the usage_events column names; all or nothing; tenant_id may be left out (the caller's is used); an event naming another tenant is refused. Returns the number of rows stored. Errors: 400 VALIDATION_ERROR (the message names the event index and field), 403 FORBIDDEN (another tenant), 401, 403 ANALYTICS_NOT_AVAILABLE, 404.$$;

-------------------------------------------------------------------------------
-- functions/80_http_scope.sql (layer 80, the HTTP layer): what every §6
-- API function shares (contract §6.1, §6.2).
--
--   analytics.http_scope("tenantId", operator_only)
--       who is asking: a tenant token (its own tenant only) or an operator
--       token (all tenants, or the one "tenantId" names), after the §5
--       checks in their order (404 NOT_FOUND, 401 UNAUTHORIZED, 403
--       ANALYTICS_NOT_AVAILABLE), then 403 FORBIDDEN, 400 VALIDATION_ERROR
--       and 404 TENANT_NOT_FOUND.
--   analytics.http_window(period, "from", "to", days, hours, start_date,
--                         end_date, default_period)
--       the one period parser: Nh, Nd, or from/to as dates or RFC 3339
--       timestamps, and the seed aliases' own names; 400 INVALID_PERIOD or
--       INVALID_DATE_RANGE.  Returns the window [from_ts, to_ts).
--   analytics.http_granularity(granularity, from_ts, to_ts)
--       the granularity parameter: hour (at most 7 days), day, week, month.
-- (analytics.period_window and analytics.window_json are layer 72's;
-- analytics.http_caller_has_role is in 80_http.sql.)
-- Re-runnable.
-------------------------------------------------------------------------------

-- Who asks, and for which tenants (contract §6.1).  tenant_id NULL with
-- operator true: every tenant.
CREATE OR REPLACE FUNCTION analytics.http_scope("tenantId" text DEFAULT NULL, operator_only boolean DEFAULT false,
                                                OUT tenant_id uuid, OUT operator boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    claimed boolean;
BEGIN
    IF NOT analytics.setting('enabled')::boolean THEN
        PERFORM analytics.http_error(404, 'NOT_FOUND', 'Analytics is not enabled');
    END IF;
    -- An operator token carries no tenant claim at all; a token with one
    -- (even a malformed one) is a tenant's (a superuser testing in psql is
    -- either, by its claims).
    BEGIN
        claimed := coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb ?| ARRAY['tenant_id', 'organization_id'], false);
    EXCEPTION WHEN others THEN
        claimed := true;
    END;
    operator := NOT claimed AND analytics.http_caller_has_role('analytics_operator');
    IF NOT operator THEN
        tenant_id := analytics.http_tenant();   -- (401, 403 ANALYTICS_NOT_AVAILABLE)
        IF operator_only THEN
            PERFORM analytics.http_error(403, 'FORBIDDEN', 'This function is for operators only');
        END IF;
        IF "tenantId" IS NOT NULL AND "tenantId" IS DISTINCT FROM tenant_id::text
           AND lower("tenantId") IS DISTINCT FROM tenant_id::text THEN
            PERFORM analytics.http_error(403, 'FORBIDDEN', 'A tenant token may not name another tenant');
        END IF;
        RETURN;
    END IF;
    IF "tenantId" IS NULL THEN
        RETURN;
    END IF;
    IF "tenantId" !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'tenantId must be a uuid');
    END IF;
    tenant_id := "tenantId"::uuid;
    IF NOT EXISTS (SELECT 1 FROM analytics.tenants t WHERE t.tenant_id = http_scope.tenant_id) THEN
        PERFORM analytics.http_error(404, 'TENANT_NOT_FOUND', 'No tenant has this tenantId');
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.http_scope(text, boolean) IS
    'The scope of a §6 API call: a tenant token answers for its own tenant (naming another: 403 FORBIDDEN; operator-only functions: 403 FORBIDDEN); an operator token (role analytics_operator, no tenant claim) for every tenant (tenant_id NULL) or the one tenantId names (400 VALIDATION_ERROR if not a uuid, 404 TENANT_NOT_FOUND if unknown); after the §5 checks 404 NOT_FOUND, 401 UNAUTHORIZED, 403 ANALYTICS_NOT_AVAILABLE';

-- A from/to parameter: YYYY-MM-DD (a whole UTC day) or an RFC 3339
-- timestamp with its offset; else 400 INVALID_DATE_RANGE naming it.
CREATE OR REPLACE FUNCTION analytics.http_parse_instant(value text, name text, OUT ts timestamptz, OUT is_date boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF length(value) <= 40 THEN
        IF value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
            BEGIN
                ts := value::date::timestamp AT TIME ZONE 'UTC';
                is_date := true;
                RETURN;
            EXCEPTION WHEN others THEN
                NULL;
            END;
        ELSIF value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN
            BEGIN
                ts := value::timestamptz;
                is_date := false;
                IF ts > '-infinity' AND ts < 'infinity' AND extract(year FROM ts AT TIME ZONE 'UTC') BETWEEN 1900 AND 9999 THEN
                    RETURN;
                END IF;
            EXCEPTION WHEN others THEN
                NULL;
            END;
        END IF;
    END IF;
    PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE',
        format('%s must be a date YYYY-MM-DD or an RFC 3339 timestamp with its offset', name));
END
$$;
COMMENT ON FUNCTION analytics.http_parse_instant(text, text) IS
    'Parses a from/to API parameter: YYYY-MM-DD (is_date, ts = its UTC midnight) or an RFC 3339 timestamp with offset; else 400 INVALID_DATE_RANGE naming it';

-- The one period parser of the §6 API functions (contract §6.2).
CREATE OR REPLACE FUNCTION analytics.http_window(period text, "from" text, "to" text,
                                                 days text, hours text, start_date text, end_date text,
                                                 default_period text,
                                                 OUT from_ts timestamptz, OUT to_ts timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts timestamptz := clock_timestamp();
    p      text;
    f      text := coalesce(http_window."from", start_date);
    t      text := coalesce(http_window."to", end_date);
    given  integer := (period IS NOT NULL)::integer + (days IS NOT NULL)::integer + (hours IS NOT NULL)::integer;
    f_ts   timestamptz;
    t_ts   timestamptz;
    f_date boolean := false;
    t_date boolean := false;
    w      record;
BEGIN
    IF given > 1 OR (given = 1 AND (f IS NOT NULL OR t IS NOT NULL))
       OR (http_window."from" IS NOT NULL AND start_date IS NOT NULL)
       OR (http_window."to" IS NOT NULL AND end_date IS NOT NULL) THEN
        PERFORM analytics.http_error(400, 'INVALID_PERIOD',
            'give either period (or days, or hours) or from/to, not both');
    END IF;
    IF days IS NOT NULL THEN
        p := CASE WHEN days ~ '^[0-9]{1,3}$' THEN days || 'd' END;
        IF p IS NULL THEN
            PERFORM analytics.http_error(400, 'INVALID_PERIOD', 'days must be an integer from 1 to 365');
        END IF;
    ELSIF hours IS NOT NULL THEN
        p := CASE WHEN hours ~ '^[0-9]{1,3}$' THEN hours || 'h' END;
        IF p IS NULL THEN
            PERFORM analytics.http_error(400, 'INVALID_PERIOD', 'hours must be an integer from 1 to 168');
        END IF;
    ELSE
        p := period;
    END IF;
    IF p IS NULL AND f IS NULL AND t IS NULL THEN
        p := default_period;
    END IF;
    IF p IS NOT NULL THEN
        w := analytics.period_window(p, now_ts);
        IF w.from_ts IS NULL THEN
            PERFORM analytics.http_error(400, 'INVALID_PERIOD',
                'period must be Nh (N from 1 to 168) or Nd (N from 1 to 365)');
        END IF;
        from_ts := w.from_ts;
        to_ts := w.to_ts;
        RETURN;
    END IF;
    -- from/to: dates are whole UTC days (both ends included), timestamps
    -- the window from <= t < to; one missing: to = now (today), from = to
    -- less the default period.
    IF t IS NULL THEN
        to_ts := CASE WHEN f ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                      THEN ((now_ts AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC'
                      ELSE now_ts + interval '1 microsecond' END;
    ELSE
        SELECT i.ts, i.is_date INTO t_ts, t_date
        FROM analytics.http_parse_instant(t, CASE WHEN http_window."to" IS NULL THEN 'end_date' ELSE 'to' END) i;
        to_ts := CASE WHEN t_date THEN t_ts + interval '1 day' ELSE t_ts END;
        IF (t_date AND t_ts > date_trunc('day', now_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
           OR (NOT t_date AND t_ts > now_ts) THEN
            PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'to must not be after now (today, UTC)');
        END IF;
    END IF;
    IF f IS NULL THEN
        w := analytics.period_window(default_period, now_ts);
        from_ts := to_ts - (w.to_ts - w.from_ts);
    ELSE
        SELECT i.ts, i.is_date INTO f_ts, f_date
        FROM analytics.http_parse_instant(f, CASE WHEN http_window."from" IS NULL THEN 'start_date' ELSE 'from' END) i;
        from_ts := f_ts;
    END IF;
    IF from_ts > to_ts OR (f_date AND t_date AND f_ts > t_ts) THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'from must not be after to');
    END IF;
    IF to_ts - from_ts > interval '365 days' THEN
        PERFORM analytics.http_error(400, 'INVALID_DATE_RANGE', 'the period may span at most 365 days, both ends included');
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.http_window(text, text, text, text, text, text, text, text) IS
    'The period of a §6 API call as the window [from_ts, to_ts): period Nh or Nd (days=N and hours=N mean Nd and Nh), or from/to (start_date/end_date) as YYYY-MM-DD whole UTC days or RFC 3339 timestamps; none: default_period; 400 INVALID_PERIOD for a bad period or period with from/to, 400 INVALID_DATE_RANGE for bad dates, from > to, to after now, or more than 365 days';

-- A granularity parameter of §6 (default day): hour (periods of at most 7
-- days; 168h ends a microsecond after now), day, week or month; else 400
-- INVALID_GRANULARITY.
CREATE OR REPLACE FUNCTION analytics.http_granularity(granularity text, from_ts timestamptz, to_ts timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF granularity IS NULL THEN
        RETURN 'day';
    END IF;
    IF length(granularity) > 16 OR granularity NOT IN ('hour', 'day', 'week', 'month') THEN
        PERFORM analytics.http_error(400, 'INVALID_GRANULARITY', 'granularity must be hour, day, week or month');
    END IF;
    IF granularity = 'hour' AND to_ts - from_ts > interval '7 days 1 microsecond' THEN
        PERFORM analytics.http_error(400, 'INVALID_GRANULARITY', 'granularity hour is for periods of at most 7 days');
    END IF;
    RETURN granularity;
END
$$;
COMMENT ON FUNCTION analytics.http_granularity(text, timestamptz, timestamptz) IS
    'Parses the granularity parameter of a §6 API call (default day): hour (periods of at most 7 days), day, week or month, else 400 INVALID_GRANULARITY';
-------------------------------------------------------------------------------
-- functions/81_api_ops_usage.sql (layer 81, the HTTP layer): the
-- analytics_api functions of contract §6.3 for usage, tools, errors and
-- performance (typed twins in functions/75_ops_usage.sql).
--
-- Each: analytics.http_scope (the §5 checks, then 403 FORBIDDEN for another
-- tenant, 404 TENANT_NOT_FOUND for an operator's unknown tenantId), then
-- analytics.http_window (400 INVALID_PERIOD / INVALID_DATE_RANGE; the
-- function's default period), then its own parameters (400
-- VALIDATION_ERROR naming the field, 400 INVALID_GRANULARITY), then the
-- typed twin.  Every parameter is text, parsed here; text parameters are at
-- most 256 characters.  Re-runnable.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics_api.summary(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                 "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                 start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.summary(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.summary(text, text, text, text, text, text, text, text) IS
    'GET /api/analytics/summary: totals (events, api/tool/llm calls, executions, workflows, sessions, failures, errorRate, tokens, costUsd, active agents and users) and latency p50/p95/p99 per event type; default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.agent_usage(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                     "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                     start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.agent_usage(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_usage(text, text, text, text, text, text, text, text) IS
    'GET /api/analytics/agents/usage: per agent executions, successes, failures, timeouts, share, durationMs p50/p95/p99/avg, tool and LLM calls, tokens, costUsd; most executions first; default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.tool_usage(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                    "mcpServer" text DEFAULT NULL,
                                                    "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                    start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    IF length("mcpServer") > 256 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'mcpServer must be at most 256 characters');
    END IF;
    RETURN analytics.tool_usage(s.tenant_id, w.from_ts, w.to_ts, "mcpServer");
END
$$;
COMMENT ON FUNCTION analytics_api.tool_usage(text, text, text, text, text, text, text, text, text) IS
    'GET /api/analytics/tools/usage: per tool and MCP server (only mcpServer when given) calls, successes, failures, successRate, latencyMs p50/p95/p99/avg, distinct agents, lastCalledAt; most calls first; default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.top_agents(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                    metric text DEFAULT NULL, top text DEFAULT NULL,
                                                    "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                    start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
    m text := coalesce(metric, 'calls');
    n integer := 10;
BEGIN
    IF m NOT IN ('calls', 'tokens', 'cost', 'failures') THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'metric must be one of calls, tokens, cost, failures');
    END IF;
    IF top IS NOT NULL THEN
        n := CASE WHEN top ~ '^[0-9]{1,3}$' THEN top::integer END;
        IF n IS NULL OR n NOT BETWEEN 1 AND 100 THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'top must be an integer from 1 to 100');
        END IF;
    END IF;
    RETURN analytics.top_agents(s.tenant_id, w.from_ts, w.to_ts, m, n);
END
$$;
COMMENT ON FUNCTION analytics_api.top_agents(text, text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/top-agents: the top agents (top: 1 to 100, default 10) by metric calls (default: agent executions), tokens, cost or failures; default period 7d; 400 VALIDATION_ERROR for a bad metric or top (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.tool_heatmap(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                      tool text DEFAULT NULL,
                                                      "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                      start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    IF length(tool) > 256 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'tool must be at most 256 characters');
    END IF;
    RETURN analytics.tool_heatmap(s.tenant_id, w.from_ts, w.to_ts, tool);
END
$$;
COMMENT ON FUNCTION analytics_api.tool_heatmap(text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/tools/heatmap: non-zero day-of-week x hour (UTC, dow 0 = Sunday) cells {tool, mcpServer, dow, hour, count} of tool calls (only tool when given); default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.error_summary(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                       "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                       start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.error_summary(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.error_summary(text, text, text, text, text, text, text, text) IS
    'GET /api/analytics/errors/summary: events, failures, errorRate, byCode, byEventType, the top 10 agents and tools by failures; default period 7d (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.error_trends(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                      granularity text DEFAULT NULL,
                                                      "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                      start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    g text := analytics.http_granularity(granularity, w.from_ts, w.to_ts);
BEGIN
    RETURN analytics.error_trends(s.tenant_id, w.from_ts, w.to_ts, g);
END
$$;
COMMENT ON FUNCTION analytics_api.error_trends(text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/errors/trends: events, failures and errorRate per bucket (granularity hour for periods up to 7 days, day (default), week, month) and event type, with webhook delivery attempts and failures; default period 30d; 400 INVALID_GRANULARITY (contract §6.3)';

CREATE OR REPLACE FUNCTION analytics_api.performance_summary(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                             "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                             start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '24h');
BEGIN
    RETURN analytics.performance_summary(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.performance_summary(text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/performance (seed 002, snake_case keys): per endpoint, method and status class calls, throughput_per_second, error_rate, p50/p95/p99; executions and workflows: count, p50/p95/p99; default period 24h (contract §6.3)';
-------------------------------------------------------------------------------
-- functions/82_api_ops_sessions.sql (layer 82, the HTTP layer): the
-- analytics_api functions of contract §6.3 for sessions, executions, users
-- and workflows.  Each: analytics.http_scope (who asks: a tenant, or an
-- operator for all tenants or the one "tenantId" names), then
-- analytics.http_window (the period), then its own parameters (400
-- VALIDATION_ERROR naming the field, 400 INVALID_GRANULARITY), then the
-- typed function of layer 76, then 404 for an id the caller's scope does not
-- hold (another tenant's id is unknown).  Every parameter is text, parsed
-- here.  Re-runnable.
-------------------------------------------------------------------------------

-- An id parameter (sessionId, executionId, userId): required, at most 256
-- characters (the event columns' limit); else 400 VALIDATION_ERROR naming it.
CREATE OR REPLACE FUNCTION analytics.http_id_param(value text, name text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL OR value = '' THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', format('%s is required', name));
    END IF;
    IF length(value) > 256 THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', format('%s must be at most 256 characters', name));
    END IF;
    RETURN value;
END
$$;
COMMENT ON FUNCTION analytics.http_id_param(text, text) IS
    'An id API parameter: returned when given and at most 256 characters, else 400 VALIDATION_ERROR naming the parameter';

-- The period_type of seed 002's answers: the period text given (days=N is
-- Nd, hours=N is Nh), "custom" for from/to, the default period otherwise.
CREATE OR REPLACE FUNCTION analytics.http_period_type(period text, "from" text, "to" text, days text, hours text,
                                                      start_date text, end_date text, default_period text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN CASE WHEN period IS NOT NULL THEN period
                WHEN days IS NOT NULL THEN days || 'd'
                WHEN hours IS NOT NULL THEN hours || 'h'
                WHEN coalesce("from", "to", start_date, end_date) IS NOT NULL THEN 'custom'
                ELSE default_period END;
END
$$;
COMMENT ON FUNCTION analytics.http_period_type(text, text, text, text, text, text, text, text) IS
    'Seed 002''s period_type of a call: the period given (days=N as Nd, hours=N as Nh), custom for from/to (start_date/end_date), else the default period';

CREATE OR REPLACE FUNCTION analytics_api.session_activity(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                          "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                          start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.session_activity(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.session_activity(text, text, text, text, text, text, text, text) IS
$$Session activity

GET /rpc/session_activity?period=7d (alias GET /api/analytics/sessions/activity; period Nh or Nd, or from/to as dates or RFC 3339 timestamps; default 7d). Returns {tenantId, period, sessions, activeSessions (an event in the last 15 minutes), avgSessionDurationMs, queriesPerSession, executions, successRate, uniqueUsers, avgResponseTimeMs, granularity, series [{timestamp|date, sessions, executions, uniqueUsers}]}: hourly for windows up to 48 hours, else daily, zero-filled. Operators: all tenants, or tenantId. Errors: 400 INVALID_PERIOD, 400 INVALID_DATE_RANGE, 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND.$$;

CREATE OR REPLACE FUNCTION analytics_api.session_detail("sessionId" text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s      record := analytics.http_scope("tenantId");
    id     text := analytics.http_id_param("sessionId", 'sessionId');
    result jsonb;
BEGIN
    result := analytics.session_detail(s.tenant_id, id);
    IF result IS NULL THEN
        PERFORM analytics.http_error(404, 'SESSION_NOT_FOUND', 'No session with this id');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics_api.session_detail(text, text) IS
$$A session and its events

GET /rpc/session_detail?sessionId=ID (alias GET /api/analytics/sessions/{id}). Returns {tenantId, sessionId, totals {events, executions, failures, tokens, inputTokens, outputTokens, costUsd, unpricedCalls, firstAt, lastAt, durationMs, userId, agents [{agentId, agentName}]}, events [{occurredAt, eventType, agentId, executionId, toolName, mcpServer, model, tokens, latencyMs, success, errorCode, count, tenantId}] (time order, at most 1000), truncated}. Errors: 400 VALIDATION_ERROR (sessionId missing or over 256 characters), 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND, 404 SESSION_NOT_FOUND (also another tenant's session).$$;

CREATE OR REPLACE FUNCTION analytics_api.execution_detail("executionId" text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s      record := analytics.http_scope("tenantId");
    id     text := analytics.http_id_param("executionId", 'executionId');
    result jsonb;
BEGIN
    result := analytics.execution_detail(s.tenant_id, id);
    IF result IS NULL THEN
        PERFORM analytics.http_error(404, 'EXECUTION_NOT_FOUND', 'No execution with this id');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics_api.execution_detail(text, text) IS
$$An agent execution and its calls

GET /rpc/execution_detail?executionId=ID (alias GET /api/analytics/executions/{id}). Returns {tenantId, executionId, execution {agentId, agentName, startedAt, durationMs, status (success, failed, timeout), errorCode, sessionId, userId, workflowId}, totals {toolCalls, llmCalls, inputTokens, outputTokens, tokens, costUsd, unpricedCalls}, calls [{occurredAt, eventType, agentId, toolName, mcpServer, model, inputTokens, outputTokens, tokens, costUsd, latencyMs, success, errorCode, count}] (time order, at most 1000), truncated}; costUsd null for a model without a price. Errors: 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND, 404 EXECUTION_NOT_FOUND (also another tenant's execution).$$;

CREATE OR REPLACE FUNCTION analytics_api.user_analytics(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                        "userId" text DEFAULT NULL,
                                                        "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                        start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s      record := analytics.http_scope("tenantId");
    w      record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
    id     text := analytics.http_id_param("userId", 'userId');
    result jsonb;
BEGIN
    result := analytics.user_analytics(s.tenant_id, w.from_ts, w.to_ts, id,
                                       analytics.http_period_type(period, "from", "to", days, hours, start_date, end_date, '7d'));
    IF (result ->> 'actions')::bigint = 0 AND NOT analytics.user_known(s.tenant_id, id) THEN
        PERFORM analytics.http_error(404, 'USER_NOT_FOUND', 'No user with this id');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics_api.user_analytics(text, text, text, text, text, text, text, text, text) IS
$$A user's analytics (seed 002)

GET /rpc/user_analytics?userId=ID&period=7d (alias GET /api/v1/analytics/user/{id}; period Nh or Nd, or from/to; days=N, hours=N; default 7d). Returns {tenant_id, user_id, period_type, period, sessions, actions, agents_used, executions, tokens, cost_usd, active_days}. Errors: 400 INVALID_PERIOD, 400 INVALID_DATE_RANGE, 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND, 404 USER_NOT_FOUND (no event of the user in the caller's scope, ever).$$;

CREATE OR REPLACE FUNCTION analytics_api.user_trends(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                     "userId" text DEFAULT NULL, granularity text DEFAULT NULL,
                                                     "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                     start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s      record := analytics.http_scope("tenantId");
    w      record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    id     text := analytics.http_id_param("userId", 'userId');
    g      text := analytics.http_granularity(granularity, w.from_ts, w.to_ts);
    result jsonb;
BEGIN
    result := analytics.user_trends(s.tenant_id, w.from_ts, w.to_ts, id, g,
                                    analytics.http_period_type(period, "from", "to", days, hours, start_date, end_date, '30d'));
    IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(result -> 'data') d WHERE (d ->> 'actions')::bigint > 0)
       AND NOT analytics.user_known(s.tenant_id, id) THEN
        PERFORM analytics.http_error(404, 'USER_NOT_FOUND', 'No user with this id');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics_api.user_trends(text, text, text, text, text, text, text, text, text, text) IS
$$A user's analytics per bucket (seed 002)

GET /rpc/user_trends?userId=ID&period=30d&granularity=day (alias GET /api/v1/analytics/user/{id}/trends; granularity hour (periods up to 7 days), day, week or month; default 30d by day). Returns {tenant_id, user_id, period_type, period, granularity, data [{date|timestamp, sessions, actions, agents_used, executions, tokens, cost_usd, active_days}]}: every bucket zero-filled, oldest first, labelled by its start clipped to the period. Errors: 400 INVALID_PERIOD, 400 INVALID_DATE_RANGE, 400 INVALID_GRANULARITY, 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND, 404 USER_NOT_FOUND.$$;

CREATE OR REPLACE FUNCTION analytics_api.workflow_performance(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                              "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                              start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.workflow_performance(s.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.workflow_performance(text, text, text, text, text, text, text, text) IS
$$Workflow performance

GET /rpc/workflow_performance?period=7d (alias GET /api/analytics/workflows/performance; default 7d). Returns {tenantId, period, workflowTypes [{workflowType, runs, successes, failures, successRate, durationMs {p50, p95, p99}, avgAgentsPerRun, avgToolCallsPerRun, avgTokensPerRun}] (most runs first), series [{date, runs, failures, p95}] (daily, zero-filled)}. A run is a workflow_id with a workflow event in the period; it failed when a workflow event of it failed. Errors: 400 INVALID_PERIOD, 400 INVALID_DATE_RANGE, 400 VALIDATION_ERROR, 401, 403 ANALYTICS_NOT_AVAILABLE, 403 FORBIDDEN, 404 NOT_FOUND, 404 TENANT_NOT_FOUND.$$;
-------------------------------------------------------------------------------
-- functions/83_api_ops_platform.sql (layer 83, the HTTP layer of contract
-- §6.3): the API functions over layer 77's agent, platform, dashboard and
-- health answers.  Each: analytics.http_scope (the §5/§6.1 checks), then
-- analytics.http_window (the one period parser), then its own parameters,
-- then the typed function.  analytics_health() alone is callable without a
-- token (layer 90's grant_api_privileges grants it to analytics_anon) and
-- never raises.
-- Re-runnable.
-------------------------------------------------------------------------------

-- An agentId parameter: an agent of the caller's scope (tenant NULL: any
-- tenant); missing: 400 VALIDATION_ERROR; not a uuid, unknown, or another
-- tenant's: 404 AGENT_NOT_FOUND.
CREATE OR REPLACE FUNCTION analytics.platform_http_agent("agentId" text, tenant_id uuid)
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    aid uuid;
BEGIN
    IF "agentId" IS NULL THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'agentId is required');
    END IF;
    IF length("agentId") = 36 AND "agentId" ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        SELECT a.agent_id INTO aid FROM analytics.agents a
        WHERE a.agent_id = "agentId"::uuid
          AND (platform_http_agent.tenant_id IS NULL OR a.tenant_id = platform_http_agent.tenant_id);
    END IF;
    IF aid IS NULL THEN
        PERFORM analytics.http_error(404, 'AGENT_NOT_FOUND', 'No agent has this agentId');
    END IF;
    RETURN aid;
END
$$;
COMMENT ON FUNCTION analytics.platform_http_agent(text, uuid) IS
    'Parses the agentId API parameter: an agent of the given tenant (NULL: any); 400 VALIDATION_ERROR when missing, 404 AGENT_NOT_FOUND when not a uuid, unknown, or another tenant''s';

CREATE OR REPLACE FUNCTION analytics_api.agent_analytics(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                        "agentId" text DEFAULT NULL, "tenantId" text DEFAULT NULL,
                                                        days text DEFAULT NULL, hours text DEFAULT NULL,
                                                        start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sc  record := analytics.http_scope("tenantId");
    w   record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
    aid uuid := analytics.platform_http_agent("agentId", sc.tenant_id);
BEGIN
    RETURN analytics.agent_analytics(sc.tenant_id, w.from_ts, w.to_ts, aid);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_analytics(text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/agent/{id}: seed 002''s analytics of one agent (calls = its agent_execution events, success_rate, response_time_p50/p95/p99, tokens, cost_usd, ...) over period (default 7d) or from/to; 404 AGENT_NOT_FOUND for an agent outside the caller''s scope';

CREATE OR REPLACE FUNCTION analytics_api.agent_trends(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                     "agentId" text DEFAULT NULL, granularity text DEFAULT NULL,
                                                     "tenantId" text DEFAULT NULL,
                                                     days text DEFAULT NULL, hours text DEFAULT NULL,
                                                     start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sc   record := analytics.http_scope("tenantId");
    w    record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    gran text := analytics.http_granularity(granularity, w.from_ts, w.to_ts);
    aid  uuid := analytics.platform_http_agent("agentId", sc.tenant_id);
BEGIN
    RETURN analytics.agent_trends(sc.tenant_id, w.from_ts, w.to_ts, aid, gran);
END
$$;
COMMENT ON FUNCTION analytics_api.agent_trends(text, text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/agent/{id}/trends: agent_analytics per bucket (granularity hour up to 7 days, day, week, month; default day) over period (default 30d) or from/to, zero-filled, oldest first';

CREATE OR REPLACE FUNCTION analytics_api.platform_trends(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                        granularity text DEFAULT NULL, "tenantId" text DEFAULT NULL,
                                                        days text DEFAULT NULL, hours text DEFAULT NULL,
                                                        start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sc   record := analytics.http_scope("tenantId", true);
    w    record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    gran text := analytics.http_granularity(granularity, w.from_ts, w.to_ts);
BEGIN
    RETURN analytics.platform_trends(sc.tenant_id, w.from_ts, w.to_ts, gran);
END
$$;
COMMENT ON FUNCTION analytics_api.platform_trends(text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/platform/trends (operators only; a tenant token gets 403 FORBIDDEN): active and new tenants, agents and users, events, failures, error_rate, api_p95, tokens, cost_usd per bucket over period (default 30d, day), optionally for one tenantId';

CREATE OR REPLACE FUNCTION analytics_api.dashboard(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                  "tenantId" text DEFAULT NULL,
                                                  days text DEFAULT NULL, hours text DEFAULT NULL,
                                                  start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sc record := analytics.http_scope("tenantId");
    w  record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '7d');
BEGIN
    RETURN analytics.dashboard(sc.tenant_id, w.from_ts, w.to_ts);
END
$$;
COMMENT ON FUNCTION analytics_api.dashboard(text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/dashboard: seed 002''s current_metrics, daily trends, performance and monitoring over period (default 7d) or from/to, for the caller''s tenant (operators: every tenant, or tenantId)';

-- Health: never an error.  No token, a tenant token, or analytics.enabled
-- off (status down, not 404): {"status"} only; an operator token: the
-- whole of analytics.analytics_health().
CREATE OR REPLACE FUNCTION analytics_api.analytics_health()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h jsonb;
BEGIN
    IF NOT analytics.setting('enabled')::boolean THEN
        RETURN jsonb_build_object('status', 'down');
    END IF;
    h := analytics.analytics_health();
    IF analytics.http_claimed_tenant() IS NULL AND analytics.http_caller_has_role('analytics_operator') THEN
        RETURN h;
    END IF;
    RETURN jsonb_build_object('status', h ->> 'status');
END
$$;
COMMENT ON FUNCTION analytics_api.analytics_health() IS
    'GET /api/analytics/health: {"status": ok|degraded|down} for anyone, with or without a token (down when analytics.enabled is off, never 404); for an operator token also the version, last rollup run, days waiting for a rollup, pending deliveries and background worker (analytics.analytics_health())';
-------------------------------------------------------------------------------
-- 85_gateway.sql: what the HTTP gateway (http/: PostgREST behind nginx) needs
-- from the database.  Re-runnable: run at install and at every upgrade.
--
--   analytics.set_api_timeouts(statement_timeout, lock_timeout)
--       the time one API call may run, and wait for a lock, as settings of
--       the API roles (ALTER ROLE ... SET), which PostgREST 12 applies to
--       every request of that role.  A call cut by either answers 503
--       {"code":"TIMEOUT"} through nginx (http/gateway.js).
--   analytics.ensure_api_timeouts()
--       the defaults (5s, 1s) for the API roles that have no timeouts yet;
--       analytics.create_api_roles() calls it (an operator's values stay).
--   analytics.api_timeouts()
--       the settings in force, per API role.
-------------------------------------------------------------------------------

-- A duration setting's value in milliseconds, as PostgreSQL reads it (a bare
-- number is milliseconds; units ms, s, min, h, d), or 22023 naming it.
CREATE OR REPLACE FUNCTION analytics.api_timeout_ms(setting text, value text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET statement_timeout = 0
SET lock_timeout = 0
AS $$
DECLARE
    ms bigint;
BEGIN
    IF setting NOT IN ('statement_timeout', 'lock_timeout') THEN
        RAISE EXCEPTION 'setting must be statement_timeout or lock_timeout, not %', setting
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF value IS NULL OR length(value) > 32 THEN
        RAISE EXCEPTION '% must be a duration such as 5s or 500ms', setting
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- set_config checks the value; the function's own SET clauses undo it on exit
    PERFORM pg_catalog.set_config(setting, value, true);
    SELECT s.setting::bigint INTO ms FROM pg_catalog.pg_settings s WHERE s.name = api_timeout_ms.setting;
    IF ms < 1 OR ms > 3600000 THEN
        RAISE EXCEPTION '% must be from 1ms to 1h, not %', setting, value
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The API roles always run with a timeout: 0 (none) is refused.';
    END IF;
    RETURN ms;
END
$$;
COMMENT ON FUNCTION analytics.api_timeout_ms(text, text) IS
    'The value of statement_timeout or lock_timeout in milliseconds as PostgreSQL reads it (bare number = ms); 22023 unless from 1 ms to 1 h';

-- The API roles that exist, with their timeouts (the one list of them).
CREATE OR REPLACE FUNCTION analytics.api_timeouts(OUT role name, OUT statement_timeout text, OUT lock_timeout text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT r.rolname,
           (SELECT substr(c, length('statement_timeout=') + 1) FROM unnest(r.rolconfig) c WHERE c LIKE 'statement\_timeout=%'),
           (SELECT substr(c, length('lock_timeout=') + 1) FROM unnest(r.rolconfig) c WHERE c LIKE 'lock\_timeout=%')
    FROM pg_catalog.pg_roles r
    WHERE r.rolname IN ('analytics_anon', 'analytics_tenant', 'analytics_operator', 'analytics_metrics')
    ORDER BY r.rolname;
END
$$;
COMMENT ON FUNCTION analytics.api_timeouts() IS
    'The statement_timeout and lock_timeout of each API role that exists (NULL: not set), as set by analytics.set_api_timeouts(); the one list of the API roles';

CREATE OR REPLACE FUNCTION analytics.set_api_timeouts(statement_timeout text DEFAULT '5s', lock_timeout text DEFAULT '1s')
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st_ms bigint := analytics.api_timeout_ms('statement_timeout', set_api_timeouts.statement_timeout);
    lk_ms bigint := analytics.api_timeout_ms('lock_timeout', set_api_timeouts.lock_timeout);
    r     text;
BEGIN
    IF lk_ms > st_ms THEN
        RAISE EXCEPTION 'lock_timeout (%) must not be longer than statement_timeout (%)',
            set_api_timeouts.lock_timeout, set_api_timeouts.statement_timeout
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR r IN SELECT t.role FROM analytics.api_timeouts() t LOOP
        EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', r, st_ms || 'ms');
        EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', r, lk_ms || 'ms');
    END LOOP;
    -- PostgREST (db-channel-enabled) re-reads the role settings
    PERFORM pg_catalog.pg_notify('pgrst', 'reload config');
END
$$;
COMMENT ON FUNCTION analytics.set_api_timeouts(text, text) IS
    'Sets statement_timeout and lock_timeout (each 1 ms to 1 h, lock <= statement; defaults 5s and 1s) on the API roles that exist (analytics_anon, analytics_tenant, analytics_operator, analytics_metrics) and asks PostgREST to reload them (NOTIFY pgrst); a call cut by either answers 503 TIMEOUT through the gateway';

CREATE OR REPLACE FUNCTION analytics.ensure_api_timeouts()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM analytics.api_timeouts() LOOP
        IF t.statement_timeout IS NULL THEN
            EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', t.role, '5s');
        END IF;
        IF t.lock_timeout IS NULL THEN
            EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', t.role, '1s');
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.ensure_api_timeouts() IS
    'Sets statement_timeout 5s and lock_timeout 1s on each API role that exists and has none yet (values set by analytics.set_api_timeouts() stay); run when the API roles are created (layer 90)';

REVOKE EXECUTE ON FUNCTION analytics.api_timeout_ms(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.set_api_timeouts(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.ensure_api_timeouts() FROM PUBLIC;
-------------------------------------------------------------------------------
-- functions/90_security.sql (layer 90, roles, grants and row-level
-- security).  Re-runnable.
--
-- Roles and grants.  PostgREST connects as an authenticator (LOGIN
-- NOINHERIT) and switches to analytics_anon (no token) or analytics_tenant
-- (a token whose "role" claim is analytics_tenant).
-------------------------------------------------------------------------------

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api FROM PUBLIC;

-- The grants of the API roles, (re)applied after CREATE EXTENSION when the
-- roles exist (DROP EXTENSION drops the functions and their grants).
CREATE OR REPLACE FUNCTION analytics.grant_api_privileges()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regrole('analytics_tenant') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA analytics_api TO analytics_tenant;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api TO analytics_tenant;
    END IF;
    IF to_regrole('analytics_operator') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA analytics_api TO analytics_operator;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA analytics_api TO analytics_operator;
    END IF;
    IF to_regrole('analytics_anon') IS NOT NULL THEN
        -- The schema, and the one function a call without a token may make
        -- (contract §6.3: the health status); every other call is refused.
        GRANT USAGE ON SCHEMA analytics_api TO analytics_anon;
        IF to_regprocedure('analytics_api.analytics_health()') IS NOT NULL THEN
            GRANT EXECUTE ON FUNCTION analytics_api.analytics_health() TO analytics_anon;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.grant_api_privileges() IS
    'Grants analytics_tenant and analytics_operator USAGE on analytics_api and EXECUTE on its functions, analytics_anon USAGE on the schema and EXECUTE on analytics_health() only; run after CREATE EXTENSION (create_api_roles does it)';

CREATE OR REPLACE FUNCTION analytics.create_api_roles(authenticator name DEFAULT NULL)
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
    IF to_regrole('analytics_operator') IS NULL THEN
        CREATE ROLE analytics_operator NOLOGIN;
    END IF;
    -- The default request limits (5 s, lock waits 1 s) on API roles that have
    -- none yet; analytics.set_api_timeouts() changes them.
    PERFORM analytics.ensure_api_timeouts();
    PERFORM analytics.grant_api_privileges();
    IF authenticator IS NOT NULL THEN
        EXECUTE format('GRANT analytics_anon, analytics_tenant, analytics_operator TO %I', authenticator);
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.create_api_roles(name) IS
    'Creates the PostgREST roles analytics_anon (no data access), analytics_tenant (a tenant''s token) and analytics_operator (an operator''s token, contract §6.1), the last two with USAGE on analytics_api and EXECUTE on its functions, if missing, with the default request limits of analytics.set_api_timeouts() (statement_timeout 5s, lock_timeout 1s), grants them, and makes the given authenticator role a member of all three';

REVOKE EXECUTE ON FUNCTION analytics.create_api_roles(name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.grant_api_privileges() FROM PUBLIC;

SELECT analytics.grant_api_privileges();

-------------------------------------------------------------------------------
-- Row-level security on every table holding tenant data.  Roles that act as
-- analytics_tenant see only the tenant their claims name; analytics_anon
-- sees nothing; other roles are governed by their grants alone.  (The API
-- roles have no grant on these tables: this is the second line of defence.)
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.rls_tenant_visible(tenant_id uuid)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE
    WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                 WHERE r.rolname = 'analytics_tenant' AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'))
        THEN tenant_id = analytics.http_claimed_tenant()
    WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                 WHERE r.rolname = 'analytics_anon' AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'))
        THEN false
    ELSE true END $$;
COMMENT ON FUNCTION analytics.rls_tenant_visible(uuid) IS
    'Row-level security predicate: for roles acting as analytics_tenant, the row belongs to the claimed tenant; for analytics_anon, never; for other roles, always';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'agents', 'usage_events', 'usage_events_default',
                             'analytics_daily_aggregates', 'usage_stats_daily', 'tenant_daily',
                             'agent_daily', 'endpoint_daily',
                             'type_hourly', 'agent_type_daily', 'tool_daily', 'error_daily', 'api_daily',
                             'session_daily', 'user_daily', 'workflow_daily',
                             'analytics_monthly_aggregates', 'usage_stats_monthly'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON analytics.%I', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (analytics.rls_tenant_visible(tenant_id)) '
                       'WITH CHECK (analytics.rls_tenant_visible(tenant_id))', t);
    END LOOP;
    -- Day partitions can be queried directly: they carry the same policy
    -- (analytics.ensure_partitions gives new ones the parent's).
    FOR t IN SELECT ep.partition::text FROM analytics.event_partitions ep WHERE ep.day IS NOT NULL LOOP
        PERFORM analytics.copy_row_security('analytics.usage_events', t::regclass);
    END LOOP;
END
$$;

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
    -- queries on every node (joins, foreign keys): reference tables.
    registries constant text[] := ARRAY['tenants', 'agents'];
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
