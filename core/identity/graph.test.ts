// Known-answer identity graphs on both engines: a chain, a star, a shared device, junk emails, click
// ids that must not bridge two people, the strongest identifiers kept apart even when seen on one
// record, and what the stage reports for each refusal (identity_rejections).
import { expect, it } from 'vitest';
import { RunError } from '../errors.ts';
import { describeEachEngine } from '../store/test-support.ts';
import { resolveIdentityConfig } from './config.ts';
import { runIdentity } from './stage.ts';
import { freshStore, groups, load, observe, personOf, startRun } from './test-support.ts';

describeEachEngine('identity stitching', (engine) => {
  it('a chain of observations is one person', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      const chain: Record<string, string[]> = {};
      for (let i = 0; i < 30; i++) chain[`e${i}`] = [`ga_client_id:${i}.1`, `ga_client_id:${i + 1}.1`];
      chain.form = ['ga_client_id:30.1', 'email:end@x.com'];
      const summary = await load(store, chain);
      expect(summary).toMatchObject({ mode: 'full', identifiers: 32, persons: 1, created: 1, unassigned: 0 });
      expect((await groups(store))[0]).toHaveLength(32);
    } finally {
      await store.close();
    }
  });

  it('fails clearly, changing nothing, when labels do not settle within the round limit', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      const chain: Record<string, string[]> = {};
      for (let i = 0; i < 40; i++) chain[`e${i}`] = [`ga_client_id:${String(i).padStart(2, '0')}.1`, `ga_client_id:${String(i + 1).padStart(2, '0')}.1`];
      const runId = await startRun(store);
      await observe(store, runId, chain);
      const run = runIdentity(store, { config: { ...resolveIdentityConfig({}), max_rounds: 2 }, runId });
      await expect(run).rejects.toThrow(RunError);
      await expect(run).rejects.toThrow('identity: connected components did not settle within 2 rounds of label propagation');
      expect(await groups(store)).toEqual([]);
      expect(await store.knex('identity_state').select('*')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a star: one contact with many devices and events is one person', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      const obs: Record<string, string[]> = { contact: ['hubspot_contact_id:7', 'email:ann@x.com', 'phone:+48601234567'] };
      for (let i = 0; i < 12; i++) {
        obs[`login${i}`] = [`ga_client_id:${i}.9`, 'email:ann@x.com'];
        obs[`view${i}`] = [`ga_client_id:${i}.9`];
      }
      await load(store, obs);
      expect(await groups(store)).toHaveLength(1);
      expect((await groups(store))[0]).toHaveLength(15);
    } finally {
      await store.close();
    }
  });

  it('a shared device with two CRM contacts stays out of both: two persons, the device reported', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      const summary = await load(store, {
        c1: ['hubspot_contact_id:1', 'email:anna@x.com', 'ga_client_id:111.1'],
        c2: ['hubspot_contact_id:2', 'email:jan@x.com', 'ga_client_id:111.1'],
        anna_phone: ['ga_client_id:222.2', 'email:anna@x.com'],
        laptop_view: ['ga_client_id:111.1', 'gclid:CLICK'],
      });
      expect(await groups(store)).toEqual([
        ['email:anna@x.com', 'ga_client_id:222.2', 'hubspot_contact_id:1'],
        ['email:jan@x.com', 'hubspot_contact_id:2'],
      ]);
      expect(summary).toMatchObject({ persons: 2, unassigned: 2, rejected: { max_per_person: 1 } });
      const [rejection] = await store.knex('identity_rejections').where({ rule: 'max_per_person' });
      expect(rejection).toMatchObject({ identifier_type: 'ga_client_id', identifier_value: '111.1', person_id: await personOf(store, 'email:anna@x.com'), other_person_id: await personOf(store, 'email:jan@x.com') });
      expect(rejection.detail).toBe('joining 2 person(s) would hold 2 hubspot_contact_id values (max 1)');
    } finally {
      await store.close();
    }
  });

  it('a junk email links nobody: blocklisted values are dropped and reported, undeclared junk is split off', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      const obs: Record<string, string[]> = {};
      for (let i = 0; i < 60; i++) {
        obs[`t${i}`] = [`hubspot_contact_id:${i + 1}`, 'email:test@test.com', `ga_client_id:${i}.5`];
        obs[`s${i}`] = [`hubspot_contact_id:${100 + i}`, 'email:info@shop.example.pl', `email:buyer${i}@mail.example.pl`];
      }
      const summary = await load(store, obs);
      const persons = await groups(store);
      expect(persons).toHaveLength(120);
      expect(persons.every((p) => p.filter((id) => id.startsWith('hubspot_contact_id:')).length === 1)).toBe(true);
      expect(await personOf(store, 'email:info@shop.example.pl')).toBeUndefined();
      expect(summary.rejected).toEqual({ blocklist: 1, max_per_person: 1 });
      const rows = await store.knex('identity_rejections').orderBy('rule').select('rule', 'identifier_value', 'detail');
      expect(rows).toEqual([
        { rule: 'blocklist', identifier_value: 'test@test.com', detail: 'the value is on the blocklist: it links nothing' },
        { rule: 'max_per_person', identifier_value: 'info@shop.example.pl', detail: 'joining 60 person(s) would hold 60 hubspot_contact_id values (max 1)' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('a gclid attaches to one person but never joins two', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      const summary = await load(store, {
        a: ['ga_client_id:1.1', 'gclid:SHARED'],
        b: ['ga_client_id:2.2', 'gclid:SHARED'],
        c: ['ga_client_id:1.1', 'gclid:OWN', 'fbclid:OWNFB'],
        d: ['gclid:ALONE'],
      });
      expect(await groups(store)).toEqual([
        ['fbclid:OWNFB', 'ga_client_id:1.1', 'gclid:OWN'],
        ['ga_client_id:2.2'],
      ]);
      expect(summary).toMatchObject({ rejected: { never_alone: 1 }, unassigned: 2 });
      expect(await store.knex('identity_rejections').first('rule', 'identifier_value', 'detail')).toEqual({
        rule: 'never_alone',
        identifier_value: 'SHARED',
        detail: 'gclid never joins persons on its own: seen with 2 persons, attached to none',
      });
    } finally {
      await store.close();
    }
  });

  it('two user ids on one record, with nothing weaker between them, stay two persons', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      await load(store, { merge_request: ['user_id:u1', 'user_id:u2'], a: ['user_id:u1', 'ga_client_id:1.1'], b: ['user_id:u2', 'ga_client_id:2.2'] });
      expect(await groups(store)).toEqual([
        ['ga_client_id:1.1', 'user_id:u1'],
        ['ga_client_id:2.2', 'user_id:u2'],
      ]);
      expect(await store.knex('identity_rejections').first('rule', 'identifier_value', 'other_identifier_value')).toEqual({
        rule: 'max_per_person',
        identifier_value: 'u2',
        other_identifier_value: 'u1',
      });
    } finally {
      await store.close();
    }
  });

  it('weak links that are each fine but together would fuse two contacts are all left out', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      // The email was used on a device of contact 1 and on a device of contact 2: ambiguous.
      await load(store, {
        c1: ['hubspot_contact_id:1', 'ga_client_id:1.1'],
        c2: ['hubspot_contact_id:2', 'ga_client_id:2.2'],
        f1: ['ga_client_id:1.1', 'email:shared@x.com'],
        f2: ['ga_client_id:2.2', 'email:shared@x.com'],
      });
      // The devices are the weakest links, so they are the ones left out (docs/identity.md).
      expect(await groups(store)).toEqual([['email:shared@x.com'], ['hubspot_contact_id:1'], ['hubspot_contact_id:2']]);
      const rows = await store.knex('identity_rejections').orderBy('identifier_value').select('rule', 'identifier_value', 'detail');
      expect(rows).toEqual([1, 2].map((i) => ({
        rule: 'max_per_person',
        identifier_value: `${i}.${i}`,
        detail: 'links 2 persons that, with the other links between them, would hold too many hubspot_contact_id values (max 1)',
      })));
    } finally {
      await store.close();
    }
  });

  it('max_per_person and max_component_size come from the pipeline, and a person keeps its first devices up to the limit', async () => {
    const store = await freshStore(await engine.freshUrl());
    try {
      const obs: Record<string, string[]> = { contact: ['hubspot_contact_id:1', 'email:a@x.com'] };
      for (let i = 0; i < 5; i++) obs[`d${i}`] = ['email:a@x.com', `ga_client_id:${i}.0`];
      const summary = await load(store, obs, { max_per_person: { ga_client_id: 3 } });
      expect(await groups(store)).toEqual([['email:a@x.com', 'ga_client_id:0.0', 'ga_client_id:1.0', 'ga_client_id:2.0', 'hubspot_contact_id:1']]);
      expect(summary.rejected).toEqual({ max_per_person: 2 });
      const small = await freshStore(await engine.freshUrl());
      try {
        await load(small, obs, { max_component_size: 4 });
        expect((await groups(small))[0]).toEqual(['email:a@x.com', 'ga_client_id:0.0', 'ga_client_id:1.0', 'hubspot_contact_id:1']);
      } finally {
        await small.close();
      }
    } finally {
      await store.close();
    }
  });
});
