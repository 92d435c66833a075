// `format: ga4-export`: NDJSON files holding a GA4 BigQuery export dumped as JSON lines (`bq extract
// --destination_format NEWLINE_DELIMITED_JSON`, or any tool writing the nested export schema). The
// record, its schema, its key and its mapping are the ga4-bigquery connector's own, imported from its
// pure modules (export-row.ts, map.ts) and never from its index.ts, which loads googleapis. So the same
// export read from files or through the BigQuery API gives the same raw records and canonical events.
import { ConfigError } from '../../core/errors.ts';
import { createRecordValidator } from '../../core/sdk/records.ts';
import type { CanonicalRows, JsonObject, JsonSchema } from '../../core/sdk/types.ts';
import { ga4RecordFromExportRow, ga4RecordSchema } from '../ga4-bigquery/export-row.ts';
import type { Ga4Record } from '../ga4-bigquery/export-row.ts';
import { mapGa4Event } from '../ga4-bigquery/map.ts';
import type { Ga4MapOptions } from '../ga4-bigquery/map.ts';
import type { FileStreamConfig, LineParser, Sink } from './streams.ts';
import { jsonObjectLine } from './streams.ts';

/** `ga4:` of a ga4-export stream: the ga4-bigquery connector's mapping options, under the same names. */
export interface Ga4ExportOptions {
  conversion_events?: string[];
  touch_events?: string[];
  keep_other_events?: boolean;
}

export const GA4_PRIMARY_KEY = ['event_id'];

export interface Ga4ExportStream {
  primaryKey: string[];
  schema: JsonSchema;
  map: (record: JsonObject) => CanonicalRows;
}

/** Checks a ga4-export stream's config (what the JSON Schema checks, for configs that skipped it) and compiles its mapping. */
export function ga4ExportStream(s: FileStreamConfig, where: string): Ga4ExportStream {
  const hint = 'a ga4-export stream takes its columns and mapping from the GA4 export schema; for other JSON lines use format: ndjson';
  for (const key of ['columns', 'maps_to', 'csv'] as const) {
    if (s[key] !== undefined) throw new ConfigError(`${where}.${key}: not allowed with format ga4-export`, { hint });
  }
  if (s.primary_key !== undefined && (!Array.isArray(s.primary_key) || s.primary_key.length !== 1 || s.primary_key[0] !== 'event_id')) {
    throw new ConfigError(`${where}.primary_key: a ga4-export stream is keyed by event_id (got ${JSON.stringify(s.primary_key)})`, { hint: 'leave primary_key out' });
  }
  if (s.incremental !== undefined && s.incremental.mode !== 'files') {
    throw new ConfigError(`${where}.incremental: a ga4-export stream is incremental by files only`, {
      hint: 'leave incremental out: new and changed files are read, and rows are upserted by event_id',
    });
  }
  const options = mapOptions(s.ga4, `${where}.ga4`);
  return {
    primaryKey: GA4_PRIMARY_KEY,
    schema: ga4RecordSchema,
    map: (record) => mapGa4Event(record as Ga4Record, options),
  };
}

function mapOptions(o: Ga4ExportOptions | undefined, where: string): Ga4MapOptions {
  if (o === undefined) return {};
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ConfigError(`${where}: must be an object`, { hint: 'ga4: { conversion_events: [purchase, generate_lead] }' });
  for (const key of ['conversion_events', 'touch_events'] as const) {
    const list = o[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || n === ''))) {
      throw new ConfigError(`${where}.${key}: must be a list of event names`, { hint: `${key}: [purchase, generate_lead]` });
    }
  }
  if (o.keep_other_events !== undefined && typeof o.keep_other_events !== 'boolean') throw new ConfigError(`${where}.keep_other_events: must be true or false`);
  // One options object per stream: mapGa4Event compiles it once (its cache is keyed by the object).
  return { conversionEvents: o.conversion_events, touchEvents: o.touch_events, keepOtherEvents: o.keep_other_events };
}

/**
 * Parses GA4 export lines: JSON, then ga4RecordFromExportRow, then the record schema. A line that is
 * not JSON, not an object or not a GA4 row is rejected here, with its file:line and text, rather than
 * quarantined later by the engine without them.
 */
export function ga4Parser(sink: Sink): LineParser {
  const validate = createRecordValidator(ga4RecordSchema);
  return {
    wantsHeader: false,
    open: false,
    push(line, lineNo) {
      const value = jsonObjectLine(line, lineNo, sink);
      if (!value) return;
      const record = ga4RecordFromExportRow(value);
      const problem = validate(record);
      // The validator's reasons start with a JSON pointer (`/event_date: …`): name the column instead.
      if (problem) return sink.reject(lineNo, `not a GA4 export row: ${problem.replace(/^\//, '')}`, line);
      sink.record(record as JsonObject);
    },
    end() {},
  };
}
