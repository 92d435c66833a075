// Migration 6 on DuckDB: a store made before it (primary keys on events, identifier_observations,
// spend and the raw tables) loses the keys, keeps every row, column type and NOT NULL, and the write
// paths then keep one row per key themselves — re-writes, an id that moves to another record, a
// mix of both in one batch. PostgreSQL keeps its keys.
import { afterEach, describe, expect, it } from 'vitest';
import knexFactory from 'knex';
import type { Knex } from 'knex';
import { DuckDBClient, openStore } from './index.ts';
import { migrations } from './migrations.ts';
import { describeEachEngine, tempDuckDB } from './test-support.ts';
import type { BatchWrite, Store } from './types.ts';

const KEYED = ['events', 'identifier_observations', 'spend', 'raw_crm_contacts'];

function batch(pks: string[], runId: string, over: Partial<BatchWrite> = {}): BatchWrite {
  return {
    runId,
    pipeline: 'acme',
    source: 'crm',
    stream: 'contacts',
    raw: pks.map((pk) => ({ pk, record: { id: pk, run: runId } })),
    events: pks.map((pk) => ({
      event_id: `crm:contacts:${pk}`, record_pk: pk, id: pk, occurred_at: '2024-05-01T10:00:00Z', kind: 'touch', name: 'form_submit',
      identifiers: [{ type: 'email', value: `${pk}@example.com` }],
    })),
    links: pks.map((pk) => ({ id: pk, record_pk: pk, identifiers: [{ type: 'email', value: `${pk}@example.com` }, { type: 'user_id', value: pk }] })),
    spend: pks.map((pk) => ({ record_pk: pk, date: '2024-05-01', channel: 'Paid Search', campaign_id: `c-${pk}`, cost: 1, currency: 'EUR' })),
    quarantine: [],
    ...over,
  };
}

async function primaryKeys(db: Knex): Promise<string[]> {
  const rows = (await db.raw(`select table_name as t from duckdb_constraints() where constraint_type = 'PRIMARY KEY' order by 1`)).rows as { t: string }[];
  return rows.map((r) => r.t);
}

/** How many keys are stored more than once, over the tables the migration unkeys. */
async function duplicateKeys(store: Store): Promise<number> {
  const groups: [string, string][] = [
    ['events', 'event_id'],
    ['identifier_observations', 'observation_id, identifier_type, identifier_value'],
    ['spend', 'spend_id'],
    ['raw_crm_contacts', '_pk'],
  ];
  let n = 0;
  for (const [table, key] of groups) {
    const [row] = (await store.knex.raw(`select count(*) as n from (select ${key} from ${table} group by ${key} having count(*) > 1) d`)).rows as { n: number }[];
    n += Number(row.n);
  }
  return n;
}

describe('migration 6 on DuckDB', () => {
  const cleanup: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).toReversed()) await c();
  });

  it('rebuilds a store made with primary keys: same rows, types and NOT NULL, no keys', async () => {
    const file = tempDuckDB();
    cleanup.push(() => file.remove());
    // The store as version 5 left it, with rows, written by the migrations and DDL of that time.
    const db = knexFactory({ client: DuckDBClient as unknown as typeof Knex.Client, connection: { filename: file.path } as never });
    await db.transaction(async (trx) => {
      await trx.raw('create table schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null)');
      for (const m of migrations.filter((x) => x.version <= 5)) {
        await m.up(trx, 'duckdb');
        await trx('schema_migrations').insert({ version: m.version, name: m.name, applied_at: new Date() });
      }
      await trx.raw('create table raw_crm_contacts (_pk text primary key, _cursor text, _record json, _run_id text, _loaded_at timestamptz)');
    });
    expect(await primaryKeys(db)).toEqual(expect.arrayContaining(KEYED));
    await db.destroy();
    const before = await openStore({ url: file.url });
    await before.writeBatch(batch(['a', 'b'], 'run-1'));
    const rows = async (s: Store) =>
      Object.fromEntries(await Promise.all(KEYED.map(async (t) => [t, await s.knex(t).select('*').orderBy(1).orderBy(2).orderBy(3)] as const)));
    const stored = await rows(before);
    const columns = (await before.knex.raw(`select table_name, column_name, data_type, is_nullable from duckdb_columns() where table_name in ('events', 'spend') order by all`)).rows;
    await before.close();

    const store = await openStore({ url: file.url });
    cleanup.push(() => store.close());
    await store.migrate();
    expect((await primaryKeys(store.knex)).filter((t) => KEYED.includes(t))).toEqual([]);
    expect(await rows(store)).toEqual(stored);
    expect((await store.knex.raw(`select table_name, column_name, data_type, is_nullable from duckdb_columns() where table_name in ('events', 'spend') order by all`)).rows).toEqual(columns);
    // NOT NULL of the former key columns stays.
    await expect(store.knex('events').insert({ event_id: null, source: 's', stream: 't', record_pk: 'r', occurred_at: new Date(), kind: 'touch', name: 'x' })).rejects.toThrow(/NOT NULL/i);

    // The write paths keep the keys unique from here on.
    await store.writeBatch(batch(['b', 'c'], 'run-2'));
    expect(await duplicateKeys(store)).toBe(0);
    expect(await store.counts()).toMatchObject({ raw_crm_contacts: 3, events: 3, spend: 3, identifier_observations: 9 });
    expect(await store.knex('raw_crm_contacts').where({ _pk: 'b' }).pluck('_run_id')).toEqual(['run-2']);
  });
});

describeEachEngine('one row per key without keys', (engine) => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('keeps one row per key over re-writes, moved ids and duplicates within a batch', async () => {
    const store = await openStore({ url: await engine.freshUrl() });
    open.push(store);
    await store.migrate();
    await store.writeBatch(batch(['a', 'b', 'c'], 'run-1'));
    await store.writeBatch(batch(['b', 'c', 'd'], 'run-2'));
    // Record e now produces a's event id, and the batch repeats record d.
    const moved = batch(['e', 'd', 'd'], 'run-3');
    moved.events[0] = { ...moved.events[0], event_id: 'crm:contacts:a', id: 'a' };
    await store.writeBatch(moved);
    expect(await duplicateKeys(store)).toBe(0);
    expect(await store.knex('events').orderBy('event_id').select('event_id', 'record_pk', 'run_id')).toEqual([
      { event_id: 'crm:contacts:a', record_pk: 'e', run_id: 'run-3' },
      { event_id: 'crm:contacts:b', record_pk: 'b', run_id: 'run-2' },
      { event_id: 'crm:contacts:c', record_pk: 'c', run_id: 'run-2' },
      { event_id: 'crm:contacts:d', record_pk: 'd', run_id: 'run-3' },
    ]);
    expect(await store.counts()).toMatchObject({ raw_crm_contacts: 5, spend: 5 });
    if (engine.dialect === 'duckdb') expect((await primaryKeys(store.knex)).filter((t) => KEYED.includes(t))).toEqual([]);
  });
});
