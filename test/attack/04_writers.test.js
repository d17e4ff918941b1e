// Issue 13, item 2: late events could vanish from the API for good.  A
// writer whose transaction commits after a rollup of its day started was
// left out of the rollup, and the day was then marked clean and never
// rolled again.  Here uncommitted writers (record_events and plain INSERT,
// in psql sessions holding their transactions open) are interleaved with
// run_rollup and rollup_job of the same day.  Tenant A writes through
// record_events, tenant B by plain INSERT.  Right after the commits every
// API answer of A equals plain SQL over the raw events; events that plain
// INSERT wrote into rolled days may show only after the next job run
// (contract §4: late events are picked up by the next run), but are never
// counted twice; after the next job run every answer of both tenants
// equals the raw events: zero lost, zero counted twice.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib.js');

const at = (d, s) => `${L.day(d)}T${new Date(s * 1000).toISOString().slice(11, 19)}Z`;
// events of tenant t on day d: record_events JSON (n events)
function batch(t, d, n, seed, type = 'token_issuance') {
  return JSON.stringify(Array.from({ length: n }, (_, i) => ({
    tenant_id: t, agent_id: L.agent(t === L.A ? 'a' : 'b', 1 + ((i + seed) % 5)),
    occurred_at: at(d, 3600 + ((seed * 997 + i * 61) % 80000)), event_type: i % 3 ? type : 'api_call',
    endpoint: i % 3 ? undefined : '/v1/resource/9', method: i % 3 ? undefined : 'GET', success: (i + seed) % 5 !== 0,
  })));
}
function insert(t, d, n, seed) {
  return `INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count)
          SELECT '${t}', '${L.agent(t === L.A ? 'a' : 'b', 1 + (seed % 5))}', '${L.day(d)}'::timestamptz + make_interval(secs => 7200 + i * 37),
                 CASE WHEN i % 2 = 0 THEN 'token_issuance' ELSE 'credential_rotation' END, i % 4 <> 0, 1 + i % 3
          FROM generate_series(1, ${n}) i;`;
}

// exact: tenants whose every answer must equal the raw events; late: tenants
// with plain INSERTs into rolled days just committed, whose totals may lag
// but never exceed the raw events.
async function check(label, exact, late = []) {
  const bad = [];
  for (const t of exact) bad.push(...(await L.compareWithRaw(t, 9)));
  for (const t of late) {
    const r = await L.httpPatient(`/rpc/usage_summary?from=${L.day(9)}&to=${L.day(0)}`, L.tok(t));
    if (r.status !== 200) { bad.push(`usage_summary(${t}): ${r.status} ${r.text.slice(0, 120)}`); continue; }
    const want = JSON.parse(L.sql(`SELECT attack.expect_summary('${t}', '${L.day(9)}', '${L.day(0)}')`));
    for (const k of ['totalApiCalls', 'totalTokenIssuances', 'totalCredentialRotations']) {
      if (r.json.summary[k] > want[k]) bad.push(`usage_summary(${t}).${k}: API ${r.json.summary[k]} is more than the raw events' ${want[k]}`);
    }
  }
  return bad.map((b) => `${label}: ${b}`);
}

test('concurrent writers against the rollup: no event lost or counted twice in any API answer', { timeout: 50000 }, async (t) => {
  const s = {};
  for (const name of ['setup', 'w1', 'w2', 'w3', 'w4', 'roll', 'job', 'roll2']) s[name] = new L.Session(name);
  t.after(() => { for (const x of Object.values(s)) x.close(); });
  const failures = [];
  const dbg = (m) => { if (process.env.ATTACK_DEBUG) process.stderr.write(`[writers ${Math.round(performance.now())}] ${m}\n`); };
  const ok = (r, what) => { dbg(what); if (r.err && /ERROR/.test(r.err)) failures.push(`${what}: ${r.err.split('\n')[0]}`); };
  const events0 = Number(L.sql('SELECT sum(count) FROM analytics.usage_events'));
  let written = 0;

  // Round 1: the day has a committed change pending (its log entry
  // exists); writers hold uncommitted events of the day while run_rollup
  // and rollup_job roll it; then they commit.
  const D1 = 3;
  ok(await s.setup.run(`SELECT analytics.record_events('${batch(L.A, D1, 5, 1)}')`), 'setup'); written += 5;
  ok(await s.w1.run(`BEGIN; SELECT analytics.record_events('${batch(L.A, D1, 40, 2)}');`), 'w1'); written += 40;
  ok(await s.w2.run(`BEGIN; ${insert(L.B, D1, 30, 3)}`), 'w2');
  written += Number(L.sql('SELECT sum(1 + i % 3) FROM generate_series(1, 30) i'));
  const roll = s.roll.run(`SELECT analytics.run_rollup('${L.day(D1)}')`);
  const job = s.job.run('CALL analytics.rollup_job()');
  // (a rollup may wait for the writers; it must not be needed for them to commit)
  await L.settle(Promise.all([roll, job]), 1500);
  ok(await s.w1.run('COMMIT;'), 'w1 commit');
  ok(await s.w2.run('COMMIT;'), 'w2 commit');
  const r1 = await L.settle(Promise.all([roll, job]), 20000);
  assert.ok(r1.done, 'round 1: the rollups finished within 20 s of the commits');
  ok(r1.value[0], 'round 1 run_rollup'); ok(r1.value[1], 'round 1 rollup_job');
  failures.push(...(await check('round 1, after the commits', [L.A], [L.B])));

  // Round 2: a rollup holds its transaction open while writers insert and
  // commit (they may have to wait for it); then a second rollup runs.
  const D2 = 4;
  ok(await s.roll.run(`BEGIN; SELECT analytics.run_rollup('${L.day(D2)}');`), 'round 2 rollup');
  const w3 = s.w3.run(`BEGIN; SELECT analytics.record_events('${batch(L.A, D2, 25, 4)}'); COMMIT;`); written += 25;
  const w4 = s.w4.run(`BEGIN; ${insert(L.B, D2, 20, 5)} COMMIT;`);
  written += Number(L.sql('SELECT sum(1 + i % 3) FROM generate_series(1, 20) i'));
  await L.settle(Promise.all([w3, w4]), 1000);
  ok(await s.roll.run('COMMIT;'), 'round 2 rollup commit');
  const r2 = await L.settle(Promise.all([w3, w4]), 20000);
  assert.ok(r2.done, 'round 2: the writers finished within 20 s of the rollup');
  ok(r2.value[0], 'w3'); ok(r2.value[1], 'w4');
  ok(await s.roll2.run(`SELECT analytics.run_rollup('${L.day(D2)}')`), 'round 2 second rollup');
  failures.push(...(await check('round 2, after the commits', [L.A], [L.B])));

  // Round 3: both at once on one day: a writer opens, two rollups run
  // (one waits for the other), a second writer opens, the first commits,
  // a rollup job runs, the second commits.
  const D3 = 2;
  ok(await s.setup.run(`SELECT analytics.record_events('${batch(L.A, D3, 3, 6)}')`), 'setup 3'); written += 3;
  ok(await s.w1.run(`BEGIN; SELECT analytics.record_events('${batch(L.A, D3, 30, 7)}');`), 'w1 round 3'); written += 30;
  const ra = s.roll.run(`SELECT analytics.run_rollup('${L.day(D3)}')`);
  const rb = s.roll2.run(`SELECT analytics.run_rollup('${L.day(D3)}')`);
  await L.settle(Promise.all([ra, rb]), 1000);
  ok(await s.w2.run(`BEGIN; ${insert(L.B, D3, 10, 8)}`), 'w2 round 3');
  written += Number(L.sql('SELECT sum(1 + i % 3) FROM generate_series(1, 10) i'));
  ok(await s.w1.run('COMMIT;'), 'w1 commit round 3');
  const jb = s.job.run('CALL analytics.rollup_job()');
  await L.settle(jb, 1000);
  ok(await s.w2.run('COMMIT;'), 'w2 commit round 3');
  const r3 = await L.settle(Promise.all([ra, rb, jb]), 20000);
  assert.ok(r3.done, 'round 3: the rollups finished within 20 s of the commits');
  r3.value.forEach((v, i) => ok(v, `round 3 rollup ${i}`));
  failures.push(...(await check('round 3, after the commits', [L.A], [L.B])));

  // Every event written is in the table, and the next job run changes no answer.
  const events1 = Number(L.sql('SELECT sum(count) FROM analytics.usage_events'));
  if (events1 - events0 !== written) failures.push(`raw events grew by ${events1 - events0}, ${written} were written`);
  ok(await s.job.run('CALL analytics.rollup_job()'), 'the next job run');
  failures.push(...(await check('after the next job run', [L.A, L.B])));
  // and the days are rolled (clean) again, with the right counts
  const unrolled = L.sql(`SELECT coalesce(string_agg(d::date::text, ' '), '') FROM generate_series('${L.day(4)}'::date, '${L.day(2)}'::date, '1 day') d
                          WHERE NOT EXISTS (SELECT 1 FROM analytics.job_runs j WHERE j.job = 'rollup' AND j.target_date = d::date AND j.status = 'succeeded')`);
  if (unrolled) failures.push(`days never rolled: ${unrolled}`);
  assert.deepEqual(failures, []);
});
