-- Ingestion: all-or-nothing batches, partitions on the fly, COPY and
-- record_events give the same rows, SQLSTATEs a client can act on.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(26);
SET LOCAL timezone = 'UTC';

SELECT lives_ok($$SELECT analytics.upsert_tenant('5a000000-0000-4000-8000-000000000001', 'TAP Co', 'pro')$$, 'register a tenant');

-- A batch with one bad element stores nothing.
CREATE TEMP TABLE before AS SELECT count(*) AS n FROM analytics.usage_events;
SELECT throws_ok(
  $$SELECT analytics.record_events('[
     {"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2041-01-01T10:00:00Z", "event_type": "api_call"},
     {"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2041-01-01T11:00:00Z", "event_type": "api_call",
      "agent_id": "5a000000-0000-4000-9000-000000000001"},
     {"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2041-01-01T12:00:00Z", "event_type": "api_call", "latency_ms": -1}
  ]')$$, '23514', 'event 2: latency_ms must not be negative', 'a bad third element refuses the batch');
SELECT is((SELECT count(*) FROM analytics.usage_events), (SELECT n FROM before), 'nothing of the bad batch was stored');
SELECT is((SELECT count(*) FROM analytics.agents WHERE agent_id = '5a000000-0000-4000-9000-000000000001'), 0::bigint,
          'the agent of the refused batch was not registered');
SELECT ok(to_regclass('analytics.usage_events_p20410101') IS NULL, 'nor was its partition created');

-- SQLSTATEs by kind of problem.
SELECT throws_ok($$SELECT analytics.record_events('{}')$$, '22023', 'events must be a JSON array', 'not an array: 22023');
SELECT throws_ok($$SELECT analytics.record_events('["x"]')$$, '22023', NULL, 'element not an object: 22023');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2041-01-01T10:00:00Z"}]')$$,
                 '23502', 'event 0: event_type is required', 'missing event_type: 23502');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2041-01-01T10:00:00Z", "event_type": "nope"}]')$$,
                 '22023', 'event 0: unknown event_type "nope"', 'unknown event_type: 22023');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a00", "occurred_at": "2041-01-01T10:00:00Z", "event_type": "api_call"}]')$$,
                 '22P02', NULL, 'bad uuid: 22P02');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "soon", "event_type": "api_call"}]')$$,
                 '22007', NULL, 'bad timestamp: 22007');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2041-01-01T10:00:00Z", "event_type": "api_call", "count": 0}]')$$,
                 '23514', NULL, 'count < 1: 23514');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2041-01-01T10:00:00Z", "event_type": "llm_call", "input_tokens": -5}]')$$,
                 '23514', NULL, 'negative tokens: 23514');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-0000000000ff", "occurred_at": "2041-01-01T10:00:00Z", "event_type": "api_call"}]')$$,
                 '23503', NULL, 'unregistered tenant: 23503');

-- A batch for days with no partition is stored whole.
SELECT ok(to_regclass('analytics.usage_events_p20400229') IS NULL AND to_regclass('analytics.usage_events_p20400301') IS NULL,
          'no partition for 2040-02-29 and 2040-03-01 yet');
SELECT is(analytics.record_events(jsonb_agg(jsonb_build_object(
            'tenant_id', '5a000000-0000-4000-8000-000000000001',
            'occurred_at', '2040-02-29T00:00:00Z'::timestamptz + make_interval(mins => 20 * g),
            'event_type', 'api_call', 'latency_ms', g))),
          144::bigint, 'record_events stores 144 events over two new days')
FROM generate_series(0, 143) g;
SELECT is((SELECT count(*) FROM analytics.usage_events_p20400229), 72::bigint, '72 events in the 2040-02-29 partition');
SELECT is((SELECT count(*) FROM analytics.usage_events_p20400301), 72::bigint, '72 events in the 2040-03-01 partition');
SELECT is((SELECT count(*) FROM analytics.usage_events_default WHERE occurred_at >= '2040-02-29'), 0::bigint,
          'none in the default partition');

-- COPY and record_events of the same events give the same rows.
SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(3000, 3, '2042-06-03', 0.7)$$, 'generate 3000 events');
CREATE TEMP TABLE src AS
SELECT tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
       tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id,
       workflow_id, execution_id, error_code, attributes
FROM analytics.usage_events WHERE occurred_at >= '2042-06-01' AND occurred_at < '2042-06-04';
DELETE FROM analytics.usage_events WHERE occurred_at >= '2042-06-01' AND occurred_at < '2042-06-04';
SELECT is((SELECT count(*) FROM src), 3000::bigint, '3000 source events');

SELECT is(sum(analytics.record_events(b)), 3000::numeric, 'record_events in batches of 1000 stores them all')
FROM (SELECT jsonb_agg(jsonb_strip_nulls(to_jsonb(s) - 'batch')) AS b
      FROM (SELECT s.*, (row_number() OVER ()) / 1000 AS batch FROM src s) s GROUP BY batch) x;
CREATE TEMP TABLE via_json AS
SELECT tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
       tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id,
       workflow_id, execution_id, error_code, attributes
FROM analytics.usage_events WHERE occurred_at >= '2042-06-01' AND occurred_at < '2042-06-04';
DELETE FROM analytics.usage_events WHERE occurred_at >= '2042-06-01' AND occurred_at < '2042-06-04';

-- A server-side file in the cluster's data folder (the tests run as superuser).
DO $$
DECLARE f text := current_setting('data_directory') || '/analytics_pgtap_copy.tsv';
BEGIN
    EXECUTE format('COPY src TO %L', f);
    EXECUTE format('COPY analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, '
                   'method, status_code, tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, '
                   'session_id, workflow_id, execution_id, error_code, attributes) FROM %L', f);
END
$$;
CREATE TEMP TABLE via_copy AS
SELECT tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
       tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id,
       workflow_id, execution_id, error_code, attributes
FROM analytics.usage_events WHERE occurred_at >= '2042-06-01' AND occurred_at < '2042-06-04';

SELECT bag_eq('SELECT * FROM via_json', 'SELECT * FROM src', 'record_events stored exactly the source rows');
SELECT bag_eq('SELECT * FROM via_copy', 'SELECT * FROM via_json', 'COPY and record_events give the same rows');

-- Unknown agents are registered on the fly for the event's tenant.
SELECT lives_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "agent_id": "5a000000-0000-4000-9000-0000000000aa", "occurred_at": "2041-05-05T10:00:00Z", "event_type": "tool_call"}]')$$,
                'an event with a new agent is accepted');
SELECT is((SELECT tenant_id FROM analytics.agents WHERE agent_id = '5a000000-0000-4000-9000-0000000000aa'),
          '5a000000-0000-4000-8000-000000000001'::uuid, 'the new agent is registered for the tenant');

SELECT * FROM finish();
ROLLBACK;
