// Hand-built worlds for the journeys tests: runs, events with their identifiers, and the identity
// stage's output (persons, identity_map) inserted directly, so these tests never depend on how
// identity stitching decides. Also reads the built tables back in a stable, engine-neutral form
// (sorted rows, timestamps as ISO strings, no run ids) for comparisons across builds and engines.
import type { Store } from '../store/types.ts';
import { buildJourneys } from './stage.ts';
import type { BuildSummary } from './stage.ts';
import { resolveJourneysConfig } from './config.ts';
import type { JsonObject } from '../sdk/types.ts';

export interface EventSpec {
  id: string;
  at: string;
  kind?: 'touch' | 'conversion' | 'other';
  name?: string;
  channel?: string | null;
  source_medium?: string | null;
  campaign?: string | null;
  session?: string | null;
  device?: string | null;
  value?: number | null;
  currency?: string | null;
  properties?: JsonObject;
  /** [type, value] pairs seen on the event. */
  ids?: [string, string][];
}

let runClock = Date.parse('2030-01-01T00:00:00Z');

/** Adds a run to the ledger, each one started a second after the previous (run ordering is by start). */
export async function addRun(store: Store, runId: string): Promise<void> {
  runClock += 1000;
  await store.knex('runs').insert({ run_id: runId, pipeline: 'test', started_at: new Date(runClock), status: 'succeeded', rows: '{}', error: null });
}

export async function addEvents(store: Store, runId: string, events: EventSpec[]): Promise<void> {
  if (events.length === 0) return;
  await store.knex('events').insert(
    events.map((e) => ({
      event_id: e.id,
      source: 'test',
      stream: 'events',
      record_pk: e.id,
      occurred_at: new Date(e.at),
      kind: e.kind ?? 'touch',
      name: e.name ?? (e.kind === 'conversion' ? 'purchase' : 'page_view'),
      channel: e.channel ?? null,
      source_medium: e.source_medium ?? null,
      campaign_id: null,
      campaign: e.campaign ?? null,
      value: e.value ?? null,
      currency: e.currency ?? null,
      session_id: e.session ?? null,
      device: e.device ?? null,
      properties: JSON.stringify(e.properties ?? {}),
      run_id: runId,
      loaded_at: new Date(),
    })),
  );
  const observations = events.flatMap((e) =>
    (e.ids ?? []).map(([type, value]) => ({
      observation_id: e.id,
      identifier_type: type,
      identifier_value: value,
      source: 'test',
      stream: 'events',
      record_pk: e.id,
      observed_at: new Date(e.at),
      run_id: runId,
    })),
  );
  if (observations.length > 0) await store.knex('identifier_observations').insert(observations);
}

/** Replaces events (as a re-load does: delete, then insert with the new run id). */
export async function reloadEvents(store: Store, runId: string, events: EventSpec[]): Promise<void> {
  const ids = events.map((e) => e.id);
  await store.knex('identifier_observations').whereIn('observation_id', ids).delete();
  await store.knex('events').whereIn('event_id', ids).delete();
  await addEvents(store, runId, events);
}

/**
 * Sets persons and their identifiers, as the identity stage would: identifiers move to their new
 * person, and identity_changes names every person whose identifier set changed in the run.
 */
export async function setIdentity(store: Store, runId: string, persons: Record<string, [string, string][]>): Promise<void> {
  const k = store.knex;
  const changed = new Map<string, string>();
  for (const [person, identifiers] of Object.entries(persons)) {
    const exists = await k('persons').where({ person_id: person }).first('person_id');
    changed.set(person, exists ? 'updated' : 'created');
    // Replace, not upsert: on DuckDB these tables have no keys to conflict on (core/identity/schema.ts).
    if (exists) await k('persons').where({ person_id: person }).update({ identifier_count: identifiers.length, updated_run_id: runId });
    else await k('persons').insert({ person_id: person, identifier_count: identifiers.length, created_run_id: runId, updated_run_id: runId });
    for (const [type, value] of identifiers) {
      const before = await k('identity_map').where({ identifier_type: type, identifier_value: value }).first('person_id');
      if (before && before.person_id !== person && !changed.has(before.person_id)) changed.set(before.person_id, 'updated');
      await k('identity_map').where({ identifier_type: type, identifier_value: value }).delete();
      await k('identity_map').insert({ identifier_type: type, identifier_value: value, person_id: person });
    }
  }
  await recordChanges(store, runId, changed);
}

/** Removes persons (merged into others, say) and their identity_map rows. */
export async function removePersons(store: Store, runId: string, persons: string[]): Promise<void> {
  await store.knex('identity_map').whereIn('person_id', persons).delete();
  await store.knex('persons').whereIn('person_id', persons).delete();
  await recordChanges(store, runId, new Map(persons.map((p) => [p, 'removed'])));
}

/** Drops identifiers from identity_map, as a merge guard rejecting them would. */
export async function rejectIdentifiers(store: Store, runId: string, identifiers: [string, string][]): Promise<void> {
  const changed = new Map<string, string>();
  for (const [type, value] of identifiers) {
    const before = await store.knex('identity_map').where({ identifier_type: type, identifier_value: value }).first('person_id');
    if (before) changed.set(before.person_id, 'updated');
    await store.knex('identity_map').where({ identifier_type: type, identifier_value: value }).delete();
    await store.knex('identity_rejections').insert({ run_id: runId, rule: 'blocklist', identifier_type: type, identifier_value: value });
  }
  await recordChanges(store, runId, changed);
}

async function recordChanges(store: Store, runId: string, changed: Map<string, string>): Promise<void> {
  for (const [person_id, change] of changed) {
    const recorded = await store.knex('identity_changes').where({ run_id: runId, person_id }).first('person_id');
    if (!recorded) await store.knex('identity_changes').insert({ run_id: runId, person_id, change });
  }
}

/** Builds with this `journeys:` section; incremental whenever possible (no switch to a full build for many persons). */
export async function build(store: Store, runId: string, journeys: JsonObject = {}, mode: 'auto' | 'full' = 'auto'): Promise<BuildSummary> {
  return buildJourneys(store, { runId, config: resolveJourneysConfig(journeys), mode, fullRebuildShare: 1 });
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null ? null : new Date(String(v)).toISOString());

/** Both tables, sorted, run ids left out, timestamps as ISO strings and numbers as numbers. */
export async function snapshot(store: Store): Promise<{ journeys: Record<string, unknown>[]; touchpoints: Record<string, unknown>[] }> {
  const journeys = (await store.knex('journeys').select('*').orderBy('journey_id')).map(({ run_id: _r, ...j }: Record<string, unknown>) => ({
    ...j,
    conversion_at: j.conversion_at === null ? null : iso(j.conversion_at),
    started_at: iso(j.started_at),
    ended_at: iso(j.ended_at),
    journey_number: Number(j.journey_number),
    touch_count: Number(j.touch_count),
    session_count: Number(j.session_count),
  }));
  const touchpoints = (await store.knex('journey_touchpoints').select('*').orderBy(['journey_id', 'position'])).map(({ run_id: _r, ...t }: Record<string, unknown>) => ({
    ...t,
    occurred_at: iso(t.occurred_at),
    position: Number(t.position),
  }));
  return { journeys, touchpoints };
}

/** A person's journeys as readable lines: `status:name [event event …]`. */
export async function outline(store: Store, person: string): Promise<string[]> {
  const rows = await store.knex('journey_touchpoints as t').join('journeys as j', 'j.journey_id', 't.journey_id').where('j.person_id', person).orderBy(['j.journey_number', 't.position']).select('j.journey_number', 'j.status', 'j.conversion_name', 't.event_id');
  const out = new Map<number, { head: string; events: string[] }>();
  for (const r of rows) {
    const n = Number(r.journey_number);
    if (!out.has(n)) out.set(n, { head: r.status === 'open' ? 'open' : `converted:${r.conversion_name}`, events: [] });
    out.get(n)!.events.push(r.event_id);
  }
  return [...out.values()].map((j) => `${j.head} [${j.events.join(' ')}]`);
}
