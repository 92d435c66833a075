// The native load of a file stream (StreamDefinition.nativeLoad): on DuckDB, each file is read by
// DuckDB itself (read_csv, NDJSON as lines parsed with from_json), typed, checked and mapped in SQL
// (native-sql.ts), and stored in one transaction per file with the stream's state — the same files,
// the same state shape and the same rows as the read path (streams.ts), so the two can alternate
// across runs. What SQL cannot decide exactly stays with JavaScript:
//  - a mapping SQL cannot express (sql-map.ts NotCompilable), phone identifiers or hashed forms:
//    the stream is read the ordinary way (undefined);
//  - rows the parsers reject: the file is also parsed by the read path's parsers, which give the
//    quarantine reasons (`file:line: …`) and must agree on the counts;
//  - records the engine would quarantine: `explain` (the engine's own checks) gives the reason;
//  - a value where SQL may differ (sql-values.ts `unsure`), a disagreement, a file DuckDB cannot
//    read: nothing of that file is stored, and the rest of the stream is read the ordinary way
//    (`rest`), from the state committed so far.
import { CancelledError } from '../../core/errors.ts';
import type { JsonObject, JsonValue, Logger, NativeLoadContext, NativeLoadResult, StagedRows } from '../../core/sdk/types.ts';
import { FileReadError, probe, readLines } from './client.ts';
import type { MatchedFile } from './client.ts';
import { CsvAssembler, isProblem } from './csv.ts';
import { cursorThreshold, maxCursor, parseState, sameFingerprint } from './incremental.ts';
import type { CursorConfig, CursorState, FilesState } from './incremental.ts';
import { csvSpacedQuotesSql, droppedSql, GOOD, planRecords, recordTableSql, stagedViews } from './native-sql.ts';
import type { FileRead, RecordPlan } from './native-sql.ts';
import { NotCompilable } from './sql-map.ts';
import { csvParser, listStreamFiles, ndjsonParser } from './streams.ts';
import type { FileConfig, ReaderSpec, Sink } from './streams.ts';

/** The rest of the stream goes to the read path; nothing of the current file was stored. */
class Handoff extends Error {
  /** Worth a warning: DuckDB failed, rather than a value it might read differently. */
  readonly loud: boolean;
  constructor(message: string, loud = false) {
    super(message);
    this.loud = loud;
  }
}

type Quarantined = StagedRows['quarantine'][number];

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
let units = 0;

/** Why this stream cannot load natively at all (undefined: it can try). */
export function unsupported(spec: ReaderSpec): string | undefined {
  const s = spec.config;
  if (s.format !== 'ndjson' && s.format !== 'csv') return `format ${s.format}`;
  if (spec.columns.some((c) => c.name === '__proto__')) return 'a column named __proto__';
  if (s.format === 'ndjson') {
    for (const c of spec.columns) {
      const keys = c.from.split('.');
      // JavaScript would find inherited members (constructor, toString …) and array elements there.
      if (keys.some((k) => k in Object.prototype) || keys.slice(1).some((k) => /^\d+$/.test(k))) return `column ${c.name} reads ${c.from}`;
    }
  } else {
    if (new TextEncoder().encode(spec.csv.delimiter).length > 4) return 'a delimiter longer than 4 bytes';
    if (!/^[\x20-\x7e]$/.test(spec.csv.quote)) return 'a quote character outside ASCII';
  }
  return undefined;
}

export async function loadNative(spec: ReaderSpec, ctx: NativeLoadContext<FileConfig>): Promise<NativeLoadResult | undefined> {
  const s = spec.config;
  const label = `${ctx.source}/${ctx.stream}`;
  const why = unsupported(spec);
  if (why) {
    ctx.log.info(`${label}: read record by record (${why})`);
    return undefined;
  }
  let plan: RecordPlan;
  try {
    plan = planRecords(spec.columns, s.primary_key ?? [], spec.cursorColumn, s.maps_to, (type) => ctx.identifierSql(type));
  } catch (error) {
    if (!(error instanceof NotCompilable)) throw error;
    ctx.log.info(`${label}: read record by record (the mapping stays in JavaScript: ${error.message})`);
    return undefined;
  }
  // Row numbers follow the file only while DuckDB preserves insertion order (its default).
  const ordered = await ctx.transaction(async (sql) => (await sql.query(`select current_setting('preserve_insertion_order') as v`))[0].v);
  if (ordered !== true) {
    ctx.log.info(`${label}: read record by record (DuckDB's preserve_insertion_order is off)`);
    return undefined;
  }

  const mode = spec.cursorColumn ? 'cursor' : 'files';
  const parsed = parseState(ctx.fullRefresh ? {} : ctx.state, mode);
  if (parsed.discarded) ctx.log.warn(`${label}: stored state is from another incremental mode; reading from the start`);
  const listing = await listStreamFiles(s.path, ctx, label);
  const result: NativeLoadResult = { records: 0, quarantined: 0, dropped: {} };
  if (!listing) return result;

  // The state as the read path keeps it (streams.ts readStream), committed with each file.
  const files: FilesState['files'] = {};
  let cursor: CursorState | undefined;
  let threshold: JsonValue = null;
  let done = new Set<string>();
  let dirty = (parsed.state.mode === 'files' ? parsed.state.current : parsed.state.pass?.current) !== undefined;
  if (parsed.state.mode === 'files') {
    const known = parsed.state.files;
    for (const f of listing.files) if (known[f.key]) files[f.key] = known[f.key];
    if (Object.keys(files).length !== Object.keys(known).length) dirty = true;
  } else {
    cursor = parsed.state;
    threshold = cursorThreshold(s.incremental as CursorConfig, spec.cursorColumn!, cursor.cursor, ctx.options.startDate);
    done = new Set(cursor.pass?.done ?? []);
  }
  let max: JsonValue = cursor?.pass?.max ?? cursor?.cursor ?? null;

  try {
    for (const file of listing.files) {
      if (ctx.signal.aborted) throw new CancelledError(undefined, { where: label });
      if (done.has(file.key)) continue;
      const probed = await probe(file.path);
      if (!cursor && sameFingerprint(files[file.key], probed.fingerprint)) continue;
      // The state this file commits, computed inside its transaction once its maximum is known.
      const stateAfter = (fileMax: JsonValue | undefined): JsonObject => {
        if (cursor) return { mode: 'cursor', cursor: cursor.cursor, pass: { max: maxCursor(max, fileMax), done: [...done, file.key] } } as unknown as JsonObject;
        return { mode: 'files', files: { ...files, [file.key]: probed.fingerprint } } as unknown as JsonObject;
      };
      const got = await loadFile({ spec, plan, ctx, file, gzip: probed.gzip, threshold }, stateAfter);
      max = maxCursor(max, got.max);
      if (cursor) done.add(file.key);
      else files[file.key] = probed.fingerprint;
      dirty = false;
      result.records += got.records;
      result.quarantined += got.quarantined;
      for (const [key, n] of Object.entries(got.dropped)) result.dropped![key] = (result.dropped![key] ?? 0) + n;
      ctx.progress(result.records, result.quarantined);
    }
    // A cursor pass that completes commits its maximum; files mode only what changed.
    if (cursor) await commitState(ctx, { mode: 'cursor', cursor: max } as unknown as JsonObject);
    else if (dirty) await commitState(ctx, { mode: 'files', files } as unknown as JsonObject);
  } catch (error) {
    if (!(error instanceof Handoff)) throw error;
    ctx.log[error.loud ? 'warn' : 'info'](`${label}: ${error.message}; the rest of the stream is read record by record`);
    return { ...result, rest: true };
  }
  return result;
}

/** Commits a state with no rows (files that vanished from the glob, the end of a cursor pass). */
async function commitState(ctx: NativeLoadContext<FileConfig>, state: JsonObject): Promise<void> {
  await ctx.transaction(async (sql, write) => {
    const view = `_tp_n${++units}_raw`;
    await sql.query(`create or replace temp view ${view} as select null::varchar as _pk, null::varchar as _cursor, null::varchar as _record, null::bigint as _ord where false`);
    await write({ raw: view, quarantine: [], state });
    await sql.query(`drop view ${view}`);
  });
}

interface FileJob {
  spec: ReaderSpec;
  plan: RecordPlan;
  ctx: NativeLoadContext<FileConfig>;
  file: MatchedFile;
  gzip: boolean;
  threshold: JsonValue;
}

interface FileLoad {
  records: number;
  quarantined: number;
  dropped: Record<string, number>;
  /** The highest cursor value among the file's kept records (undefined: none). */
  max?: JsonValue;
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0];

/**
 * One file in one transaction: DuckDB reads and maps it into a record table; the rows the parsers
 * or the engine reject get their reasons from JavaScript; the rest is stored with `stateAfter`.
 */
async function loadFile(job: FileJob, stateAfter: (max: JsonValue | undefined) => JsonObject): Promise<FileLoad> {
  const { spec, plan, ctx, file } = job;
  const s = spec.config;
  // DuckDB's readers take a path as a glob: a name with glob characters could match other files.
  if (/[*?[\]{}]/.test(file.path)) throw new Handoff(`${file.key}: its name has glob characters`);
  let read: FileRead;
  const id = `_tp_n${++units}`;
  if (s.format === 'csv') {
    const header = spec.csv.header ? await readHeader(file.path, job.gzip, spec) : { fields: spec.columns.map((c) => c.from), lines: 0 };
    if (header === undefined) return { records: 0, quarantined: 0, dropped: {}, ...(await emptyFile(ctx, stateAfter)) };
    if ('problem' in header) throw new Handoff(`${file.key}: ${header.problem}`);
    if (spec.csv.header) {
      const missing = spec.columns.filter((c) => !header.fields.includes(c.from));
      if (missing.some((c) => c.required)) throw new Handoff(`${file.key}: the header lacks a required column`);
      if (missing.length > 0) ctx.log.warn(`${file.key}: header has no column ${missing.map((c) => c.from).join(', ')}; those values are null`);
    }
    read = { path: file.path, gzip: job.gzip, format: 'csv', header: header.fields, positional: !spec.csv.header, skip: header.lines, delimiter: spec.csv.delimiter, quote: spec.csv.quote, rejectsTable: `${id}_rj`, rejectsScan: `${id}_rs` };
  } else {
    read = { path: file.path, gzip: job.gzip, format: 'ndjson', rejectsTable: `${id}_rj`, rejectsScan: `${id}_rs` };
  }
  const table = `${id}_rec`;
  const views = stagedViews(table, plan, id);
  return ctx.transaction(async (sql, write) => {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      try {
        await sql.query(recordTableSql(table, { plan, read, threshold: job.threshold as string | number | null }));
      } catch (error) {
        throw new Handoff(`DuckDB cannot read ${file.key} (${firstLine(error)})`, true);
      }
      const parsedOk = `not _blank and not _bad_parse`;
      const [agg] = await sql.query(`select
          count(*) filter (where not _blank and _bad_parse) as bad_parse,
          count(*) filter (where ${parsedOk}) as parsed,
          count(*) filter (where ${parsedOk} and (_unsure_values or (_keep and _unsure_map))) as unsure,
          count(*) filter (where ${parsedOk} and _keep and (_bad_schema or _bad_map)) as bad_engine,
          count(*) filter (where ${GOOD}) as good,
          max(_cv) filter (where ${parsedOk} and _keep) as max,
          (select count(distinct line) from ${read.rejectsTable}) as rejected
        from ${table}`);
      const n = (k: string) => Number(agg[k] ?? 0);
      if (n('unsure') > 0) throw new Handoff(`${file.key} has ${n('unsure')} value(s) that SQL might read differently`);
      if (read.format === 'csv') {
        const spaced = await sql.query(csvSpacedQuotesSql({ ...read, rejectsTable: `${id}_rj2`, rejectsScan: `${id}_rs2` })).catch((error: unknown) => {
          throw new Handoff(`DuckDB cannot read ${file.key} as lines (${firstLine(error)})`, true);
        });
        if (Number(spaced[0].n) > 0) throw new Handoff(`${file.key} has spaces around quoted fields, which DuckDB reads differently`);
      }
      const quarantine: Quarantined[] = [];
      if (n('bad_parse') + n('rejected') > 0) {
        // The read path's parsers decide what is rejected and why; DuckDB must have seen the same.
        const js = await parseWithJs(job);
        if (js.rejected.length !== n('bad_parse') + n('rejected') || js.records !== n('parsed')) {
          throw new Handoff(`${file.key}: DuckDB and the JavaScript parser disagree on its rows (${n('bad_parse') + n('rejected')} vs ${js.rejected.length} rejected)`);
        }
        quarantine.push(...js.rejected);
      }
      if (n('bad_engine') > 0) {
        const rows = await sql.query(`select _record from ${table} where ${parsedOk} and _keep and (_bad_schema or _bad_map) order by _rn`);
        for (const row of rows) {
          const record = (typeof row._record === 'string' ? JSON.parse(row._record) : row._record) as JsonObject;
          const reason = ctx.explain(record);
          if (reason === undefined) throw new Handoff(`${file.key}: a record SQL would quarantine is valid to the read path`);
          quarantine.push({ reason, record });
        }
      }
      const checked = ms();
      for (const v of views) await sql.query(`create or replace temp view ${v.name} as ${v.sql}`);
      const max = agg.max === null || agg.max === undefined ? undefined : (agg.max as JsonValue);
      const relations = Object.fromEntries(views.map((v) => [v.key, v.name])) as Omit<StagedRows, 'quarantine' | 'state'>;
      await write({ ...relations, quarantine, state: stateAfter(max) });
      const dropped: Record<string, number> = {};
      const droppedQuery = droppedSql(table, plan);
      if (droppedQuery) for (const r of await sql.query(droppedQuery)) dropped[`${r.t}: ${r.reason}`] = Number(r.n);
      ctx.log.debug(`${file.key}: ${n('good')} record(s) natively`, { read_and_checked_ms: checked, stored_ms: ms() - checked });
      return { records: n('good'), quarantined: quarantine.length, dropped, max };
    } finally {
      for (const v of views) await sql.query(`drop view if exists ${v.name}`).catch(() => undefined);
      for (const t of [table, read.rejectsTable, read.rejectsScan, `${id}_rj2`, `${id}_rs2`]) await sql.query(`drop table if exists ${t}`).catch(() => undefined);
    }
  });
}

/** A CSV file without even a header: nothing to read, the file is done. */
async function emptyFile(ctx: NativeLoadContext<FileConfig>, stateAfter: (max: JsonValue | undefined) => JsonObject): Promise<Record<string, never>> {
  await commitState(ctx, stateAfter(undefined));
  return {};
}

/** The CSV header (names trimmed, as csvParser does) and the physical lines it spans. */
async function readHeader(path: string, gzip: boolean, spec: ReaderSpec): Promise<{ fields: string[]; lines: number } | { problem: string } | undefined> {
  const assembler = new CsvAssembler(spec.csv.delimiter, spec.csv.quote);
  let lineNo = 0;
  for await (const lines of readLines(path, { gzip })) {
    for (const line of lines) {
      const got = assembler.push(line, ++lineNo);
      if (!got) continue;
      if (isProblem(got)) return { problem: `the header on line ${got.startLine} is not valid CSV (${got.problem})` };
      return { fields: got.fields.map((h) => h.trim()), lines: lineNo };
    }
  }
  const end = assembler.end(lineNo);
  return end ? { problem: `the header is not valid CSV (${end.problem})` } : undefined;
}

/** The read path's parsing of one file (streams.ts parsers): its rejections, exactly, and how many records it makes. */
async function parseWithJs(job: FileJob): Promise<{ rejected: Quarantined[]; records: number }> {
  const { spec, file } = job;
  const where = file.key;
  const rejected: Quarantined[] = [];
  let records = 0;
  const sink: Sink = {
    record: () => void records++,
    reject: (line, problem, raw) => void rejected.push({ reason: `${where}:${line}: ${problem}`, record: { file: where, line, raw } }),
    abandon: (line, problem) => void rejected.push({ reason: `${where}:${line}: ${problem}`, record: { file: where, line } }),
  };
  const parser = spec.config.format === 'csv' ? csvParser(spec.columns, spec.csv, sink, where, quiet) : ndjsonParser(spec.columns, sink);
  let lineNo = 0;
  try {
    for await (const lines of readLines(file.path, { gzip: job.gzip, signal: job.ctx.signal })) {
      for (const line of lines) parser.push(line, ++lineNo);
    }
    parser.end(lineNo);
  } catch (error) {
    if (!(error instanceof FileReadError) || !error.corrupt) throw error;
    rejected.push({ reason: `${where}:${lineNo + 1}: cannot read past line ${lineNo}: ${error.message}`, record: { file: where, line: lineNo + 1 } });
  }
  return { rejected, records };
}
