#!/usr/bin/env bash
# bench/increments.sh [MINUTES]: the cost of keeping today's rollups current
# at a steady ingest of 1,000 events/s, against the ingest itself.
#
# The job runs PASSES times a minute (default 4, as analytics.schedule_
# increments() schedules it).  Each simulated pass: 60,000 / PASSES of
# today's events (batches of 1,000, the generator's mix over every tenant)
# are sent through record_events by one client (bench/ingest_client.pl, as an
# application sends them); then one pass of the job
# (CALL analytics.increment_job()) merges them.  Reported per minute (PASSES
# passes): the ingest's time, the job's time, and the job's time as a share
# of the ingest's and of one core-minute; and usage_summary (busiest tenant,
# 30 days) just before a pass (rollup rows plus 60 / PASSES seconds of raw
# events, the worst a reader meets) and just after (rollup rows alone).  The minutes are compressed (the next starts when
# the job ends), which changes nothing of the work per minute.  On the bench
# cluster of bench/lib.sh (10M events); not part of make test.
source "$(dirname "$0")/lib.sh"
MINUTES=${1:-5}
PASSES=${PASSES:-4}
PER_PASS=$(( 60000 / PASSES ))
bench_setup "${BENCH_EVENTS:-10000000}"
work=$(mktemp -d /tmp/analytics-bench-inc.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

# Today rolled and current before the first minute.
bench_psql -c "SELECT analytics.ensure_partitions(analytics.utc_today(), analytics.utc_today())" >/dev/null
bench_psql -c "CALL analytics.rollup_job()" -c "CALL analytics.increment_job()" >/dev/null 2>&1 || true
# A minute of events: the last week's first 60,000, moved to two minutes
# ago (record_events takes them as today's; near midnight UTC the bench
# waits).
now_s=$(date -u +%s); midnight=$(( now_s / 86400 * 86400 ))
if (( now_s - midnight < 600 )); then sleep $(( 600 - (now_s - midnight) )); fi
bench_psql -tA -c "
SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
         'tenant_id', tenant_id, 'agent_id', agent_id,
         'occurred_at', to_char(now() - interval '2 minutes' + (n % 60) * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
         'event_type', event_type, 'success', success, 'count', count, 'endpoint', endpoint, 'method', method,
         'latency_ms', latency_ms, 'model', model, 'input_tokens', input_tokens, 'output_tokens', output_tokens)))::text
FROM (SELECT e.*, row_number() OVER () AS n
      FROM analytics.usage_events e
      WHERE e.occurred_at >= (analytics.utc_today() - 7)::timestamp AT TIME ZONE 'UTC'
        AND e.occurred_at < analytics.utc_today()::timestamp AT TIME ZONE 'UTC'
      LIMIT $PER_PASS) s
GROUP BY (n - 1) / 1000 ORDER BY (n - 1) / 1000" > "$work/minute.jsonl"
batches=$(wc -l < "$work/minute.jsonl")
T=$(bench_psql -tA -c "SELECT tenant_id FROM analytics.tenant_daily GROUP BY 1 ORDER BY sum(events) DESC LIMIT 1")
CLAIMS="SET request.jwt.claims = '{\"tenant_id\": \"$T\"}';"
read_ms() {
  { echo "$CLAIMS"; echo "SELECT analytics_api.usage_summary() IS NULL;"
    for i in 1 2 3 4 5; do echo "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT analytics_api.usage_summary();"; done; } \
    | bench_psql -tA | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

printf '\nIncrements at 1,000 events/s, %s passes a minute (%s batches of 1,000 a pass), %s minutes\n\n' "$PASSES" "$batches" "$MINUTES"
printf '%-7s %12s %12s %10s %11s %16s %15s\n' minute 'ingest ms' 'job ms' 'job/ingest' 'job/core' 'max read before' 'max read after'
ing=(); job=()
for ((m = 1; m <= MINUTES; m++)); do
  i=0; j=0; before=0; after=0
  for ((p = 1; p <= PASSES; p++)); do
    ip=$(BENCH_DB=$BENCH_DB perl "$BENCH_ROOT/bench/ingest_client.pl" json "$work/minute.jsonl")
    sleep 1.2   # (the job's watermark trails the clock by a second)
    b=$(read_ms)
    jp=$(bench_psql -tA <<'SQL' | tail -1
\timing on
CALL analytics.increment_job();
SQL
)
    jp=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$jp")
    a=$(read_ms)
    i=$(awk -v x="$i" -v y="$ip" 'BEGIN{print x + y}'); j=$(awk -v x="$j" -v y="$jp" 'BEGIN{print x + y}')
    before=$(awk -v x="$before" -v y="$b" 'BEGIN{print (y > x) ? y : x}'); after=$(awk -v x="$after" -v y="$a" 'BEGIN{print (y > x) ? y : x}')
  done
  ing+=("$i"); job+=("$j")
  printf '%-7s %12s %12s %9s%% %10s%% %16s %15s\n' "$m" "$i" "$j" "$(awk -v a="$j" -v b="$i" 'BEGIN{printf "%.1f", 100*a/b}')" \
    "$(awk -v a="$j" 'BEGIN{printf "%.2f", 100*a/60000}')" "$before" "$after"
done
mi=$(printf '%s\n' "${ing[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
mj=$(printf '%s\n' "${job[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf '\nmedian: ingest %s ms, job %s ms a minute: the job costs %s%% of the ingest, %s%% of one core\n' "$mi" "$mj" \
  "$(awk -v a="$mj" -v b="$mi" 'BEGIN{printf "%.1f", 100*a/b}')" "$(awk -v a="$mj" 'BEGIN{printf "%.2f", 100*a/60000}')"
# The check: the merged rollup equals the raw events of today.
ok=$(bench_psql -tA -c "SELECT (SELECT sum(events) FROM analytics.tenant_daily WHERE date = analytics.utc_today())
                              = (SELECT sum(count) FROM analytics.usage_events
                                 WHERE occurred_at >= analytics.utc_today()::timestamp AT TIME ZONE 'UTC'
                                   AND ingested_at < (SELECT watermark FROM analytics.rollup_days WHERE day = analytics.utc_today()))")
echo "today's tenant_daily events = raw events below the watermark: $ok"
[[ $ok == t ]]
