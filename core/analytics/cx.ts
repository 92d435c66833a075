// CX metrics (docs/analytics.md#cx-metrics), one cx_metrics row per metric and breakdown:
// conversion rates, time and touches to convert, pain points (the stage funnel's worst steps, the
// channels journeys most often end on without converting, the last touch of abandoned journeys),
// NPS and CSAT from survey events with a monthly trend, churn signals and retention by cohort.
// The journey metrics read the period's working tables; survey scores, churn and cohorts read
// `events` / `journey_touchpoints` up to the period's end, since they look past its journeys.
import { exec, inList, raw, sql } from '../store/sql.ts';
import type { Fragment } from '../store/sql.ts';
import { STAGE_ORDER } from './config.ts';
import { funnelRows, stageFunnelCounts, stageFunnelSteps } from './funnels.ts';
import { pathTransitions } from './paths.ts';
import { dateIn } from './period.ts';
import type { AnalyticsContext, ResultRow } from './types.ts';

type Unit = 'ratio' | 'seconds' | 'count' | 'score' | 'percent';

function metric(name: string, segmentType: string, segmentValue: string, value: number | null, n: number, unit: Unit): ResultRow {
  return { metric: name, segment_type: segmentType, segment_value: segmentValue, value, n, unit };
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/** The month of `column` in the analytics time zone as a number (year × 12 + month − 1). */
function monthIndex(column: Fragment, timeZone: string): Fragment {
  const local = sql`(${column} at time zone ${timeZone})`;
  return sql`(cast(extract(year from ${local}) as integer) * 12 + cast(extract(month from ${local}) as integer) - 1)`;
}

export function monthLabel(index: number): string {
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function inPeriod(column: Fragment, ctx: AnalyticsContext): Fragment {
  const { start, end } = ctx.period;
  if (!start || !end) return raw('true');
  return sql`${column} >= ${start} and ${column} < ${end}`;
}

async function journeyMetrics(ctx: AnalyticsContext): Promise<ResultRow[]> {
  const r = (
    await exec(
      ctx.db,
      raw(`select count(*) as journeys, sum(case when converted then 1 else 0 end) as converted,
        count(distinct person_id) as persons, count(distinct case when converted then person_id end) as converted_persons,
        percentile_cont(0.5) within group (order by case when converted then extract(epoch from conversion_at) - extract(epoch from started_at) end) as ttc_median,
        percentile_cont(0.9) within group (order by case when converted then extract(epoch from conversion_at) - extract(epoch from started_at) end) as ttc_p90,
        avg(case when converted then touch_count end) as touches_mean,
        percentile_cont(0.5) within group (order by case when converted then touch_count end) as touches_median
      from a_journeys`),
    )
  ).rows[0];
  const journeys = Number(r.journeys);
  const converted = Number(r.converted ?? 0);
  const persons = Number(r.persons);
  const rows = [
    metric('conversion_rate', 'all', '(all)', ratio(converted, journeys), journeys, 'ratio'),
    metric('person_conversion_rate', 'all', '(all)', ratio(Number(r.converted_persons), persons), persons, 'ratio'),
  ];
  if (converted > 0) {
    rows.push(
      metric('time_to_convert_median', 'all', '(all)', num(r.ttc_median), converted, 'seconds'),
      metric('time_to_convert_p90', 'all', '(all)', num(r.ttc_p90), converted, 'seconds'),
      metric('touches_to_convert_mean', 'all', '(all)', num(r.touches_mean), converted, 'count'),
      metric('touches_to_convert_median', 'all', '(all)', num(r.touches_median), converted, 'count'),
    );
  }
  const byChannel = await exec(
    ctx.db,
    raw(`select coalesce(first_touch_channel, '(none)') as channel, count(*) as journeys, sum(case when converted then 1 else 0 end) as converted
      from a_journeys group by coalesce(first_touch_channel, '(none)')`),
  );
  for (const c of byChannel.rows) rows.push(metric('conversion_rate', 'first_touch_channel', String(c.channel), ratio(Number(c.converted), Number(c.journeys)), Number(c.journeys), 'ratio'));
  return rows;
}

/** Highest first, ties by name (so both engines give the same list), the top `top`. */
function topOf<T extends { value: number | null; n: number; key: string }>(items: T[], top: number): T[] {
  return items.toSorted((a, b) => (b.value ?? -1) - (a.value ?? -1) || b.n - a.n || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, top);
}

async function painPoints(ctx: AnalyticsContext): Promise<ResultRow[]> {
  const { db, config } = ctx;
  const rows: ResultRow[] = [];

  // The stage funnel's steps before purchase by drop-off rate (after a purchase, not coming back is
  // churn, measured below, not a step of the journey that hurts). The funnels module's counts.
  const steps = stageFunnelSteps();
  const funnel = funnelRows('stages', steps, (await stageFunnelCounts(ctx)).filter((c) => c.segment_type === 'all'), [['all', '(all)']]);
  const stepItems = funnel
    .filter((f) => Number(f.step_number) <= STAGE_ORDER.indexOf('purchase') && Number(f.entrants) > 0)
    .map((f) => ({ key: String(f.step), value: f.drop_off_rate as number | null, n: Number(f.entrants) }));
  for (const s of topOf(stepItems, config.cx.top)) rows.push(metric('pain_point_step', 'step', s.key, s.value, s.n, 'ratio'));

  // Channels whose transitions most often go nowhere: the share of transitions out of a channel
  // that end an open journey (→ (null)).
  const exits = new Map<string, { n: number; dropped: number }>();
  for (const t of await pathTransitions(ctx)) {
    if (t.collapsed !== config.paths.collapse_repeats || t.from_state === '(start)') continue;
    const e = exits.get(t.from_state) ?? { n: 0, dropped: 0 };
    e.n += t.transitions;
    if (t.to_state === '(null)') e.dropped += t.transitions;
    exits.set(t.from_state, e);
  }
  const exitItems = [...exits].map(([from, e]) => ({ key: `${from} > (null)`, value: ratio(e.dropped, e.n), n: e.n })).filter((i) => (i.value ?? 0) > 0);
  for (const t of topOf(exitItems, config.cx.top)) rows.push(metric('pain_point_transition', 'transition', t.key, t.value, t.n, 'ratio'));

  // What open journeys last did before going quiet.
  for (const [type, column] of [['last_touch_channel', 'channel'], ['last_touch_stage', 'stage'], ['last_touch_event', 'name']] as const) {
    const last = await exec(
      db,
      raw(`select t.${column} as k, count(*) as n, cast(count(*) as double precision) / sum(count(*)) over () as share
        from a_journeys j join a_touches t on t.journey_id = j.journey_id and t.position = j.touch_count
        where not j.converted and not t.is_conversion group by t.${column}`),
    );
    const items = last.rows.map((r) => ({ key: String(r.k), value: num(r.share), n: Number(r.n) }));
    for (const i of topOf(items, config.cx.top)) rows.push(metric('abandonment_last_touch', type, i.key, i.value, i.n, 'ratio'));
  }
  return rows;
}

async function surveys(ctx: AnalyticsContext): Promise<ResultRow[]> {
  const { db, config } = ctx;
  const tz = config.timezone;
  const rows: ResultRow[] = [];
  const month = monthIndex(raw('occurred_at'), tz);
  // NPS: promoters answer 9–10, detractors 0–6 (Reichheld's Net Promoter Score).
  const nps = await exec(
    db,
    sql`select m, count(*) as n, sum(case when value >= 9 then 1 else 0 end) as promoters, sum(case when value <= 6 then 1 else 0 end) as detractors
      from (select ${month} as m, value from events
        where ${inList(raw('name'), config.cx.nps_events)} and value is not null and ${inPeriod(raw('occurred_at'), ctx)}) s
      group by m`,
  );
  const npsRows = (label: string, type: string, n: number, promoters: number, detractors: number): ResultRow[] => [
    metric('nps', type, label, n > 0 ? (100 * (promoters - detractors)) / n : null, n, 'score'),
    metric('nps_promoters', type, label, n > 0 ? (100 * promoters) / n : null, n, 'percent'),
    metric('nps_detractors', type, label, n > 0 ? (100 * detractors) / n : null, n, 'percent'),
  ];
  const npsMonths = nps.rows.map((r) => ({ m: Number(r.m), n: Number(r.n), p: Number(r.promoters), d: Number(r.detractors) })).toSorted((a, b) => a.m - b.m);
  if (npsMonths.length > 0) {
    const total = npsMonths.reduce((t, r) => ({ n: t.n + r.n, p: t.p + r.p, d: t.d + r.d }), { n: 0, p: 0, d: 0 });
    rows.push(...npsRows('(all)', 'all', total.n, total.p, total.d));
    for (const r of npsMonths) rows.push(...npsRows(monthLabel(r.m), 'month', r.n, r.p, r.d));
  }
  // CSAT: the share of top-two-box answers (4 or 5 on a 5-point scale), and the mean score.
  const csat = await exec(
    db,
    sql`select m, count(*) as n, sum(case when value >= ${config.cx.csat_scale - 1} then 1 else 0 end) as satisfied, sum(value) as total
      from (select ${month} as m, value from events
        where ${inList(raw('name'), config.cx.csat_events)} and value is not null and ${inPeriod(raw('occurred_at'), ctx)}) s
      group by m`,
  );
  const csatMonths = csat.rows.map((r) => ({ m: Number(r.m), n: Number(r.n), s: Number(r.satisfied), t: Number(r.total) })).toSorted((a, b) => a.m - b.m);
  if (csatMonths.length > 0) {
    const total = csatMonths.reduce((t, r) => ({ n: t.n + r.n, s: t.s + r.s, t: t.t + r.t }), { n: 0, s: 0, t: 0 });
    const csatRows = (label: string, type: string, r: { n: number; s: number; t: number }): ResultRow[] => [
      metric('csat', type, label, ratio(r.s, r.n), r.n, 'ratio'),
      metric('csat_mean', type, label, ratio(r.t, r.n), r.n, 'score'),
    ];
    rows.push(...csatRows('(all)', 'all', total));
    for (const r of csatMonths) rows.push(...csatRows(monthLabel(r.m), 'month', r));
  }
  return rows;
}

/** The instant the churn and cohort metrics are evaluated at (exclusive): the period's end, or just after the latest touchpoint. */
async function evaluationEnd(ctx: AnalyticsContext): Promise<Date | null> {
  if (ctx.period.end) return ctx.period.end;
  const r = (await exec(ctx.db, raw('select max(occurred_at) as m from journey_touchpoints'))).rows[0];
  if (r.m === null || r.m === undefined) return null;
  return new Date(new Date(r.m as string | Date).getTime() + 1);
}

async function churnAndCohorts(ctx: AnalyticsContext): Promise<ResultRow[]> {
  const { db, config } = ctx;
  const end = await evaluationEnd(ctx);
  if (!end) return [];
  const rows: ResultRow[] = [];
  // Churn: customers who converted at least churn_days before the end; a churn signal when their
  // last conversion is also their last touchpoint and lies churn_days or more before the end.
  const cutoff = new Date(end.getTime() - config.cx.churn_days * 86_400_000);
  const churn = (
    await exec(
      db,
      sql`select count(*) as n, sum(case when last_conversion <= ${cutoff} and last_touch = last_conversion then 1 else 0 end) as churned
      from (
        select person_id, min(case when is_conversion then occurred_at end) as first_conversion,
          max(case when is_conversion then occurred_at end) as last_conversion, max(occurred_at) as last_touch
        from journey_touchpoints where occurred_at < ${end} group by person_id
      ) p where first_conversion <= ${cutoff}`,
    )
  ).rows[0];
  const customers = Number(churn.n);
  const churned = Number(churn.churned ?? 0);
  rows.push(metric('churn_signals', 'all', '(all)', churned, customers, 'count'), metric('churn_rate', 'all', '(all)', ratio(churned, customers), customers, 'ratio'));

  // Retention by cohort: persons by the month of their first conversion; for each month since, the
  // share of them with a touchpoint or conversion in it. Cohorts that start in the period.
  const first = monthIndex(raw('first_at'), config.timezone);
  const active = monthIndex(raw('occurred_at'), config.timezone);
  const cohorts = await exec(
    db,
    sql`with firsts as (
        select person_id, min(occurred_at) as first_at from journey_touchpoints where is_conversion and occurred_at < ${end} group by person_id
      ),
      cohorts as (select person_id, ${first} as cohort from firsts where ${inPeriod(raw('first_at'), ctx)}),
      sizes as (select cohort, count(*) as size from cohorts group by cohort),
      active as (select distinct person_id, ${active} as m from journey_touchpoints where occurred_at < ${end})
      select c.cohort, a.m - c.cohort as k, count(*) as persons
      from cohorts c join active a on a.person_id = c.person_id and a.m >= c.cohort
      group by c.cohort, a.m - c.cohort
      union all
      select cohort, -1 as k, size as persons from sizes`,
  );
  const endDate = dateIn(new Date(end.getTime() - 1), config.timezone);
  const lastMonth = Number(endDate.slice(0, 4)) * 12 + Number(endDate.slice(5, 7)) - 1;
  const sizes = new Map<number, number>();
  const active_ = new Map<string, number>();
  for (const r of cohorts.rows) {
    if (Number(r.k) === -1) sizes.set(Number(r.cohort), Number(r.persons));
    else active_.set(`${Number(r.cohort)}|${Number(r.k)}`, Number(r.persons));
  }
  for (const cohort of [...sizes.keys()].toSorted((a, b) => a - b)) {
    const size = sizes.get(cohort)!;
    for (let k = 0; cohort + k <= lastMonth; k++) {
      rows.push(metric('cohort_retention', 'cohort', `${monthLabel(cohort)}|+${k}`, ratio(active_.get(`${cohort}|${k}`) ?? 0, size), size, 'ratio'));
    }
  }
  return rows;
}

export async function computeCx(ctx: AnalyticsContext): Promise<ResultRow[]> {
  return [...(await journeyMetrics(ctx)), ...(await painPoints(ctx)), ...(await surveys(ctx)), ...(await churnAndCohorts(ctx))];
}
