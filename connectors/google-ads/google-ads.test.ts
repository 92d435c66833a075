// The google-ads connector against its local fake (fetch through the engine's HTTP client, no mocks):
// full and incremental reads, SearchStream batches and windows, click_view day by day within 90 days,
// token refresh and caching, retries (Retry-After, retryDelay, 5xx), auth and quota errors with their
// hints, record schemas, the mapping, and the config schema with the example pipeline.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AuthError, QuotaError, RunError, assertConnector, createRecordValidator } from '../../core/sdk/index.ts';
import type { JsonObject, RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/index.ts';
import { createTestContext } from '../../core/sdk/testing.ts';
import type { TestContext } from '../../core/sdk/testing.ts';
import { clearTokenCache } from './client.ts';
import type { GoogleAdsConfig } from './client.ts';
import configSchema from './config.schema.json' with { type: 'json' };
import { adsError, googleAdsErrors, startFake } from './fake/index.ts';
import type { GoogleAdsFake } from './fake/index.ts';
import connector from './index.ts';
import { channelFor, mapCampaignDay, mapClick } from './map.ts';

const TODAY = '2026-03-15';
let fake: GoogleAdsFake;

beforeEach(async () => {
  // Only Date is faked: click_view's 90-day window and token expiry are relative to "now".
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(`${TODAY}T09:00:00Z`));
  clearTokenCache();
  fake = await startFake();
});
afterEach(async () => {
  await fake.close();
  vi.useRealTimers();
});

function streamOf(name: string, config: GoogleAdsConfig): StreamDefinition<GoogleAdsConfig> {
  const streams = typeof connector.streams === 'function' ? connector.streams(config) : connector.streams;
  return streams.find((s) => s.name === name)!;
}

function contextFor(stream: string, config: GoogleAdsConfig, state: StreamState = {}): TestContext<GoogleAdsConfig> {
  return createTestContext<GoogleAdsConfig>({ source: 'ads', stream, config, state, secrets: [config.client_secret, config.refresh_token, config.developer_token] });
}

async function read(stream: string, config: GoogleAdsConfig, state: StreamState = {}) {
  const ctx = contextFor(stream, config, state);
  const def = streamOf(stream, config);
  const batches: RecordBatch[] = [];
  for await (const b of def.read(ctx)) batches.push(b);
  const records = batches.flatMap((b) => b.records as JsonObject[]);
  const withState = batches.filter((b) => b.state);
  return { ctx, def, batches, records, state: withState.at(-1)?.state ?? state };
}

async function failure(stream: string, config: GoogleAdsConfig, state: StreamState = {}): Promise<{ error: unknown; ctx: TestContext<GoogleAdsConfig> }> {
  const ctx = contextFor(stream, config, state);
  try {
    for await (const _ of streamOf(stream, config).read(ctx)) {
      // drain
    }
  } catch (error) {
    return { error, ctx };
  }
  throw new Error('expected the read to fail');
}

const march = (extra: Partial<GoogleAdsConfig> = {}) => fake.config({ start_date: '2026-03-01', end_date: '2026-03-14', ...extra });

describe('campaign_daily', () => {
  it('reads every campaign-day in the range, flattened, with the state at the last day', async () => {
    const { records, state, def } = await read('campaign_daily', march());
    expect(records).toHaveLength(56);
    expect(records[0]).toEqual({
      customer_id: '1234567890',
      campaign_id: '111111111',
      campaign_name: 'Brand Search',
      advertising_channel_type: 'SEARCH',
      date: '2026-03-01',
      cost_micros: 11703089,
      clicks: 31,
      impressions: 713,
      conversions: 1.86,
      conversions_value: 79.05,
      currency_code: 'EUR',
    });
    expect(state).toEqual({ cursor: '2026-03-14' });
    const validate = createRecordValidator(def.schema);
    expect(records.map((r) => validate(r)).filter(Boolean)).toEqual([]);
    // Proto3 JSON leaves zero metrics out: they come back as 0, not missing.
    expect(records.some((r) => r.conversions === 0 && r.conversions_value === 0)).toBe(true);

    const search = fake.requests.filter((r) => r.path.includes('searchStream'));
    expect(search).toHaveLength(1);
    expect(search[0].path).toBe('/v26/customers/1234567890/googleAds:searchStream');
    expect(search[0].headers['developer-token']).toBe('fake-developer-token');
    expect(search[0].headers.authorization).toMatch(/^Bearer ya29\.fake-1-/);
    expect(search[0].headers['login-customer-id']).toBeUndefined();
    expect(fake.queries[0]).toContain("FROM campaign WHERE segments.date BETWEEN '2026-03-01' AND '2026-03-14'");
  });

  it('re-reads only the lookback window on the next run and picks up restated days', async () => {
    const first = await read('campaign_daily', march({ end_date: '2026-03-10' }));
    expect(first.records).toHaveLength(40);
    expect(first.state).toEqual({ cursor: '2026-03-10' });

    // Google restates a recent day and an old one; new days arrive.
    const restate = (date: string, costMicros: string) =>
      fake.setCampaignRows(fake.campaignRows.map((r) => (r.segments.date === date && r.campaign.id === '111111111' ? { ...r, metrics: { ...r.metrics, costMicros } } : r)));
    restate('2026-03-08', '99000000');
    restate('2026-03-02', '77000000');

    const second = await read('campaign_daily', march(), first.state);
    expect(fake.queries.at(-1)).toContain("BETWEEN '2026-03-03' AND '2026-03-14'");
    expect(new Set(second.records.map((r) => r.date)).size).toBe(12);
    expect(second.records.every((r) => String(r.date) >= '2026-03-03')).toBe(true);
    expect(second.records.find((r) => r.date === '2026-03-08' && r.campaign_id === '111111111')?.cost_micros).toBe(99_000_000);
    expect(second.state).toEqual({ cursor: '2026-03-14' });
    // A later run with nothing new still only moves forward.
    const third = await read('campaign_daily', march({ end_date: '2026-03-12' }), second.state);
    expect(third.state).toEqual({ cursor: '2026-03-14' });
  });

  it('reads every batch of every SearchStream response and commits state after each window', async () => {
    await fake.close();
    fake = await startFake({ batchSize: 5 });
    const { records, batches } = await read('campaign_daily', march({ window_days: 4 }));
    expect(fake.queries).toHaveLength(4);
    expect(records).toHaveLength(56);
    expect(new Set(records.map((r) => `${r.campaign_id}/${r.date}`)).size).toBe(56);
    expect(batches.filter((b) => b.state).map((b) => b.state!.cursor)).toEqual(['2026-03-04', '2026-03-08', '2026-03-12', '2026-03-14']);
  });

  it('waits as long as Retry-After says on a bare 429, then succeeds', async () => {
    fake.fail(googleAdsErrors.tooManyRequests(2));
    const { records, ctx } = await read('campaign_daily', march());
    expect(records).toHaveLength(56);
    expect(ctx.sleeps).toEqual([2000]);
  });

  it('waits for QuotaErrorDetails.retryDelay on RESOURCE_TEMPORARILY_EXHAUSTED', async () => {
    fake.fail(googleAdsErrors.rateLimited(7));
    const { records, ctx } = await read('campaign_daily', march());
    expect(records).toHaveLength(56);
    expect(ctx.sleeps).toEqual([7000]);
  });

  it('retries 5xx answers', async () => {
    fake.fail(googleAdsErrors.unavailable());
    fake.fail(googleAdsErrors.internal());
    const { records, ctx } = await read('campaign_daily', march());
    expect(records).toHaveLength(56);
    expect(ctx.sleeps).toHaveLength(2);
  });

  it('stops with a QuotaError saying when the daily operations quota resets', async () => {
    fake.fail(googleAdsErrors.dailyQuota(36_000));
    const { error, ctx } = await failure('campaign_daily', march());
    expect(error).toBeInstanceOf(QuotaError);
    const q = error as QuotaError;
    expect(q.resetsAt?.toISOString()).toBe(new Date(Date.parse(`${TODAY}T09:00:00Z`) + 36_000_000).toISOString());
    expect(q.format()).toContain('RESOURCE_EXHAUSTED');
    expect(ctx.sleeps).toEqual([]);
  });

  it('fails a stream whose response breaks off with an in-band error', async () => {
    const broken = adsError(500, 'internalError', 'TRANSIENT_ERROR', 'The operation failed, retry.').body as unknown[];
    fake.fail({ status: 200, body: [{ results: [], fieldMask: 'campaign.id', requestId: 'x' }, ...broken] });
    const { error } = await failure('campaign_daily', march());
    expect(error).toBeInstanceOf(RunError);
    expect((error as RunError).transient).toBe(true);
    expect((error as RunError).message).toContain('TRANSIENT_ERROR');
  });
});

describe('auth', () => {
  it('turns a refused access token into an AuthError that names the source and what to check', async () => {
    fake.fail(googleAdsErrors.unauthenticated());
    const { error } = await failure('campaign_daily', march());
    expect(error).toBeInstanceOf(AuthError);
    const text = (error as AuthError).format();
    expect(text).toContain('ads/campaign_daily: authentication failed (401');
    expect(text).toContain('OAUTH_TOKEN_INVALID');
    expect(text).toMatch(/hint: .*refresh token/);
  });

  it('reports an invalid refresh token from the token endpoint without printing it', async () => {
    const config = march({ refresh_token: '1//revoked-refresh-token' });
    const { error } = await failure('campaign_daily', config);
    expect(error).toBeInstanceOf(AuthError);
    const text = (error as AuthError).format();
    expect(text).toContain('invalid_grant: Token has been expired or revoked.');
    expect(text).toContain('7 days');
    expect(text).not.toContain('revoked-refresh-token');
    expect(fake.queries).toHaveLength(0);
  });

  it('reports a wrong OAuth client', async () => {
    const { error } = await failure('campaign_daily', march({ client_secret: 'wrong' }));
    expect((error as AuthError).format()).toMatch(/invalid_client[\s\S]*hint: client_id\/client_secret/);
  });

  it('explains DEVELOPER_TOKEN_NOT_APPROVED', async () => {
    await fake.close();
    fake = await startFake({ developerTokenApproved: false });
    const { error } = await failure('campaign_daily', march());
    expect(error).toBeInstanceOf(AuthError);
    const text = (error as AuthError).format();
    expect(text).toContain('permission denied (403');
    expect(text).toContain('DEVELOPER_TOKEN_NOT_APPROVED');
    expect(text).toContain('apply for Basic Access');
  });

  it('needs login_customer_id for an account reached through a manager, and sends it without dashes', async () => {
    await fake.close();
    fake = await startFake({ managerId: '111-222-3333' });
    const { error } = await failure('campaign_daily', march());
    expect((error as AuthError).hint).toContain('login_customer_id');
    const { records } = await read('campaign_daily', march({ login_customer_id: '111-222-3333' }));
    expect(records).toHaveLength(56);
    expect(fake.requests.at(-1)!.headers['login-customer-id']).toBe('1112223333');
  });

  it('caches the access token across calls and mints a new one when it expired early', async () => {
    await read('campaign_daily', march({ window_days: 7 }));
    await read('click_view', fake.config({ start_date: '2026-03-13' }));
    expect(fake.queries.length).toBeGreaterThan(3);
    expect(fake.tokenRequests).toBe(1);

    fake.expireTokens();
    const { records } = await read('campaign_daily', march());
    expect(records).toHaveLength(56);
    expect(fake.tokenRequests).toBe(2);
  });

  it('refreshes when the cached token is within a minute of expiry', async () => {
    await read('campaign_daily', march());
    vi.setSystemTime(new Date(Date.now() + 3599_000 - 30_000));
    await read('campaign_daily', march());
    expect(fake.tokenRequests).toBe(2);
  });
});

describe('click_view', () => {
  it('queries one day at a time up to today and maps clicks to ad_click touches', async () => {
    const { records, state, def, batches } = await read('click_view', fake.config({ start_date: '2026-03-10' }));
    expect(fake.queries.map((q) => /segments\.date = '([\d-]+)'/.exec(q)?.[1])).toEqual([
      '2026-03-10',
      '2026-03-11',
      '2026-03-12',
      '2026-03-13',
      '2026-03-14',
      '2026-03-15',
    ]);
    expect(records).toHaveLength(15);
    expect(batches.map((b) => b.state?.cursor)).toEqual(['2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14', '2026-03-15']);
    expect(state).toEqual({ cursor: TODAY });
    const validate = createRecordValidator(def.schema);
    expect(records.map((r) => validate(r)).filter(Boolean)).toEqual([]);
    expect(records[0]).toEqual({
      gclid: 'Cj0KCQfake0001',
      date: '2026-03-10',
      customer_id: '1234567890',
      campaign_id: '111111111',
      campaign_name: 'Brand Search',
      advertising_channel_type: 'SEARCH',
      ad_group_id: '555000001',
      ad_group_name: 'Brand - Exact',
      device: 'DESKTOP',
      keyword_text: 'acme shoes',
      keyword_match_type: 'EXACT',
    });
  });

  it('resumes from the day before the last one read', async () => {
    await read('click_view', fake.config({ start_date: '2026-03-10' }), { cursor: '2026-03-13' });
    expect(fake.queries.map((q) => /'([\d-]+)'/.exec(q)?.[1])).toEqual(['2026-03-12', '2026-03-13', '2026-03-14', '2026-03-15']);
  });

  it('never asks for more than 90 days back', async () => {
    const { ctx } = await read('click_view', fake.config({ start_date: '2025-06-01' }));
    expect(/'([\d-]+)'/.exec(fake.queries[0])?.[1]).toBe('2025-12-16');
    expect(fake.queries).toHaveLength(90);
    expect(ctx.logs.some((l) => l.level === 'warn' && l.msg.includes('90 days'))).toBe(true);
  });
});

describe('records and mapping', () => {
  it('lets the record schema reject malformed rows (the engine quarantines them)', async () => {
    const [a, b, c] = fake.campaignRows;
    fake.setCampaignRows([
      a,
      { ...b, metrics: { ...b.metrics, costMicros: 'twelve' } },
      { ...c, campaign: { name: 'no id' } },
      { ...c, customer: { id: '1234567890' } },
    ]);
    const { records, def } = await read('campaign_daily', march());
    const validate = createRecordValidator(def.schema);
    expect(records.map((r) => validate(r))).toEqual([
      undefined,
      '/cost_micros: must be integer (got string)',
      '/campaign_id: is required but missing',
      '/currency_code: is required but missing',
    ]);
  });

  it('maps a campaign-day to a spend row, cost from micros, channel from the channel type', () => {
    const rows = mapCampaignDay({
      customer_id: '1234567890',
      campaign_id: '333333333',
      campaign_name: 'PMax All Products',
      advertising_channel_type: 'PERFORMANCE_MAX',
      date: '2026-03-02',
      cost_micros: 12_345_678,
      clicks: 12,
      impressions: 345,
      conversions: 2,
      conversions_value: 85,
      currency_code: 'EUR',
    });
    expect(rows).toEqual({
      spend: [{ date: '2026-03-02', channel: 'Cross-network', campaign_id: '333333333', campaign: 'PMax All Products', cost: 12.345678, currency: 'EUR', clicks: 12, impressions: 345 }],
    });
    expect(['SEARCH', 'DISPLAY', 'VIDEO', 'SHOPPING', 'PERFORMANCE_MAX', 'DEMAND_GEN', null].map(channelFor)).toEqual([
      'Paid Search',
      'Display',
      'Paid Video',
      'Paid Shopping',
      'Cross-network',
      'Paid Other',
      'Paid Other',
    ]);
  });

  it('maps a click to an ad_click touch carrying the gclid, at the start of its day', () => {
    const rows = mapClick({
      gclid: ' Cj0KCQfake0001 ',
      date: '2026-03-10',
      customer_id: '1234567890',
      campaign_id: '111111111',
      campaign_name: 'Brand Search',
      advertising_channel_type: 'SEARCH',
      ad_group_id: '555000001',
      ad_group_name: 'Brand - Exact',
      device: 'MOBILE',
      keyword_text: 'acme shoes',
      keyword_match_type: 'EXACT',
    });
    expect(rows.events).toEqual([
      {
        id: 'Cj0KCQfake0001',
        occurred_at: '2026-03-10T00:00:00Z',
        kind: 'touch',
        name: 'ad_click',
        channel: 'Paid Search',
        source_medium: 'google / cpc',
        campaign_id: '111111111',
        campaign: 'Brand Search',
        device: 'mobile',
        identifiers: [{ type: 'gclid', value: 'Cj0KCQfake0001' }],
        properties: {
          customer_id: '1234567890',
          ad_group_id: '555000001',
          ad_group: 'Brand - Exact',
          keyword: 'acme shoes',
          keyword_match_type: 'EXACT',
          advertising_channel_type: 'SEARCH',
          time_precision: 'day',
        },
      },
    ]);
    expect(rows.spend).toBeUndefined();
  });
});

describe('connector', () => {
  it('is a valid plugin whose check() proves the credentials', async () => {
    assertConnector(connector, 'connectors/google-ads');
    const ctx = contextFor('', fake.config());
    await connector.check!(ctx);
    expect(fake.queries).toEqual(['SELECT customer.id, customer.currency_code FROM customer LIMIT 1']);
  });

  it('has a strict config schema that the example pipeline satisfies', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
    ajv.addKeyword({ keyword: 'x-hint', schemaType: ['string', 'object'] });
    const validate = ajv.compile(configSchema);
    const pipeline = parseYaml(readFileSync(new URL('../../pipelines/google-ads.yaml', import.meta.url), 'utf8')) as { sources: { connector: string; config: unknown }[] };
    const sources = pipeline.sources.filter((s) => s.connector === 'google-ads');
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) expect(validate(s.config), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...fake.config(), customer_id: 1234567890 })).toBe(false);
    for (const key of ['developer_token', 'client_secret', 'refresh_token']) {
      expect((configSchema.properties as Record<string, Record<string, unknown>>)[key]['x-secret']).toBe(true);
    }
  });
});
