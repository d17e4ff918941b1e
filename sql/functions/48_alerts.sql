-------------------------------------------------------------------------------
-- functions/48_alerts.sql (layer 48, alerts of contract §6.6): the storage
-- side of alert rules, incidents and notifications.
--
--   hmac_sha256(key, message)          HMAC-SHA256 (C, PostgreSQL's pg_hmac)
--   alert_builtin_metrics()            the built-in metrics, their tags and aggregations
--   alert_rule_json / alert_incident_json / alert_channel_json   answer shapes (seed 002's snake_case)
--   alert_notify(incident, event, at)  the outbox rows of one notification (same transaction)
--   alert_rule_values(at)              the value of every enabled rule (each source read once per window)
--   evaluate_alerts(at)                the state machine: pending, firing, repeat, silence expiry, resolve
--   delivery_recover / delivery_claim / delivery_done   the background worker's side of the outbox
--
-- The background worker runs as the bootstrap superuser.  Re-runnable.
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.hmac_sha256(key bytea, message bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'analytics_hmac_sha256'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.hmac_sha256(bytea, bytea) IS
    'HMAC-SHA256 of message under key (PostgreSQL''s src/common pg_hmac); signs Standard Webhooks notifications';

-- The built-in metrics of contract §6.6: the tags each filters by, its
-- default aggregation and the aggregations it takes.
CREATE OR REPLACE FUNCTION analytics.alert_builtin_metrics()
RETURNS TABLE (metric_name text, source text, tag_keys text[], default_aggregation text, aggregations text[])
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT m.* FROM (VALUES
        ('events.count', 'events', ARRAY['event_type', 'agent_id', 'tool', 'mcp_server', 'model'], 'count', ARRAY['count', 'rate']),
        ('events.failures', 'events', ARRAY['event_type', 'agent_id', 'tool', 'mcp_server', 'model'], 'count', ARRAY['count', 'rate']),
        ('events.error_rate', 'events', ARRAY['event_type', 'agent_id', 'tool', 'mcp_server', 'model'], 'avg', ARRAY['avg']),
        ('latency.p50', 'events', ARRAY['event_type', 'agent_id', 'tool', 'mcp_server', 'model'], 'p50', ARRAY['p50']),
        ('latency.p95', 'events', ARRAY['event_type', 'agent_id', 'tool', 'mcp_server', 'model'], 'p95', ARRAY['p95']),
        ('latency.p99', 'events', ARRAY['event_type', 'agent_id', 'tool', 'mcp_server', 'model'], 'p99', ARRAY['p99']),
        ('tokens.total', 'events', ARRAY['event_type', 'agent_id', 'tool', 'mcp_server', 'model'], 'sum', ARRAY['sum', 'rate']),
        ('cost.usd', 'events', ARRAY['event_type', 'agent_id', 'tool', 'mcp_server', 'model'], 'sum', ARRAY['sum', 'rate']),
        ('health.status', 'health', ARRAY['service'], 'max', ARRAY['max', 'min', 'avg']),
        ('health.consecutive_failures', 'health', ARRAY['service'], 'max', ARRAY['max', 'min', 'avg', 'sum']),
        ('circuit.open', 'health', ARRAY['service'], 'max', ARRAY['max', 'min', 'sum']),
        ('webhook.failures', 'webhooks', ARRAY['event_type'], 'count', ARRAY['count', 'rate'])
    ) AS m(metric_name, source, tag_keys, default_aggregation, aggregations)
$$;
COMMENT ON FUNCTION analytics.alert_builtin_metrics() IS
    'The built-in alert metrics of contract §6.6: source (events, health, webhooks), the tag keys each filters by, its default aggregation and the aggregations it takes';

CREATE OR REPLACE FUNCTION analytics.alert_rule_state(r analytics.alert_rules)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT r.enabled THEN
        RETURN 'disabled';
    END IF;
    IF EXISTS (SELECT 1 FROM analytics.alert_incidents i WHERE i.rule_id = r.rule_id AND i.status <> 'resolved') THEN
        RETURN 'firing';
    END IF;
    IF r.pending_since IS NOT NULL AND NOT r.rearm_blocked THEN
        RETURN 'pending';
    END IF;
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION analytics.alert_rule_state(analytics.alert_rules) IS
    'The state of an alert rule: disabled, firing (an unresolved incident), pending (the condition holds, not yet for duration_seconds) or ok';

CREATE OR REPLACE FUNCTION analytics.alert_rule_json(r analytics.alert_rules)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'id', r.rule_id, 'name', r.name, 'description', r.description, 'metric_name', r.metric_name,
        'condition_operator', r.condition_operator, 'threshold', r.threshold, 'severity', r.severity,
        'duration_seconds', r.duration_seconds, 'window_seconds', r.window_seconds, 'aggregation', r.aggregation,
        'tags', r.tags, 'channels', to_jsonb(r.channels), 'repeat_interval_seconds', r.repeat_interval_seconds,
        'enabled', r.enabled, 'scope', CASE WHEN r.tenant_id IS NULL THEN 'platform' ELSE 'tenant' END,
        'tenant_id', r.tenant_id, 'state', analytics.alert_rule_state(r), 'last_value', r.last_value,
        'last_evaluated_at', r.last_evaluated_at, 'created_at', r.created_at, 'updated_at', r.updated_at)
$$;
COMMENT ON FUNCTION analytics.alert_rule_json(analytics.alert_rules) IS
    'An alert rule as the API answers it (seed 002''s snake_case keys, plus scope, state, last_value)';

CREATE OR REPLACE FUNCTION analytics.alert_incident_json(i analytics.alert_incidents)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'id', i.incident_id, 'rule_id', i.rule_id, 'rule_name', i.rule_name, 'metric_name', i.metric_name,
        'condition_operator', i.condition_operator, 'threshold', i.threshold, 'severity', i.severity,
        'status', i.status, 'value', i.value, 'last_value', i.last_value, 'tenant_id', i.tenant_id,
        'started_at', i.opened_at, 'acknowledged_at', i.acknowledged_at, 'acknowledged_by', i.acknowledged_by,
        'note', i.note, 'silenced_until', i.silenced_until, 'resolved_at', i.resolved_at,
        'resolved_by', i.resolved_by, 'resolution_notes', i.resolution_notes, 'notifications', i.notifications)
$$;
COMMENT ON FUNCTION analytics.alert_incident_json(analytics.alert_incidents) IS
    'An incident as the API and the notifications show it (snake_case keys)';

CREATE OR REPLACE FUNCTION analytics.alert_channel_json(c analytics.notification_channels)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'id', c.channel_id, 'channel_type', c.channel_type, 'target', c.target, 'events', to_jsonb(c.events),
        'enabled', c.enabled, 'disabled_reason', c.disabled_reason, 'tenant_id', c.tenant_id,
        'scope', CASE WHEN c.tenant_id IS NULL THEN 'platform' ELSE 'tenant' END,
        'created_at', c.created_at, 'updated_at', c.updated_at)
$$;
COMMENT ON FUNCTION analytics.alert_channel_json(analytics.notification_channels) IS
    'A notification channel as the API answers it (never its secret)';

-- The outbox rows of one notification: one per enabled channel of the
-- incident's rule that takes event_type (test: the one channel given).
-- Called in the transaction of the state change.  Returns the rows written.
CREATE OR REPLACE FUNCTION analytics.alert_notify(incident_id bigint, event_type text, at timestamptz,
                                                  channel_id bigint DEFAULT NULL, extra jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    inc     analytics.alert_incidents;
    chans   bigint[];
    tenant  uuid;
    data    jsonb := '{}';
    n       integer;
BEGIN
    IF event_type = 'test' THEN
        SELECT c.tenant_id INTO tenant FROM analytics.notification_channels c WHERE c.channel_id = alert_notify.channel_id;
        chans := ARRAY[alert_notify.channel_id];
        data := jsonb_build_object('message', 'This is a test notification of the analytics extension');
    ELSE
        SELECT * INTO inc FROM analytics.alert_incidents i WHERE i.incident_id = alert_notify.incident_id;
        SELECT r.channels INTO chans FROM analytics.alert_rules r WHERE r.rule_id = inc.rule_id;
        tenant := inc.tenant_id;
        data := analytics.alert_incident_json(inc);
    END IF;
    INSERT INTO analytics.notification_outbox (tenant_id, channel_id, incident_id, event_type, message_id, payload,
                                               created_at, next_attempt_at, expires_at)
    SELECT tenant, c.channel_id, alert_notify.incident_id, alert_notify.event_type,
           'msg_' || replace(gen_random_uuid()::text, '-', ''),
           jsonb_build_object('type', alert_notify.event_type, 'timestamp', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                              'data', data || coalesce(extra, '{}')),
           at, at, at + interval '24 hours'
    FROM analytics.notification_channels c
    WHERE c.channel_id = ANY (coalesce(chans, '{}'))
      AND c.enabled
      AND c.tenant_id IS NOT DISTINCT FROM tenant
      AND (alert_notify.event_type = 'test' OR c.events IS NULL OR alert_notify.event_type = ANY (c.events));
    GET DIAGNOSTICS n = ROW_COUNT;
    IF event_type <> 'test' THEN
        UPDATE analytics.alert_incidents i SET last_notified_at = at, notifications = i.notifications + 1
        WHERE i.incident_id = alert_notify.incident_id;
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION analytics.alert_notify(bigint, text, timestamptz, bigint, jsonb) IS
    'Writes the outbox rows of one notification (incident.opened|acknowledged|resolved|silenced, or test for one channel): one per enabled channel of the rule of the same scope that takes the event type; the webhook-id (message_id) is fixed here; returns the rows written';

-- Does a built-in rule's tag filter admit a group of events?
CREATE OR REPLACE FUNCTION analytics.alert_tags_match(tags jsonb, event_type text, agent_id uuid, tool text,
                                                      mcp_server text, model text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (NOT tags ? 'event_type' OR tags ->> 'event_type' = event_type)
       AND (NOT tags ? 'agent_id' OR tags ->> 'agent_id' = agent_id::text)
       AND (NOT tags ? 'tool' OR tags ->> 'tool' = tool)
       AND (NOT tags ? 'mcp_server' OR tags ->> 'mcp_server' = mcp_server)
       AND (NOT tags ? 'model' OR tags ->> 'model' = model)
$$;
COMMENT ON FUNCTION analytics.alert_tags_match(jsonb, text, uuid, text, text, text) IS
    'Whether the tag filter of a built-in event rule (event_type, agent_id, tool, mcp_server, model) admits a group of events';

-- The value of every enabled rule at "at" over its window (at - window,
-- at].  Each source is read once per distinct window: the events of the
-- window grouped by tenant and tag columns (with their prices), the
-- custom metric points of the rules' metrics, the latest health check and
-- circuit state of each service, the delivery attempts.  NULL: no data
-- (an average, a percentile or a health status of nothing).
CREATE OR REPLACE FUNCTION analytics.alert_rule_values(at timestamptz)
RETURNS TABLE (rule_id bigint, value double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w integer;
    platform uuid := analytics.metric_platform_id();
BEGIN
    -- events.*, latency.*, tokens.total, cost.usd
    FOR w IN SELECT DISTINCT r.window_seconds FROM analytics.alert_rules r
             WHERE r.enabled AND r.metric_name IN (SELECT b.metric_name FROM analytics.alert_builtin_metrics() b WHERE b.source = 'events')
    LOOP
        RETURN QUERY
        WITH ev AS MATERIALIZED (
            SELECT e.tenant_id, e.event_type, e.agent_id, e.tool_name, e.mcp_server, e.model,
                   sum(e.count)::double precision AS n,
                   coalesce(sum(e.count) FILTER (WHERE NOT e.success), 0)::double precision AS f,
                   coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)), 0)::double precision AS tok,
                   coalesce(sum(e.cost_usd) FILTER (WHERE e.event_type = 'llm_call'), 0)::double precision AS cost,
                   analytics.qsketch_agg_n(e.latency_ms, e.count::bigint) FILTER (WHERE e.latency_ms IS NOT NULL) AS sk
            FROM analytics.priced_events e
            WHERE e.occurred_at > at - make_interval(secs => w) AND e.occurred_at <= at
            GROUP BY 1, 2, 3, 4, 5, 6)
        SELECT r.rule_id,
               CASE WHEN r.metric_name = 'events.count' THEN coalesce(g.n, 0)
                    WHEN r.metric_name = 'events.failures' THEN coalesce(g.f, 0)
                    WHEN r.metric_name = 'events.error_rate' THEN CASE WHEN g.n > 0 THEN 100.0 * g.f / g.n END
                    WHEN r.metric_name = 'latency.p50' THEN analytics.quantile(g.sk, 0.5)
                    WHEN r.metric_name = 'latency.p95' THEN analytics.quantile(g.sk, 0.95)
                    WHEN r.metric_name = 'latency.p99' THEN analytics.quantile(g.sk, 0.99)
                    WHEN r.metric_name = 'tokens.total' THEN coalesce(g.tok, 0)
                    WHEN r.metric_name = 'cost.usd' THEN coalesce(g.cost, 0)
               END / CASE WHEN r.aggregation = 'rate' THEN r.window_seconds ELSE 1 END
        FROM analytics.alert_rules r
        CROSS JOIN LATERAL (
            SELECT sum(ev.n) AS n, sum(ev.f) AS f, sum(ev.tok) AS tok, sum(ev.cost) AS cost, analytics.qsketch_merge(ev.sk) AS sk
            FROM ev
            WHERE (r.tenant_id IS NULL OR ev.tenant_id = r.tenant_id)
              AND analytics.alert_tags_match(r.tags, ev.event_type, ev.agent_id, ev.tool_name, ev.mcp_server, ev.model)) g
        WHERE r.enabled AND r.window_seconds = w
          AND r.metric_name IN (SELECT b.metric_name FROM analytics.alert_builtin_metrics() b WHERE b.source = 'events');
    END LOOP;

    -- custom metrics: the points of the rules' metrics in each window
    FOR w IN SELECT DISTINCT r.window_seconds FROM analytics.alert_rules r
             WHERE r.enabled AND r.metric_name NOT IN (SELECT b.metric_name FROM analytics.alert_builtin_metrics() b)
    LOOP
        RETURN QUERY
        WITH wanted AS (
            SELECT DISTINCT coalesce(r.tenant_id, platform) AS tenant_id, r.metric_name
            FROM analytics.alert_rules r
            WHERE r.enabled AND r.window_seconds = w
              AND r.metric_name NOT IN (SELECT b.metric_name FROM analytics.alert_builtin_metrics() b)),
        pts AS MATERIALIZED (
            SELECT p.tenant_id, p.metric_name, p.tags, p.value
            FROM analytics.metric_points p
            JOIN wanted USING (tenant_id, metric_name)
            WHERE p.ts > at - make_interval(secs => w) AND p.ts <= at)
        SELECT r.rule_id,
               CASE WHEN r.aggregation = 'avg' THEN g.avg
                    WHEN r.aggregation = 'sum' THEN coalesce(g.sum, 0)
                    WHEN r.aggregation = 'min' THEN g.min
                    WHEN r.aggregation = 'max' THEN g.max
                    WHEN r.aggregation = 'count' THEN g.n
                    WHEN r.aggregation = 'rate' THEN coalesce(g.sum, 0) / r.window_seconds
                    WHEN r.aggregation = 'p50' THEN analytics.quantile(g.sk, 0.5)
                    WHEN r.aggregation = 'p95' THEN analytics.quantile(g.sk, 0.95)
                    WHEN r.aggregation = 'p99' THEN analytics.quantile(g.sk, 0.99)
               END
        FROM analytics.alert_rules r
        CROSS JOIN LATERAL (
            SELECT avg(pts.value) AS avg, sum(pts.value) AS sum, min(pts.value) AS min, max(pts.value) AS max,
                   count(*)::double precision AS n, analytics.qsketch_agg(pts.value) AS sk
            FROM pts
            WHERE pts.tenant_id = coalesce(r.tenant_id, platform) AND pts.metric_name = r.metric_name
              AND pts.tags @> r.tags) g
        WHERE r.enabled AND r.window_seconds = w
          AND r.metric_name NOT IN (SELECT b.metric_name FROM analytics.alert_builtin_metrics() b);
    END LOOP;

    -- health.*, circuit.open: the latest check and circuit state of each service
    IF EXISTS (SELECT 1 FROM analytics.alert_rules r WHERE r.enabled
               AND r.metric_name IN ('health.status', 'health.consecutive_failures', 'circuit.open')) THEN
        RETURN QUERY
        WITH svc AS MATERIALIZED (
            SELECT s.service_id, s.tenant_id, s.service_name,
                   CASE WHEN hc.status = 'healthy' THEN 0 WHEN hc.status = 'degraded' THEN 1
                        WHEN hc.status = 'unhealthy' THEN 2 END::double precision AS status,
                   (SELECT count(*) FROM analytics.health_checks c
                    WHERE c.service_id = s.service_id AND c.checked_at <= at AND c.status = 'unhealthy'
                      AND c.checked_at > coalesce((SELECT max(c2.checked_at) FROM analytics.health_checks c2
                                                   WHERE c2.service_id = s.service_id AND c2.checked_at <= at
                                                     AND c2.status <> 'unhealthy'), '-infinity'))::double precision AS failures,
                   CASE WHEN ce.state = 'open' THEN 1 ELSE 0 END::double precision AS circuit_open
            FROM analytics.services s
            LEFT JOIN LATERAL (SELECT c.status, c.checked_at, c.source FROM analytics.health_checks c
                               WHERE c.service_id = s.service_id AND c.checked_at <= at
                               ORDER BY c.checked_at DESC LIMIT 1) hc
                   ON hc.checked_at > at - make_interval(secs => analytics.health_stale_seconds(hc.source, s.interval_seconds))
            LEFT JOIN LATERAL (SELECT e.state FROM analytics.circuit_events e
                               WHERE e.service_id = s.service_id AND e.at <= alert_rule_values.at
                               ORDER BY e.at DESC LIMIT 1) ce ON true)
        SELECT r.rule_id,
               CASE WHEN r.aggregation = 'max' THEN g.max WHEN r.aggregation = 'min' THEN g.min
                    WHEN r.aggregation = 'avg' THEN g.avg ELSE g.sum END
        FROM analytics.alert_rules r
        CROSS JOIN LATERAL (
            SELECT max(v) AS max, min(v) AS min, avg(v) AS avg, sum(v) AS sum
            FROM (SELECT CASE WHEN r.metric_name = 'health.status' THEN svc.status
                              WHEN r.metric_name = 'health.consecutive_failures' THEN svc.failures
                              ELSE svc.circuit_open END AS v
                  FROM svc
                  WHERE (r.tenant_id IS NULL OR svc.tenant_id = r.tenant_id)
                    AND (NOT r.tags ? 'service' OR svc.service_name = r.tags ->> 'service')) x) g
        WHERE r.enabled AND r.metric_name IN ('health.status', 'health.consecutive_failures', 'circuit.open');
    END IF;

    -- webhook.failures: failed delivery attempts in the window
    FOR w IN SELECT DISTINCT r.window_seconds FROM analytics.alert_rules r
             WHERE r.enabled AND r.metric_name = 'webhook.failures'
    LOOP
        RETURN QUERY
        WITH att AS MATERIALIZED (
            SELECT o.tenant_id, o.event_type, count(*)::double precision AS n
            FROM analytics.notification_attempts a
            JOIN analytics.notification_outbox o USING (delivery_id)
            WHERE a.finished_at > at - make_interval(secs => w) AND a.finished_at <= at AND a.outcome <> 'succeeded'
            GROUP BY 1, 2)
        SELECT r.rule_id, coalesce((SELECT sum(att.n) FROM att
                                    WHERE (r.tenant_id IS NULL OR att.tenant_id = r.tenant_id)
                                      AND (NOT r.tags ? 'event_type' OR att.event_type = r.tags ->> 'event_type')), 0)
                          / CASE WHEN r.aggregation = 'rate' THEN r.window_seconds ELSE 1 END
        FROM analytics.alert_rules r
        WHERE r.enabled AND r.window_seconds = w AND r.metric_name = 'webhook.failures';
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.alert_rule_values(timestamptz) IS
    'The value of every enabled alert rule at "at" over (at - window_seconds, at]: events (priced, grouped once per window), custom metric points (once per window), the latest health check and circuit state of each service, failed delivery attempts; NULL when there is no data to average';

-- Does value meet the rule's condition?
CREATE OR REPLACE FUNCTION analytics.alert_condition_holds(value double precision, operator text, threshold double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(CASE WHEN operator = 'gt' THEN value > threshold
                         WHEN operator = 'gte' THEN value >= threshold
                         WHEN operator = 'lt' THEN value < threshold
                         WHEN operator = 'lte' THEN value <= threshold
                         WHEN operator = 'eq' THEN abs(value - threshold) <= 1e-9 * greatest(1, abs(threshold)) END, false)
$$;
COMMENT ON FUNCTION analytics.alert_condition_holds(double precision, text, double precision) IS
    'Whether a rule''s value meets its condition (gt, gte, lt, lte, eq within 1e-9 relative); a NULL value (no data) never does';

-- One evaluation of every enabled rule at "at" (default now): the state
-- machine of contract §6.6.
--   condition holds, no incident: pending since "at"; after
--       duration_seconds an incident opens (value, threshold) and
--       incident.opened is notified; not while rearm_blocked (an incident
--       was resolved by hand and the condition has not cleared since);
--   condition holds, incident open: last_value kept; an open
--       (unacknowledged) incident is notified again (incident.opened,
--       "repeat": true) every repeat_interval_seconds; a silenced one whose
--       silence ran out becomes open (or acknowledged) again;
--   condition clears: pending and rearm_blocked reset; an unresolved
--       incident resolves itself (resolved_by auto, incident.resolved).
-- Returns counts: {"rules","pending","opened","repeated","resolved","unsilenced"}.
CREATE OR REPLACE FUNCTION analytics.evaluate_alerts(at timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts   timestamptz := coalesce(at, clock_timestamp());
    r        record;
    inc      analytics.alert_incidents;
    holds    boolean;
    new_id   bigint;
    n_rules  integer := 0;
    n_pend   integer := 0;
    n_open   integer := 0;
    n_rep    integer := 0;
    n_res    integer := 0;
    n_unsil  integer := 0;
BEGIN
    -- one evaluation at a time (a slow one is not overtaken by the next minute's)
    IF NOT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('analytics.evaluate_alerts')) THEN
        RETURN jsonb_build_object('skipped', true);
    END IF;
    FOR r IN
        SELECT a.*, v.value AS cur
        FROM analytics.alert_rules a
        LEFT JOIN analytics.alert_rule_values(now_ts) v ON v.rule_id = a.rule_id
        WHERE a.enabled
        ORDER BY a.rule_id
        FOR UPDATE OF a
    LOOP
        n_rules := n_rules + 1;
        holds := analytics.alert_condition_holds(r.cur, r.condition_operator, r.threshold);
        SELECT * INTO inc FROM analytics.alert_incidents i
        WHERE i.rule_id = r.rule_id AND i.status <> 'resolved' FOR UPDATE;
        IF holds THEN
            IF inc.incident_id IS NOT NULL THEN
                UPDATE analytics.alert_incidents i SET last_value = r.cur WHERE i.incident_id = inc.incident_id;
                IF inc.status = 'silenced' AND inc.silenced_until <= now_ts THEN
                    UPDATE analytics.alert_incidents i
                    SET status = CASE WHEN i.acknowledged_at IS NULL THEN 'open' ELSE 'acknowledged' END,
                        silenced_until = NULL, last_notified_at = now_ts
                    WHERE i.incident_id = inc.incident_id
                    RETURNING * INTO inc;
                    n_unsil := n_unsil + 1;
                ELSIF inc.status = 'open'
                      AND inc.last_notified_at + make_interval(secs => r.repeat_interval_seconds) <= now_ts THEN
                    PERFORM analytics.alert_notify(inc.incident_id, 'incident.opened', now_ts, NULL, '{"repeat": true}');
                    n_rep := n_rep + 1;
                END IF;
                UPDATE analytics.alert_rules a SET last_value = r.cur, last_evaluated_at = now_ts
                WHERE a.rule_id = r.rule_id;
            ELSIF r.rearm_blocked THEN
                UPDATE analytics.alert_rules a SET last_value = r.cur, last_evaluated_at = now_ts
                WHERE a.rule_id = r.rule_id;
            ELSIF r.pending_since IS NOT NULL
                  AND r.pending_since + make_interval(secs => r.duration_seconds) <= now_ts
                  OR r.pending_since IS NULL AND r.duration_seconds = 0 THEN
                INSERT INTO analytics.alert_incidents (rule_id, tenant_id, rule_name, metric_name, condition_operator,
                                                       threshold, severity, status, value, last_value, opened_at,
                                                       last_notified_at)
                VALUES (r.rule_id, r.tenant_id, r.name, r.metric_name, r.condition_operator, r.threshold, r.severity,
                        'open', r.cur, r.cur, now_ts, now_ts)
                RETURNING incident_id INTO new_id;
                PERFORM analytics.alert_notify(new_id, 'incident.opened', now_ts);
                UPDATE analytics.alert_rules a
                SET pending_since = coalesce(a.pending_since, now_ts), last_value = r.cur, last_evaluated_at = now_ts
                WHERE a.rule_id = r.rule_id;
                n_open := n_open + 1;
            ELSE
                UPDATE analytics.alert_rules a
                SET pending_since = coalesce(a.pending_since, now_ts), last_value = r.cur, last_evaluated_at = now_ts
                WHERE a.rule_id = r.rule_id;
                n_pend := n_pend + 1;
            END IF;
        ELSE
            IF inc.incident_id IS NOT NULL THEN
                UPDATE analytics.alert_incidents i
                SET status = 'resolved', resolved_at = now_ts, resolved_by = 'auto', last_value = r.cur
                WHERE i.incident_id = inc.incident_id;
                PERFORM analytics.alert_notify(inc.incident_id, 'incident.resolved', now_ts);
                n_res := n_res + 1;
            END IF;
            UPDATE analytics.alert_rules a
            SET pending_since = NULL, rearm_blocked = false, last_value = r.cur, last_evaluated_at = now_ts
            WHERE a.rule_id = r.rule_id;
        END IF;
    END LOOP;
    RETURN jsonb_build_object('rules', n_rules, 'pending', n_pend, 'opened', n_open, 'repeated', n_rep,
                              'resolved', n_res, 'unsilenced', n_unsil);
END
$$;
COMMENT ON FUNCTION analytics.evaluate_alerts(timestamptz) IS
    'Evaluates every enabled alert rule at "at" (default now; a fixed instant for tests): pending, firing after duration_seconds (one open incident per rule, with value and threshold), repeat notifications of unacknowledged incidents every repeat_interval_seconds, silence expiry, self-resolution when the condition clears, and no reopening after a manual resolve until the condition has cleared once; scheduled every minute by the job of layer 61 (schedule_alerts)';

-- The text of a notification for people (Slack, e-mail).
CREATE OR REPLACE FUNCTION analytics.alert_message_text(payload jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN payload ->> 'type' = 'test' THEN 'Test notification from analytics'
           ELSE format('[%s] %s: %s %s (%s %s %s; value %s)%s',
                       upper(coalesce(payload #>> '{data,severity}', '')),
                       payload #>> '{data,rule_name}',
                       payload ->> 'type',
                       CASE WHEN (payload #>> '{data,repeat}')::boolean THEN '(reminder)' ELSE '' END,
                       payload #>> '{data,metric_name}', payload #>> '{data,condition_operator}',
                       payload #>> '{data,threshold}', coalesce(payload #>> '{data,last_value}', 'n/a'),
                       CASE WHEN payload #>> '{data,id}' IS NOT NULL THEN ' incident ' || (payload #>> '{data,id}') ELSE '' END)
           END
$$;
COMMENT ON FUNCTION analytics.alert_message_text(jsonb) IS
    'One line describing a notification (Slack text, e-mail subject)';

-- An e-mail notification as an RFC 5322 message (CRLF line ends): From,
-- To, Subject (the one-line text; RFC 2047 encoded when not ASCII), Date,
-- Message-ID <webhook-id@analytics> (the same on every retry, so a
-- receiver can drop duplicates), a text/plain UTF-8 body: the text line,
-- then the notification's JSON.
CREATE OR REPLACE FUNCTION analytics.alert_email_message(payload jsonb, message_id text, mail_from text, mail_to text,
                                                         at timestamptz)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    subject text := left(regexp_replace(analytics.alert_message_text(payload), '[[:cntrl:]]', ' ', 'g'), 200);
    body    text := regexp_replace(analytics.alert_message_text(payload), '\r?\n', E'\r\n', 'g') || E'\r\n\r\n'
                    || regexp_replace(jsonb_pretty(payload), '\r?\n', E'\r\n', 'g') || E'\r\n';
    cte     text := '8bit';
BEGIN
    IF subject !~ '^[ -~]*$' THEN
        subject := '=?UTF-8?B?' || replace(encode(convert_to(subject, 'UTF8'), 'base64'), E'\n', '') || '?=';
    END IF;
    -- SMTP lines are at most 998 octets: a body with a longer line (a long
    -- description, say) goes in base64 (76-character lines)
    IF EXISTS (SELECT 1 FROM regexp_split_to_table(body, E'\r\n') l WHERE octet_length(l) > 998) THEN
        cte := 'base64';
        body := replace(encode(convert_to(body, 'UTF8'), 'base64'), E'\n', E'\r\n') || E'\r\n';
    END IF;
    RETURN format(E'From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@analytics>\r\n'
                  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: %s\r\n'
                  'X-Analytics-Event: %s\r\n\r\n%s',
                  regexp_replace(mail_from, '[[:cntrl:]]', '', 'g'), regexp_replace(mail_to, '[[:cntrl:]]', '', 'g'),
                  subject, to_char(at AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS') || ' +0000',
                  regexp_replace(message_id, '[^A-Za-z0-9_.-]', '', 'g'), cte,
                  regexp_replace(coalesce(payload ->> 'type', ''), '[^a-z.]', '', 'g'), body);
END
$$;
COMMENT ON FUNCTION analytics.alert_email_message(jsonb, text, text, text, timestamptz) IS
    'An e-mail notification as an RFC 5322 message: From, To, Subject (RFC 2047 when not ASCII), Date (at), Message-ID <webhook-id@analytics> (the same on every retry), MIME-Version, Content-Type text/plain; charset=utf-8, X-Analytics-Event; the body is the one-line text and the notification''s JSON (in base64 when a line would exceed 998 octets)';

-- The background worker, once at its start: an attempt that was under way
-- when the server stopped (status delivering) is due again at once (one
-- worker per server: every lease is a dead worker's).
CREATE OR REPLACE FUNCTION analytics.delivery_recover()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    UPDATE analytics.notification_outbox o
    SET status = 'pending', claimed_at = NULL, next_attempt_at = clock_timestamp()
    WHERE o.status = 'delivering';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION analytics.delivery_recover() IS
    'Background worker, at its start: makes every notification whose attempt was cut by a stop or crash (status delivering) due again; returns how many';

-- The background worker's claim: up to max_claims due notifications
-- (pending and due, or delivering with a lease older than lease_seconds),
-- locked with SKIP LOCKED, each with what to send: the URL, the body and
-- the headers (webhook: the Standard Webhooks id, timestamp and signature
-- of "id.timestamp.body", keyed by the base64-decoded secret after
-- "whsec_"), or for e-mail the SMTP URL, sender and recipient.
-- Notifications whose channel is gone or disabled, or that expired, fail.
CREATE OR REPLACE FUNCTION analytics.delivery_claim(max_claims integer, lease_seconds integer)
RETURNS TABLE (delivery_id bigint, claimed_at timestamptz, channel_type text, url text, body text,
               headers text[], mail_from text, mail_to text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts  timestamptz := clock_timestamp();
    expired timestamptz := now_ts - make_interval(secs => greatest(coalesce(lease_seconds, 60), 1));
    ts      text := floor(extract(epoch FROM now_ts))::bigint::text;
BEGIN
    UPDATE analytics.notification_outbox o
    SET status = 'failed', finished_at = now_ts, claimed_at = NULL,
        last_error = CASE WHEN o.expires_at <= now_ts THEN 'gave up: not delivered within 24 hours'
                          ELSE 'the channel was deleted or disabled' END
    WHERE o.status IN ('pending', 'delivering') AND o.next_attempt_at <= now_ts
      AND (o.status = 'pending' OR o.claimed_at < expired)
      AND (o.expires_at <= now_ts
           OR NOT EXISTS (SELECT 1 FROM analytics.notification_channels c WHERE c.channel_id = o.channel_id AND c.enabled));
    RETURN QUERY
    WITH due AS (
        SELECT o.delivery_id
        FROM analytics.notification_outbox o
        WHERE o.status IN ('pending', 'delivering') AND o.next_attempt_at <= now_ts
          AND (o.status = 'pending' OR o.claimed_at < expired)
        ORDER BY o.next_attempt_at, o.delivery_id
        LIMIT least(greatest(coalesce(max_claims, 1), 1), 1024)
        FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE analytics.notification_outbox o
        SET status = 'delivering', claimed_at = now_ts, attempts = o.attempts + 1
        FROM due
        WHERE o.delivery_id = due.delivery_id
        RETURNING o.delivery_id, o.claimed_at, o.channel_id, o.message_id, o.payload)
    SELECT cl.delivery_id, cl.claimed_at, c.channel_type,
           CASE WHEN c.channel_type = 'email' THEN analytics.setting('smtp_url') ELSE c.target END,
           CASE WHEN c.channel_type = 'webhook' THEN cl.payload::text
                WHEN c.channel_type = 'slack' THEN jsonb_build_object('text', analytics.alert_message_text(cl.payload))::text
                ELSE analytics.alert_email_message(cl.payload, cl.message_id, analytics.setting('smtp_from'), c.target, now_ts)
           END,
           CASE WHEN c.channel_type = 'webhook' THEN
                    ARRAY['Content-Type: application/json',
                          'webhook-id: ' || cl.message_id,
                          'webhook-timestamp: ' || ts,
                          'webhook-signature: v1,' || encode(analytics.hmac_sha256(
                              decode(substr(c.secret, 7), 'base64'),
                              convert_to(cl.message_id || '.' || ts || '.' || cl.payload::text, 'UTF8')), 'base64')]
                WHEN c.channel_type = 'slack' THEN ARRAY['Content-Type: application/json']
           END,
           CASE WHEN c.channel_type = 'email' THEN analytics.setting('smtp_from') END,
           CASE WHEN c.channel_type = 'email' THEN c.target END
    FROM claimed cl
    JOIN analytics.notification_channels c ON c.channel_id = cl.channel_id;
END
$$;
COMMENT ON FUNCTION analytics.delivery_claim(integer, integer) IS
    'Background worker: claims up to max_claims (at most 1024) due notifications with FOR UPDATE SKIP LOCKED (an attempt whose lease of lease_seconds ran out is due again), counts the attempt, and returns what to send (webhook: JSON body and Standard Webhooks headers signed now; slack: {"text"}; email: SMTP URL, sender, recipient and message); expired notifications and those of deleted or disabled channels fail';

-- The background worker's result of one attempt: recorded while the lease
-- is still the worker's.  2xx (SMTP: 2xx) succeeded; a refused private
-- destination, a 410 (which disables the channel) and any other 4xx fail;
-- no answer, 429 and 5xx (SMTP: 4xx) are retried after a growing delay
-- (analytics.delivery_retry_base_ms, 5 s by default, doubling, at most 1 h;
-- a Retry-After, up to 1 h, instead when given) until
-- the notification is 24 hours old.
CREATE OR REPLACE FUNCTION analytics.delivery_done(delivery_id bigint, lease timestamptz, transfer_ok boolean,
                                                   refused boolean, status_code integer, retry_after_seconds integer,
                                                   error text, started_at timestamptz)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o       analytics.notification_outbox;
    ctype   text;
    now_ts  timestamptz := clock_timestamp();
    outcome text;
    delay   double precision;
    code    integer := CASE WHEN transfer_ok THEN status_code END;
BEGIN
    SELECT * INTO o FROM analytics.notification_outbox x
    WHERE x.delivery_id = delivery_done.delivery_id AND x.claimed_at = lease AND x.status = 'delivering'
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT c.channel_type INTO ctype FROM analytics.notification_channels c WHERE c.channel_id = o.channel_id;
    IF refused THEN
        outcome := 'refused';
    ELSIF NOT transfer_ok THEN
        outcome := 'retry';
    ELSIF code BETWEEN 200 AND 299 THEN
        outcome := 'succeeded';
    ELSIF ctype = 'email' THEN
        outcome := CASE WHEN code BETWEEN 400 AND 499 THEN 'retry' ELSE 'failed' END;
    ELSIF code = 410 THEN
        outcome := 'gone';
    ELSIF code = 429 OR code BETWEEN 500 AND 599 THEN
        outcome := 'retry';
    ELSE
        outcome := 'failed';
    END IF;
    INSERT INTO analytics.notification_attempts (delivery_id, attempt, started_at, finished_at, status_code, outcome, error)
    VALUES (o.delivery_id, o.attempts, coalesce(delivery_done.started_at, now_ts), now_ts, code, outcome,
            left(nullif(delivery_done.error, ''), 1024))
    ON CONFLICT ON CONSTRAINT notification_attempts_pkey DO NOTHING;
    IF outcome = 'retry' THEN
        delay := least(analytics.setting('delivery_retry_base_ms')::integer / 1000.0 * power(2, greatest(o.attempts - 1, 0)), 3600);
        IF retry_after_seconds > 0 THEN
            delay := greatest(least(retry_after_seconds, 3600), 1);
        END IF;
        IF now_ts + make_interval(secs => delay) >= o.expires_at THEN
            outcome := 'failed';
        END IF;
    END IF;
    IF outcome = 'retry' THEN
        UPDATE analytics.notification_outbox x
        SET status = 'pending', claimed_at = NULL, next_attempt_at = now_ts + make_interval(secs => delay),
            last_status_code = code, last_error = left(nullif(delivery_done.error, ''), 1024)
        WHERE x.delivery_id = o.delivery_id;
        RETURN 'retry';
    END IF;
    UPDATE analytics.notification_outbox x
    SET status = CASE WHEN outcome = 'succeeded' THEN 'succeeded' ELSE 'failed' END,
        claimed_at = NULL, finished_at = now_ts, last_status_code = code,
        last_error = left(nullif(delivery_done.error, ''), 1024)
    WHERE x.delivery_id = o.delivery_id;
    IF outcome = 'gone' THEN
        UPDATE analytics.notification_channels c
        SET enabled = false, disabled_reason = 'the destination answered 410 Gone', updated_at = now_ts
        WHERE c.channel_id = o.channel_id;
    END IF;
    RETURN outcome;
END
$$;
COMMENT ON FUNCTION analytics.delivery_done(bigint, timestamptz, boolean, boolean, integer, integer, text, timestamptz) IS
    'Background worker: records one delivery attempt while its lease is held (else NULL): succeeded on 2xx; retry (pending again after analytics.delivery_retry_base_ms (5 s) doubling up to 1 h, or Retry-After) on no answer, 429 or 5xx (SMTP 4xx) until 24 hours; gone on 410 (the channel is disabled); refused for a private destination; failed otherwise; returns the outcome';
