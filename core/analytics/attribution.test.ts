// Attribution on a real DuckDB file and a real PostgreSQL schema: a five-journey world worked out by
// hand for every model (the numbers in the comments), the sum invariants, campaign keys, and
// DuckDB = PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { describeEachEngine } from '../store/test-support.ts';
import { byKey, compute, normalized, seed, testConfig } from './attribution-test-support.ts';
import type { Computed, JourneySpec } from './attribution-test-support.ts';
import { ATTRIBUTION_MODELS } from './config.ts';
import type { ResultRow } from './types.ts';

const day = (d: number, h = 10): string => new Date(Date.UTC(2025, 2, 1 + d, h)).toISOString();

// Half-life 7 days. Paths (→ the conversion):
//   J1  Social@0 (camp "Spring", no id)  Search@7 (id s1 "Brand")            → conv @7,  90
//   J2  Search@0 (s1)  Direct@7                                               → conv @14, 60
//   J3  Email@0  Social@7 (Spring)  Social@14 (Spring)  Search@14 (s1)        → conv @14, 110
//   J4  Social@0  Email@1                                                     (open)
//   J5  no touch; converts @3 in a Referral session                          → conv @3,  20
// Totals: 4 conversions, 280 revenue.
const WORLD: JourneySpec[] = [
  { id: 'J1', touches: [['Social', day(0), null, 'Spring'], ['Search', day(7), 's1', 'Brand']], convertedAt: day(7, 11), value: 90 },
  { id: 'J2', touches: [['Search', day(0), 's1', 'Brand'], ['Direct', day(7)]], convertedAt: day(14), value: 60 },
  { id: 'J3', touches: [['Email', day(0)], ['Social', day(7), null, 'Spring'], ['Social', day(14), null, 'Spring'], ['Search', day(14, 10), 's1', 'Brand']], convertedAt: day(14, 10), value: 110 },
  { id: 'J4', touches: [['Social', day(0)], ['Email', day(1)]] },
  { id: 'J5', touches: [], convertedAt: day(3), value: 20, conversionChannel: 'Referral' },
];

// Expected [conversions, revenue] per channel.
const EXPECTED: Record<string, Record<string, [number, number]>> = {
  // First touches: Social (J1), Search (J2), Email (J3), Referral (J5: its conversion session).
  first_touch: { Social: [1, 90], Search: [1, 60], Email: [1, 110], Referral: [1, 20] },
  // Last touches: Search (J1, J3), Direct (J2), Referral (J5).
  last_touch: { Search: [2, 200], Direct: [1, 60], Referral: [1, 20] },
  // J2's last touch is Direct: its last non-direct one, Search, gets it.
  last_non_direct: { Search: [3, 260], Referral: [1, 20] },
  // J1 ½ Social ½ Search (45 each); J2 ½ Search ½ Direct (30); J3 ¼ Email, ½ Social (two touches), ¼ Search (27.5 per quarter).
  linear: { Social: [1, 100], Search: [1.25, 102.5], Direct: [0.5, 30], Email: [0.25, 27.5], Referral: [1, 20] },
  // Δt in days before the conversion → 2^(−Δt/7): J1 (7,0) → ½,1 → ⅓,⅔; J2 (14,7) → ¼,½ → ⅓,⅔;
  // J3 (14,7,0,0) → ¼,½,1,1 → 1/11, 2/11, 4/11, 4/11. (J1's conversion is an hour after its last
  // touch: the factor 2^(−1/168) is common to both touches and cancels.)
  // Social ⅓ + 6/11 = 29/33 (30 + 60 = 90); Search ⅔ + ⅓ + 4/11 = 45/33 (60 + 20 + 40); Direct ⅔ (40); Email 1/11 (10).
  time_decay: { Social: [29 / 33, 90], Search: [45 / 33, 120], Direct: [22 / 33, 40], Email: [3 / 33, 10], Referral: [1, 20] },
  // Two touches 50/50; J3 (4 touches): 40% Email, 10% + 10% Social, 40% Search.
  position_based: { Social: [0.7, 67], Search: [1.4, 119], Direct: [0.5, 30], Email: [0.4, 44], Referral: [1, 20] },
  // Each journey's value split over its DISTINCT channels: J3 {Email, Social, Search} ⅓ each (110/3).
  shapley: { Social: [0.5 + 1 / 3, 45 + 110 / 3], Search: [0.5 + 0.5 + 1 / 3, 45 + 30 + 110 / 3], Direct: [0.5, 30], Email: [1 / 3, 110 / 3], Referral: [1, 20] },
  // The chain (all five journeys): start → Social 2/5, Search 1/5, Email 1/5, Referral 1/5;
  // Social → Search 2/4, Social 1/4, Email 1/4; Search → conv 2/3, Direct 1/3; Direct → conv;
  // Email → Social 1/2, null 1/2; Referral → conv. x_Social = ½ + ¼x_Social + ⅛x_Social = 4/5,
  // x_Email = 2/5, P = ⅖·⅘ + ⅕ + ⅕·⅖ + ⅕ = 4/5. Removing Search: P = ⅕ (Referral only) → RE ¾;
  // Social: P = ⅖ → ½; Direct: x_Search = ⅔, x_Social = 8/15, P = 3/5 → ¼; Email: x_Social = ⅔,
  // P = ⅔ → 1/6; Referral: P = 3/5 → ¼. Σ = 23/12 → shares 9, 6, 3, 2, 3 (/23) of 4 and 280.
  markov: {
    Search: [(4 * 9) / 23, (280 * 9) / 23],
    Social: [(4 * 6) / 23, (280 * 6) / 23],
    Direct: [(4 * 3) / 23, (280 * 3) / 23],
    Email: [(4 * 2) / 23, (280 * 2) / 23],
    Referral: [(4 * 3) / 23, (280 * 3) / 23],
  },
};

const results: Record<string, Computed> = {};

describeEachEngine('attribution', (engine) => {
  let store: Store;
  let out: Computed;
  beforeAll(async () => {
    store = await openStore({ url: await engine.freshUrl() });
    await store.migrate();
    await seed(store, WORLD, [{ date: '2025-03-02', channel: 'Social', cost: 10, campaign_id: 'fb-9', campaign: 'Spring' }]);
    out = await compute(store, testConfig());
    results[engine.dialect] = out;
  });
  afterAll(async () => store?.close());

  for (const model of ATTRIBUTION_MODELS) {
    it(`${model}: the hand-computed figures per channel`, () => {
      const rows = byKey(out.attribution, model, 'channel');
      const expected = EXPECTED[model];
      expect([...rows.keys()].filter((k) => Number(rows.get(k)?.conversions) > 1e-12).sort()).toEqual(Object.keys(expected).sort());
      for (const [channel, [conversions, revenue]] of Object.entries(expected)) {
        const row = rows.get(channel) as ResultRow;
        expect(row.conversions).toBeCloseTo(conversions, 9);
        expect(row.revenue).toBeCloseTo(revenue, 9);
        expect(row.conversion_share).toBeCloseTo(conversions / 4, 9);
        expect(row.revenue_share).toBeCloseTo(revenue / 280, 9);
        expect(row.label).toBe(channel);
        expect(row.channel).toBe(channel);
        expect(row.currency).toBe('EUR');
      }
    });
    it(`${model}: conversions and revenue add up to the totals, per channel and per campaign`, () => {
      for (const dimension of ['channel', 'campaign']) {
        const rows = [...byKey(out.attribution, model, dimension).values()];
        expect(rows.reduce((s, r) => s + Number(r.conversions), 0)).toBeCloseTo(4, 9);
        expect(rows.reduce((s, r) => s + Number(r.revenue), 0)).toBeCloseTo(280, 9);
        expect(rows.reduce((s, r) => s + Number(r.conversion_share), 0)).toBeCloseTo(1, 9);
      }
    });
  }

  it('campaigns: the id is the key; a touch with only a name gets the id spend gives that name', () => {
    const last = byKey(out.attribution, 'last_touch', 'campaign');
    // Search touches carry s1 "Brand"; the Direct/Referral ones no campaign → (none).
    expect(last.get('s1')).toMatchObject({ conversions: 2, revenue: 200, label: 'Brand', channel: 'Search' });
    expect(last.get('(none)')).toMatchObject({ conversions: 2, revenue: 80 });
    const first = byKey(out.attribution, 'first_touch', 'campaign');
    // J1's first touch: Social "Spring" without id; spend names fb-9 "Spring".
    expect(first.get('fb-9')).toMatchObject({ conversions: 1, revenue: 90, label: 'Spring', channel: 'Social' });
    expect(first.has('Spring')).toBe(false);
  });

  it('Markov and Shapley differ from the heuristics here', () => {
    const search = (m: string) => Number(byKey(out.attribution, m, 'channel').get('Search')?.conversions);
    const values = ['linear', 'time_decay', 'position_based', 'shapley', 'markov'].map(search);
    expect(new Set(values.map((v) => v.toFixed(6))).size).toBe(values.length);
  });

  it('only the configured models are computed', async () => {
    const some = await compute(store, testConfig({}, { models: ['linear', 'markov'] }));
    expect([...new Set(some.attribution.map((r) => r.model))].sort()).toEqual(['linear', 'markov']);
  });
});

describe('attribution: DuckDB and PostgreSQL', () => {
  it('give the same rows', () => {
    if (!results.duckdb || !results.postgres) return expect.fail('both engines must have run');
    expect(normalized(results.postgres.attribution)).toEqual(normalized(results.duckdb.attribution));
    expect(normalized(results.postgres.roi)).toEqual(normalized(results.duckdb.roi));
  });
});
