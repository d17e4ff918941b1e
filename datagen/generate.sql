-- datagen/generate.sql: a deterministic demo-data generator for analytics.
--
--   psql -f datagen/generate.sql          (creates schema analytics_datagen)
--   SELECT * FROM analytics_datagen.generate(events => 100000, days => 28);
--
-- The same arguments (seed, size, days, end day and the knobs below) give
-- the same rows, so the demo, the tests and the benchmarks share one data
-- set at any size (a thousand to ten million events); generate() inserts
-- exactly `events` rows.  Every draw is a hash of a row's number and the
-- seed (analytics_datagen.u), so no plan or row order changes the data.
--
-- It makes six tenants (enterprise, pro and free) with named agents that
-- take a skewed share of the traffic, end users per tenant (user-T-NNN,
-- Zipf-skewed activity), and events over `days` UTC days ending on
-- end_day, with a weekday and office-hours (UTC) rhythm and slow growth:
--
-- * Sessions (about trace_share of the events): a user of one tenant, one
--   `session` event at its start (attributes.channel), lasting about a
--   minute to an hour, with 1..n tasks spread over it.  Each task is an
--   `api_call` that starts it (POST /v1/agents/{id}/run or
--   /v1/workflows/{id}/run, 202) and then either one agent execution or, for workflow_share of the
--   tasks, a `workflow` run (workflow_id, workflow_type multi_agent,
--   rag_pipeline, code_review or data_sync, latency = duration) of 2..5
--   executions by different agents, one after the other; a failed
--   execution stops its workflow, which fails with its error_code.
-- * Agent executions: `agent_execution` (execution_id, latency = duration)
--   with their calls in sequence within that duration: llm, tool, llm, ...,
--   llm, so 0..n `tool_call`s (tool_name, mcp_server, per-tool latencies
--   and failure rates) and 1..n `llm_call`s (model by agent; input tokens
--   that grow along the execution, cached_input_tokens and
--   cache_write_tokens as the model's prompt cache reports them, output
--   tokens that follow the latency).  Every event of a session carries its
--   session_id and user_id; of an execution, its execution_id and agent_id;
--   of a workflow, its workflow_id.  An execution fails (failure_rate,
--   higher for free tiers and some agents) with timeout (it then lasts the
--   60 s limit, as does any execution that would have run longer),
--   rate_limited, upstream_error or invalid_input, its last call failing
--   with the same code; calls also fail now and then on their own (retried).
-- * The rest: `api_call`s (endpoints, methods, log-normal latencies with a
--   heavy tail, 2xx or a 4xx/5xx with a matching error_code on failure,
--   some pre-counted batches with count > 1), `token_issuance`s (some
--   failed, some batches) and `credential_rotation`s.

CREATE SCHEMA IF NOT EXISTS analytics_datagen;

-- n in at least width digits (lpad alone would cut longer numbers).
CREATE OR REPLACE FUNCTION analytics_datagen.pad(n bigint, width integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lpad(n::text, greatest(width, length(n::text)), '0') $$;
COMMENT ON FUNCTION analytics_datagen.pad(bigint, integer) IS 'n in at least width digits, zero-padded';

-- The demo tenants: fixed ids, names, tiers, shares of events, agent counts.
CREATE OR REPLACE FUNCTION analytics_datagen.tenants()
RETURNS TABLE (idx int, tenant_id uuid, name text, tier text, share float8, agents int)
LANGUAGE sql IMMUTABLE
AS $$
    SELECT t.idx, ('00000000-0000-4000-8000-' || lpad(t.idx::text, 12, '0'))::uuid,
           t.name, t.tier, t.share, t.agents
    FROM (VALUES (1, 'Acme Robotics',     'enterprise', 0.40, 24),
                 (2, 'Globex Assistants', 'pro',        0.22, 12),
                 (3, 'Initech Copilots',  'pro',        0.15, 10),
                 (4, 'Umbrella Labs',     'enterprise', 0.12,  8),
                 (5, 'Hooli Hobby',       'free',       0.07,  5),
                 (6, 'Pied Piper Free',   'free',       0.04,  3)) AS t(idx, name, tier, share, agents)
$$;
COMMENT ON FUNCTION analytics_datagen.tenants() IS 'The demo tenants with fixed ids (00000000-0000-4000-8000-00000000000N)';

-- The demo agents: fixed ids per (tenant, agent number), readable names.
CREATE OR REPLACE FUNCTION analytics_datagen.agents()
RETURNS TABLE (tenant_idx int, agent_idx int, agent_id uuid, tenant_id uuid, name text, weight float8)
LANGUAGE sql IMMUTABLE
AS $$
    SELECT t.idx, a.j,
           ('00000000-0000-4000-9' || lpad(t.idx::text, 3, '0') || '-' || lpad(a.j::text, 12, '0'))::uuid,
           t.tenant_id,
           (ARRAY['support-bot', 'code-reviewer', 'sales-assistant', 'data-analyst', 'scheduler',
                  'researcher', 'triage', 'billing-helper'])[1 + (a.j - 1) % 8]
               || '-' || lpad(((a.j - 1) / 8 + 1)::text, 2, '0'),
           1.0 / power(a.j, 0.8)
    FROM analytics_datagen.tenants() t
    CROSS JOIN LATERAL generate_series(1, t.agents) AS a(j)
$$;
COMMENT ON FUNCTION analytics_datagen.agents() IS 'The demo agents: ids 00000000-0000-4000-9TTT-00000000000A for tenant T, agent A';

-- The end users: tenant T has its share of `total` (at least 3), user j
-- active with probability ln((j + 1) / j) / ln(n + 1) (Zipf, exponent 1).
CREATE OR REPLACE FUNCTION analytics_datagen.users(total integer DEFAULT 1000)
RETURNS TABLE (tenant_idx int, user_idx int, user_id text, tenant_id uuid, weight float8)
LANGUAGE sql IMMUTABLE
AS $$
    SELECT t.idx, j, 'user-' || t.idx || '-' || analytics_datagen.pad(j, 3), t.tenant_id,
           ln((j + 1.0) / j) / ln(n + 1.0)
    FROM analytics_datagen.tenants() t
    CROSS JOIN LATERAL (SELECT greatest(3, round(total * t.share))::int AS n) c
    CROSS JOIN LATERAL generate_series(1, c.n) AS j
$$;
COMMENT ON FUNCTION analytics_datagen.users(integer) IS 'The demo end users of each tenant (user-T-NNN) and their share of the tenant''s sessions';

-- A uniform draw in [0, 1) from a row number and a stream (52 bits of a hash).
CREATE OR REPLACE FUNCTION analytics_datagen.u(k bigint, stream bigint)
RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT (hashint8extended(k, stream) & 4503599627370495)::float8 / 4503599627370496.0 $$;
COMMENT ON FUNCTION analytics_datagen.u(bigint, bigint) IS 'A uniform draw in [0, 1): a hash of row number k in stream stream';

-- A standard normal draw (Box-Muller over two uniform draws).
CREATE OR REPLACE FUNCTION analytics_datagen.z(k bigint, stream bigint)
RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT sqrt(-2.0 * ln(1.0 - analytics_datagen.u(k, stream)))
         * cos(2.0 * pi() * analytics_datagen.u(k, stream # 6148914691236517205))
$$;
COMMENT ON FUNCTION analytics_datagen.z(bigint, bigint) IS 'A standard normal draw: row number k in stream stream';

-- The tool of a tool call (index into the tool tables of generate): a
-- workflow's own tool (sig) half the time, else by the tools' weights.
CREATE OR REPLACE FUNCTION analytics_datagen.tool_pick(k bigint, stream bigint, sig integer)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN sig IS NOT NULL AND analytics_datagen.u(k, stream) < 0.5 THEN sig
                ELSE width_bucket(analytics_datagen.u(k, stream # 1),
                                  ARRAY[0.22, 0.38, 0.46, 0.62, 0.70, 0.78, 0.90]::float8[]) + 1 END
$$;
COMMENT ON FUNCTION analytics_datagen.tool_pick(bigint, bigint, integer) IS 'The tool of a generated tool call (1..8)';

-- generate() used to take four arguments: drop an older copy, which would
-- make calls with four or fewer arguments ambiguous.
DO $$
BEGIN
    IF to_regprocedure('analytics_datagen.generate(bigint, integer, date, double precision)') IS NOT NULL THEN
        DROP FUNCTION analytics_datagen.generate(bigint, integer, date, double precision);
    END IF;
END
$$;

-- Generate exactly `events` events ending on end_day (UTC), over days days.
CREATE OR REPLACE FUNCTION analytics_datagen.generate(
    events         bigint,
    days           integer DEFAULT 28,
    end_day        date    DEFAULT (now() AT TIME ZONE 'UTC')::date,
    seed           float8  DEFAULT 0.42,
    trace_share    float8  DEFAULT 0.45,
    workflow_share float8  DEFAULT 0.15,
    failure_rate   float8  DEFAULT 0.025,
    users          integer DEFAULT 1000)
RETURNS TABLE (tenants bigint, agents bigint, events_inserted bigint)
LANGUAGE plpgsql VOLATILE
-- (generate_series over columns is estimated at 1000 rows a call: the
-- estimates are far too high and JIT would take minutes to compile)
SET jit = off
AS $$
DECLARE
    first_day date := end_day - (days - 1);
    end_ts    timestamptz := (end_day + 1)::timestamp AT TIME ZONE 'UTC';
    -- the salt of every draw, and the run's tag in ids
    salt      bigint;
    tag       text;
    budget    bigint;           -- events the sessions may take
    cand      bigint;           -- candidate sessions
    used      bigint;           -- events the kept sessions take
    n_flat    bigint;
    n_tenants bigint;
    n_agents  bigint;
    n         bigint;
    total     bigint := 0;
    -- the workflow types, and the tool each favours
    wf_types  text[] := ARRAY['multi_agent', 'rag_pipeline', 'code_review', 'data_sync'];
    wf_tool   int[]  := ARRAY[1, 7, 8, 2];
    -- tools: name, MCP server, share of the tool step's time, failure rate
    tools     text[] := ARRAY['web_search', 'sql_query', 'send_email', 'read_file', 'create_ticket',
                              'calendar_lookup', 'vector_search', 'git_diff'];
    servers   text[] := ARRAY['mcp-core', 'mcp-data', 'mcp-workspace', 'mcp-core', 'mcp-workspace',
                              'mcp-workspace', 'mcp-data', 'mcp-code'];
    tool_time float8[] := ARRAY[1.0, 0.7, 0.5, 0.25, 0.5, 0.35, 0.55, 0.4];
    tool_fail float8[] := ARRAY[0.05, 0.04, 0.015, 0.02, 0.01, 0.01, 0.02, 0.01];
    tool_err  text[] := ARRAY['timeout', 'invalid_input', 'upstream_error', 'not_found', 'upstream_error',
                              'timeout', 'timeout', 'not_found'];
    models    text[] := ARRAY['gpt-4o', 'claude-sonnet-4', 'gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4',
                              'llama-3.1-70b', 'gpt-4o-mini', 'claude-sonnet-4'];
    timeout_ms float8 := 60000;
BEGIN
    IF events < 0 OR days < 1 OR days > 3660 THEN
        RAISE EXCEPTION 'events must be >= 0 and days in 1..3660' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (trace_share BETWEEN 0 AND 1 AND workflow_share BETWEEN 0 AND 1 AND failure_rate BETWEEN 0 AND 0.5
            AND users BETWEEN 1 AND 1000000) THEN
        RAISE EXCEPTION 'trace_share and workflow_share must be in 0..1, failure_rate in 0..0.5, users in 1..1000000'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The draws depend on the seed, the size and the number of days, not on
    -- the end day: the rows then depend only on its weekday (apart from the
    -- tag), as tools/faketime.sh expects.  The tag in the ids changes with
    -- the end day and the knobs too, so that the ids of two data sets in one
    -- database differ.  (Hashes of the values, not of their text, which
    -- depends on settings.)
    salt := hashint8extended(days, hashint8extended(events, hashfloat8extended(seed, 0)));
    tag := lpad(to_hex(hashfloat8extended(trace_share, hashfloat8extended(workflow_share,
                         hashfloat8extended(failure_rate, hashint8extended(users,
                         hashint8extended(end_day - date '2000-01-01', salt))))) & 16777215), 6, '0');
    budget := floor(events * trace_share);
    -- a session takes about 23 events: make enough candidates, keep a random
    -- subset that fits the budget (the rest of the events are the others)
    cand := CASE WHEN budget = 0 THEN 0 ELSE ceil(budget / 23.0 * 1.3)::bigint + 3 END;

    PERFORM analytics.upsert_tenant(t.tenant_id, t.name, t.tier) FROM analytics_datagen.tenants() t;
    PERFORM analytics.upsert_agent(a.agent_id, a.tenant_id, a.name) FROM analytics_datagen.agents() a;
    PERFORM analytics.ensure_partitions(first_day, end_day);
    SELECT count(*) INTO n_tenants FROM analytics_datagen.tenants();
    SELECT count(*) INTO n_agents FROM analytics_datagen.agents();

    -- (a second call in the same transaction: its temporary tables are still there)
    IF to_regclass('pg_temp.datagen_slots') IS NOT NULL THEN
        DROP TABLE datagen_slots, datagen_tenants, datagen_agents, datagen_sessions, datagen_tasks,
                   datagen_execs, datagen_task_sums, datagen_keep;
    END IF;

    -- Hour slots weighted by weekday and UTC office hours, with slow growth;
    -- c0..c1 is the slot's part of the cumulative weight, so each slot gets
    -- its exact share of sessions and of the other events (cumulative
    -- rounding), and numbered rows follow time.
    CREATE TEMP TABLE datagen_slots ON COMMIT DROP AS
    WITH s AS (
        SELECT d::date + make_interval(hours => h) AS slot_start,
               (CASE extract(isodow FROM d) WHEN 6 THEN 0.35 WHEN 7 THEN 0.25 ELSE 1.0 END)
             * (CASE WHEN h BETWEEN 9 AND 11 OR h BETWEEN 13 AND 16 THEN 1.0
                     WHEN h = 12 THEN 0.8
                     WHEN h IN (7, 8, 17, 18) THEN 0.55
                     WHEN h BETWEEN 19 AND 22 THEN 0.3
                     ELSE 0.12 END)
             * (1.0 + 0.3 * (d::date - first_day) / greatest(days, 1)) AS w
        FROM generate_series(first_day, end_day, interval '1 day') d
        CROSS JOIN generate_series(0, 23) h
    ), c AS (
        SELECT slot_start, sum(w) OVER (ORDER BY slot_start) AS cum, sum(w) OVER () AS wsum, w
        FROM s
    )
    SELECT slot_start AT TIME ZONE 'UTC' AS slot_start, (cum - w) / wsum AS c0, cum / wsum AS c1
    FROM c ORDER BY slot_start;

    CREATE TEMP TABLE datagen_agents ON COMMIT DROP AS SELECT * FROM analytics_datagen.agents();
    CREATE TEMP TABLE datagen_tenants ON COMMIT DROP AS
    SELECT t.idx, t.tenant_id, t.tier, t.agents AS n_agents,
           greatest(3, round(users * t.share))::int AS n_users,
           CASE t.tier WHEN 'free' THEN 1.6 WHEN 'pro' THEN 1.2 ELSE 1.0 END AS fail_factor,
           (SELECT array_agg(c ORDER BY agent_idx)
            FROM (SELECT a.agent_idx, sum(a.weight) OVER (ORDER BY a.agent_idx) / sum(a.weight) OVER () AS c
                  FROM datagen_agents a WHERE a.tenant_idx = t.idx) x) AS agent_cum,
           (SELECT array_agg(a.agent_id ORDER BY a.agent_idx) FROM datagen_agents a WHERE a.tenant_idx = t.idx) AS agent_ids
    FROM analytics_datagen.tenants() t;

    ---------------------------------------------------------------------------
    -- Sessions (candidates): tenant, user, start, length, number of tasks.
    -- A session starts at least 8 minutes before the end of end_day and its
    -- last task at least 6 minutes before it, so that the task (a workflow
    -- takes at most about 5 minutes) ends within end_day.
    CREATE TEMP TABLE datagen_sessions ON COMMIT DROP AS
    SELECT s.sid, s.tenant_idx, s.user_idx, s.start_at, d.dur_s, least(d.dur_s / 2, g.gap_s) AS gap_s,
           least(20, 1 + floor(-ln(1.0 - analytics_datagen.u(s.sid, salt # 5)) * 2.2))::int AS n_tasks,
           analytics_datagen.u(s.sid, salt # 6) AS prio,
           (ARRAY['web', 'web', 'web', 'slack', 'api', 'ide'])[1 + floor(analytics_datagen.u(s.sid, salt # 7) * 6)::int] AS channel
    FROM (
        SELECT k.sid,
               width_bucket(analytics_datagen.u(k.sid, salt # 1), ARRAY[0.40, 0.62, 0.77, 0.89, 0.96]::float8[]) + 1 AS tenant_idx,
               analytics_datagen.u(k.sid, salt # 2) AS u_user,
               CASE WHEN st > end_ts - interval '8 minutes' THEN st - interval '8 minutes' ELSE st END AS start_at
        FROM (SELECT floor(cand * sl.c0)::bigint + g AS sid,
                     sl.slot_start + analytics_datagen.u(floor(cand * sl.c0)::bigint + g, salt # 3) * interval '1 hour' AS st
              FROM datagen_slots sl
              CROSS JOIN LATERAL generate_series(1, (floor(cand * sl.c1) - floor(cand * sl.c0))::bigint) g
              OFFSET 0) k
        OFFSET 0
    ) s0
    CROSS JOIN LATERAL (SELECT s0.sid, s0.tenant_idx, s0.start_at,
                               least(tn.n_users, floor(power(tn.n_users + 1.0, s0.u_user)))::int AS user_idx
                        FROM datagen_tenants tn WHERE tn.idx = s0.tenant_idx) s
    CROSS JOIN LATERAL (SELECT greatest(120.0, least(3600.0, exp(ln(900.0) + 0.9 * analytics_datagen.z(s.sid, salt # 4)),
                                                     extract(epoch FROM end_ts - s.start_at) - 360)) AS dur_s) d
    CROSS JOIN LATERAL (SELECT least(300.0, exp(ln(45.0) + 0.7 * analytics_datagen.z(s.sid, salt # 8))) AS gap_s) g;

    -- Tasks: one execution, or a workflow run of several.
    CREATE TEMP TABLE datagen_tasks ON COMMIT DROP AS
    SELECT x.sid, x.t, x.tk, x.tenant_idx, x.user_idx, x.wf,
           CASE WHEN x.wf IS NULL THEN 1
                ELSE least(tn.n_agents,
                           (ARRAY[3, 2, 2, 2])[x.wf] + floor(analytics_datagen.u(x.tk, salt # 12) * (ARRAY[3, 2, 3, 2])[x.wf])::int)
           END AS n_exec,
           x.start_at + make_interval(secs => x.off_s) AS task_at
    FROM (
        SELECT s.sid, t, s.sid * 32 + t AS tk, s.tenant_idx, s.user_idx, s.start_at,
               CASE WHEN analytics_datagen.u(s.sid * 32 + t, salt # 10) < workflow_share
                    THEN width_bucket(analytics_datagen.u(s.sid * 32 + t, salt # 11), ARRAY[0.35, 0.65, 0.85]::float8[]) + 1 END AS wf,
               CASE WHEN t = 1 THEN s.gap_s
                    ELSE s.gap_s + (s.dur_s - s.gap_s)
                         * least(1.0, ((t - 1) + 0.6 * (analytics_datagen.u(s.sid * 32 + t, salt # 13) - 0.5)) / (s.n_tasks - 1))
               END AS off_s
        FROM datagen_sessions s
        CROSS JOIN LATERAL generate_series(1, s.n_tasks) t
        OFFSET 0
    ) x
    JOIN datagen_tenants tn ON tn.idx = x.tenant_idx;

    ---------------------------------------------------------------------------
    -- Executions.  An execution's calls j = 1..c alternate llm (odd j) and
    -- tool (even j); an llm step takes about l_ms, a tool step w_ms, with
    -- 15 ms between steps, so call j starts at
    -- off(j) = 15 j + l_ms floor(j/2) + w_ms floor((j-1)/2) after the
    -- execution.  k tool calls and k + 1 llm calls when it succeeds; a
    -- failure ends it at its failing call; the 60 s limit ends it with a
    -- timeout.
    CREATE TEMP TABLE datagen_execs ON COMMIT DROP AS
    -- (each level ends with OFFSET 0: flattened, every column's expression
    -- would be copied into each of its uses, level after level)
    WITH x AS (
        SELECT row_number() OVER (ORDER BY t.tk, i) AS eid, t.sid, t.t, t.tk, t.tenant_idx, t.user_idx, t.wf,
               t.n_exec, t.task_at, i
        FROM datagen_tasks t
        CROSS JOIN LATERAL generate_series(1, t.n_exec) i
    ), d AS (
        SELECT x.*,
               -- a workflow's agents are consecutive agents after one drawn by weight
               CASE WHEN x.wf IS NULL
                    THEN least(width_bucket(analytics_datagen.u(x.eid, salt # 20), tn.agent_cum) + 1, tn.n_agents)
                    ELSE (least(width_bucket(analytics_datagen.u(x.tk, salt # 21), tn.agent_cum) + 1, tn.n_agents) - 1 + x.i - 1)
                         % tn.n_agents + 1 END AS agent_idx,
               least(12, floor(-ln(1.0 - analytics_datagen.u(x.eid, salt # 22)) * 2.2))::int AS k,
               exp(ln(2400.0) + 0.45 * analytics_datagen.z(x.eid, salt # 23))
                 * CASE WHEN analytics_datagen.u(x.eid, salt # 24) < 0.01
                        THEN least(20.0, power(1.0 - analytics_datagen.u(x.eid, salt # 25), -1.0 / 1.5)) ELSE 1.0 END AS l_ms,
               exp(ln(250.0) + 0.8 * analytics_datagen.z(x.eid, salt # 26)) AS w_ms,
               analytics_datagen.u(x.eid, salt # 27) AS u_fail,
               analytics_datagen.u(x.eid, salt # 28) AS u_code,
               analytics_datagen.u(x.eid, salt # 29) AS u_last,
               tn.fail_factor, tn.agent_ids
        FROM x JOIN datagen_tenants tn ON tn.idx = x.tenant_idx
        OFFSET 0
    ), d2 AS (
        -- the natural duration, and the pairs of steps done by the time limit
        SELECT d.*, 15.0 * (2 * d.k + 2) + d.l_ms * (d.k + 1) + d.w_ms * d.k AS d0,
               floor((timeout_ms - 15.0) / (d.l_ms + d.w_ms + 30.0))::int AS p
        FROM d OFFSET 0
    ), e AS (
        SELECT d2.*,
               CASE WHEN d2.d0 > timeout_ms THEN 'timeout'
                    WHEN d2.u_fail < failure_rate * d2.fail_factor * (0.6 + 0.3 * (d2.agent_idx % 4)) THEN
                        (ARRAY['timeout', 'rate_limited', 'upstream_error', 'invalid_input'])
                            [width_bucket(d2.u_code, ARRAY[0.35, 0.57, 0.85]::float8[]) + 1]
               END AS error_code
        FROM d2 OFFSET 0
    ), f AS (
        -- the number of calls: up to the one running at the time limit, or
        -- to the failing one
        SELECT e.*,
               CASE WHEN e.d0 > timeout_ms
                        THEN CASE WHEN timeout_ms - (15.0 + e.p * (e.l_ms + e.w_ms + 30.0)) < e.l_ms + 15.0
                                  THEN 2 * e.p + 1 ELSE 2 * e.p + 2 END
                    WHEN e.error_code = 'upstream_error' THEN CASE WHEN e.k >= 1 THEN 2 * e.k ELSE 1 END
                    WHEN e.error_code = 'invalid_input' THEN 1
                    ELSE 2 * e.k + 1 END AS c
        FROM e OFFSET 0
    ), g AS (
        -- the start of the last call, and its latency when it fails
        SELECT f.*, 15.0 * f.c + f.l_ms * (f.c / 2) + f.w_ms * ((f.c - 1) / 2) AS off_c,
               CASE WHEN f.c % 2 = 1 THEN f.l_ms ELSE f.w_ms END AS slot_c
        FROM f OFFSET 0
    ), h AS (
        SELECT g.*,
               CASE WHEN g.error_code = 'timeout' THEN timeout_ms - g.off_c
                    WHEN g.error_code IN ('rate_limited', 'invalid_input') THEN g.slot_c * 0.1 * (0.5 + g.u_last)
                    WHEN g.error_code = 'upstream_error' THEN g.slot_c * (0.3 + 0.6 * g.u_last)
               END AS lat_last
        FROM g OFFSET 0
    ), h2 AS (
        SELECT h.*,
               CASE WHEN h.error_code = 'timeout' THEN timeout_ms + 5.0 + 20.0 * h.u_last
                    WHEN h.error_code IS NOT NULL THEN h.off_c + h.lat_last + 15.0
                    ELSE h.d0 END AS dur_ms
        FROM h OFFSET 0
    )
    -- In a workflow the executions run one after the other (40 ms apart)
    -- until one fails.
    SELECT h.eid, h.sid, h.t, h.tk, h.tenant_idx, h.user_idx, h.wf, h.i, h.agent_idx, h.agent_ids[h.agent_idx] AS agent_id,
           h.k, h.c, h.l_ms, h.w_ms, h.error_code, h.lat_last, h.dur_ms,
           h.task_at + make_interval(secs => (50.0 + coalesce(sum(h.dur_ms + 40.0) OVER w, 0)) / 1000.0) AS start_at,
           coalesce(bool_or(h.error_code IS NOT NULL) OVER w, false) AS after_failure,
           models[1 + (h.tenant_idx * 3 + h.agent_idx) % 8] AS model,
           round(exp(ln(1400.0) + 0.35 * analytics_datagen.z(h.eid, salt # 30)))::bigint AS sys_tokens,
           round(exp(ln(150.0) + 0.8 * analytics_datagen.z(h.eid, salt # 31)))::bigint AS user_tokens,
           round(exp(ln(700.0) + 0.6 * analytics_datagen.z(h.eid, salt # 32)))::bigint AS step_tokens,
           -- the prompt cache is warm after the session's first execution
           (h.t > 1 OR h.i > 1) AND analytics_datagen.u(h.eid, salt # 33) < 0.8 AS warm
    FROM h2 h
    WINDOW w AS (PARTITION BY h.tk ORDER BY h.i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING);
    DELETE FROM datagen_execs WHERE after_failure;
    ANALYZE datagen_sessions, datagen_tasks, datagen_execs;

    -- Tasks' events: the api call, the workflow's own event, the executions
    -- with their calls.
    CREATE TEMP TABLE datagen_task_sums ON COMMIT DROP AS
    SELECT e.tk, min(e.sid) AS sid,
           1 + CASE WHEN min(e.wf) IS NOT NULL THEN 1 ELSE 0 END + sum(1 + e.c) AS n_events,
           45.0 + sum(e.dur_ms) + 40.0 * (count(*) - 1) AS wf_ms,
           max(e.error_code) AS error_code
    FROM datagen_execs e
    GROUP BY e.tk;

    -- Keep the sessions, in a random order, while their events fit the budget.
    CREATE TEMP TABLE datagen_keep ON COMMIT DROP AS
    SELECT sid FROM (
        SELECT s.sid, sum(1 + coalesce(ts.n, 0)) OVER (ORDER BY s.prio, s.sid) AS cum
        FROM datagen_sessions s
        LEFT JOIN (SELECT sid, sum(n_events) AS n FROM datagen_task_sums GROUP BY sid) ts ON ts.sid = s.sid
    ) c
    WHERE c.cum <= budget;
    ANALYZE datagen_keep;
    SELECT coalesce(sum(1 + coalesce(ts.n, 0)), 0) INTO used
    FROM datagen_keep k
    LEFT JOIN (SELECT sid, sum(n_events) AS n FROM datagen_task_sums GROUP BY sid) ts ON ts.sid = k.sid;
    n_flat := events - used;

    ---------------------------------------------------------------------------
    -- Session events.
    INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, user_id, session_id, attributes)
    SELECT tn.tenant_id, s.start_at, 'session', 'user-' || s.tenant_idx || '-' || analytics_datagen.pad(s.user_idx, 3),
           'sess-' || tag || '-' || analytics_datagen.pad(s.sid, 7), jsonb_build_object('channel', s.channel)
    FROM datagen_sessions s
    JOIN datagen_keep USING (sid)
    JOIN datagen_tenants tn ON tn.idx = s.tenant_idx;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    -- The api call that starts each task.
    INSERT INTO analytics.usage_events
        (tenant_id, agent_id, occurred_at, event_type, endpoint, method, status_code, latency_ms, user_id, session_id, workflow_id)
    SELECT tn.tenant_id, CASE WHEN t.wf IS NULL THEN e.agent_id END, t.task_at, 'api_call',
           CASE WHEN t.wf IS NULL THEN '/v1/agents/{id}/run' ELSE '/v1/workflows/{id}/run' END, 'POST', 202,
           round(exp(ln(30.0) + 0.5 * analytics_datagen.z(t.tk, salt # 40))::numeric, 3)::float8,
           'user-' || t.tenant_idx || '-' || analytics_datagen.pad(t.user_idx, 3),
           'sess-' || tag || '-' || analytics_datagen.pad(t.sid, 7),
           CASE WHEN t.wf IS NOT NULL THEN 'wf-' || tag || '-' || analytics_datagen.pad(t.tk, 9) END
    FROM datagen_tasks t
    JOIN datagen_keep USING (sid)
    JOIN datagen_tenants tn ON tn.idx = t.tenant_idx
    JOIN datagen_execs e ON e.tk = t.tk AND e.i = 1;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    -- Workflow runs.
    INSERT INTO analytics.usage_events
        (tenant_id, occurred_at, event_type, success, latency_ms, user_id, session_id, workflow_id, workflow_type, error_code)
    SELECT tn.tenant_id, t.task_at + interval '30 milliseconds', 'workflow', ts.error_code IS NULL,
           round(ts.wf_ms::numeric, 3)::float8,
           'user-' || t.tenant_idx || '-' || analytics_datagen.pad(t.user_idx, 3),
           'sess-' || tag || '-' || analytics_datagen.pad(t.sid, 7),
           'wf-' || tag || '-' || analytics_datagen.pad(t.tk, 9), wf_types[t.wf], ts.error_code
    FROM datagen_tasks t
    JOIN datagen_keep USING (sid)
    JOIN datagen_tenants tn ON tn.idx = t.tenant_idx
    JOIN datagen_task_sums ts ON ts.tk = t.tk
    WHERE t.wf IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    -- Executions.
    INSERT INTO analytics.usage_events
        (tenant_id, agent_id, occurred_at, event_type, success, latency_ms, user_id, session_id, workflow_id,
         execution_id, error_code)
    SELECT tn.tenant_id, e.agent_id, e.start_at, 'agent_execution', e.error_code IS NULL, round(e.dur_ms::numeric, 3)::float8,
           'user-' || e.tenant_idx || '-' || analytics_datagen.pad(e.user_idx, 3),
           'sess-' || tag || '-' || analytics_datagen.pad(e.sid, 7),
           CASE WHEN e.wf IS NOT NULL THEN 'wf-' || tag || '-' || analytics_datagen.pad(e.tk, 9) END,
           'exec-' || tag || '-' || analytics_datagen.pad(e.eid, 8), e.error_code
    FROM datagen_execs e
    JOIN datagen_keep USING (sid)
    JOIN datagen_tenants tn ON tn.idx = e.tenant_idx;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    -- Their llm and tool calls (draws keyed by eid * 64 + j).  The last call
    -- of a failed execution fails with its code; other calls fail now and
    -- then on their own (the agent retries).  Tokens: the system prompt, the
    -- user's message, then about step_tokens more per step; the prompt cache
    -- holds the prefix of the previous call (Claude: reads and writes;
    -- OpenAI: reads of 1024 tokens or more, in steps of 128; Llama: none).
    INSERT INTO analytics.usage_events
        (tenant_id, agent_id, occurred_at, event_type, success, tool_name, mcp_server, model, input_tokens,
         output_tokens, cached_input_tokens, cache_write_tokens, latency_ms, user_id, session_id, workflow_id,
         execution_id, error_code)
    SELECT c.tenant_id, c.agent_id, c.at, CASE WHEN c.is_llm THEN 'llm_call' ELSE 'tool_call' END,
           c.err IS NULL,
           CASE WHEN NOT c.is_llm THEN tools[c.tool] WHEN c.for_tool THEN tools[c.prev_tool] END,
           CASE WHEN NOT c.is_llm THEN CASE WHEN c.tool = 4 AND c.u_srv < 0.5 THEN 'mcp-workspace' ELSE servers[c.tool] END
                WHEN c.for_tool THEN servers[c.prev_tool] END,
           c.model,
           c.input_tokens,
           CASE WHEN c.is_llm THEN CASE WHEN c.err IS NOT NULL THEN 0
                                        ELSE greatest(5, round((c.lat * (0.85 + 0.3 * c.u_out) - 300.0)
                                                               / CASE c.model WHEN 'gpt-4o-mini' THEN 7.0 WHEN 'gpt-4o' THEN 12.0
                                                                              WHEN 'llama-3.1-70b' THEN 10.0 ELSE 14.0 END))::bigint END END,
           CASE WHEN c.is_llm AND c.err IS NULL THEN
                CASE WHEN c.model = 'claude-sonnet-4' THEN c.prefix
                     WHEN c.model LIKE 'gpt-%' THEN CASE WHEN c.prefix >= 1024 THEN c.prefix / 128 * 128 ELSE 0 END END END,
           CASE WHEN c.is_llm AND c.err IS NULL AND c.model = 'claude-sonnet-4' THEN
                CASE WHEN c.step = 1 THEN c.user_tokens + CASE WHEN c.warm THEN 0 ELSE c.sys_tokens END ELSE c.step_tokens END END,
           round(c.lat::numeric, 3)::float8,
           c.user_id, c.session_id, c.workflow_id, c.execution_id, c.err
    FROM (
        SELECT b.*,
               CASE WHEN b.is_llm THEN b.sys_tokens + b.user_tokens + (b.step - 1) * b.step_tokens
                                       + floor(40 * analytics_datagen.u(b.ck, salt # 55))::bigint END AS input_tokens,
               CASE WHEN b.step = 1 THEN CASE WHEN b.warm THEN b.sys_tokens ELSE 0 END
                    ELSE b.sys_tokens + b.user_tokens + (b.step - 2) * b.step_tokens END AS prefix,
               b.is_llm AND b.j >= 3 AND b.prev_tool IN (1, 7) AND analytics_datagen.u(b.ck, salt # 56) < 0.3 AS for_tool,
               CASE WHEN b.last AND b.error_code IS NOT NULL THEN b.lat_last
                    WHEN b.is_llm THEN b.l_ms * (0.55 + 0.45 * b.u_lat) * CASE WHEN b.model = 'gpt-4o-mini' THEN 0.6 ELSE 1.0 END
                    ELSE b.w_ms * (0.55 + 0.45 * b.u_lat) * tool_time[b.tool] END AS lat,
               CASE WHEN b.last THEN b.error_code
                    WHEN b.is_llm AND b.u_fail < 0.006 THEN CASE WHEN b.u_fail < 0.003 THEN 'rate_limited' ELSE 'upstream_error' END
                    WHEN NOT b.is_llm AND b.u_fail < tool_fail[b.tool] THEN tool_err[b.tool] END AS err
        FROM (
            SELECT tn.tenant_id, e.agent_id, e.k, e.l_ms, e.w_ms, e.error_code, e.lat_last, e.sys_tokens, e.user_tokens,
                   e.step_tokens, e.warm, j, e.eid * 64 + j AS ck, j % 2 = 1 AS is_llm, (j + 1) / 2 AS step, j = e.c AS last,
                   e.start_at + make_interval(secs => (15.0 * j + e.l_ms * (j / 2) + e.w_ms * ((j - 1) / 2)) / 1000.0) AS at,
                   CASE WHEN j % 2 = 0 THEN analytics_datagen.tool_pick(e.eid * 64 + j, salt # 50, wf_tool[e.wf]) END AS tool,
                   CASE WHEN j % 2 = 1 AND j >= 3 THEN analytics_datagen.tool_pick(e.eid * 64 + j - 1, salt # 50, wf_tool[e.wf]) END AS prev_tool,
                   CASE WHEN j % 2 = 1 THEN
                        CASE WHEN j > 1 AND analytics_datagen.u(e.eid * 64 + j, salt # 51) < 0.12 THEN 'gpt-4o-mini' ELSE e.model END
                   END AS model,
                   analytics_datagen.u(e.eid * 64 + j, salt # 52) AS u_lat,
                   analytics_datagen.u(e.eid * 64 + j, salt # 53) AS u_fail,
                   analytics_datagen.u(e.eid * 64 + j, salt # 54) AS u_out,
                   analytics_datagen.u(e.eid * 64 + j, salt # 57) AS u_srv,
                   'user-' || e.tenant_idx || '-' || analytics_datagen.pad(e.user_idx, 3) AS user_id,
                   'sess-' || tag || '-' || analytics_datagen.pad(e.sid, 7) AS session_id,
                   CASE WHEN e.wf IS NOT NULL THEN 'wf-' || tag || '-' || analytics_datagen.pad(e.tk, 9) END AS workflow_id,
                   'exec-' || tag || '-' || analytics_datagen.pad(e.eid, 8) AS execution_id
            FROM datagen_execs e
            JOIN datagen_keep USING (sid)
            JOIN datagen_tenants tn ON tn.idx = e.tenant_idx
            CROSS JOIN LATERAL generate_series(1, e.c) j
            OFFSET 0
        ) b
        OFFSET 0
    ) c;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    ---------------------------------------------------------------------------
    -- The other events: api calls, token issuances, credential rotations,
    -- each slot its share of them; draws keyed by the event's number.
    INSERT INTO analytics.usage_events
        (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
         latency_ms, user_id, error_code)
    SELECT tn.tenant_id,
           CASE WHEN r.u_noagent < 0.03 THEN NULL
                ELSE tn.agent_ids[least(width_bucket(r.u_agent, tn.agent_cum) + 1, tn.n_agents)] END,
           r.ts, r.etype, NOT r.failed,
           CASE WHEN r.etype = 'api_call' AND r.u_count < 0.02 THEN 2 + floor(r.u_count * 900)::int
                WHEN r.etype = 'token_issuance' AND r.u_count < 0.01 THEN 2 + floor(r.u_count * 4000)::int
                ELSE 1 END,
           CASE WHEN r.etype = 'api_call' THEN ep.endpoint END,
           CASE WHEN r.etype = 'api_call' THEN ep.method END,
           CASE WHEN r.etype = 'api_call' THEN CASE WHEN r.failed THEN er.status ELSE ep.ok END END,
           CASE WHEN r.etype = 'credential_rotation' THEN NULL
                ELSE round((exp(CASE r.etype WHEN 'api_call' THEN 3.8 ELSE 2.1 END + 0.6 * r.z1)
                            * CASE WHEN r.u_tail < 0.01 THEN least(50.0, power(1.0 - r.u_tail2, -1.0 / 1.5)) ELSE 1.0 END)::numeric, 3)::float8
           END,
           CASE WHEN r.etype <> 'credential_rotation' AND r.u_hasuser < 0.85
                THEN 'user-' || r.tenant_idx || '-' || analytics_datagen.pad(least(tn.n_users, floor(power(tn.n_users + 1.0, r.u_user)))::bigint, 3) END,
           CASE WHEN r.failed THEN
                CASE WHEN r.etype = 'api_call' THEN er.code
                     ELSE (ARRAY['invalid_credentials', 'invalid_credentials', 'rate_limited', 'expired_token'])[1 + floor(r.u_err * 4)::int] END END
    FROM (
        SELECT g.*,
               CASE WHEN g.etype = 'token_issuance' THEN g.u_fail < 0.04
                    WHEN g.etype = 'api_call' THEN g.u_fail < 0.02
                    ELSE false END AS failed
        FROM (
            SELECT f.k, f.ts,
                   width_bucket(analytics_datagen.u(f.k, salt # 101), ARRAY[0.40, 0.62, 0.77, 0.89, 0.96]::float8[]) + 1 AS tenant_idx,
                   (ARRAY['api_call', 'token_issuance', 'credential_rotation'])
                       [width_bucket(analytics_datagen.u(f.k, salt # 102), ARRAY[0.82, 0.99]::float8[]) + 1] AS etype,
                   analytics_datagen.u(f.k, salt # 103) AS u_agent,
                   analytics_datagen.u(f.k, salt # 104) AS u_fail,
                   analytics_datagen.z(f.k, salt # 105) AS z1,
                   analytics_datagen.u(f.k, salt # 106) AS u_tail,
                   analytics_datagen.u(f.k, salt # 107) AS u_tail2,
                   analytics_datagen.u(f.k, salt # 108) AS u_ep,
                   analytics_datagen.u(f.k, salt # 109) AS u_err,
                   analytics_datagen.u(f.k, salt # 110) AS u_user,
                   analytics_datagen.u(f.k, salt # 111) AS u_hasuser,
                   analytics_datagen.u(f.k, salt # 112) AS u_count,
                   analytics_datagen.u(f.k, salt # 113) AS u_noagent
            FROM (SELECT floor(n_flat * sl.c0)::bigint + g AS k,
                         sl.slot_start + analytics_datagen.u(floor(n_flat * sl.c0)::bigint + g, salt # 100) * interval '1 hour' AS ts
                  FROM datagen_slots sl
                  CROSS JOIN LATERAL generate_series(1, (floor(n_flat * sl.c1) - floor(n_flat * sl.c0))::bigint) g) f
            OFFSET 0
        ) g
    ) r
    JOIN datagen_tenants tn ON tn.idx = r.tenant_idx
    CROSS JOIN LATERAL (
        SELECT (ARRAY['/v1/chat/completions', '/v1/agents/{id}/run', '/v1/tokens', '/v1/tools', '/v1/agents',
                      '/v1/credentials/rotate', '/v1/embeddings', '/v1/health'])[q] AS endpoint,
               (ARRAY['POST', 'POST', 'POST', 'GET', 'GET', 'POST', 'POST', 'GET'])[q] AS method,
               (ARRAY[200, 202, 201, 200, 200, 200, 200, 200])[q] AS ok
        FROM (SELECT width_bucket(r.u_ep, ARRAY[0.30, 0.50, 0.65, 0.78, 0.88, 0.94, 0.98]::float8[]) + 1 AS q) qq
    ) ep
    CROSS JOIN LATERAL (
        SELECT (ARRAY[500, 429, 401, 503, 404, 400, 504])[q] AS status,
               (ARRAY['internal_error', 'rate_limited', 'invalid_token', 'upstream_error', 'not_found', 'invalid_input', 'timeout'])[q] AS code
        FROM (SELECT width_bucket(r.u_err, ARRAY[0.25, 0.45, 0.60, 0.75, 0.85, 0.95]::float8[]) + 1 AS q) qq
    ) er;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    IF total <> events THEN
        RAISE EXCEPTION 'generated % events, not %', total, events;
    END IF;
    RETURN QUERY SELECT n_tenants, n_agents, total;
END
$$;
COMMENT ON FUNCTION analytics_datagen.generate(bigint, integer, date, float8, float8, float8, float8, integer) IS
    'Inserts exactly events deterministic demo events: sessions of users with agent executions, their tool and LLM calls and workflow runs, and api calls, token issuances and credential rotations (the same arguments give the same rows)';
