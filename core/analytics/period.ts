// Reporting periods: a preset (`last_month`), a month (`2025-03`), a range (`2025-03-01..2025-03-31`)
// or `all`, resolved against a reference day ("today") in a time zone into calendar dates and the
// UTC instants that bound them. Pure. Shared by the analytics stage, `touchpoint query` and reports.
//
// "Today" is the day the period is evaluated on and is never part of a relative period:
// `last_7_days` evaluated on 2025-04-01 is 2025-03-25..2025-03-31. `as_of: latest_data` makes today
// the day after the latest event or spend date in the store, so a relative period ends with the
// newest data (demos, back-fills). Comparison periods: `previous_period` (the same number of days
// just before; a calendar month, quarter or year compares with the previous one), `previous_year`
// (the same dates a year earlier) or `none`.
import { ConfigError } from '../errors.ts';

export const PERIOD_PRESETS = [
  'all',
  'yesterday',
  'last_7_days',
  'last_14_days',
  'last_28_days',
  'last_30_days',
  'last_90_days',
  'last_week',
  'week_to_date',
  'last_month',
  'month_to_date',
  'last_quarter',
  'quarter_to_date',
  'last_year',
  'year_to_date',
] as const;
export type PeriodPreset = (typeof PERIOD_PRESETS)[number];
export type ComparisonMode = 'previous_period' | 'previous_year' | 'none';

/** A period as written in YAML or on the command line. */
export type PeriodSpec = string | { start: string; end: string };

export interface ResolvedPeriod {
  /** The key stored in the result tables: `all` or `YYYY-MM-DD..YYYY-MM-DD`. */
  key: string;
  /** What the user asked for (`last_month`, `2025-03`, …), for titles. */
  label: string;
  /** Inclusive calendar dates (null for `all`). */
  startDate: string | null;
  endDate: string | null;
  /** UTC instants: [start, end). Null for `all` (unbounded). */
  start: Date | null;
  end: Date | null;
  /** Number of days (null for `all`). */
  days: number | null;
  /** Calendar unit the period is, when it is one (for `previous_period` comparisons). */
  unit?: 'month' | 'quarter' | 'year' | 'week';
  timezone: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Days since the epoch of a `YYYY-MM-DD` date (calendar arithmetic, no time zone). */
function dayNumber(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: string, n: number): string {
  return dateOf(dayNumber(date) + n);
}

function ymd(y: number, m: number, d: number): string {
  // m is 1-based and may overflow either way.
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
}

function parts(date: string): [number, number, number] {
  return [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))];
}

export function isValidDate(date: string): boolean {
  if (!DATE.test(date)) return false;
  const t = Date.parse(`${date}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === date;
}

/** The offset (ms) of `timeZone` from UTC at the instant `t`. */
function offsetAt(t: number, timeZone: string): number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const local = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return local - Math.floor(t / 1000) * 1000;
}

/** The UTC instant of midnight at the start of `date` in `timeZone`. */
export function startOfDay(date: string, timeZone: string): Date {
  const naive = Date.parse(`${date}T00:00:00Z`);
  let t = naive - offsetAt(naive, timeZone);
  t = naive - offsetAt(t, timeZone);
  return new Date(t);
}

/** The calendar date of instant `t` in `timeZone`. */
export function dateIn(t: Date, timeZone: string): string {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return f.format(t);
}

export function assertTimeZone(timeZone: string): void {
  try {
    Intl.DateTimeFormat('en-US', { timeZone }).format(0);
  } catch {
    throw new ConfigError(`unknown time zone "${timeZone}"`, { hint: 'use an IANA name such as Europe/Warsaw or America/New_York' });
  }
}

function range(startDate: string, endDate: string, label: string, timeZone: string, unit?: ResolvedPeriod['unit']): ResolvedPeriod {
  return {
    key: `${startDate}..${endDate}`,
    label,
    startDate,
    endDate,
    start: startOfDay(startDate, timeZone),
    end: startOfDay(addDays(endDate, 1), timeZone),
    days: dayNumber(endDate) - dayNumber(startDate) + 1,
    unit,
    timezone: timeZone,
  };
}

export function allTime(timeZone = 'UTC'): ResolvedPeriod {
  return { key: 'all', label: 'all', startDate: null, endDate: null, start: null, end: null, days: null, timezone: timeZone };
}

const periodHint = `use one of ${PERIOD_PRESETS.join(', ')}, a month (2025-03) or a range (2025-03-01..2025-03-31)`;

/**
 * Resolves a period. `today` is the evaluation day (`YYYY-MM-DD`) in `timeZone`: relative presets
 * end the day before it.
 */
export function resolvePeriod(spec: PeriodSpec, today: string, timeZone = 'UTC'): ResolvedPeriod {
  if (typeof spec === 'object') return resolvePeriod(`${spec.start}..${spec.end}`, today, timeZone);
  const s = spec.trim();
  if (s === 'all') return allTime(timeZone);
  const month = MONTH.exec(s);
  if (month) {
    const y = Number(month[1]);
    const m = Number(month[2]);
    if (m < 1 || m > 12) throw new ConfigError(`"${s}" is not a month`, { hint: periodHint });
    return range(ymd(y, m, 1), ymd(y, m + 1, 0), s, timeZone, 'month');
  }
  if (s.includes('..')) {
    const [a, b] = s.split('..');
    if (!isValidDate(a) || !isValidDate(b)) throw new ConfigError(`"${s}" is not a date range`, { hint: 'write it as YYYY-MM-DD..YYYY-MM-DD (both ends included)' });
    if (b < a) throw new ConfigError(`the period "${s}" ends before it starts`, { hint: 'write the earlier date first' });
    return range(a, b, s, timeZone);
  }
  const yesterday = addDays(today, -1);
  const [ty, tm] = parts(today);
  const [yy, ym] = parts(yesterday);
  const lastN = /^last_(\d+)_days$/.exec(s);
  if (lastN && (PERIOD_PRESETS as readonly string[]).includes(s)) return range(addDays(today, -Number(lastN[1])), yesterday, s, timeZone);
  const weekday = (dayNumber(today) + 3) % 7; // 0 = Monday (1970-01-01 was a Thursday)
  const monday = addDays(today, -weekday);
  switch (s as PeriodPreset) {
    case 'yesterday':
      return range(yesterday, yesterday, s, timeZone);
    case 'last_week':
      return range(addDays(monday, -7), addDays(monday, -1), s, timeZone, 'week');
    case 'week_to_date':
      return range(weekday === 0 ? addDays(monday, -7) : monday, yesterday, s, timeZone);
    case 'last_month':
      return range(ymd(ty, tm - 1, 1), ymd(ty, tm, 0), s, timeZone, 'month');
    case 'month_to_date':
      return range(ymd(yy, ym, 1), yesterday, s, timeZone);
    case 'last_quarter': {
      const q = Math.floor((tm - 1) / 3);
      return range(ymd(ty, q * 3 - 2, 1), ymd(ty, q * 3 + 1, 0), s, timeZone, 'quarter');
    }
    case 'quarter_to_date': {
      const q = Math.floor((ym - 1) / 3);
      return range(ymd(yy, q * 3 + 1, 1), yesterday, s, timeZone);
    }
    case 'last_year':
      return range(ymd(ty - 1, 1, 1), ymd(ty - 1, 12, 31), s, timeZone, 'year');
    case 'year_to_date':
      return range(ymd(yy, 1, 1), yesterday, s, timeZone);
    default:
      throw new ConfigError(`unknown period "${s}"`, { hint: periodHint });
  }
}

/** The period a period is compared with, or null (`none`, or `all`). */
export function comparisonPeriod(p: ResolvedPeriod, mode: ComparisonMode = 'previous_period'): ResolvedPeriod | null {
  if (mode === 'none' || p.startDate === null || p.endDate === null || p.days === null) return null;
  const [sy, sm, sd] = parts(p.startDate);
  const [ey, em, ed] = parts(p.endDate);
  if (mode === 'previous_year') {
    // 29 February compares with 28 February.
    const start = ymd(sy - 1, sm, Math.min(sd, Number(ymd(sy - 1, sm + 1, 0).slice(8))));
    const end = ymd(ey - 1, em, Math.min(ed, Number(ymd(ey - 1, em + 1, 0).slice(8))));
    return range(start, end, `${p.label} (previous year)`, p.timezone, p.unit);
  }
  if (p.unit === 'month') return range(ymd(sy, sm - 1, 1), ymd(sy, sm, 0), `${p.label} (previous)`, p.timezone, 'month');
  if (p.unit === 'quarter') return range(ymd(sy, sm - 3, 1), ymd(sy, sm, 0), `${p.label} (previous)`, p.timezone, 'quarter');
  if (p.unit === 'year') return range(ymd(sy - 1, 1, 1), ymd(sy - 1, 12, 31), `${p.label} (previous)`, p.timezone, 'year');
  return range(addDays(p.startDate, -p.days), addDays(p.startDate, -1), `${p.label} (previous)`, p.timezone, p.unit);
}

/** `YYYY-MM-DD` "today" in a time zone. */
export function todayIn(timeZone: string, now = new Date()): string {
  return dateIn(now, timeZone);
}
