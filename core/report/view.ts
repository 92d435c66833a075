// The view model shared by every template: the shapes sections are made of (KPI cards, tables, charts,
// sentences), the period's label, the executive summary sentence, and sections built from a spec's own
// queries and charts. Template-specific sections are built in view-cx.ts and view-roi.ts. Pure: data
// in, view out; every string here is escaped by Handlebars when rendered, except chart SVG (ours).
import type { ComparisonMode, ResolvedPeriod } from '../analytics/period.ts';
import { renderChart, isEmptyChart, type ChartData } from './charts.ts';
import { createFormatter, num, pointChange, relChange, formatValue, type Formatter } from './format.ts';
import { BOOKKEEPING, type Row } from './query.ts';
import type { ReportChart, ReportQuery, ReportSection } from './types.ts';

export interface KpiView {
  label: string;
  /** The formatted figure (not `value`: Handlebars would call the helper of that name). */
  display: string;
  /** Change vs the comparison period (null: n/a): relative, or in points when `points`. */
  delta: number | null;
  inverse?: boolean;
  /** Rates and scores change in points (+11.6 pts), money and counts relatively (+12.0%). */
  points?: boolean;
  note?: string;
}

export interface CellView {
  text: string;
  /** Rendered as a ▲/▼ change instead of text. */
  isDelta?: boolean;
  delta?: number | null;
  inverse?: boolean;
  num?: boolean;
}

export interface TableView {
  caption?: string;
  columns: { label: string; num: boolean }[];
  rows: CellView[][];
  note?: string;
  /** Many columns: smaller type, the first column never wraps. */
  wide?: boolean;
  /** Short enough to keep on one page (print): no orphaned header or two-row tail. */
  keep?: boolean;
}

export interface ChartView {
  svg: string;
  title: string;
  /** Half the width: two such charts sit side by side on paper (stacked on a phone). */
  half?: boolean;
}

export interface SectionView {
  title: string;
  kind: string;
  text?: string;
  kpis: KpiView[];
  /** Plain sentences (findings). */
  findings: string[];
  charts: ChartView[];
  tables: TableView[];
  /** Nothing to show for the period: the section says so. */
  empty: boolean;
  /** Small enough to keep on one page (print): a short section is not split across two. */
  keep?: boolean;
}

export interface ViewContext {
  fmt: Formatter;
  period: ResolvedPeriod;
  comparison: ResolvedPeriod | null;
  comparisonMode: ComparisonMode;
  colors: string[];
  model: string;
}

const KEEP_ROWS = 15;

export function section(s: ReportSection, parts: Partial<SectionView> = {}): SectionView {
  const view: SectionView = { title: s.title, kind: s.kind ?? 'custom', kpis: [], findings: [], charts: [], tables: [], empty: false, ...parts };
  if (s.text) view.text = s.text;
  view.empty = view.kpis.length === 0 && view.findings.length === 0 && view.charts.length === 0 && view.tables.every((t) => t.rows.length === 0);
  // Print pagination: tables up to KEEP_ROWS rows move to the next page whole rather than leave their
  // header or last rows alone; a section of text, KPIs and at most one small table stays in one piece.
  for (const t of view.tables) if (t.rows.length > 0 && t.rows.length <= KEEP_ROWS) t.keep = true;
  const rows = view.tables.reduce((n, t) => n + t.rows.length, 0);
  if (view.charts.length === 0 && view.tables.length <= 1 && rows <= KEEP_ROWS) view.keep = true;
  return view;
}

/** A chart view, or nothing when the data is empty (the section then says there is no data). */
export function chart(ctx: ViewContext, data: ChartData, half = false): ChartView[] {
  const c = { colors: ctx.colors, ...data };
  if (isEmptyChart(c)) return [];
  return [{ svg: renderChart(c, ctx.fmt), title: c.title, ...(half ? { half } : {}) }];
}

export function periodLabel(p: ResolvedPeriod, locale: string): string {
  if (!p.startDate || !p.endDate) return 'All time';
  const d = (x: string) => new Date(`${x}T00:00:00Z`);
  if (p.unit === 'month') return new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d(p.startDate));
  const f = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  return p.startDate === p.endDate ? f.format(d(p.startDate)) : f.formatRange(d(p.startDate), d(p.endDate));
}

export function versus(mode: ComparisonMode): string {
  return mode === 'previous_year' ? 'vs the same period last year' : 'vs the previous period';
}

export interface Headline {
  metric: string;
  current: number | null;
  previous: number | null;
  money: boolean;
}

/**
 * The one-line executive summary: the period's headline change in words, and what drove it —
 * "Revenue rose 12% to €48,200 vs the previous period, driven by Paid Search."
 */
export function executiveSummary(ctx: ViewContext, headlines: Headline[], drivers: { name: string; change: number }[], extra = ''): string {
  const h = headlines.find((x) => x.current !== null && x.current !== 0) ?? headlines.find((x) => x.current !== null);
  if (!h || h.current === null) return `No data for ${periodLabel(ctx.period, ctx.fmt.locale)}.`;
  const value = h.money ? ctx.fmt.currency_(h.current) : ctx.fmt.number(h.current);
  const change = relChange(h.current, h.previous);
  let sentence: string;
  if (change === null) sentence = `${h.metric} was ${value} in ${periodLabel(ctx.period, ctx.fmt.locale)}`;
  else if (Math.abs(change) < 0.005) sentence = `${h.metric} held steady at ${value} ${versus(ctx.comparisonMode)}`;
  else {
    const pct = ctx.fmt.percent(Math.abs(change), Math.abs(change) < 0.1 ? 1 : 0);
    sentence = `${h.metric} ${change > 0 ? 'rose' : 'fell'} ${pct} to ${value} ${versus(ctx.comparisonMode)}`;
    const sign = Math.sign(change);
    const driver = drivers.filter((d) => Math.sign(d.change) === sign).sort((a, b) => Math.abs(b.change) - Math.abs(a.change))[0];
    if (driver) sentence += `, ${sign > 0 ? 'driven by' : 'mostly in'} ${driver.name}`;
  }
  return `${sentence}${extra}.`;
}

const LABELS: Record<string, string> = {
  key: 'Key',
  label: 'Name',
  roas: 'ROAS',
  cpa: 'CPA',
  segment_value: 'Segment',
  segment_type: 'Breakdown',
  n: 'Based on',
};

export function columnLabel(column: string): string {
  return LABELS[column] ?? column.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

const MONEY = /(^|_)(revenue|spend|cost|value|cpa)($|_)|cost_per/;
const RATES = /(_rate|_share|^share)$/;

/**
 * A cell by its column name's convention (money, rates, ROAS, dates, numbers, text). `moneyDigits`:
 * the decimals of the whole money column, so €1,153 and €844 line up (not €844.00).
 */
export function cell(ctx: ViewContext, column: string, v: unknown, digits?: number): CellView {
  if (column.endsWith('_change')) return { text: '', isDelta: true, delta: num(v), num: true };
  if (v instanceof Date || /(_at|^date|_date|_start|_end)$/.test(column)) return { text: v === null || v === undefined ? '' : ctx.fmt.date(v) };
  if (typeof v === 'boolean') return { text: v ? 'yes' : 'no' };
  if (num(v) === null || (typeof v === 'string' && !/^-?[\d.]+(e[+-]?\d+)?$/i.test(v))) return { text: v === null || v === undefined ? '' : String(v) };
  if (column === 'roas') return { text: ctx.fmt.ratio(v), num: true };
  if (MONEY.test(column)) return { text: ctx.fmt.currency_(v, digits), num: true };
  if (RATES.test(column)) return { text: ctx.fmt.percent(v), num: true };
  if (/seconds/.test(column)) return { text: ctx.fmt.duration(v), num: true };
  return { text: formatValue(ctx.fmt, v), num: true };
}

/** Decimals for a money column: none once any amount in it reaches 1,000, else cents. */
export function moneyDigits(values: unknown[]): number {
  return values.some((v) => Math.abs(num(v) ?? 0) >= 1000) ? 0 : 2;
}

export function table(ctx: ViewContext, rows: Row[], columns: string[], caption?: string): TableView {
  const digits = Object.fromEntries(columns.map((c) => [c, moneyDigits(rows.map((r) => r[c]))]));
  const view: TableView = {
    columns: columns.map((c) => ({ label: columnLabel(c), num: rows.some((r) => num(r[c]) !== null && typeof r[c] !== 'boolean') && !/(^|_)(key|label|name|path|step|channel|campaign|segment_value)$/.test(c) })),
    rows: rows.map((r) => columns.map((c) => cell(ctx, c, r[c], digits[c]))),
  };
  if (caption) view.caption = caption;
  return view;
}

function distinct(values: unknown[]): string[] {
  return [...new Set(values.map((v) => (v === null || v === undefined ? '(none)' : String(v))))];
}

/** A spec chart of a query's rows, mapped to ChartData by its x / y / series columns. */
export function specChart(ctx: ViewContext, c: ReportChart, rows: Row[]): ChartView[] {
  const ys = Array.isArray(c.y) ? c.y : c.y ? [c.y] : [];
  const x = c.x ?? Object.keys(rows[0] ?? {})[0] ?? 'x';
  const y0 = ys[0] ?? Object.keys(rows[0] ?? {}).find((k) => k !== x && num(rows[0][k]) !== null) ?? 'value';
  const base: ChartData = { type: c.type, title: c.title, width: c.width, height: c.height, xLabel: c.x_label ?? columnLabel(x), yLabel: c.y_label ?? (ys.length > 1 ? '' : columnLabel(y0)), valueKind: MONEY.test(y0) ? 'currency' : RATES.test(y0) ? 'percent' : y0 === 'roas' ? 'ratio' : 'number' };
  switch (c.type) {
    case 'pie':
    case 'funnel':
      return chart(ctx, { ...base, items: rows.map((r) => ({ name: String(r[x] ?? '(none)'), value: num(r[y0]) ?? 0 })) });
    case 'sankey':
      return chart(ctx, { ...base, links: rows.filter((r) => c.series && r[x] !== r[c.series]).map((r) => ({ source: String(r[x]), target: String(r[c.series!]), value: num(r[y0]) ?? 0 })) });
    case 'heatmap': {
      const xs = distinct(rows.map((r) => r[x]));
      const yv = distinct(rows.map((r) => r[c.series ?? '']));
      return chart(ctx, { ...base, categories: xs, yCategories: yv, cells: rows.map((r) => [xs.indexOf(String(r[x] ?? '(none)')), yv.indexOf(String(r[c.series ?? ''] ?? '(none)')), num(r[y0])]) });
    }
    default: {
      const categories = distinct(rows.map((r) => r[x]));
      if (c.series) {
        const names = distinct(rows.map((r) => r[c.series!]));
        const series = names.map((name) => ({ name, values: categories.map((cat) => num(rows.find((r) => String(r[x] ?? '(none)') === cat && String(r[c.series!] ?? '(none)') === name)?.[y0])) }));
        return chart(ctx, { ...base, categories, series });
      }
      const series = (ys.length > 0 ? ys : [y0]).map((col) => ({ name: columnLabel(col), values: categories.map((cat) => num(rows.find((r) => String(r[x] ?? '(none)') === cat)?.[col])) }));
      return chart(ctx, { ...base, categories, series });
    }
  }
}

/** The parts a spec section adds itself: a table per query (unless show_table: false), its charts. */
export function customParts(ctx: ViewContext, s: ReportSection, data: Record<string, Row[]>): Pick<SectionView, 'tables' | 'charts'> {
  const tables: TableView[] = [];
  const charts: ChartView[] = [];
  for (const c of s.charts ?? []) charts.push(...specChart(ctx, c, data[c.query] ?? []));
  for (const q of (s.queries ?? []) as ReportQuery[]) {
    if (q.show_table === false) continue;
    const rows = data[q.name] ?? [];
    const columns = q.columns && q.columns.length > 0 ? q.columns : Object.keys(rows[0] ?? {}).filter((k) => !BOOKKEEPING.has(k));
    tables.push(table(ctx, rows, columns, q.title));
  }
  return { tables, charts };
}

export function kpi(label: string, value: string, current: unknown, previous: unknown, inverse = false, note?: string): KpiView {
  const k: KpiView = { label, display: value, delta: relChange(current, previous), inverse };
  if (note) k.note = note;
  return k;
}

/** A KPI whose change is in points: a rate (0–1, scale 100 → percentage points) or a score (NPS, scale 1). */
export function pointsKpi(label: string, value: string, current: unknown, previous: unknown, scale: number, inverse = false, note?: string): KpiView {
  return { ...kpi(label, value, current, previous, inverse, note), delta: pointChange(current, previous, scale), points: true };
}

/** Drops float noise (164094.14999999997) from a headline number before it leaves the view. */
export function tidy(kpis: Record<string, number | null>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(kpis).map(([k, v]) => [k, v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(12))]));
}

type KpiKind = 'count' | 'money' | 'rate' | 'score' | 'seconds' | 'ratio';

/** How each headline number of RenderedReport.kpis reads in text (emails): label, format, its comparison key. */
const KPI_TEXT: Record<string, { label: string; kind: KpiKind; inverse?: boolean }> = {
  journeys: { label: 'Journeys', kind: 'count' },
  conversions: { label: 'Conversions', kind: 'count' },
  conversion_rate: { label: 'Conversion rate', kind: 'rate' },
  revenue: { label: 'Revenue', kind: 'money' },
  median_seconds_to_convert: { label: 'Median time to convert', kind: 'seconds', inverse: true },
  nps: { label: 'Net Promoter Score', kind: 'score' },
  csat: { label: 'CSAT (satisfied)', kind: 'rate' },
  spend: { label: 'Ad spend', kind: 'money' },
  roas: { label: 'Return on ad spend', kind: 'ratio' },
  cpa: { label: 'Cost per conversion', kind: 'money', inverse: true },
};

export interface KpiLine {
  key: string;
  label: string;
  display: string;
  /** `+12.0%` or `+3.1 pts`, null without a comparison figure. */
  change: string | null;
}

/**
 * The headline numbers as people read them — "Conversion rate: 8.6% (−2.0 pts)" — for the plain-text
 * email. `prev_<key>` entries are the comparison figures, shown as the change, not on their own line.
 */
export function kpiLines(kpis: Record<string, number | null>, locale: string, currency: string): KpiLine[] {
  const fmt = createFormatter(locale, currency);
  const out: KpiLine[] = [];
  for (const [key, value] of Object.entries(kpis)) {
    if (key.startsWith('prev_')) continue;
    const meta = KPI_TEXT[key] ?? { label: columnLabel(key), kind: 'count' as KpiKind };
    const prev = kpis[`prev_${key}`];
    const display =
      meta.kind === 'money' ? fmt.currency_(value)
      : meta.kind === 'rate' ? fmt.percent(value)
      : meta.kind === 'score' ? fmt.number(value, 1)
      : meta.kind === 'seconds' ? fmt.duration(value)
      : meta.kind === 'ratio' ? fmt.ratio(value)
      : formatValue(fmt, value);
    const points = meta.kind === 'rate' || meta.kind === 'score';
    const delta = prev === undefined ? null : points ? pointChange(value, prev, meta.kind === 'rate' ? 100 : 1) : relChange(value, prev);
    out.push({ key, label: meta.label, display, change: delta === null ? null : points ? fmt.points(delta) : fmt.change(delta) });
  }
  return out;
}
