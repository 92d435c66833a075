// Attribution: splits each period's conversions and revenue over channels and campaigns under every
// configured model (heuristics.ts, markov.ts, shapley.ts). Builds, per period prefix (`a_`, and
// `a_prev_` for ROI's comparison), two working tables that ROI (roi.ts) reads as well:
//
//   <p>at    the attributable touches of every journey in the period, numbered rn = 1…n: its
//            touchpoints other than the conversion; a converting journey with none is credited to its
//            conversion touchpoint (the touch it converted in); a journey with no touchpoint row at
//            all to channel `(none)`. Carries the journey's revenue and conversion date (time zone).
//   <p>attr  (model, dimension, key, date, conversions, revenue): the attributed sums per conversion
//            date; every model's rows add up to the period's conversions and revenue.
//
// Only aggregates leave the database (and the Markov transition counts). Definitions:
// docs/analytics.md#attribution.
import { exec, join, raw, sql } from '../store/sql.ts';
import type { Fragment } from '../store/sql.ts';
import type { AttributionModel } from './config.ts';
import { HEURISTIC_MODELS, insertHeuristics, weightsTable } from './heuristics.ts';
import type { Dimension } from './heuristics.ts';
import { CONVERSION, NULL_STATE, START, removalEffects } from './markov.ts';
import type { Transition } from './markov.ts';
import { insertShapley } from './shapley.ts';
import { once } from './shared.ts';
import type { AnalyticsContext, ResultRow } from './types.ts';

export const DIMENSIONS: readonly Dimension[] = ['channel', 'campaign'];

/** Above this many states the O(n³) solve is skipped and the dimension's Markov rows fall back to linear (logged). */
export const MARKOV_MAX_STATES = 1500;

/** Builds `<p>at` and `<p>attr` once per context and prefix (attribution and ROI share them). */
export function ensureAttributed(ctx: AnalyticsContext, p: 'a_' | 'a_prev_'): Promise<void> {
  return once(ctx, `attributed ${p}`, () => build(ctx, p));
}

function models(ctx: AnalyticsContext): AttributionModel[] {
  return [...new Set(ctx.config.attribution.models)];
}

/** Runs one statement, logging its time (debug) under `name`: the benchmark reads these. */
async function step(ctx: AnalyticsContext, name: string, fragment: Fragment): Promise<Record<string, unknown>[]> {
  const started = performance.now();
  const { rows } = await exec(ctx.db, fragment);
  ctx.log.debug(`analytics: attribution ${name}`, { period: ctx.period.key, ms: Math.round(performance.now() - started) });
  return rows;
}

async function build(ctx: AnalyticsContext, p: string): Promise<void> {
  const { db, config } = ctx;
  const tz = config.timezone;
  const unknown = config.attribution.unknown_campaign;
  await exec(db, raw(`drop table if exists ${p}at`));
  await exec(db, raw(`drop table if exists ${p}aw`));
  await exec(db, raw(`drop table if exists ${p}attr`));
  await step(
    ctx,
    `${p}at`,
    // Positions run 1…n with the conversion last (prepare.ts), so a converting journey without other
    // touches is exactly one whose conversion is at position 1, and rn is the position: one window.
    sql`create temporary table ${raw(`${p}at`)} as
      select j.journey_id, j.converted, coalesce(j.revenue, 0) as revenue, j.conversion_at,
        cast((j.conversion_at at time zone ${tz}) as date) as conv_date,
        coalesce(t.occurred_at, j.ends_at) as occurred_at,
        cast((coalesce(t.occurred_at, j.ends_at) at time zone ${tz}) as date) as touch_date,
        coalesce(t.channel, '(none)') as channel, coalesce(t.campaign_key, ${unknown}) as campaign_key,
        coalesce(t.position, 1) as rn,
        count(*) over (partition by j.journey_id) as n
      from ${raw(`${p}journeys`)} j left join ${raw(`${p}touches`)} t on t.journey_id = j.journey_id and (not t.is_conversion or t.position = 1)`,
  );
  if (ctx.dialect === 'postgres') await exec(db, raw(`analyze ${p}at`));
  await exec(db, raw(`create temporary table ${p}attr (model text not null, dimension text not null, key text not null, date date, conversions double precision not null, revenue double precision not null)`));
  const wanted = models(ctx);
  await step(ctx, `${p}aw`, weightsTable(p, config.attribution.half_life_days, config.attribution.direct_channels));
  for (const dimension of DIMENSIONS) {
    await step(ctx, `heuristics by ${dimension}`, insertHeuristics(p, dimension, HEURISTIC_MODELS.filter((m) => wanted.includes(m)).map((model) => ({ model }))));
    if (wanted.includes('shapley')) await step(ctx, `shapley by ${dimension}`, insertShapley(p, dimension));
    if (wanted.includes('markov')) await insertMarkov(ctx, p, dimension);
  }
}

async function insertMarkov(ctx: AnalyticsContext, p: string, dimension: Dimension): Promise<void> {
  const { db } = ctx;
  const state = raw(dimension === 'channel' ? 'channel' : 'campaign_key');
  const rows = await step(
      ctx,
      `markov transitions by ${dimension}`,
      sql`select from_state, to_state, count(*) as n from (
          select coalesce(lag(${state}) over (partition by journey_id order by rn), ${START}) as from_state, ${state} as to_state from ${raw(`${p}at`)}
          union all
          select ${state}, case when converted then ${CONVERSION} else ${NULL_STATE} end from ${raw(`${p}at`)} where rn = n
        ) t group by from_state, to_state`,
  );
  const transitions: Transition[] = rows.map((r) => ({ from: String(r.from_state), to: String(r.to_state), count: Number(r.n) }));
  const states = new Set(transitions.map((t) => t.to)).size;
  let shares: Map<string, number> | null = null;
  if (states > MARKOV_MAX_STATES) {
    ctx.log.warn(`analytics: markov attribution by ${dimension} has ${states} states (limit ${MARKOV_MAX_STATES}); using linear attribution for it`, { period: ctx.period.key });
  } else {
    const started = performance.now();
    shares = removalEffects(transitions).shares;
    ctx.log.debug(`analytics: attribution markov solve by ${dimension}`, { period: ctx.period.key, states, ms: Math.round(performance.now() - started) });
  }
  // No removal effect at all means no conversion to split (or none reachable): linear is the documented fallback.
  if (!shares) {
    await exec(db, insertHeuristics(p, dimension, [{ model: 'linear', as: 'markov' }]));
    return;
  }
  await exec(db, raw(`drop table if exists ${p}mshare`));
  await exec(db, raw(`create temporary table ${p}mshare (key text not null, share double precision not null)`));
  const entries = [...shares].filter(([, s]) => s > 0);
  for (let i = 0; i < entries.length; i += 500) {
    const chunk = entries.slice(i, i + 500);
    await exec(db, sql`insert into ${raw(`${p}mshare`)} (key, share) values ${join(chunk.map(([k, v]) => sql`(${k}, ${v})`), ', ')}`);
  }
  await exec(
    db,
    sql`insert into ${raw(`${p}attr`)} (model, dimension, key, date, conversions, revenue)
      select cast('markov' as text), cast(${dimension} as text), s.key, d.conv_date, s.share * d.conversions, s.share * d.revenue
      from ${raw(`${p}mshare`)} s cross join (select conv_date, cast(count(*) as double precision) as conversions, sum(revenue) as revenue from ${raw(`${p}at`)} where converted and rn = 1 group by conv_date) d`,
  );
  await exec(db, raw(`drop table ${p}mshare`));
}

export interface Labels {
  /** campaign_key → its name (else the key) and its main channel. */
  campaigns: Map<string, { label: string; channel: string | null }>;
}

/** Campaign names and main channels: the most frequent channel of the campaign's touchpoints, else of its spend rows (ties: first by name). */
export function campaignLabels(ctx: AnalyticsContext, p: string): Promise<Labels> {
  // Attribution and ROI both ask: once per context and prefix.
  return once(ctx, `campaign labels ${p}`, () => readCampaignLabels(ctx, p));
}

async function readCampaignLabels(ctx: AnalyticsContext, p: string): Promise<Labels> {
  const rows = (
    await exec(
      ctx.db,
      raw(`select campaign_key, label, channel, rk from (
          select campaign_key, max(campaign) as label, channel, row_number() over (partition by campaign_key order by sum(touch) desc, count(*) desc, channel) as rk
          from (select campaign_key, campaign, channel, 1 as touch from ${p}touches
            union all select campaign_key, campaign, coalesce(channel, '(none)'), 0 from ${p}spend) u
          group by campaign_key, channel
        ) x order by campaign_key, rk`),
    )
  ).rows;
  const campaigns = new Map<string, { label: string; channel: string | null }>();
  for (const r of rows) {
    const key = String(r.campaign_key);
    const prev = campaigns.get(key);
    if (!prev) campaigns.set(key, { label: r.label === null ? key : String(r.label), channel: r.channel === null ? null : String(r.channel) });
    else if (prev.label === key && r.label !== null) prev.label = String(r.label);
  }
  return { campaigns };
}

export async function computeAttribution(ctx: AnalyticsContext): Promise<ResultRow[]> {
  await ensureAttributed(ctx, 'a_');
  const sums = (await exec(ctx.db, raw('select model, dimension, key, sum(conversions) as conversions, sum(revenue) as revenue from a_attr group by model, dimension, key order by model, dimension, key'))).rows;
  const totals = new Map<string, { conversions: number; revenue: number }>();
  for (const r of sums) {
    const t = totals.get(`${r.model}|${r.dimension}`) ?? { conversions: 0, revenue: 0 };
    t.conversions += Number(r.conversions);
    t.revenue += Number(r.revenue);
    totals.set(`${r.model}|${r.dimension}`, t);
  }
  const { campaigns } = await campaignLabels(ctx, 'a_');
  const currency = ctx.config.reporting_currency;
  return sums.map((r) => {
    const key = String(r.key);
    const t = totals.get(`${r.model}|${r.dimension}`) as { conversions: number; revenue: number };
    const campaign = r.dimension === 'campaign' ? campaigns.get(key) : undefined;
    const conversions = Number(r.conversions);
    const revenue = Number(r.revenue);
    return {
      model: String(r.model),
      dimension: String(r.dimension),
      key,
      label: campaign ? campaign.label : key,
      channel: r.dimension === 'channel' ? key : (campaign?.channel ?? null),
      conversions,
      revenue,
      conversion_share: t.conversions > 0 ? conversions / t.conversions : null,
      revenue_share: t.revenue > 0 ? revenue / t.revenue : null,
      currency,
    };
  });
}
