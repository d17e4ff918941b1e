// HTTP tests: real nginx + PostgREST over 127.0.0.1 (started by test/http/run.sh
// with short cache lifetimes and a low rate limit), run with `node --test`.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const path = require('node:path');
const { sign } = require('../../http/jwt.js');

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const RUN = process.env.HTTP_RUN_DIR;
const ROOT = path.resolve(__dirname, '../..');
const CACHE_TTL_S = Number(process.env.TEST_CACHE_TTL_S || 3);
const ENT = '00000000-0000-4000-8000-000000000001';
const PRO = '00000000-0000-4000-8000-000000000002';
const FREE = '00000000-0000-4000-8000-000000000005';

let seq = 0;
// A fresh token per use: its own cache entries (the rate limit is the
// tenant's, whatever its token).
function tok(tenant, extra = {}) {
  return sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `t${process.pid}-${++seq}`, ...extra }, SECRET, 600);
}
function sql(q) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', q], { encoding: 'utf8' }).trim();
}
// The tests share two tenants' rate limits: a 429 is waited out (Retry-After)
// and the call made again, as a client would, but for opts.once (the
// rate-limit test itself).
async function get(p, token, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  for (let attempt = 1; ; attempt++) {
    const r = await fetch(BASE + p, { method: opts.method || 'GET', headers, body: opts.body });
    const text = await r.text();
    if (r.status === 429 && !opts.once && attempt < 5) {
      await sleep(Number(r.headers.get('retry-after') || 1) * 1000);
      continue;
    }
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, text, json };
  }
}
const day = (d) => new Date(Date.now() - d * 86400000).toISOString().slice(0, 10);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function assertError(r, status, code) {
  assert.equal(r.status, status, `status of ${r.text}`);
  assert.equal(r.json?.code, code, r.text);
  assert.equal(typeof r.json.message, 'string');
}

// ------------------------------------------------------------------ routes
const ROUTES = [
  ['/analytics/usage-summary', '/rpc/usage_summary', (b) => {
    assert.deepEqual(Object.keys(b.summary).sort(), ['activeAgentCount', 'averageDailyApiCalls', 'peakDailyApiCalls',
      'peakDate', 'totalApiCalls', 'totalCredentialRotations', 'totalTokenIssuances']);
    assert.ok(b.period.from && b.period.to);
  }],
  ['/analytics/agent-activity', '/rpc/agent_activity', (b) => {
    assert.ok(Array.isArray(b.agents) && b.agents.length > 0);
    const a = b.agents[0];
    assert.ok(a.agentId && 'agentName' in a && Array.isArray(a.dailyActivity));
    assert.deepEqual(Object.keys(a.dailyActivity[0]).sort(), ['apiCalls', 'credentialRotations', 'date', 'tokenIssuances']);
    assert.equal(a.dailyActivity.length, 30);
  }],
  ['/analytics/token-trends', '/rpc/token_trends', (b) => {
    assert.equal(b.granularity, 'day');
    assert.equal(b.dataPoints.length, 30);
    assert.deepEqual(Object.keys(b.dataPoints[0]).sort(), ['date', 'failedIssuances', 'successfulIssuances', 'totalIssuances', 'uniqueAgents']);
  }],
  ['/api/v1/analytics/tokens', '/rpc/tokens', (b) => {
    assert.equal(b.days, 30);
    assert.equal(b.data.length, 30);
    assert.deepEqual(Object.keys(b.data[0]).sort(), ['count', 'date']);
  }],
  ['/api/v1/analytics/agents/activity', '/rpc/agents_activity', (b) => {
    assert.ok(b.data.length > 0);
    assert.deepEqual(Object.keys(b.data[0]).sort(), ['count', 'dow', 'hour']);
  }],
  ['/api/v1/analytics/agents', '/rpc/agents', (b) => {
    assert.match(b.month, /^\d{4}-\d{2}$/);
    assert.ok(Array.isArray(b.data));
    if (b.data.length) assert.deepEqual(Object.keys(b.data[0]).sort(), ['agentId', 'tokenCount']);
  }],
];

for (const [alias, rpc, shape] of ROUTES) {
  test(`GET ${alias} and ${rpc}: 200 with the contract's shape, the same answer`, async () => {
    const t = tok(ENT);
    const a = await get(alias, t);
    assert.equal(a.status, 200, a.text);
    assert.match(a.headers.get('content-type'), /^application\/json/);
    assert.equal(a.json.tenantId, ENT);
    shape(a.json);
    const r = await get(rpc, tok(ENT));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, a.json);
  });
}

test('query strings pass through the aliases', async () => {
  const from = day(6), to = day(0);
  const q = `?from=${from}&to=${to}`;
  const a = await get(`/analytics/usage-summary${q}`, tok(ENT));
  assert.deepEqual(a.json.period, { from, to });
  const tt = await get(`/analytics/token-trends${q}&granularity=week`, tok(PRO));
  assert.equal(tt.json.granularity, 'week');
  assert.equal(tt.json.tenantId, PRO);
  const tk = await get('/api/v1/analytics/tokens?days=7', tok(ENT));
  assert.equal(tk.json.days, 7);
  assert.equal(tk.json.data.length, 7);
  const agent = sql(`SELECT agent_id FROM analytics.agents WHERE tenant_id = '${ENT}' ORDER BY agent_id LIMIT 1`);
  const aa = await get(`/analytics/agent-activity${q}&agentId=${agent}`, tok(ENT));
  assert.equal(aa.status, 200, aa.text);
  assert.equal(aa.json.agents.length, 1);
  assert.equal(aa.json.agents[0].agentId, agent);
  assert.equal(aa.json.agents[0].dailyActivity.length, 7);
});

test('/rpc/rotation_frequency and /rpc/call_patterns', async () => {
  const rf = await get('/rpc/rotation_frequency', tok(ENT));
  assert.equal(rf.status, 200, rf.text);
  assert.equal(typeof rf.json.totalRotations, 'number');
  assert.ok(Array.isArray(rf.json.agents));
  const cp = await get('/rpc/call_patterns', tok(ENT));
  assert.equal(cp.status, 200, cp.text);
  assert.equal(typeof cp.json.totalCalls, 'number');
  assert.ok(cp.json.endpoints.length > 0);
  assert.ok('latencyMs' in cp.json.endpoints[0]);
});

test('POST /rpc/record_events stores events and is never cached', async () => {
  const before = Number(sql(`SELECT count(*) FROM analytics.usage_events WHERE tenant_id = '${PRO}'`));
  const body = JSON.stringify({ events: [{ occurred_at: new Date().toISOString(), event_type: 'api_call', endpoint: '/v1/http-test', method: 'GET', latency_ms: 12.5 }] });
  for (let i = 0; i < 2; i++) {
    const r = await get('/rpc/record_events', tok(PRO), { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json, 1);
    assert.ok(!['HIT', 'MISS'].includes(r.headers.get('x-cache-status')));
  }
  assert.equal(Number(sql(`SELECT count(*) FROM analytics.usage_events WHERE tenant_id = '${PRO}'`)), before + 2);
});

// ------------------------------------------------------------------ errors
test('401 UNAUTHORIZED: missing token, bad signature, expired token, no tenant claim', async () => {
  for (const p of ['/analytics/usage-summary', '/rpc/tokens']) {
    assertError(await get(p, null), 401, 'UNAUTHORIZED');
  }
  const good = tok(ENT);
  const forged = good.slice(0, good.lastIndexOf('.') + 1) + sign({ role: 'analytics_tenant', tenant_id: ENT }, 'x'.repeat(40)).split('.')[2];
  assertError(await get('/analytics/usage-summary', forged), 401, 'UNAUTHORIZED');
  assertError(await get('/analytics/usage-summary', sign({ role: 'analytics_tenant', tenant_id: ENT }, 'another-secret-another-secret-another')), 401, 'UNAUTHORIZED');
  const expired = sign({ role: 'analytics_tenant', tenant_id: ENT, exp: Math.floor(Date.now() / 1000) - 60 }, SECRET);
  assertError(await get('/analytics/usage-summary', expired), 401, 'UNAUTHORIZED');
  assertError(await get('/analytics/usage-summary', sign({ role: 'analytics_tenant' }, SECRET, 600)), 401, 'UNAUTHORIZED');
  assertError(await get('/analytics/usage-summary', tok('00000000-0000-4000-8000-0000000000ff')), 401, 'UNAUTHORIZED');
  // a valid token for the anonymous role cannot call the API either
  assertError(await get('/rpc/usage_summary', sign({ role: 'analytics_anon', tenant_id: ENT }, SECRET, 600)), 401, 'UNAUTHORIZED');
  // an error is never cached
  const t = tok(ENT);
  const e1 = await get('/analytics/usage-summary?from=x', t);
  const e2 = await get('/analytics/usage-summary?from=x', t);
  assert.notEqual(e2.headers.get('x-cache-status'), 'HIT');
  assertError(e1, 400, 'INVALID_DATE_RANGE');
});

test('403 ANALYTICS_NOT_AVAILABLE for the free tier', async () => {
  assertError(await get('/analytics/usage-summary', tok(FREE)), 403, 'ANALYTICS_NOT_AVAILABLE');
  assertError(await get('/api/v1/analytics/tokens', tok(FREE)), 403, 'ANALYTICS_NOT_AVAILABLE');
});

test('400 INVALID_DATE_RANGE, INVALID_GRANULARITY, VALIDATION_ERROR; 404 AGENT_NOT_FOUND; 403 FORBIDDEN', async () => {
  const t = tok(ENT);
  assertError(await get(`/analytics/usage-summary?from=${day(1)}&to=${day(3)}`, t), 400, 'INVALID_DATE_RANGE');
  assertError(await get(`/analytics/usage-summary?to=${day(-2)}`, t), 400, 'INVALID_DATE_RANGE');
  assertError(await get('/analytics/usage-summary?from=2026-02-30', t), 400, 'INVALID_DATE_RANGE');
  assertError(await get(`/analytics/agent-activity?from=${day(95)}&to=${day(0)}`, t), 400, 'INVALID_DATE_RANGE');
  assertError(await get('/analytics/token-trends?granularity=month', t), 400, 'INVALID_GRANULARITY');
  assertError(await get('/analytics/agent-activity?agentId=not-a-uuid', t), 404, 'AGENT_NOT_FOUND');
  const other = sql(`SELECT agent_id FROM analytics.agents WHERE tenant_id = '${PRO}' LIMIT 1`);
  assertError(await get(`/analytics/agent-activity?agentId=${other}`, t), 404, 'AGENT_NOT_FOUND');
  assertError(await get('/api/v1/analytics/tokens?days=0', t), 400, 'VALIDATION_ERROR');
  assertError(await get('/api/v1/analytics/tokens?days=91', t), 400, 'VALIDATION_ERROR');
  assertError(await get('/api/v1/analytics/agents/activity?days=abc', t), 400, 'VALIDATION_ERROR');
  const post = (events) => get('/rpc/record_events', t, { method: 'POST', body: JSON.stringify({ events }), headers: { 'Content-Type': 'application/json' } });
  assertError(await post([{ event_type: 'nope' }]), 400, 'VALIDATION_ERROR');
  assertError(await post([{ tenant_id: PRO, occurred_at: new Date().toISOString(), event_type: 'api_call' }]), 403, 'FORBIDDEN');
});

test('the aliases answer GET only; unknown paths 404 JSON', async () => {
  const r = await get('/analytics/usage-summary', tok(ENT), { method: 'POST' });
  assertError(r, 405, 'METHOD_NOT_ALLOWED');
  assertError(await get('/analytics/nope', tok(ENT)), 404, 'NOT_FOUND');
  // clients cannot switch schema with Accept-Profile
  const m = await get('/rpc/metrics', tok(ENT), { headers: { 'Accept-Profile': 'analytics_http' } });
  assert.equal(m.status, 404, m.text);
});

// ------------------------------------------------------------------ cache
function dbCalls(fn) {
  return Number(sql(`SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%analytics_api%${fn}%' AND query NOT LIKE '%pg_stat_statements%'`));
}

test('cache: a second identical GET is a HIT and does not reach the database; alias and /rpc share it', async () => {
  const t = tok(ENT);
  const c0 = dbCalls('usage_summary');
  const a = await get(`/analytics/usage-summary?from=${day(9)}`, t);
  assert.equal(a.headers.get('x-cache-status'), 'MISS');
  const c1 = dbCalls('usage_summary');
  assert.equal(c1, c0 + 1, 'the MISS ran the function once');
  const b = await get(`/analytics/usage-summary?from=${day(9)}`, t);
  assert.equal(b.headers.get('x-cache-status'), 'HIT');
  assert.equal(b.text, a.text);
  const c = await get(`/rpc/usage_summary?from=${day(9)}`, t);
  assert.equal(c.headers.get('x-cache-status'), 'HIT');
  assert.equal(dbCalls('usage_summary'), c1, 'the HITs never reached the database');
  // another query string is another entry
  const d = await get(`/analytics/usage-summary?from=${day(8)}`, t);
  assert.equal(d.headers.get('x-cache-status'), 'MISS');
  // POST is never served from the cache
  const p = await get('/rpc/usage_summary', t, { method: 'POST', body: JSON.stringify({ from: day(9) }), headers: { 'Content-Type': 'application/json' } });
  assert.equal(p.status, 200);
  assert.notEqual(p.headers.get('x-cache-status'), 'HIT');
});

test('cache: Cache-Control: no-cache bypasses the cache (the answer is fresh) and leaves the entry as it was', async () => {
  const t = tok(ENT);
  const a = await get(`/analytics/usage-summary?from=${day(10)}`, t);
  assert.equal(a.headers.get('x-cache-status'), 'MISS');
  const c0 = dbCalls('usage_summary');
  const b = await get(`/analytics/usage-summary?from=${day(10)}`, t, { headers: { 'Cache-Control': 'no-cache' } });
  assert.equal(b.status, 200, b.text);
  assert.equal(b.headers.get('x-cache-status'), 'BYPASS');
  assert.equal(b.text, a.text);
  assert.equal(dbCalls('usage_summary'), c0 + 1, 'the bypass ran the function');
  const c = await get(`/analytics/usage-summary?from=${day(10)}`, t);
  assert.equal(c.headers.get('x-cache-status'), 'HIT');
});

test('cache: two tenants with the same query never share an entry', async () => {
  for (const [alias, q] of [['/analytics/usage-summary', `?from=${day(12)}`], ['/analytics/token-trends', `?from=${day(12)}`],
    ['/api/v1/analytics/tokens', '?days=12']]) {
    const t1 = tok(ENT), t2 = tok(PRO);
    const a = await get(alias + q, t1);
    const b = await get(alias + q, t2);
    assert.equal(a.headers.get('x-cache-status'), 'MISS');
    assert.equal(b.headers.get('x-cache-status'), 'MISS');
    assert.equal(a.json.tenantId, ENT);
    assert.equal(b.json.tenantId, PRO);
    const a2 = await get(alias + q, t1);
    const b2 = await get(alias + q, t2);
    assert.equal(a2.headers.get('x-cache-status'), 'HIT');
    assert.equal(b2.headers.get('x-cache-status'), 'HIT');
    assert.equal(a2.json.tenantId, ENT);
    assert.equal(b2.json.tenantId, PRO);
  }
  // a forged token naming another tenant is not served that tenant's entry
  const t1 = tok(ENT);
  await get(`/analytics/usage-summary?from=${day(13)}`, t1);
  const forged = t1.slice(0, t1.lastIndexOf('.')) + '.AAAA';
  assertError(await get(`/analytics/usage-summary?from=${day(13)}`, forged), 401, 'UNAUTHORIZED');
});

test(`cache: an entry expires after its lifetime (usage-summary set to ${CACHE_TTL_S} s for the test)`, async () => {
  const t = tok(ENT);
  const q = `/analytics/usage-summary?from=${day(20)}`;
  assert.equal((await get(q, t)).headers.get('x-cache-status'), 'MISS');
  assert.equal((await get(q, t)).headers.get('x-cache-status'), 'HIT');
  const c = dbCalls('usage_summary');
  await sleep(CACHE_TTL_S * 1000 + 1500);  // nginx counts lifetimes in whole seconds
  const r = await get(q, t);
  assert.equal(r.headers.get('x-cache-status'), 'EXPIRED');
  assert.equal(dbCalls('usage_summary'), c + 1);
  assert.equal((await get(q, t)).headers.get('x-cache-status'), 'HIT');
  // token-trends keeps its own (longer) lifetime
  const tt = `/analytics/token-trends?from=${day(20)}`;
  await get(tt, t);
  assert.equal((await get(tt, t)).headers.get('x-cache-status'), 'HIT');
});

// ------------------------------------------------------------------ rate limit
test('rate limit: a burst over the limit gets 429 RATE_LIMITED with Retry-After; another tenant is unaffected', async () => {
  const t = tok(PRO);
  const n = Number(process.env.TEST_RATE_BURST || 10) * 3 + 10;
  const rs = await Promise.all(Array.from({ length: n }, () => get('/api/v1/analytics/tokens?days=5', t, { once: true })));
  const limited = rs.filter((r) => r.status === 429);
  const ok = rs.filter((r) => r.status === 200);
  assert.ok(limited.length > 0, 'some requests are limited');
  assert.ok(ok.length > 0, 'the burst allowance passes');
  for (const r of limited) {
    assert.equal(r.json.code, 'RATE_LIMITED');
    assert.equal(typeof r.json.message, 'string');
    assert.match(r.headers.get('retry-after'), /^\d+$/);
    assert.match(r.headers.get('content-type'), /^application\/json/);
  }
  // another tenant is unaffected by this caller's burst
  const other = await get('/api/v1/analytics/tokens?days=5', tok(ENT), { once: true });
  assert.equal(other.status, 200, other.text);
  // after Retry-After the limited caller gets through again
  await sleep(Number(limited[0].headers.get('retry-after')) * 1000 + 200);
  assert.equal((await get('/api/v1/analytics/tokens?days=5', t, { once: true })).status, 200);
});

// ------------------------------------------------------------------ metrics
const SEED_METRICS = ['agentidp_analytics_query_duration_ms', 'agentidp_analytics_cache_hits_total',
  'agentidp_analytics_cache_misses_total', 'agentidp_analytics_aggregation_job_duration_ms',
  'agentidp_analytics_aggregation_job_last_run', 'agentidp_analytics_http_requests_total'];

async function metrics() {
  const r = await fetch(`${BASE}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  return r.text();
}
function value(text, name, labels) {
  const line = text.split('\n').find((l) => l.startsWith(name + '{') && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
async function until(fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(100);
  }
}

test('metrics: every seed metric present, values move with requests and job runs', async () => {
  sql('CALL analytics.rollup_job()');
  const m0 = await metrics();
  for (const name of SEED_METRICS) assert.match(m0, new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'), name);
  assert.match(m0, /^# TYPE agentidp_analytics_query_duration_ms histogram$/m);
  assert.match(m0, /^agentidp_analytics_aggregation_job_duration_ms\{job="rollup"\} [0-9.e+]+$/m);
  const last0 = value(m0, 'agentidp_analytics_aggregation_job_last_run', { job: 'rollup' });
  assert.ok(last0 > 1.7e9, 'last_run is a Unix time');

  const ep = 'agents_activity';
  const h0 = value(m0, 'agentidp_analytics_cache_hits_total', { endpoint: ep });
  const mi0 = value(m0, 'agentidp_analytics_cache_misses_total', { endpoint: ep });
  const d0 = value(m0, 'agentidp_analytics_query_duration_ms_count', { endpoint: ep });
  const s0 = value(m0, 'agentidp_analytics_http_requests_total', { endpoint: ep, status: '200' });
  const e0 = value(m0, 'agentidp_analytics_http_requests_total', { endpoint: ep, status: '400' });
  const t = tok(ENT);
  await get('/api/v1/analytics/agents/activity?days=11', t);  // MISS
  await get('/api/v1/analytics/agents/activity?days=11', t);  // HIT
  await get('/api/v1/analytics/agents/activity?days=11', t);  // HIT
  await get('/api/v1/analytics/agents/activity?days=500', t); // 400
  const m1 = await until(async () => {
    const m = await metrics();
    return value(m, 'agentidp_analytics_http_requests_total', { endpoint: ep, status: '400' }) > e0 ? m : null;
  });
  assert.ok(m1, 'mtail saw the requests');
  assert.equal(value(m1, 'agentidp_analytics_cache_hits_total', { endpoint: ep }), h0 + 2);
  assert.ok(value(m1, 'agentidp_analytics_cache_misses_total', { endpoint: ep }) >= mi0 + 1);
  assert.equal(value(m1, 'agentidp_analytics_query_duration_ms_count', { endpoint: ep }), d0 + 2, 'the MISS and the 400 went below the cache, the HITs did not');
  assert.equal(value(m1, 'agentidp_analytics_http_requests_total', { endpoint: ep, status: '200' }), s0 + 3);

  await sleep(1100);
  sql('CALL analytics.rollup_job()');
  const last1 = value(await metrics(), 'agentidp_analytics_aggregation_job_last_run', { job: 'rollup' });
  assert.ok(last1 > last0, `last_run moved (${last0} -> ${last1})`);
});

test('metrics: promtool check metrics passes (but for the seed names ending in _ms)', async () => {
  const text = await metrics();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 3, `promtool parse error: ${r.stdout}${r.stderr}`);
  // promtool's lint forbids abbreviated units; the seed fixes these two names.
  const problems = (r.stdout + r.stderr).split('\n').filter((l) => l.trim());
  for (const p of problems) {
    assert.match(p, /^agentidp_analytics_(query|aggregation_job)_duration_ms metric names should not contain abbreviated units$/, p);
  }
  const rest = text.split('\n').filter((l) => !/agentidp_analytics_(query|aggregation_job)_duration_ms/.test(l)).join('\n');
  const r2 = spawnSync('promtool', ['check', 'metrics'], { input: rest, encoding: 'utf8' });
  assert.equal(r2.status, 0, r2.stdout + r2.stderr);
});

// ------------------------------------------------------------------ analytics.enabled (last: it restarts PostgREST)
test('404 NOT_FOUND with analytics.enabled off (new PostgREST connections)', async () => {
  sql(`ALTER DATABASE ${DB} SET analytics.enabled = off`);
  try {
    // PostgREST pools its connections: a restart gives it new sessions,
    // which read the database's new setting.
    execFileSync(path.join(ROOT, 'http/stack.sh'), ['restart-postgrest', RUN], { stdio: 'inherit' });
    for (const p of ['/analytics/usage-summary', '/api/v1/analytics/tokens', '/rpc/agents', '/api/analytics/summary',
                     '/api/analytics/sessions/activity', '/api/v1/analytics/agent/00000000-0000-4000-9001-000000000001']) {
      assertError(await get(p, tok(ENT)), 404, 'NOT_FOUND');
    }
    // (§6: operators too; the health status answers "down" instead)
    const op = sign({ role: 'analytics_operator', jti: `op${process.pid}` }, SECRET, 600);
    for (const p of ['/api/analytics/summary', '/api/v1/analytics/platform/trends']) {
      assertError(await get(p, op), 404, 'NOT_FOUND');
    }
    const h = await get('/api/analytics/health');
    assert.equal(h.status, 200, h.text);
    assert.equal(h.json.status, 'down');
  } finally {
    sql(`ALTER DATABASE ${DB} RESET analytics.enabled`);
    execFileSync(path.join(ROOT, 'http/stack.sh'), ['restart-postgrest', RUN], { stdio: 'inherit' });
  }
  const r = await get('/analytics/usage-summary', tok(ENT));
  assert.equal(r.status, 200, r.text);
});
