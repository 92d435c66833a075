// The connector against its fake Data API, through the real googleapis client: full and incremental
// syncs by date with a lookback, offset pagination to rowCount with int64 strings, retries (429 with
// Retry-After, 5xx), auth failures, property quotas as QuotaError naming the quota, bad metric names,
// quarantine of malformed records, `check`, and the example pipeline against the config schema.
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateWithSchema } from '../../core/config/validate.ts';
import { AuthError, HttpError, QuotaError } from '../../core/sdk/index.ts';
import type { RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/index.ts';
import { createRecordValidator } from '../../core/sdk/records.ts';
import { createTestContext } from '../../core/sdk/testing.ts';
import type { TestContextOverrides } from '../../core/sdk/testing.ts';
import schema from './config.schema.json' with { type: 'json' };
import { errors, fixtures, startFake } from './fake/server.ts';
import type { DataApiFake } from './fake/server.ts';
import connector from './index.ts';
import type { Ga4Config, TrafficRecord } from './streams.ts';

let fake: DataApiFake;
beforeEach(async () => {
  fake = await startFake();
});
afterEach(async () => {
  await fake.close();
});

function configFor(f: DataApiFake, more: Partial<Ga4Config> = {}): Ga4Config {
  return {
    property_id: f.property,
    analytics_data_url: f.url,
    page_size: 40,
    credentials: { service_account_key: f.oauth.serviceAccountKeyJson, token_url: f.tokenUrl },
    ...more,
  };
}

function streamOf(config: Ga4Config): StreamDefinition<Ga4Config, TrafficRecord> {
  const streams = typeof connector.streams === 'function' ? connector.streams(config) : connector.streams;
  return streams[0] as StreamDefinition<Ga4Config, TrafficRecord>;
}

async function sync(config: Ga4Config, state: StreamState = {}, more: TestContextOverrides<Ga4Config> = {}) {
  const ctx = createTestContext<Ga4Config>({ source: 'ga4', stream: 'traffic_daily', config, state, ...more });
  const stream = streamOf(config);
  const batches: RecordBatch<TrafficRecord>[] = [];
  let error: unknown;
  try {
    for await (const b of stream.read(ctx)) batches.push(b);
  } catch (e) {
    error = e;
  }
  return { ctx, stream, batches, records: batches.flatMap((b) => b.records), state: batches.at(-1)?.state, error };
}

const key = (r: TrafficRecord) => [r.date, r.session_default_channel_group, r.session_source_medium, r.session_campaign_name].join('|');

describe('ga4 traffic_daily', () => {
  it('full sync: offset pages to rowCount, limit/offset as strings, one record per day × channel × source/medium × campaign', async () => {
    const { records, batches, state, error, stream } = await sync(configFor(fake));
    expect(error).toBeUndefined();
    expect(records).toHaveLength(fixtures.rows.length);
    expect(new Set(records.map(key)).size).toBe(records.length);
    expect(batches.map((b) => b.records.length)).toEqual([40, 40, 24]);
    expect(fake.calls.map((c) => [c.body.limit, c.body.offset])).toEqual([
      ['40', '0'],
      ['40', '40'],
      ['40', '80'],
    ]);
    expect(fake.calls[0].body).toMatchObject({
      dateRanges: [{ startDate: '365daysAgo', endDate: 'today' }],
      dimensions: [{ name: 'date' }, { name: 'sessionDefaultChannelGroup' }, { name: 'sessionSourceMedium' }, { name: 'sessionCampaignName' }],
      metrics: [{ name: 'sessions' }, { name: 'keyEvents' }, { name: 'totalRevenue' }],
      returnPropertyQuota: true,
    });
    expect(batches.map((b) => b.state)).toEqual([{}, {}, { cursor: '2024-05-12' }]);
    expect(state).toEqual({ cursor: '2024-05-12' });
    const paid = records.find((r) => r.date === '2024-05-10' && r.session_campaign_name === 'spring_sale')!;
    const source = fixtures.rows.find((r) => r.date === '20240510' && r.sessionCampaignName === 'spring_sale')!;
    expect(paid).toEqual({
      property_id: '123456789',
      date: '2024-05-10',
      session_default_channel_group: 'Paid Search',
      session_source_medium: 'google / cpc',
      session_campaign_name: 'spring_sale',
      sessions: source.sessions,
      conversions: source.keyEvents,
      revenue: source.totalRevenue,
      currency: 'EUR',
    });
    const validate = createRecordValidator(stream.schema);
    expect(records.map((r) => validate(r)).filter(Boolean)).toEqual([]);
    expect(fake.calls.every((c) => (c.authorization ?? '').startsWith('Bearer ya29.'))).toBe(true);
    expect(fake.oauth.grants.map((g) => g.scope)).toEqual(['https://www.googleapis.com/auth/analytics.readonly']);
  });

  it('has no mapping: aggregates are kept raw for KPI sections', () => {
    expect(streamOf(configFor(fake)).map).toBeUndefined();
  });

  it('incremental: re-reads from the last date minus lookback_days, picking up revised and new days only', async () => {
    const config = configFor(fake, { lookback_days: 2, page_size: 10 });
    const first = await sync(config);
    const revised = fixtures.rows.map((r) => (r.date === '20240511' && r.sessionCampaignName === 'spring_sale' ? { ...r, sessions: 999 } : r));
    const newDay = fixtures.rows.filter((r) => r.date === '20240512').map((r) => ({ ...r, date: '20240513' }));
    fake.setRows([...revised, ...newDay]);
    fake.setToday('2024-05-13');
    fake.calls.length = 0;

    const second = await sync(config, first.state);
    expect(second.error).toBeUndefined();
    expect(fake.calls[0].body.dateRanges).toEqual([{ startDate: '2024-05-10', endDate: 'today' }]);
    expect([...new Set(second.records.map((r) => r.date))]).toEqual(['2024-05-10', '2024-05-11', '2024-05-12', '2024-05-13']);
    expect(second.records.find((r) => r.date === '2024-05-11' && r.session_campaign_name === 'spring_sale')!.sessions).toBe(999);
    expect(second.state).toEqual({ cursor: '2024-05-13' });
    // Intermediate pages keep the committed cursor: an interrupted run reads the window again.
    expect(second.batches[0].state).toEqual({ cursor: '2024-05-12' });
  });

  it('first run from start_date or the pipeline startDate, whichever is later; a state with no new rows stays put', async () => {
    await sync(configFor(fake, { start_date: '2024-05-01' }), {}, { startDate: '2024-05-08' });
    expect(fake.calls[0].body.dateRanges).toEqual([{ startDate: '2024-05-08', endDate: 'today' }]);
    fake.setRows([]);
    const empty = await sync(configFor(fake), { cursor: '2024-05-12' });
    expect(empty.records).toEqual([]);
    expect(empty.state).toEqual({ cursor: '2024-05-12' });
  });

  it('retries a 429 (concurrent requests) after its Retry-After and succeeds', async () => {
    fake.failNext({ status: 429, headers: { 'retry-after': '5' }, body: errors.concurrent() });
    const { records, error, ctx } = await sync(configFor(fake));
    expect(error).toBeUndefined();
    expect(records).toHaveLength(fixtures.rows.length);
    expect(ctx.sleeps).toEqual([5000]);
  });

  it('retries a 5xx and succeeds', async () => {
    fake.failNext({ status: 503, body: errors.unavailable() });
    const { records, error, ctx } = await sync(configFor(fake));
    expect(error).toBeUndefined();
    expect(records).toHaveLength(fixtures.rows.length);
    expect(ctx.sleeps).toHaveLength(1);
    expect(fake.calls).toHaveLength(4);
  });

  it('401 → AuthError naming the source and saying what to check', async () => {
    fake.failNext({ status: 401, body: errors.unauthenticated() });
    const { error } = await sync(configFor(fake));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).format()).toMatch(
      /^ga4\/traffic_daily: authentication failed \(401[^)]*\): Request had invalid authentication credentials[\s\S]*hint: check the credentials \(scope analytics\.readonly\) and that their email is a Viewer of GA4 property 123456789/,
    );
  });

  it('no access to the property → AuthError (403) with the same advice', async () => {
    const { error } = await sync(configFor(fake, { property_id: '999' }));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).format()).toMatch(/permission denied \(403[^)]*\): User does not have sufficient permissions for this property/);
  });

  it('a revoked refresh token → AuthError from the token endpoint', async () => {
    const { client_id, client_secret } = fake.oauth.oauthClient;
    const { error } = await sync(configFor(fake, { credentials: { client_id, client_secret, refresh_token: 'revoked', token_url: fake.tokenUrl } }));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).format()).toContain('hint: the refresh token was refused');
  });

  it('spent daily tokens → QuotaError naming tokensPerDay with the last reported numbers, without retrying', async () => {
    fake.setTokensLeft(10);
    const { error, records } = await sync(configFor(fake));
    expect(records).toHaveLength(40);
    expect(error).toBeInstanceOf(QuotaError);
    const q = error as QuotaError;
    expect(q.quota).toBe('tokensPerDay');
    expect(q.format()).toMatch(/^ga4\/traffic_daily: POST \/v1beta\/properties\/123456789:runReport: tokensPerDay exhausted \(429 Too Many Requests\): Exhausted property tokens per day/);
    expect(q.message).toContain('(last reported: tokensPerDay 10 used, 0 left;');
    expect(fake.calls).toHaveLength(2);
  });

  it('spent hourly tokens → QuotaError that resets within the hour', async () => {
    fake.failNext({ status: 429, body: errors.tokensPerHour() });
    const { error } = await sync(configFor(fake));
    expect(error).toBeInstanceOf(QuotaError);
    expect((error as QuotaError).quota).toBe('tokensPerProjectPerHour');
    expect((error as QuotaError).resetsAt!.getTime() - Date.now()).toBeLessThanOrEqual(3_600_000);
  });

  it('a metric name the API does not know → HttpError pointing at the metric settings', async () => {
    const { error } = await sync(configFor(fake, { conversions_metric: 'conversionz' }));
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).format()).toMatch(/400[^:]*: Field conversionz is not a valid metric[\s\S]*hint: check property_id and the metric names in sessions_metric, conversions_metric/);
  });

  it('asks for the configured metric names', async () => {
    await sync(configFor(fake, { revenue_metric: 'purchaseRevenue' }));
    expect(fake.calls[0].body.metrics).toEqual([{ name: 'sessions' }, { name: 'keyEvents' }, { name: 'purchaseRevenue' }]);
  });

  it('a malformed record fails the record schema (the engine quarantines it) while the good ones pass', async () => {
    fake.setRows([...fixtures.rows.slice(0, 5), { ...fixtures.rows[0], date: '20240230' }]);
    const { records, stream } = await sync(configFor(fake));
    const validate = createRecordValidator(stream.schema);
    const verdicts = records.map((r) => validate(r));
    expect(verdicts.filter(Boolean)).toEqual(['/date: must be a valid date']);
    expect(verdicts.filter((v) => v === undefined)).toHaveLength(5);
  });

  it('check() runs a one-row report for yesterday', async () => {
    await connector.check!(createTestContext<Ga4Config>({ source: 'ga4', config: configFor(fake) }));
    expect(fake.calls.map((c) => c.body)).toEqual([{ dateRanges: [{ startDate: 'yesterday', endDate: 'yesterday' }], metrics: [{ name: 'sessions' }], limit: '1' }]);
  });
});

describe('config', () => {
  const locate = () => ({ line: 1, col: 1 });

  it('pipelines/ga4.yaml is valid against the config schema', async () => {
    const pipeline = parseYaml(await readFile(new URL('../../pipelines/ga4.yaml', import.meta.url), 'utf8'));
    const source = pipeline.sources.find((s: { connector: string }) => s.connector === 'ga4');
    expect(validateWithSchema(schema, source.config, { file: 'ga4.yaml', locate })).toEqual([]);
  });

  it('refuses a property id that is not digits', () => {
    const problems = validateWithSchema(schema, { property_id: 'properties/123', credentials: { service_account_key: 'x' } }, { file: 'x.yaml', locate });
    expect(problems.map((p) => p.path)).toEqual(['property_id']);
  });
});
