#!/usr/bin/env bash
# bench/costs.sh [EVENTS]: the costs of contract §6.4 on the 10M-event set
# (issue 17), each against the same answer in plain SQL over the raw events
# in the same run.
#
#   1. costs over 365 days (today - 364 to today, whole UTC days) for the
#      busiest tenant (target < 20 ms warm) and for the operator (every
#      tenant, < 100 ms), by agent, model, user and day; cost_trend by week
#      and by model.  The plain SQL prices each llm_call by a lateral lookup
#      of the price in force at its occurred_at (the pgTAP oracle,
#      test/pgtap/13_costs_oracle.sql) and groups the raw events; "same"
#      says the two answers agree row for row.
#   2. Exactness over all events: the sum of cost_daily equals the sum of
#      the per-event costs to the last digit.
#   3. Re-pricing a month: a global price of gpt-4o from 30 days ago, then
#      the nightly job (which recomputes the marked days), against rolling
#      the same 30 days up with nothing changed in them forced (each day
#      logged as changed, then the job).
#
# Prices (set once, as make demo does): gpt-4o, gpt-4o-mini, claude-sonnet-4
# global since -infinity, a negotiated gpt-4o price for the busiest tenant
# from 100 days ago, llama-3.1-70b unpriced.  RUNS (default 7) warm calls,
# median of EXPLAIN ANALYZE execution times; PLAIN_RUNS (default 3) for the
# plain SQL.  BENCH_REUSE=1 measures on the bench cluster as it runs.  Not
# part of make test.
source "$(dirname "$0")/lib.sh"
N=${1:-${BENCH_EVENTS:-10000000}}
RUNS=${RUNS:-7}
PLAIN_RUNS=${PLAIN_RUNS:-3}
TENANT_TARGET=20
OPERATOR_TARGET=100
if [[ ${BENCH_REUSE:-0} == 1 ]]; then
  source "$BENCH_DIR/env"
else
  bench_setup "$N"
fi
T=00000000-0000-4000-8000-000000000001

bench_psql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT analytics.set_model_price(v.model, v.i, v.o, v.c, v.w, '-infinity')
FROM (VALUES ('gpt-4o', 2.50, 10.00, 1.25, 3.125), ('gpt-4o-mini', 0.15, 0.60, 0.075, 0.1875),
             ('claude-sonnet-4', 3.00, 15.00, 0.30, 3.75)) AS v(model, i, o, c, w)
WHERE NOT EXISTS (SELECT 1 FROM analytics.model_prices p WHERE p.model = v.model AND p.tenant_id IS NULL);
SELECT analytics.set_model_price('gpt-4o', 2.00, 8.00, 1.00, 2.50,
                                 (analytics.utc_today() - 100)::timestamp AT TIME ZONE 'UTC', '$T')
WHERE NOT EXISTS (SELECT 1 FROM analytics.model_prices p WHERE p.model = 'gpt-4o' AND p.tenant_id = '$T');
SQL
t0=$SECONDS
bench_psql -c "CALL analytics.rollup_job()" >/dev/null || echo "bench: rollup_job failed; going on" >&2
bench_psql -c "CALL analytics.increment_job()" >/dev/null
echo "bench: rollup job before measuring: $((SECONDS - t0)) s" >&2
bench_psql -c "ANALYZE analytics.cost_daily, analytics.cost_user_daily, analytics.price_spans, analytics.model_prices" >/dev/null

TODAY=$(bench_psql -tA -c "SELECT analytics.utc_today()")
F=$(bench_psql -tA -c "SELECT '$TODAY'::date - 364")
TO=$(bench_psql -tA -c "SELECT '$TODAY'::date + 1")
W="'$F 00:00:00+00'::timestamptz, '$TO 00:00:00+00'::timestamptz"

bench_psql >/dev/null <<'SQL'
CREATE SCHEMA IF NOT EXISTS bench_costs;
-- The plain SQL: raw llm_calls, each priced by the row in force at it.
CREATE OR REPLACE FUNCTION bench_costs.costs(tid uuid, f timestamptz, t timestamptz, gb text)
RETURNS TABLE (key text, cost numeric, calls bigint, unpriced bigint)
LANGUAGE sql STABLE AS $$
SELECT CASE WHEN gb = 'agent' THEN e.agent_id::text WHEN gb = 'tenant' THEN e.tenant_id::text
            WHEN gb = 'user' THEN e.user_id WHEN gb = 'model' THEN e.model
            WHEN gb = 'day' THEN to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') END,
       round(coalesce(sum(((coalesce(e.input_tokens, 0) - coalesce(e.cached_input_tokens, 0) - coalesce(e.cache_write_tokens, 0))
                             * p.input_usd_per_mtok
                           + coalesce(e.cached_input_tokens, 0) * coalesce(p.cached_input_usd_per_mtok, p.input_usd_per_mtok)
                           + coalesce(e.cache_write_tokens, 0) * coalesce(p.cache_write_usd_per_mtok, p.input_usd_per_mtok)
                           + coalesce(e.output_tokens, 0) * p.output_usd_per_mtok) / 1000000), 0), 6),
       sum(e.count)::bigint, coalesce(sum(e.count) FILTER (WHERE p.price_id IS NULL), 0)::bigint
FROM analytics.usage_events e
LEFT JOIN LATERAL (
    SELECT mp.* FROM analytics.model_prices mp
    WHERE mp.model = e.model AND (mp.tenant_id = e.tenant_id OR mp.tenant_id IS NULL) AND mp.effective_from <= e.occurred_at
    ORDER BY mp.tenant_id IS NULL, mp.effective_from DESC LIMIT 1) p ON true
WHERE e.event_type = 'llm_call' AND e.occurred_at >= f AND e.occurred_at < t AND (tid IS NULL OR e.tenant_id = tid)
GROUP BY 1 $$;
CREATE OR REPLACE FUNCTION bench_costs.same(tid uuid, f timestamptz, t timestamptz, gb text) RETURNS boolean
LANGUAGE sql STABLE AS $$
WITH a AS (SELECT d ->> 'key' AS key, (d ->> 'costUsd')::numeric AS cost, (d ->> 'llmCalls')::bigint AS calls,
                  (d ->> 'unpricedCalls')::bigint AS unpriced
           FROM jsonb_array_elements(analytics.costs(tid, f, t, gb) -> 'data') d),
     o AS (SELECT * FROM bench_costs.costs(tid, f, t, gb))
SELECT NOT EXISTS (SELECT * FROM a EXCEPT ALL SELECT * FROM o) AND NOT EXISTS (SELECT * FROM o EXCEPT ALL SELECT * FROM a) $$;
SQL

warm() {  # warm SQL: RUNS timed runs in one session after a warm-up; median ms
  local sql=$1 i
  { echo "SELECT $sql;"; for ((i = 0; i < RUNS; i++)); do echo "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT $sql;"; done; } \
    | bench_psql -tA | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

printf '\n%-34s %-9s %10s %12s %8s %5s %7s\n' "costs, 365 days" scope "ms" "plain SQL ms" ratio same target
for gb in agent model user day; do
  for scope in tenant operator; do
    if [[ $scope == tenant ]]; then tid="'$T'::uuid"; target=$TENANT_TARGET; else tid="NULL::uuid"; target=$OPERATOR_TARGET; fi
    ms=$(warm "analytics.costs($tid, $W, '$gb')")
    plain=$(bench_time "SELECT count(*) FROM bench_costs.costs($tid, $W, '$gb')" "$PLAIN_RUNS")
    same=$(bench_psql -tA -c "SELECT CASE WHEN bench_costs.same($tid, $W, '$gb') THEN 'yes' ELSE 'NO' END")
    met=$(awk -v a="$ms" -v b="$target" 'BEGIN { print (a < b) ? "met" : "MISSED" }')
    printf '%-34s %-9s %10.1f %12.1f %7sx %5s %7s\n' "costs group_by $gb" "$scope" "$ms" "$plain" "$(ratio "$plain" "$ms")" "$same" "$met"
  done
done
for spec in "week|none" "week|model" "day|agent"; do
  gran=${spec%|*}; gb=${spec#*|}
  for scope in tenant operator; do
    if [[ $scope == tenant ]]; then tid="'$T'::uuid"; else tid="NULL::uuid"; fi
    ms=$(warm "analytics.cost_trend($tid, $W, '$gran', '$gb', 5)")
    printf '%-34s %-9s %10.1f\n' "cost_trend $gran, $gb" "$scope" "$ms"
  done
done

echo
exact=$(bench_psql -tA -c "
  SELECT (SELECT sum(cost_usd) FROM analytics.cost_daily WHERE bucket < '$TODAY'::date::timestamp AT TIME ZONE 'UTC')
       = (SELECT sum(cost_usd) FROM analytics.priced_events WHERE occurred_at < '$TODAY'::date::timestamp AT TIME ZONE 'UTC')")
calls=$(bench_psql -tA -c "SELECT sum(llm_calls) FROM analytics.cost_daily")
echo "exact: the sum of cost_daily equals the sum of the per-event costs over every past day ($calls llm calls): $exact"

# ---- re-pricing a month against rolling it up
M0=$(bench_psql -tA -c "SELECT '$TODAY'::date - 30")
t0=$(date +%s.%N)
# (from a second of the day's first hour that no earlier run on this cluster
# used: a price of the same model, scope and instant exists once)
marked=$(bench_psql -tA -c "SELECT analytics.set_model_price('gpt-4o', 2.75 + random()::numeric(3,2), 11.00, NULL, NULL,
  '$M0 00:00:00+00'::timestamptz + make_interval(secs => extract(epoch FROM clock_timestamp())::bigint % 3600)) ->> 'daysMarked'")
t1=$(date +%s.%N)
bench_psql -c "CALL analytics.rollup_job()" >/dev/null
t2=$(date +%s.%N)
bench_psql -c "SELECT analytics.mark_days_changed(ARRAY(SELECT d::date FROM generate_series('$M0'::date, '$TODAY'::date - 1, interval '1 day') d))" >/dev/null
t3=$(date +%s.%N)
bench_psql -c "CALL analytics.rollup_job()" >/dev/null
t4=$(date +%s.%N)
reprice=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
setp=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
roll=$(awk -v a="$t3" -v b="$t4" 'BEGIN { printf "%.1f", b - a }')
echo "re-pricing 30 days: set_model_price ${setp} s (marked $marked days), then the nightly job ${reprice} s in all;"
echo "rolling the same 30 days up: ${roll} s; ratio re-pricing / rollup: $(ratio "$reprice" "$roll")"
