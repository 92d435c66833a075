// The HubSpot connector against its local fake, through the real @hubspot/api-client generated classes
// and the engine's retrying HTTP client: full and incremental reads, paging, the search API's result
// ceiling, associations, deletions, OAuth, rate limits and server errors, auth failures, quarantine of
// malformed records, the mapping to canonical rows, and the example pipeline against the config schema.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@hubspot/api-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadPipeline, validateSourceConfigs } from '../../core/config/pipeline.ts';
import { AuthError, QuotaError, RunError, createRecordValidator } from '../../core/sdk/index.ts';
import type { CanonicalEvent, JsonObject, RecordBatch, StreamDefinition, StreamState } from '../../core/sdk/index.ts';
import { createTestContext } from '../../core/sdk/testing.ts';
import type { TestContextOverrides } from '../../core/sdk/testing.ts';
import { MAX_PROPERTIES_QUERY, nextMidnight } from './client.ts';
import schema from './config.schema.json' with { type: 'json' };
import { rateLimitBody, startFake } from './fake/index.ts';
import type { FakeOptions, HubSpotFake } from './fake/index.ts';
import connector from './index.ts';
import type { CrmRecord, FormSubmissionRecord, HubSpotConfig } from './streams.ts';

const here = dirname(fileURLToPath(import.meta.url));
const TOKEN = 'pat-na1-test-token';
const FORM = '0b2cd1aa-1111-4a1a-9a9a-000000000001';
let fake: HubSpotFake;

beforeEach(async () => {
  fake = await startFake();
});
afterEach(async () => {
  await fake.close();
  vi.restoreAllMocks();
});

async function restart(options: FakeOptions): Promise<void> {
  await fake.close();
  fake = await startFake(options);
}

function stream(name: string): StreamDefinition<HubSpotConfig, any> {
  const all = connector.streams as StreamDefinition<HubSpotConfig, any>[];
  return all.find((s) => s.name === name)!;
}

type More = TestContextOverrides<HubSpotConfig>;

function context(name: string, config: Partial<HubSpotConfig> = {}, more: More = {}) {
  const auth = config.client_id ? {} : { access_token: TOKEN };
  return createTestContext<HubSpotConfig>({ source: 'crm', stream: name, secrets: [TOKEN], ...more, config: { ...auth, base_url: fake.url, ...config } });
}

async function read<R = CrmRecord>(name: string, config: Partial<HubSpotConfig> = {}, more: More = {}) {
  const ctx = context(name, config, more);
  const batches: RecordBatch<R>[] = [];
  for await (const b of stream(name).read(ctx)) batches.push(b as RecordBatch<R>);
  return { ctx, batches, records: batches.flatMap((b) => b.records), state: batches.at(-1)?.state as StreamState };
}

const requestsTo = (path: string, method = 'GET') => fake.requests.filter((r) => r.method === method && r.path === path);
const ids = (records: { id: string }[]) => records.map((r) => r.id).sort();
const mapCtx = (config: Partial<HubSpotConfig> = {}) => ({ source: 'crm', stream: 'x', config: { access_token: TOKEN, ...config } });

describe('CRM streams: first run and paging', () => {
  it('lists every contact with all discovered properties, then the archived ones, and starts the cursor at the list start', async () => {
    const before = new Date().toISOString();
    const { records, state } = await read('contacts');
    expect(records).toHaveLength(13);
    expect(records.filter((r) => r.archived).map((r) => r.id)).toEqual(['113']);
    const ada = records.find((r) => r.id === '101')!;
    expect(ada).toMatchObject({ createdAt: '2025-01-03T09:00:00.000Z', archived: false, properties: { email: 'ada.lovelace@example.com', ga_client_id: '1000000.1700000000', mobilephone: null } });
    expect(requestsTo('/crm/v3/properties/contacts')).toHaveLength(1);
    const lists = requestsTo('/crm/v3/objects/contacts');
    expect(lists.map((r) => r.query.get('archived'))).toEqual(['false', 'true']);
    // Every discovered property is asked for (repeated query parameters, as the library sends them).
    const discovered = fake.data.properties.contacts.map((p) => p.name);
    expect(lists[0].query.getAll('properties')).toEqual(expect.arrayContaining(discovered));
    expect(state.cursor! >= before && state.cursor === state.archived_cursor).toBe(true);
    const validate = createRecordValidator(stream('contacts').schema);
    expect(records.map(validate).filter(Boolean)).toEqual([]);
  });

  it('follows `after` to the last page, one batch per page, and resumes from a mid-run state', async () => {
    const { batches, records } = await read('contacts', { page_size: 5, read_archived: false });
    expect(batches.map((b) => b.records.length)).toEqual([5, 5, 2]);
    expect(ids(records)).toHaveLength(12);
    expect(requestsTo('/crm/v3/objects/contacts').map((r) => r.query.get('after'))).toEqual([null, '106', '111']);
    expect(batches[0].state).toMatchObject({ pass: { kind: 'list', after: '106' } });
    expect(batches[2].state).toEqual({ cursor: expect.any(String) });

    const resumed = await read('contacts', { page_size: 5, read_archived: false }, { state: batches[0].state });
    expect(resumed.records.map((r) => r.id)).toEqual(['106', '107', '108', '109', '110', '111', '112']);
    expect(resumed.state.cursor).toBe((batches[0].state as JsonObject as { pass: { started_at: string } }).pass.started_at);
  });

  it('a full refresh ignores the committed state and lists again', async () => {
    const { state } = await read('companies');
    const again = await read('companies', {}, { state, fullRefresh: true });
    expect(again.records).toHaveLength(4);
    expect(requestsTo('/crm/v3/objects/companies/search', 'POST')).toHaveLength(0);
  });

  it('uses a configured property list plus what the mapping needs, without the properties API', async () => {
    await read('deals', { properties: { deals: ['dealname', 'hs_priority'] } });
    expect(requestsTo('/crm/v3/properties/deals')).toHaveLength(0);
    const asked = requestsTo('/crm/v3/objects/deals')[0].query.getAll('properties');
    expect(asked).toEqual(expect.arrayContaining(['dealname', 'hs_priority', 'dealstage', 'amount', 'closedate', 'deal_currency_code']));
  });

  it('splits a very long property list over several GETs and merges the pages by id', async () => {
    const extra = Array.from({ length: 700 }, (_, i) => `custom_property_with_a_long_name_${String(i).padStart(4, '0')}`);
    await restart({ maxUrlLength: 16_384 });
    fake.data.properties.companies.push(...extra.map((name) => ({ name, label: name, type: 'string', fieldType: 'text' })));
    fake.upsert('companies', { id: '201', properties: { [extra[699]]: 'last chunk value', [extra[0]]: 'first chunk value' } }, new Date('2025-05-01T00:00:00Z'));
    const { records } = await read('companies', { read_archived: false });
    expect(records.find((r) => r.id === '201')!.properties).toMatchObject({ [extra[0]]: 'first chunk value', [extra[699]]: 'last chunk value', name: 'Acme Corp' });
    const gets = requestsTo('/crm/v3/objects/companies');
    expect(gets.length).toBeGreaterThan(1);
    expect(gets.every((r) => r.query.getAll('properties').join('&properties=').length <= MAX_PROPERTIES_QUERY)).toBe(true);
    expect(fake.requests.some((r) => r.path === '/crm/v3/objects/companies' && r.query.getAll('properties').length === 0)).toBe(false);
  });
});

describe('CRM streams: incremental', () => {
  it('searches for records modified since the cursor, and lists archived records to learn of deletions', async () => {
    const first = await read('contacts', { lookback: 'PT0S' });
    fake.upsert('contacts', { id: '105', properties: { email: 'ewa.new@example.com' } }, new Date(Date.now() + 1000));
    fake.upsert('contacts', { id: '150', properties: { email: 'new.person@example.com', firstname: 'New' } }, new Date(Date.now() + 2000));
    fake.archive('contacts', '110');
    const second = await read('contacts', { lookback: 'PT0S' }, { state: first.state });
    expect(second.records.map((r) => [r.id, r.archived])).toEqual([
      ['105', false],
      ['150', false],
      ['110', true],
    ]);
    expect(second.records[0].properties.email).toBe('ewa.new@example.com');
    const [search] = requestsTo('/crm/v3/objects/contacts/search', 'POST');
    expect(search.body).toMatchObject({
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(Date.parse(first.state.cursor as string)) }] }],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
    });
    expect(Date.parse(second.state.cursor as string)).toBeGreaterThanOrEqual(Date.parse(fake.data.objects.contacts.find((c) => c.id === '150')!.updatedAt));
    expect(second.state.pass).toBeUndefined();

    const third = await read('contacts', { lookback: 'PT0S' }, { state: second.state });
    expect(third.records.map((r) => r.id)).toEqual(['150']); // the record at the cursor instant is read again
  });

  it('starts `lookback` before the cursor, so records indexed late are still caught', async () => {
    const state = { cursor: '2025-02-10T18:00:00.000Z', archived_cursor: '2030-01-01T00:00:00.000Z' };
    const { records } = await read('contacts', { lookback: 'P1D' }, { state });
    const [search] = requestsTo('/crm/v3/objects/contacts/search', 'POST');
    expect((search.body as { filterGroups: { filters: { value: string }[] }[] }).filterGroups[0].filters[0].value).toBe(String(Date.parse('2025-02-09T18:00:00Z')));
    expect(ids(records)).toContain('106'); // modified 2025-02-10T12:00: before the cursor, inside the lookback
    expect(ids(records)).not.toContain('101'); // modified 2025-02-05
  });

  it('reads everything past a search ceiling by restarting from the last modified date (50 records, ceiling 20)', async () => {
    await restart({ searchCeiling: 20 });
    const base = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 50; i++) fake.upsert('contacts', { id: String(1000 + i), properties: { email: `bulk${i}@example.com` } }, new Date(base + i * 1000));
    const { records } = await read('contacts', { page_size: 10, lookback: 'PT0S' }, { state: { cursor: '2025-12-31T00:00:00.000Z', archived_cursor: '2030-01-01T00:00:00.000Z' } });
    expect(new Set(records.map((r) => r.id)).size).toBe(50);
    const searches = requestsTo('/crm/v3/objects/contacts/search', 'POST');
    expect(searches.every((r) => (r.body as { after?: string }).after === undefined)).toBe(true);
    expect(fake.requests.filter((r) => r.path.endsWith('/search')).length).toBe(searches.length);
    // The fake enforces the ceiling: paging one query past it is a 400, as HubSpot answers.
    const naive = await fetch(`${fake.url}/crm/v3/objects/contacts/search`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ limit: 10, after: '20' }) });
    expect(naive.status).toBe(400);
  });

  it('walks a block of records modified in the same millisecond by id, past the ceiling too', async () => {
    await restart({ searchCeiling: 20 });
    const same = new Date('2026-02-01T00:00:00Z');
    for (let i = 0; i < 35; i++) fake.upsert('contacts', { id: String(2000 + i) }, same);
    fake.upsert('contacts', { id: '3000' }, new Date('2026-02-02T00:00:00Z'));
    const { records, batches } = await read('contacts', { page_size: 10, lookback: 'PT0S', read_archived: false }, { state: { cursor: '2026-01-31T00:00:00.000Z' } });
    expect(new Set(records.map((r) => r.id)).size).toBe(36);
    expect(records.length).toBe(36); // nothing yielded twice
    expect(records.at(-1)!.id).toBe('3000');
    expect(batches.at(-1)!.state).toEqual({ cursor: '2026-02-02T00:00:00.000Z' });
    const filters = (r: { body: unknown }) => (r.body as { filterGroups: { filters: { propertyName: string; operator: string }[] }[] }).filterGroups[0].filters;
    const byId = requestsTo('/crm/v3/objects/contacts/search', 'POST').filter((r) => filters(r).some((f) => f.propertyName === 'hs_object_id' && f.operator === 'GT'));
    expect(byId.length).toBeGreaterThan(0);
  });

  it('gives deals their contacts: from the list in full runs, from the associations API in searches', async () => {
    const first = await read('deals', { lookback: 'PT0S' });
    expect(first.records.find((r) => r.id === '301')!.associations).toEqual({ contacts: ['101', '102'] });
    expect(first.records.find((r) => r.id === '305')!.associations).toBeUndefined();
    fake.upsert('deals', { id: '303', properties: { dealstage: 'closedwon', closedate: '2026-01-05T10:00:00.000Z' } }, new Date(Date.now() + 1000));
    fake.upsert('deals', { id: '305', properties: { amount: '130' } }, new Date(Date.now() + 2000));
    const second = await read('deals', { lookback: 'PT0S' }, { state: first.state });
    const changed = second.records.filter((r) => !r.archived);
    expect(changed.map((r) => [r.id, r.associations])).toEqual([
      ['303', { contacts: ['104'] }],
      ['305', { contacts: [] }],
    ]);
    const batch = requestsTo('/crm/v4/associations/deals/contacts/batch/read', 'POST');
    expect(batch[0].body).toEqual({ inputs: [{ id: '303' }, { id: '305' }] });
  });

  it('follows association paging when a record has more contacts than one page holds', async () => {
    await restart({ associationPageSize: 2 });
    fake.upsert('deals', { id: '301', associations: { contacts: ['101', '102', '107', '108', '109'] } });
    const first = await read('deals', { read_archived: false, lookback: 'PT0S' });
    expect(first.records.find((r) => r.id === '301')!.associations!.contacts.sort()).toEqual(['101', '102', '107', '108', '109']);
    fake.upsert('deals', { id: '301', properties: { amount: '1600' } });
    const second = await read('deals', { read_archived: false, lookback: 'PT0S' }, { state: first.state });
    expect(second.records[0].associations!.contacts.sort()).toEqual(['101', '102', '107', '108', '109']);
  });
});

describe('rate limits, server errors and credentials', () => {
  it('waits as long as Retry-After says on a 429, then carries on (our retry policy, not the library)', async () => {
    const errors = vi.spyOn(console, 'error');
    // A Client built elsewhere in the process installs the library's retry decorator and limiter
    // for every Client; our calls must not go through them.
    const other = new Client({ accessToken: 'other', numberOfApiCallRetries: 3, limiterOptions: { maxConcurrent: 1, minTime: 5_000 } });
    expect(other.config.numberOfApiCallRetries).toBe(3);
    fake.failNext({ path: '/crm/v3/objects/contacts', status: 429, headers: { 'retry-after': '2' }, body: rateLimitBody('TEN_SECONDLY_ROLLING') });
    const started = Date.now();
    const { ctx, records } = await read('contacts', { read_archived: false });
    expect(records).toHaveLength(12);
    expect(ctx.sleeps).toEqual([2000]);
    expect(requestsTo('/crm/v3/objects/contacts')).toHaveLength(2);
    expect(errors).not.toHaveBeenCalled();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('waits out HubSpot rolling windows that come without Retry-After', async () => {
    fake.failNext({ path: '/crm/v3/objects/calls', status: 429, headers: { 'x-hubspot-ratelimit-interval-milliseconds': '10000', 'x-hubspot-ratelimit-remaining': '0' }, body: rateLimitBody('TEN_SECONDLY_ROLLING') });
    fake.failNext({ path: '/crm/v3/objects/calls/search', status: 429, body: rateLimitBody('SECONDLY') });
    const first = await read('calls', { read_archived: false });
    expect(first.ctx.sleeps).toEqual([10_000]);
    const second = await read('calls', { read_archived: false }, { state: first.state });
    expect(second.ctx.sleeps).toEqual([1000]);
  });

  it('stops with a QuotaError naming the daily limit and when it resets', async () => {
    fake.failNext({ status: 429, body: rateLimitBody('DAILY'), headers: { 'x-hubspot-ratelimit-daily': '250000', 'x-hubspot-ratelimit-daily-remaining': '0' } });
    const error = await read('contacts').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuotaError);
    const q = error as QuotaError;
    expect(q.quota).toBe('HubSpot daily API limit (250000 requests)');
    expect(q.resetsAt!.toISOString()).toBe(nextMidnight(new Date()).toISOString());
    expect(q.format()).toMatch(/^crm\/contacts: .*You have reached your daily limit.*estimated as UTC/);
    expect(fake.requests).toHaveLength(1);

    fake.failNext({ status: 429, body: rateLimitBody('DAILY') });
    const inZone = (await read('contacts', { account_time_zone: 'America/New_York' }).catch((e: unknown) => e)) as QuotaError;
    expect(inZone.resetsAt!.toISOString()).toBe(nextMidnight(new Date(), 'America/New_York').toISOString());
  });

  it('computes the next midnight in the account time zone, across DST', () => {
    expect(nextMidnight(new Date('2025-01-15T12:00:00Z')).toISOString()).toBe('2025-01-16T00:00:00.000Z');
    expect(nextMidnight(new Date('2025-01-15T12:00:00Z'), 'America/New_York').toISOString()).toBe('2025-01-16T05:00:00.000Z');
    expect(nextMidnight(new Date('2025-07-15T03:00:00Z'), 'America/New_York').toISOString()).toBe('2025-07-15T04:00:00.000Z');
    expect(nextMidnight(new Date('2025-03-29T23:30:00Z'), 'Europe/Warsaw').toISOString()).toBe('2025-03-30T22:00:00.000Z');
  });

  it('retries a 5xx and carries on; a 5xx that persists fails the stream as transient', async () => {
    fake.failNext({ path: '/crm/v3/objects/meetings', status: 502, body: '<html>Bad gateway</html>', headers: { 'content-type': 'text/html' } });
    const { ctx, records } = await read('meetings', { read_archived: false });
    expect(records).toHaveLength(2);
    expect(ctx.sleeps).toHaveLength(1);

    fake.failNext({ path: '/crm/v3/objects/meetings', status: 500, body: { status: 'error', message: 'internal error', category: 'INTERNAL_ERROR' }, times: 10 });
    const error = (await read('meetings').catch((e: unknown) => e)) as RunError;
    expect(error).toBeInstanceOf(RunError);
    expect(error.transient).toBe(true);
    expect(error.format()).toMatch(/^crm\/meetings: listing meetings failed \(500\): internal error/);
  });

  it('turns a 401 into an AuthError that names the source and what to check', async () => {
    const error = (await read('contacts', { access_token: 'pat-na1-revoked' }).catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    const text = error.format();
    expect(text).toMatch(/^crm\/contacts: HubSpot rejected the credentials while reading the contacts property list \(401\): Authentication credentials not found/);
    expect(text).toMatch(/hint: check access_token: a private app token/);
    expect(text).not.toContain('pat-na1-revoked');
  });

  it('names the missing scopes on a 403', async () => {
    fake.failNext({
      path: '/crm/v3/objects/deals',
      status: 403,
      body: { status: 'error', message: "This app hasn't been granted all required scopes to make this call.", category: 'MISSING_SCOPES', errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: ['crm.objects.deals.read'] } }] },
    });
    const error = (await read('deals').catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.format()).toMatch(/hint: the private app lacks a scope this stream needs \(crm\.objects\.deals\.read\)/);
  });

  it('exchanges the OAuth refresh token at token_url and sends the access token it gets', async () => {
    const oauth = { client_id: 'test-client-id', client_secret: 'test-client-secret', refresh_token: 'test-refresh-token', token_url: `${fake.url}/oauth/v1/token` };
    const { records } = await read('contacts', oauth, { secrets: ['test-client-secret', 'test-refresh-token'] });
    expect(records).toHaveLength(13);
    const [exchange] = requestsTo('/oauth/v1/token', 'POST');
    expect(Object.fromEntries(exchange.body as URLSearchParams)).toEqual({ grant_type: 'refresh_token', client_id: 'test-client-id', client_secret: 'test-client-secret', refresh_token: 'test-refresh-token' });
    expect(requestsTo('/oauth/v1/token', 'POST')).toHaveLength(1);
    const api = fake.requests.filter((r) => r.path.startsWith('/crm/'));
    expect(api.every((r) => r.headers.authorization === `Bearer ${fake.issuedTokens[0]}`)).toBe(true);

    const bad = (await read('contacts', { ...oauth, refresh_token: 'revoked' }).catch((e: unknown) => e)) as AuthError;
    expect(bad).toBeInstanceOf(AuthError);
    expect(bad.format()).toMatch(/^crm\/contacts: HubSpot refused the OAuth refresh token: .*missing or unknown refresh token\n {2}hint: check client_id, client_secret and refresh_token/);
  });

  it('refreshes an OAuth token before it expires', async () => {
    await restart({ tokenLifetimeSeconds: 30 });
    const oauth = { client_id: 'test-client-id', client_secret: 'test-client-secret', refresh_token: 'test-refresh-token', token_url: `${fake.url}/oauth/v1/token` };
    await read('companies', oauth);
    expect(requestsTo('/oauth/v1/token', 'POST').length).toBeGreaterThan(1);
  });

  it('check() proves the credentials with one small call', async () => {
    const ok = context('contacts');
    await connector.check!(ok);
    expect(fake.requests.at(-1)!.query.get('limit')).toBe('1');
    await expect(connector.check!(context('contacts', { access_token: 'nope' }))).rejects.toBeInstanceOf(AuthError);
  });
});

describe('record schema', () => {
  it('rejects a malformed record (the engine quarantines it) while the good ones pass', async () => {
    fake.upsert('contacts', { id: '160', properties: { email: 12345 } }, new Date('2025-05-05T00:00:00Z'));
    const { records } = await read('contacts', { read_archived: false });
    const validate = createRecordValidator(stream('contacts').schema);
    const verdicts = records.map((r) => [r.id, validate(r)] as const);
    expect(verdicts.filter(([, v]) => v !== undefined)).toEqual([['160', '/properties/email: must be string or null (got integer)']]);
    expect(verdicts.filter(([, v]) => v === undefined)).toHaveLength(12);
    const forms = createRecordValidator(stream('form_submissions').schema);
    expect(forms({ conversionId: 'x', formId: 'f', formName: null, submittedAt: '2025-01-01', pageUrl: null, values: [] })).toBe('/submittedAt: must be integer (got string)');
  });
});

describe('form submissions', () => {
  it('reads every form newest first across pages, then only what is new', async () => {
    for (let i = 0; i < 60; i++) {
      fake.addSubmission(FORM, { conversionId: `bulk-${i}`, submittedAt: Date.parse('2025-01-01T00:00:00Z') + i * 60_000, pageUrl: null, values: [{ name: 'email', value: `b${i}@example.com` }] });
    }
    const first = await read<FormSubmissionRecord>('form_submissions', { lookback: 'PT0S' });
    expect(first.records).toHaveLength(65);
    expect(requestsTo(`/form-integrations/v1/submissions/forms/${FORM}`).map((r) => [r.query.get('limit'), r.query.get('after')])).toEqual([
      ['50', null],
      ['50', '50'],
    ]);
    expect(first.batches[0].state).toMatchObject({ current: { form_id: FORM, after: '50' } });
    expect(first.state).toEqual({ forms: { [FORM]: Date.parse('2025-03-07T11:00:00Z'), '0b2cd1aa-2222-4a1a-9a9a-000000000002': Date.parse('2025-04-02T19:00:00Z') } });

    fake.addSubmission(FORM, { conversionId: 'late-1', submittedAt: Date.parse('2025-05-01T00:00:00Z'), pageUrl: 'https://www.example.com/x', values: [{ name: 'email', value: 'late@example.com' }] });
    const second = await read<FormSubmissionRecord>('form_submissions', { lookback: 'PT0S' }, { state: first.state });
    // The newest submission already read of each form is read again (the threshold is inclusive:
    // another one may share its millisecond); upserts by conversionId make that harmless.
    expect(second.records.map((r) => r.conversionId)).toEqual(['late-1', 'c0a8f9e2-0003-4e5b-9e01-000000000003', 'c0a8f9e2-0005-4e5b-9e01-000000000005']);
    expect((second.state.forms as Record<string, number>)[FORM]).toBe(Date.parse('2025-05-01T00:00:00Z'));
  });

  it('skips a form deleted between listing the forms and reading it', async () => {
    fake.failNext({ path: `/form-integrations/v1/submissions/forms/${FORM}`, status: 404, body: { status: 'error', message: 'Form not found', category: 'OBJECT_NOT_FOUND' } });
    const { records, ctx } = await read<FormSubmissionRecord>('form_submissions');
    expect(records.map((r) => r.formId)).toEqual(['0b2cd1aa-2222-4a1a-9a9a-000000000002', '0b2cd1aa-2222-4a1a-9a9a-000000000002']);
    expect(ctx.logs.some((l) => l.level === 'warn' && l.msg.includes('is gone'))).toBe(true);
  });

  it('a first run honours the pipeline start date', async () => {
    const { records } = await read<FormSubmissionRecord>('form_submissions', {}, { startDate: '2025-03-01' });
    expect(records.map((r) => r.conversionId).sort()).toEqual(['c0a8f9e2-0003-4e5b-9e01-000000000003', 'c0a8f9e2-0005-4e5b-9e01-000000000005']);
  });
});

describe('mapping to canonical rows', () => {
  it('contacts link email, phones, the HubSpot id and the configured GA client id; archived ones map to nothing', async () => {
    const { records } = await read('contacts');
    const map = stream('contacts').map!;
    const ada = records.find((r) => r.id === '101')!;
    expect(map(ada, mapCtx({ ga_client_id_property: 'ga_client_id' }))).toEqual({
      links: [
        {
          identifiers: [
            { type: 'hubspot_contact_id', value: '101' },
            { type: 'email', value: 'ada.lovelace@example.com' },
            { type: 'phone', value: '+48 600 100 000' },
            { type: 'ga_client_id', value: '1000000.1700000000' },
          ],
          observed_at: ada.updatedAt,
        },
      ],
    });
    expect(map(ada, mapCtx()).links![0].identifiers.map((i) => i.type)).toEqual(['hubspot_contact_id', 'email', 'phone']);
    expect(map(records.find((r) => r.id === '102')!, mapCtx()).links![0].identifiers).toContainEqual({ type: 'phone', value: '+1 415 555 0001' });
    expect(map(records.find((r) => r.id === '113')!, mapCtx())).toEqual({});
  });

  it('won deals become one deal_won conversion per contact; other stages are kind other', async () => {
    const { records } = await read('deals');
    const map = (id: string, config: Partial<HubSpotConfig> = {}) => stream('deals').map!(records.find((r) => r.id === id)!, mapCtx(config)).events as CanonicalEvent[];
    const won = map('301', { currency: 'USD' });
    expect(won.map((e) => [e.id, e.kind, e.name, e.value, e.currency, e.occurred_at, e.identifiers])).toEqual([
      ['301:101', 'conversion', 'deal_won', 1500.5, 'USD', '2025-03-15T16:00:00.000Z', [{ type: 'hubspot_contact_id', value: '101' }]],
      ['301:102', 'conversion', 'deal_won', 1500.5, 'USD', '2025-03-15T16:00:00.000Z', [{ type: 'hubspot_contact_id', value: '102' }]],
    ]);
    expect(won[0].properties).toMatchObject({ deal_id: '301', stage: 'closedwon', contacts_on_deal: 2 });
    expect(map('302', { currency: 'USD' })[0]).toMatchObject({ id: '302:103', currency: 'EUR', value: 9000 });
    expect(map('301')[0].currency).toBeNull();
    expect(map('303')[0]).toMatchObject({ id: '303:104', kind: 'other', name: 'deal_open', value: null, occurred_at: '2025-02-10T10:00:00.000Z' });
    expect(map('304')[0]).toMatchObject({ kind: 'other', name: 'deal_lost', occurred_at: '2025-04-01T09:00:00.000Z' });
    expect(map('305')).toEqual([expect.objectContaining({ id: '305', kind: 'conversion', value: 120, identifiers: [] })]);
    expect(map('303', { won_stages: ['appointmentscheduled'] })[0]).toMatchObject({ kind: 'conversion', name: 'deal_won', value: 4200 });
    expect(stream('deals').map!(records.find((r) => r.id === '306')!, mapCtx())).toEqual({});
  });

  it('calls, emails and meetings become touches per associated contact on their sales channels', async () => {
    const calls = (await read('calls')).records;
    const emails = (await read('emails')).records;
    const meetings = (await read('meetings')).records;
    const events = (name: string, r: CrmRecord) => (stream(name).map!(r, mapCtx()).events ?? []) as CanonicalEvent[];
    expect(events('calls', calls.find((r) => r.id === '402')!).map((e) => [e.id, e.kind, e.name, e.channel, e.occurred_at, e.identifiers])).toEqual([
      ['402:103', 'touch', 'call', 'Sales Call', '2025-02-20T09:00:00.000Z', [{ type: 'hubspot_contact_id', value: '103' }]],
      ['402:104', 'touch', 'call', 'Sales Call', '2025-02-20T09:00:00.000Z', [{ type: 'hubspot_contact_id', value: '104' }]],
    ]);
    expect(events('calls', calls.find((r) => r.id === '401')!)[0].properties).toEqual({ call_id: '401', title: 'Discovery call', direction: 'OUTBOUND', status: 'COMPLETED', disposition: 'f240bbac-87c9-4f6e-bf70-924b57d47db7', duration_ms: '1830000' });
    expect(events('emails', emails.find((r) => r.id === '502')!)[0]).toMatchObject({ id: '502:102', name: 'email', channel: 'Sales Email', properties: { direction: 'INCOMING_EMAIL' } });
    expect(events('emails', emails.find((r) => r.id === '503')!)).toEqual([]);
    expect(events('meetings', meetings.find((r) => r.id === '601')!).map((e) => [e.id, e.channel, e.occurred_at])).toEqual([
      ['601:101', 'Meeting', '2025-03-03T13:00:00.000Z'],
      ['601:102', 'Meeting', '2025-03-03T13:00:00.000Z'],
    ]);
  });

  it('form submissions become form_submit touches with the email and the click ids and UTMs of the page', async () => {
    const { records } = await read<FormSubmissionRecord>('form_submissions');
    const map = (id: string) => stream('form_submissions').map!(records.find((r) => r.conversionId === id)!, mapCtx()).events![0];
    expect(map('c0a8f9e2-0001-4e5b-9e01-000000000001')).toEqual({
      id: 'c0a8f9e2-0001-4e5b-9e01-000000000001',
      occurred_at: '2025-02-01T10:00:00.000Z',
      kind: 'touch',
      name: 'form_submit',
      source_medium: 'google / cpc',
      campaign: 'spring_sale',
      campaign_id: 'cmp-42',
      identifiers: [
        { type: 'email', value: 'ada.lovelace@example.com' },
        { type: 'gclid', value: 'Cj0KCQ-test-gclid' },
      ],
      properties: { form_id: FORM, form_name: 'Contact us', page_url: 'https://www.example.com/contact?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&utm_id=cmp-42&gclid=Cj0KCQ-test-gclid' },
    });
    expect(map('c0a8f9e2-0002-4e5b-9e01-000000000002').identifiers).toEqual([{ type: 'email', value: 'chloe.zhao@example.com' }]);
    expect(map('c0a8f9e2-0003-4e5b-9e01-000000000003').identifiers).toContainEqual({ type: 'fbclid', value: 'IwAR-test-fbclid' });
    expect(map('c0a8f9e2-0005-4e5b-9e01-000000000005')).toMatchObject({ source_medium: null, properties: { page_url: null } });
  });
});

describe('config', () => {
  it('pipelines/hubspot.yaml validates against the config schema', async () => {
    const file = join(here, '../../pipelines/hubspot.yaml');
    const loaded = loadPipeline(file, { env: { HUBSPOT_TOKEN: 'pat-na1-from-env' }, cwd: here });
    expect(validateSourceConfigs(loaded, (name) => (name === 'hubspot' ? schema : undefined), ['hubspot'])).toEqual([]);
    expect(loaded.config.sources[0].config).toMatchObject({ access_token: 'pat-na1-from-env' });
    expect(await readFile(file, 'utf8')).toContain('${env:HUBSPOT_TOKEN}');
  });

  it('wants exactly one way to authenticate', () => {
    const loaded = (config: JsonObject) => ({ file: 'p.yaml', dir: here, config: { version: 1, name: 'p', sources: [{ name: 'crm', connector: 'hubspot', config }] }, secrets: [], locate: () => undefined }) as any;
    const problems = (config: JsonObject) => validateSourceConfigs(loaded(config), () => schema, ['hubspot']);
    expect(problems({ access_token: 'x' })).toEqual([]);
    expect(problems({ client_id: 'a', client_secret: 'b', refresh_token: 'c' })).toEqual([]);
    expect(problems({})).not.toEqual([]);
    expect(problems({ access_token: 'x', client_id: 'a' })).not.toEqual([]);
    expect(problems({ access_token: 'x', client_id: 'a', client_secret: 'b', refresh_token: 'c' })).not.toEqual([]);
  });
});
