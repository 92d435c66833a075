// Generates the multi-source demo data set: GA4-like web events (NDJSON.gz, one file per month),
// HubSpot-like CRM exports (contacts, deals, activities as CSV), Google Ads / Meta Ads spend
// (CSV, per campaign and day, consistent with the paid clicks in the web data) and post-purchase
// survey answers (NPS and CSAT, CSV, keyed by the buyer's user or contact id). Seeded and
// streamed: the same options give the same bytes, and millions of events never sit in memory.
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CAMPAIGNS } from './catalog.ts';
import { simulatePerson } from './people.ts';
import type { Row, World } from './people.ts';
import { Random } from './random.ts';
import { CsvWriter, LineWriter } from './writers.ts';

export interface DemoOptions {
  /** Output folder (created); its web/, crm/ and ads/ files are replaced. */
  out: string;
  /** Simulated people (default 2,000: about 25–35k web events). */
  people?: number;
  seed?: number;
  /** First day, YYYY-MM-DD (default 2025-01-01). */
  start?: string;
  /** Days of data (default 90). */
  days?: number;
  /** Called every 10,000 people with the number done. */
  onProgress?: (done: number, total: number) => void;
}

export interface DemoFile {
  /** Relative to `out`. */
  path: string;
  rows: number;
  bytes: number;
}

export interface DemoResult {
  out: string;
  seed: number;
  people: number;
  start: string;
  end: string;
  files: DemoFile[];
  ms: number;
}

const DAY = 86_400_000;

export const CONTACT_COLUMNS = ['contact_id', 'email', 'firstname', 'lastname', 'phone', 'company', 'country', 'ga_client_id', 'lifecyclestage', 'original_source', 'created_at', 'updated_at'];
export const DEAL_COLUMNS = ['deal_id', 'contact_id', 'dealname', 'amount', 'currency', 'dealstage', 'pipeline', 'created_at', 'close_date'];
export const ACTIVITY_COLUMNS = ['activity_id', 'contact_id', 'deal_id', 'type', 'timestamp', 'direction', 'duration_seconds', 'subject', 'body', 'owner'];
export const GOOGLE_COLUMNS = ['date', 'campaign_id', 'campaign_name', 'campaign_type', 'impressions', 'clicks', 'cost', 'currency'];
export const META_COLUMNS = ['date_start', 'date_stop', 'campaign_id', 'campaign_name', 'impressions', 'clicks', 'spend', 'account_currency'];
export const SURVEY_COLUMNS = ['response_id', 'user_id', 'contact_id', 'submitted_at', 'nps', 'csat'];

/** NPS answers 0–10, skewed the way satisfied-but-not-thrilled customers answer. */
const NPS_WEIGHTS = { '0': 1, '1': 1, '2': 1, '3': 2, '4': 2, '5': 4, '6': 6, '7': 12, '8': 20, '9': 24, '10': 27 };

/**
 * One buyer's survey answer, or none: about a third of customers answer, 1–10 days after buying, if
 * that is inside the window. CSAT follows NPS loosely (a promoter rarely rates 1).
 */
function surveyAnswer(rng: Random, buyer: { at: number; user_id?: unknown; contact_id?: unknown }, end: number, id: number): Row | undefined {
  if (!rng.chance(0.35)) return undefined;
  const at = buyer.at + DAY + rng.next() * 9 * DAY;
  if (at > end) return undefined;
  const nps = Number(rng.weighted(NPS_WEIGHTS));
  const csat = Math.max(1, Math.min(5, Math.round(nps / 2) + rng.int(-1, 1)));
  return { response_id: `R${id}`, user_id: buyer.user_id as string | undefined, contact_id: buyer.contact_id as string | undefined, submitted_at: new Date(at).toISOString(), nps, csat };
}

export async function generateDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const people = options.people ?? 2000;
  const seed = options.seed ?? 42;
  const start = options.start ?? '2025-01-01';
  const days = options.days ?? 90;
  const startMs = Date.parse(`${start}T00:00:00Z`);
  if (!Number.isFinite(startMs)) throw new Error(`start must be YYYY-MM-DD (got ${start})`);
  const world: World = {
    rng: new Random(seed),
    start: startMs,
    end: startMs + days * DAY - 1,
    ids: { event: 0, transaction: 10000, user: 500, contact: 1000, deal: 9000, activity: 0 },
  };
  await clearOldWebFiles(join(options.out, 'web'));

  const web = new Map<string, LineWriter>();
  const contacts = new CsvWriter(join(options.out, 'crm/contacts.csv'), CONTACT_COLUMNS);
  const deals = new CsvWriter(join(options.out, 'crm/deals.csv'), DEAL_COLUMNS);
  const activities = new CsvWriter(join(options.out, 'crm/activities.csv'), ACTIVITY_COLUMNS);
  const clicks = new Map<string, number>();
  const survey = new CsvWriter(join(options.out, 'survey/responses.csv'), SURVEY_COLUMNS);
  // Survey answers have their own random stream, so they never shift the people.
  const surveyRng = new Random(seed ^ 0x2f6b7e31);

  for (let i = 0; i < people; i++) {
    const p = simulatePerson(world);
    for (const e of p.events) {
      const month = String(e.ts).slice(0, 7);
      let w = web.get(month);
      if (!w) web.set(month, (w = new LineWriter(join(options.out, `web/events-${month}.ndjson.gz`))));
      await w.write(JSON.stringify(e));
    }
    if (p.contact) await contacts.write(p.contact);
    for (const d of p.deals) await deals.write(d);
    for (const a of p.activities) await activities.write(a);
    for (const c of p.clicks) clicks.set(`${c.campaign.id}|${c.day}`, (clicks.get(`${c.campaign.id}|${c.day}`) ?? 0) + 1);
    const buyers = [
      ...p.events.filter((e) => e.event_name === 'purchase').map((e) => ({ at: Date.parse(String(e.ts)), user_id: e.user_id })),
      ...p.deals.filter((d) => d.dealstage === 'closedwon').map((d) => ({ at: Date.parse(String(d.close_date)), contact_id: d.contact_id })),
    ];
    for (const b of buyers) {
      const answer = surveyAnswer(surveyRng, b, world.end, survey.rows + 1);
      if (answer) await survey.write(answer);
    }
    if ((i + 1) % 10_000 === 0) options.onProgress?.(i + 1, people);
  }

  // Spend has its own random stream, so changing it never shifts the people above.
  const rng = new Random(seed ^ 0x5bd1e995);
  const google = new CsvWriter(join(options.out, 'ads/google-ads.csv'), GOOGLE_COLUMNS);
  const meta = new CsvWriter(join(options.out, 'ads/meta-ads.csv'), META_COLUMNS);
  for (let d = 0; d < days; d++) {
    const day = new Date(startMs + d * DAY).toISOString().slice(0, 10);
    for (const c of CAMPAIGNS) {
      const landed = clicks.get(`${c.id}|${day}`) ?? 0;
      // Not every ad click becomes a tracked visit: in the DACH market roughly half of visitors decline
      // analytics consent, and some bounce before the tag fires.
      const adClicks = landed === 0 ? rng.int(0, 3) : Math.round(landed * (1.8 + 0.8 * rng.next()));
      const impressions = Math.round((adClicks + 1) / c.ctr * (0.85 + 0.3 * rng.next()));
      const cost = Math.round(adClicks * c.cpc * (0.8 + 0.4 * rng.next()) * 100) / 100;
      if (c.platform === 'google') {
        await google.write({ date: day, campaign_id: c.id, campaign_name: c.name, campaign_type: c.type, impressions, clicks: adClicks, cost, currency: 'EUR' });
      } else {
        await meta.write({ date_start: day, date_stop: day, campaign_id: c.id, campaign_name: c.name, impressions, clicks: adClicks, spend: cost, account_currency: 'EUR' });
      }
    }
  }

  const writers: { path: string; rows: number; close(): Promise<void> }[] = [...[...web.entries()].toSorted(([a], [b]) => (a < b ? -1 : 1)).map(([, w]) => w), contacts, deals, activities, google, meta, survey];
  const files: DemoFile[] = [];
  for (const w of writers) {
    await w.close();
    files.push({ path: relative(options.out, w.path).split('\\').join('/'), rows: w.rows, bytes: (await stat(w.path)).size });
  }
  const result: DemoResult = { out: options.out, seed, people, start, end: new Date(world.end).toISOString().slice(0, 10), files, ms: Math.round(performance.now() - started) };
  const { ms: _ms, out: _out, ...manifest } = result;
  await writeFile(join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return result;
}

/** A smaller run must not leave last run's later months behind (the pipeline globs web/*.ndjson.gz). */
async function clearOldWebFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) if (/^events-\d{4}-\d{2}\.ndjson\.gz$/.test(name)) await rm(join(dir, name));
}
