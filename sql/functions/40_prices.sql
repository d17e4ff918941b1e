-------------------------------------------------------------------------------
-- functions/40_prices.sql (layer 40, rollups): the price of every event
-- (contract §6.4).  analytics.model_prices is a history; its spans
-- (analytics.price_spans) say which row is in force at an instant, and
-- analytics.priced_events gives every event the cost of the row in force at
-- its occurred_at: a tenant's own row beats the global one.  The rollup
-- families and the readers that show costs read events through it, so
-- every answer prices an event alike.  Re-runnable.
-------------------------------------------------------------------------------

-- Rebuild analytics.price_spans from analytics.model_prices when they
-- differ (a few rows: compared whole).  Returns whether it changed them.
-- set_model_price calls it; the nightly and minute jobs too, for rows
-- written into model_prices directly.
CREATE OR REPLACE FUNCTION analytics.refresh_price_spans()
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stale boolean;
BEGIN
    -- (one refresher at a time; readers keep reading the old spans)
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analytics.refresh_price_spans'));
    WITH want AS (
        SELECT p.model, p.tenant_id, p.effective_from AS valid_from,
               coalesce(lead(p.effective_from) OVER (PARTITION BY p.model, p.tenant_id ORDER BY p.effective_from),
                        'infinity'::timestamptz) AS valid_to,
               p.price_id, p.input_usd_per_mtok,
               coalesce(p.cached_input_usd_per_mtok, p.input_usd_per_mtok) AS cached_input_usd_per_mtok,
               coalesce(p.cache_write_usd_per_mtok, p.input_usd_per_mtok) AS cache_write_usd_per_mtok,
               p.output_usd_per_mtok
        FROM analytics.model_prices p),
    have AS (
        SELECT s.model, s.tenant_id, s.valid_from, s.valid_to, s.price_id, s.input_usd_per_mtok,
               s.cached_input_usd_per_mtok, s.cache_write_usd_per_mtok, s.output_usd_per_mtok
        FROM analytics.price_spans s)
    SELECT EXISTS (SELECT * FROM want EXCEPT SELECT * FROM have)
        OR EXISTS (SELECT * FROM have EXCEPT SELECT * FROM want)
    INTO stale;
    IF NOT stale THEN
        RETURN false;
    END IF;
    DELETE FROM analytics.price_spans;
    INSERT INTO analytics.price_spans
        (model, tenant_id, valid_from, valid_to, price_id, input_usd_per_mtok, cached_input_usd_per_mtok,
         cache_write_usd_per_mtok, output_usd_per_mtok)
    SELECT p.model, p.tenant_id, p.effective_from,
           coalesce(lead(p.effective_from) OVER (PARTITION BY p.model, p.tenant_id ORDER BY p.effective_from),
                    'infinity'::timestamptz),
           p.price_id, p.input_usd_per_mtok, coalesce(p.cached_input_usd_per_mtok, p.input_usd_per_mtok),
           coalesce(p.cache_write_usd_per_mtok, p.input_usd_per_mtok), p.output_usd_per_mtok
    FROM analytics.model_prices p;
    RETURN true;
END
$$;
COMMENT ON FUNCTION analytics.refresh_price_spans() IS
    'Rebuilds analytics.price_spans from analytics.model_prices when they differ (set_model_price and the jobs call it; call it after writing model_prices directly); returns whether anything changed';

-- Every event with its price: price_id (the model_prices row in force at
-- occurred_at: the tenant's own, else the global one; NULL: none), priced,
-- and for an llm_call its exact cost in USD,
--   ((input - cached - cache-write) x input price + cached x cached price
--    + cache-write x cache-write price + output x output price) / 10^6
-- (multiplied by 0.000001, which numeric does exactly: no rounding
-- anywhere, so sums over any grouping agree to the last digit); NULL for
-- other events and for an unpriced llm_call.  A plain join view: a
-- condition on e's columns reaches the partitions (and on Citus the shards,
-- price_spans being a reference table).
CREATE OR REPLACE VIEW analytics.priced_events AS
SELECT e.tenant_id, e.agent_id, e.occurred_at, e.event_type, e.success, e.count, e.endpoint, e.method,
       e.status_code, e.tool_name, e.mcp_server, e.model, e.input_tokens, e.output_tokens, e.latency_ms,
       e.error_code, e.session_id, e.user_id, e.workflow_id, e.execution_id, e.ingested_at,
       e.cached_input_tokens, e.cache_write_tokens, e.workflow_type,
       coalesce(tp.price_id, gp.price_id) AS price_id,
       (tp.price_id IS NOT NULL OR gp.price_id IS NOT NULL) AS priced,
       CASE WHEN e.event_type = 'llm_call' THEN
           ((coalesce(e.input_tokens, 0) - coalesce(e.cached_input_tokens, 0) - coalesce(e.cache_write_tokens, 0))
                * coalesce(tp.input_usd_per_mtok, gp.input_usd_per_mtok)
            + coalesce(e.cached_input_tokens, 0) * coalesce(tp.cached_input_usd_per_mtok, gp.cached_input_usd_per_mtok)
            + coalesce(e.cache_write_tokens, 0) * coalesce(tp.cache_write_usd_per_mtok, gp.cache_write_usd_per_mtok)
            + coalesce(e.output_tokens, 0) * coalesce(tp.output_usd_per_mtok, gp.output_usd_per_mtok)) * 0.000001
       END AS cost_usd
FROM analytics.usage_events e
LEFT JOIN analytics.price_spans tp
       ON tp.model = e.model AND tp.tenant_id = e.tenant_id
      AND tp.valid_from <= e.occurred_at AND e.occurred_at < tp.valid_to
LEFT JOIN analytics.price_spans gp
       ON gp.model = e.model AND gp.tenant_id IS NULL
      AND gp.valid_from <= e.occurred_at AND e.occurred_at < gp.valid_to;
COMMENT ON VIEW analytics.priced_events IS
    'usage_events with the price in force at each event (the tenant''s own row, else the global one): price_id, priced, and cost_usd for an llm_call (exact; NULL when unpriced or not an llm_call)';
REVOKE ALL ON analytics.priced_events FROM PUBLIC;

-- Re-price one day past raw retention from its daily token sums: the cost
-- rollups (cost_daily, cost_tool_daily, cost_user_daily) of the day at the prices in force
-- at the day's start (its raw events, which could tell the instant of each
-- call, are gone).  Returns the rows changed.  The nightly job runs it for
-- the days set_model_price marked (analytics.reprice_days).
CREATE OR REPLACE FUNCTION analytics.reprice_day(day date)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    at   timestamptz := day::timestamp AT TIME ZONE 'UTC';
    n     bigint;
    total bigint := 0;
    fam   text;
BEGIN
    IF day IS NULL THEN
        RAISE EXCEPTION 'day is required' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOREACH fam IN ARRAY ARRAY['cost_daily', 'cost_tool_daily', 'cost_user_daily'] LOOP
        -- Costs from the token sums; unpriced when no row is in force
        -- (literal instants: nothing evaluated per shard on Citus).
        EXECUTE format($q$
            UPDATE analytics.%1$I c
            SET cost_usd = coalesce(((c.input_tokens - c.cached_input_tokens - c.cache_write_tokens) * x.pin
                                     + c.cached_input_tokens * x.pcached + c.cache_write_tokens * x.pwrite
                                     + c.output_tokens * x.pout) * 0.000001, 0),
                unpriced_calls = CASE WHEN x.pin IS NULL THEN c.llm_calls ELSE 0 END,
                unpriced_tokens = CASE WHEN x.pin IS NULL THEN c.input_tokens + c.output_tokens ELSE 0 END
            FROM (SELECT k.tenant_id, k.model,
                         coalesce(tp.input_usd_per_mtok, gp.input_usd_per_mtok) AS pin,
                         coalesce(tp.cached_input_usd_per_mtok, gp.cached_input_usd_per_mtok) AS pcached,
                         coalesce(tp.cache_write_usd_per_mtok, gp.cache_write_usd_per_mtok) AS pwrite,
                         coalesce(tp.output_usd_per_mtok, gp.output_usd_per_mtok) AS pout
                  FROM (SELECT DISTINCT c2.tenant_id, c2.model FROM analytics.%1$I c2 WHERE c2.bucket = %2$L::timestamptz) k
                  LEFT JOIN analytics.price_spans tp ON tp.model = k.model AND tp.tenant_id = k.tenant_id
                        AND tp.valid_from <= %2$L::timestamptz AND %2$L::timestamptz < tp.valid_to
                  LEFT JOIN analytics.price_spans gp ON gp.model = k.model AND gp.tenant_id IS NULL
                        AND gp.valid_from <= %2$L::timestamptz AND %2$L::timestamptz < gp.valid_to) x
            WHERE c.bucket = %2$L::timestamptz AND c.tenant_id = x.tenant_id AND c.model IS NOT DISTINCT FROM x.model
              AND (c.cost_usd, c.unpriced_calls, c.unpriced_tokens) IS DISTINCT FROM
                  (coalesce(((c.input_tokens - c.cached_input_tokens - c.cache_write_tokens) * x.pin
                             + c.cached_input_tokens * x.pcached + c.cache_write_tokens * x.pwrite
                             + c.output_tokens * x.pout) * 0.000001, 0),
                   CASE WHEN x.pin IS NULL THEN c.llm_calls ELSE 0 END,
                   CASE WHEN x.pin IS NULL THEN c.input_tokens + c.output_tokens ELSE 0 END) $q$, fam, at);
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION analytics.reprice_day(date) IS
    'Re-prices a day past raw retention: the cost rollups (cost_daily, cost_tool_daily, cost_user_daily) from their token sums at the prices in force at the day''s start; returns the rows changed';

-- The spans follow the prices at every install and update.
SELECT analytics.refresh_price_spans();
