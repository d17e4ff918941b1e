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
                    -- (autovacuum and the extension's own background worker,
                    -- which records health checks and deliveries, write no
                    -- events; a worker round slowed down, under valgrind say,
                    -- would otherwise hold every rollup's watermark back)
                    AND a.backend_type NOT IN ('autovacuum worker', 'autovacuum launcher', 'analytics worker')),
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
    -- The cost of each group's llm_calls, each at the price in force at it
    -- (analytics.priced_events), in a pass of its own: numeric sums are
    -- exact in any order, while g's float sums keep the order of a plain
    -- scan of the day (a join could change it between runs, and a rerun
    -- over unchanged events would then rewrite rows).
    gc AS MATERIALIZED (
        SELECT ROW(e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server,
                   e.model)::analytics.usage_stats_key AS k,
               sum(e.cost_usd) AS cost_usd
        FROM analytics.priced_events e
        WHERE e.occurred_at >= lo AND e.occurred_at < hi AND e.ingested_at < w AND e.event_type = 'llm_call'
        GROUP BY e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server, e.model
    ),
    gs AS (SELECT g.*, coalesce(gc.cost_usd, 0) AS cost_usd FROM g LEFT JOIN gc ON gc.k = g.k),
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
               coalesce(sum(e.cost_usd), 0) AS cost_usd,
               analytics.heatmap_agg(e.occurred_at, e.count::bigint) FILTER (WHERE e.event_type = 'api_call') AS api_heatmap
        FROM analytics.priced_events e  -- (each event at the price in force at it)
        WHERE e.occurred_at >= lo AND e.occurred_at < hi AND e.ingested_at >= w_old AND e.ingested_at < w
        GROUP BY e.tenant_id, e.agent_id, e.event_type, e.endpoint, e.method, e.tool_name, e.mcp_server, e.model
    ),
    stats_up AS (
        INSERT INTO analytics.usage_stats_daily AS s
            (date, tenant_id, agent_id, event_type, endpoint, method, tool_name, mcp_server, model,
             calls, successes, failures, total_latency_ms, latency, input_tokens, output_tokens, cost_usd, updated_at)
        SELECT day, g.tenant_id, g.agent_id, g.event_type, g.endpoint, g.method, g.tool_name, g.mcp_server,
               g.model, g.calls, g.successes, g.calls - g.successes, g.total_latency_ms, g.latency,
               g.input_tokens, g.output_tokens, g.cost_usd, stamp
        FROM g
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
-- (C, src/readers.c: two range reads, of rollup_days and changed_days,
-- with plans the backend keeps, sorted and merged day by day; "yesterday"
-- is analytics.utc_today() - 1.  It was a statement over generate_series
-- with three ordered aggregates, about 0.04 ms of every reader's call.)
CREATE OR REPLACE FUNCTION analytics.read_plan("from" date, "to" date,
                                               OUT days date[], OUT since timestamptz[], OUT whole date[])
LANGUAGE c STABLE STRICT
AS 'MODULE_PATHNAME', 'analytics_read_plan';
COMMENT ON FUNCTION analytics.read_plan(date, date) IS
    'How readers take the days of [from, to]: days (oldest first) are read from raw events, whole where since[i] is NULL (never rolled, or rewritten since its rollup; also listed in whole), else the events ingested at or after since[i] on top of the day''s rollup rows; days not listed are read from rollups alone';
