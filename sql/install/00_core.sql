-- 00_core.sql: schemas, registries, the event table and its partitions,
-- ingestion.  Pieces of sql/install/ are concatenated in name order into
-- sql/analytics--<version>.sql by the Makefile.

\echo Use "CREATE EXTENSION analytics" to load this file. \quit

-- Schema analytics is created by CREATE EXTENSION (control file: schema).
CREATE SCHEMA analytics_api;
COMMENT ON SCHEMA analytics_api IS 'Usage analytics API: the functions exposed over HTTP by PostgREST';

-------------------------------------------------------------------------------
-- Registries
-------------------------------------------------------------------------------

CREATE TABLE analytics.tenants (
    tenant_id  uuid PRIMARY KEY,
    name       text NOT NULL,
    tier       text NOT NULL DEFAULT 'free'
               CONSTRAINT tenants_tier_check CHECK (tier IN ('free', 'pro', 'enterprise')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.tenants IS 'Tenants (organisations); tier is free, pro or enterprise';

CREATE TABLE analytics.agents (
    agent_id   uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES analytics.tenants (tenant_id),
    name       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_tenant_id_idx ON analytics.agents (tenant_id);
COMMENT ON TABLE analytics.agents IS 'Agents of a tenant; an unknown agent_id in an event is registered on the fly with a NULL name';

SELECT pg_catalog.pg_extension_config_dump('analytics.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('analytics.agents', '');

CREATE FUNCTION analytics.upsert_tenant(tenant_id uuid, name text, tier text DEFAULT 'free')
RETURNS analytics.tenants
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result analytics.tenants;
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be null' USING ERRCODE = 'not_null_violation';
    END IF;
    IF name IS NULL THEN
        RAISE EXCEPTION 'tenant name must not be null' USING ERRCODE = 'not_null_violation';
    END IF;
    IF tier IS NULL OR tier NOT IN ('free', 'pro', 'enterprise') THEN
        RAISE EXCEPTION 'invalid tier "%"', tier
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The tier is one of free, pro, enterprise.';
    END IF;
    INSERT INTO analytics.tenants AS t (tenant_id, name, tier)
    VALUES (upsert_tenant.tenant_id, upsert_tenant.name, upsert_tenant.tier)
    ON CONFLICT ON CONSTRAINT tenants_pkey DO UPDATE
        SET name = excluded.name, tier = excluded.tier, updated_at = now()
    RETURNING t.* INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.upsert_tenant(uuid, text, text) IS
    'Registers a tenant, or updates its name and tier; returns the row';

CREATE FUNCTION analytics.upsert_agent(agent_id uuid, tenant_id uuid, name text)
RETURNS analytics.agents
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result analytics.agents;
BEGIN
    IF agent_id IS NULL OR tenant_id IS NULL THEN
        RAISE EXCEPTION 'agent_id and tenant_id must not be null' USING ERRCODE = 'not_null_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM analytics.tenants t WHERE t.tenant_id = upsert_agent.tenant_id) THEN
        RAISE EXCEPTION 'tenant % is not registered', tenant_id
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Register the tenant first with analytics.upsert_tenant().';
    END IF;
    INSERT INTO analytics.agents AS a (agent_id, tenant_id, name)
    VALUES (upsert_agent.agent_id, upsert_agent.tenant_id, upsert_agent.name)
    ON CONFLICT ON CONSTRAINT agents_pkey DO UPDATE
        SET name = excluded.name, updated_at = now()
        WHERE a.tenant_id = excluded.tenant_id
    RETURNING a.* INTO result;
    IF result IS NULL THEN
        RAISE EXCEPTION 'agent % belongs to another tenant', agent_id
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = 'An agent cannot move between tenants.';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.upsert_agent(uuid, uuid, text) IS
    'Registers an agent of a tenant, or renames it; an agent never moves to another tenant';

-------------------------------------------------------------------------------
-- Events: partitioned by UTC day
-------------------------------------------------------------------------------

CREATE TABLE analytics.usage_events (
    tenant_id     uuid NOT NULL,
    agent_id      uuid,
    occurred_at   timestamptz NOT NULL
                  CONSTRAINT usage_events_occurred_at_check CHECK (occurred_at > '-infinity' AND occurred_at < 'infinity'),
    event_type    text NOT NULL
                  CONSTRAINT usage_events_event_type_check CHECK (event_type IN
                      ('api_call', 'token_issuance', 'credential_rotation', 'tool_call',
                       'llm_call', 'agent_execution', 'workflow', 'session')),
    success       boolean NOT NULL DEFAULT true,
    count         integer NOT NULL DEFAULT 1
                  CONSTRAINT usage_events_count_check CHECK (count > 0),
    endpoint      text,
    method        text,
    status_code   smallint
                  CONSTRAINT usage_events_status_code_check CHECK (status_code BETWEEN 100 AND 599),
    tool_name     text,
    mcp_server    text,
    model         text,
    input_tokens  bigint
                  CONSTRAINT usage_events_input_tokens_check CHECK (input_tokens >= 0),
    output_tokens bigint
                  CONSTRAINT usage_events_output_tokens_check CHECK (output_tokens >= 0),
    -- NaN sorts above infinity in PostgreSQL, so "< infinity" also refuses NaN.
    latency_ms    double precision
                  CONSTRAINT usage_events_latency_ms_check CHECK (latency_ms >= 0 AND latency_ms < 'infinity'),
    user_id       text,
    session_id    text,
    workflow_id   text,
    execution_id  text,
    error_code    text,
    attributes    jsonb,
    ingested_at   timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (occurred_at);
COMMENT ON TABLE analytics.usage_events IS
    'Usage events, one row per event or pre-counted batch; partitioned by UTC day (usage_events_pYYYYMMDD), with a default partition that catches days not yet partitioned';

CREATE INDEX usage_events_tenant_time_idx ON analytics.usage_events (tenant_id, occurred_at);

CREATE TABLE analytics.usage_events_default PARTITION OF analytics.usage_events DEFAULT;
COMMENT ON TABLE analytics.usage_events_default IS
    'Events for days that had no partition yet; analytics.maintain_partitions() moves them into day partitions';
SELECT pg_catalog.pg_extension_config_dump('analytics.usage_events_default', '');

-- The name of the partition for a UTC day.
CREATE FUNCTION analytics.partition_name(day date)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN 'usage_events_p' || pg_catalog.to_char(day, 'YYYYMMDD');
COMMENT ON FUNCTION analytics.partition_name(date) IS 'Name of the usage_events partition that holds a UTC day';

-- Create the day partitions of [from_day, to_day] that do not exist yet,
-- moving any rows of those days out of the default partition.
CREATE FUNCTION analytics.ensure_partitions(from_day date, to_day date)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d       date;
    part    text;
    lo      text;
    hi      text;
    created integer := 0;
BEGIN
    IF from_day > to_day THEN
        RAISE EXCEPTION 'from_day % is after to_day %', from_day, to_day
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_day - from_day > 3660 THEN
        RAISE EXCEPTION 'refusing to create more than 3661 partitions at once'
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Create them in smaller ranges.';
    END IF;
    FOR d IN SELECT g::date FROM generate_series(from_day, to_day, interval '1 day') g LOOP
        part := analytics.partition_name(d);
        CONTINUE WHEN to_regclass('analytics.' || quote_ident(part)) IS NOT NULL;
        -- One creator at a time; the default partition is locked so that no
        -- row for the day can slip into it between the move and the attach.
        PERFORM pg_advisory_xact_lock(hashtext('analytics.ensure_partitions'));
        CONTINUE WHEN to_regclass('analytics.' || quote_ident(part)) IS NOT NULL;
        LOCK TABLE analytics.usage_events_default IN ACCESS EXCLUSIVE MODE;
        lo := to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00';
        hi := to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00';
        EXECUTE format('CREATE TABLE analytics.%I (LIKE analytics.usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        EXECUTE format('ALTER TABLE analytics.%I ADD CONSTRAINT %I CHECK (occurred_at >= %L AND occurred_at < %L)',
                       part, part || '_range', lo, hi);
        EXECUTE format('WITH moved AS (DELETE FROM analytics.usage_events_default WHERE occurred_at >= %L AND occurred_at < %L RETURNING *) '
                       'INSERT INTO analytics.%I SELECT * FROM moved', lo, hi, part);
        EXECUTE format('ALTER TABLE analytics.usage_events ATTACH PARTITION analytics.%I FOR VALUES FROM (%L) TO (%L)',
                       part, lo, hi);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.ensure_partitions(date, date) IS
    'Creates the missing day partitions of usage_events for a range of UTC days, moving their rows out of the default partition; returns how many it created';

-- Premake partitions ahead and drain the default partition.
CREATE FUNCTION analytics.maintain_partitions()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today   date := (now() AT TIME ZONE 'UTC')::date;
    ahead   integer := coalesce(current_setting('analytics.partition_premake_days', true)::integer, 7);
    d       date;
    created integer;
BEGIN
    created := analytics.ensure_partitions(today, today + ahead);
    FOR d IN SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default ORDER BY 1 LOOP
        created := created + analytics.ensure_partitions(d, d);
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.maintain_partitions() IS
    'Creates day partitions from today to analytics.partition_premake_days ahead and moves rows out of the default partition; returns how many partitions it created';

-- Partitions of usage_events with the UTC day each holds.
CREATE VIEW analytics.event_partitions AS
SELECT c.oid::regclass AS partition,
       -- (the test is inside the CASE: the planner may push a filter on day
       -- down to every row of pg_class)
       CASE WHEN c.relname ~ '^usage_events_p[0-9]{8}$'
            THEN to_date(substr(c.relname, 15), 'YYYYMMDD') END AS day,
       c.reltuples::bigint AS estimated_rows
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'analytics.usage_events'::regclass;
COMMENT ON VIEW analytics.event_partitions IS 'Partitions of usage_events, the UTC day each holds (NULL for the default partition)';

-------------------------------------------------------------------------------
-- Checks that hold for every way in (INSERT, COPY, record_events): the
-- tenant is registered, the agent belongs to the event's tenant, and unknown
-- agents are registered; the days touched go into the rollup invalidation
-- log (analytics.rollup_invalidations, 40_rollup.sql).  One statement-level
-- pass over the inserted rows, instead of a foreign-key probe per row.
-------------------------------------------------------------------------------

CREATE FUNCTION analytics.usage_events_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.tenant_id INTO bad
    FROM (SELECT DISTINCT e.tenant_id FROM new_events e) n
    WHERE NOT EXISTS (SELECT 1 FROM analytics.tenants t WHERE t.tenant_id = n.tenant_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'tenant % is not registered', bad.tenant_id
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Register the tenant first with analytics.upsert_tenant().';
    END IF;

    INSERT INTO analytics.agents (agent_id, tenant_id)
    SELECT DISTINCT ON (e.agent_id) e.agent_id, e.tenant_id
    FROM new_events e
    WHERE e.agent_id IS NOT NULL
    ORDER BY e.agent_id
    ON CONFLICT (agent_id) DO NOTHING;

    SELECT e.agent_id, e.tenant_id INTO bad
    FROM (SELECT DISTINCT n.agent_id, n.tenant_id FROM new_events n WHERE n.agent_id IS NOT NULL) e
    JOIN analytics.agents a ON a.agent_id = e.agent_id
    WHERE a.tenant_id <> e.tenant_id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'agent % does not belong to tenant %', bad.agent_id, bad.tenant_id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = 'An agent belongs to exactly one tenant.';
    END IF;

    -- A day whose raw events retention dropped cannot take new ones: its
    -- rollup could not be recomputed without them.
    SELECT r.day INTO bad
    FROM (SELECT DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date AS day FROM new_events e) d
    JOIN analytics.rollup_days r ON r.day = d.day AND r.raw_dropped
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'events of % are older than the raw retention window', bad.day
            USING ERRCODE = 'check_violation',
                  DETAIL = 'The raw events of that day were dropped after it was rolled up.',
                  HINT = 'analytics.raw_retention_days sets the window.';
    END IF;

    INSERT INTO analytics.rollup_invalidations (day)
    SELECT DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date FROM new_events e
    ON CONFLICT (day) DO NOTHING;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics.usage_events_check() IS
    'Statement trigger of usage_events for INSERT and COPY: refuses unregistered tenants, agents of another tenant and days past raw retention, registers unknown agents, logs the days touched for the rollup';

CREATE TRIGGER usage_events_check
    AFTER INSERT ON analytics.usage_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION analytics.usage_events_check();

-------------------------------------------------------------------------------
-- Ingestion
-------------------------------------------------------------------------------

CREATE FUNCTION analytics.record_events(events jsonb)
RETURNS bigint
AS 'MODULE_PATHNAME', 'analytics_record_events'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION analytics.record_events(jsonb) IS
    'Stores a JSON array of events (objects with the usage_events column names), all or nothing; returns the number of rows stored. A bad element is refused with an error whose detail names its index and field';
