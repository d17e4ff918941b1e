// HTTP tests of custom metrics (contract §6.5): the seed 002 routes through
// nginx and PostgREST, for tenant and operator tokens; the answers equal the
// same calls in SQL; snake_case shapes; every error these routes give, by
// status and code; tenant isolation (a tenant never sees another's metrics).
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
// Names of this run only (the cache and earlier runs cannot interfere).
const RUN = `t${process.pid}`;
const NAME = `http.${RUN}.latency`;

let seq = 0;
const tenantTok = (tenant) => sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `m${process.pid}-${++seq}` }, SECRET, 600);
const operatorTok = () => sign({ role: 'analytics_operator', jti: `m${process.pid}-${++seq}` }, SECRET, 600);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function sql(q) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', q], { encoding: 'utf8' }).trim();
}
function sqlAs(claims, call) {
  const out = execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB], {
    encoding: 'utf8',
    input: `BEGIN; SELECT set_config('request.jwt.claims', '${JSON.stringify(claims)}', true) \\g /dev/null\nSELECT ${call};\nCOMMIT;\n`,
  });
  return JSON.parse(out.trim());
}
async function call(method, p, token, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  for (let attempt = 1; ; attempt++) {
    const r = await fetch(BASE + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    const text = await r.text();
    if (r.status === 429 && attempt < 5) { await sleep(Number(r.headers.get('retry-after') || 1) * 1000); continue; }
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, text, json };
  }
}
const get = (p, token) => call('GET', p, token);
const post = (p, token, body) => call('POST', p, token, body);
function assertError(r, status, code) {
  assert.equal(r.status, status, `status of ${r.text}`);
  assert.equal(r.json?.code, code, r.text);
  assert.equal(typeof r.json.message, 'string');
}
const stats = (name, q = '') => `/api/v1/analytics/metrics/${name}/statistics${q}`;
const series = (name, q = '') => `/api/v1/analytics/metrics/${name}/time-series${q}`;
// Comparable parts of an answer (period holds the call's now).
const strip = (j) => { const { period, ...rest } = j; return rest; };

test('POST /api/v1/analytics/metrics/record: a tenant records (seed 002 body)', async () => {
  for (const [v, env] of [[12.5, 'prod'], [40, 'prod'], [7, 'dev']]) {
    const r = await post('/api/v1/analytics/metrics/record', tenantTok(ENT),
      { metric_name: NAME, value: v, metric_type: 'timer', unit: 'ms', tags: { env } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.recorded, 1);
    assert.equal(r.json.metric_name, NAME);
    assert.equal(r.json.tenant_id, ENT);
  }
  assert.equal(sql(`SELECT count(*) FROM analytics.metric_points WHERE tenant_id = '${ENT}' AND metric_name = '${NAME}'`), '3');
});

test('POST /rpc/record_metrics: a batch, all or nothing', async () => {
  const ok = await post('/rpc/record_metrics', tenantTok(ENT), { metrics: [
    { metric_name: `${NAME}.c`, value: 2, metric_type: 'counter' },
    { metric_name: `${NAME}.c`, value: 3, metric_type: 'counter', tags: { k: 'v' } }] });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.recorded, 2);
  const bad = await post('/rpc/record_metrics', tenantTok(ENT), { metrics: [
    { metric_name: `${NAME}.d`, value: 1 }, { metric_name: `${NAME}.d`, value: 'NaN' }] });
  assertError(bad, 400, 'VALIDATION_ERROR');
  assert.match(bad.json.message, /^metrics\[1\]\.value/);
  assert.equal(sql(`SELECT count(*) FROM analytics.metric_points WHERE metric_name = '${NAME}.d'`), '0');
  assert.equal(sql(`SELECT count(*) FROM analytics.custom_metrics WHERE metric_name = '${NAME}.d'`), '0');
});

test('GET statistics, time-series and names: a tenant gets 200, snake_case, equal to SQL', async () => {
  const claims = { role: 'analytics_tenant', tenant_id: ENT };
  const s = await get(stats(NAME, '?hours=24'), tenantTok(ENT));
  assert.equal(s.status, 200, s.text);
  for (const k of ['metric_name', 'count', 'avg', 'min', 'max', 'p50', 'p95', 'p99', 'sum', 'metric_type', 'unit']) assert.ok(k in s.json, k);
  assert.equal(s.json.count, 3);
  assert.equal(s.json.min, 7);
  assert.equal(s.json.max, 40);
  assert.equal(s.json.metric_type, 'timer');
  assert.deepEqual(strip(s.json), strip(sqlAs(claims, `analytics_api.metric_statistics('${NAME}', '24')`)));
  const f = await get(stats(NAME, `?tags=${encodeURIComponent('{"env":"prod"}')}`), tenantTok(ENT));
  assert.equal(f.status, 200, f.text);
  assert.equal(f.json.count, 2);
  const c = await get(stats(`${NAME}.c`, '?hours=1'), tenantTok(ENT));
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.sum, 5);
  assert.ok(Math.abs(c.json.rate_per_second - 5 / 3600) < 1e-6, c.text);
  const t = await get(series(NAME, '?hours=6&bucket=1h'), tenantTok(ENT));
  assert.equal(t.status, 200, t.text);
  assert.equal(t.json.bucket, '1h');
  assert.ok(t.json.data.length >= 6 && t.json.data.length <= 7, t.text);
  for (const b of t.json.data) assert.deepEqual(Object.keys(b).sort(), ['avg', 'count', 'max', 'min', 'p50', 'p95', 'p99', 'sum', 'timestamp']);
  assert.equal(t.json.data.reduce((a, b) => a + b.count, 0), 3);
  assert.equal(t.json.data[0].count, 0);
  assert.equal(t.json.data[0].avg, null);
  assert.deepEqual(strip(t.json), strip(sqlAs(claims, `analytics_api.metric_time_series('${NAME}', '6', '1h')`)));
  const d = await get(series(NAME), tenantTok(ENT));
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.bucket, '5m');
  const n = await get('/api/v1/analytics/metrics', tenantTok(ENT));
  assert.equal(n.status, 200, n.text);
  assert.ok(n.json.metrics.some((m) => m.metric_name === NAME && m.metric_type === 'timer' && m.unit === 'ms'), n.text);
  assert.deepEqual(n.json, sqlAs(claims, 'analytics_api.metric_names()'));
});

test('tenant isolation: another tenant never sees the metric', async () => {
  assertError(await get(stats(NAME), tenantTok(PRO)), 404, 'METRIC_NOT_FOUND');
  assertError(await get(series(NAME), tenantTok(PRO)), 404, 'METRIC_NOT_FOUND');
  const n = await get('/api/v1/analytics/metrics', tenantTok(PRO));
  assert.equal(n.status, 200, n.text);
  assert.ok(!n.json.metrics.some((m) => m.metric_name.startsWith(`http.${RUN}`)), n.text);
  assertError(await get(stats(NAME, `?tenantId=${ENT}`), tenantTok(PRO)), 403, 'FORBIDDEN');
  // the same name in another tenant is its own metric, with its own type
  const r = await post('/api/v1/analytics/metrics/record', tenantTok(PRO), { metric_name: NAME, value: 1, metric_type: 'gauge' });
  assert.equal(r.status, 200, r.text);
  const s = await get(stats(NAME, '?hours=2'), tenantTok(PRO));
  assert.equal(s.json.count, 1);
  assert.equal(s.json.metric_type, 'gauge');
});

test('operators: platform metrics, and a tenant\'s with tenantId', async () => {
  const r = await post('/api/v1/analytics/metrics/record', operatorTok(), { metric_name: `${NAME}.platform`, value: 3 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.tenant_id, null);
  const s = await get(stats(`${NAME}.platform`), operatorTok());
  assert.equal(s.status, 200, s.text);
  assert.equal(s.json.count, 1);
  assert.equal(s.json.tenant_id, null);
  assertError(await get(stats(`${NAME}.platform`), tenantTok(ENT)), 404, 'METRIC_NOT_FOUND');
  assertError(await get(stats(NAME), operatorTok()), 404, 'METRIC_NOT_FOUND');
  const t = await get(stats(NAME, `?tenantId=${ENT}`), operatorTok());
  assert.equal(t.status, 200, t.text);
  assert.equal(t.json.count, 3);
  assertError(await get(stats(NAME, '?tenantId=00000000-0000-4000-8000-0000000000ff'), operatorTok()), 404, 'TENANT_NOT_FOUND');
  assertError(await post('/rpc/cleanup_old_metrics', tenantTok(ENT), { days: 90 }), 403, 'FORBIDDEN');
  const c = await post('/rpc/cleanup_old_metrics', operatorTok(), { days: 90 });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.days, 90);
});

test('free tier: writes allowed, reads 403 ANALYTICS_NOT_AVAILABLE', async () => {
  const r = await post('/api/v1/analytics/metrics/record', tenantTok(FREE), { metric_name: `${NAME}.free`, value: 1 });
  assert.equal(r.status, 200, r.text);
  assertError(await get(stats(`${NAME}.free`), tenantTok(FREE)), 403, 'ANALYTICS_NOT_AVAILABLE');
  assertError(await get('/api/v1/analytics/metrics', tenantTok(FREE)), 403, 'ANALYTICS_NOT_AVAILABLE');
});

test('errors: status and code of each', async () => {
  const tok = tenantTok(ENT);
  assertError(await get(stats(NAME)), 401, 'UNAUTHORIZED');
  assertError(await post('/api/v1/analytics/metrics/record', null, { metric_name: NAME, value: 1 }), 401, 'UNAUTHORIZED');
  assertError(await get(stats('no.such.metric')), 401, 'UNAUTHORIZED');
  assertError(await get(stats(`${NAME}.none`), tok), 404, 'METRIC_NOT_FOUND');
  assertError(await get(stats(NAME, '?hours=0'), tok), 400, 'VALIDATION_ERROR');
  assertError(await get(stats(NAME, '?hours=8761'), tok), 400, 'VALIDATION_ERROR');
  assertError(await get(stats(NAME, `?tags=${encodeURIComponent('{bad')}`), tok), 400, 'VALIDATION_ERROR');
  assertError(await get(series(NAME, '?bucket=2m'), tok), 400, 'VALIDATION_ERROR');
  assertError(await get(series(NAME, '?hours=8760&bucket=1m'), tok), 400, 'VALIDATION_ERROR');
  assertError(await get(stats(NAME, '?bogus=1'), tok), 400, 'VALIDATION_ERROR');
  const rec = (body) => post('/api/v1/analytics/metrics/record', tok, body);
  for (const [body, field] of [
    [{ metric_name: NAME, value: 1, metric_type: 'gauge' }, 'metric_type'],
    [{ metric_name: NAME, value: 'NaN', metric_type: 'timer' }, 'value'],
    [{ metric_name: NAME, value: 'Infinity', metric_type: 'timer' }, 'value'],
    [{ metric_name: NAME, value: 'abc', metric_type: 'timer' }, 'value'],
    [{ metric_name: NAME, value: true, metric_type: 'timer' }, 'value'],
    [{ metric_name: NAME, metric_type: 'timer' }, 'value'],
    [{ value: 1 }, 'metric_name'],
    [{ metric_name: NAME, value: 1, metric_type: 'meter' }, 'metric_type'],
    [{ metric_name: NAME, value: 1, metric_type: 'timer', tags: { env: 1 } }, 'tags.env'],
    [{ metric_name: NAME, value: 1, metric_type: 'timer', tags: 'prod' }, 'tags'],
    [{ metric_name: NAME, value: 1, metric_type: 'timer', timestamp: 'yesterday' }, 'timestamp'],
  ]) {
    const r = await rec(body);
    assertError(r, 400, 'VALIDATION_ERROR');
    assert.ok(r.json.message.startsWith(field), `${JSON.stringify(body)}: ${r.text}`);
  }
  const unknownField = await rec({ metric_name: NAME, value: 1, colour: 'red' });
  assert.equal(unknownField.status >= 400 && unknownField.status < 500, true, unknownField.text);
  assertError(await get('/api/v1/analytics/metrics/record', tok), 405, 'METHOD_NOT_ALLOWED');
  assertError(await post(stats(NAME), tok, {}), 405, 'METHOD_NOT_ALLOWED');
  const bad = await get('/api/v1/analytics/metrics/bad%20name/statistics', tok);
  assert.equal(bad.status, 404, bad.text);
});

test('POST is never cached; reads are', async () => {
  const a = await post('/api/v1/analytics/metrics/record', tenantTok(ENT), { metric_name: `${NAME}.cache`, value: 1 });
  assert.equal(a.status, 200, a.text);
  assert.notEqual(a.headers.get('x-cache-status'), 'HIT');
  const tok = tenantTok(ENT);
  const r1 = await get(stats(`${NAME}.cache`), tok);
  const r2 = await get(stats(`${NAME}.cache`), tok);
  assert.equal(r1.status, 200, r1.text);
  assert.equal(r2.headers.get('x-cache-status'), 'HIT');
});
