-- Ingestion: all-or-nothing batches, days without a partition in the default
-- partition until ensure_partitions moves them, COPY and record_events give
-- the same rows, SQLSTATEs a client can act on, the accepted time window.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(75);
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
       workflow_id, execution_id, error_code, attributes, cached_input_tokens, cache_write_tokens, workflow_type
FROM analytics.usage_events WHERE occurred_at >= '2014-06-01' AND occurred_at < '2014-06-04';
DELETE FROM analytics.usage_events WHERE occurred_at >= '2014-06-01' AND occurred_at < '2014-06-04';
SELECT is((SELECT count(*) FROM src), 3000::bigint, '3000 source events');
-- (cache tokens on every row with input tokens, a cache write on some, other workflow types)
UPDATE src SET cached_input_tokens = input_tokens / 2, cache_write_tokens = CASE WHEN input_tokens % 3 = 0 THEN input_tokens / 4 END
WHERE input_tokens IS NOT NULL;
UPDATE src SET workflow_type = (ARRAY['multi_agent', 'pipeline'])[1 + length(workflow_id) % 2] WHERE event_type = 'workflow';
SELECT ok((SELECT count(*) FILTER (WHERE cached_input_tokens > 0) > 0 AND count(*) FILTER (WHERE cache_write_tokens > 0) > 0
                  AND count(*) FILTER (WHERE workflow_type IS NOT NULL) > 0 FROM src),
          'some source events carry cache tokens and a workflow type');

SELECT is(sum(analytics.record_events(b)), 3000::numeric, 'record_events in batches of 1000 stores them all')
FROM (SELECT jsonb_agg(jsonb_strip_nulls(to_jsonb(s) - 'batch')) AS b
      FROM (SELECT s.*, (row_number() OVER ()) / 1000 AS batch FROM src s) s GROUP BY batch) x;
CREATE TEMP TABLE via_json AS
SELECT tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
       tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id,
       workflow_id, execution_id, error_code, attributes, cached_input_tokens, cache_write_tokens, workflow_type
FROM analytics.usage_events WHERE occurred_at >= '2014-06-01' AND occurred_at < '2014-06-04';
DELETE FROM analytics.usage_events WHERE occurred_at >= '2014-06-01' AND occurred_at < '2014-06-04';

-- A server-side file in the cluster's data folder (the tests run as superuser).
DO $$
DECLARE f text := current_setting('data_directory') || '/analytics_pgtap_copy.tsv';
BEGIN
    EXECUTE format('COPY src TO %L', f);
    EXECUTE format('COPY analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, '
                   'method, status_code, tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, '
                   'session_id, workflow_id, execution_id, error_code, attributes, cached_input_tokens, cache_write_tokens, '
                   'workflow_type) FROM %L', f);
END
$$;
CREATE TEMP TABLE via_copy AS
SELECT tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
       tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id,
       workflow_id, execution_id, error_code, attributes, cached_input_tokens, cache_write_tokens, workflow_type
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

-- Prompt-cache tokens and the workflow type (API.md §2): stored by
-- record_events and INSERT; the cache tokens are part of input_tokens (their
-- sum at most input_tokens, which must be set), each 0 to 10^12.
SELECT is(analytics.record_events(jsonb_build_array(
              pg_temp.ev_at('2013-05-06T10:00:00Z') || '{"event_type": "llm_call", "endpoint": "/cache", "input_tokens": 100, "cached_input_tokens": 60, "cache_write_tokens": 40}',
              pg_temp.ev_at('2013-05-06T10:01:00Z') || '{"event_type": "llm_call", "endpoint": "/cache", "input_tokens": 1000000000000, "cached_input_tokens": 1000000000000}',
              pg_temp.ev_at('2013-05-06T10:02:00Z') || '{"event_type": "llm_call", "endpoint": "/cache", "input_tokens": 1000000000000, "cache_write_tokens": 1000000000000}',
              pg_temp.ev_at('2013-05-06T10:03:00Z') || jsonb_build_object('event_type', 'workflow', 'endpoint', '/cache', 'workflow_type', repeat('w', 256)))),
          4::bigint, 'record_events: cache tokens summing to input_tokens, each at 10^12, a 256-character workflow_type are accepted');
SELECT results_eq($$SELECT input_tokens, cached_input_tokens, cache_write_tokens, workflow_type FROM analytics.usage_events
                    WHERE endpoint = '/cache' ORDER BY occurred_at$$,
                  $$VALUES (100::bigint, 60::bigint, 40::bigint, NULL::text), (1000000000000, 1000000000000, NULL, NULL),
                           (1000000000000, NULL, 1000000000000, NULL), (NULL, NULL, NULL, repeat('w', 256))$$,
                  'record_events stored cached_input_tokens, cache_write_tokens and workflow_type');
SELECT lives_ok($$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, endpoint, input_tokens, cached_input_tokens,
                                                      cache_write_tokens, workflow_type)
                  VALUES ('5a000000-0000-4000-8000-000000000001', '2013-05-06T11:00:00Z', 'llm_call', '/cache-insert', 50, 20, 30, NULL),
                         ('5a000000-0000-4000-8000-000000000001', '2013-05-06T11:01:00Z', 'llm_call', '/cache-insert', 1000000000000, 1000000000000, 0, NULL),
                         ('5a000000-0000-4000-8000-000000000001', '2013-05-06T11:02:00Z', 'workflow', '/cache-insert', NULL, NULL, NULL, 'multi_agent')$$,
                'INSERT: cache tokens summing to input_tokens, at 10^12, and a workflow_type are accepted');
SELECT results_eq($$SELECT input_tokens, cached_input_tokens, cache_write_tokens, workflow_type FROM analytics.usage_events
                    WHERE endpoint = '/cache-insert' ORDER BY occurred_at$$,
                  $$VALUES (50::bigint, 20::bigint, 30::bigint, NULL::text), (1000000000000, 1000000000000, 0, NULL),
                           (NULL, NULL, NULL, 'multi_agent')$$,
                  'INSERT stored the three columns');
-- Refused, the bad element second: SQLSTATE and message, index 1.
SELECT throws_ok(format('SELECT analytics.record_events(%L)',
                        jsonb_build_array(pg_temp.ev_at('2013-05-06T12:00:00Z'), pg_temp.ev_at('2013-05-06T12:00:00Z') || j)),
                 st, 'event 1: ' || msg, format('record_events refuses %s: %s', left(j::text, 80), st))
FROM (VALUES ('{"input_tokens": 100, "cached_input_tokens": 60, "cache_write_tokens": 41}'::jsonb, '23514',
              'cached_input_tokens + cache_write_tokens must not exceed input_tokens'),
             ('{"input_tokens": 100, "cached_input_tokens": 101}', '23514', 'cached_input_tokens + cache_write_tokens must not exceed input_tokens'),
             ('{"input_tokens": 100, "cache_write_tokens": 101}', '23514', 'cached_input_tokens + cache_write_tokens must not exceed input_tokens'),
             ('{"cached_input_tokens": 0}', '23502', 'input_tokens is required when cached_input_tokens or cache_write_tokens is set'),
             ('{"input_tokens": 1000000000000, "cached_input_tokens": 1000000000001}', '23514', 'cached_input_tokens must be at most 1000000000000'),
             ('{"input_tokens": 10, "cache_write_tokens": -1}', '23514', 'cache_write_tokens must not be negative'),
             ('{"input_tokens": 10, "cached_input_tokens": 2.5}', '22023', 'cached_input_tokens must be a whole number'),
             ('{"input_tokens": 10, "cache_write_tokens": "3"}', '22023', 'cache_write_tokens must be a number, not a JSON string'),
             (jsonb_build_object('workflow_type', repeat('w', 257)), '23514', 'workflow_type is longer than 256 characters'),
             ('{"workflow_type": ["a"]}', '22023', 'workflow_type must be a string, not a JSON array')) v(j, st, msg);
SELECT is(pg_temp.err(format('SELECT analytics.record_events(%L)', jsonb_build_array(pg_temp.ev_at('2013-05-06T12:00:00Z')
              || '{"input_tokens": 10, "cache_write_tokens": 11}'))),
          '23514 | event 0: cached_input_tokens + cache_write_tokens must not exceed input_tokens | Element index 0, field "cache_write_tokens".',
          'the sum rule names the element and the cache field in the detail');
SELECT is((SELECT count(*) FROM analytics.usage_events WHERE occurred_at = '2013-05-06T12:00:00Z'), 0::bigint,
          'nothing of the refused batches was stored');
-- INSERT: the table's checks, by name.
CREATE FUNCTION pg_temp.violated(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE st text; con text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, con = CONSTRAINT_NAME;
    RETURN st || ' ' || con;
END
$f$;
SELECT is(pg_temp.violated(format($$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, input_tokens, cached_input_tokens,
                                                                        cache_write_tokens, workflow_type)
                                    VALUES ('5a000000-0000-4000-8000-000000000001', '2013-05-06T12:00:00Z', 'llm_call', %s)$$, v)),
          '23514 ' || con, format('INSERT (%s) violates %s', v, con))
FROM (VALUES ('100, 60, 41, NULL', 'usage_events_cache_tokens_within_input_check'),
             ('NULL, 0, NULL, NULL', 'usage_events_cache_tokens_within_input_check'),
             ('NULL, NULL, 1, NULL', 'usage_events_cache_tokens_within_input_check'),
             ('10, -1, NULL, NULL', 'usage_events_cached_input_tokens_check'),
             ('10, NULL, -1, NULL', 'usage_events_cache_write_tokens_check'),
             ($$NULL, NULL, NULL, repeat('w', 257)$$, 'usage_events_workflow_type_check')) x(v, con);

SELECT * FROM finish();
ROLLBACK;
