-- union_count: the number of distinct uuids in the union of uuid arrays, as
-- count(DISTINCT) over their elements: NULL arrays and NULL elements left
-- out, 0 over no rows, any number of dimensions; checked against
-- count(DISTINCT) on many sets.
CREATE TEMP TABLE uc (g int, a uuid[]);
INSERT INTO uc VALUES
    (1, '{00000000-0000-4000-8000-000000000001,00000000-0000-4000-8000-000000000002}'),
    (1, '{00000000-0000-4000-8000-000000000002,00000000-0000-4000-8000-000000000003}'),
    (1, '{}'),
    (1, NULL),
    (2, '{NULL,00000000-0000-4000-8000-000000000001,NULL}'),
    (2, '{{00000000-0000-4000-8000-000000000001,00000000-0000-4000-8000-000000000004},{00000000-0000-4000-8000-000000000005,NULL}}'),
    (3, '{NULL}'),
    (4, NULL);
-- 3, 3 (the two-dimensional array counts each element), 0, 0.
SELECT g, analytics.union_count(a) FROM uc GROUP BY g ORDER BY g;
-- No rows: 0, as count(DISTINCT) gives.
SELECT analytics.union_count(a) FROM uc WHERE false;
-- The same as count(DISTINCT) over the elements, on 200 groups of up to 60
-- arrays drawn from pools of 1 to 5,000 uuids (many repeats, some NULLs).
-- Prints the number of groups, those that disagree (0) and the sum of the
-- distinct counts.
WITH arrays AS (
    SELECT p, k,
           array_agg(CASE WHEN (p + k + j) % 41 = 0 THEN NULL
                          ELSE md5(p || ':' || (1 + (p * 7919 + k * 104729 + j * 1299709) % (1 + (p * p * 13) % 5000)))::uuid END) AS a
    FROM generate_series(1, 200) p, generate_series(1, 60) k, generate_series(1, 40) j
    WHERE k <= 1 + p % 60
    GROUP BY p, k)
SELECT count(*) AS groups, count(*) FILTER (WHERE a.n <> b.n) AS disagree, sum(b.n) AS distinct_total
FROM (SELECT p, analytics.union_count(a) AS n FROM arrays GROUP BY p) a
JOIN (SELECT p, count(DISTINCT x) AS n FROM arrays, unnest(a) x GROUP BY p) b USING (p);
-- Many distinct values (the hash set grows): 100,000.
SELECT analytics.union_count(ARRAY[md5(i::text)::uuid, md5((i + 50000)::text)::uuid])
FROM generate_series(1, 50000) i;
