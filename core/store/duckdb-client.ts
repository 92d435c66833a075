// Our knex client for DuckDB. DuckDB speaks the PostgreSQL family of SQL, so this is knex's
// PostgreSQL client (its query, schema and column compilers) with the driver swapped for
// @duckdb/node-api: one DuckDBInstance per database file shared by a pool of connections, knex's
// `$1` bindings passed as DuckDB parameters, and results converted to the same JS values our pg
// configuration returns (see pg-types.ts), so callers never care which engine they talk to.
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Writable } from 'node:stream';
import * as duckdb from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBResultReader, DuckDBType, DuckDBValue, DuckDBValueConverter } from '@duckdb/node-api';
import { StoreError } from '../errors.ts';

const require = createRequire(import.meta.url);
// Deep imports: knex exports no dialect classes, but its package has no "exports" map, so the
// files are reachable and stable across knex 3.x.
const PgClient: new (config: any) => any = require('knex/lib/dialects/postgres/index.js');
const PgColumnCompiler: new (...args: any[]) => any = require('knex/lib/dialects/postgres/schema/pg-columncompiler.js');
const PgQueryCompiler: new (...args: any[]) => any = require('knex/lib/dialects/postgres/query/pg-querycompiler.js');

const { DuckDBInstance, DuckDBTypeId, ResultReturnType, StatementType } = duckdb;
type DuckDBInstanceT = InstanceType<typeof DuckDBInstance>;

export interface DuckDBConnectionConfig {
  /** A file path, or `:memory:` (a private database per client). */
  filename: string;
  readOnly?: boolean;
  /** DuckDB configuration options passed when the instance is created (e.g. checkpoint_threshold). */
  options?: Record<string, string>;
}

interface SharedInstance {
  instance: Promise<DuckDBInstanceT>;
  readOnly: boolean;
  refs: number;
}

// DuckDB's file lock is per process: a second DuckDBInstance on the same file in this process opens
// without complaint, and two instances writing one file corrupt it. So every client in the process
// shares one instance per file, counted by reference.
const instances = new Map<string, SharedInstance>();
let memoryCounter = 0;

export function instanceKey(config: DuckDBConnectionConfig): string {
  return config.filename === ':memory:' ? `memory:${++memoryCounter}` : `file:${config.filename}`;
}

export function acquireInstance(key: string, config: DuckDBConnectionConfig): Promise<DuckDBInstanceT> {
  const shared = instances.get(key);
  // A read-only client may read through this process's writer; the reverse cannot be arranged.
  if (shared && shared.readOnly && !config.readOnly) {
    return Promise.reject(
      new StoreError(`DuckDB file ${config.filename} is open read-only in this process`, { hint: 'close the read-only store before opening it for writing' }),
    );
  }
  if (shared) {
    shared.refs++;
    return shared.instance;
  }
  const options: Record<string, string> = { ...config.options };
  if (config.readOnly) options.access_mode = 'READ_ONLY';
  const instance = DuckDBInstance.create(config.filename, options).catch((error: unknown) => {
    instances.delete(key);
    throw describeOpenError(error, config);
  });
  instances.set(key, { instance, readOnly: config.readOnly ?? false, refs: 1 });
  return instance;
}

export async function releaseInstance(key: string): Promise<void> {
  const shared = instances.get(key);
  if (!shared || --shared.refs > 0) return;
  instances.delete(key);
  // Closing the instance checkpoints the WAL into the file and releases the file lock.
  const instance = await shared.instance.catch(() => undefined);
  instance?.closeSync();
}

/** DuckDB's own text names the process holding the lock: keep that, say what to do. */
export function describeOpenError(error: unknown, config: DuckDBConnectionConfig): StoreError {
  const text = error instanceof Error ? error.message : String(error);
  const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(text);
  if (lock) {
    return new StoreError(`DuckDB file ${config.filename} is locked by another process (PID ${lock[2]}: ${lock[1]})`, {
      hint: config.readOnly
        ? 'a writer holds the file; read-only opens work while no process writes: wait for that run to finish'
        : 'one process at a time may write a DuckDB file: wait for that run to finish, or stop it (kill ' + lock[2] + ')',
      transient: true,
      cause: error,
    });
  }
  if (config.readOnly && /does not exist|No such file/i.test(text)) {
    return new StoreError(`no DuckDB store at ${config.filename}`, { hint: 'run the pipeline once to create it', cause: error });
  }
  return new StoreError(`cannot open DuckDB file ${config.filename}: ${text.split('\n')[0]}`, { cause: error });
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** BIGINT/HUGEINT as a number while exact, else the decimal string (what our pg int8 parser does). */
function integerFromValue(value: DuckDBValue): number | string {
  const big = value as bigint;
  return big >= -MAX_SAFE && big <= MAX_SAFE ? Number(big) : big.toString();
}

function textOrJson(value: DuckDBValue, type: DuckDBType): unknown {
  return type.alias === 'JSON' ? JSON.parse(value as string) : value;
}

const asString = (value: DuckDBValue) => String(value);
const V = duckdb;
const byTypeId: Record<number, (value: DuckDBValue, type: DuckDBType, converter: DuckDBValueConverter<unknown>) => unknown> = {
  [DuckDBTypeId.BOOLEAN]: V.booleanFromValue,
  [DuckDBTypeId.TINYINT]: V.numberFromValue,
  [DuckDBTypeId.SMALLINT]: V.numberFromValue,
  [DuckDBTypeId.INTEGER]: V.numberFromValue,
  [DuckDBTypeId.UTINYINT]: V.numberFromValue,
  [DuckDBTypeId.USMALLINT]: V.numberFromValue,
  [DuckDBTypeId.UINTEGER]: V.numberFromValue,
  [DuckDBTypeId.BIGINT]: integerFromValue,
  [DuckDBTypeId.UBIGINT]: integerFromValue,
  [DuckDBTypeId.HUGEINT]: integerFromValue,
  [DuckDBTypeId.UHUGEINT]: integerFromValue,
  [DuckDBTypeId.BIGNUM]: integerFromValue,
  [DuckDBTypeId.FLOAT]: V.numberFromValue,
  [DuckDBTypeId.DOUBLE]: V.numberFromValue,
  [DuckDBTypeId.DECIMAL]: V.doubleFromDecimalValue,
  [DuckDBTypeId.TIMESTAMP]: V.dateFromTimestampValue,
  [DuckDBTypeId.TIMESTAMP_TZ]: V.dateFromTimestampTZValue,
  [DuckDBTypeId.TIMESTAMP_S]: V.dateFromTimestampSecondsValue,
  [DuckDBTypeId.TIMESTAMP_MS]: V.dateFromTimestampMillisecondsValue,
  [DuckDBTypeId.TIMESTAMP_NS]: V.dateFromTimestampNanosecondsValue,
  // pg returns dates, times and intervals as text; DuckDB's own renderings are the same ISO forms.
  [DuckDBTypeId.DATE]: asString,
  [DuckDBTypeId.TIME]: asString,
  [DuckDBTypeId.TIME_NS]: asString,
  [DuckDBTypeId.TIME_TZ]: asString,
  [DuckDBTypeId.INTERVAL]: asString,
  [DuckDBTypeId.VARCHAR]: textOrJson,
  [DuckDBTypeId.ENUM]: asString,
  [DuckDBTypeId.UUID]: asString,
  [DuckDBTypeId.BLOB]: (value) => Buffer.from(V.bytesFromBlobValue(value)),
  [DuckDBTypeId.LIST]: V.arrayFromListValue,
  [DuckDBTypeId.ARRAY]: V.arrayFromArrayValue,
  [DuckDBTypeId.STRUCT]: V.objectFromStructValue,
  [DuckDBTypeId.MAP]: V.objectArrayFromMapValue,
  [DuckDBTypeId.UNION]: V.objectFromUnionValue,
  [DuckDBTypeId.SQLNULL]: V.nullConverter,
};

export const fromDuckDB: DuckDBValueConverter<unknown> = V.createDuckDBValueConverter(byTypeId as any) as DuckDBValueConverter<unknown>;

/** knex binding → DuckDB parameter. */
export function toDuckDB(value: unknown): DuckDBValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new TypeError('cannot bind an invalid Date');
    return V.timestampTZValue(BigInt(ms) * 1000n);
  }
  if (value instanceof Uint8Array) return V.blobValue(value);
  // pg would send an array as a PostgreSQL array literal; DuckDB gets JSON text, which is what our
  // json columns want. Bind arrays you mean as lists through knex.raw with an explicit cast.
  if (typeof value === 'object') return JSON.stringify(value);
  return value as DuckDBValue;
}

export interface DuckDBResponse {
  command: string;
  rowCount: number;
  rows: Record<string, unknown>[];
}

export function toResponse(reader: DuckDBResultReader): DuckDBResponse {
  const command = StatementType[reader.statementType] ?? 'UNKNOWN';
  if (reader.returnType !== ResultReturnType.QUERY_RESULT) return { command, rowCount: reader.rowsChanged, rows: [] };
  // The reader's column types carry the JSON alias; the per-chunk types that its own
  // convertRowObjects passes to a converter do not, so rows are converted here.
  const names = reader.columnNames();
  const types = reader.columnTypes();
  const columns = reader.getColumns();
  const rows: Record<string, unknown>[] = [];
  for (let r = 0; r < reader.currentRowCount; r++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) row[names[c]] = fromDuckDB(columns[c][r], types[c], fromDuckDB);
    rows.push(row);
  }
  return { command, rowCount: rows.length, rows };
}

class DuckDBColumnCompiler extends PgColumnCompiler {
  // DuckDB has no SERIAL. Our schema uses natural keys; a sequence-backed default would be the
  // way to get generated ids, and that is a decision to make explicitly, not by accident.
  increments(): string {
    throw new Error('DuckDB has no SERIAL: increments() is not supported; use a natural key, or a sequence with a default');
  }
  bigincrements(): string {
    return this.increments();
  }
  // knex's pg compiler falls back to `text` when the server version is below 9.2 (DuckDB is 1.x).
  json(): string {
    return 'json';
  }
  jsonb(): string {
    return 'json';
  }
}

class DuckDBQueryCompiler extends PgQueryCompiler {
  truncate(): string {
    return `truncate ${this.tableName}`;
  }
}

export class DuckDBClient extends PgClient {
  declare connectionSettings: DuckDBConnectionConfig;
  declare searchPath: string | string[] | undefined;
  declare version: string | undefined;
  #instanceKey: string | undefined;
  #instance: Promise<DuckDBInstanceT> | undefined;

  _driver(): typeof duckdb {
    return duckdb;
  }

  poolDefaults() {
    return { min: 0, max: 4, propagateCreateError: true };
  }

  columnCompiler(...args: unknown[]): unknown {
    return new DuckDBColumnCompiler(this, ...args);
  }

  queryCompiler(builder: unknown, formatter: unknown): unknown {
    return new DuckDBQueryCompiler(this, builder, formatter);
  }

  /** Opens (or joins) the file's instance. Throws a StoreError naming the lock holder. */
  instance(): Promise<DuckDBInstanceT> {
    if (!this.#instance) {
      this.#instanceKey = instanceKey(this.connectionSettings);
      this.#instance = acquireInstance(this.#instanceKey, this.connectionSettings);
      this.#instance.catch(() => {
        this.#instance = undefined;
        this.#instanceKey = undefined;
      });
    }
    return this.#instance;
  }

  async acquireRawConnection(): Promise<DuckDBConnection> {
    const connection = await (await this.instance()).connect();
    try {
      await setUtc(connection);
      if (!this.version) this.version = await this.checkVersion(connection);
      await this.setSchemaSearchPath(connection);
    } catch (error) {
      connection.closeSync();
      throw error;
    }
    return connection;
  }

  async destroyRawConnection(connection: DuckDBConnection): Promise<void> {
    connection.closeSync();
  }

  // knex's pool already drops connections it marked disposed; an open DuckDB connection stays valid
  // for as long as its instance is open.
  validateConnection(): boolean {
    return true;
  }

  async checkVersion(connection: DuckDBConnection): Promise<string> {
    const reader = await connection.runAndReadAll('select version() as version');
    return String(reader.getRows()[0][0]).replace(/^v/, '');
  }

  async setSchemaSearchPath(connection: DuckDBConnection, searchPath?: string | string[]): Promise<boolean> {
    const path = searchPath ?? this.searchPath;
    if (!path) return true;
    const list = (Array.isArray(path) ? path : [path]).map((p) => p.replace(/'/g, "''")).join(',');
    await connection.run(`set search_path = '${list}'`);
    return true;
  }

  async _query(connection: DuckDBConnection, obj: { sql: string; bindings?: unknown[]; response?: DuckDBResponse }) {
    if (!obj.sql) throw new Error('The query is empty');
    const values = (obj.bindings ?? []).map(toDuckDB);
    if (/^\s*commit\b/i.test(obj.sql)) await assertNotAborted(connection);
    // Without values DuckDB may run several ;-separated statements (migrations' raw SQL); with
    // values it prepares exactly one.
    const reader = values.length > 0 ? await connection.runAndReadAll(obj.sql, values) : await connection.runAndReadAll(obj.sql);
    obj.response = toResponse(reader);
    return obj;
  }

  async _stream(connection: DuckDBConnection, obj: { sql: string; bindings?: unknown[] }, stream: Writable): Promise<void> {
    if (!obj.sql) throw new Error('The query is empty');
    const result = await connection.stream(obj.sql, (obj.bindings ?? []).map(toDuckDB));
    const names = result.columnNames();
    const types = result.columnTypes();
    async function* rows() {
      for await (const chunk of result.yieldRows()) {
        for (const values of chunk) yield Object.fromEntries(values.map((v, c) => [names[c], fromDuckDB(v, types[c], fromDuckDB)]));
      }
    }
    const source = Readable.from(rows());
    await new Promise<void>((resolve, reject) => {
      source.on('error', (error) => {
        reject(error);
        stream.emit('error', error);
      });
      source.on('end', resolve);
      source.pipe(stream);
    });
  }

  cancelQuery(connection: DuckDBConnection): Promise<void> {
    connection.interrupt();
    return Promise.resolve();
  }

  async destroy(callback?: (error?: unknown) => void): Promise<void> {
    try {
      await super.destroy();
      if (this.#instance && this.#instanceKey) {
        const key = this.#instanceKey;
        this.#instance = undefined;
        this.#instanceKey = undefined;
        await releaseInstance(key);
      }
    } catch (error) {
      if (callback) return callback(error);
      throw error;
    }
    callback?.();
  }
}

Object.assign(DuckDBClient.prototype, { dialect: 'duckdb', driverName: '@duckdb/node-api', canCancelQuery: true });

/**
 * DuckDB answers COMMIT of a transaction that an earlier failure aborted by rolling back without an
 * error, so knex would report success for a batch that was never stored. Probe first and fail.
 */
async function assertNotAborted(connection: DuckDBConnection): Promise<void> {
  try {
    await connection.run('select 1');
  } catch (error) {
    await connection.run('rollback').catch(() => undefined);
    throw new Error('DuckDB had aborted the transaction (an earlier statement in it failed): nothing was committed', { cause: error });
  }
}

/**
 * Non-ICU DuckDB builds (ours: the icu extension is not bundled and cannot be downloaded offline)
 * only know UTC, and accept `SET TimeZone = 'UTC'`. If ICU is ever loaded, this pins the session
 * to UTC so TIMESTAMPTZ text renders and parses the same as on our pg connections.
 */
async function setUtc(connection: DuckDBConnection): Promise<void> {
  try {
    await connection.run(`set TimeZone = 'UTC'`);
  } catch (error) {
    if (!/icu/i.test(String((error as Error).message))) throw error;
  }
}
