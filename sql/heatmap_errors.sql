-- heatmap_errors: every bad input, one per line: malformed text, corrupted
-- binary values through binary COPY, negative weights, bad zones, overflow.
SET timezone = 'UTC';

-- Malformed text.
SELECT ''::analytics.heatmap;
SELECT '{'::analytics.heatmap;
SELECT '{1:9}'::analytics.heatmap;
SELECT '{1:9=}'::analytics.heatmap;
SELECT '{1:9=1,}'::analytics.heatmap;
SELECT '{1:9=1} junk'::analytics.heatmap;
SELECT '{1;9=1}'::analytics.heatmap;
SELECT '{7:0=1}'::analytics.heatmap;
SELECT '{0:24=1}'::analytics.heatmap;
SELECT '{-1:0=1}'::analytics.heatmap;
SELECT '{0:1=-1}'::analytics.heatmap;
SELECT '{0:1=1.5}'::analytics.heatmap;
SELECT '{0:1=1,0:1=2}'::analytics.heatmap;
SELECT '{0:1=9223372036854775808}'::analytics.heatmap;
SELECT '{0:1=9223372036854775807,0:2=1}'::analytics.heatmap;

-- Binary input through binary COPY: a valid value, then truncated,
-- lengthened and corrupted ones (version, reserved, negative count, total).
CREATE TEMP TABLE hm_bin (m analytics.heatmap);
-- A binary COPY stream of one row holding payload, loaded through a shell pipe.
CREATE FUNCTION pg_temp.copy_cmd(payload bytea) RETURNS text
LANGUAGE sql AS $$
    SELECT format('COPY hm_bin FROM PROGRAM %L WITH (FORMAT binary)',
                  'echo ' || translate(encode('\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                                              || '\x0001'::bytea || int4send(length(payload)) || payload
                                              || '\xffff'::bytea, 'base64'), E'\n', '')
                  || ' | base64 -d')
$$;
-- Loads one binary COPY row; returns 'loaded' or the error it raised.
CREATE FUNCTION pg_temp.try_copy(payload bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE pg_temp.copy_cmd(payload);
    RETURN 'loaded';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ' ' || SQLERRM || ': ' || detail;
END
$$;
CREATE TEMP TABLE hm_good AS SELECT analytics.heatmap_send('{1:9=54,1:10=12}') AS b;
SELECT pg_temp.try_copy(b) AS valid FROM hm_good;
SELECT m FROM hm_bin;
SELECT pg_temp.try_copy(substr(b, 1, length(b) - 1)) AS truncated FROM hm_good;
SELECT pg_temp.try_copy(substr(b, 1, 12)) AS header_only FROM hm_good;
SELECT pg_temp.try_copy(b || '\x00'::bytea) AS one_byte_more FROM hm_good;
SELECT pg_temp.try_copy(''::bytea) AS empty FROM hm_good;
SELECT pg_temp.try_copy(set_byte(b, 1, 2)) AS version_2 FROM hm_good;
SELECT pg_temp.try_copy(set_byte(b, 3, 1)) AS reserved_set FROM hm_good;
SELECT pg_temp.try_copy(set_byte(b, 12 + 8 * 33, 255)) AS negative_cell FROM hm_good;
SELECT pg_temp.try_copy(set_byte(b, 11, 67)) AS total_mismatch FROM hm_good;
SELECT pg_temp.try_copy(set_byte(set_byte(set_byte(b, 4, 127), 12 + 8 * 33, 127), 12 + 8 * 34, 127)) AS cells_overflow FROM hm_good;
-- Consistent after the change (cell and total both +1): a valid value.
SELECT pg_temp.try_copy(set_byte(set_byte(b, 12 + 8 * 33 + 7, 55), 11, 67)) AS consistent_change FROM hm_good;
SELECT count(*) AS rows_loaded FROM hm_bin;

-- Aggregate arguments.
SELECT analytics.heatmap_agg(ts, n) FROM (VALUES ('2026-03-02 09:00+00'::timestamptz, -1::bigint)) v(ts, n);
SELECT analytics.heatmap_agg(ts) FROM (VALUES ('infinity'::timestamptz)) v(ts);
SELECT analytics.heatmap_agg(ts, 1, 'Mars/Olympus_Mons') FROM (VALUES ('2026-03-02 09:00+00'::timestamptz)) v(ts);
SELECT analytics.heatmap_agg(ts, 1, '') FROM (VALUES ('2026-03-02 09:00+00'::timestamptz)) v(ts);
SELECT analytics.heatmap_agg(ts, 1, repeat('x', 300)) FROM (VALUES ('2026-03-02 09:00+00'::timestamptz)) v(ts);
SELECT analytics.heatmap_agg(ts, 1, NULL) FROM (VALUES ('2026-03-02 09:00+00'::timestamptz)) v(ts);

-- Overflow: adding, merging, text input.
SELECT analytics.heatmap_agg(ts, n) FROM (VALUES ('2026-03-02 09:00+00'::timestamptz, 9223372036854775807), ('2026-03-02 09:00+00', 1)) v(ts, n);
SELECT analytics.heatmap_agg(ts, n) FROM (VALUES ('2026-03-02 09:00+00'::timestamptz, 9223372036854775807), ('2026-03-03 09:00+00', 1)) v(ts, n);
SELECT analytics.heatmap_merge(m) FROM (VALUES ('{0:0=9223372036854775807}'::analytics.heatmap), ('{6:23=1}')) v(m);
SELECT analytics.heatmap_combine('{0:0=9223372036854775807}', '{0:0=1}');

-- Accessors.
SELECT analytics.heatmap_cell('{}', 7, 0);
SELECT analytics.heatmap_cell('{}', 0, -1);
