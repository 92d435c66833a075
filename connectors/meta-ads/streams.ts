// The Meta Ads stream: campaign_insights, one record per campaign and day (level=campaign,
// time_increment=1), read window by window from the last committed day minus a lookback, because Meta
// restates recent days. Long windows (or async: true) run as report jobs. State is committed after
// each window.
import { advance, defineStream, startFrom } from '../../core/sdk/index.ts';
import type { JsonObject, JsonSchema, ReadContext, RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/index.ts';
import { createMetaClient } from './client.ts';
import type { InsightsRow, MetaAdsConfig } from './client.ts';
import { mapInsight } from './map.ts';

export const DEFAULT_BACKFILL_DAYS = 90;
export const DEFAULT_LOOKBACK_DAYS = 3;
export const DEFAULT_WINDOW_DAYS = 30;
export const DEFAULT_ASYNC_AFTER_DAYS = 30;

export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function compact(o: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v as JsonObject[string];
  return out;
}

/** The fields we asked for, as Meta sent them (strings stay strings: the raw table keeps the vendor's values). */
export function insightRecord(row: InsightsRow, accountId: string): JsonObject {
  return compact({
    account_id: row.account_id ?? accountId,
    campaign_id: row.campaign_id,
    campaign_name: row.campaign_name ?? null,
    date_start: row.date_start,
    date_stop: row.date_stop,
    spend: row.spend,
    clicks: row.clicks ?? '0',
    impressions: row.impressions ?? '0',
    account_currency: row.account_currency,
    // Absent when the campaign had no actions that day.
    actions: row.actions ?? null,
    action_values: row.action_values ?? null,
  });
}

const ID = { type: 'string', pattern: '^\\d+$' };
const COUNT = { type: ['string', 'integer'], pattern: '^\\d+$', minimum: 0 };
const ACTIONS = {
  type: ['array', 'null'],
  items: {
    type: 'object',
    required: ['action_type', 'value'],
    properties: { action_type: { type: 'string' }, value: { type: ['string', 'number'] } },
  },
};

export const campaignInsightsSchema: JsonSchema = {
  type: 'object',
  required: ['account_id', 'campaign_id', 'date_start', 'spend', 'account_currency'],
  properties: {
    account_id: ID,
    campaign_id: ID,
    campaign_name: { type: ['string', 'null'] },
    date_start: { type: 'string', format: 'date' },
    date_stop: { type: 'string', format: 'date' },
    spend: { type: ['string', 'number'], pattern: '^\\d+(\\.\\d+)?$', minimum: 0 },
    clicks: COUNT,
    impressions: COUNT,
    account_currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    actions: ACTIONS,
    action_values: ACTIONS,
  },
};

async function* readInsights(ctx: ReadContext<MetaAdsConfig>): AsyncGenerator<RecordBatch> {
  const c = ctx.config;
  const today = todayUtc();
  const end = c.end_date ?? today;
  const lookback = c.lookback_days ?? DEFAULT_LOOKBACK_DAYS;
  const initial = c.start_date ?? addDays(today, -(DEFAULT_BACKFILL_DAYS - 1));
  const from = String(
    startFrom({
      state: ctx.state,
      cursor: { field: 'date_start', initial, lookback: lookback > 0 ? `P${lookback}D` : undefined },
      options: ctx.options,
      fullRefresh: ctx.fullRefresh,
    }) ?? initial,
  ).slice(0, 10);
  if (from > end) {
    ctx.log.info(`campaign_insights: nothing to read (${from} is after ${end})`);
    return;
  }
  const client = createMetaClient(ctx);
  const accountId = c.ad_account_id.replace(/^act_/, '');
  const window = c.window_days ?? DEFAULT_WINDOW_DAYS;
  const async = c.async === true || window > (c.async_after_days ?? DEFAULT_ASYNC_AFTER_DAYS);
  let state: StreamState = ctx.fullRefresh ? {} : ctx.state;
  for (let start = from; start <= end; start = addDays(start, window)) {
    const stop = addDays(start, window - 1) < end ? addDays(start, window - 1) : end;
    // Pages go out as they arrive; the window's state only with its last page.
    let pending: JsonObject[] | undefined;
    for await (const page of client.insights({ since: start, until: stop, async })) {
      if (pending) yield { records: pending };
      pending = page.map((r) => insightRecord(r, accountId));
    }
    state = advance(state, stop);
    yield { records: pending ?? [], state };
  }
}

export function buildStreams(config: MetaAdsConfig): StreamDefinition<MetaAdsConfig>[] {
  const lookback = config?.lookback_days ?? DEFAULT_LOOKBACK_DAYS;
  return [
    defineStream<MetaAdsConfig>({
      name: 'campaign_insights',
      description: 'Spend, clicks, impressions, actions and action values per campaign and day (Insights API, level=campaign, time_increment=1).',
      primaryKey: ['account_id', 'campaign_id', 'date_start'],
      cursor: { field: 'date_start', lookback: lookback > 0 ? `P${lookback}D` : undefined },
      schema: campaignInsightsSchema,
      read: readInsights,
      map: (record) => mapInsight(record),
    }),
  ];
}
