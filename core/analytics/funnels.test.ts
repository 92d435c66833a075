// Funnels against hand-computed numbers, on both engines: the cumulative stage funnel (a purchase
// without a consideration touchpoint still passed consideration), retention after purchase, medians
// to the next step, segments by the first touchpoint, and a custom funnel whose max_hours cuts a step.
import { afterEach, expect, it } from 'vitest';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { describeEachEngine } from '../store/test-support.ts';
import { computeFunnels } from './funnels.ts';
import { insertJourneys, rounded, runModule } from './test-world.ts';
import type { ResultRow } from './types.ts';

const STAGE_WORLD = [
  {
    person: 'A',
    touches: [
      { at: '2025-01-01T10:00:00Z', channel: 'Paid Search', stage: 'awareness', device: 'mobile', campaign: 'brand' },
      { at: '2025-01-01T12:00:00Z', channel: 'Email', stage: 'consideration' },
      { at: '2025-01-02T10:00:00Z', channel: 'Direct', stage: 'decision' },
    ],
    conversion: { at: '2025-01-02T12:00:00Z', value: 100 },
  },
  { person: 'A', n: 2, touches: [{ at: '2025-01-10T12:00:00Z', channel: 'Email', stage: 'retention' }] },
  {
    person: 'B',
    touches: [
      { at: '2025-01-03T10:00:00Z', channel: 'Organic Search', stage: 'awareness', device: 'desktop' },
      { at: '2025-01-04T10:00:00Z', channel: 'Direct', stage: 'decision' },
    ],
    conversion: { at: '2025-01-05T10:00:00Z', value: 50 },
  },
  {
    person: 'C',
    touches: [
      { at: '2025-01-05T00:00:00Z', channel: 'Paid Search', stage: 'awareness', device: 'desktop', campaign: 'brand' },
      { at: '2025-01-06T00:00:00Z', channel: 'Paid Search', stage: 'consideration' },
    ],
  },
  { person: 'D', touches: [{ at: '2025-01-07T00:00:00Z', channel: 'Organic Search', stage: 'awareness', device: 'mobile' }] },
];

const pick = (rows: ResultRow[], funnel: string, type: string, value: string) =>
  rounded(rows)
    .filter((r) => r.funnel === funnel && r.segment_type === type && r.segment_value === value)
    .map(({ step, entrants, conversions, drop_off, drop_off_rate, overall_rate, median_seconds_to_next }) => [step, entrants, conversions, drop_off, drop_off_rate, overall_rate, median_seconds_to_next]);

describeEachEngine('funnels', (engine) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  const fresh = async () => {
    store = await openStore({ url: await engine.freshUrl() });
    await store.migrate();
    return store;
  };

  it('the stage funnel: cumulative up to purchase, retention after it, medians to the next step', async () => {
    const s = await fresh();
    await insertJourneys(s, STAGE_WORLD);
    const rows = await runModule(s, computeFunnels);
    expect(pick(rows, 'stages', 'all', '(all)')).toEqual([
      ['awareness', 4, 3, 1, 0.25, 1, 86400],
      ['consideration', 3, 2, 1, 0.333333333, 0.75, 39600],
      ['decision', 2, 2, 0, 0, 0.5, 46800],
      ['purchase', 2, 1, 1, 0.5, 0.5, 691200],
      ['retention', 1, 1, 0, 0, 0.25, null],
    ]);
    expect(rows.find((r) => r.segment_type === 'all' && r.step_number === 1)).toMatchObject({ funnel: 'stages', step_number: 1 });
  });

  it('segments by the first touchpoint: channel, campaign (unknown → (none)) and device', async () => {
    const s = await fresh();
    await insertJourneys(s, STAGE_WORLD);
    const rows = await runModule(s, computeFunnels);
    const entrants = (type: string, value: string) => pick(rows, 'stages', type, value).map((r) => r[1]);
    expect(entrants('first_touch_channel', 'Paid Search')).toEqual([2, 2, 1, 1, 1]);
    expect(entrants('first_touch_channel', 'Organic Search')).toEqual([2, 1, 1, 1, 0]);
    expect(entrants('first_touch_campaign', 'brand')).toEqual([2, 2, 1, 1, 1]);
    expect(entrants('first_touch_campaign', '(none)')).toEqual([2, 1, 1, 1, 0]);
    expect(entrants('device', 'mobile')).toEqual([2, 1, 1, 1, 1]);
    expect(entrants('device', 'desktop')).toEqual([2, 2, 1, 1, 0]);
    expect(new Set(rows.map((r) => r.segment_type))).toEqual(new Set(['all', 'first_touch_channel', 'first_touch_campaign', 'device']));
    // Only the segments asked for.
    const only = await runModule(s, computeFunnels, { segments: ['device'] });
    expect(new Set(only.map((r) => r.segment_type))).toEqual(new Set(['all', 'device']));
  });

  it('a custom funnel: ordered steps, each strictly after the previous, max_hours cutting a late step', async () => {
    const s = await fresh();
    await insertJourneys(s, [
      {
        person: 'E',
        touches: [
          { at: '2025-02-01T10:00:00Z', name: 'session_start' },
          { at: '2025-02-01T10:10:00Z', name: 'add_to_cart' },
        ],
        conversion: { at: '2025-02-03T10:00:00Z', name: 'purchase' },
      },
      {
        person: 'F',
        touches: [
          { at: '2025-02-02T09:00:00Z', name: 'session_start' },
          { at: '2025-02-02T10:00:00Z', name: 'add_to_cart' },
        ],
        conversion: { at: '2025-02-02T20:00:00Z', name: 'purchase' },
      },
      // A cart before the visit does not count: the cart must come after it.
      {
        person: 'G',
        touches: [
          { at: '2025-02-05T10:00:00Z', name: 'add_to_cart' },
          { at: '2025-02-05T11:00:00Z', name: 'session_start' },
        ],
      },
    ]);
    const steps = [{ name: 'Visit', events: ['session_start'] }, { name: 'Cart', events: ['add_to_cart'] }];
    const rows = await runModule(s, computeFunnels, {
      segments: [],
      funnels: [
        { name: 'checkout', steps: [...steps, { name: 'Purchase', events: ['purchase'], max_hours: 24 }] },
        { name: 'uncut', steps: [...steps, 'purchase'] },
      ],
    });
    expect(pick(rows, 'checkout', 'all', '(all)')).toEqual([
      ['Visit', 3, 2, 1, 0.333333333, 1, 2100],
      ['Cart', 2, 1, 1, 0.5, 0.666666667, 36000],
      ['Purchase', 1, 1, 0, 0, 0.333333333, null],
    ]);
    expect(pick(rows, 'uncut', 'all', '(all)').map((r) => r[1])).toEqual([3, 2, 2]);
    expect(pick(rows, 'uncut', 'all', '(all)')[1][6]).toBe((36000 + 172200) / 2);
  });

  it('an empty period gives the steps with zero entrants', async () => {
    const s = await fresh();
    await insertJourneys(s, STAGE_WORLD);
    const rows = await runModule(s, computeFunnels, {}, '2024-06');
    expect(pick(rows, 'stages', 'all', '(all)').map((r) => [r[1], r[4], r[5]])).toEqual(Array.from({ length: 5 }, () => [0, null, null]));
    expect(rows.every((r) => r.segment_type === 'all')).toBe(true);
  });
});
