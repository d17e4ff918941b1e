#!/usr/bin/env bash
# run.sh DB [FILE...]: the HTTP suite of make test (or only the given files).  Starts PostgREST + mtail + nginx
# (http/stack.sh) on 127.0.0.1 against database DB of the running cluster
# (PGHOST/PGPORT/PGUSER), with short cache lifetimes and a low rate limit,
# runs test/http/*.test.js with node's test runner, and always stops them.
set -uo pipefail
cd "$(dirname "$0")/../.."
DB=${1:?usage: $0 DB}
RUN=$(mktemp -d /tmp/analytics-http.XXXXXX)
stop() {
  http/stack.sh stop "$RUN"; rm -rf "$RUN"
  psql -X -q -d "$DB" -c 'DROP FUNCTION IF EXISTS analytics_api.http_test_sleep(text)' >/dev/null 2>&1
}
trap stop EXIT

(cd http && npm ci --no-audit --no-fund --loglevel=error) || exit 1
(cd docs/api-tools && npm ci --no-audit --no-fund --loglevel=error) || exit 1   # the API description's tools (openapi.test.js)
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<'SQL' || exit 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SELECT * FROM analytics_datagen.generate(20000, 30, current_date);
-- The timeout test's heavy call (this database only; dropped on exit).
CREATE OR REPLACE FUNCTION analytics_api.http_test_sleep(seconds text DEFAULT '0')
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM analytics.http_tenant();
    PERFORM pg_sleep(least(seconds::float8, 30));
    RETURN json_build_object('slept', seconds);
END $$;
REVOKE EXECUTE ON FUNCTION analytics_api.http_test_sleep(text) FROM PUBLIC;
SQL

export ANALYTICS_DB=$DB
source tools/cluster.sh
stack_ports_away
export CACHE_TTL_USAGE_SUMMARY=3s TEST_CACHE_TTL_S=3
export RATE_LIMIT=20r/s RATE_BURST=10 TEST_RATE_BURST=10 RETRY_AFTER=1
export API_STATEMENT_TIMEOUT=2s API_LOCK_TIMEOUT=500ms TEST_STATEMENT_TIMEOUT_MS=2000 TEST_LOCK_TIMEOUT_MS=500
export CONN_PER_TENANT=8 TEST_CONN_PER_TENANT=8 PGRST_DB_POOL=10
export CLIENT_MAX_BODY_SIZE=64k TEST_CLIENT_MAX_BODY=65536 METRICS_TOKEN_TTL=600 TEST_METRICS_TOKEN_TTL=600
http/stack.sh start "$RUN" || { cat "$RUN"/*.log "$RUN"/nginx/error.log 2>/dev/null | tail -40; exit 1; }
source "$RUN/http.env"
# (test/http/run.sh DB FILE...: only those files)
if (( $# > 1 )); then node --test --test-concurrency=1 "${@:2}"; else node --test --test-concurrency=1 test/http/; fi; rc=$?
if (( rc != 0 )); then
  echo "-- postgrest.log"; tail -20 "$RUN/postgrest.log"
  echo "-- nginx error.log"; tail -20 "$RUN/nginx/error.log"
fi
exit $rc
