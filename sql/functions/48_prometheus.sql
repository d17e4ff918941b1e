-------------------------------------------------------------------------------
-- functions/48_prometheus.sql (layer 48): the series of the Prometheus
-- domain metrics of contract §6.7 (the text exposition is layer 79).
-- Re-runnable.
--
-- Vocabulary: a series is (metric, labels, value): metric is the sample's
-- name (for the histogram: ..._bucket, ..._sum, ..._count), labels the
-- label values in the order analytics.prometheus_metrics() names them.
--   prom_event_series(from, to)  the event counters of [from, to), from the
--                                rollup families (read_family: rollup rows
--                                plus the raw events since the watermark)
--   prom_counters()              every counter up to now: the folded base
--                                plus prom_event_series since folded_before
--                                and over the late days before it
--   late days                    days before folded_before that got events
--                                after the fold passed them (INSERT or COPY
--                                of old events; record_events refuses them):
--                                never folded, they are read like recent
--                                days until retention drops them, when
--                                prom_fold adds them to the base
--   prom_fold()                  run_retention's step: days whose raw events
--                                are gone move from the families into the
--                                base, in the same transaction, so totals
--                                never go down and families may be pruned
--   prom_circuit_states(), prom_webhook_deliveries()
--                                the circuit breakers of the health tables
--                                and the deliveries of the alert outbox
--   prom_active_sse_connections()  the latest reading of the platform's gauge
-------------------------------------------------------------------------------

-- The event counters of the window [from, to), every tenant.
--   registry_agent_requests_total{agent_id,method}: events of an agent
--     (agent_id set), method = the event's event_type (api_call, tool_call,
--     llm_call, token_issuance, ...);
--   registry_tool_calls_total{tool,server,status}: tool_call events, status
--     success or failure (success = false; a timeout is a failure);
--   registry_tool_call_duration_seconds_bucket{tool,server,le}, _sum, _count:
--     tool_call events with a latency_ms, exact cumulative counts per bound;
--   registry_estimated_token_usage{model,agent_id}: input + output tokens of
--     llm_call events.
-- A NULL label value is "".
CREATE OR REPLACE FUNCTION analytics.prom_event_series("from" timestamptz, "to" timestamptz)
RETURNS TABLE (metric text, labels text[], value numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    RETURN QUERY
    SELECT 'registry_agent_requests_total'::text, ARRAY[a.agent_id::text, a.event_type], sum(a.events)::numeric
    FROM analytics.read_family(NULL::analytics.agent_type_daily, NULL, "from", "to") a
    WHERE a.agent_id IS NOT NULL
    GROUP BY a.agent_id, a.event_type;

    RETURN QUERY
    SELECT 'registry_tool_calls_total'::text, ARRAY[t.tool, t.server, s.status], s.n
    FROM (SELECT coalesce(d.tool_name, '') AS tool, coalesce(d.mcp_server, '') AS server,
                 sum(d.calls)::numeric AS calls, sum(d.failures)::numeric AS failures
          FROM analytics.read_family(NULL::analytics.tool_daily, NULL, "from", "to") d
          GROUP BY 1, 2) t
    CROSS JOIN LATERAL (VALUES ('success'::text, t.calls - t.failures), ('failure'::text, t.failures)) AS s(status, n);

    RETURN QUERY
    SELECT 'registry_tool_call_duration_seconds' || s.suffix, ARRAY[h.tool, h.server] || s.le, s.n
    FROM (SELECT coalesce(d.tool_name, '') AS tool, coalesce(d.mcp_server, '') AS server,
                 sum(d.latency_n)::numeric AS n, sum(d.latency_sum) / 1000 AS s,
                 sum(d.le_5ms)::numeric AS b1, sum(d.le_10ms)::numeric AS b2, sum(d.le_25ms)::numeric AS b3,
                 sum(d.le_50ms)::numeric AS b4, sum(d.le_100ms)::numeric AS b5, sum(d.le_250ms)::numeric AS b6,
                 sum(d.le_500ms)::numeric AS b7, sum(d.le_1000ms)::numeric AS b8, sum(d.le_2500ms)::numeric AS b9,
                 sum(d.le_5000ms)::numeric AS b10, sum(d.le_10000ms)::numeric AS b11
          FROM analytics.read_family(NULL::analytics.tool_duration_daily, NULL, "from", "to") d
          GROUP BY 1, 2) h
    CROSS JOIN LATERAL (VALUES
        ('_bucket', '{0.005}'::text[], h.b1), ('_bucket', '{0.01}', h.b2), ('_bucket', '{0.025}', h.b3),
        ('_bucket', '{0.05}', h.b4), ('_bucket', '{0.1}', h.b5), ('_bucket', '{0.25}', h.b6),
        ('_bucket', '{0.5}', h.b7), ('_bucket', '{1}', h.b8), ('_bucket', '{2.5}', h.b9),
        ('_bucket', '{5}', h.b10), ('_bucket', '{10}', h.b11), ('_bucket', '{+Inf}', h.n),
        ('_sum', '{}', h.s), ('_count', '{}', h.n)) AS s(suffix, le, n);

    RETURN QUERY
    SELECT 'registry_estimated_token_usage'::text, ARRAY[c.model, c.agent], sum(c.tokens)
    FROM (SELECT coalesce(d.model, '') AS model, coalesce(d.agent_id::text, '') AS agent,
                 d.input_tokens + d.output_tokens AS tokens
          FROM analytics.read_family(NULL::analytics.cost_daily, NULL, "from", "to") d) c
    GROUP BY c.model, c.agent;
END
$$;
COMMENT ON FUNCTION analytics.prom_event_series(timestamptz, timestamptz) IS
    'The Prometheus event counters (contract §6.7) of the window [from, to), every tenant, from the rollup families and the raw events since their watermark: (metric, label values, value) of registry_agent_requests_total, registry_tool_calls_total, registry_tool_call_duration_seconds_bucket/_sum/_count and registry_estimated_token_usage';

-- The first UTC day, from since on, that may hold events the counters
-- have not folded: the oldest of the rolled days whose raw events are held,
-- the day partitions, the days logged as changed, and the events of the
-- default partition (NULL: none).
CREATE OR REPLACE FUNCTION analytics.prom_first_open_day(since date DEFAULT '-infinity')
RETURNS date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    since_ts timestamptz := coalesce(since, '-infinity')::timestamp AT TIME ZONE 'UTC';
BEGIN
    since := coalesce(since, '-infinity');
    RETURN least((SELECT min(rd.day) FROM analytics.rollup_days rd WHERE rd.day >= since AND NOT rd.raw_dropped),
                 (SELECT min(ep.day) FROM analytics.event_partitions ep WHERE ep.day >= since),
                 (SELECT min(cd.day) FROM analytics.changed_days cd WHERE cd.day >= since),
                 (SELECT (min(e.occurred_at) AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default e
                  WHERE e.occurred_at >= since_ts));
END
$$;
COMMENT ON FUNCTION analytics.prom_first_open_day(date) IS
    'The first UTC day on or after since that may still hold events not folded into analytics.prom_counter_base (the oldest held raw day, day partition, changed day or default-partition event); NULL when there are none';

-- The days of [since, before) that may hold events or rollup rows, as
-- ranges [lo, hi) of consecutive days: rolled days, day partitions, logged
-- changes, days of default-partition events (held_only: without the days
-- whose raw events were dropped).  The counters read these ranges only, so
-- a gap of days without events costs nothing.
CREATE OR REPLACE FUNCTION analytics.prom_day_ranges(since date, before date, held_only boolean)
RETURNS TABLE (lo date, hi date)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    since_ts  timestamptz := since::timestamp AT TIME ZONE 'UTC';
    before_ts timestamptz := before::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF since IS NULL OR before IS NULL OR since >= before OR before = '-infinity' THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT min(g.d), max(g.d) + 1
    FROM (SELECT x.d, x.d - (row_number() OVER (ORDER BY x.d))::integer AS grp
          FROM (SELECT rd.day AS d FROM analytics.rollup_days rd
                WHERE rd.day >= since AND rd.day < before AND NOT (held_only AND rd.raw_dropped)
                UNION
                SELECT ep.day FROM analytics.event_partitions ep WHERE ep.day >= since AND ep.day < before
                UNION
                SELECT cd.day FROM analytics.changed_days cd WHERE cd.day >= since AND cd.day < before
                UNION
                SELECT (e.occurred_at AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default e
                WHERE e.occurred_at >= since_ts AND e.occurred_at < before_ts) x
          WHERE NOT (held_only AND EXISTS (SELECT 1 FROM analytics.rollup_days r WHERE r.day = x.d AND r.raw_dropped))) g
    GROUP BY g.grp;
END
$$;
COMMENT ON FUNCTION analytics.prom_day_ranges(date, date, boolean) IS
    'Ranges [lo, hi) of the days of [since, before) that may hold events or rollup rows (held_only: not the days whose raw events were dropped): what the Prometheus counters read';

-- Every counter up to the moment of the call.
CREATE OR REPLACE FUNCTION analytics.prom_counters()
RETURNS TABLE (metric text, labels text[], value numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    folded  date := coalesce((SELECT s.folded_before FROM analytics.prom_fold_state s), '-infinity');
    today   date := analytics.utc_today();
BEGIN
    -- The days from folded_before to the end of tomorrow (events up to
    -- analytics.max_event_future_seconds ahead; a later one counts from the
    -- day before it), and the late days before folded_before.
    RETURN QUERY
    SELECT x.metric, x.labels, sum(x.value)
    FROM (SELECT b.metric, b.labels, b.value FROM analytics.prom_counter_base b
          UNION ALL
          SELECT s.metric, s.labels, s.value
          FROM (SELECT r.lo, r.hi FROM analytics.prom_day_ranges(folded, today + 2, false) r
                UNION ALL
                SELECT r.lo, r.hi FROM analytics.prom_day_ranges('-infinity', folded, true) r) r,
               LATERAL analytics.prom_event_series(r.lo::timestamp AT TIME ZONE 'UTC', r.hi::timestamp AT TIME ZONE 'UTC') s) x
    GROUP BY x.metric, x.labels;
END
$$;
COMMENT ON FUNCTION analytics.prom_counters() IS
    'Every Prometheus counter of contract §6.7 up to now, cumulative: analytics.prom_counter_base (days folded by run_retention) plus analytics.prom_event_series since prom_fold_state.folded_before';

-- Add series [{"m": metric, "l": labels, "v": value}, ...] to the base
-- (prom_fold's write, a statement of its own); returns the rows written.
CREATE OR REPLACE FUNCTION analytics.prom_base_add(series jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO analytics.prom_counter_base AS b (metric, labels, value)
    SELECT e ->> 'm', ARRAY(SELECT jsonb_array_elements_text(e -> 'l')), (e ->> 'v')::numeric
    FROM jsonb_array_elements(coalesce(series, '[]')) e
    ON CONFLICT ON CONSTRAINT prom_counter_base_pkey DO UPDATE SET value = b.value + excluded.value;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION analytics.prom_base_add(jsonb) IS
    'Adds counter series given as JSON ([{"m","l","v"}]) to analytics.prom_counter_base (prom_fold''s write)';

-- run_retention's step (after it dropped raw partitions, in its
-- transaction; dropped: the days whose partitions it dropped): the days
-- from folded_before up to the first open day (and the raw retention cut),
-- whose rollup rows no job changes any more, are added to the base and
-- folded_before moves past them; late days (before folded_before) dropped
-- now are added one by one (until now they were read as late days).
-- Returns the base rows written.
CREATE OR REPLACE FUNCTION analytics.prom_fold(raw_cut date, dropped date[] DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    old_before  date;
    new_before  date;
    late        date[];
    n           bigint := 0;
    m           bigint;
    acc         jsonb;
    stamp       timestamptz := now();
BEGIN
    IF raw_cut IS NULL OR NOT isfinite(raw_cut) THEN
        RAISE EXCEPTION 'raw_cut must be a date, not %', coalesce(raw_cut::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.folded_before INTO old_before FROM analytics.prom_fold_state s FOR UPDATE;
    old_before := coalesce(old_before, '-infinity');
    -- Late days whose raw events are gone now (raw_dropped: their rollup
    -- rows are final).
    SELECT coalesce(array_agg(DISTINCT d.d ORDER BY d.d), '{}') INTO late
    FROM unnest(coalesce(dropped, '{}')) AS d(d)
    JOIN analytics.rollup_days rd ON rd.day = d.d AND rd.raw_dropped
    WHERE d.d < old_before;
    IF cardinality(late) > 0 THEN
        -- (read first, then written: on Citus a write into the reference
        -- table must not run the distributed reads inside it)
        SELECT coalesce(jsonb_agg(jsonb_build_object('m', x.metric, 'l', to_jsonb(x.labels), 'v', x.v)), '[]')
        INTO acc
        FROM (SELECT s.metric, s.labels, sum(s.value) AS v
              FROM unnest(late) AS d(d),
                   LATERAL analytics.prom_event_series(d.d::timestamp AT TIME ZONE 'UTC', (d.d + 1)::timestamp AT TIME ZONE 'UTC') s
              GROUP BY s.metric, s.labels) x;
        n := analytics.prom_base_add(acc);
    END IF;
    -- (late days do not hold the fold back: they are read apart)
    new_before := least(raw_cut, coalesce(analytics.prom_first_open_day(old_before), raw_cut));
    IF new_before <= old_before THEN
        RETURN n;
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object('m', x.metric, 'l', to_jsonb(x.labels), 'v', x.v)), '[]')
    INTO acc
    FROM (SELECT s.metric, s.labels, sum(s.value) AS v
          FROM analytics.prom_day_ranges(old_before, new_before, false) r,
               LATERAL analytics.prom_event_series(r.lo::timestamp AT TIME ZONE 'UTC', r.hi::timestamp AT TIME ZONE 'UTC') s
          GROUP BY s.metric, s.labels) x;
    m := analytics.prom_base_add(acc);
    UPDATE analytics.prom_fold_state s SET folded_before = new_before, folded_at = stamp;
    RETURN n + m;
END
$$;
COMMENT ON FUNCTION analytics.prom_fold(date, date[]) IS
    'Folds the Prometheus counters of the days before raw_cut whose raw events are gone (and before every held, changed or unrolled day) into analytics.prom_counter_base and moves prom_fold_state.folded_before past them; late days (before folded_before) among dropped are folded one by one; run_retention calls it in its transaction with the days it dropped; returns the base rows written';

-- registry_circuit_breaker_state{server}: one row per server with a circuit
-- breaker, its current state (0 closed, 1 open, 2 half-open).
CREATE OR REPLACE FUNCTION analytics.prom_circuit_states()
RETURNS TABLE (server text, state smallint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The latest circuit state of every service that recorded one
    -- (record_circuit_state, contract §6.5), by service name: services of
    -- several tenants with one name are one series, open if any is open,
    -- else half-open if any is, else closed.
    RETURN QUERY
    SELECT s.service_name,
           (CASE WHEN bool_or(l.state = 'open') THEN 1 WHEN bool_or(l.state = 'half_open') THEN 2 ELSE 0 END)::smallint
    FROM analytics.services s
    JOIN LATERAL (SELECT c.state FROM analytics.circuit_events c WHERE c.service_id = s.service_id
                  ORDER BY c.at DESC LIMIT 1) l ON true
    GROUP BY s.service_name;
END
$$;
COMMENT ON FUNCTION analytics.prom_circuit_states() IS
    'The source of registry_circuit_breaker_state (contract §6.7): per service name with a recorded circuit state, the latest one, 0 closed, 1 open, 2 half-open (open if any service of that name is open)';

-- registry_webhook_deliveries_total{status,event_type}: cumulative delivery
-- attempts per status and notification event type.  A counter: the totals
-- returned must never go down (a delivery log that is pruned needs a base
-- as prom_counter_base).
CREATE OR REPLACE FUNCTION analytics.prom_webhook_deliveries()
RETURNS TABLE (status text, event_type text, deliveries numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Notifications that reached their end (the outbox of contract §6.6;
    -- its rows are never deleted, and succeeded and failed are final, so
    -- the totals never go down), per status and event type (a series
    -- appears with its first notification).
    RETURN QUERY
    SELECT o.status, o.event_type, count(*)::numeric
    FROM analytics.notification_outbox o
    WHERE o.status IN ('succeeded', 'failed')
    GROUP BY o.status, o.event_type;
END
$$;
COMMENT ON FUNCTION analytics.prom_webhook_deliveries() IS
    'The source of registry_webhook_deliveries_total (contract §6.7): notifications delivered (succeeded) or given up (failed) per event type, from the outbox, whose rows are never deleted (totals never go down)';

-- registry_active_sse_connections: the latest reading of the platform's
-- gauge registry.active_sse_connections (custom metrics, §6.5), NULL when
-- it has none (or its points are past the metric retention).
CREATE OR REPLACE FUNCTION analytics.prom_active_sse_connections()
RETURNS double precision
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT p.value FROM analytics.metric_points p
            WHERE p.tenant_id = analytics.metric_platform_id()
              AND p.metric_name = 'registry.active_sse_connections'
            ORDER BY p.ts DESC, p.ingested_at DESC
            LIMIT 1);
END
$$;
COMMENT ON FUNCTION analytics.prom_active_sse_connections() IS
    'The latest value of the platform gauge registry.active_sse_connections (custom metrics), for registry_active_sse_connections (contract §6.7); NULL when there is no point';
