// What one scheduled occurrence does: open the report's store (its pipeline's), refresh the pipeline
// when schedule.refresh, render the report as of the occurrence (so a late catch-up sends the period
// the occurrence was for), and deliver it through the ledger. Also the store-backed ScheduleState.
// Stores are opened per occurrence and closed after: a long-running scheduler must not hold a DuckDB
// file (one writer per file) between occurrences, or `touchpoint run` could never write to it.
import { loadPipeline } from '../config/pipeline.ts';
import type { Env } from '../config/env.ts';
import type { LoadedPipeline } from '../config/types.ts';
import { runPipeline, storeUrlFor } from '../engine/run.ts';
import { deliverReport, type DeliveryResult, type RetryOptions } from '../report/deliver.ts';
import { runReport } from '../report/run.ts';
import { deliveryFormats } from '../report/spec.ts';
import type { RenderedReport, ReportFormat, ReportSpec } from '../report/types.ts';
import type { Logger } from '../sdk/types.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { lastOccurrence, recordOccurrence } from './ledger.ts';
import type { Firing, ScheduleState } from './scheduler.ts';

/** Renders one report: core/report/run.ts runReport, or a stand-in in tests. */
export type RenderFn = (options: { spec: ReportSpec; store: Store; log: Logger; now?: Date; formats?: ReportFormat[]; pipeline?: LoadedPipeline; env?: Env; cwd?: string }) => Promise<RenderedReport>;

export interface JobOptions {
  log: Logger;
  env?: Env;
  /** Project folder: relative store paths resolve here (default cwd). */
  cwd?: string;
  retry?: RetryOptions;
  /** Default: core/report/run.ts runReport. */
  render?: RenderFn;
  /** Default: the report's store, opened per call. */
  openStore?: (spec: ReportSpec) => Promise<{ store: Store; pipeline: LoadedPipeline | null; close(): Promise<void> }>;
}

export async function openReportStore(spec: ReportSpec, options: Pick<JobOptions, 'env' | 'cwd'>): Promise<{ store: Store; pipeline: LoadedPipeline; close(): Promise<void> }> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const pipeline = loadPipeline(spec.pipeline, { env, cwd });
  const store = await openStore({ url: storeUrlFor(pipeline, env, cwd), baseDir: cwd });
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store, pipeline, close: () => store.close() };
}

/** Refresh → render → deliver for one occurrence. */
export async function runScheduledReport(firing: Firing, options: JobOptions): Promise<DeliveryResult> {
  const { spec, occurrence } = firing;
  const log = options.log.child({ report: spec.name, occurrence: occurrence.toISOString() });
  const opened = options.openStore ? await options.openStore(spec) : await openReportStore(spec, options);
  try {
    if (spec.schedule?.refresh && opened.pipeline) {
      const run = await runPipeline(opened.pipeline, { log, store: opened.store, env: options.env, cwd: options.cwd });
      // A failed refresh does not stop the report here: the freshness gate decides whether what the
      // store holds may go out, and tells the owner when not.
      if (run.status !== 'succeeded') log.warn('pipeline refresh did not succeed', { run: run.runId, status: run.status });
    }
    const render = options.render ?? runReport;
    const rendered = await render({ spec, store: opened.store, log, now: occurrence, formats: deliveryFormats(spec), env: options.env, cwd: options.cwd, ...(opened.pipeline ? { pipeline: opened.pipeline } : {}) });
    const result = await deliverReport({ store: opened.store, spec, rendered, log, env: options.env, retry: options.retry });
    log.info('scheduled report done', { status: result.status, ...(result.reason ? { reason: result.reason } : {}) });
    return result;
  } finally {
    await opened.close();
  }
}

/** ScheduleState kept in each report's own store (`schedule_state`). */
export function storeScheduleState(specs: ReportSpec[], options: Pick<JobOptions, 'env' | 'cwd' | 'openStore'>): ScheduleState {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const withStore = async <T>(report: string, fn: (store: Store) => Promise<T>): Promise<T> => {
    const spec = byName.get(report)!;
    const opened = options.openStore ? await options.openStore(spec) : await openReportStore(spec, options);
    try {
      return await fn(opened.store);
    } finally {
      await opened.close();
    }
  };
  return {
    last: (report) => withStore(report, (store) => lastOccurrence(store.knex, report)),
    record: (report, occurrence) => withStore(report, (store) => recordOccurrence(store.knex, report, occurrence, new Date())),
  };
}
