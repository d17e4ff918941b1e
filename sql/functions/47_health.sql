-------------------------------------------------------------------------------
-- functions/47_health.sql (layer 47, health storage of contract §6.5): what
-- writes analytics.services, health_checks and circuit_events, and what the
-- background worker (src/worker.c) calls.
--
--   health_stale_seconds(source, interval)   how long a check's status holds
--   health_store_check(...)                  one check, replacing one at the same instant
--   health_claim_probes(max, lease)          the worker: claim the services due for a probe
--   health_probe_done(...)                   the worker: record a probe, free the lease
--
-- The worker runs as the bootstrap superuser in analytics.worker_database.
-- Re-runnable.
-------------------------------------------------------------------------------

-- How long a check's status holds when no newer check follows:
-- analytics.health_stale_seconds when set (> 0), else 3 x the service's
-- interval for a probed check and 300 s for a pushed one.
CREATE OR REPLACE FUNCTION analytics.health_stale_seconds(source text, interval_seconds integer)
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s integer := analytics.setting('health_stale_seconds')::integer;
BEGIN
    IF s > 0 THEN
        RETURN s;
    END IF;
    IF source = 'probe' THEN
        RETURN 3 * coalesce(interval_seconds, 60);
    END IF;
    RETURN 300;
END
$$;
COMMENT ON FUNCTION analytics.health_stale_seconds(text, integer) IS
    'Seconds a health check''s status holds without a newer check: analytics.health_stale_seconds when > 0, else 3 x interval_seconds for a probe and 300 for a pushed check';

-- Store one check (a second one at the same instant replaces the first).
CREATE OR REPLACE FUNCTION analytics.health_store_check(service_id bigint, checked_at timestamptz, status text,
                                                        response_time_ms double precision, error_message text,
                                                        source text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO analytics.health_checks AS h (service_id, checked_at, status, response_time_ms, error_message, source)
    VALUES (health_store_check.service_id, health_store_check.checked_at, health_store_check.status,
            health_store_check.response_time_ms, left(health_store_check.error_message, 1024), health_store_check.source)
    ON CONFLICT ON CONSTRAINT health_checks_pkey DO UPDATE
        SET status = excluded.status, response_time_ms = excluded.response_time_ms,
            error_message = excluded.error_message, source = excluded.source;
END
$$;
COMMENT ON FUNCTION analytics.health_store_check(bigint, timestamptz, text, double precision, text, text) IS
    'Stores one health check of a service (error_message cut to 1024 characters); a check at the same instant replaces the earlier one';

-- The background worker's claim: up to max_claims services with a
-- check_url whose next probe is due and that no live lease holds (a lease
-- older than lease_seconds is a probe that never reported: the worker
-- stopped), locked with SKIP LOCKED so that two claimers never share one.
CREATE OR REPLACE FUNCTION analytics.health_claim_probes(max_claims integer, lease_seconds integer)
RETURNS TABLE (service_id bigint, check_url text, claimed_at timestamptz)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts timestamptz := clock_timestamp();
    expired timestamptz := now_ts - make_interval(secs => greatest(coalesce(lease_seconds, 60), 1));
    pid     integer := pg_catalog.pg_backend_pid();
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT s.service_id
        FROM analytics.services s
        WHERE s.check_url IS NOT NULL
          AND (s.next_probe_at IS NULL OR s.next_probe_at <= now_ts)
          AND (s.claimed_at IS NULL OR s.claimed_at < expired)
        ORDER BY s.next_probe_at NULLS FIRST, s.service_id
        LIMIT least(greatest(coalesce(max_claims, 1), 1), 1024)
        FOR UPDATE SKIP LOCKED)
    UPDATE analytics.services s
    SET claimed_at = now_ts, claimed_by = pid
    FROM due
    WHERE s.service_id = due.service_id
    RETURNING s.service_id, s.check_url, s.claimed_at;
END
$$;
COMMENT ON FUNCTION analytics.health_claim_probes(integer, integer) IS
    'Background worker: claims up to max_claims (at most 1024) services due for a probe (check_url set, next_probe_at passed, no lease younger than lease_seconds) with FOR UPDATE SKIP LOCKED, and returns their ids, URLs and lease';

-- The background worker's result of one probe: stored only while the
-- lease is still the worker's (a service re-registered or deleted since
-- drops it); frees the lease and schedules the next probe.
CREATE OR REPLACE FUNCTION analytics.health_probe_done(service_id bigint, lease timestamptz, status text,
                                                       response_time_ms double precision, error_message text,
                                                       checked_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    next_at timestamptz;
    ival    integer;
BEGIN
    SELECT s.interval_seconds INTO ival
    FROM analytics.services s
    WHERE s.service_id = health_probe_done.service_id AND s.claimed_at = lease
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    next_at := greatest(health_probe_done.checked_at + make_interval(secs => ival),
                        clock_timestamp() + interval '1 second');
    UPDATE analytics.services s
    SET claimed_at = NULL, claimed_by = NULL, next_probe_at = next_at
    WHERE s.service_id = health_probe_done.service_id;
    PERFORM analytics.health_store_check(health_probe_done.service_id, health_probe_done.checked_at,
                                         health_probe_done.status, health_probe_done.response_time_ms,
                                         health_probe_done.error_message, 'probe');
    RETURN true;
END
$$;
COMMENT ON FUNCTION analytics.health_probe_done(bigint, timestamptz, text, double precision, text, timestamptz) IS
    'Background worker: records a probe of a service while its lease is still held (else false, nothing stored), frees the lease and sets next_probe_at to checked_at + interval_seconds';
