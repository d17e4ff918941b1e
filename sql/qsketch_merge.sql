-- qsketch_merge: merging is exact (same buckets, counts, min and max as the
-- sketch of the union, in any order; the sum only up to rounding), and a
-- forced parallel plan gives the serial result.
SET extra_float_digits = 0;
SELECT setseed(0.77);
CREATE TEMP TABLE qs_m AS
SELECT i, CASE WHEN random() < 0.1 THEN -1 ELSE 1 END
          * exp(2 + 2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS v
FROM generate_series(1, 20000) i;

-- 40 random splits into 1 to 6 parts (some empty), merged in both orders.
CREATE TEMP TABLE qs_parts AS
SELECT t.trial, (hashint8(i * 1000 + t.trial) & 2147483647) % (1 + t.trial % 6) AS part,
       analytics.qsketch_agg(v) AS s
FROM qs_m CROSS JOIN generate_series(1, 40) t(trial)
WHERE (hashint8(i * 7 + t.trial) & 15) <> 0 OR t.trial % 2 = 0
GROUP BY 1, 2;
CREATE TEMP TABLE qs_whole AS
SELECT t.trial, analytics.qsketch_agg(v) AS s
FROM qs_m CROSS JOIN generate_series(1, 40) t(trial)
WHERE (hashint8(i * 7 + t.trial) & 15) <> 0 OR t.trial % 2 = 0
GROUP BY 1;
SELECT count(*) AS trials,
       count(*) FILTER (WHERE asc_s::text::jsonb - 'sum' = w.s::text::jsonb - 'sum') AS asc_exact,
       count(*) FILTER (WHERE desc_s::text::jsonb - 'sum' = w.s::text::jsonb - 'sum') AS desc_exact,
       bool_and(abs(analytics.sketch_sum(asc_s) - analytics.sketch_sum(w.s))
                <= 1e-9 * abs(analytics.sketch_sum(w.s))) AS sums_close
FROM (SELECT trial, analytics.qsketch_merge(s ORDER BY part) AS asc_s,
             analytics.qsketch_merge(s ORDER BY part DESC) AS desc_s
      FROM qs_parts GROUP BY trial) m
JOIN qs_whole w USING (trial);

-- Merging with NULL sketches skips them; merging nothing gives NULL.
SELECT analytics.qsketch_merge(s)::text = (SELECT s::text FROM qs_whole WHERE trial = 1) AS nulls_skipped
FROM (SELECT s FROM qs_whole WHERE trial = 1 UNION ALL SELECT NULL) t;
SELECT analytics.qsketch_merge(s) IS NULL AS empty FROM qs_whole WHERE false;

-- Forced parallel plan over a partitioned table with empty partitions.
CREATE TABLE qs_part (g int, v float8) PARTITION BY LIST (g);
CREATE TABLE qs_part_0 PARTITION OF qs_part FOR VALUES IN (0);
CREATE TABLE qs_part_1 PARTITION OF qs_part FOR VALUES IN (1);
CREATE TABLE qs_part_2 PARTITION OF qs_part FOR VALUES IN (2);
CREATE TABLE qs_part_3 PARTITION OF qs_part FOR VALUES IN (3);
INSERT INTO qs_part SELECT i % 2, v FROM qs_m;
INSERT INTO qs_part SELECT 1, v FROM qs_m WHERE i % 5 = 0;
ANALYZE qs_part;

CREATE TABLE qs_stored AS SELECT trial, part, s FROM qs_parts, generate_series(1, 20);
ANALYZE qs_stored;

SET max_parallel_workers_per_gather = 0;
SELECT analytics.qsketch_agg(v)::text AS serial FROM qs_part \gset
SELECT jsonb_agg(s::text::jsonb - 'sum' ORDER BY g) AS serial_groups
FROM (SELECT g, analytics.qsketch_agg(v) s FROM qs_part GROUP BY g) t \gset
SELECT analytics.qsketch_merge(s)::text AS serial_merge FROM qs_stored \gset

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT analytics.qsketch_agg(v) FROM qs_part;
SELECT analytics.qsketch_agg(v)::text::jsonb - 'sum' = :'serial'::jsonb - 'sum' AS parallel_same,
       abs(analytics.sketch_sum(analytics.qsketch_agg(v)) - (:'serial'::jsonb->>'sum')::float8)
       <= 1e-9 * abs((:'serial'::jsonb->>'sum')::float8) AS sum_close
FROM qs_part;
SELECT analytics.quantiles(analytics.qsketch_agg(v), ARRAY[0.5, 0.99])
     = analytics.quantiles(:'serial'::analytics.qsketch, ARRAY[0.5, 0.99]) AS quantiles_same
FROM qs_part;
-- grouped, in parallel
SELECT jsonb_agg(s::text::jsonb - 'sum' ORDER BY g) = :'serial_groups'::jsonb AS grouped_same
FROM (SELECT g, analytics.qsketch_agg(v) s FROM qs_part GROUP BY g) t;
-- the merge aggregate in parallel
EXPLAIN (COSTS OFF) SELECT analytics.qsketch_merge(s) FROM qs_stored;
SELECT analytics.qsketch_merge(s)::text::jsonb - 'sum' = :'serial_merge'::jsonb - 'sum' AS parallel_merge_same,
       analytics.sketch_count(analytics.qsketch_merge(s)) AS count
FROM qs_stored;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP TABLE qs_part, qs_stored;
