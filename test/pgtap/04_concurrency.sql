-- Concurrent and interrupted rollups, with real second sessions (dblink).
-- This file commits its data (other sessions must see it) and removes it at
-- the end.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET timezone = 'UTC';
SET client_min_messages = warning;
-- Leftovers of an interrupted earlier run.
\ir 04_cleanup.inc
SELECT plan(12);

SELECT analytics.upsert_tenant('c0c00000-0000-4000-8000-000000000001', 'Concurrency Co', 'pro') IS NOT NULL AS registered \gset
SELECT analytics.record_events(jsonb_agg(jsonb_build_object(
         'tenant_id', 'c0c00000-0000-4000-8000-000000000001',
         'agent_id', 'c0c00000-0000-4000-9000-00000000000' || (g % 5),
         'occurred_at', '2021-06-01T00:00:00Z'::timestamptz + make_interval(secs => g * 17),
         'event_type', (ARRAY['api_call', 'token_issuance', 'tool_call', 'llm_call'])[1 + g % 4],
         'success', g % 13 <> 0, 'latency_ms', (g % 997) * 1.5))) AS stored
FROM generate_series(1, 8000) g \gset
SELECT is(:stored::bigint, 8000::bigint, 'events for 2021-06-01 and 2021-06-02 stored');

SELECT format('dbname=%s host=%s port=%s user=%s', current_database(),
              split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_user) AS conninfo \gset
SELECT dblink_connect('a', :'conninfo') = 'OK' AS a_ok, dblink_connect('b', :'conninfo') = 'OK' AS b_ok \gset
SELECT pid AS a_pid FROM dblink('a', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT pid AS b_pid FROM dblink('b', 'SELECT pg_backend_pid()') AS t(pid int) \gset

-- Two sessions roll up the same day at the same moment: this session holds
-- the day's rollup lock until both are waiting for it.
SELECT pg_advisory_lock(hashtext('analytics.rollup_day'), '2021-06-01'::date - '2000-01-01'::date) IS NOT NULL AS locked \gset
SELECT dblink_send_query('a', $$SELECT analytics.run_rollup('2021-06-01')$$) = 1 AS sent_a \gset
SELECT dblink_send_query('b', $$SELECT analytics.run_rollup('2021-06-01')$$) = 1 AS sent_b \gset
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'
                   AND query LIKE '%run_rollup(''2021-06-01'')%') = 2;
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();  -- pg_stat_activity is read once per transaction otherwise
    END LOOP;
END
$$;
SELECT is((SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory' AND query LIKE '%run_rollup(''2021-06-01'')%'),
          2::bigint, 'both sessions are rolling up 2021-06-01 at once');
SELECT pg_advisory_unlock(hashtext('analytics.rollup_day'), '2021-06-01'::date - '2000-01-01'::date) AS unlocked \gset
SELECT n AS a_rows FROM dblink_get_result('a') AS t(n bigint) \gset
SELECT count(*) AS a_done FROM dblink_get_result('a') AS t(n bigint) \gset
SELECT n AS b_rows FROM dblink_get_result('b') AS t(n bigint) \gset
SELECT count(*) AS b_done FROM dblink_get_result('b') AS t(n bigint) \gset
SELECT ok((:a_rows > 0 AND :b_rows = 0) OR (:a_rows = 0 AND :b_rows > 0),
          'one session rolled the day up, the other waited and found nothing to do');
SELECT is((SELECT sum(count)::bigint FROM analytics.analytics_daily_aggregates
           WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001' AND date = '2021-06-01'),
          (SELECT sum(m.n)::bigint FROM analytics.usage_events e
           CROSS JOIN LATERAL (VALUES (CASE WHEN e.event_type IN ('api_call', 'token_issuance', 'tool_call', 'llm_call') THEN e.count END),
                                      (CASE WHEN e.event_type = 'token_issuance' AND NOT e.success THEN e.count END)) m(n)
           WHERE e.tenant_id = 'c0c00000-0000-4000-8000-000000000001'
             AND e.occurred_at >= '2021-06-01' AND e.occurred_at < '2021-06-02'),
          'the day''s rows equal the raw counts');
SELECT is((SELECT count(*) FROM analytics.job_runs WHERE target_date = '2021-06-01'), 2::bigint, 'both runs are in the history');

-- A rollup killed mid-way leaves no partial day.  Session a locks
-- tenant_daily, so session b's rollup of 2021-06-02 stops after writing its
-- other rows; then b is terminated.
SELECT dblink_exec('a', 'BEGIN') = 'BEGIN' AS began \gset
SELECT dblink_exec('a', 'LOCK TABLE analytics.tenant_daily IN ACCESS EXCLUSIVE MODE') = 'LOCK TABLE' AS locked_td \gset
SELECT dblink_send_query('b', $$SELECT analytics.run_rollup('2021-06-02')$$) = 1 AS sent_b2 \gset
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'relation'
                          AND query LIKE '%run_rollup(''2021-06-02'')%');
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();  -- pg_stat_activity is read once per transaction otherwise
    END LOOP;
END
$$;
SELECT ok(EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :b_pid AND wait_event_type = 'Lock'),
          'the rollup of 2021-06-02 is mid-way, waiting for tenant_daily');
SELECT ok(pg_terminate_backend(:b_pid), 'the rollup is killed');
SELECT dblink_exec('a', 'ROLLBACK') = 'ROLLBACK' AS rolled_back \gset
SELECT dblink_disconnect('a') = 'OK' AS a_closed \gset
SELECT is((SELECT count(*) FROM analytics.usage_stats_daily WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001' AND date = '2021-06-02')
        + (SELECT count(*) FROM analytics.analytics_daily_aggregates WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001' AND date = '2021-06-02')
        + (SELECT count(*) FROM analytics.tenant_daily WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001' AND date = '2021-06-02'),
          0::bigint, 'no partial rows of the killed day');
SELECT ok(NOT analytics.day_is_clean('2021-06-02') AND EXISTS (SELECT 1 FROM analytics.rollup_invalidations WHERE day = '2021-06-02'),
          'the killed day is still waiting for its rollup');
SELECT ok(analytics.run_rollup('2021-06-02') > 0, 'the next run rolls it up');
SELECT is((SELECT api_calls + token_issuances + tool_calls + llm_calls FROM analytics.tenant_daily
           WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001' AND date = '2021-06-02'),
          (SELECT sum(count)::bigint FROM analytics.usage_events WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001'
             AND occurred_at >= '2021-06-02' AND occurred_at < '2021-06-03'),
          'and its rows equal the raw counts');
SELECT ok(analytics.day_is_clean('2021-06-02'), 'the day is clean');

-- Clean up what this file committed.
\ir 04_cleanup.inc
SELECT * FROM finish();
