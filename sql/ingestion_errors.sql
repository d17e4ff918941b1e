-- ingestion_errors: every bad input is refused with a clear error that
-- names the element's index and the field; nothing of the batch is stored.
SET timezone = 'UTC';
\set VERBOSITY default
SELECT count(*) AS before FROM analytics.usage_events \gset
-- shape of the batch
SELECT analytics.record_events('{"tenant_id": "11111111-1111-4111-8111-111111111111"}');
SELECT analytics.record_events('"not an array"');
SELECT analytics.record_events('[1]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}, []]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "ocurred_at": "2031-03-01"}]');
-- event_type
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": null}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_calls"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": 7}]');
-- uuids
SELECT analytics.record_events('[{"occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "not-a-uuid", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-11111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": 42, "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "agent_id": "zzzzzzzz-0000-4000-8000-000000000001", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}]');
-- timestamps
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "yesterday-ish", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-02-30T10:00:00Z", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "infinity", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": 1700000000, "event_type": "api_call"}]');
-- counts, tokens, latency, status
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "count": 0}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "count": -3}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "count": 1.5}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "count": 3000000000}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "count": "2"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "llm_call", "input_tokens": -1}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "llm_call", "output_tokens": -10}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "llm_call", "output_tokens": 99999999999999999999}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "latency_ms": -0.5}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "latency_ms": 1e400}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "latency_ms": "12"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "status_code": 42}]');
-- other types
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "success": "yes"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "endpoint": 5}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "attributes": [1, 2]}]');
-- registries: unregistered tenant, an agent of another tenant, one agent for two tenants
SELECT analytics.record_events('[{"tenant_id": "33333333-3333-4333-8333-333333333333", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "22222222-2222-4222-8222-222222222222", "agent_id": "aaaaaaaa-0000-4000-8000-000000000001", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "agent_id": "cccccccc-0000-4000-8000-000000000001", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}, {"tenant_id": "22222222-2222-4222-8222-222222222222", "agent_id": "cccccccc-0000-4000-8000-000000000001", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}]');
-- a good element before a bad one: nothing of the batch is stored
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call"}, {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-03-01T10:00:00Z", "event_type": "api_call", "count": 0}]');
SELECT count(*) - :before AS stored_by_bad_batches FROM analytics.usage_events;
SELECT count(*) AS agents_registered_by_bad_batches FROM analytics.agents WHERE agent_id = 'cccccccc-0000-4000-8000-000000000001';

-- The same rules hold for INSERT and COPY (constraints and the statement trigger).
-- (terse: the detail of a check violation prints the row, with its ingest time)
\set VERBOSITY terse
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type) VALUES ('33333333-3333-4333-8333-333333333333', '2031-03-01 10:00+00', 'api_call');
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type) VALUES ('22222222-2222-4222-8222-222222222222', 'aaaaaaaa-0000-4000-8000-000000000001', '2031-03-01 10:00+00', 'api_call');
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'api_calls');
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, count) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'api_call', 0);
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, latency_ms) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'api_call', 'NaN');
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, input_tokens) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'llm_call', -1);
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type) VALUES ('11111111-1111-4111-8111-111111111111', 'infinity', 'api_call');
COPY analytics.usage_events (tenant_id, occurred_at, event_type) FROM stdin;
11111111-1111-4111-8111-111111111111	2031-03-01 10:00:00+00	api_call
33333333-3333-4333-8333-333333333333	2031-03-01 10:00:00+00	api_call
\.
SELECT count(*) - :before AS stored_by_bad_statements FROM analytics.usage_events;
\set VERBOSITY default

-- registries
SELECT analytics.upsert_tenant('44444444-4444-4444-8444-444444444444', 'Bad Tier', 'gold');
SELECT analytics.upsert_tenant('44444444-4444-4444-8444-444444444444', NULL, 'pro');
SELECT analytics.upsert_agent('aaaaaaaa-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222', 'moved');
SELECT analytics.upsert_agent('aaaaaaaa-0000-4000-8000-000000000009', '55555555-5555-4555-8555-555555555555', 'orphan');
SELECT analytics.ensure_partitions('2031-03-02', '2031-03-01');
