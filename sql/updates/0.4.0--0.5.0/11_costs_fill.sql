-- (after the families above) Days past raw retention: their llm_call rows
-- of usage_stats_daily into cost_daily and cost_tool_daily, so a year of costs reads the same
-- days before and after the update.  Unpriced: a model with no price row.
INSERT INTO analytics.cost_daily
    (tenant_id, bucket, agent_id, model, llm_calls, input_tokens, output_tokens,
     cached_input_tokens, cache_write_tokens, cost_usd, unpriced_calls, unpriced_tokens)
SELECT s.tenant_id, s.date::timestamp AT TIME ZONE 'UTC', s.agent_id, s.model,
       sum(s.calls)::bigint, sum(s.input_tokens)::numeric, sum(s.output_tokens)::numeric, 0, 0,
       coalesce(sum(s.cost_usd), 0)::numeric,
       CASE WHEN p.model IS NULL THEN sum(s.calls)::bigint ELSE 0 END,
       CASE WHEN p.model IS NULL THEN sum(s.input_tokens + s.output_tokens)::numeric ELSE 0 END
FROM analytics.usage_stats_daily s
JOIN analytics.rollup_days r ON r.day = s.date AND r.raw_dropped
LEFT JOIN (SELECT DISTINCT mp.model FROM analytics.model_prices mp) p ON p.model = s.model
WHERE s.event_type = 'llm_call'
GROUP BY s.tenant_id, s.date, s.agent_id, s.model, p.model;
INSERT INTO analytics.cost_tool_daily
    (tenant_id, bucket, tool_name, mcp_server, model, llm_calls, input_tokens, output_tokens,
     cached_input_tokens, cache_write_tokens, cost_usd, unpriced_calls, unpriced_tokens)
SELECT s.tenant_id, s.date::timestamp AT TIME ZONE 'UTC', s.tool_name, s.mcp_server, s.model,
       sum(s.calls)::bigint, sum(s.input_tokens)::numeric, sum(s.output_tokens)::numeric, 0, 0,
       coalesce(sum(s.cost_usd), 0)::numeric,
       CASE WHEN p.model IS NULL THEN sum(s.calls)::bigint ELSE 0 END,
       CASE WHEN p.model IS NULL THEN sum(s.input_tokens + s.output_tokens)::numeric ELSE 0 END
FROM analytics.usage_stats_daily s
JOIN analytics.rollup_days r ON r.day = s.date AND r.raw_dropped
LEFT JOIN (SELECT DISTINCT mp.model FROM analytics.model_prices mp) p ON p.model = s.model
WHERE s.event_type = 'llm_call'
GROUP BY s.tenant_id, s.date, s.tool_name, s.mcp_server, s.model, p.model;
