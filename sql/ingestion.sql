-- ingestion: INSERT, COPY and record_events store the same rows; rows of a
-- day without a partition land in the default partition; unknown agents are
-- registered on the fly.
SET timezone = 'UTC';
SELECT tenant_id, name, tier FROM analytics.upsert_tenant('11111111-1111-4111-8111-111111111111', 'Ingest Co', 'pro');
SELECT tenant_id, name, tier FROM analytics.upsert_tenant('22222222-2222-4222-8222-222222222222', 'Other Co', 'free');
SELECT agent_id, tenant_id, name FROM analytics.upsert_agent('aaaaaaaa-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 'support-bot');

-- ev(json): the batch with YDAY replaced by yesterday's UTC date, so that
-- the events lie in the accepted window on any date and at any hour.
CREATE FUNCTION pg_temp.ev(batch text) RETURNS jsonb LANGUAGE sql STABLE
AS $$ SELECT replace(batch, 'YDAY', to_char((now() AT TIME ZONE 'UTC')::date - 1, 'YYYY-MM-DD'))::jsonb $$;
BEGIN;  -- (one transaction, one now(): midnight may not pass in between)
SELECT ((now() AT TIME ZONE 'UTC')::date - 1)::text AS yday \gset

-- record_events: defaults (success true, count 1), every column, an unknown
-- agent; a time without an offset is UTC whatever the session's TimeZone.
SET timezone = 'America/New_York';
SELECT analytics.record_events(pg_temp.ev($$[
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT09:15:00Z", "event_type": "api_call",
   "agent_id": "aaaaaaaa-0000-4000-8000-000000000001", "endpoint": "/v1/tokens", "method": "POST", "status_code": 201, "latency_ms": 12.5},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT23:59:59.999999+00:00", "event_type": "llm_call",
   "agent_id": "aaaaaaaa-0000-4000-8000-000000000002", "model": "gpt-4o", "input_tokens": 812, "output_tokens": 240, "latency_ms": 930,
   "user_id": "u1", "session_id": "s1", "attributes": {"region": "eu"}},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAY 00:00:00", "event_type": "token_issuance",
   "success": false, "error_code": "invalid_client", "count": 4},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT03:00:00+02:00", "event_type": "tool_call",
   "tool_name": "web_search", "mcp_server": "mcp-core", "workflow_id": "wf-1", "execution_id": "ex-1", "agent_id": null}
]$$));
SET timezone = 'UTC';

-- The rows, times relative to yesterday 00:00 UTC.
SELECT occurred_at - :'yday'::timestamptz AS since_yday, event_type, success, count, agent_id,
       endpoint, method, status_code, latency_ms, model, input_tokens, output_tokens, attributes
FROM analytics.usage_events WHERE tenant_id = '11111111-1111-4111-8111-111111111111' ORDER BY occurred_at;
COMMIT;

-- The unknown agent was registered, with no name, for the event's tenant.
SELECT agent_id, tenant_id, name FROM analytics.agents ORDER BY agent_id;

-- The edges of the accepted window are accepted, and the limits themselves:
-- the start of the UTC day raw_retention_days ago, now + max_event_future_seconds
-- (less a little: now() is the transaction's start), and the largest values.
BEGIN;
SELECT analytics.record_events(jsonb_build_array(
    jsonb_build_object('tenant_id', '11111111-1111-4111-8111-111111111111', 'event_type', 'session',
                       'occurred_at', (now() AT TIME ZONE 'UTC')::date - 90 || 'T00:00:00Z'),
    jsonb_build_object('tenant_id', '11111111-1111-4111-8111-111111111111', 'event_type', 'session',
                       'occurred_at', now() + interval '290 seconds'),
    jsonb_build_object('tenant_id', '11111111-1111-4111-8111-111111111111', 'event_type', 'llm_call',
                       'occurred_at', now(), 'count', 1000000, 'input_tokens', 1000000000000, 'output_tokens', 1000000000000,
                       'latency_ms', 10000000000, 'endpoint', repeat('é', 1024), 'method', repeat('M', 16),
                       'model', repeat('m', 256), 'error_code', repeat('c', 128),
                       'attributes', jsonb_build_object('k', repeat('a', 65536 - 9)))));
SELECT event_type, count, input_tokens, latency_ms, char_length(endpoint) AS endpoint_chars,
       octet_length(attributes::text) AS attributes_bytes
FROM analytics.usage_events WHERE event_type IN ('session', 'llm_call') AND occurred_at >= now()
ORDER BY event_type;
COMMIT;

-- Prompt-cache tokens and the workflow type, by record_events and by INSERT:
-- the cache tokens at their bound (their sum equal to input_tokens) and at
-- 10^12, JSON null as a missing field.  Rolled back: later tests count the
-- tenant's events.
BEGIN;
SELECT ((now() AT TIME ZONE 'UTC')::date - 1)::text AS yday \gset
SELECT analytics.record_events(pg_temp.ev($$[
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT11:00:00Z", "event_type": "llm_call",
   "model": "claude-x", "input_tokens": 1000, "cached_input_tokens": 600, "cache_write_tokens": 400, "output_tokens": 50},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT11:01:00Z", "event_type": "llm_call",
   "input_tokens": 1000000000000, "cached_input_tokens": 1000000000000},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT11:02:00Z", "event_type": "llm_call",
   "input_tokens": 1000000000000, "cached_input_tokens": null, "cache_write_tokens": 1000000000000},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT11:03:00Z", "event_type": "llm_call",
   "input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT11:04:00Z", "event_type": "workflow",
   "workflow_id": "wf-2", "workflow_type": "multi_agent"}
]$$));
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, input_tokens, cached_input_tokens, cache_write_tokens, workflow_type)
VALUES ('11111111-1111-4111-8111-111111111111', :'yday'::timestamptz + interval '11:05', 'llm_call', 10, 3, 7, NULL),
       ('11111111-1111-4111-8111-111111111111', :'yday'::timestamptz + interval '11:06', 'workflow', NULL, NULL, NULL, repeat('é', 256));
SELECT occurred_at - :'yday'::timestamptz AS since_yday, event_type, input_tokens, cached_input_tokens, cache_write_tokens,
       output_tokens, left(workflow_type, 12) AS workflow_type, char_length(workflow_type) AS workflow_type_chars
FROM analytics.usage_events
WHERE tenant_id = '11111111-1111-4111-8111-111111111111' AND occurred_at >= :'yday'::timestamptz + interval '11:00'
  AND occurred_at < :'yday'::timestamptz + interval '12:00'
ORDER BY occurred_at;
ROLLBACK;

-- INSERT and COPY for a day with no partition land in the default partition,
-- and maintain_partitions() moves them into a day partition when the day is
-- in the accepted window (here: raw_retention_days widened to reach 2004);
-- a day outside it (2099) stays in the default partition, so no number of
-- far-off days makes the job create more partitions than the window has.
SET analytics.raw_retention_days = 36500;
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type)
VALUES ('22222222-2222-4222-8222-222222222222', '2004-07-04 12:00:00+00', 'session'),
       ('22222222-2222-4222-8222-222222222222', '2099-07-04 12:00:00+00', 'session');
COPY analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, count, latency_ms) FROM stdin;
22222222-2222-4222-8222-222222222222	bbbbbbbb-0000-4000-8000-000000000001	2004-07-04 13:00:00+00	api_call	2	40
22222222-2222-4222-8222-222222222222	\N	2004-07-05 08:00:00+00	credential_rotation	1	\N
\.
SELECT tableoid::regclass AS partition, occurred_at, event_type FROM analytics.usage_events
WHERE tenant_id = '22222222-2222-4222-8222-222222222222' ORDER BY occurred_at;
SELECT analytics.maintain_partitions() >= 2 AS created;
SELECT tableoid::regclass AS partition, occurred_at, event_type FROM analytics.usage_events
WHERE tenant_id = '22222222-2222-4222-8222-222222222222' ORDER BY occurred_at;
SELECT count(*) AS left_in_default FROM analytics.usage_events_default;
SELECT count(*) AS partitions_after_2098 FROM analytics.event_partitions WHERE day > '2098-01-01';
DELETE FROM analytics.usage_events WHERE occurred_at >= '2099-01-01';
RESET analytics.raw_retention_days;

-- Partitions of days that exist are not created twice.
SELECT analytics.ensure_partitions('2004-07-04', '2004-07-05') AS created;
SELECT partition, day FROM analytics.event_partitions WHERE day BETWEEN '2004-07-04' AND '2004-07-05' ORDER BY day;

-- An empty batch stores nothing.
SELECT analytics.record_events('[]');
