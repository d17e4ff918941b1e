// Browser tests of the operations section's cost views (contract §6.4) and
// custom metric explorer (§6.5): Debian's chromium driven by playwright-core
// against the stack that test/browser/run.sh starts (90 days of demo data
// priced with the demo's price list, llama-3.1-70b unpriced; custom metric
// points of the platform and of two tenants).  Every figure is checked
// against the answer of its endpoint, fetched again with the same token;
// screenshots go to test/browser/artifacts/ops-costs-*.png and
// ops-metrics-*.png.
import test, { after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newPage as newOpsPage, openOps, asked } from './ops_page.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(ROOT, 'dashboard/package.json'));
const { chromium } = require('playwright-core');
const { sign } = require(join(ROOT, 'http/jwt.js'));

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const ART = join(ROOT, 'test/browser/artifacts');
const ENT = '00000000-0000-4000-8000-000000000001';
const PRO = '00000000-0000-4000-8000-000000000002';
const EMPTY = '00000000-0000-4000-8000-0000000000e0';
const COSTS = '/api/v1/analytics/costs';
const TREND = '/api/v1/analytics/costs/trend';
const NAMES = '/api/v1/analytics/metrics';
const STATS = (n) => `/api/v1/analytics/metrics/${n}/statistics`;
const SERIES = (n) => `/api/v1/analytics/metrics/${n}/time-series`;
const HOURS = { '24h': '24', '7d': '168', '30d': '720', '90d': '2160' };

let seq = 0;
const tenantTok = (tenant) => sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `c${process.pid}-${++seq}` }, SECRET, 900);
const opTok = () => sign({ role: 'analytics_operator', jti: `c${process.pid}-${++seq}` }, SECRET, 900);

// No test may straddle midnight UTC (the ranges are whole days).
beforeEach(async () => {
  const toMidnight = 86400000 - (Date.now() % 86400000);
  if (toMidnight < 120000) await new Promise((res) => setTimeout(res, toMidnight + 1000));
});

async function api(path, token, status = 200, init = {}) {
  const r = await fetch(BASE + path, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers || {}) } });
  const body = await r.json();
  assert.equal(r.status, status, `${path}: ${JSON.stringify(body)}`);
  return body;
}

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});
after(async () => { await browser?.close(); });

const newPage = () => newOpsPage(browser);
// The answer the page got for its request u, and the same request made by a
// REST client with the same token: they must be equal.
async function answerOf(page, u, token) {
  const got = page.answers.get(u.pathname + u.search);
  assert.ok(got, `no answer for ${u.pathname}${u.search}`);
  assert.deepEqual(await api(u.pathname + u.search, token), got, `${u.pathname}${u.search}`);
  return got;
}
const chartOption = (page, id) => page.evaluate(async (i) => (await window.analyticsDashboard.charts).chartById(i).getOption(), id);
const tableRows = (page, id) => page.$$eval(`#${id} tbody tr`, (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
const cardValues = (page, id) => page.$$eval(`#${id} .card`, (els) => Object.fromEntries(els.map((e) => [e.dataset.key, e.dataset.value])));
const num = (s) => Number(s.replace(/[$,]/g, '').replace(/ \+ unpriced$/, '').replace(/ [a-z]+$/, ''));
const state = (page, view) => page.getAttribute(`#ops-panel-${view}`, 'data-state');
async function shot(page, name, selector) {
  await page.locator(selector).screenshot({ path: join(ART, `${name}.png`) });
}

// The cost cell of a row: the cost with 6 decimals, 'unpriced' when every
// call of the row is unpriced, '+ unpriced' when some are: never a silent $0.
function checkCostCell(text, d, what) {
  if (d.unpricedCalls > 0 && d.unpricedCalls >= d.llmCalls) assert.equal(text, 'unpriced', what);
  else if (d.unpricedCalls > 0) assert.match(text, /^\$[\d,]+\.\d{6} \+ unpriced$/, what);
  else assert.match(text, /^\$[\d,]+\.\d{6}$/, what);
  if (text !== 'unpriced') assert.equal(num(text), d.costUsd, what);
}
// A costs table against the data of its answer, in order: the label, the
// key (ids), cost, calls and unpriced usage.
function checkCostTable(rows, body, withKey) {
  assert.equal(rows.length, body.data.length);
  body.data.forEach((d, i) => {
    const r = rows[i];
    const off = withKey ? 1 : 0;
    assert.equal(r[0], d.label ?? d.key ?? '(none)', `row ${i}`);
    if (withKey) assert.equal(r[1], d.key);
    checkCostCell(r[1 + off], d, `row ${i} ${d.key}`);
    assert.equal(num(r[3 + off]), d.llmCalls);
    assert.equal(num(r[8 + off]), d.unpricedCalls);
    assert.equal(num(r[9 + off]), d.unpricedTokens);
  });
}

test('operator: the cost views and the metric explorer show their endpoints\' answers (7 days, every tenant)', async () => {
  const page = await newPage();
  const token = opTok();
  await openOps(page, token);
  for (const v of ['costtrend', 'costmodels', 'costgroups', 'metrics']) assert.equal(await state(page, v), 'ready', v);
  assert.equal(await page.$('#ops-panel-later'), null, 'the "coming later" panel is gone (every part of the API has its view)');

  // the cost trend: by tenant (an operator over every tenant), top 5 + other
  const tu = asked(page, TREND);
  assert.deepEqual(Object.fromEntries(tu.searchParams), { period: '7d', granularity: 'day', group_by: 'tenant', top: '5' });
  const trend = await answerOf(page, tu, token);
  const to = await chartOption(page, 'chart-ops-costtrend');
  assert.deepEqual(to.xAxis[0].data, trend.buckets.map((b) => b.bucket));
  trend.series.forEach((s, i) => {
    assert.equal(to.series[i].name, s.label);
    assert.deepEqual(to.series[i].data, trend.buckets.map((b) => b.series[i].costUsd), s.label);
  });
  let next = trend.series.length;
  if (trend.buckets.some((b) => b.other !== 0)) {
    assert.equal(to.series[next].name, 'Other');
    assert.deepEqual(to.series[next++].data, trend.buckets.map((b) => b.other));
  }
  const unpricedCalls = trend.buckets.reduce((t, b) => t + b.unpricedCalls, 0);
  assert.ok(unpricedCalls > 0, 'the demo leaves llama-3.1-70b unpriced');
  assert.equal(to.series[next].name, 'Unpriced calls');
  assert.deepEqual(to.series[next].data, trend.buckets.map((b) => b.unpricedCalls));
  assert.equal(to.series.length, next + 1);
  assert.equal(await page.isVisible('#ops-costtrend-unpriced'), true);
  assert.match(await page.textContent('#ops-costtrend-unpriced'), new RegExp(`^${unpricedCalls.toLocaleString('en-US')} LLM calls used models with no price`));
  assert.match(await page.textContent('#ops-costtrend-note'), /today \(UTC\) is not over/);

  // costs by model: the totals as cards, the rows, unpriced usage visible
  const mu = asked(page, COSTS, { group_by: 'model' });
  assert.deepEqual(Object.fromEntries(mu.searchParams), { period: '7d', group_by: 'model' });
  const models = await answerOf(page, mu, token);
  const cards = await cardValues(page, 'ops-costs-cards');
  for (const k of ['costUsd', 'llmCalls', 'inputTokens', 'outputTokens', 'unpricedCalls']) assert.equal(Number(cards[k]), models.totals[k], k);
  assert.equal(await page.getAttribute('#ops-costs-cards [data-key="unpricedCalls"]', 'class'), 'card warn');
  const modelRows = await tableRows(page, 'ops-table-costmodels');
  checkCostTable(modelRows, models, false);
  const llama = models.data.find((d) => d.key === 'llama-3.1-70b');
  assert.ok(llama && llama.unpricedCalls === llama.llmCalls && llama.costUsd === 0);
  assert.equal(modelRows.find((r) => r[0] === 'llama-3.1-70b')[1], 'unpriced', 'never a silent $0');
  assert.match(await page.textContent('#ops-costmodels-unpriced'),
    new RegExp(`^${models.totals.unpricedCalls.toLocaleString('en-US')} LLM calls \\(${models.totals.unpricedTokens.toLocaleString('en-US')} tokens\\)`));

  // costs by a chosen group: tenants for an operator over every tenant
  const gu = asked(page, COSTS, { group_by: 'tenant' });
  assert.equal(gu.searchParams.get('period'), '7d');
  const groups = await answerOf(page, gu, token);
  assert.equal(await page.inputValue('#ops-costgroups-by'), 'tenant');
  assert.equal(await page.textContent('#ops-costgroups-name'), 'tenant');
  checkCostTable(await tableRows(page, 'ops-table-costgroups'), groups, true);

  // the metric explorer: the platform's metrics (no tenant picked)
  const names = await answerOf(page, asked(page, NAMES), token);
  assert.deepEqual(await page.$$eval('#ops-metric-name option', (o) => o.map((x) => x.value)), names.metrics.map((m) => m.metric_name));
  const first = names.metrics[0].metric_name;
  assert.equal(await page.inputValue('#ops-metric-name'), first);
  const su = asked(page, STATS(first));
  assert.deepEqual(Object.fromEntries(su.searchParams), { hours: '168' });
  const stats = await answerOf(page, su, token);
  assert.ok(stats.count > 0);
  const mc = await cardValues(page, 'ops-metric-cards');
  for (const k of ['count', 'avg', 'min', 'max', 'p50', 'p95', 'p99', 'sum']) assert.equal(Number(mc[k]), stats[k], k);
  if (stats.metric_type === 'counter') assert.equal(Number(mc.rate_per_second), stats.rate_per_second);
  const series = await answerOf(page, asked(page, SERIES(first), { hours: '168' }), token);
  const mo = await chartOption(page, 'chart-ops-metric');
  assert.deepEqual(mo.xAxis[0].data, series.data.map((b) => b.timestamp));
  assert.deepEqual(mo.series[0].data, series.data.map((b) => b.count));
  assert.deepEqual(mo.series[1].data.map((x) => x ?? null), series.data.map((b) => b.avg));
  assert.deepEqual(mo.series[2].data.map((x) => x ?? null), series.data.map((b) => b.p95));
  const mrows = await tableRows(page, 'ops-table-metrics');
  assert.deepEqual(mrows.map((r) => [r[0], num(r[1])]), series.data.map((b) => [b.timestamp, b.count]));
  assert.deepEqual(page.errors, []);

  for (const v of ['costtrend', 'costmodels', 'costgroups']) await shot(page, `ops-costs-${v}`, `#ops-panel-${v}`);
  await shot(page, 'ops-metrics-explorer', '#ops-panel-metrics');
  await page.context().close();
});

test('range changes ask the cost and metric views again; the pickers and tags ask their view again', async () => {
  const page = await newPage();
  await page.clock.install();
  const token = opTok();
  await openOps(page, token);
  let from = page.apiRequests.length;
  await page.selectOption('#ops-range', '30d');
  await page.waitForSelector('#ops[data-loads="2"]');
  assert.equal(asked(page, TREND, {}, from).searchParams.get('period'), '30d');
  assert.equal(asked(page, TREND, {}, from).searchParams.get('granularity'), 'day');
  assert.ok(asked(page, COSTS, { period: '30d', group_by: 'model' }, from));
  assert.ok(asked(page, COSTS, { period: '30d', group_by: 'tenant' }, from));
  const m30 = page.served(from).filter((u) => u.pathname.startsWith(`${NAMES}/`));
  assert.equal(m30.length, 2);
  for (const u of m30) assert.equal(u.searchParams.get('hours'), '720', u.pathname);
  const models30 = await answerOf(page, asked(page, COSTS, { group_by: 'model' }, from), token);
  checkCostTable(await tableRows(page, 'ops-table-costmodels'), models30, false);

  from = page.apiRequests.length;
  await page.selectOption('#ops-range', '24h');
  await page.waitForSelector('#ops[data-loads="3"]');
  const t24 = asked(page, TREND, {}, from);
  assert.deepEqual([t24.searchParams.get('period'), t24.searchParams.get('granularity')], ['24h', 'hour']);
  const trend24 = await answerOf(page, t24, token);
  assert.deepEqual((await chartOption(page, 'chart-ops-costtrend')).xAxis[0].data, trend24.buckets.map((b) => b.bucket));
  for (const u of page.served(from).filter((x) => x.pathname.startsWith(`${NAMES}/`))) assert.equal(u.searchParams.get('hours'), '24');

  // the trend's series: by model; only that view asks again
  from = page.apiRequests.length;
  await page.selectOption('#ops-costtrend-group', 'model');
  await page.waitForSelector('#ops[data-loads="4"]');
  assert.deepEqual(page.served(from).map((u) => u.pathname), [TREND]);
  const tm = await answerOf(page, asked(page, TREND, { group_by: 'model' }, from), token);
  assert.deepEqual((await chartOption(page, 'chart-ops-costtrend')).series.slice(0, tm.series.length).map((s) => s.name), tm.series.map((s) => s.label));

  // the table's group: by day
  await page.selectOption('#ops-range', '7d');
  await page.waitForSelector('#ops[data-loads="5"]');
  from = page.apiRequests.length;
  await page.selectOption('#ops-costgroups-by', 'day');
  await page.waitForSelector('#ops[data-loads="6"]');
  assert.deepEqual(page.served(from).map((u) => u.pathname), [COSTS]);
  const days = await answerOf(page, asked(page, COSTS, { group_by: 'day', period: '7d' }, from), token);
  assert.equal(await page.textContent('#ops-costgroups-name'), 'day');
  checkCostTable(await tableRows(page, 'ops-table-costgroups'), days, false);
  await shot(page, 'ops-costs-by-day', '#ops-panel-costgroups');

  // another metric, with a tag filter: statistics and series with the tags
  from = page.apiRequests.length;
  await page.selectOption('#ops-metric-name', 'queue.depth');
  await page.waitForSelector('#ops[data-loads="7"]');
  await page.fill('#ops-metric-tags', ' env = prod ');
  await page.click('#ops-metric-form button[type="submit"]');
  await page.waitForSelector('#ops[data-loads="8"]');
  const su = asked(page, STATS('queue.depth'), { tags: '{"env":"prod"}' }, from);
  assert.equal(su.searchParams.get('hours'), '168');
  const stats = await answerOf(page, su, token);
  const all = await api(`${STATS('queue.depth')}?hours=168`, token);
  assert.ok(stats.count > 0 && stats.count < all.count, 'the filter narrows');
  assert.equal(Number((await cardValues(page, 'ops-metric-cards')).count), stats.count);
  const series = await answerOf(page, asked(page, SERIES('queue.depth'), { tags: '{"env":"prod"}' }, from), token);
  assert.deepEqual((await chartOption(page, 'chart-ops-metric')).series[0].data, series.data.map((b) => b.count));
  assert.equal(await page.inputValue('#ops-metric-tags'), 'env=prod');
  assert.match(await page.textContent('#ops-metrics-note'), /tags env=prod/);
  await shot(page, 'ops-metrics-tags', '#ops-panel-metrics');
  // a bad filter asks nothing and says why
  from = page.apiRequests.length;
  await page.fill('#ops-metric-tags', 'env');
  await page.click('#ops-metric-form button[type="submit"]');
  await page.waitForFunction(() => /not name=value/.test(document.getElementById('status').textContent));
  assert.equal(page.apiRequests.length, from);
  // tags that match nothing: the empty state, CSV off
  await page.fill('#ops-metric-tags', 'env=nowhere');
  await page.click('#ops-metric-form button[type="submit"]');
  await page.waitForSelector('#ops[data-loads="9"]');
  assert.equal(await state(page, 'metrics'), 'empty');
  assert.match(await page.textContent('#ops-panel-metrics .panel-status'), /^No points of queue\.depth with tags env=nowhere in this range\.$/);
  assert.equal(await page.isDisabled('#ops-panel-metrics button.csv'), true);
  // the 30 s refresh asks the new views again too
  from = page.apiRequests.length;
  await page.clock.runFor(31000);
  await page.waitForSelector('#ops[data-loads="10"]');
  const again = page.served(from).map((u) => u.pathname);
  for (const p of [TREND, COSTS, NAMES, STATS('queue.depth'), SERIES('queue.depth')]) assert.ok(again.includes(p), p);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// RFC 4180 CSV (as the page writes it) -> rows of fields.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(f); rows.push(row); row = []; f = ''; i++; } else f += c;
  }
  return rows;
}
const raw = (s) => (s === '' ? null : /^-?\d+(\.\d+)?(e-?\d+)?$/.test(s) ? Number(s) : s.replace(/^'(?=[=+\-@])/, ''));
async function downloadCsv(page, table) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(`button.csv[data-ops-table="${table}"]`)]);
  const text = readFileSync(await d.path(), 'utf8');
  writeFileSync(join(ART, d.suggestedFilename()), text);
  return { name: d.suggestedFilename(), rows: parseCsv(text) };
}

test('CSV of the cost tables and of the metric\'s buckets holds the API\'s rows', async () => {
  const page = await newPage();
  const token = opTok();
  await openOps(page, token, 'section=ops&range=30d');
  const COST_HEAD = ['Cost (USD)', 'Share of cost', 'LLM calls', 'Input tokens', 'Cached input tokens', 'Cache-write tokens', 'Output tokens', 'Unpriced calls', 'Unpriced tokens'];
  const COST_KEYS = ['costUsd', 'share', 'llmCalls', 'inputTokens', 'cachedInputTokens', 'cacheWriteTokens', 'outputTokens', 'unpricedCalls', 'unpricedTokens'];
  const models = await answerOf(page, asked(page, COSTS, { group_by: 'model' }), token);
  let csv = await downloadCsv(page, 'costmodels');
  assert.equal(csv.name, 'ops-costs-by-model_30d.csv');
  assert.deepEqual(csv.rows[0], ['Model', ...COST_HEAD]);
  assert.deepEqual(csv.rows.slice(1).map((r) => r.map(raw)), models.data.map((d) => [d.label, ...COST_KEYS.map((k) => d[k])]));
  const tenants = await answerOf(page, asked(page, COSTS, { group_by: 'tenant' }), token);
  csv = await downloadCsv(page, 'costgroups');
  assert.equal(csv.name, 'ops-costs-by-tenant_30d.csv');
  assert.deepEqual(csv.rows[0], ['Tenant', 'Tenant id', ...COST_HEAD]);
  assert.deepEqual(csv.rows.slice(1).map((r) => r.map(raw)), tenants.data.map((d) => [d.label, d.key, ...COST_KEYS.map((k) => d[k])]));
  // sorted on screen (by unpriced calls): the CSV follows
  await page.click('#ops-table-costgroups th button[data-key="unpricedCalls"]');
  const shown = (await tableRows(page, 'ops-table-costgroups')).map((r) => r[1]);
  csv = await downloadCsv(page, 'costgroups');
  assert.deepEqual(csv.rows.slice(1).map((r) => r[1]), shown);
  // an MCP-server grouping: llm_calls without a server are a group of their own
  await page.selectOption('#ops-costgroups-by', 'mcp_server');
  await page.waitForSelector('#ops[data-loads="2"]');
  const servers = await answerOf(page, asked(page, COSTS, { group_by: 'mcp_server' }), token);
  csv = await downloadCsv(page, 'costgroups');
  assert.equal(csv.name, 'ops-costs-by-mcp-server_30d.csv');
  assert.deepEqual(csv.rows.slice(1).map((r) => r.map(raw)), servers.data.map((d) => [d.label ?? d.key ?? '(none)', ...COST_KEYS.map((k) => d[k])]));
  // the metric's buckets
  const name = await page.inputValue('#ops-metric-name');
  const series = await answerOf(page, asked(page, SERIES(name), { hours: '720' }), token);
  csv = await downloadCsv(page, 'metrics');
  assert.equal(csv.name, `ops-metric-${name}_30d.csv`);
  const MK = ['timestamp', 'count', 'sum', 'avg', 'min', 'max', 'p50', 'p95', 'p99'];
  assert.deepEqual(csv.rows[0], ['Bucket start (UTC)', 'Points', 'Sum', 'Average', 'Minimum', 'Maximum', 'p50', 'p95', 'p99']);
  assert.deepEqual(csv.rows.slice(1).map((r) => r.map(raw)), series.data.map((b) => MK.map((k) => b[k])));
  await page.context().close();
});

test('a tenant token sees its own costs and metrics only; an operator who picks a tenant sees that tenant\'s', async () => {
  // a point recorded over HTTP by the tenant shows in its explorer
  const token = tenantTok(ENT);
  const rec = await api('/api/v1/analytics/metrics/record', token, 200, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ metric_name: 'api.latency', value: 123.25, metric_type: 'timer', unit: 'ms', tags: { env: 'prod', region: 'eu' } }),
  });
  assert.equal(rec.recorded, 1);
  const page = await newPage();
  await openOps(page, token, `section=ops&range=7d&tenant=${PRO}`);
  assert.ok(page.apiRequests.every((u) => u.searchParams.get('tenantId') === null), 'a tenant never sends tenantId');
  // grouped by agent; no tenant grouping offered
  assert.equal(asked(page, TREND).searchParams.get('group_by'), 'agent');
  assert.equal(asked(page, COSTS, { group_by: 'agent' }).searchParams.get('period'), '7d');
  assert.equal(await page.$eval('#ops-costgroups-by option[value="tenant"]', (o) => o.hidden && o.disabled), true);
  assert.deepEqual(await page.$$eval('#ops-costgroups-by option:not([hidden])', (o) => o.map((x) => x.value)),
    ['agent', 'user', 'model', 'mcp_server', 'tool', 'day']);
  // its own costs: what the operator gets for this tenant, and nothing else
  const op = opTok();
  const mine = await api(`${COSTS}?period=7d&group_by=agent&tenantId=${ENT}`, op);
  const own = await answerOf(page, asked(page, COSTS, { group_by: 'agent' }), token);
  assert.equal(own.tenantId, ENT);
  assert.deepEqual(own.data, mine.data);
  const rows = await tableRows(page, 'ops-table-costgroups');
  assert.deepEqual(rows.map((r) => r[1]), mine.data.map((d) => d.key));
  assert.ok(mine.data.length > 0 && mine.data.every((d) => d.key.includes('-9001-')), 'agents of the enterprise tenant');
  const models = await answerOf(page, asked(page, COSTS, { group_by: 'model' }), token);
  assert.deepEqual(models.totals, (await api(`${COSTS}?period=7d&group_by=model&tenantId=${ENT}`, op)).totals);
  assert.equal(Number((await cardValues(page, 'ops-costs-cards')).costUsd), models.totals.costUsd);
  const trend = await answerOf(page, asked(page, TREND), token);
  assert.ok(trend.series.every((s) => s.key.includes('-9001-')));
  // its metrics: its own names only, the point just recorded counted
  assert.deepEqual(await page.$$eval('#ops-metric-name option', (o) => o.map((x) => x.value)), ['api.latency']);
  const stats = await answerOf(page, asked(page, STATS('api.latency')), token);
  assert.equal(stats.max, 123.25);
  assert.equal(Number((await cardValues(page, 'ops-metric-cards')).max), 123.25);
  await page.locator('#ops-panel-costgroups').screenshot({ path: join(ART, 'ops-costs-tenant.png') });
  await shot(page, 'ops-metrics-tenant', '#ops-panel-metrics');
  // another tenant's metric is unknown to it
  const other = await api(`${STATS('pro.only')}?hours=168`, token, 404);
  assert.equal(other.code, 'METRIC_NOT_FOUND');
  await page.context().close();

  // the operator picks the pro tenant: its costs by agent, its metrics
  const p = await newPage();
  await openOps(p, op, `section=ops&range=7d&tenant=${PRO}`);
  assert.equal(asked(p, TREND).searchParams.get('group_by'), 'agent');
  assert.equal(asked(p, TREND).searchParams.get('tenantId'), PRO);
  assert.equal(await p.$eval('#ops-costtrend-group option[value="tenant"]', (o) => o.hidden && o.disabled), true);
  const pro = await answerOf(p, asked(p, COSTS, { group_by: 'agent' }), op);
  assert.equal(pro.tenantId, PRO);
  assert.deepEqual((await tableRows(p, 'ops-table-costgroups')).map((r) => r[1]), pro.data.map((d) => d.key));
  assert.equal(asked(p, NAMES).searchParams.get('tenantId'), PRO);
  assert.deepEqual(await p.$$eval('#ops-metric-name option', (o) => o.map((x) => x.value)), ['pro.only']);
  assert.equal(asked(p, STATS('pro.only')).searchParams.get('tenantId'), PRO);
  await p.context().close();
});

test('loading, empty, error and permission states of the cost and metric views', async () => {
  // empty: a tenant with no events and no metrics
  const page = await newPage();
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/api/v1/analytics/costs/trend?*', async (route) => { await held; await route.continue(); });
  await page.goto(`${BASE}/dashboard/#section=ops&range=7d&token=${tenantTok(EMPTY)}`);
  await page.waitForSelector('#ops-panel-costtrend[data-state="loading"][aria-busy="true"]');
  assert.equal(await page.textContent('#ops-panel-costtrend .panel-status'), 'Loading…');
  release();
  await page.waitForSelector('#ops[data-loads="1"]');
  for (const v of ['costtrend', 'costmodels', 'costgroups', 'metrics']) assert.equal(await state(page, v), 'empty', v);
  assert.equal(await page.textContent('#ops-panel-costtrend .panel-status'), 'No LLM calls in this range.');
  assert.equal(await page.textContent('#ops-panel-costmodels .panel-status'), 'No LLM calls in this range.');
  assert.match(await page.textContent('#ops-panel-metrics .panel-status'), /^This tenant has recorded no custom metrics yet/);
  for (const t of ['costmodels', 'costgroups', 'metrics']) assert.equal(await page.isDisabled(`button.csv[data-ops-table="${t}"]`), true, t);
  assert.equal(await page.isVisible('#ops-costtrend-unpriced'), false);
  await shot(page, 'ops-costs-empty', '#ops-panel-costmodels');
  await shot(page, 'ops-metrics-empty', '#ops-panel-metrics');

  // an error of one view (here a 400 forced on the trend) shows the API's
  // message; a refused view (403 FORBIDDEN) the permission state
  await page.route('**/api/v1/analytics/costs/trend?*', (route) => {
    const u = new URL(route.request().url());
    u.searchParams.set('top', '99');
    route.continue({ url: u.href });
  });
  await page.route('**/api/v1/analytics/costs?*', (route) => {
    const u = new URL(route.request().url());
    u.searchParams.set('tenantId', PRO);
    route.continue({ url: u.href });
  });
  await page.click('#ops-refresh');
  await page.waitForSelector('#ops[data-loads="2"]');
  assert.equal(await state(page, 'costtrend'), 'error');
  assert.match(await page.textContent('#ops-panel-costtrend .panel-status'), /top must be an integer from 1 to 20 \(VALIDATION_ERROR\)$/);
  assert.equal(await page.isVisible('#chart-ops-costtrend'), false);
  for (const v of ['costmodels', 'costgroups']) {
    assert.equal(await state(page, v), 'denied', v);
    assert.match(await page.textContent(`#ops-panel-${v} .panel-status`), /^Not available to this token: .+\(FORBIDDEN\)$/);
    assert.equal(await page.isVisible(`#ops-table-${v}`), false);
  }
  assert.equal(await page.isVisible('#ops-costs-cards'), false);
  await shot(page, 'ops-costs-error', '#ops-panel-costtrend');
  await shot(page, 'ops-costs-denied', '#ops-panel-costmodels');
  await page.context().close();
});
