-- The alert state machine of contract §6.6 step by step, with a controlled
-- clock (analytics.evaluate_alerts(at)) and controlled data (events of a
-- tool no generated event uses): pending, firing, one incident per rule,
-- repeat, acknowledge, silence and its expiry, self-resolution, manual
-- resolve and re-arming, rule edits, disable and delete with an open
-- incident; the outbox rows each step writes; values against plain SQL.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
SET LOCAL analytics.delivery_allow_private = on;
\ir 06_api.inc
SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(200, 2, (now() AT TIME ZONE 'UTC')::date)$$, 'generate tenants and agents');
-- (the counts below are of every rule: alert rows another run left in the
-- database are set aside inside this transaction)
DELETE FROM analytics.notification_attempts;
DELETE FROM analytics.notification_outbox;
DELETE FROM analytics.alert_incidents;
DELETE FROM analytics.alert_rules;
DELETE FROM analytics.notification_channels;

-- The clock: t(s) is T0 + s seconds, T0 an hour ago.
CREATE TEMP TABLE clock AS SELECT date_trunc('second', now()) - interval '1 hour' AS t0;
CREATE FUNCTION pg_temp.t(s integer) RETURNS timestamptz LANGUAGE sql AS $$ SELECT t0 + make_interval(secs => s) FROM clock $$;
CREATE FUNCTION pg_temp.ev(at timestamptz) RETURNS jsonb LANGUAGE sql AS $$ SELECT analytics.evaluate_alerts(at) $$;
CREATE FUNCTION pg_temp.put_events() RETURNS void LANGUAGE sql AS $$
    INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, success, count, tool_name, latency_ms)
    SELECT '00000000-0000-4000-8000-000000000001', pg_temp.t(10), 'tool_call', i % 5 <> 0, 1, 'alerttool', i * 10
    FROM generate_series(1, 10) i $$;
CREATE FUNCTION pg_temp.drop_events() RETURNS void LANGUAGE sql AS $$
    DELETE FROM analytics.usage_events WHERE tool_name = 'alerttool' $$;
CREATE FUNCTION pg_temp.outbox(rule text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(o.event_type || CASE WHEN (o.payload #>> '{data,repeat}')::boolean THEN '+repeat' ELSE '' END, ',' ORDER BY o.delivery_id), '')
    FROM analytics.notification_outbox o JOIN analytics.alert_incidents i USING (incident_id) WHERE i.rule_name = rule $$;
CREATE FUNCTION pg_temp.rule_state(rule text) RETURNS text LANGUAGE sql AS $$
    SELECT analytics.alert_rule_state(r) FROM analytics.alert_rules r WHERE r.name = rule $$;
CREATE FUNCTION pg_temp.inc(rule text) RETURNS analytics.alert_incidents LANGUAGE sql AS $$
    SELECT * FROM analytics.alert_incidents i WHERE i.rule_name = rule ORDER BY i.incident_id DESC LIMIT 1 $$;

SELECT pg_temp.as_tenant(1);
CREATE TEMP TABLE ch AS SELECT analytics_api.create_channel('webhook', 'http://127.0.0.1:9/hook') AS c;
SELECT ok((SELECT c ->> 'secret' ~ '^whsec_[A-Za-z0-9+/=]{40,}$' FROM ch), 'a webhook channel answers its secret whsec_…');
SELECT is((SELECT (analytics_api.channels()) -> 'channels' -> 0 ? 'secret'), false, 'channels() never shows the secret');
SELECT lives_ok(format($$SELECT analytics_api.create_alert_rule(rule => '{"name": "busy tool", "metric_name": "events.count",
    "condition_operator": "gt", "threshold": 5, "severity": "critical", "description": "too many calls",
    "duration_seconds": 120, "window_seconds": 86400, "repeat_interval_seconds": 600,
    "tags": {"tool": "alerttool"}, "channels": [%s]}')$$, (SELECT c ->> 'id' FROM ch)), 'create the rule');
SELECT is(pg_temp.rule_state('busy tool'), 'ok', 'a new rule is ok');

SELECT pg_temp.put_events();
SELECT is(pg_temp.ev(pg_temp.t(30)) ->> 'pending', '1', 't+30: the condition holds: pending');
SELECT is(pg_temp.rule_state('busy tool'), 'pending', 'the rule is pending');
SELECT is((SELECT last_value FROM analytics.alert_rules WHERE name = 'busy tool'),
          (SELECT sum(count)::double precision FROM analytics.usage_events WHERE tool_name = 'alerttool'), 'its value is the count of the window (oracle)');
SELECT is(pg_temp.ev(pg_temp.t(90)) ->> 'opened', '0', 't+90: still pending (duration 120 s)');
SELECT is((SELECT count(*) FROM analytics.alert_incidents WHERE rule_name = 'busy tool'), 0::bigint, 'no incident while pending');
SELECT is(pg_temp.ev(pg_temp.t(150)) ->> 'opened', '1', 't+150: held 120 s: fires');
SELECT is(((pg_temp.inc('busy tool')).status, (pg_temp.inc('busy tool')).value, (pg_temp.inc('busy tool')).threshold),
          ('open'::text, 10::double precision, 5::double precision), 'an open incident with value and threshold');
SELECT is(pg_temp.rule_state('busy tool'), 'firing', 'the rule is firing');
SELECT is(pg_temp.outbox('busy tool'), 'incident.opened', 'incident.opened is in the outbox');
SELECT is((SELECT payload #>> '{data,id}' FROM analytics.notification_outbox o ORDER BY delivery_id DESC LIMIT 1),
          (pg_temp.inc('busy tool')).incident_id::text, 'the notification names the incident');
SELECT is(pg_temp.ev(pg_temp.t(200)) ->> 'opened', '0', 't+200: no second incident');
SELECT is((SELECT count(*) FROM analytics.alert_incidents WHERE rule_name = 'busy tool'), 1::bigint, 'one incident per rule');
SELECT is(pg_temp.outbox('busy tool'), 'incident.opened', 'no repeat before repeat_interval_seconds');
SELECT is(pg_temp.ev(pg_temp.t(760)) ->> 'repeated', '1', 't+760: 600 s after: a repeat notification');
SELECT is(pg_temp.outbox('busy tool'), 'incident.opened,incident.opened+repeat', 'the repeat is in the outbox');
SELECT is(pg_temp.ev(pg_temp.t(800)) ->> 'repeated', '0', 't+800: not again before another 600 s');

-- acknowledge
SELECT is(analytics_api.acknowledge_incident((pg_temp.inc('busy tool')).incident_id::text, 'looking') ->> 'status', 'acknowledged', 'acknowledge');
SELECT is((pg_temp.inc('busy tool')).note, 'looking', 'the note is kept');
SELECT is(pg_temp.outbox('busy tool'), 'incident.opened,incident.opened+repeat,incident.acknowledged', 'incident.acknowledged is notified');
SELECT is(pg_temp.ev(pg_temp.t(1500)) ->> 'repeated', '0', 'an acknowledged incident is not repeated');
SELECT is(pg_temp.api_status(format('SELECT analytics_api.acknowledge_incident(%L)', (pg_temp.inc('busy tool')).incident_id)),
          'PGRST 409 INVALID_STATE', 'acknowledging twice: 409 INVALID_STATE');
SELECT is((SELECT count(*) FROM jsonb_array_elements(analytics_api.incidents() -> 'incidents') e WHERE e ->> 'rule_name' = 'busy tool'),
          1::bigint, 'incidents(): open covers acknowledged');
SELECT is((SELECT count(*) FROM jsonb_array_elements(analytics_api.incidents('acknowledged') -> 'incidents') e WHERE e ->> 'rule_name' = 'busy tool'),
          1::bigint, 'incidents(acknowledged)');

-- silence and its expiry (the silence is in real time: now + 10 minutes)
SELECT is(analytics_api.silence_incident((pg_temp.inc('busy tool')).incident_id::text, to_char((now() + interval '10 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) ->> 'status',
          'silenced', 'silence for 10 minutes');
SELECT is((SELECT count(*) FROM jsonb_array_elements(analytics_api.incidents() -> 'incidents') e WHERE e ->> 'rule_name' = 'busy tool'),
          0::bigint, 'a silenced incident is not open');
SELECT is((SELECT count(*) FROM jsonb_array_elements(analytics_api.incidents('silenced') -> 'incidents') e WHERE e ->> 'rule_name' = 'busy tool'),
          1::bigint, 'incidents(silenced)');
SELECT is(pg_temp.ev(now() + interval '5 minutes') ->> 'unsilenced', '0', 'still silenced 5 minutes on');
SELECT is(pg_temp.ev(now() + interval '11 minutes') ->> 'unsilenced', '1', 'the silence runs out');
SELECT is((pg_temp.inc('busy tool')).status, 'acknowledged', 'back to acknowledged (it had been acknowledged)');

-- the condition clears: self-resolution
SELECT pg_temp.drop_events();
SELECT is(pg_temp.ev(now() + interval '12 minutes') ->> 'resolved', '1', 'the condition clears: resolved');
SELECT is(((pg_temp.inc('busy tool')).status, (pg_temp.inc('busy tool')).resolved_by), ('resolved'::text, 'auto'::text), 'resolved by itself');
SELECT is(pg_temp.rule_state('busy tool'), 'ok', 'the rule is ok again');
SELECT ok(pg_temp.outbox('busy tool') LIKE '%,incident.silenced,incident.resolved', 'silenced and resolved were notified');

-- manual resolve and re-arming
SELECT pg_temp.put_events();
SELECT is(pg_temp.ev(now() + interval '13 minutes') ->> 'pending', '1', 'holds again: pending');
SELECT is(pg_temp.ev(now() + interval '16 minutes') ->> 'opened', '1', 'a second incident opens');
SELECT is(analytics_api.resolve_incident((pg_temp.inc('busy tool')).incident_id::text, 'fixed by hand') ->> 'resolved_by', 'manual', 'resolve by hand');
SELECT is(pg_temp.api_status(format('SELECT analytics_api.resolve_incident(%L)', (pg_temp.inc('busy tool')).incident_id)), 'PGRST 409 INVALID_STATE', 'resolving twice: 409');
SELECT is(pg_temp.api_status(format('SELECT analytics_api.acknowledge_incident(%L)', (pg_temp.inc('busy tool')).incident_id)), 'PGRST 409 INVALID_STATE', 'acknowledging a resolved incident: 409');
SELECT is(pg_temp.api_status(format('SELECT analytics_api.silence_incident(%L, %L)', (pg_temp.inc('busy tool')).incident_id,
          to_char((now() + interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))), 'PGRST 409 INVALID_STATE', 'silencing a resolved incident: 409');
SELECT is(pg_temp.ev(now() + interval '20 minutes') ->> 'opened', '0', 'still holding: no new incident after a manual resolve');
SELECT is(pg_temp.ev(now() + interval '24 minutes') ->> 'opened', '0', '... however long it holds');
SELECT is((SELECT count(*) FROM analytics.alert_incidents WHERE rule_name = 'busy tool'), 2::bigint, 'two incidents so far');
SELECT pg_temp.drop_events();
SELECT is(pg_temp.ev(now() + interval '25 minutes') ->> 'resolved', '0', 'the condition clears (nothing to resolve)');
SELECT pg_temp.put_events();
SELECT is(pg_temp.ev(now() + interval '26 minutes') ->> 'pending', '1', 're-armed: pending');
SELECT is(pg_temp.ev(now() + interval '29 minutes') ->> 'opened', '1', 're-armed: a third incident');

-- rule edits with an open incident
SELECT is(analytics_api.update_alert_rule((pg_temp.inc('busy tool')).rule_id::text, '{"threshold": 100}') ->> 'threshold', '100', 'raise the threshold');
SELECT is(pg_temp.ev(now() + interval '30 minutes') ->> 'resolved', '1', 'the edited condition no longer holds: resolved');
SELECT is(analytics_api.update_alert_rule((pg_temp.inc('busy tool')).rule_id::text, '{"threshold": 5, "duration_seconds": 0}') ->> 'duration_seconds', '0', 'lower it again, no duration');
SELECT is(pg_temp.ev(now() + interval '31 minutes') ->> 'opened', '1', 'duration 0: fires at once');
SELECT is(analytics_api.update_alert_rule((pg_temp.inc('busy tool')).rule_id::text, '{"enabled": false}') ->> 'state', 'disabled', 'disable the rule');
SELECT is(((pg_temp.inc('busy tool')).status, (pg_temp.inc('busy tool')).resolved_by), ('resolved'::text, 'rule_disabled'::text), 'disabling resolves its incident');
SELECT is(pg_temp.ev(now() + interval '32 minutes') ->> 'opened', '0', 'a disabled rule does not fire');
SELECT is(analytics_api.update_alert_rule((pg_temp.inc('busy tool')).rule_id::text, '{"enabled": true}') ->> 'enabled', 'true', 'enable it again');
SELECT is(pg_temp.ev(now() + interval '33 minutes') ->> 'opened', '1', 'fires again');
CREATE TEMP TABLE del AS SELECT analytics_api.delete_alert_rule((pg_temp.inc('busy tool')).rule_id::text) AS d;
SELECT is(((pg_temp.inc('busy tool')).status, (pg_temp.inc('busy tool')).resolved_by, (pg_temp.inc('busy tool')).rule_id),
          ('resolved'::text, 'rule_deleted'::text, NULL::bigint), 'deleting the rule resolves its incident, which stays');
SELECT ok(pg_temp.outbox('busy tool') LIKE '%incident.resolved', 'and notifies incident.resolved');
SELECT is((SELECT count(*) FROM analytics.alert_rules WHERE name = 'busy tool'), 0::bigint, 'the rule is gone');

-- values against plain SQL
SELECT lives_ok($$SELECT analytics_api.create_alert_rule(rule => '{"name": "p95", "metric_name": "latency.p95", "condition_operator": "gt", "threshold": 1e9, "window_seconds": 86400, "tags": {"tool": "alerttool"}}')$$, 'a latency rule');
SELECT lives_ok($$SELECT analytics_api.create_alert_rule(rule => '{"name": "errors", "metric_name": "events.error_rate", "condition_operator": "gt", "threshold": 1e9, "window_seconds": 86400, "tags": {"tool": "alerttool"}}')$$, 'an error-rate rule');
SELECT lives_ok($$SELECT analytics_api.create_alert_rule(rule => '{"name": "fails", "metric_name": "events.failures", "aggregation": "rate", "condition_operator": "gt", "threshold": 1e9, "window_seconds": 86400, "tags": {"tool": "alerttool", "event_type": "tool_call"}}')$$, 'a failure-rate rule');
SELECT is((SELECT count(*) FROM analytics.alert_rule_values(pg_temp.t(3600)) v JOIN analytics.alert_rules r USING (rule_id) WHERE r.name IN ('p95', 'errors', 'fails')), 3::bigint, 'every rule gets a value');
SELECT ok((SELECT abs(v.value - (SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FROM analytics.usage_events WHERE tool_name = 'alerttool')) / 100 < 0.02
           FROM analytics.alert_rule_values(pg_temp.t(3600)) v JOIN analytics.alert_rules r USING (rule_id) WHERE r.name = 'p95'), 'latency.p95 within the sketch''s accuracy');
SELECT is((SELECT v.value FROM analytics.alert_rule_values(pg_temp.t(3600)) v JOIN analytics.alert_rules r USING (rule_id) WHERE r.name = 'errors'),
          (SELECT 100.0 * count(*) FILTER (WHERE NOT success) / count(*) FROM analytics.usage_events WHERE tool_name = 'alerttool')::double precision, 'events.error_rate in percent');
SELECT is((SELECT v.value FROM analytics.alert_rule_values(pg_temp.t(3600)) v JOIN analytics.alert_rules r USING (rule_id) WHERE r.name = 'fails'),
          (SELECT count(*) FILTER (WHERE NOT success) / 86400.0 FROM analytics.usage_events WHERE tool_name = 'alerttool')::double precision, 'events.failures as a rate per second');
SELECT is((SELECT v.value FROM analytics.alert_rule_values(pg_temp.t(-10)) v JOIN analytics.alert_rules r USING (rule_id) WHERE r.name = 'p95'),
          NULL, 'no events in the window: no latency');

-- a custom metric and a health rule
SELECT lives_ok($$SELECT analytics.record_metric('00000000-0000-4000-8000-000000000001', 'queue.depth', v, 'gauge', NULL, '{"queue": "a"}', pg_temp.t(100 + v::integer)) FROM generate_series(1, 4) v$$, 'gauge points');
SELECT lives_ok($$SELECT analytics_api.create_alert_rule(rule => '{"name": "queue", "metric_name": "queue.depth", "condition_operator": "gte", "threshold": 2.5, "tags": {"queue": "a"}}')$$, 'a custom metric rule (default aggregation avg)');
SELECT is((SELECT v.value FROM analytics.alert_rule_values(pg_temp.t(200)) v JOIN analytics.alert_rules r USING (rule_id) WHERE r.name = 'queue'), 2.5::double precision, 'avg of the window''s points');
SELECT lives_ok($$SELECT analytics.register_service('00000000-0000-4000-8000-000000000001', 'alertsvc', 'api');
                  SELECT analytics.record_health_check('00000000-0000-4000-8000-000000000001', 'alertsvc', s, 5, NULL, pg_temp.t((i * 10)::integer))
                  FROM unnest(ARRAY['healthy', 'unhealthy', 'unhealthy', 'unhealthy']) WITH ORDINALITY AS x(s, i)$$, 'health checks');
SELECT lives_ok($$SELECT analytics_api.create_alert_rule(rule => '{"name": "down", "metric_name": "health.consecutive_failures", "condition_operator": "gte", "threshold": 3, "tags": {"service": "alertsvc"}}')$$, 'a health rule');
SELECT is((SELECT v.value FROM analytics.alert_rule_values(pg_temp.t(45)) v JOIN analytics.alert_rules r USING (rule_id) WHERE r.name = 'down'), 3::double precision, 'three consecutive failures');
SELECT is((SELECT v.value FROM analytics.alert_rule_values(pg_temp.t(25)) v JOIN analytics.alert_rules r USING (rule_id) WHERE r.name = 'down'), 1::double precision, 'one, earlier');

-- The e-mail message (analytics.alert_email_message; sent over SMTP by the
-- worker, test/alerts/run.sh): headers, CRLF lines of at most 998 octets,
-- base64 when the JSON has a longer line, RFC 2047 for a non-ASCII subject.
CREATE TEMP TABLE mail AS SELECT
    analytics.alert_email_message('{"type": "incident.opened", "data": {"id": 7, "rule_name": "busy", "severity": "error",
        "metric_name": "events.count", "condition_operator": "gt", "threshold": 5, "last_value": 9}}',
        'msg_abc', 'alerts@example.com', 'ops@example.com', '2026-03-02T10:00:00Z') AS short,
    analytics.alert_email_message(jsonb_build_object('type', 'incident.opened', 'data',
        jsonb_build_object('id', 8, 'rule_name', 'büsy', 'description', repeat('d', 1024))),
        'msg_def', 'alerts@example.com', 'ops@example.com', '2026-03-02T10:00:00Z') AS long;
SELECT is((SELECT split_part(short, E'\r\n\r\n', 1) FROM mail),
          E'From: alerts@example.com\r\nTo: ops@example.com\r\nSubject: [ERROR] busy: incident.opened  (events.count gt 5; value 9) incident 7\r\n'
          'Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <msg_abc@analytics>\r\nMIME-Version: 1.0\r\n'
          'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nX-Analytics-Event: incident.opened',
          'e-mail: the headers, Message-ID from the webhook-id');
SELECT is((SELECT count(*) FROM mail, regexp_split_to_table(short || long, E'\r\n') l WHERE octet_length(l) > 998 OR l ~ '[\r\n]'),
          0::bigint, 'e-mail: CRLF lines of at most 998 octets');
SELECT ok((SELECT long ~ E'\r\nContent-Transfer-Encoding: base64\r\n' AND long ~ E'\r\nSubject: =\\?UTF-8\\?B\\?[A-Za-z0-9+/=]+\\?=\r\n' FROM mail),
          'e-mail: a long line goes in base64, a non-ASCII subject in RFC 2047');
SELECT is((SELECT (convert_from(decode(replace(substr(long, strpos(long, E'\r\n\r\n') + 4), E'\r\n', ''), 'base64'), 'UTF8')) LIKE '%' || repeat('d', 1024) || '%' FROM mail),
          true, 'e-mail: the base64 body decodes to the notification');

SELECT * FROM finish();
ROLLBACK;
