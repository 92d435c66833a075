// Funnels (docs/analytics.md#funnels): the built-in stage funnel and the pipeline's custom step
// funnels, counted in persons. A person's touchpoints in the period's journeys are put in one time
// order; a person reaches step 1 at their first matching touchpoint and step k at the first matching
// touchpoint after reaching step k−1 (within `max_hours` when the step has it). Each funnel is one
// statement over the working tables; only per-step counts and medians come back, overall and by
// the segments of the person's first touchpoint in the period.
import { inList, join, raw, sql, exec } from '../store/sql.ts';
import type { Fragment } from '../store/sql.ts';
import { STAGE_ORDER } from './config.ts';
import type { FunnelDefinition } from './config.ts';
import { once } from './shared.ts';
import type { AnalyticsContext, ResultRow } from './types.ts';

/** A step as SQL: which touchpoints (alias t of a_fseq) reach it, and how it follows the previous one. */
export interface StepSpec {
  name: string;
  match: Fragment;
  /** The step needs a later touchpoint than the previous step's (else the same one may reach both). */
  strict: boolean;
  maxHours?: number;
}

/** Segment type → the column of a_fperson holding it. */
const SEGMENT_COLUMNS: Record<string, string> = {
  first_touch_channel: 'first_touch_channel',
  first_touch_campaign: 'first_touch_campaign',
  device: 'device',
};

/**
 * The stage funnel. Up to `purchase` it is cumulative: a person reaches a stage with a touchpoint
 * at that stage or a later one (a purchase passed the decision stage even when no decision
 * touchpoint was recorded), so the same touchpoint may reach several steps. Stages after
 * `purchase` (retention) need a touchpoint of that stage after reaching the one before.
 */
export function stageFunnelSteps(): StepSpec[] {
  const purchase = STAGE_ORDER.indexOf('purchase');
  return STAGE_ORDER.map((stage, k) =>
    k <= purchase ? { name: stage, match: inList(raw('t.stage'), STAGE_ORDER.slice(k, purchase + 1)), strict: false } : { name: stage, match: sql`t.stage = ${stage}`, strict: true },
  );
}

/** A custom funnel's steps: a touchpoint whose event name, stage or channel is listed reaches the step. */
export function customFunnelSteps(def: FunnelDefinition): StepSpec[] {
  return def.steps.map((s) => {
    const any = [s.events.length > 0 ? inList(raw('t.name'), s.events) : null, s.stages.length > 0 ? inList(raw('t.stage'), s.stages) : null, s.channels.length > 0 ? inList(raw('t.channel'), s.channels) : null].filter((f): f is Fragment => f !== null);
    return { name: s.name, match: any.length === 0 ? raw('false') : sql`(${join(any, ' or ')})`, strict: true, ...(s.max_hours !== undefined ? { maxHours: s.max_hours } : {}) };
  });
}

/**
 * The working tables of the funnels: a_fseq (each person's touchpoints in one order, with epoch
 * seconds), a_fperson (their first touchpoint's segments) and a_fseg (person × segment, `all`
 * included). Built once per context (cx.ts reads them too); dropped with the working tables.
 */
export function ensureFunnelTables(ctx: AnalyticsContext): Promise<void> {
  return once(ctx, 'funnel tables', () => prepareFunnelTables(ctx));
}

/** The stage funnel's counts, per segment (cx.ts takes its pain points from them). */
export function stageFunnelCounts(ctx: AnalyticsContext): Promise<StepCount[]> {
  return once(ctx, 'stage funnel', async () => {
    await ensureFunnelTables(ctx);
    return countFunnel(ctx, stageFunnelSteps());
  });
}

async function prepareFunnelTables(ctx: AnalyticsContext): Promise<void> {
  const { db, config } = ctx;
  await dropFunnelTables(ctx);
  await exec(
    db,
    raw(`create temporary table a_fseq as
    select t.person_id, t.occurred_at, cast(extract(epoch from t.occurred_at) as double precision) as ts, t.name, t.stage, t.channel,
      t.campaign, t.campaign_id, t.device, t.is_conversion,
      row_number() over (partition by t.person_id order by t.occurred_at, t.journey_number, t.position) as seq
    from a_touches t`),
  );
  await exec(
    db,
    sql`create temporary table a_fperson as
    select person_id, channel as first_touch_channel, coalesce(campaign, campaign_id, ${config.attribution.unknown_campaign}) as first_touch_campaign,
      coalesce(device, '(unknown)') as device
    from a_fseq where seq = 1`,
  );
  const parts = [raw(`select person_id, 'all' as segment_type, '(all)' as segment_value from a_fperson`)];
  for (const segment of config.segments) {
    const column = SEGMENT_COLUMNS[segment];
    if (column) parts.push(raw(`select person_id, '${segment}' as segment_type, ${column} as segment_value from a_fperson`));
  }
  await exec(db, sql`create temporary table a_fseg as ${join(parts, ' union all ')}`);
  if (ctx.dialect === 'postgres') for (const t of ['a_fseq', 'a_fperson', 'a_fseg']) await exec(db, raw(`analyze ${t}`));
}

export async function dropFunnelTables(ctx: Pick<AnalyticsContext, 'db'>): Promise<void> {
  for (const t of ['a_fseq', 'a_fperson', 'a_fseg']) await exec(ctx.db, raw(`drop table if exists ${t}`));
}

/** The statement giving (step, person_id, ts) for each step a person reached. */
function reachedSql(steps: StepSpec[]): Fragment {
  const ctes = steps.map((s, i) => {
    const k = i + 1;
    if (i === 0) return sql`s1 as (select t.person_id, min(t.seq) as seq, min(t.ts) as ts from a_fseq t where ${s.match} group by t.person_id)`;
    const after = s.strict ? raw('t.seq > p.seq') : raw('t.seq >= p.seq');
    const within = s.maxHours === undefined ? raw('') : sql` and t.ts <= p.ts + ${s.maxHours * 3600}`;
    // seq orders by time first, so the touchpoint with the smallest seq has the smallest time.
    return sql`${raw(`s${k}`)} as (select t.person_id, min(t.seq) as seq, min(t.ts) as ts
      from a_fseq t join ${raw(`s${i}`)} p on p.person_id = t.person_id and ${after}${within}
      where ${s.match} group by t.person_id)`;
  });
  const union = join(
    steps.map((_, i) => raw(`select ${i + 1} as step, person_id, ts from s${i + 1}`)),
    ' union all ',
  );
  return sql`with ${join(ctes, ', ')}, reached as (${union})`;
}

export interface StepCount {
  segment_type: string;
  segment_value: string;
  step: number;
  entrants: number;
  median: number | null;
}

/** Per segment and step: entrants and the median seconds to the next step. Needs ensureFunnelTables. */
export async function countFunnel(ctx: AnalyticsContext, steps: StepSpec[]): Promise<StepCount[]> {
  const rows = (
    await exec(
      ctx.db,
      sql`${reachedSql(steps)}
      select g.segment_type, g.segment_value, r.step, count(*) as entrants,
        percentile_cont(0.5) within group (order by n.ts - r.ts) as median
      from reached r
      join a_fseg g on g.person_id = r.person_id
      left join reached n on n.person_id = r.person_id and n.step = r.step + 1
      group by g.segment_type, g.segment_value, r.step`,
    )
  ).rows;
  return rows.map((r) => ({
    segment_type: String(r.segment_type),
    segment_value: String(r.segment_value),
    step: Number(r.step),
    entrants: Number(r.entrants),
    median: r.median === null || r.median === undefined ? null : Number(r.median),
  }));
}

/** Every segment's value seen among the period's persons (`all` always), for zero-filled steps. */
async function segmentValues(ctx: AnalyticsContext): Promise<[string, string][]> {
  const rows = (await exec(ctx.db, raw('select distinct segment_type, segment_value from a_fseg'))).rows;
  const out: [string, string][] = [['all', '(all)']];
  for (const r of rows) if (r.segment_type !== 'all') out.push([String(r.segment_type), String(r.segment_value)]);
  return out;
}

/** One funnel's result rows from its counts: conversions, drop-off and rates per step. */
export function funnelRows(funnel: string, steps: StepSpec[], counts: StepCount[], segments: [string, string][]): ResultRow[] {
  const byKey = new Map(counts.map((c) => [`${c.segment_type}\0${c.segment_value}\0${c.step}`, c]));
  const rows: ResultRow[] = [];
  for (const [type, value] of segments) {
    const entrants = steps.map((_, i) => byKey.get(`${type}\0${value}\0${i + 1}`)?.entrants ?? 0);
    steps.forEach((s, i) => {
      const last = i === steps.length - 1;
      const conversions = last ? entrants[i] : entrants[i + 1];
      const drop = entrants[i] - conversions;
      rows.push({
        funnel,
        segment_type: type,
        segment_value: value,
        step_number: i + 1,
        step: s.name,
        entrants: entrants[i],
        conversions,
        drop_off: drop,
        drop_off_rate: entrants[i] > 0 ? drop / entrants[i] : null,
        overall_rate: entrants[0] > 0 ? entrants[i] / entrants[0] : null,
        median_seconds_to_next: last ? null : (byKey.get(`${type}\0${value}\0${i + 1}`)?.median ?? null),
      });
    });
  }
  return rows;
}

export async function computeFunnels(ctx: AnalyticsContext): Promise<ResultRow[]> {
  await ensureFunnelTables(ctx);
  const segments = await segmentValues(ctx);
  const rows = funnelRows('stages', stageFunnelSteps(), await stageFunnelCounts(ctx), segments);
  for (const f of ctx.config.funnels) {
    const steps = customFunnelSteps(f);
    if (steps.length > 0) rows.push(...funnelRows(f.name, steps, await countFunnel(ctx, steps), segments));
  }
  return rows;
}
