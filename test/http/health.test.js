// HTTP tests of health and SLA (contract §6.5): the REST aliases through
// nginx and PostgREST for a tenant token and an operator token, seed 002's
// shapes, the POST routes, never cached, and every error of §6.8 these
// paths give, by status and code.  Services here have no check_url (the
// background worker is tested by test/health/run.sh).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { sign } = require('../../http/jwt.js');

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const ENT = '00000000-0000-4000-8000-000000000001';
const PRO = '00000000-0000-4000-8000-000000000002';
const FREE = '00000000-0000-4000-8000-000000000005';
const SVC = `http-svc-${process.pid}`;

let seq = 0;
const tenantTok = (tenant) => sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `h${process.pid}-${++seq}` }, SECRET, 600);
const operatorTok = () => sign({ role: 'analytics_operator', jti: `h${process.pid}-${++seq}` }, SECRET, 600);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function sql(q) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', q], { encoding: 'utf8' }).trim();
}
async function call(p, token, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  for (let attempt = 1; ; attempt++) {
    const r = await fetch(BASE + p, { method: opts.method || 'GET', headers, body: opts.body, redirect: 'manual' });
    const text = await r.text();
    if (r.status === 429 && attempt < 5) { await sleep(Number(r.headers.get('retry-after') || 1) * 1000); continue; }
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, text, json };
  }
}
const post = (p, token, body) => call(p, token, { method: 'POST', body: JSON.stringify(body) });
function assertError(r, status, code) {
  assert.equal(r.status, status, `status of ${r.text}`);
  assert.equal(r.json?.code, code, r.text);
  assert.equal(typeof r.json.message, 'string');
}

test.after(() => {
  sql(`DELETE FROM analytics.services WHERE service_name IN ('${SVC}', '${SVC}-p')`);
});

test('POST /api/v1/analytics/monitoring/services registers a tenant\'s service', async () => {
  const r = await post('/api/v1/analytics/monitoring/services', tenantTok(ENT),
    { service_name: SVC, service_type: 'mcp_server', interval_seconds: 30 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.service_name, SVC);
  assert.equal(r.json.tenant_id, ENT);
  assert.equal(r.json.interval_seconds, 30);
  assert.equal(r.json.created, true);
  assert.equal(sql(`SELECT service_type FROM analytics.services WHERE tenant_id = '${ENT}' AND service_name = '${SVC}'`), 'mcp_server');
  // a free tenant may write (contract §6.1)
  const f = await post('/api/v1/analytics/monitoring/services', tenantTok(FREE), { service_name: SVC });
  assert.equal(f.status, 200, f.text);
  // an operator registers a platform service
  const o = await post('/api/v1/analytics/monitoring/services', operatorTok(), { service_name: `${SVC}-p`, service_type: 'database' });
  assert.equal(o.status, 200, o.text);
  assert.equal(o.json.tenant_id, null);
});

test('POST checks and circuit changes, then GET health, service health and SLA', async () => {
  const t = tenantTok(ENT);
  const now = Date.now();
  const at = (s) => new Date(now + s * 1000).toISOString();
  for (const [s, status, ms] of [[-600, 'healthy', 12], [-300, 'unhealthy', null], [-200, 'unhealthy', null], [-100, 'degraded', 1500]]) {
    const r = await post('/api/v1/analytics/monitoring/checks', t,
      { service_name: SVC, status, response_time_ms: ms, error_message: status === 'unhealthy' ? 'boom' : null, checked_at: at(s) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, status);
  }
  const c = await post('/api/v1/analytics/monitoring/circuit', t, { service_name: SVC, state: 'open', at: at(-250) });
  assert.equal(c.status, 200, c.text);
  assert.equal((await post('/api/v1/analytics/monitoring/circuit', t, { service_name: SVC, state: 'closed', at: at(-150) })).status, 200);

  const h = await call('/api/v1/analytics/monitoring/health', t);
  assert.equal(h.status, 200, h.text);
  for (const k of ['overall_status', 'total_services', 'healthy', 'degraded', 'unhealthy', 'unknown', 'services']) assert.ok(k in h.json, k);
  const mine = h.json.services.find((s) => s.service_name === SVC);
  for (const k of ['service_name', 'status', 'response_time_ms', 'consecutive_failures', 'last_checked', 'circuit_state']) assert.ok(k in mine, k);
  assert.equal(mine.status, 'degraded');
  assert.equal(mine.circuit_state, 'closed');
  assert.equal(mine.consecutive_failures, 0);
  assert.ok(h.json.services.every((s) => s.tenant_id === ENT), 'a tenant sees its own services only');
  assert.notEqual(h.headers.get('x-cache-status'), 'HIT');

  const sh = await call(`/api/v1/analytics/monitoring/health/${SVC}?hours=1`, t);
  assert.equal(sh.status, 200, sh.text);
  assert.equal(sh.json.service_name, SVC);
  assert.equal(sh.json.latest_check.status, 'degraded');
  assert.deepEqual(sh.json.circuit_timeline.map((e) => e.state), ['open', 'closed']);
  assert.deepEqual(sh.json.timeline.map((e) => e.status), ['unknown', 'healthy', 'unhealthy', 'degraded']);

  const sla = await call(`/api/v1/analytics/monitoring/sla/${SVC}?days=1&target=99`, t);
  assert.equal(sla.status, 200, sla.text);
  for (const k of ['service_name', 'period', 'uptime_percentage', 'target', 'compliant', 'average_response_time_ms',
    'downtime_incidents', 'downtime_seconds', 'unknown_seconds', 'error_budget_remaining_seconds']) assert.ok(k in sla.json, k);
  assert.equal(sla.json.downtime_incidents, 1);
  assert.equal(sla.json.target, 99);
  // the same answer in SQL (up to the moment of the call: compare what does not move)
  const s2 = JSON.parse(sql(`SELECT analytics.sla('${ENT}', '${SVC}', now() - interval '1 day', now())`));
  assert.equal(s2.downtime_seconds, sla.json.downtime_seconds);
  assert.equal(s2.downtime_incidents, sla.json.downtime_incidents);
  assert.equal(s2.average_response_time_ms, sla.json.average_response_time_ms);
});

test('health, service health and SLA are never cached', async () => {
  const t = tenantTok(ENT);
  for (const p of ['/api/v1/analytics/monitoring/health', `/api/v1/analytics/monitoring/health/${SVC}`, `/api/v1/analytics/monitoring/sla/${SVC}`]) {
    const a = await call(p, t);
    const b = await call(p, t);
    assert.equal(a.status, 200, a.text);
    assert.notEqual(b.headers.get('x-cache-status'), 'HIT', p);
  }
  // a new check shows at once
  assert.equal((await post('/api/v1/analytics/monitoring/checks', t, { service_name: SVC, status: 'unhealthy' })).status, 200);
  const h = await call('/api/v1/analytics/monitoring/health', t);
  assert.equal(h.json.services.find((s) => s.service_name === SVC).status, 'unhealthy');
});

test('operators: every service, platform services by name, a tenant\'s with tenantId', async () => {
  const o = operatorTok();
  const all = await call('/api/v1/analytics/monitoring/health', o);
  assert.equal(all.status, 200, all.text);
  assert.ok(all.json.services.some((s) => s.service_name === `${SVC}-p` && s.tenant_id === null));
  assert.ok(all.json.services.some((s) => s.service_name === SVC && s.tenant_id === ENT));
  assert.equal((await call(`/api/v1/analytics/monitoring/sla/${SVC}-p`, o)).status, 200);
  assertError(await call(`/api/v1/analytics/monitoring/sla/${SVC}`, o), 404, 'SERVICE_NOT_FOUND');
  assert.equal((await call(`/api/v1/analytics/monitoring/sla/${SVC}?tenantId=${ENT}`, o)).status, 200);
  assertError(await call('/api/v1/analytics/monitoring/health?tenantId=00000000-0000-4000-8000-0000000000ff', o), 404, 'TENANT_NOT_FOUND');
});

test('errors of the health paths, by status and code', async () => {
  const t = tenantTok(ENT);
  assertError(await call('/api/v1/analytics/monitoring/health'), 401, 'UNAUTHORIZED');
  assertError(await call(`/api/v1/analytics/monitoring/sla/${SVC}`), 401, 'UNAUTHORIZED');
  assertError(await post('/api/v1/analytics/monitoring/checks', null, { service_name: SVC, status: 'healthy' }), 401, 'UNAUTHORIZED');
  assertError(await call('/api/v1/analytics/monitoring/health', tenantTok(FREE)), 403, 'ANALYTICS_NOT_AVAILABLE');
  assertError(await call(`/api/v1/analytics/monitoring/health?tenantId=${PRO}`, t), 403, 'FORBIDDEN');
  assertError(await post('/api/v1/analytics/monitoring/services', t, { service_name: 'x', tenantId: PRO }), 403, 'FORBIDDEN');
  assertError(await call('/api/v1/analytics/monitoring/health/no-such-service', t), 404, 'SERVICE_NOT_FOUND');
  assertError(await call('/api/v1/analytics/monitoring/sla/no-such-service', t), 404, 'SERVICE_NOT_FOUND');
  assertError(await call(`/api/v1/analytics/monitoring/sla/${SVC}`, tenantTok(PRO)), 404, 'SERVICE_NOT_FOUND');
  assertError(await post('/api/v1/analytics/monitoring/checks', t, { service_name: 'no-such-service', status: 'healthy' }), 404, 'SERVICE_NOT_FOUND');
  assertError(await post('/api/v1/analytics/monitoring/circuit', t, { service_name: 'no-such-service', state: 'open' }), 404, 'SERVICE_NOT_FOUND');
  assertError(await call(`/api/v1/analytics/monitoring/sla/${SVC}?days=0`, t), 400, 'INVALID_PERIOD');
  assertError(await call(`/api/v1/analytics/monitoring/sla/${SVC}?days=366`, t), 400, 'INVALID_PERIOD');
  assertError(await call(`/api/v1/analytics/monitoring/health/${SVC}?hours=169`, t), 400, 'INVALID_PERIOD');
  assertError(await call(`/api/v1/analytics/monitoring/sla/${SVC}?target=101`, t), 400, 'VALIDATION_ERROR');
  assertError(await post('/api/v1/analytics/monitoring/checks', t, { service_name: SVC, status: 'fine' }), 400, 'VALIDATION_ERROR');
  assertError(await post('/api/v1/analytics/monitoring/checks', t, { service_name: SVC, status: 'healthy', response_time_ms: -1 }), 400, 'VALIDATION_ERROR');
  assertError(await post('/api/v1/analytics/monitoring/circuit', t, { service_name: SVC, state: 'ajar' }), 400, 'VALIDATION_ERROR');
  assertError(await post('/api/v1/analytics/monitoring/services', t, { service_name: 'x', check_url: 'ftp://example.com/' }), 400, 'VALIDATION_ERROR');
  assertError(await post('/api/v1/analytics/monitoring/services', t, { service_name: 'x', interval_seconds: 1 }), 400, 'VALIDATION_ERROR');
  assertError(await post('/api/v1/analytics/monitoring/services', t, {}), 400, 'VALIDATION_ERROR');
  assertError(await call('/api/v1/analytics/monitoring/health', t, { method: 'POST', body: '{}' }), 405, 'METHOD_NOT_ALLOWED');
  assert.equal((await call('/api/v1/analytics/monitoring/services', t)).status, 405);
});
