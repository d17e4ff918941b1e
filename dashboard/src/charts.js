// charts.js: the dashboard's charts, drawn with Apache ECharts (only the
// parts used are bundled: heatmap, line and bar series on a grid, tooltip,
// legend, visual map, aria; SVG renderer).
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { HEATMAP_ROWS, heatmapCellLabel, heatmapCells, formatInt } from './shape.js';
import { axisLabel } from './opsshape.js';

echarts.use([BarChart, HeatmapChart, LineChart, AriaComponent, GridComponent, LegendComponent, TooltipComponent,
  VisualMapComponent, SVGRenderer]);

// Okabe & Ito's palette: told apart with every common colour-vision deficiency.
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
// A sequential ramp from viridis (light = few calls, dark = many): ordered
// in lightness, so it reads without telling hues apart.
const RAMP = ['#fde725', '#7ad151', '#22a884', '#2a788e', '#414487', '#440154'];

const charts = new Map();
const observer = typeof ResizeObserver === 'function'
  ? new ResizeObserver((entries) => { for (const e of entries) charts.get(e.target.id)?.resize(); })
  : null;

// The chart of element el, made on first use.
function chartOf(el) {
  let c = charts.get(el.id);
  if (!c) {
    c = echarts.init(el, null, { renderer: 'svg' });
    charts.set(el.id, c);
    observer?.observe(el);
  }
  return c;
}

// For the browser tests: the ECharts instance of a chart element id.
export function chartById(id) {
  return charts.get(id) || null;
}

const BASE = {
  animation: false,
  color: PALETTE,
  textStyle: { fontFamily: 'inherit' },
  tooltip: { confine: true, className: 'chart-tooltip' },
};

// Day-of-week x hour heatmap of a 7 x 24 matrix (rows as HEATMAP_ROWS).
export function drawHeatmap(el, { matrix, max }, description, cellLabel = heatmapCellLabel, name = 'API calls') {
  const hours = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
  chartOf(el).setOption({
    ...BASE,
    aria: { enabled: true, label: { description } },
    tooltip: { ...BASE.tooltip, formatter: (p) => cellLabel(p.value[1], p.value[0], p.value[2]) },
    grid: { left: 44, right: 12, top: 8, bottom: 64 },
    xAxis: { type: 'category', data: hours, name: 'hour (UTC)', nameLocation: 'middle', nameGap: 26, splitArea: { show: false } },
    yAxis: { type: 'category', data: HEATMAP_ROWS.map((r) => r.name.slice(0, 3)), inverse: true },
    visualMap: {
      min: 0, max: Math.max(1, max), calculable: false, orient: 'horizontal', left: 'center', bottom: 0,
      itemHeight: 120, itemWidth: 10, inRange: { color: RAMP }, text: [formatInt(Math.max(1, max)), '0'],
      textStyle: { fontSize: 11 },
    },
    series: [{
      type: 'heatmap', name, data: heatmapCells(matrix),
      itemStyle: { borderColor: '#fff', borderWidth: 1 },
      emphasis: { itemStyle: { borderColor: '#000', borderWidth: 2 } },
    }],
  }, true);
}

// Token issuances: successful and failed stacked bars, unique agents a line
// on its own axis.
export function drawTrend(el, t, partial = -1) {
  chartOf(el).setOption({
    ...BASE,
    aria: { enabled: true, decal: { show: true } },
    tooltip: { ...BASE.tooltip, trigger: 'axis', formatter: partialTooltip(partial) },
    legend: { top: 0 },
    grid: { left: 48, right: 40, top: 36, bottom: 28 },
    xAxis: categoryAxis(t.dates, partial),
    yAxis: [{ type: 'value', name: 'issuances', minInterval: 1 }, { type: 'value', name: 'agents', minInterval: 1, splitLine: { show: false } }],
    series: [
      { type: 'bar', name: 'Successful', stack: 'issuances', data: t.successful, color: PALETTE[0] },
      { type: 'bar', name: 'Failed', stack: 'issuances', data: t.failed, color: PALETTE[5] },
      { type: 'line', name: 'Unique agents', yAxisIndex: 1, data: t.uniqueAgents, color: PALETTE[7], symbol: 'circle', lineStyle: { type: 'dashed' } },
    ],
  }, true);
}

// Per-agent daily activity: one line per series.
export function drawAgents(el, s, partial = -1) {
  chartOf(el).setOption({
    ...BASE,
    aria: { enabled: true },
    tooltip: { ...BASE.tooltip, trigger: 'axis', formatter: partialTooltip(partial) },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 48, right: 16, top: 40, bottom: 28 },
    xAxis: categoryAxis(s.dates, partial),
    yAxis: { type: 'value', minInterval: 1 },
    series: s.series.map((x, i) => ({
      type: 'line', name: x.name, data: x.data, showSymbol: s.dates.length <= 31,
      symbol: ['circle', 'rect', 'triangle', 'diamond', 'roundRect', 'pin', 'arrow', 'emptyCircle'][i % 8],
    })),
  }, true);
}

// Top agents by tokens this month: horizontal bars, most at the top.
export function drawTop(el, rows) {
  chartOf(el).setOption({
    ...BASE,
    aria: { enabled: true },
    tooltip: { ...BASE.tooltip, trigger: 'item', formatter: (p) => `${p.name}: ${formatInt(p.value)} tokens` },
    grid: { left: 136, right: 48, top: 8, bottom: 24, outerBoundsMode: 'none' },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.label), axisLabel: { width: 128, overflow: 'truncate' } },
    series: [{ type: 'bar', name: 'Tokens', data: rows.map((r) => r.tokenCount), color: PALETTE[0],
      label: { show: true, position: 'right', formatter: (p) => formatInt(p.value) } }],
  }, true);
}

// A category axis of bucket labels; the partial bucket (index partial, -1
// for none) is labelled with a trailing ' *' and drawn on a grey band.
function categoryAxis(labels, partial) {
  return {
    type: 'category',
    data: labels,
    axisLabel: { formatter: (v, i) => axisLabel(v, i === partial) },
    splitArea: partial < 0 ? { show: false }
      : { show: true, interval: 0, areaStyle: { color: labels.map((_, i) => (i === partial ? 'rgba(87,96,106,0.14)' : 'rgba(0,0,0,0)')) } },
  };
}

// An axis tooltip that says when its bucket is partial.
function partialTooltip(partial) {
  return (items) => {
    const list = Array.isArray(items) ? items : [items];
    if (!list.length) return '';
    const head = `${list[0].axisValueLabel ?? list[0].name}${list[0].dataIndex === partial ? ' (partial: not over yet)' : ''}`;
    const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? formatInt(v) : v.toLocaleString('en-US', { maximumFractionDigits: 4 })) : '—');
    return [head, ...list.map((p) => `${p.marker}${p.seriesName}: ${fmt(Array.isArray(p.value) ? p.value[1] : p.value)}`)].join('<br>');
  };
}

// Horizontal bars, most at the top: a distribution (rows {label, value}).
export function drawBars(el, rows, { name, description, color = PALETTE[0], format = formatInt }) {
  chartOf(el).setOption({
    ...BASE,
    aria: { enabled: true, label: { description } },
    tooltip: { ...BASE.tooltip, trigger: 'item', formatter: (p) => `${p.name}: ${format(p.value)} ${name}` },
    grid: { left: 150, right: 56, top: 8, bottom: 24, outerBoundsMode: 'none' },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.label), axisLabel: { width: 140, overflow: 'truncate' } },
    series: [{ type: 'bar', name, data: rows.map((r) => r.value), color,
      label: { show: true, position: 'right', formatter: (p) => format(p.value) } }],
  }, true);
}

// A trend over buckets: bars (stacked when they share a stack) and lines,
// each on the left axis or, with axis 1, on a right one.  series:
// [{type: 'bar'|'line', name, data, axis, color, dashed}].
export function drawSeries(el, { labels, series, axes, partial = -1, description }) {
  chartOf(el).setOption({
    ...BASE,
    aria: { enabled: true, decal: { show: true }, label: { description } },
    tooltip: { ...BASE.tooltip, trigger: 'axis', formatter: partialTooltip(partial) },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 56, right: axes.length > 1 ? 56 : 16, top: 40, bottom: 28 },
    xAxis: categoryAxis(labels, partial),
    yAxis: axes.map((a, i) => ({ type: 'value', name: a.name, minInterval: a.integer ? 1 : 0, splitLine: { show: i === 0 },
      axisLabel: a.percent ? { formatter: (v) => `${Math.round(v * 1000) / 10} %` } : {} })),
    series: series.map((x, i) => ({
      type: x.type, name: x.name, data: x.data, yAxisIndex: x.axis || 0, stack: x.stack, color: x.color || PALETTE[i % PALETTE.length],
      showSymbol: labels.length <= 31, symbol: ['circle', 'rect', 'triangle', 'diamond'][i % 4],
      lineStyle: x.dashed ? { type: 'dashed' } : undefined,
    })),
  }, true);
}

// Forget a chart (its panel shows a message instead).
export function clearChart(el) {
  const c = charts.get(el.id);
  if (c) { observer?.unobserve(el); c.dispose(); charts.delete(el.id); }
}
