// The rule-based attribution models as set-based SQL over the attributable touches `<p>at`
// (attribution.ts): one pass computes every converting touch's weight under each model with window
// functions over its journey, then one GROUP BY per dimension sums weights (conversions) and
// weight × revenue. Runs unchanged on DuckDB and PostgreSQL. Definitions: docs/analytics.md#attribution.
import { inList, join, raw, sql } from '../store/sql.ts';
import type { Fragment } from '../store/sql.ts';

export const HEURISTIC_MODELS = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'time_decay', 'position_based'] as const;
export type HeuristicModel = (typeof HEURISTIC_MODELS)[number];

/** The exponent is floored at −1000: 2^−1000 is still a normal double, and PostgreSQL's power() raises on underflow. */
const MIN_EXPONENT = -1000;

/**
 * `<p>aw`: one row per touch of a converting journey with its weight under every heuristic model
 * (`w_<model>`; each sums to 1 per journey). Time decay counts Δt from the journey's last touch, not
 * from the conversion: the common factor 2^−(conversion − last touch)/h cancels in the normalisation
 * and the last touch keeps weight 1, so the sum never underflows to 0.
 */
export function weightsTable(p: string, halfLifeDays: number, directChannels: readonly string[]): Fragment {
  const t = raw(`${p}at`);
  const dt = raw('(extract(epoch from last_at) - extract(epoch from occurred_at)) / 86400.0');
  return sql`create temporary table ${raw(`${p}aw`)} as
    select journey_id, channel, campaign_key, conv_date, revenue,
      case when rn = 1 then 1.0 else 0.0 end as w_first_touch,
      case when rn = n then 1.0 else 0.0 end as w_last_touch,
      case when rn = coalesce(lnd, n) then 1.0 else 0.0 end as w_last_non_direct,
      1.0 / n as w_linear,
      decay / sum(decay) over (partition by journey_id) as w_time_decay,
      case when n = 1 then 1.0 when n = 2 then 0.5 when rn = 1 or rn = n then 0.4 else 0.2 / (n - 2) end as w_position_based
    from (
      select journey_id, rn, cast(n as double precision) as n, channel, campaign_key, conv_date, revenue,
        max(case when not ${inList(raw('channel'), directChannels)} then rn end) over (partition by journey_id) as lnd,
        power(2.0, greatest(${raw(`${MIN_EXPONENT}.0`)}, -1.0 * ${dt} / cast(${halfLifeDays} as double precision))) as decay
      from (select *, max(occurred_at) over (partition by journey_id) as last_at from ${t} where converted) x
    ) w`;
}

const KEY = { channel: 'channel', campaign: 'campaign_key' } as const;
export type Dimension = keyof typeof KEY;

/** Inserts each model's per-(key, conversion date) sums into `<p>attr`; `as` renames (the Markov fallback). */
export function insertHeuristics(p: string, dimension: Dimension, models: readonly { model: HeuristicModel; as?: string }[]): Fragment {
  if (models.length === 0) return raw('select 1');
  const key = raw(KEY[dimension]);
  const sums = join(
    models.map(({ model }) => raw(`sum(w_${model}) as c_${model}, sum(w_${model} * revenue) as r_${model}`)),
    ', ',
  );
  const selects = join(
    models.map(({ model, as }) => sql`select cast(${as ?? model} as text), cast(${dimension} as text), key, conv_date, c_${raw(model)}, r_${raw(model)} from g`),
    ' union all ',
  );
  return sql`insert into ${raw(`${p}attr`)} (model, dimension, key, date, conversions, revenue)
    with g as (select ${key} as key, conv_date, ${sums} from ${raw(`${p}aw`)} group by ${key}, conv_date)
    ${selects}`;
}
