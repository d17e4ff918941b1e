// Issue 13, item 1: abusive time windows.  Any finite occurred_at used to be
// accepted and every distinct day got its own partition, created under an
// exclusive lock held to commit: one request of far days stalled every
// tenant.  Events outside the accepted window must be refused with 400
// VALIDATION_ERROR naming occurred_at, before any partition is made, and
// other tenants' reads must go on meanwhile.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib.js');

const partitions = () => Number(L.sql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.usage_events'::regclass"));
const rowsOf = (t) => Number(L.sql(`SELECT count(*) FROM analytics.usage_events WHERE tenant_id = '${t}'`));
const iso = (ms) => new Date(ms).toISOString();
const DAY = 86400000;
// Far days a request of this size may name: enough to stall every tenant
// for seconds when each gets a partition.
const FAR_DAYS = 120;

// Remove what an accepting implementation left behind (far rows, far
// partitions), so that later cases run on the same data either way.
function cleanup() {
  L.sql(`DELETE FROM analytics.usage_events WHERE tenant_id = '${L.P}'
           AND (occurred_at > now() + interval '30 days' OR occurred_at < now() - interval '3650 days')`);
  L.sql(`DO $$ DECLARE p regclass; BEGIN
           FOR p IN SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = 'analytics.usage_events'::regclass
                      AND c.relname ~ '^usage_events_p[0-9]{8}$'
                      AND (to_date(substr(c.relname, 15), 'YYYYMMDD') > current_date + 30
                           OR to_date(substr(c.relname, 15), 'YYYYMMDD') < current_date - 3650) LOOP
             EXECUTE format('DROP TABLE %s', p);
           END LOOP; END $$`);
}

test('abusive time windows: far-future and far-past events are refused (400 VALIDATION_ERROR naming occurred_at), no partition, no row', { timeout: 30000 }, async (t) => {
  t.after(cleanup);
  const parts0 = partitions(), rows0 = rowsOf(L.P);
  const now = Date.now();
  const cases = [
    ['the year 9999', '9999-12-31T12:00:00Z'],
    ['400 days ahead', iso(now + 400 * DAY)],
    ['2 days ahead', iso(now + 2 * DAY)],
    ['the year 1', '0001-01-01T12:00:00Z'],
    ['the year 2000', '2000-01-01T12:00:00Z'],
    ['20 years ago', iso(now - 20 * 365 * DAY)],
  ];
  const failures = [];
  for (const [what, at] of cases) {
    const r = await L.httpPatient('/rpc/record_events', L.tok(L.P), { body: { events: [{ occurred_at: at, event_type: 'api_call' }] } });
    try {
      L.assertContractError(r, 400, ['VALIDATION_ERROR'], what);
      assert.match(r.json.message, /occurred_at/, `${what}: the message names the field`);
    } catch (e) { failures.push(e.message.split('\n')[0]); }
  }
  // the SQL path refuses them too, naming the field
  const s = L.sqlTry(`SELECT analytics.record_events('[{"tenant_id": "${L.P}", "occurred_at": "9999-12-31T12:00:00Z", "event_type": "api_call"}]')`);
  if (s.ok || !/occurred_at/.test(s.err)) failures.push(`SQL record_events of the year 9999: ${s.ok ? 'accepted' : s.err.split('\n')[0]}`);
  const parts1 = partitions(), rows1 = rowsOf(L.P);
  if (parts1 !== parts0) failures.push(`partitions created: ${parts1 - parts0}`);
  if (rows1 !== rows0) failures.push(`rows stored: ${rows1 - rows0}`);
  assert.deepEqual(failures, []);
});

test(`abusive time windows: one request naming ${FAR_DAYS} far days is refused at once and other tenants' reads go on`, { timeout: 40000 }, async (t) => {
  t.after(cleanup);
  const parts0 = partitions(), rows0 = rowsOf(L.P);
  const base = Date.now() + 400 * DAY;
  const events = Array.from({ length: FAR_DAYS }, (_, i) => ({ occurred_at: iso(base + i * DAY), event_type: 'api_call', endpoint: '/far' }));
  let done = false;
  const abusive = L.http('/rpc/record_events', L.tok(L.P), { body: { events }, timeout: 30000 }).then((r) => { done = true; return r; });
  // the victim reads (through nginx, a new cache entry each time) while it runs
  const victim = [];
  for (let i = 0; !done && i < 300; i++) {
    const r = await L.http(`/rpc/usage_summary?from=${L.day(1 + (i % 25))}&to=${L.day(0)}`, L.tok(L.B));
    victim.push(r);
  }
  const r = await abusive;
  const slowest = Math.max(0, ...victim.map((v) => v.ms));
  t.diagnostic(`abusive request: ${r.status} in ${Math.round(r.ms)} ms; victim reads: ${victim.length}, slowest ${Math.round(slowest)} ms`);
  const failures = [];
  try {
    L.assertContractError(r, 400, ['VALIDATION_ERROR'], 'the batch of far days');
    assert.match(r.json.message, /occurred_at/);
  } catch (e) { failures.push(e.message.split('\n')[0]); }
  if (r.ms > 2000) failures.push(`the refusal took ${Math.round(r.ms)} ms`);
  if (partitions() !== parts0) failures.push(`partitions created: ${partitions() - parts0}`);
  if (rowsOf(L.P) !== rows0) failures.push(`rows stored: ${rowsOf(L.P) - rows0}`);
  for (const v of victim) if (v.status !== 200) failures.push(`a victim read answered ${v.status} ${v.text.slice(0, 120)}`);
  if (slowest > 2000) failures.push(`a victim read took ${Math.round(slowest)} ms`);
  assert.deepEqual(failures, []);
});
