// The analytics stage end to end: computeAnalytics writes the result tables for each period with the
// period columns, a re-run replaces a period's rows (never adds to them), and DuckDB and PostgreSQL
// give the same funnels, paths and CX metrics for the same seeded world.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { createPgSchema, describeEachEngine, describeOnPostgres, tempDuckDB } from '../store/test-support.ts';
import { resolveAnalyticsConfig } from './config.ts';
import { ANALYTICS_TABLES } from './schema.ts';
import { computeAnalytics, computeStale } from './stage.ts';
import { insertJourneys, insertScores, log } from './test-world.ts';
import type { JourneySpec, TouchSpec } from './test-world.ts';

/** A seeded world: 150 persons over Q1 2025, some converting, some coming back. */
function world(): { journeys: JourneySpec[]; scores: { name: string; at: string; value: number }[] } {
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
  const channels = ['Paid Search', 'Organic Search', 'Email', 'Direct', 'Display', 'Paid Social'];
  const stages = ['awareness', 'awareness', 'consideration', 'decision'];
  const start = Date.parse('2025-01-01T00:00:00Z');
  const journeys: JourneySpec[] = [];
  const scores: { name: string; at: string; value: number }[] = [];
  for (let p = 0; p < 150; p++) {
    let t = start + next() * 80 * 86_400_000;
    const person = `p${String(p).padStart(3, '0')}`;
    for (let n = 1; n <= 2; n++) {
      const touches: TouchSpec[] = [];
      for (let k = Math.floor(next() * 6); k > 0; k--) {
        t += next() * 3 * 86_400_000;
        touches.push({ at: new Date(t).toISOString(), channel: pick(channels), stage: n > 1 ? 'retention' : pick(stages), name: pick(['session_start', 'add_to_cart', 'email']), device: pick(['mobile', 'desktop', null]), campaign: pick(['brand', 'spring', null]) });
      }
      const converts = next() < 0.4;
      if (converts) t += next() * 86_400_000;
      if (touches.length === 0 && !converts) break;
      journeys.push({ person, n, touches, ...(converts ? { conversion: { at: new Date(t).toISOString(), value: Math.round(next() * 500), currency: pick(['EUR', 'EUR', 'USD']) } } : {}) });
      if (converts && next() < 0.5) scores.push({ name: 'nps', at: new Date(t + 86_400_000).toISOString(), value: Math.floor(next() * 11) }, { name: 'csat', at: new Date(t + 86_400_000).toISOString(), value: 1 + Math.floor(next() * 5) });
      if (!converts) break;
    }
  }
  return { journeys, scores };
}

const config = resolveAnalyticsConfig({
  periods: ['all', '2025-02', 'last_30_days'],
  as_of: '2025-04-01',
  fx: { rates: { USD: 0.9 } },
  funnels: [{ name: 'cart', steps: [{ name: 'Visit', events: ['session_start'] }, { name: 'Cart', events: ['add_to_cart'], max_hours: 72 }, 'purchase'] }],
});

async function seeded(url: string): Promise<Store> {
  const store = await openStore({ url });
  await store.migrate();
  const w = world();
  await insertJourneys(store, w.journeys);
  await insertScores(store, w.scores);
  return store;
}

/** A table's rows for comparing engines: no run columns, numbers rounded, sorted. */
async function contents(store: Store, table: string): Promise<string[]> {
  const rows = (await store.knex(table).select('*')) as Record<string, unknown>[];
  return rows
    .map(({ run_id: _r, computed_at: _c, period_start: _s, period_end: _e, ...r }) =>
      JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?(e-?\d+)?$/.test(v) && k !== 'segment_value' && k !== 'path') ? Number(Number(v).toPrecision(10)) : v]))),
    )
    .sort();
}

describeEachEngine('analytics stage', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await seeded(await engine.freshUrl());
  });
  afterAll(async () => store.close());

  it('writes the result tables for each period; a re-run replaces the period rows', async () => {
    const first = await computeAnalytics(store, config, { runId: 'run-1', log });
    expect(first.map((s) => s.period)).toEqual(['all', '2025-02-01..2025-02-28', '2025-03-02..2025-03-31']);
    for (const s of first) {
      expect(s.rows.funnel_results, s.period).toBeGreaterThan(0);
      expect(s.rows.path_results, s.period).toBeGreaterThan(0);
      expect(s.rows.cx_metrics, s.period).toBeGreaterThan(0);
    }
    const counts = async () => {
      const out: Record<string, number> = {};
      for (const table of ANALYTICS_TABLES) {
        for (const r of (await store.knex(table).select('period', 'run_id').count({ n: '*' }).groupBy('period', 'run_id')) as { period: string; run_id: string; n: unknown }[]) out[`${table} ${r.period} ${r.run_id}`] = Number(r.n);
      }
      return out;
    };
    const before = await counts();
    expect(Object.keys(before).every((k) => k.endsWith(' run-1'))).toBe(true);
    const feb = await store.knex('funnel_results').where({ period: '2025-02-01..2025-02-28' }).first();
    expect(feb).toMatchObject({ period: '2025-02-01..2025-02-28', run_id: 'run-1' });
    expect(String(feb.period_start instanceof Date ? feb.period_start.toISOString() : feb.period_start)).toMatch(/^2025-02-01|^2025-01-31T23/);

    // Re-running one period replaces its rows and leaves the others alone.
    await computeAnalytics(store, config, { runId: 'run-2', log, periods: ['2025-02'] });
    const after = await counts();
    for (const [key, n] of Object.entries(before)) {
      const moved = key.includes('2025-02-01..2025-02-28') ? key.replace(' run-1', ' run-2') : key;
      expect(after[moved], key).toBe(n);
    }
    expect(Object.keys(after)).toHaveLength(Object.keys(before).length);
  });

  it('computeStale reuses current periods and computes those with other settings or changed data', async () => {
    await computeAnalytics(store, config, { runId: 'run-3', log, periods: ['2025-02', 'last_month', '2025-03'] });
    const runOf = async (period: string) => (await store.knex('funnel_results').where({ period }).first('run_id'))?.run_id;
    expect(await runOf('2025-03-01..2025-03-31')).toBe('run-3');
    // Current: nothing computed; an unknown period is.
    let r = await computeStale(store, config, { runId: 'run-4', log, periods: ['2025-02', '2025-01'] });
    expect(r.reused).toEqual(['2025-02-01..2025-02-28']);
    expect(r.computed.map((s) => s.period)).toEqual(['2025-01-01..2025-01-31']);
    // Other settings (another comparison) shape other rows.
    r = await computeStale(store, { ...config, comparison: 'none' }, { runId: 'run-5', log, periods: ['2025-03'] });
    expect(r.computed.map((s) => s.period)).toEqual(['2025-03-01..2025-03-31']);
    // A run after the results: they may be stale.
    const later = new Date(Date.now() + 1000);
    await store.knex('runs').insert({ run_id: 'other', pipeline: 'p', started_at: later, ended_at: later, status: 'succeeded', rows: '{}' });
    r = await computeStale(store, config, { runId: 'run-6', log, periods: ['2025-02'] });
    expect(r).toMatchObject({ reused: [], computed: [{ period: '2025-02-01..2025-02-28' }] });
    expect(await runOf('2025-02-01..2025-02-28')).toBe('run-6');
  });
});

describeOnPostgres('analytics stage: DuckDB and PostgreSQL agree', () => {
  const duck = tempDuckDB();
  let pg: Awaited<ReturnType<typeof createPgSchema>>;
  let stores: Store[] = [];
  beforeAll(async () => {
    pg = await createPgSchema();
    stores = [await seeded(duck.url), await seeded(pg.url)];
    for (const s of stores) await computeAnalytics(s, config, { runId: 'r', log });
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    duck.remove();
    await pg.drop();
  });

  it.each(['funnel_results', 'path_results', 'cx_metrics'])('%s', async (table) => {
    const [d, p] = [await contents(stores[0], table), await contents(stores[1], table)];
    expect(d.length).toBeGreaterThan(10);
    expect(d).toEqual(p);
  });
});
