// Issue 13, item 5: no statement or lock timeout.  25 concurrent heavy calls
// held PostgREST's pool: a victim tenant's 1 ms call took 6-8 s and others
// got 504.  Here the heavy tenant's calls are made slow the cheapest way
// (they need a lock that a SQL session holds, on today's event partition;
// a statement stuck on a lock and one stuck on CPU hold a pool connection
// alike), 25 of them at once, while a victim tenant reads a closed day,
// which needs no such lock.  The API roles' timeouts must cut the heavy
// calls with a JSON error, and the victim must keep its answers quick.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib.js');

const HEAVY = 25;
const VIA_NGINX = 5;                    // of the HEAVY, through the gateway (the rest straight to PostgREST)
const HOLD_MS = 10000;                  // how long the lock is held at most
const VICTIM_MAX_MS = Number(process.env.ATTACK_VICTIM_MAX_MS || 5000);

test(`pool exhaustion: ${HEAVY} heavy calls of one tenant are cut by a timeout with a JSON error; another tenant's calls stay under ${VICTIM_MAX_MS} ms`, { timeout: 45000 }, async (t) => {
  // an event of the heavy tenant today: its reads of today need today's partition
  L.sql(`SELECT analytics.record_events('[{"tenant_id": "${L.H}", "occurred_at": "${new Date(Date.now() - 60000).toISOString()}", "event_type": "api_call"}]')`);
  const part = L.sql(`SELECT tableoid::regclass FROM analytics.usage_events WHERE tenant_id = '${L.H}'
                      AND occurred_at >= current_date ORDER BY occurred_at DESC LIMIT 1`);
  const victimPath = () => `/rpc/usage_summary?from=${L.day(6)}&to=${L.day(6)}`;
  const locker = new L.Session('locker');
  t.after(() => locker.close());
  const lk = await locker.run(`BEGIN; LOCK TABLE ${part} IN ACCESS EXCLUSIVE MODE;`);
  assert.equal(lk.err, '', lk.err);
  let released = false;
  const release = async () => { if (!released) { released = true; await locker.run('ROLLBACK;'); } };
  t.after(release);
  try {
    // (the victim's read does not need the lock: alone it is quick)
    const alone = await L.http(victimPath(), L.tok(L.B));
    assert.equal(alone.status, 200, `the victim alone: ${alone.text}`);
    assert.ok(alone.ms < 1000, `the victim alone took ${Math.round(alone.ms)} ms beside the lock`);

    const t0 = performance.now();
    const heavy = Array.from({ length: HEAVY }, (_, i) => L.http(`/rpc/usage_summary?from=${L.day(0)}&to=${L.day(0)}`, L.tok(L.H),
      { base: i < VIA_NGINX ? L.NGINX : L.PGRST, timeout: 40000 }).then((r) => ({ ...r, i, via: i < VIA_NGINX ? 'nginx' : 'postgrest', end: performance.now() - t0 })));
    const pending = new Set(heavy.map((_, i) => i));
    heavy.forEach((p, i) => p.then(() => pending.delete(i)));
    await L.sleep(300);
    const victim = [];
    while (pending.size > 0 && performance.now() - t0 < HOLD_MS) {
      victim.push(await L.http(victimPath(), L.tok(L.B), { timeout: VICTIM_MAX_MS + 1000 }));
      await L.sleep(200);
    }
    const heldFor = performance.now() - t0;
    await release();
    const answers = await Promise.all(heavy);

    const failures = [];
    const cut = answers.filter((a) => a.end < heldFor);
    const byStatus = {};
    for (const a of answers) byStatus[`${a.via} ${a.status} ${a.json?.code ?? ''}`] = (byStatus[`${a.via} ${a.status} ${a.json?.code ?? ''}`] || 0) + 1;
    const slowest = Math.max(0, ...victim.map((v) => v.ms));
    t.diagnostic(`lock held ${Math.round(heldFor)} ms; heavy answers: ${JSON.stringify(byStatus)}; cut before the release: ${cut.length}/${HEAVY}` +
      ` (after ${Math.round(Math.min(...cut.map((a) => a.end), Infinity))}..${Math.round(Math.max(...cut.map((a) => a.end), 0))} ms);` +
      ` victim: ${victim.length} reads, slowest ${Math.round(slowest)} ms, statuses ${[...new Set(victim.map((v) => v.status))].join(',')}`);
    if (cut.length < HEAVY) failures.push(`${HEAVY - cut.length} heavy calls were still waiting when the lock was released after ${Math.round(heldFor)} ms`);
    for (const a of cut) {
      if (a.status === 504 || a.json?.code === 'PGRST003') {
        failures.push(`heavy call ${a.i} (${a.via}) waited for a pool connection until PostgREST gave up: ${a.status} ${a.json?.code}`);
      } else if (a.status < 400 || !a.json || typeof a.json.code !== 'string' || typeof a.json.message !== 'string') {
        failures.push(`heavy call ${a.i} (${a.via}): ${a.status} ${a.text.slice(0, 150)}`);
      } else if (a.via === 'nginx') {
        try { L.assertContractError(a, a.status, null, `heavy call ${a.i} through nginx`); } catch (e) { failures.push(e.message.split('\n')[0]); }
      }
    }
    for (const v of victim) {
      if (v.status !== 200) failures.push(`a victim read answered ${v.status || 'nothing'} ${v.text.slice(0, 150)}`);
    }
    if (slowest > VICTIM_MAX_MS) failures.push(`a victim read took ${Math.round(slowest)} ms`);
    assert.deepEqual(failures, []);
  } finally {
    await release();
  }
});
