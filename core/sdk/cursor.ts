// Incremental reading, after dlt's `Incremental`: where a stream starts (the last committed cursor
// minus a lookback for late-arriving data, else the first-run start) and how the cursor moves (only
// forward, compared as instants or numbers, never as raw strings: "…00.5Z" sorts before "…00Z"). The
// cursor lives in the stream state as `state.cursor`; the lookback re-reads a window whose records are
// upserted by primary key, so late data is caught without duplicates.
import { ConfigError, RunError } from '../errors.ts';
import type { CursorSpec, StreamState } from './types.ts';

export type CursorValue = string | number;

/** An ISO 8601 duration. Years and months are calendar units; the rest are fixed lengths (UTC days). */
export interface Duration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

export interface StartFromInput {
  state: StreamState;
  cursor: CursorSpec;
  options: { startDate?: string };
  fullRefresh: boolean;
}

const DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

/** Parses `P3D`, `PT6H`, `P1M`, `PT0.5S` …; throws a ConfigError naming the text otherwise. */
export function parseDuration(text: string): Duration {
  const m = DURATION.exec(text.trim().toUpperCase());
  // "P" alone and "P1DT" match the pattern but say nothing.
  if (!m || !m.slice(1).some(Boolean) || text.trim().toUpperCase().endsWith('T')) {
    throw new ConfigError(`"${text}" is not an ISO 8601 duration`, { hint: 'write e.g. P3D (3 days), PT6H (6 hours) or P1M (1 month)' });
  }
  const [years, months, weeks, days, hours, minutes, seconds] = m.slice(1).map((s) => (s ? Number(s.replace(',', '.')) : 0));
  return { years, months, weeks, days, hours, minutes, seconds };
}

/**
 * The cursor value to read from. With committed state: `state.cursor` minus `cursor.lookback`. On a
 * first or full-refresh run: the later of `cursor.initial` and the pipeline's `startDate` (both are
 * "nothing before this": the connector's because the API holds nothing older, the user's because
 * they want nothing older), or undefined to read everything.
 */
export function startFrom({ state, cursor, options, fullRefresh }: StartFromInput): CursorValue | undefined {
  const saved = state.cursor;
  if (!fullRefresh && saved !== undefined && saved !== null) {
    if (typeof saved !== 'string' && typeof saved !== 'number') {
      throw new RunError(`stream state holds a cursor of type ${Array.isArray(saved) ? 'array' : typeof saved}`, {
        hint: 'run this stream once with --full-refresh to rebuild its state',
      });
    }
    return cursor.lookback ? lookBack(saved, cursor.lookback) : saved;
  }
  const { initial } = cursor;
  const { startDate } = options;
  if (initial === undefined) return startDate;
  if (startDate === undefined) return initial;
  return compareCursor(startDate, initial) > 0 ? startDate : initial;
}

/** The state with `value` as its cursor if it is past the current one; the state never moves back. */
export function advance(state: StreamState, value: CursorValue | null | undefined): StreamState {
  if (value === undefined || value === null) return state;
  const current = state.cursor;
  if (current === undefined || current === null) return { ...state, cursor: value };
  if (typeof current !== 'string' && typeof current !== 'number') return { ...state, cursor: value };
  return compareCursor(value, current) > 0 ? { ...state, cursor: value } : state;
}

/**
 * Orders two cursor values: numbers (and numeric strings, big integers exactly) numerically, ISO
 * timestamps as instants (no offset means UTC; digits past the millisecond break ties), other strings
 * by code unit (opaque sortable tokens). A timestamp against a non-timestamp throws: a cursor field
 * whose values change kind would otherwise let the state jump to nonsense.
 */
export function compareCursor(a: CursorValue, b: CursorValue): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  const sa = String(a);
  const sb = String(b);
  if (INTEGER.test(sa) && INTEGER.test(sb)) return BigInt(sa) < BigInt(sb) ? -1 : BigInt(sa) > BigInt(sb) ? 1 : 0;
  if (DECIMAL.test(sa) && DECIMAL.test(sb)) return Math.sign(Number(sa) - Number(sb));
  const ta = parseTimestamp(sa);
  const tb = parseTimestamp(sb);
  if (ta && tb) return Math.sign(ta.ms - tb.ms) || compareDigits(ta.subMs, tb.subMs);
  if (typeof a === 'string' && typeof b === 'string' && !ta && !tb && !DECIMAL.test(sa) && !DECIMAL.test(sb)) {
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  throw new RunError(`cursor values ${JSON.stringify(a)} and ${JSON.stringify(b)} cannot be compared`, {
    hint: "a stream's cursor field must hold ISO timestamps or numbers throughout",
  });
}

/** `value` minus `duration`, in the same shape: a date stays a date, a timestamp comes back in UTC. */
export function subtractDuration(value: string, duration: Duration): string {
  const t = parseTimestamp(value);
  if (!t) throw new RunError(`cursor value ${JSON.stringify(value)} is not an ISO timestamp`);
  const d = new Date(t.ms);
  if (duration.years || duration.months) {
    const day = d.getUTCDate();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() - duration.months - 12 * duration.years);
    // 31 March minus a month is 28/29 February, not 3 March.
    const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, last));
  }
  const fixed = (((duration.weeks * 7 + duration.days) * 24 + duration.hours) * 60 + duration.minutes) * 60 + duration.seconds;
  // Floor to the millisecond: a lookback may read a little more, never less.
  const ms = Math.floor(d.getTime() - fixed * 1000);
  const iso = new Date(ms).toISOString();
  if (t.dateOnly) return iso.slice(0, 10);
  return t.hasFraction || ms % 1000 !== 0 ? iso : iso.replace('.000Z', 'Z');
}

function lookBack(value: CursorValue, lookback: string): CursorValue {
  const duration = parseDuration(lookback);
  if (typeof value === 'number' || !parseTimestamp(value)) {
    throw new ConfigError(`cursor lookback ${lookback} needs a timestamp cursor, but the state holds ${JSON.stringify(value)}`, {
      hint: 'drop `lookback` for numeric or opaque cursors',
    });
  }
  return subtractDuration(value, duration);
}

interface Timestamp {
  ms: number;
  /** Fraction digits past the millisecond ("456" of .123456), for ties. */
  subMs: string;
  dateOnly: boolean;
  hasFraction: boolean;
}

function parseTimestamp(text: string): Timestamp | undefined {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const fraction = frac ?? '';
  let ms = Date.UTC(+y, +mo - 1, +d, +(h ?? 0), +(mi ?? 0), +(s ?? 0), Number(fraction.slice(0, 3).padEnd(3, '0')));
  if (Number.isNaN(ms)) return undefined;
  if (zone && zone.toUpperCase() !== 'Z') {
    const [, sign, oh, om] = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    ms -= (sign === '-' ? -1 : 1) * (+oh * 60 + +(om ?? 0)) * 60_000;
  }
  return { ms, subMs: fraction.slice(3), dateOnly: h === undefined, hasFraction: fraction !== '' };
}

function compareDigits(a: string, b: string): number {
  const len = Math.max(a.length, b.length);
  const pa = a.padEnd(len, '0');
  const pb = b.padEnd(len, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}
