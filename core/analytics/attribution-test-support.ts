// Tiny hand-written worlds for the attribution, ROI and FX tests: journeys, their touchpoints and
// spend rows inserted straight into a migrated store, and a helper that runs prepare() plus the
// attribution/ROI modules inside a transaction that is rolled back afterwards.
import type { Store } from '../store/types.ts';
import { silentLogger } from '../sdk/log.ts';
import { computeAttribution } from './attribution.ts';
import { DEFAULTS } from './config.ts';
import type { AnalyticsConfig } from './config.ts';
import { comparisonPeriod, resolvePeriod } from './period.ts';
import type { PeriodSpec } from './period.ts';
import { prepare } from './prepare.ts';
import { computeRoi } from './roi.ts';
import type { AnalyticsContext, ResultRow } from './types.ts';

/** [channel, ISO time, campaign_id?, campaign name?] */
export type TouchSpec = [string, string, (string | null)?, (string | null)?];

export interface JourneySpec {
  id: string;
  touches: TouchSpec[];
  /** Conversion time; absent = an open journey. */
  convertedAt?: string;
  value?: number;
  currency?: string;
  /** The conversion touchpoint's channel (default Direct). */
  conversionChannel?: string;
}

export interface SpendSpec {
  date: string;
  channel: string;
  cost: number;
  currency?: string;
  campaign_id?: string | null;
  campaign?: string | null;
}

export async function seed(store: Store, journeys: JourneySpec[], spend: SpendSpec[] = []): Promise<void> {
  const db = store.knex;
  const jRows: Record<string, unknown>[] = [];
  const tRows: Record<string, unknown>[] = [];
  for (const j of journeys) {
    const times = j.touches.map((t) => t[1]).concat(j.convertedAt ? [j.convertedAt] : []).sort();
    const touches = j.touches.map((t, i) => ({ journey_id: j.id, position: i + 1, event_id: `${j.id}-t${i + 1}`, person_id: `p-${j.id}`, occurred_at: t[1], name: 'page_view', channel: t[0], source_medium: null, campaign_id: t[2] ?? null, campaign: t[3] ?? null, stage: 'awareness', session_key: `${j.id}-s${i + 1}`, device: 'desktop', is_conversion: false }));
    if (j.convertedAt) touches.push({ journey_id: j.id, position: touches.length + 1, event_id: `${j.id}-conv`, person_id: `p-${j.id}`, occurred_at: j.convertedAt, name: 'purchase', channel: j.conversionChannel ?? 'Direct', source_medium: null, campaign_id: null, campaign: null, stage: 'purchase', session_key: `${j.id}-sc`, device: 'desktop', is_conversion: true });
    tRows.push(...touches);
    jRows.push({
      journey_id: j.id,
      person_id: `p-${j.id}`,
      status: j.convertedAt ? 'converted' : 'open',
      journey_number: 1,
      conversion_event_id: j.convertedAt ? `${j.id}-conv` : null,
      conversion_name: j.convertedAt ? 'purchase' : null,
      conversion_at: j.convertedAt ?? null,
      conversion_value: j.convertedAt ? (j.value ?? 0) : null,
      conversion_currency: j.convertedAt ? (j.currency ?? 'EUR') : null,
      started_at: times[0],
      ended_at: times.at(-1),
      touch_count: touches.length,
      session_count: touches.length,
      first_touch_channel: touches[0]?.channel ?? null,
      last_touch_channel: touches.at(-1)?.channel ?? null,
    });
  }
  for (let i = 0; i < jRows.length; i += 200) await db('journeys').insert(jRows.slice(i, i + 200));
  for (let i = 0; i < tRows.length; i += 200) await db('journey_touchpoints').insert(tRows.slice(i, i + 200));
  const sRows = spend.map((s, i) => ({ spend_id: `s${i}`, source: 'test', stream: 'spend', record_pk: `s${i}`, date: s.date, channel: s.channel, campaign_id: s.campaign_id ?? null, campaign: s.campaign ?? null, cost: s.cost, currency: s.currency ?? 'EUR', clicks: 0, impressions: 0 }));
  for (let i = 0; i < sRows.length; i += 200) await db('spend').insert(sRows.slice(i, i + 200));
}

export function testConfig(overrides: Partial<AnalyticsConfig> = {}, attribution: Partial<AnalyticsConfig['attribution']> = {}): AnalyticsConfig {
  return { ...DEFAULTS, ...overrides, attribution: { ...DEFAULTS.attribution, ...attribution } };
}

export interface Computed {
  attribution: ResultRow[];
  roi: ResultRow[];
}

/** prepare() + attribution + ROI for one period, in a transaction rolled back afterwards. */
export async function compute(store: Store, config: AnalyticsConfig, period: PeriodSpec = 'all', today = '2026-01-01'): Promise<Computed> {
  const resolved = resolvePeriod(period, today, config.timezone);
  let out: Computed = { attribution: [], roi: [] };
  const rollback = new Error('rollback');
  await store.knex
    .transaction(async (db) => {
      const ctx: AnalyticsContext = { db, dialect: store.dialect, config, period: resolved, comparison: comparisonPeriod(resolved, config.comparison), runId: 'test', log: silentLogger };
      await prepare(ctx);
      out = { attribution: await computeAttribution(ctx), roi: await computeRoi(ctx) };
      throw rollback;
    })
    .catch((e: unknown) => {
      if (e !== rollback) throw e;
    });
  return out;
}

/** Rows of one model/dimension as key → row. */
export function byKey(rows: ResultRow[], model: string, dimension: string): Map<string, ResultRow> {
  return new Map(rows.filter((r) => r.model === model && r.dimension === dimension).map((r) => [String(r.key), r]));
}

/** Sorted, rounded rows for cross-engine comparison. */
export function normalized(rows: ResultRow[]): string[] {
  return rows
    .map((r) =>
      JSON.stringify(
        Object.keys(r)
          .sort()
          .map((k) => [k, typeof r[k] === 'number' ? Math.round((r[k] as number) * 1e6) / 1e6 : r[k]]),
      ),
    )
    .sort();
}
