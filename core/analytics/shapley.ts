// Shapley attribution in closed form. The game: players are channels (or campaigns), and a
// coalition S is worth v(S) = Σ value_j over converting journeys j whose set of distinct channels
// D_j ⊆ S (value = 1 for conversions, the revenue for revenue). v = Σ_j value_j · u_{D_j} where
// u_D(S) = [D ⊆ S] is the unanimity game of D, whose Shapley value is 1/|D| for each member of D and 0
// for everyone else. The Shapley value is linear in the game, so φ_c = Σ_{j: c ∈ D_j} value_j / |D_j|:
// exact, with no 2^n enumeration, and one GROUP BY in SQL. shapley.test.ts checks it against the
// definition by brute force. Definitions: docs/analytics.md#attribution.
import { raw, sql } from '../store/sql.ts';
import type { Fragment } from '../store/sql.ts';
import type { Dimension } from './heuristics.ts';

const KEY = { channel: 'channel', campaign: 'campaign_key' } as const;

/** Inserts the Shapley values per (key, conversion date) into `<p>attr`. */
export function insertShapley(p: string, dimension: Dimension): Fragment {
  const key = raw(KEY[dimension]);
  return sql`insert into ${raw(`${p}attr`)} (model, dimension, key, date, conversions, revenue)
    select cast('shapley' as text), cast(${dimension} as text), key, conv_date, sum(1.0 / k), sum(revenue / k)
    from (
      select key, conv_date, revenue, cast(count(*) over (partition by journey_id) as double precision) as k
      from (select distinct journey_id, ${key} as key, conv_date, revenue from ${raw(`${p}at`)} where converted) d
    ) e
    group by key, conv_date`;
}

/** The closed form in memory (tests, small inputs): journeys as (players, value). */
export function shapleyClosedForm(journeys: readonly { players: readonly string[]; value: number }[]): Map<string, number> {
  const phi = new Map<string, number>();
  for (const j of journeys) {
    const distinct = [...new Set(j.players)];
    for (const c of distinct) phi.set(c, (phi.get(c) ?? 0) + j.value / distinct.length);
  }
  return phi;
}
