-- ingestion: INSERT, COPY and record_events store the same rows; partitions
-- appear as data arrives; unknown agents are registered on the fly.
SET timezone = 'UTC';
SELECT tenant_id, name, tier FROM analytics.upsert_tenant('11111111-1111-4111-8111-111111111111', 'Ingest Co', 'pro');
SELECT tenant_id, name, tier FROM analytics.upsert_tenant('22222222-2222-4222-8222-222222222222', 'Other Co', 'free');
SELECT agent_id, tenant_id, name FROM analytics.upsert_agent('aaaaaaaa-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 'support-bot');

-- record_events: defaults (success true, count 1), every column, an unknown agent.
SELECT analytics.record_events($$[
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T09:15:00Z", "event_type": "api_call",
   "agent_id": "aaaaaaaa-0000-4000-8000-000000000001", "endpoint": "/v1/tokens", "method": "POST", "status_code": 201, "latency_ms": 12.5},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T23:59:59.999999+00:00", "event_type": "llm_call",
   "agent_id": "aaaaaaaa-0000-4000-8000-000000000002", "model": "gpt-4o", "input_tokens": 812, "output_tokens": 240, "latency_ms": 930,
   "user_id": "u1", "session_id": "s1", "attributes": {"region": "eu"}},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-02 00:00:00+00", "event_type": "token_issuance",
   "success": false, "error_code": "invalid_client", "count": 4},
  {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-02T01:00:00+02:00", "event_type": "tool_call",
   "tool_name": "web_search", "mcp_server": "mcp-core", "workflow_id": "wf-1", "execution_id": "ex-1", "agent_id": null}
]$$);

-- Each event went to its UTC day's partition, created on the fly.
SELECT tableoid::regclass AS partition, occurred_at, event_type, success, count, agent_id
FROM analytics.usage_events WHERE tenant_id = '11111111-1111-4111-8111-111111111111' ORDER BY occurred_at;

-- The unknown agent was registered, with no name, for the event's tenant.
SELECT agent_id, tenant_id, name FROM analytics.agents ORDER BY agent_id;

-- INSERT and COPY for a day with no partition land in the default partition,
-- and maintain_partitions() moves them into a day partition.
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type)
VALUES ('22222222-2222-4222-8222-222222222222', '2032-07-04 12:00:00+00', 'session');
COPY analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, count, latency_ms) FROM stdin;
22222222-2222-4222-8222-222222222222	bbbbbbbb-0000-4000-8000-000000000001	2032-07-04 13:00:00+00	api_call	2	40
22222222-2222-4222-8222-222222222222	\N	2032-07-05 08:00:00+00	credential_rotation	1	\N
\.
SELECT tableoid::regclass AS partition, occurred_at, event_type FROM analytics.usage_events
WHERE tenant_id = '22222222-2222-4222-8222-222222222222' ORDER BY occurred_at;
SELECT analytics.maintain_partitions() >= 2 AS created;
SELECT tableoid::regclass AS partition, occurred_at, event_type FROM analytics.usage_events
WHERE tenant_id = '22222222-2222-4222-8222-222222222222' ORDER BY occurred_at;
SELECT count(*) AS left_in_default FROM analytics.usage_events_default;

-- Partitions of days that exist are not created twice.
SELECT analytics.ensure_partitions('2031-03-01', '2031-03-02') AS created;
SELECT partition, day FROM analytics.event_partitions WHERE day BETWEEN '2031-03-01' AND '2031-03-02' ORDER BY day;

-- An empty batch stores nothing.
SELECT analytics.record_events('[]');
