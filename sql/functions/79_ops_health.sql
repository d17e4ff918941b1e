-------------------------------------------------------------------------------
-- functions/79_ops_health.sql (layer 79, reports of contract §6.5): health
-- and SLA of the services in analytics.services.
--
--   register_service(tenant, name, type, check_url, interval, agent)  add or change a service
--   record_health_check(tenant, name, status, ms, error, checked_at)  push a check
--   record_circuit_state(tenant, name, state, at)                     a circuit breaker change
--   health_segments(service_id, from, to)     the status of each stretch of [from, to)
--   health_summary(tenant)                    every service's latest status (seed 002)
--   service_health(tenant, name, from, to)    latest check, failures, timeline
--   sla(tenant, name, from, to, target)       time-weighted uptime over [from, to)
--
-- Typed twins of the analytics_api functions (layer 84): a service is named
-- by (tenant_id, service_name), tenant_id NULL = a platform service; reads
-- by tenant (health_summary: NULL = every service).  Errors are plain
-- SQLSTATEs (22023 for bad input, P0002 for an unknown service); layer 84
-- checks everything first and raises the contract's.
--
-- How a timeline is read: a check's status holds from its checked_at until
-- the next check, but at most analytics.health_stale_seconds (0: 3 x the
-- interval for a probe, 300 s for a pushed check, health_stale_seconds() of
-- layer 47); time covered by no check is unknown.  Re-runnable.
-------------------------------------------------------------------------------

-- The service (tenant_id, service_name), or P0002.
CREATE OR REPLACE FUNCTION analytics.health_service(tenant_id uuid, service_name text)
RETURNS analytics.services
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s analytics.services;
BEGIN
    SELECT * INTO s FROM analytics.services x
    WHERE x.tenant_id IS NOT DISTINCT FROM health_service.tenant_id AND x.service_name = health_service.service_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no service "%" %', service_name,
            CASE WHEN tenant_id IS NULL THEN 'of the platform' ELSE 'of tenant ' || tenant_id END
            USING ERRCODE = 'no_data_found', HINT = 'Register it with analytics.register_service().';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION analytics.health_service(uuid, text) IS
    'The row of analytics.services named (tenant_id, service_name), tenant_id NULL = a platform service; error P0002 when there is none';

CREATE OR REPLACE FUNCTION analytics.register_service(tenant_id uuid, service_name text, service_type text DEFAULT 'api',
                                                      check_url text DEFAULT NULL, interval_seconds integer DEFAULT 60,
                                                      agent_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts  timestamptz := clock_timestamp();
    old     analytics.services;
    s       analytics.services;
    created boolean;
BEGIN
    SELECT * INTO old FROM analytics.services x
    WHERE x.tenant_id IS NOT DISTINCT FROM register_service.tenant_id AND x.service_name = register_service.service_name
    FOR UPDATE;
    created := NOT FOUND;
    IF created THEN
        IF (SELECT count(*) FROM analytics.services x WHERE x.tenant_id IS NOT DISTINCT FROM register_service.tenant_id) >= 1000 THEN
            RAISE EXCEPTION 'at most 1000 services per tenant (and for the platform)'
                USING ERRCODE = 'program_limit_exceeded';
        END IF;
        INSERT INTO analytics.services (tenant_id, service_name, service_type, check_url, interval_seconds, agent_id,
                                        created_at, updated_at, next_probe_at)
        VALUES (register_service.tenant_id, register_service.service_name, coalesce(register_service.service_type, 'api'),
                register_service.check_url, coalesce(register_service.interval_seconds, 60), register_service.agent_id,
                now_ts, now_ts, now_ts)
        RETURNING * INTO s;
    ELSE
        -- (a new URL or interval: probe again at once, and a probe of the
        -- old URL still running loses its lease)
        UPDATE analytics.services x
        SET service_type = coalesce(register_service.service_type, 'api'),
            check_url = register_service.check_url,
            interval_seconds = coalesce(register_service.interval_seconds, 60),
            agent_id = register_service.agent_id,
            updated_at = now_ts,
            next_probe_at = CASE WHEN x.check_url IS DISTINCT FROM register_service.check_url
                                   OR x.interval_seconds IS DISTINCT FROM coalesce(register_service.interval_seconds, 60)
                                 THEN now_ts ELSE x.next_probe_at END,
            claimed_at = CASE WHEN x.check_url IS DISTINCT FROM register_service.check_url THEN NULL ELSE x.claimed_at END,
            claimed_by = CASE WHEN x.check_url IS DISTINCT FROM register_service.check_url THEN NULL ELSE x.claimed_by END
        WHERE x.service_id = old.service_id
        RETURNING * INTO s;
    END IF;
    RETURN jsonb_build_object(
        'service_name', s.service_name, 'service_type', s.service_type, 'tenant_id', s.tenant_id,
        'check_url', s.check_url, 'interval_seconds', s.interval_seconds, 'agent_id', s.agent_id,
        'created', created, 'created_at', analytics.utc_text(s.created_at), 'updated_at', analytics.utc_text(s.updated_at));
END
$$;
COMMENT ON FUNCTION analytics.register_service(uuid, text, text, text, integer, uuid) IS
    'Registers (or changes) the service (tenant_id, service_name), tenant_id NULL = a platform service: service_type api|database|cache|external|mcp_server, check_url (http/https, probed by the background worker every interval_seconds, 10 to 86400), agent_id; at most 1000 services per tenant; returns the service with created true/false';

CREATE OR REPLACE FUNCTION analytics.record_health_check(tenant_id uuid, service_name text, status text,
                                                         response_time_ms double precision DEFAULT NULL,
                                                         error_message text DEFAULT NULL,
                                                         checked_at timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s  analytics.services := analytics.health_service(tenant_id, service_name);
    at timestamptz := coalesce(checked_at, clock_timestamp());
BEGIN
    PERFORM analytics.health_store_check(s.service_id, at, status, response_time_ms, error_message, 'push');
    RETURN jsonb_build_object('service_name', s.service_name, 'tenant_id', s.tenant_id, 'status', status,
                              'response_time_ms', response_time_ms, 'checked_at', analytics.utc_text(at));
END
$$;
COMMENT ON FUNCTION analytics.record_health_check(uuid, text, text, double precision, text, timestamptz) IS
    'Pushes a health check of the service (tenant_id, service_name): status healthy|degraded|unhealthy|unknown, response_time_ms, error_message (at most 1024 characters), checked_at (default now); a check at the same instant replaces the earlier one';

CREATE OR REPLACE FUNCTION analytics.record_circuit_state(tenant_id uuid, service_name text, state text,
                                                          at timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s  analytics.services := analytics.health_service(tenant_id, service_name);
    ts timestamptz := coalesce(at, clock_timestamp());
BEGIN
    INSERT INTO analytics.circuit_events AS c (service_id, at, state)
    VALUES (s.service_id, ts, record_circuit_state.state)
    ON CONFLICT ON CONSTRAINT circuit_events_pkey DO UPDATE SET state = excluded.state;
    RETURN jsonb_build_object('service_name', s.service_name, 'tenant_id', s.tenant_id, 'state', state,
                              'at', analytics.utc_text(ts));
END
$$;
COMMENT ON FUNCTION analytics.record_circuit_state(uuid, text, text, timestamptz) IS
    'Records that the circuit breaker of the service (tenant_id, service_name) changed to closed|open|half_open at "at" (default now)';

-- The stretches of [from, to) each check covers, clipped to the window
-- (oldest first); time in no stretch is unknown.
CREATE OR REPLACE FUNCTION analytics.health_segments(service_id bigint, "from" timestamptz, "to" timestamptz)
RETURNS TABLE (status text, seg_from timestamptz, seg_to timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ival        integer;
    stale_probe interval;
    stale_push  interval;
    lookback    interval;
BEGIN
    SELECT s.interval_seconds INTO ival FROM analytics.services s WHERE s.service_id = health_segments.service_id;
    stale_probe := make_interval(secs => analytics.health_stale_seconds('probe', ival));
    stale_push := make_interval(secs => analytics.health_stale_seconds('push', ival));
    lookback := greatest(stale_probe, stale_push);
    RETURN QUERY
    WITH c AS (
        SELECT h.checked_at, h.status, h.source
        FROM analytics.health_checks h
        WHERE h.service_id = health_segments.service_id
          AND h.checked_at >= "from" - lookback AND h.checked_at < "to"),
    seg AS (
        SELECT c.status, c.checked_at AS t0,
               least(coalesce(lead(c.checked_at) OVER (ORDER BY c.checked_at), 'infinity'::timestamptz),
                     c.checked_at + CASE WHEN c.source = 'probe' THEN stale_probe ELSE stale_push END) AS t1
        FROM c)
    SELECT seg.status, greatest(seg.t0, "from"), least(seg.t1, "to")
    FROM seg
    WHERE least(seg.t1, "to") > greatest(seg.t0, "from")
    ORDER BY seg.t0;
END
$$;
COMMENT ON FUNCTION analytics.health_segments(bigint, timestamptz, timestamptz) IS
    'The stretches of [from, to) covered by the checks of a service, oldest first: each check''s status from its checked_at until the next check or until it goes stale (analytics.health_stale_seconds()), clipped to the window';

-- The latest check of a service and its status now (unknown once stale),
-- with the consecutive failures: the unhealthy checks since the latest
-- check that was not unhealthy.
CREATE OR REPLACE FUNCTION analytics.health_latest(service_id bigint, now_ts timestamptz,
                                                   OUT status text, OUT checked_at timestamptz,
                                                   OUT response_time_ms double precision, OUT error_message text,
                                                   OUT source text, OUT consecutive_failures bigint,
                                                   OUT circuit_state text, OUT circuit_since timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ival   integer;
    last_ok timestamptz;
BEGIN
    SELECT s.interval_seconds INTO ival FROM analytics.services s WHERE s.service_id = health_latest.service_id;
    SELECT h.status, h.checked_at, h.response_time_ms, h.error_message, h.source
    INTO status, checked_at, response_time_ms, error_message, source
    FROM analytics.health_checks h
    WHERE h.service_id = health_latest.service_id AND h.checked_at <= now_ts
    ORDER BY h.checked_at DESC LIMIT 1;
    IF checked_at IS NULL OR checked_at + make_interval(secs => analytics.health_stale_seconds(source, ival)) <= now_ts THEN
        status := 'unknown';
    END IF;
    SELECT max(h.checked_at) INTO last_ok
    FROM analytics.health_checks h
    WHERE h.service_id = health_latest.service_id AND h.checked_at <= now_ts AND h.status <> 'unhealthy';
    SELECT count(*) INTO consecutive_failures
    FROM analytics.health_checks h
    WHERE h.service_id = health_latest.service_id AND h.checked_at <= now_ts
      AND (last_ok IS NULL OR h.checked_at > last_ok);
    SELECT c.state, c.at INTO circuit_state, circuit_since
    FROM analytics.circuit_events c
    WHERE c.service_id = health_latest.service_id AND c.at <= now_ts
    ORDER BY c.at DESC LIMIT 1;
END
$$;
COMMENT ON FUNCTION analytics.health_latest(bigint, timestamptz) IS
    'The latest check of a service at now_ts (status unknown when there is none or it is stale), its consecutive failures (unhealthy checks since the latest check that was not unhealthy) and its circuit state';

CREATE OR REPLACE FUNCTION analytics.health_summary(tenant_id uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts   timestamptz := clock_timestamp();
    services jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'service_name', s.service_name,
               'service_type', s.service_type,
               'tenant_id', s.tenant_id,
               'status', l.status,
               'response_time_ms', round(l.response_time_ms::numeric, 3),
               'consecutive_failures', l.consecutive_failures,
               'last_checked', analytics.utc_text(l.checked_at),
               'circuit_state', l.circuit_state)
             ORDER BY s.tenant_id NULLS FIRST, s.service_name), '[]')
    INTO services
    FROM analytics.services s
    CROSS JOIN LATERAL analytics.health_latest(s.service_id, now_ts) l
    WHERE health_summary.tenant_id IS NULL OR s.tenant_id = health_summary.tenant_id;
    RETURN jsonb_build_object(
        'tenant_id', health_summary.tenant_id,
        'overall_status', CASE
            WHEN services @> '[{"status": "unhealthy"}]' THEN 'unhealthy'
            WHEN services @> '[{"status": "degraded"}]' THEN 'degraded'
            WHEN services @> '[{"status": "unknown"}]' OR jsonb_array_length(services) = 0 THEN 'unknown'
            ELSE 'healthy' END,
        'total_services', jsonb_array_length(services),
        'healthy', (SELECT count(*) FROM jsonb_array_elements(services) e WHERE e ->> 'status' = 'healthy'),
        'degraded', (SELECT count(*) FROM jsonb_array_elements(services) e WHERE e ->> 'status' = 'degraded'),
        'unhealthy', (SELECT count(*) FROM jsonb_array_elements(services) e WHERE e ->> 'status' = 'unhealthy'),
        'unknown', (SELECT count(*) FROM jsonb_array_elements(services) e WHERE e ->> 'status' = 'unknown'),
        'services', services);
END
$$;
COMMENT ON FUNCTION analytics.health_summary(uuid) IS
    'Seed 002''s health summary of a tenant''s services (NULL: every service, the platform''s included): tenant_id, overall_status (the worst: unhealthy, degraded, unknown, healthy; unknown when there are no services), total_services, healthy, degraded, unhealthy, unknown, and per service service_name, service_type, tenant_id, status (of its latest check; unknown when stale or never checked), response_time_ms, consecutive_failures, last_checked, circuit_state';

CREATE OR REPLACE FUNCTION analytics.service_health(tenant_id uuid, service_name text, "from" timestamptz, "to" timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s        analytics.services := analytics.health_service(tenant_id, service_name);
    l        record;
    seg      record;
    timeline jsonb := '[]';
    cur_st   text;
    cur_from timestamptz;
    cur_to   timestamptz;
    n        integer := 0;
    truncated boolean := false;
    circuit  jsonb;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to" USING ERRCODE = 'invalid_parameter_value';
    END IF;
    l := analytics.health_latest(s.service_id, "to");
    -- status segments: equal neighbours merged, gaps unknown
    cur_to := "from";
    FOR seg IN
        SELECT x.status, x.seg_from, x.seg_to FROM analytics.health_segments(s.service_id, "from", "to") x
        UNION ALL SELECT NULL, "to", "to"          -- (the end: flushes the last stretch and the gap before it)
    LOOP
        IF seg.seg_from > cur_to THEN
            IF cur_st IS DISTINCT FROM 'unknown' THEN
                IF cur_st IS NOT NULL AND cur_to > cur_from THEN
                    timeline := timeline || jsonb_build_object('status', cur_st, 'from', analytics.utc_text(cur_from),
                        'to', analytics.utc_text(cur_to), 'seconds', round(extract(epoch FROM cur_to - cur_from), 3));
                    n := n + 1;
                END IF;
                cur_st := 'unknown';
                cur_from := cur_to;
            END IF;
            cur_to := seg.seg_from;
        END IF;
        EXIT WHEN seg.status IS NULL;
        IF seg.status IS DISTINCT FROM cur_st THEN
            IF cur_st IS NOT NULL AND cur_to > cur_from THEN
                timeline := timeline || jsonb_build_object('status', cur_st, 'from', analytics.utc_text(cur_from),
                    'to', analytics.utc_text(cur_to), 'seconds', round(extract(epoch FROM cur_to - cur_from), 3));
                n := n + 1;
            END IF;
            cur_st := seg.status;
            cur_from := seg.seg_from;
        END IF;
        cur_to := seg.seg_to;
        IF n >= 1000 THEN
            truncated := true;
            EXIT;
        END IF;
    END LOOP;
    IF NOT truncated AND cur_st IS NOT NULL AND cur_to > cur_from THEN
        timeline := timeline || jsonb_build_object('status', cur_st, 'from', analytics.utc_text(cur_from),
            'to', analytics.utc_text(cur_to), 'seconds', round(extract(epoch FROM cur_to - cur_from), 3));
    END IF;
    -- circuit changes in the window, after the state in force at its start
    SELECT coalesce(jsonb_agg(jsonb_build_object('state', c.state, 'at', analytics.utc_text(c.at)) ORDER BY c.at), '[]')
    INTO circuit
    FROM (SELECT * FROM (SELECT e.state, e.at FROM analytics.circuit_events e
                         WHERE e.service_id = s.service_id AND e.at < "from" ORDER BY e.at DESC LIMIT 1) b
          UNION ALL
          (SELECT e.state, e.at FROM analytics.circuit_events e
           WHERE e.service_id = s.service_id AND e.at >= "from" AND e.at < "to" ORDER BY e.at LIMIT 1000)) c;
    RETURN jsonb_build_object(
        'service_name', s.service_name,
        'service_type', s.service_type,
        'tenant_id', s.tenant_id,
        'check_url', s.check_url,
        'interval_seconds', s.interval_seconds,
        'agent_id', s.agent_id,
        'period', analytics.window_json("from", "to"),
        'status', l.status,
        'latest_check', CASE WHEN l.checked_at IS NULL THEN NULL ELSE jsonb_build_object(
            'status', (SELECT h.status FROM analytics.health_checks h
                       WHERE h.service_id = s.service_id AND h.checked_at = l.checked_at),
            'checked_at', analytics.utc_text(l.checked_at),
            'response_time_ms', round(l.response_time_ms::numeric, 3),
            'error_message', l.error_message,
            'source', l.source) END,
        'consecutive_failures', l.consecutive_failures,
        'circuit_state', l.circuit_state,
        'timeline', timeline,
        'truncated', truncated,
        'circuit_timeline', circuit);
END
$$;
COMMENT ON FUNCTION analytics.service_health(uuid, text, timestamptz, timestamptz) IS
    'The health of the service (tenant_id, service_name) over [from, to): its status at "to", latest check, consecutive failures, circuit state, timeline of status stretches {status, from, to, seconds} (equal neighbours merged, time without a valid check unknown; at most 1000, truncated) and circuit_timeline {state, at} (the state in force at "from" first)';

CREATE OR REPLACE FUNCTION analytics.sla(tenant_id uuid, service_name text, "from" timestamptz, "to" timestamptz,
                                         target numeric DEFAULT 99.9)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s          analytics.services := analytics.health_service(tenant_id, service_name);
    up         numeric := 0;
    down       numeric := 0;
    incidents  integer := 0;
    total      numeric;
    uptime     numeric;
    avg_ms     numeric;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" > "to" THEN
        RAISE EXCEPTION 'invalid window % to %', "from", "to" USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF target IS NULL OR target < 0 OR target > 100 THEN
        RAISE EXCEPTION 'target must be from 0 to 100, not %', target USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (an incident: a maximal stretch of unhealthy time; a gap or another
    -- status ends it)
    SELECT coalesce(sum(extract(epoch FROM x.seg_to - x.seg_from)) FILTER (WHERE x.status IN ('healthy', 'degraded')), 0),
           coalesce(sum(extract(epoch FROM x.seg_to - x.seg_from)) FILTER (WHERE x.status = 'unhealthy'), 0),
           count(*) FILTER (WHERE x.status = 'unhealthy'
                              AND (x.prev_status IS DISTINCT FROM 'unhealthy' OR x.prev_to <> x.seg_from))
    INTO up, down, incidents
    FROM (SELECT g.status, g.seg_from, g.seg_to,
                 lag(g.status) OVER (ORDER BY g.seg_from) AS prev_status,
                 lag(g.seg_to) OVER (ORDER BY g.seg_from) AS prev_to
          FROM analytics.health_segments(s.service_id, "from", "to") g) x;
    total := extract(epoch FROM "to" - "from");
    uptime := CASE WHEN up + down > 0 THEN round(100 * up / (up + down), 4) END;
    SELECT round(avg(h.response_time_ms)::numeric, 3) INTO avg_ms
    FROM analytics.health_checks h
    WHERE h.service_id = s.service_id AND h.checked_at >= "from" AND h.checked_at < "to";
    RETURN jsonb_build_object(
        'service_name', s.service_name,
        'tenant_id', s.tenant_id,
        'period', analytics.window_json("from", "to"),
        'uptime_percentage', uptime,
        'target', target,
        'compliant', uptime >= target,
        'average_response_time_ms', avg_ms,
        'downtime_incidents', incidents,
        'downtime_seconds', round(down, 3),
        'uptime_seconds', round(up, 3),
        'unknown_seconds', round(total - up - down, 3),
        'error_budget_remaining_seconds', round((1 - target / 100) * (up + down) - down, 3));
END
$$;
COMMENT ON FUNCTION analytics.sla(uuid, text, timestamptz, timestamptz, numeric) IS
    'The SLA of the service (tenant_id, service_name) over [from, to), time-weighted: each check''s status holds until the next check, at most analytics.health_stale_seconds(); time without a valid check (or with status unknown) is unknown_seconds and left out; healthy and degraded are up; uptime_percentage = up / (up + down) (null without data; 4 decimals), compliant = uptime >= target, downtime_incidents = maximal stretches of unhealthy time, error_budget_remaining_seconds = (1 - target/100) x (up + down) - down, average_response_time_ms over the checks in the window';
