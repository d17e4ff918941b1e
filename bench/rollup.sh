#!/usr/bin/env bash
# bench/rollup.sh: the rollup jobs against plain SQL, on the generator's
# events (BENCH_EVENTS, default 10,000,000 over 365 days), each figure a
# ratio against its baseline measured in the same run:
#   - rolling up one day vs a sequential scan of that day's partition (target <= 2x)
#   - rerunning over unchanged days (target: writes no row, costs <= the first run)
#   - the full backfill vs a plain-SQL INSERT ... SELECT ... GROUP BY ... ON CONFLICT
#     that produces only the daily counts (target <= 2x), and its rerun
#   - a real-time 365-day daily-counts read for the busiest tenant (target < 10 ms)
#     vs the same answer in plain SQL over raw events
source "$(dirname "$0")/lib.sh"
bench_setup "${BENCH_EVENTS:-10000000}"
RUNS=${RUNS:-5}
TENANT=00000000-0000-4000-8000-000000000001
DAY=$(bench_psql -tAc "SELECT (now() AT TIME ZONE 'UTC')::date - 2")
PART=$(bench_psql -tAc "SELECT 'analytics.' || analytics.partition_name('$DAY')")
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
row() { printf '%-58s %12s %12s %8s\n' "$@"; }

echo "== one day ($DAY, $(bench_psql -tAc "SELECT count(*) FROM $PART") events)"
scan=$(bench_time "SELECT count(*) FROM $PART" "$RUNS")
forget="DELETE FROM analytics.rollup_days WHERE day = '$DAY'; DELETE FROM analytics.usage_stats_daily WHERE date = '$DAY'; DELETE FROM analytics.analytics_daily_aggregates WHERE date = '$DAY'; DELETE FROM analytics.tenant_daily WHERE date = '$DAY'"
first=$(bench_time "$forget; SELECT analytics.run_rollup('$DAY')" "$RUNS")
dirty=$(bench_time "SELECT analytics.mark_days_changed(ARRAY['$DAY'::date]); SELECT analytics.run_rollup('$DAY')" "$RUNS")
clean=$(bench_time "SELECT analytics.run_rollup('$DAY')" "$RUNS")
upd0=$(bench_psql -tAc "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'analytics.usage_stats_daily'::regclass")
bench_psql -c "SELECT analytics.mark_days_changed(ARRAY['$DAY'::date])" -c "SELECT analytics.run_rollup('$DAY')" >/dev/null
sleep 1
upd1=$(bench_psql -tAc "SELECT pg_stat_clear_snapshot(); SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'analytics.usage_stats_daily'::regclass" | tail -1)
row "" "ms" "baseline ms" "ratio"
row "seq scan of the day's partition (baseline)" "$scan" "$scan" "1.00"
row "run_rollup, first run of the day" "$first" "$scan" "$(ratio "$first" "$scan")"
row "run_rollup, recompute of unchanged events" "$dirty" "$first" "$(ratio "$dirty" "$first")"
row "run_rollup, day already clean (skipped)" "$clean" "$first" "$(ratio "$clean" "$first")"
echo "rows rewritten by the recompute of unchanged events (n_tup_upd delta): $((upd1 - upd0))"

echo
echo "== full backfill"
bench_psql <<'SQL' >/dev/null
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.bench_daily_plain;
CREATE TABLE public.bench_daily_plain (LIKE analytics.analytics_daily_aggregates INCLUDING DEFAULTS);
ALTER TABLE public.bench_daily_plain ADD UNIQUE NULLS NOT DISTINCT (tenant_id, agent_id, date, metric_type);
SQL
PLAIN="INSERT INTO public.bench_daily_plain AS a (tenant_id, agent_id, date, metric_type, count)
SELECT e.tenant_id, e.agent_id, (e.occurred_at AT TIME ZONE 'UTC')::date, m.metric_type, sum(m.n)
FROM analytics.usage_events e
CROSS JOIN LATERAL (VALUES
    ('api_calls', CASE WHEN e.event_type = 'api_call' THEN e.count END),
    ('token_issuances', CASE WHEN e.event_type = 'token_issuance' THEN e.count END),
    ('token_failures', CASE WHEN e.event_type = 'token_issuance' AND NOT e.success THEN e.count END),
    ('credential_rotations', CASE WHEN e.event_type = 'credential_rotation' THEN e.count END),
    ('tool_calls', CASE WHEN e.event_type = 'tool_call' THEN e.count END),
    ('llm_calls', CASE WHEN e.event_type = 'llm_call' THEN e.count END)) AS m(metric_type, n)
WHERE m.n IS NOT NULL
GROUP BY 1, 2, 3, 4
ON CONFLICT (tenant_id, agent_id, date, metric_type) DO UPDATE SET count = excluded.count, updated_at = now()"
plain1=$(ms bench_psql -c "$PLAIN")
plain2=$(ms bench_psql -c "$PLAIN")
bench_psql <<'SQL' >/dev/null
TRUNCATE analytics.usage_stats_daily, analytics.analytics_daily_aggregates, analytics.tenant_daily, analytics.rollup_days;
INSERT INTO analytics.changed_days (day)
SELECT day FROM analytics.event_partitions WHERE day IS NOT NULL ON CONFLICT DO NOTHING;
SQL
ours1=$(ms bench_psql -c "CALL analytics.rollup_job()")
bench_psql -c "INSERT INTO analytics.changed_days (day) SELECT day FROM analytics.event_partitions WHERE day < (now() AT TIME ZONE 'UTC')::date ON CONFLICT DO NOTHING" >/dev/null
ours2=$(ms bench_psql -c "CALL analytics.rollup_job()")
days=$(bench_psql -tAc "SELECT count(*) FROM analytics.rollup_days")
row "" "ms" "baseline ms" "ratio"
row "plain SQL daily counts, first run (baseline)" "$plain1" "$plain1" "1.00"
row "plain SQL daily counts, rerun (rewrites every row)" "$plain2" "$plain1" "$(ratio "$plain2" "$plain1")"
row "rollup_job backfill, $days days (counts+sketches+hourly)" "$ours1" "$plain1" "$(ratio "$ours1" "$plain1")"
row "rollup_job rerun, every day recomputed, nothing changed" "$ours2" "$plain1" "$(ratio "$ours2" "$plain1")"

echo
echo "== real-time 365-day daily counts, busiest tenant"
RT="SELECT * FROM analytics.daily_counts('$TENANT', (now() AT TIME ZONE 'UTC')::date - 364, (now() AT TIME ZONE 'UTC')::date)"
RAW="SELECT d::date, coalesce(sum(e.count) FILTER (WHERE e.event_type = 'api_call'), 0), coalesce(sum(e.count) FILTER (WHERE e.event_type = 'token_issuance'), 0), coalesce(sum(e.count) FILTER (WHERE e.event_type = 'token_issuance' AND NOT e.success), 0), coalesce(sum(e.count) FILTER (WHERE e.event_type = 'credential_rotation'), 0), coalesce(sum(e.count) FILTER (WHERE e.event_type = 'tool_call'), 0), coalesce(sum(e.count) FILTER (WHERE e.event_type = 'llm_call'), 0) FROM generate_series((now() AT TIME ZONE 'UTC')::date - 364, (now() AT TIME ZONE 'UTC')::date, interval '1 day') d LEFT JOIN analytics.usage_events e ON e.tenant_id = '$TENANT' AND (e.occurred_at AT TIME ZONE 'UTC')::date = d::date GROUP BY 1 ORDER BY 1"
same=$(bench_psql -tAc "SELECT count(*) FROM (($RT) EXCEPT ALL ($RAW)) x")
rt=$(bench_time "$RT" "$RUNS"); raw=$(bench_time "$RAW" 3)
row "" "ms" "baseline ms" "speed-up"
row "plain SQL over raw events (baseline)" "$raw" "$raw" "1.00"
row "analytics.daily_counts (rollups + today's raw events)" "$rt" "$raw" "$(ratio "$raw" "$rt")"
echo "rows where the two answers differ: $same"
