// Identity over several runs, on both engines: person ids stay stable as identifiers join, merges
// and splits are recorded in person_merges and identity_changes, never_link undoes a merge on the
// next run, removed observations split persons, and a re-run with nothing new changes nothing.
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachEngine } from '../store/test-support.ts';
import { forget, freshStore, groups, load, mapping, observe, personOf, startRun, stitchRun } from './test-support.ts';

describeEachEngine('identity history', (engine) => {
  it('never issues an id issued before: a clash retries with a counter', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      const md5 = (text: string) => createHash('md5').update(text).digest('hex').slice(0, 16);
      // The id a new person keyed by email:a@x.com would get was already issued (logged as a creation).
      await store.knex('identity_changes').insert({ run_id: 'earlier', person_id: `p_${md5('email:a@x.com')}`, change: 'created' });
      await load(store, { c1: ['email:a@x.com'] });
      expect(await personOf(store, 'email:a@x.com')).toBe(`p_${md5('email:a@x.com#1')}`);
    } finally {
      await store.close();
    }
  });

  it('keeps a person id as identifiers join, records merges, and a re-run changes nothing', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      await load(store, { c1: ['hubspot_contact_id:1', 'email:a@x.com'] });
      const p = (await personOf(store, 'email:a@x.com'))!;
      expect(p).toMatch(/^p_[0-9a-f]{16}$/);

      const grown = await load(store, { v1: ['email:a@x.com', 'ga_client_id:1.1'], w1: ['email:b@x.com', 'ga_client_id:2.2'], w2: ['ga_client_id:2.2'] });
      expect(grown).toMatchObject({ mode: 'incremental', created: 1, updated: 1, merged: 0 });
      expect(await personOf(store, 'ga_client_id:1.1')).toBe(p);
      const q = (await personOf(store, 'email:b@x.com'))!;
      expect(q).not.toBe(p);

      // One observation links the two: the person with more identifiers (p: 3, q: 2) keeps its id.
      const merged = await load(store, { link: ['ga_client_id:2.2', 'email:a@x.com'] });
      expect(merged).toMatchObject({ mode: 'incremental', merged: 1, updated: 1, created: 0, persons: 1 });
      expect(new Set(Object.values(await mapping(store)))).toEqual(new Set([p]));
      const merges = await store.knex('person_merges').select('action', 'person_id', 'other_person_id', 'identifiers');
      expect(merges).toEqual([{ action: 'merge', person_id: p, other_person_id: q, identifiers: ['email:b@x.com', 'ga_client_id:2.2'] }]);
      const changes = await store.knex('identity_changes').where({ person_id: q }).select('change');
      expect(changes.map((c: { change: string }) => c.change).sort()).toEqual(['created', 'merged']);

      const before = await mapping(store);
      const again = await stitchRun(store);
      expect(again).toMatchObject({ mode: 'incremental', identifiers: 0, created: 0, updated: 0, merged: 0, split: 0 });
      const full = await stitchRun(store, {}, { full: true });
      expect(full).toMatchObject({ mode: 'full', identifiers: 5, created: 0, updated: 0, merged: 0, split: 0, persons: 1 });
      expect(await mapping(store)).toEqual(before);
      const [person] = await store.knex('persons').select('*');
      expect(person).toMatchObject({ person_id: p, identifier_count: 5 });
    } finally {
      await store.close();
    }
  });

  it('never_link splits a merged person on the next run; the part with most identifiers keeps the id', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      const family = {
        o1: ['email:anna@x.com', 'ga_client_id:9.9'],
        o2: ['email:jan@x.com', 'ga_client_id:9.9'],
        o3: ['email:anna@x.com', 'ga_client_id:1.1'],
        o4: ['email:anna@x.com', 'ga_client_id:1.2'],
        o5: ['email:jan@x.com', 'ga_client_id:2.1'],
      };
      await load(store, family);
      const p = (await personOf(store, 'email:anna@x.com'))!;
      expect(await groups(store)).toHaveLength(1);

      const rule = { never_link: [{ identifiers: ['email:Anna@X.com', 'email:jan@x.com'], reason: 'two people, one laptop' }] };
      const split = await stitchRun(store, rule);
      expect(split).toMatchObject({ mode: 'full', split: 1, created: 1, updated: 1 });
      expect(await groups(store)).toEqual([
        ['email:anna@x.com', 'ga_client_id:1.1', 'ga_client_id:1.2'],
        ['email:jan@x.com', 'ga_client_id:2.1'],
      ]);
      expect(await personOf(store, 'email:anna@x.com')).toBe(p);
      const jan = (await personOf(store, 'email:jan@x.com'))!;
      const [row] = await store.knex('person_merges').select('action', 'person_id', 'other_person_id', 'identifiers', 'explanation');
      expect(row).toMatchObject({ action: 'split', person_id: p, other_person_id: jan, identifiers: ['email:jan@x.com', 'ga_client_id:2.1'] });
      expect(row.explanation).toContain('never_link');
      const [rejection] = await store.knex('identity_rejections').select('rule', 'identifier_value', 'person_id', 'other_person_id');
      expect(rejection).toEqual({ rule: 'never_link', identifier_value: '9.9', person_id: p, other_person_id: jan });
      const changed = await store.knex('identity_changes').where({ run_id: (await store.knex('identity_state').first('run_id')).run_id }).orderBy('change').select('person_id', 'change');
      expect(changed).toEqual([{ person_id: jan, change: 'created' }, { person_id: p, change: 'updated' }]);

      // "never use this value": the shared device is dropped instead.
      await stitchRun(store, { never_link: [{ identifier: 'ga_client_id:9.9' }] });
      expect(await groups(store)).toHaveLength(2);
      expect(await store.knex('identity_rejections').select('rule', 'identifier_value')).toEqual([{ rule: 'never_link', identifier_value: '9.9' }]);
      expect(await personOf(store, 'email:jan@x.com')).toBe(jan);
    } finally {
      await store.close();
    }
  });

  it('a removed observation splits the person it held together, and identifiers seen nowhere leave identity_map', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      await load(store, {
        a: ['email:a@x.com', 'ga_client_id:1.1'],
        b: ['email:a@x.com', 'ga_client_id:1.2'],
        bridge: ['ga_client_id:1.2', 'ga_client_id:7.7'],
        c: ['ga_client_id:7.7', 'ga_client_id:7.8'],
      });
      const p = (await personOf(store, 'email:a@x.com'))!;
      await forget(store, 'bridge', 'c');
      // A later page view still carries 7.7, so the part split off exists.
      await observe(store, await startRun(store), { view: ['ga_client_id:7.7'] });
      const summary = await stitchRun(store);
      expect(summary).toMatchObject({ mode: 'incremental', split: 1, created: 1, updated: 1, removed: 0 });
      expect(await mapping(store)).toEqual({ 'email:a@x.com': p, 'ga_client_id:1.1': p, 'ga_client_id:1.2': p, 'ga_client_id:7.7': expect.any(String) });
      expect(await personOf(store, 'ga_client_id:7.7')).not.toBe(p);
    } finally {
      await store.close();
    }
  });
});
