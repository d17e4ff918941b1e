-- §6.4 costs against plain SQL: every group_by, period and tenant, and the
-- operator, against the raw llm_calls joined with the price in force at each
-- event (the tenant's own row, else the global one) by a lateral lookup
-- written independently of analytics.priced_events; then price changes (a
-- new global price, a tenant override, a past effectiveFrom, an unpriced
-- model priced later, cached and cache-write tokens, token counts at their
-- bounds, a day past raw retention) and cost_trend.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
\ir 06_api.inc

-- Days relative to today (UTC) as instants.
CREATE FUNCTION pg_temp.ts(n integer) RETURNS timestamptz LANGUAGE sql
AS $$ SELECT (pg_temp.today() + n)::timestamp AT TIME ZONE 'UTC' $$;

-- The oracle: llm_calls of a scope and window grouped by group_by, each at
-- the price in force at its occurred_at.
CREATE FUNCTION pg_temp.oracle(tid uuid, f timestamptz, t timestamptz, gb text)
RETURNS TABLE (key text, cost numeric, calls bigint, unpriced bigint, utok numeric, itok numeric, ctok numeric,
               wtok numeric, otok numeric)
LANGUAGE sql AS $$
SELECT CASE WHEN gb = 'agent' THEN e.agent_id::text WHEN gb = 'tenant' THEN e.tenant_id::text
            WHEN gb = 'user' THEN e.user_id WHEN gb = 'model' THEN e.model WHEN gb = 'tool' THEN e.tool_name
            WHEN gb = 'mcp_server' THEN e.mcp_server
            WHEN gb = 'day' THEN to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') END,
       coalesce(sum(((coalesce(e.input_tokens, 0) - coalesce(e.cached_input_tokens, 0) - coalesce(e.cache_write_tokens, 0))
                       * p.input_usd_per_mtok
                     + coalesce(e.cached_input_tokens, 0) * coalesce(p.cached_input_usd_per_mtok, p.input_usd_per_mtok)
                     + coalesce(e.cache_write_tokens, 0) * coalesce(p.cache_write_usd_per_mtok, p.input_usd_per_mtok)
                     + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000), 0),
       sum(e.count)::bigint,
       coalesce(sum(e.count) FILTER (WHERE p.price_id IS NULL), 0)::bigint,
       coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)) FILTER (WHERE p.price_id IS NULL), 0),
       coalesce(sum(e.input_tokens), 0), coalesce(sum(e.cached_input_tokens), 0),
       coalesce(sum(e.cache_write_tokens), 0), coalesce(sum(e.output_tokens), 0)
FROM analytics.usage_events e
LEFT JOIN LATERAL (
    SELECT mp.* FROM analytics.model_prices mp
    WHERE mp.model = e.model AND (mp.tenant_id = e.tenant_id OR mp.tenant_id IS NULL) AND mp.effective_from <= e.occurred_at
    ORDER BY mp.tenant_id IS NULL, mp.effective_from DESC LIMIT 1) p ON true
WHERE e.event_type = 'llm_call' AND e.occurred_at >= f AND e.occurred_at < t AND (tid IS NULL OR e.tenant_id = tid)
GROUP BY 1 $$;

-- Rows of costs() and of the oracle that differ (0: the same answer).
CREATE FUNCTION pg_temp.diff(tid uuid, f timestamptz, t timestamptz, gb text) RETURNS bigint LANGUAGE sql AS $$
WITH a AS (SELECT d ->> 'key' AS key, (d ->> 'costUsd')::numeric AS cost, (d ->> 'llmCalls')::bigint AS calls,
                  (d ->> 'unpricedCalls')::bigint AS unpriced, (d ->> 'unpricedTokens')::numeric AS utok,
                  (d ->> 'inputTokens')::numeric AS itok, (d ->> 'cachedInputTokens')::numeric AS ctok,
                  (d ->> 'cacheWriteTokens')::numeric AS wtok, (d ->> 'outputTokens')::numeric AS otok
           FROM jsonb_array_elements(analytics.costs(tid, f, t, gb) -> 'data') d),
     o AS (SELECT o.key, round(o.cost, 6), o.calls, o.unpriced, o.utok, o.itok, o.ctok, o.wtok, o.otok
           FROM pg_temp.oracle(tid, f, t, gb) o)
SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM o) x)
     + (SELECT count(*) FROM (SELECT * FROM o EXCEPT ALL SELECT * FROM a) x) $$;

-- Every scope x group_by x window that differs, as text (empty: none).
CREATE FUNCTION pg_temp.all_diffs() RETURNS text LANGUAGE sql AS $$
SELECT coalesce(string_agg(format('%s/%s/%s: %s', coalesce(x.t::text, 'operator'), x.gb, x.name, x.n), '; '), '')
FROM (SELECT s.t, g.gb, w.name, pg_temp.diff(s.t, w.f, w.t, g.gb) AS n
      FROM (SELECT NULL::uuid AS t UNION ALL SELECT tenant_id FROM analytics.tenants) s
      CROSS JOIN unnest(ARRAY['agent', 'tenant', 'user', 'mcp_server', 'tool', 'model', 'day']) g(gb)
      CROSS JOIN (VALUES ('24h', now() - interval '24 hours', now() + interval '1 microsecond'),
                         ('7d', pg_temp.ts(-6), pg_temp.ts(1)),
                         ('21d', pg_temp.ts(-20), pg_temp.ts(1)),
                         ('mid-day', pg_temp.ts(-9) + interval '7 hours', pg_temp.ts(-2) + interval '5 hours 30 minutes')) w(name, f, t)
     ) x
WHERE x.n <> 0 $$;

-- Prices: one per model, set through set_model_price; claude-sonnet-4 unpriced.
DELETE FROM analytics.model_prices;
SELECT analytics.refresh_price_spans() IS NOT NULL AS cleared \gset
SELECT is(analytics.set_model_price('gpt-4o', 2.5, 10, 1.25, 3.125, '-infinity') ->> 'daysMarked', '0',
          'a global price since -infinity marks no day (nothing rolled yet)');
SELECT lives_ok($$SELECT analytics.set_model_price('gpt-4o-mini', 0.15, 0.6, NULL, NULL, '-infinity')$$, 'gpt-4o-mini priced');
SELECT lives_ok($$SELECT analytics.set_model_price('llama-3.1-70b', 0.88, 0.88, 0.44, NULL, pg_temp.ts(-10) + interval '13 hours')$$,
                'llama priced from the middle of day -10');

SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(9000, 21, pg_temp.today())$$, 'generate 21 days');
SELECT ok((SELECT count(*) FROM analytics.usage_events WHERE event_type = 'llm_call' AND cached_input_tokens > 0) > 0
          AND (SELECT count(*) FROM analytics.usage_events WHERE event_type = 'llm_call' AND cache_write_tokens > 0) > 0
          AND (SELECT count(*) FROM analytics.usage_events WHERE event_type = 'llm_call' AND model = 'claude-sonnet-4') > 0,
          'the data has cached and cache-write tokens and an unpriced model');
SELECT lives_ok($$SELECT analytics.run_rollup(d::date) FROM generate_series(pg_temp.today() - 20, pg_temp.today() - 1, interval '1 day') d$$,
                'roll up days -20 to -1');

SELECT is(pg_temp.all_diffs(), '', 'costs equal plain SQL for every group_by, window and scope (rollups, raw edges, today)');
SELECT ok((analytics.costs(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'model') #>> '{totals,unpricedCalls}')::bigint > 0,
          'the unpriced model is counted as unpriced');
SELECT is((SELECT (d ->> 'costUsd')::numeric FROM jsonb_array_elements(analytics.costs(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'model') -> 'data') d
           WHERE d ->> 'key' = 'claude-sonnet-4'), 0.000000, 'an unpriced model adds nothing to costUsd');

-- The total is the exact sum of the rows: rollup rows, per-event costs and
-- the answer's total agree to the last digit.
SELECT is((SELECT sum(c.cost_usd) FROM analytics.cost_daily c WHERE c.bucket >= pg_temp.ts(-20) AND c.bucket < pg_temp.ts(0)),
          (SELECT sum(e.cost_usd) FROM analytics.priced_events e WHERE e.occurred_at >= pg_temp.ts(-20) AND e.occurred_at < pg_temp.ts(0)),
          'cost_daily holds the exact sum of the per-event costs');
SELECT is((SELECT sum(c.cost_usd) FROM analytics.cost_user_daily c WHERE c.bucket >= pg_temp.ts(-20) AND c.bucket < pg_temp.ts(0)),
          (SELECT sum(c.cost_usd) FROM analytics.cost_daily c WHERE c.bucket >= pg_temp.ts(-20) AND c.bucket < pg_temp.ts(0)),
          'cost_user_daily and cost_daily hold the same total');
SELECT is((SELECT sum(c.cost_usd) FROM analytics.cost_tool_daily c WHERE c.bucket >= pg_temp.ts(-20) AND c.bucket < pg_temp.ts(0)),
          (SELECT sum(c.cost_usd) FROM analytics.cost_daily c WHERE c.bucket >= pg_temp.ts(-20) AND c.bucket < pg_temp.ts(0)),
          'cost_tool_daily and cost_daily hold the same total');
SELECT is((analytics.costs(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'agent') #>> '{totals,costUsd}')::numeric,
          (SELECT round(sum(o.cost), 6) FROM pg_temp.oracle(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'agent') o),
          'totals.costUsd is the rounded exact total');

-- Cached and cache-write tokens, by the formula, on one event.
SELECT lives_ok($$SELECT analytics.set_model_price('tap-model', 3, 15, 0.3, 3.75, '-infinity')$$, 'tap-model priced');
SELECT lives_ok(format($$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, model, input_tokens,
                        cached_input_tokens, cache_write_tokens, output_tokens)
                        VALUES ('00000000-0000-4000-8000-000000000003', %L, 'llm_call', 'tap-model', 1000000, 400000, 100000, 200000)$$,
                       pg_temp.ts(-1) + interval '2 hours'), 'one llm_call with cached and cache-write tokens');
SELECT lives_ok($$SELECT analytics.mark_days_changed(ARRAY[pg_temp.today() - 1])$$, 'its day logged (a direct INSERT)');
SELECT is((SELECT (d ->> 'costUsd')::numeric FROM jsonb_array_elements(
              analytics.costs('00000000-0000-4000-8000-000000000003', pg_temp.ts(-1), pg_temp.ts(0), 'model') -> 'data') d
           WHERE d ->> 'key' = 'tap-model'), 4.995000,
          '(1,000,000 - 400,000 - 100,000) x 3 + 400,000 x 0.30 + 100,000 x 3.75 + 200,000 x 15, per million: $4.995');

-- Token counts at their bounds (10^12 each) at the highest price: exact.
SELECT lives_ok($$SELECT analytics.set_model_price('tap-max', 1000000, 1000000, 999999.999999, 0.000001, '-infinity')$$,
                'the highest price and the smallest step');
SELECT lives_ok(format($$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, model, input_tokens,
                        cached_input_tokens, cache_write_tokens, output_tokens, count)
                        VALUES ('00000000-0000-4000-8000-000000000003', %L, 'llm_call', 'tap-max', 1000000000000, 400000000000,
                                300000000000, 1000000000000, 1000000)$$,
                       pg_temp.ts(-1) + interval '3 hours'), 'an llm_call with 10^12 tokens of each kind');
SELECT is((SELECT sum(e.cost_usd) FROM analytics.priced_events e WHERE e.model = 'tap-max'),
          (300000000000::numeric * 1000000 + 400000000000::numeric * 999999.999999 + 300000000000::numeric * 0.000001
           + 1000000000000::numeric * 1000000) / 1000000,
          'its cost is exact (no overflow, no rounding)');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 1)$$, 'day -1 rolled up again');
SELECT is(pg_temp.all_diffs(), '', 'costs equal plain SQL with the handmade events');

-- A new global price from day -5: the days from -5 on are marked (and read
-- raw at once); days before keep their rows.
CREATE TEMP TABLE before_rows AS SELECT * FROM analytics.cost_daily WHERE bucket < pg_temp.ts(-5);
SELECT is((analytics.set_model_price('gpt-4o', 3, 12, NULL, NULL, pg_temp.ts(-5)) ->> 'daysMarked')::int,
          (SELECT count(*)::int FROM analytics.rollup_days r WHERE r.day >= pg_temp.today() - 5),
          'a new global price from day -5 marks the rolled days from -5 on');
SELECT is(pg_temp.all_diffs(), '', 'costs equal plain SQL at once after the new price');
SELECT lives_ok($$SELECT analytics.run_rollup(c.day) FROM analytics.changed_days c WHERE c.day < pg_temp.today()$$,
                'the marked days rolled up again');
SELECT is(pg_temp.all_diffs(), '', 'costs equal plain SQL after the re-roll');
SELECT is((SELECT count(*) FROM (SELECT * FROM before_rows EXCEPT ALL
                                 SELECT * FROM analytics.cost_daily WHERE bucket < pg_temp.ts(-5)) x), 0::bigint,
          'the days before effectiveFrom are untouched');

-- A tenant's negotiated price from day -3: its costs change, no one else's.
CREATE TEMP TABLE others_before AS
SELECT d ->> 'key' AS key, d ->> 'costUsd' AS cost
FROM jsonb_array_elements(analytics.costs(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'tenant') -> 'data') d
WHERE d ->> 'key' <> '00000000-0000-4000-8000-000000000001';
SELECT ok((analytics.set_model_price('gpt-4o', 1, 4, NULL, NULL, pg_temp.ts(-3), '00000000-0000-4000-8000-000000000001')
           ->> 'daysMarked')::int > 0, 'a tenant override from day -3 marks days');
SELECT is(pg_temp.all_diffs(), '', 'costs equal plain SQL with the tenant override');
SELECT is((SELECT count(*) FROM (SELECT d ->> 'key', d ->> 'costUsd'
                                 FROM jsonb_array_elements(analytics.costs(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'tenant') -> 'data') d
                                 WHERE d ->> 'key' <> '00000000-0000-4000-8000-000000000001'
                                 EXCEPT SELECT * FROM others_before) x), 0::bigint,
          'the other tenants'' costs are unchanged');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(analytics.model_prices('00000000-0000-4000-8000-000000000002', false) -> 'data') d
           WHERE d ->> 'tenantId' IS NOT NULL), 0, 'another tenant does not see the override in model_prices');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(analytics.model_prices('00000000-0000-4000-8000-000000000001', false) -> 'data') d
           WHERE d ->> 'tenantId' IS NOT NULL), 1, 'the tenant sees its own override');

-- The unpriced model priced from -infinity: no unpriced call left.
SELECT ok((analytics.set_model_price('claude-sonnet-4', 3, 15, 0.3, 3.75, '-infinity') ->> 'daysMarked')::int >= 20,
          'pricing the unpriced model marks every rolled day');
SELECT is((SELECT (d ->> 'unpricedCalls')::bigint FROM jsonb_array_elements(analytics.costs(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'model') -> 'data') d
           WHERE d ->> 'key' = 'claude-sonnet-4'), 0::bigint, 'no unpriced call of the model once it has a price');
SELECT ok((SELECT (d ->> 'unpricedCalls')::bigint FROM jsonb_array_elements(analytics.costs(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'model') -> 'data') d
           WHERE d ->> 'key' = 'llama-3.1-70b') > 0, 'llama''s calls before its first price (day -10, 13:00) stay unpriced');
SELECT is(pg_temp.all_diffs(), '', 'costs equal plain SQL once the model is priced');
SELECT lives_ok($$SELECT analytics.run_rollup(c.day) FROM analytics.changed_days c WHERE c.day < pg_temp.today()$$,
                'the marked days rolled up again');
SELECT is(pg_temp.all_diffs(), '', 'and after the re-roll');

-- cost_trend: the buckets against plain SQL by day and by hour; series
-- plus other is the bucket.
SELECT is((SELECT count(*) FROM (
             SELECT b ->> 'bucket', (b ->> 'costUsd')::numeric, (b ->> 'llmCalls')::bigint
             FROM jsonb_array_elements(analytics.cost_trend('00000000-0000-4000-8000-000000000002', pg_temp.ts(-13), pg_temp.ts(1), 'day', 'none', 5) -> 'buckets') b
             EXCEPT
             SELECT to_char(g, 'YYYY-MM-DD'), coalesce(round(o.cost, 6), 0), coalesce(o.calls, 0)
             FROM generate_series(pg_temp.today() - 13, pg_temp.today(), interval '1 day') g
             LEFT JOIN pg_temp.oracle('00000000-0000-4000-8000-000000000002', pg_temp.ts(-13), pg_temp.ts(1), 'day') o
                    ON o.key = to_char(g, 'YYYY-MM-DD')) x), 0::bigint,
          'cost_trend by day equals plain SQL, every day zero-filled');
SELECT is(jsonb_array_length(analytics.cost_trend('00000000-0000-4000-8000-000000000002', pg_temp.ts(-13), pg_temp.ts(1), 'day', 'none', 5) -> 'buckets'),
          14, '14 day buckets');
SELECT is((SELECT count(*) FROM jsonb_array_elements(analytics.cost_trend(NULL, now() - interval '24 hours', now() + interval '1 microsecond', 'hour', 'model', 2) -> 'buckets') b
           -- (each part is shown rounded to 6 decimals: they add up to the
           -- bucket within half a unit of the 6th decimal per part)
           WHERE abs((b ->> 'costUsd')::numeric
                     - ((SELECT coalesce(sum((s ->> 'costUsd')::numeric), 0) FROM jsonb_array_elements(b -> 'series') s)
                        + (b ->> 'other')::numeric))
                 > 0.0000005 * (jsonb_array_length(b -> 'series') + 2)),
          0::bigint, 'every hour bucket is its series plus other (to the rounding of the shown parts)');
SELECT ok(abs((SELECT sum((b ->> 'costUsd')::numeric) FROM jsonb_array_elements(analytics.cost_trend(NULL, now() - interval '24 hours', now() + interval '1 microsecond', 'hour', 'none', 5) -> 'buckets') b)
              - (SELECT sum(o.cost) FROM pg_temp.oracle(NULL, now() - interval '24 hours', now() + interval '1 microsecond', 'model') o))
          <= 0.0000005 * 26,
          'the hour buckets of 24h add up to the 24h cost of plain SQL (to the rounding of each shown bucket)');
SELECT is((SELECT jsonb_agg(s -> 'key') FROM jsonb_array_elements(analytics.cost_trend(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'week', 'tenant', 3) -> 'series') s),
          (SELECT jsonb_agg(to_jsonb(x.key)) FROM (SELECT o.key FROM pg_temp.oracle(NULL, pg_temp.ts(-20), pg_temp.ts(1), 'tenant') o
                                                   ORDER BY o.cost DESC, o.key LIMIT 3) x),
          'the top 3 series are the three costliest tenants');

-- A day past raw retention (its raw events gone): re-priced from its token
-- sums at the price in force at the day's start.
SELECT lives_ok($$DELETE FROM analytics.usage_events WHERE occurred_at >= pg_temp.ts(-18) AND occurred_at < pg_temp.ts(-17)$$,
                'the raw events of day -18 dropped');
UPDATE analytics.rollup_days SET raw_dropped = true WHERE day = pg_temp.today() - 18;
SELECT is((analytics.set_model_price('gpt-4o-mini', 0.3, 1.2, NULL, NULL, pg_temp.ts(-19)) ->> 'daysMarked')::int,
          (SELECT count(*)::int FROM analytics.rollup_days r WHERE r.day >= pg_temp.today() - 19),
          'a price from day -19 marks the days from -19 on, day -18 included');
SELECT ok(EXISTS (SELECT 1 FROM analytics.reprice_days WHERE day = pg_temp.today() - 18), 'day -18 is to be re-priced from its sums');
SELECT ok(analytics.reprice_day(pg_temp.today() - 18) > 0, 'reprice_day rewrites its cost rows');
SELECT is((SELECT count(*) FROM analytics.cost_daily c
           WHERE c.bucket = pg_temp.ts(-18) AND c.model = 'gpt-4o-mini'
             AND c.cost_usd <> ((c.input_tokens - c.cached_input_tokens - c.cache_write_tokens) * 0.3
                                + c.cached_input_tokens * 0.3 + c.cache_write_tokens * 0.3 + c.output_tokens * 1.2) * 0.000001),
          0::bigint, 'its gpt-4o-mini rows cost their token sums at the new price');
SELECT ok((SELECT count(*) FROM analytics.cost_daily c WHERE c.bucket = pg_temp.ts(-18) AND c.model = 'gpt-4o-mini') > 0,
          '(there are such rows)');
SELECT is(analytics.reprice_day(pg_temp.today() - 18), 0::bigint, 'a second re-pricing changes nothing');

SELECT * FROM finish();
ROLLBACK;
