// How numbers, money, rates, dates and changes read in a report, in the report's locale and currency
// (Intl), and the Handlebars helpers templates use to apply them. Pure. Every helper returns text
// that Handlebars escapes, except `delta`, which builds its small <span> itself from escaped parts.
import type { HelperOptions } from 'handlebars';
import Handlebars from 'handlebars';

export interface Formatter {
  locale: string;
  currency: string;
  number(v: unknown, digits?: number): string;
  /** Money; whole units from 1,000 up unless `digits` says otherwise (a table column decides once for all its cells). */
  currency_(v: unknown, digits?: number): string;
  percent(v: unknown, digits?: number): string;
  ratio(v: unknown): string;
  date(v: unknown): string;
  duration(seconds: unknown): string;
  /** A relative change as `+12.0%` (null → `n/a`). */
  change(v: unknown): string;
  /** A change in points (NPS, or rates already ×100) as `+11.6 pts`. */
  points(v: unknown): string;
}

export const NA = 'n/a';

/** A finite number from a DB value (pg returns numeric/bigint as strings), else null. */
export function num(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? n : null;
}

export function createFormatter(locale: string, currency: string): Formatter {
  const cache = new Map<string, Intl.NumberFormat>();
  const nf = (key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat => {
    let f = cache.get(key);
    if (!f) cache.set(key, (f = new Intl.NumberFormat(locale, options)));
    return f;
  };
  const dateFormat = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  return {
    locale,
    currency,
    number(v, digits) {
      const n = num(v);
      if (n === null) return NA;
      const d = typeof digits === 'number' ? digits : Math.abs(n) >= 100 || Number.isInteger(n) ? 0 : 1;
      return nf(`n${d}`, { minimumFractionDigits: d, maximumFractionDigits: d }).format(n);
    },
    currency_(v, digits) {
      const n = num(v);
      if (n === null) return NA;
      // Whole units once amounts are large: an executive reads €48,200, not €48,213.57.
      const d = typeof digits === 'number' ? digits : Math.abs(n) >= 1000 ? 0 : 2;
      return nf(`c${d}`, { style: 'currency', currency, minimumFractionDigits: d, maximumFractionDigits: d }).format(n);
    },
    percent(v, digits) {
      const n = num(v);
      if (n === null) return NA;
      const d = typeof digits === 'number' ? digits : 1;
      return nf(`p${d}`, { style: 'percent', minimumFractionDigits: d, maximumFractionDigits: d }).format(n);
    },
    ratio(v) {
      const n = num(v);
      if (n === null) return NA;
      // One decimal: "4.8×" is as precise as attributed revenue over spend deserves.
      return `${nf('r1', { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(n)}×`;
    },
    date(v) {
      if (v === null || v === undefined || v === '') return NA;
      const d = v instanceof Date ? v : new Date(/^\d{4}-\d{2}-\d{2}$/.test(String(v)) ? `${String(v)}T00:00:00Z` : String(v));
      return Number.isNaN(d.getTime()) ? String(v) : dateFormat.format(d);
    },
    duration(seconds) {
      const s = num(seconds);
      if (s === null) return NA;
      const one = (n: number, unit: 'day' | 'hour' | 'minute') =>
        new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long', maximumFractionDigits: 1 }).format(n);
      if (s >= 86_400) return one(s / 86_400, 'day');
      if (s >= 3_600) return one(s / 3_600, 'hour');
      return one(Math.max(s, 0) / 60, 'minute');
    },
    change(v) {
      const n = num(v);
      if (n === null) return NA;
      return nf('chg', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(n);
    },
    points(v) {
      const n = num(v);
      if (n === null) return NA;
      const text = nf('pts', { minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(n);
      return `${text} pts`;
    },
  };
}

/** Relative change from `prev` to `cur`; null when either is missing or prev is 0. */
export function relChange(cur: unknown, prev: unknown): number | null {
  const c = num(cur);
  const p = num(prev);
  if (c === null || p === null || p === 0) return null;
  return (c - p) / Math.abs(p);
}

/** The difference of two rates (0–1) in percentage points, or of two scores (NPS) in points. */
export function pointChange(cur: unknown, prev: unknown, scale = 100): number | null {
  const c = num(cur);
  const p = num(prev);
  return c === null || p === null ? null : (c - p) * scale;
}

/**
 * The ▲/▼ marker of a change, with a class for its colour (`inverse`: a rise is bad, e.g. cost).
 * `points`: the change is a difference in points (rates, NPS), not a relative change.
 */
export function deltaHtml(fmt: Formatter, v: unknown, inverse = false, points = false): string {
  const n = num(v);
  if (n === null) return `<span class="delta na">${NA}</span>`;
  const dir = Math.abs(n) < (points ? 0.05 : 0.0005) ? 'flat' : n > 0 ? 'up' : 'down';
  const good = dir === 'flat' ? 'neutral' : (dir === 'up') !== inverse ? 'good' : 'bad';
  const arrow = dir === 'up' ? '▲' : dir === 'down' ? '▼' : '■';
  return `<span class="delta ${dir} ${good}">${arrow} ${Handlebars.escapeExpression(points ? fmt.points(n) : fmt.change(n))}</span>`;
}

type HB = typeof Handlebars;

/** Registers the formatting helpers on a Handlebars environment. */
export function registerFormatHelpers(hb: HB, fmt: Formatter): void {
  const arg = (args: unknown[]) => args.slice(0, -1);
  hb.registerHelper('number', (...a: unknown[]) => fmt.number(arg(a)[0], typeof arg(a)[1] === 'number' ? (arg(a)[1] as number) : undefined));
  hb.registerHelper('currency', (v: unknown) => fmt.currency_(v));
  hb.registerHelper('percent', (...a: unknown[]) => fmt.percent(arg(a)[0], typeof arg(a)[1] === 'number' ? (arg(a)[1] as number) : undefined));
  hb.registerHelper('ratio', (v: unknown) => fmt.ratio(v));
  hb.registerHelper('date', (v: unknown) => fmt.date(v));
  hb.registerHelper('duration', (v: unknown) => fmt.duration(v));
  hb.registerHelper('delta', (v: unknown, options: HelperOptions) => new hb.SafeString(deltaHtml(fmt, v, options?.hash?.inverse === true, options?.hash?.points === true)));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('value', (v: unknown, unit: unknown) => formatValue(fmt, v, typeof unit === 'string' ? unit : undefined));
}

/** A value by its unit (cx_metrics units, KPI kinds): ratio/percent, seconds, money, count, score. */
export function formatValue(fmt: Formatter, v: unknown, unit?: string): string {
  switch (unit) {
    case 'ratio':
    case 'percent':
      return fmt.percent(unit === 'percent' && num(v) !== null && Math.abs(num(v)!) > 1 ? num(v)! / 100 : v);
    case 'seconds':
      return fmt.duration(v);
    case 'money':
    case 'currency':
      return fmt.currency_(v);
    case 'roas':
      return fmt.ratio(v);
    case 'score':
      return fmt.number(v, 1);
    default:
      if (v instanceof Date) return fmt.date(v);
      return num(v) === null ? (v === null || v === undefined ? NA : String(v)) : fmt.number(v);
  }
}
