// Migration 8 on DuckDB: the id columns of the identity and journeys tables are stored with FSST
// only (DuckDB otherwise tries every method on every segment first). A store made before it keeps
// every row, column type and NOT NULL; afterwards those columns are FSST even where DuckDB's own
// choice would have been a dictionary, and the other columns are left to DuckDB.
import { afterEach, describe, expect, it } from 'vitest';
import knexFactory from 'knex';
import type { Knex } from 'knex';
import { DuckDBClient, openStore } from './index.ts';
import { FSST_COLUMNS, migrations } from './migrations.ts';
import { tempDuckDB } from './test-support.ts';

const columnsOf = (db: Knex, tables: string[]) =>
  db.raw(
    `select table_name, column_name, data_type, is_nullable from duckdb_columns() where table_name in (${tables.map(() => '?').join(', ')}) order by all`,
    tables,
  );

describe('migration 8 on DuckDB', () => {
  const cleanup: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).toReversed()) await c();
  });

  it('rebuilds the id columns of a store made before it with FSST, keeping rows, types and NOT NULL', async () => {
    const file = tempDuckDB();
    cleanup.push(() => file.remove());
    const db = knexFactory({ client: DuckDBClient as unknown as typeof Knex.Client, connection: { filename: file.path } as never });
    await db.transaction(async (trx) => {
      await trx.raw('create table schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null)');
      for (const m of migrations.filter((x) => x.version <= 7)) {
        await m.up(trx, 'duckdb');
        await trx('schema_migrations').insert({ version: m.version, name: m.name, applied_at: new Date() });
      }
    });
    // Few distinct values: DuckDB alone stores such a column as a dictionary.
    await db.raw(`insert into persons select 'p_' || cast(i % 3 as text), null, null, 1, 'run-1', 'run-1' from range(3000) t(i)`);
    await db.raw(`insert into identity_map select 'email', 'u' || cast(i as text) || '@x.example', 'p_' || cast(i % 3 as text) from range(3000) t(i)`);
    // An index of a store made before migration 2 left identity tables unindexed on DuckDB.
    await db.raw('create index person_merges_person_idx on person_merges (person_id)');
    const tables = Object.keys(FSST_COLUMNS);
    const columns = (await columnsOf(db, tables)).rows;
    const stored = { persons: await db('persons').select('*').orderBy('person_id'), map: await db('identity_map').select('*').orderBy('identifier_value') };
    await db.destroy();

    const store = await openStore({ url: file.url });
    cleanup.push(() => store.close());
    await store.migrate();
    expect(await store.knex('schema_migrations').max({ v: 'version' }).first()).toEqual({ v: 8 });
    expect((await columnsOf(store.knex, tables)).rows).toEqual(columns);
    expect({ persons: await store.knex('persons').select('*').orderBy('person_id'), map: await store.knex('identity_map').select('*').orderBy('identifier_value') }).toEqual(stored);
    expect((await store.knex.raw(`select index_name from duckdb_indexes() where table_name in ('person_merges', 'identity_rejections')`)).rows).toEqual([]);
    await expect(store.knex('identity_map').insert({ identifier_type: 'email', identifier_value: null, person_id: 'p_1' })).rejects.toThrow(/NOT NULL/i);

    await store.knex.raw(`insert into journey_touchpoints select 'p_' || cast(i % 3 as text) || ':1', 1, 'e' || cast(i % 3 as text), 'p_' || cast(i % 3 as text),
      timestamp '2025-01-01', 'page_view', 'Direct', null, null, null, 'awareness', 's' || cast(i % 3 as text), 'desktop', false from range(5000) t(i)`);
    await store.knex.raw('checkpoint');
    const methods = (await store.knex.raw(
      `select table_name, column_name, min(compression) as compression from (
         select 'persons' as table_name, * from pragma_storage_info('persons') union all
         select 'identity_map', * from pragma_storage_info('identity_map') union all
         select 'journey_touchpoints', * from pragma_storage_info('journey_touchpoints')
       ) s where segment_type = 'VARCHAR' group by all order by all`,
    )).rows as { table_name: string; column_name: string; compression: string }[];
    for (const table of ['persons', 'identity_map', 'journey_touchpoints']) {
      for (const m of methods.filter((r) => r.table_name === table)) {
        const forced = FSST_COLUMNS[table].includes(m.column_name);
        if (forced) expect(m.compression, `${table}.${m.column_name}`).toBe('FSST');
      }
    }
    // …while a low-cardinality column without the hint is still DuckDB's choice.
    expect(methods.find((r) => r.table_name === 'journey_touchpoints' && r.column_name === 'channel')?.compression).not.toBe('FSST');
    expect(methods.filter((r) => r.compression === 'FSST').map((r) => `${r.table_name}.${r.column_name}`)).toEqual(
      expect.arrayContaining(['persons.person_id', 'identity_map.person_id', 'journey_touchpoints.journey_id', 'journey_touchpoints.session_key']),
    );
  });
});
