// What the engine asks of a store. Two implementations share one knex-based core: DuckDB (embedded
// default, our own knex client) and PostgreSQL. Every write of a batch — raw records, canonical rows,
// quarantined records and the stream's new state — happens in one transaction, so a killed run
// leaves either all of a batch or none of it.
import type { Knex } from 'knex';
import type { CanonicalEvent, IdentifierLink, JsonObject, SpendRow, StreamState } from '../sdk/types.ts';

export type Dialect = 'duckdb' | 'postgres';

export interface StoreOptions {
  /**
   * `duckdb:///abs/path.duckdb`, `duckdb://relative.duckdb`, `duckdb://:memory:`, `postgres://…`
   * (`?schema=name` puts Touchpoint's tables in that PostgreSQL schema, created on migrate).
   */
  url: string;
  /** Open without write access (commands that only read). DuckDB allows many readers, one writer. */
  readOnly?: boolean;
  /** Base folder for relative DuckDB paths (the pipeline's project folder). */
  baseDir?: string;
  /** DuckDB's memory_limit (e.g. `2GB`); default TOUCHPOINT_DUCKDB_MEMORY_LIMIT, else 1GB (url.ts). */
  memoryLimit?: string;
}

export interface RawRecord {
  /** The record's primary key values joined with U+001F; the raw table's key. */
  pk: string;
  /** Cursor value when the stream has one (text, for ordering and inspection). */
  cursor?: string | null;
  record: JsonObject;
}

export interface QuarantinedRecord {
  reason: string;
  record: unknown;
}

export interface StoredEvent extends CanonicalEvent {
  /** `${source}:${stream}:${id}` — the stored, globally unique event_id. */
  event_id: string;
  /** The primary key of the raw record it came from (to replace a record's rows on re-load). */
  record_pk: string;
}

export interface StoredLink extends IdentifierLink {
  id: string;
  record_pk: string;
}

export interface StoredSpend extends SpendRow {
  record_pk: string;
}

export interface BatchWrite {
  runId: string;
  pipeline: string;
  source: string;
  stream: string;
  raw: RawRecord[];
  /**
   * Canonical rows of the records in `raw`. Before they are inserted, every canonical row earlier
   * loaded from the same (source, stream, record_pk) is deleted, so a changed record or mapping
   * never leaves stale rows behind.
   */
  events: StoredEvent[];
  links: StoredLink[];
  spend: StoredSpend[];
  quarantine: QuarantinedRecord[];
  /** Committed in the same transaction as the rows. */
  state?: StreamState;
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RunRecord {
  run_id: string;
  pipeline: string;
  started_at: string;
  ended_at: string | null;
  status: RunStatus;
  /** Rows per `source/stream`: { records, quarantined }. */
  rows: Record<string, { records: number; quarantined: number }>;
  error: string | null;
}

export interface StreamStateRow {
  pipeline: string;
  source: string;
  stream: string;
  state: StreamState;
  updated_at: string;
  run_id: string | null;
}

export interface Store {
  readonly dialect: Dialect;
  /** The URL with any password replaced by `***`. */
  readonly displayUrl: string;
  readonly knex: Knex;
  /** Applies pending versioned migrations (idempotent). */
  migrate(): Promise<void>;
  /** Creates `raw_<source>_<stream>` if it does not exist; returns its name. */
  ensureRawTable(source: string, stream: string): Promise<string>;
  writeBatch(batch: BatchWrite): Promise<void>;
  /**
   * After a full refresh of a stream: deletes its raw rows and canonical rows that the run `runId`
   * did not write (records gone from the source). Returns the number of raw rows deleted.
   */
  sweepStream(source: string, stream: string, runId: string): Promise<number>;

  getState(pipeline: string, source: string, stream: string): Promise<StreamState | undefined>;
  listState(pipeline: string): Promise<StreamStateRow[]>;
  resetState(pipeline: string, source: string, stream?: string): Promise<number>;

  startRun(run: { run_id: string; pipeline: string }): Promise<void>;
  finishRun(run: { run_id: string; status: RunStatus; rows: RunRecord['rows']; error?: string | null }): Promise<void>;
  listRuns(options?: { limit?: number; pipeline?: string }): Promise<RunRecord[]>;

  /** Row counts of the canonical and raw tables (for summaries and tests). */
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}
