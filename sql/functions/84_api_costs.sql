-------------------------------------------------------------------------------
-- functions/84_api_costs.sql (layer 84, the HTTP layer): the analytics_api
-- functions of contract §6.4, costs (typed twins in functions/78_ops_costs.sql).
--
-- Reads: analytics.http_scope, then analytics.http_window (default 30d),
-- then their own parameters (400 INVALID_GROUP_BY, INVALID_GRANULARITY,
-- VALIDATION_ERROR naming the field).  set_model_price is a write:
-- analytics.http_write_scope (a tenant sets its own negotiated price, free
-- tier included; an operator the global one, or a tenant's by tenantId).
-- Every parameter is text, parsed here.  Re-runnable.
-------------------------------------------------------------------------------

-- A price parameter: a decimal number of USD per million tokens, 0 to
-- 1,000,000 with at most 6 decimals (a JSON number or a string); NULL
-- stays NULL.  Else 400 VALIDATION_ERROR naming the field.
CREATE OR REPLACE FUNCTION analytics.http_price(value text, name text)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v numeric;
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    IF length(value) <= 32 AND value ~ '^[0-9]{1,7}(\.[0-9]{1,6})?$' THEN
        v := value::numeric;
        IF v <= 1000000 THEN
            RETURN v;
        END IF;
    END IF;
    PERFORM analytics.http_error(400, 'VALIDATION_ERROR',
        format('%s must be a number of USD per million tokens from 0 to 1000000 with at most 6 decimals', name));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.http_price(text, text) IS
    'Parses a price parameter (USD per million tokens, 0 to 1000000, at most 6 decimals); else 400 VALIDATION_ERROR naming it';

CREATE OR REPLACE FUNCTION analytics_api.set_model_price(model text DEFAULT NULL, "inputPerMillion" text DEFAULT NULL,
                                                         "outputPerMillion" text DEFAULT NULL,
                                                         "cachedInputPerMillion" text DEFAULT NULL,
                                                         "cacheWritePerMillion" text DEFAULT NULL,
                                                         "effectiveFrom" text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s     record := analytics.http_write_scope("tenantId");
    p_in  numeric;
    p_out numeric;
    p_ca  numeric;
    p_cw  numeric;
    eff   timestamptz;
BEGIN
    IF model IS NULL OR length(model) < 1 OR length(model) > 256 OR model ~ '[[:cntrl:]]' THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'model must be 1 to 256 characters without control characters');
    END IF;
    IF "inputPerMillion" IS NULL THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'inputPerMillion is required');
    END IF;
    IF "outputPerMillion" IS NULL THEN
        PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'outputPerMillion is required');
    END IF;
    p_in := analytics.http_price("inputPerMillion", 'inputPerMillion');
    p_out := analytics.http_price("outputPerMillion", 'outputPerMillion');
    p_ca := analytics.http_price("cachedInputPerMillion", 'cachedInputPerMillion');
    p_cw := analytics.http_price("cacheWritePerMillion", 'cacheWritePerMillion');
    IF "effectiveFrom" IS NULL THEN
        eff := now();
    ELSE
        BEGIN
            eff := (analytics.http_parse_instant("effectiveFrom", 'effectiveFrom')).ts;
        EXCEPTION WHEN others THEN
            eff := NULL;
        END;
        IF eff IS NULL OR eff < '2000-01-01 00:00:00+00' OR eff > now() + interval '366 days' THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR',
                'effectiveFrom must be a date YYYY-MM-DD or an RFC 3339 timestamp from 2000-01-01 to a year from now');
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM analytics.model_prices p
               WHERE p.model = set_model_price.model AND p.tenant_id IS NOT DISTINCT FROM s.tenant_id
                 AND p.effective_from = eff) THEN
        PERFORM analytics.http_error(409, 'CONFLICT', 'a price of this model and scope already starts at effectiveFrom');
    END IF;
    RETURN analytics.set_model_price(model, p_in, p_out, p_ca, p_cw, eff, s.tenant_id);
END
$$;
COMMENT ON FUNCTION analytics_api.set_model_price(text, text, text, text, text, text, text) IS
    'POST /api/v1/analytics/costs/prices (or /rpc/set_model_price): adds a model price (USD per million input, output, cached-input, cache-write tokens; the last two default to the input price) from effectiveFrom (default now); a tenant token sets its own negotiated price, an operator token the global one or, with tenantId, a tenant''s; returns the row and daysMarked (the days re-priced by the next rollup). Errors: 400 VALIDATION_ERROR, 403 FORBIDDEN, 404 TENANT_NOT_FOUND, 409 CONFLICT (contract §6.4)';

CREATE OR REPLACE FUNCTION analytics_api.model_prices("tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
BEGIN
    RETURN analytics.model_prices(s.tenant_id, s.operator AND s.tenant_id IS NULL);
END
$$;
COMMENT ON FUNCTION analytics_api.model_prices(text) IS
    'GET /api/v1/analytics/costs/prices: the price history in scope (a tenant: the global rows and its own; an operator: every row, or the global rows and one tenant''s with tenantId), with effectiveFrom, effectiveTo, inForce (contract §6.4)';

CREATE OR REPLACE FUNCTION analytics_api.costs(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                               group_by text DEFAULT NULL,
                                               "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                               start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s  record := analytics.http_scope("tenantId");
    w  record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    gb text := coalesce(group_by, 'agent');
BEGIN
    IF length(gb) > 16 OR gb NOT IN ('agent', 'tenant', 'user', 'mcp_server', 'tool', 'model', 'day') THEN
        PERFORM analytics.http_error(400, 'INVALID_GROUP_BY',
            'group_by must be agent, tenant, user, mcp_server, tool, model or day');
    END IF;
    RETURN analytics.costs(s.tenant_id, w.from_ts, w.to_ts, gb);
END
$$;
COMMENT ON FUNCTION analytics_api.costs(text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/costs?period=30d&group_by=agent: LLM costs (exact, 6 decimals) with totals and per group (agent, tenant, user, mcp_server, tool, model, day): key, label, costUsd, llmCalls, tokens, unpricedCalls, share; most cost first; default 30d, agent. Errors: 400 INVALID_PERIOD, INVALID_DATE_RANGE, INVALID_GROUP_BY, 403 FORBIDDEN, 404 TENANT_NOT_FOUND (contract §6.4)';

CREATE OR REPLACE FUNCTION analytics_api.cost_trend(period text DEFAULT NULL, "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                    granularity text DEFAULT NULL, group_by text DEFAULT NULL,
                                                    top text DEFAULT NULL,
                                                    "tenantId" text DEFAULT NULL, days text DEFAULT NULL, hours text DEFAULT NULL,
                                                    start_date text DEFAULT NULL, end_date text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s    record := analytics.http_scope("tenantId");
    w    record := analytics.http_window(period, "from", "to", days, hours, start_date, end_date, '30d');
    gran text := analytics.http_granularity(granularity, w.from_ts, w.to_ts);
    gb   text := coalesce(group_by, 'none');
    n    integer := 5;
BEGIN
    IF length(gb) > 16 OR gb NOT IN ('none', 'agent', 'tenant', 'model') THEN
        PERFORM analytics.http_error(400, 'INVALID_GROUP_BY', 'group_by must be none, agent, tenant or model');
    END IF;
    IF top IS NOT NULL THEN
        IF length(top) > 2 OR top !~ '^[0-9]+$' OR top::integer NOT BETWEEN 1 AND 20 THEN
            PERFORM analytics.http_error(400, 'VALIDATION_ERROR', 'top must be an integer from 1 to 20');
        END IF;
        n := top::integer;
    END IF;
    RETURN analytics.cost_trend(s.tenant_id, w.from_ts, w.to_ts, gran, gb, n);
END
$$;
COMMENT ON FUNCTION analytics_api.cost_trend(text, text, text, text, text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/costs/trend: LLM cost per bucket (hour up to 7 days, day, week, month; zero-filled, oldest first) with the top series (group_by agent, tenant, model; top 1 to 20, default 5) and other; default 30d, day, none. Errors: 400 INVALID_PERIOD, INVALID_DATE_RANGE, INVALID_GRANULARITY, INVALID_GROUP_BY, VALIDATION_ERROR (top), 403 FORBIDDEN, 404 TENANT_NOT_FOUND (contract §6.4)';
