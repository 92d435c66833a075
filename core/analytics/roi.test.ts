// ROI on both engines with two foreign currencies: reporting EUR, spend in USD and EUR, revenue in
// GBP and EUR, fixed rates plus a dated rates file that changes both rates mid-period; the
// comparison period; spend without attribution and attribution without spend. Hand-computed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { describeEachEngine } from '../store/test-support.ts';
import { compute, normalized, seed, testConfig } from './attribution-test-support.ts';
import type { Computed } from './attribution-test-support.ts';
import { change } from './roi.ts';
import type { ResultRow } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'touchpoint-roi-'));
const fxFile = join(dir, 'fx.csv');
// GBP 1.2 (fixed) until 03-10, then 1.1; USD 0.9 (fixed) until 03-20, then 0.8.
writeFileSync(fxFile, 'date,currency,rate\n2025-03-10,GBP,1.1\n2025-03-20,USD,0.8\n');
const config = testConfig({ reporting_currency: 'EUR', fx: { rates: { USD: 0.9, GBP: 1.2 }, file: fxFile } }, { models: ['last_touch', 'linear'] });
const PERIOD = { start: '2025-03-01', end: '2025-03-31' };

// Revenue: R1 100 GBP on 03-05 → 120 EUR; R2 50 GBP on 03-15 → 55 EUR; R3 10 EUR. Open R4.
// Spend: Search 100 USD on 03-05 → 90, 100 USD on 03-25 → 80 (campaign g1 "Brand");
// Social 50 EUR (fb-1 "Spring", matched to the touches' name); Display 30 EUR (no campaign).
// Comparison period (2025-01-29..2025-02-28): P1 Search → 40 EUR; Search spend 20 EUR.
const day = (md: string): string => `2025-${md}T12:00:00.000Z`;

const results: Record<string, Computed> = {};

describeEachEngine('roi', (engine) => {
  let store: Store;
  let out: Computed;
  const row = (model: string, dimension: string, key: string, date: string | null = null): ResultRow => {
    const r = out.roi.find((x) => x.model === model && x.dimension === dimension && x.key === key && (date === null || x.date === date));
    if (!r) throw new Error(`no ${model}/${dimension}/${key}/${date}`);
    return r;
  };
  beforeAll(async () => {
    store = await openStore({ url: await engine.freshUrl() });
    await store.migrate();
    await seed(
      store,
      [
        { id: 'R1', touches: [['Search', day('03-02'), 'g1', 'Brand']], convertedAt: day('03-05'), value: 100, currency: 'GBP' },
        { id: 'R2', touches: [['Social', day('03-08'), null, 'Spring'], ['Search', day('03-12'), 'g1', 'Brand']], convertedAt: day('03-15'), value: 50, currency: 'gbp' },
        { id: 'R3', touches: [['Email', day('03-20')]], convertedAt: day('03-21'), value: 10, currency: 'EUR' },
        { id: 'R4', touches: [['Social', day('03-25'), null, 'Spring']] },
        { id: 'P1', touches: [['Search', day('02-10'), 'g1', 'Brand']], convertedAt: day('02-12'), value: 40 },
      ],
      [
        { date: '2025-03-05', channel: 'Search', cost: 100, currency: 'USD', campaign_id: 'g1', campaign: 'Brand' },
        { date: '2025-03-25', channel: 'Search', cost: 100, currency: 'USD', campaign_id: 'g1', campaign: 'Brand' },
        { date: '2025-03-08', channel: 'Social', cost: 50, currency: 'EUR', campaign_id: 'fb-1', campaign: 'Spring' },
        { date: '2025-03-09', channel: 'Display', cost: 30 },
        { date: '2025-02-10', channel: 'Search', cost: 20, campaign_id: 'g1', campaign: 'Brand' },
      ],
    );
    out = await compute(store, config, PERIOD);
    results[engine.dialect] = out;
  });
  afterAll(async () => {
    await store?.close();
    if (engine.dialect === 'postgres') rmSync(dir, { recursive: true, force: true });
  });

  it('total: all spend, all revenue, every journey of the period', () => {
    // spend 90 + 80 + 50 + 30 = 250; revenue 120 + 55 + 10 = 185; 3 conversions; 4 journeys.
    expect(row('last_touch', 'total', 'total')).toMatchObject({ label: 'Total', channel: null, spend: 250, journeys: 4, conversions: 3, currency: 'EUR' });
    const t = row('last_touch', 'total', 'total');
    expect(t.revenue).toBeCloseTo(185, 9);
    expect(t.roas).toBeCloseTo(185 / 250, 9);
    expect(t.cpa).toBeCloseTo(250 / 3, 9);
    expect(t.cost_per_journey).toBeCloseTo(62.5, 9);
    // Previous: spend 20, revenue 40, roas 2.
    expect(t).toMatchObject({ prev_spend: 20, prev_revenue: 40, prev_conversions: 1, prev_roas: 2 });
    expect(t.spend_change).toBeCloseTo((250 - 20) / 20, 9);
    expect(t.revenue_change).toBeCloseTo((185 - 40) / 40, 9);
    expect(t.roas_change).toBeCloseTo((185 / 250 - 2) / 2, 9);
  });

  it('channels under last touch: ROAS, CPA, cost per journey, with the dated rates', () => {
    // Search: R1 120 + R2 55 = 175 on spend 170; journeys touched R1, R2.
    const search = row('last_touch', 'channel', 'Search');
    expect(search.spend).toBeCloseTo(170, 9);
    expect(search.revenue).toBeCloseTo(175, 9);
    expect(search).toMatchObject({ conversions: 2, journeys: 2, prev_spend: 20, prev_revenue: 40, prev_roas: 2 });
    expect(search.roas).toBeCloseTo(175 / 170, 9);
    expect(search.cpa).toBeCloseTo(85, 9);
    expect(search.cost_per_journey).toBeCloseTo(85, 9);
    expect(search.spend_change).toBeCloseTo(7.5, 9);
    // Social: spend, no attributed revenue → still a row, ROAS 0, no CPA; journeys R2, R4.
    expect(row('last_touch', 'channel', 'Social')).toMatchObject({ spend: 50, revenue: 0, conversions: 0, roas: 0, cpa: null, cost_per_journey: 25, prev_spend: 0, spend_change: null });
    // Email: attributed, no spend → spend 0, ROAS null.
    expect(row('last_touch', 'channel', 'Email')).toMatchObject({ spend: 0, revenue: 10, conversions: 1, roas: null, cpa: null, cost_per_journey: null });
    // Display: spend only, no journey touched.
    expect(row('last_touch', 'channel', 'Display')).toMatchObject({ spend: 30, revenue: 0, journeys: 0, roas: 0, cost_per_journey: null });
  });

  it('linear splits R2 between Social and Search', () => {
    expect(row('linear', 'channel', 'Search').revenue).toBeCloseTo(120 + 27.5, 9);
    expect(row('linear', 'channel', 'Social').revenue).toBeCloseTo(27.5, 9);
    expect(row('linear', 'channel', 'Social').roas).toBeCloseTo(27.5 / 50, 9);
  });

  it('campaigns: spend ids meet touch ids, and names without ids', () => {
    expect(row('last_touch', 'campaign', 'g1')).toMatchObject({ label: 'Brand', channel: 'Search', spend: 170, conversions: 2 });
    expect(row('linear', 'campaign', 'fb-1')).toMatchObject({ label: 'Spring', channel: 'Social', spend: 50, journeys: 2 });
    expect(row('linear', 'campaign', 'fb-1').revenue).toBeCloseTo(27.5, 9);
    // Display's spend and Email's conversion carry no campaign: both land on (none).
    expect(row('last_touch', 'campaign', '(none)')).toMatchObject({ spend: 30, revenue: 10, conversions: 1 });
  });

  it('days: revenue on the conversion date, spend on its date, no comparison', () => {
    expect(row('last_touch', 'date', 'Search', '2025-03-05')).toMatchObject({ spend: 90, conversions: 1, channel: 'Search', prev_spend: null });
    expect(row('last_touch', 'date', 'Search', '2025-03-05').revenue).toBeCloseTo(120, 9);
    expect(row('last_touch', 'date', 'Search', '2025-03-15')).toMatchObject({ spend: 0, roas: null });
    expect(row('last_touch', 'date', 'Search', '2025-03-25')).toMatchObject({ spend: 80, revenue: 0, roas: 0 });
    // Journeys touched that day by that channel.
    expect(row('last_touch', 'date', 'Social', '2025-03-08')).toMatchObject({ spend: 50, journeys: 1, cost_per_journey: 50 });
    const days = out.roi.filter((r) => r.model === 'last_touch' && r.dimension === 'date');
    expect(days.reduce((s, r) => s + Number(r.spend), 0)).toBeCloseTo(250, 9);
    expect(days.reduce((s, r) => s + Number(r.revenue), 0)).toBeCloseTo(185, 9);
  });

  it('every model: channel, campaign and day rows add up to the total', () => {
    for (const model of ['last_touch', 'linear']) {
      for (const dimension of ['channel', 'campaign', 'date']) {
        const rows = out.roi.filter((r) => r.model === model && r.dimension === dimension);
        expect(rows.reduce((s, r) => s + Number(r.spend), 0)).toBeCloseTo(250, 9);
        expect(rows.reduce((s, r) => s + Number(r.revenue), 0)).toBeCloseTo(185, 9);
        expect(rows.reduce((s, r) => s + Number(r.conversions), 0)).toBeCloseTo(3, 9);
      }
    }
  });
});

describe('roi', () => {
  it('change is relative, null without a base', () => {
    expect(change(15, 10)).toBe(0.5);
    expect(change(15, 0)).toBeNull();
    expect(change(15, null)).toBeNull();
    expect(change(null, 3)).toBeNull();
  });
  it('DuckDB and PostgreSQL give the same rows', () => {
    if (!results.duckdb || !results.postgres) return expect.fail('both engines must have run');
    expect(normalized(results.postgres.roi)).toEqual(normalized(results.duckdb.roi));
    expect(normalized(results.postgres.attribution)).toEqual(normalized(results.duckdb.attribution));
  });
});
