// Unit tests of the shaping of the operations section's cost views (§6.4)
// and custom metric explorer (§6.5) in dashboard/src/opsshape.js:
// node --test test/dashboard/
import test from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../dashboard/src/opsshape.js';
import { toCsv } from '../../dashboard/src/shape.js';

const OPERATOR = { operator: true, tenant: null };
const T1 = '00000000-0000-4000-8000-000000000001';
const TENANT = { operator: false, tenant: T1 };

test('metricHours maps each range to the hours of the metric functions (at most 8760)', () => {
  assert.deepEqual(O.RANGES.map(O.metricHours), [24, 168, 720, 2160]);
  for (const r of O.RANGES) assert.ok(O.metricHours(r) >= 1 && O.metricHours(r) <= 8760);
  assert.throws(() => O.metricHours('1y'), /unknown range/);
});

test('costGroupFor: tenants for an operator over every tenant, else agents; tenant only for that operator', () => {
  assert.equal(O.costGroupFor(OPERATOR, ''), 'tenant');
  assert.equal(O.costGroupFor(OPERATOR, T1), 'agent');
  assert.equal(O.costGroupFor(TENANT, ''), 'agent');
  assert.equal(O.costGroupFor(OPERATOR, '', 'model'), 'model');
  assert.equal(O.costGroupFor(TENANT, '', 'tenant'), 'agent', 'a tenant cannot group by tenant');
  assert.equal(O.costGroupFor(OPERATOR, T1, 'tenant'), 'agent', 'nor an operator who picked one');
  assert.equal(O.costGroupFor(OPERATOR, '', 'user', O.COST_TREND_GROUPS), 'tenant', 'the trend has no user series');
  assert.equal(O.costGroupFor(TENANT, '', 'day'), 'day');
  assert.equal(O.costGroupFor(TENANT, '', 'bogus'), 'agent');
});

test('formatUsd and costText: 6 decimals; unpriced usage is never a silent $0', () => {
  assert.equal(O.formatUsd(812.407113), '$812.407113');
  assert.equal(O.formatUsd(1234567.5), '$1,234,567.500000');
  assert.equal(O.formatUsd(0), '$0.000000');
  assert.equal(O.formatUsd(null), '—');
  assert.equal(O.costText({ costUsd: 1.5, llmCalls: 3, unpricedCalls: 0 }), '$1.500000');
  assert.equal(O.costText({ costUsd: 0, llmCalls: 3, unpricedCalls: 0 }), '$0.000000', 'priced at 0: a real $0');
  assert.equal(O.costText({ costUsd: 0, llmCalls: 3, unpricedCalls: 3 }), 'unpriced');
  assert.equal(O.costText({ costUsd: 2.25, llmCalls: 3, unpricedCalls: 1 }), '$2.250000 + unpriced');
});

const COSTS = {
  tenantId: null, period: { from: '2026-01-01', to: '2026-01-07' }, groupBy: 'agent', currency: 'USD',
  totals: { costUsd: 10.5, llmCalls: 12, inputTokens: 1000, cachedInputTokens: 200, cacheWriteTokens: 10, outputTokens: 300,
    unpricedCalls: 2, unpricedTokens: 150 },
  data: [
    { key: 'a1', label: 'support-bot', costUsd: 10.5, llmCalls: 10, inputTokens: 900, cachedInputTokens: 200, cacheWriteTokens: 10,
      outputTokens: 250, unpricedCalls: 0, unpricedTokens: 0, share: 1 },
    { key: null, label: null, costUsd: 0, llmCalls: 2, inputTokens: 100, cachedInputTokens: 0, cacheWriteTokens: 0,
      outputTokens: 50, unpricedCalls: 2, unpricedTokens: 150, share: 0 },
  ],
};

test('costColumns and costRows: ids beside agents, tenants and users; a keyless group is "(none)"; CSV holds raw values', () => {
  assert.deepEqual(O.costColumns('agent').slice(0, 3).map((c) => c.key), ['label', 'key', 'costUsd']);
  assert.deepEqual(O.costColumns('model').slice(0, 2).map((c) => c.key), ['label', 'costUsd']);
  assert.equal(O.costColumns('mcp_server')[0].label, 'MCP server');
  for (const g of O.COST_GROUPS) assert.equal(O.costColumns(g).slice(-2).map((c) => c.key).join(), 'unpricedCalls,unpricedTokens', g);
  const rows = O.costRows(COSTS);
  assert.equal(rows[0].label, 'support-bot');
  assert.equal(rows[1].label, '(none)');
  assert.equal(rows[1].key, null);
  const csv = toCsv(O.costColumns('agent'), rows).split('\r\n');
  assert.equal(csv[0], 'Agent,Agent id,Cost (USD),Share of cost,LLM calls,Input tokens,Cached input tokens,Cache-write tokens,Output tokens,Unpriced calls,Unpriced tokens');
  assert.equal(csv[1], 'support-bot,a1,10.5,1,10,900,200,10,250,0,0');
  assert.equal(csv[2], '(none),,0,0,2,100,0,0,50,2,150');
});

test('costCards and unpricedNote show the unpriced usage', () => {
  const cards = Object.fromEntries(O.costCards(COSTS.totals).map((c) => [c.key, c]));
  assert.equal(cards.costUsd.value, 10.5);
  assert.equal(cards.costUsd.detail, 'of the priced calls only');
  assert.equal(cards.unpricedCalls.value, 2);
  assert.equal(cards.unpricedCalls.warn, true);
  assert.equal(cards.unpricedCalls.detail, '150 tokens, not in the cost');
  assert.equal(cards.llmCalls.detail, '10 priced');
  assert.match(O.unpricedNote(COSTS.totals), /^2 LLM calls \(150 tokens\) used models with no price: they are not in these costs\./);
  assert.match(O.unpricedNote({ unpricedCalls: 1 }), /^1 LLM call used models/);
  assert.equal(O.unpricedNote({ unpricedCalls: 0, unpricedTokens: 0 }), '');
  assert.equal(O.unpricedNote(null), '');
  const priced = Object.fromEntries(O.costCards({ ...COSTS.totals, unpricedCalls: 0, unpricedTokens: 0 }).map((c) => [c.key, c]));
  assert.equal(priced.unpricedCalls.warn, false);
  assert.equal(priced.costUsd.detail, 'every LLM call priced');
});

test('costTrendSeries: a series per top key, other only when not all zero, unpriced calls and totals', () => {
  const body = {
    groupBy: 'tenant', granularity: 'day',
    series: [{ key: 't1', label: 'Acme' }, { key: 't2', label: null }],
    buckets: [
      { bucket: '2026-01-01', costUsd: 3.000001, llmCalls: 5, unpricedCalls: 1, series: [{ key: 't1', costUsd: 2 }, { key: 't2', costUsd: 1.000001 }], other: 0 },
      { bucket: '2026-01-02', costUsd: 0.5, llmCalls: 2, unpricedCalls: 0, series: [{ key: 't1', costUsd: 0.25 }, { key: 't2', costUsd: 0.25 }], other: 0 },
    ],
  };
  const t = O.costTrendSeries(body);
  assert.deepEqual(t.labels, ['2026-01-01', '2026-01-02']);
  assert.deepEqual(t.series.map((s) => [s.label, s.data]), [['Acme', [2, 0.25]], ['t2', [1.000001, 0.25]]]);
  assert.equal(t.other, null, 'no other when every bucket has 0');
  assert.deepEqual(t.unpriced, [1, 0]);
  assert.deepEqual(t.totals, { costUsd: 3.500001, llmCalls: 7, unpricedCalls: 1 });
  body.buckets[1].other = 0.1;
  assert.deepEqual(O.costTrendSeries(body).other, [0, 0.1]);
  const none = O.costTrendSeries({ groupBy: 'none', buckets: body.buckets.map(({ series, other, ...b }) => b) });
  assert.deepEqual(none.series, [{ key: null, label: 'Cost', data: [3.000001, 0.5] }]);
  assert.equal(none.other, null);
});

test('parseTags: name=value pairs or a JSON object of strings, within record_metric\'s rules', () => {
  assert.deepEqual(O.parseTags(''), { tags: null });
  assert.deepEqual(O.parseTags('  '), { tags: null });
  assert.deepEqual(O.parseTags(' region = eu , env=prod,'), { tags: { env: 'prod', region: 'eu' } });
  assert.deepEqual(O.parseTags('url=a=b'), { tags: { url: 'a=b' } }, 'the first = splits');
  assert.deepEqual(O.parseTags('{"env":"prod, eu"}'), { tags: { env: 'prod, eu' } });
  assert.deepEqual(O.parseTags('{}'), { tags: null });
  assert.match(O.parseTags('env').error, /"env" is not name=value/);
  assert.match(O.parseTags('=x').error, /not name=value/);
  assert.match(O.parseTags('{"env":1}').error, /value of env must be a string/);
  assert.match(O.parseTags('{"env":').error, /not valid JSON/);
  assert.match(O.parseTags('["a"]').error, /a JSON object/);
  assert.match(O.parseTags('9lives=x').error, /"9lives" is not a tag name/);
  assert.match(O.parseTags(`${'a'.repeat(65)}=x`).error, /is not a tag name/);
  assert.deepEqual(O.parseTags(`${'a'.repeat(64)}=x`).tags, { ['a'.repeat(64)]: 'x' });
  assert.match(O.parseTags(`k=${'v'.repeat(257)}`).error, /longer than 256/);
  assert.ok(O.parseTags(`k=${'v'.repeat(256)}`).tags);
  const many = Array.from({ length: 17 }, (_, i) => `k${i}=v`).join(',');
  assert.match(O.parseTags(many).error, /at most 16/);
  assert.equal(Object.keys(O.parseTags(Array.from({ length: 16 }, (_, i) => `k${i}=v`).join(',')).tags).length, 16);
  assert.equal(O.tagsText({ env: 'prod', region: 'eu' }), 'env=prod, region=eu');
  assert.equal(O.tagsText(null), '');
});

test('metricCards: seed 002\'s statistics, with the unit; the rate of a counter', () => {
  const gauge = { metric_name: 'q', metric_type: 'gauge', unit: 'ms', count: 3, sum: 60.5, avg: 20.1666666, min: 1, max: 50, p50: 9.5, p95: 50, p99: 50 };
  const cards = O.metricCards(gauge);
  assert.deepEqual(cards.map((c) => c.key), ['count', 'avg', 'min', 'max', 'p50', 'p95', 'p99', 'sum']);
  assert.deepEqual(cards.map((c) => c.value), [3, 20.1666666, 1, 50, 9.5, 50, 50, 60.5]);
  assert.equal(cards[1].text, '20.1667 ms');
  const empty = O.metricCards({ ...gauge, count: 0, sum: null, avg: null, min: null, max: null, p50: null, p95: null, p99: null });
  assert.equal(empty[1].text, '—');
  const counter = O.metricCards({ ...gauge, metric_type: 'counter', unit: null, rate_per_second: 0.0017 });
  assert.equal(counter.at(-1).key, 'rate_per_second');
  assert.equal(counter.at(-1).value, 0.0017);
  assert.equal(counter[1].text, '20.1667');
  assert.equal(O.metricLabel({ metric_name: 'api.latency', metric_type: 'timer', unit: 'ms' }), 'api.latency (timer, ms)');
  assert.equal(O.metricLabel({ metric_name: 'jobs', metric_type: 'counter', unit: null }), 'jobs (counter)');
});

test('metricSeriesRows: every bucket with its statistics, nulls kept (empty CSV cells)', () => {
  const body = { data: [
    { timestamp: '2026-01-01T00:00:00.000000Z', count: 2, sum: 3, avg: 1.5, min: 1, max: 2, p50: 1, p95: 2, p99: 2 },
    { timestamp: '2026-01-01T01:00:00.000000Z', count: 0, sum: null, avg: null, min: null, max: null, p50: null, p95: null, p99: null },
  ] };
  const rows = O.metricSeriesRows(body);
  assert.deepEqual(rows[1], { timestamp: '2026-01-01T01:00:00.000000Z', count: 0, sum: null, avg: null, min: null, max: null, p50: null, p95: null, p99: null });
  const csv = toCsv(O.METRIC_SERIES_COLUMNS, rows).split('\r\n');
  assert.equal(csv[1], '2026-01-01T00:00:00.000000Z,2,3,1.5,1,2,1,2,2');
  assert.equal(csv[2], '2026-01-01T01:00:00.000000Z,0,,,,,,,');
});
