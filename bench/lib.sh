# bench/lib.sh: shared set-up for the benchmarks (sourced, not run).
#
#   source bench/lib.sh
#   bench_setup 10000000          # cluster in .cluster/bench, N generated events
#   bench_psql -c "SELECT ..."    # psql on the bench database
#   bench_time "SQL" [RUNS]       # median server time in ms (EXPLAIN ANALYZE)
#
# The data set is the generator's (datagen/generate.sql) over BENCH_DAYS days
# (default 365) ending yesterday, kept between runs: it is regenerated only
# when the number of events or days asked for changes, and reloaded into a
# fresh extension when the installed install script changes.
set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$BENCH_ROOT/tools/cluster.sh"
# BENCH_DIR / BENCH_DB may be set by the caller (bench_own_cluster: a
# cluster of one's own instead of the shared one).
BENCH_DIR=${BENCH_DIR:-"$BENCH_ROOT/.cluster/bench"}
BENCH_DB=${BENCH_DB:-analytics_bench}
BENCH_DAYS=${BENCH_DAYS:-365}

bench_psql() { psql -X -q -v ON_ERROR_STOP=1 -d "$BENCH_DB" "$@"; }

# bench_setup [N_EVENTS]: build, install, start the cluster, load the data.
# One benchmark at a time: they share the cluster, and two at once would
# skew each other's timings; a second one waits for the first.
bench_setup() {
  local n=${1:-10000000}
  mkdir -p "$BENCH_DIR"
  exec 9>"$BENCH_DIR.lock"
  flock 9
  (cd "$BENCH_ROOT" && tools/deps.sh bench && make -s >/dev/null && make -s install >/dev/null)
  cluster_stop "$BENCH_DIR"
  CLUSTER_EXTRA_CONF="shared_buffers = '4GB'
work_mem = '64MB'
maintenance_work_mem = '1GB'
max_parallel_workers = 8
jit = off
fsync = off
synchronous_commit = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = '8GB'
max_locks_per_transaction = 1024" cluster_start "$BENCH_DIR" "$(free_port 55800)" "$BENCH_DB"
  psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1 \
    || psql -X -q -d postgres -c "CREATE DATABASE $BENCH_DB" >/dev/null
  bench_psql <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdigest;
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
CREATE TABLE IF NOT EXISTS public.bench_meta (events bigint, days int, generated_at timestamptz);
ALTER TABLE public.bench_meta ADD COLUMN IF NOT EXISTS script_md5 text;
SQL
  # The generated events are kept in public.bench_events, outside the
  # extension, so that a changed install script (same version while in
  # development) only costs a reload, not a new generation.
  local script want have
  script=$(md5sum "$("$PG_CONFIG" --sharedir)/extension/analytics--$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$BENCH_ROOT/analytics.control").sql" | cut -c1-32)
  want="$n/$BENCH_DAYS"
  have=$(bench_psql -tAc "SELECT events || '/' || days || '/' || coalesce(script_md5, '') FROM public.bench_meta")
  if [[ "$have" == "$want/$script" ]]; then
    :
  else
    echo "bench: (re)creating the extension and loading $n events over $BENCH_DAYS days" >&2
    bench_psql <<'SQL' >/dev/null
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS analytics_datagen CASCADE;
DROP EXTENSION IF EXISTS analytics CASCADE;
CREATE EXTENSION analytics;
SQL
    bench_psql -f "$BENCH_ROOT/datagen/generate.sql" >/dev/null 2>&1
    if [[ "${have%/*}" == "$want" ]] && bench_psql -tAc "SELECT to_regclass('public.bench_events') IS NOT NULL" | grep -q t; then
      # (kept events end on the day before they were generated: moved on
      # whole days so that they end yesterday again, as a new set would)
      bench_psql <<'SQL' >/dev/null
SET client_min_messages = warning;
DO $$
DECLARE
    shift int;
BEGIN
    SELECT ((now() AT TIME ZONE 'UTC')::date - 1) - max(occurred_at AT TIME ZONE 'UTC')::date INTO shift FROM public.bench_events;
    IF shift > 0 THEN
        UPDATE public.bench_events SET occurred_at = occurred_at + make_interval(days => shift);
    END IF;
END $$;
VACUUM public.bench_events;
SELECT analytics.upsert_tenant(t.tenant_id, t.name, t.tier) FROM analytics_datagen.tenants() t;
SELECT analytics.upsert_agent(a.agent_id, a.tenant_id, a.name) FROM analytics_datagen.agents() a;
SELECT analytics.ensure_partitions(min(occurred_at AT TIME ZONE 'UTC')::date, max(occurred_at AT TIME ZONE 'UTC')::date)
FROM public.bench_events;
INSERT INTO analytics.usage_events SELECT * FROM public.bench_events;
SQL
    else
      echo "bench: generating $n events (once)" >&2
      bench_psql <<SQL >/dev/null
SET client_min_messages = warning;
SELECT * FROM analytics_datagen.generate($n, $BENCH_DAYS, (now() AT TIME ZONE 'UTC')::date - 1);
DROP TABLE IF EXISTS public.bench_events;
CREATE TABLE public.bench_events AS SELECT * FROM analytics.usage_events;
SQL
    fi
    bench_psql -c "TRUNCATE public.bench_meta" -c "INSERT INTO public.bench_meta (events, days, script_md5, generated_at) VALUES ($n, $BENCH_DAYS, '$script', now())" >/dev/null
    bench_psql -c "VACUUM (FREEZE, ANALYZE) analytics.usage_events" >/dev/null
  fi
  bench_psql -c "SELECT pg_prewarm(c.oid) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid WHERE i.inhparent = 'analytics.usage_events'::regclass" >/dev/null 2>&1 || true
}

# bench_own_cluster DIR PORT DB: build and install, then start a cluster of
# one's own in DIR on PORT (not the shared one of bench_setup, no lock, no
# generated events) with DB holding the extension (created when missing);
# CLUSTER_EXTRA_CONF as for cluster_start.  Sets BENCH_DIR and BENCH_DB, so
# bench_psql and bench_time then run there.
bench_own_cluster() {
  BENCH_DIR=$1 BENCH_DB=$3
  (cd "$BENCH_ROOT" && make -s >/dev/null && make -s install >/dev/null)
  cluster_stop "$BENCH_DIR"
  cluster_start "$BENCH_DIR" "$2" "$BENCH_DB"
  psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1 \
    || psql -X -q -d postgres -c "CREATE DATABASE $BENCH_DB" >/dev/null
  bench_psql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS analytics;
SQL
}

# bench_time SQL [RUNS]: median execution time in ms over RUNS (default 5)
# runs, read from EXPLAIN (ANALYZE, TIMING OFF) so that client transfer does
# not count.  Settings may precede the query: "SET x = y; SELECT ...".
bench_time() {
  local sql=$1 runs=${2:-5} pre="" q=$1
  if [[ "$sql" == *";"* ]]; then pre="${sql%;*};"; q="${sql##*;}"; fi
  local i t times=()
  for ((i = 0; i < runs; i++)); do
    t=$(bench_psql -tA <<SQL | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p'
$pre
EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $q;
SQL
)
    times+=("$t")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
