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
