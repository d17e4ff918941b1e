-------------------------------------------------------------------------------
-- functions/79_prometheus.sql (layer 79): the Prometheus domain metrics of
-- contract §6.7 in the text exposition format (version 0.0.4), which the
-- gateway appends to GET /metrics (http/metrics.sql,
-- analytics_http.domain_metrics).  The series come from layer 48.
-- Re-runnable.
-------------------------------------------------------------------------------

-- A label value in the exposition format: backslash, double quote and line
-- feed escaped.
CREATE OR REPLACE FUNCTION analytics.prom_escape(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT replace(replace(replace(value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n') $$;
COMMENT ON FUNCTION analytics.prom_escape(text) IS
    'A Prometheus label value escaped for the text exposition format (\\, \" and \n)';

-- One sample line: name{label="value",...} value (no braces without labels).
CREATE OR REPLACE FUNCTION analytics.prom_sample(name text, label_names text[], label_values text[], value numeric)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT name
        || coalesce('{' || (SELECT string_agg(n.l || '="' || analytics.prom_escape(coalesce(label_values[n.i], '')) || '"', ',' ORDER BY n.i)
                            FROM unnest(label_names) WITH ORDINALITY AS n(l, i)) || '}', '')
        || ' ' || trim_scale(coalesce(value, 0))::text
$$;
COMMENT ON FUNCTION analytics.prom_sample(text, text[], text[], numeric) IS
    'One sample line of the Prometheus text format: the name, the labels (names with their escaped values; none: no braces) and the value';

CREATE OR REPLACE FUNCTION analytics.prometheus_metrics()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    out  text;
    sse  double precision := analytics.prom_active_sse_connections();
BEGIN
    WITH c AS MATERIALIZED (
        SELECT p.metric, p.labels, p.value FROM analytics.prom_counters() p
    ),
    fam (ord, name, kind, help) AS (VALUES
        (1, 'registry_agent_requests_total', 'counter',
            'Events recorded by each agent since the start, by method (the event type: api_call, tool_call, llm_call, token_issuance, ...).'),
        (2, 'registry_tool_calls_total', 'counter',
            'Tool calls since the start, by tool, MCP server and status (success or failure).'),
        (3, 'registry_tool_call_duration_seconds', 'histogram',
            'Duration of the tool calls that carry a latency, by tool and MCP server (exact counts per bucket).'),
        (4, 'registry_circuit_breaker_state', 'gauge',
            'Circuit breaker state of each server: 0 closed, 1 open, 2 half-open.'),
        (5, 'registry_active_sse_connections', 'gauge',
            'Latest value of the platform gauge metric registry.active_sse_connections.'),
        (6, 'registry_webhook_deliveries_total', 'counter',
            'Webhook delivery attempts since the start, by status and event type.'),
        (7, 'registry_estimated_token_usage', 'gauge',
            'LLM tokens (input + output, as recorded: may be estimates) since the start, by model and agent; never goes down.')
    ),
    samples (ord, k1, k2, line) AS (
        SELECT 1, c.labels, 0::numeric, analytics.prom_sample(c.metric, '{agent_id,method}', c.labels, c.value)
        FROM c WHERE c.metric = 'registry_agent_requests_total'
        UNION ALL
        SELECT 2, c.labels, 0, analytics.prom_sample(c.metric, '{tool,server,status}', c.labels, c.value)
        FROM c WHERE c.metric = 'registry_tool_calls_total'
        UNION ALL
        -- (per tool and server: the buckets by bound, then _sum and _count)
        SELECT 3, c.labels[1:2],
               CASE WHEN c.metric = 'registry_tool_call_duration_seconds_sum' THEN 1e12
                    WHEN c.metric = 'registry_tool_call_duration_seconds_count' THEN 2e12
                    WHEN c.labels[3] = '+Inf' THEN 1e11
                    ELSE c.labels[3]::numeric END,
               CASE WHEN c.metric = 'registry_tool_call_duration_seconds_bucket'
                    THEN analytics.prom_sample(c.metric, '{tool,server,le}', c.labels, c.value)
                    ELSE analytics.prom_sample(c.metric, '{tool,server}', c.labels, c.value) END
        FROM c WHERE c.metric LIKE 'registry\_tool\_call\_duration\_seconds\_%'
        UNION ALL
        SELECT 4, ARRAY[s.server], 0, analytics.prom_sample('registry_circuit_breaker_state', '{server}', ARRAY[s.server], s.state)
        FROM (SELECT coalesce(x.server, '') AS server, max(x.state)::numeric AS state
              FROM analytics.prom_circuit_states() x GROUP BY 1) s
        UNION ALL
        SELECT 5, '{}'::text[], 0, 'registry_active_sse_connections ' || sse::text
        WHERE sse IS NOT NULL
        UNION ALL
        SELECT 6, ARRAY[w.status, w.event_type], 0,
               analytics.prom_sample('registry_webhook_deliveries_total', '{status,event_type}', ARRAY[w.status, w.event_type], w.n)
        FROM (SELECT coalesce(x.status, '') AS status, coalesce(x.event_type, '') AS event_type, sum(x.deliveries) AS n
              FROM analytics.prom_webhook_deliveries() x GROUP BY 1, 2) w
        UNION ALL
        SELECT 7, c.labels, 0, analytics.prom_sample(c.metric, '{model,agent_id}', c.labels, c.value)
        FROM c WHERE c.metric = 'registry_estimated_token_usage'
    )
    SELECT string_agg(b.block, E'\n' ORDER BY b.ord) || E'\n'
    INTO out
    FROM (SELECT f.ord,
                 concat_ws(E'\n', '# HELP ' || f.name || ' ' || f.help, '# TYPE ' || f.name || ' ' || f.kind,
                           (SELECT string_agg(s.line, E'\n' ORDER BY s.k1, s.k2) FROM samples s WHERE s.ord = f.ord)) AS block
          FROM fam f) b;
    RETURN out;
END
$$;
COMMENT ON FUNCTION analytics.prometheus_metrics() IS
    'The Prometheus domain metrics of contract §6.7 in the text exposition format: registry_agent_requests_total, registry_tool_calls_total, registry_tool_call_duration_seconds (histogram), registry_circuit_breaker_state, registry_active_sse_connections, registry_webhook_deliveries_total, registry_estimated_token_usage; counters cumulative and never going down across rollups and retention (the gateway appends it to GET /metrics)';

REVOKE EXECUTE ON FUNCTION analytics.prometheus_metrics() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.prom_counters() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.prom_event_series(timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION analytics.prom_fold(date, date[]) FROM PUBLIC;
