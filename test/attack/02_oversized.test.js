// Issue 13, item 3: one tenant's data could make the nightly rollup fail for
// every tenant: a 3,000-character endpoint (btree key too long), two
// input_tokens of 2^63-1 (bigint out of range), two latency_ms of 1.7e308
// (float overflow).  Each must be refused at ingestion with 400
// VALIDATION_ERROR naming the field; and whatever a path accepts (plain
// INSERT by a trusted writer included), the rollup of the day still
// succeeds and every other tenant's answers stay right.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib.js');

const D = 7;  // the day (days ago) the poison lands on
const at = (k) => `${L.day(D)}T${String(10 + k).padStart(2, '0')}:00:00Z`;
const MAX = '9223372036854775807';
const ATTACKS = [
  ['endpoint', `[{"occurred_at": "${at(0)}", "event_type": "api_call", "endpoint": "/${'x'.repeat(2999)}", "method": "GET"}]`],
  ['input_tokens', `[{"occurred_at": "${at(1)}", "event_type": "llm_call", "model": "m", "input_tokens": ${MAX}},
                     {"occurred_at": "${at(2)}", "event_type": "llm_call", "model": "m", "input_tokens": ${MAX}}]`],
  ['latency_ms', `[{"occurred_at": "${at(3)}", "event_type": "api_call", "endpoint": "/slow", "latency_ms": 1.7e308},
                   {"occurred_at": "${at(4)}", "event_type": "api_call", "endpoint": "/slow", "latency_ms": 1.7e308}]`],
];
const POISON = `tenant_id = '${L.P}' AND (length(endpoint) > 1000 OR input_tokens > 1e15 OR latency_ms > 1e300)`;

test('oversized fields: refused at ingestion naming the field; the rollup succeeds for every tenant whatever was accepted', { timeout: 40000 }, async (t) => {
  t.after(() => { L.sql(`DELETE FROM analytics.usage_events WHERE ${POISON}`); L.sqlTry('CALL analytics.rollup_job()'); });
  const failures = [];
  for (const [field, events] of ATTACKS) {
    const before = Number(L.sql(`SELECT count(*) FROM analytics.usage_events WHERE ${POISON}`));
    const r = await L.httpPatient('/rpc/record_events', L.tok(L.P), { body: `{"events": ${events}}`, headers: { 'Content-Type': 'application/json' } });
    const stored = Number(L.sql(`SELECT count(*) FROM analytics.usage_events WHERE ${POISON}`)) - before;
    try {
      L.assertContractError(r, 400, ['VALIDATION_ERROR'], `${field} over HTTP`);
      assert.match(r.json.message, new RegExp(field), `${field}: the message names the field`);
      assert.equal(stored, 0, `${field}: nothing stored`);
    } catch (e) { failures.push(e.message.split('\n')[0]); }
    // the SQL path of a trusted caller refuses them too
    const s = L.sqlTry(`SELECT analytics.record_events('${events.replaceAll('"occurred_at"', `"tenant_id": "${L.P}", "occurred_at"`)}')`);
    if (s.ok || !new RegExp(field).test(s.err)) failures.push(`SQL record_events, ${field}: ${s.ok ? 'accepted' : s.err.split('\n')[0]}`);
  }
  // Plain INSERT (a trusted writer, COPY) may or may not take them; if it
  // does, the rollup of the day must still succeed for everyone.
  const ins = L.sqlTry(`INSERT INTO analytics.usage_events (tenant_id, occurred_at, event_type, endpoint, method, model, input_tokens, latency_ms)
    VALUES ('${L.P}', '${at(5)}', 'api_call', '/${'y'.repeat(2999)}', 'GET', NULL, NULL, NULL),
           ('${L.P}', '${at(6)}', 'llm_call', NULL, NULL, 'm', ${MAX}, NULL),
           ('${L.P}', '${at(7)}', 'llm_call', NULL, NULL, 'm', ${MAX}, NULL),
           ('${L.P}', '${at(8)}', 'api_call', '/slow', 'GET', NULL, NULL, 1.7e308),
           ('${L.P}', '${at(9)}', 'api_call', '/slow', 'GET', NULL, NULL, 1.7e308)`);
  const poisoned = Number(L.sql(`SELECT count(*) FROM analytics.usage_events WHERE ${POISON}`));
  // a new event of the victim on that day, so its rollup has to run again
  L.sql(`SELECT analytics.record_events('[{"tenant_id": "${L.B}", "agent_id": "${L.agent('b', 1)}", "occurred_at": "${at(10)}", "event_type": "token_issuance"}]')`);
  const startedAfter = L.sql('SELECT now()');
  const job = L.sqlTry('CALL analytics.rollup_job()');
  const runs = L.sql(`SELECT coalesce(string_agg(status || coalesce(': ' || error, ''), '; '), 'none') FROM analytics.job_runs
                      WHERE job = 'rollup' AND target_date = '${L.day(D)}' AND started_at >= '${startedAfter}'`);
  t.diagnostic(`plain INSERT of the poison: ${ins.ok ? 'accepted' : ins.err.split('\n')[0]}; poison rows stored: ${poisoned}; rollup job: ${job.ok ? 'ok' : job.err.split('\n')[0]}; runs of the day: ${runs}`);
  if (!job.ok) failures.push(`rollup_job failed: ${job.err.split('\n')[0]}`);
  if (!/^succeeded/.test(runs) || /failed/.test(runs)) failures.push(`the rollup of ${L.day(D)}: ${runs}`);
  for (const who of [L.A, L.B]) failures.push(...(await L.compareWithRaw(who, D + 1)));
  assert.deepEqual(failures, []);
});
