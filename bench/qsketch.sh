#!/usr/bin/env bash
# bench/qsketch.sh [EVENTS]: cost and accuracy of analytics.qsketch over the
# generator's events (latency_ms), serially and with 2 parallel workers, each
# figure a ratio against a baseline measured in the same run:
#   qsketch_agg(latency_ms) / sum(latency_ms)                      target <= 1.3
#   percentile_cont(ARRAY[.5,.95,.99]) / qsketch_agg + quantiles   target >= 4 serial, >= 6 parallel
#   tdigest_percentile(latency_ms, 100, ARRAY[...]) / qsketch      target >= 2
#   merge of one tenant's 365 daily sketches / count(*) of them   target <= 2
# plus the relative error of qsketch and tdigest against the exact
# percentile_disc, and the bytes of a stored daily sketch.  Median server
# time (EXPLAIN ANALYZE) of RUNS runs.  Not part of make test.
# EVENTS defaults to BENCH_EVENTS or 10,000,000.
# bench/qsketch.sh --merge [EVENTS]: only the merge of the 365 daily sketches
# against count(*) of them (reusing public.bench_qsketch_daily when it is
# there and has its sketch column), with RUNS (default 11) runs of each,
# alternating.
source "$(dirname "$0")/lib.sh"
ONLY_MERGE=0
if [[ ${1:-} == --merge ]]; then ONLY_MERGE=1; shift; fi
N=${1:-${BENCH_EVENTS:-10000000}}
RUNS=${RUNS:-$((ONLY_MERGE ? 11 : 5))}
bench_setup "$N"

T=analytics.usage_events
QS="ARRAY[0.5, 0.95, 0.99]::float8[]"
SERIAL="SET max_parallel_workers_per_gather = 0;"
PARALLEL="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"

declare -A Q=(
  [sum]="SELECT sum(latency_ms) FROM $T"
  [qsketch]="SELECT analytics.quantiles(analytics.qsketch_agg(latency_ms), $QS) FROM $T"
  [pctl]="SELECT percentile_cont($QS) WITHIN GROUP (ORDER BY latency_ms) FROM $T"
  [tdigest]="SELECT tdigest_percentile(latency_ms, 100, $QS) FROM $T"
)

# Daily sketches per tenant, stored as a rollup would store them.
HAVE_DAILY=$(bench_psql -tA -c "SELECT count(*) FROM pg_attribute
  WHERE attrelid = to_regclass('public.bench_qsketch_daily') AND attname = 'sketch' AND NOT attisdropped")
if [[ $ONLY_MERGE == 0 || $HAVE_DAILY != 1 ]]; then
bench_psql >/dev/null <<SQL
DROP TABLE IF EXISTS public.bench_qsketch_daily;
CREATE TABLE public.bench_qsketch_daily AS
SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
       analytics.qsketch_agg(latency_ms) AS sketch
FROM $T WHERE latency_ms IS NOT NULL
GROUP BY 1, 2;
CREATE INDEX ON public.bench_qsketch_daily (tenant_id, day);
VACUUM ANALYZE public.bench_qsketch_daily;
SQL
fi
TENANT=$(bench_psql -tA -c "SELECT tenant_id FROM public.bench_qsketch_daily GROUP BY 1 ORDER BY count(*) DESC, sum(analytics.sketch_count(sketch)) DESC LIMIT 1")
DAYS=$(bench_psql -tA -c "SELECT count(*) FROM public.bench_qsketch_daily WHERE tenant_id = '$TENANT'")
Q[merge]="SELECT analytics.quantiles(analytics.qsketch_merge(sketch), $QS) FROM public.bench_qsketch_daily WHERE tenant_id = '$TENANT'"
Q[count]="SELECT count(*) FROM public.bench_qsketch_daily WHERE tenant_id = '$TENANT'"
if [[ $ONLY_MERGE == 1 ]]; then
  printf '\nqsketch merge benchmark: %s daily sketches of one tenant, median of %s runs, server time (ms)\n' "$DAYS" "$RUNS"
  printf '%-50s %10s %9s %10s %9s %10s\n' "measure" "serial" "ratio" "2 workers" "ratio" "target"
  # count(*) and the merge alternate, so that both see the same load.
  median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  declare -A MS
  for mode in serial parallel; do
    pre=$SERIAL; [[ $mode == parallel ]] && pre=$PARALLEL
    tc=(); tm=()
    for ((r = 0; r < RUNS; r++)); do
      tc+=("$(bench_time "$pre ${Q[count]}" 1)"); tm+=("$(bench_time "$pre ${Q[merge]}" 1)")
    done
    MS[$mode/count]=$(median "${tc[@]}"); MS[$mode/merge]=$(median "${tm[@]}")
  done
  printf '%-50s %10s %9s %10s %9s %10s\n' "count(*) of one tenant's $DAYS daily sketches" "${MS[serial/count]}" "" "${MS[parallel/count]}" "" ""
  printf '%-50s %10s %8sx %10s %8sx %10s\n' "qsketch_merge of them + quantiles / count(*)" \
    "${MS[serial/merge]}" "$(ratio "${MS[serial/merge]}" "${MS[serial/count]}")" \
    "${MS[parallel/merge]}" "$(ratio "${MS[parallel/merge]}" "${MS[parallel/count]}")" "<= 2x"
  exit 0
fi
SIZES=$(bench_psql -tA -F' ' -c "
  SELECT round(avg(pg_column_size(sketch))), percentile_disc(0.5) WITHIN GROUP (ORDER BY pg_column_size(sketch)),
         max(pg_column_size(sketch)), round(avg(analytics.sketch_count(sketch))),
         round(avg(analytics.sketch_buckets(sketch)))
  FROM public.bench_qsketch_daily WHERE analytics.sketch_count(sketch) >= 1000")
read -r SZ_AVG SZ_MED SZ_MAX SZ_N SZ_B <<<"$SIZES"

# Accuracy against the exact percentile_disc (max relative error of p50, p95, p99).
ACC=$(bench_psql -tA -F' ' -c "
  WITH e AS (SELECT percentile_disc($QS) WITHIN GROUP (ORDER BY latency_ms) AS exact,
                    analytics.quantiles(analytics.qsketch_agg(latency_ms), $QS) AS qs,
                    tdigest_percentile(latency_ms, 100, $QS) AS td
             FROM $T)
  SELECT round(100 * max(abs(q - x) / x)::numeric, 3), round(100 * max(abs(t - x) / x)::numeric, 3)
  FROM e, unnest(e.exact, e.qs, e.td) AS u(x, q, t)")
read -r ERR_QS ERR_TD <<<"$ACC"
ROWS=$(bench_psql -tA -c "SELECT count(latency_ms) || ' of ' || count(*) FROM $T")

declare -A MS
for mode in serial parallel; do
  pre=$SERIAL; [[ $mode == parallel ]] && pre=$PARALLEL
  for k in sum qsketch pctl tdigest count merge; do
    MS[$mode/$k]=$(bench_time "$pre ${Q[$k]}" "$RUNS")
  done
done

printf '\nqsketch benchmark: latency_ms set on %s events, median of %s runs, server time (ms)\n' "$ROWS" "$RUNS"
printf '%-50s %10s %9s %10s %9s %10s\n' "measure" "serial" "ratio" "2 workers" "ratio" "target"
base() { printf '%-50s %10s %9s %10s %9s %10s\n' "$1" "${MS[serial/$2]}" "" "${MS[parallel/$2]}" "" ""; }
row() { # label key baseline_key cost|speedup target
  local s=${MS[serial/$2]} p=${MS[parallel/$2]} rs rp
  if [[ $4 == cost ]]; then rs=$(ratio "$s" "${MS[serial/$3]}"); rp=$(ratio "$p" "${MS[parallel/$3]}")
  else rs=$(ratio "${MS[serial/$3]}" "$s"); rp=$(ratio "${MS[parallel/$3]}" "$p"); fi
  printf '%-50s %10s %8sx %10s %8sx %10s\n' "$1" "$s" "$rs" "$p" "$rp" "$5"
}
base "sum(latency_ms) (baseline)" sum
row "qsketch_agg + quantiles / sum" qsketch sum cost "<= 1.3x"
base "percentile_cont(ARRAY[.5,.95,.99])" pctl
row "  speed-up of qsketch over percentile_cont" qsketch pctl speedup ">= 4x/6x"
base "tdigest_percentile(latency_ms, 100, ARRAY[...])" tdigest
row "  speed-up of qsketch over tdigest" qsketch tdigest speedup ">= 2x"
base "count(*) of one tenant's $DAYS daily sketches" count
row "qsketch_merge of them + quantiles / count(*)" merge count cost "<= 2x"
printf '\nrelative error vs percentile_disc (max of p50, p95, p99): qsketch %s%%, tdigest(100) %s%%\n' "$ERR_QS" "$ERR_TD"
printf 'stored daily sketch (tenant-days with >= 1000 values, avg %s values, %s buckets): avg %s bytes, median %s, max %s\n' \
  "$SZ_N" "$SZ_B" "$SZ_AVG" "$SZ_MED" "$SZ_MAX"
