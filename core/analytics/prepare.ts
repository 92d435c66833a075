// The working tables of one period, built once and read by every analytics module:
//
//   a_journeys  one row per journey that ends in the period: a converting journey by its conversion
//               time, an open one by its last touch. revenue = conversion value in the reporting
//               currency (0 for open journeys; null when its currency has no rate).
//   a_touches   those journeys' touchpoints in order (position 1…), the conversion last
//               (is_conversion), with campaign_key = campaign id, else the id that spend rows or
//               touchpoints give the same campaign name (a_campaign_ids), else the campaign name,
//               else `attribution.unknown_campaign`; each carries its journey's journey_number
//               and converted, so no module joins a_journeys back.
//   a_spend     ad spend rows dated in the period, cost in the reporting currency, campaign_key as
//               for touches (so spend and touches of one campaign meet on one key).
//   a_fx        the exchange rates used: (currency, valid_from, valid_to, rate).
//   a_campaign_ids  campaign name → its smallest known id, from spend and touchpoints with both.
//
// The same with the prefix `a_prev_` for the comparison period. Only the columns the modules read.
// Temporary tables of the stage's transaction: nothing is read into Node. Currency rules: docs/analytics.md#currency.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { analyzed, exec, raw, sql } from '../store/sql.ts';
import type { Fragment } from '../store/sql.ts';
import type { AnalyticsConfig } from './config.ts';
import type { ResolvedPeriod } from './period.ts';
import { forget } from './shared.ts';
import type { AnalyticsContext } from './types.ts';

export interface FxRate {
  currency: string;
  /** Inclusive; null = since always. */
  valid_from: string | null;
  /** Exclusive; null = until further notice. */
  valid_to: string | null;
  rate: number;
}

/** Fixed rates, then the dated file's rates (each valid until the currency's next date), the reporting currency at 1. */
export function fxRates(config: AnalyticsConfig): FxRate[] {
  const rates: FxRate[] = [{ currency: config.reporting_currency, valid_from: null, valid_to: null, rate: 1 }];
  const dated = config.fx.file ? readFxFile(config.fx.file) : [];
  const datedCurrencies = new Set(dated.map((r) => r.currency));
  for (const [currency, rate] of Object.entries(config.fx.rates)) {
    if (currency === config.reporting_currency) continue;
    // A dated table wins from its first date on; before that the fixed rate applies.
    const first = dated.filter((r) => r.currency === currency).map((r) => r.valid_from as string).sort()[0] ?? null;
    rates.push({ currency, valid_from: null, valid_to: datedCurrencies.has(currency) ? first : null, rate });
  }
  return [...rates, ...dated.filter((r) => r.currency !== config.reporting_currency)];
}

/** Reads `date,currency,rate` (header required; 1 unit of currency = rate reporting units). */
export function readFxFile(file: string): FxRate[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the FX rates file: ${(e as Error).message}`, { where: file, hint: 'analytics.fx.file is relative to the pipeline file; it is a CSV with the header date,currency,rate' });
  }
  const lines = text.split(/\r?\n/);
  const header = lines[0].split(',').map((h) => h.trim().toLowerCase());
  const [di, ci, ri] = ['date', 'currency', 'rate'].map((h) => header.indexOf(h));
  if (di < 0 || ci < 0 || ri < 0) throw new ConfigError('the FX rates file needs the columns date, currency, rate', { where: `${file}:1:1`, hint: 'first line: date,currency,rate' });
  const rows: { date: string; currency: string; rate: number }[] = [];
  lines.forEach((line, i) => {
    if (i === 0 || line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim());
    const date = cells[di];
    const currency = (cells[ci] ?? '').toUpperCase();
    const rate = Number(cells[ri]);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date ?? '') || !/^[A-Z]{3}$/.test(currency) || !(rate > 0)) {
      throw new ConfigError(`bad FX rate row "${line}"`, { where: `${file}:${i + 1}:1`, hint: 'each row is YYYY-MM-DD,CUR,rate with a positive rate' });
    }
    rows.push({ date, currency, rate });
  });
  rows.sort((a, b) => (a.currency === b.currency ? a.date.localeCompare(b.date) : a.currency.localeCompare(b.currency)));
  return rows.map((r, i) => {
    const next = rows[i + 1];
    return { currency: r.currency, valid_from: r.date, valid_to: next && next.currency === r.currency ? next.date : null, rate: r.rate };
  });
}

/**
 * The rate of a money column in `currency` on `date`: a left join of a_fx as `alias`. The ranges of
 * one currency in a_fx never overlap (fxRates: the fixed rate until the first dated one, each dated
 * one until the next; a duplicated date gives an empty range), so a row meets at most one rate; no
 * rate leaves it null. A join, not a subquery per row: DuckDB ran the correlated lookup per journey.
 */
function rateJoin(alias: string, currency: Fragment, date: Fragment, reporting: string): Fragment {
  const fx = raw(alias);
  return sql`left join a_fx ${fx} on ${fx}.currency = coalesce(upper(${currency}), ${reporting})
    and (${fx}.valid_from is null or ${fx}.valid_from <= ${date}) and (${fx}.valid_to is null or ${fx}.valid_to > ${date})`;
}

function bounds(column: Fragment, p: ResolvedPeriod): Fragment {
  if (!p.start || !p.end) return raw('true');
  return sql`${column} >= ${p.start} and ${column} < ${p.end}`;
}

function dateBounds(column: Fragment, p: ResolvedPeriod): Fragment {
  if (!p.startDate || !p.endDate) return raw('true');
  return sql`${column} >= cast(${p.startDate} as date) and ${column} <= cast(${p.endDate} as date)`;
}

const TABLES = ['journeys', 'touches', 'spend'] as const;
const ATTRIBUTION_TABLES = ['at', 'aw', 'attr', 'mshare'] as const;

async function createFor(ctx: AnalyticsContext, prefix: string, p: ResolvedPeriod): Promise<void> {
  const { db, dialect, config } = ctx;
  const cur = config.reporting_currency;
  const ends = raw('coalesce(j.conversion_at, j.ended_at)');
  // Only the columns the modules read; touches carry their journey's number and outcome so that
  // no module joins a_journeys back to order or split them.
  const steps = [
    ...analyzed(
      dialect,
      `${prefix}journeys`,
      `${prefix}journeys`,
      sql`select j.journey_id, j.person_id, j.conversion_at is not null as converted, j.journey_number,
          j.conversion_at, j.started_at, ${ends} as ends_at,
          case when j.conversion_at is null then 0 else coalesce(j.conversion_value, 0) * fx.rate end as revenue,
          j.touch_count, j.first_touch_channel
        from journeys j
        ${rateJoin('fx', raw('j.conversion_currency'), sql`cast((j.conversion_at at time zone ${config.timezone}) as date)`, cur)}
        where ${bounds(ends, p)}`,
    ),
    ...analyzed(
      dialect,
      `${prefix}touches`,
      `${prefix}touches`,
      sql`select t.journey_id, t.person_id, j.journey_number, j.converted, t.position, t.occurred_at, t.name, t.channel,
          t.campaign_id, t.campaign, coalesce(t.campaign_id, ci.campaign_id, t.campaign, ${config.attribution.unknown_campaign}) as campaign_key,
          t.stage, t.device, t.is_conversion
        from journey_touchpoints t join ${raw(`${prefix}journeys`)} j on j.journey_id = t.journey_id
        left join a_campaign_ids ci on ci.campaign = t.campaign`,
    ),
    ...analyzed(
      dialect,
      `${prefix}spend`,
      `${prefix}spend`,
      sql`select s.date, s.channel, s.campaign,
          coalesce(s.campaign_id, ci.campaign_id, s.campaign, ${config.attribution.unknown_campaign}) as campaign_key,
          coalesce(s.cost, 0) * fx.rate as cost, s.cost as cost_original, s.currency as currency_original
        from spend s left join a_campaign_ids ci on ci.campaign = s.campaign
        ${rateJoin('fx', raw('s.currency'), raw('s.date'), cur)}
        where ${dateBounds(raw('s.date'), p)}`,
    ),
  ];
  for (const step of steps) await exec(db, step.sql);
}

/** Builds the working tables of ctx.period (and ctx.comparison). Returns counts for the log. */
export async function prepare(ctx: AnalyticsContext): Promise<{ journeys: number; unconvertible_revenue: number; unconvertible_spend: number }> {
  const { db } = ctx;
  await dropWorkingTables(ctx);
  await exec(db, raw('create temporary table a_fx (currency text not null, valid_from date, valid_to date, rate double precision not null)'));
  const rates = fxRates(ctx.config);
  for (const r of rates) {
    await exec(db, sql`insert into a_fx values (${r.currency}, cast(${r.valid_from} as date), cast(${r.valid_to} as date), ${r.rate})`);
  }
  // Ad platforms report campaign ids; tracked touches often carry only the name (utm_campaign).
  await exec(db, raw(`create temporary table a_campaign_ids as select campaign, min(campaign_id) as campaign_id from (
      select campaign, campaign_id from spend where campaign is not null and campaign_id is not null
      union all select campaign, campaign_id from journey_touchpoints where campaign is not null and campaign_id is not null) c
    group by campaign`));
  await createFor(ctx, 'a_', ctx.period);
  if (ctx.comparison) await createFor(ctx, 'a_prev_', ctx.comparison);
  const counts = (await exec(db, raw(`select (select count(*) from a_journeys) as journeys,
      (select count(*) from a_journeys where revenue is null) as unconvertible_revenue,
      (select count(*) from a_spend where cost is null) as unconvertible_spend`))).rows[0];
  const out = { journeys: Number(counts.journeys), unconvertible_revenue: Number(counts.unconvertible_revenue), unconvertible_spend: Number(counts.unconvertible_spend) };
  if (out.unconvertible_revenue > 0 || out.unconvertible_spend > 0) {
    ctx.log.warn(`analytics: ${out.unconvertible_revenue} conversions and ${out.unconvertible_spend} spend rows have a currency without an exchange rate into ${ctx.config.reporting_currency}; their money is left out`, { period: ctx.period.key });
  }
  return out;
}

/** The module tables built once per context and read by several modules (shared.ts). */
const SHARED_TABLES = ['a_fseq', 'a_fperson', 'a_fseg', 'a_ppos', 'a_ppath'] as const;

export async function dropWorkingTables(ctx: Pick<AnalyticsContext, 'db'>): Promise<void> {
  forget(ctx);
  for (const t of SHARED_TABLES) await exec(ctx.db, raw(`drop table if exists ${t}`));
  for (const prefix of ['a_', 'a_prev_']) for (const t of TABLES) await exec(ctx.db, raw(`drop table if exists ${prefix}${t}`));
  // The attribution working tables (attribution.ts) live and die with these.
  for (const prefix of ['a_', 'a_prev_']) for (const t of ATTRIBUTION_TABLES) await exec(ctx.db, raw(`drop table if exists ${prefix}${t}`));
  await exec(ctx.db, raw('drop table if exists a_fx'));
  await exec(ctx.db, raw('drop table if exists a_campaign_ids'));
}
