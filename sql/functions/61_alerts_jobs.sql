-------------------------------------------------------------------------------
-- functions/61_alerts_jobs.sql (layer 61, jobs): the minute evaluation of
-- alert rules under pg_cron (contract §6.6).  Re-runnable.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.schedule_alerts(schedule text DEFAULT '* * * * *')
RETURNS bigint
LANGUAGE sql VOLATILE STRICT
AS $$ SELECT analytics.schedule_job('analytics-alerts', schedule, 'SELECT analytics.evaluate_alerts()') $$;
COMMENT ON FUNCTION analytics.schedule_alerts(text) IS
    'Registers the alert evaluation job with pg_cron (job name analytics-alerts, default every minute); calling it again updates the job; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_alerts()
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$ SELECT analytics.unschedule_job('analytics-alerts') $$;
COMMENT ON FUNCTION analytics.unschedule_alerts() IS 'Removes the alert evaluation job; false when it was not scheduled';
