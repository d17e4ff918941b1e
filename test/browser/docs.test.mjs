// Browser test of the API's rendered description (/docs/, issue 21):
// Debian's chromium driven by playwright-core loads the page the gateway
// serves (Swagger UI built from npm into static files, under the page's
// Content-Security-Policy) and checks that it renders the whole document:
// every tag and every operation of /openapi.json, with no error of the page
// and nothing refused by its CSP or fetched from another origin; an
// operation opens on its parameters and its example answer; a deep link
// opens its operation; the dashboard's footer link leads there.  A
// screenshot goes to test/browser/artifacts/docs.png.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(ROOT, 'dashboard/package.json'));
const { chromium } = require('playwright-core');

const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;
const ART = join(ROOT, 'test/browser/artifacts');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

let browser;
let doc;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  doc = await (await fetch(`${BASE}/openapi.json`)).json();
});
after(async () => { await browser?.close(); });

// A page that records its uncaught errors, its console errors (a CSP
// refusal is one) and every request it makes.
async function newPage() {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.errors = [];
  page.requests = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  // (Swagger UI warns, as an error, that an underscore in a deep link, as
  // in an operationId such as usage_summary, may one day stop meaning a
  // space: a note on its own future, not a fault of the page)
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Deprecated: escaping deep link whitespace with `_`/.test(m.text())) page.errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => page.requests.push(r.url()));
  return page;
}

const operations = () => Object.entries(doc.paths).flatMap(([p, item]) => METHODS.filter((m) => item[m]).map((m) => ({ path: p, method: m, op: item[m] })));

test('/docs/ renders every tag and every operation of the document, with nothing refused or fetched from elsewhere', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/docs/`);
  await page.waitForSelector('.information-container .title', { timeout: 30000 });
  assert.match(await page.textContent('.information-container .title'), new RegExp(doc.info.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  // Swagger UI draws only what is in view (its lists are virtual): scroll
  // down the page a screen at a time and collect the tags and operations
  // drawn, in order
  await page.waitForSelector('.opblock', { timeout: 30000 });
  const tags = [];
  const shown = new Set();
  for (let y = 0, last = -1; y !== last; ) {
    const seen = await page.evaluate(() => ({
      tags: [...document.querySelectorAll('h3.opblock-tag')].map((e) => e.getAttribute('data-tag')),
      ops: [...document.querySelectorAll('.opblock')].map((e) => `${e.querySelector('.opblock-summary-method').textContent.trim().toLowerCase()} ${e.querySelector('.opblock-summary-path').getAttribute('data-path')}`),
    }));
    for (const t of seen.tags) if (!tags.includes(t)) tags.push(t);
    for (const o of seen.ops) shown.add(o);
    last = y;
    await page.mouse.wheel(0, 700);
    await page.waitForTimeout(250);
    y = await page.evaluate(() => window.scrollY);
  }
  // every tag that has operations, in the document's order
  const used = new Set(operations().flatMap((o) => o.op.tags));
  assert.deepEqual(tags, doc.tags.map((t) => t.name).filter((t) => used.has(t)));
  // every operation: its method and path
  assert.deepEqual([...shown].sort(), operations().map((o) => `${o.method} ${o.path}`).sort());
  // the bearer scheme is offered (Authorize)
  assert.ok(await page.$('.auth-wrapper .authorize'), 'no Authorize button');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ART, 'docs.png') });
  assert.deepEqual(page.errors, []);
  const elsewhere = page.requests.filter((u) => !u.startsWith(`${BASE}/`) && !u.startsWith('data:'));
  assert.deepEqual(elsewhere, [], 'requests to another origin (a CDN?)');
  await page.context().close();
});

test('an operation opens on its parameters, its error codes and its example answer; a deep link opens it', async () => {
  const page = await newPage();
  const o = operations().find((x) => x.path === '/analytics/usage-summary' && x.method === 'get');
  assert.ok(o, 'usage-summary is documented');
  const tag = o.op.tags[0];
  // Swagger UI's deep link: #/<tag>/<operationId>
  await page.goto(`${BASE}/docs/#/${encodeURIComponent(tag)}/${o.op.operationId}`);
  const block = page.locator(`.opblock.opblock-get:has(.opblock-summary-path[data-path="${o.path}"])`).first();
  await block.locator('.opblock-body').waitFor({ timeout: 30000 });
  const body = await block.locator('.opblock-body').textContent();
  for (const p of o.op.parameters.map((x) => (x.$ref ? x.$ref.split('/').reduce((a, k) => (k === '#' ? doc : a[k]), null) : x))) {
    assert.ok(body.includes(p.name), `parameter ${p.name} not shown`);
  }
  for (const status of Object.keys(o.op.responses)) assert.ok(body.includes(status), `answer ${status} not shown`);
  // the example answer: the tenant's summary with its fields
  assert.match(body, /totalApiCalls/);
  assert.match(body, /INVALID_DATE_RANGE/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the dashboard links to the description', async () => {
  const page = await newPage();
  await page.goto(`${BASE}/dashboard/`);
  const link = page.locator('a[href="/docs/"]').first();
  await link.waitFor({ timeout: 30000 });
  await Promise.all([page.waitForURL(`${BASE}/docs/`), link.click()]);
  await page.waitForSelector('.opblock', { timeout: 30000 });
  await page.context().close();
});
