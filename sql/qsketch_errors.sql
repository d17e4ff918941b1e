-- qsketch_errors: every bad input, one per line.
SET extra_float_digits = 0;
SELECT analytics.qsketch_to_bytes(analytics.qsketch_agg(x)) AS good FROM generate_series(1, 10) x \gset
SELECT :'good';

-- Malformed text.
SELECT ''::analytics.qsketch;
SELECT 'garbage'::analytics.qsketch;
SELECT '{}'::analytics.qsketch;
SELECT '{"version":1}'::analytics.qsketch;
SELECT '{"version":2,"alpha":0.01,"count":1,"min":1,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.7,"count":1,"min":1,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":3,"min":1,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":1,"min":NaN,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":1,"min":1,"max":1e400,"sum":1,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":2,"min":1,"max":2,"sum":3,"zero":0,"negative":{},"positive":{"35":1,"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":2,"min":1,"max":2,"sum":3,"zero":0,"negative":{},"positive":{"0":1,"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":1,"min":1,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":0,"1":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":1,"min":2,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":1,"min":5,"max":5,"sum":5,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":1,"min":1,"max":1,"sum":1,"flags":4,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":1,"min":1,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":1},"extra":1}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":1,"min":1,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":1}} trailing'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":1,"count":1,"min":1,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":2,"min":1,"max":1e300,"sum":1,"zero":0,"negative":{},"positive":{"0":1,"9999":1}}'::analytics.qsketch;
SELECT '{"version":1,"alpha":0.01,"count":99999999999999999999,"min":1,"max":1,"sum":1,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;

-- Truncated and corrupted binary values (the receive path).
SELECT analytics.qsketch_from_bytes('\x');
SELECT analytics.qsketch_from_bytes('\x01');
SELECT analytics.qsketch_from_bytes(substr(:'good'::bytea, 1, 44));
SELECT analytics.qsketch_from_bytes(substr(:'good'::bytea, 1, length(:'good'::bytea) - 1));
SELECT analytics.qsketch_from_bytes(:'good'::bytea || '\x00'::bytea);
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x02' FROM 1 FOR 1));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x04' FROM 2 FOR 1));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x80' FROM 2 FOR 1));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x01' FROM 3 FOR 1));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x000000000000f87f' FROM 5 FOR 8));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x0b' FROM 13 FOR 1));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x000000000000f87f' FROM 21 FOR 8));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x0000000000000840' FROM 21 FOR 8));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x00000000000000c0' FROM 29 FOR 8));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x000000000000f07f' FROM 37 FOR 8));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\xff' FROM 46 FOR 1));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x00' FROM 50 FOR 1));
SELECT analytics.qsketch_from_bytes(overlay(:'good'::bytea PLACING '\x02' FROM 49 FOR 1));

-- A corrupted value in a binary COPY file is refused by the receive function
-- (files in this cluster's data directory).
SELECT current_setting('data_directory') || '/qsketch_corrupt.bin' AS qs_file,
       'base64 -d > ' || current_setting('data_directory') || '/qsketch_corrupt.bin' AS qs_prog \gset
CREATE TEMP TABLE qs_copy (s analytics.qsketch);
COPY (SELECT translate(encode('\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
        || '\x0001'::bytea || int4send(length(b)) || b || '\xffff'::bytea, 'base64'), E'\n', '')
      FROM (SELECT overlay(:'good'::bytea PLACING '\x07' FROM 13 FOR 1) AS b) t)
  TO PROGRAM :'qs_prog';
COPY qs_copy FROM :'qs_file' WITH (FORMAT binary);
COPY (SELECT translate(encode('\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
        || '\x0001'::bytea || int4send(length(b)) || b || '\xffff'::bytea, 'base64'), E'\n', '')
      FROM (SELECT substr(:'good'::bytea, 1, 30) AS b) t)
  TO PROGRAM :'qs_prog';
COPY qs_copy FROM :'qs_file' WITH (FORMAT binary);
SELECT count(*) AS rows_loaded FROM qs_copy;

-- Relative accuracy out of range or NULL.
SELECT analytics.qsketch_agg(x, 0.6) FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg(x, 0.00001) FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg(x, 0) FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg(x, 'NaN') FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg(x, NULL) FROM generate_series(1, 3) x;
SELECT analytics.qsketch_agg(x, x / 100.0) FROM generate_series(1, 3) x;

-- NaN and infinities.
SELECT analytics.qsketch_agg(x) FROM (VALUES (1::float8), ('NaN')) v(x);
SELECT analytics.qsketch_agg(x) FROM (VALUES (1::float8), ('Infinity')) v(x);
SELECT analytics.qsketch_agg(x) FROM (VALUES (1::float8), ('-Infinity')) v(x);
SELECT analytics.qsketch_agg(x, 0.05) FROM (VALUES ('NaN'::float8)) v(x);
SELECT analytics.qsketch_agg(x) FROM (VALUES (1e308::float8), (1e308)) v(x);

-- Merging sketches of different accuracy.
SELECT analytics.qsketch_merge(s) FROM (SELECT analytics.qsketch_agg(x, 0.01) FROM generate_series(1, 5) x
                                        UNION ALL SELECT analytics.qsketch_agg(x, 0.02) FROM generate_series(1, 5) x) t(s);
SELECT analytics.qsketch_combine(analytics.qsketch_trans(NULL, 1, 0.01), analytics.qsketch_trans(NULL, 1, 0.05));

-- Quantiles out of range.
SELECT analytics.quantile(analytics.qsketch_agg(x), 1.5) FROM generate_series(1, 5) x;
SELECT analytics.quantile(analytics.qsketch_agg(x), -0.01) FROM generate_series(1, 5) x;
SELECT analytics.quantile(analytics.qsketch_agg(x), 'NaN') FROM generate_series(1, 5) x;
SELECT analytics.quantiles(analytics.qsketch_agg(x), ARRAY[0.5, 2]) FROM generate_series(1, 5) x;
