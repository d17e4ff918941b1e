-- readers: analytics.read_raw_groups (src/readers.c), a tenant's raw events
-- of the days a read plan names, grouped: a day read whole from its
-- partition, the events ingested since a watermark (written into the
-- statement), a day with no partition from the default partition; with and
-- without detail; under pg_regress so that valgrind (tools/valgrind.sh)
-- runs it.  Each answer is compared with plain SQL over the same events
-- (the rows that differ, none).  test/pgtap/06_api_oracle.sql and
-- 07_increments.sql check the readers built on it against the raw events.
SET timezone = 'UTC';
SELECT (analytics.upsert_tenant('7ead0000-0000-4000-8000-000000000001', 'Readers Co', 'pro')).tier;
SELECT (analytics.upsert_tenant('7ead0000-0000-4000-8000-000000000002', 'Other Co', 'pro')).tier;
SELECT analytics.ensure_partitions('2031-05-02', '2031-05-02') AS partitions_made;
-- Days 05-01 (default partition), 05-02 (its own partition), 05-03 (default);
-- ingested at three instants, and a second tenant whose rows never show.
INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method,
                                    latency_ms, ingested_at)
SELECT CASE WHEN i % 11 = 0 THEN '7ead0000-0000-4000-8000-000000000002'::uuid ELSE '7ead0000-0000-4000-8000-000000000001' END,
       CASE WHEN i % 5 = 0 THEN NULL ELSE ('7ead0000-0000-4000-9000-00000000000' || (i % 7))::uuid END,
       timestamptz '2031-05-01 00:00:00+00' + (i % 3) * interval '1 day' + i * interval '53 seconds',
       (ARRAY['api_call', 'api_call', 'token_issuance', 'credential_rotation', 'llm_call'])[1 + i % 5], i % 7 <> 0, 1 + i % 4,
       '/v1/e' || (i % 3), (ARRAY['GET', 'POST'])[1 + i % 2], 0.5 * i,
       timestamptz '2031-05-04 00:00:00+00' + (i % 4) * interval '1 hour'
FROM generate_series(1, 600) i;
SELECT tableoid::regclass AS partition, count(*) FROM analytics.usage_events WHERE tenant_id::text LIKE '7ead0000-%' GROUP BY 1 ORDER BY 1;

-- The plain-SQL answer for day d from instant s on (NULL: the whole day).
CREATE FUNCTION pg_temp.plain(d date, s timestamptz, detail boolean)
RETURNS TABLE (date date, agent_id uuid, event_type text, endpoint text, method text, calls bigint, successes bigint,
               p50 double precision, heat bigint)
LANGUAGE sql AS $$
    SELECT (e.occurred_at AT TIME ZONE 'UTC')::date, e.agent_id, e.event_type,
           CASE WHEN detail THEN e.endpoint END, CASE WHEN detail THEN e.method END,
           sum(e.count)::bigint, coalesce(sum(e.count) FILTER (WHERE e.success), 0)::bigint,
           CASE WHEN detail THEN analytics.quantile(analytics.qsketch_agg_n(e.latency_ms, e.count::bigint)
                                                      FILTER (WHERE e.event_type = 'api_call'), 0.5) END,
           analytics.heatmap_total(analytics.heatmap_agg(e.occurred_at, e.count::bigint) FILTER (WHERE e.event_type = 'api_call'))
    FROM analytics.usage_events e
    WHERE e.tenant_id = '7ead0000-0000-4000-8000-000000000001'
      AND e.occurred_at >= d::timestamp AT TIME ZONE 'UTC' AND e.occurred_at < (d + 1)::timestamp AT TIME ZONE 'UTC'
      AND (s IS NULL OR e.ingested_at >= s)
    GROUP BY 1, 2, 3, 4, 5
$$;
-- The reader's answer in the same shape.
CREATE FUNCTION pg_temp.reader(days date[], since timestamptz[], detail boolean)
RETURNS TABLE (date date, agent_id uuid, event_type text, endpoint text, method text, calls bigint, successes bigint,
               p50 double precision, heat bigint)
LANGUAGE sql AS $$
    SELECT g.date, g.agent_id, g.event_type, g.endpoint, g.method, g.calls, g.successes,
           analytics.quantile(g.latency, 0.5), analytics.heatmap_total(g.api_heatmap)
    FROM analytics.read_raw_groups('7ead0000-0000-4000-8000-000000000001', days, since, detail) g
$$;

-- Whole days, every kind, with and without detail: rows, and rows that differ.
SELECT v.detail, (SELECT count(*) FROM pg_temp.reader('{2031-05-01,2031-05-02,2031-05-03}', NULL, v.detail)) AS rows,
       (WITH r AS (SELECT * FROM pg_temp.reader('{2031-05-01,2031-05-02,2031-05-03}', NULL, v.detail)),
             p AS (SELECT q.* FROM unnest('{2031-05-01,2031-05-02,2031-05-03}'::date[]) d, pg_temp.plain(d, NULL, v.detail) q)
        SELECT count(*) FROM ((SELECT * FROM r EXCEPT ALL SELECT * FROM p) UNION ALL (SELECT * FROM p EXCEPT ALL SELECT * FROM r)) x) AS differ
FROM (VALUES (false), (true)) v(detail);
-- Since a watermark, on a partition and on the default partition: from the
-- first instant (all), the second (two thirds), after the last (none).
SELECT d, s, (SELECT count(*) FROM pg_temp.reader(ARRAY[d], ARRAY[s], true)) AS rows,
       (SELECT count(*) FROM ((SELECT * FROM pg_temp.reader(ARRAY[d], ARRAY[s], true)
                               EXCEPT ALL SELECT * FROM pg_temp.plain(d, s, true))
                              UNION ALL
                              (SELECT * FROM pg_temp.plain(d, s, true)
                               EXCEPT ALL SELECT * FROM pg_temp.reader(ARRAY[d], ARRAY[s], true))) x) AS differ
FROM (VALUES ('2031-05-02'::date), ('2031-05-03')) a(d),
     (VALUES ('2031-05-04 00:00:00+00'::timestamptz), ('2031-05-04 02:00:00+00'), ('2031-05-04 03:00:00.000001+00')) b(s)
ORDER BY 1, 2;
-- The same watermark under another DateStyle and a zone whose abbreviation
-- (IST) reads as another zone's: the same rows.
SET datestyle = 'SQL, DMY';
SET timezone = 'Asia/Kolkata';
-- (54 rows, as above; read as IST of Israel the watermark would be 05:30
-- UTC, after every event: none)
SELECT count(*) AS rows_since_2031_05_04_02h
FROM analytics.read_raw_groups('7ead0000-0000-4000-8000-000000000001', '{2031-05-02}', ARRAY['2031-05-04 02:00:00+00'::timestamptz], true);
RESET datestyle;
SET timezone = 'UTC';
-- NULL days are skipped, a shorter since reads the rest whole, a day with no
-- events gives nothing, a NULL tenant or day list nothing.
SELECT count(*) AS rows_05_02_whole
FROM analytics.read_raw_groups('7ead0000-0000-4000-8000-000000000001', '{NULL,2031-05-02,2031-06-01}', '{}', false);
SELECT count(*) AS null_tenant FROM analytics.read_raw_groups(NULL, '{2031-05-02}', NULL, false);
SELECT count(*) AS null_days FROM analytics.read_raw_groups('7ead0000-0000-4000-8000-000000000001', NULL, NULL, false);
SELECT count(*) AS infinite_day FROM analytics.read_raw_groups('7ead0000-0000-4000-8000-000000000001', '{infinity}', NULL, false);
-- A watermark outside the years 1 to 9999 is refused.
SELECT count(*) FROM analytics.read_raw_groups('7ead0000-0000-4000-8000-000000000001', '{2031-05-02}', '{"10000-01-01 00:00:00+00"}', false);

-- analytics.read_plan (src/readers.c): which days a reader takes from raw
-- events, and from when.  Compared with the plain statement it replaced
-- (PL/pgSQL before 0.5.0) over every period of a grid, with days rolled and
-- not, changed by appended events and otherwise, and the live days
-- (yesterday and today in UTC), in a transaction rolled back.
CREATE FUNCTION pg_temp.plan_sql(lo date, hi date, OUT days date[], OUT since timestamptz[], OUT whole date[])
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(p.d ORDER BY p.d), '{}'), coalesce(array_agg(p.s ORDER BY p.d), '{}'),
           coalesce(array_agg(p.d ORDER BY p.d) FILTER (WHERE p.s IS NULL), '{}')
    FROM (SELECT g.d,
                 CASE WHEN r.day IS NULL OR (c.day IS NOT NULL AND NOT c.appended) THEN NULL ELSE r.watermark END AS s
          FROM (SELECT x::date AS d FROM generate_series(lo::timestamp, hi::timestamp, interval '1 day') x) g
          LEFT JOIN analytics.rollup_days r ON r.day = g.d
          LEFT JOIN analytics.changed_days c ON c.day = g.d
          WHERE r.day IS NULL OR c.day IS NOT NULL OR g.d >= (now() AT TIME ZONE 'UTC')::date - 1) p
$$;
BEGIN;
DELETE FROM analytics.changed_days;
DELETE FROM analytics.rollup_days;
-- Rolled: 2020-03-01 .. 03-20 but 03-07; changed: 03-03 (appended), 03-05
-- (rewritten), 03-07 (not rolled, appended), 03-25 (not rolled, rewritten).
INSERT INTO analytics.rollup_days (day, rolled_at, events, rows_written, watermark)
SELECT d, '2020-04-01 00:00:00+00', 1, 1, d + time '23:00' + (d - date '2020-03-01') * interval '1 second'
FROM generate_series(date '2020-03-01', date '2020-03-20', interval '1 day') g(d0), LATERAL (SELECT d0::date AS d) x
WHERE d <> date '2020-03-07';
INSERT INTO analytics.changed_days (day, appended) VALUES
    ('2020-03-03', true), ('2020-03-05', false), ('2020-03-07', true), ('2020-03-25', false);
SELECT p.* FROM analytics.read_plan('2020-02-28', '2020-03-08') p;
SELECT p.* FROM analytics.read_plan('2020-03-08', '2020-03-20') p;
SELECT p.* FROM analytics.read_plan('2020-03-08', '2020-03-07') p;
-- The live days: today and yesterday rolled, the day before yesterday too,
-- the day before that changed by appended events, tomorrow not rolled.
INSERT INTO analytics.rollup_days (day, rolled_at, events, rows_written, watermark)
SELECT (now() AT TIME ZONE 'UTC')::date - k, now(), 1, 1, now() - k * interval '1 minute'
FROM generate_series(0, 3) k;
INSERT INTO analytics.changed_days (day, appended) VALUES ((now() AT TIME ZONE 'UTC')::date - 3, true);
SELECT p.days = ARRAY[t - 3, t - 1, t, t + 1] AS days_listed, p.whole = ARRAY[t + 1] AS tomorrow_whole,
       p.since = ARRAY[now() - interval '3 minutes', now() - interval '1 minute', now(), NULL] AS since_watermarks
FROM (SELECT (now() AT TIME ZONE 'UTC')::date AS t) d, analytics.read_plan(d.t - 3, d.t + 1) p;
-- Every period of the grid: the rows that differ (none), of how many.
SELECT count(*) FILTER (WHERE (c.days, c.since, c.whole) IS DISTINCT FROM (o.days, o.since, o.whole)) AS differ,
       count(*) AS periods
FROM (SELECT lo::date AS lo, (lo + n * interval '1 day')::date AS hi
      FROM generate_series(date '2020-02-25', date '2020-03-28', interval '1 day') lo, generate_series(-1, 33) n
      UNION ALL
      SELECT ((now() AT TIME ZONE 'UTC')::date + a), ((now() AT TIME ZONE 'UTC')::date + b)
      FROM generate_series(-6, 2) a, generate_series(-6, 2) b) g,
     LATERAL analytics.read_plan(g.lo, g.hi) c, LATERAL pg_temp.plan_sql(g.lo, g.hi) o;
ROLLBACK;
-- NULL ends: no plan (STRICT); infinite ends are refused.
SELECT p.* IS NULL AS null_end FROM analytics.read_plan(NULL, '2020-03-01') p;
SELECT p.* FROM analytics.read_plan('2020-03-01', 'infinity') p;
SELECT p.* FROM analytics.read_plan('-infinity', '2020-03-01') p;

-- analytics.read_raw_arrays: the same rows as read_raw_groups, as one row
-- of arrays (NULL arrays when there is no row).
SELECT count(*) AS rows, count(*) FILTER (WHERE (a.date, a.agent_id, a.event_type, a.endpoint, a.method, a.calls,
                                                 a.successes, a.latency::text, a.api_heatmap::text)
                                                IS DISTINCT FROM
                                                (g.date, g.agent_id, g.event_type, g.endpoint, g.method, g.calls,
                                                 g.successes, g.latency::text, g.api_heatmap::text)) AS differ
FROM (SELECT row_number() OVER () AS n, g.* FROM analytics.read_raw_groups('7ead0000-0000-4000-8000-000000000001',
        '{2031-05-01,2031-05-02,2031-05-03}', '{NULL,"2031-05-04 01:00:00+00",NULL}', true) g) g
FULL JOIN (SELECT u.* FROM analytics.read_raw_arrays('7ead0000-0000-4000-8000-000000000001',
        '{2031-05-01,2031-05-02,2031-05-03}', '{NULL,"2031-05-04 01:00:00+00",NULL}', true) r,
        unnest(r.date, r.agent_id, r.event_type, r.endpoint, r.method, r.calls, r.successes, r.latency, r.api_heatmap)
          WITH ORDINALITY AS u(date, agent_id, event_type, endpoint, method, calls, successes, latency, api_heatmap, n)) a
  ON a.n = g.n;
SELECT r.date IS NULL AND r.agent_id IS NULL AND r.calls IS NULL AND r.api_heatmap IS NULL AS no_rows_null
FROM analytics.read_raw_arrays('7ead0000-0000-4000-8000-000000000001', '{2031-05-02}', '{"2031-05-05 00:00:00+00"}', false) r;
SELECT r.date IS NULL AS null_tenant FROM analytics.read_raw_arrays(NULL, '{2031-05-02}', NULL, false) r;
SELECT cardinality(r.date) AS rows_without_detail, r.endpoint[1] IS NULL AND r.latency[1] IS NULL AS no_detail
FROM analytics.read_raw_arrays('7ead0000-0000-4000-8000-000000000001', '{2031-05-02}', NULL, false) r;
