-- qsketch: the type, its text and binary forms, the aggregates and accessors.
SET extra_float_digits = 0;

-- Empty input and NULLs: NULL values are skipped, no values give NULL.
SELECT analytics.qsketch_agg(x) IS NULL AS empty FROM generate_series(1, 0) x;
SELECT analytics.qsketch_agg(NULL::float8) IS NULL AS all_null;
SELECT analytics.qsketch_agg(x) FROM (VALUES (1.0::float8), (NULL), (2.0)) v(x);

-- The text form: JSON, bucket keys by store, a zero bucket.
SELECT analytics.qsketch_agg(x) FROM generate_series(1, 10) x;
SELECT analytics.qsketch_agg(x, 0.05) FROM (VALUES (-3.0::float8), (0), ('-0'), (2e-320), (5)) v(x);
SELECT (analytics.qsketch_agg(x)::text)::jsonb ? 'positive' AS is_json FROM generate_series(1, 10) x;

-- Accessors.
WITH s AS (SELECT analytics.qsketch_agg(x) AS s FROM generate_series(1, 1000) x)
SELECT analytics.sketch_count(s) AS count, analytics.sketch_min(s) AS min,
       analytics.sketch_max(s) AS max, analytics.sketch_sum(s) AS sum,
       analytics.sketch_mean(s) AS mean, analytics.sketch_relative_accuracy(s) AS alpha,
       analytics.sketch_buckets(s) AS buckets,
       analytics.quantile(s, 0) AS q0, analytics.quantile(s, 1) AS q1,
       abs(analytics.quantile(s, 0.5) - 500) <= 5 AS median_ok
FROM s;
WITH s AS (SELECT analytics.qsketch_agg(x) AS s FROM generate_series(1, 1000) x)
SELECT analytics.quantiles(s, ARRAY[0, NULL, 1]) AS with_null,
       analytics.quantiles(s, '{}') AS empty,
       analytics.quantiles(s, '{{0,1},{1,0}}') AS two_dims
FROM s;

-- Text and binary round trips give the same value.
CREATE TEMP TABLE qs_basic AS
SELECT g, analytics.qsketch_agg(x * (CASE WHEN x % 7 = 0 THEN -1 ELSE 1 END)) AS s
FROM generate_series(1, 3000) x, generate_series(1, 3) g
WHERE x % g = 0
GROUP BY g;
SELECT g, s::text::analytics.qsketch::text = s::text AS text_round_trip,
       analytics.qsketch_from_bytes(analytics.qsketch_to_bytes(s))::text = s::text AS binary_round_trip
FROM qs_basic ORDER BY g;
SELECT '{ "positive":{"0":2}, "negative":{}, "zero":0, "sum":2, "max":1, "min":1, "count":2, "alpha":0.01, "version":1 }'::analytics.qsketch;

-- Binary COPY out and back in (a file in this cluster's data directory).
SELECT current_setting('data_directory') || '/qsketch_regress.bin' AS qs_file \gset
COPY qs_basic TO :'qs_file' WITH (FORMAT binary);
CREATE TEMP TABLE qs_basic_copy (LIKE qs_basic);
COPY qs_basic_copy FROM :'qs_file' WITH (FORMAT binary);
SELECT count(*) AS same FROM qs_basic a JOIN qs_basic_copy b USING (g) WHERE a.s::text = b.s::text;

-- Stored sketches are compact: bytes per sketch of 3000 log-normal latencies.
SELECT setseed(0.42);
CREATE TEMP TABLE qs_latency AS
SELECT exp(3.5 + 0.9 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS ms
FROM generate_series(1, 3000);
SELECT pg_column_size(analytics.qsketch_agg(ms)) < 1000 AS under_1000_bytes FROM qs_latency;

-- The aggregates have a real SQL state type, a combine function, an honest
-- state size, and are parallel safe.
SELECT a.aggfnoid::regprocedure AS aggregate, a.aggtranstype::regtype AS state,
       a.aggcombinefn::regproc AS combine, a.aggfinalfn::regproc AS final,
       a.aggtransspace AS sspace, p.proparallel AS parallel
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE a.aggfnoid::regproc::text IN ('analytics.qsketch_agg', 'analytics.qsketch_merge')
ORDER BY 1::text;

-- Direct calls of the support functions return the compact form.
SELECT analytics.qsketch_trans(NULL, 5);
SELECT analytics.qsketch_trans(analytics.qsketch_trans(NULL, 5), NULL);
SELECT analytics.qsketch_trans(NULL, 5, 0.1);
SELECT analytics.qsketch_combine(NULL, NULL) IS NULL AS null_null;
SELECT analytics.qsketch_combine(s, NULL)::text = s::text AS keeps_first,
       analytics.qsketch_combine(NULL, s)::text = s::text AS takes_second,
       analytics.sketch_count(analytics.qsketch_combine(s, s)) = 2 * analytics.sketch_count(s) AS doubles
FROM qs_basic WHERE g = 1;

-- A home-made aggregate without a final function returns the working
-- (dense) state itself; every function reads it, and it can be stored.
CREATE AGGREGATE pg_temp.qs_raw(float8) (SFUNC = analytics.qsketch_trans, STYPE = analytics.qsketch);
CREATE TEMP TABLE qs_raw_store AS SELECT pg_temp.qs_raw(x) AS s FROM generate_series(1, 500) x;
SELECT s::text = (SELECT analytics.qsketch_agg(x)::text FROM generate_series(1, 500) x) AS same_text,
       analytics.quantile(s, 0.5) AS median, analytics.sketch_count(s) AS count,
       analytics.sketch_count(analytics.qsketch_combine(s, s)) AS doubled
FROM qs_raw_store;
SELECT analytics.sketch_count(analytics.qsketch_merge(s)) FROM (SELECT s FROM qs_raw_store UNION ALL SELECT s FROM qs_basic) t;

-- Daily sketches roll up: merge(days) = sketch(all values).
CREATE TEMP TABLE qs_daily AS
SELECT d, analytics.qsketch_agg(ms) AS s
FROM (SELECT (row_number() OVER ()) % 30 AS d, ms FROM qs_latency) t GROUP BY d;
SELECT (SELECT analytics.qsketch_merge(s)::text::jsonb - 'sum' FROM qs_daily)
     = (SELECT analytics.qsketch_agg(ms)::text::jsonb - 'sum' FROM qs_latency) AS rollup_exact;
