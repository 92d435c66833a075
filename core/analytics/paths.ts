// Paths (docs/analytics.md#paths): each journey of the period as the sequence of its touchpoints'
// channels (the conversion itself left out), raw and with consecutive repeats collapsed. From those:
// the top conversion and non-conversion paths, the distribution of path lengths, the channel
// transition matrix with (start), (conversion) and (null), and step-by-step flows for a Sankey.
// Set-based SQL over a_journeys / a_touches; only the grouped rows come back.
import { bytewise } from '../journeys/rules.ts';
import { exec, raw, sql } from '../journeys/sql.ts';
import type { AnalyticsContext, ResultRow } from './types.ts';

export const PATH_SEPARATOR = ' > ';
/** Starts a path cut to its last `max_length` channels. */
export const TRUNCATED = '… > ';
/** The path of a journey without touchpoints before its conversion. */
export const EMPTY_PATH = '(none)';

/**
 * a_ppos: (journey_id, collapsed, pos, channel, n) — each journey's channels numbered from 1, once
 * raw (collapsed = false) and once with repeats collapsed; n = the journey's path length.
 * a_ppath: (journey_id, collapsed, converted, revenue, length, path) — one row per journey and mode,
 * journeys without touchpoints included (length 0). Also used by cx.ts.
 */
export async function preparePathTables(ctx: AnalyticsContext): Promise<void> {
  const { db, config } = ctx;
  await dropPathTables(ctx);
  await exec(
    db,
    raw(`create temporary table a_ppos as
    with seq as (
      select journey_id, position, channel,
        case when lag(channel) over (partition by journey_id order by position) = channel then 0 else 1 end as changes
      from a_touches where not is_conversion
    ),
    modes as (
      select journey_id, false as collapsed, channel, row_number() over (partition by journey_id order by position) as pos from seq
      union all
      select journey_id, true as collapsed, channel, row_number() over (partition by journey_id order by position) as pos from seq where changes = 1
    )
    select journey_id, collapsed, pos, channel, count(*) over (partition by journey_id, collapsed) as n from modes`),
  );
  // The text of a path longer than max_length keeps its last max_length channels.
  await exec(
    db,
    sql`create temporary table a_ppath as
    select j.journey_id, m.collapsed, j.converted, j.revenue, coalesce(p.n, 0) as length,
      case when p.n is null then ${EMPTY_PATH} when p.n > ${config.paths.max_length} then ${TRUNCATED} || p.path else p.path end as path
    from a_journeys j
    cross join (select false as collapsed union all select true as collapsed) m
    left join (
      select journey_id, collapsed, max(n) as n, string_agg(channel, ${PATH_SEPARATOR} order by pos) as path
      from a_ppos where pos > n - ${config.paths.max_length}
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
  return `with steps as (
      select collapsed, coalesce(lag(channel) over (partition by journey_id, collapsed order by pos), '(start)') as from_state, channel as to_state
      from a_ppos
      union all
      select x.collapsed, coalesce(l.channel, '(start)') as from_state, case when x.converted then '(conversion)' else '(null)' end as to_state
      from a_ppath x left join a_ppos l on l.journey_id = x.journey_id and l.collapsed = x.collapsed and l.pos = x.length
    )
    select collapsed, from_state, to_state, count(*) as transitions,
      cast(count(*) as double precision) / sum(count(*)) over (partition by collapsed, from_state) as share
    from steps group by collapsed, from_state, to_state`;
}

export async function computePaths(ctx: AnalyticsContext): Promise<ResultRow[]> {
  const { db, dialect, config } = ctx;
  await preparePathTables(ctx);
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

  const transitions = await exec(db, raw(`${transitionsSql()} order by collapsed desc, from_state, to_state`));
  for (const r of transitions.rows) {
    rows.push({ kind: 'transition', collapsed: Boolean(r.collapsed), from_state: String(r.from_state), to_state: String(r.to_state), journeys: Number(r.transitions), share: num(r.share) });
  }

  const flows = await exec(
    db,
    sql`select p.collapsed, p.pos as step, p.channel as from_state,
        coalesce(nx.channel, case when x.converted then '(conversion)' else '(null)' end) as to_state, count(*) as journeys,
        cast(count(*) as double precision) / sum(count(*)) over (partition by p.collapsed, p.pos) as share
      from a_ppos p
      join a_ppath x on x.journey_id = p.journey_id and x.collapsed = p.collapsed
      left join a_ppos nx on nx.journey_id = p.journey_id and nx.collapsed = p.collapsed and nx.pos = p.pos + 1
      where p.pos <= ${config.paths.flow_steps}
      group by p.collapsed, p.pos, p.channel, coalesce(nx.channel, case when x.converted then '(conversion)' else '(null)' end)`,
  );
  for (const r of flows.rows) {
    rows.push({ kind: 'flow', collapsed: Boolean(r.collapsed), step: Number(r.step), from_state: String(r.from_state), to_state: String(r.to_state), journeys: Number(r.journeys), share: num(r.share) });
  }

  await dropPathTables(ctx);
  return rows;
}
