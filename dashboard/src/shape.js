// shape.js: the dashboard's data shaping.  Pure functions from the API's JSON
// (docs/api.md) to what the views draw: no DOM, no fetch, so node's test
// runner checks them directly (test/dashboard/shape.test.mjs).
//
// Vocabulary: a "day" is a UTC date as 'YYYY-MM-DD' text, as the API speaks
// it; a "period" is {from, to, days} with both ends counted.

export const MAX_RANGE_DAYS = 365;        // usage-summary, token-trends, tables
export const AGENT_ACTIVITY_MAX_DAYS = 90; // agent-activity and the heatmap's days
export const PRESETS = [7, 30, 90];

const DAY_MS = 86400000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

// Is s a real calendar day in YYYY-MM-DD form?
export function isDay(s) {
  if (typeof s !== 'string' || !DAY_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

// The UTC day of a Date (today by default).
export function utcDay(date = new Date()) {
  return date.toISOString().slice(0, 10);
}

// day + n days.
export function addDays(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

// Days from a to b, both counted (a <= b gives >= 1).
export function spanDays(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

// The period of a preset (7, 30 or 90 days ending today) or of a custom
// range; {error} when the custom range is outside the API's limits.
export function periodFor(choice, today, custom = {}) {
  if (choice !== 'custom') {
    const n = Number(choice);
    if (!PRESETS.includes(n)) return { error: `unknown period ${choice}` };
    return { from: addDays(today, -(n - 1)), to: today, days: n, preset: n };
  }
  const { from, to } = custom;
  if (!isDay(from) || !isDay(to)) return { error: 'Enter both dates as YYYY-MM-DD.' };
  if (from > to) return { error: 'The start date is after the end date.' };
  if (to > today) return { error: `The end date is after today (${today}, UTC).` };
  const days = spanDays(from, to);
  if (days > MAX_RANGE_DAYS) return { error: `A period can cover at most ${MAX_RANGE_DAYS} days (this one covers ${days}).` };
  return { from, to, days, preset: null };
}

// agent-activity answers at most 90 days: the last 90 days of a longer period.
export function agentActivityPeriod(period) {
  if (period.days <= AGENT_ACTIVITY_MAX_DAYS) return { from: period.from, to: period.to, days: period.days, clipped: false };
  return { from: addDays(period.to, -(AGENT_ACTIVITY_MAX_DAYS - 1)), to: period.to, days: AGENT_ACTIVITY_MAX_DAYS, clipped: true };
}

// agents/activity takes "the last N days ending today": N covering the
// period's start, at most 90.  Returns {days, from, to}: what it covers.
export function heatmapWindow(period, today) {
  const days = Math.min(AGENT_ACTIVITY_MAX_DAYS, Math.max(1, spanDays(period.from, today)));
  return { days, from: addDays(today, -(days - 1)), to: today };
}

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export function formatInt(n) {
  return n === null || n === undefined ? '—' : INT.format(n);
}

// The summary cards of a usage-summary body, in display order.
export function summaryCards(body) {
  const s = body.summary;
  return [
    { key: 'totalApiCalls', label: 'API calls', value: s.totalApiCalls },
    { key: 'totalTokenIssuances', label: 'Token issuances', value: s.totalTokenIssuances },
    { key: 'totalCredentialRotations', label: 'Credential rotations', value: s.totalCredentialRotations },
    { key: 'activeAgentCount', label: 'Active agents', value: s.activeAgentCount },
    { key: 'averageDailyApiCalls', label: 'Average API calls a day', value: s.averageDailyApiCalls },
    { key: 'peakDailyApiCalls', label: 'Peak day', value: s.peakDailyApiCalls,
      detail: s.peakDate ? `on ${s.peakDate}` : 'no calls yet' },
  ];
}

// No events of any kind in the period.
export function isEmptySummary(body) {
  const s = body.summary;
  return s.totalApiCalls === 0 && s.totalTokenIssuances === 0 && s.totalCredentialRotations === 0 && s.activeAgentCount === 0;
}

// Heatmap rows, Monday first; dow is PostgreSQL's (0 = Sunday).
export const HEATMAP_ROWS = [
  { dow: 1, name: 'Monday' }, { dow: 2, name: 'Tuesday' }, { dow: 3, name: 'Wednesday' },
  { dow: 4, name: 'Thursday' }, { dow: 5, name: 'Friday' }, { dow: 6, name: 'Saturday' }, { dow: 0, name: 'Sunday' },
];

// The dense 7 x 24 matrix (rows as HEATMAP_ROWS, columns hours 0-23) of an
// agents/activity body, with its total and maximum.  Throws on a cell the
// contract does not allow, rather than drawing it in the wrong place.
export function heatmapMatrix(body) {
  const rowOf = new Map(HEATMAP_ROWS.map((r, i) => [r.dow, i]));
  const matrix = HEATMAP_ROWS.map(() => new Array(24).fill(0));
  let total = 0;
  let max = 0;
  for (const c of body.data) {
    const row = rowOf.get(c.dow);
    if (row === undefined || !Number.isInteger(c.hour) || c.hour < 0 || c.hour > 23 || !(c.count >= 0)) {
      throw new Error(`bad heatmap cell ${JSON.stringify(c)}`);
    }
    matrix[row][c.hour] += c.count;
    total += c.count;
    max = Math.max(max, matrix[row][c.hour]);
  }
  return { matrix, total, max };
}

// One cell's label: what the tooltip and the accessible table say.
export function heatmapCellLabel(rowIndex, hour, count) {
  const h = String(hour).padStart(2, '0');
  const next = String((hour + 1) % 24).padStart(2, '0');
  return `${HEATMAP_ROWS[rowIndex].name} ${h}:00–${next}:00 UTC: ${formatInt(count)} API call${count === 1 ? '' : 's'}`;
}

// The [hour, row, count] triples a heatmap series draws.
export function heatmapCells(matrix) {
  const cells = [];
  matrix.forEach((row, r) => row.forEach((count, hour) => cells.push([hour, r, count])));
  return cells;
}

// token-trends: the columns of the trend chart, and the period's totals.
export function trendSeries(body) {
  const pts = body.dataPoints;
  const out = {
    granularity: body.granularity,
    dates: pts.map((p) => p.date),
    successful: pts.map((p) => p.successfulIssuances),
    failed: pts.map((p) => p.failedIssuances),
    uniqueAgents: pts.map((p) => p.uniqueAgents),
    totals: { total: 0, successful: 0, failed: 0 },
  };
  for (const p of pts) {
    out.totals.total += p.totalIssuances;
    out.totals.successful += p.successfulIssuances;
    out.totals.failed += p.failedIssuances;
  }
  return out;
}

// Display name of an agent: its name, else the start of its id.
export function agentLabel(agent) {
  return agent.agentName || `agent ${String(agent.agentId).slice(0, 8)}`;
}

// The agent filter's options of an agent-activity body (already ordered by
// name then id by the API).
export function agentOptions(body) {
  return body.agents.map((a) => ({ value: a.agentId, label: agentLabel(a) }));
}

export const AGENT_SERIES_LIMIT = 7;  // + "other agents": 8 colours of the palette

// agent-activity as chart series.  All agents: each agent's daily API calls,
// the busiest AGENT_SERIES_LIMIT by name and the rest summed as "Other
// agents".  One agent (agentId): its API calls, token issuances and
// credential rotations.
export function agentSeries(body, agentId = null) {
  const agents = agentId ? body.agents.filter((a) => a.agentId === agentId) : body.agents;
  const dates = agents.length ? agents[0].dailyActivity.map((d) => d.date) : [];
  if (agentId) {
    const a = agents[0];
    if (!a) return { dates, series: [], mode: 'agent' };
    return {
      dates,
      mode: 'agent',
      series: [
        { name: 'API calls', data: a.dailyActivity.map((d) => d.apiCalls) },
        { name: 'Token issuances', data: a.dailyActivity.map((d) => d.tokenIssuances) },
        { name: 'Credential rotations', data: a.dailyActivity.map((d) => d.credentialRotations) },
      ],
    };
  }
  const ranked = agents
    .map((a) => ({ a, total: a.dailyActivity.reduce((t, d) => t + d.apiCalls, 0) }))
    .sort((x, y) => y.total - x.total || agentLabel(x.a).localeCompare(agentLabel(y.a)));
  const shown = ranked.slice(0, AGENT_SERIES_LIMIT);
  const rest = ranked.slice(AGENT_SERIES_LIMIT);
  const series = shown.map(({ a }) => ({ name: agentLabel(a), data: a.dailyActivity.map((d) => d.apiCalls) }));
  if (rest.length) {
    const other = new Array(dates.length).fill(0);
    for (const { a } of rest) a.dailyActivity.forEach((d, i) => { other[i] += d.apiCalls; });
    series.push({ name: `Other agents (${rest.length})`, data: other });
  }
  return { dates, series, mode: 'all' };
}

// ---- tables: column definitions, rows, sorting, CSV.

export const ROTATION_COLUMNS = [
  { key: 'agentName', label: 'Agent', type: 'text' },
  { key: 'agentId', label: 'Agent id', type: 'text' },
  { key: 'rotations', label: 'Rotations', type: 'number' },
  { key: 'rotationDays', label: 'Days with a rotation', type: 'number' },
  { key: 'lastRotationDate', label: 'Last rotation', type: 'text' },
  { key: 'averageDaysBetweenRotations', label: 'Average days between rotations', type: 'number', digits: 1 },
];

export function rotationRows(body) {
  return body.agents.map((a) => ({
    agentName: agentLabel(a),
    agentId: a.agentId,
    rotations: a.rotations,
    rotationDays: a.rotationDays,
    lastRotationDate: a.lastRotationDate,
    averageDaysBetweenRotations: a.averageDaysBetweenRotations,
  }));
}

export const PATTERN_COLUMNS = [
  { key: 'endpoint', label: 'Endpoint', type: 'text' },
  { key: 'method', label: 'Method', type: 'text' },
  { key: 'calls', label: 'Calls', type: 'number' },
  { key: 'successes', label: 'Successes', type: 'number' },
  { key: 'failures', label: 'Failures', type: 'number' },
  { key: 'successRate', label: 'Success rate', type: 'percent' },
  { key: 'p50', label: 'p50 (ms)', type: 'number', digits: 1 },
  { key: 'p95', label: 'p95 (ms)', type: 'number', digits: 1 },
  { key: 'p99', label: 'p99 (ms)', type: 'number', digits: 1 },
];

export function patternRows(body) {
  return body.endpoints.map((e) => ({
    endpoint: e.endpoint,
    method: e.method,
    calls: e.calls,
    successes: e.successes,
    failures: e.failures,
    successRate: e.successRate,
    p50: e.latencyMs ? e.latencyMs.p50 : null,
    p95: e.latencyMs ? e.latencyMs.p95 : null,
    p99: e.latencyMs ? e.latencyMs.p99 : null,
  }));
}

// A cell as the table shows it.
export function formatCell(value, column) {
  if (value === null || value === undefined) return '—';
  if (column.type === 'percent') return `${(value * 100).toFixed(2)} %`;
  if (column.type === 'number') {
    return column.digits ? value.toLocaleString('en-US', { minimumFractionDigits: column.digits, maximumFractionDigits: column.digits }) : formatInt(value);
  }
  return String(value);
}

// rows sorted by key (dir 'ascending' or 'descending'); nulls last either
// way; ties keep their order (the API's order).
export function sortRows(rows, key, dir) {
  const sign = dir === 'descending' ? -1 : 1;
  return rows
    .map((row, i) => ({ row, i }))
    .sort((x, y) => {
      const a = x.row[key];
      const b = y.row[key];
      const an = a === null || a === undefined;
      const bn = b === null || b === undefined;
      if (an || bn) return an === bn ? x.i - y.i : an ? 1 : -1;
      const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
      return c === 0 ? x.i - y.i : sign * c;
    })
    .map((x) => x.row);
}

// One CSV field (RFC 4180).  Text that a spreadsheet would run as a formula
// (= + - @, tab, carriage return first) gets a leading apostrophe: agent
// names and endpoints come from the platform's callers.
export function csvField(value) {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// The rows as CSV: a header of the column labels, then raw values (not the
// display format), lines ended by CRLF.
export function toCsv(columns, rows) {
  const lines = [columns.map((c) => csvField(c.label)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c.key])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

// agents(): the top n agents by tokens this month, with names where another
// answer knows them (names: Map agentId -> name).
export function topAgents(body, names, n = 10) {
  return body.data.slice(0, n).map((a) => ({
    agentId: a.agentId,
    label: names.get(a.agentId) || `agent ${a.agentId.slice(0, 8)}`,
    tokenCount: a.tokenCount,
  }));
}

// ---- errors and tokens.

// Retry-After in seconds (delta-seconds or an HTTP date), at least 1, at
// most 300; 1 when absent or unreadable.
export function retryAfterSeconds(value, now = Date.now()) {
  if (value === null || value === undefined || value === '') return 1;
  const v = String(value).trim();
  let s;
  if (/^\d+$/.test(v)) s = Number(v);
  else {
    const t = Date.parse(v);
    s = Number.isNaN(t) ? 1 : Math.ceil((t - now) / 1000);
  }
  return Math.min(300, Math.max(1, s));
}

// What an HTTP answer means to the page: ok, or the kind of trouble and the
// message to show.  body is the parsed JSON or null.
export function classifyResponse(status, body, retryAfter) {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const apiMessage = body && typeof body.message === 'string' ? body.message : null;
  const code = body && typeof body.code === 'string' ? body.code : null;
  if (status === 401) return { kind: 'unauthorized', code, message: 'Your token is missing, invalid or expired. Paste a tenant token to continue.' };
  if (status === 403 && code === 'ANALYTICS_NOT_AVAILABLE') {
    return { kind: 'forbidden', code, message: 'Analytics is part of the Pro and Enterprise plans. Upgrade this tenant to see its usage analytics.', apiMessage };
  }
  if (status === 429) {
    const seconds = retryAfterSeconds(retryAfter);
    return { kind: 'rate_limited', code, seconds, message: `Too many requests: retrying in ${seconds} s.` };
  }
  return { kind: 'error', code, status, message: apiMessage || `The server answered ${status}.` };
}

// What a location.hash says: '#token=…' (a sign-in link), and the period as
// 'period=7|30|90' or 'from=…&to=…'.  Unknown or malformed parts are null.
export function parseHash(hash) {
  const params = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const t = (params.get('token') || '').trim();
  const preset = params.get('period');
  const from = params.get('from');
  const to = params.get('to');
  return {
    token: t || null,
    period: PRESETS.map(String).includes(preset) ? preset : null,
    from: isDay(from) ? from : null,
    to: isDay(to) ? to : null,
  };
}

// The hash that names a period (never the token: the address bar and the
// history keep only this).
export function periodHash(period) {
  return period.preset ? `period=${period.preset}` : `from=${period.from}&to=${period.to}`;
}

// A JWT's claims, unverified (the server verifies): only to show which
// tenant the page speaks for.  null when it is not a readable JWT.
export function jwtClaims(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = atob(b64);
    const claims = JSON.parse(decodeURIComponent(Array.from(json, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}
