// Paths against hand-computed numbers, on both engines: top N conversion and non-conversion paths
// with repeats collapsed and raw, a path cut to its last max_length channels, the journey without
// touchpoints, path lengths, the transition matrix and step flows.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { describeEachEngine } from '../store/test-support.ts';
import { computePaths } from './paths.ts';
import { insertJourneys, rounded, runModule } from './test-world.ts';
import type { JourneySpec } from './test-world.ts';
import type { ResultRow } from './types.ts';

const t = (day: number, channel: string) => ({ at: `2025-01-${String(day).padStart(2, '0')}T10:00:00Z`, channel });

const WORLD: JourneySpec[] = [
  { person: 'P1', touches: [t(1, 'Paid Search'), t(2, 'Paid Search'), t(3, 'Email')], conversion: { at: '2025-01-04T00:00:00Z', value: 100 } },
  { person: 'P2', touches: [t(1, 'Paid Search'), t(2, 'Email')], conversion: { at: '2025-01-04T00:00:00Z', value: 50 } },
  { person: 'P3', touches: [], conversion: { at: '2025-01-04T00:00:00Z', value: 30 } },
  { person: 'P4', touches: [t(1, 'Organic Search'), t(2, 'Direct')] },
  { person: 'P5', touches: [t(1, 'Organic Search')] },
  { person: 'P6', touches: [t(1, 'Display'), t(2, 'Referral'), t(3, 'Email'), t(4, 'Direct')] },
];

describeEachEngine('paths', (engine) => {
  let store: Store;
  let rows: ResultRow[];
  beforeAll(async () => {
    store = await openStore({ url: await engine.freshUrl() });
    await store.migrate();
    await insertJourneys(store, WORLD);
    rows = rounded(await runModule(store, computePaths, { paths: { top: 2, max_length: 3, flow_steps: 2 }, reporting_currency: 'EUR' }));
  });
  afterAll(async () => store.close());

  const of = (kind: string, collapsed: boolean) => rows.filter((r) => r.kind === kind && r.collapsed === collapsed);

  it('top N conversion paths, collapsed and raw, ties by path', () => {
    expect(of('conversion_path', true).map((r) => [r.rank, r.path, r.length, r.journeys, r.conversions, r.revenue, r.share, r.currency])).toEqual([
      [1, 'Paid Search > Email', 2, 2, 2, 150, 0.666666667, 'EUR'],
      [2, '(none)', 0, 1, 1, 30, 0.333333333, 'EUR'],
    ]);
    expect(of('conversion_path', false).map((r) => [r.rank, r.path, r.journeys, r.revenue])).toEqual([
      [1, '(none)', 1, 30],
      [2, 'Paid Search > Email', 1, 50],
    ]);
  });

  it('non-conversion paths (open journeys), a long path keeping its last max_length channels', async () => {
    expect(of('non_conversion_path', true).map((r) => [r.rank, r.path, r.journeys, r.conversions, r.revenue, r.share])).toEqual([
      [1, 'Organic Search', 1, 0, 0, 0.333333333],
      [2, 'Organic Search > Direct', 1, 0, 0, 0.333333333],
    ]);
    const all = rounded(await runModule(store, computePaths, { paths: { top: 10, max_length: 3 } }));
    expect(all.filter((r) => r.kind === 'non_conversion_path' && r.collapsed).map((r) => [r.path, r.length])).toContainEqual(['… > Referral > Email > Direct', 4]);
  });

  it('path lengths', () => {
    expect(of('path_length', true).map((r) => [r.length, r.journeys, r.conversions, r.revenue])).toEqual([
      [0, 1, 1, 30],
      [1, 1, 0, 0],
      [2, 3, 2, 150],
      [4, 1, 0, 0],
    ]);
    expect(of('path_length', false).map((r) => [r.path, r.journeys, r.conversions])).toEqual([
      ['0', 1, 1],
      ['1', 1, 0],
      ['2', 2, 1],
      ['3', 1, 1],
      ['4', 1, 0],
    ]);
  });

  it('the transition matrix with (start), (conversion) and (null)', () => {
    const matrix = (collapsed: boolean) => Object.fromEntries(of('transition', collapsed).map((r) => [`${r.from_state} → ${r.to_state}`, [r.journeys, r.share]]));
    expect(matrix(true)).toEqual({
      '(start) → (conversion)': [1, 0.166666667],
      '(start) → Display': [1, 0.166666667],
      '(start) → Organic Search': [2, 0.333333333],
      '(start) → Paid Search': [2, 0.333333333],
      'Direct → (null)': [2, 1],
      'Display → Referral': [1, 1],
      'Email → (conversion)': [2, 0.666666667],
      'Email → Direct': [1, 0.333333333],
      'Organic Search → (null)': [1, 0.5],
      'Organic Search → Direct': [1, 0.5],
      'Paid Search → Email': [2, 1],
      'Referral → Email': [1, 1],
    });
    const raw = matrix(false);
    expect(raw['Paid Search → Paid Search']).toEqual([1, 0.333333333]);
    expect(raw['Paid Search → Email']).toEqual([2, 0.666666667]);
  });

  it('flows per step, up to flow_steps', () => {
    const flows = of('flow', true)
      .map((r) => `${r.step}: ${r.from_state} → ${r.to_state} ${r.journeys}`)
      .sort();
    expect(flows).toEqual([
      '1: Display → Referral 1',
      '1: Organic Search → (null) 1',
      '1: Organic Search → Direct 1',
      '1: Paid Search → Email 2',
      '2: Direct → (null) 1',
      '2: Email → (conversion) 2',
      '2: Referral → Email 1',
    ]);
  });
});
