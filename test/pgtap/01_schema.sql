-- Schema: schemas, registries, the event table and its columns, settings.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(66);

SELECT has_extension('analytics');
SELECT has_schema('analytics');
SELECT has_schema('analytics_api');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'analytics'), false, 'the extension is not relocatable');

SELECT has_table('analytics', 'tenants', 'tenants registry');
SELECT col_is_pk('analytics', 'tenants', 'tenant_id', 'tenant_id is the primary key');
SELECT col_type_is('analytics', 'tenants', 'tenant_id', 'uuid', 'tenants.tenant_id is uuid');
SELECT col_type_is('analytics', 'tenants', 'name', 'text', 'tenants.name is text');
SELECT col_type_is('analytics', 'tenants', 'tier', 'text', 'tenants.tier is text');
SELECT has_table('analytics', 'agents', 'agents registry');
SELECT col_is_pk('analytics', 'agents', 'agent_id', 'agent_id is the primary key');
SELECT col_type_is('analytics', 'agents', 'tenant_id', 'uuid', 'agents.tenant_id is uuid');
SELECT col_not_null('analytics', 'agents', 'tenant_id', 'an agent always has a tenant');
SELECT fk_ok('analytics', 'agents', 'tenant_id', 'analytics', 'tenants', 'tenant_id');
SELECT has_function('analytics', 'upsert_tenant', ARRAY['uuid', 'text', 'text']);
SELECT has_function('analytics', 'upsert_agent', ARRAY['uuid', 'uuid', 'text']);
SELECT has_function('analytics', 'record_events', ARRAY['jsonb']);
SELECT function_returns('analytics', 'record_events', ARRAY['jsonb'], 'bigint');

-- usage_events: every column of the contract with its type.
SELECT has_table('analytics', 'usage_events', 'usage_events');
SELECT is((SELECT relkind::text FROM pg_class WHERE oid = 'analytics.usage_events'::regclass), 'p',
          'usage_events is partitioned');
SELECT is((SELECT pg_get_partkeydef('analytics.usage_events'::regclass)), 'RANGE (occurred_at)',
          'partitioned by range of occurred_at');
SELECT col_type_is('analytics', 'usage_events', c.col, c.typ, format('usage_events.%s is %s', c.col, c.typ))
FROM (VALUES ('tenant_id', 'uuid'), ('agent_id', 'uuid'), ('occurred_at', 'timestamp with time zone'),
             ('event_type', 'text'), ('success', 'boolean'), ('count', 'integer'), ('endpoint', 'text'),
             ('method', 'text'), ('status_code', 'smallint'), ('tool_name', 'text'), ('mcp_server', 'text'),
             ('model', 'text'), ('input_tokens', 'bigint'), ('output_tokens', 'bigint'),
             ('latency_ms', 'double precision'), ('user_id', 'text'), ('session_id', 'text'),
             ('workflow_id', 'text'), ('execution_id', 'text'), ('error_code', 'text'),
             ('attributes', 'jsonb'), ('cached_input_tokens', 'bigint'), ('cache_write_tokens', 'bigint'),
             ('workflow_type', 'text')) AS c(col, typ);
SELECT col_not_null('analytics', 'usage_events', 'tenant_id', 'tenant_id is required');
SELECT col_not_null('analytics', 'usage_events', 'occurred_at', 'occurred_at is required');
SELECT col_not_null('analytics', 'usage_events', 'event_type', 'event_type is required');
SELECT col_default_is('analytics', 'usage_events', 'success', 'true', 'success defaults to true');
SELECT col_default_is('analytics', 'usage_events', 'count', '1', 'count defaults to 1');
SELECT has_table('analytics', 'usage_events_default', 'a default partition catches days with no partition');
-- No triggers on usage_events: tenants are checked by a foreign key (INSERT
-- and COPY), agents and the changed-day log by record_events.
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'analytics.usage_events'::regclass AND NOT tgisinternal), 0::bigint,
          'usage_events has no (user) trigger');
SELECT fk_ok('analytics', 'usage_events', 'tenant_id', 'analytics', 'tenants', 'tenant_id');
SELECT is((SELECT contype::text FROM pg_constraint WHERE conrelid = 'analytics.usage_events'::regclass
           AND conname = 'usage_events_tenant_id_fkey'), 'f', 'the foreign key is usage_events_tenant_id_fkey');
SELECT has_table('analytics', 'changed_days', 'the log of days whose events changed since their rollup');
SELECT col_type_is('analytics', 'changed_days', 'changed_at', 'timestamp with time zone', 'changed_days.changed_at is timestamptz');

-- Settings, with their defaults, defined by the library.
SELECT is(current_setting('analytics.enabled'), 'on', 'analytics.enabled defaults to on');
SELECT is(current_setting('analytics.free_tier_access'), 'off', 'analytics.free_tier_access defaults to off');
SELECT is(current_setting('analytics.partition_premake_days'), '7', 'analytics.partition_premake_days defaults to 7');
SELECT is(current_setting('analytics.max_event_future_seconds'), '300', 'analytics.max_event_future_seconds defaults to 300');
SELECT is((SELECT context FROM pg_settings WHERE name = 'analytics.enabled'), 'superuser',
          'only a superuser may change analytics.enabled');
SELECT is((SELECT context FROM pg_settings WHERE name = 'analytics.free_tier_access'), 'superuser',
          'only a superuser may change analytics.free_tier_access');
SELECT is((SELECT vartype FROM pg_settings WHERE name = 'analytics.enabled'), 'bool', 'analytics.enabled is a bool');
SELECT throws_ok($$SET analytics.no_such_setting = 1$$, '42602', NULL,
                 'the analytics. prefix is reserved: unknown settings are refused');

-- Tiers are checked.
SELECT throws_ok($$INSERT INTO analytics.tenants (tenant_id, name, tier) VALUES (gen_random_uuid(), 'x', 'gold')$$,
                 '23514', NULL, 'a tier outside free, pro, enterprise is refused');

-- Every function of the extension has a comment and declares its volatility.
SELECT is(count(*), 0::bigint, 'every analytics function has a COMMENT')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname IN ('analytics', 'analytics_api') AND obj_description(p.oid, 'pg_proc') IS NULL
  AND p.prokind IN ('f', 'a');

SELECT * FROM finish();
ROLLBACK;
