#!/usr/bin/env bash
# run.sh DB: the background worker against real HTTP servers (contract
# §6.5).  Needs the running cluster (PGHOST/PGPORT/PGUSER) with analytics
# in shared_preload_libraries and analytics.worker_database = DB, which has
# the extension and pgTAP.  Starts test/health/server.py on a free port,
# then:
#   1. probe.sql with analytics.delivery_allow_private on (ALTER SYSTEM +
#      reload, which the worker takes on SIGHUP): healthy, degraded, timeout,
#      500/503, redirect not followed, closed port, unknown host, leases;
#   2. private.sql with it off again: loopback and link-local refused, and
#      the server saw none of those requests;
#   3. pg_ctl restart: the worker comes back and probes again.
# Settings are reset and the server stopped on exit.  Every wait is bounded.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DB=${1:?usage: $0 DB}
source tools/cluster.sh
WORK=$(mktemp -d /tmp/analytics-health.XXXXXX)
chmod 755 "$WORK"
SERVER_PID=
fail=0

# The test's settings: private destinations allowed, 1.5 s timeout, 300 ms
# degraded threshold (the worker rereads them on SIGHUP).
settings_on() {
  psql -X -q -d "$DB" -v ON_ERROR_STOP=1 >/dev/null <<SQL
ALTER SYSTEM SET analytics.delivery_allow_private = on;
ALTER SYSTEM SET analytics.health_timeout_ms = 1500;
ALTER SYSTEM SET analytics.health_degraded_ms = 300;
SELECT pg_reload_conf();
SQL
}
stop() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null
  psql -X -q -d "$DB" >/dev/null 2>&1 <<'SQL'
ALTER SYSTEM RESET analytics.delivery_allow_private;
ALTER SYSTEM RESET analytics.health_timeout_ms;
ALTER SYSTEM RESET analytics.health_degraded_ms;
SELECT pg_reload_conf();
DELETE FROM analytics.services WHERE tenant_id IS NULL AND (service_name LIKE 'probe-%' OR service_name LIKE 'private-%');
SQL
  rm -rf "$WORK"
}
trap stop EXIT

# A TAP run of a SQL file: fails on "not ok" or a missing plan line.
tap() {
  local out
  out=$(psql -X -d "$DB" -v ON_ERROR_STOP=1 -v port="$PORT" -v closed="$CLOSED" -f "$1" 2>&1)
  local rc=$?
  echo "$out" | grep -E '^(not ok|# )' | head -40
  echo "$1: $(echo "$out" | grep -c '^ok') passed, $(echo "$out" | grep -c '^not ok') failed"
  if (( rc != 0 )) || echo "$out" | grep -q '^not ok' || ! echo "$out" | grep -qE '^1\.\.[0-9]+'; then
    (( rc != 0 )) && echo "$out" | tail -5
    fail=1
  fi
}

worker_pid() {
  psql -X -At -d "$DB" -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'analytics worker' AND datname = current_database()"
}
# Wait (at most 40 s) for the worker to run in DB.
wait_worker() {
  local i
  for ((i = 0; i < 400; i++)); do
    [[ -n "$(worker_pid 2>/dev/null)" ]] && return 0
    sleep 0.1
  done
  return 1
}

if ! wait_worker; then
  echo "health: no analytics worker in $DB (shared_preload_libraries, analytics.worker_database?)"
  exit 1
fi
python3 test/health/server.py "$WORK/port" &
SERVER_PID=$!
for ((i = 0; i < 100; i++)); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")
CLOSED=$(free_port $((PORT + 100)))

echo "== health: probes (delivery_allow_private on)"
settings_on
sleep 0.5
tap test/health/probe.sql

echo "== health: private destinations refused (delivery_allow_private off)"
psql -X -q -d "$DB" >/dev/null -c 'ALTER SYSTEM RESET analytics.delivery_allow_private' -c 'SELECT pg_reload_conf()'
sleep 0.5
before=$(cat "$WORK/port.log" 2>/dev/null | grep -c .)
tap test/health/private.sql
after=$(cat "$WORK/port.log" 2>/dev/null | grep -c .)
if [[ "$before" != "$after" ]]; then
  echo "not ok: the server saw $((after - before)) request(s) to refused destinations"; fail=1
else
  echo "ok: the server saw no request to a refused destination"
fi

echo "== health: the worker survives a restart"
old=$(worker_pid)
DATA=$(psql -X -At -d "$DB" -c 'SHOW data_directory')
as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 restart -l "$DATA/../server.log" >/dev/null 9>&- || { echo "not ok: restart failed"; exit 1; }
for ((i = 0; i < 100; i++)); do pg_isready -q && break; sleep 0.2; done
if wait_worker && [[ "$(worker_pid)" != "$old" ]]; then
  echo "ok: the worker runs again after pg_ctl restart (pid $old -> $(worker_pid))"
else
  echo "not ok: no worker after the restart"; fail=1
fi
settings_on
count_ok="SELECT count(*) FROM analytics.health_checks h JOIN analytics.services s USING (service_id)
          WHERE s.tenant_id IS NULL AND s.service_name = 'probe-ok'"
before=$(psql -X -At -d "$DB" -c "$count_ok")
psql -X -q -d "$DB" -c "UPDATE analytics.services SET next_probe_at = now() WHERE tenant_id IS NULL AND service_name = 'probe-ok'"
n=$(psql -X -At -d "$DB" <<SQL
DO \$\$
DECLARE started timestamptz := clock_timestamp();
BEGIN
    WHILE clock_timestamp() - started < interval '20 seconds' AND ($count_ok) <= $before LOOP
        PERFORM pg_sleep(0.1);
    END LOOP;
END \$\$;
$count_ok;
SQL
)
if [[ "${n##*$'\n'}" -gt "$before" ]]; then echo "ok: probes again after the restart"; else echo "not ok: no probe after the restart ($n)"; fail=1; fi

(( fail )) && { echo "health: FAILED"; exit 1; }
echo "health: all passed"
