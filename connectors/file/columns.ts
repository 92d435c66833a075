// Declared columns: the one description of a file stream's records. From it come the coercion of
// raw text/JSON values to typed values, the record's JSON Schema (which the engine validates), and
// the cursor comparisons. Pure: no I/O.
import { ConfigError } from '../../core/errors.ts';
import type { JsonObject, JsonSchema, JsonValue } from '../../core/sdk/types.ts';

export const COLUMN_TYPES = ['string', 'integer', 'number', 'boolean', 'timestamp', 'date'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** A column as written in the config: `ts: timestamp` or `ts: { type: timestamp, required: true }`. */
export type ColumnConfig =
  | ColumnType
  | { type: ColumnType; required?: boolean; from?: string; description?: string };

export interface Column {
  name: string;
  type: ColumnType;
  required: boolean;
  /** CSV: the header name; NDJSON: a dot path into the object (`traffic.source`). Defaults to name. */
  from: string;
  description?: string;
}

/** Returned by a coercer when the value cannot become the column's type. */
export const INVALID: unique symbol = Symbol('invalid');
export type Coerced = JsonValue | typeof INVALID;

export function normalizeColumns(config: Record<string, ColumnConfig>, requiredNames: string[], where: string): Column[] {
  const columns: Column[] = [];
  for (const [name, spec] of Object.entries(config ?? {})) {
    const c = typeof spec === 'string' ? { type: spec } : spec;
    if (!(COLUMN_TYPES as readonly string[]).includes(c.type)) {
      throw new ConfigError(`${where}.columns.${name}: unknown type ${JSON.stringify(c.type)}`, {
        hint: `use one of ${COLUMN_TYPES.join(', ')}`,
      });
    }
    columns.push({
      name,
      type: c.type,
      required: ('required' in c && c.required === true) || requiredNames.includes(name),
      from: ('from' in c && c.from) || name,
      description: 'description' in c ? c.description : undefined,
    });
  }
  if (columns.length === 0) {
    throw new ConfigError(`${where}.columns: declare at least one column`, { hint: 'columns: { event_id: string, ts: timestamp }' });
  }
  for (const name of requiredNames) {
    if (!columns.some((c) => c.name === name)) {
      throw new ConfigError(`${where}: column ${JSON.stringify(name)} is used but not declared under columns`, {
        hint: `declared columns: ${columns.map((c) => c.name).join(', ')}`,
      });
    }
  }
  return columns;
}

/** The record schema the engine validates against: declared columns only, required ones non-null. */
export function recordSchema(columns: Column[]): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const c of columns) {
    const base = c.type === 'timestamp' || c.type === 'date' ? 'string' : c.type;
    const prop: JsonSchema = { type: c.required ? base : [base, 'null'] };
    if (c.type === 'timestamp') prop.format = 'date-time';
    if (c.type === 'date') prop.format = 'date';
    if (c.description) prop.description = c.description;
    properties[c.name] = prop;
  }
  return {
    type: 'object',
    properties,
    required: columns.filter((c) => c.required).map((c) => c.name),
    additionalProperties: false,
  };
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);
// ISO 8601 / RFC 3339 and the common `YYYY-MM-DD HH:MM:SS` export form. No offset means UTC.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Empty strings and whitespace-only text are null for every type (as in DuckDB's CSV reader). */
function blank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

export function parseTimestamp(text: string): string | typeof INVALID {
  // Fast path for what most exports already hold: the exact toISOString() form.
  if (text.length === 24 && text.charCodeAt(10) === 84 && text.charCodeAt(23) === 90) {
    const t = Date.parse(text);
    if (!Number.isNaN(t) && new Date(t).toISOString() === text) return text;
  }
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return INVALID;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const local = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms);
  const check = new Date(local);
  // Date.UTC rolls 2024-02-30 over to March: a round trip catches impossible dates and times.
  if (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1 || check.getUTCHours() !== +h || check.getUTCMinutes() !== +mi || check.getUTCSeconds() !== +s) {
    return INVALID;
  }
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== 'Z' && zone.toUpperCase() !== 'UTC') {
    const digits = zone.slice(1).replace(':', '');
    offsetMin = (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
  }
  const t = local - offsetMin * 60_000;
  return Number.isFinite(t) ? new Date(t).toISOString() : INVALID;
}

export function parseDate(text: string): string | typeof INVALID {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const ts = parseTimestamp(t);
    return ts === INVALID ? INVALID : t;
  }
  // A full timestamp becomes its UTC calendar date.
  const ts = parseTimestamp(t);
  return ts === INVALID ? INVALID : ts.slice(0, 10);
}

export function coerce(value: unknown, type: ColumnType): Coerced {
  if (blank(value)) return null;
  const kind = typeof value;
  if (kind === 'object') return INVALID; // nested JSON is not a declared scalar column
  switch (type) {
    case 'string':
      return kind === 'string' ? (value as string) : String(value);
    case 'integer':
      if (kind === 'number') return Number.isSafeInteger(value) ? (value as number) : INVALID;
      if (kind === 'string' && INTEGER.test((value as string).trim())) {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : INVALID;
      }
      return INVALID;
    case 'number':
      if (kind === 'number') return Number.isFinite(value) ? (value as number) : INVALID;
      if (kind === 'string' && NUMBER.test((value as string).trim())) return Number(value);
      return INVALID;
    case 'boolean': {
      if (kind === 'boolean') return value as boolean;
      const t = String(value).trim().toLowerCase();
      return TRUE.has(t) ? true : FALSE.has(t) ? false : INVALID;
    }
    case 'timestamp':
      // Bare numbers are Unix epochs: seconds below 1e11 (until year 5138), milliseconds above.
      if (kind === 'number') {
        const n = value as number;
        return Number.isFinite(n) ? new Date(Math.abs(n) < 1e11 ? n * 1000 : n).toISOString() : INVALID;
      }
      return kind === 'string' ? parseTimestamp(value as string) : INVALID;
    case 'date':
      return kind === 'string' ? parseDate(value as string) : INVALID;
  }
}

/** A short, safe rendering of a bad value for a rejection reason. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Builds the typed record from a value lookup; returns a problem string for the first column that
 * cannot be coerced. `get(i)` returns the raw value for column i.
 */
export function buildRecord(columns: Column[], get: (index: number) => unknown): JsonObject | string {
  const record: JsonObject = {};
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    const raw = get(i);
    const v = coerce(raw, c.type);
    if (v === INVALID) return `column ${c.name}: ${show(raw)} is not a valid ${c.type}`;
    record[c.name] = v;
  }
  return record;
}
