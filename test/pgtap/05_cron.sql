-- Scheduling with the real pg_cron: a fixed job name, rescheduling updates,
-- and a job that really runs (bounded wait) and rolls up the rows.  This
-- file commits its data (the job runs in another session) and removes it.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET timezone = 'UTC';
SET client_min_messages = warning;
\ir 05_cleanup.inc
SELECT plan(15);

SELECT analytics.schedule_rollup() AS job_id \gset
SELECT ok(:job_id > 0, 'schedule_rollup() returns the job id');
SELECT is(analytics.schedule_rollup('5 0 * * *'), :job_id::bigint, 'scheduling again updates the same job');
SELECT is((SELECT count(*) FROM cron.job WHERE jobname = 'analytics-rollup'), 1::bigint, 'one job named analytics-rollup');
SELECT is((SELECT schedule || ' | ' || command FROM cron.job WHERE jobname = 'analytics-rollup'),
          '5 0 * * * | CALL analytics.rollup_job()', 'nightly at 00:05 UTC, running analytics.rollup_job()');
SELECT throws_like($$SELECT analytics.schedule_rollup('every full moon')$$, '%invalid schedule%', 'a bad schedule is refused by pg_cron');
SELECT ok(analytics.schedule_retention() > 0, 'schedule_retention() returns a job id');
SELECT ok(analytics.unschedule_retention(), 'unschedule_retention() removes it');
SELECT ok(NOT analytics.unschedule_retention(), 'and says false when there is no job');

-- A real run: events of three days ago (record_events stores them in the
-- default partition unless the day has a partition, and logs the day), the
-- job every minute, a bounded wait.
SELECT analytics.upsert_tenant('c40c0000-0000-4000-8000-000000000001', 'Cron Co', 'enterprise') IS NOT NULL AS registered \gset
SELECT (now() AT TIME ZONE 'UTC')::date - 3 AS day \gset
SELECT analytics.record_events(jsonb_agg(jsonb_build_object(
         'tenant_id', 'c40c0000-0000-4000-8000-000000000001',
         'agent_id', 'c40c0000-0000-4000-9000-00000000000' || (g % 3),
         'occurred_at', (:'day'::date)::timestamp AT TIME ZONE 'UTC' + make_interval(secs => g * 40),
         'event_type', (ARRAY['api_call', 'token_issuance', 'credential_rotation'])[1 + g % 3]))) AS stored
FROM generate_series(1, 1500) g \gset
SELECT now() AS scheduled_at, set_config('analytics_test.scheduled_at', now()::text, false) IS NOT NULL AS noted \gset
SELECT is(analytics.schedule_rollup('* * * * *'), :job_id::bigint, 'the job now runs every minute');
DO $$
BEGIN
    FOR i IN 1..150 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                          WHERE j.jobname = 'analytics-rollup' AND d.status IN ('succeeded', 'failed')
                            AND d.start_time >= current_setting('analytics_test.scheduled_at')::timestamptz);
        PERFORM pg_sleep(1);
    END LOOP;
END
$$ /* the wait is bounded: 150 s */;
SELECT is((SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid)
           WHERE j.jobname = 'analytics-rollup' AND d.start_time >= :'scheduled_at'::timestamptz
           ORDER BY d.start_time LIMIT 1), 'succeeded', 'pg_cron ran the rollup job and it succeeded');
SELECT is((SELECT array_agg(metric_type || '=' || count ORDER BY metric_type) FROM analytics.analytics_daily_aggregates
           WHERE tenant_id = 'c40c0000-0000-4000-8000-000000000001' AND date = :'day'::date AND agent_id IS NOT NULL),
          (SELECT array_agg(m || '=' || n ORDER BY m) FROM (
              SELECT CASE event_type WHEN 'api_call' THEN 'api_calls' WHEN 'token_issuance' THEN 'token_issuances'
                                     ELSE 'credential_rotations' END AS m, sum(count) AS n
              FROM analytics.usage_events WHERE tenant_id = 'c40c0000-0000-4000-8000-000000000001' GROUP BY 1) x),
          'the job rolled up the day: its rows equal the raw counts');
SELECT ok(to_regclass('analytics.' || analytics.partition_name(:'day'::date)) IS NOT NULL,
          'the day has its partition (record_events makes none; the job''s maintain_partitions does)');
SELECT is((SELECT count(*) FROM analytics.usage_events_default WHERE tenant_id = 'c40c0000-0000-4000-8000-000000000001'), 0::bigint,
          'none of the day''s events is left in the default partition');
SELECT is((SELECT status FROM analytics.job_runs WHERE target_date = :'day'::date AND job = 'rollup'
           ORDER BY run_id DESC LIMIT 1), 'succeeded', 'the run is in analytics.job_runs');
SELECT ok(analytics.unschedule_rollup(), 'unschedule_rollup() removes the job');

\ir 05_cleanup.inc
SELECT * FROM finish();
