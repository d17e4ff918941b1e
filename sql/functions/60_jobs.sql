-------------------------------------------------------------------------------
-- functions/60_jobs.sql (layer 60, retention and scheduling): the nightly
-- rollup job, retention, and their pg_cron schedules.  Re-runnable: part of
-- the install script and of every upgrade.
-------------------------------------------------------------------------------

-- The scheduled job: premake partitions, roll up yesterday and every closed
-- day in the invalidation log (late events), one transaction per day, each
-- recorded in job_runs even when it fails; then prune the history.  Raises
-- at the end if a day failed, so pg_cron records the failure too.
CREATE OR REPLACE PROCEDURE analytics.rollup_job()
LANGUAGE plpgsql
AS $$
DECLARE
    today  date := analytics.utc_today();
    stamp  timestamptz := now();
    d      date;
    run    bigint;
    t0     timestamptz;
    t1     timestamptz;
    r      record;
    failed integer := 0;
    msg    text;
BEGIN
    -- Runs whose backend is gone were interrupted.
    UPDATE analytics.job_runs j SET status = 'failed', error = 'interrupted: the backend ended before the run finished',
           finished_at = coalesce(j.finished_at, stamp)
    WHERE j.status = 'running'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = j.backend_pid);
    PERFORM analytics.maintain_partitions();
    COMMIT;
    -- Late events that INSERT or COPY wrote into rolled days.
    PERFORM analytics.find_changed_days();
    -- Prices written into model_prices directly (set_model_price keeps the
    -- spans current itself).
    PERFORM analytics.refresh_price_spans();
    COMMIT;
    -- Yesterday, every closed day changed since its rollup, and every closed
    -- day with a partition that was never rolled up (INSERT and COPY log
    -- nothing: a backfill of past days is found here).
    FOR d IN SELECT c.day FROM analytics.changed_days c WHERE c.day < today
             UNION SELECT ep.day FROM analytics.event_partitions ep
                   WHERE ep.day < today AND NOT EXISTS (SELECT 1 FROM analytics.rollup_days rd WHERE rd.day = ep.day)
             UNION SELECT today - 1 ORDER BY 1 LOOP
        t0 := clock_timestamp();
        INSERT INTO analytics.job_runs (job, target_date, started_at, status, backend_pid)
        VALUES ('rollup', d, t0, 'running', pg_catalog.pg_backend_pid()) RETURNING run_id INTO run;
        COMMIT;
        BEGIN
            r := analytics.rollup_day(d);
            t1 := clock_timestamp();
            UPDATE analytics.job_runs SET finished_at = t1, duration_ms = extract(epoch FROM t1 - t0) * 1000,
                   rows = r.rows_written, status = CASE WHEN r.status = 'skipped' THEN 'skipped' ELSE 'succeeded' END
            WHERE run_id = run;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            t1 := clock_timestamp();
            UPDATE analytics.job_runs SET finished_at = t1, duration_ms = extract(epoch FROM t1 - t0) * 1000,
                   status = 'failed', error = msg
            WHERE run_id = run;
            failed := failed + 1;
        END;
        COMMIT;
    END LOOP;
    -- Days past raw retention that a price with a past effective_from
    -- changed: their cost rollups re-priced from the token sums.
    FOR d IN SELECT rp.day FROM analytics.reprice_days rp ORDER BY 1 LOOP
        BEGIN
            PERFORM analytics.reprice_day(d);
            DELETE FROM analytics.reprice_days rp WHERE rp.day = d;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            RAISE WARNING 're-pricing % failed: %', d, msg;
            failed := failed + 1;
        END;
        COMMIT;
    END LOOP;
    DELETE FROM analytics.job_runs
    WHERE started_at < stamp - make_interval(days => analytics.setting('job_history_days')::integer);
    COMMIT;
    IF failed > 0 THEN
        RAISE EXCEPTION '% day(s) failed to roll up', failed
            USING HINT = 'SELECT * FROM analytics.job_runs WHERE status = ''failed'' ORDER BY started_at DESC';
    END IF;
END
$$;
COMMENT ON PROCEDURE analytics.rollup_job() IS
    'The nightly job: premakes partitions, finds days that INSERT or COPY changed, refreshes the price spans, rolls up yesterday, every closed day changed since its rollup and every closed day never rolled, records each run in analytics.job_runs, re-prices the days past raw retention a new price changed (analytics.reprice_days), prunes the history';


-- The minute job: merges into the rollups of yesterday and today, and of
-- every rolled day with events added since (late events, INSERT or COPY
-- found by the nightly job), the events ingested since their watermark,
-- one transaction per day, so that readers add only the events of the last
-- minute or so to rollup rows.  A live day not rolled yet is rolled up
-- whole once.  With passes > 1 it does so that many times, evenly spread
-- over the minute (pg_cron's finest schedule is a minute): at a steady
-- ingest, readers then add at most 60/passes seconds of raw events.
-- Raises at the end if a day failed (pg_cron records it).
CREATE OR REPLACE PROCEDURE analytics.increment_job(passes integer DEFAULT 1)
LANGUAGE plpgsql
AS $$
DECLARE
    t0     timestamptz := clock_timestamp();
    today  date;
    d      date;
    r      record;
    failed integer := 0;
    msg    text;
BEGIN
    IF passes IS NULL OR passes < 1 OR passes > 12 THEN
        RAISE EXCEPTION 'passes must be between 1 and 12, not %', coalesce(passes::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR pass IN 1..passes LOOP
        IF pass > 1 THEN
            -- (until the pass's share of the minute, counted from the start)
            PERFORM pg_catalog.pg_sleep(greatest(0, extract(epoch FROM t0 + (pass - 1) * interval '60 seconds' / passes
                                                                     - clock_timestamp())));
        END IF;
        today := analytics.utc_today();
        -- (prices written into model_prices directly take effect here)
        PERFORM analytics.refresh_price_spans();
        COMMIT;
        FOR d IN SELECT today - 1 UNION SELECT today
                 UNION SELECT c.day FROM analytics.changed_days c
                       JOIN analytics.rollup_days rd ON rd.day = c.day
                       WHERE c.appended AND NOT rd.raw_dropped AND c.day <= today
                 ORDER BY 1 LOOP
            BEGIN
                r := analytics.rollup_increment(d);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
                RAISE WARNING 'the increment of % failed: %', d, msg;
                failed := failed + 1;
            END;
            COMMIT;
        END LOOP;
    END LOOP;
    IF failed > 0 THEN
        RAISE EXCEPTION '% day(s) failed to merge their increments', failed;
    END IF;
END
$$;
COMMENT ON PROCEDURE analytics.increment_job(integer) IS
    'The minute job: merges the events ingested since their watermark into the rollups of yesterday, today and every rolled day with events added since (analytics.rollup_increment), one transaction per day; passes (1 to 12) times, spread evenly over the minute';

-------------------------------------------------------------------------------
-- Retention
-------------------------------------------------------------------------------

-- Drop raw day partitions older than analytics.raw_retention_days whose day
-- is rolled up and clean; fold daily rows older than
-- analytics.daily_retention_days into monthly rows.
CREATE OR REPLACE FUNCTION analytics.run_retention(OUT dropped_partitions integer, OUT kept_unrolled integer, OUT folded_rows bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t0         timestamptz := clock_timestamp();
    stamp      timestamptz := now();
    today      date := analytics.utc_today();
    raw_cut    date := today - analytics.setting('raw_retention_days')::integer;
    daily_cut  date := today - analytics.setting('daily_retention_days')::integer;
    p          record;
    n          bigint;
    dropped    date[] := '{}';
BEGIN
    dropped_partitions := 0;
    kept_unrolled := 0;
    folded_rows := 0;
    PERFORM pg_advisory_xact_lock(hashtext('analytics.run_retention'));

    FOR p IN SELECT ep.partition, ep.day FROM analytics.event_partitions ep
             WHERE ep.day < raw_cut ORDER BY ep.day LOOP
        IF analytics.day_is_clean(p.day) THEN
            -- Hold the day's lock so no rollup or writer of it runs meanwhile.
            PERFORM analytics.lock_day(p.day, true);
            EXECUTE format('ALTER TABLE analytics.usage_events DETACH PARTITION %s', p.partition);
            EXECUTE format('DROP TABLE %s', p.partition);
            UPDATE analytics.rollup_days r SET raw_dropped = true WHERE r.day = p.day;
            dropped_partitions := dropped_partitions + 1;
            dropped := dropped || p.day;
        ELSE
            RAISE NOTICE 'keeping % : the day is not rolled up yet', p.partition;
            kept_unrolled := kept_unrolled + 1;
        END IF;
    END LOOP;
    -- The Prometheus counters of the days now gone move into their base
    -- (contract §6.7: counters never go down, whatever is dropped later).
    -- Not on Citus yet: its reads of the distributed rollups cannot run in
    -- the transaction that just dropped partitions of a distributed table;
    -- there the counters keep reading the rollup families, which retention
    -- does not drop (docs/scaling.md).
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        PERFORM analytics.prom_fold(raw_cut, dropped);
    END IF;

    -- Fold old daily rows into months: counts are summed, sketches merged.
    WITH gone AS (
        DELETE FROM analytics.analytics_daily_aggregates a WHERE a.date < daily_cut RETURNING a.*
    )
    INSERT INTO analytics.analytics_monthly_aggregates AS m (tenant_id, agent_id, month, metric_type, count, updated_at)
    SELECT g.tenant_id, g.agent_id, date_trunc('month', g.date)::date, g.metric_type, sum(g.count), stamp
    FROM gone g GROUP BY 1, 2, 3, 4
    ON CONFLICT ON CONSTRAINT analytics_monthly_aggregates_key DO UPDATE
        SET count = m.count + excluded.count, updated_at = excluded.updated_at;
    GET DIAGNOSTICS n = ROW_COUNT;
    folded_rows := folded_rows + n;

    WITH gone AS (
        DELETE FROM analytics.usage_stats_daily s WHERE s.date < daily_cut RETURNING s.*
    )
    INSERT INTO analytics.usage_stats_monthly AS m
        (month, tenant_id, agent_id, event_type, endpoint, method, tool_name, mcp_server, model,
         calls, successes, failures, total_latency_ms, latency, input_tokens, output_tokens, cost_usd, updated_at)
    SELECT date_trunc('month', g.date)::date, g.tenant_id, g.agent_id, g.event_type, g.endpoint, g.method,
           g.tool_name, g.mcp_server, g.model, sum(g.calls), sum(g.successes), sum(g.failures),
           sum(g.total_latency_ms), analytics.qsketch_merge(g.latency), sum(g.input_tokens),
           sum(g.output_tokens), sum(g.cost_usd), stamp
    FROM gone g GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    ON CONFLICT ON CONSTRAINT usage_stats_monthly_key DO UPDATE
        SET calls = m.calls + excluded.calls, successes = m.successes + excluded.successes,
            failures = m.failures + excluded.failures,
            total_latency_ms = m.total_latency_ms + excluded.total_latency_ms,
            latency = (SELECT analytics.qsketch_merge(x.s) FROM (VALUES (m.latency), (excluded.latency)) AS x(s)),
            input_tokens = m.input_tokens + excluded.input_tokens,
            output_tokens = m.output_tokens + excluded.output_tokens,
            cost_usd = m.cost_usd + excluded.cost_usd, updated_at = excluded.updated_at;
    GET DIAGNOSTICS n = ROW_COUNT;
    folded_rows := folded_rows + n;

    DELETE FROM analytics.tenant_daily t WHERE t.date < daily_cut;
    DELETE FROM analytics.agent_daily a WHERE a.date < daily_cut;
    DELETE FROM analytics.endpoint_daily e WHERE e.date < daily_cut;

    INSERT INTO analytics.job_runs (job, started_at, finished_at, duration_ms, rows, status, backend_pid)
    VALUES ('retention', t0, clock_timestamp(), extract(epoch FROM clock_timestamp() - t0) * 1000,
            dropped_partitions + folded_rows, 'succeeded', pg_backend_pid());
END
$$;
COMMENT ON FUNCTION analytics.run_retention() IS
    'Drops raw day partitions older than analytics.raw_retention_days once their day is rolled up (never an unrolled day), folds the Prometheus counters of those days into their base (analytics.prom_fold), and folds daily rows older than analytics.daily_retention_days into monthly rows (sums; latency sketches merged)';

-------------------------------------------------------------------------------
-- Scheduling with pg_cron
-------------------------------------------------------------------------------

-- Raise the error for a missing pg_cron.
CREATE OR REPLACE FUNCTION analytics.require_pg_cron()
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'scheduling needs the pg_cron extension, which is not installed in database %', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Install pg_cron (Debian: postgresql-15-cron), add it to shared_preload_libraries, '
                         'set cron.database_name to this database, restart, and run CREATE EXTENSION pg_cron.';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.require_pg_cron() IS 'Raises a clear error when pg_cron is not installed in this database';

-- Schedule (or reschedule) a job under a fixed name; returns its job id.
CREATE OR REPLACE FUNCTION analytics.schedule_job(job_name text, schedule text, command text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM analytics.require_pg_cron();
    -- pg_cron replaces the job of the same name and user.
    RETURN cron.schedule(job_name, schedule, command);
END
$$;
COMMENT ON FUNCTION analytics.schedule_job(text, text, text) IS
    'Schedules a pg_cron job under a fixed name, replacing the job of that name; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_job(job_name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM analytics.require_pg_cron();
    IF NOT EXISTS (SELECT 1 FROM cron.job j WHERE j.jobname = unschedule_job.job_name) THEN
        RETURN false;
    END IF;
    RETURN cron.unschedule(job_name);
END
$$;
COMMENT ON FUNCTION analytics.unschedule_job(text) IS 'Removes the pg_cron job of that name; false when there was none';

CREATE OR REPLACE FUNCTION analytics.schedule_rollup(schedule text DEFAULT '5 0 * * *')
RETURNS bigint
LANGUAGE sql VOLATILE STRICT
AS $$ SELECT analytics.schedule_job('analytics-rollup', schedule, 'CALL analytics.rollup_job()') $$;
COMMENT ON FUNCTION analytics.schedule_rollup(text) IS
    'Registers the nightly rollup job with pg_cron (job name analytics-rollup, default 00:05 UTC); calling it again updates the job; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_rollup()
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$ SELECT analytics.unschedule_job('analytics-rollup') $$;
COMMENT ON FUNCTION analytics.unschedule_rollup() IS 'Removes the rollup job; false when it was not scheduled';

CREATE OR REPLACE FUNCTION analytics.schedule_increments(schedule text DEFAULT '* * * * *', passes integer DEFAULT 4)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF passes < 1 OR passes > 12 THEN
        RAISE EXCEPTION 'passes must be between 1 and 12, not %', passes USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN analytics.schedule_job('analytics-increments', schedule, format('CALL analytics.increment_job(%s)', passes));
END
$$;
COMMENT ON FUNCTION analytics.schedule_increments(text, integer) IS
    'Registers the job that keeps today''s rollups current with pg_cron (job name analytics-increments, default every minute in 4 passes, so readers add at most 15 seconds of raw events); calling it again updates the job; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_increments()
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$ SELECT analytics.unschedule_job('analytics-increments') $$;
COMMENT ON FUNCTION analytics.unschedule_increments() IS 'Removes the increments job; false when it was not scheduled';

CREATE OR REPLACE FUNCTION analytics.schedule_retention(schedule text DEFAULT '30 1 * * *')
RETURNS bigint
LANGUAGE sql VOLATILE STRICT
AS $$ SELECT analytics.schedule_job('analytics-retention', schedule, 'SELECT analytics.run_retention()') $$;
COMMENT ON FUNCTION analytics.schedule_retention(text) IS
    'Registers the retention job with pg_cron (job name analytics-retention, default 01:30 UTC); calling it again updates the job; returns the job id';

CREATE OR REPLACE FUNCTION analytics.unschedule_retention()
RETURNS boolean
LANGUAGE sql VOLATILE
AS $$ SELECT analytics.unschedule_job('analytics-retention') $$;
COMMENT ON FUNCTION analytics.unschedule_retention() IS 'Removes the retention job; false when it was not scheduled';

