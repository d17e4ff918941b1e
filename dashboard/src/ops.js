// ops.js: the operations section of the page (contract §6.3, docs/operator.md).
// Same sign-in as the tenant views: an operator's token sees every tenant
// (or the one picked), a tenant's token its own tenant, without the
// operator-only views.  Each view asks one endpoint of the chosen range and
// draws its answer as it arrives; the section asks again every 30 s.
//
// Costs (§6.4: the cost trend, costs by model and by a chosen group) and
// the custom metric explorer (§6.5) are views like the others.
//
// Service health and SLA (§6.5: the status page, a chosen service's
// timeline of status stretches and circuit-breaker changes, its SLA) and
// alerts and incidents (§6.6: the incidents of the range by status, with
// acknowledge, resolve and silence, and the rules behind them) are views
// with fetches of their own, as the metric explorer's.
import * as S from './shape.js';
import * as O from './opsshape.js';
import { apiGet as askOnce, apiPost } from './api.js';

export const OPS_ROUTES = {
  sessions: '/api/analytics/sessions/activity',
  dashboard: '/api/v1/analytics/dashboard',
  agentUsage: '/api/analytics/agents/usage',
  topAgents: '/api/v1/analytics/top-agents',
  toolUsage: '/api/analytics/tools/usage',
  toolHeatmap: '/api/v1/analytics/tools/heatmap',
  workflows: '/api/analytics/workflows/performance',
  errorTrends: '/api/v1/analytics/errors/trends',
  errorSummary: '/api/analytics/errors/summary',
  platform: '/api/v1/analytics/platform/trends',
  health: '/api/analytics/health',
  costs: '/api/v1/analytics/costs',
  costTrend: '/api/v1/analytics/costs/trend',
  metricNames: '/api/v1/analytics/metrics',
  metricStats: (name) => `/api/v1/analytics/metrics/${encodeURIComponent(name)}/statistics`,
  metricSeries: (name) => `/api/v1/analytics/metrics/${encodeURIComponent(name)}/time-series`,
  healthSummary: '/api/v1/analytics/monitoring/health',
  serviceHealth: (name) => `/api/v1/analytics/monitoring/health/${encodeURIComponent(name)}`,
  sla: (name) => `/api/v1/analytics/monitoring/sla/${encodeURIComponent(name)}`,
  incidents: '/api/v1/analytics/alerts/incidents',
  acknowledge: (id) => `/api/v1/analytics/alerts/incidents/${encodeURIComponent(id)}/acknowledge`,
  resolve: (id) => `/api/v1/analytics/alerts/incidents/${encodeURIComponent(id)}/resolve`,
  silence: '/rpc/silence_incident',
  alertRules: '/rpc/alert_rules',
  agent: (id) => `/api/v1/analytics/agent/${encodeURIComponent(id)}`,
  agentTrends: (id) => `/api/v1/analytics/agent/${encodeURIComponent(id)}/trends`,
  session: (id) => `/api/analytics/sessions/${encodeURIComponent(id)}`,
  execution: (id) => `/api/analytics/executions/${encodeURIComponent(id)}`,
};

const $ = (id) => document.getElementById(id);
let charts = null;          // the charts module's promise (main.js's)
let hooks = null;           // {halt(verdict), status(text, kind)}

const state = {
  token: null,
  caller: { operator: false, tenant: null },
  range: O.DEFAULT_RANGE,
  tenantId: '',
  data: {},
  sorts: {},
  inflight: new Map(),
  timer: null,
  loads: 0,
  active: false,
  meaningful: false,
  detail: null,             // {kind: agent|tool|session|execution, id, label, mcpServer}
  detailData: null,         // {body, trends}
  costTrendGroup: null,     // the series of the cost trend chosen (null: costGroupFor's)
  costGroupBy: null,        // the group of the costs table chosen (null: costGroupFor's)
  metric: null,             // the custom metric shown (null: the first name)
  metricTags: null,         // its tag filter (an object of strings, or null)
  service: null,            // the service chosen {name, tenant} (null: the first listed)
  incidentStatus: 'open',   // the incidents listed: open|acknowledged|silenced|resolved|all
  action: null,             // the incident action being confirmed {kind, incident}
};

const scope = () => O.scopeParams(state.range, state.caller, state.tenantId);
const scopeOnly = () => (state.caller.operator && state.tenantId ? { tenantId: state.tenantId } : {});
const trendGroup = () => O.costGroupFor(state.caller, state.tenantId, state.costTrendGroup, O.COST_TREND_GROUPS);
const tableGroup = () => O.costGroupFor(state.caller, state.tenantId, state.costGroupBy);

// ---------------------------------------------------------------- views

const VIEWS = {
  realtime: { request: () => [OPS_ROUTES.sessions, { ...scopeOnly(), period: '24h' }], render: renderRealtime },
  overview: { request: () => [OPS_ROUTES.dashboard, scope()], render: renderOverview },
  agents: { request: () => [OPS_ROUTES.agentUsage, scope()], render: renderAgents, also: ['agenttable'] },
  top: { request: () => [OPS_ROUTES.topAgents, { ...scope(), metric: 'calls', top: 10 }], render: () => renderTable('top') },
  tools: { request: () => [OPS_ROUTES.toolUsage, scope()], render: renderTools },
  heatmap: { request: () => [OPS_ROUTES.toolHeatmap, scope()], render: renderHeatmap },
  workflows: { request: () => [OPS_ROUTES.workflows, scope()], render: renderWorkflows },
  errors: { request: () => [OPS_ROUTES.errorTrends, { ...scope(), granularity: O.granularityFor(state.range) }], render: renderErrors },
  errorcodes: { request: () => [OPS_ROUTES.errorSummary, scope()], render: () => renderTable('errorcodes') },
  platform: {
    operatorOnly: true,
    request: () => [OPS_ROUTES.platform, { ...scope(), granularity: O.granularityFor(state.range) }],
    render: renderPlatform,
  },
  health: { request: () => [OPS_ROUTES.health, {}], render: renderHealth },
  costtrend: {
    request: () => [OPS_ROUTES.costTrend, { ...scope(), granularity: O.granularityFor(state.range), group_by: trendGroup(), top: 5 }],
    render: renderCostTrend,
  },
  costmodels: { request: () => [OPS_ROUTES.costs, { ...scope(), group_by: 'model' }], render: renderCostModels },
  costgroups: { request: () => [OPS_ROUTES.costs, { ...scope(), group_by: tableGroup() }], render: renderCostGroups },
  metrics: { fetch: fetchMetrics, render: renderMetrics },
  services: { fetch: fetchServices, render: renderServices },
  incidents: { fetch: fetchIncidents, render: renderIncidents },
};
const CRITICAL = ['realtime', 'agents'];   // the first meaningful paint of the section

// Tables: which answer holds their rows.
const TABLES = {
  top: { view: 'top', columns: O.TOP_COLUMNS, rows: O.topRows, noun: 'agents', file: 'top-agents', link: { agentName: 'agent' } },
  agenttable: { view: 'agents', columns: O.AGENT_COLUMNS, rows: O.agentRows, noun: 'agents', file: 'agent-usage', link: { agentName: 'agent' } },
  tools: { view: 'tools', columns: O.TOOL_COLUMNS, rows: O.toolRows, noun: 'tools', file: 'tool-usage', link: { tool: 'tool' } },
  workflows: { view: 'workflows', columns: O.WORKFLOW_COLUMNS, rows: O.workflowRows, noun: 'workflow runs', file: 'workflow-performance' },
  errorcodes: { view: 'errorcodes', columns: O.ERROR_CODE_COLUMNS, rows: O.errorCodeRows, noun: 'failures', file: 'errors-by-code' },
  platform: { view: 'platform', columns: O.PLATFORM_COLUMNS, rows: O.platformRows, noun: 'buckets', file: 'platform-trends' },
  costmodels: { view: 'costmodels', columns: () => O.costColumns('model'), rows: O.costRows, noun: 'LLM calls', file: 'costs-by-model' },
  costgroups: {
    view: 'costgroups', columns: (body) => O.costColumns(body.groupBy), rows: O.costRows, noun: 'LLM calls',
    file: () => `costs-by-${(state.data.costgroups?.groupBy || tableGroup()).replace('_', '-')}`,
  },
  metrics: {
    view: 'metrics', columns: O.METRIC_SERIES_COLUMNS, rows: (body) => (body.series ? O.metricSeriesRows(body.series) : []),
    noun: 'points', file: () => `metric-${String(state.data.metrics?.series?.metric_name ?? 'none').replace(/[^A-Za-z0-9._-]/g, '_')}`,
  },
  services: { view: 'services', columns: O.SERVICE_COLUMNS, rows: (body) => O.serviceRows(body.summary), noun: 'services', file: 'services' },
  timeline: {
    view: 'services', columns: O.TIMELINE_COLUMNS, rows: (body) => (body.health ? O.timelineRows(body.health) : []), noun: 'services', quiet: true,
    file: () => `timeline-${String(state.data.services?.health?.service_name ?? 'none').replace(/[^A-Za-z0-9._-]/g, '_')}`,
  },
  incidents: {
    view: 'incidents', columns: O.INCIDENT_COLUMNS, rows: (body) => O.incidentRows(body.incidents), noun: 'incidents',
    file: () => `incidents-${state.data.incidents?.incidents?.status ?? state.incidentStatus}`, actions: incidentButtons,
  },
  rules: { view: 'incidents', columns: O.RULE_COLUMNS, rows: (body) => O.ruleRows(body.rules), noun: 'rules', file: 'alert-rules', quiet: true },
};

export function opsViews(caller) {
  return Object.keys(VIEWS).filter((v) => !VIEWS[v].operatorOnly || caller.operator);
}

function panelOf(view) {
  return $(`ops-panel-${view}`);
}

function setPanel(view, panelState, message = '') {
  const panels = [panelOf(view), ...(VIEWS[view]?.also || []).map(panelOf)];
  for (const panel of panels) {
    panel.dataset.state = panelState;
    panel.setAttribute('aria-busy', panelState === 'loading' ? 'true' : 'false');
    const status = panel.querySelector('.panel-status');
    status.textContent = message;
    status.hidden = !message;
    status.classList.toggle('error', panelState === 'error');
    if (panelState === 'error' || panelState === 'denied') {
      for (const e of panel.querySelectorAll('.chart, .table-wrap, .cards, .figures, .warn, .sub')) e.hidden = true;
      for (const b of panel.querySelectorAll('button.csv')) b.disabled = true;
    } else if (panelState === 'ready') {
      for (const e of panel.querySelectorAll('.table-wrap, .cards, .figures')) e.hidden = false;
    }
  }
}

function el(tag, attrs = {}, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  return e;
}

function cards(ul, list) {
  ul.replaceChildren(...list.map((c) => {
    const li = el('li', { class: c.warn ? 'card warn' : 'card', 'data-key': c.key, 'data-value': c.value === null || c.value === undefined ? '' : String(c.value) });
    li.append(el('span', { class: 'label' }, c.label), el('span', { class: 'value' }, c.text));
    if (c.detail) li.append(el('span', { class: 'detail' }, c.detail));
    return li;
  }));
}

function figures(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([k, v, key]) => {
    const dd = el('dd', { 'data-key': key || null });
    if (v instanceof Node) dd.append(v); else dd.textContent = v === null || v === undefined ? '—' : String(v);
    return [el('dt', {}, k), dd];
  }));
}

async function drawOrEmpty(view, chartEl, empty, draw) {
  const C = await charts;
  chartEl.hidden = Boolean(empty);
  if (empty) { C.clearChart(chartEl); return false; }
  draw(C, chartEl);
  return true;
}

const rangeText = () => ({ '24h': 'the last 24 hours', '7d': 'the last 7 days', '30d': 'the last 30 days', '90d': 'the last 90 days' }[state.range]);
const periodText = (p) => (p ? `${p.from.replace('T', ' ').slice(0, 16)} to ${p.to.replace('T', ' ').slice(0, 16)} UTC` : '');
function partialNote(i) {
  return i < 0 ? '' : ` * ${state.range === '24h' ? 'this hour' : 'today'} (UTC) is not over: its figures are partial.`;
}

function renderRealtime(body) {
  cards($('ops-realtime-cards'), O.realtimeCards(body));
  setPanel('realtime', 'ready');
}

function renderOverview(body) {
  cards($('ops-overview-cards'), O.overviewCards(body));
  const m = body.monitoring || {};
  // monitoring: service health (§6.5) and open incidents (§6.6); their
  // views are "Service health and SLA" and "Alerts and incidents"
  $('ops-overview-note').textContent = `${periodText(body.period)}. ` +
    `Open incidents: ${(m.open_incidents || []).length} (see "Alerts and incidents").`;
  setPanel('overview', body.current_metrics.events.total === 0 ? 'empty' : 'ready',
    body.current_metrics.events.total === 0 ? 'No events in this range.' : '');
}

async function renderAgents(body) {
  const rows = body.agents.map((a) => ({ label: O.agentName(a), value: a.executions, id: a.agentId }));
  const bars = O.topAndOther(rows.filter((r) => r.value > 0), 10, 'Other agents');
  $('ops-agents-note').textContent = `${S.formatInt(body.totalExecutions)} agent executions in ${rangeText()}; ` +
    `the 10 busiest agents${bars.some((b) => b.other) ? ', the rest summed' : ''}.`;
  const drawn = await drawOrEmpty('agents', $('chart-ops-agents'), bars.length === 0, (C, chart) => {
    chart.style.height = `${Math.max(160, bars.length * 26 + 32)}px`;
    C.chartById(chart.id)?.resize();
    C.drawBars(chart, bars, { name: 'executions', description: `Agent executions per agent in ${rangeText()}, most first.` });
  });
  setPanel('agents', drawn ? 'ready' : 'empty', drawn ? '' : 'No agent executions in this range.');
  renderTable('agenttable');
}

async function renderTools(body) {
  const bars = O.topAndOther(body.tools.map((t) => ({ label: `${t.tool} (${t.mcpServer ?? '—'})`, value: t.calls })), 12, 'Other tools');
  const total = body.tools.reduce((t, x) => t + x.calls, 0);
  $('ops-tools-note').textContent = `${S.formatInt(total)} tool calls in ${rangeText()}.`;
  await drawOrEmpty('tools', $('chart-ops-tools'), bars.length === 0, (C, chart) => {
    chart.style.height = `${Math.max(160, bars.length * 26 + 32)}px`;
    C.chartById(chart.id)?.resize();
    C.drawBars(chart, bars, { name: 'calls', color: '#009E73', description: `Tool calls per tool in ${rangeText()}, most first.` });
  });
  renderTable('tools');
}

const toolCellLabel = (row, hour, count) => S.heatmapCellLabel(row, hour, count).replace(/API call(s?)$/, 'tool call$1');

async function renderHeatmap(body) {
  const m = O.toolHeatmapMatrix(body);
  $('ops-heatmap-note').textContent = `${S.formatInt(m.total)} tool calls in ${rangeText()}, every tool, by UTC day of week and hour.`;
  const table = $('ops-heatmap-table');
  const head = el('tr');
  head.append(el('th', { scope: 'col' }, 'Day'));
  for (let h = 0; h < 24; h++) head.append(el('th', { scope: 'col' }, `${String(h).padStart(2, '0')}:00`));
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...S.HEATMAP_ROWS.map((r, i) => {
    const tr = el('tr');
    tr.append(el('th', { scope: 'row' }, r.name));
    m.matrix[i].forEach((count, h) => tr.append(el('td', { 'aria-label': toolCellLabel(i, h, count), 'data-dow': String(r.dow), 'data-hour': String(h) }, String(count))));
    return tr;
  }));
  const drawn = await drawOrEmpty('heatmap', $('chart-ops-heatmap'), m.total === 0, (C, chart) =>
    C.drawHeatmap(chart, m, `Heatmap of ${m.total} tool calls by day of week and hour, UTC, in ${rangeText()}.`, toolCellLabel, 'Tool calls'));
  setPanel('heatmap', drawn ? 'ready' : 'empty', drawn ? '' : 'No tool calls in this range.');
}

async function renderWorkflows(body) {
  const labels = body.series.map((s) => s.date);
  const partial = O.partialIndex(labels, 'day');
  const runs = body.series.reduce((t, s) => t + s.runs, 0);
  $('ops-workflows-note').textContent = `${S.formatInt(runs)} workflow runs, ${periodText(body.period)}, by day.${partialNote(partial)}`;
  await drawOrEmpty('workflows', $('chart-ops-workflows'), runs === 0, (C, chart) => C.drawSeries(chart, {
    labels, partial,
    axes: [{ name: 'runs', integer: true }, { name: 'p95 (ms)' }],
    series: [
      { type: 'bar', name: 'Successful runs', stack: 'runs', data: body.series.map((s) => s.runs - s.failures), color: '#0072B2' },
      { type: 'bar', name: 'Failed runs', stack: 'runs', data: body.series.map((s) => s.failures), color: '#D55E00' },
      { type: 'line', name: 'p95 duration (ms)', axis: 1, data: body.series.map((s) => s.p95), color: '#000000', dashed: true },
    ],
    description: `Workflow runs per day and their 95th percentile duration, ${periodText(body.period)}.`,
  }));
  renderTable('workflows');
}

async function renderErrors(body) {
  const t = O.errorTrendSeries(body);
  const partial = O.partialIndex(t.dates, body.granularity);
  $('ops-errors-note').textContent = `${S.formatInt(t.totals.failures)} failed of ${S.formatInt(t.totals.events)} events, ` +
    `${periodText(body.period)}, by ${body.granularity}.${partialNote(partial)}`;
  const drawn = await drawOrEmpty('errors', $('chart-ops-errors'), t.totals.events === 0, (C, chart) => C.drawSeries(chart, {
    labels: t.dates, partial,
    axes: [{ name: 'failures', integer: true }, { name: 'error rate', percent: true }],
    series: [
      { type: 'bar', name: 'Failures', data: t.failures, color: '#D55E00' },
      { type: 'line', name: 'Error rate', axis: 1, data: t.errorRate, color: '#000000' },
    ],
    description: `Failed events and the error rate per ${body.granularity}, ${periodText(body.period)}.`,
  }));
  setPanel('errors', drawn ? 'ready' : 'empty', drawn ? '' : 'No events in this range.');
}

async function renderPlatform(body) {
  const labels = body.trends.map((x) => x.date);
  const partial = O.partialIndex(labels, body.granularity);
  $('ops-platform-note').textContent = `Every tenant${body.tenant_id ? ` (narrowed to ${body.tenant_id})` : ''}, ${periodText(body.period)}, ` +
    `by ${body.granularity}.${partialNote(partial)}`;
  const events = body.trends.reduce((t, x) => t + x.events, 0);
  await drawOrEmpty('platform', $('chart-ops-platform'), events === 0, (C, chart) => C.drawSeries(chart, {
    labels, partial,
    axes: [{ name: 'events', integer: true }, { name: 'active', integer: true }],
    series: [
      { type: 'bar', name: 'Events', data: body.trends.map((x) => x.events), color: '#56B4E9' },
      { type: 'line', name: 'Active tenants', axis: 1, data: body.trends.map((x) => x.active_tenants), color: '#000000', dashed: true },
      { type: 'line', name: 'Active agents', axis: 1, data: body.trends.map((x) => x.active_agents), color: '#E69F00' },
    ],
    description: `Events per ${body.granularity} and the active tenants and agents, ${periodText(body.period)}.`,
  }));
  renderTable('platform');
}

function renderHealth(body) {
  const status = el('span', { class: `health-${body.status}` }, body.status);
  const pairs = [['Status', status, 'status']];
  if (body.version !== undefined) {
    const r = body.last_rollup;
    pairs.push(['Version', body.version, 'version'], ['Analytics enabled', body.enabled ? 'yes' : 'no', 'enabled'],
      ['Last rollup', r ? `${r.target_date}: ${r.status}, finished ${r.finished_at ?? '—'} (${S.formatInt(r.rows)} rows)` : 'none yet', 'last_rollup'],
      ['Days waiting for a rollup', String(body.days_waiting), 'days_waiting'],
      ['Pending deliveries', String(body.pending_deliveries), 'pending_deliveries'],
      ['Background worker', `${body.background_worker.running ? 'running' : 'not running'}${body.background_worker.preloaded ? ', preloaded' : ''}`, 'background_worker']);
  } else {
    pairs.push(['Details', 'for the platform\'s operators', null]);
  }
  figures($('ops-health-figures'), pairs);
  setPanel('health', 'ready');
}

// ---------------------------------------------------------------- costs (§6.4)

function unpriced(id, totals) {
  const note = O.unpricedNote(totals);
  $(id).textContent = note;
  $(id).hidden = !note;
}

const OTHER_COLOR = '#8c959f';

async function renderCostTrend(body) {
  const t = O.costTrendSeries(body);
  const partial = O.partialIndex(t.labels, body.granularity);
  const by = body.groupBy === 'none' ? '' : `, the ${body.series.length} costliest ${O.COST_GROUP_NOUNS[body.groupBy]}s${t.other ? ' and the rest as "other"' : ''}`;
  $('ops-costtrend-note').textContent = `${S.formatInt(t.totals.llmCalls)} LLM calls, ` +
    `${periodText(body.period)}, by ${body.granularity}${by}.${partialNote(partial)}`;
  $('ops-costtrend-group').value = body.groupBy;
  unpriced('ops-costtrend-unpriced', { unpricedCalls: t.totals.unpricedCalls });
  const series = t.series.map((x) => ({ type: 'bar', name: x.label, stack: 'cost', data: x.data }));
  if (t.other) series.push({ type: 'bar', name: 'Other', stack: 'cost', data: t.other, color: OTHER_COLOR });
  if (t.totals.unpricedCalls > 0) series.push({ type: 'line', name: 'Unpriced calls', axis: 1, data: t.unpriced, color: '#D55E00', dashed: true });
  const drawn = await drawOrEmpty('costtrend', $('chart-ops-costtrend'), t.totals.llmCalls === 0, (C, chart) => C.drawSeries(chart, {
    labels: t.labels, partial,
    axes: t.totals.unpricedCalls > 0 ? [{ name: 'USD' }, { name: 'unpriced calls', integer: true }] : [{ name: 'USD' }],
    series,
    description: `LLM cost in USD per ${body.granularity}${by}, ${periodText(body.period)}.`,
  }));
  setPanel('costtrend', drawn ? 'ready' : 'empty', drawn ? '' : 'No LLM calls in this range.');
  $('ops-costtrend-unpriced').hidden = !drawn || !O.unpricedNote({ unpricedCalls: t.totals.unpricedCalls });
}

function renderCostModels(body) {
  cards($('ops-costs-cards'), O.costCards(body.totals));
  $('ops-costmodels-note').textContent = `${periodText(body.period)}, in ${body.currency}. Costs are exact, shown with 6 decimals.`;
  unpriced('ops-costmodels-unpriced', body.totals);
  renderTable('costmodels');
}

function renderCostGroups(body) {
  $('ops-costgroups-name').textContent = O.COST_GROUP_NOUNS[body.groupBy];
  $('ops-costgroups-by').value = body.groupBy;
  $('ops-costgroups-note').textContent = `${S.formatInt(body.data.length)} groups, ${periodText(body.period)}, most cost first.`;
  unpriced('ops-costgroups-unpriced', body.totals);
  renderTable('costgroups');
}

// ---------------------------------------------------------------- custom metrics (§6.5)

// The metric explorer's answers: the names, then the chosen metric's
// statistics and time series over the range's hours, with its tags.  The
// picker is filled as soon as the names are in.
async function fetchMetrics(signal) {
  const names = await apiGet(OPS_ROUTES.metricNames, scopeOnly(), state.token, signal);
  if (names.verdict.kind !== 'ok') return names;
  const list = names.body.metrics;
  if (!list.some((m) => m.metric_name === state.metric)) state.metric = list.length ? list[0].metric_name : null;
  fillMetricPicker(list);
  const body = { names: names.body, stats: null, series: null };
  if (!state.metric) return { verdict: names.verdict, body };
  const q = { ...scopeOnly(), hours: O.metricHours(state.range), tags: state.metricTags ? JSON.stringify(state.metricTags) : null };
  const [stats, series] = await Promise.all([apiGet(OPS_ROUTES.metricStats(state.metric), q, state.token, signal),
    apiGet(OPS_ROUTES.metricSeries(state.metric), q, state.token, signal)]);
  const bad = [stats, series].find((r) => r.verdict.kind !== 'ok');
  if (bad) return bad;
  return { verdict: names.verdict, body: { ...body, stats: stats.body, series: series.body } };
}

function fillMetricPicker(list) {
  const sel = $('ops-metric-name');
  sel.replaceChildren(...(list.length ? list.map((m) => el('option', { value: m.metric_name }, O.metricLabel(m)))
    : [el('option', { value: '' }, 'none yet')]));
  sel.value = state.metric ?? '';
  sel.disabled = list.length === 0;
}

async function renderMetrics(body) {
  const platform = state.caller.operator && !state.tenantId;
  if (!body.stats) {
    $('ops-metric-cards').replaceChildren();
    renderTable('metrics');
    await drawOrEmpty('metrics', $('chart-ops-metric'), true, () => {});
    $('ops-table-metrics').closest('.table-wrap').hidden = true;
    $('ops-metrics-note').textContent = state.caller.operator && !state.tenantId
      ? 'Platform metrics (pick a tenant for its own).' : '';
    setPanel('metrics', 'empty', `${platform ? 'The platform has' : 'This tenant has'} recorded no custom metrics yet ` +
      '(POST /api/v1/analytics/metrics/record).');
    return;
  }
  const st = body.stats;
  const se = body.series;
  cards($('ops-metric-cards'), O.metricCards(st));
  const tags = O.tagsText(st.tags);
  $('ops-metrics-note').textContent = `${st.metric_name} (${st.metric_type}${st.unit ? `, in ${st.unit}` : ''}) of ${platform ? 'the platform' : 'this tenant'}` +
    `${tags ? `, tags ${tags}` : ''}: the last ${O.metricHours(state.range)} hours (${periodText(st.period)}), by ${se.bucket}; ` +
    'the last bucket is still going on.';
  renderTable('metrics');
  const labels = se.data.map((b) => b.timestamp);
  const drawn = await drawOrEmpty('metrics', $('chart-ops-metric'), st.count === 0, (C, chart) => C.drawSeries(chart, {
    labels,
    axes: [{ name: st.unit || 'value' }, { name: 'points', integer: true }],
    series: [
      { type: 'bar', name: 'Points', axis: 1, data: se.data.map((b) => b.count), color: 'rgba(86,180,233,0.45)' },
      { type: 'line', name: 'Average', data: se.data.map((b) => b.avg), color: '#0072B2' },
      { type: 'line', name: 'p95', data: se.data.map((b) => b.p95), color: '#000000', dashed: true },
    ],
    description: `${st.metric_name}: points, average and p95 per ${se.bucket} bucket over the last ${O.metricHours(state.range)} hours.`,
  }));
  setPanel('metrics', drawn ? 'ready' : 'empty', drawn ? '' : `No points of ${st.metric_name}${tags ? ` with tags ${tags}` : ''} in this range.`);
  $('ops-panel-metrics').querySelector('button.csv').disabled = !drawn;
  $('ops-table-metrics').closest('.table-wrap').hidden = !drawn;
}

// ---------------------------------------------------------------- health and SLA (§6.5)

// The status page, then the chosen service's timeline over the range's
// hours (at most 168) and its SLA over the range's days.
async function fetchServices(signal) {
  const sum = await apiGet(OPS_ROUTES.healthSummary, scopeOnly(), state.token, signal);
  if (sum.verdict.kind !== 'ok') return sum;
  const list = sum.body.services;
  const same = (s) => state.service && s.service_name === state.service.name && (s.tenant_id ?? null) === state.service.tenant;
  const svc = list.find(same) || list[0];
  state.service = svc ? { name: svc.service_name, tenant: svc.tenant_id ?? null } : null;
  const body = { summary: sum.body, health: null, sla: null };
  if (!svc) return { verdict: sum.verdict, body };
  const q = state.caller.operator && svc.tenant_id ? { tenantId: svc.tenant_id } : {};
  const [health, sla] = await Promise.all([
    apiGet(OPS_ROUTES.serviceHealth(svc.service_name), { ...q, hours: O.healthHours(state.range) }, state.token, signal),
    apiGet(OPS_ROUTES.sla(svc.service_name), { ...q, days: O.slaDays(state.range) }, state.token, signal)]);
  const bad = [health, sla].find((r) => r.verdict.kind !== 'ok');
  if (bad) return bad;
  return { verdict: sum.verdict, body: { ...body, health: health.body, sla: sla.body } };
}

function chooseService(r) {
  state.service = { name: r.service_name, tenant: r.tenant_id ?? null };
  state.sorts.timeline = null;
  return load(['services']);
}

function renderServices(body) {
  const sum = body.summary;
  const every = state.caller.operator && !state.tenantId;
  cards($('ops-services-cards'), O.healthCards(sum));
  $('ops-services-note').textContent = `${S.formatInt(sum.total_services)} service${sum.total_services === 1 ? '' : 's'} ${every ? 'of the platform and every tenant' : state.caller.operator ? `of tenant ${state.tenantId}` : 'of this tenant'}, ` +
    'each with the status of its latest check (unknown when it has none or it is stale).';
  const box = $('ops-service');
  box.hidden = !body.health;
  if (body.health) {
    const h = body.health;
    const sla = body.sla;
    $('h-ops-service').textContent = `${h.service_name}${h.tenant_id ? ` (tenant ${h.tenant_id})` : ''}: ${h.status}`;
    figures($('ops-service-figures'), [
      ['Status', h.status, 'status'], ['Circuit', h.circuit_state ?? '—', 'circuit_state'],
      ['Consecutive failures', String(h.consecutive_failures), 'consecutive_failures'],
      ['Latest check', h.latest_check ? `${h.latest_check.checked_at}: ${h.latest_check.status}${h.latest_check.error_message ? ` (${h.latest_check.error_message})` : ''}` : 'none', 'latest_check'],
      ...O.slaFigures(sla),
    ]);
    $('ops-service-note').textContent = `Timeline: the last ${O.healthHours(state.range)} hours (${periodText(h.period)}); ` +
      `SLA: ${periodText(sla.period)}, healthy and degraded time up, unhealthy down, unknown time left out.`;
    drawTimeline(h);
  }
  renderTable('timeline');
  renderTable('services');
  if (sum.total_services === 0) {
    setPanel('services', 'empty', `${every ? 'No service is' : 'No service of this tenant is'} registered yet (POST /api/v1/analytics/monitoring/services).`);
  }
}

function drawTimeline(h) {
  const bar = O.timelineBar(h);
  const div = $('ops-service-bar');
  div.setAttribute('aria-label', `Status of ${h.service_name} over ${periodText(h.period)}: ` +
    bar.segments.map((x) => `${x.status} from ${x.from} to ${x.to}`).join('; ') +
    (bar.events.length ? `. Circuit: ${bar.events.map((e) => `${e.state} at ${e.at}`).join('; ')}` : ''));
  div.replaceChildren(
    ...bar.segments.map((x) => {
      const d = el('div', { class: `seg st-${x.status}`, title: `${x.status}: ${x.from} to ${x.to}`, 'data-status': x.status });
      d.style.left = `${(x.start * 100).toFixed(4)}%`;
      d.style.width = `${(x.width * 100).toFixed(4)}%`;
      return d;
    }),
    ...bar.events.map((e) => {
      const d = el('div', { class: 'ev', title: `circuit ${e.state} at ${e.at}`, 'data-state': e.state });
      d.style.left = `${(e.pos * 100).toFixed(4)}%`;
      return d;
    }));
  $('ops-service-legend').replaceChildren(...O.STATUS_ORDER.map((st) => {
    const li = el('li');
    li.append(el('span', { class: `st-${st}` }), st);
    return li;
  }), el('li', {}, '| circuit-breaker change'));
}

// ---------------------------------------------------------------- incidents (§6.6)

async function fetchIncidents(signal) {
  const [inc, rules] = await Promise.all([
    apiGet(OPS_ROUTES.incidents, { ...scopeOnly(), status: state.incidentStatus, period: state.range }, state.token, signal),
    apiGet(OPS_ROUTES.alertRules, scopeOnly(), state.token, signal)]);
  const bad = [inc, rules].find((r) => r.verdict.kind !== 'ok');
  if (bad) return bad;
  return { verdict: inc.verdict, body: { incidents: inc.body, rules: rules.body } };
}

function renderIncidents(body) {
  const inc = body.incidents;
  $('ops-incident-status').value = inc.status;
  $('ops-incidents-note').textContent = `${S.formatInt(inc.total)} incident${inc.total === 1 ? '' : 's'} (${inc.status === 'open' ? 'open or acknowledged' : inc.status}) ` +
    `opened ${periodText({ from: `${inc.period.from}T00:00`, to: `${inc.period.to}T00:00` }).replace(/ 00:00/g, '').replace(' UTC', '')} (UTC days); ` +
    `${S.formatInt(body.rules.total)} rule${body.rules.total === 1 ? '' : 's'}.`;
  renderTable('rules');
  renderTable('incidents');
}

function incidentButtons(r) {
  const can = O.incidentActions(r.status);
  return ['acknowledge', 'silence', 'resolve'].filter((k) => can[k]).map((k) => {
    const b = el('button', { type: 'button', 'data-action': k, 'data-incident': String(r.id) }, k[0].toUpperCase() + k.slice(1));
    b.addEventListener('click', () => startAction(k, r));
    return b;
  });
}

function startAction(kind, r) {
  state.action = { kind, incident: r };
  const f = $('ops-incident-action');
  f.hidden = false;
  $('ops-incident-action-what').textContent = `${kind[0].toUpperCase() + kind.slice(1)} incident ${r.id} (${r.rule_name}, ${r.status}):`;
  $('ops-incident-text-label').hidden = kind === 'silence';
  $('ops-incident-text-label').firstChild.textContent = kind === 'resolve' ? 'Resolution notes ' : 'Note ';
  $('ops-incident-text').value = '';
  $('ops-incident-until-label').hidden = kind !== 'silence';
  $('ops-incident-until').value = O.inputFromDate(new Date(Date.now() + 3600000));
  (kind === 'silence' ? $('ops-incident-until') : $('ops-incident-text')).focus();
}

async function submitAction() {
  const a = state.action;
  if (!a) return;
  const id = a.incident.id;
  const tenant = state.caller.operator && state.tenantId ? { tenantId: state.tenantId } : {};
  const text = $('ops-incident-text').value.trim() || null;
  let res;
  if (a.kind === 'silence') {
    const until = O.untilFromInput($('ops-incident-until').value);
    if (!until) { hooks.status('Give the time, in UTC, until which the incident stays silenced.', 'error'); return; }
    res = await apiPost(OPS_ROUTES.silence, { id: String(id), until, ...tenant }, state.token);
  } else if (a.kind === 'acknowledge') {
    res = await apiPost(OPS_ROUTES.acknowledge(id), { note: text, ...tenant }, state.token);
  } else {
    res = await apiPost(OPS_ROUTES.resolve(id), { resolution_notes: text, ...tenant }, state.token);
  }
  if (res.verdict.kind === 'unauthorized') { hooks.halt(res.verdict); return; }
  if (res.verdict.kind !== 'ok') {
    hooks.status(`Incident ${id} could not be changed: ${res.verdict.message}${res.verdict.code ? ` (${res.verdict.code})` : ''}`, 'error');
    return;
  }
  state.action = null;
  $('ops-incident-action').hidden = true;
  hooks.status(`Incident ${id} is ${res.body.status}.`);
  await load(['incidents']);
}

// ---------------------------------------------------------------- tables

function tableRows(name) {
  const t = name === 'detail' ? detailTable() : TABLES[name];
  if (!t) return { t: null, rows: [], columns: [] };
  const body = name === 'detail' ? state.detailData?.tableBody : state.data[t.view];
  const columns = typeof t.columns === 'function' ? (body ? t.columns(body) : []) : t.columns;
  if (!body) return { t, rows: [], columns };
  const rows = t.rows(body);
  const s = state.sorts[name];
  return { t, rows: s && columns.some((c) => c.key === s.key) ? S.sortRows(rows, s.key, s.dir) : rows, columns };
}

function cellText(r, c) {
  if (c.type === 'usd') return O.costText(r);
  return c.type === 'percent' ? O.formatPercent(r[c.key]) : S.formatCell(r[c.key], c);
}

function renderTable(name) {
  const { t, rows, columns } = tableRows(name);
  const table = $(`ops-table-${name}`);
  const sort = state.sorts[name];
  const head = el('tr');
  for (const c of columns) {
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
  if (t.actions) head.append(el('th', { scope: 'col' }, 'Actions'));
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...rows.map((r) => {
    const tr = el('tr', { class: r.unpricedCalls > 0 ? 'unpriced' : null });
    columns.forEach((c, i) => {
      const cell = el(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : null, class: c.type === 'text' ? null : c.type === 'usd' ? 'num usd' : 'num' });
      const kind = (t.link && t.link[c.key]) || c.link;
      if (kind && r[c.key] !== null && r[c.key] !== undefined) {
        const b = el('button', { type: 'button', class: 'link', 'data-detail': kind }, S.formatCell(r[c.key], c));
        b.addEventListener('click', () => (kind === 'service' ? chooseService(r) : openDetail(detailOfRow(kind, r))));
        cell.append(b);
      } else {
        cell.textContent = cellText(r, c);
      }
      tr.append(cell);
    });
    if (t.actions) { const td = el('td', { class: 'actions' }); td.append(...t.actions(r)); tr.append(td); }
    return tr;
  }));
  table.closest('.table-wrap').hidden = false;
  const panel = table.closest('.panel');
  panel.querySelector('button.csv').disabled = rows.length === 0;
  if (name === 'detail' || t.quiet) return;
  const view = name === 'agenttable' ? 'agenttable' : t.view;
  const p = panelOf(view);
  if (rows.length === 0) { p.dataset.state = 'empty'; p.querySelector('.panel-status').hidden = false; p.querySelector('.panel-status').textContent = `No ${t.noun} in this range.`; }
  else if (p.dataset.state !== 'error') { p.dataset.state = 'ready'; p.setAttribute('aria-busy', 'false'); p.querySelector('.panel-status').hidden = true; p.querySelector('.panel-status').textContent = ''; }
}

function detailOfRow(kind, r) {
  if (kind === 'agent') return { kind, id: r.agentId, label: r.agentName };
  if (kind === 'tool') return { kind, id: r.tool, mcpServer: r.mcpServer, label: r.tool };
  return { kind, id: r.executionId ?? r.id, label: r.executionId ?? r.id };
}

function csvName(name) {
  const d = state.detail;
  const file = TABLES[name]?.file;
  const what = name === 'detail' ? `${d.kind}-${String(d.id).replace(/[^A-Za-z0-9._-]/g, '_')}` : typeof file === 'function' ? file() : file;
  return `ops-${what}_${state.range}${state.caller.operator && state.tenantId ? `_${state.tenantId}` : ''}.csv`;
}

function downloadCsv(name) {
  const { t, rows, columns } = tableRows(name);
  if (!t) return;
  const csv = S.toCsv(columns, rows);
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const a = el('a', { href: url, download: csvName(name) });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---------------------------------------------------------------- detail

function detailTable() {
  const d = state.detail;
  if (!d) return null;
  if (d.kind === 'agent') return { columns: O.AGENT_TREND_COLUMNS, rows: O.agentTrendRows, noun: 'buckets' };
  if (d.kind === 'session') return { columns: O.SESSION_EVENT_COLUMNS, rows: O.sessionEventRows, noun: 'events' };
  if (d.kind === 'execution') return { columns: O.EXECUTION_CALL_COLUMNS, rows: O.executionCallRows, noun: 'calls' };
  return null;
}

// Show the detail of an agent, a tool, a session or an execution.
export function openDetail(d) {
  state.detail = d;
  state.detailData = null;
  state.sorts.detail = null;
  const panel = $('ops-panel-detail');
  panel.hidden = false;
  $('h-ops-detail').textContent = { agent: 'Agent', tool: 'Tool', session: 'Session', execution: 'Execution' }[d.kind] + `: ${d.label ?? d.id}`;
  $('ops-detail-figures').replaceChildren();
  $('ops-detail-note').textContent = '';
  $('ops-table-detail').closest('.table-wrap').hidden = true;
  $('chart-ops-detail').hidden = true;
  panel.querySelector('button.csv').hidden = d.kind === 'tool';
  panel.scrollIntoView({ block: 'start' });
  return loadDetail();
}

async function getJson(path, params, signal) {
  const res = await apiGet(path, params, state.token, signal);
  return res;
}

async function loadDetail() {
  const d = state.detail;
  if (!d || !state.token) return;
  state.inflight.get('detail')?.abort();
  const c = new AbortController();
  state.inflight.set('detail', c);
  setDetail('loading', 'Loading…');
  try {
    let calls;
    if (d.kind === 'agent') {
      calls = [[OPS_ROUTES.agent(d.id), scope()], [OPS_ROUTES.agentTrends(d.id), { ...scope(), granularity: O.granularityFor(state.range) }]];
    } else if (d.kind === 'tool') {
      calls = [[OPS_ROUTES.toolHeatmap, { ...scope(), tool: d.id }]];
    } else if (d.kind === 'session') {
      calls = [[OPS_ROUTES.session(d.id), scopeOnly()]];
    } else {
      calls = [[OPS_ROUTES.execution(d.id), scopeOnly()]];
    }
    const answers = await Promise.all(calls.map(([p, q]) => getJson(p, q, c.signal)));
    if (c.signal.aborted || state.detail !== d) return;
    const bad = answers.find((a) => a.verdict.kind !== 'ok');
    if (bad) { verdictToPanel('detail', bad.verdict); return; }
    await renderDetail(d, answers.map((a) => a.body));
  } catch (e) {
    if (e.name !== 'AbortError') setDetail('error', `This view could not be drawn: ${e.message}`);
  } finally {
    if (state.inflight.get('detail') === c) state.inflight.delete('detail');
  }
}

function setDetail(s, message) {
  const panel = $('ops-panel-detail');
  panel.dataset.state = s;
  panel.setAttribute('aria-busy', s === 'loading' ? 'true' : 'false');
  const st = panel.querySelector('.panel-status');
  st.textContent = message || '';
  st.hidden = !message;
  st.classList.toggle('error', s === 'error');
  if (s === 'error' || s === 'denied') {
    $('ops-detail-figures').replaceChildren();
    $('chart-ops-detail').hidden = true;
    $('ops-table-detail').closest('.table-wrap').hidden = true;
    panel.querySelector('button.csv').disabled = true;
  }
}

function linkTo(kind, id) {
  if (!id) return '—';
  const b = el('button', { type: 'button', class: 'link', 'data-detail': kind }, id);
  b.addEventListener('click', () => openDetail({ kind, id, label: id }));
  return b;
}

async function renderDetail(d, [body, trends]) {
  const chart = $('chart-ops-detail');
  if (d.kind === 'agent') {
    figures($('ops-detail-figures'), [
      ['Agent id', body.agent_id, 'agent_id'], ['Tenant', body.tenant_id, 'tenant_id'],
      ['Executions', S.formatInt(body.total_calls), 'total_calls'], ['Failed', S.formatInt(body.failed_calls), 'failed_calls'],
      ['Success rate', O.formatPercent(body.success_rate), 'success_rate'],
      ['Response time p50 / p95 / p99', [body.response_time_p50, body.response_time_p95, body.response_time_p99].map((v) => O.formatFixed(v, 1)).join(' / ') + ' ms', 'response_time'],
      ['Tool calls', S.formatInt(body.tool_calls), 'tool_calls'], ['LLM calls', S.formatInt(body.llm_calls), 'llm_calls'],
      ['Tokens', S.formatInt(body.tokens), 'tokens'],
    ]);
    $('ops-detail-note').textContent = `${periodText(body.period)}. Its executions per ${trends.granularity}, oldest first.`;
    state.detailData = { body, tableBody: trends };
    const labels = trends.trends.map((t) => t.date);
    const partial = O.partialIndex(labels, trends.granularity);
    chart.hidden = false;
    const C = await charts;
    C.drawSeries(chart, {
      labels, partial,
      axes: [{ name: 'executions', integer: true }],
      series: [
        { type: 'bar', name: 'Successful', stack: 'x', data: trends.trends.map((t) => t.successful_calls), color: '#0072B2' },
        { type: 'bar', name: 'Failed', stack: 'x', data: trends.trends.map((t) => t.failed_calls), color: '#D55E00' },
      ],
      description: `Executions of ${O.agentName(body)} per ${trends.granularity}.`,
    });
    renderTable('detail');
  } else if (d.kind === 'tool') {
    const row = state.data.tools?.tools.find((t) => t.tool === d.id && t.mcpServer === d.mcpServer);
    const m = O.toolHeatmapMatrix(body);
    figures($('ops-detail-figures'), [
      ['MCP server', d.mcpServer ?? '—', 'mcpServer'], ['Calls (every server)', S.formatInt(m.total), 'calls'],
      ...(row ? [['Success rate', O.formatPercent(row.successRate), 'successRate'], ['p95 latency', `${O.formatFixed(row.latencyMs.p95, 1)} ms`, 'p95'],
        ['Last called', row.lastCalledAt, 'lastCalledAt']] : []),
    ]);
    $('ops-detail-note').textContent = `Its calls by UTC day of week and hour in ${rangeText()}.`;
    state.detailData = { body, tableBody: null };
    chart.hidden = m.total === 0;
    const C = await charts;
    if (m.total) C.drawHeatmap(chart, m, `Heatmap of ${m.total} calls of ${d.id}.`, toolCellLabel, 'Tool calls');
  } else if (d.kind === 'session') {
    const t = body.totals;
    figures($('ops-detail-figures'), [
      ['First event', t.firstAt, 'firstAt'], ['Last event', t.lastAt, 'lastAt'], ['Duration', `${O.formatFixed(t.durationMs / 1000, 1)} s`, 'durationMs'],
      ['Events', S.formatInt(t.events), 'events'], ['Executions', S.formatInt(t.executions), 'executions'], ['Failures', S.formatInt(t.failures), 'failures'],
      ['Tokens', S.formatInt(t.tokens), 'tokens'], ['User', t.userId ?? '—', 'userId'],
      ['Agents', t.agents.map((a) => O.agentName(a)).join(', ') || '—', 'agents'],
    ]);
    $('ops-detail-note').textContent = `Its events in time order${body.truncated ? ' (the first 1,000: there are more)' : ''}. Choose an execution for its calls.`;
    state.detailData = { body, tableBody: body };
    chart.hidden = true;
    renderTable('detail');
  } else {
    const x = body.execution;
    figures($('ops-detail-figures'), [
      ['Agent', x.agentName ?? x.agentId ?? '—', 'agent'], ['Started', x.startedAt ?? '—', 'startedAt'],
      ['Duration', x.durationMs === null ? '—' : `${O.formatFixed(x.durationMs, 1)} ms`, 'durationMs'], ['Status', x.status ?? '—', 'status'],
      ['Error', x.errorCode ?? '—', 'errorCode'], ['Session', linkTo('session', x.sessionId), 'sessionId'], ['Workflow', x.workflowId ?? '—', 'workflowId'],
      ['Tool calls', S.formatInt(body.totals.toolCalls), 'toolCalls'], ['LLM calls', S.formatInt(body.totals.llmCalls), 'llmCalls'],
      ['Tokens', S.formatInt(body.totals.tokens), 'tokens'],
    ]);
    $('ops-detail-note').textContent = `Its tool and LLM calls in time order${body.truncated ? ' (the first 1,000: there are more)' : ''}.`;
    state.detailData = { body, tableBody: body };
    chart.hidden = true;
    renderTable('detail');
  }
  setDetail('ready', '');
  $('ops-detail-figures').hidden = false;
}

function closeDetail() {
  state.inflight.get('detail')?.abort();
  state.detail = null;
  state.detailData = null;
  $('ops-panel-detail').hidden = true;
}

// ---------------------------------------------------------------- loading

function verdictToPanel(view, v) {
  const set = view === 'detail' ? setDetail : (s, m) => setPanel(view, s, m);
  if (v.kind === 'unauthorized' || v.kind === 'forbidden') { hooks.halt(v); return; }
  if (v.kind === 'rate_limited') { set('error', `Too many requests: the server still refused after ${RATE_TRIES} tries. Refresh in a moment.`); return; }
  if (v.status === 403) { set('denied', `Not available to this token: ${v.message}${v.code ? ` (${v.code})` : ''}`); return; }
  set('error', v.code ? `${v.message} (${v.code})` : v.message);
}

// apiGet, waiting as the server asks when it answers 429 (Retry-After,
// at most RATE_WAIT_S seconds a time, RATE_TRIES requests in all), as the
// tenant views do: a section of ~20 views refreshed in quick succession can
// outrun a token's bucket, and a view should not fail for it.
const RATE_TRIES = 5;
const RATE_WAIT_S = 30;
async function apiGet(path, params, token, signal) {
  for (let tries = 1; ; tries++) {
    const res = await askOnce(path, params, token, signal);
    if (res.verdict.kind !== 'rate_limited' || tries >= RATE_TRIES || signal?.aborted) return res;
    const s = Math.min(RATE_WAIT_S, res.verdict.seconds);
    hooks.status(`Too many requests: the server asked us to wait. Retrying in ${s} s…`, 'warning');
    await new Promise((resolve, reject) => {
      const t = setTimeout(resolve, s * 1000);
      signal?.addEventListener('abort', () => { clearTimeout(t); reject(new DOMException('aborted', 'AbortError')); }, { once: true });
    });
  }
}

// A counter that resolves its promise once n parties are done.
function gate(n) {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  let left = n;
  if (left <= 0) resolve();
  return { promise, done: () => { left -= 1; if (left === 0) resolve(); } };
}

// The critical views (the real-time figures and the agent distribution)
// go first: the other requests start once their answers are in (on 2 cores
// eleven queries at once slow every one of them), and the other views draw
// once the critical ones are on screen (painted: the frame that shows them).
async function fetchView(view, controller, gates) {
  const critical = CRITICAL.includes(view);
  let answered = false;
  const answer = () => { if (critical && !answered) { answered = true; gates.answered.done(); } };
  let res;
  try {
    if (!critical) await gates.answered.promise;
    if (controller.signal.aborted || !state.active) return;
    res = VIEWS[view].fetch ? await VIEWS[view].fetch(controller.signal)
      : await apiGet(...VIEWS[view].request(), state.token, controller.signal);
  } catch (e) {
    if (e.name === 'AbortError') return;
    throw e;
  } finally {
    answer();
  }
  if (controller.signal.aborted || !state.active) return;
  if (res.verdict.kind !== 'ok') { verdictToPanel(view, res.verdict); return; }
  state.data[view] = res.body;
  if (!critical) await gates.painted;
  if (controller.signal.aborted || !state.active) return;
  try {
    await VIEWS[view].render(res.body);
  } catch (e) {
    setPanel(view, 'error', `This view could not be drawn: ${e.message}`);
  }
}

// Ask every view of the section (or the given ones) again.
export async function load(views = opsViews(state.caller)) {
  if (!state.token || !state.active) return;
  clearTimeout(state.timer);
  const main = $('ops');
  main.dataset.busy = 'true';
  hooks.hash();
  $('ops-label').textContent = `Operations: ${rangeText()}, ${state.caller.operator ? (state.tenantId ? `tenant ${state.tenantId}` : 'every tenant') : 'this tenant'} (UTC)`;
  const crit = CRITICAL.filter((v) => views.includes(v));
  const drawn = gate(crit.length);
  const gates = { answered: gate(crit.length), painted: drawn.promise.then(paintedFrame) };
  const jobs = views.map((view) => {
    state.inflight.get(view)?.abort();
    const c = new AbortController();
    state.inflight.set(view, c);
    const p = panelOf(view);
    setPanel(view, 'loading', p.dataset.state === 'loading' || !state.data[view] ? 'Loading…' : 'Updating…');
    return fetchView(view, c, gates).catch((e) => setPanel(view, 'error', e.message)).finally(() => {
      if (state.inflight.get(view) === c) state.inflight.delete(view);
      if (crit.includes(view)) drawn.done();
    });
  });
  if (state.detail) jobs.push(loadDetail());
  await Promise.all(jobs);
  if (!state.active || [...state.inflight.keys()].length) return;
  main.dataset.busy = 'false';
  state.loads += 1;
  main.dataset.loads = String(state.loads);
  const failed = views.filter((v) => ['error'].includes(panelOf(v).dataset.state)).length;
  const at = new Date().toISOString().slice(11, 19);
  if (failed) hooks.status(`Updated at ${at} UTC, but ${failed} of ${views.length} views could not be loaded: see each view's message.`, 'error');
  else hooks.status(`Updated at ${at} UTC.${$('ops-auto').checked ? ' Next update in 30 s.' : ''}`);
  schedule();
}

function schedule() {
  clearTimeout(state.timer);
  if ($('ops-auto').checked && state.active && state.token) state.timer = setTimeout(() => load(), O.REFRESH_SECONDS * 1000);
}

// Resolves at the start of the frame that shows what the critical views
// drew; the first time both drew, that frame is the section's first
// meaningful paint (performance mark 'ops:meaningful').
function paintedFrame() {
  return new Promise((r) => requestAnimationFrame(() => {
    if (!state.meaningful && state.data.realtime && state.data.agents) {
      state.meaningful = true;
      performance.mark('ops:meaningful');
    }
    r();
  }));
}

// ---------------------------------------------------------------- section

// Show the section for token (caller from its claims), with the range and
// tenant of the fragment.
export function show(token, caller, { range, tenant } = {}) {
  const first = state.token !== token;
  state.token = token;
  state.caller = caller;
  if (O.RANGES.includes(range)) state.range = range;
  state.tenantId = caller.operator && tenant && O.UUID_RE.test(tenant) ? tenant.toLowerCase() : '';
  if (first) { state.data = {}; state.sorts = {}; state.loads = 0; state.meaningful = false; state.service = null; state.action = null; closeDetail(); }
  state.active = true;
  $('ops-range').value = state.range;
  $('ops-tenant').value = state.tenantId;
  $('ops-tenant-label').hidden = !caller.operator;
  for (const [name, v] of Object.entries(VIEWS)) if (v.operatorOnly) panelOf(name).hidden = !caller.operator;
  syncCostPickers();
  $('ops').hidden = false;
  $('ops-controls').hidden = false;
  return load();
}

// The cost pickers: grouping by tenant is for an operator looking at every
// tenant; each shows the group its view asks for.
function syncCostPickers() {
  const everyTenant = state.caller.operator && !state.tenantId;
  for (const o of document.querySelectorAll('#ops option[data-operator-only]')) { o.hidden = !everyTenant; o.disabled = !everyTenant; }
  $('ops-costtrend-group').value = trendGroup();
  $('ops-costgroups-by').value = tableGroup();
}

export function hide() {
  state.active = false;
  clearTimeout(state.timer);
  for (const c of state.inflight.values()) c.abort();
  state.inflight.clear();
  $('ops').hidden = true;
  $('ops-controls').hidden = true;
}

export function forget() {
  hide();
  state.token = null;
  state.data = {};
  closeDetail();
}

export function hashPart() {
  return `section=ops&range=${state.range}${state.caller.operator && state.tenantId ? `&tenant=${state.tenantId}` : ''}`;
}

export function init(chartsModule, h) {
  charts = chartsModule;
  hooks = h;
  $('ops-range').addEventListener('change', () => { state.range = $('ops-range').value; load(); });
  $('ops-controls').addEventListener('submit', (e) => e.preventDefault());
  $('ops-tenant').addEventListener('change', () => {
    const v = $('ops-tenant').value.trim();
    if (v && !O.UUID_RE.test(v)) { hooks.status('A tenant id is a UUID, e.g. 00000000-0000-4000-8000-000000000001; empty for every tenant.', 'error'); return; }
    state.tenantId = v.toLowerCase();
    closeDetail();
    syncCostPickers();
    load();
  });
  $('ops-refresh').addEventListener('click', () => load());
  $('ops-auto').addEventListener('change', schedule);
  $('ops-detail-close').addEventListener('click', closeDetail);
  $('ops-costtrend-group').addEventListener('change', (e) => { state.costTrendGroup = e.target.value; load(['costtrend']); });
  $('ops-costgroups-by').addEventListener('change', (e) => {
    state.costGroupBy = e.target.value;
    state.sorts.costgroups = null;
    load(['costgroups']);
  });
  $('ops-metric-name').addEventListener('change', (e) => { state.metric = e.target.value; load(['metrics']); });
  $('ops-metric-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = O.parseTags($('ops-metric-tags').value);
    if (t.error) { hooks.status(t.error, 'error'); return; }
    state.metricTags = t.tags;
    $('ops-metric-tags').value = O.tagsText(t.tags);
    if ($('ops-metric-name').value) state.metric = $('ops-metric-name').value;
    load(['metrics']);
  });
  $('ops-lookup').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('ops-lookup-id').value.trim();
    if (!/^[A-Za-z0-9._:-]{1,256}$/.test(id)) { hooks.status('An id has 1 to 256 of A-Z a-z 0-9 . _ : -', 'error'); return; }
    openDetail({ kind: $('ops-lookup-kind').value, id, label: id });
  });
  $('ops-incident-status').addEventListener('change', (e) => { state.incidentStatus = e.target.value; state.sorts.incidents = null; load(['incidents']); });
  $('ops-incident-filter').addEventListener('submit', (e) => e.preventDefault());
  $('ops-incident-action').addEventListener('submit', (e) => { e.preventDefault(); submitAction(); });
  $('ops-incident-cancel').addEventListener('click', () => { state.action = null; $('ops-incident-action').hidden = true; });
  for (const b of document.querySelectorAll('button.csv[data-ops-table]')) b.addEventListener('click', () => downloadCsv(b.dataset.opsTable));
}

// For the browser tests.
export const opsState = state;
