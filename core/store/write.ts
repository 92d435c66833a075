// Writes a prepared batch (batch.ts) in one transaction: raw records, canonical rows, quarantine and
// the stream's state commit together or not at all. The rows move in bulk (DuckDB's appender,
// PostgreSQL's COPY), chosen by engine and by what the batch is:
//  - PostgreSQL append: records the store has never seen (a first load) — bulk appends only; the
//    primary keys verify that nothing existed, and a collision sends the batch to the replace;
//  - PostgreSQL replace: delete what the batch replaces through the indexes, then COPY;
//  - DuckDB replace: the same deletes, then appends. DuckDB's tables have no keys (migration 6:
//    maintaining an ART index cost more than the rest of the write), so nothing would catch a
//    collision: every batch deletes first. Without an index a delete is a scan of the few columns
//    it filters on (~30 ms per 5,000 keys against 1M rows); the rows themselves are appended.
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
  rows: Row[];
  /** The batch's ids in `idColumn`: rows stored under them are replaced even if another record made them. */
  idColumn: string;
  ids: string[];
}

function canonicalTables(rows: PreparedBatch): CanonicalTable[] {
  return [
    { table: 'events', columns: EVENT_COLUMNS, rows: rows.events, idColumn: 'event_id', ids: rows.eventIds },
    {
      table: 'identifier_observations',
      columns: OBSERVATION_COLUMNS,
      rows: rows.observations,
      idColumn: 'observation_id',
      ids: rows.observationIds,
    },
    { table: 'spend', columns: SPEND_COLUMNS, rows: rows.spend, idColumn: 'spend_id', ids: rows.spendIds },
  ];
}

const COLLISION = /violates (primary key|unique) constraint|Duplicate key|duplicate key value/i;

type Strategy = (trx: Knex.Transaction, target: WriteTarget, batch: BatchWrite, rows: PreparedBatch) => Promise<number>;

/**
 * Returns how many stored raw records the batch replaced. `firstLoad` (PostgreSQL): try the append
 * first (a record never stored has no canonical rows, so nothing needs deleting); the caller passes
 * false for a stream that is re-reading, where the attempt would only fail.
 */
export async function writePrepared(target: WriteTarget, batch: BatchWrite, rows: PreparedBatch, firstLoad: boolean): Promise<number> {
  // Canonical rows for a record outside the batch's raw records may replace stored rows.
  if (target.dialect === 'postgres' && firstLoad && rows.recordPks.length === rows.raw.length) {
    try {
      return await inTransaction(target, batch, rows, append);
    } catch (error) {
      if (!COLLISION.test(String((error as Error).message))) throw error;
    }
  }
  await target.beforeReplace?.();
  return inTransaction(target, batch, rows, target.dialect === 'duckdb' ? replaceDuckDB : replacePostgres);
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

const replaceDuckDB: Strategy = async (trx, { rawTable }, batch, rows) => {
  let replaced = 0;
  if (rows.raw.length > 0) {
    const pks = JSON.stringify(rows.raw.map((r) => r[0]));
    replaced = ((await trx.raw(`delete from ?? where ${inJsonList('duckdb', '_pk')}`, [rawTable, pks])) as { rowCount: number }).rowCount;
  }
  await bulkAppend(trx, 'duckdb', rawTable, RAW_COLUMNS, rows.raw);
  const all = JSON.stringify(rows.recordPks);
  // The store's ids start with `${source}:${stream}:` (names without ':'), so a row stored under
  // one of them belongs to this stream: the scan then skips other streams' row groups by their
  // min/max. A caller with other ids gets the whole table searched.
  const prefix = `${batch.source}:${batch.stream}:`;
  for (const c of canonicalTables(rows)) {
    // Two deletes: one with `or` between the lists took longer than both (a 1M-row table: 70 vs 45 ms).
    if (rows.recordPks.length > 0) await trx.raw(`delete from ${c.table} where source = ? and stream = ? and ${inJsonList('duckdb', 'record_pk')}`, [batch.source, batch.stream, all]);
    if (c.ids.length > 0) {
      const own = c.ids.every((id) => id.startsWith(prefix));
      const where = `${own ? 'source = ? and stream = ? and ' : ''}${inJsonList('duckdb', c.idColumn)}`;
      await trx.raw(`delete from ${c.table} where ${where}`, [...(own ? [batch.source, batch.stream] : []), JSON.stringify(c.ids)]);
    }
    await bulkAppend(trx, 'duckdb', c.table, c.columns, c.rows);
  }
  return replaced;
};
