// Gateway hardening (issue 13, items 4, 5 and 7): real nginx + PostgREST over
// 127.0.0.1, started by test/http/run.sh (RATE_LIMIT 20r/s, burst 10, and
// CONN_PER_TENANT 8 in flight, per tenant; pool 10;
// API_STATEMENT_TIMEOUT 2s, API_LOCK_TIMEOUT 500ms; CLIENT_MAX_BODY_SIZE 64k;
// METRICS_TOKEN_TTL 600 s).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { sign } = require('../../http/jwt.js');

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const PGRST = `http://127.0.0.1:${process.env.PGRST_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const RUN = process.env.HTTP_RUN_DIR;
const BURST = Number(process.env.TEST_RATE_BURST || 10);
const STATEMENT_MS = Number(process.env.TEST_STATEMENT_TIMEOUT_MS || 2000);
const LOCK_MS = Number(process.env.TEST_LOCK_TIMEOUT_MS || 500);
const MAX_BODY = Number(process.env.TEST_CLIENT_MAX_BODY || 65536);
const METRICS_TTL = Number(process.env.TEST_METRICS_TOKEN_TTL || 600);
const CONN_PER_TENANT = Number(process.env.TEST_CONN_PER_TENANT || 8);
const ENT = '00000000-0000-4000-8000-000000000001';
const PRO = '00000000-0000-4000-8000-000000000002';

let seq = 0;
function tok(tenant, extra = {}) {
  return sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `g${process.pid}-${++seq}`, ...extra }, SECRET, 600);
}
function sql(q) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', q], { encoding: 'utf8' }).trim();
}
// headers: the exact request headers (Authorization included, as given).
async function req(base, p, { method = 'GET', headers = {}, body } = {}) {
  const t0 = Date.now();
  const r = await fetch(base + p, { method, headers, body });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json, ms: Date.now() - t0 };
}
const get = (p, token, opts = {}) =>
  req(BASE, p, { ...opts, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(opts.headers || {}) } });
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const day = (d) => new Date(Date.now() - d * 86400000).toISOString().slice(0, 10);

// The contract's error: the status, {"code","message"} with a code in
// capitals, JSON content type, and no internal name (PostgREST's codes,
// schema names, SQLSTATEs) anywhere in the body.
function assertError(r, status, code) {
  assert.equal(r.status, status, `status of ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/, r.text);
  assert.ok(r.json && typeof r.json === 'object', `JSON body: ${r.text}`);
  assert.match(r.json.code, /^[A-Z][A-Z_]*$/, r.text);
  if (code) assert.equal(r.json.code, code, r.text);
  assert.equal(typeof r.json.message, 'string', r.text);
  assert.doesNotMatch(r.text, /PGRST|analytics_api|analytics_http|\b[0-9A-Z]{2}[0-9][0-9A-Z]{2}\b|<html/i, r.text);
}

// After a test that drains the per-address bucket: let it refill.
const refill = () => sleep(2000);

// ------------------------------------------------------------ item 4
test('item 4: Bearer, bearer, BEARER and any run of spaces or a tab share one cache entry', async () => {
  // (the file before this one may have drained this tenant's bucket: CI once
  // got 429 on the first call here)
  await refill();
  const t = tok(ENT);
  const q = `/rpc/usage_summary?from=${day(17)}`;
  const a = await req(BASE, q, { headers: { Authorization: `Bearer ${t}` } });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.headers.get('x-cache-status'), 'MISS');
  for (const h of [`bearer   ${t}`, `BEARER ${t}`, `Bearer\t${t}`, `bEaReR ${' '.repeat(40)}${t}`]) {
    const b = await req(BASE, q, { headers: { Authorization: h } });
    assert.equal(b.status, 200, b.text);
    assert.equal(b.headers.get('x-cache-status'), 'HIT', JSON.stringify(h.slice(0, 12)));
    assert.equal(b.text, a.text);
  }
});

test('item 4: one token written with a different run of spaces each time still gets one rate-limit bucket', async () => {
  const t = tok(PRO);
  const n = BURST * 3 + 10;
  const rs = await Promise.all(Array.from({ length: n }, (_, i) =>
    req(BASE, '/rpc/tokens?days=6', { headers: { Authorization: `${['Bearer', 'bearer', 'BEARER'][i % 3]}${' '.repeat(i + 1)}${t}` } })));
  const limited = rs.filter((r) => r.status === 429);
  assert.ok(limited.length >= n - BURST - 5, `${limited.length} of ${n} limited`);
  assert.ok(rs.some((r) => r.status === 200));
  for (const r of limited) assertError(r, 429, 'RATE_LIMITED');
  // another tenant from the same address is not in that bucket
  assert.equal((await get('/rpc/tokens?days=6', tok(ENT))).status, 200);
});

test('item 4: invalid tokens (junk, bad signature, expired, other secret, no tenant claim) share the per-address limit', async () => {
  await refill();
  const good = tok(ENT);
  const [h, p] = good.split('.');
  const junk = (i) => {
    switch (i % 7) {
      case 6: return sign({ role: 'analytics_tenant', i, tenant_id: `x${i}` }, SECRET, 600);  // signed, names no tenant
      case 5: return null;                                                            // no token at all
      case 0: return `junk${i}`;                                                      // not a JWT
      case 1: return `${h}.${p}.${'A'.repeat(42)}${i % 10}`;                          // bad signature
      case 2: return sign({ role: 'analytics_tenant', tenant_id: ENT, i, exp: Math.floor(Date.now() / 1000) - 120 }, SECRET); // expired
      case 3: return sign({ role: 'analytics_tenant', tenant_id: ENT, i }, 'another-secret-another-secret-another-secret');
      default: return `${h}.${Buffer.from(JSON.stringify({ role: 'analytics_tenant', tenant_id: ENT, i })).toString('base64url')}.${good.split('.')[2]}`;
    }
  };
  const n = BURST * 3 + 10;
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => get('/rpc/tokens?days=5', junk(i))));
  const limited = rs.filter((r) => r.status === 429);
  const refused = rs.filter((r) => r.status === 401);
  assert.equal(limited.length + refused.length, n, rs.map((r) => r.status).join(','));
  assert.ok(limited.length >= n - BURST - 5, `${limited.length} of ${n} limited`);
  for (const r of limited) assertError(r, 429, 'RATE_LIMITED');
  for (const r of refused) assertError(r, 401, 'UNAUTHORIZED');
  // one bucket for all of them, requests without a token included
  const kinds = new Set(rs.map((r, i) => (r.status === 429 ? i % 7 : -1)).filter((k) => k >= 0));
  assert.equal(kinds.size, 7, `limited kinds: ${[...kinds]}`);
  // a valid token is limited on its own
  assert.equal((await get('/rpc/tokens?days=5', tok(ENT))).status, 200);
  await refill();
});

test('item 4: every valid token of one tenant shares one rate-limit bucket; another tenant is unaffected', async () => {
  // a tenant of many agents, or one minting a token per request: PRO sends
  // each request with a new token (a new signature: a new cache key too),
  // while ENT reads at the same time
  const n = BURST * 3 + 10;
  const rs = await Promise.all(Array.from({ length: n + 5 }, async (_, i) => {
    const ent = i % 8 === 4;
    return { ent, ...(await get(`/rpc/tokens?days=${(i % 9) + 1}`, tok(ent ? ENT : PRO))) };
  }));
  const pro = rs.filter((r) => !r.ent), ent = rs.filter((r) => r.ent);
  const limited = pro.filter((r) => r.status === 429);
  assert.ok(limited.length >= pro.length - BURST - 5, `${limited.length} of ${pro.length} limited: ${pro.map((r) => r.status).join(',')}`);
  assert.ok(pro.some((r) => r.status === 200));
  for (const r of pro.filter((x) => x.status !== 200)) assertError(r, 429, 'RATE_LIMITED');
  assert.deepEqual(ent.map((r) => r.status), ent.map(() => 200), ent.map((r) => r.text.slice(0, 80)).join(' | '));
  await refill();
});

test(`item 4/5: every valid token of one tenant shares one in-flight cap of ${CONN_PER_TENANT}; another tenant stays fast`, async () => {
  // 12 heavy calls of ENT, each with a token of its own, paced under the
  // rate limit: CONN_PER_TENANT reach PostgREST (cut at the statement
  // timeout), the others are refused at once
  const heavy = [];
  for (let i = 0; i < CONN_PER_TENANT + 4; i++) {
    heavy.push(get('/rpc/http_test_sleep?seconds=8', tok(ENT)));
    await sleep(60);
  }
  const light = await get('/rpc/tokens?days=4', tok(PRO));
  const same = await get('/rpc/tokens?days=4', tok(ENT));
  const hs = await Promise.all(heavy);
  assert.equal(light.status, 200, light.text);
  assert.ok(light.ms < 1000, `the other tenant's call took ${light.ms} ms`);
  assertError(same, 429, 'RATE_LIMITED');
  const cut = hs.filter((r) => r.status === 504);
  for (const r of cut) assertError(r, 504, 'TIMEOUT');
  for (const r of hs.filter((x) => x.status !== 504)) assertError(r, 429, 'RATE_LIMITED');
  assert.equal(cut.length, CONN_PER_TENANT, hs.map((r) => r.status).join(','));
  await sleep(1000);   // (the database cancels the heavy calls)
});

test('item 4: an operator token naming no tenant is limited on its sub, across tokens', async () => {
  // role analytics_operator (PostgREST refuses it while the role does not
  // exist: the answers are errors, but never 429 for another sub)
  const op = (sub) => sign({ role: 'analytics_operator', sub, jti: `o${++seq}` }, SECRET, 600);
  const n = BURST * 3 + 10;
  const rs = await Promise.all(Array.from({ length: n }, () => get('/rpc/tokens?days=2', op(`ops-${process.pid}`))));
  const limited = rs.filter((r) => r.status === 429);
  assert.ok(limited.length >= n - BURST - 5, `${limited.length} of ${n} limited: ${rs.map((r) => r.status).join(',')}`);
  for (const r of rs) assertError(r, r.status, r.status === 429 ? 'RATE_LIMITED' : undefined);
  const other = await get('/rpc/tokens?days=2', op(`other-${process.pid}`));
  assert.notEqual(other.status, 429, other.text);
  assertError(other, other.status);
  // and a tenant's token from the same address is not in those buckets
  assert.equal((await get('/rpc/tokens?days=2', tok(ENT))).status, 200);
  await refill();
});

// ------------------------------------------------------------ item 5
test('item 5: a call over the statement timeout is cut with 504 TIMEOUT and cancelled in the database; another tenant stays fast', async () => {
  const heavy = Array.from({ length: 3 }, () => get('/rpc/http_test_sleep?seconds=8', tok(ENT)));
  await sleep(300);
  const light = await get('/rpc/tokens?days=3', tok(PRO));
  assert.equal(light.status, 200, light.text);
  assert.ok(light.ms < 1000, `the light call took ${light.ms} ms`);
  for (const r of await Promise.all(heavy)) {
    assertError(r, 504, 'TIMEOUT');
    assert.ok(r.ms >= STATEMENT_MS - 50 && r.ms < STATEMENT_MS + 1500, `cut after ${r.ms} ms`);
  }
  // the database cancels the statement too (250 ms after nginx's answer)
  await sleep(1000);
  assert.equal(sql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%http_test_sleep%' AND pid <> pg_backend_pid()"), '0');
  assert.match(sql("SELECT statement_timeout || ' ' || lock_timeout FROM analytics.api_timeouts() WHERE role = 'analytics_tenant'"),
    new RegExp(`^${STATEMENT_MS + 250}ms ${LOCK_MS}ms$`));
});

test(`item 5: 25 concurrent heavy calls of one token hold at most ${CONN_PER_TENANT} pooled connections: another tenant stays fast`, async () => {
  const t = tok(ENT);
  const heavy = Array.from({ length: 25 }, () => get('/rpc/http_test_sleep?seconds=8', t));
  await sleep(300);
  const ms = [];
  for (let i = 0; i < 20; i++) {
    const r = await get(`/rpc/tokens?days=${(i % 9) + 1}`, tok(PRO));
    assert.equal(r.status, 200, r.text);
    ms.push(r.ms);
    await sleep(40);   // (under PRO's rate limit)
  }
  const hs = await Promise.all(heavy);
  const cut = hs.filter((r) => r.status === 504);
  for (const r of cut) assertError(r, 504, 'TIMEOUT');
  for (const r of hs.filter((x) => x.status !== 504)) assertError(r, 429, 'RATE_LIMITED');
  assert.ok(cut.length >= 1 && cut.length <= CONN_PER_TENANT, `${cut.length} heavy calls reached PostgREST`);
  ms.sort((a, b) => a - b);
  assert.ok(ms[ms.length - 1] < 1000, `the other tenant's slowest call took ${ms[ms.length - 1]} ms (${ms.join(',')})`);
  await sleep(1000);
});

test('item 5: a call waiting on a lock over the lock timeout answers 503 UNAVAILABLE at once', async () => {
  const holder = spawn('psql', ['-X', '-q', '-d', DB, '-c',
    'BEGIN; LOCK TABLE analytics.tenants IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(2); COMMIT;'], { stdio: 'ignore' });
  const done = new Promise((res) => holder.on('exit', res));
  try {
    for (let i = 0; i < 50; i++) {
      if (sql("SELECT count(*) FROM pg_locks WHERE relation = 'analytics.tenants'::regclass AND mode = 'AccessExclusiveLock' AND granted") === '1') break;
      await sleep(50);
    }
    const r = await get('/rpc/tokens?days=2', tok(ENT));
    assertError(r, 503, 'UNAVAILABLE');
    assert.ok(r.ms < LOCK_MS + 1000, `answered after ${r.ms} ms`);
    assert.match(r.headers.get('retry-after') || '', /^\d+$/);
  } finally {
    await done;   // the lock is held until its transaction ends
  }
});

// ------------------------------------------------------------ item 7
test('item 7: no token, straight to PostgREST or through nginx: 401 UNAUTHORIZED', async () => {
  for (const p of ['/rpc/tokens', '/rpc/usage_summary?from=2026-01-01']) {
    const direct = await req(PGRST, p);
    assert.equal(direct.status, 401, direct.text);
    assert.equal(direct.json.code, 'UNAUTHORIZED', direct.text);
    assert.equal(direct.headers.get('www-authenticate'), 'Bearer');
    assertError(await get(p, null), 401, 'UNAUTHORIZED');
  }
});

test('item 7: a NUL byte in a parameter or a body field answers the contract\'s 400', async () => {
  const t = tok(ENT);
  assertError(await get('/rpc/tokens?days=3%00', t), 400, 'VALIDATION_ERROR');
  assertError(await get('/api/v1/analytics/tokens?days=%00', t), 400, 'VALIDATION_ERROR');
  assertError(await get('/analytics/usage-summary?from=2026-01-01%00', t), 400, 'INVALID_DATE_RANGE');
  assertError(await get('/rpc/token_trends?to=%00&granularity=day', t), 400, 'INVALID_DATE_RANGE');
  assertError(await get('/rpc/token_trends?granularity=da%00y', t), 400, 'VALIDATION_ERROR');
  const body = '{"events":[{"occurred_at":"' + new Date().toISOString() + '","event_type":"api_call","endpoint":"/v1/nul\\u0000"}]}';
  assertError(await get('/rpc/record_events', t, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } }), 400, 'VALIDATION_ERROR');
});

test('item 7: PostgREST\'s own errors never pass through: every answer is the contract\'s JSON', async () => {
  const t = tok(ENT);
  const post = (p, body, headers = {}) => get(p, t, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });
  // unknown names and parameters (PGRST202, 42883, with function-name hints)
  assertError(await get('/rpc/nope', t), 404, 'NOT_FOUND');
  assertError(await get('/rpc/api_tenant', t), 404, 'NOT_FOUND');
  assertError(await get('/rpc/', t), 404, 'NOT_FOUND');
  const unknown = await get('/rpc/tokens?dayz=3', t);
  assertError(unknown, 400, 'VALIDATION_ERROR');
  assert.match(unknown.json.message, /dayz/);
  assertError(await get('/analytics/usage-summary?from=2026-01-01&from=2026-01-02', t), 400, 'VALIDATION_ERROR');
  for (const q of ['select=tenantId', 'order=x', 'limit=1', 'offset=1', 'days=3&days=4', 'days=%zz']) {
    assertError(await get(`/rpc/tokens?${q}`, t), 400, 'VALIDATION_ERROR');
  }
  assertError(await post('/rpc/usage_summary', JSON.stringify({ nope: 1 })), 404, 'NOT_FOUND');
  // bodies (PGRST102) and methods
  assertError(await post('/rpc/record_events', '{"events": ['), 400, 'VALIDATION_ERROR');
  assertError(await post('/rpc/record_events', 'events=1', { 'Content-Type': 'application/x-www-form-urlencoded' }), 400, 'VALIDATION_ERROR');
  assertError(await post('/rpc/record_events?x=1', '{"events":[]}'), 400, 'VALIDATION_ERROR');
  assertError(await get('/rpc/record_events', t), 405, 'METHOD_NOT_ALLOWED');
  for (const m of ['PUT', 'PATCH', 'DELETE']) assertError(await get('/rpc/tokens', t, { method: m }), 405, 'METHOD_NOT_ALLOWED');
  // headers that would change PostgREST's answer are not passed on
  for (const h of [{ Accept: 'text/csv' }, { Accept: 'application/vnd.pgrst.object+json' }, { Range: 'items=0-0' },
    { 'Accept-Profile': 'analytics_http' }, { Prefer: 'handling=strict, count=exact, bogus' }]) {
    const r = await get('/rpc/tokens?days=3', t, { headers: h });
    assert.equal(r.status, 200, `${JSON.stringify(h)}: ${r.text}`);
    assert.equal(r.json.days, 3);
  }
  // nginx's own pages
  assertError(await get('/nope', t), 404, 'NOT_FOUND');
  assertError(await get('/metrics', null, { method: 'POST' }), 403, 'FORBIDDEN');
  assertError(await post('/rpc/record_events', JSON.stringify({ events: [{ endpoint: 'x'.repeat(MAX_BODY) }] })), 413, 'VALIDATION_ERROR');
  assertError(await get(`/rpc/tokens?days=${'9'.repeat(10000)}`, t), 414, 'VALIDATION_ERROR');
  assertError(await get('/rpc/tokens', t, { headers: { 'X-Big': 'b'.repeat(10000) } }), 400, 'VALIDATION_ERROR');
  // a malformed request line, on a raw socket
  const raw = await new Promise((res, rej) => {
    const s = net.connect(Number(process.env.HTTP_PORT), '127.0.0.1', () => s.end('GARBAGE\r\n\r\n'));
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('end', () => res(out));
    s.on('error', rej);
  });
  assert.match(raw, /^HTTP\/1\.1 400 /);
  const rawBody = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  assert.deepEqual(Object.keys(JSON.parse(rawBody)).sort(), ['code', 'message']);
  assert.equal(JSON.parse(rawBody).code, 'VALIDATION_ERROR');
});

test('answers pass the gateway\'s filters byte for byte (a 64 kB JSON, a MISS and a HIT)', async () => {
  const t = tok(ENT);
  sql(`UPDATE analytics.agents SET name = 'Agent ünïcödé ✓ ' || coalesce(name, '') WHERE tenant_id = '${ENT}' AND coalesce(name, '') NOT LIKE 'Agent ünïcödé%'`);
  const direct = await req(PGRST, `/rpc/agent_activity?from=${day(60)}`, { headers: { Authorization: `Bearer ${t}` } });
  assert.equal(direct.status, 200, direct.text);
  assert.ok(direct.text.length > 32768 && direct.text.includes('ünïcödé ✓'));
  const miss = await get(`/rpc/agent_activity?from=${day(60)}`, t);
  const hit = await get(`/analytics/agent-activity?from=${day(60)}`, t);
  assert.equal(miss.headers.get('x-cache-status'), 'MISS');
  assert.equal(hit.headers.get('x-cache-status'), 'HIT');
  assert.equal(miss.text, direct.text);
  assert.equal(hit.text, direct.text);
});

test('item 7: Prefer: timezone does not change how an occurred_at without offset is read (UTC)', async () => {
  const marker = `/v1/gw-tz-${process.pid}-${Date.now()}`;
  const at = new Date(Date.now() - 3600e3);
  at.setUTCMilliseconds(0);
  const local = at.toISOString().slice(0, 19);   // no offset
  const body = JSON.stringify({ events: [{ occurred_at: local, event_type: 'api_call', endpoint: marker, method: 'GET' }] });
  for (const prefer of ['timezone=America/New_York', 'timezone=Asia/Kolkata, return=minimal']) {
    const r = await get('/rpc/record_events', tok(PRO), { method: 'POST', body, headers: { 'Content-Type': 'application/json', Prefer: prefer } });
    assert.equal(r.status, 200, r.text);
  }
  const stored = sql(`SELECT string_agg(DISTINCT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'), ',') FROM analytics.usage_events WHERE tenant_id = '${PRO}' AND endpoint = '${marker}'`);
  assert.equal(stored, local);
});

test('item 7: the generated configs are private; the /metrics token expires', async () => {
  const conf = path.join(RUN, 'nginx', 'nginx.conf');
  for (const f of [conf, path.join(RUN, 'nginx', 'api_proxy.conf'), path.join(RUN, 'postgrest.conf'), path.join(RUN, 'http.env')]) {
    const mode = fs.statSync(f).mode & 0o777;
    assert.equal(mode & 0o007, 0, `${f} is world-readable (${mode.toString(8)})`);
  }
  const text = fs.readFileSync(conf, 'utf8');
  assert.ok(!text.includes(SECRET), 'the JWT secret is not in nginx.conf');
  const m = /Authorization "Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)"/.exec(text);
  assert.ok(m, 'the metrics token is in nginx.conf');
  const claims = JSON.parse(Buffer.from(m[2], 'base64url').toString());
  assert.equal(claims.role, 'analytics_metrics');
  const now = Date.now() / 1000;
  assert.equal(typeof claims.exp, 'number', 'the metrics token has an exp');
  assert.ok(claims.exp > now && claims.exp <= now + METRICS_TTL + 5, `exp ${claims.exp - now} s from now`);
  // and it still works
  const r = await fetch(`${BASE}/metrics`);
  assert.match(await r.text(), /^agentidp_analytics_aggregation_job_last_run|# TYPE agentidp_analytics_aggregation_job_duration_ms/m);
});
