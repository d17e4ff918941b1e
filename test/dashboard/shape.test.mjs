// Unit tests of the dashboard's data shaping (dashboard/src/shape.js), run
// with node's test runner: node --test test/dashboard/
import test from 'node:test';
import assert from 'node:assert/strict';
import * as S from '../../dashboard/src/shape.js';

test('isDay accepts real calendar days only', () => {
  assert.equal(S.isDay('2026-02-28'), true);
  assert.equal(S.isDay('2028-02-29'), true);
  for (const bad of ['2026-02-29', '2026-13-01', '2026-1-01', '20260101', '', null, undefined, 20260101, '2026-01-01T00:00:00Z']) {
    assert.equal(S.isDay(bad), false, String(bad));
  }
});

test('addDays and spanDays count UTC days across month, year and DST edges', () => {
  assert.equal(S.addDays('2026-03-01', -1), '2026-02-28');
  assert.equal(S.addDays('2026-12-31', 1), '2027-01-01');
  assert.equal(S.addDays('2026-03-29', 1), '2026-03-30');   // EU DST change: UTC has none
  assert.equal(S.spanDays('2026-03-01', '2026-03-01'), 1);
  assert.equal(S.spanDays('2026-01-01', '2026-12-31'), 365);
  assert.equal(S.spanDays('2028-01-01', '2028-12-31'), 366);
});

test('periodFor: presets end today and count both ends', () => {
  assert.deepEqual(S.periodFor('7', '2026-11-25'), { from: '2026-11-19', to: '2026-11-25', days: 7, preset: 7 });
  assert.deepEqual(S.periodFor('30', '2026-03-30'), { from: '2026-03-01', to: '2026-03-30', days: 30, preset: 30 });
  assert.equal(S.periodFor('90', '2026-11-25').from, '2026-08-28');
  assert.match(S.periodFor('14', '2026-11-25').error, /unknown period/);
});

test('periodFor: custom ranges within the API limits, clear errors outside', () => {
  const today = '2026-11-25';
  assert.deepEqual(S.periodFor('custom', today, { from: '2026-11-01', to: '2026-11-10' }),
    { from: '2026-11-01', to: '2026-11-10', days: 10, preset: null });
  assert.equal(S.periodFor('custom', today, { from: '2025-11-26', to: today }).days, 365);
  assert.match(S.periodFor('custom', today, { from: '2025-11-25', to: today }).error, /at most 365 days \(this one covers 366\)/);
  assert.match(S.periodFor('custom', today, { from: '2026-11-10', to: '2026-11-01' }).error, /start date is after the end date/);
  assert.match(S.periodFor('custom', today, { from: '2026-11-01', to: '2026-11-26' }).error, /after today \(2026-11-25/);
  assert.match(S.periodFor('custom', today, { from: '2026-11-01', to: '' }).error, /YYYY-MM-DD/);
  assert.match(S.periodFor('custom', today, { from: '2026-02-30', to: '2026-03-01' }).error, /YYYY-MM-DD/);
});

test('agentActivityPeriod keeps the last 90 days of a longer period', () => {
  assert.deepEqual(S.agentActivityPeriod({ from: '2026-11-01', to: '2026-11-30', days: 30 }),
    { from: '2026-11-01', to: '2026-11-30', days: 30, clipped: false });
  const p = S.agentActivityPeriod({ from: '2026-01-01', to: '2026-12-31', days: 365 });
  assert.deepEqual(p, { from: '2026-10-03', to: '2026-12-31', days: 90, clipped: true });
  assert.equal(S.spanDays(p.from, p.to), 90);
});

test('heatmapWindow covers the period start through today, at most 90 days', () => {
  assert.deepEqual(S.heatmapWindow({ from: '2026-11-19', to: '2026-11-25' }, '2026-11-25'), { days: 7, from: '2026-11-19', to: '2026-11-25' });
  assert.deepEqual(S.heatmapWindow({ from: '2026-11-01', to: '2026-11-10' }, '2026-11-25'), { days: 25, from: '2026-11-01', to: '2026-11-25' });
  assert.equal(S.heatmapWindow({ from: '2026-01-01', to: '2026-03-01' }, '2026-11-25').days, 90);
});

const SUMMARY = {
  tenantId: 't', period: { from: '2026-03-01', to: '2026-03-30' },
  summary: { totalApiCalls: 84320, totalTokenIssuances: 12400, totalCredentialRotations: 48, activeAgentCount: 23,
    averageDailyApiCalls: 2810, peakDailyApiCalls: 5102, peakDate: '2026-03-28' },
};

test('summaryCards: one card per figure, the peak with its date', () => {
  const cards = S.summaryCards(SUMMARY);
  assert.deepEqual(cards.map((c) => c.key), ['totalApiCalls', 'totalTokenIssuances', 'totalCredentialRotations',
    'activeAgentCount', 'averageDailyApiCalls', 'peakDailyApiCalls']);
  assert.deepEqual(cards.map((c) => c.value), [84320, 12400, 48, 23, 2810, 5102]);
  assert.equal(cards[5].detail, 'on 2026-03-28');
  const none = S.summaryCards({ summary: { ...SUMMARY.summary, peakDailyApiCalls: 0, peakDate: null } });
  assert.equal(none[5].detail, 'no calls yet');
  assert.equal(S.formatInt(84320), '84,320');
  assert.equal(S.formatInt(null), '—');
});

test('isEmptySummary: only when nothing at all happened', () => {
  assert.equal(S.isEmptySummary(SUMMARY), false);
  const zero = { summary: { totalApiCalls: 0, totalTokenIssuances: 0, totalCredentialRotations: 0, activeAgentCount: 0,
    averageDailyApiCalls: 0, peakDailyApiCalls: 0, peakDate: null } };
  assert.equal(S.isEmptySummary(zero), true);
  assert.equal(S.isEmptySummary({ summary: { ...zero.summary, totalCredentialRotations: 1, activeAgentCount: 1 } }), false);
});

test('heatmapMatrix: Monday first, Sunday (dow 0) last, zero-filled', () => {
  const m = S.heatmapMatrix({ data: [{ dow: 0, hour: 23, count: 5 }, { dow: 1, hour: 0, count: 2 }, { dow: 3, hour: 9, count: 54 }] });
  assert.equal(m.matrix.length, 7);
  assert.ok(m.matrix.every((r) => r.length === 24));
  assert.equal(m.matrix[6][23], 5);   // Sunday 23:00
  assert.equal(m.matrix[0][0], 2);    // Monday 00:00
  assert.equal(m.matrix[2][9], 54);   // Wednesday 09:00
  assert.equal(m.total, 61);
  assert.equal(m.max, 54);
  assert.equal(m.matrix.flat().filter((c) => c > 0).length, 3);
  const cells = S.heatmapCells(m.matrix);
  assert.equal(cells.length, 168);
  assert.deepEqual(cells.find((c) => c[2] === 54), [9, 2, 54]);
});

test('heatmapMatrix refuses cells outside the week and the day', () => {
  for (const c of [{ dow: 7, hour: 0, count: 1 }, { dow: 1, hour: 24, count: 1 }, { dow: 1, hour: -1, count: 1 },
    { dow: 1, hour: 1.5, count: 1 }, { dow: 1, hour: 1, count: -1 }, { dow: '1', hour: 1, count: 1 }]) {
    assert.throws(() => S.heatmapMatrix({ data: [c] }), /bad heatmap cell/, JSON.stringify(c));
  }
});

test('heatmapCellLabel says the day, the UTC hour range and the count', () => {
  assert.equal(S.heatmapCellLabel(0, 9, 54), 'Monday 09:00–10:00 UTC: 54 API calls');
  assert.equal(S.heatmapCellLabel(6, 23, 1), 'Sunday 23:00–00:00 UTC: 1 API call');
  assert.equal(S.heatmapCellLabel(2, 0, 12345), 'Wednesday 00:00–01:00 UTC: 12,345 API calls');
});

test('trendSeries keeps successful and failed apart and totals them', () => {
  const t = S.trendSeries({ granularity: 'week', dataPoints: [
    { date: '2026-03-02', totalIssuances: 10, successfulIssuances: 9, failedIssuances: 1, uniqueAgents: 3 },
    { date: '2026-03-09', totalIssuances: 0, successfulIssuances: 0, failedIssuances: 0, uniqueAgents: 0 },
    { date: '2026-03-16', totalIssuances: 7, successfulIssuances: 5, failedIssuances: 2, uniqueAgents: 2 },
  ] });
  assert.equal(t.granularity, 'week');
  assert.deepEqual(t.dates, ['2026-03-02', '2026-03-09', '2026-03-16']);
  assert.deepEqual(t.successful, [9, 0, 5]);
  assert.deepEqual(t.failed, [1, 0, 2]);
  assert.deepEqual(t.uniqueAgents, [3, 0, 2]);
  assert.deepEqual(t.totals, { total: 17, successful: 14, failed: 3 });
});

function agent(id, name, calls) {
  return { agentId: id, agentName: name,
    dailyActivity: calls.map((c, i) => ({ date: `2026-03-0${i + 1}`, apiCalls: c, tokenIssuances: c % 3, credentialRotations: c % 2 })) };
}

test('agentSeries: busiest agents first, the rest summed as other agents', () => {
  const agents = Array.from({ length: 10 }, (_, i) => agent(`id-${i}`, `agent-${i}`, [i, i + 1]));
  const s = S.agentSeries({ agents });
  assert.equal(s.mode, 'all');
  assert.deepEqual(s.dates, ['2026-03-01', '2026-03-02']);
  assert.equal(s.series.length, S.AGENT_SERIES_LIMIT + 1);
  assert.equal(s.series[0].name, 'agent-9');
  assert.deepEqual(s.series[0].data, [9, 10]);
  const other = s.series.at(-1);
  assert.equal(other.name, 'Other agents (3)');
  assert.deepEqual(other.data, [0 + 1 + 2, 1 + 2 + 3]);
  // every call is in exactly one series
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  assert.equal(sum(s.series.map((x) => sum(x.data))), sum(agents.map((a) => sum(a.dailyActivity.map((d) => d.apiCalls)))));
});

test('agentSeries for one agent: its three daily series; unnamed agents get an id label', () => {
  const body = { agents: [agent('aaaaaaaa-1', null, [3, 4]), agent('b', 'bob', [1, 1])] };
  const s = S.agentSeries(body, 'aaaaaaaa-1');
  assert.equal(s.mode, 'agent');
  assert.deepEqual(s.series.map((x) => x.name), ['API calls', 'Token issuances', 'Credential rotations']);
  assert.deepEqual(s.series[0].data, [3, 4]);
  assert.deepEqual(s.series[1].data, [0, 1]);
  assert.deepEqual(s.series[2].data, [1, 0]);
  assert.deepEqual(S.agentOptions(body), [{ value: 'aaaaaaaa-1', label: 'agent aaaaaaaa' }, { value: 'b', label: 'bob' }]);
  assert.deepEqual(S.agentSeries(body, 'nobody').series, []);
  assert.deepEqual(S.agentSeries({ agents: [] }).series, []);
});

const ROTATIONS = { totalRotations: 9, period: { from: '2026-03-01', to: '2026-03-30' }, agents: [
  { agentId: 'a1', agentName: 'alpha', rotations: 6, rotationDays: 5, lastRotationDate: '2026-03-28', averageDaysBetweenRotations: 5.0 },
  { agentId: 'a2', agentName: 'beta', rotations: 3, rotationDays: 3, lastRotationDate: '2026-03-20', averageDaysBetweenRotations: 10.0 },
  { agentId: 'a3', agentName: 'gamma', rotations: 0, rotationDays: 0, lastRotationDate: null, averageDaysBetweenRotations: null },
] };

test('sortRows: both directions, nulls last, ties in the API order', () => {
  const rows = S.rotationRows(ROTATIONS);
  assert.deepEqual(S.sortRows(rows, 'rotations', 'ascending').map((r) => r.agentName), ['gamma', 'beta', 'alpha']);
  assert.deepEqual(S.sortRows(rows, 'averageDaysBetweenRotations', 'descending').map((r) => r.agentName), ['beta', 'alpha', 'gamma']);
  assert.deepEqual(S.sortRows(rows, 'averageDaysBetweenRotations', 'ascending').map((r) => r.agentName), ['alpha', 'beta', 'gamma']);
  assert.deepEqual(S.sortRows(rows, 'agentName', 'descending').map((r) => r.agentName), ['gamma', 'beta', 'alpha']);
  const tied = [{ k: 1, n: 'x' }, { k: 0, n: 'y' }, { k: 1, n: 'z' }];
  assert.deepEqual(S.sortRows(tied, 'k', 'descending').map((r) => r.n), ['x', 'z', 'y']);
  assert.equal(rows.length, 3, 'sorting copies');
});

test('patternRows flattens latency; null latency stays null', () => {
  const rows = S.patternRows({ endpoints: [
    { endpoint: '/v1/a', method: 'GET', calls: 3, successes: 2, failures: 1, successRate: 0.6667, latencyMs: { p50: 1.5, p95: 2.5, p99: 3.5 } },
    { endpoint: '/v1/b', method: 'POST', calls: 1, successes: 1, failures: 0, successRate: 1, latencyMs: null },
  ] });
  assert.deepEqual(rows[0], { endpoint: '/v1/a', method: 'GET', calls: 3, successes: 2, failures: 1, successRate: 0.6667, p50: 1.5, p95: 2.5, p99: 3.5 });
  assert.equal(rows[1].p99, null);
  assert.equal(S.formatCell(0.6667, { type: 'percent' }), '66.67 %');
  assert.equal(S.formatCell(2.5, { type: 'number', digits: 1 }), '2.5');
  assert.equal(S.formatCell(1234, { type: 'number' }), '1,234');
  assert.equal(S.formatCell(null, { type: 'number' }), '—');
});

test('toCsv: header of labels, raw values, RFC 4180 quoting, CRLF', () => {
  const csv = S.toCsv(S.ROTATION_COLUMNS, S.rotationRows(ROTATIONS));
  const lines = csv.split('\r\n');
  assert.equal(lines.at(-1), '');
  assert.equal(lines[0], 'Agent,Agent id,Rotations,Days with a rotation,Last rotation,Average days between rotations');
  assert.equal(lines[1], 'alpha,a1,6,5,2026-03-28,5');
  assert.equal(lines[3], 'gamma,a3,0,0,,');
  assert.equal(lines.length, 5);
  assert.equal(S.csvField('a,b'), '"a,b"');
  assert.equal(S.csvField('say "hi"'), '"say ""hi"""');
  assert.equal(S.csvField('two\nlines'), '"two\nlines"');
});

test('csvField defuses spreadsheet formulas in text, not in numbers', () => {
  assert.equal(S.csvField('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
  assert.equal(S.csvField('+1'), "'+1");
  assert.equal(S.csvField('@sum'), "'@sum");
  assert.equal(S.csvField('-2'), "'-2");
  assert.equal(S.csvField(-2), '-2');
  assert.equal(S.csvField(0.5), '0.5');
});

test('topAgents: names where known, at most n, API order kept', () => {
  const body = { month: '2026-03', data: [{ agentId: 'a1', tokenCount: 9 }, { agentId: 'zzzzzzzz-2', tokenCount: 4 }, { agentId: 'a3', tokenCount: 1 }] };
  const rows = S.topAgents(body, new Map([['a1', 'alpha']]), 2);
  assert.deepEqual(rows, [{ agentId: 'a1', label: 'alpha', tokenCount: 9 }, { agentId: 'zzzzzzzz-2', label: 'agent zzzzzzzz', tokenCount: 4 }]);
});

test('retryAfterSeconds: seconds or an HTTP date, bounded, 1 by default', () => {
  assert.equal(S.retryAfterSeconds('3'), 3);
  assert.equal(S.retryAfterSeconds(null), 1);
  assert.equal(S.retryAfterSeconds('0'), 1);
  assert.equal(S.retryAfterSeconds('soon'), 1);
  assert.equal(S.retryAfterSeconds('100000'), 300);
  const now = Date.parse('2026-11-25T10:00:00Z');
  assert.equal(S.retryAfterSeconds('Wed, 25 Nov 2026 10:00:05 GMT', now), 5);
  assert.equal(S.retryAfterSeconds('Wed, 25 Nov 2026 09:00:00 GMT', now), 1);
});

test('classifyResponse maps the contract errors to the page states', () => {
  assert.equal(S.classifyResponse(200, {}).kind, 'ok');
  const u = S.classifyResponse(401, { code: 'UNAUTHORIZED', message: 'x' });
  assert.equal(u.kind, 'unauthorized');
  assert.match(u.message, /token/);
  const f = S.classifyResponse(403, { code: 'ANALYTICS_NOT_AVAILABLE', message: 'analytics is not available on the free tier' });
  assert.equal(f.kind, 'forbidden');
  assert.match(f.message, /Pro and Enterprise/);
  assert.equal(f.apiMessage, 'analytics is not available on the free tier');
  const r = S.classifyResponse(429, { code: 'RATE_LIMITED', message: 'slow down' }, '2');
  assert.deepEqual([r.kind, r.seconds], ['rate_limited', 2]);
  const e = S.classifyResponse(400, { code: 'INVALID_DATE_RANGE', message: 'from is after to' });
  assert.deepEqual([e.kind, e.code, e.message], ['error', 'INVALID_DATE_RANGE', 'from is after to']);
  assert.equal(S.classifyResponse(502, null).message, 'The server answered 502.');
  assert.equal(S.classifyResponse(403, { code: 'OTHER', message: 'no' }).kind, 'error');
});

test('parseHash reads the sign-in token and the period; periodHash never writes the token', () => {
  assert.deepEqual(S.parseHash('#token=abc.def.ghi'), { token: 'abc.def.ghi', period: null, from: null, to: null });
  assert.deepEqual(S.parseHash('#period=90&token=t'), { token: 't', period: '90', from: null, to: null });
  assert.deepEqual(S.parseHash('#from=2026-03-01&to=2026-03-30'), { token: null, period: null, from: '2026-03-01', to: '2026-03-30' });
  assert.deepEqual(S.parseHash('#period=14&from=2026-02-30'), { token: null, period: null, from: null, to: null });
  assert.deepEqual(S.parseHash(''), { token: null, period: null, from: null, to: null });
  assert.equal(S.periodHash(S.periodFor('7', '2026-11-25')), 'period=7');
  assert.equal(S.periodHash(S.periodFor('custom', '2026-11-25', { from: '2026-11-01', to: '2026-11-02' })), 'from=2026-11-01&to=2026-11-02');
});

test('jwtClaims reads the payload (unverified) and gives up on anything else', () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const t = `${b64({ alg: 'HS256' })}.${b64({ tenant_id: '00000000-0000-4000-8000-000000000001', name: 'Zoë' })}.sig`;
  assert.deepEqual(S.jwtClaims(t), { tenant_id: '00000000-0000-4000-8000-000000000001', name: 'Zoë' });
  assert.equal(S.jwtClaims('not a token'), null);
  assert.equal(S.jwtClaims('a.b.c'), null);
  assert.equal(S.jwtClaims(`x.${Buffer.from('"str"').toString('base64url')}.y`), null);
});
