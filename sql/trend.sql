-- trend: daily counters over a closed period, zero-filled day and ISO-week
-- buckets (Monday start, first bucket labelled by the period start), ISO
-- week edges at year boundaries, several counters, merging, distinct agents
-- per bucket, and the errors (bad granularity, from > to, bad values).
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE TEMP TABLE tr_daily (day date, n bigint, failed bigint);
INSERT INTO tr_daily VALUES
    ('2026-03-01', 5, 1), ('2026-03-01', 2, 0), ('2026-03-03', 4, 2),
    ('2026-03-09', 10, 0), ('2026-03-15', 1, 1),
    ('2026-02-28', 100, 0),      -- before the period: ignored
    ('2026-03-16', 100, 0),      -- after the period: ignored
    (NULL, 7, 7), ('2026-03-04', NULL, NULL);

-- Daily counts over [2026-03-01, 2026-03-15]; every day present.
SELECT analytics.daycounts_agg(day, n, '2026-03-01', '2026-03-15') FROM tr_daily;
SELECT * FROM analytics.trend((SELECT analytics.daycounts_agg(day, n, '2026-03-01', '2026-03-15') FROM tr_daily), 'day');
-- Weeks: 2026-03-01 is a Sunday, so the first bucket is that one day,
-- labelled by the period start; then Monday 03-02 .. Sunday 03-08, 03-09 .. 03-15.
SELECT * FROM analytics.trend((SELECT analytics.daycounts_agg(day, n, '2026-03-01', '2026-03-15') FROM tr_daily), 'week');
-- Several counters (total, failed): count2 is the second counter.
SELECT * FROM analytics.trend((SELECT analytics.daycounts_agg(day, n, failed, '2026-03-01', '2026-03-15') FROM tr_daily), 'week');
SELECT * FROM analytics.trend((SELECT analytics.daycounts_agg(day, n, failed, n + failed, '2026-03-02', '2026-03-03') FROM tr_daily), 'day');

-- Zero-filling: no rows at all.  The two-argument form needs the period from
-- the daycounts (NULL over no rows); the four-argument form takes it.
SELECT analytics.daycounts_agg(day, n, '2026-03-01', '2026-03-03') AS no_rows FROM tr_daily WHERE false;
SELECT * FROM analytics.trend((SELECT analytics.daycounts_agg(day, n, '2026-03-01', '2026-03-03') FROM tr_daily WHERE false), 'day');
SELECT * FROM analytics.trend(NULL, 'day', '2026-03-01', '2026-03-03');
SELECT * FROM analytics.trend(NULL, 'week', '2026-03-04', '2026-03-20');
-- Only NULL days: the state exists and is all zero.
SELECT analytics.daycounts_agg(NULL::date, 1, '2026-03-01', '2026-03-03') AS only_null_days;
-- The four-argument form reads any period: days outside the daycounts count zero.
SELECT * FROM analytics.trend('[2026-03-02,2026-03-03]:{4,5}', 'day', '2026-03-01', '2026-03-04');

-- ISO week edges at year boundaries.  2020-12-28 is a Monday; 2021-01-01 a
-- Friday; ISO week 1 of 2021 starts 2021-01-04.
SELECT * FROM analytics.trend(NULL, 'week', '2020-12-28', '2021-01-10');
SELECT * FROM analytics.trend(NULL, 'week', '2020-12-30', '2021-01-10');  -- first bucket clipped
SELECT * FROM analytics.trend(NULL, 'week', '2020-12-31', '2021-01-04');  -- last bucket one day
-- 2026-12-28 is a Monday; 2027-01-04 the Monday of ISO week 1 of 2027.
SELECT * FROM analytics.trend('[2026-12-28,2027-01-05]:{1,1,1,1,1,1,1,1,1}', 'week');
SELECT * FROM analytics.trend('[2026-12-28,2027-01-05]:{1,1,1,1,1,1,1,1,1}', 'day');
-- One day period; one week exactly.
SELECT * FROM analytics.trend(NULL, 'week', '2026-03-04', '2026-03-04');
SELECT * FROM analytics.trend(NULL, 'week', '2026-03-02', '2026-03-08');

-- Week labels against date_trunc('week') (ISO Monday) for every start and
-- day in 2019 .. 2028: prints only disagreeing rows.
SELECT f::date AS "from", d::date AS day
FROM generate_series('2019-12-20'::date, '2020-01-10', '1 day') f,
     generate_series('2019-12-20'::date, '2028-01-10', '1 day') d
WHERE d >= f
  AND analytics.trend_bucket(d::date, 'week', f::date) <> greatest(date_trunc('week', d)::date, f::date);
SELECT count(*) AS checked FROM generate_series('2019-12-20'::date, '2028-01-10', '1 day') d
WHERE analytics.trend_bucket(d::date, 'day', '2019-12-20') = d::date;

-- Seeded random data: weekly trend equals a GROUP BY over the bucket label,
-- zero buckets included; prints only disagreeing buckets.
SELECT setseed(0.3);
CREATE TEMP TABLE tr_rand AS
SELECT '2025-12-01'::date + (random() * 120)::int AS day, (random() * 50)::bigint AS n
FROM generate_series(1, 5000);
WITH t AS (SELECT * FROM analytics.trend((SELECT analytics.daycounts_agg(day, n, '2025-12-10', '2026-03-20') FROM tr_rand), 'week')),
     r AS (SELECT greatest(date_trunc('week', day)::date, '2025-12-10') AS bucket, sum(n)::bigint AS count
           FROM tr_rand WHERE day BETWEEN '2025-12-10' AND '2026-03-20' GROUP BY 1)
SELECT bucket, t.count AS trend, r.count AS group_by
FROM t FULL JOIN r USING (bucket)
WHERE t.count IS DISTINCT FROM coalesce(r.count, 0);
SELECT count(*) AS weeks, min(bucket), max(bucket)
FROM analytics.trend((SELECT analytics.daycounts_agg(day, n, '2025-12-10', '2026-03-20') FROM tr_rand), 'week');

-- Merging stored daycounts: same period adds, different periods take the union.
CREATE TEMP TABLE tr_parts AS
SELECT (day - '2025-12-01'::date) % 3 AS part, analytics.daycounts_agg(day, n, '2025-12-10', '2026-03-20') AS c
FROM tr_rand GROUP BY 1;
SELECT analytics.daycounts_merge(c)::text = (SELECT analytics.daycounts_agg(day, n, '2025-12-10', '2026-03-20')::text FROM tr_rand) AS merge_equals_union
FROM tr_parts;
-- Monthly daycounts, each over its own month, merge into the union period.
CREATE TEMP TABLE tr_months AS
SELECT date_trunc('month', day)::date AS month,
       analytics.daycounts_agg(day, n, date_trunc('month', day)::date,
                               (date_trunc('month', day) + interval '1 month - 1 day')::date) AS c
FROM tr_rand GROUP BY 1;
SELECT analytics.daycounts_merge(c ORDER BY month DESC)::text
       = (SELECT analytics.daycounts_agg(day, n, '2025-12-01', '2026-03-31')::text FROM tr_rand) AS months_merge_to_union
FROM tr_months;
SELECT analytics.daycounts_merge(c) FROM (VALUES ('[2026-03-01,2026-03-02]:{1,2}'::analytics.daycounts), ('[2026-03-04,2026-03-04]:{5}'), (NULL), ('[2026-03-02,2026-03-03]:{1,1}')) v(c);

-- Distinct agents per bucket: distinct agents per day do not add up to a
-- week, so count them per bucket label (exact).
CREATE TEMP TABLE tr_agents (day date, agent_id int);
INSERT INTO tr_agents VALUES ('2026-03-02', 1), ('2026-03-03', 1), ('2026-03-03', 2), ('2026-03-09', 3), ('2026-03-10', 3);
SELECT t.bucket, coalesce(a.agents, 0) AS unique_agents,
       (SELECT sum(c) FROM (SELECT count(DISTINCT agent_id) AS c FROM tr_agents x
                            WHERE analytics.trend_bucket(x.day, 'week', '2026-03-01') = t.bucket GROUP BY x.day) s) AS sum_of_daily_distinct
FROM analytics.trend(NULL, 'week', '2026-03-01', '2026-03-15') t
LEFT JOIN (SELECT analytics.trend_bucket(day, 'week', '2026-03-01') AS bucket, count(DISTINCT agent_id) AS agents
           FROM tr_agents WHERE day BETWEEN '2026-03-01' AND '2026-03-15' GROUP BY 1) a USING (bucket)
ORDER BY t.bucket;

-- Text form: blanks accepted, output canonical; binary round trip.
SELECT ' [ 2026-03-01 , 2026-03-02 ] : { ( 1 , 2 ) , ( 3 , +4 ) } '::analytics.daycounts;
SELECT analytics.daycounts_send('[2026-03-01,2026-03-02]:{(1,2),(3,4)}');

-- Direct calls from SQL work on copies.
SELECT analytics.daycounts_trans(NULL, '2026-03-02', 5::bigint, '2026-03-01', '2026-03-03');
SELECT analytics.daycounts_combine('[2026-03-01,2026-03-01]:{1}', '[2026-03-01,2026-03-01]:{2}'),
       analytics.daycounts_combine(NULL, '[2026-03-01,2026-03-01]:{2}'), analytics.daycounts_combine(NULL, NULL);

-- A daycounts as a jsonb daily series: every day of the period, zero-filled,
-- one key per counter; equal to the same series built in plain SQL.
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-03]:{(1,2,3),(0,0,0),(7,8,9223372036854775807)}', ARRAY['a', 'b', 'c']);
SELECT analytics.daycounts_jsonb(analytics.daycounts_agg(day, n, '2026-02-27', '2026-03-02'), ARRAY['count'])
       = (SELECT jsonb_agg(jsonb_build_object('date', to_char(g, 'YYYY-MM-DD'), 'count', coalesce(x.n, 0)) ORDER BY g)
          FROM generate_series('2026-02-27'::date, '2026-03-02', interval '1 day') g
          LEFT JOIN (VALUES ('2026-02-28'::date, 5::bigint), ('2026-03-02', 1)) x(day, n) ON x.day = g::date) AS same_as_sql
FROM (VALUES ('2026-02-28'::date, 5::bigint), ('2026-03-02', 1)) v(day, n);
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{5}', ARRAY['n']) AS one_day,
       analytics.daycounts_jsonb(NULL, ARRAY['n']) AS null_counts;

-- agent_activity_jsonb: the head with "agents", in the order given, equal to
-- the same answer built in plain SQL from daycounts_jsonb; no agents: [].
SELECT analytics.agent_activity_jsonb('{"tenantId": "t", "period": {"from": "2026-03-01", "to": "2026-03-02"}}',
         ARRAY['00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001']::uuid[],
         ARRAY['beta', NULL], ARRAY['[2026-03-01,2026-03-02]:{(1,2),(3,4)}', '[2026-03-01,2026-03-02]:{(0,0),(5,6)}']::analytics.daycounts[],
         ARRAY['x', 'y']);
SELECT analytics.agent_activity_jsonb('{"tenantId": "t"}', a.ids, a.names, a.series, ARRAY['x', 'y'])
       = jsonb_build_object('tenantId', 't', 'agents', (SELECT jsonb_agg(jsonb_build_object('agentId', i, 'agentName', n,
                                                             'dailyActivity', analytics.daycounts_jsonb(s, ARRAY['x', 'y'])) ORDER BY o)
                                                        FROM unnest(a.ids, a.names, a.series) WITH ORDINALITY u(i, n, s, o))) AS same_as_sql
FROM (SELECT ARRAY['00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001']::uuid[] AS ids,
             ARRAY['zeta', 'alpha'] AS names,
             ARRAY['[2026-02-27,2026-03-02]:{(1,2),(0,0),(3,4),(9223372036854775807,1)}',
                   '[2026-02-27,2026-03-02]:{(0,0),(0,0),(0,0),(7,7)}']::analytics.daycounts[] AS series) a;
SELECT analytics.agent_activity_jsonb('{"tenantId": "t"}', NULL, NULL, NULL, ARRAY['x']) AS no_agents,
       analytics.agent_activity_jsonb('{"tenantId": "t"}', '{}', '{}', '{}', ARRAY['x']) AS empty_arrays;
