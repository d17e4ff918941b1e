// Issue 13, item 6: without analytics in shared_preload_libraries the API and
// retention failed in every new session ("unrecognized configuration
// parameter analytics.enabled"), although §1 of the contract says every
// function works without it.  run.sh starts a second cluster with no
// preload at all (the suite's data set loaded); each call here is the first
// statement of a new session.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib.js');

const env = { db: process.env.NOPRELOAD_DB, vars: { PGHOST: process.env.NOPRELOAD_PGHOST, PGPORT: process.env.NOPRELOAD_PGPORT } };
const claims = JSON.stringify({ role: 'analytics_tenant', tenant_id: L.A });
// A new session as PostgREST makes it: role and claims set, then the call.
const asTenant = (call) => L.sqlTry(`SET ROLE analytics_tenant; SELECT set_config('request.jwt.claims', '${claims}', false); ${call}`, env);

test('without shared_preload_libraries: the server really has no preload', () => {
  assert.equal(L.sql('SHOW shared_preload_libraries', env), '');
});

test('without shared_preload_libraries: every analytics_api function works in a new session', () => {
  const fns = L.sql(`SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'analytics_api'::regnamespace ORDER BY 1`, env).split('\n');
  assert.ok(fns.length >= 9, `analytics_api has ${fns.length} functions`);
  const failures = [];
  // Functions that need an id answer the contract's 404 for an unknown one;
  // operator-only ones 403 to a tenant: that is the function running.
  const refusal = {
    agent_analytics: ['"agentId" => \'00000000-0000-4000-9999-000000000000\'', 'AGENT_NOT_FOUND'],
    agent_trends: ['"agentId" => \'00000000-0000-4000-9999-000000000000\'', 'AGENT_NOT_FOUND'],
    session_detail: ['"sessionId" => \'no-such-session\'', 'SESSION_NOT_FOUND'],
    execution_detail: ['"executionId" => \'no-such-execution\'', 'EXECUTION_NOT_FOUND'],
    user_analytics: ['"userId" => \'no-such-user\'', 'USER_NOT_FOUND'],
    user_trends: ['"userId" => \'no-such-user\'', 'USER_NOT_FOUND'],
    platform_trends: ['', 'FORBIDDEN'],
    service_health: ['service_name => \'no-such-service\'', 'SERVICE_NOT_FOUND'],
    sla: ['service_name => \'no-such-service\'', 'SERVICE_NOT_FOUND'],
    record_health_check: ['service_name => \'no-such-service\', status => \'healthy\'', 'SERVICE_NOT_FOUND'],
    record_circuit_state: ['service_name => \'no-such-service\', state => \'open\'', 'SERVICE_NOT_FOUND'],
    register_service: ['service_name => \'-\'', 'VALIDATION_ERROR'],
    set_model_price: ['model => \'m\', "inputPerMillion" => \'-1\', "outputPerMillion" => \'1\'', 'VALIDATION_ERROR'],
    record_metric: ['metric_name => \'m\', value => \'NaN\'', 'VALIDATION_ERROR'],
    record_metrics: ['metrics => \'[]\'', 'VALIDATION_ERROR'],
    metric_statistics: ['metric_name => \'no.such.metric\'', 'METRIC_NOT_FOUND'],
    metric_time_series: ['metric_name => \'no.such.metric\'', 'METRIC_NOT_FOUND'],
    cleanup_old_metrics: ['', 'FORBIDDEN'],
    create_alert_rule: ['', 'VALIDATION_ERROR'],
    update_alert_rule: ['id => \'999999999\', patch => \'{"threshold": 1}\'', 'RULE_NOT_FOUND'],
    delete_alert_rule: ['id => \'999999999\'', 'RULE_NOT_FOUND'],
    acknowledge_incident: ['id => \'999999999\'', 'INCIDENT_NOT_FOUND'],
    resolve_incident: ['id => \'999999999\'', 'INCIDENT_NOT_FOUND'],
    silence_incident: [`id => '999999999', "until" => '${new Date(Date.now() + 86400000).toISOString()}'`, 'INCIDENT_NOT_FOUND'],
    create_channel: ['', 'VALIDATION_ERROR'],
    delete_channel: ['id => \'999999999\'', 'CHANNEL_NOT_FOUND'],
    rotate_channel_secret: ['id => \'999999999\'', 'CHANNEL_NOT_FOUND'],
    test_channel: ['id => \'999999999\'', 'CHANNEL_NOT_FOUND'],
  };
  // Lists of the caller's own rows, whose answers name no tenant.
  const ownLists = new Set(['alert_rules', 'channels', 'deliveries', 'incidents']);
  for (const f of fns) {
    const call = f === 'record_events'
      ? `SELECT analytics_api.record_events('[{"occurred_at": "${new Date(Date.now() - 5000).toISOString()}", "event_type": "api_call"}]')`
      : `SELECT analytics_api.${f}(${refusal[f] ? refusal[f][0] : ''})`;
    const r = asTenant(call);
    if (refusal[f]) {
      if (r.ok || !r.err.includes(`"${refusal[f][1]}"`)) failures.push(`${f}: ${r.ok ? r.out : r.err.split('\n')[0]}`);
      continue;
    }
    if (!r.ok) { failures.push(`${f}: ${r.err.split('\n')[0]}`); continue; }
    const last = r.out.split('\n').pop();
    if (f === 'record_events') { if (last !== '1') failures.push(`record_events: ${last}`); continue; }
    let body;
    try { body = JSON.parse(last); } catch { failures.push(`${f}: not JSON: ${last.slice(0, 100)}`); continue; }
    if (f === 'analytics_health') { if (!['ok', 'degraded', 'down'].includes(body.status)) failures.push(`${f}: ${last}`); continue; }
    if (ownLists.has(f)) { if (typeof body.total !== 'number') failures.push(`${f}: ${last.slice(0, 150)}`); continue; }
    // (seed 002's answers are snake_case)
    if ((body.tenantId ?? body.tenant_id) !== L.A) failures.push(`${f}: ${last.slice(0, 150)}`);
  }
  assert.deepEqual(failures, []);
});

test('without shared_preload_libraries: the settings read their defaults, the switches still work', () => {
  // analytics.enabled off for the database: the API answers 404 NOT_FOUND
  L.sql(`ALTER DATABASE ${env.db} SET analytics.enabled = off`, env);
  try {
    const r = asTenant('SELECT analytics_api.tokens()');
    assert.ok(!r.ok && /NOT_FOUND/.test(r.err), `with analytics.enabled off: ${r.ok ? r.out : r.err}`);
  } finally {
    L.sql(`ALTER DATABASE ${env.db} RESET analytics.enabled`, env);
  }
});

test('without shared_preload_libraries: run_retention, run_rollup and rollup_job work in a new session', () => {
  const failures = [];
  for (const call of ['SELECT * FROM analytics.run_retention()', `SELECT analytics.run_rollup('${L.day(2)}')`, 'CALL analytics.rollup_job()',
    `SELECT analytics.record_events('[{"tenant_id": "${L.B}", "occurred_at": "${new Date(Date.now() - 5000).toISOString()}", "event_type": "api_call"}]')`]) {
    const r = L.sqlTry(call, env);
    if (!r.ok) failures.push(`${call}: ${r.err.split('\n')[0]}`);
  }
  assert.deepEqual(failures, []);
});
