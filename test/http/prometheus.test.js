// HTTP tests of the Prometheus domain metrics (contract §6.7) on GET /metrics:
// every name present, `promtool check metrics` clean, values that move with
// recorded events (at once, and the same after the rollups), counters that
// never go down across a rollup and a retention run, and who may read it:
// operators' tokens from any address, token-less requests from the allowed
// addresses (METRICS_ALLOW: 127.0.0.1) only; tenants and anonymous callers
// from elsewhere refused.  Other addresses: requests from 127.0.0.2.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const crypto = require('node:crypto');
const { execFileSync, spawnSync } = require('node:child_process');
const { sign } = require('../../http/jwt.js');

const PORT = Number(process.env.HTTP_PORT);
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const ENT = '00000000-0000-4000-8000-000000000001';
const FREE = '00000000-0000-4000-8000-000000000005';
const RUN = `${process.pid}${Date.now() % 100000}`;

const NAMES = [
  ['registry_agent_requests_total', 'counter'],
  ['registry_tool_calls_total', 'counter'],
  ['registry_tool_call_duration_seconds', 'histogram'],
  ['registry_circuit_breaker_state', 'gauge'],
  ['registry_active_sse_connections', 'gauge'],
  ['registry_webhook_deliveries_total', 'counter'],
  ['registry_estimated_token_usage', 'gauge'],
];

let seq = 0;
const tenantTok = (tenant) => sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `p${process.pid}-${++seq}` }, SECRET, 600);
const operatorTok = (ttl = 600) => sign({ role: 'analytics_operator', jti: `p${process.pid}-${++seq}` }, SECRET, ttl);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function sql(q) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', q], { encoding: 'utf8' }).trim();
}
// A request from a given local address (127.0.0.1 is allowed by
// METRICS_ALLOW, 127.0.0.2 is not); 429s are waited out.
function request(p, { token, from = '127.0.0.1', method = 'GET', body, port = PORT, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const once = () => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers: h, localAddress: from }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
  return (async () => {
    for (let attempt = 1; ; attempt++) {
      const r = await once();
      if (r.status === 429 && attempt < 5) { await sleep(Number(r.headers['retry-after'] || 1) * 1000); continue; }
      return r;
    }
  })();
}
function assertError(r, status, code) {
  assert.equal(r.status, status, `status of ${r.text}`);
  assert.equal(r.json?.code, code, r.text);
  assert.equal(typeof r.json.message, 'string');
}
async function metrics(opts = { token: operatorTok(), from: '127.0.0.2' }) {
  const r = await request('/metrics', opts);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^text\/plain/);
  return r.text;
}
// Every sample of the text: "name{labels}" -> value.
function samples(text) {
  const m = new Map();
  for (const l of text.split('\n')) {
    if (!l.startsWith('registry_')) continue;
    const i = l.lastIndexOf(' ');
    m.set(l.slice(0, i), Number(l.slice(i + 1)));
  }
  return m;
}
const key = (name, labels) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
// The cumulative series of a (not the two true gauges) that b has lower,
// or not at all.
function wentDown(a, b) {
  return [...a].filter(([k]) => !/^registry_(active_sse_connections|circuit_breaker_state)\b/.test(k))
    .filter(([k, v]) => !b.has(k) || b.get(k) < v).map(([k, v]) => `${k} ${v} -> ${b.get(k)}`);
}

test('/metrics: every domain name with its HELP and TYPE, next to the seed metrics', async () => {
  const text = await metrics();
  for (const [name, type] of NAMES) {
    assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'), name);
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
  }
  assert.match(text, /^# TYPE go_goroutines gauge$/m, 'the gateway part (mtail) is there');
  assert.match(text, /^registry_tool_calls_total\{tool="[^"]*",server="[^"]*",status="(success|failure)"\} \d+$/m);
  assert.match(text, /^registry_tool_call_duration_seconds_bucket\{tool="[^"]*",server="[^"]*",le="\+Inf"\} \d+$/m);
  assert.match(text, /^registry_agent_requests_total\{agent_id="[0-9a-f-]{36}",method="api_call"\} \d+$/m);
});

test('/metrics: promtool check metrics passes (the domain part alone, and the page but for the seed\'s _ms names)', async () => {
  const text = await metrics();
  const domain = text.split('\n').filter((l) => /^(# (HELP|TYPE) )?registry_/.test(l)).join('\n') + '\n';
  const r = spawnSync('promtool', ['check', 'metrics'], { input: domain, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // (promtool's lint refuses the abbreviated unit of two names the seed fixes)
  const rest = text.split('\n').filter((l) => !/agentidp_analytics_(query|aggregation_job)_duration_ms/.test(l)).join('\n');
  const r2 = spawnSync('promtool', ['check', 'metrics'], { input: rest, encoding: 'utf8' });
  assert.equal(r2.status, 0, r2.stdout + r2.stderr);
});

test('/metrics: values move with recorded events at once, and stay through a rollup and a retention run', async () => {
  const agent = crypto.randomUUID();
  const tool = `prom_http_${RUN}`;
  const m0 = samples(await metrics());
  const now = new Date().toISOString();
  const events = [
    { agent_id: agent, occurred_at: now, event_type: 'tool_call', tool_name: tool, mcp_server: 'mcp-prom', latency_ms: 4, count: 2 },
    { agent_id: agent, occurred_at: now, event_type: 'tool_call', tool_name: tool, mcp_server: 'mcp-prom', latency_ms: 700 },
    { agent_id: agent, occurred_at: now, event_type: 'tool_call', tool_name: tool, mcp_server: 'mcp-prom', success: false, error_code: 'timeout', latency_ms: 30000 },
    { agent_id: agent, occurred_at: now, event_type: 'llm_call', model: `prom-model-${RUN}`, input_tokens: 1200, output_tokens: 34 },
  ];
  const rec = await request('/rpc/record_events', { token: tenantTok(ENT), method: 'POST', body: { events } });
  assert.equal(rec.status, 200, rec.text);
  const sse = 40 + (Number(RUN) % 50);
  const sr = await request('/api/v1/analytics/metrics/record', { token: operatorTok(), method: 'POST',
    body: { metric_name: 'registry.active_sse_connections', value: sse, metric_type: 'gauge' } });
  assert.equal(sr.status, 200, sr.text);

  const m1 = samples(await metrics());
  const ts = { tool, server: 'mcp-prom' };
  assert.equal(m1.get(key('registry_agent_requests_total', { agent_id: agent, method: 'tool_call' })), 4);
  assert.equal(m1.get(key('registry_agent_requests_total', { agent_id: agent, method: 'llm_call' })), 1);
  assert.equal(m1.get(key('registry_tool_calls_total', { ...ts, status: 'success' })), 3);
  assert.equal(m1.get(key('registry_tool_calls_total', { ...ts, status: 'failure' })), 1);
  const buckets = { '0.005': 2, '0.01': 2, '0.5': 2, '1': 3, '10': 3, '+Inf': 4 };
  for (const [le, n] of Object.entries(buckets)) {
    assert.equal(m1.get(key('registry_tool_call_duration_seconds_bucket', { ...ts, le })), n, `le=${le}`);
  }
  assert.equal(m1.get(key('registry_tool_call_duration_seconds_count', ts)), 4);
  assert.ok(Math.abs(m1.get(key('registry_tool_call_duration_seconds_sum', ts)) - 30.708) < 1e-9);
  assert.equal(m1.get(key('registry_estimated_token_usage', { model: `prom-model-${RUN}`, agent_id: agent })), 1234);
  assert.equal(m1.get('registry_active_sse_connections'), sse, 'the latest platform reading');
  assert.deepEqual(wentDown(m0, m1), [], 'no counter went down while events came in');

  // The rollups (today's increment and the nightly job), then retention:
  // every counter the same (no other events came in meanwhile).
  sql('SELECT analytics.rollup_increment(analytics.utc_today())');
  sql('CALL analytics.rollup_job()');
  const m2 = samples(await metrics());
  assert.deepEqual(wentDown(m1, m2), [], 'no counter went down across the rollups');
  assert.equal(m2.get(key('registry_tool_calls_total', { ...ts, status: 'success' })), 3);
  sql('SELECT analytics.run_retention()');
  const m3 = samples(await metrics());
  assert.deepEqual(wentDown(m2, m3), [], 'no counter went down across retention');
  assert.equal(m3.get(key('registry_estimated_token_usage', { model: `prom-model-${RUN}`, agent_id: agent })), 1234);
});
test('/metrics: operators only; tenants and anonymous callers refused', async () => {
  // operators, from any address
  for (const from of ['127.0.0.1', '127.0.0.2']) {
    const r = await request('/metrics', { token: operatorTok(), from });
    assert.equal(r.status, 200, `operator from ${from}: ${r.text}`);
    assert.match(r.text, /^# TYPE registry_tool_calls_total counter$/m);
  }
  // no token: the allowed address only
  const local = await request('/metrics', { from: '127.0.0.1' });
  assert.equal(local.status, 200, local.text);
  assertError(await request('/metrics', { from: '127.0.0.2' }), 401, 'UNAUTHORIZED');
  // tenants never, from any address, free tier or not
  for (const from of ['127.0.0.1', '127.0.0.2']) {
    for (const t of [ENT, FREE]) {
      const r = await request('/metrics', { token: tenantTok(t), from });
      assertError(r, 403, 'FORBIDDEN');
      assert.doesNotMatch(r.text, /registry_/);
    }
  }
  // a token that is not valid: expired, badly signed, not a JWT
  const expired = sign({ role: 'analytics_operator', exp: Math.floor(Date.now() / 1000) - 3600 }, SECRET, 600);
  const forged = sign({ role: 'analytics_operator' }, 'x'.repeat(48), 600);
  for (const token of [expired, forged, 'not-a-jwt']) {
    for (const from of ['127.0.0.1', '127.0.0.2']) {
      assertError(await request('/metrics', { token, from }), 401, 'UNAUTHORIZED');
    }
  }
  // other methods
  assertError(await request('/metrics', { token: operatorTok(), method: 'POST', body: '{}' }), 403, 'FORBIDDEN');
  // the internal locations and the gateway's functions are not reachable
  // (an internal part answers its "unavailable" comment, no metric)
  for (const p of ['/_metrics/domain', '/_metrics/jobs', '/_metrics/operator', '/_metrics/auth', '/rpc/domain_metrics', '/rpc/metrics_auth']) {
    for (const token of [tenantTok(ENT), undefined]) {
      const r = await request(p, { token, from: '127.0.0.2' });
      assert.ok(r.status === 404 || (r.status === 200 && r.text === '# a part of the metrics is unavailable\n'), `${p}: ${r.status} ${r.text}`);
      assert.doesNotMatch(r.text, /^(registry_|agentidp_|# TYPE)/m, p);
    }
  }
});

test('/metrics: PostgREST itself gives the domain metrics to the metrics role only', async () => {
  const pgrst = Number(process.env.PGRST_PORT);
  const headers = { 'Accept-Profile': 'analytics_http', Accept: 'text/plain' };
  const t = await request('/rpc/domain_metrics', { port: pgrst, token: tenantTok(ENT), headers });
  assert.ok(t.status === 401 || t.status === 403, `tenant: ${t.status} ${t.text}`);
  assert.doesNotMatch(t.text, /registry_/);
  const o = await request('/rpc/domain_metrics', { port: pgrst, token: operatorTok(), headers });
  assert.ok(o.status === 401 || o.status === 403, `operator directly: ${o.status} ${o.text}`);
  const m = await request('/rpc/domain_metrics', { port: pgrst, token: sign({ role: 'analytics_metrics' }, SECRET, 60), headers });
  assert.equal(m.status, 200, m.text);
  assert.match(m.text, /^# TYPE registry_tool_call_duration_seconds histogram$/m);
});
