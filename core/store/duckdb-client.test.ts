// The DuckDB knex client: the SQL it compiles for each query shape (compared as strings, the way
// knex's own test/unit/query/builder.js does, against knex's pg client — they must agree), and the
// same queries executed on a real DuckDB file and a real PostgreSQL server returning identical JS
// values.
import knexFactory from 'knex';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBClient } from './duckdb-client.ts';
import { openStore } from './index.ts';
import { describeEachEngine, describeOnPostgres } from './test-support.ts';
import type { Store } from './types.ts';

const clients: Record<string, Knex> = {
  pg: knexFactory({ client: 'pg' }),
  duckdb: knexFactory({ client: DuckDBClient as unknown as typeof Knex.Client }),
};

/** Like knex's `testsql`: one builder per client, compared with the expected SQL and bindings. */
function testsql(build: (db: Knex) => Knex.QueryBuilder | Knex.Raw, expected: { sql: string; native: string; bindings: unknown[] }) {
  for (const [name, db] of Object.entries(clients)) {
    const compiled = build(db).toSQL();
    expect({ client: name, sql: compiled.sql, bindings: compiled.bindings }).toEqual({ client: name, sql: expected.sql, bindings: expected.bindings });
    expect({ client: name, native: compiled.toNative().sql }).toEqual({ client: name, native: expected.native });
  }
}

describe('DuckDBClient compiles the PostgreSQL dialect', () => {
  const at = new Date('2024-05-01T00:00:00Z');

  it('select with where, whereIn, order and limit', () => {
    testsql((db) => db('events').select('event_id', 'value').where({ source: 'crm' }).andWhere('occurred_at', '>=', at).whereIn('kind', ['touch', 'conversion']).orderBy('occurred_at', 'desc').limit(10), {
      sql: 'select "event_id", "value" from "events" where "source" = ? and "occurred_at" >= ? and "kind" in (?, ?) order by "occurred_at" desc limit ?',
      native: 'select "event_id", "value" from "events" where "source" = $1 and "occurred_at" >= $2 and "kind" in ($3, $4) order by "occurred_at" desc limit $5',
      bindings: ['crm', at, 'touch', 'conversion', 10],
    });
  });

  it('multi-row insert', () => {
    testsql((db) => db('spend').insert([{ spend_id: 'a', cost: 1.5 }, { spend_id: 'b', cost: 2 }]), {
      sql: 'insert into "spend" ("cost", "spend_id") values (?, ?), (?, ?)',
      native: 'insert into "spend" ("cost", "spend_id") values ($1, $2), ($3, $4)',
      bindings: [1.5, 'a', 2, 'b'],
    });
  });

  it('insert … onConflict().merge()', () => {
    testsql((db) => db('stream_state').insert({ pipeline: 'p', source: 's', stream: 't', state: '{}' }).onConflict(['pipeline', 'source', 'stream']).merge(['state']), {
      sql: 'insert into "stream_state" ("pipeline", "source", "state", "stream") values (?, ?, ?, ?) on conflict ("pipeline", "source", "stream") do update set "state" = excluded."state"',
      native: 'insert into "stream_state" ("pipeline", "source", "state", "stream") values ($1, $2, $3, $4) on conflict ("pipeline", "source", "stream") do update set "state" = excluded."state"',
      bindings: ['p', 's', '{}', 't'],
    });
  });

  it('raw with identifier and value bindings', () => {
    testsql((db) => db.raw('select ?? from ?? where "n" > ? and "j" = ?::json', ['a', 'probe', 1, '{}']), {
      sql: 'select "a" from "probe" where "n" > ? and "j" = ?::json',
      native: 'select "a" from "probe" where "n" > $1 and "j" = $2::json',
      bindings: [1, '{}'],
    });
  });

  it('differs only where DuckDB does: json columns, truncate, and no increments()', () => {
    const create = (db: Knex) => db.schema.createTable('t', (t) => t.json('j')).toSQL()[0].sql;
    expect(create(clients.duckdb)).toBe(create(clients.pg));
    expect(create(clients.duckdb)).toBe('create table "t" ("j" json)');
    expect(clients.duckdb('t').truncate().toSQL().sql).toBe('truncate "t"');
    expect(() => clients.duckdb.schema.createTable('t', (t) => t.increments('id')).toSQL()).toThrow(/DuckDB has no SERIAL: increments\(\) is not supported/);
  });
});

// What both engines must return, value for value.
const ROW_A = {
  id: 'a',
  ts: new Date('2024-05-01T10:00:00.123Z'),
  d: '2024-05-01',
  big: '9007199254740993',
  i: 7,
  dbl: 0.1,
  dec: 12.34,
  j: { a: [1, 'x', null], n: { ok: true } },
  b: true,
  s: 'héllo',
};
const ROW_B = { id: 'b', ts: null, d: null, big: 42, i: null, dbl: null, dec: null, j: null, b: null, s: null };
const results: Record<string, unknown> = {};

describeEachEngine('the same queries', (engine) => {
  let store: Store;
  let db: Knex;
  const got: Record<string, unknown> = {};
  beforeAll(async () => {
    store = await openStore({ url: await engine.freshUrl() });
    await store.migrate(); // creates the schema on PostgreSQL
    db = store.knex;
    await db.schema.createTable('probe', (t) => {
      t.text('id').primary();
      t.timestamp('ts', { useTz: true });
      t.date('d');
      t.bigInteger('big');
      t.integer('i');
      t.double('dbl');
      t.decimal('dec', 12, 2);
      t.json('j');
      t.boolean('b');
      t.text('s');
    });
  });
  afterAll(async () => {
    results[engine.dialect] = got;
    await store.close();
  });

  it('multi-row insert, then select * returns the same JS values', async () => {
    await db('probe').insert([
      { ...ROW_A, j: JSON.stringify(ROW_A.j) },
      { id: 'b', big: 42 },
    ]);
    got.rows = await db('probe').select('*').orderBy('id');
    expect(got.rows).toEqual([ROW_A, ROW_B]);
  });

  it('aggregates: counts and integer sums are numbers, averages doubles', async () => {
    got.agg = await db('probe').first(
      db.raw('count(*) as n'),
      db.raw('count(big) as nb'),
      db.raw('sum(i) as si'),
      db.raw('avg(dbl) as ad'),
      db.raw('max(ts) as mt'),
      db.raw('min(d) as md'),
      db.raw('sum(dec) as sd'),
    );
    expect(got.agg).toEqual({ n: 2, nb: 2, si: 7, ad: 0.1, mt: ROW_A.ts, md: '2024-05-01', sd: 12.34 });
  });

  it('where with a Date binding', async () => {
    got.where = await db('probe').where('ts', '>=', new Date('2024-05-01T10:00:00Z')).andWhere('big', '>', 100).pluck('id');
    expect(got.where).toEqual(['a']);
  });

  it('onConflict().merge() updates in place', async () => {
    await db('probe').insert({ id: 'b', s: 'merged', big: 43 }).onConflict('id').merge(['s', 'big']);
    got.merged = await db('probe').where({ id: 'b' }).first('s', 'big', 'i');
    expect(got.merged).toEqual({ s: 'merged', big: 43, i: null });
  });

  it('raw with bindings: casts to every type we store', async () => {
    const result = await db.raw(
      "select cast(? as timestamptz) as t, cast(? as date) as d, cast(? as json) as j, cast(? as bigint) as n, cast(? as double precision) as f, cast(? as text) as s, 1 = 1 as yes",
      ['2024-05-01T10:00:00.5+02:00', '2024-02-29', '{"k":[1,2]}', '12', 1.25, 'x'],
    );
    got.raw = result.rows;
    expect(result.rows).toEqual([{ t: new Date('2024-05-01T08:00:00.500Z'), d: '2024-02-29', j: { k: [1, 2] }, n: 12, f: 1.25, s: 'x', yes: true }]);
  });

  // knex streams pg results only with the optional pg-query-stream package (the store does not
  // need streaming); the DuckDB client streams natively, converting values the same way.
  if (engine.dialect === 'duckdb') {
    it('streams rows', async () => {
      const rows: unknown[] = [];
      for await (const row of db('probe').select('id', 'ts', 'j').orderBy('id').stream()) rows.push(row);
      expect(rows).toEqual([
        { id: 'a', ts: ROW_A.ts, j: ROW_A.j },
        { id: 'b', ts: null, j: null },
      ]);
    });
  }

  it('delete reports the row count like pg', async () => {
    got.deleted = await db('probe').where({ id: 'zz' }).delete();
    expect(got.deleted).toBe(0);
  });
});

describeOnPostgres('DuckDB and PostgreSQL', () => {
  it('returned identical values for every query above', () => {
    expect(results.duckdb).toBeDefined();
    expect(results.postgres).toEqual(results.duckdb);
  });
});
