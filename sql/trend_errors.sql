-- trend_errors: every bad input, one per line.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Granularity.
SELECT * FROM analytics.trend('[2026-03-01,2026-03-02]:{1,2}', 'month');
SELECT * FROM analytics.trend('[2026-03-01,2026-03-02]:{1,2}', 'Day');
SELECT * FROM analytics.trend('[2026-03-01,2026-03-02]:{1,2}', '');
SELECT * FROM analytics.trend(NULL, NULL, '2026-03-01', '2026-03-02');
SELECT analytics.trend_bucket('2026-03-02', 'hour', '2026-03-01');

-- Periods.
SELECT analytics.daycounts_agg(day, 1, '2026-03-02', '2026-03-01') FROM (VALUES ('2026-03-01'::date)) v(day);
SELECT * FROM analytics.trend(NULL, 'day', '2026-03-02', '2026-03-01');
SELECT analytics.daycounts_agg(day, 1, NULL, '2026-03-01') FROM (VALUES ('2026-03-01'::date)) v(day);
SELECT analytics.daycounts_agg(day, 1, '2000-01-01', '2030-01-01') FROM (VALUES ('2026-03-01'::date)) v(day);
SELECT analytics.daycounts_agg(day, 1, '-infinity', '2026-03-01') FROM (VALUES ('2026-03-01'::date)) v(day);
SELECT * FROM analytics.trend(NULL, 'day', '2026-03-01', 'infinity');
SELECT analytics.daycounts_agg(day, 1, day, day) FROM (VALUES ('2026-03-01'::date), ('2026-03-02')) v(day);
SELECT analytics.trend_bucket('2026-02-28', 'week', '2026-03-01');

-- Counts.
SELECT analytics.daycounts_agg(day, -1, '2026-03-01', '2026-03-02') FROM (VALUES ('2026-03-01'::date)) v(day);
SELECT analytics.daycounts_agg(day, 1, -3, '2026-03-01', '2026-03-02') FROM (VALUES ('2026-03-01'::date)) v(day);
SELECT analytics.daycounts_agg(day, n, '2026-03-01', '2026-03-02') FROM (VALUES ('2026-03-01'::date, 9223372036854775807), ('2026-03-01', 1)) v(day, n);
SELECT * FROM analytics.trend('[2026-03-02,2026-03-03]:{9223372036854775807,1}', 'week');
SELECT analytics.daycounts_merge(c) FROM (VALUES ('[2026-03-01,2026-03-01]:{9223372036854775807}'::analytics.daycounts), ('[2026-03-01,2026-03-01]:{1}')) v(c);
SELECT analytics.daycounts_merge(c) FROM (VALUES ('[2026-03-01,2026-03-01]:{1}'::analytics.daycounts), ('[2026-03-01,2026-03-01]:{(1,2)}')) v(c);
SELECT analytics.daycounts_merge(c) FROM (VALUES ('[2000-01-01,2000-01-01]:{1}'::analytics.daycounts), ('[2030-01-01,2030-01-01]:{1}')) v(c);

-- Malformed text.
SELECT ''::analytics.daycounts;
SELECT '[2026-03-01,2026-03-03]:{4,0}'::analytics.daycounts;
SELECT '[2026-03-01,2026-03-03]:{4,0,7,8}'::analytics.daycounts;
SELECT '[2026-03-03,2026-03-01]:{4,0,7}'::analytics.daycounts;
SELECT '[2026-02-30,2026-03-01]:{4,0}'::analytics.daycounts;
SELECT '[2026-3-1,2026-03-01]:{4}'::analytics.daycounts;
SELECT '[2026-03-01,2026-03-01]:{-4}'::analytics.daycounts;
SELECT '[2026-03-01,2026-03-01]:{99999999999999999999}'::analytics.daycounts;
SELECT '[2026-03-01,2026-03-02]:{(1,2),(3)}'::analytics.daycounts;
SELECT '[2026-03-01,2026-03-01]:{(1,2,3,4)}'::analytics.daycounts;
SELECT '[2026-03-01,2026-03-01]:{1} x'::analytics.daycounts;
SELECT '[2026-03-01,2056-03-01]:{1}'::analytics.daycounts;

-- Binary input through binary COPY.
CREATE TEMP TABLE tr_bin (c analytics.daycounts);
CREATE FUNCTION pg_temp.try_copy(payload bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE format('COPY tr_bin FROM PROGRAM %L WITH (FORMAT binary)',
                   'echo ' || translate(encode('\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                                               || '\x0001'::bytea || int4send(length(payload)) || payload
                                               || '\xffff'::bytea, 'base64'), E'\n', '')
                   || ' | base64 -d');
    RETURN 'loaded';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ' ' || SQLERRM || ': ' || detail;
END
$$;
CREATE TEMP TABLE tr_good AS SELECT analytics.daycounts_send('[2026-03-01,2026-03-02]:{(1,2),(3,4)}') AS b;
SELECT pg_temp.try_copy(b) AS valid FROM tr_good;
SELECT c FROM tr_bin;
SELECT pg_temp.try_copy(substr(b, 1, length(b) - 1)) AS truncated FROM tr_good;
SELECT pg_temp.try_copy(substr(b, 1, 11)) AS short_header FROM tr_good;
SELECT pg_temp.try_copy(b || '\x00'::bytea) AS one_byte_more FROM tr_good;
SELECT pg_temp.try_copy(set_byte(b, 1, 2)) AS version_2 FROM tr_good;
SELECT pg_temp.try_copy(set_byte(b, 3, 0)) AS zero_counters FROM tr_good;
SELECT pg_temp.try_copy(set_byte(b, 3, 4)) AS four_counters FROM tr_good;
SELECT pg_temp.try_copy(set_byte(b, 3, 1)) AS counters_vs_size FROM tr_good;
SELECT pg_temp.try_copy(set_byte(b, 11, 0)) AS zero_days FROM tr_good;
SELECT pg_temp.try_copy(set_byte(b, 8, 128)) AS negative_days FROM tr_good;
SELECT pg_temp.try_copy(set_byte(b, 4, 127)) AS first_day_out_of_range FROM tr_good;
SELECT pg_temp.try_copy(set_byte(b, 12, 255)) AS negative_count FROM tr_good;
SELECT count(*) AS rows_loaded FROM tr_bin;

-- daycounts_jsonb: one key per counter, keys 1 to 64 bytes, distinct, not "date".
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{(1,2)}', ARRAY['a']);
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{(1,2)}', ARRAY['a', 'b', 'c']);
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{(1,2)}', ARRAY['a', NULL]);
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{(1,2)}', ARRAY['a', '']);
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{(1,2)}', ARRAY['a', repeat('k', 65)]);
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{(1,2)}', ARRAY['date', 'b']);
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{(1,2)}', ARRAY['a', 'a']);
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{(1,2)}', ARRAY[['a', 'b']]);
SELECT analytics.daycounts_jsonb('[2026-03-01,2026-03-01]:{(1,2)}', '{}');

-- agent_activity_jsonb: a head object and keys; one id, name and series per
-- agent, none NULL but the name; every series with one counter per key.
SELECT analytics.agent_activity_jsonb(NULL, '{}', '{}', '{}', ARRAY['x']);
SELECT analytics.agent_activity_jsonb('[1]', '{}', '{}', '{}', ARRAY['x']);
SELECT analytics.agent_activity_jsonb('{}', '{}', '{}', '{}', NULL);
SELECT analytics.agent_activity_jsonb('{}', ARRAY['00000000-0000-4000-8000-000000000001']::uuid[], '{}', '{}', ARRAY['x']);
SELECT analytics.agent_activity_jsonb('{}', ARRAY[NULL]::uuid[], ARRAY['a'], ARRAY['[2026-03-01,2026-03-01]:{5}']::analytics.daycounts[], ARRAY['x']);
SELECT analytics.agent_activity_jsonb('{}', ARRAY['00000000-0000-4000-8000-000000000001']::uuid[], ARRAY['a'], ARRAY[NULL]::analytics.daycounts[], ARRAY['x']);
SELECT analytics.agent_activity_jsonb('{}', ARRAY['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']::uuid[], ARRAY['a', 'b'],
         ARRAY['[2026-03-01,2026-03-01]:{5}', '[2026-03-01,2026-03-01]:{(5,6)}']::analytics.daycounts[], ARRAY['x']);
SELECT analytics.agent_activity_jsonb('{}', ARRAY['00000000-0000-4000-8000-000000000001']::uuid[], ARRAY['a'], ARRAY['[2026-03-01,2026-03-01]:{5}']::analytics.daycounts[], ARRAY['date']);
SELECT analytics.agent_activity_jsonb('{}', ARRAY[['00000000-0000-4000-8000-000000000001']]::uuid[], ARRAY['a'], ARRAY['[2026-03-01,2026-03-01]:{5}']::analytics.daycounts[], ARRAY['x']);
