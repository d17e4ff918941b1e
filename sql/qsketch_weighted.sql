-- qsketch_weighted: qsketch_agg_n(value, n) counts a pre-counted row as n
-- observations of value: the same sketch as qsketch_agg over the rows
-- repeated n times (same buckets, counts, min and max; the sum up to
-- rounding); a NULL value or n, or n = 0, skips the row; n < 0 is an error.
SET extra_float_digits = 0;

-- A small case: the text forms are identical (NULLs and n = 0 skipped; an
-- integer column such as usage_events.count is accepted for n).
SELECT analytics.qsketch_agg_n(v, n)
FROM (VALUES (1.0::float8, 3), (2, 1), (10, 2), (NULL, 5), (7, NULL), (99, 0), ('NaN', 0)) t(v, n);
SELECT analytics.qsketch_agg(v)
FROM (VALUES (1.0::float8), (1), (1), (2), (10), (10)) t(v);
CREATE TEMP TABLE qs_small (v float8, n bigint);
INSERT INTO qs_small VALUES (-3.0, 2), (0, 3), ('-0', 1), (2e-320, 1), (5, 4);
SELECT analytics.qsketch_agg_n(v, n, 0.05) FROM qs_small;
SELECT analytics.qsketch_agg(v, 0.05) FROM qs_small, generate_series(1, n);

-- Nothing to count gives NULL, like qsketch_agg over no rows.
SELECT analytics.qsketch_agg_n(x, 1) IS NULL AS empty FROM generate_series(1, 0) x;
SELECT analytics.qsketch_agg_n(x, 0) IS NULL AS all_zero FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg_n(x, NULL) IS NULL AS null_n FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg_n(NULL, x) IS NULL AS null_value FROM generate_series(1, 3) x;
-- A row with a NULL value is skipped whatever its n (as heatmap_agg does).
SELECT analytics.sketch_count(analytics.qsketch_agg_n(v, n)) AS count
FROM (VALUES (NULL::float8, -1::bigint), (2, 1)) t(v, n);

-- Random pre-counted rows (n 0 to 12, some NULLs, zeros, negatives) against
-- the rows repeated n times.
SELECT setseed(0.31);
CREATE TEMP TABLE qs_w AS
SELECT i, CASE WHEN random() < 0.1 THEN -1 ELSE 1 END
          * exp(2 + 1.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS v,
       floor(random() * 13)::bigint AS n
FROM generate_series(1, 3000) i;
INSERT INTO qs_w VALUES (3001, 0, 4), (3002, NULL, 3), (3003, 5, NULL), (3004, '-0', 2), (3005, 'NaN', 0),
                        (3006, 2e-320, 1);
CREATE TEMP TABLE qs_w_cmp AS
SELECT (SELECT analytics.qsketch_agg_n(v, n) FROM qs_w) AS w,
       (SELECT analytics.qsketch_agg(v) FROM qs_w, generate_series(1, n)) AS r;
SELECT w::text::jsonb - 'sum' = r::text::jsonb - 'sum' AS same_buckets,
       analytics.sketch_count(w) AS count,
       analytics.sketch_count(w) = analytics.sketch_count(r) AS same_count,
       (SELECT sum(n) FROM qs_w WHERE v IS NOT NULL) AS rows_repeated,
       analytics.sketch_min(w) = analytics.sketch_min(r) AS same_min,
       analytics.sketch_max(w) = analytics.sketch_max(r) AS same_max,
       analytics.sketch_buckets(w) = analytics.sketch_buckets(r) AS same_buckets_n,
       abs(analytics.sketch_sum(w) - analytics.sketch_sum(r)) <= 1e-9 * abs(analytics.sketch_sum(r)) AS sum_close,
       abs(analytics.sketch_mean(w) - analytics.sketch_mean(r)) <= 1e-9 * abs(analytics.sketch_mean(r)) AS mean_close,
       analytics.quantiles(w, ARRAY[0, 0.01, 0.25, 0.5, 0.75, 0.95, 0.99, 1])
     = analytics.quantiles(r, ARRAY[0, 0.01, 0.25, 0.5, 0.75, 0.95, 0.99, 1]) AS same_quantiles
FROM qs_w_cmp;

-- Grouped, and at other accuracies.
SELECT count(*) AS groups,
       count(*) FILTER (WHERE w.s::text::jsonb - 'sum' = r.s::text::jsonb - 'sum') AS same,
       bool_and(abs(analytics.sketch_sum(w.s) - analytics.sketch_sum(r.s))
                <= 1e-9 * abs(analytics.sketch_sum(r.s))) AS sums_close
FROM (SELECT i % 7 AS g, analytics.qsketch_agg_n(v, n) AS s FROM qs_w GROUP BY 1) w
JOIN (SELECT i % 7 AS g, analytics.qsketch_agg(v) AS s FROM qs_w, generate_series(1, n) GROUP BY 1) r USING (g);
SELECT a, (SELECT analytics.qsketch_agg_n(v, n, a)::text::jsonb - 'sum' FROM qs_w)
        = (SELECT analytics.qsketch_agg(v, a)::text::jsonb - 'sum' FROM qs_w, generate_series(1, n)) AS same
FROM unnest(ARRAY[0.5, 0.05, 0.001]) a;

-- The size bound: weighted rows over 1 .. 1e6 at relative accuracy 0.0001
-- collapse the lowest buckets exactly as the repeated rows do (flags 1).
CREATE TEMP TABLE qs_wc AS
SELECT power(10::float8, 6 * ((i * 7919) % 1000) / 1000.0) AS v, (i % 5)::bigint AS n
FROM generate_series(1, 2000) i;
SELECT w::text::jsonb->'flags' AS flags, analytics.sketch_buckets(w) AS buckets,
       w::text::jsonb - 'sum' = r::text::jsonb - 'sum' AS same_buckets,
       analytics.quantiles(w, ARRAY[0.01, 0.5, 0.99]) = analytics.quantiles(r, ARRAY[0.01, 0.5, 0.99]) AS same_quantiles
FROM (SELECT analytics.qsketch_agg_n(v, n, 0.0001) AS w FROM qs_wc) a,
     (SELECT analytics.qsketch_agg(v, 0.0001) AS r FROM qs_wc, generate_series(1, n)) b;

-- Pre-counted events: usage_events.count weights latency_ms.
SELECT analytics.qsketch_agg_n(latency_ms, count)::text::jsonb - 'sum'
     = (SELECT analytics.qsketch_agg(latency_ms)::text::jsonb - 'sum'
        FROM analytics.usage_events, generate_series(1, count)) AS events_same,
       analytics.sketch_count(analytics.qsketch_agg_n(latency_ms, count))
     = (SELECT sum(count) FROM analytics.usage_events WHERE latency_ms IS NOT NULL) AS count_is_sum
FROM analytics.usage_events;

-- Weighted sketches merge like any other: with qsketch_merge, with
-- qsketch_combine, and with sketches of single values.
SELECT analytics.qsketch_merge(s)::text::jsonb - 'sum' = (SELECT w::text::jsonb - 'sum' FROM qs_w_cmp) AS merge_same
FROM (SELECT analytics.qsketch_agg_n(v, n) AS s FROM qs_w GROUP BY i % 3) t;
SELECT analytics.qsketch_combine(analytics.qsketch_agg_n(v, n) FILTER (WHERE i % 2 = 0),
                                 analytics.qsketch_agg(v) FILTER (WHERE i % 2 = 1 AND n > 0))::text::jsonb - 'sum'
     = (SELECT analytics.qsketch_agg_n(v, CASE WHEN i % 2 = 1 AND n > 0 THEN 1 ELSE n END)::text::jsonb - 'sum'
        FROM qs_w) AS combine_same
FROM qs_w;

-- The counts are exact up to 2^63 - 1, and never wrap.
SELECT analytics.sketch_count(s) AS count, analytics.sketch_sum(s) AS sum,
       analytics.quantile(s, 0.5) AS median
FROM (SELECT analytics.qsketch_agg_n(2.5, 9223372036854775807) AS s) t;
SELECT analytics.qsketch_agg_n(2.5, n) FROM (VALUES (9223372036854775807::bigint), (1)) t(n);
SELECT analytics.qsketch_agg_n(v, 4611686018427387904) FROM (VALUES (1.0::float8), (2)) t(v);
SELECT analytics.qsketch_merge(s)
FROM (SELECT analytics.qsketch_agg_n(2.5, 5000000000000000000) AS s FROM generate_series(1, 2)) t;
SELECT analytics.qsketch_agg_n(1e300, 1000000000);
SELECT analytics.qsketch_agg_n(-1e300, 1000000000);

-- Errors: negative n (22023), non-finite values, the relative accuracy.
SELECT analytics.qsketch_agg_n(x, x - 3) FROM generate_series(1, 5) x;
SELECT analytics.qsketch_agg_n(1.0, -9223372036854775808);
SELECT analytics.qsketch_agg_n(x, -1, 0.05) FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg_n(v, 2) FROM (VALUES (1::float8), ('NaN')) t(v);
SELECT analytics.qsketch_agg_n(v, 1) FROM (VALUES (1::float8), ('Infinity')) t(v);
SELECT analytics.qsketch_agg_n(x, 2, 0.6) FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg_n(x, 2, NULL) FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg_n(x, 2, x / 100.0) FROM generate_series(1, 3) x;
DO $$
BEGIN
  PERFORM analytics.qsketch_agg_n(x, -5) FROM generate_series(1, 3) x;
EXCEPTION WHEN invalid_parameter_value THEN
  RAISE NOTICE 'SQLSTATE % (invalid_parameter_value): %', SQLSTATE, SQLERRM;
END $$;

-- Direct calls of the support functions return the stored form.
SELECT analytics.qsketch_trans_n(NULL, 5, 3);
SELECT analytics.qsketch_trans_n(NULL, 5, 0) IS NULL AS zero_is_null;
SELECT analytics.qsketch_trans_n(analytics.qsketch_trans_n(NULL, 5, 3), NULL, 2);
SELECT analytics.qsketch_trans_n(analytics.qsketch_trans_n(NULL, 5, 3, 0.1), 6, 2, 0.1);

-- The aggregates have the state type, combine and final functions and
-- state size of qsketch_agg, and are parallel safe.
SELECT a.aggfnoid::regprocedure AS aggregate, a.aggtransfn::regproc AS trans,
       a.aggtranstype::regtype AS state, a.aggcombinefn::regproc AS combine,
       a.aggfinalfn::regproc AS final, a.aggtransspace AS sspace, p.proparallel AS parallel
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE a.aggfnoid::regproc::text = 'analytics.qsketch_agg_n'
ORDER BY 1::text;

-- A forced parallel plan (partial aggregates combined) gives the serial
-- result and the sketch of the repeated rows.
CREATE TABLE qs_wpar (i int, v float8, n bigint);
INSERT INTO qs_wpar SELECT i, v, n FROM qs_w, generate_series(1, 20) g;
ANALYZE qs_wpar;
SET max_parallel_workers_per_gather = 0;
SELECT analytics.qsketch_agg_n(v, n)::text AS serial FROM qs_wpar \gset
SELECT jsonb_agg(s::text::jsonb - 'sum' ORDER BY g) AS serial_groups
FROM (SELECT i % 4 AS g, analytics.qsketch_agg_n(v, n) AS s FROM qs_wpar GROUP BY 1) t \gset
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT analytics.qsketch_agg_n(v, n) FROM qs_wpar;
SELECT analytics.qsketch_agg_n(v, n)::text::jsonb - 'sum' = :'serial'::jsonb - 'sum' AS parallel_same,
       abs(analytics.sketch_sum(analytics.qsketch_agg_n(v, n)) - (:'serial'::jsonb->>'sum')::float8)
       <= 1e-9 * abs((:'serial'::jsonb->>'sum')::float8) AS sum_close,
       analytics.sketch_count(analytics.qsketch_agg_n(v, n)) = 20 * (SELECT analytics.sketch_count(w) FROM qs_w_cmp) AS count_20x
FROM qs_wpar;
SELECT jsonb_agg(s::text::jsonb - 'sum' ORDER BY g) = :'serial_groups'::jsonb AS grouped_same
FROM (SELECT i % 4 AS g, analytics.qsketch_agg_n(v, n) AS s FROM qs_wpar GROUP BY 1) t;
SELECT analytics.qsketch_agg_n(v, n, 0.05)::text::jsonb - 'sum'
     = (SELECT analytics.qsketch_agg(v, 0.05)::text::jsonb - 'sum' FROM qs_w, generate_series(1, 20 * n)) AS parallel_accuracy_same
FROM qs_wpar;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP TABLE qs_wpar;
