-- qsketch_accuracy: every quantile 0.01 .. 0.99 (and 0, 1) is within the
-- relative accuracy of the exact percentile_disc, for many distributions.
SELECT setseed(0.2024);
CREATE TEMP TABLE qs_data (dist text, v float8);
INSERT INTO qs_data
SELECT 'uniform', random() * 1000 FROM generate_series(1, 5000);
INSERT INTO qs_data
SELECT 'lognormal', exp(3 + 1.2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) FROM generate_series(1, 5000);
INSERT INTO qs_data
SELECT 'bimodal', CASE WHEN random() < 0.7 THEN 20 + 10 * random() ELSE 900 + 200 * random() END FROM generate_series(1, 5000);
INSERT INTO qs_data
SELECT 'constant', 42.5 FROM generate_series(1, 1000);
INSERT INTO qs_data VALUES ('single', -7.25);
INSERT INTO qs_data
SELECT 'heavy_tailed', CASE WHEN random() < 0.02 THEN 0 ELSE
       power(10, -3 + 12 * random()) * CASE WHEN random() < 0.3 THEN -1 ELSE 1 END END
FROM generate_series(1, 5000);
INSERT INTO qs_data
SELECT 'integers', floor(random() * 100) FROM generate_series(1, 5000);
INSERT INTO qs_data
SELECT 'negative', -power(10, 6 * random()) FROM generate_series(1, 3000);

CREATE TEMP TABLE qs_q AS
SELECT array_agg(i / 100.0::float8 ORDER BY i) AS qs FROM generate_series(0, 100) i;

-- One row per distribution and accuracy: true when all 101 quantiles agree.
-- At alpha 0.001, 4096 keys span a factor of 3600 only: the heavy-tailed
-- (1e-3 .. 1e9) and negative (1 .. 1e6) sketches collapse (flags 1 or 2) and
-- their smallest magnitudes lose the guarantee, as qsketch_collapse tests.
SELECT d.dist, a.alpha,
       bool_and(abs(e.est - e.exact) <= a.alpha * abs(e.exact) * (1 + 1e-9)) AS within_alpha,
       min(r.flags) AS flags, count(*) AS quantiles
FROM (SELECT DISTINCT dist FROM qs_data) d
CROSS JOIN (VALUES (0.01::float8), (0.05), (0.001), (0.5)) a(alpha)
CROSS JOIN LATERAL (
    SELECT analytics.quantiles(analytics.qsketch_agg(v, a.alpha), (SELECT qs FROM qs_q)) AS est,
           (analytics.qsketch_agg(v, a.alpha)::text::jsonb->>'flags')::int AS flags,
           percentile_disc((SELECT qs FROM qs_q)) WITHIN GROUP (ORDER BY v) AS exact
    FROM qs_data WHERE dist = d.dist) r
CROSS JOIN LATERAL unnest(r.est, r.exact) AS e(est, exact)
GROUP BY d.dist, a.alpha
ORDER BY d.dist, a.alpha;

-- Rows that disagree with the default accuracy (none expected).
SELECT dist, q, est, exact
FROM (SELECT dist,
             analytics.quantiles(analytics.qsketch_agg(v), (SELECT qs FROM qs_q)) AS ests,
             percentile_disc((SELECT qs FROM qs_q)) WITHIN GROUP (ORDER BY v) AS exacts
      FROM qs_data GROUP BY dist) r
CROSS JOIN LATERAL unnest(r.ests, r.exacts, (SELECT qs FROM qs_q)) AS e(est, exact, q)
WHERE NOT abs(est - exact) <= 0.01 * abs(exact) * (1 + 1e-9);

-- min, max and count are exact; mean is within rounding.
SELECT dist,
       analytics.sketch_min(s) = min AS min_exact, analytics.sketch_max(s) = max AS max_exact,
       analytics.sketch_count(s) = n AS count_exact,
       abs(analytics.sketch_mean(s) - mean) <= 1e-9 * greatest(abs(mean), 1e-9) * n AS mean_ok
FROM (SELECT dist, analytics.qsketch_agg(v) s, min(v), max(v), count(*) n, avg(v) mean
      FROM qs_data GROUP BY dist) t
ORDER BY dist;
