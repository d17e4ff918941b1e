// lib.js: what the attack cases share: tokens, HTTP through nginx or
// straight to PostgREST, psql one-shots and long-lived psql sessions (to
// hold transactions open), and the comparison of every API answer with the
// oracle of setup.sql (plain SQL over raw events).
'use strict';
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const { sign } = require('../../http/jwt.js');

const NGINX = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const PGRST = `http://127.0.0.1:${process.env.PGRST_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const RUN = process.env.HTTP_RUN_DIR;

// The tenants of setup.sql.
const A = '00000000-0000-4000-8000-0000000000a1';  // writer
const B = '00000000-0000-4000-8000-0000000000b1';  // victim
const H = '00000000-0000-4000-8000-0000000000c1';  // heavy
const P = '00000000-0000-4000-8000-0000000000d1';  // poison
const agent = (t, n) => `00000000-0000-4000-9000-0000000${t}${String(n).padStart(4, '0')}`;

// Codes of the contract (§5 and §6.8 of the API), and what any code the
// gateway adds must look like: upper-case words, never a PostgREST code
// (PGRST…) or an SQLSTATE (42883, 22P05…).
const CONTRACT_CODES = ['UNAUTHORIZED', 'ANALYTICS_NOT_AVAILABLE', 'NOT_FOUND', 'INVALID_DATE_RANGE',
  'INVALID_GRANULARITY', 'AGENT_NOT_FOUND', 'VALIDATION_ERROR', 'RATE_LIMITED', 'INVALID_PERIOD',
  'INVALID_GROUP_BY', 'FORBIDDEN', 'CONFLICT', 'INVALID_STATE', 'METHOD_NOT_ALLOWED'];
const CODE_SHAPE = /^[A-Z]+(_[A-Z]+)*$/;

let seq = 0;
// A fresh token per use: its own cache entries and rate-limit bucket.
function tok(tenant, extra = {}) {
  return sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `atk${process.pid}-${++seq}`, ...extra }, SECRET, 600);
}

const day = (d) => new Date(Date.now() - d * 86400000).toISOString().slice(0, 10);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// One HTTP request.  opts: method, body (object: sent as JSON), headers,
// auth (the raw Authorization header, instead of "Bearer <token>"),
// base (NGINX or PGRST), timeout (ms; an aborted request has status 0).
async function http(path, token, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (opts.auth !== undefined) headers.Authorization = opts.auth;
  else if (token) headers.Authorization = `Bearer ${token}`;
  let body = opts.body;
  if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
    body = JSON.stringify(body);
    headers['Content-Type'] = headers['Content-Type'] || 'application/json';
  }
  const t0 = performance.now();
  try {
    const r = await fetch((opts.base || NGINX) + path, {
      method: opts.method || (body === undefined ? 'GET' : 'POST'), headers, body,
      signal: AbortSignal.timeout(opts.timeout || 20000),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, text, json, ms: performance.now() - t0 };
  } catch (e) {
    return { status: 0, headers: new Headers(), text: String(e), json: null, ms: performance.now() - t0, error: e };
  }
}

// A request whose subject is not the rate limit: waits out a 429 (the
// gateway may key its limit on the tenant rather than the token).
async function httpPatient(path, token, opts = {}) {
  for (let i = 0; ; i++) {
    const r = await http(path, token, opts);
    if (r.status !== 429 || i >= 10) return r;
    await sleep(1000 * Number(r.headers.get('retry-after') || 1));
  }
}

// The answer is the contract's error: status, JSON {code, message} and
// nothing else (but null details and hint), code one of codes (or, with codes null, any contract-shaped
// code).
function assertContractError(r, status, codes, what = '') {
  const where = `${what}: ${r.status} ${r.text.slice(0, 300)}`;
  if (Array.isArray(status)) assert.ok(status.includes(r.status), `status ${where}`);
  else assert.equal(r.status, status, `status ${where}`);
  assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json), `a JSON object ${where}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/, `content type ${where}`);
  // (PostgREST 12 adds "details" and "hint" to the errors functions raise;
  // null there, they tell nothing more)
  const extra = Object.keys(r.json).filter((k) => !['code', 'message'].includes(k) && !(['details', 'hint'].includes(k) && r.json[k] === null));
  assert.deepEqual(extra, [], `code and message only ${where}`);
  assert.equal(typeof r.json.message, 'string', where);
  assert.match(r.json.code, CODE_SHAPE, `a contract code, not a PostgREST code or SQLSTATE ${where}`);
  if (codes) assert.ok(codes.includes(r.json.code), `code in ${codes.join('|')} ${where}`);
}

// psql on the suite's database (or another: env), one statement batch.
function sql(q, env = {}) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', env.db || DB, '-c', q],
    { encoding: 'utf8', env: { ...process.env, PGTZ: 'UTC', ...(env.vars || {}) }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
// The same, resolving to {ok, out, err} instead of throwing.
function sqlTry(q, env = {}) {
  try { return { ok: true, out: sql(q, env), err: '' }; } catch (e) { return { ok: false, out: String(e.stdout || ''), err: String(e.stderr || e) }; }
}

// A psql session that stays open: run(sql) resolves with {out, err} once
// psql has executed it (errors do not end the session), so a test can hold
// a transaction open across other sessions' work.
class Session {
  constructor(name, db = DB) {
    this.name = name;
    this.p = spawn('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=0', '-d', db],
      { env: { ...process.env, PGTZ: 'UTC', PGAPPNAME: `attack-${name}` }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.out = ''; this.err = ''; this.n = 0; this.waiting = null;
    this.p.stdout.on('data', (d) => { this.out += d; this.check(); });
    this.p.stderr.on('data', (d) => { this.err += d; this.check(); });
    this.p.on('exit', () => { if (this.waiting) this.waiting.reject(new Error(`psql ${name} exited: ${this.err}`)); });
  }
  check() {
    const w = this.waiting;
    if (!w) return;
    const io = this.out.indexOf(w.mark), ie = this.err.indexOf(w.mark);
    if (io < 0 || ie < 0) return;
    const res = { out: this.out.slice(0, io).trim(), err: this.err.slice(0, ie).trim() };
    this.out = this.out.slice(io + w.mark.length + 1);
    this.err = this.err.slice(ie + w.mark.length + 1);
    this.waiting = null;
    w.resolve(res);
  }
  run(q) {
    assert.equal(this.waiting, null, `session ${this.name} is busy`);
    const mark = `__attack_${this.name}_${++this.n}__`;
    return new Promise((resolve, reject) => {
      this.waiting = { mark, resolve, reject };
      // (a statement without its semicolon would wait in psql's buffer)
      this.p.stdin.write(`${q}${/;\s*$/.test(q) ? '' : ';'}\n\\echo ${mark}\n\\warn ${mark}\n`);
    });
  }
  pid() { return this.run('SELECT pg_backend_pid()').then((r) => Number(r.out)); }
  close() { try { this.p.stdin.end('\\q\n'); } catch { /* gone */ } setTimeout(() => this.p.kill(), 3000).unref(); }
}

// settle(promise, ms): {done, value} within ms, or {done: false}.
async function settle(p, ms) {
  let timer;
  const r = await Promise.race([p.then((value) => ({ done: true, value })),
    new Promise((res) => { timer = setTimeout(() => res({ done: false }), ms); })]);
  clearTimeout(timer);
  return r;
}

// ---------------------------------------------------------------- the oracle
const lit = (s) => `'${s}'`;
const oracle = (f, ...args) => JSON.parse(sql(`SELECT attack.${f}(${args.join(', ')})`));

// Where two JSON values first differ, in a line ("" when they are equal).
function firstDifference(got, want, at = '') {
  try { assert.deepEqual(got, want); return ''; } catch { /* differ */ }
  if (got && want && typeof got === 'object' && typeof want === 'object' && Array.isArray(got) === Array.isArray(want)) {
    if (Array.isArray(got) && got.length !== want.length) return `${at || 'list'}: ${got.length} items in the API, ${want.length} in raw events`;
    for (const k of new Set([...Object.keys(got), ...Object.keys(want)])) {
      const label = Array.isArray(got) ? `[${got[k]?.date ?? k}]` : `.${k}`;
      const d = firstDifference(got[k], want[k], `${at}${label}`);
      if (d) return d;
    }
  }
  return `${at || 'value'}: API ${JSON.stringify(got)?.slice(0, 200)}, raw events ${JSON.stringify(want)?.slice(0, 200)}`;
}

// Every read of the API for tenant t over [from, to] (and the last n days,
// n = to - from + 1 with to = today), compared with plain SQL over raw
// events.  Returns the list of disagreements (empty when all agree).
async function compareWithRaw(t, fromDays = 9) {
  const from = day(fromDays), to = day(0), n = fromDays + 1;
  const q = `from=${from}&to=${to}`;
  const bad = [];
  const get = async (p) => {
    const r = await httpPatient(p, tok(t));
    if (r.status !== 200) { bad.push(`${p}: ${r.status} ${r.text.replace(/\s+/g, ' ').slice(0, 120)}`); return null; }
    return r.json;
  };
  const diff = (what, got, want) => {
    const d = firstDifference(got, want);
    if (d) bad.push(`${what}: ${d}`);
  };
  const [f, l] = [lit(from) + '::date', lit(to) + '::date'];
  const tt = lit(t) + '::uuid';

  const us = await get(`/rpc/usage_summary?${q}`);
  if (us) diff(`usage_summary(${t})`, us.summary, oracle('expect_summary', tt, f, l));
  const tr = await get(`/rpc/token_trends?${q}`);
  if (tr) diff(`token_trends(${t})`, tr.dataPoints, oracle('expect_trends', tt, f, l));
  const tk = await get(`/rpc/tokens?days=${n}`);
  if (tk) diff(`tokens(${t})`, tk.data, oracle('expect_tokens', tt, n));
  const aa = await get(`/rpc/agent_activity?${q}`);
  if (aa) diff(`agent_activity(${t})`, Object.fromEntries(aa.agents.map((a) => [a.agentId, a.dailyActivity])), oracle('expect_agent_activity', tt, f, l));
  const cp = await get(`/rpc/call_patterns?${q}`);
  if (cp) {
    diff(`call_patterns(${t})`, {
      totalCalls: cp.totalCalls,
      endpoints: Object.fromEntries(cp.endpoints.map((e) => [`${e.endpoint ?? ''} ${e.method ?? ''}`,
        { calls: e.calls, successes: e.successes, failures: e.failures }])),
    }, oracle('expect_call_patterns', tt, f, l));
  }
  const rf = await get(`/rpc/rotation_frequency?${q}`);
  if (rf) diff(`rotation_frequency(${t})`, rf.totalRotations, Number(sql(`SELECT attack.expect_rotations(${tt}, ${f}, ${l})`)));
  const ha = await get(`/rpc/agents_activity?days=${n}`);
  if (ha) diff(`agents_activity(${t})`, ha.data, oracle('expect_heatmap', tt, n));
  const ag = await get('/rpc/agents');
  if (ag) diff(`agents(${t})`, ag.data, oracle('expect_agents', tt));
  return bad;
}

module.exports = {
  NGINX, PGRST, SECRET, DB, RUN, A, B, H, P, agent, CONTRACT_CODES, CODE_SHAPE,
  tok, day, sleep, http, httpPatient, assertContractError, sql, sqlTry, Session, settle, compareWithRaw, sign,
};
