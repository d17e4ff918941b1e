-------------------------------------------------------------------------------
-- functions/10_events.sql (layer 10, events and their ingestion): settings,
-- the registries' upserts, day partitions, the changed-day log and
-- record_events.  Every statement here is re-runnable: this file is part of
-- the install script and of every upgrade script.
--
-- Vocabulary: a "day" is a UTC calendar day; the "accepted window" of
-- record_events is analytics.raw_retention_days back from today to
-- analytics.max_event_future_seconds ahead of now; a day is "changed" while
-- analytics.changed_days has it.
-------------------------------------------------------------------------------

-- The current value of the setting analytics.<name>.  Being a C function,
-- calling it loads the library, whose _PG_init defines the settings: SQL
-- that reads settings through it works without shared_preload_libraries.
CREATE OR REPLACE FUNCTION analytics.setting(name text)
RETURNS text
AS 'MODULE_PATHNAME', 'analytics_setting'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION analytics.setting(text) IS
    'The current value of the setting analytics.<name> (e.g. analytics.setting(''enabled'')), whether or not the library is preloaded';

-- Today in the reporting time zone (UTC).
CREATE OR REPLACE FUNCTION analytics.utc_today()
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT (pg_catalog.now() AT TIME ZONE 'UTC')::date $$;
COMMENT ON FUNCTION analytics.utc_today() IS 'Today (UTC), the reporting day';

-- The transaction-level advisory lock of a day: writers of a day's events
-- hold it shared (mark_days_changed), the rollup of the day exclusive, so a
-- rollup reads the day only after every writer already under way has
-- committed or aborted, and a writer that comes later logs the day again.
CREATE OR REPLACE FUNCTION analytics.lock_day(day date, exclusive boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF exclusive THEN
        PERFORM pg_advisory_xact_lock(hashtext('analytics.day'), day - date '2000-01-01');
    ELSE
        PERFORM pg_advisory_xact_lock_shared(hashtext('analytics.day'), day - date '2000-01-01');
    END IF;
END
$$;
COMMENT ON FUNCTION analytics.lock_day(date, boolean) IS
    'Takes the transaction advisory lock of a UTC day: shared for writers of its events, exclusive for its rollup';

-- Log days whose events this transaction wrote, updated or deleted.
CREATE OR REPLACE FUNCTION analytics.mark_days_changed(days date[])
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d date;
    n     integer := 0;
    stamp timestamptz := pg_catalog.now();
BEGIN
    -- In day order, so that two writers never wait for each other in a cycle.
    FOR d IN SELECT DISTINCT u FROM unnest(days) u WHERE u IS NOT NULL ORDER BY 1 LOOP
        PERFORM analytics.lock_day(d, false);
        -- (a day logged as appended-only is now rewritten: recompute it whole)
        INSERT INTO analytics.changed_days AS c (day, changed_at, appended) VALUES (d, stamp, false)
        ON CONFLICT (day) DO UPDATE SET appended = false WHERE c.appended;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION analytics.mark_days_changed(date[]) IS
    'Logs UTC days whose events the current transaction updated or deleted (or changed in any way other than adding events), so reads take them from raw events and the next rollup recomputes them whole; whoever updates or deletes events should call it; returns the number of days';


-- Give a partition the row-level security of its parent (PostgreSQL does
-- not carry policies over to partitions, which can be queried directly).
CREATE OR REPLACE FUNCTION analytics.copy_row_security(parent regclass, child regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    IF NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = parent) THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', child);
    FOR p IN SELECT pol.polname, pol.polcmd, pol.polpermissive,
                    pg_get_expr(pol.polqual, pol.polrelid) AS qual,
                    pg_get_expr(pol.polwithcheck, pol.polrelid) AS chk
             FROM pg_policy pol WHERE pol.polrelid = parent
               AND NOT EXISTS (SELECT 1 FROM pg_policy q WHERE q.polrelid = child AND q.polname = pol.polname) LOOP
        EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s%s%s', p.polname, child,
                       CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                       CASE WHEN p.polcmd = 'r' THEN 'SELECT' WHEN p.polcmd = 'a' THEN 'INSERT'
                            WHEN p.polcmd = 'w' THEN 'UPDATE' WHEN p.polcmd = 'd' THEN 'DELETE' ELSE 'ALL' END,
                       coalesce(' USING (' || p.qual || ')', ''), coalesce(' WITH CHECK (' || p.chk || ')', ''));
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.copy_row_security(regclass, regclass) IS
    'Enables row-level security on a partition and creates the policies of its parent that it lacks';

CREATE OR REPLACE FUNCTION analytics.upsert_tenant(tenant_id uuid, name text, tier text DEFAULT 'free')
RETURNS analytics.tenants
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result analytics.tenants;
    stamp  timestamptz := pg_catalog.now();
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
        SET name = excluded.name, tier = excluded.tier, updated_at = stamp
    RETURNING t.* INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION analytics.upsert_tenant(uuid, text, text) IS
    'Registers a tenant, or updates its name and tier; returns the row';

CREATE OR REPLACE FUNCTION analytics.upsert_agent(agent_id uuid, tenant_id uuid, name text)
RETURNS analytics.agents
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result analytics.agents;
    stamp  timestamptz := pg_catalog.now();
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
        SET name = excluded.name, updated_at = stamp
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

-- A day as YYYYMMDD, the suffix of its day partitions (usage_events_p...,
-- metric_points_p...).  From immutable parts: to_char is only stable, and
-- an IMMUTABLE SQL function over a stable body is never inlined, so every
-- reader parsed and planned it again at every call.
CREATE OR REPLACE FUNCTION analytics.day_key(day date)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT pg_catalog.lpad((extract(year FROM $1) * 10000 + extract(month FROM $1) * 100 + extract(day FROM $1))::text, 8, '0') $$;
COMMENT ON FUNCTION analytics.day_key(date) IS 'A day as YYYYMMDD (to_char''s, from immutable parts), the suffix of its day partitions';

-- The name of the partition for a UTC day.
CREATE OR REPLACE FUNCTION analytics.partition_name(day date)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT 'usage_events_p' || analytics.day_key($1) $$;
COMMENT ON FUNCTION analytics.partition_name(date) IS 'Name of the usage_events partition that holds a UTC day';

-- Create the day partitions of [from_day, to_day] that do not exist yet,
-- moving any rows of those days out of the default partition.
CREATE OR REPLACE FUNCTION analytics.ensure_partitions(from_day date, to_day date)
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
    -- On Citus: the move out of the default partition and the ATTACH in one
    -- transaction, over one connection per node (a placeholder elsewhere).
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
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
        -- A tenant's events ingested since a watermark (every API call reads
        -- those of today and yesterday: analytics.read_raw_groups): one
        -- index descent to the tenant's newest events, where the BRIN index
        -- alone reads every tenant's events of the last minute.  The day's
        -- own, not the parent's: an upgrade gives it to the live days only,
        -- not to every old partition.
        EXECUTE format('CREATE INDEX %I ON analytics.%I (tenant_id, ingested_at)', part || '_tenant_ingested_idx', part);
        EXECUTE format('ALTER TABLE analytics.usage_events ATTACH PARTITION analytics.%I FOR VALUES FROM (%L) TO (%L)',
                       part, lo, hi);
        PERFORM analytics.copy_row_security('analytics.usage_events', format('analytics.%I', part)::regclass);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.ensure_partitions(date, date) IS
    'Creates the missing day partitions of usage_events for a range of UTC days, moving their rows out of the default partition; returns how many it created';

-- Premake partitions ahead and drain the default partition of the days in
-- the accepted window (analytics.raw_retention_days back, the premade days
-- ahead).  Rows of days outside it stay where they are: no number of
-- far-off days can make it create more than the window's partitions.
CREATE OR REPLACE FUNCTION analytics.maintain_partitions()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today   date := analytics.utc_today();
    ahead   integer := analytics.setting('partition_premake_days')::integer;
    oldest  date := today - analytics.setting('raw_retention_days')::integer;
    d       date;
    created integer;
BEGIN
    created := analytics.ensure_partitions(today, today + ahead);
    FOR d IN SELECT DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date FROM analytics.usage_events_default e
             WHERE e.occurred_at >= oldest::timestamp AT TIME ZONE 'UTC'
               AND e.occurred_at < (today + ahead + 1)::timestamp AT TIME ZONE 'UTC'
             ORDER BY 1 LOOP
        created := created + analytics.ensure_partitions(d, d);
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION analytics.maintain_partitions() IS
    'Creates day partitions from today to analytics.partition_premake_days ahead and moves rows of days within the accepted window (analytics.raw_retention_days back) out of the default partition; returns how many partitions it created';

-- Partitions of usage_events with the UTC day each holds.
CREATE OR REPLACE VIEW analytics.event_partitions AS
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
-------------------------------------------------------------------------------
-- Ingestion
-------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION analytics.record_events(events jsonb)
RETURNS bigint
AS 'MODULE_PATHNAME', 'analytics_record_events'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION analytics.record_events(jsonb) IS
    'Stores a JSON array of events (objects with the usage_events column names), all or nothing; returns the number of rows stored. A bad element (outside the accepted window, over a limit, an unregistered tenant, an agent of another tenant) is refused with an error whose detail names its index and field; unknown agents are registered and the days written are logged in analytics.changed_days';

