// Pure decoding of BigQuery's tabledata.list rows into plain nested JSON, driven by the table schema
// from tables.get (https://cloud.google.com/bigquery/docs/reference/rest/v2/tabledata/list and
// .../rest/v2/tables#TableFieldSchema). A row is `{ f: [cell…] }` with one cell per schema field, in
// schema order; a cell is `{ v }` where v is null, a string for every scalar type, `{ f: […] }` for a
// RECORD, and an array of cells for a REPEATED field. The decoded row matches what BigQuery writes
// when it exports the same table to NDJSON: INT64 stays a digit string (exact beyond 2^53), FLOAT64
// and BOOL become JSON numbers and booleans, so both paths feed the same ga4RecordFromExportRow.
import type { JsonObject, JsonValue } from '../../core/sdk/index.ts';

export interface TableField {
  name: string;
  type: string;
  mode?: string | null;
  fields?: TableField[] | null;
}

export interface TableCell {
  v?: unknown;
}

export interface TableRow {
  f?: TableCell[] | null;
}

/** Raised for a row whose shape does not fit the schema (a cell count or nesting mismatch). */
export class TableDataError extends Error {}

function scalar(type: string, v: unknown, path: string): JsonValue {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new TableDataError(`${path}: expected a string value for ${type} (got ${typeof v})`);
  switch (type) {
    case 'FLOAT':
    case 'FLOAT64': {
      const n = Number(v);
      // JSON has no NaN or Infinity; keep BigQuery's spelling of them rather than lose the value.
      return Number.isFinite(n) ? n : v;
    }
    case 'BOOLEAN':
    case 'BOOL':
      return v === 'true';
    case 'TIMESTAMP':
      return timestamp(v);
    default:
      // STRING, INTEGER/INT64 (digits, exact), NUMERIC, BIGNUMERIC, DATE, DATETIME, TIME, BYTES (base64),
      // GEOGRAPHY (WKT), JSON (text).
      return v;
  }
}

/**
 * A TIMESTAMP cell: float seconds ("1.7151234E9") by default, or integer microseconds when the request
 * set formatOptions.useInt64Timestamp, which the client does (floats lose the microseconds).
 */
function timestamp(v: string): string {
  if (/^-?\d+$/.test(v)) {
    const micros = BigInt(v);
    const ms = Number(micros / 1000n);
    const rest = String(((micros % 1000n) + 1000n) % 1000n).padStart(3, '0');
    return `${new Date(ms).toISOString().slice(0, 23)}${rest}Z`;
  }
  const seconds = Number(v);
  return Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : v;
}

function cell(field: TableField, v: unknown, path: string): JsonValue {
  if (field.mode === 'REPEATED') {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) throw new TableDataError(`${path}: a REPEATED field must hold an array`);
    return v.map((item: TableCell, i) => one(field, item?.v, `${path}[${i}]`));
  }
  return one(field, v, path);
}

function one(field: TableField, v: unknown, path: string): JsonValue {
  if (field.type === 'RECORD' || field.type === 'STRUCT') {
    if (v === null || v === undefined) return null;
    return decodeRow(v as TableRow, field.fields ?? [], path);
  }
  return scalar(field.type, v, path);
}

/** One tabledata row → a plain object keyed by the schema's field names. */
export function decodeRow(row: TableRow, fields: readonly TableField[], path = ''): JsonObject {
  const cells = row?.f;
  if (!Array.isArray(cells)) throw new TableDataError(`${path || 'row'}: expected { f: [...] }`);
  if (cells.length !== fields.length) {
    throw new TableDataError(`${path || 'row'}: ${cells.length} cells for ${fields.length} schema fields (the schema changed while reading?)`);
  }
  const out: JsonObject = {};
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    const at = path ? `${path}.${field.name}` : field.name;
    out[field.name] = cell(field, cells[i]?.v, at);
  }
  return out;
}
