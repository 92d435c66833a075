// The `analytics` stage: for each configured period, builds the period's working tables
// (prepare.ts) and runs every module — funnels, paths, attribution, ROI, CX — then replaces the
// period's rows of the five result tables, all in one transaction per period, so readers see one
// run's numbers per period, never a mix. `computeAnalytics` is also what `touchpoint query` calls
// to compute a period on demand; reports call `computeStale`, which skips the periods whose stored
// results are current (state.ts), e.g. those the pipeline run just computed.
import type { Knex } from 'knex';
import type { Stage } from '../engine/stages.ts';
import type { LoadedPipeline } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { exec, raw, sql } from '../store/sql.ts';
import { bulkAppend } from '../store/bulk.ts';
import type { Column } from '../store/bulk.ts';
import type { Logger } from '../sdk/types.ts';
import type { Dialect, Store } from '../store/types.ts';
import { resolve } from 'node:path';
import { computeAttribution } from './attribution.ts';
import { resolveAnalyticsConfig } from './config.ts';
import type { AnalyticsConfig } from './config.ts';
import { computeCx } from './cx.ts';
import { computeFunnels } from './funnels.ts';
import { computePaths } from './paths.ts';
import { addDays, assertTimeZone, comparisonPeriod, dateIn, isValidDate, resolvePeriod, todayIn } from './period.ts';
import type { PeriodSpec, ResolvedPeriod } from './period.ts';
import { dropWorkingTables, prepare } from './prepare.ts';
import { computeRoi } from './roi.ts';
import type { AnalyticsTable } from './schema.ts';
import { configHash, currentPeriods, recordComputed } from './state.ts';
import type { AnalyticsContext, AnalyticsModule, ResultRow } from './types.ts';

export const MODULES: [AnalyticsTable, AnalyticsModule][] = [
  ['funnel_results', computeFunnels],
  ['path_results', computePaths],
  ['attribution_results', computeAttribution],
  ['roi_results', computeRoi],
  ['cx_metrics', computeCx],
];

/** The pipeline's analytics settings, with fx.file resolved against the pipeline's folder. */
export function analyticsConfigOf(pipeline: LoadedPipeline): AnalyticsConfig {
  const config = resolveAnalyticsConfig(pipeline.config.analytics, (p) => resolve(pipeline.dir, p));
  assertTimeZone(config.timezone);
  return config;
}

/** The evaluation day of relative periods (`as_of`): now, the day after the newest data, or a date. */
export async function evaluationDay(db: Knex, config: AnalyticsConfig, now = new Date()): Promise<string> {
  if (config.as_of === 'now') return todayIn(config.timezone, now);
  if (config.as_of !== 'latest_data') {
    if (!isValidDate(config.as_of)) throw new ConfigError(`analytics.as_of "${config.as_of}" is not a date`, { hint: 'use now, latest_data or YYYY-MM-DD' });
    return config.as_of;
  }
  const r = (await exec(db, raw('select (select max(occurred_at) from events) as e, (select max(date) from spend) as s'))).rows[0];
  const latest = [r.e, r.s]
    .filter((v) => v !== null && v !== undefined)
    .map((v) => (v instanceof Date ? dateIn(v, config.timezone) : String(v).slice(0, 10)))
    .sort()
    .at(-1);
  return latest ? addDays(latest, 1) : todayIn(config.timezone, now);
}

export interface ComputeOptions {
  runId: string;
  log: Logger;
  /** Periods to compute (default: the config's). */
  periods?: PeriodSpec[];
  now?: Date;
}

export interface PeriodSummary {
  period: string;
  label: string;
  journeys: number;
  rows: Record<AnalyticsTable, number>;
}

/** Resolves period specs against the store's evaluation day. */
export async function resolvePeriods(db: Knex, config: AnalyticsConfig, specs: PeriodSpec[], now?: Date): Promise<ResolvedPeriod[]> {
  const today = await evaluationDay(db, config, now);
  return specs.map((s) => resolvePeriod(s, today, config.timezone));
}

/** Computes and stores the analytics of each period; one transaction per period. */
export async function computeAnalytics(store: Store, config: AnalyticsConfig, options: ComputeOptions): Promise<PeriodSummary[]> {
  const resolved = await resolvePeriods(store.knex, config, options.periods ?? config.periods, options.now);
  // Two specs of one period (last_month and 2025-03) are computed once.
  const periods = resolved.filter((p, i) => resolved.findIndex((q) => q.key === p.key) === i);
  const hash = configHash(config);
  const summaries: PeriodSummary[] = [];
  for (const period of periods) {
    const comparison = comparisonPeriod(period, config.comparison);
    summaries.push(
      await store.knex.transaction(async (trx) => {
        const ctx: AnalyticsContext = { db: trx, dialect: store.dialect, config, period, comparison, runId: options.runId, log: options.log };
        const prepared = await prepare(ctx);
        const results: [AnalyticsTable, ResultRow[]][] = [];
        for (const [table, module] of MODULES) {
          const started = performance.now();
          results.push([table, await module(ctx)]);
          options.log.debug(`analytics: ${table}`, { period: period.key, ms: Math.round(performance.now() - started) });
        }
        await dropWorkingTables(ctx);
        const rows = {} as Record<AnalyticsTable, number>;
        const stamp = { period: period.key, period_start: period.startDate, period_end: period.endDate, run_id: options.runId, computed_at: new Date() };
        for (const [table, tableRows] of results) {
          await trx(table).where({ period: period.key }).delete();
          await appendResults(trx, store.dialect, table, tableRows.map((r) => ({ ...stamp, ...r })));
          rows[table] = tableRows.length;
        }
        await recordComputed(trx, period.key, hash, options.runId, stamp.computed_at);
        return { period: period.key, label: period.label, journeys: prepared.journeys, rows };
      }),
    );
  }
  return summaries;
}

/**
 * Computes those of `options.periods` whose stored results are not current for `config` (same
 * settings, no data change since: state.ts) and returns which were computed and which reused.
 */
export async function computeStale(store: Store, config: AnalyticsConfig, options: ComputeOptions & { periods: PeriodSpec[] }): Promise<{ computed: PeriodSummary[]; reused: string[] }> {
  const resolved = await resolvePeriods(store.knex, config, options.periods, options.now);
  const current = await currentPeriods(store.knex, config, resolved.map((p) => p.key));
  const stale = options.periods.filter((_, i) => !current.has(resolved[i].key));
  const computed = stale.length > 0 ? await computeAnalytics(store, config, { ...options, periods: stale }) : [];
  return { computed, reused: [...new Set(resolved.filter((p) => current.has(p.key)).map((p) => p.key))] };
}

// The result tables' columns are fixed by migration 4: read from the catalog once per process.
const columnCache = new Map<string, Column[]>();

async function resultColumns(trx: Knex.Transaction, dialect: Dialect, table: string): Promise<Column[]> {
  const cached = columnCache.get(`${dialect}:${table}`);
  if (cached) return cached;
  const catalog = (await exec(trx, sql`select column_name, data_type from information_schema.columns
      where table_name = ${table} and table_schema = current_schema() order by ordinal_position`)).rows;
  const columns: Column[] = catalog.map((c) => {
    const type = String(c.data_type).toLowerCase();
    return { name: String(c.column_name), type: type.startsWith('double') ? 'double' : type === 'bigint' ? 'bigint' : 'text' };
  });
  columnCache.set(`${dialect}:${table}`, columns);
  return columns;
}

/**
 * Appends result rows with the store's bulk path (DuckDB appender, PostgreSQL COPY): a multi-row
 * INSERT of a few thousand ROI rows took seconds on DuckDB. Columns come from the catalog, in table
 * order, so the appender gets whole rows; values go as text except numbers of numeric columns.
 */
async function appendResults(trx: Knex.Transaction, dialect: Dialect, table: string, rows: ResultRow[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = await resultColumns(trx, dialect, table);
  const cell = (v: unknown, type: Column['type']): string | number | null => {
    if (v === null || v === undefined) return null;
    if (type === 'double' || type === 'bigint') return typeof v === 'number' ? (Number.isFinite(v) ? v : null) : Number(v);
    if (v instanceof Date) return v.toISOString();
    return String(v);
  };
  await bulkAppend(trx, dialect, table, columns, rows.map((r) => columns.map((c) => cell(r[c.name], c.type))));
}

export const analyticsStage: Stage = {
  name: 'analytics',
  description: 'funnels, paths, attribution models, ROI and CX metrics for each configured period',
  async run(ctx) {
    const config = analyticsConfigOf(ctx.pipeline);
    const log = ctx.log.child({ stage: 'analytics' });
    const summaries = await computeAnalytics(ctx.store, config, { runId: ctx.runId, log });
    return { periods: summaries.map((s) => s.period), journeys: summaries.map((s) => s.journeys), rows: summaries.reduce((n, s) => n + Object.values(s.rows).reduce((a, b) => a + b, 0), 0) };
  },
};
