// Journey assembly as set-based SQL that DuckDB and PostgreSQL both run (window functions,
// `create temporary table … as select`, `insert … select`); no event row is read into Node. Pure:
// configuration in, the statements to run in order out.
//
//   0. persons: each person numbered in byte order of person_id; every later pass partitions,
//      groups and joins on that integer, and the text ids are joined back only where rows are written.
//   1. owned: each event's person, and whether it is a conversion (which rule) or a touchpoint. Its
//      identifiers (identifier_observations, observation_id = event_id) joined to identity_map;
//      several persons → the identifier type earliest in identifier_priority, then the smallest
//      person_id (a `min` per event, no sort).
//   2. sequence: the person's conversions and touchpoints in order (time; at the same instant touches
//      before the conversion; then event_id), one window pass over narrow rows: rn, grp (conversions
//      before the event, plus one: its journey's number; after the last conversion, the open
//      journey) and the journey's conversion time.
//   3. kept: touches within lookback_days of their conversion; sessions of kept touchpoints without
//      a session_id from 30 minutes of inactivity (lag, then a running sum of session starts: two
//      more passes, over those rows only).
//   4. journey_touchpoints, with the events' columns joined back once (by row id on DuckDB), then
//      journeys aggregated from the kept rows by (person number, grp).
// Intermediate results are temporary tables: DuckDB runs each step in parallel over its columnar
// result, where one statement with chained window CTEs ran several times slower (bench/journeys.ts).
// With `scope` (a run id) only the persons in journeys_scope for that run are built: a person's
// journeys depend only on their own events, so this gives exactly what a full build gives for them.
import type { Dialect } from '../store/types.ts';
import type { JourneysConfig } from './config.ts';
import { PAGE, conversionDetails, conversionRule, priorityRank, stageExpression, touchFilter, usesPages } from './rules.ts';
import { analyzed, bytewise, raw, sql } from '../store/sql.ts';
import type { Fragment, Step } from '../store/sql.ts';

export const TEMP_TABLES = ['journeys_tmp_candidates', 'journeys_tmp_persons', 'journeys_tmp_owned', 'journeys_tmp_owned_n', 'journeys_tmp_sequence', 'journeys_tmp_kept'] as const;

export const TOUCHPOINT_COLUMNS = [
  'journey_id', 'position', 'event_id', 'person_id', 'occurred_at', 'name', 'channel', 'source_medium', 'campaign_id', 'campaign',
  'stage', 'session_key', 'device', 'is_conversion',
] as const;

export interface AssemblyOptions {
  config: JourneysConfig;
  dialect: Dialect;
  /** The run whose journeys_scope rows name the persons to build; null: everyone. */
  scope: string | null;
  runId: string;
}

/**
 * How the work tables find an event's row again: DuckDB's row id (an integer join instead of one
 * on the text event_id: half the cost of writing touchpoints), PostgreSQL's event_id (its ctid
 * hashes poorly, and the primary key serves the join). Events do not change during the build.
 */
function eventKey(dialect: Dialect): string {
  return dialect === 'duckdb' ? 'rowid' : 'event_id';
}

/** The statements that build journey_touchpoints and journeys (after the old rows were deleted). */
export function assemblyStatements(options: AssemblyOptions): Step[] {
  const { dialect, scope } = options;
  return [
    // Incremental: only events carrying an identifier of a scoped person can belong to one.
    ...(scope === null
      ? []
      : analyzed(dialect, 'candidate events', 'journeys_tmp_candidates', sql`select distinct o.observation_id as event_id from journeys_scope s
          join identity_map m on m.person_id = s.person_id
          join identifier_observations o on o.identifier_type = m.identifier_type and o.identifier_value = m.identifier_value
          where s.run_id = ${scope}`)),
    // Persons numbered in byte order of person_id: the passes below partition, group and join on
    // the number (integers sort and hash several times faster than text ids), and the smallest
    // number is the smallest person_id, the ownership tie-break.
    ...analyzed(
      dialect,
      'persons',
      'journeys_tmp_persons',
      sql`select person_id, row_number() over (order by ${bytewise('person_id', dialect)}) as pn from (select distinct person_id from identity_map) d`,
    ),
    ...analyzed(dialect, 'owned events', 'journeys_tmp_owned', ownedSelect(options)),
    ...analyzed(dialect, 'sequence', 'journeys_tmp_sequence', sequenceSelect(options)),
    // Each work table is dropped once the next is made: with a million events each holds ~100 MB,
    // and under DuckDB's memory limit the writes below slowed by a third with all of them alive.
    { name: 'count owned', sql: raw('create temporary table journeys_tmp_owned_n as select count(*) as n from journeys_tmp_owned') },
    { name: 'drop owned', sql: raw('drop table journeys_tmp_owned') },
    ...analyzed(dialect, 'kept', 'journeys_tmp_kept', keptSelect(options)),
    { name: 'drop sequence', sql: raw('drop table journeys_tmp_sequence') },
    { name: 'insert touchpoints', sql: insertTouchpoints(options) },
    { name: 'insert journeys', sql: insertJourneys(options) },
  ];
}

/** Room for the person number below the identifier type's priority rank in one ownership key. */
const RANK_UNIT = 4_294_967_296;

function ownedSelect({ config, dialect, scope }: AssemblyOptions): Fragment {
  const observations =
    scope === null ? raw('identifier_observations o') : raw('journeys_tmp_candidates c join identifier_observations o on o.observation_id = c.event_id');
  // The owner is the person of the identifier earliest in the priority, then the smallest person:
  // the minimum of rank * RANK_UNIT + pn, a grouping (no sort of the observations by text).
  // Unqualified kind, name and properties in the rule expressions are the event's.
  return sql`select r.pn, e.event_id, e.erow, e.occurred_at, e.session_id, conv_rule, conv_rule > 0 or ${touchFilter(config)} as included
  from (
    select event_id, min(okey) % ${raw(String(RANK_UNIT))} as pn from (
      select o.observation_id as event_id, cast(${priorityRank(config.identifier_priority)} as bigint) * ${raw(String(RANK_UNIT))} + p.pn as okey
      from ${observations}
      join identity_map m on m.identifier_type = o.identifier_type and m.identifier_value = o.identifier_value
      join journeys_tmp_persons p on p.person_id = m.person_id
    ) k group by event_id
  ) r
  join (select events.*, events.${raw(eventKey(dialect))} as erow, ${conversionRule(config.conversions)} as conv_rule from events) e on e.event_id = r.event_id${
    scope === null
      ? raw('')
      : sql`
  where r.pn in (select p.pn from journeys_scope s join journeys_tmp_persons p on p.person_id = s.person_id where s.run_id = ${scope})`
  }`;
}

function personWindow(dialect: Dialect, frame = ''): Fragment {
  return sql`partition by pn order by occurred_at, is_conv, ${bytewise('event_id', dialect)}${raw(frame)}`;
}

function sequenceSelect({ dialect }: AssemblyOptions): Fragment {
  return sql`select b.*,
    row_number() over (${personWindow(dialect)}) as rn,
    coalesce(sum(is_conv) over (${personWindow(dialect, ' rows between unbounded preceding and 1 preceding')}), 0) + 1 as grp,
    min(case when is_conv = 1 then occurred_at end) over (${personWindow(dialect, ' rows between current row and unbounded following')}) as conversion_at
  from (
    select pn, event_id, erow, occurred_at, session_id, conv_rule, case when conv_rule > 0 then 1 else 0 end as is_conv
    from journeys_tmp_owned where included
  ) b`;
}

function keptSelect({ config }: AssemblyOptions): Fragment {
  const inLookback = sql`(conversion_at is null or is_conv = 1 or extract(epoch from conversion_at) - extract(epoch from occurred_at) <= ${config.lookback_days * 86_400})`;
  // A journey is (pn, grp); its text journey_id is made only where rows are written. rn is the
  // person's sequence order: the session windows sort by it, and the text event_id stays behind.
  const columns = raw('pn, grp, rn, erow, occurred_at, is_conv, conv_rule, session_id');
  const bySequence = (frame = '') => raw(`partition by pn order by rn${frame}`);
  // Sessions are cut among kept touchpoints only: a touch the lookback leaves out then changes
  // nothing, so an incremental build need not know where it went.
  return sql`select ${columns}, cast(null as bigint) as session_number
  from journeys_tmp_sequence where session_id is not null and ${inLookback}
  union all
  select ${columns}, cast(sum(session_start) over (${bySequence(' rows between unbounded preceding and current row')}) as bigint)
  from (
    select s.*, case when extract(epoch from occurred_at) - extract(epoch from lag(occurred_at) over (${bySequence()}))
        <= ${config.session_timeout_minutes * 60} then 0 else 1 end as session_start
    from journeys_tmp_sequence s where session_id is null and ${inLookback}
  ) sessionless_rows`;
}

/** An event's channel (alias `e`), the configured default where it has none. */
function channelOf(config: JourneysConfig, e: string): Fragment {
  return sql`coalesce(${raw(e)}.channel, cast(${config.default_channel} as text))`;
}

function insertTouchpoints({ config, dialect }: AssemblyOptions): Fragment {
  // The page is read from the event's properties only when a stage rule asks for it (JSON is parsed per row).
  return sql`insert into journey_touchpoints (${raw(TOUCHPOINT_COLUMNS.join(', '))})
  select person_id || ':' || cast(grp as text), cast(rn - first_rn + 1 as integer), event_id, person_id, occurred_at, name, channel, source_medium, campaign_id, campaign,
    ${stageExpression(config.stages, config.default_stage)},
    coalesce(session_id, 's:' || person_id || ':' || cast(session_number as text)), device, is_conv = 1
  from (
    select p.person_id, k.grp, k.rn, k.is_conv, k.session_number, f.first_rn,
      e.event_id, e.occurred_at, e.kind, e.name, ${channelOf(config, 'e')} as channel, e.source_medium, e.campaign_id, e.campaign,
      e.session_id, e.device, e.properties${usesPages(config.stages) ? sql`, ${PAGE} as page` : raw('')}
    from journeys_tmp_kept k
    -- Dropped touches are the first of their journey: its first kept row is position 1.
    join (select pn as first_pn, grp as first_grp, min(rn) as first_rn from journeys_tmp_kept group by pn, grp) f on f.first_pn = k.pn and f.first_grp = k.grp
    join journeys_tmp_persons p on p.pn = k.pn
    join events e on e.${raw(eventKey(dialect))} = k.erow
  ) touchpoints`;
}

function insertJourneys({ config, dialect, runId }: AssemblyOptions): Fragment {
  // journey_number is grp: a person's conversions are numbered in their sequence order, which is
  // conversion time, then event id; the open journey (after the last conversion) comes last.
  // Sessions: the distinct session ids, plus the numbered sessions of touches without one (their
  // numbers run without gaps through a journey, so max - min + 1 of them).
  return sql`insert into journeys (journey_id, person_id, status, journey_number, conversion_event_id, conversion_name, conversion_at,
    conversion_value, conversion_currency, started_at, ended_at, touch_count, session_count, first_touch_channel, first_touch_source_medium,
    first_touch_campaign, first_touch_device, last_touch_channel, last_touch_source_medium, last_touch_campaign, run_id)
  with agg as (
    select pn, grp, min(rn) as first_rn, min(occurred_at) as started_at, max(occurred_at) as ended_at,
      cast(sum(1 - is_conv) as integer) as touch_count,
      cast(count(distinct session_id) + coalesce(max(session_number) - min(session_number) + 1, 0) as integer) as session_count
    from journeys_tmp_kept group by pn, grp
  ),
  conversions as (
    select pn, grp, event_id as conversion_event_id, occurred_at as conversion_at, ${conversionDetails(config.conversions)}
    from (select k.pn, k.grp, e.event_id, e.occurred_at, k.conv_rule, e.name, e.value, e.currency, e.properties
      from journeys_tmp_kept k join events e on e.${raw(eventKey(dialect))} = k.erow where k.is_conv = 1) c
  )
  select p.person_id || ':' || cast(a.grp as text), p.person_id, case when c.conversion_event_id is null then 'open' else 'converted' end,
    cast(a.grp as integer),
    c.conversion_event_id, c.conversion_name, c.conversion_at, c.conversion_value, c.conversion_currency, a.started_at, a.ended_at,
    a.touch_count, a.session_count,
    case when fk.erow is not null then ${channelOf(config, 'fe')} end, fe.source_medium, fe.campaign, fe.device,
    case when lk.erow is not null then ${channelOf(config, 'le')} end, le.source_medium, le.campaign, cast(${runId} as text)
  from agg a
  join journeys_tmp_persons p on p.pn = a.pn
  left join conversions c on c.pn = a.pn and c.grp = a.grp
  -- The first and last touches found in the work table by their sequence numbers and their events
  -- by row, not read back from journey_touchpoints by the text journey_id (a third of the cost).
  -- The conversion is always last, so touches are positions 1 … touch_count. (Conditions on the
  -- right side only: a condition on a alone turns DuckDB's hash join into a nested loop.)
  left join journeys_tmp_kept fk on fk.pn = a.pn and fk.grp = a.grp and fk.rn = a.first_rn and fk.is_conv = 0
  left join events fe on fe.${raw(eventKey(dialect))} = fk.erow
  left join journeys_tmp_kept lk on lk.pn = a.pn and lk.grp = a.grp and lk.rn = a.first_rn + a.touch_count - 1 and lk.is_conv = 0
  left join events le on le.${raw(eventKey(dialect))} = lk.erow`;
}

/** Events with no person (left out of every journey): all of them, after a full build's owned events. */
export function countEventsWithoutOwner(): Fragment {
  return raw('select (select count(*) from events) - (select n from journeys_tmp_owned_n) as n');
}
