// The `traffic_daily` stream: per day, session default channel group, session source / medium and
// session campaign, GA4's sessions, key events (conversions) and revenue, for the KPI sections of
// reports. Incremental by date: state.cursor is the newest date read; each run asks runReport for
// cursor − lookback_days … today, because GA4 keeps changing recent days ("data processing can take
// 24-48 hours", and events arriving up to 72 hours late are still counted:
// https://support.google.com/analytics/answer/11198161), and upserts the rows by their key. Pages
// are read by offset until rowCount, ordered by every dimension so pages never overlap.
//
// No map: these are aggregates, not a person's events, and sessions are not spend. The rows stay in
// the raw table (raw_<source>_traffic_daily) for KPI sections to query.
import type { JsonObject, ReadContext, RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/index.ts';
import { defineStream } from '../../core/sdk/index.ts';
import type { GoogleCredentials } from '../ga4-bigquery/auth.ts';
import { createDataApiClient } from './client.ts';
import type { RunReportRequest } from './client.ts';

export interface Ga4Config {
  property_id: string;
  credentials: GoogleCredentials;
  lookback_days?: number;
  start_date?: string;
  page_size?: number;
  sessions_metric?: string;
  conversions_metric?: string;
  revenue_metric?: string;
  analytics_data_url?: string;
}

export interface TrafficRecord extends JsonObject {
  property_id: string;
  /** YYYY-MM-DD in the property's time zone. */
  date: string;
  session_default_channel_group: string;
  session_source_medium: string;
  session_campaign_name: string;
  sessions: number;
  conversions: number;
  revenue: number;
  currency: string | null;
}

export const DIMENSIONS = ['date', 'sessionDefaultChannelGroup', 'sessionSourceMedium', 'sessionCampaignName'] as const;
// First-run default window, and the Data API's earliest date (requests for earlier dates are refused).
const DEFAULT_FIRST_RUN = '365daysAgo';
const EARLIEST = '2015-08-14';

function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The startDate of this run's date range (a date or a Data API relative date). */
export function startOf(state: StreamState, config: Ga4Config, startDate: string | undefined, fullRefresh: boolean): string {
  const cursor = !fullRefresh && typeof state.cursor === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(state.cursor) ? state.cursor : undefined;
  if (cursor) return addDays(cursor, -(config.lookback_days ?? 3));
  const given = [config.start_date, startDate?.slice(0, 10)].filter((d): d is string => !!d).sort().at(-1);
  return given ? (given < EARLIEST ? EARLIEST : given) : DEFAULT_FIRST_RUN;
}

export function reportRequest(config: Ga4Config, startDate: string, offset: number): RunReportRequest {
  const metrics = [config.sessions_metric ?? 'sessions', config.conversions_metric ?? 'keyEvents', config.revenue_metric ?? 'totalRevenue'];
  return {
    dateRanges: [{ startDate, endDate: 'today' }],
    dimensions: DIMENSIONS.map((name) => ({ name })),
    metrics: metrics.map((name) => ({ name })),
    orderBys: DIMENSIONS.map((dimensionName) => ({ dimension: { dimensionName } })),
    // int64 fields travel as JSON strings in Google's REST APIs.
    limit: String(config.page_size ?? 10_000),
    offset: String(offset),
    returnPropertyQuota: true,
  };
}

const num = (v: string | null | undefined): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};
// A row key must not be empty; GA4 writes (not set) for missing values, so an empty one means the same.
const dim = (v: string | null | undefined): string => (v === undefined || v === null || v === '' ? '(not set)' : v);

async function* readTraffic(ctx: ReadContext<Ga4Config>): AsyncGenerator<RecordBatch<TrafficRecord>> {
  const config = ctx.config;
  const client = await createDataApiClient({ credentials: config.credentials, propertyId: config.property_id, baseUrl: config.analytics_data_url, ctx });
  const startDate = startOf(ctx.state, config, ctx.options.startDate, ctx.fullRefresh);
  const previous = !ctx.fullRefresh && typeof ctx.state.cursor === 'string' ? ctx.state.cursor : undefined;
  let newest = previous;
  ctx.log.info(`runReport for GA4 property ${config.property_id} from ${startDate} to today`);
  for (let offset = 0; ; ) {
    const page = await client.runReport(reportRequest(config, startDate, offset));
    const currency = page.metadata?.currencyCode ?? null;
    const records: TrafficRecord[] = (page.rows ?? []).map((row) => {
      const d = row.dimensionValues ?? [];
      const m = row.metricValues ?? [];
      const compact = d[0]?.value ?? '';
      const date = /^\d{8}$/.test(compact) ? `${compact.slice(0, 4)}-${compact.slice(4, 6)}-${compact.slice(6, 8)}` : compact;
      if (/^\d{4}-\d{2}-\d{2}$/.test(date) && (!newest || date > newest)) newest = date;
      return {
        property_id: config.property_id,
        date,
        session_default_channel_group: dim(d[1]?.value),
        session_source_medium: dim(d[2]?.value),
        session_campaign_name: dim(d[3]?.value),
        sessions: num(m[0]?.value),
        conversions: num(m[1]?.value),
        revenue: num(m[2]?.value),
        currency,
      };
    });
    offset += records.length;
    const total = page.rowCount ?? 0;
    const done = records.length === 0 || offset >= total;
    // Until the last page the committed cursor stays put: an interrupted run reads the window again.
    yield { records, state: done && newest ? { cursor: newest } : previous ? { cursor: previous } : {} };
    if (done) break;
  }
}

export const trafficSchema = {
  type: 'object',
  required: ['property_id', 'date', 'session_default_channel_group', 'session_source_medium', 'session_campaign_name', 'sessions', 'conversions', 'revenue'],
  additionalProperties: false,
  properties: {
    property_id: { type: 'string', pattern: '^[0-9]+$' },
    date: { type: 'string', format: 'date' },
    session_default_channel_group: { type: 'string', minLength: 1 },
    session_source_medium: { type: 'string', minLength: 1 },
    session_campaign_name: { type: 'string', minLength: 1 },
    sessions: { type: 'number', minimum: 0 },
    conversions: { type: 'number', minimum: 0 },
    revenue: { type: 'number' },
    currency: { type: ['string', 'null'] },
  },
};

export const streams: StreamDefinition<Ga4Config, TrafficRecord>[] = [
  defineStream<Ga4Config, TrafficRecord>({
    name: 'traffic_daily',
    description: 'Daily sessions, key events and revenue by session default channel group, source / medium and campaign',
    primaryKey: ['date', 'session_default_channel_group', 'session_source_medium', 'session_campaign_name'],
    // The raw table's cursor column. The read applies lookback_days itself; the declared lookback is
    // its default, so tools reading the definition (the conformance kit) know re-reads are expected.
    cursor: { field: 'date', lookback: 'P3D' },
    schema: trafficSchema,
    read: readTraffic,
  }),
];
