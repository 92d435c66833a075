// Paths (docs/analytics.md#paths): each journey of the period as the sequence of its touchpoints'
// channels (the conversion itself left out), raw and with consecutive repeats collapsed. From those:
// the top conversion and non-conversion paths, the distribution of path lengths, the channel
// transition matrix with (start), (conversion) and (null), and step-by-step flows for a Sankey.
// Set-based SQL over a_journeys / a_touches; only the grouped rows come back.
import { bytewise, exec, raw, sql } from '../store/sql.ts';
import { once } from './shared.ts';
import type { AnalyticsContext, ResultRow } from './types.ts';

export const PATH_SEPARATOR = ' > ';
/** Starts a path cut to its last `max_length` channels. */
export const TRUNCATED = '… > ';
/** The path of a journey without touchpoints before its conversion. */
export const EMPTY_PATH = '(none)';

/**
 * a_ppos: (journey_id, collapsed, pos, channel, prev, next, n, converted) — each journey's channels
 * numbered from 1, once raw (collapsed = false) and once with repeats collapsed, with the channel
 * before and after in the same form and n = the journey's path length; transitions and flows read
 * them without another window or self-join.
 * a_ppath: (journey_id, collapsed, converted, revenue, length, path) — one row per journey and mode,
 * journeys without touchpoints included (length 0).
 * Built once per context (cx.ts reads them too); dropped with the working tables.
 */
export function ensurePathTables(ctx: AnalyticsContext): Promise<void> {
  return once(ctx, 'path tables', () => preparePathTables(ctx));
}

/** A path's text from its last `max` channels (r = 1…max within the journey and mode, alias x). */
function pathText(max: number): string {
  // PostgreSQL takes at most 100 function arguments; an ordered string_agg serves longer paths.
  if (max > 60) return `string_agg(channel, '${PATH_SEPARATOR}' order by r)`;
  // One max(case …) per place is a plain hash aggregate: an ordered string_agg sorts every group
  // (on DuckDB 7× slower over 100k journeys). concat_ws skips the places a short path lacks.
  const places = Array.from({ length: max }, (_, i) => `max(case when r = ${i + 1} then channel end)`);
  return `concat_ws('${PATH_SEPARATOR}', ${places.join(', ')})`;
}

async function preparePathTables(ctx: AnalyticsContext): Promise<void> {
  const { db, config } = ctx;
  const max = config.paths.max_length;
  await dropPathTables(ctx);
  // Positions run 1…n with the conversion last (prepare.ts): the raw position is the touch's.
  await exec(
    db,
    raw(`create temporary table a_ppos as
    with seq as (
      select journey_id, position as pos, channel, converted,
        lag(channel) over w as prev, lead(channel) over w as next, count(*) over (partition by journey_id) as n
      from a_touches where not is_conversion
      window w as (partition by journey_id order by position)
    )
    select journey_id, false as collapsed, pos, channel, prev, next, n, converted from seq
    union all
    select journey_id, true as collapsed, row_number() over w, channel, lag(channel) over w, lead(channel) over w,
      count(*) over (partition by journey_id), converted
    from seq where not coalesce(prev = channel, false)
    window w as (partition by journey_id order by pos)`),
  );
  // The text of a path longer than max_length keeps its last max_length channels.
  await exec(
    db,
    sql`create temporary table a_ppath as
    select j.journey_id, m.collapsed, j.converted, j.revenue, coalesce(p.n, 0) as length,
      case when p.n is null then ${EMPTY_PATH} when p.n > ${max} then ${TRUNCATED} || p.path else p.path end as path
    from a_journeys j
    cross join (select false as collapsed union all select true as collapsed) m
    left join (
      select journey_id, collapsed, max(n) as n, ${raw(pathText(max))} as path
      from (select journey_id, collapsed, n, channel, pos - greatest(n - ${max}, 0) as r from a_ppos where pos > n - ${max}) x
      group by journey_id, collapsed
    ) p on p.journey_id = j.journey_id and p.collapsed = m.collapsed`,
  );
  if (ctx.dialect === 'postgres') for (const t of ['a_ppos', 'a_ppath']) await exec(db, raw(`analyze ${t}`));
}

export async function dropPathTables(ctx: Pick<AnalyticsContext, 'db'>): Promise<void> {
  for (const t of ['a_ppos', 'a_ppath']) await exec(ctx.db, raw(`drop table if exists ${t}`));
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The transition matrix per mode: (collapsed, from_state, to_state, transitions, share of from_state's). */
export function transitionsSql(): string {
  return `select collapsed, from_state, to_state, count(*) as transitions,
      cast(count(*) as double precision) / sum(count(*)) over (partition by collapsed, from_state) as share
    from (
      select collapsed, coalesce(prev, '(start)') as from_state, channel as to_state from a_ppos
      union all
      select collapsed, channel, case when converted then '(conversion)' else '(null)' end from a_ppos where pos = n
      union all
      select collapsed, '(start)', case when converted then '(conversion)' else '(null)' end from a_ppath where length = 0
    ) steps group by collapsed, from_state, to_state`;
}

export interface TransitionRow {
  collapsed: boolean;
  from_state: string;
  to_state: string;
  transitions: number;
  share: number | null;
}

/** The transition matrix, once per context (paths stores it, cx takes its pain points from it). */
export function pathTransitions(ctx: AnalyticsContext): Promise<TransitionRow[]> {
  return once(ctx, 'transitions', async () => {
    await ensurePathTables(ctx);
    const { rows } = await exec(ctx.db, raw(`${transitionsSql()} order by collapsed desc, from_state, to_state`));
    return rows.map((r) => ({ collapsed: Boolean(r.collapsed), from_state: String(r.from_state), to_state: String(r.to_state), transitions: Number(r.transitions), share: num(r.share) }));
  });
}

export async function computePaths(ctx: AnalyticsContext): Promise<ResultRow[]> {
  const { db, dialect, config } = ctx;
  await ensurePathTables(ctx);
  const currency = config.reporting_currency;
  const rows: ResultRow[] = [];

  const top = await exec(
    db,
    sql`select * from (
      select converted, collapsed, path, min(length) as min_length, max(length) as max_length, count(*) as journeys,
        sum(case when converted then 1 else 0 end) as conversions, sum(revenue) as revenue,
        cast(count(*) as double precision) / sum(count(*)) over (partition by converted, collapsed) as share,
        row_number() over (partition by converted, collapsed order by count(*) desc, ${bytewise('path', dialect)}) as path_rank
      from a_ppath group by converted, collapsed, path
    ) ranked where path_rank <= ${config.paths.top}
    order by converted desc, collapsed desc, path_rank`,
  );
  for (const r of top.rows) {
    const converted = Boolean(r.converted);
    rows.push({
      kind: converted ? 'conversion_path' : 'non_conversion_path',
      collapsed: Boolean(r.collapsed),
      rank: Number(r.path_rank),
      path: String(r.path),
      // Cut paths of different lengths can share a text: their length is left empty.
      length: Number(r.min_length) === Number(r.max_length) ? Number(r.min_length) : null,
      journeys: Number(r.journeys),
      conversions: Number(r.conversions),
      revenue: converted ? (num(r.revenue) ?? 0) : 0,
      share: num(r.share),
      currency: converted ? currency : null,
    });
  }

  const lengths = await exec(
    db,
    raw(`select collapsed, length, count(*) as journeys, sum(case when converted then 1 else 0 end) as conversions, sum(revenue) as revenue,
        cast(count(*) as double precision) / sum(count(*)) over (partition by collapsed) as share
      from a_ppath group by collapsed, length order by collapsed desc, length`),
  );
  for (const r of lengths.rows) {
    rows.push({ kind: 'path_length', collapsed: Boolean(r.collapsed), path: String(r.length), length: Number(r.length), journeys: Number(r.journeys), conversions: Number(r.conversions), revenue: num(r.revenue) ?? 0, share: num(r.share), currency });
  }

  for (const r of await pathTransitions(ctx)) {
    rows.push({ kind: 'transition', collapsed: r.collapsed, from_state: r.from_state, to_state: r.to_state, journeys: r.transitions, share: r.share });
  }

  const flows = await exec(
    db,
    sql`select collapsed, pos as step, channel as from_state,
        coalesce(next, case when converted then '(conversion)' else '(null)' end) as to_state, count(*) as journeys,
        cast(count(*) as double precision) / sum(count(*)) over (partition by collapsed, pos) as share
      from a_ppos where pos <= ${config.paths.flow_steps}
      group by collapsed, pos, channel, coalesce(next, case when converted then '(conversion)' else '(null)' end)`,
  );
  for (const r of flows.rows) {
    rows.push({ kind: 'flow', collapsed: Boolean(r.collapsed), step: Number(r.step), from_state: String(r.from_state), to_state: String(r.to_state), journeys: Number(r.journeys), share: num(r.share) });
  }

  return rows;
}
