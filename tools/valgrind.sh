#!/usr/bin/env bash
# valgrind.sh: the regression suite with the server under valgrind memcheck
# (what `make valgrind` runs, and `make test` after the plain suites).
#
# A throwaway cluster runs postgres under valgrind (its backends are forks,
# so they run under it too), pg_regress runs every test of the Makefile's
# REGRESS list against it, and any memcheck report whose stack passes
# through the analytics library fails the run.  (PostgreSQL's own reports,
# if any, are printed for information: the server is not built with
# valgrind support.)
#   VALGRIND_OPTS="--track-origins=yes" VALGRIND_REGRESS="setup heatmap" tools/valgrind.sh
# narrows a run down.
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/cluster.sh
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)"; exit 1; }
dir=$(mktemp -d /tmp/analytics-valgrind.XXXXXX)
mkdir -p "$dir/vg"; chmod 777 "$dir/vg"
trap 'cluster_stop "$dir"; rm -rf "$dir"' EXIT
CLUSTER_SERVER_WRAPPER="valgrind --quiet --trace-children=no --leak-check=no ${VALGRIND_OPTS:---track-origins=no} --num-callers=30 --error-limit=no --log-file=$dir/vg/%p.log" \
CLUSTER_EXTRA_CONF="max_parallel_workers_per_gather = 2
statement_timeout = 0" \
  cluster_start "$dir" "$(free_port 56432)" analytics_valgrind || exit 1
echo "valgrind: server under memcheck in $dir"

rc=0
# Its own output folder: the plain pg_regress run keeps results/.
mkdir -p "$dir/out"
make -s installcheck REGRESS_OPTS="--inputdir=. --outputdir=$dir/out --dbname=contrib_regression" ${VALGRIND_REGRESS:+REGRESS="$VALGRIND_REGRESS"} \
  || { rc=1; [[ -f "$dir/out/regression.diffs" ]] && cat "$dir/out/regression.diffs"; }
cluster_stop "$dir"
ours=$(grep -l "analytics.so" "$dir"/vg/*.log 2>/dev/null || true)
if [[ -n "$ours" ]]; then
  echo "valgrind: memcheck reports in the analytics library:"; cat $ours; rc=1
else
  echo "valgrind: no memcheck report in the analytics library; reports elsewhere in the server, by kind:"
  [[ -n "${VALGRIND_KEEP:-}" ]] && cp -r "$dir/vg" "$VALGRIND_KEEP"
  grep -h "^==[0-9]*== [A-Z]" "$dir"/vg/*.log 2>/dev/null | sed 's/^==[0-9]*== //' | sort | uniq -c | sort -rn | head -10
fi
exit $rc
