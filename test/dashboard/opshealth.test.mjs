// Unit tests of the shaping of the operations section's service health and
// SLA (§6.5) and incidents (§6.6) in dashboard/src/opsshape.js:
// node --test test/dashboard/
import test from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../dashboard/src/opsshape.js';
import { toCsv } from '../../dashboard/src/shape.js';

const H = {
  period: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:40:00Z' },
  timeline: [
    { status: 'unknown', from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:10:00Z', seconds: 600 },
    { status: 'healthy', from: '2026-01-01T00:10:00Z', to: '2026-01-01T01:00:00Z', seconds: 3000 },
    { status: 'unhealthy', from: '2026-01-01T01:00:00Z', to: '2026-01-01T01:40:00Z', seconds: 2400 },
  ],
  circuit_timeline: [{ state: 'closed', at: '2025-12-31T23:00:00Z' }, { state: 'open', at: '2026-01-01T01:00:00Z' }],
};

test('healthHours and slaDays: the timeline at most 168 hours, the SLA the range\'s days', () => {
  assert.deepEqual(O.RANGES.map(O.healthHours), [24, 168, 168, 168]);
  assert.deepEqual(O.RANGES.map(O.slaDays), [1, 7, 30, 90]);
});

test('timelineRows: stretches and circuit changes in time order, a change after the stretch it starts with', () => {
  assert.deepEqual(O.timelineRows(H).map((r) => [r.kind, r.state, r.from]), [
    ['circuit', 'closed', '2025-12-31T23:00:00Z'], ['status', 'unknown', '2026-01-01T00:00:00Z'],
    ['status', 'healthy', '2026-01-01T00:10:00Z'], ['status', 'unhealthy', '2026-01-01T01:00:00Z'],
    ['circuit', 'open', '2026-01-01T01:00:00Z']]);
  const csv = toCsv(O.TIMELINE_COLUMNS, O.timelineRows(H)).split('\r\n');
  assert.equal(csv[0], 'From (UTC),To (UTC),Kind,Status or circuit state,Seconds');
  assert.equal(csv[2], '2026-01-01T00:00:00Z,2026-01-01T00:10:00Z,status,unknown,600');
});

test('timelineBar: fractions of the window, a change before it at 0', () => {
  const b = O.timelineBar(H);
  assert.deepEqual(b.segments.map((s) => [s.status, s.start, s.width]), [['unknown', 0, 0.1], ['healthy', 0.1, 0.5], ['unhealthy', 0.6, 0.4]]);
  assert.deepEqual(b.events.map((e) => [e.state, e.pos]), [['closed', 0], ['open', 0.6]]);
});

test('durationText and slaFigures: an overspent budget is negative; nothing known is said', () => {
  assert.equal(O.durationText(3600), '1 h');
  assert.equal(O.durationText(-3075.8), '−51 min 15.8 s');
  assert.equal(O.durationText(0), '0 s');
  assert.equal(O.durationText(90061), '1 d 1 h 1 min 1 s');
  const f = Object.fromEntries(O.slaFigures({ uptime_percentage: null, target: 99.9, compliant: null, downtime_incidents: 0,
    downtime_seconds: 0, unknown_seconds: 86400, error_budget_remaining_seconds: 0, average_response_time_ms: null }).map(([, v, k]) => [k, v]));
  assert.equal(f.uptime_percentage, '— (nothing known)');
  assert.equal(f.compliant, '—');
  assert.equal(f.unknown_seconds, '1 d');
});

test('incidentActions follow §6.6\'s transitions', () => {
  assert.deepEqual(O.incidentActions('open'), { acknowledge: true, silence: true, resolve: true });
  assert.deepEqual(O.incidentActions('acknowledged'), { acknowledge: false, silence: true, resolve: true });
  assert.deepEqual(O.incidentActions('silenced'), { acknowledge: true, silence: true, resolve: true });
  assert.deepEqual(O.incidentActions('resolved'), { acknowledge: false, silence: false, resolve: false });
});

test('incidentRows keep the raw values, the condition as a symbol, both notes; untilFromInput is UTC RFC 3339', () => {
  const [r] = O.incidentRows({ incidents: [{ id: 7, status: 'resolved', severity: 'error', rule_name: 'r', metric_name: 'events.failures',
    condition_operator: 'gte', threshold: 3, value: 5, started_at: 'x', tenant_id: null, note: 'seen', resolution_notes: 'fixed' }] });
  assert.equal(r.condition, '≥ 3');
  assert.equal(r.notes, 'seen / fixed');
  assert.equal(r.value, 5);
  assert.equal(O.untilFromInput('2026-01-01T10:30'), '2026-01-01T10:30:00Z');
  assert.equal(O.untilFromInput(''), null);
  assert.equal(O.untilFromInput('2026-01-01'), null);
  assert.equal(O.inputFromDate(new Date('2026-01-01T10:30:45Z')), '2026-01-01T10:30');
});
