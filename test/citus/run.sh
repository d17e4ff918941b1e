#!/usr/bin/env bash
# test/citus/run.sh: what `make test-citus` runs.
#
# Builds and installs Citus (tools/citus.sh; an installed 13.2 is reused) and
# the extension, starts a Citus coordinator with two workers and a single
# node beside it, each on 127.0.0.1 with its own port, socket and data
# folder; puts the extension on Citus with analytics.distribute(); loads the
# generator's events on the cluster and the same events (COPY) on the single
# node; then checks, against the single node, every analytics_api function for
# every tenant (byte-identical answers, errors included), the rollup job,
# late events, retention and the ingestion errors; and with EXPLAIN and
# Citus's remote-command log that a tenant read routes to one worker and
# that the sketch, heatmap and daily-count aggregates run on the workers.
# Always stops what it started.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
EVENTS=${CITUS_TEST_EVENTS:-60000}
T0=$SECONDS

tools/deps.sh || exit 1
echo "== citus: build / install"
tools/citus.sh build || exit 1
echo "== analytics: build / install"
make -s >/dev/null || exit 1
if [[ $(id -u) -eq 0 ]]; then make -s install >/dev/null || exit 1
else sudo -n make -s install >/dev/null || exit 1; fi

source tools/citus.sh
WORK=$(mktemp -d /tmp/analytics-citus.XXXXXX)
[[ $(id -u) -eq 0 ]] && chmod 755 "$WORK"
stop() { citus_stop "$WORK/cluster"; cluster_stop "$WORK/single"; rm -rf "$WORK"; }
trap stop EXIT

echo "== start coordinator + 2 workers, and a single node ($WORK)"
citus_start "$WORK/cluster" analytics_citus || exit 1
source "$WORK/cluster/env"
cluster_start "$WORK/single" "$(free_port $((COORD_PORT + 10)))" analytics_single >/dev/null || exit 1
SINGLE_HOST=$PGHOST SINGLE_PORT=$PGPORT
as_pg "$PGBIN/createdb" -h "$SINGLE_HOST" -p "$SINGLE_PORT" -U postgres analytics_single || exit 1

coord()  { psql -X -q -v ON_ERROR_STOP=1 -h "$COORD_HOST" -p "$COORD_PORT" -U postgres -d analytics_citus "$@"; }
single() { psql -X -q -v ON_ERROR_STOP=1 -h "$SINGLE_HOST" -p "$SINGLE_PORT" -U postgres -d analytics_single "$@"; }
worker() { local h="WORKER${1}_HOST" p="WORKER${1}_PORT"; shift
           psql -X -q -v ON_ERROR_STOP=1 -h "${!h}" -p "${!p}" -U postgres -d analytics_citus "$@"; }

failed=()
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failed+=("$1"); }
# same NAME QUERY: the query's output is the same on the cluster and on one node
same() {
  local name=$1 q=$2
  coord -At -c "$q" >"$WORK/$name.citus" 2>&1
  single -At -c "$q" >"$WORK/$name.single" 2>&1
  if [[ ! -s "$WORK/$name.single" ]]; then fail "$name: no output on the single node"
  elif cmp -s "$WORK/$name.citus" "$WORK/$name.single"; then pass "$name ($(wc -l <"$WORK/$name.single") lines identical)"
  else fail "$name: Citus and one node differ"; diff "$WORK/$name.single" "$WORK/$name.citus" | cut -c1-400 | head -30; fi
}

echo "== extensions"
# pg_cron on the coordinator only: the workers do not preload it, and CREATE
# EXTENSION would be propagated to them (and fail there) with DDL
# propagation on.
coord -c "SET citus.enable_ddl_propagation = off" -c "CREATE EXTENSION pg_cron" \
      -c "RESET citus.enable_ddl_propagation" -c "CREATE EXTENSION analytics" || exit 1
single -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION analytics" || exit 1
for w in 1 2; do
  [[ $(worker $w -At -c "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension") == analytics,citus,plpgsql ]] \
    && pass "worker $w: analytics created by the coordinator, pg_cron not" \
    || fail "worker$w-extensions" "worker $w: $(worker $w -At -c 'SELECT string_agg(extname, $$,$$) FROM pg_extension')"
done

echo "== distribute"
out=$(single -At -c "SELECT analytics.distribute()" 2>&1)
[[ $out == *"needs the citus extension"* ]] && pass "distribute() without Citus: $(head -1 <<<"$out")" \
  || fail distribute-no-citus "distribute() without Citus: $out"
coord -c "SELECT * FROM analytics.distribute(8)" || { fail distribute "analytics.distribute() failed"; exit 1; }
again=$(coord -At -c "SELECT count(*) FILTER (WHERE action <> 'kept') || '/' || count(*) FROM analytics.distribute(8)")
[[ $again == 0/* ]] && pass "distribute() again keeps every table ($again changed)" || fail distribute-idempotent "second distribute(): $again changed"
# every tenant-keyed table co-located with usage_events, registries replicated
bad=$(coord -At <<'SQL'
SELECT string_agg(c.relname, ', ')
FROM pg_class c
JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype = 'e'
                AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'analytics')
LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND (p.logicalrelid IS NULL
       OR (c.relname IN ('tenants', 'agents', 'model_prices', 'price_spans') AND p.repmodel <> 't')
       OR (c.relname IN ('usage_events', 'analytics_daily_aggregates', 'usage_stats_daily', 'tenant_daily')
           AND (p.partmethod <> 'h' OR p.colocationid <> (SELECT colocationid FROM pg_dist_partition
                                                          WHERE logicalrelid = 'analytics.usage_events'::regclass))));
SQL
)
[[ -z $bad ]] && pass "registries are reference tables, events and rollups co-located by tenant_id" \
  || fail distribute-layout "misplaced: $bad"

echo "== pg_cron on the coordinator"
j1=$(coord -At -c "SELECT analytics.schedule_rollup()") && j2=$(coord -At -c "SELECT analytics.schedule_rollup('7 0 * * *')") \
  && [[ $j1 == "$j2" && $(coord -At -c "SELECT count(*) FROM cron.job WHERE jobid = $j1 AND schedule = '7 0 * * *'") == 1 ]] \
  && pass "schedule_rollup() on the coordinator: job $j1, updated in place" || fail cron "schedule_rollup on the coordinator"

echo "== load: the generator on the cluster ($EVENTS events, 28 days), the same rows on one node by COPY"
coord -f datagen/generate.sql >/dev/null || exit 1
t=$SECONDS
coord -c "SELECT * FROM analytics_datagen.generate(events => $EVENTS, days => 28)" || { fail datagen "the generator on Citus"; exit 1; }
echo "     (generator on the cluster: $((SECONDS - t)) s)"
single -f datagen/generate.sql >/dev/null || exit 1
single >/dev/null <<'SQL' || exit 1
SELECT analytics.upsert_tenant(t.tenant_id, t.name, t.tier) FROM analytics_datagen.tenants() t;
SELECT analytics.upsert_agent(a.agent_id, a.tenant_id, a.name) FROM analytics_datagen.agents() a;
SELECT analytics.ensure_partitions((now() AT TIME ZONE 'UTC')::date - 27, (now() AT TIME ZONE 'UTC')::date);
SQL
coord -c "\\copy (SELECT * FROM analytics.usage_events) TO STDOUT" | single -c "\\copy analytics.usage_events FROM STDIN" \
  || { fail copy "COPY of the events to the single node"; exit 1; }
# The same prices on both (contract §6.4): global rows since -infinity, a
# price from day -10, an unpriced model (llama-3.1-70b) and a tenant's
# negotiated price from day -5.
PRICES=$(cat <<'SQL'
SELECT analytics.set_model_price('gpt-4o', 2.5, 10, 1.25, 3.125, '-infinity');
SELECT analytics.set_model_price('gpt-4o-mini', 0.15, 0.6, NULL, NULL, '-infinity');
SELECT analytics.set_model_price('claude-sonnet-4', 3, 15, 0.3, 3.75, ((now() AT TIME ZONE 'UTC')::date - 10)::timestamp AT TIME ZONE 'UTC');
SELECT analytics.set_model_price('gpt-4o', 2, 8, 1, 2.5, ((now() AT TIME ZONE 'UTC')::date - 5)::timestamp AT TIME ZONE 'UTC',
                                 '00000000-0000-4000-8000-000000000001');
SQL
)
coord -c "$PRICES" >/dev/null && single -c "$PRICES" >/dev/null || fail prices "set_model_price on both"
same events "SELECT count(*), sum(count), md5(string_agg(e::text, '' ORDER BY e::text)) FROM (SELECT tenant_id, agent_id, occurred_at, event_type, success, count, model, latency_ms FROM analytics.usage_events) e"

coord -f test/citus/calls.sql >/dev/null || exit 1
single -f test/citus/calls.sql >/dev/null || exit 1
API="SELECT tenant, free_tier_access, call, result FROM citus_check.api_calls()"
ROWS="SELECT tbl, row_text FROM citus_check.rollup_rows()"

echo "== every analytics_api function, every tenant: nothing rolled up yet (raw events)"
t=$SECONDS; same api-raw "$API"; echo "     ($((SECONDS - t)) s for both)"

echo "== the rollup job"
t=$SECONDS
coord -c "CALL analytics.rollup_job()" \
  || { fail rollup-job "rollup_job() on Citus"; coord -c "SELECT target_date, left(error, 200) AS error FROM analytics.job_runs WHERE status = 'failed' ORDER BY 1 LIMIT 5"; }
echo "     (rollup job on the cluster: $((SECONDS - t)) s)"
single -c "CALL analytics.rollup_job()" || fail rollup-job-single "rollup_job() on one node"
same rollups "$ROWS"
same api-rolled "$API"
n=$(coord -At -c "SELECT analytics.run_rollup((now() AT TIME ZONE 'UTC')::date - 1)" 2>/dev/null)
[[ $n == 0 ]] && pass "a rerun of yesterday's rollup writes nothing" || fail rollup-rerun "rerun wrote '$n'"

echo "== late events, an unknown agent, then the job again"
LATE=$(cat <<'SQL'
SELECT analytics.record_events(jsonb_build_array(
  jsonb_build_object('tenant_id', '00000000-0000-4000-8000-000000000002', 'agent_id', '00000000-0000-4000-aaaa-000000000001',
                     'occurred_at', ((now() AT TIME ZONE 'UTC')::date - 3)::timestamp + interval '10 hours',
                     'event_type', 'api_call', 'count', 5, 'latency_ms', 12.5),
  jsonb_build_object('tenant_id', '00000000-0000-4000-8000-000000000001',
                     'occurred_at', ((now() AT TIME ZONE 'UTC')::date - 5)::timestamp + interval '23 hours',
                     'event_type', 'token_issuance', 'success', false)));
SQL
)
coord -c "$LATE" >/dev/null || fail late-events "record_events on Citus"
single -c "$LATE" >/dev/null || fail late-events-single "record_events on one node"
[[ $(coord -At -c "SELECT tenant_id FROM analytics.agents WHERE agent_id = '00000000-0000-4000-aaaa-000000000001'") == 00000000-0000-4000-8000-000000000002 ]] \
  && pass "an unknown agent is registered on Citus" || fail unknown-agent "the unknown agent is not registered on Citus"
same api-late-unrolled "$API"
# The minute job: today's rollups and the late day's, merged increments
# (the watermark trails the clock by a second).
sleep 1.2
coord -c "CALL analytics.increment_job()" >/dev/null || fail increments "increment_job() on Citus"
single -c "CALL analytics.increment_job()" >/dev/null || fail increments-single "increment_job() on one node"
[[ $(coord -At -c "SELECT count(*) FROM analytics.rollup_days WHERE NOT complete") -ge 1 \
   && $(coord -At -c "SELECT count(*) FROM analytics.changed_days") == 0 ]] \
  && pass "increment_job() on Citus merged the appended days" || fail increments-merged "increment_job() left days unmerged on Citus"
same api-increments "$API"
coord -c "CALL analytics.rollup_job()" >/dev/null \
  || { fail rollup-job-late "rollup_job() after late events on Citus"; coord -c "SELECT target_date, left(error, 200) AS error FROM analytics.job_runs WHERE status = 'failed' ORDER BY 1 LIMIT 5"; }
single -c "CALL analytics.rollup_job()" >/dev/null
same rollups-late "$ROWS"

echo "== ingestion errors"
ERRS=$(cat <<'SQL'
CREATE OR REPLACE FUNCTION citus_check.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
  EXECUTE q; RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  -- (a constraint violation names the shard on Citus: its shard id is cut)
  RETURN st || ' ' || regexp_replace(msg, '_[0-9]{5,}"', '"', 'g');
END $$;
SELECT citus_check.try($q$SELECT analytics.record_events('[{"tenant_id": "00000000-0000-4000-8000-0000000000ff", "occurred_at": "2026-01-01T00:00:00Z", "event_type": "api_call"}]')$q$);
SELECT citus_check.try($q$SELECT analytics.record_events('[{"tenant_id": "00000000-0000-4000-8000-000000000001", "occurred_at": "2026-01-01T00:00:00Z", "event_type": "api_call"}, {"tenant_id": "00000000-0000-4000-8000-000000000001", "occurred_at": "2026-01-01T00:00:00Z", "event_type": "llm_call", "input_tokens": -1}]')$q$);
SELECT citus_check.try($q$SELECT analytics.record_events('[{"tenant_id": "00000000-0000-4000-8000-000000000001", "agent_id": "00000000-0000-4000-9002-000000000001", "occurred_at": "2026-01-01T00:00:00Z", "event_type": "api_call"}]')$q$);
SELECT left(citus_check.try($q$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type) VALUES ('00000000-0000-4000-8000-0000000000ff', now(), 'api_call')$q$), 5);
SELECT citus_check.try($q$INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, count) VALUES ('00000000-0000-4000-8000-000000000001', now(), 'api_call', 0)$q$);
SQL
)
same ingest-errors "$ERRS"
out=$(printf '00000000-0000-4000-8000-0000000000ff\t%s\tapi_call\n' "$(date -u +%F) 12:00:00+00" \
      | coord -c "\\copy analytics.usage_events (tenant_id, occurred_at, event_type) FROM STDIN" 2>&1)
[[ $out == *23503* || $out == *"not registered"* || $out == *"foreign key"* ]] \
  && pass "COPY of an unregistered tenant's event is refused on Citus" || fail copy-unknown-tenant "COPY: $out"

echo "== retention (raw 14 days, daily rows 20 days)"
RET="SET analytics.raw_retention_days = 14; SET analytics.daily_retention_days = 20; SELECT * FROM analytics.run_retention();"
same retention "$RET"
same rollups-retained "$ROWS"
same api-retained "$API"

echo "== routing and pushdown (EXPLAIN, remote-command log)"
TENANT=00000000-0000-4000-8000-000000000001
plan=$(coord -At -c "EXPLAIN SELECT count(*), sum(input_tokens) FROM analytics.usage_events WHERE tenant_id = '$TENANT' AND occurred_at >= now() - interval '7 days'")
[[ $plan == *"Task Count: 1"* ]] && pass "a tenant's read of usage_events is one task" || { fail route-explain "tenant read plan"; echo "$plan"; }
plan=$(coord -At -c "EXPLAIN SELECT * FROM analytics.tenant_daily d JOIN analytics.analytics_daily_aggregates a USING (tenant_id, date) WHERE d.tenant_id = '$TENANT'")
[[ $plan == *"Task Count: 1"* ]] && pass "a tenant's join of two rollups is one task (co-located)" || { fail route-join "tenant join plan"; echo "$plan"; }
# A whole API call: the shards it reads are all on one worker.
ports=$(coord -c "SET citus.log_remote_commands = on" \
  -c "SELECT set_config('request.jwt.claims', '{\"tenant_id\": \"$TENANT\"}', false)" \
  -c "SELECT analytics_api.usage_summary()" -c "SELECT analytics_api.agent_activity()" -c "SELECT analytics_api.token_trends()" 2>&1 >/dev/null \
  | grep -o 'on server [^ ]*' | sed 's/.*://' | sort -u | tr '\n' ' ')
nports=$(wc -w <<<"$ports")
[[ $nports == 1 ]] && pass "tenant API calls reach one worker (port $ports)" \
  || fail route-api "tenant API calls reached ${nports} nodes: $ports"
AGG="EXPLAIN (VERBOSE, COSTS OFF) SELECT analytics.qsketch_agg(latency_ms), analytics.heatmap_agg(occurred_at, count::bigint),
       analytics.daycounts_agg((occurred_at AT TIME ZONE 'UTC')::date, count::bigint, '2000-01-01'::date, '2100-01-01'::date)
     FROM analytics.usage_events"
plan=$(coord -At -c "$AGG")
if [[ $(grep -c 'worker_partial_agg' <<<"$plan") -ge 1 && $plan == *coord_combine_agg* && $plan == *"Task Count: 8"* \
      && $(grep -o 'worker_partial_agg([^)]*analytics\.\(qsketch_agg\|heatmap_agg\|daycounts_agg\)' <<<"$plan" | sort -u | wc -l) -ge 3 ]]; then
  pass "platform-wide qsketch_agg, heatmap_agg, daycounts_agg: partial on the workers, combined on the coordinator"
else
  fail pushdown-partial "the platform-wide aggregates are not split"; grep -E 'Task Count|partial|combine|Query' <<<"$plan" | head -10
fi
plan=$(coord -At -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT tenant_id, analytics.qsketch_agg(latency_ms), analytics.heatmap_agg(occurred_at) FROM analytics.usage_events GROUP BY tenant_id")
if grep -q 'Query:.*analytics.qsketch_agg(.*GROUP BY' <<<"$plan" && [[ $plan != *coord_combine_agg* ]]; then
  pass "per-tenant sketch and heatmap groups run whole on the workers"
else
  fail pushdown-grouped "per-tenant aggregates not pushed down"; grep -E 'Task Count|Query|combine' <<<"$plan" | head -6
fi

echo "== partitions made later, and the default partition"
part=$(coord -At 2>&1 <<'SQL'
SET client_min_messages = warning;
INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type)
VALUES ('00000000-0000-4000-8000-000000000001', (now() AT TIME ZONE 'UTC')::date + 40, 'api_call');
SELECT count(*) FROM analytics.usage_events_default;
SELECT analytics.ensure_partitions((now() AT TIME ZONE 'UTC')::date + 40, (now() AT TIME ZONE 'UTC')::date + 40);
SELECT count(*) FROM analytics.usage_events_default;
SELECT p.partmethod::text || ' ' || (p.colocationid = (SELECT colocationid FROM pg_dist_partition
                                                 WHERE logicalrelid = 'analytics.usage_events'::regclass))
       || ' ' || (SELECT count(*) FROM analytics.usage_events e WHERE e.occurred_at >= (now() AT TIME ZONE 'UTC')::date + 40)
FROM pg_dist_partition p
WHERE p.logicalrelid = ('analytics.' || analytics.partition_name((now() AT TIME ZONE 'UTC')::date + 40))::regclass;
SQL
)
[[ $(tr '\n' ' ' <<<"$part") == "1 1 0 h true 1 " ]] \
  && pass "an event of a day with no partition lands in the distributed default partition; ensure_partitions() moves it into a new day partition, distributed and co-located" \
  || fail partitions-later "default partition / new partition on Citus: $part"

echo "== test-citus took $((SECONDS - T0)) s"
if (( ${#failed[@]} )); then
  echo "make test-citus: FAILED: ${failed[*]}"
  tail -20 "$WORK/cluster/coord/server.log"
  exit 1
fi
echo "make test-citus: passed"
