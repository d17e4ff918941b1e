-- qsketch_collapse: the size bound.  A store keeps at most 4096 consecutive
-- keys; beyond that its lowest keys (smallest magnitudes) collapse into one.
-- Quantiles above the collapsed bucket keep the guarantee; those in it are
-- over-estimated in magnitude, never beyond the collapsed bucket's top.
SELECT setseed(0.5);
CREATE TEMP TABLE qs_wide AS
SELECT power(10, 6 * random()) AS v FROM generate_series(1, 20000);
CREATE TEMP TABLE qs_wide_s AS SELECT analytics.qsketch_agg(v, 0.0001) AS s FROM qs_wide;

-- Collapsed (flags 1 = positive store), at most 4096 buckets spanning exactly 4096 keys.
SELECT (s::text::jsonb->>'flags')::int AS flags,
       analytics.sketch_buckets(s) <= 4096 AS bounded,
       (SELECT max(k::int) - min(k::int) + 1 FROM jsonb_object_keys(s::text::jsonb->'positive') k) AS key_span,
       pg_column_size(s) < 16000 AS compact
FROM qs_wide_s;

-- The guarantee that remains, for every quantile 0 .. 1.  The collapsed
-- bucket tops out 4095 keys below max's bucket: at a factor between 2.198
-- and 2.268 below max at alpha 0.0001 (keys span a factor of 0.9615 gamma to
-- gamma in the fast mapping).
WITH q AS (SELECT array_agg(i / 100.0::float8 ORDER BY i) AS qs FROM generate_series(0, 100) i),
r AS (SELECT analytics.quantiles(s, q.qs) AS ests,
             (SELECT percentile_disc(q.qs) WITHIN GROUP (ORDER BY v) FROM qs_wide) AS exacts,
             analytics.sketch_max(s) AS max
      FROM qs_wide_s, q)
SELECT count(*) FILTER (WHERE exact > max / 2.19) AS above_collapse,
       bool_and(abs(est - exact) <= 0.0001 * exact * (1 + 1e-9)) FILTER (WHERE exact > max / 2.19) AS guarantee_kept,
       bool_and(est >= exact AND est <= max / 2.19) FILTER (WHERE exact <= max / 2.27) AS bounded_overestimate
FROM r, unnest(r.ests, r.exacts) AS e(est, exact);

-- Merging collapsed sketches is still exact.
SELECT (SELECT analytics.qsketch_merge(s)::text::jsonb - 'sum'
        FROM (SELECT analytics.qsketch_agg(v, 0.0001) s FROM qs_wide GROUP BY v < 1000) t)
     = (SELECT s::text::jsonb - 'sum' FROM qs_wide_s) AS merge_exact;

-- Negative values: the store of negatives collapses its smallest magnitudes (flags 2).
SELECT (analytics.qsketch_agg(-v, 0.0001)::text::jsonb->>'flags')::int AS flags,
       analytics.quantile(analytics.qsketch_agg(-v, 0.0001), 0.01)
       BETWEEN (SELECT percentile_disc(0.01) WITHIN GROUP (ORDER BY -v) FROM qs_wide) * 1.0001
       AND (SELECT percentile_disc(0.01) WITHIN GROUP (ORDER BY -v) FROM qs_wide) * 0.9999 AS low_quantile_ok
FROM qs_wide;

-- A collapsed text value that does not span exactly 4096 keys is refused.
SELECT '{"version":1,"alpha":0.01,"count":1,"min":1,"max":1,"sum":1,"flags":1,"zero":0,"negative":{},"positive":{"0":1}}'::analytics.qsketch;
