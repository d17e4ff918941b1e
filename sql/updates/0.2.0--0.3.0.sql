-------------------------------------------------------------------------------
-- updates/0.2.0--0.3.0.sql: the hand-written part of the upgrade from 0.2.0
-- to 0.3.0 (the Makefile appends every sql/functions/ piece).  0.3.0 keeps
-- today's and other changed days' rollups current in small increments (the
-- minute rollup) and adds the per-agent and per-endpoint read models; the
-- tables they need are created and filled here from the existing rollups.
-------------------------------------------------------------------------------

\echo Use "ALTER EXTENSION analytics UPDATE TO '0.3.0'" to load this file. \quit

-- Days whose changes are new events only (merged by the minute rollup).
-- Existing log rows are recomputed whole, as 0.2.0 would have.
ALTER TABLE analytics.changed_days ADD COLUMN appended boolean NOT NULL DEFAULT false;

-- Days whose rollup the minute rollup has been merging into.
ALTER TABLE analytics.rollup_days ADD COLUMN complete boolean NOT NULL DEFAULT true;
COMMENT ON TABLE analytics.rollup_days IS
    'Days rolled up: when, how many events, how many rollup rows the last run wrote, whether retention has dropped the raw events, the watermark (the rollup rows hold exactly the day''s events ingested before it), and complete: false while the minute rollup has been merging increments into the day (the nightly rollup then recomputes it once)';
COMMENT ON TABLE analytics.changed_days IS
    'Days with events written, updated or deleted since their last rollup; appended: only new events (merged by the minute rollup), else the next rollup recomputes the day';

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
SELECT pg_catalog.pg_extension_config_dump('analytics.agent_daily', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.endpoint_daily', '');

-- Filled from the rollups of 0.2.0, so every rolled day reads as before.
INSERT INTO analytics.agent_daily (tenant_id, date, agent_id, events, api_calls, token_issuances, token_failures,
                                   credential_rotations, tool_calls, llm_calls)
SELECT e.tenant_id, e.date, e.agent_id, e.events,
       coalesce(m.api_calls, 0), coalesce(m.token_issuances, 0), coalesce(m.token_failures, 0),
       coalesce(m.credential_rotations, 0), coalesce(m.tool_calls, 0), coalesce(m.llm_calls, 0)
FROM (SELECT s.tenant_id, s.date, s.agent_id, sum(s.calls) AS events
      FROM analytics.usage_stats_daily s GROUP BY s.tenant_id, s.date, s.agent_id) e
LEFT JOIN (SELECT a.tenant_id, a.date, a.agent_id,
                  sum(a.count) FILTER (WHERE a.metric_type = 'api_calls') AS api_calls,
                  sum(a.count) FILTER (WHERE a.metric_type = 'token_issuances') AS token_issuances,
                  sum(a.count) FILTER (WHERE a.metric_type = 'token_failures') AS token_failures,
                  sum(a.count) FILTER (WHERE a.metric_type = 'credential_rotations') AS credential_rotations,
                  sum(a.count) FILTER (WHERE a.metric_type = 'tool_calls') AS tool_calls,
                  sum(a.count) FILTER (WHERE a.metric_type = 'llm_calls') AS llm_calls
           FROM analytics.analytics_daily_aggregates a GROUP BY a.tenant_id, a.date, a.agent_id) m
  ON m.tenant_id = e.tenant_id AND m.date = e.date AND m.agent_id IS NOT DISTINCT FROM e.agent_id;

INSERT INTO analytics.endpoint_daily (tenant_id, date, endpoint, method, calls, successes, latency)
SELECT s.tenant_id, s.date, s.endpoint, s.method, sum(s.calls), sum(s.successes), analytics.qsketch_merge(s.latency)
FROM analytics.usage_stats_daily s
WHERE s.event_type = 'api_call'
GROUP BY s.tenant_id, s.date, s.endpoint, s.method;

-- read_raw_groups takes the watermark of each day now; the readers ask
-- read_plan which days to read how, not unclean_days.
DROP FUNCTION analytics.read_raw_groups(uuid, date[], boolean);
DROP FUNCTION analytics.unclean_days(date, date);

-- The BRIN index on ingested_at in ranges of 8 pages instead of 128: readers
-- now read the last minute's events by it.  (Rebuilt on every partition: a
-- pass over the events, once.)
DROP INDEX analytics.usage_events_ingested_at_idx;
CREATE INDEX usage_events_ingested_at_idx ON analytics.usage_events USING brin (ingested_at) WITH (pages_per_range = 8);

-- A daycounts as a jsonb daily series (agent_activity builds its answer with it).
CREATE FUNCTION analytics.daycounts_jsonb(counts analytics.daycounts, keys text[])
RETURNS jsonb
AS 'MODULE_PATHNAME', 'daycounts_jsonb'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.daycounts_jsonb(analytics.daycounts, text[]) IS
    'The daily series of a daycounts as a jsonb array, one object per day of its period, oldest first, zero-filled: {"date": "YYYY-MM-DD", keys[1]: counter 1, ...}; one key per counter, 1 to 64 bytes, distinct, not "date"';

-- Prompt-cache tokens and the workflow type (issue 16), at the end of the
-- columns as in a fresh install, with the same checks.  Adding the columns
-- rewrites nothing (they are NULL); the new checks are verified by one scan
-- of the events.
ALTER TABLE analytics.usage_events
    ADD COLUMN cached_input_tokens bigint
        CONSTRAINT usage_events_cached_input_tokens_check CHECK (cached_input_tokens >= 0 AND cached_input_tokens <= 1000000000000),
    ADD COLUMN cache_write_tokens bigint
        CONSTRAINT usage_events_cache_write_tokens_check CHECK (cache_write_tokens >= 0 AND cache_write_tokens <= 1000000000000),
    ADD COLUMN workflow_type text
        CONSTRAINT usage_events_workflow_type_check CHECK (length(workflow_type) <= 256),
    ADD CONSTRAINT usage_events_cache_tokens_within_input_check CHECK (
        (cached_input_tokens IS NULL AND cache_write_tokens IS NULL)
        OR (input_tokens IS NOT NULL
            AND coalesce(cached_input_tokens, 0) + coalesce(cache_write_tokens, 0) <= input_tokens));
