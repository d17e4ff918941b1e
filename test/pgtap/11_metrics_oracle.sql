-- Custom metrics (contract §6.5): statistics and time series against exact
-- SQL over the raw points (count, min, max equal; sums to 1e-9; p50, p95,
-- p99 within 1%), read from hourly rollups, rolled hours written again and
-- the raw tail; tag filters; default buckets; zero-filled buckets; the
-- rollup is idempotent; retention keeps statistics whole from the rollups.
-- Every time is relative to the transaction's now() (so the test holds at
-- any hour), with windows that cannot cross a boundary during the test.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT * FROM no_plan();
SET LOCAL timezone = 'UTC';
SET LOCAL client_min_messages = warning;
\ir 11_metrics.inc

SELECT analytics.upsert_tenant(pg_temp.tenant(n), 'metrics test ' || n, CASE WHEN n = 3 THEN 'free' ELSE 'pro' END)
FROM generate_series(1, 3) n \g /dev/null

-- 3000 timer points of tenant 1 over the 50 hours before this hour, a
-- skewed distribution (1 to about 3000 ms), tags env (prod, dev) and
-- region (r0, r1, r2); written in batches of 1000.
CREATE TEMP TABLE h0 AS SELECT date_trunc('hour', now()) AS h;
SELECT is((SELECT sum((analytics.record_metrics(pg_temp.tenant(1), (
        SELECT jsonb_agg(jsonb_build_object(
            'metric_name', 'api.latency', 'metric_type', 'timer', 'unit', 'ms',
            'value', round(exp(((g * 2654435761::bigint) % 100000) / 100000.0 * 8)::numeric, 3),
            'tags', jsonb_build_object('env', CASE WHEN g % 2 = 0 THEN 'prod' ELSE 'dev' END, 'region', 'r' || g % 3),
            'timestamp', analytics.utc_text((SELECT h FROM h0) - interval '50 hours' + g * interval '1 minute')))
        FROM generate_series(b * 1000 + 1, b * 1000 + 1000) g)) ->> 'recorded')::integer)
           FROM generate_series(0, 2) b), 3000::bigint, 'record_metrics stores 3 batches of 1000 points');
SELECT is((SELECT count(*) FROM analytics.metric_points WHERE tenant_id = pg_temp.tenant(1)), 3000::bigint, '3000 raw points');

-- Into day partitions, then rolled up.
SELECT ok(analytics.maintain_metric_partitions() >= 3, 'maintain_metric_partitions premakes and drains the default partition');
SELECT is((SELECT count(*) FROM analytics.metric_points_default), 0::bigint, 'the default partition is drained');
SELECT lives_ok('SELECT analytics.rollup_metric_hours()', 'the rollup runs');
SELECT is((SELECT rolled_until FROM analytics.metric_rollup_state), (SELECT h FROM h0), 'rolled until this hour');
SELECT is((SELECT count(*) FROM analytics.metric_dirty_hours), 0::bigint, 'no dirty hours after the rollup');
SELECT is((SELECT sum(count) FROM analytics.metric_hourly WHERE tenant_id = pg_temp.tenant(1)),
          (SELECT count(*) FROM analytics.metric_points WHERE tenant_id = pg_temp.tenant(1) AND ts < (SELECT h FROM h0))::numeric,
          'the rollups hold every point before this hour');

-- Idempotent: a second run changes nothing.
CREATE TEMP TABLE before_rerun AS
SELECT tenant_id, metric_name, tags_key, hour, count, sum, min, max, sketch::text FROM analytics.metric_hourly;
SELECT lives_ok('SELECT analytics.rollup_metric_hours()', 'a second rollup runs');
SELECT is((SELECT count(*) FROM (
              (SELECT tenant_id, metric_name, tags_key, hour, count, sum, min, max, sketch::text FROM analytics.metric_hourly
               EXCEPT ALL SELECT * FROM before_rerun)
              UNION ALL
              (SELECT * FROM before_rerun
               EXCEPT ALL SELECT tenant_id, metric_name, tags_key, hour, count, sum, min, max, sketch::text FROM analytics.metric_hourly)) x),
          0::bigint, 'rolling up again gives the same rows');
-- Dirty hours forced: recomputing them gives the same rows too.
INSERT INTO analytics.metric_dirty_hours (tenant_id, hour)
SELECT DISTINCT tenant_id, hour FROM analytics.metric_hourly;
SELECT lives_ok('SELECT analytics.rollup_metric_hours()', 'a rollup of every hour again');
SELECT is((SELECT count(*) FROM (
              (SELECT tenant_id, metric_name, tags_key, hour, count, sum, min, max, sketch::text FROM analytics.metric_hourly
               EXCEPT ALL SELECT * FROM before_rerun)
              UNION ALL
              (SELECT * FROM before_rerun
               EXCEPT ALL SELECT tenant_id, metric_name, tags_key, hour, count, sum, min, max, sketch::text FROM analytics.metric_hourly)) x),
          0::bigint, 'recomputing rolled hours gives the same rows');

-- Late points into a rolled hour (logged dirty, read raw) and the raw tail
-- of this hour.
SELECT is((analytics.record_metrics(pg_temp.tenant(1), (
        SELECT jsonb_agg(jsonb_build_object('metric_name', 'api.latency', 'metric_type', 'timer', 'value', 5000 + g,
                                            'tags', jsonb_build_object('env', 'prod', 'region', 'r1'),
                                            'timestamp', analytics.utc_text((SELECT h FROM h0) - interval '30 hours' + g * interval '1 second')))
        FROM generate_series(1, 20) g)) ->> 'recorded')::integer, 20, 'late points into a rolled hour');
SELECT is((SELECT count(*) FROM analytics.metric_dirty_hours WHERE tenant_id = pg_temp.tenant(1)), 1::bigint,
          'the rolled hour is logged as dirty');
SELECT is((analytics.record_metrics(pg_temp.tenant(1), (
        SELECT jsonb_agg(jsonb_build_object('metric_name', 'api.latency', 'metric_type', 'timer', 'value', g * 1.5,
                                            'tags', jsonb_build_object('env', 'dev', 'region', 'r2'),
                                            'timestamp', analytics.utc_text((SELECT h FROM h0) + (now() - (SELECT h FROM h0)) * g / 10)))
        FROM generate_series(0, 9) g)) ->> 'recorded')::integer, 10, 'points of this hour (the raw tail)');
SELECT is((analytics.record_metric(pg_temp.tenant(1), 'api.latency', 7.25, 'timer', NULL, '{"env":"prod","region":"r0"}') ->> 'recorded')::integer,
          1, 'record_metric, timestamp now');

-- Statistics against the exact answer.
CREATE TEMP TABLE windows (label text, f timestamptz, t timestamptz);
INSERT INTO windows
SELECT 'last 24 hours', now() - interval '24 hours', now() + interval '1 microsecond'
UNION ALL SELECT 'last 72 hours', now() - interval '72 hours', now() + interval '1 microsecond'
UNION ALL SELECT 'whole hours H-40..H-10', h - interval '40 hours', h - interval '10 hours' FROM h0
UNION ALL SELECT 'unaligned H-45.5..H-0.25', h - interval '45 hours 30 minutes', h - interval '15 minutes' FROM h0
UNION ALL SELECT 'a year', now() - interval '8760 hours', now() + interval '1 microsecond'
UNION ALL SELECT 'empty (before the points)', h - interval '200 hours', h - interval '100 hours' FROM h0;
CREATE TEMP TABLE filters (tags jsonb);
INSERT INTO filters VALUES (NULL), ('{"env":"prod"}'), ('{"env":"prod","region":"r1"}'), ('{"region":"r2"}'), ('{"env":"none"}');
SELECT is(pg_temp.differs(analytics.metric_statistics(pg_temp.tenant(1), 'api.latency', w.f, w.t, x.tags),
                          pg_temp.exact(pg_temp.tenant(1), 'api.latency', x.tags, w.f, w.t)), '',
          format('statistics %s, tags %s: equal to the exact answer', w.label, coalesce(x.tags::text, 'none')))
FROM windows w CROSS JOIN filters x ORDER BY w.label, x.tags::text NULLS FIRST;
SELECT ok((analytics.metric_statistics(pg_temp.tenant(1), 'api.latency', now() - interval '72 hours', now() + interval '1 microsecond') ->> 'count')::integer = 3031,
          'every point is counted once (3000 + 20 late + 11 new)');

-- The shape (seed 002's snake_case keys, and ours).
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(
              analytics.metric_statistics(pg_temp.tenant(1), 'api.latency', now() - interval '1 hour', now())) k),
          ARRAY['avg', 'count', 'max', 'metric_name', 'metric_type', 'min', 'p50', 'p95', 'p99', 'period', 'sum', 'tags',
                'tenant_id', 'unit'], 'statistics keys (a timer: no rate_per_second)');
SELECT is(analytics.metric_statistics(pg_temp.tenant(1), 'api.latency', now() - interval '1 hour', now()) -> 'unit',
          '"ms"'::jsonb, 'the unit of the first point');
SELECT is((analytics.metric_statistics(pg_temp.tenant(1), 'api.latency', now() - interval '200 hours', now() - interval '199 hours')
           - ARRAY['metric_name', 'metric_type', 'unit', 'tenant_id', 'tags', 'period']),
          '{"count": 0, "sum": null, "avg": null, "min": null, "max": null, "p50": null, "p95": null, "p99": null}'::jsonb,
          'a window without points: count 0 and nulls');
SELECT is((SELECT round(((s ->> 'avg')::float8 * (s ->> 'count')::float8 - (s ->> 'sum')::float8)::numeric, 6)
           FROM analytics.metric_statistics(pg_temp.tenant(1), 'api.latency', now() - interval '72 hours', now()) s),
          0::numeric, 'avg = sum / count');

-- Counters: rate_per_second = sum / window seconds.
SELECT is((analytics.record_metrics(pg_temp.tenant(1), (
        SELECT jsonb_agg(jsonb_build_object('metric_name', 'jobs.done', 'metric_type', 'counter', 'value', g,
                                            'timestamp', analytics.utc_text(now() - g * interval '1 minute')))
        FROM generate_series(1, 100) g)) ->> 'recorded')::integer, 100, 'counter increments');
SELECT is((SELECT (s ->> 'rate_per_second')::numeric FROM analytics.metric_statistics(pg_temp.tenant(1), 'jobs.done',
               now() - interval '10000 seconds', now()) s), 5050 / 10000.0, 'rate_per_second of a counter');

-- Time series against the exact answer per bucket.
CREATE TEMP TABLE series (label text, f timestamptz, t timestamptz, bucket text, tags jsonb);
INSERT INTO series
SELECT '1h over 72 hours', now() - interval '72 hours', now() + interval '1 microsecond', '1h', NULL::jsonb
UNION ALL SELECT '6h over 72 hours, prod', now() - interval '72 hours', now() + interval '1 microsecond', '6h', '{"env":"prod"}'
UNION ALL SELECT '1d over a year', now() - interval '8760 hours', now() + interval '1 microsecond', '1d', NULL
UNION ALL SELECT '5m over 24 hours, r1', now() - interval '24 hours', now() + interval '1 microsecond', '5m', '{"region":"r1"}'
UNION ALL SELECT '15m over 48 hours', now() - interval '48 hours', now() + interval '1 microsecond', '15m', NULL
UNION ALL SELECT '1m over 8 hours', now() - interval '8 hours', now() + interval '1 microsecond', '1m', NULL;
SELECT is((SELECT coalesce(string_agg(d.e ->> 'timestamp' || ' ' || pg_temp.differs(d.e,
                  pg_temp.exact(pg_temp.tenant(1), 'api.latency', s.tags, greatest(s.f, (d.e ->> 'timestamp')::timestamptz),
                                least(s.t, (d.e ->> 'timestamp')::timestamptz + analytics.metric_bucket_width(s.bucket)))), '; ')
                      FILTER (WHERE pg_temp.differs(d.e,
                  pg_temp.exact(pg_temp.tenant(1), 'api.latency', s.tags, greatest(s.f, (d.e ->> 'timestamp')::timestamptz),
                                least(s.t, (d.e ->> 'timestamp')::timestamptz + analytics.metric_bucket_width(s.bucket)))) <> ''), '')
           FROM jsonb_array_elements(analytics.metric_time_series(pg_temp.tenant(1), 'api.latency', s.f, s.t, s.bucket, s.tags) -> 'data') d(e)),
          '', 'time series ' || s.label || ': every bucket equal to the exact answer')
FROM series s ORDER BY s.label;
SELECT is((SELECT sum((d.e ->> 'count')::bigint) FROM jsonb_array_elements(
              analytics.metric_time_series(pg_temp.tenant(1), 'api.latency', s.f, s.t, s.bucket, s.tags) -> 'data') d(e)),
          (pg_temp.exact(pg_temp.tenant(1), 'api.latency', s.tags, s.f, s.t) ->> 'count')::numeric,
          'time series ' || s.label || ': the buckets add up to the window')
FROM series s ORDER BY s.label;
-- Every bucket, oldest first, UTC-aligned, the empty ones count 0 and nulls.
SELECT is(jsonb_array_length(analytics.metric_time_series(pg_temp.tenant(1), 'api.latency', h - interval '100 hours', h, '1h') -> 'data'),
          100, '1h buckets of 100 whole hours: 100 buckets') FROM h0;
SELECT is(analytics.metric_time_series(pg_temp.tenant(1), 'api.latency', h - interval '100 hours', h, '1h') -> 'data' -> 0,
          jsonb_build_object('timestamp', analytics.utc_text(h - interval '100 hours'), 'count', 0, 'sum', NULL, 'avg', NULL,
                             'min', NULL, 'max', NULL, 'p50', NULL, 'p95', NULL, 'p99', NULL),
          'an empty bucket: count 0 and nulls') FROM h0;
SELECT ok((SELECT bool_and(x.ts > x.prev) FROM (
               SELECT (d.e ->> 'timestamp')::timestamptz AS ts,
                      coalesce(lag((d.e ->> 'timestamp')::timestamptz) OVER (ORDER BY d.i), '-infinity') AS prev
               FROM jsonb_array_elements(analytics.metric_time_series(pg_temp.tenant(1), 'api.latency', now() - interval '72 hours', now(), '6h') -> 'data')
                    WITH ORDINALITY d(e, i)) x), 'buckets oldest first');
SELECT ok((SELECT bool_and(extract(hour FROM (d.e ->> 'timestamp')::timestamptz) IN (0, 6, 12, 18)
                           AND extract(minute FROM (d.e ->> 'timestamp')::timestamptz) = 0)
           FROM jsonb_array_elements(analytics.metric_time_series(pg_temp.tenant(1), 'api.latency', now() - interval '72 hours', now(), '6h') -> 'data') d(e)),
          '6h buckets start at 00, 06, 12, 18 UTC');
-- The default bucket: the smallest giving at most 500 buckets.
SELECT is(analytics.metric_time_series(pg_temp.tenant(1), 'api.latency', now() - make_interval(hours => x.hours), now() + interval '1 microsecond') ->> 'bucket',
          x.bucket, format('default bucket over %s hours: %s', x.hours, x.bucket))
FROM (VALUES (1, '1m'), (8, '1m'), (9, '5m'), (24, '5m'), (41, '5m'), (42, '15m'), (124, '15m'), (126, '1h'), (168, '1h'),
             (498, '1h'), (502, '6h'), (2000, '6h'), (2994, '6h'), (3006, '1d'), (8760, '1d')) x(hours, bucket);
SELECT ok((SELECT max(jsonb_array_length(analytics.metric_time_series(pg_temp.tenant(1), 'api.latency', now() - make_interval(hours => n), now() + interval '1 microsecond') -> 'data'))
           FROM unnest(ARRAY[1, 8, 9, 24, 41, 42, 124, 126, 168, 498, 502, 2000, 2994, 3006, 8760]) n) <= 500,
          'a default bucket never gives more than 500 buckets');

-- Platform metrics (tenant NULL) are apart from every tenant's.
SELECT is((analytics.record_metric(NULL, 'api.latency', 42, 'gauge') ->> 'recorded')::integer, 1,
          'the platform records a name a tenant also uses, with its own type');
SELECT is(analytics.metric_statistics(NULL, 'api.latency', now() - interval '1 hour', now() + interval '1 microsecond') ->> 'count',
          '1', 'platform statistics count the platform''s points only');
SELECT is(analytics.metric_statistics(NULL, 'api.latency', now() - interval '1 hour', now() + interval '1 microsecond') -> 'tenant_id',
          'null'::jsonb, 'platform answers have tenant_id null');
SELECT is(analytics.metric_names(pg_temp.tenant(1)) -> 'metrics',
          jsonb_build_array(
              jsonb_build_object('metric_name', 'api.latency', 'metric_type', 'timer', 'unit', 'ms',
                                 'first_seen', (SELECT analytics.utc_text(created_at) FROM analytics.custom_metrics WHERE tenant_id = pg_temp.tenant(1) AND metric_name = 'api.latency')),
              jsonb_build_object('metric_name', 'jobs.done', 'metric_type', 'counter', 'unit', NULL,
                                 'first_seen', (SELECT analytics.utc_text(created_at) FROM analytics.custom_metrics WHERE tenant_id = pg_temp.tenant(1) AND metric_name = 'jobs.done'))),
          'metric_names: the tenant''s names by name');
SELECT is(analytics.metric_names(pg_temp.tenant(2)), jsonb_build_object('tenant_id', pg_temp.tenant(2), 'metrics', '[]'::jsonb),
          'metric_names of a tenant without metrics');

-- Retention: raw points of days older than 1 day go (after a rollup);
-- statistics of whole hours are the same from the rollups.
CREATE TEMP TABLE before_cleanup AS
SELECT analytics.metric_statistics(pg_temp.tenant(1), 'api.latency', h - interval '50 hours', h) AS s FROM h0;
SELECT is((analytics.cleanup_old_metrics(1) ->> 'dropped_partitions')::integer >= 1, true, 'cleanup_old_metrics(1) drops old day partitions');
SELECT is((SELECT count(*) FROM analytics.metric_points WHERE ts < ((now() AT TIME ZONE 'UTC')::date - 1)::timestamp AT TIME ZONE 'UTC'),
          0::bigint, 'no raw point older than the cut is left');
SELECT is((SELECT raw_from FROM analytics.metric_rollup_state), ((now() AT TIME ZONE 'UTC')::date - 1)::timestamp AT TIME ZONE 'UTC',
          'raw_from is the cut');
SELECT is(pg_temp.differs(analytics.metric_statistics(pg_temp.tenant(1), 'api.latency', h - interval '50 hours', h),
                          (SELECT s FROM before_cleanup)), '', 'statistics over the dropped days are unchanged (rollups)') FROM h0;
SELECT is(analytics.metric_statistics(pg_temp.tenant(1), 'api.latency', h - interval '50 hours', h) ->> 'count', '3019',
          'every point of the 50 hours (the last at h excluded), late ones included') FROM h0;
SELECT throws_ok(format($$SELECT analytics.record_metric(%L, 'api.latency', 1, 'timer', NULL, NULL, %L)$$,
                        pg_temp.tenant(1), ((now() AT TIME ZONE 'UTC')::date - 1)::timestamp AT TIME ZONE 'UTC' - interval '1 minute'),
                 '22023', NULL, 'a point before the raw points kept is refused');
SELECT is((analytics.cleanup_old_metrics(1, 1) ->> 'deleted_rollups')::integer > 0, true, 'rollup_days removes old rollups');
SELECT is((SELECT count(*) FROM analytics.metric_hourly WHERE hour < date_trunc('hour', now()) - interval '1 day'), 0::bigint,
          'no rollup older than rollup_days is left');

SELECT * FROM finish();
ROLLBACK;
