// The SQL store: `openStore(url)` gives the engine one Store over DuckDB (embedded, our own knex
// client) or PostgreSQL (knex's pg client with our type parsers). Everything above this file is
// dialect-free: the same tables, the same SQL, the same JS values back. Opening fails fast and
// says why — a locked DuckDB file names the process holding it, an unreachable server its address.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knexFactory from 'knex';
import type { Knex } from 'knex';
import { StoreError, TouchpointError } from '../errors.ts';
import type { StreamState } from '../sdk/types.ts';
import { prepareBatch } from './batch.ts';
import { DuckDBClient } from './duckdb-client.ts';
import { migrate } from './migrations.ts';
import { pgTypes } from './pg-types.ts';
import { writePrepared } from './write.ts';
import { duckdbMemoryLimit, duckdbUrl, parseStoreUrl, redactUrl } from './url.ts';
import type { ParsedStoreUrl } from './url.ts';
import type { BatchWrite, Dialect, RunRecord, RunStatus, Store, StoreOptions, StreamStateRow } from './types.ts';

export { resolveStoreUrl, parseStoreUrl, redactUrl, STORE_URL_ENV, DUCKDB_MEMORY_ENV, duckdbMemoryLimit } from './url.ts';
export { DuckDBClient } from './duckdb-client.ts';
export type * from './types.ts';

// The WAL is folded into the file at this size (DuckDB's default is 16MB). A checkpoint rewrites
// the touched row groups and indexes; at 16MB, bulk loads of 5000-record batches spent a third of
// their time there (53k vs 73k records/s with 1GB, 100k records). Much larger thresholds mean a
// longer WAL replay after a crash, so a middle value.
const CHECKPOINT_THRESHOLD = '256MB';
const PG_CONNECT_TIMEOUT_MS = 5_000;

const CANONICAL_TABLES = ['runs', 'stream_state', 'events', 'identifier_observations', 'spend', 'quarantine'] as const;

/** `raw_<source>_<stream>` in [a-z0-9_], shortened with a hash past PostgreSQL's 63-byte limit. */
export function rawTableName(source: string, stream: string): string {
  const name = `raw_${source}_${stream}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (name.length <= 63) return name;
  return `${name.slice(0, 54)}_${createHash('sha256').update(`${source}\u0000${stream}`).digest('hex').slice(0, 8)}`;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const parsed = parseStoreUrl(options.url, options.baseDir);
  const readOnly = options.readOnly ?? false;
  if (parsed.dialect === 'duckdb') {
    if (!readOnly && parsed.filename !== ':memory:') mkdirSync(dirname(parsed.filename), { recursive: true });
    const db = knexFactory({
      client: DuckDBClient as unknown as typeof Knex.Client,
      connection: {
        filename: parsed.filename,
        readOnly,
        options: { checkpoint_threshold: CHECKPOINT_THRESHOLD, memory_limit: options.memoryLimit ?? duckdbMemoryLimit(process.env) },
      } as any,
      log: quietLog,
    });
    try {
      // Open the file now, so a lock held by another process is reported here and at once.
      await db.raw('select 1');
    } catch (error) {
      await db.destroy().catch(() => undefined);
      throw error instanceof TouchpointError ? error : new StoreError(`cannot open ${duckdbUrl(parsed.filename)}: ${firstLine(error)}`, { cause: error });
    }
    return new SqlStore(db, 'duckdb', duckdbUrl(parsed.filename), readOnly);
  }
  const db = knexFactory({
    client: 'pg',
    connection: {
      connectionString: parsed.connectionString,
      types: pgTypes,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      application_name: 'touchpoint',
      // Same session clock as DuckDB; read-only stores refuse writes in the server, not just here.
      options: `-c TimeZone=UTC${readOnly ? ' -c default_transaction_read_only=on' : ''}`,
    } as Knex.PgConnectionConfig,
    searchPath: parsed.schema ? [parsed.schema] : undefined,
    pool: { min: 0, max: 5 },
    acquireConnectionTimeout: PG_CONNECT_TIMEOUT_MS * 2,
    log: quietLog,
  });
  try {
    await db.raw('select 1');
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw describePgError(error, parsed);
  }
  return new SqlStore(db, 'postgres', redactUrl(options.url), readOnly, parsed.schema);
}

class SqlStore implements Store {
  readonly dialect: Dialect;
  readonly displayUrl: string;
  readonly knex: Knex;
  readonly #readOnly: boolean;
  readonly #schema: string | undefined;
  readonly #rawTables = new Set<string>();
  /** Streams whose last batch replaced stored records: their next batch skips the first-load attempt. */
  readonly #replacing = new Set<string>();
  readonly #analyzed = new Set<string>();

  constructor(db: Knex, dialect: Dialect, displayUrl: string, readOnly: boolean, schema?: string) {
    this.knex = db;
    this.dialect = dialect;
    this.displayUrl = displayUrl;
    this.#readOnly = readOnly;
    this.#schema = schema;
  }

  async migrate(): Promise<void> {
    await migrate(this.knex, this.dialect, { schema: this.#schema, readOnly: this.#readOnly });
  }

  async ensureRawTable(source: string, stream: string): Promise<string> {
    const name = rawTableName(source, stream);
    if (this.#rawTables.has(name)) return name;
    // No key on DuckDB (migration 6): the write paths keep `_pk` unique.
    const key = this.dialect === 'duckdb' ? 'not null' : 'primary key';
    await this.knex.raw(`create table if not exists ?? (_pk text ${key}, _cursor text, _record json, _run_id text, _loaded_at timestamptz)`, [name]);
    this.#rawTables.add(name);
    return name;
  }

  async writeBatch(batch: BatchWrite): Promise<void> {
    const where = `${batch.source}/${batch.stream}`;
    const rows = prepareBatch(batch);
    const rawTable = await this.ensureRawTable(batch.source, batch.stream);
    try {
      // A stream that just replaced records is re-reading (lookback, full refresh): skip the
      // append attempt (write.ts), which would only fail on the existing keys.
      const firstLoad = !this.#replacing.has(where);
      const beforeReplace = () => this.#analyze(rawTable);
      const replaced = await writePrepared({ db: this.knex, dialect: this.dialect, rawTable, beforeReplace }, batch, rows, firstLoad);
      if (replaced > 0) this.#replacing.add(where);
      else this.#replacing.delete(where);
    } catch (error) {
      if (error instanceof TouchpointError) throw error;
      throw new StoreError(`could not store a batch of ${rows.raw.length} record(s): ${firstLine(error)}`, {
        where,
        // Another writer touched the same rows (DuckDB's optimistic concurrency, pg serialization).
        transient: /conflict|could not serialize|deadlock/i.test(firstLine(error)),
        cause: error,
      });
    }
  }

  /**
   * pg plans the deletes of a replace from table statistics. Right after a bulk load in the same
   * session autovacuum has not analyzed yet, and with the stale estimate pg filtered a 600k-row
   * index range by a 5000-element array (minutes) instead of looking each key up (26 ms).
   */
  async #analyze(rawTable: string): Promise<void> {
    if (this.dialect !== 'postgres' || this.#analyzed.has(rawTable)) return;
    this.#analyzed.add(rawTable);
    await this.knex.raw('analyze ??, events, identifier_observations, spend', [rawTable]);
  }

  async sweepStream(source: string, stream: string, runId: string): Promise<number> {
    const rawTable = await this.ensureRawTable(source, stream);
    return this.knex.transaction(async (trx) => {
      const swept = (await trx.raw('delete from ?? where _run_id is distinct from ?', [rawTable, runId])) as { rowCount: number };
      for (const table of ['events', 'identifier_observations', 'spend']) {
        await trx.raw('delete from ?? where source = ? and stream = ? and run_id is distinct from ?', [table, source, stream, runId]);
      }
      return swept.rowCount;
    });
  }

  async getState(pipeline: string, source: string, stream: string): Promise<StreamState | undefined> {
    const row = await this.knex('stream_state').where({ pipeline, source, stream }).first('state');
    return row?.state ?? undefined;
  }

  async listState(pipeline: string): Promise<StreamStateRow[]> {
    const rows = await this.knex('stream_state').where({ pipeline }).orderBy(['source', 'stream']).select('*');
    return rows.map((r: any) => ({ ...r, updated_at: iso(r.updated_at) }) as StreamStateRow);
  }

  async resetState(pipeline: string, source: string, stream?: string): Promise<number> {
    return this.knex('stream_state').where({ pipeline, source, ...(stream === undefined ? {} : { stream }) }).delete();
  }

  async startRun(run: { run_id: string; pipeline: string }): Promise<void> {
    await this.knex('runs').insert({ ...run, started_at: new Date(), status: 'running', rows: '{}', error: null });
  }

  async finishRun(run: { run_id: string; status: RunStatus; rows: RunRecord['rows']; error?: string | null }): Promise<void> {
    const updated = await this.knex('runs')
      .where({ run_id: run.run_id })
      .update({ ended_at: new Date(), status: run.status, rows: JSON.stringify(run.rows), error: run.error ?? null });
    if (updated === 0) throw new StoreError(`run ${run.run_id} was never started`, { hint: 'call startRun before finishRun' });
  }

  async listRuns(options: { limit?: number; pipeline?: string } = {}): Promise<RunRecord[]> {
    const query = this.knex('runs').select('*').orderBy([{ column: 'started_at', order: 'desc' }, { column: 'run_id', order: 'desc' }]).limit(options.limit ?? 20);
    if (options.pipeline) query.where({ pipeline: options.pipeline });
    const rows = await query;
    return rows.map((r: any) => ({ ...r, started_at: iso(r.started_at), ended_at: r.ended_at ? iso(r.ended_at) : null, rows: r.rows ?? {} }));
  }

  async counts(): Promise<Record<string, number>> {
    // Filtered here, not with LIKE: DuckDB's LIKE has no default escape character for the '_'.
    const names = (await this.knex('information_schema.tables')
      .where('table_schema', this.knex.raw('current_schema()'))
      .andWhere('table_catalog', this.knex.raw('current_database()'))
      .orderBy('table_name')
      .pluck('table_name')) as string[];
    const raw = names.filter((n) => n.startsWith('raw_'));
    const tables = [...CANONICAL_TABLES, ...raw];
    const sql = tables.map(() => 'select cast(? as text) as t, count(*) as n from ??').join(' union all ');
    const result = await this.knex.raw(sql, tables.flatMap((t) => [t, t]));
    const byName = new Map<string, number>(result.rows.map((r: { t: string; n: number }) => [r.t, Number(r.n)]));
    return Object.fromEntries(tables.map((t) => [t, byName.get(t) ?? 0]));
  }

  async close(): Promise<void> {
    await this.knex.destroy();
  }
}

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

function describePgError(error: unknown, url: Extract<ParsedStoreUrl, { dialect: 'postgres' }>): StoreError {
  const e = error as { code?: string; message?: string; errors?: { code?: string }[] };
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  const code = e.code ?? e.errors?.[0]?.code;
  const at = `${url.host}:${url.port}`;
  if (code === '28P01' || code === '28000') {
    return new StoreError(`PostgreSQL at ${at} refused the login: ${firstLine(error)}`, { hint: 'check the user and password in the store URL', cause: error });
  }
  if (code === '3D000') {
    return new StoreError(`PostgreSQL at ${at} has no database "${url.database}"`, { hint: `create it (createdb ${url.database}) or fix the store URL`, cause: error });
  }
  const reason = code && /^E[A-Z]+$/.test(code) ? code : firstLine(error) || 'connection failed';
  return new StoreError(`cannot reach PostgreSQL at ${at} (${reason})`, {
    hint: 'is the server running and reachable from here? check TOUCHPOINT_DATABASE_URL or the pipeline\'s store:',
    transient: true,
    cause: error,
  });
}

// knex logs pool acquire failures itself; we report them once, as a StoreError.
const quietLog = {
  warn(message: string) {
    if (!/Acquire connection error|Connection Error/.test(String(message))) console.warn(message);
  },
  error(message: string) {
    console.error(message);
  },
  deprecate(method: string, alternative: string) {
    console.warn(`knex: ${method} is deprecated, use ${alternative}`);
  },
  debug() {},
};
