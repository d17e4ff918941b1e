#!/usr/bin/env bash
# bench/ingest.sh [EVENTS]: ingestion throughput of analytics.record_events in
# batches of 1,000 against COPY of the same rows, in the same run, both sent by
# one client program (bench/ingest_client.pl, Perl DBD::Pg) the way an
# application sends them: COPY FROM STDIN, and record_events with the JSON
# batch bound as a parameter (as PostgREST does), one statement per batch.
# Target (issue 3): record_events reaches at least half of COPY's events/s.
source "$(dirname "$0")/lib.sh"
N=${1:-200000}
RUNS=${RUNS:-3}
bench_setup "${BENCH_EVENTS:-1000000}"
# The events go to three days long past, apart from the data set (the
# window of record_events is widened for this run's sessions to reach them).
export PGOPTIONS="${PGOPTIONS:-} -c analytics.raw_retention_days=36500"
DAYS="occurred_at >= '2001-01-01' AND occurred_at < '2001-01-04'"
work=$(mktemp -d /tmp/analytics-bench-ingest.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

# Source rows: the generator's events for those three days, kept aside.
bench_psql <<SQL >/dev/null
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.bench_ingest_src;
DELETE FROM analytics.usage_events WHERE $DAYS;
BEGIN;
SELECT * FROM analytics_datagen.generate($N, 3, '2001-01-03', 0.9);
CREATE TABLE public.bench_ingest_src AS
SELECT tenant_id, agent_id, occurred_at, event_type, success, count, endpoint, method, status_code,
       tool_name, mcp_server, model, input_tokens, output_tokens, latency_ms, user_id, session_id,
       workflow_id, execution_id, error_code, attributes
FROM analytics.usage_events WHERE $DAYS;
DELETE FROM analytics.usage_events WHERE $DAYS;
COMMIT;
SQL
bench_psql -c "\\copy public.bench_ingest_src TO '$work/events.tsv'"
bench_psql -tA -c "SELECT jsonb_agg(jsonb_strip_nulls(to_jsonb(s) - 'batch'))::text
                   FROM (SELECT s.*, (row_number() OVER () - 1) / 1000 AS batch FROM public.bench_ingest_src s) s
                   GROUP BY batch ORDER BY batch" > "$work/batches.jsonl"

clear_days() { bench_psql -c "DELETE FROM analytics.usage_events WHERE $DAYS" -c "VACUUM analytics.usage_events" >/dev/null; }

copy_ms=(); json_ms=()
for ((r = 0; r < RUNS; r++)); do
  clear_days
  copy_ms+=("$(BENCH_DB=$BENCH_DB perl "$BENCH_ROOT/bench/ingest_client.pl" copy "$work/events.tsv")")
  clear_days
  json_ms+=("$(BENCH_DB=$BENCH_DB perl "$BENCH_ROOT/bench/ingest_client.pl" json "$work/batches.jsonl")")
done
stored=$(bench_psql -tAc "SELECT count(*) FROM analytics.usage_events WHERE $DAYS")
clear_days
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
c=$(med "${copy_ms[@]}"); j=$(med "${json_ms[@]}")
printf '\nIngestion of %d events (median of %d runs, one client over the Unix socket)\n' "$N" "$RUNS"
printf '%-42s %10s %14s %10s\n' path ms events/s "vs COPY"
printf '%-42s %10d %14.0f %10s\n' "COPY (baseline)" "$c" "$(awk -v n=$N -v t=$c 'BEGIN{print n*1000/t}')" 1.00
printf '%-42s %10d %14.0f %10s\n' "record_events, batches of 1000" "$j" "$(awk -v n=$N -v t=$j 'BEGIN{print n*1000/t}')" "$(ratio "$c" "$j")"
echo "(stored by record_events in the last run: $stored rows; target: record_events >= 0.50 of COPY's events/s)"
