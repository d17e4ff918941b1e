-- metric_points: analytics.metric_parse_points (src/metric.c), the fast path
-- of metric_store, on every form of a point and every input it must not
-- vouch for (NULL: metric_store then checks point by point).  A fixed clock
-- (now_ts 2031-03-01 12:00 UTC, window [now - 30 days, now + 5 minutes]).
SET timezone = 'UTC';
CREATE FUNCTION pg_temp.parse(pts jsonb)
RETURNS TABLE (names text[], vals float8[], types text[], units text[], tags jsonb[], tags_keys uuid[], ts timestamptz[],
               new_names text[], new_types text[], new_units text[], new_first integer[])
LANGUAGE sql
AS $$ SELECT (analytics.metric_parse_points(pts, '2031-03-01 12:00Z', timestamptz '2031-03-01 12:00Z' - interval '30 days',
                                            timestamptz '2031-03-01 12:05Z')).* $$;

-- Every form: types, units, tags, timestamp separators, fractions, offsets.
\x on
SELECT * FROM pg_temp.parse('[
  {"metric_name": "api.latency", "value": 12.5, "metric_type": "timer", "unit": "ms", "tags": {"env": "prod", "host": "h1"},
   "timestamp": "2031-03-01T11:59:00.25Z"},
  {"metric_name": "queue.depth", "value": -3, "tags": null, "unit": null, "metric_type": null, "timestamp": null},
  {"metric_name": "api.latency", "value": 1e3, "metric_type": "timer", "timestamp": "2031-03-01 17:29:59.999999+05:30"},
  {"metric_name": "jobs", "value": 0, "metric_type": "counter", "unit": "µs", "tags": {"region": "é", "k/1.a:b-c": "東京"},
   "timestamp": "2031-02-28t20:00-1500"},
  {"metric_name": "h", "value": 123456.789012345678, "metric_type": "histogram", "tags": {}, "timestamp": "2031-02-01T00:00:00+14"},
  {"metric_name": "_", "value": 999999999999999, "timestamp": "2031-03-01T12:05:00z"}
]');
\x off

-- Not vouched for: each rule broken, and the rare forms left to PostgreSQL.
SELECT what, (SELECT names IS NULL FROM pg_temp.parse(pts::jsonb)) AS not_vouched
FROM (VALUES
    ('not an array', '{"metric_name": "a", "value": 1}'),
    ('a scalar', '1'),
    ('no points', '[]'),
    ('a point that is not an object', '[[]]'),
    ('a key of no field', '[{"metric_name": "a", "value": 1, "x": 1}]'),
    ('no metric_name', '[{"value": 1}]'),
    ('metric_name 9a', '[{"metric_name": "9a", "value": 1}]'),
    ('metric_name of 129 characters', '[{"metric_name": "' || repeat('a', 129) || '", "value": 1}]'),
    ('value a string', '[{"metric_name": "a", "value": "1"}]'),
    ('value true', '[{"metric_name": "a", "value": true}]'),
    ('value 1e15', '[{"metric_name": "a", "value": 1e15}]'),
    ('value -1e400', '[{"metric_name": "a", "value": -1e400}]'),
    ('value 1e-400', '[{"metric_name": "a", "value": 1e-400}]'),
    ('a negative counter', '[{"metric_name": "a", "value": -1, "metric_type": "counter"}]'),
    ('metric_type summary', '[{"metric_name": "a", "value": 1, "metric_type": "summary"}]'),
    ('unit empty', '[{"metric_name": "a", "value": 1, "unit": ""}]'),
    ('unit of 33 characters', '[{"metric_name": "a", "value": 1, "unit": "' || repeat('u', 33) || '"}]'),
    ('tags an array', '[{"metric_name": "a", "value": 1, "tags": []}]'),
    ('17 tags', '[{"metric_name": "a", "value": 1, "tags": ' || (SELECT jsonb_object_agg('k' || k, 'v')::text FROM generate_series(1, 17) k) || '}]'),
    ('a tag name 1a', '[{"metric_name": "a", "value": 1, "tags": {"1a": "x"}}]'),
    ('a tag value null', '[{"metric_name": "a", "value": 1, "tags": {"a": null}}]'),
    ('a tag value of 257 characters', '[{"metric_name": "a", "value": 1, "tags": {"a": "' || repeat('v', 257) || '"}}]'),
    ('timestamp without an offset', '[{"metric_name": "a", "value": 1, "timestamp": "2031-03-01T11:00:00"}]'),
    ('timestamp 2031-02-29', '[{"metric_name": "a", "value": 1, "timestamp": "2031-02-29T11:00:00Z"}]'),
    ('timestamp hour 24', '[{"metric_name": "a", "value": 1, "timestamp": "2031-02-28T24:00:00Z"}]'),
    ('timestamp before the window', '[{"metric_name": "a", "value": 1, "timestamp": "2031-01-29T11:59:59.999999Z"}]'),
    ('timestamp after the window', '[{"metric_name": "a", "value": 1, "timestamp": "2031-03-01T12:05:00.000001Z"}]'),
    ('two types for one name', '[{"metric_name": "a", "value": 1}, {"metric_name": "a", "value": 2, "metric_type": "timer"}]')
) v(what, pts);

-- The limits: 1000 points vouched for, 1001 not.
SELECT cardinality(names), cardinality(new_names), new_first
FROM pg_temp.parse((SELECT jsonb_agg(jsonb_build_object('metric_name', 'm' || (i % 3), 'value', i)) FROM generate_series(1, 1000) i));
SELECT names IS NULL AS not_vouched
FROM pg_temp.parse((SELECT jsonb_agg(jsonb_build_object('metric_name', 'm', 'value', i)) FROM generate_series(1, 1001) i));

-- The tag sets' keys are md5(tags::text)::uuid, as metric_store computed them in SQL.
SELECT bool_and(x.k = md5(x.t::text)::uuid) AS keys_are_md5, count(*)
FROM pg_temp.parse(('[{"metric_name": "a", "value": 1, "tags": {"b": "2", "a": "1"}}, {"metric_name": "a", "value": 1},
                     {"metric_name": "a", "value": 1, "tags": {"long": "' || repeat('ü', 256) || '", "x:y/z": ""}}]')::jsonb) p,
     unnest(p.tags, p.tags_keys) x(t, k);
