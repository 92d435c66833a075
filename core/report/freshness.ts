// The freshness gate: before a report goes to executives, checks that the data behind it is whole.
// Three kinds of check, each configured in the report's `checks:` (types.ts FreshnessChecks), each
// answering { check, ok, detail } so the owner's notice can say exactly what failed and why:
//  - every source of the pipeline (or those named) had a successful extraction within N hours
//    (a succeeded run in the ledger that extracted one of its streams);
//  - rows of the period (events, journeys, spend) did not collapse against the comparison period,
//    compared per day so that February is not "down" against January;
//  - no failed run of the pipeline since the report was last sent that a later successful run did
//    not recover (a failed run resumes on the next one, so a later success means the data is whole).
// Reads only; the pipeline file is read for its name and sources without resolving secrets.
import { resolve } from 'node:path';
import type { Knex } from 'knex';
import type { ResolvedPeriod } from '../analytics/period.ts';
import { readYamlFile } from '../config/yaml.ts';
import { lastSentAt } from '../schedule/ledger.ts';
import type { Store } from '../store/types.ts';
import type { ReportSpec } from './types.ts';

export interface FreshnessCheck {
  /** `source_refreshed:<source>`, `row_ratio:<table>`, `no_failed_runs`. */
  check: string;
  ok: boolean;
  detail: string;
}

/** What the gate needs of the pipeline: its name (the runs ledger key) and its enabled sources. */
export interface PipelineInfo {
  name: string;
  sources: string[];
}

export interface FreshnessOptions {
  store: Store;
  spec: ReportSpec;
  period: ResolvedPeriod;
  comparison: ResolvedPeriod | null;
  now: Date;
  /** Default: read from spec.pipeline. */
  pipeline?: PipelineInfo;
}

const HOUR_MS = 3_600_000;

/** The pipeline's name and enabled sources, from the file as written (no `${env:…}` needed). */
export function readPipelineInfo(file: string): PipelineInfo {
  const value = readYamlFile(file, resolve(file)).value as { name?: unknown; sources?: unknown };
  const sources = Array.isArray(value?.sources) ? value.sources : [];
  return {
    name: String(value?.name ?? ''),
    sources: sources
      .filter((s): s is { name: string; enabled?: unknown } => typeof s?.name === 'string' && s.enabled !== false)
      .map((s) => s.name),
  };
}

export async function checkFreshness(options: FreshnessOptions): Promise<FreshnessCheck[]> {
  const { spec } = options;
  const pipeline = options.pipeline ?? readPipelineInfo(spec.pipeline);
  const checks: FreshnessCheck[] = [];
  if (spec.checks.sources_refreshed_within_hours) checks.push(...(await sourceChecks(options, pipeline, spec.checks.sources_refreshed_within_hours)));
  if (spec.checks.min_row_ratio !== undefined) checks.push(...(await rowChecks(options, spec.checks.min_row_ratio)));
  if (spec.checks.no_failed_runs_since_last_send) checks.push(await failedRunCheck(options, pipeline));
  return checks;
}

interface RunRow {
  run_id: string;
  status: string;
  started_at: Date;
  ended_at: Date | null;
  rows: Record<string, unknown>;
}

async function runsOf(store: Store, pipeline: string): Promise<RunRow[]> {
  const rows = await store.knex('runs').where({ pipeline }).orderBy('started_at', 'desc').select('run_id', 'status', 'started_at', 'ended_at', 'rows');
  return rows.map((r: Record<string, unknown>) => ({
    run_id: String(r.run_id),
    status: String(r.status),
    started_at: new Date(r.started_at as string),
    ended_at: r.ended_at ? new Date(r.ended_at as string) : null,
    rows: (typeof r.rows === 'string' ? JSON.parse(r.rows) : (r.rows ?? {})) as Record<string, unknown>,
  }));
}

function hoursAgo(now: Date, at: Date): string {
  const h = (now.getTime() - at.getTime()) / HOUR_MS;
  return `${h.toFixed(1)} h ago (${at.toISOString()})`;
}

async function sourceChecks(options: FreshnessOptions, pipeline: PipelineInfo, within: Record<string, number>): Promise<FreshnessCheck[]> {
  const { store, now } = options;
  // `*` sets the limit for every source; a named source overrides it.
  const limits = new Map<string, number>();
  if (within['*'] !== undefined) for (const s of pipeline.sources) limits.set(s, within['*']);
  for (const [name, hours] of Object.entries(within)) if (name !== '*') limits.set(name, hours);
  const succeeded = (await runsOf(store, pipeline.name)).filter((r) => r.status === 'succeeded' && r.ended_at && r.ended_at <= now);
  // Streams a run extracted are the keys of its `rows` (`source/stream`); stream_state says the same
  // for runs whose ledger row lacks them.
  const stateRows = await store.knex('stream_state').where({ pipeline: pipeline.name }).select('source', 'run_id');
  const checks: FreshnessCheck[] = [];
  for (const [source, hours] of limits) {
    const check = `source_refreshed:${source}`;
    if (!pipeline.sources.includes(source)) {
      checks.push({ check, ok: false, detail: `pipeline ${pipeline.name} has no enabled source named "${source}"` });
      continue;
    }
    const stateRuns = new Set(stateRows.filter((s: { source: string }) => s.source === source).map((s: { run_id: string }) => s.run_id));
    const last = succeeded.find((r) => stateRuns.has(r.run_id) || Object.keys(r.rows).some((k) => k.startsWith(`${source}/`)));
    if (!last) checks.push({ check, ok: false, detail: `${source}: no successful extraction in the run ledger (limit ${hours} h)` });
    else {
      const ok = now.getTime() - last.ended_at!.getTime() <= hours * HOUR_MS;
      checks.push({ check, ok, detail: `${source}: last successful extraction ${hoursAgo(now, last.ended_at!)}, run ${last.run_id}; limit ${hours} h` });
    }
  }
  return checks;
}

type Counter = (p: ResolvedPeriod) => Promise<number>;

async function rowChecks(options: FreshnessOptions, minRatio: number): Promise<FreshnessCheck[]> {
  const { store, period, comparison } = options;
  const db = store.knex;
  const tables: [string, Counter][] = [
    ['events', async (p) => count(db('events').where('occurred_at', '>=', p.start!).andWhere('occurred_at', '<', p.end!))],
    // As analytics reads journeys into a period: by conversion, else by last touch (analytics/prepare.ts).
    ['journeys', async (p) => count(db('journeys').where(db.raw('coalesce(conversion_at, ended_at) >= ?', [p.start!])).andWhere(db.raw('coalesce(conversion_at, ended_at) < ?', [p.end!])))],
    ['spend', async (p) => count(db('spend').where('date', '>=', p.startDate!).andWhere('date', '<=', p.endDate!))],
  ];
  if (!comparison || !period.start || !period.end || !comparison.start || !comparison.end) {
    return [{ check: 'row_ratio', ok: true, detail: `period ${period.label} has no comparison period: nothing to compare row counts with` }];
  }
  const checks: FreshnessCheck[] = [];
  for (const [table, counter] of tables) {
    const current = await counter(period);
    const previous = await counter(comparison);
    const check = `row_ratio:${table}`;
    if (previous === 0) {
      checks.push({ check, ok: true, detail: `${table}: ${current} row(s) in ${period.key}, none in ${comparison.key}: nothing to compare with` });
      continue;
    }
    const ratio = current / (period.days ?? 1) / (previous / (comparison.days ?? 1));
    checks.push({
      check,
      ok: ratio >= minRatio,
      detail: `${table}: ${current} row(s) in ${period.key} vs ${previous} in ${comparison.key}: ${ratio.toFixed(2)} of the comparison's rows per day (minimum ${minRatio})`,
    });
  }
  return checks;
}

async function count(query: Knex.QueryBuilder): Promise<number> {
  const row = await query.count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

async function failedRunCheck(options: FreshnessOptions, pipeline: PipelineInfo): Promise<FreshnessCheck> {
  const { store, spec, now } = options;
  const since = await lastSentAt(store.knex, spec.name);
  const runs = (await runsOf(store, pipeline.name)).filter((r) => r.started_at <= now);
  const failed = runs.filter((r) => r.status === 'failed' && (!since || r.started_at > since));
  const sinceText = since ? `since the report was last sent (${since.toISOString()})` : 'in the run ledger (the report was never sent)';
  if (failed.length === 0) return { check: 'no_failed_runs', ok: true, detail: `no failed run of ${pipeline.name} ${sinceText}` };
  const latestFailure = failed[0];
  const recovery = runs.find((r) => r.status === 'succeeded' && r.started_at > latestFailure.started_at);
  if (recovery) {
    return {
      check: 'no_failed_runs',
      ok: true,
      detail: `${failed.length} failed run(s) of ${pipeline.name} ${sinceText}, the latest (${latestFailure.run_id}) recovered by run ${recovery.run_id}`,
    };
  }
  return {
    check: 'no_failed_runs',
    ok: false,
    detail: `run ${latestFailure.run_id} of ${pipeline.name} failed at ${latestFailure.started_at.toISOString()} ${sinceText} and no run has succeeded since`,
  };
}
