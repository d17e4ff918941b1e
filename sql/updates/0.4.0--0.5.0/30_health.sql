-------------------------------------------------------------------------------
-- updates/0.4.0--0.5.0/30_health.sql: health and SLA (contract §6.5), the
-- same statements as schema/47_health.sql.
-------------------------------------------------------------------------------
CREATE TABLE analytics.services (
    service_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid REFERENCES analytics.tenants (tenant_id) ON DELETE CASCADE,
    service_name     text NOT NULL
        CHECK (length(service_name) BETWEEN 1 AND 128 AND service_name ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$'),
    service_type     text NOT NULL DEFAULT 'api'
        CHECK (service_type IN ('api', 'database', 'cache', 'external', 'mcp_server')),
    check_url        text CHECK (length(check_url) <= 2048 AND check_url ~* '^https?://[^[:space:]]+$'),
    interval_seconds integer NOT NULL DEFAULT 60 CHECK (interval_seconds BETWEEN 10 AND 86400),
    agent_id         uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    next_probe_at    timestamptz,
    claimed_at       timestamptz,
    claimed_by       integer,
    CONSTRAINT services_name_key UNIQUE NULLS NOT DISTINCT (tenant_id, service_name)
);
COMMENT ON TABLE analytics.services IS
    'Services watched for health and SLA (contract §6.5): a tenant''s (tenant_id) or the platform''s (tenant_id NULL); those with a check_url are probed by the background worker every interval_seconds (next_probe_at; claimed_at/claimed_by: the probe lease)';
CREATE INDEX services_due_idx ON analytics.services (next_probe_at) WHERE check_url IS NOT NULL;
CREATE INDEX services_agent_idx ON analytics.services (agent_id) WHERE agent_id IS NOT NULL;

-- One health check of a service at checked_at: probed by the worker
-- (source 'probe') or pushed with record_health_check (source 'push').  One
-- status per service and instant (a second push at the same instant
-- replaces the first).  Read by service and time; the BRIN index serves
-- the retention of old checks.
CREATE TABLE analytics.health_checks (
    service_id       bigint NOT NULL REFERENCES analytics.services (service_id) ON DELETE CASCADE,
    checked_at       timestamptz NOT NULL,
    status           text NOT NULL CHECK (status IN ('healthy', 'degraded', 'unhealthy', 'unknown')),
    response_time_ms double precision CHECK (response_time_ms >= 0 AND response_time_ms <= 86400000),
    error_message    text CHECK (length(error_message) <= 1024),
    source           text NOT NULL DEFAULT 'push' CHECK (source IN ('probe', 'push')),
    PRIMARY KEY (service_id, checked_at)
);
COMMENT ON TABLE analytics.health_checks IS
    'Health checks of analytics.services: status healthy|degraded|unhealthy|unknown at checked_at, probed by the background worker (source probe) or pushed (source push)';
CREATE INDEX health_checks_checked_at_brin ON analytics.health_checks USING brin (checked_at);

-- A circuit breaker of a service changing state at "at".
CREATE TABLE analytics.circuit_events (
    service_id bigint NOT NULL REFERENCES analytics.services (service_id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    state      text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    PRIMARY KEY (service_id, at)
);
COMMENT ON TABLE analytics.circuit_events IS
    'State changes of the circuit breaker of a service (closed, open, half_open) at "at"';
