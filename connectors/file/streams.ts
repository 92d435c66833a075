// The file connector's streams are declared by the user: each `streams:` entry becomes one stream
// with a record schema generated from its columns, a compiled `maps_to` mapping, and a reader that
// walks the matching files in sorted order, batch by batch, with resumable state. A `ga4-export`
// stream has no columns or mapping of its own: ga4-export.ts supplies the GA4 export's.
import { CancelledError, ConfigError, RunError } from '../../core/errors.ts';
import { defineStream } from '../../core/sdk/define.ts';
import type { JsonObject, JsonValue, ReadContext, RecordBatch, StreamDefinition } from '../../core/sdk/types.ts';
import { FileReadError, hasWildcard, listFiles, probe, readLines } from './client.ts';
import { buildRecord, normalizeColumns, recordSchema } from './columns.ts';
import type { Column, ColumnConfig } from './columns.ts';
import { CsvAssembler, isProblem } from './csv.ts';
import { checkCursor, cursorThreshold, keepRow, maxCursor, parseState, resumeLine, sameFingerprint } from './incremental.ts';
import type { CursorConfig, CursorState, FilesState, Fingerprint, Position } from './incremental.ts';
import { ga4ExportStream, ga4Parser } from './ga4-export.ts';
import type { Ga4ExportOptions } from './ga4-export.ts';
import { compileMapping } from './map.ts';
import { loadNative } from './native.ts';
import type { MapsTo } from './map.ts';

export interface CsvOptions {
  delimiter?: string;
  quote?: string;
  header?: boolean;
}

export interface FileStreamConfig {
  name: string;
  description?: string;
  path: string;
  format: 'ndjson' | 'csv' | 'ga4-export';
  csv?: CsvOptions;
  /** Required for ndjson and csv; not allowed for ga4-export. */
  columns?: Record<string, ColumnConfig>;
  /** Required for ndjson and csv; ga4-export: [event_id], which is also the default. */
  primary_key?: string[];
  incremental?: { mode: 'files' } | ({ mode: 'cursor' } & CursorConfig);
  maps_to?: MapsTo;
  /** ga4-export only: the mapping options of the ga4-bigquery connector. */
  ga4?: Ga4ExportOptions;
  batch_size?: number;
}

export interface FileConfig {
  streams: FileStreamConfig[];
  batch_size?: number;
}

export const DEFAULT_BATCH_SIZE = 5000;

/** Turns the config into stream definitions; config mistakes fail here, before any file is read. */
export function buildStreams(config: FileConfig): StreamDefinition<FileConfig>[] {
  const list = Array.isArray(config?.streams) ? config.streams : [];
  if (list.length === 0) throw new ConfigError('streams: declare at least one file stream', { hint: 'streams: [{ name, path, format, columns, primary_key }]' });
  const seen = new Set<string>();
  return list.map((s, i) => {
    const where = `streams[${i}]${typeof s?.name === 'string' ? ` (${s.name})` : ''}`;
    if (typeof s?.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(s.name)) throw new ConfigError(`${where}.name: must be snake_case`, { hint: 'e.g. web_events' });
    if (seen.has(s.name)) throw new ConfigError(`${where}.name: stream ${s.name} is declared twice`);
    seen.add(s.name);
    if (s.format === 'ga4-export') return ga4Definition(s, where, config);
    if (s.format !== 'ndjson' && s.format !== 'csv') throw new ConfigError(`${where}.format: must be ndjson, csv or ga4-export (got ${JSON.stringify(s.format)})`);
    if (s.ga4 !== undefined) throw new ConfigError(`${where}.ga4: only for format ga4-export`, { hint: 'describe the mapping of ndjson and csv streams under maps_to' });
    if (!Array.isArray(s.primary_key) || s.primary_key.length === 0) throw new ConfigError(`${where}.primary_key: list the column(s) that identify a record`);
    if (s.columns === undefined) throw new ConfigError(`${where}.columns: declare the columns to keep`, { hint: 'columns: { event_id: string, ts: timestamp }' });
    const columns = normalizeColumns(s.columns, s.primary_key, where);
    const mapping = compileMapping(s.maps_to, columns, s.primary_key, where);
    const incremental = s.incremental ?? { mode: 'files' as const };
    let cursorColumn: Column | undefined;
    if (incremental.mode === 'cursor') {
      cursorColumn = columns.find((c) => c.name === incremental.column);
      if (!cursorColumn) throw new ConfigError(`${where}.incremental.column: ${JSON.stringify(incremental.column)} is not a declared column`);
      checkCursor(incremental, cursorColumn, where);
    }
    const csv = { delimiter: s.csv?.delimiter ?? ',', quote: s.csv?.quote ?? '"', header: s.csv?.header ?? true };
    if (csv.delimiter === '' || csv.quote.length !== 1) throw new ConfigError(`${where}.csv: delimiter must be non-empty and quote one character`);
    const spec: ReaderSpec = { config: s, columns, csv, cursorColumn, batchSize: s.batch_size ?? config.batch_size };
    return defineStream<FileConfig>({
      name: s.name,
      description: s.description,
      primaryKey: s.primary_key,
      // CursorSpec.lookback is an ISO duration; a numeric cursor's lookback lives only in the config.
      cursor:
        incremental.mode === 'cursor'
          ? {
              field: incremental.column,
              lookback: typeof incremental.lookback === 'string' ? incremental.lookback : undefined,
              initial: incremental.initial === undefined ? undefined : String(incremental.initial),
            }
          : undefined,
      schema: recordSchema(columns),
      read: (ctx) => readStream(spec, ctx),
      map: s.maps_to ? (record) => mapping(record) : undefined,
      // DuckDB's own readers and the mapping compiled to SQL, when the store is DuckDB (native.ts).
      nativeLoad: (ctx) => loadNative(spec, ctx),
    });
  });
}

function ga4Definition(s: FileStreamConfig, where: string, config: FileConfig): StreamDefinition<FileConfig> {
  const ga4 = ga4ExportStream(s, where);
  const spec: ReaderSpec = { config: s, columns: [], csv: { delimiter: ',', quote: '"', header: true }, batchSize: s.batch_size ?? config.batch_size };
  return defineStream<FileConfig>({
    name: s.name,
    description: s.description,
    primaryKey: ga4.primaryKey,
    // As in the ga4-bigquery connector: the raw table's cursor column is the table date. The read
    // itself is incremental by files.
    cursor: { field: 'event_date' },
    schema: ga4.schema,
    read: (ctx) => readStream(spec, ctx),
    map: ga4.map,
  });
}

export interface ReaderSpec {
  config: FileStreamConfig;
  columns: Column[];
  csv: Required<CsvOptions>;
  cursorColumn?: Column;
  batchSize?: number;
}

type Rejected = NonNullable<RecordBatch['rejected']>[number];

/** Parses one file's lines into records and rejections; format-specific, otherwise pure. */
export interface LineParser {
  /** True until a CSV header has been read: header lines are parsed even when resuming past them. */
  readonly wantsHeader: boolean;
  /** A CSV quoted field spans lines: no checkpoint here. */
  readonly open: boolean;
  push(line: string, lineNo: number): void;
  end(lastLine: number): void;
}

export interface Sink {
  record(record: JsonObject): void;
  reject(line: number, problem: string, raw: string): void;
  /** The whole rest of the file is unusable (a CSV header without a required column). */
  abandon(line: number, problem: string): void;
}

/** One NDJSON line as an object; a blank line is skipped, anything else is rejected with its line. */
export function jsonObjectLine(line: string, lineNo: number, sink: Sink): JsonObject | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    sink.reject(lineNo, `not valid JSON (${(error as Error).message})`, line);
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    sink.reject(lineNo, 'not a JSON object', line);
    return undefined;
  }
  return value as JsonObject;
}

export function ndjsonParser(columns: Column[], sink: Sink): LineParser {
  // One getter per column, built once: a plain key, or a walk down a dot path.
  const getters = columns.map((c): ((o: JsonObject) => unknown) => {
    const path = c.from.split('.');
    if (path.length === 1) return (o) => o[c.from];
    return (o) => {
      let v: unknown = o;
      for (let k = 0; k < path.length && v !== null && v !== undefined; k++) v = typeof v === 'object' ? (v as JsonObject)[path[k]] : undefined;
      return v;
    };
  });
  return {
    wantsHeader: false,
    open: false,
    push(line, lineNo) {
      const obj = jsonObjectLine(line, lineNo, sink);
      if (!obj) return;
      const result = buildRecord(columns, (i) => getters[i](obj));
      if (typeof result === 'string') sink.reject(lineNo, result, line);
      else sink.record(result);
    },
    end() {},
  };
}

export function csvParser(columns: Column[], options: Required<CsvOptions>, sink: Sink, file: string, log: ReadContext['log']): LineParser {
  const assembler = new CsvAssembler(options.delimiter, options.quote);
  let index: number[] | undefined = options.header ? undefined : columns.map((_, i) => i);
  let width = columns.length;
  let abandoned = false;
  const handle = (got: ReturnType<CsvAssembler['push']>) => {
    if (!got || abandoned) return;
    if (isProblem(got)) return sink.reject(got.startLine, got.problem, got.raw);
    if (index === undefined) {
      const header = got.fields.map((h) => h.trim());
      index = columns.map((c) => header.indexOf(c.from));
      width = header.length;
      const missing = columns.filter((c, i) => index![i] === -1);
      const fatal = missing.filter((c) => c.required);
      if (fatal.length > 0) {
        abandoned = true;
        return sink.abandon(got.startLine, `the header has no column ${fatal.map((c) => c.from).join(', ')} (found: ${header.join(', ')}); the file is skipped`);
      }
      if (missing.length > 0) log.warn(`${file}: header has no column ${missing.map((c) => c.from).join(', ')}; those values are null`);
      return;
    }
    if (got.fields.length !== width) return sink.reject(got.startLine, `expected ${width} fields, got ${got.fields.length}`, got.raw);
    const idx = index;
    const result = buildRecord(columns, (i) => (idx[i] === -1 ? null : got.fields[idx[i]]));
    if (typeof result === 'string') sink.reject(got.startLine, result, got.raw);
    else sink.record(result);
  };
  return {
    get wantsHeader() {
      return index === undefined && !abandoned;
    },
    get open() {
      return assembler.open;
    },
    push: (line, lineNo) => handle(assembler.push(line, lineNo)),
    end: (lastLine) => handle(assembler.end(lastLine)),
  };
}

/** Reads all matching files; yields a batch every `batchSize` records (or rejections). */
async function* readStream(spec: ReaderSpec, ctx: ReadContext<FileConfig>): AsyncGenerator<RecordBatch> {
  const s = spec.config;
  const label = `${ctx.source}/${ctx.stream}`;
  // The engine's batch size (pipeline settings.batchSize), unless the stream sets its own.
  const fromEngine = ctx.options.batchSize;
  const batchSize = Math.max(1, spec.batchSize ?? fromEngine ?? DEFAULT_BATCH_SIZE);
  const mode = spec.cursorColumn ? 'cursor' : 'files';
  const parsed = parseState(ctx.fullRefresh ? {} : ctx.state, mode);
  if (parsed.discarded) ctx.log.warn(`${label}: stored state is from another incremental mode; reading from the start`);

  const listing = await listStreamFiles(s.path, ctx, label);
  if (!listing) return;

  // Progress so far, as it will be committed with the next batch.
  const files: FilesState['files'] = {};
  let cursor: CursorState | undefined;
  let threshold: JsonValue = null;
  let done = new Set<string>();
  // Something to commit even if no record comes: a finished file, a dropped entry, a stale position.
  let dirty = resumeFromState(parsed.state) !== undefined;
  if (parsed.state.mode === 'files') {
    // Files that no longer match are dropped from state: it does not grow forever.
    const known = parsed.state.files;
    for (const f of listing.files) if (known[f.key]) files[f.key] = known[f.key];
    if (Object.keys(files).length !== Object.keys(known).length) dirty = true;
  } else {
    cursor = parsed.state;
    threshold = cursorThreshold(s.incremental as CursorConfig, spec.cursorColumn!, cursor.cursor, ctx.options.startDate);
    done = new Set(cursor.pass?.done ?? []);
  }
  const resumeFrom = resumeFromState(parsed.state);
  let max: JsonValue = cursor?.pass?.max ?? cursor?.cursor ?? null;
  const cursorName = spec.cursorColumn?.name;

  let records: JsonObject[] = [];
  let rejected: Rejected[] = [];
  const snapshot = (current?: Position): JsonObject => {
    const state = cursor
      ? { mode: 'cursor', cursor: cursor.cursor, pass: { max, done: [...done], ...(current ? { current } : {}) } }
      : { mode: 'files', files: { ...files }, ...(current ? { current } : {}) };
    return state as unknown as JsonObject;
  };
  const take = (current?: Position): RecordBatch => {
    const batch: RecordBatch = { records, state: snapshot(current) };
    if (rejected.length > 0) batch.rejected = rejected;
    records = [];
    rejected = [];
    dirty = false;
    return batch;
  };

  for (const file of listing.files) {
    if (done.has(file.key)) continue;
    const where = file.key;
    let probed: { fingerprint: Fingerprint; gzip: boolean };
    try {
      probed = await probe(file.path);
    } catch (error) {
      throw new RunError(`cannot read ${file.path}: ${(error as Error).message}`, { where: label, cause: error });
    }
    const fp = probed.fingerprint;
    if (!cursor && sameFingerprint(files[file.key], fp)) continue;
    const skipTo = resumeLine(resumeFrom, file.key, fp);
    if (resumeFrom?.file === file.key && skipTo === 0) ctx.log.warn(`${label}: ${where} changed since the interrupted run; reading it again from the start`);

    let abandoned = false;
    const sink: Sink = {
      record: (r) => {
        if (cursorName && !keepRow(r[cursorName], threshold)) return;
        if (cursorName) max = maxCursor(max, r[cursorName]);
        records.push(r);
      },
      reject: (line, problem, raw) => rejected.push({ reason: `${where}:${line}: ${problem}`, record: { file: where, line, raw } }),
      abandon: (line, problem) => {
        abandoned = true;
        rejected.push({ reason: `${where}:${line}: ${problem}`, record: { file: where, line } });
      },
    };
    const parser =
      s.format === 'csv' ? csvParser(spec.columns, spec.csv, sink, where, ctx.log) : s.format === 'ga4-export' ? ga4Parser(sink) : ndjsonParser(spec.columns, sink);
    let lineNo = 0;
    try {
      read: for await (const lines of readLines(file.path, { gzip: probed.gzip, signal: ctx.signal })) {
        for (const line of lines) {
          lineNo++;
          if (lineNo <= skipTo && !parser.wantsHeader) continue;
          parser.push(line, lineNo);
          if (abandoned) break read;
          if (records.length + rejected.length >= batchSize && !parser.open) {
            if (ctx.signal.aborted) break read;
            yield take({ file: file.key, line: lineNo, fingerprint: fp });
          }
        }
        if (ctx.signal.aborted) break;
      }
      if (!abandoned) parser.end(lineNo);
    } catch (error) {
      if (ctx.signal.aborted) throw new CancelledError(undefined, { where: label, cause: error });
      if (!(error instanceof FileReadError)) throw error;
      if (!error.corrupt) throw new RunError(`cannot read ${file.path}: ${error.message}`, { where: label, cause: error });
      // A truncated or corrupt gzip stream: keep what was read, record the loss, move on.
      rejected.push({ reason: `${where}:${lineNo + 1}: cannot read past line ${lineNo}: ${error.message}`, record: { file: where, line: lineNo + 1 } });
    }
    if (ctx.signal.aborted) throw new CancelledError(undefined, { where: label });
    if (cursor) done.add(file.key);
    else files[file.key] = fp;
    dirty = true;
    if (records.length + rejected.length >= batchSize) yield take();
  }

  if (cursor) {
    // The pass is complete: the new committed cursor is the highest value kept.
    const end: CursorState = { mode: 'cursor', cursor: max };
    yield { ...take(), state: end as unknown as JsonObject };
  } else if (dirty || records.length > 0 || rejected.length > 0) {
    yield take();
  }
}

/** The stream's files in read order; undefined (with a warning) when the glob matches none. */
export async function listStreamFiles(path: string, ctx: Pick<ReadContext, 'resolvePath' | 'log'>, label: string): Promise<Awaited<ReturnType<typeof listFiles>> | undefined> {
  const pattern = ctx.resolvePath(path);
  let listing: Awaited<ReturnType<typeof listFiles>>;
  try {
    listing = await listFiles(pattern);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RunError(`cannot read ${path} (${pattern}): ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
      where: label,
      hint: hasWildcard(path) ? undefined : 'paths are relative to the pipeline file; use a glob (*.csv) if the file may be absent',
      cause: error,
    });
  }
  if (listing.files.length === 0) {
    ctx.log.warn(`${label}: no file matches ${path} (${pattern}); nothing to read`);
    return undefined;
  }
  return listing;
}

function resumeFromState(state: FilesState | CursorState): Position | undefined {
  return state.mode === 'files' ? state.current : state.pass?.current;
}
