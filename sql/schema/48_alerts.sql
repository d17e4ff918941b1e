-------------------------------------------------------------------------------
-- schema/48_alerts.sql (layer 48, alerts, incidents and notifications of
-- contract §6.6): alert rules and their evaluation state, incidents,
-- notification channels, the notification outbox (delivered by the
-- background worker, src/worker.c) and every delivery attempt.  Run once,
-- at CREATE EXTENSION (an upgraded database gets the same from
-- updates/0.4.0--0.5.0/50_alerts.sql).
--
-- Citus: every table here is a reference table (platform rules, channels
-- and incidents have tenant_id NULL, and a distribution column may not be
-- NULL; analytics.distribute() lists them as registries).
-------------------------------------------------------------------------------

-- An alert rule of a tenant (tenant_id) or of the platform (NULL).  The
-- evaluation state lives beside the definition: pending_since (the
-- condition has held since then), rearm_blocked (an incident was resolved by
-- hand while the condition held: no new incident until it clears once),
-- last_value and last_evaluated_at.
CREATE TABLE analytics.alert_rules (
    rule_id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id               uuid REFERENCES analytics.tenants (tenant_id) ON DELETE CASCADE,
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    description             text CHECK (length(description) <= 1024),
    metric_name             text NOT NULL CHECK (length(metric_name) BETWEEN 1 AND 128),
    condition_operator      text NOT NULL CHECK (condition_operator IN ('gt', 'lt', 'eq', 'gte', 'lte')),
    threshold               double precision NOT NULL CHECK (threshold >= -1e15 AND threshold <= 1e15),
    severity                text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'error', 'critical')),
    duration_seconds        integer NOT NULL DEFAULT 0 CHECK (duration_seconds BETWEEN 0 AND 86400),
    window_seconds          integer NOT NULL DEFAULT 300 CHECK (window_seconds BETWEEN 60 AND 86400),
    aggregation             text NOT NULL
        CHECK (aggregation IN ('avg', 'sum', 'min', 'max', 'count', 'p50', 'p95', 'p99', 'rate')),
    tags                    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object' AND octet_length(tags::text) <= 4096),
    channels                bigint[] NOT NULL DEFAULT '{}' CHECK (cardinality(channels) <= 20),
    repeat_interval_seconds integer NOT NULL DEFAULT 14400 CHECK (repeat_interval_seconds BETWEEN 60 AND 604800),
    enabled                 boolean NOT NULL DEFAULT true,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    pending_since           timestamptz,
    rearm_blocked           boolean NOT NULL DEFAULT false,
    last_value              double precision,
    last_evaluated_at       timestamptz,
    CONSTRAINT alert_rules_name_key UNIQUE NULLS NOT DISTINCT (tenant_id, name)
);
COMMENT ON TABLE analytics.alert_rules IS
    'Alert rules (contract §6.6) of a tenant (tenant_id) or the platform (NULL): a metric, its aggregation over window_seconds, a condition and duration, channels to notify; with the evaluation state (pending_since, rearm_blocked, last_value, last_evaluated_at)';
CREATE INDEX alert_rules_metric_idx ON analytics.alert_rules (metric_name, window_seconds) WHERE enabled;

-- An incident: a rule that fired.  At most one incident per rule is not
-- resolved (alert_incidents_one_open).  The rule's name, metric, operator,
-- threshold and severity are copied, so an incident outlives its rule.
CREATE TABLE analytics.alert_incidents (
    incident_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id            bigint REFERENCES analytics.alert_rules (rule_id) ON DELETE SET NULL,
    tenant_id          uuid REFERENCES analytics.tenants (tenant_id) ON DELETE CASCADE,
    rule_name          text NOT NULL,
    metric_name        text NOT NULL,
    condition_operator text NOT NULL,
    threshold          double precision NOT NULL,
    severity           text NOT NULL,
    status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'silenced', 'resolved')),
    value              double precision,
    last_value         double precision,
    opened_at          timestamptz NOT NULL,
    acknowledged_at    timestamptz,
    acknowledged_by    text CHECK (length(acknowledged_by) <= 256),
    note               text CHECK (length(note) <= 4096),
    silenced_until     timestamptz,
    resolved_at        timestamptz,
    resolved_by        text CHECK (resolved_by IN ('auto', 'manual', 'rule_deleted', 'rule_disabled')),
    resolution_notes   text CHECK (length(resolution_notes) <= 4096),
    last_notified_at   timestamptz,
    notifications      integer NOT NULL DEFAULT 0
);
COMMENT ON TABLE analytics.alert_incidents IS
    'Incidents of alert rules (contract §6.6): open, acknowledged, silenced (until silenced_until) or resolved (by the evaluation, by hand, or with the rule); value and threshold at opening; at most one unresolved incident per rule';
CREATE UNIQUE INDEX alert_incidents_one_open ON analytics.alert_incidents (rule_id) WHERE status <> 'resolved';
CREATE INDEX alert_incidents_tenant_idx ON analytics.alert_incidents (tenant_id, opened_at);

-- A notification channel: a webhook (signed with secret, Standard
-- Webhooks), a Slack incoming webhook, or an e-mail address.  events: the
-- notification types it takes (NULL: all).  A channel disabled by a 410
-- answer keeps disabled_reason.
CREATE TABLE analytics.notification_channels (
    channel_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid REFERENCES analytics.tenants (tenant_id) ON DELETE CASCADE,
    channel_type    text NOT NULL CHECK (channel_type IN ('webhook', 'slack', 'email')),
    target          text NOT NULL CHECK (length(target) BETWEEN 3 AND 2048),
    events          text[] CHECK (cardinality(events) <= 8),
    secret          text CHECK (secret ~ '^whsec_[A-Za-z0-9+/=]{20,100}$'),
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text CHECK (length(disabled_reason) <= 256),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.notification_channels IS
    'Notification channels (contract §6.6) of a tenant or the platform (NULL): webhook (secret whsec_…: Standard Webhooks signature key), slack or email; events NULL takes every notification type; a 410 answer disables the channel';
CREATE INDEX notification_channels_tenant_idx ON analytics.notification_channels (tenant_id);

-- The outbox: one row per notification and channel, written in the
-- transaction of the state change.  The background worker claims due rows
-- (status pending, next_attempt_at passed; or delivering with a lease that
-- ran out: an attempt cut by a crash is retried) and records each attempt.
-- message_id is the webhook-id, the same on every retry.
CREATE TABLE analytics.notification_outbox (
    delivery_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid,
    channel_id       bigint REFERENCES analytics.notification_channels (channel_id) ON DELETE SET NULL,
    incident_id      bigint REFERENCES analytics.alert_incidents (incident_id) ON DELETE SET NULL,
    event_type       text NOT NULL
        CHECK (event_type IN ('incident.opened', 'incident.acknowledged', 'incident.resolved', 'incident.silenced', 'test')),
    message_id       text NOT NULL UNIQUE,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    claimed_at       timestamptz,
    last_status_code integer,
    last_error       text,
    finished_at      timestamptz
);
COMMENT ON TABLE analytics.notification_outbox IS
    'Notifications to deliver (contract §6.6), one per channel, written with the state change: pending until the background worker delivers them (succeeded) or gives up (failed: a 4xx, a 410, 24 hours of retries, or the channel gone); delivering while an attempt holds the lease claimed_at';
CREATE INDEX notification_outbox_due_idx ON analytics.notification_outbox (next_attempt_at) WHERE status IN ('pending', 'delivering');
CREATE INDEX notification_outbox_tenant_idx ON analytics.notification_outbox (tenant_id, created_at);

-- Every delivery attempt.
CREATE TABLE analytics.notification_attempts (
    delivery_id  bigint NOT NULL REFERENCES analytics.notification_outbox (delivery_id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    status_code  integer,
    outcome      text NOT NULL CHECK (outcome IN ('succeeded', 'retry', 'failed', 'gone', 'refused')),
    error        text CHECK (length(error) <= 1024),
    PRIMARY KEY (delivery_id, attempt)
);
COMMENT ON TABLE analytics.notification_attempts IS
    'Every delivery attempt of analytics.notification_outbox: HTTP status (NULL without an answer), outcome (succeeded, retry, failed, gone: 410, refused: a private destination) and error';
CREATE INDEX notification_attempts_finished_brin ON analytics.notification_attempts USING brin (finished_at);
