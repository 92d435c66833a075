// What the `person` and `explain` commands show: a person's identifiers and timeline, and why two
// identifiers are (or are not) one person. Reads the store; the shortest chain of observations
// between two identifiers is a breadth-first search in Node over one component's observations —
// components are small (max_component_size), and only observations that link (two or more
// identifiers) are read, at most READ_LIMIT of them.
import { ConfigError } from '../errors.ts';
import type { Store } from '../store/types.ts';
import { BUILTIN_TYPES, normalizeRuleOf } from './config.ts';
import type { IdentityConfig } from './config.ts';
import { normalizeOne } from './normalize.ts';

export interface IdentifierRef {
  type: string;
  value: string;
  person_id: string | null;
}

export interface Hop {
  from: string;
  to: string;
  observation_id: string;
  source: string;
  stream: string;
  record_pk: string;
  observed_at: string | null;
  /** Why this identifier is not part of a person (the rule of its rejection), when it is not. */
  refused?: string;
}

export interface Link {
  observation_id: string;
  identifier: string;
  source: string;
  stream: string;
  record_pk: string;
  observed_at: string | null;
}

const READ_LIMIT = 100_000;

export const idText = (type: string, value: string): string => `${type}:${value}`;

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * The identifiers a user's text may mean, normalised as loading does: `type:value` when the prefix
 * is a known type (built-in, declared, or one the store holds), else the value under every type
 * (an email typed bare is found as an email, a phone as a phone). Returns those the store knows.
 */
export async function resolveIdentifier(store: Store, text: string, config: IdentityConfig): Promise<IdentifierRef[]> {
  const stored = (await store.knex('identity_nodes').distinct('identifier_type').pluck('identifier_type')) as string[];
  const types = new Set<string>([...BUILTIN_TYPES, ...config.types.map((t) => t.name), ...stored]);
  const options = { defaultRegion: config.default_region, types: config.types };
  const at = text.indexOf(':');
  const candidates =
    at > 0 && types.has(text.slice(0, at).trim().toLowerCase())
      ? normalizeOne(text.slice(0, at), text.slice(at + 1), options)
      : [...types].flatMap((type) => (normalizeRuleOf(type, config.types) === 'sha256' && !/^[0-9a-f]{64}$/i.test(text.trim()) ? [] : normalizeOne(type, text, options)));
  const found: IdentifierRef[] = [];
  for (const c of candidates) {
    const seen = await store.knex('identifier_observations').where({ identifier_type: c.type, identifier_value: c.value }).first('observation_id');
    if (!seen) continue;
    const mapped = await store.knex('identity_map').where({ identifier_type: c.type, identifier_value: c.value }).first('person_id');
    found.push({ type: c.type, value: c.value, person_id: mapped?.person_id ?? null });
  }
  return found;
}

/** One identifier for a command argument: exactly one match, else a usage error naming the choices. */
export async function resolveOne(store: Store, text: string, config: IdentityConfig): Promise<IdentifierRef> {
  const found = await resolveIdentifier(store, text, config);
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    throw new ConfigError(`no identifier ${JSON.stringify(text)} in the store`, {
      hint: 'write it as type:value (e.g. email:anna@example.com); values are normalised as when loaded (emails lower-cased, phones to +E.164 with identity.default_region)',
    });
  }
  throw new ConfigError(`${JSON.stringify(text)} is ambiguous: ${found.map((f) => idText(f.type, f.value)).join(', ')}`, {
    hint: `give the type: touchpoint … ${idText(found[0].type, found[0].value)}`,
  });
}

/** The rejection rows of an identifier (why it is not in a person, or was kept from joining one). */
export async function rejectionsOf(store: Store, type: string, value: string): Promise<Record<string, unknown>[]> {
  return store.knex('identity_rejections').where({ identifier_type: type, identifier_value: value }).orderBy('rule').select('*');
}

/** Breadth-first search for the shortest chain of observations from `from` to `to` (`type:value` texts). */
export function shortestPath(links: readonly Link[], from: string, to: string): Hop[] | undefined {
  const byIdentifier = new Map<string, Link[]>();
  const byObservation = new Map<string, Link[]>();
  for (const l of links) {
    byIdentifier.set(l.identifier, [...(byIdentifier.get(l.identifier) ?? []), l]);
    byObservation.set(l.observation_id, [...(byObservation.get(l.observation_id) ?? []), l]);
  }
  // Earliest observation first, so the chain shown is the one that linked them first.
  const order = (a: Link, b: Link) => (a.observed_at ?? '').localeCompare(b.observed_at ?? '') || a.observation_id.localeCompare(b.observation_id);
  const previous = new Map<string, Hop | null>([[from, null]]);
  let frontier = [from];
  while (frontier.length > 0 && !previous.has(to)) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const own of [...(byIdentifier.get(id) ?? [])].sort(order)) {
        for (const other of byObservation.get(own.observation_id) ?? []) {
          if (previous.has(other.identifier)) continue;
          previous.set(other.identifier, { from: id, to: other.identifier, observation_id: own.observation_id, source: own.source, stream: own.stream, record_pk: own.record_pk, observed_at: own.observed_at });
          next.push(other.identifier);
        }
      }
    }
    frontier = next;
  }
  if (!previous.has(to)) return undefined;
  const hops: Hop[] = [];
  for (let hop = previous.get(to); hop; hop = previous.get(hop.from)) hops.unshift(hop);
  return hops;
}

/** The linking observations among a set of identifiers: those of a person, or of a stored component. */
async function linksWithin(store: Store, scope: { person_id: string } | { component_key: string }): Promise<Link[] | undefined> {
  const ids =
    'person_id' in scope
      ? store.knex('identity_map').where({ person_id: scope.person_id }).select('identifier_type', 'identifier_value')
      : store.knex('identity_nodes').where({ component_key: scope.component_key }).select('identifier_type', 'identifier_value');
  const rows = await store.knex
    .with('ids', ids)
    .with('obs', (q) =>
      q.select('o.observation_id', 'o.identifier_type', 'o.identifier_value', 'o.source', 'o.stream', 'o.record_pk', 'o.observed_at')
        .from('identifier_observations as o')
        .join('ids', (j) => j.on('ids.identifier_type', 'o.identifier_type').andOn('ids.identifier_value', 'o.identifier_value')),
    )
    .with('linking', (q) => q.select('observation_id').from('obs').groupBy('observation_id').havingRaw('count(*) >= 2'))
    .select('obs.*')
    .from('obs')
    .whereIn('obs.observation_id', (q) => q.select('observation_id').from('linking'))
    .limit(READ_LIMIT + 1);
  if (rows.length > READ_LIMIT) return undefined;
  return rows.map((r: any) => ({
    observation_id: r.observation_id,
    identifier: idText(r.identifier_type, r.identifier_value),
    source: r.source,
    stream: r.stream,
    record_pk: r.record_pk,
    observed_at: iso(r.observed_at),
  }));
}

export interface Explanation {
  a: IdentifierRef;
  b: IdentifierRef;
  /** same_person | kept_apart | never_linked */
  verdict: 'same_person' | 'kept_apart' | 'never_linked';
  /** The chain of observations joining them (in the person, or in the unguarded component). */
  path?: Hop[];
  /** The rules that kept them apart: rejections in their component, never_link rules, blocklist. */
  reasons: { rule: string; identifier?: string; detail: string }[];
}

/** Why two identifiers are one person, or why not. */
export async function explainLink(store: Store, a: IdentifierRef, b: IdentifierRef, config: IdentityConfig): Promise<Explanation> {
  const from = idText(a.type, a.value);
  const to = idText(b.type, b.value);
  if (a.person_id !== null && a.person_id === b.person_id) {
    const links = await linksWithin(store, { person_id: a.person_id });
    return { a, b, verdict: 'same_person', path: links && (from === to ? [] : shortestPath(links, from, to)), reasons: [] };
  }
  const reasons: Explanation['reasons'] = [];
  for (const rule of config.never_link_pairs) {
    const pair = [rule.a, rule.b].map((t) => {
      const at = t.indexOf(':');
      return normalizeOne(t.slice(0, at), t.slice(at + 1), { defaultRegion: config.default_region, types: config.types })[0];
    });
    const names = pair.map((p) => (p ? idText(p.type, p.value) : ''));
    if ((names[0] === from && names[1] === to) || (names[0] === to && names[1] === from)) {
      reasons.push({ rule: 'never_link', detail: `identity.never_link[${rule.index}] keeps them apart${rule.reason ? ` (${rule.reason})` : ''}` });
    }
  }
  for (const ref of [a, b]) {
    for (const r of await rejectionsOf(store, ref.type, ref.value)) {
      if (r.component_key === null) reasons.push({ rule: String(r.rule), identifier: idText(ref.type, ref.value), detail: String(r.detail) });
    }
  }
  const key = async (ref: IdentifierRef) =>
    (await store.knex('identity_nodes').where({ identifier_type: ref.type, identifier_value: ref.value }).first('component_key'))?.component_key as string | undefined;
  const ka = await key(a);
  if (ka === undefined || ka !== (await key(b))) {
    if (reasons.length === 0) reasons.push({ rule: 'never_seen_together', detail: 'no chain of observations links them: they were never seen together, directly or through other identifiers' });
    return { a, b, verdict: 'never_linked', reasons };
  }
  // One unguarded component, two persons: the guards in that component split it.
  const rejections = await store.knex('identity_rejections').where({ component_key: ka }).orderBy(['rule', 'identifier_type', 'identifier_value']).select('*');
  const refused = new Map<string, string>();
  for (const r of rejections) {
    const id = idText(r.identifier_type, r.identifier_value);
    refused.set(id, r.rule);
    reasons.push({ rule: r.rule, identifier: id, detail: r.detail });
  }
  const links = await linksWithin(store, { component_key: ka });
  const path = links && shortestPath(links, from, to)?.map((hop) => (refused.has(hop.to) ? { ...hop, refused: refused.get(hop.to) } : hop));
  return { a, b, verdict: 'kept_apart', path, reasons };
}

export interface PersonReport {
  person: Record<string, unknown>;
  identifiers: { type: string; value: string; first_seen_at: string | null; last_seen_at: string | null; observations: number; sources: string[] }[];
  events: { occurred_at: string | null; kind: string; name: string; channel: string | null; campaign: string | null; source: string; stream: string; event_id: string; journey_id: string | null; journey_number: number | null; journey_status: string | null; conversion_name: string | null }[];
  merges: Record<string, unknown>[];
}

/** A person's identifiers (first and last seen, sources) and events in time order, with journeys when built. */
export async function personReport(store: Store, personId: string, limit: number): Promise<PersonReport | undefined> {
  const person = await store.knex('persons').where({ person_id: personId }).first('*');
  if (!person) return undefined;
  const ids = await store.knex('identity_map as m')
    .join('identifier_observations as o', (j) => j.on('o.identifier_type', 'm.identifier_type').andOn('o.identifier_value', 'm.identifier_value'))
    .where('m.person_id', personId)
    .groupBy('m.identifier_type', 'm.identifier_value')
    .orderBy([{ column: 'm.identifier_type' }, { column: 'm.identifier_value' }])
    .select('m.identifier_type', 'm.identifier_value')
    .min({ first_seen_at: 'o.observed_at' })
    .max({ last_seen_at: 'o.observed_at' })
    .count({ observations: '*' })
    .select(store.knex.raw("string_agg(distinct o.source || '/' || o.stream, ', ') as sources"));
  // Journeys are shown when the journeys stage has built them for this person.
  const journeys = (await store.knex.schema.hasTable('journey_touchpoints')) && (await store.knex('journey_touchpoints').where({ person_id: personId }).first('journey_id')) !== undefined;
  const query = store.knex('events as e')
    .whereIn('e.event_id', (q) =>
      q.select('o.observation_id').from('identifier_observations as o')
        .join('identity_map as m', (j) => j.on('m.identifier_type', 'o.identifier_type').andOn('m.identifier_value', 'o.identifier_value'))
        .where('m.person_id', personId),
    )
    .orderBy([{ column: 'e.occurred_at' }, { column: 'e.event_id' }])
    .limit(limit)
    .select('e.occurred_at', 'e.kind', 'e.name', 'e.channel', 'e.campaign', 'e.source', 'e.stream', 'e.event_id');
  if (journeys) {
    query
      .leftJoin('journey_touchpoints as t', (j) => j.on('t.event_id', 'e.event_id').andOn('t.person_id', store.knex.raw('?', [personId])))
      .leftJoin('journeys as j', 'j.journey_id', 't.journey_id')
      .select('t.journey_id', 'j.journey_number', 'j.status as journey_status', 'j.conversion_name');
  } else {
    query.select(store.knex.raw('null as journey_id, null as journey_number, null as journey_status, null as conversion_name'));
  }
  const events = await query;
  const merges = await store.knex('person_merges').where({ person_id: personId }).orWhere({ other_person_id: personId }).orderBy('changed_at').select('*');
  return {
    person: { ...person, first_seen_at: iso(person.first_seen_at), last_seen_at: iso(person.last_seen_at) },
    identifiers: ids.map((r: any) => ({
      type: r.identifier_type,
      value: r.identifier_value,
      first_seen_at: iso(r.first_seen_at),
      last_seen_at: iso(r.last_seen_at),
      observations: Number(r.observations),
      sources: String(r.sources ?? '').split(', ').filter(Boolean).sort(),
    })),
    events: events.map((e: any) => ({ ...e, occurred_at: iso(e.occurred_at), journey_number: e.journey_number === null ? null : Number(e.journey_number) })),
    merges: merges.map((m: any) => ({ ...m, changed_at: iso(m.changed_at) })),
  };
}
