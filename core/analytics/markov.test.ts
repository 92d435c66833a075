// The Markov solver against independent calculations: a two-channel chain worked out by hand, and
// random chains where each removal effect is recomputed the slow way — the removal chain built
// explicitly and solved by fixed-point iteration — instead of through the fundamental matrix.
import { describe, expect, it } from 'vitest';
import { CONVERSION, NULL_STATE, START, removalEffects } from './markov.ts';
import type { Transition } from './markov.ts';

/** Transition counts of paths as attribution.ts's SQL counts them (repeats kept). */
function transitionsOf(paths: { states: string[]; converted: boolean }[]): Transition[] {
  const counts = new Map<string, number>();
  for (const p of paths) {
    const seq = [START, ...p.states, p.converted ? CONVERSION : NULL_STATE];
    for (let i = 1; i < seq.length; i++) counts.set(`${seq[i - 1]}\u0000${seq[i]}`, (counts.get(`${seq[i - 1]}\u0000${seq[i]}`) ?? 0) + 1);
  }
  return [...counts].map(([k, count]) => {
    const [from, to] = k.split('\u0000');
    return { from, to, count };
  });
}

/** P(conversion from start) with `removed` redirected to null, by iterating x ← Qx + r to a fixed point. */
function slowProbability(transitions: Transition[], removed: string | null): number {
  const out = new Map<string, number>();
  for (const t of transitions) out.set(t.from, (out.get(t.from) ?? 0) + t.count);
  const states = [...out.keys()];
  let x = new Map(states.map((s) => [s, 0]));
  for (let iter = 0; iter < 200_000; iter++) {
    const next = new Map<string, number>();
    for (const s of states) {
      let v = 0;
      for (const t of transitions) {
        if (t.from !== s || t.to === removed || t.to === NULL_STATE) continue;
        v += (t.count / (out.get(s) as number)) * (t.to === CONVERSION ? 1 : (x.get(t.to) as number));
      }
      next.set(s, v);
    }
    const delta = Math.max(...states.map((s) => Math.abs((next.get(s) as number) - (x.get(s) as number))));
    x = next;
    if (delta < 1e-15) break;
  }
  return x.get(START) ?? 0;
}

function rng(start: number): () => number {
  let s = start >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('markov', () => {
  it('two channels, by hand', () => {
    // Paths: A→B→conv, B→null, A→null. start→A ⅔, →B ⅓; A→B ½, A→null ½; B→conv ½, B→null ½.
    // x_B = ½, x_A = ¼, P = ⅔·¼ + ⅓·½ = ⅓. Without A: P = ⅓·½ = ⅙ → RE ½. Without B: P = 0 → RE 1.
    const r = removalEffects(
      transitionsOf([
        { states: ['A', 'B'], converted: true },
        { states: ['B'], converted: false },
        { states: ['A'], converted: false },
      ]),
    );
    expect(r.probability).toBeCloseTo(1 / 3, 12);
    expect(r.removal.get('A')).toBeCloseTo(0.5, 12);
    expect(r.removal.get('B')).toBeCloseTo(1, 12);
    expect(r.shares?.get('A')).toBeCloseTo(1 / 3, 12);
    expect(r.shares?.get('B')).toBeCloseTo(2 / 3, 12);
  });

  it('self-loops (repeated channels) are kept', () => {
    // A→A→conv and A→null: A→A ⅓, A→conv ⅓, A→null ⅓ → x_A = ½.
    const r = removalEffects(transitionsOf([{ states: ['A', 'A'], converted: true }, { states: ['A'], converted: false }]));
    expect(r.probability).toBeCloseTo(0.5, 12);
    expect(r.shares?.get('A')).toBe(1);
  });

  it('no conversion at all: probability 0, no shares (the caller falls back)', () => {
    const r = removalEffects(transitionsOf([{ states: ['A', 'B'], converted: false }]));
    expect(r.probability).toBe(0);
    expect(r.shares).toBeNull();
  });

  it('random chains: every removal effect equals the removal chain solved by iteration', () => {
    const rand = rng(42);
    for (let trial = 0; trial < 25; trial++) {
      const channels = ['A', 'B', 'C', 'D', 'E', 'F'].slice(0, 2 + Math.floor(rand() * 5));
      const paths = Array.from({ length: 5 + Math.floor(rand() * 30) }, () => ({
        states: Array.from({ length: 1 + Math.floor(rand() * 5) }, () => channels[Math.floor(rand() * channels.length)]),
        converted: rand() < 0.4,
      }));
      paths[0].converted = true;
      const transitions = transitionsOf(paths);
      const fast = removalEffects(transitions);
      const p = slowProbability(transitions, null);
      expect(fast.probability).toBeCloseTo(p, 9);
      for (const [c, effect] of fast.removal) expect(effect).toBeCloseTo((p - slowProbability(transitions, c)) / p, 8);
      expect([...(fast.shares ?? new Map()).values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });
});
