// Versioned migrations of the store's own tables, in order. Each applied version is a row of
// `schema_migrations`; pending ones run in one transaction (both engines have transactional DDL),
// so a crash mid-way applies none. On PostgreSQL an advisory lock keeps two processes from
// migrating at once; DuckDB has a single writer anyway. A change to a public table is a new
// migration (and a CHANGELOG line), never an edit of an applied one.
import type { Knex } from 'knex';
import { StoreError } from '../errors.ts';
import type { Dialect } from './types.ts';
import { identityMigration } from '../identity/schema.ts';
import { journeysMigration } from '../journeys/schema.ts';
import { analyticsMigration, analyticsStateMigration } from '../analytics/schema.ts';
import { deliveriesMigration } from '../schedule/schema.ts';

export interface Migration {
  version: number;
  name: string;
  up(db: Knex.Transaction, dialect: Dialect): Promise<void>;
}

const tz = { useTz: true } as const;

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'runs, stream_state, quarantine, events, identifier_observations, spend',
    async up(db, dialect) {
      // Secondary indexes serve pg's planner. DuckDB does not use them for our set-based SQL (hash
      // joins over column scans; an ART index only serves point lookups), while every update of an
      // indexed column is a delete plus insert in the index: upserting 50k stored events took 1 s
      // without them, 12.7 s with them. DuckDB's primary keys go too, in migration 6.
      const secondary = dialect === 'postgres';
      await db.schema.createTable('runs', (t) => {
        t.text('run_id').primary();
        t.text('pipeline').notNullable();
        t.timestamp('started_at', tz).notNullable();
        t.timestamp('ended_at', tz).nullable();
        t.text('status').notNullable();
        t.json('rows');
        t.text('error').nullable();
      });
      await db.schema.createTable('stream_state', (t) => {
        t.text('pipeline').notNullable();
        t.text('source').notNullable();
        t.text('stream').notNullable();
        t.json('state').notNullable();
        t.timestamp('updated_at', tz).notNullable();
        t.text('run_id').nullable();
        t.primary(['pipeline', 'source', 'stream']);
      });
      await db.schema.createTable('quarantine', (t) => {
        t.text('source').notNullable();
        t.text('stream').notNullable();
        // sha256 of the record's canonical JSON: quarantining the same record again is a no-op.
        t.text('record_hash').notNullable();
        t.text('reason').notNullable();
        t.json('record');
        t.text('run_id');
        t.timestamp('quarantined_at', tz).notNullable();
        t.primary(['source', 'stream', 'record_hash']);
      });
      await db.schema.createTable('events', (t) => {
        t.text('event_id').primary();
        t.text('source').notNullable();
        t.text('stream').notNullable();
        t.text('record_pk').notNullable();
        t.timestamp('occurred_at', tz).notNullable();
        t.text('kind').notNullable();
        t.text('name').notNullable();
        for (const c of ['channel', 'source_medium', 'campaign_id', 'campaign']) t.text(c);
        t.double('value');
        for (const c of ['currency', 'session_id', 'device']) t.text(c);
        t.json('properties');
        t.text('run_id');
        t.timestamp('loaded_at', tz);
        if (secondary) t.index(['source', 'stream', 'record_pk'], 'events_record_idx');
        if (secondary) t.index(['occurred_at'], 'events_occurred_at_idx');
      });
      await db.schema.createTable('identifier_observations', (t) => {
        // Identifiers under one observation_id were seen together: the identity graph's edges.
        t.text('observation_id').notNullable();
        t.text('identifier_type').notNullable();
        t.text('identifier_value').notNullable();
        t.text('source').notNullable();
        t.text('stream').notNullable();
        t.text('record_pk').notNullable();
        t.timestamp('observed_at', tz).nullable();
        t.text('run_id');
        t.primary(['observation_id', 'identifier_type', 'identifier_value']);
        if (secondary) t.index(['source', 'stream', 'record_pk'], 'identifier_observations_record_idx');
        if (secondary) t.index(['identifier_type', 'identifier_value'], 'identifier_observations_identifier_idx');
      });
      await db.schema.createTable('spend', (t) => {
        t.text('spend_id').primary();
        t.text('source').notNullable();
        t.text('stream').notNullable();
        t.text('record_pk').notNullable();
        t.date('date').notNullable();
        t.text('channel');
        t.text('campaign_id');
        t.text('campaign');
        t.double('cost');
        t.text('currency');
        t.bigInteger('clicks');
        t.bigInteger('impressions');
        t.text('run_id');
        if (secondary) t.index(['source', 'stream', 'record_pk'], 'spend_record_idx');
      });
    },
  },
  identityMigration,
  journeysMigration,
  analyticsMigration,
  deliveriesMigration,
  {
    version: 6,
    name: 'duckdb: no primary keys on events, identifier_observations, spend, raw_*',
    async up(db, dialect) {
      // DuckDB holds a primary key in an ART index that every insert and commit maintains: storing a
      // 300k-record file took 11 of its 16.6 s, mostly in these tables' keys (docs/scaling.md). The
      // write paths keep the keys unique themselves (write.ts, staged.ts: de-duplicated rows, then
      // delete what they replace, then insert), as journeys already do (core/journeys/schema.ts).
      // PostgreSQL keeps its keys: its B-trees are what make those deletes index lookups.
      if (dialect !== 'duckdb') return;
      const raw = ((await db.raw(`select table_name as t from duckdb_tables() where schema_name = current_schema() and database_name = current_database()`)).rows as { t: string }[])
        .map((r) => r.t)
        .filter((t) => t.startsWith('raw_'));
      for (const table of ['events', 'identifier_observations', 'spend', ...raw]) await dropPrimaryKey(db, table);
    },
  },
  analyticsStateMigration,
  {
    version: 8,
    name: 'duckdb: id columns of the identity and journeys tables stored with FSST; no indexes left on identity tables',
    async up(db, dialect) {
      if (dialect !== 'duckdb') return;
      for (const [table, columns] of Object.entries(FSST_COLUMNS)) {
        await rebuildDuckTable(db, table, '__tp_fsst', Object.fromEntries(columns.map((c) => [c, 'fsst'])));
      }
      // Stores made before migration 2 stopped indexing the identity tables on DuckDB kept these
      // (the rebuilds above drop the others' keys): the same tables as a new store now.
      for (const index of ['person_merges_person_idx', 'person_merges_other_person_idx', 'identity_rejections_identifier_idx', 'identity_rejections_component_idx']) {
        await db.raw(`drop index if exists ${index}`);
      }
    },
  },
];

/**
 * DuckDB cannot drop a primary key: the table is rebuilt with the same columns, types and NOT NULL
 * constraints (the key's columns stay NOT NULL) and takes the old one's name.
 */
async function dropPrimaryKey(db: Knex.Transaction, table: string): Promise<void> {
  await rebuildDuckTable(db, table, '__tp_unkeyed', {});
}

/**
 * Rebuilds a DuckDB table with the same columns, types and NOT NULL constraints, no keys, and the
 * given columns stored with one compression method (DuckDB cannot change either in place).
 */
async function rebuildDuckTable(db: Knex.Transaction, table: string, suffix: string, compression: Record<string, string>): Promise<void> {
  const columns = (
    await db.raw(
      `select column_name as name, data_type as type, is_nullable as nullable from duckdb_columns()
       where schema_name = current_schema() and database_name = current_database() and table_name = ? order by column_index`,
      [table],
    )
  ).rows as { name: string; type: string; nullable: boolean }[];
  if (columns.length === 0) return;
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const rebuilt = `${table}${suffix}`;
  const column = (c: { name: string; type: string; nullable: boolean }) =>
    `${quote(c.name)} ${c.type}${c.nullable ? '' : ' not null'}${compression[c.name] ? ` using compression ${compression[c.name]}` : ''}`;
  await db.raw(`create table ${quote(rebuilt)} (${columns.map(column).join(', ')})`);
  await db.raw(`insert into ${quote(rebuilt)} select * from ${quote(table)}`);
  await db.raw(`drop table ${quote(table)}`);
  await db.raw(`alter table ${quote(rebuilt)} rename to ${quote(table)}`);
}

/**
 * Columns of unique-ish ids in the tables the identity and journeys stages rewrite. DuckDB picks a
 * compression per column segment by trying every method on it; for these it always ends with FSST
 * (their values rarely repeat, so dictionary never wins), and the trial of the others was a third of
 * the cost of writing the tables (bench/stitch-journeys.ts). Fixing FSST gives the same file.
 */
export const FSST_COLUMNS: Record<string, string[]> = {
  persons: ['person_id'],
  identity_map: ['identifier_value', 'person_id'],
  identity_nodes: ['identifier_value', 'component_key'],
  identity_changes: ['person_id'],
  journeys: ['journey_id', 'person_id', 'conversion_event_id'],
  journey_touchpoints: ['journey_id', 'event_id', 'person_id', 'session_key'],
};

// Any fixed 64-bit number; it only has to be the same in every Touchpoint process.
const ADVISORY_LOCK = 7_411_505_020_261;

const LEDGER_DDL =
  'create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null)';

/** Applies pending migrations; returns the versions applied (empty when up to date). */
export async function migrate(db: Knex, dialect: Dialect, options: { schema?: string; readOnly?: boolean } = {}): Promise<number[]> {
  if (options.readOnly) {
    const pending = await pendingMigrations(db);
    if (pending.length > 0) {
      throw new StoreError(`the store needs migration ${pending.map((m) => m.version).join(', ')} but was opened read-only`, {
        hint: 'run the pipeline (or any command that writes) once with this Touchpoint version',
      });
    }
    return [];
  }
  return db.transaction(async (trx) => {
    if (dialect === 'postgres') {
      await trx.raw('select pg_advisory_xact_lock(?)', [ADVISORY_LOCK]);
      if (options.schema) await trx.raw('create schema if not exists ??', [options.schema]);
    }
    await trx.raw(LEDGER_DDL);
    const done = new Set((await trx('schema_migrations').select('version')).map((r: { version: number }) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await m.up(trx, dialect);
      await trx('schema_migrations').insert({ version: m.version, name: m.name, applied_at: new Date() });
      applied.push(m.version);
    }
    return applied;
  });
}

export async function pendingMigrations(db: Knex): Promise<Migration[]> {
  if (!(await db.schema.hasTable('schema_migrations'))) return migrations;
  const done = new Set((await db('schema_migrations').select('version')).map((r: { version: number }) => r.version));
  return migrations.filter((m) => !done.has(m.version));
}
