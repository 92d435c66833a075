// Which persons an incremental build rebuilds: set-based SQL filling journeys_scope. A person's
// journeys depend only on the events that belong to them; an event's person only on its
// identifiers and their identity_map rows. After the runs that started later than the one this
// stage last processed, these persons may therefore differ from what is stored:
//   - persons whose identifier set changed (identity_changes: created, updated, merged, removed);
//   - for every affected event, its stored person (journey_touchpoints) and every person its
//     identifiers map to now (its new person is one of them). Affected: events loaded by those runs,
//     events of changed persons (stored, or carrying one of their identifiers now), and events
//     carrying an identifier the identity stage rejected in those runs (no longer in identity_map);
//   - stored persons of events that no longer exist, and stored persons that no longer exist.
// A touch left out by the lookback is in no stored journey; its old person is still found, as the
// person one of its identifiers still maps to, or as a changed person (if it lost the identifier).
// Over-including costs only time: every person in scope is rebuilt from scratch.
import type { Dialect } from '../store/types.ts';
import { analyzed, raw, sql } from '../store/sql.ts';
import type { Fragment, Step } from '../store/sql.ts';

export const SCOPE_TEMP_TABLES = ['journeys_tmp_changed_events', 'journeys_tmp_changed', 'journeys_tmp_affected'] as const;

/** Steps that fill journeys_scope for `runId`, given the start of the run the stored journeys were built in. */
export function scopeSteps(runId: string, since: Date, dialect: Dialect): Step[] {
  const newRuns = sql`select run_id from runs where started_at > ${since}`;
  // Our own column names, never user data.
  const observing = (type: string, value: string) =>
    sql`select o.observation_id from identity_rejections r
      join identifier_observations o on o.identifier_type = ${raw(`r.${type}`)} and o.identifier_value = ${raw(`r.${value}`)}
      where r.run_id in (${newRuns})`;
  return [
    ...analyzed(dialect, 'changed events', 'journeys_tmp_changed_events', sql`select event_id from events where run_id in (${newRuns})`),
    ...analyzed(dialect, 'changed persons', 'journeys_tmp_changed', sql`select distinct person_id from identity_changes where run_id in (${newRuns})`),
    ...analyzed(
      dialect,
      'affected events',
      'journeys_tmp_affected',
      sql`select event_id from journeys_tmp_changed_events
        union
        select tp.event_id from journey_touchpoints tp join journeys_tmp_changed c on c.person_id = tp.person_id
        union
        select o.observation_id from journeys_tmp_changed c
        join identity_map m on m.person_id = c.person_id
        join identifier_observations o on o.identifier_type = m.identifier_type and o.identifier_value = m.identifier_value
        union
        ${observing('identifier_type', 'identifier_value')}
        union
        ${observing('other_identifier_type', 'other_identifier_value')}`,
    ),
    {
      name: 'scope',
      sql: sql`insert into journeys_scope (run_id, person_id)
        select distinct cast(${runId} as text), person_id from (
          select person_id from journeys_tmp_changed
          union
          select tp.person_id from journey_touchpoints tp join journeys_tmp_affected a on a.event_id = tp.event_id
          union
          select m.person_id from journeys_tmp_affected a
          join identifier_observations o on o.observation_id = a.event_id
          join identity_map m on m.identifier_type = o.identifier_type and m.identifier_value = o.identifier_value
          union
          select tp.person_id from journey_touchpoints tp where not exists (select 1 from events e where e.event_id = tp.event_id)
          union
          select j.person_id from journeys j where not exists (select 1 from persons p where p.person_id = j.person_id)
        ) dirty`,
    },
    // Without fresh statistics PostgreSQL takes the scope for a handful of rows and nests loops over it.
    ...(dialect === 'postgres' ? [{ name: 'analyze journeys_scope', sql: raw('analyze journeys_scope') }] : []),
  ];
}

/** Events loaded since the last build that have no person (after the scope steps ran). */
export function countChangedEventsWithoutPerson(): Fragment {
  return raw(`select count(*) as n from journeys_tmp_changed_events c
    where not exists (
      select 1 from identifier_observations o
      join identity_map m on m.identifier_type = o.identifier_type and m.identifier_value = o.identifier_value
      where o.observation_id = c.event_id)`);
}
