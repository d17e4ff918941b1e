-- record_events.sql: a bounded server-side fuzz of analytics.record_events.
-- Sends mutated batches (seeded, so a run is repeatable) in subtransactions
-- and checks, after each, that a refused batch stored nothing (no event, no
-- agent) and an accepted one stored exactly its elements, within the limits.
-- Usage: psql -v ON_ERROR_STOP=1 -v batches=2000 -f test/fuzz/record_events.sql DB
-- (needs the extension; registers its own tenants and looks only at their
-- rows, so any database will do; leaves its rows).
\if :{?batches}
\else
\set batches 2000
\endif
SET client_min_messages = warning;
\o /dev/null
SELECT set_config('fuzz.batches', :'batches', false);
SELECT FROM analytics.upsert_tenant('f0220000-0000-4000-8000-000000000001', 'fuzz one', 'pro');
SELECT FROM analytics.upsert_tenant('f0220000-0000-4000-8000-000000000002', 'fuzz two', 'pro');
\o
DO $fuzz$
DECLARE
    batches  int := current_setting('fuzz.batches')::int;
    tenants  text[] := ARRAY['f0220000-0000-4000-8000-000000000001', 'f0220000-0000-4000-8000-000000000002',
                             'f0220000-0000-4000-8000-00000000000f', 'nope', ''];
    fields   text[] := ARRAY['tenant_id', 'agent_id', 'occurred_at', 'event_type', 'success', 'count', 'endpoint',
                             'method', 'status_code', 'tool_name', 'mcp_server', 'model', 'input_tokens',
                             'output_tokens', 'latency_ms', 'user_id', 'session_id', 'workflow_id',
                             'execution_id', 'error_code', 'attributes', 'cached_input_tokens',
                             'cache_write_tokens', 'workflow_type', 'ocurred_at', ''];
    -- every tenant id the batches can name validly (the third is not registered)
    ours     uuid[] := ARRAY['f0220000-0000-4000-8000-000000000001', 'f0220000-0000-4000-8000-000000000002',
                             'f0220000-0000-4000-8000-00000000000f'];
    oddities jsonb[];
    tokens   jsonb[] := ARRAY['0', '1', '2', '1000000', '1000000000000', '1000000000001', '-1', '1.5', 'null'];
    batch    jsonb;
    elem     jsonb;
    n_before bigint;
    a_before bigint;
    n_after  bigint;
    a_after  bigint;
    stored   bigint;
    accepted int := 0;
    refused  int := 0;
    i int; j int; k int; m int;
    t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM setseed(0.42);
    oddities := ARRAY[
        'null', 'true', '0', '-1', '1', '1.5', '1000000', '1000001', '1000000000000', '1000000000001',
        '9223372036854775807', '99999999999999999999999', '1e308', '-0', '10000000000', '10000000000.5',
        '""', '"x"', to_jsonb(repeat('x', 16)), to_jsonb(repeat('y', 17)), to_jsonb(repeat('z', 128)),
        to_jsonb(repeat('w', 129)), to_jsonb(repeat('v', 256)), to_jsonb(repeat('u', 257)),
        to_jsonb(repeat('é', 1024)), to_jsonb(repeat('é', 1025)), '[]', '{}', '[1, 2]',
        jsonb_build_object('k', repeat('a', 65527)), jsonb_build_object('k', repeat('a', 65528)),
        '"api_call"', '"llm_call"', '"api_calls"', '"infinity"', '"-infinity"', '"today"', '"tomorrow"',
        '"yesterday 12:00"', '"2001-01-01T00:00:00Z"', '"9999-12-31"', '"2026-02-30"', '"now"',
        to_jsonb(now()), to_jsonb(now() + interval '299 seconds'), to_jsonb(now() + interval '301 seconds'),
        to_jsonb(date_trunc('day', now() AT TIME ZONE 'UTC') - interval '90 days'),
        to_jsonb((date_trunc('day', now() AT TIME ZONE 'UTC') - interval '90 days' - interval '1 microsecond')::text || 'Z'),
        '"aaaaaaaa-0000-4000-8000-00000000f001"', '"aaaaaaaa-0000-4000-8000-00000000f002"',
        '"{aaaaaaaa00004000800000000000f003}"', '"f0220000-0000-4000-8000-000000000001"',
        '"f0220000-0000-4000-8000-000000000002"', '"zzzzzzzz-0000-4000-8000-000000000001"'];
    FOR i IN 1 .. batches LOOP
        batch := '[]';
        FOR j IN 1 .. 1 + floor(random() * 4)::int LOOP
            elem := jsonb_build_object(
                'tenant_id', tenants[1 + floor(random() * 2)::int],
                'occurred_at', now() - random() * interval '80 days',
                'event_type', (ARRAY['api_call', 'token_issuance', 'tool_call', 'llm_call', 'session'])[1 + floor(random() * 5)::int]);
            m := floor(random() * 4)::int;
            FOR k IN 1 .. m LOOP
                IF random() < 0.1 THEN
                    elem := elem - fields[1 + floor(random() * 4)::int];
                ELSIF random() < 0.05 THEN
                    elem := jsonb_build_object('tenant_id', tenants[1 + floor(random() * 5)::int]) || elem;
                ELSIF random() < 0.2 THEN
                    -- a cache token count with an input_tokens: the sum rule
                    elem := elem || jsonb_build_object(
                        'input_tokens', tokens[1 + floor(random() * array_length(tokens, 1))::int],
                        (ARRAY['cached_input_tokens', 'cache_write_tokens'])[1 + floor(random() * 2)::int],
                        tokens[1 + floor(random() * array_length(tokens, 1))::int]);
                ELSE
                    elem := elem || jsonb_build_object(fields[1 + floor(random() * array_length(fields, 1))::int],
                                                       oddities[1 + floor(random() * array_length(oddities, 1))::int]);
                END IF;
            END LOOP;
            batch := batch || jsonb_build_array(CASE WHEN random() < 0.02 THEN to_jsonb(j) ELSE elem END);
        END LOOP;
        SELECT count(*) INTO n_before FROM analytics.usage_events WHERE tenant_id = ANY (ours);
        SELECT count(*) INTO a_before FROM analytics.agents WHERE tenant_id = ANY (ours);
        BEGIN
            stored := analytics.record_events(batch);
            accepted := accepted + 1;
            SELECT count(*) INTO n_after FROM analytics.usage_events WHERE tenant_id = ANY (ours);
            IF stored <> jsonb_array_length(batch) OR n_after <> n_before + stored THEN
                RAISE EXCEPTION 'fuzz: batch % accepted but stored % rows for % elements: %', i, n_after - n_before, jsonb_array_length(batch), batch;
            END IF;
        EXCEPTION
            WHEN data_exception OR integrity_constraint_violation THEN
                refused := refused + 1;
                SELECT count(*) INTO n_after FROM analytics.usage_events WHERE tenant_id = ANY (ours);
                SELECT count(*) INTO a_after FROM analytics.agents WHERE tenant_id = ANY (ours);
                IF n_after <> n_before OR a_after <> a_before THEN
                    RAISE EXCEPTION 'fuzz: refused batch % stored % events and % agents: %', i, n_after - n_before, a_after - a_before, batch;
                END IF;
        END;
    END LOOP;
    -- every accepted row is within the limits
    PERFORM 1 FROM analytics.usage_events e
    WHERE e.tenant_id IN ('f0220000-0000-4000-8000-000000000001', 'f0220000-0000-4000-8000-000000000002')
      AND NOT (e.count BETWEEN 1 AND 1000000
               AND coalesce(e.input_tokens, 0) BETWEEN 0 AND 1000000000000
               AND coalesce(e.output_tokens, 0) BETWEEN 0 AND 1000000000000
               AND (coalesce(e.cached_input_tokens, e.cache_write_tokens) IS NULL
                    OR coalesce(e.cached_input_tokens, 0) + coalesce(e.cache_write_tokens, 0) <= coalesce(e.input_tokens, -1))
               AND coalesce(e.cached_input_tokens, 0) >= 0 AND coalesce(e.cache_write_tokens, 0) >= 0
               AND coalesce(char_length(e.workflow_type), 0) <= 256
               AND coalesce(e.latency_ms, 0) BETWEEN 0 AND 1e10
               AND coalesce(char_length(e.endpoint), 0) <= 1024 AND coalesce(char_length(e.method), 0) <= 16
               AND coalesce(char_length(e.model), 0) <= 256 AND coalesce(char_length(e.error_code), 0) <= 128
               AND coalesce(octet_length(e.attributes::text), 0) <= 65536
               AND e.occurred_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '90 days'
               AND e.occurred_at <= now() + interval '300 seconds');
    IF FOUND THEN
        RAISE EXCEPTION 'fuzz: a stored row is outside the limits';
    END IF;
    IF accepted = 0 OR refused = 0 THEN
        RAISE EXCEPTION 'fuzz: % accepted, % refused: the mutations do not cover both outcomes', accepted, refused;
    END IF;
    RAISE WARNING 'record_events fuzz: % batches, % accepted, % refused, nothing of a refused batch stored (% s)',
        batches, accepted, refused, round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1);
END
$fuzz$;
