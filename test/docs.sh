#!/usr/bin/env bash
# test/docs.sh DB: runs every ```sql block of README.md and docs/*.md against
# database DB, one transaction per file, rolled back, stopping at the first
# error, so that the documented examples keep working.  Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/.."
db=${1:?usage: test/docs.sh DB}
files=(README.md docs/*.md)
echo "1..${#files[@]}"
n=0; failed=0
for f in "${files[@]}"; do
  n=$((n + 1))
  sql=$(awk '/^```sql[[:space:]]*$/ {on=1; next} /^```/ {on=0} on' "$f")
  if [[ -z "$sql" ]]; then echo "ok $n - $f (no sql blocks)"; continue; fi
  if out=$(printf 'BEGIN;\n%s\n;\nROLLBACK;\n' "$sql" | psql -X -q -v ON_ERROR_STOP=1 -d "$db" 2>&1 >/dev/null); then
    echo "ok $n - $f"
  else
    echo "not ok $n - $f"; echo "$out" | sed 's/^/# /'; failed=1
  fi
done
exit $failed
