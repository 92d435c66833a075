// `touchpoint query <name> [pipeline] [--period …]`: prints one of the analytics result tables for
// one period as a table, CSV or JSON. The period is resolved as analytics.periods resolves it
// (presets against as_of, months, ranges); a period never computed is computed on the spot when the
// store can be written, else the command says how to compute it. `--list` shows what is stored.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyticsConfigOf, computeAnalytics, resolvePeriods } from '../../analytics/stage.ts';
import { ANALYTICS_TABLES } from '../../analytics/schema.ts';
import type { AnalyticsTable } from '../../analytics/schema.ts';
import { closest } from '../../config/diagnostics.ts';
import { newRunId, storeUrlFor } from '../../engine/run.ts';
import { ConfigError, RunError, StoreError } from '../../errors.ts';
import { createLogger } from '../../sdk/log.ts';
import { openStore } from '../../store/index.ts';
import type { Store } from '../../store/types.ts';
import type { Command } from '../command.ts';
import { table } from '../render.ts';
import { loadAndCheck } from './validate.ts';

/** Short names users type, besides the table names themselves. */
const ALIASES: Record<string, AnalyticsTable> = { funnels: 'funnel_results', paths: 'path_results', attribution: 'attribution_results', roi: 'roi_results', cx: 'cx_metrics' };

/** The order rows are printed in. */
const ORDER: Record<AnalyticsTable, string[]> = {
  funnel_results: ['funnel', 'segment_type', 'segment_value', 'step_number'],
  path_results: ['kind', 'collapsed', 'rank', 'step', 'length', 'from_state', 'to_state'],
  attribution_results: ['model', 'dimension', 'key'],
  roi_results: ['model', 'dimension', 'date', 'key'],
  cx_metrics: ['metric', 'segment_type', 'segment_value'],
};

const RUN_COLUMNS = ['period', 'period_start', 'period_end', 'run_id', 'computed_at'];
const FORMATS = ['table', 'csv', 'json'];

export function tableOf(name: string): AnalyticsTable {
  if ((ANALYTICS_TABLES as readonly string[]).includes(name)) return name as AnalyticsTable;
  if (ALIASES[name]) return ALIASES[name];
  const names = [...ANALYTICS_TABLES, ...Object.keys(ALIASES)];
  const guess = closest(name, names);
  throw new ConfigError(`unknown result table "${name}"`, { hint: guess ? `did you mean "${guess}"?` : `one of ${names.join(', ')}` });
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Money columns of the result tables (reporting currency): 2 decimals in a table. */
const MONEY = new Set(['revenue', 'spend', 'cpa', 'cost_per_journey', 'prev_spend', 'prev_revenue']);

/**
 * A value as the table format shows it: money to 2 decimals, other fractions of 1 or more to 2
 * decimals, smaller ones (shares, rates) to 4 significant digits, so float noise such as
 * 73.99999999999999 reads 74. CSV and JSON keep full precision.
 */
export function tableValue(column: string, v: unknown): unknown {
  if (typeof v !== 'number' || !Number.isFinite(v) || Number.isInteger(v)) return v;
  if (MONEY.has(column) || Math.abs(v) >= 1) return Number(v.toFixed(2));
  return Number(v.toPrecision(4));
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled; CRLF line ends. */
export function toCsv(rows: Record<string, unknown>[], columns: string[]): string {
  const field = (v: unknown): string => {
    const s = cellText(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [columns.map(field).join(','), ...rows.map((r) => columns.map((c) => field(r[c])).join(','))].join('\r\n') + '\r\n';
}

/** Values as JSON-friendly scalars (dates as ISO text). */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
}

/** The pipeline named, or the only one under ./pipelines. */
function pipelineFile(given: string | undefined): string {
  if (given) return given;
  const dir = join(process.cwd(), 'pipelines');
  const found = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
  if (found.length === 1) return join('pipelines', found[0]);
  throw new ConfigError('query needs the pipeline file', { hint: 'touchpoint query funnels pipelines/demo.yaml' });
}

async function storedPeriods(store: Store, tables: readonly AnalyticsTable[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const t of tables) {
    const rows = (await store.knex(t).select('period', 'period_start', 'period_end', 'run_id').max({ computed_at: 'computed_at' }).count({ rows: '*' }).groupBy('period', 'period_start', 'period_end', 'run_id').orderBy('period')) as Record<string, unknown>[];
    for (const r of rows) out.push({ table: t, period: r.period, start: r.period_start, end: r.period_end, rows: Number(r.rows), run_id: r.run_id, computed_at: r.computed_at });
  }
  return out;
}

async function isComputed(store: Store, key: string): Promise<boolean> {
  for (const t of ANALYTICS_TABLES) if (await store.knex(t).where({ period: key }).first('period')) return true;
  return false;
}

export const query: Command = {
  name: 'query',
  summary: 'print an analytics result table (funnels, paths, attribution, roi, cx) for a period',
  usage: 'query <table> [pipeline] [--period <spec>] [--format table|csv|json] [--where col=value] [--limit N] | query --list [pipeline]',
  details: [
    `Tables: ${ANALYTICS_TABLES.join(', ')} (or ${Object.keys(ALIASES).join(', ')}).`,
    'The period defaults to the first of analytics.periods; specs as there: all, last_month, 2025-03, 2025-03-01..2025-03-31.',
    'A period not computed yet is computed now when the store can be written.',
    '',
    'Examples:',
    '  touchpoint query funnels pipelines/demo.yaml --period last_month',
    '  touchpoint query cx_metrics pipelines/demo.yaml --where metric=nps --format csv',
    '  touchpoint query attribution pipelines/demo.yaml --model markov --format json',
    '  touchpoint query --list pipelines/demo.yaml',
  ].join('\n'),
  options: {
    period: { type: 'string', value: 'spec', description: 'the period (default: the first of analytics.periods)' },
    format: { type: 'string', value: 'table|csv|json', description: 'output format (default table; --json = json)' },
    model: { type: 'string', value: 'name', description: 'only this attribution model (attribution, roi)' },
    where: { type: 'string', multiple: true, value: 'col=value', description: 'only rows whose column has this value (repeatable)' },
    limit: { type: 'string', value: 'N', description: 'at most N rows (default: all; 200 in a table)' },
    list: { type: 'boolean', description: 'list the stored periods of each table' },
  },
  async run({ values, positionals }, output) {
    const format = output.json ? 'json' : ((values.format as string | undefined) ?? 'table');
    if (!FORMATS.includes(format)) throw new ConfigError(`--format must be one of ${FORMATS.join(', ')} (got "${format}")`, { hint: closest(format, FORMATS) ? `did you mean "${closest(format, FORMATS)}"?` : undefined });
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new ConfigError(`--limit must be a positive whole number (got ${JSON.stringify(values.limit)})`);

    if (values.list) {
      if (positionals.length > 1) throw new ConfigError('query --list takes only the pipeline file', { hint: 'touchpoint query --list pipelines/demo.yaml' });
      const pipeline = await loadAndCheck(pipelineFile(positionals[0]));
      output.secrets.push(...pipeline.secrets);
      const store = await openStore({ url: storeUrlFor(pipeline), readOnly: true, baseDir: process.cwd() });
      try {
        const rows = await storedPeriods(store, ANALYTICS_TABLES);
        if (format === 'json') output.data(rows.map(plain));
        else if (format === 'csv') process.stdout.write(toCsv(rows, ['table', 'period', 'start', 'end', 'rows', 'run_id', 'computed_at']));
        else output.out(rows.length === 0 ? 'no analytics computed yet: run the pipeline (or `touchpoint run <pipeline> --only analytics`)' : table(rows));
      } finally {
        await store.close();
      }
      return 0;
    }

    const [name, file, extra] = positionals;
    if (!name || extra !== undefined) throw new ConfigError('query needs a result table and at most one pipeline file', { hint: 'touchpoint query funnels pipelines/demo.yaml --period last_month' });
    const target = tableOf(name);
    const filters = ((values.where as string[] | undefined) ?? []).map((w) => {
      const eq = w.indexOf('=');
      if (eq < 1) throw new ConfigError(`--where "${w}" is not column=value`, { hint: '--where metric=nps' });
      return [w.slice(0, eq).trim(), w.slice(eq + 1)] as [string, string];
    });
    if (values.model !== undefined) {
      if (target !== 'attribution_results' && target !== 'roi_results') throw new ConfigError(`--model applies to attribution_results and roi_results, not ${target}`);
      filters.push(['model', String(values.model)]);
    }

    const pipelinePath = pipelineFile(file);
    const pipeline = await loadAndCheck(pipelinePath);
    output.secrets.push(...pipeline.secrets);
    const config = analyticsConfigOf(pipeline);
    const url = storeUrlFor(pipeline);
    const spec = (values.period as string | undefined) ?? config.periods[0] ?? 'all';
    let store = await openStore({ url, readOnly: true, baseDir: process.cwd() });
    try {
      // A store from an older version lacks the result tables until a writer migrates it.
      const current = await store.migrate().then(
        () => true,
        (error: unknown) => {
          if (error instanceof StoreError) return false;
          throw error;
        },
      );
      const [period] = await resolvePeriods(store.knex, config, [spec]);
      if (!current || !(await isComputed(store, period.key))) {
        await store.close();
        try {
          store = await openStore({ url, baseDir: process.cwd() });
          await store.migrate();
        } catch (error) {
          throw new RunError(`the period ${period.label} (${period.key}) is not computed, and the store cannot be written to compute it now: ${(error as Error).message}`, {
            hint: `add it to analytics.periods and run \`touchpoint run ${pipelinePath} --only analytics\`, or query again when no other process writes the store`,
            cause: error,
          });
        }
        const log = createLogger({ secrets: pipeline.secrets, level: values.verbose ? 'debug' : 'warn', format: 'text' });
        if (!output.quiet) output.err(`computing ${period.label} (${period.key}): not stored yet`);
        await computeAnalytics(store, config, { runId: newRunId(), log, periods: [spec] });
      }

      const sample = (await store.knex(target).where({ period: period.key }).first()) as Record<string, unknown> | undefined;
      const columns = sample ? Object.keys(sample) : [];
      for (const [column] of filters) {
        if (sample && !columns.includes(column)) {
          const guess = closest(column, columns);
          throw new ConfigError(`${target} has no column "${column}"`, { hint: guess ? `did you mean "${guess}"?` : `columns: ${columns.join(', ')}` });
        }
      }
      let q = store.knex(target).where({ period: period.key });
      // Compared as text, so --where collapsed=true and --where step_number=2 work on both engines.
      for (const [column, value] of filters) q = q.whereRaw('cast(?? as text) = ?', [column, value]);
      for (const c of ORDER[target]) q = q.orderBy(c);
      const max = limit ?? (format === 'table' ? 200 : undefined);
      if (max !== undefined) q = q.limit(max + 1);
      const fetched = (await q.select('*')) as Record<string, unknown>[];
      const rows = max !== undefined ? fetched.slice(0, max) : fetched;
      const more = max !== undefined && fetched.length > max;

      if (format === 'json') output.data(rows.map(plain));
      else if (format === 'csv') process.stdout.write(toCsv(rows, columns.length > 0 ? columns : RUN_COLUMNS));
      else {
        const meta = sample ? ` · run ${String(sample.run_id)} · computed ${cellText(sample.computed_at)}` : '';
        output.out(`${target} · ${period.label}${period.label === period.key ? '' : ` (${period.key})`}${meta}`);
        output.out(table(rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !RUN_COLUMNS.includes(k)).map(([k, v]) => [k, tableValue(k, v)])))));
        if (more) output.out(`(more rows: --limit ${max! * 5}, or --format csv for all)`);
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
