// HTTP tests of the alert paths (contract §6.6, seed 002) through nginx and
// PostgREST: a rule created over POST fires on real events, its incident is
// listed, acknowledged and resolved by the path's id, and every error of
// these paths answers its status and code.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { sign } = require('../../http/jwt.js');

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const PRO = '00000000-0000-4000-8000-000000000002';
const ENT = '00000000-0000-4000-8000-000000000001';

let seq = 0;
const tenantTok = (tenant) => sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `a${process.pid}-${++seq}` }, SECRET, 600);
const operatorTok = () => sign({ role: 'analytics_operator', jti: `a${process.pid}-${++seq}` }, SECRET, 600);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function sql(q) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', q], { encoding: 'utf8' }).trim();
}
async function call(method, p, token, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  for (let attempt = 1; ; attempt++) {
    const r = await fetch(BASE + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status === 429 && attempt < 5) { await sleep(Number(r.headers.get('retry-after') || 1) * 1000); continue; }
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, text, json };
  }
}
function assertError(r, status, code) {
  assert.equal(r.status, status, `status of ${r.text}`);
  assert.equal(r.json?.code, code, r.text);
  assert.equal(typeof r.json.message, 'string');
}

const TOOL = `http-alert-tool-${process.pid}`;

test('a rule created over POST fires; its incident is acknowledged and resolved by the path id', async () => {
  const tok = tenantTok(PRO);
  const rule = await call('POST', '/api/v1/analytics/alerts/rules', tok, {
    name: `tool failures ${process.pid}`, metric_name: 'events.failures', condition_operator: 'gt', threshold: 2,
    severity: 'critical', description: 'the HTTP test', duration_seconds: 0, window_seconds: 600, tags: { tool: TOOL },
  });
  assert.equal(rule.status, 200, rule.text);
  const ruleId = rule.json.id ?? rule.json.rule_id;
  assert.ok(ruleId, rule.text);
  // Five failed calls of the rule's tool, then an evaluation.
  sql(`INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, success, tool_name)
       SELECT '${PRO}', now() - interval '30 seconds', 'tool_call', false, '${TOOL}' FROM generate_series(1, 5)`);
  sql('SELECT analytics.evaluate_alerts()');
  const list = await call('GET', '/api/v1/analytics/alerts/incidents', tok);
  assert.equal(list.status, 200, list.text);
  assert.equal(list.headers.get('x-cache-status'), 'BYPASS', 'incidents are never cached');
  const mine = list.json.incidents.filter((i) => String(i.rule_id) === String(ruleId));
  assert.equal(mine.length, 1, list.text);
  const id = mine[0].id ?? mine[0].incident_id;
  assert.equal(mine[0].status, 'open');
  assert.equal(Number(mine[0].value), 5);
  // Another tenant cannot see or touch it.
  const other = await call('GET', '/api/v1/analytics/alerts/incidents', tenantTok(ENT));
  assert.ok(!other.json.incidents.some((i) => String(i.rule_id) === String(ruleId)));
  assertError(await call('POST', `/api/v1/analytics/alerts/incidents/${id}/acknowledge`, tenantTok(ENT), {}), 404, 'INCIDENT_NOT_FOUND');
  // Acknowledge (the id from the path), then again: 409.
  const ack = await call('POST', `/api/v1/analytics/alerts/incidents/${id}/acknowledge`, tok, { note: 'looking' });
  assert.equal(ack.status, 200, ack.text);
  assert.equal(ack.json.status, 'acknowledged');
  assertError(await call('POST', `/api/v1/analytics/alerts/incidents/${id}/acknowledge`, tok, {}), 409, 'INVALID_STATE');
  const res = await call('POST', `/api/v1/analytics/alerts/incidents/${id}/resolve`, tok, { resolution_notes: 'fixed' });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.status, 'resolved');
  assertError(await call('POST', `/api/v1/analytics/alerts/incidents/${id}/resolve`, tok, {}), 409, 'INVALID_STATE');
  const resolved = await call('GET', '/api/v1/analytics/alerts/incidents?status=resolved', tok);
  assert.ok(resolved.json.incidents.some((i) => String(i.id ?? i.incident_id) === String(id)), resolved.text);
  // The operator sees the tenant's incident with tenantId.
  const op = await call('GET', `/api/v1/analytics/alerts/incidents?status=all&tenantId=${PRO}`, operatorTok());
  assert.equal(op.status, 200, op.text);
  assert.ok(op.json.incidents.some((i) => String(i.id ?? i.incident_id) === String(id)), op.text);
});

test('the errors of the alert paths, by status and code', async () => {
  const tok = tenantTok(PRO);
  assertError(await call('POST', '/api/v1/analytics/alerts/rules', tok, { name: 'x', metric_name: 'events.count', condition_operator: 'between', threshold: 1 }), 400, 'VALIDATION_ERROR');
  assertError(await call('POST', '/api/v1/analytics/alerts/rules', tok, { name: 'x', metric_name: 'events.count', condition_operator: 'gt', threshold: 'many' }), 400, 'VALIDATION_ERROR');
  const body = { name: `dup ${process.pid}`, metric_name: 'events.count', condition_operator: 'gt', threshold: 1, severity: 'info' };
  assert.equal((await call('POST', '/api/v1/analytics/alerts/rules', tok, body)).status, 200);
  assertError(await call('POST', '/api/v1/analytics/alerts/rules', tok, body), 409, 'CONFLICT');
  assertError(await call('POST', '/api/v1/analytics/alerts/rules', tok, { ...body, name: `plat ${process.pid}`, scope: 'platform' }), 403, 'FORBIDDEN');
  assertError(await call('POST', '/api/v1/analytics/alerts/incidents/999999999/acknowledge', tok, {}), 404, 'INCIDENT_NOT_FOUND');
  assertError(await call('POST', '/api/v1/analytics/alerts/incidents/999999999/resolve', tok, {}), 404, 'INCIDENT_NOT_FOUND');
  assertError(await call('GET', '/api/v1/analytics/alerts/incidents?status=exploded', tok), 400, 'VALIDATION_ERROR');
  assertError(await call('GET', '/api/v1/analytics/alerts/incidents?period=2w', tok), 400, 'INVALID_PERIOD');
  assertError(await call('GET', '/api/v1/analytics/alerts/rules', tok), 405, 'METHOD_NOT_ALLOWED');
  assertError(await call('GET', '/api/v1/analytics/alerts/incidents/1/acknowledge', tok), 405, 'METHOD_NOT_ALLOWED');
  assertError(await call('POST', '/api/v1/analytics/alerts/incidents', tok, {}), 405, 'METHOD_NOT_ALLOWED');
  assertError(await call('GET', '/api/v1/analytics/alerts/incidents'), 401, 'UNAUTHORIZED');
  const x = await call('POST', '/api/v1/analytics/alerts/incidents/abc/acknowledge', tok, {});
  assert.equal(x.status, 404, 'a non-numeric id matches no route');
  // A client's own X-Analytics-Path-Id never reaches the function.
  let r;
  for (let attempt = 1; ; attempt++) {
    r = await fetch(`${BASE}/rpc/acknowledge_incident`, {
      method: 'POST', headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json', 'X-Analytics-Path-Id': '1' }, body: '{}',
    });
    if (r.status !== 429 || attempt >= 5) break;
    await r.text();
    await sleep(Number(r.headers.get('retry-after') || 1) * 1000);
  }
  const j = await r.json();
  assert.equal(r.status, 400, JSON.stringify(j));
  assert.equal(j.code, 'VALIDATION_ERROR', 'no id: the header of the client is dropped');
});
