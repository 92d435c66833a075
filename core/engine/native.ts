// The engine's side of a native load (StreamDefinition.nativeLoad): the context a stream gets to
// load itself inside the store — a transaction whose staged rows core/store/staged.ts stores as
// writeBatch would, the read path's verdict on a record (to quarantine it for the same reason), and
// identifier normalisation as SQL. The SQL mirrors core/identity/normalize.ts rule by rule for the
// rules SQL reproduces exactly; for phones (libphonenumber) and hashed forms it returns undefined
// and the stream is read the ordinary way.
import type { LoadedPipeline } from '../config/types.ts';
import { normalizeRuleOf, resolveIdentityConfig } from '../identity/config.ts';
import { createRecordValidator, recordPk } from '../sdk/records.ts';
import type { IdentifierSql, JsonObject, Logger, NativeLoadContext, ReadContext, StreamState } from '../sdk/types.ts';
import { nativeSql, writeStaged } from '../store/staged.ts';
import type { Store } from '../store/types.ts';
import type { PlannedStream } from './extract.ts';
import type { ProgressListener, StreamProgress } from './progress.ts';

export interface NativeLoadOptions {
  store: Store;
  pipeline: LoadedPipeline;
  runId: string;
  log: Logger;
  signal: AbortSignal;
  progress?: ProgressListener;
  state: StreamState;
  fullRefresh: boolean;
  /** The read context extractStream built; on `rest` its state moves to what the load committed. */
  ctx: ReadContext<any>;
  /** extractStream's progress of this stream, updated in place. */
  streamProgress: StreamProgress;
  droppedIds: Map<string, number>;
  /** The read path's record → stored rows (extract.ts toStoredRows with the pipeline's normaliser). */
  storedRows: (record: JsonObject, pk: string) => unknown;
}

/**
 * Runs the stream's native load when it has one and the store is DuckDB. True when it loaded the
 * whole stream; false when the read path must run — for everything (it could not load natively)
 * or for what is left (`rest`: the read context then carries the state the load committed).
 */
export async function loadNatively(planned: PlannedStream, o: NativeLoadOptions): Promise<boolean> {
  const { stream, source } = planned;
  if (!stream.nativeLoad || o.store.dialect !== 'duckdb') return false;
  const rawTable = await o.store.ensureRawTable(source.name, stream.name);
  const validate = createRecordValidator(stream.schema);
  const identity = resolveIdentityConfig(o.pipeline.config.identity);
  const pipeline = o.pipeline.config.name;
  const target = { runId: o.runId, pipeline, source: source.name, stream: stream.name, rawTable };
  const progress = o.streamProgress;
  const ctx: NativeLoadContext<any> = {
    pipeline,
    source: source.name,
    stream: stream.name,
    runId: o.runId,
    config: source.config,
    state: o.state,
    fullRefresh: o.fullRefresh,
    log: o.log,
    signal: o.signal,
    resolvePath: o.ctx.resolvePath,
    options: o.ctx.options,
    dialect: 'duckdb',
    rawTable,
    transaction: (work) =>
      o.store.knex.transaction(async (trx) => {
        const sql = await nativeSql(trx);
        return work(sql, async (staged) => {
          await writeStaged(trx, sql, target, staged);
        });
      }),
    identifierSql: (type) => identifierSql(identity, type),
    explain(record) {
      const reason = validate(record);
      if (reason) return `schema: ${reason}`;
      const pk = recordPk(record, stream.primaryKey);
      if (typeof pk !== 'string') return pk.error;
      if (!stream.map) return undefined;
      try {
        const rows = o.storedRows(record, pk);
        return typeof rows === 'string' ? rows : undefined;
      } catch (error) {
        return `mapping failed: ${(error as Error).message}`;
      }
    },
    progress(records, quarantined) {
      progress.records = records;
      progress.quarantined = quarantined;
      o.progress?.batchWritten?.(progress);
    },
  };
  const result = await stream.nativeLoad(ctx);
  if (!result) return false;
  progress.records = result.records;
  progress.quarantined = result.quarantined;
  for (const [key, n] of Object.entries(result.dropped ?? {})) o.droppedIds.set(key, (o.droppedIds.get(key) ?? 0) + n);
  if (!result.rest) return true;
  // The rest is read the ordinary way from what the native load committed (the same state shape).
  o.ctx.state = (await o.store.getState(pipeline, source.name, stream.name)) ?? {};
  o.ctx.fullRefresh = false;
  return false;
}

// JavaScript's String.prototype.trim() and \s: WhiteSpace and LineTerminator (ECMA-262 §12.2, §12.3).
const JS_SPACE_CHARS = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff];
// Guarded: DuckDB's trim() with a character set is slow, and most values need none.
const SPACES = `'${String.fromCodePoint(...JS_SPACE_CHARS)}'`;
const jsTrim = (x: string) => `(case when contains(${SPACES}, left(${x}, 1)) or contains(${SPACES}, right(${x}, 1)) then trim(${x}, ${SPACES}) else ${x} end)`;
const RE_SPACE = JS_SPACE_CHARS.map((c) => `\\x{${c.toString(16)}}`).join('');
const EMAIL = `^[^${RE_SPACE}@]+@[^${RE_SPACE}@]+\\.[^${RE_SPACE}@]+$`;
const SHA256 = '^[0-9a-f]{64}$';
const GA_COOKIE = '(?i)^GA[0-9]+\\.[0-9]+\\.([0-9]+\\.[0-9]+)$';
const MAX_VALUE_LENGTH = 512;

/**
 * normalize.ts's normalizeValue + createNormalizer for one identifier type, as SQL: `normalize` over
 * the value as the mapping gives it (text, null when absent), the rest over that normalised text.
 * Exact for trim, email, ga_client_id, lowercase, digits and sha256; `unsure` marks values where
 * DuckDB's lower() differs from toLowerCase() (U+0130 İ, and Σ with its final form).
 */
export function identifierSql(identity: ReturnType<typeof resolveIdentityConfig>, rawType: string): IdentifierSql | undefined {
  const type = rawType.trim().toLowerCase();
  if (type === '') return { normalize: () => 'null::text', type: () => 'null::text', value: () => 'null::text', dropped: () => 'null::text', unsure: () => 'false' };
  const rule = normalizeRuleOf(type, identity.types);
  // Hashed forms are added by the read path only (sha256 of the normalised value): not attempted here.
  if (rule === 'phone' || identity.hash.includes(type) || identity.hash.includes(`${type}_sha256`)) return undefined;
  let normalize: (n: string) => string = (n) => n;
  let invalid: ((v: string) => string) | undefined;
  let reason = '';
  let lowered = false;
  switch (rule) {
    case 'email':
      normalize = (n) => `lower(case when ${n} ilike 'mailto:%' then ${jsTrim(`${n}[8:]`)} else ${n} end)`;
      invalid = (v) => `(not regexp_matches(${v}, '${SHA256}') and not regexp_matches(${v}, '${EMAIL}'))`;
      reason = 'invalid_email';
      lowered = true;
      break;
    case 'ga_client_id':
      normalize = (n) => `coalesce(nullif(regexp_extract(${n}, '${GA_COOKIE}', 1), ''), ${n})`;
      break;
    case 'sha256':
      normalize = (n) => `lower(${n})`;
      invalid = (v) => `(not regexp_matches(${v}, '${SHA256}'))`;
      reason = 'invalid_hash';
      lowered = true;
      break;
    case 'lowercase':
      normalize = (n) => `lower(${n})`;
      lowered = true;
      break;
    case 'digits':
      normalize = (n) => `regexp_replace(${n}, '[^0-9]', '', 'g')`;
      break;
  }
  // String length in UTF-16 code units, as JavaScript counts it: astral characters count twice.
  const tooLong = (v: string) =>
    `(case when strlen(${v}) > ${MAX_VALUE_LENGTH} then length(${v}) + length(regexp_replace(${v}, '[^\\x{10000}-\\x{10FFFF}]', '', 'g')) > ${MAX_VALUE_LENGTH} else false end)`;
  const quoted = `'${type.replace(/'/g, "''")}'`;
  return {
    normalize: (value) => normalize(jsTrim(`nfc_normalize(${value})`)),
    // A source that already hashed its emails (a 64-hex "email") joins the hashed form.
    type: (v) => (type === 'email' ? `case when regexp_matches(coalesce(${v}, ''), '${SHA256}') then 'email_sha256' else ${quoted} end` : quoted),
    value: (v) => `case when ${v} is null or ${v} = ''${invalid ? ` or ${invalid(v)}` : ''} or ${tooLong(v)} then null else ${v} end`,
    dropped: (v) => `case when ${v} is null or ${v} = '' then null${invalid ? ` when ${invalid(v)} then '${reason}'` : ''} when ${tooLong(v)} then 'too_long' end`,
    unsure: (value) => (lowered ? `coalesce(contains(${value}, chr(304)) or contains(${value}, chr(931)), false)` : 'false'),
  };
}
