-------------------------------------------------------------------------------
-- functions/78_ops_costs.sql (layer 78, operator reports): costs (contract
-- §6.4), the typed twins of the analytics_api functions of
-- functions/84_api_costs.sql.
--
--   set_model_price(model, input, output, cached, cache_write,
--                   effective_from, tenant_id)   a new price row; marks the
--                                                days it re-prices
--   model_prices(tenant_id)                      the price history in scope
--   costs(tenant_id, from, to, group_by)         cost_daily / cost_tool_daily / cost_user_daily
--   cost_trend(tenant_id, from, to, granularity, group_by, top)
--
-- Every cost is an exact numeric sum of per-event costs
-- (analytics.priced_events); answers show it rounded to 6 decimals.
-- Re-runnable.
-------------------------------------------------------------------------------

-- A new price row (prices are history: never updated in place).  NULL
-- cached or cache-write prices are the input price.  tenant_id NULL: the
-- global price.  Re-prices what it changes: the rolled days from
-- effective_from until the next row of the same model and scope (up to
-- today) are marked: days whose raw events are held as changed (readers
-- take them from raw at once, the nightly rollup recomputes them), days past
-- raw retention in analytics.reprice_days (the nightly job re-prices their
-- cost rollups from the token sums).  Returns the row and daysMarked.
CREATE OR REPLACE FUNCTION analytics.set_model_price(model text, input_per_million numeric, output_per_million numeric,
                                                     cached_input_per_million numeric DEFAULT NULL,
                                                     cache_write_per_million numeric DEFAULT NULL,
                                                     effective_from timestamptz DEFAULT now(),
                                                     tenant_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m        text := set_model_price.model;
    tid      uuid := set_model_price.tenant_id;
    eff      timestamptz := coalesce(set_model_price.effective_from, now());
    cached   numeric := coalesce(cached_input_per_million, input_per_million);
    cwrite   numeric := coalesce(cache_write_per_million, input_per_million);
    stamp    timestamptz := now();
    today    date := analytics.utc_today();
    next_eff timestamptz;
    id       bigint;
    held     date[];
    dropped  date[];
BEGIN
    IF m IS NULL OR length(m) < 1 OR length(m) > 256 THEN
        RAISE EXCEPTION 'model must be 1 to 256 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF input_per_million IS NULL OR output_per_million IS NULL THEN
        RAISE EXCEPTION 'the input and output prices are required' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF eff = 'infinity' THEN
        RAISE EXCEPTION 'effective_from must be an instant' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF tid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM analytics.tenants t WHERE t.tenant_id = tid) THEN
        RAISE EXCEPTION 'unknown tenant %', tid USING ERRCODE = 'foreign_key_violation';
    END IF;
    INSERT INTO analytics.model_prices AS p
        (model, input_usd_per_mtok, output_usd_per_mtok, updated_at, tenant_id, effective_from, currency,
         cached_input_usd_per_mtok, cache_write_usd_per_mtok)
    VALUES (m, input_per_million, output_per_million, stamp, tid, eff, 'USD', cached, cwrite)
    RETURNING p.price_id INTO id;
    PERFORM analytics.refresh_price_spans();
    -- The instants this row prices: [eff, the next row of the scope).
    SELECT min(p.effective_from) INTO next_eff
    FROM analytics.model_prices p
    WHERE p.model = m AND p.tenant_id IS NOT DISTINCT FROM tid AND p.effective_from > eff;
    IF eff <= stamp THEN
        SELECT coalesce(array_agg(r.day ORDER BY r.day) FILTER (WHERE NOT r.raw_dropped), '{}'),
               coalesce(array_agg(r.day ORDER BY r.day) FILTER (WHERE r.raw_dropped), '{}')
        INTO held, dropped
        FROM analytics.rollup_days r
        WHERE r.day >= (eff AT TIME ZONE 'UTC')::date
          AND r.day <= least(today, ((coalesce(next_eff, 'infinity') - interval '1 microsecond') AT TIME ZONE 'UTC')::date);
        IF cardinality(held) > 0 THEN
            PERFORM analytics.mark_days_changed(held);
        END IF;
        INSERT INTO analytics.reprice_days AS r (day, marked_at)
        SELECT d, stamp FROM unnest(dropped) d
        ON CONFLICT ON CONSTRAINT reprice_days_pkey DO NOTHING;
    ELSE
        held := '{}';
        dropped := '{}';
    END IF;
    RETURN jsonb_build_object(
        'priceId', id,
        'model', m,
        'tenantId', tid,
        'effectiveFrom', CASE WHEN eff = '-infinity' THEN NULL ELSE analytics.utc_text(eff) END,
        'currency', 'USD',
        'inputPerMillion', input_per_million,
        'cachedInputPerMillion', cached,
        'cacheWritePerMillion', cwrite,
        'outputPerMillion', output_per_million,
        'daysMarked', cardinality(held) + cardinality(dropped));
END
$$;
COMMENT ON FUNCTION analytics.set_model_price(text, numeric, numeric, numeric, numeric, timestamptz, uuid) IS
    'Adds a price row (USD per million input, output, cached-input and cache-write tokens; the last two default to the input price) in force from effective_from, global (tenant_id NULL) or a tenant''s; marks the rolled days it re-prices (held days as changed, days past raw retention in reprice_days) and returns the row with daysMarked (contract §6.4)';

-- The price rows a scope sees: a tenant its own and the global ones, NULL
-- every row; newest first per model, with effectiveTo (the next row's
-- effectiveFrom) and inForce.
CREATE OR REPLACE FUNCTION analytics.model_prices(tenant_id uuid DEFAULT NULL, all_tenants boolean DEFAULT true)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tid    uuid := model_prices.tenant_id;
    now_ts timestamptz := now();
    result jsonb;
BEGIN
    SELECT jsonb_build_object(
        'tenantId', tid,
        'currency', 'USD',
        'data', coalesce(jsonb_agg(jsonb_build_object(
            'priceId', s.price_id,
            'model', s.model,
            'tenantId', s.tenant_id,
            'effectiveFrom', CASE WHEN s.valid_from = '-infinity' THEN NULL ELSE analytics.utc_text(s.valid_from) END,
            'effectiveTo', CASE WHEN s.valid_to = 'infinity' THEN NULL ELSE analytics.utc_text(s.valid_to) END,
            'inForce', s.valid_from <= now_ts AND now_ts < s.valid_to,
            'inputPerMillion', s.input_usd_per_mtok,
            'cachedInputPerMillion', s.cached_input_usd_per_mtok,
            'cacheWritePerMillion', s.cache_write_usd_per_mtok,
            'outputPerMillion', s.output_usd_per_mtok)
            ORDER BY s.model, s.tenant_id NULLS FIRST, s.valid_from DESC), '[]'))
    INTO result
    FROM analytics.price_spans s
    WHERE s.tenant_id IS NULL OR (tid IS NULL AND all_tenants) OR s.tenant_id = tid;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.model_prices(uuid, boolean) IS
    'The price history a scope sees (tenant_id: the global rows and the tenant''s own; NULL with all_tenants: every row): per row model, tenantId, effectiveFrom/effectiveTo (null: unbounded), inForce and the four prices, by model, global first, newest first (contract §6.4)';

-- The llm_calls of a scope and window grouped by the key of group_by
-- (agent, tenant, user, mcp_server, tool, model, day) and, with a
-- granularity, by bucket (date_trunc of the UTC day; NULL without): calls,
-- the four token counts, cost (exact), unpriced calls and tokens.  The rows
-- of the family (cost_daily; cost_tool_daily for tool and mcp_server,
-- cost_user_daily for user) are grouped in the
-- statement that reads them (analytics.read_family_sql).  A helper of costs
-- and cost_trend.
CREATE OR REPLACE FUNCTION analytics.cost_groups(tenant_id uuid, "from" timestamptz, "to" timestamptz, group_by text,
                                                 granularity text DEFAULT NULL)
RETURNS TABLE (key text, bucket timestamptz, llm_calls bigint, input_tokens numeric, cached_input_tokens numeric,
               cache_write_tokens numeric, output_tokens numeric, cost_usd numeric, unpriced_calls bigint,
               unpriced_tokens numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    keyx text;
BEGIN
    IF group_by IS NULL OR group_by NOT IN ('agent', 'tenant', 'user', 'mcp_server', 'tool', 'model', 'day') THEN
        RAISE EXCEPTION 'invalid group_by "%"', group_by USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF granularity IS NOT NULL AND granularity NOT IN ('day', 'week', 'month') THEN
        RAISE EXCEPTION 'invalid granularity "%"', granularity USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (grouped by the column itself, made text once per group)
    keyx := CASE WHEN group_by = 'agent' THEN 'c.agent_id' WHEN group_by = 'tenant' THEN 'c.tenant_id'
                 WHEN group_by = 'user' THEN 'c.user_id' WHEN group_by = 'model' THEN 'c.model'
                 WHEN group_by = 'tool' THEN 'c.tool_name' WHEN group_by = 'mcp_server' THEN 'c.mcp_server'
                 ELSE 'c.bucket' END;
    RETURN QUERY EXECUTE format(
        'SELECT %s, g.b, g.n, g.i, g.ci, g.cw, g.o, g.cost, g.un, g.ut '
        'FROM (SELECT %s AS k, %s AS b, sum(c.llm_calls)::bigint AS n, sum(c.input_tokens) AS i, '
        '             sum(c.cached_input_tokens) AS ci, sum(c.cache_write_tokens) AS cw, sum(c.output_tokens) AS o, '
        '             sum(c.cost_usd) AS cost, sum(c.unpriced_calls)::bigint AS un, sum(c.unpriced_tokens) AS ut '
        '      FROM (%s) c GROUP BY 1, 2) g',
        CASE WHEN group_by = 'day' THEN 'to_char(g.k AT TIME ZONE ''UTC'', ''YYYY-MM-DD'')' ELSE 'g.k::text' END,
        keyx,
        CASE WHEN granularity IS NULL THEN 'NULL::timestamptz'
             ELSE format('date_trunc(%L, c.bucket AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC''', granularity) END,
        analytics.read_family_sql(CASE WHEN group_by = 'user' THEN 'cost_user_daily'
                                       WHEN group_by IN ('tool', 'mcp_server') THEN 'cost_tool_daily' ELSE 'cost_daily' END,
                                  tenant_id, "from", "to"));
END
$$;
COMMENT ON FUNCTION analytics.cost_groups(uuid, timestamptz, timestamptz, text, text) IS
    'The cost rollup rows (cost_daily; cost_tool_daily for group_by tool and mcp_server, cost_user_daily for user) of a tenant (NULL: all) in [from, to) grouped by the group key as text and, with a granularity (day, week, month), by bucket: a helper of costs and cost_trend';

-- The label of a cost group key: agent and tenant names, else the key.
CREATE OR REPLACE FUNCTION analytics.cost_labels(group_by text, keys text[])
RETURNS TABLE (key text, label text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF group_by = 'agent' THEN
        RETURN QUERY SELECT k, coalesce(a.name, k) FROM unnest(keys) k
                     LEFT JOIN analytics.agents a ON a.agent_id = k::uuid;
    ELSIF group_by = 'tenant' THEN
        RETURN QUERY SELECT k, coalesce(t.name, k) FROM unnest(keys) k
                     LEFT JOIN analytics.tenants t ON t.tenant_id = k::uuid;
    ELSE
        RETURN QUERY SELECT k, k FROM unnest(keys) k;
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.cost_labels(text, text[]) IS
    'Labels of cost group keys: the agent''s or tenant''s name for group_by agent or tenant, else the key itself';

CREATE OR REPLACE FUNCTION analytics.costs(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                           group_by text DEFAULT 'agent')
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid    uuid := costs.tenant_id;
    gb     text := costs.group_by;
    totals jsonb;
    rows   jsonb;
    result jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    IF gb IS NULL OR gb NOT IN ('agent', 'tenant', 'user', 'mcp_server', 'tool', 'model', 'day') THEN
        RAISE EXCEPTION 'invalid group_by "%"', gb
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use agent, tenant, user, mcp_server, tool, model or day.';
    END IF;
    WITH g AS (
        SELECT c.key, sum(c.llm_calls)::bigint AS llm_calls, sum(c.input_tokens) AS input_tokens,
               sum(c.cached_input_tokens) AS cached_input_tokens, sum(c.cache_write_tokens) AS cache_write_tokens,
               sum(c.output_tokens) AS output_tokens, sum(c.cost_usd) AS cost_usd,
               sum(c.unpriced_calls)::bigint AS unpriced_calls, sum(c.unpriced_tokens) AS unpriced_tokens
        FROM analytics.cost_groups(tid, "from", "to", gb) c
        GROUP BY c.key),
    tot AS (
        SELECT coalesce(sum(g.cost_usd), 0) AS cost_usd, coalesce(sum(g.llm_calls), 0)::bigint AS llm_calls,
               coalesce(sum(g.input_tokens), 0) AS input_tokens, coalesce(sum(g.cached_input_tokens), 0) AS cached_input_tokens,
               coalesce(sum(g.cache_write_tokens), 0) AS cache_write_tokens, coalesce(sum(g.output_tokens), 0) AS output_tokens,
               coalesce(sum(g.unpriced_calls), 0)::bigint AS unpriced_calls, coalesce(sum(g.unpriced_tokens), 0) AS unpriced_tokens
        FROM g)
    SELECT jsonb_build_object(
               'costUsd', round(tot.cost_usd, 6), 'llmCalls', tot.llm_calls, 'inputTokens', tot.input_tokens,
               'cachedInputTokens', tot.cached_input_tokens, 'cacheWriteTokens', tot.cache_write_tokens,
               'outputTokens', tot.output_tokens, 'unpricedCalls', tot.unpriced_calls,
               'unpricedTokens', tot.unpriced_tokens),
           coalesce((SELECT jsonb_agg(jsonb_build_object(
                   'key', g.key, 'costUsd', round(g.cost_usd, 6), 'llmCalls', g.llm_calls,
                   'inputTokens', g.input_tokens, 'cachedInputTokens', g.cached_input_tokens,
                   'cacheWriteTokens', g.cache_write_tokens, 'outputTokens', g.output_tokens,
                   'unpricedCalls', g.unpriced_calls, 'unpricedTokens', g.unpriced_tokens,
                   'share', analytics.ratio(g.cost_usd, tot.cost_usd))
                   ORDER BY g.cost_usd DESC, g.llm_calls DESC, g.key NULLS LAST) FROM g), '[]')
    INTO totals, rows
    FROM tot;
    -- Labels (names) in a statement of their own: registries, not events.
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'groupBy', gb,
        'currency', 'USD',
        'totals', totals,
        'data', coalesce(jsonb_agg(jsonb_build_object('key', r.o -> 'key', 'label', l.label) || (r.o - 'key') ORDER BY r.i), '[]'))
    INTO result
    FROM jsonb_array_elements(rows) WITH ORDINALITY r(o, i)
    LEFT JOIN analytics.cost_labels(gb, ARRAY(SELECT x ->> 'key' FROM jsonb_array_elements(rows) x)) l
           ON l.key IS NOT DISTINCT FROM r.o ->> 'key';
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.costs(uuid, timestamptz, timestamptz, text) IS
    'LLM costs of a tenant (NULL: every tenant) over [from, to) grouped by agent, tenant, user, mcp_server, tool, model or day: totals and per group key, label, costUsd (exact, shown with 6 decimals), llmCalls, the four token counts, unpricedCalls, unpricedTokens, share of the cost; most cost first (contract §6.4 costs)';

-- The llm_calls of a scope per UTC hour of [from, to) from the raw events
-- (cost_trend's hour buckets; windows of at most 7 days), keyed as
-- cost_groups (agent, tenant, model; none: NULL).  Nothing when from is NULL.
CREATE OR REPLACE FUNCTION analytics.cost_hours(tenant_id uuid, "from" timestamptz, "to" timestamptz, group_by text)
RETURNS TABLE (key text, bucket timestamptz, llm_calls bigint, cost_usd numeric, unpriced_calls bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- (its dynamic SQL writes instants with %L: in ISO they carry a numeric
-- offset, where SQL or Postgres style writes an abbreviation that the
-- default set may read as another zone, IST for one)
SET datestyle = 'ISO, YMD'
SET jit = off
AS $$
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RETURN;
    END IF;
    IF group_by IS NULL OR group_by NOT IN ('none', 'agent', 'tenant', 'model') THEN
        RAISE EXCEPTION 'invalid group_by "%"', group_by USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (literals: a router query on Citus for one tenant)
    RETURN QUERY EXECUTE format(
        'SELECT %s, date_trunc(''hour'', e.occurred_at AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC'', '
        '       sum(e.count)::bigint, coalesce(sum(e.cost_usd), 0)::numeric, '
        '       coalesce(sum(e.count) FILTER (WHERE NOT e.priced), 0)::bigint '
        'FROM analytics.priced_events e '
        'WHERE e.event_type = ''llm_call'' AND e.occurred_at >= %L AND e.occurred_at < %L%s '
        'GROUP BY 1, 2',
        CASE WHEN group_by = 'agent' THEN 'e.agent_id::text' WHEN group_by = 'tenant' THEN 'e.tenant_id::text'
             WHEN group_by = 'model' THEN 'e.model' ELSE 'NULL::text' END,
        "from", "to",
        CASE WHEN tenant_id IS NULL THEN '' ELSE format(' AND e.tenant_id = %L', tenant_id) END);
END
$$;
COMMENT ON FUNCTION analytics.cost_hours(uuid, timestamptz, timestamptz, text) IS
    'The llm_calls of a tenant (NULL: all) per UTC hour of [from, to) from the raw events, keyed by agent, tenant or model (none: NULL): calls, exact cost, unpriced calls; a helper of cost_trend';

CREATE OR REPLACE FUNCTION analytics.cost_trend(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                                granularity text DEFAULT 'day', group_by text DEFAULT 'none',
                                                top integer DEFAULT 5)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tid     uuid := cost_trend.tenant_id;
    gran    text := cost_trend.granularity;
    gb      text := cost_trend.group_by;
    n_top   integer := cost_trend.top;
    hourly  boolean;
    keys    jsonb;
    series  jsonb;
    result  jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to"
            USING ERRCODE = 'invalid_parameter_value', HINT = 'from and to are non-NULL and from <= to.';
    END IF;
    IF gran IS NULL OR gran NOT IN ('hour', 'day', 'week', 'month') THEN
        RAISE EXCEPTION 'invalid granularity "%"', gran
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use hour, day, week or month.';
    END IF;
    IF gran = 'hour' AND "to" - "from" > interval '7 days 1 microsecond' THEN
        RAISE EXCEPTION 'granularity hour is for windows of at most 7 days'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use day, week or month.';
    END IF;
    IF gb IS NULL OR gb NOT IN ('none', 'agent', 'tenant', 'model') THEN
        RAISE EXCEPTION 'invalid group_by "%"', gb
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use none, agent, tenant or model.';
    END IF;
    IF n_top IS NULL OR n_top < 1 OR n_top > 20 THEN
        RAISE EXCEPTION 'top must be between 1 and 20' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    hourly := gran = 'hour';
    -- Hour buckets from the raw events, the others from the cost rollups
    -- (the source not wanted gets no window and returns nothing).
    WITH r AS MATERIALIZED (
        SELECT x.key, x.bucket AS b, x.llm_calls AS n, x.cost_usd AS c, x.unpriced_calls AS u
        FROM analytics.cost_hours(tid, CASE WHEN hourly THEN "from" END, "to", gb) x
        UNION ALL
        SELECT CASE WHEN gb = 'none' THEN NULL ELSE c.key END, c.bucket, c.llm_calls, c.cost_usd, c.unpriced_calls
        FROM analytics.cost_groups(tid, CASE WHEN NOT hourly THEN "from" END, "to",
                                   CASE WHEN gb = 'none' THEN 'model' ELSE gb END,
                                   CASE WHEN hourly THEN 'day' ELSE gran END) c),
    -- The top series by cost over the window; the rest is "other".
    ki AS (
        SELECT t.key, row_number() OVER (ORDER BY t.cost DESC, t.key NULLS LAST) AS i
        FROM (SELECT r.key, sum(r.c) AS cost FROM r WHERE gb <> 'none'
              GROUP BY r.key ORDER BY 2 DESC, 1 NULLS LAST LIMIT n_top) t),
    b AS (SELECT w.bucket, w.label FROM analytics.window_buckets("from", "to", gran) w),
    per AS (
        SELECT b.bucket, b.label, coalesce(sum(r.n), 0)::bigint AS llm_calls, coalesce(sum(r.c), 0) AS cost_usd,
               coalesce(sum(r.u), 0)::bigint AS unpriced_calls
        FROM b LEFT JOIN r ON r.b = b.bucket
        GROUP BY b.bucket, b.label),
    cell AS (
        SELECT b.bucket, ki.i, ki.key, coalesce(sum(r.c), 0) AS c
        FROM b CROSS JOIN ki LEFT JOIN r ON r.b = b.bucket AND r.key IS NOT DISTINCT FROM ki.key
        GROUP BY b.bucket, ki.i, ki.key),
    ser AS (
        SELECT cell.bucket, jsonb_agg(jsonb_build_object('key', cell.key, 'costUsd', round(cell.c, 6)) ORDER BY cell.i) AS s
        FROM cell GROUP BY cell.bucket),
    oth AS (
        SELECT b.bucket, coalesce(sum(r.c), 0) AS c
        FROM b LEFT JOIN r ON r.b = b.bucket AND NOT EXISTS (SELECT 1 FROM ki WHERE ki.key IS NOT DISTINCT FROM r.key)
        GROUP BY b.bucket)
    SELECT jsonb_build_object(
        'tenantId', tid,
        'period', analytics.window_json("from", "to"),
        'granularity', gran,
        'groupBy', gb,
        'top', n_top,
        'currency', 'USD',
        'buckets', coalesce(jsonb_agg(jsonb_build_object(
            'bucket', CASE WHEN hourly THEN analytics.utc_text(per.label)
                           ELSE to_char(per.label AT TIME ZONE 'UTC', 'YYYY-MM-DD') END,
            'costUsd', round(per.cost_usd, 6),
            'llmCalls', per.llm_calls,
            'unpricedCalls', per.unpriced_calls)
            || CASE WHEN gb = 'none' THEN '{}'::jsonb
                    ELSE jsonb_build_object('series', coalesce(ser.s, '[]'), 'other', round(coalesce(oth.c, 0), 6)) END
            ORDER BY per.bucket), '[]')),
           (SELECT coalesce(jsonb_agg(to_jsonb(ki.key) ORDER BY ki.i), '[]') FROM ki)
    INTO result, keys
    FROM per LEFT JOIN ser ON ser.bucket = per.bucket LEFT JOIN oth ON oth.bucket = per.bucket;
    -- Labels (names) in a statement of their own: registries, not events.
    SELECT coalesce(jsonb_agg(jsonb_build_object('key', k.k, 'label', l.label) ORDER BY k.i), '[]')
    INTO series
    FROM jsonb_array_elements_text(keys) WITH ORDINALITY k(k, i)
    LEFT JOIN analytics.cost_labels(gb, ARRAY(SELECT jsonb_array_elements_text(keys))) l ON l.key IS NOT DISTINCT FROM k.k;
    RETURN result || jsonb_build_object('series', series);
END
$$;
COMMENT ON FUNCTION analytics.cost_trend(uuid, timestamptz, timestamptz, text, text, integer) IS
    'LLM cost of a tenant (NULL: every tenant) per bucket of [from, to) (hour for windows up to 7 days, day, ISO week, month; every bucket, zero-filled, oldest first): costUsd, llmCalls, unpricedCalls, and for group_by agent, tenant or model the top series by cost over the window (series: key, label) with each bucket''s cost per series and the rest as other (contract §6.4 cost_trend)';
