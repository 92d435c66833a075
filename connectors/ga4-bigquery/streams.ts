// The `events` stream: every row of the GA4 export's daily tables (events_YYYYMMDD) and, optionally,
// of the intraday tables of days not exported daily yet (events_intraday_YYYYMMDD). Incremental by
// table date: state.cursor is the date (YYYY-MM-DD) of the newest daily table read to its end. A run
// re-reads the `lookback_days` newest of those (GA4 adds late events to a daily table for up to 72
// hours: https://developers.google.com/analytics/bigquery/event-schema, "Tables"), then every newer
// daily table, then the intraday tables. Within a daily table the state
// records the row offset reached and the table's lastModifiedTime, so an interrupted run resumes at
// that row, or at the table's start if GA4 rewrote it meanwhile. Re-reads are harmless: raw records
// and events are upserted by event_id.
import { ConfigError } from '../../core/sdk/index.ts';
import type { JsonObject, MapContext, ReadContext, RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/index.ts';
import { defineStream } from '../../core/sdk/index.ts';
import type { GoogleCredentials } from './auth.ts';
import { createBigQueryClient } from './client.ts';
import type { BigQueryClient } from './client.ts';
import { ga4RecordFromExportRow, ga4RecordSchema } from './export-row.ts';
import type { Ga4Record } from './export-row.ts';
import { mapGa4Event } from './map.ts';
import type { Ga4MapOptions } from './map.ts';
import { TableDataError, decodeRow } from './table-data.ts';

export interface Ga4BigQueryConfig {
  project_id: string;
  property_id?: string;
  dataset?: string;
  credentials: GoogleCredentials;
  lookback_days?: number;
  include_intraday?: boolean;
  start_date?: string;
  page_size?: number;
  conversion_events?: string[];
  touch_events?: string[];
  keep_other_events?: boolean;
  bigquery_url?: string;
}

/** What the stream commits. `resume` is set only while a daily table is part-read. */
export interface EventsState {
  cursor?: string;
  resume?: { table: string; start_index: number; last_modified: string };
}

const DAILY = /^events_(\d{8})$/;
const INTRADAY = /^events_intraday_(\d{8})$/;

export function datasetOf(config: Ga4BigQueryConfig): string {
  if (config.dataset) return config.dataset;
  if (config.property_id) return `analytics_${config.property_id}`;
  throw new ConfigError('give dataset or property_id', { hint: 'GA4 exports to a dataset named analytics_<property id>, e.g. property_id: "123456789"' });
}

/** YYYYMMDD ↔ YYYY-MM-DD, and day arithmetic in UTC (table dates are plain calendar dates). */
export function isoDate(compact: string): string {
  return `${compact.slice(0, 4)}-${compact.slice(4, 6)}-${compact.slice(6, 8)}`;
}

export function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

/** The oldest daily table date (YYYY-MM-DD) this run reads, or undefined for all of them. */
export function firstDate(state: EventsState, config: Ga4BigQueryConfig, startDate: string | undefined): string | undefined {
  const lookback = config.lookback_days ?? 3;
  if (state.cursor) return addDays(state.cursor, 1 - lookback);
  return later(config.start_date, startDate?.slice(0, 10));
}

function parseState(raw: StreamState, fullRefresh: boolean): EventsState {
  if (fullRefresh) return {};
  const s = raw as EventsState;
  const cursor = typeof s.cursor === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s.cursor) ? s.cursor : undefined;
  const r = s.resume;
  const resume = r && typeof r.table === 'string' && typeof r.start_index === 'number' && typeof r.last_modified === 'string' ? r : undefined;
  return { ...(cursor ? { cursor } : {}), ...(resume ? { resume } : {}) };
}

interface TableJob {
  id: string;
  /** YYYY-MM-DD */
  date: string;
  daily: boolean;
}

/** The tables this run reads, in order: daily tables by date, then intraday tables by date. */
export function planTables(tableIds: readonly string[], state: EventsState, from: string | undefined, includeIntraday: boolean): TableJob[] {
  const daily: TableJob[] = [];
  const intraday: TableJob[] = [];
  const dailyDates = new Set<string>();
  for (const id of tableIds) {
    const d = DAILY.exec(id);
    if (d) {
      daily.push({ id, date: isoDate(d[1]), daily: true });
      dailyDates.add(isoDate(d[1]));
    }
  }
  for (const id of tableIds) {
    const m = INTRADAY.exec(id);
    if (m && includeIntraday && !dailyDates.has(isoDate(m[1]))) intraday.push({ id, date: isoDate(m[1]), daily: false });
  }
  const byDate = (a: TableJob, b: TableJob) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0);
  let days = daily.filter((t) => !from || t.date >= from).sort(byDate);
  // Tables before the part-read one were finished by the interrupted run.
  const resumeAt = state.resume ? days.findIndex((t) => t.id === state.resume!.table) : -1;
  if (resumeAt > 0) days = days.slice(resumeAt);
  return [...days, ...intraday.filter((t) => !from || t.date >= from).sort(byDate)];
}

export function mapOptions(config: Ga4BigQueryConfig): Ga4MapOptions {
  let o = optionsCache.get(config);
  if (!o) {
    o = { conversionEvents: config.conversion_events, touchEvents: config.touch_events, keepOtherEvents: config.keep_other_events };
    optionsCache.set(config, o);
  }
  return o;
}
const optionsCache = new WeakMap<object, Ga4MapOptions>();

async function* readEvents(ctx: ReadContext<Ga4BigQueryConfig>): AsyncGenerator<RecordBatch<Ga4Record>> {
  const config = ctx.config;
  const dataset = datasetOf(config);
  const pageSize = config.page_size ?? 5000;
  const state = parseState(ctx.state, ctx.fullRefresh);
  const client: BigQueryClient = await createBigQueryClient({
    credentials: config.credentials,
    target: { projectId: config.project_id, datasetId: dataset },
    baseUrl: config.bigquery_url,
    ctx,
  });
  const from = firstDate(state, config, ctx.options.startDate);
  const tables = planTables(await client.listTables(), state, from, config.include_intraday ?? true);
  ctx.log.info(`${tables.length} export table(s) to read from ${config.project_id}:${dataset}`, {
    from: from ?? 'the first table',
    first: tables[0]?.id,
    last: tables.at(-1)?.id,
  });

  let cursor = state.cursor;
  const committed = (): JsonObject => (cursor ? { cursor } : {});
  if (tables.length === 0 && state.resume) yield { records: [], state: committed() };

  for (const table of tables) {
    const info = await client.getTable(table.id);
    let offset = 0;
    const resume = state.resume?.table === table.id ? state.resume : undefined;
    if (resume && table.daily) {
      if (resume.last_modified === info.lastModifiedTime) offset = resume.start_index;
      else ctx.log.info(`${table.id} changed since the interrupted run; reading it from the start`);
    }
    let pageToken: string | undefined;
    for (;;) {
      const page = await client.readPage(table.id, pageToken ? { pageToken, maxResults: pageSize } : { startIndex: offset, maxResults: pageSize });
      const records: Ga4Record[] = [];
      const rejected: NonNullable<RecordBatch['rejected']> = [];
      page.rows.forEach((row, i) => {
        try {
          const record = ga4RecordFromExportRow(decodeRow(row, info.fields));
          record.export_table = table.id;
          records.push(record);
        } catch (error) {
          if (!(error instanceof TableDataError)) throw error;
          rejected.push({ reason: `${table.id} row ${offset + i}: ${error.message}`, record: row });
        }
      });
      offset += page.rows.length;
      pageToken = page.pageToken;
      const done = !pageToken || page.rows.length === 0;
      if (done && table.daily && (!cursor || table.date > cursor)) cursor = table.date;
      const batchState =
        done || !table.daily ? committed() : { ...committed(), resume: { table: table.id, start_index: offset, last_modified: info.lastModifiedTime } };
      yield { records, state: batchState, ...(rejected.length > 0 ? { rejected } : {}) };
      if (done) break;
    }
  }
}

/** The record schema lives beside the parser (export-row.ts), which the file connector shares. */
export const eventSchema = ga4RecordSchema;

export const streams: StreamDefinition<Ga4BigQueryConfig, Ga4Record>[] = [
  defineStream<Ga4BigQueryConfig, Ga4Record>({
    name: 'events',
    description: 'GA4 export events (daily and intraday tables), one record per event',
    primaryKey: ['event_id'],
    // The raw table's cursor column. The read walks table dates itself, lookback_days included.
    cursor: { field: 'event_date' },
    schema: eventSchema,
    read: readEvents,
    map: (record: Ga4Record, ctx: MapContext<Ga4BigQueryConfig>) => mapGa4Event(record, mapOptions(ctx.config)),
  }),
];
