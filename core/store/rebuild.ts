// Rebuilding a whole PostgreSQL table inside a transaction: emptied by TRUNCATE and refilled with
// its indexes dropped, then indexed once. Inserting 914,000 journey touchpoints row by row into four
// B-trees took 14 s; into the bare table 0.8 s, and building the four indexes after it 4.9 s
// (bench/stitch-journeys.ts on PostgreSQL 15). Every index and primary or unique key on the tables
// is rebuilt from its own definition (pg_get_indexdef / pg_get_constraintdef), users' own included.
//
// The price is an ACCESS EXCLUSIVE lock until commit: readers wait for the rebuild instead of reading
// the old rows. So it is taken only within `lockTimeoutMs`; when a reader holds the tables longer
// (a long BI query), the rebuild runs the slow way, with the indexes in place, and readers see the
// old rows until it commits. So it does too on a Postgres-compatible engine whose catalog lacks what
// this reads (any failure here rolls back to a savepoint: the slow way is always there). DuckDB
// tables have no indexes to drop (see the migrations).
import type { Knex } from 'knex';
import type { Logger } from '../sdk/types.ts';
import type { Dialect } from './types.ts';

export type BareTables =
  | {
      /** Rebuilds every index and key dropped (call after the inserts, inside the same transaction). */
      restore(): Promise<void>;
    }
  | {
      /** Why nothing was done: the tables are as they were and the transaction goes on. */
      skipped: string;
    };

interface Saved {
  table: string;
  constraints: { name: string; def: string }[];
  indexes: string[];
}

/** How long a rebuild waits for the tables' readers before it takes the slow way. */
const LOCK_TIMEOUT_MS = 5_000;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * On PostgreSQL, within `trx`: locks `tables`, empties them and drops their indexes; or, when the
 * lock was not granted within `lockTimeoutMs` (or anything else failed), changes nothing and says why.
 */
export async function emptyWithoutIndexes(trx: Knex.Transaction, tables: string[], lockTimeoutMs = LOCK_TIMEOUT_MS): Promise<BareTables> {
  const [{ lock_timeout: previous }] = (await trx.raw('show lock_timeout')).rows as { lock_timeout: string }[];
  let saved: Saved[];
  try {
    // A savepoint: a lock that times out aborts only it, and the build goes on the slow way.
    saved = await trx.transaction(async (sp) => {
      await sp.raw(`set local lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
      await sp.raw(`lock table ${tables.map(quote).join(', ')} in access exclusive mode`);
      const all: Saved[] = [];
      for (const table of tables) {
        const constraints = (
          await sp.raw(
            `select conname as name, pg_get_constraintdef(oid) as def from pg_constraint where conrelid = cast(? as regclass) and contype in ('p', 'u') order by conname`,
            [table],
          )
        ).rows as { name: string; def: string }[];
        const indexes = (
          await sp.raw(
            `select n.nspname as schema, i.relname as name, pg_get_indexdef(x.indexrelid) as def
             from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
             where x.indrelid = cast(? as regclass) and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)
             order by i.relname`,
            [table],
          )
        ).rows as { schema: string; name: string; def: string }[];
        for (const c of constraints) await sp.raw(`alter table ${quote(table)} drop constraint ${quote(c.name)}`);
        for (const i of indexes) await sp.raw(`drop index ${quote(i.schema)}.${quote(i.name)}`);
        all.push({ table, constraints, indexes: indexes.map((i) => i.def) });
      }
      await sp.raw(`truncate ${tables.map(quote).join(', ')}`);
      return all;
    });
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return { skipped: `another session holds ${tables.join(', ')} (waited ${lockTimeoutMs} ms)` };
    return { skipped: `could not drop the indexes of ${tables.join(', ')}: ${String((error as Error).message ?? error).split('\n')[0]}` };
  } finally {
    await trx.raw(`select set_config('lock_timeout', ?, true)`, [previous]);
  }
  return {
    async restore() {
      for (const s of saved) {
        for (const c of s.constraints) await trx.raw(`alter table ${quote(s.table)} add constraint ${quote(c.name)} ${c.def}`);
        for (const def of s.indexes) await trx.raw(def);
      }
    },
  };
}

/**
 * Replaces every row of `tables` with what `fill` inserts, in `trx`: on PostgreSQL into the tables
 * emptied without their indexes, which are then built once; elsewhere, or when that is skipped (the
 * reason logged at info), after a plain `delete`.
 */
export async function refill(
  trx: Knex.Transaction,
  dialect: Dialect,
  tables: string[],
  fill: () => Promise<void>,
  options: { lockTimeoutMs?: number; log?: Logger; onStep?: (name: string, ms: number) => void } = {},
): Promise<void> {
  const step = async (name: string, work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    options.onStep?.(name, performance.now() - started);
  };
  let bare: BareTables | undefined;
  if (dialect === 'postgres') await step('empty without indexes', async () => (bare = await emptyWithoutIndexes(trx, tables, options.lockTimeoutMs)));
  if (bare && 'skipped' in bare) options.log?.info(`rebuilding with the indexes in place (slower): ${bare.skipped}`);
  if (!bare || 'skipped' in bare) for (const table of tables) await step(`delete ${table}`, () => trx.raw(`delete from ${quote(table)}`));
  await fill();
  if (bare && 'restore' in bare) await step('index', () => (bare as { restore(): Promise<void> }).restore());
}
