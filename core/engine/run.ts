// Plans one pipeline run and carries it out: open the store, record the run in the ledger, extract
// and load every selected stream, then the later stages in order. A stream that fails does not stop
// the others; the run is then `failed`, the later stages are skipped (they would compute from partial
// data), and the next run resumes each stream from its last committed batch.
import { randomBytes } from 'node:crypto';
import { redact } from '../config/secrets.ts';
import type { LoadedPipeline } from '../config/types.ts';
import { CancelledError, ConfigError, toTouchpointError } from '../errors.ts';
import type { Logger, RetryPolicy } from '../sdk/types.ts';
import { DEFAULT_RETRY_POLICY } from '../sdk/http.ts';
import { openStore, resolveStoreUrl } from '../store/index.ts';
import type { RunRecord, RunStatus, Store } from '../store/types.ts';
import { extractAll, streamsOf, type PlannedStream } from './extract.ts';
import type { ProgressListener, StreamProgress } from './progress.ts';
import { ConnectorRegistry } from './registry.ts';
import { stageNames, stages } from './stages.ts';
import { isAbsolute, resolve } from 'node:path';

export interface RunOptions {
  log: Logger;
  /** Run just this stage (`extract`, `identity`, …) on what earlier runs stored. */
  only?: string;
  /** true: re-read every stream from scratch; a list: only these streams (`source/stream`, stream or source). */
  fullRefresh?: boolean | string[];
  signal?: AbortSignal;
  progress?: ProgressListener;
  env?: Record<string, string | undefined>;
  /** Project folder: default stores and npm plugins are found from here (default: cwd). */
  cwd?: string;
  registry?: ConnectorRegistry;
  /** Use this store instead of opening one (tests, library use). Not closed by the run. */
  store?: Store;
}

export interface StageReport {
  name: string;
  status: 'done' | 'failed' | 'skipped';
  ms: number;
  summary?: Record<string, unknown>;
  error?: string;
}

export interface RunResult {
  runId: string;
  pipeline: string;
  store: string;
  status: RunStatus;
  streams: StreamProgress[];
  stages: StageReport[];
  error?: string;
}


export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

export function registryFor(pipeline: LoadedPipeline, cwd = process.cwd()): ConnectorRegistry {
  const pluginPaths = (pipeline.config.plugins ?? []).map((p) => (isAbsolute(p) ? p : resolve(pipeline.dir, p)));
  return new ConnectorRegistry({ pluginPaths, cwd });
}

export function storeUrlFor(pipeline: LoadedPipeline, env: Record<string, string | undefined> = process.env, cwd = process.cwd()): string {
  return resolveStoreUrl({ yaml: pipeline.config.store, env, baseDir: cwd, pipelineName: pipeline.config.name });
}

/** Every enabled source's selected streams, with their connectors loaded. */
export async function planStreams(pipeline: LoadedPipeline, registry: ConnectorRegistry): Promise<PlannedStream[]> {
  const plan: PlannedStream[] = [];
  for (const source of pipeline.config.sources) {
    if (source.enabled === false) continue;
    const connector = await registry.load(source.connector);
    for (const stream of streamsOf(connector, source)) plan.push({ source, connector, stream });
  }
  return plan;
}

export function retryPolicy(pipeline: LoadedPipeline): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...pipeline.config.settings?.retry };
}

export async function runPipeline(pipeline: LoadedPipeline, options: RunOptions): Promise<RunResult> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const names = stageNames();
  if (options.only && !names.includes(options.only)) {
    throw new ConfigError(`unknown stage "${options.only}"`, { hint: `stages: ${names.join(', ')}` });
  }
  const signal = options.signal ?? new AbortController().signal;
  const registry = options.registry ?? registryFor(pipeline, cwd);
  const plan = !options.only || options.only === 'extract' ? await planStreams(pipeline, registry) : [];
  const store = options.store ?? (await openStore({ url: storeUrlFor(pipeline, env, cwd), baseDir: cwd }));
  const runId = newRunId();
  const result: RunResult = {
    runId,
    pipeline: pipeline.config.name,
    store: store.displayUrl,
    status: 'running',
    streams: [],
    stages: [],
  };
  try {
    await store.migrate();
    await store.startRun({ run_id: runId, pipeline: pipeline.config.name });
    const log = options.log.child({ run: runId });
    if (plan.length > 0) {
      const started = Date.now();
      options.progress?.stageStarted?.('extract');
      result.streams = await extractAll(
        plan,
        { store, pipeline, runId, log, signal, progress: options.progress, fullRefresh: options.fullRefresh, retry: retryPolicy(pipeline) },
        pipeline.config.settings?.concurrency ?? 2,
      );
      const failed = result.streams.filter((s) => s.status === 'failed');
      const records = result.streams.reduce((n, s) => n + s.records, 0);
      const quarantined = result.streams.reduce((n, s) => n + s.quarantined, 0);
      result.stages.push({
        name: 'extract',
        status: failed.length > 0 ? 'failed' : 'done',
        ms: Date.now() - started,
        summary: { streams: result.streams.length, records, quarantined, failed: failed.length },
        error: failed.length > 0 ? failed.map((s) => s.error).join('\n') : undefined,
      });
      options.progress?.stageEnded?.('extract', result.stages[0].summary!, Date.now() - started);
    }
    for (const stage of stages) {
      if (options.only && options.only !== stage.name) continue;
      const blocked = result.stages.some((s) => s.status !== 'done') || signal.aborted;
      if (blocked) {
        result.stages.push({ name: stage.name, status: 'skipped', ms: 0, error: 'an earlier stage failed' });
        continue;
      }
      const started = Date.now();
      options.progress?.stageStarted?.(stage.name);
      try {
        const summary = await stage.run({ store, pipeline, runId, log, signal, fullRefresh: options.fullRefresh });
        result.stages.push({ name: stage.name, status: 'done', ms: Date.now() - started, summary });
        options.progress?.stageEnded?.(stage.name, summary, Date.now() - started);
      } catch (error) {
        const err = toTouchpointError(error, stage.name);
        result.stages.push({ name: stage.name, status: 'failed', ms: Date.now() - started, error: redact(err.format(), pipeline.secrets) });
      }
    }
    const failed = result.stages.filter((s) => s.status === 'failed');
    result.status = signal.aborted ? 'cancelled' : failed.length > 0 ? 'failed' : 'succeeded';
    if (failed.length > 0) result.error = failed.map((s) => s.error).join('\n');
    if (signal.aborted) result.error = new CancelledError().message;
  } catch (error) {
    result.status = signal.aborted ? 'cancelled' : 'failed';
    result.error = redact(toTouchpointError(error).format(), pipeline.secrets);
  } finally {
    const rows: RunRecord['rows'] = {};
    for (const s of result.streams) rows[`${s.source}/${s.stream}`] = { records: s.records, quarantined: s.quarantined };
    try {
      await store.finishRun({ run_id: runId, status: result.status, rows, error: result.error ?? null });
    } finally {
      if (!options.store) await store.close();
    }
  }
  return result;
}
