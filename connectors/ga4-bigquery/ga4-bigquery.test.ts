// The connector against its fake BigQuery, through the real googleapis client: full and incremental
// syncs by table date (lookback, intraday, resuming inside a table), pagination, retries (429 with
// Retry-After, 403 rateLimitExceeded, 5xx) done once by our policy and never by gaxios, auth failures
// on the API and at the token endpoint, quota errors, quarantine of malformed records, the mapping of
// what was read, both credential kinds, `check`, and the example pipeline against the config schema.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateWithSchema } from '../../core/config/validate.ts';
import { AuthError, HttpError, QuotaError } from '../../core/sdk/index.ts';
import type { JsonObject, RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/index.ts';
import { createRecordValidator } from '../../core/sdk/records.ts';
import { createTestContext } from '../../core/sdk/testing.ts';
import type { TestContextOverrides } from '../../core/sdk/testing.ts';
import ga4Schema from '../ga4/config.schema.json' with { type: 'json' };
import schema from './config.schema.json' with { type: 'json' };
import type { Ga4Record } from './export-row.ts';
import { generateExportRows } from './fake/generate.ts';
import { errors, fixtures, startFake } from './fake/server.ts';
import type { BigQueryFake } from './fake/server.ts';
import connector from './index.ts';
import { eventSchema } from './streams.ts';
import type { Ga4BigQueryConfig } from './streams.ts';

let fake: BigQueryFake;
beforeEach(async () => {
  fake = await startFake();
});
afterEach(async () => {
  await fake.close();
});

function configFor(f: BigQueryFake, more: Partial<Ga4BigQueryConfig> = {}): Ga4BigQueryConfig {
  return {
    project_id: f.project,
    property_id: '123456789',
    bigquery_url: f.url,
    credentials: { service_account_key: f.oauth.serviceAccountKeyJson, token_url: f.tokenUrl },
    ...more,
  };
}

function streamOf(config: Ga4BigQueryConfig): StreamDefinition<Ga4BigQueryConfig, Ga4Record> {
  const streams = typeof connector.streams === 'function' ? connector.streams(config) : connector.streams;
  return streams[0] as StreamDefinition<Ga4BigQueryConfig, Ga4Record>;
}

async function sync(config: Ga4BigQueryConfig, state: StreamState = {}, more: TestContextOverrides<Ga4BigQueryConfig> = {}) {
  const ctx = createTestContext<Ga4BigQueryConfig>({ source: 'web', stream: 'events', config, state, secrets: [config.credentials.service_account_key ?? ''], ...more });
  const stream = streamOf(config);
  const batches: RecordBatch<Ga4Record>[] = [];
  let error: unknown;
  try {
    for await (const b of stream.read(ctx)) batches.push(b);
  } catch (e) {
    error = e;
  }
  const records = batches.flatMap((b) => b.records);
  return { ctx, stream, batches, records, state: batches.at(-1)?.state, error };
}

const dataRequests = () => fake.requests.filter((r) => r.path.endsWith('/data'));
const tablesRead = () => dataRequests().map((r) => r.path.split('/').at(-2));

describe('ga4-bigquery events', () => {
  it('full sync: every daily table in date order, then the intraday table; cursor = newest daily table', async () => {
    const { records, batches, state, error, ctx } = await sync(configFor(fake));
    expect(error).toBeUndefined();
    expect(tablesRead()).toEqual(['events_20240510', 'events_20240511', 'events_intraday_20240512']);
    expect(records).toHaveLength(13);
    expect(batches.map((b) => b.state)).toEqual([{ cursor: '2024-05-10' }, { cursor: '2024-05-11' }, { cursor: '2024-05-11' }]);
    expect(state).toEqual({ cursor: '2024-05-11' });
    expect(records.map((r) => r.export_table)).toEqual([...Array(6).fill('events_20240510'), ...Array(5).fill('events_20240511'), 'events_intraday_20240512', 'events_intraday_20240512']);
    const validate = createRecordValidator(eventSchema);
    for (const r of records) expect(validate(r)).toBeUndefined();
    // One token for the whole sync, by the JWT-bearer grant with the read-only BigQuery scope.
    expect(fake.oauth.grants).toEqual([
      { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', iss: 'touchpoint-reader@touchpoint-test.iam.gserviceaccount.com', scope: 'https://www.googleapis.com/auth/bigquery.readonly' },
    ]);
    expect(fake.requests.every((r) => (r.authorization ?? '').startsWith('Bearer ya29.'))).toBe(true);
    expect(dataRequests()[0].query).toMatchObject({ maxResults: '5000', startIndex: '0', 'formatOptions.useInt64Timestamp': 'true' });
    // The key never reaches the logs.
    expect(JSON.stringify(ctx.logs)).not.toContain('PRIVATE KEY');
  });

  it('decodes nested f/v rows into the export JSON (params, items, ecommerce, traffic sources)', async () => {
    const { records } = await sync(configFor(fake));
    const purchase = records.find((r) => r.event_name === 'purchase')!;
    const source = fixtures.tables.events_20240510[2];
    expect(purchase.event_params).toEqual(source.event_params);
    expect(purchase.ecommerce).toMatchObject({ purchase_revenue: 129.9, total_item_quantity: '2', transaction_id: 'T-1001', refund_value: null });
    expect(purchase.items).toHaveLength(2);
    expect(purchase.session_traffic_source_last_click).toMatchObject({ manual_campaign: { source: 'google', medium: 'cpc' }, google_ads_campaign: { campaign_id: '20471' }, cross_channel_campaign: null });
    expect(purchase).toMatchObject({ is_active_user: true, event_value_in_usd: 139.5, user_properties: [], privacy_info: { analytics_storage: 'Yes' } });
  });

  it('incremental: re-reads the lookback days and newer tables only, picking up late rows and the new daily table', async () => {
    const config = configFor(fake, { lookback_days: 1 });
    const first = await sync(config);
    expect(first.state).toEqual({ cursor: '2024-05-11' });

    const late = { ...fixtures.tables.events_20240511[3], event_timestamp: '1715425200000000', event_name: 'page_view' };
    fake.appendRows('events_20240511', [late]);
    fake.appendRows('events_20240510', [{ ...fixtures.tables.events_20240510[1], event_timestamp: '1715340000000000' }]);
    fake.setTable('events_20240512', fixtures.tables.events_intraday_20240512);
    fake.dropTable('events_intraday_20240512');
    fake.setTable('events_intraday_20240513', [{ ...fixtures.tables.events_intraday_20240512[0], event_date: '20240513', event_timestamp: '1715590800000000' }]);
    fake.requests.length = 0;

    const second = await sync(config, first.state);
    expect(second.error).toBeUndefined();
    // lookback_days 1: the newest table already read (05-11) again, 05-10 not.
    expect(tablesRead()).toEqual(['events_20240511', 'events_20240512', 'events_intraday_20240513']);
    expect(second.records.map((r) => r.event_timestamp)).toContain('1715425200000000');
    expect(second.records.map((r) => r.event_timestamp)).not.toContain('1715340000000000');
    expect(second.records).toHaveLength(5 + 1 + 2 + 1);
    expect(second.state).toEqual({ cursor: '2024-05-12' });
    // Events read from the intraday table come back with the same id from the daily one: an upsert.
    const firstIds = new Set(first.records.map((r) => r.event_id));
    expect(second.records.filter((r) => r.export_table === 'events_20240512').every((r) => firstIds.has(r.event_id))).toBe(true);
  });

  it('lookback_days (default 3) re-reads the three newest daily tables already read', async () => {
    const first = await sync(configFor(fake));
    fake.requests.length = 0;
    await sync(configFor(fake), first.state);
    expect(tablesRead()).toEqual(['events_20240510', 'events_20240511', 'events_intraday_20240512']);
    fake.requests.length = 0;
    await sync(configFor(fake, { lookback_days: 0 }), first.state);
    expect(tablesRead()).toEqual(['events_intraday_20240512']);
  });

  it('first run from start_date (or the pipeline startDate, whichever is later); intraday optional', async () => {
    await sync(configFor(fake, { start_date: '2024-05-11', include_intraday: false }));
    expect(tablesRead()).toEqual(['events_20240511']);
    fake.requests.length = 0;
    await sync(configFor(fake, { start_date: '2024-05-01' }), {}, { startDate: '2024-05-12' });
    expect(tablesRead()).toEqual(['events_intraday_20240512']);
  });

  it('pages through a big table to the end with page tokens, committing a resume point per page', async () => {
    const big = generateExportRows({ date: '2024-05-11', count: 2350, seed: 7 });
    fake.setTable('events_20240511', big);
    fake.dropTable('events_20240510');
    fake.dropTable('events_intraday_20240512');
    const { records, batches, state } = await sync(configFor(fake, { page_size: 1000 }));
    expect(records).toHaveLength(2350);
    expect(new Set(records.map((r) => r.event_id)).size).toBe(2350);
    expect(dataRequests().map((r) => [r.query.startIndex, r.query.pageToken ? 'token' : undefined])).toEqual([
      ['0', undefined],
      [undefined, 'token'],
      [undefined, 'token'],
    ]);
    expect(batches.map((b) => b.records.length)).toEqual([1000, 1000, 350]);
    expect(batches[0].state).toMatchObject({ resume: { table: 'events_20240511', start_index: 1000 } });
    expect(batches[1].state).toMatchObject({ resume: { table: 'events_20240511', start_index: 2000 } });
    expect(state).toEqual({ cursor: '2024-05-11' });
  });

  it('resumes an interrupted table at the committed row, or from its start when GA4 rewrote it', async () => {
    fake.setTable('events_20240511', generateExportRows({ date: '2024-05-11', count: 2350, seed: 3 }));
    const config = configFor(fake, { page_size: 1000, include_intraday: false });
    const first = await sync(config);
    const interrupted = first.batches.find((b) => b.state?.resume)!.state!;
    expect(interrupted).toMatchObject({ cursor: '2024-05-10', resume: { table: 'events_20240511', start_index: 1000 } });
    fake.requests.length = 0;

    const resumed = await sync(config, interrupted);
    // 05-10 was finished before the interruption; 05-11 continues at row 1000.
    expect(tablesRead()[0]).toBe('events_20240511');
    expect(dataRequests()[0].query.startIndex).toBe('1000');
    expect(resumed.records).toHaveLength(1350);
    expect(resumed.state).toEqual({ cursor: '2024-05-11' });

    fake.appendRows('events_20240511', generateExportRows({ date: '2024-05-11', count: 5, seed: 99 }));
    fake.requests.length = 0;
    const restarted = await sync(config, interrupted);
    expect(dataRequests()[0].query.startIndex).toBe('0');
    expect(restarted.records).toHaveLength(2355);
    expect(restarted.ctx.logs.some((l) => l.msg.includes('changed since the interrupted run'))).toBe(true);
  });

  it('retries a 429 after its Retry-After and succeeds', async () => {
    fake.failNext({ status: 429, headers: { 'retry-after': '7' }, body: errors.rateLimited(429), path: /\/data$/ });
    const { records, error, ctx } = await sync(configFor(fake));
    expect(error).toBeUndefined();
    expect(records).toHaveLength(13);
    expect(ctx.sleeps).toEqual([7000]);
  });

  it("retries BigQuery's 403 rateLimitExceeded (a short-term limit, not a permission problem)", async () => {
    fake.failNext({ status: 403, body: errors.rateLimited(403), path: /\/tables$/ });
    const { records, error, ctx } = await sync(configFor(fake));
    expect(error).toBeUndefined();
    expect(records).toHaveLength(13);
    expect(ctx.sleeps).toHaveLength(1);
  });

  it('retries a 5xx and succeeds; gaxios never retries on its own', async () => {
    fake.failNext({ status: 503, body: errors.backendError(503), path: /\/data$/ });
    const { records, error } = await sync(configFor(fake));
    expect(error).toBeUndefined();
    expect(records).toHaveLength(13);
    expect(dataRequests()).toHaveLength(4);

    fake.requests.length = 0;
    fake.failNext(...Array.from({ length: 3 }, () => ({ status: 500, body: errors.backendError(500), path: /\/tables$/ })));
    const failed = await sync(configFor(fake));
    expect(failed.error).toBeInstanceOf(HttpError);
    expect((failed.error as HttpError).transient).toBe(true);
    // Exactly the policy's three attempts (TEST_RETRY_POLICY), not three times gaxios' own.
    expect(fake.requests).toHaveLength(3);
    expect((failed.error as HttpError).format()).toMatch(/^web\/events: GET \/bigquery\/v2\/projects\/touchpoint-test\/datasets\/analytics_123456789\/tables failed after 3 attempts: 500/);
  });

  it('401 → AuthError naming the source and saying what to check', async () => {
    fake.failNext({ status: 401, body: errors.unauthenticated() });
    const { error } = await sync(configFor(fake));
    expect(error).toBeInstanceOf(AuthError);
    const text = (error as AuthError).format();
    expect(text).toMatch(/^web\/events: authentication failed \(401[^)]*\): Request had invalid authentication credentials/);
    expect(text).toMatch(/hint: check the credentials and that they may read dataset touchpoint-test:analytics_123456789 \(BigQuery Data Viewer/);
  });

  it('a refused service-account key → AuthError from the token endpoint, with what to check', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const key = JSON.stringify({ ...fake.oauth.serviceAccountKey, private_key: other.privateKey });
    const { error } = await sync(configFor(fake, { credentials: { service_account_key: key, token_url: fake.tokenUrl } }));
    expect(error).toBeInstanceOf(AuthError);
    const text = (error as AuthError).format();
    expect(text).toContain('web/events: token request refused');
    expect(text).toContain('invalid_grant: Invalid JWT Signature.');
    expect(text).toContain('hint: the service-account key of touchpoint-reader@touchpoint-test.iam.gserviceaccount.com was refused');
    expect(fake.requests).toHaveLength(0);
  });

  it('reads with an OAuth refresh token too, and reports a revoked one', async () => {
    const { client_id, client_secret, refresh_token } = fake.oauth.oauthClient;
    const ok = await sync(configFor(fake, { credentials: { client_id, client_secret, refresh_token, token_url: fake.tokenUrl } }));
    expect(ok.error).toBeUndefined();
    expect(ok.records).toHaveLength(13);
    expect(fake.oauth.grants.map((g) => g.grant_type)).toEqual(['refresh_token']);

    const revoked = await sync(configFor(fake, { credentials: { client_id, client_secret, refresh_token: 'revoked', token_url: fake.tokenUrl } }));
    expect(revoked.error).toBeInstanceOf(AuthError);
    expect((revoked.error as AuthError).format()).toMatch(/invalid_grant: Token has been expired or revoked\.[\s\S]*hint: the refresh token was refused/);
  });

  it('reads the key from a file relative to the pipeline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ga4-bq-'));
    try {
      await writeFile(join(dir, 'sa.json'), fake.oauth.serviceAccountKeyJson);
      const { records, error } = await sync(configFor(fake, { credentials: { service_account_key_file: 'sa.json', token_url: fake.tokenUrl } }), {}, { dir });
      expect(error).toBeUndefined();
      expect(records).toHaveLength(13);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a spent daily quota → QuotaError naming the quota, without retrying', async () => {
    fake.failNext({ status: 403, body: errors.quotaExceeded(), path: /\/data$/ });
    const { error } = await sync(configFor(fake));
    expect(error).toBeInstanceOf(QuotaError);
    expect((error as QuotaError).quota).toBe('free query bytes scanned');
    expect((error as QuotaError).format()).toMatch(/^web\/events: GET \/bigquery\/v2\/\S+\/data\?\S+: free query bytes scanned exhausted \(403 Forbidden\): Quota exceeded/);
    expect(dataRequests()).toHaveLength(1);
  });

  it('a 404 dataset → an HttpError that points at project_id and dataset', async () => {
    const { error } = await sync(configFor(fake, { property_id: '999' }));
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).format()).toMatch(/Not found: Dataset touchpoint-test:analytics_999[\s\S]*hint: check project_id and dataset/);
  });

  it('a malformed record fails the record schema (the engine quarantines it) while the good ones pass', async () => {
    fake.appendRows('events_20240511', [{ ...fixtures.tables.events_20240511[0], event_name: null, event_timestamp: '1715430000000000' }]);
    const { records, stream } = await sync(configFor(fake));
    const validate = createRecordValidator(stream.schema);
    const verdicts = records.map((r) => validate(r));
    expect(verdicts.filter(Boolean)).toEqual(['/event_name: must be string (got null)']);
    expect(verdicts.filter((v) => v === undefined)).toHaveLength(13);
  });

  it('maps what it read: touches and conversions with channels, values and identifiers', async () => {
    const config = configFor(fake, { conversion_events: ['purchase', 'generate_lead', 'sign_up'], keep_other_events: false });
    const { records, stream } = await sync(config);
    const rows = records.map((r) => stream.map!(r, { source: 'web', stream: 'events', config }));
    const events = rows.flatMap((r) => r.events ?? []);
    expect(events).toHaveLength(12);
    expect(rows.flatMap((r) => r.links ?? [])).toEqual([]);
    expect(events.filter((e) => e.kind === 'conversion').map((e) => [e.name, e.channel, e.value, e.currency])).toEqual([
      ['purchase', 'Paid Search', 129.9, 'EUR'],
      ['generate_lead', 'Paid Social', null, null],
      ['sign_up', 'Email', null, null],
      ['in_app_purchase', null, 4.99, 'USD'],
    ]);
    expect(events.filter((e) => e.name === 'session_start').map((e) => e.channel)).toEqual(['Paid Search', 'Paid Social', 'Organic Search', 'Direct', 'Organic Social']);
  });

  it('check() proves credentials and dataset access with one tables.list', async () => {
    const ctx = createTestContext<Ga4BigQueryConfig>({ source: 'web', config: configFor(fake) });
    await connector.check!(ctx);
    expect(fake.requests.map((r) => r.path)).toEqual(['/bigquery/v2/projects/touchpoint-test/datasets/analytics_123456789/tables']);
    const missing = createTestContext<Ga4BigQueryConfig>({ source: 'web', config: configFor(fake, { property_id: undefined }) });
    await expect(connector.check!(missing)).rejects.toThrow(/give dataset or property_id/);
  });
});

describe('config', () => {
  const locate = () => ({ line: 1, col: 1 });

  it('pipelines/ga4-bigquery.yaml is valid against the config schema', async () => {
    const pipeline = parseYaml(await readFile(new URL('../../pipelines/ga4-bigquery.yaml', import.meta.url), 'utf8'));
    const source = pipeline.sources.find((s: { connector: string }) => s.connector === 'ga4-bigquery');
    expect(validateWithSchema(schema, source.config, { file: 'ga4-bigquery.yaml', locate })).toEqual([]);
  });

  it('says which credential key is missing, and keeps the credentials block identical to the ga4 connector', () => {
    const problems = validateWithSchema(schema, { project_id: 'p', property_id: '1', credentials: { client_id: 'a', client_secret: 'b' } }, { file: 'x.yaml', locate });
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual(['credentials: missing required key "refresh_token"']);
    expect(ga4Schema.$defs.credentials).toEqual(schema.$defs.credentials);
    expect(ga4Schema.$defs.token_url).toEqual(schema.$defs.token_url);
  });

  it('every property is documented', () => {
    const undocumented = Object.entries(schema.properties as Record<string, JsonObject>).filter(([, p]) => !p.description && !p.$ref);
    expect(undocumented).toEqual([]);
  });
});
