-- Retention: nothing unrolled is dropped; monthly rows equal the sum of their
-- days; the p95 of a monthly sketch equals the p95 of the merged daily ones.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(15);
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;

-- 40 days of events ending 200 days ago; roll up all but the 5 oldest.
CREATE TEMP TABLE span AS
SELECT (now() AT TIME ZONE 'UTC')::date - 239 AS first_day, (now() AT TIME ZONE 'UTC')::date - 200 AS last_day;
SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(8000, 40, (SELECT last_day FROM span), 0.11)$$, 'generate 40 old days');
SELECT lives_ok($$SELECT analytics.run_rollup(d::date) FROM span, generate_series(first_day + 5, last_day, interval '1 day') d$$,
                'roll up all but the 5 oldest days');

-- Keep the raw days of the last 220 days, the daily rows of the last 215.
SET LOCAL analytics.raw_retention_days = 220;
SET LOCAL analytics.daily_retention_days = 215;
CREATE TEMP TABLE daily_before AS
SELECT * FROM analytics.analytics_daily_aggregates, span WHERE date BETWEEN first_day AND last_day;
CREATE TEMP TABLE stats_before AS
SELECT * FROM analytics.usage_stats_daily, span WHERE date BETWEEN first_day AND last_day;
CREATE TEMP TABLE r AS SELECT * FROM analytics.run_retention();

SELECT is((SELECT kept_unrolled FROM r), 5, 'the 5 unrolled old days are kept');
SELECT is((SELECT count(*)::int FROM analytics.event_partitions, span WHERE day BETWEEN first_day AND first_day + 4), 5,
          'their partitions still exist');
SELECT is((SELECT count(*) FROM analytics.usage_events, span
           WHERE occurred_at >= first_day::timestamp AT TIME ZONE 'UTC'
             AND occurred_at < (first_day + 5)::timestamp AT TIME ZONE 'UTC') > 0, true, 'with their events');
SELECT is((SELECT dropped_partitions FROM r), 14, 'the 14 rolled days older than 220 days are dropped');
SELECT is((SELECT count(*)::int FROM analytics.event_partitions, span WHERE day BETWEEN first_day + 5 AND first_day + 18), 0,
          'their partitions are gone');
SELECT is((SELECT count(*)::int FROM analytics.rollup_days, span WHERE day BETWEEN first_day + 5 AND first_day + 18 AND raw_dropped), 14,
          'rollup_days records that their raw events are gone');
-- A late event for a dropped day is outside record_events' accepted window
-- (older than raw_retention_days): refused, nothing stored, the day not logged.
SELECT throws_ok(format('SELECT analytics.record_events(%L)', jsonb_build_array(jsonb_build_object(
                     'tenant_id', '00000000-0000-4000-8000-000000000001',
                     'occurred_at', (first_day + 6)::timestamp AT TIME ZONE 'UTC' + interval '1 hour', 'event_type', 'api_call'))),
                 '22008', 'event 0: occurred_at is before the start of the UTC day analytics.raw_retention_days (220) days ago',
                 'a late event for a day whose raw events were dropped is refused (outside the window)')
FROM span;
SELECT ok((SELECT NOT EXISTS (SELECT 1 FROM analytics.changed_days WHERE day = first_day + 6)
                  AND NOT EXISTS (SELECT 1 FROM analytics.usage_events
                                  WHERE occurred_at >= (first_day + 6)::timestamp AT TIME ZONE 'UTC'
                                    AND occurred_at < (first_day + 7)::timestamp AT TIME ZONE 'UTC')
           FROM span), 'nothing of it was stored or logged');

-- Daily rows older than 215 days are folded into months.
SELECT is((SELECT count(*) FROM analytics.analytics_daily_aggregates, span
           WHERE date BETWEEN first_day AND last_day AND date < (now() AT TIME ZONE 'UTC')::date - 215), 0::bigint,
          'no daily rows older than the daily window are left');
SELECT set_eq(
  $$SELECT tenant_id, agent_id, date_trunc('month', date)::date, metric_type, sum(count)::bigint
    FROM daily_before WHERE date < (now() AT TIME ZONE 'UTC')::date - 215 GROUP BY 1, 2, 3, 4$$,
  $$SELECT m.tenant_id, m.agent_id, m.month, m.metric_type, m.count FROM analytics.analytics_monthly_aggregates m, span
    WHERE m.month BETWEEN date_trunc('month', first_day) AND last_day$$,
  'monthly rows equal the sum of their folded days');
SELECT is(
  (SELECT count(*) FROM (
     SELECT m.month, m.tenant_id, m.agent_id, m.event_type, m.endpoint, m.model,
            analytics.quantile(m.latency, 0.95) AS monthly_p95,
            (SELECT analytics.quantile(analytics.qsketch_merge(s.latency), 0.95) FROM stats_before s
             WHERE date_trunc('month', s.date)::date = m.month AND s.date < (now() AT TIME ZONE 'UTC')::date - 215
               AND s.tenant_id = m.tenant_id AND s.agent_id IS NOT DISTINCT FROM m.agent_id AND s.event_type = m.event_type
               AND s.endpoint IS NOT DISTINCT FROM m.endpoint AND s.method IS NOT DISTINCT FROM m.method
               AND s.tool_name IS NOT DISTINCT FROM m.tool_name AND s.mcp_server IS NOT DISTINCT FROM m.mcp_server
               AND s.model IS NOT DISTINCT FROM m.model) AS merged_p95
     FROM analytics.usage_stats_monthly m, span WHERE m.month BETWEEN date_trunc('month', first_day) AND last_day) x
   WHERE monthly_p95 IS DISTINCT FROM merged_p95), 0::bigint,
  'the p95 of every monthly sketch equals the p95 of its merged daily sketches');
SELECT ok((SELECT count(*) FROM analytics.usage_stats_monthly m, span WHERE m.month BETWEEN date_trunc('month', first_day) AND last_day AND m.latency IS NOT NULL) > 0,
          'there are monthly sketches to compare');
SELECT is((SELECT status FROM analytics.job_runs WHERE job = 'retention' ORDER BY run_id DESC LIMIT 1), 'succeeded',
          'the retention run is in the job history');

SELECT * FROM finish();
ROLLBACK;
