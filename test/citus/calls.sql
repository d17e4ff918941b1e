-- test/citus/calls.sql: the calls test/citus/run.sh makes on the Citus
-- coordinator and on a single node, whose outputs must be byte-identical.
-- Schema citus_check is the test's own (not part of the extension).

CREATE SCHEMA IF NOT EXISTS citus_check;

-- An answer with what moves with the clock (sessions active in the last 15
-- minutes) masked: the cluster and the single node answer seconds apart.
CREATE OR REPLACE FUNCTION citus_check.steady(answer text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(answer, '"(activeSessions|active_sessions|active)": [0-9]+', '"\1": "~"', 'g') $$;

-- Every analytics_api read function (found in the catalog, so a function
-- added later is covered without editing this file), for every tenant, with
-- the default arguments and with each argument set below whose parameters
-- the function has: a period ending yesterday, a week granularity, a days
-- count, each agent of the tenant, and malformed values (the error cases).
-- Free-tier tenants answer 403 unless free_tier_access is on: theirs run both ways.
-- One row per call: the JSON answer, or the error's SQLSTATE, message and
-- detail.
CREATE OR REPLACE FUNCTION citus_check.api_calls()
RETURNS TABLE (tenant text, free_tier_access text, call text, result text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    yday  date := (now() AT TIME ZONE 'UTC')::date - 1;
    t     record;
    f     record;
    a     record;
    args  jsonb;
    sets  jsonb[];
    k     text;
    sql   text;
    ok    boolean;
    out   text;
    st    text; msg text; det text;
BEGIN
    FOR t IN SELECT x.tenant_id, x.tier FROM analytics.tenants x ORDER BY 1 LOOP
        sets := ARRAY[
            '{}'::jsonb,
            jsonb_build_object('from', (yday - 13)::text, 'to', yday::text),
            jsonb_build_object('from', (yday - 40)::text, 'to', (yday - 20)::text, 'granularity', 'week'),
            '{"days": "7"}', '{"days": "90"}',
            -- errors: bad date, from > to, a future day, over the range
            -- limit, a bad granularity, bad days, an agent of no one
            '{"from": "2026-02-30"}', jsonb_build_object('from', yday::text, 'to', (yday - 1)::text),
            jsonb_build_object('to', (yday + 3)::text), jsonb_build_object('from', (yday - 400)::text),
            '{"granularity": "month"}', '{"days": "0"}', '{"days": "x"}',
            '{"agentId": "00000000-0000-0000-0000-000000000000"}', '{"agentId": "nope"}',
            -- §6: day periods (hour windows move with the clock), a
            -- metric, a bad period, another tenant named
            '{"period": "7d"}', '{"period": "30d", "granularity": "week"}', '{"period": "2w"}',
            '{"period": "30d", "metric": "tokens"}', '{"days": "14"}',
            jsonb_build_object('period', '7d', 'tenantId', '00000000-0000-4000-8000-000000000002')];
        -- (four agents a tenant: the busiest and the quietest of the skewed
        -- traffic are among them)
        FOR a IN SELECT g.agent_id FROM analytics.agents g WHERE g.tenant_id = t.tenant_id ORDER BY 1 LIMIT 4 LOOP
            sets := sets || jsonb_build_object('agentId', a.agent_id::text)
                         || jsonb_build_object('agentId', a.agent_id::text, 'from', (yday - 6)::text, 'to', yday::text);
        END LOOP;
        FOR f IN
            SELECT p.proname, p.proargnames
            FROM pg_proc p
            WHERE p.pronamespace = 'analytics_api'::regnamespace AND p.prokind = 'f'
              AND p.proname NOT IN ('record_events', 'analytics_health')
              AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes::oid[]) ty WHERE ty <> 'text'::regtype)
            ORDER BY 1
        LOOP
            FOREACH args IN ARRAY sets LOOP
                -- only argument sets the function takes whole
                CONTINUE WHEN EXISTS (SELECT 1 FROM jsonb_object_keys(args) key
                                      WHERE NOT key = ANY (coalesce(f.proargnames, '{}')));
                -- (a §6 default period may be hours, which move with the clock)
                CONTINUE WHEN args = '{}' AND 'period' = ANY (coalesce(f.proargnames, '{}'));
                sql := '';
                FOR k IN SELECT key FROM jsonb_object_keys(args) key ORDER BY 1 LOOP
                    sql := sql || CASE WHEN sql = '' THEN '' ELSE ', ' END
                               || format('%I => %L', k, args ->> k);
                END LOOP;
                sql := format('analytics_api.%I(%s)', f.proname, sql);
                FOREACH ok IN ARRAY CASE WHEN t.tier = 'free' THEN ARRAY[false, true] ELSE ARRAY[false] END LOOP
                    PERFORM set_config('analytics.free_tier_access', ok::text, true);
                    PERFORM set_config('request.jwt.claims', json_build_object('tenant_id', t.tenant_id)::text, true);
                    BEGIN
                        EXECUTE 'SELECT (' || sql || ')::text' INTO out;
                    EXCEPTION WHEN OTHERS THEN
                        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
                        out := format('ERROR %s %s %s', st, msg, det);
                    END;
                    tenant := t.tenant_id; free_tier_access := ok; call := sql; result := citus_check.steady(out);
                    RETURN NEXT;
                END LOOP;
            END LOOP;
        END LOOP;
    END LOOP;
    -- The operator (no tenant claim): every tenant, and one at a time.
    PERFORM set_config('analytics.free_tier_access', 'on', true);
    PERFORM set_config('request.jwt.claims', '{"role": "analytics_operator"}', true);
    FOR f IN
        SELECT p.proname, p.proargnames
        FROM pg_proc p
        WHERE p.pronamespace = 'analytics_api'::regnamespace AND p.prokind = 'f'
          AND 'tenantId' = ANY (coalesce(p.proargnames, '{}')) AND 'period' = ANY (coalesce(p.proargnames, '{}'))
        ORDER BY 1
    LOOP
        FOREACH args IN ARRAY ARRAY['{"period": "7d"}'::jsonb, '{"period": "30d"}',
                                    '{"period": "30d", "tenantId": "00000000-0000-4000-8000-000000000001"}',
                                    '{"period": "7d", "tenantId": "00000000-0000-4000-8000-000000000004"}',
                                    '{"period": "7d", "tenantId": "00000000-0000-4000-8000-0000000000ff"}',
                                    '{"period": "7d", "tenantId": "nope"}'] LOOP
            sql := '';
            FOR k IN SELECT key FROM jsonb_object_keys(args) key ORDER BY 1 LOOP
                sql := sql || CASE WHEN sql = '' THEN '' ELSE ', ' END || format('%I => %L', k, args ->> k);
            END LOOP;
            sql := format('analytics_api.%I(%s)', f.proname, sql);
            BEGIN
                EXECUTE 'SELECT (' || sql || ')::text' INTO out;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
                out := format('ERROR %s %s %s', st, msg, det);
            END;
            tenant := 'operator'; free_tier_access := null; call := sql; result := citus_check.steady(out);
            RETURN NEXT;
        END LOOP;
    END LOOP;
    -- no claim, and a claim naming no tenant
    FOREACH k IN ARRAY ARRAY['', '{"tenant_id": "00000000-0000-4000-8000-0000000000ff"}'] LOOP
        PERFORM set_config('request.jwt.claims', k, true);
        BEGIN
            EXECUTE 'SELECT analytics_api.usage_summary()::text' INTO out;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
            out := format('ERROR %s %s %s', st, msg, det);
        END;
        tenant := k; free_tier_access := null; call := 'analytics_api.usage_summary()'; result := out;
        RETURN NEXT;
    END LOOP;
    PERFORM set_config('request.jwt.claims', '', true);
END
$$;

CREATE OR REPLACE FUNCTION citus_check.round9(x float8) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT to_char(x, '9.99999999EEEE') $$;
CREATE OR REPLACE FUNCTION citus_check.sketch_text(s analytics.qsketch) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_set(s::text::jsonb, '{sum}', to_jsonb(citus_check.round9((s::text::jsonb ->> 'sum')::float8)))::text $$;

-- The rollup tables' contents, one line per row, in a fixed order (the
-- times of writing aside), so that a rollup on Citus can be compared with
-- the same rollup on one node.
CREATE OR REPLACE FUNCTION citus_check.rollup_rows()
RETURNS TABLE (tbl text, row_text text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    r    record;
    cols text;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS rel, c.relname
        FROM pg_class c
        WHERE c.relnamespace = 'analytics'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND c.relname NOT IN ('usage_events', 'job_runs')
          -- (run_retention folds the Prometheus counters into their base on
          -- one node only, not yet on Citus: docs/scaling.md)
          AND c.relname NOT IN ('prom_counter_base', 'prom_fold_state')
          AND c.relname NOT LIKE 'usage_events%'
        ORDER BY 2
    LOOP
        -- (float sums depend on the order rows are added in, which differs
        -- between a shard and one table: compared to 9 significant digits,
        -- in the sketch's sum too)
        SELECT string_agg(CASE a.atttypid
                              WHEN 'float8'::regtype THEN format('citus_check.round9(%I)', a.attname)
                              WHEN 'analytics.qsketch'::regtype THEN format('citus_check.sketch_text(%I)', a.attname)
                              ELSE format('%I', a.attname) END, ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = r.rel AND a.attnum > 0 AND NOT a.attisdropped
          -- (rows_written counts a run's work, not data: a recompute after
          -- merged increments may rewrite rows whose float sums differ in
          -- their last bits, which happens on one node and not the other)
          AND a.attname NOT IN ('created_at', 'updated_at', 'rolled_at', 'first_seen', 'ingested_at', 'rows_written')
          AND a.atttypid NOT IN ('timestamptz'::regtype);
        RETURN QUERY EXECUTE format('SELECT %L::text, t::text FROM (SELECT %s FROM %s) t ORDER BY 2',
                                    r.relname, cols, r.rel);
    END LOOP;
END
$$;
