// Shapley attribution: the closed form (each converting journey's value split equally over its
// distinct channels) against the definition enumerated over all 2^n coalitions, on random small
// games — efficiency, symmetry, null player — and the SQL on both engines against the same brute force.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { describeEachEngine } from '../store/test-support.ts';
import { byKey, compute, seed, testConfig } from './attribution-test-support.ts';
import type { JourneySpec } from './attribution-test-support.ts';
import { shapleyClosedForm } from './shapley.ts';

type Game = { players: string[]; value: number }[];

/** φ_i = Σ_{S ⊆ N∖{i}} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)), v(S) = Σ value of journeys whose players ⊆ S. */
function bruteForce(players: string[], journeys: Game): Map<string, number> {
  const n = players.length;
  const fact = [1];
  for (let i = 1; i <= n; i++) fact[i] = fact[i - 1] * i;
  const v = (mask: number) => journeys.filter((j) => j.players.every((p) => mask & (1 << players.indexOf(p)))).reduce((s, j) => s + j.value, 0);
  const phi = new Map<string, number>();
  players.forEach((p, i) => {
    let total = 0;
    for (let mask = 0; mask < 1 << n; mask++) {
      if (mask & (1 << i)) continue;
      const size = popcount(mask);
      total += ((fact[size] * fact[n - size - 1]) / fact[n]) * (v(mask | (1 << i)) - v(mask));
    }
    phi.set(p, total);
  });
  return phi;
}

function popcount(x: number): number {
  let c = 0;
  for (let y = x; y; y &= y - 1) c++;
  return c;
}

function rng(start: number): () => number {
  let s = start >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomGame(rand: () => number, players: string[], count: number): Game {
  return Array.from({ length: count }, () => ({
    players: Array.from({ length: 1 + Math.floor(rand() * 4) }, () => players[Math.floor(rand() * players.length)]),
    value: Math.round(rand() * 1000) / 10,
  }));
}

describe('shapley', () => {
  const rand = rng(7);
  it('closed form = the definition, efficiency, null player (random games)', () => {
    for (let trial = 0; trial < 40; trial++) {
      const players = ['A', 'B', 'C', 'D', 'E', 'F', 'G'].slice(0, 2 + Math.floor(rand() * 6));
      const game = randomGame(rand, players.slice(0, -1), 1 + Math.floor(rand() * 12));
      const brute = bruteForce(players, game);
      const closed = shapleyClosedForm(game);
      for (const p of players) expect(closed.get(p) ?? 0).toBeCloseTo(brute.get(p) as number, 9);
      // Efficiency: Σ φ = v(N).
      expect([...brute.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(game.reduce((s, j) => s + j.value, 0), 9);
      // The last player never plays: a null player gets 0.
      expect(brute.get(players.at(-1) as string)).toBeCloseTo(0, 12);
    }
  });

  it('symmetry: players who always appear together get the same value', () => {
    for (let trial = 0; trial < 20; trial++) {
      const game = randomGame(rand, ['A', 'B', 'C', 'D'], 8).map((j) => ({ ...j, players: j.players.includes('A') ? [...j.players, 'Z'] : j.players.filter((p) => p !== 'Z') }));
      const brute = bruteForce(['A', 'B', 'C', 'D', 'Z'], game);
      expect(brute.get('Z')).toBeCloseTo(brute.get('A') as number, 9);
      expect(shapleyClosedForm(game).get('Z') ?? 0).toBeCloseTo(brute.get('A') as number, 9);
    }
  });
});

describeEachEngine('shapley SQL', (engine) => {
  let store: Store;
  const rand = rng(2025);
  const channels = ['Search', 'Social', 'Email', 'Display', 'Direct'];
  const journeys: JourneySpec[] = Array.from({ length: 30 }, (_, i) => {
    const n = 1 + Math.floor(rand() * 5);
    const touches = Array.from({ length: n }, (_t, k): [string, string] => [channels[Math.floor(rand() * channels.length)], new Date(Date.UTC(2025, 2, 1 + k, i % 24)).toISOString()]);
    const converted = rand() < 0.6;
    return { id: `S${i}`, touches, ...(converted ? { convertedAt: new Date(Date.UTC(2025, 2, 10, i % 24)).toISOString(), value: Math.round(rand() * 500) } : {}) };
  });
  beforeAll(async () => {
    store = await openStore({ url: await engine.freshUrl() });
    await store.migrate();
    await seed(store, journeys);
  });
  afterAll(async () => store?.close());

  it('equals the brute-force Shapley values of the conversion and the revenue games', async () => {
    const out = await compute(store, testConfig({}, { models: ['shapley'] }));
    const rows = byKey(out.attribution, 'shapley', 'channel');
    const converting = journeys.filter((j) => j.convertedAt);
    const count = bruteForce(channels, converting.map((j) => ({ players: j.touches.map((t) => t[0]), value: 1 })));
    const revenue = bruteForce(channels, converting.map((j) => ({ players: j.touches.map((t) => t[0]), value: j.value as number })));
    for (const c of channels) {
      expect(Number(rows.get(c)?.conversions ?? 0)).toBeCloseTo(count.get(c) as number, 9);
      expect(Number(rows.get(c)?.revenue ?? 0)).toBeCloseTo(revenue.get(c) as number, 9);
    }
  });
});
