-- analytics.execute_cached (src/cached.c, issue 15): RETURN QUERY EXECUTE
-- with the plan kept by the backend, as the readers use it for the last
-- seconds of today's and yesterday's events; and analytics.
-- http_caller_has_role (src/http.c), the role check of every API call.
-- Each answer is compared with the same statement run by EXECUTE; a kept
-- plan must follow new arguments, new rows, a table dropped and made again,
-- and more statements than it keeps.  Date and hour independent (its own
-- tables, no clock).
BEGIN;
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;
SELECT plan(23);

CREATE TABLE pg_temp.ec (k int, v text, at timestamptz);
INSERT INTO pg_temp.ec SELECT i % 10, 'v' || i, '2026-01-01 00:00:00+00'::timestamptz + make_interval(secs => i)
FROM generate_series(1, 1000) i;
CREATE INDEX ON pg_temp.ec (k);

-- The same statement by EXECUTE, for comparison.
CREATE FUNCTION pg_temp.by_execute(q text, a int, b timestamptz) RETURNS TABLE (k int, n bigint, last text)
LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY EXECUTE q USING a, b; END $$;
\set q '''SELECT k, count(*), max(v) FROM pg_temp.ec WHERE k >= $1 AND at >= $2 GROUP BY k'''

SELECT results_eq(
    format($$SELECT * FROM analytics.execute_cached(%L, 3, '2026-01-01 00:05:00+00'::timestamptz) AS t(k int, n bigint, last text) ORDER BY k$$, :q),
    format($$SELECT * FROM pg_temp.by_execute(%L, 3, '2026-01-01 00:05:00+00') ORDER BY k$$, :q),
    'a statement with arguments: the rows EXECUTE gives');
SELECT results_eq(
    format($$SELECT * FROM analytics.execute_cached(%L, 8, '2026-01-01 00:15:00+00'::timestamptz) AS t(k int, n bigint, last text) ORDER BY k$$, :q),
    format($$SELECT * FROM pg_temp.by_execute(%L, 8, '2026-01-01 00:15:00+00') ORDER BY k$$, :q),
    'the kept plan with other arguments: their rows');
INSERT INTO pg_temp.ec VALUES (9, 'new', '2026-01-02 00:00:00+00');
SELECT results_eq(
    format($$SELECT * FROM analytics.execute_cached(%L, 9, '2026-01-01 23:00:00+00'::timestamptz) AS t(k int, n bigint, last text)$$, :q),
    $$VALUES (9, 1::bigint, 'new')$$,
    'a row written since the plan was kept is read');
SELECT is((SELECT count(*) FROM analytics.execute_cached(format('SELECT k FROM pg_temp.ec WHERE k = $1 AND at < $2'), NULL::int, now()) AS t(k int)),
          0::bigint, 'a NULL argument is NULL');

-- The table dropped and made again under the kept plan (as a partition
-- may be): planned again, not an error and not the old rows.
DROP TABLE pg_temp.ec;
CREATE TABLE pg_temp.ec (k int, v text, at timestamptz);
INSERT INTO pg_temp.ec VALUES (5, 'again', '2026-03-01 00:00:00+00');
SELECT results_eq(
    format($$SELECT * FROM analytics.execute_cached(%L, 1, '2026-01-01 00:00:00+00'::timestamptz) AS t(k int, n bigint, last text)$$, :q),
    $$VALUES (5, 1::bigint, 'again')$$,
    'the table dropped and made again: its new rows');

-- More statements than are kept (64): each still right, the first again too.
SELECT is((SELECT count(*) FILTER (WHERE r.n = i) FROM generate_series(1, 70) i,
           LATERAL analytics.execute_cached(format('SELECT $1 + %s - %s', i, i), i) AS r(n int)),
          70::bigint, '70 statements, each with its own answer');
SELECT results_eq(
    format($$SELECT * FROM analytics.execute_cached(%L, 1, '2026-01-01 00:00:00+00'::timestamptz) AS t(k int, n bigint, last text)$$, :q),
    $$VALUES (5, 1::bigint, 'again')$$,
    'a statement whose plan was freed: planned again');
SELECT is((SELECT n FROM analytics.execute_cached('SELECT $1::bigint + $2', 40::bigint, 2::bigint) AS t(n bigint)), 42::bigint,
          'the same text with other argument types is another statement');
SELECT is((SELECT n FROM analytics.execute_cached('SELECT $1::text || $2', 'a'::text, 'b'::text) AS t(n text)), 'ab',
          'text arguments');

-- Refusals.
SELECT throws_ok($$SELECT * FROM analytics.execute_cached('DELETE FROM pg_temp.ec RETURNING k', 1) AS t(k int)$$,
                 '0A000', NULL, 'a statement that writes is refused (read-only)');
SELECT is((SELECT count(*) FROM pg_temp.ec), 1::bigint, '... and wrote nothing');
SELECT throws_ok($$SELECT * FROM analytics.execute_cached('SELECT $1::text', 1) AS t(k int)$$,
                 '42804', NULL, 'rows that do not match the column definition list are refused');
SELECT throws_ok($$SELECT * FROM analytics.execute_cached('SELECT $1', 'x') AS t(k text)$$,
                 '42P18', 'execute_cached: argument 1 is an untyped literal; cast it', 'an untyped literal is refused');
SELECT throws_ok($$SELECT * FROM analytics.execute_cached(NULL, 1) AS t(k int)$$,
                 '22004', NULL, 'a NULL statement is refused');
SELECT throws_ok($$SELECT * FROM analytics.execute_cached('SELECT 1', VARIADIC ARRAY[1]) AS t(k int)$$,
                 '0A000', NULL, 'a VARIADIC array is refused');
SELECT throws_ok($$SELECT * FROM analytics.execute_cached('SELECT 1 FROM', 1) AS t(k int)$$,
                 '42601', NULL, 'a statement that does not parse: its syntax error');

-- Not for PUBLIC or the API roles (made here, in this transaction, with a
-- NOINHERIT authenticator as PostgREST's).
CREATE ROLE ec_auth NOINHERIT;
SELECT analytics.create_api_roles('ec_auth') \g /dev/null
SELECT ok(NOT has_function_privilege('public', 'analytics.execute_cached(text, "any")', 'EXECUTE'), 'PUBLIC may not run execute_cached');
SELECT ok(NOT has_function_privilege('analytics_tenant', 'analytics.execute_cached(text, "any")', 'EXECUTE'), 'analytics_tenant may not');
SELECT ok(NOT has_function_privilege('analytics_operator', 'analytics.execute_cached(text, "any")', 'EXECUTE'), 'analytics_operator may not');

-- http_caller_has_role: the role set with SET ROLE, else the session user.
SELECT ok(analytics.http_caller_has_role('analytics_tenant'), 'a superuser has every API role');
CREATE FUNCTION pg_temp.as_role(r name, probe name) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE b boolean;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    b := analytics.http_caller_has_role(probe);
    RESET ROLE;
    RETURN b;
END $$;
-- (inside this transaction only: the roles reach the function itself)
GRANT USAGE ON SCHEMA analytics TO ec_auth, analytics_tenant;
SELECT is(pg_temp.as_role('analytics_tenant', 'analytics_tenant'), true, 'SET ROLE analytics_tenant: has analytics_tenant');
SELECT is(pg_temp.as_role('analytics_tenant', 'analytics_operator'), false, 'SET ROLE analytics_tenant: not analytics_operator');
SELECT is(pg_temp.as_role('ec_auth', 'analytics_tenant'), false, 'a NOINHERIT member that has not switched role: no');

SELECT * FROM finish();
ROLLBACK;
