// Issue 13, item 4: the gateway's rate limit and cache were keyed on the raw
// Authorization header.  PostgREST accepts "bearer", "BEARER" and any run of
// spaces before the token, so each spelling was a new rate-limit bucket and
// a new cache entry (200 parallel requests: no 429, all misses); and any
// non-empty header, even a junk token, escaped the per-address limit.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib.js');

const BURST = Number(process.env.RATE_BURST || 10);
const spellings = (token, n) => Array.from({ length: n }, (_, i) => {
  const scheme = ['Bearer', 'bearer', 'BEARER', 'BeArEr'][i % 4];
  return `${scheme}${' '.repeat(1 + i)}${token}`;
});

test('header variants: another spelling of the same token is served from the cache entry, never a new miss', { timeout: 30000 }, async () => {
  const token = L.tok(L.B);
  const path = `/rpc/usage_summary?from=${L.day(11)}&to=${L.day(0)}`;
  const first = await L.http(path, token);
  assert.equal(first.status, 200, first.text);
  const failures = [];
  for (const auth of spellings(token, 6)) {
    await L.sleep(150);  // (one at a time, under the rate limit)
    const r = await L.http(path, null, { auth });
    const cache = r.headers.get('x-cache-status');
    // served from the entry, or refused; a 200 that is not a HIT reached the database
    if (r.status === 200 && cache !== 'HIT') failures.push(`${JSON.stringify(auth.replace(token, '<token>'))}: 200 ${cache}`);
    if (r.status === 200) assert.deepEqual(r.json, first.json);
    else if (![401, 429].includes(r.status)) failures.push(`${JSON.stringify(auth.replace(token, '<token>'))}: ${r.status} ${r.text.slice(0, 100)}`);
  }
  assert.deepEqual(failures, []);
});

test(`header variants: ${BURST * 3 + 20} parallel requests with one token spelt differently each time hit the rate limit (429)`, { timeout: 30000 }, async (t) => {
  const token = L.tok(L.B);
  const n = BURST * 3 + 20;
  const rs = await Promise.all(spellings(token, n).map((auth, i) => L.http(`/rpc/tokens?days=${1 + (i % 30)}`, null, { auth })));
  const by = {};
  for (const r of rs) by[`${r.status} ${r.headers.get('x-cache-status') || ''}`.trim()] = (by[`${r.status} ${r.headers.get('x-cache-status') || ''}`.trim()] || 0) + 1;
  t.diagnostic(`answers: ${JSON.stringify(by)}`);
  const limited = rs.filter((r) => r.status === 429);
  assert.ok(limited.length > 0, `no 429 among ${n} requests: ${JSON.stringify(by)}`);
  for (const r of limited) L.assertContractError(r, 429, ['RATE_LIMITED']);
  const passed = rs.filter((r) => r.status === 200).length;
  assert.ok(passed <= BURST + 5, `${passed} requests passed a limit of burst ${BURST}`);
});

test(`header variants: ${BURST * 3 + 20} parallel requests with junk tokens from one address hit the per-address limit`, { timeout: 30000 }, async (t) => {
  await L.sleep(1500);  // (a fresh per-address bucket)
  const n = BURST * 3 + 20;
  const junk = (i) => [`Bearer junk${i}`, `Bearer ${'x'.repeat(i)}.y.z`, `Basic ${Buffer.from(`u${i}:p`).toString('base64')}`, `${i}`][i % 4];
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => L.http('/rpc/usage_summary', null, { auth: junk(i) })));
  const by = {};
  for (const r of rs) by[r.status] = (by[r.status] || 0) + 1;
  t.diagnostic(`answers: ${JSON.stringify(by)}`);
  for (const r of rs) {
    if (r.status === 429) L.assertContractError(r, 429, ['RATE_LIMITED']);
    else L.assertContractError(r, 401, ['UNAUTHORIZED']);
  }
  assert.ok((by[429] || 0) > 0, `no 429 among ${n} requests with junk tokens: ${JSON.stringify(by)}`);
  assert.ok((by[401] || 0) <= BURST + 5, `${by[401]} junk requests reached PostgREST with a burst of ${BURST}`);
  await L.sleep(1500);  // (leave the address's bucket empty for the next case)
});
