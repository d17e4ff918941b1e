// main.js: the dashboard page.  Reads the token (URL fragment, then this
// tab's sessionStorage, else asks for one), asks the API for each view of
// the chosen period in parallel, and draws each view as its answer arrives.
import * as S from './shape.js';
import * as O from './opsshape.js';
import * as Ops from './ops.js';
import { ROUTES, apiGet } from './api.js';

// ECharts is the bulk of the code: its chunk loads while the first answers
// are on their way, and only the views that draw a chart wait for it.
const charts = import('./charts.js');

const TOKEN_KEY = 'analytics.dashboard.token';
const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  period: null,
  granularity: 'day',
  agentId: '',
  data: {},                 // view -> the API's body
  sorts: { rotations: null, patterns: null },
  inflight: new Map(),      // view -> AbortController
  halted: false,            // a 401 or 403 stopped the page
  retry: { views: new Set(), timer: null, until: 0, tick: null },
  refreshTimer: null,
  loads: 0,
  meaningful: false,
  critical: null,           // criticalGate() of the first load
  caller: { operator: false, tenant: null },
  section: 'tenant',        // 'tenant' (the views below) or 'ops' (ops.js)
};

// ---------------------------------------------------------------- views

const VIEWS = {
  summary: { panel: 'panel-summary', request: (p) => [ROUTES.summary, { from: p.from, to: p.to }], render: renderSummary },
  heatmap: { panel: 'panel-heatmap', request: (p) => [ROUTES.heatmap, { days: S.heatmapWindow(p, S.utcDay()).days }], render: renderHeatmap },
  trends: { panel: 'panel-trends', request: (p) => [ROUTES.trends, { from: p.from, to: p.to, granularity: state.granularity }], render: renderTrends },
  agents: {
    panel: 'panel-agents',
    request: (p) => { const a = S.agentActivityPeriod(p); return [ROUTES.agentActivity, { from: a.from, to: a.to }]; },
    render: renderAgents,
  },
  rotations: { panel: 'panel-rotations', request: (p) => [ROUTES.rotations, { from: p.from, to: p.to }], render: () => renderTable('rotations') },
  patterns: { panel: 'panel-patterns', request: (p) => [ROUTES.patterns, { from: p.from, to: p.to }], render: () => renderTable('patterns') },
  top: { panel: 'panel-top', request: () => [ROUTES.top, {}], render: renderTop },
};

const TABLES = {
  rotations: { columns: S.ROTATION_COLUMNS, rows: S.rotationRows, table: 'table-rotations', noun: 'agents' },
  patterns: { columns: S.PATTERN_COLUMNS, rows: S.patternRows, table: 'table-patterns', noun: 'endpoints' },
};

function setPanel(view, panelState, message = '') {
  const panel = $(VIEWS[view].panel);
  panel.dataset.state = panelState;
  panel.setAttribute('aria-busy', panelState === 'loading' ? 'true' : 'false');
  const status = panel.querySelector('.panel-status');
  status.textContent = message;
  status.hidden = !message;
  status.classList.toggle('error', panelState === 'error');
  // an error leaves no chart or table of another moment on show, nor a
  // CSV of it to download
  if (panelState === 'error') {
    for (const e of panel.querySelectorAll('.chart, .table-wrap')) e.hidden = true;
    const csv = panel.querySelector('button.csv');
    if (csv) csv.disabled = true;
  }
}

function el(tag, attrs = {}, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) e.setAttribute(k, v);
  }
  if (text !== null) e.textContent = text;
  return e;
}

// Draw a view's chart, or, when there is nothing to draw (empty is then the
// message to show), clear it and say so.
function drawOrEmpty(C, view, chart, empty, draw) {
  chart.hidden = Boolean(empty);
  if (empty) {
    C.clearChart(chart);
    setPanel(view, 'empty', empty);
    return;
  }
  draw(chart);
  setPanel(view, 'ready');
}

function renderSummary(body) {
  const cards = $('cards');
  cards.replaceChildren(...S.summaryCards(body).map((c) => {
    const li = el('li', { class: 'card', 'data-key': c.key, 'data-value': c.value === null ? '' : String(c.value) });
    li.append(el('span', { class: 'label' }, c.label), el('span', { class: 'value' }, S.formatInt(c.value)));
    if (c.detail) li.append(el('span', { class: 'detail' }, c.detail));
    return li;
  }));
  $('empty').hidden = !S.isEmptySummary(body);
  setPanel('summary', 'ready');
}

async function renderHeatmap(body) {
  const C = await charts;
  const w = S.heatmapWindow(state.period, S.utcDay());
  const m = S.heatmapMatrix(body);
  const differs = w.from !== state.period.from || w.to !== state.period.to;
  $('heatmap-note').textContent = `${S.formatInt(m.total)} API calls from ${w.from} to ${w.to}` +
    (differs ? ' (this view always ends today and covers at most 90 days).' : '.');
  // The accessible table: every cell labelled with its count.
  const table = $('heatmap-table');
  const head = el('tr');
  head.append(el('th', { scope: 'col' }, 'Day'));
  for (let h = 0; h < 24; h++) head.append(el('th', { scope: 'col' }, `${String(h).padStart(2, '0')}:00`));
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...S.HEATMAP_ROWS.map((r, i) => {
    const tr = el('tr');
    tr.append(el('th', { scope: 'row' }, r.name));
    m.matrix[i].forEach((count, h) => tr.append(el('td', {
      'aria-label': S.heatmapCellLabel(i, h, count), 'data-dow': String(r.dow), 'data-hour': String(h),
    }, String(count))));
    return tr;
  }));
  drawOrEmpty(C, 'heatmap', $('chart-heatmap'), m.total === 0 && 'No API calls in these days.', (chart) =>
    C.drawHeatmap(chart, m, `Heatmap of ${m.total} API calls by day of week and hour, UTC, from ${w.from} to ${w.to}. ` +
      'The table that follows lists the count of every cell.'));
}

async function renderTrends(body) {
  const C = await charts;
  const t = S.trendSeries(body);
  $('trend-totals').textContent = `${S.formatInt(t.totals.total)} issuances: ${S.formatInt(t.totals.successful)} successful, ` +
    `${S.formatInt(t.totals.failed)} failed (by ${t.granularity}).`;
  const partial = O.partialIndex(t.dates, t.granularity);
  showPartial('trends-partial', partial, t.granularity);
  drawOrEmpty(C, 'trends', $('chart-trends'), t.totals.total === 0 && 'No token issuances in this period.', (chart) =>
    C.drawTrend(chart, t, partial));
}

async function renderAgents(body) {
  const C = await charts;
  const select = $('agent-filter');
  const options = S.agentOptions(body);
  if (!options.some((o) => o.value === state.agentId)) state.agentId = '';
  select.replaceChildren(el('option', { value: '' }, 'All agents'), ...options.map((o) => el('option', { value: o.value }, o.label)));
  select.value = state.agentId;
  const a = S.agentActivityPeriod(state.period);
  $('agents-note').textContent = `Daily ${state.agentId ? 'activity of one agent' : 'API calls per agent'}, ${a.from} to ${a.to}` +
    (a.clipped ? ' (the last 90 days of the period: the most this view covers).' : '.');
  const series = S.agentSeries(body, state.agentId || null);
  const partial = O.partialIndex(series.dates, 'day');
  showPartial('agents-partial', partial, 'day');
  drawOrEmpty(C, 'agents', $('chart-agents'), options.length === 0 && 'No agent activity in this period.', (chart) =>
    C.drawAgents(chart, series, partial));
  if (state.data.top) await renderTop(state.data.top);   // names for the top agents
}

// The note under a trend whose last bucket is still going on (today, or
// this week): its figures are partial.
function showPartial(id, partial, granularity) {
  const note = $(id);
  note.hidden = partial < 0;
  note.dataset.partial = partial < 0 ? '' : String(partial);
  note.textContent = partial < 0 ? '' : `* ${granularity === 'week' ? 'This week' : 'Today'} (UTC) is not over: its figures are partial.`;
}

function sortedRows(name) {
  const t = TABLES[name];
  const rows = t.rows(state.data[name]);
  const s = state.sorts[name];
  return s ? S.sortRows(rows, s.key, s.dir) : rows;
}

function renderTable(name) {
  const t = TABLES[name];
  const body = state.data[name];
  const table = $(t.table);
  const sort = state.sorts[name];
  const head = el('tr');
  for (const c of t.columns) {
    const th = el('th', { scope: 'col', class: c.type === 'text' ? null : 'num', 'aria-sort': sort && sort.key === c.key ? sort.dir : 'none' });
    const b = el('button', { type: 'button', 'data-key': c.key }, c.label);
    b.addEventListener('click', () => {
      const cur = state.sorts[name];
      const dir = cur && cur.key === c.key && cur.dir === 'descending' ? 'ascending'
        : cur && cur.key === c.key ? 'descending' : (c.type === 'text' ? 'ascending' : 'descending');
      state.sorts[name] = { key: c.key, dir };
      renderTable(name);
      table.querySelector(`th button[data-key="${c.key}"]`).focus();
    });
    th.append(b);
    head.append(th);
  }
  table.tHead.replaceChildren(head);
  const rows = sortedRows(name);
  table.closest('.table-wrap').hidden = false;
  table.tBodies[0].replaceChildren(...rows.map((r) => {
    const tr = el('tr');
    t.columns.forEach((c, i) => {
      const cell = el(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : null, class: c.type === 'text' ? null : 'num' }, S.formatCell(r[c.key], c));
      tr.append(cell);
    });
    return tr;
  }));
  const panel = $(VIEWS[name].panel);
  panel.querySelector('button.csv').disabled = rows.length === 0;
  $(`${name}-note`).textContent = name === 'rotations'
    ? `${S.formatInt(body.totalRotations)} credential rotations from ${body.period.from} to ${body.period.to}.`
    : `${S.formatInt(body.totalCalls)} API calls from ${body.period.from} to ${body.period.to}.`;
  if (rows.length === 0) setPanel(name, 'empty', `No ${t.noun} in this period.`);
  else setPanel(name, 'ready');
  if (name === 'rotations' && state.data.top) return renderTop(state.data.top);
  return undefined;
}

function downloadCsv(name) {
  const body = state.data[name];
  if (!body) return;
  const csv = S.toCsv(TABLES[name].columns, sortedRows(name));
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const a = el('a', { href: url, download: `${name === 'rotations' ? 'rotation-frequency' : 'call-patterns'}_${body.period.from}_${body.period.to}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function agentNames() {
  const names = new Map();
  for (const a of state.data.rotations?.agents || []) names.set(a.agentId, S.agentLabel(a));
  for (const a of state.data.agents?.agents || []) names.set(a.agentId, S.agentLabel(a));
  return names;
}

async function renderTop(body) {
  const C = await charts;
  const rows = S.topAgents(body, agentNames(), 10);
  $('top-note').textContent = `Token issuances in ${body.month} (UTC), most first.`;
  $('top-table').tBodies[0].replaceChildren(...rows.map((r) => {
    const tr = el('tr');
    tr.append(el('th', { scope: 'row' }, r.label), el('td', {}, String(r.tokenCount)));
    return tr;
  }));
  drawOrEmpty(C, 'top', $('chart-top'), rows.length === 0 && 'No tokens issued this month.', (chart) => {
    chart.style.height = `${Math.max(160, rows.length * 30 + 24)}px`;
    C.chartById(chart.id)?.resize();
    C.drawTop(chart, rows);
  });
}

// ---------------------------------------------------------------- loading

function status(text, kind = 'info') {
  const s = $('status');
  s.textContent = text;
  s.dataset.kind = kind;
}

// Resolves at the start of the next frame: what was drawn before is in it.
function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

const CRITICAL = new Set(['summary', 'heatmap']);

// A promise that resolves once both critical views have settled (drawn,
// failed or waiting out a 429) in the first load of a token.
function criticalGate() {
  const pending = new Set(CRITICAL);
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, settle: (view) => { pending.delete(view); if (pending.size === 0) resolve(); } };
}

function abortAll() {
  for (const c of state.inflight.values()) c.abort();
  state.inflight.clear();
  clearTimeout(state.retry.timer);
  clearInterval(state.retry.tick);
  state.retry.views.clear();
  clearTimeout(state.refreshTimer);
}

// Stop the page: 401 asks for a token, 403 explains the plan.
function halt(verdict) {
  state.halted = true;
  abortAll();
  Ops.forget();
  $('sections').hidden = true;
  if (verdict.kind === 'unauthorized') {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    showSignIn(verdict.message);
  } else {
    $('dashboard').hidden = true;
    $('controls').hidden = true;
    const n = $('notice');
    n.replaceChildren(el('h2', {}, 'Analytics needs the Pro or Enterprise plan'), el('p', {}, verdict.message));
    if (verdict.apiMessage) n.append(el('p', { class: 'api-message' }, `The API said: ${verdict.apiMessage}`));
    const other = el('button', { type: 'button', id: 'other-token' }, 'Use another token');
    other.addEventListener('click', signOut);
    n.append(other);
    n.hidden = false;
    status('');
  }
}

// 429: retry the refused views once Retry-After has passed, counting down.
function retryLater(view, seconds) {
  const r = state.retry;
  r.views.add(view);
  const until = Date.now() + seconds * 1000;
  if (until <= r.until && r.timer) return;
  r.until = until;
  clearTimeout(r.timer);
  clearInterval(r.tick);
  const show = () => status(`Too many requests: the server asked us to wait. Retrying in ${Math.max(1, Math.ceil((r.until - Date.now()) / 1000))} s…`, 'warning');
  show();
  r.tick = setInterval(show, 1000);
  r.timer = setTimeout(() => {
    clearInterval(r.tick);
    r.timer = null;
    const views = [...r.views];
    r.views.clear();
    load(views);
  }, seconds * 1000);
}

async function fetchView(view, controller) {
  const [path, params] = VIEWS[view].request(state.period);
  let res;
  try {
    res = await apiGet(path, params, state.token, controller.signal);
  } catch (e) {
    if (e.name === 'AbortError') return;
    throw e;
  }
  if (controller.signal.aborted || state.halted) return;
  const v = res.verdict;
  if (v.kind === 'ok') {
    state.data[view] = res.body;
    // The summary and the heatmap are drawn first, the rest after they show.
    if (!CRITICAL.has(view)) await state.critical.promise;
    if (controller.signal.aborted || state.halted) return;
    try {
      await VIEWS[view].render(res.body);
    } catch (e) {
      setPanel(view, 'error', `This view could not be drawn: ${e.message}`);
    }
    if (!state.meaningful && state.data.summary && state.data.heatmap) {
      state.meaningful = true;
      await nextFrame();
      performance.mark('dashboard:meaningful');
    }
  } else if (v.kind === 'unauthorized' || v.kind === 'forbidden') {
    halt(v);
  } else if (v.kind === 'rate_limited') {
    setPanel(view, 'loading', `Waiting ${v.seconds} s (rate limited)…`);
    retryLater(view, v.seconds);
  } else {
    setPanel(view, 'error', v.code ? `${v.message} (${v.code})` : v.message);
  }
}

// Ask for the given views (all by default) of the current period.
async function load(views = Object.keys(VIEWS)) {
  if (!state.token || !state.period) return;
  state.halted = false;
  clearTimeout(state.refreshTimer);
  const main = $('dashboard');
  main.dataset.busy = 'true';
  window.history.replaceState(null, '', `#${S.periodHash(state.period)}`);
  $('period-label').textContent = `${state.period.from} to ${state.period.to} (${state.period.days} day${state.period.days === 1 ? '' : 's'}, UTC)`;
  const jobs = views.map((view) => {
    state.inflight.get(view)?.abort();
    const c = new AbortController();
    state.inflight.set(view, c);
    setPanel(view, 'loading', $(VIEWS[view].panel).dataset.state === 'loading' || !state.data[view] ? 'Loading…' : 'Updating…');
    return fetchView(view, c).finally(() => {
      if (state.inflight.get(view) === c) state.inflight.delete(view);
      if (CRITICAL.has(view)) state.critical.settle(view);
    });
  });
  await Promise.all(jobs);
  if (state.halted || state.inflight.size > 0 || state.retry.views.size > 0) return;
  main.dataset.busy = 'false';
  state.loads += 1;
  main.dataset.loads = String(state.loads);
  if (state.loads === 1) nextFrame().then(() => performance.mark('dashboard:complete'));
  const at = new Date().toISOString().slice(11, 19);
  const failed = Object.values(VIEWS).filter((v) => $(v.panel).dataset.state === 'error').length;
  if (failed) status(`Updated at ${at} UTC, but ${failed} of ${Object.keys(VIEWS).length} views could not be loaded: see each view's message.`, 'error');
  else status(`Updated at ${at} UTC.`);
  scheduleRefresh();
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  const seconds = Number($('auto').value);
  if (seconds > 0 && state.token && !state.halted) state.refreshTimer = setTimeout(() => load(), seconds * 1000);
}

// ---------------------------------------------------------------- sign-in

function showSignIn(reason) {
  Ops.forget();
  $('sections').hidden = true;
  $('dashboard').hidden = true;
  $('controls').hidden = true;
  $('notice').hidden = true;
  $('tenant').textContent = '';
  $('signin-reason').textContent = reason;
  $('signin').hidden = false;
  status('');
  $('token-input').focus();
}

function signOut() {
  abortAll();
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  showSignIn('Signed out. Paste a tenant or operator token to continue.');
}

function start(token, section = null) {
  state.token = token;
  state.data = {};
  state.meaningful = false;
  state.critical = criticalGate();
  state.caller = O.callerOf(S.jwtClaims(token));
  const tenant = state.caller.tenant;
  $('tenant').textContent = state.caller.operator ? 'Platform operator (every tenant)' : tenant ? `Tenant ${tenant}` : '';
  $('signin').hidden = true;
  $('notice').hidden = true;
  // an operator's token has no tenant views (the §5 functions answer
  // tenants only): the operations section alone
  $('sections').hidden = state.caller.operator;
  showSection(state.caller.operator ? 'ops' : section || 'tenant');
}

// Show one section: the tenant views, or the operations views (ops.js).
function showSection(name) {
  state.section = name;
  for (const a of document.querySelectorAll('#sections a')) {
    if (a.dataset.section === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (name === 'ops') {
    abortAll();
    $('controls').hidden = true;
    $('dashboard').hidden = true;
    const loc = O.parseOpsLocation(window.location.hash);
    Ops.show(state.token, state.caller, { range: loc.range || $('ops-range').value, tenant: loc.tenant ?? $('ops-tenant').value });
  } else {
    Ops.hide();
    $('controls').hidden = false;
    $('dashboard').hidden = false;
    load();
  }
}

function choosePeriod() {
  const today = S.utcDay();
  const choice = $('period').value;
  $('custom-range').hidden = choice !== 'custom';
  if (choice === 'custom') {
    $('from').max = today;
    $('to').max = today;
    if (!$('from').value) $('from').value = state.period.from;
    if (!$('to').value) $('to').value = state.period.to;
    const p = S.periodFor('custom', today, { from: $('from').value, to: $('to').value });
    if (p.error) { status(p.error, 'error'); return false; }
    state.period = p;
  } else {
    state.period = S.periodFor(choice, today);
  }
  return true;
}

function init() {
  const hash = S.parseHash(window.location.hash);
  const loc = O.parseOpsLocation(window.location.hash, window.location.search);
  if (hash.token) sessionStorage.setItem(TOKEN_KEY, hash.token);
  if (hash.from && hash.to) {
    $('period').value = 'custom';
    $('from').value = hash.from;
    $('to').value = hash.to;
  } else if (hash.period) {
    $('period').value = hash.period;
  }
  state.period = S.periodFor($('period').value, S.utcDay(), { from: hash.from, to: hash.to });
  if (state.period.error) {
    status(state.period.error, 'error');
    $('period').value = '30';
    state.period = S.periodFor('30', S.utcDay());
  }
  $('custom-range').hidden = $('period').value !== 'custom';
  // The token leaves the address bar (and the history) at once; so does the
  // redirect's ?section=ops, kept in the fragment like the rest.
  if (loc.range) $('ops-range').value = loc.range;
  if (loc.tenant) $('ops-tenant').value = loc.tenant;
  window.history.replaceState(null, '', `${window.location.pathname}#${loc.section === 'ops'
    ? `section=ops&range=${loc.range || $('ops-range').value}${loc.tenant ? `&tenant=${loc.tenant}` : ''}` : S.periodHash(state.period)}`);

  Ops.init(charts, {
    halt,
    status,
    hash: () => window.history.replaceState(null, '', `${window.location.pathname}#${Ops.hashPart()}`),
  });
  for (const a of document.querySelectorAll('#sections a')) {
    a.addEventListener('click', (e) => { e.preventDefault(); if (state.token && state.section !== a.dataset.section) showSection(a.dataset.section); });
  }
  $('period').addEventListener('change', () => {
    if ($('period').value === 'custom') { $('custom-range').hidden = false; choosePeriod(); $('from').focus(); return; }
    if (choosePeriod()) load();
  });
  $('controls').addEventListener('submit', (e) => { e.preventDefault(); if (choosePeriod()) load(); });
  $('refresh').addEventListener('click', () => load());
  $('auto').addEventListener('change', scheduleRefresh);
  for (const b of document.querySelectorAll('button.signout')) b.addEventListener('click', signOut);
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token-input').value.trim();
    if (!t) return;
    $('token-input').value = '';
    sessionStorage.setItem(TOKEN_KEY, t);
    start(t, state.section);
  });
  for (const r of document.querySelectorAll('input[name="granularity"]')) {
    r.addEventListener('change', () => { state.granularity = r.value; load(['trends']); });
  }
  $('agent-filter').addEventListener('change', (e) => {
    state.agentId = e.target.value;
    if (state.data.agents) renderAgents(state.data.agents);
  });
  for (const b of document.querySelectorAll('button.csv')) b.addEventListener('click', () => downloadCsv(b.dataset.table));

  state.section = loc.section || 'tenant';
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) start(token, state.section);
  else showSignIn('Paste a tenant token to see its analytics, or the operator\'s to see every tenant.');
}

// For the browser tests: the charts module (chartById), the operations state.
window.analyticsDashboard = { charts, ops: Ops.opsState };
init();
