-- Increments (issue 15): the minute job keeps today's, yesterday's and every
-- appended day's rollups current by merging in the events ingested since
-- each day's watermark; readers add the events ingested since.  Every step
-- compares the three readers with plain SQL over the raw events, and the
-- merged rollup rows with a full recomputation.  Runs outside a transaction
-- block: watermarks are transaction start times, so each step is its own
-- transaction, and it waits a little over a second for the watermark to
-- pass the events just written.  Date and hour independent: the days are
-- taken once, relative to the day the test starts.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET timezone = 'UTC';
SET client_min_messages = warning;
SELECT plan(67);

SELECT analytics.utc_today() AS d0, analytics.utc_today() - 1 AS d1, analytics.utc_today() - 6 AS d6 \gset
\set tid '''1c000000-0000-4000-8000-000000000001'''
SELECT lives_ok($$SELECT analytics.upsert_tenant('1c000000-0000-4000-8000-000000000001', 'Increments Co', 'pro')$$,
                'register a tenant');
-- Today's partition has the index a tail read descends: a tenant's events
-- by ingested_at.
SELECT lives_ok(format($$SELECT analytics.ensure_partitions(%L, %L)$$, :'d0', :'d0'), 'today''s partition');
SELECT is((SELECT count(*) FROM pg_indexes WHERE schemaname = 'analytics' AND tablename = analytics.partition_name(:'d0')
           AND indexdef LIKE '%USING btree (tenant_id, ingested_at)'), 1::bigint,
          'today''s partition has its index on (tenant_id, ingested_at)');

-- N events of the tenant on day d, from second s on (at most a minute into
-- the day, so never in the future), over 3 agents, 3 endpoints and 4 types.
CREATE FUNCTION pg_temp.batch(d date, s integer, n integer) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(jsonb_build_object(
        'tenant_id', '1c000000-0000-4000-8000-000000000001',
        'agent_id', CASE WHEN i % 5 = 0 THEN NULL ELSE '1c000000-0000-4000-9000-00000000000' || (i % 3) END,
        'occurred_at', to_char(d::timestamp + make_interval(secs => s + (i % 60)), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'event_type', (ARRAY['api_call', 'api_call', 'token_issuance', 'credential_rotation', 'llm_call'])[1 + i % 5],
        'success', i % 7 <> 0, 'count', 1 + i % 4,
        'endpoint', '/v1/e' || (i % 3), 'method', 'GET',
        'status_code', CASE WHEN i % 7 <> 0 THEN 200 ELSE 500 END,
        'error_code', CASE WHEN i % 7 <> 0 THEN NULL WHEN i % 2 = 0 THEN 'timeout' ELSE 'upstream_error' END,
        'session_id', 's' || (i % 4), 'user_id', 'u' || (i % 3), 'workflow_id', 'w' || (i % 2),
        'workflow_type', 'multi_agent', 'tool_name', 'search', 'mcp_server', 'mcp-' || (i % 2),
        'model', 'm' || (i % 2), 'input_tokens', 100 * i, 'output_tokens', 10 * i, 'cached_input_tokens', 10 * i,
        'latency_ms', 1.5 * i + s))
    FROM generate_series(1, n) i
$$;

-- Rows where a reader differs from plain SQL over the raw events of [f, t].
CREATE FUNCTION pg_temp.differences(f date, t date) RETURNS bigint LANGUAGE sql AS $$
    WITH e AS (
        SELECT (occurred_at AT TIME ZONE 'UTC')::date AS date, * FROM analytics.usage_events
        WHERE tenant_id = '1c000000-0000-4000-8000-000000000001'
          AND occurred_at >= f::timestamp AT TIME ZONE 'UTC' AND occurred_at < (t + 1)::timestamp AT TIME ZONE 'UTC'),
    days AS (
        SELECT (SELECT count(*) FROM analytics.read_tenant_days('1c000000-0000-4000-8000-000000000001', f, t) d
                FULL JOIN (SELECT e.date,
                                  sum(e.count) FILTER (WHERE e.event_type = 'api_call') AS api,
                                  sum(e.count) FILTER (WHERE e.event_type = 'token_issuance') AS tok,
                                  sum(e.count) FILTER (WHERE e.event_type = 'token_issuance' AND NOT e.success) AS fail,
                                  sum(e.count) FILTER (WHERE e.event_type = 'credential_rotation') AS rot,
                                  sum(e.count) FILTER (WHERE e.event_type = 'llm_call') AS llm,
                                  coalesce(array_agg(DISTINCT e.agent_id ORDER BY e.agent_id) FILTER (WHERE e.agent_id IS NOT NULL), '{}') AS agents
                           FROM e GROUP BY e.date) r USING (date)
                WHERE (d.api_calls, d.token_issuances, d.token_failures, d.credential_rotations, d.llm_calls, d.active_agents,
                       coalesce(analytics.heatmap_total(d.api_heatmap), 0))
                      IS DISTINCT FROM
                      (coalesce(r.api, 0), coalesce(r.tok, 0), coalesce(r.fail, 0), coalesce(r.rot, 0), coalesce(r.llm, 0),
                       r.agents, coalesce(r.api, 0))) AS n),
    agents AS (
        SELECT (SELECT count(*) FROM analytics.read_agent_days('1c000000-0000-4000-8000-000000000001', f, t) d
                FULL JOIN (SELECT e.date, e.agent_id,
                                  coalesce(sum(e.count) FILTER (WHERE e.event_type = 'api_call'), 0) AS api,
                                  coalesce(sum(e.count) FILTER (WHERE e.event_type = 'token_issuance'), 0) AS tok,
                                  coalesce(sum(e.count) FILTER (WHERE e.event_type = 'credential_rotation'), 0) AS rot,
                                  coalesce(sum(e.count) FILTER (WHERE e.event_type = 'llm_call'), 0) AS llm
                           FROM e GROUP BY e.date, e.agent_id) r
                  ON r.date = d.date AND r.agent_id IS NOT DISTINCT FROM d.agent_id
                WHERE (d.api_calls, d.token_issuances, d.credential_rotations, d.llm_calls)
                      IS DISTINCT FROM (r.api, r.tok, r.rot, r.llm)) AS n),
    endpoints AS (
        SELECT (SELECT count(*) FROM analytics.read_endpoint_stats('1c000000-0000-4000-8000-000000000001', f, t) s
                FULL JOIN (SELECT e.endpoint, sum(e.count) AS calls, coalesce(sum(e.count) FILTER (WHERE e.success), 0) AS ok,
                                  sum(e.count) AS n, max(e.latency_ms) AS top
                           FROM e WHERE e.event_type = 'api_call' GROUP BY e.endpoint) r USING (endpoint)
                WHERE (s.calls, s.successes, analytics.sketch_count(s.latency), analytics.sketch_max(s.latency))
                      IS DISTINCT FROM (r.calls, r.ok, r.n, r.top)) AS n)
    SELECT days.n + agents.n + endpoints.n FROM days, agents, endpoints
$$;

-- The tenant's rollup rows of day d, as one comparable text.
CREATE FUNCTION pg_temp.rollup_rows(d date) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ',
        (SELECT string_agg(concat_ws(',', t.api_calls, t.token_issuances, t.token_failures, t.credential_rotations,
                                     t.tool_calls, t.llm_calls, t.events, t.active_agents, t.issuing_agents,
                                     t.api_heatmap), ';')
         FROM analytics.tenant_daily t WHERE t.tenant_id = '1c000000-0000-4000-8000-000000000001' AND t.date = d),
        (SELECT string_agg(concat_ws(',', a.agent_id, a.events, a.api_calls, a.token_issuances, a.token_failures,
                                     a.credential_rotations, a.llm_calls), ';' ORDER BY a.agent_id)
         FROM analytics.agent_daily a WHERE a.tenant_id = '1c000000-0000-4000-8000-000000000001' AND a.date = d),
        (SELECT string_agg(concat_ws(',', x.endpoint, x.calls, x.successes,
                                     analytics.quantiles(x.latency, ARRAY[0.5, 0.95, 0.99])), ';' ORDER BY x.endpoint)
         FROM analytics.endpoint_daily x WHERE x.tenant_id = '1c000000-0000-4000-8000-000000000001' AND x.date = d),
        (SELECT string_agg(concat_ws(',', s.agent_id, s.event_type, s.endpoint, s.calls, s.successes, s.total_latency_ms,
                                     analytics.sketch_count(s.latency), analytics.sketch_max(s.latency)),
                           ';' ORDER BY s.agent_id, s.event_type, s.endpoint)
         FROM analytics.usage_stats_daily s WHERE s.tenant_id = '1c000000-0000-4000-8000-000000000001' AND s.date = d),
        (SELECT string_agg(concat_ws(',', a.agent_id, a.metric_type, a.count), ';' ORDER BY a.agent_id, a.metric_type)
         FROM analytics.analytics_daily_aggregates a
         WHERE a.tenant_id = '1c000000-0000-4000-8000-000000000001' AND a.date = d))
$$;

-- The rollup families (layer 40) of the tenant: (bucket, key) -> merged
-- values, as one comparable text per family, over the rows a query gives.
CREATE AGGREGATE pg_temp.uuid_union_agg(uuid[]) (SFUNC = analytics.uuid_union, STYPE = uuid[], INITCOND = '{}');
CREATE FUNCTION pg_temp.family_digest(fam text, src text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    keys text;
    vals text;
    r    text;
BEGIN
    SELECT string_agg(format('%I', c.col), ', ' ORDER BY c.pos) FILTER (WHERE c.kind = 'key'),
           string_agg(CASE WHEN c.kind = 'sum' THEN format('sum(%I)', c.col)
                           WHEN c.kind = 'sketch' THEN format('analytics.sketch_count(analytics.qsketch_merge(%1$I)) || ''/'' || '
                                                              'coalesce(analytics.quantiles(analytics.qsketch_merge(%1$I), ARRAY[0.5, 0.99])::text, '''')', c.col)
                           WHEN c.kind = 'heatmap' THEN format('analytics.heatmap_merge(%I)::text', c.col)
                           WHEN c.kind = 'uuids' THEN format('pg_temp.uuid_union_agg(%I)::text', c.col)
                           WHEN c.kind = 'min' THEN format('min(%I)', c.col)
                           ELSE format('max(%I)', c.col) END, ' || ''|'' || ' ORDER BY c.pos) FILTER (WHERE c.kind <> 'key')
    INTO keys, vals
    FROM analytics.family_columns() c WHERE c.family = fam;
    EXECUTE format('SELECT string_agg(x, '';'' ORDER BY x) FROM (SELECT concat_ws('','', bucket, %s) || ''='' || (%s) AS x '
                   'FROM (%s) t GROUP BY bucket, %s) g', keys, vals, src, keys) INTO r;
    RETURN fam || ':' || coalesce(r, '');
END $$;
-- Every family's rows of day d as stored.
CREATE FUNCTION pg_temp.family_rows(d date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    f text;
    r text := '';
BEGIN
    FOR f IN SELECT DISTINCT family FROM analytics.family_columns() ORDER BY 1 LOOP
        r := r || pg_temp.family_digest(f, format('SELECT * FROM analytics.%I WHERE tenant_id = %L AND bucket >= %L AND bucket < %L',
                 f, '1c000000-0000-4000-8000-000000000001', d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC')) || E'\n';
    END LOOP;
    RETURN r;
END $$;
-- Families whose rows read_family gives for [a, b) differ from the same
-- grouping of the raw events of [a, b).
CREATE FUNCTION pg_temp.family_differences(a timestamptz, b timestamptz) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    f    text;
    bad  text := '';
BEGIN
    FOR f IN SELECT DISTINCT family FROM analytics.family_columns() ORDER BY 1 LOOP
        IF pg_temp.family_digest(f, format('SELECT * FROM analytics.read_family(NULL::analytics.%I, %L, %L, %L)',
                                           f, '1c000000-0000-4000-8000-000000000001', a, b))
           IS DISTINCT FROM
           pg_temp.family_digest(f, analytics.family_select(f, format(
               'e.tenant_id = %L AND e.occurred_at >= %L AND e.occurred_at < %L', '1c000000-0000-4000-8000-000000000001', a, b))) THEN
            bad := bad || f || ' ';
        END IF;
    END LOOP;
    RETURN bad;
END $$;
-- Over day, hour and ragged windows around the days of the test.
CREATE FUNCTION pg_temp.families_differ() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(w.name || ': ' || d, '; ')
    FROM (VALUES ('7 days', analytics.utc_today() - 6, NULL::interval, analytics.utc_today() + 1, NULL::interval),
                 ('yesterday 00:00:10 to today 00:00:50', analytics.utc_today() - 1, interval '10 seconds',
                  analytics.utc_today(), interval '50 seconds'),
                 ('day -6 00:00:20 to day -5', analytics.utc_today() - 6, interval '20 seconds', analytics.utc_today() - 5, NULL),
                 ('day -7 23:00 to yesterday 01:00', analytics.utc_today() - 7, interval '23 hours',
                  analytics.utc_today() - 1, interval '1 hour')) AS w(name, fd, fo, td, tof)
    CROSS JOIN LATERAL (SELECT pg_temp.family_differences(w.fd::timestamp AT TIME ZONE 'UTC' + coalesce(w.fo, '0'),
                                                          w.td::timestamp AT TIME ZONE 'UTC' + coalesce(w.tof, '0')) AS d) x
    WHERE x.d <> ''
$$;

-- Day -6, rolled up whole, then yesterday by INSERT, today by record_events.
SELECT lives_ok(format($$SELECT analytics.record_events(pg_temp.batch(%L, 0, 40))$$, :'d6'), 'events of day -6');
SELECT is(analytics.run_rollup(:'d6') > 0, true, 'day -6 rolled up');
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, count, endpoint, method, latency_ms)
SELECT :tid, ('1c000000-0000-4000-9000-00000000000' || (i % 3))::uuid, :'d1'::timestamp AT TIME ZONE 'UTC' + i * interval '1 second',
       'api_call', 1 + i % 2, '/v1/e' || (i % 3), 'GET', i
FROM generate_series(1, 30) i;
SELECT lives_ok(format($$SELECT analytics.record_events(pg_temp.batch(%L, 0, 50))$$, :'d0'), 'events of today');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'before any increment: the readers equal the raw events');
SELECT is(pg_temp.families_differ(), NULL, 'before any increment: the readers equal the raw events' || ' (rollup families)');

-- The first run rolls the live days up whole.
SELECT pg_sleep(1.1);
CALL analytics.increment_job();
SELECT is((SELECT complete FROM analytics.rollup_days WHERE day = :'d0'), true,
          'the first increment run rolls today up whole');
SELECT is((SELECT count(*) FROM analytics.changed_days WHERE day = :'d0'), 0::bigint, 'and takes today out of the log');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'the readers equal the raw events');
SELECT is(pg_temp.families_differ(), NULL, 'the readers equal the raw events' || ' (rollup families)');
SELECT ok((SELECT watermark FROM analytics.rollup_days WHERE day = :'d0') <= now(), 'today''s watermark is set');
SELECT is((SELECT :'d6'::date = ANY (days) FROM analytics.read_plan(:'d6', :'d0')), false,
          'the read plan takes a rolled day without changes from its rollups alone');
SELECT ok((SELECT since[1] IS NOT NULL FROM analytics.read_plan(:'d0', :'d0')),
          'and adds to today''s rollups the raw events since its watermark');

-- New events: visible at once, by record_events and by INSERT.
SELECT lives_ok(format($$SELECT analytics.record_events(pg_temp.batch(%L, 10, 25))$$, :'d0'), 'more events of today');
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, count, endpoint, method, latency_ms)
VALUES (:tid, '1c000000-0000-4000-9000-000000000009', :'d0'::timestamp AT TIME ZONE 'UTC', 'api_call', 3, '/v1/new', 'POST', 99),
       (:tid, NULL, :'d0'::timestamp AT TIME ZONE 'UTC' + interval '2 seconds', 'token_issuance', 2, NULL, NULL, NULL);
SELECT is((SELECT appended FROM analytics.changed_days WHERE day = :'d0'), true, 'record_events logs today as appended');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'events written a moment ago are in the answers');
SELECT is(pg_temp.families_differ(), NULL, 'events written a moment ago are in the answers' || ' (rollup families)');
SELECT ok(analytics.usage_summary(:tid, :'d0', :'d0') -> 'summary' ->> 'activeAgentCount' = '4',
          'a new agent counts at once');
-- The same under a session DateStyle and zone whose abbreviation (IST) the
-- default abbreviations read as another zone's: the tail read's watermark
-- is the same instant.
SET datestyle = 'SQL, DMY';
SET timezone = 'Asia/Kolkata';
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'and so under DateStyle SQL, DMY in zone Asia/Kolkata');
SELECT is(pg_temp.families_differ(), NULL, 'and so under DateStyle SQL, DMY in zone Asia/Kolkata' || ' (rollup families)');
RESET datestyle;
SET timezone = 'UTC';

-- The increment merges them: the rollup rows alone now hold them.
SELECT pg_sleep(1.1);
CALL analytics.increment_job();
SELECT is((SELECT complete FROM analytics.rollup_days WHERE day = :'d0'), false, 'today''s rollup is now merged increments');
SELECT is((SELECT events FROM analytics.tenant_daily WHERE tenant_id = :tid AND date = :'d0'),
          (SELECT sum(count) FROM analytics.usage_events WHERE tenant_id = :tid
           AND occurred_at >= :'d0'::timestamp AT TIME ZONE 'UTC'),
          'today''s tenant_daily row holds every event of today');
SELECT is((SELECT active_agents FROM analytics.tenant_daily WHERE tenant_id = :tid AND date = :'d0'),
          (SELECT array_agg(DISTINCT agent_id ORDER BY agent_id) FROM analytics.usage_events WHERE tenant_id = :tid
           AND occurred_at >= :'d0'::timestamp AT TIME ZONE 'UTC' AND agent_id IS NOT NULL),
          'the agent sets united');
SELECT is((SELECT count(*) FROM analytics.agents WHERE agent_id = '1c000000-0000-4000-9000-000000000009'), 1::bigint,
          'an agent that INSERT brought in is registered by the increment');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'the readers equal the raw events after the merge');
SELECT is(pg_temp.families_differ(), NULL, 'the readers equal the raw events after the merge' || ' (rollup families)');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'and again (reading changes nothing)');
SELECT is(pg_temp.families_differ(), NULL, 'and again (reading changes nothing)' || ' (rollup families)');

-- A merge equals a full recomputation, row for row (sketches by quantiles).
SELECT pg_temp.rollup_rows(:'d0') AS merged \gset
SELECT pg_temp.family_rows(:'d0') AS merged_families \gset
SELECT is(analytics.run_rollup(:'d0') >= 0, true, 'today rolled up whole again');
SELECT is((SELECT complete FROM analytics.rollup_days WHERE day = :'d0'), true, 'the full rollup marks the day complete');
SELECT is(pg_temp.rollup_rows(:'d0'), :'merged', 'the merged rows equal the full recomputation');
SELECT is(pg_temp.family_rows(:'d0'), :'merged_families', 'the merged family rows equal the full recomputation');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'the readers equal the raw events');
SELECT is(pg_temp.families_differ(), NULL, 'the readers equal the raw events' || ' (rollup families)');

-- A late event on a rolled day: read at once, merged by the next run.
SELECT lives_ok(format($$SELECT analytics.record_events(pg_temp.batch(%L, 30, 7))$$, :'d6'), 'late events of day -6');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'late events are in the answers at once');
SELECT is(pg_temp.families_differ(), NULL, 'late events are in the answers at once' || ' (rollup families)');
SELECT pg_sleep(1.1);
CALL analytics.increment_job();
SELECT is((SELECT count(*) FROM analytics.changed_days WHERE day = :'d6'), 0::bigint, 'the increment takes day -6 out of the log');
SELECT is((SELECT complete FROM analytics.rollup_days WHERE day = :'d6'), false, 'day -6 holds merged increments');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'the readers equal the raw events');
SELECT is(pg_temp.families_differ(), NULL, 'the readers equal the raw events' || ' (rollup families)');

-- A transaction under way holds the watermark back: a rollup then leaves
-- out the visible events ingested after it, and logs the day as appended so
-- that readers add them (and the minute job merges them).
SELECT :'d0'::date - 5 AS d5 \gset
SELECT lives_ok(format($$SELECT analytics.record_events(pg_temp.batch(%L, 0, 12))$$, :'d5'), 'events of day -5');
SELECT dblink_connect('hold', format('dbname=%s host=%s port=%s user=%s', current_database(),
                      split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_user)) AS held \gset
SELECT dblink_exec('hold', 'BEGIN') AS began \gset
SELECT * FROM dblink('hold', 'SELECT 1') AS t(x integer) \gset
SELECT pg_sleep(0.1);
SELECT lives_ok(format($$SELECT analytics.record_events(pg_temp.batch(%L, 20, 9))$$, :'d5'), 'more events of day -5, after the other transaction began');
SELECT is(analytics.run_rollup(:'d5') > 0, true, 'day -5 rolled up while the other transaction is under way');
SELECT is((SELECT appended FROM analytics.changed_days WHERE day = :'d5'), true,
          'the rollup logs the day as appended: it holds events ingested after its watermark');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'the readers add them: equal to the raw events');
SELECT is(pg_temp.families_differ(), NULL, 'the readers add them: equal to the raw events' || ' (rollup families)');
SELECT dblink_exec('hold', 'COMMIT') AS committed \gset
SELECT dblink_disconnect('hold') AS disconnected \gset
SELECT pg_sleep(1.1);
CALL analytics.increment_job();
SELECT is((SELECT count(*) FROM analytics.changed_days WHERE day = :'d5'), 0::bigint, 'the minute job merges them');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'the readers equal the raw events');
SELECT is(pg_temp.families_differ(), NULL, 'the readers equal the raw events' || ' (rollup families)');

-- A rewrite (a delete, logged by mark_days_changed) is read raw whole and
-- rolled up whole by the next run.
DELETE FROM analytics.usage_events WHERE tenant_id = :tid AND event_type = 'llm_call'
  AND occurred_at >= :'d0'::timestamp AT TIME ZONE 'UTC';
SELECT is(analytics.mark_days_changed(ARRAY[:'d0'::date]), 1, 'the delete is logged');
SELECT is((SELECT whole FROM analytics.read_plan(:'d0', :'d0')), ARRAY[:'d0'::date], 'a rewritten day is read raw whole');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'deleted events are gone from the answers at once');
SELECT is(pg_temp.families_differ(), NULL, 'deleted events are gone from the answers at once' || ' (rollup families)');
SELECT lives_ok(format($$SELECT analytics.record_events(pg_temp.batch(%L, 40, 5))$$, :'d0'),
                'events added after the rewrite');
SELECT is((SELECT appended FROM analytics.changed_days WHERE day = :'d0'), false, 'the day stays logged as rewritten');
SELECT pg_sleep(1.1);
CALL analytics.increment_job();
SELECT is((SELECT complete FROM analytics.rollup_days WHERE day = :'d0'), true, 'the increment rolled the rewritten day up whole');
SELECT is(pg_temp.differences(:'d6', :'d0'), 0::bigint, 'the readers equal the raw events');
SELECT is(pg_temp.families_differ(), NULL, 'the readers equal the raw events' || ' (rollup families)');

-- The job's passes and its schedule (a schedule that never fires: 31 February).
SELECT throws_ok($$CALL analytics.increment_job(0)$$, '22023', 'passes must be between 1 and 12, not 0', 'increment_job refuses 0 passes');
SELECT throws_ok($$CALL analytics.increment_job(13)$$, '22023', 'passes must be between 1 and 12, not 13', 'and 13');
SELECT throws_ok($$SELECT analytics.schedule_increments('0 0 31 2 *', 13)$$, '22023', NULL, 'schedule_increments refuses 13 passes');
SELECT ok(analytics.schedule_increments('0 0 31 2 *') > 0, 'schedule_increments() returns the job id');
SELECT is((SELECT command FROM cron.job WHERE jobname = 'analytics-increments'), 'CALL analytics.increment_job(4)',
          'the job runs increment_job in 4 passes a minute by default');
SELECT ok(analytics.unschedule_increments(), 'unschedule_increments() removes it');

SELECT * FROM finish();

-- Leave no trace for the later suites: the tenant's rows, and the days
-- this test rolled (read raw again, as before it ran).
DELETE FROM analytics.usage_events WHERE tenant_id = :tid;
DELETE FROM analytics.usage_stats_daily WHERE tenant_id = :tid;
DELETE FROM analytics.analytics_daily_aggregates WHERE tenant_id = :tid;
DELETE FROM analytics.tenant_daily WHERE tenant_id = :tid;
DELETE FROM analytics.agent_daily WHERE tenant_id = :tid;
DELETE FROM analytics.endpoint_daily WHERE tenant_id = :tid;
DELETE FROM analytics.agents WHERE tenant_id = :tid;
DELETE FROM analytics.tenants WHERE tenant_id = :tid;
DELETE FROM analytics.rollup_days WHERE day BETWEEN :'d6' AND :'d0'::date + 1;
DELETE FROM analytics.changed_days WHERE day BETWEEN :'d6' AND :'d0'::date + 1;
DELETE FROM analytics.job_runs WHERE target_date BETWEEN :'d6' AND :'d0'::date + 1;
