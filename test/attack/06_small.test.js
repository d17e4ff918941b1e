// Issue 13, item 7: the smaller holes.  Every answer of the gateway is the
// contract's JSON (no token straight to PostgREST, NUL bytes, PostgREST's
// own errors, nginx's 400/413/414 pages); occurred_at without an offset is
// UTC whatever the client's Prefer: timezone; the metrics scrape token is
// not world-readable and expires; day partitions have row-level security.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const L = require('./lib.js');

test('no token, straight to PostgREST: 401 UNAUTHORIZED', async () => {
  for (const p of ['/rpc/usage_summary', '/rpc/tokens?days=3', '/rpc/agents']) {
    L.assertContractError(await L.http(p, null, { base: L.PGRST }), 401, ['UNAUTHORIZED'], `PostgREST ${p}`);
  }
  const post = await L.http('/rpc/record_events', null, { base: L.PGRST, body: { events: [] } });
  L.assertContractError(post, 401, ['UNAUTHORIZED'], 'PostgREST POST /rpc/record_events');
});

test('NUL bytes in a parameter or a body field: the contract code', async () => {
  const t = () => L.tok(L.B);
  const failures = [];
  const expect = async (what, p, opts, codes) => {
    const r = await L.httpPatient(p, t(), opts);
    try { L.assertContractError(r, 400, codes, what); } catch (e) { failures.push(e.message.split('\n')[0]); }
  };
  await expect('from with a NUL', `/rpc/usage_summary?from=2026-01-01%00`, {}, ['INVALID_DATE_RANGE', 'VALIDATION_ERROR']);
  await expect('to with a NUL', `/analytics/usage-summary?to=%00`, {}, ['INVALID_DATE_RANGE', 'VALIDATION_ERROR']);
  await expect('days with a NUL', `/rpc/tokens?days=7%00`, {}, ['VALIDATION_ERROR']);
  await expect('granularity with a NUL', `/rpc/token_trends?granularity=day%00`, {}, ['INVALID_GRANULARITY', 'VALIDATION_ERROR']);
  await expect('agentId with a NUL', `/rpc/agent_activity?agentId=%00`, {}, ['AGENT_NOT_FOUND', 'VALIDATION_ERROR']);
  await expect('a POST parameter with a NUL', '/rpc/usage_summary', { body: '{"from": "2026-01-01\\u0000"}', headers: { 'Content-Type': 'application/json' } }, ['INVALID_DATE_RANGE', 'VALIDATION_ERROR']);
  await expect('an event field with a NUL', '/rpc/record_events',
    { body: `{"events": [{"occurred_at": "${new Date().toISOString()}", "event_type": "api_call", "endpoint": "/a\\u0000b"}]}`, headers: { 'Content-Type': 'application/json' } },
    ['VALIDATION_ERROR']);
  assert.deepEqual(failures, []);
});

test("PostgREST's own errors come out of the gateway as the contract's JSON", async () => {
  const failures = [];
  const expect = async (what, p, opts, status, jsonAnswerOk = false) => {
    const r = await L.httpPatient(p, L.tok(L.B), opts);
    try {
      if (jsonAnswerOk && r.status === 200) {
        assert.match(r.headers.get('content-type') || '', /^application\/json/, `${what}: 200 in JSON`);
        return;
      }
      L.assertContractError(r, status, null, what);
      assert.doesNotMatch(r.text, /analytics\.|analytics_api|PGRST|hint|details/i, `${what}: no internal names`);
    } catch (e) { failures.push(e.message.split('\n')[0]); }
  };
  await expect('an unknown function (PGRST202)', '/rpc/no_such_function', {}, 404);
  await expect('an unknown parameter (PGRST202)', '/rpc/usage_summary?bogus=1', {}, [400, 404]);
  await expect('a misspelt function', '/rpc/usage_summar', {}, 404);
  await expect('an invalid JSON body (PGRST102)', '/rpc/record_events', { body: '{"events": [', headers: { 'Content-Type': 'application/json' } }, 400);
  await expect('a JSON body of the wrong type', '/rpc/record_events', { body: '[1, 2]', headers: { 'Content-Type': 'application/json' } }, 400);
  await expect('a body with unknown arguments (PGRST202)', '/rpc/record_events', { body: '{"evnts": []}', headers: { 'Content-Type': 'application/json' } }, [400, 404]);
  await expect('an unsupported media type', '/rpc/record_events', { body: 'a,b', headers: { 'Content-Type': 'text/csv' } }, [400, 415]);
  await expect('a select on an RPC (PGRST100)', '/rpc/tokens?select=x(', {}, 400);
  await expect('a bad Accept (PGRST107)', '/rpc/tokens', { headers: { Accept: 'application/x-nope' } }, [400, 406, 415], true);
  await expect('an ambiguous call, PATCH', '/rpc/tokens', { method: 'PATCH', body: '{}', headers: { 'Content-Type': 'application/json' } }, [400, 405]);
  assert.deepEqual(failures, []);
});

// A raw request (no client library fixing it up); returns {status, headers, body}.
function raw(request) {
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(process.env.HTTP_PORT), '127.0.0.1');
    let buf = Buffer.alloc(0);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.on('data', (d) => { buf = Buffer.concat([buf, d]); });
    s.on('error', reject);
    s.on('close', () => {
      const text = buf.toString('latin1');
      const head = text.slice(0, text.indexOf('\r\n\r\n'));
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      const status = Number((head.match(/^HTTP\/1\.[01] (\d+)/) || [])[1] || 0);
      const headers = new Headers();
      for (const l of head.split('\r\n').slice(1)) { const i = l.indexOf(':'); if (i > 0) headers.append(l.slice(0, i).trim(), l.slice(i + 1).trim()); }
      let json = null;
      try { json = JSON.parse(body); } catch { /* not JSON */ }
      resolve({ status, headers, text: body, json });
    });
    s.end(request);
  });
}

test("nginx's own 400, 413 and 414 answers are the contract's JSON", async () => {
  const failures = [];
  const check = (what, r, status) => { try { L.assertContractError(r, status, null, what); } catch (e) { failures.push(e.message.split('\n')[0]); } };
  check('400: an HTTP/1.1 request without Host', await raw('GET /rpc/tokens HTTP/1.1\r\nConnection: close\r\n\r\n'), 400);
  check('400: a malformed request line', await raw('GET /rpc/tokens HTTP/1.1 junk\r\nHost: x\r\nConnection: close\r\n\r\n'), 400);
  check('400: a header too large', await L.http('/rpc/tokens', L.tok(L.B), { headers: { 'X-Big': 'x'.repeat(20000) } }), [400, 431]);
  check('413: a body over the limit', await L.http('/rpc/record_events', L.tok(L.B), { body: `{"events": [], "pad": "${'x'.repeat(3 * 1024 * 1024)}"}`, headers: { 'Content-Type': 'application/json' } }), 413);
  check('414: a URI over the limit', await L.http(`/rpc/tokens?days=1&x=${'y'.repeat(20000)}`, L.tok(L.B)), 414);
  assert.deepEqual(failures, []);
});

test('occurred_at without an offset is UTC whatever Prefer: timezone says', async () => {
  const local = `${L.day(1)}T10:11:12`;
  const r = await L.httpPatient('/rpc/record_events', L.tok(L.P), {
    body: { events: [{ occurred_at: local, event_type: 'api_call', endpoint: '/tz-probe' }] },
    headers: { Prefer: 'timezone=Asia/Tokyo' },
  });
  if (r.status === 400) {
    // refusing a time without an offset is also honest
    L.assertContractError(r, 400, ['VALIDATION_ERROR']);
    assert.match(r.json.message, /occurred_at/);
    return;
  }
  assert.equal(r.status, 200, r.text);
  const stored = L.sql(`SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') FROM analytics.usage_events
                        WHERE tenant_id = '${L.P}' AND endpoint = '/tz-probe' ORDER BY ingested_at DESC LIMIT 1`);
  assert.equal(stored, local, 'stored as UTC');
});

test('the metrics scrape token in the generated config is not world-readable and expires', () => {
  const found = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { if (!['cache', 'tmp', 'html'].includes(e.name)) walk(p); continue; }
      if (!e.isFile()) continue;
      const text = fs.readFileSync(p, 'utf8');
      for (const m of text.matchAll(/eyJ[\w-]+\.(eyJ[\w-]+)\.[\w-]+/g)) found.push({ p, mode: fs.statSync(p).mode, claims: JSON.parse(Buffer.from(m[1], 'base64url').toString()) });
    }
  };
  walk(L.RUN);
  const metrics = found.filter((f) => f.claims.role === 'analytics_metrics');
  assert.ok(metrics.length > 0, 'the generated configuration holds the scrape token');
  for (const f of metrics) {
    assert.equal(f.mode & 0o004, 0, `${path.relative(L.RUN, f.p)} is world-readable (mode ${(f.mode & 0o777).toString(8)})`);
    assert.equal(typeof f.claims.exp, 'number', `the scrape token in ${path.relative(L.RUN, f.p)} has no expiry`);
  }
});

test('every day partition of usage_events has row-level security', () => {
  const missing = L.sql(`SELECT coalesce(string_agg(c.relname, ' ' ORDER BY c.relname), '')
                         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                         WHERE i.inhparent = 'analytics.usage_events'::regclass AND NOT c.relrowsecurity`);
  assert.equal(missing, '', 'partitions without row-level security');
  // a partition made after install (a new day) has it too
  const d = L.sql("SELECT (current_date + 1)::text");
  L.sql(`SELECT analytics.record_events('[{"tenant_id": "${L.P}", "occurred_at": "${new Date(Date.now() - 1000).toISOString()}", "event_type": "api_call"}]')`);
  L.sqlTry('CALL analytics.rollup_job()');   // (premakes the coming days)
  const later = L.sql(`SELECT coalesce(string_agg(c.relname, ' ' ORDER BY c.relname), '')
                       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                       WHERE i.inhparent = 'analytics.usage_events'::regclass AND NOT c.relrowsecurity`);
  assert.equal(later, '', `partitions without row-level security after ${d} was premade`);
});
