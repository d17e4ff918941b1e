// ops_page.mjs: the page helpers of the operations section's browser tests
// (ops.test.mjs, ops_costs.test.mjs, ops_health.test.mjs).
//
//   newPage(browser, opts)  a page of a new context (1280 x 900, downloads
//                           on; opts: more context options) that records
//                           page.errors (uncaught errors), page.apiRequests
//                           (the URL of every API request, in order; one
//                           the gateway refused with 429 is marked .limited:
//                           the page asks it again after Retry-After),
//                           page.served(from) (those not refused, from index
//                           from on) and the JSON answers of its GETs:
//                           page.answers (path + query -> body) and
//                           page.byPath (path -> {status, url, body}, the last)
//   openOps(page, token, hash, loads)  the section signed in by the link,
//                           once its loads-th load is done
//   asked(page, path, params, from)  the last served request to path with
//                           those query values
const BASE = `http://127.0.0.1:${process.env.HTTP_PORT}`;

export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, ...opts });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.apiRequests = [];
  page.served = (from = 0) => page.apiRequests.slice(from).filter((u) => !u.limited);
  page.answers = new Map();
  page.byPath = new Map();
  const urls = new Map();
  page.on('request', (r) => {
    if (r.url().includes('/dashboard/')) return;
    const u = new URL(r.url());
    urls.set(r, u);
    page.apiRequests.push(u);
  });
  page.on('response', async (r) => {
    const u = urls.get(r.request());
    if (!u) return;
    if (r.status() === 429) { u.limited = true; return; }
    if (r.request().method() !== 'GET') return;
    try {
      const body = await r.json();
      page.answers.set(u.pathname + u.search, body);
      page.byPath.set(u.pathname, { status: r.status(), url: u, body });
    } catch { /* aborted */ }
  });
  return page;
}

export async function openOps(page, token, hash = 'section=ops&range=7d', loads = 1) {
  await page.goto(`${BASE}/dashboard/#${hash}&token=${token}`);
  await page.waitForSelector(`#ops[data-loads="${loads}"]`, { timeout: 30000 });
}

export function asked(page, path, params = {}, from = 0) {
  const list = page.served(from).filter((u) => u.pathname === path &&
    Object.entries(params).every(([k, v]) => u.searchParams.get(k) === v));
  return list[list.length - 1] || null;
}
