// Hand-built journeys for the funnels, paths and CX tests: rows written straight into `journeys` and
// `journey_touchpoints` (as the journeys stage would), so the expected numbers can be worked out by
// hand from the touchpoints listed in a test, plus a runner that computes one module for a period
// inside a transaction, as the stage does.
import { createLogger } from '../sdk/log.ts';
import type { Store } from '../store/types.ts';
import { resolveAnalyticsConfig } from './config.ts';
import { comparisonPeriod, resolvePeriod } from './period.ts';
import { dropWorkingTables, prepare } from './prepare.ts';
import type { AnalyticsContext, AnalyticsModule, ResultRow } from './types.ts';

export interface TouchSpec {
  at: string;
  channel?: string;
  stage?: string;
  name?: string;
  device?: string | null;
  campaign?: string | null;
}

export interface JourneySpec {
  person: string;
  /** The journey's number among the person's (default 1). */
  n?: number;
  touches: TouchSpec[];
  conversion?: { at: string; value?: number; currency?: string; name?: string; channel?: string };
}

export const log = createLogger({ secrets: [], level: 'error', write: () => {} });

export async function insertJourneys(store: Store, journeys: JourneySpec[]): Promise<void> {
  const touchpoints: Record<string, unknown>[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const j of journeys) {
    const id = `${j.person}:${j.n ?? 1}`;
    const all = [...j.touches.map((t) => ({ ...t, conv: false })), ...(j.conversion ? [{ at: j.conversion.at, channel: j.conversion.channel ?? 'Direct', stage: 'purchase', name: j.conversion.name ?? 'purchase', device: null, campaign: null, conv: true }] : [])];
    all.forEach((t, i) =>
      touchpoints.push({
        journey_id: id,
        position: i + 1,
        event_id: `${id}:${i + 1}`,
        person_id: j.person,
        occurred_at: new Date(t.at),
        name: t.name ?? 'session_start',
        channel: t.channel ?? 'Direct',
        source_medium: null,
        campaign_id: null,
        campaign: t.campaign ?? null,
        stage: t.stage ?? 'awareness',
        session_key: `${id}:${i + 1}`,
        device: t.device === undefined ? 'desktop' : t.device,
        is_conversion: t.conv,
      }),
    );
    const times = all.map((t) => Date.parse(t.at));
    const first = j.touches[0];
    const last = j.touches.at(-1);
    rows.push({
      journey_id: id,
      person_id: j.person,
      status: j.conversion ? 'converted' : 'open',
      journey_number: j.n ?? 1,
      conversion_event_id: j.conversion ? `${id}:${all.length}` : null,
      conversion_name: j.conversion ? (j.conversion.name ?? 'purchase') : null,
      conversion_at: j.conversion ? new Date(j.conversion.at) : null,
      conversion_value: j.conversion?.value ?? null,
      conversion_currency: j.conversion ? (j.conversion.currency ?? 'EUR') : null,
      started_at: new Date(Math.min(...times)),
      ended_at: new Date(Math.max(...times)),
      touch_count: j.touches.length,
      session_count: all.length,
      first_touch_channel: first?.channel ?? (first ? 'Direct' : null),
      first_touch_campaign: first?.campaign ?? null,
      first_touch_device: first ? (first.device === undefined ? 'desktop' : first.device) : null,
      last_touch_channel: last?.channel ?? (last ? 'Direct' : null),
      last_touch_campaign: last?.campaign ?? null,
      run_id: 'r1',
    });
  }
  if (rows.length > 0) await store.knex('journeys').insert(rows);
  if (touchpoints.length > 0) await store.knex('journey_touchpoints').insert(touchpoints);
}

/** Survey answers (or any scored event) in `events`. */
export async function insertScores(store: Store, scores: { name: string; at: string; value: number }[]): Promise<void> {
  await store.knex('events').insert(
    scores.map((s, i) => ({
      event_id: `survey:${i}`,
      source: 'survey',
      stream: 'responses',
      record_pk: String(i),
      occurred_at: new Date(s.at),
      kind: 'other',
      name: s.name,
      value: s.value,
      properties: '{}',
      run_id: 'r1',
      loaded_at: new Date(),
    })),
  );
}

/** Runs one module for a period (today = the evaluation day of relative periods) as the stage would. */
export async function runModule(store: Store, module: AnalyticsModule, section: Record<string, unknown> = {}, period = 'all', today = '2025-04-01'): Promise<ResultRow[]> {
  const config = resolveAnalyticsConfig({ comparison: 'none', ...section });
  const resolved = resolvePeriod(period, today, config.timezone);
  return store.knex.transaction(async (trx) => {
    const ctx: AnalyticsContext = { db: trx, dialect: store.dialect, config, period: resolved, comparison: comparisonPeriod(resolved, config.comparison), runId: 'test', log };
    await prepare(ctx);
    const rows = await module(ctx);
    await dropWorkingTables(ctx);
    return rows;
  });
}

/** Rounds doubles so both engines' results compare equal. */
export function rounded(rows: ResultRow[], digits = 9): ResultRow[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(digits)) : v])));
}
