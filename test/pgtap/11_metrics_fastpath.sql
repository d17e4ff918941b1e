-- The fast path of metric_store (analytics.metric_parse_points, src/metric.c)
-- against the rules of its point-by-point check (sql/functions/
-- 46_custom_metrics.sql):
--   1. 2,900 valid points in every form the rules allow (names at their
--      limits, JSON numbers in every notation, every type, units and tags
--      in several scripts, timestamps with every separator, fraction and
--      offset form): the columns equal plain SQL's reading of each point
--      (text::timestamptz, numeric::float8, md5(tags::text)::uuid, ...);
--   2. every broken rule, and each rare form left to PostgreSQL: never
--      vouched for (NULL), and record_metrics then refuses it naming the
--      field, or stores it as the point-by-point check reads it;
--   3. the names of a batch once each, with the type, unit and index of
--      their first point.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
SELECT setseed(0.18);

SELECT lives_ok($$SELECT analytics.upsert_tenant('00000000-0000-4000-8000-00000000fa01', 'fast path', 'pro')$$, 'a tenant');

-- 1. Valid points: their JSON text, built by hand so every notation occurs.
CREATE TEMP TABLE fp_points AS
WITH g AS (
    SELECT i,
           now() - random() * interval '29 days' AS at,
           (ARRAY['+00:00', '-00:00', '+05:30', '-0800', '+14', '-15:59', '+15:59', '+0945', '-03'])[1 + (i % 9)] AS off,
           (ARRAY['T', 't', ' '])[1 + (i % 3)] AS sep,
           i % 8 AS frac,
           (ARRAY['Z', 'z', 'offset'])[1 + (i / 7 % 3)] AS zone
    FROM generate_series(1, 3000) i
), t AS (
    SELECT g.*,
           -- the instant rendered in the zone chosen
           CASE WHEN g.zone = 'offset'
                THEN g.at AT TIME ZONE (CASE WHEN g.off LIKE '-%' THEN '+' ELSE '-' END ||
                                        CASE WHEN length(replace(substr(g.off, 2), ':', '')) = 2 THEN substr(g.off, 2) || ':00'
                                             ELSE substr(replace(substr(g.off, 2), ':', ''), 1, 2) || ':' || substr(replace(substr(g.off, 2), ':', ''), 3, 2) END)
                ELSE g.at AT TIME ZONE 'UTC' END AS local
    FROM g
)
SELECT i,
       ('{' || concat_ws(', ',
           -- (a name's type: both by i % 6)
           '"metric_name": ' || to_jsonb((ARRAY['a', '_', 'api.latency', 'x' || repeat('y', 127), 'A:b-c_d.9', 'Zz_' || i % 5])[1 + i % 6])::text,
           '"value": ' || (ARRAY['0', '-0', '1', '42', '3.25', '0.1', '1e3', '1E+5', '2.5e-3', '999999999999999', '123456.789012345678',
                                 '1e-300', '7.0', '-12.5', '0.000001'])[1 + i % 15],
           CASE (i % 6) WHEN 0 THEN NULL WHEN 1 THEN '"metric_type": null' WHEN 2 THEN '"metric_type": "gauge"'
                        WHEN 3 THEN '"metric_type": "histogram"' WHEN 4 THEN '"metric_type": "counter"' ELSE '"metric_type": "timer"' END,
           CASE (i % 5) WHEN 0 THEN NULL WHEN 1 THEN '"unit": null' WHEN 2 THEN '"unit": "ms"'
                        WHEN 3 THEN '"unit": ' || to_jsonb(repeat('é', 32))::text ELSE '"unit": "µs"' END,
           CASE (i % 7) WHEN 0 THEN NULL WHEN 1 THEN '"tags": null' WHEN 2 THEN '"tags": {}'
                        WHEN 3 THEN '"tags": {"env": "prod", "host": "h' || i % 8 || '"}'
                        WHEN 4 THEN '"tags": ' || (SELECT jsonb_object_agg('k' || k || '/x.y:z-' || k, 'v' || k)::text FROM generate_series(1, 16) k)
                        WHEN 5 THEN '"tags": {"' || repeat('t', 64) || '": ' || to_jsonb(repeat('ü', 256))::text || '}'
                        ELSE '"tags": {"region": "東京", "_a": ""}' END,
           CASE WHEN i % 11 = 0 THEN NULL
                WHEN i % 11 = 1 THEN '"timestamp": null'
                ELSE '"timestamp": "' || to_char(t.local, 'YYYY-MM-DD') || t.sep || to_char(t.local, 'HH24:MI') ||
                     CASE WHEN i % 13 = 0 THEN '' ELSE ':' || to_char(t.local, 'SS') ||
                          CASE WHEN t.frac BETWEEN 1 AND 6 THEN '.' || substr(to_char(t.local, 'US'), 1, t.frac) ELSE '' END END ||
                     CASE WHEN t.zone = 'offset' THEN t.off ELSE t.zone END || '"' END)
        || '}')::jsonb AS e
FROM t
-- counters and timers are never negative
WHERE NOT (i % 6 IN (4, 5) AND (ARRAY['0', '-0', '1', '42', '3.25', '0.1', '1e3', '1E+5', '2.5e-3', '999999999999999', '123456.789012345678',
                                      '1e-300', '7.0', '-12.5', '0.000001'])[1 + i % 15] LIKE '-1%')
;

-- each batch holds the points of one name and one type (the rule of one
-- type per name within a batch), at most 1000 points
CREATE TEMP TABLE fp_batches AS
SELECT row_number() OVER () AS b, x.name, x.ty, x.pts
FROM (SELECT e ->> 'metric_name' AS name, coalesce(e ->> 'metric_type', 'gauge') AS ty,
             jsonb_agg(e ORDER BY i) AS pts
      FROM fp_points GROUP BY 1, 2) x;

SELECT ok((SELECT count(*) FROM fp_points) >= 2900, 'at least 2,900 valid points');
SELECT ok((SELECT bool_and(jsonb_array_length(pts) <= 1000) FROM fp_batches), 'every batch within 1,000 points');

-- the fast path's answer for every batch, and plain SQL's reading
CREATE TEMP TABLE fp_got AS
SELECT f.b, (analytics.metric_parse_points(f.pts, now(), now() - interval '30 days', now() + interval '5 minutes')).*
FROM fp_batches f;

SELECT is((SELECT count(*) FROM fp_got WHERE names IS NULL), 0::bigint, 'the fast path vouches for every valid batch');

CREATE TEMP TABLE fp_want AS
SELECT f.b, x.o,
       x.e ->> 'metric_name' AS name,
       (x.e -> 'value')::numeric::float8 AS val,
       coalesce(x.e ->> 'metric_type', 'gauge') AS ty,
       x.e ->> 'unit' AS unit,
       coalesce(CASE WHEN jsonb_typeof(x.e -> 'tags') = 'object' THEN x.e -> 'tags' END, '{}') AS tags,
       coalesce((x.e ->> 'timestamp')::timestamptz, now()) AS ts
FROM fp_batches f, jsonb_array_elements(f.pts) WITH ORDINALITY x(e, o);

SELECT is((SELECT count(*) FROM fp_want w JOIN fp_got g ON g.b = w.b
           WHERE g.names[w.o::int] = w.name AND g.vals[w.o::int] = w.val AND g.types[w.o::int] = w.ty
             AND g.units[w.o::int] IS NOT DISTINCT FROM w.unit AND g.tags[w.o::int] = w.tags
             AND g.tags_keys[w.o::int] = md5(w.tags::text)::uuid AND g.ts[w.o::int] = w.ts),
          (SELECT count(*) FROM fp_want),
          'every column of every point equals plain SQL''s reading (text::timestamptz, numeric::float8, md5(tags::text)::uuid)');
SELECT is((SELECT count(*) FROM fp_got g JOIN fp_batches f ON f.b = g.b
           WHERE cardinality(g.names) = jsonb_array_length(f.pts) AND cardinality(g.ts) = cardinality(g.names)
             AND cardinality(g.tags_keys) = cardinality(g.names)),
          (SELECT count(*) FROM fp_batches), 'one element per point in every column');
-- every offset form, separator and fraction occurred
SELECT ok((SELECT count(DISTINCT substr(e ->> 'timestamp', 11, 1)) = 3 FROM fp_points WHERE e ->> 'timestamp' IS NOT NULL),
          'the separators T, t and a space occurred');
SELECT ok((SELECT count(*) FROM fp_points WHERE e ->> 'timestamp' ~ '[+-]\d\d:\d\d$') > 0
          AND (SELECT count(*) FROM fp_points WHERE e ->> 'timestamp' ~ '[+-]\d\d\d\d$') > 0
          AND (SELECT count(*) FROM fp_points WHERE e ->> 'timestamp' ~ ':\d\d[+-]\d\d$') > 0
          AND (SELECT count(*) FROM fp_points WHERE e ->> 'timestamp' ~ 'z$') > 0
          AND (SELECT count(*) FROM fp_points WHERE e ->> 'timestamp' ~ '\.\d{6}[Zz+-]') > 0
          AND (SELECT count(*) FROM fp_points WHERE e ->> 'timestamp' ~ 'T\d\d:\d\d[Zz+-]') > 0,
          'offsets +HH:MM, +HHMM and +HH, z, six fraction digits and no seconds occurred');

-- end to end: record_metrics stores what the fast path read
SELECT lives_ok($$SELECT analytics.record_metrics('00000000-0000-4000-8000-00000000fa01', pts) FROM fp_batches$$,
                'record_metrics takes every valid batch');
SELECT is((SELECT count(*) FROM analytics.metric_points p JOIN fp_want w
             ON p.metric_name = w.name AND p.value = w.val AND p.tags = w.tags AND p.ts = w.ts
               AND p.tags_key = md5(w.tags::text)::uuid
           WHERE p.tenant_id = '00000000-0000-4000-8000-00000000fa01' AND w.ts <> now()),
          (SELECT count(*) FROM fp_want WHERE ts <> now()),
          'every stored point (timestamp given) is the point sent');

-- 2. Not vouched for: every broken rule and each rare form.
CREATE TEMP TABLE fp_bad (what text, pts text, field text);
INSERT INTO fp_bad VALUES
    ('not an array', '{"metric_name": "a", "value": 1}', 'metrics'),
    ('no points', '[]', 'metrics'),
    ('a point that is not an object', '[1]', 'metrics[0]'),
    ('a key of no field', '[{"metric_name": "a", "value": 1, "colour": "red"}]', 'metrics[0].colour'),
    ('no metric_name', '[{"value": 1}]', 'metrics[0].metric_name'),
    ('metric_name a number', '[{"metric_name": 5, "value": 1}]', 'metrics[0].metric_name'),
    ('metric_name with a space', '[{"metric_name": "a b", "value": 1}]', 'metrics[0].metric_name'),
    ('metric_name starting with a digit', '[{"metric_name": "9a", "value": 1}]', 'metrics[0].metric_name'),
    ('metric_name of 129 characters', '[{"metric_name": "' || repeat('a', 129) || '", "value": 1}]', 'metrics[0].metric_name'),
    ('metric_name with a slash', '[{"metric_name": "a/b", "value": 1}]', 'metrics[0].metric_name'),
    ('no value', '[{"metric_name": "a"}]', 'metrics[0].value'),
    ('value a string', '[{"metric_name": "a", "value": "1"}]', 'metrics[0].value'),
    ('value null', '[{"metric_name": "a", "value": null}]', 'metrics[0].value'),
    ('value 1e16', '[{"metric_name": "a", "value": 1e16}]', 'metrics[0].value'),
    ('value -2e15', '[{"metric_name": "a", "value": -2e15}]', 'metrics[0].value'),
    ('value 1e400', '[{"metric_name": "a", "value": 1e400}]', 'metrics[0].value'),
    ('a negative counter', '[{"metric_name": "a", "value": -1, "metric_type": "counter"}]', 'metrics[0].value'),
    ('a negative timer', '[{"metric_name": "a", "value": -0.5, "metric_type": "timer"}]', 'metrics[0].value'),
    ('metric_type unknown', '[{"metric_name": "a", "value": 1, "metric_type": "summary"}]', 'metrics[0].metric_type'),
    ('metric_type in capitals', '[{"metric_name": "a", "value": 1, "metric_type": "Gauge"}]', 'metrics[0].metric_type'),
    ('metric_type a number', '[{"metric_name": "a", "value": 1, "metric_type": 1}]', 'metrics[0].metric_type'),
    ('unit empty', '[{"metric_name": "a", "value": 1, "unit": ""}]', 'metrics[0].unit'),
    ('unit of 33 characters', '[{"metric_name": "a", "value": 1, "unit": "' || repeat('é', 33) || '"}]', 'metrics[0].unit'),
    ('unit a number', '[{"metric_name": "a", "value": 1, "unit": 5}]', 'metrics[0].unit'),
    ('tags an array', '[{"metric_name": "a", "value": 1, "tags": ["a"]}]', 'metrics[0].tags'),
    ('tags a string', '[{"metric_name": "a", "value": 1, "tags": "a"}]', 'metrics[0].tags'),
    ('17 tags', '[{"metric_name": "a", "value": 1, "tags": ' ||
        (SELECT jsonb_object_agg('k' || k, 'v')::text FROM generate_series(1, 17) k) || '}]', 'metrics[0].tags'),
    ('a tag name with a space', '[{"metric_name": "a", "value": 1, "tags": {"a b": "x"}}]', 'metrics[0].tags'),
    ('a tag name of 65 characters', '[{"metric_name": "a", "value": 1, "tags": {"' || repeat('k', 65) || '": "x"}}]', 'metrics[0].tags'),
    ('a tag name starting with a digit', '[{"metric_name": "a", "value": 1, "tags": {"1a": "x"}}]', 'metrics[0].tags'),
    ('a tag value a number', '[{"metric_name": "a", "value": 1, "tags": {"a": 1}}]', 'metrics[0].tags'),
    ('a tag value an object', '[{"metric_name": "a", "value": 1, "tags": {"a": {"b": "c"}}}]', 'metrics[0].tags'),
    ('a tag value of 257 characters', '[{"metric_name": "a", "value": 1, "tags": {"a": "' || repeat('ü', 257) || '"}}]', 'metrics[0].tags'),
    ('timestamp a number', '[{"metric_name": "a", "value": 1, "timestamp": 1700000000}]', 'metrics[0].timestamp'),
    ('timestamp without an offset', '[{"metric_name": "a", "value": 1, "timestamp": "' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '"}]', 'metrics[0].timestamp'),
    ('timestamp with 7 fraction digits', '[{"metric_name": "a", "value": 1, "timestamp": "' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '.1234567Z"}]', 'metrics[0].timestamp'),
    ('timestamp as a word', '[{"metric_name": "a", "value": 1, "timestamp": "now"}]', 'metrics[0].timestamp'),
    ('timestamp of a day that does not exist', '[{"metric_name": "a", "value": 1, "timestamp": "' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-02-30T00:00:00Z"}]', 'metrics[0].timestamp'),
    ('timestamp offset +16:00', '[{"metric_name": "a", "value": 1, "timestamp": "' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+16:00"}]', 'metrics[0].timestamp'),
    ('timestamp 31 days ago', '[{"metric_name": "a", "value": 1, "timestamp": "' || to_char((now() - interval '31 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || 'Z"}]', 'metrics[0].timestamp'),
    ('timestamp 10 minutes ahead', '[{"metric_name": "a", "value": 1, "timestamp": "' || to_char((now() + interval '10 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || 'Z"}]', 'metrics[0].timestamp'),
    ('two types for one name', '[{"metric_name": "a", "value": 1}, {"metric_name": "a", "value": 1, "metric_type": "counter"}]', 'metrics[1].metric_type'),
    -- rare forms the point-by-point check reads (stored when in the window)
    ('value exactly 1e15', '[{"metric_name": "rare.max", "value": 1e15}]', ''),
    ('hour 24 (the next midnight)', '[{"metric_name": "rare.hour24", "value": 1, "timestamp": "' || to_char((now() - interval '2 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD') || 'T24:00:00Z"}]', '');
-- the 1001 points of a batch too long
INSERT INTO fp_bad
SELECT 'a batch of 1001 points', jsonb_agg(jsonb_build_object('metric_name', 'a', 'value', 1))::text, 'metrics'
FROM generate_series(1, 1001);

SELECT is((analytics.metric_parse_points(pts::jsonb, now(), now() - interval '30 days', now() + interval '5 minutes')).names,
          NULL, 'not vouched for: ' || what)
FROM fp_bad ORDER BY what;

-- then record_metrics: refused with the field named, or stored as read
CREATE FUNCTION pg_temp.verdict(pts text)
RETURNS text
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM analytics.record_metrics('00000000-0000-4000-8000-00000000fa01', pts::jsonb);
    RETURN '';
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN split_part(SQLERRM, ' ', 1);
WHEN others THEN
    RETURN NULL;
END
$$;
-- (the field first in the message: metrics[i].tags.name for a tag's value)
SELECT is(left(pg_temp.verdict(pts), length(field)), field,
          'record_metrics on ' || what || ': ' || CASE WHEN field = '' THEN 'stored' ELSE 'refused naming ' || field END)
FROM fp_bad WHERE field <> '' ORDER BY what;
SELECT is(pg_temp.verdict(pts), '', 'record_metrics on ' || what || ': stored')
FROM fp_bad WHERE field = '' ORDER BY what;
SELECT is((SELECT p.ts FROM analytics.metric_points p
           WHERE p.tenant_id = '00000000-0000-4000-8000-00000000fa01' AND p.metric_name = 'rare.hour24'
             AND p.ts = date_trunc('day', now() - interval '1 day')),
          date_trunc('day', now() - interval '1 day'), 'hour 24 is stored as the next midnight, as PostgreSQL reads it');
SELECT is((SELECT count(*) FROM analytics.metric_points p
           WHERE p.tenant_id = '00000000-0000-4000-8000-00000000fa01' AND p.metric_name = 'rare.max' AND p.value = 1e15),
          1::bigint, 'a value of exactly 1e15 is stored');

-- 3. Each name once, in the order of its first point, with its type and unit.
SELECT is(ARRAY[to_jsonb(r.new_names), to_jsonb(r.new_types), to_jsonb(r.new_units), to_jsonb(r.new_first)],
          ARRAY['["b", "a", "c"]', '["counter", "gauge", "timer"]', '["ms", null, null]', '[0, 1, 3]']::jsonb[],
          'each name once, in the order of its first point, with its type, unit and index')
FROM analytics.metric_parse_points('[{"metric_name": "b", "value": 1, "metric_type": "counter", "unit": "ms"},
                                     {"metric_name": "a", "value": 2},
                                     {"metric_name": "b", "value": 3, "metric_type": "counter", "unit": "s"},
                                     {"metric_name": "c", "value": 4, "metric_type": "timer"},
                                     {"metric_name": "a", "value": 5, "unit": "kg"}]',
                                   now(), now() - interval '30 days', now() + interval '5 minutes') r;
SELECT is((analytics.metric_parse_points('[{"metric_name": "a", "value": 1}]', now(), now(), now())).ts,
          ARRAY[now()], 'an absent timestamp is now_ts');

SELECT * FROM finish();
ROLLBACK;
