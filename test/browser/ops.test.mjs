// Browser tests of the dashboard's operations section (contract §6.3):
// Debian's chromium driven by playwright-core against the stack that
// test/browser/run.sh starts over 90 days of demo data.  Every view is
// checked against the answer of its endpoint; screenshots go to
// test/browser/artifacts/ops-*.png, the measured paint to ops-timings.json.
import test, { after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newPage as newOpsPage, openOps } from './ops_page.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(ROOT, 'dashboard/package.json'));
const { chromium } = require('playwright-core');
const { sign } = require(join(ROOT, 'http/jwt.js'));

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const SECRET = process.env.ANALYTICS_JWT_SECRET;
const DB = process.env.ANALYTICS_DB;
const ART = join(ROOT, 'test/browser/artifacts');
const ENT = '00000000-0000-4000-8000-000000000001';
const PRO = '00000000-0000-4000-8000-000000000002';
const EMPTY = '00000000-0000-4000-8000-0000000000e0';
const ALL = ['realtime', 'overview', 'agents', 'top', 'tools', 'heatmap', 'workflows', 'errors', 'errorcodes', 'platform', 'health'];
// the cost views and the metric explorer (ops_costs.test.mjs checks them):
// three requests of costs, and three of the explorer (names, statistics and
// time series of the first of the platform's metrics that run.sh records)
// and service health and incidents (ops_health.test.mjs): the status page,
// the first service's timeline and SLA; the incidents and the alert rules
const COST_METRIC_VIEWS = ['costtrend', 'costmodels', 'costgroups', 'metrics', 'services', 'incidents'];
const REQUESTS = ALL.length + 6 + 5;
const METRICS = '/api/v1/analytics/metrics';
const PATHS = {
  realtime: '/api/analytics/sessions/activity', overview: '/api/v1/analytics/dashboard', agents: '/api/analytics/agents/usage',
  top: '/api/v1/analytics/top-agents', tools: '/api/analytics/tools/usage', heatmap: '/api/v1/analytics/tools/heatmap',
  workflows: '/api/analytics/workflows/performance', errors: '/api/v1/analytics/errors/trends', errorcodes: '/api/analytics/errors/summary',
  platform: '/api/v1/analytics/platform/trends', health: '/api/analytics/health',
};

let seq = 0;
const tenantTok = (tenant) => sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `o${process.pid}-${++seq}` }, SECRET, 900);
const opTok = () => sign({ role: 'analytics_operator', jti: `o${process.pid}-${++seq}` }, SECRET, 900);
const psql = (sql) => execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', sql], { encoding: 'utf8' }).trim();

// No test may straddle midnight UTC (the ranges are whole days).
beforeEach(async () => {
  const toMidnight = 86400000 - (Date.now() % 86400000);
  if (toMidnight < 120000) await new Promise((res) => setTimeout(res, toMidnight + 1000));
});

async function api(path, token, status = 200) {
  const r = await fetch(BASE + path, { headers: { Authorization: `Bearer ${token}` } });
  const body = await r.json();
  assert.equal(r.status, status, `${path}: ${JSON.stringify(body)}`);
  return body;
}

let browser;
const timings = {};
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});
after(async () => {
  await browser?.close();
  writeFileSync(join(ART, 'ops-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
});

const newPage = (opts = {}) => newOpsPage(browser, opts);
const states = (page) => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#ops .panel[id^="ops-panel-"]')]
  .filter((p) => !p.hidden && p.dataset.state).map((p) => [p.id.slice(10), p.dataset.state])));
const chartOption = (page, id) => page.evaluate(async (i) => (await window.analyticsDashboard.charts).chartById(i).getOption(), id);
const tableRows = (page, id) => page.$$eval(`#${id} tbody tr`, (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
async function shot(page, name, selector = null) {
  if (selector) await page.locator(selector).screenshot({ path: join(ART, `${name}.png`) });
  else await page.screenshot({ path: join(ART, `${name}.png`), fullPage: true });
}

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
// A CSV cell back to the raw value it holds ('' = null).
const raw = (s) => (s === '' ? null : /^-?\d+(\.\d+)?(e-?\d+)?$/.test(s) ? Number(s) : s.replace(/^'(?=[=+\-@])/, ''));

async function downloadCsv(page, table) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(`button.csv[data-ops-table="${table}"]`)]);
  const text = readFileSync(await d.path(), 'utf8');
  writeFileSync(join(ART, d.suggestedFilename()), text);
  return { name: d.suggestedFilename(), rows: parseCsv(text) };
}

test('operator: every operations view shows its endpoint\'s answer (7 days, every tenant)', async () => {
  const page = await newPage();
  const token = opTok();
  await openOps(page, token);
  assert.equal(await page.evaluate(() => window.location.hash), '#section=ops&range=7d');
  assert.deepEqual(await states(page), Object.fromEntries([...ALL, ...COST_METRIC_VIEWS].map((v) => [v, 'ready']).concat([['agenttable', 'ready']])));
  assert.equal(await page.isVisible('#sections'), false, 'an operator has no tenant views');
  assert.equal(await page.isVisible('#dashboard'), false);
  assert.equal(await page.isVisible('#ops-tenant'), true);
  // one request per view, with the range, and no tenant
  for (const v of ALL) {
    const u = page.apiRequests.find((r) => r.pathname === PATHS[v]);
    assert.ok(u, v);
    assert.equal(u.searchParams.get('period'), v === 'realtime' ? '24h' : v === 'health' ? null : '7d', v);
    assert.equal(u.searchParams.get('tenantId'), null);
  }
  // a REST client with the same token gets the same answers (day ranges)
  const got = (v) => page.byPath.get(PATHS[v]).body;
  for (const v of ['agents', 'top', 'tools', 'heatmap', 'workflows', 'errors', 'errorcodes', 'platform']) {
    const u = page.byPath.get(PATHS[v]).url;
    assert.deepEqual(await api(`${u.pathname}${u.search}`, token), got(v), v);
  }

  // real-time figures
  const rt = got('realtime');
  const cards = Object.fromEntries(await page.$$eval('#ops-realtime-cards .card', (els) => els.map((e) => [e.dataset.key, e.dataset.value])));
  assert.deepEqual(cards, { activeSessions: String(rt.activeSessions), queriesPerHour: String(Math.round((rt.executions / 24) * 10) / 10),
    avgResponseTimeMs: rt.avgResponseTimeMs === null ? '' : String(rt.avgResponseTimeMs), successRate: String(rt.successRate) });
  // the overview (dashboard)
  const m = got('overview').current_metrics;
  const ov = Object.fromEntries(await page.$$eval('#ops-overview-cards .card', (els) => els.map((e) => [e.dataset.key, Number(e.dataset.value)])));
  assert.deepEqual(ov, { events: m.events.total, calls: m.calls.total, sessions: m.sessions.total, users: m.users.total, agents: m.agents.total, tokens: m.tokens.total });
  // agent distribution: the 10 busiest, the rest summed
  const au = got('agents');
  const bars = (await chartOption(page, 'chart-ops-agents')).series[0].data;
  const execs = au.agents.map((a) => a.executions).filter((x) => x > 0).sort((a, b) => b - a);
  assert.deepEqual(bars, [...execs.slice(0, 10), ...(execs.length > 10 ? [execs.slice(10).reduce((t, x) => t + x, 0)] : [])]);
  assert.deepEqual((await tableRows(page, 'ops-table-agenttable')).map((r) => [r[1], Number(r[2].replace(/,/g, ''))]),
    au.agents.map((a) => [a.agentId, a.executions]));
  // top agents
  assert.deepEqual((await tableRows(page, 'ops-table-top')).map((r) => [Number(r[0]), r[2], Number(r[3].replace(/,/g, ''))]),
    got('top').agents.map((a) => [a.rank, a.agentId, a.calls]));
  // tools
  assert.deepEqual((await tableRows(page, 'ops-table-tools')).map((r) => [r[0], r[1], Number(r[2].replace(/,/g, ''))]),
    got('tools').tools.map((t) => [t.tool, t.mcpServer, t.calls]));
  // the tool heatmap: all 168 cells, every tool summed
  const want = new Map();
  for (const c of got('heatmap').cells) want.set(`${c.dow}:${c.hour}`, (want.get(`${c.dow}:${c.hour}`) || 0) + c.count);
  const cells = await page.$$eval('#ops-heatmap-table td', (tds) => tds.map((td) => [td.dataset.dow, td.dataset.hour, Number(td.textContent)]));
  assert.equal(cells.length, 168);
  for (const [dow, hour, n] of cells) assert.equal(n, want.get(`${dow}:${hour}`) || 0, `${dow}:${hour}`);
  // workflows: the daily series
  const wf = got('workflows');
  const wo = await chartOption(page, 'chart-ops-workflows');
  assert.deepEqual(wo.xAxis[0].data, wf.series.map((s) => s.date));
  assert.deepEqual(wo.series[1].data, wf.series.map((s) => s.failures));
  assert.deepEqual(wo.series[2].data, wf.series.map((s) => s.p95));
  assert.deepEqual((await tableRows(page, 'ops-table-workflows')).map((r) => Number(r[1].replace(/,/g, ''))), wf.workflowTypes.map((w) => w.runs));
  // error trends: failures and the rate per day; today marked partial
  const et = got('errors');
  const eo = await chartOption(page, 'chart-ops-errors');
  assert.deepEqual(eo.xAxis[0].data, et.buckets.map((b) => b.bucket));
  assert.deepEqual(eo.series[0].data, et.buckets.map((b) => b.failures));
  assert.deepEqual(eo.series[1].data, et.buckets.map((b) => b.errorRate));
  assert.match(await page.textContent('#ops-errors-note'), /today \(UTC\) is not over/);
  assert.deepEqual((await tableRows(page, 'ops-table-errorcodes')).map((r) => [r[0], Number(r[1].replace(/,/g, ''))]),
    got('errorcodes').byCode.map((c) => [c.errorCode, c.count]));
  // platform trends and health (operator details)
  assert.deepEqual((await tableRows(page, 'ops-table-platform')).map((r) => [r[0], Number(r[6].replace(/,/g, ''))]),
    got('platform').trends.map((t) => [t.date, t.events]));
  const health = got('health');
  assert.equal(await page.textContent('#ops-health-figures [data-key="status"]'), health.status);
  assert.equal(await page.textContent('#ops-health-figures [data-key="version"]'), health.version);
  assert.deepEqual(page.errors, []);

  await shot(page, 'ops-full');
  for (const v of ['realtime', 'overview', 'agents', 'top', 'tools', 'heatmap', 'workflows', 'errors', 'errorcodes', 'platform', 'health']) {
    await shot(page, `ops-view-${v}`, `#ops-panel-${v}`);
  }
  await page.context().close();
});

test('range changes ask again; Refresh and the 30 s timer too; a tenant picked narrows every view', async () => {
  const page = await newPage();
  await page.clock.install();
  const token = opTok();
  await openOps(page, token);
  assert.equal(await page.isChecked('#ops-auto'), true, 'refresh is on by default');
  let before = page.apiRequests.length;
  await page.selectOption('#ops-range', '30d');
  await page.waitForSelector('#ops[data-loads="2"]');
  let asked = page.served(before);
  assert.equal(asked.length, REQUESTS);
  for (const u of asked.filter((r) => ![PATHS.realtime, PATHS.health, '/rpc/alert_rules'].includes(r.pathname) && !r.pathname.startsWith(METRICS) &&
    !r.pathname.startsWith('/api/v1/analytics/monitoring/'))) {
    assert.equal(u.searchParams.get('period'), '30d', u.pathname);
  }
  assert.equal(await page.evaluate(() => window.location.hash), '#section=ops&range=30d');
  const a30 = await api('/api/analytics/agents/usage?period=30d', token);
  assert.deepEqual((await tableRows(page, 'ops-table-agenttable')).map((r) => r[1]), a30.agents.map((a) => a.agentId));

  before = page.apiRequests.length;
  await page.selectOption('#ops-range', '24h');
  await page.waitForSelector('#ops[data-loads="3"]');
  asked = page.served(before);
  assert.equal(asked.find((u) => u.pathname === PATHS.errors).searchParams.get('granularity'), 'hour');
  assert.equal(asked.find((u) => u.pathname === PATHS.platform).searchParams.get('granularity'), 'hour');
  const eo = await chartOption(page, 'chart-ops-errors');
  assert.deepEqual(eo.xAxis[0].data, page.byPath.get(PATHS.errors).body.buckets.map((b) => b.bucket));

  before = page.apiRequests.length;
  await page.click('#ops-refresh');
  await page.waitForSelector('#ops[data-loads="4"]');
  assert.equal(page.served(before).length, REQUESTS);
  before = page.apiRequests.length;
  await page.clock.runFor(31000);
  await page.waitForSelector('#ops[data-loads="5"]');
  assert.equal(page.served(before).length, REQUESTS);
  // four loads in a few seconds may outrun the token's bucket (20/s, bursts
  // of 40): a refused request is asked again, and no view ends in error
  assert.deepEqual(Object.entries(await states(page)).filter(([, st]) => st === 'error'), []);
  // off: the timer asks nothing
  await page.uncheck('#ops-auto');
  before = page.apiRequests.length;
  await page.clock.runFor(61000);
  assert.equal(page.apiRequests.length, before);

  // the operator picks a tenant: every view asks for it
  await page.selectOption('#ops-range', '7d');
  await page.waitForSelector('#ops[data-loads="6"]');
  before = page.apiRequests.length;
  await page.fill('#ops-tenant', PRO);
  await page.press('#ops-tenant', 'Enter');
  await page.dispatchEvent('#ops-tenant', 'change');
  await page.waitForSelector('#ops[data-loads="7"]');
  asked = page.served(before);
  for (const u of asked.filter((r) => r.pathname !== PATHS.health)) assert.equal(u.searchParams.get('tenantId'), PRO, u.pathname);
  const pro = await api(`/api/analytics/agents/usage?period=7d&tenantId=${PRO}`, token);
  assert.deepEqual((await tableRows(page, 'ops-table-agenttable')).map((r) => r[1]), pro.agents.map((a) => a.agentId));
  assert.match(await page.textContent('#ops-label'), new RegExp(`tenant ${PRO}`));
  assert.equal(await page.evaluate(() => window.location.hash), `#section=ops&range=7d&tenant=${PRO}`);
  await page.context().close();
});

test('429: each refused view waits for Retry-After, says so, and then shows its answer', async () => {
  const page = await newPage();
  const token = opTok();
  // keep this token's bucket full (four loops of requests) until the page
  // has been refused once
  let hammering = true;
  let hammerRefused = 0;
  let refused = 0;
  const hammer = async () => {
    while (hammering) {
      await fetch(`${BASE}${PATHS.health}`, { headers: { Authorization: `Bearer ${token}` } })
        .then((r) => { if (r.status === 429) hammerRefused += 1; return r.arrayBuffer(); }).catch(() => {});
    }
  };
  const loops = Array.from({ length: 4 }, hammer);
  page.on('response', (r) => { if (r.status() === 429 && !r.url().includes('/dashboard/')) { refused += 1; hammering = false; } });
  try {
    for (let i = 0; i < 200 && hammerRefused === 0; i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(hammerRefused > 0, 'the token\'s bucket filled up');
    await page.goto(`${BASE}/dashboard/#section=ops&range=7d&token=${token}`);
    await page.waitForFunction(() => {
      const s = document.getElementById('status');
      return /Too many requests: the server asked us to wait\. Retrying in \d+ s/.test(s.textContent) && s.dataset.kind === 'warning';
    }, null, { timeout: 20000 });
  } finally {
    hammering = false;
    await Promise.all(loops);
  }
  await page.waitForSelector('#ops[data-loads="1"]', { timeout: 30000 });
  assert.ok(refused > 0, 'the page was refused at least once');
  assert.ok(page.apiRequests.some((u) => u.limited), 'a refused request is marked');
  assert.deepEqual(await states(page), Object.fromEntries([...ALL, ...COST_METRIC_VIEWS].map((v) => [v, 'ready']).concat([['agenttable', 'ready']])));
  // every refused request was asked again and served
  for (const u of page.apiRequests.filter((x) => x.limited)) {
    assert.ok(page.served().some((x) => x.href === u.href), `${u.pathname}${u.search} asked again`);
  }
  assert.match(await page.textContent('#status'), /Updated at/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('CSV export of every table holds the API\'s rows, in the order shown', async () => {
  const page = await newPage();
  const token = opTok();
  await openOps(page, token, 'section=ops&range=30d');
  const got = (v) => page.byPath.get(PATHS[v]).body;
  const check = async (table, header, rows, keys) => {
    const csv = await downloadCsv(page, table);
    assert.match(csv.name, /^ops-[a-z-]+_30d\.csv$/);
    assert.deepEqual(csv.rows[0], header, table);
    assert.deepEqual(csv.rows.slice(1).map((r) => r.map(raw)), rows.map((x) => keys.map((k) => x[k] ?? null)), table);
  };
  await check('top', ['Rank', 'Agent', 'Agent id', 'Executions', 'Tokens', 'Failures'], got('top').agents.map((a) => ({ ...a, agentName: a.agentName })),
    ['rank', 'agentName', 'agentId', 'calls', 'tokens', 'failures']);
  await check('agenttable', ['Agent', 'Agent id', 'Executions', 'Share', 'Successes', 'Failures', 'Timeouts', 'p50 (ms)', 'p95 (ms)', 'Average (ms)', 'Tool calls', 'LLM calls', 'Tokens'],
    got('agents').agents.map((a) => ({ ...a, p50: a.durationMs.p50, p95: a.durationMs.p95, avg: a.durationMs.avg, tokens: a.inputTokens + a.outputTokens })),
    ['agentName', 'agentId', 'executions', 'share', 'successes', 'failures', 'timeouts', 'p50', 'p95', 'avg', 'toolCalls', 'llmCalls', 'tokens']);
  await check('tools', ['Tool', 'MCP server', 'Calls', 'Success rate', 'Failures', 'p50 (ms)', 'p95 (ms)', 'Agents', 'Last called (UTC)'],
    got('tools').tools.map((t) => ({ ...t, p50: t.latencyMs.p50, p95: t.latencyMs.p95 })),
    ['tool', 'mcpServer', 'calls', 'successRate', 'failures', 'p50', 'p95', 'agents', 'lastCalledAt']);
  await check('workflows', ['Workflow type', 'Runs', 'Success rate', 'Failures', 'p50 (ms)', 'p95 (ms)', 'Agents per run', 'Tool calls per run'],
    got('workflows').workflowTypes.map((w) => ({ ...w, p50: w.durationMs.p50, p95: w.durationMs.p95 })),
    ['workflowType', 'runs', 'successRate', 'failures', 'p50', 'p95', 'avgAgentsPerRun', 'avgToolCallsPerRun']);
  await check('errorcodes', ['Error code', 'Failures', 'Last seen (UTC)'], got('errorcodes').byCode, ['errorCode', 'count', 'lastSeenAt']);
  const pk = ['date', 'active_tenants', 'active_agents', 'new_agents', 'active_users', 'new_users', 'events', 'failures', 'error_rate', 'api_p95', 'tokens'];
  await check('platform', ['Bucket', 'Active tenants', 'Active agents', 'New agents', 'Active users', 'New users', 'Events', 'Failures', 'Error rate', 'API p95 (ms)', 'Tokens'],
    got('platform').trends, pk);
  // sorted on screen: the CSV follows
  await page.click('#ops-table-tools th button[data-key="failures"]');
  const shown = (await tableRows(page, 'ops-table-tools')).map((r) => `${r[0]} ${r[1]}`);
  const csv = await downloadCsv(page, 'tools');
  assert.deepEqual(csv.rows.slice(1).map((r) => `${r[0]} ${r[1]}`), shown);
  await page.context().close();
});

test('drill-down: an agent, a tool, a session and its executions, in time order', async () => {
  const page = await newPage();
  const token = opTok();
  await openOps(page, token, 'section=ops&range=30d');
  // an agent from the table
  const agent = page.byPath.get(PATHS.agents).body.agents[0];
  await page.click(`#ops-table-agenttable tbody tr:first-child button[data-detail="agent"]`);
  await page.waitForSelector('#ops-panel-detail[data-state="ready"]');
  const a = await api(`/api/v1/analytics/agent/${agent.agentId}?period=30d`, token);
  const t = await api(`/api/v1/analytics/agent/${agent.agentId}/trends?period=30d&granularity=day`, token);
  assert.equal(await page.textContent('#ops-detail-figures [data-key="total_calls"]'), a.total_calls.toLocaleString('en-US'));
  assert.equal(await page.textContent('#ops-detail-figures [data-key="agent_id"]'), agent.agentId);
  assert.deepEqual((await tableRows(page, 'ops-table-detail')).map((r) => [r[0], Number(r[1].replace(/,/g, ''))]), t.trends.map((x) => [x.date, x.total_calls]));
  const ac = await downloadCsv(page, 'detail');
  assert.equal(ac.name, `ops-agent-${agent.agentId}_30d.csv`);
  assert.deepEqual(ac.rows.slice(1).map((r) => [r[0], Number(r[1]), Number(r[2])]), t.trends.map((x) => [x.date, x.total_calls, x.failed_calls]));
  await shot(page, 'ops-detail-agent', '#ops-panel-detail');

  // a tool: its own heatmap
  const tool = page.byPath.get(PATHS.tools).body.tools[0];
  await page.click('#ops-table-tools tbody tr:first-child button[data-detail="tool"]');
  await page.waitForFunction((name) => document.getElementById('h-ops-detail').textContent === `Tool: ${name}` &&
    document.getElementById('ops-panel-detail').dataset.state === 'ready', tool.tool);
  const th = await api(`/api/v1/analytics/tools/heatmap?period=30d&tool=${tool.tool}`, token);
  assert.equal(await page.textContent('#ops-detail-figures [data-key="calls"]'), th.cells.reduce((x, c) => x + c.count, 0).toLocaleString('en-US'));
  await shot(page, 'ops-detail-tool', '#ops-panel-detail');

  // a session by its id: its events in time order; then one of its executions
  const sid = psql(`SELECT session_id FROM analytics.usage_events WHERE tenant_id = '${ENT}' AND session_id IS NOT NULL AND execution_id IS NOT NULL
                    AND occurred_at < now() - interval '1 day' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`);
  await page.fill('#ops-lookup-id', sid);
  await page.click('#ops-lookup button[type="submit"]');
  await page.waitForFunction((s) => document.getElementById('h-ops-detail').textContent === `Session: ${s}` &&
    document.getElementById('ops-panel-detail').dataset.state === 'ready', sid);
  const sd = await api(`/api/analytics/sessions/${sid}`, token);
  const ev = await tableRows(page, 'ops-table-detail');
  assert.deepEqual(ev.map((r) => [r[0], r[1]]), sd.events.map((e) => [e.occurredAt, e.eventType]));
  const times = ev.map((r) => r[0]);
  assert.deepEqual(times, [...times].sort(), 'in time order');
  const sc = await downloadCsv(page, 'detail');
  assert.equal(sc.rows.length, sd.events.length + 1);
  await shot(page, 'ops-detail-session', '#ops-panel-detail');
  const exec = sd.events.find((e) => e.executionId).executionId;
  await page.click(`#ops-table-detail button[data-detail="execution"]:text-is("${exec}")`);
  await page.waitForFunction((x) => document.getElementById('h-ops-detail').textContent === `Execution: ${x}` &&
    document.getElementById('ops-panel-detail').dataset.state === 'ready', exec);
  const xd = await api(`/api/analytics/executions/${exec}`, token);
  assert.deepEqual((await tableRows(page, 'ops-table-detail')).map((r) => [r[0], r[1]]), xd.calls.map((c) => [c.occurredAt, c.eventType]));
  assert.equal(await page.textContent('#ops-detail-figures [data-key="sessionId"]'), sid);
  await shot(page, 'ops-detail-execution', '#ops-panel-detail');
  // an unknown id: the API's 404 in the view
  await page.fill('#ops-lookup-id', 'no-such-session');
  await page.selectOption('#ops-lookup-kind', 'session');
  await page.click('#ops-lookup button[type="submit"]');
  await page.waitForSelector('#ops-panel-detail[data-state="error"]');
  assert.match(await page.textContent('#ops-panel-detail .panel-status'), /\(SESSION_NOT_FOUND\)$/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a tenant token sees its own tenant only, never another tenant or the operators\' views', async () => {
  const page = await newPage();
  const token = tenantTok(ENT);
  // a forged tenant in the fragment is ignored
  await openOps(page, token, `section=ops&range=7d&tenant=${PRO}`);
  assert.equal(await page.isVisible('#sections'), true);
  assert.equal(await page.getAttribute('#nav-ops', 'aria-current'), 'page');
  assert.equal(await page.isVisible('#ops-tenant'), false);
  assert.equal(await page.isVisible('#ops-panel-platform'), false);
  assert.ok(page.apiRequests.length >= ALL.length - 1);
  assert.ok(page.apiRequests.every((u) => u.searchParams.get('tenantId') === null && u.pathname !== PATHS.platform), 'no tenantId, no platform trends');
  // what it sees is its tenant's: the operator's answer narrowed to it
  const op = opTok();
  const mine = await api(`/api/analytics/agents/usage?period=7d&tenantId=${ENT}`, op);
  assert.deepEqual((await tableRows(page, 'ops-table-agenttable')).map((r) => r[1]), mine.agents.map((a) => a.agentId));
  assert.ok(mine.agents.every((a) => a.agentId.includes('-9001-')));
  // health: the status only
  assert.deepEqual(await page.$$eval('#ops-health-figures dd[data-key]', (d) => d.map((x) => x.dataset.key)), ['status']);
  await shot(page, 'ops-tenant-full');
  // a view the API refuses (here: naming another tenant) shows the permission state
  await page.route('**/api/v1/analytics/top-agents?*', (route) => {
    const u = new URL(route.request().url());
    u.searchParams.set('tenantId', PRO);
    route.continue({ url: u.href });
  });
  await page.click('#ops-refresh');
  await page.waitForSelector('#ops-panel-top[data-state="denied"]');
  assert.match(await page.textContent('#ops-panel-top .panel-status'), /^Not available to this token: .+\(FORBIDDEN\)$/);
  assert.equal(await page.isVisible('#ops-table-top'), false);
  assert.equal(await page.isDisabled('#ops-panel-top button.csv'), true);
  await shot(page, 'ops-state-denied', '#ops-panel-top');
  await page.unroute('**/api/v1/analytics/top-agents?*');
  // the tenant views are one click away, and back
  await page.click('#nav-tenant');
  await page.waitForSelector('#dashboard[data-loads="1"]');
  assert.equal(await page.isVisible('#ops'), false);
  assert.equal(await page.evaluate(() => window.location.hash), '#period=30');
  await page.click('#nav-ops');
  await page.waitForFunction(() => !document.getElementById('ops').hidden && document.getElementById('ops').dataset.busy === 'false');
  await page.context().close();
});

test('seed 003\'s GET /api/analytics/dashboard lands on the operations section, signed in by the link', async () => {
  const page = await newPage();
  const token = opTok();
  await page.goto(`${BASE}/api/analytics/dashboard#token=${token}`);
  await page.waitForSelector('#ops[data-loads="1"]', { timeout: 30000 });
  assert.equal(new URL(page.url()).pathname, '/dashboard/');
  assert.equal(await page.evaluate(() => window.location.search), '');
  assert.equal(await page.evaluate(() => window.location.hash), '#section=ops&range=7d');
  assert.ok(!page.url().includes(token));
  // a tenant's token from the same link: its operations views
  const t = await newPage();
  await t.goto(`${BASE}/api/analytics/dashboard#token=${tenantTok(PRO)}`);
  await t.waitForSelector('#ops[data-loads="1"]', { timeout: 30000 });
  assert.match(await t.textContent('#tenant'), new RegExp(PRO));
  await t.context().close();
  await page.context().close();
});

test('loading, empty and error states of the operations views', async () => {
  // loading: a view whose answer is held back says so
  const page = await newPage();
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/api/analytics/tools/usage?*', async (route) => { await held; await route.continue(); });
  await page.goto(`${BASE}/dashboard/#section=ops&range=7d&token=${tenantTok(EMPTY)}`);
  await page.waitForSelector('#ops-panel-tools[data-state="loading"][aria-busy="true"]');
  assert.equal(await page.textContent('#ops-panel-tools .panel-status'), 'Loading…');
  await shot(page, 'ops-state-loading', '#ops-panel-tools');
  release();
  await page.waitForSelector('#ops[data-loads="1"]');
  // empty: a tenant with no events
  const s = await states(page);
  for (const v of ['agents', 'agenttable', 'top', 'tools', 'heatmap', 'errors', 'errorcodes', 'workflows', 'overview']) assert.equal(s[v], 'empty', v);
  assert.match(await page.textContent('#ops-panel-heatmap .panel-status'), /No tool calls in this range/);
  assert.equal(await page.isDisabled('#ops-panel-tools button.csv'), true);
  await shot(page, 'ops-state-empty');
  await page.context().close();

  // error: analytics.enabled off: each view shows the API's 404
  const RUN = process.env.HTTP_RUN_DIR;
  const restart = () => execFileSync(join(ROOT, 'http/stack.sh'), ['restart-postgrest', RUN], { stdio: 'ignore' });
  psql(`ALTER DATABASE ${DB} SET analytics.enabled = off`);
  restart();
  try {
    const p = await newPage();
    await openOps(p, opTok());
    const st = await states(p);
    for (const v of [...ALL, ...COST_METRIC_VIEWS].filter((x) => x !== 'health')) assert.equal(st[v], 'error', v);
    assert.equal(st.health, 'ready');   // health answers {"status": "down"}
    assert.equal(await p.textContent('#ops-health-figures [data-key="status"]'), 'down');
    const body = await api('/api/analytics/summary', opTok(), 404);
    assert.equal(await p.textContent('#ops-panel-agents .panel-status'), `${body.message} (NOT_FOUND)`);
    assert.equal(await p.isVisible('#chart-ops-agents'), false);
    assert.match(await p.textContent('#status'), /16 of 17 views could not be loaded/);
    await shot(p, 'ops-state-api-error');
    await p.context().close();
  } finally {
    psql(`ALTER DATABASE ${DB} RESET analytics.enabled`);
    restart();
  }
});

test('first meaningful paint of the operations section, 90 days, every tenant (measured, reported)', async () => {
  const warm = await newPage();
  await openOps(warm, opTok(), 'section=ops&range=90d');
  await warm.context().close();
  const runs = [];
  const apiOnly = [];
  for (let i = 0; i < 3; i++) {
    const page = await newPage();
    await openOps(page, opTok(), 'section=ops&range=90d');
    runs.push(await page.evaluate(() => ({
      meaningful: performance.getEntriesByName('ops:meaningful')[0]?.startTime,
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    })));
    // the baseline: the section's eleven requests from a page of the same
    // origin, nothing drawn (a new token: nothing cached)
    apiOnly.push(await page.evaluate(async ([tk, paths]) => {
      const t0 = performance.now();
      await Promise.all(paths.map((p) => fetch(p, { headers: { Authorization: `Bearer ${tk}` } }).then((r) => r.json())));
      return performance.now() - t0;
    }, [opTok(), ALL.map((v) => `${PATHS[v]}${v === 'health' ? '' : v === 'realtime' ? '?period=24h' : `?period=90d${['errors', 'platform'].includes(v) ? '&granularity=day' : ''}`}`)]));
    await page.context().close();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const r of runs) assert.ok(r.meaningful > 0, JSON.stringify(r));
  const size = JSON.parse(readFileSync(join(ROOT, 'dashboard/dist/bundle-size.json'), 'utf8'));
  Object.assign(timings, {
    opsFirstMeaningfulPaintMs: Math.round(median(runs.map((r) => r.meaningful))),
    opsApiAnswersAloneMs: Math.round(median(apiOnly)),
    firstContentfulPaintMs: Math.round(median(runs.map((r) => r.fcp))),
    runs: runs.length,
    range: '90d, operator (every tenant)',
    bundleGzipBytes: size.totalGzipBytes,
  });
  console.log(`ops: first meaningful paint ${timings.opsFirstMeaningfulPaintMs} ms (median of ${runs.length}; ` +
    `the eleven answers alone ${timings.opsApiAnswersAloneMs} ms), bundle ${(size.totalGzipBytes / 1000).toFixed(1)} KB gzipped`);
});
