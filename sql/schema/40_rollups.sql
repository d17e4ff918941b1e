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

