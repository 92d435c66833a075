// Writes a prepared batch (batch.ts) in one transaction: raw records, canonical rows, quarantine and
// the stream's state commit together or not at all. Three ways to move the rows, chosen by what the
// batch is and where it goes:
//  - append: records the store has never seen (a first load) — bulk appends only; the primary keys
//    verify that nothing existed, and a collision sends the batch to one of the two below;
//  - PostgreSQL replace: delete what the batch replaces through the indexes, then COPY;
//  - DuckDB upsert: stage the rows in temporary tables, delete only rows the batch no longer
//    produces, then INSERT … ON CONFLICT DO UPDATE. Deleting and re-inserting a key that DuckDB
//    holds in an ART index cost ~90 µs a row (re-loads ran at 1,750 records/s after a checkpoint);
//    staging plus an in-place update of the non-key columns ~14 µs.
import type { Knex } from 'knex';
import { EVENT_COLUMNS, OBSERVATION_COLUMNS, RAW_COLUMNS, SPEND_COLUMNS } from './batch.ts';
import type { PreparedBatch } from './batch.ts';
import { bulkAppend } from './bulk.ts';
import type { Column, Row } from './bulk.ts';
import type { BatchWrite, Dialect } from './types.ts';

export interface WriteTarget {
  db: Knex;
  dialect: Dialect;
  rawTable: string;
  /** Called before a batch is written as a replace (after the append attempt, if any, failed). */
  beforeReplace?: () => Promise<void>;
}

/**
 * "column is in the JSON array bound as one parameter": one binding whatever the batch size. On pg
 * the `= any(array(…))` form is what lets the planner use the index (an IN-subquery became a hashed
 * subplan over a sequential scan once OR-ed); DuckDB plans either form as a hash join.
 */
export function inJsonList(dialect: Dialect, column: string): string {
  return dialect === 'duckdb'
    ? `${column} in (select unnest(from_json(?::json, '["VARCHAR"]')))`
    : `${column} = any(array(select json_array_elements_text(?::json)))`;
}

interface CanonicalTable {
  table: string;
  columns: Column[];
  keys: string[];
  rows: Row[];
  /** The batch's ids in `idColumn`: rows stored under them are replaced even if another record made them. */
  idColumn: string;
  ids: string[];
}

function canonicalTables(rows: PreparedBatch): CanonicalTable[] {
  return [
    { table: 'events', columns: EVENT_COLUMNS, keys: ['event_id'], rows: rows.events, idColumn: 'event_id', ids: rows.eventIds },
    {
      table: 'identifier_observations',
      columns: OBSERVATION_COLUMNS,
      keys: ['observation_id', 'identifier_type', 'identifier_value'],
      rows: rows.observations,
      idColumn: 'observation_id',
      ids: rows.observationIds,
    },
    { table: 'spend', columns: SPEND_COLUMNS, keys: ['spend_id'], rows: rows.spend, idColumn: 'spend_id', ids: rows.spendIds },
  ];
}

const COLLISION = /violates (primary key|unique) constraint|Duplicate key|duplicate key value/i;

type Strategy = (trx: Knex.Transaction, target: WriteTarget, batch: BatchWrite, rows: PreparedBatch) => Promise<number>;

/**
 * Returns how many stored raw records the batch replaced. `firstLoad`: try the append first (a
 * record never stored has no canonical rows, so nothing needs deleting); the caller passes false
 * for a stream that is re-reading, where the attempt would only fail.
 */
export async function writePrepared(target: WriteTarget, batch: BatchWrite, rows: PreparedBatch, firstLoad: boolean): Promise<number> {
  // Canonical rows for a record outside the batch's raw records may replace stored rows.
  if (firstLoad && rows.recordPks.length === rows.raw.length) {
    try {
      return await inTransaction(target, batch, rows, append);
    } catch (error) {
      if (!COLLISION.test(String((error as Error).message))) throw error;
    }
  }
  await target.beforeReplace?.();
  return inTransaction(target, batch, rows, target.dialect === 'duckdb' ? upsertDuckDB : replacePostgres);
}

async function inTransaction(target: WriteTarget, batch: BatchWrite, rows: PreparedBatch, strategy: Strategy): Promise<number> {
  return target.db.transaction(async (trx) => {
    const replaced = await strategy(trx, target, batch, rows);
    // Few rows in practice; 7 columns × 500 rows stays far below pg's 65,535 bind parameters.
    for (let i = 0; i < rows.quarantine.length; i += 500) {
      await trx('quarantine').insert(rows.quarantine.slice(i, i + 500)).onConflict(['source', 'stream', 'record_hash']).ignore();
    }
    if (batch.state) {
      await trx('stream_state')
        .insert({ pipeline: batch.pipeline, source: batch.source, stream: batch.stream, state: JSON.stringify(batch.state), updated_at: new Date(), run_id: batch.runId })
        .onConflict(['pipeline', 'source', 'stream'])
        .merge(['state', 'updated_at', 'run_id']);
    }
    return replaced;
  });
}

const append: Strategy = async (trx, { dialect, rawTable }, _batch, rows) => {
  await bulkAppend(trx, dialect, rawTable, RAW_COLUMNS, rows.raw);
  for (const c of canonicalTables(rows)) await bulkAppend(trx, dialect, c.table, c.columns, c.rows);
  return 0;
};

const replacePostgres: Strategy = async (trx, { dialect, rawTable }, batch, rows) => {
  let replaced = 0;
  if (rows.raw.length > 0) {
    const pks = JSON.stringify(rows.raw.map((r) => r[0]));
    replaced = ((await trx.raw(`delete from ?? where ${inJsonList(dialect, '_pk')}`, [rawTable, pks])) as { rowCount: number }).rowCount;
  }
  await bulkAppend(trx, dialect, rawTable, RAW_COLUMNS, rows.raw);
  const all = JSON.stringify(rows.recordPks);
  for (const c of canonicalTables(rows)) {
    // By record, then by id (a row that another record had produced): two index lookups.
    if (rows.recordPks.length > 0) await trx.raw(`delete from ${c.table} where source = ? and stream = ? and ${inJsonList(dialect, 'record_pk')}`, [batch.source, batch.stream, all]);
    if (c.ids.length > 0) await trx.raw(`delete from ${c.table} where ${inJsonList(dialect, c.idColumn)}`, [JSON.stringify(c.ids)]);
    await bulkAppend(trx, dialect, c.table, c.columns, c.rows);
  }
  return replaced;
};

const upsertDuckDB: Strategy = async (trx, { rawTable }, batch, rows) => {
  const stagedRaw = await stage(trx, rawTable, '_tp_stage_raw', RAW_COLUMNS, rows.raw);
  const existing = await trx.raw(`select count(*) as n from ${quote(rawTable)} where _pk in (select _pk from ${stagedRaw})`);
  await upsert(trx, rawTable, stagedRaw, RAW_COLUMNS, ['_pk']);
  const pks = JSON.stringify(rows.recordPks);
  for (const c of canonicalTables(rows)) {
    const staged = await stage(trx, c.table, `_tp_stage_${c.table}`, c.columns, c.rows);
    const keys = c.keys.map(quote).join(', ');
    const gone = `(${keys}) not in (select ${keys} from ${staged})`;
    // Rows of these records that the batch no longer produces …
    if (rows.recordPks.length > 0) {
      await trx.raw(`delete from ${c.table} where source = ? and stream = ? and ${inJsonList('duckdb', 'record_pk')} and ${gone}`, [batch.source, batch.stream, pks]);
    }
    // … and, where an id groups several rows (observations), rows under the batch's ids that it no
    // longer produces, whichever record stored them. A single-key row it does produce is moved to
    // its new record by the upsert.
    if (c.keys.length > 1 && c.ids.length > 0) {
      await trx.raw(`delete from ${c.table} where ${inJsonList('duckdb', c.idColumn)} and ${gone}`, [JSON.stringify(c.ids)]);
    }
    await upsert(trx, c.table, staged, c.columns, c.keys);
  }
  return Number(existing.rows[0].n);
};

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A per-connection temporary table shaped like `table`, emptied and filled with `rows`. */
async function stage(trx: Knex.Transaction, table: string, name: string, columns: Column[], rows: Row[]): Promise<string> {
  const cols = columns.map((c) => quote(c.name)).join(', ');
  await trx.raw(`create temp table if not exists ${name} as select ${cols} from ${quote(table)} limit 0`);
  await trx.raw(`delete from ${name}`);
  await bulkAppend(trx, 'duckdb', name, columns, rows, true);
  return name;
}

async function upsert(trx: Knex.Transaction, table: string, staged: string, columns: Column[], keys: string[]): Promise<void> {
  const cols = columns.map((c) => quote(c.name)).join(', ');
  const set = columns.filter((c) => !keys.includes(c.name)).map((c) => `${quote(c.name)} = excluded.${quote(c.name)}`);
  await trx.raw(`insert into ${quote(table)} (${cols}) select ${cols} from ${staged} on conflict (${keys.map(quote).join(', ')}) do update set ${set.join(', ')}`);
}
