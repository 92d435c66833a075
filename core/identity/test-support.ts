// Helpers for the identity tests: observations written straight into a real store (as the loader
// would, one run at a time), the stage run on them, and the result read back as sets of identifiers
// per person, so known-answer graphs read like the pictures in docs/identity.md.
import type { JsonObject } from '../sdk/types.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { resolveIdentityConfig } from './config.ts';
import { runIdentity } from './stage.ts';
import type { IdentitySummary } from './stage.ts';

let runCounter = 0;

export async function freshStore(url: string): Promise<Store> {
  const store = await openStore({ url });
  await store.migrate();
  return store;
}

/** Starts a run in the ledger (the stage's watermark reads run start times). */
export async function startRun(store: Store): Promise<string> {
  const runId = `r${String(++runCounter).padStart(5, '0')}-${process.pid}`;
  await store.startRun({ run_id: runId, pipeline: 'test' });
  return runId;
}

/** `{ observation_id: ['email:a@x.com', 'ga_client_id:1'] }` → identifier_observations rows of `runId`. */
export async function observe(store: Store, runId: string, observations: Record<string, string[]>, at = '2025-01-01T00:00:00Z'): Promise<void> {
  const rows = Object.entries(observations).flatMap(([observation_id, ids]) =>
    ids.map((id) => {
      const i = id.indexOf(':');
      return {
        observation_id,
        identifier_type: id.slice(0, i),
        identifier_value: id.slice(i + 1),
        source: 'test',
        stream: 'obs',
        record_pk: observation_id,
        observed_at: at,
        run_id: runId,
      };
    }),
  );
  // Re-observing an observation replaces it, as a re-loaded record does.
  const ids = Object.keys(observations);
  for (let i = 0; i < ids.length; i += 500) await store.knex('identifier_observations').whereIn('observation_id', ids.slice(i, i + 500)).delete();
  for (let i = 0; i < rows.length; i += 500) await store.knex('identifier_observations').insert(rows.slice(i, i + 500));
}

export async function forget(store: Store, ...observationIds: string[]): Promise<void> {
  await store.knex('identifier_observations').whereIn('observation_id', observationIds).delete();
}

/** One identity run in a new ledger run, with the given `identity:` section. */
export async function stitchRun(store: Store, section: JsonObject = {}, options: { full?: boolean } = {}): Promise<IdentitySummary> {
  const runId = await startRun(store);
  return runIdentity(store, { config: resolveIdentityConfig(section), runId, full: options.full });
}

/** Loads observations in a new run, then stitches in that run. */
export async function load(store: Store, observations: Record<string, string[]>, section: JsonObject = {}): Promise<IdentitySummary> {
  const runId = await startRun(store);
  await observe(store, runId, observations);
  return runIdentity(store, { config: resolveIdentityConfig(section), runId });
}

/** Persons as sorted lists of `type:value`, sorted by their first identifier (ids left out). */
export async function groups(store: Store): Promise<string[][]> {
  const rows = await store.knex('identity_map').select('identifier_type', 'identifier_value', 'person_id');
  const byPerson = new Map<string, string[]>();
  for (const r of rows) byPerson.set(r.person_id, [...(byPerson.get(r.person_id) ?? []), `${r.identifier_type}:${r.identifier_value}`]);
  return [...byPerson.values()].map((g) => g.sort(byteOrder)).sort((a, b) => byteOrder(a[0], b[0]));
}

/** identity_map as `type:value` → person_id. */
export async function mapping(store: Store): Promise<Record<string, string>> {
  const rows = await store.knex('identity_map').select('identifier_type', 'identifier_value', 'person_id');
  return Object.fromEntries(rows.map((r: any) => [`${r.identifier_type}:${r.identifier_value}`, r.person_id]).sort(([a], [b]) => byteOrder(a, b)));
}

export async function personOf(store: Store, id: string): Promise<string | undefined> {
  const i = id.indexOf(':');
  const row = await store.knex('identity_map').where({ identifier_type: id.slice(0, i), identifier_value: id.slice(i + 1) }).first('person_id');
  return row?.person_id;
}

export function byteOrder(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

/** mulberry32: a small seeded generator, so every failure is reproducible from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['email', 'email', 'ga_client_id', 'ga_client_id', 'ga_client_id', 'hubspot_contact_id', 'user_id', 'phone', 'gclid', 'fbclid'];

export type Batch = { observe: Record<string, string[]>; forget: string[] };

/**
 * A random history: `runs` batches over a pool of `size` identifiers. Observations pick identifiers
 * near each other in the pool (so components grow to realistic sizes), some observations are later
 * changed or removed, and a few junk values appear.
 */
export function randomHistory(seed: number, runs: number, size: number, perRun: number): Batch[] {
  const r = rng(seed);
  const pool = Array.from({ length: size }, (_, i) => {
    const type = TYPES[Math.floor(r() * TYPES.length)];
    return `${type}:${type === 'email' ? `u${i}@x.com` : type === 'phone' ? `+48601${String(i).padStart(6, '0')}` : `${i}.${i % 7}`}`;
  });
  const live = new Set<string>();
  let next = 0;
  const batches: Batch[] = [];
  for (let run = 0; run < runs; run++) {
    const batch: Batch = { observe: {}, forget: [] };
    for (let i = 0; i < perRun; i++) {
      const center = Math.floor(r() * size);
      const n = 1 + Math.floor(r() * 3);
      const ids = new Set<string>();
      for (let k = 0; k < n; k++) ids.add(r() < 0.03 ? 'email:test@test.com' : pool[Math.min(size - 1, Math.max(0, center + Math.floor((r() - 0.5) * 12)))]);
      const changeOld = live.size > 0 && r() < 0.1;
      const id = changeOld ? [...live][Math.floor(r() * live.size)] : `o${next++}`;
      batch.observe[id] = [...ids];
      live.add(id);
    }
    for (const id of live) {
      if (r() < 0.03 && !(id in batch.observe)) {
        batch.forget.push(id);
        live.delete(id);
      }
    }
    batches.push(batch);
  }
  return batches;
}
