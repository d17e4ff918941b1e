// bench/dashboard.mjs: see bench/dashboard.sh.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'dashboard/package.json'));
const { chromium } = require('playwright-core');
const { sign } = require(join(ROOT, 'http/jwt.js'));
const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const RUNS = Number(process.env.BENCH_RUNS || 7);
const TENANT = process.env.BENCH_TENANT || '00000000-0000-4000-8000-000000000001';
let n = 0;
const token = () => sign({ role: 'analytics_tenant', tenant_id: TENANT, jti: `bench-${process.pid}-${++n}` }, process.env.ANALYTICS_JWT_SECRET, 600);
const opToken = () => sign({ role: 'analytics_operator', jti: `bench-${process.pid}-${++n}` }, process.env.ANALYTICS_JWT_SECRET, 600);
// BENCH_SECTION=ops: the operations section, 90 days, as the operator
// (every tenant); its baseline is its eleven requests.
const OPS = process.env.BENCH_SECTION === 'ops';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });

// The dashboard: a new context and a new token per load (nothing cached in
// the browser or in nginx), 90 days.
async function dashboard(t) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${BASE}/dashboard/#period=90&token=${t}`);
  await page.waitForSelector('#dashboard[data-loads="1"]', { timeout: 30000 });
  const m = await page.evaluate(() => ({
    meaningful: performance.getEntriesByName('dashboard:meaningful')[0].startTime,
    complete: performance.getEntriesByName('dashboard:complete')[0].startTime,
    fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
  }));
  await context.close();
  return m;
}

// The baseline: the same seven requests made in parallel from a page of the
// same origin, with nothing drawn: the time from the first request until
// every answer is parsed.
async function apiOnly(t) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/dashboard/`);
  const ms = await page.evaluate(async (tk) => {
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 89 * 86400000).toISOString().slice(0, 10);
    const q = `from=${from}&to=${today}`;
    const paths = [`/analytics/usage-summary?${q}`, '/api/v1/analytics/agents/activity?days=90', `/analytics/token-trends?${q}&granularity=day`,
      `/analytics/agent-activity?${q}`, `/rpc/rotation_frequency?${q}`, `/rpc/call_patterns?${q}`, '/api/v1/analytics/agents'];
    const t0 = performance.now();
    await Promise.all(paths.map((p) => fetch(p, { headers: { Authorization: `Bearer ${tk}` } }).then((r) => r.json())));
    return performance.now() - t0;
  }, t);
  await context.close();
  return ms;
}

// The operations section: first meaningful paint = the real-time figures
// and the agent distribution drawn ('ops:meaningful'); all views drawn =
// the first load done.
async function ops(t) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(`${BASE}/dashboard/#section=ops&range=90d&token=${t}`);
  await page.waitForSelector('#ops[data-loads="1"]', { timeout: 30000 });
  const m = await page.evaluate(() => ({
    meaningful: performance.getEntriesByName('ops:meaningful')[0].startTime,
    fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
    complete: performance.now(),
  }));
  m.complete = Math.min(m.complete, Date.now() - t0);
  await context.close();
  return m;
}
const OPS_PATHS = ['/api/analytics/sessions/activity?period=24h', '/api/v1/analytics/dashboard?period=90d', '/api/analytics/agents/usage?period=90d',
  '/api/v1/analytics/top-agents?period=90d&metric=calls&top=10', '/api/analytics/tools/usage?period=90d', '/api/v1/analytics/tools/heatmap?period=90d',
  '/api/analytics/workflows/performance?period=90d', '/api/v1/analytics/errors/trends?period=90d&granularity=day',
  '/api/analytics/errors/summary?period=90d', '/api/v1/analytics/platform/trends?period=90d&granularity=day', '/api/analytics/health'];
async function opsApiOnly(t) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/dashboard/`);
  const ms = await page.evaluate(async ([tk, paths]) => {
    const t0 = performance.now();
    await Promise.all(paths.map((p) => fetch(p, { headers: { Authorization: `Bearer ${tk}` } }).then((r) => r.json())));
    return performance.now() - t0;
  }, [t, OPS_PATHS]);
  await context.close();
  return ms;
}
if (OPS) {
  await ops(opToken());   // warm the browser
  const d = [];
  const a = [];
  for (let i = 0; i < RUNS; i++) {
    d.push(await ops(opToken()));
    a.push(await opsApiOnly(opToken()));
  }
  const fmp = median(d.map((x) => x.meaningful));
  const api = median(a);
  console.log(`operations section, 90 days, operator (every tenant), median of ${RUNS} loads (new context and token each: nothing cached)`);
  console.log(`  first contentful paint (the page shell)       ${median(d.map((x) => x.fcp)).toFixed(0).padStart(6)} ms`);
  console.log(`  the eleven API answers alone (baseline)       ${api.toFixed(0).padStart(6)} ms`);
  console.log(`  first meaningful paint (real-time + agents)   ${fmp.toFixed(0).padStart(6)} ms   target < 1000 ms`);
  console.log(`  all eleven views drawn                        ${median(d.map((x) => x.complete)).toFixed(0).padStart(6)} ms`);
  console.log(`  ratio: meaningful paint / API answers alone = ${(fmp / api).toFixed(2)}x`);
  await browser.close();
  process.exit(0);
}

await dashboard(token());   // warm the browser
const d = [];
const a = [];
for (let i = 0; i < RUNS; i++) {
  d.push(await dashboard(token()));
  a.push(await apiOnly(token()));
}
const fmp = median(d.map((x) => x.meaningful));
const all = median(d.map((x) => x.complete));
const fcp = median(d.map((x) => x.fcp));
const api = median(a);
console.log(`dashboard, 90 days, tenant ${TENANT}, median of ${RUNS} loads (new context and token each: nothing cached)`);
console.log(`  first contentful paint (the page shell)       ${fcp.toFixed(0).padStart(6)} ms`);
console.log(`  the seven API answers alone (baseline)        ${api.toFixed(0).padStart(6)} ms`);
console.log(`  first meaningful paint (cards + heatmap)      ${fmp.toFixed(0).padStart(6)} ms   target < 1000 ms`);
console.log(`  all seven views drawn                         ${all.toFixed(0).padStart(6)} ms`);
console.log(`  ratios: meaningful paint / API answers alone = ${(fmp / api).toFixed(2)}x, all views / API answers alone = ${(all / api).toFixed(2)}x`);
await browser.close();
