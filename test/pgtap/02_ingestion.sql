-- Ingestion: all-or-nothing batches, days without a partition in the default
-- partition until ensure_partitions moves them, COPY and record_events give
-- the same rows, SQLSTATEs a client can act on, the accepted time window.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(52);
SET LOCAL timezone = 'UTC';
-- The events here are years old: widen the accepted window of record_events.
SET LOCAL analytics.raw_retention_days = 36500;

SELECT lives_ok($$SELECT analytics.upsert_tenant('5a000000-0000-4000-8000-000000000001', 'TAP Co', 'pro')$$, 'register a tenant');

-- A batch with one bad element stores nothing.
CREATE TEMP TABLE before AS SELECT count(*) AS n FROM analytics.usage_events;
SELECT throws_ok(
  $$SELECT analytics.record_events('[
     {"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2013-01-01T10:00:00Z", "event_type": "api_call"},
     {"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2013-01-01T11:00:00Z", "event_type": "api_call",
      "agent_id": "5a000000-0000-4000-9000-000000000001"},
     {"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2013-01-01T12:00:00Z", "event_type": "api_call", "latency_ms": -1}
  ]')$$, '23514', 'event 2: latency_ms must not be negative', 'a bad third element refuses the batch');
SELECT is((SELECT count(*) FROM analytics.usage_events), (SELECT n FROM before), 'nothing of the bad batch was stored');
SELECT is((SELECT count(*) FROM analytics.agents WHERE agent_id = '5a000000-0000-4000-9000-000000000001'), 0::bigint,
          'the agent of the refused batch was not registered');
SELECT ok(to_regclass('analytics.usage_events_p20130101') IS NULL, 'nor was its partition created');

-- SQLSTATEs by kind of problem.
SELECT throws_ok($$SELECT analytics.record_events('{}')$$, '22023', 'events must be a JSON array', 'not an array: 22023');
SELECT throws_ok($$SELECT analytics.record_events('["x"]')$$, '22023', NULL, 'element not an object: 22023');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2013-01-01T10:00:00Z"}]')$$,
                 '23502', 'event 0: event_type is required', 'missing event_type: 23502');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2013-01-01T10:00:00Z", "event_type": "nope"}]')$$,
                 '22023', 'event 0: unknown event_type "nope"', 'unknown event_type: 22023');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a00", "occurred_at": "2013-01-01T10:00:00Z", "event_type": "api_call"}]')$$,
                 '22P02', NULL, 'bad uuid: 22P02');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "soon", "event_type": "api_call"}]')$$,
                 '22007', NULL, 'bad timestamp: 22007');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2013-01-01T10:00:00Z", "event_type": "api_call", "count": 0}]')$$,
                 '23514', NULL, 'count < 1: 23514');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "occurred_at": "2013-01-01T10:00:00Z", "event_type": "llm_call", "input_tokens": -5}]')$$,
                 '23514', NULL, 'negative tokens: 23514');
SELECT throws_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-0000000000ff", "occurred_at": "2013-01-01T10:00:00Z", "event_type": "api_call"}]')$$,
                 '23503', NULL, 'unregistered tenant: 23503');

-- A batch for days with no partition is stored whole, in the default
-- partition (record_events creates no partitions); ensure_partitions then
-- moves the rows into the days' partitions.
SELECT ok(to_regclass('analytics.usage_events_p20120229') IS NULL AND to_regclass('analytics.usage_events_p20120301') IS NULL,
          'no partition for 2012-02-29 and 2012-03-01 yet');
SELECT is(analytics.record_events(jsonb_agg(jsonb_build_object(
            'tenant_id', '5a000000-0000-4000-8000-000000000001',
            'occurred_at', '2012-02-29T00:00:00Z'::timestamptz + make_interval(mins => 20 * g),
            'event_type', 'api_call', 'latency_ms', g))),
          144::bigint, 'record_events stores 144 events over two days without a partition')
FROM generate_series(0, 143) g;
SELECT ok(to_regclass('analytics.usage_events_p20120229') IS NULL AND to_regclass('analytics.usage_events_p20120301') IS NULL,
          'record_events created no partition');
SELECT is((SELECT count(*) FROM analytics.usage_events_default WHERE occurred_at >= '2012-02-29' AND occurred_at < '2012-03-02'), 144::bigint,
          'all 144 are in the default partition');
SELECT is((SELECT array_agg(day ORDER BY day) FROM analytics.changed_days WHERE day BETWEEN '2012-02-29' AND '2012-03-01'),
          ARRAY['2012-02-29', '2012-03-01']::date[], 'record_events logged both days as changed');
SELECT is(analytics.ensure_partitions('2012-02-29', '2012-03-01'), 2, 'ensure_partitions creates the two partitions');
SELECT is((SELECT count(*) FROM analytics.usage_events_p20120229), 72::bigint, '72 events in the 2012-02-29 partition');
SELECT is((SELECT count(*) FROM analytics.usage_events_p20120301), 72::bigint, '72 events in the 2012-03-01 partition');
SELECT is((SELECT count(*) FROM analytics.usage_events_default WHERE occurred_at >= '2012-02-29' AND occurred_at < '2012-03-02'), 0::bigint,
          'none left in the default partition');

-- COPY and record_events of the same events give the same rows.
SELECT lives_ok($$SELECT * FROM analytics_datagen.generate(3000, 3, '2014-06-03', 0.7)$$, 'generate 3000 events');
CREATE TEMP TABLE src AS
SELECT tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
       tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id,
       workflow_id, execution_id, error_code, attributes
FROM analytics.usage_events WHERE occurred_at >= '2014-06-01' AND occurred_at < '2014-06-04';
DELETE FROM analytics.usage_events WHERE occurred_at >= '2014-06-01' AND occurred_at < '2014-06-04';
SELECT is((SELECT count(*) FROM src), 3000::bigint, '3000 source events');

SELECT is(sum(analytics.record_events(b)), 3000::numeric, 'record_events in batches of 1000 stores them all')
FROM (SELECT jsonb_agg(jsonb_strip_nulls(to_jsonb(s) - 'batch')) AS b
      FROM (SELECT s.*, (row_number() OVER ()) / 1000 AS batch FROM src s) s GROUP BY batch) x;
CREATE TEMP TABLE via_json AS
SELECT tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
       tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id,
       workflow_id, execution_id, error_code, attributes
FROM analytics.usage_events WHERE occurred_at >= '2014-06-01' AND occurred_at < '2014-06-04';
DELETE FROM analytics.usage_events WHERE occurred_at >= '2014-06-01' AND occurred_at < '2014-06-04';

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
FROM analytics.usage_events WHERE occurred_at >= '2014-06-01' AND occurred_at < '2014-06-04';

SELECT bag_eq('SELECT * FROM via_json', 'SELECT * FROM src', 'record_events stored exactly the source rows');
SELECT bag_eq('SELECT * FROM via_copy', 'SELECT * FROM via_json', 'COPY and record_events give the same rows');

-- Unknown agents are registered on the fly for the event's tenant.
SELECT lives_ok($$SELECT analytics.record_events('[{"tenant_id": "5a000000-0000-4000-8000-000000000001", "agent_id": "5a000000-0000-4000-9000-0000000000aa", "occurred_at": "2013-05-05T10:00:00Z", "event_type": "tool_call"}]')$$,
                'an event with a new agent is accepted');
SELECT is((SELECT tenant_id FROM analytics.agents WHERE agent_id = '5a000000-0000-4000-9000-0000000000aa'),
          '5a000000-0000-4000-8000-000000000001'::uuid, 'the new agent is registered for the tenant');

-- INSERT registers no agent (record_events does); the tenant is checked by
-- the foreign key usage_events_tenant_id_fkey.
SELECT lives_ok($$INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type)
                  VALUES ('5a000000-0000-4000-8000-000000000001', '5a000000-0000-4000-9000-0000000000bb', '2013-05-05T10:00:00Z', 'api_call')$$,
                'INSERT of an event with an unknown agent is accepted');
SELECT is((SELECT count(*) FROM analytics.agents WHERE agent_id = '5a000000-0000-4000-9000-0000000000bb'), 0::bigint,
          'INSERT does not register the agent');
SELECT throws_ok($$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type)
                   VALUES ('5a000000-0000-4000-8000-0000000000ff', '2013-05-05T10:00:00Z', 'api_call')$$,
                 '23503', NULL, 'INSERT for an unregistered tenant: 23503 (foreign key)');
SELECT is((SELECT conname::text FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
           WHERE r.oid = 'analytics.usage_events'::regclass AND c.contype = 'f'), 'usage_events_tenant_id_fkey',
          'the foreign key is usage_events_tenant_id_fkey');

-- The accepted window: from the start of the UTC day raw_retention_days ago
-- to max_event_future_seconds after now; SQLSTATE 22008, index and field in
-- the detail.
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE st text; msg text; det text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ' | ' || msg || ' | ' || det;
END
$f$;
CREATE FUNCTION pg_temp.ev_at(ts timestamptz) RETURNS jsonb LANGUAGE sql AS $f$
    SELECT jsonb_build_object('tenant_id', '5a000000-0000-4000-8000-000000000001', 'occurred_at', ts, 'event_type', 'api_call', 'endpoint', '/window')
$f$;
SELECT is(pg_temp.err(format('SELECT analytics.record_events(%L)', jsonb_build_array(pg_temp.ev_at(now()), pg_temp.ev_at(now() + interval '301 seconds')))),
          '22008 | event 1: occurred_at is later than analytics.max_event_future_seconds (300) seconds after now | Element index 1, field "occurred_at".',
          'an event more than 300 s ahead is refused: 22008, index and field in the detail');
SELECT is(pg_temp.err(format('SELECT analytics.record_events(%L)', jsonb_build_array(pg_temp.ev_at('1900-01-01T00:00:00Z')))),
          '22008 | event 0: occurred_at is before the start of the UTC day analytics.raw_retention_days (36500) days ago | Element index 0, field "occurred_at".',
          'an event older than raw_retention_days is refused: 22008');
SELECT is(pg_temp.err(format('SELECT analytics.record_events(%L)', jsonb_build_array(
              pg_temp.ev_at(((now() AT TIME ZONE 'UTC')::date - 36500)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond')))),
          '22008 | event 0: occurred_at is before the start of the UTC day analytics.raw_retention_days (36500) days ago | Element index 0, field "occurred_at".',
          'one microsecond before the window''s start is refused');
SELECT is(analytics.record_events(jsonb_build_array(
              pg_temp.ev_at(((now() AT TIME ZONE 'UTC')::date - 36500)::timestamp AT TIME ZONE 'UTC'),
              pg_temp.ev_at(now() + interval '299 seconds'))), 2::bigint,
          'the window''s first instant and 299 s ahead are accepted');
SET LOCAL analytics.raw_retention_days = 90;
SELECT throws_ok(format('SELECT analytics.record_events(%L)', jsonb_build_array(pg_temp.ev_at(now() - interval '92 days'))),
                 '22008', 'event 0: occurred_at is before the start of the UTC day analytics.raw_retention_days (90) days ago',
                 'with the default 90 days, an event of 92 days ago is refused');
SET LOCAL analytics.max_event_future_seconds = 0;
SELECT throws_ok(format('SELECT analytics.record_events(%L)', jsonb_build_array(pg_temp.ev_at(now() + interval '1 second'))),
                 '22008', NULL, 'max_event_future_seconds 0: a second ahead is refused');
SET LOCAL analytics.raw_retention_days = 36500;
SET LOCAL analytics.max_event_future_seconds = 300;
SELECT is((SELECT count(*) FROM analytics.usage_events WHERE endpoint = '/window'), 2::bigint,
          'only the two accepted events of the window tests were stored');

-- Limits: accepted at the bound, refused just over it (23514).
SELECT is(analytics.record_events(jsonb_build_array(pg_temp.ev_at('2013-05-05T10:00:00Z')
              || '{"count": 1000000, "latency_ms": 1e10, "method": "ABCDEFGHIJKLMNOP"}',
              jsonb_build_object('tenant_id', '5a000000-0000-4000-8000-000000000001', 'occurred_at', '2013-05-05T10:00:00Z',
                                 'event_type', 'llm_call', 'input_tokens', 1000000000000, 'output_tokens', 1000000000000,
                                 'model', repeat('m', 256)))), 2::bigint,
          'count 1e6, latency 1e10, tokens 1e12, a 16-character method and a 256-character model are accepted');
SELECT throws_ok(format('SELECT analytics.record_events(%L)', jsonb_build_array(pg_temp.ev_at('2013-05-05T10:00:00Z') || j)),
                 '23514', 'event 0: ' || msg, format('%s: 23514', msg))
FROM (VALUES ('{"count": 1000001}'::jsonb, 'count must be at most 1000000'),
             ('{"latency_ms": 1.0000001e10}', 'latency_ms must be at most 10000000000'),
             ('{"input_tokens": 1000000000001}', 'input_tokens must be at most 1000000000000'),
             ('{"output_tokens": 1000000000001}', 'output_tokens must be at most 1000000000000'),
             (jsonb_build_object('method', repeat('M', 17)), 'method is longer than 16 characters'),
             (jsonb_build_object('endpoint', repeat('/', 1025)), 'endpoint is longer than 1024 characters'),
             (jsonb_build_object('model', repeat('m', 257)), 'model is longer than 256 characters'),
             (jsonb_build_object('error_code', repeat('e', 129)), 'error_code is longer than 128 characters')) v(j, msg);
SELECT throws_ok($$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, count)
                   VALUES ('5a000000-0000-4000-8000-000000000001', '2013-05-05T10:00:00Z', 'api_call', 1000001)$$,
                 '23514', NULL, 'INSERT: count over 1e6 is refused by the CHECK constraint');
SELECT throws_ok($$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, latency_ms)
                   VALUES ('5a000000-0000-4000-8000-000000000001', '2013-05-05T10:00:00Z', 'api_call', 'NaN')$$,
                 '23514', NULL, 'INSERT: a NaN latency is refused by the CHECK constraint');

SELECT * FROM finish();
ROLLBACK;
