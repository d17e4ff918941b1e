#!/usr/bin/env bash
# bench/heatmap.sh [EVENTS]: cost of analytics.heatmap_agg over the
# generator's events, serially and with 2 parallel workers, each figure a
# ratio against a baseline measured in the same run:
#   heatmap_agg(occurred_at) / count(occurred_at)          target <= 1.3
#   GROUP BY extract(dow), extract(hour) / heatmap_agg     target >= 6
# plus, for information, the weighted form against sum(count) and the
# time zone form.  Median server time (EXPLAIN ANALYZE) of RUNS runs.
# Not part of make test.  EVENTS defaults to BENCH_EVENTS or 10,000,000.
# BENCH_REUSE=1 measures on the bench cluster as it runs (no rebuild,
# restart or reload), e.g. while another benchmark holds its data set.
source "$(dirname "$0")/lib.sh"
N=${1:-${BENCH_EVENTS:-10000000}}
RUNS=${RUNS:-5}
if [[ ${BENCH_REUSE:-0} == 1 ]]; then
  source "$BENCH_DIR/env"
else
  bench_setup "$N"
fi

T=analytics.usage_events
SERIAL="SET max_parallel_workers_per_gather = 0;"
PARALLEL="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"

declare -A Q=(
  [count]="SELECT count(occurred_at) FROM $T"
  [heatmap]="SELECT analytics.heatmap_agg(occurred_at) FROM $T"
  [groupby]="SELECT extract(dow FROM occurred_at AT TIME ZONE 'UTC') AS dow, extract(hour FROM occurred_at AT TIME ZONE 'UTC') AS hour, count(*) FROM $T GROUP BY 1, 2"
  [sum]="SELECT sum(count) FROM $T"
  [weighted]="SELECT analytics.heatmap_agg(occurred_at, count) FROM $T"
  [zone]="SELECT analytics.heatmap_agg(occurred_at, count, 'America/New_York') FROM $T"
)

# Same answer from the heatmap and the GROUP BY, before timing anything.
agree=$(bench_psql -tA -c "
  WITH c AS (SELECT x.* FROM analytics.heatmap_cells((SELECT analytics.heatmap_agg(occurred_at) FROM $T)) x),
       r AS (SELECT extract(dow FROM occurred_at AT TIME ZONE 'UTC')::int AS dow,
                    extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int AS hour, count(*) AS count
             FROM $T GROUP BY 1, 2)
  SELECT count(*) FROM c FULL JOIN r USING (dow, hour) WHERE c.count IS DISTINCT FROM r.count")
rows=$(bench_psql -tA -c "SELECT count(*) FROM $T")

declare -A MS
for mode in serial parallel; do
  pre=$SERIAL; [[ $mode == parallel ]] && pre=$PARALLEL
  for k in count heatmap groupby sum weighted zone; do
    MS[$mode/$k]=$(bench_time "$pre ${Q[$k]}" "$RUNS")
  done
done

printf '\nheatmap benchmark: %s events, median of %s runs, server time (ms)\n' "$rows" "$RUNS"
printf 'heatmap equals GROUP BY extract(dow, hour): %s\n\n' "$([[ $agree == 0 ]] && echo yes || echo "NO ($agree cells differ)")"
printf '%-44s %10s %10s %10s %10s %8s\n' "measure" "serial" "ratio" "2 workers" "ratio" "target"
row() { # label key baseline_key direction target
  local s p rs rp
  s=${MS[serial/$2]}; p=${MS[parallel/$2]}
  if [[ $4 == cost ]]; then rs=$(ratio "$s" "${MS[serial/$3]}"); rp=$(ratio "$p" "${MS[parallel/$3]}")
  else rs=$(ratio "${MS[serial/$3]}" "$s"); rp=$(ratio "${MS[parallel/$3]}" "$p"); fi
  printf '%-44s %10s %9sx %10s %9sx %8s\n' "$1" "$s" "$rs" "$p" "$rp" "$5"
}
printf '%-44s %10s %10s %10s %10s %8s\n' "count(occurred_at) (baseline)" "${MS[serial/count]}" "" "${MS[parallel/count]}" "" ""
row "heatmap_agg(occurred_at) / count" heatmap count cost "<= 1.3x"
row "GROUP BY extract(dow, hour) / heatmap_agg" heatmap groupby speedup ">= 6x"
printf '%-44s %10s %10s %10s %10s %8s\n' "sum(count) (baseline)" "${MS[serial/sum]}" "" "${MS[parallel/sum]}" "" ""
row "heatmap_agg(occurred_at, count) / sum" weighted sum cost "info"
row "heatmap_agg(.., 'America/New_York') / sum" zone sum cost "info"
printf '\n(GROUP BY row: time of the GROUP BY divided by time of heatmap_agg.)\n'
