// Extract and load, streamed: each batch a stream yields is validated, mapped to canonical rows and
// written — raw rows, canonical rows, quarantined records and the stream's new state — in one store
// transaction before the next batch is read. A killed run therefore resumes from its last committed
// batch, and upserts by primary key make a re-read batch harmless (no duplicates, no gaps).
import type { LoadedPipeline, SourceConfig } from '../config/types.ts';
import { redact } from '../config/secrets.ts';
import { CancelledError, RunError, TouchpointError, toTouchpointError } from '../errors.ts';
import { createHttpClient } from '../sdk/http.ts';
import { createRecordValidator, cursorValue, recordPk } from '../sdk/records.ts';
import { createNormalizer, normalizerFor } from '../identity/normalize.ts';
import type { IdentifierNormalizer } from '../identity/normalize.ts';
import type {
  CanonicalRows,
  ConnectorDefinition,
  JsonObject,
  Logger,
  RetryPolicy,
  StreamDefinition,
} from '../sdk/types.ts';
import type { BatchWrite, QuarantinedRecord, Store, StoredEvent, StoredLink, StoredSpend } from '../store/types.ts';
import { loadNatively } from './native.ts';
import type { ProgressListener, StreamProgress } from './progress.ts';
import { isAbsolute, resolve } from 'node:path';

export interface ExtractOptions {
  store: Store;
  pipeline: LoadedPipeline;
  runId: string;
  log: Logger;
  signal: AbortSignal;
  progress?: ProgressListener;
  /** true: every stream; a list: only these (`source/stream` or `stream`). */
  fullRefresh?: boolean | string[];
  retry: RetryPolicy;
  /** false: never load natively (core/engine/native.ts); also TOUCHPOINT_NATIVE_LOAD=off. */
  native?: boolean;
}

export interface PlannedStream {
  source: SourceConfig;
  connector: ConnectorDefinition<any>;
  stream: StreamDefinition<any, any>;
}

const EVENT_KINDS = new Set(['touch', 'conversion', 'other']);
const defaultNormalizer = createNormalizer();

export function streamsOf(connector: ConnectorDefinition<any>, source: SourceConfig): StreamDefinition<any, any>[] {
  const all = typeof connector.streams === 'function' ? connector.streams(source.config) : connector.streams;
  if (!source.streams || source.streams.length === 0) return all;
  const byName = new Map(all.map((s) => [s.name, s]));
  return source.streams.map((name) => {
    const s = byName.get(name);
    if (!s) {
      throw new RunError(`source "${source.name}" has no stream "${name}"`, {
        hint: `connector ${connector.name} offers: ${[...byName.keys()].join(', ')}`,
      });
    }
    return s;
  });
}

export function isFullRefresh(option: ExtractOptions['fullRefresh'], source: string, stream: string): boolean {
  if (option === true) return true;
  if (!option) return false;
  return option.includes(`${source}/${stream}`) || option.includes(stream) || option.includes(source);
}

/**
 * Turns one record's canonical rows into stored rows, or a reason it cannot be stored. Identifiers
 * go through the pipeline's normaliser (core/identity/normalize.ts); those it drops are counted in
 * `dropped` (`type: reason` → n) for the stream's report.
 */
export function toStoredRows(
  rows: CanonicalRows,
  source: string,
  stream: string,
  pk: string,
  normalize: IdentifierNormalizer = defaultNormalizer,
  dropped?: Map<string, number>,
): { events: StoredEvent[]; links: StoredLink[]; spend: StoredSpend[] } | string {
  const cleanIdentifiers = (ids: readonly { type: string; value: unknown }[] | undefined) => {
    const result = normalize(ids);
    for (const d of result.dropped) {
      if (d.reason !== 'empty') dropped?.set(`${d.type}: ${d.reason}`, (dropped.get(`${d.type}: ${d.reason}`) ?? 0) + 1);
    }
    return result.identifiers;
  };
  const events: StoredEvent[] = [];
  for (const e of rows.events ?? []) {
    if (e.id === undefined || e.id === null || e.id === '') return 'mapping: event without id';
    if (!EVENT_KINDS.has(e.kind)) return `mapping: event kind must be touch, conversion or other (got ${JSON.stringify(e.kind)})`;
    if (!e.name) return 'mapping: event without name';
    const t = Date.parse(e.occurred_at);
    if (Number.isNaN(t)) return `mapping: occurred_at is not a timestamp (got ${JSON.stringify(e.occurred_at)})`;
    if (e.value !== undefined && e.value !== null && !Number.isFinite(e.value)) return `mapping: value must be a number (got ${JSON.stringify(e.value)})`;
    events.push({
      ...e,
      id: String(e.id),
      occurred_at: new Date(t).toISOString(),
      identifiers: cleanIdentifiers(e.identifiers),
      event_id: `${source}:${stream}:${e.id}`,
      record_pk: pk,
    });
  }
  const links: StoredLink[] = [];
  const linkList = rows.links ?? [];
  linkList.forEach((l, i) => {
    const identifiers = cleanIdentifiers(l.identifiers);
    if (identifiers.length === 0) return;
    links.push({ ...l, identifiers, id: l.id ?? (linkList.length > 1 ? `${pk}#${i}` : pk), record_pk: pk });
  });
  const spend: StoredSpend[] = [];
  for (const s of rows.spend ?? []) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s.date ?? '')) return `mapping: spend date must be YYYY-MM-DD (got ${JSON.stringify(s.date)})`;
    if (!Number.isFinite(s.cost)) return `mapping: spend cost must be a number (got ${JSON.stringify(s.cost)})`;
    if (!s.campaign_id) return 'mapping: spend without campaign_id';
    spend.push({ ...s, campaign_id: String(s.campaign_id), record_pk: pk });
  }
  return { events, links, spend };
}

/** Runs one stream to its end (or the first failure), writing batch by batch. */
export async function extractStream(planned: PlannedStream, options: ExtractOptions): Promise<StreamProgress> {
  const { store, pipeline, runId, signal } = options;
  const { source, stream } = planned;
  const where = `${source.name}/${stream.name}`;
  const log = options.log.child({ source: source.name, stream: stream.name });
  const progress: StreamProgress = {
    source: source.name,
    stream: stream.name,
    records: 0,
    quarantined: 0,
    startedAt: Date.now(),
    status: 'running',
  };
  options.progress?.streamStarted?.(progress);
  const fullRefresh = isFullRefresh(options.fullRefresh, source.name, stream.name);
  const droppedIds = new Map<string, number>();
  try {
    await store.ensureRawTable(source.name, stream.name);
    const state = fullRefresh ? {} : ((await store.getState(pipeline.config.name, source.name, stream.name)) ?? {});
    const validate = createRecordValidator(stream.schema);
    const http = createHttpClient({ retry: options.retry, signal, log, source: source.name, stream: stream.name, secrets: pipeline.secrets });
    const ctx = {
      source: source.name,
      stream: stream.name,
      config: source.config,
      state,
      fullRefresh,
      http,
      log,
      signal,
      resolvePath: (p: string) => (isAbsolute(p) ? p : resolve(pipeline.dir, p)),
      options: { startDate: pipeline.config.settings?.startDate, retry: options.retry, batchSize: pipeline.config.settings?.batchSize },
    };
    const mapCtx = { source: source.name, stream: stream.name, config: source.config };
    const normalize = normalizerFor(pipeline.config.identity);
    const nativeDone =
      (options.native ?? process.env.TOUCHPOINT_NATIVE_LOAD !== 'off') &&
      (await loadNatively(planned, { ...options, log, state, fullRefresh, ctx, streamProgress: progress, droppedIds, storedRows: (r, pk) => toStoredRows(stream.map!(r, mapCtx), source.name, stream.name, pk, normalize) }));
    for await (const batch of nativeDone ? [] : stream.read(ctx)) {
      if (signal.aborted) throw new CancelledError();
      const write: BatchWrite = {
        runId,
        pipeline: pipeline.config.name,
        source: source.name,
        stream: stream.name,
        raw: [],
        events: [],
        links: [],
        spend: [],
        quarantine: [...(batch.rejected ?? [])] as QuarantinedRecord[],
        state: batch.state,
      };
      for (const record of batch.records as JsonObject[]) {
        const reason = validate(record);
        if (reason) {
          write.quarantine.push({ reason: `schema: ${reason}`, record });
          continue;
        }
        const pk = recordPk(record, stream.primaryKey);
        if (typeof pk !== 'string') {
          write.quarantine.push({ reason: pk.error, record });
          continue;
        }
        let rows: ReturnType<typeof toStoredRows> = { events: [], links: [], spend: [] };
        if (stream.map) {
          try {
            rows = toStoredRows(stream.map(record, mapCtx), source.name, stream.name, pk, normalize, droppedIds);
          } catch (error) {
            rows = `mapping failed: ${(error as Error).message}`;
          }
        }
        if (typeof rows === 'string') {
          write.quarantine.push({ reason: rows, record });
          continue;
        }
        const cursor = stream.cursor ? cursorValue(record, stream.cursor.field) : undefined;
        write.raw.push({ pk, cursor: cursor === undefined || cursor === null ? null : String(cursor), record });
        write.events.push(...rows.events);
        write.links.push(...rows.links);
        write.spend.push(...rows.spend);
      }
      await store.writeBatch(write);
      progress.records += write.raw.length;
      progress.quarantined += write.quarantine.length;
      if (write.quarantine.length > 0) {
        log.warn(`${write.quarantine.length} record(s) quarantined`, { first: redact(write.quarantine[0].reason, pipeline.secrets) });
      }
      options.progress?.batchWritten?.(progress);
    }
    if (fullRefresh) await store.sweepStream(source.name, stream.name, runId);
    if (droppedIds.size > 0) log.warn('identifiers dropped by normalisation (not linked)', Object.fromEntries(droppedIds));
    progress.status = 'done';
  } catch (error) {
    const err = signal.aborted && !(error instanceof TouchpointError) ? new CancelledError() : toTouchpointError(error, where);
    progress.status = 'failed';
    progress.error = redact(err.where ? err.format() : `${where} ${err.format()}`, pipeline.secrets);
    log.error(progress.error);
  } finally {
    progress.endedAt = Date.now();
    options.progress?.streamEnded?.(progress);
  }
  return progress;
}

/** Runs sources concurrently (settings.concurrency) and each source's streams in order. */
export async function extractAll(plan: PlannedStream[], options: ExtractOptions, concurrency: number): Promise<StreamProgress[]> {
  const bySource = new Map<string, PlannedStream[]>();
  for (const p of plan) bySource.set(p.source.name, [...(bySource.get(p.source.name) ?? []), p]);
  const queue = [...bySource.values()];
  const results: StreamProgress[] = [];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      for (const planned of next) {
        if (options.signal.aborted) break;
        results.push(await extractStream(planned, options));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
  return results;
}
