// HTTP tests of the operator paths (contract §6.1-6.3): every seed alias of
// §6.3 through nginx and PostgREST, for a tenant token and an operator
// token, with the answer equal to the same call in SQL under the same
// claims, and every error of §6.8 these paths give, by status and code.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { sign } = require('../../http/jwt.js');

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const ENT = '00000000-0000-4000-8000-000000000001';
const PRO = '00000000-0000-4000-8000-000000000002';
const FREE = '00000000-0000-4000-8000-000000000005';

let seq = 0;
const tenantTok = (tenant) => sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `o${process.pid}-${++seq}` }, SECRET, 600);
const operatorTok = () => sign({ role: 'analytics_operator', jti: `o${process.pid}-${++seq}` }, SECRET, 600);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function sql(q) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', q], { encoding: 'utf8' }).trim();
}
// The same call in SQL, under the claims of the token (as PostgREST sets them).
function sqlAs(claims, call) {
  const out = execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB], {
    encoding: 'utf8',
    input: `BEGIN; SELECT set_config('request.jwt.claims', '${JSON.stringify(claims)}', true) \\g /dev/null\nSELECT ${call};\nCOMMIT;\n`,
  });
  return JSON.parse(out.trim());
}
async function get(p, token, opts = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  for (let attempt = 1; ; attempt++) {
    const r = await fetch(BASE + p, { headers, redirect: 'manual' });
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

// Ids of the generated data (the enterprise tenant's).
const one = (q) => sql(q) || null;
const ids = {
  session: one(`SELECT session_id FROM analytics.usage_events WHERE tenant_id = '${ENT}' AND session_id ~ '^[A-Za-z0-9._:-]+$' ORDER BY occurred_at DESC LIMIT 1`),
  execution: one(`SELECT execution_id FROM analytics.usage_events WHERE tenant_id = '${ENT}' AND event_type = 'agent_execution' AND execution_id ~ '^[A-Za-z0-9._:-]+$' ORDER BY occurred_at DESC LIMIT 1`),
  user: one(`SELECT user_id FROM analytics.usage_events WHERE tenant_id = '${ENT}' AND user_id ~ '^[A-Za-z0-9._:-]+$' ORDER BY occurred_at DESC LIMIT 1`),
  agent: one(`SELECT agent_id FROM analytics.agents WHERE tenant_id = '${ENT}' ORDER BY agent_id LIMIT 1`),
  proSession: one(`SELECT session_id FROM analytics.usage_events WHERE tenant_id = '${PRO}' AND session_id ~ '^[A-Za-z0-9._:-]+$' ORDER BY occurred_at DESC LIMIT 1`),
  proAgent: one(`SELECT agent_id FROM analytics.agents WHERE tenant_id = '${PRO}' ORDER BY agent_id LIMIT 1`),
};

// [alias path, the SQL call it stands for, day-window answer (compared whole)]
const ROUTES = [
  ['/api/analytics/summary', 'analytics_api.summary()', true],
  ['/api/analytics/agents/usage', 'analytics_api.agent_usage()', true],
  ['/api/analytics/tools/usage', 'analytics_api.tool_usage()', true],
  ['/api/v1/analytics/top-agents?metric=tokens&top=3', `analytics_api.top_agents(metric => 'tokens', top => '3')`, true],
  ['/api/v1/analytics/tools/heatmap', 'analytics_api.tool_heatmap()', true],
  ['/api/analytics/workflows/performance', 'analytics_api.workflow_performance()', true],
  ['/api/analytics/errors/summary', 'analytics_api.error_summary()', true],
  ['/api/v1/analytics/errors/trends', 'analytics_api.error_trends()', true],
  ['/api/analytics/sessions/activity', 'analytics_api.session_activity()', false],
  ['/api/v1/analytics/performance', 'analytics_api.performance_summary()', false],
  ['/api/v1/analytics/dashboard', 'analytics_api.dashboard()', false],
  [`/api/analytics/sessions/${ids.session}`, `analytics_api.session_detail("sessionId" => '${ids.session}')`, true],
  [`/api/analytics/executions/${ids.execution}`, `analytics_api.execution_detail("executionId" => '${ids.execution}')`, true],
  [`/api/v1/analytics/user/${ids.user}`, `analytics_api.user_analytics("userId" => '${ids.user}')`, true],
  [`/api/v1/analytics/user/${ids.user}/trends`, `analytics_api.user_trends("userId" => '${ids.user}')`, true],
  [`/api/v1/analytics/agent/${ids.agent}`, `analytics_api.agent_analytics("agentId" => '${ids.agent}')`, true],
  [`/api/v1/analytics/agent/${ids.agent}/trends`, `analytics_api.agent_trends("agentId" => '${ids.agent}')`, true],
];

// First, on a PostgREST with new connections: an operator's call must not
// depend on a tenant's having been made before on the same connection (the
// schema of the pre-request function is looked up once per prepared
// statement, so a missing USAGE shows only on a fresh connection).
test('an operator token on fresh PostgREST connections: 200', async () => {
  execFileSync(path.resolve(__dirname, '../../http/stack.sh'), ['restart-postgrest', process.env.HTTP_RUN_DIR], { stdio: 'inherit' });
  for (const p of ['/api/analytics/summary', '/api/v1/analytics/platform/trends']) {
    const r = await get(p, operatorTok());
    assert.equal(r.status, 200, `${p}: ${r.text}`);
  }
});

test('the generated data has the ids the paths need', () => {
  for (const [k, v] of Object.entries(ids)) assert.ok(v, `an id for ${k}`);
});

for (const [p, call, whole] of ROUTES) {
  test(`GET ${p.split('?')[0]}: a tenant token and an operator token get 200, equal to SQL`, async () => {
    const rt = await get(p, tenantTok(ENT));
    assert.equal(rt.status, 200, rt.text);
    assert.equal(rt.headers.get('content-type')?.split(';')[0], 'application/json');
    if (whole) assert.deepEqual(rt.json, sqlAs({ role: 'analytics_tenant', tenant_id: ENT }, call));
    const ro = await get(p, operatorTok());
    assert.equal(ro.status, 200, ro.text);
    if (whole) assert.deepEqual(ro.json, sqlAs({ role: 'analytics_operator' }, call));
  });
}

test('GET /api/v1/analytics/platform/trends: operators only', async () => {
  const ro = await get('/api/v1/analytics/platform/trends?period=7d', operatorTok());
  assert.equal(ro.status, 200, ro.text);
  assert.deepEqual(ro.json, sqlAs({ role: 'analytics_operator' }, `analytics_api.platform_trends(period => '7d')`));
  assertError(await get('/api/v1/analytics/platform/trends', tenantTok(ENT)), 403, 'FORBIDDEN');
});

test('an operator narrows to one tenant with tenantId; the answer is that tenant\'s', async () => {
  const ro = await get(`/api/analytics/summary?tenantId=${PRO}`, operatorTok());
  assert.equal(ro.status, 200, ro.text);
  assert.deepEqual(ro.json, sqlAs({ role: 'analytics_tenant', tenant_id: PRO }, 'analytics_api.summary()'));
  assertError(await get('/api/analytics/summary?tenantId=00000000-0000-4000-8000-0000000000ff', operatorTok()), 404, 'TENANT_NOT_FOUND');
  assertError(await get('/api/analytics/summary?tenantId=acme', operatorTok()), 400, 'VALIDATION_ERROR');
});

test('a tenant never sees another tenant: naming it 403 FORBIDDEN, its ids 404', async () => {
  assertError(await get(`/api/analytics/summary?tenantId=${PRO}`, tenantTok(ENT)), 403, 'FORBIDDEN');
  assertError(await get(`/api/analytics/sessions/${ids.proSession}`, tenantTok(ENT)), 404, 'SESSION_NOT_FOUND');
  assertError(await get(`/api/v1/analytics/agent/${ids.proAgent}`, tenantTok(ENT)), 404, 'AGENT_NOT_FOUND');
  assertError(await get('/api/analytics/executions/no-such-execution', tenantTok(ENT)), 404, 'EXECUTION_NOT_FOUND');
  assertError(await get('/api/v1/analytics/user/no-such-user', tenantTok(ENT)), 404, 'USER_NOT_FOUND');
});

test('periods over HTTP: seed names, errors', async () => {
  const a = await get('/api/analytics/summary?days=3', tenantTok(ENT));
  const b = await get('/api/analytics/summary?period=3d', tenantTok(ENT));
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(a.json, b.json);
  const h = await get('/api/analytics/errors/summary?hours=6', tenantTok(ENT));
  assert.equal(h.status, 200, h.text);
  assert.match(h.json.period.from, /T.*Z$/);
  const sd = await get(`/api/analytics/summary?start_date=${b.json.period.from}&end_date=${b.json.period.to}`, tenantTok(ENT));
  assert.deepEqual(sd.json, b.json);
  assertError(await get('/api/analytics/summary?period=2w', tenantTok(ENT)), 400, 'INVALID_PERIOD');
  assertError(await get('/api/analytics/summary?period=7d&from=2026-01-01', tenantTok(ENT)), 400, 'INVALID_PERIOD');
  assertError(await get('/api/analytics/summary?from=yesterday', tenantTok(ENT)), 400, 'INVALID_DATE_RANGE');
  assertError(await get('/api/v1/analytics/errors/trends?granularity=year', tenantTok(ENT)), 400, 'INVALID_GRANULARITY');
  assertError(await get('/api/v1/analytics/top-agents?top=1000', tenantTok(ENT)), 400, 'VALIDATION_ERROR');
  assertError(await get('/api/analytics/summary?bogus=1', tenantTok(ENT)), 400, 'VALIDATION_ERROR');
});

test('the §5 checks come first: 401 without a token, 403 for the free tier', async () => {
  assertError(await get('/api/analytics/summary'), 401, 'UNAUTHORIZED');
  assertError(await get('/api/v1/analytics/top-agents', sign({ role: 'analytics_tenant' }, SECRET, 600)), 401, 'UNAUTHORIZED');
  assertError(await get('/api/analytics/summary', tenantTok(FREE)), 403, 'ANALYTICS_NOT_AVAILABLE');
});

test('GET /api/analytics/health: status without a token, more for an operator, never cached', async () => {
  const anon = await get('/api/analytics/health');
  assert.equal(anon.status, 200, anon.text);
  assert.deepEqual(Object.keys(anon.json), ['status']);
  assert.ok(['ok', 'degraded', 'down'].includes(anon.json.status));
  const t = await get('/api/analytics/health', tenantTok(ENT));
  assert.deepEqual(Object.keys(t.json), ['status']);
  const tokOp = operatorTok();
  const o1 = await get('/api/analytics/health', tokOp);
  const o2 = await get('/api/analytics/health', tokOp);
  assert.ok(Object.keys(o1.json).length > 1, o1.text);
  assert.notEqual(o2.headers.get('x-cache-status'), 'HIT');
});

test('seed 003\'s dashboard page redirects to ours; odd ids match no route', async () => {
  const r = await get('/api/analytics/dashboard');
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location').replace(/^https?:\/\/[^/]+/, ''), '/dashboard/?section=ops');
  const odd = await get('/api/analytics/sessions/a%20b', tenantTok(ENT));
  assert.equal(odd.status, 404);
  assert.equal(odd.json?.code, 'NOT_FOUND', odd.text);
});
