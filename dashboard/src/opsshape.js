// opsshape.js: the data shaping of the operations section (contract §6.3).
// Pure functions from the API's JSON (docs/operator.md) to what the views
// draw: no DOM, no fetch (test/dashboard/opsshape.test.mjs checks them).
import { HEATMAP_ROWS, formatInt } from './shape.js';

// The ranges of the section: the `period` the §6.3 functions take.  Every
// function takes all four (1-365 days); hour buckets only up to 7 days.
export const RANGES = ['24h', '7d', '30d', '90d'];
export const DEFAULT_RANGE = '7d';
export const REFRESH_SECONDS = 30;

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The bucket size of the trend views for a range: hours for 24 h, else days.
export function granularityFor(range) {
  return range === '24h' ? 'hour' : 'day';
}

// Who the token speaks for: an operator (role analytics_operator, no tenant
// claim) or a tenant.  claims as shape.jwtClaims gives them (null: unknown,
// treated as a tenant: the API decides).
export function callerOf(claims) {
  const tenant = claims && (claims.tenant_id || claims.organization_id);
  if (claims && claims.role === 'analytics_operator' && !tenant) return { operator: true, tenant: null };
  return { operator: false, tenant: tenant || null };
}

// The query parameters of a call: the range, and the tenant an operator
// picked (a tenant's token never names a tenant: the API scopes it).
export function scopeParams(range, caller, tenantId) {
  const p = { period: range };
  if (caller.operator && tenantId) p.tenantId = tenantId;
  return p;
}

// The real-time figures, from session_activity over the last 24 hours.
export function realtimeCards(body) {
  return [
    { key: 'activeSessions', label: 'Active sessions', value: body.activeSessions, text: formatInt(body.activeSessions),
      detail: 'an event in the last 15 minutes' },
    { key: 'queriesPerHour', label: 'Queries per hour', value: queriesPerHour(body),
      text: formatFixed(queriesPerHour(body), 1), detail: `${formatInt(body.executions)} agent executions in 24 h` },
    { key: 'avgResponseTimeMs', label: 'Average response time', value: body.avgResponseTimeMs,
      text: body.avgResponseTimeMs === null ? '—' : `${formatFixed(body.avgResponseTimeMs / 1000, 2)} s`, detail: 'of agent executions' },
    { key: 'successRate', label: 'Success rate', value: body.successRate, text: formatPercent(body.successRate),
      detail: 'of agent executions' },
  ];
}

// Agent executions per hour over the 24 hours of the real-time answer
// (one decimal).
export function queriesPerHour(body) {
  return Math.round((body.executions / 24) * 10) / 10;
}

// seed 002's current_metrics as cards (the dashboard function).
export function overviewCards(body) {
  const m = body.current_metrics;
  return [
    { key: 'events', label: 'Events', value: m.events.total, text: formatInt(m.events.total), detail: `${formatPercent(m.events.error_rate)} failed` },
    { key: 'calls', label: 'Agent executions', value: m.calls.total, text: formatInt(m.calls.total), detail: `${formatInt(m.calls.failed)} failed` },
    { key: 'sessions', label: 'Sessions', value: m.sessions.total, text: formatInt(m.sessions.total), detail: `${formatInt(m.sessions.active)} active now` },
    { key: 'users', label: 'Users', value: m.users.total, text: formatInt(m.users.total), detail: `${formatInt(m.users.new)} new, ${formatInt(m.users.active)} active now` },
    { key: 'agents', label: 'Agents', value: m.agents.total, text: formatInt(m.agents.total), detail: `of ${formatInt(m.agents.registered)} registered; ${formatInt(m.agents.new)} new` },
    { key: 'tokens', label: 'Tokens', value: m.tokens.total, text: formatInt(m.tokens.total), detail: `${formatInt(m.tokens.input)} in, ${formatInt(m.tokens.output)} out` },
  ];
}

export function formatFixed(n, digits) {
  return n === null || n === undefined ? '—'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
export function formatPercent(r) {
  return r === null || r === undefined ? '—' : `${(r * 100).toFixed(2)} %`;
}

// The busiest `limit` rows by key, the rest summed into one "Other" row:
// what a distribution chart draws.  rows are {label, value}.
export function topAndOther(rows, limit, otherLabel) {
  const sorted = [...rows].sort((a, b) => b.value - a.value || String(a.label).localeCompare(String(b.label)));
  const shown = sorted.slice(0, limit);
  const rest = sorted.slice(limit);
  if (rest.length) shown.push({ label: `${otherLabel} (${rest.length})`, value: rest.reduce((t, r) => t + r.value, 0), other: true });
  return shown;
}

// Display name of an agent of a §6.3 answer (camelCase or snake_case).
export function agentName(a) {
  const name = a.agentName ?? a.agent_name;
  const id = a.agentId ?? a.agent_id;
  return name || `agent ${String(id).slice(0, 8)}`;
}

// ---- tables: columns ({key, label, type: text|number|percent|ms, digits}),
// and the rows of each answer (raw values: what the CSV holds).

export const AGENT_COLUMNS = [
  { key: 'agentName', label: 'Agent', type: 'text' },
  { key: 'agentId', label: 'Agent id', type: 'text' },
  { key: 'executions', label: 'Executions', type: 'number' },
  { key: 'share', label: 'Share', type: 'percent' },
  { key: 'successes', label: 'Successes', type: 'number' },
  { key: 'failures', label: 'Failures', type: 'number' },
  { key: 'timeouts', label: 'Timeouts', type: 'number' },
  { key: 'p50', label: 'p50 (ms)', type: 'number', digits: 1 },
  { key: 'p95', label: 'p95 (ms)', type: 'number', digits: 1 },
  { key: 'avg', label: 'Average (ms)', type: 'number', digits: 1 },
  { key: 'toolCalls', label: 'Tool calls', type: 'number' },
  { key: 'llmCalls', label: 'LLM calls', type: 'number' },
  { key: 'tokens', label: 'Tokens', type: 'number' },
];
export function agentRows(body) {
  return body.agents.map((a) => ({
    agentName: agentName(a), agentId: a.agentId, executions: a.executions, share: a.share, successes: a.successes,
    failures: a.failures, timeouts: a.timeouts, p50: a.durationMs.p50, p95: a.durationMs.p95, avg: a.durationMs.avg,
    toolCalls: a.toolCalls, llmCalls: a.llmCalls, tokens: a.inputTokens + a.outputTokens,
  }));
}

export const TOP_COLUMNS = [
  { key: 'rank', label: 'Rank', type: 'number' },
  { key: 'agentName', label: 'Agent', type: 'text' },
  { key: 'agentId', label: 'Agent id', type: 'text' },
  { key: 'calls', label: 'Executions', type: 'number' },
  { key: 'tokens', label: 'Tokens', type: 'number' },
  { key: 'failures', label: 'Failures', type: 'number' },
];
export function topRows(body) {
  return body.agents.map((a) => ({ rank: a.rank, agentName: agentName(a), agentId: a.agentId, calls: a.calls, tokens: a.tokens, failures: a.failures }));
}

export const TOOL_COLUMNS = [
  { key: 'tool', label: 'Tool', type: 'text' },
  { key: 'mcpServer', label: 'MCP server', type: 'text' },
  { key: 'calls', label: 'Calls', type: 'number' },
  { key: 'successRate', label: 'Success rate', type: 'percent' },
  { key: 'failures', label: 'Failures', type: 'number' },
  { key: 'p50', label: 'p50 (ms)', type: 'number', digits: 1 },
  { key: 'p95', label: 'p95 (ms)', type: 'number', digits: 1 },
  { key: 'agents', label: 'Agents', type: 'number' },
  { key: 'lastCalledAt', label: 'Last called (UTC)', type: 'text' },
];
export function toolRows(body) {
  return body.tools.map((t) => ({
    tool: t.tool, mcpServer: t.mcpServer, calls: t.calls, successRate: t.successRate, failures: t.failures,
    p50: t.latencyMs.p50, p95: t.latencyMs.p95, agents: t.agents, lastCalledAt: t.lastCalledAt,
  }));
}

export const WORKFLOW_COLUMNS = [
  { key: 'workflowType', label: 'Workflow type', type: 'text' },
  { key: 'runs', label: 'Runs', type: 'number' },
  { key: 'successRate', label: 'Success rate', type: 'percent' },
  { key: 'failures', label: 'Failures', type: 'number' },
  { key: 'p50', label: 'p50 (ms)', type: 'number', digits: 1 },
  { key: 'p95', label: 'p95 (ms)', type: 'number', digits: 1 },
  { key: 'avgAgentsPerRun', label: 'Agents per run', type: 'number', digits: 2 },
  { key: 'avgToolCallsPerRun', label: 'Tool calls per run', type: 'number', digits: 2 },
];
export function workflowRows(body) {
  return body.workflowTypes.map((w) => ({
    workflowType: w.workflowType, runs: w.runs, successRate: w.successRate, failures: w.failures,
    p50: w.durationMs.p50, p95: w.durationMs.p95, avgAgentsPerRun: w.avgAgentsPerRun, avgToolCallsPerRun: w.avgToolCallsPerRun,
  }));
}

export const ERROR_CODE_COLUMNS = [
  { key: 'errorCode', label: 'Error code', type: 'text' },
  { key: 'count', label: 'Failures', type: 'number' },
  { key: 'lastSeenAt', label: 'Last seen (UTC)', type: 'text' },
];
export function errorCodeRows(body) {
  return body.byCode.map((c) => ({ errorCode: c.errorCode, count: c.count, lastSeenAt: c.lastSeenAt }));
}

export const PLATFORM_COLUMNS = [
  { key: 'date', label: 'Bucket', type: 'text' },
  { key: 'active_tenants', label: 'Active tenants', type: 'number' },
  { key: 'active_agents', label: 'Active agents', type: 'number' },
  { key: 'new_agents', label: 'New agents', type: 'number' },
  { key: 'active_users', label: 'Active users', type: 'number' },
  { key: 'new_users', label: 'New users', type: 'number' },
  { key: 'events', label: 'Events', type: 'number' },
  { key: 'failures', label: 'Failures', type: 'number' },
  { key: 'error_rate', label: 'Error rate', type: 'percent' },
  { key: 'api_p95', label: 'API p95 (ms)', type: 'number', digits: 1 },
  { key: 'tokens', label: 'Tokens', type: 'number' },
];
export function platformRows(body) {
  return body.trends.map((t) => Object.fromEntries(PLATFORM_COLUMNS.map((c) => [c.key, t[c.key]])));
}

export const AGENT_TREND_COLUMNS = [
  { key: 'date', label: 'Bucket', type: 'text' },
  { key: 'total_calls', label: 'Executions', type: 'number' },
  { key: 'failed_calls', label: 'Failed', type: 'number' },
  { key: 'success_rate', label: 'Success rate', type: 'percent' },
  { key: 'response_time_p95', label: 'p95 (ms)', type: 'number', digits: 1 },
  { key: 'tool_calls', label: 'Tool calls', type: 'number' },
  { key: 'llm_calls', label: 'LLM calls', type: 'number' },
  { key: 'tokens', label: 'Tokens', type: 'number' },
];
export function agentTrendRows(body) {
  return body.trends.map((t) => Object.fromEntries(AGENT_TREND_COLUMNS.map((c) => [c.key, t[c.key]])));
}

export const SESSION_EVENT_COLUMNS = [
  { key: 'occurredAt', label: 'Time (UTC)', type: 'text' },
  { key: 'eventType', label: 'Event', type: 'text' },
  { key: 'agentId', label: 'Agent id', type: 'text' },
  { key: 'executionId', label: 'Execution', type: 'text', link: 'execution' },
  { key: 'toolName', label: 'Tool', type: 'text' },
  { key: 'model', label: 'Model', type: 'text' },
  { key: 'tokens', label: 'Tokens', type: 'number' },
  { key: 'latencyMs', label: 'Latency (ms)', type: 'number', digits: 1 },
  { key: 'success', label: 'Success', type: 'text' },
  { key: 'errorCode', label: 'Error', type: 'text' },
];
export function sessionEventRows(body) {
  return body.events.map((e) => Object.fromEntries(SESSION_EVENT_COLUMNS.map((c) => [c.key, e[c.key] ?? null])));
}

export const EXECUTION_CALL_COLUMNS = [
  { key: 'occurredAt', label: 'Time (UTC)', type: 'text' },
  { key: 'eventType', label: 'Call', type: 'text' },
  { key: 'toolName', label: 'Tool', type: 'text' },
  { key: 'mcpServer', label: 'MCP server', type: 'text' },
  { key: 'model', label: 'Model', type: 'text' },
  { key: 'tokens', label: 'Tokens', type: 'number' },
  { key: 'latencyMs', label: 'Latency (ms)', type: 'number', digits: 1 },
  { key: 'success', label: 'Success', type: 'text' },
  { key: 'errorCode', label: 'Error', type: 'text' },
];
export function executionCallRows(body) {
  return body.calls.map((e) => Object.fromEntries(EXECUTION_CALL_COLUMNS.map((c) => [c.key, e[c.key] ?? null])));
}

// ---- charts.

// The 7 x 24 matrix of tool_heatmap's cells, every tool summed (or one tool,
// when the answer was asked for one).  Throws on a cell the contract does
// not allow.
export function toolHeatmapMatrix(body) {
  const rowOf = new Map(HEATMAP_ROWS.map((r, i) => [r.dow, i]));
  const matrix = HEATMAP_ROWS.map(() => new Array(24).fill(0));
  let total = 0;
  for (const c of body.cells) {
    const row = rowOf.get(c.dow);
    if (row === undefined || !Number.isInteger(c.hour) || c.hour < 0 || c.hour > 23 || !(c.count >= 0)) {
      throw new Error(`bad heatmap cell ${JSON.stringify(c)}`);
    }
    matrix[row][c.hour] += c.count;
    total += c.count;
  }
  const max = Math.max(0, ...matrix.flat());
  return { matrix, total, max };
}

// error_trends as series: failures (bars) and the error rate (a line).
export function errorTrendSeries(body) {
  return {
    dates: body.buckets.map((b) => b.bucket),
    failures: body.buckets.map((b) => b.failures),
    errorRate: body.buckets.map((b) => b.errorRate),
    totals: body.buckets.reduce((t, b) => ({ events: t.events + b.events, failures: t.failures + b.failures }), { events: 0, failures: 0 }),
  };
}

// The label of a bucket (a date, or an hour's start) on an axis.
export function bucketLabel(b) {
  return b.date ?? b.timestamp ?? b.bucket;
}

// Which bucket of a trend holds the moment `now` (a Date) and is therefore
// partial: index of the last bucket that starts at or before now, when the
// period reaches now (its last bucket is today's day, hour, week or month);
// -1 when the trend ends before now.  labels: 'YYYY-MM-DD' or timestamps;
// granularity: hour | day | week | month.
export function partialIndex(labels, granularity, now = new Date()) {
  if (!labels.length) return -1;
  const last = labels[labels.length - 1];
  const start = Date.parse(last.length === 10 ? `${last}T00:00:00Z` : last);
  const span = { hour: 3600000, day: 86400000, week: 7 * 86400000 }[granularity];
  let end;
  if (span) {
    // a clipped first label (hour windows) is not a bucket start: use the
    // next full bucket
    end = granularity === 'hour' ? Math.floor(start / 3600000) * 3600000 + 3600000
      : granularity === 'week' ? weekEnd(start) : start + span;
  } else {
    const d = new Date(start);
    end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  const t = now.getTime();
  return t >= start && t < end ? labels.length - 1 : -1;
}

// The end of the ISO week (Monday 00:00 UTC next) of the instant ms.
function weekEnd(ms) {
  const d = new Date(ms);
  const dow = (d.getUTCDay() + 6) % 7;   // Monday 0
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - dow + 7);
}

// A bucket label as an axis shows it: hours as 'MM-DD HH:00', days as they
// are; the partial bucket gets a trailing ' *'.
export function axisLabel(label, isPartial) {
  const text = label.length > 10 ? `${label.slice(5, 10)} ${label.slice(11, 16)}` : label;
  return isPartial ? `${text} *` : text;
}

// The section and the operations view's range and tenant, from the
// fragment ('#section=ops&range=30d&tenant=…') or, for the redirect of
// seed 003's GET /api/analytics/dashboard, the query ('?section=ops': a
// query keeps the fragment of a sign-in link, a Location fragment would
// replace it).  Unknown or malformed parts are null.
export function parseOpsLocation(hash, search = '') {
  const h = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const q = new URLSearchParams(String(search || '').replace(/^\?/, ''));
  const section = h.get('section') || q.get('section');
  const range = h.get('range');
  const tenant = h.get('tenant');
  return {
    section: section === 'ops' || section === 'tenant' ? section : null,
    range: RANGES.includes(range) ? range : null,
    tenant: tenant && UUID_RE.test(tenant) ? tenant.toLowerCase() : null,
  };
}

// ---- costs (contract §6.4, docs/costs.md) and custom metrics (§6.5,
// docs/metrics.md).

// The `hours` of the custom metric functions (1-8760) for a range: rolling
// hours ending now (the cost functions take the range as `period`).
export const RANGE_HOURS = { '24h': 24, '7d': 168, '30d': 720, '90d': 2160 };
export function metricHours(range) {
  const h = RANGE_HOURS[range];
  if (!h) throw new Error(`unknown range ${range}`);
  return h;
}

// The group_by of the cost views.  trend: cost_trend's (agent, tenant,
// model); table: costs' (every one).  tenant is for operators only.
export const COST_TREND_GROUPS = ['tenant', 'agent', 'model'];
export const COST_GROUPS = ['tenant', 'agent', 'user', 'model', 'mcp_server', 'tool', 'day'];
export const COST_GROUP_NAMES = {
  tenant: 'Tenant', agent: 'Agent', user: 'User', model: 'Model', mcp_server: 'MCP server', tool: 'Tool', day: 'Day (UTC)',
};
export const COST_GROUP_NOUNS = {
  tenant: 'tenant', agent: 'agent', user: 'user', model: 'model', mcp_server: 'MCP server', tool: 'tool', day: 'day',
};

// The group a cost view shows unless one was chosen: an operator looking at
// every tenant compares tenants, else (a tenant, or an operator who picked
// one) agents.  A choice of tenant by a tenant token (or when a tenant is
// picked) falls back to the same.
export function costGroupFor(caller, tenantId, chosen = null, allowed = COST_GROUPS) {
  const everyTenant = caller.operator && !tenantId;
  if (chosen && allowed.includes(chosen) && (chosen !== 'tenant' || everyTenant)) return chosen;
  return everyTenant ? 'tenant' : 'agent';
}

// A cost in USD as the contract shows it: 6 decimals.
export function formatUsd(n) {
  return n === null || n === undefined ? '—'
    : `$${n.toLocaleString('en-US', { minimumFractionDigits: 6, maximumFractionDigits: 6 })}`;
}

// The cost cell of a row of costs: never a silent $0 for unpriced usage.
// All its calls unpriced: 'unpriced'; some: the priced cost '+ unpriced'.
export function costText(row) {
  if (row.unpricedCalls > 0 && row.unpricedCalls >= row.llmCalls) return 'unpriced';
  if (row.unpricedCalls > 0) return `${formatUsd(row.costUsd)} + unpriced`;
  return formatUsd(row.costUsd);
}

// The columns of a costs table grouped by groupBy (ids for agents, tenants
// and users beside their names).
export function costColumns(groupBy) {
  return [
    { key: 'label', label: COST_GROUP_NAMES[groupBy] || groupBy, type: 'text' },
    ...(['agent', 'tenant', 'user'].includes(groupBy) ? [{ key: 'key', label: `${COST_GROUP_NAMES[groupBy]} id`, type: 'text' }] : []),
    { key: 'costUsd', label: 'Cost (USD)', type: 'usd' },
    { key: 'share', label: 'Share of cost', type: 'percent' },
    { key: 'llmCalls', label: 'LLM calls', type: 'number' },
    { key: 'inputTokens', label: 'Input tokens', type: 'number' },
    { key: 'cachedInputTokens', label: 'Cached input tokens', type: 'number' },
    { key: 'cacheWriteTokens', label: 'Cache-write tokens', type: 'number' },
    { key: 'outputTokens', label: 'Output tokens', type: 'number' },
    { key: 'unpricedCalls', label: 'Unpriced calls', type: 'number' },
    { key: 'unpricedTokens', label: 'Unpriced tokens', type: 'number' },
  ];
}

// The rows of a costs answer (raw values: what the CSV holds).  A group
// without a key (llm_calls with no tool or MCP server) is labelled '(none)'.
export function costRows(body) {
  return body.data.map((d) => ({
    label: d.label ?? d.key ?? '(none)', key: d.key, costUsd: d.costUsd, share: d.share, llmCalls: d.llmCalls,
    inputTokens: d.inputTokens, cachedInputTokens: d.cachedInputTokens, cacheWriteTokens: d.cacheWriteTokens,
    outputTokens: d.outputTokens, unpricedCalls: d.unpricedCalls, unpricedTokens: d.unpricedTokens,
  }));
}

// The totals of a costs answer as cards.
export function costCards(totals) {
  const t = totals;
  return [
    { key: 'costUsd', label: 'Cost (USD)', value: t.costUsd, text: formatUsd(t.costUsd),
      detail: t.unpricedCalls > 0 ? 'of the priced calls only' : 'every LLM call priced' },
    { key: 'llmCalls', label: 'LLM calls', value: t.llmCalls, text: formatInt(t.llmCalls),
      detail: `${formatInt(t.llmCalls - t.unpricedCalls)} priced` },
    { key: 'inputTokens', label: 'Input tokens', value: t.inputTokens, text: formatInt(t.inputTokens),
      detail: `${formatInt(t.cachedInputTokens)} cached, ${formatInt(t.cacheWriteTokens)} cache-write` },
    { key: 'outputTokens', label: 'Output tokens', value: t.outputTokens, text: formatInt(t.outputTokens) },
    { key: 'unpricedCalls', label: 'Unpriced calls', value: t.unpricedCalls, text: formatInt(t.unpricedCalls),
      detail: `${formatInt(t.unpricedTokens)} tokens, not in the cost`, warn: t.unpricedCalls > 0 },
  ];
}

// The warning of a cost view with unpriced usage ('' when none).  totals:
// {unpricedCalls, unpricedTokens?}.
export function unpricedNote(totals) {
  if (!totals || !(totals.unpricedCalls > 0)) return '';
  const tokens = totals.unpricedTokens === undefined ? '' : ` (${formatInt(totals.unpricedTokens)} tokens)`;
  return `${formatInt(totals.unpricedCalls)} LLM call${totals.unpricedCalls === 1 ? '' : 's'}${tokens} used models with no price: ` +
    'they are not in these costs. An operator (or the tenant, for its own price) sets one with POST /api/v1/analytics/costs/prices.';
}

// cost_trend as chart series: one per top series (stacked), 'other' when
// grouped, the unpriced calls per bucket, and the totals.
export function costTrendSeries(body) {
  const labels = body.buckets.map((b) => b.bucket);
  const grouped = Array.isArray(body.series) && body.groupBy !== 'none';
  const series = grouped
    ? body.series.map((s, i) => ({ key: s.key, label: s.label ?? s.key ?? '(none)', data: body.buckets.map((b) => b.series[i].costUsd) }))
    : [{ key: null, label: 'Cost', data: body.buckets.map((b) => b.costUsd) }];
  const other = grouped ? body.buckets.map((b) => b.other) : null;
  const sum = (xs) => xs.reduce((t, x) => t + x, 0);
  return {
    labels,
    series,
    other: other && other.some((x) => x !== 0) ? other : null,
    cost: body.buckets.map((b) => b.costUsd),
    unpriced: body.buckets.map((b) => b.unpricedCalls),
    totals: {
      costUsd: Math.round(sum(body.buckets.map((b) => b.costUsd)) * 1e6) / 1e6,
      llmCalls: sum(body.buckets.map((b) => b.llmCalls)),
      unpricedCalls: sum(body.buckets.map((b) => b.unpricedCalls)),
    },
  };
}

// The tag filter typed by the user: 'env=prod, region=eu' or a JSON object
// of strings; empty: none.  -> {tags: object|null} or {error: text}.  The
// rules are record_metric's (docs/metrics.md): at most 16 tags, names
// ^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$, values of at most 256 characters.
export const TAG_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:/-]{0,63}$/;
export function parseTags(text) {
  const s = String(text ?? '').trim();
  if (!s) return { tags: null };
  let tags;
  if (s.startsWith('{') || s.startsWith('[')) {
    try { tags = JSON.parse(s); } catch { return { error: 'Tags: not valid JSON.' }; }
    if (!tags || typeof tags !== 'object' || Array.isArray(tags)) return { error: 'Tags: a JSON object of strings.' };
  } else {
    tags = {};
    for (const part of s.split(',')) {
      const p = part.trim();
      if (!p) continue;
      const i = p.indexOf('=');
      if (i <= 0) return { error: `Tags: "${p}" is not name=value.` };
      tags[p.slice(0, i).trim()] = p.slice(i + 1).trim();
    }
  }
  const entries = Object.entries(tags);
  if (entries.length > 16) return { error: 'Tags: at most 16.' };
  for (const [k, v] of entries) {
    if (!TAG_NAME_RE.test(k)) return { error: `Tags: "${k}" is not a tag name (a letter or _, then letters, digits, _ . : / -; at most 64).` };
    if (typeof v !== 'string') return { error: `Tags: the value of ${k} must be a string.` };
    if (v.length > 256) return { error: `Tags: the value of ${k} is longer than 256 characters.` };
  }
  return { tags: entries.length ? Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : null };
}

// The tag filter as the field shows it: 'env=prod, region=eu'.
export function tagsText(tags) {
  return tags ? Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(', ') : '';
}

// A metric of metric_names as the picker shows it.
export function metricLabel(m) {
  return `${m.metric_name} (${m.metric_type}${m.unit ? `, ${m.unit}` : ''})`;
}

// metric_statistics as cards: seed 002's count, avg, min, max, p50, p95,
// p99, and the sum (and the rate per second of a counter).
export function metricCards(s) {
  const unit = s.unit ? ` ${s.unit}` : '';
  const num = (v) => (v === null || v === undefined ? '—' : `${formatNumber(v)}${unit}`);
  const list = [
    { key: 'count', label: 'Points', value: s.count, text: formatInt(s.count) },
    { key: 'avg', label: 'Average', value: s.avg, text: num(s.avg) },
    { key: 'min', label: 'Minimum', value: s.min, text: num(s.min) },
    { key: 'max', label: 'Maximum', value: s.max, text: num(s.max) },
    { key: 'p50', label: 'p50', value: s.p50, text: num(s.p50) },
    { key: 'p95', label: 'p95', value: s.p95, text: num(s.p95) },
    { key: 'p99', label: 'p99', value: s.p99, text: num(s.p99) },
    { key: 'sum', label: 'Sum', value: s.sum, text: num(s.sum) },
  ];
  if (s.metric_type === 'counter') {
    list.push({ key: 'rate_per_second', label: 'Rate per second', value: s.rate_per_second, text: formatNumber(s.rate_per_second) });
  }
  return list;
}

// A number of any size, at most 4 decimals ('—' for null).
export function formatNumber(v) {
  return v === null || v === undefined ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: 4 });
}

export const METRIC_SERIES_COLUMNS = [
  { key: 'timestamp', label: 'Bucket start (UTC)', type: 'text' },
  { key: 'count', label: 'Points', type: 'number' },
  { key: 'sum', label: 'Sum', type: 'number', digits: 4 },
  { key: 'avg', label: 'Average', type: 'number', digits: 4 },
  { key: 'min', label: 'Minimum', type: 'number', digits: 4 },
  { key: 'max', label: 'Maximum', type: 'number', digits: 4 },
  { key: 'p50', label: 'p50', type: 'number', digits: 4 },
  { key: 'p95', label: 'p95', type: 'number', digits: 4 },
  { key: 'p99', label: 'p99', type: 'number', digits: 4 },
];
export function metricSeriesRows(body) {
  return body.data.map((b) => Object.fromEntries(METRIC_SERIES_COLUMNS.map((c) => [c.key, b[c.key] ?? null])));
}

// ---------------------------------------------------------------- health, SLA (§6.5) and incidents (§6.6)

// The window of the health timeline and of the SLA for a range: the
// timeline covers at most 168 hours (the API's bound), the SLA whole days.
export function healthHours(range) {
  return { '24h': 24, '7d': 168, '30d': 168, '90d': 168 }[range];
}
export function slaDays(range) {
  return { '24h': 1, '7d': 7, '30d': 30, '90d': 90 }[range];
}

export const STATUS_ORDER = ['unhealthy', 'degraded', 'unknown', 'healthy'];

export function healthCards(body) {
  return [
    { key: 'overall_status', label: 'Overall', value: body.overall_status, text: body.overall_status, warn: body.overall_status !== 'healthy' },
    { key: 'total_services', label: 'Services', value: body.total_services, text: String(body.total_services) },
    { key: 'healthy', label: 'Healthy', value: body.healthy, text: String(body.healthy) },
    { key: 'degraded', label: 'Degraded', value: body.degraded, text: String(body.degraded), warn: body.degraded > 0 },
    { key: 'unhealthy', label: 'Unhealthy', value: body.unhealthy, text: String(body.unhealthy), warn: body.unhealthy > 0 },
    { key: 'unknown', label: 'Unknown', value: body.unknown, text: String(body.unknown) },
  ];
}

export const SERVICE_COLUMNS = [
  { key: 'service_name', label: 'Service', type: 'text', link: 'service' },
  { key: 'tenant_id', label: 'Tenant', type: 'text' },
  { key: 'service_type', label: 'Type', type: 'text' },
  { key: 'status', label: 'Status', type: 'text' },
  { key: 'response_time_ms', label: 'Response time (ms)', type: 'number', digits: 1 },
  { key: 'consecutive_failures', label: 'Consecutive failures', type: 'number' },
  { key: 'circuit_state', label: 'Circuit', type: 'text' },
  { key: 'last_checked', label: 'Last checked (UTC)', type: 'text' },
];
export function serviceRows(body) {
  return body.services.map((s) => ({
    service_name: s.service_name, tenant_id: s.tenant_id ?? null, service_type: s.service_type ?? null, status: s.status,
    response_time_ms: s.response_time_ms ?? null, consecutive_failures: s.consecutive_failures,
    circuit_state: s.circuit_state ?? null, last_checked: s.last_checked ?? null,
  }));
}

// The timeline of a service: its status stretches and circuit changes in
// one table, in time order (a circuit change after the stretch it falls in).
export const TIMELINE_COLUMNS = [
  { key: 'from', label: 'From (UTC)', type: 'text' },
  { key: 'to', label: 'To (UTC)', type: 'text' },
  { key: 'kind', label: 'Kind', type: 'text' },
  { key: 'state', label: 'Status or circuit state', type: 'text' },
  { key: 'seconds', label: 'Seconds', type: 'number', digits: 3 },
];
export function timelineRows(body) {
  const rows = [
    ...body.timeline.map((t) => ({ from: t.from, to: t.to, kind: 'status', state: t.status, seconds: t.seconds })),
    ...body.circuit_timeline.map((c) => ({ from: c.at, to: null, kind: 'circuit', state: c.state, seconds: null })),
  ];
  return rows.map((r, i) => ({ r, i, t: Date.parse(r.from) }))
    .sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.r);
}

// The stretches of a timeline as fractions of its window (for the bar),
// and the circuit changes as positions in it (0..1, clamped).
export function timelineBar(body) {
  const from = Date.parse(body.period.from);
  const span = Math.max(1, Date.parse(body.period.to) - from);
  const pos = (iso) => Math.min(1, Math.max(0, (Date.parse(iso) - from) / span));
  return {
    segments: body.timeline.map((t) => ({ status: t.status, start: pos(t.from), width: pos(t.to) - pos(t.from), from: t.from, to: t.to })),
    events: body.circuit_timeline.map((c) => ({ state: c.state, at: c.at, pos: pos(c.at) })),
  };
}

export function durationText(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const neg = seconds < 0;
  let s = Math.abs(seconds);
  const parts = [];
  for (const [n, u] of [[86400, 'd'], [3600, 'h'], [60, 'min']]) {
    if (s >= n) { parts.push(`${Math.floor(s / n)} ${u}`); s %= n; }
  }
  if (s > 0 || parts.length === 0) parts.push(`${Number(s.toFixed(1))} s`);
  return `${neg ? '−' : ''}${parts.join(' ')}`;
}

export function slaFigures(sla) {
  return [
    ['Uptime', sla.uptime_percentage === null ? '— (nothing known)' : `${sla.uptime_percentage} %`, 'uptime_percentage'],
    ['Target', `${sla.target} %`, 'target'],
    ['Compliant', sla.compliant === null ? '—' : sla.compliant ? 'yes' : 'no', 'compliant'],
    ['Downtime incidents', String(sla.downtime_incidents), 'downtime_incidents'],
    ['Downtime', durationText(sla.downtime_seconds), 'downtime_seconds'],
    ['Unknown time', durationText(sla.unknown_seconds), 'unknown_seconds'],
    ['Error budget remaining', durationText(sla.error_budget_remaining_seconds), 'error_budget_remaining_seconds'],
    ['Average response time', sla.average_response_time_ms === null ? '—' : `${sla.average_response_time_ms} ms`, 'average_response_time_ms'],
  ];
}

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'silenced', 'resolved', 'all'];
export const INCIDENT_COLUMNS = [
  { key: 'id', label: 'Id', type: 'number' },
  { key: 'status', label: 'Status', type: 'text' },
  { key: 'severity', label: 'Severity', type: 'text' },
  { key: 'rule_name', label: 'Rule', type: 'text' },
  { key: 'metric_name', label: 'Metric', type: 'text' },
  { key: 'condition', label: 'Condition', type: 'text' },
  { key: 'value', label: 'Value', type: 'number', digits: 2 },
  { key: 'started_at', label: 'Started (UTC)', type: 'text' },
  { key: 'tenant_id', label: 'Tenant', type: 'text' },
  { key: 'acknowledged_at', label: 'Acknowledged (UTC)', type: 'text' },
  { key: 'silenced_until', label: 'Silenced until (UTC)', type: 'text' },
  { key: 'resolved_at', label: 'Resolved (UTC)', type: 'text' },
  { key: 'notes', label: 'Notes', type: 'text' },
];
export const OPERATOR_SYMBOLS = { gt: '>', lt: '<', eq: '=', gte: '≥', lte: '≤' };
export function incidentRows(body) {
  return body.incidents.map((i) => ({
    id: i.id, status: i.status, severity: i.severity, rule_name: i.rule_name, metric_name: i.metric_name,
    condition: `${OPERATOR_SYMBOLS[i.condition_operator] ?? i.condition_operator} ${i.threshold}`, value: i.value,
    started_at: i.started_at, tenant_id: i.tenant_id ?? null, acknowledged_at: i.acknowledged_at ?? null,
    silenced_until: i.silenced_until ?? null, resolved_at: i.resolved_at ?? null,
    notes: [i.note, i.resolution_notes].filter((x) => x).join(' / ') || null,
  }));
}
// Which actions an incident of this status allows (§6.6's transitions).
export function incidentActions(status) {
  return {
    acknowledge: status === 'open' || status === 'silenced',
    silence: status !== 'resolved',
    resolve: status !== 'resolved',
  };
}

export const RULE_COLUMNS = [
  { key: 'name', label: 'Rule', type: 'text' },
  { key: 'metric_name', label: 'Metric', type: 'text' },
  { key: 'condition_operator', label: 'Condition', type: 'text' },
  { key: 'threshold', label: 'Threshold', type: 'number', digits: 2 },
  { key: 'severity', label: 'Severity', type: 'text' },
  { key: 'aggregation', label: 'Aggregation', type: 'text' },
  { key: 'window_seconds', label: 'Window (s)', type: 'number' },
  { key: 'state', label: 'State', type: 'text' },
  { key: 'last_value', label: 'Last value', type: 'number', digits: 2 },
  { key: 'scope', label: 'Scope', type: 'text' },
];
export function ruleRows(body) {
  return body.rules.map((r) => ({
    name: r.name, metric_name: r.metric_name, condition_operator: r.condition_operator, threshold: r.threshold,
    severity: r.severity, aggregation: r.aggregation, window_seconds: r.window_seconds, state: r.state,
    last_value: r.last_value ?? null, scope: r.scope,
  }));
}

// "until" for silence_incident from a datetime-local value read as UTC
// (YYYY-MM-DDTHH:MM): RFC 3339 with its offset, or null.
export function untilFromInput(v) {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v || '') ? `${v}:00Z` : null;
}
export function inputFromDate(d) {
  return d.toISOString().slice(0, 16);
}
