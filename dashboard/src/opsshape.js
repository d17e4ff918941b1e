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
