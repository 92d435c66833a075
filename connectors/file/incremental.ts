// Incremental bookkeeping for file streams: what the committed state says, which files need
// reading, where a killed run resumes, and the cursor threshold with its lookback. Pure: the
// fingerprints come from client.ts, the state goes back to the engine with each batch.
import { ConfigError } from '../../core/errors.ts';
import type { JsonObject, JsonValue, StreamState } from '../../core/sdk/types.ts';
import { INVALID, parseDate, parseTimestamp } from './columns.ts';
import type { Column } from './columns.ts';

/** Enough to tell that a file changed without reading all of it (see client.ts `probe`). */
export interface Fingerprint {
  size: number;
  /** Modification time in ms since the epoch, as reported by the file system. */
  mtime: number;
  /** sha256 of the first and last 64 KiB. */
  sample: string;
}

/** A file read part-way: the next run starts at line + 1 if the file is still the same. */
export interface Position {
  file: string;
  line: number;
  fingerprint: Fingerprint;
}

export interface FilesState {
  mode: 'files';
  /** Files read to the end, by path relative to the glob's folder. */
  files: Record<string, Fingerprint>;
  current?: Position;
}

export interface CursorState {
  mode: 'cursor';
  /** The highest cursor value committed by the last complete pass. */
  cursor: JsonValue;
  /** A pass under way: rows kept so far reach `max`; `done` files are finished in this pass. */
  pass?: { max: JsonValue; done: string[]; current?: Position };
}

export type FileStreamState = FilesState | CursorState;

export function sameFingerprint(a: Fingerprint | undefined, b: Fingerprint): boolean {
  return a !== undefined && a.size === b.size && a.mtime === b.mtime && a.sample === b.sample;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads committed state defensively: a state from another mode or version starts over. */
export function parseState(raw: StreamState, mode: 'files' | 'cursor'): { state: FileStreamState; discarded: boolean } {
  const empty: FileStreamState = mode === 'files' ? { mode, files: {} } : { mode, cursor: null };
  if (!isObject(raw) || Object.keys(raw).length === 0) return { state: empty, discarded: false };
  if (raw.mode !== mode) return { state: empty, discarded: true };
  if (mode === 'files') {
    return { state: { mode, files: isObject(raw.files) ? (raw.files as unknown as FilesState['files']) : {}, current: raw.current as unknown as Position | undefined }, discarded: false };
  }
  return { state: { mode, cursor: raw.cursor ?? null, pass: raw.pass as unknown as CursorState['pass'] }, discarded: false };
}

/** The line to resume after in `file`, or 0 to read it from the start. */
export function resumeLine(current: Position | undefined, file: string, fp: Fingerprint): number {
  return current && current.file === file && sameFingerprint(current.fingerprint, fp) ? current.line : 0;
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Subtracts an ISO 8601 duration (P3D, PT6H, P1M …) from an epoch-ms instant, calendar-aware. */
export function subtractDuration(ms: number, duration: string): number {
  const m = DURATION.exec(duration);
  if (!m || duration === 'P' || duration.endsWith('T')) throw new Error(`not an ISO 8601 duration: ${duration}`);
  const [, y, mo, w, d, h, mi, s] = m.map((x) => (x === undefined ? 0 : Number(x)));
  const date = new Date(ms);
  date.setUTCFullYear(date.getUTCFullYear() - y, date.getUTCMonth() - mo, date.getUTCDate() - 7 * w - d);
  return date.getTime() - ((h * 60 + mi) * 60 + s) * 1000;
}

export interface CursorConfig {
  column: string;
  /** ISO 8601 duration for timestamp/date cursors, a number for numeric ones. */
  lookback?: string | number;
  /** The first run starts here (falls back to the pipeline's start date). */
  initial?: string | number;
}

/** Checks a cursor config against its column at config time, so a bad lookback fails before a run. */
export function checkCursor(cursor: CursorConfig, column: Column, where: string): void {
  const numeric = column.type === 'integer' || column.type === 'number';
  const temporal = column.type === 'timestamp' || column.type === 'date';
  if (!numeric && !temporal && column.type !== 'string') {
    throw new ConfigError(`${where}.incremental.column: a ${column.type} column cannot be a cursor`, { hint: 'use a timestamp, date, integer, number or string column' });
  }
  if (cursor.lookback === undefined) return;
  if (numeric && typeof cursor.lookback !== 'number') {
    throw new ConfigError(`${where}.incremental.lookback: must be a number for the ${column.type} column ${column.name}`);
  }
  if (temporal && (typeof cursor.lookback !== 'string' || !DURATION.test(cursor.lookback) || cursor.lookback === 'P')) {
    throw new ConfigError(`${where}.incremental.lookback: must be an ISO 8601 duration (got ${JSON.stringify(cursor.lookback)})`, { hint: 'e.g. P3D (three days) or PT6H (six hours)' });
  }
  if (column.type === 'string') {
    throw new ConfigError(`${where}.incremental.lookback: a string cursor cannot have a lookback`, { hint: 'declare the cursor column as timestamp, date or a number' });
  }
}

/**
 * The lowest cursor value to keep in this pass: last committed max minus lookback, else the initial
 * value (or the pipeline start date), else no bound. Returned in the column's own representation
 * (ISO string, YYYY-MM-DD, number) so that comparing with a coerced value is a plain `<`.
 */
export function cursorThreshold(cursor: CursorConfig, column: Column, committed: JsonValue, startDate?: string): JsonValue {
  const from = committed ?? cursor.initial ?? (column.type === 'timestamp' || column.type === 'date' ? startDate : undefined) ?? null;
  if (from === null) return null;
  const lookback = committed === null ? undefined : cursor.lookback;
  switch (column.type) {
    case 'integer':
    case 'number':
      return Number(from) - (typeof lookback === 'number' ? lookback : 0);
    case 'timestamp': {
      const iso = parseTimestamp(String(from));
      if (iso === INVALID) throw new ConfigError(`cursor start ${JSON.stringify(from)} is not a timestamp`);
      const ms = lookback === undefined ? Date.parse(iso) : subtractDuration(Date.parse(iso), String(lookback));
      return new Date(ms).toISOString();
    }
    case 'date': {
      const day = parseDate(String(from));
      if (day === INVALID) throw new ConfigError(`cursor start ${JSON.stringify(from)} is not a date`);
      const ms = lookback === undefined ? Date.parse(day) : subtractDuration(Date.parse(day), String(lookback));
      return new Date(ms).toISOString().slice(0, 10);
    }
    default:
      return String(from);
  }
}

/** Rows without a cursor value cannot be placed, so they are always kept (upserts make that safe). */
export function keepRow(value: JsonValue | undefined, threshold: JsonValue): boolean {
  if (value === null || value === undefined || threshold === null) return true;
  return (value as number | string) >= (threshold as number | string);
}

export function maxCursor(a: JsonValue, b: JsonValue | undefined): JsonValue {
  if (b === null || b === undefined) return a;
  if (a === null) return b;
  return (b as number | string) > (a as number | string) ? b : a;
}
