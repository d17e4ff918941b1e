-- heatmap_parallel: forced parallel plans (zero parallel costs, leader not
-- participating, empty partitions) run the heatmap, daycounts and usage
-- summary aggregates in partial mode and give the serial answer.
SET timezone = 'UTC';
SELECT setseed(0.7);
CREATE TABLE hm_par (ts timestamptz NOT NULL, day date NOT NULL, metric text NOT NULL, n bigint)
    PARTITION BY RANGE (ts);
CREATE TABLE hm_par_1 PARTITION OF hm_par FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE hm_par_2 PARTITION OF hm_par FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');  -- stays empty
CREATE TABLE hm_par_3 PARTITION OF hm_par FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
CREATE TABLE hm_par_4 PARTITION OF hm_par FOR VALUES FROM ('2026-04-01') TO ('2026-05-01');  -- stays empty
INSERT INTO hm_par
SELECT ts, (ts AT TIME ZONE 'UTC')::date,
       (ARRAY['api_calls', 'token_issuances', 'credential_rotations', 'tool_calls'])[1 + (random() * 3)::int],
       (random() * 20)::bigint
FROM (SELECT CASE WHEN random() < 0.5 THEN '2026-01-01 00:00+00'::timestamptz + random() * interval '31 days'
                  ELSE '2026-03-01 00:00+00'::timestamptz + random() * interval '31 days' END AS ts
      FROM generate_series(1, 60000)) s;
ANALYZE hm_par;

-- Serial answers.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE hm_serial AS
SELECT analytics.heatmap_agg(ts)::text AS h1,
       analytics.heatmap_agg(ts, n)::text AS h2,
       analytics.heatmap_agg(ts, n, 'Europe/Berlin')::text AS h3,
       analytics.daycounts_agg(day, n, '2026-01-01', '2026-04-30')::text AS d1,
       analytics.usage_summary_agg(day, metric, n, '2026-01-01', '2026-04-30')::text AS s1
FROM hm_par;

-- Forced parallel plan.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT analytics.heatmap_agg(ts), analytics.heatmap_agg(ts, n), analytics.heatmap_agg(ts, n, 'Europe/Berlin'),
       analytics.daycounts_agg(day, n, '2026-01-01', '2026-04-30'),
       analytics.usage_summary_agg(day, metric, n, '2026-01-01', '2026-04-30')
FROM hm_par;
SELECT analytics.heatmap_agg(ts)::text = h1 AS heatmap_same,
       analytics.heatmap_agg(ts, n)::text = h2 AS weighted_same,
       analytics.heatmap_agg(ts, n, 'Europe/Berlin')::text = h3 AS zone_same,
       analytics.daycounts_agg(day, n, '2026-01-01', '2026-04-30')::text = d1 AS daycounts_same,
       analytics.usage_summary_agg(day, metric, n, '2026-01-01', '2026-04-30')::text = s1 AS summary_same
FROM hm_par, hm_serial
GROUP BY h1, h2, h3, d1, s1;

-- No row qualifies: every worker hands over a NULL state.
EXPLAIN (COSTS OFF)
SELECT analytics.heatmap_agg(ts) FROM hm_par WHERE n < 0;
SELECT analytics.heatmap_agg(ts), analytics.daycounts_agg(day, n, '2026-02-01', '2026-02-03'),
       analytics.usage_summary_agg(day, metric, n, '2026-02-01', '2026-02-03')
FROM hm_par WHERE n < 0;

-- Merging stored daily matrices in parallel equals the serial aggregate.
CREATE TABLE hm_par_daily AS
SELECT day, analytics.heatmap_agg(ts, n) AS m FROM hm_par GROUP BY day;
ANALYZE hm_par_daily;
EXPLAIN (COSTS OFF)
SELECT analytics.heatmap_merge(m) FROM hm_par_daily;
SELECT analytics.heatmap_merge(m)::text = (SELECT h2 FROM hm_serial) AS parallel_merge_same
FROM hm_par_daily;

-- Grouped and parallel: one matrix per metric, and merging stored matrices.
CREATE TEMP TABLE hm_by_metric AS
SELECT metric, analytics.heatmap_agg(ts, n) AS m FROM hm_par GROUP BY metric;
EXPLAIN (COSTS OFF)
SELECT metric, analytics.heatmap_agg(ts, n) FROM hm_par GROUP BY metric;
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS disagreeing_groups
FROM (SELECT metric, analytics.heatmap_agg(ts, n)::text AS m FROM hm_par GROUP BY metric) s
JOIN hm_by_metric p USING (metric)
WHERE s.m <> p.m::text;
SELECT analytics.heatmap_merge(m)::text = (SELECT h2 FROM hm_serial) AS merge_of_groups
FROM hm_by_metric;

RESET ALL;
DROP TABLE hm_par, hm_par_daily;
