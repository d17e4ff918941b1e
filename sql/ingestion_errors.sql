-- ingestion_errors: every bad input is refused with a clear error that
-- names the element's index and the field; nothing of the batch is stored.
SET timezone = 'UTC';
\set VERBOSITY default
-- ev(json): the batch with YDAY replaced by yesterday's UTC date, so that
-- the events lie in the accepted window on any date and at any hour.
CREATE FUNCTION pg_temp.ev(batch text) RETURNS jsonb LANGUAGE sql STABLE
AS $$ SELECT replace(batch, 'YDAY', to_char((now() AT TIME ZONE 'UTC')::date - 1, 'YYYY-MM-DD'))::jsonb $$;
SELECT count(*) AS before FROM analytics.usage_events \gset
-- shape of the batch
SELECT analytics.record_events(pg_temp.ev('{"tenant_id": "11111111-1111-4111-8111-111111111111"}'));
SELECT analytics.record_events(pg_temp.ev('"not an array"'));
SELECT analytics.record_events(pg_temp.ev('[1]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}, []]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "ocurred_at": "2031-03-01"}]'));
-- event_type
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": null}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_calls"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": 7}]'));
-- uuids
SELECT analytics.record_events(pg_temp.ev('[{"occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "not-a-uuid", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-11111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": 42, "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "agent_id": "zzzzzzzz-0000-4000-8000-000000000001", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}]'));
-- timestamps
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "yesterday-ish", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "2031-02-30T10:00:00Z", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "infinity", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": 1700000000, "event_type": "api_call"}]'));
-- counts, tokens, latency, status
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "count": 0}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "count": -3}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "count": 1.5}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "count": 3000000000}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "count": "2"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": -1}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "output_tokens": -10}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "output_tokens": 99999999999999999999}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "latency_ms": -0.5}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "latency_ms": 1e400}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "latency_ms": "12"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "status_code": 42}]'));
-- prompt-cache tokens: bounds and types as input_tokens, and part of it
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 10, "cached_input_tokens": -1}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 10, "cached_input_tokens": 1.5}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 10, "cached_input_tokens": "5"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 10, "cache_write_tokens": -10}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 10, "cache_write_tokens": true}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 100, "cached_input_tokens": 60, "cache_write_tokens": 40}, {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 100, "cached_input_tokens": 60, "cache_write_tokens": 41}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 100, "cached_input_tokens": 101}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 100, "cache_write_tokens": 101}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "cached_input_tokens": 5}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": null, "cache_write_tokens": 0}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "workflow", "workflow_type": 3}]'));
-- other types
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "success": "yes"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "endpoint": 5}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "attributes": [1, 2]}]'));
-- registries: unregistered tenant, an agent of another tenant, one agent for two tenants
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "33333333-3333-4333-8333-333333333333", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "22222222-2222-4222-8222-222222222222", "agent_id": "aaaaaaaa-0000-4000-8000-000000000001", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "agent_id": "cccccccc-0000-4000-8000-000000000001", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}, {"tenant_id": "22222222-2222-4222-8222-222222222222", "agent_id": "cccccccc-0000-4000-8000-000000000001", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}]'));
-- limits: numbers
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "count": 1000001}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 1000000000001}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 9223372036854775807}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 1000000000000, "cached_input_tokens": 1000000000001}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 1000000000000, "cache_write_tokens": 99999999999999999999}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 1000000000000, "cached_input_tokens": 1000000000000, "cache_write_tokens": 1}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "latency_ms": 10000000000.5}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "latency_ms": 1.7e308}]'));
-- limits: text (characters, not bytes) and attributes (bytes of the text form)
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "endpoint": "' || repeat('x', 1025) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "method": "' || repeat('M', 17) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "tool_call", "tool_name": "' || repeat('t', 257) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "tool_call", "mcp_server": "' || repeat('s', 257) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "model": "' || repeat('m', 257) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "session", "user_id": "' || repeat('u', 257) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "session", "session_id": "' || repeat('s', 257) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "workflow", "workflow_id": "' || repeat('w', 257) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "workflow", "execution_id": "' || repeat('e', 257) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "workflow", "workflow_type": "' || repeat('t', 257) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "success": false, "error_code": "' || repeat('c', 129) || '"}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "attributes": {"k": "' || repeat('a', 65530) || '"}}]'));
-- the accepted time window: the start of the UTC day raw_retention_days ago
-- to max_event_future_seconds after now
SELECT analytics.record_events(jsonb_build_array(jsonb_build_object('tenant_id', '11111111-1111-4111-8111-111111111111', 'event_type', 'api_call',
    'occurred_at', (now() AT TIME ZONE 'UTC')::date - 91 || 'T23:59:59.999999Z')));
SELECT analytics.record_events(jsonb_build_array(jsonb_build_object('tenant_id', '11111111-1111-4111-8111-111111111111', 'event_type', 'api_call',
    'occurred_at', now() + interval '301 seconds')));
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "9999-12-31T00:00:00Z", "event_type": "api_call"}]');
SELECT analytics.record_events('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "0001-01-01T00:00:00Z", "event_type": "api_call"}]');
-- the window follows the settings, read through analytics.setting()
SELECT analytics.setting('raw_retention_days') AS raw_retention_days, analytics.setting('max_event_future_seconds') AS max_event_future_seconds;
SET analytics.raw_retention_days = 1;
SET analytics.max_event_future_seconds = 0;
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}, {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "today", "event_type": "api_call"}, {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAY", "event_type": "api_call"}, {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "tomorrow", "event_type": "api_call"}]'));
RESET analytics.raw_retention_days;
RESET analytics.max_event_future_seconds;
SELECT analytics.setting('nope');
SELECT analytics.setting('analytics.enabled');
-- the batch size
SELECT analytics.record_events((SELECT jsonb_agg(jsonb_build_object('tenant_id', '11111111-1111-4111-8111-111111111111', 'occurred_at', now(), 'event_type', 'api_call')) FROM generate_series(1, 10001)));
-- a good element before a bad one: nothing of the batch is stored
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call"}, {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "api_call", "count": 0}]'));
SELECT count(*) - :before AS stored_by_bad_batches FROM analytics.usage_events;
SELECT count(*) AS agents_registered_by_bad_batches FROM analytics.agents WHERE agent_id = 'cccccccc-0000-4000-8000-000000000001';

-- The column rules hold for INSERT and COPY too (table constraints).
-- (terse: the detail of a check violation prints the row, with its ingest time)
\set VERBOSITY terse
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'api_calls');
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, count) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'api_call', 0);
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, latency_ms) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'api_call', 'NaN');
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, input_tokens) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'llm_call', -1);
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type) VALUES ('11111111-1111-4111-8111-111111111111', 'infinity', 'api_call');
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, input_tokens, cached_input_tokens) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'llm_call', 10, -1);
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, input_tokens, cache_write_tokens) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'llm_call', 10, -1);
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, input_tokens, cached_input_tokens, cache_write_tokens) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'llm_call', 100, 60, 41);
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, cached_input_tokens) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'llm_call', 0);
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, cache_write_tokens) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'llm_call', 5);
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, workflow_type) VALUES ('11111111-1111-4111-8111-111111111111', '2031-03-01 10:00+00', 'workflow', repeat('t', 257));
SELECT count(*) - :before AS stored_by_bad_statements FROM analytics.usage_events;
\set VERBOSITY default

-- A database still on 0.2.0 SQL (library updated, ALTER EXTENSION not yet
-- run; here the table of 0.2.0, in a transaction rolled back): events
-- without the fields of 0.3.0 are stored as before, a field of 0.3.0 is
-- refused (42703), JSON null for one is the same as leaving it out.
BEGIN;
-- (0.5.0's view of priced events reads those columns: out of the way too)
ALTER EXTENSION analytics DROP VIEW analytics.priced_events;
DROP VIEW analytics.priced_events;
ALTER TABLE analytics.usage_events DROP COLUMN cached_input_tokens, DROP COLUMN cache_write_tokens, DROP COLUMN workflow_type;
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 10, "workflow_type": null}]'));
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 10}, {"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "llm_call", "input_tokens": 10, "cached_input_tokens": 5}]'));
ROLLBACK;
-- with the columns back, the fields are stored again (rolled back too)
BEGIN;
SELECT analytics.record_events(pg_temp.ev('[{"tenant_id": "11111111-1111-4111-8111-111111111111", "occurred_at": "YDAYT10:00:00Z", "event_type": "workflow", "workflow_type": "after the update"}]'));
SELECT event_type, workflow_type FROM analytics.usage_events WHERE workflow_type = 'after the update';
ROLLBACK;
SELECT count(*) - :before AS stored_by_bad_batches FROM analytics.usage_events;

-- registries
SELECT analytics.upsert_tenant('44444444-4444-4444-8444-444444444444', 'Bad Tier', 'gold');
SELECT analytics.upsert_tenant('44444444-4444-4444-8444-444444444444', NULL, 'pro');
SELECT analytics.upsert_agent('aaaaaaaa-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222', 'moved');
SELECT analytics.upsert_agent('aaaaaaaa-0000-4000-8000-000000000009', '55555555-5555-4555-8555-555555555555', 'orphan');
SELECT analytics.ensure_partitions('2031-03-02', '2031-03-01');
