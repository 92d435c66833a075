// Incremental builds give exactly what a full build gives: after each kind of change (new events,
// re-loaded events whose identifiers changed, identifiers moving between persons, an event moving
// to a person whose identity did not change, deleted events, removed persons, rejected
// identifiers, touches left out by the lookback) and after rounds of random changes. Also: the same
// input gives the same journeys and touchpoints on DuckDB and PostgreSQL.
import { afterEach, expect, it } from 'vitest';
import { openStore } from '../store/index.ts';
import { createPgSchema, describeEachEngine, describeOnPostgres, tempDuckDB } from '../store/test-support.ts';
import type { Store } from '../store/types.ts';
import { addEvents, addRun, build, outline, rejectIdentifiers, reloadEvents, removePersons, setIdentity, snapshot } from './test-support.ts';
import type { EventSpec } from './test-support.ts';

const email = (person: string): [string, string] => ['email', `${person}@example.com`];
const day = (n: number, minutes = 0) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000 + minutes * 60_000).toISOString();

/** Builds incrementally in run `runId` (already in the ledger), then fully in `${runId}-full`: the same rows. */
async function expectIncrementalEqualsFull(store: Store, runId: string, config = {}, afterIncremental?: () => Promise<void>) {
  const incremental = await build(store, runId, config);
  await afterIncremental?.();
  const incrementalResult = await snapshot(store);
  await addRun(store, `${runId}-full`);
  await build(store, `${runId}-full`, config, 'full');
  expect(incrementalResult).toEqual(await snapshot(store));
  return incremental;
}

async function outlineOf(store: Store, persons: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const p of persons) out[p] = await outline(store, p);
  return out;
}

/** A seeded world: `persons` persons with email and ga_client_id, random touches and purchases. */
function randomWorld(seed: number, persons: number, events: number) {
  let s = seed;
  const next = () => ((s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const int = (n: number) => Math.floor(next() * n);
  const channels = ['Paid Search', 'Email', 'Direct', null, 'Organic Social'];
  const identity: Record<string, [string, string][]> = {};
  for (let p = 0; p < persons; p++) identity[`p${p}`] = [email(`p${p}`), ['ga_client_id', `g${p}`]];
  let counter = 0;
  const event = (): EventSpec => {
    const p = int(persons);
    const conversion = next() < 0.08;
    const ids: [string, string][] = next() < 0.5 ? [['ga_client_id', `g${p}`]] : [email(`p${p}`)];
    // Some events carry a second person's client id too (guards kept them apart).
    const other = `g${int(persons)}`;
    if (next() < 0.1 && other !== `g${p}`) ids.push(['ga_client_id', other]);
    if (next() < 0.03) ids.splice(0, ids.length, ['ga_client_id', `unknown${int(5)}`]);
    return {
      id: `e${String(counter++).padStart(5, '0')}`,
      at: day(int(200), int(3) * 20),
      kind: conversion ? 'conversion' : 'touch',
      name: conversion ? 'purchase' : next() < 0.2 ? 'add_to_cart' : 'page_view',
      channel: channels[int(channels.length)],
      session: next() < 0.5 ? `s${int(persons * 3)}` : null,
      value: conversion ? 10 + int(90) : null,
      currency: conversion ? 'EUR' : null,
      properties: next() < 0.2 ? { page_path: '/pricing' } : {},
      ids,
    };
  };
  return { identity, events: Array.from({ length: events }, event), event, int, next };
}

describeEachEngine('journeys incremental', (engine) => {
  const open: Store[] = [];
  afterEach(async () => {
    while (open.length > 0) await open.pop()!.close();
  });
  async function fresh(): Promise<Store> {
    const store = await openStore({ url: await engine.freshUrl() });
    open.push(store);
    await store.migrate();
    return store;
  }

  it('rebuilds only the persons each kind of change touches, with the full build\'s result', async () => {
    const store = await fresh();
    await addRun(store, 'r1');
    const persons = ['pA', 'pB', 'pC', 'pD', 'pE', 'pF', 'pH', 'pI', 'pJ'];
    const fillers = Array.from({ length: 12 }, (_, i) => `z${i}`);
    await setIdentity(store, 'r1', Object.fromEntries([...persons, ...fillers].map((p) => [p, [email(p)]])));
    await setIdentity(store, 'r1', { pI: [['user_id', 'uI']], pJ: [['ga_client_id', 'gJ']] });
    const t = (id: string, at: string, ids: [string, string][], extra: Partial<EventSpec> = {}): EventSpec => ({ id, at, ids, ...extra });
    const buy = (id: string, at: string, ids: [string, string][]): EventSpec => ({ id, at, ids, kind: 'conversion', name: 'purchase', value: 50, currency: 'EUR' });
    await addEvents(store, 'r1', [
      t('a1', day(1), [email('pA')]), buy('a2', day(2), [email('pA')]), t('a3', day(3), [email('pA')]), t('a-gone', day(4), [email('pA')]),
      t('b1', day(1), [email('pB')]), buy('b2', day(5), [email('pB')]),
      t('c1', day(2), [email('pC')]),
      t('d1', day(1), [email('pD')]), buy('d2', day(3), [email('pD')]),
      t('e1', day(6), [email('pE')]),
      // f-moves belongs to pF until user_id uG is mapped (user_id outranks email).
      t('f-moves', day(7), [email('pF'), ['user_id', 'uG']]), buy('f2', day(8), [email('pF')]),
      t('h1', day(2), [email('pH')]),
      // i-old is pI's (user_id outranks ga_client_id) but older than the lookback before pI's purchase.
      t('i-old', day(10), [['user_id', 'uI'], ['ga_client_id', 'gJ']]), buy('i2', day(150), [['user_id', 'uI']]),
      buy('j2', day(12), [['ga_client_id', 'gJ']]),
      ...fillers.flatMap((z, i) => [t(`${z}-1`, day(i), [email(z)]), buy(`${z}-2`, day(i + 1), [email(z)])]),
    ]);
    expect(await build(store, 'r1')).toMatchObject({ mode: 'full', persons_rebuilt: 21 });

    await addRun(store, 'r2');
    await addEvents(store, 'r2', [t('a4', day(9), [email('pA')]), buy('a5', day(10), [email('pA')])]);
    await reloadEvents(store, 'r2', [t('b1', day(1), [email('pC')])]);
    await setIdentity(store, 'r2', { pE: [email('pD')], pG: [['user_id', 'uG']] });
    await store.knex('events').where({ event_id: 'a-gone' }).delete();
    await removePersons(store, 'r2', ['pH']);
    await rejectIdentifiers(store, 'r2', [['user_id', 'uI']]);
    const summary = await expectIncrementalEqualsFull(store, 'r2', {}, async () => {
      const fillersBuiltIn = await store.knex('journeys').where('person_id', 'like', 'z%').distinct().pluck('run_id');
      expect(fillersBuiltIn).toEqual(['r1']);
    });
    // pA (new events, deleted event), pB and pC (b1 moved), pD and pE (email moved), pF and pG
    // (f-moves), pH (removed), pI (lost uI) and pJ (gained i-old): none of the fillers.
    expect(summary).toMatchObject({ mode: 'incremental', persons_rebuilt: 10 });
    expect(await outlineOf(store, ['pA', 'pB', 'pC', 'pH', 'pI', 'pJ'])).toEqual({
      pA: ['converted:purchase [a1 a2]', 'converted:purchase [a3 a4 a5]'],
      pB: ['converted:purchase [b2]'],
      pC: ['open [b1 c1]'],
      pH: [],
      pI: [],
      pJ: ['converted:purchase [i-old j2]'],
    });
  });

  it('an incremental build with nothing new rebuilds nobody', async () => {
    const store = await fresh();
    const w = randomWorld(7, 10, 80);
    await addRun(store, 'r1');
    await setIdentity(store, 'r1', w.identity);
    await addEvents(store, 'r1', w.events);
    await build(store, 'r1');
    const before = await snapshot(store);
    await addRun(store, 'r2');
    expect(await build(store, 'r2')).toMatchObject({ mode: 'incremental', persons_rebuilt: 0 });
    expect(await snapshot(store)).toEqual(before);
  });

  it('equals the full build after rounds of random changes', async () => {
    const store = await fresh();
    const w = randomWorld(42, 40, 500);
    await addRun(store, 'r0');
    await setIdentity(store, 'r0', w.identity);
    await addEvents(store, 'r0', w.events);
    await build(store, 'r0');
    const ids = w.events.map((e) => e.id);
    for (let round = 1; round <= 5; round++) {
      const run = `r${round}`;
      await addRun(store, run);
      await addEvents(store, run, Array.from({ length: 6 }, w.event));
      // Re-load a few events with a new time and identifiers.
      await reloadEvents(store, run, [...new Set(Array.from({ length: 3 }, () => ids[w.int(ids.length)]))].map((id) => ({ ...w.event(), id })));
      // A swept event goes with its identifier observations (the store deletes both by record).
      const swept = ids[w.int(ids.length)];
      await store.knex('identifier_observations').where({ observation_id: swept }).delete();
      await store.knex('events').where({ event_id: swept }).delete();
      // A guard now refuses an email; a client id moves to another person; one person merges into another.
      await rejectIdentifiers(store, run, [email(`p${w.int(40)}`)]);
      await setIdentity(store, run, { [`p${w.int(40)}`]: [['ga_client_id', `g${w.int(40)}`]] });
      const merged = `p${w.int(40)}`;
      const survivor = `p${w.int(40)}`;
      if (merged !== survivor) {
        const identifiers = (await store.knex('identity_map').where({ person_id: merged }).select('identifier_type', 'identifier_value')).map((r: { identifier_type: string; identifier_value: string }) => [r.identifier_type, r.identifier_value] as [string, string]);
        await setIdentity(store, run, { [survivor]: identifiers });
        await removePersons(store, run, [merged]);
      }
      const incremental = await expectIncrementalEqualsFull(store, run, { lookback_days: 30, session_timeout_minutes: 25 });
      expect(incremental.mode).toBe(round === 1 ? 'full' : 'incremental');
    }
  });
});

describeOnPostgres('journeys on DuckDB and PostgreSQL', () => {
  it('the same input gives the same journeys and touchpoints', async () => {
    const duck = tempDuckDB();
    const pg = await createPgSchema();
    const stores = [await openStore({ url: duck.url }), await openStore({ url: pg.url })];
    try {
      const snapshots = [];
      for (const store of stores) {
        const w = randomWorld(1234, 60, 800);
        await store.migrate();
        await addRun(store, 'r1');
        await setIdentity(store, 'r1', w.identity);
        await addEvents(store, 'r1', w.events);
        await build(store, 'r1', { lookback_days: 45, conversions: ['purchase'], touch_events: ['add_to_cart'] });
        snapshots.push(await snapshot(store));
      }
      expect(snapshots[0].touchpoints.length).toBeGreaterThan(500);
      expect(snapshots[0].journeys.some((j) => j.status === 'converted')).toBe(true);
      expect(snapshots[1]).toEqual(snapshots[0]);
    } finally {
      for (const store of stores) await store.close();
      duck.remove();
      await pg.drop();
    }
  });
});
