// Benchmark of pipelines/acme-b2b.yaml end to end — HubSpot, GA4 BigQuery export, Google Ads and Meta
// Ads through the real connectors, engine and store — against the connectors' fakes scaled up: GA4
// EVENTS export rows (default 100,000, fake/generate.ts, four daily tables ending yesterday, ~12.5k
// visitors) and a HubSpot account in proportion to that traffic (2.5% of events become contacts, 60%
// of them carrying a GA client id of the export; a deal per five contacts; calls, emails, meetings;
// one form fill per contact), 12 Google Ads campaigns and 8 Meta campaigns over the connectors'
// 90-day default with a click per paid-search visitor. The fakes run in a worker thread, so serving
// the vendor side (f/v encoding of BigQuery rows, HTTP) does not share the run's thread. Prints
// end-to-end time and per-stream records/s of a first run and of a re-run with nothing new; asserts
// nothing. Sources are extracted side by side (the pipeline's concurrency: 4), so a small stream's
// rate includes its waits for the store's writer; --concurrency 1 gives each stream to itself.
//   npm exec -- node bench/acme-b2b.ts [store-url] [events] [--concurrency N]
//   (an empty store; default a temp DuckDB file), e.g.
//   npm exec -- node bench/acme-b2b.ts 'postgres://postgres@127.0.0.1:5432/test?schema=tp_bench_acme'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadPipeline } from '../core/config/pipeline.ts';
import { runPipeline } from '../core/engine/run.ts';
import type { RunResult } from '../core/engine/run.ts';
import { rate } from '../core/engine/progress.ts';
import { createLogger } from '../core/sdk/log.ts';
import type { JsonObject } from '../core/sdk/types.ts';
import { openStore } from '../core/store/index.ts';

const PIPELINE = new URL('../pipelines/acme-b2b.yaml', import.meta.url);

interface Endpoints {
  hubspot: string;
  hubspotToken: string;
  bigquery: string;
  bigqueryToken: string;
  serviceAccountKeyJson: string;
  googleAds: string;
  googleAdsToken: string;
  googleAdsCredentials: Record<string, string>;
  meta: string;
  metaToken: string;
  sizes: Record<string, number>;
  generatedMs: number;
}

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------
// Worker thread: generate the data and serve it from the four fakes

async function serveFakes(events: number, project: string, dataset: string): Promise<Endpoints> {
  const started = performance.now();
  const { generateExportRows } = await import('../connectors/ga4-bigquery/fake/generate.ts');
  const { startFake: startBigQuery } = await import('../connectors/ga4-bigquery/fake/server.ts');
  const { fixtures: hubspotFixtures, startFake: startHubSpot } = await import('../connectors/hubspot/fake/index.ts');
  const { FAKE_CREDENTIALS, fixtures: adsFixtures, startFake: startGoogleAds } = await import('../connectors/google-ads/fake/index.ts');
  const { FAKE_ACCESS_TOKEN, FAKE_AD_ACCOUNT_ID, fixtures: metaFixtures, startFake: startMeta } = await import('../connectors/meta-ads/fake/index.ts');

  const today = new Date().toISOString().slice(0, 10);
  const DAYS = 4;
  // GA4: four daily tables ending yesterday.
  const tables: Record<string, JsonObject[]> = {};
  const visitors: string[] = [];
  const gclids = new Set<string>();
  for (let d = 0; d < DAYS; d++) {
    const date = addDays(today, d - DAYS);
    const rows = generateExportRows({ date, count: Math.round(events / DAYS), seed: d + 1 });
    tables[`events_${date.replaceAll('-', '')}`] = rows;
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(String(r.user_pseudo_id));
      const gclid = (r.collected_traffic_source as JsonObject | null)?.gclid;
      if (typeof gclid === 'string') gclids.add(gclid);
    }
    visitors.push(...seen);
  }

  // HubSpot in proportion to the traffic.
  const hs = hubspotFixtures();
  const nContacts = Math.max(10, Math.round(events * 0.025));
  const iso = (daysAgo: number, minutes = 0) => new Date(Date.parse(`${today}T09:00:00Z`) - daysAgo * 86_400_000 + minutes * 60_000).toISOString();
  const record = (id: number, properties: Record<string, unknown>, daysAgo: number, associations?: string[]) => ({
    id: String(id),
    properties: { hs_object_id: String(id), createdate: iso(daysAgo), hs_lastmodifieddate: iso(daysAgo / 2), ...properties },
    createdAt: iso(daysAgo),
    updatedAt: iso(daysAgo / 2),
    archived: false,
    ...(associations ? { associations: { contacts: associations } } : {}),
  });
  const contactId = (i: number) => String(100_000 + i);
  hs.objects.contacts = Array.from({ length: nContacts }, (_, i) =>
    record(100_000 + i, {
      email: `person${i}@company${i % Math.ceil(nContacts / 5)}.example`,
      firstname: `First${i}`,
      lastname: `Last${i}`,
      jobtitle: ['Head of Marketing', 'CFO', 'Data Engineer', 'VP Sales'][i % 4],
      phone: i % 3 === 0 ? `+48 600 ${String(100_000 + i).slice(-6)}` : null,
      ga_client_id: i % 5 < 3 ? visitors[(i * 7) % visitors.length] : null,
      lifecyclestage: ['lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer'][i % 5],
      lastmodifieddate: iso((i % 300) / 2),
    }, i % 300),
  );
  hs.objects.companies = Array.from({ length: Math.ceil(nContacts / 5) }, (_, i) => record(200_000 + i, { name: `Company ${i}`, domain: `company${i}.example` }, i % 300));
  hs.objects.deals = Array.from({ length: Math.ceil(nContacts / 5) }, (_, i) => {
    const stage = ['closedwon', 'closedlost', 'qualifiedtobuy', 'presentationscheduled', 'closedwon'][i % 5];
    const contacts = i % 4 === 0 ? [contactId(i * 5), contactId(i * 5 + 1)] : [contactId(i * 5)];
    return record(300_000 + i, { dealname: `Deal ${i}`, dealstage: stage, pipeline: 'default', amount: String(2_400 + (i % 40) * 600), closedate: iso(i % 90), deal_currency_code: i % 10 === 0 ? 'USD' : null }, 90 + (i % 200), contacts);
  });
  const engagement = (base: number, n: number, props: (i: number) => Record<string, unknown>) =>
    Array.from({ length: n }, (_, i) => record(base + i, { hs_timestamp: iso(i % 120, i % 600), ...props(i) }, i % 120, [contactId((i * 3) % nContacts)]));
  hs.objects.calls = engagement(400_000, Math.round(nContacts * 0.6), (i) => ({ hs_call_title: 'Discovery call', hs_call_direction: 'OUTBOUND', hs_call_status: 'COMPLETED', hs_call_duration: String(60_000 * (5 + (i % 40))) }));
  hs.objects.emails = engagement(500_000, Math.round(nContacts * 1.2), () => ({ hs_email_subject: 'Following up', hs_email_direction: 'EMAIL', hs_email_status: 'SENT' }));
  hs.objects.meetings = engagement(600_000, Math.round(nContacts * 0.2), () => ({ hs_meeting_title: 'Demo', hs_meeting_outcome: 'COMPLETED' }));
  const forms = hs.forms.map((f) => f.id);
  hs.submissions = Object.fromEntries(forms.map((id) => [id, []]));
  for (let i = 0; i < nContacts; i++) {
    const paid = i % 6 === 0;
    hs.submissions[forms[i % forms.length]].push({
      conversionId: `bench-${i}`,
      submittedAt: Date.parse(iso(i % 300, i % 900)),
      pageUrl: paid ? `https://www.acme.example/demo?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=Cj0KCQ${i}` : 'https://www.acme.example/demo',
      values: [{ objectTypeId: '0-1', name: 'email', value: `person${i}@company${i % Math.ceil(nContacts / 5)}.example` }],
    });
  }

  // Google Ads: 12 campaigns × 90 days, and one click per paid-search visitor on the first GA4 day.
  const template = adsFixtures.campaignDaily[0];
  const types = ['SEARCH', 'SEARCH', 'SEARCH', 'DISPLAY', 'VIDEO', 'PERFORMANCE_MAX'];
  const campaignRows = [];
  for (let day = 89; day >= 0; day--) {
    for (let c = 0; c < 12; c++) {
      campaignRows.push({
        customer: template.customer,
        campaign: { resourceName: `customers/1234567890/campaigns/${910_000 + c}`, id: String(910_000 + c), name: `Campaign ${c}`, advertisingChannelType: types[c % types.length] },
        metrics: { clicks: String(20 + c), costMicros: String((35 + c * 3) * 1_000_000), impressions: String(900 + c * 50), conversions: 1.5, conversionsValue: 120 },
        segments: { date: addDays(today, -day) },
      });
    }
  }
  const clickTemplate = adsFixtures.clickView[0];
  const clickRows = [...gclids].map((gclid) => ({ ...structuredClone(clickTemplate), clickView: { ...clickTemplate.clickView, gclid, resourceName: `customers/1234567890/clickViews/x~${gclid}` }, segments: { ...clickTemplate.segments, date: addDays(today, -DAYS) } }));
  // Meta: 8 campaigns × 90 days.
  const metaTemplate = metaFixtures.insights[0];
  const metaRows = [];
  for (let day = 89; day >= 0; day--) {
    for (let c = 0; c < 8; c++) {
      const date = addDays(today, -day);
      metaRows.push({ ...metaTemplate, account_id: FAKE_AD_ACCOUNT_ID, campaign_id: String(120_220_000_000_000_000n + BigInt(c)), campaign_name: `Meta campaign ${c}`, spend: (80 + c * 11.5).toFixed(2), date_start: date, date_stop: date });
    }
  }

  const [hubspot, bigquery, googleAds, meta] = await Promise.all([
    startHubSpot({ fixtures: hs }),
    startBigQuery({ project, dataset, tables }),
    startGoogleAds({ campaignRows, clickRows }),
    startMeta({ rows: metaRows }),
  ]);
  const count = (o: object) => Object.values(o).reduce((n: number, v) => n + (v as unknown[]).length, 0);
  return {
    hubspot: hubspot.url,
    hubspotToken: hs.credentials.accessTokens[0],
    bigquery: bigquery.url,
    bigqueryToken: bigquery.tokenUrl,
    serviceAccountKeyJson: bigquery.oauth.serviceAccountKeyJson,
    googleAds: googleAds.url,
    googleAdsToken: googleAds.tokenUrl,
    googleAdsCredentials: FAKE_CREDENTIALS,
    meta: meta.url,
    metaToken: FAKE_ACCESS_TOKEN,
    sizes: {
      ga4_events: count(tables),
      ga4_tables: Object.keys(tables).length,
      hubspot_contacts: hs.objects.contacts.length,
      hubspot_companies: hs.objects.companies.length,
      hubspot_deals: hs.objects.deals.length,
      hubspot_engagements: hs.objects.calls.length + hs.objects.emails.length + hs.objects.meetings.length,
      hubspot_form_submissions: count(hs.submissions),
      google_ads_campaign_days: campaignRows.length,
      google_ads_clicks: clickRows.length,
      meta_campaign_days: metaRows.length,
    },
    generatedMs: performance.now() - started,
  };
}

if (!isMainThread) {
  const { events, project, dataset } = workerData as { events: number; project: string; dataset: string };
  const endpoints = await serveFakes(events, project, dataset);
  // A worker_threads MessagePort, not window.postMessage: there is no target origin.
  // oxlint-disable-next-line unicorn/require-post-message-target-origin
  parentPort!.postMessage(endpoints);
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------------
// Main thread: the pipeline, pointed at the fakes, through the real engine

async function main(): Promise<void> {
  const args = parseArgs({ allowPositionals: true, options: { concurrency: { type: 'string' } } });
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-acme-'));
  const url = args.positionals[0] || `duckdb://${join(dir, 'bench.duckdb')}`;
  const events = Number(args.positionals[1] || 100_000);
  const pipeline = parseYaml(readFileSync(PIPELINE, 'utf8')) as { settings?: { concurrency?: number }; sources: { name: string; config: Record<string, any> }[] };
  if (args.values.concurrency) pipeline.settings = { ...pipeline.settings, concurrency: Number(args.values.concurrency) };
  const config = (name: string) => pipeline.sources.find((s) => s.name === name)!.config;
  const web = config('web');

  const worker = new Worker(new URL(import.meta.url), { workerData: { events, project: web.project_id, dataset: `analytics_${web.property_id}` } });
  const fakes = await new Promise<Endpoints>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  try {
    Object.assign(config('crm'), { base_url: fakes.hubspot, token_url: `${fakes.hubspot}/oauth/v1/token` });
    Object.assign(web, { bigquery_url: fakes.bigquery });
    Object.assign(web.credentials, { token_url: fakes.bigqueryToken });
    Object.assign(config('google_ads'), { base_url: fakes.googleAds, token_url: fakes.googleAdsToken });
    Object.assign(config('meta_ads'), { base_url: fakes.meta });
    const file = join(dir, 'acme-b2b.yaml');
    writeFileSync(file, stringifyYaml(pipeline));
    const env = {
      HUBSPOT_TOKEN: fakes.hubspotToken,
      GOOGLE_APPLICATION_CREDENTIALS_JSON: fakes.serviceAccountKeyJson,
      GOOGLE_ADS_DEVELOPER_TOKEN: fakes.googleAdsCredentials.developer_token,
      GOOGLE_ADS_CLIENT_ID: fakes.googleAdsCredentials.client_id,
      GOOGLE_ADS_CLIENT_SECRET: fakes.googleAdsCredentials.client_secret,
      GOOGLE_ADS_REFRESH_TOKEN: fakes.googleAdsCredentials.refresh_token,
      META_ACCESS_TOKEN: fakes.metaToken,
      TOUCHPOINT_DATABASE_URL: url,
    };

    console.log(`Node ${process.versions.node}, ${availableParallelism()} CPUs; store ${url.replace(/\/\/[^@/]*@/, '//***@')}; concurrency ${pipeline.settings?.concurrency ?? 2}`);
    console.log(`fakes (worker thread), generated in ${(fakes.generatedMs / 1000).toFixed(1)} s: ${Object.entries(fakes.sizes).map(([k, v]) => `${k}=${v.toLocaleString('en')}`).join(' ')}`);

    const run = async (label: string): Promise<RunResult> => {
      const loaded = loadPipeline(file, { env, cwd: dir });
      const log = createLogger({ secrets: loaded.secrets, level: 'warn' });
      const started = performance.now();
      const result = await runPipeline(loaded, { log, env, cwd: dir });
      const seconds = (performance.now() - started) / 1000;
      const records = result.streams.reduce((n, s) => n + s.records, 0);
      const stages = result.stages.map((s) => `${s.name} ${(s.ms / 1000).toFixed(2)} s${s.status === 'done' ? '' : ` (${s.status})`}`).join(', ');
      console.log(`\n${label}: ${result.status}, ${seconds.toFixed(2)} s end to end, ${records.toLocaleString('en')} records (${Math.round(records / seconds).toLocaleString('en')}/s overall); ${stages}`);
      if (result.error) console.log(`  error: ${result.error.split('\n')[0]}`);
      console.log(`  ${'stream'.padEnd(28)} ${'records'.padStart(9)} ${'seconds'.padStart(8)} ${'records/s'.padStart(10)}`);
      for (const s of [...result.streams].sort((a, b) => b.records - a.records)) {
        const secs = ((s.endedAt ?? Date.now()) - s.startedAt) / 1000;
        console.log(`  ${`${s.source}/${s.stream}`.padEnd(28)} ${String(s.records).padStart(9)} ${secs.toFixed(2).padStart(8)} ${Math.round(rate(s)).toLocaleString('en').padStart(10)}${s.status === 'done' ? '' : `  ${s.status}`}`);
      }
      return result;
    };

    await run('first run');
    await run('second run (nothing new; lookback windows re-read)');
    const store = await openStore({ url });
    try {
      const counts = await store.counts();
      console.log(`\ntables: ${['events', 'identifier_observations', 'spend', 'quarantine'].map((t) => `${t}=${counts[t].toLocaleString('en')}`).join(' ')}`);
    } finally {
      await store.close();
    }
  } finally {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}
