// pipelines/acme-b2b.yaml — HubSpot, the GA4 BigQuery export, Google Ads and Meta Ads in one pipeline —
// end to end against the four connectors' local fakes, on both engines: the committed file is read
// with `yaml`, only its vendor URLs are pointed at the fakes, the secrets the fakes accept are set in
// the environment, and the result runs through the real engine (first and third run) and the real
// CLI (second run, --json). Asserted: every stream done and nothing quarantined; raw tables per
// stream; canonical events (GA4 touches and conversions, HubSpot deal_won and sales touches, ad
// clicks), identifier observations that join the sources, spend per ad source with its channels and
// currency; a re-run that reads only what the connectors re-read by design (lookbacks) and adds no
// rows; a run after changes in every source that reads just those; and secrets in no output, log or
// stored table. Only extract/load output is asserted: later stages are other tests' business, but
// the run must succeed as a whole.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadPipeline } from '../core/config/pipeline.ts';
import { runPipeline } from '../core/engine/run.ts';
import type { RunResult } from '../core/engine/run.ts';
import { createLogger } from '../core/sdk/log.ts';
import type { JsonObject } from '../core/sdk/types.ts';
import { openStore, rawTableName } from '../core/store/index.ts';
import type { Store } from '../core/store/types.ts';
import { describeEachEngine } from '../core/store/test-support.ts';
import { fixtures as ga4Fixtures, startFake as startBigQueryFake } from '../connectors/ga4-bigquery/fake/server.ts';
import type { BigQueryFake } from '../connectors/ga4-bigquery/fake/server.ts';
import { FAKE_CREDENTIALS as GOOGLE_ADS_CREDENTIALS, fixtures as googleAdsFixtures, startFake as startGoogleAdsFake } from '../connectors/google-ads/fake/index.ts';
import type { GoogleAdsFake } from '../connectors/google-ads/fake/index.ts';
import { fixtures as hubspotFixtures, startFake as startHubSpotFake } from '../connectors/hubspot/fake/index.ts';
import type { HubSpotFake } from '../connectors/hubspot/fake/index.ts';
import { FAKE_ACCESS_TOKEN as META_TOKEN, fixtures as metaFixtures, startFake as startMetaFake } from '../connectors/meta-ads/fake/index.ts';
import type { MetaFake } from '../connectors/meta-ads/fake/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'core/cli/bin.ts');
const PIPELINE = join(ROOT, 'pipelines/acme-b2b.yaml');
const committed = parseYaml(readFileSync(PIPELINE, 'utf8')) as PipelineYaml;

interface PipelineYaml {
  name: string;
  settings?: { startDate?: string };
  sources: { name: string; connector: string; config: Record<string, any>; streams?: string[] }[];
}

const CRM_OBJECTS = ['contacts', 'companies', 'deals', 'calls', 'emails', 'meetings'] as const;
const STREAMS = [...CRM_OBJECTS.map((o) => `crm/${o}`), 'crm/form_submissions', 'web/events', 'google_ads/campaign_daily', 'google_ads/click_view', 'meta_ads/campaign_insights'];

// ---------------------------------------------------------------------------------------------------
// The fakes, and the pipeline pointed at them

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
const today = () => new Date().toISOString().slice(0, 10);

/**
 * The ad fakes' fixtures are a fixed fortnight (March 2026); both connectors read the last 90 days by
 * default and click_view cannot go further back. Every date in the rows moves so the last fixture day
 * is yesterday, as in a daily run.
 */
function recent<T>(rows: T[], dateOf: (row: T) => string): T[] {
  const last = rows.map(dateOf).sort().at(-1)!;
  const shift = Math.round((Date.parse(addDays(today(), -1)) - Date.parse(last)) / 86_400_000);
  return JSON.parse(JSON.stringify(rows).replace(/\b\d{4}-\d{2}-\d{2}\b/g, (d) => addDays(d, shift))) as T[];
}

// The four fakes' fixtures were written separately and share no identifier. As Acme's tracking would,
// two HubSpot contacts carry the GA client ids of two GA4 visitors (the paid-search one and the one
// who asked for a demo), and the first Google Ads click is the GCLID that GA4 session landed with.
const PAID_VISITOR = { client_id: '1829374650.1715331500', gclid: 'Cj0KCQjw-abc123' };
const DEMO_VISITOR = { client_id: '5647382910.1715335000' };

function linkedCrm() {
  const data = hubspotFixtures();
  data.objects.contacts.find((c) => c.id === '101')!.properties.ga_client_id = PAID_VISITOR.client_id;
  data.objects.contacts.find((c) => c.id === '104')!.properties.ga_client_id = DEMO_VISITOR.client_id;
  return data;
}

function linkedClicks() {
  const rows = structuredClone(googleAdsFixtures.clickView);
  rows[0].clickView.gclid = PAID_VISITOR.gclid;
  rows[0].clickView.resourceName = rows[0].clickView.resourceName.replace(/~.*$/, `~${PAID_VISITOR.gclid}`);
  return rows;
}

interface Fakes {
  hubspot: HubSpotFake;
  bigquery: BigQueryFake;
  googleAds: GoogleAdsFake;
  meta: MetaFake;
  close(): Promise<void>;
}

async function startFakes(): Promise<Fakes> {
  const web = committed.sources.find((s) => s.name === 'web')!.config;
  const [hubspot, bigquery, googleAds, meta] = await Promise.all([
    startHubSpotFake({ fixtures: linkedCrm() }),
    startBigQueryFake({ project: web.project_id, dataset: `analytics_${web.property_id}` }),
    startGoogleAdsFake({ campaignRows: recent(googleAdsFixtures.campaignDaily, (r) => r.segments.date), clickRows: recent(linkedClicks(), (r) => r.segments.date) }),
    startMetaFake({ rows: recent(metaFixtures.insights, (r) => String(r.date_start)) }),
  ]);
  return { hubspot, bigquery, googleAds, meta, close: async () => void (await Promise.all([hubspot.close(), bigquery.close(), googleAds.close(), meta.close()])) };
}

/** The committed pipeline with only its vendor URLs pointed at the fakes, written into `dir`. */
function pipelineFor(fakes: Fakes, dir: string): string {
  const p = structuredClone(committed);
  const config = (name: string) => p.sources.find((s) => s.name === name)!.config;
  Object.assign(config('crm'), { base_url: fakes.hubspot.url, token_url: `${fakes.hubspot.url}/oauth/v1/token` });
  Object.assign(config('web'), { bigquery_url: fakes.bigquery.url });
  Object.assign(config('web').credentials, { token_url: fakes.bigquery.tokenUrl });
  Object.assign(config('google_ads'), { base_url: fakes.googleAds.url, token_url: fakes.googleAds.tokenUrl });
  Object.assign(config('meta_ads'), { base_url: fakes.meta.url });
  const file = join(dir, 'acme-b2b.yaml');
  writeFileSync(file, stringifyYaml(p));
  return file;
}

/** The secrets the fakes accept, under the names the pipeline reads. */
function secretsFor(fakes: Fakes): Record<string, string> {
  return {
    HUBSPOT_TOKEN: hubspotFixtures().credentials.accessTokens[0],
    GOOGLE_APPLICATION_CREDENTIALS_JSON: fakes.bigquery.oauth.serviceAccountKeyJson,
    GOOGLE_ADS_DEVELOPER_TOKEN: GOOGLE_ADS_CREDENTIALS.developer_token,
    GOOGLE_ADS_CLIENT_ID: GOOGLE_ADS_CREDENTIALS.client_id,
    GOOGLE_ADS_CLIENT_SECRET: GOOGLE_ADS_CREDENTIALS.client_secret,
    GOOGLE_ADS_REFRESH_TOKEN: GOOGLE_ADS_CREDENTIALS.refresh_token,
    META_ACCESS_TOKEN: META_TOKEN,
  };
}

/** Strings that must never be printed or stored: each credential, raw and JSON-escaped, and the key's parts. */
function needles(fakes: Fakes): string[] {
  const s = secretsFor(fakes);
  const key = fakes.bigquery.oauth.serviceAccountKey;
  const pem = key.private_key.split('\n').filter((l) => l.length > 40);
  const values = [s.HUBSPOT_TOKEN, s.GOOGLE_APPLICATION_CREDENTIALS_JSON, key.private_key, key.private_key_id, pem[Math.floor(pem.length / 2)], s.GOOGLE_ADS_DEVELOPER_TOKEN, s.GOOGLE_ADS_CLIENT_SECRET, s.GOOGLE_ADS_REFRESH_TOKEN, s.META_ACCESS_TOKEN];
  return [...new Set(values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))];
}

function leaked(text: string, fakes: Fakes): string[] {
  return needles(fakes).filter((n) => text.includes(n)).map((n) => `${n.slice(0, 12)}…`);
}

// ---------------------------------------------------------------------------------------------------
// Running it

function cli(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (!('TOUCHPOINT_DATABASE_URL' in options.env)) delete env.TOUCHPOINT_DATABASE_URL;
  // Not spawnSync: the fakes live in this process and must keep answering while the CLI runs.
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function withStore<T>(url: string, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ url });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

const byStream = (result: Pick<RunResult, 'streams'>) => Object.fromEntries(result.streams.map((s) => [`${s.source}/${s.stream}`, s.records]));

/** Row counts of the tables extract/load write (not the later stages'). */
async function loadedCounts(url: string): Promise<Record<string, number>> {
  return withStore(url, async (store) => {
    const all = await store.counts();
    return Object.fromEntries(Object.entries(all).filter(([t]) => t.startsWith('raw_') || ['events', 'identifier_observations', 'spend', 'quarantine'].includes(t)));
  });
}

async function grouped(store: Store, table: string, columns: string[], extra: Record<string, string> = {}): Promise<Record<string, any>[]> {
  const q = store.knex(table).select(columns).count({ n: '*' }).groupBy(columns).orderBy(columns);
  for (const [alias, expr] of Object.entries(extra)) q.select(store.knex.raw(`${expr} as ??`, [alias]));
  const rows = (await q) as Record<string, unknown>[];
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' || (k !== 'source' && typeof v === 'string' && /^\d+(\.\d+)?$/.test(v)) ? Number(v) : v])));
}

/** Every row of every table in the store as text (the secrets scan). */
async function dumpStore(store: Store): Promise<string> {
  const tables = (await store.knex('information_schema.tables').where('table_schema', store.knex.raw('current_schema()')).pluck('table_name')) as string[];
  let text = '';
  for (const t of tables) text += JSON.stringify(await store.knex(t).select('*'), (_, v) => (typeof v === 'bigint' ? String(v) : v));
  return text;
}

// ---------------------------------------------------------------------------------------------------
// What the fixtures hold, hence what a first run must load

const hs = linkedCrm();
const startDate = Date.parse(committed.settings?.startDate ?? '1970-01-01');
const ga4Rows = Object.values(ga4Fixtures.tables).flat();
const firstRun: Record<string, number> = {
  ...Object.fromEntries(CRM_OBJECTS.map((o) => [`crm/${o}`, hs.objects[o].length])), // active, then archived
  'crm/form_submissions': Object.values(hs.submissions).flat().filter((s) => s.submittedAt >= startDate).length,
  'web/events': ga4Rows.length,
  'google_ads/campaign_daily': googleAdsFixtures.campaignDaily.length,
  'google_ads/click_view': googleAdsFixtures.clickView.length,
  'meta_ads/campaign_insights': metaFixtures.insights.length,
};
const wonDeals = hs.objects.deals.filter((d) => !d.archived && d.properties.dealstage === 'closedwon');
const googleCost = googleAdsFixtures.campaignDaily.reduce((sum, r) => sum + Number(r.metrics.costMicros) / 1e6, 0);
const metaCost = metaFixtures.insights.reduce((sum, r) => sum + Number(r.spend), 0);

describe('pipelines/acme-b2b.yaml as committed', () => {
  it('names all four sources with vendor URLs left at their defaults and every secret from the environment', () => {
    expect(committed.sources.map((s) => [s.name, s.connector])).toEqual([
      ['crm', 'hubspot'],
      ['web', 'ga4-bigquery'],
      ['google_ads', 'google-ads'],
      ['meta_ads', 'meta-ads'],
    ]);
    const text = JSON.stringify(committed);
    expect(text).not.toMatch(/base_url|token_url|bigquery_url|127\.0\.0\.1|localhost/);
    const [crm, web, ads, meta] = committed.sources.map((s) => s.config);
    expect(crm.access_token).toBe('${env:HUBSPOT_TOKEN}');
    expect(web.credentials).toEqual({ service_account_key: '${env:GOOGLE_APPLICATION_CREDENTIALS_JSON}' });
    for (const k of ['developer_token', 'client_id', 'client_secret', 'refresh_token']) expect(ads[k]).toMatch(/^\$\{env:GOOGLE_ADS_[A-Z_]+\}$/);
    expect(meta.access_token).toBe('${env:META_ACCESS_TOKEN}');
  });

  it('validates with the CLI (each config against its connector schema), and names a missing secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'touchpoint-acme-'));
    try {
      const names = [...JSON.stringify(committed).matchAll(/\$\{env:([A-Z0-9_]+)\}/g)].map((m) => m[1]);
      expect(new Set(names)).toEqual(new Set(['HUBSPOT_TOKEN', 'GOOGLE_APPLICATION_CREDENTIALS_JSON', 'GOOGLE_ADS_DEVELOPER_TOKEN', 'GOOGLE_ADS_CLIENT_ID', 'GOOGLE_ADS_CLIENT_SECRET', 'GOOGLE_ADS_REFRESH_TOKEN', 'META_ACCESS_TOKEN']));
      const placeholders = Object.fromEntries(names.map((k) => [k, `placeholder-${k}`]));
      const ok = await cli(['validate', PIPELINE], { cwd: dir, env: placeholders });
      expect(ok.code, ok.stderr).toBe(0);
      const { META_ACCESS_TOKEN: _, ...withoutMeta } = placeholders;
      const missing = await cli(['validate', PIPELINE], { cwd: dir, env: withoutMeta });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/META_ACCESS_TOKEN/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeEachEngine('acme-b2b pipeline against the four fakes', (engine) => {
  let fakes: Fakes;
  let dir: string;
  let file: string;
  let url: string;
  let env: Record<string, string>;
  let first: RunResult;
  let afterFirst: Record<string, number>;
  const logLines: string[] = [];

  beforeAll(async () => {
    fakes = await startFakes();
    dir = mkdtempSync(join(tmpdir(), 'touchpoint-acme-'));
    file = pipelineFor(fakes, dir);
    url = await engine.freshUrl();
    env = { ...secretsFor(fakes), TOUCHPOINT_DATABASE_URL: url };
    const pipeline = loadPipeline(file, { env, cwd: dir });
    const log = createLogger({ secrets: pipeline.secrets, level: 'debug', write: (line) => void logLines.push(line) });
    first = await runPipeline(pipeline, { log, env, cwd: dir });
    afterFirst = await loadedCounts(url);
  });
  afterAll(async () => {
    await fakes?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the first run succeeds: every stream of every source done, every record the fakes hold read, none quarantined', () => {
    expect(first.error).toBeUndefined();
    expect(first.status).toBe('succeeded');
    expect(first.streams.map((s) => `${s.source}/${s.stream}`).sort()).toEqual([...STREAMS].sort());
    for (const s of first.streams) expect([`${s.source}/${s.stream}`, s.status, s.quarantined]).toEqual([`${s.source}/${s.stream}`, 'done', 0]);
    expect(byStream(first)).toEqual(firstRun);
    expect(first.stages.find((s) => s.name === 'extract')).toMatchObject({ status: 'done', summary: { failed: 0, quarantined: 0 } });
    // Each fake was really asked (nothing went to a vendor, nothing was skipped).
    expect(fakes.hubspot.requests.length).toBeGreaterThan(0);
    expect(fakes.bigquery.requests.some((r) => r.path.endsWith('/data'))).toBe(true);
    expect(fakes.googleAds.queries.some((q) => /FROM click_view/.test(q))).toBe(true);
    expect(fakes.meta.requests.some((r) => r.path.includes('/insights'))).toBe(true);
  });

  it('keeps the raw records of every stream, one row per primary key, and quarantines nothing', () => {
    const raw = (stream: string) => afterFirst[rawTableName(...(stream.split('/') as [string, string]))];
    expect(Object.fromEntries(STREAMS.map((s) => [s, raw(s)]))).toEqual(firstRun);
    expect(afterFirst.quarantine).toBe(0);
  });

  it('events: GA4 sessions as touches and its key events as conversions; HubSpot deal_won conversions, sales touches and form fills; ad clicks', async () => {
    const rows = await withStore(url, (store) => grouped(store, 'events', ['source', 'stream', 'kind', 'name']));
    const count = (source: string, stream: string, kind?: string, name?: string) =>
      rows.filter((r) => r.source === source && r.stream === stream && (!kind || r.kind === kind) && (!name || r.name === name)).reduce((n, r) => n + r.n, 0);

    // GA4: keep_other_events is off, so only touches and the configured conversions.
    const web = rows.filter((r) => r.source === 'web');
    expect(new Set(web.map((r) => r.kind))).toEqual(new Set(['touch', 'conversion']));
    expect(count('web', 'events', 'touch', 'session_start')).toBeGreaterThan(0);
    // The configured key events, and an app event GA4 flagged with firebase_conversion.
    expect(web.filter((r) => r.kind === 'conversion').map((r) => r.name)).toEqual(['generate_lead', 'in_app_purchase', 'purchase', 'sign_up']);
    expect(web.some((r) => r.name === 'scroll')).toBe(false);

    // HubSpot: one deal_won per won deal and associated contact (one without contacts for a deal that has none).
    const wonEvents = wonDeals.reduce((n, d) => n + Math.max(1, d.associations?.contacts?.length ?? 0), 0);
    expect(count('crm', 'deals', 'conversion', 'deal_won')).toBe(wonEvents);
    expect(count('crm', 'calls', 'touch', 'call')).toBeGreaterThan(0);
    expect(count('crm', 'emails', 'touch', 'email')).toBeGreaterThan(0);
    expect(count('crm', 'meetings', 'touch', 'meeting')).toBeGreaterThan(0);
    expect(count('crm', 'form_submissions', 'touch', 'form_submit')).toBe(firstRun['crm/form_submissions']);
    expect(count('crm', 'contacts')).toBe(0); // contacts are identifier links only
    expect(count('google_ads', 'click_view', 'touch', 'ad_click')).toBe(firstRun['google_ads/click_view']);
    expect(count('google_ads', 'campaign_daily') + count('meta_ads', 'campaign_insights')).toBe(0);

    const deals = await withStore(url, (store) => store.knex('events').where({ source: 'crm', name: 'deal_won' }).select('value', 'currency'));
    expect(new Set(deals.map((d) => d.currency))).toEqual(new Set([committed.sources[0].config.currency]));
    const expectedRevenue = wonDeals.reduce((sum, d) => sum + Number(d.properties.amount) * Math.max(1, d.associations?.contacts?.length ?? 0), 0);
    expect(deals.reduce((sum, d) => sum + Number(d.value), 0)).toBeCloseTo(expectedRevenue, 2);
    const channels = await withStore(url, (store) => store.knex('events').where({ source: 'crm' }).whereIn('name', ['call', 'email', 'meeting']).distinct('name', 'channel').orderBy('name'));
    expect(channels).toEqual([
      { name: 'call', channel: 'Sales Call' },
      { name: 'email', channel: 'Sales Email' },
      { name: 'meeting', channel: 'Meeting' },
    ]);
  });

  it('identifier observations carry the identifiers that join the sources: email, ga_client_id, hubspot_contact_id, gclid', async () => {
    const rows = await withStore(url, (store) => grouped(store, 'identifier_observations', ['source', 'identifier_type']));
    const types = (source: string) => rows.filter((r) => r.source === source).map((r) => r.identifier_type);
    expect(types('crm')).toEqual(expect.arrayContaining(['email', 'ga_client_id', 'hubspot_contact_id', 'gclid', 'phone']));
    expect(types('web')).toEqual(expect.arrayContaining(['ga_client_id', 'gclid']));
    expect(types('google_ads')).toEqual(['gclid']);
    expect(types('meta_ads')).toEqual([]);
    // The sources meet on shared values: the contacts' GA client ids are GA4 visitors, the ad click's
    // GCLID is the one GA4's paid session landed with.
    const shared = (a: string, b: string) =>
      withStore(url, async (store) => {
        const pairs = await store
          .knex('identifier_observations as a')
          .join('identifier_observations as b', function () {
            this.on('a.identifier_type', 'b.identifier_type').andOn('a.identifier_value', 'b.identifier_value');
          })
          .where({ 'a.source': a, 'b.source': b })
          .distinct('a.identifier_type', 'a.identifier_value')
          .orderBy('a.identifier_value');
        return pairs.map((r) => `${r.identifier_type}=${r.identifier_value}`);
      });
    expect(await shared('crm', 'web')).toEqual([`ga_client_id=${PAID_VISITOR.client_id}`, `ga_client_id=${DEMO_VISITOR.client_id}`]);
    expect(await shared('google_ads', 'web')).toEqual([`gclid=${PAID_VISITOR.gclid}`]);
    const contactsWithEmail = hs.objects.contacts.filter((c) => !c.archived && c.properties.email).length;
    const emails = rows.filter((r) => r.source === 'crm' && r.identifier_type === 'email').reduce((n, r) => n + r.n, 0);
    expect(emails).toBeGreaterThanOrEqual(contactsWithEmail);
  });

  it('spend from both ad sources, with GA4 channel names and each account currency', async () => {
    const rows = await withStore(url, (store) => grouped(store, 'spend', ['source', 'stream', 'channel', 'currency'], { cost: 'sum(cost)' }));
    const google = rows.filter((r) => r.source === 'google_ads');
    expect(google.map((r) => [r.stream, r.channel, r.currency]).sort()).toEqual([
      ['campaign_daily', 'Cross-network', 'EUR'],
      ['campaign_daily', 'Display', 'EUR'],
      ['campaign_daily', 'Paid Search', 'EUR'],
      ['campaign_daily', 'Paid Video', 'EUR'],
    ]);
    expect(google.reduce((n, r) => n + r.n, 0)).toBe(firstRun['google_ads/campaign_daily']);
    expect(google.reduce((n, r) => n + Number(r.cost), 0)).toBeCloseTo(googleCost, 4);
    const meta = rows.filter((r) => r.source === 'meta_ads');
    expect(meta.map((r) => [r.stream, r.channel, r.currency, r.n])).toEqual([['campaign_insights', 'Paid Social', 'PLN', firstRun['meta_ads/campaign_insights']]]);
    expect(Number(meta[0].cost)).toBeCloseTo(metaCost, 2);
    expect(rows.every((r) => r.source === 'google_ads' || r.source === 'meta_ads')).toBe(true);
  });

  it('a second run, through the CLI, reads only what each connector re-reads by design and adds no rows', async () => {
    const before = { hubspot: fakes.hubspot.requests.length, clicks: fakes.googleAds.queries.length };
    const run = await cli(['run', file, '--json'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    const second = JSON.parse(run.stdout) as RunResult;
    expect(second.status).toBe('succeeded');
    expect(second.streams.every((s) => s.status === 'done' && s.quarantined === 0)).toBe(true);
    const records = byStream(second);
    // HubSpot CRM objects: a search for changes since the first run's start finds none.
    for (const o of CRM_OBJECTS) expect(records[`crm/${o}`], o).toBe(0);
    const searches = fakes.hubspot.requests.slice(before.hubspot).filter((r) => r.method === 'POST' && r.path.endsWith('/search'));
    expect(searches.length).toBeGreaterThanOrEqual(CRM_OBJECTS.length);
    expect(fakes.hubspot.requests.slice(before.hubspot).some((r) => r.method === 'GET' && r.path === '/crm/v3/objects/contacts' && r.query.get('archived') === 'false')).toBe(false);
    // Form submissions: per form, from the newest one read (minus the lookback) — the newest again.
    expect(records['crm/form_submissions']).toBe(Object.keys(hs.submissions).length);
    // Windowed sources re-read their lookback only: GA4 its 3 newest daily tables (here all of them)
    // and the intraday table; Google Ads campaigns from 7 days before the last day read (today),
    // clicks from the day before it; Meta from 3 days before.
    const since = (days: number) => addDays(today(), -days);
    expect(records['web/events']).toBe(firstRun['web/events']);
    expect(records['google_ads/campaign_daily']).toBe(fakes.googleAds.campaignRows.filter((r) => r.segments.date >= since(7)).length);
    expect(records['google_ads/click_view']).toBe(fakes.googleAds.clickRows.filter((r) => r.segments.date >= since(1)).length);
    expect(fakes.googleAds.queries.slice(before.clicks).filter((q) => /FROM click_view/.test(q))).toHaveLength(2);
    expect(records['meta_ads/campaign_insights']).toBe(fakes.meta.rows.filter((r) => String(r.date_start) >= since(3)).length);
    expect(await loadedCounts(url)).toEqual(afterFirst);
  });

  it('a run after changes in every source reads those and adds exactly their rows', async () => {
    // HubSpot: a new contact fills the demo form, and an open deal is won.
    const openDeal = hs.objects.deals.find((d) => !d.archived && !['closedwon', 'closedlost'].includes(String(d.properties.dealstage)))!;
    fakes.hubspot.upsert('contacts', { id: '190', properties: { email: 'cfo@northwind.example', firstname: 'Nadia', ga_client_id: '1888888888.1715500000', lifecyclestage: 'salesqualifiedlead' } });
    fakes.hubspot.upsert('deals', { id: openDeal.id, properties: { dealstage: 'closedwon', closedate: new Date().toISOString() } });
    // GA4: yesterday's daily table lands — the intraday events again, plus one late event.
    const intraday = Object.keys(ga4Fixtures.tables).find((t) => t.startsWith('events_intraday_'))!;
    const daily = intraday.replace('intraday_', '');
    const late = { ...structuredClone(fakes.bigquery.tableRows(intraday).at(-1)!), event_timestamp: String(BigInt(fakes.bigquery.tableRows(intraday).at(-1)!.event_timestamp as string) + 60_000_000n), event_name: 'generate_lead' } as JsonObject;
    fakes.bigquery.setTable(daily, [...fakes.bigquery.tableRows(intraday), late]);
    fakes.bigquery.dropTable(intraday);
    // Ads: today's first figures.
    const campaign = fakes.googleAds.campaignRows.at(-1)!;
    fakes.googleAds.setCampaignRows([...fakes.googleAds.campaignRows, { ...structuredClone(campaign), segments: { date: today() } }]);
    const insight = fakes.meta.rows.at(-1)!;
    fakes.meta.setRows([...fakes.meta.rows, { ...structuredClone(insight), date_start: today(), date_stop: today() }]);

    const pipeline = loadPipeline(file, { env, cwd: dir });
    const third = await runPipeline(pipeline, { log: createLogger({ secrets: pipeline.secrets, level: 'debug', write: (line) => void logLines.push(line) }), env, cwd: dir });
    expect(third.error).toBeUndefined();
    expect(third.status).toBe('succeeded');
    const records = byStream(third);
    expect(records['crm/contacts']).toBe(1);
    expect(records['crm/deals']).toBe(1);
    for (const o of ['companies', 'calls', 'emails', 'meetings']) expect(records[`crm/${o}`], o).toBe(0);
    const after = await loadedCounts(url);
    expect(after.raw_crm_contacts - afterFirst.raw_crm_contacts).toBe(1);
    expect(after.raw_web_events - afterFirst.raw_web_events).toBe(1);
    expect(after.events - afterFirst.events).toBe(1); // the late GA4 event; the won deal replaces its deal_open
    expect(after.spend - afterFirst.spend).toBe(2);
    expect(after.identifier_observations).toBeGreaterThan(afterFirst.identifier_observations);
    const won = await withStore(url, (store) => store.knex('events').where({ source: 'crm', stream: 'deals', record_pk: openDeal.id }).select('kind', 'name'));
    expect(won).toEqual(openDeal.associations!.contacts.map(() => ({ kind: 'conversion', name: 'deal_won' })));
    expect(after.quarantine).toBe(0);
  });

  it('secrets appear in no --json output, log line, run record or stored table', async () => {
    const run = await cli(['run', file, '--json'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('"status": "succeeded"');
    expect(leaked(run.stdout + run.stderr, fakes)).toEqual([]);
    expect(logLines.length).toBeGreaterThan(0);
    expect(leaked(logLines.join('\n'), fakes)).toEqual([]);
    const { runs, everything } = await withStore(url, async (store) => ({ runs: await store.knex('runs').select('*'), everything: await dumpStore(store) }));
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(leaked(JSON.stringify(runs), fakes)).toEqual([]);
    expect(everything.length).toBeGreaterThan(10_000);
    expect(leaked(everything, fakes)).toEqual([]);
  });
});
