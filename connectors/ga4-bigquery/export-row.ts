// One GA4 BigQuery export row (https://support.google.com/analytics/answer/7029846, "[GA4] BigQuery
// Export schema") as the plain nested JSON object it is in an NDJSON dump (`bq extract
// --destination_format NEWLINE_DELIMITED_JSON`) or after table-data.ts has decoded BigQuery's f/v rows,
// turned into the record this connector stores: the row as GA4 wrote it, its top-level INTEGER
// columns as digit strings (BigQuery's JSON form: an INT64 can exceed 2^53), plus `event_id`.
// Pure and shared with the `file` connector's `format: ga4-export`.
//
// GA4 has no event id. `event_id` joins the fields that tell two events apart (event_timestamp,
// event_name, user_pseudo_id, ga_session_id, event_bundle_sequence_id, batch_page_id,
// batch_ordering_id, batch_event_index) in fixed positions with '|': the same event read from the
// intraday table and later from the daily table gets the same id, so the upsert replaces it. Rows
// equal in all of these (GA4 occasionally exports true duplicates) collapse into one, on purpose.
import type { JsonObject, JsonValue } from '../../core/sdk/index.ts';

/** A value of `event_params` / `user_properties`: one of the typed slots is set. */
export interface Ga4ParamValue {
  string_value?: string | null;
  int_value?: string | number | null;
  float_value?: number | null;
  double_value?: number | null;
  /** user_properties only: when the property was set (µs). */
  set_timestamp_micros?: string | number | null;
}

export interface Ga4Param {
  key: string;
  value: Ga4ParamValue | null;
}

/** The stored record. Nested records keep the export's names; unknown columns are kept too. */
export interface Ga4Record extends JsonObject {
  event_id: string;
  /** YYYYMMDD in the property's time zone (the table suffix). */
  event_date: string;
  /** Microseconds since the epoch, UTC, as a digit string. */
  event_timestamp: string;
  event_name: string;
}

// Top-level INTEGER columns of the export schema.
const INT_COLUMNS = [
  'event_timestamp',
  'event_previous_timestamp',
  'event_bundle_sequence_id',
  'event_server_timestamp_offset',
  'user_first_touch_timestamp',
  'batch_event_index',
  'batch_ordering_id',
  'batch_page_id',
] as const;

/** An INT64 as BigQuery writes it in JSON: digits in a string. Anything else is left for the schema to reject. */
function intString(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value;
  if (typeof value === 'string') {
    const t = value.trim();
    return /^-?\d+$/.test(t) ? t : value;
  }
  return value;
}

/** The typed slot that is set: string, then int, then double, then float (GA4 sets exactly one). */
export function paramValue(value: Ga4ParamValue | null | undefined): string | number | null {
  if (!value) return null;
  if (value.string_value !== undefined && value.string_value !== null) return value.string_value;
  if (value.int_value !== undefined && value.int_value !== null) return value.int_value;
  if (value.double_value !== undefined && value.double_value !== null) return value.double_value;
  if (value.float_value !== undefined && value.float_value !== null) return value.float_value;
  return null;
}

/** The value of one event parameter, or null. */
export function eventParam(record: JsonObject, key: string): string | number | null {
  const params = record.event_params;
  if (!Array.isArray(params)) return null;
  for (const p of params as unknown as Ga4Param[]) if (p && p.key === key) return paramValue(p.value);
  return null;
}

function part(value: JsonValue | undefined): string {
  return value === undefined || value === null ? '' : String(value);
}

/** The primary key of a GA4 event (see the file comment for the choice of fields). */
export function ga4EventId(record: JsonObject): string {
  return [
    part(record.event_timestamp),
    part(record.event_name),
    part(record.user_pseudo_id),
    part(eventParam(record, 'ga_session_id')),
    part(record.event_bundle_sequence_id),
    part(record.batch_page_id),
    part(record.batch_ordering_id),
    part(record.batch_event_index),
  ].join('|');
}

/**
 * A GA4 export row (plain nested JSON) → the stored record. Throws a TypeError only when the row is not
 * an object; a row missing required columns comes back as it is and fails the stream's record schema
 * (so it is quarantined with the reason, not dropped).
 */
export function ga4RecordFromExportRow(row: unknown): Ga4Record {
  if (!row || typeof row !== 'object' || Array.isArray(row)) {
    throw new TypeError(`a GA4 export row must be a JSON object (got ${Array.isArray(row) ? 'an array' : row === null ? 'null' : typeof row})`);
  }
  const record = { ...(row as JsonObject) };
  for (const column of INT_COLUMNS) {
    const value = record[column];
    if (value !== undefined && value !== null) record[column] = intString(value) as JsonValue;
  }
  // event_date is a STRING column, but hand-made dumps sometimes carry it as a number.
  if (typeof record.event_date === 'number') record.event_date = String(record.event_date);
  record.event_id = ga4EventId(record);
  return record as Ga4Record;
}

const NULLABLE_STRING = { type: ['string', 'null'] };

/**
 * The stored record's JSON Schema, here (and not only in streams.ts, which loads googleapis through
 * client.ts) so that the `file` connector's `format: ga4-export` can use it without the BigQuery
 * client. The columns the mapping relies on are checked; everything else GA4 exports (and columns it
 * adds later) is kept as it is. Equal to streams.ts's `eventSchema` (a test in the file connector
 * holds them together).
 */
export const ga4RecordSchema = {
  type: 'object',
  required: ['event_id', 'event_date', 'event_timestamp', 'event_name'],
  properties: {
    event_id: { type: 'string', minLength: 1 },
    event_date: { type: 'string', pattern: '^[0-9]{8}$' },
    event_timestamp: { type: 'string', pattern: '^[0-9]{1,17}$' },
    event_name: { type: 'string', minLength: 1 },
    user_pseudo_id: NULLABLE_STRING,
    user_id: NULLABLE_STRING,
    event_params: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        required: ['key'],
        properties: { key: { type: 'string' }, value: { type: ['object', 'null'] } },
      },
    },
    user_properties: { type: ['array', 'null'] },
    items: { type: ['array', 'null'] },
    device: { type: ['object', 'null'] },
    geo: { type: ['object', 'null'] },
    traffic_source: { type: ['object', 'null'] },
    collected_traffic_source: { type: ['object', 'null'] },
    session_traffic_source_last_click: { type: ['object', 'null'] },
    ecommerce: { type: ['object', 'null'] },
    export_table: { type: 'string' },
  },
};
