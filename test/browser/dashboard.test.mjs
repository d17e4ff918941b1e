// Browser tests of the dashboard: Debian's chromium driven by playwright-core
// against the real stack (nginx serving dashboard/dist and proxying to
// PostgREST) that test/browser/run.sh starts over 90 days of demo data.
// Every figure the page shows is checked against what the API answers a
// REST client with the same token.  Screenshots go to test/browser/artifacts/.
import test, { after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(ROOT, 'dashboard/package.json'));
const { chromium } = require('playwright-core');
const { sign } = require(join(ROOT, 'http/jwt.js'));

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const RUN = process.env.HTTP_RUN_DIR;
const ART = join(ROOT, 'test/browser/artifacts');
const RATE_BURST = Number(process.env.TEST_RATE_BURST || 40);
const ENT = '00000000-0000-4000-8000-000000000001';
const PRO = '00000000-0000-4000-8000-000000000002';
const FREE = '00000000-0000-4000-8000-000000000005';
const EMPTY = '00000000-0000-4000-8000-0000000000e0';
const VIEWS = ['summary', 'heatmap', 'trends', 'agents', 'rotations', 'patterns', 'top'];

let seq = 0;
// A fresh token per page: its own rate-limit bucket and cache entries.
const tok = (tenant, secret = SECRET) =>
  sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `b${process.pid}-${++seq}` }, secret, 900);
const today = () => new Date().toISOString().slice(0, 10);
const dayMinus = (n) => new Date(Date.now() - n * 86400000).toISOString().slice(0, 10);
// The page takes its days from the browser's clock when it loads, the tests
// from this one when they assert: no test may straddle midnight UTC, so one
// that would start in the last two minutes of a UTC day waits for the next.
beforeEach(async () => {
  const toMidnight = 86400000 - (Date.now() % 86400000);
  if (toMidnight < 120000) await new Promise((res) => setTimeout(res, toMidnight + 1000));
});

async function api(path, token) {
  const r = await fetch(BASE + path, { headers: { Authorization: `Bearer ${token}` } });
  const body = await r.json();
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(body)}`);
  return body;
}

let browser;
const timings = {};

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
});
after(async () => {
  await browser?.close();
  writeFileSync(join(ART, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
});

// A page of a new context (no storage shared with other tests).
async function newPage(opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, ...opts });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.apiRequests = [];
  page.on('request', (r) => { if (!r.url().includes('/dashboard/')) page.apiRequests.push(new URL(r.url())); });
  return page;
}

// Open the dashboard signed in with token; wait for the given load.
async function openSignedIn(page, token, hash = '', loads = 1) {
  await page.goto(`${BASE}/dashboard/#${hash ? `${hash}&` : ''}token=${token}`);
  await page.waitForSelector(`#dashboard[data-loads="${loads}"]`, { timeout: 20000 });
}

// The option of a chart, as ECharts holds it, by element id.
function chartOption(page, id) {
  return page.evaluate(async (i) => (await window.analyticsDashboard.charts).chartById(i).getOption(), id);
}

async function panelStates(page) {
  return page.evaluate((views) => Object.fromEntries(views.map((v) => [v, document.getElementById(`panel-${v}`).dataset.state])), VIEWS);
}

async function shot(page, name, selector = null) {
  if (selector) await page.locator(selector).screenshot({ path: join(ART, `${name}.png`) });
  else await page.screenshot({ path: join(ART, `${name}.png`), fullPage: true });
}

test('the page loads signed in from the URL fragment, and the token leaves the address bar', async () => {
  const page = await newPage();
  const token = tok(ENT);
  await openSignedIn(page, token);
  assert.equal(await page.evaluate(() => window.location.hash), '#period=30');
  assert.ok(!(await page.evaluate(() => window.location.href)).includes(token));
  assert.match(await page.textContent('#tenant'), new RegExp(ENT));
  assert.deepEqual(await panelStates(page), Object.fromEntries(VIEWS.map((v) => [v, 'ready'])));
  assert.equal(await page.isVisible('#signin'), false);
  assert.equal(await page.isVisible('#empty'), false);
  // a reload keeps the session (sessionStorage of this tab), without the fragment
  await page.reload();
  await page.waitForSelector('#dashboard[data-loads="1"]');
  assert.equal(await page.evaluate(() => window.location.hash), '#period=30');
  // the token went to the API in the Authorization header only, never in a URL
  assert.ok(page.apiRequests.length >= 14);
  assert.ok(page.apiRequests.every((u) => !u.href.includes(token)));
  assert.deepEqual(page.errors, []);
  await shot(page, 'dashboard-full');
  for (const v of VIEWS) await shot(page, `view-${v}`, `#panel-${v}`);
  await page.context().close();
});

test('summary cards and heatmap cells show what the API answers for the tenant and period', async () => {
  const page = await newPage();
  const token = tok(ENT);
  await openSignedIn(page, token);
  const from = dayMinus(29);
  const to = today();
  const summary = await api(`/analytics/usage-summary?from=${from}&to=${to}`, token);
  const cards = await page.$$eval('#cards .card', (els) => els.map((e) => [e.dataset.key, e.dataset.value, e.textContent]));
  assert.equal(cards.length, 6);
  for (const [key, value] of cards) assert.equal(Number(value), summary.summary[key], key);
  const peak = cards.find((c) => c[0] === 'peakDailyApiCalls');
  assert.ok(peak[2].includes(`on ${summary.summary.peakDate}`), peak[2]);
  assert.ok(summary.summary.totalApiCalls > 0);
  assert.match(await page.textContent('#period-label'), new RegExp(`${from} to ${to} \\(30 days`));

  // the accessible table: all 168 cells with their counts and labels
  const heat = await api('/api/v1/analytics/agents/activity?days=30', token);
  const expected = new Map(heat.data.map((c) => [`${c.dow}:${c.hour}`, c.count]));
  const cells = await page.$$eval('#heatmap-table td', (tds) => tds.map((td) => [td.dataset.dow, td.dataset.hour, td.textContent, td.getAttribute('aria-label')]));
  assert.equal(cells.length, 168);
  let total = 0;
  for (const [dow, hour, text, label] of cells) {
    const want = expected.get(`${dow}:${hour}`) || 0;
    assert.equal(Number(text), want, `cell dow ${dow} hour ${hour}`);
    assert.match(label, new RegExp(`${String(hour).padStart(2, '0')}:00.* UTC: ${want.toLocaleString('en-US')} API call`));
    total += want;
  }
  assert.equal(total, heat.data.reduce((t, c) => t + c.count, 0));
  assert.ok(total > 0);

  // hovering the busiest cell of the chart shows its count
  const busiest = heat.data.reduce((a, c) => (c.count > a.count ? c : a));
  const row = [1, 2, 3, 4, 5, 6, 0].indexOf(busiest.dow);
  const [x, y] = await page.evaluate(async ([h, r]) => {
    const chart = (await window.analyticsDashboard.charts).chartById('chart-heatmap');
    return chart.convertToPixel({ seriesIndex: 0 }, [h, r]);
  }, [busiest.hour, row]);
  const box = await page.locator('#chart-heatmap').boundingBox();
  await page.mouse.move(box.x + x, box.y + y);
  const tip = page.locator('#chart-heatmap .chart-tooltip');
  await tip.waitFor({ state: 'visible' });
  const dayName = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][busiest.dow];
  assert.equal((await tip.textContent()).trim(),
    `${dayName} ${String(busiest.hour).padStart(2, '0')}:00–${String((busiest.hour + 1) % 24).padStart(2, '0')}:00 UTC: ${busiest.count.toLocaleString('en-US')} API calls`);
  await shot(page, 'view-heatmap-hover', '#panel-heatmap');
  await page.context().close();
});

test('every view renders what its endpoint answers: trends, agents, tables, top agents', async () => {
  const page = await newPage();
  const token = tok(PRO);
  await openSignedIn(page, token);
  const q = `from=${dayMinus(29)}&to=${today()}`;

  const trends = await api(`/analytics/token-trends?${q}`, token);
  const sum = (k) => trends.dataPoints.reduce((t, p) => t + p[k], 0);
  assert.equal(await page.textContent('#trend-totals'),
    `${sum('totalIssuances').toLocaleString('en-US')} issuances: ${sum('successfulIssuances').toLocaleString('en-US')} successful, ` +
    `${sum('failedIssuances').toLocaleString('en-US')} failed (by day).`);
  const trendOption = await chartOption(page, 'chart-trends');
  assert.deepEqual(trendOption.xAxis[0].data, trends.dataPoints.map((p) => p.date));
  assert.deepEqual(trendOption.series.map((s) => s.name), ['Successful', 'Failed', 'Unique agents']);
  assert.deepEqual(trendOption.series[1].data, trends.dataPoints.map((p) => p.failedIssuances));
  assert.deepEqual(trendOption.series[2].data, trends.dataPoints.map((p) => p.uniqueAgents));

  // week buckets: only token-trends is asked again, with granularity=week
  const before = page.apiRequests.length;
  await page.check('input[name="granularity"][value="week"]');
  await page.waitForFunction(() => document.getElementById('trend-totals').textContent.includes('(by week)'));
  const asked = page.apiRequests.slice(before);
  assert.equal(asked.length, 1);
  assert.equal(asked[0].pathname, '/analytics/token-trends');
  assert.equal(asked[0].searchParams.get('granularity'), 'week');
  const weekly = await api(`/analytics/token-trends?${q}&granularity=week`, token);
  const weekOption = await chartOption(page, 'chart-trends');
  assert.deepEqual(weekOption.xAxis[0].data, weekly.dataPoints.map((p) => p.date));

  // agent activity, then one agent through the filter
  const activity = await api(`/analytics/agent-activity?${q}`, token);
  const options = await page.$$eval('#agent-filter option', (os) => os.map((o) => o.value));
  assert.deepEqual(options, ['', ...activity.agents.map((a) => a.agentId)]);
  const one = activity.agents[1];
  await page.selectOption('#agent-filter', one.agentId);
  const agentOption = await chartOption(page, 'chart-agents');
  assert.deepEqual(agentOption.series.map((s) => s.name), ['API calls', 'Token issuances', 'Credential rotations']);
  assert.deepEqual(agentOption.series[0].data, one.dailyActivity.map((d) => d.apiCalls));
  assert.deepEqual(agentOption.series[2].data, one.dailyActivity.map((d) => d.credentialRotations));
  await shot(page, 'view-agents-one-agent', '#panel-agents');

  // the tables hold one row per agent / endpoint of the API's answer
  const rotations = await api(`/rpc/rotation_frequency?${q}`, token);
  const rotationNames = await page.$$eval('#table-rotations tbody tr th', (ths) => ths.map((t) => t.textContent));
  assert.deepEqual(rotationNames, rotations.agents.map((a) => a.agentName));
  const patterns = await api(`/rpc/call_patterns?${q}`, token);
  const patternRows = await page.$$eval('#table-patterns tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(patternRows.map((r) => `${r[0]} ${r[1]} ${r[2]}`),
    patterns.endpoints.map((e) => `${e.endpoint} ${e.method} ${e.calls.toLocaleString('en-US')}`));

  // top agents this month, most first
  const top = await api('/api/v1/analytics/agents', token);
  const topRows = await page.$$eval('#top-table tbody tr', (trs) => trs.map((tr) => Number(tr.children[1].textContent)));
  assert.deepEqual(topRows, top.data.slice(0, 10).map((a) => a.tokenCount));
  assert.match(await page.textContent('#top-note'), new RegExp(top.month));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('changing the period asks the API again and shows the new figures', async () => {
  const page = await newPage();
  const token = tok(ENT);
  await openSignedIn(page, token);
  let before = page.apiRequests.length;
  await page.selectOption('#period', '7');
  await page.waitForSelector('#dashboard[data-loads="2"]');
  const asked = page.apiRequests.slice(before);
  const summaryReq = asked.find((u) => u.pathname === '/analytics/usage-summary');
  assert.equal(summaryReq.searchParams.get('from'), dayMinus(6));
  assert.equal(summaryReq.searchParams.get('to'), today());
  assert.equal(asked.find((u) => u.pathname === '/api/v1/analytics/agents/activity').searchParams.get('days'), '7');
  assert.equal(asked.find((u) => u.pathname === '/rpc/call_patterns').searchParams.get('from'), dayMinus(6));
  assert.equal(await page.evaluate(() => window.location.hash), '#period=7');
  const s7 = await api(`/analytics/usage-summary?from=${dayMinus(6)}&to=${today()}`, token);
  assert.equal(Number(await page.getAttribute('#cards [data-key="totalApiCalls"]', 'data-value')), s7.summary.totalApiCalls);
  assert.equal(Number(await page.getAttribute('#cards [data-key="activeAgentCount"]', 'data-value')), s7.summary.activeAgentCount);

  // a custom range
  const from = dayMinus(60);
  const to = dayMinus(46);
  await page.selectOption('#period', 'custom');
  await page.fill('#from', from);
  await page.fill('#to', to);
  before = page.apiRequests.length;
  await page.click('#apply');
  await page.waitForSelector('#dashboard[data-loads="3"]');
  const custom = page.apiRequests.slice(before).find((u) => u.pathname === '/analytics/usage-summary');
  assert.deepEqual([custom.searchParams.get('from'), custom.searchParams.get('to')], [from, to]);
  const sc = await api(`/analytics/usage-summary?from=${from}&to=${to}`, token);
  assert.equal(Number(await page.getAttribute('#cards [data-key="totalApiCalls"]', 'data-value')), sc.summary.totalApiCalls);
  assert.equal(await page.evaluate(() => window.location.hash), `#from=${from}&to=${to}`);
  // the heatmap says which days it covers (it always ends today)
  assert.match(await page.textContent('#heatmap-note'), new RegExp(`from ${from} to ${today()}`));

  // a range the API would refuse is refused on the page, and nothing is asked
  await page.fill('#from', to);
  await page.fill('#to', from);
  before = page.apiRequests.length;
  await page.click('#apply');
  await page.waitForFunction(() => document.getElementById('status').dataset.kind === 'error');
  assert.match(await page.textContent('#status'), /start date is after the end date/);
  await page.fill('#from', dayMinus(400));
  await page.fill('#to', today());
  await page.click('#apply');
  await page.waitForFunction(() => /at most 365 days/.test(document.getElementById('status').textContent));
  assert.equal(page.apiRequests.length, before);

  // refresh on demand asks again
  await page.selectOption('#period', '30');
  await page.waitForSelector('#dashboard[data-loads="4"]');
  before = page.apiRequests.length;
  await page.click('#refresh');
  await page.waitForSelector('#dashboard[data-loads="5"]');
  assert.equal(page.apiRequests.length - before, VIEWS.length);
  await page.context().close();
});

test('auto-refresh asks again on its timer', async () => {
  const page = await newPage();
  await page.clock.install();
  await openSignedIn(page, tok(ENT));
  await page.selectOption('#auto', '30');
  const before = page.apiRequests.length;
  await page.clock.runFor(31000);
  await page.waitForSelector('#dashboard[data-loads="2"]');
  assert.equal(page.apiRequests.length - before, VIEWS.length);
  await page.context().close();
});

test('tables sort on their headers and export their rows as CSV', async () => {
  const page = await newPage();
  const token = tok(ENT);
  await openSignedIn(page, token);
  const rotations = await api(`/rpc/rotation_frequency?from=${dayMinus(29)}&to=${today()}`, token);

  await page.click('#table-rotations th button[data-key="averageDaysBetweenRotations"]');
  assert.equal(await page.getAttribute('#table-rotations th:has(button[data-key="averageDaysBetweenRotations"])', 'aria-sort'), 'descending');
  const avg = await page.$$eval('#table-rotations tbody tr', (trs) => trs.map((tr) => tr.children[5].textContent));
  const nums = avg.filter((v) => v !== '—').map(Number);
  assert.deepEqual(nums, [...nums].sort((a, b) => b - a));
  await page.click('#table-rotations th button[data-key="averageDaysBetweenRotations"]');
  assert.equal(await page.getAttribute('#table-rotations th:has(button[data-key="averageDaysBetweenRotations"])', 'aria-sort'), 'ascending');
  const shown = await page.$$eval('#table-rotations tbody tr th', (ths) => ths.map((t) => t.textContent));

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#panel-rotations button.csv')]);
  assert.equal(download.suggestedFilename(), `rotation-frequency_${dayMinus(29)}_${today()}.csv`);
  const csv = readFileSync(await download.path(), 'utf8');
  writeFileSync(join(ART, download.suggestedFilename()), csv);
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines[0], 'Agent,Agent id,Rotations,Days with a rotation,Last rotation,Average days between rotations');
  assert.equal(lines.length, rotations.agents.length + 1);
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), shown, 'the CSV keeps the order on screen');
  const byId = new Map(rotations.agents.map((a) => [a.agentId, a]));
  for (const l of lines.slice(1)) {
    const [, id, n, days, last, avgDays] = l.split(',');
    const a = byId.get(id);
    assert.deepEqual([Number(n), Number(days), last || null, avgDays === '' ? null : Number(avgDays)],
      [a.rotations, a.rotationDays, a.lastRotationDate, a.averageDaysBetweenRotations], id);
  }

  const patterns = await api(`/rpc/call_patterns?from=${dayMinus(29)}&to=${today()}`, token);
  await page.click('#table-patterns th button[data-key="p99"]');
  const p99 = await page.$$eval('#table-patterns tbody tr', (trs) => trs.map((tr) => Number(tr.children[8].textContent.replace(/,/g, ''))));
  assert.deepEqual(p99, [...p99].sort((a, b) => b - a));
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('#panel-patterns button.csv')]);
  const rows = readFileSync(await dl2.path(), 'utf8').trimEnd().split('\r\n');
  writeFileSync(join(ART, dl2.suggestedFilename()), rows.join('\r\n'));
  assert.equal(rows[0], 'Endpoint,Method,Calls,Successes,Failures,Success rate,p50 (ms),p95 (ms),p99 (ms)');
  assert.equal(rows.length, patterns.endpoints.length + 1);
  const ep = new Map(patterns.endpoints.map((e) => [`${e.endpoint} ${e.method}`, e]));
  for (const r of rows.slice(1)) {
    const f = r.split(',');
    const e = ep.get(`${f[0]} ${f[1]}`);
    assert.deepEqual(f.slice(2).map(Number), [e.calls, e.successes, e.failures, e.successRate, e.latencyMs.p50, e.latencyMs.p95, e.latencyMs.p99]);
  }
  await shot(page, 'view-rotations-sorted', '#panel-rotations');
  await page.context().close();
});

test('a free-tier token gets the 403 message: analytics needs Pro or Enterprise', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/dashboard/#token=${tok(FREE)}`);
  await page.waitForSelector('#notice:not([hidden])');
  assert.match(await page.textContent('#notice'), /Pro or Enterprise/);
  assert.match(await page.textContent('#notice'), /The API said: .+/);
  assert.equal(await page.isVisible('#dashboard'), false);
  assert.equal(await page.isVisible('#signin'), false);
  assert.equal(await page.isVisible('#controls'), false);
  await shot(page, 'state-403-free-tier');
  // another token can be given from there
  await page.click('#other-token');
  await page.waitForSelector('#signin:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.context().close();
});

test('a bad token gets the 401 prompt, and a pasted token signs in', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/dashboard/#token=${tok(ENT, 'x'.repeat(40))}`);
  await page.waitForSelector('#signin:not([hidden])');
  assert.match(await page.textContent('#signin-reason'), /missing, invalid or expired/);
  assert.equal(await page.isVisible('#dashboard'), false);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'the refused token is forgotten');
  await shot(page, 'state-401-prompt');
  await page.fill('#token-input', tok(PRO));
  await page.click('#signin button[type="submit"]');
  await page.waitForSelector('#dashboard[data-loads="1"]');
  assert.match(await page.textContent('#tenant'), new RegExp(PRO));
  // signing out asks again
  await page.click('#signout');
  await page.waitForSelector('#signin:not([hidden])');
  // no token at all: the prompt from the start
  const blank = await newPage();
  await blank.goto(`${BASE}/dashboard/`);
  await blank.waitForSelector('#signin:not([hidden])');
  assert.equal(await blank.isVisible('#controls'), false);
  await blank.context().close();
  await page.context().close();
});

test('a tenant with no events yet sees the empty state', async () => {
  const page = await newPage();
  await openSignedIn(page, tok(EMPTY));
  assert.equal(await page.isVisible('#empty'), true);
  const states = await panelStates(page);
  assert.equal(states.summary, 'ready');
  for (const v of VIEWS.filter((x) => x !== 'summary')) assert.equal(states[v], 'empty', v);
  assert.equal(await page.getAttribute('#cards [data-key="totalApiCalls"]', 'data-value'), '0');
  assert.match(await page.textContent('#panel-heatmap'), /No API calls in these days/);
  assert.equal(await page.isDisabled('#panel-rotations button.csv'), true);
  assert.deepEqual(page.errors, []);
  await shot(page, 'state-empty');
  await page.context().close();
});

test('429: the page waits for Retry-After, says so, and then shows the data', async () => {
  const page = await newPage();
  const token = tok(ENT);
  // keep this token's bucket full (four loops of requests) until the page
  // has been refused once
  let hammering = true;
  let refused = 0;
  let hammerRefused = 0;
  const hammer = async () => {
    while (hammering) {
      await fetch(`${BASE}/api/v1/analytics/agents`, { headers: { Authorization: `Bearer ${token}` } })
        .then((r) => { if (r.status === 429) hammerRefused += 1; return r.arrayBuffer(); }).catch(() => {});
    }
  };
  const loops = Array.from({ length: 4 }, hammer);
  page.on('response', (r) => { if (r.status() === 429) { refused += 1; hammering = false; } });
  try {
    // the page loads only once the bucket is full (a loaded machine may take
    // a while to fill it)
    for (let i = 0; i < 200 && hammerRefused === 0; i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(hammerRefused > 0, 'the tenant\'s bucket filled up');
    await page.goto(`${BASE}/dashboard/#token=${token}`);
    // the notice, as a warning, while the refused views wait
    await page.waitForFunction(() => {
      const s = document.getElementById('status');
      return /Too many requests: the server asked us to wait\. Retrying in \d+ s/.test(s.textContent) && s.dataset.kind === 'warning' &&
        document.querySelector('.panel[data-state="loading"] .panel-status')?.textContent.includes('rate limited');
    });
    await shot(page, 'state-429-waiting');
  } finally {
    hammering = false;
    await Promise.all(loops);
  }
  await page.waitForSelector('#dashboard[data-loads="1"]', { timeout: 20000 });
  assert.ok(refused > 0);
  assert.deepEqual(await panelStates(page), Object.fromEntries(VIEWS.map((v) => [v, 'ready'])));
  assert.match(await page.textContent('#status'), /Updated at/);
  await page.context().close();
});

test('nothing breaks on a narrow screen', async () => {
  const page = await newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  await openSignedIn(page, tok(ENT));
  const overflow = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
    wide: [...document.querySelectorAll('main > *, .panel > *:not(.table-wrap)')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.id || e.className),
  }));
  assert.ok(overflow.scroll <= overflow.width, JSON.stringify(overflow));
  assert.deepEqual(overflow.wide, []);
  // wide tables scroll inside their own box
  const wrap = await page.$eval('#panel-patterns .table-wrap', (e) => [e.scrollWidth > e.clientWidth, getComputedStyle(e).overflowX]);
  assert.deepEqual(wrap, [true, 'auto']);
  for (const v of VIEWS) {
    const box = await page.locator(`#panel-${v}`).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 361, `${v}: ${JSON.stringify(box)}`);
  }
  await shot(page, 'narrow-full');
  await page.context().close();
});

test('views have accessible names and the charts colour-blind-safe colours', async () => {
  const page = await newPage();
  await openSignedIn(page, tok(ENT));
  for (const v of VIEWS) {
    const name = await page.$eval(`#panel-${v}`, (s) => document.getElementById(s.getAttribute('aria-labelledby'))?.textContent);
    assert.ok(name && name.length > 3, v);
  }
  assert.match(await page.getAttribute('#chart-heatmap', 'aria-label'), /Heatmap of [\d,]+ API calls/);
  const colours = (await chartOption(page, 'chart-trends')).series.map((s) => s.color);
  assert.deepEqual(colours, ['#0072B2', '#D55E00', '#000000']);   // Okabe & Ito: blue, vermillion, black
  assert.equal(await page.$$eval('table.data th[scope="col"] button', (b) => b.length), 15);
  await page.context().close();
});

test('first meaningful paint with 90 days of demo data, and the bundle size (measured, reported)', async () => {
  // a browser that has run before (as a user's has): one load to warm it
  const warm = await newPage();
  await openSignedIn(warm, tok(ENT), 'period=90');
  await warm.context().close();
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const page = await newPage();
    await openSignedIn(page, tok(ENT), 'period=90');
    runs.push(await page.evaluate(() => ({
      meaningful: performance.getEntriesByName('dashboard:meaningful')[0]?.startTime,
      complete: performance.getEntriesByName('dashboard:complete')[0]?.startTime,
      firstContentfulPaint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    })));
    assert.equal(await page.textContent('#period-label'), `${dayMinus(89)} to ${today()} (90 days, UTC)`);
    await page.context().close();
  }
  const median = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  for (const r of runs) assert.ok(r.meaningful > 0 && r.complete >= r.meaningful && r.firstContentfulPaint > 0, JSON.stringify(r));
  const size = JSON.parse(readFileSync(join(ROOT, 'dashboard/dist/bundle-size.json'), 'utf8'));
  assert.ok(size.totalGzipBytes <= size.budgetGzipBytes);
  // what nginx serves is the precompressed file
  const js = readFileSync(join(ROOT, 'dashboard/dist/index.html'), 'utf8').match(/src="(assets\/main-[^"]+)"/)[1];
  const r = await fetch(`${BASE}/dashboard/${js}`, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(r.headers.get('content-encoding'), 'gzip');
  assert.match(r.headers.get('cache-control'), /immutable/);
  Object.assign(timings, {
    firstMeaningfulPaintMs: Math.round(median('meaningful')),
    allViewsDrawnMs: Math.round(median('complete')),
    firstContentfulPaintMs: Math.round(median('firstContentfulPaint')),
    runs: runs.length,
    period: '90 days',
    bundleGzipBytes: size.totalGzipBytes,
    bundleBytes: size.totalBytes,
  });
  console.log(`dashboard: first meaningful paint ${timings.firstMeaningfulPaintMs} ms (median of ${runs.length}), ` +
    `all views ${timings.allViewsDrawnMs} ms, bundle ${(size.totalGzipBytes / 1000).toFixed(1)} KB gzipped`);
});

test('an API error shows the API\'s message in each view', async () => {
  // analytics.enabled off: every function answers 404 NOT_FOUND
  const psql = (sql) => execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', sql]);
  const restart = () => execFileSync(join(ROOT, 'http/stack.sh'), ['restart-postgrest', RUN], { stdio: 'ignore' });
  psql(`ALTER DATABASE ${DB} SET analytics.enabled = off`);
  restart();
  try {
    const page = await newPage();
    await page.goto(`${BASE}/dashboard/#token=${tok(ENT)}`);
    await page.waitForFunction(() => document.getElementById('panel-summary').dataset.state === 'error');
    await page.waitForFunction(() => [...document.querySelectorAll('#dashboard .panel')].every((p) => p.dataset.state === 'error'));
    const text = await page.textContent('#panel-summary .panel-status');
    const r = await fetch(`${BASE}/analytics/usage-summary`, { headers: { Authorization: `Bearer ${tok(ENT)}` } });
    const body = await r.json();
    assert.equal(r.status, 404);
    assert.equal(text, `${body.message} (NOT_FOUND)`);
    assert.equal(await page.isVisible('#chart-heatmap'), false, 'no chart stays on show');
    assert.equal(await page.isVisible('#table-patterns'), false);
    assert.equal(await page.isDisabled('#panel-patterns button.csv'), true);
    await page.waitForSelector('#dashboard[data-loads="1"]');
    assert.match(await page.textContent('#status'), /7 of 7 views could not be loaded/);
    assert.equal(await page.getAttribute('#status', 'data-kind'), 'error');
    await shot(page, 'state-api-error');
    await page.context().close();
  } finally {
    psql(`ALTER DATABASE ${DB} RESET analytics.enabled`);
    restart();
  }
});
