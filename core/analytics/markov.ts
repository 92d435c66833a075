// Markov-chain attribution: a first-order absorbing chain over the states (start) → channels (or
// campaigns) → (conversion) | (null), estimated from transition counts (computed in SQL by
// attribution.ts), solved exactly with linear algebra. Pure: counts in, removal effects out.
// Definitions: docs/analytics.md#attribution.
//
// With Q the transient (state → state) probabilities, r the one-step conversion probabilities and
// N = (I − Q)⁻¹: x = N r is the conversion probability from each state, P = s·x from (start) (s = the
// start row). Removing state c (every transition into c redirected to (null)) keeps exactly the paths
// that never visit c, so P₋c = P − h_c·x_c, h_c = (s N)_c / N_cc being the probability of ever
// reaching c (strong Markov property). One inverse gives every removal effect: O(n³) instead of the
// O(n⁴) of one solve per removed state. markov.test.ts checks it against per-state solves.
import { RunError } from '../errors.ts';

export const START = '(start)';
export const CONVERSION = '(conversion)';
export const NULL_STATE = '(null)';

export interface Transition {
  from: string;
  to: string;
  count: number;
}

export interface MarkovResult {
  /** Conversion probability from (start). */
  probability: number;
  /** Removal effect per state: (P − P₋c) / P (0 when P = 0). */
  removal: Map<string, number>;
  /** removal_c / Σ removal, or null when Σ removal = 0 (the caller falls back). */
  shares: Map<string, number> | null;
}

/** (I − Q)⁻¹ by Gauss–Jordan elimination with partial pivoting. `a` is I − Q, overwritten. */
export function invert(a: Float64Array[], n: number): Float64Array[] {
  const inv = Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    row[i] = 1;
    return row;
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) < 1e-300) throw new RunError('markov attribution: the transition matrix is singular (a state without any exit)');
    if (pivot !== col) {
      [a[pivot], a[col]] = [a[col], a[pivot]];
      [inv[pivot], inv[col]] = [inv[col], inv[pivot]];
    }
    const ar = a[col];
    const ir = inv[col];
    const p = ar[col];
    for (let k = 0; k < n; k++) {
      ar[k] /= p;
      ir[k] /= p;
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r][col];
      if (f === 0) continue;
      const rr = a[r];
      const ri = inv[r];
      for (let k = 0; k < n; k++) {
        rr[k] -= f * ar[k];
        ri[k] -= f * ir[k];
      }
    }
  }
  return inv;
}

/** The chain's pieces: state order, Q (as I − Q), r and the start row s, from transition counts. */
export function chain(transitions: readonly Transition[]): { states: string[]; iMinusQ: Float64Array[]; r: Float64Array; s: Float64Array } {
  const special = new Set([START, CONVERSION, NULL_STATE]);
  const states = [...new Set(transitions.flatMap((t) => [t.from, t.to]).filter((x) => !special.has(x)))].sort();
  const index = new Map(states.map((c, i) => [c, i]));
  const n = states.length;
  const out = new Float64Array(n);
  let startOut = 0;
  for (const t of transitions) {
    if (t.from === START) startOut += t.count;
    else if (index.has(t.from)) out[index.get(t.from) as number] += t.count;
  }
  const iMinusQ = Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    row[i] = 1;
    return row;
  });
  const r = new Float64Array(n);
  const s = new Float64Array(n);
  for (const t of transitions) {
    const to = index.get(t.to);
    if (t.from === START) {
      if (to !== undefined && startOut > 0) s[to] += t.count / startOut;
      continue;
    }
    const from = index.get(t.from);
    if (from === undefined || out[from] === 0) continue;
    if (to !== undefined) iMinusQ[from][to] -= t.count / out[from];
    else if (t.to === CONVERSION) r[from] += t.count / out[from];
  }
  return { states, iMinusQ, r, s };
}

/** Conversion probability and removal effects of every state, exactly. */
export function removalEffects(transitions: readonly Transition[]): MarkovResult {
  const { states, iMinusQ, r, s } = chain(transitions);
  const n = states.length;
  const N = invert(iMinusQ, n);
  const x = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let k = 0; k < n; k++) acc += N[i][k] * r[k];
    x[i] = acc;
  }
  for (let i = 0; i < n; i++) {
    const si = s[i];
    if (si === 0) continue;
    for (let k = 0; k < n; k++) v[k] += si * N[i][k];
  }
  let probability = 0;
  for (let i = 0; i < n; i++) probability += s[i] * x[i];
  const removal = new Map<string, number>();
  let total = 0;
  states.forEach((c, i) => {
    // h_c·x_c is the probability of converting through c: what removing c loses.
    const lost = N[i][i] > 0 ? (v[i] / N[i][i]) * x[i] : 0;
    const effect = probability > 0 ? Math.min(1, Math.max(0, lost / probability)) : 0;
    removal.set(c, effect);
    total += effect;
  });
  const shares = total > 0 ? new Map([...removal].map(([c, e]) => [c, e / total])) : null;
  return { probability, removal, shares };
}
