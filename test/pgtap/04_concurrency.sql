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
-- The days here (2021-06-01..03) are years old: widen record_events'
-- accepted window for this session (and the writer sessions below).
SET analytics.raw_retention_days = 36500;
-- Leftovers of an interrupted earlier run.
\ir 04_cleanup.inc
SELECT plan(29);

SELECT analytics.upsert_tenant('c0c00000-0000-4000-8000-000000000001', 'Concurrency Co', 'pro') IS NOT NULL AS registered \gset
-- Day partitions for 2021-06-01 and 02 (record_events creates none; 2021-06-03
-- below stays in the default partition).
SELECT analytics.ensure_partitions('2021-06-01', '2021-06-02') AS made_partitions \gset
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
-- the day's lock (analytics.lock_day's key) until both are waiting for it.
SELECT pg_advisory_lock(hashtext('analytics.day'), '2021-06-01'::date - '2000-01-01'::date) IS NOT NULL AS locked \gset
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
SELECT pg_advisory_unlock(hashtext('analytics.day'), '2021-06-01'::date - '2000-01-01'::date) AS unlocked \gset
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
SELECT ok(NOT analytics.day_is_clean('2021-06-02') AND EXISTS (SELECT 1 FROM analytics.changed_days WHERE day = '2021-06-02'),
          'the killed day is still waiting for its rollup');
SELECT ok(analytics.run_rollup('2021-06-02') > 0, 'the next run rolls it up');
SELECT is((SELECT api_calls + token_issuances + tool_calls + llm_calls FROM analytics.tenant_daily
           WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001' AND date = '2021-06-02'),
          (SELECT sum(count)::bigint FROM analytics.usage_events WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001'
             AND occurred_at >= '2021-06-02' AND occurred_at < '2021-06-03'),
          'and its rows equal the raw counts');
SELECT ok(analytics.day_is_clean('2021-06-02'), 'the day is clean');

-- The race the day lock closes: a record_events writer of a day that has not
-- committed when a rollup of that day starts makes the rollup wait (the
-- writer holds analytics.lock_day shared, the rollup exclusive), so none of
-- its events is lost: each is counted by the rollup, or the day stays unclean.
SELECT dblink_connect('w', :'conninfo') = 'OK' AS w_ok, dblink_connect('r', :'conninfo') = 'OK' AS r_ok \gset
SELECT pid AS r_pid FROM dblink('r', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT ok(analytics.day_is_clean('2021-06-01'), '2021-06-01 is clean before the writer starts');
SELECT dblink_exec('w', 'BEGIN') = 'BEGIN' AS w_began \gset
SELECT dblink_exec('w', 'SET LOCAL analytics.raw_retention_days = 36500') = 'SET' AS w_set \gset
SELECT n AS w_stored FROM dblink('w', $$
    SELECT analytics.record_events(jsonb_agg(jsonb_build_object(
             'tenant_id', 'c0c00000-0000-4000-8000-000000000001',
             'agent_id', 'c0c00000-0000-4000-9000-00000000000' || (g % 5),
             'occurred_at', '2021-06-01T00:00:00Z'::timestamptz + make_interval(secs => g * 61),
             'event_type', (ARRAY['api_call', 'token_issuance', 'credential_rotation'])[1 + g % 3],
             'success', g % 7 <> 0, 'endpoint', '/race', 'latency_ms', g)))
    FROM generate_series(1, 600) g$$) AS t(n bigint) \gset
SELECT is(:w_stored::bigint, 600::bigint, 'a writer has recorded 600 events of 2021-06-01 and not committed');
SELECT is((SELECT count(*) FROM analytics.usage_events WHERE endpoint = '/race'), 0::bigint, 'they are not visible yet');
SELECT dblink_send_query('r', $$SELECT analytics.run_rollup('2021-06-01')$$) = 1 AS sent_r \gset
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'
                          AND query LIKE '%run_rollup(''2021-06-01'')%');
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END
$$;
SELECT ok(EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :r_pid AND wait_event_type = 'Lock' AND wait_event = 'advisory'),
          'a rollup of 2021-06-01 started meanwhile waits for the writer');
SELECT dblink_exec('w', 'COMMIT') = 'COMMIT' AS w_committed \gset
SELECT n AS r_rows FROM dblink_get_result('r') AS t(n bigint) \gset
SELECT count(*) AS r_done FROM dblink_get_result('r') AS t(n bigint) \gset
SELECT is((SELECT count(*) FROM analytics.usage_events WHERE endpoint = '/race'), 600::bigint, 'the writer''s 600 events are committed');
SELECT ok(NOT analytics.day_is_clean('2021-06-01')
          OR (SELECT array_agg(metric_type || '=' || n ORDER BY metric_type)
              FROM (SELECT metric_type, sum(count) AS n FROM analytics.analytics_daily_aggregates
                    WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001' AND date = '2021-06-01' GROUP BY 1) x)
             = (SELECT array_agg(m || '=' || n ORDER BY m)
                FROM (SELECT m, sum(n) AS n FROM analytics.usage_events e
                      CROSS JOIN LATERAL (VALUES (CASE e.event_type WHEN 'api_call' THEN 'api_calls' WHEN 'token_issuance' THEN 'token_issuances'
                                                      WHEN 'credential_rotation' THEN 'credential_rotations' WHEN 'tool_call' THEN 'tool_calls'
                                                      WHEN 'llm_call' THEN 'llm_calls' END, e.count),
                                                 (CASE WHEN e.event_type = 'token_issuance' AND NOT e.success THEN 'token_failures' END, e.count)) v(m, n)
                      WHERE e.tenant_id = 'c0c00000-0000-4000-8000-000000000001' AND v.m IS NOT NULL
                        AND e.occurred_at >= '2021-06-01' AND e.occurred_at < '2021-06-02' GROUP BY m) y),
          'zero lost: every event of the writer is counted by the rollup, or the day is left unclean');
SELECT is((SELECT array[api_calls, token_issuances, token_failures, credential_rotations, tool_calls, llm_calls]
           FROM analytics.daily_counts('c0c00000-0000-4000-8000-000000000001', '2021-06-01', '2021-06-01')),
          (SELECT array[coalesce(sum(count) FILTER (WHERE event_type = 'api_call'), 0),
                        coalesce(sum(count) FILTER (WHERE event_type = 'token_issuance'), 0),
                        coalesce(sum(count) FILTER (WHERE event_type = 'token_issuance' AND NOT success), 0),
                        coalesce(sum(count) FILTER (WHERE event_type = 'credential_rotation'), 0),
                        coalesce(sum(count) FILTER (WHERE event_type = 'tool_call'), 0),
                        coalesce(sum(count) FILTER (WHERE event_type = 'llm_call'), 0)]::bigint[]
           FROM analytics.usage_events WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001'
             AND occurred_at >= '2021-06-01' AND occurred_at < '2021-06-02'),
          'and the day''s answer counts every raw event');
SELECT ok(:r_rows > 0 AND analytics.day_is_clean('2021-06-01'),
          'here the rollup ran after the commit: it rewrote the day and left it clean');

-- INSERT and COPY take no day lock: a rollup does not wait for them.  An
-- INSERT under way while the rollup reads the day is found afterwards by
-- analytics.find_changed_days (its ingested_at is at or after the rollup's
-- watermark), so its events are not lost either.
SELECT analytics.record_events(jsonb_agg(jsonb_build_object(
         'tenant_id', 'c0c00000-0000-4000-8000-000000000001',
         'occurred_at', '2021-06-03T00:00:00Z'::timestamptz + make_interval(secs => g * 300),
         'event_type', 'api_call'))) AS stored3
FROM generate_series(1, 100) g \gset
SELECT dblink_exec('w', 'BEGIN') = 'BEGIN' AS w_began2 \gset
SELECT dblink_exec('w', $$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, endpoint)
                          SELECT 'c0c00000-0000-4000-8000-000000000001', '2021-06-03T00:00:00Z'::timestamptz + make_interval(secs => g * 250),
                                 'api_call', '/race-insert' FROM generate_series(1, 300) g$$) = 'INSERT 0 300' AS w_inserted \gset
SET statement_timeout = '60s';
SELECT ok(analytics.run_rollup('2021-06-03') > 0, 'a rollup of 2021-06-03 runs while an INSERT of the day is under way');
RESET statement_timeout;
SELECT is((SELECT events FROM analytics.rollup_days WHERE day = '2021-06-03'), 100::bigint,
          'it saw the 100 committed events only');
SELECT dblink_exec('w', 'COMMIT') = 'COMMIT' AS w_committed2 \gset
SELECT ok(analytics.day_is_clean('2021-06-03'), 'after the INSERT commits the day still looks clean (INSERT logs nothing)');
SELECT ok('2021-06-03' = ANY (analytics.find_changed_days()), 'find_changed_days finds the day by the watermark');
SELECT ok(NOT analytics.day_is_clean('2021-06-03'), 'the day is unclean: reads take it from raw events');
SELECT is((SELECT api_calls FROM analytics.daily_counts('c0c00000-0000-4000-8000-000000000001', '2021-06-03', '2021-06-03')),
          400::bigint, 'the day''s answer counts all 400 events');
SELECT ok(analytics.run_rollup('2021-06-03') > 0, 'the next rollup recomputes it');
SELECT is((SELECT count FROM analytics.analytics_daily_aggregates WHERE tenant_id = 'c0c00000-0000-4000-8000-000000000001'
           AND date = '2021-06-03' AND agent_id IS NULL AND metric_type = 'api_calls'), 400::bigint,
          'and its rollup counts all 400 events');
SELECT ok(analytics.day_is_clean('2021-06-03') AND NOT ('2021-06-03' = ANY (analytics.find_changed_days())),
          'the day is clean and find_changed_days no longer finds it');
SELECT dblink_disconnect('w') = 'OK' AS w_closed, dblink_disconnect('r') = 'OK' AS r_closed \gset

-- Clean up what this file committed.
\ir 04_cleanup.inc
SELECT * FROM finish();
