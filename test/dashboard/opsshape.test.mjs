// Unit tests of the operations section's data shaping
// (dashboard/src/opsshape.js): node --test test/dashboard/
import test from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../dashboard/src/opsshape.js';

const OP = { role: 'analytics_operator' };
const T1 = '00000000-0000-4000-8000-000000000001';

test('callerOf: an operator has the operator role and no tenant claim', () => {
  assert.deepEqual(O.callerOf(OP), { operator: true, tenant: null });
  assert.deepEqual(O.callerOf({ role: 'analytics_operator', tenant_id: T1 }), { operator: false, tenant: T1 });
  assert.deepEqual(O.callerOf({ role: 'analytics_tenant', organization_id: T1 }), { operator: false, tenant: T1 });
  assert.deepEqual(O.callerOf(null), { operator: false, tenant: null });
});

test('scopeParams: only an operator names a tenant', () => {
  assert.deepEqual(O.scopeParams('30d', O.callerOf(OP), T1), { period: '30d', tenantId: T1 });
  assert.deepEqual(O.scopeParams('30d', O.callerOf(OP), ''), { period: '30d' });
  assert.deepEqual(O.scopeParams('7d', O.callerOf({ tenant_id: T1 }), '00000000-0000-4000-8000-000000000002'), { period: '7d' });
});

test('parseOpsLocation reads the section, range and tenant; refuses the rest', () => {
  assert.deepEqual(O.parseOpsLocation('#section=ops&range=90d&tenant=' + T1.toUpperCase()), { section: 'ops', range: '90d', tenant: T1 });
  assert.deepEqual(O.parseOpsLocation('#token=x', '?section=ops'), { section: 'ops', range: null, tenant: null });
  assert.deepEqual(O.parseOpsLocation('#section=admin&range=1y&tenant=x'), { section: null, range: null, tenant: null });
  assert.deepEqual(O.parseOpsLocation('', ''), { section: null, range: null, tenant: null });
  assert.equal(O.granularityFor('24h'), 'hour');
  assert.equal(O.granularityFor('90d'), 'day');
});

test('realtime cards: queries per hour are the 24 hours\' executions / 24', () => {
  const c = O.realtimeCards({ activeSessions: 3, executions: 53, avgResponseTimeMs: 8123.4, successRate: 0.9615 });
  assert.deepEqual(c.map((x) => [x.key, x.value]), [['activeSessions', 3], ['queriesPerHour', 2.2], ['avgResponseTimeMs', 8123.4], ['successRate', 0.9615]]);
  assert.deepEqual(c.map((x) => x.text), ['3', '2.2', '8.12 s', '96.15 %']);
  assert.equal(O.realtimeCards({ activeSessions: 0, executions: 0, avgResponseTimeMs: null, successRate: 0 })[2].text, '—');
});

test('topAndOther keeps the busiest and sums the rest', () => {
  const rows = [{ label: 'a', value: 1 }, { label: 'b', value: 5 }, { label: 'c', value: 5 }, { label: 'd', value: 2 }];
  assert.deepEqual(O.topAndOther(rows, 2, 'Other'), [{ label: 'b', value: 5 }, { label: 'c', value: 5 }, { label: 'Other (2)', value: 3, other: true }]);
  assert.deepEqual(O.topAndOther(rows.slice(0, 1), 2, 'Other'), [{ label: 'a', value: 1 }]);
});

test('toolHeatmapMatrix sums every tool into the 7 x 24 matrix (Monday first) and refuses bad cells', () => {
  const m = O.toolHeatmapMatrix({ cells: [
    { tool: 'a', mcpServer: 's', dow: 0, hour: 23, count: 2 }, { tool: 'b', mcpServer: 's', dow: 0, hour: 23, count: 3 },
    { tool: 'a', mcpServer: 's', dow: 1, hour: 0, count: 1 }] });
  assert.equal(m.matrix[6][23], 5);
  assert.equal(m.matrix[0][0], 1);
  assert.equal(m.total, 6);
  assert.equal(m.max, 5);
  assert.throws(() => O.toolHeatmapMatrix({ cells: [{ dow: 7, hour: 0, count: 1 }] }), /bad heatmap cell/);
  assert.throws(() => O.toolHeatmapMatrix({ cells: [{ dow: 1, hour: 24, count: 1 }] }), /bad heatmap cell/);
});

test('partialIndex marks the bucket holding now: day, hour, week and month', () => {
  const now = new Date('2026-11-30T10:37:00Z');
  assert.equal(O.partialIndex(['2026-11-29', '2026-11-30'], 'day', now), 1);
  assert.equal(O.partialIndex(['2026-11-28', '2026-11-29'], 'day', now), -1);
  assert.equal(O.partialIndex(['2026-11-30T09:00:00.000000Z', '2026-11-30T10:00:00.000000Z'], 'hour', now), 1);
  assert.equal(O.partialIndex(['2026-11-29T10:37:00.000000Z', '2026-11-30T10:00:00.000000Z'], 'hour', now), 1);
  assert.equal(O.partialIndex(['2026-11-30T09:00:00.000000Z'], 'hour', now), -1);
  assert.equal(O.partialIndex(['2026-11-23', '2026-11-30'], 'week', now), 1);             // Monday 30 Nov
  assert.equal(O.partialIndex(['2026-11-16', '2026-11-23'], 'week', now), -1);
  assert.equal(O.partialIndex(['2026-11-25'], 'week', new Date('2026-11-29T23:59:59Z')), 0);  // a clipped first week
  assert.equal(O.partialIndex(['2026-10-01', '2026-11-01'], 'month', now), 1);
  assert.equal(O.partialIndex([], 'day', now), -1);
  assert.equal(O.axisLabel('2026-11-30T10:00:00Z', true), '11-30 10:00 *');
  assert.equal(O.axisLabel('2026-11-30', false), '2026-11-30');
});

test('table rows keep the raw values of the answer', () => {
  const agents = { agents: [{ agentId: 'x', agentName: null, executions: 2, share: 0.5, successes: 1, failures: 1, timeouts: 0,
    durationMs: { p50: 1, p95: 2, p99: 3, avg: 1.5 }, toolCalls: 3, llmCalls: 4, inputTokens: 10, outputTokens: 5 }] };
  assert.deepEqual(O.agentRows(agents)[0], { agentName: 'agent x', agentId: 'x', executions: 2, share: 0.5, successes: 1, failures: 1,
    timeouts: 0, p50: 1, p95: 2, avg: 1.5, toolCalls: 3, llmCalls: 4, tokens: 15 });
  assert.deepEqual(O.errorCodeRows({ byCode: [{ errorCode: '=cmd', count: 2, lastSeenAt: 't' }] }), [{ errorCode: '=cmd', count: 2, lastSeenAt: 't' }]);
  assert.deepEqual(O.sessionEventRows({ events: [{ occurredAt: 't', eventType: 'tool_call' }] })[0].executionId, null);
  for (const cols of [O.AGENT_COLUMNS, O.TOP_COLUMNS, O.TOOL_COLUMNS, O.WORKFLOW_COLUMNS, O.ERROR_CODE_COLUMNS, O.PLATFORM_COLUMNS,
    O.AGENT_TREND_COLUMNS, O.SESSION_EVENT_COLUMNS, O.EXECUTION_CALL_COLUMNS]) {
    assert.equal(new Set(cols.map((c) => c.key)).size, cols.length);
  }
});
