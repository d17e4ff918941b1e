// bench/reliability.js: the two measurements of bench/reliability.sh (which
// starts the cluster and the stack, loads test/attack/setup.sql and sets the
// environment this reads).  Bounded in time: every loop ends by itself.
'use strict';
const L = require('../test/attack/lib.js');

const WRITE_S = Number(process.env.WRITE_SECONDS || 60);
const LOAD_S = Number(process.env.LOAD_SECONDS || 20);
const BASE_S = Number(process.env.BASE_SECONDS || 10);
const HTTP_WRITERS = Number(process.env.HTTP_WRITERS || 4);
const SQL_WRITERS = Number(process.env.SQL_WRITERS || 3);
const ABUSERS = Number(process.env.ABUSERS || 48);
const WELL_RPS = Number(process.env.WELL_RPS || 10);
const SNAPSHOT_EVERY_MS = 5000;
const DAYS = 6;  // writes land on today and the 5 days before
const TENANTS = [[L.A, 'a'], [L.B, 'b'], [L.P, 'd']];
const METRICS = [['api_call', 'totalApiCalls'], ['token_issuance', 'totalTokenIssuances'], ['credential_rotation', 'totalCredentialRotations']];

let rnd = 12345;
const rand = (n) => { rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd % n; };
const pct = (xs, p) => { if (!xs.length) return NaN; const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '-');

// n events of tenant t, each with an agent, on the last DAYS days (in the past).
function events(t, letter, n) {
  const now = Date.now();
  return Array.from({ length: n }, () => {
    const d = rand(DAYS);
    let when = Date.parse(`${L.day(d)}T00:00:00Z`) + rand(86400) * 1000;
    if (when > now - 60000) when = now - 60000 - rand(3600) * 1000;
    return {
      tenant_id: t, agent_id: L.agent(letter, 1 + rand(5)), occurred_at: new Date(when).toISOString(),
      event_type: METRICS[rand(3)][0], success: rand(5) !== 0, count: 1 + rand(3),
    };
  });
}

// API (usage_summary of each day) against raw events, per tenant, day and
// metric: events missing from the API (lost) and counted twice.
async function snapshot() {
  const raw = {};
  for (const line of L.sql(`SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, event_type, sum(count)
                            FROM analytics.usage_events WHERE occurred_at >= current_date - ${DAYS - 1}
                            GROUP BY 1, 2, 3`).split('\n').filter(Boolean)) {
    const [t, d, type, n] = line.split('|');
    raw[`${t} ${d} ${type}`] = Number(n);
  }
  let lost = 0, twice = 0, answers = 0, bad = 0;
  for (const [t] of TENANTS) {
    for (let d = 0; d < DAYS; d++) {
      const r = await L.httpPatient(`/rpc/usage_summary?from=${L.day(d)}&to=${L.day(d)}`, L.tok(t));
      answers++;
      if (r.status !== 200) { bad++; continue; }
      for (const [type, key] of METRICS) {
        const want = raw[`${t} ${L.day(d)} ${type}`] || 0, got = r.json.summary[key];
        if (got < want) lost += want - got; else twice += got - want;
      }
    }
    const diffs = await L.compareWithRaw(t, DAYS - 1);
    answers += 8;
    bad += diffs.length;
  }
  return { lost, twice, answers, bad };
}

async function writers() {
  const stats = { http: 0, httpBatches: 0, http429: 0, httpOther: 0, sql: 0, sqlTx: 0, rollups: 0, jobs: 0, rollErrors: 0 };
  const snaps = [];
  const end = Date.now() + WRITE_S * 1000;
  let paused = null;           // a promise the writers wait on during a snapshot
  let inFlight = 0;
  const gate = async () => { while (paused) await paused; };

  const httpWriter = async (k) => {
    const [t, letter] = TENANTS[k % TENANTS.length];
    const token = L.tok(t);
    while (Date.now() < end) {
      await gate();
      inFlight++;
      const batch = events(t, letter, 5 + rand(20));
      const r = await L.http('/rpc/record_events', token, { body: { events: batch } });
      inFlight--;
      if (r.status === 200) { stats.http += batch.reduce((s, e) => s + e.count, 0); stats.httpBatches++; }
      else if (r.status === 429) { stats.http429++; await L.sleep(200); }
      else { stats.httpOther++; if (stats.httpOther <= 3) console.error(`http writer: ${r.status} ${r.text.slice(0, 160)}`); }
    }
  };
  const sqlWriter = async (k) => {
    const s = new L.Session(`writer${k}`);
    const [t, letter] = TENANTS[(k + 1) % TENANTS.length];
    while (Date.now() < end) {
      await gate();
      inFlight++;
      const batch = events(t, letter, 5 + rand(20));
      const n = batch.reduce((x, e) => x + e.count, 0);
      const hold = (rand(400) / 1000).toFixed(3);
      const body = rand(2) === 0
        ? `SELECT analytics.record_events('${JSON.stringify(batch)}');`
        : `INSERT INTO analytics.usage_events (tenant_id, agent_id, occurred_at, event_type, success, count)
           SELECT e.tenant_id, e.agent_id, e.occurred_at, e.event_type, e.success, e.count
           FROM jsonb_to_recordset('${JSON.stringify(batch)}') AS e(tenant_id uuid, agent_id uuid, occurred_at timestamptz, event_type text, success boolean, count integer);`;
      const r = await s.run(`BEGIN; ${body} SELECT pg_sleep(${hold}); COMMIT;`);
      inFlight--;
      if (!/ERROR/.test(r.err)) { stats.sql += n; stats.sqlTx++; } else console.error(`sql writer: ${r.err.split('\n')[0]}`);
    }
    s.close();
  };
  const roller = async () => {
    const s = new L.Session('roller');
    while (Date.now() < end) {
      const r = await s.run(`SELECT analytics.run_rollup('${L.day(1 + rand(DAYS - 1))}');`);
      if (/ERROR/.test(r.err)) stats.rollErrors++; else stats.rollups++;
    }
    s.close();
  };
  const jobber = async () => {
    const s = new L.Session('jobber');
    while (Date.now() < end) {
      const r = await s.run('CALL analytics.rollup_job();');
      if (/ERROR/.test(r.err)) stats.rollErrors++; else stats.jobs++;
      await L.sleep(300);
    }
    s.close();
  };
  const snapper = async () => {
    while (Date.now() + SNAPSHOT_EVERY_MS < end) {
      await L.sleep(SNAPSHOT_EVERY_MS);
      let resume;
      paused = new Promise((res) => { resume = res; });
      while (inFlight > 0) await L.sleep(10);   // every write acknowledged is committed
      snaps.push(await snapshot());
      paused = null;
      resume();
    }
  };
  const raw0 = Number(L.sql(`SELECT sum(count) FROM analytics.usage_events`));
  await Promise.all([
    ...Array.from({ length: HTTP_WRITERS }, (_, k) => httpWriter(k)),
    ...Array.from({ length: SQL_WRITERS }, (_, k) => sqlWriter(k)),
    roller(), jobber(), snapper(),
  ]);
  const raw1 = Number(L.sql(`SELECT sum(count) FROM analytics.usage_events`));
  const afterCommits = await snapshot();
  L.sql('CALL analytics.rollup_job()');
  const afterJob = await snapshot();
  return { stats, snaps, afterCommits, afterJob, stored: raw1 - raw0 };
}

async function gateway() {
  // the well-behaved tenant: WELL_RPS light reads a second, open loop, one token per phase
  const wellBehaved = async (seconds) => {
    const token = L.tok(L.B);
    const lat = [], status = {};
    const calls = [];
    const paths = (i) => [`/rpc/tokens?days=${1 + (i % 30)}`, `/rpc/usage_summary?from=${L.day(i % 30)}`, `/rpc/agents_activity?days=${1 + (i % 30)}`][i % 3];
    const end = Date.now() + seconds * 1000;
    for (let i = 0; Date.now() < end; i++) {
      calls.push(L.http(paths(i), token, { timeout: 15000 }).then((r) => {
        lat.push(r.ms);
        const k = r.status === 200 ? '200' : `${r.status} ${r.json?.code ?? ''}`.trim();
        status[k] = (status[k] || 0) + 1;
      }));
      await L.sleep(1000 / WELL_RPS);
    }
    await Promise.all(calls);
    return { n: lat.length, p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99), max: Math.max(...lat), status };
  };
  // the misbehaving tenant: ABUSERS connections, heavy reads back to back.
  // one-token: its one token spelt many ways, and junk tokens (half each);
  // many-tokens: a token of its own on every request (a tenant with many
  // agents holds many valid tokens).
  const misbehaving = async (mode, seconds) => {
    const abuse = { status: {}, n: 0 };
    const spelt = L.tok(L.H);
    let stop = false;
    const abuser = async (k) => {
      for (let i = 0; !stop; i++) {
        const auth = mode === 'many-tokens' ? `Bearer ${L.tok(L.H)}`
          : k % 2 === 0 ? `${['Bearer', 'bearer', 'BEARER'][i % 3]}${' '.repeat(1 + ((k + i) % 40))}${spelt}` : `Bearer junk-${k}-${i}`;
        const r = await L.http(`/rpc/agent_activity?from=${L.day(89)}&to=${L.day(i % 2)}`, null, { auth, timeout: 30000 });
        abuse.n++;
        const key = r.status === 200 || r.status === 0 ? String(r.status) : `${r.status} ${r.json?.code ?? ''}`.trim();
        abuse.status[key] = (abuse.status[key] || 0) + 1;
        if (r.status === 429 || r.status === 0) await L.sleep(50);
      }
    };
    const abusers = Array.from({ length: ABUSERS }, (_, k) => abuser(k));
    await L.sleep(1000);
    const well = await wellBehaved(seconds);
    stop = true;
    await Promise.all(abusers);
    await L.sleep(2000);  // (let the server drain before the next phase)
    return { well, abuse };
  };
  const base = await wellBehaved(BASE_S);
  const oneToken = await misbehaving('one-token', LOAD_S);
  const manyTokens = await misbehaving('many-tokens', LOAD_S);
  return { base, oneToken, manyTokens };
}

(async () => {
  const t0 = Date.now();
  console.log(`== writers: ${HTTP_WRITERS} over HTTP, ${SQL_WRITERS} in SQL sessions holding their transactions 0-400 ms, rollups of the same days back to back, for ${WRITE_S} s`);
  const w = await writers();
  const s = w.stats;
  const worst = (k) => Math.max(0, ...w.snaps.map((x) => x[k]));
  console.log(`events written: ${s.http} over HTTP (${s.httpBatches} batches; ${s.http429} refused 429, ${s.httpOther} other), ${s.sql} in SQL (${s.sqlTx} transactions); the table grew by ${w.stored}`);
  console.log(`rollups meanwhile: ${s.rollups} run_rollup, ${s.jobs} rollup_job, ${s.rollErrors} failed`);
  console.log(`snapshots (writers paused, all acknowledged writes committed): ${w.snaps.length}, ${w.snaps.reduce((a, x) => a + x.answers, 0)} API answers; snapshots with any answer unlike raw events: ${w.snaps.filter((x) => x.bad > 0 || x.lost > 0 || x.twice > 0).length}; worst lost ${worst('lost')}, worst counted twice ${worst('twice')}`);
  console.log(`  per snapshot (answers unlike raw / events lost / counted twice): ${w.snaps.map((x) => `${x.bad}/${x.lost}/${x.twice}`).join(' ')}`);
  console.log(`after the last commits: ${w.afterCommits.answers} API answers, ${w.afterCommits.bad} unlike raw events, events lost ${w.afterCommits.lost}, counted twice ${w.afterCommits.twice}`);
  console.log(`after the next rollup_job: ${w.afterJob.answers} API answers, ${w.afterJob.bad} unlike raw events, events lost ${w.afterJob.lost}, counted twice ${w.afterJob.twice}`);
  if (w.stored !== s.http + s.sql) console.log(`!! ${s.http + s.sql} events acknowledged, ${w.stored} stored`);

  console.log(`== gateway: a well-behaved tenant at ${WELL_RPS} reads/s, ${BASE_S} s alone, then ${LOAD_S} s beside a misbehaving tenant on ${ABUSERS} connections (heavy reads back to back), twice: with one token spelt many ways and junk tokens, then with a valid token of its own on every request`);
  const g = await gateway();
  const row = (name, x) => console.log(`${name.padEnd(34)} ${String(x.n).padStart(6)} ${ms(x.p50).padStart(10)} ${ms(x.p90).padStart(10)} ${ms(x.p99).padStart(10)} ${ms(x.max).padStart(10)}  ${JSON.stringify(x.status)}`);
  console.log(`${'well-behaved tenant'.padEnd(34)} ${'reads'.padStart(6)} ${'p50'.padStart(10)} ${'p90'.padStart(10)} ${'p99'.padStart(10)} ${'max'.padStart(10)}  answers`);
  row('alone', g.base);
  row('beside one token, junk tokens', g.oneToken.well);
  row('beside a token per request', g.manyTokens.well);
  for (const [name, x] of [['one token spelt many ways, junk tokens', g.oneToken.abuse], ['a token per request', g.manyTokens.abuse]]) {
    console.log(`misbehaving tenant, ${name}: ${x.n} requests (${(x.n / LOAD_S).toFixed(0)}/s), answers ${JSON.stringify(x.status)}`);
  }
  console.log(`(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  const fail = w.afterCommits.bad + w.afterJob.bad + w.afterCommits.lost + w.afterJob.lost + w.afterCommits.twice + w.afterJob.twice;
  process.exit(fail ? 1 : 0);
})();
