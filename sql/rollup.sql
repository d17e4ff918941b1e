-- rollup: the daily rollups equal counts over raw events, reruns write
-- nothing, late events are picked up, reads are real-time.
SET timezone = 'UTC';
-- The days below are years old: accept them (record_events refuses events
-- older than the raw retention window).
SET analytics.raw_retention_days = 36500;
SET client_min_messages = warning;
\set ECHO none
\i datagen/generate.sql
\set ECHO all
RESET client_min_messages;
SELECT * FROM analytics_datagen.generate(20000, 7, '2020-01-07', 0.3);

-- INSERT logs no day (record_events does); none is rolled, so every day
-- is read from raw events whole.
SELECT count(*) AS changed FROM analytics.changed_days WHERE day BETWEEN '2020-01-01' AND '2020-01-07';
SELECT cardinality(whole) AS unclean FROM analytics.read_plan('2020-01-01', '2020-01-07');
SELECT count(*) AS rolled FROM analytics.rollup_days WHERE day BETWEEN '2020-01-01' AND '2020-01-07';

SELECT d::date AS day, analytics.run_rollup(d::date) > 0 AS wrote_rows
FROM generate_series('2020-01-01'::date, '2020-01-07', interval '1 day') d;
SELECT count(*) AS still_changed FROM analytics.changed_days WHERE day BETWEEN '2020-01-01' AND '2020-01-07';
SELECT cardinality(days) AS unclean_after_rollup FROM analytics.read_plan('2020-01-01', '2020-01-07');

-- The rollup equals the raw counts for every (tenant, agent, day, metric):
-- rows that disagree are printed (none).
WITH raw AS (
    SELECT tenant_id, coalesce(agent_id, '00000000-0000-0000-0000-000000000000') AS agent, (occurred_at AT TIME ZONE 'UTC')::date AS date,
           m.metric_type, sum(m.n) AS count
    FROM analytics.usage_events e
    CROSS JOIN LATERAL (VALUES
        ('api_calls', CASE WHEN event_type = 'api_call' THEN count END),
        ('token_issuances', CASE WHEN event_type = 'token_issuance' THEN count END),
        ('token_failures', CASE WHEN event_type = 'token_issuance' AND NOT success THEN count END),
        ('credential_rotations', CASE WHEN event_type = 'credential_rotation' THEN count END),
        ('tool_calls', CASE WHEN event_type = 'tool_call' THEN count END),
        ('llm_calls', CASE WHEN event_type = 'llm_call' THEN count END)) AS m(metric_type, n)
    WHERE occurred_at >= '2020-01-01' AND occurred_at < '2020-01-08' AND m.n IS NOT NULL
    GROUP BY 1, 2, 3, 4
)
SELECT * FROM raw
FULL JOIN (SELECT tenant_id, coalesce(agent_id, '00000000-0000-0000-0000-000000000000') AS agent, date, metric_type, count
           FROM analytics.analytics_daily_aggregates WHERE date BETWEEN '2020-01-01' AND '2020-01-07') a
    USING (tenant_id, agent, date, metric_type)
WHERE raw.count IS DISTINCT FROM a.count;
SELECT count(*) > 0 AS has_rows, count(*) FILTER (WHERE agent_id IS NULL) > 0 AS has_tenant_level_rows
FROM analytics.analytics_daily_aggregates WHERE date BETWEEN '2020-01-01' AND '2020-01-07';

-- usage_stats_daily: calls, failures, tokens and the latency sketch agree
-- with the raw events (disagreeing groups are printed: none).
SELECT s.tenant_id, s.event_type, s.model, s.calls, r.calls
FROM analytics.usage_stats_daily s
JOIN (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS date, tenant_id, agent_id, event_type, endpoint, method, tool_name,
             mcp_server, model, sum(count) AS calls, sum(count) FILTER (WHERE NOT success) AS failures,
             coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(count) FILTER (WHERE latency_ms IS NOT NULL), 0) AS latencies, max(latency_ms) AS max_latency
      FROM analytics.usage_events WHERE occurred_at >= '2020-01-01' AND occurred_at < '2020-01-08'
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9) r
  ON (r.date, r.tenant_id, r.event_type) = (s.date, s.tenant_id, s.event_type)
 AND r.agent_id IS NOT DISTINCT FROM s.agent_id AND r.endpoint IS NOT DISTINCT FROM s.endpoint
 AND r.method IS NOT DISTINCT FROM s.method AND r.tool_name IS NOT DISTINCT FROM s.tool_name
 AND r.mcp_server IS NOT DISTINCT FROM s.mcp_server AND r.model IS NOT DISTINCT FROM s.model
WHERE s.calls <> r.calls OR s.failures <> coalesce(r.failures, 0) OR s.input_tokens <> r.input_tokens
   OR coalesce(analytics.sketch_count(s.latency), 0) <> r.latencies
   OR analytics.sketch_max(s.latency) IS DISTINCT FROM r.max_latency;
SELECT (SELECT count(*) FROM analytics.usage_stats_daily WHERE date BETWEEN '2020-01-01' AND '2020-01-07')
     = (SELECT count(*) FROM (SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date, tenant_id, agent_id, event_type, endpoint,
                                     method, tool_name, mcp_server, model
                              FROM analytics.usage_events WHERE occurred_at >= '2020-01-01' AND occurred_at < '2020-01-08') x)
       AS one_stats_row_per_group;

-- A rerun over unchanged days is skipped and writes nothing.
SELECT analytics.run_rollup('2020-01-03') AS rows_written;
-- Forcing a recompute (an event added and removed) rewrites no row.
CREATE TEMP TABLE before_rerun AS
SELECT xmin::text AS x, * FROM analytics.usage_stats_daily WHERE date = '2020-01-03';
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type)
VALUES ('00000000-0000-4000-8000-000000000002', '2020-01-03 12:00+00', 'session');
DELETE FROM analytics.usage_events WHERE tenant_id = '00000000-0000-4000-8000-000000000002'
   AND occurred_at = '2020-01-03 12:00+00' AND event_type = 'session' AND agent_id IS NULL AND user_id IS NULL;
-- (whoever updates or deletes events logs their days)
SELECT analytics.mark_days_changed('{2020-01-03}') AS days_logged;
SELECT analytics.day_is_clean('2020-01-03') AS clean_after_change;
SELECT analytics.run_rollup('2020-01-03') AS rows_written;
SELECT count(*) AS rows_rewritten FROM analytics.usage_stats_daily s JOIN before_rerun b
    ON b.tenant_id = s.tenant_id AND b.event_type = s.event_type AND b.agent_id IS NOT DISTINCT FROM s.agent_id
   AND b.endpoint IS NOT DISTINCT FROM s.endpoint AND b.method IS NOT DISTINCT FROM s.method
   AND b.tool_name IS NOT DISTINCT FROM s.tool_name AND b.mcp_server IS NOT DISTINCT FROM s.mcp_server
   AND b.model IS NOT DISTINCT FROM s.model
WHERE s.date = '2020-01-03' AND s.xmin::text <> b.x;

-- A late event for a rolled day shows at once in the real-time read, and
-- the next run puts it in the rollup.
SELECT api_calls AS before_late FROM analytics.daily_counts('00000000-0000-4000-8000-000000000001', '2020-01-05', '2020-01-05');
SELECT analytics.record_events('[{"tenant_id": "00000000-0000-4000-8000-000000000001", "occurred_at": "2020-01-05T10:00:00Z",
                                  "event_type": "api_call", "count": 1000}]');
SELECT analytics.day_is_clean('2020-01-05') AS clean_after_late_event;
SELECT api_calls AS realtime_after_late FROM analytics.daily_counts('00000000-0000-4000-8000-000000000001', '2020-01-05', '2020-01-05');
SELECT sum(count) AS rolled_before_rerun FROM analytics.analytics_daily_aggregates
WHERE tenant_id = '00000000-0000-4000-8000-000000000001' AND date = '2020-01-05' AND metric_type = 'api_calls';
SELECT analytics.run_rollup('2020-01-05') > 0 AS rerun_wrote;
SELECT sum(count) AS rolled_after_rerun FROM analytics.analytics_daily_aggregates
WHERE tenant_id = '00000000-0000-4000-8000-000000000001' AND date = '2020-01-05' AND metric_type = 'api_calls';
SELECT api_calls AS read_after_rerun FROM analytics.daily_counts('00000000-0000-4000-8000-000000000001', '2020-01-05', '2020-01-05');

-- A late event written by INSERT (no log): the nightly job finds its day by
-- ingested_at, and the rollup then counts it.
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, count)
VALUES ('00000000-0000-4000-8000-000000000001', 'a9e00000-0000-4000-8000-0000000000a1', '2020-01-06 10:00+00', 'api_call', 500);
SELECT analytics.day_is_clean('2020-01-06') AS clean_before_job;
SELECT analytics.find_changed_days() AS found;
SELECT analytics.day_is_clean('2020-01-06') AS clean_after_find;
SELECT analytics.run_rollup('2020-01-06') > 0 AS rerun_wrote;
SELECT (SELECT sum(count) FROM analytics.analytics_daily_aggregates
        WHERE tenant_id = '00000000-0000-4000-8000-000000000001' AND date = '2020-01-06' AND metric_type = 'api_calls')
     = (SELECT sum(count) FROM analytics.usage_events
        WHERE tenant_id = '00000000-0000-4000-8000-000000000001' AND event_type = 'api_call'
          AND occurred_at >= '2020-01-06' AND occurred_at < '2020-01-07') AS insert_counted;
SELECT analytics.find_changed_days() AS found_again;
-- The agent INSERT brought in unregistered is registered by the rollup.
SELECT tenant_id, name FROM analytics.agents WHERE agent_id = 'a9e00000-0000-4000-8000-0000000000a1';

-- Real-time reads equal the raw counts whether a day is rolled or not.
SELECT d.* FROM analytics.daily_counts('00000000-0000-4000-8000-000000000003', '2019-12-30', '2020-01-09') d
JOIN (SELECT g::date AS date,
             (SELECT coalesce(sum(count), 0) FROM analytics.usage_events
              WHERE tenant_id = '00000000-0000-4000-8000-000000000003' AND event_type = 'api_call'
                AND (occurred_at AT TIME ZONE 'UTC')::date = g::date) AS api_calls
      FROM generate_series('2019-12-30'::date, '2020-01-09', interval '1 day') g) r USING (date)
WHERE d.api_calls <> r.api_calls;
SELECT count(*) AS days FROM analytics.daily_counts('00000000-0000-4000-8000-000000000003', '2019-12-30', '2020-01-09');

-- Tenant-wide rows (agent_id NULL) stay unique.
INSERT INTO analytics.analytics_daily_aggregates (tenant_id, agent_id, date, metric_type, count)
VALUES ('00000000-0000-4000-8000-000000000001', NULL, '2020-01-02', 'api_calls', 1);

-- The job history.
SELECT job, status, count(*) FROM analytics.job_runs WHERE target_date BETWEEN '2020-01-01' AND '2020-01-07'
GROUP BY 1, 2 ORDER BY 1, 2;

-- Scheduling needs pg_cron, which this database does not have.
SELECT analytics.schedule_rollup();
SELECT analytics.unschedule_rollup();
SELECT analytics.schedule_retention();
