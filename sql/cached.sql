-- cached: analytics.execute_cached (src/cached.c), RETURN QUERY EXECUTE with
-- the plan kept by the backend, and analytics.http_caller_has_role
-- (src/http.c), the API's role check; under pg_regress so that valgrind
-- (tools/valgrind.sh) runs them too.  test/pgtap/07_execute_cached.sql
-- compares them with EXECUTE and the role rules in more cases.
SET timezone = 'UTC';
CREATE TEMP TABLE ec (k int, v text, at timestamptz);
INSERT INTO ec SELECT i % 4, 'v' || i, '2026-01-01 00:00:00+00'::timestamptz + make_interval(mins => i) FROM generate_series(1, 40) i;

-- A statement with arguments, kept and used again with others and with new rows.
SELECT * FROM analytics.execute_cached('SELECT k, count(*), max(at) FROM pg_temp.ec WHERE k >= $1 AND at >= $2 GROUP BY k ORDER BY k',
                                       2, '2026-01-01 00:20:00+00'::timestamptz) AS t(k int, n bigint, last timestamptz);
INSERT INTO ec VALUES (3, 'late', '2026-01-02 00:00:00+00');
SELECT * FROM analytics.execute_cached('SELECT k, count(*), max(at) FROM pg_temp.ec WHERE k >= $1 AND at >= $2 GROUP BY k ORDER BY k',
                                       3, '2026-01-01 00:00:00+00'::timestamptz) AS t(k int, n bigint, last timestamptz);
SELECT * FROM analytics.execute_cached('SELECT $1::text || $2, $3::int IS NULL', 'a'::text, 'b'::text, NULL::int) AS t(s text, n boolean);
-- dropped and made again under the kept plan
DROP TABLE ec;
CREATE TEMP TABLE ec (k int, v text, at timestamptz);
INSERT INTO ec VALUES (7, 'again', '2026-03-01 00:00:00+00');
SELECT * FROM analytics.execute_cached('SELECT k, count(*), max(at) FROM pg_temp.ec WHERE k >= $1 AND at >= $2 GROUP BY k ORDER BY k',
                                       0, '2026-01-01 00:00:00+00'::timestamptz) AS t(k int, n bigint, last timestamptz);
-- more statements than it keeps (64), each right
SELECT count(*) FILTER (WHERE r.n = i * 2) AS right_answers
FROM generate_series(1, 80) i, LATERAL analytics.execute_cached(format('SELECT $1 * 2 + %s - %s', i, i), i) AS r(n int);

-- Refusals.
SELECT * FROM analytics.execute_cached('DELETE FROM pg_temp.ec RETURNING k', 1) AS t(k int);
SELECT * FROM analytics.execute_cached('SELECT $1::text', 1) AS t(k int);
SELECT * FROM analytics.execute_cached('SELECT $1', 'x') AS t(k text);
SELECT * FROM analytics.execute_cached(NULL, 1) AS t(k int);
SELECT * FROM analytics.execute_cached('SELECT 1', VARIADIC ARRAY[1]) AS t(k int);
SELECT * FROM analytics.execute_cached('SELECT 1 FROM', 1) AS t(k int);
SELECT * FROM analytics.execute_cached(repeat(' ', 70000) || 'SELECT 1', 1) AS t(k int);
SELECT * FROM analytics.execute_cached('SELECT 1', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17) AS t(k int);
SELECT count(*) AS rows_left FROM ec;

-- The role check: a superuser has every role's privileges; an unknown role
-- qualifies nobody else.
SELECT analytics.http_caller_has_role('analytics_tenant') AS superuser_tenant,
       analytics.http_caller_has_role('no_such_role_at_all') AS superuser_unknown,
       analytics.http_caller_has_role(NULL) AS null_role;
