-------------------------------------------------------------------------------
-- functions/86_api_alerts.sql (layer 86, the HTTP layer): the analytics_api
-- functions of contract §6.6, alerts, incidents and notification channels
-- (storage and evaluation in functions/48_alerts.sql).
--
-- Writes (rules, incident transitions, channels): analytics.http_write_scope
-- (free-tier tenants may write); reads (alert_rules, incidents, channels,
-- deliveries): analytics.http_scope.  A tenant token manages its own rules,
-- channels and incidents; an operator token the platform's ("scope":
-- "platform", or no tenantId) or a tenant's (tenantId).  Errors: 400
-- VALIDATION_ERROR naming the field, 404 RULE_NOT_FOUND, INCIDENT_NOT_FOUND,
-- CHANNEL_NOT_FOUND, 409 CONFLICT (a rule name taken in its scope), 409
-- INVALID_STATE (an incident transition not allowed).  Answers use seed
-- 002's snake_case keys.  Re-runnable.
-------------------------------------------------------------------------------

-- 400 VALIDATION_ERROR.
CREATE OR REPLACE FUNCTION analytics.alert_invalid(message text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM analytics.http_error(400, 'VALIDATION_ERROR', message);
END
$$;
COMMENT ON FUNCTION analytics.alert_invalid(text) IS 'Raises 400 VALIDATION_ERROR with the message (which names the field)';

-- An integer field of a JSON body (a number or a string of digits) within bounds.
CREATE OR REPLACE FUNCTION analytics.alert_json_int(v jsonb, field text, lo integer, hi integer)
RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text := v #>> '{}';
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) NOT IN ('number', 'string') OR t !~ '^[0-9]{1,9}$' OR t::bigint NOT BETWEEN lo AND hi THEN
        PERFORM analytics.alert_invalid(format('%s must be an integer from %s to %s', field, lo, hi));
    END IF;
    RETURN t::integer;
END
$$;
COMMENT ON FUNCTION analytics.alert_json_int(jsonb, text, integer, integer) IS
    'An integer JSON field (number or digits) from lo to hi, NULL when absent; else 400 VALIDATION_ERROR naming the field';

-- An id parameter: digits (else 400 VALIDATION_ERROR naming it).
CREATE OR REPLACE FUNCTION analytics.alert_http_id(id text, field text DEFAULT 'id')
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF id IS NULL OR id !~ '^[0-9]{1,18}$' THEN
        PERFORM analytics.alert_invalid(field || ' must be a positive integer id');
    END IF;
    RETURN id::bigint;
END
$$;
COMMENT ON FUNCTION analytics.alert_http_id(text, text) IS 'Parses an id parameter (digits), else 400 VALIDATION_ERROR naming it';

-- A rule of the caller's scope, locked (404 RULE_NOT_FOUND otherwise).  An
-- operator without tenantId reaches every rule; with it, that tenant's.
CREATE OR REPLACE FUNCTION analytics.alert_http_rule(id text, tenant_id uuid, operator boolean)
RETURNS analytics.alert_rules
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r analytics.alert_rules;
BEGIN
    SELECT * INTO r FROM analytics.alert_rules a
    WHERE a.rule_id = analytics.alert_http_id(id)
      AND (a.tenant_id = alert_http_rule.tenant_id OR operator AND alert_http_rule.tenant_id IS NULL)
    FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM analytics.http_error(404, 'RULE_NOT_FOUND', 'No alert rule has this id');
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION analytics.alert_http_rule(text, uuid, boolean) IS
    'The alert rule of the caller''s scope with this id, locked; else 404 RULE_NOT_FOUND';

CREATE OR REPLACE FUNCTION analytics.alert_http_incident(id text, tenant_id uuid, operator boolean)
RETURNS analytics.alert_incidents
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    i analytics.alert_incidents;
BEGIN
    SELECT * INTO i FROM analytics.alert_incidents x
    WHERE x.incident_id = analytics.alert_http_id(id)
      AND (x.tenant_id = alert_http_incident.tenant_id OR operator AND alert_http_incident.tenant_id IS NULL)
    FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM analytics.http_error(404, 'INCIDENT_NOT_FOUND', 'No incident has this id');
    END IF;
    RETURN i;
END
$$;
COMMENT ON FUNCTION analytics.alert_http_incident(text, uuid, boolean) IS
    'The incident of the caller''s scope with this id, locked; else 404 INCIDENT_NOT_FOUND';

CREATE OR REPLACE FUNCTION analytics.alert_http_channel(id text, tenant_id uuid, operator boolean)
RETURNS analytics.notification_channels
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c analytics.notification_channels;
BEGIN
    SELECT * INTO c FROM analytics.notification_channels x
    WHERE x.channel_id = analytics.alert_http_id(id)
      AND (x.tenant_id = alert_http_channel.tenant_id OR operator AND alert_http_channel.tenant_id IS NULL)
    FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM analytics.http_error(404, 'CHANNEL_NOT_FOUND', 'No notification channel has this id');
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION analytics.alert_http_channel(text, uuid, boolean) IS
    'The notification channel of the caller''s scope with this id, locked; else 404 CHANNEL_NOT_FOUND';

-- A rule body checked field by field and returned as a row (rule_id and
-- the evaluation state left NULL): "fields" holds every field (the new
-- rule, or the stored rule with a patch over it), tenant_id its scope.
CREATE OR REPLACE FUNCTION analytics.alert_check_rule(fields jsonb, tenant_id uuid)
RETURNS analytics.alert_rules
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r       analytics.alert_rules;
    k       text;
    b       record;
    mtype   text;
    t       text;
    v       jsonb;
    allowed text[] := ARRAY['name', 'metric_name', 'condition_operator', 'threshold', 'severity', 'description',
                            'duration_seconds', 'window_seconds', 'aggregation', 'tags', 'channels',
                            'repeat_interval_seconds', 'enabled', 'scope'];
BEGIN
    IF fields IS NULL OR jsonb_typeof(fields) <> 'object' THEN
        PERFORM analytics.alert_invalid('rule must be a JSON object');
    END IF;
    SELECT e.key INTO k FROM jsonb_object_keys(fields) e(key) WHERE e.key <> ALL (allowed) ORDER BY 1 LIMIT 1;
    IF k IS NOT NULL THEN
        PERFORM analytics.alert_invalid(format('%s is not a field of an alert rule', left(k, 64)));
    END IF;
    r.tenant_id := tenant_id;
    -- name
    v := fields -> 'name';
    IF v IS NULL OR jsonb_typeof(v) <> 'string' OR length(v #>> '{}') NOT BETWEEN 1 AND 128 OR (v #>> '{}') ~ '[[:cntrl:]]' THEN
        PERFORM analytics.alert_invalid('name is required: a string of 1 to 128 characters');
    END IF;
    r.name := v #>> '{}';
    -- metric_name
    v := fields -> 'metric_name';
    IF v IS NULL OR jsonb_typeof(v) <> 'string' THEN
        PERFORM analytics.alert_invalid('metric_name is required');
    END IF;
    r.metric_name := v #>> '{}';
    SELECT * INTO b FROM analytics.alert_builtin_metrics() m WHERE m.metric_name = r.metric_name;
    IF NOT FOUND THEN
        SELECT m.metric_type INTO mtype FROM analytics.custom_metrics m
        WHERE m.tenant_id = coalesce(alert_check_rule.tenant_id, analytics.metric_platform_id())
          AND m.metric_name = r.metric_name;
        IF mtype IS NULL THEN
            PERFORM analytics.alert_invalid('metric_name must be a built-in metric (events.count, events.failures, events.error_rate, '
                || 'latency.p50, latency.p95, latency.p99, tokens.total, cost.usd, health.status, health.consecutive_failures, '
                || 'circuit.open, webhook.failures) or a custom metric already recorded in this scope');
        END IF;
    END IF;
    -- condition_operator, threshold, severity, description
    t := fields ->> 'condition_operator';
    IF t IS NULL OR t NOT IN ('gt', 'lt', 'eq', 'gte', 'lte') THEN
        PERFORM analytics.alert_invalid('condition_operator must be gt, lt, eq, gte or lte');
    END IF;
    r.condition_operator := t;
    v := fields -> 'threshold';
    t := v #>> '{}';
    IF v IS NULL OR jsonb_typeof(v) NOT IN ('number', 'string')
       OR t !~ '^-?[0-9]{1,16}(\.[0-9]{1,12})?([eE][-+]?[0-9]{1,2})?$' OR abs(t::numeric) > 1e15 THEN
        PERFORM analytics.alert_invalid('threshold must be a number from -1e15 to 1e15');
    END IF;
    r.threshold := t::double precision;
    t := coalesce(fields ->> 'severity', 'warning');
    IF t NOT IN ('info', 'warning', 'error', 'critical') THEN
        PERFORM analytics.alert_invalid('severity must be info, warning, error or critical');
    END IF;
    r.severity := t;
    v := fields -> 'description';
    IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' AND (jsonb_typeof(v) <> 'string' OR length(v #>> '{}') > 1024) THEN
        PERFORM analytics.alert_invalid('description must be a string of at most 1024 characters');
    END IF;
    r.description := fields ->> 'description';
    -- durations
    r.duration_seconds := coalesce(analytics.alert_json_int(fields -> 'duration_seconds', 'duration_seconds', 0, 86400), 0);
    r.window_seconds := coalesce(analytics.alert_json_int(fields -> 'window_seconds', 'window_seconds', 60, 86400), 300);
    r.repeat_interval_seconds := coalesce(analytics.alert_json_int(fields -> 'repeat_interval_seconds', 'repeat_interval_seconds', 60, 604800), 14400);
    -- aggregation
    t := fields ->> 'aggregation';
    IF b.metric_name IS NOT NULL THEN
        t := coalesce(t, b.default_aggregation);
        IF t <> ALL (b.aggregations) THEN
            PERFORM analytics.alert_invalid(format('aggregation of %s must be one of %s', r.metric_name, array_to_string(b.aggregations, ', ')));
        END IF;
    ELSE
        t := coalesce(t, CASE WHEN mtype = 'counter' THEN 'sum' ELSE 'avg' END);
        IF t NOT IN ('avg', 'sum', 'min', 'max', 'count', 'p50', 'p95', 'p99', 'rate') THEN
            PERFORM analytics.alert_invalid('aggregation must be avg, sum, min, max, count, p50, p95, p99 or rate');
        END IF;
    END IF;
    r.aggregation := t;
    -- tags: a flat object of strings; built-ins take their own keys
    v := coalesce(fields -> 'tags', '{}');
    IF jsonb_typeof(v) = 'null' THEN
        v := '{}';
    END IF;
    IF jsonb_typeof(v) <> 'object' OR (SELECT count(*) FROM jsonb_object_keys(v)) > 16
       OR EXISTS (SELECT 1 FROM jsonb_each(v) e WHERE jsonb_typeof(e.value) <> 'string' OR length(e.value #>> '{}') > 256
                                                   OR e.key !~ '^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$') THEN
        PERFORM analytics.alert_invalid('tags must be a JSON object of at most 16 string values of at most 256 characters');
    END IF;
    IF b.metric_name IS NOT NULL THEN
        SELECT e.key INTO k FROM jsonb_object_keys(v) e(key) WHERE e.key <> ALL (b.tag_keys) ORDER BY 1 LIMIT 1;
        IF k IS NOT NULL THEN
            PERFORM analytics.alert_invalid(format('tags.%s is not a tag of %s (its tags: %s)', k, r.metric_name, array_to_string(b.tag_keys, ', ')));
        END IF;
    END IF;
    r.tags := v;
    -- channels: ids of channels of the same scope
    v := coalesce(fields -> 'channels', '[]');
    IF jsonb_typeof(v) = 'null' THEN
        v := '[]';
    END IF;
    IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) > 20
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(v) e WHERE (e #>> '{}') !~ '^[0-9]{1,18}$') THEN
        PERFORM analytics.alert_invalid('channels must be an array of at most 20 channel ids');
    END IF;
    SELECT coalesce(array_agg(DISTINCT (e #>> '{}')::bigint), '{}') INTO r.channels FROM jsonb_array_elements(v) e;
    IF EXISTS (SELECT 1 FROM unnest(r.channels) c(id)
               WHERE NOT EXISTS (SELECT 1 FROM analytics.notification_channels n
                                 WHERE n.channel_id = c.id AND n.tenant_id IS NOT DISTINCT FROM alert_check_rule.tenant_id)) THEN
        PERFORM analytics.http_error(404, 'CHANNEL_NOT_FOUND', 'channels names a channel that does not exist in this scope');
    END IF;
    -- enabled
    v := fields -> 'enabled';
    IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' AND NOT (jsonb_typeof(v) = 'boolean' OR (v #>> '{}') IN ('true', 'false')) THEN
        PERFORM analytics.alert_invalid('enabled must be true or false');
    END IF;
    r.enabled := coalesce((v #>> '{}')::boolean, true);
    RETURN r;
END
$$;
COMMENT ON FUNCTION analytics.alert_check_rule(jsonb, uuid) IS
    'Checks an alert rule body (contract §6.6) for the scope tenant_id (NULL: the platform) and returns it as an analytics.alert_rules row with defaults applied; 400 VALIDATION_ERROR naming the first bad field, 404 CHANNEL_NOT_FOUND for a channel not of the scope';

-- The scope a rule or channel write is for: a tenant token its tenant; an
-- operator the tenant of tenantId, or the platform ("scope":"platform" or
-- no tenantId).  A tenant asking for the platform scope: 403 FORBIDDEN.
CREATE OR REPLACE FUNCTION analytics.alert_write_scope("tenantId" text, scope text, OUT tenant_id uuid, OUT operator boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w record := analytics.http_write_scope("tenantId");
BEGIN
    tenant_id := w.tenant_id;
    operator := w.operator;
    IF scope IS NOT NULL AND scope NOT IN ('platform', 'tenant') THEN
        PERFORM analytics.alert_invalid('scope must be platform or tenant');
    END IF;
    IF scope = 'platform' AND NOT operator THEN
        PERFORM analytics.http_error(403, 'FORBIDDEN', 'Only operators manage platform-wide alert rules');
    END IF;
    IF scope = 'platform' AND "tenantId" IS NOT NULL THEN
        PERFORM analytics.alert_invalid('scope platform cannot be given with tenantId');
    END IF;
    IF scope = 'tenant' AND operator AND tenant_id IS NULL THEN
        PERFORM analytics.alert_invalid('scope tenant needs tenantId for an operator');
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.alert_write_scope(text, text) IS
    'The scope of an alert write: http_write_scope, then scope (platform: operators only, 403 FORBIDDEN for a tenant; tenant: an operator names tenantId)';

-- POST /api/v1/analytics/alerts/rules: the body is seed 002's rule, as
-- named arguments (or as one object in "rule").
CREATE OR REPLACE FUNCTION analytics_api.create_alert_rule(rule jsonb DEFAULT NULL, name text DEFAULT NULL,
        metric_name text DEFAULT NULL, condition_operator text DEFAULT NULL, threshold text DEFAULT NULL,
        severity text DEFAULT NULL, description text DEFAULT NULL, duration_seconds text DEFAULT NULL,
        window_seconds text DEFAULT NULL, aggregation text DEFAULT NULL, tags jsonb DEFAULT NULL,
        channels jsonb DEFAULT NULL, repeat_interval_seconds text DEFAULT NULL, enabled text DEFAULT NULL,
        scope text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    body jsonb := coalesce(rule, '{}'::jsonb);
    s    record;
    r    analytics.alert_rules;
BEGIN
    -- the §5 checks (and the scope) come before any check of the body
    s := analytics.alert_write_scope("tenantId",
                                     coalesce(scope, CASE WHEN jsonb_typeof(body) = 'object' THEN body ->> 'scope' END));
    IF jsonb_typeof(body) <> 'object' THEN
        PERFORM analytics.alert_invalid('rule must be a JSON object');
    END IF;
    body := body || jsonb_strip_nulls(jsonb_build_object(
        'name', name, 'metric_name', metric_name, 'condition_operator', condition_operator, 'threshold', threshold,
        'severity', severity, 'description', description, 'duration_seconds', duration_seconds,
        'window_seconds', window_seconds, 'aggregation', aggregation, 'tags', tags, 'channels', channels,
        'repeat_interval_seconds', repeat_interval_seconds, 'enabled', enabled, 'scope', scope));
    r := analytics.alert_check_rule(body, s.tenant_id);
    IF (SELECT count(*) FROM analytics.alert_rules a WHERE a.tenant_id IS NOT DISTINCT FROM s.tenant_id) >= 1000 THEN
        PERFORM analytics.alert_invalid('at most 1000 alert rules per scope');
    END IF;
    BEGIN
        INSERT INTO analytics.alert_rules (tenant_id, name, description, metric_name, condition_operator, threshold,
                                           severity, duration_seconds, window_seconds, aggregation, tags, channels,
                                           repeat_interval_seconds, enabled)
        VALUES (s.tenant_id, r.name, r.description, r.metric_name, r.condition_operator, r.threshold, r.severity,
                r.duration_seconds, r.window_seconds, r.aggregation, r.tags, r.channels,
                r.repeat_interval_seconds, r.enabled)
        RETURNING * INTO r;
    EXCEPTION WHEN unique_violation THEN
        PERFORM analytics.http_error(409, 'CONFLICT', 'An alert rule of this name exists in this scope');
    END;
    RETURN analytics.alert_rule_json(r);
END
$$;
COMMENT ON FUNCTION analytics_api.create_alert_rule(jsonb, text, text, text, text, text, text, text, text, text, jsonb, jsonb, text, text, text, text) IS
    'POST /api/v1/analytics/alerts/rules: creates an alert rule (contract §6.6) from seed 002''s body {name, metric_name, condition_operator, threshold, severity, description, duration_seconds} plus window_seconds, aggregation, tags, channels, repeat_interval_seconds, enabled, scope (operators: platform); given as named fields or as one object "rule"; 400 VALIDATION_ERROR naming the field, 404 CHANNEL_NOT_FOUND, 409 CONFLICT for a name taken in the scope';

CREATE OR REPLACE FUNCTION analytics_api.alert_rules("tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s    record := analytics.http_scope("tenantId");
    a    analytics.alert_rules;
    rows jsonb := '[]';
BEGIN
    -- (row by row into a variable of the table's type: on Citus a whole-row
    -- value inside the query would carry a shard's row type)
    FOR a IN SELECT x.* FROM analytics.alert_rules x
             WHERE x.tenant_id = s.tenant_id OR s.operator AND s.tenant_id IS NULL
             ORDER BY x.rule_id LOOP
        rows := rows || jsonb_build_array(analytics.alert_rule_json(a));
    END LOOP;
    RETURN jsonb_build_object('rules', rows, 'total', jsonb_array_length(rows));
END
$$;
COMMENT ON FUNCTION analytics_api.alert_rules(text) IS
    'The caller''s alert rules with their state (ok, pending, firing, disabled) and last value: a tenant''s own; an operator''s every rule, or tenantId''s (contract §6.6)';

CREATE OR REPLACE FUNCTION analytics_api.update_alert_rule(id text DEFAULT NULL, patch jsonb DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   record := analytics.alert_write_scope("tenantId", NULL);
    old analytics.alert_rules;
    r   analytics.alert_rules;
    inc analytics.alert_incidents;
    now_ts timestamptz := clock_timestamp();
BEGIN
    IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN
        PERFORM analytics.alert_invalid('patch must be a JSON object of the fields to change');
    END IF;
    IF patch ? 'scope' THEN
        PERFORM analytics.alert_invalid('scope cannot be changed');
    END IF;
    old := analytics.alert_http_rule(id, s.tenant_id, s.operator);
    r := analytics.alert_check_rule(
        (analytics.alert_rule_json(old) - ARRAY['id', 'scope', 'tenant_id', 'state', 'last_value', 'last_evaluated_at',
                                               'created_at', 'updated_at']) || patch, old.tenant_id);
    BEGIN
        UPDATE analytics.alert_rules a
        SET name = r.name, description = r.description, metric_name = r.metric_name,
            condition_operator = r.condition_operator, threshold = r.threshold, severity = r.severity,
            duration_seconds = r.duration_seconds, window_seconds = r.window_seconds, aggregation = r.aggregation,
            tags = r.tags, channels = r.channels, repeat_interval_seconds = r.repeat_interval_seconds,
            enabled = r.enabled, updated_at = now_ts,
            -- a changed condition starts its pending time afresh
            pending_since = CASE WHEN (old.metric_name, old.condition_operator, old.threshold, old.window_seconds, old.aggregation, old.tags)
                                      IS DISTINCT FROM (r.metric_name, r.condition_operator, r.threshold, r.window_seconds, r.aggregation, r.tags)
                                 THEN NULL ELSE a.pending_since END
        WHERE a.rule_id = old.rule_id
        RETURNING * INTO r;
    EXCEPTION WHEN unique_violation THEN
        PERFORM analytics.http_error(409, 'CONFLICT', 'An alert rule of this name exists in this scope');
    END;
    IF NOT r.enabled THEN
        UPDATE analytics.alert_incidents i
        SET status = 'resolved', resolved_at = now_ts, resolved_by = 'rule_disabled'
        WHERE i.rule_id = r.rule_id AND i.status <> 'resolved'
        RETURNING * INTO inc;
        IF inc.incident_id IS NOT NULL THEN
            PERFORM analytics.alert_notify(inc.incident_id, 'incident.resolved', now_ts);
        END IF;
        UPDATE analytics.alert_rules a SET pending_since = NULL, rearm_blocked = false WHERE a.rule_id = r.rule_id
        RETURNING * INTO r;
    END IF;
    RETURN analytics.alert_rule_json(r);
END
$$;
COMMENT ON FUNCTION analytics_api.update_alert_rule(text, jsonb, text) IS
    'Changes the fields of an alert rule given in patch (contract §6.6; scope cannot change); a changed condition restarts its pending time, disabling resolves its open incident (resolved_by rule_disabled); 400 VALIDATION_ERROR, 404 RULE_NOT_FOUND, 409 CONFLICT';

CREATE OR REPLACE FUNCTION analytics_api.delete_alert_rule(id text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   record := analytics.alert_write_scope("tenantId", NULL);
    r   analytics.alert_rules := analytics.alert_http_rule(id, s.tenant_id, s.operator);
    inc analytics.alert_incidents;
    now_ts timestamptz := clock_timestamp();
BEGIN
    UPDATE analytics.alert_incidents i
    SET status = 'resolved', resolved_at = now_ts, resolved_by = 'rule_deleted'
    WHERE i.rule_id = r.rule_id AND i.status <> 'resolved'
    RETURNING * INTO inc;
    IF inc.incident_id IS NOT NULL THEN
        PERFORM analytics.alert_notify(inc.incident_id, 'incident.resolved', now_ts);
    END IF;
    DELETE FROM analytics.alert_rules a WHERE a.rule_id = r.rule_id;
    RETURN jsonb_build_object('id', r.rule_id, 'deleted', true, 'resolved_incident', inc.incident_id);
END
$$;
COMMENT ON FUNCTION analytics_api.delete_alert_rule(text, text) IS
    'Deletes an alert rule (contract §6.6); its open incident is resolved (resolved_by rule_deleted, notified) and kept; 404 RULE_NOT_FOUND';

-- GET /api/v1/analytics/alerts/incidents: status open (open and
-- acknowledged), acknowledged, silenced, resolved or all; the period
-- (default 30d) bounds opened_at, except that open, acknowledged and
-- silenced incidents are listed whenever they opened unless a period is given.
CREATE OR REPLACE FUNCTION analytics_api.incidents(status text DEFAULT 'open', period text DEFAULT NULL,
                                                   "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                   days text DEFAULT NULL, hours text DEFAULT NULL,
                                                   "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s      record := analytics.http_scope("tenantId");
    w      record := analytics.http_window(period, "from", "to", days, hours, NULL, NULL, '30d');
    st     text := coalesce(status, 'open');
    given  boolean := coalesce(period, "from", "to", days, hours) IS NOT NULL;
    wanted text[];
    i      analytics.alert_incidents;
    rows   jsonb := '[]';
BEGIN
    IF st NOT IN ('open', 'acknowledged', 'silenced', 'resolved', 'all') THEN
        PERFORM analytics.alert_invalid('status must be open, acknowledged, silenced, resolved or all');
    END IF;
    wanted := CASE WHEN st = 'open' THEN ARRAY['open', 'acknowledged']
                   WHEN st = 'all' THEN ARRAY['open', 'acknowledged', 'silenced', 'resolved']
                   ELSE ARRAY[st] END;
    -- (row by row into a variable of the table's type: on Citus a whole-row
    -- value inside the query would carry a shard's row type)
    FOR i IN SELECT x.* FROM analytics.alert_incidents x
             WHERE (x.tenant_id = s.tenant_id OR s.operator AND s.tenant_id IS NULL)
               AND x.status = ANY (wanted)
               AND ((x.status <> 'resolved' AND NOT given) OR (x.opened_at >= w.from_ts AND x.opened_at < w.to_ts))
             ORDER BY x.opened_at DESC, x.incident_id DESC LOOP
        rows := rows || jsonb_build_array(analytics.alert_incident_json(i));
    END LOOP;
    RETURN jsonb_build_object('incidents', rows, 'total', jsonb_array_length(rows), 'status', st,
                              'period', analytics.window_json(w.from_ts, w.to_ts));
END
$$;
COMMENT ON FUNCTION analytics_api.incidents(text, text, text, text, text, text, text) IS
    'GET /api/v1/analytics/alerts/incidents: the caller''s incidents, newest first (contract §6.6): status open (open and acknowledged, the default), acknowledged, silenced, resolved or all; period/from/to (default 30d) bound when they opened (unresolved ones are listed whatever their age unless a period is given); 400 VALIDATION_ERROR, INVALID_PERIOD';

CREATE OR REPLACE FUNCTION analytics_api.acknowledge_incident(id text DEFAULT NULL, note text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   record := analytics.alert_write_scope("tenantId", NULL);
    i   analytics.alert_incidents;
    now_ts timestamptz := clock_timestamp();
    who text;
BEGIN
    IF length(note) > 4096 THEN
        PERFORM analytics.alert_invalid('note may have at most 4096 characters');
    END IF;
    i := analytics.alert_http_incident(coalesce(analytics.http_path_id(), id), s.tenant_id, s.operator);
    IF i.status NOT IN ('open', 'silenced') THEN
        PERFORM analytics.http_error(409, 'INVALID_STATE', format('An incident that is %s cannot be acknowledged', i.status));
    END IF;
    BEGIN
        who := left(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', 256);
    EXCEPTION WHEN others THEN
        who := NULL;
    END;
    UPDATE analytics.alert_incidents x
    SET status = 'acknowledged', acknowledged_at = now_ts, acknowledged_by = who, silenced_until = NULL,
        note = coalesce(acknowledge_incident.note, x.note)
    WHERE x.incident_id = i.incident_id
    RETURNING * INTO i;
    PERFORM analytics.alert_notify(i.incident_id, 'incident.acknowledged', now_ts);
    RETURN analytics.alert_incident_json(i);
END
$$;
COMMENT ON FUNCTION analytics_api.acknowledge_incident(text, text, text) IS
    'POST /api/v1/analytics/alerts/incidents/{id}/acknowledge: an open or silenced incident becomes acknowledged (no more repeat notifications), with an optional note (at most 4096 characters); 409 INVALID_STATE otherwise, 404 INCIDENT_NOT_FOUND';

CREATE OR REPLACE FUNCTION analytics_api.resolve_incident(id text DEFAULT NULL, resolution_notes text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   record := analytics.alert_write_scope("tenantId", NULL);
    i   analytics.alert_incidents;
    now_ts timestamptz := clock_timestamp();
BEGIN
    IF length(resolution_notes) > 4096 THEN
        PERFORM analytics.alert_invalid('resolution_notes may have at most 4096 characters');
    END IF;
    i := analytics.alert_http_incident(coalesce(analytics.http_path_id(), id), s.tenant_id, s.operator);
    IF i.status = 'resolved' THEN
        PERFORM analytics.http_error(409, 'INVALID_STATE', 'The incident is already resolved');
    END IF;
    UPDATE analytics.alert_incidents x
    SET status = 'resolved', resolved_at = now_ts, resolved_by = 'manual',
        resolution_notes = resolve_incident.resolution_notes, silenced_until = NULL
    WHERE x.incident_id = i.incident_id
    RETURNING * INTO i;
    -- no new incident until the condition has cleared once
    UPDATE analytics.alert_rules a SET rearm_blocked = true, pending_since = NULL WHERE a.rule_id = i.rule_id;
    PERFORM analytics.alert_notify(i.incident_id, 'incident.resolved', now_ts);
    RETURN analytics.alert_incident_json(i);
END
$$;
COMMENT ON FUNCTION analytics_api.resolve_incident(text, text, text) IS
    'POST /api/v1/analytics/alerts/incidents/{id}/resolve: resolves an unresolved incident by hand with resolution_notes (at most 4096 characters); its rule opens no new incident until its condition has cleared once; 409 INVALID_STATE when already resolved, 404 INCIDENT_NOT_FOUND';

CREATE OR REPLACE FUNCTION analytics_api.silence_incident(id text DEFAULT NULL, "until" text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   record := analytics.alert_write_scope("tenantId", NULL);
    i   analytics.alert_incidents;
    now_ts timestamptz := clock_timestamp();
    u   timestamptz;
BEGIN
    IF "until" IS NULL OR "until" !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[-+][0-9]{2}(:?[0-9]{2})?)$' THEN
        PERFORM analytics.alert_invalid('until must be an RFC 3339 timestamp with its offset');
    END IF;
    BEGIN
        u := "until"::timestamptz;
    EXCEPTION WHEN others THEN
        PERFORM analytics.alert_invalid('until must be an RFC 3339 timestamp with its offset');
    END;
    IF u <= now_ts OR u > now_ts + interval '30 days' THEN
        PERFORM analytics.alert_invalid('until must lie in the next 30 days');
    END IF;
    i := analytics.alert_http_incident(coalesce(analytics.http_path_id(), id), s.tenant_id, s.operator);
    IF i.status = 'resolved' THEN
        PERFORM analytics.http_error(409, 'INVALID_STATE', 'A resolved incident cannot be silenced');
    END IF;
    UPDATE analytics.alert_incidents x SET status = 'silenced', silenced_until = u
    WHERE x.incident_id = i.incident_id
    RETURNING * INTO i;
    PERFORM analytics.alert_notify(i.incident_id, 'incident.silenced', now_ts);
    RETURN analytics.alert_incident_json(i);
END
$$;
COMMENT ON FUNCTION analytics_api.silence_incident(text, text, text) IS
    'Silences an unresolved incident until "until" (RFC 3339, within 30 days): no notifications; afterwards it is open (or acknowledged) again while the condition holds, resolved when it clears; 409 INVALID_STATE for a resolved one, 404 INCIDENT_NOT_FOUND';

-- A new webhook signing secret: whsec_ and 32 random bytes in base64.
CREATE OR REPLACE FUNCTION analytics.alert_new_secret()
RETURNS text
LANGUAGE sql VOLATILE
AS $$ SELECT 'whsec_' || encode(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64') $$;
COMMENT ON FUNCTION analytics.alert_new_secret() IS
    'A new Standard Webhooks signing secret: whsec_ and the base64 of 32 bytes from the server''s strong random source (two v4 uuids)';

-- Is the host of a URL an address the worker would refuse (loopback,
-- private, link-local...; the worker checks again after name resolution)?
CREATE OR REPLACE FUNCTION analytics.alert_private_host(url text)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    host text := lower(substring(url FROM '^[A-Za-z]+://\[?([^/?#\]]*?)\]?(:[0-9]+)?([/?#]|$)'));
    a    inet;
BEGIN
    IF host IS NULL OR host = '' OR host = 'localhost' OR host LIKE '%.localhost' THEN
        RETURN true;
    END IF;
    BEGIN
        a := host::inet;
    EXCEPTION WHEN others THEN
        RETURN false;   -- a name: judged by the worker after resolution
    END;
    RETURN a << ANY (ARRAY['0.0.0.0/8', '10.0.0.0/8', '127.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12',
                           '192.168.0.0/16', '192.0.0.0/24', '198.18.0.0/15', '224.0.0.0/3',
                           '::/127', '::ffff:0:0/96', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8']::inet[])
        OR a = ANY (ARRAY['0.0.0.0', '::', '::1']::inet[]);
END
$$;
COMMENT ON FUNCTION analytics.alert_private_host(text) IS
    'Whether a URL''s host is localhost or a literal loopback, private, link-local, shared, multicast or reserved address (names are checked by the worker after resolution)';

CREATE OR REPLACE FUNCTION analytics_api.create_channel(channel_type text DEFAULT NULL, target text DEFAULT NULL,
                                                        events jsonb DEFAULT NULL, scope text DEFAULT NULL,
                                                        "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   record := analytics.alert_write_scope("tenantId", scope);
    c   analytics.notification_channels;
    ev  text[];
    sec text;
BEGIN
    IF channel_type IS NULL OR channel_type NOT IN ('webhook', 'slack', 'email') THEN
        PERFORM analytics.alert_invalid('channel_type must be webhook, slack or email');
    END IF;
    IF channel_type IN ('webhook', 'slack') THEN
        IF target IS NULL OR length(target) > 2048 OR target !~* '^https?://[^[:space:]/?#@]+([/?#][^[:space:]]*)?$' THEN
            PERFORM analytics.alert_invalid('target must be an http:// or https:// URL of at most 2048 characters (no credentials)');
        END IF;
        IF analytics.alert_private_host(target) AND analytics.setting('delivery_allow_private') <> 'on' THEN
            PERFORM analytics.alert_invalid('target must not be a loopback, private or link-local address (analytics.delivery_allow_private is off)');
        END IF;
    ELSIF target IS NULL OR length(target) > 254 OR target !~ '^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$' THEN
        PERFORM analytics.alert_invalid('target must be an e-mail address');
    END IF;
    IF events IS NOT NULL AND jsonb_typeof(events) <> 'null' THEN
        IF jsonb_typeof(events) <> 'array' OR jsonb_array_length(events) NOT BETWEEN 1 AND 4
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(events) e
                      WHERE jsonb_typeof(e) <> 'string'
                         OR (e #>> '{}') NOT IN ('incident.opened', 'incident.acknowledged', 'incident.resolved', 'incident.silenced')) THEN
            PERFORM analytics.alert_invalid('events must be an array of incident.opened, incident.acknowledged, incident.resolved, incident.silenced');
        END IF;
        SELECT array_agg(DISTINCT e) INTO ev FROM jsonb_array_elements_text(events) e;
    END IF;
    IF (SELECT count(*) FROM analytics.notification_channels n WHERE n.tenant_id IS NOT DISTINCT FROM s.tenant_id) >= 100 THEN
        PERFORM analytics.alert_invalid('at most 100 notification channels per scope');
    END IF;
    IF channel_type = 'webhook' THEN
        sec := analytics.alert_new_secret();
    END IF;
    INSERT INTO analytics.notification_channels (tenant_id, channel_type, target, events, secret)
    VALUES (s.tenant_id, channel_type, target, ev, sec)
    RETURNING * INTO c;
    RETURN analytics.alert_channel_json(c) || CASE WHEN sec IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('secret', sec) END;
END
$$;
COMMENT ON FUNCTION analytics_api.create_channel(text, text, jsonb, text, text) IS
    'Creates a notification channel (contract §6.6): channel_type webhook|slack (target: an http(s) URL, not a private address unless analytics.delivery_allow_private) or email (target: an address); events: the incident.* types it takes (default all); answers the channel with id and, for a webhook, its signing secret whsec_… (shown this once); 400 VALIDATION_ERROR naming the field';

CREATE OR REPLACE FUNCTION analytics_api.channels("tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s    record := analytics.http_scope("tenantId");
    c    analytics.notification_channels;
    rows jsonb := '[]';
BEGIN
    -- (row by row into a variable of the table's type: on Citus a whole-row
    -- value inside the query would carry a shard's row type)
    FOR c IN SELECT x.* FROM analytics.notification_channels x
             WHERE x.tenant_id = s.tenant_id OR s.operator AND s.tenant_id IS NULL
             ORDER BY x.channel_id LOOP
        rows := rows || jsonb_build_array(analytics.alert_channel_json(c));
    END LOOP;
    RETURN jsonb_build_object('channels', rows, 'total', jsonb_array_length(rows));
END
$$;
COMMENT ON FUNCTION analytics_api.channels(text) IS
    'The caller''s notification channels (never their secrets), with enabled and disabled_reason (a 410 answer disables a channel)';

CREATE OR REPLACE FUNCTION analytics_api.delete_channel(id text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.alert_write_scope("tenantId", NULL);
    c analytics.notification_channels := analytics.alert_http_channel(id, s.tenant_id, s.operator);
BEGIN
    UPDATE analytics.alert_rules a SET channels = array_remove(a.channels, c.channel_id)
    WHERE c.channel_id = ANY (a.channels);
    DELETE FROM analytics.notification_channels x WHERE x.channel_id = c.channel_id;
    RETURN jsonb_build_object('id', c.channel_id, 'deleted', true);
END
$$;
COMMENT ON FUNCTION analytics_api.delete_channel(text, text) IS
    'Deletes a notification channel and takes it out of every rule; its undelivered notifications fail; 404 CHANNEL_NOT_FOUND';

CREATE OR REPLACE FUNCTION analytics_api.rotate_channel_secret(id text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s   record := analytics.alert_write_scope("tenantId", NULL);
    c   analytics.notification_channels := analytics.alert_http_channel(id, s.tenant_id, s.operator);
    sec text := analytics.alert_new_secret();
BEGIN
    IF c.channel_type <> 'webhook' THEN
        PERFORM analytics.alert_invalid('id must be a webhook channel: only webhooks have a signing secret');
    END IF;
    UPDATE analytics.notification_channels x SET secret = sec, updated_at = clock_timestamp()
    WHERE x.channel_id = c.channel_id
    RETURNING * INTO c;
    RETURN analytics.alert_channel_json(c) || jsonb_build_object('secret', sec);
END
$$;
COMMENT ON FUNCTION analytics_api.rotate_channel_secret(text, text) IS
    'Gives a webhook channel a new signing secret whsec_… (answered this once; deliveries from now on are signed with it); 404 CHANNEL_NOT_FOUND, 400 VALIDATION_ERROR for a non-webhook channel';

CREATE OR REPLACE FUNCTION analytics_api.test_channel(id text DEFAULT NULL, "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.alert_write_scope("tenantId", NULL);
    c analytics.notification_channels := analytics.alert_http_channel(id, s.tenant_id, s.operator);
    d bigint;
BEGIN
    IF NOT c.enabled THEN
        PERFORM analytics.alert_invalid('id names a disabled channel: ' || coalesce(c.disabled_reason, ''));
    END IF;
    PERFORM analytics.alert_notify(NULL, 'test', clock_timestamp(), c.channel_id);
    SELECT max(o.delivery_id) INTO d FROM analytics.notification_outbox o WHERE o.channel_id = c.channel_id AND o.event_type = 'test';
    RETURN jsonb_build_object('id', c.channel_id, 'delivery_id', d, 'status', 'pending');
END
$$;
COMMENT ON FUNCTION analytics_api.test_channel(text, text) IS
    'Queues a test notification (event type test) to a channel; the background worker delivers it (see deliveries); 404 CHANNEL_NOT_FOUND';

CREATE OR REPLACE FUNCTION analytics_api.deliveries(period text DEFAULT NULL, status text DEFAULT NULL,
                                                    "from" text DEFAULT NULL, "to" text DEFAULT NULL,
                                                    "tenantId" text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s record := analytics.http_scope("tenantId");
    w record := analytics.http_window(period, "from", "to", NULL, NULL, NULL, NULL, '24h');
BEGIN
    IF status IS NOT NULL AND status NOT IN ('pending', 'delivering', 'succeeded', 'failed') THEN
        PERFORM analytics.alert_invalid('status must be pending, delivering, succeeded or failed');
    END IF;
    RETURN (WITH d AS (
                SELECT o.*, c.channel_type
                FROM analytics.notification_outbox o
                LEFT JOIN analytics.notification_channels c USING (channel_id)
                WHERE (o.tenant_id = s.tenant_id OR s.operator AND s.tenant_id IS NULL)
                  AND o.created_at >= w.from_ts AND o.created_at < w.to_ts
                  AND (deliveries.status IS NULL OR o.status = deliveries.status)
                ORDER BY o.created_at DESC, o.delivery_id DESC
                LIMIT 1000)
            SELECT jsonb_build_object(
                'deliveries', coalesce(jsonb_agg(jsonb_build_object(
                    'id', d.delivery_id, 'webhook_id', d.message_id, 'channel_id', d.channel_id,
                    'channel_type', d.channel_type, 'event_type', d.event_type, 'incident_id', d.incident_id,
                    'status', d.status, 'attempts', d.attempts, 'created_at', d.created_at,
                    'next_attempt_at', CASE WHEN d.status IN ('pending', 'delivering') THEN d.next_attempt_at END,
                    'finished_at', d.finished_at, 'last_status_code', d.last_status_code, 'last_error', d.last_error,
                    'attempt_log', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                        'attempt', a.attempt, 'started_at', a.started_at, 'finished_at', a.finished_at,
                                        'status_code', a.status_code, 'outcome', a.outcome, 'error', a.error) ORDER BY a.attempt), '[]')
                                    FROM analytics.notification_attempts a WHERE a.delivery_id = d.delivery_id))
                    ORDER BY d.created_at DESC, d.delivery_id DESC), '[]'),
                'total', count(*), 'period', analytics.window_json(w.from_ts, w.to_ts))
            FROM d);
END
$$;
COMMENT ON FUNCTION analytics_api.deliveries(text, text, text, text, text) IS
    'The caller''s notifications of the period (default 24h; at most the 1000 newest), newest first, with status (pending, delivering, succeeded, failed), the webhook-id, and every attempt (status code, outcome, error); 400 VALIDATION_ERROR, INVALID_PERIOD';
