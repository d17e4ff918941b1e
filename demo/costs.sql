-- demo/costs.sql: costs (contract §6.4, docs/costs.md) and a re-pricing,
-- printed by make demo.
\pset footer off
\echo '== Costs, last 30 days, by model (llama-3.1-70b has no price yet: unpriced, never $0)'
SELECT x ->> 'key' AS model, x ->> 'costUsd' AS cost_usd, x ->> 'llmCalls' AS llm_calls,
       x ->> 'unpricedCalls' AS unpriced_calls, x ->> 'share' AS share
FROM jsonb_array_elements(analytics.costs(NULL, ((current_date - 29)::timestamp AT TIME ZONE 'UTC'),
                                          ((current_date + 1)::timestamp AT TIME ZONE 'UTC'), 'model') -> 'data') x;

\echo '== Re-pricing: llama-3.1-70b priced from 30 days ago, and Acme Robotics'' negotiated gpt-4o price from 7 days ago'
SELECT p ->> 'model' AS model, coalesce(p ->> 'tenantId', 'global') AS scope, p ->> 'effectiveFrom' AS effective_from,
       p ->> 'daysMarked' AS days_marked
FROM (SELECT analytics.set_model_price('llama-3.1-70b', 0.88, 0.88, NULL, NULL,
                                       (current_date - 29)::timestamp AT TIME ZONE 'UTC') AS p
      WHERE NOT EXISTS (SELECT 1 FROM analytics.model_prices WHERE model = 'llama-3.1-70b')
      UNION ALL
      SELECT analytics.set_model_price('gpt-4o', 2.00, 8.00, 1.00, 2.50, (current_date - 6)::timestamp AT TIME ZONE 'UTC',
                                       '00000000-0000-4000-8000-000000000001')
      WHERE NOT EXISTS (SELECT 1 FROM analytics.model_prices WHERE model = 'gpt-4o'
                        AND tenant_id = '00000000-0000-4000-8000-000000000001')) s;
\echo '   (the marked days read from their raw events at once; the nightly rollup recomputes them:)'
CALL analytics.rollup_job();

\echo '== Costs, last 30 days, by model, after the re-pricing'
SELECT x ->> 'key' AS model, x ->> 'costUsd' AS cost_usd, x ->> 'llmCalls' AS llm_calls,
       x ->> 'unpricedCalls' AS unpriced_calls, x ->> 'share' AS share
FROM jsonb_array_elements(analytics.costs(NULL, ((current_date - 29)::timestamp AT TIME ZONE 'UTC'),
                                          ((current_date + 1)::timestamp AT TIME ZONE 'UTC'), 'model') -> 'data') x;

\echo '== Costs of the last 7 days by tenant'
SELECT x ->> 'label' AS tenant, x ->> 'costUsd' AS cost_usd, x ->> 'llmCalls' AS llm_calls, x ->> 'share' AS share
FROM jsonb_array_elements(analytics.costs(NULL, ((current_date - 6)::timestamp AT TIME ZONE 'UTC'),
                                          ((current_date + 1)::timestamp AT TIME ZONE 'UTC'), 'tenant') -> 'data') x;
