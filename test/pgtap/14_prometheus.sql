-- §6.7 Prometheus domain metrics against plain SQL over the raw events: every
-- counter and the histogram's exact cumulative bucket counts (bounds hit
-- exactly, batches, calls without a latency), the text exposition (HELP and
-- TYPE of every name, label escaping, promtool's order), the gauges; then
-- counters that never go down: across run_rollup and the minute increment,
-- across run_retention (raw partitions dropped, the counters of those days
-- folded into their base), a rerun of it, and the families' old rows pruned.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;

CREATE FUNCTION pg_temp.today() RETURNS date LANGUAGE sql AS $$ SELECT (now() AT TIME ZONE 'UTC')::date $$;
CREATE FUNCTION pg_temp.at(d integer, h interval) RETURNS timestamptz LANGUAGE sql
AS $$ SELECT (pg_temp.today() + d)::timestamp AT TIME ZONE 'UTC' + h $$;

-- The histogram's bounds: label value and ms.
CREATE TEMP TABLE bounds (le text, ms double precision, ord integer);
INSERT INTO bounds VALUES ('0.005', 5, 1), ('0.01', 10, 2), ('0.025', 25, 3), ('0.05', 50, 4), ('0.1', 100, 5),
                          ('0.25', 250, 6), ('0.5', 500, 7), ('1', 1000, 8), ('2.5', 2500, 9), ('5', 5000, 10),
                          ('10', 10000, 11);

-- The oracle: every counter series from the raw events, written without
-- the rollup families (NULL labels are "").
CREATE FUNCTION pg_temp.oracle()
RETURNS TABLE (metric text, labels text[], value numeric)
LANGUAGE sql STABLE AS $$
    SELECT 'registry_agent_requests_total', ARRAY[e.agent_id::text, e.event_type], sum(e.count)::numeric
    FROM analytics.usage_events e WHERE e.agent_id IS NOT NULL GROUP BY e.agent_id, e.event_type
    UNION ALL
    SELECT 'registry_tool_calls_total', ARRAY[t.tool, t.server, s.status], s.n
    FROM (SELECT coalesce(e.tool_name, '') AS tool, coalesce(e.mcp_server, '') AS server,
                 coalesce(sum(e.count) FILTER (WHERE e.success), 0)::numeric AS ok,
                 coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::numeric AS failed
          FROM analytics.usage_events e WHERE e.event_type = 'tool_call' GROUP BY 1, 2) t,
         LATERAL (VALUES ('success', t.ok), ('failure', t.failed)) s(status, n)
    UNION ALL
    SELECT 'registry_tool_call_duration_seconds_bucket', ARRAY[coalesce(e.tool_name, ''), coalesce(e.mcp_server, ''), b.le],
           coalesce(sum(e.count) FILTER (WHERE e.latency_ms <= b.ms), 0)::numeric
    FROM analytics.usage_events e CROSS JOIN pg_temp.bounds b
    WHERE e.event_type = 'tool_call' GROUP BY 1, 2
    UNION ALL
    SELECT 'registry_tool_call_duration_seconds' || x.suffix, ARRAY[k.tool, k.server] || x.le, k.n
    FROM (SELECT coalesce(e.tool_name, '') AS tool, coalesce(e.mcp_server, '') AS server,
                 coalesce(sum(e.count) FILTER (WHERE e.latency_ms IS NOT NULL), 0)::numeric AS n
          FROM analytics.usage_events e WHERE e.event_type = 'tool_call' GROUP BY 1, 2) k,
         LATERAL (VALUES ('_bucket', '{+Inf}'::text[]), ('_count', '{}')) x(suffix, le)
    UNION ALL
    SELECT 'registry_estimated_token_usage', ARRAY[coalesce(e.model, ''), coalesce(e.agent_id::text, '')],
           coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)), 0)::numeric
    FROM analytics.usage_events e WHERE e.event_type = 'llm_call' GROUP BY 1, 2
$$;
-- The histogram's sums in seconds (floats: compared to 1e-9 relative).
CREATE FUNCTION pg_temp.oracle_sums()
RETURNS TABLE (labels text[], value double precision)
LANGUAGE sql STABLE AS $$
    SELECT ARRAY[coalesce(e.tool_name, ''), coalesce(e.mcp_server, '')],
           coalesce(sum(e.latency_ms * e.count), 0) / 1000
    FROM analytics.usage_events e WHERE e.event_type = 'tool_call' GROUP BY 1
$$;
CREATE FUNCTION pg_temp.counters()
RETURNS TABLE (metric text, labels text[], value numeric)
LANGUAGE sql STABLE AS $$
    SELECT c.metric, c.labels, c.value FROM analytics.prom_counters() c
    WHERE c.metric <> 'registry_tool_call_duration_seconds_sum'
$$;
CREATE FUNCTION pg_temp.sums_off()
RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM pg_temp.oracle_sums() o
    FULL JOIN (SELECT c.labels, c.value FROM analytics.prom_counters() c
               WHERE c.metric = 'registry_tool_call_duration_seconds_sum') c ON c.labels = o.labels
    WHERE c.labels IS NULL OR o.labels IS NULL
       OR abs(c.value::double precision - o.value) > 1e-9 * greatest(1, abs(o.value))
$$;
-- Series of a snapshot that are missing or lower in the counters now.
CREATE FUNCTION pg_temp.went_down(snap text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %I s LEFT JOIN analytics.prom_counters() c USING (metric, labels) '
                   'WHERE c.value IS NULL OR c.value < s.value', snap) INTO n;
    RETURN n;
END
$$;

SELECT is((SELECT count(*) FROM analytics.prom_counter_base), 0::bigint, 'no counter has been folded before the test');
SELECT is((SELECT count(*) FROM analytics.rollup_days WHERE raw_dropped), 0::bigint, 'no raw day has been dropped before the test');
-- (so nothing was ever folded: the fold point may start over, as in a
-- fresh database, whatever retention runs this database has seen)
UPDATE analytics.prom_fold_state SET folded_before = '-infinity';

-- Data: 8 old days ending 130 days ago, 15 days ending today; and events
-- at the histogram's bounds, batches, calls without a latency, label values
-- that need escaping, tokens.
SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(3000, 8, pg_temp.today() - 130, 0.21)$$, 'generate 8 old days');
SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(6000, 15, pg_temp.today(), 0.37)$$, 'generate 15 recent days');
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, tool_name, mcp_server, latency_ms)
VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-9001-000000000001', pg_temp.at(-1, '10:00'), 'tool_call', true, 1, 'prom_bounds', 'prom', 0),
       ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-9001-000000000001', pg_temp.at(-1, '10:01'), 'tool_call', true, 2, 'prom_bounds', 'prom', 5),
       ('00000000-0000-4000-8000-000000000001', NULL, pg_temp.at(-1, '10:02'), 'tool_call', true, 1, 'prom_bounds', 'prom', 5.001),
       ('00000000-0000-4000-8000-000000000002', NULL, pg_temp.at(-3, '10:03'), 'tool_call', true, 3, 'prom_bounds', 'prom', 10),
       ('00000000-0000-4000-8000-000000000002', NULL, pg_temp.at(-3, '10:04'), 'tool_call', true, 1, 'prom_bounds', 'prom', 10000),
       ('00000000-0000-4000-8000-000000000002', NULL, pg_temp.at(-3, '10:05'), 'tool_call', true, 1, 'prom_bounds', 'prom', 10000.01),
       ('00000000-0000-4000-8000-000000000002', NULL, pg_temp.at(-3, '10:06'), 'tool_call', false, 4, 'prom_bounds', 'prom', NULL),
       ('00000000-0000-4000-8000-000000000001', NULL, pg_temp.at(-2, '11:00'), 'tool_call', true, 1, E'we"ird\\tool\nx', NULL, 12),
       ('00000000-0000-4000-8000-000000000001', NULL, pg_temp.at(-2, '11:00'), 'tool_call', true, 1, NULL, NULL, NULL);
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, model, input_tokens, output_tokens, count)
VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-9001-000000000001', pg_temp.at(-1, '12:00'), 'llm_call', 'prom-model', 1000000000000, 7, 3),
       ('00000000-0000-4000-8000-000000000001', NULL, pg_temp.at(-1, '12:00'), 'llm_call', NULL, NULL, NULL, 1);

-- (days this database had rolled before: logged as changed, as the
-- nightly job finds events written by INSERT)
SELECT lives_ok($$SELECT analytics.find_changed_days()$$, 'log the rolled days written again');

-- 1. Everything raw (no day rolled yet in a fresh database).
SELECT set_eq('SELECT * FROM pg_temp.counters()', 'SELECT * FROM pg_temp.oracle()', 'raw: every counter equals plain SQL over the raw events');
SELECT is(pg_temp.sums_off(), 0::bigint, 'raw: every histogram _sum equals plain SQL');
CREATE TEMP TABLE snap0 AS SELECT * FROM analytics.prom_counters();

-- 2. Every day rolled but the newest old day; then the minute increment.
SELECT lives_ok($$SELECT analytics.run_rollup(d::date) FROM generate_series(pg_temp.today() - 137, pg_temp.today() - 131, interval '1 day') d$$,
                'roll up the old days but the newest');
SELECT lives_ok($$SELECT analytics.run_rollup(d::date) FROM generate_series(pg_temp.today() - 14, pg_temp.today() - 1, interval '1 day') d$$,
                'roll up the recent days');
SELECT is(pg_temp.went_down('snap0'), 0::bigint, 'run_rollup: no counter went down');
SELECT set_eq('SELECT * FROM pg_temp.counters()', 'SELECT * FROM pg_temp.oracle()', 'rolled: every counter equals plain SQL');
SELECT is(pg_temp.sums_off(), 0::bigint, 'rolled: every histogram _sum equals plain SQL');
SELECT lives_ok($$SELECT analytics.rollup_increment(pg_temp.today())$$, 'merge today''s increment');
SELECT set_eq('SELECT * FROM pg_temp.counters()', 'SELECT * FROM pg_temp.oracle()', 'after the increment: every counter equals plain SQL');
SELECT ok((SELECT count(*) FROM analytics.tool_duration_daily WHERE tool_name = 'prom_bounds') > 0, 'the histogram reads rollup rows');

-- 3. The histogram at its bounds: le is "at or under", exactly.
SELECT results_eq(
  $$SELECT c.labels[3], c.value FROM analytics.prom_counters() c
    WHERE c.metric = 'registry_tool_call_duration_seconds_bucket' AND c.labels[1:2] = '{prom_bounds,prom}'
    ORDER BY CASE WHEN c.labels[3] = '+Inf' THEN 1e9 ELSE c.labels[3]::numeric END$$,
  $$VALUES ('0.005', 3::numeric), ('0.01', 7), ('0.025', 7), ('0.05', 7), ('0.1', 7), ('0.25', 7), ('0.5', 7),
           ('1', 7), ('2.5', 7), ('5', 7), ('10', 8), ('+Inf', 9)$$,
  'bucket counts at the bounds: 0 and 5 ms in 0.005, 5.001 and 10 ms in 0.01, 10 s in 10, 10.00001 s in +Inf only');
SELECT is((SELECT c.value FROM analytics.prom_counters() c WHERE c.metric = 'registry_tool_call_duration_seconds_count'
           AND c.labels = '{prom_bounds,prom}'), 9::numeric, '_count: the calls with a latency (batches counted)');
SELECT is((SELECT round(c.value, 9) FROM analytics.prom_counters() c WHERE c.metric = 'registry_tool_call_duration_seconds_sum'
           AND c.labels = '{prom_bounds,prom}'), 20.045011::numeric, '_sum in seconds');
SELECT results_eq(
  $$SELECT c.labels[3], c.value FROM analytics.prom_counters() c
    WHERE c.metric = 'registry_tool_calls_total' AND c.labels[1:2] = '{prom_bounds,prom}' ORDER BY 1$$,
  $$VALUES ('failure', 4::numeric), ('success', 9)$$, 'tool calls by status, the calls without a latency included');
SELECT is((SELECT count(*) FROM (
             SELECT c.labels, c.value, lag(c.value) OVER (PARTITION BY c.labels[1:2] ORDER BY b.ord) AS prev
             FROM analytics.prom_counters() c
             JOIN (SELECT le, ord FROM bounds UNION ALL SELECT '+Inf', 12) b ON b.le = c.labels[3]
             WHERE c.metric = 'registry_tool_call_duration_seconds_bucket') x
           WHERE x.value < x.prev), 0::bigint, 'every histogram''s buckets are cumulative');
SELECT is((SELECT count(*) FROM analytics.prom_counters() i JOIN analytics.prom_counters() n
             ON n.metric = 'registry_tool_call_duration_seconds_count' AND n.labels = i.labels[1:2]
           WHERE i.metric = 'registry_tool_call_duration_seconds_bucket' AND i.labels[3] = '+Inf' AND i.value <> n.value),
          0::bigint, 'every le="+Inf" bucket equals its _count');
SELECT is((SELECT c.value FROM analytics.prom_counters() c WHERE c.metric = 'registry_estimated_token_usage'
           AND c.labels = '{prom-model,00000000-0000-4000-9001-000000000001}'), 1000000000007::numeric,
          'tokens: input + output, 10^12 included');

-- 4. The text: every name with HELP and TYPE, in promtool's order; samples
-- as the series; label values escaped.
CREATE TEMP TABLE expo AS SELECT analytics.prometheus_metrics() AS t;
SELECT is((SELECT string_agg(substr(l, 8), ',' ORDER BY n) FROM expo, regexp_split_to_table(t, E'\n') WITH ORDINALITY AS x(l, n)
           WHERE l LIKE '# TYPE %'),
          'registry_agent_requests_total counter,registry_tool_calls_total counter,registry_tool_call_duration_seconds histogram,'
          'registry_circuit_breaker_state gauge,registry_active_sse_connections gauge,registry_webhook_deliveries_total counter,'
          'registry_estimated_token_usage gauge', 'every name has its TYPE, in order');
SELECT is((SELECT count(*) FROM expo, regexp_split_to_table(t, E'\n') l WHERE l LIKE '# HELP registry\_% _%'), 7::bigint,
          'every name has its HELP');
SELECT ok((SELECT right(t, 1) = E'\n' AND t NOT LIKE E'%\n\n%' FROM expo), 'lines end with a line feed, none empty');
SELECT ok((SELECT position(E'registry_tool_calls_total{tool="we\\"ird\\\\tool\\nx",server="",status="success"} 1\n' IN t) > 0 FROM expo),
          'label values escape ", \\ and line feeds; NULL is ""');
SELECT ok((SELECT position(E'registry_tool_calls_total{tool="",server="",status="success"} 1\n' IN t) > 0 FROM expo),
          'a tool call without a tool name counts under tool=""');
SELECT set_eq(
  $$SELECT l FROM expo, regexp_split_to_table(t, E'\n') l WHERE l LIKE 'registry\_%' AND l NOT LIKE 'registry\_tool\_call\_duration\_seconds\_sum%'$$,
  $$SELECT o.metric || '{' || (SELECT string_agg(n || '="' || replace(replace(replace(v, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n') || '"', ',' ORDER BY i)
                                FROM unnest(CASE WHEN o.metric = 'registry_agent_requests_total' THEN '{agent_id,method}'::text[]
                                                 WHEN o.metric = 'registry_tool_calls_total' THEN '{tool,server,status}'
                                                 WHEN o.metric = 'registry_estimated_token_usage' THEN '{model,agent_id}'
                                                 WHEN o.metric LIKE '%\_bucket' THEN '{tool,server,le}'
                                                 ELSE '{tool,server}' END, o.labels) WITH ORDINALITY AS u(n, v, i))
            || '} ' || o.value::text
     FROM pg_temp.oracle() o$$,
  'every sample line of the text is an oracle series, and every oracle series is a line');
SELECT is((SELECT count(*) FROM expo, regexp_split_to_table(t, E'\n') l
           WHERE l LIKE 'registry\_circuit\_breaker\_state%' OR l LIKE 'registry\_webhook\_deliveries\_total%'
              OR l LIKE 'registry\_active\_sse\_connections%'), 0::bigint,
          'no circuits, no deliveries and no SSE reading yet: those names have no samples');

-- 5. The gauges: the latest platform reading of registry.active_sse_connections.
SELECT lives_ok($$SELECT analytics.record_metric(NULL, 'registry.active_sse_connections', 12, 'gauge', NULL, NULL, now() - interval '2 minutes')$$,
                'a platform reading');
SELECT lives_ok($$SELECT analytics.record_metric(NULL, 'registry.active_sse_connections', 7, 'gauge', NULL, '{"node":"b"}', now() - interval '1 minute')$$,
                'a later platform reading (other tags)');
SELECT lives_ok($$SELECT analytics.record_metric(NULL, 'registry.active_sse_connections', 9, 'gauge', NULL, NULL, now() - interval '3 minutes')$$,
                'an earlier platform reading, recorded last');
SELECT lives_ok($$SELECT analytics.record_metric('00000000-0000-4000-8000-000000000001', 'registry.active_sse_connections', 500, 'gauge')$$,
                'a tenant''s reading of the same name');
SELECT ok((SELECT position(E'\nregistry_active_sse_connections 7\n' IN analytics.prometheus_metrics()) > 0),
          'registry_active_sse_connections is the latest platform reading');
-- Circuit breakers: the latest state per service name (open wins across
-- tenants with one name); against the events recorded here.
DELETE FROM analytics.services;
SELECT lives_ok($$SELECT analytics.register_service(NULL, 'mcp-a', 'mcp_server'),
                         analytics.register_service(NULL, 'mcp-b', 'mcp_server'),
                         analytics.register_service('00000000-0000-4000-8000-000000000001', 'mcp-b', 'mcp_server'),
                         analytics.register_service(NULL, 'mcp-quiet', 'mcp_server')$$, 'four services');
SELECT lives_ok($$SELECT analytics.record_circuit_state(NULL, 'mcp-a', 'open', now() - interval '10 minutes'),
                         analytics.record_circuit_state(NULL, 'mcp-a', 'half_open', now() - interval '5 minutes'),
                         analytics.record_circuit_state(NULL, 'mcp-b', 'closed', now() - interval '5 minutes'),
                         analytics.record_circuit_state('00000000-0000-4000-8000-000000000001', 'mcp-b', 'open', now() - interval '1 minute')$$,
                'circuit states');
SELECT set_eq('SELECT server, state FROM analytics.prom_circuit_states()',
              $$VALUES ('mcp-a', 2::smallint), ('mcp-b', 1::smallint)$$,
              'registry_circuit_breaker_state: mcp-a half-open (its latest), mcp-b open (one tenant''s is), mcp-quiet none');
SELECT ok(position(E'\nregistry_circuit_breaker_state{server="mcp-a"} 2\n' IN analytics.prometheus_metrics()) > 0,
          'the exposition carries the circuit states');
-- Webhook deliveries: the finished notifications of the outbox.
SELECT is((SELECT coalesce(sum(deliveries), 0) FROM analytics.prom_webhook_deliveries()),
          (SELECT count(*)::numeric FROM analytics.notification_outbox WHERE status IN ('succeeded', 'failed')),
          'registry_webhook_deliveries_total: every finished notification, once');
SELECT is((SELECT count(*) FROM analytics.prom_webhook_deliveries() WHERE deliveries <= 0), 0::bigint, 'no empty series');

-- 6. Retention: raw days older than 100 days go (the unrolled one stays);
-- their counters move into the base; nothing goes down or changes.
CREATE TEMP TABLE snap1 AS SELECT * FROM analytics.prom_counters();
SELECT set_eq('SELECT * FROM pg_temp.counters()', 'SELECT * FROM pg_temp.oracle()', 'before retention: every counter equals plain SQL');
SET LOCAL analytics.raw_retention_days = 100;
CREATE TEMP TABLE r1 AS SELECT * FROM analytics.run_retention();
SELECT is((SELECT dropped_partitions FROM r1), 7, 'retention drops the 7 rolled old days');
SELECT is((SELECT kept_unrolled FROM r1), 1, 'and keeps the unrolled one');
SELECT is((SELECT folded_before FROM analytics.prom_fold_state), pg_temp.today() - 130, 'the counters are folded up to the unrolled day');
SELECT ok((SELECT count(*) FROM analytics.prom_counter_base) > 0, 'into the base');
SELECT is(pg_temp.went_down('snap1'), 0::bigint, 'run_retention: no counter went down');
SELECT set_eq('SELECT * FROM analytics.prom_counters()', 'SELECT * FROM snap1', 'run_retention: every counter is unchanged');
-- (the events of the dropped days are gone: the oracle is the snapshot)
SELECT ok((SELECT count(*) FROM analytics.usage_events WHERE occurred_at < pg_temp.at(-130, '0:00')) = 0, 'the old raw events are gone');

-- The families' rows of the folded days pruned: no counter changes.
SELECT lives_ok($$
  DELETE FROM analytics.agent_type_daily WHERE bucket < pg_temp.at(-130, '0:00');
  DELETE FROM analytics.tool_daily WHERE bucket < pg_temp.at(-130, '0:00');
  DELETE FROM analytics.tool_duration_daily WHERE bucket < pg_temp.at(-130, '0:00');
  DELETE FROM analytics.cost_daily WHERE bucket < pg_temp.at(-130, '0:00')$$, 'prune the families'' folded days');
SELECT set_eq('SELECT * FROM analytics.prom_counters()', 'SELECT * FROM snap1', 'pruned families: every counter is unchanged');

-- A late day: events written by INSERT for a day before the fold point
-- that had none (day -140) count at once, and through its rollup.
SELECT lives_ok($$SELECT analytics.ensure_partitions(pg_temp.today() - 140, pg_temp.today() - 140)$$, 'a partition for day -140');
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, tool_name, mcp_server, latency_ms, model, input_tokens, output_tokens, ingested_at)
VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-9001-000000000001', pg_temp.at(-140, '08:00'), 'tool_call', true, 2, 'prom_late', 'prom', 3, NULL, NULL, NULL, clock_timestamp()),
       ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-9001-000000000001', pg_temp.at(-140, '09:00'), 'llm_call', true, 1, NULL, NULL, NULL, 'prom-model', 100, 1, clock_timestamp());
CREATE TEMP TABLE late AS
SELECT 'registry_agent_requests_total' AS metric, '{00000000-0000-4000-9001-000000000001,tool_call}'::text[] AS labels, 2::numeric AS value
UNION ALL SELECT 'registry_agent_requests_total', '{00000000-0000-4000-9001-000000000001,llm_call}', 1
UNION ALL SELECT 'registry_tool_calls_total', '{prom_late,prom,success}', 2
UNION ALL SELECT 'registry_tool_calls_total', '{prom_late,prom,failure}', 0
UNION ALL SELECT 'registry_tool_call_duration_seconds_bucket', ARRAY['prom_late', 'prom', b.le], 2 FROM bounds b
UNION ALL SELECT 'registry_tool_call_duration_seconds_bucket', '{prom_late,prom,+Inf}', 2
UNION ALL SELECT 'registry_tool_call_duration_seconds_count', '{prom_late,prom}', 2
UNION ALL SELECT 'registry_tool_call_duration_seconds_sum', '{prom_late,prom}', 0.006
UNION ALL SELECT 'registry_estimated_token_usage', '{prom-model,00000000-0000-4000-9001-000000000001}', 101;
CREATE TEMP TABLE snap1b AS
SELECT x.metric, x.labels, sum(x.value) AS value FROM (SELECT * FROM snap1 UNION ALL SELECT * FROM late) x GROUP BY 1, 2;
SELECT set_eq('SELECT * FROM analytics.prom_counters()', 'SELECT * FROM snap1b', 'a late day''s events count at once, exactly');
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 140)$$, 'roll up the late day');
SELECT set_eq('SELECT * FROM analytics.prom_counters()', 'SELECT * FROM snap1b', 'rolled, the late day counts the same');

-- The last old day rolled, retention again: both go, the fold moves past
-- the old day (not past the raw cut), the late day joins the base.
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 130)$$, 'roll up the last old day');
SELECT is(pg_temp.went_down('snap1b'), 0::bigint, 'run_rollup: no counter went down');
CREATE TEMP TABLE r2 AS SELECT * FROM analytics.run_retention();
SELECT is((SELECT dropped_partitions FROM r2), 2, 'the second retention drops the old day and the late day');
SELECT ok((SELECT folded_before BETWEEN pg_temp.today() - 129 AND pg_temp.today() - 100 FROM analytics.prom_fold_state),
          'the counters are folded past the old day, not past the raw cut');
SELECT set_eq('SELECT * FROM analytics.prom_counters()', 'SELECT * FROM snap1b', 'second retention: every counter is unchanged');
SELECT is((SELECT count(*) FROM analytics.prom_day_ranges('-infinity', (SELECT folded_before FROM analytics.prom_fold_state), true)), 0::bigint,
          'no late day is left');
CREATE TEMP TABLE base2 AS SELECT * FROM analytics.prom_counter_base;
SELECT lives_ok($$SELECT analytics.run_retention()$$, 'a third retention (nothing to drop)');
SELECT set_eq('SELECT * FROM analytics.prom_counter_base', 'SELECT * FROM base2', 'a rerun folds nothing twice');
SELECT set_eq('SELECT * FROM analytics.prom_counters()', 'SELECT * FROM snap1b', 'third retention: every counter is unchanged');

-- 7. New events move the counters by exactly themselves, at once (raw tail),
-- and after their day is rolled again.
-- (ingested_at: the clock, as for a transaction that starts now; this
-- test's own began before the rollups above took their watermarks)
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, tool_name, mcp_server, latency_ms, model, input_tokens, output_tokens, ingested_at)
VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-9001-000000000001', pg_temp.at(-3, '09:00'), 'tool_call', false, 5, 'prom_bounds', 'prom', 30, NULL, NULL, NULL, clock_timestamp()),
       ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-9001-000000000001', now() - interval '1 second', 'llm_call', true, 1, NULL, NULL, NULL, 'prom-model', 10, 20, clock_timestamp());
SELECT ok(pg_temp.today() - 3 = ANY (analytics.find_changed_days()), 'the nightly job''s check finds the late event''s day');
CREATE TEMP TABLE now1 AS SELECT * FROM analytics.prom_counters();
CREATE FUNCTION pg_temp.delta(m text, l text[]) RETURNS numeric LANGUAGE sql STABLE
AS $$ SELECT coalesce((SELECT c.value FROM now1 c WHERE c.metric = m AND c.labels = l), 0)
           - coalesce((SELECT s.value FROM snap1b s WHERE s.metric = m AND s.labels = l), 0) $$;
SELECT results_eq(
  $$SELECT pg_temp.delta('registry_agent_requests_total', '{00000000-0000-4000-9001-000000000001,tool_call}'),
           pg_temp.delta('registry_agent_requests_total', '{00000000-0000-4000-9001-000000000001,llm_call}'),
           pg_temp.delta('registry_tool_calls_total', '{prom_bounds,prom,failure}'),
           pg_temp.delta('registry_tool_calls_total', '{prom_bounds,prom,success}'),
           pg_temp.delta('registry_tool_call_duration_seconds_bucket', '{prom_bounds,prom,0.025}'),
           pg_temp.delta('registry_tool_call_duration_seconds_bucket', '{prom_bounds,prom,0.05}'),
           pg_temp.delta('registry_tool_call_duration_seconds_count', '{prom_bounds,prom}'),
           pg_temp.delta('registry_estimated_token_usage', '{prom-model,00000000-0000-4000-9001-000000000001}')$$,
  $$VALUES (5::numeric, 1::numeric, 5::numeric, 0::numeric, 0::numeric, 5::numeric, 5::numeric, 30::numeric)$$,
  'new events (a late one for a rolled day, one now) move their counters by exactly themselves');
CREATE TEMP TABLE snap2 AS SELECT * FROM analytics.prom_counters();
SELECT lives_ok($$SELECT analytics.run_rollup(pg_temp.today() - 3)$$, 'the changed day rolled again');
SELECT lives_ok($$SELECT analytics.rollup_increment(pg_temp.today())$$, 'and today''s increment');
SELECT set_eq('SELECT * FROM analytics.prom_counters()', 'SELECT * FROM snap2', 'rolled again: every counter is unchanged');

-- 8. Who may read: not PUBLIC, not the API roles (the gateway reads it).
SELECT lives_ok($$SELECT analytics.create_api_roles()$$, 'the API roles exist');
SELECT ok(NOT has_function_privilege('analytics_tenant', 'analytics.prometheus_metrics()', 'EXECUTE')
          AND NOT has_function_privilege('analytics_anon', 'analytics.prometheus_metrics()', 'EXECUTE')
          AND NOT has_function_privilege('analytics_tenant', 'analytics.prom_counters()', 'EXECUTE')
          AND NOT has_function_privilege('analytics_tenant', 'analytics.prom_fold(date, date[])', 'EXECUTE'),
          'tenants and anonymous callers may not run the metrics functions');
SELECT ok(NOT has_table_privilege('analytics_tenant', 'analytics.prom_counter_base', 'SELECT'), 'nor read the base');

SELECT * FROM finish();
ROLLBACK;
