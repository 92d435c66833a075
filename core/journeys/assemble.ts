// Journey assembly as set-based SQL that DuckDB and PostgreSQL both run (window functions,
// `create temporary table … as select`, `insert … select`); no event row is read into Node. Pure:
// configuration in, the statements to run in order out.
//
//   1. owned: each event's person, and whether it is a conversion (which rule) or a touchpoint. Its
//      identifiers (identifier_observations, observation_id = event_id) joined to identity_map;
//      several persons → the identifier type earliest in identifier_priority, then the smallest
//      person_id.
//   2. sequence: the person's conversions and touchpoints in order (time; at the same instant touches
//      before the conversion; then event_id), one window pass over narrow rows: rn, grp (conversions
//      before the event, plus one: its journey's number; after the last conversion, the open
//      journey) and the journey's conversion time.
//   3. kept: touches within lookback_days of their conversion; sessions of kept touchpoints without
//      a session_id from 30 minutes of inactivity (lag, then a running sum of session starts: two
//      more passes, over those rows only).
//   4. journey_touchpoints, with the events' columns joined back once, then journeys aggregated.
// Intermediate results are temporary tables: DuckDB runs each step in parallel over its columnar
// result, where one statement with chained window CTEs ran several times slower (bench/journeys.ts).
// With `scope` (a run id) only the persons in journeys_scope for that run are built: a person's
// journeys depend only on their own events, so this gives exactly what a full build gives for them.
import type { Dialect } from '../store/types.ts';
import type { JourneysConfig } from './config.ts';
import { PAGE, bytewise, conversionDetails, conversionRule, priorityRank, stageExpression, touchFilter, usesPages } from './rules.ts';
import { analyzed, raw, sql } from './sql.ts';
import type { Fragment, Step } from './sql.ts';

export const TEMP_TABLES = ['journeys_tmp_candidates', 'journeys_tmp_owned', 'journeys_tmp_sequence', 'journeys_tmp_kept'] as const;

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

function inScope(scope: string, column: string): Fragment {
  return sql`${raw(column)} in (select person_id from journeys_scope where run_id = ${scope})`;
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
    ...analyzed(dialect, 'owned events', 'journeys_tmp_owned', ownedSelect(options)),
    ...analyzed(dialect, 'sequence', 'journeys_tmp_sequence', sequenceSelect(options)),
    ...analyzed(dialect, 'kept', 'journeys_tmp_kept', keptSelect(options)),
    { name: 'insert touchpoints', sql: insertTouchpoints(options) },
    { name: 'insert journeys', sql: insertJourneys(options) },
  ];
}

function ownedSelect({ config, dialect, scope }: AssemblyOptions): Fragment {
  const observations =
    scope === null ? raw('identifier_observations o') : raw('journeys_tmp_candidates c join identifier_observations o on o.observation_id = c.event_id');
  // Unqualified kind, name and properties in the rule expressions are the event's.
  return sql`select r.person_id, e.event_id, e.occurred_at, e.session_id is null as sessionless, conv_rule, conv_rule > 0 or ${touchFilter(config)} as included
  from (
    select o.observation_id as event_id, m.person_id,
      row_number() over (partition by o.observation_id order by ${priorityRank(config.identifier_priority)}, ${bytewise('m.person_id', dialect)}) as rn
    from ${observations}
    join identity_map m on m.identifier_type = o.identifier_type and m.identifier_value = o.identifier_value
  ) r
  join (select events.*, ${conversionRule(config.conversions)} as conv_rule from events) e on e.event_id = r.event_id
  where r.rn = 1${scope === null ? raw('') : sql` and ${inScope(scope, 'r.person_id')}`}`;
}

function personWindow(dialect: Dialect, frame = ''): Fragment {
  return sql`partition by person_id order by occurred_at, is_conv, ${bytewise('event_id', dialect)}${raw(frame)}`;
}

function sequenceSelect({ dialect }: AssemblyOptions): Fragment {
  return sql`select b.*,
    row_number() over (${personWindow(dialect)}) as rn,
    coalesce(sum(is_conv) over (${personWindow(dialect, ' rows between unbounded preceding and 1 preceding')}), 0) + 1 as grp,
    min(case when is_conv = 1 then occurred_at end) over (${personWindow(dialect, ' rows between current row and unbounded following')}) as conversion_at
  from (
    select person_id, event_id, occurred_at, sessionless, conv_rule, case when conv_rule > 0 then 1 else 0 end as is_conv
    from journeys_tmp_owned where included
  ) b`;
}

function keptSelect({ config, dialect }: AssemblyOptions): Fragment {
  const inLookback = sql`(conversion_at is null or is_conv = 1 or extract(epoch from conversion_at) - extract(epoch from occurred_at) <= ${config.lookback_days * 86_400})`;
  // journey_id is made here: one join key (person, grp) whose matches PostgreSQL can estimate.
  const columns = raw("person_id || ':' || cast(grp as text) as journey_id, person_id, event_id, occurred_at, is_conv, conv_rule, rn, grp");
  // Sessions are cut among kept touchpoints only: a touch the lookback leaves out then changes
  // nothing, so an incremental build need not know where it went.
  return sql`select ${columns}, cast(null as bigint) as session_number
  from journeys_tmp_sequence where not sessionless and ${inLookback}
  union all
  select ${columns}, cast(sum(session_start) over (${personWindow(dialect, ' rows between unbounded preceding and current row')}) as bigint)
  from (
    select s.*, case when extract(epoch from occurred_at) - extract(epoch from lag(occurred_at) over (${personWindow(dialect)}))
        <= ${config.session_timeout_minutes * 60} then 0 else 1 end as session_start
    from journeys_tmp_sequence s where sessionless and ${inLookback}
  ) sessionless_rows`;
}

function insertTouchpoints({ config }: AssemblyOptions): Fragment {
  return sql`insert into journey_touchpoints (${raw(TOUCHPOINT_COLUMNS.join(', '))})
  select journey_id, rn - first_rn + 1, event_id, person_id, occurred_at, name, channel, source_medium, campaign_id, campaign,
    ${stageExpression(config.stages, config.default_stage)},
    coalesce(session_id, 's:' || person_id || ':' || cast(session_number as text)), device, is_conv = 1
  from (
    select k.journey_id, k.person_id, k.event_id, k.occurred_at, k.is_conv, k.rn, k.grp, k.session_number, f.first_rn,
      e.kind, e.name, coalesce(e.channel, cast(${config.default_channel} as text)) as channel, e.source_medium, e.campaign_id, e.campaign,
      e.session_id, e.device, e.properties${usesPages(config.stages) ? sql`, ${PAGE} as page` : raw('')}
    from journeys_tmp_kept k
    -- Dropped touches are the first of their journey: its first kept row is position 1.
    join (select journey_id as first_journey_id, min(rn) as first_rn from journeys_tmp_kept group by journey_id) f on f.first_journey_id = k.journey_id
    join events e on e.event_id = k.event_id
  ) touchpoints`;
}

function insertJourneys({ config, dialect, scope, runId }: AssemblyOptions): Fragment {
  return sql`insert into journeys (journey_id, person_id, status, journey_number, conversion_event_id, conversion_name, conversion_at,
    conversion_value, conversion_currency, started_at, ended_at, touch_count, session_count, first_touch_channel, first_touch_source_medium,
    first_touch_campaign, first_touch_device, last_touch_channel, last_touch_source_medium, last_touch_campaign, run_id)
  with agg as (
    select journey_id, min(person_id) as person_id, min(occurred_at) as started_at, max(occurred_at) as ended_at,
      cast(sum(case when is_conversion then 0 else 1 end) as integer) as touch_count,
      cast(count(distinct session_key) as integer) as session_count
    from journey_touchpoints ${scope === null ? raw('') : sql`where ${inScope(scope, 'person_id')}`}
    group by journey_id
  ),
  conversions as (
    select journey_id, event_id as conversion_event_id, occurred_at as conversion_at, ${conversionDetails(config.conversions)}
    from (select k.journey_id, k.event_id, k.occurred_at, k.conv_rule, e.name, e.value, e.currency, e.properties
      from journeys_tmp_kept k join events e on e.event_id = k.event_id where k.is_conv = 1) c
  )
  select a.journey_id, a.person_id, case when c.conversion_event_id is null then 'open' else 'converted' end,
    row_number() over (partition by a.person_id order by case when c.conversion_event_id is null then 1 else 0 end, c.conversion_at, ${bytewise('c.conversion_event_id', dialect)}),
    c.conversion_event_id, c.conversion_name, c.conversion_at, c.conversion_value, c.conversion_currency, a.started_at, a.ended_at,
    a.touch_count, a.session_count, f.channel, f.source_medium, f.campaign, f.device, l.channel, l.source_medium, l.campaign, cast(${runId} as text)
  from agg a
  left join conversions c on c.journey_id = a.journey_id
  -- The conversion is always last, so touches are positions 1 … touch_count. (Conditions on the
  -- right side only: a condition on a alone turns DuckDB's hash join into a nested loop.)
  left join journey_touchpoints f on f.journey_id = a.journey_id and f.position = 1 and not f.is_conversion
  left join journey_touchpoints l on l.journey_id = a.journey_id and l.position = a.touch_count`;
}

/** Events with no person (left out of every journey): all of them, after a full build's owned events. */
export function countEventsWithoutOwner(): Fragment {
  return raw('select (select count(*) from events) - (select count(*) from journeys_tmp_owned) as n');
}
