// HTTP tests of the cost paths (contract §6.4) through nginx and PostgREST:
// the seed 004 aliases answer what the same call answers in SQL under the
// same claims, a price set over POST re-prices, and every error of §6.4 and
// §6.8 these paths give, by status and code.
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

let seq = 0;
const tenantTok = (tenant) => sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `c${process.pid}-${++seq}` }, SECRET, 600);
const operatorTok = () => sign({ role: 'analytics_operator', jti: `c${process.pid}-${++seq}` }, SECRET, 600);
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
  const headers = { 'Cache-Control': 'no-cache' };
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
const get = (p, token) => call('GET', p, token);
function assertError(r, status, code) {
  assert.equal(r.status, status, `status of ${r.text}`);
  assert.equal(r.json?.code, code, r.text);
  assert.equal(typeof r.json.message, 'string');
}

// [alias, the SQL call it stands for]
const ROUTES = [
  ['/api/v1/analytics/costs', 'analytics_api.costs()'],
  ['/api/v1/analytics/costs?period=30d&group_by=agent', `analytics_api.costs(period => '30d', group_by => 'agent')`],
  ['/api/v1/analytics/costs?period=7d&group_by=model', `analytics_api.costs(period => '7d', group_by => 'model')`],
  ['/api/v1/analytics/costs?days=14&group_by=user', `analytics_api.costs(days => '14', group_by => 'user')`],
  ['/api/v1/analytics/costs?group_by=day', `analytics_api.costs(group_by => 'day')`],
  ['/api/v1/analytics/costs/trend', 'analytics_api.cost_trend()'],
  ['/api/v1/analytics/costs/trend?period=14d&granularity=week&group_by=model&top=2',
    `analytics_api.cost_trend(period => '14d', granularity => 'week', group_by => 'model', top => '2')`],
  ['/api/v1/analytics/costs/prices', 'analytics_api.model_prices()'],
];

test('every cost alias answers what SQL answers, for a tenant and for the operator', async () => {
  for (const [p, q] of ROUTES) {
    const t = await get(p, tenantTok(ENT));
    assert.equal(t.status, 200, `${p}: ${t.text}`);
    assert.deepEqual(t.json, sqlAs({ role: 'analytics_tenant', tenant_id: ENT }, q), `${p} (tenant)`);
    const o = await get(p, operatorTok());
    assert.equal(o.status, 200, `${p}: ${o.text}`);
    assert.deepEqual(o.json, sqlAs({ role: 'analytics_operator' }, q), `${p} (operator)`);
  }
  const c = await get('/api/v1/analytics/costs?period=30d', tenantTok(PRO));
  assert.equal(c.json.tenantId, PRO);
  assert.equal(c.json.currency, 'USD');
  assert.equal(c.json.groupBy, 'agent');
  for (const k of ['costUsd', 'llmCalls', 'inputTokens', 'cachedInputTokens', 'cacheWriteTokens', 'outputTokens', 'unpricedCalls', 'unpricedTokens']) {
    assert.equal(typeof c.json.totals[k], 'number', k);
  }
  const tr = await get('/api/v1/analytics/costs/trend?period=7d', operatorTok());
  assert.equal(tr.json.buckets.length, 7, 'a bucket per day of 7d');
});

test('a tenant sees only its own costs and prices', async () => {
  const r = await get('/api/v1/analytics/costs?period=30d&group_by=tenant', tenantTok(PRO));
  assert.equal(r.status, 200);
  assert.ok(r.json.data.every((d) => d.key === PRO), r.text);
  const o = await get('/api/v1/analytics/costs?period=30d&group_by=tenant', operatorTok());
  assert.ok(o.json.data.length > 1, 'the operator sees every tenant');
  const n = await get(`/api/v1/analytics/costs?tenantId=${ENT}`, tenantTok(PRO));
  assertError(n, 403, 'FORBIDDEN');
});

test('a price set over POST is the tenant\'s own, re-prices at once, and is listed', async () => {
  const model = `http-model-${process.pid}`;
  sql(`INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, model, input_tokens, output_tokens)
       VALUES ('${PRO}', now() - interval '2 hours', 'llm_call', '${model}', 2000000, 1000000)`);
  const before = await get(`/api/v1/analytics/costs?period=24h&group_by=model`, tenantTok(PRO));
  const unpriced = before.json.data.find((d) => d.key === model);
  assert.equal(unpriced.unpricedCalls, 1, before.text);
  assert.equal(unpriced.costUsd, 0);
  const from = new Date(Date.now() - 86400000).toISOString();
  const set = await call('POST', '/api/v1/analytics/costs/prices', tenantTok(PRO),
    { model, inputPerMillion: 1.5, outputPerMillion: '6', effectiveFrom: from });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.tenantId, PRO);
  assert.equal(set.json.cachedInputPerMillion, 1.5, 'the cached price defaults to the input price');
  assert.equal(set.json.daysMarked, Number(sql(`SELECT count(*) FROM analytics.rollup_days
    WHERE day BETWEEN ('${from}'::timestamptz AT TIME ZONE 'UTC')::date AND (now() AT TIME ZONE 'UTC')::date`)),
  'daysMarked: the rolled days from effectiveFrom to today');
  const after = await get(`/api/v1/analytics/costs?period=24h&group_by=model`, tenantTok(PRO));
  const priced = after.json.data.find((d) => d.key === model);
  assert.equal(priced.unpricedCalls, 0, after.text);
  assert.equal(priced.costUsd, 9, '2M input x $1.5 + 1M output x $6, per million');
  const ent = await get(`/api/v1/analytics/costs/prices`, tenantTok(ENT));
  assert.ok(!ent.json.data.some((d) => d.model === model), 'another tenant does not see the negotiated price');
  const mine = await get(`/api/v1/analytics/costs/prices`, tenantTok(PRO));
  assert.ok(mine.json.data.some((d) => d.model === model && d.tenantId === PRO && d.inForce), mine.text);
});

test('the errors of the cost paths, by status and code', async () => {
  const tok = tenantTok(ENT);
  assertError(await get('/api/v1/analytics/costs?period=13x', tok), 400, 'INVALID_PERIOD');
  assertError(await get('/api/v1/analytics/costs?period=7d&from=2026-01-01', tok), 400, 'INVALID_PERIOD');
  assertError(await get('/api/v1/analytics/costs?from=2026-02-01&to=2026-01-01', tok), 400, 'INVALID_DATE_RANGE');
  assertError(await get('/api/v1/analytics/costs?group_by=session', tok), 400, 'INVALID_GROUP_BY');
  assertError(await get('/api/v1/analytics/costs/trend?group_by=user', tok), 400, 'INVALID_GROUP_BY');
  assertError(await get('/api/v1/analytics/costs/trend?granularity=minute', tok), 400, 'INVALID_GRANULARITY');
  assertError(await get('/api/v1/analytics/costs/trend?top=50', tok), 400, 'VALIDATION_ERROR');
  assertError(await get(`/api/v1/analytics/costs?tenantId=${PRO}`, tok), 403, 'FORBIDDEN');
  assertError(await get('/api/v1/analytics/costs', tenantTok(FREE)), 403, 'ANALYTICS_NOT_AVAILABLE');
  assertError(await get('/api/v1/analytics/costs?tenantId=00000000-0000-4000-8000-0000000000ff', operatorTok()), 404, 'TENANT_NOT_FOUND');
  assertError(await get('/api/v1/analytics/costs'), 401, 'UNAUTHORIZED');
  assertError(await call('POST', '/api/v1/analytics/costs/prices', tok, { model: 'x', inputPerMillion: -1, outputPerMillion: 1 }), 400, 'VALIDATION_ERROR');
  assertError(await call('POST', '/api/v1/analytics/costs/prices', tok, { model: 'x', inputPerMillion: 1 }), 400, 'VALIDATION_ERROR');
  assertError(await call('POST', '/api/v1/analytics/costs/prices', tok, { model: 'x', inputPerMillion: 1, outputPerMillion: 1, tenantId: PRO }), 403, 'FORBIDDEN');
  const body = { model: `dup-${process.pid}`, inputPerMillion: 1, outputPerMillion: 1, effectiveFrom: '2026-01-01' };
  assert.equal((await call('POST', '/api/v1/analytics/costs/prices', operatorTok(), body)).status, 200);
  assertError(await call('POST', '/api/v1/analytics/costs/prices', operatorTok(), body), 409, 'CONFLICT');
  const free = await call('POST', '/api/v1/analytics/costs/prices', tenantTok(FREE), { model: `free-${process.pid}`, inputPerMillion: 1, outputPerMillion: 2 });
  assert.equal(free.status, 200, `a free tenant may write its own price: ${free.text}`);
  const del = await call('DELETE', '/api/v1/analytics/costs/prices', tok);
  assertError(del, 405, 'METHOD_NOT_ALLOWED');
  assertError(await call('POST', '/api/v1/analytics/costs', tok, {}), 405, 'METHOD_NOT_ALLOWED');
});
