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
