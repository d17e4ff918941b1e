// Browser tests of the operations section's service health and SLA (contract
// §6.5) and alerts and incidents (§6.6): Debian's chromium driven by
// playwright-core against the stack that test/browser/run.sh starts (pushed
// health checks of four services with outages and circuit-breaker changes;
// four alert rules of two tenants, each with an open incident).  Every figure
// is checked against the answer the page got, and that answer against the
// same request made again by a REST client (fields that move with the clock
// within the seconds between the two); the incident actions change the
// incident in the API and the list; CSV holds the API's rows; a tenant sees
// its own only.  Screenshots: test/browser/artifacts/ops-health-*.png.
import test, { after, before } from 'node:test';
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
const SUMMARY = '/api/v1/analytics/monitoring/health';
const HEALTH = (s) => `/api/v1/analytics/monitoring/health/${s}`;
const SLA = (s) => `/api/v1/analytics/monitoring/sla/${s}`;
const INCIDENTS = '/api/v1/analytics/alerts/incidents';
const RULES = '/rpc/alert_rules';

let seq = 0;
const tenantTok = (tenant) => sign({ role: 'analytics_tenant', tenant_id: tenant, jti: `h${process.pid}-${++seq}` }, SECRET, 900);
const opTok = () => sign({ role: 'analytics_operator', jti: `h${process.pid}-${++seq}` }, SECRET, 900);

async function api(path, token, status = 200, init = {}) {
  const r = await fetch(BASE + path, { ...init, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(init.headers || {}) } });
  const body = await r.json();
  assert.equal(r.status, status, `${path}: ${JSON.stringify(body)}`);
  return body;
}
const post = (path, token, body, status = 200) => api(path, token, status, { method: 'POST', body: JSON.stringify(body) });

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  // the current checks (run.sh's end 10 minutes ago): vector-db degraded,
  // ent-mcp failing twice, pro-api healthy
  const at = (s) => new Date(Date.now() - s * 1000).toISOString();
  await post('/api/v1/analytics/monitoring/checks', opTok(), { service_name: 'vector-db', status: 'degraded', response_time_ms: '1500', checked_at: at(5) });
  const ent = tenantTok(ENT);
  await post('/api/v1/analytics/monitoring/checks', ent, { service_name: 'ent-mcp', status: 'unhealthy', error_message: 'timeout', checked_at: at(20) });
  await post('/api/v1/analytics/monitoring/checks', ent, { service_name: 'ent-mcp', status: 'unhealthy', error_message: 'timeout', checked_at: at(5) });
  await post('/api/v1/analytics/monitoring/checks', tenantTok(PRO), { service_name: 'pro-api', status: 'healthy', response_time_ms: '42', checked_at: at(5) });
});
after(async () => { await browser?.close(); });

const newPage = () => newOpsPage(browser);
const got = (page, u) => { const b = page.answers.get(u.pathname + u.search); assert.ok(b, `no answer for ${u.pathname}${u.search}`); return b; };
// The answer against the same request again: equal but for the fields that
// move with the clock (by at most the seconds in between).
function sameBut(a, b, moving, slack, what) {
  const strip = (x) => JSON.parse(JSON.stringify(x, (k, v) => (moving.includes(k) ? undefined : v)));
  assert.deepEqual(strip(a), strip(b), what);
  for (const k of moving.filter((m) => typeof a[m] === 'number')) assert.ok(Math.abs(a[k] - b[k]) <= slack, `${what}.${k}: ${a[k]} vs ${b[k]}`);
}
const tableRows = (page, id) => page.$$eval(`#${id} tbody tr`, (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
const state = (page, view) => page.getAttribute(`#ops-panel-${view}`, 'data-state');
const shot = (page, name, sel) => page.locator(sel).screenshot({ path: join(ART, `${name}.png`) });
function parseCsv(text) {
  const rows = []; let row = []; let f = ''; let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) { if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c; } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(f); rows.push(row); row = []; f = ''; i++; } else f += c;
  }
  return rows;
}
const raw = (s) => (s === '' ? null : /^-?\d+(\.\d+)?(e-?\d+)?$/.test(s) ? Number(s) : s.replace(/^'(?=[=+\-@])/, ''));
async function downloadCsv(page, table) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(`button.csv[data-ops-table="${table}"]`)]);
  const text = readFileSync(await d.path(), 'utf8');
  writeFileSync(join(ART, d.suggestedFilename()), text);
  return { name: d.suggestedFilename(), rows: parseCsv(text).slice(1).map((r) => r.map(raw)) };
}
const SVC_KEYS = ['service_name', 'tenant_id', 'service_type', 'status', 'response_time_ms', 'consecutive_failures', 'circuit_state', 'last_checked'];

test('operator: the status page, a chosen service\'s timeline and SLA, the incidents and rules equal their endpoints; CSV holds their rows', async () => {
  const page = await newPage();
  const token = opTok();
  await openOps(page, token);
  assert.equal(await state(page, 'services'), 'ready');
  assert.equal(await state(page, 'incidents'), 'ready');

  // the status page: every service of the platform and of every tenant
  const sum = got(page, asked(page, SUMMARY));
  assert.deepEqual(Object.fromEntries(asked(page, SUMMARY).searchParams), {});
  assert.deepEqual(await api(SUMMARY, token), sum);
  assert.deepEqual(sum.services.map((s) => s.service_name).sort(), ['ent-mcp', 'pro-api', 'registry-api', 'vector-db']);
  const cards = await page.$$eval('#ops-services-cards .card', (els) => Object.fromEntries(els.map((e) => [e.dataset.key, e.dataset.value])));
  for (const k of ['overall_status', 'total_services', 'healthy', 'degraded', 'unhealthy', 'unknown']) assert.equal(cards[k], String(sum[k]), k);
  assert.equal(sum.overall_status, 'unhealthy');
  const rows = await tableRows(page, 'ops-table-services');
  assert.deepEqual(rows.map((r) => [r[0], r[3], r[5], r[6]]),
    sum.services.map((s) => [s.service_name, s.status, String(s.consecutive_failures), s.circuit_state ?? '—']));
  const ent = sum.services.find((s) => s.service_name === 'ent-mcp');
  assert.deepEqual([ent.status, ent.consecutive_failures, ent.tenant_id], ['unhealthy', 2, ENT]);

  // choose vector-db: its timeline over 168 hours and its SLA over 7 days
  const from = page.apiRequests.length;
  await page.click('#ops-table-services button[data-detail="service"]:text-is("vector-db")');
  await page.waitForSelector('#ops[data-loads="2"]');
  const hu = asked(page, HEALTH('vector-db'), {}, from);
  const su = asked(page, SLA('vector-db'), {}, from);
  assert.deepEqual(Object.fromEntries(hu.searchParams), { hours: '168' });
  assert.deepEqual(Object.fromEntries(su.searchParams), { days: '7' });
  const h = got(page, hu);
  const sla = got(page, su);
  const t0 = Date.now();
  const h2 = await api(hu.pathname + hu.search, token);
  const sla2 = await api(su.pathname + su.search, token);
  const slack = (Date.now() - t0) / 1000 + 60;
  sameBut(h, h2, ['period', 'timeline'], slack, 'service_health');
  assert.deepEqual(h.timeline.slice(1, -1), h2.timeline.slice(1, -1), 'the timeline but its ends');
  assert.deepEqual(h.circuit_timeline, h2.circuit_timeline);
  sameBut(sla, sla2, ['period', 'uptime_seconds', 'unknown_seconds', 'uptime_percentage', 'error_budget_remaining_seconds'], slack, 'sla');
  assert.equal(sla.downtime_incidents, 1);
  assert.equal(sla.downtime_seconds, 3600);
  assert.deepEqual(h.circuit_timeline.map((c) => c.state), ['open', 'half_open', 'closed']);
  assert.equal(await page.textContent('#h-ops-service'), 'vector-db: degraded');
  const fig = async (k) => page.textContent(`#ops-service-figures [data-key="${k}"]`);
  assert.equal(await fig('uptime_percentage'), `${sla.uptime_percentage} %`);
  assert.equal(await fig('target'), `${sla.target} %`);
  assert.equal(await fig('compliant'), sla.compliant ? 'yes' : 'no');
  assert.equal(await fig('downtime_incidents'), String(sla.downtime_incidents));
  assert.equal(await fig('downtime_seconds'), '1 h');
  assert.equal(await fig('consecutive_failures'), String(h.consecutive_failures));
  assert.equal(await fig('circuit_state'), h.circuit_state);
  // the bar: a stretch per status stretch, a mark per circuit change, in order
  assert.deepEqual(await page.$$eval('#ops-service-bar .seg', (e) => e.map((x) => x.dataset.status)), h.timeline.map((t) => t.status));
  assert.deepEqual(await page.$$eval('#ops-service-bar .ev', (e) => e.map((x) => x.dataset.state)), h.circuit_timeline.map((c) => c.state));
  assert.ok(h.timeline.some((t) => t.status === 'unhealthy') && h.timeline.some((t) => t.status === 'degraded'));
  const trows = await tableRows(page, 'ops-table-timeline');
  assert.equal(trows.length, h.timeline.length + h.circuit_timeline.length);

  // incidents: the open ones opened in the range, and the rules
  const iu = asked(page, INCIDENTS);
  assert.deepEqual(Object.fromEntries(iu.searchParams), { status: 'open', period: '7d' });
  const inc = got(page, iu);
  assert.deepEqual(await api(iu.pathname + iu.search, token), inc);
  assert.deepEqual(inc.incidents.map((i) => i.rule_name).sort(), ['pro probe failures', 'probe failures a', 'probe failures b', 'probe failures c']);
  const irows = await tableRows(page, 'ops-table-incidents');
  assert.deepEqual(irows.map((r) => [Number(r[0]), r[1], r[2], r[3], r[4], r[5], r[8]]),
    inc.incidents.map((i) => [i.id, i.status, i.severity, i.rule_name, i.metric_name, `> ${i.threshold}`, i.tenant_id]));
  const rules = got(page, asked(page, RULES));
  assert.deepEqual(await api(RULES, token), rules);
  assert.deepEqual((await tableRows(page, 'ops-table-rules')).map((r) => [r[0], r[1], r[2], Number(r[3]), r[4]]),
    rules.rules.map((r) => [r.name, r.metric_name, r.condition_operator, r.threshold, r.severity]));

  // CSV: the API's rows
  let csv = await downloadCsv(page, 'services');
  assert.equal(csv.name, 'ops-services_7d.csv');
  assert.deepEqual(csv.rows, sum.services.map((s) => SVC_KEYS.map((k) => s[k] ?? null)));
  csv = await downloadCsv(page, 'timeline');
  assert.equal(csv.name, 'ops-timeline-vector-db_7d.csv');
  assert.deepEqual(csv.rows.filter((r) => r[2] === 'status').map((r) => [r[0], r[1], r[3], r[4]]), h.timeline.map((t) => [t.from, t.to, t.status, t.seconds]));
  assert.deepEqual(csv.rows.filter((r) => r[2] === 'circuit').map((r) => [r[0], r[3]]), h.circuit_timeline.map((c) => [c.at, c.state]));
  csv = await downloadCsv(page, 'incidents');
  assert.equal(csv.name, 'ops-incidents-open_7d.csv');
  assert.deepEqual(csv.rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[6], r[7], r[8]]),
    inc.incidents.map((i) => [i.id, i.status, i.severity, i.rule_name, i.metric_name, i.value, i.started_at, i.tenant_id]));
  csv = await downloadCsv(page, 'rules');
  assert.deepEqual(csv.rows.map((r) => r.slice(0, 5)), rules.rules.map((r) => [r.name, r.metric_name, r.condition_operator, r.threshold, r.severity]));
  assert.deepEqual(page.errors, []);
  await shot(page, 'ops-health-services', '#ops-panel-services');
  await shot(page, 'ops-health-incidents', '#ops-panel-incidents');
  await page.context().close();
});

test('a tenant acknowledges, silences and resolves its incidents: the API and the list change; it sees its own only', async () => {
  const page = await newPage();
  const token = tenantTok(ENT);
  await openOps(page, token);
  // its services and incidents only
  const sum = got(page, asked(page, SUMMARY));
  assert.deepEqual(sum.services.map((s) => s.service_name), ['ent-mcp']);
  assert.deepEqual(await page.$$eval('#ops-table-services tbody th', (e) => e.map((x) => x.textContent)), ['ent-mcp']);
  assert.equal(await page.textContent('#h-ops-service'), `ent-mcp (tenant ${ENT}): unhealthy`);
  assert.ok(got(page, asked(page, HEALTH('ent-mcp'))).circuit_timeline.length >= 1);
  await api(HEALTH('pro-api'), token, 404).then((b) => assert.equal(b.code, 'SERVICE_NOT_FOUND'));
  await api(SLA('vector-db'), token, 404).then((b) => assert.equal(b.code, 'SERVICE_NOT_FOUND'));
  const inc = got(page, asked(page, INCIDENTS));
  assert.deepEqual(inc.incidents.map((i) => i.rule_name).sort(), ['probe failures a', 'probe failures b', 'probe failures c']);
  assert.ok(inc.incidents.every((i) => i.tenant_id === ENT));
  assert.deepEqual(got(page, asked(page, RULES)).rules.map((r) => r.name), ['probe failures a', 'probe failures b', 'probe failures c']);
  for (const u of page.apiRequests) assert.equal(u.searchParams.get('tenantId'), null);
  const id = (name) => inc.incidents.find((i) => i.rule_name === name).id;
  const [a, b, c] = ['probe failures a', 'probe failures b', 'probe failures c'].map(id);
  const pro = (await api(INCIDENTS, tenantTok(PRO))).incidents[0];
  await post(`${INCIDENTS}/${pro.id}/acknowledge`, token, {}, 404).then((x) => assert.equal(x.code, 'INCIDENT_NOT_FOUND'));

  const act = async (kind, incident, fill, loads) => {
    await page.click(`#ops-table-incidents button[data-action="${kind}"][data-incident="${incident}"]`);
    await fill();
    await page.click('#ops-incident-submit');
    await page.waitForSelector(`#ops[data-loads="${loads}"]`);
  };
  // acknowledge a with a note: still listed (open covers acknowledged)
  await act('acknowledge', a, () => page.fill('#ops-incident-text', 'looking at it'), 2);
  let now = await api(`${INCIDENTS}?status=all&period=7d`, token);
  const byId = (list, x) => list.incidents.find((i) => i.id === x);
  assert.equal(byId(now, a).status, 'acknowledged');
  assert.equal(byId(now, a).note, 'looking at it');
  let rows = await tableRows(page, 'ops-table-incidents');
  assert.equal(rows.find((r) => Number(r[0]) === a)[1], 'acknowledged');
  assert.equal(await page.$(`#ops-table-incidents button[data-action="acknowledge"][data-incident="${a}"]`), null, 'no second acknowledgement');
  // silence b for two hours: it leaves the open list
  const until = new Date(Date.now() + 7200000).toISOString().slice(0, 16);
  await act('silence', b, () => page.fill('#ops-incident-until', until), 3);
  now = await api(`${INCIDENTS}?status=all&period=7d`, token);
  assert.equal(byId(now, b).status, 'silenced');
  assert.equal(Date.parse(byId(now, b).silenced_until), Date.parse(`${until}:00Z`));
  // resolve c with notes: it leaves the open list
  await act('resolve', c, () => page.fill('#ops-incident-text', 'probe fixed'), 4);
  now = await api(`${INCIDENTS}?status=all&period=7d`, token);
  assert.equal(byId(now, c).status, 'resolved');
  assert.equal(byId(now, c).resolution_notes, 'probe fixed');
  rows = await tableRows(page, 'ops-table-incidents');
  assert.deepEqual(rows.map((r) => Number(r[0])), [a]);
  assert.deepEqual(rows.map((r) => Number(r[0])), (await api(`${INCIDENTS}?status=open&period=7d`, token)).incidents.map((i) => i.id));
  await shot(page, 'ops-health-incident-actions', '#ops-panel-incidents');
  // the filter: resolved, then silenced
  await page.selectOption('#ops-incident-status', 'resolved');
  await page.waitForSelector('#ops[data-loads="5"]');
  rows = await tableRows(page, 'ops-table-incidents');
  assert.deepEqual(rows.map((r) => [Number(r[0]), r[1], r[12]]), [[c, 'resolved', 'probe fixed']]);
  assert.equal(asked(page, INCIDENTS).searchParams.get('status'), 'resolved');
  await page.selectOption('#ops-incident-status', 'silenced');
  await page.waitForSelector('#ops[data-loads="6"]');
  assert.deepEqual((await tableRows(page, 'ops-table-incidents')).map((r) => [Number(r[0]), r[1]]), [[b, 'silenced']]);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  // the pro tenant's incident is untouched
  assert.equal((await api(INCIDENTS, tenantTok(PRO))).incidents[0].status, 'open');
});

test('the operator narrowed to a tenant sees its services and incidents; a tenant with none sees the empty state', async () => {
  const page = await newPage();
  const token = opTok();
  await openOps(page, token, `section=ops&range=24h&tenant=${PRO}`);
  assert.deepEqual(Object.fromEntries(asked(page, SUMMARY).searchParams), { tenantId: PRO });
  assert.deepEqual(await page.$$eval('#ops-table-services tbody th', (e) => e.map((x) => x.textContent)), ['pro-api']);
  assert.deepEqual(Object.fromEntries(asked(page, SLA('pro-api')).searchParams), { tenantId: PRO, days: '1' });
  assert.deepEqual(Object.fromEntries(asked(page, HEALTH('pro-api')).searchParams), { tenantId: PRO, hours: '24' });
  assert.deepEqual((await tableRows(page, 'ops-table-incidents')).map((r) => r[3]), ['pro probe failures']);
  await page.context().close();

  const p = await newPage();
  await openOps(p, tenantTok(EMPTY));
  assert.equal(await state(p, 'services'), 'empty');
  assert.match(await p.textContent('#ops-panel-services .panel-status'), /No service of this tenant is registered yet/);
  assert.equal(await p.isVisible('#ops-service'), false);
  assert.equal(await state(p, 'incidents'), 'empty');
  assert.equal(await p.isDisabled('#ops-panel-incidents button.csv[data-ops-table="incidents"]'), true);
  await shot(p, 'ops-health-empty', '#ops-panel-services');
  assert.deepEqual(p.errors, []);
  await p.context().close();
});
