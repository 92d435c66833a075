// CX metrics against hand-computed numbers, on both engines: conversion rates, time and touches to
// convert (median, p90, mean), pain points, NPS and CSAT with a monthly trend (months in the
// analytics time zone), churn signals and retention by cohort.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { describeEachEngine } from '../store/test-support.ts';
import { computeCx } from './cx.ts';
import { insertJourneys, insertScores, rounded, runModule } from './test-world.ts';
import type { JourneySpec } from './test-world.ts';
import type { ResultRow } from './types.ts';

const WORLD: JourneySpec[] = [
  {
    person: 'A',
    touches: [
      { at: '2025-01-01T00:00:00Z', channel: 'Paid Search', stage: 'awareness' },
      { at: '2025-01-01T06:00:00Z', channel: 'Email', stage: 'consideration' },
    ],
    conversion: { at: '2025-01-02T00:00:00Z', value: 100 },
  },
  { person: 'B', touches: [{ at: '2025-01-01T00:00:00Z', channel: 'Organic Search', stage: 'awareness' }], conversion: { at: '2025-01-01T01:00:00Z' } },
  { person: 'B', n: 2, touches: [{ at: '2025-03-01T10:00:00Z', channel: 'Email', stage: 'retention' }] },
  {
    person: 'C',
    touches: [
      { at: '2025-01-01T00:00:00Z', channel: 'Paid Search', stage: 'awareness' },
      { at: '2025-01-02T00:00:00Z', channel: 'Paid Search', stage: 'awareness' },
      { at: '2025-01-03T00:00:00Z', channel: 'Email', stage: 'consideration' },
      { at: '2025-01-04T00:00:00Z', channel: 'Direct', stage: 'decision' },
    ],
    conversion: { at: '2025-01-11T00:00:00Z' },
  },
  {
    person: 'D',
    touches: [
      { at: '2025-02-01T00:00:00Z', channel: 'Organic Search', stage: 'awareness' },
      { at: '2025-02-01T00:10:00Z', channel: 'Direct', stage: 'decision', name: 'add_to_cart' },
    ],
  },
  { person: 'E', touches: [{ at: '2025-03-31T00:00:00Z', channel: 'Display', stage: 'awareness' }] },
  { person: 'F', touches: [{ at: '2025-03-19T00:00:00Z', channel: 'Paid Search', stage: 'awareness' }], conversion: { at: '2025-03-20T00:00:00Z' } },
];

const SCORES = [
  ...[10, 9, 7].map((value, i) => ({ name: 'nps', at: `2025-01-1${i}T12:00:00Z`, value })),
  // 31 January in UTC, 1 February in Warsaw.
  { name: 'nps', at: '2025-01-31T23:30:00Z', value: 3 },
  { name: 'nps', at: '2025-02-10T12:00:00Z', value: 6 },
  { name: 'nps_response', at: '2025-02-11T12:00:00Z', value: 10 },
  ...[5, 4, 2].map((value, i) => ({ name: 'csat', at: `2025-01-1${i}T12:00:00Z`, value })),
  { name: 'csat', at: '2025-02-10T12:00:00Z', value: 3 },
  // Not a survey event.
  { name: 'purchase', at: '2025-02-10T12:00:00Z', value: 99 },
];

describeEachEngine('cx metrics', (engine) => {
  let store: Store;
  let rows: ResultRow[];
  beforeAll(async () => {
    store = await openStore({ url: await engine.freshUrl() });
    await store.migrate();
    await insertJourneys(store, WORLD);
    await insertScores(store, SCORES);
    rows = rounded(await runModule(store, computeCx, { cx: { churn_days: 30 } }), 6);
  });
  afterAll(async () => store.close());

  const value = (r: ResultRow[], metric: string, type = 'all', segment = '(all)') => {
    const found = r.filter((x) => x.metric === metric && x.segment_type === type && x.segment_value === segment);
    expect(found, `${metric} ${type} ${segment}`).toHaveLength(1);
    return [found[0].value, found[0].n, found[0].unit];
  };
  const list = (r: ResultRow[], metric: string, type: string) => r.filter((x) => x.metric === metric && x.segment_type === type).map((x) => [x.segment_value, x.value, x.n]);

  it('conversion rates, time to convert (median, p90) and touches to convert', () => {
    expect(value(rows, 'conversion_rate')).toEqual([0.571429, 7, 'ratio']);
    expect(value(rows, 'person_conversion_rate')).toEqual([0.666667, 6, 'ratio']);
    expect(value(rows, 'conversion_rate', 'first_touch_channel', 'Paid Search')).toEqual([1, 3, 'ratio']);
    expect(value(rows, 'time_to_convert_median')).toEqual([86400, 4, 'seconds']);
    expect(value(rows, 'time_to_convert_p90')).toEqual([630720, 4, 'seconds']);
    expect(value(rows, 'touches_to_convert_mean')).toEqual([2, 4, 'count']);
    expect(value(rows, 'touches_to_convert_median')).toEqual([1.5, 4, 'count']);
  });

  it('pain points: funnel steps by drop-off, transitions into (null), the last touch of abandoned journeys', async () => {
    expect(list(rows, 'pain_point_step', 'step')).toEqual([
      ['decision', 0.2, 5],
      ['awareness', 0.166667, 6],
      ['consideration', 0, 5],
    ]);
    expect(list(rows, 'pain_point_transition', 'transition')).toEqual([
      ['Display > (null)', 1, 1],
      ['Direct > (null)', 0.5, 2],
      ['Email > (null)', 0.333333, 3],
    ]);
    expect(list(rows, 'abandonment_last_touch', 'last_touch_event')).toEqual([
      ['session_start', 0.666667, 2],
      ['add_to_cart', 0.333333, 1],
    ]);
    expect(list(rows, 'abandonment_last_touch', 'last_touch_channel').map((r) => r[0])).toEqual(['Direct', 'Display', 'Email']);
    expect(list(rows, 'abandonment_last_touch', 'last_touch_stage').map((r) => r[0])).toEqual(['awareness', 'decision', 'retention']);
    const top2 = await runModule(store, computeCx, { cx: { top: 2 } });
    expect(list(top2, 'pain_point_step', 'step').map((r) => r[0])).toEqual(['decision', 'awareness']);
  });

  it('NPS and CSAT overall and per month', async () => {
    expect(value(rows, 'nps')).toEqual([16.666667, 6, 'score']);
    expect(value(rows, 'nps_promoters')).toEqual([50, 6, 'percent']);
    expect(value(rows, 'nps_detractors')).toEqual([33.333333, 6, 'percent']);
    expect(list(rows, 'nps', 'month')).toEqual([
      ['2025-01', 25, 4],
      ['2025-02', 0, 2],
    ]);
    expect(value(rows, 'csat')).toEqual([0.5, 4, 'ratio']);
    expect(value(rows, 'csat_mean')).toEqual([3.5, 4, 'score']);
    expect(list(rows, 'csat', 'month')).toEqual([
      ['2025-01', 0.666667, 3],
      ['2025-02', 0, 1],
    ]);
    const warsaw = rounded(await runModule(store, computeCx, { timezone: 'Europe/Warsaw' }), 6);
    expect(list(warsaw, 'nps', 'month')).toEqual([
      ['2025-01', 66.666667, 3],
      ['2025-02', -33.333333, 3],
    ]);
    // A period holds the answers given in it; none, no rows.
    const february = await runModule(store, computeCx, {}, '2025-02');
    expect(list(february, 'nps', 'all')).toEqual([['(all)', 0, 2]]);
    expect(list(await runModule(store, computeCx, {}, '2024-12'), 'csat', 'all')).toEqual([]);
  });

  it('churn signals: customers silent since their last conversion for churn_days', async () => {
    expect(value(rows, 'churn_signals')).toEqual([2, 3, 'count']);
    expect(value(rows, 'churn_rate')).toEqual([0.666667, 3, 'ratio']);
    const march = rounded(await runModule(store, computeCx, { cx: { churn_days: 30 } }, '2025-03'), 6);
    expect(value(march, 'churn_signals')).toEqual([2, 3, 'count']);
    const long = await runModule(store, computeCx, { cx: { churn_days: 365 } });
    expect(value(long, 'churn_rate')).toEqual([null, 0, 'ratio']);
  });

  it('retention by cohort of first-conversion month', async () => {
    expect(list(rows, 'cohort_retention', 'cohort')).toEqual([
      ['2025-01|+0', 1, 3],
      ['2025-01|+1', 0, 3],
      ['2025-01|+2', 0.333333, 3],
      ['2025-03|+0', 1, 1],
    ]);
    const march = await runModule(store, computeCx, {}, '2025-03');
    expect(list(march, 'cohort_retention', 'cohort')).toEqual([['2025-03|+0', 1, 1]]);
  });
});
