#!/usr/bin/env bash
# schema_check.sh DB_PREFIX: does an upgraded database have the schema of a
# fresh install?  For every earlier release (0.1.0, 0.2.0, ...), in the
# running cluster (PG* variables), creates DB_PREFIX_fresh (CREATE EXTENSION
# analytics) and DB_PREFIX_upgraded (that release, then ALTER EXTENSION ...
# UPDATE along the chain), dumps
# both with pg_dump --schema-only --binary-upgrade (the only mode that
# dumps an extension's own objects), drops what differs by nature (OIDs,
# the stored default of a column added later,
# transaction ids, comments of the dump itself) and fails on any other
# difference.  The data side (no row lost) is the first regression test,
# sql/setup.sql.
set -euo pipefail
prefix=${1:-analytics_schema}
# Every released version: the frozen install scripts other than the current.
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$(dirname "$0")/../analytics.control")
mapfile -t releases < <(cd "$(dirname "$0")/../sql" && ls analytics--*.sql | sed -n 's/^analytics--\([0-9.]*\)\.sql$/\1/p' \
                        | grep -vx "$current" | sort -V)
check_from() {
local oldest=$1
fresh=${prefix}_fresh
upgraded=${prefix}_upgraded
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $fresh" -c "DROP DATABASE IF EXISTS $upgraded" >/dev/null 2>&1' EXIT

PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $fresh" -c "DROP DATABASE IF EXISTS $upgraded" \
     -c "CREATE DATABASE $fresh" -c "CREATE DATABASE $upgraded" >/dev/null
psql -X -q -d "$fresh" -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION analytics" >/dev/null
psql -X -q -d "$upgraded" -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
     -c "CREATE EXTENSION analytics VERSION '$oldest'" -c "ALTER EXTENSION analytics UPDATE" >/dev/null

normalise() {
  grep -v -E "binary_upgrade_set_next|binary_upgrade_set_missing_value|^--|^$|^\\\\(un)?restrict|relfrozenxid|^WHERE oid = " "$1" \
    | sed -E "s/'\{[0-9,]+\}'/'{OIDS}'/g" \
    | python3 -c 'import sys
# A run of GRANT lines on one object is one ACL: its order is the order the
# roles were granted in (a role created by a later release comes last), not
# schema; compare each run sorted.
run = []
for line in sys.stdin:
    if line.startswith("GRANT "):
        run.append(line); continue
    sys.stdout.writelines(sorted(run)); run = []
    sys.stdout.write(line)
sys.stdout.writelines(sorted(run))'
}
for db in "$fresh" "$upgraded"; do
  pg_dump --schema-only --binary-upgrade -d "$db" > "$tmp/$db.raw"
  normalise "$tmp/$db.raw" > "$tmp/$db.sql"
done
v_fresh=$(psql -X -At -d "$fresh" -c "SELECT extversion FROM pg_extension WHERE extname = 'analytics'")
v_up=$(psql -X -At -d "$upgraded" -c "SELECT extversion FROM pg_extension WHERE extname = 'analytics'")
if [[ "$v_fresh" != "$v_up" ]]; then
  echo "schema check: the update stopped at $v_up, a fresh install is $v_fresh" >&2
  exit 1
fi
if [[ ! -s "$tmp/$fresh.sql" || -z "$v_fresh" ]]; then
  echo "schema check: nothing was dumped from $fresh" >&2
  exit 1
fi
if ! diff -u "$tmp/$fresh.sql" "$tmp/$upgraded.sql" > "$tmp/diff"; then
  echo "schema check: $oldest updated to $v_up differs from a fresh install of $v_fresh:" >&2
  head -200 "$tmp/diff" >&2
  exit 1
fi
echo "schema check: $oldest -> $v_up has the schema of a fresh install ($(wc -l < "$tmp/$fresh.sql") lines of pg_dump compared)"
rm -rf "$tmp"
}
# (not "check_from || exit": set -e is off inside a function called that way,
# and a failed psql would then pass unnoticed)
for r in "${releases[@]}"; do check_from "$r"; done
