// The Google Ads streams: campaign_daily (cost, clicks, impressions, conversions per campaign and
// day, re-read over a lookback window because Google restates recent days) and click_view (one row per
// click with its GCLID, read one day per query because the API allows no more). Each stream turns the
// API's GoogleAdsRow objects into flat records and commits its state after every window or day.
import { advance, defineStream, startFrom } from '../../core/sdk/index.ts';
import type { JsonObject, JsonSchema, ReadContext, RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/index.ts';
import { createGoogleAdsClient, digits } from './client.ts';
import type { GoogleAdsConfig, GoogleAdsRow } from './client.ts';
import { mapCampaignDay, mapClick } from './map.ts';

/** Days read on a first run when neither start_date nor settings.startDate says otherwise. */
export const DEFAULT_BACKFILL_DAYS = 90;
export const DEFAULT_LOOKBACK_DAYS = 7;
export const DEFAULT_WINDOW_DAYS = 30;
// "Queries including ClickView … can be requested for dates back to 90 days before the time of the
// request" (https://developers.google.com/google-ads/api/reference/rpc/latest/ClickView). 89 leaves a
// day for the account's time zone being ahead of UTC.
export const CLICK_VIEW_MAX_AGE_DAYS = 89;
const BATCH_SIZE = 5000;

export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** GAQL for one window of campaign days. Dates are validated YYYY-MM-DD, never free text. */
export function campaignDailyQuery(from: string, to: string): string {
  return (
    'SELECT customer.id, customer.currency_code, campaign.id, campaign.name, campaign.advertising_channel_type, ' +
    'segments.date, metrics.cost_micros, metrics.clicks, metrics.impressions, metrics.conversions, metrics.conversions_value ' +
    `FROM campaign WHERE segments.date BETWEEN '${from}' AND '${to}' ORDER BY segments.date`
  );
}

/** GAQL for one day of clicks: click_view requires a filter on a single day. */
export function clickViewQuery(day: string): string {
  return (
    'SELECT click_view.gclid, click_view.keyword_info.text, click_view.keyword_info.match_type, segments.date, segments.device, ' +
    'customer.id, campaign.id, campaign.name, campaign.advertising_channel_type, ad_group.id, ad_group.name ' +
    `FROM click_view WHERE segments.date = '${day}'`
  );
}

// REST sends int64 as decimal strings (proto3 JSON mapping) and leaves out fields at their default, so
// an absent metric is 0. Anything else is kept as it came, for the record schema to reject.
function int64(v: unknown): unknown {
  if (v === undefined || v === null) return 0;
  return typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
}
function double(v: unknown): unknown {
  return v === undefined || v === null ? 0 : v;
}
function id(v: unknown): unknown {
  return typeof v === 'number' && Number.isInteger(v) ? String(v) : v;
}
function compact(o: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v as JsonObject[string];
  return out;
}

export function campaignDayRecord(row: GoogleAdsRow, customerId: string): JsonObject {
  return compact({
    customer_id: id(row.customer?.id) ?? customerId,
    campaign_id: id(row.campaign?.id),
    campaign_name: row.campaign?.name ?? null,
    advertising_channel_type: row.campaign?.advertisingChannelType ?? null,
    date: row.segments?.date,
    cost_micros: int64(row.metrics?.costMicros),
    clicks: int64(row.metrics?.clicks),
    impressions: int64(row.metrics?.impressions),
    conversions: double(row.metrics?.conversions),
    conversions_value: double(row.metrics?.conversionsValue),
    currency_code: row.customer?.currencyCode,
  });
}

export function clickRecord(row: GoogleAdsRow, customerId: string): JsonObject {
  return compact({
    gclid: row.clickView?.gclid,
    date: row.segments?.date,
    customer_id: id(row.customer?.id) ?? customerId,
    campaign_id: id(row.campaign?.id),
    campaign_name: row.campaign?.name ?? null,
    advertising_channel_type: row.campaign?.advertisingChannelType ?? null,
    ad_group_id: id(row.adGroup?.id) ?? null,
    ad_group_name: row.adGroup?.name ?? null,
    device: row.segments?.device ?? null,
    keyword_text: row.clickView?.keywordInfo?.text ?? null,
    keyword_match_type: row.clickView?.keywordInfo?.matchType ?? null,
  });
}

const ID = { type: 'string', pattern: '^\\d+$' };
const OPTIONAL_TEXT = { type: ['string', 'null'] };
const COUNT = { type: 'integer', minimum: 0 };

export const campaignDailySchema: JsonSchema = {
  type: 'object',
  required: ['customer_id', 'campaign_id', 'date', 'cost_micros', 'currency_code'],
  properties: {
    customer_id: ID,
    campaign_id: ID,
    campaign_name: OPTIONAL_TEXT,
    advertising_channel_type: OPTIONAL_TEXT,
    date: { type: 'string', format: 'date' },
    cost_micros: COUNT,
    clicks: COUNT,
    impressions: COUNT,
    conversions: { type: 'number', minimum: 0 },
    conversions_value: { type: 'number', minimum: 0 },
    currency_code: { type: 'string', pattern: '^[A-Z]{3}$' },
  },
};

export const clickViewSchema: JsonSchema = {
  type: 'object',
  required: ['gclid', 'date', 'customer_id', 'campaign_id'],
  properties: {
    gclid: { type: 'string', minLength: 1, pattern: '\\S' },
    date: { type: 'string', format: 'date' },
    customer_id: ID,
    campaign_id: ID,
    campaign_name: OPTIONAL_TEXT,
    advertising_channel_type: OPTIONAL_TEXT,
    ad_group_id: { type: ['string', 'null'], pattern: '^\\d+$' },
    ad_group_name: OPTIONAL_TEXT,
    device: OPTIONAL_TEXT,
    keyword_text: OPTIONAL_TEXT,
    keyword_match_type: OPTIONAL_TEXT,
  },
};

/** First day to read: the committed cursor minus the lookback, else the configured start. */
function firstDay(ctx: ReadContext<GoogleAdsConfig>, lookbackDays: number, defaultStart: string): string {
  const from = startFrom({
    state: ctx.state,
    cursor: { field: 'date', initial: ctx.config.start_date ?? defaultStart, lookback: lookbackDays > 0 ? `P${lookbackDays}D` : undefined },
    options: ctx.options,
    fullRefresh: ctx.fullRefresh,
  });
  return String(from ?? defaultStart).slice(0, 10);
}

function batchSize(ctx: ReadContext<GoogleAdsConfig>): number {
  return Math.max(1, (ctx.options as { batchSize?: number }).batchSize ?? BATCH_SIZE);
}

/** Yields `records` in batches; only the last one carries the state (the window is done then). */
function* chunks(records: JsonObject[], state: StreamState, size: number): Generator<RecordBatch> {
  let i = 0;
  for (; i + size < records.length; i += size) yield { records: records.slice(i, i + size) };
  yield { records: records.slice(i), state };
}

async function* readCampaignDaily(ctx: ReadContext<GoogleAdsConfig>): AsyncGenerator<RecordBatch> {
  const c = ctx.config;
  const today = todayUtc();
  const end = c.end_date ?? today;
  const from = firstDay(ctx, c.lookback_days ?? DEFAULT_LOOKBACK_DAYS, addDays(today, -(DEFAULT_BACKFILL_DAYS - 1)));
  if (from > end) {
    ctx.log.info(`campaign_daily: nothing to read (${from} is after ${end})`);
    return;
  }
  const client = createGoogleAdsClient(ctx);
  const customerId = digits(c.customer_id);
  const window = c.window_days ?? DEFAULT_WINDOW_DAYS;
  let state: StreamState = ctx.fullRefresh ? {} : ctx.state;
  for (let start = from; start <= end; start = addDays(start, window)) {
    const stop = addDays(start, window - 1) < end ? addDays(start, window - 1) : end;
    const rows = await client.searchStream(campaignDailyQuery(start, stop));
    ctx.log.debug(`campaign_daily ${start}..${stop}: ${rows.length} rows`);
    state = advance(state, stop);
    yield* chunks(rows.map((r) => campaignDayRecord(r, customerId)), state, batchSize(ctx));
  }
}

async function* readClickView(ctx: ReadContext<GoogleAdsConfig>): AsyncGenerator<RecordBatch> {
  const c = ctx.config;
  const today = todayUtc();
  const end = c.end_date && c.end_date < today ? c.end_date : today;
  const oldest = addDays(today, -CLICK_VIEW_MAX_AGE_DAYS);
  // Clicks do not restate, but today's are still coming in: re-read the last day read.
  let from = firstDay(ctx, 1, oldest);
  if (from < oldest) {
    ctx.log.warn(`click_view: the API keeps 90 days of clicks; reading from ${oldest} instead of ${from}`);
    from = oldest;
  }
  const client = createGoogleAdsClient(ctx);
  const customerId = digits(c.customer_id);
  let state: StreamState = ctx.fullRefresh ? {} : ctx.state;
  for (let day = from; day <= end; day = addDays(day, 1)) {
    const rows = await client.searchStream(clickViewQuery(day));
    state = advance(state, day);
    yield* chunks(rows.map((r) => clickRecord(r, customerId)), state, batchSize(ctx));
  }
}

export function buildStreams(config: GoogleAdsConfig): StreamDefinition<GoogleAdsConfig>[] {
  const lookback = config?.lookback_days ?? DEFAULT_LOOKBACK_DAYS;
  return [
    defineStream<GoogleAdsConfig>({
      name: 'campaign_daily',
      description: 'Cost, clicks, impressions and conversions per campaign and day (GAQL FROM campaign, segments.date).',
      primaryKey: ['customer_id', 'campaign_id', 'date'],
      cursor: { field: 'date', lookback: lookback > 0 ? `P${lookback}D` : undefined },
      schema: campaignDailySchema,
      read: readCampaignDaily,
      map: (record) => mapCampaignDay(record),
    }),
    defineStream<GoogleAdsConfig>({
      name: 'click_view',
      description: 'One row per ad click with its GCLID, campaign and ad group (GAQL FROM click_view, one day per query, last 90 days).',
      primaryKey: ['gclid'],
      cursor: { field: 'date', lookback: 'P1D' },
      schema: clickViewSchema,
      read: readClickView,
      map: (record) => mapClick(record),
    }),
  ];
}
