// The meta-ads connector against its local Graph API fake (fetch through the engine's HTTP client, no
// mocks): full and incremental reads, cursor pagination, asynchronous report jobs, throttling with the
// Business Use Case header, retries, auth errors and their hints, record schema, mapping, and the
// config schema with the example pipeline.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AuthError, QuotaError, RunError, assertConnector, createRecordValidator } from '../../core/sdk/index.ts';
import type { JsonObject, RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/index.ts';
import { createTestContext } from '../../core/sdk/testing.ts';
import type { TestContext } from '../../core/sdk/testing.ts';
import { bucWaitMs } from './client.ts';
import type { MetaAdsConfig } from './client.ts';
import configSchema from './config.schema.json' with { type: 'json' };
import { FAKE_ACCESS_TOKEN, metaErrors, startFake } from './fake/index.ts';
import type { MetaFake } from './fake/index.ts';
import connector from './index.ts';
import { mapInsight } from './map.ts';

const NOW = '2026-03-15T09:00:00Z';
let fake: MetaFake;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(NOW));
  fake = await startFake();
});
afterEach(async () => {
  await fake.close();
  vi.useRealTimers();
});

function streamOf(config: MetaAdsConfig): StreamDefinition<MetaAdsConfig> {
  const streams = typeof connector.streams === 'function' ? connector.streams(config) : connector.streams;
  return streams[0];
}

function contextFor(config: MetaAdsConfig, state: StreamState = {}): TestContext<MetaAdsConfig> {
  return createTestContext<MetaAdsConfig>({ source: 'fb', stream: 'campaign_insights', config, state, secrets: [config.access_token] });
}

async function read(config: MetaAdsConfig, state: StreamState = {}) {
  const ctx = contextFor(config, state);
  const def = streamOf(config);
  const batches: RecordBatch[] = [];
  for await (const b of def.read(ctx)) batches.push(b);
  const records = batches.flatMap((b) => b.records as JsonObject[]);
  return { ctx, def, batches, records, state: batches.filter((b) => b.state).at(-1)?.state ?? state };
}

async function failure(config: MetaAdsConfig): Promise<{ error: unknown; ctx: TestContext<MetaAdsConfig> }> {
  const ctx = contextFor(config);
  try {
    for await (const _ of streamOf(config).read(ctx)) {
      // drain
    }
  } catch (error) {
    return { error, ctx };
  }
  throw new Error('expected the read to fail');
}

const march = (extra: Partial<MetaAdsConfig> = {}) => fake.config({ start_date: '2026-03-01', end_date: '2026-03-14', ...extra });
const insightsCalls = () => fake.requests.filter((r) => r.path.includes('/insights'));

describe('campaign_insights, synchronous', () => {
  it('reads every campaign-day page by page, token in the header only', async () => {
    const { records, state, def, batches } = await read(march({ page_size: 10 }));
    expect(records).toHaveLength(42);
    expect(new Set(records.map((r) => `${r.campaign_id}/${r.date_start}`)).size).toBe(42);
    expect(records[0]).toEqual({
      account_id: '1122334455',
      campaign_id: '120210000000000001',
      campaign_name: 'Prospecting - Lookalike 1%',
      date_start: '2026-03-01',
      date_stop: '2026-03-01',
      spend: '131.75',
      clicks: '155',
      impressions: '7790',
      account_currency: 'PLN',
      actions: [
        { action_type: 'link_click', value: '152' },
        { action_type: 'offsite_conversion.fb_pixel_purchase', value: '2' },
      ],
      action_values: [{ action_type: 'offsite_conversion.fb_pixel_purchase', value: '379.80' }],
    });
    expect(state).toEqual({ cursor: '2026-03-14' });
    // State only with the window's last page: a run stopped mid-window re-reads the window.
    expect(batches.map((b) => b.state?.cursor ?? null)).toEqual([null, null, null, null, '2026-03-14']);
    const validate = createRecordValidator(def.schema);
    expect(records.map((r) => validate(r)).filter(Boolean)).toEqual([]);

    const calls = insightsCalls();
    expect(calls).toHaveLength(5);
    expect(calls[0].path.startsWith('/v26.0/act_1122334455/insights?')).toBe(true);
    expect(calls[0].params).toMatchObject({
      level: 'campaign',
      time_increment: '1',
      time_range: '{"since":"2026-03-01","until":"2026-03-14"}',
      fields: 'account_id,campaign_id,campaign_name,spend,clicks,impressions,account_currency,date_start,date_stop,actions,action_values',
      limit: '10',
    });
    expect(calls.map((c) => c.params.after ?? null)).toEqual([null, 'MTA=', 'MjA=', 'MzA=', 'NDA=']);
    for (const c of fake.requests) {
      expect(c.headers.authorization).toBe(`Bearer ${FAKE_ACCESS_TOKEN}`);
      expect(c.path).not.toContain('access_token');
    }
  });

  it('re-reads only the lookback window next time and picks up restated days', async () => {
    const first = await read(march({ end_date: '2026-03-10' }));
    expect(first.records).toHaveLength(30);
    expect(first.state).toEqual({ cursor: '2026-03-10' });
    const restate = (date: string, spend: string) => fake.setRows(fake.rows.map((r) => (r.date_start === date && r.campaign_id === '120210000000000002' ? { ...r, spend } : r)));
    restate('2026-03-09', '999.99');
    restate('2026-03-05', '555.55');

    const second = await read(march(), first.state);
    expect(insightsCalls().at(-1)!.params.time_range).toBe('{"since":"2026-03-07","until":"2026-03-14"}');
    expect(second.records).toHaveLength(24);
    expect(second.records.find((r) => r.date_start === '2026-03-09' && r.campaign_id === '120210000000000002')?.spend).toBe('999.99');
    expect(second.records.some((r) => r.spend === '555.55')).toBe(false);
    expect(second.state).toEqual({ cursor: '2026-03-14' });
  });

  it('splits long ranges into windows and commits state after each', async () => {
    const { records, batches } = await read(march({ window_days: 5 }));
    expect(records).toHaveLength(42);
    expect(batches.filter((b) => b.state).map((b) => b.state!.cursor)).toEqual(['2026-03-05', '2026-03-10', '2026-03-14']);
    expect(fake.requests.some((r) => r.method === 'POST')).toBe(false);
  });

  it('sends appsecret_proof when app_secret is set', async () => {
    await fake.close();
    fake = await startFake({ appSecret: 'fake-app-secret' });
    const { records } = await read(march({ app_secret: 'fake-app-secret' }));
    expect(records).toHaveLength(42);
    expect(insightsCalls()[0].params.appsecret_proof).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('retries and rate limits', () => {
  it('waits as long as Retry-After says on a 429, then succeeds', async () => {
    fake.fail(metaErrors.tooManyRequests(2));
    const { records, ctx } = await read(march());
    expect(records).toHaveLength(42);
    expect(ctx.sleeps).toEqual([2000]);
  });

  it('waits for estimated_time_to_regain_access on a Business Use Case throttle', async () => {
    fake.fail(metaErrors.insightsRateLimit(1));
    const { records, ctx } = await read(march());
    expect(records).toHaveLength(42);
    expect(ctx.sleeps).toEqual([60_000]);
  });

  it('backs off on throttling codes without a wait estimate', async () => {
    fake.fail(metaErrors.userRequestLimit());
    const { records, ctx } = await read(march());
    expect(records).toHaveLength(42);
    expect(ctx.sleeps).toHaveLength(1);
  });

  it('stops with a QuotaError and the reset time when the wait exceeds the retry policy', async () => {
    fake.fail(metaErrors.insightsRateLimit(30));
    const { error, ctx } = await failure(march());
    expect(error).toBeInstanceOf(QuotaError);
    expect((error as QuotaError).resetsAt?.toISOString()).toBe('2026-03-15T09:30:00.000Z');
    expect((error as QuotaError).format()).toContain('(#80000)');
    expect(ctx.sleeps).toEqual([]);
  });

  it('retries transient Graph errors (code 1, code 2) and 5xx', async () => {
    fake.fail(metaErrors.unknown());
    fake.fail(metaErrors.serviceUnavailable());
    const { records, ctx } = await read(march());
    expect(records).toHaveLength(42);
    expect(ctx.sleeps).toHaveLength(2);
  });

  it('reads the longest wait from X-Business-Use-Case-Usage', () => {
    const header = JSON.stringify({ '1': [{ type: 'ads_insights', estimated_time_to_regain_access: 2 }], '2': [{ type: 'ads_management', estimated_time_to_regain_access: 5 }] });
    expect(bucWaitMs(header)).toBe(300_000);
    expect(bucWaitMs(JSON.stringify({ '1': [{ estimated_time_to_regain_access: 0 }] }))).toBeUndefined();
    expect(bucWaitMs('not json')).toBeUndefined();
    expect(bucWaitMs(null)).toBeUndefined();
  });
});

describe('auth and request errors', () => {
  it('turns a 401 into an AuthError that names the source and says what to check', async () => {
    fake.fail(metaErrors.expiredToken(401));
    const { error } = await failure(march());
    expect(error).toBeInstanceOf(AuthError);
    const text = (error as AuthError).format();
    expect(text).toContain('fb/campaign_insights: authentication failed (401');
    expect(text).toContain('Session has expired');
    expect(text).toMatch(/hint: access_token is expired or invalid.*System User/);
    expect(text).not.toContain(FAKE_ACCESS_TOKEN);
  });

  it('recognises code 190 sent with HTTP 400, as Graph usually does', async () => {
    const { error } = await failure(march({ access_token: 'EAAwrong' }));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).format()).toContain('Invalid OAuth access token');
  });

  it('explains a missing ads_read permission and an ad account the token cannot see', async () => {
    fake.fail(metaErrors.missingPermission());
    const perm = await failure(march());
    expect((perm.error as AuthError).hint).toContain('ads_read');
    const other = await failure(march({ ad_account_id: 'act_999' }));
    expect(other.error).toBeInstanceOf(AuthError);
    expect((other.error as AuthError).hint).toContain('ad_account_id');
  });

  it('suggests smaller windows or async when Meta refuses the amount of data', async () => {
    fake.fail(metaErrors.tooMuchData());
    const { error } = await failure(march());
    expect(error).toBeInstanceOf(RunError);
    expect((error as RunError).hint).toContain('async: true');
  });
});

describe('asynchronous report jobs', () => {
  it('creates a job, polls it to completion and reads its pages', async () => {
    const { records, state } = await read(march({ async: true, poll_interval_ms: 1, page_size: 20 }));
    expect(records).toHaveLength(42);
    expect(state).toEqual({ cursor: '2026-03-14' });
    const [create, ...rest] = fake.requests;
    expect(create.method).toBe('POST');
    expect(create.path).toBe('/v26.0/act_1122334455/insights');
    expect(create.params).toMatchObject({ level: 'campaign', time_increment: '1', time_range: '{"since":"2026-03-01","until":"2026-03-14"}' });
    expect(rest.map((r) => r.path.split('?')[0])).toEqual([
      '/v26.0/6023920149050',
      '/v26.0/6023920149050',
      '/v26.0/6023920149050/insights',
      '/v26.0/6023920149050/insights',
      '/v26.0/6023920149050/insights',
    ]);
  });

  it('switches to jobs by itself for windows longer than async_after_days', async () => {
    const { records } = await read(march({ window_days: 60, poll_interval_ms: 1 }));
    expect(records).toHaveLength(42);
    expect(fake.jobs.size).toBe(1);
  });

  it('fails the stream when the job fails or is skipped, with what Meta said', async () => {
    await fake.close();
    fake = await startFake({ jobOutcome: 'Job Failed' });
    const failed = await failure(march({ async: true, poll_interval_ms: 1 }));
    expect(failed.error).toBeInstanceOf(RunError);
    expect((failed.error as RunError).message).toContain('Job Failed: The report could not be computed');
    expect((failed.error as RunError).transient).toBe(true);

    await fake.close();
    fake = await startFake({ jobOutcome: 'Job Skipped' });
    const skipped = await failure(march({ async: true, poll_interval_ms: 1 }));
    expect((skipped.error as RunError).message).toContain('Job Skipped');
  });

  it('gives up on a job that runs past async_timeout_ms', async () => {
    await fake.close();
    fake = await startFake({ asyncPolls: 1_000_000 });
    vi.useRealTimers();
    const { error } = await failure(march({ async: true, poll_interval_ms: 2, async_timeout_ms: 20 }));
    expect((error as RunError).message).toMatch(/still Job Running/);
    expect((error as RunError).transient).toBe(true);
  });
});

describe('records and mapping', () => {
  it('lets the record schema reject malformed rows (the engine quarantines them)', async () => {
    const [a, b, c, d] = fake.rows;
    fake.setRows([a, { ...b, spend: 'n/a' }, { ...c, campaign_id: undefined }, { ...d, account_currency: 'zł' }]);
    const { records, def } = await read(march());
    const validate = createRecordValidator(def.schema);
    expect(records.map((r) => validate(r))).toEqual([
      undefined,
      '/spend: must match pattern "^\\d+(\\.\\d+)?$"',
      '/campaign_id: is required but missing',
      '/account_currency: must match pattern "^[A-Z]{3}$"',
    ]);
  });

  it('maps a campaign-day to a Paid Social spend row', () => {
    expect(
      mapInsight({
        account_id: '1122334455',
        campaign_id: '120210000000000003',
        campaign_name: 'Advantage+ Shopping',
        date_start: '2026-03-04',
        date_stop: '2026-03-04',
        spend: '123.45',
        clicks: '87',
        impressions: '12345',
        account_currency: 'PLN',
        actions: null,
        action_values: null,
      }),
    ).toEqual({
      spend: [{ date: '2026-03-04', channel: 'Paid Social', campaign_id: '120210000000000003', campaign: 'Advantage+ Shopping', cost: 123.45, currency: 'PLN', clicks: 87, impressions: 12345 }],
    });
  });
});

describe('connector', () => {
  it('is a valid plugin whose check() reads the ad account', async () => {
    assertConnector(connector, 'connectors/meta-ads');
    await connector.check!(contextFor(fake.config()));
    expect(fake.requests[0].path).toBe('/v26.0/act_1122334455?fields=id%2Cname%2Ccurrency%2Ctimezone_name%2Caccount_status');
  });

  it('has a strict config schema that the example pipeline satisfies', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
    ajv.addKeyword({ keyword: 'x-hint', schemaType: ['string', 'object'] });
    const validate = ajv.compile(configSchema);
    const pipeline = parseYaml(readFileSync(new URL('../../pipelines/meta-ads.yaml', import.meta.url), 'utf8')) as { sources: { connector: string; config: unknown }[] };
    const sources = pipeline.sources.filter((s) => s.connector === 'meta-ads');
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) expect(validate(s.config), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...fake.config(), ad_account_id: 1122334455 })).toBe(false);
    expect(configSchema.properties.access_token['x-secret']).toBe(true);
    expect(configSchema.properties.app_secret['x-secret']).toBe(true);
  });
});
