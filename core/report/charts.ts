// Charts as inline SVG, drawn on the server by Apache ECharts (SSR: no DOM, no script at view time):
// bar, line, funnel, sankey, heatmap and pie. Each chart is built from plain data (ChartData) — the
// view model decides what to plot, this file only how — and always carries a title (drawn, and as the
// SVG's <title> for screen readers) and axis names. ECharts escapes every label it draws; the title
// element added here is escaped too.
import * as echarts from 'echarts';
import type { EChartsOption } from 'echarts';
import Handlebars from 'handlebars';
import type { Formatter } from './format.ts';

export type ChartType = 'bar' | 'line' | 'funnel' | 'sankey' | 'heatmap' | 'pie';
export type ValueKind = 'number' | 'currency' | 'percent' | 'ratio';

export interface ChartSeries {
  name: string;
  values: (number | null)[];
  /** bar/line charts may mix both (spend bars, revenue line). */
  type?: 'bar' | 'line';
  stack?: string;
  /** 1: plotted against a second value axis on the right (two scales far apart). */
  axis?: 0 | 1;
}

export interface ChartData {
  type: ChartType;
  title: string;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** Title of the right-hand axis, when a series uses it. */
  y2Label?: string;
  /** bar / line / heatmap: x categories. */
  categories?: string[];
  series?: ChartSeries[];
  /** Bars grow sideways, categories on the y axis (long channel names read better). */
  horizontal?: boolean;
  /** pie / funnel. */
  items?: { name: string; value: number }[];
  /** sankey: node names must be unique and the graph acyclic; `label` is shown instead of the name. */
  links?: { source: string; target: string; value: number }[];
  nodeLabel?: (name: string) => string;
  /** sankey: the column of each node (default: ECharts's own layout) and a heading per column. */
  nodeDepth?: (name: string) => number;
  /** sankey: the nodes in drawing order, top to bottom within a column (default: as the links name them). */
  nodes?: string[];
  columns?: string[];
  /** sankey: a colour per node label, so a channel keeps its colour from column to column. */
  nodeColors?: Record<string, string>;
  /** bar / line: a fixed value-axis range (NPS: −100…100; CSAT: 0…1). */
  yMin?: number;
  yMax?: number;
  /** bar / line: write each value at its point or bar (few points: the reader needs no ruler). */
  showValues?: boolean;
  /** heatmap: y categories and [x index, y index, value] cells. */
  yCategories?: string[];
  cells?: [number, number, number | null][];
  valueKind?: ValueKind;
  colors?: string[];
}

// Unquoted on purpose: ECharts writes it into a double-quoted style attribute.
const FONT = 'Liberation Sans, Helvetica Neue, Arial, sans-serif';
const TEXT = '#333a45';
const MUTED = '#6b7280';

function valueFormatter(fmt: Formatter | undefined, kind: ValueKind = 'number'): (v: number) => string {
  if (!fmt) return (v) => String(v);
  if (kind === 'currency') return (v) => compactMoney(fmt, v);
  if (kind === 'percent') return (v) => fmt.percent(v, 0);
  if (kind === 'ratio') return (v) => fmt.ratio(v);
  return (v) => fmt.number(v);
}

/** Axis ticks: €48k rather than €48,000.00. */
function compactMoney(fmt: Formatter, v: number): string {
  return new Intl.NumberFormat(fmt.locale, { style: 'currency', currency: fmt.currency, notation: 'compact', maximumFractionDigits: 1 }).format(v);
}

/** True when there is nothing to draw: the caller shows "No data for this period" instead. */
export function isEmptyChart(c: ChartData): boolean {
  switch (c.type) {
    case 'pie':
    case 'funnel':
      return !c.items || c.items.length === 0 || c.items.every((i) => !i.value);
    case 'sankey':
      return !c.links || c.links.length === 0;
    case 'heatmap':
      return !c.cells || c.cells.length === 0;
    default:
      return !c.categories || c.categories.length === 0 || !c.series || c.series.every((s) => s.values.every((v) => v === null));
  }
}

function option(c: ChartData, fmt: Formatter | undefined): EChartsOption {
  const colors = c.colors ?? ['#1f4e79', '#e69138', '#6aa84f', '#8e7cc3', '#c27ba0', '#76a5af', '#999999'];
  const fmtValue = valueFormatter(fmt, c.valueKind);
  const base: EChartsOption = {
    animation: false,
    color: colors,
    textStyle: { fontFamily: FONT, color: TEXT },
    title: { text: c.title, left: 0, top: 0, textStyle: { fontSize: 14, fontWeight: 'bold', color: TEXT, fontFamily: FONT } },
  };
  const legend = (names: string[]): EChartsOption['legend'] =>
    names.length > 1 ? { top: 24, right: 0, textStyle: { fontSize: 11, color: MUTED }, data: names } : undefined;
  switch (c.type) {
    case 'bar':
    case 'line': {
      const series = c.series ?? [];
      const categoryAxis = {
        type: 'category' as const,
        data: c.categories ?? [],
        name: c.xLabel,
        nameLocation: 'middle' as const,
        nameGap: c.horizontal ? 110 : 34,
        nameTextStyle: { color: MUTED, fontSize: 11 },
        axisLabel: c.horizontal
          ? { color: TEXT, fontSize: 11, width: 96, overflow: 'truncate' as const }
          : { color: TEXT, fontSize: 11, interval: 0, width: 90, overflow: 'truncate' as const, rotate: (c.categories ?? []).length > 6 ? 30 : 0, hideOverlap: true },
      };
      const valueAxis = {
        type: 'value' as const,
        name: c.yLabel,
        nameLocation: 'middle' as const,
        nameGap: c.horizontal ? 28 : 58,
        nameTextStyle: { color: MUTED, fontSize: 11 },
        axisLabel: { color: MUTED, fontSize: 10, formatter: (v: number) => fmtValue(v) },
        splitLine: { lineStyle: { color: '#e5e7eb' } },
        min: c.yMin,
        max: c.yMax,
      };
      const rotated = !c.horizontal && (c.categories ?? []).length > 6;
      const twoAxes = !c.horizontal && series.some((s) => s.axis === 1);
      const rightAxis = { ...valueAxis, name: c.y2Label, nameGap: 58, position: 'right' as const, splitLine: { show: false } };
      return {
        ...base,
        legend: legend(series.map((s) => s.name)),
        grid: { left: c.horizontal ? 120 : 72, right: twoAxes ? 72 : 16, top: series.length > 1 ? 56 : 40, bottom: rotated ? 76 : 48, containLabel: false },
        xAxis: c.horizontal ? valueAxis : categoryAxis,
        yAxis: c.horizontal ? { ...categoryAxis, inverse: true } : twoAxes ? [valueAxis, rightAxis] : valueAxis,
        series: series.map((s) => ({
          name: s.name,
          type: s.type ?? c.type,
          data: s.values,
          stack: s.stack,
          yAxisIndex: twoAxes ? (s.axis ?? 0) : undefined,
          barMaxWidth: 36,
          symbolSize: 7,
          lineStyle: { width: 2.5 },
          connectNulls: false,
          label: c.showValues ? { show: true, position: 'top', fontSize: 11, color: TEXT, formatter: (p: { value: unknown }) => fmtValue(Number(p.value)) } : undefined,
        })) as EChartsOption['series'],
      };
    }
    case 'pie':
      return {
        ...base,
        legend: undefined,
        series: [
          {
            type: 'pie',
            radius: ['35%', '62%'],
            center: ['50%', '56%'],
            data: c.items ?? [],
            label: { formatter: (p: { name: string; percent?: number }) => `${p.name}: ${fmt ? fmt.percent((p.percent ?? 0) / 100, 0) : `${p.percent}%`}`, fontSize: 11, color: TEXT },
          },
        ],
      };
    case 'funnel':
      return {
        ...base,
        series: [
          {
            type: 'funnel',
            left: '10%',
            width: '80%',
            top: 36,
            bottom: 8,
            sort: 'none',
            gap: 2,
            minSize: '28%',
            data: c.items ?? [],
            label: { show: true, position: 'inside', fontSize: 11, color: '#ffffff', formatter: (p: { name: string; value: unknown }) => `${p.name}: ${fmtValue(Number(p.value))}` },
          },
        ],
      };
    case 'sankey': {
      const linked = new Set<string>();
      for (const l of c.links ?? []) linked.add(l.source).add(l.target);
      const names = new Set([...(c.nodes ?? []).filter((n) => linked.has(n)), ...linked]);
      const label = c.nodeLabel ?? ((n: string) => n);
      const width = c.width ?? 720;
      // Room on the right for the last column's labels; each column's heading sits above its nodes.
      const [left, right, nodeWidth] = [8, 112, 14];
      const top = c.columns ? 58 : 36;
      const depths = c.nodeDepth ? [...names].map(c.nodeDepth) : [];
      const last = Math.max(1, ...depths);
      const x = (d: number) => left + (d * (width - left - right - nodeWidth)) / last;
      return {
        ...base,
        graphic: (c.columns ?? []).map((text, d) => ({ type: 'text', left: x(d), top: 32, style: { text, fontSize: 11, fontWeight: 'bold', fill: MUTED, fontFamily: FONT } })),
        series: [
          {
            type: 'sankey',
            top,
            bottom: 8,
            left,
            right,
            nodeGap: 16,
            nodeWidth,
            nodeAlign: 'left',
            layoutIterations: 0,
            data: [...names].map((name) => ({
              name,
              ...(c.nodeDepth ? { depth: c.nodeDepth(name) } : {}),
              ...(c.nodeColors?.[label(name)] ? { itemStyle: { color: c.nodeColors[label(name)] } } : {}),
            })),
            links: c.links ?? [],
            label: { fontSize: 11, color: TEXT, position: 'right', textBorderColor: '#ffffff', textBorderWidth: 3, formatter: (p: { name: string; value?: unknown }) => `${label(p.name)} ${fmtValue(Number(p.value ?? 0))}` },
            lineStyle: { color: 'source', opacity: 0.3 },
          },
        ],
      };
    }
    case 'heatmap': {
      const values = (c.cells ?? []).map((x) => x[2]).filter((v): v is number => v !== null);
      return {
        ...base,
        grid: { left: 120, right: 16, top: 40, bottom: 84 },
        xAxis: { type: 'category', data: c.categories ?? [], name: c.xLabel, nameLocation: 'middle', nameGap: 30, nameTextStyle: { color: MUTED, fontSize: 11 }, axisLabel: { fontSize: 10, interval: 0, width: 80, overflow: 'truncate' }, splitArea: { show: true } },
        yAxis: { type: 'category', inverse: true, data: c.yCategories ?? [], name: c.yLabel, nameLocation: 'middle', nameGap: 108, nameTextStyle: { color: MUTED, fontSize: 11 }, axisLabel: { fontSize: 10, width: 100, overflow: 'truncate' } },
        visualMap: { min: Math.min(0, ...values), max: Math.max(1, ...values), calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, textStyle: { fontSize: 10, color: MUTED }, inRange: { color: ['#f3f6fa', colors[0]] }, formatter: (v: unknown) => fmtValue(Number(v)) },
        series: [{ type: 'heatmap', data: c.cells ?? [], label: { show: true, fontSize: 9, formatter: (p: { value: unknown }) => fmtValue(Number((p.value as number[])[2])) } }],
      };
    }
  }
}

/** Renders a chart to an SVG string (starts with `<svg`), sized by a viewBox so it scales to the page. */
export function renderChart(c: ChartData, fmt?: Formatter): string {
  const width = c.width ?? 720;
  const height = c.height ?? 320;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(option(c, fmt));
    const svg = chart.renderToSVGString();
    const title = `<title>${Handlebars.escapeExpression(c.title)}</title>`;
    return svg.replace(/^<svg /, `<svg class="chart" role="img" aria-label="${Handlebars.escapeExpression(c.title)}" `).replace(/^(<svg[^>]*>)/, `$1${title}`);
  } finally {
    chart.dispose();
  }
}
