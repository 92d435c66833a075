// A whole-table rebuild on PostgreSQL (rebuild.ts): emptied, refilled without indexes, every index
// and key rebuilt from its own definition — ours and a user's own; and when a reader holds the
// table past the lock timeout, nothing is touched and the transaction goes on (the slow way).
// Then the journeys stage: a full build gives the same rows and the same indexes either way.
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createLogger } from '../sdk/log.ts';
import { openStore } from './index.ts';
import { emptyWithoutIndexes } from './rebuild.ts';
import { createPgSchema, describeOnPostgres, pgTestUrl } from './test-support.ts';
import type { Store } from './types.ts';
import { addEvents, addRun, build, setIdentity, snapshot } from '../journeys/test-support.ts';

/** Every index and key definition on `tables`, sorted (what a rebuild must give back). */
async function definitions(store: Store, tables: string[]): Promise<string[]> {
  const rows = (
    await store.knex.raw(
      `select pg_get_indexdef(x.indexrelid) as def, coalesce(c.conname || ' ' || pg_get_constraintdef(c.oid), '') as con
       from pg_index x left join pg_constraint c on c.conindid = x.indexrelid
       where x.indrelid in (${tables.map(() => 'cast(? as regclass)').join(', ')})`,
      tables,
    )
  ).rows as { def: string; con: string }[];
  return rows.map((r) => `${r.def} ${r.con}`.trim()).sort();
}

describeOnPostgres('rebuilding whole tables on PostgreSQL', () => {
  let schema: Awaited<ReturnType<typeof createPgSchema>>;
  let store: Store;
  beforeAll(async () => {
    schema = await createPgSchema('tp_rebuild');
    store = await openStore({ url: schema.url });
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await schema.drop();
  });

  it('empties a table, drops every index and key, and rebuilds them from their definitions', async () => {
    await store.knex.raw('create table t (id text primary key, code text unique, n integer not null, note text)');
    await store.knex.raw('create index t_n_idx on t (n) where n > 10');
    await store.knex.raw('create index t_lower_idx on t (lower(note))');
    await store.knex('t').insert([{ id: 'a', code: 'A', n: 1 }, { id: 'b', code: 'B', n: 20 }]);
    const before = await definitions(store, ['t']);
    expect(before).toHaveLength(4);

    await store.knex.transaction(async (trx) => {
      const bare = await emptyWithoutIndexes(trx, ['t'], 2_000);
      if (!('restore' in bare)) throw new Error(bare.skipped);
      expect(Number((await trx('t').count({ n: '*' }))[0].n)).toBe(0);
      expect(Number((await trx.raw(`select count(*) as n from pg_index where indrelid = cast('t' as regclass)`)).rows[0].n)).toBe(0);
      await trx('t').insert([{ id: 'c', code: 'C', n: 30, note: 'x' }]);
      await bare.restore();
      // The lock timeout is what it was before.
      expect((await trx.raw('show lock_timeout')).rows[0].lock_timeout).toBe('0');
    });
    expect(await definitions(store, ['t'])).toEqual(before);
    expect(await store.knex('t').pluck('id')).toEqual(['c']);
    // The keys are real again.
    await expect(store.knex('t').insert({ id: 'c', code: 'D', n: 1 })).rejects.toThrow(/duplicate key/);
  });

  it('touches nothing when a reader holds the table past the timeout, and the transaction goes on', async () => {
    await store.knex.raw('create table r (id text primary key)');
    await store.knex('r').insert([{ id: 'kept' }]);
    const reader = new pg.Client({ connectionString: pgTestUrl() });
    await reader.connect();
    try {
      await reader.query(`begin; set search_path = "${schema.schema}"; select * from r`);
      const started = Date.now();
      await store.knex.transaction(async (trx) => {
        expect(await emptyWithoutIndexes(trx, ['r'], 200)).toEqual({ skipped: 'another session holds r (waited 200 ms)' });
        // Whatever else fails (here a table that is not there) is skipped the same way.
        expect(await emptyWithoutIndexes(trx, ['no_such_table'], 200)).toEqual({ skipped: expect.stringMatching(/^could not drop the indexes of no_such_table: .*does not exist/) });
        // Not aborted: the build goes on with its slow path.
        await trx('r').insert({ id: 'added' });
        expect((await trx.raw('show lock_timeout')).rows[0].lock_timeout).toBe('0');
      });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await store.knex('r').orderBy('id').pluck('id'))).toEqual(['added', 'kept']);
      expect(await definitions(store, ['r'])).toHaveLength(1);
    } finally {
      await reader.query('rollback').catch(() => undefined);
      await reader.end();
    }
  });

  it('a full journeys build gives the same rows and indexes with the tables bare or, with a reader, in place', async () => {
    await addRun(store, 'r1');
    await addEvents(store, 'r1', [
      { id: 'e1', at: '2025-01-01T10:00:00Z', ids: [['email', 'a@x.example']], channel: 'Paid Search' },
      { id: 'e2', at: '2025-01-02T10:00:00Z', ids: [['email', 'a@x.example']], kind: 'conversion', name: 'purchase', value: 10 },
      { id: 'e3', at: '2025-01-03T10:00:00Z', ids: [['email', 'b@x.example']], channel: 'Email' },
    ]);
    await setIdentity(store, 'r1', { P1: [['email', 'a@x.example']], P2: [['email', 'b@x.example']] });
    const tables = ['journeys', 'journey_touchpoints'];
    const indexes = await definitions(store, tables);
    expect(indexes.length).toBeGreaterThanOrEqual(8);

    await build(store, 'r1', {}, 'full');
    const built = await snapshot(store);
    expect(built.touchpoints).toHaveLength(3);
    expect(await definitions(store, tables)).toEqual(indexes);

    const reader = new pg.Client({ connectionString: pgTestUrl() });
    await reader.connect();
    try {
      await reader.query(`begin; set search_path = "${schema.schema}"; select count(*) from journeys`);
      const { buildJourneys } = await import('../journeys/stage.ts');
      const { resolveJourneysConfig } = await import('../journeys/config.ts');
      const lines: string[] = [];
      const log = createLogger({ secrets: [], level: 'info', write: (line) => lines.push(line) });
      const summary = await buildJourneys(store, { runId: 'r1', config: resolveJourneysConfig({}), mode: 'full', lockTimeoutMs: 200, log });
      expect(summary).toMatchObject({ mode: 'full', touchpoints: 3 });
      expect(lines.join('\n')).toMatch(/rebuilding with the indexes in place \(slower\): another session holds journey_touchpoints, journeys/);
    } finally {
      await reader.query('rollback').catch(() => undefined);
      await reader.end();
    }
    expect(await snapshot(store)).toEqual(built);
    expect(await definitions(store, tables)).toEqual(indexes);
  });
});
